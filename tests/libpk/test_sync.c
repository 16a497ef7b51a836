/* pk/sync.h under real threads: pthreads hammering the mutex, the condition variable and
 * the queue over the simulator's futex backend (libpk/sim/wait.c), never over packosd.
 * Outcomes are exact (counts, every item once, who woke); the only time checked is that a
 * wait which says it timed out did not end before its timeout. Worker threads only record
 * what they saw; the test's own thread asserts, since cmocka's failures jump. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <pk/sync.h>

#define MS 1000000ull

enum {
	THREADS = 4,
	INCREMENTS = 50000,
	PRODUCERS = 3,
	CONSUMERS = 3,
	ITEMS_PER_PRODUCER = 20000,
	QUEUE_SLOTS = 8,
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void start_threads(pthread_t *threads, unsigned count, void *(*body)(void *), void *arg)
{
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, body, arg), 0);
}

static void join_threads(pthread_t *threads, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
}

/* Waits until `count` threads are counted in `word` (a waiter count the primitives keep),
 * so that what comes next finds them waiting, or about to. */
static void await_count(_Atomic uint32_t *word, uint32_t count)
{
	while (atomic_load(word) != count)
		sched_yield();
}

/* The mutex. */

struct counting {
	struct pk_mutex mutex;
	unsigned long counter; /* plain: only the mutex keeps increments from being lost */
	_Atomic unsigned inside;
	_Atomic unsigned overlaps; /* times a thread found another in the critical section */
};

static void *count_under_lock(void *arg)
{
	struct counting *c = arg;
	for (int i = 0; i < INCREMENTS; i++) {
		pk_mutex_lock(&c->mutex);
		if (atomic_fetch_add(&c->inside, 1) != 0)
			atomic_fetch_add(&c->overlaps, 1);
		c->counter++;
		atomic_fetch_sub(&c->inside, 1);
		pk_mutex_unlock(&c->mutex);
	}
	return NULL;
}

static void test_mutex_loses_no_increment(void **state)
{
	(void)state;
	static struct counting c;
	pk_mutex_init(&c.mutex);
	pthread_t threads[THREADS];
	start_threads(threads, THREADS, count_under_lock, &c);
	join_threads(threads, THREADS);
	assert_int_equal(c.counter, (unsigned long)THREADS * INCREMENTS);
	assert_int_equal(c.overlaps, 0);
	assert_int_equal(c.mutex.state, 0);
}

static void *try_once(void *arg)
{
	return (void *)(intptr_t)pk_mutex_trylock(arg);
}

static int trylock_in_another_thread(struct pk_mutex *mutex)
{
	pthread_t thread;
	void *status;
	assert_int_equal(pthread_create(&thread, NULL, try_once, mutex), 0);
	assert_int_equal(pthread_join(thread, &status), 0);
	return (int)(intptr_t)status;
}

static void test_mutex_trylock_fails_only_while_held(void **state)
{
	(void)state;
	struct pk_mutex mutex = {0}; /* a zeroed mutex is ready */
	assert_int_equal(pk_mutex_trylock(&mutex), 0);
	assert_int_equal(pk_mutex_trylock(&mutex), -PK_EWOULDBLOCK);
	assert_int_equal(trylock_in_another_thread(&mutex), -PK_EWOULDBLOCK);
	pk_mutex_unlock(&mutex);
	assert_int_equal(trylock_in_another_thread(&mutex), 0); /* and still holds it */
	assert_int_equal(pk_mutex_trylock(&mutex), -PK_EWOULDBLOCK);
	pk_mutex_unlock(&mutex);
	pk_mutex_lock(&mutex);
	assert_int_equal(pk_mutex_trylock(&mutex), -PK_EWOULDBLOCK);
	pk_mutex_unlock(&mutex);
	assert_int_equal(mutex.state, 0);
}

struct sleeper {
	struct pk_mutex mutex;
	_Atomic int acquired;
};

static void *lock_and_note(void *arg)
{
	struct sleeper *s = arg;
	pk_mutex_lock(&s->mutex);
	atomic_store(&s->acquired, 1);
	pk_mutex_unlock(&s->mutex);
	return NULL;
}

