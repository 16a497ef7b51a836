/* endpoint_create and endpoint_destroy: chosen and kernel-chosen addresses, every limit,
 * and what destroying an endpoint does to the packets queued at it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "fake_port.h"

static void test_endpoint_create_binds_the_chosen_address(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0x42, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_ENDPOINT);
	assert_int_equal(r.ret[1], 0x42);

	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, p, &info), 0);
	assert_int_equal(info.endpoints, 1);
}

static void test_endpoint_kernel_chooses_a_free_address(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_proc_t q = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, q, 0x10001); /* in the kernel's range: must be skipped */

	struct pk_kresult a, b;
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0, 0, 0, &a), 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0, 0, 0, &b), 0);
	assert_int_equal(a.ret[1], 0x10000);
	assert_int_equal(b.ret[1], 0x10002);
}

static void test_endpoint_kernel_gives_up_after_a_run_of_taken_addresses(void **state)
{
	struct fake_port *fp = *state;
	/* Eight taken IDs in a row where the kernel would look: it stops looking. */
	for (uint64_t iid = 0x10000; iid < 0x10008; iid++) {
		if (iid % 4 == 0)
			fake_port_proc(fp, 0);
		fake_port_endpoint(fp, fp->procs[fp->nprocs - 1], iid);
	}
	pk_proc_t p = fake_port_proc(fp, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0, 0, 0, &r), -PK_EADDRINUSE);
	/* It resumes where it stopped, so the next attempt finds a free one. */
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0, 0, 0, &r), 0);
	assert_int_equal(r.ret[1], 0x10008);
	assert_int_equal(fp->faults, 0);
}

static void test_endpoint_address_in_use_is_refused(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_proc_t q = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, p, 7);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 7, 0, 0, NULL),
			 -PK_EADDRINUSE);
	assert_int_equal(fake_port_call(fp, q, PK_KC_endpoint_create, 7, 0, 0, NULL),
			 -PK_EADDRINUSE);
	assert_int_equal(fp->faults, 0);
}

static void test_endpoint_reserved_anycast_addresses_are_refused(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	const uint64_t reserved[] = {0xfdffffffffffff80ull, 0xfdffffffffffffffull, UINT64_MAX};
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		assert_int_equal(
			fake_port_call(fp, p, PK_KC_endpoint_create, reserved[i], 0, 0, NULL),
			-PK_EINVAL);
	fake_port_endpoint(fp, p, 0xfdffffffffffff7full); /* the last ordinary one */
}

static void test_endpoint_per_process_limit(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	for (uint32_t i = 0; i < fp->cfg.endpoints_per_proc; i++)
		fake_port_endpoint(fp, p, 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 0, 0, 0, NULL), -PK_ELIMIT);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_create, 99, 0, 0, NULL), -PK_ELIMIT);
}

static void test_endpoint_table_full_is_reported(void **state)
{
	(void)state;
	struct fake_port fp;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.max_endpoints = 5;
	assert_int_equal(fake_port_start(&fp, &cfg), 0);
	pk_proc_t p = fake_port_proc(&fp, 0);
	pk_proc_t q = fake_port_proc(&fp, 0);
	for (int i = 0; i < 4; i++)
		fake_port_endpoint(&fp, p, 0);
	fake_port_endpoint(&fp, q, 0);
	assert_int_equal(fake_port_call(&fp, q, PK_KC_endpoint_create, 0, 0, 0, NULL), -PK_ENOSPC);
	fake_port_stop(&fp);
}

static void test_endpoint_destroy_frees_queued_packets_and_the_address(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t sender = fake_port_proc(fp, 0);
	pk_proc_t receiver = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, sender, 1);
	pk_endpoint_t inbox = fake_port_endpoint(fp, receiver, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fake_port_send(fp, sender, 1, 2, 16, NULL), 0);

	assert_int_equal(fake_port_call(fp, receiver, PK_KC_endpoint_destroy, inbox, 0, 0, NULL),
			 0);
	fake_port_assert_audit(fp);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.frames_queued, 0);
	assert_int_equal(st.frames_free, st.frames_total);

	pk_frame_t kept = 0;
	assert_int_equal(fake_port_send(fp, sender, 1, 2, 0, &kept), -PK_EHOSTUNREACH);
	assert_int_equal(fake_port_call(fp, sender, PK_KC_frame_free, kept, 0, 0, NULL), 0);

	/* The address can be bound again, by anyone, as a new endpoint. */
	pk_endpoint_t again = fake_port_endpoint(fp, sender, 2);
	assert_int_not_equal(again, inbox);
	assert_int_equal(fp->faults, 0);
}

static void test_endpoint_destroy_twice_faults(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, p, 5);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_destroy, e, 0, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_destroy, e, 0, 0, NULL),
			 -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_kcall, PK_KC_endpoint_destroy);
}

static void test_endpoint_destroy_of_anothers_faults_and_keeps_it(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t owner = fake_port_proc(fp, 0);
	pk_proc_t vandal = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, owner, 5);
	assert_int_equal(fake_port_call(fp, vandal, PK_KC_endpoint_destroy, e, 0, 0, NULL),
			 -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, vandal);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, owner, PK_KC_recv, e, 0, 0, &r), -PK_EWOULDBLOCK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_endpoint_create_binds_the_chosen_address),
		T(test_endpoint_kernel_chooses_a_free_address),
		T(test_endpoint_kernel_gives_up_after_a_run_of_taken_addresses),
		T(test_endpoint_address_in_use_is_refused),
		T(test_endpoint_reserved_anycast_addresses_are_refused),
		T(test_endpoint_per_process_limit),
		cmocka_unit_test(test_endpoint_table_full_is_reported),
		T(test_endpoint_destroy_frees_queued_packets_and_the_address),
		T(test_endpoint_destroy_twice_faults),
		T(test_endpoint_destroy_of_anothers_faults_and_keeps_it),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
