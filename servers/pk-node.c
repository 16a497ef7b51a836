/* pk-node: a PackOS process that does nothing but answer on the network.
 *
 * It runs the receive loop of its interface (<pk/netif.h>), whose stack answers ping and
 * refuses malformed packets, and answers what the stack delivers as a host with no
 * program listening does (pk_netif_refuse): port unreachable for UDP, a reset for TCP,
 * parameter problem for a protocol it does not know, nothing for ICMPv6, No Next Header
 * and ESP. Addresses come from the boot manifest, as many as it
 * gives. */
#include <stdio.h>

#include <pk/netif.h>

int main(void)
{
	struct pk_netif_packet packet = {0};
	int err = pk_netif_init();
	while (err == 0 && (err = pk_netif_recv(&packet, PK_WAIT_FOREVER)) == 0)
		pk_netif_refuse(&packet);
	fprintf(stderr, "pk-node: %s\n", pk_strerror(err));
	return 1;
}
