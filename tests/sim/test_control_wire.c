/* The control protocol's codec: what the daemon's writer emits comes back intact through
 * the client's parser and renders as documented, requests split as the daemon expects,
 * and every malformed response is refused with a reason instead of rendered. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "control_wire.h"

/* ---- Helpers ------------------------------------------------------------------------ */

struct rendered {
	char *out;    /* what went to the output stream */
	char *errors; /* what went to the error stream */
};

static struct rendered render_bytes(const char *data, size_t len, int json)
{
	struct ctl_response response;
	char reason[256] = "";
	int parsed = ctl_response_parse(data, len, &response, reason, sizeof(reason));
	if (parsed != 0)
		print_error("unexpected parse failure: %s\n", reason);
	assert_int_equal(parsed, 0);

	struct rendered r = {NULL, NULL};
	size_t out_len, errors_len;
	FILE *out = open_memstream(&r.out, &out_len);
	FILE *errors = open_memstream(&r.errors, &errors_len);
	assert_non_null(out);
	assert_non_null(errors);
	assert_int_equal(ctl_render(&response, json, out, errors), 0);
	fclose(out);
	fclose(errors);
	ctl_response_free(&response);
	return r;
}

static struct rendered render_out(const struct ctl_out *o, int json)
{
	assert_false(o->failed);
	return render_bytes(o->data, o->len, json);
}

static void rendered_free(struct rendered *r)
{
	free(r->out);
	free(r->errors);
}

/* Parses text that must be refused and checks the reason mentions expected. */
static void assert_malformed(const char *text, const char *expected)
{
	struct ctl_response response;
	memset(&response, 0x5a, sizeof(response));
	struct ctl_response untouched = response;
	char reason[256] = "";
	assert_int_equal(ctl_response_parse(text, strlen(text), &response, reason, sizeof(reason)),
			 -1);
	if (!strstr(reason, expected))
		print_error("reason \"%s\" lacks \"%s\"\n", reason, expected);
	assert_non_null(strstr(reason, expected));
	assert_memory_equal(&response, &untouched, sizeof(response));
}

/* ---- Writer to renderer, both ways -------------------------------------------------- */

