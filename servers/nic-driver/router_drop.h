/* Why the router refuses a packet: every reason of the per-process stack's
 * (<pk/net/counters.h>, which the router's own stacks report and its header checks reuse),
 * then the router's own. One list, so the enum, the counters and the names in the status
 * dump never drift; the first part keeps the stack's values, so a pk_net_drop converts by
 * value. */
#ifndef NIC_DRIVER_ROUTER_DROP_H
#define NIC_DRIVER_ROUTER_DROP_H

#include <pk/net/counters.h>

#define ROUTER_DROP_LIST(X)                                                                       \
	PK_NET_DROP_LIST(X)                                                                       \
	X(NOT_IPV6, "ethertype is not IPv6")                                                      \
	X(FRAME_NOT_OURS, "a unicast frame for another MAC")                                      \
	X(FRAME_FROM_MULTICAST, "a frame from a multicast MAC")                                   \
	X(SOURCE_INVALID, "source multicast, loopback, or unspecified outside NDP")               \
	X(SOURCE_SPOOFED, "a source that cannot be: a KAN one from the wire, the router's own")   \
	X(SOURCE_NOT_KAN, "from the KAN with a source outside the KAN prefix")                    \
	X(DESTINATION_INVALID, "destination unspecified or loopback")                             \
	X(LINK_LOCAL_DESTINATION, "a link-local destination not the router's: never forwarded")   \
	X(MULTICAST_LINK_SCOPE, "a link-scope group the router is not in: it stays on its link")  \
	X(MULTICAST_NOT_ROUTED, "a group beyond link scope: no multicast routing")                \
	X(KAN_DESTINATION, "from the KAN to another KAN address: the kernel delivers those")      \
	X(HOP_LIMIT, "hop limit exhausted (time exceeded sent if allowed)")                       \
	X(TOO_BIG, "larger than the link MTU (packet too big sent if allowed)")                   \
	X(NO_ROUTE, "no route (destination unreachable sent if allowed)")                         \
	X(BEYOND_SCOPE, "a link-local source would leave its link (unreachable sent if allowed)") \
	X(KAN_UNREACHABLE, "no such KAN address (address unreachable sent if allowed)")           \
	X(KAN_BUSY, "the kernel could not queue it: queue full or no memory")                     \
	X(KAN_REFUSED, "the kernel refused it for another reason")                                \
	X(NEIGHBOUR_TABLE_FULL, "every neighbour entry busy resolving")                           \
	X(PENDING_REPLACED, "waiting for its next hop, pushed out by newer packets")              \
	X(NO_ROOM_TO_WAIT, "waiting for its next hop, with no room left to wait")                 \
	X(RESOLUTION_FAILED, "its next hop never answered (unreachable sent if allowed)")         \
	X(NDP_HOP_LIMIT, "NDP message with a hop limit other than 255")                           \
	X(NDP_CODE, "NDP message with a code other than 0")                                       \
	X(NDP_LENGTH, "NDP message shorter than its type")                                        \
	X(NDP_OPTION,                                                                             \
	  "NDP option of length 0 or past the end; a link-layer one not a unicast MAC")           \
	X(NDP_TARGET_MULTICAST, "NS or NA about a multicast target")                              \
	X(NDP_TARGET_NOT_OURS, "NS for an address the router does not hold")                      \
	X(NDP_UNSPECIFIED_SOURCE, "NDP from :: with a link-layer option or to a wrong group")     \
	X(NDP_FRAGMENTED, "NDP message in fragments (RFC 6980)")                                  \
	X(NDP_SOLICITED_MULTICAST, "NA with the S flag to a multicast destination")               \
	X(NDP_ROUTER_SOURCE, "RA or redirect from a source that is not link-local")               \
	X(NDP_NO_ENTRY, "NA about a neighbour the router has no entry for")                       \
	X(NDP_IGNORED, "RA, redirect, or RS while not advertising: nothing for a router to do")   \
	X(NDP_FROM_KAN, "an NDP message from the KAN, where there is no NDP")                     \
	X(ICMP_UNHANDLED, "an ICMPv6 message to the router that it does not act on")              \
	X(PROTOCOL_UNHANDLED, "a protocol the router does not serve (UDP: port unreachable)")     \
	X(FRAGMENTS_NOT_SENT, "an answer too big for its link while another goes out in "         \
			      "fragments")

enum router_drop {
	ROUTER_OK = 0,
#define ROUTER__DROP_ENUM(name, text) ROUTER_DROP_##name,
	ROUTER_DROP_LIST(ROUTER__DROP_ENUM)
#undef ROUTER__DROP_ENUM
		ROUTER_DROP_COUNT
};

_Static_assert((int)ROUTER_DROP_ERROR_RATE_LIMITED == (int)PK_NET_DROP_ERROR_RATE_LIMITED &&
		       (int)ROUTER_DROP_NOT_IPV6 == (int)PK_NET_DROP_COUNT,
	       "the stack's reasons keep their values in the router's list");

#endif
