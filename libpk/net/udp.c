/* UDP datagrams: see pk/net/udp.h. */
#include "pk/net/udp.h"

#include "pk/net/ipv6.h"
#include "pk/pk.h"
#include "pk/bytes.h"

enum { LENGTH_AT = 4, CHECKSUM_AT = 6 };

enum pk_net_drop pk_udp_parse(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
			      struct pk_udp_datagram *ret)
{
	if (upper_offset > length || length - upper_offset < PK_UDP_HEADER_SIZE)
		return PK_NET_DROP_UDP_SHORT;
	const uint8_t *udp = packet + upper_offset;
	uint32_t udp_length = pk_get16(udp + LENGTH_AT);
	if (udp_length < PK_UDP_HEADER_SIZE)
		return PK_NET_DROP_UDP_SHORT;
	if (udp_length > length - upper_offset)
		return PK_NET_DROP_UDP_LENGTH;
	/* A zero checksum means "none", which IPv6 does not allow (RFC 8200 §8.1). */
	if (pk_get16(udp + CHECKSUM_AT) == 0 ||
	    pk_ipv6_checksum_at(packet, PK_IPPROTO_UDP, upper_offset, udp_length) != 0)
		return PK_NET_DROP_UDP_CHECKSUM;
	pk_udp_read(packet, upper_offset, ret);
	return PK_NET_OK;
}

void pk_udp_read(const uint8_t *packet, uint32_t upper_offset, struct pk_udp_datagram *ret)
{
	const uint8_t *udp = packet + upper_offset;
	*ret = (struct pk_udp_datagram){
		.source_port = pk_get16(udp),
		.destination_port = pk_get16(udp + 2),
		.payload_offset = upper_offset + PK_UDP_HEADER_SIZE,
		.payload_length = pk_get16(udp + LENGTH_AT) - PK_UDP_HEADER_SIZE,
	};
}

uint32_t pk_udp_write(uint8_t *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
		      uint16_t source_port, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		      uint16_t destination_port, uint32_t payload_length, uint8_t hop_limit)
{
	uint16_t udp_length = (uint16_t)(PK_UDP_HEADER_SIZE + payload_length);
	pk_ipv6_header_init(packet, source, destination, PK_IPPROTO_UDP, udp_length, hop_limit);
	uint8_t *udp = packet + PK_IPV6_HEADER_SIZE;
	pk_put16(udp, source_port);
	pk_put16(udp + 2, destination_port);
	pk_put16(udp + LENGTH_AT, udp_length);
	pk_put16(udp + CHECKSUM_AT, 0);
	uint16_t checksum = pk_ipv6_upper_checksum(packet, PK_IPPROTO_UDP, udp_length);
	/* A computed 0 goes out as all ones: 0 would say "no checksum" (RFC 768). */
	pk_put16(udp + CHECKSUM_AT, checksum == 0 ? 0xffffu : checksum);
	return PK_IPV6_HEADER_SIZE + udp_length;
}
