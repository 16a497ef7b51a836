/* pk/sync.h: a futex-style mutex, a sequence-counter condition variable and a queue on
 * both, over the backend's yield, wait and wake. Portable and freestanding: the x86 port
 * compiles it as it is. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pk/sync.h>

#include "backend.h"

/* The mutex is Drepper's third one ("Futexes Are Tricky"): the state says whether an
 * unlock must wake anyone, so only contention costs a wait or a wake. */
enum { MUTEX_FREE = 0, MUTEX_LOCKED = 1, MUTEX_CONTENDED = 2 };

/* Yields a locker makes before it sleeps. A critical section is usually a few
 * instructions, so its holder is done by the time we are scheduled again (on one core it
 * runs only because we yield); a holder that is not is left to run while we sleep. */
enum { SPIN_YIELDS = 16 };

static const unsigned WAKE_ALL = ~0u;

void pk_mutex_init(struct pk_mutex *mutex)
{
	atomic_init(&mutex->state, MUTEX_FREE);
}

int pk_mutex_trylock(struct pk_mutex *mutex)
{
	uint32_t expected = MUTEX_FREE;
	if (atomic_compare_exchange_strong_explicit(&mutex->state, &expected, MUTEX_LOCKED,
						    memory_order_acquire, memory_order_relaxed))
		return 0;
	return -PK_EWOULDBLOCK;
}

void pk_mutex_lock(struct pk_mutex *mutex)
{
	if (pk_mutex_trylock(mutex) == 0)
		return;
	for (int i = 0; i < SPIN_YIELDS; i++) {
		backend_yield();
		/* Looking before the compare-and-swap keeps a spinning thread from taking the
		 * cache line away from the holder on every turn. */
		if (atomic_load_explicit(&mutex->state, memory_order_relaxed) == MUTEX_FREE &&
		    pk_mutex_trylock(mutex) == 0)
			return;
	}
	/* Whoever gets it from here on takes it as contended, since it cannot know whether
	 * others still sleep: at worst its unlock wakes nobody, a wasted call, where taking it
	 * as merely locked could leave a sleeper asleep for good. */
	while (atomic_exchange_explicit(&mutex->state, MUTEX_CONTENDED, memory_order_acquire) !=
	       MUTEX_FREE)
		backend_wait(&mutex->state, MUTEX_CONTENDED, BACKEND_WAIT_FOREVER);
}

void pk_mutex_unlock(struct pk_mutex *mutex)
{
	if (atomic_exchange_explicit(&mutex->state, MUTEX_FREE, memory_order_release) ==
	    MUTEX_CONTENDED)
		backend_wake(&mutex->state, 1);
}

/* A waiter sleeps on the sequence it read while it held the mutex, so a signal that comes
 * after it let go of the mutex, even before it sleeps, changes the word and the wait does
 * not begin. (2^32 signals between the read and the sleep would hide one; they cannot
 * happen in that window in practice.) */
void pk_cond_init(struct pk_cond *cond)
{
	atomic_init(&cond->sequence, 0);
	atomic_init(&cond->waiters, 0);
}

int pk_cond_timedwait(struct pk_cond *cond, struct pk_mutex *mutex, uint64_t timeout_ns)
{
	/* Counted, then the sequence read; a signaller moves the sequence, then reads the
	 * count. All sequentially consistent, so either it sees this waiter and wakes, or this
	 * waiter sees the new sequence and does not sleep. */
	atomic_fetch_add(&cond->waiters, 1);
	uint32_t seen = atomic_load(&cond->sequence);
	pk_mutex_unlock(mutex);
	int status = backend_wait(&cond->sequence, seen, timeout_ns);
	atomic_fetch_sub(&cond->waiters, 1);
	pk_mutex_lock(mutex);
	return status;
}

void pk_cond_wait(struct pk_cond *cond, struct pk_mutex *mutex)
{
	pk_cond_timedwait(cond, mutex, BACKEND_WAIT_FOREVER);
}

static void cond_wake(struct pk_cond *cond, unsigned count)
{
	atomic_fetch_add(&cond->sequence, 1);
	if (atomic_load(&cond->waiters) != 0)
		backend_wake(&cond->sequence, count);
}

void pk_cond_signal(struct pk_cond *cond)
{
	cond_wake(cond, 1);
}

void pk_cond_broadcast(struct pk_cond *cond)
{
	cond_wake(cond, WAKE_ALL);
}

