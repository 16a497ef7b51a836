/* The server's side of a connection (servers/httpd/http_server.c): every status it sends
 * and the request that earns it, keep-alive and close for HTTP/1.0 and 1.1, pipelining,
 * requests fed a byte at a time, targets and their decoding, the embedded tree, /bytes/N,
 * the client's parser reading what the server wrote, and random requests that must always
 * end in a response or a wait for more bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_bytes.h"
#include "http_client.h"
#include "http_server.h"
#include "http_site.h"

/* Bytes that may hold a NUL, and how many. */
struct text {
	const char *bytes;
	size_t len;
};

#define TEXT(s) s, sizeof s - 1

static struct http_server_conn conn;
static uint8_t out[1 << 21]; /* everything the server wrote in one exchange */

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Feeds `len` bytes of requests `piece` bytes at a time and takes the output `out_piece`
 * bytes at a time into `out`, as a server's loop would: what feed refuses is offered again
 * once the output is drained. Returns the bytes of output. */
static size_t exchange_in_pieces(const void *requests, size_t len, size_t piece, size_t out_piece)
{
	const uint8_t *in = requests;
	size_t fed = 0, written = 0;
	for (;;) {
		size_t offered = min_size(piece, len - fed);
		size_t took = offered > 0 ? http_server_feed(&conn, in + fed, offered) : 0;
		assert_true(took <= offered);
		fed += took;
		size_t sent = 0, n;
		while ((n = http_server_output(&conn, out + written,
					       min_size(out_piece, sizeof out - written))) > 0) {
			written += n;
			sent += n;
		}
		if (took == 0 && sent == 0)
			return written;
	}
}

static size_t exchange(const char *requests)
{
	http_server_init(&conn);
	return exchange_in_pieces(requests, strlen(requests), SIZE_MAX, SIZE_MAX);
}

struct response {
	unsigned status;
	const char *head; /* from the status line to the empty line, included */
	size_t head_len;
	const uint8_t *body;
	size_t body_len; /* as Content-Length says, none for a HEAD */
	size_t len;	 /* head and body */
};

static const char *find(const char *s, size_t len, const char *what)
{
	size_t n = strlen(what);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(s + i, what, n) == 0)
			return s + i;
	return NULL;
}

/* The value of field `name` in the head of `r` (our own spelling), or NULL. */
static const char *field(const struct response *r, const char *name)
{
	static char value[512];
	char line[64];
	snprintf(line, sizeof line, "\r\n%s: ", name);
	const char *at = find(r->head, r->head_len, line);
	if (at == NULL)
		return NULL;
	at += strlen(line);
	size_t n = (size_t)(find(at, r->head_len - (size_t)(at - r->head), "\r\n") - at);
	assert_true(n < sizeof value);
	memcpy(value, at, n);
	value[n] = '\0';
	return value;
}

/* The response that starts at out[at]. */
static struct response response_at(size_t at, size_t written, bool head_request)
{
	struct response r = {.head = (const char *)out + at};
	assert_true(written - at >= 17);
	assert_memory_equal(r.head, "HTTP/1.1 ", 9);
	r.status = (unsigned)atoi(r.head + 9);
	const char *end = find(r.head, written - at, "\r\n\r\n");
	assert_non_null(end);
	r.head_len = (size_t)(end - r.head) + 4;
	const char *length = field(&r, "Content-Length");
	assert_non_null(length);
	r.body = out + at + r.head_len;
	r.body_len = head_request ? 0 : (size_t)strtoull(length, NULL, 10);
	r.len = r.head_len + r.body_len;
	assert_true(at + r.len <= written);
	return r;
}

/* The one response to `request`, which must be all the output. */
static struct response answer_of(const char *request)
{
	size_t written = exchange(request);
	struct response r = response_at(0, written, strncmp(request, "HEAD ", 5) == 0);
	assert_int_equal(r.len, written);
	return r;
}

static unsigned status_of(const char *request)
{
	return answer_of(request).status;
}

static const struct http_site_file *site_file(const char *path)
{
	const struct http_site_file *f = http_site_find(path, strlen(path));
	assert_non_null(f);
	return f;
}

static void assert_closes(void)
{
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_CLOSED);
	assert_true(http_server_should_close(&conn));
}

static void assert_stays_open(void)
{
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_IDLE);
	assert_false(http_server_should_close(&conn));
}

/* Content. */

static void test_root_is_200_with_the_embedded_index(void **state)
{
	(void)state;
	struct response r = answer_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	const struct http_site_file *f = site_file("/index.html");
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.head, "HTTP/1.1 200 OK\r\n", 17);
	assert_string_equal(field(&r, "Server"), "PackOS-httpd");
	assert_string_equal(field(&r, "Content-Type"), "text/html; charset=utf-8");
	assert_int_equal(r.body_len, f->size);
	assert_memory_equal(r.body, f->data, f->size);
	assert_null(field(&r, "Date"));
	assert_null(field(&r, "Connection"));
	assert_stays_open();
}

