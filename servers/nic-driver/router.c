/* The router's decisions (router.h): one packet in, one decision out.
 *
 * Checks run in the order of trust: the frame, the fixed header, the source (ingress
 * filtering), then the destination decides between the router's own stacks and
 * forwarding. A refused packet is counted once under its reason, whether or not an ICMPv6
 * error answers it; errors go through the stack of the interface they leave by, so they
 * share its rate limit and RFC 4443's rules. Anything that must wait for a MAC is copied
 * into the neighbour cache and leaves by router_poll. */
#include <string.h>

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>
#include <pk/pk.h>

#include "ndp.h"
#include "router.h"

enum side { WIRE, KAN };

enum {
	HOP_LIMIT_AT = 7,
	SCOPE_LINK = 2, /* multicast scopes up to this one never leave their link */
	/* A route through the router outlives three missed advertisements. */
	ROUTE_LIFETIME_ADVERTS = 3,
};

static const uint8_t all_nodes[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 1};
static const uint8_t all_routers[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 2};

static bool in_prefix(const uint8_t address[PK_IPV6_ADDR_SIZE],
		      const uint8_t prefix[PK_KAN_PREFIX_SIZE])
{
	return memcmp(address, prefix, PK_KAN_PREFIX_SIZE) == 0;
}

static bool is_link_local(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return address[0] == 0xfe && (address[1] & 0xc0) == 0x80;
}

static bool is_loopback(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	static const uint8_t loopback[PK_IPV6_ADDR_SIZE] = {[15] = 1};
	return memcmp(address, loopback, PK_IPV6_ADDR_SIZE) == 0;
}

/* A /64 that can hold unicast addresses of a global or unique-local kind. */
static bool prefix_routable(const uint8_t prefix[PK_KAN_PREFIX_SIZE])
{
	uint8_t address[PK_IPV6_ADDR_SIZE] = {0};
	memcpy(address, prefix, PK_KAN_PREFIX_SIZE);
	return !pk_ipv6_is_multicast(address) && !is_link_local(address) &&
	       !pk_ipv6_is_unspecified(address);
}

void router_config_default(struct router_config *config)
{
	*config = (struct router_config){
		.link_mtu = ROUTER_LINK_MTU_DEFAULT,
		.kan_prefix = PK_KAN_DEFAULT_PREFIX,
		.link_prefix = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1},
		.advertise = true,
		.advert_interval_s = ADVERT_INTERVAL_DEFAULT_S,
	};
}

static bool config_valid(const struct router_config *c)
{
	static const uint8_t no_mac[ETHERNET_ADDRESS_SIZE];
	if (ethernet_is_multicast(c->mac) || memcmp(c->mac, no_mac, sizeof no_mac) == 0)
		return false;
	if (c->link_mtu < PK_IPV6_MIN_MTU || c->link_mtu > PK_FRAME_SIZE)
		return false;
	if (!prefix_routable(c->kan_prefix) || !prefix_routable(c->link_prefix) ||
	    memcmp(c->kan_prefix, c->link_prefix, PK_KAN_PREFIX_SIZE) == 0)
		return false;
	if (!in_prefix(c->kan_address, c->kan_prefix))
		return false;
	if (c->has_gateway && !is_link_local(c->gateway) && !in_prefix(c->gateway, c->link_prefix))
		return false;
	return !c->advertise || (c->advert_interval_s >= ADVERT_INTERVAL_MIN_S &&
				 c->advert_interval_s <= ADVERT_INTERVAL_MAX_S);
}

static void start_stack(struct router *router, enum side side, struct pk_iface *iface,
			struct pk_stack *stack, uint32_t mtu, uint64_t now_ns)
{
	pk_iface_init(iface, mtu);
	const struct pk_stack_config config = {
		.reasm_slots = router->reasm_slots[side],
		.reasm_slot_count = ROUTER_REASM_SLOTS,
		.reasm_buffers = &router->reasm_buffers[side][0][0],
		.reasm_buffer_size = sizeof router->reasm_buffers[side][0],
		.pmtu_entries = router->pmtu[side],
		.pmtu_entry_count = ROUTER_PMTU_ENTRIES,
		.errors_per_second = router->config.errors_per_second,
		.errors_burst = router->config.errors_burst,
		.identification_seed = (uint32_t)(router->config.seed >> (side * 32)),
	};
	pk_stack_init(stack, iface, &config, now_ns);
}

/* Holds `address` on the wire: answers for it, and for neighbour solicitations about it. */
static void hold_on_wire(struct router *router, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	uint8_t group[PK_IPV6_ADDR_SIZE];
	ndp_solicited_node(address, group);
	/* Three addresses and four groups fit the interface's tables. */
	pk_iface_add_address(&router->wire_iface, address);
	pk_iface_join(&router->wire_iface, group);
}

