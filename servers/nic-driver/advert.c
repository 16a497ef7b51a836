/* The advertisement schedule of advert.h. */
#include "advert.h"

static uint64_t next_random(struct advert *advert)
{
	/* xorshift64: the schedule needs spread between routers, not secrecy */
	uint64_t x = advert->random;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	advert->random = x;
	return x;
}

/* Uniform enough in [low, high]. */
static uint64_t between(struct advert *advert, uint64_t low, uint64_t high)
{
	return low + next_random(advert) % (high - low + 1);
}

void advert_init(struct advert *advert, bool enabled, uint32_t interval_s, uint64_t seed,
		 uint64_t now_ns)
{
	if (interval_s < ADVERT_INTERVAL_MIN_S)
		interval_s = ADVERT_INTERVAL_MIN_S;
	if (interval_s > ADVERT_INTERVAL_MAX_S)
		interval_s = ADVERT_INTERVAL_MAX_S;
	uint64_t max = interval_s * ADVERT_SECOND;
	*advert = (struct advert){
		.enabled = enabled,
		.max_interval_ns = max,
		.min_interval_ns = max / 3,
		.initial_left = ADVERT_INITIAL_COUNT,
		.next_ns = enabled ? now_ns : UINT64_MAX,
		/* xorshift must not start at 0 */
		.random = seed ? seed : 0x9e3779b97f4a7c15ull,
	};
}

bool advert_due(const struct advert *advert, uint64_t now_ns)
{
	return advert->enabled && advert->next_ns <= now_ns;
}

void advert_sent(struct advert *advert, uint64_t now_ns)
{
	advert->last_ns = now_ns;
	advert->any_sent = true;
	if (advert->initial_left > 0)
		advert->initial_left--;
	uint64_t interval = between(advert, advert->min_interval_ns, advert->max_interval_ns);
	if (advert->initial_left > 0 && interval > ADVERT_MAX_INITIAL_INTERVAL_NS)
		interval = ADVERT_MAX_INITIAL_INTERVAL_NS;
	advert->next_ns = now_ns + interval;
}

void advert_solicited(struct advert *advert, uint64_t now_ns)
{
	if (!advert->enabled)
		return;
	uint64_t at = now_ns + between(advert, 0, ADVERT_MAX_DELAY_NS);
	if (advert->any_sent && at < advert->last_ns + ADVERT_MIN_GAP_NS)
		at = advert->last_ns + ADVERT_MIN_GAP_NS;
	if (at < advert->next_ns)
		advert->next_ns = at;
}
