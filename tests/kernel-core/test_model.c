/* The kernel core against a reference model: thousands of random kernel calls, valid and
 * invalid, from a few processes that are created, faulted and destroyed as the run goes.
 *
 * The unit tests pin one behaviour each; this test looks for the interactions nobody wrote a
 * test for: a process destroyed while its packets wait in other queues, a default route whose
 * endpoint goes away, a stale handle whose frame came back to the same process, a received
 * packet forwarded as it came. The model restates the kernel-call specification
 * (docs/kcalls.md) over plain arrays and linear scans; it is written from that page, not from
 * the kernel's code. After every step the kernel must have answered exactly what the model
 * predicted, pass its own audit, and agree with the model on every count the public API
 * shows and on every wake and fault it reported to the port.
 *
 * The kernel is configured tiny so that every limit is met often. A failure names its seed
 * and step; PACKOS_MODEL_SEED and PACKOS_MODEL_STEPS in the environment replay it. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

/* Six busy processes with quota 12 want more than 48 frames, and eight processes with three
 * endpoints each want more than 12: the pool, the quotas and both endpoint limits all run
 * out again and again. */
#define MODEL_FRAMES		 48u
#define MODEL_QUOTA		 12u
#define MODEL_QUEUE_LIMIT	 4u
#define MODEL_ENDPOINTS_PER_PROC 3u
#define MODEL_MAX_ENDPOINTS	 12u
#define MODEL_MAX_PROCS		 8u
#define MODEL_BUSY_PROCS	 6u /* the generator keeps about this many processes alive */

#define MODEL_DEFAULT_STEPS 20000u
static const uint64_t model_default_seeds[] = {1, 2, 0x5eed, 0xc0ffee};

/* Far beyond any generation a run reaches, so a handle made with it is surely stale. */
#define UNREACHED_GENERATIONS 0x800000u

#define AUTO_IID_FLOOR	   0x10000ull
#define RESERVED_IID_FLOOR 0xfdffffffffffff80ull

/* How many retired handles of each kind the generator keeps to try again. */
#define STALE_RING_SIZE 32u

enum model_frame_state { MFRAME_FREE, MFRAME_OWNED, MFRAME_QUEUED };

struct model_frame {
	enum model_frame_state state;
	uint32_t owner;	     /* process slot, while OWNED */
	pk_frame_t handle;   /* the last handle the kernel gave out for it; 0: none yet */
	bool handle_current; /* the frame has not changed hands since `handle` was given out */
	uint32_t length;     /* while QUEUED: the packet's length and a hash of its bytes */
	uint64_t digest;
};

/* Slots are the kernel's table indices, learnt from the handles it returns. */
struct model_proc {
	bool alive;
	pk_proc_t handle; /* the slot's latest handle; 0: never used */
	uint32_t rights;
	uint32_t quota;
};

struct model_endpoint {
	bool alive;
	pk_endpoint_t handle; /* the slot's latest handle; 0: never used */
	uint32_t owner;	      /* process slot */
	uint64_t iid;
	bool receiver_waiting;
	uint32_t queue[MODEL_QUEUE_LIMIT]; /* frame numbers, oldest first */
	uint32_t queued;
};

struct stale_ring {
	uint64_t handles[STALE_RING_SIZE];
	uint32_t count, next;
};

/* Which outcomes the runs met, so the test can prove it exercised what it claims. Rows are
 * kernel-call numbers, with row 0 for bad call numbers and two more rows for the port's
 * process calls. */
enum { COVER_PROC_CREATE = PK_KC_END, COVER_PROC_DESTROY, COVER_ROWS };

struct model_coverage {
	uint64_t outcomes[COVER_ROWS][PK_ERROR_END]; /* column 0: success */
	uint64_t stale_callers;
	uint64_t stale_handles_of_own_frames; /* the frame came back, the old handle did not */
	uint64_t handles_of_reclaimed_frames; /* a dead process's frame, now free */
	uint64_t failed_grants;
	uint64_t wakes, faults;
	uint64_t forwarded_packets; /* a received packet sent on, as it came */
	uint64_t default_routed_packets;
	uint64_t packets_outliving_sender; /* received after their sender was destroyed */
};

struct model {
	struct fake_port *fp;
	uint64_t seed;
	uint64_t rng;
	uint32_t step;
	char doing[256]; /* the step under way, for failure messages */

	struct model_frame frames[MODEL_FRAMES];
	struct model_proc procs[MODEL_MAX_PROCS];
	struct model_endpoint endpoints[MODEL_MAX_ENDPOINTS];
	int default_route;	/* endpoint slot, or -1 */
	uint64_t last_auto_iid; /* the last interface ID the kernel chose; 0 before any */
	uint8_t prefix[PK_KAN_PREFIX_SIZE];

	struct stale_ring stale_frames, stale_endpoints, stale_procs;

	/* Who sent the packet a frame last carried (0: none since it was allocated), to count
	 * forwarded packets and packets that outlive their sender. */
	pk_proc_t sender[MODEL_FRAMES];

	/* What the kernel should have told the port and counted by now. */
	uint32_t wakes, faults, grants, revokes;
	uint64_t packets_sent, packets_received;

	struct model_coverage *coverage;
};

/* Static, so a failing run (cmocka longjmps out of it) leaves nothing unreachable behind. */
static struct fake_port model_port;
static struct model model_state;
static struct model_coverage model_coverage_total;

static void model_fail(const struct model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void model_fail(const struct model *m, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	fail_msg("seed %" PRIu64 ", step %" PRIu32
		 ": %s\n  during: %s\n  replay: PACKOS_MODEL_SEED=%" PRIu64
		 " PACKOS_MODEL_STEPS=%" PRIu32,
		 m->seed, m->step, why, m->doing, m->seed, m->step + 1);
}

#define MODEL_CHECK(m, cond, ...)                     \
	do {                                          \
		if (!(cond))                          \
			model_fail((m), __VA_ARGS__); \
	} while (0)

static const char *status_name(int64_t status)
{
	return status == 0 ? "success" : kernel_error_name((int)status);
}

/* ---- Randomness: xorshift64*, so a seed replays the same run on every libc. ---- */

static uint64_t rng_next(struct model *m)
{
	uint64_t x = m->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint32_t rng_below(struct model *m, uint32_t n)
{
	return (uint32_t)((rng_next(m) >> 32) % n);
}

static bool rng_percent(struct model *m, uint32_t percent)
{
	return rng_below(m, 100) < percent;
}

/* ---- The model's view of the tables. ---- */

static void stale_push(struct stale_ring *ring, uint64_t handle)
{
	ring->handles[ring->next] = handle;
	ring->next = (ring->next + 1) % STALE_RING_SIZE;
	if (ring->count < STALE_RING_SIZE)
		ring->count++;
}

/* A retired handle, or 0 if none was retired yet. */
static uint64_t stale_pick(struct model *m, const struct stale_ring *ring)
{
	return ring->count ? ring->handles[rng_below(m, ring->count)] : 0;
}

static int model_proc_slot(const struct model *m, pk_proc_t handle)
{
	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++)
		if (m->procs[i].alive && m->procs[i].handle == handle)
			return (int)i;
	return -1;
}

static uint32_t model_live_procs(const struct model *m)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++)
		n += m->procs[i].alive;
	return n;
}

static uint32_t model_live_endpoints(const struct model *m)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_ENDPOINTS; i++)
		n += m->endpoints[i].alive;
	return n;
}

static uint32_t model_endpoints_of(const struct model *m, uint32_t proc)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_ENDPOINTS; i++)
		n += m->endpoints[i].alive && m->endpoints[i].owner == proc;
	return n;
}

static uint32_t model_frames_in(const struct model *m, enum model_frame_state state)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MODEL_FRAMES; i++)
		n += m->frames[i].state == state;
	return n;
}

