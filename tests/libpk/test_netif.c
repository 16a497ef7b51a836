/* The process's interface (libpk/netif.c) over a real kernel core: the program is one
 * process of a kernel hosted in the test (fake_backend.h), a peer process sends it crafted
 * packets and reads what comes back. After every test the program owns no frame, nothing
 * waits in the peer's queue, and the kernel's audit holds; the group ends with every frame
 * back in the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_segment.h>
#include <pk/netif.h>

#include "fake_backend.h"
#include "packets.h"

#define MS 1000000ull

enum {
	PEER_IID = 2,	 /* address_peer */
	OTHER_IID = 4,	 /* the program's second address */
	GHOST_IID = 5,	 /* a process that leaves */
	FAR_IID = 6,	 /* a destination behind a small MTU */
	NOBODY_IID = 99, /* no process has it */
	PROGRAM_QUOTA = 8,
	LARGE = 8192, /* data bytes of a datagram sent in fragments */
};

static struct fake_port port;
static pk_proc_t program, peer;
static pk_endpoint_t peer_endpoint;
static uint8_t packet[PACKET_MAX], answer[PACKET_MAX];
static uint8_t address_second[PK_IPV6_ADDR_SIZE], address_far[PK_IPV6_ADDR_SIZE];

static int group_setup(void **state)
{
	(void)state;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.queue_limit = 16;
	if (fake_port_start(&port, &cfg) != 0)
		return -1;
	/* A quota of its own, so a test can leave the program a single frame to work with. */
	if (kernel_proc_create(port.k, 0, PROGRAM_QUOTA, &program) != 0)
		return -1;
	port.procs[port.nprocs++] = program;
	fake_backend_start(&port, program, (const uint64_t[]){1, OTHER_IID}, 2);
	peer = fake_port_proc(&port, 0);
	peer_endpoint = fake_port_endpoint(&port, peer, PEER_IID);
	fake_port_address(&port, OTHER_IID, address_second);
	fake_port_address(&port, FAR_IID, address_far);
	return pk_netif_init();
}

static uint32_t frames_owned(pk_proc_t proc)
{
	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(port.k, proc, &info), 0);
	return info.frames_owned;
}

static int teardown(void **state)
{
	(void)state;
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&port, peer, PK_KC_recv, peer_endpoint, 0, 0, &r),
			 -PK_EWOULDBLOCK);
	fake_backend_assert_clean(); /* no frame held, and the audit holds */
	return 0;
}

static void send_as(pk_proc_t proc, const uint8_t *bytes, uint32_t length)
{
	fake_backend_send_as(proc, bytes, length);
}

/* Sends the `length`-byte packet from the peer in fragments for a path of `mtu` bytes;
 * returns how many. */
static unsigned send_fragments_as_peer(const uint8_t *bytes, uint32_t length, uint32_t mtu,
				       unsigned only)
{
	int count = pk_frag_count(bytes, length, mtu);
	assert_true(count > 1);
	for (unsigned i = 0; i < (unsigned)count && i < only; i++) {
		uint8_t fragment[PK_FRAME_SIZE];
		uint32_t fragment_length;
		assert_int_equal(pk_frag_write(bytes, length, mtu, 77, i, fragment, sizeof fragment,
					       &fragment_length),
				 0);
		send_as(peer, fragment, fragment_length);
	}
	return (unsigned)count;
}

/* The frame the peer's last packet came in. */
static pk_frame_t peer_frame;

