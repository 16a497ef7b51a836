/* The client's side (http_client.h): URLs, requests, and a response parser that reads the
 * head a byte at a time and the body in runs, handing each run to the caller as it comes.
 * Every byte count that frames the body is checked before it is used, so a hostile server
 * can end a response early or wrongly, but never make the parser read past its input. */
#include <string.h>

#include "http_client.h"
#include "http_text.h"

#define USER_AGENT "PackOS-http"

const char *http_client_strerror(int result)
{
	switch (result) {
	case HTTP_CLIENT_MORE:
		return "response incomplete";
	case HTTP_CLIENT_DONE:
		return "response complete";
	case HTTP_CLIENT_ESCHEME:
		return "not an http:// URL";
	case HTTP_CLIENT_EHOST:
		return "bad host in URL";
	case HTTP_CLIENT_EPORT:
		return "bad port in URL";
	case HTTP_CLIENT_EPATH:
		return "bad path in URL";
	case HTTP_CLIENT_ESPACE:
		return "request too long for its buffer";
	case HTTP_CLIENT_ESTATUS:
		return "malformed status line";
	case HTTP_CLIENT_EVERSION:
		return "response is not HTTP/1.x";
	case HTTP_CLIENT_EFIELD:
		return "malformed header field";
	case HTTP_CLIENT_ETOOLARGE:
		return "response head too large";
	case HTTP_CLIENT_ELENGTH:
		return "invalid Content-Length";
	case HTTP_CLIENT_ECODING:
		return "unsupported Transfer-Encoding";
	case HTTP_CLIENT_ECHUNK:
		return "malformed chunk";
	case HTTP_CLIENT_ETRUNCATED:
		return "connection closed before the response ended";
	default:
		return "unknown result";
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dec-octet "." dec-octet "." dec-octet "." dec-octet (RFC 3986 §3.2.2): no leading zeros,
 * which some parsers read as octal. */
static bool valid_ipv4(const char *s, size_t len)
{
	size_t i = 0;
	for (unsigned part = 0; part < 4; part++) {
		if (part > 0 && (i == len || s[i++] != '.'))
			return false;
		size_t start = i;
		unsigned value = 0;
		while (i < len && is_digit(s[i]) && i - start < 3)
			value = value * 10 + (unsigned)(s[i++] - '0');
		size_t digits = i - start;
		if (digits == 0 || value > 255 || (digits > 1 && s[start] == '0'))
			return false;
	}
	return i == len;
}

/* RFC 4291 §2.2's text forms: eight groups of one to four hex digits, one "::" standing
 * for one or more groups of zeros, and a dotted IPv4 address as the last two groups. */
static bool valid_ipv6(const char *s, size_t len)
{
	unsigned groups = 0;
	bool compressed = false;
	size_t i = 0;
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		compressed = true;
		i = 2;
	}
	while (i < len) {
		size_t j = i;
		while (j < len && http_text_hex_value((uint8_t)s[j]) >= 0 && j - i < 5)
			j++;
		if (j < len && s[j] == '.') {
			if (groups > 6 || !valid_ipv4(s + i, len - i))
				return false;
			groups += 2;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		i = j;
		if (i == len)
			break;
		if (s[i++] != ':' || i == len)
			return false;
		if (s[i] == ':') {
			if (compressed)
				return false;
			compressed = true;
			i++;
		}
	}
	return compressed ? groups <= 7 : groups == 8;
}

/* A DNS name (RFC 1123 §2.1): labels of letters, digits and inner hyphens. */
static bool valid_name(const char *s, size_t len)
{
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(s[i]) || (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool all_digits_and_dots(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return false;
	return true;
}

/* The host of the authority [s, end): sets u's host and kind, and *ret_end to what follows
 * it. */
static int parse_host(const char *s, const char *end, struct http_client_url *u,
		      const char **ret_end)
{
	const char *host = s, *host_end;
	if (s < end && *s == '[') {
		host = s + 1;
		host_end = host;
		while (host_end < end && *host_end != ']')
			host_end++;
		if (host_end == end || !valid_ipv6(host, (size_t)(host_end - host)))
			return HTTP_CLIENT_EHOST;
		u->host_kind = HTTP_CLIENT_HOST_IPV6;
		*ret_end = host_end + 1;
	} else {
		host_end = s;
		while (host_end < end && *host_end != ':')
			host_end++;
		size_t len = (size_t)(host_end - host);
		if (len == 0 || len > HTTP_CLIENT_HOST_MAX)
			return HTTP_CLIENT_EHOST;
		if (all_digits_and_dots(host, len)) {
			if (!valid_ipv4(host, len))
				return HTTP_CLIENT_EHOST;
			u->host_kind = HTTP_CLIENT_HOST_IPV4;
		} else if (valid_name(host, len)) {
			u->host_kind = HTTP_CLIENT_HOST_NAME;
		} else {
			return HTTP_CLIENT_EHOST;
		}
		*ret_end = host_end;
	}
	memcpy(u->host, host, (size_t)(host_end - host));
	u->host[host_end - host] = '\0';
	return 0;
}

int http_client_parse_url(const char *url, struct http_client_url *ret_url)
{
	/* Built aside, so *ret_url is untouched on failure. */
	struct http_client_url u = {.port = 80};
	size_t len = strlen(url);
	if (len < 7 || !http_text_equal_nocase(url, 7, "http://"))
		return HTTP_CLIENT_ESCHEME;
	const char *p = url + 7, *end = url + len;
	const char *authority_end = p;
	while (authority_end < end && *authority_end != '/' && *authority_end != '?' &&
	       *authority_end != '#') {
		if (*authority_end == '@')
			return HTTP_CLIENT_EHOST; /* user information (RFC 9110 §4.2.4) */
		authority_end++;
	}
	int err = parse_host(p, authority_end, &u, &p);
	if (err < 0)
		return err;
	if (p < authority_end) {
		if (*p++ != ':')
			return HTTP_CLIENT_EHOST;
		uint64_t port;
		/* An empty port is the default (RFC 3986 §3.2.3). */
		size_t digits = (size_t)(authority_end - p);
		if (digits > 0) {
			if (http_text_parse_u64(p, digits, 65535, &port) != 0 || port == 0)
				return HTTP_CLIENT_EPORT;
			u.port = (uint16_t)port;
		}
	}

	const char *path = authority_end, *path_end = path;
	while (path_end < end && *path_end != '#')
		path_end++;
	size_t path_len = 0;
	if (path == path_end || *path != '/')
		u.path[path_len++] = '/';
	if (path_len + (size_t)(path_end - path) > HTTP_CLIENT_PATH_MAX)
		return HTTP_CLIENT_EPATH;
	for (const char *c = path; c < path_end; c++) {
		if ((uint8_t)*c <= ' ' || (uint8_t)*c >= 0x7f)
			return HTTP_CLIENT_EPATH;
		u.path[path_len++] = *c;
	}
	u.path[path_len] = '\0';
	*ret_url = u;
	return 0;
}

int http_client_format_request(const struct http_client_url *url, unsigned flags, char *buf,
			       size_t size)
{
	struct http_text_out out;
	http_text_out_init(&out, buf, size);
	http_text_put(&out, flags & HTTP_CLIENT_HEAD ? "HEAD " : "GET ");
	http_text_put(&out, url->path);
	http_text_put(&out, " HTTP/1.1\r\nHost: ");
	bool ipv6 = url->host_kind == HTTP_CLIENT_HOST_IPV6;
	http_text_put(&out, ipv6 ? "[" : "");
	http_text_put(&out, url->host);
	http_text_put(&out, ipv6 ? "]" : "");
	if (url->port != 80) {
		http_text_put(&out, ":");
		http_text_put_u64(&out, url->port);
	}
	http_text_put(&out, "\r\nUser-Agent: " USER_AGENT "\r\nAccept: */*\r\n");
	if (!(flags & HTTP_CLIENT_KEEP_ALIVE))
		http_text_put(&out, "Connection: close\r\n");
	http_text_put(&out, "\r\n");
	return out.overflow ? HTTP_CLIENT_ESPACE : (int)out.len;
}

void http_client_response_init(struct http_client_response *r, bool head_request,
			       http_client_body_fn on_body, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->head_request = head_request;
	r->on_body = on_body;
	r->ctx = ctx;
	r->phase = HTTP_CLIENT__STATUS_LINE;
}

static int fail(struct http_client_response *r, int error)
{
	r->phase = HTTP_CLIENT__FAILED;
	r->error = error;
	return error;
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ]: the reason (checked as it came) may be
 * empty and its SP missing, as some servers send it. */
static int end_status_line(struct http_client_response *r)
{
	const char *l = r->line;
	if (r->line_len < 12 || memcmp(l, "HTTP/", 5) != 0 || !is_digit(l[5]) || l[6] != '.' ||
	    !is_digit(l[7]) || l[8] != ' ' || !is_digit(l[9]) || !is_digit(l[10]) ||
	    !is_digit(l[11]) || (r->line_len > 12 && l[12] != ' '))
		return fail(r, HTTP_CLIENT_ESTATUS);
	if (l[5] != '1')
		return fail(r, HTTP_CLIENT_EVERSION);
	r->minor = (unsigned)(l[7] - '0');
	r->status = (unsigned)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
	/* We never ask to switch protocols. */
	if (r->status < 100 || r->status > 599 || r->status == 101)
		return fail(r, HTTP_CLIENT_ESTATUS);
	http_fields_init(&r->fields);
	r->phase = HTTP_CLIENT__FIELDS;
	return HTTP_CLIENT_MORE;
}

static int status_byte(struct http_client_response *r, uint8_t c)
{
	if (r->phase == HTTP_CLIENT__STATUS_LF)
		return c == '\n' ? end_status_line(r) : fail(r, HTTP_CLIENT_ESTATUS);
	if (c == '\r') {
		r->phase = HTTP_CLIENT__STATUS_LF;
		return HTTP_CLIENT_MORE;
	}
	if (c == '\n')
		return end_status_line(r);
	if (++r->line_len > HTTP_CLIENT_STATUS_LINE_MAX)
		return fail(r, HTTP_CLIENT_ETOOLARGE);
	if (c != ' ' && c != '\t' && !http_text_is_field_vchar(c))
		return fail(r, HTTP_CLIENT_ESTATUS);
	if (r->line_len <= sizeof r->line)
		r->line[r->line_len - 1] = (char)c;
	return HTTP_CLIENT_MORE;
}

/* The header section is read: how is the body framed (RFC 9112 §6.3)? */
static int end_head(struct http_client_response *r)
{
	const struct http_fields *f = &r->fields;
	if (r->status < 200) {
		/* An interim response: the final one follows. */
		r->line_len = 0;
		r->phase = HTTP_CLIENT__STATUS_LINE;
		return HTTP_CLIENT_MORE;
	}
	r->head_done = true;
	r->keep_alive = r->minor >= 1 ? !f->close : f->keep_alive && !f->close;
	if (r->head_request || r->status == 204 || r->status == 304) {
		r->framing = HTTP_CLIENT_NO_BODY;
		r->phase = HTTP_CLIENT__DONE;
		return HTTP_CLIENT_DONE;
	}
	if (f->has_transfer_encoding) {
		if (f->transfer_codings != 1 || !f->chunked_last)
			return fail(r, HTTP_CLIENT_ECODING);
		/* Chunked wins over a Content-Length, but such a response may be an attempt
		 * at smuggling: do not trust the connection after it (RFC 9112 §6.3). */
		if (f->has_length)
			r->keep_alive = false;
		r->framing = HTTP_CLIENT_CHUNKED;
		r->left = 0;
		r->chunk_digits = 0;
		r->line_len = 0;
		r->phase = HTTP_CLIENT__CHUNK_SIZE;
		return HTTP_CLIENT_MORE;
	}
	if (f->has_length) {
		r->framing = HTTP_CLIENT_LENGTH;
		r->content_length = r->left = f->length;
		r->phase = r->left > 0 ? HTTP_CLIENT__LENGTH : HTTP_CLIENT__DONE;
		return r->left > 0 ? HTTP_CLIENT_MORE : HTTP_CLIENT_DONE;
	}
	r->framing = HTTP_CLIENT_UNTIL_CLOSE;
	r->keep_alive = false;
	r->phase = HTTP_CLIENT__UNTIL_CLOSE;
	return HTTP_CLIENT_MORE;
}

static int fields_byte(struct http_client_response *r, uint8_t c, bool trailer)
{
	switch (http_fields_byte(&r->fields, c)) {
	case HTTP_FIELDS_MORE:
		return HTTP_CLIENT_MORE;
	case HTTP_FIELDS_END:
		if (!trailer)
			return end_head(r);
		r->phase = HTTP_CLIENT__DONE;
		return HTTP_CLIENT_DONE;
	case HTTP_FIELDS_INVALID:
		return fail(r, HTTP_CLIENT_EFIELD);
	case HTTP_FIELDS_BAD_LENGTH:
		return fail(r, HTTP_CLIENT_ELENGTH);
	case HTTP_FIELDS_TOO_LARGE:
		break;
	}
	return fail(r, HTTP_CLIENT_ETOOLARGE);
}

/* The chunk size line (RFC 9112 §7.1): chunk-size [ BWS ";" extensions ] CRLF, with the
 * extensions read past; the line's length is bounded so they cannot go on forever. */
static int chunk_line_byte(struct http_client_response *r, uint8_t c)
{
	if (++r->line_len > HTTP_CLIENT_CHUNK_LINE_MAX)
		return fail(r, HTTP_CLIENT_ECHUNK);
	bool line_end = c == '\r' || c == '\n';
	switch (r->phase) {
	case HTTP_CLIENT__CHUNK_SIZE: {
		int digit = http_text_hex_value(c);
		if (digit >= 0) {
			if (r->left > (HTTP_CLIENT_CHUNK_SIZE_MAX - (uint64_t)digit) / 16)
				return fail(r, HTTP_CLIENT_ECHUNK);
			r->left = r->left * 16 + (uint64_t)digit;
			r->chunk_digits++;
			return HTTP_CLIENT_MORE;
		}
		if (r->chunk_digits == 0)
			return fail(r, HTTP_CLIENT_ECHUNK);
		if (c == ' ' || c == '\t')
			r->phase = HTTP_CLIENT__CHUNK_BWS;
		else if (c == ';')
			r->phase = HTTP_CLIENT__CHUNK_EXT;
		else if (!line_end)
			return fail(r, HTTP_CLIENT_ECHUNK);
		break;
	}
	case HTTP_CLIENT__CHUNK_BWS:
		if (c == ';')
			r->phase = HTTP_CLIENT__CHUNK_EXT;
		else if (c != ' ' && c != '\t' && !line_end)
			return fail(r, HTTP_CLIENT_ECHUNK);
		break;
	case HTTP_CLIENT__CHUNK_EXT:
		if (c != ' ' && c != '\t' && !line_end && !http_text_is_field_vchar(c))
			return fail(r, HTTP_CLIENT_ECHUNK);
		break;
	case HTTP_CLIENT__CHUNK_SIZE_LF:
		if (c != '\n')
			return fail(r, HTTP_CLIENT_ECHUNK);
		break;
	default:
		return fail(r, HTTP_CLIENT_ECHUNK); /* not reached */
	}
	if (c == '\r' && r->phase != HTTP_CLIENT__CHUNK_SIZE_LF) {
		r->phase = HTTP_CLIENT__CHUNK_SIZE_LF;
		return HTTP_CLIENT_MORE;
	}
	if (c != '\n')
		return HTTP_CLIENT_MORE;
	/* The size line ended: data, or the last chunk and the trailer section. */
	if (r->left > 0) {
		r->phase = HTTP_CLIENT__CHUNK_DATA;
	} else {
		http_fields_init(&r->fields);
		r->phase = HTTP_CLIENT__TRAILER;
	}
	return HTTP_CLIENT_MORE;
}

static int chunk_end_byte(struct http_client_response *r, uint8_t c)
{
	if (r->phase == HTTP_CLIENT__CHUNK_DATA_END && c == '\r') {
		r->phase = HTTP_CLIENT__CHUNK_DATA_LF;
		return HTTP_CLIENT_MORE;
	}
	if (c != '\n')
		return fail(r, HTTP_CLIENT_ECHUNK);
	r->line_len = 0;
	r->chunk_digits = 0;
	r->phase = HTTP_CLIENT__CHUNK_SIZE;
	return HTTP_CLIENT_MORE;
}

/* Hands the body bytes at the start of data[0, len) to the caller: all of them, or those
 * left of the body or chunk. Returns how many. */
static size_t deliver(struct http_client_response *r, const uint8_t *data, size_t len, bool bounded)
{
	size_t take = bounded && r->left < len ? (size_t)r->left : len;
	if (take > 0 && r->on_body != NULL)
		r->on_body(r->ctx, data, take);
	r->body_received += take;
	if (bounded)
		r->left -= take;
	return take;
}

int http_client_feed(struct http_client_response *r, const uint8_t *data, size_t len,
		     size_t *ret_consumed)
{
	size_t i = 0;
	int result = HTTP_CLIENT_MORE;
	while (i < len && result == HTTP_CLIENT_MORE) {
		switch (r->phase) {
		case HTTP_CLIENT__STATUS_LINE:
		case HTTP_CLIENT__STATUS_LF:
			result = status_byte(r, data[i++]);
			break;
		case HTTP_CLIENT__FIELDS:
			result = fields_byte(r, data[i++], false);
			break;
		case HTTP_CLIENT__LENGTH:
			i += deliver(r, data + i, len - i, true);
			if (r->left == 0) {
				r->phase = HTTP_CLIENT__DONE;
				result = HTTP_CLIENT_DONE;
			}
			break;
		case HTTP_CLIENT__UNTIL_CLOSE:
			i += deliver(r, data + i, len - i, false);
			break;
		case HTTP_CLIENT__CHUNK_SIZE:
		case HTTP_CLIENT__CHUNK_BWS:
		case HTTP_CLIENT__CHUNK_EXT:
		case HTTP_CLIENT__CHUNK_SIZE_LF:
			result = chunk_line_byte(r, data[i++]);
			break;
		case HTTP_CLIENT__CHUNK_DATA:
			i += deliver(r, data + i, len - i, true);
			if (r->left == 0)
				r->phase = HTTP_CLIENT__CHUNK_DATA_END;
			break;
		case HTTP_CLIENT__CHUNK_DATA_END:
		case HTTP_CLIENT__CHUNK_DATA_LF:
			result = chunk_end_byte(r, data[i++]);
			break;
		case HTTP_CLIENT__TRAILER:
			result = fields_byte(r, data[i++], true);
			break;
		case HTTP_CLIENT__DONE:
			result = HTTP_CLIENT_DONE;
			break;
		case HTTP_CLIENT__FAILED:
			result = r->error;
			break;
		}
	}
	if (r->phase == HTTP_CLIENT__DONE)
		result = HTTP_CLIENT_DONE;
	else if (r->phase == HTTP_CLIENT__FAILED)
		result = r->error;
	*ret_consumed = i;
	return result;
}

int http_client_finish(struct http_client_response *r)
{
	if (r->phase == HTTP_CLIENT__UNTIL_CLOSE)
		r->phase = HTTP_CLIENT__DONE;
	if (r->phase == HTTP_CLIENT__DONE)
		return HTTP_CLIENT_DONE;
	if (r->phase == HTTP_CLIENT__FAILED)
		return r->error;
	return fail(r, HTTP_CLIENT_ETRUNCATED);
}