int router_init(struct router *router, const struct router_config *config, uint64_t now_ns)
{
	if (!config_valid(config))
		return -PK_EINVAL;
	memset(router, 0, sizeof *router);
	router->config = *config;
	ethernet_link_local(config->mac, router->link_local);
	memcpy(router->link_address, config->link_prefix, PK_KAN_PREFIX_SIZE);
	router->link_address[15] = 1;

	/* The link-local address first: the stack answers from its first address when the
	 * packet went to a group. */
	start_stack(router, WIRE, &router->wire_iface, &router->wire_stack, config->link_mtu,
		    now_ns);
	hold_on_wire(router, router->link_local);
	hold_on_wire(router, router->link_address);
	hold_on_wire(router, config->kan_address);
	pk_iface_join(&router->wire_iface, all_routers);
	start_stack(router, KAN, &router->kan_iface, &router->kan_stack, PK_FRAME_SIZE, now_ns);
	pk_iface_add_address(&router->kan_iface, config->kan_address);
	pk_iface_add_address(&router->kan_iface, router->link_address);

	neighbour_cache_init(&router->neighbours);
	advert_init(&router->advert, config->advertise, config->advert_interval_s, config->seed,
		    now_ns);
	return 0;
}

const char *router_drop_name(enum router_drop reason)
{
	static const char *const names[ROUTER_DROP_COUNT] = {[ROUTER_OK] = "accepted",
#define ROUTER__DROP_NAME(name, text) [ROUTER_DROP_##name] = text,
							     ROUTER_DROP_LIST(ROUTER__DROP_NAME)
#undef ROUTER__DROP_NAME
	};
	if ((unsigned)reason >= ROUTER_DROP_COUNT)
		return "unknown";
	return names[reason];
}

/* Decisions */

static enum router_action decide(struct router_decision *ret, enum router_action action)
{
	ret->action = action;
	return action;
}

static enum router_action drop(struct router *router, struct router_decision *ret,
			       enum router_drop reason)
{
	router->counters.drops[reason]++;
	ret->drop = reason;
	return decide(ret, ROUTER_DROP);
}

static enum router_action to_kan(struct router *router, struct router_decision *ret,
				 uint32_t length)
{
	router->counters.sent_to_kan++;
	ret->length = length;
	return decide(ret, ROUTER_TO_KAN);
}

static enum router_action to_wire(struct router *router, struct router_decision *ret,
				  uint32_t length, const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	router->counters.sent_to_wire++;
	ret->length = length;
	memcpy(ret->mac, mac, ETHERNET_ADDRESS_SIZE);
	ret->ethertype = ETHERNET_TYPE_IPV6;
	return decide(ret, ROUTER_TO_WIRE);
}

static enum router_action consumed(struct router *router, struct router_decision *ret)
{
	router->counters.consumed++;
	return decide(ret, ROUTER_CONSUMED);
}

/* Routing and resolution on the wire */

/* The on-link node a packet for `destination` goes to: itself when on the link, else the
 * gateway; false when there is none. */
static bool next_hop(const struct router *router, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		     const uint8_t **ret_hop)
{
	if (is_link_local(destination) || in_prefix(destination, router->config.link_prefix)) {
		*ret_hop = destination;
		return true;
	}
	if (!router->config.has_gateway)
		return false;
	*ret_hop = router->config.gateway;
	return true;
}

/* The packet goes to `hop` on the wire: now if its MAC is known, after resolution if not. */
static enum router_action transmit(struct router *router, uint8_t *frame, uint32_t length,
				   const uint8_t hop[PK_IPV6_ADDR_SIZE], uint64_t now_ns,
				   struct router_decision *ret)
{
	uint8_t mac[ETHERNET_ADDRESS_SIZE];
	struct neighbour *entry;
	switch (neighbour_resolve(&router->neighbours, hop, now_ns, mac, &entry)) {
	case NEIGHBOUR_RESOLVED:
		return to_wire(router, ret, length, mac);
	case NEIGHBOUR_WAITING:
		switch (neighbour_hold(&router->neighbours, entry, frame, length)) {
		case NEIGHBOUR_NO_ROOM:
			return drop(router, ret, ROUTER_DROP_NO_ROOM_TO_WAIT);
		case NEIGHBOUR_HELD_OLDEST_LOST:
			router->counters.drops[ROUTER_DROP_PENDING_REPLACED]++;
			break;
		default:
			break;
		}
		router->counters.held++;
		return decide(ret, ROUTER_HELD);
	default:
		return drop(router, ret, ROUTER_DROP_NEIGHBOUR_TABLE_FULL);
	}
}

