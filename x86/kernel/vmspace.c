/* Two-level i386 paging. The kernel's 1 GiB is 256 directory entries of 4 MiB pages
 * (PSE), copied into every process's directory, supervisor only, so a trap never switches
 * address spaces to reach kernel memory and a program cannot touch it. The user part is
 * built page by page. Tables are reached through the identity map by physical address,
 * so the kernel edits any process's tables, loaded or not. A TLB holds entries of the
 * loaded directory only (no global pages for user memory), so removing a mapping needs an
 * invlpg only when that directory is loaded: switching directories flushes the rest. */
#include "../rt/rt.h"
#include "console.h"
#include "pages.h"
#include "vmspace.h"

enum {
	PRESENT = 1u << 0,
	USER = 1u << 2,
	LARGE = 1u << 7, /* a 4 MiB page, in a directory entry */
	KERNEL_ENTRIES = KERNEL_SPACE_END >> 22,
	CR0_PAGING = 1u << 31,
	CR0_WRITE_PROTECT = 1u << 16, /* the kernel, too, respects read-only pages */
	CR4_PSE = 1u << 4,
};

static uint32_t kernel_directory[1024] __attribute__((aligned(4096)));
static uint64_t invalidations;

static uint32_t *table_of(uint32_t entry)
{
	return (uint32_t *)(entry & ~0xfffu);
}

static uint32_t loaded_directory(void)
{
	uint32_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	return cr3;
}

void vmspace_init_kernel(void)
{
	for (uint32_t i = 0; i < KERNEL_ENTRIES; i++)
		kernel_directory[i] = (i << 22) | PRESENT | VMSPACE_WRITABLE | LARGE;
	uint32_t cr0, cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE));
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint32_t)kernel_directory));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PAGING | CR0_WRITE_PROTECT));
}

int vmspace_create(struct vmspace *ret_space)
{
	uint32_t directory = pages_alloc();
	if (directory == 0)
		return -1;
	memcpy((void *)directory, kernel_directory, KERNEL_ENTRIES * sizeof(uint32_t));
	ret_space->directory = directory;
	return 0;
}

void vmspace_destroy(struct vmspace *space)
{
	if (loaded_directory() == space->directory)
		__asm__ volatile("mov %0, %%cr3" : : "r"((uint32_t)kernel_directory));
	uint32_t *directory = (uint32_t *)space->directory;
	for (uint32_t i = KERNEL_ENTRIES; i < 1024; i++) {
		if ((directory[i] & PRESENT) == 0)
			continue;
		uint32_t *table = table_of(directory[i]);
		for (uint32_t j = 0; j < 1024; j++) {
			if ((table[j] & PRESENT) && (table[j] & VMSPACE_OWNED))
				pages_free(table[j] & ~0xfffu);
		}
		pages_free((uint32_t)table);
	}
	pages_free(space->directory);
	space->directory = 0;
}

static uint32_t *entry_for(const struct vmspace *space, uint32_t va, int create)
{
	uint32_t *directory = (uint32_t *)space->directory;
	uint32_t *pde = &directory[va >> 22];
	if ((*pde & PRESENT) == 0) {
		if (!create)
			return 0;
		uint32_t table = pages_alloc();
		if (table == 0)
			return 0;
		/* Permissions are decided per page; the directory entry allows everything. */
		*pde = table | PRESENT | VMSPACE_WRITABLE | USER;
	}
	return &table_of(*pde)[(va >> 12) & 0x3ff];
}

int vmspace_reserve(struct vmspace *space, uint32_t va)
{
	return entry_for(space, va, 1) != 0 ? 0 : -1;
}

int vmspace_map(struct vmspace *space, uint32_t va, uint32_t page, uint32_t flags)
{
	if (va < KERNEL_SPACE_END)
		console_panic("mapping kernel address %x into a process", va);
	uint32_t *pte = entry_for(space, va, 1);
	if (pte == 0)
		return -1;
	if (*pte & PRESENT)
		console_panic("user page %x mapped twice", va);
	*pte = page | flags | PRESENT | USER;
	return 0;
}

void vmspace_unmap(struct vmspace *space, uint32_t va)
{
	uint32_t *pte = entry_for(space, va, 0);
	if (pte == 0)
		return;
	*pte = 0;
	if (loaded_directory() == space->directory) {
		__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
		invalidations++;
	}
}

uint32_t vmspace_lookup(const struct vmspace *space, uint32_t va)
{
	uint32_t *pte = entry_for(space, va, 0);
	return pte != 0 && (*pte & PRESENT) ? *pte & ~0xfffu : 0;
}

void vmspace_activate(const struct vmspace *space)
{
	if (loaded_directory() != space->directory)
		__asm__ volatile("mov %0, %%cr3" : : "r"(space->directory) : "memory");
}

uint64_t vmspace_invalidations(void)
{
	return invalidations;
}
