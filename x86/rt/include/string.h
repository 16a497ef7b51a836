/* The memory and string functions of the x86 image, for the kernel and the programs alike
 * (a compiler may call the mem* ones on its own); x86/rt/string.c implements them. */
#ifndef X86_RT_STRING_H
#define X86_RT_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
