/* The boot manifest parser: manifests it accepts and what it makes of them, then every
 * rejection, each checked for a message that names the origin, the line and the word,
 * and for leaving the caller's manifest untouched. Run under ASan, the rejections also
 * show that no error path leaks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest.h"
#include "packos/kan.h"
#include "packos/mcast.h"
#include "packos/types.h"

static const uint8_t kan_prefix[PK_KAN_PREFIX_SIZE] = PK_KAN_DEFAULT_PREFIX;

static void parse_ok(const char *text, struct manifest *m)
{
	char err[256] = "";
	if (manifest_parse(text, "m.txt", kan_prefix, m, err, sizeof err) != 0)
		fail_msg("refused a good manifest: %s", err);
}

static void assert_contains(const char *message, const char *part)
{
	if (!strstr(message, part))
		fail_msg("message \"%s\" lacks \"%s\"", message, part);
}

/* `text` must be refused with a message that starts with `where` ("m.txt:2: ") and
 * contains `what` and `word`, and the manifest passed in must come back untouched. */
static void assert_rejected(const char *text, const char *where, const char *what, const char *word)
{
	struct manifest_entry sentinel;
	struct manifest m = {.entries = &sentinel, .count = 77};
	char err[256] = "";
	assert_int_equal(manifest_parse(text, "m.txt", kan_prefix, &m, err, sizeof err), -1);
	assert_ptr_equal(m.entries, &sentinel);
	assert_int_equal(m.count, 77);
	if (strncmp(err, where, strlen(where)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err, where);
	assert_contains(err, what);
	assert_contains(err, word);
}

/* The same for manifest_entry_parse: the message names the word, and the entry passed in
 * comes back untouched. */
static void assert_entry_rejected(int argc, char *const argv[], const char *what, const char *word)
{
	struct manifest_entry entry;
	memset(&entry, 0xa5, sizeof entry);
	struct manifest_entry before = entry;
	char err[256] = "";
	assert_int_equal(manifest_entry_parse(argc, argv, kan_prefix, &entry, err, sizeof err), -1);
	assert_memory_equal(&entry, &before, sizeof entry);
	assert_contains(err, what);
	assert_contains(err, word);
}

/* ---- manifests that parse ---- */

static void test_manifest_default_text_gives_the_network_and_its_processes(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok(manifest_default_text, &m);
	assert_int_equal(m.count, 7);
	const struct manifest_entry *nic = &m.entries[0];
	assert_string_equal(nic->name, "nic");
	assert_string_equal(nic->program, "nic-driver");
	assert_int_equal(nic->rights, PK_RIGHT_ROUTER | PK_RIGHT_DRIVER);
	assert_int_equal(nic->device, MANIFEST_DEVICE_NIC);
	assert_int_equal(nic->iid[0], 1);
	const struct manifest_entry *echo = &m.entries[1];
	assert_string_equal(echo->name, "echo");
	assert_string_equal(echo->program, "kan-echo");
	assert_int_equal(echo->argc, 1);
	assert_string_equal(echo->argv[0], "kan-echo");
	assert_ptr_not_equal(echo->argv[0], echo->program);
	assert_null(echo->argv[1]);
	assert_int_equal(echo->address_count, 1);
	assert_int_equal(echo->iid[0], 7);
	assert_int_equal(echo->rights, 0);
	assert_int_equal(echo->quota, 0);
	assert_int_equal(echo->device, MANIFEST_DEVICE_NONE);
	assert_true(echo->line > 1); /* after the comment header */
	assert_string_equal(m.entries[2].program, "mcast-server");
	assert_int_equal(m.entries[2].iid[0], PK_MCAST_SERVER_IID);
	assert_string_equal(m.entries[3].program, "pk-node");
	assert_int_equal(m.entries[3].iid[0], 0xa);
	assert_string_equal(m.entries[4].program, "pk-node");
	assert_int_equal(m.entries[4].iid[0], 0xb);
	assert_string_equal(m.entries[5].program, "echo-discard");
	assert_int_equal(m.entries[5].iid[0], 9);
	assert_string_equal(m.entries[6].program, "httpd");
	assert_int_equal(m.entries[6].iid[0], 0x80);
	manifest_free(&m);
	assert_null(m.entries);
	assert_int_equal(m.count, 0);
}

static void test_manifest_brief_example_parses(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("# name     program     options                 arguments\n"
		 "echo       kan-echo    address=::7\n"
		 "router     nic-driver  address=::1 rights=router quota=4096 -- --tap packos0\n",
		 &m);
	assert_int_equal(m.count, 2);
	const struct manifest_entry *router = &m.entries[1];
	assert_string_equal(router->name, "router");
	assert_string_equal(router->program, "nic-driver");
	assert_int_equal(router->line, 3);
	assert_int_equal(router->address_count, 1);
	assert_int_equal(router->iid[0], 1);
	assert_int_equal(router->rights, PK_RIGHT_ROUTER);
	assert_int_equal(router->quota, 4096);
	assert_int_equal(router->argc, 3);
	assert_string_equal(router->argv[0], "nic-driver");
	assert_string_equal(router->argv[1], "--tap");
	assert_string_equal(router->argv[2], "packos0");
	assert_null(router->argv[3]);
	manifest_free(&m);
}

static void test_manifest_comments_blank_lines_and_crlf_are_skipped(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("\n"
		 "   \t \n"
		 "# a comment line\n"
		 "  # an indented comment\n"
		 "a prog address=::10 # a trailing comment\n"
		 "b prog#comment right after a word\n"
		 "c\tprog\t\taddress=::11\r\n"
		 "\r\n"
		 "d prog", /* the last line has no newline */
		 &m);
	assert_int_equal(m.count, 4);
	assert_string_equal(m.entries[0].name, "a");
	assert_int_equal(m.entries[0].line, 5);
	assert_int_equal(m.entries[0].argc, 1);
	assert_string_equal(m.entries[1].program, "prog");
	assert_int_equal(m.entries[1].line, 6);
	assert_string_equal(m.entries[2].name, "c");
	assert_int_equal(m.entries[2].iid[0], 0x11);
	assert_int_equal(m.entries[2].line, 7);
	assert_string_equal(m.entries[3].name, "d");
	assert_int_equal(m.entries[3].line, 9);
	manifest_free(&m);
}

static void test_manifest_empty_text_has_no_entries(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("", &m);
	assert_int_equal(m.count, 0);
	manifest_free(&m);
	parse_ok("# only comments\n\n", &m);
	assert_int_equal(m.count, 0);
	manifest_free(&m);
}

static void test_manifest_quoted_arguments_keep_spaces_and_escapes(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("shell \"/opt/my programs/sh\" -- \"hello world\" \"say \\\"hi\\\"\" "
		 "\"back\\\\slash\" \"\" pre\"fix suf\"fix \"# not a comment\" plain\\word\n",
		 &m);
	assert_int_equal(m.count, 1);
	const struct manifest_entry *e = &m.entries[0];
	assert_string_equal(e->program, "/opt/my programs/sh");
	assert_int_equal(e->argc, 8);
	assert_string_equal(e->argv[0], "/opt/my programs/sh");
	assert_string_equal(e->argv[1], "hello world");
	assert_string_equal(e->argv[2], "say \"hi\"");
	assert_string_equal(e->argv[3], "back\\slash");
	assert_string_equal(e->argv[4], "");
	assert_string_equal(e->argv[5], "prefix suffix");
	assert_string_equal(e->argv[6], "# not a comment");
	/* Outside quotes a backslash is an ordinary character. */
	assert_string_equal(e->argv[7], "plain\\word");
	assert_null(e->argv[8]);
	manifest_free(&m);
}

static void test_manifest_arguments_may_look_like_options(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("x prog -- quota=7 -- address=::1\n", &m);
	const struct manifest_entry *e = &m.entries[0];
	assert_int_equal(e->quota, 0);
	assert_int_equal(e->address_count, 0);
	assert_int_equal(e->argc, 4);
	assert_string_equal(e->argv[1], "quota=7");
	assert_string_equal(e->argv[2], "--");
	assert_string_equal(e->argv[3], "address=::1");
	manifest_free(&m);
}

static void test_manifest_program_path_may_hold_an_equals_sign(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("x ./build/a=b/prog\n", &m);
	assert_string_equal(m.entries[0].program, "./build/a=b/prog");
	manifest_free(&m);
}

static void test_manifest_takes_several_addresses_short_and_full(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("multi prog address=::1 address=fd6b:616e::2 address=FD6B:616E:0:0:0:0:0:3 "
		 "address=::abcd:ef01:2345:6789 address=fd6b:616e::fdff:ffff:ffff:ff7f "
		 "address=::6 address=::7 address=::8\n",
		 &m);
	const struct manifest_entry *e = &m.entries[0];
	assert_int_equal(e->address_count, PK_BOOT_ENDPOINTS);
	assert_int_equal(e->iid[0], 1);
	assert_int_equal(e->iid[1], 2);
	assert_int_equal(e->iid[2], 3);
	assert_int_equal(e->iid[3], 0xabcdef0123456789ull);
	/* The highest interface ID a program may hold: the kernel keeps the 128 above. */
	assert_int_equal(e->iid[4], 0xfdffffffffffff7full);
	assert_int_equal(e->iid[7], 8);
	manifest_free(&m);
}

static void test_manifest_addresses_follow_the_given_prefix(void **state)
{
	(void)state;
	static const uint8_t other_prefix[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x42};
	struct manifest m;
	char err[256] = "";
	assert_int_equal(manifest_parse("a p address=2001:db8:0:42::5 address=::6\n", "m.txt",
					other_prefix, &m, err, sizeof err),
			 0);
	assert_int_equal(m.entries[0].iid[0], 5);
	assert_int_equal(m.entries[0].iid[1], 6);
	manifest_free(&m);

	assert_int_equal(manifest_parse("a p address=fd6b:616e::5\n", "m.txt", other_prefix, &m,
					err, sizeof err),
			 -1);
	assert_contains(err, "2001:db8:0:42::/64");
}

static void test_manifest_rights_and_quotas(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("a p rights=router\n"
		 "b p rights=none\n"
		 "c p rights=none,router quota=1\n"
		 "d p quota=2147483647\n"
		 "e p quota=0\n"
		 "f p quota=0004096 rights=router,router\n"
		 "g p rights=driver,router\n",
		 &m);
	assert_int_equal(m.count, 7);
	assert_int_equal(m.entries[0].rights, PK_RIGHT_ROUTER);
	assert_int_equal(m.entries[1].rights, 0);
	assert_int_equal(m.entries[2].rights, PK_RIGHT_ROUTER);
	assert_int_equal(m.entries[2].quota, 1);
	assert_int_equal(m.entries[3].quota, 2147483647u);
	assert_int_equal(m.entries[4].quota, 0);
	assert_int_equal(m.entries[5].quota, 4096);
	assert_int_equal(m.entries[5].rights, PK_RIGHT_ROUTER);
	assert_int_equal(m.entries[6].rights, PK_RIGHT_DRIVER | PK_RIGHT_ROUTER);
	manifest_free(&m);
}

static void test_manifest_names_use_the_whole_alphabet_and_length(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("Az09_.-x p\n"
		 "abcdefghijklmnopqrstuvwxyz01234 p\n", /* 31 characters */
		 &m);
	assert_string_equal(m.entries[0].name, "Az09_.-x");
	assert_string_equal(m.entries[1].name, "abcdefghijklmnopqrstuvwxyz01234");
	manifest_free(&m);
}

static void test_manifest_takes_the_most_arguments(void **state)
{
	(void)state;
	char text[1024] = "x prog --";
	for (int i = 1; i < MANIFEST_MAX_ARGS; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), " a%d", i);
	struct manifest m;
	parse_ok(text, &m);
	assert_int_equal(m.entries[0].argc, MANIFEST_MAX_ARGS);
	assert_string_equal(m.entries[0].argv[MANIFEST_MAX_ARGS - 1], "a63");
	assert_null(m.entries[0].argv[MANIFEST_MAX_ARGS]);
	manifest_free(&m);
}

