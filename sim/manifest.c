/* The boot manifest parser: text to lines, lines to words, words to entries.
 *
 * Parsing is all or nothing: every entry is built in a local, handed to the caller only
 * when the whole input is valid, and freed on any error, so a caller never sees half a
 * manifest and never has to clean up after a failure. Messages name the origin, the line
 * and the offending word, with non-printable bytes escaped so they are safe to log. */
#define _GNU_SOURCE
#include "manifest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packos/types.h"

/* The kernel keeps interface ID 0 and the top 128 IDs of the /64 for itself
 * (kernel-core/endpoint.c, docs/kcalls.md). */
#define RESERVED_IID_FIRST 0xfdffffffffffff80ull
#define QUOTA_MAX	   0x7fffffffu

const char manifest_default_text[] =
	"# The PackOS boot manifest packosd uses when given none.\n"
	"# NAME  PROGRAM  [address=ADDR]... "
	"[rights=router,driver|none] [quota=FRAMES] [device=nic] "
	"[-- ARG...]\n"
	"nic\tnic-driver\taddress=::1 rights=router,driver device=nic\n"
	"echo\tkan-echo\taddress=::7\n"
	"mcast\tmcast-server\taddress=::6d\n"
	"node-a\tpk-node\taddress=::a\n"
	"node-b\tpk-node\taddress=::b\n"
	"echo-discard\techo-discard\taddress=::9\n"
	"httpd\thttpd\taddress=::80\n";

static void set_error(char *err, size_t errlen, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t errlen, const char *format, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, format);
	vsnprintf(err, errlen, format, ap);
	va_end(ap);
}

/* A word as a message shows it: printable ASCII as is, anything else as \xHH, and long
 * words cut, so a hostile manifest cannot put control characters into the daemon's log. */
#define SHOWN_BYTES_MAX 60
struct shown {
	char text[SHOWN_BYTES_MAX * 4 + 4];
};

static const char *show_bytes(const char *bytes, size_t length, struct shown *shown)
{
	size_t out = 0;
	for (size_t i = 0; i < length; i++) {
		if (i == SHOWN_BYTES_MAX) {
			memcpy(shown->text + out, "...", 3);
			out += 3;
			break;
		}
		unsigned char c = (unsigned char)bytes[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			shown->text[out++] = (char)c;
		} else if (c == '\\') {
			shown->text[out++] = '\\';
			shown->text[out++] = '\\';
		} else {
			snprintf(shown->text + out, 5, "\\x%02x", c);
			out += 4;
		}
	}
	shown->text[out] = '\0';
	return shown->text;
}

static const char *show(const char *word, struct shown *shown)
{
	return show_bytes(word, strlen(word), shown);
}

