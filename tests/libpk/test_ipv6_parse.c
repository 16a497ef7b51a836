/* pk_ipv6_parse_header and pk_ipv6_parse_chain: every path through the header and the
 * extension-header walk, with crafted packets; and the upper-layer checksum against the
 * tests' own sum of big-endian words (packets.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packets.h"

static uint8_t buffer[PACKET_MAX];

static enum pk_net_drop walk(const struct builder *b, struct pk_ipv6_chain *chain)
{
	uint32_t length;
	assert_int_equal(pk_ipv6_parse_header(b->p, b->length, &length), PK_NET_OK);
	assert_int_equal(length, b->length);
	return pk_ipv6_parse_chain(b->p, length, chain);
}

static void test_header_shorter_than_40_is_short(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t length = 123;
	assert_int_equal(pk_ipv6_parse_header(buffer, 39, &length), PK_NET_DROP_SHORT);
	assert_int_equal(pk_ipv6_parse_header(buffer, 0, &length), PK_NET_DROP_SHORT);
	assert_int_equal(length, 123);
}

static void test_header_of_version_4_is_refused(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	buffer[0] = 0x45;
	uint32_t length;
	assert_int_equal(pk_ipv6_parse_header(buffer, b.length, &length), PK_NET_DROP_VERSION);
}

static void test_header_payload_length_past_buffer_is_refused(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 16);
	uint32_t length;
	assert_int_equal(pk_ipv6_parse_header(buffer, b.length - 1, &length), PK_NET_DROP_LENGTH);
	/* Bytes past the stated length are link padding, not an error. */
	assert_int_equal(pk_ipv6_parse_header(buffer, b.length + 20, &length), PK_NET_OK);
	assert_int_equal(length, b.length);
}

static void test_chain_plain_icmp_has_no_extensions(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	assert_int_equal(chain.upper_protocol, PK_IPPROTO_ICMPV6);
	assert_int_equal(chain.upper_offset, 40);
	assert_int_equal(chain.extension_count, 0);
	assert_int_equal(chain.fragment_offset, 0);
	assert_int_equal(chain.unfragmentable, 40);
	assert_int_equal(chain.fragment_link, 6);
}

static void test_chain_walks_hop_by_hop_routing_and_destination_options(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 16);
	uint32_t routing = build_routing(&b, 0);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	uint32_t icmp = build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 4);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	assert_int_equal(chain.extension_count, 4);
	assert_int_equal(chain.upper_offset, icmp);
	/* A sender would repeat everything up to the Routing header in each fragment. */
	assert_int_equal(chain.unfragmentable, routing + 24);
	assert_int_equal(chain.fragment_link, routing);
}

static void test_chain_hop_by_hop_after_first_is_a_parameter_problem(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t first = build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_HOP_BY_HOP_NOT_FIRST);
	assert_int_equal(chain.due.type, PK_ICMPV6_PARAMETER_PROBLEM);
	assert_int_equal(chain.due.code, 1);
	assert_int_equal(chain.due.parameter, first); /* the Next Header byte naming it */
}

static void test_chain_header_running_past_the_packet_is_truncated(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t ext = build_ext(&b, PK_IPPROTO_DSTOPTS, 16);
	buffer[ext + 1] = 5; /* claims 48 bytes */
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_EXT_TRUNCATED);
	assert_int_equal(chain.due.type, 0);
}

static void test_chain_that_never_ends_is_truncated(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	buffer[b.link] = PK_IPPROTO_DSTOPTS; /* names another header that is not there */
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_EXT_TRUNCATED);
	/* One byte of a header: not even its length field. */
	buffer[b.length] = 0;
	b.length++;
	buffer[5]++;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_EXT_TRUNCATED);
}

static void test_chain_of_100_headers_is_too_many(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	for (int i = 0; i < 100; i++)
		build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_EXT_TOO_MANY);
	assert_int_equal(chain.extension_count, PK_IPV6_EXT_MAX);
}

static void test_chain_at_the_header_limit_is_accepted(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	for (unsigned i = 0; i < PK_IPV6_EXT_MAX; i++)
		build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
}

