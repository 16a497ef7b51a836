/* The self-test: machine-readable lines on the console, one per step,
 *
 *   selftest: <step> ok|FAIL [detail]
 *
 * and a verdict when every program that should end has ended: then the kernel checks what
 * is left, prints `selftest: done ok|FAIL`, and powers off with the matching status. */
#ifndef X86_SELFTEST_H
#define X86_SELFTEST_H

#include <stdbool.h>

#include <kcore/kernel.h>

__attribute__((format(printf, 3, 4))) void selftest_step(const char *step, bool ok, const char *fmt,
							 ...);

#define SELFTEST_STEP_SIZE 48

/* "kind:name", the step name of something about one program. */
void selftest_step_name(char ret_step[SELFTEST_STEP_SIZE], const char *kind, const char *name);

/* Remembers the state of memory that must be whole again at the end. */
void selftest_baseline(void);

/* Ends the run (never returns) if every program that should end has, or if the time limit
 * passed; otherwise returns. */
void selftest_check(struct kernel *k);

#endif
