/* The token bucket of <pk/net/ratelimit.h>. Credit is kept in nanoseconds rather than
 * tokens, so refilling is one subtraction and no rate loses precision to rounding. */
#include "pk/net/ratelimit.h"

void pk_ratelimit_init(struct pk_ratelimit *limit, uint32_t rate_per_second, uint32_t burst,
		       uint64_t now_ns)
{
	uint64_t interval = 1000000000u / (rate_per_second ? rate_per_second : 1u);
	limit->interval_ns = interval;
	limit->cap_ns = interval * (burst ? burst : 1u);
	limit->credit_ns = limit->cap_ns;
	limit->last_ns = now_ns;
}

bool pk_ratelimit_take(struct pk_ratelimit *limit, uint64_t now_ns)
{
	if (now_ns > limit->last_ns) {
		uint64_t room = limit->cap_ns - limit->credit_ns;
		uint64_t earned = now_ns - limit->last_ns;
		limit->credit_ns += earned < room ? earned : room;
		limit->last_ns = now_ns;
	}
	if (limit->credit_ns < limit->interval_ns)
		return false;
	limit->credit_ns -= limit->interval_ns;
	return true;
}
