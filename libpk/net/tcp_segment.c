/* TCP segments and their options: see pk/net/tcp_segment.h. */
#include "pk/net/tcp_segment.h"

#include <string.h>

#include "pk/net/icmpv6.h"
#include "pk/net/ipv6.h"
#include "pk/pk.h"
#include "pk/bytes.h"

enum {
	SEQ_AT = 4,
	ACK_AT = 8,
	OFFSET_AT = 12,
	FLAGS_AT = 13,
	WINDOW_AT = 14,
	CHECKSUM_AT = 16,
	URGENT_AT = 18,
};

enum option_kind {
	OPTION_END = 0,
	OPTION_NOP = 1,
	OPTION_MSS = 2,
	OPTION_WINDOW_SCALE = 3,
	OPTION_SACK_PERMITTED = 4,
	OPTION_SACK = 5,
	OPTION_TIMESTAMPS = 8,
};

/* Whether an option of `kind` may be `length` bytes long (kind and length bytes counted). */
static bool option_length_ok(uint8_t kind, uint32_t length)
{
	switch (kind) {
	case OPTION_MSS:
		return length == 4;
	case OPTION_WINDOW_SCALE:
		return length == 3;
	case OPTION_SACK_PERMITTED:
		return length == 2;
	case OPTION_SACK:
		return length >= 10 && (length - 2) % 8 == 0 &&
		       (length - 2) / 8 <= PK_TCP_SACK_BLOCKS_MAX;
	case OPTION_TIMESTAMPS:
		return length == 10;
	default:
		return length >= 2; /* unknown: skipped by its length */
	}
}

static void take_option(const uint8_t *o, uint32_t length, bool syn, struct pk_tcp_options *ret)
{
	switch (o[0]) {
	case OPTION_MSS:
		if (syn) {
			ret->has_mss = true;
			ret->mss = pk_get16(o + 2);
		}
		break;
	case OPTION_WINDOW_SCALE:
		if (syn) {
			ret->has_window_scale = true;
			ret->window_scale =
				o[2] > PK_TCP_WINDOW_SCALE_MAX ? PK_TCP_WINDOW_SCALE_MAX : o[2];
		}
		break;
	case OPTION_SACK_PERMITTED:
		ret->sack_permitted = ret->sack_permitted || syn;
		break;
	case OPTION_SACK:
		ret->sack_count = (length - 2) / 8;
		for (unsigned i = 0; i < ret->sack_count; i++) {
			ret->sack[i].left = pk_get32(o + 2 + 8 * i);
			ret->sack[i].right = pk_get32(o + 6 + 8 * i);
		}
		break;
	case OPTION_TIMESTAMPS:
		ret->has_timestamps = true;
		ret->timestamp_value = pk_get32(o + 2);
		ret->timestamp_echo = pk_get32(o + 6);
		break;
	default:
		break;
	}
}

enum pk_net_drop pk_tcp_parse_options(const uint8_t *options, uint32_t length, bool syn,
				      struct pk_tcp_options *ret)
{
	*ret = (struct pk_tcp_options){0};
	uint32_t at = 0;
	while (at < length) {
		uint8_t kind = options[at];
		if (kind == OPTION_END)
			break;
		if (kind == OPTION_NOP) {
			at++;
			continue;
		}
		/* Every other option has a length byte counting itself and its kind. */
		if (length - at < 2)
			return PK_NET_DROP_TCP_OPTION_MALFORMED;
		uint32_t option_length = options[at + 1];
		if (option_length > length - at || !option_length_ok(kind, option_length))
			return PK_NET_DROP_TCP_OPTION_MALFORMED;
		take_option(options + at, option_length, syn, ret);
		at += option_length;
	}
	return PK_NET_OK;
}

