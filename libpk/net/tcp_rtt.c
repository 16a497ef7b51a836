/* RFC 6298's estimator: see pk/net/tcp_rtt.h. */
#include "pk/net/tcp_rtt.h"

/* RFC 6298's G: the clock's granularity. Ours is a nanosecond; a microsecond keeps a
 * round trip with no variation from arming a timeout of exactly one round trip. */
#define CLOCK_GRANULARITY_NS 1000ull

void pk_tcp_rtt_init(struct pk_tcp_rtt *rtt)
{
	*rtt = (struct pk_tcp_rtt){.rto_ns = PK_TCP_RTO_INITIAL_NS};
}

void pk_tcp_rtt_sample(struct pk_tcp_rtt *rtt, uint64_t rtt_ns)
{
	if (!rtt->measured) {
		rtt->srtt_ns = rtt_ns;
		rtt->rttvar_ns = rtt_ns / 2;
		rtt->measured = true;
	} else {
		/* beta = 1/4, alpha = 1/8 (§2.3). */
		uint64_t error =
			rtt->srtt_ns > rtt_ns ? rtt->srtt_ns - rtt_ns : rtt_ns - rtt->srtt_ns;
		rtt->rttvar_ns = rtt->rttvar_ns - rtt->rttvar_ns / 4 + error / 4;
		rtt->srtt_ns = rtt->srtt_ns - rtt->srtt_ns / 8 + rtt_ns / 8;
	}
	uint64_t variation = 4 * rtt->rttvar_ns;
	uint64_t rto = rtt->srtt_ns +
		       (variation > CLOCK_GRANULARITY_NS ? variation : CLOCK_GRANULARITY_NS);
	rtt->rto_ns = rto < PK_TCP_RTO_MIN_NS	? PK_TCP_RTO_MIN_NS
		      : rto > PK_TCP_RTO_MAX_NS ? PK_TCP_RTO_MAX_NS
						: rto;
	rtt->backoff = 0;
}

void pk_tcp_rtt_back_off(struct pk_tcp_rtt *rtt)
{
	if (pk_tcp_rtt_timeout(rtt) < PK_TCP_RTO_MAX_NS)
		rtt->backoff++;
}

uint64_t pk_tcp_rtt_timeout(const struct pk_tcp_rtt *rtt)
{
	uint64_t rto = rtt->rto_ns;
	for (unsigned i = 0; i < rtt->backoff && rto < PK_TCP_RTO_MAX_NS; i++)
		rto *= 2;
	return rto < PK_TCP_RTO_MAX_NS ? rto : PK_TCP_RTO_MAX_NS;
}
