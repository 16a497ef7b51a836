/* bench-idle: a PackOS process that does nothing, for bench_sim's O(1) and memory
 * measurements. By default it waits in pk_recv on its first address for ever (a packet
 * that does come is freed); with --never-receive it makes no kernel call at all, so
 * packets sent to it stay queued at its endpoint. It runs until killed. */
#include <stdio.h>
#include <string.h>

#include <pk/pk.h>

int main(int argc, char **argv)
{
	int never_receive = argc == 2 && strcmp(argv[1], "--never-receive") == 0;
	if (argc > 2 || (argc == 2 && !never_receive)) {
		fprintf(stderr, "usage: bench-idle [--never-receive]\n");
		return 2;
	}
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "bench-idle: pk_init: %s\n", pk_strerror(err));
		return 1;
	}
	for (;;) {
		if (never_receive) {
			pk_sleep_ns(3600ull * 1000000000ull);
			continue;
		}
		struct pk_frame frame;
		uint32_t length;
		err = pk_recv(pk_endpoint(0), &frame, &length, PK_WAIT_FOREVER);
		if (err < 0) {
			fprintf(stderr, "bench-idle: pk_recv: %s\n", pk_strerror(err));
			return 1;
		}
		pk_frame_free(&frame);
	}
}
