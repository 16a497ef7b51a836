/* bench-mcast-send: sends numbered packets to a multicast group, through the kernel's
 * groups or the multicast server (<pk/mcast.h>), and times their delivery by the members'
 * acks (bench-mcast-member), for bench_mcast and the integration tests.
 *
 *   bench-mcast-send [-d kernel|server] [-L] [-n COUNT] [-a ACKERS] [-w WINDOW] [-u WARMUP] [-p
 * PAYLOAD]
 *                    [-t TIMEOUT_MS] [-g] GROUP
 *
 *   -d   the design: the kernel's groups (the default) or the multicast server
 *   -L   latency: COUNT rounds (after WARMUP more) of one packet that every acking member
 *        answers; prints "bench-mcast-send latency rounds=N", then one line per round:
 *        ns from the send to the time the last of the ACKERS members received it
 *   default, throughput: COUNT packets in windows of WINDOW; the last packet of each
 *        window asks for acks, and a window is sent only once every acking member has
 *        acknowledged the window before the last, so no member that keeps up loses one;
 *        prints "bench-mcast-send throughput packets=N ns=T retries=R"
 *
 * ACKERS is how many members answer (the quiet ones do not). The last packet of a run
 * carries the END flag. A refused send (-PK_ENOBUFS: the server's queue is full) is tried
 * again after a short sleep and counted as a retry. Exit status 0, or 1 if a call fails or
 * an ack does not come within TIMEOUT_MS (default 10 s). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_program.h"

#define RETRY_SLEEP_NS	  20000u
#define WINDOWS_IN_FLIGHT 2

struct options {
	enum pk_mcast_design design;
	bool latency, wait_go;
	unsigned long count, ackers, window, warmup, payload;
	uint32_t timeout_ms;
	uint8_t group[PK_IPV6_ADDR_SIZE];
};

static struct options opt;
static struct pk_mcast mcast;
static uint64_t retries;

static int usage(void)
{
	fprintf(stderr, "usage: bench-mcast-send [-d kernel|server] [-L] [-n COUNT] [-a ACKERS] "
			"[-w WINDOW] "
			"[-u WARMUP] [-p PAYLOAD] [-t TIMEOUT_MS] [-g] GROUP\n");
	return 2;
}

static int parse_options(int argc, char **argv)
{
	opt = (struct options){.design = PK_MCAST_KERNEL,
			       .count = 1000,
			       .ackers = 1,
			       .window = 16,
			       .warmup = 10,
			       .payload = 64,
			       .timeout_ms = 10000};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *flag = argv[i];
		if (strcmp(flag, "-L") == 0 || strcmp(flag, "-g") == 0) {
			opt.latency |= flag[1] == 'L';
			opt.wait_go |= flag[1] == 'g';
			continue;
		}
		if (i + 1 == argc || strlen(flag) != 2)
			return -1;
		const char *value = argv[++i];
		if (strcmp(flag, "-d") == 0) {
			if (bench_parse_design(value, &opt.design) < 0)
				return -1;
			continue;
		}
		unsigned long timeout = 0;
		unsigned long *target = flag[1] == 'n'	 ? &opt.count
					: flag[1] == 'a' ? &opt.ackers
					: flag[1] == 'w' ? &opt.window
					: flag[1] == 'u' ? &opt.warmup
					: flag[1] == 'p' ? &opt.payload
					: flag[1] == 't' ? &timeout
							 : NULL;
		if (target == &opt.warmup && strcmp(value, "0") == 0)
			opt.warmup = 0;
		else if (target == NULL || bench_parse_count(value, 100000000ul, target) < 0)
			return -1;
		if (timeout)
			opt.timeout_ms = (uint32_t)timeout;
	}
	if (i + 1 != argc || pk_addr_parse(argv[i], opt.group) < 0 ||
	    opt.payload < sizeof(struct bench_mcast_payload) || opt.window > opt.count)
		return -1;
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-mcast-send: %s: %s\n", what, pk_strerror(err));
	return 1;
}

/* Fills frames[i] with packet `first + i` of the run. */
static void write_packets(struct pk_frame *frames, uint32_t *lengths, unsigned count,
			  uint64_t first, uint64_t last_of_window, uint64_t last_of_run)
{
	uint32_t offset = pk_mcast_payload_offset(&mcast);
	for (unsigned i = 0; i < count; i++) {
		uint64_t seq = first + i;
		uint8_t flags = (seq == last_of_window ? BENCH_MCAST_ACK_REQUEST : 0) |
				(seq == last_of_run ? BENCH_MCAST_END : 0);
		memset(frames[i].data + offset, 0x5a, opt.payload);
		bench_mcast_payload_write(frames[i].data + offset, flags, seq, pk_now_ns());
		lengths[i] = pk_mcast_packet(&mcast, frames[i].data, opt.group, BENCH_NEXT_HEADER,
					     (uint32_t)opt.payload);
	}
}

/* Sends every frame, trying again while the destination's queue is full. */
static int send_all(struct pk_frame *frames, uint32_t *lengths, unsigned count)
{
	for (unsigned at = 0; at < count;) {
		int sent = pk_send_burst(&frames[at], &lengths[at], count - at);
		if (sent == -PK_ENOBUFS) {
			retries++;
			pk_sleep_ns(RETRY_SLEEP_NS);
			continue;
		}
		if (sent < 0)
			return sent;
		at += (unsigned)sent;
	}
	return 0;
}

