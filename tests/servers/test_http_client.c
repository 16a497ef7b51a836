/* The client's side (servers/httpd/http_client.c): URLs with names, IPv4 and IPv6 hosts and
 * what is refused; the request it writes; responses framed by Content-Length, chunked and
 * the server's close, fed whole and a byte at a time; malformed status lines, fields and
 * chunk sizes; and random responses that must end in a result without overrunning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_client.h"

/* Bytes that may hold a NUL, and how many. */
struct text {
	const char *bytes;
	size_t len;
};

#define TEXT(s) s, sizeof s - 1

/* URLs. */

static void assert_url(const char *text, enum http_client_host kind, const char *host,
		       uint16_t port, const char *path)
{
	struct http_client_url url;
	int err = http_client_parse_url(text, &url);
	if (err != 0)
		fail_msg("refused (%d): %s", err, text);
	assert_int_equal(url.host_kind, kind);
	assert_string_equal(url.host, host);
	assert_int_equal(url.port, port);
	assert_string_equal(url.path, path);
}

static void test_url_with_a_name_port_and_path(void **state)
{
	(void)state;
	assert_url("http://example.org/a/b?c=d", HTTP_CLIENT_HOST_NAME, "example.org", 80,
		   "/a/b?c=d");
	assert_url("HTTP://Example.ORG:8080", HTTP_CLIENT_HOST_NAME, "Example.ORG", 8080, "/");
	assert_url("http://localhost:65535/", HTTP_CLIENT_HOST_NAME, "localhost", 65535, "/");
	assert_url("http://a-b.c1?x", HTTP_CLIENT_HOST_NAME, "a-b.c1", 80, "/?x");
	assert_url("http://a/p#frag", HTTP_CLIENT_HOST_NAME, "a", 80, "/p");
	assert_url("http://a#frag", HTTP_CLIENT_HOST_NAME, "a", 80, "/");
	assert_url("http://a:/x", HTTP_CLIENT_HOST_NAME, "a", 80, "/x");
	assert_url("http://1.example/%7Euser", HTTP_CLIENT_HOST_NAME, "1.example", 80, "/%7Euser");
}

static void test_url_with_ip_literals(void **state)
{
	(void)state;
	assert_url("http://192.0.2.1/x", HTTP_CLIENT_HOST_IPV4, "192.0.2.1", 80, "/x");
	assert_url("http://0.0.0.0:1", HTTP_CLIENT_HOST_IPV4, "0.0.0.0", 1, "/");
	assert_url("http://255.255.255.255/", HTTP_CLIENT_HOST_IPV4, "255.255.255.255", 80, "/");
	assert_url("http://[fd6b:616e::8]/bytes/10", HTTP_CLIENT_HOST_IPV6, "fd6b:616e::8", 80,
		   "/bytes/10");
	assert_url("http://[::1]:8080", HTTP_CLIENT_HOST_IPV6, "::1", 8080, "/");
	assert_url("http://[::]/", HTTP_CLIENT_HOST_IPV6, "::", 80, "/");
	assert_url("http://[1:2:3:4:5:6:7:8]/", HTTP_CLIENT_HOST_IPV6, "1:2:3:4:5:6:7:8", 80, "/");
	assert_url("http://[1::]/", HTTP_CLIENT_HOST_IPV6, "1::", 80, "/");
	assert_url("http://[::ffff:192.0.2.1]/", HTTP_CLIENT_HOST_IPV6, "::ffff:192.0.2.1", 80,
		   "/");
	assert_url("http://[1:2:3:4:5:6:1.2.3.4]/", HTTP_CLIENT_HOST_IPV6, "1:2:3:4:5:6:1.2.3.4",
		   80, "/");
	assert_url("http://[ABCD:ef01::2345]/", HTTP_CLIENT_HOST_IPV6, "ABCD:ef01::2345", 80, "/");
}