/* The next packet the peer received, copied into `answer`; its length, or 0 if none. */
static uint32_t peer_receive(void)
{
	struct pk_kresult r;
	if (fake_port_call(&port, peer, PK_KC_recv, peer_endpoint, 0, 0, &r) < 0)
		return 0;
	peer_frame = r.ret[0];
	uint32_t length = (uint32_t)r.ret[1];
	memcpy(answer, fake_port_frame_bytes(&port, r.ret[0]), length);
	assert_int_equal(fake_port_call(&port, peer, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	return length;
}

static uint32_t echo_request(const uint8_t *source, const uint8_t *destination, uint32_t data)
{
	struct builder b;
	build_start(&b, packet, source, destination);
	build_icmp(&b, PK_ICMPV6_ECHO_REQUEST, 0, 0x00070001, data);
	return b.length;
}

static uint32_t udp_datagram(const uint8_t *destination, uint32_t data)
{
	static const uint8_t zeros[8 + LARGE];
	struct builder b;
	build_start(&b, packet, address_peer, destination);
	build_udp(&b, 40000, 7, zeros, data);
	return b.length;
}

static void assert_is_icmp(const uint8_t *p, uint32_t length, const uint8_t *source, uint8_t type,
			   uint8_t code)
{
	assert_true(length >= PK_IPV6_HEADER_SIZE + PK_ICMPV6_HEADER_SIZE);
	assert_int_equal(p[6], PK_IPPROTO_ICMPV6);
	assert_memory_equal(p + 8, source, PK_IPV6_ADDR_SIZE);
	assert_memory_equal(p + 24, address_peer, PK_IPV6_ADDR_SIZE);
	assert_int_equal(p[40], type);
	assert_int_equal(p[41], code);
	assert_true(pk_icmpv6_checksum_ok(p, PK_IPV6_HEADER_SIZE, length - PK_IPV6_HEADER_SIZE));
}

static void test_netif_answers_an_echo_request_by_itself(void **state)
{
	(void)state;
	send_as(peer, packet, echo_request(address_peer, address_us, 56));
	uint64_t sent = pk_netif_counters()->sent, batches = fake_backend.batches;
	struct kernel_stats before, after;
	kernel_stats(port.k, &before);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_null(p.data);
	assert_int_equal(pk_netif_counters()->sent - sent, 1);
	/* One entry into the kernel took the request (with whatever was queued behind it);
	 * the reply went out with the next receive, and no entry of its own: one more entry
	 * per endpoint looked at. */
	kernel_stats(port.k, &after);
	assert_int_equal(after.calls[PK_KC_send] - before.calls[PK_KC_send], 1);
	assert_int_equal(fake_backend.batches - batches, 1 + pk_endpoint_count());
	uint32_t length = peer_receive();
	assert_int_equal(length, 40 + 8 + 56);
	assert_is_icmp(answer, length, address_us, PK_ICMPV6_ECHO_REPLY, 0);
}

static void test_netif_delivers_a_packet_in_its_frame_and_lets_go_on_the_next_receive(void **state)
{
	(void)state;
	uint32_t length = udp_datagram(address_us, 16);
	send_as(peer, packet, length);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_int_equal(p.protocol, PK_IPPROTO_UDP);
	assert_int_equal(p.upper_offset, PK_IPV6_HEADER_SIZE);
	assert_int_equal(p.length, length);
	assert_true(p.frame.handle != 0);
	assert_ptr_equal(p.data, p.frame.data);
	assert_memory_equal(p.data, packet, length);
	assert_int_equal(frames_owned(program), 1);
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_null(p.data);
	assert_int_equal(p.frame.handle, 0);
	/* Kept as a spare for the next send (pk_netif_release), until trimmed. */
	assert_int_equal(frames_owned(program), 1);
	pk_netif_trim();
	assert_int_equal(frames_owned(program), 0);
}

/* A spare carries the next burst: no entry into the kernel to allocate, the frame the
 * datagram came in goes out again, and nothing of the datagram goes with it. */
static void test_netif_sends_a_burst_in_the_frame_it_kept(void **state)
{
	(void)state;
	uint8_t filler[600];
	memset(filler, 0xa5, sizeof filler);
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_udp(&b, 40000, 7, filler, sizeof filler);
	send_as(peer, packet, b.length);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	pk_frame_t received = p.frame.handle;
	pk_netif_release(&p);
	assert_int_equal(frames_owned(program), 1);

	uint32_t small = echo_request(address_us, address_peer, 8);
	uint8_t *data[1] = {packet};
	uint64_t batches = fake_backend.batches;
	assert_int_equal(pk_netif_send_burst(data, &small, 1), 1);
	assert_int_equal(fake_backend.batches - batches, 1);
	assert_int_equal(frames_owned(program), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&port, peer, PK_KC_recv, peer_endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_FRAME_NUMBER(r.ret[0]), PK_FRAME_NUMBER(received));
	const uint8_t *bytes = fake_port_frame_bytes(&port, r.ret[0]);
	assert_memory_equal(bytes, packet, small);
	for (uint32_t i = small; i < PK_FRAME_SIZE; i++)
		assert_int_equal(bytes[i], 0);
	assert_int_equal(fake_port_call(&port, peer, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
}

/* Spares go back to the pool once unused for a while, in a receive that waits; the wait
 * itself is as long as asked. */
static void test_netif_gives_idle_spares_back_while_it_waits(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		send_as(peer, packet, udp_datagram(address_us, 8));
	struct pk_netif_packet p = {0};
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pk_netif_recv(&p, 0), 0);
	pk_netif_release(&p);
	assert_int_equal(frames_owned(program), 3);
	uint64_t start = fake_backend.now_ns;
	assert_int_equal(pk_netif_recv(&p, 5), -PK_ETIMEDOUT);
	assert_int_equal(frames_owned(program), 3); /* not idle long enough yet */
	assert_int_equal(pk_netif_recv(&p, 100), -PK_ETIMEDOUT);
	assert_int_equal(frames_owned(program), 0);
	assert_int_equal(fake_backend.now_ns - start, 105 * MS);
}

static void test_netif_receives_on_every_address(void **state)
{
	(void)state;
	send_as(peer, packet, udp_datagram(address_second, 8));
	send_as(peer, packet, echo_request(address_peer, address_second, 8));
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_memory_equal(p.data + 24, address_second, PK_IPV6_ADDR_SIZE);
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	uint32_t length = peer_receive();
	assert_is_icmp(answer, length, address_second, PK_ICMPV6_ECHO_REPLY, 0);
}

static void test_netif_reassembles_a_request_and_answers_in_fragments(void **state)
{
	(void)state;
	uint64_t reassembled = pk_netif_iface()->counters.reassembled;
	unsigned count = send_fragments_as_peer(
		packet, echo_request(address_peer, address_us, LARGE), PK_FRAME_SIZE, 99);
	assert_int_equal(count, 3);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_netif_iface()->counters.reassembled - reassembled, 1);
	uint32_t data = 0, length;
	for (unsigned i = 0; i < 3; i++) {
		assert_true((length = peer_receive()) > 0);
		assert_true(length <= PK_FRAME_SIZE);
		assert_int_equal(answer[6], PK_IPPROTO_FRAGMENT);
		assert_memory_equal(answer + 8, address_us, PK_IPV6_ADDR_SIZE);
		if (i == 0)
			assert_int_equal(answer[48], PK_ICMPV6_ECHO_REPLY);
		data += length - 48;
	}
	assert_int_equal(data, 8 + LARGE);
}

static void test_netif_delivers_a_reassembled_datagram_and_rejects_it(void **state)
{
	(void)state;
	uint32_t length = udp_datagram(address_us, LARGE);
	send_fragments_as_peer(packet, length, PK_IPV6_MIN_MTU, 99);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_int_equal(p.frame.handle, 0); /* in the stack's buffer */
	assert_int_equal(p.length, length);
	assert_memory_equal(p.data, packet, length);
	pk_netif_trim(); /* the fragments' frames were kept as spares */
	assert_int_equal(frames_owned(program), 0);
	assert_int_equal(pk_netif_reject(&p, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0),
			 0);
	assert_null(p.data);
	length = peer_receive();
	assert_int_equal(length, PK_IPV6_MIN_MTU);
	assert_is_icmp(answer, length, address_us, PK_ICMPV6_DEST_UNREACHABLE,
		       PK_ICMPV6_UNREACH_PORT);
	assert_memory_equal(answer + 48, packet, PK_IPV6_MIN_MTU - 48);
}

static void test_netif_rejects_in_place_and_never_about_an_error(void **state)
{
	(void)state;
	send_as(peer, packet, udp_datagram(address_us, 8));
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	pk_frame_t frame = p.frame.handle;
	assert_int_equal(pk_netif_reject(&p, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0),
			 0);
	uint32_t length = peer_receive();
	assert_is_icmp(answer, length, address_us, PK_ICMPV6_DEST_UNREACHABLE,
		       PK_ICMPV6_UNREACH_PORT);
	/* The error went out in the frame the datagram came in. */
	assert_int_equal(PK_FRAME_NUMBER(peer_frame), PK_FRAME_NUMBER(frame));

	memcpy(packet, answer, length);
	memcpy(packet + 8, address_peer, PK_IPV6_ADDR_SIZE);
	memcpy(packet + 24, address_us, PK_IPV6_ADDR_SIZE);
	send_as(peer, packet, length); /* the checksum survives the swap */
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_int_equal(p.protocol, PK_IPPROTO_ICMPV6);
	assert_int_equal(pk_netif_reject(&p, PK_ICMPV6_PARAMETER_PROBLEM, 1, 6), -PK_EPERM);
	assert_int_equal(p.frame.handle, 0);
}

static void test_netif_drops_a_fragmented_answer_whole_when_frames_run_out(void **state)
{
	(void)state;
	/* The program keeps all but one frame of its quota: the frame the last fragment came
	 * in is all it has for three fragments of answer. */
	struct pk_frame kept[PROGRAM_QUOTA - 1];
	for (unsigned i = 0; i < PROGRAM_QUOTA - 1; i++)
		assert_int_equal(pk_frame_alloc(&kept[i]), 0);
	uint64_t lost = pk_netif_counters()->lost;
	send_fragments_as_peer(packet, echo_request(address_peer, address_us, LARGE), PK_FRAME_SIZE,
			       99);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_netif_counters()->lost - lost, 1);
	assert_int_equal(peer_receive(), 0);
	pk_netif_trim();
	assert_int_equal(frames_owned(program), PROGRAM_QUOTA - 1);
	for (unsigned i = 0; i < PROGRAM_QUOTA - 1; i++)
		assert_int_equal(pk_frame_free(&kept[i]), 0);
}

static void test_netif_frees_an_answer_nobody_can_take(void **state)
{
	(void)state;
	pk_proc_t ghost = fake_port_proc(&port, 0);
	fake_port_endpoint(&port, ghost, GHOST_IID);
	uint8_t address_ghost[PK_IPV6_ADDR_SIZE];
	fake_port_address(&port, GHOST_IID, address_ghost);
	send_as(ghost, packet, echo_request(address_ghost, address_us, 8));
	assert_int_equal(kernel_proc_destroy(port.k, ghost), 0);
	uint64_t lost = pk_netif_counters()->lost;
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_int_equal(pk_netif_counters()->lost - lost, 1);
}

static void test_netif_send_recv_returns_the_refusal_and_consumes_the_packet(void **state)
{
	(void)state;
	uint8_t nobody[PK_IPV6_ADDR_SIZE];
	fake_port_address(&port, NOBODY_IID, nobody);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_packet_alloc(&p), 0);
	assert_ptr_equal(p.data, p.frame.data);
	p.length = echo_request(address_us, nobody, 8);
	memcpy(p.data, packet, p.length);
	assert_int_equal(pk_netif_send_recv(&p, 0), -PK_EHOSTUNREACH);
	assert_null(p.data);
	assert_int_equal(p.frame.handle, 0);

	/* What cannot be a packet is refused before the kernel sees it, and freed too. */
	assert_int_equal(pk_netif_packet_alloc(&p), 0);
	p.length = 20;
	assert_int_equal(pk_netif_send(&p), -PK_EINVAL);
	assert_int_equal(p.frame.handle, 0);
	assert_int_equal(pk_netif_reject(&p, PK_ICMPV6_DEST_UNREACHABLE, 0, 0), -PK_EINVAL);
}

