/* The simulator's spin-or-sleep choice (libpk/sim/spin_habit.h): which waits make a
 * sleeper, which do not, the probes that keep the average true, and that nothing changes
 * for a thread outside a crowd on the daemon's core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spin_habit.h"

/* Waits that spun, each through `yields` yields (the first hands the daemon the core). */
static void wait_spinning(struct spin_habit *habit, unsigned yields, unsigned waits)
{
	for (unsigned i = 0; i < waits; i++) {
		assert_false(spin_habit_sleeps_at_once(habit, true));
		spin_habit_learn(habit, true, yields);
	}
}

/* How many of the next `waits` waits sleep at once; a wait that spins learns `yields`. */
static unsigned sleeps_in(struct spin_habit *habit, unsigned yields, unsigned waits)
{
	unsigned slept = 0;
	for (unsigned i = 0; i < waits; i++) {
		if (spin_habit_sleeps_at_once(habit, true))
			slept++;
		else
			spin_habit_learn(habit, true, yields);
	}
	return slept;
}

static void test_one_empty_turn_a_wait_keeps_spinning(void **state)
{
	(void)state;
	struct spin_habit habit = {0};
	wait_spinning(&habit, 2, 200);
	/* One wait in eight with a second empty turn, as a client's in bench_sim. */
	for (unsigned i = 0; i < 50; i++) {
		wait_spinning(&habit, 3, 1);
		wait_spinning(&habit, 2, 7);
	}
	assert_false(spin_habit_sleeps_at_once(&habit, true));
}

static void test_two_empty_turns_a_wait_make_a_sleeper(void **state)
{
	(void)state;
	struct spin_habit habit = {0};
	unsigned spun = 0;
	while (!spin_habit_sleeps_at_once(&habit, true)) {
		spin_habit_learn(&habit, true, 3);
		assert_true(++spun < 20);
	}
	/* Asleep at once from then on, but for a probe every SPIN_HABIT_PROBE_EVERY waits. */
	unsigned slept = 1 + sleeps_in(&habit, 3, 10 * (SPIN_HABIT_PROBE_EVERY + 1) - 1);
	assert_int_equal(slept, 10 * SPIN_HABIT_PROBE_EVERY);
}

static void test_a_long_wait_now_and_then_is_no_habit(void **state)
{
	(void)state;
	struct spin_habit habit = {0};
	wait_spinning(&habit, 2, 100);
	spin_habit_learn(&habit, true, SPIN_HABIT_YIELDS); /* a server between clients */
	assert_false(spin_habit_sleeps_at_once(&habit, true));
	spin_habit_learn(&habit, true, 2);
	assert_false(spin_habit_sleeps_at_once(&habit, true));
}

static void test_a_sleeper_spins_again_once_its_waits_are_short(void **state)
{
	(void)state;
	struct spin_habit habit = {0};
	for (unsigned i = 0; i < 20; i++)
		spin_habit_learn(&habit, true, SPIN_HABIT_YIELDS);
	assert_true(spin_habit_sleeps_at_once(&habit, true));
	/* The probes find the answer at the first turn now: within a few of them the thread
	 * spins every wait. */
	unsigned waits = 0;
	while (habit.empty_turns > SPIN_HABIT_EMPTY_TURNS_MAX) {
		if (!spin_habit_sleeps_at_once(&habit, true))
			spin_habit_learn(&habit, true, 1);
		assert_true(++waits < 20 * (SPIN_HABIT_PROBE_EVERY + 1));
	}
	assert_int_equal(sleeps_in(&habit, 1, 100), 0);
}

/* Alone with the daemon, or on another core, a yield is no one else's turn: whatever the
 * waits, the thread spins, and what it learns there does not count in a crowd, nor what it
 * learnt in a crowd outside one. */
static void test_outside_a_crowd_a_thread_always_spins(void **state)
{
	(void)state;
	struct spin_habit habit = {0};
	for (unsigned i = 0; i < 100; i++) {
		assert_false(spin_habit_sleeps_at_once(&habit, false));
		spin_habit_learn(&habit, false, SPIN_HABIT_YIELDS);
	}
	assert_false(spin_habit_sleeps_at_once(&habit, true));
	for (unsigned i = 0; i < 20; i++)
		spin_habit_learn(&habit, true, 3);
	assert_true(spin_habit_sleeps_at_once(&habit, true));
	assert_false(spin_habit_sleeps_at_once(&habit, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_empty_turn_a_wait_keeps_spinning),
		cmocka_unit_test(test_two_empty_turns_a_wait_make_a_sleeper),
		cmocka_unit_test(test_a_long_wait_now_and_then_is_no_habit),
		cmocka_unit_test(test_a_sleeper_spins_again_once_its_waits_are_short),
		cmocka_unit_test(test_outside_a_crowd_a_thread_always_spins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
