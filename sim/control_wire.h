/* The control protocol between packosd and packosctl, both ends of it, with no socket in
 * sight so tests drive it directly.
 *
 * A request is the command's argv as NUL-terminated strings, ended by an empty string. A
 * response is lines of tab-separated fields: `error\tMESSAGE`, or sections (`object\tNAME`
 * with `field\tKEY\tTYPE\tVALUE` lines, `table\tNAME\tCOL:TYPE...` with `row\tVALUE...`
 * lines) closed by `end`. TYPE is n (decimal integer), s (string) or b (true/false). The
 * writer keeps every string free of control characters, so a tab or a newline always
 * separates fields or lines. */
#ifndef PACKOS_SIM_CONTROL_WIRE_H
#define PACKOS_SIM_CONTROL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* A request, its closing empty string included, is at most this long. */
#define CTL_REQUEST_MAX_BYTES (64 * 1024)
/* At most this many strings in a request, the command's name included. */
#define CTL_REQUEST_MAX_ARGS 64
/* packosctl refuses longer responses: even a full process table is far smaller. */
#define CTL_RESPONSE_MAX_BYTES (16 * 1024 * 1024)

/* ---- Daemon side: build a response ---------------------------------------------------- */

/* A growable buffer. After a failed allocation every further write is dropped and failed
 * stays set until ctl_out_reset, so a caller checks it once before sending. data is
 * NUL-terminated whenever it is not NULL (the NUL is not counted in len). */
struct ctl_out {
	char *data; /* malloc'ed, owned by the ctl_out */
	size_t len; /* bytes written */
	size_t cap; /* bytes allocated */
	int failed; /* an allocation failed: data holds a truncated response */
};

void ctl_out_init(struct ctl_out *o);
void ctl_out_free(struct ctl_out *o);
/* Empties the buffer and clears failed, keeping the allocation for the next response. */
void ctl_out_reset(struct ctl_out *o);

/* Replaces whatever the buffer holds with one error line: a failed command answers with
 * its error alone, never with the half of a record it built before failing. The caller
 * sends it and closes the connection. */