static void test_netif_sends_a_large_packet_from_the_program_in_fragments(void **state)
{
	(void)state;
	static uint8_t large[PACKET_MAX];
	struct builder b;
	build_start(&b, large, address_us, address_peer);
	build_udp(&b, 40000, 7, packet, LARGE);
	struct pk_netif_packet p = {.data = large, .length = b.length};
	assert_int_equal(pk_netif_send(&p), 0);
	assert_null(p.data);
	uint32_t data = 0, length;
	while ((length = peer_receive()) > 0) {
		assert_int_equal(answer[6], PK_IPPROTO_FRAGMENT);
		data += length - 48;
	}
	assert_int_equal(data, 8 + LARGE);
}

static void test_netif_sends_to_the_path_mtu_it_learned(void **state)
{
	(void)state;
	pk_proc_t far = fake_port_proc(&port, 0);
	pk_endpoint_t far_endpoint = fake_port_endpoint(&port, far, FAR_IID);
	/* A router on the way to `far` says its link carries 1280 bytes. */
	static uint8_t quoted[PK_FRAME_SIZE];
	struct builder q, b;
	build_start(&q, quoted, address_us, address_far);
	build_upper(&q, PK_IPPROTO_UDP, packet, 2000);
	build_start(&b, packet, address_peer, address_us);
	uint32_t at = build_icmp(&b, PK_ICMPV6_PACKET_TOO_BIG, 0, PK_IPV6_MIN_MTU, 1232 - 8);
	memcpy(packet + at + 8, quoted, 1232 - 8);
	packet[at + 2] = packet[at + 3] = 0;
	uint16_t sum = icmp_checksum(packet, at, 1232);
	packet[at + 2] = (uint8_t)(sum >> 8);
	packet[at + 3] = (uint8_t)sum;
	send_as(peer, packet, b.length);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0); /* delivered, after the stack learned */
	assert_int_equal(p.data[p.upper_offset], PK_ICMPV6_PACKET_TOO_BIG);
	assert_int_equal(pk_netif_iface()->counters.pmtu_updates, 1);

	/* A packet in a frame, larger than the path: no longer sent as it is. */
	assert_int_equal(pk_netif_packet_alloc(&p), 0);
	p.length = q.length;
	memcpy(p.data, quoted, q.length);
	assert_int_equal(pk_netif_send(&p), 0);
	unsigned fragments = 0;
	struct pk_kresult r;
	while (fake_port_call(&port, far, PK_KC_recv, far_endpoint, 0, 0, &r) == 0) {
		assert_true(r.ret[1] <= PK_IPV6_MIN_MTU);
		assert_int_equal(fake_port_frame_bytes(&port, r.ret[0])[6], PK_IPPROTO_FRAGMENT);
		assert_int_equal(fake_port_call(&port, far, PK_KC_frame_free, r.ret[0], 0, 0, NULL),
				 0);
		fragments++;
	}
	assert_int_equal(fragments, 2);
	assert_int_equal(kernel_proc_destroy(port.k, far), 0);
}