static void test_object_renders_as_aligned_key_value_lines(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "status");
	ctl_num(&o, "uptime_ms", 1234);
	ctl_str(&o, "kan", "fd00::/64");
	ctl_bool(&o, "capturing", 0);
	ctl_int(&o, "offset", -5);
	ctl_end(&o);
	assert_string_equal(o.data, "object\tstatus\n"
				    "field\tuptime_ms\tn\t1234\n"
				    "field\tkan\ts\tfd00::/64\n"
				    "field\tcapturing\tb\tfalse\n"
				    "field\toffset\tn\t-5\n"
				    "end\n");

	struct rendered r = render_out(&o, 0);
	assert_string_equal(r.out, "uptime_ms: 1234\n"
				   "kan:       fd00::/64\n"
				   "capturing: false\n"
				   "offset:    -5\n");
	assert_string_equal(r.errors, "");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void test_object_renders_as_a_json_object(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "status");
	ctl_num(&o, "uptime_ms", 1234);
	ctl_str(&o, "kan", "fd00::/64");
	ctl_bool(&o, "capturing", 1);
	ctl_end(&o);

	struct rendered r = render_out(&o, 1);
	assert_string_equal(r.out, "{\n"
				   "  \"status\": {\n"
				   "    \"uptime_ms\": 1234,\n"
				   "    \"kan\": \"fd00::/64\",\n"
				   "    \"capturing\": true\n"
				   "  }\n"
				   "}\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void write_process_table(struct ctl_out *o)
{
	ctl_table(o, "processes", "pid:n name:s addresses:s alive:b");
	ctl_row_begin(o);
	ctl_cell_num(o, 1);
	ctl_cell_str(o, "init");
	ctl_cell_str(o, "fd00::1");
	ctl_cell_bool(o, 1);
	ctl_row_end(o);
	ctl_row_begin(o);
	ctl_cell_num(o, 12345);
	ctl_cell_str(o, "echo");
	ctl_cell_str(o, "fd00::7 fd00::8");
	ctl_cell_bool(o, 0);
	ctl_row_end(o);
}

static void test_table_aligns_numbers_right_and_strings_left(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	write_process_table(&o);
	ctl_end(&o);
	assert_string_equal(o.data, "table\tprocesses\tpid:n\tname:s\taddresses:s\talive:b\n"
				    "row\t1\tinit\tfd00::1\ttrue\n"
				    "row\t12345\techo\tfd00::7 fd00::8\tfalse\n"
				    "end\n");

	struct rendered r = render_out(&o, 0);
	assert_string_equal(r.out, "  PID  NAME  ADDRESSES        ALIVE\n"
				   "    1  init  fd00::1          true\n"
				   "12345  echo  fd00::7 fd00::8  false\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void test_table_renders_as_a_json_array_of_objects(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	write_process_table(&o);
	ctl_end(&o);

	struct rendered r = render_out(&o, 1);
	assert_string_equal(
		r.out,
		"{\n"
		"  \"processes\": [\n"
		"    {\"pid\": 1, \"name\": \"init\", \"addresses\": \"fd00::1\", \"alive\": "
		"true},\n"
		"    {\"pid\": 12345, \"name\": \"echo\", \"addresses\": \"fd00::7 fd00::8\", "
		"\"alive\": false}\n"
		"  ]\n"
		"}\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void test_empty_table_renders_its_header_and_an_empty_array(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_table(&o, "frames", "index:n holder:s");
	ctl_object(&o, "nothing");
	ctl_end(&o);

	struct rendered text = render_out(&o, 0);
	assert_string_equal(text.out, "frames:\nINDEX  HOLDER\n");
	struct rendered json = render_out(&o, 1);
	assert_string_equal(json.out, "{\n  \"frames\": [],\n  \"nothing\": {}\n}\n");
	rendered_free(&text);
	rendered_free(&json);
	ctl_out_free(&o);
}

static void write_mixed(struct ctl_out *o)
{
	ctl_object(o, "spawned");
	ctl_num(o, "pid", 7);
	ctl_str(o, "name", "echo");
	ctl_table(o, "endpoints", "address:s queued:n");
	ctl_row_begin(o);
	ctl_cell_str(o, "fd00::7");
	ctl_cell_num(o, 3);
	ctl_row_end(o);
	ctl_object(o, "exit");
	ctl_int(o, "code", 0);
	ctl_int(o, "signal", 0);
	ctl_end(o);
}

static void test_mixed_sections_are_separated_by_a_blank_line(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	write_mixed(&o);

	struct rendered r = render_out(&o, 0);
	assert_string_equal(r.out, "spawned:\n"
				   "pid:  7\n"
				   "name: echo\n"
				   "\n"
				   "endpoints:\n"
				   "ADDRESS  QUEUED\n"
				   "fd00::7       3\n"
				   "\n"
				   "exit:\n"
				   "code:   0\n"
				   "signal: 0\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void test_mixed_sections_are_keys_of_one_json_object(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	write_mixed(&o);

	struct rendered r = render_out(&o, 1);
	assert_string_equal(r.out, "{\n"
				   "  \"spawned\": {\n"
				   "    \"pid\": 7,\n"
				   "    \"name\": \"echo\"\n"
				   "  },\n"
				   "  \"endpoints\": [\n"
				   "    {\"address\": \"fd00::7\", \"queued\": 3}\n"
				   "  ],\n"
				   "  \"exit\": {\n"
				   "    \"code\": 0,\n"
				   "    \"signal\": 0\n"
				   "  }\n"
				   "}\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

static void test_response_without_sections_renders_empty(void **state)
{
	(void)state;
	struct rendered text = render_bytes("end\n", 4, 0);
	struct rendered json = render_bytes("end\n", 4, 1);
	assert_string_equal(text.out, "");
	assert_string_equal(json.out, "{}\n");
	rendered_free(&text);
	rendered_free(&json);
}

/* ---- Strings ------------------------------------------------------------------------ */

static void test_writer_replaces_control_characters_with_spaces(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "odd\tname");
	ctl_str(&o, "key\nwith newline",
		"a\tb\nc\rd\x01"
		"e\x7f"
		"f");
	ctl_table(&o, "t", "v:s");
	ctl_row_begin(&o);
	ctl_cell_str(&o, "x\ty");
	ctl_row_end(&o);
	ctl_end(&o);
	assert_string_equal(o.data, "object\todd name\n"
				    "field\tkey with newline\ts\ta b c d e f\n"
				    "table\tt\tv:s\n"
				    "row\tx y\n"
				    "end\n");

	struct ctl_response response;
	char reason[128];
	assert_int_equal(ctl_response_parse(o.data, o.len, &response, reason, sizeof(reason)), 0);
	assert_int_equal(response.section_count, 2);
	assert_string_equal(response.sections[0].fields[0].value, "a b c d e f");
	assert_string_equal(response.sections[1].cells[0], "x y");
	ctl_response_free(&response);
	ctl_out_free(&o);
}

static void test_null_and_empty_strings_travel_as_empty(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "o");
	ctl_str(&o, "missing", NULL);
	ctl_str(&o, "empty", "");
	ctl_table(&o, "t", "a:s b:n");
	ctl_row_begin(&o);
	ctl_cell_str(&o, NULL);
	ctl_cell_num(&o, 1);
	ctl_row_end(&o);
	ctl_end(&o);

	struct rendered text = render_out(&o, 0);
	assert_string_equal(text.out, "o:\nmissing:\nempty:\n\nt:\nA  B\n   1\n");
	struct rendered json = render_out(&o, 1);
	assert_string_equal(json.out, "{\n"
				      "  \"o\": {\n"
				      "    \"missing\": \"\",\n"
				      "    \"empty\": \"\"\n"
				      "  },\n"
				      "  \"t\": [\n"
				      "    {\"a\": \"\", \"b\": 1}\n"
				      "  ]\n"
				      "}\n");
	rendered_free(&text);
	rendered_free(&json);
	ctl_out_free(&o);
}

static void test_json_escapes_quotes_backslashes_and_control_characters(void **state)
{
	(void)state;
	/* Crafted by hand: the writer would never send control characters. */
	static const char response[] = "object\to\n"
				       "field\tquote\ts\tsay \"hi\"\n"
				       "field\tpath\ts\tC:\\dir\n"
				       "field\tcontrol\ts\t\b\f\r\x01\x1f\x7f\n"
				       "end\n";
	struct rendered json = render_bytes(response, sizeof(response) - 1, 1);
	assert_string_equal(json.out, "{\n"
				      "  \"o\": {\n"
				      "    \"quote\": \"say \\\"hi\\\"\",\n"
				      "    \"path\": \"C:\\\\dir\",\n"
				      "    \"control\": \"\\b\\f\\r\\u0001\\u001f\x7f\"\n"
				      "  }\n"
				      "}\n");
	/* People get a '?' where a terminal would obey a control character. */
	struct rendered text = render_bytes(response, sizeof(response) - 1, 0);
	assert_string_equal(text.out, "quote:   say \"hi\"\n"
				      "path:    C:\\dir\n"
				      "control: ??????\n");
	rendered_free(&json);
	rendered_free(&text);
}

static void test_json_passes_utf8_through_and_replaces_other_bytes(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "o");
	ctl_str(&o, "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6");
	ctl_str(&o, "latin1", "caf\xe9!");
	ctl_str(&o, "overlong", "\xc0\xaf");
	ctl_str(&o, "surrogate", "\xed\xa0\x80");
	ctl_str(&o, "cut", "\xe2\x82");
	ctl_end(&o);

	struct rendered json = render_out(&o, 1);
	assert_string_equal(json.out,
			    "{\n"
			    "  \"o\": {\n"
			    "    \"utf8\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6\",\n"
			    "    \"latin1\": \"caf\\ufffd!\",\n"
			    "    \"overlong\": \"\\ufffd\\ufffd\",\n"
			    "    \"surrogate\": \"\\ufffd\\ufffd\\ufffd\",\n"
			    "    \"cut\": \"\\ufffd\\ufffd\"\n"
			    "  }\n"
			    "}\n");
	rendered_free(&json);
	ctl_out_free(&o);
}

static void test_alignment_counts_characters_not_bytes(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "o");
	ctl_str(&o, "\xc3\xa9t\xc3\xa9", "summer");
	ctl_str(&o, "hiver", "winter");
	ctl_table(&o, "t", "name:s n:n");
	ctl_row_begin(&o);
	ctl_cell_str(&o, "\xc3\xa9t\xc3\xa9");
	ctl_cell_num(&o, 1);
	ctl_row_end(&o);
	ctl_row_begin(&o);
	ctl_cell_str(&o, "hiver");
	ctl_cell_num(&o, 22);
	ctl_row_end(&o);
	ctl_end(&o);

	struct rendered r = render_out(&o, 0);
	assert_string_equal(r.out, "o:\n"
				   "\xc3\xa9t\xc3\xa9:   summer\n"
				   "hiver: winter\n"
				   "\n"
				   "t:\n"
				   "NAME    N\n"
				   "\xc3\xa9t\xc3\xa9     1\n"
				   "hiver  22\n");
	rendered_free(&r);
	ctl_out_free(&o);
}

/* ---- Numbers ------------------------------------------------------------------------ */

static void test_numbers_at_their_limits_survive_both_renderings(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "o");
	ctl_num(&o, "zero", 0);
	ctl_num(&o, "max", UINT64_MAX);
	ctl_int(&o, "min", INT64_MIN);
	ctl_int(&o, "imax", INT64_MAX);
	ctl_table(&o, "t", "u:n i:n");
	ctl_row_begin(&o);
	ctl_cell_num(&o, UINT64_MAX);
	ctl_cell_int(&o, INT64_MIN);
	ctl_row_end(&o);
	ctl_row_begin(&o);
	ctl_cell_num(&o, 0);
	ctl_cell_int(&o, 0);
	ctl_row_end(&o);
	ctl_end(&o);

	struct rendered text = render_out(&o, 0);
	assert_string_equal(text.out, "o:\n"
				      "zero: 0\n"
				      "max:  18446744073709551615\n"
				      "min:  -9223372036854775808\n"
				      "imax: 9223372036854775807\n"
				      "\n"
				      "t:\n"
				      "                   U                     I\n"
				      "18446744073709551615  -9223372036854775808\n"
				      "                   0                     0\n");
	struct rendered json = render_out(&o, 1);
	assert_string_equal(json.out,
			    "{\n"
			    "  \"o\": {\n"
			    "    \"zero\": 0,\n"
			    "    \"max\": 18446744073709551615,\n"
			    "    \"min\": -9223372036854775808,\n"
			    "    \"imax\": 9223372036854775807\n"
			    "  },\n"
			    "  \"t\": [\n"
			    "    {\"u\": 18446744073709551615, \"i\": -9223372036854775808},\n"
			    "    {\"u\": 0, \"i\": 0}\n"
			    "  ]\n"
			    "}\n");

	struct ctl_response response;
	char reason[128];
	assert_int_equal(ctl_response_parse(o.data, o.len, &response, reason, sizeof(reason)), 0);
	int64_t value = 1;
	assert_int_equal(ctl_response_num(&response, "o", "zero", &value), 0);
	assert_true(value == 0);
	assert_int_equal(ctl_response_num(&response, "o", "min", &value), 0);
	assert_true(value == INT64_MIN);
	assert_int_equal(ctl_response_num(&response, "o", "imax", &value), 0);
	assert_true(value == INT64_MAX);
	/* UINT64_MAX is a valid number on the wire but no int64_t. */
	value = 42;
	assert_int_equal(ctl_response_num(&response, "o", "max", &value), -1);
	assert_true(value == 42);
	assert_int_equal(ctl_response_num(&response, "o", "absent", &value), -1);
	assert_int_equal(ctl_response_num(&response, "t", "u", &value), -1);
	assert_int_equal(ctl_response_num(&response, "absent", "u", &value), -1);
	ctl_response_free(&response);

	rendered_free(&text);
	rendered_free(&json);
	ctl_out_free(&o);
}

static void test_run_exit_status_reads_back_as_numbers(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "spawned");
	ctl_num(&o, "pid", 9);
	ctl_object(&o, "exit");
	ctl_int(&o, "code", 3);
	ctl_int(&o, "signal", 9);
	ctl_str(&o, "how", "killed");
	ctl_end(&o);

	struct ctl_response response;
	char reason[128];
	assert_int_equal(ctl_response_parse(o.data, o.len, &response, reason, sizeof(reason)), 0);
	int64_t code, signal;
	assert_int_equal(ctl_response_num(&response, "exit", "code", &code), 0);
	assert_int_equal(ctl_response_num(&response, "exit", "signal", &signal), 0);
	assert_int_equal(code, 3);
	assert_int_equal(signal, 9);
	/* A string is not a number, however it looks. */
	assert_int_equal(ctl_response_num(&response, "exit", "how", &code), -1);
	assert_non_null(ctl_response_section(&response, "spawned"));
	assert_null(ctl_response_section(&response, "other"));
	ctl_response_free(&response);
	ctl_out_free(&o);
}

