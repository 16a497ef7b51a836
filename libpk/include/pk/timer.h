/* Timers driven by the kernel's clock: one-shot and periodic, cancelable, each O(1) to
 * start and cancel.
 *
 * A program subscribes an endpoint to the clock (pk_tick_subscribe) and hands each tick it
 * receives to its wheel (pk_timer_wheel_advance with the tick's number from pk_tick_parse);
 * the wheel fires every timer that fell due, in the program's own thread, with no kernel
 * call of its own. Ticks the program missed (frame->lost) are caught up on the way: a tick
 * number, not a count of calls, says how far the wheel turns.
 *
 * The wheel is hashed (Varghese and Lauck): a timer due at tick T waits in slot T mod
 * PK_TIMER_SLOTS, and each tick looks at one slot, so starting, cancelling and the work of
 * one tick do not depend on how many timers wait elsewhere. Time is kept in whole ticks: a
 * delay is rounded up to the next tick (never fires early), and a timer fires at the first
 * tick at or after its deadline. Everything is the caller's memory; nothing allocates. */
#ifndef PK_TIMER_H
#define PK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define PK_TIMER_SLOTS 256u /* a power of two */

struct pk_timer;
typedef void pk_timer_fn(struct pk_timer *timer, void *context);

struct pk_timer {
	/* The wheel's: its place in a slot's list while armed. */
	struct pk_timer *next;
	struct pk_timer **link; /* the pointer that points at this timer; NULL: not armed */
	uint64_t due_tick;
	uint64_t period_ticks; /* 0: one-shot */
	/* The owner's. */
	pk_timer_fn *fire;
	void *context;
	uint64_t missed; /* periodic: periods skipped before this firing (a late wheel) */
};

struct pk_timer_wheel {
	struct pk_timer *slot[PK_TIMER_SLOTS];
	uint64_t tick;	    /* the last tick it was advanced to */
	uint64_t period_ns; /* the clock's */
	unsigned armed;
};

/* A wheel at the clock's tick `tick`, whose period is `period_ns` (from pk_tick_subscribe). */
void pk_timer_wheel_init(struct pk_timer_wheel *wheel, uint64_t period_ns, uint64_t tick);

/* A timer not armed yet, calling `fire(timer, context)` when it goes off. */
void pk_timer_init(struct pk_timer *timer, pk_timer_fn *fire, void *context);

/* Arms `timer` to fire `after_ns` from the wheel's tick (at least one tick later), and
 * then every `period_ns` if that is not 0. An armed timer is moved. */
void pk_timer_start(struct pk_timer_wheel *wheel, struct pk_timer *timer, uint64_t after_ns,
		    uint64_t period_ns);

/* Disarms `timer`; true if it was armed. Safe from any timer's callback. */
bool pk_timer_cancel(struct pk_timer_wheel *wheel, struct pk_timer *timer);

static inline bool pk_timer_armed(const struct pk_timer *timer)
{
	return timer->link != 0;
}

/* The clock reached tick `tick`: fires every timer due at or before it and returns how
 * many fired. A one-shot timer is disarmed before its callback runs; a periodic one is
 * already rearmed for its next period (skipping, and counting in `missed`, periods that
 * fell entirely behind the wheel). Callbacks may start and cancel any timer. A tick at or
 * before the wheel's fires nothing. */
unsigned pk_timer_wheel_advance(struct pk_timer_wheel *wheel, uint64_t tick);

#endif
