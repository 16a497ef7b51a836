/* Interrupt lines: attach, acknowledge, detach, and the port's raise (see irq.h). */
#include "irq.h"

#include <packos/errors.h>
#include <packos/kmsg.h>

#include "kstate.h"

void irq_table_init(struct irq_table *table, struct irq_line *lines, uint32_t count)
{
	table->lines = lines;
	table->count = count;
	table->attached = 0;
	for (uint32_t i = 0; i < count; i++) {
		kbytes_zero(&lines[i], sizeof lines[i]);
		lines[i].gen = 1;
		lines[i].proc = lines[i].proc_next = lines[i].proc_prev = KNIL;
		lines[i].endpoint = KNIL;
	}
}

int irq_resolve(const struct irq_table *table, pk_handle_t handle, uint32_t *ret_line)
{
	uint32_t line = PK_HANDLE_INDEX(handle);
	if (PK_HANDLE_KIND(handle) != PK_HANDLE_IRQ || line >= table->count)
		return -PK_EBADHANDLE;
	const struct irq_line *l = &table->lines[line];
	if (!l->attached || l->gen != PK_HANDLE_GEN(handle))
		return -PK_EBADHANDLE;
	*ret_line = line;
	return 0;
}

/* Writes the interrupt packet for `line` into `bytes` (a zeroed frame); returns its length. */
static uint32_t irq_write_packet(const struct kernel *k, uint32_t line, uint8_t *bytes)
{
	const struct irq_line *l = &k->irqs.lines[line];
	struct pk_kmsg_irq *m = (struct pk_kmsg_irq *)(bytes + PK_IPV6_HEADER_SIZE);
	kan_write_kernel_header(k, bytes, k->endpoints.endpoints[l->endpoint].iid, sizeof *m);
	m->type = PK_KMSG_IRQ;
	kbytes_put_be32(m->line, line);
	kbytes_put_be32(m->raised, l->held_back);
	kbytes_put_be64(m->sequence, l->sequence);
	kbytes_put_be64(m->irq, irq_handle(&k->irqs, line));
	return PK_IPV6_HEADER_SIZE + sizeof *m;
}

/* Sends the raises held back on `line` as one packet and masks the line, if its endpoint
 * is still there, has room, and a frame is free; otherwise they stay held back. */
static int irq_deliver(struct kernel *k, uint32_t line)
{
	struct irq_line *l = &k->irqs.lines[line];
	const struct endpoint *e = &k->endpoints.endpoints[l->endpoint];
	if (!e->alive || e->gen != l->endpoint_gen) {
		/* The driver destroyed the endpoint and kept the line: nowhere to deliver. */
		k->stats.irq_spurious += l->held_back;
		l->held_back = 0;
		return -PK_EHOSTUNREACH;
	}
	if (e->queue.count >= k->kan.queue_limit)
		return -PK_ENOBUFS;
	uint32_t frame = frame_take_free(&k->frames);
	if (frame == KNIL)
		return -PK_ENOMEM;
	l->sequence++;
	uint32_t length = irq_write_packet(k, line, frame_bytes(&k->frames, frame));
	k->frames.frames[frame].kmsg = PK_KMSG_IRQ;
	k->stats.irq_delivered++;
	l->held_back = 0;
	l->masked = 1;
	kan_enqueue(k, l->endpoint, frame, length);
	return 0;
}

int irq_raise(struct kernel *k, uint32_t line)
{
	if (line >= k->irqs.count)
		return -PK_EINVAL;
	struct irq_line *l = &k->irqs.lines[line];
	k->stats.irq_raised++;
	if (!l->attached) {
		k->stats.irq_spurious++;
		return -PK_EHOSTUNREACH;
	}
	l->held_back++;
	if (l->masked)
		return -PK_EBUSY;
	return irq_deliver(k, line);
}

int irq_attach(struct kernel *k, uint32_t proc, uint64_t line, uint32_t endpoint)
{
	struct proc *p = &k->procs.procs[proc];
	if (!(p->rights & PK_RIGHT_DRIVER))
		return -PK_EPERM;
	if (line >= k->irqs.count)
		return -PK_EINVAL;
	struct irq_line *l = &k->irqs.lines[line];
	if (l->attached)
		return -PK_EBUSY;
	l->attached = 1;
	l->masked = 0;
	l->held_back = 0;
	l->sequence = 0;
	l->proc = proc;
	l->endpoint = endpoint;
	l->endpoint_gen = k->endpoints.endpoints[endpoint].gen;
	l->proc_prev = KNIL;
	l->proc_next = p->irqs_head;
	if (p->irqs_head != KNIL)
		k->irqs.lines[p->irqs_head].proc_prev = (uint32_t)line;
	p->irqs_head = (uint32_t)line;
	k->irqs.attached++;
	return 0;
}

int irq_ack(struct kernel *k, uint32_t line)
{
	struct irq_line *l = &k->irqs.lines[line];
	if (!l->masked)
		return -PK_ENOTPENDING;
	l->masked = 0;
	if (l->held_back > 0)
		irq_deliver(k, line); /* if it cannot, the next raise tries again */
	return 0;
}

void irq_detach(struct kernel *k, uint32_t line)
{
	struct irq_line *l = &k->irqs.lines[line];
	struct proc *p = &k->procs.procs[l->proc];
	if (l->proc_prev != KNIL)
		k->irqs.lines[l->proc_prev].proc_next = l->proc_next;
	else
		p->irqs_head = l->proc_next;
	if (l->proc_next != KNIL)
		k->irqs.lines[l->proc_next].proc_prev = l->proc_prev;
	l->attached = 0;
	l->masked = 0;
	l->held_back = 0;
	l->proc = l->proc_next = l->proc_prev = KNIL;
	l->endpoint = KNIL;
	l->gen = kgen_next(l->gen);
	k->irqs.attached--;
}
