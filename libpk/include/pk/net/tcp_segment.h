/* TCP segments (RFC 9293) and their options (MSS; window scale and timestamps, RFC 7323;
 * SACK, RFC 2018): checking one that arrived, and writing one to send. Protocol code only,
 * as the rest of <pk/net/>: bytes in, bytes out; what a segment means to a connection is
 * the state machine's business, not this module's. */
#ifndef PK_NET_TCP_SEGMENT_H
#define PK_NET_TCP_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

#include <pk/net/counters.h>

#define PK_TCP_HEADER_SIZE	20u
#define PK_TCP_OPTIONS_MAX	40u /* a data offset of 15 words */
#define PK_TCP_SACK_BLOCKS_MAX	4u  /* what fits in the option space (3 beside timestamps) */
#define PK_TCP_WINDOW_SCALE_MAX 14u /* RFC 7323 §2.3: a larger shift counts as 14 */

enum pk_tcp_flag {
	PK_TCP_FIN = 0x01,
	PK_TCP_SYN = 0x02,
	PK_TCP_RST = 0x04,
	PK_TCP_PSH = 0x08,
	PK_TCP_ACK = 0x10,
	PK_TCP_URG = 0x20,
	PK_TCP_ECE = 0x40,
	PK_TCP_CWR = 0x80,
};

struct pk_tcp_sack_block {
	uint32_t left, right; /* the first sequence number held, and the one after the last */
};

/* The options a segment carries, or is to carry. MSS, window scale and SACK-permitted mean
 * something only on a SYN: on other segments they are read past, not reported, and never
 * written. */
struct pk_tcp_options {
	bool has_mss;
	uint16_t mss;
	bool has_window_scale;
	uint8_t window_scale; /* at most PK_TCP_WINDOW_SCALE_MAX once parsed */
	bool sack_permitted;
	bool has_timestamps;
	uint32_t timestamp_value, timestamp_echo;
	unsigned sack_count;
	struct pk_tcp_sack_block sack[PK_TCP_SACK_BLOCKS_MAX];
};

struct pk_tcp_segment {
	uint16_t source_port, destination_port;
	uint32_t seq, ack;
	uint8_t flags; /* enum pk_tcp_flag bits */
	uint16_t window;
	uint16_t urgent;
	uint32_t payload_offset; /* from the start of the packet */
	uint32_t payload_length;
	struct pk_tcp_options options;
};

/* Checks the TCP segment at `upper_offset` of the `length`-byte packet: its header and data
 * offset (at least 5 words, within the segment), its checksum, its flags (SYN never with
 * FIN or RST) and its options (every length within the header and right for its kind),
 * and fills *ret. */
enum pk_net_drop pk_tcp_parse(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
			      struct pk_tcp_segment *ret);

/* Fills *ret from a segment pk_tcp_parse has already accepted (the stack does, for every
 * segment it delivers), without checking it again. */
void pk_tcp_read(const uint8_t *packet, uint32_t length, uint32_t upper_offset,
		 struct pk_tcp_segment *ret);

/* The `length` bytes of options of a segment that is (`syn`) or is not a SYN. */
enum pk_net_drop pk_tcp_parse_options(const uint8_t *options, uint32_t length, bool syn,
				      struct pk_tcp_options *ret);

/* Writes `o` as options of a SYN or another segment (at most PK_TCP_OPTIONS_MAX bytes:
 * SACK blocks that do not fit are left out), padded to whole words; returns the bytes. */
uint32_t pk_tcp_write_options(const struct pk_tcp_options *o, bool syn,
			      uint8_t ret_options[PK_TCP_OPTIONS_MAX]);

/* The bytes pk_tcp_write_options would write for `o`, without writing them. */
uint32_t pk_tcp_options_length(const struct pk_tcp_options *o, bool syn);

/* Where the payload of a segment with options `o` starts in its packet: write the payload
 * there, then call pk_tcp_write. */
uint32_t pk_tcp_payload_at(const struct pk_tcp_options *o, bool syn);

/* Writes, at `packet`, an IPv6 header and the TCP header and options of `s` in front of
 * the `s->payload_length` bytes already at pk_tcp_payload_at, and the checksum; returns
 * the packet's length. `s->payload_offset` is ignored. */
uint32_t pk_tcp_write(uint8_t *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
		      const uint8_t destination[PK_IPV6_ADDR_SIZE], const struct pk_tcp_segment *s,
		      uint8_t hop_limit);

/* The length a segment takes in sequence space: its payload, and one each for SYN and FIN. */
uint32_t pk_tcp_sequence_length(const struct pk_tcp_segment *s);

/* The reset that answers segment `s` of `packet` (parsed by pk_tcp_parse) where no
 * connection is (RFC 9293 §3.10.7.1): to a segment with ACK, <SEQ=SEG.ACK><CTL=RST>;
 * without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Written at `out` (which may be
 * `packet` itself) from the segment's destination back to its source; returns its length,
 * or 0 for a reset, which is never answered, and for a segment to or from a multicast
 * address. */
uint32_t pk_tcp_write_reset(const uint8_t *packet, const struct pk_tcp_segment *s, uint8_t *out);

#endif