static void test_url_refusals_say_which_part(void **state)
{
	(void)state;
	static char long_host[300], long_path[HTTP_CLIENT_PATH_MAX + 64];
	memset(long_host, 'a', sizeof long_host);
	memcpy(long_host, "http://", 7);
	long_host[7 + HTTP_CLIENT_HOST_MAX + 1] = '\0'; /* 254 letters, one label too many */
	snprintf(long_path, sizeof long_path, "http://a/");
	memset(long_path + 9, 'p', HTTP_CLIENT_PATH_MAX);
	long_path[8 + HTTP_CLIENT_PATH_MAX + 1] = '\0';
	const struct {
		const char *url;
		int error;
	} cases[] = {
		{"https://a/", HTTP_CLIENT_ESCHEME},
		{"ftp://a/", HTTP_CLIENT_ESCHEME},
		{"http:/a", HTTP_CLIENT_ESCHEME},
		{"a/b", HTTP_CLIENT_ESCHEME},
		{"", HTTP_CLIENT_ESCHEME},
		{"http://", HTTP_CLIENT_EHOST},
		{"http:///x", HTTP_CLIENT_EHOST},
		{"http://:80/", HTTP_CLIENT_EHOST},
		{"http://user@a/", HTTP_CLIENT_EHOST},
		{"http://a..b/", HTTP_CLIENT_EHOST},
		{"http://.a/", HTTP_CLIENT_EHOST},
		{"http://-a/", HTTP_CLIENT_EHOST},
		{"http://a-/", HTTP_CLIENT_EHOST},
		{"http://a_b/", HTTP_CLIENT_EHOST},
		{"http://256.0.0.1/", HTTP_CLIENT_EHOST},
		{"http://1.2.3/", HTTP_CLIENT_EHOST},
		{"http://1.2.3.4.5/", HTTP_CLIENT_EHOST},
		{"http://01.2.3.4/", HTTP_CLIENT_EHOST},
		{"http://1.2.3.4./", HTTP_CLIENT_EHOST},
		{"http://::1/", HTTP_CLIENT_EHOST},
		{"http://[::1/", HTTP_CLIENT_EHOST},
		{"http://[]/", HTTP_CLIENT_EHOST},
		{"http://[:::]/", HTTP_CLIENT_EHOST},
		{"http://[1::2::3]/", HTTP_CLIENT_EHOST},
		{"http://[1:2:3:4:5:6:7:8:9]/", HTTP_CLIENT_EHOST},
		{"http://[1:2:3:4:5:6:7]/", HTTP_CLIENT_EHOST},
		{"http://[1:2:3:4:5:6:7::8]/", HTTP_CLIENT_EHOST},
		{"http://[12345::]/", HTTP_CLIENT_EHOST},
		{"http://[:1::]/", HTTP_CLIENT_EHOST},
		{"http://[1:]/", HTTP_CLIENT_EHOST},
		{"http://[fe80::1%25eth0]/", HTTP_CLIENT_EHOST},
		{"http://[::1.2.3]/", HTTP_CLIENT_EHOST},
		{"http://[1:2:3:4:5:6:7:1.2.3.4]/", HTTP_CLIENT_EHOST},
		{"http://[::1]x/", HTTP_CLIENT_EHOST},
		{"http://[g::1]/", HTTP_CLIENT_EHOST},
		{long_host, HTTP_CLIENT_EHOST},
		{"http://a:0/", HTTP_CLIENT_EPORT},
		{"http://a:65536/", HTTP_CLIENT_EPORT},
		{"http://a:99999999999999999999999/", HTTP_CLIENT_EPORT},
		{"http://a:8o/", HTTP_CLIENT_EPORT},
		{"http://a:-1/", HTTP_CLIENT_EPORT},
		{"http://[::1]:x/", HTTP_CLIENT_EPORT},
		{"http://a/b c", HTTP_CLIENT_EPATH},
		{"http://a/b\tc", HTTP_CLIENT_EPATH},
		{"http://a/\x7f", HTTP_CLIENT_EPATH},
		{"http://a/caf\xc3\xa9", HTTP_CLIENT_EPATH},
		{long_path, HTTP_CLIENT_EPATH},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct http_client_url url;
		memset(&url, 0x5a, sizeof url);
		int err = http_client_parse_url(cases[i].url, &url);
		if (err != cases[i].error)
			fail_msg("%s: %d, not %d", cases[i].url, err, cases[i].error);
		/* Untouched on failure. */
		assert_int_equal(((uint8_t *)&url)[0], 0x5a);
		assert_int_equal(url.port, 0x5a5a);
	}
	/* Just within the limits. */
	long_host[7 + HTTP_CLIENT_HOST_MAX] = '\0';
	for (size_t i = 7 + 63; i < 7 + HTTP_CLIENT_HOST_MAX; i += 64)
		long_host[i] = '.';
	struct http_client_url url;
	assert_int_equal(http_client_parse_url(long_host, &url), 0);
	long_path[8 + HTTP_CLIENT_PATH_MAX] = '\0';
	assert_int_equal(http_client_parse_url(long_path, &url), 0);
	assert_int_equal(strlen(url.path), HTTP_CLIENT_PATH_MAX);
}

