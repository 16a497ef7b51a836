/* The kernel clock: subscribing, the tick message, one frame per tick whatever the number of
 * subscribers, misses counted and reported instead of queued, ticks without a free frame,
 * wakes, limits and every error, and release at unsubscribe, endpoint destroy and death. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/kmsg.h>

#include "fake_port.h"

enum { IID = 0x50, TICK_LENGTH = PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_tick) };

struct subscriber {
	pk_proc_t proc;
	pk_endpoint_t endpoint;
};

static struct subscriber subscribe(struct fake_port *fp, uint64_t iid)
{
	struct subscriber s = {.proc = fake_port_proc(fp, 0)};
	s.endpoint = fake_port_endpoint(fp, s.proc, iid);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_subscribe, s.endpoint, 0, 0, NULL),
			 0);
	return s;
}

static struct kernel_stats stats(struct fake_port *fp)
{
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	return st;
}

/* Receives the next tick at `s`, checks the message, frees it; returns its tick number and
 * reports the losses that came with it. */
static uint64_t expect_tick(struct fake_port *fp, const struct subscriber *s, uint64_t now_ns,
			    uint32_t *ret_lost)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, s->proc, PK_KC_recv, s->endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_SHARE);
	assert_int_equal(PK_RECV_LENGTH(r.ret[1]), TICK_LENGTH);
	assert_int_equal(PK_RECV_KMSG(r.ret[1]), PK_KMSG_TICK);
	assert_int_equal(r.ret[1] & 0x00ff0000u, 0);
	const uint8_t *bytes = fake_port_frame_bytes(fp, r.ret[0]);
	const struct pk_ipv6_header *h = (const void *)bytes;
	const struct pk_kmsg_tick *m = (const void *)(bytes + PK_IPV6_HEADER_SIZE);
	uint8_t kernel[16];
	fake_port_address(fp, PK_KAN_KERNEL_IID, kernel);
	assert_int_equal(h->version_class_flow[0], 0x60);
	assert_int_equal(h->next_header, PK_KMSG_NEXT_HEADER);
	assert_int_equal(h->hop_limit, PK_KMSG_HOP_LIMIT);
	assert_int_equal(h->payload_length[0] << 8 | h->payload_length[1], sizeof *m);
	assert_memory_equal(h->source, kernel, 16);
	assert_memory_equal(h->destination, kernel, 16);
	assert_int_equal(m->type, PK_KMSG_TICK);
	assert_int_equal(fake_port_be64(m->now_ns), now_ns);
	assert_int_equal(fake_port_be64(m->period_ns), fp->cfg.tick_ns);
	for (size_t i = TICK_LENGTH; i < PK_FRAME_SIZE; i++)
		if (bytes[i] != 0)
			fail_msg("byte %zu of a tick is %u, not 0", i, bytes[i]);
	*ret_lost = PK_RECV_LOST(r.ret[1]);
	assert_int_equal(fake_port_call(fp, s->proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	return fake_port_be64(m->tick);
}

static void expect_nothing(struct fake_port *fp, const struct subscriber *s)
{
	assert_int_equal(fake_port_call(fp, s->proc, PK_KC_recv, s->endpoint, 0, 0, NULL),
			 -PK_EWOULDBLOCK);
}

static void test_tick_subscribe_answers_the_period_and_the_ticks_so_far(void **state)
{
	struct fake_port *fp = *state;
	assert_int_equal(kernel_clock_tick(fp->k, 5), 0); /* nobody listens: no frame used */
	assert_int_equal(stats(fp).frames_free, fp->cfg.frame_count);
	pk_proc_t proc = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, proc, IID);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_tick_subscribe, e, 0, 0, &r), 0);
	assert_int_equal(r.ret[0], fp->cfg.tick_ns);
	assert_int_equal(r.ret[1], 1);
	assert_int_equal(stats(fp).tick_subscribers, 1);
	fake_port_assert_audit(fp);
}

static void test_tick_is_one_shared_frame_for_all_subscribers(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber s[4];
	for (unsigned i = 0; i < 4; i++)
		s[i] = subscribe(fp, IID + i);
	/* Old bytes everywhere, so the zeroing of the tick frame shows. */
	memset(fp->frame_memory, 0xa5, (size_t)fp->cfg.frame_count * PK_FRAME_SIZE);
	assert_int_equal(kernel_clock_tick(fp->k, 123456789), 0);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.frames_shared, 1);
	assert_int_equal(st.frames_free, fp->cfg.frame_count - 1);
	for (unsigned i = 0; i < 4; i++) {
		uint32_t lost;
		assert_int_equal(expect_tick(fp, &s[i], 123456789, &lost), 1);
		assert_int_equal(lost, 0);
		expect_nothing(fp, &s[i]);
	}
	assert_int_equal(stats(fp).ticks, 1);
	fake_port_assert_audit(fp);
}

