/* Synchronisation between the threads of one process: a mutex, a condition variable and a
 * bounded queue of pointers. Built from atomic operations on the process's own memory,
 * plus the port's yield and its wait and wake on a word (libpk/backend.h): no lock lives
 * in the kernel and none is a round trip to a server, so an uncontended lock and unlock is
 * one atomic instruction each and no kernel call of PackOS at all (docs/sync.md).
 *
 * Nothing allocates: every object is the caller's memory, and a zeroed mutex or condition
 * is a ready one. Timeouts are relative, in nanoseconds. Functions that can fail return 0
 * or a negative PackOS error (-PK_Exxx, <packos/errors.h>). */
#ifndef PK_SYNC_H
#define PK_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/errors.h>

/* 0 free, 1 locked, 2 locked and maybe a thread asleep waiting for it. */
struct pk_mutex {
	_Atomic uint32_t state;
};

void pk_mutex_init(struct pk_mutex *mutex);
void pk_mutex_lock(struct pk_mutex *mutex);
/* 0 with the mutex locked, or -PK_EWOULDBLOCK: someone holds it. */
int pk_mutex_trylock(struct pk_mutex *mutex);
void pk_mutex_unlock(struct pk_mutex *mutex);

struct pk_cond {
	_Atomic uint32_t sequence; /* moves on with every signal and broadcast */
	_Atomic uint32_t waiters;  /* so that a signal nobody waits for costs no wake */
};

void pk_cond_init(struct pk_cond *cond);
/* Unlocks `mutex`, waits for a signal or broadcast, and locks `mutex` again. A wait may
 * also end for no reason at all (a spurious wakeup), and a thread may take what it waited
 * for before it relocks, so always wait in a loop that looks at the condition. */
void pk_cond_wait(struct pk_cond *cond, struct pk_mutex *mutex);
/* The same, for at most `timeout_ns`: 0, or -PK_ETIMEDOUT once that has passed. A loop
 * that calls it again after a spurious wakeup passes what is left of its own deadline. */
int pk_cond_timedwait(struct pk_cond *cond, struct pk_mutex *mutex, uint64_t timeout_ns);
/* Wakes one waiter, or all of them. Safe with or without holding the mutex. */
void pk_cond_signal(struct pk_cond *cond);
void pk_cond_broadcast(struct pk_cond *cond);

/* A bounded first-in first-out queue of pointers for any number of producers and
 * consumers (say, a thread running TCP handing results to others), under one lock. The
 * fields are the queue's own. */
struct pk_queue {
	struct pk_mutex lock;
	struct pk_cond not_empty, not_full;
	void **slot; /* the caller's array of `capacity` pointers */
	uint32_t capacity;
	uint32_t head; /* the oldest item's slot */
	uint32_t count;
	bool closed;
};

/* An empty, open queue in the caller's `slots`. -PK_EINVAL if there are none. */
int pk_queue_init(struct pk_queue *queue, void **slots, uint32_t capacity);

/* Adds `item` at the tail: 0, or, when the queue is full, waits for room (push), for at
 * most `timeout_ns` (push_timed: -PK_ETIMEDOUT) or not at all (try_push: -PK_EWOULDBLOCK).
 * -PK_ECLOSED once the queue is closed. */
int pk_queue_push(struct pk_queue *queue, void *item);
int pk_queue_push_timed(struct pk_queue *queue, void *item, uint64_t timeout_ns);
int pk_queue_try_push(struct pk_queue *queue, void *item);

/* Takes the item at the head into *ret_item, waiting likewise while the queue is empty. A
 * closed queue still gives what it holds; -PK_ECLOSED once it is closed and empty. */
int pk_queue_pop(struct pk_queue *queue, void **ret_item);
int pk_queue_pop_timed(struct pk_queue *queue, void **ret_item, uint64_t timeout_ns);
int pk_queue_try_pop(struct pk_queue *queue, void **ret_item);

/* Refuses every later push and wakes every thread waiting in the queue, for good. */
void pk_queue_close(struct pk_queue *queue);

#endif
