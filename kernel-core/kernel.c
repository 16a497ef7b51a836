/* The kernel as a whole: configuration, laying the tables out in the port's arena, and the
 * entry points a port uses besides kernel calls. The arena is the kernel's only memory; its
 * size follows from the configuration, so the kernel never allocates after kernel_init. */
#include <stdalign.h>

#include "kstate.h"

/* Caps that keep every size computation below far from overflow and every index below KNIL. */
#define MAX_FRAMES    (1u << 24)
#define MAX_PROCS     (1u << 20)
#define MAX_ENDPOINTS (1u << 22)
#define MAX_IRQ_LINES 1024u
#define MAX_SHARES    (1u << 22)
#define MAX_GROUPS    (1u << 16)
#define MAX_DEPTH     (1u << 12)
#define MAX_MEMBERS   (1u << 22) /* memberships, and clock subscribers */
#define MAX_CONTEXTS  (1u << 22)

void kernel_config_default(struct kernel_config *cfg)
{
	static const uint8_t prefix[PK_KAN_PREFIX_SIZE] = PK_KAN_DEFAULT_PREFIX;
	kbytes_zero(cfg, sizeof *cfg);
	cfg->frame_count = 8192; /* 32 MiB */
	cfg->max_procs = 256;
	cfg->max_endpoints = 1024;
	cfg->endpoints_per_proc = 16;
	cfg->default_quota = 1024;
	cfg->queue_limit = 256;
	cfg->irq_lines = 16;
	cfg->hash_seed = 0x9e3779b97f4a7c15ull;
	kbytes_copy(cfg->kan_prefix, prefix, PK_KAN_PREFIX_SIZE);
	/* Small enough for the x86 port's fixed arena; the simulator may raise them. */
	cfg->max_shares = 512;
	cfg->max_groups = 16;
	cfg->group_members = 64;
	cfg->group_depth = 16;
	cfg->max_memberships = 128;
	cfg->groups_per_endpoint = 8;
	cfg->tick_subscribers = 64;
	cfg->tick_ns = 10000000; /* 100 Hz */
	cfg->max_contexts = 64;
	cfg->contexts_per_proc = 16;
}

static int kernel_config_valid(const struct kernel_config *cfg)
{
	return cfg->frame_memory != 0 && cfg->frame_count >= 1 && cfg->frame_count <= MAX_FRAMES &&
	       cfg->max_procs >= 1 && cfg->max_procs <= MAX_PROCS && cfg->max_endpoints >= 1 &&
	       cfg->max_endpoints <= MAX_ENDPOINTS && cfg->endpoints_per_proc >= 1 &&
	       cfg->default_quota >= 1 && cfg->queue_limit >= 1 &&
	       cfg->irq_lines <= MAX_IRQ_LINES &&
	       cfg->kan_prefix[0] != 0xff && /* a multicast prefix cannot be a link */
	       cfg->max_shares <= MAX_SHARES && cfg->max_groups <= MAX_GROUPS &&
	       cfg->group_depth >= 1 && cfg->group_depth <= MAX_DEPTH &&
	       cfg->max_memberships <= MAX_MEMBERS && cfg->tick_subscribers <= MAX_MEMBERS &&
	       cfg->tick_ns >= 1 && cfg->max_contexts <= MAX_CONTEXTS;
}

struct arena_layout {
	size_t frames, procs, endpoints, buckets, irq_lines, shares, share_buckets, groups,
		group_buckets, rings, members, contexts, size;
};

