/* Frames: the pool of page frames every packet lives in, and the lists that hold them.
 *
 * Each frame is in exactly one list at a time: the pool's free list, one process's owned
 * list, one endpoint's receive queue, or the pool's shared list. Lists are intrusive (links
 * live in the frame) and doubly linked, so every move is O(1) and a whole list moves by
 * splicing. A shared frame is read-only and counts its references (ring slots of groups
 * and the clock, shares processes hold); it goes back to the free list with the last. */
#ifndef KCORE_FRAME_H
#define KCORE_FRAME_H

#include <stdint.h>

#include "kbase.h"

enum frame_state {
	FRAME_FREE = 0,
	FRAME_OWNED = 1,  /* holder is a process */
	FRAME_QUEUED = 2, /* holder is an endpoint */
	FRAME_SHARED = 3, /* read-only, reference-counted: a clock tick or a multicast packet */
};

struct frame {
	uint32_t next, prev; /* links in the list that holds the frame; KNIL at the ends */
	uint32_t holder;     /* process index (OWNED) or endpoint index (QUEUED) */
	uint32_t holder_gen; /* the holder's generation: once it changes, the frame is free */
	uint32_t gen;	     /* bumped whenever the frame changes hands, so old handles fail */
	uint32_t audit_mark; /* kernel_audit's visit stamp */
	uint32_t refs;	     /* SHARED: ring slots and share records that name it */
	uint16_t length;     /* bytes of packet in the frame */
	uint8_t state;	     /* enum frame_state, as last written; see frame_is_free */
	uint8_t kmsg;	     /* enum pk_kmsg_type while it holds a message the kernel wrote */
};

struct frame_list {
	uint32_t head, tail;
	uint32_t count;
};

struct frame_pool {
	struct frame *frames;
	uint8_t *memory; /* count * PK_FRAME_SIZE bytes */
	uint32_t count;
	struct frame_list free;
	uint32_t owned;		  /* frames in owned lists of live processes */
	uint32_t queued;	  /* frames in queues of live endpoints */
	struct frame_list shared; /* every shared frame */
	uint32_t audit_epoch;
};

void frame_pool_init(struct frame_pool *pool, struct frame *frames, void *memory, uint32_t count);

static inline uint8_t *frame_bytes(const struct frame_pool *pool, uint32_t index)
{
	return pool->memory + (uint64_t)index * PK_FRAME_SIZE;
}

static inline pk_frame_t frame_handle(const struct frame_pool *pool, uint32_t index)
{
	return PK_HANDLE_MAKE(PK_HANDLE_FRAME, pool->frames[index].gen, index);
}

/* The handle a process holding a share of shared frame `index` knows it by. */
static inline pk_frame_t frame_share_handle(const struct frame_pool *pool, uint32_t index)
{
	return PK_HANDLE_MAKE(PK_HANDLE_SHARE, pool->frames[index].gen, index);
}

static inline void frame_list_init(struct frame_list *list)
{
	list->head = list->tail = KNIL;
	list->count = 0;
}

void frame_list_push_head(struct frame_pool *pool, struct frame_list *list, uint32_t index);
void frame_list_push_tail(struct frame_pool *pool, struct frame_list *list, uint32_t index);
uint32_t frame_list_pop_head(struct frame_pool *pool, struct frame_list *list);
void frame_list_remove(struct frame_pool *pool, struct frame_list *list, uint32_t index);

/* Moves every frame of `from` to the tail of `to` in O(1), leaving `from` empty. The
 * frames keep their state fields; see frame_is_free. */
void frame_list_splice(struct frame_pool *pool, struct frame_list *to, struct frame_list *from);

/* Hands frame `index` to a new holder: new state, holder and generation. */
void frame_set_holder(struct frame_pool *pool, uint32_t index, enum frame_state state,
		      uint32_t holder, uint32_t holder_gen);

/* Frames reclaimed by splicing keep the state of their last holder; such a frame is free
 * because that holder is gone. This is how a process or endpoint is torn down in O(1). */
int frame_is_free(const struct kernel *k, uint32_t index);

/* The pool index of frame `handle` if process `proc` owns it now: 0, -PK_EBADHANDLE (not
 * a current frame or share handle), -PK_ESHARED (a share `proc` holds: it may read the
 * frame, never write or send it) or -PK_ENOTOWNER. */
int frame_resolve_owned(const struct kernel *k, uint32_t proc, uint64_t handle,
			uint64_t *ret_index);

/* Frame `index`, in no list now, becomes shared with no references yet: the caller adds
 * the first (frame_ref) before it leaves the kernel. Its generation moves on, so handles
 * of its last holding fail. */
void frame_share(struct frame_pool *pool, uint32_t index);
void frame_ref(struct frame_pool *pool, uint32_t index);
/* Drops a reference; the last one frees the frame. */
void frame_unref(struct frame_pool *pool, uint32_t index);

/* Takes the head of the free list, zeroed, for a packet the kernel writes itself (an
 * interrupt, a tick); KNIL if the pool is empty. The frame is in no list afterwards. */
uint32_t frame_take_free(struct frame_pool *pool);

/* Kernel calls: allocate a zeroed frame for `proc`, free one it owns. */
int frame_alloc(struct kernel *k, uint32_t proc, uint32_t *ret_index);
void frame_free(struct kernel *k, uint32_t proc, uint32_t index);

#endif