static void test_netif_reports_a_reassembly_that_times_out(void **state)
{
	(void)state;
	send_fragments_as_peer(packet, echo_request(address_peer, address_us, LARGE), PK_FRAME_SIZE,
			       1);
	struct pk_netif_packet p = {0};
	uint64_t start = fake_backend.now_ns;
	/* Waits are cut so the time-out is noticed while nothing arrives. */
	assert_int_equal(pk_netif_recv(&p, 61000), -PK_ETIMEDOUT);
	assert_true(fake_backend.now_ns - start >= 61000 * MS);
	uint32_t length = peer_receive();
	assert_is_icmp(answer, length, address_us, PK_ICMPV6_TIME_EXCEEDED,
		       PK_ICMPV6_TIME_REASSEMBLY);
	assert_int_equal(pk_netif_iface()->counters.drops[PK_NET_DROP_FRAGMENT_TIMEOUT], 1);
}

static void test_netif_waits_as_long_as_asked(void **state)
{
	(void)state;
	struct pk_netif_packet p = {0};
	uint64_t start = fake_backend.now_ns;
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	assert_int_equal(fake_backend.now_ns, start);
	assert_int_equal(pk_netif_recv(&p, 50), -PK_ETIMEDOUT);
	assert_int_equal(fake_backend.now_ns - start, 50 * MS);
}

