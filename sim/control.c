/* packosd's control socket: what packosctl talks to (protocol in control_wire.h).
 *
 * One request per connection. Most commands answer at once; `run` and `kill` answer when
 * the process has exited and been reclaimed, so a script that kills a process and then
 * counts frames sees the frames already back. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture.h"
#include "daemon.h"
#include "trace_steps.h"

enum { CONN_CAPACITY = 64 };

static const char *isolation_name(uint32_t isolation)
{
	return isolation == PK_ISOLATION_SHARED ? "shared" : "remap";
}

static uint64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
		     (now.tv_nsec - since->tv_nsec) / 1000000;
	return ms > 0 ? (uint64_t)ms : 0;
}

int control_listen(struct daemon *d)
{
	const char *path = d->opt.control_path;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	/* Bound under a temporary name and renamed once listening, so the socket appears
	 * only when it accepts: a client that sees the file never gets ECONNREFUSED. The
	 * caller holds the instance lock, so a socket file already here is a dead daemon's,
	 * and the rename replaces it. */
	if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s.new", path) >=
	    (int)sizeof addr.sun_path) {
		log_error("control socket path too long: %s", path);
		return -1;
	}
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	unlink(addr.sun_path);
	if (bind(d->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
	    listen(d->listen_fd, 64) < 0 || rename(addr.sun_path, path) < 0) {
		log_error("control socket %s: %s", path, strerror(errno));
		unlink(addr.sun_path);
		close(d->listen_fd);
		d->listen_fd = -1;
		return -1;
	}
	d->conn_capacity = CONN_CAPACITY;
	d->conns = calloc(CONN_CAPACITY, sizeof *d->conns);
	return d->conns != NULL ? 0 : -1;
}

static void close_conn(struct daemon *d, struct control_conn *c)
{
	uint32_t index = (uint32_t)(c - d->conns);
	loop_cancel(d, event_tag(EV_CONN_READ, c->gen, index));
	loop_cancel(d, event_tag(EV_CONN_WRITE, c->gen, index));
	close(c->fd);
	for (int i = 0; i < 3; i++)
		if (c->passed_fds[i] >= 0)
			close(c->passed_fds[i]);
	free(c->request);
	ctl_out_free(&c->out);
	*c = (struct control_conn){.state = CONN_FREE, .gen = c->gen + 1};
}

void control_close_all(struct daemon *d)
{
	for (uint32_t i = 0; i < d->conn_capacity; i++)
		if (d->conns[i].state != CONN_FREE)
			close_conn(d, &d->conns[i]);
	free(d->conns);
	d->conns = NULL;
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		d->listen_fd = -1;
		unlink(d->opt.control_path);
	}
}

static uint32_t conn_index(const struct daemon *d, const struct control_conn *c)
{
	return (uint32_t)(c - d->conns);
}

static void arm_read(struct daemon *d, struct control_conn *c)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_poll_add(sqe, c->fd, POLLIN | POLLRDHUP);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CONN_READ, c->gen, conn_index(d, c)));
}

/* Sends what is left of the response: at once if the socket takes it all (the usual
 * case), else through the ring. */
static void send_rest(struct daemon *d, struct control_conn *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct io_uring_sqe *sqe = loop_get_sqe(d);
			io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
			io_uring_sqe_set_data64(sqe,
						event_tag(EV_CONN_WRITE, c->gen, conn_index(d, c)));
			c->state = CONN_WRITING;
			return;
		}
		if (n <= 0) {
			close_conn(d, c); /* the client went away; nothing to tell it */
			return;
		}
		c->sent += (size_t)n;
	}
	if (c->close_after_send) {
		close_conn(d, c);
	} else {
		c->state = CONN_WAITING;
		arm_read(d, c); /* to notice a client that gives up waiting */
	}
}

void control_written(struct daemon *d, uint32_t index, int result)
{
	struct control_conn *c = &d->conns[index];
	if (result < 0) {
		close_conn(d, c);
		return;
	}
	send_rest(d, c);
}

