/* HTTP's text tools (http_text.h), written out rather than taken from <ctype.h> or
 * <stdlib.h>: those follow the locale, and the x86 port's C library has neither. */
#include <string.h>

#include "http_text.h"

bool http_text_is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

bool http_text_is_field_vchar(uint8_t c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

int http_text_hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t http_text_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

bool http_text_equal_nocase(const char *s, size_t len, const char *lower)
{
	for (size_t i = 0; i < len; i++)
		if (lower[i] == '\0' || http_text_lower((uint8_t)s[i]) != (uint8_t)lower[i])
			return false;
	return lower[len] == '\0';
}

int http_text_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret_value)
{
	if (len == 0)
		return -1;
	uint64_t value = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned digit = (unsigned)(s[i] - '0');
		if (value > (max - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*ret_value = value;
	return 0;
}

size_t http_text_format_u64(uint64_t value, char ret_digits[HTTP_TEXT_U64_DIGITS])
{
	char reversed[HTTP_TEXT_U64_DIGITS];
	size_t n = 0;
	do {
		reversed[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	for (size_t i = 0; i < n; i++)
		ret_digits[i] = reversed[n - 1 - i];
	return n;
}

void http_text_out_init(struct http_text_out *out, char *data, size_t size)
{
	*out = (struct http_text_out){.data = data, .size = size};
}

void http_text_put_n(struct http_text_out *out, const char *s, size_t len)
{
	if (len > out->size - out->len) {
		out->overflow = true;
		return;
	}
	memcpy(out->data + out->len, s, len);
	out->len += len;
}

void http_text_put(struct http_text_out *out, const char *s)
{
	http_text_put_n(out, s, strlen(s));
}

void http_text_put_u64(struct http_text_out *out, uint64_t value)
{
	char digits[HTTP_TEXT_U64_DIGITS];
	http_text_put_n(out, digits, http_text_format_u64(value, digits));
}
