/* PackOS ABI: the kernel calls.
 *
 * PK_KCALL_LIST is the one table of kernel calls: the kernel's dispatch table, the user
 * stubs and the documentation check are all generated from it. Append only; never
 * renumber; number 0 is never a call, so a zeroed request is refused.
 *
 * Each call takes up to three argument words; the kind of each says how the kernel reads
 * it: NONE must be 0, VALUE is a plain number, FRAME must be a frame the caller owns (a
 * share it holds is refused with PK_ESHARED), HELD a frame it owns or a share it holds,
 * ENDPOINT an endpoint it holds, IRQ an interrupt line it has attached, CONTEXT a context
 * it created. Handles are checked in one place, before the call runs; a bad one faults the
 * caller (see errors.h). */
#ifndef PACKOS_KCALLS_H
#define PACKOS_KCALLS_H

#include <stddef.h>
#include <stdint.h>

enum pk_arg_kind {
	PK_ARG_NONE = 0,
	PK_ARG_VALUE = 1,
	PK_ARG_FRAME = 2,
	PK_ARG_ENDPOINT = 3,
	PK_ARG_IRQ = 4,
	PK_ARG_HELD = 5,
	PK_ARG_CONTEXT = 6,
};

/* X(number, name, arg0, arg1, arg2): results are described in docs/kcalls.md. group_join
 * and group_leave take the group's IPv6 address as two numbers whose big-endian bytes are
 * its first and last eight bytes. A context is a thread of control of a process (its
 * many-to-many tie to endpoints: a context waits on the endpoints bound to it, with
 * recv_any, and an endpoint may be bound to several contexts of its process). */
#define PK_KCALL_LIST(X)                               \
	X(1, frame_alloc, NONE, NONE, NONE)            \
	X(2, frame_free, HELD, NONE, NONE)             \
	X(3, send, FRAME, VALUE, VALUE)                \
	X(4, recv, ENDPOINT, NONE, NONE)               \
	X(5, endpoint_create, VALUE, NONE, NONE)       \
	X(6, endpoint_destroy, ENDPOINT, NONE, NONE)   \
	X(7, route_set_default, ENDPOINT, NONE, NONE)  \
	X(8, route_clear_default, NONE, NONE, NONE)    \
	X(9, kan_prefix, NONE, NONE, NONE)             \
	X(10, irq_attach, VALUE, ENDPOINT, NONE)       \
	X(11, irq_ack, IRQ, NONE, NONE)                \
	X(12, irq_detach, IRQ, NONE, NONE)             \
	X(13, tick_subscribe, ENDPOINT, NONE, NONE)    \
	X(14, tick_unsubscribe, ENDPOINT, NONE, NONE)  \
	X(15, group_join, ENDPOINT, VALUE, VALUE)      \
	X(16, group_leave, ENDPOINT, VALUE, VALUE)     \
	X(17, context_create, NONE, NONE, NONE)        \
	X(18, context_destroy, CONTEXT, NONE, NONE)    \
	X(19, context_bind, CONTEXT, ENDPOINT, NONE)   \
	X(20, context_unbind, CONTEXT, ENDPOINT, NONE) \
	X(21, recv_any, CONTEXT, NONE, NONE)

enum pk_kcall_nr {
#define PK__KCALL_ENUM(num, name, a0, a1, a2) PK_KC_##name = num,
	PK_KCALL_LIST(PK__KCALL_ENUM)
#undef PK__KCALL_ENUM
		PK_KC_END
};

#define PK_KCALL_ARGS	 3
#define PK_KCALL_RESULTS 2

/* A request as it crosses from a program to the kernel, whatever the transport. */
struct pk_kcall {
	uint32_t nr;	/* enum pk_kcall_nr */
	uint32_t flags; /* reserved, must be 0 */
	uint64_t arg[PK_KCALL_ARGS];
};

/* The kernel's answer: status is 0 or -PK_Exxx; ret[] is meaningful only when it is 0. */
struct pk_kresult {
	int64_t status;
	uint64_t ret[PK_KCALL_RESULTS];
};

/* recv's second result word: the packet's length in the low 16 bits, and in the high 32
 * the packets the endpoint lost just before this one from the same source of shared
 * packets (a multicast group: overwritten before it read them; the clock: ticks missed).
 * Bits 24 to 31 say what the kernel wrote: the packet's enum pk_kmsg_type (kmsg.h) if
 * the kernel made it (an interrupt, a tick), else 0; a receiver can tell an interrupt
 * without reading the frame. Bits 16 to 23 are 0 for recv. A packet from an endpoint's
 * own queue never reports a loss. */
#define PK_RECV_LENGTH(word) ((uint32_t)((word)&0xffffu))
#define PK_RECV_KMSG(word)   ((uint32_t)((uint64_t)(word) >> 24) & 0xffu)
#define PK_RECV_LOST(word)   ((uint32_t)((uint64_t)(word) >> 32))
/* recv_any's second result word is recv's, with bits 16 to 23 naming the binding the
 * packet came through: the slot context_bind answered for its endpoint. */
#define PK_RECV_BINDING(word) ((uint32_t)((uint64_t)(word) >> 16) & 0xffu)

/* Endpoints bound to one context at once: the slots 0 to PK_CONTEXT_BINDINGS - 1. */
#define PK_CONTEXT_BINDINGS 8u

_Static_assert(sizeof(struct pk_kcall) == 32, "pk_kcall is a 32-byte wire struct");
_Static_assert(offsetof(struct pk_kcall, arg) == 8, "pk_kcall.arg at 8");
_Static_assert(sizeof(struct pk_kresult) == 24, "pk_kresult is a 24-byte wire struct");
_Static_assert(offsetof(struct pk_kresult, ret) == 8, "pk_kresult.ret at 8");

#endif
