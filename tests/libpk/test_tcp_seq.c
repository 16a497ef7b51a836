/* TCP's sequence space (libpk/net/tcp_seq.c) and SipHash (libpk/net/siphash.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_seq.h>

#include "packets.h"

static const uint8_t key[PK_SIPHASH_KEY_SIZE] = {0, 1, 2,  3,  4,  5,  6,  7,
						 8, 9, 10, 11, 12, 13, 14, 15};

/* The specification's own vectors: its appendix, and the reference code's first. */
static void test_siphash_matches_the_reference(void **state)
{
	(void)state;
	uint8_t message[15];
	for (unsigned i = 0; i < sizeof message; i++)
		message[i] = (uint8_t)i;
	assert_true(pk_siphash(key, message, sizeof message) == 0xa129ca6149be45e5ull);
	assert_true(pk_siphash(key, message, 0) == 0x726fdb47dd0e0e31ull);
	uint8_t other[PK_SIPHASH_KEY_SIZE];
	memcpy(other, key, sizeof other);
	other[15] ^= 1;
	assert_true(pk_siphash(other, message, sizeof message) != 0xa129ca6149be45e5ull);
}

static void test_sequence_numbers_compare_across_the_wrap(void **state)
{
	(void)state;
	assert_true(pk_tcp_seq_lt(0xfffffff0u, 0x10));
	assert_false(pk_tcp_seq_lt(0x10, 0xfffffff0u));
	assert_true(pk_tcp_seq_le(5, 5));
	assert_false(pk_tcp_seq_lt(5, 5));
	assert_true(pk_tcp_seq_lt(0x7fffffffu, 0x80000000u));
}

static void test_isn_moves_with_the_clock_and_differs_per_connection(void **state)
{
	(void)state;
	uint32_t a = pk_tcp_isn(key, address_us, 80, address_peer, 40000, 1000000);
	assert_int_equal(pk_tcp_isn(key, address_us, 80, address_peer, 40000, 1004000), a + 1);
	assert_int_equal(pk_tcp_isn(key, address_us, 80, address_peer, 40000, 1000000), a);
	assert_int_not_equal(pk_tcp_isn(key, address_us, 80, address_peer, 40001, 1000000), a);
	assert_int_not_equal(pk_tcp_isn(key, address_peer, 80, address_us, 40000, 1000000), a);
	uint8_t other[PK_SIPHASH_KEY_SIZE] = {1};
	assert_int_not_equal(pk_tcp_isn(other, address_us, 80, address_peer, 40000, 1000000), a);
}

/* RFC 9293 §3.10.7.4's four cases, and a window across the wrap. */
static void test_acceptability_as_the_rfc_tabulates_it(void **state)
{
	(void)state;
	/* No payload, no window: only exactly RCV.NXT. */
	assert_true(pk_tcp_acceptable(100, 0, 100, 0));
	assert_false(pk_tcp_acceptable(101, 0, 100, 0));
	/* No payload, a window: anywhere in it. */
	assert_true(pk_tcp_acceptable(100, 0, 100, 10));
	assert_true(pk_tcp_acceptable(109, 0, 100, 10));
	assert_false(pk_tcp_acceptable(110, 0, 100, 10));
	assert_false(pk_tcp_acceptable(99, 0, 100, 10));
	/* Payload, no window: never. */
	assert_false(pk_tcp_acceptable(100, 1, 100, 0));
	/* Payload, a window: its first or its last byte in it. */
	assert_true(pk_tcp_acceptable(95, 10, 100, 10));  /* ends inside */
	assert_true(pk_tcp_acceptable(109, 50, 100, 10)); /* starts inside */
	assert_false(pk_tcp_acceptable(80, 20, 100, 10)); /* ends just before */
	assert_false(pk_tcp_acceptable(110, 5, 100, 10));
	assert_true(pk_tcp_acceptable(0xfffffffeu, 4, 0xfffffff8u, 16));
	assert_true(pk_tcp_acceptable(3, 1, 0xfffffff8u, 16));
	assert_false(pk_tcp_acceptable(8, 1, 0xfffffff8u, 16));
}

/* RFC 5961 §3.2: a blind reset must hit RCV.NXT exactly. */
static void test_reset_must_hit_the_next_sequence_number(void **state)
{
	(void)state;
	assert_int_equal(pk_tcp_rst_check(1000, 1000, 500), PK_TCP_RST_ACCEPT);
	assert_int_equal(pk_tcp_rst_check(1001, 1000, 500), PK_TCP_RST_CHALLENGE);
	assert_int_equal(pk_tcp_rst_check(1499, 1000, 500), PK_TCP_RST_CHALLENGE);
	assert_int_equal(pk_tcp_rst_check(1500, 1000, 500), PK_TCP_RST_DROP);
	assert_int_equal(pk_tcp_rst_check(999, 1000, 500), PK_TCP_RST_DROP);
	assert_int_equal(pk_tcp_rst_check(1000, 1000, 0), PK_TCP_RST_ACCEPT);
	assert_int_equal(pk_tcp_rst_check(1001, 1000, 0), PK_TCP_RST_DROP);
}

/* RFC 5961 §5.2: an acknowledgement ahead of what was sent, or further behind than the
 * largest window, is from no real peer. */
static void test_acknowledgements_within_reason(void **state)
{
	(void)state;
	assert_true(pk_tcp_ack_acceptable(2000, 1000, 2000, 8000));
	assert_false(pk_tcp_ack_acceptable(2001, 1000, 2000, 8000));
	assert_true(pk_tcp_ack_acceptable(1000 - 8000, 1000, 2000, 8000));
	assert_false(pk_tcp_ack_acceptable(1000 - 8001, 1000, 2000, 8000));
	assert_true(pk_tcp_ack_acceptable(5, 0xfffffff0u, 20, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_matches_the_reference),
		cmocka_unit_test(test_sequence_numbers_compare_across_the_wrap),
		cmocka_unit_test(test_isn_moves_with_the_clock_and_differs_per_connection),
		cmocka_unit_test(test_acceptability_as_the_rfc_tabulates_it),
		cmocka_unit_test(test_reset_must_hit_the_next_sequence_number),
		cmocka_unit_test(test_acknowledgements_within_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