static bool name_is_valid(const char *name)
{
	size_t length = strlen(name);
	if (length == 0 || length >= MANIFEST_NAME_SIZE)
		return false;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* A word in the program's place that looks like an option means the program was left
 * out: `echo address=::7` would otherwise try to run a file named "address=::7". */
static bool looks_like_option(const char *word)
{
	if (strcmp(word, "--") == 0)
		return true;
	const char *equals = strchr(word, '=');
	const char *slash = strchr(word, '/');
	return equals && (!slash || equals < slash);
}

static uint64_t read_be64(const uint8_t bytes[8])
{
	uint64_t value = 0;
	for (unsigned i = 0; i < 8; i++)
		value = value << 8 | bytes[i];
	return value;
}

void manifest_format_address(const uint8_t prefix[8], uint64_t iid, char *buf, size_t size)
{
	struct in6_addr address;
	memcpy(address.s6_addr, prefix, 8);
	for (unsigned i = 0; i < 8; i++)
		address.s6_addr[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	if (size > 0 && !inet_ntop(AF_INET6, &address, buf, (socklen_t)size))
		buf[0] = '\0';
}

static int parse_address(const char *word, const char *value, const uint8_t prefix[8],
			 struct manifest_entry *entry, char *err, size_t errlen)
{
	struct shown shown;
	if (entry->address_count == PK_BOOT_ENDPOINTS) {
		set_error(err, errlen, "too many addresses at '%s' (at most %u)",
			  show(word, &shown), PK_BOOT_ENDPOINTS);
		return -1;
	}
	struct in6_addr address;
	if (inet_pton(AF_INET6, value, &address) != 1) {
		set_error(err, errlen, "bad IPv6 address in '%s'", show(word, &shown));
		return -1;
	}
	uint64_t high = read_be64(address.s6_addr);
	uint64_t iid = read_be64(address.s6_addr + 8);
	if (high != 0 && memcmp(address.s6_addr, prefix, 8) != 0) {
		char prefix_text[INET6_ADDRSTRLEN];
		manifest_format_address(prefix, 0, prefix_text, sizeof prefix_text);
		set_error(err, errlen, "address in '%s' is outside the KAN prefix %s/64",
			  show(word, &shown), prefix_text);
		return -1;
	}
	if (iid == 0 || iid >= RESERVED_IID_FIRST) {
		set_error(err, errlen,
			  "address in '%s' is reserved for the kernel (interface ID 0 and the "
			  "top 128 of the /64)",
			  show(word, &shown));
		return -1;
	}
	for (unsigned i = 0; i < entry->address_count; i++) {
		if (entry->iid[i] == iid) {
			set_error(err, errlen, "duplicate address in '%s'", show(word, &shown));
			return -1;
		}
	}
	entry->iid[entry->address_count++] = iid;
	return 0;
}

static int parse_rights(const char *word, const char *value, struct manifest_entry *entry,
			char *err, size_t errlen)
{
	struct shown shown, item_shown;
	uint32_t rights = 0;
	const char *item = value;
	for (;;) {
		size_t length = strcspn(item, ",");
		if (length == 0) {
			set_error(err, errlen, "empty right in '%s'", show(word, &shown));
			return -1;
		}
		if (length == 6 && memcmp(item, "router", 6) == 0) {
			rights |= PK_RIGHT_ROUTER;
		} else if (length == 6 && memcmp(item, "driver", 6) == 0) {
			rights |= PK_RIGHT_DRIVER;
		} else if (length == 4 && memcmp(item, "none", 4) == 0) {
			/* Says "no rights" explicitly; adds nothing. */
		} else {
			set_error(err, errlen,
				  "unknown right '%s' in '%s' (rights: router, driver, none)",
				  show_bytes(item, length, &item_shown), show(word, &shown));
			return -1;
		}
		if (item[length] == '\0')
			break;
		item += length + 1;
	}
	entry->rights = rights;
	return 0;
}

static int parse_quota(const char *word, const char *value, struct manifest_entry *entry, char *err,
		       size_t errlen)
{
	struct shown shown;
	/* By hand rather than strtoul, which would take a sign, leading spaces and hex. */
	uint64_t quota = 0;
	for (const char *digit = value; *digit; digit++) {
		if (*digit < '0' || *digit > '9') {
			set_error(err, errlen, "bad number in '%s'", show(word, &shown));
			return -1;
		}
		quota = quota * 10 + (uint64_t)(*digit - '0');
		/* Checked at every digit, so `quota` itself never overflows. */
		if (quota > QUOTA_MAX) {
			set_error(err, errlen, "quota out of range in '%s' (0..%u frames)",
				  show(word, &shown), QUOTA_MAX);
			return -1;
		}
	}
	entry->quota = (uint32_t)quota;
	return 0;
}

static int parse_option(const char *word, const uint8_t prefix[8], struct manifest_entry *entry,
			bool *seen_rights, bool *seen_quota, char *err, size_t errlen)
{
	struct shown shown;
	const char *equals = strchr(word, '=');
	if (!equals) {
		set_error(err, errlen, "'%s' is not KEY=VALUE (arguments go after '--')",
			  show(word, &shown));
		return -1;
	}
	size_t key_length = (size_t)(equals - word);
	const char *value = equals + 1;
	if (*value == '\0') {
		set_error(err, errlen, "empty value in '%s'", show(word, &shown));
		return -1;
	}
	if (key_length == 7 && memcmp(word, "address", 7) == 0)
		return parse_address(word, value, prefix, entry, err, errlen);
	if (key_length == 6 && memcmp(word, "rights", 6) == 0) {
		if (*seen_rights) {
			set_error(err, errlen, "rights given twice at '%s'", show(word, &shown));
			return -1;
		}
		*seen_rights = true;
		return parse_rights(word, value, entry, err, errlen);
	}
	if (key_length == 5 && memcmp(word, "quota", 5) == 0) {
		if (*seen_quota) {
			set_error(err, errlen, "quota given twice at '%s'", show(word, &shown));
			return -1;
		}
		*seen_quota = true;
		return parse_quota(word, value, entry, err, errlen);
	}
	if (key_length == 6 && memcmp(word, "device", 6) == 0) {
		if (entry->device != MANIFEST_DEVICE_NONE) {
			set_error(err, errlen, "device given twice at '%s'", show(word, &shown));
			return -1;
		}
		if (strcmp(value, "nic") != 0) {
			set_error(err, errlen, "unknown device in '%s' (devices: nic)",
				  show(word, &shown));
			return -1;
		}
		entry->device = MANIFEST_DEVICE_NIC;
		return 0;
	}
	set_error(err, errlen, "unknown key in '%s' (keys: address, rights, quota, device)",
		  show(word, &shown));
	return -1;
}

static int copy_arguments(const char *program, int arg_count, char *const args[],
			  struct manifest_entry *entry)
{
	entry->program = strdup(program);
	entry->argv = calloc((size_t)arg_count + 2, sizeof *entry->argv);
	if (!entry->program || !entry->argv)
		return -1;
	entry->argv[0] = strdup(program);
	if (!entry->argv[0])
		return -1;
	entry->argc = 1;
	for (int i = 0; i < arg_count; i++) {
		entry->argv[1 + i] = strdup(args[i]);
		if (!entry->argv[1 + i])
			return -1;
		entry->argc++;
	}
	return 0;
}

int manifest_entry_parse(int argc, char *const argv[], const uint8_t prefix[8],
			 struct manifest_entry *entry, char *err, size_t errlen)
{
	struct manifest_entry parsed = {0};
	struct shown shown, other_shown;

	if (argc < 1 || !argv || !argv[0]) {
		set_error(err, errlen, "missing name");
		goto fail;
	}
	const char *name = argv[0];
	if (!name_is_valid(name)) {
		set_error(err, errlen, "bad name '%s' (1 to %d of A-Z a-z 0-9 _ . -)",
			  show(name, &shown), MANIFEST_NAME_SIZE - 1);
		goto fail;
	}
	memcpy(parsed.name, name, strlen(name) + 1);

	if (argc < 2) {
		set_error(err, errlen, "missing program after '%s'", show(name, &shown));
		goto fail;
	}
	const char *program = argv[1];
	if (program[0] == '\0') {
		set_error(err, errlen, "empty program after '%s'", show(name, &shown));
		goto fail;
	}
	if (looks_like_option(program)) {
		set_error(err, errlen, "missing program after '%s' (found '%s')",
			  show(name, &shown), show(program, &other_shown));
		goto fail;
	}

	int next = 2;
	bool seen_rights = false, seen_quota = false;
	for (; next < argc && strcmp(argv[next], "--") != 0; next++) {
		if (parse_option(argv[next], prefix, &parsed, &seen_rights, &seen_quota, err,
				 errlen) != 0)
			goto fail;
	}
	if (parsed.device != MANIFEST_DEVICE_NONE && !(parsed.rights & PK_RIGHT_DRIVER)) {
		set_error(err, errlen, "device=nic needs rights=driver in '%s'",
			  show(name, &shown));
		goto fail;
	}
	int first_arg = next < argc ? next + 1 : argc;
	int arg_count = argc - first_arg;
	if (arg_count > MANIFEST_MAX_ARGS - 1) {
		set_error(err, errlen, "too many arguments at '%s' (at most %d, program included)",
			  show(argv[first_arg + MANIFEST_MAX_ARGS - 1], &shown), MANIFEST_MAX_ARGS);
		goto fail;
	}
	if (copy_arguments(program, arg_count, argv + first_arg, &parsed) != 0) {
		set_error(err, errlen, "out of memory");
		goto fail;
	}
	*entry = parsed;
	return 0;

fail:
	manifest_entry_free(&parsed);
	return -1;
}

void manifest_entry_free(struct manifest_entry *entry)
{
	if (!entry)
		return;
	if (entry->argv) {
		for (char **arg = entry->argv; *arg; arg++)
			free(*arg);
		free(entry->argv);
	}
	free(entry->program);
	memset(entry, 0, sizeof *entry);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->count; i++)
		manifest_entry_free(&m->entries[i]);
	free(m->entries);
	memset(m, 0, sizeof *m);
}

/* The words of one line, unquoted into one buffer the size of the line (unquoting only
 * ever shrinks a word). */
struct words {
	char *storage;
	char **word;
	int count;
	int capacity;
};

static void words_free(struct words *words)
{
	free(words->storage);
	free(words->word);
	memset(words, 0, sizeof *words);
}

static int words_push(struct words *words, char *word)
{
	if (words->count == words->capacity) {
		int capacity = words->capacity ? words->capacity * 2 : 16;
		char **grown = realloc(words->word, (size_t)capacity * sizeof *grown);
		if (!grown)
			return -1;
		words->word = grown;
		words->capacity = capacity;
	}
	words->word[words->count++] = word;
	return 0;
}

/* A carriage return counts as a blank so a manifest saved with CRLF line ends parses. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int split_line(const char *line, size_t length, struct words *words, char *err,
		      size_t errlen)
{
	struct shown shown;
	words->storage = malloc(length + 1);
	if (!words->storage) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	char *out = words->storage;
	size_t i = 0;
	for (;;) {
		while (i < length && is_blank(line[i]))
			i++;
		if (i == length || line[i] == '#')
			return 0;
		size_t word_start = i;
		char *word = out;
		while (i < length && !is_blank(line[i]) && line[i] != '#') {
			if (line[i] != '"') {
				*out++ = line[i++];
				continue;
			}
			/* A quoted part, which may sit inside a word: key="a b" is one word. */
			i++;
			for (;;) {
				if (i == length) {
					set_error(err, errlen, "unterminated quote in '%s'",
						  show_bytes(line + word_start, length - word_start,
							     &shown));
					return -1;
				}
				char c = line[i];
				if (c == '"') {
					i++;
					break;
				}
				if (c == '\\') {
					/* A backslash ending the line leaves the quote open. */
					if (i + 1 == length) {
						i++;
						continue;
					}
					char escaped = line[i + 1];
					if (escaped != '"' && escaped != '\\') {
						set_error(err, errlen,
							  "bad escape in '%s' (only \\\" and \\\\)",
							  show_bytes(line + word_start,
								     length - word_start, &shown));
						return -1;
					}
					*out++ = escaped;
					i += 2;
					continue;
				}
				*out++ = c;
				i++;
			}
		}
		*out++ = '\0';
		if (words_push(words, word) != 0) {
			set_error(err, errlen, "out of memory");
			return -1;
		}
	}
}