/* A Destination Options header holding one option of `type` with 2 bytes of data. */
static uint32_t options_with(struct builder *b, uint8_t type)
{
	build_start(b, buffer, address_peer, address_us);
	uint32_t ext = build_ext(b, PK_IPPROTO_DSTOPTS, 8);
	buffer[ext + 2] = type;
	buffer[ext + 3] = 2;
	buffer[ext + 6] = 0; /* Pad1, Pad1 */
	buffer[ext + 7] = 0;
	build_icmp(b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	return ext + 2;
}

static void test_option_unknown_follows_its_action_bits(void **state)
{
	(void)state;
	struct builder b;
	struct pk_ipv6_chain chain;
	options_with(&b, 0x1e); /* 00: skip */
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	options_with(&b, 0x5e); /* 01: discard silently */
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_OPTION_UNKNOWN);
	assert_int_equal(chain.due.type, 0);
	uint32_t at = options_with(&b, 0x9e); /* 10: discard, report */
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_OPTION_UNKNOWN);
	assert_int_equal(chain.due.type, PK_ICMPV6_PARAMETER_PROBLEM);
	assert_int_equal(chain.due.code, 2);
	assert_int_equal(chain.due.parameter, at);
	options_with(&b, 0xde); /* 11: discard, report unless multicast */
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_OPTION_UNKNOWN);
	assert_int_equal(chain.due.code, 2);
}

static void test_option_router_alert_passes_in_either_header(void **state)
{
	(void)state;
	struct builder b;
	struct pk_ipv6_chain chain;
	options_with(&b, 5);
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	buffer[6] = PK_IPPROTO_HOPOPTS;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
}

static void test_option_running_past_its_header_is_malformed(void **state)
{
	(void)state;
	struct builder b;
	uint32_t at = options_with(&b, 1);
	buffer[at + 1] = 5; /* PadN of 5 in 4 bytes left */
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_OPTION_MALFORMED);
	assert_int_equal(chain.due.code, 0);
	assert_int_equal(chain.due.parameter, at);
	/* An option type in the last byte, with no room for its length. */
	options_with(&b, 1);
	buffer[at + 1] = 3;
	buffer[at + 5] = 1;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_OPTION_MALFORMED);
}

static void test_routing_with_segments_left_is_a_parameter_problem(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t routing = build_routing(&b, 2);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 0);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_ROUTING_SEGMENTS_LEFT);
	assert_int_equal(chain.due.code, 0);
	assert_int_equal(chain.due.parameter, routing + 2);
}

static void test_fragment_first_is_walked_to_the_upper_layer(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t fragment = build_fragment(&b, 0, 1, 99);
	uint32_t icmp = build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 8);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	assert_int_equal(chain.fragment_offset, fragment);
	assert_int_equal(chain.fragment_link, 6);
	assert_int_equal(chain.upper_protocol, PK_IPPROTO_ICMPV6);
	assert_int_equal(chain.upper_offset, icmp);
	assert_false(chain.atomic_fragment);
}

static void test_fragment_later_stops_at_the_fragment_header(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t fragment = build_fragment(&b, 64, 1, 99);
	build_upper(&b, PK_IPPROTO_NONE, buffer + 100, 16);
	buffer[fragment] = PK_IPPROTO_DSTOPTS; /* what follows is data, never walked */
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	assert_int_equal(chain.upper_protocol, PK_IPPROTO_FRAGMENT);
	assert_int_equal(chain.upper_offset, fragment);
}

static void test_fragment_atomic_is_flagged_and_walked_through(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_fragment(&b, 0, 0, 99);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 8);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_OK);
	assert_true(chain.atomic_fragment);
	assert_int_equal(chain.upper_protocol, PK_IPPROTO_ICMPV6);
}

static void test_fragment_not_a_multiple_of_8_is_a_parameter_problem(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t fragment = build_fragment(&b, 8, 1, 99);
	build_upper(&b, PK_IPPROTO_NONE, buffer + 100, 13);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_FRAGMENT_BAD_LENGTH);
	assert_int_equal(chain.due.parameter, 4); /* the payload length */
	/* Ending past 65535: the pointer names the fragment offset. */
	build_start(&b, buffer, address_peer, address_us);
	fragment = build_fragment(&b, 65528, 0, 99);
	build_upper(&b, PK_IPPROTO_NONE, buffer + 100, 16);
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_FRAGMENT_BAD_LENGTH);
	assert_int_equal(chain.due.parameter, fragment + 2);
}

