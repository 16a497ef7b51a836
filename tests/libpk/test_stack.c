/* The stack as a process uses it: crafted packets in, the decision and the counters out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packets.h"

#define SECOND 1000000000ull

static uint8_t frame[PK_FRAME_SIZE], original[PACKET_MAX];

static int setup(void **state)
{
	struct test_stack *t = malloc(sizeof *t);
	assert_non_null(t);
	test_stack_init(t, PK_FRAME_SIZE, 4, 10, 10);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	assert_true(test_stack_guards_intact(*state));
	free(*state);
	return 0;
}

static enum pk_stack_action input(struct test_stack *t, const struct builder *b, uint64_t now,
				  struct pk_stack_result *ret)
{
	memcpy(frame, b->p, b->length);
	return pk_stack_input(&t->stack, frame, b->length, now, ret);
}

static void assert_echo_reply(const uint8_t *packet, uint32_t length, uint32_t data)
{
	assert_int_equal(length, 48 + data);
	assert_int_equal(packet[6], PK_IPPROTO_ICMPV6);
	assert_memory_equal(packet + 8, address_us, 16);
	assert_memory_equal(packet + 24, address_peer, 16);
	assert_int_equal(packet[40], PK_ICMPV6_ECHO_REPLY);
	assert_true(pk_icmpv6_checksum_ok(packet, 40, length - 40));
}

static void test_stack_answers_an_echo_request_in_the_frame(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0x00010002, 56);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_ptr_equal(r.packet, frame);
	assert_echo_reply(frame, r.length, 56);
	assert_int_equal(t->iface.counters.received, 1);
	assert_int_equal(t->iface.counters.echo_replies, 1);
}

static void test_stack_drops_and_counts_each_bad_packet(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	struct pk_stack_result r;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8);

	memcpy(frame, original, b.length);
	assert_int_equal(pk_stack_input(&t->stack, frame, 30, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_SHORT);
	assert_int_equal(pk_stack_input(&t->stack, frame, b.length - 1, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_LENGTH);
	frame[0] = 0x40;
	assert_int_equal(pk_stack_input(&t->stack, frame, b.length, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_VERSION);

	original[b.length - 1] ^= 0xff;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_ICMP_CHECKSUM);

	build_start(&b, original, address_peer, address_other);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_NOT_FOR_US);

	build_start(&b, original, address_peer, address_us);
	build_upper(&b, PK_IPPROTO_ICMPV6, "1234567", 7);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_ICMP_SHORT);

	const struct pk_net_counters *c = &t->iface.counters;
	assert_int_equal(c->received, 6);
	for (int reason = PK_NET_DROP_SHORT; reason <= PK_NET_DROP_ICMP_SHORT; reason++) {
		int expected = reason == PK_NET_DROP_SHORT || reason == PK_NET_DROP_LENGTH ||
			       reason == PK_NET_DROP_VERSION ||
			       reason == PK_NET_DROP_ICMP_CHECKSUM ||
			       reason == PK_NET_DROP_NOT_FOR_US || reason == PK_NET_DROP_ICMP_SHORT;
		assert_int_equal(c->drops[reason], expected);
	}
	assert_int_equal(c->errors_sent + c->echo_replies + c->delivered, 0);
}

static void test_stack_answers_a_bad_chain_with_a_parameter_problem(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	build_ext(&b, PK_IPPROTO_HOPOPTS, 8);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_int_equal(frame[40], PK_ICMPV6_PARAMETER_PROBLEM);
	assert_int_equal(frame[41], 1);
	assert_int_equal(frame[47], 40);
	assert_memory_equal(frame + 24, address_peer, 16);
	assert_memory_equal(frame + 48, original, b.length);
	assert_int_equal(r.length, 48 + b.length);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_HOP_BY_HOP_NOT_FIRST], 1);
	assert_int_equal(t->iface.counters.errors_sent, 1);
	assert_int_equal(r.drop, PK_NET_DROP_HOP_BY_HOP_NOT_FIRST);
}

static void test_stack_rate_limits_its_errors(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_routing(&b, 1);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8);
	struct pk_stack_result r;
	for (int i = 0; i < 10; i++)
		assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_ROUTING_SEGMENTS_LEFT);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_ERROR_RATE_LIMITED], 1);
	/* Ten a second: one more after a tenth of a second. */
	assert_int_equal(input(t, &b, SECOND / 10, &r), PK_STACK_SEND);
	assert_int_equal(t->iface.counters.errors_sent, 11);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_ROUTING_SEGMENTS_LEFT], 12);
}

