/* kan-echo: answers ping with echo replies, and every other packet by sending it back,
 * source and destination swapped.
 *
 * Packets come through the process's interface (<pk/netif.h>): its stack answers echo
 * requests and refuses bad packets; what it delivers is sent back here. The send of one
 * answer and the wait for the next question are one entry into the kernel. A reassembled
 * datagram goes back in fragments.
 *
 * In remap isolation frames are never mapped (pk_set_lazy_mapping): the interface reads
 * each packet out of its frame, and an echo reply goes back in the request's own frame,
 * written over it. Those two copies of a packet of at most a page cost less than mapping
 * the frame in and out, two changes of protection (docs/performance.md).
 *
 * ICMPv6 error messages are the one thing not sent back: they report on something this
 * program sent, and bouncing a report to the node that made it tells that node nothing
 * (and two reporters would never stop). */
#include <stdbool.h>
#include <stdio.h>

#include <pk/net/icmpv6.h>
#include <pk/net/ipv6.h>
#include <pk/netif.h>
#include <pk/pk.h>

static bool is_icmp_error(const struct pk_netif_packet *packet)
{
	/* Types below 128 are errors (RFC 4443 §2.1); the stack checked the length. */
	return packet->protocol == PK_IPPROTO_ICMPV6 &&
	       packet->data[packet->upper_offset] < PK_ICMPV6_ECHO_REQUEST;
}

int main(void)
{
	int err = pk_netif_init();
	struct pk_netif_packet packet = {0};
	if (err == 0) {
		pk_set_lazy_mapping(1);
		err = pk_netif_recv(&packet, PK_WAIT_FOREVER);
	}
	while (err == 0) {
		if (is_icmp_error(&packet)) {
			err = pk_netif_recv(&packet, PK_WAIT_FOREVER);
			continue;
		}
		pk_ipv6_swap_addresses(packet.data);
		((struct pk_ipv6_header *)packet.data)->hop_limit = PK_NET_HOP_LIMIT;
		err = pk_netif_send_recv(&packet, PK_WAIT_FOREVER);
		/* The asker went away or its queue is full: the answer is dropped, go on. An
		 * error of the receive itself comes back at once from the next. */
		if (err < 0)
			err = pk_netif_recv(&packet, PK_WAIT_FOREVER);
	}
	fprintf(stderr, "kan-echo: %s\n", pk_strerror(err));
	return 1;
}