/* ---- Errors ------------------------------------------------------------------------- */

static void test_error_replaces_what_was_written_before_it(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_object(&o, "half");
	ctl_num(&o, "done", 1);
	ctl_error(&o, "no process %s (%d)\tgone\n", "echo", 7);
	assert_string_equal(o.data, "error\tno process echo (7) gone \n");

	struct rendered text = render_out(&o, 0);
	assert_string_equal(text.out, "");
	assert_string_equal(text.errors, "packosctl: no process echo (7) gone \n");
	struct rendered json = render_out(&o, 1);
	assert_string_equal(json.out, "{\"error\": \"no process echo (7) gone \"}\n");
	assert_string_equal(json.errors, "");
	rendered_free(&text);
	rendered_free(&json);
	ctl_out_free(&o);
}

static void test_error_after_a_streamed_section_is_the_answer(void **state)
{
	(void)state;
	/* run sends spawned at once; the error comes on a later write. */
	static const char response[] =
		"object\tspawned\nfield\tpid\tn\t4\nerror\tpackosd stopping\n";
	struct ctl_response parsed;
	char reason[128];
	assert_int_equal(
		ctl_response_parse(response, sizeof(response) - 1, &parsed, reason, sizeof(reason)),
		0);
	assert_string_equal(parsed.error, "packosd stopping");
	assert_int_equal(parsed.section_count, 1);
	ctl_response_free(&parsed);

	struct rendered json = render_bytes(response, sizeof(response) - 1, 1);
	assert_string_equal(json.out, "{\"error\": \"packosd stopping\"}\n");
	rendered_free(&json);
}

