/* Contexts: creation and its limits, binding and unbinding endpoints and every error,
 * recv_any taking turns across endpoints and reporting the slot, its wake-up marks, several
 * contexts on one endpoint, stale bindings after an endpoint dies, other processes' handles
 * faulting, and teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

enum { IID_A = 0x10, IID_B = 0x11, IID_C = 0x12, IID_PEER = 0x20 };

static pk_handle_t create(struct fake_port *fp, pk_proc_t proc)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_context_create, 0, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_CONTEXT);
	return r.ret[0];
}

static uint64_t bind(struct fake_port *fp, pk_proc_t proc, pk_handle_t context,
		     pk_endpoint_t endpoint)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, proc, PK_KC_context_bind, context, endpoint, 0, &r), 0);
	return r.ret[0];
}

static int recv_any(struct fake_port *fp, pk_proc_t proc, pk_handle_t context, struct pk_kresult *r)
{
	return fake_port_call(fp, proc, PK_KC_recv_any, context, 0, 0, r);
}

static struct kernel_stats stats(struct fake_port *fp)
{
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	return st;
}

static void test_context_create_and_destroy(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_handle_t c = create(fp, p);
	assert_int_equal(stats(fp).contexts, 1);
	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fp->k, p, &info), 0);
	assert_int_equal(info.contexts, 1);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_destroy, c, 0, 0, NULL), 0);
	assert_int_equal(stats(fp).contexts, 0);
	fake_port_assert_audit(fp);
	/* The handle is stale now: using it is a fault. */
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv_any, c, 0, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 1);
}

static void test_context_limits(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), q = fake_port_proc(fp, 0);
	for (unsigned i = 0; i < fp->cfg.contexts_per_proc; i++)
		create(fp, p);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_create, 0, 0, 0, NULL), -PK_ELIMIT);
	/* The table (6) runs out before the second process's limit (4). */
	create(fp, q);
	create(fp, q);
	assert_int_equal(fake_port_call(fp, q, PK_KC_context_create, 0, 0, 0, NULL), -PK_ENOSPC);
	assert_int_equal(fp->faults, 0);
	fake_port_assert_audit(fp);
	/* Death gives them all back. */
	assert_int_equal(kernel_proc_destroy(fp->k, p), 0);
	assert_int_equal(stats(fp).contexts, 2);
	create(fp, q);
	fake_port_assert_audit(fp);
}

static void test_context_bind_errors(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_handle_t c = create(fp, p);
	pk_endpoint_t a = fake_port_endpoint(fp, p, IID_A);
	pk_endpoint_t b = fake_port_endpoint(fp, p, IID_B);
	assert_int_equal(bind(fp, p, c, a), 0);
	assert_int_equal(bind(fp, p, c, b), 1);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_bind, c, a, 0, NULL), -PK_EALREADY);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_unbind, c, a, 0, NULL), 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_unbind, c, a, 0, NULL),
			 -PK_ENOTMEMBER);
	/* The freed slot is reused. */
	assert_int_equal(bind(fp, p, c, a), 0);
	assert_int_equal(fp->faults, 0);
	fake_port_assert_audit(fp);
}

static void test_context_binds_at_most_eight(void **state)
{
	struct fake_port *fp = *state;
	fake_port_stop(fp);
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.endpoints_per_proc = PK_CONTEXT_BINDINGS + 1;
	cfg.max_endpoints = 2 * cfg.endpoints_per_proc;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_handle_t c = create(fp, p);
	for (unsigned i = 0; i < PK_CONTEXT_BINDINGS; i++)
		assert_int_equal(bind(fp, p, c, fake_port_endpoint(fp, p, IID_A + i)), i);
	pk_endpoint_t extra = fake_port_endpoint(fp, p, IID_A + PK_CONTEXT_BINDINGS);
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_bind, c, extra, 0, NULL), -PK_ELIMIT);
	fake_port_assert_audit(fp);
}

static void test_context_recv_any_takes_turns_and_names_the_slot(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, IID_PEER);
	pk_handle_t c = create(fp, p);
	struct pk_kresult r;
	assert_int_equal(recv_any(fp, p, c, &r), -PK_EINVAL); /* nothing bound */
	pk_endpoint_t a = fake_port_endpoint(fp, p, IID_A);
	pk_endpoint_t b = fake_port_endpoint(fp, p, IID_B);
	assert_int_equal(bind(fp, p, c, a), 0);
	assert_int_equal(bind(fp, p, c, b), 1);
	/* Two packets at each: a, b, a, b, whatever order they came in. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 10, NULL), 0);
		assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 10, NULL), 0);
	}
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_B, 20, NULL), 0);
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_B, 20, NULL), 0);
	static const unsigned slots[] = {0, 1, 0, 1, 0, 0};
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(recv_any(fp, p, c, &r), 0);
		assert_int_equal(PK_RECV_BINDING(r.ret[1]), slots[i]);
		assert_int_equal(PK_RECV_LENGTH(r.ret[1]),
				 PK_IPV6_HEADER_SIZE + (slots[i] ? 20 : 10));
		assert_int_equal(PK_RECV_LOST(r.ret[1]), 0);
		assert_int_equal(fake_port_call(fp, p, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	}
	assert_int_equal(recv_any(fp, p, c, &r), -PK_EWOULDBLOCK);
	fake_port_assert_audit(fp);
}

static void test_context_recv_any_marks_every_endpoint(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, IID_PEER);
	pk_handle_t c = create(fp, p);
	pk_endpoint_t a = fake_port_endpoint(fp, p, IID_A);
	pk_endpoint_t b = fake_port_endpoint(fp, p, IID_B);
	bind(fp, p, c, a);
	bind(fp, p, c, b);
	assert_int_equal(recv_any(fp, p, c, NULL), -PK_EWOULDBLOCK);
	unsigned before = fp->wakes;
	/* A packet at the second endpoint wakes the process, naming that endpoint. */
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_B, 1, NULL), 0);
	assert_int_equal(fp->wakes, before + 1);
	assert_int_equal(fp->last_wake_proc, p);
	assert_int_equal(fp->last_wake_endpoint, b);
	/* And at the first, too: it was marked in the same call. */
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 1, NULL), 0);
	assert_int_equal(fp->wakes, before + 2);
	assert_int_equal(fp->last_wake_endpoint, a);
	fake_port_assert_audit(fp);
}

