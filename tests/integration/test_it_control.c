/* packosctl's errors, as a user meets them: a process that is not there, spawn arguments
 * the daemon refuses (the message names the problem), programs that cannot be run, and
 * what a refused command leaves behind: nothing. Also what `kill` and `run` promise. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* packosctl ARGS must fail with `status`, saying `said` on stderr. */
#define EXPECT_REFUSED(h, status, said, ...)              \
	do {                                              \
		struct harness_result r_;                 \
		harness_ctl((h), &r_, __VA_ARGS__, NULL); \
		harness_expect_status(&r_, (status));     \
		harness_expect(r_.err, (said));           \
		assert_string_equal(r_.out, "");          \
		harness_result_free(&r_);                 \
	} while (0)

static void expect_only_echo(struct harness *h)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "ps", NULL);
	harness_expect_status(&r, 0);
	assert_int_equal(harness_json_len(r.out, "processes"), 1);
	harness_result_free(&r);
}

static void test_kill_of_an_unknown_process_is_an_error(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	EXPECT_REFUSED(h, 1, "packosctl: no process 'nope'", "kill", "nope");
	EXPECT_REFUSED(h, 1, "packosctl: no process '999999'", "kill", "999999");
	EXPECT_REFUSED(h, 2, "wrong number of arguments for kill", "kill");
	expect_only_echo(h);
	harness_stop(h);
}

static void test_bad_spawn_arguments_name_the_problem(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	EXPECT_REFUSED(h, 1, "unknown key in 'foo=bar'", "spawn", "x", "kan-echo", "foo=bar");
	EXPECT_REFUSED(h, 1, "bad IPv6 address in 'address=zz'", "spawn", "x", "kan-echo",
		       "address=zz");
	EXPECT_REFUSED(h, 1, "2001:db8::1", "spawn", "x", "kan-echo", "address=2001:db8::1");
	EXPECT_REFUSED(h, 1, "bad name 'bad name!'", "spawn", "bad name!", "kan-echo");
	EXPECT_REFUSED(h, 1, "quota", "spawn", "x", "kan-echo", "quota=lots");
	EXPECT_REFUSED(h, 1, "is reserved for the kernel", "spawn", "x", "kan-echo", "address=::");
	EXPECT_REFUSED(h, 1, "too many addresses at 'address=::9' (at most 8)", "spawn", "x",
		       "kan-echo", "address=::1", "address=::2", "address=::3", "address=::4",
		       "address=::5", "address=::6", "address=::8", "address=::a", "address=::9");
	EXPECT_REFUSED(h, 1, "cannot bind fd6b:616e::7: EADDRINUSE", "spawn", "x", "kan-echo",
		       "address=::7");
	EXPECT_REFUSED(h, 1, "a process named 'echo' is running", "spawn", "echo", "kan-echo");
	EXPECT_REFUSED(h, 2, "wrong number of arguments for spawn", "spawn", "x");
	EXPECT_REFUSED(h, 2, "unknown command bogus", "bogus");
	expect_only_echo(h);
	harness_stop(h);
}

static void test_spawn_of_a_missing_program_is_an_error(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	EXPECT_REFUSED(h, 1, "program 'no-such-program': No such file or directory", "spawn", "x",
		       "no-such-program");
	EXPECT_REFUSED(h, 1, "program '/nonexistent/prog': No such file or directory", "spawn", "x",
		       "/nonexistent/prog");
	/* There, but not a program. */
	EXPECT_REFUSED(h, 1, "Permission denied", "spawn", "x", h->manifest);
	EXPECT_REFUSED(h, 1, "program 'no-such-program'", "run", "no-such-program");

	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	long long failures, spawned;
	assert_true(harness_json_num(r.out, "daemon.spawn_failures", &failures));
	assert_true(harness_json_num(r.out, "daemon.spawned", &spawned));
	assert_int_equal(failures, 4);
	assert_int_equal(spawned, 1);
	harness_result_free(&r);
	expect_only_echo(h);
	harness_stop(h);
}

static void test_unreachable_daemon_is_an_error(void **state)
{
	(void)state;
	const char *argv[] = {PACKOSCTL_PATH, "--socket", "/nonexistent/packosd.sock", "status",
			      NULL};
	struct harness_result r;
	harness_exec(argv, 5000, &r);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "cannot reach packosd at /nonexistent/packosd.sock");
	harness_result_free(&r);
}

