/* Trap dispatch. A trap from ring 3 saves the task (registers and FPU), is served, and
 * leaves through the task the scheduler picks. A trap from ring 0 can only be the timer
 * waking the idle loop; any other is a kernel bug. An exception in user mode is the
 * program's fault, never the kernel's: the kernel core destroys the process as it does on
 * a misused kernel call, and the machine goes on. */
#include <x86/call_page.h>

#include "console.h"
#include "pic.h"
#include "pit.h"
#include "sched.h"
#include "trap.h"
#include "trapcall.h"

static uint8_t trap_stack[16384] __attribute__((aligned(16)));

struct trap_frame *trap_user_frame(void)
{
	return (struct trap_frame *)(trap_stack + sizeof trap_stack) - 1;
}

uint32_t trap_stack_top(void)
{
	return (uint32_t)(trap_stack + sizeof trap_stack);
}

static uint32_t read_cr2(void)
{
	uint32_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	return cr2;
}

static bool serve_interrupt(const struct trap_frame *frame)
{
	switch (frame->vector) {
	case TRAP_TIMER:
		pit_tick();
		pic_end_of_interrupt(0);
		return true;
	case TRAP_SPURIOUS_IRQ7: /* no end of interrupt for a spurious one */
		return true;
	default:
		return false;
	}
}

static void fault_user(struct task *t, const struct trap_frame *frame)
{
	uint32_t address = frame->vector == TRAP_PAGE_FAULT ? read_cr2() : 0;
	console_printf("fault: %s: exception %u error %x at eip %x, address %x; process "
		       "destroyed\n",
		       t->module->name, frame->vector, frame->error, frame->eip, address);
	task_fault_in_user_mode(sched_kernel(), t, frame, address);
}

void trap_dispatch(struct trap_frame *frame)
{
	if ((frame->cs & 3) == 0) {
		if (!serve_interrupt(frame))
			console_panic("exception %u error %x in the kernel at eip %x, cr2 %x",
				      frame->vector, frame->error, frame->eip, read_cr2());
		return;
	}
	struct task *t = sched_current();
	t->frame = *frame;
	__asm__ volatile("fnsave %0" : "=m"(t->fpu));
	if (frame->vector == X86_TRAP_VECTOR) {
		trapcall_enter(sched_kernel(), t);
	} else if (serve_interrupt(frame)) {
		if (frame->vector == TRAP_TIMER)
			sched_quantum_over();
	} else {
		fault_user(t, frame);
	}
	struct task *next = sched_pick();
	*frame = next->frame;
	vmspace_activate(&next->space);
	__asm__ volatile("frstor %0" : : "m"(next->fpu));
}
