/* bench_transport: a design study of the simulator's kernel-call transport, the channel
 * between a PackOS program (a Linux process) and packosd. It times one kernel call, a
 * 32-byte struct pk_kcall out and a 24-byte struct pk_kresult back, through each design:
 *
 *   pipe         the baseline: one byte each way through two pipes, blocking reads.
 *   seqpacket    a SOCK_SEQPACKET socketpair. The client sends and blocks in recv; the
 *                daemon waits in io_uring on a recv and answers with send().
 *   seqpacket-usend  the same, the daemon answering with an io_uring send submitted in
 *                the same io_uring_enter as its next recv: one system call per call.
 *   ring         the channel page of packos/sim_channel.h in a shared memfd. The client
 *                fills a slot, publishes it, rings an eventfd doorbell, spins briefly
 *                (sched_yield, at most ~50 us) and then sleeps on the futex `completed`;
 *                the daemon waits in io_uring on a read of the eventfd.
 *   ring-batch2  the ring with two calls per doorbell (a send and the receive after it).
 *   ring-dspin   the ring with a daemon that, after answering, polls its completion queue
 *                for up to ~20 us (yielding between polls) before it blocks.
 *
 * The main process is the client; each design has its own forked stand-in daemon, which
 * answers every call with status 0 and ret[0] = arg[0] + 1, and the client checks every
 * answer. Each design runs twice: both processes pinned to one CPU ("one core": a call is
 * a pair of context switches) and pinned to two ("two cores": a call crosses CPUs, and a
 * CPU left with nothing to run halts, which on a VM can take tens of microseconds to undo,
 * so the two-core figures of the blocking designs swing from run to run).
 *
 * Reading the table: ns/call is the median over the rounds of the mean time per call;
 * ns/batch is the time per doorbell (two calls for ring-batch2); min..max is the spread of
 * the rounds; slept is the share of doorbells after which the ring client went to sleep on
 * the futex instead of catching the answer while spinning; vs pipe is ns/call over the
 * pipe's at the same placement, so below 1 beats the baseline. The rounds of all designs
 * are interleaved, so drift in clock or load hits them alike. Timing is never asserted;
 * the exit status is non-zero only if an answer was wrong or a system call failed. */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <liburing.h>

#include <packos/kcalls.h>
#include <packos/sim_channel.h>

#include "bench_port.h"

#define DEFAULT_ROUNDS 11
#define QUICK_ROUNDS   3
#define MAX_ROUNDS     DEFAULT_ROUNDS
/* Floors, however slow one batch is, so that a round is more than a few samples. */
#define MIN_BATCHES_PER_ROUND 16
#define MIN_WARMUP_BATCHES    64

/* The client's spin: a little over the 20-40 us a halted vCPU has been measured to take to
 * wake, so a daemon woken on the other core is usually caught before the client sleeps
 * too. The yield count bounds the spin even if the clock misbehaves. */
#define CLIENT_SPIN_MAX_NS     50000u
#define CLIENT_SPIN_MIN_NS     2000u
#define CLIENT_SPIN_MAX_YIELDS 4000u
/* ring-dspin: the daemon's poll after each answer, bounded the same two ways. */
#define DAEMON_SPIN_MAX_NS    20000u
#define DAEMON_SPIN_MAX_POLLS 4000u
/* A client asleep on the futex wakes this often to check that its daemon still lives. */
#define SLEEP_CHECK_NS 100000000L

#define DAEMON_EXIT_FAILURE 3
#define WATCHDOG_EXIT	    4

enum transport_kind {
	TRANSPORT_PIPE,
	TRANSPORT_SEQPACKET,
	TRANSPORT_RING,
};

struct design {
	const char *name;
	enum transport_kind kind;
	unsigned calls_per_batch; /* calls per doorbell: more than 1 only for the ring */
	bool uring_send;	  /* seqpacket only: the daemon answers through io_uring */
	bool daemon_spins;	  /* ring only: the daemon polls before it blocks */
};

/* Row 0 is the pipe, the baseline every ratio divides by. */
static const struct design designs[] = {
	{.name = "pipe", .kind = TRANSPORT_PIPE, .calls_per_batch = 1},
	{.name = "seqpacket", .kind = TRANSPORT_SEQPACKET, .calls_per_batch = 1},
	{.name = "seqpacket-usend",
	 .kind = TRANSPORT_SEQPACKET,
	 .calls_per_batch = 1,
	 .uring_send = true},
	{.name = "ring", .kind = TRANSPORT_RING, .calls_per_batch = 1},
	{.name = "ring-batch2", .kind = TRANSPORT_RING, .calls_per_batch = 2},
	{.name = "ring-dspin", .kind = TRANSPORT_RING, .calls_per_batch = 1, .daemon_spins = true},
};
#define DESIGN_COUNT (sizeof designs / sizeof designs[0])