static void respond(struct daemon *d, struct control_conn *c, bool close_after)
{
	if (c->out.failed)
		ctl_error(&c->out, "out of memory");
	c->close_after_send = close_after || c->out.failed;
	send_rest(d, c);
}

/* ---- Commands ----------------------------------------------------------------------- */

static void write_frames(struct daemon *d, struct ctl_out *o)
{
	struct kernel_stats st;
	kernel_stats(d->kernel, &st);
	ctl_object(o, "frames");
	ctl_num(o, "total", st.frames_total);
	ctl_num(o, "free", st.frames_free);
	ctl_num(o, "owned", st.frames_owned);
	ctl_num(o, "queued", st.frames_queued);
	ctl_num(o, "shared", st.frames_shared);
	ctl_bool(o, "conserved",
		 st.frames_free + st.frames_owned + st.frames_queued + st.frames_shared ==
			 st.frames_total);
}

static void write_processes(struct daemon *d, struct ctl_out *o)
{
	ctl_table(o, "processes",
		  "name:s pid:n state:s addresses:s frames:n endpoints:n queued:n calls:n "
		  "uptime_ms:n");
	for (uint32_t i = 0; i < d->proc_capacity; i++) {
		struct sim_proc *p = &d->procs[i];
		if (p->state == PROC_FREE)
			continue;
		struct kernel_proc_info info = {0};
		struct kernel_endpoint_info eps[PK_BOOT_ENDPOINTS];
		int count = 0;
		uint64_t queued = 0;
		if (p->kproc != 0) {
			kernel_proc_info(d->kernel, p->kproc, &info);
			count = kernel_proc_endpoints(d->kernel, p->kproc, eps, PK_BOOT_ENDPOINTS);
			for (int e = 0; e < count && e < (int)PK_BOOT_ENDPOINTS; e++)
				queued += eps[e].queued;
		}
		char addresses[512];
		proc_addresses(d, p, addresses, sizeof addresses);
		ctl_row_begin(o);
		ctl_cell_str(o, p->name);
		ctl_cell_num(o, (uint64_t)p->pid);
		ctl_cell_str(o, p->state == PROC_RUNNING ? "running" : "dying");
		ctl_cell_str(o, addresses);
		ctl_cell_num(o, info.frames_owned);
		ctl_cell_num(o, info.endpoints);
		ctl_cell_num(o, queued);
		ctl_cell_num(o, p->calls);
		ctl_cell_num(o, elapsed_ms(&p->started));
		ctl_row_end(o);
	}
}

static void write_endpoints(struct daemon *d, struct ctl_out *o)
{
	ctl_table(o, "endpoints", "process:s address:s queued:n");
	for (uint32_t i = 0; i < d->proc_capacity; i++) {
		struct sim_proc *p = &d->procs[i];
		if (p->state != PROC_RUNNING)
			continue;
		struct kernel_endpoint_info eps[PK_BOOT_ENDPOINTS];
		int count = kernel_proc_endpoints(d->kernel, p->kproc, eps, PK_BOOT_ENDPOINTS);
		for (int e = 0; e < count && e < (int)PK_BOOT_ENDPOINTS; e++) {
			char text[64];
			manifest_format_address(d->kcfg.kan_prefix, eps[e].iid, text, sizeof text);
			ctl_row_begin(o);
			ctl_cell_str(o, p->name);
			ctl_cell_str(o, text);
			ctl_cell_num(o, eps[e].queued);
			ctl_row_end(o);
		}
	}
}

