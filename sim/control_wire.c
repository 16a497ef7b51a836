/* The control protocol's codec: the daemon's response writer and request parser, the
 * client's request writer and response parser, and the two renderings of a response.
 *
 * The parser trusts nothing it reads: it copies the response, splits the copy in place and
 * checks every line against the grammar in control_wire.h before anything is rendered, so
 * a renderer only ever sees well-formed sections. */
#define _GNU_SOURCE
#include "control_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- The response writer ------------------------------------------------------------ */

void ctl_out_init(struct ctl_out *o)
{
	o->data = NULL;
	o->len = 0;
	o->cap = 0;
	o->failed = 0;
}

void ctl_out_free(struct ctl_out *o)
{
	free(o->data);
	ctl_out_init(o);
}

void ctl_out_reset(struct ctl_out *o)
{
	o->len = 0;
	o->failed = 0;
	if (o->data)
		o->data[0] = '\0';
}

/* Makes room for extra more bytes and the NUL after them. */
static int out_reserve(struct ctl_out *o, size_t extra)
{
	if (o->failed)
		return -1;
	if (extra < o->cap - o->len)
		return 0;
	if (extra > SIZE_MAX / 2 - o->len - 1) {
		o->failed = 1;
		return -1;
	}
	size_t cap = o->cap ? o->cap : 256;
	while (cap <= o->len + extra)
		cap *= 2;
	char *data = realloc(o->data, cap);
	if (!data) {
		o->failed = 1;
		return -1;
	}
	o->data = data;
	o->cap = cap;
	return 0;
}

static void out_bytes(struct ctl_out *o, const void *bytes, size_t n)
{
	if (out_reserve(o, n) < 0)
		return;
	memcpy(o->data + o->len, bytes, n);
	o->len += n;
	o->data[o->len] = '\0';
}

static void out_text(struct ctl_out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

/* A control character inside a value would end its field or its line early. */
static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static void out_sanitised(struct ctl_out *o, const char *s)
{
	if (!s)
		s = "";
	size_t start = o->len;
	out_text(o, s);
	if (o->failed)
		return;
	for (size_t i = start; i < o->len; i++)
		if (is_control((unsigned char)o->data[i]))
			o->data[i] = ' ';
}

__attribute__((format(printf, 2, 0))) static void out_vprintf(struct ctl_out *o, const char *fmt,
							      va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		o->failed = 1;
	} else if (out_reserve(o, (size_t)n) == 0) {
		vsnprintf(o->data + o->len, (size_t)n + 1, fmt, again);
		o->len += (size_t)n;
	}
	va_end(again);
}

__attribute__((format(printf, 2, 3))) static void out_printf(struct ctl_out *o, const char *fmt,
							     ...)
{
	va_list ap;
	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

void ctl_error(struct ctl_out *o, const char *fmt, ...)
{
	ctl_out_reset(o);
	out_text(o, "error\t");
	size_t start = o->len;
	va_list ap;
	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
	if (!o->failed)
		for (size_t i = start; i < o->len; i++)
			if (is_control((unsigned char)o->data[i]))
				o->data[i] = ' ';
	out_text(o, "\n");
}

void ctl_object(struct ctl_out *o, const char *name)
{
	out_text(o, "object\t");
	out_sanitised(o, name);
	out_text(o, "\n");
}

static void out_field_head(struct ctl_out *o, const char *key, char type)
{
	out_text(o, "field\t");
	out_sanitised(o, key);
	char tail[] = {'\t', type, '\t'};
	out_bytes(o, tail, sizeof(tail));
}

void ctl_num(struct ctl_out *o, const char *key, uint64_t value)
{
	out_field_head(o, key, CTL_TYPE_NUM);
	out_printf(o, "%" PRIu64 "\n", value);
}

void ctl_int(struct ctl_out *o, const char *key, int64_t value)
{
	out_field_head(o, key, CTL_TYPE_NUM);
	out_printf(o, "%" PRId64 "\n", value);
}

void ctl_str(struct ctl_out *o, const char *key, const char *value)
{
	out_field_head(o, key, CTL_TYPE_STR);
	out_sanitised(o, value);
	out_text(o, "\n");
}

void ctl_bool(struct ctl_out *o, const char *key, int value)
{
	out_field_head(o, key, CTL_TYPE_BOOL);
	out_text(o, value ? "true\n" : "false\n");
}

void ctl_table(struct ctl_out *o, const char *name, const char *columns)
{
	out_text(o, "table\t");
	out_sanitised(o, name);
	/* The column list is written by the daemon's author with spaces; the wire wants tabs. */
	const char *p = columns;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		out_text(o, "\t");
		out_bytes(o, p, n);
		p += n;
	}
	out_text(o, "\n");
}

