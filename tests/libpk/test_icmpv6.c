/* ICMPv6 errors (what is quoted, when one is refused) and echo replies built in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packets.h"

static uint8_t buffer[PACKET_MAX], out[PK_FRAME_SIZE];

static void assert_checksum_ok(const uint8_t *packet, uint32_t length)
{
	assert_true(
		pk_icmpv6_checksum_ok(packet, PK_IPV6_HEADER_SIZE, length - PK_IPV6_HEADER_SIZE));
	assert_int_equal(
		pk_ipv6_upper_checksum(packet, PK_IPPROTO_ICMPV6, length - PK_IPV6_HEADER_SIZE), 0);
}

static void test_error_quotes_the_packet_within_1280_bytes(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_upper(&b, PK_IPPROTO_UDP, buffer + 2000, 3000);
	uint32_t length = 0;
	assert_int_equal(pk_icmpv6_error_build(out, sizeof out, buffer, b.length, address_us,
					       PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT,
					       0, &length),
			 0);
	assert_int_equal(length, PK_IPV6_MIN_MTU);
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)out;
	assert_memory_equal(h->source, address_us, 16);
	assert_memory_equal(h->destination, address_peer, 16);
	assert_int_equal(h->next_header, PK_IPPROTO_ICMPV6);
	assert_int_equal(pk_ipv6_payload_length(out), length - 40);
	assert_int_equal(out[40], PK_ICMPV6_DEST_UNREACHABLE);
	assert_int_equal(out[41], PK_ICMPV6_UNREACH_PORT);
	assert_memory_equal(out + 48, buffer, length - 48);
	assert_checksum_ok(out, length);
}

static void test_error_small_packet_is_quoted_whole_with_its_parameter(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 10);
	uint32_t length = 0;
	assert_int_equal(pk_icmpv6_error_build(out, sizeof out, buffer, b.length, address_us,
					       PK_ICMPV6_PACKET_TOO_BIG, 0, 1400, &length),
			 0);
	assert_int_equal(length, 48 + b.length);
	assert_int_equal(out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47], 1400);
	assert_memory_equal(out + 48, buffer, b.length);
	assert_checksum_ok(out, length);
}

static void test_error_can_be_built_over_the_invoking_packet(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0, 2000);
	uint8_t copy[4096];
	memcpy(copy, buffer, b.length);
	uint32_t length = 0;
	const uint8_t *source = ((struct pk_ipv6_header *)buffer)->destination;
	assert_int_equal(pk_icmpv6_error_build(buffer, PK_FRAME_SIZE, buffer, b.length, source,
					       PK_ICMPV6_PARAMETER_PROBLEM, 0, 6, &length),
			 0);
	assert_int_equal(length, PK_IPV6_MIN_MTU);
	assert_memory_equal(buffer + 8, address_us, 16);
	assert_memory_equal(buffer + 24, address_peer, 16);
	assert_memory_equal(buffer + 48, copy, length - 48);
	assert_checksum_ok(buffer, length);
}

static void test_error_never_answers_an_icmpv6_error(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_icmp(&b, PK_ICMPV6_DEST_UNREACHABLE, 0, 0, 48);
	uint32_t length = 77;
	memset(out, 0xaa, sizeof out);
	for (uint8_t type = 1; type <= 4; type++)
		assert_int_equal(pk_icmpv6_error_build(out, sizeof out, buffer, b.length,
						       address_us, type, 0, 0, &length),
				 -PK_EPERM);
	assert_int_equal(length, 77);
	assert_int_equal(out[0], 0xaa);
	/* An informational message (echo) may be answered with an error. */
	buffer[b.length - 56] = PK_ICMPV6_ECHO_REQUEST;
	assert_true(pk_icmpv6_error_allowed(buffer, b.length, 1, 0, 0));
	/* Every error type, including ones not yet assigned, counts as an error. */
	buffer[b.length - 56] = 127;
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, 1, 0, 0));
}

static void test_error_about_multicast_only_for_too_big_and_option_10(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_all_nodes);
	uint32_t ext = build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	buffer[ext + 2] = 0x9e; /* an option of type 10xxxxxx */
	buffer[ext + 3] = 4;
	build_upper(&b, PK_IPPROTO_UDP, "12345678", 8);
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_DEST_UNREACHABLE, 4, 0));
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_TIME_EXCEEDED, 0, 0));
	assert_true(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PACKET_TOO_BIG, 0, 1280));
	assert_true(
		pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PARAMETER_PROBLEM, 2, ext + 2));
	assert_false(
		pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PARAMETER_PROBLEM, 0, ext + 2));
	buffer[ext + 2] = 0xde; /* 11xxxxxx: not to a group */
	assert_false(
		pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PARAMETER_PROBLEM, 2, ext + 2));
	/* A pointer past the packet proves nothing. */
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PARAMETER_PROBLEM, 2,
					     b.length));
}

