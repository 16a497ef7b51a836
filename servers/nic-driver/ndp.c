/* Neighbor Discovery messages: the checks of RFC 4861 §6.1 and §7.1, and the builders.
 *
 * Every message the router sends is built here whole, so the fixed layouts and option
 * sizes live in one place; the parser reads options with every length checked against the
 * bytes left before it looks inside. */
#include <string.h>

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>
#include <pk/pk.h>

#include "ndp.h"
#include <pk/bytes.h>

enum {
	/* The fixed part of each message, options after it. */
	SOLICIT_SIZE = 24,
	ADVERT_SIZE = 24,
	ROUTER_SOLICIT_SIZE = 8,
	ROUTER_ADVERT_SIZE = 16,
	REDIRECT_SIZE = 40,
	TARGET_AT = 8,
	CHECKSUM_AT = 2,
	/* Options count their length in units of 8 bytes. */
	OPTION_UNIT = 8,
	MAC_OPTION_SIZE = 8,
	MTU_OPTION_SIZE = 8,
	PREFIX_OPTION_SIZE = 32,
	ROUTE_OPTION_SIZE = 16, /* for a /64: 8 bytes of prefix */
	PREFIX_ON_LINK = 0x80,
	PREFIX_LENGTH = 64,
};

static const uint8_t all_nodes[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 1};

static bool is_link_local(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return address[0] == 0xfe && (address[1] & 0xc0) == 0x80;
}

bool ndp_is_ndp(uint8_t icmp_type)
{
	return icmp_type >= NDP_ROUTER_SOLICIT && icmp_type <= NDP_REDIRECT;
}

void ndp_solicited_node(const uint8_t address[PK_IPV6_ADDR_SIZE],
			uint8_t ret_group[PK_IPV6_ADDR_SIZE])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, 0xff};
	memcpy(ret_group, prefix, sizeof prefix);
	memcpy(ret_group + 13, address + 13, 3);
}

bool ndp_is_solicited_node(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	uint8_t group[PK_IPV6_ADDR_SIZE];
	ndp_solicited_node(address, group);
	return memcmp(group, address, PK_IPV6_ADDR_SIZE) == 0;
}

static uint32_t fixed_size(uint8_t type)
{
	switch (type) {
	case NDP_ROUTER_SOLICIT:
		return ROUTER_SOLICIT_SIZE;
	case NDP_ROUTER_ADVERT:
		return ROUTER_ADVERT_SIZE;
	case NDP_NEIGHBOUR_SOLICIT:
		return SOLICIT_SIZE;
	case NDP_NEIGHBOUR_ADVERT:
		return ADVERT_SIZE;
	default:
		return REDIRECT_SIZE;
	}
}

static enum router_drop parse_options(const uint8_t *options, uint32_t length,
				      struct ndp_message *ret)
{
	uint32_t at = 0;
	while (at < length) {
		uint32_t left = length - at;
		if (left < 2 || options[at + 1] == 0 || options[at + 1] * OPTION_UNIT > left)
			return ROUTER_DROP_NDP_OPTION;
		uint8_t type = options[at];
		uint32_t size = options[at + 1] * OPTION_UNIT;
		if (type == NDP_OPTION_SOURCE_MAC || type == NDP_OPTION_TARGET_MAC) {
			/* On Ethernet a link-layer address option is exactly 8 bytes, and a
			 * neighbour's address is never a group's. */
			if (size != MAC_OPTION_SIZE || ethernet_is_multicast(options + at + 2))
				return ROUTER_DROP_NDP_OPTION;
			if (type == NDP_OPTION_SOURCE_MAC)
				ret->source_mac = options + at + 2;
			else
				ret->target_mac = options + at + 2;
		}
		at += size;
	}
	return ROUTER_OK;
}

