/* Fragmentation of an outgoing packet (RFC 8200 §4.5): the unfragmentable part (the IPv6
 * header, Hop-by-Hop and Routing headers) is repeated in every fragment, the rest is cut
 * in pieces of a multiple of 8 bytes that fit the MTU. Fragments are written one at a
 * time into the caller's buffers, so a packet of any size needs no more than a frame. */
#include <string.h>

#include "pk/net/frag.h"
#include "pk/pk.h"

struct plan {
	uint32_t unfragmentable; /* bytes repeated in every fragment */
	uint32_t link;		 /* the Next Header byte that will name the Fragment header */
	uint32_t share;		 /* data bytes in each fragment but the last */
	unsigned count;
};

static int make_plan(const void *packet, uint32_t length, uint32_t mtu, struct plan *ret_plan)
{
	struct pk_ipv6_chain chain;
	if (length < PK_IPV6_HEADER_SIZE || length - PK_IPV6_HEADER_SIZE > PK_IPV6_MAX_PAYLOAD ||
	    pk_ipv6_parse_chain(packet, length, &chain) != PK_NET_OK || chain.fragment_offset != 0)
		return -PK_EINVAL;
	uint32_t headers = chain.unfragmentable + PK_IPV6_FRAGMENT_HEADER_SIZE;
	if (mtu < headers + 8)
		return -PK_EINVAL;
	uint32_t share = (mtu - headers) / 8 * 8;
	uint32_t rest = length - chain.unfragmentable;
	*ret_plan = (struct plan){.unfragmentable = chain.unfragmentable,
				  .link = chain.fragment_link,
				  .share = share,
				  .count = rest == 0 ? 1 : (rest + share - 1) / share};
	return 0;
}

int pk_frag_count(const void *packet, uint32_t length, uint32_t mtu)
{
	struct plan plan;
	int err = make_plan(packet, length, mtu, &plan);
	return err < 0 ? err : (int)plan.count;
}

int pk_frag_write(const void *packet, uint32_t length, uint32_t mtu, uint32_t identification,
		  unsigned index, void *out, uint32_t out_size, uint32_t *ret_length)
{
	struct plan plan;
	int err = make_plan(packet, length, mtu, &plan);
	if (err < 0)
		return err;
	if (index >= plan.count)
		return -PK_EINVAL;
	uint32_t start = index * plan.share;
	uint32_t rest = length - plan.unfragmentable;
	uint32_t share = rest - start < plan.share ? rest - start : plan.share;
	uint32_t fragment_length = plan.unfragmentable + PK_IPV6_FRAGMENT_HEADER_SIZE + share;
	if (fragment_length > out_size)
		return -PK_EINVAL;

	const uint8_t *in = packet;
	uint8_t *o = out;
	memcpy(o, in, plan.unfragmentable);
	uint8_t *fragment_header = o + plan.unfragmentable;
	fragment_header[0] = in[plan.link];
	fragment_header[1] = 0;
	uint16_t offset_field = (uint16_t)(start | (index + 1 < plan.count ? 1u : 0u));
	fragment_header[2] = (uint8_t)(offset_field >> 8);
	fragment_header[3] = (uint8_t)offset_field;
	fragment_header[4] = (uint8_t)(identification >> 24);
	fragment_header[5] = (uint8_t)(identification >> 16);
	fragment_header[6] = (uint8_t)(identification >> 8);
	fragment_header[7] = (uint8_t)identification;
	memcpy(fragment_header + PK_IPV6_FRAGMENT_HEADER_SIZE, in + plan.unfragmentable + start,
	       share);
	o[plan.link] = PK_IPPROTO_FRAGMENT;
	uint32_t payload = fragment_length - PK_IPV6_HEADER_SIZE;
	o[4] = (uint8_t)(payload >> 8);
	o[5] = (uint8_t)payload;
	*ret_length = fragment_length;
	return 0;
}
