/* HTTP over PackOS's TCP against the host's own clients and servers, in a network
 * namespace of the test's own (host_net.h): curl downloads from httpd, byte for byte and
 * with keep-alive, on a clean wire and on a faulty one; httpd's answers to bad and slow
 * requests; and http-get, the PackOS client, downloading from httpd and from a server on
 * the host. The KAN capture is read by tshark: nothing malformed, and its TCP analysis.
 *
 * Needs root (a namespace, a TAP device): skipped without it, failed under CI. */
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
#include "host_net.h"
#include "manifest.h"

#define HTTPD	    "fd6b:616e::80"
#define URL	    "http://[" HTTPD "]"
#define HTTP_BYTES  HTTP_BYTES_PATH /* writes the /bytes/N stream, to compare with */
#define TRANSFER_MS 240000
#define SCRIPT_SIZE 16384

static struct harness *start(const char *faults)
{
	return host_net_start(manifest_default_text, faults != NULL ? "--wire" : NULL, faults);
}

/* Downloads /bytes/N for each size with one curl (one connection, kept alive), and fails
 * unless every body hashes as http-bytes' stream does and only the first transfer
 * connected. Prints curl's figures. */
static void download_sizes(struct harness *h, const char *const *sizes, unsigned count)
{
	char dir[HARNESS_PATH_SIZE], script[SCRIPT_SIZE];
	harness_path(h, "", dir, sizeof dir);
	int at = snprintf(script, sizeof script, "cd %s && curl -s -g -6 --fail", dir);
	for (unsigned i = 0; i < count; i++)
		at += snprintf(script + at, sizeof script - (size_t)at,
			       " -w 'connects=%%{num_connects} %%{http_code} %%{size_download} "
			       "bytes %%{speed_download} B/s\\n' -o body%u " URL "/bytes/%s",
			       i, sizes[i]);
	at += snprintf(script + at, sizeof script - (size_t)at, " || exit 1; ");
	for (unsigned i = 0; i < count; i++)
		at += snprintf(script + at, sizeof script - (size_t)at,
			       "[ \"$(sha256sum < body%u)\" = \"$(" HTTP_BYTES
			       " %s | sha256sum)\" ] && echo exact%u; rm -f body%u; ",
			       i, sizes[i], i, i);
	struct harness_result r;
	host_net_shell(&r, script, TRANSFER_MS);
	print_message("%s", r.out);
	harness_expect_status(&r, 0);
	for (unsigned i = 0; i < count; i++) {
		char want[32];
		snprintf(want, sizeof want, "exact%u", i);
		if (strstr(r.out, want) == NULL)
			fail_msg("body %u (%s bytes) is not byte-exact:\n%s%s", i, sizes[i], r.out,
				 r.err);
	}
	/* Keep-alive: one connection for all of them. */
	assert_int_equal(harness_count(r.out, "connects=1 "), 1);
	assert_int_equal(harness_count(r.out, "connects=0 "), (int)count - 1);
	harness_result_free(&r);
}

/* How many packets of the KAN capture match `filter`. */
static int count_in_capture(struct harness *h, const char *filter)
{
	char pcap[HARNESS_PATH_SIZE];
	harness_path(h, "kan.pcap", pcap, sizeof pcap);
	const char *tshark[] = {"/usr/bin/tshark", "-n", "-r", pcap, "-Y", filter, NULL};
	struct harness_result r;
	harness_exec(tshark, 120000, &r);
	harness_expect_status(&r, 0);
	int lines = 0;
	for (const char *p = r.out; *p != '\0'; p++)
		lines += *p == '\n';
	harness_result_free(&r);
	return lines;
}

static void stop_capture(struct harness *h)
{
	struct harness_result r;
	harness_ctl(h, &r, "capture", "stop", NULL);
	harness_result_free(&r);
}

/* 1 KiB and 1 MiB on one kept-alive connection, captured and analysed: nothing malformed,
 * no retransmission at all on a clean wire; then 100 MiB, byte-exact too. */
static void test_curl_downloads_are_exact_and_clean(void **state)
{
	(void)state;
	struct harness *h = start(NULL);
	download_sizes(h, (const char *const[]){"1024", "1048576"}, 2);
	stop_capture(h);
	char pcap[HARNESS_PATH_SIZE];
	harness_path(h, "kan.pcap", pcap, sizeof pcap);
	host_net_expect_no_malformed(pcap);
	int retransmissions = count_in_capture(h, "tcp.analysis.retransmission");
	int out_of_order = count_in_capture(h, "tcp.analysis.out_of_order");
	int duplicate_acks = count_in_capture(h, "tcp.analysis.duplicate_ack");
	int segments = count_in_capture(h, "tcp");
	print_message("lossless run, tshark's TCP analysis of %d segments: %d retransmissions, "
		      "%d out of order, %d duplicate ACKs\n",
		      segments, retransmissions, out_of_order, duplicate_acks);
	assert_true(segments > 700);
	assert_int_equal(retransmissions, 0);
	assert_int_equal(out_of_order, 0);
	assert_int_equal(duplicate_acks, 0);
	download_sizes(h, (const char *const[]){"104857600"}, 1);
	harness_stop(h);
}

