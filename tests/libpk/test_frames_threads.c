/* The simulator's frame mapping in remap isolation with threads (libpk/sim/frames.c): two
 * threads open, read and close the same share over and over (each a holder of it, as two
 * endpoints of one process in one group are), and frames whose bookkeeping bits share a
 * byte; a read of a frame one holds open must never fault, and the counts end at zero. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "../backend.h"
#include "sim.h"

enum { POOL_FRAMES = 16, ROUNDS = 200000 };

struct worker {
	pk_frame_t frame;
	unsigned long sum;
};

static void *open_read_close(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		uint8_t *data = backend_frame_map(w->frame);
		if (data == NULL)
			return (void *)1;
		/* A fault here is the bug: the frame is open for this thread. */
		w->sum += data[i % PK_FRAME_SIZE];
		backend_frame_unmap(w->frame, data);
	}
	return NULL;
}

static void run_pair(pk_frame_t a, pk_frame_t b)
{
	struct worker w[2] = {{.frame = a}, {.frame = b}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_read_close, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		void *failed;
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
}

static int setup(void **state)
{
	(void)state;
	int fd = memfd_create("test-pool", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, POOL_FRAMES * PK_FRAME_SIZE) < 0)
		return -1;
	return sim_frames_init(fd, PK_ISOLATION_REMAP, POOL_FRAMES) == 0 ? 0 : -1;
}

static void test_two_threads_holding_one_share(void **state)
{
	(void)state;
	pk_frame_t share = PK_HANDLE_MAKE(PK_HANDLE_SHARE, 1, 3);
	run_pair(share, share);
	/* Both let go: the frame is closed again, and a fresh open works. */
	uint8_t *data = backend_frame_map(share);
	assert_non_null(data);
	backend_frame_unmap(share, data);
}

static void test_two_threads_on_neighbouring_frames(void **state)
{
	(void)state;
	/* Frames 8 and 9 keep their placed bits in one byte. */
	run_pair(PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, 8), PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, 9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_holding_one_share),
		cmocka_unit_test(test_two_threads_on_neighbouring_frames),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
