/* The IPv6 header and its extension-header chain, read from untrusted bytes (RFC 8200).
 *
 * Parsers never write to the packet and never read past the length they are given. Each
 * returns PK_NET_OK or the reason the packet must be dropped (<pk/net/counters.h>), and
 * says when an ICMPv6 parameter problem is due and which byte it points at. */
#ifndef PK_NET_IPV6_H
#define PK_NET_IPV6_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>
#include <pk/net/counters.h>

/* Next Header values the stack knows (IANA "Assigned Internet Protocol Numbers"). */
enum pk_ip_protocol {
	PK_IPPROTO_HOPOPTS = 0,
	PK_IPPROTO_TCP = 6,
	PK_IPPROTO_UDP = 17,
	PK_IPPROTO_ROUTING = 43,
	PK_IPPROTO_FRAGMENT = 44,
	PK_IPPROTO_ESP = 50,
	PK_IPPROTO_AH = 51,
	PK_IPPROTO_ICMPV6 = 58,
	PK_IPPROTO_NONE = 59,
	PK_IPPROTO_DSTOPTS = 60,
};

/* The smallest link MTU IPv6 allows, and so the largest packet every path carries. */
#define PK_IPV6_MIN_MTU 1280u
/* The largest payload length the 16-bit field can state (no jumbograms). */
#define PK_IPV6_MAX_PAYLOAD 65535u
/* Extension headers a packet may carry before the walk gives up on it (RFC 8504 §5.3 lets a
 * node limit them); real traffic carries two or three. */
#define PK_IPV6_EXT_MAX		     8u
#define PK_IPV6_FRAGMENT_HEADER_SIZE 8u

/* An ICMPv6 error the parser asks for; type 0 when none is due. */
struct pk_icmpv6_due {
	uint8_t type;
	uint8_t code;
	uint32_t parameter; /* parameter problem: the offending byte's offset in the packet */
};

/* What a walk of the header chain found. Offsets count from the packet's first byte. */
struct pk_ipv6_chain {
	uint32_t upper_offset;	  /* where the upper-layer header begins */
	uint8_t upper_protocol;	  /* its Next Header value; PK_IPPROTO_FRAGMENT: a later fragment */
	uint32_t fragment_offset; /* the Fragment header's offset; 0 if there is none */
	uint32_t fragment_link;	  /* the Next Header byte that names the Fragment header, or
				   * with none, that would name one a sender inserts */
	uint32_t unfragmentable;  /* bytes before the Fragment header, or with none, before
				   * the part a sender would split (RFC 8200 §4.5) */
	bool atomic_fragment;	  /* a Fragment header with offset 0 and M=0 (RFC 6946) */
	unsigned extension_count; /* extension headers walked */
	struct pk_icmpv6_due due; /* set with some drops: the parameter problem to send */
};

/* Checks the fixed header against the `buffer_length` bytes received: version 6, and a
 * payload length that fits. On PK_NET_OK, *ret_length is the packet's own length (bytes
 * past it are link padding to ignore). */
enum pk_net_drop pk_ipv6_parse_header(const void *packet, uint32_t buffer_length,
				      uint32_t *ret_length);

/* Walks the extension headers of a packet of `length` bytes (its header already checked):
 * Hop-by-Hop only first, options processed by the action bits of their type, a Routing
 * header with segments left refused (this node is never a waypoint), at most
 * PK_IPV6_EXT_MAX headers, none past the end. A first fragment is walked through its
 * Fragment header to the upper layer, which it must contain (RFC 7112); a later fragment
 * stops at its Fragment header. `ret_chain` is filled in either case. */
enum pk_net_drop pk_ipv6_parse_chain(const void *packet, uint32_t length,
				     struct pk_ipv6_chain *ret_chain);

/* Multicast (ff00::/8) and the unspecified address ::, which name no single node. */
bool pk_ipv6_is_multicast(const uint8_t address[PK_IPV6_ADDR_SIZE]);
bool pk_ipv6_is_unspecified(const uint8_t address[PK_IPV6_ADDR_SIZE]);

#endif
