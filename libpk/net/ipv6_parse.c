/* The IPv6 header and the extension-header chain, read from untrusted bytes.
 *
 * Every read is bounded by the length the caller vouched for; a header whose length field
 * points past it ends the walk as a drop, never as a read beyond. The walk is linear in
 * the packet and stops after PK_IPV6_EXT_MAX headers, so no chain can keep it busy. */
#include <stddef.h>

#include "pk/net/ipv6.h"
#include "pk/pk.h"

enum {
	OPTION_PAD1 = 0,
	OPTION_PADN = 1,
	OPTION_ROUTER_ALERT = 5, /* RFC 2711, meaningful only hop by hop */
	/* The top two bits of an unknown option's type say what to do with the packet. */
	OPTION_ACTION_SKIP = 0,
	OPTION_ACTION_DISCARD = 1,
	OPTION_ACTION_DISCARD_AND_REPORT = 2,
	OPTION_ACTION_DISCARD_AND_REPORT_UNICAST = 3,
	/* ICMPv6 parameter problem codes (RFC 4443 §3.4, RFC 7112). */
	PROBLEM_TYPE = 4,
	PROBLEM_FIELD = 0,
	PROBLEM_NEXT_HEADER = 1,
	PROBLEM_OPTION = 2,
	PROBLEM_CHAIN_INCOMPLETE = 3,
};

bool pk_ipv6_is_multicast(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return address[0] == 0xff;
}

bool pk_ipv6_is_unspecified(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; i < PK_IPV6_ADDR_SIZE; i++)
		if (address[i] != 0)
			return false;
	return true;
}

enum pk_net_drop pk_ipv6_parse_header(const void *packet, uint32_t buffer_length,
				      uint32_t *ret_length)
{
	const struct pk_ipv6_header *h = packet;
	if (buffer_length < PK_IPV6_HEADER_SIZE)
		return PK_NET_DROP_SHORT;
	if (h->version_class_flow[0] >> 4 != 6)
		return PK_NET_DROP_VERSION;
	uint32_t length = PK_IPV6_HEADER_SIZE + pk_ipv6_payload_length(packet);
	if (length > buffer_length)
		return PK_NET_DROP_LENGTH;
	*ret_length = length;
	return PK_NET_OK;
}

static enum pk_net_drop problem(struct pk_ipv6_chain *chain, enum pk_net_drop reason, uint8_t code,
				uint32_t pointer)
{
	chain->due =
		(struct pk_icmpv6_due){.type = PROBLEM_TYPE, .code = code, .parameter = pointer};
	return reason;
}

/* The TLV options of a Hop-by-Hop or Destination Options header spanning [start, end). */
static enum pk_net_drop walk_options(const uint8_t *p, uint32_t start, uint32_t end,
				     bool hop_by_hop, struct pk_ipv6_chain *chain)
{
	uint32_t i = start;
	while (i < end) {
		uint8_t type = p[i];
		if (type == OPTION_PAD1) {
			i++;
			continue;
		}
		if (end - i < 2 || end - i - 2 < p[i + 1])
			return problem(chain, PK_NET_DROP_OPTION_MALFORMED, PROBLEM_FIELD, i);
		bool known = type == OPTION_PADN || (hop_by_hop && type == OPTION_ROUTER_ALERT);
		if (!known) {
			switch (type >> 6) {
			case OPTION_ACTION_SKIP:
				break;
			case OPTION_ACTION_DISCARD:
				return PK_NET_DROP_OPTION_UNKNOWN;
			default:
				/* Whether a multicast destination may hear of it is the error
				 * builder's call: it reads these same bits at the pointer. */
				return problem(chain, PK_NET_DROP_OPTION_UNKNOWN, PROBLEM_OPTION,
					       i);
			}
		}
		i += 2u + p[i + 1];
	}
	return PK_NET_OK;
}

