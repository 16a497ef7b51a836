/* The simulator's kernel-call transport, daemon side (the program side is
 * libpk/sim/channel.c; the page is include/packos/sim_channel.h).
 *
 * A doorbell says "slots were published"; the daemon runs them in order through the
 * kernel and publishes the answers. A receive marked PK_SLOT_WAIT that finds its queue
 * empty is parked here instead of answered, and run again when the kernel says a packet
 * arrived (po_wake) or answered PK_ETIMEDOUT at its deadline: the kernel call stays
 * non-blocking, and a program that sends and then waits for the reply enters the daemon
 * once per packet instead of three times.
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

static uint32_t next_park_seq;

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A program just answered is likely to call again soon: poll it, if there is room. */
static void start_polling(struct daemon *d, struct sim_proc *p)
{
	if (p->polled || d->opt.poll_us == 0 || d->poll_count == POLL_SET_MAX)
		return;
	p->polled = true;
	d->poll_set[d->poll_count++] = (uint32_t)(p - d->procs);
	atomic_store(&p->page->polled, 1);
}

/* Tells the program how far the answers go, and wakes it if it went to sleep. */
static void publish(struct daemon *d, struct sim_proc *p)
{
	if (atomic_load_explicit(&p->page->completed, memory_order_relaxed) == p->answered)
		return;
	start_polling(d, p);
	/* Sequentially consistent store, then load: the other half of the program's
	 * "announce sleep, then look" (see libpk/sim/channel.c). */
	atomic_store(&p->page->completed, p->answered);
	/* A program waits for its whole batch: while a receive of it is parked, the
	 * answers so far would only wake it to sleep again. */
	if (!p->parked && atomic_load(&p->page->sleeping)) {
		futex_wake(&p->page->completed);
		d->counters.futex_wakes++;
	}
}

static void answer(struct daemon *d, struct sim_proc *p, const struct pk_kresult *result)
{
	p->page->slot[p->consumed % PK_CHANNEL_SLOTS].result = *result;
	p->last_status = (int)result->status;
	p->consumed++;
	p->answered++;
	d->counters.slots++;
}

static void capture_sent(struct daemon *d, const struct pk_kcall *send)
{
	uint32_t number = PK_FRAME_NUMBER(send->arg[0]);
	capture_packet(d->capture, d->pool + (size_t)number * PK_FRAME_SIZE,
		       (uint32_t)send->arg[1]);
}

static void park(struct daemon *d, struct sim_proc *p, const struct pk_kcall *call,
		 uint32_t wait_ms)
{
	p->parked = true;
	p->parked_endpoint = call->arg[0];
	p->park_seq = ++next_park_seq & 0xffffffu;
	d->counters.parked++;
	tracing_call_waits(d, p, call, wait_ms);
	if (wait_ms != 0) {
		p->park_deadline.tv_sec = wait_ms / 1000;
		p->park_deadline.tv_nsec = (long long)(wait_ms % 1000) * 1000000;
		loop_arm_wait_timeout(d, p);
	} else {
		p->park_deadline = (struct __kernel_timespec){0};
	}
}

/* Runs one slot's call; returns false if it parked. */
static bool run_call(struct daemon *d, struct sim_proc *p, const struct pk_kcall *call,
		     uint32_t flags, uint32_t wait_ms)
{
	struct pk_kresult result = {0};
	if ((flags & ~PK_SLOT_FLAGS_KNOWN) != 0 ||
	    ((flags & PK_SLOT_WAIT) && call->nr != PK_KC_recv)) {
		result.status = -PK_EINVAL;
	} else if ((flags & PK_SLOT_LINKED) && p->last_status < 0) {
		result.status = -PK_ECANCELED;
	} else {
		kernel_call(d->kernel, p->kproc, call, &result);
		p->calls++;
		bool waits = result.status == -PK_EWOULDBLOCK && (flags & PK_SLOT_WAIT);
		if (!waits)
			tracing_call_answered(d, p, call, &result);
		if (p->state != PROC_RUNNING)
			return false; /* faulted: nothing more to answer */
		if (result.status == 0 && call->nr == PK_KC_send && d->capture != NULL)
			capture_sent(d, call);
		if (waits) {
			p->parked_call = *call;
			park(d, p, call, wait_ms);
			return false;
		}
	}
	answer(d, p, &result);
	return true;
}

static void run_slots(struct daemon *d, struct sim_proc *p)
{
	uint32_t submitted = atomic_load_explicit(&p->page->submitted, memory_order_acquire);
	uint32_t pending = submitted - p->consumed;
	if (pending > PK_CHANNEL_SLOTS) {
		proc_fault(d, p, "channel: %u call slots published at once; the ring holds %u",
			   pending, PK_CHANNEL_SLOTS);
		return;
	}
	while (p->consumed != submitted && p->state == PROC_RUNNING && !p->parked) {
		struct pk_channel_slot slot;
		memcpy(&slot, &p->page->slot[p->consumed % PK_CHANNEL_SLOTS], sizeof slot);
		if (!run_call(d, p, &slot.call, slot.flags, slot.wait_ms))
			break;
	}
	if (p->state == PROC_RUNNING)
		publish(d, p);
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
		if (p->state != PROC_RUNNING || p->parked ||
		    atomic_load(&p->page->submitted) == p->consumed)
			continue;
		d->counters.polled_batches++;
		run_slots(d, p);
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
		atomic_store(&p->page->polled, 0);
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
	if (p->state == PROC_RUNNING && !p->parked)
		run_slots(d, p);
}

void channel_packet_arrived(struct daemon *d, struct sim_proc *p, pk_endpoint_t endpoint)
{
	if (p->state != PROC_RUNNING)
		return;
	if (p->parked && p->parked_endpoint == endpoint) {
		/* Not now: this runs inside another process's kernel call. */
		if (!p->resume_pending) {
			p->resume_pending = true;
			p->resume_next = d->resume_head;
			d->resume_head = (uint32_t)(p - d->procs);
		}
		return;
	}
	atomic_fetch_add(&p->page->wakes, 1);
	if (atomic_load(&p->page->sleeping))
		futex_wake(&p->page->wakes);
}

static void unpark(struct daemon *d, struct sim_proc *p)
{
	p->parked = false;
	if (p->park_deadline.tv_sec != 0 || p->park_deadline.tv_nsec != 0)
		loop_cancel(d, event_tag(EV_WAIT_TIMEOUT, p->park_seq, (uint32_t)(p - d->procs)));
}

void channel_run_resumes(struct daemon *d)
{
	while (d->resume_head != NO_PROC) {
		struct sim_proc *p = &d->procs[d->resume_head];
		d->resume_head = p->resume_next;
		p->resume_pending = false;
		if (p->state != PROC_RUNNING || !p->parked)
			continue;
		unpark(d, p);
		struct pk_kcall call = p->parked_call;
		if (run_call(d, p, &call, PK_SLOT_WAIT, 0))
			run_slots(d, p);
		else if (p->state == PROC_RUNNING)
			publish(d, p);
	}
}

void channel_wait_timeout(struct daemon *d, struct sim_proc *p, uint32_t park_seq)
{
	if (p->state != PROC_RUNNING || !p->parked || p->park_seq != park_seq)
		return;
	p->parked = false;
	d->counters.wait_timeouts++;
	struct pk_kresult timed_out = {.status = -PK_ETIMEDOUT};
	tracing_call_answered(d, p, &p->parked_call, &timed_out);
	answer(d, p, &timed_out);
	run_slots(d, p);
}
