/* The timer wheel (pk/timer.h) turned by hand: when one-shot and periodic timers fire,
 * rounding, cancelling and moving (also from callbacks), missed ticks, timers many turns of
 * the wheel away, and a random run checked against a plain list of deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pk/timer.h>

#include "packets.h"

#define MS   1000000ull
#define TICK (10 * MS)

struct record {
	unsigned fired;
	uint64_t last_tick;
	uint64_t missed;
	struct pk_timer_wheel *wheel;
	struct pk_timer *other; /* for the callbacks that act on another timer */
};

static void count(struct pk_timer *timer, void *context)
{
	struct record *r = context;
	r->fired++;
	r->last_tick = r->wheel->tick;
	r->missed += timer->missed;
}

static struct pk_timer_wheel wheel;

static void start_wheel(uint64_t tick)
{
	pk_timer_wheel_init(&wheel, TICK, tick);
}

static void test_timer_one_shot_fires_once_at_its_tick(void **state)
{
	(void)state;
	start_wheel(100);
	struct record r = {.wheel = &wheel};
	struct pk_timer t;
	pk_timer_init(&t, count, &r);
	assert_false(pk_timer_armed(&t));
	pk_timer_start(&wheel, &t, 30 * MS, 0);
	assert_true(pk_timer_armed(&t));
	assert_int_equal(wheel.armed, 1);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 102), 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 103), 1);
	assert_int_equal(r.fired, 1);
	assert_int_equal(r.last_tick, 103);
	assert_false(pk_timer_armed(&t));
	assert_int_equal(wheel.armed, 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 103 + PK_TIMER_SLOTS), 0);
	assert_int_equal(r.fired, 1);
}

static void test_timer_delays_round_up_to_whole_ticks(void **state)
{
	(void)state;
	start_wheel(0);
	struct record r = {.wheel = &wheel};
	struct pk_timer zero, part;
	pk_timer_init(&zero, count, &r);
	pk_timer_init(&part, count, &r);
	/* Never in the tick being handled, never early. */
	pk_timer_start(&wheel, &zero, 0, 0);
	pk_timer_start(&wheel, &part, TICK + 1, 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 1), 1);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 2), 1);
	assert_int_equal(r.fired, 2);
}

static void test_timer_periodic_fires_every_period(void **state)
{
	(void)state;
	start_wheel(7);
	struct record r = {.wheel = &wheel};
	struct pk_timer t;
	pk_timer_init(&t, count, &r);
	pk_timer_start(&wheel, &t, 20 * MS, 50 * MS);
	unsigned fired_at[8], n = 0;
	for (uint64_t tick = 8; tick <= 30; tick++) {
		if (pk_timer_wheel_advance(&wheel, tick) != 0)
			fired_at[n++] = (unsigned)tick;
	}
	assert_int_equal(n, 5);
	static const unsigned expected[] = {9, 14, 19, 24, 29};
	assert_memory_equal(fired_at, expected, sizeof expected);
	assert_true(pk_timer_armed(&t));
	assert_int_equal(r.missed, 0);
}

static void test_timer_missed_ticks_fire_once_and_count_periods_skipped(void **state)
{
	(void)state;
	start_wheel(0);
	struct record r = {.wheel = &wheel};
	struct pk_timer periodic, once;
	pk_timer_init(&periodic, count, &r);
	pk_timer_init(&once, count, &r);
	pk_timer_start(&wheel, &periodic, TICK, TICK);
	pk_timer_start(&wheel, &once, 5 * TICK, 0);
	/* The program missed ticks 1 to 9 (the lost count of tick 10). */
	assert_int_equal(pk_timer_wheel_advance(&wheel, 10), 2);
	assert_int_equal(r.missed, 9);
	/* Next at 11, in phase. */
	assert_int_equal(periodic.due_tick, 11);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 11), 1);
}

static void test_timer_far_away_waits_its_turns_of_the_wheel(void **state)
{
	(void)state;
	start_wheel(0);
	struct record r = {.wheel = &wheel};
	struct pk_timer t;
	pk_timer_init(&t, count, &r);
	uint64_t turns = 3 * PK_TIMER_SLOTS + 5;
	pk_timer_start(&wheel, &t, turns * TICK, 0);
	for (uint64_t tick = 1; tick < turns; tick++)
		assert_int_equal(pk_timer_wheel_advance(&wheel, tick), 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, turns), 1);
	/* And one jump over many turns finds it too. */
	pk_timer_start(&wheel, &t, turns * TICK, 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, wheel.tick + turns - 1), 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, wheel.tick + 10 * PK_TIMER_SLOTS), 1);
}

static void test_timer_cancel_and_move(void **state)
{
	(void)state;
	start_wheel(0);
	struct record r = {.wheel = &wheel};
	struct pk_timer a, b;
	pk_timer_init(&a, count, &r);
	pk_timer_init(&b, count, &r);
	assert_false(pk_timer_cancel(&wheel, &a));
	pk_timer_start(&wheel, &a, 2 * TICK, 0);
	pk_timer_start(&wheel, &b, 2 * TICK, 0);
	assert_true(pk_timer_cancel(&wheel, &a));
	assert_false(pk_timer_cancel(&wheel, &a));
	/* Starting an armed timer moves it. */
	pk_timer_start(&wheel, &b, 4 * TICK, 0);
	assert_int_equal(wheel.armed, 1);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 3), 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 4), 1);
	assert_int_equal(wheel.armed, 0);
	/* A tick at or before the wheel's does nothing. */
	assert_int_equal(pk_timer_wheel_advance(&wheel, 4), 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 2), 0);
	assert_int_equal(wheel.tick, 4);
}

