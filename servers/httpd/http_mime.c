/* The extension table (http_mime.h). Short and searched in order: a response looks it up
 * once. */
#include "http_mime.h"
#include "http_text.h"

static const struct {
	const char *extension; /* lower case, without the dot */
	const char *type;
} types[] = {
	{"html", "text/html; charset=utf-8"},
	{"htm", "text/html; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"}, /* RFC 9239 */
	{"json", "application/json"},
	{"txt", "text/plain; charset=utf-8"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"svg", "image/svg+xml"},
	{"ico", "image/vnd.microsoft.icon"},
	{"wasm", "application/wasm"},
	{"pdf", "application/pdf"},
	{"xml", "application/xml"}, /* RFC 7303 §4.1 */
};

const char *http_mime_type(const char *path, size_t len)
{
	size_t dot = len;
	for (size_t i = len; i > 0 && path[i - 1] != '/'; i--) {
		if (path[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	if (dot == len)
		return HTTP_MIME_DEFAULT;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (http_text_equal_nocase(path + dot + 1, len - dot - 1, types[i].extension))
			return types[i].type;
	return HTTP_MIME_DEFAULT;
}
