/* kernel_audit: a full walk of the kernel's state that checks every invariant the O(1)
 * paths rely on but never look at. Each frame is stamped as its list is walked; a frame
 * stamped twice sits in two places, a frame never stamped has leaked out of every list. */
#include <packos/errors.h>

#include "kstate.h"

#define AUDIT_CHECK(cond, why)            \
	do {                              \
		if (!(cond)) {            \
			*ret_why = (why); \
			return -1;        \
		}                         \
	} while (0)

/* Walks one list: links agree both ways, the count is right, every frame is where its
 * state says (or free, for the free list), and none was seen before. */
static int audit_list(struct kernel *k, const struct frame_list *list, enum frame_state state,
		      uint32_t holder, uint32_t holder_gen, const char **ret_why)
{
	struct frame_pool *pool = &k->frames;
	uint32_t seen = 0, prev = KNIL;
	for (uint32_t i = list->head; i != KNIL; i = pool->frames[i].next) {
		AUDIT_CHECK(i < pool->count, "a list link points outside the pool");
		struct frame *f = &pool->frames[i];
		AUDIT_CHECK(f->audit_mark != pool->audit_epoch, "a frame is in two lists at once");
		f->audit_mark = pool->audit_epoch;
		AUDIT_CHECK(f->prev == prev, "a list's back link disagrees with its forward link");
		AUDIT_CHECK(++seen <= list->count, "a list is longer than its count");
		if (state == FRAME_FREE)
			AUDIT_CHECK(frame_is_free(k, i),
				    "the free list holds a frame that is not free");
		else
			AUDIT_CHECK(f->state == state && f->holder == holder &&
					    f->holder_gen == holder_gen,
				    "a frame's state does not name the list it is in");
		AUDIT_CHECK(state != FRAME_QUEUED || (f->length >= PK_IPV6_HEADER_SIZE &&
						      f->length <= PK_FRAME_SIZE),
			    "a queued frame has an impossible packet length");
		prev = i;
	}
	AUDIT_CHECK(seen == list->count, "a list is shorter than its count");
	AUDIT_CHECK(list->tail == prev, "a list's tail is not its last frame");
	return 0;
}

static int audit_endpoint(struct kernel *k, uint32_t index, uint32_t *queued, const char **ret_why)
{
	const struct endpoint *e = &k->endpoints.endpoints[index];
	AUDIT_CHECK(e->proc < k->procs.capacity && k->procs.procs[e->proc].alive,
		    "a live endpoint belongs to a dead process");
	AUDIT_CHECK(endpoint_lookup(&k->endpoints, e->iid) == index,
		    "a live endpoint is not found by its address");
	AUDIT_CHECK(e->queue.count <= k->kan.queue_limit, "a queue is over its limit");
	*queued += e->queue.count;
	return audit_list(k, &e->queue, FRAME_QUEUED, index, e->gen, ret_why);
}

