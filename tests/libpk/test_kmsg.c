/* Kernel messages through libpk, over a real kernel core (fake_backend.h): the receive says
 * which packets the kernel wrote (PK_RECV_KMSG), libpk leaves an interrupt packet unmapped
 * until pk_frame_open, and maps everything else as before, unless the program asked for
 * lazy mapping; pk_frame_read and pk_frame_write reach a frame mapped or not. After each
 * test the program owns no frame and the kernel's audit holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <packos/kmsg.h>
#include <pk/pk.h>

#include "fake_backend.h"

enum { LINE = 3, IRQ_PACKET = PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_irq) };

static struct fake_port port;
static pk_proc_t program;
static pk_irq_t irq;

static int group_setup(void **state)
{
	(void)state;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	if (fake_port_start(&port, &cfg) != 0)
		return -1;
	if (kernel_proc_create(port.k, PK_RIGHT_DRIVER, 16, &program) != 0)
		return -1;
	port.procs[port.nprocs++] = program;
	fake_backend_start(&port, program, (const uint64_t[]){1}, 1);
	if (pk_init() != 0)
		return -1;
	struct pk_kresult r;
	const struct pk_kcall attach = {.nr = PK_KC_irq_attach, .arg = {LINE, pk_endpoint(0)}};
	if (pk_call(&attach, &r) != 0)
		return -1;
	irq = r.ret[0];
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_backend_assert_clean();
	return 0;
}

static int ack(void)
{
	struct pk_kresult r;
	return pk_call(&(struct pk_kcall){.nr = PK_KC_irq_ack, .arg = {irq}}, &r);
}

static void test_an_interrupt_comes_unmapped_until_opened(void **state)
{
	(void)state;
	assert_int_equal(kernel_irq_raise(port.k, LINE), 0);
	struct pk_frame frame;
	uint32_t length;
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_int_equal(frame.kmsg, PK_KMSG_IRQ);
	assert_int_equal(length, IRQ_PACKET);
	assert_null(frame.data);
	assert_int_not_equal(frame.handle, 0);
	assert_int_equal(pk_frame_open(&frame), 0);
	assert_non_null(frame.data);
	assert_int_equal(frame.data[PK_IPV6_HEADER_SIZE], PK_KMSG_IRQ);
	assert_int_equal(pk_frame_open(&frame), 0); /* open already: nothing to do */
	assert_int_equal(pk_frame_free(&frame), 0);
	assert_int_equal(ack(), 0);
}

/* The driver's way: acknowledge and receive in one pass, and free what it never read. */
static void test_a_pass_takes_interrupts_unmapped_and_packets_mapped(void **state)
{
	(void)state;
	struct pk_frame own;
	assert_int_equal(pk_frame_alloc(&own), 0);
	memset(own.data, 0, PK_IPV6_HEADER_SIZE);
	pk_ipv6_header_init(own.data, pk_address(0), pk_address(0), 59, 8, 64);
	struct pk_outbox out = {0};
	assert_int_equal(pk_outbox_add(&out, &own, PK_IPV6_HEADER_SIZE + 8), 0);
	assert_int_equal(kernel_irq_raise(port.k, LINE), 0);
	struct pk_frame in[4];
	uint32_t lengths[4];
	int got = pk_pass(&out, NULL, NULL, pk_endpoint(0), in, lengths, 4, 0);
	assert_int_equal(got, 2);
	assert_int_equal(out.count, 0);
	/* The packet it sent itself is an ordinary one, whatever its frame held before. */
	unsigned interrupts = 0, packets = 0;
	for (int i = 0; i < got; i++) {
		if (in[i].kmsg == PK_KMSG_IRQ) {
			interrupts++;
			assert_null(in[i].data);
		} else {
			packets++;
			assert_int_equal(in[i].kmsg, 0);
			assert_non_null(in[i].data);
			assert_int_equal(lengths[i], PK_IPV6_HEADER_SIZE + 8);
		}
	}
	assert_int_equal(interrupts, 1);
	assert_int_equal(packets, 1);
	assert_int_equal(pk_frame_free_burst(in, (unsigned)got), 0);
	int acked = 1;
	assert_int_equal(pk_pass(&out, &(struct pk_kcall){.nr = PK_KC_irq_ack, .arg = {irq}},
				 &acked, pk_endpoint(0), in, lengths, 4, 0),
			 -PK_EWOULDBLOCK);
	assert_int_equal(acked, 0);
}

