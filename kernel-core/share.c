/* Shares: the share table, its hash, and taking and releasing holds (see share.h).
 * Invariant: each live record is in its holder's list and in exactly one hash chain, no
 * two name the same (process, frame), and its frame is shared. */
#include "share.h"

#include <packos/errors.h>

#include "kstate.h"

void share_table_init(struct share_table *table, struct share *shares, uint32_t capacity,
		      uint32_t *buckets, uint64_t hash_seed)
{
	table->shares = shares;
	table->capacity = capacity;
	table->alive = 0;
	table->free_head = KNIL;
	table->buckets = buckets;
	table->bucket_mask = kbucket_count(capacity) - 1;
	table->hash_seed = hash_seed;
	for (uint32_t b = 0; b <= table->bucket_mask; b++)
		buckets[b] = KNIL;
	for (uint32_t i = capacity; i-- > 0;) {
		struct share *s = &shares[i];
		s->frame = s->proc = KNIL;
		s->holds = 0;
		s->proc_prev = s->hash_next = KNIL;
		s->proc_next = table->free_head;
		table->free_head = i;
	}
}

/* Seeded, so no program can line its shares up in one chain. */
static uint32_t share_bucket(const struct share_table *table, uint32_t proc, uint32_t frame)
{
	uint64_t key = (uint64_t)proc << 32 | frame;
	return (uint32_t)kmix64(key ^ table->hash_seed) & table->bucket_mask;
}

uint32_t share_lookup(const struct share_table *table, uint32_t proc, uint32_t frame)
{
	uint32_t s = table->buckets[share_bucket(table, proc, frame)];
	while (s != KNIL && (table->shares[s].proc != proc || table->shares[s].frame != frame))
		s = table->shares[s].hash_next;
	return s;
}

int share_resolve(const struct kernel *k, uint32_t proc, pk_handle_t handle, uint64_t *ret_frame)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_SHARE || index >= k->frames.count)
		return -PK_EBADHANDLE;
	const struct frame *f = &k->frames.frames[index];
	if (f->state != FRAME_SHARED || f->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	if (share_lookup(&k->shares, proc, index) == KNIL)
		return -PK_ENOTOWNER;
	*ret_frame = index;
	return 0;
}

int share_take(struct kernel *k, uint32_t proc, uint32_t frame)
{
	struct share_table *table = &k->shares;
	struct proc *p = &k->procs.procs[proc];
	if (proc_at_quota(p))
		return -PK_EQUOTA;
	uint32_t index = share_lookup(table, proc, frame);
	if (index != KNIL) {
		table->shares[index].holds++;
		p->held++;
		return 0;
	}
	index = table->free_head;
	if (index == KNIL)
		return -PK_ENOSPC;
	int err = k->port.ops->po_frame_grant(k->port.ctx, proc_handle(&k->procs, proc), frame, 0);
	KASSERT(k, err == 0 || err == -PK_ENOMEM, "po_frame_grant returns 0 or -PK_ENOMEM");
	if (err < 0)
		return err;

	struct share *s = &table->shares[index];
	table->free_head = s->proc_next;
	s->frame = frame;
	s->proc = proc;
	s->holds = 1;
	s->proc_prev = KNIL;
	s->proc_next = p->shares_head;
	if (p->shares_head != KNIL)
		table->shares[p->shares_head].proc_prev = index;
	p->shares_head = index;
	uint32_t bucket = share_bucket(table, proc, frame);
	s->hash_next = table->buckets[bucket];
	table->buckets[bucket] = index;
	table->alive++;
	p->held++;
	frame_ref(&k->frames, frame);
	return 0;
}

/* Unlinks record `index` from its holder and the hash, frees it and drops its reference. */
static void share_drop(struct kernel *k, uint32_t index)
{
	struct share_table *table = &k->shares;
	struct share *s = &table->shares[index];
	struct proc *p = &k->procs.procs[s->proc];

	if (s->proc_prev != KNIL)
		table->shares[s->proc_prev].proc_next = s->proc_next;
	else
		p->shares_head = s->proc_next;
	if (s->proc_next != KNIL)
		table->shares[s->proc_next].proc_prev = s->proc_prev;
	uint32_t *link = &table->buckets[share_bucket(table, s->proc, s->frame)];
	while (*link != index)
		link = &table->shares[*link].hash_next;
	*link = s->hash_next;

	uint32_t frame = s->frame;
	p->held -= s->holds;
	s->frame = s->proc = KNIL;
	s->holds = 0;
	s->hash_next = s->proc_prev = KNIL;
	s->proc_next = table->free_head;
	table->free_head = index;
	table->alive--;
	frame_unref(&k->frames, frame);
}

void share_release(struct kernel *k, uint32_t proc, uint32_t frame)
{
	uint32_t index = share_lookup(&k->shares, proc, frame);
	KASSERT(k, index != KNIL, "a share being released was resolved as held");
	struct share *s = &k->shares.shares[index];
	if (s->holds > 1) {
		s->holds--;
		k->procs.procs[proc].held--;
		return;
	}
	k->port.ops->po_frame_revoke(k->port.ctx, proc_handle(&k->procs, proc), frame);
	share_drop(k, index);
}

void share_release_all(struct kernel *k, uint32_t proc)
{
	struct proc *p = &k->procs.procs[proc];
	while (p->shares_head != KNIL)
		share_drop(k, p->shares_head);
}