/* A packet of the router's own (an answer, an error) onto the wire. */
static enum router_action send_on_wire(struct router *router, uint8_t *frame, uint32_t length,
				       uint64_t now_ns, struct router_decision *ret)
{
	const uint8_t *destination = ((const struct pk_ipv6_header *)frame)->destination;
	if (pk_ipv6_is_multicast(destination)) {
		uint8_t mac[ETHERNET_ADDRESS_SIZE];
		ethernet_multicast_mac(destination, mac);
		return to_wire(router, ret, length, mac);
	}
	const uint8_t *hop;
	if (!next_hop(router, destination, &hop))
		return drop(router, ret, ROUTER_DROP_NO_ROUTE);
	return transmit(router, frame, length, hop, now_ns, ret);
}

static enum router_action send_out(struct router *router, enum side side, uint8_t *frame,
				   uint32_t length, uint64_t now_ns, struct router_decision *ret)
{
	if (side == KAN)
		return to_kan(router, ret, length);
	return send_on_wire(router, frame, length, now_ns, ret);
}

/* ICMPv6 errors about packets the router will not forward */

/* Refuses the `length`-byte packet in `frame` that came from the wire, answering its
 * source there, from the router's address of the source's scope, when allowed. */
static enum router_action refuse_to_wire(struct router *router, uint8_t *frame, uint32_t length,
					 enum router_drop reason, uint8_t type, uint8_t code,
					 uint64_t now_ns, struct router_decision *ret)
{
	router->counters.drops[reason]++;
	ret->drop = reason;
	const uint8_t *source = ((const struct pk_ipv6_header *)frame)->source, *hop;
	if (!next_hop(router, source, &hop))
		return decide(ret, ROUTER_DROP);
	const struct pk_icmpv6_due error = {.type = type, .code = code};
	struct pk_stack_result sent;
	if (pk_stack_reject_from(&router->wire_stack, frame, frame, length,
				 is_link_local(source) ? router->link_local : router->link_address,
				 &error, now_ns, &sent) != PK_STACK_SEND)
		return decide(ret, ROUTER_DROP);
	router->counters.errors_sent++;
	return send_on_wire(router, frame, sent.length, now_ns, ret);
}

/* Refuses a packet that came from the KAN, answering its source there from the router's
 * KAN address, when allowed. */
static enum router_action refuse_to_kan(struct router *router, uint8_t *frame, uint32_t length,
					enum router_drop reason, const struct pk_icmpv6_due *error,
					uint64_t now_ns, struct router_decision *ret)
{
	router->counters.drops[reason]++;
	ret->drop = reason;
	struct pk_stack_result sent;
	if (pk_stack_reject_from(&router->kan_stack, frame, frame, length,
				 router->config.kan_address, error, now_ns, &sent) != PK_STACK_SEND)
		return decide(ret, ROUTER_DROP);
	router->counters.errors_sent++;
	return to_kan(router, ret, sent.length);
}

/* Packets for the router itself */

/* An answer larger than its link's MTU: the first fragment now, the rest from the poll. */
static enum router_action next_fragment(struct router *router, uint8_t *frame, uint64_t now_ns,
					struct router_decision *ret)
{
	struct router_outbox *outbox = &router->outbox;
	struct pk_stack *stack = outbox->stack;
	unsigned index = outbox->next++;
	if (outbox->next >= outbox->result.fragment_count)
		outbox->stack = NULL;
	uint32_t length;
	if (pk_stack_fragment(stack, &outbox->result, index, frame, &length) != 0)
		return drop(router, ret, ROUTER_DROP_FRAGMENTS_NOT_SENT);
	return send_out(router, stack == &router->wire_stack ? WIRE : KAN, frame, length, now_ns,
			ret);
}

static enum router_action start_fragments(struct router *router, struct pk_stack *stack,
					  uint8_t *frame, const struct pk_stack_result *answer,
					  uint64_t now_ns, struct router_decision *ret)
{
	struct router_outbox *outbox = &router->outbox;
	if (outbox->stack || answer->length > sizeof outbox->packet)
		return drop(router, ret, ROUTER_DROP_FRAGMENTS_NOT_SENT);
	memcpy(outbox->packet, answer->packet, answer->length);
	outbox->result = *answer;
	outbox->result.packet = outbox->packet;
	outbox->next = 0;
	outbox->stack = stack;
	return next_fragment(router, frame, now_ns, ret);
}

