/* Every resource a process can take has a limit, and here each is hit through a real
 * daemon: a process's frame quota, an endpoint's queue, the frame pool, the process
 * table. The one who hits it gets an error; nothing is lost, and `packosctl kill` gives
 * everything back before it answers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

/* Waits for it-hog `name` to say it is ready, and returns what it said. */
static char *hog_ready(struct harness *h, const char *name)
{
	char ready[64];
	snprintf(ready, sizeof ready, "%s: ready", name);
	harness_wait_log(h, ready, 1, 5000);
	harness_pid_of(h, name);
	return harness_log_read(h);
}

static void expect_spawned(struct harness_result *r)
{
	harness_expect_status(r, 0);
	harness_result_free(r);
}

/* packosctl kill answers once the process is reaped and reclaimed: no polling needed. */
static void kill_and_expect_all_free(struct harness *h, const char *name)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "kill", name, NULL);
	harness_expect_status(&r, 0);
	long long signal;
	assert_true(harness_json_num(r.out, "exit.signal", &signal));
	assert_int_equal(signal, 9);
	harness_result_free(&r);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_int_equal(f.free, f.total);
	assert_true(f.conserved);
	assert_string_equal(f.audit, "ok");
}

static void ping(struct harness *h, const char *address, int status, const char *said)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "2", "-i", "0", "-W", "0.2", address,
		    NULL);
	harness_expect_status(&r, status);
	harness_expect(r.out, said);
	harness_result_free(&r);
}

static void test_frame_quota_is_an_error_at_the_limit(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "spawn", "q", "it-hog", "quota=8", "--", "-a", "10", NULL);
	expect_spawned(&r);
	char *log = hog_ready(h, "q");
	harness_expect(log, "q: allocated 8 of 10: process frame quota reached");
	free(log);
	kill_and_expect_all_free(h, "q");
	harness_stop(h);
}

static void test_full_queue_refuses_senders_until_its_owner_goes(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--queue-limit", "16"}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "spawn", "full", "it-hog", "address=::50", "--", "-s", "20", NULL);
	expect_spawned(&r);
	char *log = hog_ready(h, "full");
	harness_expect(log, "full: sent 16 of 20: destination receive queue is full");
	free(log);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_int_equal(f.queued, 16);
	ping(h, "fd6b:616e::50", 2, "destination receive queue is full");
	kill_and_expect_all_free(h, "full");
	ping(h, "fd6b:616e::50", 2, "no endpoint has that KAN address");
	harness_stop(h);
}

static void test_empty_pool_is_an_error_for_everyone_until_freed(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--frames", "64"}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "spawn", "big", "it-hog", "--", "-a", "100", NULL);
	expect_spawned(&r);
	char *log = hog_ready(h, "big");
	harness_expect(log, "big: allocated 64 of 100: frame pool exhausted");
	free(log);
	ping(h, "fd6b:616e::7", 2, "frame pool exhausted");
	kill_and_expect_all_free(h, "big");
	ping(h, "fd6b:616e::7", 0, "0% packet loss");
	harness_stop(h);
}

static void test_full_process_table_refuses_a_spawn(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--max-procs", "3"}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "spawn", "one", "it-hog", NULL);
	expect_spawned(&r);
	harness_ctl(h, &r, "spawn", "two", "it-hog", NULL);
	expect_spawned(&r);
	harness_ctl(h, &r, "spawn", "three", "it-hog", NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "process table full (3 processes)");
	harness_result_free(&r);
	/* A `run` is a process too. */
	harness_ctl(h, &r, "run", "kan-ping", "--", "fd6b:616e::7", NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "process table full");
	harness_result_free(&r);
	kill_and_expect_all_free(h, "two");
	ping(h, "fd6b:616e::7", 0, "0% packet loss");
	harness_pid_of(h, "");
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_frame_quota_is_an_error_at_the_limit,
					  harness_teardown),
		cmocka_unit_test_teardown(test_full_queue_refuses_senders_until_its_owner_goes,
					  harness_teardown),
		cmocka_unit_test_teardown(test_empty_pool_is_an_error_for_everyone_until_freed,
					  harness_teardown),
		cmocka_unit_test_teardown(test_full_process_table_refuses_a_spawn,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
