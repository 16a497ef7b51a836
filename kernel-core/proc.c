/* Processes: the process table, creation, and teardown that reclaims everything at once.
 * Invariant: a live process's owned list holds exactly the frames it owns, its share list
 * exactly the shares it holds, both together never more than its quota, and its endpoint
 * list exactly the endpoints it holds. */
#include "proc.h"

#include <packos/errors.h>

#include "kstate.h"

void proc_table_init(struct proc_table *table, struct proc *procs, uint32_t capacity)
{
	table->procs = procs;
	table->capacity = capacity;
	table->alive = 0;
	table->free_head = KNIL;
	/* Built backwards so slot 0 is handed out first, which keeps handles easy to read. */
	for (uint32_t i = capacity; i-- > 0;) {
		struct proc *p = &procs[i];
		p->gen = 1;
		p->alive = 0;
		p->rights = 0;
		p->quota = 0;
		frame_list_init(&p->owned);
		p->endpoints_head = KNIL;
		p->endpoints = 0;
		p->irqs_head = KNIL;
		p->shares_head = KNIL;
		p->held = 0;
		p->free_next = table->free_head;
		table->free_head = i;
	}
}

int proc_resolve(const struct proc_table *table, pk_handle_t handle, uint32_t *ret_index)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_PROC || index >= table->capacity)
		return -PK_EBADHANDLE;
	const struct proc *p = &table->procs[index];
	if (!p->alive || p->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	*ret_index = index;
	return 0;
}

int proc_create(struct kernel *k, uint32_t rights, uint32_t quota, uint32_t *ret_index)
{
	struct proc_table *table = &k->procs;
	uint32_t index = table->free_head;
	if (index == KNIL)
		return -PK_ENOSPC;

	struct proc *p = &table->procs[index];
	table->free_head = p->free_next;
	p->free_next = KNIL;
	p->alive = 1;
	p->rights = rights;
	p->quota = quota ? quota : k->default_quota;
	frame_list_init(&p->owned);
	p->endpoints_head = KNIL;
	p->endpoints = 0;
	p->irqs_head = KNIL;
	p->shares_head = KNIL;
	p->held = 0;
	p->contexts_head = KNIL;
	p->contexts = 0;
	table->alive++;
	*ret_index = index;
	return 0;
}

void proc_destroy(struct kernel *k, uint32_t index)
{
	struct proc_table *table = &k->procs;
	struct proc *p = &table->procs[index];

	/* Bounded by the per-process endpoint and context limits, the number of interrupt
	 * lines and the shares it holds (its quota); each endpoint reclaims its queue in O(1). */
	while (p->irqs_head != KNIL)
		irq_detach(k, p->irqs_head);
	while (p->contexts_head != KNIL)
		context_destroy(k, p->contexts_head);
	while (p->endpoints_head != KNIL)
		endpoint_destroy(k, p->endpoints_head);
	share_release_all(k, index);

	k->frames.owned -= p->owned.count;
	frame_list_splice(&k->frames, &k->frames.free, &p->owned);

	p->alive = 0;
	p->gen = kgen_next(p->gen);
	p->free_next = table->free_head;
	table->free_head = index;
	table->alive--;
}
