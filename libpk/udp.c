/* UDP sockets: see pk/udp.h. The table and its queues are static; a queued datagram is a
 * delivered packet kept with its frame, so queueing copies nothing. */
#include <string.h>

#include "pk/net/frag.h"
#include "pk/net/icmpv6.h"
#include "pk/net/ipv6.h"
#include "pk/udp.h"
#include "pk/bytes.h"

#include "ephemeral.h"

struct datagram {
	struct pk_netif_packet packet;
	struct pk_udp_datagram udp;
};

struct udp_socket {
	bool open, bound, connected;
	bool any_address; /* bound to all of the process's addresses */
	uint8_t address[PK_IPV6_ADDR_SIZE];
	uint16_t port;
	uint8_t peer[PK_IPV6_ADDR_SIZE];
	uint16_t peer_port;
	int error; /* reported by the next receive */
	struct datagram queue[PK_UDP_QUEUE];
	unsigned head, count;
};

static struct udp_socket sockets[PK_UDP_SOCKETS];
static struct pk_udp_counters counters;
static struct pk__ephemeral ephemeral;
/* A datagram larger than a frame is laid out here, headers first, to go in fragments. */
static uint8_t large[PK_UDP_PAYLOAD_AT + PK_UDP_PAYLOAD_MAX];
/* A reassembled datagram has no frame to wait in: one at a time waits here instead, for a
 * socket that was not receiving when it came. */
static uint8_t waiting_large[PK_REASM_HEADROOM + PK_NETIF_DATAGRAM_MAX];
static bool waiting_large_used;

/* Lets go of a queued datagram: its frame, or the room for a reassembled one. */
static void release_queued(struct pk_netif_packet *packet)
{
	if (packet->data == waiting_large)
		waiting_large_used = false;
	pk_netif_release(packet);
}

static struct udp_socket *socket_at(int socket)
{
	if (socket < 0 || (unsigned)socket >= PK_UDP_SOCKETS || !sockets[socket].open)
		return NULL;
	return &sockets[socket];
}

int pk_udp_open(void)
{
	pk_netif_add_input(pk_udp_input);
	for (unsigned i = 0; i < PK_UDP_SOCKETS; i++) {
		if (!sockets[i].open) {
			sockets[i] = (struct udp_socket){.open = true};
			return (int)i;
		}
	}
	return -PK_ELIMIT;
}

int pk_udp_close(int socket)
{
	struct udp_socket *s = socket_at(socket);
	if (s == NULL)
		return -PK_EINVAL;
	for (; s->count > 0; s->count--, s->head++)
		release_queued(&s->queue[s->head % PK_UDP_QUEUE].packet);
	*s = (struct udp_socket){0};
	return 0;
}

/* Whether a socket other than `self` holds `port` on an address that overlaps `address`
 * (NULL: all of them). */
static bool port_taken(const struct udp_socket *self, const uint8_t *address, uint16_t port)
{
	for (unsigned i = 0; i < PK_UDP_SOCKETS; i++) {
		const struct udp_socket *s = &sockets[i];
		if (s == self || !s->open || !s->bound || s->port != port)
			continue;
		if (address == NULL || s->any_address ||
		    memcmp(s->address, address, PK_IPV6_ADDR_SIZE) == 0)
			return true;
	}
	return false;
}

struct binding {
	const struct udp_socket *self;
	const uint8_t *address;
};

static bool ephemeral_taken(uint16_t port, const void *context)
{
	const struct binding *b = context;
	return port_taken(b->self, b->address, port);
}

int pk_udp_bind(int socket, const uint8_t *address, uint16_t port)
{
	struct udp_socket *s = socket_at(socket);
	int err = pk_netif_init();
	if (err < 0)
		return err;
	if (s == NULL || s->bound)
		return -PK_EINVAL;
	if (address != NULL && !pk_iface_has_address(pk_netif_iface(), address))
		return -PK_EINVAL;
	if (port == 0) {
		int free = pk__ephemeral_port(&ephemeral, ephemeral_taken,
					      &(struct binding){s, address});
		if (free < 0)
			return free;
		port = (uint16_t)free;
	} else if (port_taken(s, address, port)) {
		return -PK_EADDRINUSE;
	}
	s->bound = true;
	s->any_address = address == NULL;
	if (address != NULL)
		memcpy(s->address, address, PK_IPV6_ADDR_SIZE);
	s->port = port;
	return 0;
}

