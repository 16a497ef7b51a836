/* The spin-or-sleep choice of a thread waiting for packosd (spin_habit.h). */
#include "spin_habit.h"

/* A wait that outlasts this many empty turns counts as this many: a rare long one (a
 * server between clients) should tip the average only a little, and a thread that slept
 * through many should come back soon once its waits are short again. */
enum { EMPTY_TURNS_COUNTED = 4 };

bool spin_habit_sleeps_at_once(struct spin_habit *habit, bool crowded)
{
	if (!crowded || habit->empty_turns <= SPIN_HABIT_EMPTY_TURNS_MAX ||
	    habit->waits_until_probe == 0)
		return false; /* a spin, which learns */
	habit->waits_until_probe--;
	return true;
}

void spin_habit_learn(struct spin_habit *habit, bool crowded, unsigned yields)
{
	/* Outside a crowd a yield is no turn of anyone else's. */
	if (!crowded)
		return;
	/* The first yield is the one that hands the daemon the core; the rest came back
	 * empty. */
	unsigned empty = yields > 0 ? yields - 1 : 0;
	if (empty > EMPTY_TURNS_COUNTED)
		empty = EMPTY_TURNS_COUNTED;
	/* An average over about the last eight: one odd wait does not make a habit. */
	habit->empty_turns = habit->empty_turns - habit->empty_turns / 8 + empty * 2;
	habit->waits_until_probe = SPIN_HABIT_PROBE_EVERY;
}
