/* it-probe KIND ADDRESS: sends ADDRESS one packet of KIND, then an echo request, and prints
 * every answer that comes back until the echo reply, which must come last: the KAN keeps
 * one sender's packets in order and the node answers in order, so whatever the probe
 * earned arrives before the reply, and "no answer" needs no time-out. Kinds:
 *
 *   udp          a UDP datagram to port 9
 *   udp-frag     a 6000-byte UDP datagram, in fragments of at most 1280 bytes
 *   proto-253    a packet of protocol 253 (RFC 3692 experimental), nothing else
 *   dst-253      the same behind a Destination Options header
 *   option       a Destination Options header with an unknown option whose type says
 *                "discard and report" (top bits 10)
 *   bad-checksum an echo request with a wrong checksum
 *
 * Each answer is one line: "it-probe: answer type=T code=C parameter=P checksum=ok|bad
 * quote=intact|differs|none" (the quote compared with the probe as it was sent, whole,
 * before fragmentation), then "it-probe: echo reply" and exit 0; or "it-probe: no echo
 * reply" and exit 1 if none came within 3 s. Raw packet calls only: the program is
 * independent of the stack whose answers it checks. */
#define _GNU_SOURCE
#include "it_common.h"

#include <pk/net/frag.h>
#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>

enum {
	UDP_HEADER = 8,
	UDP_DATA = 32,
	FRAGMENTED_DATA = 6000,
	ECHO_ID = 0x5eed,
	EXPERIMENTAL_PROTOCOL = 253,
	ANSWER_WAIT_MS = 3000,
};

static uint8_t probe[PK_IPV6_HEADER_SIZE + FRAGMENTED_DATA + 64];
static uint32_t probe_length;

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A UDP datagram of `data` bytes from port 40000 to port 9, its checksum right. */
static uint32_t write_udp(uint8_t *p, const uint8_t *destination, uint16_t data)
{
	uint16_t length = (uint16_t)(UDP_HEADER + data);
	pk_ipv6_header_init(p, pk_address(0), destination, PK_IPPROTO_UDP, length, 64);
	uint8_t *udp = p + PK_IPV6_HEADER_SIZE;
	put16(udp, 40000);
	put16(udp + 2, 9);
	put16(udp + 4, length);
	put16(udp + 6, 0);
	for (uint32_t i = 0; i < data; i++)
		udp[UDP_HEADER + i] = it_pattern(i);
	uint16_t sum = pk_ipv6_upper_checksum(p, PK_IPPROTO_UDP, length);
	put16(udp + 6, sum ? sum : 0xffff);
	return PK_IPV6_HEADER_SIZE + length;
}

/* A Destination Options header of 8 bytes holding one option of `option_type` (4 bytes
 * of data), followed by 16 bytes of protocol `protocol`. */
static uint32_t write_options(uint8_t *p, const uint8_t *destination, uint8_t option_type,
			      uint8_t protocol)
{
	pk_ipv6_header_init(p, pk_address(0), destination, PK_IPPROTO_DSTOPTS, 8 + 16, 64);
	uint8_t *options = p + PK_IPV6_HEADER_SIZE;
	memset(options, 0, 8 + 16);
	options[0] = protocol;
	options[1] = 0; /* 8 bytes in all */
	options[2] = option_type;
	options[3] = 4;
	return PK_IPV6_HEADER_SIZE + 8 + 16;
}

static uint32_t write_echo(uint8_t *p, const uint8_t *destination, uint16_t seq, int good)
{
	pk_ipv6_header_init(p, pk_address(0), destination, PK_IPPROTO_ICMPV6, 8 + 8, 64);
	uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	memset(icmp, 0, 16);
	icmp[0] = PK_ICMPV6_ECHO_REQUEST;
	put16(icmp + 4, ECHO_ID);
	put16(icmp + 6, seq);
	put16(icmp + 2, (uint16_t)(pk_ipv6_upper_checksum(p, PK_IPPROTO_ICMPV6, 16) + !good));
	return PK_IPV6_HEADER_SIZE + 16;
}

