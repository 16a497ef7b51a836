/* kan-ping: sends ICMPv6 echo requests to an address and times the echo replies.
 *
 *   kan-ping [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS] [-q] ADDRESS
 *
 * Requests and replies go through the process's interface (<pk/netif.h>), so a request
 * larger than a frame leaves in fragments and its reply is reassembled. An answer is an
 * echo reply (type 129) from ADDRESS with this program's identifier, the sequence number
 * sent and exactly the data sent; a reply with other data, and an ICMPv6 error about the
 * request, are reported and counted as errors. Exit status as ping's: 0 if every request
 * was answered, 1 if some were not, 2 on an error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>
#include <pk/netif.h>
#include <pk/bytes.h>

enum { ICMP_ECHO_HEADER = 8, SIZE_MAX_BYTES = PK_NETIF_DATAGRAM_MAX - ICMP_ECHO_HEADER };

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
			if (*end != '\0' || end == value || size > SIZE_MAX_BYTES)
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

/* Requests too large for a frame are written here and sent in fragments. */
static uint8_t large_request[PK_IPV6_HEADER_SIZE + PK_NETIF_DATAGRAM_MAX];

/* Writes the request into `packet`: into a frame (the one it holds, if any) when it fits
 * one, else into large_request. Returns 0 or an error. */
static int write_request(struct pk_netif_packet *packet, const struct options *opt, uint16_t id,
			 uint16_t seq)
{
	uint32_t icmp_length = ICMP_ECHO_HEADER + opt->size;
	uint32_t length = PK_IPV6_HEADER_SIZE + icmp_length;
	if (length <= PK_FRAME_SIZE) {
		int err = pk_netif_packet_alloc(packet);
		if (err < 0)
			return err;
	} else {
		pk_netif_release(packet);
		packet->data = large_request;
	}
	uint8_t *p = packet->data;
	pk_ipv6_header_init(p, pk_address(0), opt->destination, PK_IPPROTO_ICMPV6,
			    (uint16_t)icmp_length, PK_NET_HOP_LIMIT);
	uint8_t *icmp = p + PK_IPV6_HEADER_SIZE;
	icmp[0] = PK_ICMPV6_ECHO_REQUEST;
	icmp[1] = 0;
	pk_put16(icmp + 2, 0);
	pk_put16(icmp + 4, id);
	pk_put16(icmp + 6, seq);
	for (uint32_t i = 0; i < opt->size; i++)
		icmp[ICMP_ECHO_HEADER + i] = (uint8_t)i;
	pk_put16(icmp + 2, pk_ipv6_upper_checksum(p, PK_IPPROTO_ICMPV6, icmp_length));
	packet->length = length;
	return 0;
}

enum answer {
	ANSWER_NONE,	/* nothing about this request (yet) */
	ANSWER_REPLY,	/* its echo reply, data intact */
	ANSWER_DAMAGED, /* its echo reply, with other data */
	ANSWER_ERROR,	/* an ICMPv6 error quoting it */
};

/* Whether `echo` (an ICMPv6 message of `length` bytes) is an echo message of `type` with
 * this program's identifier and sequence number `seq`. */
static bool is_echo(const uint8_t *echo, uint32_t length, uint8_t type, uint16_t id, uint16_t seq)
{
	return length >= ICMP_ECHO_HEADER && echo[0] == type && echo[1] == 0 &&
	       pk_get16(echo + 4) == id && pk_get16(echo + 6) == seq;
}

/* What a delivered packet says about request `seq`. */
static enum answer classify(const struct pk_netif_packet *packet, const struct options *opt,
			    uint16_t id, uint16_t seq)
{
	if (packet->protocol != PK_IPPROTO_ICMPV6)
		return ANSWER_NONE;
	const uint8_t *icmp = packet->data + packet->upper_offset;
	uint32_t icmp_length = packet->length - packet->upper_offset;
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet->data;
	if (icmp[0] == PK_ICMPV6_ECHO_REPLY) {
		if (memcmp(h->source, opt->destination, PK_IPV6_ADDR_SIZE) != 0 ||
		    !is_echo(icmp, icmp_length, PK_ICMPV6_ECHO_REPLY, id, seq))
			return ANSWER_NONE;
		if (icmp_length != ICMP_ECHO_HEADER + opt->size)
			return ANSWER_DAMAGED;
		for (uint32_t i = 0; i < opt->size; i++)
			if (icmp[ICMP_ECHO_HEADER + i] != (uint8_t)i)
				return ANSWER_DAMAGED;
		return ANSWER_REPLY;
	}
	/* An error quotes the request from its IPv6 header on; ours carry no extension
	 * headers, so the echo header follows it. */
	const uint8_t *quoted = icmp + PK_ICMPV6_HEADER_SIZE;
	uint32_t quoted_length = icmp_length - PK_ICMPV6_HEADER_SIZE;
	if (icmp[0] < PK_ICMPV6_ECHO_REQUEST &&
	    quoted_length >= PK_IPV6_HEADER_SIZE + ICMP_ECHO_HEADER &&
	    quoted[6] == PK_IPPROTO_ICMPV6 &&
	    memcmp(((const struct pk_ipv6_header *)quoted)->source, pk_address(0),
		   PK_IPV6_ADDR_SIZE) == 0 &&
	    is_echo(quoted + PK_IPV6_HEADER_SIZE, quoted_length - PK_IPV6_HEADER_SIZE,
		    PK_ICMPV6_ECHO_REQUEST, id, seq))
		return ANSWER_ERROR;
	return ANSWER_NONE;
}

