/* Threads in the simulator: Linux threads, each with a ring of the channel of its own
 * (sim_channel.h), claimed before the thread starts, so that a process out of rings hears
 * so from pk_thread_start rather than from a thread that cannot call. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

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

int backend_thread_start(void (*body)(void *arg), void *arg, void **ret_thread)
{
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
