/* it-zero-copy-receiver [TIMEOUT_MS]: waits for one packet (default 5000 ms), prints the
 * frame it arrived in (pool number and physical page, as the sender prints them) and checks
 * the payload is the pattern the sender wrote. Exit 0 if it is, 1 if not or nothing came. */
#define _GNU_SOURCE
#include "it_common.h"

int main(int argc, char **argv)
{
	uint32_t timeout_ms = argc > 1 ? (uint32_t)atoi(argv[1]) : 5000;
	it_init("it-zero-copy-receiver");
	struct pk_frame frame;
	uint32_t length;
	int err = pk_recv(pk_endpoint(0), &frame, &length, timeout_ms);
	if (err < 0) {
		printf("receiver: recv: %s\n", pk_strerror(err));
		return 1;
	}
	uint32_t payload = pk_ipv6_payload_length(frame.data);
	uint32_t bad = UINT32_MAX;
	for (uint32_t i = 0; i < payload && bad == UINT32_MAX; i++)
		if (frame.data[PK_IPV6_HEADER_SIZE + i] != it_pattern(i))
			bad = i;
	/* pagemap after the reads above: the page is present now in either isolation mode. */
	printf("receiver: frame=%u pfn=%llu length=%u\n", PK_FRAME_NUMBER(frame.handle),
	       (unsigned long long)it_pfn(frame.data), length);
	if (bad != UINT32_MAX)
		printf("receiver: pattern differs at payload byte %u\n", bad);
	else
		printf("receiver: pattern ok (%u bytes)\n", payload);
	fflush(stdout);
	pk_frame_free(&frame);
	return bad == UINT32_MAX && length == PK_IPV6_HEADER_SIZE + payload ? 0 : 1;
}