/* pk_tcp_parse, with the checksum verified or taken as verified. */
static enum pk_net_drop parse(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
			      bool verify_checksum, struct pk_tcp_segment *ret)
{
	if (upper_offset > length || length - upper_offset < PK_TCP_HEADER_SIZE)
		return PK_NET_DROP_TCP_SHORT;
	const uint8_t *tcp = packet + upper_offset;
	uint32_t segment_length = length - upper_offset;
	uint32_t header_length = (uint32_t)(tcp[OFFSET_AT] >> 4) * 4;
	if (header_length < PK_TCP_HEADER_SIZE || header_length > segment_length)
		return PK_NET_DROP_TCP_OFFSET;
	if (verify_checksum &&
	    pk_ipv6_checksum_at(packet, PK_IPPROTO_TCP, upper_offset, segment_length) != 0)
		return PK_NET_DROP_TCP_CHECKSUM;
	uint8_t flags = tcp[FLAGS_AT];
	if ((flags & PK_TCP_SYN) && (flags & (PK_TCP_FIN | PK_TCP_RST)))
		return PK_NET_DROP_TCP_FLAGS;
	*ret = (struct pk_tcp_segment){
		.source_port = pk_get16(tcp),
		.destination_port = pk_get16(tcp + 2),
		.seq = pk_get32(tcp + SEQ_AT),
		.ack = pk_get32(tcp + ACK_AT),
		.flags = flags,
		.window = pk_get16(tcp + WINDOW_AT),
		.urgent = pk_get16(tcp + URGENT_AT),
		.payload_offset = upper_offset + header_length,
		.payload_length = segment_length - header_length,
	};
	return pk_tcp_parse_options(tcp + PK_TCP_HEADER_SIZE, header_length - PK_TCP_HEADER_SIZE,
				    flags & PK_TCP_SYN, &ret->options);
}

enum pk_net_drop pk_tcp_parse(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
			      struct pk_tcp_segment *ret)
{
	return parse(packet, length, upper_offset, true, ret);
}

void pk_tcp_read(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
		 struct pk_tcp_segment *ret)
{
	/* The stack parsed it whole, so this cannot fail. */
	enum pk_net_drop checked = parse(packet, length, upper_offset, false, ret);
	(void)checked;
}

/* Appends an option's kind and length, and room for its value, which the caller writes in
 * the bytes just before *at. The callers leave room enough: a SYN's options take at most
 * 20 bytes, and SACK blocks are counted against what is left. */
static void append(uint8_t *out, uint32_t *at, uint8_t kind, uint32_t length)
{
	out[*at] = kind;
	out[*at + 1] = (uint8_t)length;
	*at += length;
}

uint32_t pk_tcp_write_options(const struct pk_tcp_options *o, bool syn,
			      uint8_t ret_options[PK_TCP_OPTIONS_MAX])
{
	uint8_t *out = ret_options;
	uint32_t at = 0;
	/* The layout most stacks send: every option word-aligned with NOPs, so the common
	 * ones sit where a receiver's fast path looks for them. */
	if (syn && o->has_mss) {
		append(out, &at, OPTION_MSS, 4);
		pk_put16(out + at - 2, o->mss);
	}
	if (syn && o->sack_permitted) {
		if (o->has_timestamps) {
			append(out, &at, OPTION_SACK_PERMITTED, 2);
		} else {
			out[at++] = OPTION_NOP;
			out[at++] = OPTION_NOP;
			append(out, &at, OPTION_SACK_PERMITTED, 2);
		}
	}
	if (o->has_timestamps) {
		if (!(syn && o->sack_permitted)) {
			out[at++] = OPTION_NOP;
			out[at++] = OPTION_NOP;
		}
		append(out, &at, OPTION_TIMESTAMPS, 10);
		pk_put32(out + at - 8, o->timestamp_value);
		pk_put32(out + at - 4, o->timestamp_echo);
	}
	if (syn && o->has_window_scale) {
		out[at++] = OPTION_NOP;
		append(out, &at, OPTION_WINDOW_SCALE, 3);
		out[at - 1] = o->window_scale;
	}
	if (!syn && o->sack_count > 0 && at + 2 + 2 + 8 <= PK_TCP_OPTIONS_MAX) {
		unsigned room = (PK_TCP_OPTIONS_MAX - at - 4) / 8;
		unsigned blocks = o->sack_count < room ? o->sack_count : room;
		out[at++] = OPTION_NOP;
		out[at++] = OPTION_NOP;
		append(out, &at, OPTION_SACK, 2 + 8 * blocks);
		for (unsigned i = 0; i < blocks; i++) {
			pk_put32(out + at - 8 * (blocks - i), o->sack[i].left);
			pk_put32(out + at - 8 * (blocks - i) + 4, o->sack[i].right);
		}
	}
	while (at % 4 != 0)
		out[at++] = OPTION_END;
	return at;
}

