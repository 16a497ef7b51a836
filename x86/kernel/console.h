/* The kernel's console: formatted lines on the serial port. */
#ifndef X86_CONSOLE_H
#define X86_CONSOLE_H

#include <stddef.h>

#include <stdarg.h>

__attribute__((format(printf, 1, 2))) void console_printf(const char *fmt, ...);
__attribute__((format(printf, 1, 0))) void console_vprintf(const char *fmt, va_list ap);
void console_write(const char *text, size_t length);

/* Prints the message and stops the machine: the kernel itself is broken. */
__attribute__((noreturn, format(printf, 1, 2))) void console_panic(const char *fmt, ...);

#endif
