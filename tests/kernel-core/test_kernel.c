/* The kernel as a whole: configuration checks, arena layout, and kernel_audit itself. The
 * audit guards every other test's teardown, so here it is shown to catch each kind of
 * damage; these tests reach into the kernel's private state to do the damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"
#include "kstate.h"

static void test_kernel_default_config_is_valid_once_memory_is_given(void **state)
{
	(void)state;
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	assert_int_equal(kernel_arena_size(&cfg), 0); /* no frame memory yet */
	static uint8_t memory[PK_FRAME_SIZE];
	cfg.frame_memory = memory;
	assert_true(kernel_arena_size(&cfg) > 0);
	const uint8_t ula[8] = PK_KAN_DEFAULT_PREFIX;
	assert_memory_equal(cfg.kan_prefix, ula, 8);
	assert_int_equal(cfg.kan_prefix[0], 0xfd);
}

static void test_kernel_rejects_bad_configs(void **state)
{
	(void)state;
	static uint8_t memory[PK_FRAME_SIZE];
	struct kernel_config good;
	fake_port_config(&good);
	good.frame_memory = memory;
	assert_true(kernel_arena_size(&good) > 0);

	struct kernel_config bad[9];
	for (int i = 0; i < 9; i++)
		bad[i] = good;
	bad[0].frame_memory = NULL;
	bad[1].frame_count = 0;
	bad[2].frame_count = (1u << 24) + 1;
	bad[3].max_procs = 0;
	bad[4].max_endpoints = 0;
	bad[5].endpoints_per_proc = 0;
	bad[6].default_quota = 0;
	bad[7].queue_limit = 0;
	bad[8].kan_prefix[0] = 0xff;
	for (int i = 0; i < 9; i++)
		assert_int_equal(kernel_arena_size(&bad[i]), 0);
}

static void test_kernel_init_refuses_a_bad_arena_or_port(void **state)
{
	struct fake_port *fp = *state;
	struct kernel_config cfg = fp->cfg;
	size_t size = kernel_arena_size(&cfg);
	char *arena = aligned_alloc(64, (size + 64 + 63) & ~(size_t)63);
	struct kernel *k = NULL;
	assert_int_equal(kernel_init(&cfg, &fp->port, arena, size - 1, &k), -PK_EINVAL);
	assert_int_equal(kernel_init(&cfg, &fp->port, arena + 1, size, &k), -PK_EINVAL);

	struct kport_ops ops = *fp->port.ops;
	ops.po_wake = NULL;
	struct kport incomplete = {.ops = &ops, .ctx = fp};
	assert_int_equal(kernel_init(&cfg, &incomplete, arena, size, &k), -PK_EINVAL);
	struct kport empty = {0};
	assert_int_equal(kernel_init(&cfg, &empty, arena, size, &k), -PK_EINVAL);
	assert_null(k);

	assert_int_equal(kernel_init(&cfg, &fp->port, arena, size, &k), 0);
	assert_non_null(k);
	free(arena);
}

static void test_kernel_stats_add_up_to_the_pool(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_proc_t q = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, p, 1);
	fake_port_endpoint(fp, q, 2);
	fake_port_frame(fp, p);
	assert_int_equal(fake_port_send(fp, p, 1, 2, 0, NULL), 0);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_total, fp->cfg.frame_count);
	assert_int_equal(st.frames_owned, 1);
	assert_int_equal(st.frames_queued, 1);
	assert_int_equal(st.frames_free + st.frames_owned + st.frames_queued + st.frames_shared,
			 st.frames_total);
	assert_int_equal(st.procs, 2);
	assert_int_equal(st.endpoints, 2);
}