/* A neighbour solicitation for one of the router's addresses: learn the sender, answer. */
static enum router_action answer_solicit(struct router *router, uint8_t *frame,
					 const struct ndp_message *m, uint64_t now_ns,
					 struct router_decision *ret)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)frame;
	router->counters.solicits_received++;
	if (!pk_iface_has_address(&router->wire_iface, m->target))
		return drop(router, ret, ROUTER_DROP_NDP_TARGET_NOT_OURS);
	/* Duplicate address detection asks the whole link (RFC 4861 §7.2.4). */
	bool detecting = pk_ipv6_is_unspecified(h->source);
	if (m->source_mac)
		neighbour_learn(&router->neighbours, h->source, m->source_mac, now_ns);
	uint8_t target[PK_IPV6_ADDR_SIZE], destination[PK_IPV6_ADDR_SIZE];
	memcpy(target, m->target, sizeof target);
	memcpy(destination, detecting ? all_nodes : h->source, sizeof destination);
	uint8_t flags =
		NDP_ADVERT_ROUTER | NDP_ADVERT_OVERRIDE | (detecting ? 0 : NDP_ADVERT_SOLICITED);
	uint32_t length =
		ndp_build_advert(frame, target, destination, target, flags, router->config.mac);
	router->counters.adverts_sent++;
	return send_on_wire(router, frame, length, now_ns, ret);
}

static enum router_action neighbour_discovery(struct router *router, uint8_t *frame,
					      const struct pk_stack_result *delivered,
					      uint64_t now_ns, struct router_decision *ret)
{
	/* RFC 6980: NDP is never fragmented; a reassembled message is an attack. */
	if (delivered->packet != frame)
		return drop(router, ret, ROUTER_DROP_NDP_FRAGMENTED);
	struct ndp_message m;
	enum router_drop reason = ndp_parse(frame, delivered->length, &m);
	if (reason != ROUTER_OK)
		return drop(router, ret, reason);
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)frame;
	switch (m.type) {
	case NDP_NEIGHBOUR_SOLICIT:
		return answer_solicit(router, frame, &m, now_ns, ret);
	case NDP_NEIGHBOUR_ADVERT:
		router->counters.adverts_received++;
		if (!neighbour_advertised(&router->neighbours, m.target, m.target_mac,
					  m.flags & NDP_ADVERT_SOLICITED,
					  m.flags & NDP_ADVERT_OVERRIDE, now_ns))
			return drop(router, ret, ROUTER_DROP_NDP_NO_ENTRY);
		return consumed(router, ret);
	case NDP_ROUTER_SOLICIT:
		router->counters.router_solicits_received++;
		if (!router->config.advertise)
			return drop(router, ret, ROUTER_DROP_NDP_IGNORED);
		if (m.source_mac)
			neighbour_learn(&router->neighbours, h->source, m.source_mac, now_ns);
		advert_solicited(&router->advert, now_ns);
		return consumed(router, ret);
	default:
		/* Advertisements of other routers and redirects: a router takes neither. */
		return drop(router, ret, ROUTER_DROP_NDP_IGNORED);
	}
}

/* What the router's stack delivered: NDP, ICMPv6 it only notes, or protocols it lacks. */
static enum router_action delivered(struct router *router, struct pk_stack *stack, enum side side,
				    uint8_t *frame, const struct pk_stack_result *packet,
				    uint64_t now_ns, struct router_decision *ret)
{
	if (packet->protocol == PK_IPPROTO_ICMPV6) {
		uint8_t type = packet->packet[packet->upper_offset];
		if (ndp_is_ndp(type))
			return side == WIRE
				       ? neighbour_discovery(router, frame, packet, now_ns, ret)
				       : drop(router, ret, ROUTER_DROP_NDP_FROM_KAN);
		/* An error about something the router sent: the stack learned from a packet
		 * too big already, and there is nothing else to do. */
		if (type < PK_ICMPV6_ECHO_REQUEST)
			return consumed(router, ret);
		return drop(router, ret, ROUTER_DROP_ICMP_UNHANDLED);
	}
	if (packet->protocol != PK_IPPROTO_UDP)
		return drop(router, ret, ROUTER_DROP_PROTOCOL_UNHANDLED);
	/* No port is open: say so, as any host would (RFC 4443 §3.1). */
	router->counters.drops[ROUTER_DROP_PROTOCOL_UNHANDLED]++;
	ret->drop = ROUTER_DROP_PROTOCOL_UNHANDLED;
	struct pk_stack_result error;
	if (pk_stack_reject(stack, frame, packet->packet, packet->length,
			    PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0, now_ns,
			    &error) != PK_STACK_SEND)
		return decide(ret, ROUTER_DROP);
	return send_out(router, side, frame, error.length, now_ns, ret);
}