static void test_manifest_entry_parse_takes_split_words(void **state)
{
	(void)state;
	char *words[] = {"spawned", "kan-echo", "address=fd6b:616e::99", "quota=12", "--",
			 "one arg", NULL};
	struct manifest_entry entry;
	char err[256] = "";
	assert_int_equal(manifest_entry_parse(6, words, kan_prefix, &entry, err, sizeof err), 0);
	assert_string_equal(entry.name, "spawned");
	assert_int_equal(entry.line, 0);
	assert_int_equal(entry.iid[0], 0x99);
	assert_int_equal(entry.quota, 12);
	assert_int_equal(entry.argc, 2);
	assert_string_equal(entry.argv[1], "one arg");
	assert_ptr_not_equal(entry.argv[1], words[5]); /* copies, not the caller's words */
	manifest_entry_free(&entry);
	assert_null(entry.program);
	manifest_entry_free(&entry); /* a zeroed entry is fine */
}

static void test_manifest_format_address_joins_prefix_and_iid(void **state)
{
	(void)state;
	char text[INET6_ADDRSTRLEN];
	manifest_format_address(kan_prefix, 7, text, sizeof text);
	assert_string_equal(text, "fd6b:616e::7");
	manifest_format_address(kan_prefix, 0x0123456789abcdefull, text, sizeof text);
	assert_string_equal(text, "fd6b:616e::123:4567:89ab:cdef");
	char tiny[4];
	manifest_format_address(kan_prefix, 7, tiny, sizeof tiny);
	assert_string_equal(tiny, "");
}

