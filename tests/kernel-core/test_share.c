/* Shared frames: one frame held read-only by several processes, released in any order, on
 * process death, twice by one process; refused where it would be written or sent; limits.
 * The shared frames come from the clock, the simplest source (test_group.c has multicast).
 * Conservation is audited after every step that moves a share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/kmsg.h>

#include "fake_port.h"

enum { FIRST_IID = 0x40, HOLDERS = 3 };

struct holder {
	pk_proc_t proc;
	pk_endpoint_t endpoint;
};

static struct holder subscribe(struct fake_port *fp, uint64_t iid)
{
	struct holder h = {.proc = fake_port_proc(fp, 0)};
	h.endpoint = fake_port_endpoint(fp, h.proc, iid);
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_tick_subscribe, h.endpoint, 0, 0, NULL),
			 0);
	return h;
}

/* Receives at `endpoint`, expecting a share; returns its handle. */
static pk_frame_t take_share(struct fake_port *fp, pk_proc_t proc, pk_endpoint_t endpoint)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_recv, endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_SHARE);
	assert_int_equal(PK_RECV_LENGTH(r.ret[1]),
			 PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_tick));
	return r.ret[0];
}

static struct kernel_stats stats(struct fake_port *fp)
{
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	return st;
}

static uint32_t frames_held(struct fake_port *fp, pk_proc_t proc)
{
	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, proc, &info), 0);
	return info.frames_held;
}

static void test_share_every_subscriber_reads_the_same_frame_read_only(void **state)
{
	struct fake_port *fp = *state;
	struct holder h[HOLDERS];
	for (unsigned i = 0; i < HOLDERS; i++)
		h[i] = subscribe(fp, FIRST_IID + i);
	assert_int_equal(kernel_clock_tick(fp->k, 1000), 0);
	unsigned grants = fp->grants;
	pk_frame_t share[HOLDERS];
	for (unsigned i = 0; i < HOLDERS; i++) {
		share[i] = take_share(fp, h[i].proc, h[i].endpoint);
		assert_int_equal(fp->last_grant_proc, h[i].proc);
		assert_int_equal(frames_held(fp, h[i].proc), 1);
	}
	assert_int_equal(share[1], share[0]);
	assert_int_equal(share[2], share[0]);
	assert_int_equal(fp->grants - grants, HOLDERS);
	assert_int_equal(fp->readonly_grants, HOLDERS);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.frames_shared, 1); /* one frame for all of them */
	assert_int_equal(st.shares, HOLDERS);
	assert_int_equal(st.frames_free, st.frames_total - 1);
	fake_port_assert_audit(fp);
}

/* Every order of release: the frame stays shared while anyone (a holder, or the clock's
 * ring) still refers to it, and is free exactly when the last lets go. */
static void test_share_frame_returns_to_the_pool_with_its_last_release_in_any_order(void **state)
{
	(void)state;
	static const unsigned orders[6][HOLDERS] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
						    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (unsigned o = 0; o < 6; o++) {
		for (int ring_first = 0; ring_first < 2; ring_first++) {
			struct fake_port port, *fp = &port;
			struct kernel_config cfg;
			fake_port_config(&cfg);
			assert_int_equal(fake_port_start(fp, &cfg), 0);
			struct holder h[HOLDERS];
			pk_frame_t share[HOLDERS];
			for (unsigned i = 0; i < HOLDERS; i++)
				h[i] = subscribe(fp, FIRST_IID + i);
			assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
			for (unsigned i = 0; i < HOLDERS; i++)
				share[i] = take_share(fp, h[i].proc, h[i].endpoint);
			if (ring_first) /* without subscribers, the ring lets go of the tick */
				for (unsigned i = 0; i < HOLDERS; i++)
					assert_int_equal(fake_port_call(fp, h[i].proc,
									PK_KC_tick_unsubscribe,
									h[i].endpoint, 0, 0, NULL),
							 0);
			for (unsigned step = 0; step < HOLDERS; step++) {
				unsigned i = orders[o][step];
				unsigned revokes = fp->revokes;
				assert_int_equal(fake_port_call(fp, h[i].proc, PK_KC_frame_free,
								share[i], 0, 0, NULL),
						 0);
				assert_int_equal(fp->revokes, revokes + 1);
				assert_int_equal(fp->last_revoke_frame, PK_FRAME_NUMBER(share[i]));
				assert_int_equal(frames_held(fp, h[i].proc), 0);
				bool last = step == HOLDERS - 1 && ring_first;
				assert_int_equal(stats(fp).frames_shared, last ? 0 : 1);
				fake_port_assert_audit(fp);
			}
			struct kernel_stats st = stats(fp);
			assert_int_equal(st.shares, 0);
			/* With the ring still holding it, the frame goes with the next tick,
			 * which takes its place there. */
			if (!ring_first) {
				assert_int_equal(st.frames_shared, 1);
				assert_int_equal(kernel_clock_tick(fp->k, 2), 0);
				assert_int_equal(stats(fp).frames_shared, 1);
				assert_int_equal(stats(fp).frames_free, cfg.frame_count - 1);
				fake_port_assert_audit(fp);
			}
			assert_int_equal(fp->faults, 0);
			fake_port_stop(fp);
		}
	}
}

