/* bench-threads ROUNDS [spread]: the round trip between two threads of one process, as
 * bench-rtt times it between two processes: one frame bounced with pk_send_recv between
 * the main thread's endpoint and an endpoint of a second thread, which answers each packet
 * in the frame it came in. With "spread" the threads are not kept on one core in remap
 * isolation (PACKOS_THREADS=spread, libpk/sim/thread.c). Prints
 *
 *   bench-threads: median A p99 B us, N round trips, threads pinned|spread
 *
 * and exits 0, or 1 if a call failed or an answer was wrong. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>

#include <pk/thread.h>

#include "bench_program.h"

enum { WARMUP = 200, WAIT_MS = 5000 };

struct echo {
	pk_endpoint_t endpoint;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	unsigned long rounds;
	int err;
};

static void answer(void *arg)
{
	struct echo *e = arg;
	struct pk_frame frame;
	uint32_t length;
	e->err = pk_recv(e->endpoint, &frame, &length, WAIT_MS);
	for (unsigned long i = 1; e->err == 0 && i < e->rounds; i++) {
		pk_ipv6_swap_addresses(frame.data);
		e->err = pk_send_recv(&frame, length, e->endpoint, &frame, &length, WAIT_MS);
	}
	if (e->err == 0) {
		pk_ipv6_swap_addresses(frame.data);
		e->err = pk_send(&frame, length);
	}
}

static int compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-threads: %s: %s\n", what, pk_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	bool spread = argc > 2 && strcmp(argv[2], "spread") == 0;
	if (rounds == 0)
		return 2;
	if (spread)
		setenv("PACKOS_THREADS", "spread", 1);
	int err = pk_init();
	if (err < 0)
		return fail("pk_init", err);
	struct echo echo = {.rounds = WARMUP + rounds};
	uint64_t *samples = malloc(rounds * sizeof *samples);
	if (samples == NULL)
		return fail("malloc", -PK_ENOMEM);
	if ((err = pk_endpoint_create(0, &echo.endpoint, echo.address)) < 0)
		return fail("endpoint_create", err);
	struct pk_thread thread;
	if ((err = pk_thread_start(&thread, answer, &echo)) < 0)
		return fail("thread_start", err);
	struct pk_frame frame;
	if ((err = pk_frame_alloc(&frame)) < 0)
		return fail("frame_alloc", err);
	const uint32_t length = PK_IPV6_HEADER_SIZE + 64;
	pk_ipv6_header_init(frame.data, pk_address(0), echo.address, BENCH_NEXT_HEADER, 64, 64);
	for (unsigned long i = 0; i < WARMUP + rounds; i++) {
		bench_put64(frame.data + PK_IPV6_HEADER_SIZE, i);
		uint32_t in_length;
		uint64_t start = pk_now_ns();
		err = pk_send_recv(&frame, length, pk_endpoint(0), &frame, &in_length, WAIT_MS);
		uint64_t end = pk_now_ns();
		if (err < 0)
			return fail("send_recv", err);
		if (in_length != length || bench_get64(frame.data + PK_IPV6_HEADER_SIZE) != i)
			return fail("a wrong answer", -PK_EINVAL);
		pk_ipv6_swap_addresses(frame.data);
		if (i >= WARMUP)
			samples[i - WARMUP] = end - start;
	}
	pk_frame_free(&frame);
	pk_thread_join(&thread);
	if (echo.err < 0)
		return fail("the answering thread", echo.err);
	qsort(samples, rounds, sizeof *samples, compare);
	printf("bench-threads: median %.1f p99 %.1f us, %lu round trips, threads %s\n",
	       (double)samples[rounds / 2] / 1000.0, (double)samples[rounds * 99 / 100] / 1000.0,
	       rounds, spread ? "spread" : "pinned");
	free(samples);
	return 0;
}
