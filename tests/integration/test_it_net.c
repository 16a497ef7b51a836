/* The network end to end: the host's own tools (ping, nc, tshark) against PackOS processes
 * behind the NIC, in a network namespace this test makes for itself, so nothing touches the
 * machine's network. The host side is set up with scripts/host-net, as a user would; each
 * test starts its own packosd on the TAP with the manifest below, and ends, like every
 * integration test, with the frame pool conserved and nothing left behind.
 *
 * Needs root (a namespace, a TAP device, raw sockets): skipped without it, failed under CI. */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "host_net.h"
#include "manifest.h"

#define TAP	     HOST_NET_TAP
#define KAN_ECHO     "fd6b:616e::7"
#define KAN_NODE     "fd6b:616e::a"
#define KAN_DRIVER   "fd6b:616e::1"
#define KAN_UDP	     "fd6b:616e::9" /* echo-discard */
#define LINK_ROUTER  "fd6b:616e:0:1::1"
#define LINK_HOST    HOST_NET_LINK_HOST
#define ROUTER_LOCAL "fe80::70:6bff:fe00:1%" TAP
#define NIC_MAC	     "02:70:6b:00:00:01"
#define PING	     "/usr/bin/ping"
#define PING_TIMEOUT 60000

/* The boot manifest packosd uses when given none, the README's: the NIC's driver, kan-echo,
 * the multicast server and two nodes. */
static const char *const manifest = manifest_default_text;

static struct harness *start(const char *extra, const char *extra_value)
{
	return host_net_start(manifest, extra, extra_value);
}

static void shell(struct harness_result *r, const char *script)
{
	host_net_shell(r, script, 30000);
}

/* Runs ping with `args` (NULL-terminated) and returns its result. */
static void ping(struct harness_result *r, const char *arg, ...)
{
	const char *argv[32] = {PING, "-6", "-n"};
	int argc = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a != NULL && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	harness_exec(argv, PING_TIMEOUT, r);
}

/* `count` requests, every one answered. */
static void expect_all_answered(const struct harness_result *r, const char *count)
{
	char want[64];
	snprintf(want, sizeof want, "%s packets transmitted, %s received", count, count);
	if (strstr(r->out, want) == NULL)
		fail_msg("ping lost answers; it said:\n%s%s", r->out, r->err);
	harness_expect_status(r, 0);
}

static void test_ping6_reaches_every_process_and_the_router(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	/* Every process the default manifest started, whatever it is, answers ping: the
	 * runtime's stack does, through the router, which takes one off the hop limit. */
	struct harness_result ps;
	harness_ctl_json(h, &ps, "ps", NULL);
	harness_expect_status(&ps, 0);
	long long count = harness_json_len(ps.out, "processes");
	assert_true(count >= 5);
	for (long long i = 0; i < count; i++) {
		char path[64], name[64], addresses[256];
		snprintf(path, sizeof path, "processes.%lld.name", i);
		assert_true(harness_json_str(ps.out, path, name, sizeof name));
		snprintf(path, sizeof path, "processes.%lld.addresses", i);
		assert_true(harness_json_str(ps.out, path, addresses, sizeof addresses));
		char *first = strtok(addresses, ",");
		assert_non_null(first);
		struct harness_result r;
		ping(&r, "-c", "3", "-i", "0.2", "-W", "5", first, NULL);
		expect_all_answered(&r, "3");
		/* The router answers for itself; everyone else is one hop behind it. */
		harness_expect(r.out, strcmp(first, KAN_DRIVER) == 0 ? "ttl=64" : "ttl=63");
		print_message("%s at %s answers\n", name, first);
		harness_result_free(&r);
	}
	harness_result_free(&ps);
	static const char *const router[] = {LINK_ROUTER, ROUTER_LOCAL};
	for (unsigned i = 0; i < 2; i++) {
		struct harness_result r;
		ping(&r, "-c", "2", "-i", "0.2", "-W", "5", router[i], NULL);
		expect_all_answered(&r, "2");
		harness_expect(r.out, "ttl=64");
		harness_result_free(&r);
	}
	harness_stop(h);
}

/* Every size from nothing to the link's MTU, then fragmented ones up to 8 KiB. An answer
 * larger than the link's MTU first meets the router's packet-too-big, which teaches the
 * process the path MTU (as any IPv6 host learns it): the first such ping primes it. */
