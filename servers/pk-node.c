/* pk-node: a PackOS process that does nothing but answer on the network.
 *
 * It runs the receive loop of its interface (<pk/netif.h>), whose stack answers ping and
 * refuses malformed packets, and answers what the stack delivers as a host with no
 * program listening does: UDP and TCP get port unreachable (there is no TCP to send a
 * reset yet); a protocol it does not know gets a parameter problem pointing at the Next
 * Header byte that named it (RFC 8200 §4); ICMPv6 messages (RFC 4443 §2.4: errors go to
 * no one here, unknown informational messages are dropped), No Next Header and ESP
 * (nothing to answer with) are dropped silently. Every answer keeps to the stack's rate
 * limit. Addresses come from the boot manifest, as many as it gives. */
#include <stdbool.h>
#include <stdio.h>

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>
#include <pk/netif.h>

/* RFC 4443 §3.4. */
enum { UNRECOGNIZED_NEXT_HEADER = 1 };

/* The offset of the Next Header byte that names the upper layer, when the chain walk
 * tells: the upper layer follows the IPv6 header or a Hop-by-Hop or Routing header
 * directly, whose Next Header the walk reports as the place a Fragment header would be
 * linked. Behind Destination Options or AH it does not say, and the packet is dropped. */
static bool upper_link(const struct pk_netif_packet *packet, uint32_t *ret_link)
{
	struct pk_ipv6_chain chain;
	if (pk_ipv6_parse_chain(packet->data, packet->length, &chain) != PK_NET_OK ||
	    chain.fragment_offset != 0 || chain.unfragmentable != chain.upper_offset)
		return false;
	*ret_link = chain.fragment_link;
	return true;
}

/* Answers (or drops) a delivered packet; the packet is consumed or released by the next
 * receive either way. */
static void answer(struct pk_netif_packet *packet)
{
	uint32_t link;
	switch (packet->protocol) {
	case PK_IPPROTO_UDP:
	case PK_IPPROTO_TCP:
		pk_netif_reject(packet, PK_ICMPV6_DEST_UNREACHABLE, PK_ICMPV6_UNREACH_PORT, 0);
		break;
	case PK_IPPROTO_ICMPV6:
	case PK_IPPROTO_NONE:
	case PK_IPPROTO_ESP:
		break;
	default:
		if (upper_link(packet, &link))
			pk_netif_reject(packet, PK_ICMPV6_PARAMETER_PROBLEM,
					UNRECOGNIZED_NEXT_HEADER, link);
		break;
	}
}

int main(void)
{
	struct pk_netif_packet packet = {0};
	int err = pk_netif_init();
	while (err == 0 && (err = pk_netif_recv(&packet, PK_WAIT_FOREVER)) == 0)
		answer(&packet);
	fprintf(stderr, "pk-node: %s\n", pk_strerror(err));
	return 1;
}