/* The rules a message's addresses must keep, once its layout is known to be sound. */
static enum router_drop check_addresses(const struct pk_ipv6_header *h, const struct ndp_message *m)
{
	bool unspecified = pk_ipv6_is_unspecified(h->source);
	if (m->target && pk_ipv6_is_multicast(m->target))
		return ROUTER_DROP_NDP_TARGET_MULTICAST;
	switch (m->type) {
	case NDP_NEIGHBOUR_SOLICIT:
		/* Duplicate address detection: only to the target's group, with no address
		 * to learn. */
		if (unspecified && (!ndp_is_solicited_node(h->destination) || m->source_mac))
			return ROUTER_DROP_NDP_UNSPECIFIED_SOURCE;
		break;
	case NDP_ROUTER_SOLICIT:
		if (unspecified && m->source_mac)
			return ROUTER_DROP_NDP_UNSPECIFIED_SOURCE;
		break;
	case NDP_NEIGHBOUR_ADVERT:
		if (unspecified)
			return ROUTER_DROP_NDP_UNSPECIFIED_SOURCE;
		if (pk_ipv6_is_multicast(h->destination) && (m->flags & NDP_ADVERT_SOLICITED))
			return ROUTER_DROP_NDP_SOLICITED_MULTICAST;
		break;
	default: /* router advertisement, redirect */
		if (!is_link_local(h->source))
			return ROUTER_DROP_NDP_ROUTER_SOURCE;
		break;
	}
	return ROUTER_OK;
}

enum router_drop ndp_parse(const uint8_t *packet, uint32_t length, struct ndp_message *ret)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet;
	struct pk_ipv6_chain chain;
	enum pk_net_drop walk = pk_ipv6_parse_chain(packet, length, &chain);
	if (walk != PK_NET_OK)
		return (enum router_drop)walk;
	if (chain.fragment_offset != 0)
		return ROUTER_DROP_NDP_FRAGMENTED;
	if (chain.upper_protocol != PK_IPPROTO_ICMPV6)
		return ROUTER_DROP_PROTOCOL_UNHANDLED;
	const uint8_t *icmp = packet + chain.upper_offset;
	uint32_t icmp_length = length - chain.upper_offset;
	if (icmp_length < PK_ICMPV6_HEADER_SIZE)
		return ROUTER_DROP_ICMP_SHORT;
	if (!ndp_is_ndp(icmp[0]))
		return ROUTER_DROP_ICMP_UNHANDLED;
	if (h->hop_limit != NDP_HOP_LIMIT)
		return ROUTER_DROP_NDP_HOP_LIMIT;
	if (icmp[1] != 0)
		return ROUTER_DROP_NDP_CODE;
	uint32_t fixed = fixed_size(icmp[0]);
	if (icmp_length < fixed)
		return ROUTER_DROP_NDP_LENGTH;

	struct ndp_message m = {.type = icmp[0]};
	if (m.type == NDP_NEIGHBOUR_SOLICIT || m.type == NDP_NEIGHBOUR_ADVERT ||
	    m.type == NDP_REDIRECT)
		m.target = icmp + TARGET_AT;
	if (m.type == NDP_NEIGHBOUR_ADVERT)
		m.flags = icmp[4];
	enum router_drop reason = parse_options(icmp + fixed, icmp_length - fixed, &m);
	if (reason == ROUTER_OK)
		reason = check_addresses(h, &m);
	if (reason == ROUTER_OK)
		*ret = m;
	return reason;
}

/* The IPv6 header of an NDP message of `icmp_length` bytes, and its ICMPv6 type; the
 * caller writes the rest and calls finish(). */
static uint8_t *start(uint8_t *out, const uint8_t *source, const uint8_t *destination, uint8_t type,
		      uint32_t icmp_length)
{
	/* Any address may point into `out`: copy both before writing over them. */
	uint8_t from[PK_IPV6_ADDR_SIZE], to[PK_IPV6_ADDR_SIZE];
	memcpy(from, source, sizeof from);
	memcpy(to, destination, sizeof to);
	pk_ipv6_header_init(out, from, to, PK_IPPROTO_ICMPV6, (uint16_t)icmp_length, NDP_HOP_LIMIT);
	uint8_t *icmp = out + PK_IPV6_HEADER_SIZE;
	memset(icmp, 0, icmp_length);
	icmp[0] = type;
	return icmp;
}

static uint32_t finish(uint8_t *out, uint32_t icmp_length)
{
	pk_put16(out + PK_IPV6_HEADER_SIZE + CHECKSUM_AT,
		 pk_ipv6_upper_checksum(out, PK_IPPROTO_ICMPV6, icmp_length));
	return PK_IPV6_HEADER_SIZE + icmp_length;
}

