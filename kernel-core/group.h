/* Groups: kernel endpoints that hand one packet to many readers, without a copy.
 *
 * A group has a ring of the last `depth` packets put into it, each a shared frame, and
 * members: endpoints, each with its own read position (a sequence number). Putting a packet
 * costs the same for one member or a hundred: the packet goes into the ring once, and
 * every member finds it there at its next recv. A member that falls more than `depth`
 * packets behind loses the oldest: its position jumps to the oldest packet still in the
 * ring, and how many it lost is counted and reported with the next packet it gets. Nobody
 * waits for a slow member.
 *
 * Three kinds share this mechanism: multicast groups, one per IPv6 multicast address that
 * has members (created at the first join, freed at the last leave); the clock, a ring of
 * one into which each tick goes, its members the subscribers; and the egress, where
 * multicast of wider than link-local scope goes for the router, its one member the default
 * route. */
#ifndef KCORE_GROUP_H
#define KCORE_GROUP_H

#include <stdint.h>

#include "kan.h"
#include "kbase.h"

struct kernel_config;

enum group_kind {
	GROUP_MULTICAST = 0,
	GROUP_CLOCK = 1,
	GROUP_EGRESS = 2,
};

/* The two groups that always exist; multicast groups follow them in the table. */
#define GROUP_CLOCK_INDEX  0u
#define GROUP_EGRESS_INDEX 1u
#define GROUP_FIRST_INDEX  2u

struct group {
	uint8_t alive;
	uint8_t kind;	     /* enum group_kind */
	uint64_t address[2]; /* multicast: the IPv6 address, big-endian halves read as numbers */
	uint32_t hash_next;  /* next group in the same hash bucket; the free list while !alive */
	uint32_t depth;	     /* ring slots */
	uint32_t *ring;	     /* the frame of sequence s is ring[s % depth]; KNIL: none */
	uint64_t head;	     /* the sequence the next packet gets: packets put so far */
	uint32_t members;    /* memberships naming it */
	uint32_t waiters;    /* memberships whose endpoint waits in recv, through wait_next */
};

struct member {
	uint32_t group;		/* KNIL while the record is free */
	uint32_t endpoint;	/* the member, alive while the record is */
	uint64_t next;		/* the sequence of the next packet it reads */
	uint64_t lost;		/* packets it missed and has not been told of yet */
	uint32_t endpoint_next; /* the endpoint's memberships; the free list while unused */
	uint32_t endpoint_prev;
	uint32_t wait_next; /* the group's waiters, while `waiting` */
	uint32_t wait_prev;
	uint8_t waiting;
};

struct group_table {
	struct group *groups; /* the clock, the egress, then the multicast groups */
	uint32_t capacity;    /* all of them */
	uint32_t alive;	      /* multicast groups alive */
	uint32_t free_head;
	uint32_t *buckets; /* multicast groups by address, bucket_mask + 1 chains */
	uint32_t bucket_mask;
	uint64_t hash_seed;
	struct member *members;
	uint32_t member_capacity;
	uint32_t member_free;
	uint32_t memberships; /* of multicast groups */
	uint32_t subscribers; /* of the clock */
	/* Limits, from the configuration. */
	uint32_t max_memberships;
	uint32_t group_members;
	uint32_t groups_per_endpoint;
	uint32_t tick_subscribers;
};

/* What the kernel's arena must hold for `cfg`'s groups. */
uint32_t group_capacity(const struct kernel_config *cfg);
uint32_t group_ring_slots(const struct kernel_config *cfg);
uint32_t group_member_capacity(const struct kernel_config *cfg);

void group_table_init(struct group_table *table, const struct kernel_config *cfg,
		      struct group *groups, uint32_t *rings, uint32_t *buckets,
		      struct member *members);

/* The multicast group of `address`, or KNIL if it has no members. */
uint32_t group_lookup(const struct group_table *table, const uint64_t address[2]);

/* `endpoint`'s membership of `group`, or KNIL. O(its memberships). */
uint32_t group_member_find(const struct kernel *k, uint32_t endpoint, uint32_t group);

/* Makes `endpoint` a member of `group`, reading from the next packet put. The caller has
 * checked every limit, so a record is free. */
void group_member_add(struct kernel *k, uint32_t group, uint32_t endpoint);

/* Ends membership `member`. A group left without members lets go of its ring, and a
 * multicast group is freed. O(depth) then, O(1) otherwise. */
void group_member_remove(struct kernel *k, uint32_t member);

/* Puts shared frame `frame` into `group`'s ring (one reference), letting go of the oldest
 * packet if the ring is full, and wakes the members waiting for a packet. KNIL puts a
 * hole: a packet that was lost for every member (a tick without a free frame). */
void group_put(struct kernel *k, uint32_t group, uint32_t frame);

/* The first of `endpoint`'s memberships with a packet for it hands it over as a share of
 * `proc`'s. Returns 0, -PK_EWOULDBLOCK (no group has anything for it), or share_take's
 * error (the packet stays for the next try). O(memberships of the endpoint). */
int group_take(struct kernel *k, uint32_t proc, uint32_t endpoint, struct kan_delivery *ret);

/* A recv on `endpoint` found nothing: its groups will wake it at their next packet. */
void group_wait(struct kernel *k, uint32_t endpoint);

/* Kernel calls. The endpoint is already checked to be the caller's. */
int group_join(struct kernel *k, uint32_t endpoint, uint64_t address_high, uint64_t address_low);
int group_leave(struct kernel *k, uint32_t endpoint, uint64_t address_high, uint64_t address_low);

/* The endpoint is going away: it leaves everything it is a member of. */
void group_endpoint_gone(struct kernel *k, uint32_t endpoint);

#endif