_Static_assert(2 <= PK_CHANNEL_SLOTS, "ring-batch2 needs two slots");

/* The client's side of one design's channel, and what its rounds measured. */
struct channel {
	const struct design *design;
	size_t index; /* in designs[] and live_daemon[] */
	pid_t daemon; /* 0 once reaped */
	/* pipe: the request pipe's write end; seqpacket: the client's socket; ring: the
	 * doorbell, an eventfd both processes share. */
	int to_daemon;
	int from_daemon;	      /* pipe only: the answer pipe's read end; else -1 */
	struct pk_channel_page *page; /* ring only */
	uint32_t submitted;	      /* ring: the only writer's copy of page->submitted */
	uint64_t next_arg;	      /* arg[0] of the next call, so every answer differs */
	uint64_t typical_wait_ns;     /* ring: smoothed wait for an answer; sizes the spin */
	uint64_t batches, sleeps;     /* ring: doorbells rung in the timed rounds, and sleeps */
	uint64_t batches_per_round;
	double ns_per_batch[MAX_ROUNDS];
};

struct placement {
	const char *name;
	int client_cpu;
	int daemon_cpu;
};

struct result {
	double ns_per_batch; /* the median round */
	double min_ns_per_batch, max_ns_per_batch;
	double slept_share; /* of the timed doorbells; below 0 when the design has no spin */
};

struct options {
	unsigned rounds;
	uint64_t round_ns;
	uint64_t warmup_ns;
	unsigned watchdog_s; /* a run that has not ended by then is hung: kill it */
};

/* The daemons alive now, for the signal handler that ends an interrupted or hung run. */
static volatile sig_atomic_t live_daemon[DESIGN_COUNT];

/* Any call will do: the stand-in daemon reads only arg[0]. */
static struct pk_kcall make_call(uint64_t arg)
{
	return (struct pk_kcall){.nr = PK_KC_endpoint_create, .arg = {arg, 0, 0}};
}

static long futex(_Atomic uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof set, &set);
}

/* ---- The stand-in daemons. Each runs until killed; a failure ends it with
 * DAEMON_EXIT_FAILURE, which the client reports when it reaps it. */

static _Noreturn void daemon_fail(const struct design *d, const char *what, int error)
{
	fprintf(stderr, "bench_transport: %s daemon: %s: %s\n", d->name, what, strerror(error));
	_exit(DAEMON_EXIT_FAILURE);
}

static struct io_uring_sqe *daemon_get_sqe(const struct design *d, struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe)
		daemon_fail(d, "io_uring_get_sqe", EBUSY);
	return sqe;
}

static _Noreturn void pipe_daemon(const struct design *d, int from_client, int to_client)
{
	for (;;) {
		uint8_t byte;
		ssize_t got = read(from_client, &byte, 1);
		if (got == 0)
			_exit(0); /* the client is gone */
		if (got < 0)
			daemon_fail(d, "read from the pipe", errno);
		byte++;
		if (write(to_client, &byte, 1) != 1)
			daemon_fail(d, "write to the pipe", errno);
	}
}

enum { SEQPACKET_RECV = 1, SEQPACKET_SEND = 2 };

static void seqpacket_arm_recv(const struct design *d, struct io_uring *ring, int sock,
			       struct pk_kcall *call)
{
	struct io_uring_sqe *sqe = daemon_get_sqe(d, ring);
	/* MSG_TRUNC makes a longer request show its full length, so it cannot pass as
	 * well-formed. */
	io_uring_prep_recv(sqe, sock, call, sizeof *call, MSG_TRUNC);
	io_uring_sqe_set_data64(sqe, SEQPACKET_RECV);
}

/* Waits in io_uring for the next request. seqpacket answers with send() and then submits
 * the next recv: on one core the client, woken by the send, usually runs before that recv
 * is submitted, so the recv finds its request waiting and completes at once. seqpacket-usend
 * saves that system call by submitting the send and the recv in one io_uring_enter, which
 * then waits for both completions; the answer's buffer is rewritten only once its send has
 * completed. */
