#define _POSIX_C_SOURCE 200809L
/* The bench port: the kernel core on the heap, every port operation a no-op or a counter.
 * Granting and revoking frames cost nothing here because the benchmark has one address
 * space; a real port pays for page-table edits, which are O(1) too but not the kernel's. */
#include "bench_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void bench_wake(void *ctx, pk_proc_t proc, pk_endpoint_t endpoint)
{
	struct bench_port *bp = ctx;
	(void)proc;
	(void)endpoint;
	bp->wakes++;
}

static int bench_frame_grant(void *ctx, pk_proc_t proc, uint32_t frame_number, int writable)
{
	(void)ctx;
	(void)proc;
	(void)frame_number;
	(void)writable;
	return 0;
}

static void bench_frame_revoke(void *ctx, pk_proc_t proc, uint32_t frame_number)
{
	(void)ctx;
	(void)proc;
	(void)frame_number;
}

static void bench_proc_faulted(void *ctx, pk_proc_t proc, unsigned kcall_nr, int error)
{
	struct bench_port *bp = ctx;
	(void)proc;
	(void)kcall_nr;
	(void)error;
	bp->faults++;
}

static void bench_panic(void *ctx, const char *why)
{
	(void)ctx;
	fprintf(stderr, "kernel panic: %s\n", why);
	abort();
}

static const struct kport_ops bench_port_ops = {
	.po_wake = bench_wake,
	.po_frame_grant = bench_frame_grant,
	.po_frame_revoke = bench_frame_revoke,
	.po_proc_faulted = bench_proc_faulted,
	.po_panic = bench_panic,
};

/* aligned_alloc wants the size to be a multiple of the alignment. */
static void *alloc_aligned(size_t alignment, size_t size)
{
	return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

int bench_port_start(struct bench_port *bp, const struct kernel_config *cfg)
{
	memset(bp, 0, sizeof *bp);
	bp->cfg = *cfg;
	/* Not cleared: the kernel zeroes each frame as it hands it out, and leaving the pages
	 * untouched keeps a large pool cheap when a configuration uses few frames. */
	bp->frame_memory = alloc_aligned(PK_FRAME_SIZE, (size_t)cfg->frame_count * PK_FRAME_SIZE);
	bp->cfg.frame_memory = bp->frame_memory;
	size_t arena_size = kernel_arena_size(&bp->cfg);
	bp->arena = arena_size ? alloc_aligned(64, arena_size) : NULL;
	if (!bp->frame_memory || (arena_size && !bp->arena)) {
		bench_port_stop(bp);
		return -PK_ENOMEM;
	}
	bp->port.ops = &bench_port_ops;
	bp->port.ctx = bp;
	int err = kernel_init(&bp->cfg, &bp->port, bp->arena, arena_size, &bp->k);
	if (err < 0)
		bench_port_stop(bp);
	return err;
}

void bench_port_stop(struct bench_port *bp)
{
	free(bp->arena);
	free(bp->frame_memory);
	bp->arena = NULL;
	bp->frame_memory = NULL;
	bp->k = NULL;
}

uint8_t *bench_port_frame_bytes(const struct bench_port *bp, pk_frame_t frame)
{
	return bp->frame_memory + (size_t)PK_FRAME_NUMBER(frame) * PK_FRAME_SIZE;
}

void bench_port_address(const struct bench_port *bp, uint64_t iid,
			uint8_t ret_address[PK_IPV6_ADDR_SIZE])
{
	memcpy(ret_address, bp->cfg.kan_prefix, PK_KAN_PREFIX_SIZE);
	for (unsigned i = PK_IPV6_ADDR_SIZE; i-- > PK_KAN_PREFIX_SIZE; iid >>= 8)
		ret_address[i] = (uint8_t)iid;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(const double *values, unsigned count)
{
	double *sorted = malloc(count * sizeof *sorted);
	if (!sorted) {
		fprintf(stderr, "bench: out of memory\n");
		abort();
	}
	memcpy(sorted, values, count * sizeof *values);
	qsort(sorted, count, sizeof *sorted, compare_doubles);
	double m = count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
	free(sorted);
	return m;
}
