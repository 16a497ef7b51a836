/* The retransmission timeout of a TCP connection (RFC 6298): a smoothed round-trip time
 * and its variation, from samples the connection takes, and the exponential back-off of a
 * timer that keeps expiring. Times in nanoseconds; pure arithmetic. */
#ifndef PK_NET_TCP_RTT_H
#define PK_NET_TCP_RTT_H

#include <stdbool.h>
#include <stdint.h>

#define PK_TCP_RTO_INITIAL_NS 1000000000ull /* RFC 6298 §2.1 */
/* RFC 6298 §2.4 asks for 1 s; like Linux we take 200 ms, which a link of microseconds
 * makes safe (a delayed ACK, at most PK_TCP_DELAYED_ACK_NS, stays well under it). */
#define PK_TCP_RTO_MIN_NS 200000000ull
#define PK_TCP_RTO_MAX_NS 60000000000ull /* RFC 6298 §2.5: at least 60 s */

struct pk_tcp_rtt {
	bool measured; /* a sample has come in */
	uint64_t srtt_ns, rttvar_ns;
	uint64_t rto_ns;  /* before back-off */
	unsigned backoff; /* doublings since the last sample */
};

void pk_tcp_rtt_init(struct pk_tcp_rtt *rtt);

/* A round trip measured on a segment sent once (Karn's rule: never a retransmitted
 * one); ends any back-off. */
void pk_tcp_rtt_sample(struct pk_tcp_rtt *rtt, uint64_t rtt_ns);

/* The timer expired: the next timeout is twice as long, up to the maximum. */
void pk_tcp_rtt_back_off(struct pk_tcp_rtt *rtt);

/* The timeout to arm now. */
uint64_t pk_tcp_rtt_timeout(const struct pk_tcp_rtt *rtt);

#endif
