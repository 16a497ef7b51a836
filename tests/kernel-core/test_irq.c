/* Interrupt lines: attach, raise, the interrupt packet, masking until the ack, folding,
 * holding back when there is no frame or no room, detach and death, and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/kmsg.h>

#include "fake_port.h"

enum { DRIVER_IID = 0x51, LINE = 3 };

struct driver {
	pk_proc_t proc;
	pk_endpoint_t endpoint;
	pk_irq_t irq;
};

static struct driver attach_driver(struct fake_port *fp, uint64_t iid, uint32_t line)
{
	struct driver d = {.proc = fake_port_proc(fp, PK_RIGHT_DRIVER)};
	d.endpoint = fake_port_endpoint(fp, d.proc, iid);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_attach, line, d.endpoint, 0, &r), 0);
	d.irq = r.ret[0];
	assert_int_equal(PK_HANDLE_KIND(d.irq), PK_HANDLE_IRQ);
	assert_int_equal(PK_HANDLE_INDEX(d.irq), line);
	return d;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Receives the next packet at the driver's endpoint, checks it is an interrupt message for
 * `line` standing for `raised` raises, and frees it; returns its sequence number. */
static uint64_t expect_interrupt(struct fake_port *fp, const struct driver *d, uint32_t line,
				 uint32_t raised)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, d->proc, PK_KC_recv, d->endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_RECV_LENGTH(r.ret[1]),
			 PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_irq));
	assert_int_equal(PK_RECV_KMSG(r.ret[1]), PK_KMSG_IRQ);
	assert_int_equal(PK_RECV_LOST(r.ret[1]), 0);
	const uint8_t *bytes = fake_port_frame_bytes(fp, r.ret[0]);
	const struct pk_ipv6_header *h = (const void *)bytes;
	const struct pk_kmsg_irq *m = (const void *)(bytes + PK_IPV6_HEADER_SIZE);
	uint8_t kernel[16], mine[16];
	fake_port_address(fp, PK_KAN_KERNEL_IID, kernel);
	fake_port_address(fp, DRIVER_IID, mine);
	assert_int_equal(h->version_class_flow[0] >> 4, 6);
	assert_int_equal(h->next_header, PK_KMSG_NEXT_HEADER);
	assert_int_equal(h->hop_limit, PK_KMSG_HOP_LIMIT);
	assert_int_equal(h->payload_length[0] << 8 | h->payload_length[1], sizeof *m);
	assert_memory_equal(h->source, kernel, 16);
	if (be64(h->destination + 8) == DRIVER_IID)
		assert_memory_equal(h->destination, mine, 16);
	assert_int_equal(m->type, PK_KMSG_IRQ);
	assert_int_equal(be32(m->line), line);
	assert_int_equal(be32(m->raised), raised);
	assert_int_equal(be64(m->irq), d->irq);
	/* Nothing of the frame's last owner shows through. */
	for (size_t i = PK_IPV6_HEADER_SIZE + sizeof *m; i < PK_FRAME_SIZE; i++)
		if (bytes[i] != 0)
			fail_msg("byte %zu of an interrupt packet is %u, not 0", i, bytes[i]);
	uint64_t sequence = be64(m->sequence);
	assert_int_equal(fake_port_call(fp, d->proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	return sequence;
}

static void expect_queue_empty(struct fake_port *fp, const struct driver *d)
{
	assert_int_equal(fake_port_call(fp, d->proc, PK_KC_recv, d->endpoint, 0, 0, NULL),
			 -PK_EWOULDBLOCK);
}

static void test_irq_raise_queues_one_interrupt_packet_and_masks_the_line(void **state)
{
	struct fake_port *fp = *state;
	/* Leave old bytes in every frame, so the zeroing of the interrupt frame shows. */
	memset(fp->frame_memory, 0xa5, (size_t)fp->cfg.frame_count * PK_FRAME_SIZE);
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(expect_interrupt(fp, &d, LINE, 1), 1);
	/* Masked until the ack: the next raise is held back, not sent. */
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EBUSY);
	expect_queue_empty(fp, &d);
	fake_port_assert_audit(fp);
}

static void test_irq_raises_while_masked_fold_into_one_packet_at_the_ack(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EBUSY);
	assert_int_equal(expect_interrupt(fp, &d, LINE, 1), 1);
	expect_queue_empty(fp, &d);
	/* The ack unmasks, finds 1000 raises held back, and sends them as one packet. */
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL), 0);
	assert_int_equal(expect_interrupt(fp, &d, LINE, 1000), 2);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL), 0);
	expect_queue_empty(fp, &d);
	/* Nothing held back now: the line is open, and the next raise goes out at once. */
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(expect_interrupt(fp, &d, LINE, 1), 3);

	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.irq_raised, 1002);
	assert_int_equal(st.irq_delivered, 3);
	assert_int_equal(st.irq_spurious, 0);
	assert_int_equal(st.irq_lines_attached, 1);
}

static void test_irq_ack_without_an_interrupt_is_an_error(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL),
			 -PK_ENOTPENDING);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL),
			 -PK_ENOTPENDING);
	assert_int_equal(fp->faults, 0);
	expect_interrupt(fp, &d, LINE, 1);
}

