/* The scheduler: round robin over runnable tasks, a one-millisecond quantum, deadlines of
 * waiting and sleeping tasks, and the idle loop. */
#ifndef X86_SCHED_H
#define X86_SCHED_H

#include <kcore/kernel.h>

#include "task.h"

/* Enters user mode with the first runnable task. Never returns. */
__attribute__((noreturn)) void sched_start(struct kernel *k);

/* The task whose trap is being served. */
struct task *sched_current(void);

struct kernel *sched_kernel(void);

/* A timer tick arrived while a task ran: it has used its quantum. */
void sched_quantum_over(void);

/* Chooses the task to return to after a trap, idling until there is one. */
struct task *sched_pick(void);

#endif
