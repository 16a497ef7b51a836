/* TCP's sequence space: comparing numbers that wrap, the initial sequence number (RFC
 * 6528), and the tests RFC 9293 and RFC 5961 make of a segment's numbers before the state
 * machine acts on it. Pure functions of their arguments. */
#ifndef PK_NET_TCP_SEQ_H
#define PK_NET_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

#include <pk/net/siphash.h>

/* a < b, a <= b in sequence space: within half the space of each other, modulo 2^32. */
static inline bool pk_tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool pk_tcp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* The initial sequence number of a connection (RFC 6528): a clock ticking every 4 µs plus
 * a keyed hash of the connection's addresses and ports, so each connection starts
 * somewhere unpredictable and a new incarnation of one starts past the old. `secret` is
 * the process's, random. */
uint32_t pk_tcp_isn(const uint8_t secret[PK_SIPHASH_KEY_SIZE],
		    const uint8_t local[PK_IPV6_ADDR_SIZE], uint16_t local_port,
		    const uint8_t remote[PK_IPV6_ADDR_SIZE], uint16_t remote_port, uint64_t now_ns);

/* RFC 9293 §3.10.7.4: whether a segment of `seg_len` (payload, SYN and FIN counted) at
 * `seg_seq` falls in the receive window [rcv_nxt, rcv_nxt + rcv_wnd). */
bool pk_tcp_acceptable(uint32_t seg_seq, uint32_t seg_len, uint32_t rcv_nxt, uint32_t rcv_wnd);

/* What a reset does to a synchronized connection (RFC 5961 §3.2): only one at exactly the
 * next sequence number expected resets it; one elsewhere in the window gets a challenge
 * ACK (a blind attacker guessed near but not right); one outside is dropped. */
enum pk_tcp_rst_verdict {
	PK_TCP_RST_ACCEPT,
	PK_TCP_RST_CHALLENGE,
	PK_TCP_RST_DROP,
};
enum pk_tcp_rst_verdict pk_tcp_rst_check(uint32_t seg_seq, uint32_t rcv_nxt, uint32_t rcv_wnd);

/* RFC 5961 §5.2: whether an acknowledgement is one to act on, neither ahead of what was
 * sent (snd_nxt) nor further behind snd_una than the largest window the peer ever offered
 * (max_snd_wnd): an ACK out there is from no real peer, and earns a challenge ACK. */
bool pk_tcp_ack_acceptable(uint32_t seg_ack, uint32_t snd_una, uint32_t snd_nxt,
			   uint32_t max_snd_wnd);

#endif
