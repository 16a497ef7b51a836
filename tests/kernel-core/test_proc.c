/* Processes: creation, limits, and teardown that reclaims frames, endpoints and queues at
 * once while packets already sent to others stay deliverable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

static void test_proc_create_sets_rights_and_quota(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t router = 0, small = 0;
	assert_int_equal(kernel_proc_create(fp->k, PK_RIGHT_ROUTER, 0, &router), 0);
	assert_int_equal(kernel_proc_create(fp->k, 0, 3, &small), 0);
	assert_int_equal(PK_HANDLE_KIND(router), PK_HANDLE_PROC);
	assert_int_not_equal(router, small);

	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, router, &info), 0);
	assert_int_equal(info.rights, PK_RIGHT_ROUTER);
	assert_int_equal(info.quota, fp->cfg.default_quota);
	assert_int_equal(kernel_proc_info(fp->k, small, &info), 0);
	assert_int_equal(info.rights, 0);
	assert_int_equal(info.quota, 3);
	assert_int_equal(info.frames_owned, 0);
	assert_int_equal(info.endpoints, 0);

	assert_int_equal(kernel_proc_destroy(fp->k, router), 0);
	assert_int_equal(kernel_proc_destroy(fp->k, small), 0);
}

static void test_proc_table_full_is_reported(void **state)
{
	struct fake_port *fp = *state;
	for (uint32_t i = 0; i < fp->cfg.max_procs; i++)
		fake_port_proc(fp, 0);
	pk_proc_t extra = 0;
	assert_int_equal(kernel_proc_create(fp->k, 0, 0, &extra), -PK_ENOSPC);
	assert_int_equal(extra, 0);

	/* A freed slot is usable again, under a handle that differs from the old one. */
	pk_proc_t old = fp->procs[0];
	assert_int_equal(kernel_proc_destroy(fp->k, old), 0);
	pk_proc_t reused = fake_port_proc(fp, 0);
	assert_int_equal(PK_HANDLE_INDEX(reused), PK_HANDLE_INDEX(old));
	assert_int_not_equal(reused, old);
}

static void test_proc_destroy_twice_is_a_stale_handle(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	assert_int_equal(kernel_proc_destroy(fp->k, p), 0);
	assert_int_equal(kernel_proc_destroy(fp->k, p), -PK_EBADHANDLE);
	assert_int_equal(kernel_proc_destroy(fp->k, 0), -PK_EBADHANDLE);
	assert_int_equal(kernel_proc_destroy(fp->k, PK_HANDLE_MAKE(PK_HANDLE_PROC, 1, 1000)),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 0);
}

static void test_proc_stale_caller_gets_an_error_and_faults_nobody(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	assert_int_equal(kernel_proc_destroy(fp->k, p), 0);
	struct pk_kresult r = {.status = 99, .ret = {7, 7}};
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_alloc, 0, 0, 0, &r), -PK_EBADHANDLE);
	assert_int_equal(r.status, -PK_EBADHANDLE);
	assert_int_equal(r.ret[0], 0);
	assert_int_equal(fp->faults, 0);
}

static void test_proc_destroy_reclaims_frames_endpoints_and_queues(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t victim = fake_port_proc(fp, 0);
	pk_proc_t sender = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, victim, 1);
	fake_port_endpoint(fp, victim, 2);
	fake_port_endpoint(fp, sender, 3);
	for (int i = 0; i < 5; i++)
		fake_port_frame(fp, victim);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fake_port_send(fp, sender, 3, 1 + i % 2, 10, NULL), 0);

	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_owned, 5);
	assert_int_equal(st.frames_queued, 4);
	assert_int_equal(st.endpoints, 3);

	assert_int_equal(kernel_proc_destroy(fp->k, victim), 0);
	fake_port_assert_audit(fp);
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_owned, 0);
	assert_int_equal(st.frames_queued, 0);
	assert_int_equal(st.frames_free, st.frames_total);
	assert_int_equal(st.endpoints, 1);
	assert_int_equal(st.procs, 1);

	/* Its addresses are gone: senders are told, and their frames stay theirs. */
	pk_frame_t kept = 0;
	assert_int_equal(fake_port_send(fp, sender, 3, 1, 0, &kept), -PK_EHOSTUNREACH);
	assert_int_equal(fake_port_call(fp, sender, PK_KC_frame_free, kept, 0, 0, NULL), 0);
	assert_int_equal(fp->faults, 0);
}

static void test_proc_destroyed_sender_packets_stay_deliverable(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t sender = fake_port_proc(fp, 0);
	pk_proc_t receiver = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, sender, 10);
	pk_endpoint_t inbox = fake_port_endpoint(fp, receiver, 20);
	assert_int_equal(fake_port_send(fp, sender, 10, 20, 100, NULL), 0);
	assert_int_equal(fake_port_send(fp, sender, 10, 20, 200, NULL), 0);
	fake_port_frame(fp, sender);

	assert_int_equal(kernel_proc_destroy(fp->k, sender), 0);
	fake_port_assert_audit(fp);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, receiver, PK_KC_recv, inbox, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], 140);
	assert_int_equal(fake_port_call(fp, receiver, PK_KC_recv, inbox, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], 240);
	assert_int_equal(fake_port_call(fp, receiver, PK_KC_recv, inbox, 0, 0, &r),
			 -PK_EWOULDBLOCK);

	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, receiver, &info), 0);
	assert_int_equal(info.frames_owned, 2);
}

static void test_proc_reclaimed_frames_are_handed_out_clean(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t first = fake_port_proc(fp, 0);
	pk_frame_t f = fake_port_frame(fp, first);
	memset(fake_port_frame_bytes(fp, f), 0x5a, PK_FRAME_SIZE);
	assert_int_equal(kernel_proc_destroy(fp->k, first), 0);

	/* Drain the pool, so the dead process's frame is handed out again somewhere. */
	pk_proc_t heirs[4];
	int found = 0;
	for (int i = 0; i < 4; i++) {
		heirs[i] = fake_port_proc(fp, 0);
		for (uint32_t j = 0; j < fp->cfg.default_quota; j++) {
			pk_frame_t g = fake_port_frame(fp, heirs[i]);
			if (PK_FRAME_NUMBER(g) != PK_FRAME_NUMBER(f))
				continue;
			found = 1;
			assert_int_not_equal(g, f);
			const uint8_t *bytes = fake_port_frame_bytes(fp, g);
			for (unsigned b = 0; b < PK_FRAME_SIZE; b++)
				assert_int_equal(bytes[b], 0);
		}
	}
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_proc_create_sets_rights_and_quota),
		T(test_proc_table_full_is_reported),
		T(test_proc_destroy_twice_is_a_stale_handle),
		T(test_proc_stale_caller_gets_an_error_and_faults_nobody),
		T(test_proc_destroy_reclaims_frames_endpoints_and_queues),
		T(test_proc_destroyed_sender_packets_stay_deliverable),
		T(test_proc_reclaimed_frames_are_handed_out_clean),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
