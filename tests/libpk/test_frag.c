/* Fragmentation and reassembly: fragments cut by pk_frag_write and crafted by hand, fed to
 * pk_reasm_input in every order and every wrong way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packets.h"

enum { SLOTS = 2, BUFFER = PK_REASM_HEADROOM + 16384 };
#define SECOND 1000000000ull

static uint8_t original[PACKET_MAX];
static uint8_t fragments[16][PK_FRAME_SIZE];
static uint32_t fragment_length[16];
static uint8_t buffers[SLOTS][BUFFER];
static struct pk_reasm_slot slots[SLOTS];
static struct pk_reasm reasm;

static int setup(void **state)
{
	(void)state;
	pk_reasm_init(&reasm, slots, SLOTS, &buffers[0][0], BUFFER, 60ull * SECOND);
	return 0;
}

/* An echo request of `data` bytes cut for `mtu`; returns the fragment count. */
static unsigned cut(uint32_t data, uint32_t mtu, uint32_t identification, uint32_t *ret_length)
{
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0x10001, data);
	int count = pk_frag_count(original, b.length, mtu);
	assert_true(count > 0 && count <= 16);
	for (int i = 0; i < count; i++) {
		assert_int_equal(pk_frag_write(original, b.length, mtu, identification, (unsigned)i,
					       fragments[i], PK_FRAME_SIZE, &fragment_length[i]),
				 0);
		assert_true(fragment_length[i] <= mtu);
	}
	*ret_length = b.length;
	return (unsigned)count;
}

static enum pk_net_drop feed(unsigned index, uint64_t now, struct pk_reasm_datagram *done)
{
	struct pk_ipv6_chain chain;
	assert_int_equal(pk_ipv6_parse_chain(fragments[index], fragment_length[index], &chain),
			 PK_NET_OK);
	assert_int_not_equal(chain.fragment_offset, 0);
	return pk_reasm_input(&reasm, fragments[index], fragment_length[index], &chain, now, done);
}

static void assert_is_original(const struct pk_reasm_datagram *done, uint32_t length)
{
	assert_non_null(done->packet);
	assert_int_equal(done->length, length);
	assert_memory_equal(done->packet, original, length);
}

static void test_frag_cuts_multiples_of_8_within_the_mtu(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(5000, 1500, 42, &length);
	assert_int_equal(count, 4);
	uint32_t total = 0;
	for (unsigned i = 0; i < count; i++) {
		struct pk_ipv6_chain chain;
		assert_int_equal(pk_ipv6_parse_chain(fragments[i], fragment_length[i], &chain),
				 PK_NET_OK);
		uint8_t *f = fragments[i] + chain.fragment_offset;
		uint32_t data = fragment_length[i] - 48;
		assert_int_equal((uint32_t)(f[2] << 8 | f[3]) & 0xfff8u, total);
		assert_int_equal(f[3] & 1, i + 1 < count);
		assert_int_equal(f[4] << 24 | f[5] << 16 | f[6] << 8 | f[7], 42);
		assert_int_equal(f[0], PK_IPPROTO_ICMPV6);
		if (i + 1 < count)
			assert_int_equal(data % 8, 0);
		assert_int_equal(pk_ipv6_payload_length(fragments[i]), fragment_length[i] - 40);
		total += data;
	}
	assert_int_equal(total, length - 40);
}

static void test_frag_refuses_what_cannot_be_cut(void **state)
{
	(void)state;
	uint32_t length, out;
	cut(100, 1280, 1, &length);
	assert_int_equal(pk_frag_count(original, length, 55), -PK_EINVAL);
	assert_int_equal(pk_frag_count(original, length, 56), 14); /* 108 bytes, 8 at a time */
	assert_int_equal(
		pk_frag_write(original, length, 1280, 1, 1, fragments[0], PK_FRAME_SIZE, &out),
		-PK_EINVAL);
	assert_int_equal(pk_frag_write(original, length, 1280, 1, 0, fragments[0], 100, &out),
			 -PK_EINVAL);
	/* A packet that is already a fragment is not cut again. */
	assert_int_equal(pk_frag_count(fragments[0], fragment_length[0], 1280), -PK_EINVAL);
}

