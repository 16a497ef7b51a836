/* Frames: the page-frame pool, its intrusive lists, and the frame_alloc and frame_free
 * kernel calls.
 *
 * A frame's place is its list: the free list, a process's owned list, an endpoint's queue,
 * or the shared list. The pool counts frames per place, so conservation (free + owned +
 * queued + shared = count) is a sum, and kernel_audit checks the lists against the counts.
 *
 * A shared frame belongs to no one: the ring slots and shares that name it are counted in
 * it, and the last one to let go puts it back on the free list (frame_unref). Nothing
 * may write it, so the kernel hands it out only read-only (share.c).
 *
 * Tearing down a process or an endpoint splices its list onto the free list without
 * touching the frames. Their state fields still name the old holder; since that holder's
 * generation has moved on, frame_is_free sees them as free, and frame_alloc rewrites the
 * state when it hands one out. So teardown costs the same for one frame or ten thousand. */
#include "frame.h"

#include <packos/errors.h>

#include "kstate.h"

void frame_pool_init(struct frame_pool *pool, struct frame *frames, void *memory, uint32_t count)
{
	pool->frames = frames;
	pool->memory = memory;
	pool->count = count;
	pool->owned = pool->queued = 0;
	pool->audit_epoch = 0;
	frame_list_init(&pool->free);
	frame_list_init(&pool->shared);
	for (uint32_t i = 0; i < count; i++) {
		struct frame *f = &frames[i];
		f->holder = KNIL;
		f->holder_gen = 0;
		f->gen = 1;
		f->audit_mark = 0;
		f->refs = 0;
		f->length = 0;
		f->state = FRAME_FREE;
		frame_list_push_tail(pool, &pool->free, i);
	}
}

void frame_list_push_head(struct frame_pool *pool, struct frame_list *list, uint32_t index)
{
	struct frame *f = &pool->frames[index];
	f->prev = KNIL;
	f->next = list->head;
	if (list->head != KNIL)
		pool->frames[list->head].prev = index;
	else
		list->tail = index;
	list->head = index;
	list->count++;
}

void frame_list_push_tail(struct frame_pool *pool, struct frame_list *list, uint32_t index)
{
	struct frame *f = &pool->frames[index];
	f->next = KNIL;
	f->prev = list->tail;
	if (list->tail != KNIL)
		pool->frames[list->tail].next = index;
	else
		list->head = index;
	list->tail = index;
	list->count++;
}

uint32_t frame_list_pop_head(struct frame_pool *pool, struct frame_list *list)
{
	uint32_t index = list->head;
	if (index != KNIL)
		frame_list_remove(pool, list, index);
	return index;
}

void frame_list_remove(struct frame_pool *pool, struct frame_list *list, uint32_t index)
{
	struct frame *f = &pool->frames[index];
	if (f->prev != KNIL)
		pool->frames[f->prev].next = f->next;
	else
		list->head = f->next;
	if (f->next != KNIL)
		pool->frames[f->next].prev = f->prev;
	else
		list->tail = f->prev;
	f->next = f->prev = KNIL;
	list->count--;
}

void frame_list_splice(struct frame_pool *pool, struct frame_list *to, struct frame_list *from)
{
	if (from->head == KNIL)
		return;
	if (to->tail != KNIL) {
		pool->frames[to->tail].next = from->head;
		pool->frames[from->head].prev = to->tail;
	} else {
		to->head = from->head;
	}
	to->tail = from->tail;
	to->count += from->count;
	frame_list_init(from);
}

void frame_set_holder(struct frame_pool *pool, uint32_t index, enum frame_state state,
		      uint32_t holder, uint32_t holder_gen)
{
	struct frame *f = &pool->frames[index];
	f->state = (uint8_t)state;
	f->holder = holder;
	f->holder_gen = holder_gen;
	f->gen = kgen_next(f->gen);
}