static void test_irq_attach_needs_the_driver_right_a_real_line_and_a_free_one(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t plain = fake_port_proc(fp, PK_RIGHT_ROUTER);
	pk_endpoint_t e = fake_port_endpoint(fp, plain, 0x60);
	assert_int_equal(fake_port_call(fp, plain, PK_KC_irq_attach, LINE, e, 0, NULL), -PK_EPERM);

	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_attach, fp->cfg.irq_lines, d.endpoint,
					0, NULL),
			 -PK_EINVAL);
	assert_int_equal(
		fake_port_call(fp, d.proc, PK_KC_irq_attach, UINT64_MAX, d.endpoint, 0, NULL),
		-PK_EINVAL);
	/* Taken, by itself or by another driver. */
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_attach, LINE, d.endpoint, 0, NULL),
			 -PK_EBUSY);
	pk_proc_t other = fake_port_proc(fp, PK_RIGHT_DRIVER);
	pk_endpoint_t other_ep = fake_port_endpoint(fp, other, 0x61);
	assert_int_equal(fake_port_call(fp, other, PK_KC_irq_attach, LINE, other_ep, 0, NULL),
			 -PK_EBUSY);
	/* One driver may hold several lines on one endpoint. */
	assert_int_equal(
		fake_port_call(fp, d.proc, PK_KC_irq_attach, LINE + 1, d.endpoint, 0, NULL), 0);
	assert_int_equal(fp->faults, 0);
	fake_port_assert_audit(fp);
}

static void test_irq_attach_to_an_endpoint_not_its_own_faults(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t victim = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, victim, 0x60);
	pk_proc_t driver = fake_port_proc(fp, PK_RIGHT_DRIVER);
	assert_int_equal(fake_port_call(fp, driver, PK_KC_irq_attach, LINE, e, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_proc, driver);
}

static void test_irq_handles_of_others_and_stale_handles_fault(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	pk_proc_t thief = fake_port_proc(fp, PK_RIGHT_DRIVER);
	assert_int_equal(fake_port_call(fp, thief, PK_KC_irq_ack, d.irq, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, thief);
	/* Detached, the handle is stale; a made-up one never was. */
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_detach, d.irq, 0, 0, NULL), 0);
	struct driver again = attach_driver(fp, DRIVER_IID + 1, LINE);
	assert_int_not_equal(again.irq, d.irq);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 2);
	assert_int_equal(fake_port_call(fp, again.proc, PK_KC_irq_detach,
					PK_HANDLE_MAKE(PK_HANDLE_IRQ, 1, 999), 0, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 3);
}

static void test_irq_raise_of_an_unattached_or_unknown_line_is_counted(void **state)
{
	struct fake_port *fp = *state;
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EHOSTUNREACH);
	assert_int_equal(kernel_irq_raise(fp->k, fp->cfg.irq_lines), -PK_EINVAL);
	assert_int_equal(kernel_irq_raise(fp->k, UINT32_MAX), -PK_EINVAL);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.irq_spurious, 1);
	assert_int_equal(st.irq_delivered, 0);
}

static void test_irq_without_a_free_frame_is_held_back_not_lost(void **state)
{
	(void)state;
	struct fake_port port, *fp = &port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.default_quota = cfg.frame_count + 1; /* one hog can take the whole pool */
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	pk_proc_t hog = fake_port_proc(fp, 0);
	pk_frame_t last = 0;
	struct pk_kresult r;
	while (fake_port_call(fp, hog, PK_KC_frame_alloc, 0, 0, 0, &r) == 0)
		last = r.ret[0];
	assert_int_equal(r.status, -PK_ENOMEM);

	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_ENOMEM);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_ENOMEM);
	expect_queue_empty(fp, &d);
	fake_port_assert_audit(fp);
	/* A frame comes back; the next raise sends all three in it. */
	assert_int_equal(fake_port_call(fp, hog, PK_KC_frame_free, last, 0, 0, NULL), 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	expect_interrupt(fp, &d, LINE, 3);
	fake_port_stop(fp);
}

static void test_irq_into_a_full_queue_is_held_back_until_the_ack(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	/* The queue limit is 8: fill the driver's queue with packets from a peer. */
	pk_proc_t peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, 0x70);
	for (unsigned i = 0; i < fp->cfg.queue_limit; i++)
		assert_int_equal(fake_port_send(fp, peer, 0x70, DRIVER_IID, 8, NULL), 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_ENOBUFS);
	/* Room again, but no ack can come (nothing was sent); the next raise delivers both. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	for (unsigned i = 1; i < fp->cfg.queue_limit; i++) {
		assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
		assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL),
				 0);
	}
	expect_interrupt(fp, &d, LINE, 2);
}

static void test_irq_wakes_a_driver_waiting_for_it(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	expect_queue_empty(fp, &d); /* the receive that asks for a wake */
	unsigned wakes = fp->wakes;
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(fp->wakes, wakes + 1);
	assert_int_equal(fp->last_wake_proc, d.proc);
	assert_int_equal(fp->last_wake_endpoint, d.endpoint);
	expect_interrupt(fp, &d, LINE, 1);
}