static void test_frag_repeats_hop_by_hop_in_every_fragment(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 3000);
	int count = pk_frag_count(original, b.length, 1280);
	assert_int_equal(count, 3);
	for (int i = 0; i < count; i++) {
		uint32_t length;
		assert_int_equal(pk_frag_write(original, b.length, 1280, 9, (unsigned)i,
					       fragments[i], PK_FRAME_SIZE, &length),
				 0);
		assert_int_equal(fragments[i][6], PK_IPPROTO_HOPOPTS);
		assert_int_equal(fragments[i][40], PK_IPPROTO_FRAGMENT);
		assert_int_equal(fragments[i][48], PK_IPPROTO_DSTOPTS);
		fragment_length[i] = length;
	}
	struct pk_reasm_datagram done;
	assert_int_equal(feed(2, 0, &done), PK_NET_OK);
	assert_int_equal(feed(0, 0, &done), PK_NET_OK);
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	assert_is_original(&done, b.length);
}

static void test_reasm_in_order_gives_the_original(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(8000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	for (unsigned i = 0; i < count; i++) {
		assert_int_equal(feed(i, 0, &done), PK_NET_OK);
		assert_true((done.packet != NULL) == (i + 1 == count));
	}
	assert_is_original(&done, length);
	assert_int_equal(pk_reasm_busy(&reasm), 0);
}

static void test_reasm_out_of_order_gives_the_original(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(8000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	const unsigned order[] = {3, 6, 0, 5, 1, 4, 2};
	assert_int_equal(count, 7);
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(feed(order[i], 0, &done), PK_NET_OK);
	assert_is_original(&done, length);
}

static void test_reasm_exact_duplicate_is_dropped_alone(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	assert_int_equal(feed(1, 0, &done), PK_NET_DROP_FRAGMENT_DUPLICATE);
	for (unsigned i = 0; i < count; i++)
		if (i != 1)
			assert_int_equal(feed(i, 0, &done), PK_NET_OK);
	assert_is_original(&done, length);
}

static void test_reasm_overlap_drops_the_whole_datagram(void **state)
{
	(void)state;
	uint32_t length;
	cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(0, 0, &done), PK_NET_OK);
	/* Fragment 1 moved back 8 bytes, over the end of fragment 0 (RFC 5722). */
	uint8_t *f = fragments[1] + 40;
	uint32_t offset = ((uint32_t)(f[2] << 8 | f[3]) & 0xfff8u) - 8;
	f[2] = (uint8_t)(offset >> 8);
	f[3] = (uint8_t)((offset & 0xf8) | 1);
	assert_int_equal(feed(1, 0, &done), PK_NET_DROP_FRAGMENT_OVERLAP);
	assert_int_equal(pk_reasm_busy(&reasm), 0);
	assert_null(done.packet);
}

static void test_reasm_same_place_other_bytes_is_an_overlap(void **state)
{
	(void)state;
	uint32_t length;
	cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	fragments[1][100] ^= 1;
	assert_int_equal(feed(1, 0, &done), PK_NET_DROP_FRAGMENT_OVERLAP);
	assert_int_equal(pk_reasm_busy(&reasm), 0);
}

static void test_reasm_disagreeing_ends_are_inconsistent(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(count - 1, 0, &done), PK_NET_OK);
	/* A second last fragment, ending elsewhere. */
	fragment_length[count - 1] -= 8;
	fragments[count - 1][5] -= 8;
	assert_int_equal(feed(count - 1, 0, &done), PK_NET_DROP_FRAGMENT_INCONSISTENT);
	assert_int_equal(pk_reasm_busy(&reasm), 0);
}

static void test_reasm_data_past_the_end_is_inconsistent(void **state)
{
	(void)state;
	uint32_t length;
	cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	/* Fragment 0 claims to be the last, though fragment 1 lies beyond it. */
	fragments[0][43] &= 0xfe;
	assert_int_equal(feed(0, 0, &done), PK_NET_DROP_FRAGMENT_INCONSISTENT);
}

static void test_reasm_larger_than_the_buffer_is_too_big(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(30000, 4000, 7, &length);
	struct pk_reasm_datagram done;
	enum pk_net_drop last = PK_NET_OK;
	for (unsigned i = 0; i < count; i++)
		last = feed(i, 0, &done);
	assert_int_equal(last, PK_NET_DROP_FRAGMENT_TOO_BIG);
	assert_null(done.packet);
	assert_int_equal(pk_reasm_busy(&reasm), 0);
}

