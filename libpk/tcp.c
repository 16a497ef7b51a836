/* TCP sockets: see pk/tcp.h. The tables are static: connections with their buffers,
 * listeners, and the TIME-WAIT table. A connection's slot belongs to the program while it
 * holds the number; after pk_tcp_close, or before pk_tcp_accept, the library drives it
 * alone, and frees it once it is closed or moves it to the TIME-WAIT table. */
#include <string.h>

#include "pk/bytes.h"
#include "pk/net/icmpv6.h"
#include "pk/net/ipv6.h"
#include "pk/net/tcp_seq.h"
#include "pk/tcp.h"

#include "ephemeral.h"

#define NS_PER_MS 1000000ull

struct connection {
	bool used;
	bool owned;	/* the program holds its number */
	int listener;	/* waiting in this listener's backlog; -1 once accepted */
	uint64_t order; /* when it was opened: accept takes the oldest */
	struct pk_tcp_conn conn;
	uint8_t send_storage[PK_TCP_BUFFER_SIZE];
	uint8_t receive_storage[PK_TCP_BUFFER_SIZE];
};

struct listener {
	bool used;
	bool any_address;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	uint16_t port;
	unsigned backlog;
};

/* What is left of a connection in TIME-WAIT: enough to acknowledge the peer's FIN again
 * and to tell a new incarnation's SYN from an old segment (RFC 9293 §3.10.7.4). */
struct time_wait {
	bool used;
	struct pk_tcp_tuple tuple;
	uint32_t snd_nxt, rcv_nxt;
	bool timestamps_ok;
	uint32_t ts_recent, ts_offset;
	uint64_t until_ns;
};

static struct connection connections[PK_TCP_CONNECTIONS];
static struct listener listeners[PK_TCP_LISTENERS];
static struct time_wait time_waits[PK_TCP_TIME_WAIT_SLOTS];
static struct pk_tcp_counters counters;
static uint8_t secret[PK_SIPHASH_KEY_SIZE]; /* RFC 6528's key */
static bool ready;
static uint64_t next_order;
static struct pk__ephemeral ephemeral;
/* Where a flush writes segments, then copied into frames to go in one burst: a flush
 * does not know how many it will send until it finds nothing more, and allocating a frame
 * for that last look would cost a kernel call each time. */
#define FLUSH_BURST 16u
static uint8_t scratch[FLUSH_BURST][PK_FRAME_SIZE];

static void send_scratch(unsigned count, const uint32_t *lengths)
{
	uint8_t *data[FLUSH_BURST];
	for (unsigned i = 0; i < count; i++)
		data[i] = scratch[i];
	int sent = pk_netif_send_burst(data, lengths, count);
	counters.segments_lost += count - (sent > 0 ? (unsigned)sent : 0);
}

static int ensure_ready(void)
{
	int err = pk_netif_init();
	if (err < 0)
		return err;
	if (!ready) {
		pk_netif_add_input(pk_tcp_input);
		pk_random(secret, sizeof secret);
		ready = true;
	}
	return 0;
}

static int connection_index(const struct connection *c)
{
	return (int)(c - connections);
}

static struct connection *connection_at(int socket)
{
	if (socket < 0 || (unsigned)socket >= PK_TCP_CONNECTIONS || !connections[socket].used ||
	    !connections[socket].owned)
		return NULL;
	return &connections[socket];
}

static struct listener *listener_at(int socket)
{
	unsigned i = (unsigned)socket - PK_TCP_CONNECTIONS;
	if (socket < (int)PK_TCP_CONNECTIONS || i >= PK_TCP_LISTENERS || !listeners[i].used)
		return NULL;
	return &listeners[i];
}

const struct pk_tcp_conn *pk_tcp_connection(int socket)
{
	const struct connection *c = connection_at(socket);
	return c != NULL ? &c->conn : NULL;
}

/* ---- Sending ---- */

