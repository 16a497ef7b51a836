/* The port contract: what a host (the Linux daemon, the x86 port, a test's fake) must give
 * the kernel core. The core calls the port; the port never reaches into the core's state.
 *
 * Every operation runs synchronously inside a kernel entry (kernel_call, kernel_proc_*), so
 * none may call back into the kernel, and none may block: the kernel never waits. */
#ifndef KCORE_PORT_H
#define KCORE_PORT_H

#include <stdint.h>

#include <packos/types.h>

struct kport_ops {
	/* A receive on `endpoint` found its queue empty, and a packet has now arrived there.
	 * Said once per such wait. The port must latch it (a wake that comes before the
	 * receiver sleeps must not be lost) and may coalesce wakes. Cannot fail. */
	void (*po_wake)(void *ctx, pk_proc_t proc, pk_endpoint_t endpoint);

	/* Frame `frame_number` is about to become reachable by `proc`: read-write when
	 * `writable` (allocation, receive of an ordinary packet: the process owns it), or
	 * read-only when not (the process takes its first share of a shared frame: other
	 * processes read the same bytes, so it must not be able to write them). Returns 0, or
	 * -PK_ENOMEM if the port cannot; the kernel then leaves the frame where it was and the
	 * kernel call fails with that error. A process holds a frame once at most: the kernel
	 * grants a share once however often the process receives it. */
	int (*po_frame_grant)(void *ctx, pk_proc_t proc, uint32_t frame_number, int writable);

	/* Frame `frame_number` has left `proc` (sent, freed, or its last share released): make
	 * it unreachable from the process before anyone else can own it. Cannot fail. Not said
	 * per frame when a whole process is destroyed: the port drops that address space at
	 * once. */
	void (*po_frame_revoke)(void *ctx, pk_proc_t proc, uint32_t frame_number);

	/* `proc` misused the ABI in kernel call `kcall_nr` (error `error`, a -PK_Exxx). The
	 * kernel has already destroyed it and reclaimed everything it held; the port must stop
	 * it from running and drop its address space. Cannot fail. */
	void (*po_proc_faulted)(void *ctx, pk_proc_t proc, unsigned kcall_nr, int error);

	/* A kernel invariant is broken; `why` says which. Must not return. */
	void (*po_panic)(void *ctx, const char *why);
};

struct kport {
	const struct kport_ops *ops;
	void *ctx; /* passed back to every operation */
};

#endif
