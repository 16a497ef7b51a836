/* The KAN, the Kernel Area Network: a virtual link layer that moves whole frames.
 *
 * A packet is its own descriptor. kan_send reads the IPv6 header in the frame, checks it,
 * checks the source is the sender's (unless it is a router), and routes by destination:
 *   - inside the KAN prefix: the endpoint bound to that interface ID (hash, O(1));
 *   - multicast (ff00::/8): the group of that address, whose ring every member reads
 *     (group.c); beyond link-local scope also the egress, which the default route reads;
 *   - anything else: the default route, an endpoint a router registered.
 * A unicast frame then moves, without a copy, from the sender's owned list to the tail of
 * the destination's queue; a multicast frame becomes shared, read-only, in the group's ring.
 * Every failure leaves the frame with the sender, untouched. The one byte the kernel may
 * write is the hop limit, when the sender asks: a router that decided on a copy of the
 * header forwards the packet without writing the frame itself, which costs it a system
 * call where it has not mapped the frame (docs/kcalls.md).
 *
 * kan_recv never waits: it hands over a packet of the endpoint's groups first (as a
 * share), then one of its own queue; if there is none it answers -PK_EWOULDBLOCK and marks
 * the endpoint and its groups, and the next packet to arrive there asks the port to wake
 * the receiver (po_wake). */
#include "kan.h"

#include <packos/errors.h>
#include <packos/kmsg.h>

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
	} else {
		endpoint = k->kan.default_route;
		if (endpoint == KNIL)
			return -PK_ENETUNREACH;
	}
	*ret_endpoint = endpoint;
	return 0;
}

/* The frame leaves the sender: unmapped, off its owned list, in no list. */
static void kan_take_from_sender(struct kernel *k, uint32_t proc, uint32_t frame)
{
	struct frame_pool *pool = &k->frames;
	k->port.ops->po_frame_revoke(k->port.ctx, proc_handle(&k->procs, proc), frame);
	frame_list_remove(pool, &k->procs.procs[proc].owned, frame);
	pool->owned--;
	pool->frames[frame].kmsg = 0; /* whatever the kernel wrote, it is the sender's packet now */
	k->stats.packets_sent++;
}

/* After every check has passed, so a refused send leaves the frame untouched. */
static void kan_write_hop_limit(struct kernel *k, uint32_t frame, uint64_t hop_limit)
{
	if (hop_limit != 0)
		((struct pk_ipv6_header *)frame_bytes(&k->frames, frame))->hop_limit =
			(uint8_t)hop_limit;
}

/* RFC 4291 scopes 0 to 2 (reserved, interface-local, link-local) stay on the KAN; wider
 * ones may be for hosts beyond it, and the router, reading the egress, decides. */
static int multicast_leaves_link(const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	return (destination[1] & 0x0f) > 2;
}

/* Multicast: the frame becomes shared, put once into the group's ring for all its members
 * and, beyond link-local scope, once into the egress for the router, unless the router
 * sent it (a router forwarding a packet in from outside must not get it back). */
static int kan_send_multicast(struct kernel *k, uint32_t proc, uint32_t frame, uint64_t length,
			      const uint8_t destination[PK_IPV6_ADDR_SIZE], uint64_t hop_limit)
{
	const uint64_t address[2] = {kbytes_be64(destination), address_iid(destination)};
	uint32_t group = group_lookup(&k->groups, address);
	uint32_t route = k->kan.default_route;
	int leaves = multicast_leaves_link(destination);
	int egress = leaves && route != KNIL && k->endpoints.endpoints[route].proc != proc;
	if (group == KNIL && !egress)
		return leaves && route == KNIL ? -PK_ENETUNREACH : -PK_EHOSTUNREACH;

	kan_write_hop_limit(k, frame, hop_limit);
	kan_take_from_sender(k, proc, frame);
	k->frames.frames[frame].length = (uint16_t)length;
	frame_share(&k->frames, frame);
	k->stats.multicast_sent++;
	if (group != KNIL)
		group_put(k, group, frame);
	if (egress) {
		group_put(k, GROUP_EGRESS_INDEX, frame);
		k->stats.multicast_forwarded++;
	}
	return 0;
}