static void test_fragment_inside_fragment_is_nested(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_fragment(&b, 0, 1, 1);
	build_fragment(&b, 0, 1, 2);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 8);
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_FRAGMENT_NESTED);
}

static void test_fragment_first_without_whole_chain_is_incomplete(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_fragment(&b, 0, 1, 1);
	uint32_t ext = build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	buffer[ext + 1] = 2; /* 24 bytes, the rest in the next fragment */
	struct pk_ipv6_chain chain;
	assert_int_equal(walk(&b, &chain), PK_NET_DROP_FRAGMENT_CHAIN_INCOMPLETE);
	assert_int_equal(chain.due.type, PK_ICMPV6_PARAMETER_PROBLEM);
	assert_int_equal(chain.due.code, 3);
}

/* Every length from 0 to 300, at every alignment of the upper layer, with bytes that carry
 * often, and the two sums that fold to the two zeros of one's complement. */
static void test_checksum_matches_a_sum_of_big_endian_words(void **state)
{
	(void)state;
	static uint8_t packet[PK_IPV6_HEADER_SIZE + 4 + 300];
	uint32_t seed = 1;
	for (unsigned i = 0; i < sizeof packet; i++) {
		seed = seed * 1103515245u + 12345u;
		packet[i] = (uint8_t)(seed >> 16 | 0xc0);
	}
	for (uint32_t offset = PK_IPV6_HEADER_SIZE; offset < PK_IPV6_HEADER_SIZE + 4; offset++) {
		for (uint32_t length = 0; length <= 300; length++)
			assert_int_equal(
				pk_ipv6_checksum_at(packet, PK_IPPROTO_TCP, offset, length),
				upper_checksum(packet, PK_IPPROTO_TCP, offset, length, UINT32_MAX));
	}
	uint8_t zeros[PK_IPV6_HEADER_SIZE + 64] = {0};
	assert_int_equal(pk_ipv6_checksum_at(zeros, 0, PK_IPV6_HEADER_SIZE, 0), 0xffff);
	uint8_t ones[PK_IPV6_HEADER_SIZE + 64];
	memset(ones, 0xff, sizeof ones);
	assert_int_equal(pk_ipv6_checksum_at(ones, PK_IPPROTO_UDP, PK_IPV6_HEADER_SIZE, 64),
			 upper_checksum(ones, PK_IPPROTO_UDP, PK_IPV6_HEADER_SIZE, 64, UINT32_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_shorter_than_40_is_short),
		cmocka_unit_test(test_header_of_version_4_is_refused),
		cmocka_unit_test(test_header_payload_length_past_buffer_is_refused),
		cmocka_unit_test(test_chain_plain_icmp_has_no_extensions),
		cmocka_unit_test(test_chain_walks_hop_by_hop_routing_and_destination_options),
		cmocka_unit_test(test_chain_hop_by_hop_after_first_is_a_parameter_problem),
		cmocka_unit_test(test_chain_header_running_past_the_packet_is_truncated),
		cmocka_unit_test(test_chain_that_never_ends_is_truncated),
		cmocka_unit_test(test_chain_of_100_headers_is_too_many),
		cmocka_unit_test(test_chain_at_the_header_limit_is_accepted),
		cmocka_unit_test(test_option_unknown_follows_its_action_bits),
		cmocka_unit_test(test_option_router_alert_passes_in_either_header),
		cmocka_unit_test(test_option_running_past_its_header_is_malformed),
		cmocka_unit_test(test_routing_with_segments_left_is_a_parameter_problem),
		cmocka_unit_test(test_fragment_first_is_walked_to_the_upper_layer),
		cmocka_unit_test(test_fragment_later_stops_at_the_fragment_header),
		cmocka_unit_test(test_fragment_atomic_is_flagged_and_walked_through),
		cmocka_unit_test(test_fragment_not_a_multiple_of_8_is_a_parameter_problem),
		cmocka_unit_test(test_fragment_inside_fragment_is_nested),
		cmocka_unit_test(test_fragment_first_without_whole_chain_is_incomplete),
		cmocka_unit_test(test_checksum_matches_a_sum_of_big_endian_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