static int audit_proc(struct kernel *k, uint32_t index, uint32_t *owned, uint32_t *queued,
		      uint32_t *irq_lines, const char **ret_why)
{
	const struct proc *p = &k->procs.procs[index];
	AUDIT_CHECK(p->owned.count <= p->quota, "a process owns more frames than its quota");
	AUDIT_CHECK(p->endpoints <= k->endpoints_per_proc, "a process is over its endpoint limit");
	*owned += p->owned.count;
	if (audit_list(k, &p->owned, FRAME_OWNED, index, p->gen, ret_why) < 0)
		return -1;

	uint32_t endpoints = 0, prev = KNIL;
	for (uint32_t e = p->endpoints_head; e != KNIL; e = k->endpoints.endpoints[e].proc_next) {
		AUDIT_CHECK(e < k->endpoints.capacity, "an endpoint link points outside the table");
		const struct endpoint *ep = &k->endpoints.endpoints[e];
		AUDIT_CHECK(ep->alive && ep->proc == index,
			    "a process lists an endpoint it does not hold");
		AUDIT_CHECK(ep->proc_prev == prev, "an endpoint list's back link is wrong");
		AUDIT_CHECK(++endpoints <= p->endpoints,
			    "a process has more endpoints than counted");
		if (audit_endpoint(k, e, queued, ret_why) < 0)
			return -1;
		prev = e;
	}
	AUDIT_CHECK(endpoints == p->endpoints, "a process has fewer endpoints than counted");

	/* Bounded by the number of lines: a list longer than that has a cycle. */
	uint32_t lines = 0;
	prev = KNIL;
	for (uint32_t l = p->irqs_head; l != KNIL; l = k->irqs.lines[l].proc_next) {
		AUDIT_CHECK(l < k->irqs.count, "an interrupt-line link points outside the table");
		const struct irq_line *line = &k->irqs.lines[l];
		AUDIT_CHECK(line->attached && line->proc == index,
			    "a process lists an interrupt line it has not attached");
		AUDIT_CHECK(line->proc_prev == prev, "an interrupt-line list's back link is wrong");
		AUDIT_CHECK(++lines <= k->irqs.attached, "an interrupt-line list has a cycle");
		prev = l;
	}
	*irq_lines += lines;
	return 0;
}

int kernel_audit(struct kernel *k, const char **ret_why)
{
	struct frame_pool *pool = &k->frames;
	pool->audit_epoch++;
	if (pool->audit_epoch == 0) {
		/* Stamps from 2^32 audits ago would look fresh; start the stamps over. */
		for (uint32_t i = 0; i < pool->count; i++)
			pool->frames[i].audit_mark = 0;
		pool->audit_epoch = 1;
	}

	if (audit_list(k, &pool->free, FRAME_FREE, KNIL, 0, ret_why) < 0)
		return -1;

	uint32_t owned = 0, queued = 0, procs = 0, endpoints = 0, irq_lines = 0;
	for (uint32_t i = 0; i < k->procs.capacity; i++) {
		if (!k->procs.procs[i].alive)
			continue;
		procs++;
		endpoints += k->procs.procs[i].endpoints;
		if (audit_proc(k, i, &owned, &queued, &irq_lines, ret_why) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < pool->count; i++)
		AUDIT_CHECK(pool->frames[i].audit_mark == pool->audit_epoch,
			    "a frame is in no list: it has leaked");

	AUDIT_CHECK(owned == pool->owned, "the owned-frame count is wrong");
	AUDIT_CHECK(queued == pool->queued, "the queued-frame count is wrong");
	AUDIT_CHECK(pool->free.count + pool->owned + pool->queued + pool->shared == pool->count,
		    "frames are not conserved: free + owned + queued + shared != pool size");
	AUDIT_CHECK(procs == k->procs.alive, "the live-process count is wrong");
	AUDIT_CHECK(irq_lines == k->irqs.attached,
		    "an attached interrupt line is in no process's list, or the count is wrong");

	uint32_t hashed = 0;
	for (uint32_t b = 0; b <= k->endpoints.bucket_mask; b++)
		for (uint32_t e = k->endpoints.buckets[b]; e != KNIL;
		     e = k->endpoints.endpoints[e].hash_next) {
			AUDIT_CHECK(e < k->endpoints.capacity && k->endpoints.endpoints[e].alive,
				    "the address hash holds an endpoint that is gone");
			AUDIT_CHECK(++hashed <= k->endpoints.alive, "the address hash has a cycle");
		}
	AUDIT_CHECK(hashed == k->endpoints.alive, "the address hash misses a live endpoint");
	AUDIT_CHECK(endpoints == k->endpoints.alive, "the live-endpoint count is wrong");

	uint32_t route = k->kan.default_route;
	AUDIT_CHECK(route == KNIL ||
			    (route < k->endpoints.capacity && k->endpoints.endpoints[route].alive &&
			     (k->procs.procs[k->endpoints.endpoints[route].proc].rights &
			      PK_RIGHT_ROUTER)),
		    "the default route names an endpoint that is gone or not a router's");
	return 0;
}
