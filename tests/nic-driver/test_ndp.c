/* NDP messages and Ethernet mappings: what the builders write parses back, and each
 * validation rule of RFC 4861 §6.1 and §7.1 refuses what it should. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router_harness.h"

static uint8_t packet[PK_FRAME_SIZE];
static const uint8_t unspecified[16] = {0};

static void test_ethernet_maps_groups_and_link_locals(void **state)
{
	(void)state;
	static const uint8_t group[16] = {0xff, 0x02, [11] = 1, 0xff, 0x12, 0x34, 0x56};
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t link_local[16] = {0xfe, 0x80, [8] = 0x50, 0x54, 0x00,
					       0xff, 0xfe, 0x12,       0x34, 0x56};
	uint8_t out_mac[6], out_address[16];
	ethernet_multicast_mac(group, out_mac);
	assert_memory_equal(out_mac, ((uint8_t[]){0x33, 0x33, 0xff, 0x12, 0x34, 0x56}), 6);
	ethernet_link_local(mac, out_address);
	assert_memory_equal(out_address, link_local, 16);
	assert_true(ethernet_is_multicast(out_mac));
	assert_false(ethernet_is_multicast(mac));
	assert_true(ethernet_is_multicast((uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

static void test_ndp_solicited_node_groups(void **state)
{
	(void)state;
	static const uint8_t address[16] = {0xfd, 0x6b, 0x61, 0x6e, 0,	  0,	0,    1,
					    0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22};
	static const uint8_t expected[16] = {0xff, 0x02, [11] = 1, 0xff, 0xff, 0x11, 0x22};
	uint8_t group[16];
	ndp_solicited_node(address, group);
	assert_memory_equal(group, expected, 16);
	assert_true(ndp_is_solicited_node(group));
	assert_false(ndp_is_solicited_node(address_all_nodes));
	assert_false(ndp_is_solicited_node(address));
	assert_true(ndp_is_ndp(NDP_ROUTER_SOLICIT));
	assert_true(ndp_is_ndp(NDP_REDIRECT));
	assert_false(ndp_is_ndp(132));
	assert_false(ndp_is_ndp(138));
}

static void test_ndp_builds_what_it_parses(void **state)
{
	(void)state;
	struct ndp_message m;
	uint8_t group[16];
	ndp_solicited_node(host, group);
	uint32_t length = ndp_build_solicit(packet, router_link, group, host, mac_router);
	assert_int_equal(length, 72);
	assert_int_equal(packet[7], 255);
	assert_true(pk_icmpv6_checksum_ok(packet, 40, length - 40));
	assert_int_equal(ndp_parse(packet, length, &m), ROUTER_OK);
	assert_int_equal(m.type, NDP_NEIGHBOUR_SOLICIT);
	assert_memory_equal(m.target, host, 16);
	assert_memory_equal(m.source_mac, mac_router, 6);
	assert_null(m.target_mac);

	length = ndp_build_solicit(packet, unspecified, group, host, NULL);
	assert_int_equal(length, 64);
	assert_int_equal(ndp_parse(packet, length, &m), ROUTER_OK);
	assert_null(m.source_mac);

	length = ndp_build_advert(packet, router_link, host, router_link,
				  NDP_ADVERT_ROUTER | NDP_ADVERT_SOLICITED, mac_router);
	assert_int_equal(length, 72);
	assert_true(pk_icmpv6_checksum_ok(packet, 40, length - 40));
	assert_int_equal(ndp_parse(packet, length, &m), ROUTER_OK);
	assert_int_equal(m.type, NDP_NEIGHBOUR_ADVERT);
	assert_int_equal(m.flags, NDP_ADVERT_ROUTER | NDP_ADVERT_SOLICITED);
	assert_memory_equal(m.target, router_link, 16);
	assert_memory_equal(m.target_mac, mac_router, 6);

	/* The addresses may live in the buffer being written. */
	memcpy(packet + 100, host, 16);
	length = ndp_build_advert(packet, packet + 100, packet + 100, packet + 100, 0, mac_host);
	assert_int_equal(ndp_parse(packet, length, &m), ROUTER_OK);
	assert_memory_equal(packet + 8, host, 16);
	assert_memory_equal(m.target, host, 16);

	const uint8_t prefix[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	const struct ndp_router_advert advert = {.source = router_link_local,
						 .mac = mac_router,
						 .on_link_prefix = prefix,
						 .route_prefix = prefix,
						 .mtu = 1280};
	length = ndp_build_router_advert(packet, &advert);
	assert_int_equal(length, 120);
	assert_true(pk_icmpv6_checksum_ok(packet, 40, length - 40));
	assert_int_equal(ndp_parse(packet, length, &m), ROUTER_OK);
	assert_int_equal(m.type, NDP_ROUTER_ADVERT);
	assert_memory_equal(m.source_mac, mac_router, 6);
}

/* An NDP message of `type` from `source` with `body` after the checksum, as raw bytes. */
static uint32_t raw(const uint8_t *source, const uint8_t *destination, uint8_t type,
		    const uint8_t *body, uint32_t body_length)
{
	struct builder b;
	build_start(&b, packet, source, destination);
	build_ndp(&b, type, body, body_length, 0, NULL);
	return b.length;
}

static enum router_drop parse(uint32_t length)
{
	struct ndp_message m;
	return ndp_parse(packet, length, &m);
}