static void test_kernel_lists_a_process_endpoints_with_their_queues(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_proc_t q = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, p, 1);
	pk_endpoint_t first = fake_port_endpoint(fp, q, 2);
	pk_endpoint_t second = fake_port_endpoint(fp, q, 3);
	fake_port_frame(fp, p);
	fake_port_frame(fp, p);
	assert_int_equal(fake_port_send(fp, p, 1, 3, 0, NULL), 0);
	assert_int_equal(fake_port_send(fp, p, 1, 3, 0, NULL), 0);

	struct kernel_endpoint_info info[4];
	assert_int_equal(kernel_proc_endpoints(fp->k, q, info, 4), 2);
	assert_int_equal(info[0].handle, second); /* newest first */
	assert_int_equal(info[0].iid, 3);
	assert_int_equal(info[0].queued, 2);
	assert_int_equal(info[1].handle, first);
	assert_int_equal(info[1].iid, 2);
	assert_int_equal(info[1].queued, 0);

	/* A short buffer gets the first entries and the true count. */
	struct kernel_endpoint_info one = {0};
	assert_int_equal(kernel_proc_endpoints(fp->k, q, &one, 1), 2);
	assert_int_equal(one.handle, second);
	assert_int_equal(kernel_proc_endpoints(fp->k, q, NULL, 0), 2);

	assert_int_equal(kernel_proc_endpoints(fp->k, first, info, 4), -PK_EBADHANDLE);
	assert_int_equal(kernel_proc_destroy(fp->k, q), 0);
	assert_int_equal(kernel_proc_endpoints(fp->k, q, info, 4), -PK_EBADHANDLE);
}

/* A kernel with some of everything, for the audit to walk. Not stopped through
 * fake_port_stop: after the damage, its teardown audit would rightly fail. */
static struct fake_port *busy_kernel(void)
{
	struct fake_port *fp = NULL;
	assert_int_equal(fake_port_setup((void **)&fp), 0);
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_proc_t q = fake_port_proc(fp, PK_RIGHT_ROUTER);
	pk_endpoint_t member = fake_port_endpoint(fp, p, 1);
	pk_endpoint_t uplink = fake_port_endpoint(fp, q, 2);
	assert_int_equal(fake_port_call(fp, q, PK_KC_route_set_default, uplink, 0, 0, NULL), 0);
	fake_port_frame(fp, p);
	fake_port_frame(fp, p);
	assert_int_equal(fake_port_send(fp, p, 1, 2, 0, NULL), 0);
	assert_int_equal(fake_port_send(fp, p, 1, 2, 0, NULL), 0);
	/* A tick p holds a share of, and a multicast packet waiting for p in a group. */
	assert_int_equal(fake_port_call(fp, p, PK_KC_tick_subscribe, member, 0, 0, NULL), 0);
	assert_int_equal(kernel_clock_tick(fp->k, 1), 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv, member, 0, 0, &r), 0);
	uint8_t group[16], source[16];
	fake_port_multicast_address(0x02, 9, group);
	fake_port_address(fp, 2, source);
	assert_int_equal(fake_port_join(fp, p, member, group), 0);
	pk_frame_t f = fake_port_frame(fp, q);
	uint32_t length = fake_port_write_packet(fp, f, source, group, 0);
	assert_int_equal(fake_port_call(fp, q, PK_KC_send, f, length, 0, NULL), 0);
	fake_port_assert_audit(fp);
	return fp;
}

static void expect_audit_failure(struct fake_port *fp, const char *why_contains)
{
	const char *why = NULL;
	assert_int_equal(kernel_audit(fp->k, &why), -1);
	assert_non_null(why);
	if (!strstr(why, why_contains))
		fail_msg("audit said \"%s\", expected it to mention \"%s\"", why, why_contains);
	free(fp->arena);
	free(fp->frame_memory);
	free(fp);
}

static void test_audit_catches_a_leaked_frame(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	frame_list_pop_head(&fp->k->frames, &fp->k->frames.free);
	expect_audit_failure(fp, "leaked");
}

static void test_audit_catches_a_wrong_count(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->frames.queued++;
	expect_audit_failure(fp, "queued-frame count");
}

static void test_audit_catches_a_frame_in_the_wrong_state(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	struct proc *p = &fp->k->procs.procs[0];
	fp->k->frames.frames[p->owned.head].state = FRAME_QUEUED;
	expect_audit_failure(fp, "state does not name");
}

