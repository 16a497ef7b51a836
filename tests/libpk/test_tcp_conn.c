/* The TCP connection (libpk/net/tcp.c): two connections joined by a simulated wire in
 * virtual time, which can lose, reorder, duplicate and delay segments, and crafted
 * segments for the cases a real peer would not produce (RFC 5961's attacks). Every
 * segment on the wire goes through pk_tcp_parse, so every one sent is well-formed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_conn.h>
#include <pk/net/tcp_seq.h>

#include "packets.h"

#define MS	     1000000ull
#define SECOND	     1000000000ull
#define WIRE_MAX     4096u
#define PATH_MTU     1500u
#define WIRE_DELAY   (100 * 1000ull) /* 100 µs each way */
#define BUFFER_SIZE  (256u * 1024u)
#define SEGMENT_ROOM 2048u

struct end {
	struct pk_tcp_conn conn;
	uint8_t send_storage[BUFFER_SIZE], receive_storage[BUFFER_SIZE];
	uint32_t mtu;
	/* The stream this end sends, and what it has received. */
	const uint8_t *to_send;
	uint32_t to_send_length, sent;
	uint8_t *received;
	uint32_t received_length, received_size;
	bool eof;
	bool reads; /* the application reads what arrives */
};

struct in_flight {
	uint64_t at;
	int to; /* 0: a, 1: b */
	uint32_t length;
	uint8_t packet[SEGMENT_ROOM];
};

/* What the wire does to each segment: 0 deliver, 1 drop, 2 deliver twice. */
typedef int wire_rule_fn(int from, const struct pk_tcp_segment *s, unsigned index);

struct world {
	struct end end[2];
	uint64_t now;
	struct in_flight wire[WIRE_MAX];
	unsigned in_flight;
	unsigned sent_index;
	wire_rule_fn *rule;
	unsigned loss_percent, reorder_percent, duplicate_percent;
	bool listening;	   /* end 1 accepts a SYN as a listener would */
	bool b_shows_sack; /* end 1 SACKs (else it strips SACK-permitted from its view) */
	unsigned segments_on_wire;
	unsigned largest_packet;
	uint32_t a_iss, b_iss;
};

static struct world *w;

static uint64_t rand_state;
static uint32_t next_random(void)
{
	rand_state = rand_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rand_state >> 33);
}

static const struct pk_tcp_tuple tuple_a = {
	.local = {0xfd, 0x6b, 0x61, 0x6e, [15] = 1},
	.remote = {0xfd, 0x6b, 0x61, 0x6e, [15] = 2},
	.local_port = 40000,
	.remote_port = 80,
};
static const struct pk_tcp_tuple tuple_b = {
	.local = {0xfd, 0x6b, 0x61, 0x6e, [15] = 2},
	.remote = {0xfd, 0x6b, 0x61, 0x6e, [15] = 1},
	.local_port = 80,
	.remote_port = 40000,
};

static void expect_stream(struct end *e, uint32_t size)
{
	free(e->received);
	e->received_length = 0;
	e->received = calloc(1, size ? size : 1);
	e->received_size = size;
}

static int setup(void **state)
{
	(void)state;
	w = calloc(1, sizeof *w);
	assert_non_null(w);
	for (int i = 0; i < 2; i++) {
		pk_tcp_conn_init(&w->end[i].conn, w->end[i].send_storage, BUFFER_SIZE,
				 w->end[i].receive_storage, BUFFER_SIZE);
		w->end[i].mtu = PATH_MTU;
		w->end[i].reads = true;
		expect_stream(&w->end[i], 4u << 20);
	}
	w->now = 1 * SECOND;
	w->listening = true;
	w->b_shows_sack = true;
	w->a_iss = 1000;
	w->b_iss = 0x80000000u;
	rand_state = 42;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++)
		free(w->end[i].received);
	free(w);
	return 0;
}

static void put_on_wire(int to, const uint8_t *packet, uint32_t length, uint64_t delay)
{
	assert_true(w->in_flight < WIRE_MAX);
	struct in_flight *f = &w->wire[w->in_flight++];
	f->at = w->now + delay;
	f->to = to;
	f->length = length;
	memcpy(f->packet, packet, length);
}

