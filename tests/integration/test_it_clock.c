/* The kernel's clock in a real packosd: every subscriber of a tick receives the same
 * frame, shared; a subscriber that falls behind is told how many ticks it missed; one
 * killed with SIGKILL while it holds ticks gives every frame back; and the daemon's timer
 * runs only while somebody is subscribed. it-ticker (programs/) prints what it got. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

enum { SUBSCRIBERS = 6, MAX_TICKS = 64, RUN_TIMEOUT_MS = 30000 };

struct tick_line {
	unsigned long long tick;
	unsigned frame, lost, shared;
};

/* The "tick" lines of an it-ticker's output. */
static unsigned parse_ticks(const char *out, struct tick_line *ret, unsigned max)
{
	unsigned n = 0;
	for (const char *at = strstr(out, "it-ticker: tick "); at != NULL && n < max;
	     at = strstr(at + 1, "it-ticker: tick ")) {
		struct tick_line *t = &ret[n];
		if (sscanf(at, "it-ticker: tick %llu frame %u lost %u shared %u", &t->tick,
			   &t->frame, &t->lost, &t->shared) == 4)
			n++;
	}
	return n;
}

/* Each tick is a share; the ticks a subscriber skipped are the ones it was told it lost. */
static void expect_ticks_accounted(const struct tick_line *ticks, unsigned count,
				   unsigned long long *ret_lost)
{
	unsigned long long lost = 0;
	for (unsigned i = 0; i < count; i++) {
		assert_int_equal(ticks[i].shared, 1);
		if (i > 0) {
			assert_true(ticks[i].tick > ticks[i - 1].tick);
			assert_int_equal(ticks[i].tick - ticks[i - 1].tick - 1, ticks[i].lost);
			lost += ticks[i].lost;
		}
	}
	*ret_lost = lost;
}

static void clock_counters(struct harness *h, long long *ret_ticks, long long *ret_subscribers,
			   long long *ret_missed)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	harness_expect_status(&r, 0);
	assert_true(harness_json_num(r.out, "clock.ticks", ret_ticks));
	assert_true(harness_json_num(r.out, "clock.subscribers", ret_subscribers));
	if (ret_missed)
		assert_true(harness_json_num(r.out, "clock.ticks_missed", ret_missed));
	harness_result_free(&r);
}

static void test_every_subscriber_gets_the_same_frame_per_tick(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--tick-us", "20000", NULL}};
	struct harness *h = harness_start(&opt);
	struct harness_job jobs[SUBSCRIBERS];
	for (unsigned i = 0; i < SUBSCRIBERS; i++)
		harness_ctl_start(h, &jobs[i], "run", "it-ticker", "--", "40", NULL);
	static struct tick_line ticks[SUBSCRIBERS][MAX_TICKS];
	unsigned counts[SUBSCRIBERS];
	for (unsigned i = 0; i < SUBSCRIBERS; i++) {
		struct harness_result r;
		harness_job_wait(&jobs[i], RUN_TIMEOUT_MS, &r);
		harness_expect_status(&r, 0);
		harness_expect(r.out, "it-ticker: period 20000000 ns");
		harness_expect(r.out, "it-ticker: done");
		counts[i] = parse_ticks(r.out, ticks[i], MAX_TICKS);
		assert_int_equal(counts[i], 40);
		unsigned long long lost;
		expect_ticks_accounted(ticks[i], counts[i], &lost);
		harness_result_free(&r);
	}
	/* Whoever got tick T got it in the same frame: one frame per tick, shared. The runs
	 * overlap, so many ticks were seen by every subscriber. */
	unsigned seen_by_all = 0;
	for (unsigned k = 0; k < counts[0]; k++) {
		unsigned seen = 1;
		for (unsigned i = 1; i < SUBSCRIBERS; i++) {
			for (unsigned j = 0; j < counts[i]; j++) {
				if (ticks[i][j].tick != ticks[0][k].tick)
					continue;
				assert_int_equal(ticks[i][j].frame, ticks[0][k].frame);
				seen++;
			}
		}
		seen_by_all += seen == SUBSCRIBERS;
	}
	print_message("%u of %u ticks were seen by all %u subscribers\n", seen_by_all, counts[0],
		      SUBSCRIBERS);
	assert_true(seen_by_all >= 10);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

static void test_a_slow_subscriber_is_told_what_it_missed(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--tick-us", "5000", NULL}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-ticker", "--", "10", "slow=40", NULL);
	harness_expect_status(&r, 0);
	struct tick_line ticks[MAX_TICKS];
	unsigned count = parse_ticks(r.out, ticks, MAX_TICKS);
	assert_int_equal(count, 10);
	unsigned long long lost;
	expect_ticks_accounted(ticks, count, &lost);
	/* 40 ms between reads of a 5 ms clock: about 7 missed each time. */
	assert_true(lost >= 9 * 3);
	harness_result_free(&r);
	long long total, subscribers, missed;
	clock_counters(h, &total, &subscribers, &missed);
	assert_true((unsigned long long)missed >= lost);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

static void test_a_subscriber_killed_holding_ticks_gives_every_frame_back(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--tick-us", "10000", NULL}};
	struct harness *h = harness_start(&opt);
	struct harness_job holder, other;
	harness_ctl_start(h, &holder, "run", "it-ticker", "--", "30", "hold", NULL);
	/* Started, and so named it-ticker-1, before the other. */
	harness_job_wait_output(&holder, "it-ticker: period", RUN_TIMEOUT_MS);
	harness_ctl_start(h, &other, "run", "it-ticker", "--", "100", NULL);
	harness_job_wait_output(&holder, "it-ticker: holding 30", RUN_TIMEOUT_MS);
	struct harness_frames frames;
	harness_frames(h, &frames);
	assert_true(frames.conserved);
	assert_true(frames.shared >= 30);
	harness_kill_run(h, &holder, "it-ticker-1");
	/* The other subscriber goes on undisturbed. */
	struct harness_result r;
	harness_job_wait(&other, RUN_TIMEOUT_MS, &r);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "it-ticker: done");
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

static void test_the_timer_runs_only_while_somebody_is_subscribed(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--tick-us", "2000", NULL}};
	struct harness *h = harness_start(&opt);
	long long before, after, subscribers;
	clock_counters(h, &before, &subscribers, NULL);
	harness_sleep_ms(50);
	clock_counters(h, &after, &subscribers, NULL);
	assert_int_equal(before, 0);
	assert_int_equal(after, 0);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-ticker", "--", "20", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	/* The first expiry with nobody subscribed stops the timer. */
	harness_sleep_ms(20);
	clock_counters(h, &before, &subscribers, NULL);
	assert_int_equal(subscribers, 0);
	assert_true(before >= 20);
	harness_sleep_ms(50);
	clock_counters(h, &after, &subscribers, NULL);
	assert_int_equal(after, before);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)
		T(test_every_subscriber_gets_the_same_frame_per_tick),
		T(test_a_slow_subscriber_is_told_what_it_missed),
		T(test_a_subscriber_killed_holding_ticks_gives_every_frame_back),
		T(test_the_timer_runs_only_while_somebody_is_subscribed),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
