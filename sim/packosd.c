/* packosd: the PackOS kernel as a Linux daemon.
 *
 * It hosts the kernel core, keeps every frame in one memfd, starts the boot manifest's
 * programs as Linux processes and serves their kernel calls from one io_uring loop (see
 * docs/sim.md). One instance per control socket: a lock file beside the socket says
 * which process holds it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "daemon.h"

enum {
	DEFAULT_FRAMES = 16384,
	DEFAULT_MAX_PROCS = 1024,
	DEFAULT_QUEUE_LIMIT = 256,
	/* Long enough to span a program's turn between two calls of a conversation on one
	 * core (docs/performance.md), short enough that an idle daemon sleeps at once. */
	DEFAULT_POLL_US = 50,
	/* The kernel's own default; a faster clock costs a wake-up per tick. */
	DEFAULT_TICK_US = 10000,
	MIN_TICK_US = 100,
	/* Multicast (docs/multicast.md): groups at once, a group's ring of packets, and share
	 * records per process (one per frame a process holds a share of). */
	SIM_MAX_GROUPS = 256,
	SIM_GROUP_DEPTH = 64,
	SIM_SHARES_PER_PROC = 16,
};

/* Locally administered (the 0x02 bit), "pk" and a number: never a real vendor's. */
static const uint8_t DEFAULT_NIC_MAC[6] = {0x02, 0x70, 0x6b, 0x00, 0x00, 0x01};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: packosd [OPTION]...\n"
		"Runs the PackOS kernel and the programs of a boot manifest.\n\n"
		"  --manifest FILE       boot manifest (default: the embedded one)\n"
		"  --control PATH        control socket (default: as packosctl finds it)\n"
		"  --frames N            frames in the pool, 4 KiB each (default %d)\n"
		"  --max-procs N         processes alive at once (default %d)\n"
		"  --queue-limit N       packets queued at one endpoint (default %d)\n"
		"  --isolation MODE      remap (default) or shared; see docs/sim.md\n"
		"  --poll-us N           poll busy programs' rings for N us before sleeping\n"
		"                        (default %d; 0: never, every call rings a doorbell)\n"
		"  --tick-us N           the kernel clock's period, for tick_subscribe\n"
		"                        (default %d: %d ticks a second)\n"
		"  --pcap FILE           capture every KAN packet to FILE (LINKTYPE_IPV6)\n"
		"  --tap NAME            the NIC's wire: TAP device NAME (see scripts/host-net);\n"
		"                        without it the NIC's link is down\n"
		"  --nic-mtu N           the link's MTU (default 1500; 1280 to 4096)\n"
		"  --nic-mac MAC         the NIC's address (default 02:70:6b:00:00:01)\n"
		"  --wire FAULTS         inject faults on the wire, each way: any of\n"
		"                        drop=PCT,corrupt=PCT,duplicate=PCT,reorder=PCT,\n"
		"                        delay=MS,seed=N (docs/network.md)\n"
		"  --path DIR            look for programs in DIR (repeatable; searched first)\n"
		"  --daemon              detach; return once the control socket is up\n"
		"  --pid-file FILE       write the daemon's pid to FILE\n"
		"  --syslog              log to syslog (the default with --daemon)\n"
		"  --help, --version\n",
		DEFAULT_FRAMES, DEFAULT_MAX_PROCS, DEFAULT_QUEUE_LIMIT, DEFAULT_POLL_US,
		DEFAULT_TICK_US, 1000000 / DEFAULT_TICK_US);
}

static int parse_count(const char *text, const char *what, uint32_t max, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value == 0 || value > max) {
		fprintf(stderr, "packosd: %s must be a number from 1 to %u, not '%s'\n", what, max,
			text);
		return -1;
	}
	*ret = (uint32_t)value;
	return 0;
}

/* Six hex pairs split by colons, and not a group address (the low bit of the first). */
static int parse_mac(const char *text, uint8_t ret[6])
{
	unsigned bytes[6];
	char tail;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3],
		   &bytes[4], &bytes[5], &tail) != 6 ||
	    strlen(text) != 17 || (bytes[0] & 1))
		return -1;
	for (int i = 0; i < 6; i++)
		ret[i] = (uint8_t)bytes[i];
	return 0;
}

