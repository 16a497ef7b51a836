/* The neighbour cache's state machine (RFC 4861 §7.3) driven directly: resolution,
 * give-up, learning, advertisements with and without override, probing, and eviction that
 * never loses a waiting packet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router_harness.h"

static const uint8_t mac_other[6] = {0x02, 0, 0, 0, 0, 0x99};
static uint8_t frame[PK_FRAME_SIZE];

struct world {
	struct neighbour_cache cache;
};

static int setup(void **state)
{
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	neighbour_cache_init(&w->cache);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct neighbour *find(struct world *w, const uint8_t *address)
{
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		struct neighbour *n = &w->cache.entries[i];
		if (n->state != NEIGHBOUR_FREE && memcmp(n->address, address, 16) == 0)
			return n;
	}
	return NULL;
}

static void address_number(uint8_t address[16], unsigned i)
{
	memcpy(address, host, 16);
	address[14] = (uint8_t)(i >> 8);
	address[15] = (uint8_t)i;
}

static enum neighbour_hold_result hold(struct world *w, const uint8_t *address, uint8_t fill,
				       uint32_t length, uint64_t now)
{
	uint8_t mac[6], packet[64];
	struct neighbour *entry;
	memset(packet, fill, sizeof packet);
	assert_int_equal(neighbour_resolve(&w->cache, address, now, mac, &entry),
			 NEIGHBOUR_WAITING);
	return neighbour_hold(&w->cache, entry, packet, length);
}

static enum neighbour_work poll_cache(struct world *w, uint64_t now, struct neighbour_due *due)
{
	return neighbour_poll(&w->cache, now, frame, due);
}

static void test_neighbour_solicits_three_times_then_gives_up(void **state)
{
	struct world *w = *state;
	struct neighbour_due due;
	hold(w, host, 0xab, 60, 0);
	hold(w, host, 0xcd, 61, 0);
	assert_int_equal(find(w, host)->state, NEIGHBOUR_INCOMPLETE);
	assert_int_equal(neighbour_pending(&w->cache), 2);
	for (unsigned i = 0; i < NEIGHBOUR_MAX_MULTICAST_SOLICIT; i++) {
		assert_int_equal(neighbour_next_deadline(&w->cache), i * SECOND);
		assert_int_equal(poll_cache(w, i * SECOND, &due), NEIGHBOUR_SOLICIT_MULTICAST);
		assert_memory_equal(due.address, host, 16);
		assert_int_equal(poll_cache(w, i * SECOND, &due), NEIGHBOUR_IDLE);
	}
	assert_int_equal(poll_cache(w, 3 * SECOND - 1, &due), NEIGHBOUR_IDLE);
	memset(frame, 0, sizeof frame);
	/* Every packet that waited comes back, oldest first, then the entry goes. */
	assert_int_equal(poll_cache(w, 3 * SECOND, &due), NEIGHBOUR_GIVE_UP);
	assert_int_equal(due.length, 60);
	assert_int_equal(frame[0], 0xab);
	assert_int_equal(frame[59], 0xab);
	assert_int_equal(poll_cache(w, 3 * SECOND, &due), NEIGHBOUR_GIVE_UP);
	assert_int_equal(due.length, 61);
	assert_int_equal(frame[60], 0xcd);
	assert_int_equal(poll_cache(w, 3 * SECOND, &due), NEIGHBOUR_GIVE_UP);
	assert_int_equal(due.length, 0);
	assert_int_equal(poll_cache(w, 3 * SECOND, &due), NEIGHBOUR_IDLE);
	assert_null(find(w, host));
	assert_int_equal(w->cache.free_slots, NEIGHBOUR_HELD_SLOTS);
	assert_int_equal(neighbour_pending(&w->cache), 0);
	assert_int_equal(neighbour_next_deadline(&w->cache), UINT64_MAX);
}

static void test_neighbour_releases_what_waited_once_resolved(void **state)
{
	struct world *w = *state;
	struct neighbour_due due;
	hold(w, host, 1, 10, 0);
	hold(w, host_link_local, 2, 20, 0);
	/* An advertisement without the MAC teaches nothing. */
	assert_true(neighbour_advertised(&w->cache, host, NULL, true, true, 0));
	assert_int_equal(find(w, host)->state, NEIGHBOUR_INCOMPLETE);
	assert_true(neighbour_advertised(&w->cache, host, mac_host, true, false, 0));
	assert_int_equal(find(w, host)->state, NEIGHBOUR_REACHABLE);
	/* A solicitation with the MAC resolves too, as stale. */
	neighbour_learn(&w->cache, host_link_local, mac_other, 0);
	assert_int_equal(neighbour_next_deadline(&w->cache), 0);
	assert_int_equal(poll_cache(w, 0, &due), NEIGHBOUR_RELEASE);
	assert_int_equal(due.length, 10);
	assert_int_equal(frame[0], 1);
	assert_memory_equal(due.mac, mac_host, 6);
	assert_int_equal(poll_cache(w, 0, &due), NEIGHBOUR_RELEASE);
	assert_int_equal(due.length, 20);
	assert_memory_equal(due.mac, mac_other, 6);
	/* Sending to a stale entry starts the delay before a probe. */
	assert_int_equal(find(w, host_link_local)->state, NEIGHBOUR_DELAY);
	assert_int_equal(neighbour_pending(&w->cache), 0);
}

