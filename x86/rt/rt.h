/* The freestanding runtime the x86 kernel and every x86 program share: the memory and
 * string functions a compiler may call, the 64-bit arithmetic helpers i386 lacks, and one
 * printf-style formatter. Programs reach these through their C library headers. */
#ifndef X86_RT_H
#define X86_RT_H

#include <stdarg.h>
#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* Where formatted characters go. */
struct format_sink {
	void (*fs_put)(struct format_sink *sink, char c);
};

/* printf's conversions d i u x X p s c f % with flags '-' '0', width, precision and the
 * length modifiers l ll z. Returns the characters written. */
int format_v(struct format_sink *sink, const char *fmt, va_list ap);

#endif
