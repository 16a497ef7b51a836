/* http-get: fetches a URL over HTTP/1.1 from inside PackOS, from a PackOS server or from
 * any other across the NIC (the host's own, say), and writes the body to standard output.
 * A summary goes to standard error: status, bytes, time, rate.
 *
 *   http-get [-q] [--check-bytes] http://[ADDRESS][:PORT]/PATH
 *
 * -q drops the body instead of writing it. --check-bytes checks that the body is the
 * /bytes/N stream httpd serves (http_bytes.h) from its first byte, as a transfer test can
 * without a hash: every byte depends on where it is, so a lost, repeated or reordered
 * piece shows. The host must be an IPv6 address: PackOS has no name lookup yet. */
#include <stdio.h>
#include <string.h>

#include <pk/tcp.h>

#include "http_bytes.h"
#include "http_client.h"

#define CONNECT_TIMEOUT_MS 10000u
#define IDLE_TIMEOUT_MS	   30000u

struct body {
	bool quiet, check;
	uint64_t offset;
	uint64_t first_wrong; /* UINT64_MAX: none */
};

static void take_body(void *ctx, const uint8_t *data, size_t len)
{
	struct body *b = ctx;
	if (b->check && b->first_wrong == UINT64_MAX) {
		uint8_t expected[4096];
		for (size_t at = 0; at < len; at += sizeof expected) {
			size_t n = len - at < sizeof expected ? len - at : sizeof expected;
			http_bytes_fill(b->offset + at, expected, n);
			for (size_t i = 0; i < n; i++) {
				if (data[at + i] != expected[i]) {
					b->first_wrong = b->offset + at + i;
					break;
				}
			}
			if (b->first_wrong != UINT64_MAX)
				break;
		}
	}
	if (!b->quiet && !b->check)
		fwrite(data, 1, len, stdout);
	b->offset += len;
}

static int usage(void)
{
	fprintf(stderr, "usage: http-get [-q] [--check-bytes] http://[ADDRESS][:PORT]/PATH\n");
	return 2;
}

/* Sends the whole request. */
static int send_all(int s, const char *data, uint32_t length)
{
	for (uint32_t sent = 0; sent < length;) {
		int n = pk_tcp_send(s, data + sent, length - sent, IDLE_TIMEOUT_MS);
		if (n < 0)
			return n;
		sent += (uint32_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct body body = {.first_wrong = UINT64_MAX};
	const char *url_text = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0)
			body.quiet = true;
		else if (strcmp(argv[i], "--check-bytes") == 0)
			body.check = true;
		else if (url_text == NULL && argv[i][0] != '-')
			url_text = argv[i];
		else
			return usage();
	}
	static struct http_client_url url;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	if (url_text == NULL)
		return usage();
	int err = http_client_parse_url(url_text, &url);
	if (err < 0) {
		fprintf(stderr, "http-get: %s: %s\n", url_text, http_client_strerror(err));
		return 2;
	}
	if (url.host_kind != HTTP_CLIENT_HOST_IPV6 || pk_addr_parse(url.host, address) < 0) {
		fprintf(stderr, "http-get: %s: the host must be an IPv6 address\n", url.host);
		return 2;
	}
	char request[HTTP_CLIENT_PATH_MAX + 512];
	int length = http_client_format_request(&url, 0, request, sizeof request);
	if (length < 0) {
		fprintf(stderr, "http-get: %s\n", http_client_strerror(length));
		return 2;
	}

	uint64_t start = pk_now_ns();
	int s = pk_tcp_connect(address, url.port, CONNECT_TIMEOUT_MS);
	if (s < 0) {
		fprintf(stderr, "http-get: connecting to [%s]:%u: %s\n", url.host, url.port,
			pk_strerror(s));
		return 1;
	}
	err = send_all(s, request, (uint32_t)length);
	static struct http_client_response response;
	http_client_response_init(&response, false, take_body, &body);
	int result = HTTP_CLIENT_MORE;
	static uint8_t buffer[16384];
	while (err == 0 && result == HTTP_CLIENT_MORE) {
		int n = pk_tcp_recv(s, buffer, sizeof buffer, IDLE_TIMEOUT_MS);
		if (n < 0) {
			err = n;
		} else if (n == 0) {
			result = http_client_finish(&response);
		} else {
			size_t used;
			result = http_client_feed(&response, buffer, (size_t)n, &used);
		}
	}
	pk_tcp_close(s);
	pk_tcp_finish(1000);
	fflush(stdout);
	double seconds = (double)(pk_now_ns() - start) / 1e9;
	if (err < 0) {
		fprintf(stderr, "http-get: %s\n", pk_strerror(err));
		return 1;
	}
	if (result < 0) {
		fprintf(stderr, "http-get: %s\n", http_client_strerror(result));
		return 1;
	}
	fprintf(stderr, "http-get: %u, %llu bytes in %.3f s (%.1f MB/s)\n", response.status,
		(unsigned long long)body.offset, seconds,
		seconds > 0 ? (double)body.offset / seconds / 1e6 : 0.0);
	if (body.check) {
		if (body.first_wrong != UINT64_MAX) {
			fprintf(stderr, "http-get: byte %llu is not the /bytes stream's\n",
				(unsigned long long)body.first_wrong);
			return 1;
		}
		printf("body is the /bytes stream, %llu bytes\n", (unsigned long long)body.offset);
	}
	return response.status >= 200 && response.status < 300 ? 0 : 1;
}
