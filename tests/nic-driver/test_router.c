/* The router's decisions, one crafted packet at a time: forwarding both ways, every ICMPv6
 * error it sends with its bytes checked, NDP answers and resolution through the poll, and
 * every drop reason counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router_harness.h"

static int setup(void **state)
{
	*state = harness_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	harness_free(*state);
	return 0;
}

static uint64_t drops(const struct harness *h, enum router_drop reason)
{
	return h->router.counters.drops[reason];
}

static const struct neighbour *entry_for(const struct harness *h, const uint8_t *address)
{
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		const struct neighbour *n = &h->router.neighbours.entries[i];
		if (n->state != NEIGHBOUR_FREE && memcmp(n->address, address, 16) == 0)
			return n;
	}
	return NULL;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An echo request of `data` bytes from `source` to `destination` in h->packet. */
static uint32_t echo(struct harness *h, const uint8_t *source, const uint8_t *destination,
		     uint32_t data)
{
	struct builder b;
	build_start(&b, h->packet, source, destination);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0x00070001, data);
	return b.length;
}

static void expect_drop(struct harness *h, enum router_action action, enum router_drop reason)
{
	assert_int_equal(action, ROUTER_DROP);
	assert_int_equal(h->d.drop, reason);
	assert_true(drops(h, reason) >= 1);
}

/* Forwarding from the wire */

static void test_router_forwards_wire_to_kan_one_hop_less(void **state)
{
	struct harness *h = *state;
	uint32_t length = echo(h, host, address_peer, 56);
	/* Link padding after the packet is not forwarded. */
	assert_int_equal(wire_in(h, h->packet, length + 6, 0), ROUTER_TO_KAN);
	assert_int_equal(h->d.length, length);
	assert_int_equal(h->frame[7], 63);
	h->packet[7] = 63;
	assert_memory_equal(h->frame, h->packet, length);
	assert_int_equal(h->router.counters.forwarded_to_kan, 1);
	assert_int_equal(h->router.counters.sent_to_kan, 1);
}

static void test_router_hop_limit_1_from_the_wire_is_time_exceeded(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	uint32_t length = echo(h, host, address_peer, 56);
	h->packet[7] = 1;
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	assert_int_equal(h->d.ethertype, ETHERNET_TYPE_IPV6);
	/* From the router's address in the link prefix: the source is not link-local. */
	assert_error(h, PK_ICMPV6_TIME_EXCEEDED, PK_ICMPV6_TIME_HOP_LIMIT, router_link, host,
		     h->packet, length);
	assert_int_equal(h->d.drop, ROUTER_DROP_HOP_LIMIT);
	assert_int_equal(drops(h, ROUTER_DROP_HOP_LIMIT), 1);
	assert_int_equal(h->router.counters.errors_sent, 1);
	assert_int_equal(h->router.counters.forwarded_to_kan, 0);

	h->packet[7] = 0;
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_int_equal(drops(h, ROUTER_DROP_HOP_LIMIT), 2);
}

static void test_router_link_local_source_never_leaves_the_link(void **state)
{
	struct harness *h = *state;
	teach_host(h, host_link_local, 0);
	uint32_t length = echo(h, host_link_local, address_peer, 16);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	/* From the router's link-local address, since the source was link-local. */
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_BEYOND_SCOPE,
		     router_link_local, host_link_local, h->packet, length);
	assert_int_equal(drops(h, ROUTER_DROP_BEYOND_SCOPE), 1);
}

static void test_router_wire_destination_outside_the_kan_is_unreachable(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	uint32_t length = echo(h, host, off_link, 16);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_NO_ROUTE, router_link, host,
		     h->packet, length);
	assert_int_equal(drops(h, ROUTER_DROP_NO_ROUTE), 1);
}

static void test_router_ingress_filter_drops_kan_and_router_sources(void **state)
{
	struct harness *h = *state;
	uint32_t length = echo(h, address_peer, address_other, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_SPOOFED);
	length = echo(h, router_link, address_other, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_SPOOFED);
	length = echo(h, router_kan, router_link, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_SPOOFED);
	assert_int_equal(drops(h, ROUTER_DROP_SOURCE_SPOOFED), 3);
	assert_int_equal(h->router.counters.sent_to_kan, 0);
}

static void test_router_drops_invalid_sources_from_the_wire(void **state)
{
	struct harness *h = *state;
	static const uint8_t loopback[16] = {[15] = 1}, unspecified[16] = {0};
	uint32_t length = echo(h, address_all_nodes, address_peer, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_INVALID);
	length = echo(h, loopback, address_peer, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_INVALID);
	/* :: may only solicit: not ping the router, nor be forwarded. */
	length = echo(h, unspecified, router_link, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_INVALID);
	length = echo(h, unspecified, address_peer, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_SOURCE_INVALID);
	assert_int_equal(drops(h, ROUTER_DROP_SOURCE_INVALID), 4);
	assert_int_equal(h->router.wire_iface.counters.echo_replies, 0);
}

static void test_router_never_forwards_to_link_local_or_groups(void **state)
{
	struct harness *h = *state;
	static const uint8_t other_link_local[16] = {0xfe, 0x80, [15] = 0x99};
	static const uint8_t mdns[16] = {0xff, 0x02, [15] = 0xfb};
	static const uint8_t site_group[16] = {0xff, 0x05, [15] = 1};
	static const uint8_t unspecified[16] = {0}, loopback[16] = {[15] = 1};
	uint32_t length = echo(h, host, other_link_local, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_LINK_LOCAL_DESTINATION);
	length = echo(h, host, mdns, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_MULTICAST_LINK_SCOPE);
	length = echo(h, host, site_group, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_MULTICAST_NOT_ROUTED);
	length = echo(h, host, unspecified, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_DESTINATION_INVALID);
	length = echo(h, host, loopback, 8);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_DESTINATION_INVALID);
}

