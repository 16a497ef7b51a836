/* A TCP connection (RFC 9293) as protocol code: segments in, segments out, time as an
 * argument, no kernel calls, no allocation. The socket layer (<pk/tcp.h>) finds the
 * connection a segment belongs to, owns the buffers, and sends what pk_tcp_output writes.
 *
 * What it does: every state, simultaneous open and close, resets and RFC 5961's defences,
 * TIME-WAIT; retransmission with RFC 6298's timer and back-off; RFC 5681 congestion
 * control with fast retransmit and recovery (RFC 6675's SACK-based recovery when the peer
 * SACKs, NewReno, RFC 6582, when it does not) and limited transmit (RFC 3042); MSS and
 * segmentation to the path MTU; window scale and timestamps with PAWS (RFC 7323); SACK
 * (RFC 2018) both ways; out-of-order queueing; tail loss probes (RFC 8985 §7) and the
 * detection of lost retransmissions by SACK; zero-window probes; keep-alive; delayed ACKs;
 * Nagle. docs/net.md lists what it leaves out.
 *
 * Driving one: after pk_tcp_input, a call that changes the buffers, or when the time from
 * pk_tcp_conn_deadline comes, call pk_tcp_conn_output until it returns 0, sending each segment it
 * writes. Errors are negative PK_E codes. */
#ifndef PK_NET_TCP_CONN_H
#define PK_NET_TCP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/ratelimit.h>
#include <pk/net/tcp_ranges.h>
#include <pk/net/tcp_ring.h>
#include <pk/net/tcp_rtt.h>
#include <pk/net/tcp_segment.h>

#define PK_TCP_DELAYED_ACK_NS 40000000ull /* RFC 5681 §4.2 allows up to 500 ms */
/* The longest a peer is taken to hold an ACK back (RFC 8985 §7.2's WCDelAckT). */
#define PK_TCP_PEER_DELAYED_ACK_NS   200000000ull
#define PK_TCP_TIME_WAIT_NS	     60000000000ull /* 2 MSL, with Linux's MSL of 30 s */
#define PK_TCP_FIN_WAIT_2_NS	     60000000000ull /* a closed connection's peer that never closes */
#define PK_TCP_SYN_RETRIES	     6u		    /* as Linux: about two minutes of trying */
#define PK_TCP_RETRIES		     15u	    /* consecutive timeouts before giving up */
#define PK_TCP_DEFAULT_MSS	     1220u /* RFC 8200 §8.3: IPv6's minimum MTU less headers */
#define PK_TCP_KEEPALIVE_IDLE_NS     7200000000000ull /* RFC 1122 §4.2.3.6: two hours */
#define PK_TCP_KEEPALIVE_INTERVAL_NS 75000000000ull
#define PK_TCP_KEEPALIVE_PROBES	     9u

enum pk_tcp_state {
	PK_TCP_CLOSED,
	PK_TCP_SYN_SENT,
	PK_TCP_SYN_RECEIVED,
	PK_TCP_ESTABLISHED,
	PK_TCP_FIN_WAIT_1,
	PK_TCP_FIN_WAIT_2,
	PK_TCP_CLOSE_WAIT,
	PK_TCP_CLOSING,
	PK_TCP_LAST_ACK,
	PK_TCP_TIME_WAIT,
};

struct pk_tcp_tuple {
	uint8_t local[PK_IPV6_ADDR_SIZE], remote[PK_IPV6_ADDR_SIZE];
	uint16_t local_port, remote_port;
};

