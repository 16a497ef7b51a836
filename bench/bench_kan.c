/* bench_kan: shows that one KAN send plus one receive costs the same whatever the number of
 * processes alive and however many packets wait at the receiving endpoint, which is what
 * the kernel's O(1) claim (kcore/kernel.h) promises to every port.
 *
 * Two processes, ping and pong, bat one frame back and forth: ping sends, pong receives,
 * readdresses the packet and sends it back, ping receives. No frame is allocated or freed
 * in the loop, so the figures hold send and recv alone (frame_alloc zeroes 4 KiB and would
 * swamp them). Each configuration gets its own kernel, and the timed repetitions of all
 * configurations are interleaved, so a clock or frequency drift hits them all alike and
 * their ratios stay fair. Timing is never asserted; only a kernel error fails the run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_port.h"

#define BYSTANDER_COUNT 1000  /* processes alive besides ping and pong, one endpoint each */
#define DEEP_QUEUE	10000 /* packets kept waiting at pong's endpoint */
#define MANY_FRAMES	10000 /* frames ping takes turns sending, in the cache control */
#define PAYLOAD_SIZE	64    /* any valid size: the kernel never copies the payload */
#define MAX_REPETITIONS 99

struct scenario {
	const char *name;  /* what --only takes */
	const char *title; /* the table's row label */
	uint32_t bystanders;
	uint32_t queue_depth;
	uint32_t spare_frames; /* frames ping owns besides the one in play, sent in turn */
	unsigned reference;    /* the row with as many frames in use, none of the growth */
	int selected;

	struct bench_port host;
	pk_proc_t *bystander_procs;
	pk_proc_t ping, pong;
	pk_endpoint_t ping_endpoint, pong_endpoint;
	uint8_t ping_address[PK_IPV6_ADDR_SIZE], pong_address[PK_IPV6_ADDR_SIZE];
	pk_frame_t *ping_frames; /* ping's frames between rounds, sent oldest first */
	uint32_t ping_frame_count;
	uint32_t next_ping_frame;
	double ns_per_pair[MAX_REPETITIONS];
	double median_ns;
};

struct options {
	uint64_t iterations; /* send+recv pairs per timed repetition, even */
	unsigned repetitions;
	uint64_t warmup_iterations;
	int instructions; /* a short run without warmup, to count instructions under callgrind */
	const char *only;
};

static _Noreturn void fail_call(const struct scenario *s, unsigned nr, int error)
{
	fprintf(stderr, "bench_kan: %s: kernel call %s failed: %s\n", s->name, kernel_call_name(nr),
		kernel_error_name(error));
	exit(1);
}

static _Noreturn void fail(const struct scenario *s, const char *what, const char *why)
{
	fprintf(stderr, "bench_kan: %s: %s: %s\n", s->name, what, why);
	exit(1);
}

/* One kernel call that must succeed; answers ret[0] and, if asked, ret[1]. */
static uint64_t kcall(const struct scenario *s, pk_proc_t caller, unsigned nr, uint64_t arg0,
		      uint64_t arg1, uint64_t *ret1)
{
	struct pk_kcall call = {.nr = nr, .arg = {arg0, arg1, 0}};
	struct pk_kresult result;
	if (kernel_call(s->host.k, caller, &call, &result) < 0)
		fail_call(s, nr, (int)result.status);
	if (ret1)
		*ret1 = result.ret[1];
	return result.ret[0];
}

static void write_packet(const struct scenario *s, pk_frame_t frame,
			 const uint8_t source[PK_IPV6_ADDR_SIZE],
			 const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	struct pk_ipv6_header header = {
		.version_class_flow = {0x60, 0, 0, 0},
		.payload_length = {PAYLOAD_SIZE >> 8, PAYLOAD_SIZE & 0xff},
		.next_header = 59, /* no next header */
		.hop_limit = 64,
	};
	memcpy(header.source, source, PK_IPV6_ADDR_SIZE);
	memcpy(header.destination, destination, PK_IPV6_ADDR_SIZE);
	memcpy(bench_port_frame_bytes(&s->host, frame), &header, sizeof header);
}

/* What a program answering a packet does: only the addresses change hands. */
static void readdress(const struct scenario *s, pk_frame_t frame,
		      const uint8_t source[PK_IPV6_ADDR_SIZE],
		      const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	struct pk_ipv6_header *header =
		(struct pk_ipv6_header *)bench_port_frame_bytes(&s->host, frame);
	memcpy(header->source, source, PK_IPV6_ADDR_SIZE);
	memcpy(header->destination, destination, PK_IPV6_ADDR_SIZE);
}

/* The measured loop: `pairs` sends and as many receives. noinline, so callgrind can count
 * this function alone (--toggle-collect='ping_pong*'). Pong's queue holds queue_depth
 * packets before each of ping's sends, and ping's is empty before each of pong's. */
