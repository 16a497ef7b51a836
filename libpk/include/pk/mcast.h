/* Multicast either way: through the kernel's groups (pk_group_join in <pk/pk.h>) or through
 * the multicast server (servers/mcast-server, <packos/mcast.h>), chosen by one value, so a
 * program can be measured or run with both designs unchanged.
 *
 * Sending: write the payload at pk_mcast_payload_offset() in a frame you own, then
 * pk_mcast_send (or pk_mcast_packet and a pk_send_burst of your own). Receiving: take
 * packets with pk_recv as usual and read each with pk_mcast_parse, which says whether it is
 * a multicast packet, where its payload is, who sent it and how many were lost before it.
 *
 * Kernel design: the packet goes to the group's address; members get shares of one frame
 * (read-only) and the kernel counts what a slow member lost. Server design: the packet goes
 * to the server, which copies it into a frame per member; members get frames of their own
 * and the server counts what a member's full queue refused. */
#ifndef PK_MCAST_H
#define PK_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/mcast.h>
#include <pk/pk.h>

enum pk_mcast_design {
	PK_MCAST_KERNEL, /* the kernel's multicast groups */
	PK_MCAST_SERVER, /* the multicast server at PK_MCAST_SERVER_IID */
};

/* One endpoint's way to multicast. */
struct pk_mcast {
	enum pk_mcast_design design;
	pk_endpoint_t endpoint;
	uint8_t address[PK_IPV6_ADDR_SIZE]; /* the endpoint's */
	uint8_t server[PK_IPV6_ADDR_SIZE];  /* the server's, in the same KAN prefix */
};

void pk_mcast_init(struct pk_mcast *m, enum pk_mcast_design design, pk_endpoint_t endpoint,
		   const uint8_t address[PK_IPV6_ADDR_SIZE]);

/* The endpoint becomes a member of `group`. Errors as pk_group_join's: -PK_EINVAL not
 * multicast, -PK_EALREADY a member already, -PK_ENOSPC a table is full (-PK_ELIMIT: the
 * kernel's per-endpoint limit). The server design sends a request and waits up to
 * `timeout_ms` for the answer (-PK_ETIMEDOUT), dropping whatever else arrives at the
 * endpoint meanwhile: join and leave before the traffic starts. */
int pk_mcast_join(const struct pk_mcast *m, const uint8_t group[PK_IPV6_ADDR_SIZE],
		  uint32_t timeout_ms);
/* -PK_EINVAL not multicast, -PK_ENOTMEMBER not a member; otherwise as pk_mcast_join. */
int pk_mcast_leave(const struct pk_mcast *m, const uint8_t group[PK_IPV6_ADDR_SIZE],
		   uint32_t timeout_ms);

/* Where the payload goes in a packet of this design. */
uint32_t pk_mcast_payload_offset(const struct pk_mcast *m);
/* Writes the headers in front of the `payload_length` bytes at the payload offset of
 * `packet` (a frame's data) and returns the packet's length, ready for pk_send. */
uint32_t pk_mcast_packet(const struct pk_mcast *m, uint8_t *packet,
			 const uint8_t group[PK_IPV6_ADDR_SIZE], uint8_t next_header,
			 uint32_t payload_length);
/* pk_mcast_packet, then pk_send: its errors (the kernel's -PK_EHOSTUNREACH for a group
 * without members; for the server design the server's queue is the destination, so
 * -PK_ENOBUFS when the server falls behind and -PK_EHOSTUNREACH when it is not running). */
int pk_mcast_send(const struct pk_mcast *m, struct pk_frame *frame,
		  const uint8_t group[PK_IPV6_ADDR_SIZE], uint8_t next_header,
		  uint32_t payload_length);

struct pk_mcast_received {
	uint8_t group[PK_IPV6_ADDR_SIZE];
	uint8_t sender[PK_IPV6_ADDR_SIZE]; /* who sent it to the group */
	uint8_t next_header;		   /* the payload's protocol */
	uint32_t payload_offset, payload_length;
	uint32_t lost; /* packets of the group this member missed just before this one */
};

/* Reads a packet received at the endpoint: true (and `ret` filled) if it is a multicast
 * packet of this design, false if it is anything else (a unicast packet, a reply). */
bool pk_mcast_parse(const struct pk_mcast *m, const struct pk_frame *frame, uint32_t length,
		    struct pk_mcast_received *ret);

/* The server's counters (PK_MCAST_COUNTER_LIST), asked for as pk_mcast_join asks; the
 * kernel design has none of its own here (packosctl counters shows the kernel's):
 * -PK_ENOTSUP. */
int pk_mcast_server_status(const struct pk_mcast *m, uint64_t ret_counters[PK_MCAST_COUNTER_COUNT],
			   uint32_t timeout_ms);

#endif