static void test_share_holder_death_releases_its_share_and_others_keep_theirs(void **state)
{
	struct fake_port *fp = *state;
	struct holder a = subscribe(fp, FIRST_IID), b = subscribe(fp, FIRST_IID + 1);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t sa = take_share(fp, a.proc, a.endpoint);
	pk_frame_t sb = take_share(fp, b.proc, b.endpoint);
	assert_int_equal(kernel_proc_destroy(fp->k, a.proc), 0);
	fake_port_assert_audit(fp);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.shares, 1);
	assert_int_equal(st.frames_shared, 1);
	assert_int_equal(st.tick_subscribers, 1);
	/* b still reads the bytes a saw; the dead process's share is gone with it. */
	const uint8_t *bytes = fake_port_frame_bytes(fp, sb);
	assert_int_equal(bytes[PK_IPV6_HEADER_SIZE], PK_KMSG_TICK);
	assert_int_equal(sa, sb);
	/* b dies too, holding its share and its subscription: all comes back. */
	assert_int_equal(kernel_proc_destroy(fp->k, b.proc), 0);
	st = stats(fp);
	assert_int_equal(st.shares + st.frames_shared + st.tick_subscribers, 0);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_share_many_held_shares_go_at_death_without_a_revoke_each(void **state)
{
	struct fake_port *fp = *state;
	struct holder h = subscribe(fp, FIRST_IID);
	/* Each tick read and kept: one share per tick, each a frame of its own. */
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(kernel_clock_tick(fp->k, i), 0);
		take_share(fp, h.proc, h.endpoint);
	}
	assert_int_equal(frames_held(fp, h.proc), 5);
	assert_int_equal(stats(fp).frames_shared, 5);
	unsigned revokes = fp->revokes;
	assert_int_equal(kernel_proc_destroy(fp->k, h.proc), 0);
	assert_int_equal(fp->revokes, revokes); /* the port drops the address space whole */
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_share_cannot_be_sent_or_handed_to_a_device(void **state)
{
	struct fake_port *fp = *state;
	struct holder h = subscribe(fp, FIRST_IID);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t share = take_share(fp, h.proc, h.endpoint);
	uint32_t length = PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_tick);
	/* Refused, not faulted: a forwarding program can meet a share and copy it instead. */
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_send, share, length, 0, NULL),
			 -PK_ESHARED);
	assert_int_equal(fp->faults, 0);
	uint32_t number = 0;
	assert_int_equal(kernel_frame_of(fp->k, h.proc, share, &number), -PK_ESHARED);
	assert_int_equal(frames_held(fp, h.proc), 1);
	assert_int_equal(stats(fp).errors[PK_ESHARED], 1);
	fake_port_assert_audit(fp);
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_frame_free, share, 0, 0, NULL), 0);
}

static void test_share_freed_twice_faults(void **state)
{
	struct fake_port *fp = *state;
	struct holder a = subscribe(fp, FIRST_IID), b = subscribe(fp, FIRST_IID + 1);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t share = take_share(fp, a.proc, a.endpoint);
	take_share(fp, b.proc, b.endpoint);
	assert_int_equal(fake_port_call(fp, a.proc, PK_KC_frame_free, share, 0, 0, NULL), 0);
	/* b still holds it, so the handle is current: a simply holds nothing any more. */
	assert_int_equal(fake_port_call(fp, a.proc, PK_KC_frame_free, share, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_proc, a.proc);
	fake_port_assert_audit(fp);
}

static void test_share_of_another_process_or_forged_from_one_faults(void **state)
{
	struct fake_port *fp = *state;
	struct holder a = subscribe(fp, FIRST_IID);
	pk_proc_t thief = fake_port_proc(fp, 0);
	pk_proc_t forger = fake_port_proc(fp, 0);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t share = take_share(fp, a.proc, a.endpoint);
	assert_int_equal(fake_port_call(fp, thief, PK_KC_frame_free, share, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, thief);
	/* The same frame as an ordinary frame handle: not owned by anyone. */
	pk_frame_t forged =
		PK_HANDLE_MAKE(PK_HANDLE_FRAME, PK_HANDLE_GEN(share), PK_FRAME_NUMBER(share));
	assert_int_equal(fake_port_call(fp, forger, PK_KC_send, forged, 40, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 2);
	/* Neither touched a's share. */
	assert_int_equal(frames_held(fp, a.proc), 1);
	fake_port_assert_audit(fp);
}

static void test_share_handle_of_a_past_sharing_is_stale(void **state)
{
	struct fake_port *fp = *state;
	struct holder h = subscribe(fp, FIRST_IID);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t old = take_share(fp, h.proc, h.endpoint);
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_frame_free, old, 0, 0, NULL), 0);
	/* The next tick frees the old frame; the one after may reuse it (free list is LIFO). */
	assert_int_equal(kernel_clock_tick(fp->k, 2), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 3), 0);
	pk_frame_t now = take_share(fp, h.proc, h.endpoint);
	assert_int_not_equal(now, old);
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_frame_free, old, 0, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
}

