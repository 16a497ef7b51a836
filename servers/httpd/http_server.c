/* The server's side of a connection (http_server.h): a byte-at-a-time parser of the request
 * line, the field section (http_fields.c) and the body it drops, then the choice of an
 * answer, then a response sent from a small head buffer and a body source that generates
 * or copies only as much as the caller has room for. */
#include <string.h>

#include "http_bytes.h"
#include "http_mime.h"
#include "http_server.h"
#include "http_site.h"
#include "http_text.h"

#define SERVER_NAME "PackOS-httpd"
#define HTML_TYPE   "text/html; charset=utf-8"
#define PAGE_MAX    256u /* an error's or a redirect's page (status_page) */
/* A head's lines but a Location's value, at most: the longest status line (46 bytes), Server
 * (22), Location's name (12), Allow (18), Content-Type (46), Content-Length (38),
 * Connection (24) and the empty line, with room to spare. */
#define HEAD_FIXED_MAX 256u

_Static_assert(HTTP_SERVER_HEAD_SIZE >= HEAD_FIXED_MAX + HTTP_SITE_PATH_MAX + PAGE_MAX,
	       "every response head, with its page, fits the head buffer");

void http_server_init(struct http_server_conn *conn)
{
	memset(conn, 0, sizeof *conn);
	conn->phase = HTTP_SERVER__METHOD;
}