void ctl_row_begin(struct ctl_out *o)
{
	out_text(o, "row");
}

void ctl_cell_num(struct ctl_out *o, uint64_t value)
{
	out_printf(o, "\t%" PRIu64, value);
}

void ctl_cell_int(struct ctl_out *o, int64_t value)
{
	out_printf(o, "\t%" PRId64, value);
}

void ctl_cell_str(struct ctl_out *o, const char *value)
{
	out_text(o, "\t");
	out_sanitised(o, value);
}

void ctl_cell_bool(struct ctl_out *o, int value)
{
	out_text(o, value ? "\ttrue" : "\tfalse");
}

void ctl_row_end(struct ctl_out *o)
{
	out_text(o, "\n");
}

void ctl_end(struct ctl_out *o)
{
	out_text(o, "end\n");
}

/* ---- Requests ----------------------------------------------------------------------- */

int ctl_request_parse(char *buf, size_t len, char *argv[], int max_args)
{
	if (len > CTL_REQUEST_MAX_BYTES)
		return -1;
	int limit = max_args < CTL_REQUEST_MAX_ARGS ? max_args : CTL_REQUEST_MAX_ARGS;
	int argc = 0;
	size_t pos = 0;
	while (pos < len) {
		char *arg = buf + pos;
		char *nul = memchr(arg, '\0', len - pos);
		if (!nul)
			break;
		if (nul == arg) {
			/* The empty string ends the request. */
			if (argc == 0 || pos + 1 != len)
				return -1;
			return argc;
		}
		if (argc >= limit)
			return -1;
		argv[argc++] = arg;
		pos = (size_t)(nul - buf) + 1;
	}
	/* Incomplete: wait for more, unless more could never fit. */
	return len >= CTL_REQUEST_MAX_BYTES ? -1 : 0;
}

int ctl_request_encode(struct ctl_out *o, int argc, const char *const argv[])
{
	ctl_out_reset(o);
	if (argc <= 0)
		return -EINVAL;
	if (argc > CTL_REQUEST_MAX_ARGS)
		return -E2BIG;
	size_t total = 1;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n == 0)
			return -EINVAL;
		total += n + 1;
		if (total > CTL_REQUEST_MAX_BYTES)
			return -E2BIG;
	}
	for (int i = 0; i < argc; i++)
		out_bytes(o, argv[i], strlen(argv[i]) + 1);
	out_bytes(o, "", 1);
	if (o->failed) {
		ctl_out_reset(o);
		return -ENOMEM;
	}
	return 0;
}

/* ---- The socket path ---------------------------------------------------------------- */