static void cmd_status(struct daemon *d, struct ctl_out *o)
{
	ctl_object(o, "daemon");
	ctl_num(o, "pid", (uint64_t)getpid());
	ctl_str(o, "version", PACKOS_VERSION);
	ctl_num(o, "uptime_ms", elapsed_ms(&d->started));
	ctl_str(o, "isolation", isolation_name(d->opt.isolation));
	ctl_str(o, "control", d->opt.control_path);
	ctl_str(o, "manifest", d->opt.manifest_path ? d->opt.manifest_path : "(default)");
	ctl_str(o, "capture", d->capture ? capture_path(d->capture) : "off");
	ctl_num(o, "processes", d->live_procs);
	ctl_bool(o, "stopping", d->stopping);
	write_frames(d, o);
	write_processes(d, o);
}

static void cmd_frames(struct daemon *d, struct ctl_out *o)
{
	write_frames(d, o);
	const char *why = "ok";
	kernel_audit(d->kernel, &why);
	ctl_str(o, "audit", why);
}

static void cmd_counters(struct daemon *d, struct ctl_out *o)
{
	struct kernel_stats st;
	kernel_stats(d->kernel, &st);
	ctl_object(o, "kernel");
	ctl_num(o, "packets_sent", st.packets_sent);
	ctl_num(o, "packets_received", st.packets_received);
	ctl_num(o, "faults", st.faults);
	ctl_num(o, "irq_lines_attached", st.irq_lines_attached);
	ctl_num(o, "irq_raised", st.irq_raised);
	ctl_num(o, "irq_delivered", st.irq_delivered);
	ctl_num(o, "irq_spurious", st.irq_spurious);
	ctl_object(o, "clock");
	ctl_num(o, "period_ns", d->kcfg.tick_ns);
	ctl_num(o, "subscribers", st.tick_subscribers);
	ctl_num(o, "ticks", st.ticks);
	ctl_num(o, "ticks_dropped", st.ticks_dropped);
	ctl_num(o, "ticks_missed", st.ticks_missed);
	ctl_num(o, "timer_starts", d->clock.starts);
	ctl_num(o, "timer_late", d->clock.late);
	ctl_num(o, "timer_overruns", d->clock.overruns);
	ctl_object(o, "sharing");
	ctl_num(o, "frames_shared", st.frames_shared);
	ctl_num(o, "shares", st.shares);
	ctl_num(o, "groups", st.groups);
	ctl_num(o, "group_memberships", st.group_memberships);
	ctl_num(o, "multicast_sent", st.multicast_sent);
	ctl_num(o, "multicast_received", st.multicast_received);
	ctl_num(o, "multicast_lost", st.multicast_lost);
	ctl_num(o, "multicast_forwarded", st.multicast_forwarded);
	ctl_object(o, "calls");
	for (unsigned nr = 1; nr < PK_KC_END; nr++)
		ctl_num(o, kernel_call_name(nr), st.calls[nr]);
	ctl_object(o, "errors");
	for (int e = 1; e < PK_ERROR_END; e++)
		ctl_num(o, kernel_error_name(e), st.errors[e]);
	const struct daemon_counters *c = &d->counters;
	ctl_object(o, "daemon");
	ctl_num(o, "doorbells", c->doorbells);
	ctl_num(o, "slots", c->slots);
	ctl_num(o, "parked", c->parked);
	ctl_num(o, "wait_timeouts", c->wait_timeouts);
	ctl_num(o, "futex_wakes", c->futex_wakes);
	ctl_num(o, "polled_batches", c->polled_batches);
	ctl_num(o, "spawned", c->spawned);
	ctl_num(o, "spawn_failures", c->spawn_failures);
	ctl_num(o, "exited", c->exited);
	ctl_num(o, "faulted", c->faulted);
	ctl_num(o, "control_requests", c->control);
	ctl_num(o, "captured", d->capture ? capture_packets(d->capture) : 0);
}

static void write_spawned(struct daemon *d, struct ctl_out *o, struct sim_proc *p)
{
	char addresses[512];
	proc_addresses(d, p, addresses, sizeof addresses);
	ctl_object(o, "spawned");
	ctl_str(o, "name", p->name);
	ctl_num(o, "pid", (uint64_t)p->pid);
	ctl_str(o, "addresses", addresses);
}

