/* TCP segments and their options (libpk/net/tcp_segment.c), and the stack's checks on
 * them: crafted segments in, the parse out; what the writer makes, parsed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_segment.h>

#include "packets.h"

static uint8_t packet[PACKET_MAX];

/* A segment from port 40000 to 80 with `flags` and the `n` raw bytes of options (a
 * multiple of 4), then `data` bytes of payload, its checksum right; its length. */
static uint32_t raw_segment(uint8_t flags, const uint8_t *options, uint32_t n, uint32_t data)
{
	uint8_t tcp[PK_TCP_HEADER_SIZE + PK_TCP_OPTIONS_MAX + 64] = {0x9c, 0x40, 0, 80};
	tcp[4] = 0x01; /* seq 0x01000002 */
	tcp[7] = 0x02;
	tcp[11] = 0x09; /* ack 9 */
	tcp[12] = (uint8_t)((PK_TCP_HEADER_SIZE + n) / 4 << 4);
	tcp[13] = flags;
	tcp[14] = 0x20; /* window 0x2000 */
	if (n > 0)
		memcpy(tcp + PK_TCP_HEADER_SIZE, options, n);
	for (uint32_t i = 0; i < data; i++)
		tcp[PK_TCP_HEADER_SIZE + n + i] = (uint8_t)('a' + i);
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	uint32_t at = build_upper(&b, PK_IPPROTO_TCP, tcp, PK_TCP_HEADER_SIZE + n + data);
	uint16_t sum =
		upper_checksum(packet, PK_IPPROTO_TCP, at, PK_TCP_HEADER_SIZE + n + data, 16);
	packet[at + 16] = (uint8_t)(sum >> 8);
	packet[at + 17] = (uint8_t)sum;
	return b.length;
}

static enum pk_net_drop parse(uint32_t length, struct pk_tcp_segment *s)
{
	return pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, s);
}

static void test_tcp_parse_reads_the_header_and_finds_the_payload(void **state)
{
	(void)state;
	struct pk_tcp_segment s;
	uint32_t length = raw_segment(PK_TCP_ACK | PK_TCP_PSH, NULL, 0, 5);
	assert_int_equal(parse(length, &s), PK_NET_OK);
	assert_int_equal(s.source_port, 40000);
	assert_int_equal(s.destination_port, 80);
	assert_int_equal(s.seq, 0x01000002);
	assert_int_equal(s.ack, 9);
	assert_int_equal(s.flags, PK_TCP_ACK | PK_TCP_PSH);
	assert_int_equal(s.window, 0x2000);
	assert_int_equal(s.payload_offset, 60);
	assert_int_equal(s.payload_length, 5);
	assert_memory_equal(packet + s.payload_offset, "abcde", 5);
	assert_false(s.options.has_mss || s.options.has_timestamps || s.options.sack_count);
}

static void test_tcp_parse_refuses_bad_headers(void **state)
{
	(void)state;
	struct pk_tcp_segment s;
	uint32_t length = raw_segment(PK_TCP_ACK, NULL, 0, 0);
	assert_int_equal(parse(length - 1, &s), PK_NET_DROP_TCP_SHORT);
	packet[PK_IPV6_HEADER_SIZE + 12] = 4 << 4; /* a data offset of 4 words */
	assert_int_equal(parse(length, &s), PK_NET_DROP_TCP_OFFSET);
	packet[PK_IPV6_HEADER_SIZE + 12] = 6 << 4; /* past the segment */
	assert_int_equal(parse(length, &s), PK_NET_DROP_TCP_OFFSET);
	length = raw_segment(PK_TCP_ACK, NULL, 0, 3);
	packet[length - 1] ^= 0x20;
	assert_int_equal(parse(length, &s), PK_NET_DROP_TCP_CHECKSUM);
}

static void test_tcp_parse_refuses_impossible_flags(void **state)
{
	(void)state;
	struct pk_tcp_segment s;
	assert_int_equal(parse(raw_segment(PK_TCP_SYN | PK_TCP_FIN, NULL, 0, 0), &s),
			 PK_NET_DROP_TCP_FLAGS);
	assert_int_equal(parse(raw_segment(PK_TCP_SYN | PK_TCP_RST | PK_TCP_ACK, NULL, 0, 0), &s),
			 PK_NET_DROP_TCP_FLAGS);
	/* The rest is the state machine's to judge: a FIN alone, a RST with FIN, none. */
	assert_int_equal(parse(raw_segment(PK_TCP_FIN, NULL, 0, 0), &s), PK_NET_OK);
	assert_int_equal(parse(raw_segment(PK_TCP_RST | PK_TCP_FIN, NULL, 0, 0), &s), PK_NET_OK);
	assert_int_equal(parse(raw_segment(0, NULL, 0, 0), &s), PK_NET_OK);
}

