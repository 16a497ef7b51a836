/* bench_sim: what the Linux simulator costs end to end. It starts real packosd daemons,
 * runs real PackOS programs in them (bench/programs/ and servers/kan-echo), and sets each
 * figure beside a Linux baseline it measures itself, in the same run and at the same CPU
 * placement:
 *
 *   1. the round trip of a 64-byte packet between two PackOS processes (bench-rtt asking
 *      kan-echo with pk_send_recv), per isolation mode and placement, beside a pipe and a
 *      futex round trip between two Linux processes;
 *   2. bulk throughput from bench-stream to bench-sink in 4 KiB packets and in 16-frame
 *      ("64 KiB") messages, each sent as one burst, beside a SOCK_STREAM socketpair; then
 *      what handing a frame over in remap mode costs against copying it, and where one
 *      would beat the other;
 *   3. the round trip again with 1,000 idle processes and 10,000 packets queued at an
 *      endpoint nobody reads, against the same daemon configuration without them;
 *   4. packosd's own memory with 2 processes and with 1,000 more.
 *
 * Every daemon gets its own control socket, manifest and log in a temporary directory. The
 * programs time themselves with pk_now_ns and print their figures; a measuring program
 * waits for the driver's "go" on stdin until the driver has pinned it to its CPU
 * (sched_setaffinity). The repetitions of all configurations are interleaved, so drift in
 * clock or load hits them alike. Timing is never asserted: the exit status is non-zero
 * only if a daemon or a program fails, or a daemon's audit at exit finds a frame missing. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <packos/kan.h>
#include <packos/types.h>

#include "driver.h"

#define FRAME_PAYLOAD (PK_FRAME_SIZE - PK_IPV6_HEADER_SIZE) /* 4,056 bytes */
#define BIG_FRAMES    16				    /* frames in a "64 KiB" message */
#define RTT_PAYLOAD   64
/* libpk/sim/channel.c waits for an answer with this many sched_yield polls before it
 * sleeps on the futex; one baseline waits the same way. */
#define LIBPK_SPIN_YIELDS 64
/* The socketpair moves this many times the KAN streams' bytes: it is that much faster, and
 * its runs should not be too short to time. */
#define SOCKET_VOLUME_FACTOR 4

/* Addresses in every manifest, in the KAN prefix. */
#define ECHO_ADDRESS  "::7"
#define SINK_ADDRESS  "::8"
#define NEVER_ADDRESS "::9"

#ifndef BENCH_SIM_PACKOSD
#define BENCH_SIM_PACKOSD "packosd"
#endif
#ifndef BENCH_SIM_PACKOSCTL
#define BENCH_SIM_PACKOSCTL "packosctl"
#endif
#ifndef BENCH_SIM_PROGRAM_DIR
#define BENCH_SIM_PROGRAM_DIR "."
#endif
#ifndef BENCH_SIM_SERVER_DIR
#define BENCH_SIM_SERVER_DIR "."
#endif

struct options {
	bool quick;
	bool keep; /* the temporary directory, with the daemons' logs */
	unsigned repetitions;
	unsigned long rtt_rounds, rtt_warmup;	     /* per run */
	unsigned long stream_packets, stream_warmup; /* per run */
	unsigned long idle, queued;		     /* the crowd of section 3 */
	unsigned long copy_iterations;		     /* per repetition of the copy costs */
	size_t cold_bytes;			     /* the buffer the cold copies stream from */
	unsigned watchdog_s;
	const char *packosd, *packosctl, *program_dir, *server_dir;
};

static struct options opt;
static int cpu_a, cpu_b; /* the CPUs used: "one core" is cpu_a */
static bool two_cpus;

/* ---- Placements. "Server" is the program that answers: kan-echo, or bench-sink. */

enum placement_id { ONE_CORE, TWO_CORES, DAEMON_APART, PLACEMENT_COUNT };

struct placement {
	const char *name;
	const char *layout;
	int daemon, client, server; /* 0: CPU a, 1: CPU b */
};

static const struct placement placements[PLACEMENT_COUNT] = {
	[ONE_CORE] = {"one core",
		      "packosd, client and server on CPU a; the Linux pair both on CPU a", 0, 0, 0},
	[TWO_CORES] = {"two cores",
		       "packosd and client on CPU a, server on CPU b; the Linux pair one on "
		       "each",
		       0, 0, 1},
	[DAEMON_APART] = {"daemon apart",
			  "client and server on CPU a, packosd alone on CPU b (an extra; its "
			  "ratios are to the two-core pair)",
			  1, 0, 0},
};

static int cpu_of(int which)
{
	return which ? cpu_b : cpu_a;
}

/* ---- packosd instances. */

struct kan_counters {
	uint64_t doorbells;   /* doorbell reads completed by packosd */
	uint64_t futex_wakes; /* programs packosd woke from their futex sleep */
	uint64_t parked;      /* receives that waited in packosd */
	uint64_t switches;    /* packosd's context switches, voluntary or not */
};

struct memory {
	long rss, anon, shmem, pte; /* KiB, /proc/PID/status */
};

struct sim_daemon {
	const char *name; /* of its files, and in messages */
	const char *isolation;
	enum placement_id placement;
	bool sink;  /* runs bench-sink, for the streams */
	bool crowd; /* idle processes, and a queue nobody reads */
	bool enabled;

	pid_t pid;
	char control[PATH_MAX], manifest[PATH_MAX], log[PATH_MAX];
	unsigned processes; /* at boot */
	double boot_s;	    /* from exec to serving the control socket, boot included */
	pid_t idle_pid;	    /* crowd: one idle process, to weigh */
	struct memory memory;
};

static unsigned daemon_processes(const struct sim_daemon *d)
{
	return 1 + d->sink + (d->crowd ? 1 + (unsigned)opt.idle : 0);
}

/* Processes that wait in pk_recv once they run: all but the one that never receives. */
static unsigned daemon_receivers(const struct sim_daemon *d)
{
	return 1 + d->sink + (d->crowd ? (unsigned)opt.idle : 0);
}

/* Options shared by every daemon, so that the configurations differ only in isolation,
 * placement and crowd: room for the crowd and its queue in all of them. */
static unsigned long daemon_max_procs(void)
{
	return opt.idle + 64 > 1024 ? opt.idle + 64 : 1024;
}

static unsigned long daemon_queue_limit(void)
{
	return opt.queued + 256;
}

static unsigned long daemon_frames(void)
{
	return opt.queued + 4096 > 16384 ? opt.queued + 4096 : 16384;
}

/* `packosctl --json COMMAND` on the daemon; returns the answer, which must be a success. */
static char *ctl_query(const struct sim_daemon *d, const char *command)
{
	struct args a = {0};
	args_add(&a, "%s", opt.packosctl);
	args_add(&a, "--socket");
	args_add(&a, "%s", d->control);
	args_add(&a, "--json");
	args_add(&a, "%s", command);
	int status;
	char *answer = run_captured(a.argv, 120, &status);
	if (!answer || status != 0)
		fail("%s: packosctl %s failed (status %d); see %s", d->name, command, status,
		     d->log);
	return answer;
}

static void read_counters(const struct sim_daemon *d, struct kan_counters *c)
{
	char *json = ctl_query(d, "counters");
	if (!json_u64(json, "doorbells", &c->doorbells) ||
	    !json_u64(json, "futex_wakes", &c->futex_wakes) ||
	    !json_u64(json, "parked", &c->parked))
		fail("%s: packosctl counters answered without the daemon's counters", d->name);
	free(json);
	long voluntary = proc_value(d->pid, "status", "voluntary_ctxt_switches:");
	long involuntary = proc_value(d->pid, "status", "nonvoluntary_ctxt_switches:");
	c->switches = (uint64_t)(voluntary > 0 ? voluntary : 0) +
		      (uint64_t)(involuntary > 0 ? involuntary : 0);
}