static uint32_t model_frames_owned_by(const struct model *m, uint32_t proc)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < MODEL_FRAMES; i++)
		n += m->frames[i].state == MFRAME_OWNED && m->frames[i].owner == proc;
	return n;
}

static int model_endpoint_by_iid(const struct model *m, uint64_t iid)
{
	for (uint32_t i = 0; i < MODEL_MAX_ENDPOINTS; i++)
		if (m->endpoints[i].alive && m->endpoints[i].iid == iid)
			return (int)i;
	return -1;
}

static bool model_in_kan(const struct model *m, const uint8_t address[16])
{
	return memcmp(address, m->prefix, PK_KAN_PREFIX_SIZE) == 0;
}

static uint64_t address_iid(const uint8_t address[16])
{
	uint64_t iid = 0;
	for (unsigned i = 8; i < 16; i++)
		iid = iid << 8 | address[i];
	return iid;
}

static uint64_t packet_digest(const uint8_t *bytes, uint32_t length)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (uint32_t i = 0; i < length; i++)
		h = (h ^ bytes[i]) * 0x100000001b3ull;
	return h;
}

/* ---- Random picks. Each returns a slot or frame number, or -1 if there is none. ---- */

static int pick_of(struct model *m, const uint32_t *candidates, uint32_t n)
{
	return n ? (int)candidates[rng_below(m, n)] : -1;
}

static int pick_live_proc(struct model *m)
{
	uint32_t c[MODEL_MAX_PROCS], n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++)
		if (m->procs[i].alive)
			c[n++] = i;
	return pick_of(m, c, n);
}

static int pick_router(struct model *m)
{
	uint32_t c[MODEL_MAX_PROCS], n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++)
		if (m->procs[i].alive && (m->procs[i].rights & PK_RIGHT_ROUTER))
			c[n++] = i;
	return pick_of(m, c, n);
}

/* A frame `proc` owns (mine) or another live process owns (!mine). */
static int pick_frame(struct model *m, uint32_t proc, bool mine)
{
	uint32_t c[MODEL_FRAMES], n = 0;
	for (uint32_t i = 0; i < MODEL_FRAMES; i++)
		if (m->frames[i].state == MFRAME_OWNED && (m->frames[i].owner == proc) == mine)
			c[n++] = i;
	return pick_of(m, c, n);
}

enum endpoint_filter { ANY_ENDPOINT, OWN_ENDPOINT, FOREIGN_ENDPOINT, ROUTER_ENDPOINT };

static int pick_endpoint(struct model *m, uint32_t proc, enum endpoint_filter filter)
{
	uint32_t c[MODEL_MAX_ENDPOINTS], n = 0;
	for (uint32_t i = 0; i < MODEL_MAX_ENDPOINTS; i++) {
		const struct model_endpoint *e = &m->endpoints[i];
		if (!e->alive)
			continue;
		if ((filter == OWN_ENDPOINT && e->owner != proc) ||
		    (filter == FOREIGN_ENDPOINT && e->owner == proc) ||
		    (filter == ROUTER_ENDPOINT && !(m->procs[e->owner].rights & PK_RIGHT_ROUTER)))
			continue;
		c[n++] = i;
	}
	return pick_of(m, c, n);
}

/* A process that owns a frame, or -1 if none does. */
static int pick_proc_with_frames(struct model *m)
{
	int frame = pick_frame(m, MODEL_MAX_PROCS, false);
	return frame >= 0 ? (int)m->frames[frame].owner : -1;
}

/* A handle that names nothing of `kind`, in one of the ways a buggy program gets it wrong. */
static uint64_t garbage_handle(struct model *m, unsigned kind, uint32_t caller)
{
	uint32_t table_size = kind == PK_HANDLE_FRAME	   ? MODEL_FRAMES
			      : kind == PK_HANDLE_ENDPOINT ? MODEL_MAX_ENDPOINTS
							   : MODEL_MAX_PROCS;
	switch (rng_below(m, 6)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2: /* an object of another kind: the caller's own process handle, or a group */
		if (kind == PK_HANDLE_PROC)
			return PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, caller);
		return rng_percent(m, 50) ? m->procs[caller].handle
					  : PK_HANDLE_MAKE(PK_HANDLE_GROUP, 1, 0);
	case 3:
		return PK_HANDLE_MAKE(kind, 1, rng_percent(m, 50) ? table_size : UINT32_MAX);
	default: { /* a slot that was used, under a generation it never had */
		uint64_t known = 0;
		uint32_t start = rng_below(m, table_size);
		for (uint32_t i = 0; i < table_size && !known; i++) {
			uint32_t slot = (start + i) % table_size;
			known = kind == PK_HANDLE_FRAME	     ? m->frames[slot].handle
				: kind == PK_HANDLE_ENDPOINT ? m->endpoints[slot].handle
							     : m->procs[slot].handle;
		}
		if (!known)
			return PK_HANDLE_MAKE(kind, 1, table_size);
		return PK_HANDLE_MAKE(kind, PK_HANDLE_GEN(known) + UNREACHED_GENERATIONS,
				      PK_HANDLE_INDEX(known));
	}
	}
}

/* A stale handle of a frame `caller` owns again under a newer one, if the ring has one. */
static uint64_t stale_handle_of_own_frame(const struct model *m, uint32_t caller)
{
	for (uint32_t i = 0; i < m->stale_frames.count; i++) {
		uint64_t handle = m->stale_frames.handles[i];
		const struct model_frame *f = &m->frames[PK_FRAME_NUMBER(handle)];
		if (f->state == MFRAME_OWNED && f->owner == caller && f->handle != handle)
			return handle;
	}
	return 0;
}

/* A frame argument for `caller`, which owns a frame: mostly one of its own, now and then a
 * stale handle, another's frame or garbage. Kept rare: each of those faults the caller. */
static uint64_t pick_frame_arg(struct model *m, uint32_t caller)
{
	uint32_t r = rng_below(m, 1000);
	int frame = -1;
	if (r < 950) {
		frame = pick_frame(m, caller, true);
	} else if (r < 975) {
		uint64_t stale = rng_percent(m, 50) ? stale_handle_of_own_frame(m, caller) : 0;
		if (!stale)
			stale = stale_pick(m, &m->stale_frames);
		if (stale)
			return stale;
	} else if (r < 988) {
		frame = pick_frame(m, caller, false);
	}
	return frame >= 0 ? m->frames[frame].handle : garbage_handle(m, PK_HANDLE_FRAME, caller);
}

/* An endpoint argument for `caller`, which holds `own`: mostly that one, now and then
 * another's, a stale handle or garbage. */
static uint64_t pick_endpoint_arg(struct model *m, uint32_t caller, uint32_t own)
{
	uint32_t r = rng_below(m, 1000);
	int endpoint = (int)own;
	if (r < 950)
		return m->endpoints[own].handle;
	if (r < 975 && m->stale_endpoints.count)
		return stale_pick(m, &m->stale_endpoints);
	if (r < 988)
		endpoint = pick_endpoint(m, caller, FOREIGN_ENDPOINT);
	else
		endpoint = -1;
	return endpoint >= 0 ? m->endpoints[endpoint].handle
			     : garbage_handle(m, PK_HANDLE_ENDPOINT, caller);
}

/* A process handle that is not a live process: a dead one or garbage. */
static pk_proc_t pick_dead_proc(struct model *m, uint32_t caller)
{
	if (m->stale_procs.count && rng_percent(m, 60))
		return stale_pick(m, &m->stale_procs);
	return garbage_handle(m, PK_HANDLE_PROC, caller);
}

/* ---- The specification: what a kernel call must answer and do. ---- */

