/* Thousands of mutated packets through both sides of the router, with polls and kernel
 * refusals between them and time moving on, from a fixed seed: no crash, no write outside
 * the frame, every output a well-formed packet that fits where it goes, and every packet
 * accounted for. A twin router meets every packet as the driver does, by the transit fast
 * path first (router_transit_from_*, on a copy of the header alone) and the full entry
 * point only when that declines: its every decision, packet and counter must be the
 * same. PACKOS_FUZZ_SEED and PACKOS_FUZZ_STEPS in the environment replay or lengthen a
 * run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router_harness.h"

enum { GUARD = 256, SEEDS = 16, ACTIONS = ROUTER_TO_WIRE + 1 };

struct guarded_frame {
	uint8_t before[GUARD];
	uint8_t bytes[PK_FRAME_SIZE];
	uint8_t after[GUARD];
};

struct seed {
	uint8_t bytes[PK_FRAME_SIZE];
	uint32_t length;
	bool from_kan;
};

struct world {
	struct harness *h;
	struct harness *twin; /* the same packets, by the transit fast path where it decides */
	uint64_t transit_decided;
	struct guarded_frame frame;
	struct seed seeds[SEEDS];
	uint64_t inputs, outcomes[ACTIONS];
};

static void save(struct world *w, unsigned index, const struct builder *b, bool from_kan)
{
	memcpy(w->seeds[index].bytes, b->p, b->length);
	w->seeds[index].length = b->length;
	w->seeds[index].from_kan = from_kan;
}

/* Valid packets of every kind the router meets, for the mutations to start from. */
static void make_seeds(struct world *w)
{
	static uint8_t p[PACKET_MAX];
	struct builder b;
	uint8_t group[16];
	unsigned i = 0;

	build_start(&b, p, host, address_peer);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 64);
	save(w, i++, &b, false);
	ndp_solicited_node(router_link, group);
	build_start(&b, p, host, group);
	build_solicit(&b, router_link, mac_host);
	save(w, i++, &b, false);
	build_start(&b, p, host, router_link);
	build_advert(&b, host, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, mac_host);
	save(w, i++, &b, false);
	build_start(&b, p, host_link_local, address_all_nodes);
	build_router_solicit(&b, mac_host);
	save(w, i++, &b, false);
	build_start(&b, p, host_link_local, router_link_local);
	build_ext(&b, PK_IPPROTO_DSTOPTS, 16);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 32);
	save(w, i++, &b, false);
	build_start(&b, p, host, router_link);
	build_fragment(&b, 0, 1, 7);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 1000);
	save(w, i++, &b, false);
	build_start(&b, p, host, router_kan);
	build_udp(&b, 40000, 7, "12345678", 8);
	save(w, i++, &b, false);
	build_start(&b, p, host, off_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 16);
	save(w, i++, &b, false);

	build_start(&b, p, address_peer, host);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 64);
	save(w, i++, &b, true);
	build_start(&b, p, address_peer, off_link);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 64);
	save(w, i++, &b, true);
	build_start(&b, p, address_peer, router_kan);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 200);
	save(w, i++, &b, true);
	build_start(&b, p, address_peer, host);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 1600);
	save(w, i++, &b, true);
	build_start(&b, p, address_peer, router_link);
	build_fragment(&b, 1232, 0, 9);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 1, 100);
	save(w, i++, &b, true);
	uint8_t destination[16];
	memcpy(destination, host, 16);
	destination[15] = 0x77;
	build_start(&b, p, address_peer, destination);
	build_upper(&b, PK_IPPROTO_TCP, "0123456789abcdef", 16);
	save(w, i++, &b, true);
	/* A neighbour that comes and goes: packets for it, and its advertisements. */
	destination[15] = 3;
	build_start(&b, p, address_peer, destination);
	build_icmp(&b, PK_ICMPV6_ECHO_REPLY, 0, 1, 300);
	save(w, i++, &b, true);
	build_start(&b, p, destination, router_link);
	build_advert(&b, destination, NDP_ADVERT_SOLICITED | NDP_ADVERT_OVERRIDE, mac_host);
	save(w, i++, &b, false);
	assert_int_equal(i, SEEDS);
}