/* Turns what one of the router's stacks did into the router's decision. */
static enum router_action after_stack(struct router *router, struct pk_stack *stack, uint8_t *frame,
				      enum pk_stack_action action,
				      const struct pk_stack_result *result, uint64_t now_ns,
				      struct router_decision *ret)
{
	enum side side = stack == &router->wire_stack ? WIRE : KAN;
	switch (action) {
	case PK_STACK_DROPPED:
		return drop(router, ret, (enum router_drop)result->drop);
	case PK_STACK_SEND:
		if (result->drop != PK_NET_OK) {
			router->counters.drops[result->drop]++;
			ret->drop = (enum router_drop)result->drop;
		}
		return send_out(router, side, frame, result->length, now_ns, ret);
	case PK_STACK_SEND_FRAGMENTS:
		return start_fragments(router, stack, frame, result, now_ns, ret);
	case PK_STACK_DELIVER:
		return delivered(router, stack, side, frame, result, now_ns, ret);
	default: /* HELD: a fragment kept, or an answer that could not be cut */
		return consumed(router, ret);
	}
}

/* Entry points */

static enum router_drop check_header(const uint8_t *header, uint32_t length, uint32_t *ret_length)
{
	if (length > PK_FRAME_SIZE)
		return ROUTER_DROP_LENGTH;
	return (enum router_drop)pk_ipv6_parse_header(header, length, ret_length);
}

/* Destinations no router forwards anywhere. */
static enum router_drop check_destination(const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	if (pk_ipv6_is_unspecified(destination) || is_loopback(destination))
		return ROUTER_DROP_DESTINATION_INVALID;
	if (pk_ipv6_is_multicast(destination))
		return (destination[1] & 0x0f) <= SCOPE_LINK ? ROUTER_DROP_MULTICAST_LINK_SCOPE
							     : ROUTER_DROP_MULTICAST_NOT_ROUTED;
	if (is_link_local(destination))
		return ROUTER_DROP_LINK_LOCAL_DESTINATION;
	return ROUTER_OK;
}

static bool is_ours(const struct router *router, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return pk_iface_has_address(&router->wire_iface, address) ||
	       pk_iface_has_address(&router->kan_iface, address);
}

/* Whether a packet from :: is a neighbour or router solicitation, the only things a node
 * without an address may send (RFC 4861 §7.2.2, §6.3.7). */
static bool solicits(const uint8_t *packet, uint32_t length)
{
	struct pk_ipv6_chain chain;
	if (pk_ipv6_parse_chain(packet, length, &chain) != PK_NET_OK ||
	    chain.upper_protocol != PK_IPPROTO_ICMPV6 || chain.upper_offset >= length)
		return false;
	uint8_t type = packet[chain.upper_offset];
	return type == NDP_NEIGHBOUR_SOLICIT || type == NDP_ROUTER_SOLICIT;
}

/* What the fixed header (and the Ethernet header, from the wire) says becomes of a packet,
 * before anything is counted: dropped, for one of the router's own stacks, refused with
 * an ICMPv6 error, or forwarded; or, without the rest of the packet, that only the rest can
 * tell. The checks run in the order of trust; both the full entry points and the transit
 * fast path go by it, so they cannot disagree. */
enum judgement { JUDGED_DROP, JUDGED_OURS, JUDGED_REFUSE, JUDGED_FORWARD, JUDGED_NEEDS_PACKET };

struct verdict {
	enum judgement judgement;
	enum router_drop reason;    /* DROP, REFUSE */
	struct pk_icmpv6_due error; /* REFUSE */
	uint32_t packet_length;	    /* from the header, once it has been checked */
	const uint8_t *hop;	    /* FORWARD from the KAN: the next hop on the wire */
};

static enum judgement judge(struct verdict *v, enum judgement judgement, enum router_drop reason)
{
	v->judgement = judgement;
	v->reason = reason;
	return judgement;
}

static enum judgement refuse(struct verdict *v, enum router_drop reason, uint8_t type, uint8_t code,
			     uint32_t parameter)
{
	v->error = (struct pk_icmpv6_due){.type = type, .code = code, .parameter = parameter};
	return judge(v, JUDGED_REFUSE, reason);
}

/* `packet` is the whole packet, or NULL when only `header` (its first PK_IPV6_HEADER_SIZE
 * bytes) is at hand; `length` is what arrived either way. */
