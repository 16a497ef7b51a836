/* A field section (RFC 9112 §5: header or trailer fields), read one byte at a time, for
 * requests and responses alike. Only the fields that decide how a message is framed and
 * whether the connection persists are kept (Host, Content-Length, Transfer-Encoding,
 * Connection); the others are checked and forgotten, so the state is small and fixed
 * whatever the section holds. The limits bound both the bytes and the fields. */
#ifndef HTTP_FIELDS_H
#define HTTP_FIELDS_H

#include <stdbool.h>
#include <stdint.h>

#define HTTP_FIELDS_SECTION_MAX 8192u /* bytes of field lines, their line ends included */
#define HTTP_FIELDS_COUNT_MAX	64u
#define HTTP_FIELDS_NAME_MAX	24u /* longer names are kept as "some other field" */
#define HTTP_FIELDS_TOKEN_MAX	16u /* longer list tokens are none we look for */

enum http_fields_result {
	HTTP_FIELDS_MORE,	/* the byte was taken; the section goes on */
	HTTP_FIELDS_END,	/* the byte ended the section: the results below are final */
	HTTP_FIELDS_INVALID,	/* a syntax error in a field line */
	HTTP_FIELDS_BAD_LENGTH, /* a Content-Length not 1*DIGIT, or two different ones */
	HTTP_FIELDS_TOO_LARGE,	/* over HTTP_FIELDS_SECTION_MAX or HTTP_FIELDS_COUNT_MAX */
};

/* Private: where in a field line the parser is, and which field it is reading. */
enum http_fields__state {
	HTTP_FIELDS__LINE_START,
	HTTP_FIELDS__NAME,
	HTTP_FIELDS__VALUE,
	HTTP_FIELDS__VALUE_CR,
	HTTP_FIELDS__END_CR,
	HTTP_FIELDS__DONE,
	HTTP_FIELDS__FAILED,
};

enum http_fields__element {
	HTTP_FIELDS__BEFORE, /* before an element's first character */
	HTTP_FIELDS__TOKEN,  /* in a token or a number */
	HTTP_FIELDS__AFTER,  /* in the whitespace after one */
	HTTP_FIELDS__JUNK,   /* in an element that is no plain token (parameters, quotes) */
};

enum http_fields__kind {
	HTTP_FIELDS__OTHER,
	HTTP_FIELDS__HOST,
	HTTP_FIELDS__CONTENT_LENGTH,
	HTTP_FIELDS__TRANSFER_ENCODING,
	HTTP_FIELDS__CONNECTION,
};

struct http_fields {
	/* Results, final once http_fields_byte returned HTTP_FIELDS_END. */
	unsigned count;		    /* field lines */
	unsigned host_count;	    /* Host fields */
	bool has_length;	    /* a Content-Length, every one of them valid and equal */
	uint64_t length;	    /* bytes; saturates at UINT64_MAX */
	bool has_transfer_encoding; /* some Transfer-Encoding field, even an empty one */
	unsigned transfer_codings;  /* codings listed in all Transfer-Encoding fields */
	bool chunked_last;	    /* the last of them is exactly "chunked" */
	bool close, keep_alive;	    /* the Connection options of those names */

	/* The parser's own. */
	enum http_fields__state state;
	enum http_fields_result failure; /* what a failed parser keeps returning */
	enum http_fields__kind kind;
	uint32_t bytes; /* of field lines so far */
	unsigned name_len;
	char name[HTTP_FIELDS_NAME_MAX];
	/* A list value (RFC 9110 §5.6.1) is read an element at a time. */
	enum http_fields__element element;
	unsigned token_len; /* HTTP_FIELDS_TOKEN_MAX + 1: too long to be one we look for */
	char token[HTTP_FIELDS_TOKEN_MAX];
	uint64_t number; /* the Content-Length element being read */
};

void http_fields_init(struct http_fields *f);

/* Takes the next byte of the section. Once it returned anything but HTTP_FIELDS_MORE it
 * returns the same for every later byte, which it does not take. */
enum http_fields_result http_fields_byte(struct http_fields *f, uint8_t c);

#endif
