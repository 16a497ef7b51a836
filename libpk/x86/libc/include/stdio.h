/* Console output for PackOS programs on x86: stdout and stderr both go to the kernel's
 * console, a line at a time. */
#ifndef PK_LIBC_STDIO_H
#define PK_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pk__file FILE;

extern FILE *stdout;
extern FILE *stderr;

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int fprintf(FILE *f, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) int vfprintf(FILE *f, const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) int snprintf(char *buf, size_t size, const char *fmt, ...);
int fputs(const char *text, FILE *f);
int puts(const char *text);
int putchar(int c);
/* NULL flushes every stream. */
int fflush(FILE *f);

#endif
