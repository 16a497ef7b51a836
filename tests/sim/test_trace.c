/* packosd's trace: the ring (off by default, records only while started, wraps and counts
 * what it overwrote), the steps made of its records (the seed's stages, derived from the
 * records), and packosctl's rendering of them. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/errors.h>
#include <packos/kcalls.h>
#include <packos/kmsg.h>
#include <packos/nic.h>
#include <packos/types.h>

#include "trace.h"
#include "trace_render.h"
#include "trace_steps.h"

static void test_trace_is_off_by_default(void **state)
{
	(void)state;
	struct trace t = {0};
	assert_null(trace_add(&t, 1, TRACE_DOORBELL));
	assert_int_equal(trace_count(&t), 0);
	assert_int_equal(trace_overwritten(&t), 0);
	trace_free(&t);
}

/* Adds `count` records, the i-th at time i and `i` in its packet's length; a slot reused
 * must come back clean, with nothing of the record it held before. */
static void fill(struct trace *t, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		struct trace_record *r = trace_add(t, i, TRACE_DEVICE_RX);
		assert_non_null(r);
		assert_int_equal(r->packet.length, 0);
		r->packet.length = (uint32_t)i;
	}
}

/* The trace holds `held` records, the first of them made at time `first`, oldest first,
 * and counts `overwritten` lost. */
static void expect_held(const struct trace *t, uint32_t held, uint64_t overwritten, uint64_t first)
{
	assert_int_equal(trace_count(t), held);
	assert_int_equal(trace_overwritten(t), overwritten);
	for (uint32_t i = 0; i < held; i++) {
		assert_int_equal(trace_at(t, i)->kind, TRACE_DEVICE_RX);
		assert_int_equal(trace_at(t, i)->time_ns, first + i);
		assert_int_equal(trace_at(t, i)->packet.length, first + i);
	}
}

static void test_trace_records_only_between_start_and_stop(void **state)
{
	(void)state;
	struct trace t = {0};
	assert_int_equal(trace_start(&t, 8), 0);
	fill(&t, 3);
	trace_stop(&t);
	assert_null(trace_add(&t, 200, TRACE_CALL_ANSWERED));
	/* Stopped, what was recorded stays to be read. */
	expect_held(&t, 3, 0, 0);
	trace_free(&t);
}

static void test_trace_wraps_and_counts_what_it_overwrote(void **state)
{
	(void)state;
	struct trace t = {0};
	assert_int_equal(trace_start(&t, 4), 0);
	fill(&t, 10);
	expect_held(&t, 4, 6, 6);
	trace_free(&t);
}

static void test_trace_start_clears_and_checks_its_size(void **state)
{
	(void)state;
	struct trace t = {0};
	assert_int_equal(trace_start(&t, 0), -EINVAL);
	assert_int_equal(trace_start(&t, TRACE_MAX_CAPACITY + 1), -EINVAL);
	assert_false(t.running);
	assert_int_equal(trace_start(&t, 2), 0);
	fill(&t, 5);
	trace_stop(&t);
	assert_int_equal(trace_start(&t, 2), 0);
	expect_held(&t, 0, 0, 0);
	assert_int_equal(trace_start(&t, 16), 0);
	assert_int_equal(t.capacity, 16);
	fill(&t, 16);
	expect_held(&t, 16, 0, 0);
	trace_free(&t);
}

/* ---- One ping, as packosd records it ------------------------------------------------------ */

enum { HOST = 2, ECHO = 7, DRIVER = 1 };

static void kan_address(uint64_t iid, uint8_t ret[16])
{
	static const uint8_t prefix[8] = PK_KAN_DEFAULT_PREFIX;
	memcpy(ret, prefix, 8);
	memset(ret + 8, 0, 8);
	ret[15] = (uint8_t)iid;
}

/* fd6b:616e:0:1::2, the host on the link. */
static void host_address(uint8_t ret[16])
{
	kan_address(HOST, ret);
	ret[7] = 1;
}