static enum judgement judge_from_wire(const struct router *router, const uint8_t *header,
				      const uint8_t *packet, uint32_t length,
				      const struct ethernet_header *ethernet, struct verdict *v)
{
	*v = (struct verdict){0};
	if (ethernet->type != ETHERNET_TYPE_IPV6)
		return judge(v, JUDGED_DROP, ROUTER_DROP_NOT_IPV6);
	if (ethernet_is_multicast(ethernet->source))
		return judge(v, JUDGED_DROP, ROUTER_DROP_FRAME_FROM_MULTICAST);
	if (!ethernet_is_multicast(ethernet->destination) &&
	    memcmp(ethernet->destination, router->config.mac, ETHERNET_ADDRESS_SIZE) != 0)
		return judge(v, JUDGED_DROP, ROUTER_DROP_FRAME_NOT_OURS);
	enum router_drop reason = check_header(header, length, &v->packet_length);
	if (reason != ROUTER_OK)
		return judge(v, JUDGED_DROP, reason);

	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)header;
	if (pk_ipv6_is_multicast(h->source) || is_loopback(h->source))
		return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_INVALID);
	/* Ingress filtering: nothing on the wire may speak for the KAN or the router. */
	if (in_prefix(h->source, router->config.kan_prefix) ||
	    pk_iface_has_address(&router->wire_iface, h->source))
		return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_SPOOFED);
	if (pk_ipv6_is_unspecified(h->source)) {
		if (packet == NULL)
			return judge(v, JUDGED_NEEDS_PACKET, ROUTER_OK);
		if (!solicits(packet, v->packet_length))
			return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_INVALID);
	}

	if (pk_iface_accepts(&router->wire_iface, h->destination))
		return judge(v, JUDGED_OURS, ROUTER_OK);
	if (pk_ipv6_is_unspecified(h->source))
		return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_INVALID);
	reason = check_destination(h->destination);
	if (reason != ROUTER_OK)
		return judge(v, JUDGED_DROP, reason);
	if (!in_prefix(h->destination, router->config.kan_prefix))
		return refuse(v, ROUTER_DROP_NO_ROUTE, PK_ICMPV6_DEST_UNREACHABLE,
			      PK_ICMPV6_UNREACH_NO_ROUTE, 0);
	/* RFC 4291 §2.5.6: a link-local source never leaves its link. */
	if (is_link_local(h->source))
		return refuse(v, ROUTER_DROP_BEYOND_SCOPE, PK_ICMPV6_DEST_UNREACHABLE,
			      PK_ICMPV6_UNREACH_BEYOND_SCOPE, 0);
	if (h->hop_limit <= 1)
		return refuse(v, ROUTER_DROP_HOP_LIMIT, PK_ICMPV6_TIME_EXCEEDED,
			      PK_ICMPV6_TIME_HOP_LIMIT, 0);
	return judge(v, JUDGED_FORWARD, ROUTER_OK);
}

static enum judgement judge_from_kan(const struct router *router, const uint8_t *header,
				     uint32_t length, struct verdict *v)
{
	*v = (struct verdict){0};
	enum router_drop reason = check_header(header, length, &v->packet_length);
	if (reason != ROUTER_OK)
		return judge(v, JUDGED_DROP, reason);
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)header;
	/* The kernel lets a router send from any address, but what reaches it over the KAN
	 * comes from KAN processes. */
	if (!in_prefix(h->source, router->config.kan_prefix))
		return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_NOT_KAN);
	/* Only the router sends from its addresses, and never to itself. */
	if (is_ours(router, h->source))
		return judge(v, JUDGED_DROP, ROUTER_DROP_SOURCE_SPOOFED);
	if (pk_iface_has_address(&router->kan_iface, h->destination))
		return judge(v, JUDGED_OURS, ROUTER_OK);
	reason = check_destination(h->destination);
	if (reason != ROUTER_OK)
		return judge(v, JUDGED_DROP, reason);
	if (in_prefix(h->destination, router->config.kan_prefix))
		return judge(v, JUDGED_DROP, ROUTER_DROP_KAN_DESTINATION);
	if (h->hop_limit <= 1)
		return refuse(v, ROUTER_DROP_HOP_LIMIT, PK_ICMPV6_TIME_EXCEEDED,
			      PK_ICMPV6_TIME_HOP_LIMIT, 0);
	/* IPv6 routers never fragment: the source must send smaller packets. */
	if (v->packet_length > router->config.link_mtu)
		return refuse(v, ROUTER_DROP_TOO_BIG, PK_ICMPV6_PACKET_TOO_BIG, 0,
			      router->config.link_mtu);
	if (!next_hop(router, h->destination, &v->hop))
		return refuse(v, ROUTER_DROP_NO_ROUTE, PK_ICMPV6_DEST_UNREACHABLE,
			      PK_ICMPV6_UNREACH_NO_ROUTE, 0);
	return judge(v, JUDGED_FORWARD, ROUTER_OK);
}

