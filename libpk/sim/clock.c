/* Time for programs in the simulator: the monotonic clock, the one packosd stamps ticks with,
 * read directly; periodic work waits for the kernel clock's ticks instead (pk_tick_subscribe). */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "../backend.h"

uint64_t backend_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void backend_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