/* Sends everything the end has to send now, through the wire's faults. */
static void drain_output(int from)
{
	struct end *e = &w->end[from];
	uint8_t packet[SEGMENT_ROOM];
	for (unsigned guard = 0; guard < 10000; guard++) {
		uint32_t length =
			pk_tcp_conn_output(&e->conn, packet, sizeof packet, e->mtu, w->now);
		if (length == 0)
			return;
		struct pk_tcp_segment s;
		assert_int_equal(pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, &s), PK_NET_OK);
		if (length > w->largest_packet)
			w->largest_packet = length;
		w->segments_on_wire++;
		unsigned index = w->sent_index++;
		int verdict = w->rule != NULL ? w->rule(from, &s, index) : 0;
		if (verdict == 0 && w->loss_percent && next_random() % 100 < w->loss_percent)
			verdict = 1;
		if (verdict == 0 && w->duplicate_percent &&
		    next_random() % 100 < w->duplicate_percent)
			verdict = 2;
		if (verdict == 1)
			continue;
		uint64_t delay = WIRE_DELAY;
		if (w->reorder_percent && next_random() % 100 < w->reorder_percent)
			delay += WIRE_DELAY / 2 + next_random() % (2 * WIRE_DELAY);
		put_on_wire(1 - from, packet, length, delay);
		if (verdict == 2)
			put_on_wire(1 - from, packet, length, delay + 1000);
	}
	fail_msg("output never ran dry");
}

/* The application's part: queue what there is room for, read what arrived. */
static void run_application(int i)
{
	struct end *e = &w->end[i];
	if (e->sent < e->to_send_length) {
		int n = pk_tcp_conn_send(&e->conn, e->to_send + e->sent,
					 e->to_send_length - e->sent);
		if (n > 0)
			e->sent += (uint32_t)n;
	}
	while (e->reads && !e->eof) {
		uint8_t buffer[3000];
		int n = pk_tcp_conn_recv(&e->conn, buffer, sizeof buffer);
		if (n == 0)
			e->eof = true;
		if (n <= 0)
			break;
		assert_true(e->received_length + (uint32_t)n <= e->received_size);
		memcpy(e->received + e->received_length, buffer, (size_t)n);
		e->received_length += (uint32_t)n;
	}
}

static void deliver(struct in_flight *f)
{
	struct end *e = &w->end[f->to];
	struct pk_tcp_segment s;
	assert_int_equal(pk_tcp_parse(f->packet, f->length, PK_IPV6_HEADER_SIZE, &s), PK_NET_OK);
	if (f->to == 1 && w->listening && e->conn.state == PK_TCP_CLOSED &&
	    (s.flags & (PK_TCP_SYN | PK_TCP_ACK | PK_TCP_RST)) == PK_TCP_SYN) {
		if (!w->b_shows_sack)
			s.options.sack_permitted = false;
		assert_int_equal(pk_tcp_conn_accept(&e->conn, &tuple_b, w->b_iss, 1440, &s, w->now),
				 0);
		w->listening = false;
		return;
	}
	if (f->to == 1 && !w->b_shows_sack)
		s.options.sack_count = 0;
	pk_tcp_conn_input(&e->conn, f->packet, &s, w->now);
}

/* One round: applications, outputs, then the clock moves to the next event and what is
 * due then is delivered. False when nothing will ever happen again. */
static bool step(void)
{
	for (int i = 0; i < 2; i++) {
		run_application(i);
		drain_output(i);
	}
	uint64_t next = 0;
	for (unsigned i = 0; i < w->in_flight; i++) {
		if (next == 0 || w->wire[i].at < next)
			next = w->wire[i].at;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t d = pk_tcp_conn_deadline(&w->end[i].conn);
		if (d != 0 && (next == 0 || d < next))
			next = d;
	}
	if (next == 0)
		return false;
	if (next > w->now)
		w->now = next;
	/* Deliver in order of arrival time; equal times keep the order they were sent. */
	for (;;) {
		unsigned pick = w->in_flight;
		for (unsigned i = 0; i < w->in_flight; i++) {
			if (w->wire[i].at <= w->now &&
			    (pick == w->in_flight || w->wire[i].at < w->wire[pick].at))
				pick = i;
		}
		if (pick == w->in_flight)
			break;
		struct in_flight f = w->wire[pick];
		memmove(&w->wire[pick], &w->wire[pick + 1],
			(w->in_flight - pick - 1) * sizeof w->wire[0]);
		w->in_flight--;
		deliver(&f);
	}
	return true;
}

/* Runs until `done` or `limit` of virtual time passes; returns whether done. */
static bool run_until(bool (*done)(void), uint64_t limit)
{
	uint64_t end = w->now + limit;
	while (w->now < end) {
		if (done != NULL && done())
			return true;
		if (!step())
			return done != NULL && done();
	}
	return done != NULL && done();
}

static bool both_established(void)
{
	return w->end[0].conn.state == PK_TCP_ESTABLISHED &&
	       w->end[1].conn.state == PK_TCP_ESTABLISHED;
}

static void connect_a_to_b(void)
{
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, w->a_iss, 1440, w->now), 0);
	assert_true(run_until(both_established, 10 * SECOND));
}

static bool transfers_done(void)
{
	for (int i = 0; i < 2; i++) {
		const struct end *e = &w->end[i];
		const struct end *peer = &w->end[1 - i];
		if (peer->received_length < e->to_send_length)
			return false;
	}
	return true;
}

