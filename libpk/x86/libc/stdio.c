/* stdout and stderr, buffered to a line: each full line is one trap, copied through the
 * call page's console buffer (the kernel never reads a program's pointers). */
#include <stdint.h>

#include "rt.h"
#include "../trap.h"
#include "include/stdio.h"

struct pk__file {
	char buffer[256];
	size_t used;
};

static FILE out_file, err_file;
FILE *stdout = &out_file;
FILE *stderr = &err_file;

int fflush(FILE *f)
{
	if (f == NULL) {
		fflush(stdout);
		return fflush(stderr);
	}
	if (f->used > 0) {
		memcpy(x86_call_page()->console, f->buffer, f->used);
		x86_trap(X86_TRAP_WRITE, (uint32_t)f->used);
		f->used = 0;
	}
	return 0;
}

static void file_put(FILE *f, char c)
{
	f->buffer[f->used++] = c;
	if (c == '\n' || f->used == sizeof f->buffer)
		fflush(f);
}

struct file_sink {
	struct format_sink sink; /* first: the formatter hands this back */
	FILE *file;
};

static void file_sink_put(struct format_sink *sink, char c)
{
	file_put(((struct file_sink *)sink)->file, c);
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	struct file_sink s = {{file_sink_put}, f};
	return format_v(&s.sink, fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

struct string_sink {
	struct format_sink sink;
	char *at, *end; /* end: the last byte, kept for the terminator */
};

static void string_sink_put(struct format_sink *sink, char c)
{
	struct string_sink *s = (struct string_sink *)sink;
	if (s->at < s->end)
		*s->at++ = c;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	char ignored;
	struct string_sink s = {
		{string_sink_put}, size > 0 ? buf : &ignored, size > 0 ? buf + size - 1 : &ignored};
	va_list ap;
	va_start(ap, fmt);
	int n = format_v(&s.sink, fmt, ap);
	va_end(ap);
	*s.at = '\0';
	return n;
}

int fputs(const char *text, FILE *f)
{
	while (*text != '\0')
		file_put(f, *text++);
	return 0;
}

int puts(const char *text)
{
	fputs(text, stdout);
	file_put(stdout, '\n');
	return 0;
}

int putchar(int c)
{
	file_put(stdout, (char)c);
	return (unsigned char)c;
}