/* Requests. */

static void test_request_names_host_port_and_connection(void **state)
{
	(void)state;
	struct http_client_url url;
	char buf[256];
	assert_int_equal(http_client_parse_url("http://example.org/x?y", &url), 0);
	int n = http_client_format_request(&url, 0, buf, sizeof buf);
	const char *expected = "GET /x?y HTTP/1.1\r\nHost: example.org\r\nUser-Agent: PackOS-http"
			       "\r\nAccept: */*\r\nConnection: close\r\n\r\n";
	assert_int_equal(n, strlen(expected));
	assert_memory_equal(buf, expected, (size_t)n);

	assert_int_equal(http_client_parse_url("http://[fd6b:616e::8]:8080", &url), 0);
	n = http_client_format_request(&url, HTTP_CLIENT_HEAD | HTTP_CLIENT_KEEP_ALIVE, buf,
				       sizeof buf);
	expected = "HEAD / HTTP/1.1\r\nHost: [fd6b:616e::8]:8080\r\nUser-Agent: PackOS-http\r\n"
		   "Accept: */*\r\n\r\n";
	assert_int_equal(n, strlen(expected));
	assert_memory_equal(buf, expected, (size_t)n);

	/* Too small a buffer, by one byte. */
	assert_int_equal(http_client_format_request(&url, HTTP_CLIENT_HEAD | HTTP_CLIENT_KEEP_ALIVE,
						    buf, (size_t)n - 1),
			 HTTP_CLIENT_ESPACE);
	assert_int_equal(http_client_format_request(&url, 0, buf, 0), HTTP_CLIENT_ESPACE);
}

/* Responses. */

struct sink {
	uint8_t data[1 << 16];
	size_t len;
	unsigned calls;
};

static struct sink sink;

static void collect(void *ctx, const uint8_t *data, size_t len)
{
	struct sink *s = ctx;
	assert_true(len > 0);
	assert_true(len <= sizeof s->data - s->len);
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->calls++;
}

/* Feeds `text` `piece` bytes at a time until a result other than MORE; *ret_consumed is
 * the bytes taken in all. */
static int feed_n(struct http_client_response *r, const char *text, size_t len, size_t piece,
		  bool head_request, size_t *ret_consumed)
{
	sink.len = 0;
	sink.calls = 0;
	http_client_response_init(r, head_request, collect, &sink);
	size_t at = 0;
	int result = HTTP_CLIENT_MORE;
	while (at < len && result == HTTP_CLIENT_MORE) {
		size_t consumed;
		size_t n = len - at < piece ? len - at : piece;
		result = http_client_feed(r, (const uint8_t *)text + at, n, &consumed);
		assert_true(consumed <= n);
		if (result == HTTP_CLIENT_MORE)
			assert_int_equal(consumed, n);
		at += consumed;
	}
	*ret_consumed = at;
	return result;
}

static int feed(struct http_client_response *r, const char *text)
{
	size_t consumed;
	return feed_n(r, text, strlen(text), SIZE_MAX, false, &consumed);
}

