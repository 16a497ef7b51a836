/* timerfd-jitter PERIOD_US COUNT: the Linux baseline of the tick-jitter benchmark, a
 * periodic timerfd read by a plain process, measured as bench-tick measures the kernel's
 * clock (bench/jitter.h); latency here is from each expiry's due time to the read. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "jitter.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: timerfd-jitter PERIOD_US COUNT\n");
		return 2;
	}
	uint64_t period_ns = strtoull(argv[1], NULL, 10) * 1000u;
	unsigned count = (unsigned)strtoul(argv[2], NULL, 10);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct jitter j;
	if (fd < 0 || period_ns == 0 || jitter_init(&j, count, period_ns) < 0) {
		perror("timerfd-jitter");
		return 1;
	}
	uint64_t start = now_ns();
	struct timespec period = {.tv_sec = (time_t)(period_ns / 1000000000u),
				  .tv_nsec = (long)(period_ns % 1000000000u)};
	struct itimerspec spec = {.it_interval = period, .it_value = period};
	if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
		perror("timerfd_settime");
		return 1;
	}
	uint64_t expired = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t expirations;
		if (read(fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations) {
			perror("read");
			return 1;
		}
		uint64_t arrival = now_ns();
		expired += expirations;
		jitter_add(&j, start + expired * period_ns, arrival, expirations - 1);
	}
	jitter_print("linux", &j);
	close(fd);
	return 0;
}
