/* The KAN: send, recv and routing. Every refusal must leave the frame with its sender,
 * every misuse must fault the caller alone, and every delivery must move the frame, not
 * copy it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

/* Two processes with one endpoint each, the usual cast of these tests. */
struct pair {
	pk_proc_t alice, bob;
	pk_endpoint_t alice_ep, bob_ep;
};

enum { ALICE = 0xa11ce, BOB = 0xb0b };

static struct pair make_pair(struct fake_port *fp)
{
	struct pair p;
	p.alice = fake_port_proc(fp, 0);
	p.bob = fake_port_proc(fp, 0);
	p.alice_ep = fake_port_endpoint(fp, p.alice, ALICE);
	p.bob_ep = fake_port_endpoint(fp, p.bob, BOB);
	return p;
}

static uint32_t owned_by(struct fake_port *fp, pk_proc_t proc)
{
	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, proc, &info), 0);
	return info.frames_owned;
}

/* Sends `frame` (already written) and expects `expected`; on a refusal, checks the frame is
 * still the sender's by freeing it. */
static void expect_send(struct fake_port *fp, pk_proc_t proc, pk_frame_t frame, uint64_t length,
			int expected)
{
	uint32_t before = owned_by(fp, proc);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_send, frame, length, 0, NULL), expected);
	if (expected == 0) {
		assert_int_equal(owned_by(fp, proc), before - 1);
		return;
	}
	assert_int_equal(fp->faults, 0);
	assert_int_equal(owned_by(fp, proc), before);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_free, frame, 0, 0, NULL), 0);
}

static void test_kan_send_moves_the_frame_to_the_receiver(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 1000);
	uint8_t sent[PK_FRAME_SIZE];
	memcpy(sent, fake_port_frame_bytes(fp, f), length);

	unsigned revokes = fp->revokes;
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 0, NULL), 0);
	assert_int_equal(fp->revokes, revokes + 1);
	assert_int_equal(owned_by(fp, p.alice), 0);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_queued, 1);

	struct pk_kresult r;
	unsigned grants = fp->grants;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_int_equal(fp->grants, grants + 1);
	assert_int_equal(r.ret[1], length);
	/* Zero copy: the same frame, under the receiver's own handle. */
	assert_int_equal(PK_FRAME_NUMBER(r.ret[0]), PK_FRAME_NUMBER(f));
	assert_int_not_equal(r.ret[0], f);
	assert_memory_equal(fake_port_frame_bytes(fp, r.ret[0]), sent, length);
	assert_int_equal(owned_by(fp, p.bob), 1);
	kernel_stats(fp->k, &st);
	assert_int_equal(st.packets_sent, 1);
	assert_int_equal(st.packets_received, 1);

	/* The sender's old handle is dead; using it faults the sender, not the receiver. */
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_frame_free, f, 0, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->last_fault_proc, p.alice);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
}

static void test_kan_queue_is_first_in_first_out(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	for (uint16_t i = 0; i < 5; i++)
		assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, i, NULL), 0);
	for (uint16_t i = 0; i < 5; i++) {
		struct pk_kresult r;
		assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
		assert_int_equal(r.ret[1], 40 + i);
	}
}

static void test_kan_send_to_self_is_delivered(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, ALICE, 3, NULL), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_recv, p.alice_ep, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], 43);
}

static void test_kan_largest_packet_fills_the_frame(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, PK_FRAME_SIZE - 40, NULL), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], PK_FRAME_SIZE);
}

static void test_kan_send_refuses_what_is_not_ipv6(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	const uint8_t versions[] = {0x00, 0x40, 0x70, 0xf0};
	for (size_t i = 0; i < sizeof versions; i++) {
		pk_frame_t f = fake_port_frame(fp, p.alice);
		uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 8);
		fake_port_frame_bytes(fp, f)[0] = versions[i];
		expect_send(fp, p.alice, f, length, -PK_ENOTIPV6);
	}
}

static void test_kan_send_refuses_lengths_that_disagree(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	/* length given to send, payload length in the header */
	const struct {
		uint64_t length;
		uint16_t payload;
	} cases[] = {
		{41, 0},      {40, 1},	       {100, 61},
		{100, 59},    {0, 0},	       {39, 0},
		{4097, 4057}, {UINT64_MAX, 8}, {40 + 0xffffull, 0xffff},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pk_frame_t f = fake_port_frame(fp, p.alice);
		fake_port_write_kan_packet(fp, f, ALICE, BOB, cases[i].payload);
		expect_send(fp, p.alice, f, cases[i].length, -PK_ELENGTH);
	}
}

