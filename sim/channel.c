/* The simulator's kernel-call transport, daemon side (the program side is
 * libpk/sim/channel.c; the page is include/packos/sim_channel.h).
 *
 * A process's channel has a ring per thread that calls (sim_channel.h); the rings in use
 * are named by a mask in the first page. A doorbell says "slots were published" in some
 * ring; the daemon runs each ring's slots in order through the kernel and publishes the
 * answers. A receive marked PK_SLOT_WAIT (recv, or recv_any on a context) that finds
 * nothing is parked here, in its ring, instead of answered, and run again when the kernel
 * says a packet arrived at one of the process's endpoints (po_wake) or answered
 * PK_ETIMEDOUT at its deadline: the kernel call stays non-blocking, and a program that
 * sends and then waits for the reply enters the daemon once per packet instead of three
 * times. Several rings may wait on one endpoint (a pool of threads): each is tried, one
 * gets the packet and the others stay parked, deadlines and all.
 *
 * While it is busy, the daemon also polls: the programs it answered since it last slept
 * form a small poll set, their pages say `polled`, and the event loop looks at their
 * rings between events for a while (--poll-us) before it sleeps. A program that
 * publishes while polled rings no doorbell, so a conversation in full swing costs no
 * system call on either side but the yields. Stopping clears the flags and looks once
 * more, so a batch published just then is still seen (see sim_channel.h).
 *
 * The page is the program's to scribble on: every published count and every slot is read
 * once into the daemon's own memory, and a count that cannot be right faults the
 * process. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture.h"
#include "daemon.h"

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* The rings the program says are in use; the main thread's always is. */
static uint32_t rings_in_use(const struct sim_proc *p)
{
	return (atomic_load_explicit(&p->channel->rings_in_use, memory_order_acquire) | 1u) &
	       (uint32_t)((1ull << PK_CHANNEL_RINGS) - 1);
}

static unsigned ring_index(const struct sim_proc *p, const struct sim_ring *r)
{
	return (unsigned)(r - p->ring);
}

static uint32_t ring_id(const struct daemon *d, const struct sim_proc *p, const struct sim_ring *r)
{
	return (uint32_t)(p - d->procs) * PK_CHANNEL_RINGS + ring_index(p, r);
}

/* A program just answered is likely to call again soon: poll it, if there is room. */
static void start_polling(struct daemon *d, struct sim_proc *p)
{
	if (p->polled || d->opt.poll_us == 0 || d->poll_count == POLL_SET_MAX)
		return;
	p->polled = true;
	d->poll_set[d->poll_count++] = (uint32_t)(p - d->procs);
	atomic_store(&p->channel->polled, 1);
}

/* Of the programs polled (the busy ones), those that last published from the daemon's CPU:
 * the programs that take turns with it there. */
static uint32_t programs_on_daemon_cpu(const struct daemon *d)
{
	uint32_t count = 0;
	for (unsigned i = 0; i < d->poll_count; i++)
		count += atomic_load_explicit(&d->procs[d->poll_set[i]].channel->cpu,
					      memory_order_relaxed) == d->cpu;
	return count;
}

/* Tells the ring's thread how far the answers go, and wakes it if it went to sleep. */
static void publish(struct daemon *d, struct sim_proc *p, struct sim_ring *r)
{
	if (atomic_load_explicit(&r->page->completed, memory_order_relaxed) == r->answered)
		return;
	start_polling(d, p);
	atomic_store_explicit(&r->page->daemon_cpu, d->cpu, memory_order_relaxed);
	atomic_store_explicit(&r->page->programs_on_daemon_cpu, programs_on_daemon_cpu(d),
			      memory_order_relaxed);
	/* Sequentially consistent store, then load: the other half of the program's
	 * "announce sleep, then look" (see libpk/sim/channel.c). */
	atomic_store(&r->page->completed, r->answered);
	/* A thread waits for its whole batch: while a receive of it is parked, the answers
	 * so far would only wake it to sleep again. */
	if (!r->parked && atomic_load(&r->page->sleeping)) {
		futex_wake(&r->page->completed);
		d->counters.futex_wakes++;
	}
}