static void test_router_drops_frames_that_are_not_ipv6_or_not_ours(void **state)
{
	struct harness *h = *state;
	uint32_t length = echo(h, host, address_peer, 8);
	memcpy(h->frame, h->packet, length);
	struct ethernet_header ethernet = {.type = 0x0800};
	memcpy(ethernet.destination, mac_router, 6);
	memcpy(ethernet.source, mac_host, 6);
	expect_drop(h, router_from_wire(&h->router, h->frame, length, &ethernet, 0, &h->d),
		    ROUTER_DROP_NOT_IPV6);
	ethernet.type = ETHERNET_TYPE_IPV6;
	ethernet.destination[5] = 0x77;
	expect_drop(h, router_from_wire(&h->router, h->frame, length, &ethernet, 0, &h->d),
		    ROUTER_DROP_FRAME_NOT_OURS);
	memset(ethernet.destination, 0xff, 6);
	ethernet.source[0] = 0x01;
	expect_drop(h, router_from_wire(&h->router, h->frame, length, &ethernet, 0, &h->d),
		    ROUTER_DROP_FRAME_FROM_MULTICAST);
	/* A broadcast frame from a unicast MAC is the router's to look at. */
	ethernet.source[0] = 0x02;
	assert_int_equal(router_from_wire(&h->router, h->frame, length, &ethernet, 0, &h->d),
			 ROUTER_TO_KAN);
	assert_int_equal(h->router.counters.from_wire, 4);
}

static void test_router_drops_truncated_and_bad_length_packets(void **state)
{
	struct harness *h = *state;
	uint32_t length = echo(h, host, address_peer, 8);
	expect_drop(h, wire_in(h, h->packet, 30, 0), ROUTER_DROP_SHORT);
	expect_drop(h, wire_in(h, h->packet, length - 1, 0), ROUTER_DROP_LENGTH);
	expect_drop(h, kan_in(h, h->packet, 0, 0), ROUTER_DROP_SHORT);
	expect_drop(h, kan_in(h, h->packet, length - 1, 0), ROUTER_DROP_LENGTH);
	/* More than a frame holds is the caller's mistake, refused before any read. */
	struct ethernet_header ethernet = {.type = ETHERNET_TYPE_IPV6};
	memcpy(ethernet.destination, mac_router, 6);
	memcpy(ethernet.source, mac_host, 6);
	expect_drop(h,
		    router_from_wire(&h->router, h->frame, PK_FRAME_SIZE + 1, &ethernet, 0, &h->d),
		    ROUTER_DROP_LENGTH);
	expect_drop(h, router_from_kan(&h->router, h->frame, UINT32_MAX, 0, &h->d),
		    ROUTER_DROP_LENGTH);
	h->packet[0] = 0x40;
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_VERSION);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_VERSION);
	assert_int_equal(drops(h, ROUTER_DROP_SHORT), 2);
	assert_int_equal(drops(h, ROUTER_DROP_LENGTH), 4);
	assert_int_equal(drops(h, ROUTER_DROP_VERSION), 2);
}

/* Neighbor Discovery on the wire */

static void assert_advert(const struct harness *h, const uint8_t *target, const uint8_t *to,
			  uint8_t flags)
{
	const uint8_t *p = h->frame;
	assert_int_equal(h->d.length, 40 + 32);
	assert_int_equal(p[7], 255);
	assert_memory_equal(p + 8, target, 16);
	assert_memory_equal(p + 24, to, 16);
	assert_int_equal(p[40], NDP_NEIGHBOUR_ADVERT);
	assert_int_equal(p[41], 0);
	assert_true(pk_icmpv6_checksum_ok(p, 40, 32));
	assert_int_equal(p[44], flags);
	assert_memory_equal(p + 48, target, 16);
	assert_int_equal(p[64], NDP_OPTION_TARGET_MAC);
	assert_int_equal(p[65], 1);
	assert_memory_equal(p + 66, mac_router, 6);
}

static void test_router_answers_a_solicitation_for_each_of_its_addresses(void **state)
{
	struct harness *h = *state;
	const uint8_t *targets[] = {router_link_local, router_link, router_kan};
	const uint8_t *sources[] = {host_link_local, host, host};
	for (unsigned i = 0; i < 3; i++) {
		struct builder b;
		uint8_t group[16];
		ndp_solicited_node(targets[i], group);
		build_start(&b, h->packet, sources[i], group);
		build_solicit(&b, targets[i], mac_host);
		assert_int_equal(wire_in(h, h->packet, b.length, i * SECOND), ROUTER_TO_WIRE);
		assert_memory_equal(h->d.mac, mac_host, 6);
		assert_advert(h, targets[i], sources[i],
			      NDP_ADVERT_ROUTER | NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE);
	}
	assert_non_null(entry_for(h, host));
	assert_non_null(entry_for(h, host_link_local));
	assert_int_equal(h->router.counters.solicits_received, 3);
	assert_int_equal(h->router.counters.adverts_sent, 3);

	/* A unicast probe without a link-layer option, from a host the router knows. */
	struct builder b;
	build_start(&b, h->packet, host, router_link);
	build_solicit(&b, router_link, NULL);
	assert_int_equal(wire_in(h, h->packet, b.length, 3 * SECOND), ROUTER_TO_WIRE);
	assert_advert(h, router_link, host,
		      NDP_ADVERT_ROUTER | NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE);
}

static void test_router_answers_duplicate_address_detection_to_all_nodes(void **state)
{
	struct harness *h = *state;
	static const uint8_t unspecified[16] = {0};
	struct builder b;
	uint8_t group[16];
	ndp_solicited_node(router_link, group);
	build_start(&b, h->packet, unspecified, group);
	build_solicit(&b, router_link, NULL);
	assert_int_equal(wire_in(h, h->packet, b.length, 0), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_all_nodes, 6);
	assert_advert(h, router_link, address_all_nodes, NDP_ADVERT_ROUTER | NDP_ADVERT_OVERRIDE);
	assert_null(entry_for(h, unspecified));
}

/* A solicitation for the router's link address from the host, with its MAC, to change. */
static uint32_t solicit_offset(struct harness *h, struct builder *b)
{
	uint8_t group[16];
	ndp_solicited_node(router_link, group);
	build_start(b, h->packet, host, group);
	return build_solicit(b, router_link, mac_host);
}