static void report(const char *what)
{
	for (int i = 0; i < 2; i++) {
		const struct pk_tcp_stats *st = &w->end[i].conn.stats;
		print_message(
			"%s %c: %llu sent, %llu retransmitted, %llu fast retransmits, "
			"%llu timeouts, %llu duplicate ACKs, %llu out of order, %llu tail "
			"probes, %llu lost retransmissions; t=%.3f s\n",
			what, 'a' + i, (unsigned long long)st->segments_sent,
			(unsigned long long)st->retransmitted,
			(unsigned long long)st->fast_retransmits, (unsigned long long)st->timeouts,
			(unsigned long long)st->duplicate_acks,
			(unsigned long long)st->out_of_order, (unsigned long long)st->tail_probes,
			(unsigned long long)st->lost_retransmits, (double)w->now / SECOND);
	}
}

static bool both_closed(void)
{
	return w->end[0].conn.state == PK_TCP_CLOSED && w->end[1].conn.state == PK_TCP_CLOSED;
}

static uint8_t *pattern(uint32_t length, uint32_t seed)
{
	uint8_t *p = malloc(length);
	assert_non_null(p);
	uint64_t x = seed;
	for (uint32_t i = 0; i < length; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(x >> 56);
	}
	return p;
}

/* Sends `a_bytes` from a to b and `b_bytes` from b to a, checks both byte for byte, then
 * closes a (then b once it has read the end) and checks both end up closed. */
static void transfer_and_close(uint32_t a_bytes, uint32_t b_bytes, uint64_t limit)
{
	uint8_t *a_data = pattern(a_bytes, 1), *b_data = pattern(b_bytes, 2);
	w->end[0].to_send = a_data;
	w->end[0].to_send_length = a_bytes;
	w->end[1].to_send = b_data;
	w->end[1].to_send_length = b_bytes;
	expect_stream(&w->end[1], a_bytes);
	expect_stream(&w->end[0], b_bytes);
	assert_true(run_until(transfers_done, limit));
	assert_memory_equal(w->end[1].received, a_data, a_bytes);
	assert_memory_equal(w->end[0].received, b_data, b_bytes);
	assert_int_equal(pk_tcp_conn_close(&w->end[0].conn, w->now), 0);
	while (!w->end[1].eof && step()) {
	}
	assert_true(w->end[1].eof);
	assert_int_equal(pk_tcp_conn_close(&w->end[1].conn, w->now), 0);
	assert_true(run_until(both_closed, 200 * SECOND));
	assert_int_equal(w->end[0].conn.error, 0);
	assert_int_equal(w->end[1].conn.error, 0);
	free(a_data);
	free(b_data);
}

/* ---- The handshake and the options ---- */

static void test_handshake_agrees_on_every_option(void **state)
{
	(void)state;
	connect_a_to_b();
	for (int i = 0; i < 2; i++) {
		const struct pk_tcp_conn *c = &w->end[i].conn;
		assert_true(c->sack_ok);
		assert_true(c->timestamps_ok);
		assert_int_equal(c->peer_mss, 1440);
		/* 256 KiB needs a shift of 3 to fit 16 bits. */
		assert_int_equal(c->rcv_shift, 3);
		assert_int_equal(c->snd_shift, 3);
	}
	assert_int_equal(w->end[0].conn.irs, 0x80000000u);
	assert_int_equal(w->end[1].conn.irs, 1000);
	assert_int_equal(w->segments_on_wire, 3);
}

static void test_lossless_transfer_is_exact_and_never_retransmits(void **state)
{
	(void)state;
	connect_a_to_b();
	transfer_and_close(1u << 20, 100000, 60 * SECOND);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(w->end[i].conn.stats.retransmitted, 0);
		assert_int_equal(w->end[i].conn.stats.timeouts, 0);
	}
	assert_true(w->largest_packet <= PATH_MTU);
	/* Delayed ACKs: about one ACK for two segments, not one each. */
	assert_true(w->end[1].conn.stats.segments_sent < w->end[0].conn.stats.segments_sent);
}

static void test_active_closer_waits_in_time_wait_for_two_msl(void **state)
{
	(void)state;
	connect_a_to_b();
	assert_int_equal(pk_tcp_conn_close(&w->end[0].conn, w->now), 0);
	assert_int_equal(w->end[0].conn.state, PK_TCP_FIN_WAIT_1);
	while (!w->end[1].eof && step()) {
	}
	assert_int_equal(w->end[1].conn.state, PK_TCP_CLOSE_WAIT);
	assert_int_equal(pk_tcp_conn_close(&w->end[1].conn, w->now), 0);
	assert_int_equal(w->end[1].conn.state, PK_TCP_LAST_ACK);
	uint64_t start = w->now;
	while (w->end[0].conn.state != PK_TCP_TIME_WAIT && step()) {
	}
	assert_int_equal(w->end[0].conn.state, PK_TCP_TIME_WAIT);
	assert_true(run_until(both_closed, 200 * SECOND));
	assert_true(w->now - start >= PK_TCP_TIME_WAIT_NS);
	assert_true(w->now - start < PK_TCP_TIME_WAIT_NS + SECOND);
}

