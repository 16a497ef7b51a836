/* Contexts: the threads of control of a process, as the kernel sees them.
 *
 * A context and an endpoint are tied many to many: each context binds up to
 * PK_CONTEXT_BINDINGS endpoints of its own process, and recv_any takes a packet from
 * whichever of them has one (taking turns); an endpoint may be bound to several contexts,
 * a pool of threads serving one address. The kernel does not schedule contexts (the port
 * runs them: Linux threads in the simulator) and never waits for one: recv_any, like recv,
 * answers at once, marking every bound endpoint so that the next packet at any of them
 * asks the port to wake the process.
 *
 * A binding names its endpoint by index and generation, so an endpoint that dies leaves
 * its bindings stale rather than dangling; they are dropped when next looked at, which
 * keeps endpoint_destroy from having to visit contexts. */
#ifndef KCORE_CONTEXT_H
#define KCORE_CONTEXT_H

#include <stdint.h>

#include <packos/kcalls.h>

#include "kbase.h"

struct context {
	uint32_t gen;
	uint8_t alive;
	uint8_t next_turn;  /* the binding recv_any looks at first */
	uint32_t proc;	    /* the holder, while alive */
	uint32_t proc_next; /* the holder's list; the free list while !alive */
	uint32_t proc_prev;
	uint32_t endpoint[PK_CONTEXT_BINDINGS]; /* KNIL: the slot is free */
	uint32_t endpoint_gen[PK_CONTEXT_BINDINGS];
};

struct context_table {
	struct context *contexts;
	uint32_t capacity;
	uint32_t alive;
	uint32_t free_head;
};

struct kernel;
struct kan_delivery;

void context_table_init(struct context_table *table, struct context *contexts, uint32_t capacity);

static inline pk_handle_t context_handle(const struct context_table *table, uint32_t index)
{
	return PK_HANDLE_MAKE(PK_HANDLE_CONTEXT, table->contexts[index].gen, index);
}

/* The live context `handle` names, or -PK_EBADHANDLE. */
int context_resolve(const struct context_table *table, pk_handle_t handle, uint32_t *ret_index);

/* The endpoint bound in `slot`, or KNIL when the slot is free or its endpoint has died
 * (the stale binding is then dropped). */
uint32_t context_binding(struct kernel *k, uint32_t context, unsigned slot);

/* Kernel calls; the context and the endpoint are already checked to be the caller's. */
int context_create(struct kernel *k, uint32_t proc, uint32_t *ret_index);
void context_destroy(struct kernel *k, uint32_t index);
int context_bind(struct kernel *k, uint32_t context, uint32_t endpoint, uint32_t *ret_slot);
int context_unbind(struct kernel *k, uint32_t context, uint32_t endpoint);
int context_recv_any(struct kernel *k, uint32_t proc, uint32_t context, struct kan_delivery *ret,
		     uint32_t *ret_slot);

#endif