int ctl_socket_path_for(char *buf, size_t size, const char *packos_socket,
			const char *xdg_runtime_dir, uid_t euid)
{
	int n;
	if (packos_socket && packos_socket[0])
		n = snprintf(buf, size, "%s", packos_socket);
	else if (euid == 0)
		n = snprintf(buf, size, "/run/packos/packosd.sock");
	else if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
		n = snprintf(buf, size, "%s/packos/packosd.sock", xdg_runtime_dir);
	else
		n = snprintf(buf, size, "/tmp/packos-%ju/packosd.sock", (uintmax_t)euid);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

int ctl_default_socket_path(char *buf, size_t size)
{
	return ctl_socket_path_for(buf, size, getenv("PACKOS_SOCKET"), getenv("XDG_RUNTIME_DIR"),
				   geteuid());
}

/* ---- The response parser ------------------------------------------------------------ */

/* Makes room for needed entries of size bytes in items, which holds *capacity. Returns the
 * array, perhaps moved, or NULL with items untouched. */
static void *reserve(void *items, size_t *capacity, size_t needed, size_t size)
{
	if (needed <= *capacity && items)
		return items;
	size_t cap = *capacity ? *capacity : 4;
	while (cap < needed) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	if (cap > SIZE_MAX / size)
		return NULL;
	void *grown = realloc(items, cap * size);
	if (grown)
		*capacity = cap;
	return grown;
}

/* Numbers are canonical decimals (no sign on positives, no leading zero, no "-0"), so
 * both renderings print them as sent and JSON gets a valid number. */
static int check_number(const char *s, int *ret_negative, uint64_t *ret_magnitude)
{
	int negative = *s == '-';
	const char *digits = s + negative;
	if (digits[0] < '0' || digits[0] > '9')
		return -1;
	if (digits[0] == '0' && (digits[1] != '\0' || negative))
		return -1;
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : UINT64_MAX;
	uint64_t value = 0;
	for (const char *p = digits; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned digit = (unsigned)(*p - '0');
		if (value > (limit - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*ret_negative = negative;
	*ret_magnitude = value;
	return 0;
}

static int check_value(char type, const char *value)
{
	int negative;
	uint64_t magnitude;
	switch (type) {
	case CTL_TYPE_NUM:
		return check_number(value, &negative, &magnitude);
	case CTL_TYPE_BOOL:
		return strcmp(value, "true") == 0 || strcmp(value, "false") == 0 ? 0 : -1;
	case CTL_TYPE_STR:
		return 0;
	}
	return -1;
}

/* A type on the wire is exactly one of the letters n, s, b. */
static int parse_type(const char *s, char *ret_type)
{
	if (s[0] == '\0' || s[1] != '\0')
		return -1;
	if (s[0] != CTL_TYPE_NUM && s[0] != CTL_TYPE_STR && s[0] != CTL_TYPE_BOOL)
		return -1;
	*ret_type = s[0];
	return 0;
}

/* Splits line at its tabs in place. Stores up to max field pointers and returns how many
 * fields the line has, which may be more. */
static size_t split_fields(char *line, const char **fields, size_t max)
{
	size_t count = 0;
	char *p = line;
	for (;;) {
		if (count < max)
			fields[count] = p;
		count++;
		char *tab = strchr(p, '\t');
		if (!tab)
			return count;
		*tab = '\0';
		p = tab + 1;
	}
}

static size_t count_tabs(const char *line)
{
	size_t n = 0;
	for (; *line; line++)
		n += *line == '\t';
	return n;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Returns a name that occurs twice in names, or NULL. Sorts names, the caller's scratch
 * copy, which keeps this O(n log n) however long a response is. */
static const char *find_duplicate(const char **names, size_t count)
{
	qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 1; i < count; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			return names[i];
	return NULL;
}

struct parser {
	struct ctl_response *response;
	size_t line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int parse_fail(struct parser *p, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(p->err, p->errlen, "line %zu: %s", p->line, reason);
	else
		snprintf(p->err, p->errlen, "%s", reason);
	return -1;
}

static struct ctl_section *current_section(struct parser *p)
{
	struct ctl_response *r = p->response;
	return r->section_count ? &r->sections[r->section_count - 1] : NULL;
}

static struct ctl_section *add_section(struct parser *p, enum ctl_section_kind kind,
				       const char *name)
{
	struct ctl_response *r = p->response;
	if (name[0] == '\0') {
		parse_fail(p, "a section without a name");
		return NULL;
	}
	struct ctl_section *sections = reserve(r->sections, &r->section_capacity_,
					       r->section_count + 1, sizeof(*sections));
	if (!sections) {
		parse_fail(p, "out of memory");
		return NULL;
	}
	r->sections = sections;
	struct ctl_section *s = &r->sections[r->section_count++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->name = name;
	return s;
}

static int parse_object(struct parser *p, char *rest)
{
	const char *name[2];
	if (split_fields(rest, name, 2) != 1)
		return parse_fail(p, "'object' takes exactly one name");
	return add_section(p, CTL_SECTION_OBJECT, name[0]) ? 0 : -1;
}

static int parse_field(struct parser *p, char *rest)
{
	struct ctl_section *s = current_section(p);
	if (!s || s->kind != CTL_SECTION_OBJECT)
		return parse_fail(p, "a field outside an object");
	const char *parts[3];
	if (split_fields(rest, parts, 3) != 3)
		return parse_fail(p, "a field needs a key, a type and a value");
	char type;
	if (parts[0][0] == '\0')
		return parse_fail(p, "a field without a key");
	if (parse_type(parts[1], &type) < 0)
		return parse_fail(p, "field '%.64s' has a bad type '%.16s'", parts[0], parts[1]);
	if (check_value(type, parts[2]) < 0)
		return parse_fail(p, "field '%.64s' has a bad %s '%.32s'", parts[0],
				  type == CTL_TYPE_NUM ? "number" : "bool", parts[2]);
	struct ctl_field *fields =
		reserve(s->fields, &s->capacity_, s->field_count + 1, sizeof(*fields));
	if (!fields)
		return parse_fail(p, "out of memory");
	s->fields = fields;
	s->fields[s->field_count++] = (struct ctl_field){parts[0], type, parts[2]};
	return 0;
}

static int parse_table(struct parser *p, char *rest)
{
	size_t count = count_tabs(rest) + 1;
	const char **parts = malloc(count * sizeof(*parts));
	if (!parts)
		return parse_fail(p, "out of memory");
	split_fields(rest, parts, count);
	int result = -1;
	struct ctl_section *s = NULL;
	if (count < 2) {
		parse_fail(p, "a table needs a name and at least one column");
		goto done;
	}
	s = add_section(p, CTL_SECTION_TABLE, parts[0]);
	if (!s)
		goto done;
	s->columns = calloc(count - 1, sizeof(*s->columns));
	if (!s->columns) {
		parse_fail(p, "out of memory");
		goto done;
	}
	for (size_t i = 1; i < count; i++) {
		/* parts[i] points into rest, which is ours to split further. */
		char *spec = rest + (parts[i] - rest);
		char *colon = strrchr(spec, ':');
		if (!colon || colon == spec) {
			parse_fail(p, "column '%.64s' is not NAME:TYPE", spec);
			goto done;
		}
		*colon = '\0';
		struct ctl_column *c = &s->columns[s->column_count];
		c->name = spec;
		if (parse_type(colon + 1, &c->type) < 0) {
			parse_fail(p, "column '%.64s' has a bad type '%.16s'", spec, colon + 1);
			goto done;
		}
		s->column_count++;
	}
	result = 0;
done:
	free(parts);
	return result;
}

static int parse_row(struct parser *p, char *rest)
{
	struct ctl_section *s = current_section(p);
	if (!s || s->kind != CTL_SECTION_TABLE)
		return parse_fail(p, "a row outside a table");
	size_t n = s->column_count;
	size_t used = s->row_count * n;
	/* Reserve the row's cells so split_fields can store them in place. */
	const char **all_cells = reserve(s->cells, &s->capacity_, used + n, sizeof(*all_cells));
	if (!all_cells)
		return parse_fail(p, "out of memory");
	s->cells = all_cells;
	const char **cells = &all_cells[used];
	/* "row" with no tab has no cells at all; "row\t" has one empty cell. */
	size_t count = rest ? split_fields(rest, cells, n) : 0;
	if (count != n)
		return parse_fail(p, "a row of %zu cells in table '%.64s' of %zu columns", count,
				  s->name, n);
	for (size_t c = 0; c < n; c++)
		if (check_value(s->columns[c].type, cells[c]) < 0)
			return parse_fail(
				p, "column '%.64s' has a bad %s '%.32s'", s->columns[c].name,
				s->columns[c].type == CTL_TYPE_NUM ? "number" : "bool", cells[c]);
	s->row_count++;
	return 0;
}

/* Names key a JSON object, so a repeated one would lose data there. */
static int check_unique_names(struct parser *p)
{
	struct ctl_response *r = p->response;
	size_t most = r->section_count;
	for (size_t i = 0; i < r->section_count; i++) {
		const struct ctl_section *s = &r->sections[i];
		size_t count = s->kind == CTL_SECTION_OBJECT ? s->field_count : s->column_count;
		most = count > most ? count : most;
	}
	const char **names = malloc((most + 1) * sizeof(*names));
	if (!names)
		return parse_fail(p, "out of memory");

	int result = 0;
	for (size_t i = 0; i < r->section_count; i++)
		names[i] = r->sections[i].name;
	const char *duplicate = find_duplicate(names, r->section_count);
	if (duplicate)
		result = parse_fail(p, "two sections named '%.64s'", duplicate);
	for (size_t i = 0; i < r->section_count && result == 0; i++) {
		const struct ctl_section *s = &r->sections[i];
		int object = s->kind == CTL_SECTION_OBJECT;
		size_t count = object ? s->field_count : s->column_count;
		for (size_t k = 0; k < count; k++)
			names[k] = object ? s->fields[k].key : s->columns[k].name;
		duplicate = find_duplicate(names, count);
		if (duplicate)
			result = parse_fail(p, "section '%.64s' has '%.64s' twice", s->name,
					    duplicate);
	}
	free(names);
	return result;
}

static void free_sections(struct ctl_response *r)
{
	for (size_t i = 0; i < r->section_count; i++) {
		free(r->sections[i].fields);
		free(r->sections[i].columns);
		free(r->sections[i].cells);
	}
	free(r->sections);
	free(r->text_);
}

int ctl_response_parse(const char *data, size_t len, struct ctl_response *ret_response, char *err,
		       size_t errlen)
{
	struct ctl_response r = {0};
	struct parser p = {&r, 0, err, errlen};
	int finished = 0;

	if (len == 0)
		return parse_fail(&p, "empty response (packosd closed the connection)");
	if (memchr(data, '\0', len))
		return parse_fail(&p, "a NUL byte in the response");
	r.text_ = malloc(len + 1);
	if (!r.text_)
		return parse_fail(&p, "out of memory");
	memcpy(r.text_, data, len);
	r.text_[len] = '\0';

	char *line = r.text_;
	char *stop = r.text_ + len;
	while (line < stop) {
		p.line++;
		if (finished) {
			parse_fail(&p, "data after '%s'", r.error ? "error" : "end");
			goto fail;
		}
		char *newline = memchr(line, '\n', (size_t)(stop - line));
		if (!newline) {
			parse_fail(&p, "the last line has no newline (truncated response?)");
			goto fail;
		}
		*newline = '\0';
		char *rest = strchr(line, '\t');
		if (rest)
			*rest++ = '\0';

		int result;
		if (strcmp(line, "error") == 0) {
			/* Lenient on purpose: the message is what the user needs to see. */
			for (char *c = rest; c && *c; c++)
				if (*c == '\t')
					*c = ' ';
			r.error = rest ? rest : "";
			finished = 1;
			result = 0;
		} else if (strcmp(line, "end") == 0) {
			finished = 1;
			result = rest ? parse_fail(&p, "'end' takes no fields") : 0;
		} else if (strcmp(line, "object") == 0) {
			result = rest ? parse_object(&p, rest)
				      : parse_fail(&p, "'object' takes exactly one name");
		} else if (strcmp(line, "field") == 0) {
			result = rest ? parse_field(&p, rest)
				      : parse_fail(&p, "a field needs a key, a type and a value");
		} else if (strcmp(line, "table") == 0) {
			result = rest ? parse_table(&p, rest)
				      : parse_fail(&p,
						   "a table needs a name and at least one column");
		} else if (strcmp(line, "row") == 0) {
			result = parse_row(&p, rest);
		} else {
			result = parse_fail(&p, "unknown line kind '%.32s'", line);
		}
		if (result < 0)
			goto fail;
		line = newline + 1;
	}
	p.line = 0;
	if (!finished) {
		parse_fail(&p, "the response ends without 'end' (packosd stopped mid-answer?)");
		goto fail;
	}
	if (check_unique_names(&p) < 0)
		goto fail;
	*ret_response = r;
	return 0;
fail:
	free_sections(&r);
	return -1;
}

void ctl_response_free(struct ctl_response *response)
{
	free_sections(response);
	memset(response, 0, sizeof(*response));
}

const struct ctl_section *ctl_response_section(const struct ctl_response *response,
					       const char *name)
{
	for (size_t i = 0; i < response->section_count; i++)
		if (strcmp(response->sections[i].name, name) == 0)
			return &response->sections[i];
	return NULL;
}

int ctl_response_num(const struct ctl_response *response, const char *section, const char *key,
		     int64_t *ret_value)
{
	const struct ctl_section *s = ctl_response_section(response, section);
	if (!s || s->kind != CTL_SECTION_OBJECT)
		return -1;
	for (size_t i = 0; i < s->field_count; i++) {
		const struct ctl_field *f = &s->fields[i];
		if (strcmp(f->key, key) != 0)
			continue;
		int negative;
		uint64_t magnitude;
		if (f->type != CTL_TYPE_NUM || check_number(f->value, &negative, &magnitude) < 0)
			return -1;
		if (!negative && magnitude > INT64_MAX)
			return -1;
		/* -(INT64_MAX + 1) is INT64_MIN, reached without overflowing. */
		*ret_value = negative ? -(int64_t)(magnitude - 1) - 1 : (int64_t)magnitude;
		return 0;
	}
	return -1;
}

/* ---- JSON rendering ----------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. The NUL ending s fails every continuation
 * test, so this never reads past it. */
static size_t utf8_sequence_length(const unsigned char *s)
{
#define CONT(c) ((c) >= 0x80 && (c) <= 0xbf)
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return CONT(s[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;
		return s[1] >= lo && s[1] <= hi && CONT(s[2]) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
		return s[1] >= lo && s[1] <= hi && CONT(s[2]) && CONT(s[3]) ? 4 : 0;
	}
	return 0;
#undef CONT
}

/* RFC 8259 strings: quotes, backslashes and control characters escaped, UTF-8 passed
 * through, and any byte that is not UTF-8 replaced with U+FFFD so the output stays valid
 * for strict readers. */
static void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', out);
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\b':
				fputs("\\b", out);
				break;
			case '\f':
				fputs("\\f", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			default:
				fprintf(out, "\\u%04x", c);
			}
			p++;
		} else {
			size_t n = utf8_sequence_length(p);
			if (n == 0) {
				fputs("\\ufffd", out);
				p++;
			} else {
				fwrite(p, 1, n, out);
				p += n;
			}
		}
	}
	fputc('"', out);
}

/* Numbers and bools were checked by the parser and go out as sent. */
static void json_value(FILE *out, char type, const char *value)
{
	if (type == CTL_TYPE_STR)
		json_string(out, value);
	else
		fputs(value, out);
}

static void render_json(const struct ctl_response *r, FILE *out)
{
	if (r->error) {
		fputs("{\"error\": ", out);
		json_string(out, r->error);
		fputs("}\n", out);
		return;
	}
	fputs("{", out);
	for (size_t i = 0; i < r->section_count; i++) {
		const struct ctl_section *s = &r->sections[i];
		fputs(i ? ",\n  " : "\n  ", out);
		json_string(out, s->name);
		if (s->kind == CTL_SECTION_OBJECT) {
			fputs(": {", out);
			for (size_t f = 0; f < s->field_count; f++) {
				fputs(f ? ",\n    " : "\n    ", out);
				json_string(out, s->fields[f].key);
				fputs(": ", out);
				json_value(out, s->fields[f].type, s->fields[f].value);
			}
			fputs(s->field_count ? "\n  }" : "}", out);
		} else {
			fputs(": [", out);
			for (size_t row = 0; row < s->row_count; row++) {
				fputs(row ? ",\n    {" : "\n    {", out);
				for (size_t c = 0; c < s->column_count; c++) {
					if (c)
						fputs(", ", out);
					json_string(out, s->columns[c].name);
					fputs(": ", out);
					json_value(out, s->columns[c].type,
						   s->cells[row * s->column_count + c]);
				}
				fputs("}", out);
			}
			fputs(s->row_count ? "\n  ]" : "]", out);
		}
	}
	fputs(r->section_count ? "\n}\n" : "}\n", out);
}

/* ---- Rendering for people ----------------------------------------------------------- */

/* Columns on a terminal: one per UTF-8 character, which is right for every script that
 * does not use double-width characters. */
static size_t display_width(const char *s)
{
	size_t width = 0;
	for (; *s; s++)
		width += ((unsigned char)*s & 0xc0) != 0x80;
	return width;
}

/* A terminal would obey a control character a hostile response slipped in. */
static void text_string_cased(FILE *out, const char *s, int upper)
{
	for (; *s; s++) {
		char c = *s;
		if (is_control((unsigned char)c))
			c = '?';
		else if (upper && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		fputc(c, out);
	}
}

void ctl_print_text(FILE *out, const char *s)
{
	text_string_cased(out, s, 0);
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

static void render_object_text(const struct ctl_section *s, FILE *out)
{
	size_t key_width = 0;
	for (size_t f = 0; f < s->field_count; f++) {
		size_t w = display_width(s->fields[f].key);
		key_width = w > key_width ? w : key_width;
	}
	for (size_t f = 0; f < s->field_count; f++) {
		const struct ctl_field *field = &s->fields[f];
		ctl_print_text(out, field->key);
		fputc(':', out);
		if (field->value[0]) {
			pad(out, key_width - display_width(field->key) + 1);
			ctl_print_text(out, field->value);
		}
		fputc('\n', out);
	}
}

static void render_table_text(const struct ctl_section *s, FILE *out)
{
	size_t *widths = calloc(s->column_count, sizeof(*widths));
	if (!widths) {
		/* Unaligned is still readable; nothing is lost. */
		for (size_t row = 0; row < s->row_count; row++) {
			for (size_t c = 0; c < s->column_count; c++) {
				if (c)
					fputc(' ', out);
				ctl_print_text(out, s->cells[row * s->column_count + c]);
			}
			fputc('\n', out);
		}
		return;
	}
	for (size_t c = 0; c < s->column_count; c++)
		widths[c] = display_width(s->columns[c].name);
	for (size_t i = 0; i < s->row_count * s->column_count; i++) {
		size_t c = i % s->column_count;
		size_t w = display_width(s->cells[i]);
		widths[c] = w > widths[c] ? w : widths[c];
	}
	for (size_t row = 0; row <= s->row_count; row++) {
		for (size_t c = 0; c < s->column_count; c++) {
			/* Row 0 is the header, in capitals as ps(1) prints its own. */
			const char *text = row ? s->cells[(row - 1) * s->column_count + c]
					       : s->columns[c].name;
			size_t gap = widths[c] - display_width(text);
			int last = c + 1 == s->column_count;
			if (c)
				fputs("  ", out);
			if (s->columns[c].type == CTL_TYPE_NUM)
				pad(out, gap);
			text_string_cased(out, text, row == 0);
			if (s->columns[c].type != CTL_TYPE_NUM && !last)
				pad(out, gap);
		}
		fputc('\n', out);
	}
	free(widths);
}

static void render_text(const struct ctl_response *r, FILE *out, FILE *errors)
{
	if (r->error) {
		fputs("packosctl: ", errors);
		ctl_print_text(errors, r->error);
		fputc('\n', errors);
		return;
	}
	int printed = 0;
	for (size_t i = 0; i < r->section_count; i++) {
		const struct ctl_section *s = &r->sections[i];
		/* An empty object prints nothing, and then needs no separator either. */
		if (s->kind == CTL_SECTION_OBJECT && s->field_count == 0)
			continue;
		if (printed++)
			fputc('\n', out);
		/* With several sections, each says what it is: "calls" and "errors" are both
		 * columns of names and numbers. */
		if (r->section_count > 1) {
			ctl_print_text(out, s->name);
			fputs(":\n", out);
		}
		if (s->kind == CTL_SECTION_OBJECT)
			render_object_text(s, out);
		else
			render_table_text(s, out);
	}
}

int ctl_render(const struct ctl_response *response, int json, FILE *out, FILE *errors)
{
	if (json)
		render_json(response, out);
	else
		render_text(response, out, errors);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	if (!json && response->error && (fflush(errors) != 0 || ferror(errors)))
		return -1;
	return 0;
}
