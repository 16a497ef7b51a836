/* The freestanding runtime the x86 kernel and every x86 program share: the string
 * functions (<string.h>, from rt/include), the 64-bit arithmetic helpers i386 lacks
 * (int64.c), and one printf-style formatter, declared here. */
#ifndef X86_RT_H
#define X86_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* Where formatted characters go. */
struct format_sink {
	void (*fs_put)(struct format_sink *sink, char c);
};

/* printf's conversions d i u x X p s c f % with flags '-' '0', width, precision and the
 * length modifiers l ll z. Returns the characters written. */
int format_v(struct format_sink *sink, const char *fmt, va_list ap);

#endif