static void test_stack_never_answers_an_icmpv6_error_with_one(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0, 48);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DELIVER);
	assert_int_equal(r.protocol, PK_IPPROTO_ICMPV6);
	/* The application cannot take it either: no error about an error. */
	assert_int_equal(pk_stack_reject(&t->stack, frame, r.packet, r.length,
					 PK_ICMPV6_PARAMETER_PROBLEM, 1, 40, 0, &r),
			 PK_STACK_DROPPED);
	assert_int_equal(t->iface.counters.errors_sent, 0);
}

static void test_stack_delivers_other_protocols_and_rejects_on_request(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 8);
	uint32_t udp = build_udp(&b, 40000, 7, "udp-data", 8);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DELIVER);
	assert_ptr_equal(r.packet, frame);
	assert_int_equal(r.protocol, PK_IPPROTO_UDP);
	assert_int_equal(r.upper_offset, udp);
	assert_int_equal(t->iface.counters.delivered, 1);
	assert_int_equal(pk_stack_reject(&t->stack, frame, frame, r.length,
					 PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0, 0,
					 &r),
			 PK_STACK_SEND);
	assert_int_equal(frame[40], PK_ICMPV6_DEST_UNREACHABLE);
	assert_memory_equal(frame + 48, original, b.length);
}

/* Feeds every fragment of `original` cut for `mtu` into the stack; returns the last result. */
static enum pk_stack_action feed_fragments(struct test_stack *t, uint32_t length, uint32_t mtu,
					   uint32_t identification, uint64_t now,
					   struct pk_stack_result *ret)
{
	int count = pk_frag_count(original, length, mtu);
	assert_true(count > 1);
	enum pk_stack_action action = PK_STACK_IDLE;
	for (int i = 0; i < count; i++) {
		uint32_t fragment_length;
		assert_int_equal(pk_frag_write(original, length, mtu, identification, (unsigned)i,
					       frame, sizeof frame, &fragment_length),
				 0);
		action = pk_stack_input(&t->stack, frame, fragment_length, now, ret);
		if (i + 1 < count)
			assert_int_equal(action, PK_STACK_HELD);
	}
	return action;
}

static void test_stack_answers_a_fragmented_echo_with_fragments(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 8000);
	struct pk_stack_result r;
	assert_int_equal(feed_fragments(t, b.length, 1280, 5, 0, &r), PK_STACK_SEND_FRAGMENTS);
	assert_int_equal(t->iface.counters.reassembled, 1);
	assert_int_equal(r.mtu, PK_FRAME_SIZE);
	assert_int_equal(r.fragment_count, 2);
	assert_echo_reply(r.packet, r.length, 8000);

	/* The peer's stack puts the reply back together. */
	struct test_stack *peer = malloc(sizeof *peer);
	assert_non_null(peer);
	test_stack_init(peer, PK_FRAME_SIZE, 4, 10, 10);
	pk_iface_add_address(&peer->iface, address_peer);
	struct pk_stack_result pr;
	uint8_t out[PK_FRAME_SIZE];
	for (unsigned i = 0; i < r.fragment_count; i++) {
		uint32_t length;
		assert_int_equal(pk_stack_fragment(&t->stack, &r, i, out, &length), 0);
		assert_true(length <= r.mtu);
		pk_stack_input(&peer->stack, out, length, 0, &pr);
	}
	assert_int_equal(t->iface.counters.fragments_sent, 2);
	assert_int_equal(pr.action, PK_STACK_DELIVER);
	assert_echo_reply(pr.packet, pr.length, 8000);
	assert_memory_equal(pr.packet + 48, original + 48, 8000);
	free(peer);
}

static void test_stack_small_fragmented_echo_is_answered_in_one_frame(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 1000);
	struct pk_stack_result r;
	assert_int_equal(feed_fragments(t, b.length, 600, 5, 0, &r), PK_STACK_SEND);
	assert_ptr_equal(r.packet, frame);
	assert_echo_reply(frame, r.length, 1000);
}

static void test_stack_learns_from_packet_too_big_never_below_1280(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	/* A router says our 3000-byte packet to the peer met a link of 600 bytes. */
	build_start(&b, original, address_us, address_peer);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 3000);
	uint8_t ptb[PK_FRAME_SIZE];
	uint32_t ptb_length;
	assert_int_equal(pk_icmpv6_error_build(ptb, sizeof ptb, original, b.length, address_other,
					       PK_ICMPV6_PACKET_TOO_BIG, 0, 600, &ptb_length),
			 0);
	struct pk_stack_result r;
	memcpy(frame, ptb, ptb_length);
	assert_int_equal(pk_stack_input(&t->stack, frame, ptb_length, 0, &r), PK_STACK_DELIVER);
	assert_int_equal(t->iface.counters.pmtu_updates, 1);
	assert_int_equal(pk_pmtu_get(&t->stack.pmtu, address_peer, 0), PK_IPV6_MIN_MTU);

	/* The answer to a 3000-byte echo now leaves in fragments of at most 1280 bytes. */
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 3000);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND_FRAGMENTS);
	assert_int_equal(r.mtu, PK_IPV6_MIN_MTU);
	assert_int_equal(r.fragment_count, 3);
	uint8_t out[PK_FRAME_SIZE];
	for (unsigned i = 0; i < r.fragment_count; i++) {
		uint32_t length;
		assert_int_equal(pk_stack_fragment(&t->stack, &r, i, out, &length), 0);
		assert_true(length <= PK_IPV6_MIN_MTU);
	}
}