static const char *reason_of(unsigned status)
{
	switch (status) {
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* An error's or a redirect's body: a page that names the status, and nothing the client
 * sent, so nothing needs escaping. */
static size_t status_page(unsigned status, char *page, size_t size)
{
	struct http_text_out out;
	http_text_out_init(&out, page, size);
	for (unsigned i = 0; i < 2; i++) {
		http_text_put(&out, i == 0 ? "<!DOCTYPE html>\n<html><head><title>"
					   : "</title></head>\n<body><h1>");
		http_text_put_u64(&out, status);
		http_text_put(&out, " ");
		http_text_put(&out, reason_of(status));
	}
	http_text_put(&out, "</h1><p>" SERVER_NAME "</p></body></html>\n");
	return out.len;
}

/* Builds the response to send for `status` from what conn->body, file, body_size and
 * location say, and makes it the pending output. */
static void respond(struct http_server_conn *conn, unsigned status, const char *type)
{
	if (status >= 400)
		conn->close = true;
	char page[PAGE_MAX];
	size_t page_len = 0;
	if (status >= 300) {
		page_len = status_page(status, page, sizeof page);
		type = HTML_TYPE;
		conn->body = HTTP_SERVER__BODY_NONE;
		conn->body_size = 0;
	}
	uint64_t length = conn->body_size + page_len;
	if (conn->head_request) {
		conn->body = HTTP_SERVER__BODY_NONE;
		conn->body_size = 0;
		page_len = 0;
	}

	struct http_text_out out;
	http_text_out_init(&out, conn->head, sizeof conn->head);
	http_text_put(&out, "HTTP/1.1 ");
	http_text_put_u64(&out, status);
	http_text_put(&out, " ");
	http_text_put(&out, reason_of(status));
	http_text_put(&out, "\r\nServer: " SERVER_NAME "\r\n");
	if (status == 301) {
		http_text_put(&out, "Location: ");
		http_text_put_n(&out, conn->location, conn->location_len);
		http_text_put(&out, "\r\n");
	}
	if (status == 405)
		http_text_put(&out, "Allow: GET, HEAD\r\n");
	http_text_put(&out, "Content-Type: ");
	http_text_put(&out, type);
	http_text_put(&out, "\r\nContent-Length: ");
	http_text_put_u64(&out, length);
	http_text_put(&out, "\r\n");
	if (conn->close)
		http_text_put(&out, "Connection: close\r\n");
	else if (conn->minor == 0)
		http_text_put(&out, "Connection: keep-alive\r\n");
	http_text_put(&out, "\r\n");
	http_text_put_n(&out, page, page_len);
	conn->status = status;
	if (out.overflow) {
		/* Not reached (the assertion on HTTP_SERVER_HEAD_SIZE); were it, sending
		 * nothing and closing is the one answer that cannot mislead the client. */
		conn->close = true;
		conn->phase = HTTP_SERVER__CLOSED;
		return;
	}
	conn->requests++;
	conn->head_len = out.len;
	conn->head_sent = 0;
	conn->body_sent = 0;
	conn->phase = HTTP_SERVER__RESPONSE;
}

static void respond_error(struct http_server_conn *conn, unsigned status)
{
	respond(conn, status, HTML_TYPE);
}

/* pchar (RFC 3986 §3.3) and "/", but not "%": escapes are checked as they are decoded. */
static bool is_path_char(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	for (const char *p = "-._~!$&'()*+,;=:@/"; *p != '\0'; p++)
		if (c == (uint8_t)*p)
			return true;
	return false;
}

/* Removes "." and ".." segments (RFC 3986 §5.2.4) from the `*len`-byte absolute path in
 * place. A ".." with nothing left to remove climbs above the root: false. */
static bool remove_dot_segments(char *path, size_t *len)
{
	size_t in = 0, out = 0, end = *len;
	bool trailing = false; /* the path ends in a directory the dots named */
	while (in < end) {
		size_t seg = in + 1, seg_end = seg;
		while (seg_end < end && path[seg_end] != '/')
			seg_end++;
		size_t seg_len = seg_end - seg;
		in = seg_end;
		if (seg_len == 1 && path[seg] == '.') {
			trailing = true;
		} else if (seg_len == 2 && path[seg] == '.' && path[seg + 1] == '.') {
			if (out == 0)
				return false;
			while (out > 0 && path[out - 1] != '/')
				out--;
			out--; /* the "/" before the removed segment */
			trailing = true;
		} else {
			path[out++] = '/';
			memmove(path + out, path + seg, seg_len);
			out += seg_len;
			trailing = false;
		}
	}
	if (trailing || out == 0)
		path[out++] = '/';
	*len = out;
	return true;
}

/* Turns conn->target into the decoded path it names, without dot segments, at the start
 * of conn->target; 0, or the error status. */
static unsigned target_to_path(struct http_server_conn *conn, size_t *ret_len)
{
	char *t = conn->target;
	size_t len = conn->target_len, start;
	/* A fragment is the client's business, never part of a request (RFC 9112 §3.2). */
	for (size_t i = 0; i < len; i++)
		if (t[i] == '#')
			return 400;
	if (len > 0 && t[0] == '/') {
		start = 0;
	} else if (len > 7 && http_text_equal_nocase(t, 7, "http://")) {
		/* Absolute form (RFC 9112 §3.2.2): the authority is not ours to check against
		 * anything, as this server has one site whatever the name. */
		start = 7;
		while (start < len && t[start] != '/' && t[start] != '?')
			start++;
		if (start == 7)
			return 400;
	} else {
		return 400; /* "*", authority form, or nothing that is a URI */
	}
	size_t end = start;
	while (end < len && t[end] != '?')
		end++;

	size_t out = 0;
	if (start == end)
		t[out++] = '/';
	for (size_t i = start; i < end; i++) {
		uint8_t c = (uint8_t)t[i];
		if (c == '%') {
			int hi = i + 2 < end ? http_text_hex_value((uint8_t)t[i + 1]) : -1;
			int lo = i + 2 < end ? http_text_hex_value((uint8_t)t[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return 400;
			c = (uint8_t)(hi * 16 + lo);
			i += 2;
		} else if (!is_path_char(c)) {
			return 400;
		}
		t[out++] = (char)c;
	}
	if (!remove_dot_segments(t, &out))
		return 400;
	*ret_len = out;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

/* What the complete, well-formed request asks for: sets the body's source or the
 * redirect's location, and returns the status. */
static unsigned choose_answer(struct http_server_conn *conn, const char **ret_type)
{
	size_t len;
	unsigned status = target_to_path(conn, &len);
	if (status != 0)
		return status;
	bool get = conn->method_len == 3 && memcmp(conn->method, "GET", 3) == 0;
	if (!get && !conn->head_request)
		return 405;

	char *path = conn->target;
	if (has_prefix(path, len, "/bytes/")) {
		size_t skip = sizeof "/bytes/" - 1;
		uint64_t n;
		if (http_text_parse_u64(path + skip, len - skip, HTTP_BYTES_MAX, &n) != 0)
			return 404;
		conn->body = HTTP_SERVER__BODY_BYTES;
		conn->body_size = n;
		*ret_type = HTTP_MIME_DEFAULT;
		return 200;
	}
	bool directory = path[len - 1] == '/';
	const char *index = directory ? "index.html" : "/index.html";
	memcpy(path + len, index, strlen(index));
	size_t index_len = len + strlen(index);
	const struct http_site_file *f = http_site_find(path, directory ? index_len : len);
	if (f != NULL) {
		conn->body = HTTP_SERVER__BODY_FILE;
		conn->file = f->data;
		conn->body_size = f->size;
		*ret_type = http_mime_type(f->path, strlen(f->path));
		return 200;
	}
	if (!directory && (f = http_site_find(path, index_len)) != NULL) {
		/* The Location comes from the table, not the request: no escaping needed. */
		conn->location = f->path;
		conn->location_len = strlen(f->path) - strlen("index.html");
		return 301;
	}
	return 404;
}

static void answer(struct http_server_conn *conn)
{
	const char *type = HTML_TYPE;
	unsigned status = choose_answer(conn, &type);
	respond(conn, status, type);
}

/* The field section is complete: check what frames the request, then answer it, or read
 * its body first. */
static void end_head(struct http_server_conn *conn)
{
	const struct http_fields *f = &conn->fields;
	conn->close = conn->minor == 1 ? f->close : f->close || !f->keep_alive;
	conn->body_left = f->has_length ? f->length : 0;
	if ((conn->minor == 1 && f->host_count == 0) || f->host_count > 1)
		respond_error(conn, 400);
	else if (f->has_transfer_encoding) /* no chunked uploads (and no other coding) */
		respond_error(conn, 501);
	else if (conn->body_left > HTTP_SERVER_BODY_MAX)
		respond_error(conn, 413);
	else if (conn->body_left > 0)
		conn->phase = HTTP_SERVER__BODY;
	else
		answer(conn);
}

static void end_request_line(struct http_server_conn *conn)
{
	const char *v = conn->version;
	if (conn->version_len != sizeof conn->version || memcmp(v, "HTTP/", 5) != 0 ||
	    !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7])) {
		respond_error(conn, 400);
	} else if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
		respond_error(conn, 505);
	} else {
		conn->minor = (unsigned)(v[7] - '0');
		http_fields_init(&conn->fields);
		conn->phase = HTTP_SERVER__FIELDS;
	}
}

static void empty_line(struct http_server_conn *conn)
{
	if (++conn->empty_lines > HTTP_SERVER_EMPTY_LINES_MAX)
		respond_error(conn, 400);
	else
		conn->phase = HTTP_SERVER__METHOD;
}

static void request_byte(struct http_server_conn *conn, uint8_t c)
{
	conn->started = true;
	switch (conn->phase) {
	case HTTP_SERVER__METHOD:
		if (conn->method_len == 0 && c == '\r')
			conn->phase = HTTP_SERVER__EMPTY_LF;
		else if (conn->method_len == 0 && c == '\n')
			empty_line(conn);
		else if (c == ' ' && conn->method_len > 0)
			conn->phase = HTTP_SERVER__TARGET;
		else if (!http_text_is_tchar(c))
			respond_error(conn, 400);
		else if (conn->method_len == HTTP_SERVER_METHOD_MAX)
			respond_error(conn, 501);
		else
			conn->method[conn->method_len++] = (char)c;
		if (conn->phase == HTTP_SERVER__TARGET)
			conn->head_request =
				conn->method_len == 4 && memcmp(conn->method, "HEAD", 4) == 0;
		break;
	case HTTP_SERVER__EMPTY_LF:
		if (c == '\n')
			empty_line(conn);
		else
			respond_error(conn, 400);
		break;
	case HTTP_SERVER__TARGET:
		if (c == ' ' && conn->target_len > 0)
			conn->phase = HTTP_SERVER__VERSION;
		else if (c <= ' ' || c >= 0x7f)
			respond_error(conn, 400);
		else if (conn->target_len == HTTP_SERVER_TARGET_MAX)
			respond_error(conn, 414);
		else
			conn->target[conn->target_len++] = (char)c;
		break;
	case HTTP_SERVER__VERSION:
		if (c == '\r')
			conn->phase = HTTP_SERVER__VERSION_LF;
		else if (c == '\n')
			end_request_line(conn);
		else if (c <= ' ' || c >= 0x7f || conn->version_len == sizeof conn->version)
			respond_error(conn, 400);
		else
			conn->version[conn->version_len++] = (char)c;
		break;
	case HTTP_SERVER__VERSION_LF:
		if (c == '\n')
			end_request_line(conn);
		else
			respond_error(conn, 400);
		break;
	case HTTP_SERVER__FIELDS:
		switch (http_fields_byte(&conn->fields, c)) {
		case HTTP_FIELDS_MORE:
			break;
		case HTTP_FIELDS_END:
			end_head(conn);
			break;
		case HTTP_FIELDS_INVALID:
		case HTTP_FIELDS_BAD_LENGTH:
			respond_error(conn, 400);
			break;
		case HTTP_FIELDS_TOO_LARGE:
			respond_error(conn, 431);
			break;
		}
		break;
	case HTTP_SERVER__BODY:
	case HTTP_SERVER__RESPONSE:
	case HTTP_SERVER__CLOSED:
		break; /* not reached: http_server_feed handles these */
	}
}

size_t http_server_feed(struct http_server_conn *conn, const uint8_t *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (http_server_should_close(conn))
			return len;
		if (conn->phase == HTTP_SERVER__RESPONSE)
			break;
		if (conn->phase == HTTP_SERVER__BODY) {
			size_t take = len - i < conn->body_left ? len - i : (size_t)conn->body_left;
			i += take;
			conn->body_left -= take;
			if (conn->body_left == 0)
				answer(conn);
			continue;
		}
		request_byte(conn, data[i++]);
	}
	return http_server_should_close(conn) ? len : i;
}

/* The response is sent: the connection ends, or waits for the next request. */
static void response_done(struct http_server_conn *conn)
{
	if (conn->close) {
		conn->phase = HTTP_SERVER__CLOSED;
		return;
	}
	conn->phase = HTTP_SERVER__METHOD;
	conn->started = false;
	conn->head_request = false;
	conn->empty_lines = conn->method_len = conn->target_len = conn->version_len = 0;
	conn->body = HTTP_SERVER__BODY_NONE;
	conn->body_size = 0;
}

size_t http_server_output(struct http_server_conn *conn, uint8_t *buf, size_t size)
{
	if (conn->phase != HTTP_SERVER__RESPONSE)
		return 0;
	size_t n = conn->head_len - conn->head_sent;
	if (n > size)
		n = size;
	memcpy(buf, conn->head + conn->head_sent, n);
	conn->head_sent += n;

	uint64_t left = conn->body_size - conn->body_sent;
	size_t take = size - n < left ? size - n : (size_t)left;
	if (take > 0 && conn->body == HTTP_SERVER__BODY_FILE)
		memcpy(buf + n, conn->file + conn->body_sent, take);
	else if (take > 0)
		http_bytes_fill(conn->body_sent, buf + n, take);
	conn->body_sent += take;
	n += take;

	if (conn->head_sent == conn->head_len && conn->body_sent == conn->body_size)
		response_done(conn);
	return n;
}

enum http_server_state http_server_state(const struct http_server_conn *conn)
{
	if (conn->phase == HTTP_SERVER__CLOSED)
		return HTTP_SERVER_CLOSED;
	if (conn->phase == HTTP_SERVER__RESPONSE)
		return conn->close ? HTTP_SERVER_CLOSING : HTTP_SERVER_RESPONDING;
	return conn->started ? HTTP_SERVER_READING : HTTP_SERVER_IDLE;
}

bool http_server_mid_request(const struct http_server_conn *conn)
{
	return http_server_state(conn) == HTTP_SERVER_READING;
}

bool http_server_should_close(const struct http_server_conn *conn)
{
	enum http_server_state s = http_server_state(conn);
	return s == HTTP_SERVER_CLOSING || s == HTTP_SERVER_CLOSED;
}