/* How each call reads its argument words, as docs/kcalls.md lists them. */
static const uint8_t model_arg_kinds[PK_KC_END][PK_KCALL_ARGS] = {
	[PK_KC_frame_alloc] = {PK_ARG_NONE, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_frame_free] = {PK_ARG_HELD, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_send] = {PK_ARG_FRAME, PK_ARG_VALUE, PK_ARG_VALUE},
	[PK_KC_recv] = {PK_ARG_ENDPOINT, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_endpoint_create] = {PK_ARG_VALUE, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_endpoint_destroy] = {PK_ARG_ENDPOINT, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_route_set_default] = {PK_ARG_ENDPOINT, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_route_clear_default] = {PK_ARG_NONE, PK_ARG_NONE, PK_ARG_NONE},
	[PK_KC_kan_prefix] = {PK_ARG_NONE, PK_ARG_NONE, PK_ARG_NONE},
};

/* Read off the last column of errors.h: which errors destroy the caller. */
static bool error_faults(int64_t status)
{
	switch (-status) {
#define MODEL_FAULT_CASE(num, name, msg, disposition) \
	case num:                                     \
		return strcmp(#disposition, "FAULT") == 0;
		PK_ERROR_LIST(MODEL_FAULT_CASE)
#undef MODEL_FAULT_CASE
	}
	return false;
}

/* A frame handle as an argument. A reclaimed frame is not "changing hands" in the sense that
 * bumps its generation (alloc, free, send, recv do), so a dead process's handle still names
 * its frame while the frame sits free: using it is ENOTOWNER, like any frame not the
 * caller's. */
static int model_check_frame_arg(struct model *m, uint32_t caller, uint64_t handle,
				 uint32_t *ret_frame)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_FRAME || index >= MODEL_FRAMES)
		return -PK_EBADHANDLE;
	const struct model_frame *f = &m->frames[index];
	if (f->handle != handle || !f->handle_current) {
		if (f->state == MFRAME_OWNED && f->owner == caller &&
		    PK_HANDLE_GEN(handle) < PK_HANDLE_GEN(f->handle))
			m->coverage->stale_handles_of_own_frames++;
		return -PK_EBADHANDLE;
	}
	if (f->state != MFRAME_OWNED || f->owner != caller) {
		if (f->state == MFRAME_FREE)
			m->coverage->handles_of_reclaimed_frames++;
		return -PK_ENOTOWNER;
	}
	*ret_frame = index;
	return 0;
}

static int model_check_endpoint_arg(const struct model *m, uint32_t caller, uint64_t handle,
				    uint32_t *ret_endpoint)
{
	uint32_t index = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_ENDPOINT || index >= MODEL_MAX_ENDPOINTS)
		return -PK_EBADHANDLE;
	const struct model_endpoint *e = &m->endpoints[index];
	if (!e->alive || e->handle != handle)
		return -PK_EBADHANDLE;
	if (e->owner != caller)
		return -PK_ENOTOWNER;
	*ret_endpoint = index;
	return 0;
}

/* What send does with the packet in `frame`, read the way a router would: the status, and
 * on success the endpoint it is queued at. */
static int model_send_outcome(const struct model *m, uint32_t sender, uint32_t frame,
			      uint64_t length, uint32_t *ret_endpoint)
{
	if (length < PK_IPV6_HEADER_SIZE || length > PK_FRAME_SIZE)
		return -PK_ELENGTH;
	const uint8_t *packet = m->fp->frame_memory + (size_t)frame * PK_FRAME_SIZE;
	if (packet[0] >> 4 != 6)
		return -PK_ENOTIPV6;
	if (PK_IPV6_HEADER_SIZE + ((uint32_t)packet[4] << 8 | packet[5]) != length)
		return -PK_ELENGTH;
	const uint8_t *source = packet + 8, *destination = packet + 24;
	if (!(m->procs[sender].rights & PK_RIGHT_ROUTER)) {
		int own = model_in_kan(m, source) ? model_endpoint_by_iid(m, address_iid(source))
						  : -1;
		if (own < 0 || m->endpoints[own].owner != sender)
			return -PK_ESOURCE;
	}
	int endpoint;
	if (model_in_kan(m, destination)) {
		endpoint = model_endpoint_by_iid(m, address_iid(destination));
		if (endpoint < 0)
			return -PK_EHOSTUNREACH;
	} else if (destination[0] == 0xff) {
		return -PK_EHOSTUNREACH; /* link-local, and the model joins no group */
	} else {
		endpoint = m->default_route;
		if (endpoint < 0)
			return -PK_ENETUNREACH;
	}
	if (m->endpoints[endpoint].queued >= MODEL_QUEUE_LIMIT)
		return -PK_ENOBUFS;
	*ret_endpoint = (uint32_t)endpoint;
	return 0;
}

struct model_prediction {
	int status;
	bool grant_refused; /* all else was fine: the port's refusal makes it ENOMEM */
	uint32_t frame;	    /* the frame argument */
	uint32_t endpoint;  /* the endpoint argument, or where send queues the packet */
};

/* `grant_fails`: the port will refuse the next po_frame_grant. */
static struct model_prediction model_predict(struct model *m, pk_proc_t caller_handle,
					     const struct pk_kcall *call, bool grant_fails)
{
	struct model_prediction p = {0};
	int slot = model_proc_slot(m, caller_handle);
	if (slot < 0) {
		p.status = -PK_EBADHANDLE;
		return p;
	}
	uint32_t caller = (uint32_t)slot;
	if (call->nr == 0 || call->nr >= PK_KC_END) {
		p.status = -PK_ENOSYS;
		return p;
	}
	if (call->flags != 0) {
		p.status = -PK_EINVAL;
		return p;
	}
	for (unsigned i = 0; i < PK_KCALL_ARGS; i++) {
		int err = 0;
		switch (model_arg_kinds[call->nr][i]) {
		case PK_ARG_NONE:
			err = call->arg[i] == 0 ? 0 : -PK_EINVAL;
			break;
		case PK_ARG_FRAME:
		case PK_ARG_HELD: /* the model never receives a share: only owned frames */
			err = model_check_frame_arg(m, caller, call->arg[i], &p.frame);
			break;
		case PK_ARG_ENDPOINT:
			err = model_check_endpoint_arg(m, caller, call->arg[i], &p.endpoint);
			break;
		default:
			break;
		}
		if (err < 0) {
			p.status = err;
			return p;
		}
	}

	const struct model_proc *proc = &m->procs[caller];
	bool router = proc->rights & PK_RIGHT_ROUTER;
	switch (call->nr) {
	case PK_KC_frame_alloc:
		if (model_frames_owned_by(m, caller) >= proc->quota)
			p.status = -PK_EQUOTA;
		else if (model_frames_in(m, MFRAME_FREE) == 0)
			p.status = -PK_ENOMEM;
		else if (grant_fails)
			p.grant_refused = true;
		break;
	case PK_KC_send:
		p.status = model_send_outcome(m, caller, p.frame, call->arg[1], &p.endpoint);
		break;
	case PK_KC_recv:
		if (m->endpoints[p.endpoint].queued == 0)
			p.status = -PK_EWOULDBLOCK;
		else if (model_frames_owned_by(m, caller) >= proc->quota)
			p.status = -PK_EQUOTA;
		else if (grant_fails)
			p.grant_refused = true;
		break;
	case PK_KC_endpoint_create: {
		uint64_t iid = call->arg[0];
		if (model_endpoints_of(m, caller) >= MODEL_ENDPOINTS_PER_PROC)
			p.status = -PK_ELIMIT;
		else if (model_live_endpoints(m) >= MODEL_MAX_ENDPOINTS)
			p.status = -PK_ENOSPC;
		else if (iid != 0 && iid >= RESERVED_IID_FLOOR)
			p.status = -PK_EINVAL;
		else if (iid != 0 && model_endpoint_by_iid(m, iid) >= 0)
			p.status = -PK_EADDRINUSE;
		break;
	}
	case PK_KC_route_set_default:
	case PK_KC_route_clear_default:
		p.status = router ? 0 : -PK_EPERM;
		break;
	default: /* frame_free, endpoint_destroy, kan_prefix: no errors once the arguments pass */
		break;
	}
	if (p.grant_refused)
		p.status = -PK_ENOMEM;
	return p;
}

