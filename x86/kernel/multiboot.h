/* The parts of the Multiboot 1 boot information the kernel reads (the specification's
 * section 3.3). */
#ifndef X86_MULTIBOOT_H
#define X86_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u

enum multiboot_info_flag {
	MULTIBOOT_INFO_MEMORY = 1u << 0,
	MULTIBOOT_INFO_CMDLINE = 1u << 2,
	MULTIBOOT_INFO_MODULES = 1u << 3,
};

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB above 1 MiB, up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
};

struct multiboot_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t cmdline;
	uint32_t reserved;
};

#endif
