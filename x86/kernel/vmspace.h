/* Address spaces: one page directory per process. The low 1 GiB is the kernel's, identity
 * mapped with 4 MiB pages and shared by every directory; the rest is the process's, in
 * 4 KiB pages (layout in <x86/call_page.h>). */
#ifndef X86_VMSPACE_H
#define X86_VMSPACE_H

#include <stdint.h>

#define KERNEL_SPACE_END 0x40000000u

enum vmspace_flag {
	VMSPACE_WRITABLE = 1u << 1,
	/* The page is the process's own (code, stack...): freed with the address space.
	 * Frame-window pages belong to the kernel core's pool and never carry it. */
	VMSPACE_OWNED = 1u << 9,
};

struct vmspace {
	uint32_t directory; /* physical address of the page directory */
};

/* Builds the kernel's directory and turns paging on. */
void vmspace_init_kernel(void);

/* Returns 0, or -1 when no page is left for the directory. */
int vmspace_create(struct vmspace *ret_space);

/* Frees the directory, its page tables and every VMSPACE_OWNED page. Switches to the
 * kernel's directory first if this one is loaded. */
void vmspace_destroy(struct vmspace *space);

/* Makes sure a page table covers `va`, so later maps there cannot fail. Returns 0 or -1. */
int vmspace_reserve(struct vmspace *space, uint32_t va);

/* Maps the user page at `va` to `page`. Returns 0, or -1 if a page table was needed and
 * none was left. Never replaces a present mapping (the kernel would be broken): panics. */
int vmspace_map(struct vmspace *space, uint32_t va, uint32_t page, uint32_t flags);

/* Removes the mapping at `va` and invalidates its TLB entry if `space` is loaded. */
void vmspace_unmap(struct vmspace *space, uint32_t va);

/* The page mapped at `va`, or 0. */
uint32_t vmspace_lookup(const struct vmspace *space, uint32_t va);

void vmspace_activate(const struct vmspace *space);

/* How many TLB entries vmspace_unmap invalidated with invlpg. */
uint64_t vmspace_invalidations(void);

#endif