static void test_error_escapes_its_message_in_json(void **state)
{
	(void)state;
	static const char response[] = "error\tbad \"name\" \\ here\n";
	struct rendered json = render_bytes(response, sizeof(response) - 1, 1);
	assert_string_equal(json.out, "{\"error\": \"bad \\\"name\\\" \\\\ here\"}\n");
	rendered_free(&json);
}

/* ---- The writer's buffer ------------------------------------------------------------ */

static void test_reset_empties_the_buffer_and_keeps_it(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	for (int i = 0; i < 1000; i++)
		ctl_num(&o, "grow", (uint64_t)i);
	assert_true(o.len > 10000);
	char *data = o.data;
	size_t cap = o.cap;
	ctl_out_reset(&o);
	assert_int_equal(o.len, 0);
	assert_ptr_equal(o.data, data);
	assert_int_equal(o.cap, cap);
	assert_string_equal(o.data, "");
	ctl_end(&o);
	assert_string_equal(o.data, "end\n");
	ctl_out_free(&o);
	assert_null(o.data);
	assert_int_equal(o.len, 0);
}

/* ---- Requests ----------------------------------------------------------------------- */

static void test_request_parse_splits_a_complete_request(void **state)
{
	(void)state;
	char buf[] = "spawn\0echo\0kan-echo\0address=::7\0";
	char *argv[CTL_REQUEST_MAX_ARGS];
	/* sizeof counts the literal's own NUL: the empty string that ends the request. */
	assert_int_equal(ctl_request_parse(buf, sizeof(buf), argv, CTL_REQUEST_MAX_ARGS), 4);
	assert_string_equal(argv[0], "spawn");
	assert_string_equal(argv[1], "echo");
	assert_string_equal(argv[2], "kan-echo");
	assert_string_equal(argv[3], "address=::7");
	assert_ptr_equal(argv[0], buf);
}