static void counters_add_delta(struct kan_counters *sum, const struct kan_counters *before,
			       const struct kan_counters *after)
{
	sum->doorbells += after->doorbells - before->doorbells;
	sum->futex_wakes += after->futex_wakes - before->futex_wakes;
	sum->parked += after->parked - before->parked;
	sum->switches += after->switches - before->switches;
}

/* Runs `program` in the daemon with `packosctl run PROGRAM -- -g ARGS...`, pins it to `cpu`
 * while it waits for its go, and returns what it printed; it must exit with 0. The
 * daemon's counters are read into `before` and `after` around the run, if given. */
static char *run_program(const struct sim_daemon *d, const char *program,
			 const struct args *program_args, int cpu, struct kan_counters *before,
			 struct kan_counters *after)
{
	struct args a = {0};
	args_add(&a, "%s", opt.packosctl);
	args_add(&a, "--socket");
	args_add(&a, "%s", d->control);
	args_add(&a, "run");
	args_add(&a, "%s", program);
	args_add(&a, "--");
	args_add(&a, "-g");
	for (unsigned i = 0; i < program_args->count; i++)
		args_add(&a, "%s", program_args->argv[i]);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t ctl = spawn(a.argv, in[0], out[1], -1, -1, SIGKILL);
	close(in[0]);
	close(out[1]);

	/* packosd names it PROGRAM-N; it waits for its go once started. */
	pid_t pid = 0;
	uint64_t deadline = now_ns() + 60 * UINT64_C(1000000000);
	for (;;) {
		char *status = ctl_query(d, "status");
		pid = json_process_pid(status, program, true);
		free(status);
		if (pid)
			break;
		if (waitpid(ctl, NULL, WNOHANG) == ctl)
			fail("%s: packosctl run %s ended before the program started", d->name,
			     program);
		if (now_ns() > deadline)
			fail("%s: %s did not start within 60 s", d->name, program);
		sleep_ms(2);
	}
	pin_or_fail(pid, cpu);
	if (before)
		read_counters(d, before);
	if (write(in[1], "go\n", 3) != 3)
		fail("%s: cannot tell %s to go: %s", d->name, program, strerror(errno));
	close(in[1]);
	char *output = read_all(out[0], now_ns() + 600 * UINT64_C(1000000000));
	close(out[0]);
	if (!output) {
		kill(ctl, SIGKILL); /* packosd stops the program when its `run` hangs up */
		wait_child(ctl, 5000);
		fail("%s: %s did not finish within 600 s", d->name, program);
	}
	int status = wait_child(ctl, 60000);
	if (after)
		read_counters(d, after);
	if (status != 0)
		fail("%s: %s ended with status %d; it printed:\n%s", d->name, program, status,
		     output);
	return output;
}

/* tmpdir/NAME.SUFFIX into a PATH_MAX buffer. */
static void tmp_path(char *ret_path, const char *name, const char *suffix)
{
	int n = snprintf(ret_path, PATH_MAX, "%s/%s%s", tmpdir, name, suffix);
	if (n < 0 || n >= PATH_MAX)
		fail("the temporary directory's path is too long");
}

static void write_manifest(const struct sim_daemon *d)
{
	FILE *f = fopen(d->manifest, "w");
	if (!f)
		fail("%s: %s", d->manifest, strerror(errno));
	fprintf(f, "# bench_sim: %s\n", d->name);
	fprintf(f, "echo kan-echo address=%s\n", ECHO_ADDRESS);
	if (d->sink)
		fprintf(f, "sink bench-sink address=%s\n", SINK_ADDRESS);
	if (d->crowd) {
		fprintf(f, "never bench-idle address=%s -- --never-receive\n", NEVER_ADDRESS);
		for (unsigned long i = 0; i < opt.idle; i++)
			fprintf(f, "idle%lu bench-idle\n", i);
	}
	if (fclose(f) != 0)
		fail("%s: %s", d->manifest, strerror(errno));
}

/* Fills the queue of the process that never receives, and checks the kernel holds it. */
static void flood(struct sim_daemon *d)
{
	struct args p = {0};
	args_add(&p, "-n");
	args_add(&p, "%lu", opt.queued);
	args_add(&p, NEVER_ADDRESS);
	char *output = run_program(d, "bench-flood", &p, cpu_of(placements[d->placement].client),
				   NULL, NULL);
	uint64_t sent = 0;
	if (sscanf(output, "bench-flood sent=%" SCNu64, &sent) != 1)
		fail("%s: bench-flood printed no count", d->name);
	free(output);
	char *status = ctl_query(d, "status");
	uint64_t queued = 0;
	if (sent != opt.queued || !json_u64(status, "queued", &queued) || queued != opt.queued)
		fail("%s: %" PRIu64 " packets sent, %" PRIu64 " queued; %lu wanted", d->name, sent,
		     queued, opt.queued);
	free(status);
}

static void daemon_start(struct sim_daemon *d)
{
	tmp_path(d->control, d->name, ".sock");
	tmp_path(d->manifest, d->name, ".manifest");
	tmp_path(d->log, d->name, ".log");
	write_manifest(d);

	struct args a = {0};
	args_add(&a, "%s", opt.packosd);
	args_add(&a, "--manifest");
	args_add(&a, "%s", d->manifest);
	args_add(&a, "--control");
	args_add(&a, "%s", d->control);
	args_add(&a, "--isolation");
	args_add(&a, "%s", d->isolation);
	args_add(&a, "--max-procs");
	args_add(&a, "%lu", daemon_max_procs());
	args_add(&a, "--queue-limit");
	args_add(&a, "%lu", daemon_queue_limit());
	args_add(&a, "--frames");
	args_add(&a, "%lu", daemon_frames());
	args_add(&a, "--path");
	args_add(&a, "%s", opt.program_dir);
	args_add(&a, "--path");
	args_add(&a, "%s", opt.server_dir);
	int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log < 0)
		fail("%s: %s", d->log, strerror(errno));
	uint64_t start = now_ns();
	/* packosd logs to stderr; its programs' stdout and stderr are packosd's stderr. */
	d->pid = spawn(a.argv, -1, log, log, cpu_of(placements[d->placement].daemon), SIGTERM);
	close(log);
	register_daemon(d->pid, true);

	/* The socket is up before the manifest boots; the answer to status comes after. */
	struct stat st;
	while (stat(d->control, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		if (wait_child(d->pid, 0) >= 0)
			fail("%s: packosd exited at start; see %s", d->name, d->log);
		if (now_ns() - start > 60 * UINT64_C(1000000000))
			fail("%s: packosd made no control socket in 60 s", d->name);
		sleep_ms(2);
	}
	char *status = ctl_query(d, "status");
	d->boot_s = (double)(now_ns() - start) / 1e9;
	uint64_t processes = 0;
	json_u64(status, "processes", &processes);
	d->processes = (unsigned)processes;
	if (processes != daemon_processes(d))
		fail("%s: %" PRIu64 " processes after boot, %u expected; see %s", d->name,
		     processes, daemon_processes(d), d->log);
	pid_t echo = json_process_pid(status, "echo", false);
	pid_t sink = d->sink ? json_process_pid(status, "sink", false) : 0;
	d->idle_pid = d->crowd && opt.idle ? json_process_pid(status, "idle0", false) : 0;
	free(status);
	if (!echo || (d->sink && !sink))
		fail("%s: no pid for the echo or the sink", d->name);

	/* Nothing is timed before every receiver waits in the daemon. */
	for (uint64_t deadline = now_ns() + 120 * UINT64_C(1000000000);;) {
		struct kan_counters c;
		read_counters(d, &c);
		if (c.parked >= daemon_receivers(d))
			break;
		if (now_ns() > deadline)
			fail("%s: %" PRIu64 " of %u processes wait for packets after 120 s",
			     d->name, c.parked, daemon_receivers(d));
		sleep_ms(10);
	}
	int server_cpu = cpu_of(placements[d->placement].server);
	pin_or_fail(echo, server_cpu);
	if (sink)
		pin_or_fail(sink, server_cpu);
	if (d->crowd)
		flood(d);
}