/* kill answers after the reap: the frames are back the moment it returns. */
static void test_kill_answers_once_everything_is_reclaimed(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl_json(h, &r, "spawn", "hog", "it-hog", "address=::60", "--", "-a", "200", "-s",
			 "100", NULL);
	harness_expect_status(&r, 0);
	long long pid;
	char addresses[64];
	assert_true(harness_json_num(r.out, "spawned.pid", &pid));
	assert_true(harness_json_str(r.out, "spawned.addresses", addresses, sizeof addresses));
	assert_string_equal(addresses, "fd6b:616e::60");
	harness_record_pid(h, (pid_t)pid);
	harness_result_free(&r);
	harness_wait_log(h, "hog: ready", 1, 5000);

	harness_ctl_json(h, &r, "kill", "hog", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_int_equal(f.free, f.total);
	expect_only_echo(h);

	/* By pid, too. */
	harness_ctl_json(h, &r, "spawn", "hog2", "it-hog", NULL);
	harness_expect_status(&r, 0);
	assert_true(harness_json_num(r.out, "spawned.pid", &pid));
	harness_record_pid(h, (pid_t)pid);
	harness_result_free(&r);
	char text[32];
	snprintf(text, sizeof text, "%lld", pid);
	harness_ctl(h, &r, "kill", text, NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	expect_only_echo(h);
	harness_stop(h);
}

/* run exits as its program did: its code, or 128 + the signal. */
static void test_run_exits_with_the_program_status(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-hog", "--", "-x", NULL);
	harness_expect_status(&r, 2);
	harness_expect(r.err, "usage: it-hog");
	harness_result_free(&r);
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "1", "-W", "0.1", "fd6b:616e::8", NULL);
	harness_expect_status(&r, 2);
	harness_result_free(&r);
	harness_stop(h);
}

/* kill of a process a `run` waits for answers at once; the run then ends as the program
 * did, by SIGKILL. */
static void test_kill_of_a_running_program_ends_its_run(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_job job;
	harness_ctl_start(h, &job, "run", "it-hog", "--", "-a", "5", NULL);
	harness_job_wait_output(&job, "it-hog-1: ready", 5000);
	harness_pid_of(h, "it-hog-1");
	struct harness_result r;
	harness_ctl_json(h, &r, "kill", "it-hog-1", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "\"killed\"");
	harness_result_free(&r);
	harness_job_wait(&job, 5000, &r);
	harness_expect_status(&r, 128 + 9);
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 1000);
	harness_stop(h);
}

/* A `run` whose packosctl goes away (^C) takes its program with it: SIGTERM. */
static void test_run_whose_client_dies_stops_its_program(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	struct harness_job job;
	harness_ctl_start(h, &job, "run", "it-hog", "--", "-a", "5", "-s", "5", NULL);
	harness_job_wait_output(&job, "it-hog-1: ready", 5000);
	harness_pid_of(h, "it-hog-1");
	kill(job.pid, SIGKILL);
	struct harness_result r;
	harness_job_wait(&job, 5000, &r);
	harness_result_free(&r);
	harness_wait_log(h, "killed by signal 15 (Terminated); reclaimed", 1, 5000);
	harness_wait_all_frames_free(h, 1000);
	expect_only_echo(h);
	harness_stop(h);
}

static int connect_control(const struct harness *h)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	size_t len = strlen(h->socket);
	assert_true(len < sizeof address.sun_path);
	memcpy(address.sun_path, h->socket, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
	return fd;
}

