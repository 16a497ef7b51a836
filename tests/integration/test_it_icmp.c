/* ICMPv6 through the per-process stack, between real processes: kan-ping against kan-echo
 * and pk-node at every size up to fragmented 8 KiB datagrams, ten thousand pings without
 * a loss, the errors pk-node and the stack send for what nobody takes, kan-ping refusing
 * wrong answers; after each, every frame is back in the pool and the kernel counted each
 * packet sent as received. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static const char nodes[] = "echo kan-echo address=::7\n"
			    "node pk-node address=::8 address=::9\n";

/* Runs kan-ping with `count`, `size` and the rest of its options at `address`; returns
 * its result, for the caller to check and free. */
static void ping(struct harness *h, const char *address, unsigned count, unsigned size,
		 const char *timeout, struct harness_result *r)
{
	char count_text[16], size_text[16];
	snprintf(count_text, sizeof count_text, "%u", count);
	snprintf(size_text, sizeof size_text, "%u", size);
	harness_ctl(h, r, "run", "kan-ping", "--", "-c", count_text, "-s", size_text, "-i", "0",
		    "-W", timeout, address, NULL);
}

static void expect_all_answered(struct harness *h, const char *address, unsigned count,
				unsigned size)
{
	struct harness_result r;
	ping(h, address, count, size, "2", &r);
	harness_expect_status(&r, 0);
	char line[128];
	snprintf(line, sizeof line, "%u packets transmitted, %u received, 0%% packet loss", count,
		 count);
	harness_expect(r.out, line);
	snprintf(line, sizeof line, "%u bytes from %s: icmp_seq=%u ", size + 8, address, count);
	harness_expect(r.out, line);
	harness_result_free(&r);
}

/* Every packet sent was received, nobody faulted, and the total is `packets` when set. */
static void expect_kernel_counted(struct harness *h, long long packets)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "counters", NULL);
	long long sent, received, faults;
	assert_true(harness_json_num(r.out, "kernel.packets_sent", &sent));
	assert_true(harness_json_num(r.out, "kernel.packets_received", &received));
	assert_true(harness_json_num(r.out, "kernel.faults", &faults));
	assert_int_equal(sent, received);
	assert_int_equal(faults, 0);
	if (packets > 0)
		assert_int_equal(sent, packets);
	harness_result_free(&r);
}

/* 0 bytes of data, 1000, the most one frame holds (PK_FRAME_SIZE - 48), and 8 KiB, which
 * goes in three fragments each way (4048 + 4048 + 104 bytes of data). */
static const unsigned sizes[] = {0, 1000, 4096 - 48, 8192};

