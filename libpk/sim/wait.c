/* How threads of a program wait for each other in the simulator: Linux threads, so a yield
 * is sched_yield and a wait on a word is a private futex (the word is never shared with
 * another process, which lets the kernel skip the shared-mapping lookup). None of this
 * goes to packosd. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <packos/errors.h>

#include "../backend.h"

void backend_yield(void)
{
	sched_yield();
}

int backend_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	/* FUTEX_WAIT takes a relative timeout, on the monotonic clock. */
	struct timespec relative = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
				    .tv_nsec = (long)(timeout_ns % 1000000000u)};
	const struct timespec *timeout = timeout_ns == BACKEND_WAIT_FOREVER ? NULL : &relative;
	if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, timeout, NULL, 0) == 0)
		return 0;
	switch (errno) {
	case ETIMEDOUT:
		return -PK_ETIMEDOUT;
	case EAGAIN: /* the word had changed already */
	case EINTR:
		return 0;
	default:
		/* EFAULT or EINVAL: not a word of this process. Spinning on it for ever would
		 * hide the bug. */
		abort();
	}
}

void backend_wake(_Atomic uint32_t *word, unsigned count)
{
	int most = count > INT_MAX ? INT_MAX : (int)count;
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, most, NULL, NULL, 0);
}
