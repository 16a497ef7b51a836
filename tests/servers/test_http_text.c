/* HTTP's text tools (servers/httpd/http_text.c): the character classes against RFC 9110's
 * lists, case-insensitive comparison, decimal numbers at their limits, and the bounded
 * writer's overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_text.h"

static void test_tchar_is_exactly_rfc_9110s_set(void **state)
{
	(void)state;
	const char *extra = "!#$%&'*+-.^_`|~";
	for (unsigned c = 0; c < 256; c++) {
		bool alnum =
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool listed = c != 0 && strchr(extra, (int)c) != NULL;
		assert_int_equal(http_text_is_tchar((uint8_t)c), alnum || listed);
	}
}

static void test_field_vchar_excludes_controls_space_and_del(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++)
		assert_int_equal(http_text_is_field_vchar((uint8_t)c), c > 0x20 && c != 0x7f);
}

static void test_hex_values_and_lower(void **state)
{
	(void)state;
	assert_int_equal(http_text_hex_value('0'), 0);
	assert_int_equal(http_text_hex_value('9'), 9);
	assert_int_equal(http_text_hex_value('a'), 10);
	assert_int_equal(http_text_hex_value('F'), 15);
	assert_int_equal(http_text_hex_value('g'), -1);
	assert_int_equal(http_text_hex_value('/'), -1);
	assert_int_equal(http_text_lower('Q'), 'q');
	assert_int_equal(http_text_lower('['), '[');
	assert_int_equal(http_text_lower(0xc4), 0xc4);
}

static void test_equal_nocase_needs_the_same_length(void **state)
{
	(void)state;
	assert_true(http_text_equal_nocase("Keep-Alive", 10, "keep-alive"));
	assert_true(http_text_equal_nocase("CLOSE", 5, "close"));
	assert_false(http_text_equal_nocase("close", 4, "close"));
	assert_false(http_text_equal_nocase("closed", 6, "close"));
	assert_true(http_text_equal_nocase("", 0, ""));
	assert_false(http_text_equal_nocase("cl\0se", 5, "close"));
}

static void test_parse_u64_takes_only_digits_up_to_its_maximum(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(http_text_parse_u64("0", 1, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(http_text_parse_u64("0010", 4, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(http_text_parse_u64("11", 2, 10, &v), -1);
	assert_int_equal(http_text_parse_u64("18446744073709551615", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(http_text_parse_u64("18446744073709551616", 20, UINT64_MAX, &v), -1);
	assert_int_equal(http_text_parse_u64("99999999999999999999999", 23, UINT64_MAX, &v), -1);
	v = 7;
	assert_int_equal(http_text_parse_u64("", 0, 10, &v), -1);
	assert_int_equal(http_text_parse_u64("+1", 2, 10, &v), -1);
	assert_int_equal(http_text_parse_u64("1 ", 2, 10, &v), -1);
	assert_int_equal(http_text_parse_u64("0x1", 3, 10, &v), -1);
	assert_true(v == 7); /* untouched on failure */
}

static void test_format_u64_writes_every_digit(void **state)
{
	(void)state;
	char digits[HTTP_TEXT_U64_DIGITS];
	assert_int_equal(http_text_format_u64(0, digits), 1);
	assert_memory_equal(digits, "0", 1);
	assert_int_equal(http_text_format_u64(1099511627776u, digits), 13);
	assert_memory_equal(digits, "1099511627776", 13);
	assert_int_equal(http_text_format_u64(UINT64_MAX, digits), 20);
	assert_memory_equal(digits, "18446744073709551615", 20);
}

static void test_out_drops_what_does_not_fit_and_says_so(void **state)
{
	(void)state;
	char buf[8];
	memset(buf, '#', sizeof buf);
	struct http_text_out out;
	http_text_out_init(&out, buf, 6);
	http_text_put(&out, "abc");
	http_text_put_u64(&out, 42);
	assert_false(out.overflow);
	assert_int_equal(out.len, 5);
	http_text_put(&out, "de");
	assert_true(out.overflow);
	http_text_put_n(&out, "f", 1);
	assert_int_equal(out.len, 6);
	assert_memory_equal(buf, "abc42f##", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tchar_is_exactly_rfc_9110s_set),
		cmocka_unit_test(test_field_vchar_excludes_controls_space_and_del),
		cmocka_unit_test(test_hex_values_and_lower),
		cmocka_unit_test(test_equal_nocase_needs_the_same_length),
		cmocka_unit_test(test_parse_u64_takes_only_digits_up_to_its_maximum),
		cmocka_unit_test(test_format_u64_writes_every_digit),
		cmocka_unit_test(test_out_drops_what_does_not_fit_and_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
