/* bench-stream: the sender of bench_sim's bulk measurement. It streams full frames (a
 * 40-byte IPv6 header and 4,056 bytes of payload each) to bench-sink as fast as the sink's
 * acknowledgements allow, and prints how long the timed packets took:
 *
 *   bench-stream [-p PACKETS] [-f FRAMES_PER_MESSAGE] [-W WARMUP] [-w WINDOW]
 *                [-a ACK_EVERY] [-g] ADDRESS
 *
 * A message of F frames is F packets sent back to back, each carrying its slice of one
 * message buffer: the KAN's MTU is one frame, so a "64 KiB" message is 16 frames. Every
 * payload byte is copied into the frame from that buffer, as write(2) copies it into a
 * socket, and a message's frames are sent in one burst (pk_send_burst). Flow control is a
 * window: at most WINDOW packets are unacknowledged, and every ACK_EVERY-th packet (and
 * the last) asks the sink for an ack. Frames are allocated a burst at a time, and an
 * ack's frame carries a later packet.
 *
 * Output: "bench-stream packets=P frames_per_message=F payload_bytes=B ns=T". Exit status
 * 0, or 1 if a call failed or an ack made no sense. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_program.h"

struct options {
	unsigned long packets; /* timed, rounded up to whole messages */
	unsigned long frames_per_message;
	unsigned long warmup; /* packets sent and acknowledged before the clock starts */
	unsigned long window;
	unsigned long ack_every;
	int wait_go;
	const char *address_text;
};

struct stream {
	uint8_t sink[PK_IPV6_ADDR_SIZE];
	const uint8_t *message; /* frames_per_message * BENCH_FRAME_PAYLOAD bytes */
	unsigned long frames_per_message;
	unsigned long window, ack_every;
	uint64_t next_seq; /* of the next packet to send */
	uint64_t acked;	   /* packets acknowledged: every seq below it arrived */
	/* Frames to write packets into: allocated a burst at a time, and acks' frames. */
	struct pk_frame stash[PK_BURST_MAX];
	unsigned stashed;
};

static int usage(void)
{
	fprintf(stderr, "usage: bench-stream [-p PACKETS] [-f FRAMES_PER_MESSAGE] [-W WARMUP] "
			"[-w WINDOW] [-a ACK_EVERY] [-g] ADDRESS\n");
	return 2;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){.packets = 4096,
				.frames_per_message = 1,
				.warmup = 256,
				.window = 128,
				.ack_every = 32};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *flag = argv[i];
		if (strcmp(flag, "-g") == 0) {
			opt->wait_go = 1;
			continue;
		}
		if (i + 1 == argc || strlen(flag) != 2)
			return -1;
		const char *value = argv[++i];
		unsigned long *target;
		unsigned long max = 100000000ul;
		switch (flag[1]) {
		case 'p':
			target = &opt->packets;
			break;
		case 'f':
			target = &opt->frames_per_message;
			max = 256;
			break;
		case 'W':
			target = &opt->warmup;
			break;
		case 'w':
			target = &opt->window;
			max = 65536;
			break;
		case 'a':
			target = &opt->ack_every;
			max = 65536;
			break;
		default:
			return -1;
		}
		if (bench_parse_count(value, max, target) < 0)
			return -1;
	}
	if (i + 1 != argc || opt->ack_every > opt->window)
		return -1;
	opt->address_text = argv[i];
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-stream: %s: %s\n", what, pk_strerror(err));
	return -1;
}

/* Waits for the next ack and keeps its frame for a packet to come (or frees it). */
static int wait_for_ack(struct stream *s)
{
	struct pk_frame frame;
	uint32_t length;
	int err = pk_recv(pk_endpoint(0), &frame, &length, PK_WAIT_FOREVER);
	if (err < 0)
		return fail("pk_recv", err);
	const struct bench_stream_header *h = bench_stream_header_read(frame.data, length);
	uint64_t seq = h ? bench_get64(h->seq) : 0;
	if (h == NULL || !(h->flags & BENCH_STREAM_ACK) || seq < s->acked || seq >= s->next_seq) {
		fprintf(stderr, "bench-stream: an answer that is not an ack of a packet sent\n");
		return -1;
	}
	s->acked = seq + 1;
	if (s->stashed < PK_BURST_MAX) {
		s->stash[s->stashed++] = frame;
		return 0;
	}
	err = pk_frame_free(&frame);
	return err < 0 ? fail("pk_frame_free", err) : 0;
}