/* ---- The model's side of each success. ---- */

static void model_destroy_endpoint(struct model *m, uint32_t slot)
{
	struct model_endpoint *e = &m->endpoints[slot];
	for (uint32_t i = 0; i < e->queued; i++)
		m->frames[e->queue[i]].state = MFRAME_FREE;
	if (m->default_route == (int)slot)
		m->default_route = -1;
	stale_push(&m->stale_endpoints, e->handle);
	e->alive = false;
	e->queued = 0;
	e->receiver_waiting = false;
}

static void model_destroy_proc(struct model *m, uint32_t slot)
{
	for (uint32_t i = 0; i < MODEL_MAX_ENDPOINTS; i++)
		if (m->endpoints[i].alive && m->endpoints[i].owner == slot)
			model_destroy_endpoint(m, i);
	for (uint32_t i = 0; i < MODEL_FRAMES; i++) {
		struct model_frame *f = &m->frames[i];
		if (f->state == MFRAME_OWNED && f->owner == slot) {
			/* handle_current stays: see model_check_frame_arg. */
			f->state = MFRAME_FREE;
			stale_push(&m->stale_frames, f->handle);
		}
	}
	stale_push(&m->stale_procs, m->procs[slot].handle);
	m->procs[slot].alive = false;
}

/* A handle the kernel just issued for slot `index` of a table of `size`: right kind, in
 * range, and newer than any handle that slot had before, so no old handle can name it. */
static void model_check_new_handle(struct model *m, uint64_t handle, unsigned kind, uint32_t size,
				   uint64_t previous_of_slot)
{
	MODEL_CHECK(m, PK_HANDLE_KIND(handle) == kind && PK_HANDLE_INDEX(handle) < size,
		    "new handle %#" PRIx64 " has the wrong kind or is out of range", handle);
	MODEL_CHECK(
		m, previous_of_slot == 0 || PK_HANDLE_GEN(handle) > PK_HANDLE_GEN(previous_of_slot),
		"new handle %#" PRIx64 " is not newer than the slot's last one %#" PRIx64, handle,
		previous_of_slot);
}

static void model_take_frame(struct model *m, uint32_t caller, pk_frame_t handle)
{
	struct model_frame *f = &m->frames[PK_FRAME_NUMBER(handle)];
	f->state = MFRAME_OWNED;
	f->owner = caller;
	f->handle = handle;
	f->handle_current = true;
}

static void model_apply_frame_alloc(struct model *m, uint32_t caller, const struct pk_kresult *ret)
{
	static const uint8_t zeroes[PK_FRAME_SIZE];
	pk_frame_t handle = ret->ret[0];
	model_check_new_handle(m, handle, PK_HANDLE_FRAME, MODEL_FRAMES,
			       m->frames[PK_HANDLE_INDEX(handle) % MODEL_FRAMES].handle);
	MODEL_CHECK(m, m->frames[PK_FRAME_NUMBER(handle)].state == MFRAME_FREE,
		    "frame_alloc handed out frame %" PRIu32 ", which is not free",
		    PK_FRAME_NUMBER(handle));
	MODEL_CHECK(m, memcmp(fake_port_frame_bytes(m->fp, handle), zeroes, PK_FRAME_SIZE) == 0,
		    "frame_alloc handed out frame %" PRIu32 " unzeroed", PK_FRAME_NUMBER(handle));
	model_take_frame(m, caller, handle);
	m->sender[PK_FRAME_NUMBER(handle)] = 0;
	m->grants++;
}

static void model_apply_send(struct model *m, const struct model_prediction *want)
{
	struct model_frame *f = &m->frames[want->frame];
	struct model_endpoint *e = &m->endpoints[want->endpoint];
	const uint8_t *packet = fake_port_frame_bytes(m->fp, f->handle);
	f->state = MFRAME_QUEUED;
	f->handle_current = false;
	f->length = (uint32_t)(PK_IPV6_HEADER_SIZE + ((uint32_t)packet[4] << 8 | packet[5]));
	f->digest = packet_digest(packet, f->length);
	m->sender[want->frame] = m->procs[f->owner].handle;
	stale_push(&m->stale_frames, f->handle);
	e->queue[e->queued++] = want->frame;
	m->packets_sent++;
	m->revokes++;
	if (!model_in_kan(m, packet + 24))
		m->coverage->default_routed_packets++;

	if (e->receiver_waiting) {
		e->receiver_waiting = false;
		m->wakes++;
		m->coverage->wakes++;
		MODEL_CHECK(m, m->fp->wakes == m->wakes, "%u wakes, model expected %" PRIu32,
			    m->fp->wakes, m->wakes);
		MODEL_CHECK(m,
			    m->fp->last_wake_proc == m->procs[e->owner].handle &&
				    m->fp->last_wake_endpoint == e->handle,
			    "woke proc %#" PRIx64 " endpoint %#" PRIx64 ", model expected %#" PRIx64
			    " endpoint %#" PRIx64,
			    m->fp->last_wake_proc, m->fp->last_wake_endpoint,
			    m->procs[e->owner].handle, e->handle);
	}
}

static void model_apply_recv(struct model *m, uint32_t caller, uint32_t endpoint,
			     const struct pk_kresult *ret)
{
	struct model_endpoint *e = &m->endpoints[endpoint];
	uint32_t oldest = e->queue[0];
	struct model_frame *f = &m->frames[oldest];
	pk_frame_t handle = ret->ret[0];
	MODEL_CHECK(m, PK_FRAME_NUMBER(handle) == oldest,
		    "recv gave frame %" PRIu32 ", model expected the oldest packet, frame %" PRIu32,
		    PK_FRAME_NUMBER(handle), oldest);
	model_check_new_handle(m, handle, PK_HANDLE_FRAME, MODEL_FRAMES, f->handle);
	MODEL_CHECK(m, ret->ret[1] == f->length, "recv gave length %" PRIu64 ", sent %" PRIu32,
		    ret->ret[1], f->length);
	MODEL_CHECK(m, packet_digest(fake_port_frame_bytes(m->fp, handle), f->length) == f->digest,
		    "recv gave frame %" PRIu32 " with bytes other than were sent", oldest);
	if (model_proc_slot(m, m->sender[oldest]) < 0)
		m->coverage->packets_outliving_sender++;

	memmove(e->queue, e->queue + 1, (e->queued - 1) * sizeof e->queue[0]);
	e->queued--;
	model_take_frame(m, caller, handle);
	m->packets_received++;
	m->grants++;
}

static void model_apply_endpoint_create(struct model *m, uint32_t caller, uint64_t iid,
					const struct pk_kresult *ret)
{
	pk_endpoint_t handle = ret->ret[0];
	uint32_t slot = PK_HANDLE_INDEX(handle);
	model_check_new_handle(m, handle, PK_HANDLE_ENDPOINT, MODEL_MAX_ENDPOINTS,
			       m->endpoints[slot % MODEL_MAX_ENDPOINTS].handle);
	MODEL_CHECK(m, !m->endpoints[slot].alive, "endpoint_create reused live slot %" PRIu32,
		    slot);
	if (iid != 0) {
		MODEL_CHECK(m, ret->ret[1] == iid,
			    "endpoint_create bound %#" PRIx64 ", asked %#" PRIx64, ret->ret[1],
			    iid);
	} else {
		iid = ret->ret[1];
		MODEL_CHECK(m,
			    iid >= AUTO_IID_FLOOR && iid < RESERVED_IID_FLOOR &&
				    model_endpoint_by_iid(m, iid) < 0,
			    "endpoint_create chose %#" PRIx64 ": below 0x10000, reserved or taken",
			    iid);
		m->last_auto_iid = iid;
	}
	struct model_endpoint *e = &m->endpoints[slot];
	e->alive = true;
	e->handle = handle;
	e->owner = caller;
	e->iid = iid;
	e->receiver_waiting = false;
	e->queued = 0;
}

