/* Misbehaving processes: garbage in the channel page, handles that are made up, stale or
 * someone else's, a spoofed source address. Each offender gets the error or the fault
 * include/packos/errors.h assigns (a fault: killed with SIGKILL, logged once), and the
 * daemon, the echo server and every frame come through. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/sim_channel.h>

#include "harness.h"

enum { KILLED = 128 + 9 };

/* The echo server still answers, every frame is free, the audit passes. */
static void expect_all_well(struct harness *h)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "20", "-i", "0", "-q", "fd6b:616e::7",
		    NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "0% packet loss");
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 2000);
}

static long long counter(struct harness *h, const char *path)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	long long value;
	assert_true(harness_json_num(r.out, path, &value));
	harness_result_free(&r);
	return value;
}

/* Runs the program, which must be faulted, and returns the log line saying why. */
static char *run_faulted(struct harness *h, const char *program, const char *arg, const char *name,
			 const char *said)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", program, "--", arg, NULL);
	harness_expect_status(&r, KILLED);
	if (said != NULL)
		harness_expect(r.out, said);
	assert_null(strstr(r.out, "survived"));
	harness_result_free(&r);
	char *log = harness_log_read(h);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s (pid ", name);
	assert_int_equal(harness_count_lines(log, prefix, "faulted: ", NULL), 1);
	/* The fault is its death notice: no second line for the exit. */
	assert_int_equal(harness_count_lines(log, prefix, "killed by signal", NULL), 0);
	return log;
}

static void test_garbage_in_the_channel_faults_the_process_once(void **state)
{
	(void)state;
	enum { SEEDS = 24 };
	struct harness *h = harness_start(NULL);
	for (int seed = 1; seed <= SEEDS; seed++) {
		char arg[16], name[32];
		snprintf(arg, sizeof arg, "%d", seed);
		snprintf(name, sizeof name, "it-garbage-%d", seed);
		struct harness_result r;
		harness_ctl(h, &r, "run", "it-garbage", "--", "random", arg, NULL);
		if (r.status != KILLED)
			print_error("seed %d\n", seed);
		harness_expect_status(&r, KILLED);
		harness_result_free(&r);
		char *log = harness_log_read(h);
		char prefix[64];
		snprintf(prefix, sizeof prefix, "%s (pid ", name);
		if (harness_count_lines(log, prefix, "faulted: ", NULL) != 1)
			harness_expect(log, "one fault line for that seed");
		free(log);
	}
	assert_int_equal(counter(h, "daemon.faulted"), SEEDS);
	expect_all_well(h);
	harness_stop(h);
}

static void test_more_slots_than_the_ring_holds_is_a_fault(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	char said[64], logged[96];
	snprintf(said, sizeof said, "publishing %u slots", PK_CHANNEL_SLOTS + 1);
	snprintf(logged, sizeof logged,
		 "faulted: channel: ring 0: %u call slots published at once; it holds %u",
		 PK_CHANNEL_SLOTS + 1, PK_CHANNEL_SLOTS);
	char *log = run_faulted(h, "it-garbage", "jump", "it-garbage-1", said);
	harness_expect(log, logged);
	free(log);
	expect_all_well(h);
	harness_stop(h);
}

static void test_bad_slot_and_call_flags_are_errors_not_faults(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-garbage", "--", "flags", NULL);
	harness_expect_status(&r, 0);
	assert_null(strstr(r.out, "unexpected"));
	harness_expect(r.out, "unknown slot flag: invalid argument");
	harness_expect(r.out, "linked after a failure: not run: an earlier linked call failed");
	harness_expect(r.out, "frame_free afterwards: success");
	harness_result_free(&r);
	assert_int_equal(harness_log_count(h, "faulted"), 0);
	expect_all_well(h);
	harness_stop(h);
}

static void bad_handle(const char *mode)
{
	struct harness *h = harness_start(NULL);
	char *log = run_faulted(h, "it-bad-handle", mode, "it-bad-handle-1", "frame_free(");
	harness_expect(log, "faulted: kernel call frame_free: EBADHANDLE; killing it");
	free(log);
	assert_int_equal(counter(h, "errors.EBADHANDLE"), 1);
	assert_int_equal(counter(h, "kernel.faults"), 1);
	expect_all_well(h); /* with the three frames it held back in the pool */
	harness_stop(h);
}

static void test_made_up_handle_is_a_fault(void **state)
{
	(void)state;
	bad_handle("made-up");
}

static void test_stale_handle_is_a_fault(void **state)
{
	(void)state;
	bad_handle("stale");
}

static void test_handle_of_another_kind_is_a_fault(void **state)
{
	(void)state;
	bad_handle("wrong-kind");
}

static void test_freeing_another_process_frame_faults_only_the_thief(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "thief it-bad-handle address=::40 -- steal\n"};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-bad-handle", "--", "lend", "fd6b:616e::40", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "the thief is gone; freeing my frame: ok");
	harness_result_free(&r);
	char *log = harness_log_read(h);
	assert_int_equal(harness_count_lines(log, "thief (pid", "faulted: ", NULL), 1);
	harness_expect(log, "faulted: kernel call frame_free: ENOTOWNER; killing it");
	free(log);
	assert_int_equal(counter(h, "errors.ENOTOWNER"), 1);
	expect_all_well(h);
	harness_stop(h);
}

static void test_spoofed_source_is_an_error_not_a_fault(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-spoof", "--", "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	assert_int_equal(harness_count(r.out, "source address is not the sender's (ESOURCE), "
					      "frame still mine and intact"),
			 3);
	harness_expect(r.out, "honest send: answered");
	harness_result_free(&r);
	assert_int_equal(counter(h, "errors.ESOURCE"), 3);
	assert_int_equal(harness_log_count(h, "faulted"), 0);
	assert_int_equal(harness_log_count(h, "it-spoof-1 (pid"), 2); /* started, exited */
	expect_all_well(h);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_garbage_in_the_channel_faults_the_process_once,
					  harness_teardown),
		cmocka_unit_test_teardown(test_more_slots_than_the_ring_holds_is_a_fault,
					  harness_teardown),
		cmocka_unit_test_teardown(test_bad_slot_and_call_flags_are_errors_not_faults,
					  harness_teardown),
		cmocka_unit_test_teardown(test_made_up_handle_is_a_fault, harness_teardown),
		cmocka_unit_test_teardown(test_stale_handle_is_a_fault, harness_teardown),
		cmocka_unit_test_teardown(test_handle_of_another_kind_is_a_fault, harness_teardown),
		cmocka_unit_test_teardown(test_freeing_another_process_frame_faults_only_the_thief,
					  harness_teardown),
		cmocka_unit_test_teardown(test_spoofed_source_is_an_error_not_a_fault,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
