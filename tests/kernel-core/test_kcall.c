/* Kernel-call dispatch: how requests are checked before any call runs, which failures are
 * errors and which are faults, and the names and counters built from the call table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

static void test_kcall_unknown_numbers_are_enosys_not_faults(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	const unsigned numbers[] = {0, PK_KC_END, PK_KC_END + 1, 0x7fffffff, UINT32_MAX};
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		assert_int_equal(fake_port_call(fp, p, numbers[i], 0, 0, 0, NULL), -PK_ENOSYS);
	assert_int_equal(fp->faults, 0);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.errors[PK_ENOSYS], sizeof numbers / sizeof numbers[0]);
}

static void test_kcall_reserved_flags_and_unused_arguments_must_be_zero(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	struct pk_kcall call = {.nr = PK_KC_frame_alloc, .flags = 1};
	struct pk_kresult r;
	assert_int_equal(kernel_call(fp->k, p, &call, &r), -PK_EINVAL);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_alloc, 1, 0, 0, NULL), -PK_EINVAL);
	assert_int_equal(fake_port_call(fp, p, PK_KC_kan_prefix, 0, 0, 9, NULL), -PK_EINVAL);
	pk_frame_t f = fake_port_frame(fp, p);
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 1, 0, NULL), -PK_EINVAL);
	assert_int_equal(fp->faults, 0);
	/* Nothing ran: the frame is still there to free. */
	assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, f, 0, 0, NULL), 0);
}

static void test_kcall_results_are_zero_on_failure(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, p, 0);
	struct pk_kresult r;
	memset(&r, 0xff, sizeof r);
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv, e, 0, 0, &r), -PK_EWOULDBLOCK);
	assert_int_equal(r.status, -PK_EWOULDBLOCK);
	assert_int_equal(r.ret[0], 0);
	assert_int_equal(r.ret[1], 0);
}

static void test_kcall_kan_prefix_reports_the_configured_prefix(void **state)
{
	(void)state;
	struct fake_port fp;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	const uint8_t prefix[8] = {0xfd, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
	memcpy(cfg.kan_prefix, prefix, sizeof prefix);
	assert_int_equal(fake_port_start(&fp, &cfg), 0);
	pk_proc_t p = fake_port_proc(&fp, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(&fp, p, PK_KC_kan_prefix, 0, 0, 0, &r), 0);
	assert_int_equal(r.ret[0], 0xfd123456789abcdeull);
	fake_port_stop(&fp);
}

static void test_kcall_default_prefix_is_a_ula(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, p, PK_KC_kan_prefix, 0, 0, 0, &r), 0);
	assert_int_equal(r.ret[0] >> 56, 0xfd);
}

static void test_kcall_bad_handle_faults_but_would_block_does_not(void **state)
{
	struct fake_port *fp = *state;
	/* The error list marks EWOULDBLOCK RETURN and EBADHANDLE FAULT; the other errors are
	 * driven, and their disposition checked, in the tests of the calls that produce them. */
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, p, 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv, e, 0, 0, NULL), -PK_EWOULDBLOCK);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv, e + 1, 0, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(kernel_proc_info(fp->k, p, &(struct kernel_proc_info){0}), -PK_EBADHANDLE);
}

static void test_kcall_counts_calls_by_number(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	fake_port_frame(fp, p);
	fake_port_frame(fp, p);
	fake_port_call(fp, p, PK_KC_kan_prefix, 0, 0, 0, NULL);
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	assert_int_equal(st.calls[PK_KC_frame_alloc], 2);
	assert_int_equal(st.calls[PK_KC_kan_prefix], 1);
	assert_int_equal(st.calls[PK_KC_send], 0);
}

static void test_kcall_names_come_from_the_tables(void **state)
{
	(void)state;
#define CHECK_CALL(num, name, a0, a1, a2) assert_string_equal(kernel_call_name(num), #name);
	PK_KCALL_LIST(CHECK_CALL)
#undef CHECK_CALL
#define CHECK_ERROR(num, name, msg, disposition)                   \
	assert_string_equal(kernel_error_name(-PK_##name), #name); \
	assert_string_equal(kernel_error_name(PK_##name), #name);
	PK_ERROR_LIST(CHECK_ERROR)
#undef CHECK_ERROR
	assert_string_equal(kernel_call_name(0), "?");
	assert_string_equal(kernel_call_name(PK_KC_END), "?");
	assert_string_equal(kernel_error_name(0), "?");
	assert_string_equal(kernel_error_name(-PK_ERROR_END), "?");
	assert_string_equal(kernel_error_name(-100000), "?");
	assert_string_equal(kernel_error_name(INT32_MIN), "?");
	assert_string_equal(kernel_error_name(INT32_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_kcall_unknown_numbers_are_enosys_not_faults),
		T(test_kcall_reserved_flags_and_unused_arguments_must_be_zero),
		T(test_kcall_results_are_zero_on_failure),
		cmocka_unit_test(test_kcall_kan_prefix_reports_the_configured_prefix),
		T(test_kcall_default_prefix_is_a_ula),
		T(test_kcall_bad_handle_faults_but_would_block_does_not),
		T(test_kcall_counts_calls_by_number),
		cmocka_unit_test(test_kcall_names_come_from_the_tables),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
