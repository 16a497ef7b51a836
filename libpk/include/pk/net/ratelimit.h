/* A token bucket: `rate` events a second on average, bursts of up to `burst`.
 *
 * RFC 4443 §2.4(f) asks every node to limit the ICMPv6 errors it sends; this is that
 * limiter, usable for anything else. Time comes in as an argument, never from a clock. */
#ifndef PK_NET_RATELIMIT_H
#define PK_NET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct pk_ratelimit {
	uint64_t interval_ns; /* the time that earns one token */
	uint64_t credit_ns;   /* earned and not spent, at most burst * interval_ns */
	uint64_t cap_ns;
	uint64_t last_ns; /* when credit_ns was last brought up to date */
};

/* Starts full. A rate of 0 is taken as 1 a second and a burst of 0 as 1. */
void pk_ratelimit_init(struct pk_ratelimit *limit, uint32_t rate_per_second, uint32_t burst,
		       uint64_t now_ns);

/* Takes one token if there is one. A clock that goes backwards earns nothing. */
bool pk_ratelimit_take(struct pk_ratelimit *limit, uint64_t now_ns);

#endif
