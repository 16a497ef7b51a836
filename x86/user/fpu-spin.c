/* fpu-spin: computes with the FPU for a while without a single trap, so the other
 * programs run only because the timer preempts it, and checks every result. The sums are
 * exact in a double, so any difference means a context switch lost or mixed up FPU state
 * (the x87 stack holds the running sum across each preemption).
 *
 *   fpu-spin [MILLISECONDS]    default 100 */
#include <stdio.h>
#include <stdlib.h>

#include <pk/pk.h>

enum { TERMS = 1000 };

int main(int argc, char **argv)
{
	unsigned long ms = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	if (pk_init() < 0)
		return 2;
	volatile double half = 0.5; /* read each round: the compiler cannot fold the sum */
	const double expected = 0.5 * TERMS * (TERMS + 1) / 2;
	unsigned long rounds = 0, wrong = 0;
	uint64_t end = pk_now_ns() + (uint64_t)ms * 1000000u;
	while (pk_now_ns() < end) {
		double step = half, sum = 0;
		for (int i = 1; i <= TERMS; i++)
			sum += (double)i * step;
		wrong += sum != expected;
		rounds++;
	}
	printf("selftest: fpu-preempted %s rounds=%lu wrong=%lu ms=%lu\n",
	       wrong == 0 && rounds > 0 ? "ok" : "FAIL", rounds, wrong, ms);
	return wrong == 0 ? 0 : 1;
}