/* The Fragment header at `offset`; returns whether the walk goes on past it. */
static enum pk_net_drop walk_fragment(const uint8_t *p, uint32_t length, uint32_t offset,
				      uint32_t link, struct pk_ipv6_chain *chain, bool *ret_more)
{
	if (chain->fragment_offset != 0)
		return PK_NET_DROP_FRAGMENT_NESTED;
	uint16_t offset_field = (uint16_t)(p[offset + 2] << 8 | p[offset + 3]);
	uint32_t fragment_start = offset_field & 0xfff8u;
	bool more = offset_field & 1u;
	uint32_t data = length - offset - PK_IPV6_FRAGMENT_HEADER_SIZE;
	chain->fragment_offset = offset;
	chain->fragment_link = link;
	chain->unfragmentable = offset;
	if (fragment_start == 0 && !more) {
		chain->atomic_fragment = true;
		*ret_more = true;
		return PK_NET_OK;
	}
	/* RFC 8200 §4.5: both checks are answered with a parameter problem. */
	if (more && (data == 0 || data % 8 != 0))
		return problem(chain, PK_NET_DROP_FRAGMENT_BAD_LENGTH, PROBLEM_FIELD, 4);
	if (fragment_start + data > PK_IPV6_MAX_PAYLOAD)
		return problem(chain, PK_NET_DROP_FRAGMENT_BAD_LENGTH, PROBLEM_FIELD, offset + 2);
	*ret_more = fragment_start == 0;
	return PK_NET_OK;
}

enum pk_net_drop pk_ipv6_parse_chain(const void *packet, uint32_t length,
				     struct pk_ipv6_chain *ret_chain)
{
	const uint8_t *p = packet;
	struct pk_ipv6_chain *chain = ret_chain;
	*chain = (struct pk_ipv6_chain){0};
	uint32_t offset = PK_IPV6_HEADER_SIZE;
	uint32_t link = offsetof(struct pk_ipv6_header, next_header);
	/* Where a sender would split: after Hop-by-Hop and Routing (RFC 8200 §4.5). */
	uint32_t unfragmentable = PK_IPV6_HEADER_SIZE, split_link = link;
	for (;;) {
		uint8_t next = p[link];
		uint32_t header_length;
		switch (next) {
		case PK_IPPROTO_HOPOPTS:
		case PK_IPPROTO_DSTOPTS:
		case PK_IPPROTO_ROUTING:
			header_length = length - offset < 2 ? 0 : (p[offset + 1] + 1u) * 8u;
			break;
		case PK_IPPROTO_AH:
			header_length = length - offset < 2 ? 0 : (p[offset + 1] + 2u) * 4u;
			break;
		case PK_IPPROTO_FRAGMENT:
			header_length = PK_IPV6_FRAGMENT_HEADER_SIZE;
			break;
		default:
			chain->upper_offset = offset;
			chain->upper_protocol = next;
			if (chain->fragment_offset == 0) {
				chain->unfragmentable = unfragmentable;
				chain->fragment_link = split_link;
			}
			return PK_NET_OK;
		}
		if (chain->extension_count == PK_IPV6_EXT_MAX)
			return PK_NET_DROP_EXT_TOO_MANY;
		chain->extension_count++;
		if (header_length == 0 || header_length > length - offset) {
			/* Within a first fragment the rest of the chain may be elsewhere, which
			 * RFC 7112 forbids; anywhere else the packet is simply cut short. */
			if (chain->fragment_offset != 0)
				return problem(chain, PK_NET_DROP_FRAGMENT_CHAIN_INCOMPLETE,
					       PROBLEM_CHAIN_INCOMPLETE, 0);
			return PK_NET_DROP_EXT_TRUNCATED;
		}

		enum pk_net_drop drop = PK_NET_OK;
		bool more = true;
		switch (next) {
		case PK_IPPROTO_HOPOPTS:
			if (offset != PK_IPV6_HEADER_SIZE)
				return problem(chain, PK_NET_DROP_HOP_BY_HOP_NOT_FIRST,
					       PROBLEM_NEXT_HEADER, link);
			unfragmentable = offset + header_length;
			split_link = offset;
			/* fall through */
		case PK_IPPROTO_DSTOPTS:
			drop = walk_options(p, offset + 2, offset + header_length,
					    next == PK_IPPROTO_HOPOPTS, chain);
			break;
		case PK_IPPROTO_ROUTING:
			if (p[offset + 3] != 0)
				return problem(chain, PK_NET_DROP_ROUTING_SEGMENTS_LEFT,
					       PROBLEM_FIELD, offset + 2);
			unfragmentable = offset + header_length;
			split_link = offset;
			break;
		case PK_IPPROTO_FRAGMENT:
			drop = walk_fragment(p, length, offset, link, chain, &more);
			break;
		default:
			break;
		}
		if (drop != PK_NET_OK)
			return drop;
		if (!more) {
			chain->upper_offset = offset;
			chain->upper_protocol = PK_IPPROTO_FRAGMENT;
			return PK_NET_OK;
		}
		link = offset;
		offset += header_length;
	}
}
