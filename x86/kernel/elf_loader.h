/* Loads a program: a static ELF32 i386 executable linked in the user half. */
#ifndef X86_ELF_LOADER_H
#define X86_ELF_LOADER_H

#include <stdint.h>

#include "vmspace.h"

/* Maps and fills every loadable segment of `image` into `space`, writable only where the
 * segment says so. Returns 0 with the entry point, or -1 with `*ret_why` set (the pages
 * mapped so far go with the address space). */
int elf_load(struct vmspace *space, const uint8_t *image, uint32_t size, uint32_t *ret_entry,
	     const char **ret_why);

#endif
