/* packosd's event loop: one io_uring for everything the daemon waits on. Doorbells
 * (eventfd reads), process exits (pidfd polls), control connections, signals (signalfd)
 * and deadlines (timeouts) all complete into one queue, so the daemon sleeps in exactly
 * one place and a burst of events costs one system call to collect.
 *
 * Every submission carries a tag (event_tag) naming the kind of event and the slot and
 * generation it belongs to, so a completion for a process or connection that has since
 * gone is recognised and dropped. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "capture.h"
#include "daemon.h"

/* How long processes get to exit after SIGTERM before they are killed. */
enum { STOP_GRACE_SECONDS = 2 };

struct io_uring_sqe *loop_get_sqe(struct daemon *d)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);
	if (sqe == NULL) {
		io_uring_submit(&d->ring);
		sqe = io_uring_get_sqe(&d->ring);
	}
	if (sqe == NULL) {
		/* Only when the kernel refuses every submission; nothing sane remains. */
		log_error("io_uring: no submission entry available");
		abort();
	}
	return sqe;
}

int loop_init(struct daemon *d)
{
	struct io_uring_params params = {0};
	/* Cooperative task running: a completion that needs the daemon's own context (a TAP
	 * read) waits for its next system call, which a busy daemon makes within a yield,
	 * instead of interrupting it with an IPI from the core that made the packet. */
	params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	/* Each process has two requests in flight; room for all of them to complete at
	 * once, so completions are never held back in the kernel's overflow list. */
	params.cq_entries = 4 * d->proc_capacity + 256;
	int err = io_uring_queue_init_params(256, &d->ring, &params);
	if (err == -EINVAL) { /* a kernel before 5.19 */
		params = (struct io_uring_params){.flags = IORING_SETUP_CQSIZE,
						  .cq_entries = params.cq_entries};
		err = io_uring_queue_init_params(256, &d->ring, &params);
	}
	if (err < 0) {
		log_error("io_uring: %s", strerror(-err));
		return -1;
	}

	sigset_t handled;
	sigemptyset(&handled);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGHUP);
	sigaddset(&handled, SIGQUIT);
	sigaddset(&handled, SIGCHLD);
	sigprocmask(SIG_BLOCK, &handled, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &handled, SFD_CLOEXEC);
	if (d->signal_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void loop_arm_doorbell(struct daemon *d, struct sim_proc *p)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_read(sqe, p->doorbell, &p->doorbell_value, sizeof p->doorbell_value, 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_DOORBELL, p->gen, (uint32_t)(p - d->procs)));
}

void loop_arm_pidfd(struct daemon *d, struct sim_proc *p)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_poll_add(sqe, p->pidfd, POLLIN);
	io_uring_sqe_set_data64(sqe, event_tag(EV_PIDFD, p->gen, (uint32_t)(p - d->procs)));
}

static uint64_t wait_timeout_tag(const struct daemon *d, const struct sim_proc *p, unsigned ring)
{
	return event_tag(EV_WAIT_TIMEOUT, p->gen,
			 (uint32_t)(p - d->procs) * PK_CHANNEL_RINGS + ring);
}

void loop_arm_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_timeout(sqe, &p->ring[ring].timer_at, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, wait_timeout_tag(d, p, ring));
}

/* Brings the ring's timeout in flight forward to its `timer_at`. If it fired meanwhile,
 * the update finds nothing, and the firing looks at the wait itself. */
void loop_move_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_timeout_update(sqe, &p->ring[ring].timer_at, wait_timeout_tag(d, p, ring),
				     IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CANCEL, 0, 0));
}

void loop_cancel(struct daemon *d, uint64_t tag)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_cancel64(sqe, tag, 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CANCEL, 0, 0));
}

static void arm_signal(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_read(sqe, d->signal_fd, d->signal_buf, sizeof(struct signalfd_siginfo), 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_SIGNAL, 0, 0));
}

static void arm_accept(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_accept(sqe, d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, event_tag(EV_ACCEPT, 0, 0));
}

void loop_begin_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("stopping: %u processes to stop", d->live_procs);
	for (uint32_t i = 0; i < d->proc_capacity; i++)
		if (d->procs[i].state != PROC_FREE)
			proc_kill(d, &d->procs[i], SIGTERM);
	d->stop_deadline = (struct __kernel_timespec){.tv_sec = STOP_GRACE_SECONDS};
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_timeout(sqe, &d->stop_deadline, 0, 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_STOP_TIMEOUT, 0, 0));
}

static void escalate_stop(struct daemon *d)
{
	for (uint32_t i = 0; i < d->proc_capacity; i++) {
		struct sim_proc *p = &d->procs[i];
		if (p->state == PROC_FREE)
			continue;
		log_error("%s (pid %d) ignored SIGTERM for %d s; killing it", p->name, (int)p->pid,
			  STOP_GRACE_SECONDS);
		proc_kill(d, p, SIGKILL);
	}
}

/* The process a completion belongs to, or NULL if it has gone since. */
static struct sim_proc *tagged_proc(struct daemon *d, uint32_t gen, uint32_t index)
{
	if (index >= d->proc_capacity)
		return NULL;
	struct sim_proc *p = &d->procs[index];
	return p->state != PROC_FREE && (p->gen & 0xffffffu) == gen ? p : NULL;
}