static _Noreturn void seqpacket_daemon(const struct design *d, int sock)
{
	struct io_uring ring;
	int err = io_uring_queue_init(4, &ring, 0);
	if (err < 0)
		daemon_fail(d, "io_uring_queue_init", -err);
	struct pk_kcall call;
	struct pk_kresult result;
	seqpacket_arm_recv(d, &ring, sock, &call);
	unsigned in_flight = 1;
	for (;;) {
		err = io_uring_submit_and_wait(&ring, in_flight);
		if (err < 0)
			daemon_fail(d, "io_uring_submit_and_wait", -err);
		bool have_call = false;
		for (; in_flight > 0; in_flight--) {
			struct io_uring_cqe *cqe;
			err = io_uring_wait_cqe(&ring, &cqe);
			if (err < 0)
				daemon_fail(d, "io_uring_wait_cqe", -err);
			int res = cqe->res;
			uint64_t what = io_uring_cqe_get_data64(cqe);
			io_uring_cqe_seen(&ring, cqe);
			if (res < 0)
				daemon_fail(d, what == SEQPACKET_RECV ? "recv" : "send", -res);
			if (what == SEQPACKET_RECV && res == 0)
				_exit(0); /* the client is gone */
			if (what == SEQPACKET_RECV && res != (int)sizeof call)
				daemon_fail(d, "recv: a request of the wrong size", EPROTO);
			if (what == SEQPACKET_SEND && res != (int)sizeof result)
				daemon_fail(d, "send: a short answer", EPROTO);
			have_call |= what == SEQPACKET_RECV;
		}
		if (!have_call)
			daemon_fail(d, "io_uring: no request among the completions", EPROTO);
		result = (struct pk_kresult){.status = 0, .ret = {call.arg[0] + 1, 0}};
		if (d->uring_send) {
			struct io_uring_sqe *sqe = daemon_get_sqe(d, &ring);
			io_uring_prep_send(sqe, sock, &result, sizeof result, 0);
			io_uring_sqe_set_data64(sqe, SEQPACKET_SEND);
			in_flight = 2;
		} else {
			ssize_t sent = send(sock, &result, sizeof result, MSG_NOSIGNAL);
			if (sent < 0)
				daemon_fail(d, "send", errno);
			if (sent != (ssize_t)sizeof result)
				daemon_fail(d, "send: a short answer", EPROTO);
			in_flight = 1;
		}
		seqpacket_arm_recv(d, &ring, sock, &call);
	}
}

/* Answers every slot published since the last doorbell. `submitted` is read once: the
 * client may move it at any time, and a count beyond the ring is a fault, never a loop. */
static void ring_answer(const struct design *d, struct pk_channel_page *page, uint32_t *answered)
{
	uint32_t submitted = atomic_load_explicit(&page->submitted, memory_order_acquire);
	uint32_t pending = submitted - *answered;
	if (pending == 0)
		return; /* a doorbell for slots an earlier one already covered */
	if (pending > PK_CHANNEL_SLOTS)
		daemon_fail(d, "the client published more slots than the ring holds", EPROTO);
	for (; *answered != submitted; (*answered)++) {
		struct pk_channel_slot *slot = &page->slot[*answered % PK_CHANNEL_SLOTS];
		uint64_t arg = slot->call.arg[0];
		slot->result = (struct pk_kresult){.status = 0, .ret = {arg + 1, 0}};
	}
	/* A Dekker pair with the client's ring_wait: the daemon stores `completed` then loads
	 * `sleeping`; the client stores `sleeping` then loads `completed`. With both sides
	 * seq_cst, at least one of them sees the other's store: either the client sees the
	 * answer and does not sleep, or the daemon sees it sleeping and wakes it. With a
	 * release store and an acquire load, each side's load could complete before its own
	 * store is visible (x86 lets a load pass an earlier store): both would read the old
	 * values and the wake would be lost. FUTEX_WAIT closes the remaining window, since
	 * it sleeps only if `completed` still holds the value the client last saw. */
	atomic_store_explicit(&page->completed, submitted, memory_order_seq_cst);
	if (atomic_load_explicit(&page->sleeping, memory_order_seq_cst)) {
		/* Not FUTEX_PRIVATE_FLAG: the word lives in a page two processes share. */
		if (futex(&page->completed, FUTEX_WAKE, 1, NULL) < 0)
			daemon_fail(d, "FUTEX_WAKE", errno);
	}
}

/* ring-dspin: the client usually rings again within a few microseconds of its answer, so
 * a daemon that polls that long never blocks and its CPU never halts. It yields between
 * polls, so on one core the client gets the CPU it is waiting for: a pure spin there holds
 * the CPU for the whole 20 us and made each call cost about that. The ring is set up
 * without IORING_SETUP_DEFER_TASKRUN, under which completions appear only inside
 * io_uring_enter and a peek would never see one. */
static struct io_uring_cqe *ring_daemon_poll(struct io_uring *ring)
{
	uint64_t start = bench_now_ns();
	for (unsigned polls = 0; polls < DAEMON_SPIN_MAX_POLLS; polls++) {
		struct io_uring_cqe *cqe;
		if (io_uring_peek_cqe(ring, &cqe) == 0)
			return cqe;
		if (bench_now_ns() - start >= DAEMON_SPIN_MAX_NS)
			break;
		sched_yield();
	}
	return NULL;
}

