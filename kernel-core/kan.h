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

/* What recv hands over: a frame, owned (from the endpoint's queue) or shared (from a group
 * or the clock), with the packet's length and the losses to report with it. */
struct kan_delivery {
	uint32_t frame;
	uint32_t length;
	uint32_t lost; /* packets of the same group lost just before this one */
	uint8_t shared;
	uint8_t kmsg; /* enum pk_kmsg_type of a message the kernel wrote; 0 for a packet */
};

struct kernel;

void kan_init(struct kan *kan, const uint8_t prefix[PK_KAN_PREFIX_SIZE], uint32_t queue_limit);

/* Kernel calls. Frames and endpoints are already checked to be the caller's. */
int kan_send(struct kernel *k, uint32_t proc, uint32_t frame, uint64_t length, uint64_t hop_limit);
int kan_recv(struct kernel *k, uint32_t proc, uint32_t endpoint, struct kan_delivery *ret);
/* Someone waits on `endpoint`: the next packet there, or in any of its groups, asks the
 * port to wake its process (once). */
void kan_mark_waiting(struct kernel *k, uint32_t endpoint);
int kan_route_set_default(struct kernel *k, uint32_t proc, uint32_t endpoint);
int kan_route_clear_default(struct kernel *k, uint32_t proc);

/* Writes the IPv6 header of a kernel message (include/packos/kmsg.h) at `bytes`: from the
 * kernel's address to KAN interface ID `destination_iid`, `payload_length` bytes after it. */
void kan_write_kernel_header(const struct kernel *k, uint8_t *bytes, uint64_t destination_iid,
			     uint32_t payload_length);

/* Queues `frame`, which is in no list now, at `endpoint` (which has room) as a packet of
 * `length` bytes, and wakes the receiver if it asked to be. */
void kan_enqueue(struct kernel *k, uint32_t endpoint, uint32_t frame, uint32_t length);

/* Called as an endpoint goes away, so no route names it afterwards. */
void kan_forget_endpoint(struct kan *kan, uint32_t endpoint);

#endif
