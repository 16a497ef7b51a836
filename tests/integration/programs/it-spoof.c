/* it-spoof ADDRESS: tries to send to ADDRESS (an echo server) with source addresses that
 * are not its own: another KAN address, the echo server's own, and one outside the KAN.
 * Each must be refused with ESOURCE, leaving the frame with the sender, bytes untouched;
 * then an honest send must go through and be answered. Prints every outcome; exit 0 if all
 * were as they must be, 1 otherwise. */
#define _GNU_SOURCE
#include "it_common.h"

static int try_source(const char *text, const uint8_t destination[PK_IPV6_ADDR_SIZE])
{
	uint8_t source[PK_IPV6_ADDR_SIZE];
	it_address("it-spoof", text, source);
	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return err;
	uint32_t length = it_packet(frame.data, source, destination, 32);
	err = pk_send(&frame, length);
	int kept = frame.handle != 0 && frame.data != NULL;
	int intact = kept && memcmp(frame.data + 8, source, sizeof source) == 0 &&
		     frame.data[PK_IPV6_HEADER_SIZE + 31] == it_pattern(31);
	printf("it-spoof: source %s: %s (%s)%s\n", text, err == 0 ? "sent" : pk_strerror(err),
	       err == -PK_ESOURCE ? "ESOURCE" : "not ESOURCE",
	       err == 0 ? ""
	       : intact ? ", frame still mine and intact"
			: ", frame LOST");
	if (kept)
		pk_frame_free(&frame);
	return err == -PK_ESOURCE && intact ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: it-spoof ADDRESS\n");
		return 2;
	}
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	it_address("it-spoof", argv[1], destination);
	it_init("it-spoof");

	int failures = try_source("fd6b:616e::dead:beef", destination);
	failures += try_source(argv[1], destination);
	failures += try_source("2001:db8::1", destination);

	struct pk_frame frame, answer;
	uint32_t length;
	int err = pk_frame_alloc(&frame);
	if (err == 0)
		err = pk_send_recv(&frame, it_packet(frame.data, pk_address(0), destination, 32),
				   pk_endpoint(0), &answer, &length, 3000);
	printf("it-spoof: honest send: %s\n", err == 0 ? "answered" : pk_strerror(err));
	if (err == 0)
		pk_frame_free(&answer);
	else if (frame.handle != 0)
		pk_frame_free(&frame);
	return failures == 0 && err == 0 ? 0 : 1;
}