static size_t align_up(size_t n)
{
	return (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
}

static void arena_layout(const struct kernel_config *cfg, struct arena_layout *ret)
{
	size_t at = align_up(sizeof(struct kernel));
	ret->frames = at;
	at = align_up(at + (size_t)cfg->frame_count * sizeof(struct frame));
	ret->procs = at;
	at = align_up(at + (size_t)cfg->max_procs * sizeof(struct proc));
	ret->endpoints = at;
	at = align_up(at + (size_t)cfg->max_endpoints * sizeof(struct endpoint));
	ret->buckets = at;
	at = align_up(at + (size_t)kbucket_count(cfg->max_endpoints) * sizeof(uint32_t));
	ret->irq_lines = at;
	at = align_up(at + (size_t)cfg->irq_lines * sizeof(struct irq_line));
	ret->shares = at;
	at = align_up(at + (size_t)cfg->max_shares * sizeof(struct share));
	ret->share_buckets = at;
	at = align_up(at + (size_t)kbucket_count(cfg->max_shares) * sizeof(uint32_t));
	ret->groups = at;
	at = align_up(at + (size_t)group_capacity(cfg) * sizeof(struct group));
	ret->group_buckets = at;
	at = align_up(at + (size_t)kbucket_count(cfg->max_groups) * sizeof(uint32_t));
	ret->rings = at;
	at = align_up(at + (size_t)group_ring_slots(cfg) * sizeof(uint32_t));
	ret->members = at;
	at = align_up(at + (size_t)group_member_capacity(cfg) * sizeof(struct member));
	ret->contexts = at;
	at = align_up(at + (size_t)cfg->max_contexts * sizeof(struct context));
	ret->size = at;
}

size_t kernel_arena_size(const struct kernel_config *cfg)
{
	if (!kernel_config_valid(cfg))
		return 0;
	struct arena_layout layout;
	arena_layout(cfg, &layout);
	return layout.size;
}

static int kport_complete(const struct kport *port)
{
	const struct kport_ops *ops = port->ops;
	return ops && ops->po_wake && ops->po_frame_grant && ops->po_frame_revoke &&
	       ops->po_proc_faulted && ops->po_panic;
}

int kernel_init(const struct kernel_config *cfg, const struct kport *port, void *arena,
		size_t arena_size, struct kernel **ret_kernel)
{
	size_t need = kernel_arena_size(cfg);
	if (need == 0 || arena_size < need || ((uintptr_t)arena & (alignof(max_align_t) - 1)) ||
	    !kport_complete(port))
		return -PK_EINVAL;
	struct arena_layout layout;
	arena_layout(cfg, &layout);

	char *base = arena;
	struct kernel *k = arena;
	kbytes_zero(k, sizeof *k);
	k->port = *port;
	k->default_quota = cfg->default_quota;
	k->endpoints_per_proc = cfg->endpoints_per_proc;
	k->contexts_per_proc = cfg->contexts_per_proc;
	frame_pool_init(&k->frames, (struct frame *)(base + layout.frames), cfg->frame_memory,
			cfg->frame_count);
	proc_table_init(&k->procs, (struct proc *)(base + layout.procs), cfg->max_procs);
	endpoint_table_init(&k->endpoints, (struct endpoint *)(base + layout.endpoints),
			    cfg->max_endpoints, (uint32_t *)(base + layout.buckets),
			    cfg->hash_seed);
	kan_init(&k->kan, cfg->kan_prefix, cfg->queue_limit);
	irq_table_init(&k->irqs, (struct irq_line *)(base + layout.irq_lines), cfg->irq_lines);
	share_table_init(&k->shares, (struct share *)(base + layout.shares), cfg->max_shares,
			 (uint32_t *)(base + layout.share_buckets), cfg->hash_seed);
	group_table_init(&k->groups, cfg, (struct group *)(base + layout.groups),
			 (uint32_t *)(base + layout.rings),
			 (uint32_t *)(base + layout.group_buckets),
			 (struct member *)(base + layout.members));
	tick_init(&k->tick, cfg->tick_ns);
	context_table_init(&k->contexts, (struct context *)(base + layout.contexts),
			   cfg->max_contexts);
	*ret_kernel = k;
	return 0;
}

int kernel_proc_create(struct kernel *k, uint32_t rights, uint32_t quota, pk_proc_t *ret_proc)
{
	uint32_t index;
	int err = proc_create(k, rights, quota, &index);
	if (err < 0)
		return err;
	*ret_proc = proc_handle(&k->procs, index);
	return 0;
}

int kernel_irq_raise(struct kernel *k, uint32_t line)
{
	return irq_raise(k, line);
}

int kernel_clock_tick(struct kernel *k, uint64_t now_ns)
{
	return tick_fire(k, now_ns);
}

uint32_t kernel_clock_subscribers(const struct kernel *k)
{
	return k->groups.subscribers;
}

int kernel_proc_destroy(struct kernel *k, pk_proc_t proc)
{
	uint32_t index;
	int err = proc_resolve(&k->procs, proc, &index);
	if (err < 0)
		return err;
	proc_destroy(k, index);
	return 0;
}

int kernel_proc_info(const struct kernel *k, pk_proc_t proc, struct kernel_proc_info *ret_info)
{
	uint32_t index;
	int err = proc_resolve(&k->procs, proc, &index);
	if (err < 0)
		return err;
	const struct proc *p = &k->procs.procs[index];
	ret_info->rights = p->rights;
	ret_info->quota = p->quota;
	ret_info->frames_owned = p->owned.count;
	ret_info->frames_held = p->held;
	ret_info->endpoints = p->endpoints;
	ret_info->contexts = p->contexts;
	return 0;
}

int kernel_frame_of(const struct kernel *k, pk_proc_t proc, uint64_t frame,
		    uint32_t *ret_frame_number)
{
	uint32_t index;
	int err = proc_resolve(&k->procs, proc, &index);
	if (err < 0)
		return err;
	uint64_t number;
	err = frame_resolve_owned(k, index, frame, &number);
	if (err < 0)
		return err;
	*ret_frame_number = (uint32_t)number;
	return 0;
}

int kernel_frame_queued_at(const struct kernel *k, uint32_t frame_number, pk_proc_t *ret_proc,
			   uint64_t *ret_iid)
{
	if (frame_number >= k->frames.count)
		return 0;
	const struct frame *f = &k->frames.frames[frame_number];
	/* A frame reclaimed with its endpoint keeps the QUEUED state; frame_is_free knows. */
	if (f->state != FRAME_QUEUED || frame_is_free(k, frame_number))
		return 0;
	const struct endpoint *e = &k->endpoints.endpoints[f->holder];
	*ret_proc = proc_handle(&k->procs, e->proc);
	*ret_iid = e->iid;
	return 1;
}

int kernel_proc_endpoints(const struct kernel *k, pk_proc_t proc,
			  struct kernel_endpoint_info *ret_info, uint32_t max)
{
	uint32_t index;
	int err = proc_resolve(&k->procs, proc, &index);
	if (err < 0)
		return err;
	const struct proc *p = &k->procs.procs[index];
	uint32_t listed = 0;
	for (uint32_t e = p->endpoints_head; e != KNIL && listed < max; listed++) {
		const struct endpoint *ep = &k->endpoints.endpoints[e];
		ret_info[listed].handle = endpoint_handle(&k->endpoints, e);
		ret_info[listed].iid = ep->iid;
		ret_info[listed].queued = ep->queue.count;
		e = ep->proc_next;
	}
	return (int)p->endpoints;
}

void kernel_stats(const struct kernel *k, struct kernel_stats *ret_stats)
{
	*ret_stats = k->stats;
	ret_stats->frames_total = k->frames.count;
	ret_stats->frames_free = k->frames.free.count;
	ret_stats->frames_owned = k->frames.owned;
	ret_stats->frames_queued = k->frames.queued;
	ret_stats->frames_shared = k->frames.shared.count;
	ret_stats->procs = k->procs.alive;
	ret_stats->endpoints = k->endpoints.alive;
	ret_stats->contexts = k->contexts.alive;
	ret_stats->irq_lines_attached = k->irqs.attached;
	ret_stats->shares = k->shares.alive;
	ret_stats->groups = k->groups.alive;
	ret_stats->group_memberships = k->groups.memberships;
	ret_stats->tick_subscribers = k->groups.subscribers;
}

_Noreturn void kernel_panic(const struct kernel *k, const char *why)
{
	k->port.ops->po_panic(k->port.ctx, why);
	/* The contract says po_panic never returns; if a port breaks it, stop here anyway. */
	__builtin_trap();
}
