/* What the tick-jitter benchmark measures, shared by its PackOS program (bench-tick) and its
 * Linux baseline (timerfd-jitter) so the two are computed alike: for each tick, how far its
 * arrival is from one period after the previous arrival (jitter), and how late it arrived
 * after the time it was due (latency); printed as one line of percentiles in microseconds.
 * C standard library only. */
#ifndef BENCH_JITTER_H
#define BENCH_JITTER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct jitter {
	int64_t *deviation_ns; /* |interval - period| between arrivals with no miss between */
	int64_t *latency_ns;   /* arrival - due of each arrival */
	unsigned count, intervals, capacity;
	uint64_t period_ns, last_arrival_ns, missed;
};

static inline int jitter_init(struct jitter *j, unsigned capacity, uint64_t period_ns)
{
	*j = (struct jitter){.capacity = capacity, .period_ns = period_ns};
	j->deviation_ns = calloc(capacity, sizeof *j->deviation_ns);
	j->latency_ns = calloc(capacity, sizeof *j->latency_ns);
	return j->deviation_ns && j->latency_ns ? 0 : -1;
}

/* A tick that was due at `due_ns` arrived at `arrival_ns`, after `missed` ticks that never
 * did (their intervals are not counted: a miss shows in `missed`, not as jitter). */
static inline void jitter_add(struct jitter *j, uint64_t due_ns, uint64_t arrival_ns,
			      uint64_t missed)
{
	if (j->count == j->capacity)
		return;
	if (j->count != 0 && missed == 0) {
		int64_t deviation =
			(int64_t)(arrival_ns - j->last_arrival_ns) - (int64_t)j->period_ns;
		j->deviation_ns[j->intervals++] = deviation < 0 ? -deviation : deviation;
	}
	j->latency_ns[j->count] = (int64_t)(arrival_ns - due_ns);
	j->count++;
	j->missed += missed;
	j->last_arrival_ns = arrival_ns;
}

static int jitter_compare(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static inline double jitter_percentile_us(int64_t *values, unsigned count, double fraction)
{
	if (count == 0)
		return 0;
	qsort(values, count, sizeof *values, jitter_compare);
	unsigned index = (unsigned)(fraction * (count - 1) + 0.5);
	return (double)values[index] / 1000.0;
}

/* "jitter p50 A p99 B max C us latency p50 D p99 E max F us ticks N missed M" */
static inline void jitter_print(const char *who, struct jitter *j)
{
	printf("%s: jitter p50 %.1f p99 %.1f max %.1f us", who,
	       jitter_percentile_us(j->deviation_ns, j->intervals, 0.5),
	       jitter_percentile_us(j->deviation_ns, j->intervals, 0.99),
	       jitter_percentile_us(j->deviation_ns, j->intervals, 1.0));
	printf(" latency p50 %.1f p99 %.1f max %.1f us ticks %u missed %llu\n",
	       jitter_percentile_us(j->latency_ns, j->count, 0.5),
	       jitter_percentile_us(j->latency_ns, j->count, 0.99),
	       jitter_percentile_us(j->latency_ns, j->count, 1.0), j->count,
	       (unsigned long long)j->missed);
	free(j->deviation_ns);
	free(j->latency_ns);
}

#endif
