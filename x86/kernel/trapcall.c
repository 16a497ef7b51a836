/* The kernel-call trap. A batch runs its slots in order; a receive marked to wait that
 * finds its queue empty parks the task instead of answering, and the batch goes on when
 * the port is told a packet arrived (po_wake) or the deadline passes. So the kernel call
 * itself never blocks, and a program that sends and then waits for the answer traps once.
 * Each slot is copied into the kernel before it runs: the program cannot change a call
 * under the kernel's feet. */
#include <x86/call_page.h>

#include "../rt/rt.h"
#include "console.h"
#include "pit.h"
#include "trapcall.h"

enum { KNOWN_SLOT_FLAGS = X86_SLOT_WAIT | X86_SLOT_LINKED };

static void finish_slot(struct task *t, const struct pk_kresult *result)
{
	t->call_page->slot[t->batch_next].result = *result;
	t->last_status = (int)result->status;
	if (result->status < 0)
		t->batch_failed = true;
	t->batch_next++;
}

static void park(struct task *t, const struct x86_call_slot *slot, bool first_time)
{
	t->state = TASK_WAITING;
	t->wait_endpoint = slot->call.arg[0];
	t->woken = false;
	if (first_time)
		t->deadline_ms = slot->wait_ms != 0 ? pit_now_ms() + slot->wait_ms : 0;
}

static void run_batch(struct kernel *k, struct task *t, bool resuming)
{
	while (t->batch_next < t->batch_count) {
		struct x86_call_slot slot;
		memcpy(&slot, &t->call_page->slot[t->batch_next], sizeof slot);
		struct pk_kresult result = {0};
		if ((slot.flags & ~KNOWN_SLOT_FLAGS) != 0 ||
		    ((slot.flags & X86_SLOT_WAIT) && slot.call.nr != PK_KC_recv)) {
			result.status = -PK_EINVAL;
		} else if ((slot.flags & X86_SLOT_LINKED) && t->last_status < 0) {
			result.status = -PK_ECANCELED;
		} else {
			kernel_call(k, t->kproc, &slot.call, &result);
			if (t->state == TASK_FAULTED)
				return;
			/* A wait never holds back the news of a failure earlier in the
			 * batch. */
			if (result.status == -PK_EWOULDBLOCK && (slot.flags & X86_SLOT_WAIT) &&
			    !t->batch_failed) {
				park(t, &slot, !resuming);
				return;
			}
		}
		resuming = false;
		finish_slot(t, &result);
	}
	t->state = TASK_RUNNABLE;
	t->frame.eax = 0;
}

void trapcall_resume(struct kernel *k, struct task *t, bool timed_out)
{
	if (timed_out) {
		finish_slot(t, &(struct pk_kresult){.status = -PK_ETIMEDOUT});
		run_batch(k, t, false);
	} else {
		run_batch(k, t, true);
	}
}

/* A program's console output, each line prefixed with its name. */
static void write_console(struct task *t, uint32_t length)
{
	const char *text = t->call_page->console;
	if (length > X86_CONSOLE_SIZE)
		length = X86_CONSOLE_SIZE;
	for (uint32_t i = 0; i < length; i++) {
		if (!t->mid_line)
			console_printf("[%s] ", t->module->name);
		console_write(&text[i], 1);
		t->mid_line = text[i] != '\n';
	}
}

void trapcall_enter(struct kernel *k, struct task *t)
{
	uint32_t operand = t->frame.ebx;
	switch (t->frame.eax) {
	case X86_TRAP_CALLS:
		if (operand == 0 || operand > X86_CALL_SLOTS) {
			t->frame.eax = (uint32_t)-PK_EINVAL;
			return;
		}
		t->batch_count = operand;
		t->batch_next = 0;
		t->batch_failed = false;
		/* last_status carries over: a linked first slot depends on the call before it,
		 * so a long batch split over traps links as one stream. */
		run_batch(k, t, false);
		return;
	case X86_TRAP_WRITE:
		write_console(t, operand);
		t->frame.eax = 0;
		return;
	case X86_TRAP_SLEEP:
		t->state = TASK_SLEEPING;
		t->deadline_ms = pit_now_ms() + (operand != 0 ? operand : 1);
		t->frame.eax = 0;
		return;
	case X86_TRAP_EXIT:
		if (t->mid_line)
			console_printf("\n");
		task_exit(k, t, (int)operand);
		return;
	default:
		t->frame.eax = (uint32_t)-PK_ENOSYS;
	}
}