static void answer(struct daemon *d, struct sim_ring *r, const struct pk_kresult *result)
{
	r->page->slot[r->consumed % PK_CHANNEL_SLOTS].result = *result;
	r->last_status = (int)result->status;
	if (result->status < 0)
		r->batch_failed = true;
	r->consumed++;
	r->answered++;
	d->counters.slots++;
}

static void capture_sent(struct daemon *d, const struct pk_kcall *send)
{
	uint32_t number = PK_FRAME_NUMBER(send->arg[0]);
	capture_packet(d->capture, d->pool + (size_t)number * PK_FRAME_SIZE,
		       (uint32_t)send->arg[1]);
}

static uint64_t timer_due_ns(const struct sim_ring *r)
{
	return (uint64_t)r->timer_at.tv_sec * 1000000000u + (uint64_t)r->timer_at.tv_nsec;
}

/* Makes sure a timeout fires no later than the parked wait's deadline. */
static void cover_deadline(struct daemon *d, struct sim_proc *p, struct sim_ring *r)
{
	uint64_t due = r->park_due_ns;
	if (r->timer_armed && timer_due_ns(r) <= due)
		return; /* it fires first, and arms again for what is left */
	r->timer_at.tv_sec = (long long)(due / 1000000000u);
	r->timer_at.tv_nsec = (long long)(due % 1000000000u);
	if (r->timer_armed) {
		loop_move_wait_timeout(d, p, ring_index(p, r));
	} else {
		r->timer_armed = true;
		loop_arm_wait_timeout(d, p, ring_index(p, r));
	}
}

static void park(struct daemon *d, struct sim_proc *p, struct sim_ring *r,
		 const struct pk_kcall *call, uint32_t wait_ms)
{
	r->parked = true;
	r->parked_call = *call;
	d->counters.parked++;
	tracing_call_waits(d, p, call, wait_ms);
	r->park_due_ns = 0;
	if (wait_ms != 0) {
		r->park_due_ns = loop_now_ns() + (uint64_t)wait_ms * 1000000u;
		cover_deadline(d, p, r);
	}
}

static void answer_parked(struct daemon *d, struct sim_proc *p, struct sim_ring *r,
			  const struct pk_kresult *result);

/* A context was destroyed while other threads waited on it with recv_any: nothing more can
 * come through it, and running their receives again would fault the process on a stale
 * handle at some later packet. Each is answered ECLOSED now. */
static void close_waits_on_context(struct daemon *d, struct sim_proc *p, pk_handle_t context)
{
	for (unsigned i = 0; i < PK_CHANNEL_RINGS; i++) {
		struct sim_ring *r = &p->ring[i];
		if (r->parked && r->parked_call.nr == PK_KC_recv_any &&
		    r->parked_call.arg[0] == context)
			answer_parked(d, p, r, &(struct pk_kresult){.status = -PK_ECLOSED});
	}
}

static bool waits_for_packets(uint32_t nr)
{
	return nr == PK_KC_recv || nr == PK_KC_recv_any;
}

/* Runs one slot's call; returns false if it parked. */
static bool run_call(struct daemon *d, struct sim_proc *p, struct sim_ring *r,
		     const struct pk_kcall *call, uint32_t flags, uint32_t wait_ms)
{
	struct pk_kresult result = {0};
	if ((flags & ~PK_SLOT_FLAGS_KNOWN) != 0 ||
	    ((flags & PK_SLOT_WAIT) && !waits_for_packets(call->nr))) {
		result.status = -PK_EINVAL;
	} else if ((flags & PK_SLOT_LINKED) && r->last_status < 0) {
		result.status = -PK_ECANCELED;
	} else {
		kernel_call(d->kernel, p->kproc, call, &result);
		p->calls++;
		/* A wait never holds back the news of a failure earlier in the batch. */
		bool waits = result.status == -PK_EWOULDBLOCK && (flags & PK_SLOT_WAIT) &&
			     !r->batch_failed;
		if (!waits)
			tracing_call_answered(d, p, call, &result);
		if (p->state != PROC_RUNNING)
			return false; /* faulted: nothing more to answer */
		if (result.status == 0 && call->nr == PK_KC_send && d->capture != NULL)
			capture_sent(d, call);
		if (result.status == 0 && call->nr == PK_KC_tick_subscribe)
			clock_subscribed(d);
		if (result.status == 0 && call->nr == PK_KC_context_destroy)
			close_waits_on_context(d, p, call->arg[0]);
		if (waits) {
			park(d, p, r, call, wait_ms);
			return false;
		}
	}
	answer(d, r, &result);
	return true;
}