/* A router's forward: the kernel writes the hop limit the outbox carries as it sends; a
 * packet it refuses comes back as it was, hop limit and all, to be answered. */
static void test_a_pass_forwards_with_the_hop_limit_the_kernel_writes(void **state)
{
	(void)state;
	uint8_t nobody[PK_IPV6_ADDR_SIZE];
	memcpy(nobody, pk_address(0), sizeof nobody);
	nobody[PK_IPV6_ADDR_SIZE - 1] ^= 0x5a;
	struct pk_frame to_self, to_nobody;
	assert_int_equal(pk_frame_alloc(&to_self), 0);
	assert_int_equal(pk_frame_alloc(&to_nobody), 0);
	pk_ipv6_header_init(to_self.data, pk_address(0), pk_address(0), 59, 8, 64);
	pk_ipv6_header_init(to_nobody.data, pk_address(0), nobody, 59, 8, 64);
	struct pk_outbox out = {0};
	assert_int_equal(pk_outbox_forward(&out, &to_self, PK_IPV6_HEADER_SIZE + 8, 7), 0);
	assert_int_equal(pk_outbox_forward(&out, &to_nobody, PK_IPV6_HEADER_SIZE + 8, 9), 0);
	assert_null(to_self.data);
	struct pk_frame in[2];
	uint32_t lengths[2];
	assert_int_equal(pk_pass(&out, NULL, NULL, pk_endpoint(0), in, lengths, 2, 0), 1);
	assert_int_equal(in[0].data[offsetof(struct pk_ipv6_header, hop_limit)], 7);
	assert_int_equal(pk_frame_free(&in[0]), 0);

	assert_int_equal(out.count, 1);
	assert_int_equal(out.status[0], -PK_EHOSTUNREACH);
	assert_int_equal(out.hop_limit[0], 9);
	assert_int_equal(out.frame[0].data[offsetof(struct pk_ipv6_header, hop_limit)], 64);
	assert_int_equal(pk_frame_free(&out.frame[0]), 0);
}

/* An interrupt packet the driver sends on as a packet of its own is no longer the
 * kernel's: it comes back mapped. */
static void test_an_interrupt_frame_sent_on_is_a_packet(void **state)
{
	(void)state;
	assert_int_equal(kernel_irq_raise(port.k, LINE), 0);
	struct pk_frame frame;
	uint32_t length;
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_int_equal(pk_frame_open(&frame), 0);
	pk_ipv6_header_init(frame.data, pk_address(0), pk_address(0), 59, 0, 64);
	assert_int_equal(pk_send(&frame, PK_IPV6_HEADER_SIZE), 0);
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_int_equal(frame.kmsg, 0);
	assert_non_null(frame.data);
	assert_int_equal(pk_frame_free(&frame), 0);
	assert_int_equal(ack(), 0);
}

/* A tick is a kernel message too, and comes mapped, read-only, as every share does. */
static void test_a_tick_says_what_it_is_and_comes_mapped(void **state)
{
	(void)state;
	uint64_t period;
	assert_int_equal(pk_tick_subscribe(pk_endpoint(0), &period), 0);
	assert_int_equal(kernel_clock_tick(port.k, 1000), 0);
	struct pk_frame frame;
	uint32_t length;
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_int_equal(frame.kmsg, PK_KMSG_TICK);
	assert_true(frame.shared);
	assert_non_null(frame.data);
	struct pk_tick tick;
	assert_int_equal(pk_tick_parse(&frame, length, &tick), 0);
	assert_int_equal(pk_frame_free(&frame), 0);
	assert_int_equal(pk_tick_unsubscribe(pk_endpoint(0)), 0);
}

/* Lazy mapping: what the kernel hands over comes unmapped, allocated or received, and its
 * bytes are reached by copy, written back, and there once the frame is opened. */