int kan_send(struct kernel *k, uint32_t proc, uint32_t frame, uint64_t length, uint64_t hop_limit)
{
	if (hop_limit > 255)
		return -PK_EINVAL;
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
	if (header.destination[0] == 0xff)
		return kan_send_multicast(k, proc, frame, length, header.destination, hop_limit);
	uint32_t endpoint;
	err = kan_route(k, header.destination, &endpoint);
	if (err < 0)
		return err;
	if (k->endpoints.endpoints[endpoint].queue.count >= k->kan.queue_limit)
		return -PK_ENOBUFS;

	kan_write_hop_limit(k, frame, hop_limit);
	kan_take_from_sender(k, proc, frame);
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
	endpoint_wake(k, endpoint);
}

void kan_write_kernel_header(const struct kernel *k, uint8_t *bytes, uint64_t destination_iid,
			     uint32_t payload_length)
{
	struct pk_ipv6_header *h = (struct pk_ipv6_header *)bytes;
	h->version_class_flow[0] = 6 << 4;
	h->payload_length[0] = (uint8_t)(payload_length >> 8);
	h->payload_length[1] = (uint8_t)payload_length;
	h->next_header = PK_KMSG_NEXT_HEADER;
	h->hop_limit = PK_KMSG_HOP_LIMIT;
	kbytes_put_be64(h->source, k->kan.prefix);
	kbytes_put_be64(h->source + PK_KAN_PREFIX_SIZE, PK_KAN_KERNEL_IID);
	kbytes_put_be64(h->destination, k->kan.prefix);
	kbytes_put_be64(h->destination + PK_KAN_PREFIX_SIZE, destination_iid);
}

int kan_recv(struct kernel *k, uint32_t proc, uint32_t endpoint, struct kan_delivery *ret)
{
	struct endpoint *e = &k->endpoints.endpoints[endpoint];
	struct proc *p = &k->procs.procs[proc];
	struct frame_pool *pool = &k->frames;

	int err = group_take(k, proc, endpoint, ret);
	if (err != -PK_EWOULDBLOCK) {
		if (err == 0)
			k->stats.packets_received++;
		return err;
	}
	uint32_t frame = e->queue.head;
	if (frame == KNIL) {
		kan_mark_waiting(k, endpoint);
		return -PK_EWOULDBLOCK;
	}
	if (proc_at_quota(p))
		return -PK_EQUOTA;
	err = k->port.ops->po_frame_grant(k->port.ctx, proc_handle(&k->procs, proc), frame, 1);
	KASSERT(k, err == 0 || err == -PK_ENOMEM, "po_frame_grant returns 0 or -PK_ENOMEM");
	if (err < 0)
		return err;

	frame_list_remove(pool, &e->queue, frame);
	pool->queued--;
	frame_set_holder(pool, frame, FRAME_OWNED, proc, p->gen);
	frame_list_push_tail(pool, &p->owned, frame);
	pool->owned++;
	k->stats.packets_received++;
	ret->frame = frame;
	ret->length = pool->frames[frame].length;
	ret->lost = 0;
	ret->shared = 0;
	ret->kmsg = pool->frames[frame].kmsg;
	return 0;
}

void kan_mark_waiting(struct kernel *k, uint32_t endpoint)
{
	k->endpoints.endpoints[endpoint].receiver_waiting = 1;
	group_wait(k, endpoint);
}

int kan_route_set_default(struct kernel *k, uint32_t proc, uint32_t endpoint)
{
	if (!(k->procs.procs[proc].rights & PK_RIGHT_ROUTER))
		return -PK_EPERM;
	if (k->kan.default_route == endpoint)
		return 0;
	kan_route_clear_default(k, proc);
	/* The default route reads the egress: multicast beyond the link, for the router. */
	group_member_add(k, GROUP_EGRESS_INDEX, endpoint);
	k->kan.default_route = endpoint;
	return 0;
}

int kan_route_clear_default(struct kernel *k, uint32_t proc)
{
	if (!(k->procs.procs[proc].rights & PK_RIGHT_ROUTER))
		return -PK_EPERM;
	uint32_t route = k->kan.default_route;
	if (route == KNIL)
		return 0;
	group_member_remove(k, group_member_find(k, route, GROUP_EGRESS_INDEX));
	k->kan.default_route = KNIL;
	return 0;
}

void kan_forget_endpoint(struct kan *kan, uint32_t endpoint)
{
	if (kan->default_route == endpoint)
		kan->default_route = KNIL;
}