/* ---- files ---- */

struct temp_file {
	char path[256];
};

static void write_temp_file(struct temp_file *file, const void *bytes, size_t length)
{
	const char *directory = getenv("TMPDIR");
	snprintf(file->path, sizeof file->path, "%s/packos-manifest-XXXXXX",
		 directory && *directory ? directory : "/tmp");
	int fd = mkstemp(file->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, length), (ssize_t)length);
	close(fd);
}

static void test_manifest_load_reads_a_file(void **state)
{
	(void)state;
	struct temp_file file;
	static const char text[] = "one prog address=::1\ntwo prog address=::2 -- x\n";
	write_temp_file(&file, text, sizeof text - 1);
	struct manifest m;
	char err[256] = "";
	assert_int_equal(manifest_load(file.path, kan_prefix, &m, err, sizeof err), 0);
	assert_int_equal(m.count, 2);
	assert_int_equal(m.entries[1].line, 2);
	assert_string_equal(m.entries[1].argv[1], "x");
	manifest_free(&m);
	unlink(file.path);
}

static void test_manifest_load_names_the_file_in_messages(void **state)
{
	(void)state;
	struct temp_file file;
	static const char text[] = "one prog\none prog quota=x\n";
	write_temp_file(&file, text, sizeof text - 1);
	struct manifest m = {0};
	char err[256] = "";
	assert_int_equal(manifest_load(file.path, kan_prefix, &m, err, sizeof err), -1);
	char where[300];
	snprintf(where, sizeof where, "%s:2: ", file.path);
	if (strncmp(err, where, strlen(where)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err, where);
	assert_contains(err, "quota=x");
	assert_null(m.entries);
	unlink(file.path);
}

static void test_manifest_load_of_a_missing_file_says_why(void **state)
{
	(void)state;
	struct manifest m = {0};
	char err[256] = "";
	assert_int_equal(
		manifest_load("/nonexistent/packos/boot.manifest", kan_prefix, &m, err, sizeof err),
		-1);
	assert_contains(err, "/nonexistent/packos/boot.manifest");
	assert_contains(err, "No such file");
}

static void test_manifest_load_rejects_nul_bytes(void **state)
{
	(void)state;
	struct temp_file file;
	static const char text[] = "one prog\ntwo pr\0og\n";
	write_temp_file(&file, text, sizeof text - 1);
	struct manifest m = {0};
	char err[256] = "";
	assert_int_equal(manifest_load(file.path, kan_prefix, &m, err, sizeof err), -1);
	assert_contains(err, ":2: ");
	assert_contains(err, "NUL byte");
	assert_contains(err, "column 7");
	unlink(file.path);
}

static void test_manifest_load_rejects_a_huge_file(void **state)
{
	(void)state;
	size_t length = MANIFEST_MAX_FILE_SIZE + 1;
	char *text = malloc(length);
	assert_non_null(text);
	memset(text, '#', length);
	struct temp_file file;
	write_temp_file(&file, text, length);
	free(text);
	struct manifest m = {0};
	char err[256] = "";
	assert_int_equal(manifest_load(file.path, kan_prefix, &m, err, sizeof err), -1);
	assert_contains(err, file.path);
	assert_contains(err, "larger than");
	unlink(file.path);
}

/* ---- rejections ---- */

static void test_manifest_unknown_key_is_refused(void **state)
{
	(void)state;
	assert_rejected("ok p\nx p foo=1\n", "m.txt:2: ", "unknown key", "'foo=1'");
	assert_rejected("x p Address=::1\n", "m.txt:1: ", "unknown key", "'Address=::1'");
}

static void test_manifest_key_without_equals_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p quota\n", "m.txt:1: ", "not KEY=VALUE", "'quota'");
	assert_rejected("x p address=::1 stray\n", "m.txt:1: ", "not KEY=VALUE", "'stray'");
}