static void put_mac_option(uint8_t *option, uint8_t type, const uint8_t *mac)
{
	option[0] = type;
	option[1] = MAC_OPTION_SIZE / OPTION_UNIT;
	memcpy(option + 2, mac, ETHERNET_ADDRESS_SIZE);
}

uint32_t ndp_build_solicit(uint8_t *out, const uint8_t source[PK_IPV6_ADDR_SIZE],
			   const uint8_t destination[PK_IPV6_ADDR_SIZE],
			   const uint8_t target[PK_IPV6_ADDR_SIZE],
			   const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	uint8_t about[PK_IPV6_ADDR_SIZE];
	memcpy(about, target, sizeof about);
	uint32_t icmp_length = SOLICIT_SIZE + (mac ? MAC_OPTION_SIZE : 0);
	uint8_t *icmp = start(out, source, destination, NDP_NEIGHBOUR_SOLICIT, icmp_length);
	memcpy(icmp + TARGET_AT, about, sizeof about);
	if (mac)
		put_mac_option(icmp + SOLICIT_SIZE, NDP_OPTION_SOURCE_MAC, mac);
	return finish(out, icmp_length);
}

uint32_t ndp_build_advert(uint8_t *out, const uint8_t source[PK_IPV6_ADDR_SIZE],
			  const uint8_t destination[PK_IPV6_ADDR_SIZE],
			  const uint8_t target[PK_IPV6_ADDR_SIZE], uint8_t flags,
			  const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	uint8_t about[PK_IPV6_ADDR_SIZE];
	memcpy(about, target, sizeof about);
	uint32_t icmp_length = ADVERT_SIZE + MAC_OPTION_SIZE;
	uint8_t *icmp = start(out, source, destination, NDP_NEIGHBOUR_ADVERT, icmp_length);
	icmp[4] = flags;
	memcpy(icmp + TARGET_AT, about, sizeof about);
	put_mac_option(icmp + ADVERT_SIZE, NDP_OPTION_TARGET_MAC, mac);
	return finish(out, icmp_length);
}

uint32_t ndp_build_router_advert(uint8_t *out, const struct ndp_router_advert *advert)
{
	uint32_t icmp_length = ROUTER_ADVERT_SIZE + MAC_OPTION_SIZE + MTU_OPTION_SIZE +
			       PREFIX_OPTION_SIZE + ROUTE_OPTION_SIZE;
	uint8_t *icmp = start(out, advert->source, all_nodes, NDP_ROUTER_ADVERT, icmp_length);
	/* M and O clear, default router preference medium: RFC 4191 §2.2 asks for it when
	 * the router lifetime is 0. Reachable time and retransmission timer unspecified. */
	icmp[4] = advert->hop_limit;
	pk_put16(icmp + 6, advert->router_lifetime_s);

	uint8_t *option = icmp + ROUTER_ADVERT_SIZE;
	put_mac_option(option, NDP_OPTION_SOURCE_MAC, advert->mac);
	option += MAC_OPTION_SIZE;

	option[0] = NDP_OPTION_MTU;
	option[1] = MTU_OPTION_SIZE / OPTION_UNIT;
	pk_put32(option + 4, advert->mtu);
	option += MTU_OPTION_SIZE;

	option[0] = NDP_OPTION_PREFIX;
	option[1] = PREFIX_OPTION_SIZE / OPTION_UNIT;
	option[2] = PREFIX_LENGTH;
	option[3] = PREFIX_ON_LINK; /* A clear: hosts pick their addresses some other way */
	pk_put32(option + 4, advert->prefix_valid_s);
	pk_put32(option + 8, advert->prefix_preferred_s);
	memcpy(option + 16, advert->on_link_prefix, PREFIX_LENGTH / 8);
	option += PREFIX_OPTION_SIZE;

	option[0] = NDP_OPTION_ROUTE;
	option[1] = ROUTE_OPTION_SIZE / OPTION_UNIT;
	option[2] = PREFIX_LENGTH;
	option[3] = 0; /* route preference medium */
	pk_put32(option + 4, advert->route_lifetime_s);
	memcpy(option + 8, advert->route_prefix, PREFIX_LENGTH / 8);
	return finish(out, icmp_length);
}
