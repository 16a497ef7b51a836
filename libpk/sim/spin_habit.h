/* How a thread waiting for packosd's answer spins before it sleeps, learnt from its last
 * waits (libpk/sim/channel.c waits; this decides).
 *
 * The spin yields. On the daemon's core a yield hands the daemon the core, and the answer
 * to a call it takes at once is there at the next turn. But a batch that ends in a receive
 * waits for another program to send, and while three programs spin by turns on one core
 * (the daemon, the NIC driver and kan-echo in a ping), every turn the scheduler gives a
 * waiter before its packet has come is a context switch spent finding nothing: kan-echo
 * took two such turns per ping, the driver one. A sleeping thread takes none, and costs
 * the daemon a futex wake, about what one empty turn costs here (docs/performance.md). So
 * a thread that takes turns on the daemon's core with another program keeps an average
 * of the empty turns its waits went through, and while that stays above
 * SPIN_HABIT_EMPTY_TURNS_MAX it sleeps at once, spinning again every
 * SPIN_HABIT_PROBE_EVERY waits to keep the average true. Measured: a ping's kan-echo
 * averages two and sleeps; the driver, and both sides of a request and its answer
 * between two programs, average about one and spin. Where the daemon has the core to
 * itself, or shares it with this thread alone, an empty turn costs no one else a turn
 * and a sleep costs the daemon a wake: such a thread always spins first. */
#ifndef PACKOS_LIBPK_SIM_SPIN_HABIT_H
#define PACKOS_LIBPK_SIM_SPIN_HABIT_H

#include <stdbool.h>

enum {
	SPIN_HABIT_YIELDS = 64, /* the longest spin: a daemon round trip on either placement */
	SPIN_HABIT_PROBE_EVERY = 8,
};

/* Empty turns are averaged in sixteenths: 1.75. */
#define SPIN_HABIT_EMPTY_TURNS_MAX 28u

struct spin_habit {
	unsigned empty_turns; /* average over the last waits that spun, in sixteenths */
	unsigned waits_until_probe;
};

/* Whether the wait about to start should skip the spin and sleep; counts it. `crowded`:
 * the thread takes turns on the daemon's core with another program. */
bool spin_habit_sleeps_at_once(struct spin_habit *habit, bool crowded);

/* Learns from a wait that spun: the yields it made before the answer came, or
 * SPIN_HABIT_YIELDS if none came and it went to sleep. */
void spin_habit_learn(struct spin_habit *habit, bool crowded, unsigned yields);

#endif
