/* The kernel core's port contract on Linux (kcore/port.h).
 *
 * Frames need no work on grant and revoke here: a program maps a frame of the pool's
 * memfd itself when the kernel gives it one (read-only when the handle is a share), and
 * its runtime unmaps it before sending (docs/sim.md, isolation modes). Wakes go to the
 * transport, faults to the process table. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "daemon.h"

static void linux_wake(void *ctx, pk_proc_t proc, pk_endpoint_t endpoint)
{
	struct daemon *d = ctx;
	struct sim_proc *p = proc_of_kernel(d, proc);
	if (p != NULL)
		channel_packet_arrived(d, p, endpoint);
}

static int linux_frame_grant(void *ctx, pk_proc_t proc, uint32_t frame_number, int writable)
{
	(void)ctx, (void)proc, (void)frame_number, (void)writable;
	return 0;
}

static void linux_frame_revoke(void *ctx, pk_proc_t proc, uint32_t frame_number)
{
	(void)ctx, (void)proc, (void)frame_number;
}

static void linux_proc_faulted(void *ctx, pk_proc_t proc, unsigned kcall_nr, int error)
{
	struct daemon *d = ctx;
	struct sim_proc *p = proc_of_kernel(d, proc);
	if (p == NULL)
		return;
	/* The kernel has destroyed it already; only the Linux process is left to stop. */
	p->kproc = 0;
	proc_fault(d, p, "kernel call %s: %s", kernel_call_name(kcall_nr),
		   kernel_error_name(error));
}

static void linux_panic(void *ctx, const char *why)
{
	(void)ctx;
	log_error("kernel panic: %s", why);
	abort();
}

const struct kport_ops linux_port_ops = {
	.po_wake = linux_wake,
	.po_frame_grant = linux_frame_grant,
	.po_frame_revoke = linux_frame_revoke,
	.po_proc_faulted = linux_proc_faulted,
	.po_panic = linux_panic,
};