static void test_simultaneous_open_establishes_both(void **state)
{
	(void)state;
	w->listening = false;
	struct pk_tcp_tuple b = tuple_b;
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, 1000, 1440, w->now), 0);
	assert_int_equal(pk_tcp_conn_connect(&w->end[1].conn, &b, 900000, 1440, w->now), 0);
	assert_true(run_until(both_established, 10 * SECOND));
	transfer_and_close(50000, 50000, 10 * SECOND);
}

static bool both_time_wait(void)
{
	return w->end[0].conn.state == PK_TCP_TIME_WAIT && w->end[1].conn.state == PK_TCP_TIME_WAIT;
}

static void test_simultaneous_close_goes_through_closing(void **state)
{
	(void)state;
	connect_a_to_b();
	assert_int_equal(pk_tcp_conn_shutdown(&w->end[0].conn), 0);
	assert_int_equal(pk_tcp_conn_shutdown(&w->end[1].conn), 0);
	step(); /* both FINs cross on the wire, and arrive */
	bool saw_closing =
		w->end[0].conn.state == PK_TCP_CLOSING || w->end[1].conn.state == PK_TCP_CLOSING;
	assert_true(saw_closing);
	assert_true(run_until(both_time_wait, 10 * SECOND));
	assert_true(run_until(both_closed, 200 * SECOND));
}

/* ---- Loss, reordering, duplication ---- */

static void test_transfer_survives_loss_reordering_and_duplication(void **state)
{
	(void)state;
	connect_a_to_b();
	w->loss_percent = 5;
	w->reorder_percent = 5;
	w->duplicate_percent = 5;
	transfer_and_close(2u << 20, 300000, 600 * SECOND);
	report("lossy");
	assert_true(w->end[0].conn.stats.fast_retransmits > 0);
	assert_true(w->end[1].conn.stats.out_of_order > 0);
}

/* Both sequence spaces wrap within the first megabyte, with losses around the wrap: every
 * comparison, range and window must hold across it. */
static void test_transfer_across_the_sequence_wrap_is_exact(void **state)
{
	(void)state;
	w->a_iss = 0xfff00000u;
	w->b_iss = 0xffff0000u;
	connect_a_to_b();
	w->loss_percent = 3;
	w->reorder_percent = 3;
	transfer_and_close(2u << 20, 1u << 20, 600 * SECOND);
	assert_true(pk_tcp_seq_lt(0xfff00000u, w->end[1].conn.rcv_nxt));
	assert_true(w->end[1].conn.rcv_nxt < 0xfff00000u); /* it wrapped */
}

static int drop_one_data_segment(int from, const struct pk_tcp_segment *s, unsigned index)
{
	static bool dropped;
	if (index == 0)
		dropped = false;
	if (from == 0 && s->payload_length > 0 && s->seq == 1001 + 20 * 1428 && !dropped) {
		dropped = true;
		return 1;
	}
	return 0;
}

static void test_one_loss_is_repaired_by_fast_retransmit_not_timeout(void **state)
{
	(void)state;
	w->rule = drop_one_data_segment;
	connect_a_to_b();
	transfer_and_close(200000, 0, 60 * SECOND);
	assert_int_equal(w->end[0].conn.stats.fast_retransmits, 1);
	assert_int_equal(w->end[0].conn.stats.timeouts, 0);
	assert_int_equal(w->end[0].conn.stats.retransmitted, 1);
}

static void test_newreno_without_sack_recovers_too(void **state)
{
	(void)state;
	w->b_shows_sack = false;
	connect_a_to_b();
	assert_false(w->end[0].conn.sack_ok);
	w->loss_percent = 3;
	transfer_and_close(1u << 20, 0, 600 * SECOND);
	report("newreno");
	assert_true(w->end[0].conn.stats.fast_retransmits > 0);
}

static void test_sack_blocks_describe_what_arrived_past_the_gap(void **state)
{
	(void)state;
	w->rule = drop_one_data_segment;
	connect_a_to_b();
	uint8_t *data = pattern(200000, 3);
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, data, 200000), 200000);
	/* Run until b holds out-of-order data, then look at its next ACK. */
	while (w->end[1].conn.out_of_order.count == 0 && step()) {
	}
	const struct pk_tcp_conn *b = &w->end[1].conn;
	assert_int_equal(b->out_of_order.count, 1);
	assert_int_equal(b->out_of_order.range[0].left, 1001 + 21 * 1428);
	assert_int_equal(b->rcv_nxt, 1001 + 20 * 1428);
	free(data);
}

/* ---- Timeouts ---- */

