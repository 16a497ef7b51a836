/* frame_alloc and frame_free: success, every error, and what each does to the frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fake_port.h"

static void test_frame_alloc_gives_a_zeroed_owned_frame(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);

	pk_frame_t f = fake_port_frame(fp, p);
	assert_int_equal(PK_HANDLE_KIND(f), PK_HANDLE_FRAME);
	const uint8_t *bytes = fake_port_frame_bytes(fp, f);
	for (unsigned i = 0; i < PK_FRAME_SIZE; i++)
		assert_int_equal(bytes[i], 0);
	assert_int_equal(fp->grants, 1);

	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, p, &info), 0);
	assert_int_equal(info.frames_owned, 1);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_owned, 1);
	assert_int_equal(st.frames_free, st.frames_total - 1);
}

static void test_frame_free_returns_it_to_the_pool(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_frame_t f = fake_port_frame(fp, p);

	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 0, 0, NULL), 0);
	assert_int_equal(fp->revokes, 1);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_free, st.frames_total);
	assert_int_equal(fp->faults, 0);
}

static void test_frame_double_free_faults_the_process(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_frame_t f = fake_port_frame(fp, p);
	fake_port_frame(fp, p); /* a second frame, reclaimed by the fault */

	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 0, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_proc, p);
	assert_int_equal(fp->last_fault_kcall, PK_KC_frame_free);
	assert_int_equal(fp->last_fault_error, -PK_EBADHANDLE);

	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, p, &info), -PK_EBADHANDLE);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_free, st.frames_total);
	assert_int_equal(st.faults, 1);
}

static void test_frame_free_of_anothers_frame_faults_only_the_caller(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t owner = fake_port_proc(fp, 0);
	pk_proc_t thief = fake_port_proc(fp, 0);
	pk_frame_t f = fake_port_frame(fp, owner);

	assert_int_equal(fake_port_call(fp, thief, PK_KC_frame_free, f, 0, 0, NULL), -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_proc, thief);

	/* The owner still has the frame and can use it. */
	assert_int_equal(fake_port_call(fp, owner, PK_KC_frame_free, f, 0, 0, NULL), 0);
}

static void test_frame_handles_of_other_kinds_or_garbage_fault(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_frame_t f = fake_port_frame(fp, p);
	const uint64_t bad[] = {
		0,
		PK_HANDLE_MAKE(PK_HANDLE_ENDPOINT, PK_HANDLE_GEN(f), PK_HANDLE_INDEX(f)),
		PK_HANDLE_MAKE(PK_HANDLE_FRAME, PK_HANDLE_GEN(f) + 1, PK_HANDLE_INDEX(f)),
		PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, 64), /* one past the pool */
		UINT64_MAX,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pk_proc_t q = fake_port_proc(fp, 0);
		assert_int_equal(fake_port_call(fp, q, PK_KC_frame_free, bad[i], 0, 0, NULL),
				 -PK_EBADHANDLE);
		assert_int_equal(fp->last_fault_proc, q);
		assert_int_equal(kernel_proc_destroy(fp->k, q), -PK_EBADHANDLE);
	}
	assert_int_equal(fp->faults, sizeof bad / sizeof bad[0]);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 0, 0, NULL), 0);
}

static void test_frame_alloc_stops_at_the_quota(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	for (uint32_t i = 0; i < fp->cfg.default_quota; i++)
		fake_port_frame(fp, p);

	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_alloc, 0, 0, 0, &r), -PK_EQUOTA);
	assert_int_equal(r.ret[0], 0);
	assert_int_equal(fp->faults, 0);
}

static void test_frame_alloc_reports_an_empty_pool(void **state)
{
	struct fake_port *fp = *state;
	/* 64 frames, quota 16: four processes drain the pool, a fifth finds it empty. */
	for (int i = 0; i < 4; i++) {
		pk_proc_t p = fake_port_proc(fp, 0);
		for (uint32_t j = 0; j < fp->cfg.default_quota; j++)
			fake_port_frame(fp, p);
	}
	pk_proc_t late = fake_port_proc(fp, 0);
	assert_int_equal(fake_port_call(fp, late, PK_KC_frame_alloc, 0, 0, 0, NULL), -PK_ENOMEM);
	assert_int_equal(fp->faults, 0);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_free, 0);
	assert_int_equal(st.errors[PK_ENOMEM], 1);
}

static void test_frame_alloc_undone_when_the_port_cannot_map(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	fp->fail_next_grant = -PK_ENOMEM;
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_alloc, 0, 0, 0, NULL), -PK_ENOMEM);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_frame(fp, p);
}

static void test_frame_handle_changes_with_every_owner(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_frame_t first = fake_port_frame(fp, p);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, first, 0, 0, NULL), 0);
	pk_frame_t second = fake_port_frame(fp, p);

	/* Freed frames are reused first, so the same frame comes back under a new handle. */
	assert_int_equal(PK_FRAME_NUMBER(second), PK_FRAME_NUMBER(first));
	assert_int_not_equal(second, first);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, first, 0, 0, NULL),
			 -PK_EBADHANDLE);
}

/* The IOMMU check a port's devices make: only frames the driver owns now, and no faults
 * (the device, not the driver, asked). */
static void test_frame_of_names_only_frames_the_process_owns(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t driver = fake_port_proc(fp, PK_RIGHT_DRIVER);
	pk_proc_t other = fake_port_proc(fp, 0);
	pk_frame_t mine = fake_port_frame(fp, driver);
	pk_frame_t theirs = fake_port_frame(fp, other);
	uint32_t number = UINT32_MAX;

	assert_int_equal(kernel_frame_of(fp->k, driver, mine, &number), 0);
	assert_int_equal(number, PK_FRAME_NUMBER(mine));
	assert_int_equal(kernel_frame_of(fp->k, driver, theirs, &number), -PK_ENOTOWNER);
	assert_int_equal(kernel_frame_of(fp->k, driver, 0, &number), -PK_EBADHANDLE);
	assert_int_equal(kernel_frame_of(fp->k, driver, mine ^ (1ull << 40), &number),
			 -PK_EBADHANDLE);
	assert_int_equal(kernel_frame_of(fp->k, driver,
					 PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, 1u << 30), &number),
			 -PK_EBADHANDLE);

	/* Freed, the frame is no longer the driver's, even if it comes straight back. */
	assert_int_equal(fake_port_call(fp, driver, PK_KC_frame_free, mine, 0, 0, NULL), 0);
	assert_int_equal(kernel_frame_of(fp->k, driver, mine, &number), -PK_EBADHANDLE);
	pk_frame_t again = fake_port_frame(fp, driver);
	assert_int_equal(kernel_frame_of(fp->k, driver, mine, &number), -PK_EBADHANDLE);
	assert_int_equal(kernel_frame_of(fp->k, driver, again, &number), 0);

	/* A process that is gone owns nothing. */
	assert_int_equal(kernel_proc_destroy(fp->k, driver), 0);
	assert_int_equal(kernel_frame_of(fp->k, driver, again, &number), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_frame_alloc_gives_a_zeroed_owned_frame),
		T(test_frame_free_returns_it_to_the_pool),
		T(test_frame_double_free_faults_the_process),
		T(test_frame_free_of_anothers_frame_faults_only_the_caller),
		T(test_frame_handles_of_other_kinds_or_garbage_fault),
		T(test_frame_alloc_stops_at_the_quota),
		T(test_frame_alloc_reports_an_empty_pool),
		T(test_frame_alloc_undone_when_the_port_cannot_map),
		T(test_frame_handle_changes_with_every_owner),
		T(test_frame_of_names_only_frames_the_process_owns),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
