/* Where a frame's bytes are, per isolation mode (enum pk_isolation).
 *
 * shared: the pool is mapped read-write once; a frame's address is a sum, and ownership
 * is only bookkept.
 * remap: a frame is reachable only while it is ours. Each frame has a place of its own in
 * a reserved stretch of address space, a page of gap after each; the first time the
 * program gets a frame, libpk maps it there, and from then on opens it (read-write) when
 * it becomes ours and closes it (PROT_NONE) before it leaves, so a use after send faults.
 * A protection change keeps the page-table entry, so a frame that comes back costs no
 * page fault; the gaps keep neighbouring frames from merging into one mapping that every
 * change would split and merge again. Mapping and unmapping each frame anew costs 2.5
 * times as much (docs/performance.md). A share (a handle of kind PK_HANDLE_SHARE: a tick,
 * a multicast packet) is opened read-only, so a write to a frame others read faults. The
 * kernel may hand the program the same share twice (two of its endpoints in one group);
 * each frame counts its opens, and closes when the last is gone.
 *
 * Copies (pk_frame_read, pk_frame_write) reach a frame that is not open without opening
 * it, through a view of the whole pool that libpk keeps to itself: no pointer the program
 * holds leads into it, and it reaches no more than the pool's descriptor, which the program
 * holds anyway. The view is shut by a protection key (pkeys(7)) that only the copies open,
 * for the length of a memcpy, in the copying thread: a stray access to it from anywhere
 * else faults, and a copy costs no system call, where a pwrite costs about as much as
 * opening the frame once (docs/performance.md). Without protection keys the view is
 * read-only, and writes go through the descriptor (pwrite).
 *
 * Threads: opening or closing a frame (its count and its protection together) is one step
 * under a lock for the frame's stripe, so a share two threads open at once is mapped before
 * either reads it, and a close never lands after a later open. The placed bits are
 * atomic besides, since frames of different stripes share their bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../backend.h"
#include "sim.h"

static int pool_fd = -1;
static uint32_t pool_frames;
static uint8_t *pool;		/* shared: the pool; remap: the reserved stretch */
static uint8_t *pool_view;	/* remap: the whole pool, for copies */
static int view_key = -1;	/* remap: the key that shuts the view; -1: it is read-only */
static _Atomic uint8_t *placed; /* remap: a bit per frame, set once mapped at its place */
static uint32_t *opens;		/* remap: per frame, how many times the program has it open */

enum { STRIPES = 64 };
static _Atomic bool stripe_locked[STRIPES];

static void lock_frame(uint32_t number)
{
	/* Held across one mmap or mprotect at most: a waiter yields rather than sleeps. */
	while (atomic_exchange_explicit(&stripe_locked[number % STRIPES], true,
					memory_order_acquire))
		sched_yield();
}

static void unlock_frame(uint32_t number)
{
	atomic_store_explicit(&stripe_locked[number % STRIPES], false, memory_order_release);
}
static unsigned frame_stride; /* bytes from one frame's place to the next */

/* Maps the view: read-write under a key of its own, shut in this thread, which pk_init
 * runs in before any other starts (a thread inherits its creator's keys); read-only where
 * the system has no keys to give. */
