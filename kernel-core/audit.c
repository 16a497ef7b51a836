/* kernel_audit: a full walk of the kernel's state that checks every invariant the O(1)
 * paths rely on but never look at. Each frame is stamped as its list is walked; a frame
 * stamped twice sits in two places, a frame never stamped has leaked out of every list.
 * Shared frames are then counted again, by the ring slots and shares that name them, to
 * check each one's reference count. */
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
		AUDIT_CHECK(
			state == FRAME_FREE || state == FRAME_OWNED ||
				(f->length >= PK_IPV6_HEADER_SIZE && f->length <= PK_FRAME_SIZE),
			"a queued or shared frame has an impossible packet length");
		AUDIT_CHECK(state != FRAME_SHARED || f->refs > 0,
			    "a shared frame nobody refers to was not freed");
		prev = i;
	}
	AUDIT_CHECK(seen == list->count, "a list is shorter than its count");
	AUDIT_CHECK(list->tail == prev, "a list's tail is not its last frame");
	return 0;
}

/* An endpoint's memberships: well linked, its own, each group once, within the limits. */
static int audit_memberships(const struct kernel *k, uint32_t index, const char **ret_why)
{
	const struct endpoint *e = &k->endpoints.endpoints[index];
	const struct group_table *t = &k->groups;
	uint32_t count = 0, multicast = 0, prev = KNIL;
	for (uint32_t i = e->members_head; i != KNIL; i = t->members[i].endpoint_next) {
		AUDIT_CHECK(i < t->member_capacity, "a membership link points outside the table");
		const struct member *m = &t->members[i];
		AUDIT_CHECK(m->group < t->capacity && m->endpoint == index,
			    "an endpoint lists a membership that is not its own");
		AUDIT_CHECK(m->endpoint_prev == prev, "a membership list's back link is wrong");
		AUDIT_CHECK(++count <= t->groups_per_endpoint + 2,
			    "an endpoint has more memberships than it can have, or a cycle");
		for (uint32_t j = e->members_head; j != i; j = t->members[j].endpoint_next)
			AUDIT_CHECK(t->members[j].group != m->group,
				    "an endpoint is a member of one group twice");
		multicast += t->groups[m->group].kind == GROUP_MULTICAST;
		prev = i;
	}
	AUDIT_CHECK(e->members_tail == prev, "a membership list's tail is not its last");
	AUDIT_CHECK(multicast == e->groups && e->groups <= t->groups_per_endpoint,
		    "an endpoint's group count is wrong or over its limit");
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
	if (audit_memberships(k, index, ret_why) < 0)
		return -1;
	*queued += e->queue.count;
	return audit_list(k, &e->queue, FRAME_QUEUED, index, e->gen, ret_why);
}

/* A process's shares: well linked, its own, found by the hash, holds adding up. */
static int audit_shares(const struct kernel *k, uint32_t index, uint32_t *shares,
			const char **ret_why)
{
	const struct proc *p = &k->procs.procs[index];
	const struct share_table *t = &k->shares;
	uint64_t holds = 0;
	uint32_t prev = KNIL, count = 0;
	for (uint32_t i = p->shares_head; i != KNIL; i = t->shares[i].proc_next) {
		AUDIT_CHECK(i < t->capacity, "a share link points outside the table");
		const struct share *sh = &t->shares[i];
		AUDIT_CHECK(sh->proc == index && sh->holds > 0,
			    "a process lists a share that is not its own or holds nothing");
		AUDIT_CHECK(sh->proc_prev == prev, "a share list's back link is wrong");
		AUDIT_CHECK(++count <= t->alive, "a share list has a cycle");
		AUDIT_CHECK(sh->frame < k->frames.count &&
				    k->frames.frames[sh->frame].state == FRAME_SHARED,
			    "a share names a frame that is not shared");
		AUDIT_CHECK(share_lookup(t, index, sh->frame) == i,
			    "a share is not found by its process and frame");
		holds += sh->holds;
		prev = i;
	}
	AUDIT_CHECK(holds == p->held, "a process's count of held shares is wrong");
	*shares += count;
	return 0;
}

