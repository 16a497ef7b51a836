/* A TCP connection: see pk/net/tcp_conn.h.
 *
 * Input follows RFC 9293 §3.10.7's order of checks (sequence number, RST, SYN, ACK, data,
 * FIN), with RFC 5961's and RFC 7323's checks where they belong. Output decides, each
 * call, the one segment most due: a reset, a SYN, a retransmission, new data, a FIN,
 * a probe, a bare ACK. Sequence numbers compare with pk_tcp_seq_lt/le throughout. */
#include "pk/net/tcp_conn.h"

#include <string.h>

#include "pk/net/icmpv6.h"
#include "pk/net/ipv6.h"
#include "pk/net/tcp_seq.h"
#include <packos/errors.h>

/* RFC 5961 §7: challenge ACKs are limited, so they cannot be turned into a flood. */
#define CHALLENGE_ACKS_PER_SECOND 10u
#define TIMESTAMP_OPTION_SPACE	  12u /* two NOPs and the option, RFC 7323 Appendix A */
#define DUPLICATE_ACK_THRESHOLD	  3u
#define PERSIST_BACKOFF_MAX	  6u
/* Added to RFC 8985's 2 SRTT, as Linux adds two ticks: a round trip of microseconds
 * varies by more than itself when a scheduler gets in the way. */
#define TAIL_PROBE_SLACK_NS 2000000ull

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static bool synchronized(const struct pk_tcp_conn *c)
{
	return c->state >= PK_TCP_ESTABLISHED;
}

/* Whether our FIN has a sequence number: the user shut sending and the state says so. */
static bool fin_queued(const struct pk_tcp_conn *c)
{
	return c->shut_send && c->state != PK_TCP_SYN_SENT && c->state != PK_TCP_SYN_RECEIVED &&
	       c->state != PK_TCP_ESTABLISHED && c->state != PK_TCP_CLOSE_WAIT;
}

/* The sequence number after the last byte queued: our FIN's, once there is one. */
static uint32_t data_end(const struct pk_tcp_conn *c)
{
	return c->send_seq + c->send.length;
}

static bool fin_acked(const struct pk_tcp_conn *c)
{
	return fin_queued(c) && c->snd_una == data_end(c) + 1;
}

void pk_tcp_conn_init(struct pk_tcp_conn *c, uint8_t *send_storage, uint32_t send_size,
		      uint8_t *receive_storage, uint32_t receive_size)
{
	*c = (struct pk_tcp_conn){.state = PK_TCP_CLOSED};
	pk_tcp_ring_init(&c->send, send_storage, send_size);
	pk_tcp_ring_init(&c->receive, receive_storage, receive_size);
}

static void become_closed(struct pk_tcp_conn *c, int error)
{
	c->state = PK_TCP_CLOSED;
	if (error != 0 && c->error == 0)
		c->error = error;
	c->retransmit_at = c->persist_at = c->delayed_ack_at = 0;
	c->keepalive_at = c->close_at = c->tail_probe_at = 0;
	c->ack_now = c->probe_now = c->keepalive_now = c->retransmit_first = false;
	c->probe_tail = false;
}

/* Shared by both opens: the window scale that lets the advertised window cover the whole
 * receive buffer (RFC 7323 §2.3), and everything that starts at zero. */
static void open_common(struct pk_tcp_conn *c, const struct pk_tcp_tuple *tuple, uint32_t iss,
			uint16_t mss, uint64_t now_ns)
{
	uint8_t *send_storage = c->send.storage, *receive_storage = c->receive.storage;
	uint32_t send_size = c->send.size, receive_size = c->receive.size;
	pk_tcp_conn_init(c, send_storage, send_size, receive_storage, receive_size);
	c->tuple = *tuple;
	c->own_mss = mss;
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->send_seq = iss + 1;
	c->recover = iss;
	c->rcv_mss = PK_TCP_DEFAULT_MSS < mss ? PK_TCP_DEFAULT_MSS : mss;
	c->rcv_shift = 0;
	while (c->rcv_shift < PK_TCP_WINDOW_SCALE_MAX && (receive_size >> c->rcv_shift) > 0xffff)
		c->rcv_shift++;
	/* RFC 7323 §5.4 asks for a random offset per connection; the ISN is one. */
	c->ts_offset = iss * 2654435761u;
	pk_tcp_rtt_init(&c->rtt);
	pk_ratelimit_init(&c->challenge_limit, CHALLENGE_ACKS_PER_SECOND, CHALLENGE_ACKS_PER_SECOND,
			  now_ns);
}

int pk_tcp_conn_connect(struct pk_tcp_conn *c, const struct pk_tcp_tuple *tuple, uint32_t iss,
			uint16_t mss, uint64_t now_ns)
{
	if (c->state != PK_TCP_CLOSED || mss == 0)
		return -PK_EINVAL;
	open_common(c, tuple, iss, mss, now_ns);
	c->state = PK_TCP_SYN_SENT;
	/* Offered; the peer's SYN decides (take_syn_options). */
	c->sack_ok = c->timestamps_ok = true;
	return 0;
}

/* What the peer's SYN says about the options, given what ours offered (an active open
 * offers all of them; a passive one answers with what the peer offered). */
static void take_syn_options(struct pk_tcp_conn *c, const struct pk_tcp_options *o)
{
	c->peer_mss = o->has_mss && o->mss > 0 ? o->mss : PK_TCP_DEFAULT_MSS;
	c->sack_ok = c->sack_ok && o->sack_permitted;
	c->timestamps_ok = c->timestamps_ok && o->has_timestamps;
	if (o->has_window_scale) {
		c->snd_shift = o->window_scale;
	} else {
		c->snd_shift = 0;
		c->rcv_shift = 0;
	}
	if (c->timestamps_ok) {
		c->ts_recent = o->timestamp_value;
		c->ts_recent_valid = true;
	}
}

/* RFC 6928's initial window: ten segments, within RFC 3390's byte limits. */
static uint32_t initial_window(uint32_t mss)
{
	return min32(10 * mss, max32(2 * mss, 14600));
}

int pk_tcp_conn_accept(struct pk_tcp_conn *c, const struct pk_tcp_tuple *tuple, uint32_t iss,
		       uint16_t mss, const struct pk_tcp_segment *syn, uint64_t now_ns)
{
	if (c->state != PK_TCP_CLOSED || mss == 0 ||
	    (syn->flags & (PK_TCP_SYN | PK_TCP_ACK | PK_TCP_RST)) != PK_TCP_SYN)
		return -PK_EINVAL;
	open_common(c, tuple, iss, mss, now_ns);
	c->state = PK_TCP_SYN_RECEIVED;
	c->passive = true;
	c->sack_ok = c->timestamps_ok = true;
	take_syn_options(c, &syn->options);
	c->irs = syn->seq;
	c->rcv_nxt = syn->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = syn->window; /* never scaled in a SYN (RFC 7323 §2.2) */
	c->snd_wl1 = syn->seq;
	c->max_snd_wnd = c->snd_wnd;
	return 0;
}

