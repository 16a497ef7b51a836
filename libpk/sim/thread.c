/* Threads in the simulator: Linux threads, each with a ring of the channel of its own
 * (sim_channel.h), claimed before the thread starts, so that a process out of rings hears
 * so from pk_thread_start rather than from a thread that cannot call.
 *
 * In remap isolation every send and free closes a frame (mprotect), and a protection
 * change in a process with a thread running on another core costs a TLB shootdown there:
 * an interrupt to that core and a wait for it, some ten times the change itself. So by
 * default the threads of a remapping process share one core: the first pk_thread_start
 * pins the calling thread to the core it is on, and threads inherit the pin. A process
 * whose threads compute more than they move frames can say PACKOS_THREADS=spread in its
 * environment; shared isolation changes no mapping and pins nothing (docs/threads.md). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "sim.h"

struct sim_thread {
	pthread_t id;
	int ring;
	void (*body)(void *arg);
	void *arg;
};

static void *run(void *argument)
{
	struct sim_thread *t = argument;
	sim_ring_enter(t->ring);
	t->body(t->arg);
	/* Every call the body made has been answered: the ring is idle. */
	sim_ring_release(t->ring);
	return NULL;
}

static void keep_threads_on_one_core(void)
{
	static atomic_flag decided = ATOMIC_FLAG_INIT;
	if (atomic_flag_test_and_set(&decided))
		return;
	const char *policy = getenv("PACKOS_THREADS");
	if (!sim_frames_remapped() || (policy != NULL && strcmp(policy, "spread") == 0))
		return;
	int cpu = sched_getcpu();
	if (cpu < 0)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	/* Best effort: a process confined elsewhere keeps its own placement. */
	sched_setaffinity(0, sizeof one, &one);
}

int backend_thread_start(void (*body)(void *arg), void *arg, void **ret_thread)
{
	keep_threads_on_one_core();
	struct sim_thread *t = malloc(sizeof *t);
	if (t == NULL)
		return -PK_ENOMEM;
	*t = (struct sim_thread){.body = body, .arg = arg};
	t->ring = sim_ring_claim();
	if (t->ring < 0) {
		free(t);
		return -PK_ELIMIT;
	}
	if (pthread_create(&t->id, NULL, run, t) != 0) {
		sim_ring_release(t->ring);
		free(t);
		return -PK_ENOMEM;
	}
	*ret_thread = t;
	return 0;
}

int backend_thread_join(void *thread)
{
	struct sim_thread *t = thread;
	int err = pthread_join(t->id, NULL);
	free(t);
	return err == 0 ? 0 : -PK_EINVAL;
}
