/* Lookups in the embedded tree (http_site.h). A walk of the table: it holds a handful of
 * files, and a faster index would be one more generated thing to get wrong. */
#include <string.h>

#include "http_site.h"

const struct http_site_file *http_site_find(const char *path, size_t len)
{
	for (size_t i = 0; i < http_site_count; i++) {
		const struct http_site_file *f = &http_site_files[i];
		if (strlen(f->path) == len && memcmp(f->path, path, len) == 0)
			return f;
	}
	return NULL;
}
