/* The trace's records as steps (trace_steps.h). Runs on the control path, when someone
 * asks: the records hold numbers and addresses, and the sentences are made here. */
#define _GNU_SOURCE
#include "trace_steps.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <packos/kcalls.h>
#include <packos/kmsg.h>
#include <packos/nic.h>
#include <packos/types.h>

#include "kcore/kernel.h"

/* The seed's figure: process -> top half -> NIC -> interrupt -> bottom half -> top half. */
#define STAGE_PROCESS	  "process"
#define STAGE_TOP_HALF	  "top half"
#define STAGE_NIC	  "NIC"
#define STAGE_INTERRUPT	  "interrupt"
#define STAGE_BOTTOM_HALF "bottom half"

static void say_address(FILE *s, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	char text[INET6_ADDRSTRLEN];
	fputs(inet_ntop(AF_INET6, address, text, sizeof text) ? text : "?", s);
}

static void say_status(FILE *s, int32_t status)
{
	fputs(status == 0 ? "ok" : kernel_error_name(-status), s);
}

/* "src -> dst, 104 bytes", or what the kernel's own message says. */
static void say_packet(FILE *s, const struct trace_packet *p)
{
	if (p->kernel_message == PK_KMSG_IRQ) {
		fprintf(s, "interrupt packet from the kernel (line %u, sequence %llu)", p->irq_line,
			(unsigned long long)p->irq_sequence);
		return;
	}
	if (p->kernel_message == PK_KMSG_TICK) {
		fputs("clock tick from the kernel", s);
		return;
	}
	if (p->is_ipv6) {
		say_address(s, p->source);
		fputs(" -> ", s);
		say_address(s, p->destination);
		fputs(", ", s);
	}
	fprintf(s, "%u bytes", p->length);
}

static void say_cause(FILE *s, uint32_t cause)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} causes[] = {{PK_NIC_CAUSE_RX, "rx"},
		      {PK_NIC_CAUSE_TX, "tx"},
		      {PK_NIC_CAUSE_ERROR, "error"},
		      {PK_NIC_CAUSE_LINK, "link"}};
	const char *separator = "";
	for (size_t i = 0; i < sizeof causes / sizeof causes[0]; i++) {
		if (cause & causes[i].bit) {
			fprintf(s, "%s%s", separator, causes[i].name);
			separator = "+";
		}
	}
}

static void say_raise(FILE *s, const struct trace_record *r)
{
	fprintf(s, "interrupt line %u raised (", r->irq.line);
	say_cause(s, r->irq.cause);
	fputs("): ", s);
	switch (-r->irq.status) {
	case 0:
		fputs("interrupt packet queued at the line's endpoint; the line is masked", s);
		break;
	case PK_EBUSY:
		fputs("held back, the line is masked until irq_ack", s);
		break;
	case PK_EHOSTUNREACH:
		fputs("dropped, no endpoint takes the line", s);
		break;
	default:
		fputs("held back (", s);
		say_status(s, r->irq.status);
		fputs(")", s);
	}
}

static void say_call(FILE *s, const struct trace_record *r)
{
	const char *name = kernel_call_name(r->call.nr);
	if (r->kind == TRACE_CALL_WAITS) {
		fprintf(s, "%s: nothing queued, waits", name);
		if (r->call.wait_ms != 0)
			fprintf(s, " (up to %u ms)", r->call.wait_ms);
		return;
	}
	bool ok = r->call.status == 0;
	switch (r->call.nr) {
	case PK_KC_recv:
		fputs("recv -> ", s);
		if (ok) {
			fprintf(s, "frame %u: ", r->packet.frame);
			say_packet(s, &r->packet);
			return;
		}
		if (r->call.status == -PK_EWOULDBLOCK) {
			fputs("EWOULDBLOCK (nothing queued)", s);
			return;
		}
		break;
	case PK_KC_send:
		fprintf(s, "send frame %u, %llu bytes -> ", PK_FRAME_NUMBER(r->call.arg[0]),
			(unsigned long long)r->call.arg[1]);
		break;
	case PK_KC_frame_free:
		fprintf(s, "frame_free frame %u -> ", PK_FRAME_NUMBER(r->call.arg[0]));
		break;
	case PK_KC_irq_ack:
		fprintf(s, "irq_ack line %u -> ", PK_HANDLE_INDEX(r->call.arg[0]));
		if (ok) {
			fputs("ok, the line is unmasked", s);
			return;
		}
		break;
	default:
		fprintf(s, "%s -> ", name);
	}
	say_status(s, r->call.status);
}

static void say_queued(FILE *s, const struct trace_record *r)
{
	if (r->queued.owner[0] == '\0') {
		fputs("shared with the members of group ", s);
		say_address(s, r->packet.destination);
	} else {
		fprintf(s, "queued at %s's endpoint ", r->queued.owner);
		say_address(s, r->queued.endpoint);
		if (memcmp(r->queued.endpoint, r->packet.destination, PK_IPV6_ADDR_SIZE) != 0)
			fputs(" (the default route)", s);
	}
	fputs(": ", s);
	say_packet(s, &r->packet);
}