static void test_neighbour_queue_keeps_the_newest_and_releases_in_order(void **state)
{
	struct world *w = *state;
	struct neighbour_due due;
	for (unsigned i = 0; i < NEIGHBOUR_QUEUE_DEPTH; i++)
		assert_int_equal(hold(w, host, (uint8_t)(1 + i), 10 + i, 0), NEIGHBOUR_HELD);
	/* A full queue makes room by losing its oldest packet (RFC 4861 §7.2.2). */
	assert_int_equal(hold(w, host, 9, 30, 0), NEIGHBOUR_HELD_OLDEST_LOST);
	assert_int_equal(neighbour_pending(&w->cache), NEIGHBOUR_QUEUE_DEPTH);
	assert_true(neighbour_advertised(&w->cache, host, mac_host, true, false, 0));
	for (unsigned i = 1; i < NEIGHBOUR_QUEUE_DEPTH; i++) {
		assert_int_equal(poll_cache(w, 0, &due), NEIGHBOUR_RELEASE);
		assert_int_equal(due.length, 10 + i);
		assert_int_equal(frame[0], 1 + i);
	}
	assert_int_equal(poll_cache(w, 0, &due), NEIGHBOUR_RELEASE);
	assert_int_equal(due.length, 30);
	assert_int_equal(frame[0], 9);
	assert_int_equal(poll_cache(w, 0, &due), NEIGHBOUR_IDLE);
	assert_int_equal(neighbour_pending(&w->cache), 0);
	assert_int_equal(w->cache.free_slots, NEIGHBOUR_HELD_SLOTS);
}

static void test_neighbour_pool_runs_dry_without_losing_track(void **state)
{
	struct world *w = *state;
	struct neighbour_due due;
	uint8_t address[16];
	unsigned filled = NEIGHBOUR_HELD_SLOTS / NEIGHBOUR_QUEUE_DEPTH;
	for (unsigned i = 0; i < filled; i++) {
		address_number(address, 10 + i);
		for (unsigned j = 0; j < NEIGHBOUR_QUEUE_DEPTH; j++)
			assert_int_equal(hold(w, address, 1, 8, 0), NEIGHBOUR_HELD);
	}
	assert_int_equal(w->cache.free_slots, 0);
	/* With nothing of its own to give up, a new neighbour cannot wait. */
	address_number(address, 100);
	assert_int_equal(hold(w, address, 2, 8, 0), NEIGHBOUR_NO_ROOM);
	/* One that waits already gives up its oldest. */
	address_number(address, 10);
	assert_int_equal(hold(w, address, 3, 8, 0), NEIGHBOUR_HELD_OLDEST_LOST);
	assert_int_equal(neighbour_pending(&w->cache), NEIGHBOUR_HELD_SLOTS);
	/* Nobody answers: every packet comes back, and every slot is free again. */
	unsigned given_up = 0;
	for (uint64_t t = 0; t <= 3 * SECOND; t += SECOND) {
		enum neighbour_work work;
		while ((work = poll_cache(w, t, &due)) != NEIGHBOUR_IDLE)
			given_up += work == NEIGHBOUR_GIVE_UP && due.length != 0;
	}
	assert_int_equal(given_up, NEIGHBOUR_HELD_SLOTS);
	assert_int_equal(neighbour_pending(&w->cache), 0);
	assert_int_equal(w->cache.free_slots, NEIGHBOUR_HELD_SLOTS);
}

static void test_neighbour_advertisements_follow_the_override_rules(void **state)
{
	struct world *w = *state;
	uint8_t mac[6];
	struct neighbour *entry;
	assert_false(neighbour_advertised(&w->cache, host, mac_host, true, true, 0));
	neighbour_learn(&w->cache, host, mac_host, 0);
	struct neighbour *n = find(w, host);
	assert_int_equal(n->state, NEIGHBOUR_STALE);
	assert_true(neighbour_advertised(&w->cache, host, mac_host, true, false, 0));
	assert_int_equal(n->state, NEIGHBOUR_REACHABLE);
	/* Another MAC without override: doubted, not taken. */
	assert_true(neighbour_advertised(&w->cache, host, mac_other, false, false, 0));
	assert_int_equal(n->state, NEIGHBOUR_STALE);
	assert_memory_equal(n->mac, mac_host, 6);
	assert_true(neighbour_advertised(&w->cache, host, mac_other, true, false, 0));
	assert_int_equal(n->state, NEIGHBOUR_STALE);
	/* With override: taken, stale until confirmed. */
	assert_true(neighbour_advertised(&w->cache, host, mac_other, false, true, 0));
	assert_int_equal(n->state, NEIGHBOUR_STALE);
	assert_memory_equal(n->mac, mac_other, 6);
	assert_int_equal(neighbour_resolve(&w->cache, host, 0, mac, &entry), NEIGHBOUR_RESOLVED);
	assert_memory_equal(mac, mac_other, 6);
	/* A solicitation with a new MAC replaces it as well. */
	neighbour_learn(&w->cache, host, mac_host, 0);
	assert_int_equal(n->state, NEIGHBOUR_STALE);
	assert_memory_equal(n->mac, mac_host, 6);
}