static void test_kan_send_refuses_a_source_not_the_senders(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	uint8_t dst[16], other[16], outside[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, unbound[16];
	fake_port_address(fp, BOB, dst);
	fake_port_address(fp, BOB, other); /* bob's own address, as alice's source */
	fake_port_address(fp, 0x777, unbound);
	const uint8_t *sources[] = {other, outside, unbound};
	for (size_t i = 0; i < 3; i++) {
		pk_frame_t f = fake_port_frame(fp, p.alice);
		uint32_t length = fake_port_write_packet(fp, f, sources[i], dst, 0);
		expect_send(fp, p.alice, f, length, -PK_ESOURCE);
	}
}

static void test_kan_router_may_send_with_any_source(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_proc_t router = fake_port_proc(fp, PK_RIGHT_ROUTER);
	uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, dst[16];
	fake_port_address(fp, BOB, dst);
	pk_frame_t f = fake_port_frame(fp, router);
	uint32_t length = fake_port_write_packet(fp, f, src, dst, 0);
	expect_send(fp, router, f, length, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_memory_equal(fake_port_frame_bytes(fp, r.ret[0]) + 8, src, 16);
}

static void test_kan_send_to_an_unbound_kan_address_is_unreachable(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t f = 0;
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, 0x999, 0, &f), -PK_EHOSTUNREACH);
	expect_send(fp, p.alice, f, 40, -PK_EHOSTUNREACH);
}

static void test_kan_outside_destinations_follow_the_default_route(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	uint8_t src[16], outside[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
	fake_port_address(fp, ALICE, src);

	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_packet(fp, f, src, outside, 12);
	expect_send(fp, p.alice, f, length, -PK_ENETUNREACH);

	pk_proc_t router = fake_port_proc(fp, PK_RIGHT_ROUTER);
	pk_endpoint_t uplink = fake_port_endpoint(fp, router, 1);
	assert_int_equal(fake_port_call(fp, router, PK_KC_route_set_default, uplink, 0, 0, NULL),
			 0);
	f = fake_port_frame(fp, p.alice);
	length = fake_port_write_packet(fp, f, src, outside, 12);
	expect_send(fp, p.alice, f, length, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, router, PK_KC_recv, uplink, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], length);

	/* The route dies with its endpoint. */
	assert_int_equal(fake_port_call(fp, router, PK_KC_endpoint_destroy, uplink, 0, 0, NULL), 0);
	f = fake_port_frame(fp, p.alice);
	length = fake_port_write_packet(fp, f, src, outside, 12);
	expect_send(fp, p.alice, f, length, -PK_ENETUNREACH);
}

/* What a port may ask to report a send: the endpoint, and so the process, the packet waits
 * at, through the default route too; nothing once it is taken or reclaimed. */
static void test_kan_frame_queued_at_names_the_receiving_endpoint(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_proc_t proc = 0;
	uint64_t iid = 0;
	pk_frame_t f = fake_port_frame(fp, p.alice);
	assert_int_equal(kernel_frame_queued_at(fp->k, PK_FRAME_NUMBER(f), &proc, &iid), 0);
	uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 10);
	expect_send(fp, p.alice, f, length, 0);
	assert_int_equal(kernel_frame_queued_at(fp->k, PK_FRAME_NUMBER(f), &proc, &iid), 1);
	assert_int_equal(proc, p.bob);
	assert_int_equal(iid, BOB);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	proc = 0;
	assert_int_equal(kernel_frame_queued_at(fp->k, PK_FRAME_NUMBER(f), &proc, &iid), 0);
	assert_int_equal(proc, 0);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);

	pk_proc_t router = fake_port_proc(fp, PK_RIGHT_ROUTER);
	pk_endpoint_t uplink = fake_port_endpoint(fp, router, 1);
	assert_int_equal(fake_port_call(fp, router, PK_KC_route_set_default, uplink, 0, 0, NULL),
			 0);
	uint8_t src[16], outside[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
	fake_port_address(fp, ALICE, src);
	f = fake_port_frame(fp, p.alice);
	length = fake_port_write_packet(fp, f, src, outside, 12);
	expect_send(fp, p.alice, f, length, 0);
	assert_int_equal(kernel_frame_queued_at(fp->k, PK_FRAME_NUMBER(f), &proc, &iid), 1);
	assert_int_equal(proc, router);
	assert_int_equal(iid, 1);

	/* Reclaimed with its endpoint, the frame is free, whatever state it last had. */
	assert_int_equal(fake_port_call(fp, router, PK_KC_endpoint_destroy, uplink, 0, 0, NULL), 0);
	assert_int_equal(kernel_frame_queued_at(fp->k, PK_FRAME_NUMBER(f), &proc, &iid), 0);
	assert_int_equal(kernel_frame_queued_at(fp->k, UINT32_MAX, &proc, &iid), 0);
}