static void test_tcp_options_of_a_syn(void **state)
{
	(void)state;
	static const uint8_t options[] = {2,  4, 0x05, 0xa0,  /* MSS 1440 */
					  1,  3, 3,    7,     /* NOP, window scale 7 */
					  4,  2, 8,    10,    /* SACK permitted, timestamps */
					  0,  0, 0,    1,     /* TSval 1 */
					  0,  0, 0,    0,     /* TSecr 0 */
					  30, 4, 0xde, 0xad}; /* unknown, skipped */
	struct pk_tcp_segment s;
	assert_int_equal(parse(raw_segment(PK_TCP_SYN, options, sizeof options, 0), &s), PK_NET_OK);
	assert_true(s.options.has_mss);
	assert_int_equal(s.options.mss, 1440);
	assert_true(s.options.has_window_scale);
	assert_int_equal(s.options.window_scale, 7);
	assert_true(s.options.sack_permitted);
	assert_true(s.options.has_timestamps);
	assert_int_equal(s.options.timestamp_value, 1);
	assert_int_equal(s.options.timestamp_echo, 0);
	assert_int_equal(s.payload_offset, PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE + 24);
}

/* On a segment that is not a SYN, MSS, window scale and SACK permitted mean nothing. A
 * window scale past 14 counts as 14 (RFC 7323 §2.3). Nothing after End of Options counts. */
static void test_tcp_options_that_only_a_syn_carries(void **state)
{
	(void)state;
	static const uint8_t options[] = {2, 4, 0x05, 0xa0, 1, 3, 3, 20, 4, 2, 0, 0xff};
	struct pk_tcp_segment s;
	assert_int_equal(parse(raw_segment(PK_TCP_ACK, options, sizeof options, 0), &s), PK_NET_OK);
	assert_false(s.options.has_mss || s.options.has_window_scale || s.options.sack_permitted);
	assert_int_equal(parse(raw_segment(PK_TCP_SYN, options, sizeof options, 0), &s), PK_NET_OK);
	assert_int_equal(s.options.window_scale, PK_TCP_WINDOW_SCALE_MAX);
}

static void test_tcp_sack_blocks(void **state)
{
	(void)state;
	uint8_t options[36] = {1, 1, 5, 34};
	for (unsigned i = 0; i < 32; i++)
		options[4 + i] = (uint8_t)(i / 4 == 0 ? 0 : i);
	options[7] = 100; /* left edge 100 */
	struct pk_tcp_segment s;
	assert_int_equal(parse(raw_segment(PK_TCP_ACK, options, sizeof options, 0), &s), PK_NET_OK);
	assert_int_equal(s.options.sack_count, 4);
	assert_int_equal(s.options.sack[0].left, 100);
	assert_int_equal(s.options.sack[3].right, 0x1c1d1e1fu);
}

/* Every length that cannot be is a malformed option, and the segment goes. */
static void test_tcp_malformed_options(void **state)
{
	(void)state;
	static const uint8_t cases[][8] = {
		{30, 0, 0, 0},		   /* length 0 */
		{30, 1, 0, 0},		   /* length 1 */
		{30, 9, 0, 0},		   /* past the header */
		{2, 3, 0, 0},		   /* MSS of 3 */
		{3, 4, 1, 0},		   /* window scale of 4 */
		{4, 3, 0, 0},		   /* SACK permitted of 3 */
		{8, 8, 0, 0, 0, 0, 0, 0},  /* timestamps of 8 */
		{5, 11, 0, 0, 0, 0, 0, 0}, /* SACK not whole blocks */
		{1, 1, 1, 30},		   /* a kind with no room for its length */
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t n = cases[i][0] == 8 || cases[i][0] == 5 ? 8 : 4;
		struct pk_tcp_segment s;
		if (parse(raw_segment(PK_TCP_SYN, cases[i], n, 0), &s) !=
		    PK_NET_DROP_TCP_OPTION_MALFORMED)
			fail_msg("case %u is not refused as a malformed option", i);
	}
}

/* Random option bytes of every length: the parser reads nothing past them (each buffer is
 * allocated to its exact length, for the sanitizer's eye) and what it reports is within
 * bounds. PACKOS_FUZZ_SEED replays a run. */
