/* Thousands of mutated packets through the stack, with a fixed seed: no crash, no write
 * outside the caller's buffers, and every answer a well-formed packet that fits where the
 * stack said. Under the sanitizers this is the test that matters. PACKOS_FUZZ_SEED and
 * PACKOS_FUZZ_STEPS in the environment replay or lengthen a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packets.h"

#define SECOND 1000000000ull
enum { GUARD = 256, SEEDS = 8, SLOTS = 3 };

/* Buffers the stack may write, each between two guard zones. */
struct guarded_frame {
	uint8_t before[GUARD];
	uint8_t bytes[PK_FRAME_SIZE];
	uint8_t after[GUARD];
};

struct world {
	struct test_stack t;
	struct guarded_frame in, out;
	uint8_t seed[SEEDS][PK_FRAME_SIZE];
	uint32_t seed_length[SEEDS];
};

static void assert_guard(const uint8_t *guard)
{
	for (unsigned i = 0; i < GUARD; i++)
		assert_int_equal(guard[i], TEST_GUARD_BYTE);
}

static void assert_guards(const struct world *w)
{
	assert_true(test_stack_guards_intact(&w->t));
	assert_guard(w->in.before);
	assert_guard(w->in.after);
	assert_guard(w->out.before);
	assert_guard(w->out.after);
}

static uint32_t make_seed(struct world *w, unsigned index)
{
	static uint8_t big[PACKET_MAX];
	struct builder b;
	uint8_t *p = w->seed[index];
	switch (index) {
	case 0:
		build_start(&b, p, address_peer, address_us);
		build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 64);
		return b.length;
	case 1:
		build_start(&b, p, address_peer, address_us);
		build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
		build_ext(&b, PK_IPPROTO_DSTOPTS, 16);
		build_routing(&b, 0);
		build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 200);
		return b.length;
	case 2:
		build_start(&b, p, address_peer, address_us);
		build_fragment(&b, 0, 0, 77);
		build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 40);
		return b.length;
	case 3:
		build_start(&b, p, address_peer, address_us);
		build_udp(&b, 40000, 7, "0123456789abcdef", 16);
		return b.length;
	default: {
		/* Fragments 0..3 of one 6000-byte echo request. */
		build_start(&b, big, address_peer, address_us);
		build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 2, 6000);
		uint32_t length;
		assert_int_equal(pk_frag_write(big, b.length, 2048, 1234, index - 4, p,
					       PK_FRAME_SIZE, &length),
				 0);
		return length;
	}
	}
}

static void setup_world(struct world *w)
{
	memset(w, 0, sizeof *w);
	memset(&w->in, TEST_GUARD_BYTE, sizeof w->in);
	memset(&w->out, TEST_GUARD_BYTE, sizeof w->out);
	test_stack_init(&w->t, PK_FRAME_SIZE, SLOTS, 1000, 100);
	for (unsigned i = 0; i < SEEDS; i++)
		w->seed_length[i] = make_seed(w, i);
}

/* One to a few of: flipped bytes, a changed length, a rewritten Next Header or payload
 * length, a fragment offset moved. */
static uint32_t mutate(uint8_t *p, uint32_t length)
{
	unsigned edits = 1 + test_random_below(4);
	static const uint8_t next_headers[] = {0, 43, 44, 50, 51, 58, 59, 60, 17, 255};
	for (unsigned e = 0; e < edits; e++) {
		switch (test_random_below(6)) {
		case 0:
			p[test_random_below(length > 0 ? length : 1)] ^=
				(uint8_t)(1u << test_random_below(8));
			break;
		case 1:
			p[test_random_below(length > 0 ? length : 1)] = (uint8_t)test_random();
			break;
		case 2:
			length = test_random_below(PK_FRAME_SIZE + 1);
			break;
		case 3:
			p[6] = next_headers[test_random_below(sizeof next_headers)];
			break;
		case 4: {
			uint16_t payload = (uint16_t)test_random();
			p[4] = (uint8_t)(payload >> 8);
			p[5] = (uint8_t)payload;
			break;
		}
		default:
			if (length > 48) {
				p[42] = (uint8_t)test_random();
				p[43] = (uint8_t)test_random();
			}
			break;
		}
	}
	return length;
}

static bool inside(const uint8_t *p, uint32_t length, const uint8_t *base, size_t size)
{
	return p >= base && p + length <= base + size;
}

static void check_result(struct world *w, enum pk_stack_action action,
			 const struct pk_stack_result *r)
{
	assert_int_equal(r->action, action);
	switch (action) {
	case PK_STACK_SEND: {
		assert_ptr_equal(r->packet, w->in.bytes);
		assert_true(r->length <= PK_FRAME_SIZE);
		uint32_t length;
		assert_int_equal(pk_ipv6_parse_header(r->packet, r->length, &length), PK_NET_OK);
		assert_int_equal(length, r->length);
		assert_int_equal(r->packet[6], PK_IPPROTO_ICMPV6);
		assert_true(pk_icmpv6_checksum_ok(r->packet, 40, r->length - 40));
		break;
	}
	case PK_STACK_SEND_FRAGMENTS:
		assert_true(r->fragment_count >= 1);
		for (unsigned i = 0; i < r->fragment_count; i++) {
			uint32_t length;
			assert_int_equal(
				pk_stack_fragment(&w->t.stack, r, i, w->out.bytes, &length), 0);
			assert_true(length <= r->mtu);
		}
		break;
	case PK_STACK_DELIVER:
		assert_true(inside(r->packet, r->length, w->in.bytes, PK_FRAME_SIZE) ||
			    inside(r->packet, r->length, &w->t.buffers[0][0], sizeof w->t.buffers));
		assert_true(r->upper_offset <= r->length);
		break;
	case PK_STACK_DROPPED:
		assert_true(r->drop > PK_NET_OK && r->drop < PK_NET_DROP_COUNT);
		break;
	case PK_STACK_HELD:
		break;
	default:
		fail_msg("action %d from pk_stack_input", action);
	}
}

