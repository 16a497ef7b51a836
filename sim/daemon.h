/* packosd's state, shared by its modules: the kernel it hosts, the frame pool, the Linux
 * processes that are PackOS processes, the event loop and the control connections.
 *
 * One thread runs everything; the kernel core requires it, and it keeps the daemon free
 * of locks. */
#ifndef SIM_DAEMON_H
#define SIM_DAEMON_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <packos/sim_channel.h>

#include "control_wire.h"
#include "kcore/kernel.h"
#include "manifest.h"
#include "nic_device.h"
#include "trace.h"
#include "wire.h"

struct capture;

/* Counters of the daemon's own work, beside the kernel's (packosctl counters). */
struct daemon_counters {
	uint64_t doorbells;	 /* doorbell reads completed */
	uint64_t slots;		 /* call slots answered */
	uint64_t parked;	 /* receives that waited in the daemon for a packet */
	uint64_t wait_timeouts;	 /* waits that reached their deadline */
	uint64_t futex_wakes;	 /* programs woken from sleep */
	uint64_t polled_batches; /* batches found by polling, with no doorbell */
	uint64_t spawned;	 /* processes started */
	uint64_t exited;	 /* processes reaped */
	uint64_t faulted;	 /* processes killed for misusing the ABI or their channel */
	uint64_t control;	 /* control requests served */
	uint64_t spawn_failures; /* spawns refused or failed */
};

enum proc_state {
	PROC_FREE = 0,
	PROC_RUNNING, /* alive in Linux and in the kernel */
	PROC_DYING,   /* out of the kernel (faulted or killed), not yet reaped */
};

/* One ring of a process's channel (a page, include/packos/sim_channel.h): the daemon's
 * side of one thread's calls. */
struct sim_ring {
	struct pk_channel_page *page;
	uint32_t consumed; /* slots taken from the ring, answered or parked */
	uint32_t answered; /* slots answered, published as page->completed */
	int last_status;   /* of the last slot run in this batch, for links */
	bool batch_failed; /* a slot of this batch was answered with an error: nothing waits */
	/* A receive waiting in the daemon for a packet (PK_SLOT_WAIT). */
	bool parked;
	struct pk_kcall parked_call; /* the daemon's copy: the slot may change meanwhile */
	uint64_t park_due_ns;	     /* the wait's deadline, CLOCK_MONOTONIC; 0: none */
	/* The ring's one timeout in flight, if any. A wait answered early leaves it armed, and
	 * a wait that parks soon after finds it there: that spares two io_uring submissions
	 * (arm, cancel) a wait. It fires at `timer_at` or sooner, and then looks at the wait
	 * parked at that moment. */
	bool timer_armed;
	struct __kernel_timespec timer_at; /* absolute */
	/* Linked on the daemon's resume list when a packet arrives for the parked wait. */
	bool resume_pending;
	uint32_t resume_next; /* a ring id: process slot * PK_CHANNEL_RINGS + ring */
};

struct sim_proc {
	enum proc_state state;
	uint32_t gen; /* bumped on each reuse of the slot; stale completions are dropped */
	char name[MANIFEST_NAME_SIZE];
	pid_t pid;
	int pidfd;    /* -1 where the system has no pidfds (see reap_by_sigchld) */
	int doorbell; /* eventfd: the program's half of the transport */
	struct pk_channel_page *channel; /* PK_CHANNEL_RINGS pages, shared with the program */
	pk_proc_t kproc;		 /* valid while RUNNING */
	uint64_t doorbell_value;	 /* where the doorbell read lands */
	struct sim_ring ring[PK_CHANNEL_RINGS];
	unsigned wake_turn; /* which parked ring a packet tries first (channel.c) */
	bool polled;	    /* in the daemon's poll set (channel.c) */
	bool drives_nic;    /* the NIC's driver (nic.c) */
	/* A control connection waiting for this process to exit (run, kill), or -1. */
	int waiter;
	char fault[160]; /* why it was faulted, logged once */
	struct timespec started;
	uint64_t calls;
};

enum conn_state {
	CONN_FREE = 0,
	CONN_READING,
	CONN_WAITING, /* for a process to exit */
	CONN_WRITING,
};

#define CONN_REQUEST_MAX (64 * 1024)
#define CONN_MAX_ARGS	 64

struct control_conn {
	enum conn_state state;
	uint32_t gen;
	int fd;
	char *request; /* CONN_REQUEST_MAX bytes */
	size_t request_len;
	int passed_fds[3]; /* stdin, stdout, stderr sent with `run`, or -1 */
	struct ctl_out out;
	size_t sent;
	bool close_after_send;
};

