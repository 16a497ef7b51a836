/* wire-storm: throws malformed Ethernet frames at the PackOS NIC from the host's side of
 * its TAP device, as a hostile or broken neighbour would.
 *
 *   wire-storm INTERFACE NIC-MAC KAN-PREFIX ROUNDS SEED
 *
 * Each round sends one of every kind below, then a run of random bytes; everything is
 * addressed so that it reaches the device (its MAC or an IPv6 group MAC) and, where the
 * kind allows, passes the checks before the one it breaks (valid checksums on NDP with bad
 * options, say). Prints how many frames it sent. Needs CAP_NET_RAW. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pk/pk.h>

enum { ICMPV6 = 58, HOP_BY_HOP = 0, DESTINATION_OPTIONS = 60, FRAGMENT = 44, NO_NEXT = 59 };

static int sock;
static struct sockaddr_ll link_address;
static uint8_t nic_mac[6];
static uint8_t kan_prefix[8];
static unsigned long sent;
static uint64_t rng;

static const uint8_t host_mac[6] = {0x02, 0x5e, 0x57, 0x00, 0x00, 0x02};
/* The host's side of the link (scripts/host-net) and a stranger on it. */
static const uint8_t host_address[16] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1,
					 0,    0,    0,	   0,	 0, 0, 0, 2};
static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};

static uint64_t next_random(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void emit(const uint8_t *frame, size_t length)
{
	if (sendto(sock, frame, length, 0, (const struct sockaddr *)&link_address,
		   sizeof link_address) < 0 &&
	    errno != EMSGSIZE && errno != EINVAL) {
		perror("wire-storm: sendto");
		exit(1);
	}
	sent++;
}

/* An Ethernet header to `mac`, then an IPv6 header; returns the offset after it. */
static size_t ipv6_frame(uint8_t *f, const uint8_t mac[6], const uint8_t source[16],
			 const uint8_t destination[16], uint8_t next_header, uint16_t payload,
			 uint8_t hop_limit)
{
	memcpy(f, mac, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *h = f + 14;
	memset(h, 0, 40);
	h[0] = 0x60;
	h[4] = (uint8_t)(payload >> 8);
	h[5] = (uint8_t)payload;
	h[6] = next_header;
	h[7] = hop_limit;
	memcpy(h + 8, source, 16);
	memcpy(h + 24, destination, 16);
	return 14 + 40;
}

static void kan_address(uint8_t ret[16], uint8_t last)
{
	memset(ret, 0, 16);
	memcpy(ret, kan_prefix, 8);
	ret[15] = last;
}

static void solicited_node(const uint8_t target[16], uint8_t ret[16], uint8_t mac[6])
{
	static const uint8_t prefix[13] = {0xff, 0x02, [11] = 1, [12] = 0xff};
	memcpy(ret, prefix, 13);
	memcpy(ret + 13, target + 13, 3);
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, ret + 12, 4);
}

/* An NDP message with a valid checksum whose options (or fields) are broken in `how`. */
static void bad_ndp(int how)
{
	uint8_t f[256], target[16], group[16], group_mac[6];
	static const uint8_t link_router[16] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1, [15] = 1};
	memcpy(target, link_router, 16);
	solicited_node(target, group, group_mac);
	uint8_t options[16] = {1, 1, 0x02, 0x5e, 0x57, 0, 0, 2}; /* source link-layer */
	uint32_t option_length = 8;
	uint8_t hop_limit = 255, type = 135, code = 0;
	switch (how) {
	case 0: /* an option of length zero, which would loop a naive parser */
		options[1] = 0;
		break;
	case 1: /* an option longer than the message */
		options[1] = 9;
		break;
	case 2: /* from beyond the link */
		hop_limit = 64;
		break;
	case 3: /* a multicast target */
		memcpy(target, all_nodes, 16);
		break;
	case 4: /* a code other than 0 */
		code = 7;
		break;
	case 5: /* a router solicitation with a truncated option */
		type = 133;
		option_length = 5;
		break;
	case 6: /* a neighbour advertisement whose option runs past the end */
		type = 136;
		options[0] = 2;
		options[1] = 2;
		break;
	}
	uint32_t body = type == 133 ? 8 : 24;
	uint32_t length = body + option_length;
	size_t at =
		ipv6_frame(f, group_mac, host_address, group, ICMPV6, (uint16_t)length, hop_limit);
	uint8_t *m = f + at;
	memset(m, 0, body);
	m[0] = type;
	m[1] = code;
	if (type != 133)
		memcpy(m + 8, target, 16);
	memcpy(m + body, options, option_length);
	uint16_t sum = pk_ipv6_upper_checksum(f + 14, ICMPV6, length);
	m[2] = (uint8_t)(sum >> 8);
	m[3] = (uint8_t)sum;
	emit(f, at + length);
}

