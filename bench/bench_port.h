/* The bench port: hosts the kernel core on the heap with port operations that do nothing
 * (or only count), so a benchmark times the kernel and nothing of a host. The unit tests'
 * fake port records every call through cmocka; a benchmark must not pay for that, nor link
 * a test framework. */
#ifndef BENCH_PORT_H
#define BENCH_PORT_H

#include <stdint.h>

#include "kcore/kernel.h"

struct bench_port {
	struct kport port;
	struct kernel_config cfg;
	struct kernel *k;
	void *arena;
	uint8_t *frame_memory;
	/* Neither should move in a benchmark's loop: a wake means a receive found its queue
	 * empty, a fault means the kernel already destroyed a process and returned an error. */
	uint64_t wakes;
	uint64_t faults;
};

/* Starts a kernel with `cfg` (its frame_memory is filled in here). Returns 0, -PK_ENOMEM
 * if the host is out of memory, or kernel_init's -PK_EINVAL for a bad configuration. */
int bench_port_start(struct bench_port *bp, const struct kernel_config *cfg);

/* Frees the arena and the frame memory; the kernel is gone afterwards. */
void bench_port_stop(struct bench_port *bp);

/* The bytes of `frame` in the pool, as the process that owns it sees them. */
uint8_t *bench_port_frame_bytes(const struct bench_port *bp, pk_frame_t frame);

/* The KAN address with interface ID `iid` in this kernel's prefix. */
void bench_port_address(const struct bench_port *bp, uint64_t iid,
			uint8_t ret_address[PK_IPV6_ADDR_SIZE]);

/* A monotonic clock in nanoseconds, for timing a benchmark's loop. */
uint64_t bench_now_ns(void);

/* The median of `count` samples (the mean of the middle two for an even count); `values`
 * is left in its order. */
double bench_median(const double *values, unsigned count);

#endif