static void test_ping6_sizes_up_to_the_mtu_and_fragmented(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	static const char *const sizes[] = {"0", "1", "56", "1000", "1452"};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct harness_result r;
		ping(&r, "-c", "2", "-i", "0.2", "-W", "5", "-s", sizes[i], KAN_NODE, NULL);
		expect_all_answered(&r, "2");
		harness_result_free(&r);
	}
	static const char *const large[] = {"1453", "3000", "4048", "6000", "8192"};
	for (unsigned i = 0; i < sizeof large / sizeof large[0]; i++) {
		struct harness_result r;
		ping(&r, "-c", "1", "-W", "2", "-s", large[i], KAN_ECHO, NULL);
		harness_result_free(&r);
		ping(&r, "-c", "3", "-i", "0.2", "-W", "5", "-s", large[i], KAN_ECHO, NULL);
		expect_all_answered(&r, "3");
		harness_result_free(&r);
	}
	harness_stop(h);
}

static void test_ping6_flood_loses_nothing(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	ping(&r, "-f", "-c", "10000", "-W", "5", KAN_ECHO, NULL);
	expect_all_answered(&r, "10000");
	harness_result_free(&r);
	harness_stop(h);
}

static void test_router_errors_reach_the_host(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	/* Nobody holds this KAN address: the kernel refuses, the router says so. */
	ping(&r, "-c", "1", "-W", "3", "fd6b:616e::99", NULL);
	harness_expect(r.out, "Destination unreachable: Address unreachable");
	harness_result_free(&r);
	/* Hop limit 1 expires at the router. */
	ping(&r, "-c", "1", "-W", "3", "-t", "1", KAN_ECHO, NULL);
	harness_expect(r.out, "Time exceeded: Hop limit");
	harness_result_free(&r);
	/* Neither the KAN nor the link: no route. */
	ping(&r, "-c", "1", "-W", "3", "-I", LINK_HOST, "fd6b:616e:0:2::5", NULL);
	harness_result_free(&r);
	harness_stop(h);
}

/* Stops the KAN capture and expects tshark to find at least one packet matching `filter`
 * in it, described with `summary`. */
/* A PackOS process sends the host a packet larger than the link: the router answers with
 * packet-too-big carrying the link's MTU, seen in the KAN's own capture. */
static void test_oversized_packet_gets_packet_too_big(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	harness_ctl(h, &r, "run", "kan-ping", "address=::99", "--", "-c", "1", "-W", "2", "-s",
		    "2000", LINK_HOST, NULL);
	harness_result_free(&r);
	host_net_expect_in_capture(
		h,
		"icmpv6.type == 2 && icmpv6.mtu == 1500 && ipv6.src == " KAN_DRIVER
		" && ipv6.dst == fd6b:616e::99",
		"Packet Too Big");
	harness_stop(h);
}

/* Sends `bytes` random bytes to echo-discard's echo through `nc` (the command, up to the
 * end of its address and port) and expects them back byte for byte, in up to `tries`. */
static void expect_random_bytes_echoed(struct harness *h, const char *nc, unsigned bytes,
				       unsigned tries)
{
	char dir[HARNESS_PATH_SIZE], script[4 * HARNESS_PATH_SIZE + 512];
	harness_path(h, "", dir, sizeof dir);
	snprintf(script, sizeof script,
		 "head -c %u /dev/urandom > %s/large && "
		 "for try in $(seq %u); do %s < %s/large > %s/back; "
		 "cmp -s %s/large %s/back && echo byte-exact && break; done",
		 bytes, dir, tries, nc, dir, dir, dir, dir);
	struct harness_result r;
	shell(&r, script);
	harness_expect(r.out, "byte-exact");
	harness_result_free(&r);
}

/* The host's nc against echo-discard: UDP echo byte for byte, a datagram larger than the
 * link in fragments both ways (the first is lost to path MTU discovery, as on any IPv6
 * path narrower than its source thinks), discard answering nothing, and a port nobody
 * bound answered port unreachable (in the KAN capture). */
static void test_udp_echo_and_discard_from_the_host(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	shell(&r, "echo hello-packos | nc -6 -u -w1 " KAN_UDP " 7");
	harness_expect_status(&r, 0);
	harness_expect(r.out, "hello-packos");
	harness_result_free(&r);

	expect_random_bytes_echoed(h, "nc -6 -u -w1 " KAN_UDP " 7", 6000, 3);

	shell(&r, "echo into-the-void | nc -6 -u -w1 " KAN_UDP " 9 | wc -c");
	harness_expect_status(&r, 0);
	harness_expect(r.out, "0");
	harness_result_free(&r);

	shell(&r, "echo nobody | nc -6 -u -w1 " KAN_UDP " 4242");
	harness_result_free(&r);
	host_net_expect_in_capture(h,
				   "icmpv6.type == 1 && icmpv6.code == 4 && ipv6.src == " KAN_UDP
				   " && udp.dstport == 4242",
				   "Destination Unreachable");
	harness_stop(h);
}