static int setup(void **state)
{
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	memset(w, 0, sizeof *w);
	memset(w->frame.before, TEST_GUARD_BYTE, GUARD);
	memset(w->frame.after, TEST_GUARD_BYTE, GUARD);
	w->h = harness_new(NULL);
	w->twin = harness_new(NULL);
	make_seeds(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	harness_free(w->h);
	harness_free(w->twin);
	free(w);
	return 0;
}

/* A copy of a seed, mutated a little or a lot; returns its length. */
static uint32_t mutate(struct world *w, const struct seed *seed)
{
	uint8_t *p = w->frame.bytes;
	uint32_t length = seed->length;
	memcpy(p, seed->bytes, length);
	unsigned mutations = test_random_below(4);
	for (unsigned m = 0; m < mutations && length > 0; m++) {
		switch (test_random_below(8)) {
		case 0: /* a random byte anywhere */
			p[test_random_below(length)] = (uint8_t)test_random();
			break;
		case 1: /* a byte of the headers, where the decisions are */
			p[test_random_below(length < 72 ? length : 72)] = (uint8_t)test_random();
			break;
		case 2:
			p[7] = (uint8_t)test_random_below(3); /* hop limit 0, 1, 2 */
			break;
		case 3:
			length = test_random_below(length + 1);
			break;
		case 4: /* garbage after the packet */
			length += test_random_below(PK_FRAME_SIZE - length + 1);
			break;
		case 5: /* a KAN address as source or destination */
			memcpy(p + (test_random_below(2) ? 8 : 24),
			       test_random_below(2) ? address_other : router_kan, 16);
			break;
		case 6: /* the ICMPv6 type, checksum fixed so it gets past the stack */
			if (length > 48 && p[6] == PK_IPPROTO_ICMPV6) {
				p[40] = (uint8_t)(128 + test_random_below(12));
				fix_checksum(p, 40, length - 40);
			}
			break;
		default:
			p[4] = (uint8_t)test_random_below(256);
			p[5] = (uint8_t)test_random_below(256);
			break;
		}
	}
	return length;
}

static void assert_guards(const struct world *w)
{
	for (unsigned i = 0; i < GUARD; i++) {
		assert_int_equal(w->frame.before[i], TEST_GUARD_BYTE);
		assert_int_equal(w->frame.after[i], TEST_GUARD_BYTE);
	}
}

static uint64_t total_drops(const struct router *r)
{
	uint64_t total = 0;
	for (int reason = 0; reason < ROUTER_DROP_COUNT; reason++)
		total += r->counters.drops[reason];
	return total;
}

/* What the router said is sound: a drop counted under a real reason, a packet to send
 * that is IPv6 of the length stated, fits where it goes, and checks out if ICMPv6. */
static void check(const struct world *w, enum router_action action, const uint64_t *drops_before)
{
	const struct router_decision *d = &w->h->d;
	const struct router *r = &w->h->router;
	assert_int_equal(action, d->action);
	assert_true(action >= ROUTER_IDLE && action <= ROUTER_TO_WIRE);
	if (action == ROUTER_DROP) {
		assert_true(d->drop > ROUTER_OK && d->drop < ROUTER_DROP_COUNT);
		assert_true(r->counters.drops[d->drop] > drops_before[d->drop]);
	}
	if (action != ROUTER_TO_KAN && action != ROUTER_TO_WIRE)
		return;
	const uint8_t *p = w->frame.bytes;
	uint32_t length;
	assert_int_equal(pk_ipv6_parse_header(p, d->length, &length), PK_NET_OK);
	assert_int_equal(length, d->length);
	if (action == ROUTER_TO_WIRE) {
		assert_true(d->length <= r->config.link_mtu);
		assert_int_equal(d->ethertype, ETHERNET_TYPE_IPV6);
		assert_false(ethernet_is_multicast(d->mac) &&
			     !(d->mac[0] == 0x33 && d->mac[1] == 0x33));
	}
	/* What the router wrote itself comes from one of its addresses. */
	if (p[6] == PK_IPPROTO_ICMPV6 && d->length >= 48 &&
	    (p[40] < 128 || ndp_is_ndp(p[40]) || p[40] == PK_ICMPV6_ECHO_REPLY) &&
	    (pk_iface_has_address(&r->wire_iface, p + 8) ||
	     pk_iface_has_address(&r->kan_iface, p + 8)))
		assert_true(pk_icmpv6_checksum_ok(p, 40, d->length - 40));
}

/* The twin takes what the router just took, as the driver would, and must decide alike. */
static void twin_follows(struct world *w, enum router_action action, uint32_t length, int side,
			 const struct ethernet_header *ethernet, uint64_t now)
{
	struct harness *t = w->twin;
	uint8_t *frame = t->frame;
	enum router_action twin = ROUTER_IDLE;
	if (side != 0 && length >= PK_IPV6_HEADER_SIZE) {
		uint8_t header[PK_IPV6_HEADER_SIZE];
		memcpy(header, frame, sizeof header);
		twin = side > 0 ? router_transit_from_kan(&t->router, header, length, now, &t->d)
				: router_transit_from_wire(&t->router, header, length, ethernet,
							   &t->d);
		if (twin != ROUTER_IDLE) {
			assert_true(twin == ROUTER_TO_KAN || twin == ROUTER_TO_WIRE);
			frame[7] = t->d.hop_limit;
			w->transit_decided++;
		}
	}
	if (twin == ROUTER_IDLE) {
		if (side > 0)
			twin = router_from_kan(&t->router, frame, length, now, &t->d);
		else if (side < 0)
			twin = router_from_wire(&t->router, frame, length, ethernet, now, &t->d);
		else
			twin = router_poll(&t->router, frame, now, &t->d);
	}
	const struct router_decision *d = &w->h->d;
	assert_int_equal(twin, action);
	assert_int_equal(t->d.length, d->length);
	assert_int_equal(t->d.drop, d->drop);
	if (action == ROUTER_TO_KAN || action == ROUTER_TO_WIRE) {
		assert_memory_equal(frame, w->frame.bytes, d->length);
		assert_int_equal(t->d.hop_limit, d->hop_limit);
	}
	if (action == ROUTER_TO_WIRE) {
		assert_memory_equal(t->d.mac, d->mac, sizeof d->mac);
		assert_int_equal(t->d.ethertype, d->ethertype);
	}
}

static void step(struct world *w, uint64_t now)
{
	struct harness *h = w->h;
	struct router *r = &h->router;
	static uint64_t before[ROUTER_DROP_COUNT];
	memcpy(before, r->counters.drops, sizeof before);
	uint8_t *frame = w->frame.bytes;
	enum router_action action;
	uint32_t length = 0;
	int side = 0; /* the twin's: 1 from the KAN, -1 from the wire, 0 a poll */
	struct ethernet_header ethernet = {.type = ETHERNET_TYPE_IPV6};
	uint32_t choice = test_random_below(100);
	if (choice < 8) {
		memcpy(w->twin->frame, frame, PK_FRAME_SIZE);
		action = router_poll(r, frame, now, &h->d);
	} else if (choice < 12) {
		const struct seed *seed = &w->seeds[test_random_below(SEEDS)];
		length = mutate(w, seed);
		static const int errors[] = {-PK_EHOSTUNREACH, -PK_ENOBUFS, -PK_ENOMEM, -PK_EINVAL};
		int error = errors[test_random_below(4)];
		w->inputs++;
		memcpy(w->twin->frame, frame, PK_FRAME_SIZE);
		action = router_kan_refused(r, frame, length, error, now, &h->d);
		assert_int_equal(router_kan_refused(&w->twin->router, w->twin->frame, length, error,
						    now, &w->twin->d),
				 action);
		side = 2; /* followed already */
	} else {
		const struct seed *seed = &w->seeds[test_random_below(SEEDS)];
		length = mutate(w, seed);
		w->inputs++;
		memcpy(w->twin->frame, frame, PK_FRAME_SIZE);
		if (seed->from_kan) {
			side = 1;
			action = router_from_kan(r, frame, length, now, &h->d);
		} else {
			side = -1;
			memcpy(ethernet.destination,
			       test_random_below(4) ? mac_router : mac_all_nodes, 6);
			memcpy(ethernet.source, mac_host, 6);
			if (test_random_below(50) == 0)
				ethernet.type = (uint16_t)test_random();
			if (test_random_below(50) == 0)
				ethernet.source[0] = 0x01;
			action = router_from_wire(r, frame, length, &ethernet, now, &h->d);
		}
		w->outcomes[action]++;
	}
	if (side != 2)
		twin_follows(w, action, length, side, &ethernet, now);
	check(w, action, before);
	assert_guards(w);
}

static void test_router_fuzz_mutated_packets_both_ways(void **state)
{
	struct world *w = *state;
	uint64_t seed = test_env_or("PACKOS_FUZZ_SEED", 0x726f75746572ull);
	uint64_t steps = test_env_or("PACKOS_FUZZ_STEPS", 100000);
	test_random_seed(seed);
	uint64_t now = 0;
	for (uint64_t i = 0; i < steps; i++) {
		/* Mostly bursts at one instant, now and then seconds pass, and seldom enough
		 * for neighbours to be forgotten and reassemblies to time out. */
		if (test_random_below(20) == 0)
			now += test_random_below(4) * (SECOND / 2) + test_random_below(1000);
		if (test_random_below(2000) == 0)
			now += 70 * SECOND;
		step(w, now);
	}
	/* Drain all timer work, from deadline to deadline: every waiting packet leaves, one
	 * way or another, and then nothing is scheduled. */
	unsigned polls = 0;
	uint64_t due;
	while ((due = router_next_deadline(&w->h->router)) != UINT64_MAX) {
		if (due > now)
			now = due;
		static uint64_t before[ROUTER_DROP_COUNT];
		memcpy(before, w->h->router.counters.drops, sizeof before);
		while (router_poll(&w->h->router, w->frame.bytes, now, &w->h->d) != ROUTER_IDLE) {
			twin_follows(w, w->h->d.action, 0, 0, NULL, now);
			check(w, w->h->d.action, before);
			memcpy(before, w->h->router.counters.drops, sizeof before);
		}
		assert_true(++polls < 100000);
	}
	assert_guards(w);

	const struct router_counters *c = &w->h->router.counters;
	/* Every input was counted, got exactly one decision, and the drops were counted. */
	assert_int_equal(w->inputs, c->from_wire + c->from_kan + c->kan_refusals);
	uint64_t decided = 0;
	for (unsigned a = 0; a < ACTIONS; a++)
		decided += w->outcomes[a];
	assert_int_equal(decided + (c->kan_refusals), w->inputs);
	assert_int_equal(w->outcomes[ROUTER_IDLE], 0);
	assert_true(total_drops(&w->h->router) >= w->outcomes[ROUTER_DROP]);
	/* Every packet held was sent, replaced, or given up. */
	assert_int_equal(neighbour_pending(&w->h->router.neighbours), 0);
	assert_int_equal(w->h->router.neighbours.free_slots, NEIGHBOUR_HELD_SLOTS);
	assert_int_equal(c->held, c->released + c->drops[ROUTER_DROP_PENDING_REPLACED] +
					  c->drops[ROUTER_DROP_RESOLUTION_FAILED]);
	print_message("router fuzz: seed %#llx, %llu steps, %llu inputs: %llu to the KAN, %llu "
		      "to the wire, %llu held (%llu released), %llu consumed, %llu dropped\n",
		      (unsigned long long)seed, (unsigned long long)steps,
		      (unsigned long long)w->inputs, (unsigned long long)w->outcomes[ROUTER_TO_KAN],
		      (unsigned long long)w->outcomes[ROUTER_TO_WIRE],
		      (unsigned long long)w->outcomes[ROUTER_HELD], (unsigned long long)c->released,
		      (unsigned long long)w->outcomes[ROUTER_CONSUMED],
		      (unsigned long long)w->outcomes[ROUTER_DROP]);
	/* The twin went the fast way for much of the transit traffic and ended where the
	 * router did. */
	assert_memory_equal(&w->twin->router.counters, c, sizeof *c);
	assert_true(w->transit_decided > 0);
	assert_true(w->transit_decided < w->outcomes[ROUTER_TO_KAN] + w->outcomes[ROUTER_TO_WIRE]);
	print_message("router fuzz: the transit fast path decided %llu\n",
		      (unsigned long long)w->transit_decided);
	/* The run reached the interesting places. */
	assert_true(w->outcomes[ROUTER_TO_KAN] > 0);
	assert_true(w->outcomes[ROUTER_TO_WIRE] > 0);
	assert_true(w->outcomes[ROUTER_HELD] > 0);
	assert_true(w->outcomes[ROUTER_CONSUMED] > 0);
	assert_true(c->released > 0);
	assert_true(c->drops[ROUTER_DROP_RESOLUTION_FAILED] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_router_fuzz_mutated_packets_both_ways, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
