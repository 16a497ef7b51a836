/* kan-echo: answers every packet by sending it back, source and destination swapped.
 *
 * The answer is the same frame: received, edited in place and sent on, so an echo costs
 * no copy at all, and the send of one answer and the wait for the next question are one
 * entry into the kernel (pk_send_recv). */
#include <stdio.h>
#include <string.h>

#include <pk/pk.h>

static void swap_addresses(uint8_t *packet)
{
	struct pk_ipv6_header *h = (struct pk_ipv6_header *)packet;
	uint8_t source[PK_IPV6_ADDR_SIZE];
	memcpy(source, h->source, sizeof source);
	memcpy(h->source, h->destination, sizeof source);
	memcpy(h->destination, source, sizeof source);
	h->hop_limit = 64;
}

int main(void)
{
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "kan-echo: %s\n", pk_strerror(err));
		return 1;
	}
	pk_endpoint_t endpoint = pk_endpoint(0);
	struct pk_frame frame;
	uint32_t length;
	err = pk_recv(endpoint, &frame, &length, PK_WAIT_FOREVER);
	for (;;) {
		if (err < 0) {
			fprintf(stderr, "kan-echo: %s\n", pk_strerror(err));
			return 1;
		}
		if (length < PK_IPV6_HEADER_SIZE) {
			/* The kernel never delivers this; a defensive drop costs nothing. */
			pk_frame_free(&frame);
			err = pk_recv(endpoint, &frame, &length, PK_WAIT_FOREVER);
			continue;
		}
		swap_addresses(frame.data);
		err = pk_send_recv(&frame, length, endpoint, &frame, &length, PK_WAIT_FOREVER);
		if (err < 0 && frame.handle != 0) {
			/* The asker went away (or its queue is full): drop the answer, go on. */
			pk_frame_free(&frame);
			err = pk_recv(endpoint, &frame, &length, PK_WAIT_FOREVER);
		}
	}
}