/* Where each name and address is used, sorted so duplicates sit side by side. */
struct name_use {
	const char *name;
	unsigned entry;
};

struct address_use {
	uint64_t iid;
	unsigned entry;
};

static int compare_name_uses(const void *a, const void *b)
{
	const struct name_use *x = a, *y = b;
	int order = strcmp(x->name, y->name);
	if (order != 0)
		return order;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

static int compare_address_uses(const void *a, const void *b)
{
	const struct address_use *x = a, *y = b;
	if (x->iid != y->iid)
		return x->iid < y->iid ? -1 : 1;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

/* Finds the duplicate name or address whose second use comes first in the manifest.
 * Sorting keeps this O(n log n), so a long manifest cannot make boot quadratic. Each
 * entry's own addresses are already distinct (parse_address), so a duplicate here is
 * always between two entries. */
static int check_unique(const struct manifest *m, const char *origin, const uint8_t prefix[8],
			char *err, size_t errlen)
{
	struct name_use *names = calloc(m->count ? m->count : 1, sizeof *names);
	size_t address_total = 0;
	for (unsigned i = 0; i < m->count; i++)
		address_total += m->entries[i].address_count;
	struct address_use *addresses =
		calloc(address_total ? address_total : 1, sizeof *addresses);
	int result = -1;
	if (!names || !addresses) {
		set_error(err, errlen, "%s: out of memory", origin);
		goto out;
	}

	size_t used = 0;
	for (unsigned i = 0; i < m->count; i++) {
		names[i] = (struct name_use){m->entries[i].name, i};
		for (unsigned a = 0; a < m->entries[i].address_count; a++)
			addresses[used++] = (struct address_use){m->entries[i].iid[a], i};
	}
	qsort(names, m->count, sizeof *names, compare_name_uses);
	qsort(addresses, address_total, sizeof *addresses, compare_address_uses);

	unsigned name_first = 0, name_again = m->count; /* m->count: none found */
	for (unsigned i = 1; i < m->count; i++) {
		if (strcmp(names[i - 1].name, names[i].name) == 0 && names[i].entry < name_again) {
			name_first = names[i - 1].entry;
			name_again = names[i].entry;
		}
	}
	unsigned address_first = 0, address_again = m->count;
	uint64_t address_iid = 0;
	for (size_t i = 1; i < address_total; i++) {
		if (addresses[i - 1].iid == addresses[i].iid &&
		    addresses[i].entry < address_again) {
			address_first = addresses[i - 1].entry;
			address_again = addresses[i].entry;
			address_iid = addresses[i].iid;
		}
	}

	struct shown shown;
	if (name_again < m->count && name_again <= address_again) {
		const struct manifest_entry *again = &m->entries[name_again];
		set_error(err, errlen, "%s:%u: duplicate name '%s' (first on line %u)", origin,
			  again->line, show(again->name, &shown), m->entries[name_first].line);
		goto out;
	}
	if (address_again < m->count) {
		const struct manifest_entry *again = &m->entries[address_again];
		const struct manifest_entry *first = &m->entries[address_first];
		char text[INET6_ADDRSTRLEN];
		manifest_format_address(prefix, address_iid, text, sizeof text);
		set_error(err, errlen,
			  "%s:%u: duplicate address '%s' in '%s' (already used by '%s' on line %u)",
			  origin, again->line, text, again->name, first->name, first->line);
		goto out;
	}
	unsigned nic_driver = m->count;
	for (unsigned i = 0; i < m->count; i++) {
		if (m->entries[i].device != MANIFEST_DEVICE_NIC)
			continue;
		if (nic_driver < m->count) {
			set_error(err, errlen,
				  "%s:%u: '%s' would be a second driver of the nic "
				  "(first: '%s' on line %u)",
				  origin, m->entries[i].line, m->entries[i].name,
				  m->entries[nic_driver].name, m->entries[nic_driver].line);
			goto out;
		}
		nic_driver = i;
	}
	result = 0;
out:
	free(names);
	free(addresses);
	return result;
}

static int append_entry(struct manifest *m, unsigned *capacity, struct manifest_entry *entry)
{
	if (m->count == *capacity) {
		unsigned grown_capacity = *capacity ? *capacity * 2 : 8;
		struct manifest_entry *grown = realloc(m->entries, grown_capacity * sizeof *grown);
		if (!grown)
			return -1;
		m->entries = grown;
		*capacity = grown_capacity;
	}
	m->entries[m->count++] = *entry;
	return 0;
}

/* The text with its length, so manifest_load can report a NUL byte instead of silently
 * stopping at it. */
static int parse_text(const char *text, size_t length, const char *origin, const uint8_t prefix[8],
		      struct manifest *m, char *err, size_t errlen)
{
	struct manifest parsed = {0};
	unsigned capacity = 0;
	unsigned line_number = 0;
	char message[512];
	if (!origin)
		origin = "manifest";

	size_t line_start = 0;
	while (line_start < length) {
		line_number++;
		const char *line = text + line_start;
		const char *newline = memchr(line, '\n', length - line_start);
		size_t line_length = newline ? (size_t)(newline - line) : length - line_start;
		line_start += line_length + 1;

		const char *nul = memchr(line, '\0', line_length);
		if (nul) {
			set_error(err, errlen, "%s:%u: NUL byte in the text at column %zu", origin,
				  line_number, (size_t)(nul - line) + 1);
			goto fail;
		}
		struct words words = {0};
		if (split_line(line, line_length, &words, message, sizeof message) != 0) {
			set_error(err, errlen, "%s:%u: %s", origin, line_number, message);
			words_free(&words);
			goto fail;
		}
		if (words.count == 0) {
			words_free(&words);
			continue;
		}
		struct manifest_entry entry;
		int parse_result = manifest_entry_parse(words.count, words.word, prefix, &entry,
							message, sizeof message);
		words_free(&words);
		if (parse_result != 0) {
			set_error(err, errlen, "%s:%u: %s", origin, line_number, message);
			goto fail;
		}
		entry.line = line_number;
		if (append_entry(&parsed, &capacity, &entry) != 0) {
			manifest_entry_free(&entry);
			set_error(err, errlen, "%s:%u: out of memory", origin, line_number);
			goto fail;
		}
	}
	if (check_unique(&parsed, origin, prefix, err, errlen) != 0)
		goto fail;
	*m = parsed;
	return 0;

fail:
	manifest_free(&parsed);
	return -1;
}

int manifest_parse(const char *text, const char *origin, const uint8_t prefix[8],
		   struct manifest *m, char *err, size_t errlen)
{
	return parse_text(text, strlen(text), origin, prefix, m, err, errlen);
}

int manifest_load(const char *path, const uint8_t prefix[8], struct manifest *m, char *err,
		  size_t errlen)
{
	FILE *file = fopen(path, "rb");
	if (!file) {
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Read to the end rather than trust a size from fstat, so a pipe works too. One byte
	 * more than the limit tells an over-long file from one exactly at it. */
	char *text = malloc(MANIFEST_MAX_FILE_SIZE + 1);
	if (!text) {
		fclose(file);
		set_error(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size_t length = fread(text, 1, MANIFEST_MAX_FILE_SIZE + 1, file);
	int read_error = ferror(file) ? errno : 0;
	fclose(file);
	int result = -1;
	if (read_error) {
		set_error(err, errlen, "%s: %s", path, strerror(read_error));
	} else if (length > MANIFEST_MAX_FILE_SIZE) {
		set_error(err, errlen, "%s: larger than %u bytes", path, MANIFEST_MAX_FILE_SIZE);
	} else {
		result = parse_text(text, length, path, prefix, m, err, errlen);
	}
	free(text);
	return result;
}