static void test_tick_unread_is_replaced_and_the_misses_reported(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber slow = subscribe(fp, IID), fast = subscribe(fp, IID + 1);
	for (uint64_t t = 1; t <= 6; t++) {
		assert_int_equal(kernel_clock_tick(fp->k, t * 10), 0);
		uint32_t lost;
		assert_int_equal(expect_tick(fp, &fast, t * 10, &lost), t);
		assert_int_equal(lost, 0);
		/* Never more than the one tick in the ring, however long slow sleeps. */
		assert_int_equal(stats(fp).frames_shared, 1);
		fake_port_assert_audit(fp);
	}
	uint32_t lost;
	assert_int_equal(expect_tick(fp, &slow, 60, &lost), 6);
	assert_int_equal(lost, 5);
	expect_nothing(fp, &slow); /* no second tick was queued */
	assert_int_equal(kernel_clock_tick(fp->k, 70), 0);
	assert_int_equal(expect_tick(fp, &slow, 70, &lost), 7);
	assert_int_equal(lost, 0); /* reported once */
	assert_int_equal(stats(fp).ticks_missed, 5);
}

static void test_tick_without_a_free_frame_is_dropped_and_counted_as_missed(void **state)
{
	(void)state;
	struct fake_port port, *fp = &port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.default_quota = cfg.frame_count + 1;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	struct subscriber s = subscribe(fp, IID);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	uint32_t lost;
	assert_int_equal(expect_tick(fp, &s, 1, &lost), 1);
	pk_proc_t hog = fake_port_proc(fp, 0);
	pk_frame_t last = 0;
	struct pk_kresult r;
	while (fake_port_call(fp, hog, PK_KC_frame_alloc, 0, 0, 0, &r) == 0)
		last = r.ret[0];
	assert_int_equal(kernel_clock_tick(fp->k, 2), -PK_ENOMEM);
	/* The dropped tick took the last one's place in the ring, and so gave its frame back
	 * to the pool; the hog takes that too. */
	assert_int_equal(fake_port_call(fp, hog, PK_KC_frame_alloc, 0, 0, 0, &r), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 3), -PK_ENOMEM);
	expect_nothing(fp, &s);
	fake_port_assert_audit(fp);
	assert_int_equal(stats(fp).ticks_dropped, 2);
	assert_int_equal(fake_port_call(fp, hog, PK_KC_frame_free, last, 0, 0, NULL), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 4), 0);
	assert_int_equal(expect_tick(fp, &s, 4, &lost), 4);
	assert_int_equal(lost, 2); /* ticks 2 and 3 */
	assert_int_equal(stats(fp).ticks_missed, 2);
	fake_port_stop(fp);
}

static void test_tick_wakes_a_waiting_subscriber_once(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber s = subscribe(fp, IID), busy = subscribe(fp, IID + 1);
	expect_nothing(fp, &s); /* the receive that asks for a wake */
	unsigned wakes = fp->wakes;
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	assert_int_equal(fp->wakes, wakes + 1); /* busy never asked */
	assert_int_equal(fp->last_wake_proc, s.proc);
	assert_int_equal(fp->last_wake_endpoint, s.endpoint);
	assert_int_equal(kernel_clock_tick(fp->k, 2), 0);
	assert_int_equal(fp->wakes, wakes + 1);
	uint32_t lost;
	assert_int_equal(expect_tick(fp, &s, 2, &lost), 2);
	assert_int_equal(expect_tick(fp, &busy, 2, &lost), 2);
	fake_port_assert_audit(fp);
}

static void test_tick_double_subscribe_and_unsubscribe_without_are_errors(void **state)
{
	struct fake_port *fp = *state;
	assert_int_equal(kernel_clock_subscribers(fp->k), 0);
	struct subscriber s = subscribe(fp, IID);
	assert_int_equal(kernel_clock_subscribers(fp->k), 1);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_subscribe, s.endpoint, 0, 0, NULL),
			 -PK_EALREADY);
	assert_int_equal(kernel_clock_subscribers(fp->k), 1);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_unsubscribe, s.endpoint, 0, 0, NULL),
			 0);
	assert_int_equal(kernel_clock_subscribers(fp->k), 0);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_unsubscribe, s.endpoint, 0, 0, NULL),
			 -PK_ENOTMEMBER);
	pk_endpoint_t never = fake_port_endpoint(fp, s.proc, IID + 1);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_unsubscribe, never, 0, 0, NULL),
			 -PK_ENOTMEMBER);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	expect_nothing(fp, &s);
	assert_int_equal(stats(fp).frames_free, fp->cfg.frame_count); /* nobody subscribed */
	fake_port_assert_audit(fp);
}