static void test_ping_is_answered_at_every_size(void **state)
{
	(void)state;
	struct harness *h = harness_start(&(struct harness_options){.manifest = nodes});
	const char *targets[] = {"fd6b:616e::7", "fd6b:616e::9"};
	for (unsigned t = 0; t < 2; t++)
		for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
			expect_all_answered(h, targets[t], 5, sizes[s]);
	/* pk-node's first address answers too. */
	expect_all_answered(h, "fd6b:616e::8", 5, 56);
	/* Per target: 5 pings of 2 packets at three sizes and of 6 packets at 8 KiB. */
	expect_kernel_counted(h, 2 * 5 * (2 + 2 + 2 + 6) + 5 * 2);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

static void test_ten_thousand_pings_lose_nothing(void **state)
{
	(void)state;
	struct harness *h = harness_start(&(struct harness_options){.manifest = nodes});
	struct harness_result r;
	const char *targets[] = {"fd6b:616e::8", "fd6b:616e::7"};
	for (unsigned t = 0; t < 2; t++) {
		harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "10000", "-i", "0", "-q",
			    targets[t], NULL);
		harness_expect_status(&r, 0);
		harness_expect(r.out, "10000 packets transmitted, 10000 received, 0% packet loss");
		harness_result_free(&r);
	}
	expect_kernel_counted(h, 2 * 2 * 10000);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

/* A thousand fragmented pings, each datagram reassembled at both ends. */
static void test_fragmented_pings_lose_nothing(void **state)
{
	(void)state;
	struct harness *h = harness_start(&(struct harness_options){.manifest = nodes});
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "--", "-c", "1000", "-i", "0", "-q", "-s", "8192",
		    "fd6b:616e::8", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "1000 packets transmitted, 1000 received, 0% packet loss");
	harness_result_free(&r);
	expect_kernel_counted(h, 1000 * 6);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

/* it-probe's report of `kind` sent to `address`: exit 0 (the echo reply came, after
 * whatever the probe earned), and exactly `answers` answers before it, one of them
 * holding `expected` when set. */
static void probe(struct harness *h, const char *kind, const char *address, unsigned answers,
		  const char *expected)
{
	struct harness_result r;
	harness_ctl(h, &r, "run", "it-probe", "--", kind, address, NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "it-probe: echo reply\n");
	if (harness_count(r.out, "it-probe: answer") != answers)
		fail_msg("it-probe %s %s: want %u answers, got:\n%s", kind, address, answers,
			 r.out);
	if (expected)
		harness_expect(r.out, expected);
	harness_result_free(&r);
}

static void test_node_answers_what_it_cannot_take_with_errors(void **state)
{
	(void)state;
	struct harness *h = harness_start(&(struct harness_options){.manifest = nodes});
	/* Nobody listens: port unreachable, quoting the whole datagram. */
	probe(h, "udp", "fd6b:616e::8", 1,
	      "answer type=1 code=4 parameter=0 checksum=ok quote=intact quoted=80\n");
	/* Reassembled first, then refused; the quote stops at the 1280-byte minimum MTU. */
	probe(h, "udp-frag", "fd6b:616e::9", 1,
	      "answer type=1 code=4 parameter=0 checksum=ok quote=intact quoted=1232\n");
	/* An unknown protocol: parameter problem, pointing at the IPv6 header's Next Header. */
	probe(h, "proto-253", "fd6b:616e::8", 1,
	      "answer type=4 code=1 parameter=6 checksum=ok quote=intact quoted=56\n");
	/* The stack's own refusal: an option that asks to be reported, at its type byte. */
	probe(h, "option", "fd6b:616e::8", 1,
	      "answer type=4 code=2 parameter=42 checksum=ok quote=intact quoted=64\n");
	/* Dropped in silence: a bad checksum (the stack), and an unknown protocol behind
	 * Destination Options (pk-node cannot point at its Next Header; docs/net.md). */
	probe(h, "bad-checksum", "fd6b:616e::8", 0, NULL);
	probe(h, "dst-253", "fd6b:616e::8", 0, NULL);
	/* kan-echo still sends back what is not ping, addresses swapped. */
	probe(h, "udp", "fd6b:616e::7", 1, "answer not ICMPv6 (next header 17, 80 bytes)\n");
	expect_kernel_counted(h, 0);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

/* kan-ping against responders that answer wrongly: none of it counts as an answer. */
static void test_kan_ping_refuses_wrong_answers(void **state)
{
	(void)state;
	struct harness_options opt = {.manifest = "r1 it-reflect address=::11 -- request\n"
						  "r2 it-reflect address=::12 -- data\n"
						  "r3 it-reflect address=::13 -- sequence\n"
						  "r4 it-reflect address=::14 -- error\n"};
	struct harness *h = harness_start(&opt);
	struct harness_result r;

	ping(h, "fd6b:616e::11", 2, 56, "0.2", &r); /* its own request back */
	harness_expect_status(&r, 1);
	harness_expect(r.out, "2 packets transmitted, 0 received, 100% packet loss");
	harness_result_free(&r);

	ping(h, "fd6b:616e::12", 2, 56, "2", &r);
	harness_expect_status(&r, 2);
	harness_expect(r.out,
		       "From fd6b:616e::12 icmp_seq=1: echo reply with other data than sent");
	harness_expect(r.out, "2 packets transmitted, 0 received, +2 errors, 100% packet loss");
	harness_result_free(&r);

	ping(h, "fd6b:616e::13", 2, 56, "0.2", &r);
	harness_expect_status(&r, 1);
	harness_expect(r.out, "2 packets transmitted, 0 received, 100% packet loss");
	harness_result_free(&r);

	ping(h, "fd6b:616e::14", 2, 56, "2", &r);
	harness_expect_status(&r, 2);
	harness_expect(r.out, "From fd6b:616e::14 icmp_seq=2: destination unreachable (code 4)");
	harness_result_free(&r);

	/* Two packets a ping; three with the request sent back, which kan-ping's own stack
	 * answers like any other. */
	expect_kernel_counted(h, 2 * 3 + 3 * 2 * 2);
	harness_wait_all_frames_free(h, 2000);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ping_is_answered_at_every_size, harness_teardown),
		cmocka_unit_test_teardown(test_ten_thousand_pings_lose_nothing, harness_teardown),
		cmocka_unit_test_teardown(test_fragmented_pings_lose_nothing, harness_teardown),
		cmocka_unit_test_teardown(test_node_answers_what_it_cannot_take_with_errors,
					  harness_teardown),
		cmocka_unit_test_teardown(test_kan_ping_refuses_wrong_answers, harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