static void test_mutex_unlock_wakes_a_sleeper(void **state)
{
	(void)state;
	struct sleeper s;
	pk_mutex_init(&s.mutex);
	atomic_init(&s.acquired, 0);
	pk_mutex_lock(&s.mutex);
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, lock_and_note, &s), 0);
	/* 2: it gave up spinning and sleeps, or is about to; only the unlock can wake it. */
	await_count(&s.mutex.state, 2);
	assert_int_equal(atomic_load(&s.acquired), 0);
	pk_mutex_unlock(&s.mutex);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(atomic_load(&s.acquired), 1);
	assert_int_equal(s.mutex.state, 0);
}

/* The condition variable. */

enum { HANDOFFS = 20000 };

/* One value at a time from a producer to a consumer; both wait when it is not their turn. */
struct mailbox {
	struct pk_mutex mutex;
	struct pk_cond changed;
	unsigned value; /* 0: empty */
	bool open;	/* gate for the broadcast test */
	unsigned waiting, woken;
	unsigned long received_sum;
	unsigned out_of_order;
};

static void *produce_handoffs(void *arg)
{
	struct mailbox *box = arg;
	for (unsigned v = 1; v <= HANDOFFS; v++) {
		pk_mutex_lock(&box->mutex);
		while (box->value != 0)
			pk_cond_wait(&box->changed, &box->mutex);
		box->value = v;
		pk_cond_signal(&box->changed);
		pk_mutex_unlock(&box->mutex);
	}
	return NULL;
}

static void *consume_handoffs(void *arg)
{
	struct mailbox *box = arg;
	for (unsigned expected = 1; expected <= HANDOFFS; expected++) {
		pk_mutex_lock(&box->mutex);
		while (box->value == 0)
			pk_cond_wait(&box->changed, &box->mutex);
		box->out_of_order += box->value != expected;
		box->received_sum += box->value;
		box->value = 0;
		pk_mutex_unlock(&box->mutex);
		/* Outside the mutex, which the condition allows. */
		pk_cond_signal(&box->changed);
	}
	return NULL;
}

static void test_cond_hands_every_value_from_producer_to_consumer(void **state)
{
	(void)state;
	static struct mailbox box;
	memset(&box, 0, sizeof box);
	pthread_t producer, consumer;
	start_threads(&producer, 1, produce_handoffs, &box);
	start_threads(&consumer, 1, consume_handoffs, &box);
	join_threads(&producer, 1);
	join_threads(&consumer, 1);
	assert_int_equal(box.out_of_order, 0);
	assert_int_equal(box.received_sum, (unsigned long)HANDOFFS * (HANDOFFS + 1) / 2);
	assert_int_equal(box.value, 0);
}

static void *wait_for_gate(void *arg)
{
	struct mailbox *box = arg;
	pk_mutex_lock(&box->mutex);
	box->waiting++;
	while (!box->open)
		pk_cond_wait(&box->changed, &box->mutex);
	box->woken++;
	pk_mutex_unlock(&box->mutex);
	return NULL;
}

static void test_cond_broadcast_wakes_every_waiter(void **state)
{
	(void)state;
	struct mailbox box;
	memset(&box, 0, sizeof box);
	pthread_t threads[THREADS];
	start_threads(threads, THREADS, wait_for_gate, &box);
	await_count(&box.changed.waiters, THREADS);
	pk_mutex_lock(&box.mutex);
	assert_int_equal(box.waiting, THREADS);
	assert_int_equal(box.woken, 0);
	box.open = true;
	pk_cond_broadcast(&box.changed);
	pk_mutex_unlock(&box.mutex);
	join_threads(threads, THREADS);
	assert_int_equal(box.woken, THREADS);
	assert_int_equal(box.changed.waiters, 0);
}

