/* The per-process IPv6 stack: one inbound packet in, one decision out.
 *
 * The order of checks is the order of trust: the fixed header against the bytes received,
 * the destination, the header chain, reassembly, then the upper layer. Every refusal is
 * counted once, under its reason, in the interface; an answer (echo reply or error) is
 * written over the caller's frame, which a reply never outgrows unless it came from a
 * reassembled datagram or the path's MTU is smaller than the link's. */
#include <string.h>

#include "pk/net/stack.h"
#include "pk/net/tcp_segment.h"
#include "pk/net/udp.h"
#include "pk/pk.h"
#include "pk/bytes.h"

enum {
	DEFAULT_ERRORS_PER_SECOND = 100,
	DEFAULT_ERRORS_BURST = 10,
	/* A packet-too-big carries the MTU, then as much of the packet as fits. */
	PTB_MTU_AT = 4,
};

static uint32_t counter_identification(void *context)
{
	struct pk_stack *stack = context;
	/* Consecutive values through a bijective mixer (the splitmix32 finalizer): unique
	 * for 2^32 datagrams and not guessable from the previous one without the seed. */
	uint32_t x = stack->next_identification++;
	x = (x ^ (x >> 16)) * 0x85ebca6bu;
	x = (x ^ (x >> 13)) * 0xc2b2ae35u;
	return x ^ (x >> 16);
}

void pk_stack_init(struct pk_stack *stack, struct pk_iface *iface,
		   const struct pk_stack_config *config, uint64_t now_ns)
{
	*stack = (struct pk_stack){.iface = iface,
				   .identify = config->identify,
				   .identify_context = config->identify_context,
				   .next_identification = config->identification_seed};
	if (!stack->identify) {
		stack->identify = counter_identification;
		stack->identify_context = stack;
	}
	pk_reasm_init(&stack->reasm, config->reasm_slots, config->reasm_slot_count,
		      config->reasm_buffers, config->reasm_buffer_size,
		      config->reasm_timeout_ns ? config->reasm_timeout_ns : PK_REASM_TIMEOUT_NS);
	pk_pmtu_init(&stack->pmtu, config->pmtu_entries, config->pmtu_entry_count, iface->mtu,
		     config->pmtu_lifetime_ns ? config->pmtu_lifetime_ns : PK_PMTU_LIFETIME_NS);
	pk_ratelimit_init(
		&stack->errors,
		config->errors_per_second ? config->errors_per_second : DEFAULT_ERRORS_PER_SECOND,
		config->errors_burst ? config->errors_burst : DEFAULT_ERRORS_BURST, now_ns);
}

uint32_t pk_stack_next_identification(struct pk_stack *stack)
{
	return stack->identify(stack->identify_context);
}

static enum pk_stack_action finish(struct pk_stack_result *ret, enum pk_stack_action action)
{
	ret->action = action;
	return action;
}

static enum pk_stack_action dropped(struct pk_stack *stack, struct pk_stack_result *ret,
				    enum pk_net_drop reason)
{
	stack->iface->counters.drops[reason]++;
	ret->drop = reason;
	return finish(ret, PK_STACK_DROPPED);
}

enum pk_stack_action pk_stack_reject_from(struct pk_stack *stack, uint8_t *frame,
					  const uint8_t *invoking, uint32_t length,
					  const uint8_t source[PK_IPV6_ADDR_SIZE],
					  const struct pk_icmpv6_due *error, uint64_t now_ns,
					  struct pk_stack_result *ret)
{
	*ret = (struct pk_stack_result){0};
	if (!pk_icmpv6_error_allowed(invoking, length, error->type, error->code, error->parameter))
		return finish(ret, PK_STACK_DROPPED);
	if (!pk_ratelimit_take(&stack->errors, now_ns))
		return dropped(stack, ret, PK_NET_DROP_ERROR_RATE_LIMITED);
	if (pk_icmpv6_error_build(frame, PK_FRAME_SIZE, invoking, length, source, error->type,
				  error->code, error->parameter, &ret->length) < 0)
		return finish(ret, PK_STACK_DROPPED);
	stack->iface->counters.errors_sent++;
	ret->packet = frame;
	return finish(ret, PK_STACK_SEND);
}

enum pk_stack_action pk_stack_reject(struct pk_stack *stack, uint8_t *frame,
				     const uint8_t *invoking, uint32_t length, uint8_t type,
				     uint8_t code, uint32_t parameter, uint64_t now_ns,
				     struct pk_stack_result *ret)
{
	if (length < PK_IPV6_HEADER_SIZE || stack->iface->address_count == 0) {
		*ret = (struct pk_stack_result){0};
		return finish(ret, PK_STACK_DROPPED);
	}
	/* Answer from the address the packet was sent to when it is ours (RFC 4443 §2.2). */
	const uint8_t *destination = ((const struct pk_ipv6_header *)invoking)->destination;
	const uint8_t *source = pk_iface_has_address(stack->iface, destination)
					? destination
					: stack->iface->address[0];
	const struct pk_icmpv6_due error = {.type = type, .code = code, .parameter = parameter};
	return pk_stack_reject_from(stack, frame, invoking, length, source, &error, now_ns, ret);
}