enum router_action router_from_wire(struct router *router, uint8_t *frame, uint32_t length,
				    const struct ethernet_header *ethernet, uint64_t now_ns,
				    struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	router->counters.from_wire++;
	struct verdict v;
	judge_from_wire(router, frame, frame, length, ethernet, &v);
	switch (v.judgement) {
	case JUDGED_OURS: {
		struct pk_stack_result result;
		enum pk_stack_action action =
			pk_stack_input(&router->wire_stack, frame, length, now_ns, &result);
		return after_stack(router, &router->wire_stack, frame, action, &result, now_ns,
				   ret);
	}
	case JUDGED_REFUSE:
		return refuse_to_wire(router, frame, v.packet_length, v.reason, v.error.type,
				      v.error.code, now_ns, ret);
	case JUDGED_FORWARD:
		frame[HOP_LIMIT_AT]--;
		ret->hop_limit = frame[HOP_LIMIT_AT];
		router->counters.forwarded_to_kan++;
		return to_kan(router, ret, v.packet_length);
	case JUDGED_DROP:
	case JUDGED_NEEDS_PACKET: /* never, with the packet given */
		break;
	}
	return drop(router, ret, v.reason);
}

enum router_action router_from_kan(struct router *router, uint8_t *frame, uint32_t length,
				   uint64_t now_ns, struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	router->counters.from_kan++;
	struct verdict v;
	judge_from_kan(router, frame, length, &v);
	switch (v.judgement) {
	case JUDGED_OURS: {
		struct pk_stack_result result;
		enum pk_stack_action action =
			pk_stack_input(&router->kan_stack, frame, length, now_ns, &result);
		return after_stack(router, &router->kan_stack, frame, action, &result, now_ns, ret);
	}
	case JUDGED_REFUSE:
		return refuse_to_kan(router, frame, v.packet_length, v.reason, &v.error, now_ns,
				     ret);
	case JUDGED_FORWARD: {
		frame[HOP_LIMIT_AT]--;
		enum router_action action =
			transmit(router, frame, v.packet_length, v.hop, now_ns, ret);
		ret->hop_limit = frame[HOP_LIMIT_AT];
		if (action != ROUTER_DROP)
			router->counters.forwarded_to_wire++;
		return action;
	}
	case JUDGED_DROP:
	case JUDGED_NEEDS_PACKET:
		break;
	}
	return drop(router, ret, v.reason);
}

enum router_action router_transit_from_wire(struct router *router, const uint8_t *header,
					    uint32_t length, const struct ethernet_header *ethernet,
					    struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	struct verdict v;
	judge_from_wire(router, header, NULL, length, ethernet, &v);
	if (v.judgement != JUDGED_FORWARD)
		return decide(ret, ROUTER_IDLE);
	router->counters.from_wire++;
	router->counters.forwarded_to_kan++;
	ret->hop_limit = (uint8_t)(header[HOP_LIMIT_AT] - 1);
	return to_kan(router, ret, v.packet_length);
}

enum router_action router_transit_from_kan(struct router *router, const uint8_t *header,
					   uint32_t length, uint64_t now_ns,
					   struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	struct verdict v;
	judge_from_kan(router, header, length, &v);
	uint8_t mac[ETHERNET_ADDRESS_SIZE];
	struct neighbour *entry;
	/* A next hop still to be resolved needs the packet, to hold; router_from_kan asks
	 * the cache again and finds the same. */
	if (v.judgement != JUDGED_FORWARD || neighbour_resolve(&router->neighbours, v.hop, now_ns,
							       mac, &entry) != NEIGHBOUR_RESOLVED)
		return decide(ret, ROUTER_IDLE);
	router->counters.from_kan++;
	router->counters.forwarded_to_wire++;
	ret->hop_limit = (uint8_t)(header[HOP_LIMIT_AT] - 1);
	return to_wire(router, ret, v.packet_length, mac);
}

enum router_action router_kan_refused(struct router *router, uint8_t *frame, uint32_t length,
				      int error, uint64_t now_ns, struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	router->counters.kan_refusals++;
	if (error == -PK_ENOBUFS || error == -PK_ENOMEM || error == -PK_EQUOTA)
		return drop(router, ret, ROUTER_DROP_KAN_BUSY);
	uint32_t packet_length;
	if (error != -PK_EHOSTUNREACH || check_header(frame, length, &packet_length) != ROUTER_OK)
		return drop(router, ret, ROUTER_DROP_KAN_REFUSED);
	/* Every packet the router sends into the KAN came from the wire, or is its own: the
	 * router tells nothing to itself. */
	if (is_ours(router, ((const struct pk_ipv6_header *)frame)->source))
		return drop(router, ret, ROUTER_DROP_KAN_UNREACHABLE);
	return refuse_to_wire(router, frame, packet_length, ROUTER_DROP_KAN_UNREACHABLE,
			      PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_ADDRESS, now_ns, ret);
}

/* Timer work */