static int drop_everything(int from, const struct pk_tcp_segment *s, unsigned index)
{
	(void)from, (void)s, (void)index;
	return 1;
}

static void test_syn_unanswered_backs_off_then_times_out(void **state)
{
	(void)state;
	w->rule = drop_everything;
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, 1000, 1440, w->now), 0);
	uint64_t start = w->now;
	uint64_t sends[PK_TCP_SYN_RETRIES + 1];
	unsigned n = 0;
	for (bool more = true; more && w->end[0].conn.state != PK_TCP_CLOSED;) {
		unsigned before = w->segments_on_wire;
		uint64_t at = w->now;
		more = step();
		if (w->segments_on_wire != before && n < PK_TCP_SYN_RETRIES + 1)
			sends[n++] = at;
	}
	assert_int_equal(w->end[0].conn.state, PK_TCP_CLOSED);
	assert_int_equal(n, PK_TCP_SYN_RETRIES + 1);
	/* 1 s, then doubling: 2, 4, 8, ... */
	for (unsigned i = 2; i < n; i++)
		assert_true(sends[i] - sends[i - 1] == 2 * (sends[i - 1] - sends[i - 2]));
	assert_int_equal(pk_tcp_conn_recv(&w->end[0].conn, (uint8_t[1]){0}, 1), -PK_ETIMEDOUT);
	/* Sent at 0, 1, 3, 7, 15, 31 and 63 s; the last wait is capped at the maximum. */
	assert_true(w->now - start == 63 * SECOND + PK_TCP_RTO_MAX_NS);
}

static int drop_a_after_handshake(int from, const struct pk_tcp_segment *s, unsigned index)
{
	(void)s;
	return from == 0 && index >= 3;
}

static void test_data_unacknowledged_gives_up_with_a_reset(void **state)
{
	(void)state;
	connect_a_to_b();
	w->rule = drop_a_after_handshake;
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, "hello", 5), 5);
	while (w->end[0].conn.state != PK_TCP_CLOSED && step()) {
	}
	assert_int_equal(w->end[0].conn.stats.timeouts, PK_TCP_RETRIES + 1);
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, "x", 1), -PK_ETIMEDOUT);
	/* The reset went out (and was dropped, like everything else). */
	assert_false(w->end[0].conn.reset_pending);
}

static void test_refused_connect_reports_econnrefused(void **state)
{
	(void)state;
	w->listening = false; /* b is closed: answer the SYN as a closed port does */
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, 1000, 1440, w->now), 0);
	uint8_t packet[SEGMENT_ROOM], reset[SEGMENT_ROOM];
	uint32_t length =
		pk_tcp_conn_output(&w->end[0].conn, packet, sizeof packet, PATH_MTU, w->now);
	struct pk_tcp_segment syn, rst;
	assert_int_equal(pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, &syn), PK_NET_OK);
	uint32_t reset_length = pk_tcp_write_reset(packet, &syn, reset);
	assert_int_equal(pk_tcp_parse(reset, reset_length, PK_IPV6_HEADER_SIZE, &rst), PK_NET_OK);
	pk_tcp_conn_input(&w->end[0].conn, reset, &rst, w->now);
	assert_int_equal(w->end[0].conn.state, PK_TCP_CLOSED);
	assert_int_equal(pk_tcp_conn_recv(&w->end[0].conn, packet, 1), -PK_ECONNREFUSED);
}

/* ---- RFC 5961 and other segments a real peer would not send ---- */

/* A segment from b's side to a, written with pk_tcp_write; returns a's output after. */
static uint32_t inject_to_a(uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
			    uint32_t length, uint8_t *ret_answer)
{
	uint8_t packet[SEGMENT_ROOM];
	struct pk_tcp_segment s = {
		.source_port = 80,
		.destination_port = 40000,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.window = 1000,
		.payload_length = length,
	};
	if (length > 0)
		memcpy(packet + pk_tcp_payload_at(&s.options, flags & PK_TCP_SYN), data, length);
	uint32_t n = pk_tcp_write(packet, tuple_b.local, tuple_b.remote, &s, 64);
	struct pk_tcp_segment parsed;
	assert_int_equal(pk_tcp_parse(packet, n, PK_IPV6_HEADER_SIZE, &parsed), PK_NET_OK);
	pk_tcp_conn_input(&w->end[0].conn, packet, &parsed, w->now);
	return pk_tcp_conn_output(&w->end[0].conn, ret_answer, SEGMENT_ROOM, PATH_MTU, w->now);
}

static void parse_answer(const uint8_t *packet, uint32_t length, struct pk_tcp_segment *ret)
{
	assert_true(length > 0);
	assert_int_equal(pk_tcp_parse(packet, length, PK_IPV6_HEADER_SIZE, ret), PK_NET_OK);
}

