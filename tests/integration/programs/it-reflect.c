/* it-reflect MODE: an echo server that answers ping wrongly in one way, so the tests see
 * kan-ping notice. Modes:
 *
 *   request   the request sent back as it came, addresses swapped (still type 128)
 *   data      an echo reply whose last data byte differs from the request's
 *   sequence  an echo reply with the next sequence number
 *   error     a destination unreachable (port) quoting the request
 *
 * Every answer carries a correct checksum, so only kan-ping's own checks can catch it.
 * Raw packet calls, no stack: it answers everything it receives until it is killed. */
#define _GNU_SOURCE
#include "it_common.h"

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>

enum mode { REQUEST, DATA, SEQUENCE, ERROR };

static void set_checksum(uint8_t *p, uint32_t length)
{
	uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	icmp[2] = icmp[3] = 0;
	uint16_t sum = pk_ipv6_upper_checksum(p, PK_IPPROTO_ICMPV6, length - PK_IPV6_HEADER_SIZE);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
}

/* Writes the wrong answer over the request; returns its length, 0 to send nothing. */
static uint32_t answer(enum mode mode, uint8_t *p, uint32_t length)
{
	if (length < PK_IPV6_HEADER_SIZE + 8 || p[6] != PK_IPPROTO_ICMPV6 ||
	    p[PK_IPV6_HEADER_SIZE] != PK_ICMPV6_ECHO_REQUEST)
		return 0;
	uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	if (mode == ERROR) {
		uint32_t error_length;
		return pk_icmpv6_error_build(p, PK_FRAME_SIZE, p, length, pk_address(0),
					     PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0,
					     &error_length) == 0
			       ? error_length
			       : 0;
	}
	pk_ipv6_swap_addresses(p);
	if (mode == REQUEST)
		return length;
	icmp[0] = PK_ICMPV6_ECHO_REPLY;
	if (mode == DATA && length > PK_IPV6_HEADER_SIZE + 8)
		p[length - 1] ^= 0xff;
	if (mode == SEQUENCE)
		icmp[7]++;
	set_checksum(p, length);
	return length;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"request", "data", "sequence", "error"};
	int mode = -1;
	for (int i = 0; argc == 2 && i < 4; i++)
		if (strcmp(argv[1], names[i]) == 0)
			mode = i;
	if (mode < 0) {
		fprintf(stderr, "usage: it-reflect request|data|sequence|error\n");
		return 2;
	}
	it_init("it-reflect");
	struct pk_frame frame;
	uint32_t length;
	int err = pk_recv(pk_endpoint(0), &frame, &length, PK_WAIT_FOREVER);
	while (err == 0) {
		uint32_t out = answer((enum mode)mode, frame.data, length);
		if (out == 0 || (err = pk_send(&frame, out)) < 0)
			pk_frame_free(&frame);
		err = pk_recv(pk_endpoint(0), &frame, &length, PK_WAIT_FOREVER);
	}
	fprintf(stderr, "it-reflect: %s\n", pk_strerror(err));
	return 1;
}