static int add_program_dir(struct daemon_options *opt, const char *dir)
{
	if (opt->program_dir_count == sizeof opt->program_dirs / sizeof opt->program_dirs[0]) {
		fprintf(stderr, "packosd: too many program directories\n");
		return -1;
	}
	opt->program_dirs[opt->program_dir_count++] = dir;
	return 0;
}

/* Programs are found beside packosd: in the build tree (../servers) and once installed
 * (the libexec directory). */
static void add_default_program_dirs(struct daemon_options *opt)
{
	static char exe_dir[PATH_MAX], servers_dir[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
	if (n > 0) {
		exe_dir[n] = '\0';
		dirname(exe_dir);
		snprintf(servers_dir, sizeof servers_dir, "%s/../servers", exe_dir);
		add_program_dir(opt, servers_dir);
		add_program_dir(opt, exe_dir);
	}
	add_program_dir(opt, PACKOS_LIBEXEC_DIR);
}

static int parse_options(int argc, char **argv, struct daemon_options *opt, uint32_t *max_procs)
{
	enum {
		OPT_MANIFEST = 256,
		OPT_CONTROL,
		OPT_FRAMES,
		OPT_MAX_PROCS,
		OPT_QUEUE_LIMIT,
		OPT_ISOLATION,
		OPT_POLL_US,
		OPT_TICK_US,
		OPT_PCAP,
		OPT_TAP,
		OPT_NIC_MTU,
		OPT_NIC_MAC,
		OPT_WIRE,
		OPT_PATH,
		OPT_DAEMON,
		OPT_PID_FILE,
		OPT_SYSLOG,
		OPT_HELP,
		OPT_VERSION
	};
	static const struct option options[] = {
		{"manifest", required_argument, NULL, OPT_MANIFEST},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"frames", required_argument, NULL, OPT_FRAMES},
		{"max-procs", required_argument, NULL, OPT_MAX_PROCS},
		{"queue-limit", required_argument, NULL, OPT_QUEUE_LIMIT},
		{"isolation", required_argument, NULL, OPT_ISOLATION},
		{"poll-us", required_argument, NULL, OPT_POLL_US},
		{"tick-us", required_argument, NULL, OPT_TICK_US},
		{"pcap", required_argument, NULL, OPT_PCAP},
		{"tap", required_argument, NULL, OPT_TAP},
		{"nic-mtu", required_argument, NULL, OPT_NIC_MTU},
		{"nic-mac", required_argument, NULL, OPT_NIC_MAC},
		{"wire", required_argument, NULL, OPT_WIRE},
		{"path", required_argument, NULL, OPT_PATH},
		{"daemon", no_argument, NULL, OPT_DAEMON},
		{"pid-file", required_argument, NULL, OPT_PID_FILE},
		{"syslog", no_argument, NULL, OPT_SYSLOG},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	opt->frames = DEFAULT_FRAMES;
	opt->queue_limit = DEFAULT_QUEUE_LIMIT;
	opt->isolation = PK_ISOLATION_REMAP;
	opt->poll_us = DEFAULT_POLL_US;
	opt->tick_us = DEFAULT_TICK_US;
	opt->nic_mtu = PK_NIC_ETHERNET_MTU;
	memcpy(opt->nic_mac, DEFAULT_NIC_MAC, sizeof opt->nic_mac);
	*max_procs = DEFAULT_MAX_PROCS;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_MANIFEST:
			opt->manifest_path = optarg;
			break;
		case OPT_CONTROL:
			opt->control_path = optarg;
			break;
		case OPT_FRAMES:
			if (parse_count(optarg, "--frames", 1u << 24, &opt->frames) < 0)
				return -1;
			break;
		case OPT_MAX_PROCS:
			if (parse_count(optarg, "--max-procs", 1u << 16, max_procs) < 0)
				return -1;
			break;
		case OPT_QUEUE_LIMIT:
			if (parse_count(optarg, "--queue-limit", 1u << 24, &opt->queue_limit) < 0)
				return -1;
			break;
		case OPT_ISOLATION:
			if (strcmp(optarg, "remap") == 0) {
				opt->isolation = PK_ISOLATION_REMAP;
			} else if (strcmp(optarg, "shared") == 0) {
				opt->isolation = PK_ISOLATION_SHARED;
			} else {
				fprintf(stderr,
					"packosd: --isolation is remap or shared, not '%s' "
					"(enforced "
					"is designed in docs/sim.md, not built yet)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_POLL_US:
			/* 0 is allowed here: no polling at all. */
			if (strcmp(optarg, "0") == 0)
				opt->poll_us = 0;
			else if (parse_count(optarg, "--poll-us", 1000000, &opt->poll_us) < 0)
				return -1;
			break;
		case OPT_TICK_US:
			if (parse_count(optarg, "--tick-us", 10000000, &opt->tick_us) < 0)
				return -1;
			if (opt->tick_us < MIN_TICK_US) {
				fprintf(stderr, "packosd: --tick-us is at least %d\n", MIN_TICK_US);
				return -1;
			}
			break;
		case OPT_PCAP:
			opt->pcap_path = optarg;
			break;
		case OPT_TAP:
			opt->tap_name = optarg;
			break;
		case OPT_NIC_MTU:
			if (parse_count(optarg, "--nic-mtu", PK_FRAME_SIZE, &opt->nic_mtu) < 0)
				return -1;
			if (opt->nic_mtu < 1280) {
				fprintf(stderr,
					"packosd: --nic-mtu is at least 1280 (IPv6's minimum)\n");
				return -1;
			}
			break;
		case OPT_NIC_MAC:
			if (parse_mac(optarg, opt->nic_mac) < 0) {
				fprintf(stderr,
					"packosd: --nic-mac wants a unicast MAC like "
					"02:70:6b:00:00:01, "
					"not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case OPT_WIRE: {
			const char *why = NULL;
			if (wire_faults_parse(optarg, &opt->wire_faults, &why) < 0) {
				fprintf(stderr, "packosd: --wire '%s': %s\n", optarg, why);
				return -1;
			}
			break;
		}
		case OPT_PATH:
			if (add_program_dir(opt, optarg) < 0)
				return -1;
			break;
		case OPT_DAEMON:
			opt->daemonize = true;
			opt->syslog = true;
			break;
		case OPT_PID_FILE:
			opt->pid_file = optarg;
			break;
		case OPT_SYSLOG:
			opt->syslog = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("packosd %s\n", PACKOS_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "packosd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	add_default_program_dirs(opt);
	return 0;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	if (errno == ENOENT && make_parent_dir(dir) == 0 && mkdir(dir, 0755) == 0)
		return 0;
	fprintf(stderr, "packosd: cannot create %s: %s\n", dir, strerror(errno));
	return -1;
}

/* Takes the instance lock beside the control socket, or says who holds it. */
static int take_instance_lock(struct daemon *d, char *lock_path, size_t size)
{
	snprintf(lock_path, size, "%s.lock", d->opt.control_path);
	d->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->lock_fd < 0) {
		fprintf(stderr, "packosd: %s: %s\n", lock_path, strerror(errno));
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(d->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "packosd: another packosd (pid %s) is running on %s\n",
			pid[0] ? pid : "?", d->opt.control_path);
		return -1;
	}
	return 0;
}

static void write_pid(int fd)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n)
		log_error("cannot record the pid: %s", strerror(errno));
}

static int write_pid_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	write_pid(fd);
	close(fd);
	return 0;
}

/* Enough descriptors for every process's pidfd and doorbell. */
static void raise_fd_limit(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

static int start_kernel(struct daemon *d, uint32_t max_procs)
{
	d->pool_fd = memfd_create("packos-frames", MFD_CLOEXEC);
	size_t pool_size = (size_t)d->opt.frames * PK_FRAME_SIZE;
	if (d->pool_fd < 0 || ftruncate(d->pool_fd, (off_t)pool_size) < 0) {
		log_error("frame pool: %s", strerror(errno));
		return -1;
	}
	d->pool = mmap(NULL, pool_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->pool_fd, 0);
	if (d->pool == MAP_FAILED) {
		log_error("mapping the frame pool: %s", strerror(errno));
		return -1;
	}
	kernel_config_default(&d->kcfg);
	d->kcfg.frame_memory = d->pool;
	d->kcfg.frame_count = d->opt.frames;
	d->kcfg.max_procs = max_procs;
	d->kcfg.max_endpoints = 4 * max_procs;
	d->kcfg.max_contexts = 4 * max_procs;
	d->kcfg.queue_limit = d->opt.queue_limit;
	d->kcfg.tick_ns = (uint64_t)d->opt.tick_us * 1000u;
	/* The core's multicast defaults fit the x86 port's fixed arena; here every process may
	 * be a member of one group, every endpoint of a few, and a member may fall a ring of
	 * SIM_GROUP_DEPTH packets behind before it loses any. */
	d->kcfg.group_members = max_procs;
	d->kcfg.max_memberships = d->kcfg.max_endpoints;
	d->kcfg.max_groups = SIM_MAX_GROUPS;
	d->kcfg.group_depth = SIM_GROUP_DEPTH;
	d->kcfg.max_shares = SIM_SHARES_PER_PROC * max_procs;
	if (getrandom(&d->kcfg.hash_seed, sizeof d->kcfg.hash_seed, 0) != sizeof d->kcfg.hash_seed)
		log_error("getrandom: %s; the address hash is keyed predictably", strerror(errno));
	size_t arena_size = kernel_arena_size(&d->kcfg);
	d->arena = arena_size ? aligned_alloc(_Alignof(max_align_t), (arena_size + 63) / 64 * 64)
			      : NULL;
	struct kport port = {.ops = &linux_port_ops, .ctx = d};
	if (d->arena == NULL ||
	    kernel_init(&d->kcfg, &port, d->arena, arena_size, &d->kernel) < 0) {
		log_error("the kernel refused its configuration");
		return -1;
	}
	return 0;
}

static int boot(struct daemon *d)
{
	struct manifest m;
	char err[512];
	int loaded = d->opt.manifest_path
			     ? manifest_load(d->opt.manifest_path, d->kcfg.kan_prefix, &m, err,
					     sizeof err)
			     : manifest_parse(manifest_default_text, "default manifest",
					      d->kcfg.kan_prefix, &m, err, sizeof err);
	if (loaded < 0) {
		log_error("%s", err);
		return -1;
	}
	static const int no_stdio[3] = {-1, -1, -1};
	int result = 0;
	for (unsigned i = 0; i < m.count && result == 0; i++) {
		if (proc_spawn(d, &m.entries[i], no_stdio, err, sizeof err) < 0) {
			log_error("boot: %s: %s", m.entries[i].name, err);
			result = -1;
		}
	}
	manifest_free(&m);
	return result;
}

/* With a wire, the processes are reachable from the host: say where. */
static void announce_addresses(struct daemon *d)
{
	for (uint32_t i = 0; i < d->proc_capacity; i++) {
		struct sim_proc *p = &d->procs[i];
		if (p->state != PROC_RUNNING)
			continue;
		char addresses[256];
		proc_addresses(d, p, addresses, sizeof addresses);
		log_info("from the host (%s): ping -6 %s", p->name, addresses);
	}
}

/* A daemon keeps nothing of its caller's: not its terminal, not the pipe a script reads
 * to the end (`out=$(packosd --daemon)` would never return). The programs started at boot
 * inherit stdout and stderr, so this happens before them; with --daemon the log goes to
 * syslog. */
static void drop_caller_stdio(void)
{
	int null_fd = open("/dev/null", O_RDWR);
	if (null_fd < 0)
		return;
	dup2(null_fd, STDIN_FILENO);
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);
	if (null_fd > STDERR_FILENO)
		close(null_fd);
}

/* --daemon: the parent waits until the daemon is serving (or has failed), so a script
 * can use the control socket as soon as packosd returns. */
static int detach(int *ready_fd)
{
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(pipe_fds[1]);
		char ok = 0;
		ssize_t n = read(pipe_fds[0], &ok, 1);
		if (n != 1 || ok != 1)
			fprintf(stderr, "packosd: the daemon did not start; see syslog\n");
		_exit(n == 1 && ok == 1 ? 0 : 1);
	}
	close(pipe_fds[0]);
	setsid();
	drop_caller_stdio();
	*ready_fd = pipe_fds[1];
	return 0;
}

