/* UDP sockets (libpk/udp.c) over a real kernel core: the program is one process of a
 * kernel hosted in the test (fake_backend.h), a peer process sends it datagrams and reads
 * what comes back. After every test the program's sockets are closed, it owns no frame,
 * nothing waits in the peer's queue, and the kernel's audit holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/udp.h>

#include "fake_backend.h"
#include "packets.h"

enum { PEER_IID = 2, PEER_PORT = 40000, LARGE = 6000 };

static struct fake_port port;
static pk_proc_t program, peer;
static pk_endpoint_t peer_endpoint;
static uint8_t packet[PACKET_MAX], answer[PACKET_MAX];

static int group_setup(void **state)
{
	(void)state;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.queue_limit = 64; /* room for a queue's worth of datagrams and more */
	if (fake_port_start(&port, &cfg) != 0)
		return -1;
	if (kernel_proc_create(port.k, 0, 32, &program) != 0)
		return -1;
	port.procs[port.nprocs++] = program;
	fake_backend_start(&port, program, (const uint64_t[]){1}, 1);
	peer = fake_port_proc(&port, 0);
	peer_endpoint = fake_port_endpoint(&port, peer, PEER_IID);
	return pk_netif_init();
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < (int)PK_UDP_SOCKETS; i++)
		pk_udp_close(i);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&port, peer, PK_KC_recv, peer_endpoint, 0, 0, &r),
			 -PK_EWOULDBLOCK);
	fake_backend_assert_clean();
	return 0;
}

static void send_as_peer(const uint8_t *bytes, uint32_t length)
{
	fake_backend_send_as(peer, bytes, length);
}

/* A datagram from the peer's port to `port_to` on the program's address. */
static void peer_sends(uint16_t port_to, const char *text)
{
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_udp(&b, PEER_PORT, port_to, text, (uint32_t)strlen(text));
	send_as_peer(packet, b.length);
}

/* The next packet the peer received, in `answer`; its length, or 0 if none. */
static uint32_t peer_receive(void)
{
	return fake_backend_receive_as(peer, peer_endpoint, answer);
}

static void test_udp_sockets_open_bind_and_refuse_what_cannot_be(void **state)
{
	(void)state;
	int a = pk_udp_open(), b = pk_udp_open();
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(pk_udp_bind(a, NULL, 7), 0);
	assert_int_equal(pk_udp_bind(a, NULL, 8), -PK_EINVAL); /* bound already */
	assert_int_equal(pk_udp_bind(b, address_us, 7), -PK_EADDRINUSE);
	assert_int_equal(pk_udp_bind(b, address_peer, 9), -PK_EINVAL); /* not ours */
	assert_int_equal(pk_udp_bind(b, NULL, 0), 0);
	char buffer[8];
	assert_int_equal(pk_udp_recvfrom(b, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	int c = pk_udp_open();
	assert_int_equal(pk_udp_recvfrom(c, buffer, sizeof buffer, NULL, NULL, 0), -PK_EINVAL);
	assert_int_equal(pk_udp_send(c, "x", 1), -PK_EINVAL); /* not connected */
	assert_int_equal(pk_udp_sendto(c, packet, PK_UDP_PAYLOAD_MAX + 1, address_peer, 1),
			 -PK_EINVAL);
	assert_int_equal(pk_udp_close(c), 0);
	assert_int_equal(pk_udp_close(c), -PK_EINVAL);
	assert_int_equal(pk_udp_recvfrom(99, buffer, sizeof buffer, NULL, NULL, 0), -PK_EINVAL);
	int opened = 2;
	while (pk_udp_open() >= 0)
		opened++;
	assert_int_equal(opened, PK_UDP_SOCKETS);
}

static void test_udp_receives_a_datagram_and_its_sender(void **state)
{
	(void)state;
	int s = pk_udp_open();
	assert_int_equal(pk_udp_bind(s, NULL, 7), 0);
	peer_sends(7, "hello, seven");
	char buffer[64];
	uint8_t from[PK_IPV6_ADDR_SIZE];
	uint16_t from_port = 0;
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, from, &from_port, 100), 12);
	assert_memory_equal(buffer, "hello, seven", 12);
	assert_memory_equal(from, address_peer, PK_IPV6_ADDR_SIZE);
	assert_int_equal(from_port, PEER_PORT);
	/* Too small a buffer takes the start; the rest is gone, as with recvfrom. */
	peer_sends(7, "truncated");
	assert_int_equal(pk_udp_recvfrom(s, buffer, 5, NULL, NULL, 100), 5);
	assert_memory_equal(buffer, "trunc", 5);
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 30), -PK_ETIMEDOUT);
}

/* A datagram for another socket waits in its queue, in its frame; beyond the queue's
 * room they are dropped and counted. */
