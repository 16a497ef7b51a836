/* Multicast end to end, both designs (docs/multicast.md): the kernel's groups and the
 * multicast server. 1, 10 and 100 members get every packet of a run while a slow member,
 * which reads nothing until the run is over, delays none of them and has its losses
 * counted and reported; a member killed with -9 while it holds packets gives every frame
 * back; the documented errors (it-mcast). The members and the sender are bench_mcast's
 * programs (bench/programs/bench-mcast-*). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include <cmocka.h>

#include "harness.h"

#define GROUP	      "ff02::1:2"
#define RUN_PACKETS   1000
#define RUN_TEXT      "1000"
#define WAIT_MS	      60000
#define KILL_RUN_TEXT "10000"
/* packosd's ring per kernel group (sim/packosd.c) and queue per endpoint (its default). */
#define KERNEL_GROUP_DEPTH 64
#define QUEUE_LIMIT	   256

struct manifest {
	char text[16384];
	size_t length;
};

__attribute__((format(printf, 2, 3))) static void manifest_add(struct manifest *m, const char *fmt,
							       ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(m->text + m->length, sizeof m->text - m->length, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof m->text - m->length);
	m->length += (size_t)n;
}

static const char *design(bool server)
{
	return server ? "server" : "kernel";
}

/* The server, `members` members that keep up, and one more line as given (or none). */
static void manifest_members(struct manifest *m, bool server, unsigned members, const char *extra)
{
	m->length = 0;
	manifest_add(m, "mcast mcast-server address=::6d\n");
	for (unsigned i = 0; i < members; i++)
		manifest_add(m, "m%u bench-mcast-member -- -d %s " GROUP "\n", i, design(server));
	if (extra != NULL)
		manifest_add(m, "%s\n", extra);
}

static struct harness *start(const struct manifest *m)
{
	struct harness_options opt = {.manifest = m->text, .args = {"--path", BENCH_PROGRAM_DIR}};
	return harness_start(&opt);
}

/* The sender's run: RUN_PACKETS to the group, each window acknowledged by `ackers`. */
static void send_run(struct harness *h, bool server, unsigned ackers)
{
	char ackers_text[16];
	snprintf(ackers_text, sizeof ackers_text, "%u", ackers);
	struct harness_result r;
	harness_ctl(h, &r, "run", "bench-mcast-send", "--", "-d", design(server), "-n", RUN_TEXT,
		    "-a", ackers_text, GROUP, NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "bench-mcast-send throughput packets=" RUN_TEXT);
	harness_result_free(&r);
}

/* A counter of the server's, from `it-mcast status`. */
static long long server_counter(struct harness *h, const char *name)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-mcast", "--", "status", NULL);
	harness_expect_status(&r, 0);
	char key[64];
	snprintf(key, sizeof key, "%s=", name);
	const char *at = strstr(r.out, key);
	long long value = at ? strtoll(at + strlen(key), NULL, 10) : -1;
	harness_result_free(&r);
	return value;
}

/* The numbers of the slow member's report, "slow: received R, lost L, missing M". */
static void read_slow_report(struct harness *h, long long *received, long long *lost,
			     long long *missing)
{
	char *log = harness_log_read(h);
	const char *at = strstr(log, "slow: received");
	assert_non_null(at);
	assert_int_equal(
		sscanf(at, "slow: received %lld, lost %lld, missing %lld", received, lost, missing),
		3);
	free(log);
}

static void every_member_gets_every_packet(bool server, unsigned members)
{
	char go[64], slow[128];
	snprintf(go, sizeof go, "/tmp/packos-it-mcast-go-%d", (int)getpid());
	unlink(go);
	snprintf(slow, sizeof slow, "slow bench-mcast-member -- -d %s -S %s " GROUP, design(server),
		 go);
	static struct manifest m;
	manifest_members(&m, server, members, slow);
	struct harness *h = start(&m);
	harness_wait_log(h, ": joined", members + 1, WAIT_MS);

	send_run(h, server, members);
	harness_wait_log(h, "run complete: received " RUN_TEXT ", lost 0, missing 0", members,
			 WAIT_MS);
	/* The slow member has not read a packet yet: nobody waited for it. */
	assert_int_equal(harness_log_count(h, "slow: received"), 0);

	int fd = creat(go, 0600);
	assert_true(fd >= 0);
	close(fd);
	harness_wait_log(h, "slow: received", 1, WAIT_MS);
	unlink(go);
	long long received, lost, missing;
	read_slow_report(h, &received, &lost, &missing);
	if (server) {
		/* Its queue took what fit; the server dropped the rest and counted it. */
		assert_int_equal(received, QUEUE_LIMIT);
		assert_int_equal(server_counter(h, "dropped_queue_full"),
				 RUN_PACKETS - QUEUE_LIMIT);
		assert_int_equal(server_counter(h, "forwarded"),
				 (long long)members * RUN_PACKETS + QUEUE_LIMIT);
	} else {
		/* The ring kept the newest; the kernel reported the rest as lost. */
		assert_int_equal(received, KERNEL_GROUP_DEPTH);
		assert_int_equal(lost, RUN_PACKETS - KERNEL_GROUP_DEPTH);
		assert_int_equal(missing, lost);
	}
	harness_stop(h);
}