static void test_router_drops_invalid_solicitations(void **state)
{
	struct harness *h = *state;
	struct builder b;
	uint32_t at;

	at = solicit_offset(h, &b);
	h->packet[7] = 64;
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_HOP_LIMIT);

	at = solicit_offset(h, &b);
	h->packet[at + 1] = 1;
	fix_checksum(h->packet, at, b.length - at);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_CODE);

	at = solicit_offset(h, &b);
	h->packet[at + 25] = 2; /* the option claims 16 bytes; 8 are there */
	fix_checksum(h->packet, at, b.length - at);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_OPTION);

	at = solicit_offset(h, &b);
	h->packet[at + 25] = 0;
	fix_checksum(h->packet, at, b.length - at);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_OPTION);

	at = solicit_offset(h, &b);
	memcpy(h->packet + at + 8, address_all_nodes, 16);
	fix_checksum(h->packet, at, b.length - at);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_TARGET_MULTICAST);

	at = solicit_offset(h, &b);
	memset(h->packet + 8, 0, 16); /* from :: but with a source link-layer option */
	fix_checksum(h->packet, at, b.length - at);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_UNSPECIFIED_SOURCE);

	/* From :: to the router's own address rather than the group. */
	static const uint8_t unspecified[16] = {0};
	build_start(&b, h->packet, unspecified, router_link);
	build_solicit(&b, router_link, NULL);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_UNSPECIFIED_SOURCE);

	at = solicit_offset(h, &b);
	h->packet[at + 2] ^= 0x55;
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_ICMP_CHECKSUM);

	/* Twelve bytes of a solicitation: too short to hold a target. */
	build_start(&b, h->packet, host, router_link);
	uint8_t body[8] = {0};
	build_ndp(&b, NDP_NEIGHBOUR_SOLICIT, body, sizeof body, 0, NULL);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_LENGTH);

	/* In a fragment header, even a whole one (RFC 6980). */
	build_start(&b, h->packet, host, router_link);
	build_fragment(&b, 0, 0, 99);
	build_solicit(&b, router_link, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_FRAGMENTED);

	/* For an address that is not the router's. */
	static const uint8_t stranger[16] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1, [15] = 3};
	build_start(&b, h->packet, host, router_link);
	build_solicit(&b, stranger, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_TARGET_NOT_OURS);

	/* Nothing was learned from any of them, nor answered (RFC 4861 §7.2.3: a solicitation
	 * for someone else's address is discarded silently, its sender unlearned). */
	assert_int_equal(h->router.counters.adverts_sent, 0);
	assert_null(entry_for(h, host));
	assert_int_equal(h->router.counters.solicits_received, 1);
}

static void assert_router_advert(const struct harness *h)
{
	const uint8_t *p = h->frame;
	static const uint8_t link_prefix[16] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1};
	static const uint8_t kan_prefix[8] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 0};
	static const uint8_t zero[8] = {0};
	assert_memory_equal(h->d.mac, mac_all_nodes, 6);
	assert_int_equal(h->d.length, 40 + 80);
	assert_int_equal(p[0] >> 4, 6);
	assert_int_equal(p[4] << 8 | p[5], 80);
	assert_int_equal(p[6], PK_IPPROTO_ICMPV6);
	assert_int_equal(p[7], 255);
	assert_memory_equal(p + 8, router_link_local, 16);
	assert_memory_equal(p + 24, address_all_nodes, 16);
	const uint8_t *m = p + 40;
	assert_int_equal(m[0], NDP_ROUTER_ADVERT);
	assert_int_equal(m[1], 0);
	assert_true(pk_icmpv6_checksum_ok(p, 40, 80));
	assert_int_equal(m[4], 64);	       /* cur hop limit */
	assert_int_equal(m[5], 0);	       /* M, O clear; preference medium */
	assert_int_equal(m[6] << 8 | m[7], 0); /* router lifetime: not a default router */
	assert_memory_equal(m + 8, zero, 8);   /* reachable time, retrans timer */
	assert_int_equal(m[16], NDP_OPTION_SOURCE_MAC);
	assert_int_equal(m[17], 1);
	assert_memory_equal(m + 18, mac_router, 6);
	assert_int_equal(m[24], NDP_OPTION_MTU);
	assert_int_equal(m[25], 1);
	assert_int_equal(m[26] << 8 | m[27], 0);
	assert_int_equal(get32(m + 28), 1500);
	assert_int_equal(m[32], NDP_OPTION_PREFIX);
	assert_int_equal(m[33], 4);
	assert_int_equal(m[34], 64);
	assert_int_equal(m[35], 0x80); /* L set, A clear */
	assert_int_equal(get32(m + 36), ROUTER_PREFIX_VALID_S);
	assert_int_equal(get32(m + 40), ROUTER_PREFIX_PREFERRED_S);
	assert_int_equal(get32(m + 44), 0);
	assert_memory_equal(m + 48, link_prefix, 16);
	assert_int_equal(m[64], NDP_OPTION_ROUTE);
	assert_int_equal(m[65], 2);
	assert_int_equal(m[66], 64);
	assert_int_equal(m[67], 0);
	assert_int_equal(get32(m + 68), 3 * 600);
	assert_memory_equal(m + 72, kan_prefix, 8);
}

static void advertising(struct router_config *config)
{
	config->advertise = true;
}

static void test_router_answers_a_solicitation_with_a_full_advertisement(void **state)
{
	(void)state;
	struct harness *h = harness_new(advertising);
	assert_int_equal(router_next_deadline(&h->router), 0);
	assert_int_equal(poll_at(h, 0), ROUTER_TO_WIRE);
	assert_router_advert(h);
	assert_int_equal(poll_at(h, 0), ROUTER_IDLE);

	struct builder b;
	static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
	build_start(&b, h->packet, host, all_routers);
	build_router_solicit(&b, mac_host);
	assert_int_equal(wire_in(h, h->packet, b.length, 10 * SECOND), ROUTER_CONSUMED);
	const struct neighbour *learned = entry_for(h, host);
	assert_non_null(learned);
	assert_int_equal(learned->state, NEIGHBOUR_STALE);
	assert_memory_equal(learned->mac, mac_host, 6);
	/* After a random delay of at most half a second. */
	uint64_t due = router_next_deadline(&h->router);
	assert_true(due >= 10 * SECOND && due <= 10 * SECOND + SECOND / 2);
	if (due > 10 * SECOND)
		assert_int_equal(poll_at(h, due - 1), ROUTER_IDLE);
	assert_int_equal(poll_at(h, due), ROUTER_TO_WIRE);
	assert_router_advert(h);
	assert_int_equal(h->router.counters.router_adverts_sent, 2);
	assert_int_equal(h->router.counters.router_solicits_received, 1);
	harness_free(h);
}