static void daemon_stop(struct sim_daemon *d)
{
	stop_daemon(d->pid, d->name, d->log);
}

/* ---- 1 and 3: round trips. */

enum rtt_kind { RTT_PIPE, RTT_FUTEX, RTT_FUTEX_SPIN, RTT_KAN };

struct rtt_row {
	const char *label;
	enum rtt_kind kind;
	enum placement_id placement;
	struct sim_daemon *daemon; /* RTT_KAN */
	bool deadline;		   /* the client's receive has a deadline */
	struct samples samples;	   /* ns, every repetition's */
	double rep_median[MAX_REPETITIONS];
	struct kan_counters counted; /* over counted_rounds round trips */
	uint64_t counted_rounds;
};

/* Forks the far side of a Linux baseline, pinned to `cpu` and killed if the driver dies;
 * returns 0 in the child, as fork does. */
static pid_t fork_pinned(int cpu)
{
	pid_t child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin(0, cpu);
	}
	return child;
}

static void pipe_rtt(int cpu_client, int cpu_server, struct samples *out)
{
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t child = fork_pinned(cpu_server);
	if (child == 0) {
		close(to[1]);
		close(from[0]);
		uint8_t byte;
		while (read(to[0], &byte, 1) == 1)
			if (write(from[1], &byte, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	pin_or_fail(0, cpu_client);
	for (unsigned long i = 0; i < opt.rtt_warmup + opt.rtt_rounds; i++) {
		uint8_t byte = (uint8_t)i, answer;
		uint64_t start = now_ns();
		if (write(to[1], &byte, 1) != 1 || read(from[0], &answer, 1) != 1 || answer != byte)
			fail("pipe round trip: %s", strerror(errno));
		uint64_t end = now_ns();
		if (i >= opt.rtt_warmup)
			samples_push(out, (double)(end - start));
	}
	close(to[1]);
	close(from[0]);
	if (wait_child(child, 10000) != 0)
		fail("the pipe's echo failed");
	pin_or_fail(0, cpu_a);
}

struct futex_pair {
	alignas(64) _Atomic uint32_t ping; /* the client's latest number */
	_Atomic uint32_t ping_sleeping;
	alignas(64) _Atomic uint32_t pong; /* the server's answer */
	_Atomic uint32_t pong_sleeping;
};

#define FUTEX_STOP UINT32_MAX

static void futex_call(_Atomic uint32_t *word, int op, uint32_t value)
{
	syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

/* Waits until *word is `want` or FUTEX_STOP. With `spin`, as libpk waits for packosd:
 * LIBPK_SPIN_YIELDS polls with sched_yield, then the sleep announced in `sleeping` (so
 * the poster wakes only a sleeper); without, straight to FUTEX_WAIT. */
static uint32_t futex_wait_for(_Atomic uint32_t *word, _Atomic uint32_t *sleeping, uint32_t want,
			       bool spin)
{
	uint32_t seen;
	if (spin) {
		for (int i = 0; i < LIBPK_SPIN_YIELDS; i++) {
			seen = atomic_load_explicit(word, memory_order_acquire);
			if (seen == want || seen == FUTEX_STOP)
				return seen;
			sched_yield();
		}
		atomic_store(sleeping, 1);
	}
	for (;;) {
		seen = atomic_load(word);
		if (seen == want || seen == FUTEX_STOP)
			break;
		futex_call(word, FUTEX_WAIT, seen);
	}
	if (spin)
		atomic_store(sleeping, 0);
	return seen;
}

static void futex_post(_Atomic uint32_t *word, _Atomic uint32_t *sleeping, uint32_t value,
		       bool spin)
{
	atomic_store(word, value);
	if (!spin || atomic_load(sleeping))
		futex_call(word, FUTEX_WAKE, 1);
}

static void futex_rtt(int cpu_client, int cpu_server, bool spin, struct samples *out)
{
	struct futex_pair *f =
		mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memset(f, 0, sizeof *f);
	pid_t child = fork_pinned(cpu_server);
	if (child == 0) {
		for (uint32_t seq = 1;; seq++) {
			if (futex_wait_for(&f->ping, &f->ping_sleeping, seq, spin) == FUTEX_STOP)
				_exit(0);
			futex_post(&f->pong, &f->pong_sleeping, seq, spin);
		}
	}
	pin_or_fail(0, cpu_client);
	for (uint32_t seq = 1; seq <= opt.rtt_warmup + opt.rtt_rounds; seq++) {
		uint64_t start = now_ns();
		futex_post(&f->ping, &f->ping_sleeping, seq, spin);
		futex_wait_for(&f->pong, &f->pong_sleeping, seq, spin);
		uint64_t end = now_ns();
		if (seq > opt.rtt_warmup)
			samples_push(out, (double)(end - start));
	}
	futex_post(&f->ping, &f->ping_sleeping, FUTEX_STOP, false);
	if (wait_child(child, 10000) != 0)
		fail("the futex echo failed");
	munmap(f, sizeof *f);
	pin_or_fail(0, cpu_a);
}

static void kan_rtt(struct rtt_row *r)
{
	struct args p = {0};
	args_add(&p, "-n");
	args_add(&p, "%lu", opt.rtt_rounds);
	args_add(&p, "-w");
	args_add(&p, "%lu", opt.rtt_warmup);
	args_add(&p, "-s");
	args_add(&p, "%d", RTT_PAYLOAD);
	if (r->deadline) {
		args_add(&p, "-t");
		args_add(&p, "1000");
	}
	args_add(&p, ECHO_ADDRESS);
	struct kan_counters before, after;
	char *output = run_program(r->daemon, "bench-rtt", &p,
				   cpu_of(placements[r->placement].client), &before, &after);
	unsigned long rounds;
	char *line = strchr(output, '\n');
	if (sscanf(output, "bench-rtt rounds=%lu", &rounds) != 1 || rounds != opt.rtt_rounds ||
	    !line)
		fail("%s: bench-rtt printed no header: %.200s", r->daemon->name, output);
	for (unsigned long i = 0; i < rounds; i++) {
		char *end;
		unsigned long long ns = strtoull(line, &end, 10);
		if (end == line)
			fail("%s: bench-rtt printed %lu round trips of %lu", r->daemon->name, i,
			     rounds);
		samples_push(&r->samples, (double)ns);
		line = end;
	}
	free(output);
	counters_add_delta(&r->counted, &before, &after);
	r->counted_rounds += opt.rtt_rounds + opt.rtt_warmup;
}

static void rtt_run(struct rtt_row *r, unsigned rep)
{
	size_t first = r->samples.count;
	const struct placement *p = &placements[r->placement];
	switch (r->kind) {
	case RTT_PIPE:
		pipe_rtt(cpu_of(p->client), cpu_of(p->server), &r->samples);
		break;
	case RTT_FUTEX:
	case RTT_FUTEX_SPIN:
		futex_rtt(cpu_of(p->client), cpu_of(p->server), r->kind == RTT_FUTEX_SPIN,
			  &r->samples);
		break;
	case RTT_KAN:
		kan_rtt(r);
		break;
	}
	size_t count = r->samples.count - first;
	double *copy = malloc(count * sizeof *copy);
	if (!copy)
		fail("out of memory");
	memcpy(copy, r->samples.value + first, count * sizeof *copy);
	r->rep_median[rep] = percentile(copy, count, 0.5);
	free(copy);
}

/* ---- 2: bulk. */

static const unsigned long message_frames[2] = {1, BIG_FRAMES};

struct stream_row {
	const char *label;
	enum placement_id placement;
	struct sim_daemon *daemon; /* NULL: the socketpair */
	double mbps[2][MAX_REPETITIONS];
	struct kan_counters counted[2];
	uint64_t counted_packets[2];
};

static void write_fully(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("socketpair write: %s", strerror(errno));
		data += n;
		size -= (size_t)n;
	}
}

static bool read_fully(int fd, uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = read(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		size -= (size_t)n;
	}
	return true;
}

/* Payload MB/s of `messages` writes of `size` bytes, each read whole by the other side,
 * which acknowledges the warmup and the end with one byte back. */
static double socketpair_mbps(int cpu_writer, int cpu_reader, size_t size,
			      unsigned long warmup_messages, unsigned long messages)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fail("socketpair: %s", strerror(errno));
	uint8_t *buffer = malloc(size);
	if (!buffer)
		fail("out of memory");
	for (size_t i = 0; i < size; i++)
		buffer[i] = (uint8_t)(i * 131 + 7);
	pid_t child = fork_pinned(cpu_reader);
	if (child == 0) {
		close(sv[0]);
		const unsigned long phase[2] = {warmup_messages, messages};
		for (int i = 0; i < 2; i++) {
			for (unsigned long m = 0; m < phase[i]; m++)
				if (!read_fully(sv[1], buffer, size))
					_exit(1);
			if (write(sv[1], "a", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	pin_or_fail(0, cpu_writer);
	uint8_t ack;
	for (unsigned long m = 0; m < warmup_messages; m++)
		write_fully(sv[0], buffer, size);
	if (!read_fully(sv[0], &ack, 1))
		fail("socketpair: no ack");
	uint64_t start = now_ns();
	for (unsigned long m = 0; m < messages; m++)
		write_fully(sv[0], buffer, size);
	if (!read_fully(sv[0], &ack, 1))
		fail("socketpair: no ack");
	uint64_t elapsed = now_ns() - start;
	close(sv[0]);
	free(buffer);
	if (wait_child(child, 10000) != 0)
		fail("the socketpair reader failed");
	pin_or_fail(0, cpu_a);
	return (double)size * (double)messages * 1e3 / (double)elapsed;
}

static void stream_run(struct stream_row *r, int size, unsigned rep)
{
	const struct placement *p = &placements[r->placement];
	unsigned long frames = message_frames[size];
	unsigned long messages = opt.stream_packets / frames;
	if (!r->daemon) {
		unsigned long warmup = opt.stream_warmup / frames;
		unsigned long count = messages * SOCKET_VOLUME_FACTOR;
		r->mbps[size][rep] =
			socketpair_mbps(cpu_of(p->client), cpu_of(p->server),
					frames * FRAME_PAYLOAD, warmup ? warmup : 1, count);
		return;
	}
	struct args a = {0};
	args_add(&a, "-p");
	args_add(&a, "%lu", messages * frames);
	args_add(&a, "-f");
	args_add(&a, "%lu", frames);
	args_add(&a, "-W");
	args_add(&a, "%lu", opt.stream_warmup);
	args_add(&a, SINK_ADDRESS);
	struct kan_counters before, after;
	char *output =
		run_program(r->daemon, "bench-stream", &a, cpu_of(p->client), &before, &after);
	unsigned long long packets, bytes, ns;
	unsigned long got_frames;
	if (sscanf(output,
		   "bench-stream packets=%llu frames_per_message=%lu payload_bytes=%llu ns=%llu",
		   &packets, &got_frames, &bytes, &ns) != 4 ||
	    got_frames != frames || ns == 0)
		fail("%s: bench-stream printed %.200s", r->daemon->name, output);
	free(output);
	r->mbps[size][rep] = (double)bytes * 1e3 / (double)ns;
	counters_add_delta(&r->counted[size], &before, &after);
	r->counted_packets[size] += packets + opt.stream_warmup;
}

/* ---- 2, continued: handing a frame over against copying it. */

struct copy_costs {
	double map_one_ns;	  /* mmap(MAP_POPULATE) + touch + munmap of one frame */
	double map_contiguous_ns; /* the same with 16 contiguous frames per mmap, per frame */
	double protect_ns;	  /* mprotect RW + touch + mprotect NONE, each frame mapped once */
	double copy_hot_ns;	  /* memcpy of one frame's payload, cache hot */
	double copy_cold_ns;	  /* the same, streaming from a buffer larger than the caches */
};

/* What libpk does in remap mode for each frame it takes and gives back
 * (libpk/sim/frames.c), and what mapping each frame anew would cost instead, on a pool
 * like packosd's: a memfd whose pages all exist. */
static void measure_copy_costs(struct copy_costs *c)
{
	pin_or_fail(0, cpu_a);
	const size_t frames = 16384, pool_size = frames * PK_FRAME_SIZE;
	int fd = memfd_create("bench-sim-pool", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)pool_size) < 0)
		fail("memfd: %s", strerror(errno));
	uint8_t *pool = mmap(NULL, pool_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pool == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	memset(pool, 0, pool_size); /* as frame_alloc zeroes each frame it hands out */
	munmap(pool, pool_size);

	uint8_t *cold = malloc(opt.cold_bytes);
	uint8_t *source = aligned_alloc(64, PK_FRAME_SIZE);
	uint8_t *target = aligned_alloc(64, PK_FRAME_SIZE);
	if (!cold || !source || !target)
		fail("out of memory");
	memset(cold, 1, opt.cold_bytes);
	memset(source, 2, PK_FRAME_SIZE);
	memset(target, 3, PK_FRAME_SIZE);

	/* libpk's remap: each frame mapped once, PROT_NONE while not owned. A page of gap
	 * after each keeps the kernel from merging neighbouring frames into one mapping,
	 * which mprotect would then split and merge again on every toggle. Every frame is
	 * touched once first, as in a program that has run a while. */
	uint8_t *guarded = mmap(NULL, 2 * pool_size, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (guarded == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	for (size_t f = 0; f < frames; f++) {
		uint8_t *frame = guarded + 2 * f * PK_FRAME_SIZE;
		if (mmap(frame, PK_FRAME_SIZE, PROT_NONE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)(f * PK_FRAME_SIZE)) == MAP_FAILED ||
		    mprotect(frame, PK_FRAME_SIZE, PROT_READ | PROT_WRITE) < 0)
			fail("mapping frame %zu: %s", f, strerror(errno));
		frame[0] = 1;
		mprotect(frame, PK_FRAME_SIZE, PROT_NONE);
	}

	double one[MAX_REPETITIONS], contiguous[MAX_REPETITIONS], protect[MAX_REPETITIONS],
		hot[MAX_REPETITIONS], streamed[MAX_REPETITIONS];
	const unsigned long n = opt.copy_iterations, groups = frames / BIG_FRAMES;
	for (unsigned rep = 0; rep < opt.repetitions; rep++) {
		uint64_t start = now_ns();
		for (unsigned long i = 0; i < n; i++) {
			off_t offset = (off_t)((i * 7919) % frames * PK_FRAME_SIZE);
			volatile uint8_t *p = mmap(NULL, PK_FRAME_SIZE, PROT_READ | PROT_WRITE,
						   MAP_SHARED | MAP_POPULATE, fd, offset);
			if (p == MAP_FAILED)
				fail("mmap: %s", strerror(errno));
			p[0] = (uint8_t)i;
			munmap((void *)(uintptr_t)p, PK_FRAME_SIZE);
		}
		one[rep] = (double)(now_ns() - start) / (double)n;

		start = now_ns();
		for (unsigned long i = 0; i < n / BIG_FRAMES; i++) {
			off_t offset = (off_t)((i * 7919) % groups * BIG_FRAMES * PK_FRAME_SIZE);
			volatile uint8_t *p =
				mmap(NULL, BIG_FRAMES * PK_FRAME_SIZE, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_POPULATE, fd, offset);
			if (p == MAP_FAILED)
				fail("mmap: %s", strerror(errno));
			for (unsigned f = 0; f < BIG_FRAMES; f++)
				p[f * PK_FRAME_SIZE] = (uint8_t)i;
			munmap((void *)(uintptr_t)p, BIG_FRAMES * PK_FRAME_SIZE);
		}
		contiguous[rep] =
			(double)(now_ns() - start) / (double)(n / BIG_FRAMES * BIG_FRAMES);

		start = now_ns();
		for (unsigned long i = 0; i < n; i++) {
			volatile uint8_t *p = guarded + 2 * ((i * 7919) % frames) * PK_FRAME_SIZE;
			if (mprotect((void *)(uintptr_t)p, PK_FRAME_SIZE, PROT_READ | PROT_WRITE) <
			    0)
				fail("mprotect: %s", strerror(errno));
			p[0] = (uint8_t)i;
			mprotect((void *)(uintptr_t)p, PK_FRAME_SIZE, PROT_NONE);
		}
		protect[rep] = (double)(now_ns() - start) / (double)n;

		start = now_ns();
		for (unsigned long i = 0; i < 20 * n; i++) {
			memcpy(target, source, FRAME_PAYLOAD);
			__asm__ __volatile__("" : : "r"(target), "r"(source) : "memory");
		}
		hot[rep] = (double)(now_ns() - start) / (double)(20 * n);

		const size_t chunks = opt.cold_bytes / PK_FRAME_SIZE;
		start = now_ns();
		for (size_t i = 0; i < chunks; i++) {
			memcpy(target, cold + i * PK_FRAME_SIZE, FRAME_PAYLOAD);
			__asm__ __volatile__("" : : "r"(target) : "memory");
		}
		streamed[rep] = (double)(now_ns() - start) / (double)chunks;
	}
	c->map_one_ns = median_of(one, opt.repetitions);
	c->map_contiguous_ns = median_of(contiguous, opt.repetitions);
	c->protect_ns = median_of(protect, opt.repetitions);
	c->copy_hot_ns = median_of(hot, opt.repetitions);
	c->copy_cold_ns = median_of(streamed, opt.repetitions);
	munmap(guarded, 2 * pool_size);
	free(cold);
	free(source);
	free(target);
	close(fd);
}

/* ---- Reporting. */

static void print_machine(void)
{
	struct utsname u;
	uname(&u);
	char model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	printf("bench_sim: packosd end to end, beside Linux baselines measured in the same run\n");
	printf("machine: %ld CPUs online, %s %s (%s), %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       u.sysname, u.release, u.machine, model);
	if (two_cpus)
		printf("CPUs: a = %d, b = %d\n", cpu_a, cpu_b);
	else
		printf("CPUs: a = %d only (one CPU allowed: no two-core placements)\n", cpu_a);
	printf("run: %u repetitions, configurations interleaved%s\n", opt.repetitions,
	       opt.quick ? " (--quick: tiny sizes, figures only show that it runs)" : "");
	printf("placements (server = kan-echo or bench-sink; client = bench-rtt or "
	       "bench-stream):\n");
	for (int p = 0; p < PLACEMENT_COUNT; p++)
		if (p == ONE_CORE || two_cpus)
			printf("  %-13s %s\n", placements[p].name, placements[p].layout);
}

static double row_median(struct rtt_row *r)
{
	return percentile(r->samples.value, r->samples.count, 0.5);
}

static double row_p99(struct rtt_row *r)
{
	return percentile(r->samples.value, r->samples.count, 0.99);
}

static const struct rtt_row *pipe_row_for(const struct rtt_row *rows, unsigned count,
					  enum placement_id placement)
{
	enum placement_id wanted = placement == DAEMON_APART ? TWO_CORES : placement;
	for (unsigned i = 0; i < count; i++)
		if (rows[i].kind == RTT_PIPE && rows[i].placement == wanted)
			return &rows[i];
	return NULL;
}

static void print_rtt_row(struct rtt_row *r, double pipe_median, bool first_of_placement)
{
	double median = row_median(r), p99 = row_p99(r), lo, hi;
	spread_of(r->rep_median, opt.repetitions, &lo, &hi);
	char spread[32], ratio[16] = "", counted[64] = "";
	snprintf(spread, sizeof spread, "%.2f..%.2f", lo / 1e3, hi / 1e3);
	if (pipe_median > 0)
		snprintf(ratio, sizeof ratio, "%.2f", median / pipe_median);
	if (r->kind == RTT_KAN && r->counted_rounds) {
		double n = (double)r->counted_rounds;
		snprintf(counted, sizeof counted, "%9.2f %6.2f %8.2f",
			 (double)r->counted.doorbells / n, (double)r->counted.futex_wakes / n,
			 (double)r->counted.switches / n);
	}
	printf("%-13s %-34s %8.2f %8.2f %13s %7s %s\n",
	       first_of_placement ? placements[r->placement].name : "", r->label, median / 1e3,
	       p99 / 1e3, spread, ratio, counted);
}

static void report_rtt(struct rtt_row *rows, unsigned count)
{
	printf("\n1. Round trip of a %d-byte payload: bench-rtt asks kan-echo with pk_send_recv\n",
	       RTT_PAYLOAD);
	printf("   us per round trip: median and p99 of %u x %lu, and the repetitions' medians "
	       "min..max;\n",
	       opt.repetitions, opt.rtt_rounds);
	printf("   vs pipe: over the pipe's median at the same placement. Per KAN round trip "
	       "(counted\n   by packosd): doorbells read, programs woken from their futex "
	       "sleep, packosd's\n   context switches.\n");
	printf("%-13s %-34s %8s %8s %13s %7s %9s %6s %8s\n", "placement", "transport", "median",
	       "p99", "reps", "vs pipe", "doorbells", "wakes", "switches");
	for (unsigned i = 0; i < count; i++) {
		const struct rtt_row *pipe = pipe_row_for(rows, count, rows[i].placement);
		double pipe_median =
			pipe ? percentile(pipe->samples.value, pipe->samples.count, 0.5) : 0;
		print_rtt_row(&rows[i], rows[i].kind == RTT_PIPE ? 0 : pipe_median,
			      i == 0 || rows[i].placement != rows[i - 1].placement);
	}
	/* The target, mode by mode. */
	printf("target: KAN RTT <= 2.5 x pipe RTT at the same placement, in shared mode.\n");
	const char *modes[2] = {"shared", "remap"};
	for (int m = 0; m < 2; m++) {
		printf("  %-6s", modes[m]);
		for (unsigned i = 0; i < count; i++) {
			struct rtt_row *r = &rows[i];
			if (r->kind != RTT_KAN || r->deadline ||
			    strcmp(r->daemon->isolation, modes[m]) != 0)
				continue;
			const struct rtt_row *pipe = pipe_row_for(rows, count, r->placement);
			double ratio = row_median(r) /
				       percentile(pipe->samples.value, pipe->samples.count, 0.5);
			printf("  %s %.2fx (%s)", placements[r->placement].name, ratio,
			       ratio <= 2.5 ? "met" : "missed");
		}
		printf("\n");
	}
}

static void report_streams(struct stream_row *rows, unsigned count)
{
	printf("\n2. Bulk: bench-stream -> bench-sink; payload MB/s (10^6 bytes/s), median of "
	       "the repetitions\n");
	printf("   A KAN packet is one 4 KiB frame: a 40-byte IPv6 header and %u payload bytes. "
	       "The KAN MTU\n   is one frame, so a \"64 KiB\" message is %d frames sent in one "
	       "burst (%u payload bytes).\n",
	       FRAME_PAYLOAD, BIG_FRAMES, BIG_FRAMES * FRAME_PAYLOAD);
	printf("   The sender copies each payload into its frame, the sink takes what is "
	       "queued in\n   bursts and copies it out; window 128 packets, an ack every 32. "
	       "The socketpair is\n   SOCK_STREAM, writing and reading %u- and %u-byte "
	       "messages (the same payloads).\n   us/pkt: per frame (per %u bytes).\n",
	       FRAME_PAYLOAD, BIG_FRAMES * FRAME_PAYLOAD, FRAME_PAYLOAD);
	printf("%-13s %-20s %10s %7s %7s %11s %7s %7s %9s %6s\n", "placement", "transport",
	       "4KiB MB/s", "vs sock", "us/pkt", "64KiB MB/s", "vs sock", "us/pkt", "doorbells",
	       "wakes");
	for (unsigned i = 0; i < count; i++) {
		struct stream_row *r = &rows[i];
		const struct stream_row *sock = NULL;
		for (unsigned j = 0; j < count; j++)
			if (!rows[j].daemon && rows[j].placement == r->placement)
				sock = &rows[j];
		bool first = i == 0 || r->placement != rows[i - 1].placement;
		printf("%-13s %-20s", first ? placements[r->placement].name : "", r->label);
		for (int s = 0; s < 2; s++) {
			double mbps = median_of(r->mbps[s], opt.repetitions);
			double sock_mbps = sock ? median_of(sock->mbps[s], opt.repetitions) : 0;
			char ratio[16] = "";
			if (r->daemon && sock_mbps > 0)
				snprintf(ratio, sizeof ratio, "%.3f", mbps / sock_mbps);
			printf(" %*.0f %7s %7.2f", s == 0 ? 10 : 11, mbps, ratio,
			       FRAME_PAYLOAD / mbps);
		}
		if (r->daemon && r->counted_packets[0]) {
			double n = (double)r->counted_packets[0];
			printf(" %9.2f %6.2f", (double)r->counted[0].doorbells / n,
			       (double)r->counted[0].futex_wakes / n);
		}
		printf("\n");
	}
	printf("   (doorbells and wakes: per packet, 4 KiB runs, counted by packosd)\n");
}

static double stream_ns(const struct stream_row *rows, unsigned count, const char *isolation)
{
	for (unsigned i = 0; i < count; i++)
		if (rows[i].daemon && rows[i].placement == ONE_CORE &&
		    strcmp(rows[i].daemon->isolation, isolation) == 0)
			return FRAME_PAYLOAD * 1e3 / median_of(rows[i].mbps[0], opt.repetitions);
	return 0;
}

static void report_copy_costs(const struct copy_costs *c, const struct stream_row *rows,
			      unsigned count)
{
	double measured = stream_ns(rows, count, "remap") - stream_ns(rows, count, "shared");
	double handover = 2 * c->protect_ns; /* the sender's opening and the sink's */
	double page_hot = c->copy_hot_ns * PK_FRAME_SIZE / FRAME_PAYLOAD;
	printf("\n   Zero copy against copying, remap mode: each packet's frame is opened and "
	       "closed twice,\n   by the sender (alloc to send) and by the sink (recv to "
	       "free). Measured on CPU a:\n");
	printf("   %-68s %8.2f us\n",
	       "mmap(MAP_POPULATE) + touch + munmap of a frame, each time anew",
	       c->map_one_ns / 1e3);
	printf("   %-68s %8.2f us\n", "the same with 16 contiguous frames per mmap, per frame",
	       c->map_contiguous_ns / 1e3);
	printf("   %-68s %8.2f us\n",
	       "mprotect RW + touch + mprotect NONE, frames mapped once (libpk)",
	       c->protect_ns / 1e3);
	printf("   %-68s %8.2f us\n",
	       "in packosd: remap - shared per packet, 4 KiB stream, one core", measured / 1e3);
	printf("   %-68s %8.3f us\n", "memcpy of a frame's payload (4,056 B), cache hot",
	       c->copy_hot_ns / 1e3);
	printf("   %-68s %8.3f us\n", "the same, streamed from a buffer larger than the caches",
	       c->copy_cold_ns / 1e3);
	/* A handover costs the same whatever the packet's size; a copy grows with it. */
	double crossover_hot = handover * FRAME_PAYLOAD / c->copy_hot_ns;
	double crossover_cold = handover * FRAME_PAYLOAD / c->copy_cold_ns;
	printf("   crossover: a handover (2 x %.2f us) costs as much as one copy of %.0f KiB "
	       "(hot) or\n   %.0f KiB (from RAM).",
	       c->protect_ns / 1e3, crossover_hot / 1024, crossover_cold / 1024);
	if (crossover_cold > PK_FRAME_SIZE)
		printf(" A frame holds 4 KiB, so copying is cheaper at every packet size the\n"
		       "   KAN carries; zero copy would need packets %.0f to %.0f frames long.",
		       crossover_cold / PK_FRAME_SIZE, crossover_hot / PK_FRAME_SIZE);
	else
		printf(" Handover wins for packets above %.0f bytes (copying from RAM).",
		       crossover_cold);
	/* Mapping 16 frames at once shares the fixed cost; what is left is per page. */
	if (c->map_contiguous_ns > page_hot)
		printf(" Even\n   mapped 16 at a time a page costs more to map (%.2f us) than to "
		       "copy (%.3f us), so\n   batching the mappings brings no crossover within "
		       "reach.\n",
		       c->map_contiguous_ns / 1e3, page_hot / 1e3);
	else
		printf(" Mapped\n   16 at a time a page costs %.2f us against %.3f us to copy: "
		       "batched mappings\n   would win from %.0f KiB.\n",
		       c->map_contiguous_ns / 1e3, page_hot / 1e3,
		       2 * (c->map_one_ns - c->map_contiguous_ns) /
			       (page_hot - c->map_contiguous_ns) * 4);
}

static void report_o1(struct rtt_row *base, struct rtt_row *crowd, const struct sim_daemon *cd)
{
	printf("\n3. O(1): the round trip of section 1 (KAN remap, one core) with %lu idle "
	       "processes (each\n   waiting in pk_recv) and %lu packets queued at an endpoint "
	       "nobody reads, against the\n   same daemon options without them (--max-procs "
	       "%lu --queue-limit %lu --frames %lu)\n",
	       opt.idle, opt.queued, daemon_max_procs(), daemon_queue_limit(), daemon_frames());
	printf("%-44s %8s %8s %13s %9s %6s %8s\n", "configuration", "median", "p99", "reps",
	       "doorbells", "wakes", "switches");
	struct rtt_row *rows[2] = {base, crowd};
	char labels[2][96];
	snprintf(labels[0], sizeof labels[0], "2 processes (echo, client), queue empty");
	snprintf(labels[1], sizeof labels[1], "+%lu idle, +%lu queued", opt.idle, opt.queued);
	for (int i = 0; i < 2; i++) {
		struct rtt_row *r = rows[i];
		double lo, hi, n = (double)(r->counted_rounds ? r->counted_rounds : 1);
		spread_of(r->rep_median, opt.repetitions, &lo, &hi);
		char spread[32];
		snprintf(spread, sizeof spread, "%.2f..%.2f", lo / 1e3, hi / 1e3);
		printf("%-44s %8.2f %8.2f %13s %9.2f %6.2f %8.2f\n", labels[i], row_median(r) / 1e3,
		       row_p99(r) / 1e3, spread, (double)r->counted.doorbells / n,
		       (double)r->counted.futex_wakes / n, (double)r->counted.switches / n);
	}
	double ratio = row_median(crowd) / row_median(base);
	printf("ratio with/without: median %.2f, p99 %.2f (target <= 1.25: %s)\n", ratio,
	       row_p99(crowd) / row_p99(base), ratio <= 1.25 ? "met" : "missed");
	printf("boot of the crowded daemon: %u processes from the manifest in %.2f s (%.2f ms "
	       "each)\n",
	       cd->processes, cd->boot_s, cd->boot_s * 1e3 / cd->processes);
}

static void report_memory(const struct sim_daemon *base, const struct sim_daemon *crowd,
			  long idle_rss, long idle_pss)
{
	printf("\n4. packosd's memory, KiB (/proc/PID/status), the frame pool excluded: VmRSS - "
	       "RssShmem\n   leaves out the pool's memfd pages (and the channel pages, also "
	       "shared memory)\n");
	printf("%-44s %15s %9s %9s %7s\n", "daemon", "VmRSS-RssShmem", "RssAnon", "RssShmem",
	       "VmPTE");
	const struct sim_daemon *d[2] = {base, crowd};
	for (int i = 0; i < 2; i++) {
		char label[96];
		snprintf(label, sizeof label, "%s: %u processes", d[i]->name, d[i]->processes);
		printf("%-44s %15ld %9ld %9ld %7ld\n", label, d[i]->memory.rss - d[i]->memory.shmem,
		       d[i]->memory.anon, d[i]->memory.shmem, d[i]->memory.pte);
	}
	double added = (double)crowd->processes - (double)base->processes;
	printf("%-44s %15.2f %9.2f %9s %7.2f\n", "per added process",
	       (double)((crowd->memory.rss - crowd->memory.shmem) -
			(base->memory.rss - base->memory.shmem)) /
		       added,
	       (double)(crowd->memory.anon - base->memory.anon) / added, "",
	       (double)(crowd->memory.pte - base->memory.pte) / added);
	if (idle_rss >= 0)
		printf("each idle PackOS process is also a Linux process of its own: RSS %ld KiB, "
		       "PSS %ld KiB\n",
		       idle_rss, idle_pss);
}

/* ---- Options and main. */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_sim [--quick] [--repetitions N] [--rounds N] [--packets N]\n"
		"                 [--idle N] [--queued N] [--keep] [--packosd PATH]\n"
		"                 [--packosctl PATH] [--programs DIR] [--servers DIR]\n"
		"  --quick          a tiny run of everything, for CI (seconds)\n"
		"  --repetitions N  interleaved repetitions (default 7, max %d)\n"
		"  --rounds N       round trips per run (default 10000)\n"
		"  --packets N      frames per stream run (default 16384)\n"
		"  --idle N         idle processes in section 3 (default 1000)\n"
		"  --queued N       packets queued in section 3 (default 10000)\n"
		"  --keep           keep the temporary directory (manifests, daemon logs)\n",
		MAX_REPETITIONS);
}

static void parse_options(int argc, char **argv)
{
	unsigned long repetitions = 0, rounds = 0, packets = 0, idle = 0, queued = 0;
	opt = (struct options){.packosd = BENCH_SIM_PACKOSD,
			       .packosctl = BENCH_SIM_PACKOSCTL,
			       .program_dir = BENCH_SIM_PROGRAM_DIR,
			       .server_dir = BENCH_SIM_SERVER_DIR};
	parse_options_by_table(
		argc, argv,
		(const struct option_flag[]){
			{"--quick", &opt.quick}, {"--keep", &opt.keep}, {NULL, NULL}},
		(const struct option_number[]){{"--repetitions", MAX_REPETITIONS, &repetitions},
					       {"--rounds", 10000000, &rounds},
					       {"--packets", 10000000, &packets},
					       {"--idle", 60000, &idle},
					       {"--queued", 1000000, &queued},
					       {NULL, 0, NULL}},
		(const struct option_text[]){{"--packosd", &opt.packosd},
					     {"--packosctl", &opt.packosctl},
					     {"--programs", &opt.program_dir},
					     {"--servers", &opt.server_dir},
					     {NULL, NULL}},
		usage);
	opt.repetitions = opt.quick ? 2 : 7;
	opt.rtt_rounds = opt.quick ? 200 : 10000;
	opt.rtt_warmup = opt.quick ? 20 : 1000;
	opt.stream_packets = opt.quick ? 256 : 16384;
	opt.stream_warmup = opt.quick ? 64 : 1024;
	opt.idle = opt.quick ? 20 : 1000;
	opt.queued = opt.quick ? 500 : 10000;
	opt.copy_iterations = opt.quick ? 2000 : 50000;
	opt.cold_bytes = (size_t)(opt.quick ? 32 : 256) << 20;
	opt.watchdog_s = opt.quick ? 300 : 1800;
	if (repetitions)
		opt.repetitions = (unsigned)repetitions;
	if (rounds)
		opt.rtt_rounds = rounds;
	if (packets)
		opt.stream_packets = packets < BIG_FRAMES ? BIG_FRAMES : packets;
	if (idle)
		opt.idle = idle;
	if (queued)
		opt.queued = queued;
}

/* CPU a and b: the first two this process may run on. */
static void choose_cpus(void)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof allowed, &allowed) < 0)
		fail("sched_getaffinity: %s", strerror(errno));
	int found = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		if (found++ == 0)
			cpu_a = cpu;
		else
			cpu_b = cpu;
	}
	two_cpus = found == 2;
}

static void remove_tmpdir(const struct sim_daemon *daemons, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		if (!daemons[i].enabled)
			continue;
		unlink(daemons[i].manifest);
		unlink(daemons[i].log);
		unlink(daemons[i].control);
		char lock[PATH_MAX + 8];
		snprintf(lock, sizeof lock, "%s.lock", daemons[i].control);
		unlink(lock);
	}
	if (rmdir(tmpdir) < 0)
		fprintf(stderr, "bench_sim: cannot remove %s: %s\n", tmpdir, strerror(errno));
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);
	driver_start(opt.watchdog_s);
	choose_cpus();
	pin_or_fail(0, cpu_a);
	print_machine();
	fflush(stdout);

	enum { REMAP_1, SHARED_1, REMAP_2, SHARED_2, REMAP_APART, SHARED_APART, CROWD, DAEMONS };
	/* Every daemon serves kan-echo; those of section 2 also bench-sink. */
	struct sim_daemon daemons[DAEMONS] = {
		[REMAP_1] = {.name = "remap-1core", .isolation = "remap", .sink = true},
		[SHARED_1] = {.name = "shared-1core", .isolation = "shared", .sink = true},
		[REMAP_2] = {.name = "remap-2cores",
			     .isolation = "remap",
			     .placement = TWO_CORES,
			     .sink = true},
		[SHARED_2] = {.name = "shared-2cores",
			      .isolation = "shared",
			      .placement = TWO_CORES,
			      .sink = true},
		[REMAP_APART] = {.name = "remap-apart",
				 .isolation = "remap",
				 .placement = DAEMON_APART},
		[SHARED_APART] = {.name = "shared-apart",
				  .isolation = "shared",
				  .placement = DAEMON_APART},
		[CROWD] = {.name = "remap-crowd", .isolation = "remap", .crowd = true},
	};
	for (int i = 0; i < DAEMONS; i++)
		daemons[i].enabled = daemons[i].placement == ONE_CORE || two_cpus;
	fprintf(stderr, "bench_sim: starting packosd instances in %s\n", tmpdir);
	for (int i = 0; i < DAEMONS; i++)
		if (daemons[i].enabled)
			daemon_start(&daemons[i]);

	/* Section 1 rows, placement by placement; the crowd row of section 3 runs right
	 * after its reference, the remap one-core row. */
	struct rtt_row rtt[16];
	unsigned rtt_count = 0;
	for (int p = 0; p < PLACEMENT_COUNT; p++) {
		if (p != ONE_CORE && !two_cpus)
			continue;
		if (p != DAEMON_APART) {
			rtt[rtt_count++] = (struct rtt_row){
				.label = "pipe, 1 byte each way", .kind = RTT_PIPE, .placement = p};
			rtt[rtt_count++] = (struct rtt_row){
				.label = "futex wait/wake", .kind = RTT_FUTEX, .placement = p};
			rtt[rtt_count++] =
				(struct rtt_row){.label = "futex, 64 yields then wait (libpk)",
						 .kind = RTT_FUTEX_SPIN,
						 .placement = p};
		}
		int remap = p == ONE_CORE ? REMAP_1 : p == TWO_CORES ? REMAP_2 : REMAP_APART;
		int shared = p == ONE_CORE ? SHARED_1 : p == TWO_CORES ? SHARED_2 : SHARED_APART;
		rtt[rtt_count++] = (struct rtt_row){.label = "KAN remap",
						    .kind = RTT_KAN,
						    .placement = p,
						    .daemon = &daemons[remap]};
		rtt[rtt_count++] = (struct rtt_row){.label = "KAN shared",
						    .kind = RTT_KAN,
						    .placement = p,
						    .daemon = &daemons[shared]};
		if (p == ONE_CORE)
			rtt[rtt_count++] =
				(struct rtt_row){.label = "KAN shared, recv deadline 1 s",
						 .kind = RTT_KAN,
						 .placement = p,
						 .daemon = &daemons[shared],
						 .deadline = true};
	}
	struct rtt_row crowd_row = {.label = "KAN remap, crowded",
				    .kind = RTT_KAN,
				    .placement = ONE_CORE,
				    .daemon = &daemons[CROWD]};
	struct rtt_row *base_row = NULL;
	for (unsigned i = 0; i < rtt_count; i++)
		if (rtt[i].daemon == &daemons[REMAP_1])
			base_row = &rtt[i];

	for (unsigned rep = 0; rep < opt.repetitions; rep++) {
		fprintf(stderr, "bench_sim: round trips, repetition %u of %u\n", rep + 1,
			opt.repetitions);
		for (unsigned i = 0; i < rtt_count; i++) {
			rtt_run(&rtt[i], rep);
			if (&rtt[i] == base_row)
				rtt_run(&crowd_row, rep); /* beside its reference */
		}
	}

	struct stream_row streams[6];
	unsigned stream_count = 0;
	for (int p = ONE_CORE; p <= TWO_CORES; p++) {
		if (p != ONE_CORE && !two_cpus)
			continue;
		streams[stream_count++] =
			(struct stream_row){.label = "socketpair", .placement = p, .daemon = NULL};
		streams[stream_count++] =
			(struct stream_row){.label = "KAN remap",
					    .placement = p,
					    .daemon = &daemons[p == ONE_CORE ? REMAP_1 : REMAP_2]};
		streams[stream_count++] = (struct stream_row){
			.label = "KAN shared",
			.placement = p,
			.daemon = &daemons[p == ONE_CORE ? SHARED_1 : SHARED_2]};
	}
	for (unsigned rep = 0; rep < opt.repetitions; rep++) {
		fprintf(stderr, "bench_sim: bulk, repetition %u of %u\n", rep + 1, opt.repetitions);
		for (unsigned i = 0; i < stream_count; i++)
			for (int s = 0; s < 2; s++)
				stream_run(&streams[i], s, rep);
	}

	fprintf(stderr, "bench_sim: mapping and copying costs\n");
	struct copy_costs copy;
	measure_copy_costs(&copy);

	/* Memory last, once every daemon has done its work. */
	const int weighed[2] = {REMAP_1, CROWD};
	for (int i = 0; i < 2; i++) {
		struct sim_daemon *d = &daemons[weighed[i]];
		d->memory = (struct memory){proc_value(d->pid, "status", "VmRSS:"),
					    proc_value(d->pid, "status", "RssAnon:"),
					    proc_value(d->pid, "status", "RssShmem:"),
					    proc_value(d->pid, "status", "VmPTE:")};
		if (d->memory.rss < 0 || d->memory.anon < 0 || d->memory.shmem < 0)
			fail("%s: no memory figures in /proc/%d/status", d->name, (int)d->pid);
	}
	long idle_rss = -1, idle_pss = -1;
	if (daemons[CROWD].idle_pid) {
		idle_rss = proc_value(daemons[CROWD].idle_pid, "smaps_rollup", "Rss:");
		idle_pss = proc_value(daemons[CROWD].idle_pid, "smaps_rollup", "Pss:");
	}

	fprintf(stderr, "bench_sim: stopping the daemons\n");
	for (int i = 0; i < DAEMONS; i++)
		if (daemons[i].enabled)
			daemon_stop(&daemons[i]);

	report_rtt(rtt, rtt_count);
	report_streams(streams, stream_count);
	report_copy_costs(&copy, streams, stream_count);
	report_o1(base_row, &crowd_row, &daemons[CROWD]);
	report_memory(&daemons[REMAP_1], &daemons[CROWD], idle_rss, idle_pss);
	printf("\nTiming is reported, never asserted; bench/README.md says how to read this.\n");
	fflush(stdout);

	for (unsigned i = 0; i < rtt_count; i++)
		free(rtt[i].samples.value);
	free(crowd_row.samples.value);
	if (opt.keep)
		fprintf(stderr, "bench_sim: manifests and logs kept in %s\n", tmpdir);
	else
		remove_tmpdir(daemons, DAEMONS);
	return 0;
}