/* Sends every segment the connection has due. */
static void flush(struct connection *c)
{
	uint32_t mtu = pk_netif_path_mtu(c->conn.tuple.remote);
	for (;;) {
		uint32_t lengths[FLUSH_BURST];
		unsigned n = 0;
		uint64_t now = pk_now_ns();
		while (n < FLUSH_BURST &&
		       (lengths[n] = pk_tcp_conn_output(&c->conn, scratch[n], PK_FRAME_SIZE, mtu,
							now)) > 0)
			n++;
		if (n > 0)
			send_scratch(n, lengths);
		if (n < FLUSH_BURST)
			return;
	}
}

static void time_wait_ack(const struct time_wait *t)
{
	struct pk_tcp_segment s = {
		.source_port = t->tuple.local_port,
		.destination_port = t->tuple.remote_port,
		.seq = t->snd_nxt,
		.ack = t->rcv_nxt,
		.flags = PK_TCP_ACK,
	};
	if (t->timestamps_ok) {
		s.options.has_timestamps = true;
		s.options.timestamp_value = pk_tcp_timestamp(t->ts_offset, pk_now_ns());
		s.options.timestamp_echo = t->ts_recent;
	}
	uint32_t length =
		pk_tcp_write(scratch[0], t->tuple.local, t->tuple.remote, &s, PK_NET_HOP_LIMIT);
	send_scratch(1, &length);
}

/* ---- Slots ---- */

static void move_to_time_wait(struct connection *c)
{
	struct time_wait *slot = &time_waits[0];
	for (unsigned i = 0; i < PK_TCP_TIME_WAIT_SLOTS; i++) {
		struct time_wait *t = &time_waits[i];
		if (!t->used) {
			slot = t;
			break;
		}
		if (t->until_ns < slot->until_ns)
			slot = t;
	}
	if (slot->used)
		counters.time_wait_evicted++;
	*slot = (struct time_wait){
		.used = true,
		.tuple = c->conn.tuple,
		.snd_nxt = c->conn.snd_nxt,
		.rcv_nxt = c->conn.rcv_nxt,
		.timestamps_ok = c->conn.timestamps_ok,
		.ts_recent = c->conn.ts_recent,
		.ts_offset = c->conn.ts_offset,
		.until_ns = c->conn.close_at,
	};
}

/* A connection the program no longer holds leaves its slot once it is closed, or for the
 * TIME-WAIT table. */
static void settle(struct connection *c)
{
	if (c->owned || c->conn.reset_pending)
		return;
	if (c->conn.state == PK_TCP_TIME_WAIT)
		move_to_time_wait(c);
	else if (c->conn.state != PK_TCP_CLOSED)
		return;
	c->used = false;
}

static struct connection *free_connection(void)
{
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		if (!connections[i].used)
			return &connections[i];
	}
	return NULL;
}

static void open_slot(struct connection *c, int listener)
{
	c->used = true;
	c->owned = false;
	c->listener = listener;
	c->order = next_order++;
	pk_tcp_conn_init(&c->conn, c->send_storage, sizeof c->send_storage, c->receive_storage,
			 sizeof c->receive_storage);
}

/* What this end can take in one segment: its interface's MTU less the headers. */
static uint16_t own_mss(void)
{
	uint32_t mss = pk_netif_iface()->mtu - PK_IPV6_HEADER_SIZE - PK_TCP_HEADER_SIZE;
	return (uint16_t)(mss > 0xffff ? 0xffff : mss);
}

/* ---- Input ---- */

static bool same_tuple(const struct pk_tcp_tuple *t, const struct pk_ipv6_header *h,
		       const struct pk_tcp_segment *s)
{
	return t->local_port == s->destination_port && t->remote_port == s->source_port &&
	       memcmp(t->remote, h->source, PK_IPV6_ADDR_SIZE) == 0 &&
	       memcmp(t->local, h->destination, PK_IPV6_ADDR_SIZE) == 0;
}

static struct connection *connection_for(const struct pk_ipv6_header *h,
					 const struct pk_tcp_segment *s)
{
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		struct connection *c = &connections[i];
		if (c->used && c->conn.state != PK_TCP_CLOSED && same_tuple(&c->conn.tuple, h, s))
			return c;
	}
	return NULL;
}