uint32_t pk_tcp_options_length(const struct pk_tcp_options *o, bool syn)
{
	/* The layout of pk_tcp_write_options, counted: test_tcp_segment checks the two agree. */
	uint32_t at = 0;
	if (syn && o->has_mss)
		at += 4;
	if (syn && o->sack_permitted)
		at += o->has_timestamps ? 2 : 4;
	if (o->has_timestamps)
		at += syn && o->sack_permitted ? 10 : 12;
	if (syn && o->has_window_scale)
		at += 4;
	if (!syn && o->sack_count > 0 && at + 2 + 2 + 8 <= PK_TCP_OPTIONS_MAX) {
		unsigned room = (PK_TCP_OPTIONS_MAX - at - 4) / 8;
		at += 4 + 8 * (o->sack_count < room ? o->sack_count : room);
	}
	return (at + 3) / 4 * 4;
}

uint32_t pk_tcp_payload_at(const struct pk_tcp_options *o, bool syn)
{
	return PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE + pk_tcp_options_length(o, syn);
}

uint32_t pk_tcp_write(uint8_t *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
		      const uint8_t destination[PK_IPV6_ADDR_SIZE], const struct pk_tcp_segment *s,
		      uint8_t hop_limit)
{
	bool syn = s->flags & PK_TCP_SYN;
	uint8_t options[PK_TCP_OPTIONS_MAX];
	uint32_t options_length = pk_tcp_write_options(&s->options, syn, options);
	uint32_t header_length = PK_TCP_HEADER_SIZE + options_length;
	uint32_t segment_length = header_length + s->payload_length;
	pk_ipv6_header_init(packet, source, destination, PK_IPPROTO_TCP, (uint16_t)segment_length,
			    hop_limit);
	uint8_t *tcp = packet + PK_IPV6_HEADER_SIZE;
	pk_put16(tcp, s->source_port);
	pk_put16(tcp + 2, s->destination_port);
	pk_put32(tcp + SEQ_AT, s->seq);
	pk_put32(tcp + ACK_AT, s->ack);
	tcp[OFFSET_AT] = (uint8_t)(header_length / 4 << 4);
	tcp[FLAGS_AT] = s->flags;
	pk_put16(tcp + WINDOW_AT, s->window);
	pk_put16(tcp + CHECKSUM_AT, 0);
	pk_put16(tcp + URGENT_AT, s->urgent);
	memcpy(tcp + PK_TCP_HEADER_SIZE, options, options_length);
	pk_put16(tcp + CHECKSUM_AT, pk_ipv6_upper_checksum(packet, PK_IPPROTO_TCP, segment_length));
	return PK_IPV6_HEADER_SIZE + segment_length;
}

uint32_t pk_tcp_sequence_length(const struct pk_tcp_segment *s)
{
	return s->payload_length + ((s->flags & PK_TCP_SYN) != 0) + ((s->flags & PK_TCP_FIN) != 0);
}

uint32_t pk_tcp_write_reset(const uint8_t *packet, const struct pk_tcp_segment *s, uint8_t *out)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet;
	/* No reset for a reset, nor to or from a group (RFC 1122 §4.2.2.12: TCP is between
	 * two hosts, and a reset from many would be a storm). */
	if ((s->flags & PK_TCP_RST) || pk_ipv6_is_multicast(h->destination) ||
	    pk_ipv6_is_multicast(h->source))
		return 0;
	uint8_t source[PK_IPV6_ADDR_SIZE], destination[PK_IPV6_ADDR_SIZE];
	memcpy(source, h->destination, sizeof source);
	memcpy(destination, h->source, sizeof destination);
	struct pk_tcp_segment reset = {
		.source_port = s->destination_port,
		.destination_port = s->source_port,
	};
	if (s->flags & PK_TCP_ACK) {
		reset.seq = s->ack;
		reset.flags = PK_TCP_RST;
	} else {
		reset.ack = s->seq + pk_tcp_sequence_length(s);
		reset.flags = PK_TCP_RST | PK_TCP_ACK;
	}
	return pk_tcp_write(out, source, destination, &reset, PK_NET_HOP_LIMIT);
}
