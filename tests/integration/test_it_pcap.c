/* Packet capture through a real daemon: with --pcap from the start, and switched on and off
 * with `packosctl capture`. After a kan-ping of N requests the file holds the 2N packets
 * that crossed the KAN, as bare IPv6 (DLT_IPV6), read back with libpcap and, when tshark is
 * installed, decoded by it. */
#define _GNU_SOURCE
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

enum { COUNT = 10, PING_SIZE = 40 + 8 + 56 };

static const uint8_t pinger[16] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 0x99};
static const uint8_t echo[16] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 0x07};

static void ping(struct harness *h)
{
	struct harness_result r;
	char count[16];
	snprintf(count, sizeof count, "%d", COUNT);
	harness_ctl(h, &r, "run", "kan-ping", "address=::99", "--", "-c", count, "-i", "0", "-q",
		    "fd6b:616e::7", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
}

/* The file holds `expected` packets: requests from ::99 to ::7, each followed by the echo's
 * reply (type 129), of the same size. */
static void expect_ping_capture(const char *path, int expected)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	if (p == NULL)
		fail_msg("pcap_open_offline(%s): %s", path, err);
	assert_int_equal(pcap_datalink(p), DLT_IPV6);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int n = 0, r;
	while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
		bool request = n % 2 == 0;
		assert_int_equal(hdr->caplen, PING_SIZE);
		assert_int_equal(hdr->len, PING_SIZE);
		assert_int_equal(data[0] >> 4, 6);
		assert_int_equal(data[6], 58);			 /* ICMPv6 */
		assert_int_equal(data[40], request ? 128 : 129); /* echo request, reply */
		assert_memory_equal(data + 8, request ? pinger : echo, 16);
		assert_memory_equal(data + 24, request ? echo : pinger, 16);
		assert_int_equal(data[40 + 6] << 8 | data[40 + 7], n / 2 + 1); /* sequence */
		n++;
	}
	assert_int_equal(r, PCAP_ERROR_BREAK);
	pcap_close(p);
	assert_int_equal(n, expected);
}

static const char *find_tshark(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		return NULL;
	char *copy = strdup(path), *save = NULL;
	assert_non_null(copy);
	const char *found = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, size, "%s/tshark", dir);
		if (access(buf, X_OK) == 0)
			found = buf;
	}
	free(copy);
	return found;
}

/* tshark's own reading of the file, when tshark is there; with HOME in the harness's
 * directory, so no one's wireshark preferences change (or break) what it prints. */
static void expect_tshark_agrees(struct harness *h, const char *path, int expected)
{
	char tshark[512], home[HARNESS_PATH_SIZE + 8];
	if (find_tshark(tshark, sizeof tshark) == NULL) {
		print_message("tshark is not on PATH; libpcap's reading only\n");
		return;
	}
	snprintf(home, sizeof home, "HOME=%s", h->dir);
	const char *argv[] = {"/usr/bin/env", home,	tshark,	       "-r",	   path,
			      "-T",	      "fields", "-e",	       "ipv6.src", "-e",
			      "ipv6.dst",     "-e",	"icmpv6.type", NULL};
	struct harness_result r;
	harness_exec(argv, 60000, &r);
	harness_expect_status(&r, 0);
	assert_int_equal(harness_count(r.out, "\n"), expected);
	assert_int_equal(harness_count(r.out, "fd6b:616e::99\tfd6b:616e::7\t128\n"), expected / 2);
	assert_int_equal(harness_count(r.out, "fd6b:616e::7\tfd6b:616e::99\t129\n"), expected / 2);
	harness_result_free(&r);
}

static void test_pcap_option_captures_every_packet(void **state)
{
	(void)state;
	struct harness_options opt = {.args = {"--pcap", "@/boot.pcap"}};
	struct harness *h = harness_start(&opt);
	char path[HARNESS_PATH_SIZE];
	harness_path(h, "boot.pcap", path, sizeof path);
	struct harness_result r;
	harness_ctl_json(h, &r, "status", NULL);
	char capture[HARNESS_PATH_SIZE];
	assert_true(harness_json_str(r.out, "daemon.capture", capture, sizeof capture));
	assert_string_equal(capture, path);
	harness_result_free(&r);

	ping(h);
	harness_stop(h); /* closes the capture */
	expect_ping_capture(path, 2 * COUNT);
	expect_tshark_agrees(h, path, 2 * COUNT);
}

static void test_capture_start_and_stop_bracket_the_packets(void **state)
{
	(void)state;
	struct harness *h = harness_start(NULL);
	char path[HARNESS_PATH_SIZE];
	harness_path(h, "live.pcap", path, sizeof path);
	struct harness_result r;

	ping(h); /* before the capture: not in it */
	harness_ctl(h, &r, "capture", "start", path, NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_ctl(h, &r, "capture", "start", path, NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "already capturing to");
	harness_result_free(&r);

	ping(h);
	harness_ctl_json(h, &r, "capture", "stop", NULL);
	harness_expect_status(&r, 0);
	long long packets;
	assert_true(harness_json_num(r.out, "capture.packets", &packets));
	assert_int_equal(packets, 2 * COUNT);
	harness_result_free(&r);
	ping(h); /* after it: not in it either */

	expect_ping_capture(path, 2 * COUNT);
	expect_tshark_agrees(h, path, 2 * COUNT);

	harness_ctl(h, &r, "capture", "stop", NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "not capturing");
	harness_result_free(&r);
	harness_ctl(h, &r, "capture", "start", "/nonexistent/dir/x.pcap", NULL);
	harness_expect_status(&r, 1);
	harness_expect(r.err, "/nonexistent/dir");
	harness_result_free(&r);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pcap_option_captures_every_packet, harness_teardown),
		cmocka_unit_test_teardown(test_capture_start_and_stop_bracket_the_packets,
					  harness_teardown),
	};
	return cmocka_run_group_tests(tests, harness_setup, NULL);
}