static struct time_wait *time_wait_for(const struct pk_ipv6_header *h,
				       const struct pk_tcp_segment *s)
{
	for (unsigned i = 0; i < PK_TCP_TIME_WAIT_SLOTS; i++) {
		struct time_wait *t = &time_waits[i];
		if (t->used && same_tuple(&t->tuple, h, s))
			return t;
	}
	return NULL;
}

static int listener_for(const struct pk_ipv6_header *h, uint16_t port)
{
	int any = -1;
	for (unsigned i = 0; i < PK_TCP_LISTENERS; i++) {
		const struct listener *l = &listeners[i];
		if (!l->used || l->port != port)
			continue;
		if (!l->any_address && memcmp(l->address, h->destination, PK_IPV6_ADDR_SIZE) == 0)
			return (int)i;
		if (l->any_address)
			any = (int)i;
	}
	return any;
}

static unsigned backlog_of(int listener)
{
	unsigned n = 0;
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		const struct connection *c = &connections[i];
		n += c->used && !c->owned && c->listener == listener;
	}
	return n;
}

static void take_syn(int listener, const struct pk_ipv6_header *h, const struct pk_tcp_segment *s)
{
	struct connection *c = free_connection();
	if (c == NULL || backlog_of(listener) >= listeners[listener].backlog) {
		counters.syn_dropped++;
		return;
	}
	struct pk_tcp_tuple tuple = {.local_port = s->destination_port,
				     .remote_port = s->source_port};
	memcpy(tuple.local, h->destination, PK_IPV6_ADDR_SIZE);
	memcpy(tuple.remote, h->source, PK_IPV6_ADDR_SIZE);
	uint64_t now = pk_now_ns();
	uint32_t iss = pk_tcp_isn(secret, tuple.local, tuple.local_port, tuple.remote,
				  tuple.remote_port, now);
	open_slot(c, listener);
	pk_tcp_conn_accept(&c->conn, &tuple, iss, own_mss(), s, now);
	counters.accepted++;
	flush(c);
}

/* A segment for a connection in TIME-WAIT. True if it is dealt with; false for a SYN
 * that may open a new incarnation (the entry is gone, and a listener may take it). */
static bool take_in_time_wait(struct time_wait *t, const struct pk_tcp_segment *s)
{
	if (s->flags & PK_TCP_RST) {
		t->used = false; /* RFC 9293: a reset ends TIME-WAIT */
		return true;
	}
	/* RFC 6191's test: a new SYN past everything the old connection saw. */
	if ((s->flags & (PK_TCP_SYN | PK_TCP_ACK)) == PK_TCP_SYN &&
	    pk_tcp_seq_lt(t->rcv_nxt, s->seq)) {
		t->used = false;
		return false;
	}
	if (s->flags & PK_TCP_FIN)
		t->until_ns = pk_now_ns() + PK_TCP_TIME_WAIT_NS;
	time_wait_ack(t);
	return true;
}

bool pk_tcp_input(struct pk_netif_packet *packet)
{
	if (packet->protocol != PK_IPPROTO_TCP || ensure_ready() < 0)
		return false;
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet->data;
	struct pk_tcp_segment s;
	pk_tcp_read(packet->data, packet->length, packet->upper_offset, &s);
	struct connection *c = connection_for(h, &s);
	if (c != NULL) {
		pk_tcp_conn_input(&c->conn, packet->data, &s, pk_now_ns());
		pk_netif_release(packet);
		flush(c);
		settle(c);
		return true;
	}
	struct time_wait *t = time_wait_for(h, &s);
	if (t != NULL && take_in_time_wait(t, &s)) {
		pk_netif_release(packet);
		return true;
	}
	int listener = listener_for(h, s.destination_port);
	if (listener >= 0 && !pk_ipv6_is_multicast(h->destination) &&
	    (s.flags & (PK_TCP_SYN | PK_TCP_ACK | PK_TCP_RST)) == PK_TCP_SYN) {
		take_syn(listener, h, &s);
		pk_netif_release(packet);
		return true;
	}
	if (!(s.flags & PK_TCP_RST))
		counters.resets_sent++;
	pk_netif_refuse(packet);
	return true;
}

/* ---- Timers and waiting ---- */