int pk_udp_connect(int socket, const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port)
{
	struct udp_socket *s = socket_at(socket);
	if (s == NULL || port == 0)
		return -PK_EINVAL;
	if (!s->bound) {
		int err = pk_udp_bind(socket, NULL, 0);
		if (err < 0)
			return err;
	}
	s->connected = true;
	memcpy(s->peer, address, PK_IPV6_ADDR_SIZE);
	s->peer_port = port;
	return 0;
}

int pk_udp_sendto(int socket, const void *data, uint32_t length,
		  const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port)
{
	struct udp_socket *s = socket_at(socket);
	if (s == NULL || length > PK_UDP_PAYLOAD_MAX || port == 0)
		return -PK_EINVAL;
	if (!s->bound) {
		int err = pk_udp_bind(socket, NULL, 0);
		if (err < 0)
			return err;
	}
	const uint8_t *source = s->any_address ? pk_netif_iface()->address[0] : s->address;
	struct pk_netif_packet packet = {0};
	if (PK_UDP_PAYLOAD_AT + length <= PK_FRAME_SIZE) {
		int err = pk_netif_packet_alloc(&packet);
		if (err < 0)
			return err;
	} else {
		packet.data = large; /* no frame holds it: it goes in fragments */
	}
	memcpy(packet.data + PK_UDP_PAYLOAD_AT, data, length);
	packet.length =
		pk_udp_write(packet.data, source, s->port, address, port, length, PK_NET_HOP_LIMIT);
	int err = pk_netif_send(&packet);
	if (err < 0)
		return err;
	counters.sent++;
	return (int)length;
}

int pk_udp_send(int socket, const void *data, uint32_t length)
{
	struct udp_socket *s = socket_at(socket);
	if (s == NULL || !s->connected)
		return -PK_EINVAL;
	return pk_udp_sendto(socket, data, length, s->peer, s->peer_port);
}

/* The socket a datagram is for: a connected one whose peer sent it before one bound
 * alone, and one bound to the datagram's destination before one bound to all. */
static struct udp_socket *socket_for(const struct pk_ipv6_header *h,
				     const struct pk_udp_datagram *d)
{
	struct udp_socket *best = NULL;
	int best_rank = 0;
	for (unsigned i = 0; i < PK_UDP_SOCKETS; i++) {
		struct udp_socket *s = &sockets[i];
		if (!s->open || !s->bound || s->port != d->destination_port)
			continue;
		if (!s->any_address && memcmp(s->address, h->destination, PK_IPV6_ADDR_SIZE) != 0)
			continue;
		if (s->connected && (s->peer_port != d->source_port ||
				     memcmp(s->peer, h->source, PK_IPV6_ADDR_SIZE) != 0))
			continue;
		int rank = 1 + (s->connected ? 2 : 0) + (s->any_address ? 0 : 1);
		if (rank > best_rank) {
			best = s;
			best_rank = rank;
		}
	}
	return best;
}

/* A port unreachable quoting a datagram a connected socket sent: its next receive says so. */
static bool take_refusal(struct pk_netif_packet *packet)
{
	const uint8_t *icmp = packet->data + packet->upper_offset;
	uint32_t icmp_length = packet->length - packet->upper_offset;
	if (icmp_length < PK_ICMPV6_HEADER_SIZE + PK_IPV6_HEADER_SIZE + PK_UDP_HEADER_SIZE ||
	    icmp[0] != PK_ICMPV6_DEST_UNREACHABLE || icmp[1] != PK_ICMPV6_UNREACH_PORT)
		return false;
	const struct pk_ipv6_header *quoted =
		(const struct pk_ipv6_header *)(icmp + PK_ICMPV6_HEADER_SIZE);
	const uint8_t *udp = icmp + PK_ICMPV6_HEADER_SIZE + PK_IPV6_HEADER_SIZE;
	if (quoted->next_header != PK_IPPROTO_UDP)
		return false;
	for (unsigned i = 0; i < PK_UDP_SOCKETS; i++) {
		struct udp_socket *s = &sockets[i];
		if (s->open && s->connected && s->port == pk_get16(udp) &&
		    s->peer_port == pk_get16(udp + 2) &&
		    memcmp(s->peer, quoted->destination, PK_IPV6_ADDR_SIZE) == 0) {
			s->error = -PK_ECONNREFUSED;
			counters.refused++;
			pk_netif_release(packet);
			return true;
		}
	}
	return false;
}