static void test_ndp_refuses_malformed_options(void **state)
{
	(void)state;
	uint8_t body[40] = {0};
	memcpy(body + 4, host, 16);
	/* An unknown option of 8 bytes is skipped. */
	body[20] = 99;
	body[21] = 1;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 28)), ROUTER_OK);
	/* A byte left over cannot be an option. */
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 29)),
			 ROUTER_DROP_NDP_OPTION);
	/* A link-layer option that is not 8 bytes. */
	body[20] = NDP_OPTION_SOURCE_MAC;
	body[21] = 2;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 36)),
			 ROUTER_DROP_NDP_OPTION);
	body[20] = NDP_OPTION_TARGET_MAC;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_ADVERT, body, 36)),
			 ROUTER_DROP_NDP_OPTION);
	/* A group's MAC is nobody's. */
	body[21] = 1;
	body[22] = 0x33;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_ADVERT, body, 28)),
			 ROUTER_DROP_NDP_OPTION);
	body[22] = 0x02;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_ADVERT, body, 28)), ROUTER_OK);
	/* Zero length, and a length past the end. */
	body[21] = 0;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 28)),
			 ROUTER_DROP_NDP_OPTION);
	body[21] = 3;
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 36)),
			 ROUTER_DROP_NDP_OPTION);
}

static void test_ndp_refuses_each_invalid_message(void **state)
{
	(void)state;
	uint8_t body[40] = {0};
	uint32_t length;
	/* Lengths: each type's fixed part. */
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_SOLICIT, body, 19)),
			 ROUTER_DROP_NDP_LENGTH);
	assert_int_equal(parse(raw(host, router_link, NDP_NEIGHBOUR_ADVERT, body, 19)),
			 ROUTER_DROP_NDP_LENGTH);
	assert_int_equal(
		parse(raw(host_link_local, address_all_nodes, NDP_ROUTER_ADVERT, body, 11)),
		ROUTER_DROP_NDP_LENGTH);
	assert_int_equal(parse(raw(host_link_local, router_link, NDP_REDIRECT, body, 35)),
			 ROUTER_DROP_NDP_LENGTH);
	assert_int_equal(parse(raw(host, address_all_nodes, NDP_ROUTER_SOLICIT, body, 4)),
			 ROUTER_OK);
	/* Hop limit and code. */
	length = raw(host, address_all_nodes, NDP_ROUTER_SOLICIT, body, 4);
	packet[7] = 254;
	assert_int_equal(parse(length), ROUTER_DROP_NDP_HOP_LIMIT);
	packet[7] = 255;
	packet[41] = 1;
	assert_int_equal(parse(length), ROUTER_DROP_NDP_CODE);
	/* Router advertisements and redirects come from link-local addresses only. */
	assert_int_equal(parse(raw(host, address_all_nodes, NDP_ROUTER_ADVERT, body, 12)),
			 ROUTER_DROP_NDP_ROUTER_SOURCE);
	assert_int_equal(parse(raw(host, router_link, NDP_REDIRECT, body, 36)),
			 ROUTER_DROP_NDP_ROUTER_SOURCE);
	assert_int_equal(parse(raw(host_link_local, router_link, NDP_REDIRECT, body, 36)),
			 ROUTER_OK);
	/* From ::, a router solicitation must not carry a link-layer option, and an
	 * advertisement may not come at all. */
	struct builder b;
	build_start(&b, packet, unspecified, address_all_nodes);
	build_router_solicit(&b, mac_host);
	assert_int_equal(parse(b.length), ROUTER_DROP_NDP_UNSPECIFIED_SOURCE);
	build_start(&b, packet, unspecified, address_all_nodes);
	build_router_solicit(&b, NULL);
	assert_int_equal(parse(b.length), ROUTER_OK);
	build_start(&b, packet, unspecified, address_all_nodes);
	build_advert(&b, host, 0, mac_host);
	assert_int_equal(parse(b.length), ROUTER_DROP_NDP_UNSPECIFIED_SOURCE);
	/* Targets are never groups. */
	build_start(&b, packet, host, router_link);
	build_advert(&b, address_all_nodes, 0, mac_host);
	assert_int_equal(parse(b.length), ROUTER_DROP_NDP_TARGET_MULTICAST);
}

static void test_ndp_refuses_what_is_not_ndp(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, packet, host, router_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 8);
	assert_int_equal(parse(b.length), ROUTER_DROP_ICMP_UNHANDLED);
	build_start(&b, packet, host, router_link);
	build_udp(&b, 40000, 7, "12345678", 8);
	assert_int_equal(parse(b.length), ROUTER_DROP_PROTOCOL_UNHANDLED);
	build_start(&b, packet, host, router_link);
	build_upper(&b, PK_IPPROTO_ICMPV6, "\x87\0\0\0", 4);
	assert_int_equal(parse(b.length), ROUTER_DROP_ICMP_SHORT);
	build_start(&b, packet, host, router_link);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_solicit(&b, router_link, NULL);
	assert_int_equal(parse(b.length), ROUTER_OK);
	assert_int_equal(parse(b.length - 10), ROUTER_DROP_NDP_LENGTH);
	assert_int_equal(parse(44), ROUTER_DROP_EXT_TRUNCATED);
	build_start(&b, packet, host, router_link);
	build_fragment(&b, 0, 0, 1);
	build_solicit(&b, router_link, NULL);
	assert_int_equal(parse(b.length), ROUTER_DROP_NDP_FRAGMENTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_maps_groups_and_link_locals),
		cmocka_unit_test(test_ndp_solicited_node_groups),
		cmocka_unit_test(test_ndp_builds_what_it_parses),
		cmocka_unit_test(test_ndp_refuses_malformed_options),
		cmocka_unit_test(test_ndp_refuses_each_invalid_message),
		cmocka_unit_test(test_ndp_refuses_what_is_not_ndp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
