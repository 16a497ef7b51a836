/* The steps of a trace for people (trace_render.h). The answer was checked by the parser
 * already; this only finds its columns by name, so a daemon that adds one breaks nothing. */
#include "trace_render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The columns the rendering reads. */
struct steps_columns {
	size_t step, since_first_ns, stage, who, what;
};

static int column(const struct ctl_section *steps, const char *name, size_t *ret_index)
{
	for (size_t c = 0; c < steps->column_count; c++) {
		if (strcmp(steps->columns[c].name, name) == 0) {
			*ret_index = c;
			return 0;
		}
	}
	return -1;
}

static const char *cell(const struct ctl_section *steps, size_t row, size_t index)
{
	return steps->cells[row * steps->column_count + index];
}

/* "+12.345 us" for a number of nanoseconds sent as decimal text. */
static void format_since(const char *ns_text, char *buf, size_t size)
{
	uint64_t ns = strtoull(ns_text, NULL, 10);
	snprintf(buf, size, "+%" PRIu64 ".%03" PRIu64 " us", ns / 1000, ns % 1000);
}

/* A cell padded to `width` columns, on the left when `right` is set. Cells are ASCII:
 * numbers, process names, stage names. */
static void print_padded(FILE *out, const char *text, size_t width, bool right)
{
	size_t gap = width > strlen(text) ? width - strlen(text) : 0;
	if (right)
		fprintf(out, "%*s", (int)gap, "");
	ctl_print_text(out, text);
	if (!right)
		fprintf(out, "%*s", (int)gap, "");
}

static void print_summary(const struct ctl_section *trace, FILE *out)
{
	const char *held = "0", *capacity = "0", *overwritten = "0", *running = "false";
	for (size_t f = 0; f < trace->field_count; f++) {
		const struct ctl_field *field = &trace->fields[f];
		if (strcmp(field->key, "held") == 0)
			held = field->value;
		else if (strcmp(field->key, "capacity") == 0)
			capacity = field->value;
		else if (strcmp(field->key, "overwritten") == 0)
			overwritten = field->value;
		else if (strcmp(field->key, "running") == 0)
			running = field->value;
	}
	fprintf(out, "trace: %s steps held (room for %s), %s overwritten, %s\n", held, capacity,
		strcmp(overwritten, "0") == 0 ? "none" : overwritten,
		strcmp(running, "true") == 0 ? "still recording" : "stopped");
}

int trace_render_steps(const struct ctl_response *response, FILE *out)
{
	const struct ctl_section *trace = ctl_response_section(response, "trace");
	const struct ctl_section *steps = ctl_response_section(response, "steps");
	struct steps_columns at;
	if (trace == NULL || trace->kind != CTL_SECTION_OBJECT || steps == NULL ||
	    steps->kind != CTL_SECTION_TABLE || column(steps, "step", &at.step) < 0 ||
	    column(steps, "since_first_ns", &at.since_first_ns) < 0 ||
	    column(steps, "stage", &at.stage) < 0 || column(steps, "who", &at.who) < 0 ||
	    column(steps, "what", &at.what) < 0)
		return -1;
	print_summary(trace, out);

	size_t step_width = 0, since_width = 0, who_width = 0;
	for (size_t row = 0; row < steps->row_count; row++) {
		char since[32];
		format_since(cell(steps, row, at.since_first_ns), since, sizeof since);
		size_t widths[3] = {strlen(cell(steps, row, at.step)), strlen(since),
				    strlen(cell(steps, row, at.who))};
		step_width = widths[0] > step_width ? widths[0] : step_width;
		since_width = widths[1] > since_width ? widths[1] : since_width;
		who_width = widths[2] > who_width ? widths[2] : who_width;
	}
	const char *stage = NULL;
	for (size_t row = 0; row < steps->row_count; row++) {
		/* A heading for each run of steps in one stage: the seed's figure, as it
		 * happened. */
		if (stage == NULL || strcmp(stage, cell(steps, row, at.stage)) != 0) {
			stage = cell(steps, row, at.stage);
			fputs(row == 0 ? "\n" : "", out);
			ctl_print_text(out, stage);
			fputc('\n', out);
		}
		char since[32];
		format_since(cell(steps, row, at.since_first_ns), since, sizeof since);
		fputs("  ", out);
		print_padded(out, cell(steps, row, at.step), step_width, true);
		fputs("  ", out);
		print_padded(out, since, since_width, true);
		fputs("  ", out);
		print_padded(out, cell(steps, row, at.who), who_width, false);
		fputs("  ", out);
		ctl_print_text(out, cell(steps, row, at.what));
		fputc('\n', out);
	}
	return fflush(out) != 0 || ferror(out) ? -1 : 0;
}
