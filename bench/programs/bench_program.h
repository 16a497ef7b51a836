/* What the benchmark programs of bench_sim share: reading a KAN address from the command
 * line, waiting for the driver's go, and the payload header of the stream protocol
 * (bench-stream to bench-sink and its acknowledgements back).
 *
 * These are PackOS programs: libpk, the ABI and the C library only, like servers/. */
#ifndef BENCH_PROGRAM_H
#define BENCH_PROGRAM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pk/mcast.h>
#include <pk/pk.h>

/* RFC 3692: an IPv6 next-header value for experiments and tests. */
#define BENCH_NEXT_HEADER 253

/* Payload bytes a full frame carries after its IPv6 header. */
#define BENCH_FRAME_PAYLOAD (PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE)

/* The first bytes of every stream packet's payload; integers big-endian, as on the wire. */
struct bench_stream_header {
	uint8_t magic[4]; /* "BSTR" */
	uint8_t flags;	  /* enum bench_stream_flag */
	uint8_t reserved[3];
	uint8_t seq[8]; /* data: the packet's number; ack: the packet acknowledged */
};

_Static_assert(sizeof(struct bench_stream_header) == 16, "the stream header is 16 bytes");

enum bench_stream_flag {
	BENCH_STREAM_DATA = 1u << 0,
	BENCH_STREAM_ACK_REQUEST = 1u << 1, /* answer with an ack for this packet's seq */
	BENCH_STREAM_ACK = 1u << 2,
};

static inline void bench_put64(uint8_t *p, uint64_t value)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(value >> (56 - 8 * i));
}

static inline uint64_t bench_get64(const uint8_t *p)
{
	uint64_t value = 0;
	for (int i = 0; i < 8; i++)
		value = value << 8 | p[i];
	return value;
}

static inline void bench_stream_header_write(uint8_t *payload, uint8_t flags, uint64_t seq)
{
	struct bench_stream_header *h = (struct bench_stream_header *)payload;
	memcpy(h->magic, "BSTR", sizeof h->magic);
	h->flags = flags;
	memset(h->reserved, 0, sizeof h->reserved);
	bench_put64(h->seq, seq);
}

/* The stream header of `packet`, or NULL if it carries none. */
static inline const struct bench_stream_header *bench_stream_header_read(const uint8_t *packet,
									 uint32_t length)
{
	if (length < PK_IPV6_HEADER_SIZE + sizeof(struct bench_stream_header) ||
	    packet[6] != BENCH_NEXT_HEADER || memcmp(packet + PK_IPV6_HEADER_SIZE, "BSTR", 4) != 0)
		return NULL;
	return (const struct bench_stream_header *)(packet + PK_IPV6_HEADER_SIZE);
}

/* The payload of bench-mcast-send's packets to a group, and of the members' acks back. */
struct bench_mcast_payload {
	uint8_t magic[4]; /* "BMCA" */
	uint8_t flags;	  /* enum bench_mcast_flag */
	uint8_t reserved[3];
	uint8_t seq[8];	    /* data: the packet's number in its run; ack: the one acknowledged */
	uint8_t time_ns[8]; /* data: when it was sent; ack: when the member received it */
};

_Static_assert(sizeof(struct bench_mcast_payload) == 24, "the multicast payload is 24 bytes");

enum bench_mcast_flag {
	BENCH_MCAST_ACK_REQUEST = 1u << 0, /* every member that acks answers this one */
	BENCH_MCAST_END = 1u << 1,	   /* the run's last packet */
	BENCH_MCAST_ACK = 1u << 2,
};

static inline void bench_mcast_payload_write(uint8_t *payload, uint8_t flags, uint64_t seq,
					     uint64_t time_ns)
{
	struct bench_mcast_payload *p = (struct bench_mcast_payload *)payload;
	memcpy(p->magic, "BMCA", sizeof p->magic);
	p->flags = flags;
	memset(p->reserved, 0, sizeof p->reserved);
	bench_put64(p->seq, seq);
	bench_put64(p->time_ns, time_ns);
}

/* The multicast payload at `payload` (`length` bytes), or NULL if it carries none. */
static inline const struct bench_mcast_payload *bench_mcast_payload_read(const uint8_t *payload,
									 uint32_t length)
{
	if (length < sizeof(struct bench_mcast_payload) || memcmp(payload, "BMCA", 4) != 0)
		return NULL;
	return (const struct bench_mcast_payload *)payload;
}

/* An address as text; "::7" (high 64 bits zero) names interface 7 in this program's own
 * KAN prefix, as a manifest line does. Call after pk_init. Returns 0 or -1. */
static inline int bench_parse_address(const char *text, uint8_t ret_address[PK_IPV6_ADDR_SIZE])
{
	uint8_t address[PK_IPV6_ADDR_SIZE];
	if (pk_addr_parse(text, address) < 0 || pk_address(0) == NULL)
		return -1;
	int high_zero = 1;
	for (unsigned i = 0; i < PK_KAN_PREFIX_SIZE; i++)
		high_zero &= address[i] == 0;
	if (high_zero)
		memcpy(address, pk_address(0), PK_KAN_PREFIX_SIZE);
	memcpy(ret_address, address, sizeof address);
	return 0;
}

/* A count from the command line: 1..max. Returns 0 or -1. */
static inline int bench_parse_count(const char *text, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long value = strtoul(text, &end, 10);
	if (end == text || *end != '\0' || value == 0 || value > max)
		return -1;
	*ret = value;
	return 0;
}

/* "kernel" or "server", the multicast design (pk/mcast.h). Returns 0 or -1. */
static inline int bench_parse_design(const char *text, enum pk_mcast_design *ret)
{
	if (strcmp(text, "kernel") != 0 && strcmp(text, "server") != 0)
		return -1;
	*ret = text[0] == 'k' ? PK_MCAST_KERNEL : PK_MCAST_SERVER;
	return 0;
}

/* The driver pins a program to its CPU after packosd has started it and before it
 * measures anything: it says "go" on the program's stdin (or closes it). */
static inline void bench_wait_for_go(void)
{
	int c;
	do
		c = getchar();
	while (c != '\n' && c != EOF);
}

#endif
