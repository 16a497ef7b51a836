/* bench-rtt: the client of bench_sim's round-trip measurement. It bounces one packet off an
 * echo server (servers/kan-echo) with pk_send_recv, timing each round trip with pk_now_ns,
 * and prints every timed round trip in ns, one per line, after a header line:
 *
 *   bench-rtt [-n ROUNDS] [-w WARMUP] [-s PAYLOAD] [-t TIMEOUT_MS] [-g] ADDRESS
 *
 * The packet is written afresh before each send (the echo swapped its addresses) and
 * outside the timed span; the answer must be the packet just sent. Exit status 0, or 1 if
 * a call failed or an answer was wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_program.h"

struct options {
	unsigned long rounds;
	unsigned long warmup;
	unsigned long payload; /* bytes after the IPv6 header, at least 8 */
	uint32_t timeout_ms;   /* for each answer; PK_WAIT_FOREVER by default */
	int wait_go;	       /* -g */
	const char *address_text;
};

static int usage(void)
{
	fprintf(stderr, "usage: bench-rtt [-n ROUNDS] [-w WARMUP] [-s PAYLOAD] [-t TIMEOUT_MS] "
			"[-g] ADDRESS\n");
	return 2;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){
		.rounds = 1000, .warmup = 100, .payload = 64, .timeout_ms = PK_WAIT_FOREVER};
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
		unsigned long n;
		switch (flag[1]) {
		case 'n':
			if (bench_parse_count(value, 100000000ul, &opt->rounds) < 0)
				return -1;
			break;
		case 'w':
			if (strcmp(value, "0") == 0)
				opt->warmup = 0;
			else if (bench_parse_count(value, 100000000ul, &opt->warmup) < 0)
				return -1;
			break;
		case 's':
			if (bench_parse_count(value, BENCH_FRAME_PAYLOAD, &opt->payload) < 0 ||
			    opt->payload < 8)
				return -1;
			break;
		case 't':
			if (bench_parse_count(value, 3600000ul, &n) < 0)
				return -1;
			opt->timeout_ms = (uint32_t)n;
			break;
		default:
			return -1;
		}
	}
	if (i + 1 != argc)
		return -1;
	opt->address_text = argv[i];
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-rtt: %s: %s\n", what, pk_strerror(err));
	return 1;
}

/* The answer must be our packet, addresses swapped, with the sequence number we sent. */
static int is_answer(const uint8_t *packet, uint32_t length, uint32_t sent_length,
		     const uint8_t server[PK_IPV6_ADDR_SIZE], uint64_t seq)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet;
	return length == sent_length && memcmp(h->source, server, PK_IPV6_ADDR_SIZE) == 0 &&
	       memcmp(h->destination, pk_address(0), PK_IPV6_ADDR_SIZE) == 0 &&
	       bench_get64(packet + PK_IPV6_HEADER_SIZE) == seq;
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_options(argc, argv, &opt) < 0)
		return usage();
	int err = pk_init();
	if (err < 0)
		return fail("pk_init", err);
	uint8_t server[PK_IPV6_ADDR_SIZE];
	if (bench_parse_address(opt.address_text, server) < 0)
		return usage();
	uint64_t *samples = malloc(opt.rounds * sizeof *samples);
	if (samples == NULL)
		return fail("malloc", -PK_ENOMEM);
	if (opt.wait_go)
		bench_wait_for_go();

	struct pk_frame frame;
	if ((err = pk_frame_alloc(&frame)) < 0)
		return fail("pk_frame_alloc", err);
	const uint32_t length = PK_IPV6_HEADER_SIZE + (uint32_t)opt.payload;
	memset(frame.data + PK_IPV6_HEADER_SIZE, 0x5a, opt.payload);
	const pk_endpoint_t endpoint = pk_endpoint(0);
	for (uint64_t i = 0; i < opt.warmup + opt.rounds; i++) {
		pk_ipv6_header_init(frame.data, pk_address(0), server, 59 /* no next header */,
				    (uint16_t)opt.payload, 64);
		bench_put64(frame.data + PK_IPV6_HEADER_SIZE, i);
		uint32_t in_length;
		uint64_t start = pk_now_ns();
		err = pk_send_recv(&frame, length, endpoint, &frame, &in_length, opt.timeout_ms);
		uint64_t end = pk_now_ns();
		if (err < 0)
			return fail("pk_send_recv", err);
		if (!is_answer(frame.data, in_length, length, server, i)) {
			fprintf(stderr, "bench-rtt: round trip %llu: not the answer to it\n",
				(unsigned long long)i);
			return 1;
		}
		if (i >= opt.warmup)
			samples[i - opt.warmup] = end - start;
	}
	if ((err = pk_frame_free(&frame)) < 0)
		return fail("pk_frame_free", err);

	printf("bench-rtt rounds=%lu warmup=%lu payload=%lu\n", opt.rounds, opt.warmup,
	       opt.payload);
	for (unsigned long i = 0; i < opt.rounds; i++)
		printf("%llu\n", (unsigned long long)samples[i]);
	free(samples);
	return fflush(stdout) == 0 ? 0 : 1;
}
