/* Multicast through the kernel's groups or through the multicast server, behind one API
 * (pk/mcast.h). The kernel design is pk_group_join and a send to the group's address; the
 * server design is the protocol of <packos/mcast.h>: requests answered by a REPLY, data
 * wrapped in a header the server rewrites for each member. */
#include <string.h>

#include "pk/mcast.h"
#include "pk/bytes.h"

#define MCAST_HEADER_SIZE  ((uint32_t)sizeof(struct pk_mcast_header))
#define MCAST_PAYLOAD_AT   (PK_IPV6_HEADER_SIZE + MCAST_HEADER_SIZE)
#define MCAST_HOP_LIMIT	   64
#define NANOSECONDS_PER_MS 1000000u

void pk_mcast_init(struct pk_mcast *m, enum pk_mcast_design design, pk_endpoint_t endpoint,
		   const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	m->design = design;
	m->endpoint = endpoint;
	memcpy(m->address, address, PK_IPV6_ADDR_SIZE);
	memcpy(m->server, address, PK_KAN_PREFIX_SIZE);
	uint64_t iid = PK_MCAST_SERVER_IID;
	for (unsigned i = 0; i < 8; i++)
		m->server[PK_KAN_PREFIX_SIZE + i] = (uint8_t)(iid >> (56 - 8 * i));
}

static struct pk_mcast_header *header_of(uint8_t *packet)
{
	return (struct pk_mcast_header *)(packet + PK_IPV6_HEADER_SIZE);
}

static uint64_t get64(const uint8_t bytes[8])
{
	return (uint64_t)pk_get32(bytes) << 32 | pk_get32(bytes + 4);
}

/* A message to the server of `payload_length` bytes after its header. */
static uint32_t server_message(const struct pk_mcast *m, uint8_t *packet, enum pk_mcast_type type,
			       const uint8_t group[PK_IPV6_ADDR_SIZE], uint32_t payload_length)
{
	struct pk_mcast_header *h = header_of(packet);
	memset(h, 0, sizeof *h);
	memcpy(h->magic, PK_MCAST_MAGIC, sizeof h->magic);
	h->type = (uint8_t)type;
	if (group != NULL)
		memcpy(h->group, group, PK_IPV6_ADDR_SIZE);
	if (type != PK_MCAST_DATA)
		memcpy(h->member, m->address, PK_IPV6_ADDR_SIZE);
	pk_ipv6_header_init(packet, m->address, m->server, PK_MCAST_NEXT_HEADER,
			    (uint16_t)(MCAST_HEADER_SIZE + payload_length), MCAST_HOP_LIMIT);
	return MCAST_PAYLOAD_AT + payload_length;
}

/* The server's header of `packet`, if it is one of the server's messages. */
static const struct pk_mcast_header *from_server(const struct pk_mcast *m, const uint8_t *packet,
						 uint32_t length)
{
	const struct pk_ipv6_header *ip = (const struct pk_ipv6_header *)packet;
	const struct pk_mcast_header *h =
		(const struct pk_mcast_header *)(packet + PK_IPV6_HEADER_SIZE);
	if (length < MCAST_PAYLOAD_AT || ip->next_header != PK_MCAST_NEXT_HEADER ||
	    memcmp(ip->source, m->server, PK_IPV6_ADDR_SIZE) != 0 ||
	    memcmp(h->magic, PK_MCAST_MAGIC, sizeof h->magic) != 0)
		return NULL;
	return h;
}

static int milliseconds_left(uint64_t deadline_ns, uint32_t *ret_ms)
{
	uint64_t now = pk_now_ns();
	if (now >= deadline_ns)
		return -PK_ETIMEDOUT;
	*ret_ms = (uint32_t)((deadline_ns - now + NANOSECONDS_PER_MS - 1) / NANOSECONDS_PER_MS);
	return 0;
}

/* Sends a request to the server and waits for its answer, which it returns in `reply` (the
 * caller frees it if its data is not NULL) with the answer's status. Other packets
 * meanwhile are dropped. */
static int server_request(const struct pk_mcast *m, enum pk_mcast_type type,
			  const uint8_t group[PK_IPV6_ADDR_SIZE], uint32_t timeout_ms,
			  struct pk_frame *reply, uint32_t *reply_length)
{
	*reply = (struct pk_frame){0};
	uint64_t deadline = timeout_ms == PK_WAIT_FOREVER
				    ? UINT64_MAX
				    : pk_now_ns() + (uint64_t)timeout_ms * NANOSECONDS_PER_MS;
	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return err;
	uint32_t length = server_message(m, frame.data, type, group, 0);
	if ((err = pk_send(&frame, length)) < 0) {
		pk_frame_free(&frame);
		return err;
	}
	for (;;) {
		uint32_t wait_ms = PK_WAIT_FOREVER;
		if (deadline != UINT64_MAX && (err = milliseconds_left(deadline, &wait_ms)) < 0)
			return err;
		if ((err = pk_recv(m->endpoint, reply, reply_length, wait_ms)) < 0)
			return err;
		const struct pk_mcast_header *h = from_server(m, reply->data, *reply_length);
		if (h != NULL && h->type == PK_MCAST_REPLY && h->request == type &&
		    (group == NULL || memcmp(h->group, group, PK_IPV6_ADDR_SIZE) == 0))
			return -(int)h->status;
		pk_frame_free(reply);
	}
}