static void test_content_length_body_ends_where_it_says(void **state)
{
	(void)state;
	const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n"
			   "\r\nhelloHTTP/1.1 404 Not Found\r\n";
	for (size_t piece = 1; piece <= strlen(text); piece *= 3) {
		struct http_client_response r;
		size_t consumed;
		assert_int_equal(feed_n(&r, text, strlen(text), piece, false, &consumed),
				 HTTP_CLIENT_DONE);
		assert_int_equal(consumed, strlen(text) - strlen("HTTP/1.1 404 Not Found\r\n"));
		assert_true(r.head_done);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.minor, 1);
		assert_int_equal(r.framing, HTTP_CLIENT_LENGTH);
		assert_int_equal(r.content_length, 5);
		assert_int_equal(r.body_received, 5);
		assert_true(r.keep_alive);
		assert_int_equal(sink.len, 5);
		assert_memory_equal(sink.data, "hello", 5);
	}
	/* Fed whole, the body comes in one call. */
	struct http_client_response r;
	assert_int_equal(feed(&r, text), HTTP_CLIENT_DONE);
	assert_int_equal(sink.calls, 1);
	/* Later feeds take nothing. */
	size_t consumed;
	assert_int_equal(http_client_feed(&r, (const uint8_t *)"x", 1, &consumed),
			 HTTP_CLIENT_DONE);
	assert_int_equal(consumed, 0);
	assert_int_equal(http_client_finish(&r), HTTP_CLIENT_DONE);
	/* An empty body ends with the head. */
	assert_int_equal(feed(&r, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_int_equal(r.minor, 0);
	assert_false(r.keep_alive);
	assert_int_equal(sink.calls, 0);
}

static void test_chunked_body_with_extensions_and_trailers(void **state)
{
	(void)state;
	const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "5\r\nhello\r\n"
			   "1A;name=value;x=\"q;d\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
			   "3 \t; ext\r\n123\r\n"
			   "00000000000000000000000001\r\n!\r\n"
			   "0\r\nTrailer-Field: 1\r\nAnother: 2\r\n\r\nNEXT";
	for (size_t piece = 1; piece <= strlen(text); piece += piece < 8 ? 1 : 17) {
		struct http_client_response r;
		size_t consumed;
		assert_int_equal(feed_n(&r, text, strlen(text), piece, false, &consumed),
				 HTTP_CLIENT_DONE);
		assert_int_equal(consumed, strlen(text) - 4);
		assert_int_equal(r.framing, HTTP_CLIENT_CHUNKED);
		assert_int_equal(r.body_received, 5 + 26 + 3 + 1);
		assert_int_equal(sink.len, 35);
		assert_memory_equal(sink.data, "helloabcdefghijklmnopqrstuvwxyz123!", 35);
		assert_true(r.keep_alive);
	}
	/* Bare LF line ends, and no trailer. */
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n2\nok\n0\n\n"),
			 HTTP_CLIENT_DONE);
	assert_memory_equal(sink.data, "ok", 2);
	/* Chunked and a Content-Length: chunked counts, and the connection is not reused. */
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_int_equal(r.body_received, 2);
	assert_false(r.keep_alive);
}

static void test_malformed_chunks_are_echunk(void **state)
{
	(void)state;
	static char long_ext[HTTP_CLIENT_CHUNK_LINE_MAX + 64];
	memset(long_ext, 'e', sizeof long_ext - 1);
	memcpy(long_ext, "1;", 2);
	const struct text bodies[] = {
		{TEXT("\r\n")},
		{TEXT("x\r\n")},
		{TEXT("-1\r\n")},
		{TEXT(" 5\r\nhello\r\n0\r\n\r\n")},
		{TEXT("5 5\r\nhello\r\n")},
		{TEXT("0x5\r\nhello\r\n")},
		{TEXT("5;\x01\r\nhello\r\n")},
		{TEXT("5\rhello\r\n")},
		{TEXT("5\r\nhelloX\r\n")},
		{TEXT("5\r\nhello\rX")},
		{TEXT("5\r\nhello\r\r\n")},
		{TEXT("fffffffffffffffffffffff\r\n")},
		{TEXT("+5\r\nhello\r\n")},
		{TEXT("5\0\r\nhello\r\n")},
		{long_ext, sizeof long_ext - 1},
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		char text[HTTP_CLIENT_CHUNK_LINE_MAX + 256];
		size_t len = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
						   "\r\n\r\n");
		memcpy(text + len, bodies[i].bytes, bodies[i].len);
		len += bodies[i].len;
		struct http_client_response r;
		size_t consumed;
		int result = feed_n(&r, text, len, SIZE_MAX, false, &consumed);
		if (result != HTTP_CLIENT_ECHUNK)
			fail_msg("chunk body %zu: %d, not ECHUNK", i, result);
		/* Errors stay. */
		assert_int_equal(http_client_feed(&r, (const uint8_t *)"0\r\n\r\n", 5, &consumed),
				 HTTP_CLIENT_ECHUNK);
		assert_int_equal(consumed, 0);
		assert_int_equal(http_client_finish(&r), HTTP_CLIENT_ECHUNK);
	}
	/* The largest chunk size accepted, and one more. */
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "1000000000000000\r\n"),
			 HTTP_CLIENT_MORE);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "1000000000000001\r\n"),
			 HTTP_CLIENT_ECHUNK);
}