struct outcome {
	int error; /* of a send or a receive */
	enum answer answer;
	uint64_t rtt_ns;
	uint8_t from[PK_IPV6_ADDR_SIZE];
	uint8_t type, code; /* of the answer */
};

/* Sends request `seq` and waits for what answers it, dropping stale answers to earlier
 * ones. The answer stays in `packet`; its frame, if it came in one, carries the next
 * request, so a steady ping allocates nothing. */
static struct outcome ping_once(const struct options *opt, uint16_t id, uint16_t seq,
				struct pk_netif_packet *packet)
{
	struct outcome out = {0};
	int err = write_request(packet, opt, id, seq);
	if (err < 0) {
		out.error = err;
		return out;
	}
	uint64_t start = pk_now_ns(), deadline = start + (uint64_t)opt->timeout_ms * 1000000u;
	err = pk_netif_send_recv(packet, opt->timeout_ms);
	while (err == 0) {
		uint64_t now = pk_now_ns();
		out.answer = classify(packet, opt, id, seq);
		if (out.answer != ANSWER_NONE) {
			out.rtt_ns = now - start;
			memcpy(out.from, ((const struct pk_ipv6_header *)packet->data)->source,
			       PK_IPV6_ADDR_SIZE);
			out.type = packet->data[packet->upper_offset];
			out.code = packet->data[packet->upper_offset + 1];
			return out;
		}
		if (now >= deadline)
			return out;
		uint32_t left_ms = (uint32_t)((deadline - now + 999999) / 1000000);
		err = pk_netif_recv(packet, left_ms);
	}
	if (err != -PK_ETIMEDOUT)
		out.error = err;
	return out;
}

static const char *icmp_error_name(uint8_t type)
{
	switch (type) {
	case PK_ICMPV6_DEST_UNREACHABLE:
		return "destination unreachable";
	case PK_ICMPV6_PACKET_TOO_BIG:
		return "packet too big";
	case PK_ICMPV6_TIME_EXCEEDED:
		return "time exceeded";
	case PK_ICMPV6_PARAMETER_PROBLEM:
		return "parameter problem";
	}
	return "ICMPv6 error";
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

/* Prints and counts one request's outcome. */
static void report(struct stats *st, const struct options *opt, const char *text, unsigned long seq,
		   const struct outcome *out)
{
	char from[PK_ADDR_STRLEN];
	pk_addr_format(out->from, from);
	double us = (double)out->rtt_ns / 1000.0;
	st->sent++;
	if (out->error < 0) {
		st->errors++;
		printf("From %s icmp_seq=%lu: %s\n", text, seq, pk_strerror(out->error));
		return;
	}
	switch (out->answer) {
	case ANSWER_NONE:
		if (!opt->quiet)
			printf("no answer from %s icmp_seq=%lu\n", text, seq);
		return;
	case ANSWER_REPLY:
		record(st, us);
		if (!opt->quiet)
			printf("%u bytes from %s: icmp_seq=%lu time=%.1f us\n",
			       opt->size + ICMP_ECHO_HEADER, from, seq, us);
		return;
	case ANSWER_DAMAGED:
		st->errors++;
		printf("From %s icmp_seq=%lu: echo reply with other data than sent\n", from, seq);
		return;
	case ANSWER_ERROR:
		st->errors++;
		printf("From %s icmp_seq=%lu: %s (code %u)\n", from, seq,
		       icmp_error_name(out->type), out->code);
		return;
	}
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_options(argc, argv, &opt) < 0)
		return usage();
	int err = pk_netif_init();
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
	struct pk_netif_packet packet = {0};
	for (unsigned long seq = 1; seq <= opt.count; seq++) {
		if (seq > 1 && opt.interval_ns > 0)
			pk_sleep_ns(opt.interval_ns);
		struct outcome out = ping_once(&opt, id, (uint16_t)seq, &packet);
		report(&st, &opt, text, seq, &out);
		fflush(stdout);
	}
	pk_netif_release(&packet);

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