static void test_every_embedded_file_is_served_with_its_type(void **state)
{
	(void)state;
	assert_true(http_site_count >= 4);
	for (size_t i = 0; i < http_site_count; i++) {
		const struct http_site_file *f = &http_site_files[i];
		char request[256];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", f->path);
		struct response r = answer_of(request);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, f->size);
		assert_memory_equal(r.body, f->data, f->size);
	}
	struct response r = answer_of("GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_string_equal(field(&r, "Content-Type"), "text/css; charset=utf-8");
	r = answer_of("GET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_string_equal(field(&r, "Content-Type"), "text/plain; charset=utf-8");
}

static void test_the_site_has_its_pages(void **state)
{
	(void)state;
	const char *pages[] = {"/index.html", "/about/index.html", "/robots.txt", "/style.css"};
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
		assert_true(site_file(pages[i])->size > 0);
	assert_null(http_site_find("/about/", 7));
	assert_null(http_site_find("/INDEX.HTML", 11));
	/* The index links to the other pages. */
	const struct http_site_file *index = site_file("/index.html");
	assert_non_null(find((const char *)index->data, index->size, "href=\"/about/\""));
	assert_non_null(find((const char *)index->data, index->size, "href=\"/style.css\""));
}

static void test_head_has_the_headers_of_get_and_no_body(void **state)
{
	(void)state;
	struct response get = answer_of("GET /about/ HTTP/1.1\r\nHost: a\r\n\r\n");
	char get_head[1024];
	assert_true(get.head_len < sizeof get_head);
	memcpy(get_head, get.head, get.head_len);
	struct response head = answer_of("HEAD /about/ HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(head.head_len, get.head_len);
	assert_memory_equal(head.head, get_head, get.head_len);
	assert_int_equal(head.len, head.head_len);
	assert_stays_open();
	/* An error's page is left out too. */
	struct response missing = answer_of("HEAD /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(missing.status, 404);
	assert_true(strtoull(field(&missing, "Content-Length"), NULL, 10) > 0);
	assert_int_equal(missing.len, missing.head_len);
}

static void test_directory_with_slash_serves_its_index(void **state)
{
	(void)state;
	struct response r = answer_of("GET /about/ HTTP/1.1\r\nHost: a\r\n\r\n");
	const struct http_site_file *f = site_file("/about/index.html");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, f->size);
	assert_memory_equal(r.body, f->data, f->size);
	assert_int_equal(status_of("GET /about/index.html HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
}

static void test_directory_without_slash_is_301_to_it(void **state)
{
	(void)state;
	struct response r = answer_of("GET /about?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.status, 301);
	assert_memory_equal(r.head, "HTTP/1.1 301 Moved Permanently\r\n", 32);
	assert_string_equal(field(&r, "Location"), "/about/");
	assert_string_equal(field(&r, "Content-Type"), "text/html; charset=utf-8");
	assert_non_null(find((const char *)r.body, r.body_len, "301 Moved Permanently"));
	/* A redirect is no error: the connection stays. */
	assert_stays_open();
	/* The Location is the tree's name, whatever the request's spelling. */
	r = answer_of("GET /%61bout HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_string_equal(field(&r, "Location"), "/about/");
	r = answer_of("HEAD /about HTTP/1.0\r\n\r\n");
	assert_int_equal(r.status, 301);
	assert_int_equal(r.len, r.head_len);
	/* Files have no directory to redirect to. */
	assert_int_equal(status_of("GET /robots.txt/ HTTP/1.1\r\nHost: a\r\n\r\n"), 404);
}

static void test_missing_file_is_404_and_closes(void **state)
{
	(void)state;
	struct response r = answer_of("GET /missing.html HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.status, 404);
	assert_string_equal(field(&r, "Connection"), "close");
	assert_string_equal(field(&r, "Content-Type"), "text/html; charset=utf-8");
	assert_non_null(find((const char *)r.body, r.body_len, "<title>404 Not Found</title>"));
	assert_closes();
	const char *missing[] = {"/index.htm",	 "/about/x",   "/ABOUT/", "/index.html/",
				 "//index.html", "/%2fabout/", "/abou"};
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", missing[i]);
		if (status_of(request) != 404)
			fail_msg("not 404: %s", missing[i]);
	}
}

/* Methods and versions. */

static void test_other_methods_are_405_with_allow(void **state)
{
	(void)state;
	const char *methods[] = {"POST", "PUT",	 "DELETE", "OPTIONS", "PATCH",
				 "get",	 "Head", "BREW",   "X-Y.Z~"};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "%s / HTTP/1.1\r\nHost: a\r\n\r\n", methods[i]);
		struct response r = answer_of(request);
		if (r.status != 405)
			fail_msg("not 405: %s", methods[i]);
		assert_string_equal(field(&r, "Allow"), "GET, HEAD");
		assert_string_equal(field(&r, "Connection"), "close");
		assert_closes();
	}
}

static void test_method_longer_than_any_is_501(void **state)
{
	(void)state;
	char request[256];
	memset(request, 'M', HTTP_SERVER_METHOD_MAX + 1);
	strcpy(request + HTTP_SERVER_METHOD_MAX + 1, " / HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(status_of(request), 501);
	assert_closes();
	strcpy(request + HTTP_SERVER_METHOD_MAX, " / HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(status_of(request), 405);
}

static void test_versions_other_than_1_0_and_1_1_are_505(void **state)
{
	(void)state;
	const char *versions[] = {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"};
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET / %s\r\nHost: a\r\n\r\n", versions[i]);
		if (status_of(request) != 505)
			fail_msg("not 505: %s", versions[i]);
		assert_closes();
	}
}

static void test_malformed_request_lines_are_400(void **state)
{
	(void)state;
	const char *lines[] = {
		"GET  / HTTP/1.1\r\n",
		"GET /  HTTP/1.1\r\n",
		"GET / HTTP/1.1 \r\n",
		"GET / HTTP/1.1 x\r\n",
		"GET /\r\n",
		"GET / \r\n",
		"GET\r\n",
		" GET / HTTP/1.1\r\n",
		"GET\t/ HTTP/1.1\r\n",
		"GET /\tHTTP/1.1\r\n",
		"GET / http/1.1\r\n",
		"GET / HTTP/1.10\r\n",
		"GET / HTTP/1.\r\n",
		"GET / HTTP/11\r\n",
		"GET / HTTPS/1.1\r\n",
		"GET / HTTP/1.1\rX\n",
		"GET /\r HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\r\n",
		"G(T / HTTP/1.1\r\n",
		"GET /\x7f HTTP/1.1\r\n",
		"GET /\x01 HTTP/1.1\r\n",
		"GET /\xc3\xa9 HTTP/1.1\r\n",
		"\r\r\n",
		"GET / HTTP/1.1\n\r",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "%sHost: a\r\n\r\n", lines[i]);
		if (status_of(request) != 400)
			fail_msg("not 400: %s", lines[i]);
		assert_closes();
	}
	/* A NUL anywhere in the line. */
	static const char nul[] = "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n";
	http_server_init(&conn);
	size_t written = exchange_in_pieces(nul, sizeof nul - 1, SIZE_MAX, SIZE_MAX);
	assert_int_equal(response_at(0, written, false).status, 400);
}

static void test_bare_lf_line_ends_are_accepted(void **state)
{
	(void)state;
	struct response r = answer_of("GET /robots.txt HTTP/1.1\nHost: a\nAccept: */*\n\n");
	assert_int_equal(r.status, 200);
	assert_stays_open();
	assert_int_equal(status_of("GET / HTTP/1.0\n\n"), 200);
}

static void test_up_to_two_empty_lines_before_a_request_are_ignored(void **state)
{
	(void)state;
	assert_int_equal(status_of("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

/* Limits. */

static void test_request_target_too_long_is_414(void **state)
{
	(void)state;
	static char request[HTTP_SERVER_TARGET_MAX + 64];
	request[0] = '/';
	memset(request + 1, 'a', HTTP_SERVER_TARGET_MAX);
	strcpy(request + HTTP_SERVER_TARGET_MAX + 1, " HTTP/1.1\r\nHost: a\r\n\r\n");
	char line[HTTP_SERVER_TARGET_MAX + 128];
	snprintf(line, sizeof line, "GET %s", request);
	assert_int_equal(status_of(line), 414);
	assert_closes();
	/* At the limit, the target is read (and names nothing). */
	strcpy(request + HTTP_SERVER_TARGET_MAX, " HTTP/1.1\r\nHost: a\r\n\r\n");
	snprintf(line, sizeof line, "GET %s", request);
	assert_int_equal(status_of(line), 404);
	/* A target of dot segments at the limit still resolves. */
	for (size_t i = 0; i + 2 <= HTTP_SERVER_TARGET_MAX - 11; i += 2)
		memcpy(request + i, "/.", 2);
	size_t len = ((HTTP_SERVER_TARGET_MAX - 11) / 2) * 2;
	strcpy(request + len, "/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
	snprintf(line, sizeof line, "GET %s", request);
	assert_int_equal(status_of(line), 200);
}

/* A GET whose field section is "Host: a\r\n" and `count` more field lines, `bytes` bytes
 * of field lines in all (each at least 10). */
static const char *request_with_section(unsigned count, size_t bytes)
{
	static char request[HTTP_FIELDS_SECTION_MAX * 2];
	size_t len = (size_t)sprintf(request, "GET / HTTP/1.1\r\nHost: a\r\n");
	size_t left = bytes - strlen("Host: a\r\n");
	for (unsigned i = 0; i < count; i++) {
		size_t line = left / (count - i);
		int n = sprintf(request + len, "X-%04u: ", i);
		memset(request + len + n, 'v', line - (size_t)n - 2);
		memcpy(request + len + line - 2, "\r\n", 2);
		len += line;
		left -= line;
	}
	strcpy(request + len, "\r\n");
	return request;
}

static void test_header_section_over_8k_is_431(void **state)
{
	(void)state;
	assert_int_equal(status_of(request_with_section(63, HTTP_FIELDS_SECTION_MAX)), 200);
	assert_int_equal(status_of(request_with_section(63, HTTP_FIELDS_SECTION_MAX + 1)), 431);
	assert_closes();
	assert_int_equal(status_of(request_with_section(2, HTTP_FIELDS_SECTION_MAX + 1)), 431);
}

static void test_more_than_64_fields_is_431(void **state)
{
	(void)state;
	assert_int_equal(status_of(request_with_section(HTTP_FIELDS_COUNT_MAX - 1, 640)), 200);
	assert_int_equal(status_of(request_with_section(HTTP_FIELDS_COUNT_MAX, 650)), 431);
	assert_closes();
}

static void test_field_syntax_errors_are_400(void **state)
{
	(void)state;
	static const struct text fields[] = {
		{TEXT("NoColon\r\n")},	       {TEXT("Host : a\r\n")},
		{TEXT("X: a\r\n folded\r\n")}, {TEXT("X: a\r\n\tfolded\r\n")},
		{TEXT(" X: a\r\n")},	       {TEXT("X: a\rb\r\n")},
		{TEXT("X: a\x01\r\n")},	       {TEXT("X: \x7f\r\n")},
		{TEXT("X:\0a\r\n")},	       {TEXT("X y: a\r\n")},
		{TEXT("X: a\r\n\r\r\n")},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		char request[128];
		size_t len = (size_t)sprintf(request, "GET / HTTP/1.1\r\nHost: a\r\n");
		memcpy(request + len, fields[i].bytes, fields[i].len);
		len += fields[i].len;
		memcpy(request + len, "\r\n", 2);
		http_server_init(&conn);
		size_t written = exchange_in_pieces(request, len + 2, SIZE_MAX, SIZE_MAX);
		if (response_at(0, written, false).status != 400)
			fail_msg("not 400: field %zu", i);
		assert_closes();
	}
}

/* Host, bodies and framing. */

static void test_http11_needs_exactly_one_valid_host(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
	assert_closes();
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.1\r\nhOST:\r\n\r\n"), 200);
	/* HTTP/1.0 has no Host requirement, but two are still two. */
	assert_int_equal(status_of("GET / HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

static void test_transfer_encoding_is_501_and_closes(void **state)
{
	(void)state;
	struct response r = answer_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
				      "\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
	assert_int_equal(r.status, 501);
	assert_string_equal(field(&r, "Connection"), "close");
	assert_closes();
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
				   "Content-Length: 0\r\n\r\n"),
			 501);
}

static void test_invalid_content_length_is_400(void **state)
{
	(void)state;
	const char *values[] = {"-1", "abc", "1 2", "", "+5", "0x10", "5, 6", "1.5"};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		char request[128];
		snprintf(request, sizeof request,
			 "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", values[i]);
		if (status_of(request) != 400)
			fail_msg("not 400: Content-Length: %s", values[i]);
		assert_closes();
	}
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
				   "Content-Length: 4\r\n\r\nabcd"),
			 400);
}

static void test_body_up_to_64k_is_read_and_dropped(void **state)
{
	(void)state;
	static char request[HTTP_SERVER_BODY_MAX + 256];
	int n = sprintf(request,
			"GET /robots.txt HTTP/1.1\r\nHost: a\r\nContent-Length: %u, %u"
			"\r\n\r\n",
			HTTP_SERVER_BODY_MAX, HTTP_SERVER_BODY_MAX);
	/* The body looks like a request, which it must not be taken for. */
	for (size_t i = 0; i < HTTP_SERVER_BODY_MAX; i++)
		request[n + i] = "GET /x HTTP/1.1\r\n"[i % 17];
	size_t len = (size_t)n + HTTP_SERVER_BODY_MAX;
	len += (size_t)sprintf(request + len, "HEAD /style.css HTTP/1.1\r\nHost: a\r\n\r\n");
	http_server_init(&conn);
	size_t written = exchange_in_pieces(request, len, 1000, 333);
	struct response first = response_at(0, written, false);
	assert_int_equal(first.status, 200);
	struct response second = response_at(first.len, written, true);
	assert_int_equal(second.status, 200);
	assert_int_equal(first.len + second.len, written);
	assert_stays_open();
	/* Bytes of the body keep the request going, not idle. */
	http_server_init(&conn);
	const char *head = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab";
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)head, strlen(head)),
			 strlen(head));
	assert_true(http_server_mid_request(&conn));
	assert_int_equal(http_server_output(&conn, out, sizeof out), 0);
}

static void test_body_over_64k_is_413_and_closes(void **state)
{
	(void)state;
	char request[256];
	snprintf(request, sizeof request, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n\r\n",
		 HTTP_SERVER_BODY_MAX + 1);
	struct response r = answer_of(request);
	assert_int_equal(r.status, 413);
	assert_memory_equal(r.head, "HTTP/1.1 413 Content Too Large\r\n", 32);
	assert_closes();
	assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: "
				   "99999999999999999999999999\r\n\r\n"),
			 413);
}

/* Connections. */

static void test_http11_persists_unless_asked_to_close(void **state)
{
	(void)state;
	struct response r =
		answer_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
	assert_null(field(&r, "Connection"));
	assert_stays_open();
	const char *closing[] = {"close", "Close", "keep-alive, CLOSE", "TE, close , x"};
	for (size_t i = 0; i < sizeof closing / sizeof closing[0]; i++) {
		char request[128];
		snprintf(request, sizeof request,
			 "GET / HTTP/1.1\r\nHost: a\r\nConnection: %s\r\n\r\n", closing[i]);
		r = answer_of(request);
		assert_int_equal(r.status, 200);
		assert_string_equal(field(&r, "Connection"), "close");
		assert_closes();
	}
}

static void test_http10_closes_unless_asked_to_keep_alive(void **state)
{
	(void)state;
	struct response r = answer_of("GET / HTTP/1.0\r\n\r\n");
	assert_int_equal(r.status, 200);
	assert_string_equal(field(&r, "Connection"), "close");
	assert_closes();
	r = answer_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_string_equal(field(&r, "Connection"), "keep-alive");
	assert_stays_open();
	r = answer_of("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
	assert_string_equal(field(&r, "Connection"), "close");
	assert_closes();
	/* A 1.0 keep-alive request that ends in an error still closes. */
	r = answer_of("GET /nothing HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_string_equal(field(&r, "Connection"), "close");
	assert_closes();
}

static void test_errors_close_and_drop_what_follows(void **state)
{
	(void)state;
	const char *requests = "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"
			       "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	http_server_init(&conn);
	size_t len = strlen(requests);
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)requests, len), len);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_CLOSING);
	assert_true(http_server_should_close(&conn));
	assert_false(http_server_mid_request(&conn));
	size_t written = http_server_output(&conn, out, sizeof out);
	assert_int_equal(response_at(0, written, false).len, written);
	assert_closes();
	/* Whatever comes later is taken and dropped. */
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)requests, len), len);
	assert_int_equal(http_server_output(&conn, out, sizeof out), 0);
	/* An error in the request line answers at once, before the line ends. */
	http_server_init(&conn);
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)"GET /\x01", 6), 6);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_CLOSING);
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
	(void)state;
	const char *requests = "GET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n"
			       "HEAD /style.css HTTP/1.1\r\nHost: a\r\n\r\n"
			       "GET /about HTTP/1.1\r\nHost: a\r\n\r\n"
			       "GET /bytes/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
			       "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	http_server_init(&conn);
	/* The first request is taken, and no more until its response is out. */
	size_t first = strlen("GET /robots.txt HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)requests, strlen(requests)),
			 first);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_RESPONDING);
	assert_false(http_server_mid_request(&conn));
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)requests + first, 10), 0);

	http_server_init(&conn);
	size_t written = exchange_in_pieces(requests, strlen(requests), SIZE_MAX, SIZE_MAX);
	struct response r[4];
	size_t at = 0;
	const bool head[4] = {false, true, false, false};
	const unsigned status[4] = {200, 200, 301, 200};
	for (unsigned i = 0; i < 4; i++) {
		r[i] = response_at(at, written, head[i]);
		assert_int_equal(r[i].status, status[i]);
		at += r[i].len;
	}
	assert_string_equal(field(&r[1], "Content-Type"), "text/css; charset=utf-8");
	assert_string_equal(field(&r[3], "Connection"), "close");
	/* The last request came after a close: never answered. */
	assert_int_equal(at, written);
	assert_int_equal(conn.requests, 4);
	assert_closes();
}

