/* The field-section parser (http_fields.h). Strict where leniency lets two parsers frame
 * one message differently (RFC 9112 §11.2): whitespace before a colon, obs-fold, a bare CR
 * and a doubtful Content-Length are errors, never guesses. */
#include <string.h>

#include "http_fields.h"
#include "http_text.h"

void http_fields_init(struct http_fields *f)
{
	memset(f, 0, sizeof *f);
	f->state = HTTP_FIELDS__LINE_START;
}

static enum http_fields_result fail(struct http_fields *f, enum http_fields_result why)
{
	f->state = HTTP_FIELDS__FAILED;
	f->failure = why;
	return why;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IP literal and port characters. */
static bool is_host_char(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	for (const char *p = "-._~!$&'()*+,;=%[]:"; *p != '\0'; p++)
		if (c == (uint8_t)*p)
			return true;
	return false;
}

static enum http_fields__kind kind_of(const char *name, unsigned len)
{
	if (http_text_equal_nocase(name, len, "host"))
		return HTTP_FIELDS__HOST;
	if (http_text_equal_nocase(name, len, "content-length"))
		return HTTP_FIELDS__CONTENT_LENGTH;
	if (http_text_equal_nocase(name, len, "transfer-encoding"))
		return HTTP_FIELDS__TRANSFER_ENCODING;
	if (http_text_equal_nocase(name, len, "connection"))
		return HTTP_FIELDS__CONNECTION;
	return HTTP_FIELDS__OTHER;
}

static void start_value(struct http_fields *f)
{
	f->kind = f->name_len <= HTTP_FIELDS_NAME_MAX ? kind_of(f->name, f->name_len)
						      : HTTP_FIELDS__OTHER;
	f->element = HTTP_FIELDS__BEFORE;
	if (f->kind == HTTP_FIELDS__HOST)
		f->host_count++;
	if (f->kind == HTTP_FIELDS__TRANSFER_ENCODING)
		f->has_transfer_encoding = true;
}

/* One element of a token list ended; `plain` says whether it was a lone token. */
static void end_list_element(struct http_fields *f, bool plain)
{
	bool fits = plain && f->token_len <= HTTP_FIELDS_TOKEN_MAX;
	if (f->kind == HTTP_FIELDS__TRANSFER_ENCODING) {
		f->transfer_codings++;
		f->chunked_last = fits && http_text_equal_nocase(f->token, f->token_len, "chunked");
	} else if (fits && http_text_equal_nocase(f->token, f->token_len, "close")) {
		f->close = true;
	} else if (fits && http_text_equal_nocase(f->token, f->token_len, "keep-alive")) {
		f->keep_alive = true;
	}
}

/* Connection and Transfer-Encoding: #token, with whatever else an element may hold (a
 * coding's parameters) read past as something that is not a plain token. */
static void list_byte(struct http_fields *f, uint8_t c)
{
	switch (f->element) {
	case HTTP_FIELDS__BEFORE:
		if (http_text_is_tchar(c)) {
			f->token[0] = (char)c;
			f->token_len = 1;
			f->element = HTTP_FIELDS__TOKEN;
		} else if (!is_ows(c) && c != ',') {
			f->element = HTTP_FIELDS__JUNK;
		}
		break;
	case HTTP_FIELDS__TOKEN:
		if (http_text_is_tchar(c)) {
			if (f->token_len < HTTP_FIELDS_TOKEN_MAX)
				f->token[f->token_len] = (char)c;
			if (f->token_len <= HTTP_FIELDS_TOKEN_MAX)
				f->token_len++;
		} else if (is_ows(c)) {
			f->element = HTTP_FIELDS__AFTER;
		} else if (c == ',') {
			end_list_element(f, true);
			f->element = HTTP_FIELDS__BEFORE;
		} else {
			f->element = HTTP_FIELDS__JUNK;
		}
		break;
	case HTTP_FIELDS__AFTER:
		if (c == ',') {
			end_list_element(f, true);
			f->element = HTTP_FIELDS__BEFORE;
		} else if (!is_ows(c)) {
			f->element = HTTP_FIELDS__JUNK;
		}
		break;
	case HTTP_FIELDS__JUNK:
		if (c == ',') {
			end_list_element(f, false);
			f->element = HTTP_FIELDS__BEFORE;
		}
		break;
	}
}

/* Content-Length = 1*DIGIT, and (RFC 9110 §8.6) a list of one value repeated is that
 * value; different values, an empty element or anything else is an error. */
static bool length_element_end(struct http_fields *f)
{
	if (f->has_length && f->length != f->number)
		return false;
	f->has_length = true;
	f->length = f->number;
	return true;
}

static bool length_byte(struct http_fields *f, uint8_t c)
{
	bool digit = c >= '0' && c <= '9';
	switch (f->element) {
	case HTTP_FIELDS__BEFORE:
		if (digit) {
			f->number = (uint64_t)(c - '0');
			f->element = HTTP_FIELDS__TOKEN;
			return true;
		}
		return is_ows(c);
	case HTTP_FIELDS__TOKEN:
		if (digit) {
			unsigned d = (unsigned)(c - '0');
			f->number =
				f->number > (UINT64_MAX - d) / 10 ? UINT64_MAX : f->number * 10 + d;
			return true;
		}
		if (is_ows(c)) {
			f->element = HTTP_FIELDS__AFTER;
			return true;
		}
		if (c == ',') {
			f->element = HTTP_FIELDS__BEFORE;
			return length_element_end(f);
		}
		return false;
	case HTTP_FIELDS__AFTER:
		if (c == ',') {
			f->element = HTTP_FIELDS__BEFORE;
			return length_element_end(f);
		}
		return is_ows(c);
	case HTTP_FIELDS__JUNK:
		break;
	}
	return false;
}

static bool host_byte(struct http_fields *f, uint8_t c)
{
	if (is_ows(c)) {
		if (f->element == HTTP_FIELDS__TOKEN)
			f->element = HTTP_FIELDS__AFTER;
		return true;
	}
	if (f->element == HTTP_FIELDS__AFTER || !is_host_char(c))
		return false;
	f->element = HTTP_FIELDS__TOKEN;
	return true;
}

static bool value_byte(struct http_fields *f, uint8_t c)
{
	switch (f->kind) {
	case HTTP_FIELDS__HOST:
		return host_byte(f, c);
	case HTTP_FIELDS__CONTENT_LENGTH:
		return length_byte(f, c);
	case HTTP_FIELDS__TRANSFER_ENCODING:
	case HTTP_FIELDS__CONNECTION:
		list_byte(f, c);
		return true;
	case HTTP_FIELDS__OTHER:
		break;
	}
	return true;
}

static bool value_end(struct http_fields *f)
{
	switch (f->kind) {
	case HTTP_FIELDS__CONTENT_LENGTH:
		return f->element != HTTP_FIELDS__BEFORE && length_element_end(f);
	case HTTP_FIELDS__TRANSFER_ENCODING:
	case HTTP_FIELDS__CONNECTION:
		if (f->element != HTTP_FIELDS__BEFORE)
			end_list_element(f, f->element != HTTP_FIELDS__JUNK);
		return true;
	case HTTP_FIELDS__HOST:
	case HTTP_FIELDS__OTHER:
		break;
	}
	return true;
}

enum http_fields_result http_fields_byte(struct http_fields *f, uint8_t c)
{
	if (f->state == HTTP_FIELDS__DONE)
		return HTTP_FIELDS_END;
	if (f->state == HTTP_FIELDS__FAILED)
		return f->failure;
	/* The empty line that ends the section is not a field line. */
	bool section_end = f->state == HTTP_FIELDS__END_CR ||
			   (f->state == HTTP_FIELDS__LINE_START && (c == '\r' || c == '\n'));
	if (!section_end && ++f->bytes > HTTP_FIELDS_SECTION_MAX)
		return fail(f, HTTP_FIELDS_TOO_LARGE);