static void test_tick_subscriber_limit(void **state)
{
	struct fake_port *fp = *state;
	for (unsigned i = 0; i < fp->cfg.tick_subscribers; i++)
		subscribe(fp, IID + i);
	pk_proc_t proc = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, proc, IID + 99);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_tick_subscribe, e, 0, 0, NULL), -PK_ENOSPC);
	assert_int_equal(stats(fp).tick_subscribers, fp->cfg.tick_subscribers);
	fake_port_assert_audit(fp);
}

static void test_tick_subscription_of_another_process_endpoint_faults(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber s = subscribe(fp, IID);
	pk_proc_t thief = fake_port_proc(fp, 0);
	assert_int_equal(fake_port_call(fp, thief, PK_KC_tick_unsubscribe, s.endpoint, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, thief);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_subscribe, s.endpoint, 1, 0, NULL),
			 -PK_EINVAL); /* an argument that must be 0 */
	assert_int_equal(stats(fp).tick_subscribers, 1);
}

static void test_tick_subscription_ends_with_the_endpoint_and_the_process(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber a = subscribe(fp, IID), b = subscribe(fp, IID + 1);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0); /* unread by both */
	assert_int_equal(fake_port_call(fp, a.proc, PK_KC_endpoint_destroy, a.endpoint, 0, 0, NULL),
			 0);
	assert_int_equal(stats(fp).tick_subscribers, 1);
	fake_port_assert_audit(fp);
	assert_int_equal(kernel_proc_destroy(fp->k, b.proc), 0);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.tick_subscribers, 0);
	/* Without subscribers the clock keeps no tick. */
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_tick_unsubscribed_keeps_the_ticks_it_holds(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber s = subscribe(fp, IID);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_recv, s.endpoint, 0, 0, &r), 0);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_tick_unsubscribe, s.endpoint, 0, 0, NULL),
			 0);
	assert_int_equal(stats(fp).frames_shared, 1); /* held, though the ring let it go */
	assert_int_equal(fake_port_frame_bytes(fp, r.ret[0])[PK_IPV6_HEADER_SIZE], PK_KMSG_TICK);
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	assert_int_equal(stats(fp).frames_free, fp->cfg.frame_count);
	fake_port_assert_audit(fp);
}

static void test_tick_comes_before_packets_queued_at_the_endpoint(void **state)
{
	struct fake_port *fp = *state;
	struct subscriber s = subscribe(fp, IID);
	pk_proc_t peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, IID + 1);
	assert_int_equal(fake_port_send(fp, peer, IID + 1, IID, 8, NULL), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	uint32_t lost;
	assert_int_equal(expect_tick(fp, &s, 1, &lost), 1);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, s.proc, PK_KC_recv, s.endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_FRAME);
	assert_int_equal(r.ret[1], PK_IPV6_HEADER_SIZE + 8);
}

static void test_tick_config_needs_a_period(void **state)
{
	(void)state;
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	uint8_t memory[PK_FRAME_SIZE];
	cfg.frame_memory = memory;
	cfg.frame_count = 1;
	assert_int_not_equal(kernel_arena_size(&cfg), 0);
	cfg.tick_ns = 0;
	assert_int_equal(kernel_arena_size(&cfg), 0);
	cfg.tick_ns = 1;
	cfg.tick_subscribers = 0; /* a kernel may have no subscribers at all */
	assert_int_not_equal(kernel_arena_size(&cfg), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
	const struct CMUnitTest tests[] = {
		T(test_tick_subscribe_answers_the_period_and_the_ticks_so_far),
		T(test_tick_is_one_shared_frame_for_all_subscribers),
		T(test_tick_unread_is_replaced_and_the_misses_reported),
		cmocka_unit_test(test_tick_without_a_free_frame_is_dropped_and_counted_as_missed),
		T(test_tick_wakes_a_waiting_subscriber_once),
		T(test_tick_double_subscribe_and_unsubscribe_without_are_errors),
		T(test_tick_subscriber_limit),
		T(test_tick_subscription_of_another_process_endpoint_faults),
		T(test_tick_subscription_ends_with_the_endpoint_and_the_process),
		T(test_tick_unsubscribed_keeps_the_ticks_it_holds),
		T(test_tick_comes_before_packets_queued_at_the_endpoint),
		cmocka_unit_test(test_tick_config_needs_a_period),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