static enum router_action solicit(struct router *router, uint8_t *frame,
				  const struct neighbour_due *due, bool unicast,
				  struct router_decision *ret)
{
	uint8_t destination[PK_IPV6_ADDR_SIZE], mac[ETHERNET_ADDRESS_SIZE];
	if (unicast) {
		memcpy(destination, due->address, sizeof destination);
		memcpy(mac, due->mac, sizeof mac);
	} else {
		ndp_solicited_node(due->address, destination);
		ethernet_multicast_mac(destination, mac);
	}
	/* From the router's address of the target's scope (RFC 4861 §7.2.2). */
	const uint8_t *source =
		is_link_local(due->address) ? router->link_local : router->link_address;
	uint32_t length =
		ndp_build_solicit(frame, source, destination, due->address, router->config.mac);
	router->counters.solicits_sent++;
	return to_wire(router, ret, length, mac);
}

/* The packet in `frame` waited for a neighbour that never answered: tell its source in
 * the KAN. */
static enum router_action give_up(struct router *router, uint8_t *frame, uint32_t length,
				  uint64_t now_ns, struct router_decision *ret)
{
	const uint8_t *source = ((const struct pk_ipv6_header *)frame)->source;
	if (is_ours(router, source) || !in_prefix(source, router->config.kan_prefix))
		return drop(router, ret, ROUTER_DROP_RESOLUTION_FAILED);
	const struct pk_icmpv6_due error = {.type = PK_ICMPV6_DEST_UNREACHABLE,
					    .code = PK_ICMPV6_UNREACH_ADDRESS};
	return refuse_to_kan(router, frame, length, ROUTER_DROP_RESOLUTION_FAILED, &error, now_ns,
			     ret);
}

static enum router_action advertise(struct router *router, uint8_t *frame, uint64_t now_ns,
				    struct router_decision *ret)
{
	const struct ndp_router_advert advert = {
		.source = router->link_local,
		.mac = router->config.mac,
		.hop_limit = ROUTER_ADVERT_HOP_LIMIT,
		/* PackOS must never become the host's default router. */
		.router_lifetime_s = 0,
		.mtu = router->config.link_mtu,
		.on_link_prefix = router->config.link_prefix,
		.prefix_valid_s = ROUTER_PREFIX_VALID_S,
		.prefix_preferred_s = ROUTER_PREFIX_PREFERRED_S,
		.route_prefix = router->config.kan_prefix,
		.route_lifetime_s = (uint32_t)(ROUTE_LIFETIME_ADVERTS *
					       (router->advert.max_interval_ns / ADVERT_SECOND)),
	};
	uint32_t length = ndp_build_router_advert(frame, &advert);
	advert_sent(&router->advert, now_ns);
	router->counters.router_adverts_sent++;
	uint8_t mac[ETHERNET_ADDRESS_SIZE];
	ethernet_multicast_mac(all_nodes, mac);
	return to_wire(router, ret, length, mac);
}

enum router_action router_poll(struct router *router, uint8_t *frame, uint64_t now_ns,
			       struct router_decision *ret)
{
	*ret = (struct router_decision){0};
	if (router->outbox.stack)
		return next_fragment(router, frame, now_ns, ret);
	struct neighbour_due due;
	enum neighbour_work work;
	/* A give-up either returns with a packet or frees an entry, so this ends within the
	 * table's size. */
	while ((work = neighbour_poll(&router->neighbours, now_ns, frame, &due)) !=
	       NEIGHBOUR_IDLE) {
		switch (work) {
		case NEIGHBOUR_RELEASE:
			router->counters.released++;
			return to_wire(router, ret, due.length, due.mac);
		case NEIGHBOUR_SOLICIT_MULTICAST:
		case NEIGHBOUR_SOLICIT_UNICAST:
			return solicit(router, frame, &due, work == NEIGHBOUR_SOLICIT_UNICAST, ret);
		default:
			if (due.length != 0)
				return give_up(router, frame, due.length, now_ns, ret);
		}
	}
	if (advert_due(&router->advert, now_ns))
		return advertise(router, frame, now_ns, ret);
	struct pk_stack *stacks[] = {&router->wire_stack, &router->kan_stack};
	for (unsigned i = 0; i < 2; i++) {
		struct pk_stack_result result;
		enum pk_stack_action action = pk_stack_poll(stacks[i], frame, now_ns, &result);
		if (action != PK_STACK_IDLE)
			return after_stack(router, stacks[i], frame, action, &result, now_ns, ret);
	}
	return decide(ret, ROUTER_IDLE);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t router_next_deadline(const struct router *router)
{
	if (router->outbox.stack)
		return 0;
	uint64_t next = neighbour_next_deadline(&router->neighbours);
	if (router->advert.enabled)
		next = earliest(next, router->advert.next_ns);
	next = earliest(next, pk_stack_next_deadline(&router->wire_stack));
	return earliest(next, pk_stack_next_deadline(&router->kan_stack));
}