static void test_manifest_empty_value_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p address=\n", "m.txt:1: ", "empty value", "'address='");
	assert_rejected("\n\nx p quota=\"\"\n", "m.txt:3: ", "empty value", "'quota='");
	assert_rejected("x p rights=\n", "m.txt:1: ", "empty value", "'rights='");
}

static void test_manifest_bad_number_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p quota=12x\n", "m.txt:1: ", "bad number", "'quota=12x'");
	assert_rejected("x p quota=-1\n", "m.txt:1: ", "bad number", "'quota=-1'");
	assert_rejected("x p quota=+5\n", "m.txt:1: ", "bad number", "'quota=+5'");
	assert_rejected("x p \"quota= 5\"\n", "m.txt:1: ", "bad number", "'quota= 5'");
	assert_rejected("x p quota=0x10\n", "m.txt:1: ", "bad number", "'quota=0x10'");
}

static void test_manifest_quota_overflow_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p quota=2147483648\n", "m.txt:1: ", "out of range",
			"'quota=2147483648'");
	assert_rejected("x p quota=99999999999999999999999\n", "m.txt:1: ", "out of range",
			"'quota=99999999999999999999999'");
}

static void test_manifest_repeated_rights_or_quota_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p quota=1 quota=2\n", "m.txt:1: ", "given twice", "'quota=2'");
	assert_rejected("x p rights=none rights=router\n", "m.txt:1: ", "given twice",
			"'rights=router'");
}