/* Drops a packet a parser refused, answering it when the parser asked for an error. */
static enum pk_stack_action refuse(struct pk_stack *stack, uint8_t *frame, const uint8_t *packet,
				   uint32_t length, enum pk_net_drop reason,
				   const struct pk_icmpv6_due *due, uint64_t now_ns,
				   struct pk_stack_result *ret)
{
	stack->iface->counters.drops[reason]++;
	if (due->type != 0 && pk_stack_reject(stack, frame, packet, length, due->type, due->code,
					      due->parameter, now_ns, ret) == PK_STACK_SEND) {
		ret->drop = reason;
		return PK_STACK_SEND;
	}
	*ret = (struct pk_stack_result){.drop = reason};
	return finish(ret, PK_STACK_DROPPED);
}

/* A packet too big about a packet this interface sent lowers that path's MTU. */
static void learn_path_mtu(struct pk_stack *stack, const uint8_t *icmp, uint32_t icmp_length,
			   uint64_t now_ns)
{
	if (icmp_length < PK_ICMPV6_HEADER_SIZE + PK_IPV6_HEADER_SIZE)
		return;
	const struct pk_ipv6_header *quoted =
		(const struct pk_ipv6_header *)(icmp + PK_ICMPV6_HEADER_SIZE);
	if (!pk_iface_has_address(stack->iface, quoted->source))
		return;
	if (pk_pmtu_learn(&stack->pmtu, quoted->destination, pk_get32(icmp + PTB_MTU_AT), now_ns))
		stack->iface->counters.pmtu_updates++;
}

static enum pk_stack_action echo(struct pk_stack *stack, uint8_t *frame, uint8_t *packet,
				 uint32_t length, uint32_t icmp_offset, uint64_t now_ns,
				 struct pk_stack_result *ret)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet;
	const uint8_t *source =
		pk_ipv6_is_multicast(h->destination) ? stack->iface->address[0] : NULL;
	if (source && stack->iface->address_count == 0)
		return finish(ret, PK_STACK_HELD);
	uint32_t reply_length = pk_icmpv6_echo_reply(packet, length, icmp_offset, source);
	stack->iface->counters.echo_replies++;
	uint32_t mtu = pk_pmtu_get(&stack->pmtu, h->destination, now_ns);
	if (reply_length <= mtu && reply_length <= PK_FRAME_SIZE) {
		if (packet != frame)
			memcpy(frame, packet, reply_length);
		ret->packet = frame;
		ret->length = reply_length;
		return finish(ret, PK_STACK_SEND);
	}
	int count = pk_frag_count(packet, reply_length, mtu);
	if (count < 0)
		return finish(ret, PK_STACK_HELD);
	ret->packet = packet;
	ret->length = reply_length;
	ret->fragment_count = (unsigned)count;
	ret->mtu = mtu;
	ret->identification = pk_stack_next_identification(stack);
	return finish(ret, PK_STACK_SEND_FRAGMENTS);
}

/* The upper layer of a whole packet (in the frame, or reassembled). */
static enum pk_stack_action upper(struct pk_stack *stack, uint8_t *frame, uint8_t *packet,
				  uint32_t length, uint64_t now_ns, struct pk_stack_result *ret)
{
	struct pk_ipv6_chain chain;
	enum pk_net_drop reason = pk_ipv6_parse_chain(packet, length, &chain);
	if (reason != PK_NET_OK)
		return refuse(stack, frame, packet, length, reason, &chain.due, now_ns, ret);
	if (chain.atomic_fragment)
		stack->iface->counters.atomic_fragments++;
	*ret = (struct pk_stack_result){.packet = packet,
					.length = length,
					.protocol = chain.upper_protocol,
					.upper_offset = chain.upper_offset};
	if (chain.upper_protocol == PK_IPPROTO_ICMPV6) {
		uint32_t icmp_length = length - chain.upper_offset;
		const uint8_t *icmp = packet + chain.upper_offset;
		if (icmp_length < PK_ICMPV6_HEADER_SIZE)
			return dropped(stack, ret, PK_NET_DROP_ICMP_SHORT);
		if (!pk_icmpv6_checksum_ok(packet, chain.upper_offset, icmp_length))
			return dropped(stack, ret, PK_NET_DROP_ICMP_CHECKSUM);
		if (icmp[0] == PK_ICMPV6_ECHO_REQUEST)
			return echo(stack, frame, packet, length, chain.upper_offset, now_ns, ret);
		if (icmp[0] == PK_ICMPV6_PACKET_TOO_BIG)
			learn_path_mtu(stack, icmp, icmp_length, now_ns);
	}
	if (chain.upper_protocol == PK_IPPROTO_TCP) {
		struct pk_tcp_segment tcp;
		reason = pk_tcp_parse(packet, length, chain.upper_offset, &tcp);
		if (reason != PK_NET_OK)
			return dropped(stack, ret, reason);
	}
	if (chain.upper_protocol == PK_IPPROTO_UDP) {
		struct pk_udp_datagram udp;
		reason = pk_udp_parse(packet, length, chain.upper_offset, &udp);
		if (reason != PK_NET_OK)
			return dropped(stack, ret, reason);
		/* Bytes after the datagram are padding: the packet ends where it does. */
		ret->length = udp.payload_offset + udp.payload_length;
	}
	stack->iface->counters.delivered++;
	return finish(ret, PK_STACK_DELIVER);
}

