/* Direct use of the channel page, past libpk, for the programs that misbehave on it.
 * After pk_init (and any libpk calls), libpk's own count of published slots equals
 * page->submitted; from then on such a program must make every call this way. */
#ifndef IT_CHANNEL_H
#define IT_CHANNEL_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <packos/sim_channel.h>

#include "sim.h"

/* Writes `call` with `flags` into the next free slot after `*next`, and counts it. */
static inline void it_post(uint32_t *next, struct pk_kcall call, uint32_t flags, uint32_t wait_ms)
{
	struct pk_channel_slot *slot = &sim_channel_page()->slot[*next % PK_CHANNEL_SLOTS];
	slot->call = call;
	slot->flags = flags;
	slot->wait_ms = wait_ms;
	(*next)++;
}

/* Publishes every slot posted up to `next` and rings the doorbell. */
static inline void it_publish(uint32_t next)
{
	atomic_store(&sim_channel_page()->submitted, next);
	uint64_t one = 1;
	if (write(sim_doorbell_fd(), &one, sizeof one) != sizeof one)
		_exit(3);
}

/* Waits (spinning, yielding) until the daemon answered up to `next`; false after ~2 s. */
static inline int it_wait(uint32_t next)
{
	for (long i = 0; i < 2000000; i++) {
		if (atomic_load(&sim_channel_page()->completed) == next)
			return 1;
		if (i > 1000)
			usleep(1);
		else
			sched_yield();
	}
	return 0;
}

/* The answer in the slot of call number `n`. */
static inline struct pk_kresult it_result(uint32_t n)
{
	return sim_channel_page()->slot[n % PK_CHANNEL_SLOTS].result;
}

#endif
