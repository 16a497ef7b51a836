/* One kernel stack, no kernel threads: a trap saves the running task's registers in its
 * task, the kernel does what the trap asks, and the way out restores whichever task is
 * picked. Waiting is a task state, never a kernel stack frame. The scans here are over the
 * task table (16 entries), outside every kernel call: the kernel core's O(1) is not at
 * stake, and a timer wheel can replace them when there are many tasks. */
#include "console.h"
#include "pit.h"
#include "sched.h"
#include "selftest.h"
#include "trapcall.h"

static struct kernel *kernel;
static struct task *current;
static uint32_t cursor; /* the last task picked: round robin goes on after it */
static bool quantum_over;

struct task *sched_current(void)
{
	return current;
}

struct kernel *sched_kernel(void)
{
	return kernel;
}

void sched_quantum_over(void)
{
	quantum_over = true;
}

/* Resumes parked receives that were woken or whose deadline passed, and wakes sleepers. */
static void run_due(void)
{
	uint64_t now = pit_now_ms();
	for (uint32_t i = 0; i < TASK_MAX; i++) {
		struct task *t = task_at(i);
		bool due = t->deadline_ms != 0 && now >= t->deadline_ms;
		if (t->state == TASK_WAITING && (t->woken || due)) {
			trapcall_resume(kernel, t, !t->woken);
		} else if (t->state == TASK_SLEEPING && due) {
			t->state = TASK_RUNNABLE;
			t->deadline_ms = 0;
		}
	}
}

static struct task *next_runnable(void)
{
	if (current != NULL && current->state == TASK_RUNNABLE && !quantum_over)
		return current;
	for (uint32_t i = 1; i <= TASK_MAX; i++) {
		uint32_t index = (cursor + i) % TASK_MAX;
		struct task *t = task_at(index);
		if (t->state == TASK_RUNNABLE) {
			cursor = index;
			quantum_over = false;
			return t;
		}
	}
	return NULL;
}

struct task *sched_pick(void)
{
	for (;;) {
		run_due();
		selftest_check(kernel);
		struct task *t = next_runnable();
		if (t != NULL) {
			current = t;
			return t;
		}
		/* sti takes effect after the next instruction, so no interrupt slips in
		 * between it and hlt. */
		__asm__ volatile("sti\n\thlt\n\tcli");
	}
}

void sched_start(struct kernel *k)
{
	kernel = k;
	struct task *t = sched_pick();
	struct trap_frame *frame = trap_user_frame();
	*frame = t->frame;
	vmspace_activate(&t->space);
	__asm__ volatile("frstor %0" : : "m"(t->fpu));
	trap_return(frame);
}
