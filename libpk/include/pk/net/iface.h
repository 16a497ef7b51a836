/* An IPv6 interface: the addresses a process answers to on one link, the link's MTU, and
 * the counters of everything the stack did with the packets that came in on it. The KAN
 * interface of a process is one; a router has an Ethernet interface beside it. */
#ifndef PK_NET_IFACE_H
#define PK_NET_IFACE_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>
#include <pk/net/counters.h>

#define PK_IFACE_ADDRESSES 8u
/* Multicast groups joined beyond ff02::1 (a router's all-routers and solicited-node groups). */
#define PK_IFACE_GROUPS 8u

struct pk_iface {
	/* Set by the owner through pk_iface_*. */
	uint8_t address[PK_IFACE_ADDRESSES][PK_IPV6_ADDR_SIZE];
	unsigned address_count;
	uint8_t group[PK_IFACE_GROUPS][PK_IPV6_ADDR_SIZE];
	unsigned group_count;
	uint32_t mtu; /* bytes; the KAN's is PK_FRAME_SIZE */
	/* Written by the stack. */
	struct pk_net_counters counters;
};

void pk_iface_init(struct pk_iface *iface, uint32_t mtu);

/* Adds a unicast address: -PK_EINVAL for a multicast or unspecified one, -PK_ELIMIT when
 * PK_IFACE_ADDRESSES are there already; adding one twice does nothing. */
int pk_iface_add_address(struct pk_iface *iface, const uint8_t address[PK_IPV6_ADDR_SIZE]);

/* Whether `address` is one of the interface's unicast addresses. */
bool pk_iface_has_address(const struct pk_iface *iface, const uint8_t address[PK_IPV6_ADDR_SIZE]);

/* Joins a multicast group: -PK_EINVAL for an address that is not multicast, -PK_ELIMIT
 * when PK_IFACE_GROUPS are joined already; joining one twice does nothing. */
int pk_iface_join(struct pk_iface *iface, const uint8_t group[PK_IPV6_ADDR_SIZE]);

/* Whether a packet to `destination` is for this interface: one of its addresses, the
 * link-local all-nodes group ff02::1 every node belongs to, or a group it joined. */
bool pk_iface_accepts(const struct pk_iface *iface, const uint8_t destination[PK_IPV6_ADDR_SIZE]);

/* The description of a drop reason, "unknown" for anything else. */
const char *pk_iface_drop_name(enum pk_net_drop reason);

#endif
