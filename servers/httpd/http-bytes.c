/* http-bytes: writes N bytes of the /bytes/N stream (http_bytes.h) to stdout, from byte
 * OFFSET of the stream (0 if not given), so a test can check what a client fetched:
 *     curl -s http://[fd6b:616e::8]/bytes/1000000 | sha256sum
 *     http-bytes 1000000 | sha256sum
 * A host tool: it may use stdio, as the server itself may not. */
#include <stdio.h>
#include <string.h>

#include "http_bytes.h"
#include "http_text.h"

static int parse(const char *text, uint64_t *ret_value)
{
	return http_text_parse_u64(text, strlen(text), UINT64_MAX, ret_value);
}

int main(int argc, char **argv)
{
	uint64_t n, offset = 0;
	if (argc < 2 || argc > 3 || parse(argv[1], &n) != 0 ||
	    (argc == 3 && parse(argv[2], &offset) != 0) || n > UINT64_MAX - offset) {
		fprintf(stderr, "usage: http-bytes N [OFFSET]\n");
		return 2;
	}
	static uint8_t buf[1 << 16];
	while (n > 0) {
		size_t take = n < sizeof buf ? (size_t)n : sizeof buf;
		http_bytes_fill(offset, buf, take);
		if (fwrite(buf, 1, take, stdout) != take)
			break;
		offset += take;
		n -= take;
	}
	if (fflush(stdout) != 0 || n > 0) {
		perror("http-bytes");
		return 1;
	}
	return 0;
}
