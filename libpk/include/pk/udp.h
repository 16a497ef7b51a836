/* UDP sockets on the process's network interface (<pk/netif.h>).
 *
 * A socket is bound to a port on all of the process's addresses or on one, and once
 * connected it talks to one peer only. Receiving runs the interface's receive loop: a
 * datagram for another of the program's sockets waits in that socket's queue, in the
 * frame it came in (no copy; one that was reassembled, and so has no frame, waits in a
 * room for one such datagram); one for a port nobody bound is answered port unreachable;
 * anything else goes to the program's other socket layers (pk_netif_dispatch), and is
 * answered as pk_netif_refuse does if none takes it. A port unreachable about a datagram a
 * connected socket sent makes that socket's next receive return -PK_ECONNREFUSED, as a
 * connected socket does on Linux.
 *
 * Sockets are numbers from 0 to PK_UDP_SOCKETS - 1. Errors are negative PK_E codes:
 * -PK_EINVAL for a socket not open or arguments that cannot be, -PK_EADDRINUSE for a port
 * taken, -PK_ELIMIT when every socket is open. One thread, like the interface. */
#ifndef PK_UDP_H
#define PK_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/udp.h>
#include <pk/netif.h>

#define PK_UDP_SOCKETS 8u
#define PK_UDP_QUEUE   8u /* datagrams waiting per socket; more are dropped and counted */
/* The largest datagram sent or received: what reassembly takes (<pk/netif.h>). */
#define PK_UDP_PAYLOAD_MAX     (PK_NETIF_DATAGRAM_MAX - PK_UDP_HEADER_SIZE)
#define PK_UDP_EPHEMERAL_FIRST 49152u /* ports bind and connect pick, RFC 6335 */

struct pk_udp_counters {
	uint64_t sent;		   /* datagrams */
	uint64_t received;	   /* datagrams for an open socket, queued or taken at once */
	uint64_t port_unreachable; /* datagrams for a port nobody bound, answered so (not
				    * those to a group, or over the error rate limit) */
	uint64_t dropped;	   /* for a socket whose queue was full, or reassembled (no
				    * frame to wait in) while another reassembled one waits */
	uint64_t refused;	   /* port unreachable answers a connected socket received */
};

/* A new socket, unbound; its number or -PK_ELIMIT. */
int pk_udp_open(void);
/* Closes it; datagrams still waiting in its queue are freed. */
int pk_udp_close(int socket);

/* Binds the socket to `port` (0: a free one of PK_UDP_EPHEMERAL_FIRST to 65535, in turn from
 * a random start) on `address`, one of the process's, or on all of them (NULL). */
int pk_udp_bind(int socket, const uint8_t *address, uint16_t port);
/* Talks to `address` port `port` only: sends go there by default, and only datagrams from
 * there are received. Binds an unbound socket to a free port on all addresses. */
int pk_udp_connect(int socket, const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port);

/* Sends `length` bytes (at most PK_UDP_PAYLOAD_MAX) to `address` port `port` (in
 * fragments when the path needs them), from the socket's address, or the interface's
 * first when it is bound to all; an unbound socket is bound first. Returns `length`. */
int pk_udp_sendto(int socket, const void *data, uint32_t length,
		  const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port);
/* pk_udp_sendto to the peer of a connected socket. */
int pk_udp_send(int socket, const void *data, uint32_t length);

/* Receives the next datagram for the bound socket, waiting up to `timeout_ms` (0: only
 * what is queued, else -PK_EWOULDBLOCK; PK_WAIT_FOREVER: no deadline; -PK_ETIMEDOUT when
 * it passes). Copies up to `size` bytes of it into `buffer` (the rest is lost, as with
 * recvfrom) and returns how many; the sender goes to `ret_address` and `ret_port` (either
 * NULL to ignore). */
int pk_udp_recvfrom(int socket, void *buffer, uint32_t size, uint8_t *ret_address,
		    uint16_t *ret_port, uint32_t timeout_ms);

/* For a program with a receive loop of its own (pk_netif_recv): offers it a delivered
 * packet. True if UDP took it: queued at a socket, answered for a port nobody bound, or a
 * port unreachable about a connected socket's datagram (the packet is consumed); false if
 * it is not UDP's (the packet is untouched). */
bool pk_udp_input(struct pk_netif_packet *packet);

const struct pk_udp_counters *pk_udp_counters(void);

#endif