struct daemon_options {
	const char *control_path;
	const char *manifest_path; /* NULL: the embedded default */
	const char *pid_file;
	const char *pcap_path;
	const char *program_dirs[8];
	unsigned program_dir_count;
	uint32_t frames;
	uint32_t queue_limit;
	uint32_t isolation;   /* enum pk_isolation */
	uint32_t poll_us;     /* how long the daemon polls after its last work; 0: never */
	const char *tap_name; /* the NIC's wire; NULL: no cable, the link stays down */
	uint32_t nic_mtu;
	uint8_t nic_mac[6];
	struct wire_faults wire_faults;
	uint32_t tick_us; /* the kernel clock's period */
	bool daemonize;
	bool syslog;
};

/* The NIC's interrupt line. */
#define SIM_NIC_IRQ_LINE 0u

struct sim_nic {
	struct nic_device device;
	struct wire wire;
	void *region; /* registers and rings, shared with the driver */
	int region_fd;
	int kick_fd; /* the driver's doorbell: it writes, the daemon reads */
	uint64_t kick_value;
	int tap_fd;	 /* -1: no cable; non-blocking */
	bool tap_polled; /* a multishot poll of it is in the ring */
	char tap_name[16];
	/* One timeout for the faulty wire's releases and the device's held-back interrupt. */
	bool timer_armed;
	uint64_t timer_due;
	struct __kernel_timespec timeout;
	uint8_t rx_buffer[WIRE_FRAME_MAX];
	uint8_t scratch[WIRE_FRAME_MAX];
};

/* The kernel's clock (clock.c): a timerfd, running while any endpoint is subscribed. */
struct sim_clock {
	int fd;
	bool running;
	bool read_armed;
	uint64_t expirations; /* the read's buffer */
	uint64_t starts;      /* times the timer started, from no subscriber to one */
	uint64_t late;	      /* reads that found more than one expiration */
	uint64_t overruns;    /* expirations beyond the catch-up limit, never fired */
};

/* How many programs the daemon polls at once: the few that keep it busy. */
#define POLL_SET_MAX 8

struct daemon {
	struct daemon_options opt;
	struct kernel *kernel;
	struct kernel_config kcfg;
	void *arena;
	int pool_fd;
	uint8_t *pool;
	struct io_uring ring;
	int listen_fd;
	int signal_fd;
	uint64_t signal_buf[16]; /* a signalfd_siginfo is 128 bytes */
	int lock_fd;
	struct capture *capture;
	struct trace trace; /* packosctl trace; off until started */
	struct sim_nic nic;
	struct sim_clock clock;

	struct sim_proc *procs;
	uint32_t proc_capacity;
	uint32_t *proc_of_kernel_index; /* kernel proc index -> procs[] slot, or UINT32_MAX */
	uint32_t live_procs;		/* slots not FREE */
	uint32_t resume_head;		/* rings with a packet for their parked wait */
	/* The programs served since the daemon last slept, whose rings it polls (channel.c). */
	uint32_t poll_set[POLL_SET_MAX];
	unsigned poll_count;
	uint32_t cpu; /* where the daemon runs, as of its last wake; told to programs */
	uint32_t spawn_serial;

	struct control_conn *conns;
	uint32_t conn_capacity;

	bool reap_by_sigchld; /* no pidfds on this system: exits come as SIGCHLD */
	bool stopping;
	bool stop_escalated;
	struct __kernel_timespec stop_deadline;
	struct timespec started;
	struct daemon_counters counters;
};

#define NO_PROC UINT32_MAX

/* Event-loop completion tags: what finished, for which slot, in which generation. */
enum event_kind {
	EV_DOORBELL = 1,
	EV_PIDFD,
	EV_ACCEPT,
	EV_CONN_READ,
	EV_CONN_WRITE,
	EV_SIGNAL,
	EV_WAIT_TIMEOUT,
	EV_STOP_TIMEOUT,
	EV_CANCEL,
	EV_TAP_READABLE,
	EV_TAP_MORE, /* the TAP held more than one read's budget */
	EV_NIC_KICK,
	EV_NIC_TIMER,
	EV_CLOCK,
};

static inline uint64_t event_tag(enum event_kind kind, uint32_t gen, uint32_t index)
{
	return (uint64_t)kind << 56 | (uint64_t)(gen & 0xffffffu) << 32 | index;
}

static inline enum event_kind event_kind_of(uint64_t tag)
{
	return (enum event_kind)(tag >> 56);
}

/* log.c */
void log_open(bool to_syslog);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* port.c: the kernel's port contract, on Linux. */
extern const struct kport_ops linux_port_ops;

/* procs.c */
int procs_init(struct daemon *d);
void procs_fini(struct daemon *d);
/* Starts a process for `entry`; stdio are the descriptors to give it (-1: /dev/null for
 * stdin, the daemon's stderr for the others). Returns the slot, or -1 with err filled. */
int proc_spawn(struct daemon *d, const struct manifest_entry *entry, const int stdio[3], char *err,
	       size_t errlen);
