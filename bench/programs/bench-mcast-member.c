/* bench-mcast-member: a member of a multicast group, through the kernel's groups or the
 * multicast server (<pk/mcast.h>), for bench_mcast and the integration tests.
 *
 *   bench-mcast-member [-d kernel|server] [-q] [-H] [-S FILE] GROUP
 *
 *   -d       the design: the kernel's groups (the default) or the multicast server
 *   -q       quiet: never acknowledges, so no sender waits for it
 *   -H       holds every packet it receives and never frees one (implies -q); once its
 *            quota is full it waits to be killed
 *   -S FILE  slow: reads nothing until FILE exists, then reads until 500 ms pass without a
 *            packet, reports and exits (implies -q)
 *
 * It answers every packet that asks for an ack (bench-mcast-send's) with the packet's
 * number and the time it received it, and reports on stderr, prefixed with its name:
 * "joined", then at the end of each run "run complete: received R, lost L, missing M"
 * (L: losses the design reported, M: gaps in the numbers it saw). Exit status 0, or 1 if
 * a call fails. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_program.h"

#define JOIN_TIMEOUT_MS	  5000
#define SLOW_SILENCE_MS	  500
#define SLOW_POLL_NS	  10000000u
#define HOLDING_REPORT_AT 32

struct options {
	enum pk_mcast_design design;
	bool quiet, hold;
	const char *slow_until; /* a file's path */
	uint8_t group[PK_IPV6_ADDR_SIZE];
};

/* What one run brought. */
struct tally {
	uint64_t received, lost, missing, next_seq, last_seq;
};

static struct pk_mcast mcast;
static struct options opt;
static uint64_t held;

static int usage(void)
{
	fprintf(stderr, "usage: bench-mcast-member [-d kernel|server] [-q] [-H] [-S FILE] GROUP\n");
	return 2;
}

static int parse_options(int argc, char **argv)
{
	opt = (struct options){.design = PK_MCAST_KERNEL};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			if (bench_parse_design(argv[++i], &opt.design) < 0)
				return -1;
		} else if (strcmp(argv[i], "-q") == 0)
			opt.quiet = true;
		else if (strcmp(argv[i], "-H") == 0)
			opt.hold = opt.quiet = true;
		else if (strcmp(argv[i], "-S") == 0 && i + 1 < argc)
			opt.slow_until = argv[++i], opt.quiet = true;
		else
			return -1;
	}
	if (i + 1 != argc || pk_addr_parse(argv[i], opt.group) < 0)
		return -1;
	return 0;
}

static void ack(const struct pk_mcast_received *r, uint64_t seq, uint64_t received_ns)
{
	struct pk_frame frame;
	if (pk_frame_alloc(&frame) < 0)
		return; /* the sender times out and says so */
	bench_mcast_payload_write(frame.data + PK_IPV6_HEADER_SIZE, BENCH_MCAST_ACK, seq,
				  received_ns);
	pk_ipv6_header_init(frame.data, mcast.address, r->sender, BENCH_NEXT_HEADER,
			    sizeof(struct bench_mcast_payload), 64);
	if (pk_send(&frame, PK_IPV6_HEADER_SIZE + sizeof(struct bench_mcast_payload)) < 0)
		pk_frame_free(&frame);
}

static void report(const char *what, const struct tally *t)
{
	fprintf(stderr, "%s: %s: received %llu, lost %llu, missing %llu, last seq %llu\n",
		pk_name(), what, (unsigned long long)t->received, (unsigned long long)t->lost,
		(unsigned long long)t->missing, (unsigned long long)t->last_seq);
}

/* Counts one packet of a run; acknowledges it if asked. */
static void take(const struct pk_frame *frame, uint32_t length, uint64_t received_ns,
		 struct tally *t)
{
	struct pk_mcast_received r;
	if (!pk_mcast_parse(&mcast, frame, length, &r))
		return;
	const struct bench_mcast_payload *p =
		bench_mcast_payload_read(frame->data + r.payload_offset, r.payload_length);
	if (p == NULL || (p->flags & BENCH_MCAST_ACK))
		return;
	uint64_t seq = bench_get64(p->seq);
	t->received++;
	t->lost += r.lost;
	t->missing += seq > t->next_seq ? seq - t->next_seq : 0;
	t->next_seq = seq + 1;
	t->last_seq = seq;
	if ((p->flags & BENCH_MCAST_ACK_REQUEST) && !opt.quiet)
		ack(&r, seq, received_ns);
	if ((p->flags & BENCH_MCAST_END) && opt.slow_until == NULL) {
		report("run complete", t);
		*t = (struct tally){0};
	}
}

/* Takes what arrives for up to `timeout_ms` at a time; returns 0 when a wait passes with
 * nothing (never, for PK_WAIT_FOREVER), or an error. */
static int receive(uint32_t timeout_ms, struct tally *t)
{
	struct pk_frame frames[PK_BURST_MAX];
	uint32_t lengths[PK_BURST_MAX];
	for (;;) {
		int n = pk_recv_burst(mcast.endpoint, frames, lengths, PK_BURST_MAX, timeout_ms);
		if (n == -PK_ETIMEDOUT)
			return 0;
		if (n == -PK_EQUOTA && opt.hold) {
			fprintf(stderr, "%s: holding %llu packets, its quota\n", pk_name(),
				(unsigned long long)held);
			for (;;)
				pk_sleep_ns(SLOW_POLL_NS);
		}
		if (n < 0)
			return n;
		uint64_t now = pk_now_ns();
		for (int i = 0; i < n; i++)
			take(&frames[i], lengths[i], now, t);
		if (opt.hold) {
			uint64_t before = held;
			held += (uint64_t)n;
			if (before < HOLDING_REPORT_AT && held >= HOLDING_REPORT_AT)
				fprintf(stderr, "%s: holding %d packets\n", pk_name(),
					HOLDING_REPORT_AT);
			continue;
		}
		int err = pk_frame_free_burst(frames, (unsigned)n);
		if (err < 0)
			return err;
	}
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv) < 0)
		return usage();
	int err = pk_init();
	if (err == 0) {
		pk_mcast_init(&mcast, opt.design, pk_endpoint(0), pk_address(0));
		err = pk_mcast_join(&mcast, opt.group, JOIN_TIMEOUT_MS);
	}
	if (err < 0) {
		fprintf(stderr, "%s: join: %s\n", pk_name(), pk_strerror(err));
		return 1;
	}
	fprintf(stderr, "%s: joined\n", pk_name());
	struct tally t = {0};
	if (opt.slow_until != NULL) {
		while (access(opt.slow_until, F_OK) != 0)
			pk_sleep_ns(SLOW_POLL_NS);
		if ((err = receive(SLOW_SILENCE_MS, &t)) == 0) {
			report("slow", &t);
			return 0;
		}
	} else {
		err = receive(PK_WAIT_FOREVER, &t);
	}
	fprintf(stderr, "%s: %s\n", pk_name(), pk_strerror(err));
	return 1;
}
