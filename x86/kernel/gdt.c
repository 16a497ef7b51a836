/* The global descriptor table. Segmentation is flat (base 0, limit 4 GiB) everywhere:
 * protection comes from paging, and ring 3 gets its own selectors only because the CPU
 * takes the privilege level from them. */
#include <stdint.h>

#include "gdt.h"

struct tss {
	uint32_t link;
	uint32_t esp0, ss0; /* the stack a trap from ring 3 switches to */
	uint32_t unused[22];
	uint16_t trap;
	uint16_t io_map; /* past the limit: no I/O port is open to ring 3 */
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "the i386 TSS is 104 bytes");

static uint64_t gdt[6];
static struct tss tss;

enum {
	ACCESS_PRESENT = 0x80,
	ACCESS_RING3 = 0x60,
	ACCESS_CODE_OR_DATA = 0x10,
	ACCESS_EXECUTABLE = 0x08,
	ACCESS_WRITABLE = 0x02, /* readable, for code */
	ACCESS_TSS_AVAILABLE = 0x09,
	FLAGS_4K_32BIT = 0xc,
};

static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

void gdt_init(uint32_t trap_stack_top)
{
	const uint8_t segment = ACCESS_PRESENT | ACCESS_CODE_OR_DATA | ACCESS_WRITABLE;
	gdt[0] = 0;
	gdt[1] = descriptor(0, 0xfffff, segment | ACCESS_EXECUTABLE, FLAGS_4K_32BIT);
	gdt[2] = descriptor(0, 0xfffff, segment, FLAGS_4K_32BIT);
	gdt[3] = descriptor(0, 0xfffff, segment | ACCESS_RING3 | ACCESS_EXECUTABLE, FLAGS_4K_32BIT);
	gdt[4] = descriptor(0, 0xfffff, segment | ACCESS_RING3, FLAGS_4K_32BIT);
	tss.esp0 = trap_stack_top;
	tss.ss0 = GDT_KERNEL_DATA;
	tss.io_map = sizeof tss;
	gdt[5] = descriptor((uint32_t)&tss, sizeof tss - 1, ACCESS_PRESENT | ACCESS_TSS_AVAILABLE,
			    0);

	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint32_t)gdt};
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp %1, $1f\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%fs\n\t"
			 "mov %2, %%gs\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
			 : "memory");
}
