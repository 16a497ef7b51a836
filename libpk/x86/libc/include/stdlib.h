/* The stdlib functions PackOS programs use on x86. */
#ifndef PK_LIBC_STDLIB_H
#define PK_LIBC_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

unsigned long strtoul(const char *text, char **end, int base);
long strtol(const char *text, char **end, int base);
double strtod(const char *text, char **end);

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);

#endif