static void test_kernel_group_of_1_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(false, 1);
}

static void test_kernel_group_of_10_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(false, 10);
}

static void test_kernel_group_of_100_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(false, 100);
}

static void test_server_group_of_1_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(true, 1);
}

static void test_server_group_of_10_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(true, 10);
}

static void test_server_group_of_100_with_a_slow_member(void **state)
{
	(void)state;
	every_member_gets_every_packet(true, 100);
}

/* A member that holds every packet it gets (shares, with the kernel's groups) is killed
 * with -9 while a run goes on; the others still get every packet, and every frame it held
 * goes back. */
static void kill_a_member_holding_packets(bool server)
{
	const unsigned members = 10;
	static struct manifest m;
	char holder_line[128];
	snprintf(holder_line, sizeof holder_line, "holder bench-mcast-member -- -d %s -H " GROUP,
		 design(server));
	manifest_members(&m, server, members, holder_line);
	struct harness *h = start(&m);
	harness_wait_log(h, ": joined", members + 1, WAIT_MS);
	struct harness_job job;
	harness_ctl_start(h, &job, "run", "bench-mcast-send", "--", "-d", design(server), "-n",
			  KILL_RUN_TEXT, "-a", "10", GROUP, NULL);
	harness_wait_log(h, "holder: holding 32 packets", 1, WAIT_MS);
	pid_t holder = harness_pid_of(h, "holder");
	assert_true(holder > 0);
	assert_int_equal(kill(holder, SIGKILL), 0);
	/* Mid-run: the sender's packosctl is still waiting for it. */
	assert_int_equal(kill(job.pid, 0), 0);
	harness_wait_log(h, "holder (pid", 2, WAIT_MS); /* started, and killed */

	struct harness_result r;
	harness_job_wait(&job, WAIT_MS, &r);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_wait_log(h, "run complete: received " KILL_RUN_TEXT ", lost 0, missing 0", members,
			 WAIT_MS);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_true(f.conserved);
	assert_string_equal(f.audit, "ok");
	assert_int_equal(f.owned, 0);
	if (server) {
		assert_int_equal(f.shared, 0);
		/* The server found its address gone at the next copy, and dropped it. */
		assert_int_equal(harness_log_count(h, "mcast-server: removed"), 1);
		assert_int_equal(server_counter(h, "members_gone"), 1);
		assert_int_equal(server_counter(h, "members"), members);
	} else {
		/* Only the group's ring still pins frames. */
		assert_true(f.shared <= KERNEL_GROUP_DEPTH);
	}
	harness_stop(h); /* every frame back at exit */
}

static void test_kill_9_of_a_kernel_group_member_holding_shares(void **state)
{
	(void)state;
	kill_a_member_holding_packets(false);
}

static void test_kill_9_of_a_server_group_member_holding_copies(void **state)
{
	(void)state;
	kill_a_member_holding_packets(true);
}

static void test_bad_input_gets_the_documented_errors(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "mcast mcast-server address=::6d -- -g 2 -m 2\n",
				      .args = {"--path", BENCH_PROGRAM_DIR, "--queue-limit", "16"}};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "mcast-server: serving", 1, WAIT_MS);
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-mcast", "--", "errors", NULL);
	harness_expect(r.out, "it-mcast: done, 0 failed");
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kernel_group_of_1_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_kernel_group_of_10_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_kernel_group_of_100_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_server_group_of_1_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_server_group_of_10_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_server_group_of_100_with_a_slow_member,
					  harness_teardown),
		cmocka_unit_test_teardown(test_kill_9_of_a_kernel_group_member_holding_shares,
					  harness_teardown),
		cmocka_unit_test_teardown(test_kill_9_of_a_server_group_member_holding_copies,
					  harness_teardown),
		cmocka_unit_test_teardown(test_bad_input_gets_the_documented_errors,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
