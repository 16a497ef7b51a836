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
};

struct kernel_stats {
	uint32_t frames_total;
	uint32_t frames_free;
	uint32_t frames_owned;
	uint32_t frames_queued;
	uint32_t frames_shared;
	uint32_t procs;
	uint32_t endpoints;
	uint64_t calls[PK_KC_END];     /* kernel calls by number, whatever their outcome */
	uint64_t errors[PK_ERROR_END]; /* failed kernel calls by error code */
	uint64_t faults;	       /* processes faulted */
	uint64_t packets_sent;
	uint64_t packets_received;
	uint32_t irq_lines_attached;
	uint64_t irq_raised;	/* raises the port reported */
	uint64_t irq_delivered; /* interrupt packets queued */
	uint64_t irq_spurious;	/* raises with nobody attached, or an endpoint gone */
};

struct kernel_proc_info {
	uint32_t rights;
	uint32_t quota;
	uint32_t frames_owned;
	uint32_t endpoints;
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

/* Destroys `proc` and reclaims at once every frame it owns, every endpoint it holds,
 * every interrupt line it attached and every packet queued at those endpoints. Packets it sent that
 * are queued elsewhere stay there. Returns 0, or -PK_EBADHANDLE. */
int kernel_proc_destroy(struct kernel *k, pk_proc_t proc);

/* The port's interrupt entry: the hardware raised `line`. O(1). Returns 0 (an interrupt
 * packet is queued and the line masked), -PK_EBUSY (the line is masked: the raise is held
 * back and delivered when the driver acknowledges), -PK_ENOMEM or -PK_ENOBUFS (held back:
 * no free frame, or the driver's queue is full; delivered at the next raise or ack),
 * -PK_EHOSTUNREACH (nobody has attached the line, or its endpoint is gone; dropped), or
 * -PK_EINVAL (no such line). */
int kernel_irq_raise(struct kernel *k, uint32_t line);

int kernel_proc_info(const struct kernel *k, pk_proc_t proc, struct kernel_proc_info *ret_info);

/* The pool number of `frame` (a frame handle, as a program passes it) if `proc` owns it
 * now: the IOMMU check of a port's devices, which may touch only frames their driver owns.
 * Returns 0, -PK_EBADHANDLE (not a current frame handle, or a stale `proc`) or
 * -PK_ENOTOWNER. O(1). */
int kernel_frame_of(const struct kernel *k, pk_proc_t proc, uint64_t frame,
		    uint32_t *ret_frame_number);

/* Describes up to `max` of `proc`'s endpoints in `ret_info`, newest first. Returns how
 * many it holds (which may exceed `max`), or -PK_EBADHANDLE. O(min(max, endpoints held)),
 * and a process holds at most endpoints_per_proc. */
int kernel_proc_endpoints(const struct kernel *k, pk_proc_t proc,
			  struct kernel_endpoint_info *ret_info, uint32_t max);

void kernel_stats(const struct kernel *k, struct kernel_stats *ret_stats);

/* Walks every table and list and checks the invariants: frame conservation (each frame in
 * exactly one place, and the counters agree), handles, hash and routes. Returns 0, or -1
 * with `*ret_why` naming the first broken invariant. Linear in the tables: tests, debug. */
int kernel_audit(struct kernel *k, const char **ret_why);

/* The kernel call's and the error's names ("send", "ENOBUFS"), or "?" if unknown. */
const char *kernel_call_name(unsigned nr);
const char *kernel_error_name(int error);

#endif