static void test_cond_timedwait_times_out_not_early(void **state)
{
	(void)state;
	struct pk_mutex mutex;
	struct pk_cond cond;
	pk_mutex_init(&mutex);
	pk_cond_init(&cond);
	pk_mutex_lock(&mutex);
	const uint64_t timeouts[] = {0, 1 * MS, 20 * MS};
	for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
		int status;
		uint64_t took;
		do { /* nobody signals, but a wait may end spuriously */
			uint64_t start = now_ns();
			status = pk_cond_timedwait(&cond, &mutex, timeouts[i]);
			took = now_ns() - start;
		} while (status == 0);
		assert_int_equal(status, -PK_ETIMEDOUT);
		assert_true(took >= timeouts[i]);
		/* It relocked: nobody else can take the mutex. */
		assert_int_equal(trylock_in_another_thread(&mutex), -PK_EWOULDBLOCK);
	}
	pk_mutex_unlock(&mutex);
}

/* The queue. */

struct traffic {
	struct pk_queue queue;
	void *slots[QUEUE_SLOTS];
	_Atomic unsigned next_producer;
	_Atomic unsigned delivered[PRODUCERS * ITEMS_PER_PRODUCER];
	_Atomic unsigned out_of_order; /* a consumer saw a producer's items in another order */
	_Atomic unsigned failed_pushes;
};

/* Item i of producer p as a pointer that is never NULL. */
static void *item(unsigned producer, unsigned i)
{
	return (void *)(uintptr_t)(producer * ITEMS_PER_PRODUCER + i + 1);
}

static void *produce_items(void *arg)
{
	struct traffic *t = arg;
	unsigned producer = atomic_fetch_add(&t->next_producer, 1);
	for (unsigned i = 0; i < ITEMS_PER_PRODUCER; i++)
		if (pk_queue_push(&t->queue, item(producer, i)) != 0)
			atomic_fetch_add(&t->failed_pushes, 1);
	return NULL;
}

static void *consume_items(void *arg)
{
	struct traffic *t = arg;
	unsigned long last[PRODUCERS] = {0}; /* the last item seen from each, plus one */
	void *got;
	while (pk_queue_pop(&t->queue, &got) == 0) {
		unsigned long index = (uintptr_t)got - 1;
		unsigned producer = (unsigned)(index / ITEMS_PER_PRODUCER);
		if (index >= PRODUCERS * ITEMS_PER_PRODUCER || index + 1 <= last[producer]) {
			atomic_fetch_add(&t->out_of_order, 1);
			continue;
		}
		last[producer] = index + 1;
		atomic_fetch_add(&t->delivered[index], 1);
	}
	return NULL;
}

static void test_queue_delivers_every_item_exactly_once(void **state)
{
	(void)state;
	static struct traffic t;
	memset(&t, 0, sizeof t);
	assert_int_equal(pk_queue_init(&t.queue, t.slots, QUEUE_SLOTS), 0);
	pthread_t producers[PRODUCERS], consumers[CONSUMERS];
	start_threads(consumers, CONSUMERS, consume_items, &t);
	start_threads(producers, PRODUCERS, produce_items, &t);
	join_threads(producers, PRODUCERS);
	pk_queue_close(&t.queue); /* consumers drain what is left, then stop */
	join_threads(consumers, CONSUMERS);
	assert_int_equal(t.failed_pushes, 0);
	assert_int_equal(t.out_of_order, 0);
	for (unsigned i = 0; i < PRODUCERS * ITEMS_PER_PRODUCER; i++)
		if (t.delivered[i] != 1)
			fail_msg("item %u delivered %u times", i, t.delivered[i]);
	assert_int_equal(t.queue.count, 0);
}