static void test_error_about_a_source_that_names_no_node_is_refused(void **state)
{
	(void)state;
	struct builder b;
	const uint8_t unspecified[16] = {0};
	build_start(&b, buffer, unspecified, address_us);
	build_upper(&b, PK_IPPROTO_UDP, "12345678", 8);
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PACKET_TOO_BIG, 0, 0));
	build_start(&b, buffer, address_all_nodes, address_us);
	build_upper(&b, PK_IPPROTO_UDP, "12345678", 8);
	assert_false(pk_icmpv6_error_allowed(buffer, b.length, PK_ICMPV6_PACKET_TOO_BIG, 0, 0));
}

static void test_error_refuses_short_invoking_and_small_out(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	uint32_t length;
	assert_int_equal(
		pk_icmpv6_error_build(out, sizeof out, buffer, 39, address_us, 1, 0, 0, &length),
		-PK_EINVAL);
	assert_int_equal(pk_icmpv6_error_build(out, 47, buffer, 40, address_us, 1, 0, 0, &length),
			 -PK_EINVAL);
	/* Room for the headers and a little: the quote shrinks to fit. */
	assert_int_equal(pk_icmpv6_error_build(out, 60, buffer, 40, address_us, 1, 0, 0, &length),
			 0);
	assert_int_equal(length, 60);
}

static void test_echo_reply_swaps_addresses_and_keeps_the_checksum_right(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0x12340001, 57);
	uint8_t request[256];
	memcpy(request, buffer, b.length);
	assert_int_equal(pk_icmpv6_echo_reply(buffer, b.length, 40, NULL), b.length);
	assert_memory_equal(buffer + 8, address_us, 16);
	assert_memory_equal(buffer + 24, address_peer, 16);
	assert_int_equal(buffer[7], PK_NET_HOP_LIMIT);
	assert_int_equal(buffer[40], PK_ICMPV6_ECHO_REPLY);
	assert_memory_equal(buffer + 44, request + 44, b.length - 44);
	assert_checksum_ok(buffer, b.length);
}

static void test_echo_reply_drops_extension_headers(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 24);
	uint32_t icmp = build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 7, 100);
	assert_true(pk_icmpv6_checksum_ok(buffer, icmp, b.length - icmp));
	uint32_t length = pk_icmpv6_echo_reply(buffer, b.length, icmp, NULL);
	assert_int_equal(length, b.length - 32);
	assert_int_equal(buffer[6], PK_IPPROTO_ICMPV6);
	assert_int_equal(pk_ipv6_payload_length(buffer), length - 40);
	assert_checksum_ok(buffer, length);
}

static void test_echo_reply_to_a_group_answers_from_the_given_source(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_all_nodes);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 7, 9);
	uint32_t length = pk_icmpv6_echo_reply(buffer, b.length, 40, address_us);
	assert_memory_equal(buffer + 8, address_us, 16);
	assert_memory_equal(buffer + 24, address_peer, 16);
	assert_checksum_ok(buffer, length);
}

static void test_checksum_detects_a_flipped_bit(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, buffer, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	uint32_t icmp = build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 7, 33);
	assert_true(pk_icmpv6_checksum_ok(buffer, icmp, b.length - icmp));
	buffer[b.length - 1] ^= 0x10;
	assert_false(pk_icmpv6_checksum_ok(buffer, icmp, b.length - icmp));
	buffer[b.length - 1] ^= 0x10;
	buffer[8] ^= 1; /* the pseudo-header counts too */
	assert_false(pk_icmpv6_checksum_ok(buffer, icmp, b.length - icmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_quotes_the_packet_within_1280_bytes),
		cmocka_unit_test(test_error_small_packet_is_quoted_whole_with_its_parameter),
		cmocka_unit_test(test_error_can_be_built_over_the_invoking_packet),
		cmocka_unit_test(test_error_never_answers_an_icmpv6_error),
		cmocka_unit_test(test_error_about_multicast_only_for_too_big_and_option_10),
		cmocka_unit_test(test_error_about_a_source_that_names_no_node_is_refused),
		cmocka_unit_test(test_error_refuses_short_invoking_and_small_out),
		cmocka_unit_test(test_echo_reply_swaps_addresses_and_keeps_the_checksum_right),
		cmocka_unit_test(test_echo_reply_drops_extension_headers),
		cmocka_unit_test(test_echo_reply_to_a_group_answers_from_the_given_source),
		cmocka_unit_test(test_checksum_detects_a_flipped_bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
