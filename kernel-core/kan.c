/* The KAN, the Kernel Area Network: a virtual link layer that moves whole frames.
 *
 * A packet is its own descriptor. kan_send reads the IPv6 header in the frame, checks it,
 * checks the source is the sender's (unless it is a router), and routes by destination:
 *   - inside the KAN prefix: the endpoint bound to that interface ID (hash, O(1));
 *   - multicast (ff00::/8): a group, once groups exist; until then -PK_ENOTSUP;
 *   - anything else: the default route, an endpoint a router registered.
 * The frame then moves, without a copy, from the sender's owned list to the tail of the
 * destination's queue. Every failure leaves the frame with the sender, untouched.
 *
 * kan_recv never waits: an empty queue answers -PK_EWOULDBLOCK and marks the endpoint, and
 * the next packet to arrive there asks the port to wake the receiver (po_wake). */
#include "kan.h"

#include <packos/errors.h>

#include "kstate.h"

void kan_init(struct kan *kan, const uint8_t prefix[PK_KAN_PREFIX_SIZE], uint32_t queue_limit)
{
	kan->prefix = kbytes_be64(prefix);
	kan->queue_limit = queue_limit;
	kan->default_route = KNIL;
}

static int kan_contains(const struct kan *kan, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return kbytes_be64(address) == kan->prefix;
}

static uint64_t address_iid(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return kbytes_be64(address + PK_KAN_PREFIX_SIZE);
}

static int kan_check_header(const struct pk_ipv6_header *h, uint64_t length)
{
	if ((h->version_class_flow[0] >> 4) != 6)
		return -PK_ENOTIPV6;
	uint32_t payload = (uint32_t)h->payload_length[0] << 8 | h->payload_length[1];
	if (PK_IPV6_HEADER_SIZE + payload != length)
		return -PK_ELENGTH;
	return 0;
}

static int kan_check_source(const struct kernel *k, uint32_t proc,
			    const uint8_t source[PK_IPV6_ADDR_SIZE])
{
	if (k->procs.procs[proc].rights & PK_RIGHT_ROUTER)
		return 0;
	if (!kan_contains(&k->kan, source))
		return -PK_ESOURCE;
	uint32_t endpoint = endpoint_lookup(&k->endpoints, address_iid(source));
	if (endpoint == KNIL || k->endpoints.endpoints[endpoint].proc != proc)
		return -PK_ESOURCE;
	return 0;
}

static int kan_route(const struct kernel *k, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		     uint32_t *ret_endpoint)
{
	uint32_t endpoint;
	if (kan_contains(&k->kan, destination)) {
		endpoint = endpoint_lookup(&k->endpoints, address_iid(destination));
		if (endpoint == KNIL)
			return -PK_EHOSTUNREACH;
	} else if (destination[0] == 0xff) {
		/* Multicast groups are kernel endpoints of their own; they arrive later. */
		return -PK_ENOTSUP;
	} else {
		endpoint = k->kan.default_route;
		if (endpoint == KNIL)
			return -PK_ENETUNREACH;
	}
	*ret_endpoint = endpoint;
	return 0;
}

int kan_send(struct kernel *k, uint32_t proc, uint32_t frame, uint64_t length)
{
	if (length < PK_IPV6_HEADER_SIZE || length > PK_FRAME_SIZE)
		return -PK_ELENGTH;

	/* Decide on a private copy: the sender may still write the frame in the shared mode. */
	struct pk_ipv6_header header;
	kbytes_copy(&header, frame_bytes(&k->frames, frame), sizeof header);

	int err = kan_check_header(&header, length);
	if (err < 0)
		return err;
	err = kan_check_source(k, proc, header.source);
	if (err < 0)
		return err;
	uint32_t endpoint;
	err = kan_route(k, header.destination, &endpoint);
	if (err < 0)
		return err;

	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	if (e->queue.count >= k->kan.queue_limit)
		return -PK_ENOBUFS;

	struct frame_pool *pool = &k->frames;
	struct proc *p = &k->procs.procs[proc];
	k->port.ops->po_frame_revoke(k->port.ctx, proc_handle(&k->procs, proc), frame);
	frame_list_remove(pool, &p->owned, frame);
	pool->owned--;
	k->stats.packets_sent++;
	kan_enqueue(k, endpoint, frame, (uint32_t)length);
	return 0;
}

void kan_enqueue(struct kernel *k, uint32_t endpoint, uint32_t frame, uint32_t length)
{
	struct frame_pool *pool = &k->frames;
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	frame_set_holder(pool, frame, FRAME_QUEUED, endpoint, e->gen);
	pool->frames[frame].length = (uint16_t)length;
	frame_list_push_tail(pool, &e->queue, frame);
	pool->queued++;
	if (e->receiver_waiting) {
		e->receiver_waiting = 0;
		k->port.ops->po_wake(k->port.ctx, proc_handle(&k->procs, e->proc),
				     endpoint_handle(&k->endpoints, endpoint));
	}
}

int kan_recv(struct kernel *k, uint32_t proc, uint32_t endpoint, uint32_t *ret_frame,
	     uint32_t *ret_length)
{
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	struct proc *p = &k->procs.procs[proc];
	struct frame_pool *pool = &k->frames;

	/* Multicast: the queues of the endpoint's groups are checked here first, once they exist.
	 */
	uint32_t frame = e->queue.head;
	if (frame == KNIL) {
		e->receiver_waiting = 1;
		return -PK_EWOULDBLOCK;
	}
	if (p->owned.count >= p->quota)
		return -PK_EQUOTA;
	int err = k->port.ops->po_frame_grant(k->port.ctx, proc_handle(&k->procs, proc), frame);
	KASSERT(k, err == 0 || err == -PK_ENOMEM, "po_frame_grant returns 0 or -PK_ENOMEM");
	if (err < 0)
		return err;

	frame_list_remove(pool, &e->queue, frame);
	pool->queued--;
	frame_set_holder(pool, frame, FRAME_OWNED, proc, p->gen);
	frame_list_push_tail(pool, &p->owned, frame);
	pool->owned++;
	k->stats.packets_received++;
	*ret_frame = frame;
	*ret_length = pool->frames[frame].length;
	return 0;
}

int kan_route_set_default(struct kernel *k, uint32_t proc, uint32_t endpoint)
{
	if (!(k->procs.procs[proc].rights & PK_RIGHT_ROUTER))
		return -PK_EPERM;
	k->kan.default_route = endpoint;
	return 0;
}

int kan_route_clear_default(struct kernel *k, uint32_t proc)
{
	if (!(k->procs.procs[proc].rights & PK_RIGHT_ROUTER))
		return -PK_EPERM;
	k->kan.default_route = KNIL;
	return 0;
}

void kan_forget_endpoint(struct kan *kan, uint32_t endpoint)
{
	if (kan->default_route == endpoint)
		kan->default_route = KNIL;
}