static void test_neighbour_probes_then_forgets(void **state)
{
	struct world *w = *state;
	uint8_t mac[6];
	struct neighbour *entry;
	struct neighbour_due due;
	neighbour_learn(&w->cache, host, mac_host, 0);
	assert_int_equal(poll_cache(w, 1000 * SECOND, &due), NEIGHBOUR_IDLE);
	assert_int_equal(neighbour_resolve(&w->cache, host, 10 * SECOND, mac, &entry),
			 NEIGHBOUR_RESOLVED);
	assert_int_equal(entry->state, NEIGHBOUR_DELAY);
	assert_int_equal(neighbour_next_deadline(&w->cache), 15 * SECOND);
	for (unsigned i = 0; i < NEIGHBOUR_MAX_UNICAST_SOLICIT; i++) {
		assert_int_equal(poll_cache(w, (15 + i) * SECOND, &due), NEIGHBOUR_SOLICIT_UNICAST);
		assert_memory_equal(due.mac, mac_host, 6);
		assert_int_equal(entry->state, NEIGHBOUR_PROBE);
	}
	assert_int_equal(poll_cache(w, 18 * SECOND, &due), NEIGHBOUR_IDLE);
	assert_null(find(w, host));
}

static void test_neighbour_reachable_turns_stale(void **state)
{
	struct world *w = *state;
	struct neighbour_due due;
	hold(w, host, 1, 10, 0);
	assert_true(neighbour_advertised(&w->cache, host, mac_host, true, true, SECOND));
	assert_int_equal(poll_cache(w, SECOND, &due), NEIGHBOUR_RELEASE);
	assert_int_equal(neighbour_next_deadline(&w->cache), 31 * SECOND);
	assert_int_equal(poll_cache(w, 31 * SECOND, &due), NEIGHBOUR_IDLE);
	assert_int_equal(find(w, host)->state, NEIGHBOUR_STALE);
	assert_int_equal(neighbour_next_deadline(&w->cache), UINT64_MAX);
}

static void test_neighbour_evicts_only_idle_entries_least_recent_first(void **state)
{
	struct world *w = *state;
	uint8_t address[16], mac[6];
	struct neighbour *entry;
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		address_number(address, 100 + i);
		neighbour_learn(&w->cache, address, mac_host, i);
	}
	/* Used lately: not the one to go. */
	address_number(address, 100);
	neighbour_resolve(&w->cache, address, 1000, mac, &entry);
	/* A new neighbour learned takes the least recently used stale entry (101). */
	address_number(address, 200);
	neighbour_learn(&w->cache, address, mac_other, 2000);
	assert_non_null(find(w, address));
	address_number(address, 101);
	assert_null(find(w, address));
	address_number(address, 100);
	assert_non_null(find(w, address));

	/* Resolution may evict resolved entries too, but never one with a packet. */
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		address_number(address, 300 + i);
		hold(w, address, 1, 8, 3000 + i);
	}
	assert_int_equal(neighbour_pending(&w->cache), NEIGHBOUR_CACHE_SIZE);
	address_number(address, 400);
	assert_int_equal(neighbour_resolve(&w->cache, address, 5000, mac, &entry), NEIGHBOUR_FULL);
	neighbour_learn(&w->cache, address, mac_host, 5000);
	assert_null(find(w, address));
}

static void test_neighbour_learning_never_evicts_busier_entries(void **state)
{
	struct world *w = *state;
	uint8_t address[16];
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		address_number(address, i);
		neighbour_learn(&w->cache, address, mac_host, 0);
		assert_true(neighbour_advertised(&w->cache, address, mac_host, true, false, 0));
	}
	address_number(address, 999);
	neighbour_learn(&w->cache, address, mac_host, 1);
	assert_null(find(w, address));
}

static void test_neighbour_state_names(void **state)
{
	(void)state;
	assert_string_equal(neighbour_state_name(NEIGHBOUR_INCOMPLETE), "INCOMPLETE");
	assert_string_equal(neighbour_state_name(NEIGHBOUR_PROBE), "PROBE");
	assert_string_equal(neighbour_state_name((enum neighbour_state)99), "unknown");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_neighbour_solicits_three_times_then_gives_up),
		T(test_neighbour_releases_what_waited_once_resolved),
		T(test_neighbour_queue_keeps_the_newest_and_releases_in_order),
		T(test_neighbour_pool_runs_dry_without_losing_track),
		T(test_neighbour_advertisements_follow_the_override_rules),
		T(test_neighbour_probes_then_forgets),
		T(test_neighbour_reachable_turns_stale),
		T(test_neighbour_evicts_only_idle_entries_least_recent_first),
		T(test_neighbour_learning_never_evicts_busier_entries),
		T(test_neighbour_state_names),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
