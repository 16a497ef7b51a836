/* Threads in a real packosd: threads of one process ping-pong between its own endpoints;
 * threads of one process talk to another process at once, each through its own ring; a
 * pool of threads serves one endpoint through contexts, every packet reaching exactly one;
 * one context waits on three endpoints; the limits of rings and contexts; and a process
 * killed with threads parked in the daemon gives every frame back. it-threads
 * (programs/) does the work and says what it saw. */
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

enum { RUN_TIMEOUT_MS = 60000 };

static void run_mode(const char *mode, const char *count, const char *expect)
{
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-threads", "--", mode, count, NULL);
	print_message("%s", r.out);
	harness_expect_status(&r, 0);
	harness_expect(r.out, expect);
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

static long long parked_receives(struct harness *h)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	long long parked = 0;
	assert_true(harness_json_num(r.out, "daemon.parked", &parked));
	harness_result_free(&r);
	return parked;
}

static void test_threads_ping_pong_inside_a_process(void **state)
{
	(void)state;
	run_mode("inside", "2000", "it-threads: inside ok 2000 round trips");
}

static void test_threads_talk_to_another_process_at_once(void **state)
{
	(void)state;
	run_mode("across", "1000", "it-threads: across ok 4 threads, 4000 round trips");
}

static void test_a_pool_of_threads_serves_one_endpoint(void **state)
{
	(void)state;
	run_mode("pool", "5000", "it-threads: pool ok 5000 packets, each once");
}

static void test_one_context_waits_on_three_endpoints(void **state)
{
	(void)state;
	run_mode("any", "1000", "it-threads: any ok 3000 packets");
}

static void test_rings_and_contexts_run_out_cleanly(void **state)
{
	(void)state;
	run_mode("limits", "0",
		 "it-threads: limits ok 15 threads then per-process limit reached, 16 contexts "
		 "then per-process limit reached");
}

static void test_an_endpoint_bound_during_a_wait_wakes_it(void **state)
{
	(void)state;
	run_mode("late-bind", "0", "it-threads: late-bind ok");
}

static void test_destroying_a_context_ends_the_waits_on_it(void **state)
{
	(void)state;
	run_mode("closed", "0", "it-threads: closed ok");
}

static void test_a_process_killed_with_parked_threads_gives_everything_back(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	long long parked_before = parked_receives(h);
	struct harness_job job;
	harness_ctl_start(h, &job, "run", "it-threads", "--", "park", NULL);
	harness_job_wait_output(&job, "it-threads: parked", RUN_TIMEOUT_MS);
	/* Killed only once all four threads wait in the daemon. */
	for (int tries = 0; parked_receives(h) < parked_before + 4; tries++) {
		assert_true(tries < 500);
		harness_sleep_ms(10);
	}
	struct harness_frames frames;
	harness_frames(h, &frames);
	assert_true(frames.owned >= 8);
	harness_kill_run(h, &job, "it-threads-1");
	harness_wait_all_frames_free(h, 2000);
	struct harness_result r;
	/* The daemon goes on serving. */
	harness_ctl(h, &r, "run", "it-threads", "--", "inside", "10", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)
		T(test_threads_ping_pong_inside_a_process),
		T(test_threads_talk_to_another_process_at_once),
		T(test_a_pool_of_threads_serves_one_endpoint),
		T(test_one_context_waits_on_three_endpoints),
		T(test_rings_and_contexts_run_out_cleanly),
		T(test_an_endpoint_bound_during_a_wait_wakes_it),
		T(test_destroying_a_context_ends_the_waits_on_it),
		T(test_a_process_killed_with_parked_threads_gives_everything_back),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