static void *map_view(int fd, size_t size)
{
	int key = pkey_alloc(0, PKEY_DISABLE_ACCESS);
	void *view =
		mmap(NULL, size, key >= 0 ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (key < 0 || view == MAP_FAILED)
		return view;
	if (pkey_mprotect(view, size, PROT_READ | PROT_WRITE, key) == 0) {
		view_key = key;
		return view;
	}
	pkey_free(key);
	if (mprotect(view, size, PROT_READ) == 0)
		return view;
	munmap(view, size);
	return MAP_FAILED;
}

/* The view for one copy, in this thread: `rights` are pkey_set's. */
static void view_open(int rights)
{
	if (view_key >= 0)
		pkey_set(view_key, (unsigned)rights);
}

int sim_frames_init(int fd, uint32_t isolation, uint32_t frame_count)
{
	if (isolation != PK_ISOLATION_REMAP && isolation != PK_ISOLATION_SHARED) {
		fprintf(stderr, "libpk: unknown isolation mode %u\n", isolation);
		return -PK_EINVAL;
	}
	void *mapped;
	if (isolation == PK_ISOLATION_SHARED) {
		frame_stride = PK_FRAME_SIZE;
		mapped = mmap(NULL, (size_t)frame_count * PK_FRAME_SIZE, PROT_READ | PROT_WRITE,
			      MAP_SHARED, fd, 0);
	} else {
		frame_stride = 2 * PK_FRAME_SIZE;
		placed = calloc((frame_count + 7) / 8, 1);
		opens = calloc(frame_count, sizeof *opens);
		if (placed == NULL || opens == NULL) {
			free(placed);
			free(opens);
			placed = NULL;
			opens = NULL;
			return -PK_ENOMEM;
		}
		mapped = mmap(NULL, (size_t)frame_count * frame_stride, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		void *view = map_view(fd, (size_t)frame_count * PK_FRAME_SIZE);
		if (view == MAP_FAILED && mapped != MAP_FAILED) {
			munmap(mapped, (size_t)frame_count * frame_stride);
			mapped = MAP_FAILED;
		}
		if (view != MAP_FAILED)
			pool_view = view;
	}
	if (mapped == MAP_FAILED) {
		fprintf(stderr, "libpk: mapping the frame pool: %s\n", strerror(errno));
		return -PK_ENOMEM;
	}
	pool = mapped;
	pool_fd = fd;
	pool_frames = frame_count;
	return 0;
}

bool sim_frames_remapped(void)
{
	return placed != NULL;
}

/* In shared isolation the pool is mapped whole: a frame's bytes are a sum away. */
bool backend_lazy_mapping_pays(void)
{
	return sim_frames_remapped();
}

/* Remap: makes frame `number`, whose place is `data`, reachable with `prot`. */
static int open_frame(uint32_t number, uint8_t *data, int prot)
{
	uint8_t bit = (uint8_t)(1u << (number % 8));
	if (atomic_load(&placed[number / 8]) & bit)
		return mprotect(data, PK_FRAME_SIZE, prot);
	/* MAP_POPULATE takes the page fault here, where it is cheaper than a first touch. */
	if (mmap(data, PK_FRAME_SIZE, prot, MAP_SHARED | MAP_FIXED | MAP_POPULATE, pool_fd,
		 (off_t)number * PK_FRAME_SIZE) == MAP_FAILED)
		return -1;
	atomic_fetch_or(&placed[number / 8], bit);
	return 0;
}

uint8_t *backend_frame_map(pk_frame_t frame)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (number >= pool_frames)
		return NULL;
	uint8_t *data = pool + (size_t)number * frame_stride;
	if (placed == NULL)
		return data;
	lock_frame(number);
	bool opened = opens[number] > 0;
	if (!opened) {
		int prot = PK_HANDLE_KIND(frame) == PK_HANDLE_SHARE ? PROT_READ
								    : PROT_READ | PROT_WRITE;
		opened = open_frame(number, data, prot) == 0;
	}
	if (opened)
		opens[number]++;
	unlock_frame(number);
	return opened ? data : NULL;
}

/* Closing fails only when the system refuses to change the mapping (ENOMEM at the map-count
 * limit): the frame then stays reachable, as in shared mode. Said once. */
static void close_frame(uint8_t *data)
{
	static atomic_int said;
	if (mprotect(data, PK_FRAME_SIZE, PROT_NONE) < 0 && atomic_fetch_add(&said, 1) == 0)
		fprintf(stderr,
			"libpk: closing a sent frame: %s; a use after send will not fault\n",
			strerror(errno));
}

void backend_frame_unmap(pk_frame_t frame, uint8_t *data)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (placed == NULL || data == NULL || number >= pool_frames)
		return;
	lock_frame(number);
	bool last = opens[number] > 0 && --opens[number] == 0;
	if (last)
		close_frame(data);
	unlock_frame(number);
}

/* Where frame `number`'s bytes can be reached in place: the pool in shared isolation, its
 * place if it is open in remap; NULL when it is not, and a copy must go around the
 * program's mappings, leaving them as they are. */
static uint8_t *reachable(uint32_t number)
{
	uint8_t *data = pool + (size_t)number * frame_stride;
	if (placed == NULL)
		return data;
	lock_frame(number);
	bool open = opens[number] > 0;
	unlock_frame(number);
	return open ? data : NULL;
}

static off_t file_offset(uint32_t number, uint32_t offset)
{
	return (off_t)number * PK_FRAME_SIZE + offset;
}

int backend_frame_read(pk_frame_t frame, uint32_t offset, void *buffer, uint32_t length)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (number >= pool_frames)
		return -PK_EINVAL;
	if (pool_view == NULL) {
		memcpy(buffer, pool + (size_t)number * frame_stride + offset, length);
		return 0;
	}
	/* The view and an open frame's place are the same page. */
	view_open(PKEY_DISABLE_WRITE);
	memcpy(buffer, pool_view + (size_t)number * PK_FRAME_SIZE + offset, length);
	view_open(PKEY_DISABLE_ACCESS);
	return 0;
}

int backend_frame_write(pk_frame_t frame, uint32_t offset, const void *buffer, uint32_t length)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (number >= pool_frames)
		return -PK_EINVAL;
	if (view_key >= 0) {
		view_open(0);
		memcpy(pool_view + (size_t)number * PK_FRAME_SIZE + offset, buffer, length);
		view_open(PKEY_DISABLE_ACCESS);
		return 0;
	}
	uint8_t *data = reachable(number);
	if (data != NULL) {
		memcpy(data + offset, buffer, length);
		return 0;
	}
	ssize_t done = pwrite(pool_fd, buffer, length, file_offset(number, offset));
	return done == (ssize_t)length ? 0 : -PK_EINVAL;
}