static void test_udp_queues_datagrams_for_other_sockets(void **state)
{
	(void)state;
	int a = pk_udp_open(), b = pk_udp_open();
	assert_int_equal(pk_udp_bind(a, NULL, 1000), 0);
	assert_int_equal(pk_udp_bind(b, NULL, 2000), 0);
	uint64_t dropped = pk_udp_counters()->dropped;
	uint64_t received = pk_udp_counters()->received;
	for (unsigned i = 0; i < PK_UDP_QUEUE + 2; i++)
		peer_sends(2000, "for b");
	peer_sends(1000, "for a");
	char buffer[16];
	assert_int_equal(pk_udp_recvfrom(a, buffer, sizeof buffer, NULL, NULL, 100), 5);
	assert_memory_equal(buffer, "for a", 5);
	assert_int_equal(pk_udp_counters()->dropped, dropped + 2);
	assert_int_equal(pk_udp_counters()->received, received + PK_UDP_QUEUE + 1);
	for (unsigned i = 0; i < PK_UDP_QUEUE; i++)
		assert_int_equal(pk_udp_recvfrom(b, buffer, sizeof buffer, NULL, NULL, 0), 5);
	assert_int_equal(pk_udp_recvfrom(b, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	/* Closing a socket with datagrams waiting gives their frames back. */
	peer_sends(2000, "left");
	peer_sends(1000, "for a");
	assert_int_equal(pk_udp_recvfrom(a, buffer, sizeof buffer, NULL, NULL, 100), 5);
	assert_int_equal(pk_udp_close(b), 0);
}

/* A datagram of `length` bytes of pattern from the peer to `port_to`, in fragments for a
 * 1280-byte path. */
static void peer_sends_in_fragments(uint16_t port_to, uint32_t length)
{
	static uint8_t data[LARGE], whole[PACKET_MAX];
	for (uint32_t i = 0; i < length; i++)
		data[i] = (uint8_t)(i * 7 + port_to);
	struct builder b;
	build_start(&b, whole, address_peer, address_us);
	build_udp(&b, PEER_PORT, port_to, data, length);
	int count = pk_frag_count(whole, b.length, PK_IPV6_MIN_MTU);
	assert_true(count > 1);
	for (int i = 0; i < count; i++) {
		uint8_t fragment[PK_FRAME_SIZE];
		uint32_t fragment_length;
		assert_int_equal(pk_frag_write(whole, b.length, PK_IPV6_MIN_MTU, 99 + port_to,
					       (unsigned)i, fragment, sizeof fragment,
					       &fragment_length),
				 0);
		send_as_peer(fragment, fragment_length);
	}
}

/* A reassembled datagram has no frame to wait in: one waits in the room kept for it, a
 * second one while it is taken is dropped and counted. */
static void test_udp_keeps_one_reassembled_datagram_for_another_socket(void **state)
{
	(void)state;
	int a = pk_udp_open(), b = pk_udp_open();
	assert_int_equal(pk_udp_bind(a, NULL, 1000), 0);
	assert_int_equal(pk_udp_bind(b, NULL, 2000), 0);
	uint64_t dropped = pk_udp_counters()->dropped;
	peer_sends_in_fragments(2000, LARGE);
	peer_sends_in_fragments(2000, 3000);
	peer_sends(1000, "for a");
	static uint8_t buffer[LARGE];
	assert_int_equal(pk_udp_recvfrom(a, buffer, sizeof buffer, NULL, NULL, 100), 5);
	assert_int_equal(pk_udp_counters()->dropped, dropped + 1);
	assert_int_equal(pk_udp_recvfrom(b, buffer, sizeof buffer, NULL, NULL, 0), LARGE);
	for (uint32_t i = 0; i < LARGE; i++)
		if (buffer[i] != (uint8_t)(i * 7 + 2000))
			fail_msg("byte %u of the reassembled datagram is wrong", i);
	/* The room is free again, and the receiving socket takes one straight away. */
	peer_sends_in_fragments(2000, 3000);
	assert_int_equal(pk_udp_recvfrom(b, buffer, sizeof buffer, NULL, NULL, 100), 3000);
}

static void test_udp_port_nobody_bound_is_unreachable(void **state)
{
	(void)state;
	int s = pk_udp_open();
	assert_int_equal(pk_udp_bind(s, NULL, 7), 0);
	uint64_t unreachable = pk_udp_counters()->port_unreachable;
	peer_sends(9, "nobody");
	char buffer[16];
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_udp_counters()->port_unreachable, unreachable + 1);
	uint32_t length = peer_receive();
	assert_true(length > 48);
	assert_int_equal(answer[6], PK_IPPROTO_ICMPV6);
	assert_int_equal(answer[40], PK_ICMPV6_DEST_UNREACHABLE);
	assert_int_equal(answer[41], PK_ICMPV6_UNREACH_PORT);
	assert_memory_equal(answer + 48 + 24, address_us, PK_IPV6_ADDR_SIZE);
}

static void test_udp_sends_a_datagram_the_peer_can_check(void **state)
{
	(void)state;
	int s = pk_udp_open();
	assert_int_equal(pk_udp_bind(s, NULL, 5353), 0);
	assert_int_equal(pk_udp_sendto(s, "answer", 6, address_peer, PEER_PORT), 6);
	uint32_t length = peer_receive();
	struct pk_udp_datagram d;
	assert_int_equal(pk_udp_parse(answer, length, 40, &d), PK_NET_OK);
	assert_int_equal(upper_checksum(answer, PK_IPPROTO_UDP, 40, 14, 6),
			 answer[46] << 8 | answer[47]);
	assert_int_equal(d.source_port, 5353);
	assert_int_equal(d.destination_port, PEER_PORT);
	assert_memory_equal(answer + d.payload_offset, "answer", 6);
	assert_memory_equal(answer + 8, address_us, PK_IPV6_ADDR_SIZE);
	/* An unbound socket is bound to a free port first. */
	int t = pk_udp_open();
	assert_int_equal(pk_udp_sendto(t, "x", 1, address_peer, PEER_PORT), 1);
	length = peer_receive();
	assert_int_equal(pk_udp_parse(answer, length, 40, &d), PK_NET_OK);
	assert_true(d.source_port >= PK_UDP_EPHEMERAL_FIRST);
}

/* Larger than a frame: in fragments the peer reassembles into the datagram sent. */
static void test_udp_sends_a_large_datagram_in_fragments(void **state)
{
	(void)state;
	static uint8_t data[LARGE];
	for (unsigned i = 0; i < LARGE; i++)
		data[i] = (uint8_t)(i * 13);
	int s = pk_udp_open();
	assert_int_equal(pk_udp_sendto(s, data, LARGE, address_peer, PEER_PORT), LARGE);
	uint32_t total = 0, length;
	unsigned fragments = 0;
	while ((length = peer_receive()) > 0) {
		assert_int_equal(answer[6], PK_IPPROTO_FRAGMENT);
		total += length - 48;
		fragments++;
	}
	assert_true(fragments >= 2);
	assert_int_equal(total, 8 + LARGE);
}

/* The peer's port unreachable about what a connected socket sent: its next receive says
 * so, once. */
static void test_udp_connected_socket_hears_of_a_refusal(void **state)
{
	(void)state;
	int s = pk_udp_open();
	assert_int_equal(pk_udp_connect(s, address_peer, PEER_PORT), 0);
	assert_int_equal(pk_udp_send(s, "knock", 5), 5);
	uint32_t quoted_length = peer_receive();
	static uint8_t quoted[PK_FRAME_SIZE];
	memcpy(quoted, answer, quoted_length);
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	uint32_t at = build_icmp(&b, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0,
				 quoted_length);
	memcpy(packet + at + 8, quoted, quoted_length);
	packet[at + 2] = packet[at + 3] = 0;
	uint16_t sum = icmp_checksum(packet, at, 8 + quoted_length);
	packet[at + 2] = (uint8_t)(sum >> 8);
	packet[at + 3] = (uint8_t)sum;
	send_as_peer(packet, b.length);
	char buffer[16];
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 100),
			 -PK_ECONNREFUSED);
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	/* A connected socket takes only its peer's datagrams: one from another port of the
	 * peer finds no socket. */
	uint16_t local_port = (uint16_t)(quoted[40] << 8 | quoted[41]);
	struct builder other;
	build_start(&other, packet, address_peer, address_us);
	build_udp(&other, PEER_PORT + 1, local_port, "stranger", 8);
	send_as_peer(packet, other.length);
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 0), -PK_EWOULDBLOCK);
	assert_int_equal(peer_receive() > 48 && answer[40] == PK_ICMPV6_DEST_UNREACHABLE, 1);
	struct builder from_peer;
	build_start(&from_peer, packet, address_peer, address_us);
	build_udp(&from_peer, PEER_PORT, local_port, "welcome", 7);
	send_as_peer(packet, from_peer.length);
	assert_int_equal(pk_udp_recvfrom(s, buffer, sizeof buffer, NULL, NULL, 100), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_teardown(name, teardown)
		T(test_udp_sockets_open_bind_and_refuse_what_cannot_be),
		T(test_udp_receives_a_datagram_and_its_sender),
		T(test_udp_queues_datagrams_for_other_sockets),
		T(test_udp_keeps_one_reassembled_datagram_for_another_socket),
		T(test_udp_port_nobody_bound_is_unreachable),
		T(test_udp_sends_a_datagram_the_peer_can_check),
		T(test_udp_sends_a_large_datagram_in_fragments),
		T(test_udp_connected_socket_hears_of_a_refusal),
#undef T
	};
	return cmocka_run_group_tests(tests, group_setup, fake_backend_group_teardown);
}