static void test_router_advertises_fast_then_slowly_and_never_within_3s(void **state)
{
	(void)state;
	struct harness *h = harness_new(advertising);
	uint64_t sent[5];
	for (unsigned i = 0; i < 5; i++) {
		sent[i] = router_next_deadline(&h->router);
		assert_int_equal(poll_at(h, sent[i]), ROUTER_TO_WIRE);
		assert_router_advert(h);
	}
	assert_int_equal(sent[0], 0);
	assert_true(sent[1] - sent[0] <= 16 * SECOND);
	assert_true(sent[2] - sent[1] <= 16 * SECOND);
	/* Then between MinRtrAdvInterval (a third) and MaxRtrAdvInterval. */
	assert_true(sent[3] - sent[2] >= 200 * SECOND && sent[3] - sent[2] <= 600 * SECOND);
	assert_true(sent[4] - sent[3] >= 200 * SECOND && sent[4] - sent[3] <= 600 * SECOND);

	/* A solicitation a second after an advertisement waits for the 3 s gap. */
	struct builder b;
	build_start(&b, h->packet, host, address_all_nodes);
	build_router_solicit(&b, NULL);
	assert_int_equal(wire_in(h, h->packet, b.length, sent[4] + SECOND), ROUTER_CONSUMED);
	assert_int_equal(router_next_deadline(&h->router), sent[4] + 3 * SECOND);
	assert_int_equal(poll_at(h, sent[4] + 3 * SECOND - 1), ROUTER_IDLE);
	assert_int_equal(poll_at(h, sent[4] + 3 * SECOND), ROUTER_TO_WIRE);
	harness_free(h);
}

static void test_router_not_advertising_ignores_solicitations(void **state)
{
	struct harness *h = *state;
	struct builder b;
	build_start(&b, h->packet, host, address_all_nodes);
	build_router_solicit(&b, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_IGNORED);
	assert_int_equal(poll_at(h, 3600 * SECOND), ROUTER_IDLE);
	assert_int_equal(router_next_deadline(&h->router), UINT64_MAX);
}

static void test_router_drops_the_ndp_it_has_no_use_for(void **state)
{
	struct harness *h = *state;
	struct builder b;
	/* An advertisement about a neighbour it never asked for. */
	build_start(&b, h->packet, host, router_link);
	build_advert(&b, host, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_NO_ENTRY);
	/* Solicited, yet to all nodes. */
	build_start(&b, h->packet, host, address_all_nodes);
	build_advert(&b, host, NDP_ADVERT_SOLICITED, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_SOLICITED_MULTICAST);
	/* Another router's advertisement: validated, then ignored. */
	uint8_t body[12] = {64};
	build_start(&b, h->packet, host_link_local, address_all_nodes);
	build_ndp(&b, NDP_ROUTER_ADVERT, body, sizeof body, NDP_OPTION_SOURCE_MAC, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_IGNORED);
	build_start(&b, h->packet, host, address_all_nodes);
	build_ndp(&b, NDP_ROUTER_ADVERT, body, sizeof body, NDP_OPTION_SOURCE_MAC, mac_host);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_ROUTER_SOURCE);
	/* NDP has no business on the KAN. */
	build_start(&b, h->packet, address_peer, router_kan);
	build_solicit(&b, router_kan, NULL);
	expect_drop(h, kan_in(h, h->packet, b.length, 0), ROUTER_DROP_NDP_FROM_KAN);
	assert_int_equal(h->router.counters.sent_to_wire + h->router.counters.sent_to_kan, 0);
}

/* Resolution */

static uint32_t kan_to_host(struct harness *h, uint32_t data)
{
	struct builder b;
	build_start(&b, h->packet, address_peer, host);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 0x00070001, data);
	return b.length;
}

static void assert_solicit(const struct harness *h, const uint8_t *target, const uint8_t *source,
			   bool unicast)
{
	const uint8_t *p = h->frame;
	uint8_t group[16], mac[6];
	ndp_solicited_node(target, group);
	ethernet_multicast_mac(group, mac);
	assert_int_equal(h->d.action, ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, unicast ? mac_host : mac, 6);
	if (!unicast)
		assert_int_equal(mac[2], 0xff);
	assert_int_equal(h->d.length, 40 + 32);
	assert_int_equal(p[7], 255);
	assert_memory_equal(p + 8, source, 16);
	assert_memory_equal(p + 24, unicast ? target : group, 16);
	assert_int_equal(p[40], NDP_NEIGHBOUR_SOLICIT);
	assert_true(pk_icmpv6_checksum_ok(p, 40, 32));
	assert_memory_equal(p + 48, target, 16);
	assert_int_equal(p[64], NDP_OPTION_SOURCE_MAC);
	assert_memory_equal(p + 66, mac_router, 6);
}

static void host_advertises(struct harness *h, uint8_t flags, uint64_t now)
{
	struct builder b;
	build_start(&b, h->packet, host, router_link);
	build_advert(&b, host, flags, mac_host);
	assert_int_equal(wire_in(h, h->packet, b.length, now), ROUTER_CONSUMED);
}

static void test_router_holds_a_packet_until_its_next_hop_answers(void **state)
{
	struct harness *h = *state;
	uint32_t length = kan_to_host(h, 100);
	uint8_t expected[200];
	memcpy(expected, h->packet, length);
	expected[7]--;
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_HELD);
	assert_int_equal(h->router.counters.held, 1);
	assert_int_equal(router_next_deadline(&h->router), 0);
	assert_int_equal(poll_at(h, 0), ROUTER_TO_WIRE);
	assert_solicit(h, host, router_link, false);
	assert_memory_equal(h->d.mac, ((uint8_t[]){0x33, 0x33, 0xff, 0, 0, 2}), 6);
	assert_int_equal(poll_at(h, 0), ROUTER_IDLE);
	assert_int_equal(router_next_deadline(&h->router), SECOND);

	host_advertises(h, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, SECOND / 2);
	assert_int_equal(router_next_deadline(&h->router), 0);
	assert_int_equal(poll_at(h, SECOND / 2), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	assert_int_equal(h->d.length, length);
	assert_memory_equal(h->frame, expected, length);
	assert_int_equal(poll_at(h, SECOND / 2), ROUTER_IDLE);
	assert_int_equal(entry_for(h, host)->state, NEIGHBOUR_REACHABLE);
	assert_int_equal(h->router.counters.released, 1);

	/* Now it goes at once. */
	length = kan_to_host(h, 100);
	assert_int_equal(kan_in(h, h->packet, length, SECOND), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	assert_int_equal(h->router.counters.forwarded_to_wire, 2);
}

static void test_router_gives_up_after_three_solicitations(void **state)
{
	struct harness *h = *state;
	uint32_t length = kan_to_host(h, 100);
	uint8_t expected[200];
	memcpy(expected, h->packet, length);
	expected[7]--;
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_HELD);
	for (unsigned i = 0; i < 3; i++) {
		if (i > 0)
			assert_int_equal(poll_at(h, i * SECOND - 1), ROUTER_IDLE);
		assert_int_equal(poll_at(h, i * SECOND), ROUTER_TO_WIRE);
		assert_solicit(h, host, router_link, false);
		assert_int_equal(poll_at(h, i * SECOND), ROUTER_IDLE);
	}
	assert_int_equal(poll_at(h, 3 * SECOND - 1), ROUTER_IDLE);
	assert_int_equal(poll_at(h, 3 * SECOND), ROUTER_TO_KAN);
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_ADDRESS, router_kan,
		     address_peer, expected, length);
	assert_int_equal(h->d.drop, ROUTER_DROP_RESOLUTION_FAILED);
	assert_int_equal(drops(h, ROUTER_DROP_RESOLUTION_FAILED), 1);
	assert_int_equal(poll_at(h, 3 * SECOND), ROUTER_IDLE);
	assert_null(entry_for(h, host));
	assert_int_equal(h->router.counters.solicits_sent, 3);
	assert_int_equal(router_next_deadline(&h->router), UINT64_MAX);
}