static _Noreturn void ring_daemon(const struct design *d, struct pk_channel_page *page,
				  int doorbell)
{
	struct io_uring ring;
	int err = io_uring_queue_init(4, &ring, 0);
	if (err < 0)
		daemon_fail(d, "io_uring_queue_init", -err);
	uint32_t answered = 0; /* the daemon's own count: it never trusts the page for it */
	uint64_t rings;	       /* the eventfd's count; each read resets it */
	for (;;) {
		io_uring_prep_read(daemon_get_sqe(d, &ring), doorbell, &rings, sizeof rings, 0);
		struct io_uring_cqe *cqe = NULL;
		if (d->daemon_spins) {
			err = io_uring_submit(&ring);
			if (err < 0)
				daemon_fail(d, "io_uring_submit", -err);
			cqe = ring_daemon_poll(&ring);
		} else {
			err = io_uring_submit_and_wait(&ring, 1);
			if (err < 0)
				daemon_fail(d, "io_uring_submit_and_wait", -err);
		}
		if (!cqe) {
			err = io_uring_wait_cqe(&ring, &cqe);
			if (err < 0)
				daemon_fail(d, "io_uring_wait_cqe", -err);
		}
		int res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res < 0)
			daemon_fail(d, "read from the doorbell", -res);
		if (res != (int)sizeof rings)
			daemon_fail(d, "read from the doorbell: short", EPROTO);
		ring_answer(d, page, &answered);
	}
}

