/* use-after-send: shows that a frame really moves, then touches one it has sent.
 *
 *   use-after-send ECHO-ADDRESS
 *
 * First a packet goes to kan-echo and comes back: the answer must arrive in the very
 * frame that was sent (the page moved twice, nothing was copied) with the bytes written
 * before the send. Then a frame is sent and its old pointer read: the kernel unmapped the
 * page on send, so the read is a page fault, and the kernel must end this program and go
 * on. If the read returns, the step fails. */
#include <stdio.h>
#include <string.h>

#include <pk/pk.h>

enum { NO_NEXT_HEADER = 59, PAYLOAD = 16 };

static const char message[PAYLOAD] = "frames move, v6";

static uint32_t write_packet(uint8_t *packet, const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	pk_ipv6_header_init(packet, pk_address(0), destination, NO_NEXT_HEADER, PAYLOAD, 64);
	memcpy(packet + PK_IPV6_HEADER_SIZE, message, PAYLOAD);
	return PK_IPV6_HEADER_SIZE + PAYLOAD;
}

static int round_trip(const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return err;
	pk_frame_t sent = frame.handle;
	uint32_t length = write_packet(frame.data, destination);
	err = pk_send_recv(&frame, length, pk_endpoint(0), &frame, &length, 2000);
	if (err < 0)
		return err;
	int same_frame = PK_FRAME_NUMBER(frame.handle) == PK_FRAME_NUMBER(sent);
	int same_bytes = length == PK_IPV6_HEADER_SIZE + PAYLOAD &&
			 memcmp(frame.data + PK_IPV6_HEADER_SIZE, message, PAYLOAD) == 0;
	printf("selftest: echo-same-frame %s frame=%u answer_frame=%u at=%p\n",
	       same_frame && same_bytes ? "ok" : "FAIL", PK_FRAME_NUMBER(sent),
	       PK_FRAME_NUMBER(frame.handle), (void *)frame.data);
	pk_frame_free(&frame);
	return same_frame && same_bytes ? 0 : -PK_EINVAL;
}

int main(int argc, char **argv)
{
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	if (argc != 2 || pk_addr_parse(argv[1], destination) < 0) {
		fprintf(stderr, "usage: use-after-send ECHO-ADDRESS\n");
		return 2;
	}
	int err = pk_init();
	if (err == 0)
		err = round_trip(destination);
	struct pk_frame frame;
	if (err == 0)
		err = pk_frame_alloc(&frame);
	if (err < 0) {
		printf("selftest: use-after-send FAIL %s\n", pk_strerror(err));
		return 1;
	}
	volatile uint8_t *stale = frame.data;
	uint32_t number = PK_FRAME_NUMBER(frame.handle);
	err = pk_send(&frame, write_packet(frame.data, destination));
	printf("selftest: sent-frame-gone %s frame=%u; now reading it at %p\n",
	       err == 0 && frame.data == NULL ? "ok" : "FAIL", number, (void *)(uintptr_t)stale);
	fflush(stdout);
	uint8_t byte = stale[0];
	printf("selftest: use-after-send FAIL read %u from a sent frame\n", byte);
	return 1;
}