static void model_apply(struct model *m, uint32_t caller, const struct pk_kcall *call,
			const struct model_prediction *want, const struct pk_kresult *ret)
{
	switch (call->nr) {
	case PK_KC_frame_alloc:
		model_apply_frame_alloc(m, caller, ret);
		break;
	case PK_KC_frame_free:
		m->frames[want->frame].state = MFRAME_FREE;
		m->frames[want->frame].handle_current = false;
		stale_push(&m->stale_frames, call->arg[0]);
		m->revokes++;
		break;
	case PK_KC_send:
		model_apply_send(m, want);
		break;
	case PK_KC_recv:
		model_apply_recv(m, caller, want->endpoint, ret);
		break;
	case PK_KC_endpoint_create:
		model_apply_endpoint_create(m, caller, call->arg[0], ret);
		break;
	case PK_KC_endpoint_destroy:
		model_destroy_endpoint(m, want->endpoint);
		break;
	case PK_KC_route_set_default:
		m->default_route = (int)want->endpoint;
		break;
	case PK_KC_route_clear_default:
		m->default_route = -1;
		break;
	case PK_KC_kan_prefix: {
		uint64_t prefix = 0;
		for (unsigned i = 0; i < PK_KAN_PREFIX_SIZE; i++)
			prefix = prefix << 8 | m->prefix[i];
		MODEL_CHECK(m, ret->ret[0] == prefix, "kan_prefix %#" PRIx64 ", expected %#" PRIx64,
			    ret->ret[0], prefix);
		break;
	}
	default:
		break;
	}
}

/* ---- Issuing calls. ---- */

/* Makes one kernel call, requires the kernel's answer to be the model's, and brings the
 * model along: the success's effects, the mark an empty recv leaves, or the fault. */
static int64_t model_call(struct model *m, pk_proc_t caller_handle, const struct pk_kcall *call,
			  bool grant_fails, struct pk_kresult *ret)
{
	snprintf(m->doing, sizeof m->doing,
		 "%s (nr %" PRIu32 ", flags %#" PRIx32 ") by %#" PRIx64 " args %#" PRIx64
		 " %#" PRIx64 " %#" PRIx64 "%s",
		 kernel_call_name(call->nr), call->nr, call->flags, caller_handle, call->arg[0],
		 call->arg[1], call->arg[2], grant_fails ? ", port refuses the grant" : "");
	int slot = model_proc_slot(m, caller_handle);
	struct model_prediction want = model_predict(m, caller_handle, call, grant_fails);

	m->fp->fail_next_grant = grant_fails ? -PK_ENOMEM : 0;
	int status = kernel_call(m->fp->k, caller_handle, call, ret);
	/* A call that failed before asking the port leaves the refusal armed: disarm it. */
	m->fp->fail_next_grant = 0;

	MODEL_CHECK(m, status == want.status, "kernel answered %s, model expected %s",
		    status_name(status), status_name(want.status));
	MODEL_CHECK(m, ret->status == status, "ret.status %" PRId64 " but returned %d", ret->status,
		    status);
	if (status != 0)
		MODEL_CHECK(m, ret->ret[0] == 0 && ret->ret[1] == 0,
			    "a failed call left results %#" PRIx64 " %#" PRIx64, ret->ret[0],
			    ret->ret[1]);

	if (slot < 0) {
		m->coverage->stale_callers++;
		return status;
	}
	uint32_t row = call->nr < PK_KC_END ? call->nr : 0;
	m->coverage->outcomes[row][-status]++;
	uint32_t caller = (uint32_t)slot;
	if (status == 0) {
		model_apply(m, caller, call, &want, ret);
	} else if (status == -PK_EWOULDBLOCK) {
		m->endpoints[want.endpoint].receiver_waiting = true;
	} else if (want.grant_refused) {
		m->coverage->failed_grants++;
	} else if (error_faults(status)) {
		m->faults++;
		m->coverage->faults++;
		MODEL_CHECK(m, m->fp->faults == m->faults, "%u faults, model expected %" PRIu32,
			    m->fp->faults, m->faults);
		MODEL_CHECK(m,
			    m->fp->last_fault_proc == caller_handle &&
				    m->fp->last_fault_kcall == call->nr &&
				    m->fp->last_fault_error == status,
			    "fault reported as proc %#" PRIx64 " call %u error %s",
			    m->fp->last_fault_proc, m->fp->last_fault_kcall,
			    status_name(m->fp->last_fault_error));
		model_destroy_proc(m, caller);
	}
	return status;
}

/* Issues `call` as `caller`, now and then spoiled the ways a buggy program spoils calls: a
 * dead caller, a call number that does not exist, flags, a reserved word that is not 0. */
static int64_t model_issue(struct model *m, uint32_t caller, struct pk_kcall *call,
			   bool grant_fails, struct pk_kresult *ret)
{
	static const uint32_t bad_numbers[] = {0, PK_KC_END, PK_KC_END + 7, UINT32_MAX};
	pk_proc_t who = m->procs[caller].handle;
	uint32_t r = rng_below(m, 1000);
	if (r < 10) {
		who = pick_dead_proc(m, caller);
	} else if (r < 15) {
		call->nr = bad_numbers[rng_below(m, 4)];
	} else if (r < 20) {
		call->flags = 1u << rng_below(m, 32);
	} else if (r < 30) {
		unsigned i = rng_below(m, PK_KCALL_ARGS);
		if (model_arg_kinds[call->nr][i] == PK_ARG_NONE)
			call->arg[i] = rng_next(m) | 1;
	}
	return model_call(m, who, call, grant_fails, ret);
}

/* ---- The operations a step chooses from. ---- */

static void op_frame_alloc(struct model *m)
{
	int caller = pick_live_proc(m);
	struct pk_kcall call = {.nr = PK_KC_frame_alloc};
	struct pk_kresult ret;
	model_issue(m, (uint32_t)caller, &call, rng_percent(m, 3), &ret);
}

static void op_frame_free(struct model *m)
{
	int owner = pick_proc_with_frames(m);
	if (owner < 0) {
		op_frame_alloc(m);
		return;
	}
	uint32_t caller = (uint32_t)owner;
	struct pk_kcall call = {.nr = PK_KC_frame_free, .arg = {pick_frame_arg(m, caller)}};
	struct pk_kresult ret;
	model_issue(m, caller, &call, false, &ret);
}

/* An address for a packet: `role` 's' picks a source for `sender`, 'd' a destination. */
static void pick_address(struct model *m, uint32_t sender, char role, uint8_t address[16])
{
	uint32_t r = rng_below(m, 100);
	int endpoint = -1;
	if (r < 75)
		endpoint = role == 's' && rng_percent(m, 90)
				   ? pick_endpoint(m, sender, OWN_ENDPOINT)
				   : pick_endpoint(m, sender, ANY_ENDPOINT);
	if (endpoint >= 0) {
		fake_port_address(m->fp, m->endpoints[endpoint].iid, address);
		return;
	}
	r = rng_below(m, 100);
	if (r < 30) { /* in the KAN, most likely bound by nobody */
		fake_port_address(m->fp, rng_next(m), address);
	} else if (r < 55) { /* documentation space, 2001:db8::/32 */
		static const uint8_t outside[16] = {0x20, 0x01, 0x0d, 0xb8};
		memcpy(address, outside, 16);
		address[15] = (uint8_t)rng_next(m);
	} else if (r < 70) { /* one bit outside the KAN prefix */
		fake_port_address(m->fp, rng_next(m), address);
		address[7] ^= 1;
	} else if (r < 85) { /* multicast, all nodes */
		static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
		memcpy(address, all_nodes, 16);
	} else { /* a destroyed endpoint's address, which may be free again */
		uint64_t stale = stale_pick(m, &m->stale_endpoints);
		fake_port_address(m->fp, stale ? m->endpoints[PK_HANDLE_INDEX(stale)].iid : 1,
				  address);
	}
}

