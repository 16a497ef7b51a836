/* The interface object of <pk/net/iface.h>: address and group lists searched linearly,
 * since a process holds a handful of each and the search must allocate nothing. */
#include <string.h>

#include "pk/net/iface.h"
#include "pk/net/ipv6.h"
#include "pk/pk.h"

static const uint8_t all_nodes[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 0x01};

void pk_iface_init(struct pk_iface *iface, uint32_t mtu)
{
	*iface = (struct pk_iface){.mtu = mtu};
}

static bool listed(const uint8_t (*list)[PK_IPV6_ADDR_SIZE], unsigned count,
		   const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; i < count; i++)
		if (memcmp(list[i], address, PK_IPV6_ADDR_SIZE) == 0)
			return true;
	return false;
}

bool pk_iface_has_address(const struct pk_iface *iface, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return listed(iface->address, iface->address_count, address);
}

int pk_iface_add_address(struct pk_iface *iface, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	if (pk_ipv6_is_multicast(address) || pk_ipv6_is_unspecified(address))
		return -PK_EINVAL;
	if (pk_iface_has_address(iface, address))
		return 0;
	if (iface->address_count == PK_IFACE_ADDRESSES)
		return -PK_ELIMIT;
	memcpy(iface->address[iface->address_count++], address, PK_IPV6_ADDR_SIZE);
	return 0;
}

int pk_iface_join(struct pk_iface *iface, const uint8_t group[PK_IPV6_ADDR_SIZE])
{
	if (!pk_ipv6_is_multicast(group))
		return -PK_EINVAL;
	if (listed(iface->group, iface->group_count, group))
		return 0;
	if (iface->group_count == PK_IFACE_GROUPS)
		return -PK_ELIMIT;
	memcpy(iface->group[iface->group_count++], group, PK_IPV6_ADDR_SIZE);
	return 0;
}

bool pk_iface_accepts(const struct pk_iface *iface, const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	return pk_iface_has_address(iface, destination) ||
	       memcmp(destination, all_nodes, PK_IPV6_ADDR_SIZE) == 0 ||
	       listed(iface->group, iface->group_count, destination);
}

const char *pk_iface_drop_name(enum pk_net_drop reason)
{
	static const char *const names[PK_NET_DROP_COUNT] = {[PK_NET_OK] = "accepted",
#define PK__NET_DROP_NAME(name, text) [PK_NET_DROP_##name] = text,
							     PK_NET_DROP_LIST(PK__NET_DROP_NAME)
#undef PK__NET_DROP_NAME
	};
	if ((unsigned)reason >= PK_NET_DROP_COUNT)
		return "unknown";
	return names[reason];
}