/* Sends raw bytes as a request and returns the whole answer (the daemon closes after it). */
static void raw_request(struct harness *h, const void *bytes, size_t len, const char *expected)
{
	int fd = connect_control(h);
	/* The daemon may answer and close before it read everything: stop sending then. */
	for (size_t sent = 0; sent < len;) {
		ssize_t n = send(fd, (const char *)bytes + sent, len - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	char answer[512];
	size_t got = 0;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		ssize_t n = recv(fd, answer + got, sizeof answer - 1 - got, 0);
		/* A close with our request unread is a reset, after the answer. */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		assert_true(n > 0);
		got += (size_t)n;
	}
	answer[got] = '\0';
	close(fd);
	assert_string_equal(answer, expected);
}

/* The control socket takes what any local program sends: malformed requests get an error,
 * and a flood of idle connections is refused past its limit, then forgotten. */
static void test_control_socket_survives_bad_clients(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	static const char garbage[] = "\0\0garbage";
	raw_request(h, garbage, sizeof garbage, "error\tmalformed request\n");
	char *big = malloc(70000);
	assert_non_null(big);
	memset(big, 'x', 70000);
	raw_request(h, big, 70000, "error\tmalformed request\n");
	free(big);
	static const char run[] = "run\0kan-ping\0"; /* the closing empty string: the last NUL */
	raw_request(h, run, sizeof run, "error\trun needs the caller's stdin, stdout and stderr\n");

	enum { CONNECTIONS = 64 };
	int fds[CONNECTIONS];
	for (int i = 0; i < CONNECTIONS; i++)
		fds[i] = connect_control(h);
	/* Once the daemon has accepted them all (it may serve a status first), it refuses. */
	struct harness_result r;
	int64_t deadline = harness_now_ms() + 2000;
	do {
		harness_ctl(h, &r, "status", NULL);
		harness_result_free(&r);
	} while (r.status == 0 && harness_now_ms() < deadline);
	assert_int_equal(r.status, 1);
	harness_wait_log(h, "control: too many connections; refusing one", 1, 2000);
	for (int i = 0; i < CONNECTIONS; i++)
		close(fds[i]);
	deadline = harness_now_ms() + 2000;
	do {
		harness_ctl(h, &r, "status", NULL);
		harness_result_free(&r);
	} while (r.status != 0 && harness_now_ms() < deadline);
	assert_int_equal(r.status, 0);
	harness_stop(h);
}

/* Starts a trace of `capacity` steps and runs one kan-ping to the echo server under it. */
static void trace_one_kan_ping(struct harness *h, const char *capacity)
{
	struct harness_result r;
	harness_ctl(h, &r, "trace", "start", capacity, NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_ctl(h, &r, "run", "kan-ping", "address=::99", "--", "-c", "1", "fd6b:616e::7",
		    NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
}

/* A kan-ping to the echo server, traced: both processes' calls and the kernel queuing each
 * packet at the other's endpoint, all in the process stage (there is no NIC here); a trace
 * too small for it keeps the newest steps and counts the rest. */
static void test_trace_records_the_calls_between_start_and_stop(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	EXPECT_REFUSED(h, 1, "packosctl: not tracing", "trace", "stop");
	EXPECT_REFUSED(h, 1, "'0' is not a number of steps", "trace", "start", "0");
	EXPECT_REFUSED(h, 2, "trace takes start [N], stop or show", "trace", "again");
	EXPECT_REFUSED(h, 2, "trace takes start [N], stop or show", "trace", "show", "1");
	trace_one_kan_ping(h, "256");
	EXPECT_REFUSED(h, 1, "already tracing", "trace", "start");
	struct harness_result r;
	harness_ctl(h, &r, "trace", "stop", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_ctl(h, &r, "trace", "show", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "none overwritten, stopped\n\nprocess\n");
	harness_expect(r.out, "kernel      queued at echo's endpoint fd6b:616e::7: fd6b:616e::99 "
			      "-> fd6b:616e::7");
	harness_expect(r.out, "kernel      queued at kan-ping-1's endpoint fd6b:616e::99: "
			      "fd6b:616e::7 -> fd6b:616e::99");
	harness_expect(r.out, "echo        recv -> frame ");
	if (strstr(r.out, "top half") != NULL || strstr(r.out, "NIC") != NULL)
		fail_msg("a trace without a NIC shows the NIC's stages:\n%s", r.out);
	harness_result_free(&r);

	trace_one_kan_ping(h, "2");
	harness_ctl_json(h, &r, "trace", "show", NULL);
	harness_expect_status(&r, 0);
	long long held, overwritten;
	bool running;
	assert_true(harness_json_num(r.out, "trace.held", &held));
	assert_true(harness_json_num(r.out, "trace.overwritten", &overwritten));
	assert_true(harness_json_bool(r.out, "trace.running", &running));
	assert_int_equal(held, 2);
	assert_true(overwritten > 0);
	assert_true(running);
	assert_int_equal(harness_json_len(r.out, "steps"), 2);
	harness_result_free(&r);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kill_of_an_unknown_process_is_an_error,
					  harness_teardown),
		cmocka_unit_test_teardown(test_bad_spawn_arguments_name_the_problem,
					  harness_teardown),
		cmocka_unit_test_teardown(test_spawn_of_a_missing_program_is_an_error,
					  harness_teardown),
		cmocka_unit_test_teardown(test_unreachable_daemon_is_an_error, harness_teardown),
		cmocka_unit_test_teardown(test_kill_answers_once_everything_is_reclaimed,
					  harness_teardown),
		cmocka_unit_test_teardown(test_run_exits_with_the_program_status, harness_teardown),
		cmocka_unit_test_teardown(test_kill_of_a_running_program_ends_its_run,
					  harness_teardown),
		cmocka_unit_test_teardown(test_run_whose_client_dies_stops_its_program,
					  harness_teardown),
		cmocka_unit_test_teardown(test_control_socket_survives_bad_clients,
					  harness_teardown),
		cmocka_unit_test_teardown(test_trace_records_the_calls_between_start_and_stop,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
