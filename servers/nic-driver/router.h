/* The NIC driver's top half: a router between its Ethernet link (the wire) and the KAN.
 *
 * Protocol code only: every entry point takes one packet (or a poll) and the time, and
 * returns one decision; nothing here calls the kernel or reads a clock. The driver's main
 * loop receives a frame, calls the entry point for where it came from, and does what the
 * decision says; tests do the same with crafted packets. Every frame is PK_FRAME_SIZE
 * bytes with the IPv6 packet at offset 0 (on the wire, the Ethernet header is the
 * device's business). A decision may write a new packet over the frame; a packet the
 * router keeps is copied, so the frame is always the caller's again after the call.
 *
 * What it decides, in order, and every counter: docs/router.md. */
#ifndef NIC_DRIVER_ROUTER_H
#define NIC_DRIVER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <packos/kan.h>
#include <packos/types.h>
#include <pk/net/stack.h>

#include "advert.h"
#include "ethernet.h"
#include "neighbour.h"
#include "router_drop.h"

#define ROUTER_LINK_MTU_DEFAULT 1500u
/* The router's own stacks reassemble datagrams up to this many bytes of payload, two at a
 * time on each side; answers larger than a link's MTU leave in fragments. */
#define ROUTER_DATAGRAM_MAX 16384u
#define ROUTER_REASM_SLOTS  2u
#define ROUTER_PMTU_ENTRIES 4u
/* What its advertisements give hosts: the hop limit to use and how long the link prefix
 * stays on-link (RFC 4861 §6.2.1's defaults: 30 days valid, 7 days preferred). */
#define ROUTER_ADVERT_HOP_LIMIT	  64u
#define ROUTER_PREFIX_VALID_S	  2592000u
#define ROUTER_PREFIX_PREFERRED_S 604800u

struct router_config {
	uint8_t mac[ETHERNET_ADDRESS_SIZE]; /* the NIC's, unicast */
	uint32_t link_mtu; /* largest IPv6 packet on the wire: 1280..PK_FRAME_SIZE */
	uint8_t kan_prefix[PK_KAN_PREFIX_SIZE];	 /* the KAN's /64 */
	uint8_t kan_address[PK_IPV6_ADDR_SIZE];	 /* the driver's endpoint, in kan_prefix */
	uint8_t link_prefix[PK_KAN_PREFIX_SIZE]; /* the wire's /64; the router holds ::1 */
	bool has_gateway; /* off-link destinations outside the link prefix go to gateway */
	uint8_t gateway[PK_IPV6_ADDR_SIZE]; /* on-link: link-local or in link_prefix */
	bool advertise;			    /* send router advertisements */
	uint32_t advert_interval_s;	    /* MaxRtrAdvInterval, 4..1800 */
	uint32_t errors_per_second;	    /* ICMPv6 errors per interface; 0: 100 */
	uint32_t errors_burst;		    /* 0: 10 */
	uint64_t seed; /* spreads advertisement times and fragment identifications */
};

/* Fills in the defaults: KAN prefix fd6b:616e::/64, link prefix fd6b:616e:0:1::/64, MTU
 * 1500, advertisements on every 600 s, no gateway. The MAC and the KAN address are left
 * zero for the caller. */
void router_config_default(struct router_config *config);

/* Everything the router sent, received and refused. Packet counts. */
struct router_counters {
	uint64_t from_wire, from_kan, kan_refusals; /* entry-point calls with a packet */
	uint64_t forwarded_to_kan;		    /* transit packets, wire to KAN */
	uint64_t forwarded_to_wire;	    /* transit packets, KAN to wire (sent or held) */
	uint64_t sent_to_kan, sent_to_wire; /* every packet handed to the caller to send */
	uint64_t errors_sent;		    /* ICMPv6 errors about packets it forwards */
	uint64_t solicits_sent, adverts_sent, router_adverts_sent;
	uint64_t solicits_received, adverts_received, router_solicits_received;
	uint64_t held;			   /* copied to wait for a neighbour */
	uint64_t released;		   /* sent after waiting */
	uint64_t consumed;		   /* used by the router itself: NDP, fragments held */
	uint64_t drops[ROUTER_DROP_COUNT]; /* each refused packet once, even if answered
					    * with an error; [ROUTER_OK] stays 0 */
};

/* An answer too large for its link, going out one fragment per poll. */
struct router_outbox {
	struct pk_stack *stack; /* whose answer; NULL: empty */
	struct pk_stack_result result;
	unsigned next; /* the next fragment's index */
	uint8_t packet[PK_REASM_HEADROOM + ROUTER_DATAGRAM_MAX];
};