static int write_probe(const char *kind, const uint8_t *destination)
{
	if (strcmp(kind, "udp") == 0 || strcmp(kind, "udp-frag") == 0)
		probe_length = write_udp(probe, destination,
					 strcmp(kind, "udp") == 0 ? UDP_DATA : FRAGMENTED_DATA);
	else if (strcmp(kind, "proto-253") == 0) {
		probe_length = it_packet(probe, pk_address(0), destination, 16);
		probe[6] = EXPERIMENTAL_PROTOCOL;
	} else if (strcmp(kind, "dst-253") == 0)
		probe_length =
			write_options(probe, destination, 0x01 /* PadN */, EXPERIMENTAL_PROTOCOL);
	else if (strcmp(kind, "option") == 0)
		probe_length = write_options(probe, destination, 0x80 | 0x1e, PK_IPPROTO_NONE);
	else if (strcmp(kind, "bad-checksum") == 0)
		probe_length = write_echo(probe, destination, 1, 0);
	else
		return -1;
	return 0;
}

/* Sends the probe: whole, or in fragments of at most PK_IPV6_MIN_MTU bytes. */
static int send_probe(void)
{
	int count = probe_length > PK_FRAME_SIZE
			    ? pk_frag_count(probe, probe_length, PK_IPV6_MIN_MTU)
			    : 1;
	if (count < 0)
		return count;
	for (int i = 0; i < count; i++) {
		struct pk_frame frame;
		int err = pk_frame_alloc(&frame);
		if (err < 0)
			return err;
		uint32_t length = probe_length;
		if (count == 1)
			memcpy(frame.data, probe, probe_length);
		else
			err = pk_frag_write(probe, probe_length, PK_IPV6_MIN_MTU, 0x1234567u,
					    (unsigned)i, frame.data, PK_FRAME_SIZE, &length);
		if (err == 0)
			err = pk_send(&frame, length);
		if (err < 0) {
			pk_frame_free(&frame);
			return err;
		}
	}
	return 0;
}

/* Prints what `p` (an answer from the node) is; returns 1 for the echo reply. */
static int describe(const uint8_t *p, uint32_t length)
{
	if (length < PK_IPV6_HEADER_SIZE + PK_ICMPV6_HEADER_SIZE || p[6] != PK_IPPROTO_ICMPV6) {
		printf("it-probe: answer not ICMPv6 (next header %u, %u bytes)\n",
		       length > 6 ? p[6] : 0, length);
		return 0;
	}
	const uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	uint32_t icmp_length = length - PK_IPV6_HEADER_SIZE;
	if (icmp[0] == PK_ICMPV6_ECHO_REPLY && get16(icmp + 4) == ECHO_ID)
		return 1;
	const uint8_t *quote = icmp + PK_ICMPV6_HEADER_SIZE;
	uint32_t quoted = icmp_length - PK_ICMPV6_HEADER_SIZE;
	const char *quote_state = quoted == 0 ? "none"
				  : quoted <= probe_length && memcmp(quote, probe, quoted) == 0
					  ? "intact"
					  : "differs";
	printf("it-probe: answer type=%u code=%u parameter=%u checksum=%s quote=%s quoted=%u\n",
	       icmp[0], icmp[1], get32(icmp + 4),
	       pk_icmpv6_checksum_ok(p, PK_IPV6_HEADER_SIZE, icmp_length) ? "ok" : "bad",
	       quote_state, quoted);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: it-probe KIND ADDRESS\n");
		return 2;
	}
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	it_address("it-probe", argv[2], destination);
	it_init("it-probe");
	if (write_probe(argv[1], destination) < 0) {
		fprintf(stderr, "it-probe: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	int err = send_probe();
	struct pk_frame frame;
	if (err == 0 && (err = pk_frame_alloc(&frame)) == 0 &&
	    (err = pk_send(&frame, write_echo(frame.data, destination, 2, 1))) < 0)
		pk_frame_free(&frame);
	if (err < 0) {
		printf("it-probe: send: %s\n", pk_strerror(err));
		return 1;
	}
	uint32_t length;
	while ((err = pk_recv(pk_endpoint(0), &frame, &length, ANSWER_WAIT_MS)) == 0) {
		int done = describe(frame.data, length);
		pk_frame_free(&frame);
		if (done) {
			printf("it-probe: echo reply\n");
			return 0;
		}
	}
	printf("it-probe: no echo reply (%s)\n", pk_strerror(err));
	return 1;
}