static void run_slots(struct daemon *d, struct sim_proc *p, struct sim_ring *r)
{
	uint32_t submitted = atomic_load_explicit(&r->page->submitted, memory_order_acquire);
	uint32_t pending = submitted - r->consumed;
	if (pending > PK_CHANNEL_SLOTS) {
		proc_fault(d, p, "channel: ring %u: %u call slots published at once; it holds %u",
			   ring_index(p, r), pending, PK_CHANNEL_SLOTS);
		return;
	}
	while (r->consumed != submitted && p->state == PROC_RUNNING && !r->parked) {
		struct pk_channel_slot slot;
		memcpy(&slot, &r->page->slot[r->consumed % PK_CHANNEL_SLOTS], sizeof slot);
		if (!run_call(d, p, r, &slot.call, slot.flags, slot.wait_ms))
			break;
	}
	if (r->consumed == submitted && !r->parked)
		r->batch_failed = false; /* the batch is over: the next starts clean */
	if (p->state == PROC_RUNNING)
		publish(d, p, r);
}

/* Runs what every ring of `p` in use has published; true if there was any. The NIC's
 * driver posts TX descriptors before it calls, so once its calls are read, what it posted
 * is visible too, and goes out without a doorbell. */
static bool run_rings(struct daemon *d, struct sim_proc *p)
{
	bool found = false;
	uint32_t rings = rings_in_use(p);
	while (rings != 0 && p->state == PROC_RUNNING) {
		struct sim_ring *r = &p->ring[__builtin_ctz(rings)];
		rings &= rings - 1;
		if (r->parked || atomic_load(&r->page->submitted) == r->consumed)
			continue;
		run_slots(d, p, r);
		found = true;
	}
	if (found && p->drives_nic && p->state == PROC_RUNNING)
		nic_driver_entered(d);
	return found;
}

bool channel_polling(const struct daemon *d)
{
	return d->poll_count != 0;
}

/* Runs what the programs of `set` published without a doorbell; true if there was any. */
static bool run_unannounced(struct daemon *d, const uint32_t *set, unsigned count)
{
	bool found = false;
	for (unsigned i = 0; i < count; i++) {
		struct sim_proc *p = &d->procs[set[i]];
		if (p->state != PROC_RUNNING || !run_rings(d, p))
			continue;
		d->counters.polled_batches++;
		found = true;
	}
	channel_run_resumes(d);
	return found;
}

bool channel_poll(struct daemon *d)
{
	return run_unannounced(d, d->poll_set, d->poll_count);
}

bool channel_poll_stop(struct daemon *d)
{
	uint32_t set[POLL_SET_MAX];
	unsigned count = d->poll_count;
	memcpy(set, d->poll_set, count * sizeof set[0]);
	d->poll_count = 0;
	for (unsigned i = 0; i < count; i++) {
		struct sim_proc *p = &d->procs[set[i]];
		p->polled = false;
		atomic_store(&p->channel->polled, 0);
	}
	/* Published before the flag went down, and so without a doorbell: run it now. */
	return run_unannounced(d, set, count);
}

void channel_forget(struct daemon *d, struct sim_proc *p)
{
	if (!p->polled)
		return;
	uint32_t index = (uint32_t)(p - d->procs);
	for (unsigned i = 0; i < d->poll_count; i++) {
		if (d->poll_set[i] == index) {
			d->poll_set[i] = d->poll_set[--d->poll_count];
			break;
		}
	}
	p->polled = false;
}

