/* The KAN, the Kernel Area Network: sending and receiving packets, and routing. */
#ifndef KCORE_KAN_H
#define KCORE_KAN_H

#include <stdint.h>

#include <packos/kan.h>

struct kan {
	uint64_t prefix;	/* the /64, its bytes in network order read as one number */
	uint32_t queue_limit;	/* packets queued at one endpoint */
	uint32_t default_route; /* endpoint receiving packets for outside the KAN, or KNIL */
};

struct kernel;

void kan_init(struct kan *kan, const uint8_t prefix[PK_KAN_PREFIX_SIZE], uint32_t queue_limit);

/* Kernel calls. Frames and endpoints are already checked to be the caller's. */
int kan_send(struct kernel *k, uint32_t proc, uint32_t frame, uint64_t length);
int kan_recv(struct kernel *k, uint32_t proc, uint32_t endpoint, uint32_t *ret_frame,
	     uint32_t *ret_length);
int kan_route_set_default(struct kernel *k, uint32_t proc, uint32_t endpoint);
int kan_route_clear_default(struct kernel *k, uint32_t proc);

/* Queues `frame`, which is in no list now, at `endpoint` (which has room) as a packet of
 * `length` bytes, and wakes the receiver if it asked to be. */
void kan_enqueue(struct kernel *k, uint32_t endpoint, uint32_t frame, uint32_t length);

/* Called as an endpoint goes away, so no route names it afterwards. */
void kan_forget_endpoint(struct kan *kan, uint32_t endpoint);

#endif
