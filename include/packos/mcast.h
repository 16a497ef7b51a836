/* PackOS ABI: the multicast server's protocol (servers/mcast-server, docs/multicast.md).
 *
 * The alternative to the kernel's multicast groups: one process at a well-known KAN
 * address keeps the members of each group and forwards a copy of every packet sent to a
 * group through it to each member. Every message is an IPv6 packet with next header
 * PK_MCAST_NEXT_HEADER whose payload starts with a struct pk_mcast_header:
 *
 *   JOIN, LEAVE   member -> server; `group` the multicast address, `member` the member's
 *                 own address (the packet's source: a process joins only itself). The
 *                 server answers with a REPLY.
 *   STATUS        anyone -> server; answered with a REPLY whose payload after the header is
 *                 PK_MCAST_COUNTER_COUNT big-endian 64-bit counters (PK_MCAST_COUNTER_LIST).
 *   REPLY         server -> asker; `request` the type answered, `status` 0 or the PackOS
 *                 error (a positive PK_Exxx), `group` and `member` as asked.
 *   DATA          sender -> server: `group` the destination group, `next_header` the
 *                 payload's protocol, the payload after the header. The server sends a copy
 *                 to each member: from the server, to the member, `member` now the original
 *                 sender and `lost` how many packets for this member the server dropped
 *                 just before this one. Data is never answered.
 *
 * Multi-byte fields are big-endian byte arrays, as on the wire. */
#ifndef PACKOS_MCAST_H
#define PACKOS_MCAST_H

#include <stdint.h>

#include "kan.h"

/* The server's interface ID in the KAN prefix: "m". */
#define PK_MCAST_SERVER_IID 0x6du

/* RFC 3692's first experimental value; the magic tells this protocol from other
 * experiments using it on the KAN. */
#define PK_MCAST_NEXT_HEADER 253
#define PK_MCAST_MAGIC	     "PKMC"

enum pk_mcast_type {
	PK_MCAST_JOIN = 1,
	PK_MCAST_LEAVE = 2,
	PK_MCAST_DATA = 3,
	PK_MCAST_REPLY = 4,
	PK_MCAST_STATUS = 5,
};

struct pk_mcast_header {
	uint8_t magic[4];    /* PK_MCAST_MAGIC, without its NUL */
	uint8_t type;	     /* enum pk_mcast_type */
	uint8_t status;	     /* REPLY: 0 or a PackOS error number */
	uint8_t request;     /* REPLY: the type of the message answered */
	uint8_t next_header; /* DATA: the protocol of the payload */
	uint8_t lost[4];     /* DATA from the server: packets this member missed before this */
	uint8_t group[PK_IPV6_ADDR_SIZE];
	uint8_t member[PK_IPV6_ADDR_SIZE]; /* see the types above */
};

_Static_assert(sizeof(struct pk_mcast_header) == 44, "the multicast header is 44 bytes");

/* The server's counters, in the order of a STATUS reply: index, name, meaning. */
#define PK_MCAST_COUNTER_LIST(X)                                              \
	X(0, groups, "groups with members")                                   \
	X(1, members, "memberships")                                          \
	X(2, requests, "join, leave and status requests answered")            \
	X(3, refused, "requests answered with an error")                      \
	X(4, data, "data packets received to forward")                        \
	X(5, forwarded, "copies queued at members")                           \
	X(6, dropped_queue_full, "copies a member's full queue refused")      \
	X(7, members_gone, "members removed because their address went away") \
	X(8, no_members, "data packets for a group without members")          \
	X(9, no_frame, "copies not made for want of a frame")                 \
	X(10, malformed, "packets that were not this protocol, dropped")

enum pk_mcast_counter {
#define PK__MCAST_COUNTER_ENUM(index, name, meaning) PK_MCAST_COUNTER_##name = index,
	PK_MCAST_COUNTER_LIST(PK__MCAST_COUNTER_ENUM)
#undef PK__MCAST_COUNTER_ENUM
		PK_MCAST_COUNTER_COUNT
};

#endif