static void test_body_until_close_ends_with_finish(void **state)
{
	(void)state;
	struct http_client_response r;
	/* As Python's http.server answers. */
	assert_int_equal(feed(&r, "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11\r\n"
				  "Content-type: text/html\r\n\r\n<html>"),
			 HTTP_CLIENT_MORE);
	assert_int_equal(r.framing, HTTP_CLIENT_UNTIL_CLOSE);
	assert_false(r.keep_alive);
	size_t consumed;
	assert_int_equal(http_client_feed(&r, (const uint8_t *)"</html>", 7, &consumed),
			 HTTP_CLIENT_MORE);
	assert_int_equal(consumed, 7);
	assert_int_equal(http_client_finish(&r), HTTP_CLIENT_DONE);
	assert_int_equal(r.body_received, 13);
	assert_memory_equal(sink.data, "<html></html>", 13);
	/* HTTP/1.1 without a length is read until the close too. */
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\n\r\nabc"), HTTP_CLIENT_MORE);
	assert_int_equal(http_client_finish(&r), HTTP_CLIENT_DONE);
	assert_false(r.keep_alive);
}

static void test_close_before_the_end_is_etruncated(void **state)
{
	(void)state;
	const char *cut[] = {
		"",
		"HTTP/1.1 200 O",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n",
	};
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		struct http_client_response r;
		assert_int_equal(feed(&r, cut[i]), HTTP_CLIENT_MORE);
		assert_int_equal(http_client_finish(&r), HTTP_CLIENT_ETRUNCATED);
		assert_int_equal(http_client_finish(&r), HTTP_CLIENT_ETRUNCATED);
	}
}