static void test_kan_route_needs_the_router_right(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(
		fake_port_call(fp, p.alice, PK_KC_route_set_default, p.alice_ep, 0, 0, NULL),
		-PK_EPERM);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_route_clear_default, 0, 0, 0, NULL),
			 -PK_EPERM);
	assert_int_equal(fp->faults, 0);

	pk_proc_t router = fake_port_proc(fp, PK_RIGHT_ROUTER);
	pk_endpoint_t uplink = fake_port_endpoint(fp, router, 1);
	assert_int_equal(fake_port_call(fp, router, PK_KC_route_set_default, uplink, 0, 0, NULL),
			 0);
	assert_int_equal(fake_port_call(fp, router, PK_KC_route_clear_default, 0, 0, 0, NULL), 0);
	pk_frame_t f = 0;
	uint8_t src[16], outside[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x42};
	fake_port_address(fp, ALICE, src);
	f = fake_port_frame(fp, p.alice);
	expect_send(fp, p.alice, f, fake_port_write_packet(fp, f, src, outside, 0),
		    -PK_ENETUNREACH);

	/* A router cannot route through someone else's endpoint. */
	assert_int_equal(fake_port_call(fp, router, PK_KC_route_set_default, p.bob_ep, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, router);
}

/* test_group.c has multicast in full; here only that a group nobody joined is no route. */
static void test_kan_multicast_to_a_group_without_members_is_unreachable(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	uint8_t src[16], all_nodes[16] = {0xff, 0x02, [15] = 1};
	fake_port_address(fp, ALICE, src);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	expect_send(fp, p.alice, f, fake_port_write_packet(fp, f, src, all_nodes, 0),
		    -PK_EHOSTUNREACH);
}

static void test_kan_full_queue_refuses_and_the_sender_keeps_the_frame(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	for (uint32_t i = 0; i < fp->cfg.queue_limit; i++)
		assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, NULL), 0);
	pk_frame_t f = 0;
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, &f), -PK_ENOBUFS);
	assert_int_equal(owned_by(fp, p.alice), 1);

	/* Once the receiver takes one, the same frame goes through. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	expect_send(fp, p.alice, f, 40, 0);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.errors[PK_ENOBUFS], 1);
}

/* A router forwarding a packet it never mapped has the kernel write its hop limit: that
 * byte, and no other, changes on the way. */
static void test_kan_send_writes_the_hop_limit_asked_for(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 100);
	uint8_t expected[PK_FRAME_SIZE];
	memcpy(expected, fake_port_frame_bytes(fp, f), length);
	expected[offsetof(struct pk_ipv6_header, hop_limit)] = 63;
	assert_int_not_equal(fake_port_frame_bytes(fp, f)[7], 63);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 63, NULL), 0);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_memory_equal(fake_port_frame_bytes(fp, r.ret[0]), expected, length);
}

/* The same into a group: the members read the frame the kernel wrote. */
static void test_kan_send_writes_the_hop_limit_of_a_multicast_packet(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	uint8_t src[16], group[16] = {0xff, 0x02, [15] = 0x42};
	assert_int_equal(fake_port_join(fp, p.bob, p.bob_ep, group), 0);
	fake_port_address(fp, ALICE, src);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_packet(fp, f, src, group, 8);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 1, NULL), 0);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_int_equal(fake_port_frame_bytes(fp, r.ret[0])[7], 1);
}

/* A hop limit that is no byte is refused before anything else; a send refused for any
 * reason leaves the hop limit, like every other byte, as it was. */
static void test_kan_send_refused_leaves_the_hop_limit_unwritten(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 100);
	uint8_t before[PK_FRAME_SIZE];
	memcpy(before, fake_port_frame_bytes(fp, f), PK_FRAME_SIZE);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 256, NULL), -PK_EINVAL);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length + 1, 9, NULL),
			 -PK_ELENGTH);
	assert_memory_equal(fake_port_frame_bytes(fp, f), before, PK_FRAME_SIZE);

	pk_frame_t g = fake_port_frame(fp, p.alice);
	length = fake_port_write_kan_packet(fp, g, ALICE, 0x999, 100);
	memcpy(before, fake_port_frame_bytes(fp, g), PK_FRAME_SIZE);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, g, length, 9, NULL),
			 -PK_EHOSTUNREACH);
	assert_memory_equal(fake_port_frame_bytes(fp, g), before, PK_FRAME_SIZE);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(owned_by(fp, p.alice), 2);
}