/* The earlier of two deadlines, 0 being none. */
static uint64_t earlier(uint64_t a, uint64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

/* Runs what is due if `run`, and returns when something next will be, in one pass. */
static uint64_t pass_over_timers(bool run)
{
	uint64_t now = run ? pk_now_ns() : 0, next = 0;
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		struct connection *c = &connections[i];
		if (!c->used)
			continue;
		uint64_t due = pk_tcp_conn_deadline(&c->conn);
		if (run && due != 0 && due <= now) {
			flush(c);
			due = pk_tcp_conn_deadline(&c->conn);
		}
		if (run)
			settle(c);
		if (c->used)
			next = earlier(next, due);
	}
	for (unsigned i = 0; i < PK_TCP_TIME_WAIT_SLOTS; i++) {
		struct time_wait *t = &time_waits[i];
		if (run && t->used && t->until_ns <= now)
			t->used = false;
		if (t->used)
			next = earlier(next, t->until_ns);
	}
	return next;
}

uint64_t pk_tcp_service(void)
{
	return pass_over_timers(true);
}

uint64_t pk_tcp_deadline(void)
{
	return pass_over_timers(false);
}

typedef bool tcp_ready_fn(const void *arg);

/* Runs the interface until ready(arg), the timeout, or an error of the receive; returns 0
 * once ready. */
static int wait_until(tcp_ready_fn *is_ready, const void *arg, uint32_t timeout_ms)
{
	const uint64_t start = pk_now_ns();
	for (;;) {
		uint64_t due = pk_tcp_service();
		if (is_ready(arg))
			return 0;
		uint32_t wait = timeout_ms;
		if (timeout_ms != 0 && timeout_ms != PK_WAIT_FOREVER) {
			uint64_t spent_ms = (pk_now_ns() - start) / NS_PER_MS;
			if (spent_ms >= timeout_ms)
				return -PK_ETIMEDOUT;
			wait = (uint32_t)(timeout_ms - spent_ms);
		}
		/* A timer already due is one a flush could not serve (no frame): look again in a
		 * millisecond rather than spin. */
		uint32_t until = pk_timeout_until(due);
		if (timeout_ms != 0 && until < wait)
			wait = until == 0 ? 1 : until;
		struct pk_netif_packet packet = {0};
		int err = pk_netif_recv(&packet, wait);
		if (err == 0) {
			pk_netif_dispatch(&packet);
			continue;
		}
		if (err == -PK_EWOULDBLOCK && timeout_ms == 0) {
			pk_tcp_service();
			return is_ready(arg) ? 0 : -PK_EWOULDBLOCK;
		}
		if (err != -PK_ETIMEDOUT)
			return err;
	}
}

/* ---- Readiness ---- */

static bool connection_readable(const struct connection *c)
{
	return pk_tcp_conn_readable(&c->conn) > 0 || c->conn.fin_received ||
	       c->conn.state == PK_TCP_CLOSED;
}

static bool connection_writable(const struct connection *c)
{
	return pk_tcp_conn_writable(&c->conn) > 0 || c->conn.state == PK_TCP_CLOSED ||
	       c->conn.shut_send;
}

static bool is_established(const struct connection *c)
{
	return c->conn.state >= PK_TCP_ESTABLISHED;
}

static struct connection *next_to_accept(int listener)
{
	struct connection *oldest = NULL;
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		struct connection *c = &connections[i];
		if (c->used && !c->owned && c->listener == listener && is_established(c) &&
		    (oldest == NULL || c->order < oldest->order))
			oldest = c;
	}
	return oldest;
}

static unsigned ready_events(const struct pk_tcp_poll *p)
{
	unsigned ready_now = 0;
	const struct listener *l = listener_at(p->socket);
	if (l != NULL) {
		int index = (int)(l - listeners);
		if ((p->events & PK_TCP_IN) && next_to_accept(index) != NULL)
			ready_now |= PK_TCP_IN;
		return ready_now;
	}
	const struct connection *c = connection_at(p->socket);
	if (c == NULL)
		return p->events & (PK_TCP_IN | PK_TCP_OUT); /* a bad socket is ready to fail */
	if ((p->events & PK_TCP_IN) && connection_readable(c))
		ready_now |= PK_TCP_IN;
	if ((p->events & PK_TCP_OUT) && connection_writable(c))
		ready_now |= PK_TCP_OUT;
	return ready_now;
}