static void test_responses_without_a_body(void **state)
{
	(void)state;
	struct http_client_response r;
	size_t consumed;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	assert_int_equal(feed_n(&r, head, strlen(head), SIZE_MAX, true, &consumed),
			 HTTP_CLIENT_DONE);
	assert_int_equal(r.framing, HTTP_CLIENT_NO_BODY);
	assert_int_equal(r.body_received, 0);
	assert_true(r.keep_alive);
	assert_int_equal(feed(&r, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1"), HTTP_CLIENT_DONE);
	assert_int_equal(r.status, 204);
	assert_int_equal(feed(&r, "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_int_equal(r.framing, HTTP_CLIENT_NO_BODY);
}

static void test_interim_responses_are_skipped_but_101_is_refused(void **state)
{
	(void)state;
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
				  "Link: </style.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2"
				  "\r\n\r\nok"),
			 HTTP_CLIENT_DONE);
	assert_int_equal(r.status, 200);
	assert_memory_equal(sink.data, "ok", 2);
	assert_int_equal(feed(&r, "HTTP/1.1 101 Switching Protocols\r\n\r\n"), HTTP_CLIENT_ESTATUS);
}

static void test_status_lines(void **state)
{
	(void)state;
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), HTTP_CLIENT_DONE);
	assert_int_equal(feed(&r, "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n"), HTTP_CLIENT_DONE);
	assert_int_equal(r.status, 599);
	assert_int_equal(feed(&r, "HTTP/1.1 404 Not\tFound \xc3\xa9\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	/* A later 1.x minor is read as 1.1. */
	assert_int_equal(feed(&r, "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_true(r.keep_alive);

	const struct {
		const char *line;
		int error;
	} cases[] = {
		{"HTTP/1.1 20 OK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 2000 OK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 200OK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1  200 OK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 099 Low\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 600 High\r\n", HTTP_CLIENT_ESTATUS},
		{"http/1.1 200 OK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 200 OK\rX\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 200 O\x01K\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/1.1 200 O\x7fK\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/11 200 OK\r\n", HTTP_CLIENT_ESTATUS},
		{"\r\n", HTTP_CLIENT_ESTATUS},
		{"SSH-2.0-OpenSSH\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/2 200\r\n", HTTP_CLIENT_ESTATUS},
		{"HTTP/2.0 200 OK\r\n", HTTP_CLIENT_EVERSION},
		{"HTTP/0.9 200 OK\r\n", HTTP_CLIENT_EVERSION},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int result = feed(&r, cases[i].line);
		if (result != cases[i].error)
			fail_msg("%s: %d, not %d", cases[i].line, result, cases[i].error);
	}
	/* A status line without end. */
	static char endless[HTTP_CLIENT_STATUS_LINE_MAX + 64];
	memset(endless, 'x', sizeof endless - 1);
	memcpy(endless, "HTTP/1.1 200 ", 13);
	assert_int_equal(feed(&r, endless), HTTP_CLIENT_ETOOLARGE);
}

static void test_header_errors_are_named(void **state)
{
	(void)state;
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), HTTP_CLIENT_EFIELD);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), HTTP_CLIENT_EFIELD);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
				  "\r\n"),
			 HTTP_CLIENT_ELENGTH);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
			 HTTP_CLIENT_ELENGTH);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
			 HTTP_CLIENT_ECODING);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
			 HTTP_CLIENT_ECODING);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n"),
			 HTTP_CLIENT_ECODING);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "0\r\nBad Trailer: x\r\n\r\n"),
			 HTTP_CLIENT_EFIELD);
	static char many[HTTP_FIELDS_COUNT_MAX * 8 + 64];
	size_t len = (size_t)sprintf(many, "HTTP/1.1 200 OK\r\n");
	for (unsigned i = 0; i <= HTTP_FIELDS_COUNT_MAX; i++)
		len += (size_t)sprintf(many + len, "X: %u\r\n", i % 10);
	strcpy(many + len, "\r\n");
	assert_int_equal(feed(&r, many), HTTP_CLIENT_ETOOLARGE);
}

