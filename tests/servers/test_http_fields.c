/* The field-section parser (servers/httpd/http_fields.c): what it keeps of Host,
 * Content-Length, Transfer-Encoding and Connection, the syntax errors it refuses, and both
 * limits, each at the limit and one past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_fields.h"

/* Feeds `text` a byte at a time and returns the first result that is not MORE (MORE if
 * the text ran out first); *ret_taken says how many bytes that took. */
static enum http_fields_result parse_n(struct http_fields *f, const char *text, size_t len,
				       size_t *ret_taken)
{
	http_fields_init(f);
	for (size_t i = 0; i < len; i++) {
		enum http_fields_result r = http_fields_byte(f, (uint8_t)text[i]);
		if (r != HTTP_FIELDS_MORE) {
			*ret_taken = i + 1;
			return r;
		}
	}
	*ret_taken = len;
	return HTTP_FIELDS_MORE;
}

static enum http_fields_result parse(struct http_fields *f, const char *text)
{
	size_t taken;
	return parse_n(f, text, strlen(text), &taken);
}

static void test_fields_end_at_the_empty_line_crlf_or_lf(void **state)
{
	(void)state;
	struct http_fields f;
	size_t taken;
	const char *crlf = "Host: a\r\nAccept: */*\r\n\r\nGET";
	assert_int_equal(parse_n(&f, crlf, strlen(crlf), &taken), HTTP_FIELDS_END);
	assert_int_equal(taken, strlen(crlf) - 3);
	assert_int_equal(f.count, 2);
	assert_int_equal(f.host_count, 1);
	assert_int_equal(parse(&f, "Host: a\nX: y\n\n"), HTTP_FIELDS_END);
	assert_int_equal(f.count, 2);
	assert_int_equal(parse(&f, "\r\n"), HTTP_FIELDS_END);
	assert_int_equal(f.count, 0);
	assert_int_equal(parse(&f, "Host: a\r\n"), HTTP_FIELDS_MORE);
	/* Once ended, it stays ended and takes nothing. */
	assert_int_equal(http_fields_byte(&f, '\r'), HTTP_FIELDS_MORE);
	assert_int_equal(http_fields_byte(&f, '\n'), HTTP_FIELDS_END);
	assert_int_equal(http_fields_byte(&f, 'X'), HTTP_FIELDS_END);
}

static void test_fields_syntax_errors_are_invalid(void **state)
{
	(void)state;
	const char *bad[] = {
		"NoColon\r\n\r\n",     "Host : a\r\n\r\n",   /* whitespace before the colon */
		"Host\t: a\r\n\r\n",   "X: a\r\n b\r\n\r\n", /* obs-fold */
		"X: a\r\n\tb\r\n\r\n", " Host: a\r\n\r\n",   /* whitespace after the start line */
		": a\r\n\r\n",				     /* no name */
		"X(y): a\r\n\r\n",			     /* not a token */
		"X: a\rb\r\n\r\n",			     /* bare CR in a value */
		"X: a\r\r\n\r\n",      "X: a\r\n\r\r\n",     /* bare CR for the empty line */
		"Host: a b\r\n\r\n",			     /* not a host */
		"Host: a/b\r\n\r\n",   "Host: a\"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct http_fields f;
		if (parse(&f, bad[i]) != HTTP_FIELDS_INVALID)
			fail_msg("accepted: %s", bad[i]);
		/* And keeps saying so. */
		assert_int_equal(http_fields_byte(&f, '\n'), HTTP_FIELDS_INVALID);
	}
}

static void test_fields_control_characters_are_invalid(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 0x20; c++) {
		if (c == '\t' || c == '\r' || c == '\n')
			continue;
		char text[32];
		struct http_fields f;
		size_t taken;
		int n = snprintf(text, sizeof text, "X: a%cb\r\n\r\n", (char)c);
		assert_int_equal(parse_n(&f, text, (size_t)n, &taken), HTTP_FIELDS_INVALID);
		n = snprintf(text, sizeof text, "X%c: ab\r\n\r\n", (char)c);
		assert_int_equal(parse_n(&f, text, (size_t)n, &taken), HTTP_FIELDS_INVALID);
	}
	struct http_fields f;
	assert_int_equal(parse(&f, "X: a\x7f\r\n\r\n"), HTTP_FIELDS_INVALID);
	/* obs-text and HTAB are field content. */
	assert_int_equal(parse(&f, "X: caf\xc3\xa9\tok \r\n\r\n"), HTTP_FIELDS_END);
}