/* The process's contexts: its list, its count, and bindings to live endpoints of its own
 * (or stale ones, which name an endpoint that has died since: context.h). */
static int audit_contexts(const struct kernel *k, uint32_t index, uint32_t *contexts,
			  const char **ret_why)
{
	const struct proc *p = &k->procs.procs[index];
	AUDIT_CHECK(p->contexts <= k->contexts_per_proc, "a process is over its context limit");
	uint32_t count = 0, prev = KNIL;
	for (uint32_t c = p->contexts_head; c != KNIL; c = k->contexts.contexts[c].proc_next) {
		AUDIT_CHECK(c < k->contexts.capacity, "a context link points outside the table");
		const struct context *ctx = &k->contexts.contexts[c];
		AUDIT_CHECK(ctx->alive && ctx->proc == index,
			    "a process lists a context it does not hold");
		AUDIT_CHECK(ctx->proc_prev == prev, "a context list's back link is wrong");
		AUDIT_CHECK(++count <= p->contexts, "a process has more contexts than counted");
		for (unsigned slot = 0; slot < PK_CONTEXT_BINDINGS; slot++) {
			uint32_t e = ctx->endpoint[slot];
			if (e == KNIL)
				continue;
			AUDIT_CHECK(e < k->endpoints.capacity,
				    "a binding points outside the endpoint table");
			const struct endpoint *ep = &k->endpoints.endpoints[e];
			AUDIT_CHECK(!ep->alive || ep->gen != ctx->endpoint_gen[slot] ||
					    ep->proc == index,
				    "a context is bound to another process's endpoint");
			for (unsigned other = 0; other < slot; other++)
				AUDIT_CHECK(ctx->endpoint[other] != e ||
						    ctx->endpoint_gen[other] !=
							    ctx->endpoint_gen[slot],
					    "a context is bound twice to one endpoint");
		}
		prev = c;
	}
	AUDIT_CHECK(count == p->contexts, "a process has fewer contexts than counted");
	*contexts += count;
	return 0;
}

static int audit_proc(struct kernel *k, uint32_t index, uint32_t *owned, uint32_t *queued,
		      uint32_t *irq_lines, uint32_t *shares, uint32_t *contexts,
		      const char **ret_why)
{
	const struct proc *p = &k->procs.procs[index];
	AUDIT_CHECK((uint64_t)p->owned.count + p->held <= p->quota,
		    "a process owns and holds more frames than its quota");
	if (audit_shares(k, index, shares, ret_why) < 0)
		return -1;
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
	return audit_contexts(k, index, contexts, ret_why);
}

/* One group: its kind and place, its ring against its head, its waiters. */
static int audit_group(const struct kernel *k, uint32_t index, const char **ret_why)
{
	const struct group_table *t = &k->groups;
	const struct group *g = &t->groups[index];
	enum group_kind kind = index == GROUP_CLOCK_INDEX    ? GROUP_CLOCK
			       : index == GROUP_EGRESS_INDEX ? GROUP_EGRESS
							     : GROUP_MULTICAST;
	AUDIT_CHECK(g->kind == kind, "a group has the wrong kind for its place");
	AUDIT_CHECK(kind != GROUP_MULTICAST || !g->alive ||
			    (g->members > 0 && g->members <= t->group_members &&
			     g->address[0] >> 56 == 0xff && group_lookup(t, g->address) == index),
		    "a live multicast group has no members, too many, or is not found by its "
		    "multicast address");
	AUDIT_CHECK(g->alive || (g->members == 0 && g->waiters == KNIL),
		    "a free group has members");
	AUDIT_CHECK(g->members > 0 || g->head == 0, "a group without members keeps packets");
	for (uint32_t i = 0; i < g->depth; i++) {
		uint32_t f = g->ring[i];
		if (g->head < g->depth && i >= g->head) {
			AUDIT_CHECK(f == KNIL, "a ring slot nothing was put into holds a frame");
			continue;
		}
		AUDIT_CHECK(f != KNIL || kind == GROUP_CLOCK,
			    "a ring has a hole where only the clock may have one");
		AUDIT_CHECK(f == KNIL || (f < k->frames.count &&
					  k->frames.frames[f].state == FRAME_SHARED),
			    "a ring slot names a frame that is not shared");
	}
	uint32_t waiters = 0, prev = KNIL;
	for (uint32_t i = g->waiters; i != KNIL; i = t->members[i].wait_next) {
		AUDIT_CHECK(i < t->member_capacity, "a waiter link points outside the table");
		const struct member *m = &t->members[i];
		AUDIT_CHECK(m->group == index && m->waiting,
			    "a group's waiter is not a waiting member of it");
		AUDIT_CHECK(m->wait_prev == prev, "a waiter list's back link is wrong");
		AUDIT_CHECK(++waiters <= g->members, "a group has more waiters than members");
		prev = i;
	}
	return 0;
}

