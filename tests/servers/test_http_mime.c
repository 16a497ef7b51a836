/* The media type table (servers/httpd/http_mime.c): every listed extension, any case, the
 * charset on text types, and the default for the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_mime.h"

static const char *type_of(const char *path)
{
	return http_mime_type(path, strlen(path));
}

static void test_mime_types_by_extension(void **state)
{
	(void)state;
	static const char *const table[][2] = {
		{"/index.html", "text/html; charset=utf-8"},
		{"/old.htm", "text/html; charset=utf-8"},
		{"/style.css", "text/css; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/data.json", "application/json"},
		{"/robots.txt", "text/plain; charset=utf-8"},
		{"/a.png", "image/png"},
		{"/a.jpg", "image/jpeg"},
		{"/a.jpeg", "image/jpeg"},
		{"/a.gif", "image/gif"},
		{"/a.svg", "image/svg+xml"},
		{"/favicon.ico", "image/vnd.microsoft.icon"},
		{"/m.wasm", "application/wasm"},
		{"/doc.pdf", "application/pdf"},
		{"/feed.xml", "application/xml"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		assert_string_equal(type_of(table[i][0]), table[i][1]);
}

static void test_mime_extension_case_does_not_matter(void **state)
{
	(void)state;
	assert_string_equal(type_of("/INDEX.HTML"), "text/html; charset=utf-8");
	assert_string_equal(type_of("/Photo.JpEg"), "image/jpeg");
}

static void test_mime_unknown_or_no_extension_is_octet_stream(void **state)
{
	(void)state;
	const char *paths[] = {"/archive.tar.gz", "/README",	"/",	    "",	    "/a.",
			       "/dir.html/file",  "/.html.bak", "/a.htmlx", "/a.ht"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		assert_string_equal(type_of(paths[i]), HTTP_MIME_DEFAULT);
	/* Only the extension of the last segment counts, and only the last dot. */
	assert_string_equal(type_of("/dir.txt/page.css"), "text/css; charset=utf-8");
	assert_string_equal(type_of("/v1.2/notes.txt"), "text/plain; charset=utf-8");
	/* A count shorter than the string: the rest is not looked at. */
	assert_string_equal(http_mime_type("/a.css.png", 6), "text/css; charset=utf-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mime_types_by_extension),
		cmocka_unit_test(test_mime_extension_case_does_not_matter),
		cmocka_unit_test(test_mime_unknown_or_no_extension_is_octet_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
