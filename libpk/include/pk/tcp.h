/* TCP sockets on the process's network interface (<pk/netif.h>), over the protocol code
 * of <pk/net/tcp_conn.h>.
 *
 * A listener takes connections on a port, on all of the process's addresses or one, up to
 * its backlog of connections not yet accepted (SYNs past it are dropped, as Linux does
 * without SYN cookies). A connection has a send and a receive buffer of
 * PK_TCP_BUFFER_SIZE each. Closing hands the connection over to the library, which sees
 * its FIN through and keeps TIME-WAIT in a small table of its own, so the slot is free at
 * once.
 *
 * The calls that wait run the interface's receive loop, as pk_udp_recvfrom does: TCP
 * segments go to their connections, a segment for no connection or listener is answered
 * with a reset, and any other packet goes to the program's other socket layers
 * (pk_netif_dispatch). A program with a receive loop of its own (for TCP and UDP at once,
 * say) hands each packet to pk_netif_dispatch, calls pk_tcp_service when the time it
 * returned comes, and uses the calls with a timeout of 0. Those calls receive too, so such a loop
 * serves its sockets round after round until one delivers nothing, before it waits
 * (servers/echo-discard.c); pk_tcp_poll, which looks at every socket before it waits,
 * needs no such care.
 *
 * Sockets are numbers; errors are negative PK_E codes: -PK_EINVAL for a socket not open
 * or of the wrong kind, -PK_EADDRINUSE for a port taken, -PK_ELIMIT when every slot is in
 * use, and the connection's own (-PK_ECONNREFUSED, -PK_ECONNRESET, -PK_ETIMEDOUT). Timeouts
 * are in milliseconds as in <pk/udp.h>: 0 returns at once (-PK_EWOULDBLOCK),
 * PK_WAIT_FOREVER never. One thread, like the interface. */
#ifndef PK_TCP_H
#define PK_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/tcp_conn.h>
#include <pk/netif.h>

#define PK_TCP_CONNECTIONS     16u
#define PK_TCP_LISTENERS       4u
#define PK_TCP_BACKLOG_MAX     PK_TCP_CONNECTIONS
#define PK_TCP_BUFFER_SIZE     (128u * 1024u)
#define PK_TCP_TIME_WAIT_SLOTS 64u /* more: the oldest is forgotten early */
#define PK_TCP_EPHEMERAL_FIRST 49152u

/* What pk_tcp_poll reports. */
enum pk_tcp_event {
	PK_TCP_IN = 1,	/* bytes or the end to read, an error, or a connection to accept */
	PK_TCP_OUT = 2, /* room to send */
};

struct pk_tcp_poll {
	int socket;
	unsigned events; /* enum pk_tcp_event bits asked for */
	unsigned ready;	 /* set by pk_tcp_poll */
};

struct pk_tcp_counters {
	uint64_t opened;	    /* connections the program opened */
	uint64_t accepted;	    /* by listeners: handshakes begun */
	uint64_t syn_dropped;	    /* SYNs past a backlog, or with every slot taken */
	uint64_t resets_sent;	    /* to segments for no connection */
	uint64_t time_wait_evicted; /* TIME-WAIT entries forgotten early, the table full */
	uint64_t segments_lost;	    /* segments not sent: no frame, or the kernel refused */
};

/* A listener on `port` of `address`, one of the process's, or of all of them (NULL). */
int pk_tcp_listen(const uint8_t *address, uint16_t port, unsigned backlog);

/* The next connection the listener completed, the peer's address and port to
 * `ret_address` and `ret_port` (either may be NULL). */
int pk_tcp_accept(int listener, uint8_t *ret_address, uint16_t *ret_port, uint32_t timeout_ms);

/* Opens a connection to `address` port `port` from a free port, waiting until it is
 * established (or refused, or the time passes). */
int pk_tcp_connect(const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port, uint32_t timeout_ms);

/* Queues up to `length` bytes, waiting for room for at least one; returns how many. */
int pk_tcp_send(int socket, const void *data, uint32_t length, uint32_t timeout_ms);

/* Reads up to `size` bytes, waiting for at least one; returns how many, or 0 at the end of
 * the peer's stream. */
int pk_tcp_recv(int socket, void *buffer, uint32_t size, uint32_t timeout_ms);

/* No more sending: a FIN follows what is queued. */
int pk_tcp_shutdown(int socket);

/* Closes a connection (its queued bytes still go, then a FIN; bytes unread reset it) or a
 * listener (its connections not yet accepted are reset). The number is free at once. */
int pk_tcp_close(int socket);

/* For a program about to exit: runs the interface until every connection it closed has
 * finished its exchange of FINs (TIME-WAIT is not waited out), or the time passes. */
int pk_tcp_finish(uint32_t timeout_ms);

/* Waits until one of the `count` sockets is ready for what it asks; returns how many are,
 * 0 when the time passed first. */
int pk_tcp_poll(struct pk_tcp_poll *set, unsigned count, uint32_t timeout_ms);

/* For a program with its own receive loop: offers it a delivered packet. True if TCP took
 * it (the packet is consumed); false if it is not TCP (untouched). */
bool pk_tcp_input(struct pk_netif_packet *packet);

/* Runs the connections' timers that are due, sends what they make due, and returns when
 * it next has work (as pk_tcp_deadline does). */
uint64_t pk_tcp_service(void);

/* When pk_tcp_service next has work: 0 for never. */
uint64_t pk_tcp_deadline(void);

/* Options of a connection: Nagle off (`on`: segments go as soon as the window allows),
 * and keep-alive probes after two idle hours (RFC 1122 §4.2.3.6). */
int pk_tcp_set_nodelay(int socket, bool on);
int pk_tcp_set_keepalive(int socket, bool on);

/* The connection under a socket, for its state and statistics; NULL if not one. */
const struct pk_tcp_conn *pk_tcp_connection(int socket);

const struct pk_tcp_counters *pk_tcp_counters(void);

#endif
