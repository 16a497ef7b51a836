/* The small text tools HTTP needs and a freestanding libc may lack: the RFC 9110 character
 * classes, case-insensitive comparison, decimal numbers in and out, and a bounded writer.
 * Nothing here allocates or reads past the lengths it is given; strings are counted, not
 * NUL-terminated, unless a parameter says otherwise. */
#ifndef HTTP_TEXT_H
#define HTTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_TEXT_U64_DIGITS 20u /* decimal digits of UINT64_MAX */

/* tchar (RFC 9110 §5.6.2): the characters of a token, such as a method or a field name. */
bool http_text_is_tchar(uint8_t c);
/* field-vchar (RFC 9110 §5.5): VCHAR or obs-text; a field value may also hold SP and HTAB. */
bool http_text_is_field_vchar(uint8_t c);
/* The value of a hexadecimal digit, or -1. */
int http_text_hex_value(uint8_t c);
uint8_t http_text_lower(uint8_t c);

/* Whether the `len` bytes at `s` equal `lower`, a NUL-terminated lower-case string, in
 * ASCII without regard to case. */
bool http_text_equal_nocase(const char *s, size_t len, const char *lower);

/* Parses the `len` bytes at `s` as 1*DIGIT no greater than `max`: 0 and *ret_value, or -1
 * (empty, another character, or too large). */
int http_text_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret_value);

/* Writes `value` in decimal, without a NUL; returns the digits written. */
size_t http_text_format_u64(uint64_t value, char ret_digits[HTTP_TEXT_U64_DIGITS]);

/* A bounded writer: what does not fit is dropped and remembered, so a sequence of puts can
 * be checked once at the end. */
struct http_text_out {
	char *data;
	size_t size, len;
	bool overflow; /* something was dropped */
};

void http_text_out_init(struct http_text_out *out, char *data, size_t size);
void http_text_put(struct http_text_out *out, const char *s); /* NUL-terminated */
void http_text_put_n(struct http_text_out *out, const char *s, size_t len);
void http_text_put_u64(struct http_text_out *out, uint64_t value);

#endif
