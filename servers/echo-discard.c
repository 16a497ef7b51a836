/* echo-discard: the Echo (RFC 862) and Discard (RFC 863) services over UDP, on ports 7
 * and 9 of every address the process has. An echoed datagram goes back to the port it
 * came from with the same bytes; a discarded one is taken and forgotten. Everything else
 * that arrives is answered as by any PackOS process: ping by the stack, other ports with
 * port unreachable. */
#include <stdio.h>

#include <pk/udp.h>

enum { ECHO_PORT = 7, DISCARD_PORT = 9 };

static uint8_t datagram[PK_UDP_PAYLOAD_MAX];

static int bound_socket(uint16_t port)
{
	int s = pk_udp_open();
	if (s < 0)
		return s;
	int err = pk_udp_bind(s, NULL, port);
	return err < 0 ? err : s;
}

int main(void)
{
	int err = pk_netif_init();
	int echo = err < 0 ? err : bound_socket(ECHO_PORT);
	int discard = echo < 0 ? echo : bound_socket(DISCARD_PORT);
	if (discard < 0) {
		fprintf(stderr, "echo-discard: %s\n", pk_strerror(discard));
		return 1;
	}
	/* One receive loop for both: each packet goes to its socket's queue (or is answered,
	 * or refused), and then both queues are emptied. */
	struct pk_netif_packet packet = {0};
	while ((err = pk_netif_recv(&packet, PK_WAIT_FOREVER)) == 0) {
		if (!pk_udp_input(&packet))
			pk_netif_refuse(&packet);
		uint8_t from[PK_IPV6_ADDR_SIZE];
		uint16_t from_port;
		int n;
		while ((n = pk_udp_recvfrom(echo, datagram, sizeof datagram, from, &from_port,
					    0)) >= 0)
			pk_udp_sendto(echo, datagram, (uint32_t)n, from, from_port);
		while (pk_udp_recvfrom(discard, datagram, sizeof datagram, NULL, NULL, 0) >= 0)
			;
	}
	fprintf(stderr, "echo-discard: %s\n", pk_strerror(err));
	return 1;
}
