/* Death, however it comes: a kill -9 from outside of a process holding and queuing frames,
 * processes that die in the middle of a kernel call, and the daemon's own stop with
 * processes still running, one of them ignoring SIGTERM. Whatever a dead process held is
 * back in the pool once its exit is reaped, and its addresses are gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"

static void ping_echo(struct harness *h)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "5", "-i", "0", "-q", "fd6b:616e::7",
		    NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
}

static long long ps_field(struct harness *h, const char *name, const char *field)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "ps", NULL);
	harness_expect_status(&r, 0);
	long long value = -1;
	for (int i = 0; i < harness_json_len(r.out, "processes"); i++) {
		char path[64], row[32];
		snprintf(path, sizeof path, "processes.%d.name", i);
		if (!harness_json_str(r.out, path, row, sizeof row) || strcmp(row, name) != 0)
			continue;
		snprintf(path, sizeof path, "processes.%d.%s", i, field);
		assert_true(harness_json_num(r.out, path, &value));
	}
	harness_result_free(&r);
	return value;
}

static void test_kill_9_from_outside_reclaims_owned_and_queued_frames(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "hog it-hog address=::31 -- -a 100 -s 50\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "hog: ready", 1, 5000);
	char *log = harness_log_read(h);
	harness_expect(log, "hog: allocated 100 of 100: ok");
	harness_expect(log, "hog: sent 50 of 50: ok");
	free(log);

	/* It owns 100 frames, and the 50 packets it sent itself wait in its queue. */
	assert_int_equal(ps_field(h, "hog", "frames"), 100);
	assert_int_equal(ps_field(h, "hog", "queued"), 50);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_int_equal(f.owned, 100);
	assert_int_equal(f.queued, 50);
	assert_int_equal(f.free, f.total - 150);

	pid_t pid = harness_pid_of(h, "hog");
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	harness_wait_all_frames_free(h, 2000);
	harness_wait_log(h, "killed by signal 9 (Killed); reclaimed", 1, 1000);
	assert_int_equal(ps_field(h, "hog", "pid"), -1);

	/* Its address died with it. */
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "2", "-i", "0", "fd6b:616e::31", NULL);
	assert_int_not_equal(r.status, 0);
	assert_int_equal(harness_count(r.out, "no endpoint has that KAN address"), 2);
	harness_result_free(&r);
	harness_ctl_json(h, &r, "counters", NULL);
	long long unreachable;
	assert_true(harness_json_num(r.out, "errors.EHOSTUNREACH", &unreachable));
	assert_int_equal(unreachable, 2);
	harness_result_free(&r);
	ping_echo(h);
	harness_stop(h);
}

/* A tracer (strace, gdb) sees a death first and holds the zombie until it reaps it; the
 * daemon, told of the exit by the pidfd before it can reap, must still reap and reclaim
 * once the tracer lets go. */
static void test_death_under_a_tracer_is_reaped_once_the_tracer_lets_go(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "traced it-hog -- -a 10 -s 5\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "traced: ready", 1, 5000);
	pid_t pid = harness_pid_of(h, "traced");
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
		int err = errno;
		harness_stop(h);
		harness_require_failed(err == EPERM ? "ptrace is not permitted here"
						    : "ptrace failed");
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	harness_sleep_ms(50); /* the daemon hears of the exit, and cannot reap it yet */
	int64_t deadline = harness_now_ms() + 5000;
	int wstatus = 0;
	pid_t reaped;
	while ((reaped = waitpid(pid, &wstatus, WNOHANG | __WALL)) == 0 &&
	       harness_now_ms() < deadline)
		harness_sleep_ms(1);
	assert_int_equal(reaped, pid);
	assert_true(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
	harness_wait_all_frames_free(h, 2000);
	harness_wait_log(h, "traced (pid", 2, 1000);
	assert_int_equal(harness_log_count(h, "killed by signal 9 (Killed); reclaimed"), 1);
	harness_stop(h);
}

static void test_dying_in_the_middle_of_a_call_loses_nothing(void **state)
{
	(void)state;
	static const struct {
		const char *mode;
		int status;
	} modes[] = {
		{"send-exit", 0},   {"send-kill", 137},	   {"batch-kill", 137},
		{"recv-kill", 137}, {"timeout-kill", 137}, {"pair-kill", 137},
	};
	struct harness *h = harness_start(NULL);
	for (int round = 0; round < 12; round++) {
		for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
			struct harness_result r;
			harness_ctl(h, &r, "run", "it-die-mid-call", "--", modes[i].mode,
				    "fd6b:616e::7", NULL);
			if (r.status != modes[i].status)
				print_error("mode %s, round %d\n", modes[i].mode, round);
			harness_expect_status(&r, modes[i].status);
			harness_result_free(&r);
		}
	}
	harness_wait_all_frames_free(h, 2000);
	assert_int_equal(harness_log_count(h, "faulted"), 0);
	ping_echo(h);
	harness_stop(h);
}

