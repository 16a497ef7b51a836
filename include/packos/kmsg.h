/* PackOS ABI: kernel messages, the packets the kernel itself sends on the KAN.
 *
 * The kernel speaks to programs the way everything else does: in IPv6 packets, queued at
 * one of their endpoints and taken with recv. Its source address is the KAN prefix with
 * interface ID 0, which no endpoint can hold (endpoint_create reads 0 as "choose one"),
 * so no program can forge it; hop limit 255, as for NDP, says it never crossed a router.
 * The next header is PK_KMSG_NEXT_HEADER, and every message starts with its type byte.
 * Multi-byte fields are big-endian byte arrays, as on the wire. */
#ifndef PACKOS_KMSG_H
#define PACKOS_KMSG_H

#include <stdint.h>

#include "kan.h"

/* RFC 3692's second experimental value: kernel messages never leave the KAN. */
#define PK_KMSG_NEXT_HEADER 254
#define PK_KMSG_HOP_LIMIT   255
#define PK_KAN_KERNEL_IID   0u

enum pk_kmsg_type {
	PK_KMSG_IRQ = 1,  /* an interrupt on a line attached to the receiving endpoint */
	PK_KMSG_TICK = 2, /* a tick of the kernel clock, to an endpoint subscribed to it */
};

/* An interrupt. The line is masked from the moment this packet is queued until the driver
 * calls irq_ack; raises meanwhile are folded into the next packet. */
struct pk_kmsg_irq {
	uint8_t type; /* PK_KMSG_IRQ */
	uint8_t reserved[3];
	uint8_t line[4];   /* the interrupt line */
	uint8_t raised[4]; /* raises this packet stands for: 1, or more when folded */
	uint8_t reserved2[4];
	uint8_t sequence[8]; /* interrupt packets sent for this attachment, this one included */
	uint8_t irq[8];	     /* the attachment's handle, for irq_ack */
};

_Static_assert(sizeof(struct pk_kmsg_irq) == 32, "an interrupt message is 32 bytes");

/* A clock tick. One frame per tick is shared, read-only, by every subscriber, so it says
 * only what is the same for all of them; its destination is the kernel's address, like its
 * source. How many ticks this subscriber missed since the last one it got (it had not read
 * that one yet, or the kernel had no free frame) comes with the packet, in recv's result
 * (PK_RECV_LOST in kcalls.h), and is also the gap in `tick`. */
struct pk_kmsg_tick {
	uint8_t type; /* PK_KMSG_TICK */
	uint8_t reserved[7];
	uint8_t tick[8];      /* ticks since the kernel started, this one included */
	uint8_t now_ns[8];    /* the port's monotonic time at this tick, in nanoseconds */
	uint8_t period_ns[8]; /* the configured time between ticks */
};

_Static_assert(sizeof(struct pk_kmsg_tick) == 32, "a tick message is 32 bytes");

#endif
