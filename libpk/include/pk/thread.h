/* Threads of a PackOS process, and the kernel's contexts they wait through.
 *
 * A thread started with pk_thread_start may make kernel calls like the main thread, each
 * through a transport of its own (in the simulator, a ring of the channel: up to 15 threads
 * besides the main one at once). A context (the kernel's view of a thread of control) is
 * tied many to many with the process's endpoints: bind up to 8 endpoints to a context and
 * pk_recv_any waits on all of them, taking turns; bind one endpoint to several contexts and
 * as many threads serve it, each packet going to one. A thread needs a context only to wait
 * on several endpoints at once; pk_recv on one endpoint works from any thread.
 *
 * The rest of libpk is not made safe for threads by this: a struct pk_frame belongs to
 * one thread at a time, and a network interface (pk/netif.h) to the thread that drives it
 * (docs/threads.md says how a process shares work between its threads). */
#ifndef PK_THREAD_H
#define PK_THREAD_H

#include <stdint.h>

#include <pk/pk.h>

typedef pk_handle_t pk_context_t;

/* -PK_ELIMIT: the process has its limit of contexts (16); -PK_ENOSPC: the kernel's table
 * is full. */
int pk_context_create(pk_context_t *ret_context);
int pk_context_destroy(pk_context_t context);
/* *ret_slot (if not NULL): the slot pk_recv_any names for packets from `endpoint`.
 * -PK_EALREADY: bound already; -PK_ELIMIT: the context has 8 endpoints. */
int pk_context_bind(pk_context_t context, pk_endpoint_t endpoint, unsigned *ret_slot);
/* -PK_ENOTMEMBER: not bound. */
int pk_context_unbind(pk_context_t context, pk_endpoint_t endpoint);
/* pk_recv on whichever endpoint bound to `context` has a packet; *ret_slot (if not NULL)
 * says which. -PK_EINVAL: nothing is bound. */
int pk_recv_any(pk_context_t context, struct pk_frame *frame, uint32_t *length, unsigned *ret_slot,
		uint32_t timeout_ms);

struct pk_thread {
	void *backend;
};

/* Runs body(arg) in a new thread. -PK_ELIMIT: too many threads at once; -PK_ENOTSUP: the
 * port runs one thread per process (the x86 port, for now). */
int pk_thread_start(struct pk_thread *thread, void (*body)(void *arg), void *arg);
/* Waits for the thread's body to return. */
int pk_thread_join(struct pk_thread *thread);

#endif