static int membership_request(const struct pk_mcast *m, enum pk_mcast_type type,
			      const uint8_t group[PK_IPV6_ADDR_SIZE], uint32_t timeout_ms)
{
	struct pk_frame reply;
	uint32_t length;
	int err = server_request(m, type, group, timeout_ms, &reply, &length);
	if (reply.data != NULL)
		pk_frame_free(&reply);
	return err;
}

int pk_mcast_join(const struct pk_mcast *m, const uint8_t group[PK_IPV6_ADDR_SIZE],
		  uint32_t timeout_ms)
{
	if (m->design == PK_MCAST_KERNEL)
		return pk_group_join(m->endpoint, group);
	return membership_request(m, PK_MCAST_JOIN, group, timeout_ms);
}

int pk_mcast_leave(const struct pk_mcast *m, const uint8_t group[PK_IPV6_ADDR_SIZE],
		   uint32_t timeout_ms)
{
	if (m->design == PK_MCAST_KERNEL)
		return pk_group_leave(m->endpoint, group);
	return membership_request(m, PK_MCAST_LEAVE, group, timeout_ms);
}

uint32_t pk_mcast_payload_offset(const struct pk_mcast *m)
{
	return m->design == PK_MCAST_KERNEL ? PK_IPV6_HEADER_SIZE : MCAST_PAYLOAD_AT;
}

uint32_t pk_mcast_packet(const struct pk_mcast *m, uint8_t *packet,
			 const uint8_t group[PK_IPV6_ADDR_SIZE], uint8_t next_header,
			 uint32_t payload_length)
{
	if (m->design == PK_MCAST_KERNEL) {
		pk_ipv6_header_init(packet, m->address, group, next_header,
				    (uint16_t)payload_length, MCAST_HOP_LIMIT);
		return PK_IPV6_HEADER_SIZE + payload_length;
	}
	uint32_t length = server_message(m, packet, PK_MCAST_DATA, group, payload_length);
	header_of(packet)->next_header = next_header;
	return length;
}

int pk_mcast_send(const struct pk_mcast *m, struct pk_frame *frame,
		  const uint8_t group[PK_IPV6_ADDR_SIZE], uint8_t next_header,
		  uint32_t payload_length)
{
	return pk_send(frame, pk_mcast_packet(m, frame->data, group, next_header, payload_length));
}

bool pk_mcast_parse(const struct pk_mcast *m, const struct pk_frame *frame, uint32_t length,
		    struct pk_mcast_received *ret)
{
	const struct pk_ipv6_header *ip = (const struct pk_ipv6_header *)frame->data;
	if (length < PK_IPV6_HEADER_SIZE)
		return false;
	if (m->design == PK_MCAST_KERNEL) {
		if (ip->destination[0] != 0xff)
			return false;
		memcpy(ret->group, ip->destination, PK_IPV6_ADDR_SIZE);
		memcpy(ret->sender, ip->source, PK_IPV6_ADDR_SIZE);
		ret->next_header = ip->next_header;
		ret->payload_offset = PK_IPV6_HEADER_SIZE;
		ret->lost = frame->lost;
	} else {
		const struct pk_mcast_header *h = from_server(m, frame->data, length);
		if (h == NULL || h->type != PK_MCAST_DATA)
			return false;
		memcpy(ret->group, h->group, PK_IPV6_ADDR_SIZE);
		memcpy(ret->sender, h->member, PK_IPV6_ADDR_SIZE);
		ret->next_header = h->next_header;
		ret->payload_offset = MCAST_PAYLOAD_AT;
		ret->lost = pk_get32(h->lost);
	}
	ret->payload_length = length - ret->payload_offset;
	return true;
}

int pk_mcast_server_status(const struct pk_mcast *m, uint64_t ret_counters[PK_MCAST_COUNTER_COUNT],
			   uint32_t timeout_ms)
{
	if (m->design == PK_MCAST_KERNEL)
		return -PK_ENOTSUP;
	struct pk_frame reply;
	uint32_t length;
	int err = server_request(m, PK_MCAST_STATUS, NULL, timeout_ms, &reply, &length);
	if (reply.data == NULL)
		return err;
	if (err == 0 && length < MCAST_PAYLOAD_AT + 8u * PK_MCAST_COUNTER_COUNT)
		err = -PK_ELENGTH;
	for (unsigned i = 0; err == 0 && i < PK_MCAST_COUNTER_COUNT; i++)
		ret_counters[i] = get64(reply.data + MCAST_PAYLOAD_AT + 8u * i);
	pk_frame_free(&reply);
	return err;
}