static void test_manifest_bad_rights_are_refused(void **state)
{
	(void)state;
	assert_rejected("x p rights=admin\n", "m.txt:1: ", "unknown right 'admin'",
			"'rights=admin'");
	assert_rejected("x p rights=router,\n", "m.txt:1: ", "empty right", "'rights=router,'");
	assert_rejected("x p rights=,router\n", "m.txt:1: ", "empty right", "'rights=,router'");
}

static void test_manifest_device_needs_the_driver_right_and_one_driver(void **state)
{
	(void)state;
	struct manifest m;
	parse_ok("nic nic-driver device=nic rights=router,driver\nother p\n", &m);
	assert_int_equal(m.entries[0].device, MANIFEST_DEVICE_NIC);
	assert_int_equal(m.entries[1].device, MANIFEST_DEVICE_NONE);
	manifest_free(&m);

	assert_rejected("x p device=nic\n", "m.txt:1: ", "needs rights=driver", "'x'");
	assert_rejected("x p device=disk rights=driver\n", "m.txt:1: ", "unknown device",
			"'device=disk'");
	assert_rejected("x p device=nic device=nic rights=driver\n", "m.txt:1: ", "given twice",
			"'device=nic'");
	assert_rejected("a p device=nic rights=driver\nb p\nc p device=nic rights=driver\n",
			"m.txt:3: ", "second driver of the nic", "'a' on line 1");
}

static void test_manifest_missing_program_is_refused(void **state)
{
	(void)state;
	assert_rejected("a p\nlonely\n", "m.txt:2: ", "missing program", "'lonely'");
	assert_rejected("echo address=::7\n", "m.txt:1: ", "missing program", "'address=::7'");
	assert_rejected("echo -- arg\n", "m.txt:1: ", "missing program", "'--'");
	assert_rejected("echo \"\" address=::7\n", "m.txt:1: ", "empty program", "'echo'");
}

