/* bench-flood: sends COUNT small packets to ADDRESS and exits, for bench_sim's O(1)
 * measurement: sent to a process that never receives, they stay queued at its endpoint.
 * A queued frame belongs to the endpoint, not to this process, so its quota is not what
 * limits COUNT: the receiving endpoint's queue limit is (packosd --queue-limit).
 *
 *   bench-flood [-n COUNT] [-g] ADDRESS
 *
 * Prints "bench-flood sent=COUNT"; exit status 0, or 1 at the first call that fails. */
#include <stdio.h>
#include <string.h>

#include "bench_program.h"

int main(int argc, char **argv)
{
	unsigned long count = 10000;
	int wait_go = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-g") == 0)
			wait_go = 1;
		else if (strcmp(argv[i], "-n") != 0 || i + 1 == argc ||
			 bench_parse_count(argv[++i], 100000000ul, &count) < 0)
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: bench-flood [-n COUNT] [-g] ADDRESS\n");
		return 2;
	}
	int err = pk_init();
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	if (err < 0 || bench_parse_address(argv[i], destination) < 0) {
		fprintf(stderr, "bench-flood: %s\n", err < 0 ? pk_strerror(err) : "bad address");
		return 1;
	}
	if (wait_go)
		bench_wait_for_go();
	for (unsigned long n = 0; n < count; n++) {
		struct pk_frame frame;
		if ((err = pk_frame_alloc(&frame)) < 0) {
			fprintf(stderr, "bench-flood: packet %lu: pk_frame_alloc: %s\n", n,
				pk_strerror(err));
			return 1;
		}
		pk_ipv6_header_init(frame.data, pk_address(0), destination, 59, 64, 64);
		bench_put64(frame.data + PK_IPV6_HEADER_SIZE, n);
		if ((err = pk_send(&frame, PK_IPV6_HEADER_SIZE + 64)) < 0) {
			fprintf(stderr, "bench-flood: packet %lu: pk_send: %s\n", n,
				pk_strerror(err));
			return 1;
		}
	}
	printf("bench-flood sent=%lu\n", count);
	return fflush(stdout) == 0 ? 0 : 1;
}