static void test_kan_double_send_faults_the_sender(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t f = fake_port_frame(fp, p.alice);
	uint32_t length = fake_port_write_kan_packet(fp, f, ALICE, BOB, 0);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, f, length, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_kcall, PK_KC_send);

	/* The first send stands: bob still gets exactly one packet. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r),
			 -PK_EWOULDBLOCK);
}

static void test_kan_send_of_anothers_frame_faults_the_sender(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	pk_frame_t bobs = fake_port_frame(fp, p.bob);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_send, bobs, 40, 0, NULL), -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, p.alice);
	assert_int_equal(owned_by(fp, p.bob), 1);
}

static void test_kan_recv_on_empty_queue_would_block_and_arms_one_wake(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);

	/* Nobody waits yet: a packet arriving wakes no one. */
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, NULL), 0);
	assert_int_equal(fp->wakes, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);

	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r),
			 -PK_EWOULDBLOCK);
	assert_int_equal(r.ret[0], 0);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, NULL), 0);
	assert_int_equal(fp->wakes, 1);
	assert_int_equal(fp->last_wake_proc, p.bob);
	assert_int_equal(fp->last_wake_endpoint, p.bob_ep);

	/* One wake per wait: the next packet finds the receiver already woken. */
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, NULL), 0);
	assert_int_equal(fp->wakes, 1);
}

static void test_kan_recv_at_quota_leaves_the_packet_queued(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 5, NULL), 0);
	pk_frame_t last = 0;
	for (uint32_t i = 0; i < fp->cfg.default_quota; i++)
		last = fake_port_frame(fp, p.bob);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), -PK_EQUOTA);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_frame_free, last, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], 45);
}

static void test_kan_recv_undone_when_the_port_cannot_map(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 5, NULL), 0);
	fp->fail_next_grant = -PK_ENOMEM;
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), -PK_ENOMEM);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_queued, 1);
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
}

static void test_kan_recv_on_anothers_or_a_stale_endpoint_faults(void **state)
{
	struct fake_port *fp = *state;
	struct pair p = make_pair(fp);
	assert_int_equal(fake_port_send(fp, p.alice, ALICE, BOB, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p.alice, PK_KC_recv, p.bob_ep, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, p.alice);

	pk_proc_t carol = fake_port_proc(fp, 0);
	pk_endpoint_t gone = fake_port_endpoint(fp, carol, 0);
	assert_int_equal(fake_port_call(fp, carol, PK_KC_endpoint_destroy, gone, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, carol, PK_KC_recv, gone, 0, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->last_fault_proc, carol);
	assert_int_equal(fp->faults, 2);

	/* Bob's packet was never touched. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p.bob, PK_KC_recv, p.bob_ep, 0, 0, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_kan_send_moves_the_frame_to_the_receiver),
		T(test_kan_queue_is_first_in_first_out),
		T(test_kan_send_to_self_is_delivered),
		T(test_kan_largest_packet_fills_the_frame),
		T(test_kan_send_refuses_what_is_not_ipv6),
		T(test_kan_send_refuses_lengths_that_disagree),
		T(test_kan_send_refuses_a_source_not_the_senders),
		T(test_kan_router_may_send_with_any_source),
		T(test_kan_send_to_an_unbound_kan_address_is_unreachable),
		T(test_kan_outside_destinations_follow_the_default_route),
		T(test_kan_frame_queued_at_names_the_receiving_endpoint),
		T(test_kan_route_needs_the_router_right),
		T(test_kan_multicast_to_a_group_without_members_is_unreachable),
		T(test_kan_full_queue_refuses_and_the_sender_keeps_the_frame),
		T(test_kan_send_writes_the_hop_limit_asked_for),
		T(test_kan_send_writes_the_hop_limit_of_a_multicast_packet),
		T(test_kan_send_refused_leaves_the_hop_limit_unwritten),
		T(test_kan_double_send_faults_the_sender),
		T(test_kan_send_of_anothers_frame_faults_the_sender),
		T(test_kan_recv_on_empty_queue_would_block_and_arms_one_wake),
		T(test_kan_recv_at_quota_leaves_the_packet_queued),
		T(test_kan_recv_undone_when_the_port_cannot_map),
		T(test_kan_recv_on_anothers_or_a_stale_endpoint_faults),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