static struct trace_record *add(struct trace *t, uint64_t *clock, enum trace_kind kind,
				const char *process)
{
	struct trace_record *r = trace_add(t, *clock, kind);
	*clock += 1500;
	snprintf(r->process, sizeof r->process, "%s", process);
	r->pid = strcmp(process, "echo") == 0 ? 200 : 100;
	r->drives_nic = strcmp(process, "nic") == 0;
	return r;
}

static void set_packet(struct trace_record *r, uint32_t frame, bool inbound)
{
	r->packet.frame = frame;
	r->packet.length = 104;
	r->packet.is_ipv6 = true;
	host_address(inbound ? r->packet.source : r->packet.destination);
	kan_address(ECHO, inbound ? r->packet.destination : r->packet.source);
}

static void add_call(struct trace *t, uint64_t *clock, const char *process, uint32_t nr,
		     int32_t status, uint64_t arg0)
{
	struct trace_record *r = add(t, clock, TRACE_CALL_ANSWERED, process);
	r->call.nr = nr;
	r->call.status = status;
	r->call.arg[0] = arg0;
	if (nr == PK_KC_send)
		r->call.arg[1] = 104;
}

static void add_interrupt(struct trace *t, uint64_t *clock, uint32_t cause, uint64_t sequence)
{
	struct trace_record *r = add(t, clock, TRACE_IRQ_RAISED, "nic");
	r->irq.cause = cause;
	r = add(t, clock, TRACE_CALL_ANSWERED, "nic");
	r->call.nr = PK_KC_recv;
	r->packet.frame = 300;
	r->packet.length = 72;
	r->packet.kernel_message = PK_KMSG_IRQ;
	r->packet.irq_sequence = sequence;
	add_call(t, clock, "nic", PK_KC_recv, -PK_EWOULDBLOCK, 0);
}

static void add_queued(struct trace *t, uint64_t *clock, const char *sender, const char *owner,
		       uint64_t owner_iid, bool inbound)
{
	struct trace_record *r = add(t, clock, TRACE_QUEUED, sender);
	set_packet(r, 5, inbound);
	snprintf(r->queued.owner, sizeof r->queued.owner, "%s", owner);
	kan_address(owner_iid, r->queued.endpoint);
	add_call(t, clock, sender, PK_KC_send, 0, PK_HANDLE_MAKE(PK_HANDLE_FRAME, 3, 5));
}

/* The records of a ping from the host to echo, in the order packosd makes them. */
static void record_one_ping(struct trace *t)
{
	uint64_t clock = 1000000;
	assert_int_equal(trace_start(t, 64), 0);
	struct trace_record *r = add(t, &clock, TRACE_DEVICE_RX, "nic");
	set_packet(r, 5, true);
	r->device.descriptor = 5;
	add_interrupt(t, &clock, PK_NIC_CAUSE_RX, 9);
	add_queued(t, &clock, "nic", "echo", ECHO, true);
	add_call(t, &clock, "nic", PK_KC_irq_ack, 0, PK_HANDLE_MAKE(PK_HANDLE_IRQ, 1, 0));
	r = add(t, &clock, TRACE_CALL_WAITS, "nic");
	r->call.nr = PK_KC_recv;
	r = add(t, &clock, TRACE_CALL_ANSWERED, "echo");
	r->call.nr = PK_KC_recv;
	set_packet(r, 5, true);
	add_queued(t, &clock, "echo", "nic", DRIVER, false);
	r = add(t, &clock, TRACE_CALL_ANSWERED, "nic");
	r->call.nr = PK_KC_recv;
	set_packet(r, 5, false);
	r = add(t, &clock, TRACE_DOORBELL, "nic");
	r->doorbell.posted = 1;
	r = add(t, &clock, TRACE_DEVICE_TX, "nic");
	set_packet(r, 5, false);
	r->device.descriptor = 3;
	add_interrupt(t, &clock, PK_NIC_CAUSE_TX, 10);
	trace_stop(t);
}

static void parse_steps(const struct trace *t, struct ctl_response *ret)
{
	struct ctl_out o;
	ctl_out_init(&o);
	trace_steps_write(t, &o);
	ctl_end(&o);
	assert_false(o.failed);
	char err[256];
	if (ctl_response_parse(o.data, o.len, ret, err, sizeof err) < 0)
		fail_msg("the steps do not parse: %s\n%s", err, o.data);
	ctl_out_free(&o);
}

