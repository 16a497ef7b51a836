/* Why the stack drops a packet, and the counters an interface keeps.
 *
 * One list, so reason codes, counter slots and their descriptions never drift. A parser
 * returns PK_NET_OK or one reason; the caller adds one to that reason's counter. */
#ifndef PK_NET_COUNTERS_H
#define PK_NET_COUNTERS_H

#include <stdint.h>

#define PK_NET_DROP_LIST(X)                                                                \
	X(SHORT, "shorter than an IPv6 header")                                            \
	X(VERSION, "IP version is not 6")                                                  \
	X(LENGTH, "payload length runs past the bytes received")                           \
	X(HOP_BY_HOP_NOT_FIRST, "hop-by-hop options header after the first place")         \
	X(EXT_TRUNCATED, "an extension header runs past the packet")                       \
	X(EXT_TOO_MANY, "more extension headers than PK_IPV6_EXT_MAX")                     \
	X(OPTION_MALFORMED, "an option runs past its header")                              \
	X(OPTION_UNKNOWN, "an unknown option whose type says discard")                     \
	X(ROUTING_SEGMENTS_LEFT, "a routing header asks this node to forward")             \
	X(FRAGMENT_NESTED, "a second fragment header")                                     \
	X(FRAGMENT_BAD_LENGTH, "fragment not a multiple of 8 bytes, or ending past 65535") \
	X(FRAGMENT_CHAIN_INCOMPLETE, "first fragment without the whole header chain")      \
	X(FRAGMENT_OVERLAP, "overlapping fragments: the whole datagram dropped")           \
	X(FRAGMENT_DUPLICATE, "an exact copy of a fragment already held")                  \
	X(FRAGMENT_INCONSISTENT, "fragments disagree on where the datagram ends")          \
	X(FRAGMENT_TOO_BIG, "the datagram would not fit the reassembly buffer")            \
	X(FRAGMENT_TABLE_FULL, "every reassembly slot busy")                               \
	X(FRAGMENT_TIMEOUT, "reassembly not finished in time: the whole datagram dropped") \
	X(NOT_FOR_US, "destination is none of the interface's addresses")                  \
	X(ICMP_SHORT, "ICMPv6 message shorter than its type needs")                        \
	X(ICMP_CHECKSUM, "bad ICMPv6 checksum")                                            \
	X(UDP_SHORT, "UDP datagram shorter than its header, or its length field says so")  \
	X(UDP_LENGTH, "UDP length field runs past the bytes received")                     \
	X(UDP_CHECKSUM, "bad UDP checksum, or none (IPv6 requires one)")                   \
	X(TCP_SHORT, "TCP segment shorter than its header")                                \
	X(TCP_OFFSET, "TCP data offset under 5 words or past the segment")                 \
	X(TCP_CHECKSUM, "bad TCP checksum")                                                \
	X(TCP_FLAGS, "TCP flags that cannot go together (SYN with FIN or RST)")            \
	X(TCP_OPTION_MALFORMED, "a TCP option runs past the header or has a bad length")   \
	X(ERROR_RATE_LIMITED, "an ICMPv6 error due but over the rate limit (not sent)")

enum pk_net_drop {
	PK_NET_OK = 0,
#define PK__NET_DROP_ENUM(name, text) PK_NET_DROP_##name,
	PK_NET_DROP_LIST(PK__NET_DROP_ENUM)
#undef PK__NET_DROP_ENUM
		PK_NET_DROP_COUNT
};

/* Per interface; only the stack writes them. Packet counts unless named otherwise. */
struct pk_net_counters {
	uint64_t received;     /* packets handed to the stack */
	uint64_t delivered;    /* handed on to the application */
	uint64_t echo_replies; /* echo requests answered */
	uint64_t errors_sent;  /* ICMPv6 errors built for sending */
	uint64_t fragments_received;
	uint64_t atomic_fragments; /* fragment headers with nothing to reassemble (RFC 6946) */
	uint64_t reassembled;	   /* datagrams completed */
	uint64_t fragments_sent;
	uint64_t pmtu_updates;		   /* packet-too-big messages that lowered a path MTU */
	uint64_t drops[PK_NET_DROP_COUNT]; /* by enum pk_net_drop; [PK_NET_OK] stays 0 */
};

#endif
