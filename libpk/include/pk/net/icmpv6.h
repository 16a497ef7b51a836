/* ICMPv6 (RFC 4443): the error messages every node and router sends, and echo.
 *
 * Builders write whole IPv6 packets with their checksum set; they never call the kernel.
 * Who sends what they build, and when, is the caller's business (and its rate limiter's,
 * <pk/net/ratelimit.h>). */
#ifndef PK_NET_ICMPV6_H
#define PK_NET_ICMPV6_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

enum pk_icmpv6_type {
	PK_ICMPV6_DEST_UNREACHABLE = 1,
	PK_ICMPV6_PACKET_TOO_BIG = 2,
	PK_ICMPV6_TIME_EXCEEDED = 3,
	PK_ICMPV6_PARAMETER_PROBLEM = 4,
	PK_ICMPV6_ECHO_REQUEST = 128,
	PK_ICMPV6_ECHO_REPLY = 129,
};

/* Codes of destination unreachable (RFC 4443 §3.1). */
enum pk_icmpv6_unreachable_code {
	PK_ICMPV6_UNREACH_NO_ROUTE = 0,
	PK_ICMPV6_UNREACH_ADMIN = 1,
	PK_ICMPV6_UNREACH_BEYOND_SCOPE = 2,
	PK_ICMPV6_UNREACH_ADDRESS = 3,
	PK_ICMPV6_UNREACH_PORT = 4,
	PK_ICMPV6_UNREACH_POLICY = 5,
	PK_ICMPV6_UNREACH_REJECT_ROUTE = 6,
};

/* Codes of time exceeded (RFC 4443 §3.3). */
enum pk_icmpv6_time_code {
	PK_ICMPV6_TIME_HOP_LIMIT = 0,
	PK_ICMPV6_TIME_REASSEMBLY = 1,
};

/* Every ICMPv6 message starts with type, code, checksum and four more bytes. */
#define PK_ICMPV6_HEADER_SIZE 8u
/* The hop limit of packets the stack originates. */
#define PK_NET_HOP_LIMIT 64u

/* Whether RFC 4443 §2.4(e) allows an error of this type and code about `invoking`: never
 * about an ICMPv6 error message, nor about a packet whose source names no single node;
 * about one sent to a multicast address only for packet too big and for a parameter
 * problem reporting an option whose type asks for it (top bits 10). */
bool pk_icmpv6_error_allowed(const void *invoking, uint32_t invoking_length, uint8_t type,
			     uint8_t code, uint32_t parameter);

/* Writes into `out` (room for `out_size` bytes) an ICMPv6 error of `type` and `code` from
 * `source` to the invoking packet's source, quoting as much of the invoking packet as
 * keeps the whole within PK_IPV6_MIN_MTU. `parameter` is the MTU of a packet too big and
 * the pointer of a parameter problem (0 otherwise). `out` may be the invoking packet's own
 * buffer, and `source` may point into it. Returns 0 with *ret_length set, -PK_EPERM if
 * pk_icmpv6_error_allowed says no, or -PK_EINVAL if the invoking packet is shorter than an
 * IPv6 header or `out` cannot hold even the headers; on error nothing is written. */
int pk_icmpv6_error_build(void *out, uint32_t out_size, const void *invoking,
			  uint32_t invoking_length, const uint8_t source[PK_IPV6_ADDR_SIZE],
			  uint8_t type, uint8_t code, uint32_t parameter, uint32_t *ret_length);

/* Whether the ICMPv6 message of `length` bytes at `icmp_offset` in `packet` carries a
 * correct checksum. */
bool pk_icmpv6_checksum_ok(const void *packet, uint32_t icmp_offset, uint32_t length);

/* Turns the echo request at `icmp_offset` of `packet` (`length` bytes in all, checksum
 * already verified) into its echo reply in place: addresses swapped, extension headers
 * dropped (the message moves up behind the IPv6 header), type 129, hop limit reset, the
 * checksum updated. The request's destination must be the caller's own unicast address;
 * for one sent to a multicast group, pass `source` (else NULL) to answer from. Returns the
 * reply's length. */
uint32_t pk_icmpv6_echo_reply(void *packet, uint32_t length, uint32_t icmp_offset,
			      const uint8_t *source);

#endif
