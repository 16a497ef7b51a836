/* Shares: a process's read-only hold on a shared frame (a clock tick, a multicast packet).
 *
 * One record per (process, frame), found through a seeded hash of the pair, so releasing a
 * share by its handle is O(1) however many processes hold the frame. A process that is
 * handed the same frame again (two of its endpoints are members of one group) holds it
 * twice in the same record: the port maps a frame into a process once, and unmaps it only
 * when the last hold goes. Each record is one reference of its frame; each hold counts
 * against the process's frame quota, so what a process can pin is bounded. */
#ifndef KCORE_SHARE_H
#define KCORE_SHARE_H

#include <stdint.h>

#include "kbase.h"

struct share {
	uint32_t frame;	    /* the shared frame; KNIL while the record is free */
	uint32_t proc;	    /* the holder */
	uint32_t holds;	    /* deliveries of the frame the holder has not released */
	uint32_t proc_next; /* the holder's shares; the free list while unused */
	uint32_t proc_prev;
	uint32_t hash_next; /* next record in the same hash bucket */
};

struct share_table {
	struct share *shares;
	uint32_t capacity;
	uint32_t alive;
	uint32_t free_head;
	uint32_t *buckets; /* heads of hash chains, bucket_mask + 1 of them */
	uint32_t bucket_mask;
	uint64_t hash_seed;
};

void share_table_init(struct share_table *table, struct share *shares, uint32_t capacity,
		      uint32_t *buckets, uint64_t hash_seed);

/* The record of `proc`'s share of `frame`, or KNIL. */
uint32_t share_lookup(const struct share_table *table, uint32_t proc, uint32_t frame);

/* The frame a share handle names if `proc` holds a share of it now: 0, -PK_EBADHANDLE (not
 * a current share handle) or -PK_ENOTOWNER (the frame is shared, but not with `proc`). */
int share_resolve(const struct kernel *k, uint32_t proc, pk_handle_t handle, uint64_t *ret_frame);

/* `proc` takes one more hold of shared frame `frame`; the first is granted read-only by the
 * port. Returns 0, -PK_EQUOTA (its quota is full), -PK_ENOSPC (no free share record) or
 * -PK_ENOMEM (the port could not map it); on failure nothing changed. */
int share_take(struct kernel *k, uint32_t proc, uint32_t frame);

/* `proc` lets go of one hold; with the last, the port unmaps the frame and the record's
 * reference goes (perhaps the frame's last: then it is free). */
void share_release(struct kernel *k, uint32_t proc, uint32_t frame);

/* Process death: every share of `proc` goes at once, without unmapping (the port drops
 * the whole address space). O(shares it holds). */
void share_release_all(struct kernel *k, uint32_t proc);

#endif
