/* it-ticker COUNT [slow=MS] [hold]: subscribes its first endpoint to the kernel's clock,
 * receives COUNT ticks and prints one line for each:
 *
 *   it-ticker: tick T frame F lost L shared S
 *
 * where F is the pool frame behind the share (from its handle: every subscriber of one
 * tick must name the same one) and L the ticks missed just before it. With slow=MS it
 * sleeps that long after each tick, so the clock runs ahead of it; with hold it keeps
 * every share, prints "it-ticker: holding N" and waits to be killed, for the test that
 * kills a process holding shares. Otherwise it frees each tick, unsubscribes, checks that
 * no tick comes for three periods after, and prints "it-ticker: done". Exits 1 on any
 * unexpected answer. */
#define _GNU_SOURCE
#include "it_common.h"

#include <stdbool.h>

enum { TICK_WAIT_MS = 5000, MAX_HELD = 256 };

static void fail(const char *what, int err)
{
	printf("it-ticker: %s: %s\n", what, pk_strerror(err));
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: it-ticker COUNT [slow=MS] [hold]\n");
		return 2;
	}
	unsigned count = (unsigned)strtoul(argv[1], NULL, 10);
	unsigned slow_ms = 0;
	bool hold = false;
	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "slow=", 5) == 0)
			slow_ms = (unsigned)strtoul(argv[i] + 5, NULL, 10);
		else if (strcmp(argv[i], "hold") == 0)
			hold = true;
	}
	if (hold && count > MAX_HELD)
		count = MAX_HELD;
	it_init("it-ticker");
	setvbuf(stdout, NULL, _IOLBF, 0);
	pk_endpoint_t endpoint = pk_endpoint(0);
	uint64_t period_ns;
	int err = pk_tick_subscribe(endpoint, &period_ns);
	if (err < 0)
		fail("tick_subscribe", err);
	printf("it-ticker: period %llu ns\n", (unsigned long long)period_ns);

	for (unsigned i = 0; i < count; i++) {
		struct pk_frame frame;
		uint32_t length;
		err = pk_recv(endpoint, &frame, &length, TICK_WAIT_MS);
		if (err < 0)
			fail("recv", err);
		struct pk_tick tick;
		err = pk_tick_parse(&frame, length, &tick);
		if (err < 0)
			fail("not a tick", err);
		printf("it-ticker: tick %llu frame %u lost %u shared %u\n",
		       (unsigned long long)tick.tick, PK_FRAME_NUMBER(frame.handle), frame.lost,
		       frame.shared);
		/* Holding is not freeing: the runtime keeps the share mapped. */
		if (!hold && (err = pk_frame_free(&frame)) < 0)
			fail("frame_free", err);
		if (slow_ms != 0)
			pk_sleep_ns((uint64_t)slow_ms * 1000000u);
	}
	if (hold) {
		printf("it-ticker: holding %u\n", count);
		for (;;)
			pause();
	}
	err = pk_tick_unsubscribe(endpoint);
	if (err < 0)
		fail("tick_unsubscribe", err);
	/* Leaving the clock's group takes its unread tick with it. */
	struct pk_frame frame;
	uint32_t length;
	err = pk_recv(endpoint, &frame, &length, 3 * (uint32_t)(period_ns / 1000000u) + 1);
	if (err == 0) {
		printf("it-ticker: a tick after tick_unsubscribe\n");
		return 1;
	}
	if (err != -PK_ETIMEDOUT)
		fail("recv after unsubscribe", err);
	printf("it-ticker: done\n");
	return 0;
}