static void test_request_parse_waits_for_the_rest(void **state)
{
	(void)state;
	char buf[] = "status\0";
	char *argv[CTL_REQUEST_MAX_ARGS];
	assert_int_equal(ctl_request_parse(buf, 0, argv, CTL_REQUEST_MAX_ARGS), 0);
	assert_int_equal(ctl_request_parse(buf, 3, argv, CTL_REQUEST_MAX_ARGS), 0);
	assert_int_equal(ctl_request_parse(buf, 7, argv, CTL_REQUEST_MAX_ARGS), 0);
	assert_int_equal(ctl_request_parse(buf, 8, argv, CTL_REQUEST_MAX_ARGS), 1);
	assert_string_equal(argv[0], "status");
}

static void test_request_parse_refuses_an_empty_command(void **state)
{
	(void)state;
	char buf[] = "\0";
	char *argv[CTL_REQUEST_MAX_ARGS];
	assert_int_equal(ctl_request_parse(buf, 1, argv, CTL_REQUEST_MAX_ARGS), -1);
	assert_int_equal(ctl_request_parse(buf, 2, argv, CTL_REQUEST_MAX_ARGS), -1);
}

static void test_request_parse_refuses_bytes_after_the_end(void **state)
{
	(void)state;
	char buf[] = "kill\0\0x";
	char *argv[CTL_REQUEST_MAX_ARGS];
	assert_int_equal(ctl_request_parse(buf, sizeof(buf) - 1, argv, CTL_REQUEST_MAX_ARGS), -1);
}

static void test_request_parse_refuses_too_many_arguments(void **state)
{
	(void)state;
	char buf[2 * (CTL_REQUEST_MAX_ARGS + 1) + 1];
	char *argv[CTL_REQUEST_MAX_ARGS + 1];
	/* CTL_REQUEST_MAX_ARGS strings "a" then the end: allowed. */
	size_t len = 0;
	for (int i = 0; i < CTL_REQUEST_MAX_ARGS; i++) {
		buf[len++] = 'a';
		buf[len++] = '\0';
	}
	buf[len] = '\0';
	assert_int_equal(ctl_request_parse(buf, len + 1, argv, CTL_REQUEST_MAX_ARGS),
			 CTL_REQUEST_MAX_ARGS);
	/* One more is refused even before the end arrives, and even if argv had room. */
	buf[len++] = 'a';
	buf[len++] = '\0';
	buf[len] = '\0';
	assert_int_equal(ctl_request_parse(buf, len, argv, CTL_REQUEST_MAX_ARGS + 1), -1);
	assert_int_equal(ctl_request_parse(buf, len + 1, argv, CTL_REQUEST_MAX_ARGS + 1), -1);
	/* The caller's smaller array is a limit too. */
	assert_int_equal(ctl_request_parse(buf, 2 * 3, argv, 2), -1);
	assert_int_equal(ctl_request_parse(buf, 2 * 2, argv, 2), 0);
}

static void test_request_parse_refuses_an_over_long_request(void **state)
{
	(void)state;
	size_t size = CTL_REQUEST_MAX_BYTES + 16;
	char *buf = malloc(size);
	assert_non_null(buf);
	char *argv[CTL_REQUEST_MAX_ARGS];

	/* Exactly the limit, terminator included: allowed. */
	memset(buf, 'x', size);
	buf[0] = 'r';
	buf[CTL_REQUEST_MAX_BYTES - 2] = '\0';
	buf[CTL_REQUEST_MAX_BYTES - 1] = '\0';
	assert_int_equal(ctl_request_parse(buf, CTL_REQUEST_MAX_BYTES, argv, CTL_REQUEST_MAX_ARGS),
			 1);

	/* At the limit with no end yet: it could never be completed. */
	memset(buf, 'x', size);
	assert_int_equal(ctl_request_parse(buf, CTL_REQUEST_MAX_BYTES, argv, CTL_REQUEST_MAX_ARGS),
			 -1);
	assert_int_equal(
		ctl_request_parse(buf, CTL_REQUEST_MAX_BYTES - 1, argv, CTL_REQUEST_MAX_ARGS), 0);

	/* One byte over, however well it ends. */
	buf[CTL_REQUEST_MAX_BYTES - 1] = '\0';
	buf[CTL_REQUEST_MAX_BYTES] = '\0';
	assert_int_equal(
		ctl_request_parse(buf, CTL_REQUEST_MAX_BYTES + 1, argv, CTL_REQUEST_MAX_ARGS), -1);
	free(buf);
}

