/* The simulator's frame mapping in remap isolation with threads (libpk/sim/frames.c): two
 * threads open, read and close the same share over and over (each a holder of it, as two
 * endpoints of one process in one group are), and frames whose bookkeeping bits share a
 * byte; a read of a frame one holds open must never fault, and the counts end at zero.
 * Copies in and out of frames nobody has open (lazy mapping) go through libpk's own view
 * of the pool, from several threads at once, and leave the frames' places shut. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

/* Each copier writes its frame through the view and reads it back, over and over, while
 * the others do the same to theirs. */
static void *copy_in_and_out(void *arg)
{
	struct worker *w = arg;
	uint8_t out[64], in[64];
	for (int i = 0; i < ROUNDS / 10; i++) {
		memset(out, (uint8_t)(i + PK_FRAME_NUMBER(w->frame)), sizeof out);
		uint32_t offset = (uint32_t)(i * 64) % PK_FRAME_SIZE;
		if (backend_frame_write(w->frame, offset, out, sizeof out) != 0 ||
		    backend_frame_read(w->frame, offset, in, sizeof in) != 0 ||
		    memcmp(in, out, sizeof in) != 0)
			return (void *)1;
		w->sum += in[0];
	}
	return NULL;
}

/* Whether reading `at` kills a child process with SIGSEGV. */
static bool read_faults(const volatile uint8_t *at)
{
	pid_t child = fork();
	if (child == 0) {
		signal(SIGSEGV, SIG_DFL); /* cmocka's handler would carry on with the tests */
		(void)*at;
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
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

static void test_threads_copy_through_the_view_and_places_stay_shut(void **state)
{
	(void)state;
	enum { COPIERS = 4 };
	struct worker w[COPIERS];
	pthread_t t[COPIERS];
	uint8_t *place[COPIERS];
	for (int i = 0; i < COPIERS; i++) {
		w[i] = (struct worker){.frame = PK_HANDLE_MAKE(PK_HANDLE_FRAME, 1, 10 + i)};
		/* Mapped once and closed: its place is known, and shut. */
		place[i] = backend_frame_map(w[i].frame);
		assert_non_null(place[i]);
		backend_frame_unmap(w[i].frame, place[i]);
	}
	for (int i = 0; i < COPIERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, copy_in_and_out, &w[i]), 0);
	for (int i = 0; i < COPIERS; i++) {
		void *failed;
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	for (int i = 0; i < COPIERS; i++) {
		assert_true(read_faults(place[i]));
		/* What the copies wrote is the frame's, as its owner sees it once it opens it. */
		uint8_t last = (uint8_t)(ROUNDS / 10 - 1 + 10 + i);
		uint32_t offset = (uint32_t)((ROUNDS / 10 - 1) * 64) % PK_FRAME_SIZE;
		uint8_t *data = backend_frame_map(w[i].frame);
		assert_ptr_equal(data, place[i]);
		assert_int_equal(data[offset], last);
		backend_frame_unmap(w[i].frame, data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_holding_one_share),
		cmocka_unit_test(test_two_threads_on_neighbouring_frames),
		cmocka_unit_test(test_threads_copy_through_the_view_and_places_stay_shut),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
