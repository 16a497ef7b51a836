/* The path MTU cache of <pk/net/pmtu.h>: a linear table, because a process talks to few
 * destinations at once and the table is small enough to stay in cache. */
#include <string.h>

#include "pk/net/ipv6.h"
#include "pk/net/pmtu.h"

void pk_pmtu_init(struct pk_pmtu *pmtu, struct pk_pmtu_entry *entries, unsigned entry_count,
		  uint32_t link_mtu, uint64_t lifetime_ns)
{
	*pmtu = (struct pk_pmtu){.entries = entries,
				 .entry_count = entry_count,
				 .link_mtu = link_mtu,
				 .lifetime_ns = lifetime_ns};
	memset(entries, 0, entry_count * sizeof *entries);
}

static struct pk_pmtu_entry *find(struct pk_pmtu *pmtu,
				  const uint8_t destination[PK_IPV6_ADDR_SIZE], uint64_t now_ns)
{
	for (unsigned i = 0; i < pmtu->entry_count; i++) {
		struct pk_pmtu_entry *entry = &pmtu->entries[i];
		if (!entry->used)
			continue;
		if (now_ns - entry->learned_ns >= pmtu->lifetime_ns) {
			entry->used = false;
			continue;
		}
		if (memcmp(entry->destination, destination, PK_IPV6_ADDR_SIZE) == 0)
			return entry;
	}
	return NULL;
}

uint32_t pk_pmtu_get(struct pk_pmtu *pmtu, const uint8_t destination[PK_IPV6_ADDR_SIZE],
		     uint64_t now_ns)
{
	const struct pk_pmtu_entry *entry = find(pmtu, destination, now_ns);
	return entry ? entry->mtu : pmtu->link_mtu;
}

bool pk_pmtu_learn(struct pk_pmtu *pmtu, const uint8_t destination[PK_IPV6_ADDR_SIZE], uint32_t mtu,
		   uint64_t now_ns)
{
	if (mtu < PK_IPV6_MIN_MTU)
		mtu = PK_IPV6_MIN_MTU;
	struct pk_pmtu_entry *entry = find(pmtu, destination, now_ns);
	uint32_t current = entry ? entry->mtu : pmtu->link_mtu;
	if (mtu >= current || pmtu->entry_count == 0)
		return false;
	if (!entry) {
		entry = &pmtu->entries[0];
		for (unsigned i = 0; i < pmtu->entry_count; i++) {
			struct pk_pmtu_entry *candidate = &pmtu->entries[i];
			if (!candidate->used) {
				entry = candidate;
				break;
			}
			if (candidate->learned_ns < entry->learned_ns)
				entry = candidate;
		}
		memcpy(entry->destination, destination, PK_IPV6_ADDR_SIZE);
		entry->used = true;
	}
	entry->mtu = mtu;
	entry->learned_ns = now_ns;
	return true;
}