/* The faulty wire loses, reorders, duplicates and corrupts 5% of frames each way: the
 * downloads are still exact, and the capture shows the stack's fast retransmissions. */
static void test_curl_downloads_survive_a_faulty_wire(void **state)
{
	(void)state;
	struct harness *h = start("drop=5,reorder=5,duplicate=5,corrupt=5,seed=7");
	download_sizes(h, (const char *const[]){"1024", "1048576"}, 2);
	stop_capture(h);
	int fast = count_in_capture(h, "tcp.analysis.fast_retransmission && tcp.srcport == 80");
	print_message("faulty wire: %d fast retransmissions by httpd in the capture\n", fast);
	assert_true(fast > 0);
	download_sizes(h, (const char *const[]){"104857600"}, 1);
	struct harness_result r;
	harness_ctl(h, &r, "run", "nic-status", NULL);
	harness_expect(r.out, "wire faults: dropped ");
	harness_result_free(&r);
	harness_stop(h);
}

/* In shared isolation every frame is mapped already, so the driver's and httpd's request
 * for lazy mapping is left aside and both work on their frames in place: the same
 * downloads, exact, and every frame back at the stop. */
static void test_curl_downloads_in_shared_isolation(void **state)
{
	(void)state;
	struct harness *h = host_net_start(manifest_default_text, "--isolation", "shared");
	download_sizes(h, (const char *const[]){"1024", "1048576", "10485760"}, 3);
	harness_stop(h);
}

/* curl -w's status code for `options` and `path`. */
static void expect_status(const char *options, const char *path, const char *status)
{
	char script[SCRIPT_SIZE];
	snprintf(script, sizeof script,
		 "curl -s -g -6 -o /dev/null -w '%%{http_code}' %s '" URL "%s'", options, path);
	struct harness_result r;
	host_net_shell(&r, script, 30000);
	if (strcmp(r.out, status) != 0)
		fail_msg("%.40s %.40s: status %s, not %s", options, path, r.out, status);
	harness_result_free(&r);
}

/* What a raw request gets back: the status line, through nc. */
static void expect_raw_status(const char *request, const char *status_line)
{
	char script[SCRIPT_SIZE];
	snprintf(script, sizeof script, "printf '%s' | timeout 10 nc -6 -N " HTTPD " 80 | head -1",
		 request);
	struct harness_result r;
	host_net_shell(&r, script, 30000);
	harness_expect(r.out, status_line);
	harness_result_free(&r);
}

static void test_httpd_answers_bad_requests_as_the_rfcs_say(void **state)
{
	(void)state;
	struct harness *h = start(NULL);
	expect_status("", "/", "200");
	expect_status("-I", "/", "200");
	expect_status("", "/about", "301");
	expect_status("", "/about/", "200");
	expect_status("", "/no/such/page", "404");
	expect_status("-X DELETE", "/", "405");
	char options[12000];
	snprintf(options, sizeof options, "-H 'X-Big: %09000d'", 0);
	expect_status(options, "/", "431");
	char path[4000] = "/";
	memset(path + 1, 'a', 3000);
	expect_status("", path, "414");
	expect_raw_status("GET / HTTP/2.0\\r\\n\\r\\n", "HTTP/1.1 505");
	expect_raw_status("garbage\\r\\n\\r\\n", "HTTP/1.1 400");
	expect_raw_status("GET / HTTP/1.1\\r\\n\\r\\n", "HTTP/1.1 400"); /* no Host */
	/* A request that never ends is cut off after httpd's 10 s, not held for good. */
	struct harness_result r;
	host_net_shell(&r,
		       "python3 -c '\n"
		       "import socket, time\n"
		       "s = socket.create_connection((\"" HTTPD "\", 80))\n"
		       "s.sendall(b\"GET / HTTP/1.1\\r\\nHost: x\\r\\n\")\n"
		       "t = time.time()\n"
		       "while s.recv(4096): pass\n"
		       "print(\"closed after %d s\" % round(time.time() - t))'",
		       30000);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "closed after 10 s");
	harness_result_free(&r);
	expect_status("", "/", "200"); /* and it still serves */
	harness_stop(h);
}