/* Sends packets first..first+count-1 (the last asks for acks), in bursts. */
static int send_window(uint64_t first, unsigned long count, uint64_t last_of_run)
{
	struct pk_frame frames[PK_BURST_MAX];
	uint32_t lengths[PK_BURST_MAX];
	uint64_t last_of_window = first + count - 1;
	for (uint64_t seq = first; seq <= last_of_window;) {
		unsigned burst = last_of_window - seq + 1 < PK_BURST_MAX
					 ? (unsigned)(last_of_window - seq + 1)
					 : PK_BURST_MAX;
		int got = pk_frame_alloc_burst(frames, burst);
		if (got < 0)
			return got;
		write_packets(frames, lengths, (unsigned)got, seq, last_of_window, last_of_run);
		int err = send_all(frames, lengths, (unsigned)got);
		if (err < 0) {
			pk_frame_free_burst(frames, (unsigned)got);
			return err;
		}
		seq += (uint64_t)got;
	}
	return 0;
}

/* Acks counted for the windows in flight, by the seq each acknowledges. */
struct ack_count {
	uint64_t seq;
	unsigned long count;
	uint64_t latest_ns; /* the latest receive time among them */
};

/* Waits until `ackers` acks of `seq` have come, counting acks of the other window in
 * flight on the way. */
static int wait_acks(struct ack_count *acks, unsigned slots, uint64_t seq)
{
	struct ack_count *want = NULL;
	for (unsigned i = 0; i < slots; i++)
		if (acks[i].seq == seq)
			want = &acks[i];
	while (want->count < opt.ackers) {
		struct pk_frame frame;
		uint32_t length;
		int err = pk_recv(mcast.endpoint, &frame, &length, opt.timeout_ms);
		if (err == -PK_ETIMEDOUT) {
			fprintf(stderr, "bench-mcast-send: packet %llu: %lu of %lu acks in %u ms\n",
				(unsigned long long)seq, want->count, opt.ackers, opt.timeout_ms);
			return err;
		}
		if (err < 0)
			return err;
		const struct bench_mcast_payload *p =
			length >= PK_IPV6_HEADER_SIZE
				? bench_mcast_payload_read(frame.data + PK_IPV6_HEADER_SIZE,
							   length - PK_IPV6_HEADER_SIZE)
				: NULL;
		for (unsigned i = 0; p != NULL && (p->flags & BENCH_MCAST_ACK) && i < slots; i++) {
			if (acks[i].seq != bench_get64(p->seq))
				continue;
			acks[i].count++;
			uint64_t at = bench_get64(p->time_ns);
			acks[i].latest_ns = at > acks[i].latest_ns ? at : acks[i].latest_ns;
		}
		pk_frame_free(&frame);
	}
	return 0;
}

static int throughput(void)
{
	struct ack_count acks[WINDOWS_IN_FLIGHT] = {0};
	uint64_t last_of_run = opt.count - 1, start = pk_now_ns();
	uint64_t windows = (opt.count + opt.window - 1) / opt.window;
	for (uint64_t w = 0; w < windows + 1; w++) {
		/* Window w goes out once window w - 2 is acknowledged by everyone. */
		if (w >= WINDOWS_IN_FLIGHT) {
			uint64_t old = w - WINDOWS_IN_FLIGHT;
			uint64_t old_last = (old + 1) * opt.window - 1;
			int err = wait_acks(acks, WINDOWS_IN_FLIGHT,
					    old_last < last_of_run ? old_last : last_of_run);
			if (err < 0)
				return fail("waiting for acks", err);
		}
		if (w == windows) {
			int err = wait_acks(acks, WINDOWS_IN_FLIGHT, last_of_run);
			if (err < 0)
				return fail("waiting for acks", err);
			break;
		}
		uint64_t first = w * opt.window;
		unsigned long count =
			first + opt.window <= opt.count ? opt.window : opt.count - first;
		acks[w % WINDOWS_IN_FLIGHT] = (struct ack_count){.seq = first + count - 1};
		int err = send_window(first, count, last_of_run);
		if (err < 0)
			return fail("send", err);
	}
	uint64_t ns = pk_now_ns() - start;
	printf("bench-mcast-send throughput packets=%lu ns=%llu retries=%llu\n", opt.count,
	       (unsigned long long)ns, (unsigned long long)retries);
	return 0;
}

static int latency(void)
{
	unsigned long rounds = opt.warmup + opt.count;
	uint64_t *samples = malloc(opt.count * sizeof *samples);
	if (samples == NULL)
		return fail("malloc", -PK_ENOMEM);
	for (uint64_t seq = 0; seq < rounds; seq++) {
		struct ack_count acks = {.seq = seq};
		uint64_t sent_ns = pk_now_ns();
		int err = send_window(seq, 1, rounds - 1);
		if (err == 0)
			err = wait_acks(&acks, 1, seq);
		if (err < 0) {
			free(samples);
			return fail("round", err);
		}
		if (seq >= opt.warmup)
			samples[seq - opt.warmup] = acks.latest_ns - sent_ns;
	}
	printf("bench-mcast-send latency rounds=%lu\n", opt.count);
	for (unsigned long i = 0; i < opt.count; i++)
		printf("%llu\n", (unsigned long long)samples[i]);
	free(samples);
	return 0;
}

int main(int argc, char **argv)
{
	int err = pk_init();
	if (err < 0)
		return fail("pk_init", err);
	if (parse_options(argc, argv) < 0)
		return usage();
	pk_mcast_init(&mcast, opt.design, pk_endpoint(0), pk_address(0));
	if (opt.payload > PK_FRAME_SIZE - pk_mcast_payload_offset(&mcast))
		return usage();
	if (opt.wait_go)
		bench_wait_for_go();
	err = opt.latency ? latency() : throughput();
	return err == 0 && fflush(stdout) == 0 ? 0 : 1;
}
