/* The client's side of HTTP/1.1, without the network: an http URL taken apart, the GET
 * (or HEAD) request for it, and the response read one piece at a time as it arrives, its
 * body handed to a callback in the pieces it came in. The body ends by Content-Length, by
 * the chunked coding, or when the server closes the connection (RFC 9112 §6.3); the same
 * field-section limits as the server's apply (http_fields.h). No malloc; a response's
 * state is its struct. */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_fields.h"

#define HTTP_CLIENT_HOST_MAX	    253u  /* a DNS name's longest text form */
#define HTTP_CLIENT_PATH_MAX	    2048u /* the request target, as the server's limit */
#define HTTP_CLIENT_STATUS_LINE_MAX 1024u /* bytes, its line end included */
#define HTTP_CLIENT_CHUNK_LINE_MAX  1024u /* a chunk's size line, extensions included */
#define HTTP_CLIENT_CHUNK_SIZE_MAX  (UINT64_C(1) << 60) /* bytes of one chunk */

/* What the functions below return: a count (>= 0), one of the first two, or an error. */
enum http_client_result {
	HTTP_CLIENT_MORE = 0,	      /* the response goes on: feed more */
	HTTP_CLIENT_DONE = 1,	      /* the response is complete */
	HTTP_CLIENT_ESCHEME = -1,     /* the URL is not http:// */
	HTTP_CLIENT_EHOST = -2,	      /* no host, a malformed one, or user information */
	HTTP_CLIENT_EPORT = -3,	      /* a port that is not 1 to 65535 */
	HTTP_CLIENT_EPATH = -4,	      /* a path with spaces or controls, or too long */
	HTTP_CLIENT_ESPACE = -5,      /* the request does not fit the buffer */
	HTTP_CLIENT_ESTATUS = -6,     /* a malformed status line, or an unasked-for 101 */
	HTTP_CLIENT_EVERSION = -7,    /* a version other than HTTP/1.x */
	HTTP_CLIENT_EFIELD = -8,      /* a malformed header or trailer field line */
	HTTP_CLIENT_ETOOLARGE = -9,   /* a status line or field section over its limit */
	HTTP_CLIENT_ELENGTH = -10,    /* a Content-Length that is invalid or ambiguous */
	HTTP_CLIENT_ECODING = -11,    /* a Transfer-Encoding other than "chunked" alone */
	HTTP_CLIENT_ECHUNK = -12,     /* a malformed chunk size line, or no CRLF after the data */
	HTTP_CLIENT_ETRUNCATED = -13, /* the connection closed before the response's end */
};

/* A short English description of a result, for a top level to print. */
const char *http_client_strerror(int result);

enum http_client_host {
	HTTP_CLIENT_HOST_NAME,
	HTTP_CLIENT_HOST_IPV4,
	HTTP_CLIENT_HOST_IPV6,
};

struct http_client_url {
	enum http_client_host host_kind;
	char host[HTTP_CLIENT_HOST_MAX + 1]; /* NUL-terminated; IPv6 without its brackets */
	uint16_t port;			     /* 80 unless the URL says otherwise */
	char path[HTTP_CLIENT_PATH_MAX + 1]; /* NUL-terminated: path and query, at least "/" */
};

/* Takes apart "http://host[:port][/path][?query][#fragment]" (the scheme in any case; the
 * host a DNS name, a dotted IPv4 address or a bracketed IPv6 address without a zone; the
 * fragment dropped). 0 and *ret_url, or a negative enum http_client_result. */
int http_client_parse_url(const char *url, struct http_client_url *ret_url);

#define HTTP_CLIENT_HEAD       1u /* HEAD instead of GET */
#define HTTP_CLIENT_KEEP_ALIVE 2u /* leave out "Connection: close" */

/* Writes the request for `url` into the `size` bytes at `buf` (no NUL) and returns its
 * length, or HTTP_CLIENT_ESPACE. */
int http_client_format_request(const struct http_client_url *url, unsigned flags, char *buf,
			       size_t size);

/* Receives body bytes as they arrive; `data` is valid during the call only. */
typedef void (*http_client_body_fn)(void *ctx, const uint8_t *data, size_t len);

enum http_client_framing {
	HTTP_CLIENT_NO_BODY,	 /* HEAD, 204, 304 (RFC 9112 §6.3) */
	HTTP_CLIENT_LENGTH,	 /* Content-Length bytes */
	HTTP_CLIENT_CHUNKED,	 /* Transfer-Encoding: chunked */
	HTTP_CLIENT_UNTIL_CLOSE, /* neither: the server's close ends it */
};

/* Private. */
enum http_client__phase {
	HTTP_CLIENT__STATUS_LINE,
	HTTP_CLIENT__STATUS_LF,
	HTTP_CLIENT__FIELDS,
	HTTP_CLIENT__LENGTH,
	HTTP_CLIENT__UNTIL_CLOSE,
	HTTP_CLIENT__CHUNK_SIZE,
	HTTP_CLIENT__CHUNK_BWS, /* whitespace after the size: only ";" or the line end next */
	HTTP_CLIENT__CHUNK_EXT,
	HTTP_CLIENT__CHUNK_SIZE_LF,
	HTTP_CLIENT__CHUNK_DATA,
	HTTP_CLIENT__CHUNK_DATA_END, /* CRLF (or LF) after a chunk's data */
	HTTP_CLIENT__CHUNK_DATA_LF,
	HTTP_CLIENT__TRAILER,
	HTTP_CLIENT__DONE,
	HTTP_CLIENT__FAILED,
};

struct http_client_response {
	/* Results, written by the parser: valid once head_done. */
	bool head_done; /* the final (not 1xx) status line and header section are read */
	unsigned status;
	unsigned minor; /* HTTP/1.minor */
	enum http_client_framing framing;
	uint64_t content_length; /* HTTP_CLIENT_LENGTH: the body's bytes */
	uint64_t body_received;	 /* body bytes handed to on_body so far */
	bool keep_alive;	 /* the connection may carry another request after this one */

	/* Set by http_client_response_init. */
	bool head_request;
	http_client_body_fn on_body; /* NULL: the body is dropped */
	void *ctx;

	/* The parser's own. */
	enum http_client__phase phase;
	int error; /* HTTP_CLIENT__FAILED: what every later call returns */
	unsigned line_len;
	char line[sizeof "HTTP/1.1 200 " - 1]; /* the status line's start */
	struct http_fields fields;
	uint64_t left; /* bytes of the body or chunk still to come */
	unsigned chunk_digits;
};

/* Prepares `r` to read one response, to a HEAD request if `head_request`. */
void http_client_response_init(struct http_client_response *r, bool head_request,
			       http_client_body_fn on_body, void *ctx);

/* Takes bytes of the response stream. Returns HTTP_CLIENT_MORE (all taken),
 * HTTP_CLIENT_DONE (the response ended within them: bytes after *ret_consumed belong to
 * the next response, if keep_alive) or an error; errors and DONE are final, and later
 * calls take nothing. */
int http_client_feed(struct http_client_response *r, const uint8_t *data, size_t len,
		     size_t *ret_consumed);

/* The server closed the connection: HTTP_CLIENT_DONE if that ends the response (or it
 * had ended), HTTP_CLIENT_ETRUNCATED if it was cut short, or the earlier error. */
int http_client_finish(struct http_client_response *r);

#endif
