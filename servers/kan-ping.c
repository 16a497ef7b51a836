/* kan-ping: sends ICMPv6 echo requests to a KAN address and times the answers.
 *
 *   kan-ping [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [-q] ADDRESS
 *
 * An answer is an echo reply (type 129) or the request itself reflected by kan-echo, with
 * this program's identifier and the sequence number sent. Exit status as ping's: 0 if
 * every request was answered, 1 if some were not, 2 on an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pk/pk.h>

enum { ICMPV6 = 58, ECHO_REQUEST = 128, ECHO_REPLY = 129, ICMP_ECHO_HEADER = 8 };

struct options {
	unsigned long count;
	uint32_t size;	      /* bytes of data after the 8-byte echo header */
	uint64_t interval_ns; /* between one answer and the next request */
	uint32_t timeout_ms;  /* for each answer */
	int quiet;
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	const char *destination_text;
};

struct stats {
	unsigned long sent, received, errors;
	double min_us, max_us, sum_us;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: kan-ping [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [-q] ADDRESS\n");
	return 2;
}

static int parse_seconds(const char *text, uint64_t *ret_ns)
{
	char *end;
	double seconds = strtod(text, &end);
	if (end == text || *end != '\0' || !(seconds >= 0) || seconds > 3600)
		return -1;
	*ret_ns = (uint64_t)(seconds * 1e9);
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){
		.count = 5, .size = 56, .interval_ns = 1000000000u, .timeout_ms = 1000};
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *flag = argv[i];
		if (strcmp(flag, "-q") == 0) {
			opt->quiet = 1;
			continue;
		}
		if (i + 1 == argc || strlen(flag) != 2)
			return -1;
		const char *value = argv[++i];
		char *end;
		uint64_t ns;
		switch (flag[1]) {
		case 'c':
			opt->count = strtoul(value, &end, 10);
			if (*end != '\0' || end == value || opt->count == 0)
				return -1;
			break;
		case 's': {
			unsigned long size = strtoul(value, &end, 10);
			if (*end != '\0' || end == value ||
			    size > PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE - ICMP_ECHO_HEADER)
				return -1;
			opt->size = (uint32_t)size;
			break;
		}
		case 'i':
			if (parse_seconds(value, &opt->interval_ns) < 0)
				return -1;
			break;
		case 'W':
			if (parse_seconds(value, &ns) < 0 || ns < 1000000)
				return -1;
			opt->timeout_ms = (uint32_t)(ns / 1000000);
			break;
		default:
			return -1;
		}
	}
	if (i + 1 != argc || pk_addr_parse(argv[i], opt->destination) < 0)
		return -1;
	opt->destination_text = argv[i];
	return 0;
}

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = (uint8_t)(value >> 8);
	p[1] = (uint8_t)value;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t write_request(uint8_t *packet, const struct options *opt, uint16_t id, uint16_t seq)
{
	uint32_t icmp_length = ICMP_ECHO_HEADER + opt->size;
	pk_ipv6_header_init(packet, pk_address(0), opt->destination, ICMPV6, (uint16_t)icmp_length,
			    64);
	uint8_t *icmp = packet + PK_IPV6_HEADER_SIZE;
	icmp[0] = ECHO_REQUEST;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	for (uint32_t i = 0; i < opt->size; i++)
		icmp[ICMP_ECHO_HEADER + i] = (uint8_t)i;
	put16(icmp + 2, pk_ipv6_upper_checksum(packet, ICMPV6, icmp_length));
	return PK_IPV6_HEADER_SIZE + icmp_length;
}

static int is_answer(const uint8_t *packet, uint32_t length, uint16_t id, uint16_t seq)
{
	if (length < PK_IPV6_HEADER_SIZE + ICMP_ECHO_HEADER || packet[6] != ICMPV6)
		return 0;
	const uint8_t *icmp = packet + PK_IPV6_HEADER_SIZE;
	return (icmp[0] == ECHO_REPLY || icmp[0] == ECHO_REQUEST) && get16(icmp + 4) == id &&
	       get16(icmp + 6) == seq;
}