/* Segments, unless named otherwise. */
struct pk_tcp_stats {
	uint64_t segments_received, segments_sent;
	uint64_t bytes_received, bytes_sent; /* payload, first transmissions only */
	uint64_t retransmitted;		     /* segments sent again */
	uint64_t fast_retransmits;	     /* recoveries entered on duplicate ACKs */
	uint64_t timeouts;		     /* retransmission timer expiries */
	uint64_t duplicate_acks;
	uint64_t out_of_order;	   /* data segments queued past a gap */
	uint64_t out_of_window;	   /* segments outside the window, answered with an ACK */
	uint64_t paws_rejected;	   /* timestamps older than the last (RFC 7323 §5) */
	uint64_t challenge_acks;   /* RFC 5961, sent */
	uint64_t tail_probes;	   /* RFC 8985 §7's loss probes */
	uint64_t lost_retransmits; /* a segment sent again and lost again, found by SACK */
	uint64_t bad_acks;	   /* acknowledging what was never sent, or long ago */
	uint64_t window_probes, keepalive_probes;
};

struct pk_tcp_conn {
	enum pk_tcp_state state;
	struct pk_tcp_tuple tuple;
	int error;	/* why it closed, reported by pk_tcp_recv and pk_tcp_send */
	bool passive;	/* opened by a SYN to a listener */
	bool shut_send; /* the user is done sending: a FIN follows the data */
	bool orphaned;	/* the user closed it: nothing will read what comes */
	bool nodelay;	/* Nagle off */
	bool keepalive;
	uint16_t own_mss; /* announced in our SYN */

	/* Options, agreed by both SYNs. */
	bool sack_ok, timestamps_ok;
	uint8_t snd_shift, rcv_shift; /* window scale: the peer's, ours */
	uint16_t peer_mss;

	/* Sending. The ring holds the bytes from send_seq on: sent and not acknowledged,
	 * then not yet sent. */
	struct pk_tcp_ring send;
	uint32_t iss, snd_una, snd_nxt, snd_max; /* snd_nxt < snd_max after a timeout */
	uint32_t send_seq;			 /* sequence number of the ring's first byte */
	uint32_t snd_wnd, max_snd_wnd;		 /* bytes, scaled */
	uint32_t snd_wl1, snd_wl2;

	/* Congestion control, bytes. */
	uint32_t cwnd, ssthresh, ca_acked;
	unsigned duplicate_acks;
	bool recovering;
	uint32_t recover;      /* snd_max when recovery began (RFC 6582) */
	uint32_t high_rxt;     /* retransmitted up to here in this recovery (RFC 6675) */
	bool retransmit_first; /* send the segment at snd_una again, window or not */
	bool first_resent;     /* ... and it went, when snd_max was rxt_mark */
	uint32_t rxt_mark;
	struct pk_tcp_ranges sacked;

	/* Round-trip timing of one segment at a time (Karn's rule). */
	struct pk_tcp_rtt rtt;
	bool timing;
	uint32_t timed_seq; /* the sample is taken when this is acknowledged */
	uint64_t timed_at_ns;
	unsigned retries; /* consecutive timeouts */

	/* Receiving. The ring holds the bytes not yet read, then room in which
	 * out-of-order data waits at its place. */
	struct pk_tcp_ring receive;
	struct pk_tcp_ranges out_of_order;
	uint32_t irs, rcv_nxt;
	uint32_t rcv_adv; /* the right edge of the window last advertised */
	bool fin_received;
	bool fin_pending; /* a FIN past a gap, at fin_seq */
	uint32_t fin_seq;
	bool ack_now;
	unsigned segments_unacked; /* full-sized ones since the last ACK sent */
	uint32_t rcv_mss;	   /* the largest payload the peer has sent */
	uint32_t last_ack_sent;
	uint32_t ts_recent, ts_offset;
	bool ts_recent_valid;
	struct pk_ratelimit challenge_limit;

	/* What to send besides data. */
	bool reset_pending;
	uint32_t reset_seq;
	bool probe_now, keepalive_now, probe_tail;

	/* Timers: absolute nanoseconds, 0 when off. */
	uint64_t retransmit_at, persist_at, delayed_ack_at, keepalive_at, close_at, tail_probe_at;
	unsigned persist_backoff, keepalive_sent;

	struct pk_tcp_stats stats;
};

