/* The simulator's kernel-call transport, program side: the channel shared with packosd
 * (include/packos/sim_channel.h). Each thread calls through a ring of its own: the main
 * thread through ring 0, a thread started with pk_thread_start through one it claims for
 * its life. A batch of calls is written into slots, published, and announced with one
 * doorbell write (none while the daemon polls the rings); the answer is awaited by a
 * short yielding spin and then a futex sleep.
 *
 * Why yield while spinning: on one core, the daemon cannot answer until we give it the
 * CPU, and sched_yield hands it over at once; on two cores the yield is a cheap syscall
 * that finds nothing else to run, so the spin still sees the answer within a microsecond.
 * The spin is bounded, so a program waiting for a packet soon sleeps, and a thread whose
 * waits keep outlasting the daemon's turns on its core skips it (spin_habit.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <packos/sim_channel.h>

#include "../backend.h"
#include "sim.h"
#include "spin_habit.h"

static struct pk_channel_page *channel; /* PK_CHANNEL_RINGS pages */
static int doorbell_fd = -1;

/* The calling thread's ring. */
static _Thread_local struct pk_channel_page *page;
static _Thread_local uint32_t published; /* slots this thread has published; its own count */
static _Thread_local struct spin_habit habit;

static void die(const char *what)
{
	fprintf(stderr, "libpk: %s: %s\n", what, strerror(errno));
	_exit(127);
}

