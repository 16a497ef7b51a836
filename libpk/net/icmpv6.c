/* ICMPv6 errors and echo (RFC 4443).
 *
 * Errors quote the packet that caused them, cut so the whole fits the minimum MTU, and
 * are refused in the cases where an answer could multiply: errors about errors, about
 * packets from no single node, about most packets sent to a group. */
#include <string.h>

#include "pk/net/icmpv6.h"
#include "pk/net/ipv6.h"
#include "pk/pk.h"
#include "pk/bytes.h"

enum { CHECKSUM_AT = 2, PARAMETER_AT = 4, INFORMATIONAL_FIRST = 128 };

static bool is_icmpv6_error(const uint8_t *packet, uint32_t length)
{
	struct pk_ipv6_chain chain;
	/* A packet whose chain cannot be walked cannot be known to be an error message; the
	 * caller is usually reporting exactly that chain. */
	if (pk_ipv6_parse_chain(packet, length, &chain) != PK_NET_OK)
		return false;
	return chain.upper_protocol == PK_IPPROTO_ICMPV6 && chain.upper_offset < length &&
	       packet[chain.upper_offset] < INFORMATIONAL_FIRST;
}

bool pk_icmpv6_error_allowed(const void *invoking, uint32_t invoking_length, uint8_t type,
			     uint8_t code, uint32_t parameter)
{
	const uint8_t *p = invoking;
	const struct pk_ipv6_header *h = invoking;
	if (invoking_length < PK_IPV6_HEADER_SIZE)
		return false;
	if (pk_ipv6_is_unspecified(h->source) || pk_ipv6_is_multicast(h->source))
		return false;
	if (is_icmpv6_error(p, invoking_length))
		return false;
	if (!pk_ipv6_is_multicast(h->destination))
		return true;
	if (type == PK_ICMPV6_PACKET_TOO_BIG)
		return true;
	return type == PK_ICMPV6_PARAMETER_PROBLEM && code == 2 && parameter < invoking_length &&
	       p[parameter] >> 6 == 2;
}

int pk_icmpv6_error_build(void *out, uint32_t out_size, const void *invoking,
			  uint32_t invoking_length, const uint8_t source[PK_IPV6_ADDR_SIZE],
			  uint8_t type, uint8_t code, uint32_t parameter, uint32_t *ret_length)
{
	const uint32_t headers = PK_IPV6_HEADER_SIZE + PK_ICMPV6_HEADER_SIZE;
	if (invoking_length < PK_IPV6_HEADER_SIZE || out_size < headers)
		return -PK_EINVAL;
	if (!pk_icmpv6_error_allowed(invoking, invoking_length, type, code, parameter))
		return -PK_EPERM;

	/* Both addresses may live in the bytes about to be overwritten. */
	uint8_t from[PK_IPV6_ADDR_SIZE], to[PK_IPV6_ADDR_SIZE];
	memcpy(from, source, sizeof from);
	memcpy(to, ((const struct pk_ipv6_header *)invoking)->source, sizeof to);

	uint32_t quote = invoking_length;
	if (quote > PK_IPV6_MIN_MTU - headers)
		quote = PK_IPV6_MIN_MTU - headers;
	if (quote > out_size - headers)
		quote = out_size - headers;
	uint8_t *o = out;
	memmove(o + headers, invoking, quote);

	uint32_t icmp_length = PK_ICMPV6_HEADER_SIZE + quote;
	pk_ipv6_header_init(o, from, to, PK_IPPROTO_ICMPV6, (uint16_t)icmp_length,
			    PK_NET_HOP_LIMIT);
	uint8_t *icmp = o + PK_IPV6_HEADER_SIZE;
	icmp[0] = type;
	icmp[1] = code;
	pk_put16(icmp + CHECKSUM_AT, 0);
	pk_put32(icmp + PARAMETER_AT, parameter);
	pk_put16(icmp + CHECKSUM_AT, pk_ipv6_upper_checksum(o, PK_IPPROTO_ICMPV6, icmp_length));
	*ret_length = headers + quote;
	return 0;
}

bool pk_icmpv6_checksum_ok(const void *packet, uint32_t icmp_offset, uint32_t length)
{
	return pk_ipv6_checksum_at(packet, PK_IPPROTO_ICMPV6, icmp_offset, length) == 0;
}

/* RFC 1624 eqn. 3: the checksum after one 16-bit word of the message changes. */
static uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~checksum + (uint32_t)(uint16_t)~old_word + new_word;
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t pk_icmpv6_echo_reply(void *packet, uint32_t length, uint32_t icmp_offset,
			      const uint8_t *source)
{
	uint8_t *p = packet;
	struct pk_ipv6_header *h = packet;
	uint32_t icmp_length = length - icmp_offset;
	uint8_t from[PK_IPV6_ADDR_SIZE], to[PK_IPV6_ADDR_SIZE];
	memcpy(from, source ? source : h->destination, sizeof from);
	memcpy(to, h->source, sizeof to);
	if (icmp_offset != PK_IPV6_HEADER_SIZE)
		memmove(p + PK_IPV6_HEADER_SIZE, p + icmp_offset, icmp_length);
	pk_ipv6_header_init(p, from, to, PK_IPPROTO_ICMPV6, (uint16_t)icmp_length,
			    PK_NET_HOP_LIMIT);

	uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	uint16_t old_word = (uint16_t)(icmp[0] << 8 | icmp[1]);
	icmp[0] = PK_ICMPV6_ECHO_REPLY;
	uint16_t new_word = (uint16_t)(icmp[0] << 8 | icmp[1]);
	if (source) {
		/* A new source changes the pseudo-header: sum it all again. */
		pk_put16(icmp + CHECKSUM_AT, 0);
		pk_put16(icmp + CHECKSUM_AT,
			 pk_ipv6_upper_checksum(p, PK_IPPROTO_ICMPV6, icmp_length));
	} else {
		/* Swapping the addresses leaves the pseudo-header's sum as it was. */
		uint16_t checksum = (uint16_t)(icmp[CHECKSUM_AT] << 8 | icmp[CHECKSUM_AT + 1]);
		pk_put16(icmp + CHECKSUM_AT, checksum_adjust(checksum, old_word, new_word));
	}
	return PK_IPV6_HEADER_SIZE + icmp_length;
}