/* Every group and membership, and the counts that sum them up. */
static int audit_groups(const struct kernel *k, const char **ret_why)
{
	const struct group_table *t = &k->groups;
	uint32_t alive = 0;
	uint64_t multicast_members = 0;
	for (uint32_t g = 0; g < t->capacity; g++) {
		if (audit_group(k, g, ret_why) < 0)
			return -1;
		if (g >= GROUP_FIRST_INDEX && t->groups[g].alive) {
			alive++;
			multicast_members += t->groups[g].members;
		}
	}
	AUDIT_CHECK(alive == t->alive, "the live-group count is wrong");
	AUDIT_CHECK(t->groups[GROUP_CLOCK_INDEX].alive && t->groups[GROUP_EGRESS_INDEX].alive,
		    "the clock's or the egress's group is gone");

	uint32_t by_kind[3] = {0, 0, 0}, waiting = 0, free_records = 0;
	for (uint32_t i = 0; i < t->member_capacity; i++) {
		const struct member *m = &t->members[i];
		if (m->group == KNIL)
			continue;
		AUDIT_CHECK(m->group < t->capacity && t->groups[m->group].alive,
			    "a membership names a group that is gone");
		AUDIT_CHECK(m->endpoint < k->endpoints.capacity &&
				    k->endpoints.endpoints[m->endpoint].alive,
			    "a membership names an endpoint that is gone");
		AUDIT_CHECK(m->next <= t->groups[m->group].head,
			    "a member reads past its group's head");
		by_kind[t->groups[m->group].kind]++;
		waiting += m->waiting;
	}
	uint32_t waiters = 0;
	for (uint32_t g = 0; g < t->capacity; g++)
		for (uint32_t i = t->groups[g].waiters; i != KNIL; i = t->members[i].wait_next)
			waiters++;
	AUDIT_CHECK(waiting == waiters, "a waiting member is in no waiter list");
	for (uint32_t i = t->member_free; i != KNIL; i = t->members[i].endpoint_next) {
		AUDIT_CHECK(i < t->member_capacity && t->members[i].group == KNIL,
			    "the free-membership list holds a membership in use");
		AUDIT_CHECK(++free_records <= t->member_capacity,
			    "the free-membership list has a cycle");
	}
	AUDIT_CHECK(by_kind[GROUP_MULTICAST] + by_kind[GROUP_CLOCK] + by_kind[GROUP_EGRESS] +
				    free_records ==
			    t->member_capacity,
		    "a membership record is neither in use nor free");
	AUDIT_CHECK(by_kind[GROUP_MULTICAST] == t->memberships &&
			    multicast_members == t->memberships &&
			    t->memberships <= t->max_memberships,
		    "the multicast membership counts disagree or are over the limit");
	AUDIT_CHECK(by_kind[GROUP_CLOCK] == t->subscribers &&
			    t->groups[GROUP_CLOCK_INDEX].members == t->subscribers &&
			    t->subscribers <= t->tick_subscribers,
		    "the clock's subscriber counts disagree or are over the limit");
	uint32_t route = k->kan.default_route;
	AUDIT_CHECK(by_kind[GROUP_EGRESS] == t->groups[GROUP_EGRESS_INDEX].members &&
			    (route == KNIL ? by_kind[GROUP_EGRESS] == 0
					   : by_kind[GROUP_EGRESS] == 1 &&
						     group_member_find(k, route,
								       GROUP_EGRESS_INDEX) != KNIL),
		    "the egress is not read by exactly the default route");
	return 0;
}