/* RFC 7323's timestamp clock: milliseconds, from a connection's random offset. */
static inline uint32_t pk_tcp_timestamp(uint32_t offset, uint64_t now_ns)
{
	return (uint32_t)(now_ns / 1000000u) + offset;
}

/* A closed connection over the caller's buffers (they must outlive it). */
void pk_tcp_conn_init(struct pk_tcp_conn *c, uint8_t *send_storage, uint32_t send_size,
		      uint8_t *receive_storage, uint32_t receive_size);

/* Active open: SYN-SENT, with a SYN for pk_tcp_output to send. `mss` is what this end
 * can receive (its interface's MTU less 60); `iss` from pk_tcp_isn. -PK_EINVAL unless
 * closed. */
int pk_tcp_conn_connect(struct pk_tcp_conn *c, const struct pk_tcp_tuple *tuple, uint32_t iss,
			uint16_t mss, uint64_t now_ns);

/* Passive open: a listener received `syn` (a SYN without ACK, parsed by pk_tcp_parse) on
 * `tuple`; the connection goes to SYN-RECEIVED with a SYN-ACK to send. */
int pk_tcp_conn_accept(struct pk_tcp_conn *c, const struct pk_tcp_tuple *tuple, uint32_t iss,
		       uint16_t mss, const struct pk_tcp_segment *syn, uint64_t now_ns);

/* A segment for this connection: `s` parsed from `packet` by pk_tcp_parse. */
void pk_tcp_conn_input(struct pk_tcp_conn *c, const uint8_t *packet, const struct pk_tcp_segment *s,
		       uint64_t now_ns);

/* Writes the next segment due, IPv6 header first, at `packet` (room for `size` bytes, at
 * least a header and options; data segments never exceed `mtu`, the path's) and returns
 * its length, or 0 when nothing is due. Runs the timers that have expired first. */
uint32_t pk_tcp_conn_output(struct pk_tcp_conn *c, uint8_t *packet, uint32_t size, uint32_t mtu,
			    uint64_t now_ns);

/* When pk_tcp_output next has something to do without input: 0 for never. */
uint64_t pk_tcp_conn_deadline(const struct pk_tcp_conn *c);

/* Queues up to `length` bytes to send, as many as the send buffer has room for; returns
 * how many (0 when full), or -PK_ECLOSED after pk_tcp_shutdown, -PK_ENOTCONN when closed
 * (or the error that closed it). Allowed before the connection is established. */
int pk_tcp_conn_send(struct pk_tcp_conn *c, const void *data, uint32_t length);

/* Reads up to `size` bytes received in order; returns how many, 0 at the end of the
 * peer's stream, -PK_EWOULDBLOCK when nothing has come yet, or the error that closed the
 * connection (-PK_ECONNRESET, -PK_ECONNREFUSED, -PK_ETIMEDOUT). */
int pk_tcp_conn_recv(struct pk_tcp_conn *c, void *buffer, uint32_t size);

/* Done sending: a FIN follows the queued data. Receiving goes on. */
int pk_tcp_conn_shutdown(struct pk_tcp_conn *c);

/* Done with the connection: pk_tcp_shutdown, and nothing more will be read. Data unread,
 * or arriving later, resets it (RFC 2525 §2.17), as Linux does. */
int pk_tcp_conn_close(struct pk_tcp_conn *c, uint64_t now_ns);

/* Resets a synchronized connection and closes it at once. */
void pk_tcp_conn_abort(struct pk_tcp_conn *c);

/* Bytes pk_tcp_recv would return now, and room pk_tcp_send would take. */
uint32_t pk_tcp_conn_readable(const struct pk_tcp_conn *c);
uint32_t pk_tcp_conn_writable(const struct pk_tcp_conn *c);

/* Keep-alive probes after two idle hours (RFC 1122 §4.2.3.6), or not. */
void pk_tcp_conn_set_keepalive(struct pk_tcp_conn *c, bool on, uint64_t now_ns);

const char *pk_tcp_conn_state_name(enum pk_tcp_state state);

#endif
