/* Time for programs in the simulator: the monotonic clock, the one packosd stamps ticks with,
 * read directly; periodic work waits for the kernel clock's ticks instead (pk_tick_subscribe).
 * Randomness from the host's kernel (getrandom). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "../backend.h"

uint64_t backend_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void backend_random(void *buffer, uint32_t length)
{
	uint8_t *at = buffer;
	while (length > 0) {
		ssize_t n = getrandom(at, length, 0);
		if (n > 0) {
			at += n;
			length -= (uint32_t)n;
		}
	}
}

void backend_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
