/* echo-discard: the Echo (RFC 862) and Discard (RFC 863) services over UDP and TCP, on
 * ports 7 and 9 of every address the process has. An echoed datagram goes back to the
 * port it came from with the same bytes; an echo connection sends back every byte it
 * receives, reading only as fast as the peer takes the echo (so nothing is lost or held
 * without bound); discard takes everything and forgets it. Everything else that arrives
 * is answered as by any PackOS process: ping by the stack, other ports with port
 * unreachable or a reset. */
#include <stdio.h>

#include <pk/tcp.h>
#include <pk/udp.h>

enum { ECHO_PORT = 7, DISCARD_PORT = 9, BACKLOG = 4 };

struct stream {
	int socket; /* -1: free */
	bool echo;
};

static uint8_t datagram[PK_UDP_PAYLOAD_MAX];
static uint8_t bytes[PK_TCP_BUFFER_SIZE];
static struct stream streams[PK_TCP_CONNECTIONS];

static int bound_socket(uint16_t port)
{
	int s = pk_udp_open();
	if (s < 0)
		return s;
	int err = pk_udp_bind(s, NULL, port);
	return err < 0 ? err : s;
}

static void serve_datagrams(int echo, int discard)
{
	uint8_t from[PK_IPV6_ADDR_SIZE];
	uint16_t from_port;
	int n;
	while ((n = pk_udp_recvfrom(echo, datagram, sizeof datagram, from, &from_port, 0)) >= 0)
		pk_udp_sendto(echo, datagram, (uint32_t)n, from, from_port);
	while (pk_udp_recvfrom(discard, datagram, sizeof datagram, NULL, NULL, 0) >= 0)
		;
}

static void take_connections(int listener, bool echo)
{
	int s;
	while ((s = pk_tcp_accept(listener, NULL, NULL, 0)) >= 0) {
		for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
			if (streams[i].socket < 0) {
				streams[i] = (struct stream){.socket = s, .echo = echo};
				break;
			}
		}
	}
}

/* Moves everything one connection can move now (the loop sleeps next, and only a new
 * packet wakes it); false once the connection is over. */
static bool serve_stream(const struct stream *st)
{
	const struct pk_tcp_conn *c = pk_tcp_connection(st->socket);
	for (;;) {
		uint32_t room = st->echo ? pk_tcp_conn_writable(c) : sizeof bytes;
		if (room == 0)
			return c->state != PK_TCP_CLOSED;
		int n = pk_tcp_recv(st->socket, bytes, room, 0);
		if (n == -PK_EWOULDBLOCK)
			return true;
		if (n <= 0)
			return false; /* the end of the peer's stream, or an error */
		/* There was room for all of it. */
		if (st->echo && pk_tcp_send(st->socket, bytes, (uint32_t)n, 0) != n)
			return false;
	}
}

static void serve_streams(void)
{
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		if (streams[i].socket >= 0 && !serve_stream(&streams[i])) {
			pk_tcp_close(streams[i].socket);
			streams[i].socket = -1;
		}
	}
}

int main(void)
{
	int err = pk_netif_init();
	int echo = err < 0 ? err : bound_socket(ECHO_PORT);
	int discard = echo < 0 ? echo : bound_socket(DISCARD_PORT);
	int echo_stream = discard < 0 ? discard : pk_tcp_listen(NULL, ECHO_PORT, BACKLOG);
	int discard_stream =
		echo_stream < 0 ? echo_stream : pk_tcp_listen(NULL, DISCARD_PORT, BACKLOG);
	if (discard_stream < 0) {
		fprintf(stderr, "echo-discard: %s\n", pk_strerror(discard_stream));
		return 1;
	}
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++)
		streams[i].socket = -1;
	/* One receive loop for everything: each packet goes to its socket (or is answered,
	 * or refused), then every socket moves what it can. The calls that move it receive
	 * too, so a round that took in a packet may have left work for a socket it had
	 * already served: rounds go on until one takes in nothing, and only then the loop
	 * sleeps. */
	const struct pk_net_counters *seen = &pk_netif_iface()->counters;
	struct pk_netif_packet packet = {0};
	uint64_t due = 0;
	for (;;) {
		err = pk_netif_recv(&packet, pk_timeout_until(due));
		if (err == 0)
			pk_netif_dispatch(&packet);
		else if (err != -PK_ETIMEDOUT && err != -PK_EWOULDBLOCK)
			break;
		uint64_t delivered;
		do {
			delivered = seen->delivered;
			due = pk_tcp_service();
			serve_datagrams(echo, discard);
			take_connections(echo_stream, true);
			take_connections(discard_stream, false);
			serve_streams();
		} while (seen->delivered != delivered);
	}
	fprintf(stderr, "echo-discard: %s\n", pk_strerror(err));
	return 1;
}