static void on_signal(struct daemon *d, int res)
{
	if (res != (int)sizeof(struct signalfd_siginfo)) {
		log_error("signalfd read: %s", res < 0 ? strerror(-res) : "short read");
		return;
	}
	const struct signalfd_siginfo *info = (const void *)d->signal_buf;
	if (info->ssi_signo == SIGCHLD) {
		/* Exits come through pidfds where there are any; reaping here too would
		 * race with them. */
		if (d->reap_by_sigchld)
			procs_reap_children(d);
	} else if (info->ssi_signo == SIGHUP) {
		log_info("SIGHUP ignored");
	} else {
		log_info("%s received", strsignal((int)info->ssi_signo));
		loop_begin_stop(d);
	}
	arm_signal(d);
}

static void on_completion(struct daemon *d, const struct io_uring_cqe *cqe)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	enum event_kind kind = event_kind_of(tag);
	uint32_t gen = (uint32_t)(tag >> 32) & 0xffffffu;
	uint32_t index = (uint32_t)tag;
	struct sim_proc *p;

	switch (kind) {
	case EV_DOORBELL:
		p = tagged_proc(d, gen, index);
		if (p == NULL || cqe->res == -ECANCELED)
			break;
		if (cqe->res < 0) {
			log_error("%s: doorbell read: %s", p->name, strerror(-cqe->res));
			break;
		}
		channel_doorbell(d, p);
		if (p->state == PROC_RUNNING)
			loop_arm_doorbell(d, p);
		break;
	case EV_PIDFD:
		p = tagged_proc(d, gen, index);
		if (p != NULL)
			proc_exited(d, p);
		break;
	case EV_WAIT_TIMEOUT:
		/* The index names a ring: process slot * PK_CHANNEL_RINGS + ring. Whatever
		 * ended the timeout, it is no longer in flight. */
		p = tagged_proc(d, gen, index / PK_CHANNEL_RINGS);
		if (p != NULL)
			channel_wait_timeout(d, p, index % PK_CHANNEL_RINGS);
		break;
	case EV_ACCEPT:
		if (cqe->res >= 0)
			control_accepted(d, cqe->res);
		else if (cqe->res != -ECANCELED)
			log_error("accept: %s", strerror(-cqe->res));
		if (d->listen_fd >= 0 && cqe->res != -ECANCELED)
			arm_accept(d);
		break;
	case EV_CONN_READ:
		if (index < d->conn_capacity && (d->conns[index].gen & 0xffffffu) == gen)
			control_readable(d, index);
		break;
	case EV_CONN_WRITE:
		if (index < d->conn_capacity && (d->conns[index].gen & 0xffffffu) == gen)
			control_written(d, index, cqe->res);
		break;
	case EV_SIGNAL:
		on_signal(d, cqe->res);
		break;
	case EV_STOP_TIMEOUT:
		if (cqe->res == -ETIME && !d->stop_escalated) {
			d->stop_escalated = true;
			escalate_stop(d);
		}
		break;
	case EV_TAP_READABLE:
	case EV_TAP_MORE:
	case EV_NIC_KICK:
	case EV_NIC_TIMER:
		nic_on_completion(d, kind, cqe->res, cqe->flags & IORING_CQE_F_MORE);
		break;
	case EV_CLOCK:
		clock_on_expiry(d, cqe->res);
		break;
	case EV_CANCEL:
		break;
	}
	channel_run_resumes(d);
}

uint64_t loop_now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Programs on the daemon's core wait for it differently (libpk/sim/spin_habit.h); pinned or
 * not, it may have been moved while it slept or polled. */
static void note_cpu(struct daemon *d)
{
	int cpu = sched_getcpu();
	d->cpu = cpu < 0 ? UINT32_MAX : (uint32_t)cpu;
}

static int sleep_for_work(struct daemon *d)
{
	nic_before_sleep(d);
	return io_uring_submit_and_wait(&d->ring, 1);
}

/* Returns once there are completions, or work found by polling. While programs are in
 * the poll set, the daemon looks at their rings between yields for up to --poll-us after
 * the last work it found, and only then sleeps: a round trip in progress then costs the
 * programs no doorbell and the daemon no wake-up. The yield gives the core away at once
 * when a program is waiting for it, as on one core it always is. */
static int wait_for_work(struct daemon *d)
{
	if (!channel_polling(d))
		return sleep_for_work(d);
	int err = io_uring_submit(&d->ring);
	if (err < 0)
		return err;
	const uint64_t window = (uint64_t)d->opt.poll_us * 1000u;
	uint64_t until = loop_now_ns() + window;
	while (io_uring_cq_ready(&d->ring) == 0) {
		uint64_t now = loop_now_ns();
		note_cpu(d);
		nic_poll(d, now);
		if (channel_poll(d)) {
			io_uring_submit(&d->ring);
			until = now + window; /* from before the work: near enough, and no read */
		} else if (now >= until) {
			if (channel_poll_stop(d)) {
				io_uring_submit(&d->ring);
				continue;
			}
			return sleep_for_work(d);
		} else {
			sched_yield();
		}
		if (d->stopping && d->live_procs == 0)
			return 0;
	}
	return 0;
}

int loop_run(struct daemon *d)
{
	arm_signal(d);
	arm_accept(d);
	nic_start(d);
	while (!(d->stopping && d->live_procs == 0)) {
		if (d->capture != NULL && io_uring_cq_ready(&d->ring) == 0)
			capture_flush(d->capture); /* idle: a good moment to write */
		int err = wait_for_work(d);
		note_cpu(d);
		if (err < 0 && err != -EINTR) {
			log_error("io_uring wait: %s", strerror(-err));
			return -1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&d->ring, head, cqe)
		{
			on_completion(d, cqe);
			seen++;
		}
		io_uring_cq_advance(&d->ring, seen);
	}
	return 0;
}
