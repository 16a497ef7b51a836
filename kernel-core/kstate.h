/* The kernel's state, one part per module. Only kernel-core includes this. */
#ifndef KCORE_KSTATE_H
#define KCORE_KSTATE_H

#include "kcore/kernel.h"

#include "context.h"
#include "endpoint.h"
#include "frame.h"
#include "group.h"
#include "irq.h"
#include "kan.h"
#include "proc.h"
#include "share.h"
#include "tick.h"

struct kernel {
	struct kport port;
	struct frame_pool frames;
	struct proc_table procs;
	struct endpoint_table endpoints;
	struct kan kan;
	struct irq_table irqs;
	struct share_table shares;
	struct group_table groups;
	struct tick tick;
	struct context_table contexts;
	uint32_t default_quota;
	uint32_t endpoints_per_proc;
	uint32_t contexts_per_proc;
	struct kernel_stats stats; /* counters only; the frame and table figures are computed */
};

#endif