/* ---- Receiving ---- */

/* The window to advertise, bytes: the room in the receive buffer, but never pulling the
 * right edge back from where it was advertised (RFC 9293 §3.8.6.2.2) and, to avoid the
 * silly window syndrome, moving it out only by a segment or half the buffer at once. */
static uint32_t receive_window(const struct pk_tcp_conn *c)
{
	uint32_t room = pk_tcp_ring_room(&c->receive);
	uint32_t limit = c->rcv_shift == 0 && room > 0xffff ? 0xffff : room;
	uint32_t advertised = pk_tcp_seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = min32(c->receive.size / 2, c->own_mss);
	if (limit > advertised && limit - advertised < step)
		return advertised;
	return max32(limit, advertised);
}

/* RFC 5961's challenge ACK, rate limited (§7). */
static void challenge(struct pk_tcp_conn *c, uint64_t now_ns)
{
	if (pk_ratelimit_take(&c->challenge_limit, now_ns)) {
		c->ack_now = true;
		c->stats.challenge_acks++;
	}
}

static void receive_fin(struct pk_tcp_conn *c)
{
	c->fin_received = true;
	c->fin_pending = false;
	c->rcv_nxt++;
	c->ack_now = true;
	switch (c->state) {
	case PK_TCP_SYN_RECEIVED:
	case PK_TCP_ESTABLISHED:
		c->state = PK_TCP_CLOSE_WAIT;
		break;
	case PK_TCP_FIN_WAIT_1:
		c->state = fin_acked(c) ? PK_TCP_TIME_WAIT : PK_TCP_CLOSING;
		break;
	case PK_TCP_FIN_WAIT_2:
		c->state = PK_TCP_TIME_WAIT;
		break;
	default:
		break;
	}
}

/* Takes the payload [seq, seq + length) at `data`, and a FIN after it: in order, it joins
 * the bytes to read, with whatever waited past it; out of order, it waits at its place. */
static void receive_data(struct pk_tcp_conn *c, uint32_t seq, const uint8_t *data, uint32_t length,
			 bool fin, uint64_t now_ns)
{
	/* Trim what was received already, and what is past the room there is. */
	if (pk_tcp_seq_lt(seq, c->rcv_nxt)) {
		uint32_t old = c->rcv_nxt - seq;
		if (old >= length) {
			length = 0;
		} else {
			data += old;
			length -= old;
		}
		seq = c->rcv_nxt;
	}
	uint32_t offset = seq - c->rcv_nxt;
	uint32_t room = pk_tcp_ring_room(&c->receive);
	if (offset + length > room) {
		/* Past the window (a zero-window probe, say): the ACK says how much room. */
		length = offset < room ? room - offset : 0;
		fin = false;
		c->ack_now = true;
	}
	if (length > 0 && c->orphaned) {
		/* Nobody will read it: tell the peer at once (RFC 2525 §2.17). */
		pk_tcp_conn_abort(c);
		return;
	}
	if (offset > 0) {
		/* Past a gap: RFC 5681 §4.2 asks for an ACK at once, so the sender counts a
		 * duplicate; the SACK blocks tell it what we hold. */
		c->ack_now = true;
		if (length > 0) {
			c->stats.out_of_order++;
			if (pk_tcp_ranges_add(&c->out_of_order, seq, seq + length))
				pk_tcp_ring_write_past(&c->receive, offset, data, length);
		}
		if (fin) {
			c->fin_pending = true;
			c->fin_seq = seq + length;
		}
		return;
	}
	if (length > 0) {
		pk_tcp_ring_write_past(&c->receive, 0, data, length);
		uint32_t end = seq + length;
		bool filled_gap = c->out_of_order.count > 0;
		pk_tcp_ranges_trim(&c->out_of_order, end);
		end = pk_tcp_ranges_take_front(&c->out_of_order, end);
		pk_tcp_ring_extend(&c->receive, end - c->rcv_nxt);
		c->rcv_nxt = end;
		c->stats.bytes_received += length;
		if (filled_gap) {
			c->ack_now = true; /* RFC 5681 §4.2: a segment that fills a gap */
		} else {
			/* At least every second full-sized segment (RFC 5681 §4.2). Full-sized
			 * is what the peer sends, which its path may hold below our MSS. */
			if (length > c->rcv_mss)
				c->rcv_mss = length;
			if (length >= c->rcv_mss && ++c->segments_unacked >= 2)
				c->ack_now = true;
		}
		if (!c->ack_now && c->delayed_ack_at == 0)
			c->delayed_ack_at = now_ns + PK_TCP_DELAYED_ACK_NS;
	}
	if (fin && seq + length == c->rcv_nxt)
		receive_fin(c);
	else if (c->fin_pending && c->fin_seq == c->rcv_nxt)
		receive_fin(c);
}

/* ---- Acknowledgements and congestion control ---- */

static uint32_t send_mss(const struct pk_tcp_conn *c, uint32_t mtu)
{
	uint32_t path = mtu > PK_IPV6_HEADER_SIZE + PK_TCP_HEADER_SIZE
				? mtu - PK_IPV6_HEADER_SIZE - PK_TCP_HEADER_SIZE
				: 1;
	uint32_t mss = min32(c->peer_mss, path);
	if (c->timestamps_ok && mss > TIMESTAMP_OPTION_SPACE)
		mss -= TIMESTAMP_OPTION_SPACE;
	return mss;
}

/* The MSS congestion control counts in: the peer's, less the timestamps. */
static uint32_t cc_mss(const struct pk_tcp_conn *c)
{
	return send_mss(c, 0xffffffffu);
}