static void test_manifest_bad_name_is_refused(void **state)
{
	(void)state;
	assert_rejected("bad/name p\n", "m.txt:1: ", "bad name", "'bad/name'");
	assert_rejected("\"two words\" p\n", "m.txt:1: ", "bad name", "'two words'");
	assert_rejected("\"\" p\n", "m.txt:1: ", "bad name", "''");
	assert_rejected("abcdefghijklmnopqrstuvwxyz012345 p\n", "m.txt:1: ", "bad name",
			"'abcdefghijklmnopqrstuvwxyz012345'");
	/* A control character is shown escaped, never written raw into a log. */
	assert_rejected("bell\a p\n", "m.txt:1: ", "bad name", "'bell\\x07'");
}

static void test_manifest_duplicate_name_is_refused(void **state)
{
	(void)state;
	assert_rejected("echo p\nother p\necho q\n", "m.txt:3: ", "duplicate name 'echo'",
			"first on line 1");
}

static void test_manifest_bad_address_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p address=fd6b::zz\n", "m.txt:1: ", "bad IPv6 address",
			"'address=fd6b::zz'");
	assert_rejected("x p address=10.0.0.1\n", "m.txt:1: ", "bad IPv6 address",
			"'address=10.0.0.1'");
	assert_rejected("x p address=::7/64\n", "m.txt:1: ", "bad IPv6 address",
			"'address=::7/64'");
}

static void test_manifest_address_outside_the_prefix_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p address=fd00::7\n",
			"m.txt:1: ", "outside the KAN prefix fd6b:616e::/64", "'address=fd00::7'");
	assert_rejected("x p address=::1:0:0:0:7\n", "m.txt:1: ", "outside the KAN prefix",
			"'address=::1:0:0:0:7'");
}

static void test_manifest_reserved_address_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p address=::\n", "m.txt:1: ", "reserved", "'address=::'");
	assert_rejected("x p address=fd6b:616e::\n", "m.txt:1: ", "reserved",
			"'address=fd6b:616e::'");
	assert_rejected("x p address=::fdff:ffff:ffff:ff80\n", "m.txt:1: ", "reserved",
			"'address=::fdff:ffff:ffff:ff80'");
	assert_rejected("x p address=fd6b:616e:0:0:ffff:ffff:ffff:ffff\n", "m.txt:1: ", "reserved",
			"'address=fd6b:616e:0:0:ffff:ffff:ffff:ffff'");
}

static void test_manifest_duplicate_address_is_refused(void **state)
{
	(void)state;
	/* Within one entry, even when written two ways. */
	assert_rejected("x p address=::7 address=fd6b:616e::7\n", "m.txt:1: ", "duplicate address",
			"'address=fd6b:616e::7'");
	/* Across entries. */
	assert_rejected("a p address=::7\nb p address=::8\nc p address=::9 address=fd6b:616e::7\n",
			"m.txt:3: ", "duplicate address 'fd6b:616e::7' in 'c'",
			"already used by 'a' on line 1");
	/* The duplicate reported is the first in the text. */
	assert_rejected("a p address=::7\nb p address=::8\nb2 p address=::8\na2 p address=::7\n",
			"m.txt:3: ", "duplicate address 'fd6b:616e::8' in 'b2'", "'b' on line 2");
}

static void test_manifest_too_many_addresses_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p address=::1 address=::2 address=::3 address=::4 address=::5 "
			"address=::6 address=::7 address=::8 address=::9\n",
			"m.txt:1: ", "too many addresses", "'address=::9'");
}

static void test_manifest_too_many_arguments_is_refused(void **state)
{
	(void)state;
	char text[1024] = "x prog --";
	for (int i = 1; i <= MANIFEST_MAX_ARGS; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), " a%d", i);
	assert_rejected(text, "m.txt:1: ", "too many arguments", "'a64'");
}

static void test_manifest_unterminated_quote_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p -- ok\ny p -- \"never closed\n", "m.txt:2: ", "unterminated quote",
			"'\"never closed'");
	assert_rejected("x p -- \"ends in a backslash\\\n", "m.txt:1: ", "unterminated quote",
			"'\"ends in a backslash\\\\'");
	/* A quote does not run on to the next line. */
	assert_rejected("x p -- \"a\nb\"\n", "m.txt:1: ", "unterminated quote", "'\"a'");
}