int pk_queue_init(struct pk_queue *queue, void **slots, uint32_t capacity)
{
	if (slots == NULL || capacity == 0)
		return -PK_EINVAL;
	pk_mutex_init(&queue->lock);
	pk_cond_init(&queue->not_empty);
	pk_cond_init(&queue->not_full);
	queue->slot = slots;
	queue->capacity = capacity;
	queue->head = 0;
	queue->count = 0;
	queue->closed = false;
	return 0;
}

/* A closed queue takes nothing more but gives what it holds. */
static bool can_push(const struct pk_queue *queue)
{
	return !queue->closed && queue->count < queue->capacity;
}

static bool can_pop(const struct pk_queue *queue)
{
	return queue->count > 0;
}

/* Locks the queue and waits, for at most `timeout_ns`, until `ready`; every way out but
 * a success unlocks it again. 0: ready, locked; -PK_ECLOSED: closed; -PK_EWOULDBLOCK: not
 * ready and no time to wait; -PK_ETIMEDOUT. */
static int queue_enter(struct pk_queue *queue, bool (*ready)(const struct pk_queue *),
		       struct pk_cond *becomes_ready, uint64_t timeout_ns)
{
	bool deadline = timeout_ns != 0 && timeout_ns != BACKEND_WAIT_FOREVER;
	uint64_t start = deadline ? backend_now_ns() : 0, left = timeout_ns;
	pk_mutex_lock(&queue->lock);
	/* Readiness first, time second: an item that came with the timeout is still taken. */
	while (!ready(queue)) {
		int status = queue->closed     ? -PK_ECLOSED
			     : timeout_ns == 0 ? -PK_EWOULDBLOCK
			     : left == 0       ? -PK_ETIMEDOUT
					       : 0;
		if (status < 0) {
			pk_mutex_unlock(&queue->lock);
			return status;
		}
		/* Its answer is not the last word: the wait may end early, or the condition may
		 * hold by the time we relock. Our own clock decides. */
		pk_cond_timedwait(becomes_ready, &queue->lock, left);
		if (deadline) {
			uint64_t waited = backend_now_ns() - start;
			left = waited < timeout_ns ? timeout_ns - waited : 0;
		}
	}
	return 0;
}

/* After a push or pop: one waiter of the other kind may now go on. Signalled before the
 * unlock, so that after it only the unlock's wake of a sleeper on the lock touches the
 * queue (docs/sync.md: a queue outlives the threads that use it). */
static void queue_leave(struct pk_queue *queue, struct pk_cond *now_ready)
{
	pk_cond_signal(now_ready);
	pk_mutex_unlock(&queue->lock);
}

int pk_queue_push_timed(struct pk_queue *queue, void *item, uint64_t timeout_ns)
{
	int status = queue_enter(queue, can_push, &queue->not_full, timeout_ns);
	if (status < 0)
		return status;
	queue->slot[(queue->head + queue->count) % queue->capacity] = item;
	queue->count++;
	queue_leave(queue, &queue->not_empty);
	return 0;
}

int pk_queue_pop_timed(struct pk_queue *queue, void **ret_item, uint64_t timeout_ns)
{
	int status = queue_enter(queue, can_pop, &queue->not_empty, timeout_ns);
	if (status < 0)
		return status;
	*ret_item = queue->slot[queue->head];
	queue->head = (queue->head + 1) % queue->capacity;
	queue->count--;
	queue_leave(queue, &queue->not_full);
	return 0;
}

int pk_queue_push(struct pk_queue *queue, void *item)
{
	return pk_queue_push_timed(queue, item, BACKEND_WAIT_FOREVER);
}

int pk_queue_try_push(struct pk_queue *queue, void *item)
{
	return pk_queue_push_timed(queue, item, 0);
}

int pk_queue_pop(struct pk_queue *queue, void **ret_item)
{
	return pk_queue_pop_timed(queue, ret_item, BACKEND_WAIT_FOREVER);
}

int pk_queue_try_pop(struct pk_queue *queue, void **ret_item)
{
	return pk_queue_pop_timed(queue, ret_item, 0);
}

void pk_queue_close(struct pk_queue *queue)
{
	pk_mutex_lock(&queue->lock);
	queue->closed = true;
	pk_cond_broadcast(&queue->not_empty);
	pk_cond_broadcast(&queue->not_full);
	pk_mutex_unlock(&queue->lock);
}