/* What nobody takes: a TCP segment gets the reset RFC 9293 asks for where no connection
 * is, and a reset gets nothing. */
static void test_netif_refuses_tcp_with_a_reset(void **state)
{
	(void)state;
	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_tcp(&b, 40000, 80, PK_TCP_SYN, 1000, 0, "", 0);
	send_as(peer, packet, b.length);
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_int_equal(p.protocol, PK_IPPROTO_TCP);
	pk_netif_refuse(&p);
	assert_null(p.data);
	uint32_t length = peer_receive();
	struct pk_tcp_segment s;
	assert_int_equal(pk_tcp_parse(answer, length, PK_IPV6_HEADER_SIZE, &s), PK_NET_OK);
	assert_int_equal(s.flags, PK_TCP_RST | PK_TCP_ACK);
	assert_int_equal(s.ack, 1001);
	assert_int_equal(s.source_port, 80);
	build_start(&b, packet, address_peer, address_us);
	build_tcp(&b, 40000, 80, PK_TCP_RST, 5, 0, "", 0);
	send_as(peer, packet, b.length);
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	pk_netif_refuse(&p);
	assert_int_equal(peer_receive(), 0);
}

/* Under lazy mapping the stack works on a copy of each packet: an echo request is answered
 * in its own frame, written back unmapped; a datagram is delivered from the copy; a burst
 * goes out in frames never mapped; a segment nobody takes gets its reset. Nothing is
 * mapped that need not be, and every frame comes back. */
