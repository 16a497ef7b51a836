/* it-use-after-send ADDRESS: keeps one frame, sends another to ADDRESS (an echo server),
 * then writes into the frame it just sent.
 *
 * In the remap isolation mode the runtime unmapped the frame before the send, so the write
 * must kill the program with SIGSEGV, and the frame it kept is reclaimed with it. In the
 * shared mode nothing stops the write: the program says it survived, and since the echo
 * answers with the same frame, the answer carries the byte written after the send. */
#define _GNU_SOURCE
#include <signal.h>

#include "it_common.h"

enum { PAYLOAD = 200, POISON_AT = PK_IPV6_HEADER_SIZE + 100, POISON = 0xab };

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: it-use-after-send ADDRESS\n");
		return 2;
	}
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	it_address("it-use-after-send", argv[1], destination);
	it_init("it-use-after-send");

	struct pk_frame kept, sent, answer;
	if (pk_frame_alloc(&kept) < 0 || pk_frame_alloc(&sent) < 0) {
		fprintf(stderr, "it-use-after-send: cannot allocate\n");
		return 1;
	}
	kept.data[0] = 1;
	uint32_t length = it_packet(sent.data, pk_address(0), destination, PAYLOAD);
	volatile uint8_t *dangling = sent.data;
	/* Print first: nothing may map memory between the send and the write, or the write
	 * could land in a fresh mapping at the same address. */
	printf("it-use-after-send: sending frame %u, then writing to it\n",
	       PK_FRAME_NUMBER(sent.handle));
	fflush(stdout);
	/* A sanitizer's SIGSEGV handler would turn the fault into a report and exit 1. */
	signal(SIGSEGV, SIG_DFL);
	int err = pk_send(&sent, length);
	if (err < 0) {
		fprintf(stderr, "it-use-after-send: send: %s\n", pk_strerror(err));
		return 1;
	}
	dangling[POISON_AT] = POISON;
	printf("it-use-after-send: survived the write after send\n");
	fflush(stdout);

	uint32_t answer_length;
	err = pk_recv(pk_endpoint(0), &answer, &answer_length, 3000);
	if (err < 0) {
		printf("it-use-after-send: no answer: %s\n", pk_strerror(err));
		return 1;
	}
	printf("it-use-after-send: answer in frame %u, %s\n", PK_FRAME_NUMBER(answer.handle),
	       answer.data[POISON_AT] == POISON ? "carrying the write made after the send"
						: "without the write made after the send");
	pk_frame_free(&answer);
	pk_frame_free(&kept);
	return 0;
}