/* Feeding a byte at a time, or taking output a byte at a time, changes nothing. */
static void test_requests_a_byte_at_a_time_are_answered_the_same(void **state)
{
	(void)state;
	const char *cases[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /about HTTP/1.1\r\nHost: a\r\n\r\n",
		("GET /bytes/1000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		 "GET /robots.txt HTTP/1.0\r\n\r\n"),
		"\r\nGET /style.css HTTP/1.1\nHost: a\nContent-Length: 3\n\nabcGET / HTTP/1.1\n\n",
		"GET /%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n",
		"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	};
	static uint8_t whole[1 << 16];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i]);
		http_server_init(&conn);
		size_t n = exchange_in_pieces(cases[i], len, SIZE_MAX, SIZE_MAX);
		assert_true(n > 0 && n <= sizeof whole);
		memcpy(whole, out, n);
		enum http_server_state end = http_server_state(&conn);
		http_server_init(&conn);
		assert_int_equal(exchange_in_pieces(cases[i], len, 1, SIZE_MAX), n);
		assert_memory_equal(out, whole, n);
		assert_int_equal(http_server_state(&conn), end);
		http_server_init(&conn);
		assert_int_equal(exchange_in_pieces(cases[i], len, 1, 1), n);
		assert_memory_equal(out, whole, n);
		http_server_init(&conn);
		assert_int_equal(exchange_in_pieces(cases[i], len, 7, 5), n);
		assert_memory_equal(out, whole, n);
	}
}

