/* tap-responder: the least a user-space endpoint behind a TAP device can do, as the floor
 * for PackOS's own path (bench/bench_net.sh). It answers neighbour solicitations for its
 * address and echo requests to it, one read and one write per packet, nothing else.
 *
 *   tap-responder TAP ADDRESS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <pk/pk.h>

enum { ETH = 14, IP6 = 40, ICMPV6 = 58 };

static const uint8_t my_mac[6] = {0x02, 0x62, 0x65, 0x6e, 0x63, 0x68};

static void finish(uint8_t *f, uint32_t icmp_length)
{
	uint8_t *ip = f + ETH;
	uint8_t *m = ip + IP6;
	m[2] = m[3] = 0;
	uint16_t sum = pk_ipv6_upper_checksum(ip, ICMPV6, icmp_length);
	m[2] = (uint8_t)(sum >> 8);
	m[3] = (uint8_t)sum;
}

/* Turns the frame around: Ethernet and IPv6 addresses swapped, ours as the source. */
static void turn_around(uint8_t *f, const uint8_t address[16])
{
	memcpy(f, f + 6, 6);
	memcpy(f + 6, my_mac, 6);
	uint8_t *ip = f + ETH;
	memcpy(ip + 24, ip + 8, 16);
	memcpy(ip + 8, address, 16);
	ip[7] = 64;
}

int main(int argc, char **argv)
{
	uint8_t address[16];
	if (argc != 3 || inet_pton(AF_INET6, argv[2], address) != 1) {
		fprintf(stderr, "usage: tap-responder TAP ADDRESS\n");
		return 2;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", argv[1]);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("tap-responder: TAP");
		return 1;
	}
	uint8_t f[9000];
	for (;;) {
		ssize_t n = read(fd, f, sizeof f);
		if (n < ETH + IP6 + 8 || f[12] != 0x86 || f[13] != 0xdd || f[ETH + 6] != ICMPV6)
			continue;
		uint8_t *ip = f + ETH;
		uint8_t *m = ip + IP6;
		uint32_t icmp_length = (uint32_t)(ip[4] << 8 | ip[5]);
		if ((size_t)n < ETH + IP6 + icmp_length)
			continue;
		if (m[0] == 128 && memcmp(ip + 24, address, 16) == 0) {
			turn_around(f, address);
			m[0] = 129;
			finish(f, icmp_length);
		} else if (m[0] == 135 && icmp_length >= 24 && memcmp(m + 8, address, 16) == 0) {
			turn_around(f, address);
			m[0] = 136;
			m[4] = 0x60; /* solicited, override */
			m[24] = 2;   /* target link-layer address */
			m[25] = 1;
			memcpy(m + 26, my_mac, 6);
			icmp_length = 32;
			ip[4] = 0;
			ip[5] = 32;
			ip[7] = 255;
			finish(f, icmp_length);
			n = ETH + IP6 + 32;
		} else {
			continue;
		}
		if (write(fd, f, (size_t)n) < 0)
			perror("tap-responder: write");
	}
}