/* Spawns from NAME PROGRAM [KEY=VALUE]... [-- ARG...]; returns the process or NULL with
 * the error already in `o`. */
static struct sim_proc *spawn_words(struct daemon *d, struct ctl_out *o, int argc,
				    char *const argv[], const int stdio[3])
{
	struct manifest_entry entry;
	char err[256];
	if (manifest_entry_parse(argc, argv, d->kcfg.kan_prefix, &entry, err, sizeof err) < 0) {
		ctl_error(o, "%s", err);
		return NULL;
	}
	int slot = proc_spawn(d, &entry, stdio, err, sizeof err);
	manifest_entry_free(&entry);
	if (slot < 0) {
		ctl_error(o, "%s", err);
		return NULL;
	}
	return &d->procs[slot];
}

static void cmd_spawn(struct daemon *d, struct control_conn *c, int argc, char *argv[])
{
	static const int no_stdio[3] = {-1, -1, -1};
	if (argc < 3) {
		ctl_error(&c->out, "usage: spawn NAME PROGRAM [KEY=VALUE]... [-- ARG...]");
		return;
	}
	struct sim_proc *p = spawn_words(d, &c->out, argc - 1, argv + 1, no_stdio);
	if (p != NULL) {
		write_spawned(d, &c->out, p);
		ctl_end(&c->out);
	}
}

/* run PROGRAM [KEY=VALUE]... [-- ARG...]: named after the program, with the caller's
 * stdio; answered again when it exits. Returns true if the connection now waits. */
static bool cmd_run(struct daemon *d, struct control_conn *c, int argc, char *argv[])
{
	if (argc < 2) {
		ctl_error(&c->out, "usage: run PROGRAM [KEY=VALUE]... [-- ARG...]");
		return false;
	}
	if (c->passed_fds[0] < 0 || c->passed_fds[1] < 0 || c->passed_fds[2] < 0) {
		ctl_error(&c->out, "run needs the caller's stdin, stdout and stderr");
		return false;
	}
	const char *base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
	char name[MANIFEST_NAME_SIZE];
	snprintf(name, sizeof name, "%.20s-%u", base, ++d->spawn_serial);
	char *words[CONN_MAX_ARGS + 1];
	words[0] = name;
	for (int i = 1; i < argc; i++)
		words[i] = argv[i];
	struct sim_proc *p = spawn_words(d, &c->out, argc, words, c->passed_fds);
	for (int i = 0; i < 3; i++) {
		close(c->passed_fds[i]);
		c->passed_fds[i] = -1;
	}
	if (p == NULL)
		return false;
	write_spawned(d, &c->out, p);
	p->waiter = (int)conn_index(d, c);
	return true;
}

static struct sim_proc *find_proc(struct daemon *d, const char *which)
{
	char *end;
	long pid = strtol(which, &end, 10);
	if (*which != '\0' && *end == '\0' && pid > 0 && pid <= INT_MAX)
		return proc_by_pid(d, (pid_t)pid);
	return proc_by_name(d, which);
}

static bool cmd_kill(struct daemon *d, struct control_conn *c, int argc, char *argv[])
{
	if (argc != 2) {
		ctl_error(&c->out, "usage: kill NAME|PID");
		return false;
	}
	struct sim_proc *p = find_proc(d, argv[1]);
	if (p == NULL) {
		ctl_error(&c->out, "no process '%s'", argv[1]);
		return false;
	}
	proc_kill(d, p, SIGKILL);
	if (p->waiter >= 0) {
		/* Someone already waits for its exit (run); answer now, reclaim follows. */
		ctl_object(&c->out, "killed");
		ctl_str(&c->out, "name", p->name);
		ctl_num(&c->out, "pid", (uint64_t)p->pid);
		ctl_end(&c->out);
		return false;
	}
	p->waiter = (int)conn_index(d, c);
	return true;
}

