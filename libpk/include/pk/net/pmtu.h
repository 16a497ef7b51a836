/* The path MTU cache (RFC 8201): what packet-too-big messages taught about each
 * destination, in a small fixed table the caller provides. An estimate never drops below
 * PK_IPV6_MIN_MTU (so no atomic fragments are ever needed, RFC 8021), never rises from a
 * message, and is forgotten after its lifetime so a path that grew is found again. */
#ifndef PK_NET_PMTU_H
#define PK_NET_PMTU_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

/* RFC 8201 §4: forget an estimate after no less than 5 minutes; 10 is suggested. */
#define PK_PMTU_LIFETIME_NS (600ull * 1000000000ull)

struct pk_pmtu_entry {
	bool used;
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	uint32_t mtu;
	uint64_t learned_ns;
};

struct pk_pmtu {
	struct pk_pmtu_entry *entries;
	unsigned entry_count;
	uint32_t link_mtu; /* the answer for every destination without an estimate */
	uint64_t lifetime_ns;
};

void pk_pmtu_init(struct pk_pmtu *pmtu, struct pk_pmtu_entry *entries, unsigned entry_count,
		  uint32_t link_mtu, uint64_t lifetime_ns);

/* The MTU to use towards `destination` now. */
uint32_t pk_pmtu_get(struct pk_pmtu *pmtu, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		     uint64_t now_ns);

/* Records that a packet to `destination` was too big for a link of `mtu` bytes (raised to
 * PK_IPV6_MIN_MTU if below). Returns true if the estimate went down; a full table gives up
 * its oldest entry. */
bool pk_pmtu_learn(struct pk_pmtu *pmtu, const uint8_t destination[PK_IPV6_ADDR_SIZE], uint32_t mtu,
		   uint64_t now_ns);

#endif
