/* The COM1 console: 115200 8N1, polled (the kernel never waits for input). */
#ifndef X86_SERIAL_H
#define X86_SERIAL_H

#include <stddef.h>

void serial_init(void);
void serial_putc(char c);

#endif