static void cancel_other(struct pk_timer *timer, void *context)
{
	struct record *r = context;
	count(timer, context);
	pk_timer_cancel(r->wheel, r->other);
}

static void restart_self(struct pk_timer *timer, void *context)
{
	struct record *r = context;
	count(timer, context);
	if (r->fired < 3)
		pk_timer_start(r->wheel, timer, 3 * TICK, 0);
}

static void cancel_self(struct pk_timer *timer, void *context)
{
	struct record *r = context;
	count(timer, context);
	pk_timer_cancel(r->wheel, timer);
}

static void test_timer_callbacks_may_cancel_and_start(void **state)
{
	(void)state;
	start_wheel(0);
	/* a and b fall due in the same tick; whichever fires first cancels the other. */
	struct record ra = {.wheel = &wheel}, rb = {.wheel = &wheel};
	struct pk_timer a, b;
	pk_timer_init(&a, cancel_other, &ra);
	pk_timer_init(&b, cancel_other, &rb);
	ra.other = &b;
	rb.other = &a;
	pk_timer_start(&wheel, &a, TICK, 0);
	pk_timer_start(&wheel, &b, TICK, 0);
	assert_int_equal(pk_timer_wheel_advance(&wheel, 1), 1);
	assert_int_equal(ra.fired + rb.fired, 1);
	assert_int_equal(wheel.armed, 0);

	/* A one-shot timer that restarts itself. */
	struct record rs = {.wheel = &wheel};
	struct pk_timer s;
	pk_timer_init(&s, restart_self, &rs);
	pk_timer_start(&wheel, &s, TICK, 0);
	for (uint64_t tick = 2; tick <= 20; tick++)
		pk_timer_wheel_advance(&wheel, tick);
	assert_int_equal(rs.fired, 3);
	assert_int_equal(rs.last_tick, 8);

	/* A periodic timer that cancels itself fires once. */
	struct record rc = {.wheel = &wheel};
	struct pk_timer c;
	pk_timer_init(&c, cancel_self, &rc);
	pk_timer_start(&wheel, &c, TICK, TICK);
	for (uint64_t tick = 21; tick <= 30; tick++)
		pk_timer_wheel_advance(&wheel, tick);
	assert_int_equal(rc.fired, 1);
	assert_int_equal(wheel.armed, 0);
}

/* A random run: hundreds of timers started, cancelled and moved at random, the wheel
 * jumping forward by random steps (sometimes several turns); each one-shot timer must fire
 * exactly once, at the first tick the wheel reaches at or after its due tick. */
#define RANDOM_TIMERS 300

struct model {
	struct pk_timer timer;
	bool armed;
	uint64_t due;
	unsigned fired;
	bool early;
};

static void model_fired(struct pk_timer *timer, void *context)
{
	struct model *m = context;
	(void)timer;
	m->fired++;
	m->early |= wheel.tick < m->due;
	m->armed = false;
}

static void test_timer_random_run_matches_a_list_of_deadlines(void **state)
{
	(void)state;
	uint64_t seed = test_env_or("PACKOS_FUZZ_SEED", 0x7173);
	test_random_seed(seed);
	print_message("timer run: seed %#llx\n", (unsigned long long)seed);
	start_wheel(1000);
	static struct model models[RANDOM_TIMERS];
	for (unsigned i = 0; i < RANDOM_TIMERS; i++)
		pk_timer_init(&models[i].timer, model_fired, &models[i]);
	for (unsigned step = 0; step < 20000; step++) {
		struct model *m = &models[test_random_below(RANDOM_TIMERS)];
		switch (test_random_below(4)) {
		case 0: {
			uint64_t ticks = test_random_below(3 * PK_TIMER_SLOTS) + 1;
			pk_timer_start(&wheel, &m->timer, ticks * TICK, 0);
			m->armed = true;
			m->due = wheel.tick + ticks;
			m->fired = 0;
			break;
		}
		case 1:
			assert_int_equal(pk_timer_cancel(&wheel, &m->timer), m->armed);
			m->armed = false;
			break;
		default: {
			uint64_t to = wheel.tick + (test_random_below(50) == 0
							    ? test_random_below(4 * PK_TIMER_SLOTS)
							    : test_random_below(4));
			pk_timer_wheel_advance(&wheel, to);
			for (unsigned i = 0; i < RANDOM_TIMERS; i++) {
				struct model *x = &models[i];
				assert_false(x->early);
				/* Due and not fired would be a timer lost. */
				assert_false(x->armed && x->due <= wheel.tick);
				assert_true(x->fired <= 1);
			}
			break;
		}
		}
	}
	unsigned armed = 0;
	for (unsigned i = 0; i < RANDOM_TIMERS; i++)
		armed += models[i].armed;
	assert_int_equal(wheel.armed, armed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_one_shot_fires_once_at_its_tick),
		cmocka_unit_test(test_timer_delays_round_up_to_whole_ticks),
		cmocka_unit_test(test_timer_periodic_fires_every_period),
		cmocka_unit_test(test_timer_missed_ticks_fire_once_and_count_periods_skipped),
		cmocka_unit_test(test_timer_far_away_waits_its_turns_of_the_wheel),
		cmocka_unit_test(test_timer_cancel_and_move),
		cmocka_unit_test(test_timer_callbacks_may_cancel_and_start),
		cmocka_unit_test(test_timer_random_run_matches_a_list_of_deadlines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