__attribute__((noinline)) static void ping_pong(struct scenario *s, uint64_t pairs)
{
	const uint64_t length = PK_IPV6_HEADER_SIZE + PAYLOAD_SIZE;
	for (uint64_t round = 0; round < pairs / 2; round++) {
		pk_frame_t *ping_frame = &s->ping_frames[s->next_ping_frame];
		kcall(s, s->ping, PK_KC_send, *ping_frame, length, NULL);
		pk_frame_t frame = kcall(s, s->pong, PK_KC_recv, s->pong_endpoint, 0, NULL);
		readdress(s, frame, s->pong_address, s->ping_address);
		kcall(s, s->pong, PK_KC_send, frame, length, NULL);
		*ping_frame = kcall(s, s->ping, PK_KC_recv, s->ping_endpoint, 0, NULL);
		readdress(s, *ping_frame, s->ping_address, s->pong_address);
		if (++s->next_ping_frame == s->ping_frame_count)
			s->next_ping_frame = 0;
	}
}

static pk_proc_t create_process(struct scenario *s)
{
	pk_proc_t proc;
	int err = kernel_proc_create(s->host.k, 0, 0, &proc);
	if (err < 0)
		fail(s, "kernel_proc_create", kernel_error_name(err));
	return proc;
}

/* An endpoint at a kernel-chosen address; answers the handle and the interface ID. */
static pk_endpoint_t create_endpoint(struct scenario *s, pk_proc_t proc, uint64_t *ret_iid)
{
	return kcall(s, proc, PK_KC_endpoint_create, 0, 0, ret_iid);
}

static void audit(struct scenario *s, const char *when)
{
	const char *why = "?";
	if (kernel_audit(s->host.k, &why) != 0)
		fail(s, when, why);
}

static void scenario_start(struct scenario *s, const struct kernel_config *cfg)
{
	int err = bench_port_start(&s->host, cfg);
	if (err < 0)
		fail(s, "starting the kernel", kernel_error_name(err));

	/* Bystanders first, so ping's and pong's addresses hash in among all of theirs. */
	s->bystander_procs = calloc(s->bystanders ? s->bystanders : 1, sizeof *s->bystander_procs);
	if (!s->bystander_procs)
		fail(s, "starting", "out of memory");
	for (uint32_t i = 0; i < s->bystanders; i++) {
		uint64_t iid;
		s->bystander_procs[i] = create_process(s);
		create_endpoint(s, s->bystander_procs[i], &iid);
	}

	uint64_t ping_iid, pong_iid;
	s->ping = create_process(s);
	s->pong = create_process(s);
	s->ping_endpoint = create_endpoint(s, s->ping, &ping_iid);
	s->pong_endpoint = create_endpoint(s, s->pong, &pong_iid);
	bench_port_address(&s->host, ping_iid, s->ping_address);
	bench_port_address(&s->host, pong_iid, s->pong_address);

	for (uint32_t i = 0; i < s->queue_depth; i++) {
		pk_frame_t frame = kcall(s, s->ping, PK_KC_frame_alloc, 0, 0, NULL);
		write_packet(s, frame, s->ping_address, s->pong_address);
		kcall(s, s->ping, PK_KC_send, frame, PK_IPV6_HEADER_SIZE + PAYLOAD_SIZE, NULL);
	}
	s->ping_frame_count = 1 + s->spare_frames;
	s->ping_frames = calloc(s->ping_frame_count, sizeof *s->ping_frames);
	if (!s->ping_frames)
		fail(s, "starting", "out of memory");
	for (uint32_t i = 0; i < s->ping_frame_count; i++) {
		s->ping_frames[i] = kcall(s, s->ping, PK_KC_frame_alloc, 0, 0, NULL);
		write_packet(s, s->ping_frames[i], s->ping_address, s->pong_address);
	}
	audit(s, "audit after setup");
}

