/* Processes: protection domains. A process owns frames and holds shares of shared frames
 * (together up to its quota), and holds endpoints and contexts (up to the per-process
 * limits); destroying it reclaims all of them in time bounded by its endpoints, contexts
 * and shares, never by how many frames it owned. */
#ifndef KCORE_PROC_H
#define KCORE_PROC_H

#include <stdint.h>

#include "frame.h"

struct proc {
	uint32_t gen;
	uint8_t alive;
	uint32_t rights;	 /* enum pk_right bits, fixed at creation */
	uint32_t quota;		 /* frames it may own at once */
	struct frame_list owned; /* the frames it owns; owned.count is checked against quota */
	uint32_t endpoints_head; /* its endpoints, linked through endpoint.proc_next */
	uint32_t endpoints;	 /* how many */
	uint32_t irqs_head;	 /* interrupt lines it has attached, through irq_line.proc_next */
	uint32_t shares_head;	 /* its shares of shared frames, through share.proc_next */
	uint32_t held;		 /* deliveries of shared frames it has not released */
	uint32_t contexts_head;	 /* its contexts, linked through context.proc_next */
	uint32_t contexts;	 /* how many */
	uint32_t free_next;	 /* next free slot while !alive */
};

struct proc_table {
	struct proc *procs;
	uint32_t capacity;
	uint32_t alive;
	uint32_t free_head;
};

/* Whether the process may take no further frame: owned and shared count alike. */
static inline int proc_at_quota(const struct proc *p)
{
	return (uint64_t)p->owned.count + p->held >= p->quota;
}

void proc_table_init(struct proc_table *table, struct proc *procs, uint32_t capacity);

static inline pk_proc_t proc_handle(const struct proc_table *table, uint32_t index)
{
	return PK_HANDLE_MAKE(PK_HANDLE_PROC, table->procs[index].gen, index);
}

/* The index of the live process `handle` names, or -PK_EBADHANDLE. */
int proc_resolve(const struct proc_table *table, pk_handle_t handle, uint32_t *ret_index);

int proc_create(struct kernel *k, uint32_t rights, uint32_t quota, uint32_t *ret_index);
void proc_destroy(struct kernel *k, uint32_t index);

#endif
