/* Segments: flat code and data for ring 0 and ring 3, and the task state segment whose
 * only job is to name the stack a trap from user mode lands on. */
#ifndef X86_GDT_H
#define X86_GDT_H

#include <stdint.h>

enum gdt_selector {
	GDT_KERNEL_CODE = 0x08,
	GDT_KERNEL_DATA = 0x10,
	GDT_USER_CODE = 0x18 | 3,
	GDT_USER_DATA = 0x20 | 3,
	GDT_TSS = 0x28,
};

/* Loads the table and the task register; traps from ring 3 switch to `trap_stack_top`. */
void gdt_init(uint32_t trap_stack_top);

#endif