/* 5,000 SYNs from random ports, never followed by an ACK: httpd's listener takes what its
 * backlog holds and drops the rest (each SYN-ACK draws a reset from the host, which frees
 * its place), and a real client still gets in; the stop checks every frame came back. */
static void test_syn_flood_leaves_httpd_serving(void **state)
{
	(void)state;
	struct harness *h = start(NULL);
	struct harness_result r;
	host_net_shell(
		&r,
		"python3 -c '\n"
		"import random, socket, struct\n"
		"s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)\n"
		"s.setsockopt(socket.IPPROTO_IPV6, 7, 16)  # IPV6_CHECKSUM: the TCP checksum\n"
		"for i in range(5000):\n"
		"    syn = struct.pack(\"!HHIIBBHHH\", random.randint(1024, 65535), 80,\n"
		"                      random.getrandbits(32), 0, 5 << 4, 2, 65535, 0, 0)\n"
		"    s.sendto(syn, (\"" HTTPD "\", 0))\n"
		"print(\"flooded\")'",
		60000);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "flooded");
	harness_result_free(&r);
	expect_status("--connect-timeout 20", "/", "200");
	harness_stop(h);
}

/* httpd killed in the middle of a 100 MiB download: curl hears the connection go, every
 * frame httpd held (its spares, segments in flight, its queue) is back where it belongs,
 * and an httpd started anew serves byte-exact bodies again. */
static void test_httpd_killed_mid_download_loses_no_frame(void **state)
{
	(void)state;
	struct harness *h = start(NULL);
	char socket[HARNESS_PATH_SIZE], script[SCRIPT_SIZE];
	harness_path(h, "packosd.sock", socket, sizeof socket);
	snprintf(script, sizeof script,
		 "curl -s -g -6 --max-time 5 -o /dev/null " URL "/bytes/104857600 & curl=$!; "
		 "sleep 0.3; " PACKOSCTL_PATH " --socket %s kill httpd || exit 1; "
		 "wait $curl; echo \"curl $?\"",
		 socket);
	struct harness_result r;
	host_net_shell(&r, script, 90000);
	harness_expect_status(&r, 0);
	if (strstr(r.out, "curl ") == NULL || strstr(r.out, "curl 0") != NULL)
		fail_msg("curl did not hear httpd go:\n%s%s", r.out, r.err);
	harness_result_free(&r);
	struct harness_frames f;
	harness_frames(h, &f);
	assert_true(f.conserved);
	assert_string_equal(f.audit, "ok");

	harness_ctl(h, &r, "spawn", "httpd", "httpd", "address=::80", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	download_sizes(h, (const char *const[]){"1048576"}, 1);
	harness_stop(h);
}

/* http-get in PackOS downloads from httpd across the KAN, and from a server on the host
 * across the NIC: PackOS as a client of Linux. */
static void test_packos_client_downloads_from_httpd_and_from_the_host(void **state)
{
	(void)state;
	struct harness *h = start(NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "http-get", "address=::99", "--", "--check-bytes",
		    URL "/bytes/3000000", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "body is the /bytes stream, 3000000 bytes");
	harness_result_free(&r);

	/* The host's server, and http-get run through packosctl once it listens. */
	char dir[HARNESS_PATH_SIZE], socket[HARNESS_PATH_SIZE], script[SCRIPT_SIZE];
	harness_path(h, "", dir, sizeof dir);
	harness_path(h, "packosd.sock", socket, sizeof socket);
	snprintf(script, sizeof script,
		 "mkdir -p %s/www && " HTTP_BYTES " 2000000 > %s/www/file && cd %s/www && "
		 "{ python3 -m http.server --bind " HOST_NET_LINK_HOST " 8000 >/dev/null 2>&1 & "
		 "} && server=$! && "
		 "for i in $(seq 100); do nc -6 -z " HOST_NET_LINK_HOST " 8000 && break; "
		 "sleep 0.1; done; " PACKOSCTL_PATH " --socket %s run http-get address=::98 -- "
		 "--check-bytes http://[" HOST_NET_LINK_HOST "]:8000/file; status=$?; "
		 "kill $server; wait $server; exit $status",
		 dir, dir, dir, socket);
	host_net_shell(&r, script, 60000);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "body is the /bytes stream, 2000000 bytes");
	harness_result_free(&r);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)
		T(test_curl_downloads_are_exact_and_clean),
		T(test_curl_downloads_survive_a_faulty_wire),
		T(test_curl_downloads_in_shared_isolation),
		T(test_httpd_answers_bad_requests_as_the_rfcs_say),
		T(test_syn_flood_leaves_httpd_serving),
		T(test_httpd_killed_mid_download_loses_no_frame),
		T(test_packos_client_downloads_from_httpd_and_from_the_host),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