static void test_stop_with_processes_running_leaves_nothing(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "a it-hog -- -a 10 -s 5\n"
						  "b it-hog -- -a 20 -d fd6b:616e::7\n"
						  "c it-hog -- -s 7 -d fd6b:616e::1:0\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, ": ready", 3, 5000);
	harness_pid_of(h, "");
	assert_true(h->pid_count >= 4);
	harness_stop(h);
	char *log = harness_log_read(h);
	harness_expect(log, "stopping: 4 processes to stop");
	assert_int_equal(harness_count(log, "killed by signal 15 (Terminated); reclaimed"), 4);
	free(log);
}

static void test_stop_kills_a_process_that_ignores_sigterm_after_2_s(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "stubborn it-hog -- -T -a 5 -s 5\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "stubborn: ready", 1, 5000);
	int64_t start = harness_now_ms();
	harness_stop(h);
	int64_t took = harness_now_ms() - start;
	char *log = harness_log_read(h);
	assert_int_equal(harness_count_lines(log, "stubborn (pid",
					     "ignored SIGTERM for 2 s; killing it", NULL),
			 1);
	assert_int_equal(harness_count_lines(log, "stubborn (pid", "killed by signal 9", NULL), 1);
	assert_int_equal(harness_count_lines(log, "echo (pid", "killed by signal 15", NULL), 1);
	free(log);
	if (took < 1900 || took > 6000)
		fail_msg("the stop took %lld ms; the grace period is 2 s", (long long)took);
}

/* While it stops, the daemon still answers, says so, and starts nothing new. */
static void test_stopping_daemon_refuses_new_processes(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "stubborn it-hog -- -T -a 5\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "stubborn: ready", 1, 5000);
	struct harness_job job;
	harness_ctl_start(h, &job, "run", "it-hog", "--", "-a", "3", NULL);
	harness_job_wait_output(&job, "it-hog-1: ready", 5000);
	harness_pid_of(h, "");

	assert_int_equal(kill(h->daemon, SIGTERM), 0);
	harness_wait_log(h, "stopping: 3 processes to stop", 1, 1000);
	struct harness_result r;
	harness_ctl_json(h, &r, "status", NULL);
	harness_expect_status(&r, 0);
	bool stopping = false;
	assert_true(harness_json_bool(r.out, "daemon.stopping", &stopping));
	assert_true(stopping);
	harness_result_free(&r);
	harness_ctl(h, &r, "spawn", "late", "it-hog", NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "packosd is stopping");
	harness_result_free(&r);
	/* The run that waited ends as its program did: by the stop's SIGTERM. */
	harness_job_wait(&job, 5000, &r);
	harness_expect_status(&r, 128 + 15);
	harness_result_free(&r);

	harness_wait_exit(h, 6000);
	harness_stop(h);
	assert_int_equal(harness_log_count(h, "ignored SIGTERM for 2 s; killing it"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kill_9_from_outside_reclaims_owned_and_queued_frames,
					  harness_teardown),
		cmocka_unit_test_teardown(
			test_death_under_a_tracer_is_reaped_once_the_tracer_lets_go,
			harness_teardown),
		cmocka_unit_test_teardown(test_dying_in_the_middle_of_a_call_loses_nothing,
					  harness_teardown),
		cmocka_unit_test_teardown(test_stop_with_processes_running_leaves_nothing,
					  harness_teardown),
		cmocka_unit_test_teardown(test_stop_kills_a_process_that_ignores_sigterm_after_2_s,
					  harness_teardown),
		cmocka_unit_test_teardown(test_stopping_daemon_refuses_new_processes,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
