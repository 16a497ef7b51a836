/* The kernel's console over COM1, and panic, which powers the machine off with a failure
 * status so a test run ends at once instead of hanging until its timeout. */
#include <stdarg.h>

#include "../rt/rt.h"
#include "console.h"
#include "poweroff.h"
#include "serial.h"

static void serial_sink_put(struct format_sink *sink, char c)
{
	(void)sink;
	serial_putc(c);
}

static struct format_sink serial_sink = {.fs_put = serial_sink_put};

void console_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	format_v(&serial_sink, fmt, ap);
	va_end(ap);
}

void console_vprintf(const char *fmt, va_list ap)
{
	format_v(&serial_sink, fmt, ap);
}

void console_write(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		serial_putc(text[i]);
}

void console_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	console_printf("kernel panic: ");
	format_v(&serial_sink, fmt, ap);
	console_printf("\n");
	va_end(ap);
	poweroff(POWEROFF_FAILURE);
}
