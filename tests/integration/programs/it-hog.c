/* it-hog [-a FRAMES] [-s COUNT] [-d ADDRESS] [-T]: takes resources and sits on them.
 *
 *   -a FRAMES   allocate FRAMES frames and keep them
 *   -s COUNT    send COUNT packets to ADDRESS (-d; default its own address, where nobody
 *               reads them, so they stay queued)
 *   -T          ignore SIGTERM (packosd's stop must escalate to SIGKILL)
 *
 * Stops at the first error of each kind and reports it ("allocated 8 of 10: ..."), so the
 * limits tests read what the kernel refused. Then says "ready" and sleeps until killed. */
#define _GNU_SOURCE
#include <signal.h>

#include "it_common.h"

int main(int argc, char **argv)
{
	unsigned long frames = 0, count = 0;
	const char *address = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "a:s:d:T")) != -1) {
		switch (opt) {
		case 'a':
			frames = strtoul(optarg, NULL, 10);
			break;
		case 's':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			address = optarg;
			break;
		case 'T':
			signal(SIGTERM, SIG_IGN);
			break;
		default:
			fprintf(stderr, "usage: it-hog [-a FRAMES] [-s COUNT] [-d ADDRESS] [-T]\n");
			return 2;
		}
	}
	it_init("it-hog");
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	if (address != NULL)
		it_address("it-hog", address, destination);
	else
		memcpy(destination, pk_address(0), sizeof destination);

	unsigned long held = 0, sent = 0;
	int err = 0;
	struct pk_frame frame;
	while (held < frames && (err = pk_frame_alloc(&frame)) == 0) {
		frame.data[0] = (uint8_t)held; /* touch it: a frame owned is a frame mapped */
		held++;
	}
	if (frames > 0)
		printf("%s: allocated %lu of %lu: %s\n", pk_name(), held, frames,
		       held == frames ? "ok" : pk_strerror(err));
	err = 0;
	while (sent < count && (err = pk_frame_alloc(&frame)) == 0) {
		uint32_t length = it_packet(frame.data, pk_address(0), destination, 64);
		err = pk_send(&frame, length);
		if (err < 0) {
			pk_frame_free(&frame);
			break;
		}
		sent++;
	}
	if (count > 0)
		printf("%s: sent %lu of %lu: %s\n", pk_name(), sent, count,
		       sent == count ? "ok" : pk_strerror(err));
	printf("%s: ready\n", pk_name());
	fflush(stdout);
	for (;;)
		pause();
}