static void test_context_endpoint_bound_during_a_wait_wakes_it(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, IID_PEER);
	pk_handle_t c = create(fp, p);
	bind(fp, p, c, fake_port_endpoint(fp, p, IID_A));
	assert_int_equal(recv_any(fp, p, c, NULL), -PK_EWOULDBLOCK);
	/* Another thread binds a second endpoint while the first waits: its first packet
	 * must wake the process, though no recv_any has looked at it yet. */
	pk_endpoint_t b = fake_port_endpoint(fp, p, IID_B);
	bind(fp, p, c, b);
	unsigned before = fp->wakes;
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_B, 1, NULL), 0);
	assert_int_equal(fp->wakes, before + 1);
	assert_int_equal(fp->last_wake_endpoint, b);
	struct pk_kresult r;
	assert_int_equal(recv_any(fp, p, c, &r), 0);
	assert_int_equal(PK_RECV_BINDING(r.ret[1]), 1);
	fake_port_assert_audit(fp);
}

static void test_context_several_contexts_share_an_endpoint(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), peer = fake_port_proc(fp, 0);
	fake_port_endpoint(fp, peer, IID_PEER);
	pk_endpoint_t a = fake_port_endpoint(fp, p, IID_A);
	pk_handle_t c1 = create(fp, p), c2 = create(fp, p);
	bind(fp, p, c1, a);
	bind(fp, p, c2, a);
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 1, NULL), 0);
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 2, NULL), 0);
	struct pk_kresult r1, r2;
	assert_int_equal(recv_any(fp, p, c1, &r1), 0);
	assert_int_equal(recv_any(fp, p, c2, &r2), 0);
	/* Each got a different packet, and the endpoint is empty for both now. */
	assert_int_not_equal(PK_FRAME_NUMBER(r1.ret[0]), PK_FRAME_NUMBER(r2.ret[0]));
	assert_int_equal(recv_any(fp, p, c1, NULL), -PK_EWOULDBLOCK);
	assert_int_equal(recv_any(fp, p, c2, NULL), -PK_EWOULDBLOCK);
	/* Plain recv on a bound endpoint still works. */
	assert_int_equal(fake_port_send(fp, peer, IID_PEER, IID_A, 3, NULL), 0);
	assert_int_equal(fake_port_call(fp, p, PK_KC_recv, a, 0, 0, NULL), 0);
	fake_port_assert_audit(fp);
}

static void test_context_binding_goes_stale_with_its_endpoint(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0);
	pk_handle_t c = create(fp, p);
	pk_endpoint_t a = fake_port_endpoint(fp, p, IID_A);
	bind(fp, p, c, a);
	assert_int_equal(fake_port_call(fp, p, PK_KC_endpoint_destroy, a, 0, 0, NULL), 0);
	fake_port_assert_audit(fp);
	/* The slot is free again and nothing is bound. */
	assert_int_equal(recv_any(fp, p, c, NULL), -PK_EINVAL);
	pk_endpoint_t again = fake_port_endpoint(fp, p, IID_A);
	assert_int_equal(bind(fp, p, c, again), 0);
	fake_port_assert_audit(fp);
}

static void test_context_of_another_process_faults(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t p = fake_port_proc(fp, 0), q = fake_port_proc(fp, 0);
	pk_handle_t c = create(fp, p);
	pk_endpoint_t qa = fake_port_endpoint(fp, q, IID_B);
	/* p binding q's endpoint: a fault of p. */
	assert_int_equal(fake_port_call(fp, p, PK_KC_context_bind, c, qa, 0, NULL), -PK_ENOTOWNER);
	assert_int_equal(fp->faults, 1);
	assert_int_equal(fp->last_fault_proc, p);
	assert_int_equal(stats(fp).contexts, 0);
	/* q using p's context, gone with p: stale. */
	assert_int_equal(fake_port_call(fp, q, PK_KC_context_bind, c, qa, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 2);
	/* s using r's live context. */
	pk_proc_t r = fake_port_proc(fp, 0), s = fake_port_proc(fp, 0);
	pk_handle_t rc = create(fp, r);
	assert_int_equal(fake_port_call(fp, s, PK_KC_recv_any, rc, 0, 0, NULL), -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, s);
	/* A handle of another kind where a context belongs. */
	pk_endpoint_t re = fake_port_endpoint(fp, r, IID_C);
	assert_int_equal(fake_port_call(fp, r, PK_KC_recv_any, re, 0, 0, NULL), -PK_EBADHANDLE);
	assert_int_equal(fp->faults, 4);
	fake_port_assert_audit(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
		T(test_context_create_and_destroy),
		T(test_context_limits),
		T(test_context_bind_errors),
		T(test_context_binds_at_most_eight),
		T(test_context_recv_any_takes_turns_and_names_the_slot),
		T(test_context_recv_any_marks_every_endpoint),
		T(test_context_endpoint_bound_during_a_wait_wakes_it),
		T(test_context_several_contexts_share_an_endpoint),
		T(test_context_binding_goes_stale_with_its_endpoint),
		T(test_context_of_another_process_faults),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