/* The forked child: it dies with the client, pins itself, and serves. */
static _Noreturn void daemon_main(const struct channel *ch, const int daemon_fd[2], int cpu,
				  pid_t client)
{
	const struct design *d = ch->design;
	/* The client's handlers kill the client's daemons; a daemon keeps the defaults. */
	const int handled[] = {SIGALRM, SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
		signal(handled[i], SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		daemon_fail(d, "prctl(PR_SET_PDEATHSIG)", errno);
	if (getppid() != client)
		_exit(0); /* the client died before the line above */
	if (pin_to_cpu(cpu) < 0)
		daemon_fail(d, "sched_setaffinity", errno);
	switch (d->kind) {
	case TRANSPORT_PIPE:
		close(ch->to_daemon);
		close(ch->from_daemon);
		pipe_daemon(d, daemon_fd[0], daemon_fd[1]);
	case TRANSPORT_SEQPACKET:
		close(ch->to_daemon);
		seqpacket_daemon(d, daemon_fd[0]);
	case TRANSPORT_RING:
		ring_daemon(d, ch->page, ch->to_daemon);
	}
	_exit(DAEMON_EXIT_FAILURE);
}

/* ---- The client. Every failure is reported where it happens and answers -1, which the
 * caller unwinds. */

__attribute__((format(printf, 2, 3))) static int client_fail(const struct channel *ch,
							     const char *format, ...)
{
	va_list args;
	va_start(args, format);
	fprintf(stderr, "bench_transport: %s client: ", ch->design->name);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
	va_end(args);
	return -1;
}

static int client_errno(const struct channel *ch, const char *what)
{
	return client_fail(ch, "%s: %s", what, strerror(errno));
}

/* Reports how a daemon ended; called once it has been reaped. */
static int report_daemon_end(const struct channel *ch, int status)
{
	if (WIFSIGNALED(status))
		return client_fail(ch, "the daemon was killed by signal %d (%s)", WTERMSIG(status),
				   strsignal(WTERMSIG(status)));
	return client_fail(ch, "the daemon exited with status %d", WEXITSTATUS(status));
}

/* A client waiting on shared memory gets no EOF when its daemon dies; it asks. */
static int check_daemon_alive(struct channel *ch)
{
	int status;
	pid_t reaped = waitpid(ch->daemon, &status, WNOHANG);
	if (reaped == 0)
		return 0;
	if (reaped < 0)
		return client_errno(ch, "waitpid");
	ch->daemon = 0;
	live_daemon[ch->index] = 0;
	return report_daemon_end(ch, status);
}

static int check_answer(const struct channel *ch, uint64_t arg, const struct pk_kresult *result)
{
	if (result->status == 0 && result->ret[0] == arg + 1)
		return 0;
	return client_fail(ch,
			   "wrong answer to call %" PRIu64 ": status %" PRId64 ", ret[0] %" PRIu64
			   " (expected 0 and %" PRIu64 ")",
			   arg, result->status, result->ret[0], arg + 1);
}

static int pipe_round_trip(struct channel *ch)
{
	uint8_t byte = (uint8_t)ch->next_arg++, answer;
	if (write(ch->to_daemon, &byte, 1) != 1)
		return client_errno(ch, "write to the pipe");
	ssize_t got = read(ch->from_daemon, &answer, 1);
	if (got < 0)
		return client_errno(ch, "read from the pipe");
	if (got == 0)
		return client_fail(ch, "the daemon closed its pipe");
	if (answer != (uint8_t)(byte + 1))
		return client_fail(ch, "wrong answer %u to byte %u", answer, byte);
	return 0;
}

static int seqpacket_call(struct channel *ch)
{
	uint64_t arg = ch->next_arg++;
	struct pk_kcall call = make_call(arg);
	ssize_t sent = send(ch->to_daemon, &call, sizeof call, MSG_NOSIGNAL);
	if (sent < 0)
		return client_errno(ch, "send");
	if (sent != (ssize_t)sizeof call)
		return client_fail(ch, "send: %zd of %zu bytes", sent, sizeof call);
	struct pk_kresult result;
	/* MSG_TRUNC: a longer answer shows its full length instead of passing as whole. */
	ssize_t got = recv(ch->to_daemon, &result, sizeof result, MSG_TRUNC);
	if (got < 0)
		return client_errno(ch, "recv");
	if (got == 0)
		return client_fail(ch, "the daemon closed its socket");
	if (got != (ssize_t)sizeof result)
		return client_fail(ch, "recv: an answer of %zd bytes, not %zu", got, sizeof result);
	return check_answer(ch, arg, &result);
}

static bool reached(uint32_t count, uint32_t target)
{
	return (int32_t)(count - target) >= 0; /* free-running counters wrap */
}

/* The spin budget follows twice the typical wait (a moving average, weight 1/8, after
 * glibc's adaptive mutex): an answer a little slower than usual is still caught spinning,
 * while answers that come much later than usual stop costing a full spin of CPU. */
static uint64_t spin_budget_ns(const struct channel *ch)
{
	uint64_t budget = 2 * ch->typical_wait_ns + CLIENT_SPIN_MIN_NS;
	return budget < CLIENT_SPIN_MAX_NS ? budget : CLIENT_SPIN_MAX_NS;
}

static void note_wait(struct channel *ch, uint64_t wait_ns)
{
	if (wait_ns > CLIENT_SPIN_MAX_NS)
		wait_ns = CLIENT_SPIN_MAX_NS; /* no wait can stretch the spin past the cap */
	int64_t step = ((int64_t)wait_ns - (int64_t)ch->typical_wait_ns) / 8;
	ch->typical_wait_ns = (uint64_t)((int64_t)ch->typical_wait_ns + step);
}

/* Waits until `completed` reaches `target`: a bounded spin, then the futex. */
static int ring_wait(struct channel *ch, uint32_t target)
{
	struct pk_channel_page *page = ch->page;
	uint64_t start = bench_now_ns(), budget = spin_budget_ns(ch);
	/* On one core each yield runs the daemon; on two it only paces the checks. */
	for (unsigned yields = 0;; yields++) {
		if (reached(atomic_load_explicit(&page->completed, memory_order_acquire), target)) {
			note_wait(ch, bench_now_ns() - start);
			return 0;
		}
		if (yields == CLIENT_SPIN_MAX_YIELDS || bench_now_ns() - start >= budget)
			break;
		sched_yield();
	}

	ch->sleeps++;
	/* The other half of the Dekker pair in ring_answer: store `sleeping`, then load
	 * `completed`, both seq_cst. */
	atomic_store_explicit(&page->sleeping, 1, memory_order_seq_cst);
	for (;;) {
		uint32_t seen = atomic_load_explicit(&page->completed, memory_order_seq_cst);
		if (reached(seen, target))
			break;
		const struct timespec check = {.tv_nsec = SLEEP_CHECK_NS};
		if (futex(&page->completed, FUTEX_WAIT, seen, &check) == 0)
			continue;
		if (errno == ETIMEDOUT) {
			if (check_daemon_alive(ch) < 0)
				return -1;
			if (ch->daemon == 0)
				return client_fail(ch, "the daemon is gone");
		} else if (errno != EAGAIN && errno != EINTR) {
			return client_errno(ch, "FUTEX_WAIT");
		}
	}
	/* Relaxed: a `sleeping` seen late costs the daemon one needless wake, nothing more. */
	atomic_store_explicit(&page->sleeping, 0, memory_order_relaxed);
	note_wait(ch, bench_now_ns() - start);
	return 0;
}

static int ring_call_batch(struct channel *ch)
{
	struct pk_channel_page *page = ch->page;
	unsigned count = ch->design->calls_per_batch;
	uint32_t first = ch->submitted;
	uint64_t first_arg = ch->next_arg;
	for (unsigned i = 0; i < count; i++) {
		struct pk_channel_slot *slot = &page->slot[(first + i) % PK_CHANNEL_SLOTS];
		/* The whole slot, so every transport option is off whatever the ABI adds. */
		*slot = (struct pk_channel_slot){.call = make_call(first_arg + i)};
	}
	ch->next_arg += count;
	ch->submitted = first + count;
	/* Release: the daemon, reading `submitted` with acquire, sees the slots filled. */
	atomic_store_explicit(&page->submitted, ch->submitted, memory_order_release);
	const uint64_t one = 1;
	if (write(ch->to_daemon, &one, sizeof one) != (ssize_t)sizeof one)
		return client_errno(ch, "write to the doorbell");
	ch->batches++;
	if (ring_wait(ch, ch->submitted) < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		const struct pk_channel_slot *slot = &page->slot[(first + i) % PK_CHANNEL_SLOTS];
		if (check_answer(ch, first_arg + i, &slot->result) < 0)
			return -1;
	}
	return 0;
}

static int run_batches(struct channel *ch, uint64_t batches)
{
	for (uint64_t i = 0; i < batches; i++) {
		int err = 0;
		switch (ch->design->kind) {
		case TRANSPORT_PIPE:
			err = pipe_round_trip(ch);
			break;
		case TRANSPORT_SEQPACKET:
			err = seqpacket_call(ch);
			break;
		case TRANSPORT_RING:
			err = ring_call_batch(ch);
			break;
		}
		if (err < 0)
			return -1;
	}
	return 0;
}

/* Creates the channel's descriptors (and the ring's page), forks its daemon pinned to
 * `cpu`, and keeps the client's ends. On failure nothing is left open. */
static int start_daemon(struct channel *ch, int cpu)
{
	int daemon_fd[2] = {-1, -1};
	int pair[2];
	switch (ch->design->kind) {
	case TRANSPORT_PIPE:
		if (pipe2(pair, O_CLOEXEC) < 0)
			return client_errno(ch, "pipe2");
		daemon_fd[0] = pair[0];
		ch->to_daemon = pair[1];
		if (pipe2(pair, O_CLOEXEC) < 0) {
			client_errno(ch, "pipe2");
			goto fail;
		}
		ch->from_daemon = pair[0];
		daemon_fd[1] = pair[1];
		break;
	case TRANSPORT_SEQPACKET:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
			return client_errno(ch, "socketpair(SOCK_SEQPACKET)");
		ch->to_daemon = pair[0];
		daemon_fd[0] = pair[1];
		break;
	case TRANSPORT_RING: {
		int memfd = memfd_create("pk_channel", MFD_CLOEXEC);
		if (memfd < 0)
			return client_errno(ch, "memfd_create");
		void *page = MAP_FAILED;
		if (ftruncate(memfd, PK_CHANNEL_SIZE) == 0)
			page = mmap(NULL, PK_CHANNEL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				    memfd, 0);
		if (page == MAP_FAILED) {
			client_errno(ch, "ftruncate or mmap of the channel page");
			close(memfd);
			return -1;
		}
		close(memfd); /* the mapping keeps the page, and the fork shares the mapping */
		ch->page = page;
		ch->to_daemon = eventfd(0, EFD_CLOEXEC);
		if (ch->to_daemon < 0) {
			client_errno(ch, "eventfd");
			goto fail;
		}
		break;
	}
	}

	fflush(stdout); /* the child must not inherit and repeat buffered output */
	pid_t client = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		client_errno(ch, "fork");
		goto fail;
	}
	if (pid == 0)
		daemon_main(ch, daemon_fd, cpu, client);
	ch->daemon = pid;
	live_daemon[ch->index] = pid;
	for (int i = 0; i < 2; i++)
		if (daemon_fd[i] >= 0)
			close(daemon_fd[i]);
	return 0;

fail:
	for (int i = 0; i < 2; i++)
		if (daemon_fd[i] >= 0)
			close(daemon_fd[i]);
	if (ch->to_daemon >= 0)
		close(ch->to_daemon);
	if (ch->from_daemon >= 0)
		close(ch->from_daemon);
	if (ch->page)
		munmap(ch->page, PK_CHANNEL_SIZE);
	ch->to_daemon = ch->from_daemon = -1;
	ch->page = NULL;
	return -1;
}

/* Kills and reaps the daemon, then closes the client's ends. A daemon only ever ends by
 * this kill, so any other end is a failure. */
static int stop_daemon(struct channel *ch)
{
	int ret = 0;
	if (ch->daemon > 0) {
		kill(ch->daemon, SIGKILL);
		int status;
		pid_t reaped;
		do
			reaped = waitpid(ch->daemon, &status, 0);
		while (reaped < 0 && errno == EINTR);
		if (reaped < 0)
			ret = client_errno(ch, "waitpid");
		else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			ret = report_daemon_end(ch, status);
		ch->daemon = 0;
		live_daemon[ch->index] = 0;
	}
	if (ch->to_daemon >= 0)
		close(ch->to_daemon);
	if (ch->from_daemon >= 0)
		close(ch->from_daemon);
	if (ch->page)
		munmap(ch->page, PK_CHANNEL_SIZE);
	ch->to_daemon = ch->from_daemon = -1;
	ch->page = NULL;
	return ret;
}

/* Warms caches, branch predictors and the daemon's placement, and sizes a round so that it
 * lasts about opt->round_ns whatever one call costs. */
static int warm_up(struct channel *ch, const struct options *opt)
{
	uint64_t start = bench_now_ns(), batches = 0, elapsed;
	do {
		if (run_batches(ch, 1) < 0)
			return -1;
		batches++;
		elapsed = bench_now_ns() - start;
	} while (elapsed < opt->warmup_ns || batches < MIN_WARMUP_BATCHES);
	uint64_t per_round = opt->round_ns * batches / elapsed;
	ch->batches_per_round =
		per_round > MIN_BATCHES_PER_ROUND ? per_round : MIN_BATCHES_PER_ROUND;
	ch->batches = ch->sleeps = 0;
	return 0;
}

static void summarize(const struct channel *ch, unsigned rounds, struct result *ret_result)
{
	double lo = ch->ns_per_batch[0], hi = ch->ns_per_batch[0];
	for (unsigned r = 1; r < rounds; r++) {
		lo = ch->ns_per_batch[r] < lo ? ch->ns_per_batch[r] : lo;
		hi = ch->ns_per_batch[r] > hi ? ch->ns_per_batch[r] : hi;
	}
	*ret_result = (struct result){
		.ns_per_batch = bench_median(ch->ns_per_batch, rounds),
		.min_ns_per_batch = lo,
		.max_ns_per_batch = hi,
		.slept_share = ch->design->kind == TRANSPORT_RING && ch->batches
				       ? (double)ch->sleeps / (double)ch->batches
				       : -1,
	};
}

/* Every design at one placement: all daemons live through the whole measurement, blocked
 * while another design is timed, so the rounds can interleave. */
static int measure_placement(const struct placement *pl, const struct options *opt,
			     struct result ret_results[DESIGN_COUNT])
{
	struct channel channels[DESIGN_COUNT];
	size_t started = 0;
	int ret = -1;
	if (pin_to_cpu(pl->client_cpu) < 0) {
		fprintf(stderr, "bench_transport: sched_setaffinity(CPU %d): %s\n", pl->client_cpu,
			strerror(errno));
		return -1;
	}
	for (; started < DESIGN_COUNT; started++) {
		channels[started] = (struct channel){
			.design = &designs[started],
			.index = started,
			.to_daemon = -1,
			.from_daemon = -1,
		};
		if (start_daemon(&channels[started], pl->daemon_cpu) < 0)
			goto stop;
	}
	for (size_t i = 0; i < DESIGN_COUNT; i++)
		if (warm_up(&channels[i], opt) < 0)
			goto stop;
	/* Each round starts with the next design, so none always runs first. */
	for (unsigned round = 0; round < opt->rounds; round++)
		for (size_t k = 0; k < DESIGN_COUNT; k++) {
			struct channel *ch = &channels[(round + k) % DESIGN_COUNT];
			uint64_t start = bench_now_ns();
			if (run_batches(ch, ch->batches_per_round) < 0)
				goto stop;
			ch->ns_per_batch[round] =
				(double)(bench_now_ns() - start) / (double)ch->batches_per_round;
		}
	for (size_t i = 0; i < DESIGN_COUNT; i++)
		summarize(&channels[i], opt->rounds, &ret_results[i]);
	ret = 0;
stop:
	while (started-- > 0)
		if (stop_daemon(&channels[started]) < 0)
			ret = -1;
	return ret;
}

static void report(const struct placement *placements, size_t placement_count,
		   const struct result results[][DESIGN_COUNT], const struct options *opt)
{
	printf("bench_transport: one kernel call between two processes (%zu-byte pk_kcall out, "
	       "%zu-byte pk_kresult back),\nmedian of %u rounds of ~%" PRIu64
	       " ms per design and placement\n",
	       sizeof(struct pk_kcall), sizeof(struct pk_kresult), opt->rounds,
	       opt->round_ns / 1000000);
	for (size_t p = 0; p < placement_count; p++)
		printf("  %-9s client on CPU %d, daemon on CPU %d\n", placements[p].name,
		       placements[p].client_cpu, placements[p].daemon_cpu);
	printf("\n%-15s %-9s %5s %8s %9s %19s %6s %7s\n", "design", "placement", "calls", "ns/call",
	       "ns/batch", "min..max ns/call", "slept", "vs pipe");
	for (size_t p = 0; p < placement_count; p++) {
		double pipe_ns = results[p][0].ns_per_batch / designs[0].calls_per_batch;
		for (size_t i = 0; i < DESIGN_COUNT; i++) {
			const struct result *r = &results[p][i];
			double calls = designs[i].calls_per_batch;
			double ns_per_call = r->ns_per_batch / calls;
			char spread[40], slept[16];
			snprintf(spread, sizeof spread, "%.0f..%.0f", r->min_ns_per_batch / calls,
				 r->max_ns_per_batch / calls);
			if (r->slept_share < 0)
				snprintf(slept, sizeof slept, "-");
			else
				snprintf(slept, sizeof slept, "%.0f%%", 100 * r->slept_share);
			printf("%-15s %-9s %5u %8.0f %9.0f %19s %6s %7.2f\n", designs[i].name,
			       placements[p].name, designs[i].calls_per_batch, ns_per_call,
			       r->ns_per_batch, spread, slept, ns_per_call / pipe_ns);
		}
	}
}

/* Ends an interrupted or hung run: async-signal-safe calls only. */
static void end_run(int signo)
{
	for (size_t i = 0; i < DESIGN_COUNT; i++) {
		pid_t pid = live_daemon[i];
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	static const char hung[] = "bench_transport: no end after the watchdog's time: a "
				   "transport hung; daemons killed\n";
	static const char interrupted[] = "bench_transport: interrupted; daemons killed\n";
	const char *message = signo == SIGALRM ? hung : interrupted;
	size_t length = signo == SIGALRM ? sizeof hung - 1 : sizeof interrupted - 1;
	if (write(STDERR_FILENO, message, length) < 0) {
		/* nothing more can be done */
	}
	_exit(signo == SIGALRM ? WATCHDOG_EXIT : 1);
}

static int install_signal_handlers(void)
{
	struct sigaction ending = {.sa_handler = end_run};
	sigfillset(&ending.sa_mask); /* one ending at a time */
	const int ends[] = {SIGALRM, SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		if (sigaction(ends[i], &ending, NULL) < 0)
			return -1;
	/* A dead daemon must show as EPIPE from write, not kill the client silently. */
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	return sigaction(SIGPIPE, &ignore, NULL);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench_transport [--quick]\n"
		     "  --quick  a short run (well under a second or two), for CI\n");
}

static void parse_options(int argc, char **argv, struct options *ret_opt)
{
	bool quick = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "bench_transport: unknown option %s\n", argv[i]);
			usage(stderr);
			exit(2);
		}
	}
	/* Quick: about 0.2 s in all; default: about 4 s. */
	const struct options quick_run = {
		.rounds = QUICK_ROUNDS,
		.round_ns = 3000000,
		.warmup_ns = 3000000,
		.watchdog_s = 30,
	};
	const struct options default_run = {
		.rounds = DEFAULT_ROUNDS,
		.round_ns = 30000000,
		.warmup_ns = 40000000,
		.watchdog_s = 120,
	};
	*ret_opt = quick ? quick_run : default_run;
}

