/* TCP sockets (libpk/tcp.c) over a real kernel core: the program is one process of a
 * kernel hosted in the test (fake_backend.h); the peer is another, which runs a TCP
 * connection of its own (the protocol code, <pk/net/tcp_conn.h>) and exchanges segments
 * with the program through the kernel. The program's calls use a timeout of 0, and the
 * test moves the clock. After every test the program's sockets are closed, the
 * connections it closed have run their course, it owns no frame and the audit holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/tcp.h>

#include "fake_backend.h"
#include "packets.h"

enum { PEER_IID = 2, PEER_PORT = 40000, PORT = 80 };

#define MS 1000000ull

static struct fake_port port;
static pk_proc_t program, peer;
static pk_endpoint_t peer_endpoint;
static uint8_t packet[PACKET_MAX];

struct peer_conn {
	struct pk_tcp_conn conn;
	uint8_t send_storage[64 * 1024], receive_storage[64 * 1024];
};
static struct peer_conn peers[4];

static int group_setup(void **state)
{
	(void)state;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.queue_limit = 256;
	if (fake_port_start(&port, &cfg) != 0)
		return -1;
	if (kernel_proc_create(port.k, 0, 64, &program) != 0)
		return -1;
	port.procs[port.nprocs++] = program;
	fake_backend_start(&port, program, (const uint64_t[]){1}, 1);
	fake_backend.now_ns = 1000 * MS;
	peer = fake_port_proc(&port, 0);
	peer_endpoint = fake_port_endpoint(&port, peer, PEER_IID);
	return pk_netif_init();
}

static void send_as_peer(const uint8_t *bytes, uint32_t length)
{
	fake_backend_send_as(peer, bytes, length);
}

/* The next packet the peer received, in `packet`; its length, or 0 if none. */
static uint32_t peer_receive(void)
{
	return fake_backend_receive_as(peer, peer_endpoint, packet);
}

/* Lets the program take what waits for it: its receive loop, with nothing to wait for. */
static void program_runs(void)
{
	struct pk_tcp_poll none = {.socket = -1};
	pk_tcp_poll(&none, 0, 0);
	pk_tcp_service();
}

/* One round: every peer connection sends what it has, the program takes it and answers,
 * and every segment the peer received goes to the connection it is for. */
static void exchange(void)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t out[PK_FRAME_SIZE];
		uint32_t n;
		while ((n = pk_tcp_conn_output(&peers[i].conn, out, sizeof out, PK_FRAME_SIZE,
					       fake_backend.now_ns)) > 0)
			send_as_peer(out, n);
	}
	program_runs();
	uint32_t length;
	while ((length = peer_receive()) > 0) {
		struct pk_tcp_segment s;
		assert_int_equal(pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, &s), PK_NET_OK);
		for (unsigned i = 0; i < 4; i++) {
			if (peers[i].conn.state != PK_TCP_CLOSED &&
			    peers[i].conn.tuple.local_port == s.destination_port)
				pk_tcp_conn_input(&peers[i].conn, packet, &s, fake_backend.now_ns);
		}
	}
}

static void peer_connects(unsigned i, uint16_t from_port)
{
	struct pk_tcp_tuple t = {.local_port = from_port, .remote_port = PORT};
	memcpy(t.local, address_peer, PK_IPV6_ADDR_SIZE);
	memcpy(t.remote, address_us, PK_IPV6_ADDR_SIZE);
	pk_tcp_conn_init(&peers[i].conn, peers[i].send_storage, sizeof peers[i].send_storage,
			 peers[i].receive_storage, sizeof peers[i].receive_storage);
	assert_int_equal(
		pk_tcp_conn_connect(&peers[i].conn, &t, 5000 + i, 1440, fake_backend.now_ns), 0);
}

/* Runs the exchange, the clock moving by `step_ms` each round, for `rounds` rounds. */
static void run(unsigned rounds, uint64_t step_ms)
{
	for (unsigned r = 0; r < rounds; r++) {
		exchange();
		fake_backend.now_ns += step_ms * MS;
	}
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < (int)(PK_TCP_CONNECTIONS + PK_TCP_LISTENERS); i++)
		pk_tcp_close(i);
	for (unsigned i = 0; i < 4; i++) {
		if (peers[i].conn.state != PK_TCP_CLOSED)
			pk_tcp_conn_abort(&peers[i].conn);
	}
	/* Past every timer: TIME-WAIT and FIN-WAIT-2 end, retransmissions give up. */
	for (int i = 0; i < 40; i++)
		run(1, 30000);
	while (peer_receive() > 0) {
	}
	assert_int_equal(pk_tcp_deadline(), 0);
	fake_backend_assert_clean();
	return 0;
}