static void test_states_say_idle_reading_responding_closed(void **state)
{
	(void)state;
	http_server_init(&conn);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_IDLE);
	assert_false(http_server_mid_request(&conn));
	assert_int_equal(http_server_output(&conn, out, sizeof out), 0);
	const char *request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t len = strlen(request);
	for (size_t i = 0; i + 1 < len; i++) {
		assert_int_equal(http_server_feed(&conn, (const uint8_t *)request + i, 1), 1);
		assert_int_equal(http_server_state(&conn), HTTP_SERVER_READING);
		assert_true(http_server_mid_request(&conn));
		assert_false(http_server_should_close(&conn));
	}
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)request + len - 1, 1), 1);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_RESPONDING);
	assert_false(http_server_mid_request(&conn));
	/* Everything but the last byte: still responding. */
	struct response r = answer_of(request);
	http_server_init(&conn);
	http_server_feed(&conn, (const uint8_t *)request, len);
	assert_int_equal(http_server_output(&conn, out, r.len - 1), r.len - 1);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_RESPONDING);
	assert_int_equal(http_server_output(&conn, out, sizeof out), 1);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_IDLE);
	assert_int_equal(conn.status, 200);
	assert_int_equal(conn.requests, 1);
	/* An empty feed changes nothing. */
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)"", 0), 0);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_IDLE);
}