/* Audits, then tears everything down and requires the kernel to have every frame back. */
static void scenario_stop(struct scenario *s)
{
	audit(s, "audit after the measurements");
	if (s->host.wakes || s->host.faults)
		fail(s, "after the measurements", "the kernel woke or faulted a process");

	for (uint32_t i = 0; i < s->bystanders; i++)
		if (kernel_proc_destroy(s->host.k, s->bystander_procs[i]) < 0)
			fail(s, "kernel_proc_destroy", "a bystander is gone");
	if (kernel_proc_destroy(s->host.k, s->ping) < 0 ||
	    kernel_proc_destroy(s->host.k, s->pong) < 0)
		fail(s, "kernel_proc_destroy", "ping or pong is gone");
	audit(s, "audit after teardown");

	struct kernel_stats stats;
	kernel_stats(s->host.k, &stats);
	if (stats.frames_free != stats.frames_total || stats.procs || stats.endpoints)
		fail(s, "after teardown", "the kernel did not get every frame back");
	free(s->bystander_procs);
	free(s->ping_frames);
	bench_port_stop(&s->host);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_kan [--iterations N] [--repetitions N] [--quick] [--instructions]\n"
		"                 [--only baseline|procs|frames|queue|both]\n"
		"  --iterations N   send+recv pairs per timed repetition (default 200000)\n"
		"  --repetitions N  timed repetitions; the median is reported (default 7, max %d)\n"
		"  --quick          a run of well under a second, for CI\n"
		"  --instructions   one short repetition, no warmup: run it under callgrind\n"
		"  --only NAME      one configuration only; its ratios need its reference row\n",
		MAX_REPETITIONS);
}

static uint64_t parse_count(const char *text, const char *option)
{
	char *end;
	unsigned long long value = text ? strtoull(text, &end, 10) : 0;
	if (!text || *end || value == 0 || value > UINT64_C(1) << 40) {
		fprintf(stderr, "bench_kan: %s needs a positive number\n", option);
		usage(stderr);
		exit(2);
	}
	return value;
}

/* --quick and --instructions choose defaults; an explicit count wins whatever the order. */
static void parse_options(int argc, char **argv, struct options *opt)
{
	uint64_t iterations = 0, repetitions = 0;
	int quick = 0;
	*opt = (struct options){.only = NULL};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(arg, "--iterations")) {
			iterations = parse_count(value, arg);
			i++;
		} else if (!strcmp(arg, "--repetitions")) {
			repetitions = parse_count(value, arg);
			i++;
		} else if (!strcmp(arg, "--only")) {
			if (!value)
				parse_count(NULL, arg); /* reports the missing value and exits */
			opt->only = value;
			i++;
		} else if (!strcmp(arg, "--quick")) {
			quick = 1;
		} else if (!strcmp(arg, "--instructions")) {
			opt->instructions = 1;
		} else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "bench_kan: unknown option %s\n", arg);
			usage(stderr);
			exit(2);
		}
	}
	opt->iterations = opt->instructions ? 20000 : quick ? 4000 : 200000;
	opt->repetitions = opt->instructions ? 1 : quick ? 3 : 7;
	if (iterations)
		opt->iterations = iterations;
	if (repetitions)
		opt->repetitions =
			repetitions > MAX_REPETITIONS ? MAX_REPETITIONS : (unsigned)repetitions;
	opt->iterations += opt->iterations % 2; /* a round is two pairs */
	/* Callgrind counts the warmup too, so --instructions has none; it needs no warm cache. */
	opt->warmup_iterations = opt->instructions ? 0 : (opt->iterations / 4 & ~UINT64_C(1)) + 2;
}

static double ratio_to(const struct scenario *scenarios, unsigned reference, double ns)
{
	const struct scenario *ref = &scenarios[reference];
	return ref->selected ? ns / ref->median_ns : 0;
}

static void format_ratio(char *out, size_t size, double ratio)
{
	if (ratio > 0)
		snprintf(out, size, "%.2f", ratio);
	else
		snprintf(out, size, "-");
}

/* The table, then the verdict. The verdict judges each row against the row with as many
 * frames in use, because cycling through 10,000 frames costs cache and TLB misses whether
 * they wait in a queue or not; that is the memory hierarchy, not the kernel's algorithm. */