/* TCP Echo and Discard against the host's own TCP: a line, a megabyte of random bytes
 * echoed byte for byte (both directions at once, through the windows of both stacks),
 * and two megabytes discarded. nc -N closes its sending half at the end of its input, and
 * returns once the service has closed too, which `timeout` checks. */
static void test_tcp_echo_and_discard_from_the_host(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	/* `timeout` fails the command (status 124) if the service never closes its side. */
	shell(&r, "echo hello-stream | timeout 5 nc -6 -N " KAN_UDP " 7");
	harness_expect_status(&r, 0);
	harness_expect(r.out, "hello-stream");
	harness_result_free(&r);

	expect_random_bytes_echoed(h, "timeout 20 nc -6 -N " KAN_UDP " 7", 1000000, 1);

	char dir[HARNESS_PATH_SIZE], script[4 * HARNESS_PATH_SIZE + 512];
	harness_path(h, "", dir, sizeof dir);

	snprintf(script, sizeof script,
		 "head -c 2000000 /dev/zero > %s/zeros && "
		 "timeout 20 nc -6 -N " KAN_UDP " 9 < %s/zeros > %s/nothing; status=$?; "
		 "wc -c < %s/nothing; exit $status",
		 dir, dir, dir, dir);
	shell(&r, script);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "0");
	harness_result_free(&r);
	harness_stop(h);
}

/* A TCP connection to a port nobody listens on is refused with a reset (RFC 9293
 * §3.10.7.1), seen both by the host's nc and in the KAN capture. */
static void test_tcp_to_a_closed_port_is_reset(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	shell(&r, "nc -6 -z -v -w2 " KAN_NODE " 80");
	if (strstr(r.err, "Connection refused") == NULL)
		fail_msg("nc was not refused:\n%s%s", r.out, r.err);
	harness_result_free(&r);
	host_net_expect_in_capture(
		h,
		"tcp.flags.reset == 1 && tcp.flags.ack == 1 && ipv6.src == " KAN_NODE
		" && tcp.srcport == 80",
		"[RST, ACK]");
	harness_stop(h);
}

static void expect_no_malformed(const char *pcap)
{
	host_net_expect_no_malformed(pcap);
	struct harness_result r;
	const char *count[] = {"/usr/bin/tshark", "-n", "-r", pcap, NULL};
	harness_exec(count, 30000, &r);
	if (harness_count(r.out, "ICMPv6") < 10)
		fail_msg("%s holds too little:\n%s", pcap, r.out);
	harness_result_free(&r);
}

/* Both captures, the KAN's (packosd --pcap) and the host's on the TAP, decode cleanly. */
static void test_captures_decode_without_malformed_packets(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	char host_pcap[HARNESS_PATH_SIZE], kan_pcap[HARNESS_PATH_SIZE];
	harness_path(h, "host.pcap", host_pcap, sizeof host_pcap);
	harness_path(h, "kan.pcap", kan_pcap, sizeof kan_pcap);
	pid_t capture = fork();
	if (capture == 0) {
		execl("/usr/bin/tshark", "tshark", "-q", "-i", TAP, "-w", host_pcap, "-a",
		      "duration:60", (char *)NULL);
		_exit(127);
	}
	assert_true(capture > 0);
	harness_sleep_ms(1500); /* tshark starts capturing */
	struct harness_result r;
	ping(&r, "-c", "5", "-i", "0.2", "-W", "5", "-s", "3000", KAN_ECHO, NULL);
	harness_result_free(&r);
	ping(&r, "-c", "5", "-i", "0.2", "-W", "5", KAN_NODE, NULL);
	expect_all_answered(&r, "5");
	harness_result_free(&r);
	harness_ctl(h, &r, "run", "kan-ping", "address=::99", "--", "-c", "1", "-W", "2", "-s",
		    "2000", LINK_HOST, NULL);
	harness_result_free(&r);
	harness_sleep_ms(500);
	kill(capture, SIGINT);
	harness_record_pid(h, capture);
	int status;
	assert_int_equal(waitpid(capture, &status, 0), capture);
	harness_ctl(h, &r, "capture", "stop", NULL);
	harness_result_free(&r);
	expect_no_malformed(kan_pcap);
	expect_no_malformed(host_pcap);
	harness_stop(h);
}

