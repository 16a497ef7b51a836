/* Neighbor Discovery messages (RFC 4861, and the route information option of RFC 4191):
 * checking the ones that arrive and building the ones the router sends.
 *
 * Parsing never writes to the packet and never reads past its length; it returns
 * ROUTER_OK or the reason the message is invalid. Builders write whole IPv6 packets, hop
 * limit 255 and checksum set, at the start of a buffer of PK_FRAME_SIZE bytes. */
#ifndef NIC_DRIVER_NDP_H
#define NIC_DRIVER_NDP_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

#include "ethernet.h"
#include "router_drop.h"

enum ndp_type {
	NDP_ROUTER_SOLICIT = 133,
	NDP_ROUTER_ADVERT = 134,
	NDP_NEIGHBOUR_SOLICIT = 135,
	NDP_NEIGHBOUR_ADVERT = 136,
	NDP_REDIRECT = 137,
};

/* Flags of a neighbour advertisement, in its first byte after the checksum. */
enum ndp_advert_flag {
	NDP_ADVERT_ROUTER = 0x80,
	NDP_ADVERT_SOLICITED = 0x40,
	NDP_ADVERT_OVERRIDE = 0x20,
};

/* Option types (RFC 4861 §4.6, RFC 4191 §2.3). */
enum ndp_option {
	NDP_OPTION_SOURCE_MAC = 1,
	NDP_OPTION_TARGET_MAC = 2,
	NDP_OPTION_PREFIX = 3,
	NDP_OPTION_MTU = 5,
	NDP_OPTION_ROUTE = 24,
};

/* Every NDP message travels with this hop limit, which proves it came from the link. */
#define NDP_HOP_LIMIT 255u

/* A message that passed ndp_parse; pointers lead into the packet. */
struct ndp_message {
	uint8_t type;
	uint8_t flags;		   /* NA: enum ndp_advert_flag */
	const uint8_t *target;	   /* NS, NA, redirect */
	const uint8_t *source_mac; /* the source link-layer option; NULL if none */
	const uint8_t *target_mac; /* the target link-layer option; NULL if none */
};

/* Whether an ICMPv6 type is one of Neighbor Discovery's. */
bool ndp_is_ndp(uint8_t icmp_type);

/* Checks the NDP message in `packet` (`length` bytes, whose header, chain and ICMPv6
 * checksum the caller has verified) by RFC 4861 §6.1 and §7.1: hop limit 255, code 0, the
 * type's length, options of non-zero length within the message (link-layer ones 8 bytes
 * holding a unicast MAC),
 * targets not multicast, the rules for the unspecified source, and no Fragment header
 * (RFC 6980). Returns ROUTER_OK with *ret filled in, or the reason. */
enum router_drop ndp_parse(const uint8_t *packet, uint32_t length, struct ndp_message *ret);

/* ff02::1:ffXX:XXXX, the group whose members may hold `address` (RFC 4291 §2.7.1). */
void ndp_solicited_node(const uint8_t address[PK_IPV6_ADDR_SIZE],
			uint8_t ret_group[PK_IPV6_ADDR_SIZE]);
bool ndp_is_solicited_node(const uint8_t address[PK_IPV6_ADDR_SIZE]);

/* A neighbour solicitation for `target`, with a source link-layer option when `mac` is not
 * NULL. Returns the packet's length. */
uint32_t ndp_build_solicit(uint8_t *out, const uint8_t source[PK_IPV6_ADDR_SIZE],
			   const uint8_t destination[PK_IPV6_ADDR_SIZE],
			   const uint8_t target[PK_IPV6_ADDR_SIZE],
			   const uint8_t mac[ETHERNET_ADDRESS_SIZE]);

/* A neighbour advertisement for `target` with `flags` and a target link-layer option. */
uint32_t ndp_build_advert(uint8_t *out, const uint8_t source[PK_IPV6_ADDR_SIZE],
			  const uint8_t destination[PK_IPV6_ADDR_SIZE],
			  const uint8_t target[PK_IPV6_ADDR_SIZE], uint8_t flags,
			  const uint8_t mac[ETHERNET_ADDRESS_SIZE]);

/* What a router advertisement says. */
struct ndp_router_advert {
	const uint8_t *source; /* the router's link-local address */
	const uint8_t *mac;
	uint8_t hop_limit;	    /* for hosts to use; 0: unspecified */
	uint16_t router_lifetime_s; /* 0: not a default router */
	uint32_t mtu;
	const uint8_t *on_link_prefix; /* a /64 with L=1, A=0 */
	uint32_t prefix_valid_s;
	uint32_t prefix_preferred_s;
	const uint8_t *route_prefix; /* a /64 reachable through this router (RFC 4191) */
	uint32_t route_lifetime_s;
};

/* A router advertisement to all nodes (ff02::1) with the source link-layer, MTU, prefix
 * information and route information options, in that order. */
uint32_t ndp_build_router_advert(uint8_t *out, const struct ndp_router_advert *advert);

#endif