static uint32_t flight_size(const struct pk_tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

/* RFC 5681 (4) and RFC 6675 (4.2): half of what is in flight, at least two segments. */
static void halve_ssthresh(struct pk_tcp_conn *c)
{
	c->ssthresh = max32(flight_size(c) / 2, 2 * cc_mss(c));
}

static void enter_recovery(struct pk_tcp_conn *c)
{
	uint32_t mss = cc_mss(c);
	halve_ssthresh(c);
	c->recovering = true;
	c->recover = c->snd_max;
	c->high_rxt = c->snd_una;
	c->retransmit_first = true;
	/* RFC 6675 keeps cwnd at ssthresh and counts the pipe; NewReno inflates cwnd by the
	 * three segments the duplicates say have left the network. */
	c->cwnd = c->sack_ok ? c->ssthresh : c->ssthresh + DUPLICATE_ACK_THRESHOLD * mss;
	c->stats.fast_retransmits++;
}

/* Adds the segment's SACK blocks to the scoreboard; whether it learnt something new. */
static bool take_sack_blocks(struct pk_tcp_conn *c, const struct pk_tcp_options *o)
{
	if (!c->sack_ok)
		return false;
	uint32_t before = pk_tcp_ranges_bytes_before(&c->sacked, c->snd_max);
	for (unsigned i = 0; i < o->sack_count; i++) {
		uint32_t left = o->sack[i].left, right = o->sack[i].right;
		/* Only blocks of data sent and not acknowledged: one below is a D-SACK (RFC
		 * 2883), one past snd_max a lie. */
		if (!pk_tcp_seq_lt(left, right) || !pk_tcp_seq_lt(c->snd_una, right) ||
		    pk_tcp_seq_lt(c->snd_max, right))
			continue;
		pk_tcp_ranges_add(&c->sacked, pk_tcp_seq_lt(left, c->snd_una) ? c->snd_una : left,
				  right);
	}
	return pk_tcp_ranges_bytes_before(&c->sacked, c->snd_max) != before;
}

static void arm_retransmit(struct pk_tcp_conn *c, uint64_t now_ns)
{
	c->retransmit_at = now_ns + pk_tcp_rtt_timeout(&c->rtt);
}

/* RFC 8985 §7.2: a loss probe if nothing is acknowledged within two round trips, so a
 * lost tail is found by SACK instead of by the retransmission timer. Only once a round
 * trip is measured, with SACK to make use of the answer, outside recovery, and when it
 * comes before the timer. */
static void arm_tail_probe(struct pk_tcp_conn *c, uint64_t now_ns)
{
	c->tail_probe_at = 0;
	/* In recovery the same timer watches the segment at snd_una sent again: not
	 * acknowledged within two round trips, it is taken as lost again, as RACK (RFC 8985
	 * §6) would find once a later segment arrived, when none may come. */
	bool watch = c->recovering ? c->first_resent : true;
	if (!c->sack_ok || !c->rtt.measured || !watch || c->snd_una == c->snd_max ||
	    !synchronized(c))
		return;
	uint64_t timeout = 2 * c->rtt.srtt_ns + TAIL_PROBE_SLACK_NS;
	if (c->snd_max - c->snd_una <= cc_mss(c))
		timeout += PK_TCP_PEER_DELAYED_ACK_NS; /* one segment: its ACK may be delayed */
	if (c->retransmit_at == 0 || now_ns + timeout < c->retransmit_at)
		c->tail_probe_at = now_ns + timeout;
}

/* The peer acknowledged up to `ack`, past snd_una: drop what it holds from the send
 * buffer, time the round trip, and open the congestion window. */
static void take_new_ack(struct pk_tcp_conn *c, uint32_t ack, uint64_t now_ns)
{
	uint32_t acked = ack - c->snd_una;
	uint32_t mss = cc_mss(c);
	if (pk_tcp_seq_lt(c->send_seq, ack)) {
		uint32_t data = min32(ack - c->send_seq, c->send.length);
		pk_tcp_ring_consume(&c->send, data);
		c->send_seq += data;
	}
	c->snd_una = ack;
	if (pk_tcp_seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	pk_tcp_ranges_trim(&c->sacked, ack);
	if (c->timing && pk_tcp_seq_le(c->timed_seq, ack)) {
		pk_tcp_rtt_sample(&c->rtt, now_ns - c->timed_at_ns);
		c->timing = false;
	}
	c->retries = 0;
	c->duplicate_acks = 0;
	if (c->recovering) {
		if (pk_tcp_seq_le(c->recover, ack)) {
			/* A full acknowledgement ends recovery (RFC 6582 §3.2 step 3). */
			c->recovering = false;
			c->cwnd = min32(c->ssthresh, max32(flight_size(c), mss) + mss);
		} else {
			/* A partial one: the next hole is lost too (RFC 6582 §3.2 step 3). */
			if (pk_tcp_seq_lt(c->high_rxt, ack))
				c->high_rxt = ack;
			if (!c->sack_ok) {
				c->retransmit_first = true;
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : mss;
				if (acked >= mss)
					c->cwnd += mss;
			}
		}
	} else if (c->cwnd < c->ssthresh) {
		c->cwnd += min32(acked, mss); /* slow start, RFC 5681 §3.1 with RFC 3465's L=1 */
	} else {
		c->ca_acked += acked; /* congestion avoidance: a segment per window acked */
		if (c->ca_acked >= c->cwnd) {
			c->ca_acked -= c->cwnd;
			c->cwnd += mss;
		}
	}
	c->first_resent = false;
	/* RFC 6298 §5.2 and §5.3: stop the timer when all is acknowledged, else restart. */
	if (c->snd_una == c->snd_max)
		c->retransmit_at = 0;
	else
		arm_retransmit(c, now_ns);
	arm_tail_probe(c, now_ns);
}

static void update_send_window(struct pk_tcp_conn *c, const struct pk_tcp_segment *s)
{
	/* RFC 9293 §3.10.7.4: only from a segment no older than the last that did. */
	if (pk_tcp_seq_lt(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && pk_tcp_seq_le(c->snd_wl2, s->ack))) {
		c->snd_wnd = (uint32_t)s->window << c->snd_shift;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->max_snd_wnd = max32(c->max_snd_wnd, c->snd_wnd);
		if (c->snd_wnd > 0) {
			c->persist_at = 0;
			c->persist_backoff = 0;
		}
	}
}

/* RFC 5681 §2's duplicate acknowledgement, and what it means for recovery. One that
 * SACKs new data counts even if the window moved (RFC 6675 §2): a receiver that tunes its
 * buffer changes the window while it waits for a hole to fill. */
static void take_duplicate_ack(struct pk_tcp_conn *c, const struct pk_tcp_segment *s,
			       bool sacked_more)
{
	bool same_window = ((uint32_t)s->window << c->snd_shift) == c->snd_wnd;
	bool duplicate = s->payload_length == 0 && !(s->flags & (PK_TCP_SYN | PK_TCP_FIN)) &&
			 c->snd_una != c->snd_max && (same_window || sacked_more);
	if (!duplicate)
		return;
	c->stats.duplicate_acks++;
	c->duplicate_acks++;
	if (c->recovering) {
		if (!c->sack_ok)
			c->cwnd += cc_mss(c); /* NewReno's inflation */
		return;
	}
	if (c->duplicate_acks < DUPLICATE_ACK_THRESHOLD)
		return;
	/* RFC 6582 §3.2 step 1: without SACK, duplicates of a window a timeout already
	 * resent may be of segments that arrived twice, not lost: no fast retransmit until
	 * the ACK covers that window. SACK blocks say which were lost. */
	if (c->sack_ok || pk_tcp_seq_lt(c->recover, c->snd_una))
		enter_recovery(c);
}

/* RFC 7323 §4.3: the timestamp to echo is that of the segment that moved the left edge of
 * the window, so the peer's measurement includes our delayed ACKs. */
static void take_timestamp(struct pk_tcp_conn *c, const struct pk_tcp_segment *s)
{
	if (c->timestamps_ok && s->options.has_timestamps &&
	    pk_tcp_seq_le(s->seq, c->last_ack_sent) &&
	    pk_tcp_seq_le(c->last_ack_sent, s->seq + pk_tcp_sequence_length(s))) {
		c->ts_recent = s->options.timestamp_value;
		c->ts_recent_valid = true;
	}
}

/* ---- Input, by state ---- */

static void input_syn_sent(struct pk_tcp_conn *c, const struct pk_tcp_segment *s, uint64_t now_ns)
{
	bool has_ack = s->flags & PK_TCP_ACK;
	if (has_ack && (pk_tcp_seq_le(s->ack, c->iss) || pk_tcp_seq_lt(c->snd_max, s->ack))) {
		if (!(s->flags & PK_TCP_RST)) {
			c->reset_pending = true;
			c->reset_seq = s->ack;
		}
		return;
	}
	if (s->flags & PK_TCP_RST) {
		/* Only a reset that acknowledges our SYN refuses it (RFC 5961 §3 leaves
		 * SYN-SENT to RFC 9293). */
		if (has_ack)
			become_closed(c, -PK_ECONNREFUSED);
		return;
	}
	if (!(s->flags & PK_TCP_SYN))
		return;
	take_syn_options(c, &s->options);
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = s->window;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->max_snd_wnd = c->snd_wnd;
	c->cwnd = initial_window(cc_mss(c));
	c->ssthresh = 0xffffffffu;
	if (has_ack) {
		take_new_ack(c, s->ack, now_ns);
		c->state = PK_TCP_ESTABLISHED;
		c->ack_now = true;
	} else {
		/* Simultaneous open (RFC 9293 Figure 8): answer with our SYN again, and ACK. */
		c->state = PK_TCP_SYN_RECEIVED;
		c->snd_nxt = c->iss;
	}
}

/* RFC 9293 §3.10.7.4's first check, with PAWS before it (RFC 7323 §5.3). */
static bool sequence_acceptable(struct pk_tcp_conn *c, const struct pk_tcp_segment *s)
{
	if (c->timestamps_ok && c->ts_recent_valid && s->options.has_timestamps &&
	    !(s->flags & PK_TCP_RST) && pk_tcp_seq_lt(s->options.timestamp_value, c->ts_recent)) {
		c->stats.paws_rejected++;
		c->ack_now = true; /* answered with where we are (RFC 7323 §5.3) */
		return false;
	}
	uint32_t window = receive_window(c);
	if (pk_tcp_acceptable(s->seq, pk_tcp_sequence_length(s), c->rcv_nxt, window))
		return true;
	/* In a zero window a segment at RCV.NXT still carries an ACK and a window (the
	 * answer to our probe); RFC 9293 asks us to take those. */
	if (window == 0 && s->seq == c->rcv_nxt)
		return true;
	if (!(s->flags & PK_TCP_RST)) {
		c->stats.out_of_window++;
		c->ack_now = true; /* answered with where we are (RFC 9293 §3.10.7.4) */
	}
	return false;
}

static void take_reset(struct pk_tcp_conn *c, const struct pk_tcp_segment *s, uint64_t now_ns)
{
	switch (pk_tcp_rst_check(s->seq, c->rcv_nxt, receive_window(c))) {
	case PK_TCP_RST_ACCEPT:
		/* A passive open that never completed goes back to its listener, quietly. */
		if (c->state == PK_TCP_SYN_RECEIVED && c->passive)
			become_closed(c, 0);
		else if (c->state == PK_TCP_SYN_RECEIVED)
			become_closed(c, -PK_ECONNREFUSED);
		else
			become_closed(c, c->state >= PK_TCP_CLOSING ? 0 : -PK_ECONNRESET);
		break;
	case PK_TCP_RST_CHALLENGE:
		challenge(c, now_ns);
		break;
	case PK_TCP_RST_DROP:
		break;
	}
}

/* The ACK field in SYN-RECEIVED: ours acknowledged completes the handshake. */
static bool take_handshake_ack(struct pk_tcp_conn *c, const struct pk_tcp_segment *s,
			       uint64_t now_ns)
{
	if (!pk_tcp_seq_lt(c->snd_una, s->ack) || pk_tcp_seq_lt(c->snd_max, s->ack)) {
		c->reset_pending = true;
		c->reset_seq = s->ack;
		return false;
	}
	c->state = PK_TCP_ESTABLISHED;
	c->cwnd = initial_window(cc_mss(c));
	c->ssthresh = 0xffffffffu;
	c->snd_wnd = (uint32_t)s->window << c->snd_shift;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->max_snd_wnd = c->snd_wnd;
	/* The user may have shut sending before the handshake completed. */
	if (c->shut_send)
		c->state = PK_TCP_FIN_WAIT_1;
	take_new_ack(c, s->ack, now_ns);
	return true;
}

/* The ACK field in a synchronized state (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2). */
static bool take_ack(struct pk_tcp_conn *c, const struct pk_tcp_segment *s, uint64_t now_ns)
{
	if (!pk_tcp_ack_acceptable(s->ack, c->snd_una, c->snd_max, c->max_snd_wnd)) {
		c->stats.bad_acks++;
		challenge(c, now_ns);
		return false;
	}
	bool sacked_more = take_sack_blocks(c, &s->options);
	if (pk_tcp_seq_lt(c->snd_una, s->ack))
		take_new_ack(c, s->ack, now_ns);
	else
		take_duplicate_ack(c, s, sacked_more);
	/* The segment at snd_una went again, and three segments sent after it have been
	 * SACKed since, but not it: it was lost again. RFC 6675 would wait for the timer;
	 * like Linux, send it once more. */
	if (c->recovering && c->first_resent &&
	    pk_tcp_seq_le(c->rxt_mark + DUPLICATE_ACK_THRESHOLD * cc_mss(c),
			  pk_tcp_ranges_highest(&c->sacked, c->snd_una))) {
		c->first_resent = false;
		c->retransmit_first = true;
		c->stats.lost_retransmits++;
	}
	update_send_window(c, s);
	/* RFC 6675 §5's other trigger: three segments' worth SACKed past snd_una means it
	 * is lost, whatever the count of duplicates (an ACK that moved snd_una resets it). */
	if (!c->recovering && c->sack_ok && pk_tcp_seq_lt(c->snd_una, c->snd_max) &&
	    pk_tcp_ranges_bytes_before(&c->sacked, c->snd_max) >=
		    DUPLICATE_ACK_THRESHOLD * cc_mss(c))
		enter_recovery(c);
	/* A peer that answers our probes of its closed window is alive: probing goes on as
	 * long as it answers (RFC 1122 §4.2.2.17). */
	if (c->snd_wnd == 0)
		c->retries = 0;
	if (fin_acked(c)) {
		switch (c->state) {
		case PK_TCP_FIN_WAIT_1:
			c->state = PK_TCP_FIN_WAIT_2;
			/* Nobody will close a peer that never closes: a closed connection
			 * waits for the peer's FIN only so long. */
			if (c->orphaned)
				c->close_at = now_ns + PK_TCP_FIN_WAIT_2_NS;
			break;
		case PK_TCP_CLOSING:
			c->state = PK_TCP_TIME_WAIT;
			break;
		case PK_TCP_LAST_ACK:
			become_closed(c, 0);
			return false;
		default:
			break;
		}
	}
	return true;
}

void pk_tcp_conn_input(struct pk_tcp_conn *c, const uint8_t *packet, const struct pk_tcp_segment *s,
		       uint64_t now_ns)
{
	if (c->state == PK_TCP_CLOSED)
		return;
	c->stats.segments_received++;
	if (c->keepalive) {
		c->keepalive_at = now_ns + PK_TCP_KEEPALIVE_IDLE_NS;
		c->keepalive_sent = 0;
	}
	if (c->state == PK_TCP_SYN_SENT) {
		input_syn_sent(c, s, now_ns);
		return;
	}
	/* A retransmitted SYN means our SYN-ACK was lost: send it again. */
	if (c->state == PK_TCP_SYN_RECEIVED && (s->flags & PK_TCP_SYN) &&
	    !(s->flags & PK_TCP_ACK) && s->seq == c->irs) {
		c->snd_nxt = c->iss;
		return;
	}
	/* The peer's FIN again in TIME-WAIT: our ACK of it was lost. Answer, and wait
	 * 2 MSL anew (RFC 9293 §3.10.7.4). */
	if (c->state == PK_TCP_TIME_WAIT && (s->flags & PK_TCP_FIN) && !(s->flags & PK_TCP_RST) &&
	    s->seq + pk_tcp_sequence_length(s) == c->rcv_nxt) {
		c->ack_now = true;
		c->close_at = now_ns + PK_TCP_TIME_WAIT_NS;
		return;
	}
	enum pk_tcp_state before = c->state;
	if (!sequence_acceptable(c, s))
		return;
	if (s->flags & PK_TCP_RST) {
		take_reset(c, s, now_ns);
		return;
	}
	/* RFC 5961 §4: a SYN on a synchronized connection may be a blind attack; the
	 * challenge ACK lets a real peer that lost its state reset us properly. */
	if (s->flags & PK_TCP_SYN) {
		challenge(c, now_ns);
		return;
	}
	if (!(s->flags & PK_TCP_ACK))
		return;
	take_timestamp(c, s);
	if (c->state == PK_TCP_SYN_RECEIVED) {
		if (!take_handshake_ack(c, s, now_ns))
			return;
	} else if (!take_ack(c, s, now_ns)) {
		return;
	}
	if (c->state == PK_TCP_TIME_WAIT && before != PK_TCP_TIME_WAIT)
		c->close_at = now_ns + PK_TCP_TIME_WAIT_NS;
	if (c->state == PK_TCP_TIME_WAIT)
		return;
	bool takes_data = c->state == PK_TCP_ESTABLISHED || c->state == PK_TCP_FIN_WAIT_1 ||
			  c->state == PK_TCP_FIN_WAIT_2;
	if (takes_data && !c->fin_received)
		receive_data(c, s->seq, packet + s->payload_offset, s->payload_length,
			     s->flags & PK_TCP_FIN, now_ns);
	else if ((s->flags & PK_TCP_FIN) || s->payload_length > 0)
		c->ack_now = true; /* a FIN or data again, after the FIN: ACK it again */
	if (c->state == PK_TCP_TIME_WAIT && before != PK_TCP_TIME_WAIT)
		c->close_at = now_ns + PK_TCP_TIME_WAIT_NS;
}

/* ---- Output ---- */

/* Fills the fields every segment of the connection shares. */
static void segment_init(struct pk_tcp_conn *c, struct pk_tcp_segment *seg, uint32_t seq,
			 uint8_t flags, uint64_t now_ns)
{
	*seg = (struct pk_tcp_segment){
		.source_port = c->tuple.local_port,
		.destination_port = c->tuple.remote_port,
		.seq = seq,
		.flags = flags,
	};
	if (c->timestamps_ok) {
		seg->options.has_timestamps = true;
		seg->options.timestamp_value = pk_tcp_timestamp(c->ts_offset, now_ns);
		seg->options.timestamp_echo = c->ts_recent;
	}
	if (flags & PK_TCP_ACK) {
		uint32_t window = receive_window(c);
		uint32_t field = window >> c->rcv_shift;
		seg->ack = c->rcv_nxt;
		seg->window = (uint16_t)min32(field, 0xffff);
		if (pk_tcp_seq_lt(c->rcv_adv, c->rcv_nxt + window))
			c->rcv_adv = c->rcv_nxt + window;
		c->last_ack_sent = c->rcv_nxt;
		c->ack_now = false;
		c->delayed_ack_at = 0;
		c->segments_unacked = 0;
		if (c->sack_ok && !(flags & PK_TCP_SYN))
			seg->options.sack_count = pk_tcp_ranges_sack_blocks(
				&c->out_of_order, seg->options.sack, PK_TCP_SACK_BLOCKS_MAX);
	}
}

static uint32_t emit(struct pk_tcp_conn *c, uint8_t *packet, const struct pk_tcp_segment *seg)
{
	c->stats.segments_sent++;
	return pk_tcp_write(packet, c->tuple.local, c->tuple.remote, seg, PK_NET_HOP_LIMIT);
}

static uint32_t output_syn(struct pk_tcp_conn *c, uint8_t *packet, uint64_t now_ns)
{
	bool ack = c->state == PK_TCP_SYN_RECEIVED;
	struct pk_tcp_segment seg;
	segment_init(c, &seg, c->iss, PK_TCP_SYN | (ack ? PK_TCP_ACK : 0), now_ns);
	seg.window = (uint16_t)min32(c->receive.size, 0xffff); /* never scaled in a SYN */
	seg.options.has_mss = true;
	seg.options.mss = c->own_mss;
	/* A SYN-ACK offers only what the peer's SYN did (RFC 7323 §1.3, RFC 2018 §2). */
	seg.options.has_window_scale = !ack || c->snd_shift != 0 || c->rcv_shift != 0;
	seg.options.window_scale = c->rcv_shift;
	seg.options.sack_permitted = c->sack_ok;
	seg.options.has_timestamps = c->timestamps_ok;
	seg.options.timestamp_echo = ack ? c->ts_recent : 0;
	if (c->snd_max != c->iss) {
		c->stats.retransmitted++;
		c->timing = false;
	} else {
		c->timing = true;
		c->timed_seq = c->iss + 1;
		c->timed_at_ns = now_ns;
	}
	c->snd_nxt = c->snd_max = c->iss + 1;
	if (c->retransmit_at == 0)
		arm_retransmit(c, now_ns);
	return emit(c, packet, &seg);
}

/* The bytes the peer's window and our congestion window let us put in flight now. */
static uint32_t send_budget(const struct pk_tcp_conn *c, uint32_t mss)
{
	uint32_t window_edge = c->snd_una + c->snd_wnd;
	uint32_t by_window = pk_tcp_seq_lt(c->snd_nxt, window_edge) ? window_edge - c->snd_nxt : 0;
	uint32_t cwnd = c->cwnd;
	if (!c->recovering && c->duplicate_acks > 0) /* limited transmit, RFC 3042 */
		cwnd += (c->duplicate_acks < 2 ? c->duplicate_acks : 2) * mss;
	uint32_t in_flight =
		c->snd_nxt - c->snd_una - pk_tcp_ranges_bytes_before(&c->sacked, c->snd_nxt);
	if (c->recovering && c->sack_ok) {
		/* RFC 6675's pipe: what is not SACKed and not presumed lost, and what was
		 * retransmitted; everything below the highest SACK counts as lost. */
		uint32_t highest = pk_tcp_ranges_highest(&c->sacked, c->snd_una);
		uint32_t above = pk_tcp_seq_lt(highest, c->snd_nxt) ? c->snd_nxt - highest : 0;
		uint32_t resent =
			pk_tcp_seq_lt(c->snd_una, c->high_rxt)
				? c->high_rxt - c->snd_una -
					  pk_tcp_ranges_bytes_before(&c->sacked, c->high_rxt)
				: 0;
		in_flight = above + resent;
	}
	uint32_t by_cwnd = cwnd > in_flight ? cwnd - in_flight : 0;
	return min32(by_window, by_cwnd);
}

/* RFC 6675's NextSeg rule 1: the first byte from high_rxt on that is neither SACKed nor
 * past the highest SACK; *ret_end is where that hole ends. */
static bool next_hole(const struct pk_tcp_conn *c, uint32_t *ret_seq, uint32_t *ret_end)
{
	uint32_t highest = pk_tcp_ranges_highest(&c->sacked, c->snd_una);
	uint32_t seq = pk_tcp_seq_lt(c->high_rxt, c->snd_una) ? c->snd_una : c->high_rxt;
	uint32_t right;
	while (pk_tcp_ranges_contains(&c->sacked, seq, &right))
		seq = right;
	if (!pk_tcp_seq_lt(seq, highest))
		return false;
	*ret_seq = seq;
	*ret_end = pk_tcp_ranges_next_left(&c->sacked, seq, highest);
	return true;
}

/* Writes a segment of up to `length` bytes from `seq`, with the FIN if it reaches it. */
static uint32_t output_data(struct pk_tcp_conn *c, uint8_t *packet, uint32_t size, uint32_t seq,
			    uint32_t length, uint64_t now_ns)
{
	struct pk_tcp_segment seg;
	uint32_t end = data_end(c);
	bool fin = fin_queued(c) && seq + length == end;
	segment_init(c, &seg, seq, PK_TCP_ACK | (fin ? PK_TCP_FIN : 0), now_ns);
	uint32_t at = pk_tcp_payload_at(&seg.options, false);
	if (at + length > size)
		length = size > at ? size - at : 0;
	fin = fin && seq + length == end;
	if (!fin)
		seg.flags &= (uint8_t)~PK_TCP_FIN;
	pk_tcp_ring_copy(&c->send, seq - c->send_seq, packet + at, length);
	seg.payload_length = length;
	if (length > 0)
		seg.flags |= PK_TCP_PSH * (seq + length == end);
	uint32_t seq_end = seq + length + fin;
	if (pk_tcp_seq_lt(seq, c->snd_max)) {
		c->stats.retransmitted++;
		/* Karn: a segment sent twice gives no sample. */
		if (c->timing && pk_tcp_seq_lt(seq, c->timed_seq))
			c->timing = false;
		if (seq == c->snd_una) {
			c->first_resent = true;
			c->rxt_mark = c->snd_max;
			arm_tail_probe(c, now_ns);
		}
	} else {
		c->stats.bytes_sent += length;
		if (!c->timing) {
			c->timing = true;
			c->timed_seq = seq_end;
			c->timed_at_ns = now_ns;
		}
	}
	if (c->snd_nxt == seq)
		c->snd_nxt = seq_end;
	if (pk_tcp_seq_lt(c->snd_max, seq_end))
		c->snd_max = seq_end;
	if (c->retransmit_at == 0)
		arm_retransmit(c, now_ns);
	if (c->tail_probe_at == 0)
		arm_tail_probe(c, now_ns);
	return emit(c, packet, &seg);
}

static uint32_t output_bare(struct pk_tcp_conn *c, uint8_t *packet, uint32_t seq, uint8_t flags,
			    uint64_t now_ns)
{
	struct pk_tcp_segment seg;
	segment_init(c, &seg, seq, flags, now_ns);
	return emit(c, packet, &seg);
}

/* What the timers say is due now. */
static void run_timers(struct pk_tcp_conn *c, uint64_t now_ns)
{
	if (c->close_at != 0 && c->close_at <= now_ns &&
	    (c->state == PK_TCP_TIME_WAIT || c->state == PK_TCP_FIN_WAIT_2)) {
		become_closed(c, 0);
		return;
	}
	if (c->retransmit_at != 0 && c->retransmit_at <= now_ns) {
		c->retransmit_at = 0;
		c->stats.timeouts++;
		bool handshake = c->state == PK_TCP_SYN_SENT || c->state == PK_TCP_SYN_RECEIVED;
		if (++c->retries > (handshake ? PK_TCP_SYN_RETRIES : PK_TCP_RETRIES)) {
			if (!handshake)
				pk_tcp_conn_abort(c);
			become_closed(c, -PK_ETIMEDOUT);
			return;
		}
		pk_tcp_rtt_back_off(&c->rtt);
		c->timing = false;
		if (handshake) {
			c->snd_nxt = c->iss;
		} else {
			/* RFC 5681 §3.1 and RFC 6582 §3.2 step 4: one segment, slow start,
			 * and everything from snd_una sent again but what the peer SACKed, as
			 * Linux does. A receiver may drop what it SACKed (RFC 2018 §8): a
			 * second timeout in a row forgets the SACKs, so that is sent too. */
			uint32_t mss = cc_mss(c);
			if (c->retries == 1)
				halve_ssthresh(c);
			c->cwnd = mss;
			c->ca_acked = 0;
			c->recovering = false;
			c->recover = c->snd_max;
			c->duplicate_acks = 0;
			c->snd_nxt = c->snd_una;
			if (c->retries > 1)
				c->sacked.count = 0;
			c->retransmit_first = false;
			c->first_resent = false;
			c->probe_tail = false;
			c->tail_probe_at = 0;
		}
	}
	if (c->tail_probe_at != 0 && c->tail_probe_at <= now_ns) {
		c->tail_probe_at = 0;
		if (c->recovering && c->first_resent) {
			c->first_resent = false;
			c->retransmit_first = true;
			c->stats.lost_retransmits++;
		} else if (!c->recovering && c->snd_una != c->snd_max) {
			c->probe_tail = true;
			c->stats.tail_probes++;
		}
	}
	if (c->persist_at != 0 && c->persist_at <= now_ns) {
		c->persist_at = 0;
		c->probe_now = true;
		if (c->persist_backoff < PERSIST_BACKOFF_MAX)
			c->persist_backoff++;
	}
	if (c->delayed_ack_at != 0 && c->delayed_ack_at <= now_ns) {
		c->delayed_ack_at = 0;
		c->ack_now = true;
	}
	if (c->keepalive_at != 0 && c->keepalive_at <= now_ns) {
		if (c->keepalive_sent >= PK_TCP_KEEPALIVE_PROBES) {
			pk_tcp_conn_abort(c);
			become_closed(c, -PK_ETIMEDOUT);
			return;
		}
		c->keepalive_at = now_ns + PK_TCP_KEEPALIVE_INTERVAL_NS;
		/* Only an idle connection is probed; one with data out has its timer. */
		if (c->snd_una == c->snd_max) {
			c->keepalive_now = true;
			c->keepalive_sent++;
		}
	}
}

uint32_t pk_tcp_conn_output(struct pk_tcp_conn *c, uint8_t *packet, uint32_t size, uint32_t mtu,
			    uint64_t now_ns)
{
	if (c->reset_pending) {
		c->reset_pending = false;
		struct pk_tcp_segment seg = {
			.source_port = c->tuple.local_port,
			.destination_port = c->tuple.remote_port,
			.seq = c->reset_seq,
			.flags = PK_TCP_RST,
		};
		return emit(c, packet, &seg);
	}
	run_timers(c, now_ns);
	if (c->reset_pending)
		return pk_tcp_conn_output(c, packet, size, mtu, now_ns);
	switch (c->state) {
	case PK_TCP_CLOSED:
		return 0;
	case PK_TCP_SYN_SENT:
		return c->snd_nxt == c->iss ? output_syn(c, packet, now_ns) : 0;
	case PK_TCP_SYN_RECEIVED:
		if (c->snd_nxt == c->iss)
			return output_syn(c, packet, now_ns);
		return c->ack_now ? output_bare(c, packet, c->snd_nxt, PK_TCP_ACK, now_ns) : 0;
	default:
		break;
	}
	uint32_t mss = send_mss(c, mtu);
	uint32_t end = data_end(c) + fin_queued(c);
	/* Fast retransmit, and NewReno's partial acknowledgements: the first segment. */
	if (c->retransmit_first) {
		c->retransmit_first = false;
		if (pk_tcp_seq_lt(c->snd_una, c->snd_max)) {
			uint32_t length = min32(mss, data_end(c) - c->snd_una);
			if (pk_tcp_seq_lt(data_end(c), c->snd_una))
				length = 0;
			if (pk_tcp_seq_lt(c->high_rxt, c->snd_una + length))
				c->high_rxt = c->snd_una + length;
			return output_data(c, packet, size, c->snd_una, length, now_ns);
		}
	}
	if (c->probe_tail) {
		/* RFC 8985 §7.3: new data if the window has room, else the last segment. */
		c->probe_tail = false;
		uint32_t window_edge = c->snd_una + c->snd_wnd;
		if (pk_tcp_seq_lt(c->snd_nxt, data_end(c)) &&
		    pk_tcp_seq_lt(c->snd_nxt, window_edge))
			return output_data(c, packet, size, c->snd_nxt,
					   min32(min32(mss, data_end(c) - c->snd_nxt),
						 window_edge - c->snd_nxt),
					   now_ns);
		uint32_t last_end =
			pk_tcp_seq_lt(data_end(c), c->snd_max) ? data_end(c) : c->snd_max;
		uint32_t length = min32(mss, last_end - c->snd_una);
		return output_data(c, packet, size, last_end - length, length, now_ns);
	}
	uint32_t budget = send_budget(c, mss);
	if (c->recovering && c->sack_ok && budget > 0) {
		uint32_t seq, hole_end;
		if (next_hole(c, &seq, &hole_end)) {
			uint32_t length =
				pk_tcp_seq_lt(seq, data_end(c))
					? min32(min32(mss, hole_end - seq), data_end(c) - seq)
					: 0;
			c->high_rxt = seq + length;
			return output_data(c, packet, size, seq, length, now_ns);
		}
	}
	/* Sending again after a timeout: what the peer holds is skipped, and what it lacks
	 * goes as the window allows, whatever its size. */
	uint32_t sacked_right;
	while (pk_tcp_seq_lt(c->snd_nxt, c->snd_max) &&
	       pk_tcp_ranges_contains(&c->sacked, c->snd_nxt, &sacked_right))
		c->snd_nxt = sacked_right;
	if (pk_tcp_seq_lt(c->snd_nxt, c->snd_max) && pk_tcp_seq_lt(c->snd_nxt, data_end(c))) {
		uint32_t gap_end = pk_tcp_ranges_next_left(&c->sacked, c->snd_nxt, c->snd_max);
		uint32_t length = min32(min32(mss, gap_end - c->snd_nxt),
					min32(budget, data_end(c) - c->snd_nxt));
		if (length > 0)
			return output_data(c, packet, size, c->snd_nxt, length, now_ns);
	}
	uint32_t unsent = pk_tcp_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
	if (unsent > 0) {
		uint32_t data_left = fin_queued(c) ? unsent - 1 : unsent;
		if (data_left == 0) /* the FIN alone: it needs no room in the window */
			return output_data(c, packet, size, c->snd_nxt, 0, now_ns);
		uint32_t usable = min32(min32(data_left, mss), budget);
		bool idle = c->snd_nxt == c->snd_una;
		/* A full segment goes; so does anything when nothing is in flight (else a
		 * tiny window could stall us for good). Otherwise Nagle (RFC 1122 §4.2.3.4)
		 * holds back the last small piece while data is unacknowledged, unless the
		 * FIN follows it, and the sender's silly window avoidance (RFC 9293
		 * §3.8.6.2.1) holds back a piece cut short by the window. */
		bool last_piece = usable == data_left && (c->nodelay || fin_queued(c));
		if (usable > 0 &&
		    (usable == mss || idle || last_piece || usable >= c->max_snd_wnd / 2)) {
			c->probe_now = false;
			return output_data(c, packet, size, c->snd_nxt, usable, now_ns);
		}
		if (c->probe_now) {
			/* A zero-window probe: one byte past the window (RFC 9293 §3.8.6.1). */
			c->probe_now = false;
			c->stats.window_probes++;
			return output_data(c, packet, size, c->snd_nxt, 1, now_ns);
		}
		/* Closed window, nothing in flight to bring an update: probe it later. */
		if (c->snd_wnd == 0 && c->snd_nxt == c->snd_una && c->persist_at == 0) {
			uint64_t wait = pk_tcp_rtt_timeout(&c->rtt) << c->persist_backoff;
			c->persist_at =
				now_ns + (wait < PK_TCP_RTO_MAX_NS ? wait : PK_TCP_RTO_MAX_NS);
		}
	}
	if (c->keepalive_now) {
		/* RFC 1122 §4.2.3.6: an old sequence number, so the peer must answer. */
		c->keepalive_now = false;
		c->stats.keepalive_probes++;
		return output_bare(c, packet, c->snd_una - 1, PK_TCP_ACK, now_ns);
	}
	if (c->ack_now)
		return output_bare(c, packet, c->snd_nxt, PK_TCP_ACK, now_ns);
	return 0;
}

uint64_t pk_tcp_conn_deadline(const struct pk_tcp_conn *c)
{
	if (c->reset_pending || c->ack_now || c->probe_now || c->keepalive_now ||
	    c->retransmit_first || c->probe_tail)
		return 1;
	const uint64_t timers[] = {c->retransmit_at, c->persist_at, c->delayed_ack_at,
				   c->keepalive_at,  c->close_at,   c->tail_probe_at};
	uint64_t earliest = 0;
	for (unsigned i = 0; i < sizeof timers / sizeof timers[0]; i++) {
		if (timers[i] != 0 && (earliest == 0 || timers[i] < earliest))
			earliest = timers[i];
	}
	return earliest;
}

/* ---- The user's calls ---- */

int pk_tcp_conn_send(struct pk_tcp_conn *c, const void *data, uint32_t length)
{
	if (c->state == PK_TCP_CLOSED)
		return c->error != 0 ? c->error : -PK_ENOTCONN;
	if (c->shut_send)
		return -PK_ECLOSED;
	return (int)pk_tcp_ring_append(&c->send, data, length);
}

int pk_tcp_conn_recv(struct pk_tcp_conn *c, void *buffer, uint32_t size)
{
	uint32_t held = c->receive.length;
	if (held > 0) {
		uint32_t n = pk_tcp_ring_copy(&c->receive, 0, buffer, min32(size, 0x7fffffff));
		pk_tcp_ring_consume(&c->receive, n);
		/* Tell the peer of the room as soon as it matters (RFC 9293 §3.8.6.2.2):
		 * when the window it knows would grow by a segment or half the buffer. */
		uint32_t known =
			pk_tcp_seq_lt(c->rcv_nxt, c->rcv_adv) ? c->rcv_adv - c->rcv_nxt : 0;
		uint32_t window = receive_window(c);
		if (synchronized(c) && window > known &&
		    window - known >= min32(c->receive.size / 2, 2u * c->own_mss))
			c->ack_now = true;
		return (int)n;
	}
	if (c->error != 0)
		return c->error;
	if (c->fin_received)
		return 0;
	if (c->state == PK_TCP_CLOSED)
		return -PK_ENOTCONN;
	return -PK_EWOULDBLOCK;
}

int pk_tcp_conn_shutdown(struct pk_tcp_conn *c)
{
	switch (c->state) {
	case PK_TCP_CLOSED:
		return c->error != 0 ? c->error : -PK_ENOTCONN;
	case PK_TCP_SYN_SENT:
		become_closed(c, 0);
		return 0;
	case PK_TCP_SYN_RECEIVED:
		c->shut_send = true; /* the FIN waits for the handshake */
		return 0;
	case PK_TCP_ESTABLISHED:
		c->state = PK_TCP_FIN_WAIT_1;
		break;
	case PK_TCP_CLOSE_WAIT:
		c->state = PK_TCP_LAST_ACK;
		break;
	default:
		return 0; /* already shut */
	}
	c->shut_send = true;
	return 0;
}

int pk_tcp_conn_close(struct pk_tcp_conn *c, uint64_t now_ns)
{
	if (c->state == PK_TCP_CLOSED)
		return 0;
	c->orphaned = true;
	if (c->receive.length > 0) {
		pk_tcp_conn_abort(c);
		return 0;
	}
	int err = pk_tcp_conn_shutdown(c);
	if (c->state == PK_TCP_FIN_WAIT_2 && c->close_at == 0)
		c->close_at = now_ns + PK_TCP_FIN_WAIT_2_NS;
	return err;
}

void pk_tcp_conn_abort(struct pk_tcp_conn *c)
{
	if (synchronized(c) || c->state == PK_TCP_SYN_RECEIVED) {
		c->reset_pending = true;
		c->reset_seq = c->snd_nxt;
	}
	become_closed(c, 0); /* the reset stays pending for pk_tcp_output */
}

uint32_t pk_tcp_conn_readable(const struct pk_tcp_conn *c)
{
	return c->receive.length;
}

uint32_t pk_tcp_conn_writable(const struct pk_tcp_conn *c)
{
	if (c->state == PK_TCP_CLOSED || c->shut_send)
		return 0;
	return pk_tcp_ring_room(&c->send);
}

void pk_tcp_conn_set_keepalive(struct pk_tcp_conn *c, bool on, uint64_t now_ns)
{
	c->keepalive = on;
	c->keepalive_sent = 0;
	c->keepalive_at = on ? now_ns + PK_TCP_KEEPALIVE_IDLE_NS : 0;
}

const char *pk_tcp_conn_state_name(enum pk_tcp_state state)
{
	static const char *const names[] = {
		[PK_TCP_CLOSED] = "CLOSED",
		[PK_TCP_SYN_SENT] = "SYN-SENT",
		[PK_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
		[PK_TCP_ESTABLISHED] = "ESTABLISHED",
		[PK_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
		[PK_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
		[PK_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[PK_TCP_CLOSING] = "CLOSING",
		[PK_TCP_LAST_ACK] = "LAST-ACK",
		[PK_TCP_TIME_WAIT] = "TIME-WAIT",
	};
	return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "?";
}