static void test_request_encode_round_trips_through_parse(void **state)
{
	(void)state;
	const char *args[] = {"run", "kan-echo", "address=::7", "--", "hello world"};
	struct ctl_out o;
	ctl_out_init(&o);
	assert_int_equal(ctl_request_encode(&o, 5, args), 0);
	assert_int_equal(o.len, sizeof("run\0kan-echo\0address=::7\0--\0hello world\0"));
	assert_memory_equal(o.data, "run\0kan-echo\0address=::7\0--\0hello world\0", o.len);

	char *argv[CTL_REQUEST_MAX_ARGS];
	assert_int_equal(ctl_request_parse(o.data, o.len, argv, CTL_REQUEST_MAX_ARGS), 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(argv[i], args[i]);
	ctl_out_free(&o);
}

static void test_request_encode_refuses_what_parse_would(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	const char *with_empty[] = {"spawn", "", "x"};
	assert_int_equal(ctl_request_encode(&o, 3, with_empty), -EINVAL);
	assert_int_equal(ctl_request_encode(&o, 0, with_empty), -EINVAL);
	assert_int_equal(o.len, 0);

	const char *many[CTL_REQUEST_MAX_ARGS + 1];
	for (int i = 0; i <= CTL_REQUEST_MAX_ARGS; i++)
		many[i] = "a";
	assert_int_equal(ctl_request_encode(&o, CTL_REQUEST_MAX_ARGS, many), 0);
	assert_int_equal(ctl_request_encode(&o, CTL_REQUEST_MAX_ARGS + 1, many), -E2BIG);

	char *huge = malloc(CTL_REQUEST_MAX_BYTES);
	assert_non_null(huge);
	memset(huge, 'x', CTL_REQUEST_MAX_BYTES - 1);
	huge[CTL_REQUEST_MAX_BYTES - 1] = '\0';
	const char *one[] = {huge};
	assert_int_equal(ctl_request_encode(&o, 1, one), -E2BIG);
	/* Its own NUL and the ending empty string make exactly the limit. */
	huge[CTL_REQUEST_MAX_BYTES - 2] = '\0';
	assert_int_equal(ctl_request_encode(&o, 1, one), 0);
	assert_int_equal(o.len, CTL_REQUEST_MAX_BYTES);
	free(huge);
	ctl_out_free(&o);
}

/* ---- The socket path ---------------------------------------------------------------- */

static void test_socket_path_follows_the_documented_order(void **state)
{
	(void)state;
	char path[108];
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), "/x/y.sock", "/run/user/5", 0), 0);
	assert_string_equal(path, "/x/y.sock");
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), NULL, "/run/user/0", 0), 0);
	assert_string_equal(path, "/run/packos/packosd.sock");
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), "", "/run/user/1000", 1000), 0);
	assert_string_equal(path, "/run/user/1000/packos/packosd.sock");
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), NULL, NULL, 1000), 0);
	assert_string_equal(path, "/tmp/packos-1000/packosd.sock");
	/* A relative XDG_RUNTIME_DIR is invalid by the spec and ignored. */
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), NULL, "run", 1000), 0);
	assert_string_equal(path, "/tmp/packos-1000/packosd.sock");
}

static void test_socket_path_that_does_not_fit_is_refused(void **state)
{
	(void)state;
	char path[16];
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), NULL, NULL, 0), -1);
	assert_string_equal(path, "");
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), "/exactly15chars", NULL, 0), 0);
	assert_int_equal(ctl_socket_path_for(path, sizeof(path), "/exactly16chars!", NULL, 0), -1);
}

static void test_default_socket_path_reads_the_environment(void **state)
{
	(void)state;
	char *saved_socket = getenv("PACKOS_SOCKET") ? strdup(getenv("PACKOS_SOCKET")) : NULL;
	char *saved_xdg = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
	char path[108];

	setenv("PACKOS_SOCKET", "/somewhere/else.sock", 1);
	assert_int_equal(ctl_default_socket_path(path, sizeof(path)), 0);
	assert_string_equal(path, "/somewhere/else.sock");

	unsetenv("PACKOS_SOCKET");
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	assert_int_equal(ctl_default_socket_path(path, sizeof(path)), 0);
	assert_string_equal(path, geteuid() == 0 ? "/run/packos/packosd.sock"
						 : "/run/user/4242/packos/packosd.sock");

	unsetenv("XDG_RUNTIME_DIR");
	char expected[108];
	snprintf(expected, sizeof(expected), "/tmp/packos-%u/packosd.sock", (unsigned)geteuid());
	assert_int_equal(ctl_default_socket_path(path, sizeof(path)), 0);
	assert_string_equal(path, geteuid() == 0 ? "/run/packos/packosd.sock" : expected);

	if (saved_socket)
		setenv("PACKOS_SOCKET", saved_socket, 1);
	if (saved_xdg)
		setenv("XDG_RUNTIME_DIR", saved_xdg, 1);
	free(saved_socket);
	free(saved_xdg);
}