static void test_fuzz_mutated_packets_never_escape_the_buffers(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	setup_world(w);
	uint64_t seed = test_env_or("PACKOS_FUZZ_SEED", 0x5eed);
	uint64_t steps = test_env_or("PACKOS_FUZZ_STEPS", 20000);
	test_random_seed(seed);
	uint64_t now = 0;
	unsigned sent = 0, delivered = 0, dropped = 0, held = 0;
	for (uint64_t step = 0; step < steps; step++) {
		unsigned pick = test_random_below(SEEDS);
		uint32_t length = w->seed_length[pick];
		memcpy(w->in.bytes, w->seed[pick], PK_FRAME_SIZE);
		/* One packet in four arrives as crafted, so reassembly and echo get exercised. */
		if (test_random_below(4) != 0)
			length = mutate(w->in.bytes, length);
		now += test_random_below(4) == 0 ? test_random_below(70) * SECOND
						 : test_random_below(1000);

		uint64_t received = w->t.iface.counters.received;
		struct pk_stack_result r;
		enum pk_stack_action action =
			pk_stack_input(&w->t.stack, w->in.bytes, length, now, &r);
		if (r.drop == 0 && action == PK_STACK_DROPPED)
			fail_msg("step %llu (seed %llu): dropped without a reason",
				 (unsigned long long)step, (unsigned long long)seed);
		check_result(w, action, &r);
		assert_int_equal(w->t.iface.counters.received, received + 1);
		sent += action == PK_STACK_SEND || action == PK_STACK_SEND_FRAGMENTS;
		delivered += action == PK_STACK_DELIVER;
		dropped += action == PK_STACK_DROPPED;
		held += action == PK_STACK_HELD;

		if (test_random_below(16) == 0)
			while (pk_stack_poll(&w->t.stack, w->in.bytes, now, &r) != PK_STACK_IDLE)
				assert_true(r.action == PK_STACK_SEND ||
					    r.action == PK_STACK_DROPPED);
		assert_true(pk_reasm_busy(&w->t.stack.reasm) <= SLOTS);
		assert_guards(w);
	}
	/* A run that only ever dropped would prove little. */
	assert_true(sent > 0 && delivered > 0 && dropped > 0 && held > 0);
	assert_true(w->t.iface.counters.reassembled > 0);
	free(w);
}

static void test_fuzz_random_bytes_through_the_parsers(void **state)
{
	(void)state;
	static struct guarded_frame in, out;
	memset(&in, TEST_GUARD_BYTE, sizeof in);
	memset(&out, TEST_GUARD_BYTE, sizeof out);
	test_random_seed(test_env_or("PACKOS_FUZZ_SEED", 0x5eed) ^ 0xabcdef);
	uint64_t steps = test_env_or("PACKOS_FUZZ_STEPS", 20000);
	for (uint64_t step = 0; step < steps; step++) {
		uint32_t length = 40 + test_random_below(200);
		for (uint32_t i = 0; i < length; i++)
			in.bytes[i] = (uint8_t)test_random();
		/* Mostly small Next Header values and lengths, so the walk goes somewhere. */
		in.bytes[6] =
			(uint8_t)(test_random_below(2) ? test_random_below(64) : test_random());
		for (uint32_t i = 40; i < length; i += 8)
			if (test_random_below(2))
				in.bytes[i + 1 < length ? i + 1 : i] =
					(uint8_t)test_random_below(4);
		struct pk_ipv6_chain chain;
		if (pk_ipv6_parse_chain(in.bytes, length, &chain) == PK_NET_OK) {
			assert_true(chain.upper_offset <= length);
			assert_true(chain.unfragmentable <= length);
			assert_true(chain.extension_count <= PK_IPV6_EXT_MAX);
		}
		uint32_t out_length = 0;
		int err = pk_icmpv6_error_build(out.bytes, PK_FRAME_SIZE, in.bytes, length,
						address_us, (uint8_t)test_random_below(5), 0,
						test_random_below(300), &out_length);
		if (err == 0)
			assert_true(out_length <= PK_IPV6_MIN_MTU);
		int count = pk_frag_count(in.bytes, length, 1280);
		if (count > 0)
			assert_int_equal(pk_frag_write(in.bytes, length, 1280, 1,
						       (unsigned)count - 1, out.bytes,
						       PK_FRAME_SIZE, &out_length),
					 0);
		assert_guard(in.before);
		assert_guard(in.after);
		assert_guard(out.before);
		assert_guard(out.after);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_mutated_packets_never_escape_the_buffers),
		cmocka_unit_test(test_fuzz_random_bytes_through_the_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