struct poll_set {
	struct pk_tcp_poll *set;
	unsigned count;
};

static bool any_ready(const void *arg)
{
	const struct poll_set *ps = arg;
	bool any = false;
	for (unsigned i = 0; i < ps->count; i++) {
		ps->set[i].ready = ready_events(&ps->set[i]);
		any = any || ps->set[i].ready != 0;
	}
	return any;
}

int pk_tcp_poll(struct pk_tcp_poll *set, unsigned count, uint32_t timeout_ms)
{
	int err = ensure_ready();
	if (err < 0)
		return err;
	struct poll_set ps = {set, count};
	err = wait_until(any_ready, &ps, timeout_ms);
	if (err == -PK_ETIMEDOUT || err == -PK_EWOULDBLOCK)
		return 0;
	if (err < 0)
		return err;
	int n = 0;
	for (unsigned i = 0; i < count; i++)
		n += set[i].ready != 0;
	return n;
}

/* ---- The program's calls ---- */

/* Whether a listener holds `port` on an address that overlaps `address` (NULL: all), or,
 * with `connections_too`, a connection uses it as its own. */
static bool port_taken(const uint8_t *address, uint16_t port, bool connections_too)
{
	for (unsigned i = 0; i < PK_TCP_LISTENERS; i++) {
		const struct listener *l = &listeners[i];
		if (l->used && l->port == port &&
		    (address == NULL || l->any_address ||
		     memcmp(l->address, address, PK_IPV6_ADDR_SIZE) == 0))
			return true;
	}
	for (unsigned i = 0; connections_too && i < PK_TCP_CONNECTIONS; i++) {
		if (connections[i].used && connections[i].conn.tuple.local_port == port)
			return true;
	}
	return false;
}

int pk_tcp_listen(const uint8_t *address, uint16_t port, unsigned backlog)
{
	int err = ensure_ready();
	if (err < 0)
		return err;
	if (port == 0 || backlog == 0 ||
	    (address != NULL && !pk_iface_has_address(pk_netif_iface(), address)))
		return -PK_EINVAL;
	if (port_taken(address, port, false))
		return -PK_EADDRINUSE;
	for (unsigned i = 0; i < PK_TCP_LISTENERS; i++) {
		struct listener *l = &listeners[i];
		if (l->used)
			continue;
		*l = (struct listener){
			.used = true,
			.any_address = address == NULL,
			.port = port,
			.backlog = backlog < PK_TCP_BACKLOG_MAX ? backlog : PK_TCP_BACKLOG_MAX,
		};
		if (address != NULL)
			memcpy(l->address, address, PK_IPV6_ADDR_SIZE);
		return (int)(PK_TCP_CONNECTIONS + i);
	}
	return -PK_ELIMIT;
}

static bool listener_has_one(const void *arg)
{
	return next_to_accept(*(const int *)arg) != NULL;
}

int pk_tcp_accept(int listener, uint8_t *ret_address, uint16_t *ret_port, uint32_t timeout_ms)
{
	struct listener *l = listener_at(listener);
	if (l == NULL)
		return -PK_EINVAL;
	int index = (int)(l - listeners);
	int err = wait_until(listener_has_one, &index, timeout_ms);
	if (err < 0)
		return err;
	struct connection *c = next_to_accept(index);
	c->owned = true;
	c->listener = -1;
	if (ret_address != NULL)
		memcpy(ret_address, c->conn.tuple.remote, PK_IPV6_ADDR_SIZE);
	if (ret_port != NULL)
		*ret_port = c->conn.tuple.remote_port;
	return connection_index(c);
}

/* A port no listener or connection uses. */
static bool ephemeral_taken(uint16_t port, const void *context)
{
	(void)context;
	return port_taken(NULL, port, true);
}

static bool handshake_over(const void *arg)
{
	const struct connection *c = arg;
	return c->conn.state != PK_TCP_SYN_SENT && c->conn.state != PK_TCP_SYN_RECEIVED;
}