static uint16_t pick_payload(struct model *m)
{
	uint32_t r = rng_below(m, 100);
	if (r < 70)
		return (uint16_t)rng_below(m, 65);
	if (r < 90)
		return (uint16_t)(65 + rng_below(m, 1436));
	if (r < 99) /* up to a full frame */
		return (uint16_t)(1501 + rng_below(m, PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE - 1500));
	return (uint16_t)(PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE + 1 + rng_below(m, 100));
}

/* The length word for a packet whose header says `payload`: right, or wrong in some way. */
static uint64_t pick_length(struct model *m, uint32_t payload)
{
	uint64_t right = PK_IPV6_HEADER_SIZE + payload;
	if (rng_percent(m, 88))
		return right;
	static const uint64_t wrong[] = {0,
					 PK_IPV6_HEADER_SIZE - 1,
					 PK_IPV6_HEADER_SIZE,
					 PK_FRAME_SIZE,
					 PK_FRAME_SIZE + 1,
					 1ull << 40,
					 UINT64_MAX};
	uint32_t r = rng_below(m, 9);
	return r < 7 ? wrong[r] : r == 7 ? right + 1 : right - 1;
}

static void op_send(struct model *m)
{
	int owner = pick_proc_with_frames(m);
	if (owner < 0) {
		op_frame_alloc(m);
		return;
	}
	uint32_t caller = (uint32_t)owner;
	uint64_t frame = pick_frame_arg(m, caller);
	uint64_t length = PK_IPV6_HEADER_SIZE + rng_below(m, 100);

	int own = -1;
	bool forwarding = false;
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (PK_HANDLE_KIND(frame) == PK_HANDLE_FRAME && number < MODEL_FRAMES &&
	    m->frames[number].handle == frame && m->frames[number].handle_current &&
	    m->frames[number].state == MFRAME_OWNED && m->frames[number].owner == caller)
		own = (int)number;
	if (own >= 0 && rng_percent(m, 85)) {
		/* Only a frame the caller owns may be written: others' may hold queued packets. */
		uint8_t source[16], destination[16];
		pick_address(m, caller, 's', source);
		pick_address(m, caller, 'd', destination);
		uint16_t payload = pick_payload(m);
		fake_port_write_packet(m->fp, frame, source, destination, payload);
		if (rng_percent(m, 4)) {
			static const uint8_t versions[] = {0, 4, 7, 15};
			uint8_t *bytes = fake_port_frame_bytes(m->fp, frame);
			bytes[0] = (uint8_t)(versions[rng_below(m, 4)] << 4 | (bytes[0] & 0x0f));
		}
		length = pick_length(m, payload);
	} else if (own >= 0) {
		/* As it is: a received packet forwarded, or a fresh frame's zeroes. */
		const uint8_t *bytes = fake_port_frame_bytes(m->fp, frame);
		length = pick_length(m, (uint32_t)bytes[4] << 8 | bytes[5]);
		forwarding = m->sender[own] != 0;
	}
	struct pk_kcall call = {.nr = PK_KC_send, .arg = {frame, length}};
	struct pk_kresult ret;
	if (model_issue(m, caller, &call, false, &ret) == 0 && forwarding && call.nr == PK_KC_send)
		m->coverage->forwarded_packets++;
}

static void op_endpoint_create(struct model *m)
{
	uint32_t caller = (uint32_t)pick_live_proc(m);
	uint64_t iid = 0;
	uint32_t r = rng_below(m, 100);
	if (r < 40) {
		iid = 0; /* the kernel chooses */
	} else if (r < 55) {
		iid = 1 + rng_below(m, 16); /* a small set, so programs collide */
	} else if (r < 65 && m->last_auto_iid) {
		/* Just ahead of the kernel's choices, so it must step over a taken ID. At most
		 * three in a row are ever taken, well within what the kernel searches. */
		iid = m->last_auto_iid + 1 + rng_below(m, 3);
	} else if (r < 75) {
		int endpoint = pick_endpoint(m, caller, ANY_ENDPOINT);
		iid = endpoint >= 0 ? m->endpoints[endpoint].iid : 1;
	} else if (r < 82) {
		static const uint64_t edges[] = {RESERVED_IID_FLOOR, RESERVED_IID_FLOOR - 1,
						 RESERVED_IID_FLOOR + 1, UINT64_MAX};
		iid = edges[rng_below(m, 4)];
	} else {
		iid = rng_next(m);
	}
	struct pk_kcall call = {.nr = PK_KC_endpoint_create, .arg = {iid}};
	struct pk_kresult ret;
	model_issue(m, caller, &call, false, &ret);
}

static void op_recv(struct model *m)
{
	/* Receive as the holder of a random endpoint, so every queue gets drained now and then. */
	int endpoint = pick_endpoint(m, 0, ANY_ENDPOINT);
	if (endpoint < 0) {
		op_endpoint_create(m);
		return;
	}
	uint32_t caller = m->endpoints[endpoint].owner;
	struct pk_kcall call = {.nr = PK_KC_recv,
				.arg = {pick_endpoint_arg(m, caller, (uint32_t)endpoint)}};
	struct pk_kresult ret;
	model_issue(m, caller, &call, rng_percent(m, 3), &ret);
}

static void op_endpoint_destroy(struct model *m)
{
	int endpoint = pick_endpoint(m, 0, ANY_ENDPOINT);
	if (endpoint < 0) {
		op_endpoint_create(m);
		return;
	}
	uint32_t caller = m->endpoints[endpoint].owner;
	struct pk_kcall call = {.nr = PK_KC_endpoint_destroy,
				.arg = {pick_endpoint_arg(m, caller, (uint32_t)endpoint)}};
	struct pk_kresult ret;
	model_issue(m, caller, &call, false, &ret);
}

static void op_route_set_default(struct model *m)
{
	int endpoint = pick_endpoint(m, 0, rng_percent(m, 70) ? ROUTER_ENDPOINT : ANY_ENDPOINT);
	if (endpoint < 0)
		endpoint = pick_endpoint(m, 0, ANY_ENDPOINT);
	if (endpoint < 0) {
		op_endpoint_create(m);
		return;
	}
	uint32_t caller = m->endpoints[endpoint].owner;
	struct pk_kcall call = {.nr = PK_KC_route_set_default,
				.arg = {pick_endpoint_arg(m, caller, (uint32_t)endpoint)}};
	struct pk_kresult ret;
	model_issue(m, caller, &call, false, &ret);
}

static void op_route_clear_default(struct model *m)
{
	int caller = rng_percent(m, 50) ? pick_router(m) : -1;
	if (caller < 0)
		caller = pick_live_proc(m);
	struct pk_kcall call = {.nr = PK_KC_route_clear_default};
	struct pk_kresult ret;
	model_issue(m, (uint32_t)caller, &call, false, &ret);
}

static void op_kan_prefix(struct model *m)
{
	struct pk_kcall call = {.nr = PK_KC_kan_prefix};
	struct pk_kresult ret;
	model_issue(m, (uint32_t)pick_live_proc(m), &call, false, &ret);
}