/* Expires one reassembly that is due, counting it; returns its first fragment or NULL. */
static bool expire_one(struct pk_stack *stack, uint64_t now_ns, struct pk_reasm_datagram *first)
{
	if (!pk_reasm_expire(&stack->reasm, now_ns, first))
		return false;
	stack->iface->counters.drops[PK_NET_DROP_FRAGMENT_TIMEOUT]++;
	return true;
}

enum pk_stack_action pk_stack_input(struct pk_stack *stack, uint8_t *frame, uint32_t length,
				    uint64_t now_ns, struct pk_stack_result *ret)
{
	*ret = (struct pk_stack_result){0};
	stack->iface->counters.received++;
	uint32_t packet_length;
	enum pk_net_drop reason = pk_ipv6_parse_header(frame, length, &packet_length);
	if (reason != PK_NET_OK)
		return dropped(stack, ret, reason);
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)frame;
	if (!pk_iface_accepts(stack->iface, h->destination))
		return dropped(stack, ret, PK_NET_DROP_NOT_FOR_US);

	struct pk_ipv6_chain chain;
	reason = pk_ipv6_parse_chain(frame, packet_length, &chain);
	if (reason != PK_NET_OK)
		return refuse(stack, frame, frame, packet_length, reason, &chain.due, now_ns, ret);
	if (chain.fragment_offset == 0 || chain.atomic_fragment)
		return upper(stack, frame, frame, packet_length, now_ns, ret);

	/* Time-outs are noticed here too, so a slot that expired cannot take a fragment
	 * even if the caller has not polled for a while. */
	struct pk_reasm_datagram done;
	while (expire_one(stack, now_ns, &done))
		;
	stack->iface->counters.fragments_received++;
	reason = pk_reasm_input(&stack->reasm, frame, packet_length, &chain, now_ns, &done);
	if (reason != PK_NET_OK)
		return dropped(stack, ret, reason);
	if (!done.packet)
		return finish(ret, PK_STACK_HELD);
	stack->iface->counters.reassembled++;
	return upper(stack, frame, done.packet, done.length, now_ns, ret);
}

int pk_stack_fragment(struct pk_stack *stack, const struct pk_stack_result *result, unsigned index,
		      uint8_t *frame, uint32_t *ret_length)
{
	int err = pk_frag_write(result->packet, result->length, result->mtu, result->identification,
				index, frame, PK_FRAME_SIZE, ret_length);
	if (err == 0)
		stack->iface->counters.fragments_sent++;
	return err;
}

enum pk_stack_action pk_stack_poll(struct pk_stack *stack, uint8_t *frame, uint64_t now_ns,
				   struct pk_stack_result *ret)
{
	*ret = (struct pk_stack_result){0};
	struct pk_reasm_datagram first;
	if (!expire_one(stack, now_ns, &first))
		return finish(ret, PK_STACK_IDLE);
	ret->drop = PK_NET_DROP_FRAGMENT_TIMEOUT;
	if (!first.packet)
		return finish(ret, PK_STACK_DROPPED);
	/* RFC 8200 §4.5: only a datagram whose first fragment came is reported. */
	enum pk_stack_action action =
		pk_stack_reject(stack, frame, first.packet, first.length, PK_ICMPV6_TIME_EXCEEDED,
				PK_ICMPV6_TIME_REASSEMBLY, 0, now_ns, ret);
	ret->drop = PK_NET_DROP_FRAGMENT_TIMEOUT;
	return action == PK_STACK_SEND ? action : finish(ret, PK_STACK_DROPPED);
}

uint64_t pk_stack_next_deadline(const struct pk_stack *stack)
{
	return pk_reasm_next_deadline(&stack->reasm);
}
