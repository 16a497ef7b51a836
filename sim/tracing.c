/* Where packosd's trace records come from (trace.h): the kernel calls channel.c serves,
 * and what the NIC does (nic.c). Each function returns at once while the trace is off.
 *
 * Nothing here hooks the kernel: a call's record is made from the call and its answer, and
 * a packet's addresses from its header in the pool, which the daemon maps. The one thing
 * the daemon cannot see for itself, the endpoint a sent packet waits at, it asks of the
 * kernel (kernel_frame_queued_at, O(1)). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <packos/kmsg.h>

#include "daemon.h"

static void note_process(struct trace_record *r, const struct sim_proc *p)
{
	if (p == NULL)
		return;
	snprintf(r->process, sizeof r->process, "%s", p->name);
	r->pid = (int32_t)p->pid;
	r->drives_nic = p->drives_nic;
}

static uint64_t read_be(const uint8_t *bytes, unsigned size)
{
	uint64_t value = 0;
	for (unsigned i = 0; i < size; i++)
		value = value << 8 | bytes[i];
	return value;
}

static void kan_address(const struct daemon *d, uint64_t iid, uint8_t ret[PK_IPV6_ADDR_SIZE])
{
	memcpy(ret, d->kcfg.kan_prefix, PK_KAN_PREFIX_SIZE);
	for (unsigned i = 0; i < 8; i++)
		ret[PK_KAN_PREFIX_SIZE + i] = (uint8_t)(iid >> (56 - 8 * i));
}

/* The packet of `length` bytes in pool frame `frame`: its addresses, and what the kernel
 * says in it if it is a kernel message. The bytes may be a program's to write meanwhile
 * (the shared isolation mode), so they are read once, and only for the trace. */
static void read_packet(const struct daemon *d, uint32_t frame, uint32_t length,
			struct trace_packet *ret)
{
	ret->frame = frame;
	ret->length = length;
	if (frame >= d->opt.frames || length < PK_IPV6_HEADER_SIZE || length > PK_FRAME_SIZE)
		return;
	const uint8_t *bytes = d->pool + (size_t)frame * PK_FRAME_SIZE;
	struct pk_ipv6_header header;
	memcpy(&header, bytes, sizeof header);
	if (header.version_class_flow[0] >> 4 != 6)
		return;
	ret->is_ipv6 = true;
	memcpy(ret->source, header.source, sizeof ret->source);
	memcpy(ret->destination, header.destination, sizeof ret->destination);

	uint8_t kernel[PK_IPV6_ADDR_SIZE];
	kan_address(d, PK_KAN_KERNEL_IID, kernel);
	if (header.next_header != PK_KMSG_NEXT_HEADER ||
	    memcmp(header.source, kernel, sizeof kernel) != 0 || length == PK_IPV6_HEADER_SIZE)
		return;
	const uint8_t *message = bytes + PK_IPV6_HEADER_SIZE;
	ret->kernel_message = message[0];
	if (message[0] == PK_KMSG_IRQ &&
	    length >= PK_IPV6_HEADER_SIZE + sizeof(struct pk_kmsg_irq)) {
		struct pk_kmsg_irq irq;
		memcpy(&irq, message, sizeof irq);
		ret->irq_line = (uint32_t)read_be(irq.line, sizeof irq.line);
		ret->irq_sequence = read_be(irq.sequence, sizeof irq.sequence);
	}
}

static struct trace_record *add(struct daemon *d, enum trace_kind kind)
{
	return trace_add(&d->trace, loop_now_ns(), kind);
}

void tracing_call_waits(struct daemon *d, const struct sim_proc *p, const struct pk_kcall *call,
			uint32_t wait_ms)
{
	if (!d->trace.running)
		return;
	struct trace_record *r = add(d, TRACE_CALL_WAITS);
	note_process(r, p);
	r->call.nr = call->nr;
	r->call.arg[0] = call->arg[0];
	r->call.arg[1] = call->arg[1];
	r->call.wait_ms = wait_ms;
}

/* The sent packet, where the kernel queued it: at one endpoint, or shared with a group. */
static void add_queued(struct daemon *d, const struct sim_proc *p, const struct pk_kcall *send)
{
	struct trace_record *r = add(d, TRACE_QUEUED);
	note_process(r, p);
	uint32_t frame = PK_FRAME_NUMBER(send->arg[0]);
	read_packet(d, frame, (uint32_t)send->arg[1], &r->packet);
	pk_proc_t owner;
	uint64_t iid;
	if (kernel_frame_queued_at(d->kernel, frame, &owner, &iid) == 0)
		return;
	const struct sim_proc *o = proc_of_kernel(d, owner);
	snprintf(r->queued.owner, sizeof r->queued.owner, "%s", o != NULL ? o->name : "?");
	kan_address(d, iid, r->queued.endpoint);
}

void tracing_call_answered(struct daemon *d, const struct sim_proc *p, const struct pk_kcall *call,
			   const struct pk_kresult *result)
{
	if (!d->trace.running)
		return;
	if (call->nr == PK_KC_send && result->status == 0)
		add_queued(d, p, call);
	struct trace_record *r = add(d, TRACE_CALL_ANSWERED);
	note_process(r, p);
	r->call.nr = call->nr;
	r->call.status = (int32_t)result->status;
	r->call.arg[0] = call->arg[0];
	r->call.arg[1] = call->arg[1];
	if (call->nr == PK_KC_recv && result->status == 0)
		read_packet(d, PK_FRAME_NUMBER(result->ret[0]), PK_RECV_LENGTH(result->ret[1]),
			    &r->packet);
}

static const struct sim_proc *nic_driver(struct daemon *d)
{
	return d->nic.device.driver != 0 ? proc_of_kernel(d, d->nic.device.driver) : NULL;
}

void tracing_doorbell(struct daemon *d, bool on_call)
{
	if (!d->trace.running)
		return;
	struct trace_record *r = add(d, TRACE_DOORBELL);
	note_process(r, nic_driver(d));
	const struct pk_nic_regs *regs = d->nic.device.regs;
	r->doorbell.posted = __atomic_load_n(&regs->tx_tail, __ATOMIC_ACQUIRE) - regs->tx_head;
	r->doorbell.on_call = on_call;
}

void tracing_nic_event(void *context, const struct nic_event *event)
{
	struct daemon *d = context;
	if (!d->trace.running)
		return;
	static const enum trace_kind kinds[] = {
		[NIC_EVENT_RX] = TRACE_DEVICE_RX,
		[NIC_EVENT_TX] = TRACE_DEVICE_TX,
		[NIC_EVENT_INTERRUPT] = TRACE_IRQ_RAISED,
	};
	struct trace_record *r = add(d, kinds[event->kind]);
	note_process(r, nic_driver(d));
	if (event->kind == NIC_EVENT_INTERRUPT) {
		r->irq.line = d->nic.device.regs->irq_line;
		r->irq.cause = event->cause;
		r->irq.status = event->result;
		return;
	}
	read_packet(d, event->frame, event->length, &r->packet);
	r->device.descriptor = event->descriptor;
	r->device.status = event->result;
}