static void op_proc_create(struct model *m)
{
	uint32_t rights = rng_percent(m, 30) ? PK_RIGHT_ROUTER : 0;
	uint32_t r = rng_below(m, 100);
	uint32_t quota = r < 75 ? 0 : r < 95 ? 1 + rng_below(m, 4) : MODEL_QUOTA + 8;
	snprintf(m->doing, sizeof m->doing,
		 "kernel_proc_create(rights %#" PRIx32 ", quota %" PRIu32 ")", rights, quota);

	int want = model_live_procs(m) >= MODEL_MAX_PROCS ? -PK_ENOSPC : 0;
	pk_proc_t handle = 0;
	int status = kernel_proc_create(m->fp->k, rights, quota, &handle);
	MODEL_CHECK(m, status == want, "kernel answered %s, model expected %s", status_name(status),
		    status_name(want));
	m->coverage->outcomes[COVER_PROC_CREATE][-status]++;
	if (status < 0)
		return;
	uint32_t slot = PK_HANDLE_INDEX(handle);
	model_check_new_handle(m, handle, PK_HANDLE_PROC, MODEL_MAX_PROCS,
			       m->procs[slot % MODEL_MAX_PROCS].handle);
	MODEL_CHECK(m, !m->procs[slot].alive, "kernel_proc_create reused live slot %" PRIu32, slot);
	m->procs[slot] = (struct model_proc){
		.alive = true,
		.handle = handle,
		.rights = rights,
		.quota = quota ? quota : MODEL_QUOTA,
	};
}

static void model_proc_destroy(struct model *m, pk_proc_t handle)
{
	snprintf(m->doing, sizeof m->doing, "kernel_proc_destroy(%#" PRIx64 ")", handle);
	int slot = model_proc_slot(m, handle);
	int status = kernel_proc_destroy(m->fp->k, handle);
	int want = slot < 0 ? -PK_EBADHANDLE : 0;
	MODEL_CHECK(m, status == want, "kernel answered %s, model expected %s", status_name(status),
		    status_name(want));
	m->coverage->outcomes[COVER_PROC_DESTROY][-status]++;
	if (slot >= 0)
		model_destroy_proc(m, (uint32_t)slot);
}

static void op_proc_destroy(struct model *m)
{
	uint32_t caller = (uint32_t)pick_live_proc(m);
	model_proc_destroy(m, rng_percent(m, 70) ? m->procs[caller].handle
						 : pick_dead_proc(m, caller));
}

/* ---- After every step: the kernel's visible state is the model's. ---- */

static void model_check_kernel(struct model *m)
{
	struct fake_port *fp = m->fp;
	const char *why = NULL;
	MODEL_CHECK(m, kernel_audit(fp->k, &why) == 0, "kernel audit failed: %s", why);

	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	MODEL_CHECK(m, st.frames_total == MODEL_FRAMES && st.frames_shared == 0,
		    "frames total %" PRIu32 " shared %" PRIu32, st.frames_total, st.frames_shared);
	MODEL_CHECK(m,
		    st.frames_free == model_frames_in(m, MFRAME_FREE) &&
			    st.frames_owned == model_frames_in(m, MFRAME_OWNED) &&
			    st.frames_queued == model_frames_in(m, MFRAME_QUEUED),
		    "frames free/owned/queued %" PRIu32 "/%" PRIu32 "/%" PRIu32 ", model %" PRIu32
		    "/%" PRIu32 "/%" PRIu32,
		    st.frames_free, st.frames_owned, st.frames_queued,
		    model_frames_in(m, MFRAME_FREE), model_frames_in(m, MFRAME_OWNED),
		    model_frames_in(m, MFRAME_QUEUED));
	MODEL_CHECK(m, st.procs == model_live_procs(m) && st.endpoints == model_live_endpoints(m),
		    "procs/endpoints %" PRIu32 "/%" PRIu32 ", model %" PRIu32 "/%" PRIu32, st.procs,
		    st.endpoints, model_live_procs(m), model_live_endpoints(m));
	MODEL_CHECK(m,
		    st.faults == m->faults && st.packets_sent == m->packets_sent &&
			    st.packets_received == m->packets_received,
		    "faults/sent/received %" PRIu64 "/%" PRIu64 "/%" PRIu64 ", model %" PRIu32
		    "/%" PRIu64 "/%" PRIu64,
		    st.faults, st.packets_sent, st.packets_received, m->faults, m->packets_sent,
		    m->packets_received);
	MODEL_CHECK(m, fp->wakes == m->wakes && fp->faults == m->faults,
		    "port saw %u wakes and %u faults, model %" PRIu32 " and %" PRIu32, fp->wakes,
		    fp->faults, m->wakes, m->faults);
	MODEL_CHECK(m, fp->grants == m->grants && fp->revokes == m->revokes,
		    "port saw %u grants and %u revokes, model %" PRIu32 " and %" PRIu32, fp->grants,
		    fp->revokes, m->grants, m->revokes);

	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++) {
		const struct model_proc *p = &m->procs[i];
		if (!p->alive)
			continue;
		struct kernel_proc_info info;
		MODEL_CHECK(m, kernel_proc_info(fp->k, p->handle, &info) == 0,
			    "live proc %#" PRIx64 " has no info", p->handle);
		MODEL_CHECK(m,
			    info.frames_owned == model_frames_owned_by(m, i) &&
				    info.endpoints == model_endpoints_of(m, i) &&
				    info.rights == p->rights && info.quota == p->quota,
			    "proc %#" PRIx64 " owns %" PRIu32 " frames, %" PRIu32
			    " endpoints, rights %#" PRIx32 ", quota %" PRIu32 "; model %" PRIu32
			    ", %" PRIu32 ", %#" PRIx32 ", %" PRIu32,
			    p->handle, info.frames_owned, info.endpoints, info.rights, info.quota,
			    model_frames_owned_by(m, i), model_endpoints_of(m, i), p->rights,
			    p->quota);
	}
	for (uint32_t i = 0; i < m->stale_procs.count; i++) {
		struct kernel_proc_info info;
		MODEL_CHECK(m,
			    kernel_proc_info(fp->k, m->stale_procs.handles[i], &info) ==
				    -PK_EBADHANDLE,
			    "dead proc %#" PRIx64 " still has info", m->stale_procs.handles[i]);
	}
}

/* ---- Runs. ---- */

static void model_step(struct model *m)
{
	uint32_t alive = model_live_procs(m);
	if (alive == 0) {
		op_proc_create(m);
		return;
	}
	/* Weights out of 100, with process creation on top: eager while fewer than the busy
	 * count live, rare above it, so the table still fills up now and then. */
	static const struct {
		uint32_t weight;
		void (*op)(struct model *);
	} ops[] = {
		{15, op_frame_alloc},
		{8, op_frame_free},
		{34, op_send},
		{18, op_recv},
		{10, op_endpoint_create},
		{3, op_endpoint_destroy},
		{4, op_route_set_default},
		{2, op_route_clear_default},
		{2, op_kan_prefix},
		{4, op_proc_destroy},
	};
	uint32_t create_weight = alive < MODEL_BUSY_PROCS ? 10 : 2;
	uint32_t r = rng_below(m, 100 + create_weight);
	if (r < create_weight) {
		op_proc_create(m);
		return;
	}
	r -= create_weight;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (r < ops[i].weight) {
			ops[i].op(m);
			return;
		}
		r -= ops[i].weight;
	}
}

