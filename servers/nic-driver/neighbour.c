/* The neighbour cache of neighbour.h: a table searched linearly (32 entries), each entry
 * with one deadline that means what its state says, so polling is one pass.
 *
 * An entry that holds packets (resolving, or resolved and not yet released) is never
 * evicted: a packet leaves only by neighbour_poll, released or given up, or pushed out of
 * a full queue by a newer one. Every slot is on the free stack or in exactly one queue. */
#include <string.h>

#include "neighbour.h"

#define NEVER UINT64_MAX

void neighbour_cache_init(struct neighbour_cache *cache)
{
	memset(cache->entries, 0, sizeof cache->entries);
	for (unsigned i = 0; i < NEIGHBOUR_HELD_SLOTS; i++)
		cache->free_slot[i] = (uint8_t)i;
	cache->free_slots = NEIGHBOUR_HELD_SLOTS;
}

static struct neighbour *find(struct neighbour_cache *cache,
			      const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		struct neighbour *n = &cache->entries[i];
		if (n->state != NEIGHBOUR_FREE &&
		    memcmp(n->address, address, PK_IPV6_ADDR_SIZE) == 0)
			return n;
	}
	return NULL;
}

/* A free entry, else the least recently used one that `evictable` allows. */
static struct neighbour *claim(struct neighbour_cache *cache,
			       bool (*evictable)(const struct neighbour *))
{
	struct neighbour *victim = NULL;
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		struct neighbour *n = &cache->entries[i];
		if (n->state == NEIGHBOUR_FREE)
			return n;
		if (evictable(n) && (!victim || n->used_ns < victim->used_ns))
			victim = n;
	}
	return victim;
}

static bool idle_and_resolved(const struct neighbour *n)
{
	return n->state != NEIGHBOUR_INCOMPLETE && n->queued == 0;
}

static bool idle_and_stale(const struct neighbour *n)
{
	return n->state == NEIGHBOUR_STALE && n->queued == 0;
}

static void enter(struct neighbour *n, enum neighbour_state state, uint64_t deadline_ns)
{
	n->state = state;
	n->deadline_ns = deadline_ns;
	n->solicitations = 0;
}

static void start(struct neighbour *n, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	*n = (struct neighbour){0};
	memcpy(n->address, address, PK_IPV6_ADDR_SIZE);
}

static void set_mac(struct neighbour *n, const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	memcpy(n->mac, mac, ETHERNET_ADDRESS_SIZE);
}

/* A resolving entry learned its MAC: its packet may go. */
static void resolved(struct neighbour *n, const uint8_t mac[ETHERNET_ADDRESS_SIZE],
		     enum neighbour_state state, uint64_t deadline_ns)
{
	set_mac(n, mac);
	enter(n, state, deadline_ns);
	n->pending_ready = n->queued != 0;
}

enum neighbour_resolution neighbour_resolve(struct neighbour_cache *cache,
					    const uint8_t address[PK_IPV6_ADDR_SIZE],
					    uint64_t now_ns, uint8_t ret_mac[ETHERNET_ADDRESS_SIZE],
					    struct neighbour **ret_entry)
{
	struct neighbour *n = find(cache, address);
	if (!n) {
		n = claim(cache, idle_and_resolved);
		if (!n)
			return NEIGHBOUR_FULL;
		start(n, address);
		enter(n, NEIGHBOUR_INCOMPLETE, now_ns);
	}
	n->used_ns = now_ns;
	*ret_entry = n;
	if (n->state == NEIGHBOUR_INCOMPLETE)
		return NEIGHBOUR_WAITING;
	if (n->state == NEIGHBOUR_STALE)
		enter(n, NEIGHBOUR_DELAY, now_ns + NEIGHBOUR_DELAY_NS);
	memcpy(ret_mac, n->mac, ETHERNET_ADDRESS_SIZE);
	return NEIGHBOUR_RESOLVED;
}

/* The entry's oldest waiting packet leaves its queue; returns its slot. */
static uint8_t dequeue(struct neighbour *n)
{
	uint8_t slot = n->queue[0];
	n->queued--;
	memmove(n->queue, n->queue + 1, n->queued);
	return slot;
}

