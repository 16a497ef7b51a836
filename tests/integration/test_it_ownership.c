/* Ownership moves with the frame: a packet arrives in the very frame it was written in
 * (the same pool number, the same physical page), and a frame is gone from its sender once
 * sent, so that in the remap mode a write to it afterwards is a SIGSEGV, and in the shared
 * mode the write goes through, unprotected. */
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

/* "NAME: frame=N pfn=P" from a line of `text` starting with NAME. */
static void frame_line(const char *text, const char *name, unsigned *ret_frame,
		       unsigned long long *ret_pfn)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s: frame=", name);
	const char *line = text ? strstr(text, prefix) : NULL;
	if (line == NULL || sscanf(line + strlen(prefix), "%u pfn=%llu", ret_frame, ret_pfn) != 2)
		harness_expect(text, prefix);
}

static void zero_copy(const char *isolation)
{
	struct harness_options opt = {.args = {"--isolation", isolation}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;

	harness_ctl(h, &r, "spawn", "rx", "it-zero-copy-receiver", "address=::20", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_pid_of(h, "rx");
	harness_ctl(h, &r, "run", "it-zero-copy-sender", "--", "fd6b:616e::20", "3000", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "sender: sent");
	unsigned sender_frame, receiver_frame;
	unsigned long long sender_pfn, receiver_pfn;
	frame_line(r.out, "sender", &sender_frame, &sender_pfn);
	harness_result_free(&r);

	harness_wait_log(h, "rx (pid", 2, 5000); /* started, then exited */
	char *log = harness_log_read(h);
	harness_expect(log, "receiver: pattern ok (3000 bytes)");
	assert_int_equal(harness_count_lines(log, "rx (pid", "exited with status 0", NULL), 1);
	frame_line(log, "receiver", &receiver_frame, &receiver_pfn);
	free(log);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);

	assert_int_equal(sender_frame, receiver_frame);
	if (sender_pfn == 0 || receiver_pfn == 0)
		harness_require_failed("/proc/self/pagemap shows no physical frames here "
				       "(it needs CAP_SYS_ADMIN); only pool numbers compared");
	assert_int_equal(sender_pfn, receiver_pfn);
}

static void test_zero_copy_same_frame_both_sides_in_remap_mode(void **state)
{
	(void)state;
	zero_copy("remap");
}

static void test_zero_copy_same_frame_both_sides_in_shared_mode(void **state)
{
	(void)state;
	zero_copy("shared");
}

static void test_use_after_send_is_sigsegv_in_remap_mode(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-use-after-send", "--", "fd6b:616e::7", NULL);
	harness_expect_status(&r, 128 + 11);
	harness_expect(r.out, "then writing to it");
	assert_null(strstr(r.out, "survived"));
	harness_result_free(&r);

	/* A signal death, logged as one and not as a fault; the frame it kept, and the echo's
	 * answer if it came in time, are reclaimed. */
	char *log = harness_log_read(h);
	assert_int_equal(harness_count_lines(log, "it-use-after-send-1 (pid",
					     "killed by signal 11 (Segmentation fault); reclaimed",
					     NULL),
			 1);
	assert_null(strstr(log, "faulted"));
	free(log);
	harness_wait_all_frames_free(h, 1000);

	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "3", "-i", "0", "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_stop(h);
}

static void test_use_after_send_goes_through_in_shared_mode(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--isolation", "shared"}};
	struct harness *h = harness_start(&opt);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-use-after-send", "--", "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "survived the write after send");
	/* Zero copy, visibly: the echo answered with the frame the sender still wrote to. */
	harness_expect(r.out, "carrying the write made after the send");
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_zero_copy_same_frame_both_sides_in_remap_mode,
					  harness_teardown),
		cmocka_unit_test_teardown(test_zero_copy_same_frame_both_sides_in_shared_mode,
					  harness_teardown),
		cmocka_unit_test_teardown(test_use_after_send_is_sigsegv_in_remap_mode,
					  harness_teardown),
		cmocka_unit_test_teardown(test_use_after_send_goes_through_in_shared_mode,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
