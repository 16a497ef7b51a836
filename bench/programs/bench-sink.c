/* bench-sink: the receiver of bench_sim's bulk measurement. It takes every packet sent to
 * its first address, reads the payload (a copy out of the frame, as read(2) copies out of
 * a socket) and frees the frame; a packet that asks for an ack is answered in its own
 * frame, and the send of that ack and the wait for the next packet are one pk_send_recv.
 * It runs until killed and keeps no state between streams. Packets that are not part of a
 * stream are dropped. */
#include <stdio.h>
#include <string.h>

#include "bench_program.h"

static uint8_t copy[BENCH_FRAME_PAYLOAD]; /* where the payload goes, as a reader's buffer */
static volatile uint8_t digest;		  /* keeps the copy from being optimised away */

/* Turns the data packet in `frame` into the ack of its seq, back to its sender. */
static uint32_t make_ack(uint8_t *packet, uint64_t seq)
{
	struct pk_ipv6_header *h = (struct pk_ipv6_header *)packet;
	uint8_t sender[PK_IPV6_ADDR_SIZE];
	memcpy(sender, h->source, sizeof sender);
	pk_ipv6_header_init(packet, pk_address(0), sender, BENCH_NEXT_HEADER,
			    sizeof(struct bench_stream_header), 64);
	bench_stream_header_write(packet + PK_IPV6_HEADER_SIZE, BENCH_STREAM_ACK, seq);
	return PK_IPV6_HEADER_SIZE + sizeof(struct bench_stream_header);
}

int main(void)
{
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "bench-sink: pk_init: %s\n", pk_strerror(err));
		return 1;
	}
	const pk_endpoint_t endpoint = pk_endpoint(0);
	struct pk_frame frames[PK_BURST_MAX], done[PK_BURST_MAX];
	uint32_t lengths[PK_BURST_MAX];
	for (;;) {
		int n = pk_recv_burst(endpoint, frames, lengths, PK_BURST_MAX, PK_WAIT_FOREVER);
		if (n < 0) {
			fprintf(stderr, "bench-sink: %s\n", pk_strerror(n));
			return 1;
		}
		unsigned freeing = 0;
		for (int i = 0; i < n; i++) {
			struct pk_frame *frame = &frames[i];
			const struct bench_stream_header *h =
				bench_stream_header_read(frame->data, lengths[i]);
			if (h != NULL && (h->flags & BENCH_STREAM_DATA)) {
				uint32_t payload = lengths[i] - PK_IPV6_HEADER_SIZE;
				memcpy(copy, frame->data + PK_IPV6_HEADER_SIZE, payload);
				digest ^= copy[payload - 1];
				/* The ack goes back in the packet's own frame; if its sender is
				 * gone, the frame is freed with the others. */
				if ((h->flags & BENCH_STREAM_ACK_REQUEST) &&
				    pk_send(frame, make_ack(frame->data, bench_get64(h->seq))) == 0)
					continue;
			}
			done[freeing++] = *frame;
		}
		if (freeing > 0 && (err = pk_frame_free_burst(done, freeing)) < 0) {
			fprintf(stderr, "bench-sink: %s\n", pk_strerror(err));
			return 1;
		}
	}
}