static void test_reset_at_exactly_rcv_nxt_resets(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	assert_int_equal(inject_to_a(PK_TCP_RST, a->rcv_nxt, 0, NULL, 0, answer), 0);
	assert_int_equal(a->state, PK_TCP_CLOSED);
	assert_int_equal(pk_tcp_conn_recv(&w->end[0].conn, answer, 1), -PK_ECONNRESET);
}

static void test_reset_in_window_but_not_exact_gets_a_challenge_ack(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	uint32_t length = inject_to_a(PK_TCP_RST, a->rcv_nxt + 100, 0, NULL, 0, answer);
	struct pk_tcp_segment s;
	parse_answer(answer, length, &s);
	assert_int_equal(s.flags, PK_TCP_ACK);
	assert_int_equal(s.ack, a->rcv_nxt);
	assert_int_equal(a->state, PK_TCP_ESTABLISHED);
	assert_int_equal(a->stats.challenge_acks, 1);
}

static void test_reset_out_of_window_is_dropped_silently(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	assert_int_equal(inject_to_a(PK_TCP_RST, a->rcv_nxt + BUFFER_SIZE + 10, 0, NULL, 0, answer),
			 0);
	assert_int_equal(a->state, PK_TCP_ESTABLISHED);
	assert_int_equal(inject_to_a(PK_TCP_RST, a->rcv_nxt - 1, 0, NULL, 0, answer), 0);
	assert_int_equal(a->state, PK_TCP_ESTABLISHED);
}

static void test_syn_on_an_established_connection_gets_a_challenge_ack(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	uint32_t length = inject_to_a(PK_TCP_SYN, a->rcv_nxt + 5, 0, NULL, 0, answer);
	struct pk_tcp_segment s;
	parse_answer(answer, length, &s);
	assert_int_equal(s.flags, PK_TCP_ACK);
	assert_int_equal(a->state, PK_TCP_ESTABLISHED);
	assert_int_equal(a->stats.challenge_acks, 1);
}

static void test_challenge_acks_are_rate_limited(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	unsigned answered = 0;
	for (int i = 0; i < 100; i++)
		answered += inject_to_a(PK_TCP_SYN, a->rcv_nxt + 5, 0, NULL, 0, answer) != 0;
	assert_true(answered <= 10);
	assert_true(answered >= 1);
}

static void test_ack_of_data_never_sent_is_challenged_and_ignored(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	uint32_t una = a->snd_una;
	uint32_t length = inject_to_a(PK_TCP_ACK, a->rcv_nxt, a->snd_max + 1000, NULL, 0, answer);
	assert_true(length > 0);
	assert_int_equal(a->snd_una, una);
	assert_int_equal(a->stats.bad_acks, 1);
	/* Too old: further behind than any window the peer offered. */
	inject_to_a(PK_TCP_ACK, a->rcv_nxt, a->snd_una - 10 * BUFFER_SIZE, NULL, 0, answer);
	assert_int_equal(a->stats.bad_acks, 2);
}

static void test_data_outside_the_window_is_answered_and_not_taken(void **state)
{
	(void)state;
	connect_a_to_b();
	uint8_t answer[SEGMENT_ROOM];
	const struct pk_tcp_conn *a = &w->end[0].conn;
	uint32_t length = inject_to_a(PK_TCP_ACK, a->rcv_nxt + 2 * BUFFER_SIZE, a->snd_una,
				      "attack", 6, answer);
	struct pk_tcp_segment s;
	parse_answer(answer, length, &s);
	assert_int_equal(s.ack, a->rcv_nxt);
	assert_int_equal(pk_tcp_conn_readable(a), 0);
	assert_int_equal(a->stats.out_of_window, 1);
	/* Old data, all of it before rcv_nxt: same answer. */
	length = inject_to_a(PK_TCP_ACK, a->rcv_nxt - 100, a->snd_una, "old", 3, answer);
	parse_answer(answer, length, &s);
	assert_int_equal(pk_tcp_conn_readable(a), 0);
}

static void test_older_timestamp_is_rejected_by_paws(void **state)
{
	(void)state;
	connect_a_to_b();
	struct pk_tcp_conn *a = &w->end[0].conn;
	uint8_t packet[SEGMENT_ROOM], answer[SEGMENT_ROOM];
	struct pk_tcp_segment s = {
		.source_port = 80,
		.destination_port = 40000,
		.seq = a->rcv_nxt,
		.ack = a->snd_una,
		.flags = PK_TCP_ACK,
		.window = 1000,
		.payload_length = 4,
		.options = {.has_timestamps = true, .timestamp_value = a->ts_recent - 5},
	};
	memcpy(packet + pk_tcp_payload_at(&s.options, false), "late", 4);
	uint32_t n = pk_tcp_write(packet, tuple_b.local, tuple_b.remote, &s, 64);
	struct pk_tcp_segment parsed;
	assert_int_equal(pk_tcp_parse(packet, n, PK_IPV6_HEADER_SIZE, &parsed), PK_NET_OK);
	pk_tcp_conn_input(a, packet, &parsed, w->now);
	assert_int_equal(a->stats.paws_rejected, 1);
	assert_int_equal(pk_tcp_conn_readable(a), 0);
	assert_true(pk_tcp_conn_output(a, answer, sizeof answer, PATH_MTU, w->now) > 0);
}

