/* Groups: rings of shared packets with per-member read positions, and the group_join and
 * group_leave kernel calls (see group.h). Invariants: a live multicast group has members
 * and is found by its address; every membership is in its endpoint's list and names a
 * live group; a member's position is never past its group's head; every ring slot inside
 * the window of the last `depth` sequences names a shared frame (or, in the clock, a hole)
 * and holds one reference to it, and every slot outside it is empty. */
#include "group.h"

#include <packos/errors.h>

#include "kstate.h"

uint32_t group_capacity(const struct kernel_config *cfg)
{
	return cfg->max_groups + GROUP_FIRST_INDEX;
}

/* The clock's one slot, then `group_depth` for the egress and for each multicast group. */
uint32_t group_ring_slots(const struct kernel_config *cfg)
{
	return 1 + (cfg->max_groups + 1) * cfg->group_depth;
}

/* One record for each membership the limits allow, and one for the default route's. */
uint32_t group_member_capacity(const struct kernel_config *cfg)
{
	return cfg->max_memberships + cfg->tick_subscribers + 1;
}

static void group_reset(struct group *g, uint32_t *ring, uint32_t depth, enum group_kind kind)
{
	g->alive = kind != GROUP_MULTICAST;
	g->kind = (uint8_t)kind;
	g->address[0] = g->address[1] = 0;
	g->hash_next = KNIL;
	g->depth = depth;
	g->ring = ring;
	g->head = 0;
	g->members = 0;
	g->waiters = KNIL;
	for (uint32_t i = 0; i < depth; i++)
		ring[i] = KNIL;
}

void group_table_init(struct group_table *table, const struct kernel_config *cfg,
		      struct group *groups, uint32_t *rings, uint32_t *buckets,
		      struct member *members)
{
	table->groups = groups;
	table->capacity = group_capacity(cfg);
	table->alive = 0;
	table->free_head = KNIL;
	table->buckets = buckets;
	table->bucket_mask = kbucket_count(cfg->max_groups) - 1;
	table->hash_seed = cfg->hash_seed;
	table->members = members;
	table->member_capacity = group_member_capacity(cfg);
	table->member_free = KNIL;
	table->memberships = 0;
	table->subscribers = 0;
	table->max_memberships = cfg->max_memberships;
	table->group_members = cfg->group_members;
	table->groups_per_endpoint = cfg->groups_per_endpoint;
	table->tick_subscribers = cfg->tick_subscribers;

	for (uint32_t b = 0; b <= table->bucket_mask; b++)
		buckets[b] = KNIL;
	group_reset(&groups[GROUP_CLOCK_INDEX], rings, 1, GROUP_CLOCK);
	rings += 1;
	group_reset(&groups[GROUP_EGRESS_INDEX], rings, cfg->group_depth, GROUP_EGRESS);
	rings += cfg->group_depth;
	for (uint32_t i = GROUP_FIRST_INDEX; i < table->capacity; i++, rings += cfg->group_depth)
		group_reset(&groups[i], rings, cfg->group_depth, GROUP_MULTICAST);
	for (uint32_t i = table->capacity; i-- > GROUP_FIRST_INDEX;) {
		groups[i].hash_next = table->free_head;
		table->free_head = i;
	}
	for (uint32_t i = table->member_capacity; i-- > 0;) {
		struct member *m = &members[i];
		kbytes_zero(m, sizeof *m);
		m->group = m->endpoint = KNIL;
		m->endpoint_prev = m->wait_next = m->wait_prev = KNIL;
		m->endpoint_next = table->member_free;
		table->member_free = i;
	}
}

/* Seeded, so no program can choose addresses that share a chain. */
static uint32_t group_bucket(const struct group_table *table, const uint64_t address[2])
{
	return (uint32_t)kmix64(kmix64(address[0] ^ table->hash_seed) ^ address[1]) &
	       table->bucket_mask;
}

uint32_t group_lookup(const struct group_table *table, const uint64_t address[2])
{
	uint32_t g = table->buckets[group_bucket(table, address)];
	while (g != KNIL && (table->groups[g].address[0] != address[0] ||
			     table->groups[g].address[1] != address[1]))
		g = table->groups[g].hash_next;
	return g;
}

/* A new multicast group for `address`, or KNIL if the table is full. */
static uint32_t group_create(struct group_table *table, const uint64_t address[2])
{
	uint32_t index = table->free_head;
	if (index == KNIL)
		return KNIL;
	struct group *g = &table->groups[index];
	table->free_head = g->hash_next;
	g->alive = 1;
	g->address[0] = address[0];
	g->address[1] = address[1];
	uint32_t bucket = group_bucket(table, address);
	g->hash_next = table->buckets[bucket];
	table->buckets[bucket] = index;
	table->alive++;
	return index;
}