static void report_ready(int *ready_fd, char ok)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &ok, 1) != 1)
		log_error("cannot tell the starting process we are ready");
	close(*ready_fd);
	*ready_fd = -1;
}

int main(int argc, char **argv)
{
	static struct daemon daemon = {.listen_fd = -1,
				       .signal_fd = -1,
				       .lock_fd = -1,
				       .pool_fd = -1,
				       .nic = {.region_fd = -1, .kick_fd = -1, .tap_fd = -1},
				       .clock = {.fd = -1}};
	struct daemon *d = &daemon;
	uint32_t max_procs;
	char control_path[PATH_MAX], lock_path[PATH_MAX + 8];
	int ready_fd = -1, status = 1;

	if (parse_options(argc, argv, &d->opt, &max_procs) < 0)
		return 2;
	if (d->opt.control_path == NULL) {
		if (ctl_default_socket_path(control_path, sizeof control_path) < 0) {
			fprintf(stderr, "packosd: no room for the control socket path\n");
			return 1;
		}
		d->opt.control_path = control_path;
	}
	if (make_parent_dir(d->opt.control_path) < 0 ||
	    take_instance_lock(d, lock_path, sizeof lock_path) < 0)
		return 1;
	if (d->opt.daemonize && detach(&ready_fd) < 0) {
		fprintf(stderr, "packosd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	log_open(d->opt.syslog);
	write_pid(d->lock_fd);
	raise_fd_limit();
	clock_gettime(CLOCK_MONOTONIC, &d->started);

	if (start_kernel(d, max_procs) < 0 || procs_init(d) < 0 || loop_init(d) < 0 ||
	    control_listen(d) < 0)
		goto out;
	if (d->opt.pid_file && write_pid_file(d->opt.pid_file) < 0)
		goto out;
	char err[256];
	if (clock_init(d, err, sizeof err) < 0 || nic_init(d, err, sizeof err) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (d->opt.pcap_path && capture_open(d->opt.pcap_path, &d->capture, err, sizeof err) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (boot(d) < 0) {
		loop_begin_stop(d);
		loop_run(d);
		goto out;
	}
	log_info("ready: %u processes, %u frames, %s isolation, control %s", d->live_procs,
		 d->opt.frames, d->opt.isolation == PK_ISOLATION_SHARED ? "shared" : "remap",
		 d->opt.control_path);
	if (d->opt.tap_name != NULL)
		announce_addresses(d);
	report_ready(&ready_fd, 1);
	status = loop_run(d) == 0 ? 0 : 1;

	const char *why = "ok";
	struct kernel_stats st;
	kernel_stats(d->kernel, &st);
	if (kernel_audit(d->kernel, &why) < 0 || st.frames_free != st.frames_total) {
		log_error("at exit: audit %s, %u of %u frames free", why, st.frames_free,
			  st.frames_total);
		status = 1;
	} else {
		log_info("stopped; all %u frames back in the pool", st.frames_total);
	}
out:
	report_ready(&ready_fd, 0);
	if (d->conns != NULL || d->listen_fd >= 0)
		control_close_all(d);
	capture_close(d->capture);
	trace_free(&d->trace);
	nic_fini(d);
	clock_fini(d);
	if (d->ring.ring_fd > 0)
		io_uring_queue_exit(&d->ring);
	procs_fini(d);
	free(d->arena);
	if (d->pool != NULL && d->pool != MAP_FAILED)
		munmap(d->pool, (size_t)d->opt.frames * PK_FRAME_SIZE);
	if (d->pool_fd >= 0)
		close(d->pool_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->opt.pid_file)
		unlink(d->opt.pid_file);
	unlink(lock_path);
	close(d->lock_fd);
	return status;
}
