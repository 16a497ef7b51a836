/* The host's side of the network: see host_net.h. */
#define _GNU_SOURCE
#include "host_net.h"

#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

void host_net_enter(void)
{
	static bool entered;
	if (entered)
		return;
	if (geteuid() != 0)
		harness_require_failed("the network tests need root (a namespace and a TAP)");
	if (unshare(CLONE_NEWNET) < 0)
		harness_require_failed("unshare(CLONE_NEWNET) failed");
	struct harness_result r;
	const char *lo[] = {"/sbin/ip", "link", "set", "lo", "up", NULL};
	harness_exec(lo, 5000, &r);
	harness_expect_status(&r, 0);
	harness_result_free(&r);
	const char *up[] = {PACKOS_SOURCE_DIR "/scripts/host-net",
			    "up",
			    "--tap",
			    HOST_NET_TAP,
			    "--user",
			    "root",
			    NULL};
	harness_exec(up, 10000, &r);
	harness_expect_status(&r, 0);
	harness_expect(r.out, "host " HOST_NET_LINK_HOST);
	harness_result_free(&r);
	entered = true;
}

struct harness *host_net_start(const char *manifest, const char *extra, const char *extra_value)
{
	host_net_enter();
	struct harness_options opt = {
		.manifest = manifest,
		.args = {"--tap", HOST_NET_TAP, "--pcap", "@/kan.pcap", extra, extra_value, NULL},
	};
	struct harness *h = harness_start(&opt);
	harness_wait_log(h, "nic-driver: 02:70:6b:00:00:01 mtu 1500, link up", 1, 10000);
	return h;
}

void host_net_shell(struct harness_result *r, const char *script, int timeout_ms)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	harness_exec(argv, timeout_ms, r);
}

void host_net_expect_in_capture(struct harness *h, const char *filter, const char *summary)
{
	struct harness_result r;
	harness_ctl(h, &r, "capture", "stop", NULL);
	harness_result_free(&r);
	char pcap[HARNESS_PATH_SIZE];
	harness_path(h, "kan.pcap", pcap, sizeof pcap);
	const char *tshark[] = {"/usr/bin/tshark", "-n", "-r", pcap, "-Y", filter, NULL};
	harness_exec(tshark, 30000, &r);
	harness_expect_status(&r, 0);
	if (harness_count(r.out, summary) < 1)
		fail_msg("no %s matching %s in the KAN capture:\n%s%s", summary, filter, r.out,
			 r.err);
	harness_result_free(&r);
}

void host_net_expect_no_malformed(const char *pcap)
{
	struct harness_result r;
	const char *tshark[] = {"/usr/bin/tshark", "-n", "-r", pcap, "-Y", "_ws.malformed", NULL};
	harness_exec(tshark, 60000, &r);
	harness_expect_status(&r, 0);
	if (r.out[0] != '\0')
		fail_msg("tshark finds malformed packets in %s:\n%s", pcap, r.out);
	harness_result_free(&r);
}