static void test_netif_works_on_copies_under_lazy_mapping(void **state)
{
	(void)state;
	pk_set_lazy_mapping(1);
	send_as(peer, packet, echo_request(address_peer, address_us, 56));
	struct pk_netif_packet p = {0};
	assert_int_equal(pk_netif_recv(&p, 0), -PK_EWOULDBLOCK);
	uint32_t length = peer_receive();
	assert_int_equal(length, 40 + 8 + 56);
	assert_is_icmp(answer, length, address_us, PK_ICMPV6_ECHO_REPLY, 0);

	length = udp_datagram(address_us, 16);
	send_as(peer, packet, length);
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	assert_int_equal(p.frame.handle, 0); /* in the interface's copy */
	assert_int_equal(p.length, length);
	assert_memory_equal(p.data, packet, length);
	pk_netif_release(&p);

	uint32_t small = echo_request(address_us, address_peer, 8);
	uint8_t *data[1] = {packet};
	assert_int_equal(pk_netif_send_burst(data, &small, 1), 1);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&port, peer, PK_KC_recv, peer_endpoint, 0, 0, &r), 0);
	const uint8_t *bytes = fake_port_frame_bytes(&port, r.ret[0]);
	assert_memory_equal(bytes, packet, small);
	for (uint32_t i = small; i < PK_FRAME_SIZE; i++)
		assert_int_equal(bytes[i], 0);
	assert_int_equal(fake_port_call(&port, peer, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);

	struct builder b;
	build_start(&b, packet, address_peer, address_us);
	build_tcp(&b, 40000, 80, PK_TCP_SYN, 1000, 0, "", 0);
	send_as(peer, packet, b.length);
	assert_int_equal(pk_netif_recv(&p, 0), 0);
	pk_netif_refuse(&p);
	length = peer_receive();
	struct pk_tcp_segment segment;
	assert_int_equal(pk_tcp_parse(answer, length, PK_IPV6_HEADER_SIZE, &segment), PK_NET_OK);
	assert_int_equal(segment.flags, PK_TCP_RST | PK_TCP_ACK);
	pk_set_lazy_mapping(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_netif_answers_an_echo_request_by_itself, teardown),
		cmocka_unit_test_teardown(
			test_netif_delivers_a_packet_in_its_frame_and_lets_go_on_the_next_receive,
			teardown),
		cmocka_unit_test_teardown(test_netif_sends_a_burst_in_the_frame_it_kept, teardown),
		cmocka_unit_test_teardown(test_netif_gives_idle_spares_back_while_it_waits,
					  teardown),
		cmocka_unit_test_teardown(test_netif_receives_on_every_address, teardown),
		cmocka_unit_test_teardown(test_netif_reassembles_a_request_and_answers_in_fragments,
					  teardown),
		cmocka_unit_test_teardown(test_netif_delivers_a_reassembled_datagram_and_rejects_it,
					  teardown),
		cmocka_unit_test_teardown(test_netif_rejects_in_place_and_never_about_an_error,
					  teardown),
		cmocka_unit_test_teardown(
			test_netif_drops_a_fragmented_answer_whole_when_frames_run_out, teardown),
		cmocka_unit_test_teardown(test_netif_frees_an_answer_nobody_can_take, teardown),
		cmocka_unit_test_teardown(
			test_netif_send_recv_returns_the_refusal_and_consumes_the_packet, teardown),
		cmocka_unit_test_teardown(
			test_netif_sends_a_large_packet_from_the_program_in_fragments, teardown),
		cmocka_unit_test_teardown(test_netif_sends_to_the_path_mtu_it_learned, teardown),
		cmocka_unit_test_teardown(test_netif_reports_a_reassembly_that_times_out, teardown),
		cmocka_unit_test_teardown(test_netif_waits_as_long_as_asked, teardown),
		cmocka_unit_test_teardown(test_netif_refuses_tcp_with_a_reset, teardown),
		cmocka_unit_test_teardown(test_netif_works_on_copies_under_lazy_mapping, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, fake_backend_group_teardown);
}
