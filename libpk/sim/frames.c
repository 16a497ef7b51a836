/* Where a frame's bytes are, per isolation mode (enum pk_isolation).
 *
 * remap: a frame is mapped from the pool's memfd when it becomes ours and unmapped before
 * it leaves, so a use after send touches no mapping and faults. MAP_POPULATE takes the
 * page fault inside mmap, where it is cheaper than a first touch.
 * shared: the whole pool is mapped once; a frame's address is a sum. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../backend.h"
#include "sim.h"

static int pool_fd = -1;
static uint32_t pool_frames;
static uint8_t *shared_pool; /* the whole pool in shared mode, else NULL */

int sim_frames_init(int fd, uint32_t isolation, uint32_t frame_count)
{
	pool_fd = fd;
	pool_frames = frame_count;
	if (isolation == PK_ISOLATION_REMAP)
		return 0;
	if (isolation != PK_ISOLATION_SHARED) {
		fprintf(stderr, "libpk: unknown isolation mode %u\n", isolation);
		return -PK_EINVAL;
	}
	void *pool = mmap(NULL, (size_t)frame_count * PK_FRAME_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (pool == MAP_FAILED) {
		fprintf(stderr, "libpk: mapping the frame pool: %s\n", strerror(errno));
		return -PK_ENOMEM;
	}
	shared_pool = pool;
	return 0;
}

uint8_t *backend_frame_map(pk_frame_t frame)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (number >= pool_frames)
		return NULL;
	if (shared_pool != NULL)
		return shared_pool + (size_t)number * PK_FRAME_SIZE;
	void *data = mmap(NULL, PK_FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  pool_fd, (off_t)number * PK_FRAME_SIZE);
	return data == MAP_FAILED ? NULL : data;
}

void backend_frame_unmap(pk_frame_t frame, uint8_t *data)
{
	(void)frame;
	if (shared_pool == NULL && data != NULL)
		munmap(data, PK_FRAME_SIZE);
}
