/* PackOS ABI: handles and the frame geometry shared by the kernel and every program.
 *
 * A handle names one kernel object for one lifetime: it carries the object's kind, table
 * index and generation, so a stale handle never aliases a newer object in the same slot.
 * The layout is public on purpose: a program finds a frame's place in the pool from its
 * handle (PK_FRAME_NUMBER), and a debugger can print any handle without asking the kernel. */
#ifndef PACKOS_TYPES_H
#define PACKOS_TYPES_H

#include <stdint.h>

/* One frame holds one packet; the KAN link MTU is therefore the frame size. */
#define PK_FRAME_SIZE 4096u

typedef uint64_t pk_handle_t;
typedef pk_handle_t pk_frame_t;	   /* a frame the holder owns, or a read-only share of one */
typedef pk_handle_t pk_proc_t;	   /* a process (protection domain) */
typedef pk_handle_t pk_endpoint_t; /* a KAN address bound to a process */
typedef pk_handle_t pk_irq_t;	   /* an interrupt line attached to one of its endpoints */

/* Bits 63..60 kind, 59..32 generation, 31..0 index. Kind 0 is never issued, so the handle
 * 0 (and any zeroed memory) is always invalid. */
enum pk_handle_kind {
	PK_HANDLE_NONE = 0,
	PK_HANDLE_FRAME = 1,
	PK_HANDLE_PROC = 2,
	PK_HANDLE_ENDPOINT = 3,
	/* Reserved for the objects still to come; never reuse a number. */
	PK_HANDLE_GROUP = 4,
	PK_HANDLE_IRQ = 5,
	PK_HANDLE_CONTEXT = 6,
	/* A read-only share of a frame (a clock tick, a multicast packet) that other holders
	 * see too. Its index is the frame's number, as for PK_HANDLE_FRAME, so the frame's
	 * place in the pool is found the same way; its generation is the frame's for as long
	 * as the frame stays shared. The kind is what tells a runtime to map it read-only. */
	PK_HANDLE_SHARE = 7,
};

#define PK_HANDLE_KIND_SHIFT 60
#define PK_HANDLE_GEN_SHIFT  32
#define PK_HANDLE_GEN_MASK   0x0fffffffu

#define PK_HANDLE_MAKE(kind, gen, index)                                 \
	(((uint64_t)(kind) << PK_HANDLE_KIND_SHIFT) |                    \
	 ((uint64_t)((gen)&PK_HANDLE_GEN_MASK) << PK_HANDLE_GEN_SHIFT) | \
	 (uint64_t)(uint32_t)(index))
#define PK_HANDLE_KIND(h)  ((unsigned)((uint64_t)(h) >> PK_HANDLE_KIND_SHIFT))
#define PK_HANDLE_GEN(h)   ((uint32_t)((uint64_t)(h) >> PK_HANDLE_GEN_SHIFT) & PK_HANDLE_GEN_MASK)
#define PK_HANDLE_INDEX(h) ((uint32_t)(uint64_t)(h))

/* A frame's number is its index in the pool; its bytes start at number * PK_FRAME_SIZE.
 * The same for a frame handle and a share handle. */
#define PK_FRAME_NUMBER(h) PK_HANDLE_INDEX(h)

/* Rights are process attributes granted at creation; a kernel call that needs one fails
 * with PK_EPERM without it. */
enum pk_right {
	/* May send with any source address and may hold the default route. */
	PK_RIGHT_ROUTER = 1u << 0,
	/* May attach interrupt lines: a device driver. */
	PK_RIGHT_DRIVER = 1u << 1,
};

#endif