/* Without members, a group keeps no packets: nobody could read them. */
static void group_drain(struct kernel *k, struct group *g)
{
	for (uint32_t i = 0; i < g->depth; i++) {
		if (g->ring[i] != KNIL)
			frame_unref(&k->frames, g->ring[i]);
		g->ring[i] = KNIL;
	}
	g->head = 0;
}

static void group_free(struct group_table *table, uint32_t index)
{
	struct group *g = &table->groups[index];
	uint32_t *link = &table->buckets[group_bucket(table, g->address)];
	while (*link != index)
		link = &table->groups[*link].hash_next;
	*link = g->hash_next;
	g->alive = 0;
	g->address[0] = g->address[1] = 0;
	g->hash_next = table->free_head;
	table->free_head = index;
	table->alive--;
}

static void waiter_unlink(struct group_table *table, uint32_t index)
{
	struct member *m = &table->members[index];
	struct group *g = &table->groups[m->group];
	if (m->wait_prev != KNIL)
		table->members[m->wait_prev].wait_next = m->wait_next;
	else
		g->waiters = m->wait_next;
	if (m->wait_next != KNIL)
		table->members[m->wait_next].wait_prev = m->wait_prev;
	m->wait_next = m->wait_prev = KNIL;
	m->waiting = 0;
}

static void member_unlink(struct group_table *table, struct endpoint *e, uint32_t index)
{
	struct member *m = &table->members[index];
	if (m->endpoint_prev != KNIL)
		table->members[m->endpoint_prev].endpoint_next = m->endpoint_next;
	else
		e->members_head = m->endpoint_next;
	if (m->endpoint_next != KNIL)
		table->members[m->endpoint_next].endpoint_prev = m->endpoint_prev;
	else
		e->members_tail = m->endpoint_prev;
	m->endpoint_next = m->endpoint_prev = KNIL;
}

static void member_append(struct group_table *table, struct endpoint *e, uint32_t index)
{
	struct member *m = &table->members[index];
	m->endpoint_next = KNIL;
	m->endpoint_prev = e->members_tail;
	if (e->members_tail != KNIL)
		table->members[e->members_tail].endpoint_next = index;
	else
		e->members_head = index;
	e->members_tail = index;
}

uint32_t group_member_find(const struct kernel *k, uint32_t endpoint, uint32_t group)
{
	const struct group_table *table = &k->groups;
	uint32_t m = k->endpoints.endpoints[endpoint].members_head;
	while (m != KNIL && table->members[m].group != group)
		m = table->members[m].endpoint_next;
	return m;
}

void group_member_add(struct kernel *k, uint32_t group, uint32_t endpoint)
{
	struct group_table *table = &k->groups;
	struct group *g = &table->groups[group];
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	uint32_t index = table->member_free;
	KASSERT(k, index != KNIL, "a membership within the limits finds a free record");
	struct member *m = &table->members[index];
	table->member_free = m->endpoint_next;
	m->group = group;
	m->endpoint = endpoint;
	m->next = g->head;
	m->lost = 0;
	m->waiting = 0;
	m->wait_next = m->wait_prev = KNIL;
	member_append(table, e, index);
	g->members++;
	if (g->kind == GROUP_MULTICAST) {
		e->groups++;
		table->memberships++;
	} else if (g->kind == GROUP_CLOCK) {
		table->subscribers++;
	}
}

void group_member_remove(struct kernel *k, uint32_t index)
{
	struct group_table *table = &k->groups;
	struct member *m = &table->members[index];
	uint32_t group = m->group;
	struct group *g = &table->groups[group];
	struct endpoint *e = &k->endpoints.endpoints[m->endpoint];

	if (m->waiting)
		waiter_unlink(table, index);
	member_unlink(table, e, index);
	if (g->kind == GROUP_MULTICAST) {
		e->groups--;
		table->memberships--;
	} else if (g->kind == GROUP_CLOCK) {
		table->subscribers--;
	}
	m->group = m->endpoint = KNIL;
	m->endpoint_next = table->member_free;
	table->member_free = index;

	if (--g->members > 0)
		return;
	group_drain(k, g);
	if (g->kind == GROUP_MULTICAST)
		group_free(table, group);
}

