/* httpd: the HTTP/1.1 server on port 80 (or the port given) of every address the process
 * has, serving the embedded tree and /bytes/N (http_server.h) over libpk's TCP sockets.
 *
 * One loop polls the listener and every client. A client is read only when its HTTP
 * connection can take bytes, and written only as far as its send buffer has room, so a
 * slow reader holds nothing but its own buffers. Limits against clients that hold a
 * connection without using it: a request must arrive whole within REQUEST_TIMEOUT_MS of
 * its first byte, and a connection between requests is closed after IDLE_TIMEOUT_MS. A
 * connection that ends (an error answered, or Connection: close) lingers: its sending side
 * is shut, and what the client still sends is read and dropped for LINGER_MS, so the
 * response is not cut off by the reset that unread bytes would cause (RFC 9112 §9.6).
 *
 * httpd touches packets only through its sockets, so it takes frames lazily
 * (pk_set_lazy_mapping): segments are written into frames and read out of them without
 * mapping them in and out, which in remap isolation is most of what a segment would cost
 * it (docs/performance.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pk/tcp.h>

#include "http_server.h"

#define NS_PER_MS	   1000000ull
#define REQUEST_TIMEOUT_MS 10000u
#define IDLE_TIMEOUT_MS	   30000u
#define LINGER_MS	   2000u
#define BACKLOG		   8u
#define CLIENTS		   (PK_TCP_CONNECTIONS - 1u)

/* The timeout a client is under. */
enum wait_kind { WAIT_NONE, WAIT_IDLE, WAIT_REQUEST, WAIT_LINGER };

struct client {
	int socket; /* -1: free */
	enum wait_kind waiting;
	bool peer_done; /* the client's stream has ended */
	bool lingering;
	uint64_t deadline_ns; /* when the current timeout ends */
	struct http_server_conn http;
	uint8_t in[4096]; /* request bytes read and not yet taken by the HTTP connection */
	uint32_t in_at, in_length;
};

static struct client clients[CLIENTS];
static uint8_t out[16384];

static void client_close(struct client *c)
{
	pk_tcp_close(c->socket);
	c->socket = -1;
}

/* Starts the timeout that applies now: between requests, or within one. */
static void arm(struct client *c, uint64_t now)
{
	enum wait_kind kind = WAIT_NONE; /* a response is going out: the client is not late */
	if (c->lingering)
		kind = WAIT_LINGER;
	else if (http_server_state(&c->http) == HTTP_SERVER_IDLE)
		kind = WAIT_IDLE;
	else if (http_server_mid_request(&c->http))
		kind = WAIT_REQUEST;
	if (kind == c->waiting)
		return; /* the timeout already running goes on */
	c->waiting = kind;
	c->deadline_ns = kind == WAIT_IDLE	? now + IDLE_TIMEOUT_MS * NS_PER_MS
			 : kind == WAIT_REQUEST ? now + REQUEST_TIMEOUT_MS * NS_PER_MS
			 : kind == WAIT_LINGER	? now + LINGER_MS * NS_PER_MS
						: 0;
}

static void linger(struct client *c, uint64_t now)
{
	pk_tcp_shutdown(c->socket);
	c->lingering = true;
	arm(c, now);
}

/* Sends as much of the response as the send buffer takes; returns how many bytes. */
static size_t write_out(struct client *c)
{
	const struct pk_tcp_conn *conn = pk_tcp_connection(c->socket);
	size_t sent = 0;
	uint32_t room;
	while ((room = pk_tcp_conn_writable(conn)) > 0) {
		size_t n = http_server_output(&c->http, out, room < sizeof out ? room : sizeof out);
		if (n == 0)
			break;
		/* There was room for all of it. */
		pk_tcp_send(c->socket, out, (uint32_t)n, 0);
		sent += n;
	}
	return sent;
}

/* Moves everything the client can move now (the loop sleeps next, and only a packet or a
 * deadline wakes it); false once the connection is over. */
