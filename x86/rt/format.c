/* One printf formatter for the kernel's console and the programs' stdio. Doubles are
 * printed from their integer and fraction parts in 64-bit integers: exact enough for the
 * timings and percentages programs print, and no libm. The kernel never formats one. */
#include <stdint.h>

#include "rt.h"

struct spec {
	int left, zero;
	int width, precision; /* precision -1: none given */
};

static int emit(struct format_sink *sink, char c)
{
	sink->fs_put(sink, c);
	return 1;
}

static int pad(struct format_sink *sink, int count, char c)
{
	int n = 0;
	while (count-- > 0)
		n += emit(sink, c);
	return n;
}

/* `text` of `len` characters, after `prefix` (a sign), padded to the field width. */
static int field(struct format_sink *sink, const struct spec *sp, const char *prefix,
		 const char *text, int len)
{
	int plen = (int)strlen(prefix), fill = sp->width - len - plen, n = 0;
	if (!sp->left && !sp->zero)
		n += pad(sink, fill, ' ');
	for (int i = 0; i < plen; i++)
		n += emit(sink, prefix[i]);
	if (!sp->left && sp->zero)
		n += pad(sink, fill, '0');
	for (int i = 0; i < len; i++)
		n += emit(sink, text[i]);
	if (sp->left)
		n += pad(sink, fill, ' ');
	return n;
}

/* Writes `v` in `base` backwards from `end`; returns where the digits start. */
static char *digits(char *end, uint64_t v, unsigned base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		*--end = set[v % base];
		v /= base;
	} while (v != 0);
	return end;
}

static int integer(struct format_sink *sink, const struct spec *sp, uint64_t v, const char *prefix,
		   unsigned base, int upper)
{
	char buf[24];
	char *start = digits(buf + sizeof buf, v, base, upper);
	return field(sink, sp, prefix, start, (int)(buf + sizeof buf - start));
}

static int fixed(struct format_sink *sink, const struct spec *sp, double v)
{
	int precision = sp->precision < 0 ? 6 : sp->precision > 9 ? 9 : sp->precision;
	int negative = v < 0;
	if (negative)
		v = -v;
	if (!(v < 9.2e18)) /* NaN, infinity, or beyond 64 bits */
		return field(sink, sp, negative ? "-" : "", "huge", 4);
	uint64_t scale = 1;
	for (int i = 0; i < precision; i++)
		scale *= 10;
	double rounded = v + 0.5 / (double)scale;
	uint64_t whole = (uint64_t)(int64_t)rounded;
	uint64_t fraction = (uint64_t)(int64_t)((rounded - (double)(int64_t)whole) * (double)scale);
	if (fraction >= scale)
		fraction = scale - 1;
	char buf[40];
	char *end = buf + sizeof buf, *start = end;
	if (precision > 0) {
		start = digits(end, fraction, 10, 0);
		while (end - start < precision)
			*--start = '0';
		*--start = '.';
	}
	start = digits(start, whole, 10, 0);
	return field(sink, sp, negative ? "-" : "", start, (int)(end - start));
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){.precision = -1};
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '0')
			sp->zero = 1;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		sp->precision = 0;
		for (f++; *f >= '0' && *f <= '9'; f++)
			sp->precision = sp->precision * 10 + (*f - '0');
	}
	return f;
}

int format_v(struct format_sink *sink, const char *fmt, va_list ap)
{
	int n = 0;
	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f != '%') {
			n += emit(sink, *f);
			continue;
		}
		struct spec sp;
		f = parse_spec(f + 1, &sp);
		int longs = 0;
		for (; *f == 'l' || *f == 'z'; f++)
			longs += *f == 'l' ? 1 : 2;
		uint64_t u;
		int64_t s;
		switch (*f) {
		case 'd':
		case 'i':
			s = longs >= 2 ? va_arg(ap, long long)
			    : longs    ? va_arg(ap, long)
				       : va_arg(ap, int);
			n += integer(sink, &sp, s < 0 ? -(uint64_t)s : (uint64_t)s,
				     s < 0 ? "-" : "", 10, 0);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = longs >= 2 ? va_arg(ap, unsigned long long)
			    : longs    ? va_arg(ap, unsigned long)
				       : va_arg(ap, unsigned);
			n += integer(sink, &sp, u, "", *f == 'u' ? 10 : 16, *f == 'X');
			break;
		case 'p':
			n += integer(sink, &sp, (uintptr_t)va_arg(ap, void *), "0x", 16, 0);
			break;
		case 's': {
			const char *text = va_arg(ap, const char *);
			if (text == NULL)
				text = "(null)";
			int len = (int)strlen(text);
			if (sp.precision >= 0 && sp.precision < len)
				len = sp.precision;
			n += field(sink, &sp, "", text, len);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			n += field(sink, &sp, "", &c, 1);
			break;
		}
		case 'f':
			n += fixed(sink, &sp, va_arg(ap, double));
			break;
		case '%':
			n += emit(sink, '%');
			break;
		default: /* unknown: print it as written, so the mistake shows */
			n += emit(sink, '%');
			if (*f == '\0')
				return n;
			n += emit(sink, *f);
		}
	}
	return n;
}
