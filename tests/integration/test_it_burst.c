/* The fast paths: bursts of calls (pk_*_burst) and the daemon's polling of busy programs.
 *
 * it-burst checks every burst call's success and error paths against a real kernel, and
 * it-deadlines that a receive's deadline holds while the daemon reuses one timeout per ring.
 * Polling must never lose a call: round trips go through with polling off, on, and with a
 * window so short that the daemon stops polling between almost every two calls, which is
 * when a program's publication and the daemon's last look race. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void test_burst_calls_succeed_and_fail_as_documented(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-burst", "quota=12", NULL);
	harness_expect(r.out, "it-burst: done, 0 failed");
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

/* A receive's deadline holds however the waits before it ended (it-deadlines). */
static void test_receive_deadlines_hold_however_earlier_waits_ended(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-deadlines", NULL);
	harness_expect(r.out, "it-deadlines: done, 0 failed");
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

static long long daemon_counter(struct harness *h, const char *name)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	char path[64];
	snprintf(path, sizeof path, "daemon.%s", name);
	long long value = -1;
	assert_true(harness_json_num(r.out, path, &value));
	harness_result_free(&r);
	return value;
}

/* 2,000 round trips with the daemon polling for `poll_us`; returns the batches it found
 * by polling, with no doorbell. */
static long long ping_with_polling(const char *poll_us, const char *isolation)
{
	struct harness_options opt = {.args = {"--poll-us", poll_us, "--isolation", isolation}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "2000", "-i", "0", "-q", "-W", "5",
		    "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "2000 packets transmitted, 2000 received, 0% packet loss");
	harness_result_free(&r);
	long long polled = daemon_counter(h, "polled_batches");
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
	return polled;
}

static void test_without_polling_every_call_rings(void **state)
{
	(void)state;
	assert_int_equal(ping_with_polling("0", "shared"), 0);
}

static void test_polling_takes_calls_without_doorbells(void **state)
{
	(void)state;
	assert_true(ping_with_polling("1000", "shared") > 0);
}

static void test_polling_takes_calls_without_doorbells_in_remap_mode(void **state)
{
	(void)state;
	assert_true(ping_with_polling("1000", "remap") > 0);
}

static void test_polling_that_stops_all_the_time_loses_nothing(void **state)
{
	(void)state;
	ping_with_polling("1", "shared");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_receive_deadlines_hold_however_earlier_waits_ended,
					  harness_teardown),
		cmocka_unit_test_teardown(test_burst_calls_succeed_and_fail_as_documented,
					  harness_teardown),
		cmocka_unit_test_teardown(test_without_polling_every_call_rings, harness_teardown),
		cmocka_unit_test_teardown(test_polling_takes_calls_without_doorbells,
					  harness_teardown),
		cmocka_unit_test_teardown(test_polling_takes_calls_without_doorbells_in_remap_mode,
					  harness_teardown),
		cmocka_unit_test_teardown(test_polling_that_stops_all_the_time_loses_nothing,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
