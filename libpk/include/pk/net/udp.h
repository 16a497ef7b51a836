/* UDP (RFC 768, over IPv6 as RFC 8200 §8.1 has it): checking a datagram that arrived and
 * writing one to send. Protocol code only: bytes in, bytes out, no kernel call. */
#ifndef PK_NET_UDP_H
#define PK_NET_UDP_H

#include <stdint.h>

#include <packos/kan.h>

#include <pk/net/counters.h>

#define PK_UDP_HEADER_SIZE 8u

/* Where a checked datagram's parts are in its packet. */
struct pk_udp_datagram {
	uint16_t source_port, destination_port;
	uint32_t payload_offset; /* from the start of the packet */
	uint32_t payload_length; /* as the UDP length field says (bytes after it are padding) */
};

/* Checks the UDP header at `upper_offset` of the `length`-byte packet: a length field of at
 * least the header and at most the bytes that arrived, and a checksum, which over IPv6 is
 * never 0 and must sum right. */
enum pk_net_drop pk_udp_parse(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
			      struct pk_udp_datagram *ret);
/* The parts of a datagram pk_udp_parse has passed already (the stack checks every one it
 * delivers), without summing it again. */
void pk_udp_read(const uint8_t *packet, uint32_t upper_offset, struct pk_udp_datagram *ret);

/* Writes, at `packet`, an IPv6 header and a UDP header in front of the `payload_length`
 * bytes already at packet + PK_UDP_PAYLOAD_AT, and the checksum; returns the packet's
 * length. The payload must fit a datagram: at most 65535 - PK_UDP_HEADER_SIZE bytes. */
#define PK_UDP_PAYLOAD_AT (PK_IPV6_HEADER_SIZE + PK_UDP_HEADER_SIZE)
uint32_t pk_udp_write(uint8_t *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
		      uint16_t source_port, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		      uint16_t destination_port, uint32_t payload_length, uint8_t hop_limit);

#endif