static void test_keep_alive_follows_version_and_connection(void **state)
{
	(void)state;
	struct http_client_response r;
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_true(r.keep_alive);
	assert_int_equal(feed(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
				  "\r\n"),
			 HTTP_CLIENT_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(feed(&r, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(feed(&r, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
				  "Content-Length: 0\r\n\r\n"),
			 HTTP_CLIENT_DONE);
	assert_true(r.keep_alive);
}

static void test_every_result_has_its_own_message(void **state)
{
	(void)state;
	for (int a = HTTP_CLIENT_ETRUNCATED; a <= HTTP_CLIENT_DONE; a++) {
		assert_string_not_equal(http_client_strerror(a), "unknown result");
		for (int b = HTTP_CLIENT_ETRUNCATED; b < a; b++)
			assert_string_not_equal(http_client_strerror(a), http_client_strerror(b));
	}
	assert_string_equal(http_client_strerror(-99), "unknown result");
}

/* Random responses. */

static uint64_t random_state;

static uint32_t random_below(uint32_t n)
{
	/* xorshift64*: enough for test inputs, and the same on every machine. */
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return (uint32_t)((random_state * UINT64_C(0x2545f4914f6cdd1d)) >> 32) % n;
}

static size_t random_response(uint8_t *buf, size_t size)
{
	static const struct text pieces[] = {
		{TEXT("HTTP/1.1 200 OK\r\n")},
		{TEXT("HTTP/1.0 404 Not Found\r\n")},
		{TEXT("HTTP/1.1 100 Continue\r\n\r\n")},
		{TEXT("HTTP/1.1 204 No Content\r\n")},
		{TEXT("Content-Length: 5\r\n")},
		{TEXT("Content-Length: 12\r\n")},
		{TEXT("Transfer-Encoding: chunked\r\n")},
		{TEXT("Connection: close\r\n")},
		{TEXT("X: y\r\n")},
		{TEXT("\r\n")},
		{TEXT("\n")},
		{TEXT("\r")},
		{TEXT("5\r\nhello\r\n")},
		{TEXT("a;x=y\r\n0123456789\r\n")},
		{TEXT("0\r\n\r\n")},
		{TEXT("0\r\nT: 1\r\n\r\n")},
		{TEXT("ffffffff\r\n")},
		{TEXT("hello world")},
		{TEXT(" ")},
		{TEXT(":")},
		{TEXT("\0")},
	};
	const size_t count = sizeof pieces / sizeof pieces[0];
	size_t len = 0;
	unsigned parts = 1 + random_below(16);
	for (unsigned p = 0; p < parts; p++) {
		size_t k = p == 0 ? random_below(4) : random_below((uint32_t)count);
		if (len + pieces[k].len > size)
			break;
		memcpy(buf + len, pieces[k].bytes, pieces[k].len);
		len += pieces[k].len;
	}
	for (unsigned d = random_below(4); d > 0 && len > 0; d--)
		buf[random_below((uint32_t)len)] = (uint8_t)random_below(256);
	return len;
}

static void count_bytes(void *ctx, const uint8_t *data, size_t len)
{
	uint64_t *total = ctx;
	/* Touch every byte, so a body outside the input is caught by the sanitizers. */
	for (size_t i = 0; i < len; i++)
		*total += data[i] == 0xa5;
	*total += len << 8;
}

static void test_random_responses_end_in_a_result_without_overrun(void **state)
{
	(void)state;
	const char *seed = getenv("PACKOS_FUZZ_SEED");
	random_state = seed != NULL ? strtoull(seed, NULL, 0) : UINT64_C(0x5851f42d4c957f2d);
	if (random_state == 0)
		random_state = 1;
	unsigned done = 0, failed = 0;
	static uint8_t scratch[512];
	for (unsigned round = 0; round < 100000; round++) {
		size_t len = random_response(scratch, sizeof scratch);
		uint8_t *text = malloc(len > 0 ? len : 1);
		assert_non_null(text);
		memcpy(text, scratch, len);
		struct http_client_response r;
		uint64_t total = 0;
		http_client_response_init(&r, random_below(8) == 0, count_bytes, &total);
		size_t at = 0;
		int result = HTTP_CLIENT_MORE;
		while (at < len && result == HTTP_CLIENT_MORE) {
			size_t piece = 1 + random_below(32), consumed;
			size_t n = len - at < piece ? len - at : piece;
			result = http_client_feed(&r, text + at, n, &consumed);
			assert_true(consumed <= n);
			at += consumed;
		}
		assert_true(r.body_received <= at);
		assert_true(total >> 8 == r.body_received);
		if (result == HTTP_CLIENT_MORE)
			result = http_client_finish(&r);
		assert_true(result == HTTP_CLIENT_DONE ||
			    (result >= HTTP_CLIENT_ETRUNCATED && result <= HTTP_CLIENT_ESTATUS));
		done += result == HTTP_CLIENT_DONE;
		failed += result < 0;
		free(text);
	}
	assert_true(done > 1000);
	assert_true(failed > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_with_a_name_port_and_path),
		cmocka_unit_test(test_url_with_ip_literals),
		cmocka_unit_test(test_url_refusals_say_which_part),
		cmocka_unit_test(test_request_names_host_port_and_connection),
		cmocka_unit_test(test_content_length_body_ends_where_it_says),
		cmocka_unit_test(test_chunked_body_with_extensions_and_trailers),
		cmocka_unit_test(test_malformed_chunks_are_echunk),
		cmocka_unit_test(test_body_until_close_ends_with_finish),
		cmocka_unit_test(test_close_before_the_end_is_etruncated),
		cmocka_unit_test(test_responses_without_a_body),
		cmocka_unit_test(test_interim_responses_are_skipped_but_101_is_refused),
		cmocka_unit_test(test_status_lines),
		cmocka_unit_test(test_header_errors_are_named),
		cmocka_unit_test(test_keep_alive_follows_version_and_connection),
		cmocka_unit_test(test_every_result_has_its_own_message),
		cmocka_unit_test(test_random_responses_end_in_a_result_without_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