/* ---- Malformed responses ------------------------------------------------------------ */

static void test_malformed_unknown_line_kind(void **state)
{
	(void)state;
	assert_malformed("object\to\nfield\ta\tn\t1\nfeld\tb\tn\t2\nend\n",
			 "line 3: unknown line kind 'feld'");
	assert_malformed("\nend\n", "line 1: unknown line kind ''");
	assert_malformed("END\n", "unknown line kind 'END'");
}

static void test_malformed_wrong_number_of_cells(void **state)
{
	(void)state;
	assert_malformed("table\tt\ta:n\tb:s\nrow\t1\nend\n", "line 2: a row of 1 cells");
	assert_malformed("table\tt\ta:n\tb:s\nrow\t1\tx\ty\nend\n", "a row of 3 cells");
	assert_malformed("table\tt\ta:s\nrow\nend\n", "a row of 0 cells");
	assert_malformed("object\to\nfield\tk\tn\nend\n",
			 "a field needs a key, a type and a value");
	assert_malformed("object\to\nfield\tk\ts\tv\textra\nend\n", "a field needs");
	assert_malformed("object\nend\n", "'object' takes exactly one name");
	assert_malformed("object\ta\tb\nend\n", "'object' takes exactly one name");
	assert_malformed("table\tt\nend\n", "a table needs a name and at least one column");
	assert_malformed("end\tmore\n", "'end' takes no fields");
}

static void test_malformed_bad_numbers(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"-",
		"abc",
		"12a",
		"+1",
		"01",
		"-0",
		" 1",
		"1.5",
		"18446744073709551616",	   /* UINT64_MAX + 1 */
		"-9223372036854775809",	   /* INT64_MIN - 1 */
		"99999999999999999999999", /* far past both */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "object\to\nfield\tk\tn\t%s\nend\n", bad[i]);
		assert_malformed(text, "line 2: field 'k' has a bad number");
		snprintf(text, sizeof(text), "table\tt\tk:n\nrow\t%s\nend\n", bad[i]);
		assert_malformed(text, "line 2: column 'k' has a bad number");
	}
}

static void test_malformed_bad_bool(void **state)
{
	(void)state;
	assert_malformed("object\to\nfield\tk\tb\tyes\nend\n", "field 'k' has a bad bool 'yes'");
	assert_malformed("table\tt\tk:b\nrow\tTRUE\nend\n", "column 'k' has a bad bool 'TRUE'");
}

static void test_malformed_bad_type_letter(void **state)
{
	(void)state;
	assert_malformed("object\to\nfield\tk\tx\t1\nend\n", "field 'k' has a bad type 'x'");
	assert_malformed("object\to\nfield\tk\tns\t1\nend\n", "bad type 'ns'");
	assert_malformed("object\to\nfield\tk\t\t1\nend\n", "bad type ''");
	assert_malformed("table\tt\tk:q\nend\n", "column 'k' has a bad type 'q'");
	assert_malformed("table\tt\tk\nend\n", "column 'k' is not NAME:TYPE");
	assert_malformed("table\tt\t:n\nend\n", "column ':n' is not NAME:TYPE");
}

static void test_malformed_missing_end(void **state)
{
	(void)state;
	assert_malformed("object\to\nfield\tk\tn\t1\n", "ends without 'end'");
	assert_malformed("table\tt\tk:n\nrow\t1\n", "ends without 'end'");
	assert_malformed("object\to\nfield\tk\tn\t1\nend", "line 3: the last line has no newline");
	assert_malformed("", "empty response");
}

static void test_malformed_lines_out_of_place(void **state)
{
	(void)state;
	assert_malformed("field\tk\tn\t1\nend\n", "line 1: a field outside an object");
	assert_malformed("table\tt\tk:n\nfield\tk\tn\t1\nend\n", "a field outside an object");
	assert_malformed("row\t1\nend\n", "line 1: a row outside a table");
	assert_malformed("object\to\nrow\t1\nend\n", "a row outside a table");
	assert_malformed("end\nend\n", "line 2: data after 'end'");
	assert_malformed("error\tx\nend\n", "line 2: data after 'error'");
	assert_malformed("end\nobject\to\n", "data after 'end'");
}

static void test_malformed_names(void **state)
{
	(void)state;
	assert_malformed("object\t\nend\n", "a section without a name");
	assert_malformed("object\to\nfield\t\tn\t1\nend\n", "a field without a key");
	assert_malformed("object\ta\nobject\ta\nend\n", "two sections named 'a'");
	assert_malformed("object\ta\ntable\ta\tx:n\nend\n", "two sections named 'a'");
	assert_malformed("object\to\nfield\tk\tn\t1\nfield\tk\ts\tx\nend\n",
			 "section 'o' has 'k' twice");
	assert_malformed("table\tt\tk:n\tk:s\nend\n", "section 't' has 'k' twice");
}