enum neighbour_hold_result neighbour_hold(struct neighbour_cache *cache, struct neighbour *entry,
					  const uint8_t *packet, uint32_t length)
{
	enum neighbour_hold_result result = NEIGHBOUR_HELD;
	uint8_t slot;
	if (entry->queued < NEIGHBOUR_QUEUE_DEPTH && cache->free_slots > 0) {
		slot = cache->free_slot[--cache->free_slots];
	} else if (entry->queued > 0) {
		slot = dequeue(entry);
		result = NEIGHBOUR_HELD_OLDEST_LOST;
	} else {
		return NEIGHBOUR_NO_ROOM;
	}
	memcpy(cache->held[slot], packet, length);
	cache->held_length[slot] = length;
	entry->queue[entry->queued++] = slot;
	return result;
}

void neighbour_learn(struct neighbour_cache *cache, const uint8_t address[PK_IPV6_ADDR_SIZE],
		     const uint8_t mac[ETHERNET_ADDRESS_SIZE], uint64_t now_ns)
{
	struct neighbour *n = find(cache, address);
	if (!n) {
		n = claim(cache, idle_and_stale);
		if (!n)
			return;
		start(n, address);
		n->used_ns = now_ns;
		set_mac(n, mac);
		enter(n, NEIGHBOUR_STALE, NEVER);
		return;
	}
	if (n->state == NEIGHBOUR_INCOMPLETE)
		resolved(n, mac, NEIGHBOUR_STALE, NEVER);
	else if (memcmp(n->mac, mac, ETHERNET_ADDRESS_SIZE) != 0) {
		set_mac(n, mac);
		enter(n, NEIGHBOUR_STALE, NEVER);
	}
}

bool neighbour_advertised(struct neighbour_cache *cache, const uint8_t address[PK_IPV6_ADDR_SIZE],
			  const uint8_t *mac, bool solicited, bool override, uint64_t now_ns)
{
	struct neighbour *n = find(cache, address);
	if (!n)
		return false;
	if (n->state == NEIGHBOUR_INCOMPLETE) {
		/* Without the address there is nothing to learn from it. */
		if (mac)
			resolved(n, mac, solicited ? NEIGHBOUR_REACHABLE : NEIGHBOUR_STALE,
				 solicited ? now_ns + NEIGHBOUR_REACHABLE_NS : NEVER);
		return true;
	}
	bool changed = mac && memcmp(mac, n->mac, ETHERNET_ADDRESS_SIZE) != 0;
	if (changed && !override) {
		/* Someone else claims the address without the right to: doubt the old MAC,
		 * keep using it. */
		if (n->state == NEIGHBOUR_REACHABLE)
			enter(n, NEIGHBOUR_STALE, NEVER);
		return true;
	}
	if (changed)
		set_mac(n, mac);
	if (solicited)
		enter(n, NEIGHBOUR_REACHABLE, now_ns + NEIGHBOUR_REACHABLE_NS);
	else if (changed)
		enter(n, NEIGHBOUR_STALE, NEVER);
	return true;
}

static enum neighbour_work due(struct neighbour_due *ret, enum neighbour_work work,
			       const struct neighbour *n)
{
	*ret = (struct neighbour_due){.work = work};
	memcpy(ret->address, n->address, PK_IPV6_ADDR_SIZE);
	memcpy(ret->mac, n->mac, ETHERNET_ADDRESS_SIZE);
	return work;
}

/* Takes the entry's oldest packet out into `frame`. */
static uint32_t take_pending(struct neighbour_cache *cache, struct neighbour *n, uint8_t *frame)
{
	uint8_t slot = dequeue(n);
	uint32_t length = cache->held_length[slot];
	memcpy(frame, cache->held[slot], length);
	cache->free_slot[cache->free_slots++] = slot;
	return length;
}

