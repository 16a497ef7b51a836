/* Interrupt lines: interrupts delivered as KAN packets.
 *
 * A driver attaches a line to one of its endpoints. When the port raises the line, the
 * kernel takes a free frame, writes an interrupt message into it (include/packos/kmsg.h)
 * and queues it at that endpoint, like any packet; the line is then masked until the
 * driver acknowledges it. Raises while masked are folded into one, delivered at the
 * acknowledgement; a raise that finds no free frame or a full queue is kept the same way
 * and delivered at the next raise or acknowledgement. So at most one interrupt packet per
 * line is ever in flight, and a storm of raises costs one frame. */
#ifndef KCORE_IRQ_H
#define KCORE_IRQ_H

#include <stdint.h>

#include "kbase.h"

struct irq_line {
	uint32_t gen; /* bumped at every detach, so old handles fail */
	uint8_t attached;
	uint8_t masked;	    /* a packet went out and is not acknowledged yet */
	uint32_t proc;	    /* the holder, while attached */
	uint32_t proc_next; /* the holder's list of lines */
	uint32_t proc_prev;
	uint32_t endpoint; /* where its packets go, and that endpoint's generation */
	uint32_t endpoint_gen;
	uint32_t held_back; /* raises not delivered yet */
	uint64_t sequence;  /* packets sent since attached */
};

struct irq_table {
	struct irq_line *lines;
	uint32_t count;
	uint32_t attached;
};

struct kernel;

void irq_table_init(struct irq_table *table, struct irq_line *lines, uint32_t count);

static inline pk_irq_t irq_handle(const struct irq_table *table, uint32_t line)
{
	return PK_HANDLE_MAKE(PK_HANDLE_IRQ, table->lines[line].gen, line);
}

/* The line `handle` names, attached and current, or -PK_EBADHANDLE. */
int irq_resolve(const struct irq_table *table, pk_handle_t handle, uint32_t *ret_line);

/* Kernel calls. The endpoint and the line are already checked to be the caller's. */
int irq_attach(struct kernel *k, uint32_t proc, uint64_t line, uint32_t endpoint);
int irq_ack(struct kernel *k, uint32_t line);
void irq_detach(struct kernel *k, uint32_t line);

/* The port's entry: the hardware raised `line`. */
int irq_raise(struct kernel *k, uint32_t line);

#endif