/* A storm of malformed frames from the host: all refused and counted, none crash or hang
 * anything, ping works after, and every frame is back in the pool at the end. */
static void test_storm_of_malformed_frames(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	const char *storm[] = {WIRE_STORM_PATH, TAP, NIC_MAC, "fd6b:616e::", "200", "7", NULL};
	harness_exec(storm, 60000, &r);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "frames sent");
	harness_result_free(&r);

	ping(&r, "-c", "3", "-i", "0.2", "-W", "5", KAN_ECHO, NULL);
	expect_all_answered(&r, "3");
	harness_result_free(&r);
	harness_ctl(h, &r, "run", "nic-status", NULL);
	harness_expect_status(&r, 0);
	/* The driver counted what it refused, by reason. */
	harness_expect(r.out, "drop");
	harness_expect(r.out, "iommu refused 0");
	/* The storm went through the full router, the pings through the transit fast path,
	 * each frame routed on a copy of its header, and every frame's bytes were reached. */
	harness_expect(r.out, "no mapping 0,");
	const char *transit = strstr(r.out, "transit ");
	assert_non_null(transit);
	assert_true(strtoull(transit + strlen("transit "), NULL, 10) >= 6);
	harness_result_free(&r);
	harness_stop(h);
}

/* The faulty wire loses, duplicates and reorders; ping still gets most answers, and the
 * device counts every fault it made. */
static void test_wire_faults_are_injected_and_counted(void **state)
{
	(void)state;
	struct harness *h = start("--wire", "drop=10,duplicate=5,reorder=5,corrupt=2,seed=3");
	struct harness_result r;
	ping(&r, "-c", "100", "-i", "0.01", "-W", "1", KAN_ECHO, NULL);
	harness_expect(r.out, "100 packets transmitted");
	harness_result_free(&r);
	harness_ctl(h, &r, "run", "nic-status", NULL);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "wire faults: dropped ");
	if (strstr(r.out, "wire faults: dropped 0,") != NULL)
		fail_msg("no drops counted:\n%s", r.out);
	harness_result_free(&r);
	harness_stop(h);
}

/* The driver dies with frames on its rings; the device is reset, every frame comes back,
 * and a new driver brings the link back. */
