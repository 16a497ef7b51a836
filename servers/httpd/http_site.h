/* The embedded tree: the files under servers/httpd/site/, turned into C arrays at build
 * time by embed_site.cmake (http_site_data.c in the build tree), so the server needs no
 * file system. Read-only, and the same for every connection. */
#ifndef HTTP_SITE_H
#define HTTP_SITE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_SITE_PATH_MAX 128u /* embed_site.cmake refuses longer paths */

struct http_site_file {
	const char *path; /* from the root, with its leading "/": "/about/index.html" */
	const uint8_t *data;
	size_t size; /* bytes */
};

/* Generated. */
extern const struct http_site_file http_site_files[];
extern const size_t http_site_count;

/* The file at the `len`-byte path `path` (exact, case-sensitive), or NULL. */
const struct http_site_file *http_site_find(const char *path, size_t len);

#endif