static void test_tcp_options_fuzz(void **state)
{
	(void)state;
	const char *seed = getenv("PACKOS_FUZZ_SEED");
	test_random_seed(seed != NULL ? strtoull(seed, NULL, 0) : 0x7c9u);
	unsigned refused = 0;
	for (unsigned i = 0; i < 200000; i++) {
		uint32_t n = test_random_below(PK_TCP_OPTIONS_MAX + 1);
		uint8_t *options = malloc(n > 0 ? n : 1);
		assert_non_null(options);
		for (uint32_t j = 0; j < n; j++) {
			/* Mostly the kinds there are, and lengths near theirs. */
			uint32_t pick = test_random_below(4);
			options[j] = pick == 0	 ? (uint8_t)test_random_below(9)
				     : pick == 1 ? (uint8_t)test_random_below(12)
						 : (uint8_t)test_random();
		}
		struct pk_tcp_options o;
		if (pk_tcp_parse_options(options, n, test_random_below(2), &o) != PK_NET_OK)
			refused++;
		else if (o.sack_count > PK_TCP_SACK_BLOCKS_MAX ||
			 o.window_scale > PK_TCP_WINDOW_SCALE_MAX)
			fail_msg("option bytes of round %u parsed out of bounds", i);
		free(options);
	}
	assert_true(refused > 0 && refused < 200000);
}

/* pk_tcp_options_length counts what pk_tcp_write_options writes, for every combination of
 * options and SACK blocks, on a SYN and on any other segment. */
static void test_tcp_options_length_matches_the_writer(void **state)
{
	(void)state;
	for (unsigned bits = 0; bits < 16; bits++) {
		for (unsigned blocks = 0; blocks <= PK_TCP_SACK_BLOCKS_MAX; blocks++) {
			struct pk_tcp_options o = {
				.has_mss = bits & 1,
				.mss = 1440,
				.sack_permitted = bits & 2,
				.has_timestamps = bits & 4,
				.has_window_scale = bits & 8,
				.window_scale = 7,
				.sack_count = blocks,
			};
			for (int syn = 0; syn < 2; syn++) {
				uint8_t out[PK_TCP_OPTIONS_MAX];
				assert_int_equal(pk_tcp_options_length(&o, syn),
						 pk_tcp_write_options(&o, syn, out));
			}
		}
	}
}

/* What the writer makes, the parser reads back the same, with the checksum right. */
static void test_tcp_write_then_parse(void **state)
{
	(void)state;
	struct pk_tcp_segment out = {
		.source_port = 80,
		.destination_port = 40000,
		.seq = 0xfffffff0u,
		.ack = 12345,
		.flags = PK_TCP_SYN | PK_TCP_ACK,
		.window = 65535,
		.payload_length = 0,
		.options = {.has_mss = true,
			    .mss = 1440,
			    .has_window_scale = true,
			    .window_scale = 7,
			    .sack_permitted = true,
			    .has_timestamps = true,
			    .timestamp_value = 77,
			    .timestamp_echo = 66},
	};
	uint32_t at = pk_tcp_payload_at(&out.options, true);
	assert_int_equal(at, PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE + 20);
	uint32_t length = pk_tcp_write(packet, address_us, address_peer, &out, 64);
	assert_int_equal(length, at);
	assert_int_equal(packet[PK_IPV6_HEADER_SIZE + 16] << 8 | packet[PK_IPV6_HEADER_SIZE + 17],
			 upper_checksum(packet, PK_IPPROTO_TCP, 40, length - 40, 16));
	struct pk_tcp_segment in;
	assert_int_equal(parse(length, &in), PK_NET_OK);
	assert_int_equal(in.seq, out.seq);
	assert_int_equal(in.ack, out.ack);
	assert_int_equal(in.flags, out.flags);
	assert_int_equal(in.window, 65535);
	assert_int_equal(in.options.mss, 1440);
	assert_int_equal(in.options.window_scale, 7);
	assert_true(in.options.sack_permitted);
	assert_int_equal(in.options.timestamp_value, 77);
	assert_int_equal(in.options.timestamp_echo, 66);

	/* Not a SYN: timestamps and SACK blocks; beside timestamps three blocks fit. */
	out.flags = PK_TCP_ACK;
	out.options.sack_count = 4;
	for (unsigned i = 0; i < 4; i++)
		out.options.sack[i] = (struct pk_tcp_sack_block){1000 * i + 1, 1000 * i + 500};
	out.payload_length = 6;
	at = pk_tcp_payload_at(&out.options, false);
	assert_int_equal(at, PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE + 40);
	memcpy(packet + at, "sacked", 6);
	length = pk_tcp_write(packet, address_us, address_peer, &out, 64);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	assert_false(in.options.has_mss);
	assert_int_equal(in.options.sack_count, 3);
	assert_int_equal(in.options.sack[2].left, 2001);
	assert_int_equal(in.options.sack[2].right, 2500);
	assert_int_equal(in.payload_length, 6);
	assert_memory_equal(packet + in.payload_offset, "sacked", 6);
	/* Without timestamps all four go. */
	out.options.has_timestamps = false;
	length = pk_tcp_write(packet, address_us, address_peer, &out, 64);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	assert_int_equal(in.options.sack_count, 4);
}

