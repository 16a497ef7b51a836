/* Endpoints: KAN addresses bound to processes, each with a bounded receive queue.
 *
 * An endpoint is found from its address through a hash of the interface ID (the KAN is one
 * /64, so the ID alone names it), chained through the endpoints and keyed by a boot-time
 * seed, so lookup is O(1) on average whatever addresses programs choose. */
#ifndef KCORE_ENDPOINT_H
#define KCORE_ENDPOINT_H

#include <stdint.h>

#include "frame.h"

struct endpoint {
	uint32_t gen;
	uint8_t alive;
	uint8_t receiver_waiting; /* a receive found the queue empty; wake at the next packet */
	uint64_t iid;		  /* interface ID: the low 64 bits of its address */
	uint32_t proc;		  /* index of the holding process, alive while this is */
	uint32_t proc_next;	  /* sibling list of the process; free-slot list while !alive */
	uint32_t proc_prev;
	uint32_t hash_next;	 /* next endpoint in the same hash bucket */
	struct frame_list queue; /* received packets, oldest first */
	/* Its memberships (multicast groups, the clock, the default route's egress), linked
	 * through member.endpoint_next; recv looks at them before the queue, and moves the one
	 * it served to the tail so no group starves the others. */
	uint32_t members_head, members_tail;
	uint32_t groups; /* multicast groups joined, checked against groups_per_endpoint */
};

struct endpoint_table {
	struct endpoint *endpoints;
	uint32_t capacity;
	uint32_t alive;
	uint32_t free_head;
	uint32_t *buckets; /* heads of hash chains, bucket_mask + 1 of them */
	uint32_t bucket_mask;
	uint64_t hash_seed;
	uint64_t next_auto_iid; /* where the search for a kernel-chosen address resumes */
};

/* Kernel-chosen interface IDs start here; smaller ones are left to boot manifests. */
#define ENDPOINT_AUTO_IID_BASE 0x10000u

void endpoint_table_init(struct endpoint_table *table, struct endpoint *endpoints,
			 uint32_t capacity, uint32_t *buckets, uint64_t hash_seed);

static inline pk_endpoint_t endpoint_handle(const struct endpoint_table *table, uint32_t index)
{
	return PK_HANDLE_MAKE(PK_HANDLE_ENDPOINT, table->endpoints[index].gen, index);
}

/* The index of the live endpoint `handle` names, or -PK_EBADHANDLE. */
int endpoint_resolve(const struct endpoint_table *table, pk_handle_t handle, uint32_t *ret_index);

/* The endpoint bound to interface ID `iid`, or KNIL. */
uint32_t endpoint_lookup(const struct endpoint_table *table, uint64_t iid);

/* Binds a new endpoint of `proc` to `iid`, or to a free kernel-chosen ID when `iid` is 0. */
int endpoint_create(struct kernel *k, uint32_t proc, uint64_t iid, uint32_t *ret_index);

/* A packet is there for `endpoint`: if its receiver found nothing at its last recv, the
 * port is told to wake it, once. */
void endpoint_wake(struct kernel *k, uint32_t index);

/* Unbinds the endpoint; it leaves its groups and the clock, and packets queued there are
 * reclaimed as free frames. */
void endpoint_destroy(struct kernel *k, uint32_t index);

#endif