void ctl_error(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts a record; the fields that follow belong to it. */
void ctl_object(struct ctl_out *o, const char *name);
void ctl_num(struct ctl_out *o, const char *key, uint64_t value);
void ctl_int(struct ctl_out *o, const char *key, int64_t value);
/* A NULL value is sent as the empty string. */
void ctl_str(struct ctl_out *o, const char *key, const char *value);
void ctl_bool(struct ctl_out *o, const char *key, int value);

/* Starts a table. columns is "NAME:TYPE NAME:TYPE ...", e.g. "pid:n name:s addresses:s";
 * each row must then hold one cell per column, of the column's type. */
void ctl_table(struct ctl_out *o, const char *name, const char *columns);
void ctl_row_begin(struct ctl_out *o);
void ctl_cell_num(struct ctl_out *o, uint64_t value);
void ctl_cell_int(struct ctl_out *o, int64_t value);
void ctl_cell_str(struct ctl_out *o, const char *value);
void ctl_cell_bool(struct ctl_out *o, int value);
void ctl_row_end(struct ctl_out *o);

/* Closes a successful response. */
void ctl_end(struct ctl_out *o);

/* ---- Daemon side: read a request ------------------------------------------------------ */

/* Splits a received request in place. Returns argc (>= 1), 0 if more bytes are needed (no
 * terminating empty string yet), or -1 for a malformed request: longer than
 * CTL_REQUEST_MAX_BYTES, more than max_args or CTL_REQUEST_MAX_ARGS strings, an empty
 * command, or bytes after the terminating empty string. argv has room for max_args
 * pointers into buf and is not NULL-terminated. */
int ctl_request_parse(char *buf, size_t len, char *argv[], int max_args);

/* ---- Client side: write a request ----------------------------------------------------- */

/* Replaces o's contents with the request for argv[0..argc-1]. Returns 0, -E2BIG if it
 * breaks the limits above, -EINVAL if argc is 0 or an argument is empty (the protocol
 * reads an empty string as the end of the request), or -ENOMEM. */
int ctl_request_encode(struct ctl_out *o, int argc, const char *const argv[]);

/* ---- Both sides: where the socket lives ----------------------------------------------- */

/* The default control socket path: $PACKOS_SOCKET if set and not empty; as root
 * /run/packos/packosd.sock; else $XDG_RUNTIME_DIR/packos/packosd.sock if that variable
 * holds an absolute path; else /tmp/packos-<uid>/packosd.sock. Returns 0, or -1 if the
 * path does not fit in size bytes (buf then holds an empty string). */
int ctl_default_socket_path(char *buf, size_t size);

/* The same choice with its inputs passed in: NULL for an unset variable. */
int ctl_socket_path_for(char *buf, size_t size, const char *packos_socket,
			const char *xdg_runtime_dir, uid_t euid);

/* ---- Client side: read and render a response ------------------------------------------ */

enum ctl_section_kind {
	CTL_SECTION_OBJECT,
	CTL_SECTION_TABLE,
};

/* Value types as they appear on the wire. */
enum ctl_type {
	CTL_TYPE_NUM = 'n',
	CTL_TYPE_STR = 's',
	CTL_TYPE_BOOL = 'b',
};

struct ctl_field {
	const char *key;
	char type;	   /* enum ctl_type */
	const char *value; /* as sent: canonical decimal, "true"/"false", or the string */
};

struct ctl_column {
	const char *name;
	char type; /* enum ctl_type */
};

struct ctl_section {
	enum ctl_section_kind kind;
	const char *name;
	/* An object's fields, in the order sent. */
	struct ctl_field *fields;
	size_t field_count;
	/* A table's columns and its cells, row after row (row r, column c at
	 * cells[r * column_count + c]). */
	struct ctl_column *columns;
	size_t column_count;
	const char **cells;
	size_t row_count;
	size_t capacity_; /* private: entries allocated in fields or cells */
};

/* A parsed response. Every string points into text_, which the response owns. */
struct ctl_response {
	const char *error; /* an error response's message; NULL for a successful response */
	struct ctl_section *sections; /* sent before the end or the error, in order */
	size_t section_count;
	size_t section_capacity_; /* private */
	char *text_;		  /* private: the response, split in place */
};

/* Parses a whole response (the bytes read until the daemon closed the connection). Every
 * number, bool, type letter and cell count is checked, section names are unique within
 * the response and keys within their section, and the response must close with `end` or
 * an error line. Returns 0 and fills *ret_response, which the caller frees with
 * ctl_response_free, or -1 with *ret_response untouched and the reason, naming the line,
 * in err. */
int ctl_response_parse(const char *data, size_t len, struct ctl_response *ret_response, char *err,
		       size_t errlen);
void ctl_response_free(struct ctl_response *response);

/* The section called name, or NULL. */
const struct ctl_section *ctl_response_section(const struct ctl_response *response,
					       const char *name);

/* Reads the number field key of the object section. Returns 0, or -1 if there is no such
 * object or field, it is not a number, or it does not fit in an int64_t. */
int ctl_response_num(const struct ctl_response *response, const char *section, const char *key,
		     int64_t *ret_value);

/* Renders a parsed response. With json, the whole response, an error too, is one JSON
 * object on out: section names are its keys, an object becomes an object, a table an
 * array of objects, an error {"error": MESSAGE}. For people, objects print as aligned
 * "key: value" lines and tables as a header and aligned columns (numbers to the right),
 * with a blank line between sections, while an error response prints
 * "packosctl: MESSAGE" on errors. Returns 0, or -1 if writing failed. */
int ctl_render(const struct ctl_response *response, int json, FILE *out, FILE *errors);

/* Writes s for a terminal, as ctl_render does: a control character that a hostile response
 * slipped in prints as '?', so the terminal never obeys it. */
void ctl_print_text(FILE *out, const char *s);

#endif