void channel_doorbell(struct daemon *d, struct sim_proc *p)
{
	d->counters.doorbells++;
	if (p->state == PROC_RUNNING)
		run_rings(d, p);
}

static bool parked_for(const struct sim_ring *r, pk_endpoint_t endpoint)
{
	/* recv_any waits on a context's endpoints, which only the kernel knows: try it. */
	return r->parked &&
	       (r->parked_call.nr == PK_KC_recv_any || r->parked_call.arg[0] == endpoint);
}

void channel_packet_arrived(struct daemon *d, struct sim_proc *p, pk_endpoint_t endpoint)
{
	if (p->state != PROC_RUNNING)
		return;
	/* Every ring that may want the packet is tried (only the kernel knows which contexts
	 * an endpoint is bound to, and a wake is said once), starting after the ring served
	 * last, so a pool of threads takes turns: the resume list runs last in, first out, so
	 * the ring queued last goes first. A packet nobody waits for stays queued for the
	 * next receive. */
	unsigned first = p->wake_turn % PK_CHANNEL_RINGS;
	for (unsigned i = PK_CHANNEL_RINGS; i-- > 0;) {
		struct sim_ring *r = &p->ring[(first + i) % PK_CHANNEL_RINGS];
		if (!parked_for(r, endpoint))
			continue;
		/* Not now: this runs inside another process's kernel call. */
		if (!r->resume_pending) {
			r->resume_pending = true;
			r->resume_next = d->resume_head;
			d->resume_head = ring_id(d, p, r);
		}
	}
}

/* The ring's timeout stays armed (see struct sim_ring). */
static void unpark(struct sim_ring *r)
{
	r->parked = false;
	r->park_due_ns = 0;
}

void channel_unpark_all(struct sim_proc *p)
{
	for (unsigned i = 0; i < PK_CHANNEL_RINGS; i++)
		if (p->ring[i].parked)
			unpark(&p->ring[i]);
}

/* Runs a parked receive again. Another ring may have taken the packet first: then it stays
 * parked, with the deadline it had. */
static void resume(struct daemon *d, struct sim_proc *p, struct sim_ring *r)
{
	struct pk_kresult result = {0};
	kernel_call(d->kernel, p->kproc, &r->parked_call, &result);
	p->calls++;
	if (result.status == -PK_EWOULDBLOCK)
		return;
	tracing_call_answered(d, p, &r->parked_call, &result);
	if (p->state != PROC_RUNNING)
		return;
	p->wake_turn = ring_index(p, r) + 1;
	unpark(r);
	answer(d, r, &result);
	run_slots(d, p, r);
}

void channel_run_resumes(struct daemon *d)
{
	while (d->resume_head != NO_PROC) {
		uint32_t id = d->resume_head;
		struct sim_proc *p = &d->procs[id / PK_CHANNEL_RINGS];
		struct sim_ring *r = &p->ring[id % PK_CHANNEL_RINGS];
		d->resume_head = r->resume_next;
		r->resume_pending = false;
		if (p->state == PROC_RUNNING && r->parked)
			resume(d, p, r);
	}
}

/* Ends a parked receive with `result` without running it again. */
static void answer_parked(struct daemon *d, struct sim_proc *p, struct sim_ring *r,
			  const struct pk_kresult *result)
{
	unpark(r);
	tracing_call_answered(d, p, &r->parked_call, result);
	answer(d, r, result);
	run_slots(d, p, r);
}

void channel_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring)
{
	struct sim_ring *r = &p->ring[ring];
	r->timer_armed = false;
	if (p->state != PROC_RUNNING || !r->parked || r->park_due_ns == 0)
		return;
	if (r->park_due_ns > loop_now_ns()) {
		cover_deadline(d, p, r); /* armed for an earlier wait: the rest of this one */
		return;
	}
	d->counters.wait_timeouts++;
	answer_parked(d, p, r, &(struct pk_kresult){.status = -PK_ETIMEDOUT});
}