/* The reset that answers a segment where no connection is (RFC 9293 §3.10.7.1). */
static void test_tcp_reset_answers_as_the_rfc_says(void **state)
{
	(void)state;
	struct pk_tcp_segment in, out;
	static uint8_t answer[PACKET_MAX];
	/* A SYN: RST,ACK acknowledging it, sequence number 0. */
	uint32_t length = raw_segment(PK_TCP_SYN, NULL, 0, 0);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	uint32_t n = pk_tcp_write_reset(packet, &in, answer);
	assert_int_equal(n, PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE);
	assert_int_equal(pk_tcp_parse(answer, n, PK_IPV6_HEADER_SIZE, &out), PK_NET_OK);
	assert_int_equal(out.flags, PK_TCP_RST | PK_TCP_ACK);
	assert_int_equal(out.seq, 0);
	assert_int_equal(out.ack, in.seq + 1);
	assert_int_equal(out.source_port, 80);
	assert_int_equal(out.destination_port, 40000);
	assert_memory_equal(answer + 8, address_us, PK_IPV6_ADDR_SIZE);
	assert_memory_equal(answer + 24, address_peer, PK_IPV6_ADDR_SIZE);
	/* Data and a FIN without ACK: all of it acknowledged. */
	length = raw_segment(PK_TCP_FIN, NULL, 0, 7);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	assert_int_equal(pk_tcp_sequence_length(&in), 8);
	n = pk_tcp_write_reset(packet, &in, answer);
	assert_int_equal(pk_tcp_parse(answer, n, PK_IPV6_HEADER_SIZE, &out), PK_NET_OK);
	assert_int_equal(out.ack, in.seq + 8);
	/* With ACK: RST alone, at the sequence number the segment acknowledged; in place. */
	length = raw_segment(PK_TCP_ACK | PK_TCP_PSH, NULL, 0, 3);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	n = pk_tcp_write_reset(packet, &in, packet);
	assert_int_equal(pk_tcp_parse(packet, n, PK_IPV6_HEADER_SIZE, &out), PK_NET_OK);
	assert_int_equal(out.flags, PK_TCP_RST);
	assert_int_equal(out.seq, 9);
	assert_int_equal(out.payload_length, 0);
	assert_memory_equal(packet + 24, address_peer, PK_IPV6_ADDR_SIZE);
	/* A reset is never answered, nor a segment to a group. */
	length = raw_segment(PK_TCP_RST, NULL, 0, 0);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	assert_int_equal(pk_tcp_write_reset(packet, &in, answer), 0);
	length = raw_segment(PK_TCP_SYN, NULL, 0, 0);
	assert_int_equal(parse(length, &in), PK_NET_OK);
	packet[24] = 0xff; /* the destination, now ff6b:616e::1 */
	assert_int_equal(pk_tcp_write_reset(packet, &in, answer), 0);
}

/* The stack drops and counts what fails the checks, and delivers the rest. */
static void test_stack_checks_tcp_before_delivering(void **state)
{
	(void)state;
	struct test_stack *t = malloc(sizeof *t);
	assert_non_null(t);
	test_stack_init(t, PK_FRAME_SIZE, 1, 10, 10);
	static uint8_t frame[PK_FRAME_SIZE];
	struct pk_stack_result r;
	uint32_t length = raw_segment(PK_TCP_SYN, NULL, 0, 0);
	memcpy(frame, packet, length);
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_DELIVER);
	assert_int_equal(r.protocol, PK_IPPROTO_TCP);
	length = raw_segment(PK_TCP_SYN | PK_TCP_FIN, NULL, 0, 0);
	memcpy(frame, packet, length);
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_TCP_FLAGS);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_TCP_FLAGS], 1);
	assert_int_equal(t->iface.counters.delivered, 1);
	assert_true(test_stack_guards_intact(t));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_parse_reads_the_header_and_finds_the_payload),
		cmocka_unit_test(test_tcp_parse_refuses_bad_headers),
		cmocka_unit_test(test_tcp_parse_refuses_impossible_flags),
		cmocka_unit_test(test_tcp_options_of_a_syn),
		cmocka_unit_test(test_tcp_options_that_only_a_syn_carries),
		cmocka_unit_test(test_tcp_sack_blocks),
		cmocka_unit_test(test_tcp_malformed_options),
		cmocka_unit_test(test_tcp_options_fuzz),
		cmocka_unit_test(test_tcp_options_length_matches_the_writer),
		cmocka_unit_test(test_tcp_write_then_parse),
		cmocka_unit_test(test_tcp_reset_answers_as_the_rfc_says),
		cmocka_unit_test(test_stack_checks_tcp_before_delivering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