static void test_reasm_too_many_in_flight_is_refused(void **state)
{
	(void)state;
	uint32_t length;
	struct pk_reasm_datagram done;
	for (uint32_t id = 1; id <= SLOTS; id++) {
		cut(3000, 1280, id, &length);
		assert_int_equal(feed(0, 0, &done), PK_NET_OK);
	}
	cut(3000, 1280, 99, &length);
	assert_int_equal(feed(0, 0, &done), PK_NET_DROP_FRAGMENT_TABLE_FULL);
	assert_int_equal(feed(1, 0, &done), PK_NET_DROP_FRAGMENT_TABLE_FULL);
	assert_int_equal(pk_reasm_busy(&reasm), SLOTS);
	/* Fragments of datagrams already in flight still get in. */
	cut(3000, 1280, 1, &length);
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	assert_int_equal(feed(2, 0, &done), PK_NET_OK);
	assert_is_original(&done, length);
}

static void test_reasm_never_completed_times_out(void **state)
{
	(void)state;
	uint32_t length;
	cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done, first;
	assert_int_equal(feed(0, 5 * SECOND, &done), PK_NET_OK);
	assert_int_equal(feed(2, 30 * SECOND, &done), PK_NET_OK);
	assert_false(pk_reasm_expire(&reasm, 65 * SECOND - 1, &first));
	assert_true(pk_reasm_expire(&reasm, 65 * SECOND, &first));
	assert_false(pk_reasm_expire(&reasm, 65 * SECOND, &first));
	assert_int_equal(pk_reasm_busy(&reasm), 0);
	/* The first fragment comes back as it arrived, to quote in time exceeded. */
	assert_int_equal(first.length, fragment_length[0]);
	assert_memory_equal(first.packet, fragments[0], fragment_length[0]);
	/* Without the first fragment there is nothing to quote. */
	assert_int_equal(feed(1, 70 * SECOND, &done), PK_NET_OK);
	assert_true(pk_reasm_expire(&reasm, 200 * SECOND, &first));
	assert_null(first.packet);
}

static void test_reasm_keys_on_source_destination_and_identification(void **state)
{
	(void)state;
	uint32_t length;
	unsigned count = cut(3000, 1280, 7, &length);
	struct pk_reasm_datagram done;
	assert_int_equal(feed(0, 0, &done), PK_NET_OK);
	uint8_t saved[PK_IPV6_ADDR_SIZE];
	memcpy(saved, fragments[1] + 8, 16);
	memcpy(fragments[1] + 8, address_other, 16);
	assert_int_equal(feed(1, 0, &done), PK_NET_OK);
	assert_int_equal(pk_reasm_busy(&reasm), 2);
	memcpy(fragments[1] + 8, saved, 16);
	for (unsigned i = 1; i < count; i++)
		assert_int_equal(feed(i, 0, &done), PK_NET_OK);
	assert_is_original(&done, length);
	assert_int_equal(pk_reasm_busy(&reasm), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_frag_cuts_multiples_of_8_within_the_mtu, setup),
		cmocka_unit_test_setup(test_frag_refuses_what_cannot_be_cut, setup),
		cmocka_unit_test_setup(test_frag_repeats_hop_by_hop_in_every_fragment, setup),
		cmocka_unit_test_setup(test_reasm_in_order_gives_the_original, setup),
		cmocka_unit_test_setup(test_reasm_out_of_order_gives_the_original, setup),
		cmocka_unit_test_setup(test_reasm_exact_duplicate_is_dropped_alone, setup),
		cmocka_unit_test_setup(test_reasm_overlap_drops_the_whole_datagram, setup),
		cmocka_unit_test_setup(test_reasm_same_place_other_bytes_is_an_overlap, setup),
		cmocka_unit_test_setup(test_reasm_disagreeing_ends_are_inconsistent, setup),
		cmocka_unit_test_setup(test_reasm_data_past_the_end_is_inconsistent, setup),
		cmocka_unit_test_setup(test_reasm_larger_than_the_buffer_is_too_big, setup),
		cmocka_unit_test_setup(test_reasm_too_many_in_flight_is_refused, setup),
		cmocka_unit_test_setup(test_reasm_never_completed_times_out, setup),
		cmocka_unit_test_setup(test_reasm_keys_on_source_destination_and_identification,
				       setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