/* Copies a datagram out to the caller of pk_udp_recvfrom and releases it. */
static int hand_over(struct pk_netif_packet *packet, const struct pk_udp_datagram *d, void *buffer,
		     uint32_t size, uint8_t *ret_address, uint16_t *ret_port)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet->data;
	uint32_t n = d->payload_length < size ? d->payload_length : size;
	if (n > 0)
		memcpy(buffer, packet->data + d->payload_offset, n);
	if (ret_address != NULL)
		memcpy(ret_address, h->source, PK_IPV6_ADDR_SIZE);
	if (ret_port != NULL)
		*ret_port = d->source_port;
	release_queued(packet);
	return (int)n;
}

enum input_outcome { NOT_UDP, TAKEN, FOR_RECEIVER };

/* Queues a datagram at `s`: in its frame, or a reassembled one copied to the room for one;
 * false if there is no room. */
static bool enqueue(struct udp_socket *s, struct pk_netif_packet *packet,
		    const struct pk_udp_datagram *d)
{
	if (s->count == PK_UDP_QUEUE)
		return false;
	struct datagram *slot = &s->queue[(s->head + s->count) % PK_UDP_QUEUE];
	if (packet->frame.handle != 0) {
		slot->packet = *packet;
		*packet = (struct pk_netif_packet){0};
	} else {
		if (waiting_large_used || packet->length > sizeof waiting_large)
			return false;
		memcpy(waiting_large, packet->data, packet->length);
		waiting_large_used = true;
		slot->packet =
			(struct pk_netif_packet){.data = waiting_large, .length = packet->length};
		pk_netif_release(packet);
	}
	slot->udp = *d;
	s->count++;
	return true;
}

/* Offers a delivered packet to the sockets. A reassembled datagram for `receiver` goes to
 * it at once (FOR_RECEIVER, *ret_datagram set), as it lives only until the next receive. */
static enum input_outcome input(struct pk_netif_packet *packet, const struct udp_socket *receiver,
				struct pk_udp_datagram *ret_datagram)
{
	if (packet->protocol == PK_IPPROTO_ICMPV6)
		return take_refusal(packet) ? TAKEN : NOT_UDP;
	if (packet->protocol != PK_IPPROTO_UDP)
		return NOT_UDP;
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet->data;
	struct pk_udp_datagram d;
	pk_udp_read(packet->data, packet->upper_offset, &d);
	struct udp_socket *s = socket_for(h, &d);
	if (s == NULL) {
		/* Not sent to a group, nor over the stack's rate limit (RFC 4443 §2.4). */
		if (pk_netif_reject(packet, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT,
				    0) == 0)
			counters.port_unreachable++;
		return TAKEN;
	}
	if (packet->frame.handle == 0 && s == receiver && s->count == 0) {
		counters.received++;
		*ret_datagram = d;
		return FOR_RECEIVER;
	}
	if (enqueue(s, packet, &d)) {
		counters.received++;
	} else {
		counters.dropped++;
		pk_netif_release(packet);
	}
	return TAKEN;
}

bool pk_udp_input(struct pk_netif_packet *packet)
{
	struct pk_udp_datagram unused;
	return input(packet, NULL, &unused) != NOT_UDP;
}

int pk_udp_recvfrom(int socket, void *buffer, uint32_t size, uint8_t *ret_address,
		    uint16_t *ret_port, uint32_t timeout_ms)
{
	struct udp_socket *s = socket_at(socket);
	if (s == NULL || !s->bound)
		return -PK_EINVAL;
	const uint64_t start = pk_now_ns();
	for (;;) {
		if (s->error != 0) {
			int err = s->error;
			s->error = 0;
			return err;
		}
		if (s->count > 0) {
			struct datagram *next = &s->queue[s->head % PK_UDP_QUEUE];
			s->head++;
			s->count--;
			return hand_over(&next->packet, &next->udp, buffer, size, ret_address,
					 ret_port);
		}
		uint32_t wait = timeout_ms;
		if (timeout_ms != 0 && timeout_ms != PK_WAIT_FOREVER) {
			uint64_t spent_ms = (pk_now_ns() - start) / 1000000u;
			if (spent_ms >= timeout_ms)
				return -PK_ETIMEDOUT;
			wait = (uint32_t)(timeout_ms - spent_ms);
		}
		struct pk_netif_packet packet = {0};
		int err = pk_netif_recv(&packet, wait);
		if (err < 0)
			return err;
		struct pk_udp_datagram d;
		switch (input(&packet, s, &d)) {
		case FOR_RECEIVER:
			return hand_over(&packet, &d, buffer, size, ret_address, ret_port);
		case NOT_UDP:
			pk_netif_dispatch(&packet);
			break;
		case TAKEN:
			break;
		}
	}
}

const struct pk_udp_counters *pk_udp_counters(void)
{
	return &counters;
}
