/* A free list threaded through the free pages themselves: the kernel maps all of low
 * memory, so a free page's first word can hold the next one's address. */
#include "../rt/rt.h"
#include "pages.h"

static uint32_t free_head; /* 0: empty; page 0 is never handed out */
static uint32_t free_count;

void pages_init(uint32_t start, uint32_t end)
{
	start = (start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (start == 0)
		start = PAGE_SIZE;
	for (uint32_t page = start; page + PAGE_SIZE <= end; page += PAGE_SIZE)
		pages_free(page);
}

uint32_t pages_alloc(void)
{
	uint32_t page = free_head;
	if (page == 0)
		return 0;
	free_head = *(uint32_t *)page;
	free_count--;
	memset((void *)page, 0, PAGE_SIZE);
	return page;
}

void pages_free(uint32_t page)
{
	*(uint32_t *)page = free_head;
	free_head = page;
	free_count++;
}

uint32_t pages_free_count(void)
{
	return free_count;
}