static void round_of_malformed_frames(void)
{
	uint8_t f[4200], kan_echo[16], spoofed[16];
	kan_address(kan_echo, 7);
	kan_address(spoofed, 9);

	/* Runts and strangers. */
	memcpy(f, nic_mac, 6);
	emit(f, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0x45, 40);
	emit(f, 54);
	f[12] = 0x86;
	f[13] = 0xdd;
	emit(f, 20); /* IPv6 shorter than its header */

	/* IPv6 headers that lie. */
	size_t at = ipv6_frame(f, nic_mac, host_address, kan_echo, NO_NEXT, 100, 64);
	emit(f, at + 10); /* claims 100 bytes, carries 10 */
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, NO_NEXT, 0, 64);
	f[14] = 0x40; /* version 4 */
	emit(f, at);
	at = ipv6_frame(f, nic_mac, spoofed, kan_echo, NO_NEXT, 0, 64);
	emit(f, at); /* a KAN source from the wire */
	at = ipv6_frame(f, nic_mac, all_nodes, kan_echo, NO_NEXT, 0, 64);
	emit(f, at); /* a multicast source */
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, NO_NEXT, 0, 1);
	emit(f, at); /* would expire in the router */
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, 143, 8, 64);
	memset(f + at, 0, 8);
	emit(f, at + 8); /* a next header nobody knows */

	/* A header chain that never ends: destination options all the way. */
	uint16_t chain = 8 * 400;
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, DESTINATION_OPTIONS, chain, 64);
	for (unsigned i = 0; i < 400; i++) {
		f[at + 8 * i] = DESTINATION_OPTIONS;
		f[at + 8 * i + 1] = 0;
		memset(f + at + 8 * i + 2, 0, 6); /* Pad1s */
	}
	emit(f, at + chain < 1514 ? at + chain : 1514);
	/* Hop-by-hop options not first. */
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, DESTINATION_OPTIONS, 16, 64);
	memset(f + at, 0, 16);
	f[at] = HOP_BY_HOP;
	f[at + 8] = NO_NEXT;
	emit(f, at + 16);

	/* Fragments: overlapping, never completed, odd sizes. */
	uint32_t id = (uint32_t)next_random();
	for (int piece = 0; piece < 3; piece++) {
		uint16_t offset = piece == 2 ? 8 : (uint16_t)(piece * 64);
		at = ipv6_frame(f, nic_mac, host_address, kan_echo, FRAGMENT, 8 + 96, 64);
		f[at] = NO_NEXT;
		f[at + 1] = 0;
		uint16_t field = (uint16_t)(offset << 3 | 1);
		f[at + 2] = (uint8_t)(field >> 8);
		f[at + 3] = (uint8_t)field;
		memcpy(f + at + 4, &id, 4);
		memset(f + at + 8, 0xee, 96);
		emit(f, at + 8 + 96);
	}
	at = ipv6_frame(f, nic_mac, host_address, kan_echo, FRAGMENT, 8 + 13, 64);
	f[at] = NO_NEXT;
	f[at + 3] = 1; /* more fragments follow, and 13 bytes is not a multiple of 8 */
	memcpy(f + at + 4, &id, 4);
	emit(f, at + 8 + 13);

	for (int how = 0; how < 7; how++)
		bad_ndp(how);

	/* Noise: random lengths and bytes behind a plausible header. */
	for (int i = 0; i < 16; i++) {
		size_t length = 14 + next_random() % 1500;
		for (size_t j = 14; j < length; j++)
			f[j] = (uint8_t)next_random();
		memcpy(f, nic_mac, 6);
		memcpy(f + 6, host_mac, 6);
		f[12] = 0x86;
		f[13] = 0xdd;
		if (i & 1)
			f[14] = (uint8_t)(0x60 | (f[14] & 0x0f));
		emit(f, length);
	}
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t prefix[16];
	if (argc != 6 || parse_mac(argv[2], nic_mac) < 0 ||
	    inet_pton(AF_INET6, argv[3], prefix) != 1) {
		fprintf(stderr, "usage: wire-storm INTERFACE NIC-MAC KAN-PREFIX ROUNDS SEED\n");
		return 2;
	}
	memcpy(kan_prefix, prefix, 8);
	unsigned long rounds = strtoul(argv[4], NULL, 10);
	rng = strtoull(argv[5], NULL, 10);
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		perror("wire-storm: socket");
		return 1;
	}
	link_address = (struct sockaddr_ll){.sll_family = AF_PACKET,
					    .sll_ifindex = (int)if_nametoindex(argv[1]),
					    .sll_halen = 6};
	if (link_address.sll_ifindex == 0) {
		perror("wire-storm: interface");
		return 1;
	}
	memcpy(link_address.sll_addr, nic_mac, 6);
	for (unsigned long r = 0; r < rounds; r++)
		round_of_malformed_frames();
	printf("%lu frames sent\n", sent);
	return 0;
}