/* Targets. */

static void test_query_is_ignored(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET /robots.txt?a=1&b=/../..%zz HTTP/1.1\r\nHost: a\r\n\r\n"),
			 200);
	assert_int_equal(status_of("GET /?x HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
}

static void test_absolute_form_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET http://example.org/robots.txt HTTP/1.1\r\nHost: a\r\n\r\n"),
			 200);
	assert_int_equal(status_of("GET HTTP://[::1]:8080 HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	struct response r = answer_of("GET http://a/about HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_string_equal(field(&r, "Location"), "/about/");
}

static void test_other_target_forms_are_400(void **state)
{
	(void)state;
	const char *targets[] = {
		"*",	     "example.org:80", "robots.txt", "https://a/",	"http://",
		"http:///x", "ftp://a/x",      "?x",	     "/index.html#top", "/a#"};
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", targets[i]);
		if (status_of(request) != 400)
			fail_msg("not 400: %s", targets[i]);
	}
	/* The target's form is checked before the method. */
	assert_int_equal(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

static void test_percent_escapes_are_decoded_and_checked(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET /%72obots%2Etxt HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("GET /about%2F HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
	assert_int_equal(status_of("GET /%41 HTTP/1.1\r\nHost: a\r\n\r\n"), 404);
	const char *bad[] = {"/%",    "/%2",  "/%zz", "/%2g",  "/%g2",	"/%00", "/a%00b",
			     "/%%41", "/a b", "/a<b", "/a\"b", "/a\\b", "/a{b", "/a^b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
		if (status_of(request) != 400)
			fail_msg("not 400: %s", bad[i]);
	}
	/* Escapes that decode to controls name no file; they are never echoed. */
	struct response r = answer_of("GET /%0d%0aX:%20y HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.status, 404);
	assert_null(field(&r, "X"));
}

static void test_dot_segments_resolve_within_the_root(void **state)
{
	(void)state;
	const char *ok[] = {"/about/../robots.txt",
			    "/./robots.txt",
			    "/about/./../style.css",
			    "/x/y/../../robots.txt",
			    "/%2e/robots.txt",
			    "/about/%2E%2E/robots.txt",
			    "/about/..",
			    "/about/.",
			    "/."};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", ok[i]);
		if (status_of(request) != 200)
			fail_msg("not 200: %s", ok[i]);
	}
	struct response r = answer_of("GET /about/. HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.body_len, site_file("/about/index.html")->size);
	r = answer_of("GET /about/.. HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.body_len, site_file("/index.html")->size);
	/* "..." is a name, not a dot segment. */
	assert_int_equal(status_of("GET /.../robots.txt HTTP/1.1\r\nHost: a\r\n\r\n"), 404);
}

static void test_dot_segments_above_the_root_are_400(void **state)
{
	(void)state;
	const char *bad[] = {
		"/..",	   "/../robots.txt",	     "/about/../../robots.txt",	   "/%2e%2e/",
		"/./../x", "http://a/../robots.txt", "/about/..%2f..%2frobots.txt"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
		if (status_of(request) != 400)
			fail_msg("not 400: %s", bad[i]);
		assert_closes();
	}
}

/* /bytes/N. */

/* Checks that `r` carries N bytes of the stream. */
static void assert_bytes_body(const struct response *r, uint64_t n)
{
	assert_int_equal(r->status, 200);
	assert_string_equal(field(r, "Content-Type"), "application/octet-stream");
	assert_int_equal(r->body_len, n);
	static uint8_t expected[1 << 20];
	assert_true(n <= sizeof expected);
	http_bytes_fill(0, expected, (size_t)n);
	assert_memory_equal(r->body, expected, (size_t)n);
}

static void test_bytes_0_is_an_empty_200(void **state)
{
	(void)state;
	struct response r = answer_of("GET /bytes/0 HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_bytes_body(&r, 0);
	assert_string_equal(field(&r, "Content-Length"), "0");
	assert_stays_open();
}

static void test_bytes_n_is_the_stream_from_its_start(void **state)
{
	(void)state;
	const uint64_t sizes[] = {1, 7, 8, 13, 1000, 65537, 300001};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET /bytes/%llu HTTP/1.1\r\nHost: a\r\n\r\n",
			 (unsigned long long)sizes[i]);
		struct response r = answer_of(request);
		assert_bytes_body(&r, sizes[i]);
		/* Taken in odd pieces, the body is the same. */
		http_server_init(&conn);
		size_t written = exchange_in_pieces(request, strlen(request), 3, 4093);
		struct response pieces = response_at(0, written, false);
		assert_bytes_body(&pieces, sizes[i]);
	}
	assert_int_equal(status_of("GET /bytes/0012 HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
}

static void test_bytes_up_to_2_pow_40_else_404(void **state)
{
	(void)state;
	struct response r = answer_of("HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(r.status, 200);
	assert_string_equal(field(&r, "Content-Length"), "1099511627776");
	assert_int_equal(r.len, r.head_len);
	/* A GET that large starts, and its first bytes are the stream's. */
	http_server_init(&conn);
	const char *get = "GET /bytes/1099511627776 HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(http_server_feed(&conn, (const uint8_t *)get, strlen(get)), strlen(get));
	size_t n = http_server_output(&conn, out, 4096);
	assert_int_equal(n, 4096);
	assert_int_equal(http_server_state(&conn), HTTP_SERVER_RESPONDING);
	const char *bad[] = {"/bytes/1099511627777",
			     "/bytes/99999999999999999999999",
			     "/bytes/",
			     "/bytes",
			     "/bytes/-1",
			     "/bytes/1x",
			     "/bytes/1/",
			     "/bytes/0x10",
			     "/bytes/+1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char request[128];
		snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", bad[i]);
		if (status_of(request) != 404)
			fail_msg("not 404: %s", bad[i]);
	}
	/* The path is decoded first, as every other. */
	assert_int_equal(status_of("GET /bytes/%31 HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
}

/* What the server writes, the client's parser reads. */

struct body_sink {
	uint8_t data[1 << 20];
	size_t len;
};

static void collect(void *ctx, const uint8_t *data, size_t len)
{
	struct body_sink *sink = ctx;
	assert_true(len <= sizeof sink->data - sink->len);
	memcpy(sink->data + sink->len, data, len);
	sink->len += len;
}

static void test_client_reads_what_the_server_sends(void **state)
{
	(void)state;
	static struct body_sink sink;
	struct http_client_url url;
	char request[512];
	const char *paths[] = {"/", "/about", "/bytes/99999", "/missing"};
	const unsigned status[] = {200, 301, 200, 404};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		char text[64];
		snprintf(text, sizeof text, "http://[fd6b:616e::8]%s", paths[i]);
		assert_int_equal(http_client_parse_url(text, &url), 0);
		int len = http_client_format_request(&url, HTTP_CLIENT_KEEP_ALIVE, request,
						     sizeof request);
		assert_true(len > 0);
		request[len] = '\0';
		size_t written = exchange(request);

		struct http_client_response r;
		sink.len = 0;
		http_client_response_init(&r, false, collect, &sink);
		size_t consumed;
		/* In 100-byte pieces, as they might come off the network. */
		int result = HTTP_CLIENT_MORE;
		size_t at = 0;
		while (result == HTTP_CLIENT_MORE && at < written) {
			result = http_client_feed(&r, out + at, min_size(100, written - at),
						  &consumed);
			at += consumed;
		}
		assert_int_equal(result, HTTP_CLIENT_DONE);
		assert_int_equal(at, written);
		assert_int_equal(r.status, status[i]);
		assert_int_equal(r.framing, HTTP_CLIENT_LENGTH);
		assert_int_equal(r.keep_alive, status[i] < 400);
		struct response parsed = response_at(0, written, false);
		assert_int_equal(sink.len, parsed.body_len);
		assert_memory_equal(sink.data, parsed.body, sink.len);
	}
}

/* Random requests. */

static uint64_t random_state;

static uint32_t random_below(uint32_t n)
{
	/* xorshift64*: enough for test inputs, and the same on every machine. */
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return (uint32_t)((random_state * UINT64_C(0x2545f4914f6cdd1d)) >> 32) % n;
}

static const char *pick(const char *const *list, size_t count)
{
	return list[random_below((uint32_t)count)];
}

#define PICK(list) pick(list, sizeof list / sizeof list[0])

/* One or two requests of the usual shape, from parts that earn every answer. */
static size_t random_well_formed(char *buf, size_t size)
{
	static const char *const methods[] = {"GET", "GET", "GET", "HEAD", "POST", "DELETE"};
	static const char *const targets[] = {
		"/",
		"/about",
		"/about/",
		"/index.html",
		"/style.css",
		"/robots.txt",
		"/bytes/17",
		"/bytes/0",
		"/missing",
		"/%2e%2e/x",
		"/a%zz",
		"*",
		"/?q=1",
		"http://h/robots.txt",
		"/about/../about",
	};
	static const char *const versions[] = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"};
	static const char *const fields[] = {
		"Connection: close",
		"Connection: keep-alive",
		"Content-Length: 3",
		"Content-Length: 70000",
		"Transfer-Encoding: chunked",
		"X: y",
		"Content-Length: 3, 4",
		"Accept: */*",
		"Host: b",
	};
	size_t len = 0;
	for (unsigned r = 1 + random_below(2); r > 0; r--) {
		const char *eol = random_below(4) == 0 ? "\n" : "\r\n";
		int n = snprintf(buf + len, size - len, "%s %s %s%s", PICK(methods), PICK(targets),
				 PICK(versions), eol);
		len += (size_t)n;
		if (random_below(8) != 0)
			len += (size_t)snprintf(buf + len, size - len, "Host: a%s", eol);
		for (unsigned f = random_below(3); f > 0; f--)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", PICK(fields), eol);
		len += (size_t)snprintf(buf + len, size - len, "%sabc", eol);
	}
	return len;
}

/* A request of the usual shape or a soup of likely pieces, either perhaps damaged. */
static size_t random_request(uint8_t *buf, size_t size)
{
	static const struct text pieces[] = {
		{TEXT("GET ")},
		{TEXT("HEAD ")},
		{TEXT("POST ")},
		{TEXT("/")},
		{TEXT("/about")},
		{TEXT("/bytes/")},
		{TEXT("17")},
		{TEXT("/index.html")},
		{TEXT("?q=1")},
		{TEXT("%2e%2e/")},
		{TEXT("%")},
		{TEXT("/../")},
		{TEXT(" HTTP/1.1")},
		{TEXT(" HTTP/1.0")},
		{TEXT(" HTTP/2.0")},
		{TEXT("\r\n")},
		{TEXT("\n")},
		{TEXT("\r")},
		{TEXT("Host: a\r\n")},
		{TEXT("Host: b\r\n")},
		{TEXT("Content-Length: 3\r\n")},
		{TEXT("Content-Length: 70000\r\n")},
		{TEXT("Transfer-Encoding: x\r\n")},
		{TEXT("Connection: close\r\n")},
		{TEXT("Connection: keep-alive\r\n")},
		{TEXT("X: y\r\n")},
		{TEXT(" folded\r\n")},
		{TEXT(":")},
		{TEXT("\r\n\r\n")},
		{TEXT("abc")},
		{TEXT("\0")},
		{TEXT("http://h/")},
		{TEXT("*")},
		{TEXT("\x80")},
		{TEXT("\t")},
		{TEXT("GET / HTTP/1.1\r\n")},
	};
	const size_t count = sizeof pieces / sizeof pieces[0];
	size_t len = 0;
	unsigned parts = 1 + random_below(24);
	if (random_below(2) == 0) {
		len = random_well_formed((char *)buf, size);
		parts = 0;
	}
	for (unsigned p = 0; p < parts; p++) {
		size_t k = random_below((uint32_t)count);
		if (len + pieces[k].len > size)
			break;
		memcpy(buf + len, pieces[k].bytes, pieces[k].len);
		len += pieces[k].len;
	}
	/* Sometimes damage it: flip, drop or insert bytes. */
	unsigned damage = random_below(2) == 0 ? 0 : random_below(4);
	for (unsigned d = 0; d < damage && len > 0; d++) {
		size_t at = random_below((uint32_t)len);
		switch (random_below(3)) {
		case 0:
			buf[at] = (uint8_t)random_below(256);
			break;
		case 1:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		default:
			if (len < size) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (uint8_t)random_below(256);
				len++;
			}
			break;
		}
	}
	return len;
}

static void test_random_requests_end_in_a_response_or_a_wait(void **state)
{
	(void)state;
	const char *seed = getenv("PACKOS_FUZZ_SEED");
	random_state = seed != NULL ? strtoull(seed, NULL, 0) : UINT64_C(0x9e3779b97f4a7c15);
	if (random_state == 0)
		random_state = 1;
	unsigned answered = 0, waiting = 0, statuses[600] = {0};
	static uint8_t scratch[1024];
	for (unsigned round = 0; round < 100000; round++) {
		size_t len = random_request(scratch, sizeof scratch);
		/* An allocation of exactly the request's size, so a read past it is caught by
		 * the sanitizers. */
		uint8_t *request = malloc(len > 0 ? len : 1);
		assert_non_null(request);
		memcpy(request, scratch, len);
		http_server_init(&conn);
		size_t fed = 0;
		for (unsigned step = 0;; step++) {
			/* Every step takes a byte or sends one, so this bounds a stuck parser. */
			assert_true(step < 10000);
			size_t offered = min_size(1 + random_below(64), len - fed);
			size_t took = http_server_feed(&conn, request + fed, offered);
			assert_true(took <= offered);
			fed += took;
			enum http_server_state s = http_server_state(&conn);
			/* Only a response to send makes it refuse bytes. */
			if (took < offered)
				assert_int_equal(s, HTTP_SERVER_RESPONDING);
			if (s == HTTP_SERVER_RESPONDING || s == HTTP_SERVER_CLOSING) {
				/* Drain it (a large /bytes/N only in part); the first piece holds
				 * the status line's start. */
				size_t n, total = 0;
				while (total < 65536 &&
				       (n = http_server_output(&conn, out,
							       (total == 0 ? 12 : 1) +
								       random_below(8192))) > 0) {
					if (total == 0) {
						assert_memory_equal(out, "HTTP/1.1 ", 9);
						unsigned status = (unsigned)atoi((char *)out + 9);
						assert_true(status >= 200 && status < 600);
						statuses[status]++;
						answered++;
					}
					total += n;
				}
				s = http_server_state(&conn);
				if (s == HTTP_SERVER_RESPONDING || s == HTTP_SERVER_CLOSING)
					break;
			}
			/* All taken: the connection waits for more, or is done. */
			if (fed == len) {
				assert_true(s == HTTP_SERVER_IDLE || s == HTTP_SERVER_READING ||
					    s == HTTP_SERVER_CLOSED);
				waiting += s != HTTP_SERVER_CLOSED;
				break;
			}
		}
		free(request);
	}
	/* The mix reaches the usual answers. */
	assert_true(answered > 10000);
	assert_true(waiting > 1000);
	const unsigned expected[] = {200, 301, 400, 404, 405, 413, 501, 505};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		if (statuses[expected[i]] == 0)
			fail_msg("no %u in the random requests", expected[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_is_200_with_the_embedded_index),
		cmocka_unit_test(test_every_embedded_file_is_served_with_its_type),
		cmocka_unit_test(test_the_site_has_its_pages),
		cmocka_unit_test(test_head_has_the_headers_of_get_and_no_body),
		cmocka_unit_test(test_directory_with_slash_serves_its_index),
		cmocka_unit_test(test_directory_without_slash_is_301_to_it),
		cmocka_unit_test(test_missing_file_is_404_and_closes),
		cmocka_unit_test(test_other_methods_are_405_with_allow),
		cmocka_unit_test(test_method_longer_than_any_is_501),
		cmocka_unit_test(test_versions_other_than_1_0_and_1_1_are_505),
		cmocka_unit_test(test_malformed_request_lines_are_400),
		cmocka_unit_test(test_bare_lf_line_ends_are_accepted),
		cmocka_unit_test(test_up_to_two_empty_lines_before_a_request_are_ignored),
		cmocka_unit_test(test_request_target_too_long_is_414),
		cmocka_unit_test(test_header_section_over_8k_is_431),
		cmocka_unit_test(test_more_than_64_fields_is_431),
		cmocka_unit_test(test_field_syntax_errors_are_400),
		cmocka_unit_test(test_http11_needs_exactly_one_valid_host),
		cmocka_unit_test(test_transfer_encoding_is_501_and_closes),
		cmocka_unit_test(test_invalid_content_length_is_400),
		cmocka_unit_test(test_body_up_to_64k_is_read_and_dropped),
		cmocka_unit_test(test_body_over_64k_is_413_and_closes),
		cmocka_unit_test(test_http11_persists_unless_asked_to_close),
		cmocka_unit_test(test_http10_closes_unless_asked_to_keep_alive),
		cmocka_unit_test(test_errors_close_and_drop_what_follows),
		cmocka_unit_test(test_pipelined_requests_are_answered_in_order),
		cmocka_unit_test(test_requests_a_byte_at_a_time_are_answered_the_same),
		cmocka_unit_test(test_states_say_idle_reading_responding_closed),
		cmocka_unit_test(test_query_is_ignored),
		cmocka_unit_test(test_absolute_form_is_accepted),
		cmocka_unit_test(test_other_target_forms_are_400),
		cmocka_unit_test(test_percent_escapes_are_decoded_and_checked),
		cmocka_unit_test(test_dot_segments_resolve_within_the_root),
		cmocka_unit_test(test_dot_segments_above_the_root_are_400),
		cmocka_unit_test(test_bytes_0_is_an_empty_200),
		cmocka_unit_test(test_bytes_n_is_the_stream_from_its_start),
		cmocka_unit_test(test_bytes_up_to_2_pow_40_else_404),
		cmocka_unit_test(test_client_reads_what_the_server_sends),
		cmocka_unit_test(test_random_requests_end_in_a_response_or_a_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