static void test_manifest_unknown_escape_is_refused(void **state)
{
	(void)state;
	assert_rejected("x p -- \"tab\\there\"\n", "m.txt:1: ", "bad escape", "'\"tab\\\\there\"'");
}

static void test_manifest_entry_parse_refusals_name_the_word(void **state)
{
	(void)state;
	char *no_words[] = {NULL};
	assert_entry_rejected(0, no_words, "missing name", "");
	char *name_only[] = {"solo", NULL};
	assert_entry_rejected(1, name_only, "missing program", "'solo'");
	char *bad_key[] = {"x", "p", "colour=red", NULL};
	assert_entry_rejected(3, bad_key, "unknown key", "'colour=red'");
	char *outside[] = {"x", "p", "address=2001:db8::1", NULL};
	assert_entry_rejected(3, outside, "outside the KAN prefix", "'address=2001:db8::1'");
	/* The last argument is checked after earlier ones were accepted: no leak then. */
	char *many[MANIFEST_MAX_ARGS + 4] = {"x", "p", "--"};
	for (int i = 3; i < MANIFEST_MAX_ARGS + 3; i++)
		many[i] = "arg";
	assert_entry_rejected(MANIFEST_MAX_ARGS + 3, many, "too many arguments", "'arg'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_default_text_gives_the_network_and_its_processes),
		cmocka_unit_test(test_manifest_brief_example_parses),
		cmocka_unit_test(test_manifest_comments_blank_lines_and_crlf_are_skipped),
		cmocka_unit_test(test_manifest_empty_text_has_no_entries),
		cmocka_unit_test(test_manifest_quoted_arguments_keep_spaces_and_escapes),
		cmocka_unit_test(test_manifest_arguments_may_look_like_options),
		cmocka_unit_test(test_manifest_program_path_may_hold_an_equals_sign),
		cmocka_unit_test(test_manifest_takes_several_addresses_short_and_full),
		cmocka_unit_test(test_manifest_addresses_follow_the_given_prefix),
		cmocka_unit_test(test_manifest_rights_and_quotas),
		cmocka_unit_test(test_manifest_names_use_the_whole_alphabet_and_length),
		cmocka_unit_test(test_manifest_takes_the_most_arguments),
		cmocka_unit_test(test_manifest_entry_parse_takes_split_words),
		cmocka_unit_test(test_manifest_format_address_joins_prefix_and_iid),
		cmocka_unit_test(test_manifest_load_reads_a_file),
		cmocka_unit_test(test_manifest_load_names_the_file_in_messages),
		cmocka_unit_test(test_manifest_load_of_a_missing_file_says_why),
		cmocka_unit_test(test_manifest_load_rejects_nul_bytes),
		cmocka_unit_test(test_manifest_load_rejects_a_huge_file),
		cmocka_unit_test(test_manifest_unknown_key_is_refused),
		cmocka_unit_test(test_manifest_key_without_equals_is_refused),
		cmocka_unit_test(test_manifest_empty_value_is_refused),
		cmocka_unit_test(test_manifest_bad_number_is_refused),
		cmocka_unit_test(test_manifest_quota_overflow_is_refused),
		cmocka_unit_test(test_manifest_repeated_rights_or_quota_is_refused),
		cmocka_unit_test(test_manifest_bad_rights_are_refused),
		cmocka_unit_test(test_manifest_device_needs_the_driver_right_and_one_driver),
		cmocka_unit_test(test_manifest_missing_program_is_refused),
		cmocka_unit_test(test_manifest_bad_name_is_refused),
		cmocka_unit_test(test_manifest_duplicate_name_is_refused),
		cmocka_unit_test(test_manifest_bad_address_is_refused),
		cmocka_unit_test(test_manifest_address_outside_the_prefix_is_refused),
		cmocka_unit_test(test_manifest_reserved_address_is_refused),
		cmocka_unit_test(test_manifest_duplicate_address_is_refused),
		cmocka_unit_test(test_manifest_too_many_addresses_is_refused),
		cmocka_unit_test(test_manifest_too_many_arguments_is_refused),
		cmocka_unit_test(test_manifest_unterminated_quote_is_refused),
		cmocka_unit_test(test_manifest_unknown_escape_is_refused),
		cmocka_unit_test(test_manifest_entry_parse_refusals_name_the_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