static void test_stack_ignores_too_big_about_a_packet_not_ours(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_other, address_peer);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 3000);
	uint32_t length;
	assert_int_equal(pk_icmpv6_error_build(frame, sizeof frame, original, b.length, address_us,
					       PK_ICMPV6_PACKET_TOO_BIG, 0, 1300, &length),
			 0);
	memcpy(frame + 24, address_us, 16); /* deliver it to us after all */
	frame[42] = frame[43] = 0;
	uint16_t checksum = pk_ipv6_upper_checksum(frame, PK_IPPROTO_ICMPV6, length - 40);
	frame[42] = (uint8_t)(checksum >> 8);
	frame[43] = (uint8_t)checksum;
	struct pk_stack_result r;
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_DELIVER);
	assert_int_equal(t->iface.counters.pmtu_updates, 0);
	assert_int_equal(pk_pmtu_get(&t->stack.pmtu, address_peer, 0), PK_FRAME_SIZE);
}

static void test_stack_answers_an_atomic_fragment(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_fragment(&b, 0, 0, 1234);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 30);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_echo_reply(frame, r.length, 30);
	assert_int_equal(t->iface.counters.atomic_fragments, 1);
	assert_int_equal(t->iface.counters.fragments_received, 0);
	assert_int_equal(pk_reasm_busy(&t->stack.reasm), 0);
}

static void test_stack_reports_a_reassembly_timeout(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 3000);
	uint32_t length;
	struct pk_stack_result r;
	/* Only the first fragment of one datagram, only the second of another. */
	assert_int_equal(
		pk_frag_write(original, b.length, 1280, 1, 0, frame, sizeof frame, &length), 0);
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_HELD);
	assert_int_equal(
		pk_frag_write(original, b.length, 1280, 2, 1, frame, sizeof frame, &length), 0);
	assert_int_equal(pk_stack_input(&t->stack, frame, length, 0, &r), PK_STACK_HELD);
	assert_int_equal(pk_stack_poll(&t->stack, frame, 59 * SECOND, &r), PK_STACK_IDLE);
	assert_int_equal(pk_stack_next_deadline(&t->stack), PK_REASM_TIMEOUT_NS);

	int sent = 0, dropped = 0;
	enum pk_stack_action action;
	while ((action = pk_stack_poll(&t->stack, frame, 60 * SECOND, &r)) != PK_STACK_IDLE) {
		if (action == PK_STACK_SEND) {
			sent++;
			assert_int_equal(r.drop, PK_NET_DROP_FRAGMENT_TIMEOUT);
			assert_int_equal(frame[40], PK_ICMPV6_TIME_EXCEEDED);
			assert_int_equal(frame[41], PK_ICMPV6_TIME_REASSEMBLY);
			assert_memory_equal(frame + 24, address_peer, 16);
		} else {
			assert_int_equal(action, PK_STACK_DROPPED);
			dropped++;
		}
	}
	assert_int_equal(sent, 1);
	assert_int_equal(dropped, 1);
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_FRAGMENT_TIMEOUT], 2);
	assert_int_equal(pk_stack_next_deadline(&t->stack), UINT64_MAX);
	assert_int_equal(pk_reasm_busy(&t->stack.reasm), 0);
}

static void test_stack_too_many_reassemblies_are_counted(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_us);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 3000);
	struct pk_stack_result r;
	for (uint32_t id = 0; id < 6; id++) {
		uint32_t length;
		assert_int_equal(pk_frag_write(original, b.length, 1280, id, 1, frame, sizeof frame,
					       &length),
				 0);
		pk_stack_input(&t->stack, frame, length, 0, &r);
	}
	assert_int_equal(t->iface.counters.drops[PK_NET_DROP_FRAGMENT_TABLE_FULL], 2);
	assert_int_equal(t->iface.counters.fragments_received, 6);
}

static void test_stack_answers_echo_to_all_nodes_from_its_address(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_all_nodes);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 16);
	struct pk_stack_result r;
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_echo_reply(frame, r.length, 16);
}