static void test_driver_death_and_restart(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	struct harness_result r;
	ping(&r, "-c", "2", "-i", "0.2", "-W", "5", KAN_ECHO, NULL);
	expect_all_answered(&r, "2");
	harness_result_free(&r);
	harness_ctl(h, &r, "kill", "nic", NULL);
	harness_result_free(&r);
	harness_wait_log(h, "nic no longer drives the nic", 1, 10000);
	harness_ctl(h, &r, "spawn", "nic", "nic-driver", "address=::1", "rights=router,driver",
		    "device=nic", NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	harness_wait_log(h, "nic-driver: 02:70:6b:00:00:01 mtu 1500, link up", 2, 10000);
	ping(&r, "-c", "2", "-i", "0.2", "-W", "5", KAN_ECHO, NULL);
	expect_all_answered(&r, "2");
	harness_result_free(&r);
	harness_stop(h);
}

/* The step of `trace`, from `from` on, whose line holds every one of the strings; fails
 * the test, showing the trace, if there is none. */
#define STEP_AFTER(trace, from, ...) \
	found_step((trace), harness_find_line((from), __VA_ARGS__, NULL), #__VA_ARGS__)

static const char *found_step(const char *trace, const char *step, const char *what)
{
	if (step == NULL)
		fail_msg("no step with %s in the seed's order in the trace:\n%s", what, trace);
	return step;
}

/* packosctl trace ACTION, which must succeed. */
static void trace_ctl(struct harness *h, const char *action)
{
	struct harness_result r;
	harness_ctl(h, &r, "trace", action, NULL);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
}

static void ping_echo_once(void)
{
	struct harness_result r;
	ping(&r, "-c", "1", "-W", "5", KAN_ECHO, NULL);
	expect_all_answered(&r, "1");
	harness_result_free(&r);
}

/* One ping from the host to echo, as packosd traced it: the steps in the seed's order,
 * grouped by its stages. A first ping warms the neighbour caches of the host and the
 * router, so the traced one crosses the NIC as an echo request and its answer only. */
static void test_trace_of_one_ping(void **state)
{
	(void)state;
	struct harness *h = start(NULL, NULL);
	ping_echo_once();
	/* The host sends packets of its own when it likes (MLD reports, solicitations): one
	 * just ahead of the traced ping raises the interrupt the ping's would have, and the
	 * trace shows two packets interleaved. Such a trace is taken again, twice at most. */
	struct harness_result shown;
	for (unsigned attempt = 0;; attempt++) {
		trace_ctl(h, "start");
		ping_echo_once();
		trace_ctl(h, "stop");
		harness_ctl(h, &shown, "trace", "show", NULL);
		harness_expect_status(&shown, 0);
		const char *first =
			harness_find_line(shown.out, "device", "rx from the wire", NULL);
		if (attempt == 2 || first == NULL ||
		    first == harness_find_line(shown.out, "device", "rx from the wire",
					       "-> " KAN_ECHO ",", NULL))
			break;
		printf("another packet came first; tracing again:\n%s", shown.out);
		harness_result_free(&shown);
	}
	printf("%s", shown.out);
	const char *t = shown.out;
	/* The echo request: the NIC, its interrupt, the bottom half, the top half's send. */
	const char *s = STEP_AFTER(t, t, "device", "rx from the wire", "-> " KAN_ECHO ",");
	s = STEP_AFTER(t, s, "kernel", "interrupt line 0 raised (rx", "packet queued");
	s = STEP_AFTER(t, s, " nic ", "recv -> frame", "interrupt packet from the kernel");
	const char *queued = STEP_AFTER(t, s, "kernel", "queued at echo's endpoint " KAN_ECHO,
					LINK_HOST " -> " KAN_ECHO);
	s = STEP_AFTER(t, queued, " nic ", "send frame", "-> ok");
	const char *ack = STEP_AFTER(t, s, " nic ", "irq_ack line 0 -> ok");
	/* The process answers, and its answer goes out through the top half and the NIC. The
	 * echo server may take the request before the driver has acknowledged its interrupt:
	 * the two run at once, so the acknowledgement is checked against the driver's own
	 * steps alone. */
	s = STEP_AFTER(t, s, " echo ", "recv -> frame", LINK_HOST " -> " KAN_ECHO);
	s = STEP_AFTER(t, s, "kernel",
		       "queued at nic's endpoint " KAN_DRIVER " (the default route)",
		       KAN_ECHO " -> " LINK_HOST);
	s = STEP_AFTER(t, s, " echo ", "send frame", "-> ok");
	const char *reply = STEP_AFTER(t, s, " nic ", "recv -> frame", KAN_ECHO " -> " LINK_HOST);
	if (ack > reply)
		fail_msg("the driver took the answer before acknowledging its interrupt:\n%s", t);
	s = STEP_AFTER(t, reply, "device", "nic entered the kernel with 1 TX descriptor posted");
	s = STEP_AFTER(t, s, "device", "tx frame", "to the wire", KAN_ECHO " -> " LINK_HOST);
	STEP_AFTER(t, s, "kernel", "interrupt line 0 raised (tx");
	/* The stages, as headings, follow the seed's figure both ways. */
	static const char *const stages[] = {"NIC",	"interrupt", "bottom half", "top half",
					     "process", "top half",  "NIC",	    "interrupt"};
	s = t;
	for (unsigned i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		char heading[32];
		snprintf(heading, sizeof heading, "\n%s\n", stages[i]);
		const char *found = strstr(s, heading);
		if (found == NULL)
			fail_msg("no '%s' heading in the seed's order in the trace:\n%s", stages[i],
				 t);
		s = found + 1;
	}

	/* The same steps for programs: one row each, as many as the trace holds. */
	struct harness_result r;
	harness_ctl_json(h, &r, "trace", "show", NULL);
	harness_expect_status(&r, 0);
	long long held;
	assert_true(harness_json_num(r.out, "trace.held", &held));
	assert_int_equal(harness_json_len(r.out, "steps"), held);
	harness_result_free(&r);
	harness_result_free(&shown);
	harness_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)
		T(test_ping6_reaches_every_process_and_the_router),
		T(test_ping6_sizes_up_to_the_mtu_and_fragmented),
		T(test_ping6_flood_loses_nothing),
		T(test_router_errors_reach_the_host),
		T(test_oversized_packet_gets_packet_too_big),
		T(test_captures_decode_without_malformed_packets),
		T(test_storm_of_malformed_frames),
		T(test_wire_faults_are_injected_and_counted),
		T(test_driver_death_and_restart),
		T(test_trace_of_one_ping),
		T(test_udp_echo_and_discard_from_the_host),
		T(test_tcp_to_a_closed_port_is_reset),
		T(test_tcp_echo_and_discard_from_the_host),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