static void test_router_keeps_the_newest_packets_for_a_neighbour(void **state)
{
	struct harness *h = *state;
	uint32_t lengths[NEIGHBOUR_QUEUE_DEPTH + 1];
	for (unsigned i = 0; i <= NEIGHBOUR_QUEUE_DEPTH; i++) {
		lengths[i] = kan_to_host(h, 10 + i);
		assert_int_equal(kan_in(h, h->packet, lengths[i], 0), ROUTER_HELD);
	}
	assert_int_equal(drops(h, ROUTER_DROP_PENDING_REPLACED), 1);
	assert_int_equal(poll_at(h, 0), ROUTER_TO_WIRE); /* one solicitation for all */
	assert_int_equal(poll_at(h, 0), ROUTER_IDLE);
	host_advertises(h, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, 0);
	/* Out in the order they came, all but the first. */
	for (unsigned i = 1; i <= NEIGHBOUR_QUEUE_DEPTH; i++) {
		assert_int_equal(poll_at(h, 0), ROUTER_TO_WIRE);
		assert_int_equal(h->d.length, lengths[i]);
	}
	assert_int_equal(poll_at(h, 0), ROUTER_IDLE);
	assert_int_equal(h->router.counters.released, NEIGHBOUR_QUEUE_DEPTH);
}

static void test_router_probes_a_stale_neighbour_it_uses(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	/* Answering the host used its stale entry: DELAY, then unicast probes. */
	assert_int_equal(entry_for(h, host)->state, NEIGHBOUR_DELAY);
	assert_int_equal(router_next_deadline(&h->router), 5 * SECOND);
	assert_int_equal(poll_at(h, 5 * SECOND - 1), ROUTER_IDLE);
	assert_int_equal(poll_at(h, 5 * SECOND), ROUTER_TO_WIRE);
	assert_solicit(h, host, router_link, true);
	assert_int_equal(entry_for(h, host)->state, NEIGHBOUR_PROBE);
	/* Packets still go to the MAC it had. */
	uint32_t length = kan_to_host(h, 8);
	assert_int_equal(kan_in(h, h->packet, length, 5 * SECOND), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	host_advertises(h, NDP_ADVERT_SOLICITED, 5 * SECOND + 1);
	assert_int_equal(entry_for(h, host)->state, NEIGHBOUR_REACHABLE);
	/* Thirty seconds later, unconfirmed again. */
	assert_int_equal(poll_at(h, 35 * SECOND + 1), ROUTER_IDLE);
	assert_int_equal(entry_for(h, host)->state, NEIGHBOUR_STALE);
}

static void test_router_refuses_new_neighbours_when_all_are_resolving(void **state)
{
	struct harness *h = *state;
	uint8_t destination[16];
	memcpy(destination, host, 16);
	for (unsigned i = 0; i <= NEIGHBOUR_CACHE_SIZE; i++) {
		destination[15] = (uint8_t)(0x10 + i);
		struct builder b;
		build_start(&b, h->packet, address_peer, destination);
		build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 8);
		enum router_action action = kan_in(h, h->packet, b.length, 0);
		if (i < NEIGHBOUR_CACHE_SIZE)
			assert_int_equal(action, ROUTER_HELD);
		else
			expect_drop(h, action, ROUTER_DROP_NEIGHBOUR_TABLE_FULL);
	}
	assert_int_equal(neighbour_pending(&h->router.neighbours), NEIGHBOUR_CACHE_SIZE);
}

/* Forwarding from the KAN */

static void test_router_too_big_for_the_link_is_packet_too_big(void **state)
{
	struct harness *h = *state;
	uint32_t length = kan_to_host(h, 1500 - 48 + 1);
	assert_int_equal(length, 1501);
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_TO_KAN);
	/* It quotes what fits in 1280 bytes, and carries the link's MTU. */
	assert_error(h, PK_ICMPV6_PACKET_TOO_BIG, 0, router_kan, address_peer, h->packet,
		     1280 - 48);
	assert_int_equal(get32(h->frame + 44), 1500);
	assert_int_equal(drops(h, ROUTER_DROP_TOO_BIG), 1);
	/* Exactly the MTU is fine: it waits for the host's MAC. */
	length = kan_to_host(h, 1500 - 48);
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_HELD);
}

static void test_router_hop_limit_1_from_the_kan_is_time_exceeded(void **state)
{
	struct harness *h = *state;
	uint32_t length = kan_to_host(h, 30);
	h->packet[7] = 1;
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_TO_KAN);
	assert_error(h, PK_ICMPV6_TIME_EXCEEDED, PK_ICMPV6_TIME_HOP_LIMIT, router_kan, address_peer,
		     h->packet, length);
}

static void test_router_kan_destination_beyond_the_link_without_gateway(void **state)
{
	struct harness *h = *state;
	struct builder b;
	build_start(&b, h->packet, address_peer, off_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 30);
	assert_int_equal(kan_in(h, h->packet, b.length, 0), ROUTER_TO_KAN);
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_NO_ROUTE, router_kan,
		     address_peer, h->packet, b.length);
	assert_int_equal(drops(h, ROUTER_DROP_NO_ROUTE), 1);
}