static void report(struct scenario *scenarios, unsigned count, const struct options *opt)
{
	for (unsigned i = 0; i < count; i++)
		if (scenarios[i].selected)
			scenarios[i].median_ns =
				bench_median(scenarios[i].ns_per_pair, opt->repetitions);

	printf("bench_kan: one KAN send + one recv, median of %u x %" PRIu64 " pairs\n",
	       opt->repetitions, opt->iterations);
	printf("%-38s %6s %8s %15s %11s %14s\n", "configuration", "frames", "ns/pair", "min..max",
	       "vs baseline", "vs same frames");
	double worst = 0, worst_vs_baseline = 0;
	const char *worst_title = "";
	for (unsigned i = 0; i < count; i++) {
		const struct scenario *s = &scenarios[i];
		if (!s->selected)
			continue;
		double lo = s->ns_per_pair[0], hi = s->ns_per_pair[0];
		for (unsigned rep = 1; rep < opt->repetitions; rep++) {
			lo = s->ns_per_pair[rep] < lo ? s->ns_per_pair[rep] : lo;
			hi = s->ns_per_pair[rep] > hi ? s->ns_per_pair[rep] : hi;
		}
		double vs_baseline = ratio_to(scenarios, 0, s->median_ns);
		double vs_frames = ratio_to(scenarios, s->reference, s->median_ns);
		char spread[32], baseline_text[16], frames_text[16];
		snprintf(spread, sizeof spread, "%.1f..%.1f", lo, hi);
		format_ratio(baseline_text, sizeof baseline_text, vs_baseline);
		format_ratio(frames_text, sizeof frames_text, vs_frames);
		printf("%-38s %6" PRIu32 " %8.1f %15s %11s %14s\n", s->title,
		       1 + s->spare_frames + s->queue_depth, s->median_ns, spread, baseline_text,
		       frames_text);
		if (vs_frames > worst) {
			worst = vs_frames;
			worst_title = s->title;
		}
		if (vs_baseline > worst_vs_baseline)
			worst_vs_baseline = vs_baseline;
	}

	if (opt->instructions)
		printf("ping_pong ran %" PRIu64 " send+recv pairs per configuration: divide "
		       "callgrind's Collected count by it\n",
		       opt->warmup_iterations + opt->iterations * opt->repetitions);
	if (worst == 0 || !scenarios[0].selected)
		return; /* nothing to compare with */
	/* A kernel that walked the hash chain or the queue would be 100 to 10,000 times slower
	 * in these rows; up to half again is noise on a busy machine, not complexity. */
	if (worst_vs_baseline > worst)
		printf("(vs same frames: against the row with as many frames in use, since cycling "
		       "10,001 frames through the caches costs up to %.2fx the baseline, queue or "
		       "not)\n",
		       worst_vs_baseline);
	if (worst <= 1.5)
		printf("O(1): worst ratio %.2f (send+recv does not grow with processes or queue "
		       "depth)\n",
		       worst);
	else
		printf("NOT FLAT: %s costs %.2f times as much as with as many frames in use; "
		       "rerun on a quiet machine and compare instruction counts "
		       "(bench/README.md)\n",
		       worst_title, worst);
}

int main(int argc, char **argv)
{
	struct options opt;
	parse_options(argc, argv, &opt);

	/* Row 0 is the baseline and row 2 the cache control: 10,001 frames in use as in the
	 * deep-queue rows, with an empty queue. */
	struct scenario scenarios[] = {
		{.name = "baseline", .title = "baseline: 2 processes, queue empty", .reference = 0},
		{.name = "procs",
		 .title = "1,000 more processes",
		 .bystanders = BYSTANDER_COUNT,
		 .reference = 0},
		{.name = "frames",
		 .title = "10,000 more frames, queue empty",
		 .spare_frames = MANY_FRAMES,
		 .reference = 2},
		{.name = "queue",
		 .title = "10,000 packets queued",
		 .queue_depth = DEEP_QUEUE,
		 .reference = 2},
		{.name = "both",
		 .title = "1,000 more processes + 10,000 queued",
		 .bystanders = BYSTANDER_COUNT,
		 .queue_depth = DEEP_QUEUE,
		 .reference = 2},
	};
	const unsigned scenario_count = sizeof scenarios / sizeof scenarios[0];
	unsigned selected = 0;
	for (unsigned i = 0; i < scenario_count; i++) {
		scenarios[i].selected = !opt.only || !strcmp(opt.only, scenarios[i].name);
		selected += (unsigned)scenarios[i].selected;
	}
	if (!selected) {
		fprintf(stderr, "bench_kan: no configuration named %s\n", opt.only);
		usage(stderr);
		return 2;
	}

	/* One configuration for every kernel, so only the process count, the queue depth and
	 * the frames in use differ between the rows. */
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	cfg.frame_count = 16384; /* 10,001 frames in use at most, and room to spare */
	cfg.max_procs = 1100;
	cfg.max_endpoints = 2048;
	cfg.queue_limit = 16384;
	cfg.default_quota = 16384;

	for (unsigned i = 0; i < scenario_count; i++)
		if (scenarios[i].selected)
			scenario_start(&scenarios[i], &cfg);

	for (unsigned i = 0; i < scenario_count; i++)
		if (scenarios[i].selected && opt.warmup_iterations)
			ping_pong(&scenarios[i], opt.warmup_iterations);
	for (unsigned rep = 0; rep < opt.repetitions; rep++)
		for (unsigned i = 0; i < scenario_count; i++) {
			struct scenario *s = &scenarios[i];
			if (!s->selected)
				continue;
			uint64_t start = bench_now_ns();
			ping_pong(s, opt.iterations);
			s->ns_per_pair[rep] =
				(double)(bench_now_ns() - start) / (double)opt.iterations;
		}

	report(scenarios, scenario_count, &opt);

	for (unsigned i = 0; i < scenario_count; i++)
		if (scenarios[i].selected)
			scenario_stop(&scenarios[i]);
	return 0;
}
