/* Contexts and their bindings (see context.h). Every operation looks at one context and at
 * most PK_CONTEXT_BINDINGS endpoints. */
#include "context.h"

#include <packos/errors.h>

#include "kstate.h"

void context_table_init(struct context_table *table, struct context *contexts, uint32_t capacity)
{
	table->contexts = contexts;
	table->capacity = capacity;
	table->alive = 0;
	table->free_head = capacity ? 0 : KNIL;
	for (uint32_t i = 0; i < capacity; i++) {
		kbytes_zero(&contexts[i], sizeof contexts[i]);
		contexts[i].proc_next = i + 1 < capacity ? i + 1 : KNIL;
	}
}

int context_resolve(const struct context_table *table, pk_handle_t handle, uint32_t *ret_index)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_CONTEXT || index >= table->capacity)
		return -PK_EBADHANDLE;
	const struct context *c = &table->contexts[index];
	if (!c->alive || c->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	*ret_index = index;
	return 0;
}

uint32_t context_binding(struct kernel *k, uint32_t context, unsigned slot)
{
	struct context *c = &k->contexts.contexts[context];
	uint32_t e = c->endpoint[slot];
	if (e == KNIL)
		return KNIL;
	const struct endpoint *ep = &k->endpoints.endpoints[e];
	/* The process too: generations wrap, and a slot reused by another process must never
	 * revive a binding. */
	if (ep->alive && ep->gen == c->endpoint_gen[slot] && ep->proc == c->proc)
		return e;
	c->endpoint[slot] = KNIL;
	return KNIL;
}

int context_create(struct kernel *k, uint32_t proc, uint32_t *ret_index)
{
	struct proc *p = &k->procs.procs[proc];
	if (p->contexts >= k->contexts_per_proc)
		return -PK_ELIMIT;
	struct context_table *table = &k->contexts;
	uint32_t index = table->free_head;
	if (index == KNIL)
		return -PK_ENOSPC;
	struct context *c = &table->contexts[index];
	table->free_head = c->proc_next;
	c->alive = 1;
	c->proc = proc;
	c->next_turn = 0;
	for (unsigned slot = 0; slot < PK_CONTEXT_BINDINGS; slot++)
		c->endpoint[slot] = KNIL;
	c->proc_prev = KNIL;
	c->proc_next = p->contexts_head;
	if (p->contexts_head != KNIL)
		table->contexts[p->contexts_head].proc_prev = index;
	p->contexts_head = index;
	p->contexts++;
	table->alive++;
	*ret_index = index;
	return 0;
}

void context_destroy(struct kernel *k, uint32_t index)
{
	struct context_table *table = &k->contexts;
	struct context *c = &table->contexts[index];
	struct proc *p = &k->procs.procs[c->proc];
	if (c->proc_prev != KNIL)
		table->contexts[c->proc_prev].proc_next = c->proc_next;
	else
		p->contexts_head = c->proc_next;
	if (c->proc_next != KNIL)
		table->contexts[c->proc_next].proc_prev = c->proc_prev;
	p->contexts--;
	c->alive = 0;
	c->gen = kgen_next(c->gen);
	c->proc_next = table->free_head;
	table->free_head = index;
	table->alive--;
}

static int find_binding(struct kernel *k, uint32_t context, uint32_t endpoint)
{
	for (unsigned slot = 0; slot < PK_CONTEXT_BINDINGS; slot++)
		if (context_binding(k, context, slot) == endpoint)
			return (int)slot;
	return -1;
}

int context_bind(struct kernel *k, uint32_t context, uint32_t endpoint, uint32_t *ret_slot)
{
	if (find_binding(k, context, endpoint) >= 0)
		return -PK_EALREADY;
	struct context *c = &k->contexts.contexts[context];
	for (unsigned slot = 0; slot < PK_CONTEXT_BINDINGS; slot++) {
		/* find_binding has just dropped every stale binding. */
		if (c->endpoint[slot] != KNIL)
			continue;
		c->endpoint[slot] = endpoint;
		c->endpoint_gen[slot] = k->endpoints.endpoints[endpoint].gen;
		/* A thread may be waiting on this context already (recv_any found nothing and
		 * marked only the endpoints bound then): the new one must wake it too. An extra
		 * wake costs a look; a missing one, a wait until the deadline. */
		kan_mark_waiting(k, endpoint);
		*ret_slot = slot;
		return 0;
	}
	return -PK_ELIMIT;
}

int context_unbind(struct kernel *k, uint32_t context, uint32_t endpoint)
{
	int slot = find_binding(k, context, endpoint);
	if (slot < 0)
		return -PK_ENOTMEMBER;
	k->contexts.contexts[context].endpoint[slot] = KNIL;
	return 0;
}

int context_recv_any(struct kernel *k, uint32_t proc, uint32_t context, struct kan_delivery *ret,
		     uint32_t *ret_slot)
{
	struct context *c = &k->contexts.contexts[context];
	unsigned bound = 0;
	for (unsigned i = 0; i < PK_CONTEXT_BINDINGS; i++) {
		unsigned slot = (c->next_turn + i) % PK_CONTEXT_BINDINGS;
		uint32_t endpoint = context_binding(k, context, slot);
		if (endpoint == KNIL)
			continue;
		bound++;
		/* An empty endpoint is marked by kan_recv, so any of them wakes the process. */
		int err = kan_recv(k, proc, endpoint, ret);
		if (err == -PK_EWOULDBLOCK)
			continue;
		if (err == 0) {
			c->next_turn = (uint8_t)((slot + 1) % PK_CONTEXT_BINDINGS);
			*ret_slot = slot;
		}
		return err;
	}
	return bound ? -PK_EWOULDBLOCK : -PK_EINVAL;
}
