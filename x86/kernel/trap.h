/* Every way into the kernel after boot is a trap: an exception, the timer, or a program's
 * int 0x80. All of them arrive on the one kernel stack as a struct trap_frame, and every
 * way back to user mode is that frame, rewritten if another process is to run. */
#ifndef X86_TRAP_H
#define X86_TRAP_H

#include <stdint.h>

struct trap_frame {
	/* pushed by the entry stub (pusha) */
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t vector, error; /* error is 0 where the CPU pushes none */
	/* pushed by the CPU */
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss; /* only on a trap from ring 3 */
};

enum trap_vector {
	TRAP_PAGE_FAULT = 14,
	TRAP_IRQ_BASE = 32, /* the PICs are remapped here */
	TRAP_TIMER = TRAP_IRQ_BASE,
	TRAP_SPURIOUS_IRQ7 = TRAP_IRQ_BASE + 7,
	TRAP_STUB_COUNT = 48, /* exceptions and IRQs with an entry stub */
};

/* Entry stubs (trap_entry.S): one per vector below TRAP_STUB_COUNT, and the kernel-call
 * trap. */
extern const uint32_t trap_stubs[TRAP_STUB_COUNT];
void trap_stub_kernel_call(void);

/* Where every stub lands (trap.c). */
void trap_dispatch(struct trap_frame *frame);

/* Leaves the kernel through `frame` (trap_entry.S): the first entry into user mode. */
__attribute__((noreturn)) void trap_return(struct trap_frame *frame);

/* The kernel stack every trap from ring 3 lands on (the TSS names its top), and the frame
 * such a trap leaves at that top. */
uint32_t trap_stack_top(void);
struct trap_frame *trap_user_frame(void);

#endif