int frame_is_free(const struct kernel *k, uint32_t index)
{
	const struct frame *f = &k->frames.frames[index];
	switch (f->state) {
	case FRAME_OWNED: {
		const struct proc *p = &k->procs.procs[f->holder];
		return !(p->alive && p->gen == f->holder_gen);
	}
	case FRAME_QUEUED: {
		const struct endpoint *e = &k->endpoints.endpoints[f->holder];
		return !(e->alive && e->gen == f->holder_gen);
	}
	case FRAME_SHARED:
		return 0;
	default:
		return 1;
	}
}

int frame_resolve_owned(const struct kernel *k, uint32_t proc, uint64_t handle, uint64_t *ret_index)
{
	if (PK_HANDLE_KIND(handle) == PK_HANDLE_SHARE) {
		uint64_t shared;
		int err = share_resolve(k, proc, handle, &shared);
		return err < 0 ? err : -PK_ESHARED;
	}
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_FRAME || index >= k->frames.count)
		return -PK_EBADHANDLE;
	const struct frame *f = &k->frames.frames[index];
	if (f->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	if (f->state != FRAME_OWNED || f->holder != proc ||
	    f->holder_gen != k->procs.procs[proc].gen)
		return -PK_ENOTOWNER;
	*ret_index = index;
	return 0;
}

int frame_alloc(struct kernel *k, uint32_t proc, uint32_t *ret_index)
{
	struct frame_pool *pool = &k->frames;
	struct proc *p = &k->procs.procs[proc];

	if (proc_at_quota(p))
		return -PK_EQUOTA;
	uint32_t index = pool->free.head;
	if (index == KNIL)
		return -PK_ENOMEM;
	int err = k->port.ops->po_frame_grant(k->port.ctx, proc_handle(&k->procs, proc), index, 1);
	KASSERT(k, err == 0 || err == -PK_ENOMEM, "po_frame_grant returns 0 or -PK_ENOMEM");
	if (err < 0)
		return err;

	frame_list_remove(pool, &pool->free, index);
	frame_set_holder(pool, index, FRAME_OWNED, proc, p->gen);
	frame_list_push_tail(pool, &p->owned, index);
	pool->owned++;
	pool->frames[index].length = 0;
	pool->frames[index].kmsg = 0;
	/* A frame still holds its last owner's bytes; no process may read another's. */
	kbytes_zero(frame_bytes(pool, index), PK_FRAME_SIZE);
	*ret_index = index;
	return 0;
}

uint32_t frame_take_free(struct frame_pool *pool)
{
	uint32_t index = frame_list_pop_head(pool, &pool->free);
	/* The frame still holds its last owner's bytes; its next reader must not see them. */
	if (index != KNIL) {
		kbytes_zero(frame_bytes(pool, index), PK_FRAME_SIZE);
		pool->frames[index].kmsg = 0;
	}
	return index;
}

void frame_free(struct kernel *k, uint32_t proc, uint32_t index)
{
	struct frame_pool *pool = &k->frames;
	struct proc *p = &k->procs.procs[proc];

	k->port.ops->po_frame_revoke(k->port.ctx, proc_handle(&k->procs, proc), index);
	frame_list_remove(pool, &p->owned, index);
	pool->owned--;
	frame_set_holder(pool, index, FRAME_FREE, KNIL, 0);
	frame_list_push_head(pool, &pool->free, index);
}

void frame_share(struct frame_pool *pool, uint32_t index)
{
	frame_set_holder(pool, index, FRAME_SHARED, KNIL, 0);
	pool->frames[index].refs = 0;
	frame_list_push_tail(pool, &pool->shared, index);
}

void frame_ref(struct frame_pool *pool, uint32_t index)
{
	pool->frames[index].refs++;
}

void frame_unref(struct frame_pool *pool, uint32_t index)
{
	if (--pool->frames[index].refs > 0)
		return;
	frame_list_remove(pool, &pool->shared, index);
	frame_set_holder(pool, index, FRAME_FREE, KNIL, 0);
	frame_list_push_head(pool, &pool->free, index);
}
