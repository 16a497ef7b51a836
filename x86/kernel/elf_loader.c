/* The ELF loader: only what a static program needs (the System V ABI's ELF chapter and
 * its i386 supplement). Everything in the file is untrusted: every offset and size is
 * checked against the image before it is read. */
#include <x86/call_page.h>

#include "../rt/rt.h"
#include "elf_loader.h"
#include "pages.h"

struct elf_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_segment {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

enum {
	ELF_CLASS32 = 1,
	ELF_DATA_LSB = 1,
	ELF_EXEC = 2,
	ELF_I386 = 3,
	PT_LOAD = 1,
	PF_W = 2,
};

static int header_valid(const struct elf_header *h, uint32_t size)
{
	return memcmp(h->ident, "\177ELF", 4) == 0 && h->ident[4] == ELF_CLASS32 &&
	       h->ident[5] == ELF_DATA_LSB && h->type == ELF_EXEC && h->machine == ELF_I386 &&
	       h->phentsize == sizeof(struct elf_segment) && h->phoff < size &&
	       h->phnum <= (size - h->phoff) / sizeof(struct elf_segment);
}

static int segment_valid(const struct elf_segment *s, uint32_t size)
{
	return s->filesz <= s->memsz && s->offset <= size && s->filesz <= size - s->offset &&
	       s->vaddr % PAGE_SIZE == s->offset % PAGE_SIZE && s->vaddr >= X86_USER_BASE &&
	       s->memsz <= X86_FRAME_WINDOW - s->vaddr;
}

static int load_segment(struct vmspace *space, const uint8_t *image, const struct elf_segment *s,
			const char **ret_why)
{
	uint32_t first = s->vaddr & ~(PAGE_SIZE - 1), end = s->vaddr + s->memsz;
	uint32_t flags = VMSPACE_OWNED | ((s->flags & PF_W) ? VMSPACE_WRITABLE : 0);
	for (uint32_t va = first; va < end; va += PAGE_SIZE) {
		if (vmspace_lookup(space, va) != 0) {
			*ret_why = "segments share a page";
			return -1;
		}
		uint32_t page = pages_alloc();
		if (page == 0 || vmspace_map(space, va, page, flags) < 0) {
			if (page != 0)
				pages_free(page);
			*ret_why = "out of pages";
			return -1;
		}
		/* The part of [vaddr, vaddr + filesz) on this page; the rest stays zero. */
		uint32_t from = va > s->vaddr ? va : s->vaddr;
		uint32_t to = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE
								    : s->vaddr + s->filesz;
		if (from < to)
			memcpy((uint8_t *)page + (from - va), image + s->offset + (from - s->vaddr),
			       to - from);
	}
	return 0;
}

int elf_load(struct vmspace *space, const uint8_t *image, uint32_t size, uint32_t *ret_entry,
	     const char **ret_why)
{
	const struct elf_header *h = (const struct elf_header *)image;
	if (size < sizeof *h || !header_valid(h, size)) {
		*ret_why = "not a static ELF32 i386 executable";
		return -1;
	}
	const struct elf_segment *segments = (const struct elf_segment *)(image + h->phoff);
	for (uint32_t i = 0; i < h->phnum; i++) {
		const struct elf_segment *s = &segments[i];
		if (s->type != PT_LOAD || s->memsz == 0)
			continue;
		if (!segment_valid(s, size)) {
			*ret_why = "a segment lies outside the file or the program's space";
			return -1;
		}
		if (load_segment(space, image, s, ret_why) < 0)
			return -1;
	}
	if (h->entry < X86_USER_BASE || h->entry >= X86_FRAME_WINDOW) {
		*ret_why = "entry point outside the program";
		return -1;
	}
	*ret_entry = h->entry;
	return 0;
}