static bool serve(struct client *c, uint64_t now)
{
	for (;;) {
		size_t sent = write_out(c);
		enum http_server_state state = http_server_state(&c->http);
		if (state == HTTP_SERVER_CLOSED && !c->lingering)
			linger(c, now);
		if (c->lingering) {
			/* What still comes is dropped, until the client's end. */
			int n = pk_tcp_recv(c->socket, c->in, sizeof c->in, 0);
			if (n == -PK_EWOULDBLOCK)
				break;
			if (n <= 0)
				return false;
			continue;
		}
		if (c->in_at < c->in_length) {
			size_t taken = http_server_feed(&c->http, c->in + c->in_at,
							c->in_length - c->in_at);
			c->in_at += (uint32_t)taken;
			/* Taking nothing, the connection has a response to send first. */
			if (taken > 0 || sent > 0)
				continue;
			break;
		}
		if (c->peer_done) {
			/* The client has sent all it will: answer what it asked, then close. */
			if (state != HTTP_SERVER_RESPONDING && state != HTTP_SERVER_CLOSING)
				return false;
			break;
		}
		int n = pk_tcp_recv(c->socket, c->in, sizeof c->in, 0);
		if (n == -PK_EWOULDBLOCK)
			break;
		if (n < 0)
			return false;
		if (n == 0) {
			c->peer_done = true;
			continue;
		}
		c->in_at = 0;
		c->in_length = (uint32_t)n;
	}
	arm(c, now);
	return true;
}

static void accept_clients(int listener, uint64_t now)
{
	int s;
	while ((s = pk_tcp_accept(listener, NULL, NULL, 0)) >= 0) {
		struct client *c = NULL;
		for (unsigned i = 0; i < CLIENTS && c == NULL; i++) {
			if (clients[i].socket < 0)
				c = &clients[i];
		}
		if (c == NULL) {
			pk_tcp_close(s); /* every client slot busy */
			continue;
		}
		*c = (struct client){.socket = s};
		http_server_init(&c->http);
		arm(c, now);
	}
}

/* What to wait for: the listener, and each client for input it can take or room for
 * output it has. */
static unsigned poll_set(int listener, struct pk_tcp_poll *set, uint64_t *ret_deadline)
{
	unsigned n = 0;
	uint64_t deadline = 0;
	set[n++] = (struct pk_tcp_poll){.socket = listener, .events = PK_TCP_IN};
	for (unsigned i = 0; i < CLIENTS; i++) {
		const struct client *c = &clients[i];
		if (c->socket < 0)
			continue;
		unsigned events = 0;
		if (c->lingering || (c->in_at == c->in_length && !c->peer_done))
			events |= PK_TCP_IN;
		enum http_server_state state = http_server_state(&c->http);
		if (state == HTTP_SERVER_RESPONDING || state == HTTP_SERVER_CLOSING)
			events |= PK_TCP_OUT;
		set[n++] = (struct pk_tcp_poll){.socket = c->socket, .events = events};
		if (c->deadline_ns != 0 && (deadline == 0 || c->deadline_ns < deadline))
			deadline = c->deadline_ns;
	}
	*ret_deadline = deadline;
	return n;
}

int main(int argc, char **argv)
{
	uint16_t port = argc > 1 ? (uint16_t)atoi(argv[1]) : 80;
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "httpd: %s\n", pk_strerror(err));
		return 1;
	}
	pk_set_lazy_mapping(1);
	int listener = pk_tcp_listen(NULL, port, BACKLOG);
	if (listener < 0) {
		fprintf(stderr, "httpd: port %u: %s\n", port, pk_strerror(listener));
		return 1;
	}
	for (unsigned i = 0; i < CLIENTS; i++)
		clients[i].socket = -1;
	for (;;) {
		struct pk_tcp_poll set[1 + CLIENTS];
		uint64_t deadline;
		unsigned n = poll_set(listener, set, &deadline);
		err = pk_tcp_poll(set, n, pk_timeout_until(deadline));
		if (err < 0) {
			fprintf(stderr, "httpd: %s\n", pk_strerror(err));
			return 1;
		}
		uint64_t now = pk_now_ns();
		accept_clients(listener, now);
		for (unsigned i = 0; i < CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->socket < 0)
				continue;
			if (!serve(c, now) || (c->deadline_ns != 0 && c->deadline_ns <= now))
				client_close(c);
		}
	}
}