static const uint8_t gateway[16] = {0xfe, 0x80, [14] = 1, 1};

static void with_gateway(struct router_config *config)
{
	config->has_gateway = true;
	memcpy(config->gateway, gateway, 16);
}

static void test_router_sends_beyond_the_link_through_the_gateway(void **state)
{
	(void)state;
	struct harness *h = harness_new(with_gateway);
	struct builder b;
	build_start(&b, h->packet, address_peer, off_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 30);
	assert_int_equal(kan_in(h, h->packet, b.length, 0), ROUTER_HELD);
	assert_int_equal(poll_at(h, 0), ROUTER_TO_WIRE);
	/* The gateway is link-local: solicited from the router's link-local address. */
	assert_solicit(h, gateway, router_link_local, false);
	harness_free(h);
}

static void test_router_drops_what_the_kan_must_not_send_out(void **state)
{
	struct harness *h = *state;
	static const uint8_t site_group[16] = {0xff, 0x0e, [15] = 1};
	struct builder b;
	build_start(&b, h->packet, off_link, host);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8);
	expect_drop(h, kan_in(h, h->packet, b.length, 0), ROUTER_DROP_SOURCE_NOT_KAN);
	uint32_t length = echo(h, address_peer, address_all_nodes, 8);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_MULTICAST_LINK_SCOPE);
	length = echo(h, address_peer, site_group, 8);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_MULTICAST_NOT_ROUTED);
	length = echo(h, address_peer, host_link_local, 8);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_LINK_LOCAL_DESTINATION);
	length = echo(h, address_peer, router_link_local, 8);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_LINK_LOCAL_DESTINATION);
	length = echo(h, address_peer, address_other, 8);
	expect_drop(h, kan_in(h, h->packet, length, 0), ROUTER_DROP_KAN_DESTINATION);
	assert_int_equal(h->router.counters.sent_to_wire, 0);
}

static void test_router_kernel_refusals(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	uint32_t length = echo(h, host, address_other, 40);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_KAN);
	uint8_t forwarded[200];
	memcpy(forwarded, h->frame, length);

	assert_int_equal(
		router_kan_refused(&h->router, h->frame, length, -PK_EHOSTUNREACH, 0, &h->d),
		ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_ADDRESS, router_link, host,
		     forwarded, length);
	assert_int_equal(drops(h, ROUTER_DROP_KAN_UNREACHABLE), 1);

	memcpy(h->frame, forwarded, length);
	expect_drop(h, router_kan_refused(&h->router, h->frame, length, -PK_ENOBUFS, 0, &h->d),
		    ROUTER_DROP_KAN_BUSY);
	expect_drop(h, router_kan_refused(&h->router, h->frame, length, -PK_ENOMEM, 0, &h->d),
		    ROUTER_DROP_KAN_BUSY);
	expect_drop(h, router_kan_refused(&h->router, h->frame, length, -PK_EINVAL, 0, &h->d),
		    ROUTER_DROP_KAN_REFUSED);
	/* The router's own answer to a process that went away: nobody to tell. */
	length = echo(h, router_kan, address_other, 8);
	memcpy(h->frame, h->packet, length);
	expect_drop(h, router_kan_refused(&h->router, h->frame, length, -PK_EHOSTUNREACH, 0, &h->d),
		    ROUTER_DROP_KAN_UNREACHABLE);
	assert_int_equal(h->router.counters.kan_refusals, 5);
	assert_int_equal(h->router.counters.errors_sent, 1);
}

/* The router as a node */

static void assert_echo_reply(const struct harness *h, const uint8_t *from, const uint8_t *to,
			      uint32_t data)
{
	assert_int_equal(h->d.length, 48 + data);
	assert_memory_equal(h->frame + 8, from, 16);
	assert_memory_equal(h->frame + 24, to, 16);
	assert_int_equal(h->frame[40], PK_ICMPV6_ECHO_REPLY);
	assert_true(pk_icmpv6_checksum_ok(h->frame, 40, h->d.length - 40));
}

static void test_router_answers_ping_on_every_address(void **state)
{
	struct harness *h = *state;
	teach_host(h, host_link_local, 0);
	teach_host(h, host, 0);
	uint32_t length = echo(h, host_link_local, router_link_local, 56);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, 6);
	assert_echo_reply(h, router_link_local, host_link_local, 56);
	length = echo(h, host, router_kan, 56);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_echo_reply(h, router_kan, host, 56);
	length = echo(h, host, address_all_nodes, 8);
	assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	assert_echo_reply(h, router_link_local, host, 8);

	length = echo(h, address_peer, router_kan, 1000);
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_TO_KAN);
	assert_echo_reply(h, router_kan, address_peer, 1000);
	length = echo(h, address_peer, router_link, 0);
	assert_int_equal(kan_in(h, h->packet, length, 0), ROUTER_TO_KAN);
	assert_echo_reply(h, router_link, address_peer, 0);
	assert_int_equal(h->router.wire_iface.counters.echo_replies, 3);
	assert_int_equal(h->router.kan_iface.counters.echo_replies, 2);
}

static void test_router_answers_a_fragmented_ping_in_fragments(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	static uint8_t request[4096];
	struct builder b;
	build_start(&b, request, host, router_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 5, 3000);
	int count = pk_frag_count(request, b.length, 1280);
	assert_int_equal(count, 3);
	for (int i = 0; i < count; i++) {
		uint32_t length;
		assert_int_equal(pk_frag_write(request, b.length, 1280, 77, (unsigned)i, h->packet,
					       PK_FRAME_SIZE, &length),
				 0);
		enum router_action action = wire_in(h, h->packet, length, 0);
		if (i + 1 < count)
			assert_int_equal(action, ROUTER_CONSUMED);
		else
			assert_int_equal(action, ROUTER_TO_WIRE);
	}
	/* The reply's fragments: the first in the frame now, the rest from the poll. */
	static struct pk_reasm_slot slot;
	static uint8_t buffer[PK_REASM_HEADROOM + 4096];
	struct pk_reasm reasm;
	pk_reasm_init(&reasm, &slot, 1, buffer, sizeof buffer, 60 * SECOND);
	struct pk_reasm_datagram done = {0};
	unsigned fragments = 0;
	do {
		assert_int_equal(h->d.action, ROUTER_TO_WIRE);
		assert_memory_equal(h->d.mac, mac_host, 6);
		assert_true(h->d.length <= 1500);
		struct pk_ipv6_chain chain;
		assert_int_equal(pk_ipv6_parse_chain(h->frame, h->d.length, &chain), PK_NET_OK);
		assert_int_equal(pk_reasm_input(&reasm, h->frame, h->d.length, &chain, 0, &done),
				 PK_NET_OK);
		fragments++;
	} while (poll_at(h, 0) != ROUTER_IDLE);
	assert_int_equal(fragments, 3);
	assert_non_null(done.packet);
	h->d.length = done.length;
	memcpy(h->frame, done.packet, done.length);
	assert_echo_reply(h, router_link, host, 3000);
	assert_memory_equal(h->frame + 48, request + 48, 3000);
}