static void model_run(uint64_t seed, uint32_t steps, struct model_coverage *coverage)
{
	struct fake_port *fp = &model_port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.frame_count = MODEL_FRAMES;
	cfg.default_quota = MODEL_QUOTA;
	cfg.queue_limit = MODEL_QUEUE_LIMIT;
	cfg.endpoints_per_proc = MODEL_ENDPOINTS_PER_PROC;
	cfg.max_endpoints = MODEL_MAX_ENDPOINTS;
	cfg.max_procs = MODEL_MAX_PROCS;
	cfg.hash_seed = seed * 0x9e3779b97f4a7c15ull + 1;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	/* Failures inside the kernel or the fake port (a panic) cannot name the seed: say it. */
	print_message("model run: seed %" PRIu64 ", %" PRIu32 " steps\n", seed, steps);

	struct model *m = &model_state;
	memset(m, 0, sizeof *m);
	m->fp = fp;
	m->seed = seed;
	m->rng = seed ^ 0x6a09e667f3bcc909ull;
	if (m->rng == 0)
		m->rng = 1;
	m->default_route = -1;
	m->coverage = coverage;
	memcpy(m->prefix, cfg.kan_prefix, PK_KAN_PREFIX_SIZE);
	snprintf(m->doing, sizeof m->doing, "start");

	for (m->step = 0; m->step < steps; m->step++) {
		model_step(m);
		model_check_kernel(m);
	}

	/* Destroy the survivors through the model, so teardown is checked too. */
	for (uint32_t i = 0; i < MODEL_MAX_PROCS; i++) {
		if (m->procs[i].alive) {
			model_proc_destroy(m, m->procs[i].handle);
			model_check_kernel(m);
		}
	}
	fake_port_stop(fp);
}

static uint64_t env_number(const char *name, uint64_t fallback, bool *ret_given)
{
	const char *text = getenv(name);
	*ret_given = text && *text;
	if (!*ret_given)
		return fallback;
	char *end;
	uint64_t value = strtoull(text, &end, 0);
	if (*end)
		fail_msg("%s=%s is not a number", name, text);
	return value;
}

static const char *coverage_row_name(uint32_t row)
{
	return row == COVER_PROC_CREATE	   ? "kernel_proc_create"
	       : row == COVER_PROC_DESTROY ? "kernel_proc_destroy"
	       : row == 0		   ? "a bad call number"
					   : kernel_call_name(row);
}

/* The outcomes a default run must have met; if the generator stops reaching one, the test
 * no longer checks what it claims to. */
static void model_assert_coverage(const struct model_coverage *c)
{
	static const struct {
		uint32_t row;
		int error;
	} wanted[] = {
		{0, PK_ENOSYS},
		{PK_KC_frame_alloc, 0},
		{PK_KC_frame_alloc, PK_EQUOTA},
		{PK_KC_frame_alloc, PK_ENOMEM},
		{PK_KC_frame_alloc, PK_EINVAL},
		{PK_KC_frame_free, 0},
		{PK_KC_frame_free, PK_EBADHANDLE},
		{PK_KC_frame_free, PK_ENOTOWNER},
		{PK_KC_send, 0},
		{PK_KC_send, PK_EBADHANDLE},
		{PK_KC_send, PK_ENOTOWNER},
		{PK_KC_send, PK_EINVAL},
		{PK_KC_send, PK_ELENGTH},
		{PK_KC_send, PK_ENOTIPV6},
		{PK_KC_send, PK_ESOURCE},
		{PK_KC_send, PK_EHOSTUNREACH},
		{PK_KC_send, PK_ENETUNREACH},
		{PK_KC_send, PK_ENOBUFS},
		{PK_KC_recv, 0},
		{PK_KC_recv, PK_EWOULDBLOCK},
		{PK_KC_recv, PK_EQUOTA},
		{PK_KC_recv, PK_ENOMEM},
		{PK_KC_recv, PK_EBADHANDLE},
		{PK_KC_recv, PK_ENOTOWNER},
		{PK_KC_endpoint_create, 0},
		{PK_KC_endpoint_create, PK_ELIMIT},
		{PK_KC_endpoint_create, PK_ENOSPC},
		{PK_KC_endpoint_create, PK_EINVAL},
		{PK_KC_endpoint_create, PK_EADDRINUSE},
		{PK_KC_endpoint_destroy, 0},
		{PK_KC_endpoint_destroy, PK_EBADHANDLE},
		{PK_KC_endpoint_destroy, PK_ENOTOWNER},
		{PK_KC_route_set_default, 0},
		{PK_KC_route_set_default, PK_EPERM},
		{PK_KC_route_set_default, PK_ENOTOWNER},
		{PK_KC_route_clear_default, 0},
		{PK_KC_route_clear_default, PK_EPERM},
		{PK_KC_kan_prefix, 0},
		{COVER_PROC_CREATE, 0},
		{COVER_PROC_CREATE, PK_ENOSPC},
		{COVER_PROC_DESTROY, 0},
		{COVER_PROC_DESTROY, PK_EBADHANDLE},
	};
	for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
		if (c->outcomes[wanted[i].row][wanted[i].error] == 0)
			fail_msg("the model runs never met %s ending in %s",
				 coverage_row_name(wanted[i].row), status_name(-wanted[i].error));
	}
	const struct {
		const char *what;
		uint64_t count;
	} events[] = {
		{"a call from a dead process", c->stale_callers},
		{"a stale handle of a frame that came back to its process",
		 c->stale_handles_of_own_frames},
		{"a dead process's handle of its reclaimed frame", c->handles_of_reclaimed_frames},
		{"a refused po_frame_grant", c->failed_grants},
		{"a wake", c->wakes},
		{"a fault", c->faults},
		{"a received packet forwarded", c->forwarded_packets},
		{"a packet sent along the default route", c->default_routed_packets},
		{"a packet received after its sender died", c->packets_outliving_sender},
	};
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
		if (events[i].count == 0)
			fail_msg("the model runs never met %s", events[i].what);
}

/* PACKOS_MODEL_VERBOSE=1 prints what the runs met, for tuning the generator's weights. */
static void model_print_coverage(const struct model_coverage *c)
{
	for (uint32_t row = 0; row < COVER_ROWS; row++) {
		print_message("%-20s", coverage_row_name(row));
		for (int error = 0; error < PK_ERROR_END; error++)
			if (c->outcomes[row][error])
				print_message(" %s %" PRIu64, status_name(-error),
					      c->outcomes[row][error]);
		print_message("\n");
	}
	print_message("stale callers %" PRIu64 ", stale own-frame handles %" PRIu64
		      ", reclaimed-frame handles %" PRIu64 ", refused grants %" PRIu64 "\n",
		      c->stale_callers, c->stale_handles_of_own_frames,
		      c->handles_of_reclaimed_frames, c->failed_grants);
	print_message("wakes %" PRIu64 ", faults %" PRIu64 ", forwarded %" PRIu64
		      ", default-routed %" PRIu64 ", outlived their sender %" PRIu64 "\n",
		      c->wakes, c->faults, c->forwarded_packets, c->default_routed_packets,
		      c->packets_outliving_sender);
}

static void test_kernel_matches_the_model_over_random_calls(void **state)
{
	(void)state;
	bool seed_given, steps_given;
	uint64_t seed = env_number("PACKOS_MODEL_SEED", 0, &seed_given);
	uint64_t steps = env_number("PACKOS_MODEL_STEPS", MODEL_DEFAULT_STEPS, &steps_given);
	if (steps > UINT32_MAX)
		fail_msg("PACKOS_MODEL_STEPS=%" PRIu64 " is too many", steps);

	struct model_coverage *coverage = &model_coverage_total;
	memset(coverage, 0, sizeof *coverage);
	if (seed_given) {
		model_run(seed, (uint32_t)steps, coverage);
		return;
	}
	for (size_t i = 0; i < sizeof model_default_seeds / sizeof model_default_seeds[0]; i++)
		model_run(model_default_seeds[i], (uint32_t)steps, coverage);
	if (getenv("PACKOS_MODEL_VERBOSE"))
		model_print_coverage(coverage);
	if (steps >= MODEL_DEFAULT_STEPS)
		model_assert_coverage(coverage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_matches_the_model_over_random_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