static void test_ack_in_syn_sent_for_another_syn_is_reset(void **state)
{
	(void)state;
	w->listening = false;
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, 1000, 1440, w->now), 0);
	uint8_t packet[SEGMENT_ROOM];
	assert_true(pk_tcp_conn_output(&w->end[0].conn, packet, sizeof packet, PATH_MTU, w->now) >
		    0);
	uint32_t length = inject_to_a(PK_TCP_SYN | PK_TCP_ACK, 5000, 777, NULL, 0, packet);
	struct pk_tcp_segment s;
	parse_answer(packet, length, &s);
	assert_int_equal(s.flags, PK_TCP_RST);
	assert_int_equal(s.seq, 777);
	assert_int_equal(w->end[0].conn.state, PK_TCP_SYN_SENT);
}

/* ---- Windows, probes, ACK timing ---- */

static bool a_has_probed(void)
{
	return w->end[0].conn.stats.window_probes >= 2;
}

static void test_zero_window_is_probed_until_it_opens(void **state)
{
	(void)state;
	connect_a_to_b();
	w->end[1].reads = false;
	uint32_t total = BUFFER_SIZE + 100000;
	uint8_t *data = pattern(total, 4);
	w->end[0].to_send = data;
	w->end[0].to_send_length = total;
	expect_stream(&w->end[1], total);
	assert_true(run_until(a_has_probed, 600 * SECOND));
	assert_int_equal(w->end[0].conn.snd_wnd, 0);
	assert_int_equal(w->end[0].conn.state, PK_TCP_ESTABLISHED);
	/* Full, but for less than the window scale's unit (8 bytes), which the window
	 * cannot show. */
	assert_true(pk_tcp_conn_readable(&w->end[1].conn) > BUFFER_SIZE - 8);
	w->end[1].reads = true;
	assert_true(run_until(transfers_done, 600 * SECOND));
	assert_memory_equal(w->end[1].received, data, total);
	free(data);
}

static void test_a_single_segment_is_acknowledged_after_the_delay(void **state)
{
	(void)state;
	connect_a_to_b();
	unsigned b_sent = (unsigned)w->end[1].conn.stats.segments_sent;
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, "ping", 4), 4);
	drain_output(0);
	uint64_t sent_at = w->now;
	while (w->end[1].conn.stats.segments_sent == b_sent && step()) {
	}
	assert_true(w->now - sent_at >= WIRE_DELAY + PK_TCP_DELAYED_ACK_NS);
}

static void test_nagle_holds_a_second_small_segment_until_the_ack(void **state)
{
	(void)state;
	connect_a_to_b();
	struct pk_tcp_conn *a = &w->end[0].conn;
	uint8_t packet[SEGMENT_ROOM];
	assert_int_equal(pk_tcp_conn_send(a, "a", 1), 1);
	assert_true(pk_tcp_conn_output(a, packet, sizeof packet, PATH_MTU, w->now) > 0);
	assert_int_equal(pk_tcp_conn_send(a, "b", 1), 1);
	assert_int_equal(pk_tcp_conn_output(a, packet, sizeof packet, PATH_MTU, w->now), 0);
	a->nodelay = true;
	assert_true(pk_tcp_conn_output(a, packet, sizeof packet, PATH_MTU, w->now) > 0);
}

static void test_half_close_still_receives(void **state)
{
	(void)state;
	connect_a_to_b();
	assert_int_equal(pk_tcp_conn_shutdown(&w->end[0].conn), 0);
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, "x", 1), -PK_ECLOSED);
	uint8_t *data = pattern(100000, 5);
	w->end[1].to_send = data;
	w->end[1].to_send_length = 100000;
	expect_stream(&w->end[0], 100000);
	assert_true(run_until(transfers_done, 60 * SECOND));
	assert_memory_equal(w->end[0].received, data, 100000);
	assert_int_equal(w->end[0].conn.state, PK_TCP_FIN_WAIT_2);
	free(data);
}

static void test_close_with_unread_data_resets(void **state)
{
	(void)state;
	connect_a_to_b();
	w->end[1].reads = false;
	assert_int_equal(pk_tcp_conn_send(&w->end[0].conn, "unread", 6), 6);
	while (pk_tcp_conn_readable(&w->end[1].conn) == 0 && step()) {
	}
	assert_int_equal(pk_tcp_conn_close(&w->end[1].conn, w->now), 0);
	assert_int_equal(w->end[1].conn.state, PK_TCP_CLOSED);
	step();
	step();
	assert_int_equal(w->end[0].conn.state, PK_TCP_CLOSED);
	assert_int_equal(w->end[0].conn.error, -PK_ECONNRESET);
}