int pk_tcp_connect(const uint8_t address[PK_IPV6_ADDR_SIZE], uint16_t port, uint32_t timeout_ms)
{
	int err = ensure_ready();
	if (err < 0)
		return err;
	if (port == 0 || pk_ipv6_is_multicast(address))
		return -PK_EINVAL;
	struct connection *c = free_connection();
	if (c == NULL)
		return -PK_ELIMIT;
	int local_port = pk__ephemeral_port(&ephemeral, ephemeral_taken, NULL);
	if (local_port < 0)
		return local_port;
	struct pk_tcp_tuple tuple = {.local_port = (uint16_t)local_port, .remote_port = port};
	memcpy(tuple.local, pk_netif_iface()->address[0], PK_IPV6_ADDR_SIZE);
	memcpy(tuple.remote, address, PK_IPV6_ADDR_SIZE);
	uint64_t now = pk_now_ns();
	open_slot(c, -1);
	c->owned = true;
	pk_tcp_conn_connect(
		&c->conn, &tuple,
		pk_tcp_isn(secret, tuple.local, tuple.local_port, tuple.remote, port, now),
		own_mss(), now);
	counters.opened++;
	flush(c);
	err = wait_until(handshake_over, c, timeout_ms);
	if (err == 0 && c->conn.state != PK_TCP_CLOSED)
		return connection_index(c);
	if (err == 0)
		err = c->conn.error != 0 ? c->conn.error : -PK_ECONNREFUSED;
	pk_tcp_conn_abort(&c->conn);
	flush(c);
	c->used = false;
	return err == -PK_EWOULDBLOCK ? -PK_ETIMEDOUT : err;
}

static bool writable(const void *arg)
{
	return connection_writable(arg);
}

int pk_tcp_send(int socket, const void *data, uint32_t length, uint32_t timeout_ms)
{
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	for (;;) {
		int n = pk_tcp_conn_send(&c->conn, data, length);
		if (n != 0 || length == 0) {
			if (n > 0)
				flush(c);
			return n;
		}
		int err = wait_until(writable, c, timeout_ms);
		if (err < 0)
			return err;
	}
}

static bool readable(const void *arg)
{
	return connection_readable(arg);
}

int pk_tcp_recv(int socket, void *buffer, uint32_t size, uint32_t timeout_ms)
{
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	for (;;) {
		int n = pk_tcp_conn_recv(&c->conn, buffer, size);
		if (n != -PK_EWOULDBLOCK) {
			if (n > 0)
				flush(c); /* a window update, if the read made one due */
			return n;
		}
		int err = wait_until(readable, c, timeout_ms);
		if (err < 0)
			return err;
	}
}

int pk_tcp_shutdown(int socket)
{
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	int err = pk_tcp_conn_shutdown(&c->conn);
	flush(c);
	return err;
}

int pk_tcp_close(int socket)
{
	struct listener *l = listener_at(socket);
	if (l != NULL) {
		int index = (int)(l - listeners);
		for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
			struct connection *c = &connections[i];
			if (c->used && !c->owned && c->listener == index) {
				pk_tcp_conn_abort(&c->conn);
				flush(c);
				c->used = false;
			}
		}
		l->used = false;
		return 0;
	}
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	c->owned = false;
	pk_tcp_conn_close(&c->conn, pk_now_ns());
	flush(c);
	settle(c);
	return 0;
}

static bool all_closed_finished(const void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS; i++) {
		if (connections[i].used && !connections[i].owned)
			return false;
	}
	return true;
}

int pk_tcp_finish(uint32_t timeout_ms)
{
	return wait_until(all_closed_finished, NULL, timeout_ms);
}

int pk_tcp_set_nodelay(int socket, bool on)
{
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	c->conn.nodelay = on;
	flush(c); /* what Nagle held back may go now */
	return 0;
}

int pk_tcp_set_keepalive(int socket, bool on)
{
	struct connection *c = connection_at(socket);
	if (c == NULL)
		return -PK_EINVAL;
	pk_tcp_conn_set_keepalive(&c->conn, on, pk_now_ns());
	return 0;
}

const struct pk_tcp_counters *pk_tcp_counters(void)
{
	return &counters;
}