static void test_lazy_mapping_leaves_frames_unmapped_and_reachable(void **state)
{
	(void)state;
	pk_set_lazy_mapping(1);
	struct pk_frame frame;
	assert_int_equal(pk_frame_alloc(&frame), 0);
	assert_null(frame.data);
	uint8_t bytes[PK_FRAME_SIZE];
	memset(bytes, 0xee, sizeof bytes);
	assert_int_equal(pk_frame_read(&frame, 0, bytes, PK_FRAME_SIZE), 0);
	for (unsigned i = 0; i < PK_FRAME_SIZE; i++)
		assert_int_equal(bytes[i], 0); /* the pool's frames are zeroed */
	uint8_t header[PK_IPV6_HEADER_SIZE];
	pk_ipv6_header_init(header, pk_address(0), pk_address(0), 59, 4, 9);
	assert_int_equal(pk_frame_write(&frame, 0, header, sizeof header), 0);
	assert_int_equal(pk_frame_write(&frame, PK_IPV6_HEADER_SIZE, "data", 4), 0);
	assert_int_equal(pk_send(&frame, PK_IPV6_HEADER_SIZE + 4), 0);

	uint32_t length;
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_null(frame.data);
	assert_int_equal(length, PK_IPV6_HEADER_SIZE + 4);
	const uint8_t hop_limit = 8;
	assert_int_equal(pk_frame_write(&frame, 7, &hop_limit, 1), 0);
	assert_int_equal(pk_frame_read(&frame, 0, bytes, length), 0);
	header[7] = hop_limit;
	assert_memory_equal(bytes, header, sizeof header);
	assert_memory_equal(bytes + PK_IPV6_HEADER_SIZE, "data", 4);
	assert_int_equal(pk_frame_open(&frame), 0);
	assert_int_equal(frame.data[7], hop_limit);
	/* Mapped, the same calls reach the same bytes. */
	assert_int_equal(pk_frame_write(&frame, PK_FRAME_SIZE - 1, "z", 1), 0);
	assert_int_equal(frame.data[PK_FRAME_SIZE - 1], 'z');
	assert_int_equal(pk_frame_read(&frame, PK_IPV6_HEADER_SIZE, bytes, 4), 0);
	assert_memory_equal(bytes, "data", 4);
	assert_int_equal(pk_frame_free(&frame), 0);
	pk_set_lazy_mapping(0);
	assert_int_equal(pk_frame_alloc(&frame), 0);
	assert_non_null(frame.data);
	assert_int_equal(pk_frame_free(&frame), 0);
}

/* Bytes outside the frame, no frame at all, and a write to a share are refused, and
 * nothing is copied. */
static void test_frame_access_refuses_what_it_cannot_reach(void **state)
{
	(void)state;
	pk_set_lazy_mapping(1);
	struct pk_frame frame;
	assert_int_equal(pk_frame_alloc(&frame), 0);
	uint8_t byte = 0x5a;
	assert_int_equal(pk_frame_read(&frame, PK_FRAME_SIZE, &byte, 0), 0);
	assert_int_equal(pk_frame_read(&frame, PK_FRAME_SIZE, &byte, 1), -PK_EINVAL);
	assert_int_equal(pk_frame_write(&frame, PK_FRAME_SIZE - 1, "ab", 2), -PK_EINVAL);
	assert_int_equal(pk_frame_read(&frame, UINT32_MAX, &byte, 2), -PK_EINVAL);
	assert_int_equal(byte, 0x5a);
	assert_int_equal(pk_frame_free(&frame), 0);
	assert_int_equal(pk_frame_read(&frame, 0, &byte, 1), -PK_EINVAL); /* freed: no handle */
	pk_set_lazy_mapping(0);

	uint64_t period;
	assert_int_equal(pk_tick_subscribe(pk_endpoint(0), &period), 0);
	assert_int_equal(kernel_clock_tick(port.k, 1000), 0);
	uint32_t length;
	assert_int_equal(pk_recv(pk_endpoint(0), &frame, &length, 0), 0);
	assert_true(frame.shared);
	uint8_t kind;
	assert_int_equal(pk_frame_read(&frame, PK_IPV6_HEADER_SIZE, &kind, 1), 0);
	assert_int_equal(kind, PK_KMSG_TICK);
	assert_int_equal(pk_frame_write(&frame, 0, &byte, 1), -PK_ESHARED);
	assert_int_equal(pk_frame_free(&frame), 0);
	assert_int_equal(pk_tick_unsubscribe(pk_endpoint(0)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_teardown(name, teardown)
		T(test_an_interrupt_comes_unmapped_until_opened),
		T(test_a_pass_takes_interrupts_unmapped_and_packets_mapped),
		T(test_a_pass_forwards_with_the_hop_limit_the_kernel_writes),
		T(test_an_interrupt_frame_sent_on_is_a_packet),
		T(test_a_tick_says_what_it_is_and_comes_mapped),
		T(test_lazy_mapping_leaves_frames_unmapped_and_reachable),
		T(test_frame_access_refuses_what_it_cannot_reach),
#undef T
	};
	return cmocka_run_group_tests(tests, group_setup, fake_backend_group_teardown);
}
