/* it-zero-copy-sender ADDRESS [PAYLOAD]: sends one packet of pattern bytes (default 1000)
 * to ADDRESS and prints the frame it wrote it in, as its number in the pool and its
 * physical page (from /proc/self/pagemap, 0 when hidden), so a test can check the receiver
 * got that very frame. Exit 0 once the kernel took the packet. */
#define _GNU_SOURCE
#include "it_common.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: it-zero-copy-sender ADDRESS [PAYLOAD]\n");
		return 2;
	}
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	it_address("it-zero-copy-sender", argv[1], destination);
	uint16_t payload = (uint16_t)(argc == 3 ? atoi(argv[2]) : 1000);
	it_init("it-zero-copy-sender");

	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0) {
		fprintf(stderr, "it-zero-copy-sender: alloc: %s\n", pk_strerror(err));
		return 1;
	}
	uint32_t length = it_packet(frame.data, pk_address(0), destination, payload);
	printf("sender: frame=%u pfn=%llu length=%u\n", PK_FRAME_NUMBER(frame.handle),
	       (unsigned long long)it_pfn(frame.data), length);
	fflush(stdout);
	err = pk_send(&frame, length);
	if (err < 0) {
		fprintf(stderr, "it-zero-copy-sender: send: %s\n", pk_strerror(err));
		pk_frame_free(&frame);
		return 1;
	}
	printf("sender: sent\n");
	return 0;
}
