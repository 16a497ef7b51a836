/* docs/kcalls.md must describe every kernel call and every error the ABI defines, and say
 * of each error what the kernel really does with it, so the reference cannot drift from the
 * tables it documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <packos/errors.h>
#include <packos/kcalls.h>

static char *read_kcalls_md(void)
{
	FILE *f = fopen(PACKOS_SOURCE_DIR "/docs/kcalls.md", "r");
	assert_non_null(f);
	static char text[1 << 18];
	size_t n = fread(text, 1, sizeof text - 1, f);
	assert_true(n < sizeof text - 1);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_docs_have_a_section_per_kernel_call(void **state)
{
	(void)state;
	const char *text = read_kcalls_md();
	char heading[128];
#define CHECK_CALL(num, name, a0, a1, a2)                      \
	snprintf(heading, sizeof heading, "\n## %s\n", #name); \
	if (!strstr(text, heading))                            \
		fail_msg("docs/kcalls.md has no section \"## %s\" (call %d)", #name, num);
	PK_KCALL_LIST(CHECK_CALL)
#undef CHECK_CALL
}

static void test_docs_list_every_error_with_its_disposition(void **state)
{
	(void)state;
	const char *text = read_kcalls_md();
	char row[128];
#define CHECK_ERROR(num, name, msg, disposition)                                           \
	snprintf(row, sizeof row, "\n| %d | `%s` | %s | %s |", num, #name, msg,            \
		 strcmp(#disposition, "FAULT") == 0 ? "faults the caller" : "returns it"); \
	if (!strstr(text, row))                                                            \
		fail_msg("docs/kcalls.md lacks the error row \"%s\"", row + 1);
	PK_ERROR_LIST(CHECK_ERROR)
#undef CHECK_ERROR
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docs_have_a_section_per_kernel_call),
		cmocka_unit_test(test_docs_list_every_error_with_its_disposition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
