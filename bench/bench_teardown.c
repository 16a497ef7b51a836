/* bench_teardown: shows that destroying a process costs the same whether it holds one frame
 * or ten thousand, and one queued packet or ten thousand: the kernel splices its lists onto
 * the free list instead of visiting each frame (kernel-core/frame.c). That is what lets a
 * port reap a dead process between two packets.
 *
 * Each sample builds a victim (frames it owns, packets queued at its endpoint by a sender),
 * untimed, then times kernel_proc_destroy alone. Building the large victim zeroes 80 MB,
 * which leaves the few records teardown touches cold, while the small one stays hot; so
 * before every timed destroy the caches are flushed by writing a buffer larger than them,
 * and both sizes start equally cold. The sizes alternate sample by sample so machine noise
 * hits both alike; the verdict is the ratio of their medians. (Under callgrind both sizes
 * take the same instruction count.) Timing is never asserted; a kernel error or a failed
 * audit fails the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_port.h"

#define LARGE	       10000u /* frames owned, and packets queued, by the large victim */
#define SAMPLES	       31u
#define QUICK_SAMPLES  3u
#define SENDER_IID     1u
#define VICTIM_IID     2u
#define EVICTION_BYTES (64u << 20) /* larger than any cache of these machines */

static _Noreturn void fail(const char *what, int error)
{
	fprintf(stderr, "bench_teardown: %s failed: %s\n", what, kernel_error_name(error));
	exit(1);
}

static uint64_t call(struct bench_port *bp, pk_proc_t caller, unsigned nr, uint64_t arg0,
		     uint64_t arg1)
{
	struct pk_kcall request = {.nr = nr, .arg = {arg0, arg1, 0}};
	struct pk_kresult result;
	if (kernel_call(bp->k, caller, &request, &result) < 0)
		fail(kernel_call_name(nr), (int)result.status);
	return result.ret[0];
}

static pk_proc_t create_process(struct bench_port *bp, uint64_t iid)
{
	pk_proc_t proc;
	int err = kernel_proc_create(bp->k, 0, 0, &proc);
	if (err < 0)
		fail("kernel_proc_create", err);
	call(bp, proc, PK_KC_endpoint_create, iid, 0);
	return proc;
}

/* A victim owning `size` frames with `size` packets from `sender` queued at its endpoint. */
static pk_proc_t build_victim(struct bench_port *bp, pk_proc_t sender, uint32_t size)
{
	pk_proc_t victim = create_process(bp, VICTIM_IID);
	struct pk_ipv6_header header = {
		.version_class_flow = {0x60},
		.next_header = 59, /* no next header */
		.hop_limit = 64,
	};
	bench_port_address(bp, SENDER_IID, header.source);
	bench_port_address(bp, VICTIM_IID, header.destination);
	for (uint32_t i = 0; i < size; i++) {
		call(bp, victim, PK_KC_frame_alloc, 0, 0);
		pk_frame_t packet = call(bp, sender, PK_KC_frame_alloc, 0, 0);
		memcpy(bench_port_frame_bytes(bp, packet), &header, sizeof header);
		call(bp, sender, PK_KC_send, packet, sizeof header);
	}
	return victim;
}

static void evict_caches(unsigned char *buffer)
{
	static unsigned char round;
	memset(buffer, ++round, EVICTION_BYTES);
}

int main(int argc, char **argv)
{
	unsigned samples = SAMPLES;
	if (argc == 2 && !strcmp(argv[1], "--quick")) {
		samples = QUICK_SAMPLES;
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench_teardown [--quick]\n");
		return 2;
	}

	struct kernel_config cfg;
	kernel_config_default(&cfg);
	cfg.frame_count = 2 * LARGE + 64;
	cfg.default_quota = LARGE + 1;
	cfg.queue_limit = LARGE + 1;
	struct bench_port bp;
	int err = bench_port_start(&bp, &cfg);
	if (err < 0)
		fail("bench_port_start", err);
	pk_proc_t sender = create_process(&bp, SENDER_IID);
	unsigned char *eviction = malloc(EVICTION_BYTES);
	if (!eviction)
		fail("malloc", -PK_ENOMEM);

	const uint32_t sizes[2] = {1, LARGE};
	double ns[2][SAMPLES];
	for (unsigned i = 0; i < samples; i++)
		for (unsigned s = 0; s < 2; s++) {
			pk_proc_t victim = build_victim(&bp, sender, sizes[s]);
			evict_caches(eviction);
			uint64_t start = bench_now_ns();
			err = kernel_proc_destroy(bp.k, victim);
			ns[s][i] = (double)(bench_now_ns() - start);
			if (err < 0)
				fail("kernel_proc_destroy", err);
		}

	const char *why = NULL;
	if (kernel_audit(bp.k, &why) < 0) {
		fprintf(stderr, "bench_teardown: audit failed: %s\n", why);
		return 1;
	}
	struct kernel_stats st;
	kernel_stats(bp.k, &st);
	if (st.frames_free != st.frames_total) {
		fprintf(stderr, "bench_teardown: %u frames not back in the pool\n",
			st.frames_total - st.frames_free);
		return 1;
	}

	double small = bench_median(ns[0], samples), large = bench_median(ns[1], samples);
	printf("bench_teardown: kernel_proc_destroy from cold caches, median of %u samples\n",
	       samples);
	printf("%-44s %10s %12s\n", "victim", "ns", "vs baseline");
	printf("%-44s %10.0f %12.2f\n", "baseline: 1 frame owned, 1 packet queued", small, 1.0);
	printf("%-44s %10.0f %12.2f\n", "10,000 frames owned, 10,000 packets queued", large,
	       large / small);
	printf("O(1): reclaiming %u frames takes %.2fx the time of reclaiming 2\n", 2 * LARGE,
	       large / small);
	free(eviction);
	bench_port_stop(&bp);
	return 0;
}
