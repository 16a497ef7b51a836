/* The interface object of <pk/net/iface.h>: an address list searched linearly, since a
 * process holds a handful of addresses and the search must allocate nothing. */
#include <string.h>

#include "pk/net/iface.h"
#include "pk/net/ipv6.h"
#include "pk/pk.h"

static const uint8_t all_nodes[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 0x01};

void pk_iface_init(struct pk_iface *iface, uint32_t mtu)
{
	*iface = (struct pk_iface){.mtu = mtu};
}

bool pk_iface_has_address(const struct pk_iface *iface, const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; i < iface->address_count; i++)
		if (memcmp(iface->address[i], address, PK_IPV6_ADDR_SIZE) == 0)
			return true;
	return false;
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

bool pk_iface_accepts(const struct pk_iface *iface, const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	return pk_iface_has_address(iface, destination) ||
	       memcmp(destination, all_nodes, PK_IPV6_ADDR_SIZE) == 0;
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
