/* UDP datagrams (libpk/net/udp.c) and the stack's checks on them: crafted packets in, the
 * parse and the stack's decision and counters out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/udp.h>

#include "packets.h"

static uint8_t packet[PACKET_MAX], frame[PK_FRAME_SIZE];

static uint32_t datagram(uint32_t payload_length)
{
	static const char text[] = "a datagram for port seven, and its checksum";
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_udp(&b, 40000, 7, text, payload_length);
	return b.length;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void test_udp_parse_finds_the_ports_and_the_payload(void **state)
{
	(void)state;
	uint32_t length = datagram(20);
	struct pk_udp_datagram d;
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_OK);
	assert_int_equal(d.source_port, 40000);
	assert_int_equal(d.destination_port, 7);
	assert_int_equal(d.payload_offset, 48);
	assert_int_equal(d.payload_length, 20);
	struct pk_udp_datagram read;
	pk_udp_read(packet, 40, &read);
	assert_memory_equal(&read, &d, sizeof d);
	assert_int_equal(pk_udp_parse(packet, 48, 40, &d), PK_NET_DROP_UDP_LENGTH);
}

static void test_udp_parse_refuses_bad_lengths(void **state)
{
	(void)state;
	struct pk_udp_datagram d;
	uint32_t length = datagram(0);
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_OK);
	assert_int_equal(d.payload_length, 0);
	assert_int_equal(pk_udp_parse(packet, 47, 40, &d), PK_NET_DROP_UDP_SHORT);
	assert_int_equal(pk_udp_parse(packet, 40, 41, &d), PK_NET_DROP_UDP_SHORT);
	length = datagram(10);
	set16(packet + 44, 7); /* shorter than the header */
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_DROP_UDP_SHORT);
	set16(packet + 44, 19); /* past the bytes received */
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_DROP_UDP_LENGTH);
}

static void test_udp_parse_refuses_a_bad_or_missing_checksum(void **state)
{
	(void)state;
	struct pk_udp_datagram d;
	uint32_t length = datagram(12);
	packet[50] ^= 0x01;
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_DROP_UDP_CHECKSUM);
	length = datagram(12);
	packet[9] ^= 0x80; /* the source address is in the pseudo-header */
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_DROP_UDP_CHECKSUM);
	length = datagram(12);
	set16(packet + 46, 0); /* "no checksum": not over IPv6 */
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_DROP_UDP_CHECKSUM);
}

/* Behind a Destination Options header, the checksum still covers the datagram alone. */
static void test_udp_parse_after_extension_headers(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 16);
	uint32_t at = build_udp(&b, 53, 5353, "question", 8);
	struct pk_udp_datagram d;
	assert_int_equal(pk_udp_parse(packet, b.length, at, &d), PK_NET_OK);
	assert_int_equal(d.payload_offset, at + 8);
	assert_memory_equal(packet + d.payload_offset, "question", 8);
}

static void test_udp_write_makes_what_parse_takes(void **state)
{
	(void)state;
	memcpy(packet + PK_UDP_PAYLOAD_AT, "hello", 5);
	uint32_t length = pk_udp_write(packet, address_us, 7, address_peer, 40000, 5, 64);
	assert_int_equal(length, 53);
	assert_int_equal(packet[6], PK_IPPROTO_UDP);
	assert_int_equal(packet[7], 64);
	assert_int_equal(packet[4] << 8 | packet[5], 13);
	assert_int_equal(packet[46] << 8 | packet[47], upper_checksum(packet, 17, 40, 13, 6));
	struct pk_udp_datagram d;
	assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_OK);
	assert_int_equal(d.source_port, 7);
	assert_int_equal(d.destination_port, 40000);
	assert_int_equal(d.payload_length, 5);
}

/* A checksum that comes out 0 is sent as all ones, which means the same (RFC 768). */
static void test_udp_write_never_sends_a_zero_checksum(void **state)
{
	(void)state;
	for (uint32_t v = 0; v <= 0xffff; v++) {
		set16(packet + PK_UDP_PAYLOAD_AT, (uint16_t)v);
		uint32_t length = pk_udp_write(packet, address_us, 7, address_peer, 40000, 2, 64);
		if (upper_checksum(packet, 17, 40, 10, 6) != 0)
			continue;
		assert_int_equal(packet[46] << 8 | packet[47], 0xffff);
		struct pk_udp_datagram d;
		assert_int_equal(pk_udp_parse(packet, length, 40, &d), PK_NET_OK);
		return;
	}
	fail_msg("no two-byte payload sums to a zero checksum");
}

/* The stack drops and counts what fails the checks, delivers the rest, padding cut. */
static void test_stack_checks_udp_before_delivering(void **state)
{
	(void)state;
	struct test_stack *t = malloc(sizeof *t);
	assert_non_null(t);
	test_stack_init(t, PK_FRAME_SIZE, 1, 10, 10);
	struct pk_stack_result r;
	uint32_t length = datagram(10);
	memcpy(frame, packet, length);
	memset(frame + length, 0xee, 6); /* link padding: the IPv6 payload says 6 more */
	set16(frame + 4, (uint16_t)(length + 6 - 40));
	assert_int_equal(pk_stack_input(&t->stack, frame, length + 6, 0, &r), PK_STACK_DELIVER);
	assert_int_equal(r.protocol, PK_IPPROTO_UDP);
	assert_int_equal(r.length, length);

	memcpy(frame, packet, length);
	frame[length - 1] ^= 0x10;
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_UDP_CHECKSUM);
	memcpy(frame, packet, length);
	set16(frame + 44, 200);
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_UDP_LENGTH);
	assert_int_equal(pk_stack_input(&t->stack, packet, 44, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_UDP_CHECKSUM], 1);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_UDP_LENGTH], 1);
	assert_int_equal(t->iface.counters.delivered, 1);
	assert_int_equal(t->iface.counters.errors_sent, 0);
	assert_true(test_stack_guards_intact(t));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_parse_finds_the_ports_and_the_payload),
		cmocka_unit_test(test_udp_parse_refuses_bad_lengths),
		cmocka_unit_test(test_udp_parse_refuses_a_bad_or_missing_checksum),
		cmocka_unit_test(test_udp_parse_after_extension_headers),
		cmocka_unit_test(test_udp_write_makes_what_parse_takes),
		cmocka_unit_test(test_udp_write_never_sends_a_zero_checksum),
		cmocka_unit_test(test_stack_checks_udp_before_delivering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
