/* Ethernet as the router sees it: 48-bit MAC addresses, the IPv6 ethertype, and the two
 * mappings IPv6 makes onto Ethernet (RFC 2464): a multicast group to its 33:33 MAC, and a
 * MAC to the modified EUI-64 interface ID of a link-local address (RFC 4291 §2.5.1). */
#ifndef NIC_DRIVER_ETHERNET_H
#define NIC_DRIVER_ETHERNET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <packos/kan.h>

#define ETHERNET_ADDRESS_SIZE 6u
#define ETHERNET_TYPE_IPV6    0x86ddu

/* A received frame's Ethernet header, as the device split it off the packet. */
struct ethernet_header {
	uint8_t destination[ETHERNET_ADDRESS_SIZE];
	uint8_t source[ETHERNET_ADDRESS_SIZE];
	uint16_t type; /* host byte order */
};

/* The group bit: multicast and broadcast destinations; never a valid source. */
static inline bool ethernet_is_multicast(const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	return mac[0] & 1u;
}

/* RFC 2464 §7: 33:33 and the group's last four bytes. */
static inline void ethernet_multicast_mac(const uint8_t group[PK_IPV6_ADDR_SIZE],
					  uint8_t ret_mac[ETHERNET_ADDRESS_SIZE])
{
	ret_mac[0] = 0x33;
	ret_mac[1] = 0x33;
	memcpy(ret_mac + 2, group + 12, 4);
}

/* fe80::/64 and the modified EUI-64 of `mac`: ff:fe in the middle, the universal/local bit
 * inverted. */
static inline void ethernet_link_local(const uint8_t mac[ETHERNET_ADDRESS_SIZE],
				       uint8_t ret_address[PK_IPV6_ADDR_SIZE])
{
	static const uint8_t prefix[8] = {0xfe, 0x80};
	memcpy(ret_address, prefix, sizeof prefix);
	ret_address[8] = mac[0] ^ 0x02u;
	ret_address[9] = mac[1];
	ret_address[10] = mac[2];
	ret_address[11] = 0xff;
	ret_address[12] = 0xfe;
	ret_address[13] = mac[3];
	ret_address[14] = mac[4];
	ret_address[15] = mac[5];
}

#endif
