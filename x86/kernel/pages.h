/* Physical pages for page tables and programs' own memory (code, data, stack, call page).
 * Frames, the KAN's packets, are not here: they are the kernel core's pool. */
#ifndef X86_PAGES_H
#define X86_PAGES_H

#include <stdint.h>

#define PAGE_SIZE 4096u

/* Hands every whole page in [start, end) to the allocator. */
void pages_init(uint32_t start, uint32_t end);

/* A zeroed page's physical address (the kernel reaches it at the same address), or 0 when
 * none is left. O(1). */
uint32_t pages_alloc(void);

void pages_free(uint32_t page);

uint32_t pages_free_count(void);

#endif
