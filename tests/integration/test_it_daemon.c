/* The daemon's own life: one instance per control socket, --daemon returning once serving
 * with its pid file, and every way to stop it (SIGTERM, SIGINT, packosctl stop) leaving
 * nothing behind. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static long long daemon_pid(struct harness *h)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "status", NULL);
	harness_expect_status(&r, 0);
	long long pid;
	assert_true(harness_json_num(r.out, "daemon.pid", &pid));
	harness_result_free(&r);
	return pid;
}

static void test_second_instance_on_the_same_socket_is_refused(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	const char *argv[] = {PACKOSD_PATH, "--control", h->socket,
			      "--manifest", h->manifest, NULL};
	struct harness_result r;
	harness_exec(argv, 5000, &r);
	harness_expect_status(&r, 1);
	char said[512];
	snprintf(said, sizeof said, "packosd: another packosd (pid %d) is running on %s\n",
		 (int)h->daemon, h->socket);
	harness_expect(r.err, said);
	harness_result_free(&r);

	/* The first one never noticed: same daemon, same processes, still serving. */
	assert_int_equal(daemon_pid(h), h->daemon);
	ping_echo(h);
	assert_int_equal(harness_log_count(h, "started echo"), 1);
	harness_stop(h);
}

static void test_daemon_mode_returns_once_serving_and_removes_its_pid_file(void **state)
{
	(void)state;
	struct harness_options opt = {.detach = true};
	struct harness *h = harness_start(&opt); /* checks the return and the pid file */
	assert_int_equal(daemon_pid(h), h->daemon);
	assert_int_equal(access(h->pid_file, F_OK), 0);
	ping_echo(h);
	harness_stop(h); /* SIGTERM; checks the pid file is gone */
}

static void test_sigint_stops_like_sigterm(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "echo kan-echo address=::7\n"
						  "hog it-hog -- -a 3 -s 3\n"};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "hog: ready", 1, 5000);
	h->stop_signal = SIGINT;
	harness_stop(h);
	assert_int_equal(harness_log_count(h, "Interrupt received"), 1);
}

static void test_packosctl_stop_stops_it(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--pid-file", "@/packosd.pid"}};
	struct harness *h = harness_start(&opt);
	assert_int_equal(access(h->pid_file, F_OK), 0);
	struct harness_result r;
	harness_ctl_json(h, &r, "stop", NULL);
	harness_expect_status(&r, 0);
	long long processes;
	assert_true(harness_json_num(r.out, "stopping.processes", &processes));
	assert_int_equal(processes, 1);
	harness_result_free(&r);
	harness_wait_exit(h, 5000);
	harness_stop(h);
}

/* A start that fails (here: the manifest's second program is missing) stops what it had
 * started and removes its socket and lock; the checks after the stop of the daemon this
 * test also runs find no orphan of it and no memfd. */
static void test_failed_boot_leaves_nothing(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	char manifest[HARNESS_PATH_SIZE], sock[HARNESS_PATH_SIZE], lock[HARNESS_PATH_SIZE + 8];
	harness_path(h, "broken-manifest", manifest, sizeof manifest);
	harness_path(h, "broken.sock", sock, sizeof sock);
	snprintf(lock, sizeof lock, "%s.lock", sock);
	FILE *f = fopen(manifest, "w");
	assert_non_null(f);
	fputs("early kan-echo address=::7\nmissing no-such-program\n", f);
	fclose(f);
	const char *argv[] = {PACKOSD_PATH, "--control", sock,		"--manifest",
			      manifest,	    "--path",	 IT_SERVER_DIR, NULL};
	struct harness_result r;
	harness_exec(argv, 10000, &r);
	harness_expect_status(&r, 1);
	harness_expect(r.err,
		       "boot: missing: program 'no-such-program': No such file or directory");
	harness_expect(r.err, "early (pid ");
	harness_expect(r.err, "killed by signal 15 (Terminated); reclaimed");
	harness_result_free(&r);
	assert_int_not_equal(access(sock, F_OK), 0);
	assert_int_not_equal(access(lock, F_OK), 0);

	const char *bad_pcap[] = {PACKOSD_PATH, "--control",	       sock,
				  "--pcap",	"/nonexistent/x.pcap", NULL};
	harness_exec(bad_pcap, 10000, &r);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "/nonexistent/x.pcap");
	harness_result_free(&r);
	assert_int_not_equal(access(sock, F_OK), 0);
	assert_int_not_equal(access(lock, F_OK), 0);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_second_instance_on_the_same_socket_is_refused,
					  harness_teardown),
		cmocka_unit_test_teardown(
			test_daemon_mode_returns_once_serving_and_removes_its_pid_file,
			harness_teardown),
		cmocka_unit_test_teardown(test_sigint_stops_like_sigterm, harness_teardown),
		cmocka_unit_test_teardown(test_packosctl_stop_stops_it, harness_teardown),
		cmocka_unit_test_teardown(test_failed_boot_leaves_nothing, harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
