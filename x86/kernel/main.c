/* kmain: from the boot loader's hand-off to the first program. The order matters: the
 * console first (so every later failure is seen), the CPU's tables, paging, the page
 * allocator above everything the loader placed, the clock, the kernel core, then one task
 * per boot module, all created before any runs, so every address they will talk to exists
 * from their first instruction. */
#include <stdint.h>

#include "bootmod.h"
#include "console.h"
#include "gdt.h"
#include "idt.h"
#include "io.h"
#include "multiboot.h"
#include "pages.h"
#include "pic.h"
#include "pit.h"
#include "port.h"
#include "poweroff.h"
#include "sched.h"
#include "selftest.h"
#include "serial.h"
#include "task.h"
#include "trap.h"
#include "vmspace.h"

void kmain(uint32_t magic, const struct multiboot_info *info);

extern char kernel_end[];

enum {
	CR0_MONITOR_FPU = 1u << 1,
	CR0_EMULATE_FPU = 1u << 2,
	CR0_TASK_SWITCHED = 1u << 3,
	CR0_NATIVE_FPU_ERRORS = 1u << 5,
};

static struct bootmod modules[TASK_MAX];

static void fpu_init(void)
{
	uint32_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 | CR0_MONITOR_FPU | CR0_NATIVE_FPU_ERRORS) &
	      ~(CR0_EMULATE_FPU | CR0_TASK_SWITCHED);
	__asm__ volatile("mov %0, %%cr0\n\tfninit" : : "r"(cr0));
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Reads every module line into the kernel; returns the first byte past what the loader
 * placed (kernel, modules, their lines, the boot information). */
static uint32_t read_modules(const struct multiboot_info *info, uint32_t *ret_count)
{
	uint32_t end = max_u32((uint32_t)kernel_end, (uint32_t)(info + 1));
	uint32_t count = 0;
	if (info->flags & MULTIBOOT_INFO_MODULES) {
		const struct multiboot_module *m = (const struct multiboot_module *)info->mods_addr;
		end = max_u32(end, (uint32_t)(m + info->mods_count));
		for (uint32_t i = 0; i < info->mods_count; i++) {
			end = max_u32(end, m[i].mod_end);
			if (m[i].cmdline != 0)
				end = max_u32(end, m[i].cmdline + 4096);
			const char *why;
			if (count == TASK_MAX) {
				selftest_step("module", false, "more than %u modules", TASK_MAX);
				continue;
			}
			if (bootmod_parse(&m[i], &modules[count], &why) < 0) {
				selftest_step("module", false, "%u: %s", i, why);
				continue;
			}
			count++;
		}
	}
	*ret_count = count;
	return end;
}

void kmain(uint32_t magic, const struct multiboot_info *info)
{
	serial_init();
	console_printf("\nPackOS x86 (i386), the kernel core on hardware\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || (info->flags & MULTIBOOT_INFO_MEMORY) == 0)
		console_panic("not started by a multiboot loader with memory information");
	gdt_init(trap_stack_top());
	idt_init();
	pic_init();
	pit_init();
	fpu_init();
	vmspace_init_kernel();

	uint32_t module_count;
	uint32_t loaded_end = read_modules(info, &module_count);
	uint32_t memory_end = 0x100000u + info->mem_upper * 1024u;
	if (memory_end > KERNEL_SPACE_END)
		memory_end = KERNEL_SPACE_END;
	pages_init(loaded_end, memory_end);
	selftest_step("boot", true, "memory_kib=%u pages=%u modules=%u", info->mem_upper + 1024,
		      pages_free_count(), module_count);

	__asm__ volatile("sti");
	uint32_t tsc_khz = pit_calibrate_tsc();
	__asm__ volatile("cli");
	selftest_step("clock", pit_now_ms() > 0 && tsc_khz > 0, "ticks=%llu tsc_khz=%u",
		      (unsigned long long)pit_now_ms(), tsc_khz);

	struct kernel *k = port_start_kernel(rdtsc());
	selftest_baseline();
	if (module_count == 0) {
		selftest_step("programs", false, "no boot modules");
		console_printf("selftest: done FAIL\n");
		poweroff(POWEROFF_FAILURE);
	}
	for (uint32_t i = 0; i < module_count; i++) {
		const char *why = "";
		struct task *t = task_create(k, &modules[i], tsc_khz, &why);
		char step[SELFTEST_STEP_SIZE];
		selftest_step_name(step, "load", modules[i].name);
		selftest_step(step, t != NULL, "%s", t != NULL ? "ready" : why);
	}
	sched_start(k);
}