static void test_queue_try_and_timed_variants_when_full_or_empty(void **state)
{
	(void)state;
	struct pk_queue queue;
	void *slots[2], *got = NULL;
	assert_int_equal(pk_queue_init(&queue, slots, 0), -PK_EINVAL);
	assert_int_equal(pk_queue_init(&queue, slots, 2), 0);
	assert_int_equal(pk_queue_try_pop(&queue, &got), -PK_EWOULDBLOCK);
	uint64_t start = now_ns();
	assert_int_equal(pk_queue_pop_timed(&queue, &got, 5 * MS), -PK_ETIMEDOUT);
	assert_true(now_ns() - start >= 5 * MS);
	/* Round the ring several times, so the head wraps. */
	for (unsigned round = 0; round < 3; round++) {
		assert_int_equal(pk_queue_try_push(&queue, item(0, 2 * round)), 0);
		assert_int_equal(pk_queue_push_timed(&queue, item(0, 2 * round + 1), 5 * MS), 0);
		assert_int_equal(pk_queue_try_push(&queue, item(1, 0)), -PK_EWOULDBLOCK);
		start = now_ns();
		assert_int_equal(pk_queue_push_timed(&queue, item(1, 0), 5 * MS), -PK_ETIMEDOUT);
		assert_true(now_ns() - start >= 5 * MS);
		assert_int_equal(pk_queue_try_pop(&queue, &got), 0);
		assert_ptr_equal(got, item(0, 2 * round));
		assert_int_equal(pk_queue_pop_timed(&queue, &got, 5 * MS), 0);
		assert_ptr_equal(got, item(0, 2 * round + 1));
		assert_int_equal(pk_queue_try_pop(&queue, &got), -PK_EWOULDBLOCK);
	}
}

struct blocked {
	struct pk_queue *queue;
	bool pushing;
	int status;
};

static void *push_or_pop_blocking(void *arg)
{
	struct blocked *b = arg;
	void *got;
	b->status =
		b->pushing ? pk_queue_push(b->queue, item(0, 99)) : pk_queue_pop(b->queue, &got);
	return NULL;
}

/* Starts a thread blocked in push (on a full queue) or pop (on an empty one), closes the
 * queue under it, and returns what its call returned. */
static int status_of_blocked_call_when_closed(struct pk_queue *queue, bool pushing)
{
	struct blocked b = {.queue = queue, .pushing = pushing, .status = 1};
	pthread_t thread;
	start_threads(&thread, 1, push_or_pop_blocking, &b);
	await_count(pushing ? &queue->not_full.waiters : &queue->not_empty.waiters, 1);
	pk_queue_close(queue);
	join_threads(&thread, 1);
	return b.status;
}

static void test_queue_close_wakes_waiters_and_drains(void **state)
{
	(void)state;
	struct pk_queue queue;
	void *slots[1], *got = NULL;
	assert_int_equal(pk_queue_init(&queue, slots, 1), 0);
	assert_int_equal(status_of_blocked_call_when_closed(&queue, false), -PK_ECLOSED);

	assert_int_equal(pk_queue_init(&queue, slots, 1), 0);
	assert_int_equal(pk_queue_push(&queue, item(0, 1)), 0);
	assert_int_equal(status_of_blocked_call_when_closed(&queue, true), -PK_ECLOSED);
	/* Closed: nothing more goes in, what is in still comes out, then the error. */
	assert_int_equal(pk_queue_try_push(&queue, item(0, 2)), -PK_ECLOSED);
	assert_int_equal(pk_queue_pop(&queue, &got), 0);
	assert_ptr_equal(got, item(0, 1));
	assert_int_equal(pk_queue_pop(&queue, &got), -PK_ECLOSED);
	assert_int_equal(pk_queue_try_pop(&queue, &got), -PK_ECLOSED);
	assert_int_equal(pk_queue_pop_timed(&queue, &got, 1 * MS), -PK_ECLOSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_loses_no_increment),
		cmocka_unit_test(test_mutex_trylock_fails_only_while_held),
		cmocka_unit_test(test_mutex_unlock_wakes_a_sleeper),
		cmocka_unit_test(test_cond_hands_every_value_from_producer_to_consumer),
		cmocka_unit_test(test_cond_broadcast_wakes_every_waiter),
		cmocka_unit_test(test_cond_timedwait_times_out_not_early),
		cmocka_unit_test(test_queue_delivers_every_item_exactly_once),
		cmocka_unit_test(test_queue_try_and_timed_variants_when_full_or_empty),
		cmocka_unit_test(test_queue_close_wakes_waiters_and_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