static void test_router_answers_an_8k_ping_from_the_kan_in_fragments(void **state)
{
	struct harness *h = *state;
	static uint8_t request[PK_IPV6_HEADER_SIZE + 8200];
	struct builder b;
	build_start(&b, request, address_peer, router_kan);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 6, 8192);
	int count = pk_frag_count(request, b.length, PK_FRAME_SIZE);
	assert_int_equal(count, 3);
	for (int i = 0; i < count; i++) {
		uint32_t length;
		assert_int_equal(pk_frag_write(request, b.length, PK_FRAME_SIZE, 5, (unsigned)i,
					       h->packet, PK_FRAME_SIZE, &length),
				 0);
		enum router_action action = kan_in(h, h->packet, length, 0);
		assert_int_equal(action, i + 1 < count ? ROUTER_CONSUMED : ROUTER_TO_KAN);
	}
	unsigned fragments = 0;
	uint32_t data = 0;
	do {
		assert_int_equal(h->d.action, ROUTER_TO_KAN);
		assert_memory_equal(h->frame + 8, router_kan, 16);
		assert_memory_equal(h->frame + 24, address_peer, 16);
		assert_int_equal(h->frame[6], PK_IPPROTO_FRAGMENT);
		data += h->d.length - 48;
		fragments++;
	} while (poll_at(h, 0) != ROUTER_IDLE);
	assert_int_equal(fragments, 3);
	assert_int_equal(data, 8 + 8192);
	assert_int_equal(h->router.kan_iface.counters.fragments_sent, 3);
}

static void test_router_reports_a_reassembly_that_never_completes(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	static uint8_t request[4096];
	struct builder b;
	build_start(&b, request, host, router_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 5, 3000);
	uint32_t length;
	assert_int_equal(
		pk_frag_write(request, b.length, 1280, 3, 0, h->packet, PK_FRAME_SIZE, &length), 0);
	assert_int_equal(wire_in(h, h->packet, length, SECOND), ROUTER_CONSUMED);
	assert_true(router_next_deadline(&h->router) <= 61 * SECOND);
	/* The host's entry times out on the way; the reassembly is the last thing due. */
	while (router_next_deadline(&h->router) < 61 * SECOND)
		poll_at(h, router_next_deadline(&h->router));
	assert_int_equal(router_next_deadline(&h->router), 61 * SECOND);
	assert_int_equal(poll_at(h, 61 * SECOND), ROUTER_HELD);
	assert_int_equal(h->router.wire_iface.counters.drops[PK_NET_DROP_FRAGMENT_TIMEOUT], 1);
	assert_int_equal(drops(h, ROUTER_DROP_FRAGMENT_TIMEOUT), 1);
	/* The time exceeded waits for the host's MAC, which it gives again. */
	assert_int_equal(poll_at(h, 61 * SECOND), ROUTER_TO_WIRE);
	assert_solicit(h, host, router_link, false);
	host_advertises(h, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, 61 * SECOND);
	assert_int_equal(poll_at(h, 61 * SECOND), ROUTER_TO_WIRE);
	assert_int_equal(h->frame[40], PK_ICMPV6_TIME_EXCEEDED);
	assert_int_equal(h->frame[41], PK_ICMPV6_TIME_REASSEMBLY);
	assert_memory_equal(h->frame + 8, router_link, 16);
	assert_memory_equal(h->frame + 24, host, 16);
	assert_int_equal(poll_at(h, 61 * SECOND), ROUTER_IDLE);
}

static void test_router_answers_udp_with_port_unreachable(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	struct builder b;
	build_start(&b, h->packet, host, router_link);
	build_udp(&b, 40000, 7, "12345678", 8);
	assert_int_equal(wire_in(h, h->packet, b.length, 0), ROUTER_TO_WIRE);
	assert_error(h, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, router_link, host,
		     h->packet, b.length);
	assert_int_equal(drops(h, ROUTER_DROP_PROTOCOL_UNHANDLED), 1);
	build_start(&b, h->packet, host, router_link);
	build_tcp(&b, 40000, 80, 0x02, 1, 0, "", 0);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_PROTOCOL_UNHANDLED);
}

static void test_router_notes_errors_and_drops_other_icmp(void **state)
{
	struct harness *h = *state;
	struct builder b;
	build_start(&b, h->packet, host, router_link);
	build_icmp(&b, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0, 48);
	assert_int_equal(wire_in(h, h->packet, b.length, 0), ROUTER_CONSUMED);
	build_start(&b, h->packet, host, router_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 0, 8);
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_ICMP_UNHANDLED);
	assert_int_equal(h->router.counters.consumed, 1);
}

static void test_router_rate_limits_its_errors(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	uint32_t length = echo(h, host, address_peer, 8);
	h->packet[7] = 1;
	for (int i = 0; i < 10; i++)
		assert_int_equal(wire_in(h, h->packet, length, 0), ROUTER_TO_WIRE);
	expect_drop(h, wire_in(h, h->packet, length, 0), ROUTER_DROP_HOP_LIMIT);
	assert_int_equal(h->router.wire_iface.counters.drops[PK_NET_DROP_ERROR_RATE_LIMITED], 1);
	assert_int_equal(drops(h, ROUTER_DROP_HOP_LIMIT), 11);
	/* Ten a second: one more after a tenth of a second. */
	assert_int_equal(wire_in(h, h->packet, length, SECOND / 10), ROUTER_TO_WIRE);
	expect_drop(h, wire_in(h, h->packet, length, SECOND / 10), ROUTER_DROP_HOP_LIMIT);
	assert_int_equal(h->router.counters.errors_sent, 11);
}

