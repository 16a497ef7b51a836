/* PackOS ABI: the KAN wire format.
 *
 * A KAN packet is a plain IPv6 packet (RFC 8200) starting at byte 0 of its frame; there is
 * no link-layer header. Multi-byte fields are in network byte order, so the header is
 * described byte by byte and never read through wider integer types. */
#ifndef PACKOS_KAN_H
#define PACKOS_KAN_H

#include <stddef.h>
#include <stdint.h>

#define PK_IPV6_HEADER_SIZE 40u
#define PK_IPV6_ADDR_SIZE   16u

/* The KAN is one /64: a KAN address is the prefix followed by a 64-bit interface ID. */
#define PK_KAN_PREFIX_SIZE 8u

/* The default KAN prefix fd6b:616e::/64, a ULA (fd00::/8); "6b 61 6e" spells "kan". */
#define PK_KAN_DEFAULT_PREFIX                                  \
	{                                                      \
		0xfd, 0x6b, 0x61, 0x6e, 0x00, 0x00, 0x00, 0x00 \
	}

struct pk_ipv6_header {
	uint8_t version_class_flow[4]; /* version in the high 4 bits of byte 0 */
	uint8_t payload_length[2];     /* bytes after this header */
	uint8_t next_header;
	uint8_t hop_limit;
	uint8_t source[PK_IPV6_ADDR_SIZE];
	uint8_t destination[PK_IPV6_ADDR_SIZE];
};

_Static_assert(sizeof(struct pk_ipv6_header) == PK_IPV6_HEADER_SIZE, "IPv6 header is 40 bytes");
_Static_assert(offsetof(struct pk_ipv6_header, payload_length) == 4, "payload length at 4");
_Static_assert(offsetof(struct pk_ipv6_header, source) == 8, "source at 8");
_Static_assert(offsetof(struct pk_ipv6_header, destination) == 24, "destination at 24");

#endif