/* The timer work of one entry whose deadline has passed, if it sends anything. */
static enum neighbour_work expire(struct neighbour_cache *cache, struct neighbour *n,
				  uint64_t now_ns, uint8_t *frame, struct neighbour_due *ret)
{
	switch (n->state) {
	case NEIGHBOUR_INCOMPLETE:
		if (n->solicitations < NEIGHBOUR_MAX_MULTICAST_SOLICIT) {
			n->solicitations++;
			n->deadline_ns = now_ns + NEIGHBOUR_RETRANS_NS;
			return due(ret, NEIGHBOUR_SOLICIT_MULTICAST, n);
		}
		/* The entry stays, its deadline passed, until its last packet is out. */
		due(ret, NEIGHBOUR_GIVE_UP, n);
		if (n->queued > 0)
			ret->length = take_pending(cache, n, frame);
		else
			n->state = NEIGHBOUR_FREE;
		return NEIGHBOUR_GIVE_UP;
	case NEIGHBOUR_REACHABLE:
		enter(n, NEIGHBOUR_STALE, NEVER);
		return NEIGHBOUR_IDLE;
	case NEIGHBOUR_DELAY:
		/* The first probe goes now. */
		enter(n, NEIGHBOUR_PROBE, now_ns);
		/* fall through */
	case NEIGHBOUR_PROBE:
		if (n->solicitations < NEIGHBOUR_MAX_UNICAST_SOLICIT) {
			n->solicitations++;
			n->deadline_ns = now_ns + NEIGHBOUR_RETRANS_NS;
			return due(ret, NEIGHBOUR_SOLICIT_UNICAST, n);
		}
		n->state = NEIGHBOUR_FREE;
		return NEIGHBOUR_IDLE;
	default:
		return NEIGHBOUR_IDLE;
	}
}

enum neighbour_work neighbour_poll(struct neighbour_cache *cache, uint64_t now_ns, uint8_t *frame,
				   struct neighbour_due *ret)
{
	*ret = (struct neighbour_due){.work = NEIGHBOUR_IDLE};
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		struct neighbour *n = &cache->entries[i];
		if (n->state == NEIGHBOUR_FREE)
			continue;
		if (n->pending_ready) {
			due(ret, NEIGHBOUR_RELEASE, n);
			ret->length = take_pending(cache, n, frame);
			n->pending_ready = n->queued != 0;
			/* A packet now goes to a stale entry: RFC 4861 §7.3.3. */
			if (n->state == NEIGHBOUR_STALE)
				enter(n, NEIGHBOUR_DELAY, now_ns + NEIGHBOUR_DELAY_NS);
			return NEIGHBOUR_RELEASE;
		}
		if (n->deadline_ns > now_ns)
			continue;
		enum neighbour_work work = expire(cache, n, now_ns, frame, ret);
		if (work != NEIGHBOUR_IDLE)
			return work;
	}
	return NEIGHBOUR_IDLE;
}

uint64_t neighbour_next_deadline(const struct neighbour_cache *cache)
{
	uint64_t next = NEVER;
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		const struct neighbour *n = &cache->entries[i];
		if (n->state == NEIGHBOUR_FREE)
			continue;
		if (n->pending_ready)
			return 0;
		if (n->deadline_ns < next)
			next = n->deadline_ns;
	}
	return next;
}

unsigned neighbour_pending(const struct neighbour_cache *cache)
{
	unsigned pending = 0;
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++)
		if (cache->entries[i].state != NEIGHBOUR_FREE)
			pending += cache->entries[i].queued;
	return pending;
}

const char *neighbour_state_name(enum neighbour_state state)
{
	static const char *const names[] = {
		[NEIGHBOUR_FREE] = "FREE",	     [NEIGHBOUR_INCOMPLETE] = "INCOMPLETE",
		[NEIGHBOUR_REACHABLE] = "REACHABLE", [NEIGHBOUR_STALE] = "STALE",
		[NEIGHBOUR_DELAY] = "DELAY",	     [NEIGHBOUR_PROBE] = "PROBE",
	};
	if ((unsigned)state >= sizeof names / sizeof names[0])
		return "unknown";
	return names[state];
}