static void test_share_held_twice_by_one_process_is_granted_and_revoked_once(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t proc = fake_port_proc(fp, 0);
	pk_endpoint_t e1 = fake_port_endpoint(fp, proc, FIRST_IID);
	pk_endpoint_t e2 = fake_port_endpoint(fp, proc, FIRST_IID + 1);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_tick_subscribe, e1, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_tick_subscribe, e2, 0, 0, NULL), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t s1 = take_share(fp, proc, e1);
	pk_frame_t s2 = take_share(fp, proc, e2);
	assert_int_equal(s1, s2);
	assert_int_equal(fp->readonly_grants, 1); /* mapped once */
	assert_int_equal(frames_held(fp, proc), 2);
	assert_int_equal(stats(fp).shares, 1);
	unsigned revokes = fp->revokes;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_free, s1, 0, 0, NULL), 0);
	assert_int_equal(fp->revokes, revokes); /* still held once: still mapped */
	assert_int_equal(frames_held(fp, proc), 1);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_free, s2, 0, 0, NULL), 0);
	assert_int_equal(fp->revokes, revokes + 1);
	fake_port_assert_audit(fp);
	assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_free, s2, 0, 0, NULL), -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 1);
}

static void test_share_counts_against_the_frame_quota(void **state)
{
	struct fake_port *fp = *state;
	struct holder h = subscribe(fp, FIRST_IID);
	pk_frame_t last = 0;
	for (unsigned i = 0; i < fp->cfg.default_quota; i++)
		last = fake_port_frame(fp, h.proc);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_recv, h.endpoint, 0, 0, NULL),
			 -PK_EQUOTA);
	fake_port_assert_audit(fp);
	/* The tick waits in the ring; a free frame of quota lets it in. */
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_frame_free, last, 0, 0, NULL), 0);
	take_share(fp, h.proc, h.endpoint);
	/* And a held share keeps the next allocation out. */
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_frame_alloc, 0, 0, 0, &r), -PK_EQUOTA);
}

static void test_share_table_full_refuses_and_keeps_the_packet(void **state)
{
	(void)state;
	struct fake_port port, *fp = &port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.max_shares = 2;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	struct holder h[3];
	for (unsigned i = 0; i < 3; i++)
		h[i] = subscribe(fp, FIRST_IID + i);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	pk_frame_t s0 = take_share(fp, h[0].proc, h[0].endpoint);
	take_share(fp, h[1].proc, h[1].endpoint);
	assert_int_equal(fake_port_call(fp, h[2].proc, PK_KC_recv, h[2].endpoint, 0, 0, NULL),
			 -PK_ENOSPC);
	fake_port_assert_audit(fp);
	assert_int_equal(fake_port_call(fp, h[0].proc, PK_KC_frame_free, s0, 0, 0, NULL), 0);
	take_share(fp, h[2].proc, h[2].endpoint);
	fake_port_stop(fp);
}

static void test_share_refused_by_the_port_stays_for_the_next_try(void **state)
{
	struct fake_port *fp = *state;
	struct holder h = subscribe(fp, FIRST_IID);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	fp->fail_next_grant = -PK_ENOMEM;
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_recv, h.endpoint, 0, 0, NULL),
			 -PK_ENOMEM);
	assert_int_equal(stats(fp).shares, 0);
	fake_port_assert_audit(fp);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, h.proc, PK_KC_recv, h.endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_RECV_LOST(r.ret[1]), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
	const struct CMUnitTest tests[] = {
		T(test_share_every_subscriber_reads_the_same_frame_read_only),
		cmocka_unit_test(
			test_share_frame_returns_to_the_pool_with_its_last_release_in_any_order),
		T(test_share_holder_death_releases_its_share_and_others_keep_theirs),
		T(test_share_many_held_shares_go_at_death_without_a_revoke_each),
		T(test_share_cannot_be_sent_or_handed_to_a_device),
		T(test_share_freed_twice_faults),
		T(test_share_of_another_process_or_forged_from_one_faults),
		T(test_share_handle_of_a_past_sharing_is_stale),
		T(test_share_held_twice_by_one_process_is_granted_and_revoked_once),
		T(test_share_counts_against_the_frame_quota),
		cmocka_unit_test(test_share_table_full_refuses_and_keeps_the_packet),
		T(test_share_refused_by_the_port_stays_for_the_next_try),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