static void test_irq_detach_frees_the_line_and_leaves_the_packet(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_detach, d.irq, 0, 0, NULL), 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EHOSTUNREACH);
	/* The packet already queued is an ordinary packet now; it is still the driver's. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	struct driver next = attach_driver(fp, DRIVER_IID + 1, LINE);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	assert_int_equal(expect_interrupt(fp, &next, LINE, 1), 1);
	fake_port_assert_audit(fp);
}

static void test_irq_lines_are_released_when_the_driver_dies(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(
		fake_port_call(fp, d.proc, PK_KC_irq_attach, LINE + 1, d.endpoint, 0, NULL), 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0); /* a packet queued, then death */
	assert_int_equal(kernel_proc_destroy(fp->k, d.proc), 0);
	fake_port_assert_audit(fp);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.irq_lines_attached, 0);
	assert_int_equal(st.frames_free, st.frames_total);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EHOSTUNREACH);
	attach_driver(fp, DRIVER_IID + 1, LINE);
	attach_driver(fp, DRIVER_IID + 2, LINE + 1);
	fake_port_assert_audit(fp);
}

static void test_irq_whose_endpoint_is_gone_is_dropped_and_counted(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_endpoint_destroy, d.endpoint, 0, 0, NULL),
			 0);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), -PK_EHOSTUNREACH);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.irq_spurious, 1);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_irq_no_program_can_send_as_the_kernel(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	pk_frame_t f;
	assert_int_equal(fake_port_send(fp, d.proc, PK_KAN_KERNEL_IID, DRIVER_IID, 32, &f),
			 -PK_ESOURCE);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, f, 0, 0, NULL), 0);
	/* Nor bind the kernel's address: interface ID 0 means "choose one". */
	struct pk_kresult r;
	assert_int_equal(
		fake_port_call(fp, d.proc, PK_KC_endpoint_create, PK_KAN_KERNEL_IID, 0, 0, &r), 0);
	assert_int_not_equal(r.ret[1], PK_KAN_KERNEL_IID);
}

/* The receive says "interrupt" only while the frame holds the kernel's message: once the
 * driver sends the frame on as a packet of its own, it is an ordinary packet. */
static void test_irq_packet_is_the_kernel_s_until_a_program_sends_it(void **state)
{
	struct fake_port *fp = *state;
	struct driver d = attach_driver(fp, DRIVER_IID, LINE);
	assert_int_equal(kernel_irq_raise(fp->k, LINE), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_RECV_KMSG(r.ret[1]), PK_KMSG_IRQ);
	pk_frame_t frame = r.ret[0];
	uint32_t length = fake_port_write_kan_packet(fp, frame, DRIVER_IID, DRIVER_IID, 8);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_send, frame, length, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
	assert_int_equal(r.ret[0] & 0xffffffffu, frame & 0xffffffffu);
	assert_int_equal(PK_RECV_KMSG(r.ret[1]), 0);
	assert_int_equal(PK_RECV_LENGTH(r.ret[1]), length);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	/* A frame fresh from the pool says nothing either, wherever it was before. */
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_irq_ack, d.irq, 0, 0, NULL), 0);
	assert_int_equal(fake_port_send(fp, d.proc, DRIVER_IID, DRIVER_IID, 8, NULL), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_recv, d.endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_RECV_KMSG(r.ret[1]), 0);
	assert_int_equal(fake_port_call(fp, d.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	fake_port_assert_audit(fp);
}

static void test_irq_config_limits(void **state)
{
	(void)state;
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	uint8_t memory[PK_FRAME_SIZE];
	cfg.frame_memory = memory;
	cfg.frame_count = 1;
	cfg.irq_lines = 0;
	assert_int_not_equal(kernel_arena_size(&cfg), 0);
	cfg.irq_lines = 1025;
	assert_int_equal(kernel_arena_size(&cfg), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
	const struct CMUnitTest tests[] = {
		T(test_irq_raise_queues_one_interrupt_packet_and_masks_the_line),
		T(test_irq_raises_while_masked_fold_into_one_packet_at_the_ack),
		T(test_irq_ack_without_an_interrupt_is_an_error),
		T(test_irq_attach_needs_the_driver_right_a_real_line_and_a_free_one),
		T(test_irq_attach_to_an_endpoint_not_its_own_faults),
		T(test_irq_handles_of_others_and_stale_handles_fault),
		T(test_irq_raise_of_an_unattached_or_unknown_line_is_counted),
		cmocka_unit_test(test_irq_without_a_free_frame_is_held_back_not_lost),
		T(test_irq_into_a_full_queue_is_held_back_until_the_ack),
		T(test_irq_wakes_a_driver_waiting_for_it),
		T(test_irq_detach_frees_the_line_and_leaves_the_packet),
		T(test_irq_lines_are_released_when_the_driver_dies),
		T(test_irq_whose_endpoint_is_gone_is_dropped_and_counted),
		T(test_irq_no_program_can_send_as_the_kernel),
		T(test_irq_packet_is_the_kernel_s_until_a_program_sends_it),
		cmocka_unit_test(test_irq_config_limits),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
