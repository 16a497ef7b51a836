/* Media types (RFC 9110 §8.3) of the files the server sends, from their extension. Text
 * types name their charset, since every text file in the tree is UTF-8. */
#ifndef HTTP_MIME_H
#define HTTP_MIME_H

#include <stddef.h>

#define HTTP_MIME_DEFAULT "application/octet-stream"

/* The Content-Type value for the `len`-byte path `path`, by the extension of its last
 * segment, without regard to case; HTTP_MIME_DEFAULT for one not in the table or none. */
const char *http_mime_type(const char *path, size_t len);

#endif