/* Each shared frame's reference count against the ring slots and shares that name it,
 * counted in its audit stamp, which is set back to the epoch afterwards. */
static int audit_references(struct kernel *k, const char **ret_why)
{
	struct frame_pool *pool = &k->frames;
	for (uint32_t f = pool->shared.head; f != KNIL; f = pool->frames[f].next)
		pool->frames[f].audit_mark = 0;
	const struct group_table *t = &k->groups;
	for (uint32_t g = 0; g < t->capacity; g++)
		for (uint32_t i = 0; i < t->groups[g].depth; i++)
			if (t->groups[g].ring[i] != KNIL)
				pool->frames[t->groups[g].ring[i]].audit_mark++;
	uint32_t records = 0;
	for (uint32_t i = 0; i < k->shares.capacity; i++) {
		const struct share *sh = &k->shares.shares[i];
		if (sh->frame == KNIL)
			continue;
		AUDIT_CHECK(sh->proc < k->procs.capacity && k->procs.procs[sh->proc].alive,
			    "a share is held by a dead process");
		AUDIT_CHECK(sh->frame < pool->count &&
				    pool->frames[sh->frame].state == FRAME_SHARED,
			    "a share names a frame that is not shared");
		pool->frames[sh->frame].audit_mark++;
		records++;
	}
	AUDIT_CHECK(records == k->shares.alive, "the live-share count is wrong");
	for (uint32_t f = pool->shared.head; f != KNIL; f = pool->frames[f].next) {
		AUDIT_CHECK(pool->frames[f].audit_mark == pool->frames[f].refs,
			    "a shared frame's reference count is wrong");
		pool->frames[f].audit_mark = pool->audit_epoch;
	}

	uint32_t hashed = 0;
	for (uint32_t b = 0; b <= k->shares.bucket_mask; b++)
		for (uint32_t i = k->shares.buckets[b]; i != KNIL;
		     i = k->shares.shares[i].hash_next) {
			AUDIT_CHECK(i < k->shares.capacity && k->shares.shares[i].frame != KNIL,
				    "the share hash holds a free record");
			AUDIT_CHECK(++hashed <= k->shares.alive, "the share hash has a cycle");
		}
	AUDIT_CHECK(hashed == k->shares.alive, "the share hash misses a live share");
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
	if (audit_list(k, &pool->shared, FRAME_SHARED, KNIL, 0, ret_why) < 0)
		return -1;

	uint32_t owned = 0, queued = 0, procs = 0, endpoints = 0, irq_lines = 0, shares = 0,
		 contexts = 0;
	for (uint32_t i = 0; i < k->procs.capacity; i++) {
		if (!k->procs.procs[i].alive)
			continue;
		procs++;
		endpoints += k->procs.procs[i].endpoints;
		if (audit_proc(k, i, &owned, &queued, &irq_lines, &shares, &contexts, ret_why) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < pool->count; i++)
		AUDIT_CHECK(pool->frames[i].audit_mark == pool->audit_epoch,
			    "a frame is in no list: it has leaked");

	AUDIT_CHECK(owned == pool->owned, "the owned-frame count is wrong");
	AUDIT_CHECK(queued == pool->queued, "the queued-frame count is wrong");
	AUDIT_CHECK(pool->free.count + pool->owned + pool->queued + pool->shared.count ==
			    pool->count,
		    "frames are not conserved: free + owned + queued + shared != pool size");
	AUDIT_CHECK(shares == k->shares.alive, "a live share is in no process's list");
	/* Groups first: they check the ring slots name shared frames before those are counted. */
	if (audit_groups(k, ret_why) < 0 || audit_references(k, ret_why) < 0)
		return -1;
	AUDIT_CHECK(procs == k->procs.alive, "the live-process count is wrong");
	AUDIT_CHECK(contexts == k->contexts.alive,
		    "a live context is in no process's list, or the count is wrong");
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