static bool a_probed_twice(void)
{
	return w->end[0].conn.stats.keepalive_probes >= 2;
}

static void test_keepalive_probes_an_idle_peer_and_gives_up_when_it_is_gone(void **state)
{
	(void)state;
	connect_a_to_b();
	pk_tcp_conn_set_keepalive(&w->end[0].conn, true, w->now);
	assert_true(run_until(a_probed_twice, 5 * 3600 * SECOND));
	assert_int_equal(w->end[0].conn.state, PK_TCP_ESTABLISHED);
	w->rule = drop_everything;
	while (w->end[0].conn.state != PK_TCP_CLOSED && step()) {
	}
	assert_int_equal(w->end[0].conn.error, -PK_ETIMEDOUT);
}

static void test_lost_syn_ack_is_sent_again_for_a_retransmitted_syn(void **state)
{
	(void)state;
	assert_int_equal(pk_tcp_conn_connect(&w->end[0].conn, &tuple_a, 1000, 1440, w->now), 0);
	drain_output(0);
	while (w->end[1].conn.state == PK_TCP_CLOSED && step()) {
	}
	uint8_t packet[SEGMENT_ROOM];
	struct pk_tcp_conn *b = &w->end[1].conn;
	assert_true(pk_tcp_conn_output(b, packet, sizeof packet, PATH_MTU, w->now) >
		    0); /* "lost" */
	assert_int_equal(pk_tcp_conn_output(b, packet, sizeof packet, PATH_MTU, w->now), 0);
	/* a's SYN again, as if its timer expired. */
	struct pk_tcp_segment syn = {.source_port = 40000,
				     .destination_port = 80,
				     .seq = 1000,
				     .flags = PK_TCP_SYN,
				     .window = 1000};
	pk_tcp_conn_input(b, packet, &syn, w->now);
	uint32_t length = pk_tcp_conn_output(b, packet, sizeof packet, PATH_MTU, w->now);
	struct pk_tcp_segment s;
	parse_answer(packet, length, &s);
	assert_int_equal(s.flags, PK_TCP_SYN | PK_TCP_ACK);
	assert_int_equal(s.ack, 1001);
}

static void test_orphaned_fin_wait_2_gives_up_on_a_silent_peer(void **state)
{
	(void)state;
	connect_a_to_b();
	w->end[1].reads = false; /* b never reads the FIN, so never closes */
	assert_int_equal(pk_tcp_conn_close(&w->end[0].conn, w->now), 0);
	while (w->end[0].conn.state != PK_TCP_FIN_WAIT_2 && step()) {
	}
	uint64_t start = w->now;
	while (w->end[0].conn.state != PK_TCP_CLOSED && step()) {
	}
	assert_true(w->now - start >= PK_TCP_FIN_WAIT_2_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_handshake_agrees_on_every_option),
		T(test_lossless_transfer_is_exact_and_never_retransmits),
		T(test_active_closer_waits_in_time_wait_for_two_msl),
		T(test_simultaneous_open_establishes_both),
		T(test_simultaneous_close_goes_through_closing),
		T(test_transfer_survives_loss_reordering_and_duplication),
		T(test_one_loss_is_repaired_by_fast_retransmit_not_timeout),
		T(test_transfer_across_the_sequence_wrap_is_exact),
		T(test_newreno_without_sack_recovers_too),
		T(test_sack_blocks_describe_what_arrived_past_the_gap),
		T(test_syn_unanswered_backs_off_then_times_out),
		T(test_data_unacknowledged_gives_up_with_a_reset),
		T(test_refused_connect_reports_econnrefused),
		T(test_reset_at_exactly_rcv_nxt_resets),
		T(test_reset_in_window_but_not_exact_gets_a_challenge_ack),
		T(test_reset_out_of_window_is_dropped_silently),
		T(test_syn_on_an_established_connection_gets_a_challenge_ack),
		T(test_challenge_acks_are_rate_limited),
		T(test_ack_of_data_never_sent_is_challenged_and_ignored),
		T(test_data_outside_the_window_is_answered_and_not_taken),
		T(test_older_timestamp_is_rejected_by_paws),
		T(test_ack_in_syn_sent_for_another_syn_is_reset),
		T(test_zero_window_is_probed_until_it_opens),
		T(test_a_single_segment_is_acknowledged_after_the_delay),
		T(test_nagle_holds_a_second_small_segment_until_the_ack),
		T(test_half_close_still_receives),
		T(test_close_with_unread_data_resets),
		T(test_keepalive_probes_an_idle_peer_and_gives_up_when_it_is_gone),
		T(test_lost_syn_ack_is_sent_again_for_a_retransmitted_syn),
		T(test_orphaned_fin_wait_2_gives_up_on_a_silent_peer),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