static int take_frame(struct stream *s, struct pk_frame *ret)
{
	if (s->stashed == 0) {
		int n = pk_frame_alloc_burst(s->stash, PK_BURST_MAX);
		if (n < 0)
			return fail("pk_frame_alloc_burst", n);
		s->stashed = (unsigned)n;
	}
	*ret = s->stash[--s->stashed];
	return 0;
}

/* Sends `count` packets, the last asking for an ack, and waits until all are acked. The
 * packets of one message go in one burst (a "64 KiB" message is one entry into the kernel,
 * as it is one write(2) on the socketpair); a message longer than a burst takes several. */
static int send_packets(struct stream *s, uint64_t count)
{
	struct pk_frame burst[PK_BURST_MAX];
	uint32_t lengths[PK_BURST_MAX];
	for (uint64_t sent = 0; sent < count;) {
		uint64_t n = s->frames_per_message - s->next_seq % s->frames_per_message;
		if (n > PK_BURST_MAX)
			n = PK_BURST_MAX;
		if (n > count - sent)
			n = count - sent;
		while (s->next_seq + n - s->acked > s->window)
			if (wait_for_ack(s) < 0)
				return -1;
		for (unsigned i = 0; i < n; i++) {
			if (take_frame(s, &burst[i]) < 0)
				return -1;
			uint64_t seq = s->next_seq + i;
			uint8_t *payload = burst[i].data + PK_IPV6_HEADER_SIZE;
			pk_ipv6_header_init(burst[i].data, pk_address(0), s->sink,
					    BENCH_NEXT_HEADER, BENCH_FRAME_PAYLOAD, 64);
			memcpy(payload,
			       s->message + (seq % s->frames_per_message) * BENCH_FRAME_PAYLOAD,
			       BENCH_FRAME_PAYLOAD);
			uint8_t flags = BENCH_STREAM_DATA;
			if ((seq + 1) % s->ack_every == 0 || sent + i + 1 == count)
				flags |= BENCH_STREAM_ACK_REQUEST;
			bench_stream_header_write(payload, flags, seq);
			lengths[i] = PK_FRAME_SIZE;
		}
		int done = pk_send_burst(burst, lengths, (unsigned)n);
		if (done < 0)
			return fail("pk_send_burst", done);
		if ((uint64_t)done != n) {
			fprintf(stderr, "bench-stream: only %d of %u packets sent\n", done,
				(unsigned)n);
			return -1;
		}
		s->next_seq += n;
		sent += n;
	}
	while (s->acked != s->next_seq)
		if (wait_for_ack(s) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_options(argc, argv, &opt) < 0)
		return usage();
	int err = pk_init();
	if (err < 0) {
		fail("pk_init", err);
		return 1;
	}
	struct stream s = {.frames_per_message = opt.frames_per_message,
			   .window = opt.window,
			   .ack_every = opt.ack_every};
	if (bench_parse_address(opt.address_text, s.sink) < 0)
		return usage();
	size_t message_size = opt.frames_per_message * BENCH_FRAME_PAYLOAD;
	uint8_t *message = malloc(message_size);
	if (message == NULL) {
		fail("malloc", -PK_ENOMEM);
		return 1;
	}
	for (size_t i = 0; i < message_size; i++)
		message[i] = (uint8_t)(i * 131 + 7);
	s.message = message;
	uint64_t packets = (opt.packets + opt.frames_per_message - 1) / opt.frames_per_message *
			   opt.frames_per_message;
	if (opt.wait_go)
		bench_wait_for_go();

	if (send_packets(&s, opt.warmup) < 0)
		return 1;
	uint64_t start = pk_now_ns();
	if (send_packets(&s, packets) < 0)
		return 1;
	uint64_t elapsed = pk_now_ns() - start;
	if (s.stashed > 0 && (err = pk_frame_free_burst(s.stash, s.stashed)) < 0) {
		fail("pk_frame_free_burst", err);
		return 1;
	}
	free(message);

	printf("bench-stream packets=%llu frames_per_message=%lu payload_bytes=%llu ns=%llu\n",
	       (unsigned long long)packets, opt.frames_per_message,
	       (unsigned long long)(packets * BENCH_FRAME_PAYLOAD), (unsigned long long)elapsed);
	return fflush(stdout) == 0 ? 0 : 1;
}