static void test_stack_answers_echo_to_a_group_it_joined_and_no_other(void **state)
{
	struct test_stack *t = *state;
	static const uint8_t joined[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [11] = 1, 0xff, 0, 0, 1};
	static const uint8_t other[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 2};
	assert_int_equal(pk_iface_join(&t->iface, joined), 0);
	assert_int_equal(pk_iface_join(&t->iface, joined), 0);
	assert_int_equal(t->iface.group_count, 1);
	struct builder b;
	struct pk_stack_result r;
	build_start(&b, original, address_peer, joined);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 16);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_SEND);
	assert_echo_reply(frame, r.length, 16);
	build_start(&b, original, address_peer, other);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 16);
	assert_int_equal(input(t, &b, 0, &r), PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_NOT_FOR_US);
}

static void test_stack_joins_only_groups_and_only_so_many(void **state)
{
	struct test_stack *t = *state;
	assert_int_equal(pk_iface_join(&t->iface, address_peer), -PK_EINVAL);
	uint8_t group[PK_IPV6_ADDR_SIZE] = {0xff, 0x05};
	for (unsigned i = 0; i < PK_IFACE_GROUPS; i++) {
		group[15] = (uint8_t)i;
		assert_int_equal(pk_iface_join(&t->iface, group), 0);
	}
	group[15] = PK_IFACE_GROUPS;
	assert_int_equal(pk_iface_join(&t->iface, group), -PK_ELIMIT);
	assert_false(pk_iface_accepts(&t->iface, group));
	group[15] = 0;
	assert_true(pk_iface_accepts(&t->iface, group));
}

static void test_stack_rejects_from_the_source_it_is_given(void **state)
{
	struct test_stack *t = *state;
	struct builder b;
	build_start(&b, original, address_peer, address_other);
	build_udp(&b, 40000, 7, "udp-data", 8);
	memcpy(frame, original, b.length);
	const struct pk_icmpv6_due error = {.type = PK_ICMPV6_TIME_EXCEEDED,
					    .code = PK_ICMPV6_TIME_HOP_LIMIT};
	struct pk_stack_result r;
	/* The source lies in the packet the error is written over. */
	assert_int_equal(
		pk_stack_reject_from(&t->stack, frame, frame, b.length, frame + 24, &error, 0, &r),
		PK_STACK_SEND);
	assert_memory_equal(frame + 8, address_other, 16);
	assert_memory_equal(frame + 24, address_peer, 16);
	assert_int_equal(frame[40], PK_ICMPV6_TIME_EXCEEDED);
	assert_true(pk_icmpv6_checksum_ok(frame, 40, r.length - 40));
	assert_memory_equal(frame + 48, original, b.length);
	assert_int_equal(t->iface.counters.errors_sent, 1);
	/* The same limit as every other error: ten in a burst. */
	for (int i = 0; i < 9; i++) {
		memcpy(frame, original, b.length);
		assert_int_equal(pk_stack_reject_from(&t->stack, frame, frame, b.length, address_us,
						      &error, 0, &r),
				 PK_STACK_SEND);
	}
	assert_int_equal(pk_stack_reject_from(&t->stack, frame, original, b.length, address_us,
					      &error, 0, &r),
			 PK_STACK_DROPPED);
	assert_int_equal(r.drop, PK_NET_DROP_ERROR_RATE_LIMITED);
}

static void test_stack_drop_names_cover_every_reason(void **state)
{
	(void)state;
	for (int reason = 0; reason < PK_NET_DROP_COUNT; reason++)
		assert_non_null(pk_iface_drop_name((enum pk_net_drop)reason));
	assert_string_equal(pk_iface_drop_name(PK_NET_DROP_COUNT), "unknown");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_stack_answers_an_echo_request_in_the_frame),
		T(test_stack_drops_and_counts_each_bad_packet),
		T(test_stack_answers_a_bad_chain_with_a_parameter_problem),
		T(test_stack_rate_limits_its_errors),
		T(test_stack_never_answers_an_icmpv6_error_with_one),
		T(test_stack_delivers_other_protocols_and_rejects_on_request),
		T(test_stack_answers_a_fragmented_echo_with_fragments),
		T(test_stack_small_fragmented_echo_is_answered_in_one_frame),
		T(test_stack_learns_from_packet_too_big_never_below_1280),
		T(test_stack_ignores_too_big_about_a_packet_not_ours),
		T(test_stack_answers_an_atomic_fragment),
		T(test_stack_reports_a_reassembly_timeout),
		T(test_stack_too_many_reassemblies_are_counted),
		T(test_stack_answers_echo_to_all_nodes_from_its_address),
		T(test_stack_answers_echo_to_a_group_it_joined_and_no_other),
		T(test_stack_joins_only_groups_and_only_so_many),
		T(test_stack_rejects_from_the_source_it_is_given),
		T(test_stack_drop_names_cover_every_reason),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