struct router {
	/* Set at init. */
	struct router_config config;
	uint8_t link_local[PK_IPV6_ADDR_SIZE];	 /* fe80:: and the MAC's modified EUI-64 */
	uint8_t link_address[PK_IPV6_ADDR_SIZE]; /* link_prefix::1 */
	/* The router's own stacks: the wire's answers for the link-local, link and KAN
	 * addresses and the NDP groups; the KAN's for the KAN and link addresses. Their
	 * interfaces count what was addressed to the router. */
	struct pk_iface wire_iface, kan_iface;
	struct pk_stack wire_stack, kan_stack;
	struct pk_reasm_slot reasm_slots[2][ROUTER_REASM_SLOTS];
	uint8_t reasm_buffers[2][ROUTER_REASM_SLOTS][PK_REASM_HEADROOM + ROUTER_DATAGRAM_MAX];
	struct pk_pmtu_entry pmtu[2][ROUTER_PMTU_ENTRIES];
	/* Changed by every call. */
	struct neighbour_cache neighbours;
	struct advert advert;
	struct router_outbox outbox;
	struct router_counters counters;
};

enum router_action {
	ROUTER_IDLE,	 /* poll: nothing is due */
	ROUTER_DROP,	 /* refused, counted under `drop` */
	ROUTER_CONSUMED, /* used by the router (NDP, a fragment held): nothing to send */
	ROUTER_HELD,	 /* copied to wait for the next hop's MAC: it comes out of a poll */
	ROUTER_TO_KAN,	 /* send the frame's first `length` bytes into the KAN */
	ROUTER_TO_WIRE,	 /* send the frame's first `length` bytes on the wire to `mac`,
			  * with `ethertype` */
};

struct router_decision {
	enum router_action action;
	uint32_t length;
	uint8_t hop_limit; /* a packet in transit, TO_KAN or TO_WIRE: the hop limit it leaves
			    * with (written into the frame, except by the transit calls) */
	uint8_t mac[ETHERNET_ADDRESS_SIZE];
	uint16_t ethertype;
	enum router_drop drop; /* DROP: why */
};

/* Checks the configuration and starts the router: -PK_EINVAL for a multicast or zero MAC,
 * an MTU out of range, a KAN address outside the KAN prefix, a link prefix that is the
 * KAN's or not unicast, a gateway not on the link, or an advertisement interval out of
 * range; nothing is started then. */
int router_init(struct router *router, const struct router_config *config, uint64_t now_ns);

/* A packet from the wire: `length` bytes received after the Ethernet header the device
 * split off into `ethernet`. */
enum router_action router_from_wire(struct router *router, uint8_t *frame, uint32_t length,
				    const struct ethernet_header *ethernet, uint64_t now_ns,
				    struct router_decision *ret);

/* A packet received on the driver's KAN endpoint: one for an address outside the KAN
 * prefix (the driver is the kernel's default route), or for the router itself. */
enum router_action router_from_kan(struct router *router, uint8_t *frame, uint32_t length,
				   uint64_t now_ns, struct router_decision *ret);

/* The transit fast path, for a caller that has not mapped the frame: decides from a copy
 * of the fixed header (PK_IPV6_HEADER_SIZE bytes at `header`) and the length that arrived,
 * when that is all it takes, a packet passing through: into the KAN from the wire, or from
 * the KAN to a next hop on the wire whose MAC is known. Returns that decision, counted as
 * the full entry point counts it, and the caller has `hop_limit` written into the packet
 * (byte 7) as it moves it on; or ROUTER_IDLE, having counted nothing, when it needs the
 * full entry point and the frame. Both go by the same checks, so they never disagree
 * (docs/router.md). */
enum router_action router_transit_from_wire(struct router *router, const uint8_t *header,
					    uint32_t length, const struct ethernet_header *ethernet,
					    struct router_decision *ret);
enum router_action router_transit_from_kan(struct router *router, const uint8_t *header,
					   uint32_t length, uint64_t now_ns,
					   struct router_decision *ret);

/* The kernel refused to take the `length`-byte packet in `frame` (a TO_KAN decision's)
 * with `error`: -PK_EHOSTUNREACH earns its source an address unreachable on the wire; a
 * full queue or pool, or anything else, is a counted drop. */
enum router_action router_kan_refused(struct router *router, uint8_t *frame, uint32_t length,
				      int error, uint64_t now_ns, struct router_decision *ret);

/* Timer work, at most one packet per call into `frame`: neighbour solicitations, packets
 * released by a resolution or given up (address unreachable into the KAN), router
 * advertisements, fragments of a large answer, reassembly time-outs. Call until IDLE. */
enum router_action router_poll(struct router *router, uint8_t *frame, uint64_t now_ns,
			       struct router_decision *ret);

/* When router_poll has work next (0: now); UINT64_MAX if nothing is scheduled. */
uint64_t router_next_deadline(const struct router *router);

/* The description of a drop reason; "unknown" for anything else. */
const char *router_drop_name(enum router_drop reason);

/* For operators: addresses, routes, the neighbour cache and every counter, as text into
 * `buffer` (`size` bytes, NUL-terminated, cut short if too small). Returns the length
 * written. */
size_t router_status(const struct router *router, uint64_t now_ns, char *buffer, size_t size);

#endif