static void sleep_for_answers(uint32_t target)
{
	/* Dekker with the daemon: we announce the sleep, then look; it publishes, then
	 * looks at `sleeping`. Both sequentially consistent, so one of us sees the other. */
	atomic_store(&page->sleeping, 1);
	for (;;) {
		uint32_t seen = atomic_load(&page->completed);
		if (seen == target)
			break;
		if (syscall(SYS_futex, &page->completed, FUTEX_WAIT, seen, NULL, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			die("futex wait");
	}
	atomic_store(&page->sleeping, 0);
}

/* Whether the thread, on `cpu`, takes turns there with the daemon and another program at
 * least, as of the daemon's last answer (spin_habit.h). */
static bool crowded(int cpu)
{
	return cpu >= 0 &&
	       (uint32_t)cpu == atomic_load_explicit(&page->daemon_cpu, memory_order_relaxed) &&
	       atomic_load_explicit(&page->programs_on_daemon_cpu, memory_order_relaxed) >= 2;
}

static void wait_for_answers(uint32_t target, int cpu)
{
	bool in_crowd = crowded(cpu);
	if (spin_habit_sleeps_at_once(&habit, in_crowd)) {
		sleep_for_answers(target);
		return;
	}
	for (unsigned yields = 0; yields < SPIN_HABIT_YIELDS; yields++) {
		if (atomic_load_explicit(&page->completed, memory_order_acquire) == target) {
			spin_habit_learn(&habit, in_crowd, yields);
			return;
		}
		sched_yield();
	}
	spin_habit_learn(&habit, in_crowd, SPIN_HABIT_YIELDS);
	sleep_for_answers(target);
}

void backend_call_batch(const struct backend_call *calls, struct pk_kresult *results,
			unsigned count)
{
	if (page == NULL) {
		fprintf(stderr, "libpk: a kernel call from a thread not started with "
				"pk_thread_start (it has no ring of its own)\n");
		_exit(127);
	}
	int cpu = sched_getcpu();
	atomic_store_explicit(&channel->cpu, (uint32_t)cpu, memory_order_relaxed);
	/* Batches longer than the ring go in ring-sized pieces; linking across pieces is
	 * kept by the daemon, which sees one stream of slots. */
	while (count > 0) {
		unsigned n = count < PK_CHANNEL_SLOTS ? count : PK_CHANNEL_SLOTS;
		for (unsigned i = 0; i < n; i++) {
			struct pk_channel_slot *slot =
				&page->slot[(published + i) % PK_CHANNEL_SLOTS];
			slot->call = calls[i].call;
			slot->flags = (calls[i].wait ? PK_SLOT_WAIT : 0u) |
				      (calls[i].linked ? PK_SLOT_LINKED : 0u);
			slot->wait_ms = calls[i].wait_ms;
		}
		published += n;
		/* Sequentially consistent store, then load: the other half of the daemon's
		 * "stop polling, then look once more". */
		atomic_store(&page->submitted, published);
		uint64_t one = 1;
		if (!atomic_load(&channel->polled) &&
		    write(doorbell_fd, &one, sizeof one) != sizeof one)
			die("doorbell");
		wait_for_answers(published, cpu);
		for (unsigned i = 0; i < n; i++)
			results[i] = page->slot[(published - n + i) % PK_CHANNEL_SLOTS].result;
		calls += n;
		results += n;
		count -= n;
	}
}

int sim_descriptors(const char *variable, int *fds, int count)
{
	const char *env = getenv(variable);
	if (env == NULL)
		return -1;
	char *end = NULL;
	for (int i = 0; i < count; i++) {
		errno = 0;
		long fd = strtol(env, &end, 10);
		if (errno != 0 || end == env || fd < 0 || fd > INT_MAX)
			return -1;
		fds[i] = (int)fd;
		if (i < count - 1 && *end++ != ',')
			return -1;
		env = end;
	}
	return *end == '\0' ? 0 : -1;
}

int backend_init(struct backend_boot *ret_boot)
{
	int fds[3];
	if (sim_descriptors(PK_SIM_ENV, fds, 3) < 0) {
		fprintf(stderr, "libpk: not started by packosd (%s is missing or bad)\n",
			PK_SIM_ENV);
		return -PK_EINVAL;
	}
	channel = mmap(NULL, (size_t)PK_CHANNEL_RINGS * PK_CHANNEL_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fds[0], 0);
	if (channel == MAP_FAILED)
		die("mapping the channel");
	page = channel;
	const struct pk_boot_record *b = &channel->boot;
	if (b->magic != PK_CHANNEL_MAGIC || b->version != PK_CHANNEL_VERSION ||
	    b->endpoint_count > PK_BOOT_ENDPOINTS) {
		fprintf(stderr, "libpk: the channel page is not a version %u boot record\n",
			PK_CHANNEL_VERSION);
		return -PK_EINVAL;
	}
	doorbell_fd = fds[1];
	published = atomic_load(&page->completed);

	memcpy(ret_boot->name, b->name, sizeof ret_boot->name);
	ret_boot->name[sizeof ret_boot->name - 1] = '\0';
	memcpy(ret_boot->kan_prefix, b->kan_prefix, sizeof ret_boot->kan_prefix);
	ret_boot->endpoint_count = b->endpoint_count;
	for (unsigned i = 0; i < b->endpoint_count; i++) {
		ret_boot->endpoint[i] = b->endpoint[i].handle;
		memcpy(ret_boot->address[i], b->endpoint[i].address, PK_IPV6_ADDR_SIZE);
	}
	return sim_frames_init(fds[2], b->isolation, b->frame_count);
}

struct pk_channel_page *sim_channel_page(void)
{
	return page;
}

int sim_ring_claim(void)
{
	uint32_t in_use = atomic_load(&channel->rings_in_use);
	for (;;) {
		uint32_t free = ~in_use & (uint32_t)((1ull << PK_CHANNEL_RINGS) - 1) & ~1u;
		if (free == 0)
			return -PK_ELIMIT;
		uint32_t bit = free & -free;
		if (atomic_compare_exchange_weak(&channel->rings_in_use, &in_use, in_use | bit))
			return __builtin_ctz(bit);
	}
}

void sim_ring_enter(int ring)
{
	page = &channel[ring];
	/* Whoever had the ring before waited for all its answers. */
	published = atomic_load(&page->completed);
}

void sim_ring_release(int ring)
{
	if (page == &channel[ring])
		page = NULL;
	atomic_fetch_and(&channel->rings_in_use, ~(1u << ring));
}

int sim_doorbell_fd(void)
{
	return doorbell_fd;
}