static void test_malformed_nul_byte(void **state)
{
	(void)state;
	static const char text[] = "object\to\nfield\tk\ts\ta\0b\nend\n";
	struct ctl_response response;
	char reason[128];
	assert_int_equal(
		ctl_response_parse(text, sizeof(text) - 1, &response, reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "NUL byte"));
}

static void test_malformed_reason_is_truncated_to_the_buffer(void **state)
{
	(void)state;
	struct ctl_response response;
	char reason[8];
	memset(reason, 'z', sizeof(reason));
	static const char text[] = "nonsense\n";
	assert_int_equal(
		ctl_response_parse(text, sizeof(text) - 1, &response, reason, sizeof(reason)), -1);
	assert_string_equal(reason, "line 1:");
}

static void test_large_table_parses(void **state)
{
	(void)state;
	struct ctl_out o;
	ctl_out_init(&o);
	ctl_table(&o, "frames", "index:n holder:s");
	for (uint64_t i = 0; i < 20000; i++) {
		ctl_row_begin(&o);
		ctl_cell_num(&o, i);
		ctl_cell_str(&o, i % 2 ? "free" : "echo");
		ctl_row_end(&o);
	}
	ctl_end(&o);

	struct ctl_response response;
	char reason[128];
	assert_int_equal(ctl_response_parse(o.data, o.len, &response, reason, sizeof(reason)), 0);
	const struct ctl_section *s = ctl_response_section(&response, "frames");
	assert_non_null(s);
	assert_int_equal(s->row_count, 20000);
	assert_string_equal(s->cells[2 * 19999], "19999");
	assert_string_equal(s->cells[2 * 19999 + 1], "free");
	ctl_response_free(&response);
	ctl_out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_renders_as_aligned_key_value_lines),
		cmocka_unit_test(test_object_renders_as_a_json_object),
		cmocka_unit_test(test_table_aligns_numbers_right_and_strings_left),
		cmocka_unit_test(test_table_renders_as_a_json_array_of_objects),
		cmocka_unit_test(test_empty_table_renders_its_header_and_an_empty_array),
		cmocka_unit_test(test_mixed_sections_are_separated_by_a_blank_line),
		cmocka_unit_test(test_mixed_sections_are_keys_of_one_json_object),
		cmocka_unit_test(test_response_without_sections_renders_empty),
		cmocka_unit_test(test_writer_replaces_control_characters_with_spaces),
		cmocka_unit_test(test_null_and_empty_strings_travel_as_empty),
		cmocka_unit_test(test_json_escapes_quotes_backslashes_and_control_characters),
		cmocka_unit_test(test_json_passes_utf8_through_and_replaces_other_bytes),
		cmocka_unit_test(test_alignment_counts_characters_not_bytes),
		cmocka_unit_test(test_numbers_at_their_limits_survive_both_renderings),
		cmocka_unit_test(test_run_exit_status_reads_back_as_numbers),
		cmocka_unit_test(test_error_replaces_what_was_written_before_it),
		cmocka_unit_test(test_error_after_a_streamed_section_is_the_answer),
		cmocka_unit_test(test_error_escapes_its_message_in_json),
		cmocka_unit_test(test_reset_empties_the_buffer_and_keeps_it),
		cmocka_unit_test(test_request_parse_splits_a_complete_request),
		cmocka_unit_test(test_request_parse_waits_for_the_rest),
		cmocka_unit_test(test_request_parse_refuses_an_empty_command),
		cmocka_unit_test(test_request_parse_refuses_bytes_after_the_end),
		cmocka_unit_test(test_request_parse_refuses_too_many_arguments),
		cmocka_unit_test(test_request_parse_refuses_an_over_long_request),
		cmocka_unit_test(test_request_encode_round_trips_through_parse),
		cmocka_unit_test(test_request_encode_refuses_what_parse_would),
		cmocka_unit_test(test_socket_path_follows_the_documented_order),
		cmocka_unit_test(test_socket_path_that_does_not_fit_is_refused),
		cmocka_unit_test(test_default_socket_path_reads_the_environment),
		cmocka_unit_test(test_malformed_unknown_line_kind),
		cmocka_unit_test(test_malformed_wrong_number_of_cells),
		cmocka_unit_test(test_malformed_bad_numbers),
		cmocka_unit_test(test_malformed_bad_bool),
		cmocka_unit_test(test_malformed_bad_type_letter),
		cmocka_unit_test(test_malformed_missing_end),
		cmocka_unit_test(test_malformed_lines_out_of_place),
		cmocka_unit_test(test_malformed_names),
		cmocka_unit_test(test_malformed_nul_byte),
		cmocka_unit_test(test_malformed_reason_is_truncated_to_the_buffer),
		cmocka_unit_test(test_large_table_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
