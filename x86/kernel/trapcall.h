/* The kernel-call trap (int 0x80): batches of kernel calls from the call page, and the
 * port's own services (console, sleep, exit). */
#ifndef X86_TRAPCALL_H
#define X86_TRAPCALL_H

#include <stdbool.h>

#include <kcore/kernel.h>

#include "task.h"

/* Serves the trap `t` just made; its registers are in t->frame. */
void trapcall_enter(struct kernel *k, struct task *t);

/* Goes on with the batch of a waiting task: its receive was woken, or with `timed_out`
 * its deadline passed. */
void trapcall_resume(struct kernel *k, struct task *t, bool timed_out);

#endif
