/* The kernel core as a port sees it: set it up in an arena, create and destroy processes,
 * pass kernel calls in, read statistics. Everything here is O(1) except kernel_init and
 * kernel_audit, which are linear in the configured table sizes and never run on a hot path.
 *
 * The kernel is single-threaded: a port enters it from one thread at a time. */
#ifndef KCORE_KERNEL_H
#define KCORE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include <packos/errors.h>
#include <packos/kan.h>
#include <packos/kcalls.h>
#include <packos/types.h>

#include "kcore/port.h"

struct kernel;

struct kernel_config {
	void *frame_memory;	     /* frame_count * PK_FRAME_SIZE bytes, owned by the port */
	uint32_t frame_count;	     /* frames in the pool */
	uint32_t max_procs;	     /* processes alive at once */
	uint32_t max_endpoints;	     /* endpoints alive at once, all processes together */
	uint32_t endpoints_per_proc; /* endpoints one process may hold */
	uint32_t default_quota; /* frames a process may own at once, unless created with its own */
	uint32_t queue_limit;	/* packets queued at one endpoint */
	uint32_t irq_lines;	/* interrupt lines, numbered from 0; may be 0 */
	uint64_t hash_seed;	/* keys the address hash; pass boot-time randomness */
	uint8_t kan_prefix[PK_KAN_PREFIX_SIZE];
	/* Shared frames, the clock and multicast; each may be 0 except group_depth. */
	uint32_t max_shares;	      /* read-only holds of shared frames, all processes together */
	uint32_t max_groups;	      /* multicast groups with members at once */
	uint32_t group_members;	      /* endpoints in one group */
	uint32_t group_depth;	      /* packets a group keeps for its slowest member */
	uint32_t max_memberships;     /* group memberships, all groups together */
	uint32_t groups_per_endpoint; /* groups one endpoint may join */
	uint32_t tick_subscribers;    /* endpoints subscribed to the clock at once */
	uint64_t tick_ns;      /* the clock's period: the port calls kernel_clock_tick this often */
	uint32_t max_contexts; /* contexts alive at once, all processes together; may be 0 */
	uint32_t contexts_per_proc; /* contexts one process may create */
};

struct kernel_stats {
	uint32_t frames_total;
	uint32_t frames_free;
	uint32_t frames_owned;
	uint32_t frames_queued;
	uint32_t frames_shared;
	uint32_t procs;
	uint32_t endpoints;
	uint32_t contexts;
	uint64_t calls[PK_KC_END];     /* kernel calls by number, whatever their outcome */
	uint64_t errors[PK_ERROR_END]; /* failed kernel calls by error code */
	uint64_t faults;	       /* processes faulted */
	uint64_t packets_sent;
	uint64_t packets_received;
	uint32_t irq_lines_attached;
	uint64_t irq_raised;	/* raises the port reported */
	uint64_t irq_delivered; /* interrupt packets queued */
	uint64_t irq_spurious;	/* raises with nobody attached, or an endpoint gone */
	uint32_t shares;	/* share records: one process's hold on one shared frame */
	uint32_t groups;	/* multicast groups with members */
	uint32_t group_memberships;
	uint32_t tick_subscribers;
	uint64_t ticks;		      /* kernel_clock_tick calls */
	uint64_t ticks_dropped;	      /* ticks with subscribers and no free frame */
	uint64_t ticks_missed;	      /* ticks a subscriber did not get, counted at its next */
	uint64_t multicast_sent;      /* packets sent to a multicast address */
	uint64_t multicast_received;  /* multicast packets taken by members, ticks excluded */
	uint64_t multicast_lost;      /* packets overwritten before a member read them */
	uint64_t multicast_forwarded; /* multicast packets handed to the default route */
};

struct kernel_proc_info {
	uint32_t rights;
	uint32_t quota;
	uint32_t frames_owned;
	uint32_t frames_held; /* shares of shared frames; owned + held is checked against quota */
	uint32_t endpoints;
	uint32_t contexts;
};

struct kernel_endpoint_info {
	pk_endpoint_t handle;
	uint64_t iid;	 /* interface ID: the address is the KAN prefix followed by it */
	uint32_t queued; /* packets waiting in its receive queue */
};

/* Fills `cfg` with sane defaults; the port must still set frame_memory. */
void kernel_config_default(struct kernel_config *cfg);

/* Bytes of arena kernel_init needs for `cfg`, or 0 if `cfg` is invalid. */
size_t kernel_arena_size(const struct kernel_config *cfg);

/* Lays the kernel out in `arena` (which the port keeps alive for the kernel's life) and
 * sets every frame free. Returns 0, or -PK_EINVAL for a bad config or a short arena. */
int kernel_init(const struct kernel_config *cfg, const struct kport *port, void *arena,
		size_t arena_size, struct kernel **ret_kernel);

