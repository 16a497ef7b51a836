/* Echo round trips through a real packosd: kan-ping to kan-echo, 200 requests back to back,
 * all answered, in both isolation modes; the kernel counted every packet, and every frame
 * is back in the pool afterwards. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void ping_echo_200_times(const char *isolation)
{
	struct harness_options opt = {.args = {"--isolation", isolation}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;

	harness_ctl_json(h, &r, "status", NULL);
	char mode[16];
	assert_true(harness_json_str(r.out, "daemon.isolation", mode, sizeof mode));
	assert_string_equal(mode, isolation);
	harness_result_free(&r);

	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "200", "-i", "0", "-q", "fd6b:616e::7",
		    NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "200 packets transmitted, 200 received, 0% packet loss");
	harness_expect(r.out, "rtt min/avg/max = ");
	harness_result_free(&r);

	/* 200 requests and 200 answers, each sent once and received once. */
	harness_ctl_json(h, &r, "counters", NULL);
	long long sent, received, faults;
	assert_true(harness_json_num(r.out, "kernel.packets_sent", &sent));
	assert_true(harness_json_num(r.out, "kernel.packets_received", &received));
	assert_true(harness_json_num(r.out, "kernel.faults", &faults));
	assert_int_equal(sent, 400);
	assert_int_equal(received, 400);
	assert_int_equal(faults, 0);
	harness_result_free(&r);

	harness_wait_log(h, "kan-ping-1 (pid ", 1, 1000);
	assert_int_equal(harness_log_count(h, "exited with status 0; reclaimed"), 1);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

static void test_ping_echo_in_remap_mode_loses_nothing(void **state)
{
	(void)state;
	ping_echo_200_times("remap");
}

static void test_ping_echo_in_shared_mode_loses_nothing(void **state)
{
	(void)state;
	ping_echo_200_times("shared");
}

/* Bigger packets, up to a whole frame, come back whole. */
static void test_ping_echo_with_full_frames(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "20", "-i", "0", "-s", "4048",
		    "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "4056 bytes from fd6b:616e::7: icmp_seq=20");
	harness_expect(r.out, "0% packet loss");
	harness_result_free(&r);
	harness_stop(h);
}

/* Two askers at once, each answered on its own: none gets the other's answers. */
static void test_two_pingers_at_once_each_get_their_answers(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_job a, b;
	harness_ctl_start(h, &a, "run", "kan-ping", "--", "-c", "300", "-i", "0", "-q",
			  "fd6b:616e::7", NULL);
	harness_ctl_start(h, &b, "run", "kan-ping", "--", "-c", "300", "-i", "0", "-q",
			  "fd6b:616e::7", NULL);
	struct harness_result r;
	harness_job_wait(&a, 30000, &r);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "300 packets transmitted, 300 received, 0% packet loss");
	harness_result_free(&r);
	harness_job_wait(&b, 30000, &r);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "300 packets transmitted, 300 received, 0% packet loss");
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ping_echo_in_remap_mode_loses_nothing,
					  harness_teardown),
		cmocka_unit_test_teardown(test_ping_echo_in_shared_mode_loses_nothing,
					  harness_teardown),
		cmocka_unit_test_teardown(test_ping_echo_with_full_frames, harness_teardown),
		cmocka_unit_test_teardown(test_two_pingers_at_once_each_get_their_answers,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