static void cmd_capture(struct daemon *d, struct ctl_out *o, int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "start") == 0) {
		if (d->capture != NULL) {
			ctl_error(o, "already capturing to %s", capture_path(d->capture));
			return;
		}
		char err[256];
		if (capture_open(argv[2], &d->capture, err, sizeof err) < 0) {
			ctl_error(o, "%s", err);
			return;
		}
		log_info("capturing KAN packets to %s", argv[2]);
		ctl_object(o, "capture");
		ctl_str(o, "path", capture_path(d->capture));
		ctl_bool(o, "running", 1);
	} else if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		if (d->capture == NULL) {
			ctl_error(o, "not capturing");
			return;
		}
		ctl_object(o, "capture");
		ctl_str(o, "path", capture_path(d->capture));
		ctl_bool(o, "running", 0);
		ctl_num(o, "packets", capture_packets(d->capture));
		log_info("capture to %s stopped after %llu packets", capture_path(d->capture),
			 (unsigned long long)capture_packets(d->capture));
		capture_close(d->capture);
		d->capture = NULL;
	} else {
		ctl_error(o, "usage: capture start FILE | capture stop");
		return;
	}
	ctl_end(o);
}

/* N of `trace start N`: a whole number of records the ring holds. */
static int parse_trace_capacity(const char *text, uint32_t *ret_capacity)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || value == 0 ||
	    value > TRACE_MAX_CAPACITY)
		return -1;
	*ret_capacity = (uint32_t)value;
	return 0;
}

static void cmd_trace(struct daemon *d, struct ctl_out *o, int argc, char *argv[])
{
	struct trace *t = &d->trace;
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "start") == 0) {
		uint32_t capacity = TRACE_DEFAULT_CAPACITY;
		if (argc == 3 && parse_trace_capacity(argv[2], &capacity) < 0) {
			ctl_error(o, "trace start: '%s' is not a number of steps from 1 to %u",
				  argv[2], TRACE_MAX_CAPACITY);
			return;
		}
		if (t->running) {
			ctl_error(o, "already tracing; trace stop first");
			return;
		}
		int err = trace_start(t, capacity);
		if (err < 0) {
			ctl_error(o, "trace start: %s", strerror(-err));
			return;
		}
		log_info("tracing, the last %u steps kept", capacity);
		ctl_object(o, "trace");
		ctl_bool(o, "running", 1);
		ctl_num(o, "capacity", capacity);
	} else if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		if (!t->running) {
			ctl_error(o, "not tracing");
			return;
		}
		trace_stop(t);
		ctl_object(o, "trace");
		ctl_bool(o, "running", 0);
		ctl_num(o, "held", trace_count(t));
		ctl_num(o, "overwritten", trace_overwritten(t));
	} else if (argc == 2 && strcmp(argv[1], "show") == 0) {
		trace_steps_write(t, o);
	} else {
		ctl_error(o, "usage: trace start [N] | trace stop | trace show");
		return;
	}
	ctl_end(o);
}

static void dispatch(struct daemon *d, struct control_conn *c, int argc, char *argv[])
{
	struct ctl_out *o = &c->out;
	const char *cmd = argv[0];
	bool waits = false;
	d->counters.control++;
	if (strcmp(cmd, "status") == 0) {
		cmd_status(d, o);
		ctl_end(o);
	} else if (strcmp(cmd, "processes") == 0 || strcmp(cmd, "ps") == 0) {
		write_processes(d, o);
		write_endpoints(d, o);
		ctl_end(o);
	} else if (strcmp(cmd, "frames") == 0) {
		cmd_frames(d, o);
		ctl_end(o);
	} else if (strcmp(cmd, "counters") == 0) {
		cmd_counters(d, o);
		ctl_end(o);
	} else if (strcmp(cmd, "spawn") == 0) {
		cmd_spawn(d, c, argc, argv);
	} else if (strcmp(cmd, "run") == 0) {
		waits = cmd_run(d, c, argc, argv);
	} else if (strcmp(cmd, "kill") == 0) {
		waits = cmd_kill(d, c, argc, argv);
	} else if (strcmp(cmd, "capture") == 0) {
		cmd_capture(d, o, argc, argv);
	} else if (strcmp(cmd, "trace") == 0) {
		cmd_trace(d, o, argc, argv);
	} else if (strcmp(cmd, "stop") == 0) {
		ctl_object(o, "stopping");
		ctl_num(o, "processes", d->live_procs);
		ctl_end(o);
		loop_begin_stop(d);
	} else {
		ctl_error(o, "unknown command '%s'", cmd);
	}
	respond(d, c, !waits);
}