static void test_accepted_connection_carries_data_both_ways_and_closes(void **state)
{
	(void)state;
	int l = pk_tcp_listen(NULL, PORT, 4);
	assert_true(l >= 0);
	peer_connects(0, PEER_PORT);
	run(3, 1);
	uint8_t from[PK_IPV6_ADDR_SIZE];
	uint16_t from_port = 0;
	int s = pk_tcp_accept(l, from, &from_port, 0);
	assert_true(s >= 0);
	assert_memory_equal(from, address_peer, PK_IPV6_ADDR_SIZE);
	assert_int_equal(from_port, PEER_PORT);
	assert_int_equal(peers[0].conn.state, PK_TCP_ESTABLISHED);
	assert_int_equal(pk_tcp_set_nodelay(s, true), 0);
	assert_int_equal(pk_tcp_set_keepalive(s, true), 0);
	assert_true(pk_tcp_connection(s)->nodelay && pk_tcp_connection(s)->keepalive);

	assert_int_equal(pk_tcp_conn_send(&peers[0].conn, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	run(2, 1);
	char buffer[64];
	assert_int_equal(pk_tcp_recv(s, buffer, sizeof buffer, 0), 18);
	assert_memory_equal(buffer, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(pk_tcp_recv(s, buffer, sizeof buffer, 0), -PK_EWOULDBLOCK);

	static uint8_t body[150000];
	for (unsigned i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 7);
	uint32_t sent = 0, got = 0;
	static uint8_t received[sizeof body];
	for (int round = 0; round < 1000 && got < sizeof body; round++) {
		if (sent < sizeof body) {
			int n = pk_tcp_send(s, body + sent, sizeof body - sent, 0);
			assert_true(n >= 0 || n == -PK_EWOULDBLOCK);
			if (n > 0)
				sent += (uint32_t)n;
		}
		run(1, 1);
		int n = pk_tcp_conn_recv(&peers[0].conn, received + got, sizeof received - got);
		if (n > 0)
			got += (uint32_t)n;
	}
	assert_int_equal(got, sizeof body);
	assert_memory_equal(received, body, sizeof body);

	/* The program closes first: it ends in the TIME-WAIT table, its slot free. */
	assert_int_equal(pk_tcp_close(s), 0);
	run(2, 1);
	assert_int_equal(pk_tcp_conn_recv(&peers[0].conn, buffer, sizeof buffer), 0);
	assert_int_equal(pk_tcp_conn_close(&peers[0].conn, fake_backend.now_ns), 0);
	run(2, 1);
	assert_int_equal(peers[0].conn.state, PK_TCP_CLOSED);
	assert_null(pk_tcp_connection(s));
	assert_int_not_equal(pk_tcp_deadline(), 0); /* the TIME-WAIT entry */
	assert_int_equal(pk_tcp_close(l), 0);
}

static void test_syn_for_no_listener_is_reset(void **state)
{
	(void)state;
	peer_connects(0, PEER_PORT);
	uint64_t resets = pk_tcp_counters()->resets_sent;
	run(2, 1);
	assert_int_equal(peers[0].conn.state, PK_TCP_CLOSED);
	assert_int_equal(peers[0].conn.error, -PK_ECONNREFUSED);
	assert_int_equal(pk_tcp_counters()->resets_sent, resets + 1);
}

static void test_syns_past_the_backlog_are_dropped(void **state)
{
	(void)state;
	int l = pk_tcp_listen(NULL, PORT, 2);
	assert_true(l >= 0);
	uint64_t dropped = pk_tcp_counters()->syn_dropped;
	for (unsigned i = 0; i < 4; i++)
		peer_connects(i, (uint16_t)(PEER_PORT + i));
	exchange();
	assert_int_equal(pk_tcp_counters()->syn_dropped, dropped + 2);
	run(2, 1);
	unsigned established = 0;
	for (unsigned i = 0; i < 4; i++)
		established += peers[i].conn.state == PK_TCP_ESTABLISHED;
	assert_int_equal(established, 2);
	/* Closing the listener resets the two it never handed over. */
	assert_int_equal(pk_tcp_close(l), 0);
	run(2, 1);
	for (unsigned i = 0; i < 4; i++) {
		if (peers[i].conn.error == -PK_ECONNRESET)
			established--;
	}
	assert_int_equal(established, 0);
}

static void test_listen_checks_its_arguments_and_limits(void **state)
{
	(void)state;
	assert_int_equal(pk_tcp_listen(NULL, 0, 1), -PK_EINVAL);
	assert_int_equal(pk_tcp_listen(address_peer, 80, 1), -PK_EINVAL); /* not ours */
	int a = pk_tcp_listen(NULL, 80, 1);
	assert_true(a >= 0);
	assert_int_equal(pk_tcp_listen(address_us, 80, 1), -PK_EADDRINUSE);
	unsigned opened = 1;
	for (uint16_t p = 81; pk_tcp_listen(NULL, p, 1) >= 0; p++)
		opened++;
	assert_int_equal(opened, PK_TCP_LISTENERS);
	char buffer[4];
	assert_int_equal(pk_tcp_recv(a, buffer, sizeof buffer, 0), -PK_EINVAL);
	assert_int_equal(pk_tcp_accept(3, NULL, NULL, 0), -PK_EINVAL);
	assert_int_equal(pk_tcp_accept(a, NULL, NULL, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_tcp_send(99, "x", 1, 0), -PK_EINVAL);
	assert_int_equal(pk_tcp_set_nodelay(a, true), -PK_EINVAL); /* a listener */
	assert_int_equal(pk_tcp_set_keepalive(99, true), -PK_EINVAL);
	assert_int_equal(pk_tcp_close(-1), -PK_EINVAL);
}

static void test_time_wait_answers_a_fin_again_and_lets_a_new_syn_in(void **state)
{
	(void)state;
	int l = pk_tcp_listen(NULL, PORT, 4);
	peer_connects(0, PEER_PORT);
	run(3, 1);
	int s = pk_tcp_accept(l, NULL, NULL, 0);
	assert_true(s >= 0);
	assert_int_equal(pk_tcp_close(s), 0);
	run(2, 1);
	assert_int_equal(pk_tcp_conn_close(&peers[0].conn, fake_backend.now_ns), 0);
	run(1, 1);
	assert_int_equal(peers[0].conn.state, PK_TCP_CLOSED);
	/* The peer's FIN again, as if our ACK had been lost. */
	uint8_t out[PK_FRAME_SIZE];
	struct pk_tcp_segment fin = {.source_port = PEER_PORT,
				     .destination_port = PORT,
				     .seq = peers[0].conn.snd_max - 1,
				     .ack = peers[0].conn.rcv_nxt,
				     .flags = PK_TCP_FIN | PK_TCP_ACK,
				     .window = 100};
	send_as_peer(out, pk_tcp_write(out, address_peer, address_us, &fin, 64));
	program_runs();
	uint32_t length = peer_receive();
	struct pk_tcp_segment ack;
	assert_int_equal(pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, &ack), PK_NET_OK);
	assert_int_equal(ack.flags, PK_TCP_ACK);
	assert_int_equal(ack.ack, fin.seq + 1);
	/* A new incarnation from the same port, its SYN past the old sequence numbers. */
	peer_connects(1, PEER_PORT);
	peers[1].conn.iss = peers[1].conn.snd_una = peers[1].conn.snd_nxt = peers[1].conn.snd_max =
		fin.seq + 100000;
	peers[1].conn.send_seq = fin.seq + 100001;
	run(3, 1);
	assert_int_equal(peers[1].conn.state, PK_TCP_ESTABLISHED);
	assert_int_equal(pk_tcp_close(l), 0);
}

static void test_every_connection_slot_taken_drops_the_next_syn(void **state)
{
	(void)state;
	int l = pk_tcp_listen(NULL, PORT, PK_TCP_BACKLOG_MAX);
	uint64_t dropped = pk_tcp_counters()->syn_dropped;
	/* Fill every slot by SYNs from ports of one connection each, written by hand. */
	for (unsigned i = 0; i < PK_TCP_CONNECTIONS + 1; i++) {
		uint8_t out[PK_FRAME_SIZE];
		struct pk_tcp_segment syn = {.source_port = (uint16_t)(30000 + i),
					     .destination_port = PORT,
					     .seq = 77,
					     .flags = PK_TCP_SYN,
					     .window = 100};
		send_as_peer(out, pk_tcp_write(out, address_peer, address_us, &syn, 64));
	}
	program_runs();
	assert_int_equal(pk_tcp_counters()->syn_dropped, dropped + 1);
	while (peer_receive() > 0) {
	}
	assert_int_equal(pk_tcp_close(l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
			test_accepted_connection_carries_data_both_ways_and_closes, teardown),
		cmocka_unit_test_teardown(test_syn_for_no_listener_is_reset, teardown),
		cmocka_unit_test_teardown(test_syns_past_the_backlog_are_dropped, teardown),
		cmocka_unit_test_teardown(test_listen_checks_its_arguments_and_limits, teardown),
		cmocka_unit_test_teardown(test_time_wait_answers_a_fin_again_and_lets_a_new_syn_in,
					  teardown),
		cmocka_unit_test_teardown(test_every_connection_slot_taken_drops_the_next_syn,
					  teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, fake_backend_group_teardown);
}