/* Runs one kernel call on behalf of `caller` and writes the answer to `ret`; returns
 * ret->status. `call` is read exactly once, so it may live in memory the caller shares.
 * If the call misused the ABI, `caller` is faulted before this returns (see
 * kport_ops.po_proc_faulted). A stale `caller` gets -PK_EBADHANDLE and nothing else. */
int kernel_call(struct kernel *k, pk_proc_t caller, const struct pk_kcall *call,
		struct pk_kresult *ret);

/* Creates a process with `rights` (enum pk_right bits) and a frame quota (0: the default).
 * Returns 0, or -PK_ENOSPC when the process table is full. */
int kernel_proc_create(struct kernel *k, uint32_t rights, uint32_t quota, pk_proc_t *ret_proc);

/* Destroys `proc` and reclaims at once every frame it owns, every endpoint it holds (with
 * their group memberships and clock subscriptions), every interrupt line it attached and
 * every packet queued at those endpoints, and releases every share it holds (a shared
 * frame goes back to the pool with its last holder). Packets it sent that are queued
 * elsewhere stay there. Time bounded by its endpoints and the shares it holds, never by
 * the frames it owns. Returns 0, or -PK_EBADHANDLE. */
int kernel_proc_destroy(struct kernel *k, pk_proc_t proc);

/* The port's interrupt entry: the hardware raised `line`. O(1). Returns 0 (an interrupt
 * packet is queued and the line masked), -PK_EBUSY (the line is masked: the raise is held
 * back and delivered when the driver acknowledges), -PK_ENOMEM or -PK_ENOBUFS (held back:
 * no free frame, or the driver's queue is full; delivered at the next raise or ack),
 * -PK_EHOSTUNREACH (nobody has attached the line, or its endpoint is gone; dropped), or
 * -PK_EINVAL (no such line). */
int kernel_irq_raise(struct kernel *k, uint32_t line);

/* The port's clock entry: call it every cfg.tick_ns nanoseconds (the port owns the timer)
 * with its monotonic time. If any endpoint is subscribed, the kernel takes one free frame,
 * writes a tick message into it (include/packos/kmsg.h) and offers that one frame, shared,
 * to every subscriber; a subscriber that has not taken the previous tick yet gets this one
 * instead, and the miss is counted and reported with it. O(1) plus one wake per
 * subscriber that waits in recv (each wake paid for by the recv that asked for it).
 * Returns 0, or -PK_ENOMEM: no free frame, the tick is lost for everyone and counted
 * (ticks_dropped), and subscribers see it as missed. */
int kernel_clock_tick(struct kernel *k, uint64_t now_ns);

/* Endpoints subscribed to the clock now: a port stops its timer when there are none. O(1). */
uint32_t kernel_clock_subscribers(const struct kernel *k);

int kernel_proc_info(const struct kernel *k, pk_proc_t proc, struct kernel_proc_info *ret_info);

/* The pool number of `frame` (a frame handle, as a program passes it) if `proc` owns it
 * now: the IOMMU check of a port's devices, which may touch only frames their driver owns.
 * Returns 0, -PK_EBADHANDLE (not a current frame handle, or a stale `proc`), -PK_ESHARED
 * (a share `proc` holds: read-only, so no device may write it) or -PK_ENOTOWNER. O(1). */
int kernel_frame_of(const struct kernel *k, pk_proc_t proc, uint64_t frame,
		    uint32_t *ret_frame_number);

/* Where frame `frame_number` (a pool number) waits, if it is queued at an endpoint: fills
 * the endpoint's process and interface ID and returns 1; returns 0, with both untouched,
 * if the frame is anywhere else (free, owned, shared) or there is no such frame. O(1). For
 * a port that reports what the kernel did (packosd's trace), never for a decision. */
int kernel_frame_queued_at(const struct kernel *k, uint32_t frame_number, pk_proc_t *ret_proc,
			   uint64_t *ret_iid);

/* Describes up to `max` of `proc`'s endpoints in `ret_info`, newest first. Returns how
 * many it holds (which may exceed `max`), or -PK_EBADHANDLE. O(min(max, endpoints held)),
 * and a process holds at most endpoints_per_proc. */
int kernel_proc_endpoints(const struct kernel *k, pk_proc_t proc,
			  struct kernel_endpoint_info *ret_info, uint32_t max);

void kernel_stats(const struct kernel *k, struct kernel_stats *ret_stats);

/* Walks every table and list and checks the invariants: frame conservation (each frame in
 * exactly one place, and the counters agree), the reference count of every shared frame,
 * shares, groups and their memberships, handles, hashes and routes. Returns 0, or -1
 * with `*ret_why` naming the first broken invariant. Linear in the tables: tests, debug. */
int kernel_audit(struct kernel *k, const char **ret_why);

/* The kernel call's and the error's names ("send", "ENOBUFS"), or "?" if unknown. */
const char *kernel_call_name(unsigned nr);
const char *kernel_error_name(int error);

#endif