/* Sends one request in `frame` (allocated if it has none) and waits for its answer,
 * dropping stale answers to earlier ones. The answer's frame comes back in `frame`, ready
 * to carry the next request: a steady ping allocates nothing. Returns the round trip in
 * ns, 0 if no answer came in time, or a negative error. */
static int64_t ping_once(const struct options *opt, uint16_t id, uint16_t seq,
			 struct pk_frame *frame)
{
	int err;
	if (frame->handle == 0 && (err = pk_frame_alloc(frame)) < 0)
		return err;
	uint32_t length = write_request(frame->data, opt, id, seq), in_length;
	uint64_t start = pk_now_ns(), deadline = start + (uint64_t)opt->timeout_ms * 1000000u;
	err = pk_send_recv(frame, length, pk_endpoint(0), frame, &in_length, opt->timeout_ms);
	while (err == 0) {
		uint64_t now = pk_now_ns();
		if (is_answer(frame->data, in_length, id, seq))
			return (int64_t)(now - start);
		pk_frame_free(frame);
		if (now >= deadline)
			return 0;
		uint32_t left_ms = (uint32_t)((deadline - now + 999999) / 1000000);
		err = pk_recv(pk_endpoint(0), frame, &in_length, left_ms);
	}
	return err == -PK_ETIMEDOUT ? 0 : err;
}

static void record(struct stats *st, double us)
{
	if (st->received == 0 || us < st->min_us)
		st->min_us = us;
	if (st->received == 0 || us > st->max_us)
		st->max_us = us;
	st->sum_us += us;
	st->received++;
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_options(argc, argv, &opt) < 0)
		return usage();
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "kan-ping: %s\n", pk_strerror(err));
		return 2;
	}
	char text[PK_ADDR_STRLEN];
	pk_addr_format(opt.destination, text);
	uint16_t id = (uint16_t)(pk_address(0)[14] << 8 | pk_address(0)[15]);
	if (!opt.quiet)
		printf("PING %s: %u data bytes\n", text, opt.size);

	struct stats st = {0};
	struct pk_frame frame = {0};
	for (unsigned long seq = 1; seq <= opt.count; seq++) {
		if (seq > 1 && opt.interval_ns > 0)
			pk_sleep_ns(opt.interval_ns);
		int64_t rtt = ping_once(&opt, id, (uint16_t)seq, &frame);
		st.sent++;
		if (rtt < 0) {
			st.errors++;
			printf("From %s icmp_seq=%lu: %s\n", text, seq, pk_strerror((int)rtt));
		} else if (rtt == 0) {
			if (!opt.quiet)
				printf("no answer from %s icmp_seq=%lu\n", text, seq);
		} else {
			record(&st, (double)rtt / 1000.0);
			if (!opt.quiet)
				printf("%u bytes from %s: icmp_seq=%lu time=%.1f us\n",
				       opt.size + ICMP_ECHO_HEADER, text, seq,
				       (double)rtt / 1000.0);
		}
		fflush(stdout);
	}

	if (frame.handle != 0)
		pk_frame_free(&frame);
	printf("--- %s kan-ping statistics ---\n", text);
	printf("%lu packets transmitted, %lu received, ", st.sent, st.received);
	if (st.errors > 0)
		printf("+%lu errors, ", st.errors);
	printf("%.0f%% packet loss\n", 100.0 * (double)(st.sent - st.received) / (double)st.sent);
	if (st.received > 0)
		printf("rtt min/avg/max = %.1f/%.1f/%.1f us\n", st.min_us,
		       st.sum_us / (double)st.received, st.max_us);
	return st.received == st.sent ? 0 : st.received > 0 || st.errors == 0 ? 1 : 2;
}