static void test_fields_content_length_one_value_or_its_repeats(void **state)
{
	(void)state;
	struct http_fields f;
	assert_int_equal(parse(&f, "Content-Length: 42\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.has_length && f.length == 42);
	assert_int_equal(parse(&f, "content-length:0\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.has_length && f.length == 0);
	assert_int_equal(parse(&f, "Content-Length: 7 , 7,7\r\nContent-Length: 007\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_true(f.has_length && f.length == 7);
	assert_int_equal(parse(&f, "Content-Length: 99999999999999999999999\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_true(f.length == UINT64_MAX);
	assert_int_equal(parse(&f, "X: 1\r\n\r\n"), HTTP_FIELDS_END);
	assert_false(f.has_length);

	const char *bad[] = {
		"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"Content-Length: 5, 6\r\n\r\n",
		"Content-Length:\r\n\r\n",
		"Content-Length: \r\n\r\n",
		"Content-Length: -1\r\n\r\n",
		"Content-Length: +1\r\n\r\n",
		"Content-Length: 0x10\r\n\r\n",
		"Content-Length: 1 2\r\n\r\n",
		"Content-Length: 1,\r\n\r\n",
		"Content-Length: ,1\r\n\r\n",
		"Content-Length: 1,,1\r\n\r\n",
		"Content-Length: 1.0\r\n\r\n",
		"Content-Length: \"1\"\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(&f, bad[i]) != HTTP_FIELDS_BAD_LENGTH)
			fail_msg("accepted: %s", bad[i]);
}

static void test_fields_connection_options_are_tokens_in_any_case(void **state)
{
	(void)state;
	struct http_fields f;
	assert_int_equal(parse(&f, "Connection: close\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.close && !f.keep_alive);
	assert_int_equal(parse(&f, "Connection: Upgrade,  KEEP-ALIVE \r\n\r\n"), HTTP_FIELDS_END);
	assert_true(!f.close && f.keep_alive);
	assert_int_equal(parse(&f, "Connection: x\r\nconnection: ,Close,\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_true(f.close);
	/* Not the tokens: longer names, parts of others, or elements with more in them. */
	assert_int_equal(parse(&f, "Connection: closed, keep-alive-ish, close-x, xclose\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_true(!f.close && !f.keep_alive);
	assert_int_equal(parse(&f, "Connection: close x, close;y, \"close\"\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_false(f.close);
	assert_int_equal(parse(&f, "X-Connection: close\r\n\r\n"), HTTP_FIELDS_END);
	assert_false(f.close);
	assert_int_equal(
		parse(&f, "Connection: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, close\r\n\r\n"),
		HTTP_FIELDS_END);
	assert_true(f.close);
}

static void test_fields_transfer_codings_are_counted(void **state)
{
	(void)state;
	struct http_fields f;
	assert_int_equal(parse(&f, "Transfer-Encoding: chunked\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.has_transfer_encoding && f.transfer_codings == 1 && f.chunked_last);
	assert_int_equal(parse(&f, "Transfer-Encoding: gzip, Chunked\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.transfer_codings == 2 && f.chunked_last);
	assert_int_equal(parse(&f, "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_true(f.transfer_codings == 2 && !f.chunked_last);
	assert_int_equal(parse(&f, "Transfer-Encoding: chunked;x=1\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.transfer_codings == 1 && !f.chunked_last);
	assert_int_equal(parse(&f, "Transfer-Encoding:\r\n\r\n"), HTTP_FIELDS_END);
	assert_true(f.has_transfer_encoding && f.transfer_codings == 0);
	assert_int_equal(parse(&f, "X: chunked\r\n\r\n"), HTTP_FIELDS_END);
	assert_false(f.has_transfer_encoding);
}

static void test_fields_hosts_are_counted_and_checked(void **state)
{
	(void)state;
	struct http_fields f;
	assert_int_equal(parse(&f, "Host: [fd6b:616e::8]:8080\r\nhost: a.example\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_int_equal(f.host_count, 2);
	assert_int_equal(parse(&f, "Host:\r\n\r\n"), HTTP_FIELDS_END);
	assert_int_equal(f.host_count, 1);
	assert_int_equal(parse(&f, "Hostname: a\r\nX-Host: b\r\n\r\n"), HTTP_FIELDS_END);
	assert_int_equal(f.host_count, 0);
}

/* Field lines "Xnnnn: vvv...\r\n" filling exactly `bytes` bytes in `count` lines. */
static size_t make_fields(char *text, unsigned count, size_t bytes)
{
	size_t len = 0, per = bytes / count;
	for (unsigned i = 0; i < count; i++) {
		size_t line = i + 1 < count ? per : bytes - len;
		int n = snprintf(text + len, 16, "X%04u: ", i);
		memset(text + len + n, 'v', line - (size_t)n - 2);
		memcpy(text + len + line - 2, "\r\n", 2);
		len += line;
	}
	memcpy(text + len, "\r\n", 3);
	return len + 2;
}

static void test_fields_section_limit_is_8k_of_field_lines(void **state)
{
	(void)state;
	static char text[HTTP_FIELDS_SECTION_MAX + 64];
	struct http_fields f;
	size_t taken;
	size_t len = make_fields(text, 4, HTTP_FIELDS_SECTION_MAX);
	assert_int_equal(parse_n(&f, text, len, &taken), HTTP_FIELDS_END);
	len = make_fields(text, 4, HTTP_FIELDS_SECTION_MAX + 1);
	assert_int_equal(parse_n(&f, text, len, &taken), HTTP_FIELDS_TOO_LARGE);
	assert_int_equal(taken, HTTP_FIELDS_SECTION_MAX + 1);
	/* One endless line is stopped at the limit too. */
	memset(text, 'a', sizeof text);
	text[1] = ':';
	assert_int_equal(parse_n(&f, text, sizeof text, &taken), HTTP_FIELDS_TOO_LARGE);
	assert_int_equal(taken, HTTP_FIELDS_SECTION_MAX + 1);
}

static void test_fields_count_limit_is_64(void **state)
{
	(void)state;
	static char text[HTTP_FIELDS_SECTION_MAX];
	struct http_fields f;
	size_t taken;
	size_t len = make_fields(text, HTTP_FIELDS_COUNT_MAX, 10 * HTTP_FIELDS_COUNT_MAX);
	assert_int_equal(parse_n(&f, text, len, &taken), HTTP_FIELDS_END);
	assert_int_equal(f.count, HTTP_FIELDS_COUNT_MAX);
	len = make_fields(text, HTTP_FIELDS_COUNT_MAX + 1, 10 * (HTTP_FIELDS_COUNT_MAX + 1));
	assert_int_equal(parse_n(&f, text, len, &taken), HTTP_FIELDS_TOO_LARGE);
	assert_int_equal(taken, 10 * HTTP_FIELDS_COUNT_MAX + 1);
}

static void test_fields_long_names_are_other_fields(void **state)
{
	(void)state;
	struct http_fields f;
	assert_int_equal(parse(&f, "Content-Length-And-Then-Some: x\r\n\r\n"), HTTP_FIELDS_END);
	assert_false(f.has_length);
	assert_int_equal(parse(&f, "Transfer-Encoding-Long-Name-Here: chunked\r\n\r\n"),
			 HTTP_FIELDS_END);
	assert_false(f.has_transfer_encoding);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_end_at_the_empty_line_crlf_or_lf),
		cmocka_unit_test(test_fields_syntax_errors_are_invalid),
		cmocka_unit_test(test_fields_control_characters_are_invalid),
		cmocka_unit_test(test_fields_content_length_one_value_or_its_repeats),
		cmocka_unit_test(test_fields_connection_options_are_tokens_in_any_case),
		cmocka_unit_test(test_fields_transfer_codings_are_counted),
		cmocka_unit_test(test_fields_hosts_are_counted_and_checked),
		cmocka_unit_test(test_fields_section_limit_is_8k_of_field_lines),
		cmocka_unit_test(test_fields_count_limit_is_64),
		cmocka_unit_test(test_fields_long_names_are_other_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