struct sim_proc *proc_by_name(struct daemon *d, const char *name);
struct sim_proc *proc_by_pid(struct daemon *d, pid_t pid);
struct sim_proc *proc_of_kernel(struct daemon *d, pk_proc_t kproc);
/* Takes the process out of the kernel (reclaiming everything it holds), kills it and
 * logs `why` once. The slot lives on until the exit is reaped. */
void proc_fault(struct daemon *d, struct sim_proc *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void proc_kill(struct daemon *d, struct sim_proc *p, int signal);
/* The pidfd of `p` says it exited: reap and reclaim it. */
void proc_exited(struct daemon *d, struct sim_proc *p);
/* SIGCHLD, where there are no pidfds: reap and reclaim every exited process. */
void procs_reap_children(struct daemon *d);
/* The process's addresses as text, comma-separated. */
void proc_addresses(struct daemon *d, struct sim_proc *p, char *buf, size_t size);

/* nic.c: the network interface card and its wire. */
int nic_init(struct daemon *d, char *err, size_t errlen);
void nic_start(struct daemon *d); /* arms its reads once the loop is up */
void nic_fini(struct daemon *d);
/* `p`, just started with device=nic while the NIC had no driver, becomes its driver. */
void nic_attach_driver(struct daemon *d, struct sim_proc *p);
/* `p` left the kernel: if it drove the NIC, the device is reset for the next driver. */
void nic_driver_gone(struct daemon *d, struct sim_proc *p);
void nic_on_completion(struct daemon *d, enum event_kind kind, int res, bool more);
/* The polling loop's look at the device (at `now_ns`), and the last before sleeping. */
void nic_poll(struct daemon *d, uint64_t now_ns);
void nic_before_sleep(struct daemon *d);
/* The driver made kernel calls: TX descriptors it posted before them go out now, as if it
 * had rung the doorbell (include/packos/nic.h). */
void nic_driver_entered(struct daemon *d);

/* clock.c: the kernel's clock. */
int clock_init(struct daemon *d, char *err, size_t errlen);
void clock_fini(struct daemon *d);
/* A tick_subscribe succeeded: the timer runs, if it did not already. */
void clock_subscribed(struct daemon *d);
void clock_on_expiry(struct daemon *d, int res);

/* channel.c: the daemon's half of the transport. */
void channel_doorbell(struct daemon *d, struct sim_proc *p);
void channel_packet_arrived(struct daemon *d, struct sim_proc *p, pk_endpoint_t endpoint);
void channel_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring);
void channel_run_resumes(struct daemon *d);
/* Polling: true while there are programs to poll; runs what they published without a
 * doorbell and says whether there was any; stops polling, with a last look that says the
 * same; and forgets a process that is going. */
bool channel_polling(const struct daemon *d);
bool channel_poll(struct daemon *d);
bool channel_poll_stop(struct daemon *d);
void channel_forget(struct daemon *d, struct sim_proc *p);
/* Drops every wait of a process that is going; their timeouts, left in flight, find it
 * gone when they fire. */
void channel_unpark_all(struct sim_proc *p);

/* tracing.c: the daemon's events into its trace; each returns at once while it is off. */
void tracing_call_waits(struct daemon *d, const struct sim_proc *p, const struct pk_kcall *call,
			uint32_t wait_ms);
void tracing_call_answered(struct daemon *d, const struct sim_proc *p, const struct pk_kcall *call,
			   const struct pk_kresult *result);
/* The driver told the NIC about TX descriptors: by its doorbell, or by a kernel call. */
void tracing_doorbell(struct daemon *d, bool on_call);
nic_observe_fn tracing_nic_event; /* the device's observer; its context is the daemon */

/* loop.c */
int loop_init(struct daemon *d);
int loop_run(struct daemon *d);
/* A submission entry, submitting what is queued first if the ring is full. */
/* The monotonic clock in nanoseconds, as the loop's deadlines use it. */
uint64_t loop_now_ns(void);
struct io_uring_sqe *loop_get_sqe(struct daemon *d);
void loop_arm_doorbell(struct daemon *d, struct sim_proc *p);
void loop_arm_pidfd(struct daemon *d, struct sim_proc *p);
void loop_arm_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring);
void loop_move_wait_timeout(struct daemon *d, struct sim_proc *p, unsigned ring);
void loop_cancel(struct daemon *d, uint64_t tag);
void loop_begin_stop(struct daemon *d);

/* control.c */
int control_listen(struct daemon *d);
void control_close_all(struct daemon *d);
void control_accepted(struct daemon *d, int fd);
void control_readable(struct daemon *d, uint32_t index);
void control_written(struct daemon *d, uint32_t index, int result);
void control_process_exited(struct daemon *d, struct sim_proc *p, int code, int signal);

#endif