/* A fixture: the records of one ping and the steps packosd answers for them. */
struct one_ping {
	struct trace trace;
	struct ctl_response response;
};

static int setup_one_ping(void **state)
{
	struct one_ping *p = calloc(1, sizeof *p);
	assert_non_null(p);
	record_one_ping(&p->trace);
	parse_steps(&p->trace, &p->response);
	*state = p;
	return 0;
}

static int teardown_one_ping(void **state)
{
	struct one_ping *p = *state;
	ctl_response_free(&p->response);
	trace_free(&p->trace);
	free(p);
	return 0;
}

static const char *step_cell(const struct ctl_section *steps, size_t row, const char *column)
{
	for (size_t c = 0; c < steps->column_count; c++)
		if (strcmp(steps->columns[c].name, column) == 0)
			return steps->cells[row * steps->column_count + c];
	fail_msg("no column %s", column);
	return NULL;
}

/* Row `row` of the steps is in `stage` and says `what`. */
static void expect_step(const struct ctl_section *steps, size_t row, const char *stage,
			const char *what)
{
	assert_string_equal(step_cell(steps, row, "stage"), stage);
	assert_string_equal(step_cell(steps, row, "what"), what);
}

static void test_trace_steps_follow_the_seeds_stages(void **state)
{
	struct one_ping *p = *state;
	const struct ctl_section *steps = ctl_response_section(&p->response, "steps");
	assert_non_null(steps);
	assert_int_equal(steps->row_count, trace_count(&p->trace));
	static const char *const stages[] = {
		"NIC",	       "interrupt",   "bottom half", "bottom half", "top half",
		"top half",    "bottom half", "bottom half", "process",	    "process",
		"process",     "top half",    "NIC",	     "NIC",	    "interrupt",
		"bottom half", "bottom half",
	};
	assert_int_equal(steps->row_count, sizeof stages / sizeof stages[0]);
	for (size_t row = 0; row < steps->row_count; row++)
		if (strcmp(step_cell(steps, row, "stage"), stages[row]) != 0)
			fail_msg("step %zu is in stage '%s', not '%s': %s", row + 1,
				 step_cell(steps, row, "stage"), stages[row],
				 step_cell(steps, row, "what"));
	assert_string_equal(step_cell(steps, 0, "since_first_ns"), "0");
	assert_string_equal(step_cell(steps, 1, "since_first_ns"), "1500");
	assert_string_equal(step_cell(steps, 4, "who"), "kernel");
	assert_string_equal(step_cell(steps, 4, "process"), "nic");
	assert_string_equal(step_cell(steps, 8, "pid"), "200");
	assert_string_equal(step_cell(steps, 8, "event"), "call");
	expect_step(steps, 4, "top half",
		    "queued at echo's endpoint fd6b:616e::7: fd6b:616e:0:1::2 -> fd6b:616e::7, 104 "
		    "bytes");
	expect_step(steps, 9, "process",
		    "queued at nic's endpoint fd6b:616e::1 (the default route): fd6b:616e::7 -> "
		    "fd6b:616e:0:1::2, 104 bytes");
	int64_t held;
	assert_int_equal(ctl_response_num(&p->response, "trace", "held", &held), 0);
	assert_int_equal(held, steps->row_count);
}

/* Without the driver's records the NIC's work still reads as the NIC's: stages come from
 * each record, not from a script of the expected sequence. */
static void test_trace_steps_of_other_processes_are_the_process_stage(void **state)
{
	(void)state;
	struct trace t = {0};
	assert_int_equal(trace_start(&t, 4), 0);
	uint64_t clock = 0;
	add_call(&t, &clock, "echo", PK_KC_frame_alloc, -PK_ENOMEM, 0);
	struct trace_record *r = add(&t, &clock, TRACE_IRQ_RAISED, "nic");
	r->irq.status = -PK_EBUSY;
	r->irq.cause = PK_NIC_CAUSE_TX | PK_NIC_CAUSE_ERROR;
	add_call(&t, &clock, "nic", PK_KC_frame_alloc, 0, 0);
	struct ctl_response response;
	parse_steps(&t, &response);
	const struct ctl_section *steps = ctl_response_section(&response, "steps");
	expect_step(steps, 0, "process", "frame_alloc -> ENOMEM");
	expect_step(steps, 1, "interrupt",
		    "interrupt line 0 raised (tx+error): held back, the line is masked until "
		    "irq_ack");
	/* The driver's loop starts in its top half. */
	expect_step(steps, 2, "top half", "frame_alloc -> ok");
	ctl_response_free(&response);
	trace_free(&t);
}

