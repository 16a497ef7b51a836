/* The kernel clock: ticks delivered as shared packets.
 *
 * The port owns the timer and calls kernel_clock_tick every tick_ns. The kernel writes one
 * tick message into one free frame and puts it into the clock's group, a ring of one slot
 * whose members are the subscribed endpoints (group.c): every subscriber reads the same
 * frame, read-only, and one that has not read the last tick when the next comes finds only
 * the newer one, with the miss counted. So a tick costs one frame whatever the number of
 * subscribers, and a subscriber that never reads pins at most one. */
#ifndef KCORE_TICK_H
#define KCORE_TICK_H

#include <stdint.h>

struct kernel;

struct tick {
	uint64_t period_ns; /* from the configuration; the port keeps to it */
	uint64_t count;	    /* ticks so far */
	uint64_t now_ns;    /* the port's time at the last one */
};

void tick_init(struct tick *tick, uint64_t period_ns);

/* Kernel calls. The endpoint is already checked to be the caller's. */
int tick_subscribe(struct kernel *k, uint32_t endpoint, uint64_t *ret_period_ns,
		   uint64_t *ret_count);
int tick_unsubscribe(struct kernel *k, uint32_t endpoint);

/* The port's entry (kernel_clock_tick). */
int tick_fire(struct kernel *k, uint64_t now_ns);

#endif