void control_process_exited(struct daemon *d, struct sim_proc *p, int code, int signal)
{
	struct control_conn *c = &d->conns[p->waiter];
	p->waiter = -1;
	ctl_object(&c->out, "exit");
	ctl_str(&c->out, "name", p->name);
	ctl_num(&c->out, "code", (uint64_t)code);
	ctl_num(&c->out, "signal", (uint64_t)signal);
	ctl_end(&c->out);
	c->close_after_send = true;
	send_rest(d, c);
}

/* ---- Connections ---------------------------------------------------------------------- */

void control_accepted(struct daemon *d, int fd)
{
	struct control_conn *c = NULL;
	for (uint32_t i = 0; i < d->conn_capacity && c == NULL; i++)
		if (d->conns[i].state == CONN_FREE)
			c = &d->conns[i];
	char *request = c ? malloc(CONN_REQUEST_MAX) : NULL;
	if (request == NULL) {
		log_error("control: too many connections; refusing one");
		close(fd);
		return;
	}
	uint32_t gen = c->gen;
	*c = (struct control_conn){
		.state = CONN_READING,
		.gen = gen,
		.fd = fd,
		.request = request,
		.passed_fds = {-1, -1, -1},
	};
	ctl_out_init(&c->out);
	arm_read(d, c);
}

/* Keeps descriptors passed with the request (only `run` uses them); closes any extra. */
static void take_passed_fds(struct control_conn *c, struct msghdr *msg)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(cm);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof fd, sizeof fd);
			if (i < 3 && c->passed_fds[i] < 0)
				c->passed_fds[i] = fd;
			else
				close(fd);
		}
	}
}

void control_readable(struct daemon *d, uint32_t index)
{
	struct control_conn *c = &d->conns[index];
	if (c->state == CONN_WAITING) {
		/* The client hung up while waiting for a process: for `run` that is ^C on
		 * packosctl, so the program goes too. */
		char byte;
		if (recv(c->fd, &byte, 1, MSG_DONTWAIT) > 0) {
			arm_read(d, c);
			return;
		}
		for (uint32_t i = 0; i < d->proc_capacity; i++) {
			struct sim_proc *p = &d->procs[i];
			if (p->state != PROC_FREE && p->waiter == (int)index) {
				p->waiter = -1;
				proc_kill(d, p, SIGTERM);
			}
		}
		close_conn(d, c);
		return;
	}
	if (c->state != CONN_READING)
		return;

	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {c->request + c->request_len, CONN_REQUEST_MAX - c->request_len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof control.buf};
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		arm_read(d, c);
		return;
	}
	if (n <= 0) {
		close_conn(d, c); /* gone before finishing its request */
		return;
	}
	take_passed_fds(c, &msg);
	c->request_len += (size_t)n;

	char *argv[CONN_MAX_ARGS];
	int argc = ctl_request_parse(c->request, c->request_len, argv, CONN_MAX_ARGS);
	if (argc == 0 && c->request_len < CONN_REQUEST_MAX) {
		arm_read(d, c);
		return;
	}
	if (argc <= 0) {
		ctl_error(&c->out, "malformed request");
		respond(d, c, true);
		return;
	}
	dispatch(d, c, argc, argv);
}
