/* When the router advertises itself (RFC 4861 §6.2.4, §6.2.6): the first advertisements
 * come fast, then one every randomised interval; a solicitation brings the next one
 * forward by a random delay of up to half a second, but never to within 3 s of the last,
 * since all of them go to every node on the link. Time is an argument; the randomness
 * comes from a seed, so tests are deterministic. */
#ifndef NIC_DRIVER_ADVERT_H
#define NIC_DRIVER_ADVERT_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 4861 §10 */
#define ADVERT_SECOND		       1000000000ull
#define ADVERT_MAX_INITIAL_INTERVAL_NS (16 * ADVERT_SECOND)
#define ADVERT_INITIAL_COUNT	       3u
#define ADVERT_MIN_GAP_NS	       (3 * ADVERT_SECOND)
#define ADVERT_MAX_DELAY_NS	       (ADVERT_SECOND / 2)
/* MaxRtrAdvInterval's range (§6.2.1) and default. */
#define ADVERT_INTERVAL_MIN_S	  4u
#define ADVERT_INTERVAL_MAX_S	  1800u
#define ADVERT_INTERVAL_DEFAULT_S 600u

struct advert {
	bool enabled;
	uint64_t max_interval_ns; /* MaxRtrAdvInterval */
	uint64_t min_interval_ns; /* MinRtrAdvInterval: a third of it (§6.2.1's default) */
	unsigned initial_left;	  /* fast advertisements still to send */
	uint64_t next_ns;	  /* when the next one is due; UINT64_MAX when disabled */
	uint64_t last_ns;	  /* when the last one went */
	bool any_sent;
	uint64_t random; /* xorshift state */
};

/* `interval_s` is MaxRtrAdvInterval, clamped into its range; the first advertisement is
 * due at once. */
void advert_init(struct advert *advert, bool enabled, uint32_t interval_s, uint64_t seed,
		 uint64_t now_ns);

bool advert_due(const struct advert *advert, uint64_t now_ns);

/* One went out at `now_ns`: schedules the next. */
void advert_sent(struct advert *advert, uint64_t now_ns);

/* A valid router solicitation arrived. */
void advert_solicited(struct advert *advert, uint64_t now_ns);

#endif