/* The first two CPUs this process may run on; answers how many there are (1 or 2). */
static int find_cpus(int ret_cpu[2])
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof allowed, &allowed) < 0)
		return -1;
	int found = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			ret_cpu[found++] = cpu;
	return found;
}

int main(int argc, char **argv)
{
	struct options opt;
	parse_options(argc, argv, &opt);
	if (install_signal_handlers() < 0) {
		fprintf(stderr, "bench_transport: sigaction: %s\n", strerror(errno));
		return 1;
	}
	alarm(opt.watchdog_s);

	int cpu[2];
	int cpu_count = find_cpus(cpu);
	if (cpu_count < 1) {
		fprintf(stderr, "bench_transport: sched_getaffinity: %s\n",
			cpu_count < 0 ? strerror(errno) : "no CPU");
		return 1;
	}
	const struct placement placements[] = {
		{.name = "one core", .client_cpu = cpu[0], .daemon_cpu = cpu[0]},
		{.name = "two cores",
		 .client_cpu = cpu[0],
		 .daemon_cpu = cpu_count > 1 ? cpu[1] : -1},
	};
	size_t placement_count = cpu_count > 1 ? 2 : 1;
	if (cpu_count == 1)
		printf("bench_transport: only CPU %d is available to this process; the two-core "
		       "placement is skipped\n",
		       cpu[0]);

	struct result results[2][DESIGN_COUNT];
	for (size_t p = 0; p < placement_count; p++)
		if (measure_placement(&placements[p], &opt, results[p]) < 0) {
			fprintf(stderr, "bench_transport: failed at the %s placement\n",
				placements[p].name);
			return 1;
		}
	report(placements, placement_count, results, &opt);
	return 0;
}