static void test_router_never_sends_an_error_about_an_error(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	struct builder b;
	build_start(&b, h->packet, host, address_peer);
	build_icmp(&b, PK_ICMPV6_DEST_UNREACHABLE, 0, 0, 48);
	h->packet[7] = 1;
	expect_drop(h, wire_in(h, h->packet, b.length, 0), ROUTER_DROP_HOP_LIMIT);
	assert_int_equal(h->router.counters.errors_sent, 0);
}

/* Configuration and the operators' view */

static void test_router_refuses_bad_configurations(void **state)
{
	(void)state;
	static struct router r;
	struct router_config good, c;
	router_config_default(&good);
	memcpy(good.mac, mac_router, 6);
	memcpy(good.kan_address, router_kan, 16);
	assert_int_equal(router_init(&r, &good, 0), 0);
	assert_memory_equal(r.link_local, router_link_local, 16);
	assert_memory_equal(r.link_address, router_link, 16);

	c = good;
	c.mac[0] = 0x01;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	memset(c.mac, 0, 6);
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	c.link_mtu = 1279;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c.link_mtu = PK_FRAME_SIZE + 1;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	memcpy(c.kan_address, host, 16);
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	memcpy(c.link_prefix, c.kan_prefix, 8);
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	c.link_prefix[0] = 0xff;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	c.has_gateway = true;
	memcpy(c.gateway, off_link, 16);
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c = good;
	c.advert_interval_s = 3;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c.advert_interval_s = 1801;
	assert_int_equal(router_init(&r, &c, 0), -PK_EINVAL);
	c.advertise = false;
	assert_int_equal(router_init(&r, &c, 0), 0);
}

static void test_router_status_shows_routes_neighbours_and_counters(void **state)
{
	struct harness *h = *state;
	teach_host(h, host, 0);
	uint32_t length = kan_to_host(h, 8);
	length = echo(h, address_peer, off_link, 8);
	kan_in(h, h->packet, length, 0);
	memcpy(h->frame, h->packet, length);
	struct ethernet_header arp = {.type = 0x0806};
	memcpy(arp.destination, mac_router, 6);
	memcpy(arp.source, mac_host, 6);
	router_from_wire(&h->router, h->frame, length, &arp, 0, &h->d);

	static char text[8192];
	size_t written = router_status(&h->router, 0, text, sizeof text);
	assert_int_equal(written, strlen(text));
	assert_non_null(strstr(text, "fd6b:616e::/64 kan"));
	assert_non_null(strstr(text, "fd6b:616e:0:1::/64 wire on-link"));
	assert_non_null(strstr(text, "::/0 none"));
	assert_non_null(strstr(text, "fd6b:616e:0:1::2 02:00:00:00:00:02 DELAY timer 5000ms"));
	assert_non_null(strstr(text, "from_wire 2\n"));
	assert_non_null(strstr(text, "errors_sent 1\n"));
	assert_non_null(strstr(text, "  1 ethertype is not IPv6\n"));
	assert_non_null(strstr(text, "  1 no route"));
	assert_non_null(strstr(text, "wire mac 02:00:00:00:00:01 mtu 1500"));

	/* A small buffer gets the beginning, terminated, and nothing past its end. */
	char small[16 + 8];
	memset(small, 'x', sizeof small);
	assert_int_equal(router_status(&h->router, 0, small, 16), 15);
	assert_int_equal(small[15], '\0');
	assert_int_equal(small[16], 'x');
	assert_int_equal(router_status(&h->router, 0, small, 0), 0);
}

static void test_router_drop_names_cover_every_reason(void **state)
{
	(void)state;
	for (int reason = 0; reason < ROUTER_DROP_COUNT; reason++) {
		const char *name = router_drop_name((enum router_drop)reason);
		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
	}
	assert_string_equal(router_drop_name(ROUTER_DROP_COUNT), "unknown");
	assert_string_equal(router_drop_name(ROUTER_DROP_SHORT),
			    pk_iface_drop_name(PK_NET_DROP_SHORT));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_router_forwards_wire_to_kan_one_hop_less),
		T(test_router_hop_limit_1_from_the_wire_is_time_exceeded),
		T(test_router_link_local_source_never_leaves_the_link),
		T(test_router_wire_destination_outside_the_kan_is_unreachable),
		T(test_router_ingress_filter_drops_kan_and_router_sources),
		T(test_router_drops_invalid_sources_from_the_wire),
		T(test_router_never_forwards_to_link_local_or_groups),
		T(test_router_drops_frames_that_are_not_ipv6_or_not_ours),
		T(test_router_drops_truncated_and_bad_length_packets),
		T(test_router_answers_a_solicitation_for_each_of_its_addresses),
		T(test_router_answers_duplicate_address_detection_to_all_nodes),
		T(test_router_drops_invalid_solicitations),
		T(test_router_answers_a_solicitation_with_a_full_advertisement),
		T(test_router_advertises_fast_then_slowly_and_never_within_3s),
		T(test_router_not_advertising_ignores_solicitations),
		T(test_router_drops_the_ndp_it_has_no_use_for),
		T(test_router_holds_a_packet_until_its_next_hop_answers),
		T(test_router_gives_up_after_three_solicitations),
		T(test_router_keeps_the_newest_packets_for_a_neighbour),
		T(test_router_probes_a_stale_neighbour_it_uses),
		T(test_router_refuses_new_neighbours_when_all_are_resolving),
		T(test_router_too_big_for_the_link_is_packet_too_big),
		T(test_router_hop_limit_1_from_the_kan_is_time_exceeded),
		T(test_router_kan_destination_beyond_the_link_without_gateway),
		T(test_router_sends_beyond_the_link_through_the_gateway),
		T(test_router_drops_what_the_kan_must_not_send_out),
		T(test_router_kernel_refusals),
		T(test_router_answers_ping_on_every_address),
		T(test_router_answers_a_fragmented_ping_in_fragments),
		T(test_router_answers_an_8k_ping_from_the_kan_in_fragments),
		T(test_router_reports_a_reassembly_that_never_completes),
		T(test_router_answers_udp_with_port_unreachable),
		T(test_router_notes_errors_and_drops_other_icmp),
		T(test_router_rate_limits_its_errors),
		T(test_router_never_sends_an_error_about_an_error),
		T(test_router_refuses_bad_configurations),
		T(test_router_status_shows_routes_neighbours_and_counters),
		T(test_router_drop_names_cover_every_reason),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
