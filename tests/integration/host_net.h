/* The host's side of the network for the integration tests that use the host's own tools
 * (ping, nc, curl, tshark): a network namespace of the test program's own, the host side
 * of the NIC set up in it by scripts/host-net as a user would, and packosd on the TAP. */
#ifndef TESTS_INTEGRATION_HOST_NET_H
#define TESTS_INTEGRATION_HOST_NET_H

#include "harness.h"

#define HOST_NET_TAP	   "packos0"
#define HOST_NET_LINK_HOST "fd6b:616e:0:1::2"

/* Enters the namespace and sets up the host side, once per program. Needs root: skipped
 * without it, failed under CI. */
void host_net_enter(void);

/* packosd with `manifest` on the TAP, capturing the KAN to "kan.pcap" in its directory,
 * with one more option (`extra`, `extra_value`; NULL for none); returns once the NIC's
 * link is up. */
struct harness *host_net_start(const char *manifest, const char *extra, const char *extra_value);

/* Runs `script` with /bin/sh, for at most `timeout_ms`. */
void host_net_shell(struct harness_result *r, const char *script, int timeout_ms);

/* Stops the KAN capture and fails unless tshark finds a packet matching `filter` whose
 * summary line holds `summary`. */
void host_net_expect_in_capture(struct harness *h, const char *filter, const char *summary);

/* Fails if tshark finds any malformed packet in `pcap`. */
void host_net_expect_no_malformed(const char *pcap);

#endif
