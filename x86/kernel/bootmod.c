/* The module command line, parsed once at boot from the loader's memory into the
 * kernel's. Unknown options are errors: a typo in a test's setup should not pass quietly. */
#include "../rt/rt.h"
#include "bootmod.h"

static int starts_with(const char *text, const char *prefix)
{
	return memcmp(text, prefix, strlen(prefix)) == 0;
}

static int parse_hex(const char *text, uint32_t length, uint64_t *ret_value)
{
	uint64_t value = 0;
	if (length == 0 || length > 16)
		return -1;
	for (uint32_t i = 0; i < length; i++) {
		char c = text[i];
		int digit = c >= '0' && c <= '9'   ? c - '0'
			    : c >= 'a' && c <= 'f' ? c - 'a' + 10
			    : c >= 'A' && c <= 'F' ? c - 'A' + 10
						   : -1;
		if (digit < 0)
			return -1;
		value = value << 4 | (uint64_t)digit;
	}
	*ret_value = value;
	return 0;
}

static int parse_decimal(const char *text, uint32_t length, int *ret_value)
{
	int value = 0;
	if (length == 0 || length > 5)
		return -1;
	for (uint32_t i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	*ret_value = value;
	return 0;
}

static void copy_word(char *dst, uint32_t size, const char *word, uint32_t length)
{
	if (length >= size)
		length = size - 1;
	memcpy(dst, word, length);
	dst[length] = '\0';
}

/* One `key=value` option (or a bare flag) of `length` characters. */
static int parse_option(const char *word, uint32_t length, struct bootmod *m)
{
	if (starts_with(word, "name=")) {
		copy_word(m->name, sizeof m->name, word + 5, length - 5);
		return 0;
	}
	if (starts_with(word, "iid="))
		return parse_hex(word + 4, length - 4, &m->iid);
	if (length == 6 && starts_with(word, "router")) {
		m->rights |= PK_RIGHT_ROUTER;
		return 0;
	}
	if (length == 12 && starts_with(word, "expect=serve")) {
		m->expect = BOOTMOD_EXPECT_SERVE;
		return 0;
	}
	if (length == 12 && starts_with(word, "expect=fault")) {
		m->expect = BOOTMOD_EXPECT_FAULT;
		return 0;
	}
	if (starts_with(word, "expect=exit:")) {
		m->expect = BOOTMOD_EXPECT_EXIT;
		return parse_decimal(word + 12, length - 12, &m->expect_status);
	}
	return -1;
}

int bootmod_parse(const struct multiboot_module *module, struct bootmod *ret_module,
		  const char **ret_why)
{
	struct bootmod m = {.image = (const uint8_t *)module->mod_start,
			    .size = module->mod_end - module->mod_start};
	const char *p = module->cmdline != 0 ? (const char *)module->cmdline : "";
	int first = 1;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p != '\0' && *p != ' ')
			p++;
		uint32_t length = (uint32_t)(p - word);
		if (length == 0)
			break;
		if (first) {
			/* The path: its last component is the default name. */
			const char *base = word;
			for (const char *c = word; c < p; c++) {
				if (*c == '/')
					base = c + 1;
			}
			copy_word(m.name, sizeof m.name, base, (uint32_t)(p - base));
			first = 0;
		} else if (length == 2 && starts_with(word, "--")) {
			while (*p == ' ')
				p++;
			if (strlen(p) >= sizeof m.args) {
				*ret_why = "arguments too long";
				return -1;
			}
			copy_word(m.args, sizeof m.args, p, (uint32_t)strlen(p));
			break;
		} else if (parse_option(word, length, &m) < 0) {
			*ret_why = "unknown or malformed option";
			return -1;
		}
	}
	if (m.name[0] == '\0') {
		*ret_why = "no name";
		return -1;
	}
	*ret_module = m;
	return 0;
}