static void test_audit_catches_a_live_frame_on_the_free_list(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	struct proc *p = &fp->k->procs.procs[0];
	uint32_t f = fp->k->frames.free.head;
	fp->k->frames.frames[f].state = FRAME_OWNED;
	fp->k->frames.frames[f].holder = 0;
	fp->k->frames.frames[f].holder_gen = p->gen;
	expect_audit_failure(fp, "free list holds a frame that is not free");
}

static void test_audit_catches_a_broken_back_link(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	struct endpoint *e = &fp->k->endpoints.endpoints[fp->k->kan.default_route];
	fp->k->frames.frames[e->queue.tail].prev = KNIL;
	expect_audit_failure(fp, "back link");
}

static void test_audit_catches_an_endpoint_missing_from_the_hash(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->endpoints.endpoints[fp->k->kan.default_route].iid ^= 0x100;
	expect_audit_failure(fp, "not found by its address");
}

static void test_audit_catches_a_quota_overrun(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->procs.procs[0].quota = 0;
	expect_audit_failure(fp, "quota");
}

static void test_audit_catches_a_route_to_a_non_router(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	struct endpoint *e = &fp->k->endpoints.endpoints[fp->k->kan.default_route];
	fp->k->procs.procs[e->proc].rights = 0;
	expect_audit_failure(fp, "default route");
}

static void test_audit_catches_a_wrong_reference_count(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->frames.frames[fp->k->groups.groups[GROUP_CLOCK_INDEX].ring[0]].refs++;
	expect_audit_failure(fp, "reference count");
}

static void test_audit_catches_a_ring_slot_naming_a_free_frame(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->groups.groups[GROUP_CLOCK_INDEX].ring[0] = fp->k->frames.free.head;
	expect_audit_failure(fp, "not shared");
}

static void test_audit_catches_a_wrong_held_count(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->procs.procs[0].held++;
	expect_audit_failure(fp, "held shares");
}

static void test_audit_catches_a_wrong_membership_count(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	fp->k->groups.memberships++;
	expect_audit_failure(fp, "membership counts");
}

static void test_audit_catches_a_member_reading_past_the_head(void **state)
{
	(void)state;
	struct fake_port *fp = busy_kernel();
	struct endpoint *e = &fp->k->endpoints.endpoints[fp->k->procs.procs[0].endpoints_head];
	fp->k->groups.members[e->members_tail].next += 5;
	expect_audit_failure(fp, "past its group's head");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_default_config_is_valid_once_memory_is_given),
		cmocka_unit_test(test_kernel_rejects_bad_configs),
		cmocka_unit_test_setup_teardown(test_kernel_init_refuses_a_bad_arena_or_port,
						fake_port_setup, fake_port_teardown),
		cmocka_unit_test_setup_teardown(test_kernel_stats_add_up_to_the_pool,
						fake_port_setup, fake_port_teardown),
		cmocka_unit_test_setup_teardown(
			test_kernel_lists_a_process_endpoints_with_their_queues, fake_port_setup,
			fake_port_teardown),
		cmocka_unit_test(test_audit_catches_a_leaked_frame),
		cmocka_unit_test(test_audit_catches_a_wrong_count),
		cmocka_unit_test(test_audit_catches_a_frame_in_the_wrong_state),
		cmocka_unit_test(test_audit_catches_a_live_frame_on_the_free_list),
		cmocka_unit_test(test_audit_catches_a_broken_back_link),
		cmocka_unit_test(test_audit_catches_an_endpoint_missing_from_the_hash),
		cmocka_unit_test(test_audit_catches_a_quota_overrun),
		cmocka_unit_test(test_audit_catches_a_route_to_a_non_router),
		cmocka_unit_test(test_audit_catches_a_wrong_reference_count),
		cmocka_unit_test(test_audit_catches_a_ring_slot_naming_a_free_frame),
		cmocka_unit_test(test_audit_catches_a_wrong_held_count),
		cmocka_unit_test(test_audit_catches_a_wrong_membership_count),
		cmocka_unit_test(test_audit_catches_a_member_reading_past_the_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
