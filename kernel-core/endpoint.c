/* Endpoints: the endpoint table, the address hash, and the endpoint_create and
 * endpoint_destroy kernel calls. Invariant: every live endpoint is in exactly one hash
 * chain (its interface ID's) and in its process's endpoint list; no two share an ID. */
#include "endpoint.h"

#include <packos/errors.h>

#include "kstate.h"

/* How many successive kernel-chosen IDs to try before giving up; a program that claims
 * IDs in the automatic range could otherwise make endpoint_create walk without end. */
#define AUTO_IID_TRIES 8

void endpoint_table_init(struct endpoint_table *table, struct endpoint *endpoints,
			 uint32_t capacity, uint32_t *buckets, uint64_t hash_seed)
{
	table->endpoints = endpoints;
	table->capacity = capacity;
	table->alive = 0;
	table->free_head = KNIL;
	table->buckets = buckets;
	table->bucket_mask = kbucket_count(capacity) - 1;
	table->hash_seed = hash_seed;
	table->next_auto_iid = ENDPOINT_AUTO_IID_BASE;
	for (uint32_t b = 0; b <= table->bucket_mask; b++)
		buckets[b] = KNIL;
	for (uint32_t i = capacity; i-- > 0;) {
		struct endpoint *e = &endpoints[i];
		e->gen = 1;
		e->alive = 0;
		e->receiver_waiting = 0;
		e->iid = 0;
		e->proc = KNIL;
		e->proc_prev = KNIL;
		e->hash_next = KNIL;
		frame_list_init(&e->queue);
		e->members_head = e->members_tail = KNIL;
		e->groups = 0;
		e->proc_next = table->free_head;
		table->free_head = i;
	}
}

/* Seeded, so programs cannot choose IDs that share a chain. */
static uint32_t endpoint_bucket(const struct endpoint_table *table, uint64_t iid)
{
	return (uint32_t)kmix64(iid ^ table->hash_seed) & table->bucket_mask;
}

int endpoint_resolve(const struct endpoint_table *table, pk_handle_t handle, uint32_t *ret_index)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_ENDPOINT || index >= table->capacity)
		return -PK_EBADHANDLE;
	const struct endpoint *e = &table->endpoints[index];
	if (!e->alive || e->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	*ret_index = index;
	return 0;
}

uint32_t endpoint_lookup(const struct endpoint_table *table, uint64_t iid)
{
	uint32_t index = table->buckets[endpoint_bucket(table, iid)];
	while (index != KNIL && table->endpoints[index].iid != iid)
		index = table->endpoints[index].hash_next;
	return index;
}

/* RFC 4291 reserves ID 0 for the Subnet-Router anycast address, and RFC 2526 the top 128
 * IDs of a /64 for subnet anycast; neither may name one endpoint. */
static int iid_is_reserved(uint64_t iid)
{
	return iid == 0 || iid >= 0xfdffffffffffff80ull;
}

static int endpoint_choose_iid(struct endpoint_table *table, uint64_t *ret_iid)
{
	for (int tries = 0; tries < AUTO_IID_TRIES; tries++) {
		uint64_t iid = table->next_auto_iid++;
		if (iid_is_reserved(table->next_auto_iid))
			table->next_auto_iid = ENDPOINT_AUTO_IID_BASE;
		if (endpoint_lookup(table, iid) == KNIL) {
			*ret_iid = iid;
			return 0;
		}
	}
	return -PK_EADDRINUSE;
}

int endpoint_create(struct kernel *k, uint32_t proc, uint64_t iid, uint32_t *ret_index)
{
	struct endpoint_table *table = &k->endpoints;
	struct proc *p = &k->procs.procs[proc];

	if (p->endpoints >= k->endpoints_per_proc)
		return -PK_ELIMIT;
	if (table->free_head == KNIL)
		return -PK_ENOSPC;
	if (iid == 0) {
		int err = endpoint_choose_iid(table, &iid);
		if (err < 0)
			return err;
	} else if (iid_is_reserved(iid)) {
		return -PK_EINVAL;
	} else if (endpoint_lookup(table, iid) != KNIL) {
		return -PK_EADDRINUSE;
	}

	uint32_t index = table->free_head;
	struct endpoint *e = &table->endpoints[index];
	table->free_head = e->proc_next;

	e->alive = 1;
	e->receiver_waiting = 0;
	e->iid = iid;
	e->proc = proc;
	frame_list_init(&e->queue);
	e->members_head = e->members_tail = KNIL;
	e->groups = 0;

	uint32_t bucket = endpoint_bucket(table, iid);
	e->hash_next = table->buckets[bucket];
	table->buckets[bucket] = index;

	e->proc_prev = KNIL;
	e->proc_next = p->endpoints_head;
	if (p->endpoints_head != KNIL)
		table->endpoints[p->endpoints_head].proc_prev = index;
	p->endpoints_head = index;
	p->endpoints++;

	table->alive++;
	*ret_index = index;
	return 0;
}

void endpoint_wake(struct kernel *k, uint32_t index)
{
	struct endpoint *e = &k->endpoints.endpoints[index];
	if (!e->receiver_waiting)
		return;
	e->receiver_waiting = 0;
	k->port.ops->po_wake(k->port.ctx, proc_handle(&k->procs, e->proc),
			     endpoint_handle(&k->endpoints, index));
}

static void endpoint_unhash(struct endpoint_table *table, uint32_t index)
{
	uint32_t *link = &table->buckets[endpoint_bucket(table, table->endpoints[index].iid)];
	while (*link != index)
		link = &table->endpoints[*link].hash_next;
	*link = table->endpoints[index].hash_next;
}

void endpoint_destroy(struct kernel *k, uint32_t index)
{
	struct endpoint_table *table = &k->endpoints;
	struct endpoint *e = &table->endpoints[index];
	struct proc *p = &k->procs.procs[e->proc];

	group_endpoint_gone(k, index);
	kan_forget_endpoint(&k->kan, index);
	endpoint_unhash(table, index);

	if (e->proc_prev != KNIL)
		table->endpoints[e->proc_prev].proc_next = e->proc_next;
	else
		p->endpoints_head = e->proc_next;
	if (e->proc_next != KNIL)
		table->endpoints[e->proc_next].proc_prev = e->proc_prev;
	p->endpoints--;

	k->frames.queued -= e->queue.count;
	frame_list_splice(&k->frames, &k->frames.free, &e->queue);

	e->alive = 0;
	e->gen = kgen_next(e->gen);
	e->proc = KNIL;
	e->hash_next = KNIL;
	e->proc_prev = KNIL;
	e->proc_next = table->free_head;
	table->free_head = index;
	table->alive--;
}
