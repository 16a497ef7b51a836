/* Number parsing and the way out. strtod reads plain decimal notation with an optional
 * exponent: what options like "-i 0.2" need, not every form C allows. */
#include <stdint.h>

#include "../trap.h"
#include "include/stdio.h"
#include "include/stdlib.h"

/* The C library's signatures hand back a pointer into the caller's const text. */
static char *unconst(const char *p)
{
	return (char *)(uintptr_t)p;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long strtoul(const char *text, char **end, int base)
{
	const char *p = skip_space(text);
	int negative = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	const char *digits = p;
	unsigned long value = 0;
	for (; digit_value(*p) < base; p++)
		value = value * (unsigned long)base + (unsigned long)digit_value(*p);
	if (end != NULL)
		*end = unconst(p == digits ? text : p);
	return negative ? -value : value;
}

long strtol(const char *text, char **end, int base)
{
	return (long)strtoul(text, end, base);
}

double strtod(const char *text, char **end)
{
	const char *p = skip_space(text), *start;
	double sign = 1, value = 0, scale = 1;
	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	start = p;
	for (; *p >= '0' && *p <= '9'; p++)
		value = value * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			value += (*p - '0') * scale;
		}
	}
	if (p == start || (p == start + 1 && *start == '.')) {
		if (end != NULL)
			*end = unconst(text);
		return 0;
	}
	if (*p == 'e' || *p == 'E') {
		char *after;
		long exponent = strtol(p + 1, &after, 10);
		if (after != p + 1) {
			p = after;
			for (; exponent > 0; exponent--)
				value *= 10;
			for (; exponent < 0; exponent++)
				value /= 10;
		}
	}
	if (end != NULL)
		*end = unconst(p);
	return sign * value;
}

void exit(int status)
{
	fflush(NULL);
	for (;;)
		x86_trap(X86_TRAP_EXIT, (uint32_t)status);
}

void abort(void)
{
	exit(134);
}
