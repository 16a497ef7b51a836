/* nic-status: prints what the NIC driver knows: its addresses, routes, neighbour cache and
 * counters (servers/nic-driver/status_query.h).
 *
 *   nic-status [ADDRESS]     the driver's KAN address (default: the KAN prefix and ::1)
 *
 * Run it inside PackOS: packosctl run nic-status. */
#include <stdio.h>
#include <string.h>

#include <pk/pk.h>

#include "nic-driver/status_query.h"

enum { ANSWER_TIMEOUT_MS = 2000 };

static int fail(const char *what, int err)
{
	fprintf(stderr, "nic-status: %s: %s\n", what, pk_strerror(err));
	return 1;
}

/* Asks for the text from `offset`; writes the chunk to stdout and sets *ret_total. */
static int ask(const uint8_t driver[PK_IPV6_ADDR_SIZE], uint32_t offset, uint32_t *ret_total,
	       uint32_t *ret_chunk)
{
	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return fail("frame", err);
	uint8_t *payload = frame.data + PK_IPV6_HEADER_SIZE;
	memcpy(payload, STATUS_QUERY_MAGIC, STATUS_QUERY_MAGIC_SIZE);
	status_put32(payload + STATUS_QUERY_MAGIC_SIZE, offset);
	pk_ipv6_header_init(frame.data, pk_address(0), driver, STATUS_QUERY_NEXT_HEADER,
			    STATUS_QUESTION_SIZE, 64);
	uint32_t length;
	err = pk_send_recv(&frame, PK_IPV6_HEADER_SIZE + STATUS_QUESTION_SIZE, pk_endpoint(0),
			   &frame, &length, ANSWER_TIMEOUT_MS);
	if (err < 0) {
		if (frame.handle != 0)
			pk_frame_free(&frame);
		return fail(err == -PK_ETIMEDOUT ? "no answer from the driver" : "ask", err);
	}
	const struct pk_ipv6_header *h = (const void *)frame.data;
	payload = frame.data + PK_IPV6_HEADER_SIZE;
	if (length < PK_IPV6_HEADER_SIZE + STATUS_ANSWER_HEADER ||
	    h->next_header != STATUS_QUERY_NEXT_HEADER ||
	    memcmp(payload, STATUS_QUERY_MAGIC, STATUS_QUERY_MAGIC_SIZE) != 0 ||
	    status_get32(payload + STATUS_QUERY_MAGIC_SIZE) != offset) {
		pk_frame_free(&frame);
		fprintf(stderr, "nic-status: a strange answer\n");
		return 1;
	}
	*ret_total = status_get32(payload + STATUS_QUERY_MAGIC_SIZE + 4);
	*ret_chunk = length - PK_IPV6_HEADER_SIZE - STATUS_ANSWER_HEADER;
	fwrite(payload + STATUS_ANSWER_HEADER, 1, *ret_chunk, stdout);
	pk_frame_free(&frame);
	return 0;
}

int main(int argc, char **argv)
{
	int err = pk_init();
	if (err < 0)
		return fail("pk_init", err);
	uint8_t driver[PK_IPV6_ADDR_SIZE] = {0};
	if (argc > 2 || (argc == 2 && pk_addr_parse(argv[1], driver) < 0)) {
		fprintf(stderr, "usage: nic-status [ADDRESS]\n");
		return 2;
	}
	if (argc == 1) {
		memcpy(driver, pk_address(0), PK_KAN_PREFIX_SIZE);
		driver[15] = 1;
	}
	uint32_t offset = 0, total = 1;
	while (offset < total) {
		uint32_t chunk;
		if (ask(driver, offset, &total, &chunk) != 0)
			return 1;
		if (chunk == 0)
			break;
		offset += chunk;
	}
	return 0;
}