void group_put(struct kernel *k, uint32_t group, uint32_t frame)
{
	struct group_table *table = &k->groups;
	struct group *g = &table->groups[group];
	uint32_t *slot = &g->ring[g->head % g->depth];
	if (*slot != KNIL)
		frame_unref(&k->frames, *slot);
	*slot = frame;
	g->head++;
	if (frame == KNIL)
		return; /* nothing to read: nobody to wake */
	frame_ref(&k->frames, frame);
	/* Each waiter was put here by one recv that found nothing, so the wakes are paid for
	 * by those calls, not by this one. */
	while (g->waiters != KNIL) {
		uint32_t waiter = g->waiters;
		waiter_unlink(table, waiter);
		endpoint_wake(k, table->members[waiter].endpoint);
	}
}

/* Moves a member's position past what it can no longer read, packets overwritten and
 * holes, and counts them as its losses. O(depth) at most, for holes. */
static void member_catch_up(struct kernel *k, struct member *m)
{
	const struct group *g = &k->groups.groups[m->group];
	uint64_t oldest = g->head > g->depth ? g->head - g->depth : 0;
	uint64_t missed = 0;
	if (m->next < oldest) {
		missed = oldest - m->next;
		m->next = oldest;
	}
	while (m->next < g->head && g->ring[m->next % g->depth] == KNIL) {
		missed++;
		m->next++;
	}
	m->lost += missed;
	if (g->kind == GROUP_CLOCK)
		k->stats.ticks_missed += missed;
	else
		k->stats.multicast_lost += missed;
}

int group_take(struct kernel *k, uint32_t proc, uint32_t endpoint, struct kan_delivery *ret)
{
	struct group_table *table = &k->groups;
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	for (uint32_t i = e->members_head; i != KNIL; i = table->members[i].endpoint_next) {
		struct member *m = &table->members[i];
		member_catch_up(k, m);
		const struct group *g = &table->groups[m->group];
		if (m->next == g->head)
			continue;
		uint32_t frame = g->ring[m->next % g->depth];
		int err = share_take(k, proc, frame);
		if (err < 0)
			return err;
		m->next++;
		ret->frame = frame;
		ret->length = k->frames.frames[frame].length;
		ret->lost = m->lost > UINT32_MAX ? UINT32_MAX : (uint32_t)m->lost;
		ret->shared = 1;
		ret->kmsg = k->frames.frames[frame].kmsg;
		m->lost = 0;
		if (g->kind != GROUP_CLOCK)
			k->stats.multicast_received++;
		/* The tail is asked last next time: a busy group cannot starve the others. */
		member_unlink(table, e, i);
		member_append(table, e, i);
		return 0;
	}
	return -PK_EWOULDBLOCK;
}

void group_wait(struct kernel *k, uint32_t endpoint)
{
	struct group_table *table = &k->groups;
	uint32_t i = k->endpoints.endpoints[endpoint].members_head;
	for (; i != KNIL; i = table->members[i].endpoint_next) {
		struct member *m = &table->members[i];
		if (m->waiting)
			continue;
		struct group *g = &table->groups[m->group];
		m->waiting = 1;
		m->wait_prev = KNIL;
		m->wait_next = g->waiters;
		if (g->waiters != KNIL)
			table->members[g->waiters].wait_prev = i;
		g->waiters = i;
	}
}

static int address_is_multicast(uint64_t address_high)
{
	return address_high >> 56 == 0xff;
}

int group_join(struct kernel *k, uint32_t endpoint, uint64_t address_high, uint64_t address_low)
{
	struct group_table *table = &k->groups;
	const uint64_t address[2] = {address_high, address_low};
	if (!address_is_multicast(address_high))
		return -PK_EINVAL;
	uint32_t group = group_lookup(table, address);
	if (group != KNIL && group_member_find(k, endpoint, group) != KNIL)
		return -PK_EALREADY;
	if (k->endpoints.endpoints[endpoint].groups >= table->groups_per_endpoint)
		return -PK_ELIMIT;
	if (table->memberships >= table->max_memberships ||
	    (group != KNIL && table->groups[group].members >= table->group_members))
		return -PK_ENOSPC;
	if (group == KNIL) {
		group = group_create(table, address);
		if (group == KNIL)
			return -PK_ENOSPC;
	}
	group_member_add(k, group, endpoint);
	return 0;
}

int group_leave(struct kernel *k, uint32_t endpoint, uint64_t address_high, uint64_t address_low)
{
	const uint64_t address[2] = {address_high, address_low};
	if (!address_is_multicast(address_high))
		return -PK_EINVAL;
	uint32_t group = group_lookup(&k->groups, address);
	uint32_t member = group == KNIL ? KNIL : group_member_find(k, endpoint, group);
	if (member == KNIL)
		return -PK_ENOTMEMBER;
	group_member_remove(k, member);
	return 0;
}

void group_endpoint_gone(struct kernel *k, uint32_t endpoint)
{
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	while (e->members_head != KNIL)
		group_member_remove(k, e->members_head);
}