	switch (f->state) {
	case HTTP_FIELDS__LINE_START:
		if (c == '\r') {
			f->state = HTTP_FIELDS__END_CR;
			return HTTP_FIELDS_MORE;
		}
		if (c == '\n') {
			f->state = HTTP_FIELDS__DONE;
			return HTTP_FIELDS_END;
		}
		/* Whitespace here is obs-fold, or whitespace after the start line: both are
		 * rejected (RFC 9112 §5.2, §2.2). */
		if (!http_text_is_tchar(c))
			return fail(f, HTTP_FIELDS_INVALID);
		if (++f->count > HTTP_FIELDS_COUNT_MAX)
			return fail(f, HTTP_FIELDS_TOO_LARGE);
		f->name[0] = (char)c;
		f->name_len = 1;
		f->state = HTTP_FIELDS__NAME;
		return HTTP_FIELDS_MORE;
	case HTTP_FIELDS__NAME:
		if (c == ':') {
			start_value(f);
			f->state = HTTP_FIELDS__VALUE;
			return HTTP_FIELDS_MORE;
		}
		/* No whitespace between name and colon (RFC 9112 §5.1), no line without one. */
		if (!http_text_is_tchar(c))
			return fail(f, HTTP_FIELDS_INVALID);
		if (f->name_len < HTTP_FIELDS_NAME_MAX)
			f->name[f->name_len] = (char)c;
		if (f->name_len <= HTTP_FIELDS_NAME_MAX)
			f->name_len++;
		return HTTP_FIELDS_MORE;
	case HTTP_FIELDS__VALUE:
		if (c == '\r') {
			f->state = HTTP_FIELDS__VALUE_CR;
			return HTTP_FIELDS_MORE;
		}
		if (c == '\n')
			break;
		if (!(is_ows(c) || http_text_is_field_vchar(c)))
			return fail(f, HTTP_FIELDS_INVALID);
		if (!value_byte(f, c))
			return fail(f, f->kind == HTTP_FIELDS__CONTENT_LENGTH
					       ? HTTP_FIELDS_BAD_LENGTH
					       : HTTP_FIELDS_INVALID);
		return HTTP_FIELDS_MORE;
	case HTTP_FIELDS__VALUE_CR:
		if (c != '\n')
			return fail(f, HTTP_FIELDS_INVALID);
		break;
	case HTTP_FIELDS__END_CR:
		if (c != '\n')
			return fail(f, HTTP_FIELDS_INVALID);
		f->state = HTTP_FIELDS__DONE;
		return HTTP_FIELDS_END;
	case HTTP_FIELDS__DONE:
	case HTTP_FIELDS__FAILED:
		return f->failure; /* not reached: both returned above */
	}
	/* A field line ended. */
	if (!value_end(f))
		return fail(f, HTTP_FIELDS_BAD_LENGTH);
	f->state = HTTP_FIELDS__LINE_START;
	return HTTP_FIELDS_MORE;
}