static void say_device(FILE *s, const struct trace_record *r)
{
	bool rx = r->kind == TRACE_DEVICE_RX;
	fprintf(s,
		rx ? "rx from the wire into frame %u (descriptor %u): "
		   : "tx frame %u (descriptor %u) to the wire: ",
		r->packet.frame, r->device.descriptor);
	say_packet(s, &r->packet);
	if (r->device.status < 0)
		fprintf(s, " (the wire refused it: %s)", strerror(-r->device.status));
}

/* Who acted, in the sentence's terms. */
static const char *actor(const struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_CALL_WAITS:
	case TRACE_CALL_ANSWERED:
		return r->process;
	case TRACE_QUEUED:
	case TRACE_IRQ_RAISED:
		return "kernel";
	default:
		return "device";
	}
}

static const char *event_name(enum trace_kind kind)
{
	switch (kind) {
	case TRACE_CALL_WAITS:
		return "call-waits";
	case TRACE_CALL_ANSWERED:
		return "call";
	case TRACE_QUEUED:
		return "queued";
	case TRACE_IRQ_RAISED:
		return "irq-raised";
	case TRACE_DEVICE_RX:
		return "device-rx";
	case TRACE_DEVICE_TX:
		return "device-tx";
	case TRACE_DOORBELL:
		return "doorbell";
	}
	return "?";
}

static void describe(FILE *s, const struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_CALL_WAITS:
	case TRACE_CALL_ANSWERED:
		say_call(s, r);
		break;
	case TRACE_QUEUED:
		say_queued(s, r);
		break;
	case TRACE_IRQ_RAISED:
		say_raise(s, r);
		break;
	case TRACE_DEVICE_RX:
	case TRACE_DEVICE_TX:
		say_device(s, r);
		break;
	case TRACE_DOORBELL:
		if (r->doorbell.on_call)
			fprintf(s, "%s entered the kernel with %u TX descriptor%s posted",
				r->process, r->doorbell.posted, r->doorbell.posted == 1 ? "" : "s");
		else
			fprintf(s, "doorbell rung by %s: %u TX descriptor%s posted", r->process,
				r->doorbell.posted, r->doorbell.posted == 1 ? "" : "s");
		break;
	}
}

/* The driver's half a record puts it in, or NULL if the record leaves it where it was. */
static const char *driver_half(const struct trace_record *r)
{
	if (r->kind == TRACE_QUEUED)
		return STAGE_TOP_HALF;
	if (r->kind != TRACE_CALL_ANSWERED)
		return NULL;
	switch (r->call.nr) {
	case PK_KC_irq_ack:
		return STAGE_BOTTOM_HALF;
	case PK_KC_send:
		return STAGE_TOP_HALF;
	case PK_KC_recv:
		if (r->call.status != 0)
			return NULL;
		return r->packet.kernel_message == PK_KMSG_IRQ ? STAGE_BOTTOM_HALF : STAGE_TOP_HALF;
	default:
		return NULL;
	}
}

/* `driver_stage` carries the driver's half from one record to the next. */
static const char *stage_of(const struct trace_record *r, const char **driver_stage)
{
	switch (r->kind) {
	case TRACE_DEVICE_RX:
	case TRACE_DEVICE_TX:
	case TRACE_DOORBELL:
		return STAGE_NIC;
	case TRACE_IRQ_RAISED:
		return STAGE_INTERRUPT;
	default:
		break;
	}
	if (!r->drives_nic)
		return STAGE_PROCESS;
	const char *half = driver_half(r);
	if (half != NULL)
		*driver_stage = half;
	return *driver_stage;
}

void trace_steps_write(const struct trace *t, struct ctl_out *o)
{
	uint32_t count = trace_count(t);
	ctl_object(o, "trace");
	ctl_bool(o, "running", t->running);
	ctl_num(o, "capacity", t->capacity);
	ctl_num(o, "held", count);
	ctl_num(o, "overwritten", trace_overwritten(t));
	ctl_table(o, "steps",
		  "step:n since_first_ns:n stage:s who:s process:s pid:n event:s what:s");
	/* The driver's loop waits in its top half until a record says otherwise. */
	const char *driver_stage = STAGE_TOP_HALF;
	for (uint32_t i = 0; i < count; i++) {
		const struct trace_record *r = trace_at(t, i);
		char what[256] = "";
		FILE *sentence = fmemopen(what, sizeof what, "w");
		if (sentence != NULL) {
			describe(sentence, r);
			fclose(sentence);
		}
		what[sizeof what - 1] = '\0'; /* a sentence too long is cut short */
		ctl_row_begin(o);
		ctl_cell_num(o, i + 1);
		ctl_cell_num(o, r->time_ns - trace_at(t, 0)->time_ns);
		ctl_cell_str(o, stage_of(r, &driver_stage));
		ctl_cell_str(o, actor(r));
		ctl_cell_str(o, r->process);
		ctl_cell_num(o, (uint64_t)(r->pid > 0 ? r->pid : 0));
		ctl_cell_str(o, event_name(r->kind));
		ctl_cell_str(o, what);
		ctl_row_end(o);
	}
}