static char *render(const struct ctl_response *response, int *ret_result)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	*ret_result = trace_render_steps(response, out);
	fclose(out);
	return text;
}

static void test_trace_render_numbers_steps_under_their_stages(void **state)
{
	struct one_ping *p = *state;
	int result;
	char *text = render(&p->response, &result);
	assert_int_equal(result, 0);
	static const char expected_start[] =
		"trace: 17 steps held (room for 64), none overwritten, stopped\n"
		"\n"
		"NIC\n"
		"   1   +0.000 us  device  rx from the wire into frame 5 (descriptor 5): "
		"fd6b:616e:0:1::2 -> fd6b:616e::7, 104 bytes\n"
		"interrupt\n"
		"   2   +1.500 us  kernel  interrupt line 0 raised (rx): interrupt packet queued "
		"at "
		"the line's endpoint; the line is masked\n"
		"bottom half\n"
		"   3   +3.000 us  nic     recv -> frame 300: interrupt packet from the kernel "
		"(line "
		"0, sequence 9)\n"
		"   4   +4.500 us  nic     recv -> EWOULDBLOCK (nothing queued)\n"
		"top half\n"
		"   5   +6.000 us  kernel  queued at echo's endpoint fd6b:616e::7: "
		"fd6b:616e:0:1::2 -> fd6b:616e::7, 104 bytes\n"
		"   6   +7.500 us  nic     send frame 5, 104 bytes -> ok\n"
		"bottom half\n"
		"   7   +9.000 us  nic     irq_ack line 0 -> ok, the line is unmasked\n"
		"   8  +10.500 us  nic     recv: nothing queued, waits\n"
		"process\n"
		"   9  +12.000 us  echo    recv -> frame 5: fd6b:616e:0:1::2 -> fd6b:616e::7, 104 "
		"bytes\n";
	if (strncmp(text, expected_start, strlen(expected_start)) != 0)
		fail_msg("the trace reads:\n%s\nnot:\n%s", text, expected_start);
	assert_non_null(strstr(text,
			       "NIC\n  13  +18.000 us  device  doorbell rung by nic: 1 TX "
			       "descriptor posted\n"
			       "  14  +19.500 us  device  tx frame 5 (descriptor 3) to the wire: "
			       "fd6b:616e::7 -> fd6b:616e:0:1::2, 104 bytes\n"
			       "interrupt\n"));
	free(text);
}

static void test_trace_render_refuses_what_is_not_a_trace(void **state)
{
	(void)state;
	static const char answer[] = "object\ttrace\nfield\theld\tn\t0\nend\n";
	struct ctl_response response;
	char err[128];
	assert_int_equal(ctl_response_parse(answer, strlen(answer), &response, err, sizeof err), 0);
	int result;
	free(render(&response, &result));
	assert_int_equal(result, -1);
	ctl_response_free(&response);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_is_off_by_default),
		cmocka_unit_test(test_trace_records_only_between_start_and_stop),
		cmocka_unit_test(test_trace_wraps_and_counts_what_it_overwrote),
		cmocka_unit_test(test_trace_start_clears_and_checks_its_size),
		cmocka_unit_test_setup_teardown(test_trace_steps_follow_the_seeds_stages,
						setup_one_ping, teardown_one_ping),
		cmocka_unit_test(test_trace_steps_of_other_processes_are_the_process_stage),
		cmocka_unit_test_setup_teardown(test_trace_render_numbers_steps_under_their_stages,
						setup_one_ping, teardown_one_ping),
		cmocka_unit_test(test_trace_render_refuses_what_is_not_a_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
