/* bench_mcast: multicast delivery with the kernel's groups against the multicast server
 * (docs/multicast.md), to 1, 10 and 100 members, in one run of one packosd.
 *
 * The daemon boots the server and, for each design and size, that many bench-mcast-member
 * processes in a group of their own. bench-mcast-send (bench/programs) then measures, per
 * configuration and repetition:
 *
 *   latency     rounds of one 64-byte packet: from the send to the time the last member
 *               received it (each member acks with its receive time; the clock is the
 *               machine's monotonic one, the same in every process);
 *   throughput  packets sent in windows of 16, two windows in flight, each window's last
 *               packet acked by every member: packets per second delivered to all.
 *
 * The repetitions of all configurations are interleaved, so drift in clock or load hits
 * them alike. Nothing is pinned: 200-odd processes share the machine's CPUs as the
 * scheduler places them. Timing is never asserted: the exit status is non-zero only if the
 * daemon or a program fails, or the daemon's audit at exit finds a frame missing. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "driver.h"

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

#define SIZES		  3
#define DESIGNS		  2
#define THROUGHPUT_WINDOW 16
#define GROUP_TEXT_SIZE	  40

static const unsigned sizes[SIZES] = {1, 10, 100};
static const char *const designs[DESIGNS] = {"kernel", "server"};

struct options {
	bool quick, keep;
	unsigned repetitions;
	unsigned long rounds, warmup, packets;
	unsigned watchdog_s;
	const char *packosd, *packosctl, *program_dir, *server_dir;
};

static struct options opt;

struct daemon {
	pid_t pid;
	char control[PATH_MAX], manifest[PATH_MAX], log[PATH_MAX];
};

/* One design at one size. */
struct config {
	int design;
	unsigned members;
	char group[GROUP_TEXT_SIZE];
	struct samples latency_ns;
	double packets_per_s[MAX_REPETITIONS];
	uint64_t retries;
};

static void tmp_path(char *ret, const char *name)
{
	if (snprintf(ret, PATH_MAX, "%s/%s", tmpdir, name) >= PATH_MAX)
		fail("the temporary directory's path is too long");
}

static void group_of(int design, unsigned members, char ret[GROUP_TEXT_SIZE])
{
	snprintf(ret, GROUP_TEXT_SIZE, "ff02::%d:%u", design + 1, members);
}

static unsigned total_members(void)
{
	unsigned n = 0;
	for (int s = 0; s < SIZES; s++)
		n += sizes[s];
	return DESIGNS * n;
}

static void write_manifest(const struct daemon *d)
{
	FILE *f = fopen(d->manifest, "w");
	if (!f)
		fail("%s: %s", d->manifest, strerror(errno));
	fprintf(f, "# bench_mcast\nmcast mcast-server address=::6d\n");
	for (int design = 0; design < DESIGNS; design++) {
		for (int s = 0; s < SIZES; s++) {
			char group[GROUP_TEXT_SIZE];
			group_of(design, sizes[s], group);
			for (unsigned i = 0; i < sizes[s]; i++)
				fprintf(f, "%c%u-%u bench-mcast-member -- -d %s %s\n",
					designs[design][0], sizes[s], i, designs[design], group);
		}
	}
	if (fclose(f) != 0)
		fail("%s: %s", d->manifest, strerror(errno));
}

static unsigned log_count(const struct daemon *d, const char *text)
{
	int fd = open(d->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("%s: %s", d->log, strerror(errno));
	char *log = read_all(fd, now_ns() + 10 * UINT64_C(1000000000));
	close(fd);
	unsigned n = 0;
	for (const char *at = log ? strstr(log, text) : NULL; at; at = strstr(at + 1, text))
		n++;
	free(log);
	return n;
}

static void daemon_start(struct daemon *d)
{
	tmp_path(d->control, "packosd.sock");
	tmp_path(d->manifest, "manifest");
	tmp_path(d->log, "packosd.log");
	write_manifest(d);
	struct args a = {0};
	args_add(&a, "%s", opt.packosd);
	args_add(&a, "--manifest");
	args_add(&a, "%s", d->manifest);
	args_add(&a, "--control");
	args_add(&a, "%s", d->control);
	args_add(&a, "--path");
	args_add(&a, "%s", opt.program_dir);
	args_add(&a, "--path");
	args_add(&a, "%s", opt.server_dir);
	int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log < 0)
		fail("%s: %s", d->log, strerror(errno));
	d->pid = spawn(a.argv, -1, log, log, -1, SIGTERM);
	close(log);
	register_daemon(d->pid, true);
	/* Nothing is timed before every member has joined its group. */
	uint64_t deadline = now_ns() + 120 * UINT64_C(1000000000);
	while (log_count(d, ": joined") < total_members()) {
		if (wait_child(d->pid, 0) >= 0)
			fail("packosd exited at start; see %s", d->log);
		if (now_ns() > deadline)
			fail("the members did not all join within 120 s; see %s", d->log);
		sleep_ms(10);
	}
}

/* bench-mcast-send with `mode_args` for configuration `c`; returns what it printed. */
static char *run_sender(const struct daemon *d, const struct config *c, const struct args *mode)
{
	struct args a = {0};
	args_add(&a, "%s", opt.packosctl);
	args_add(&a, "--socket");
	args_add(&a, "%s", d->control);
	args_add(&a, "run");
	args_add(&a, "bench-mcast-send");
	args_add(&a, "--");
	args_add(&a, "-d");
	args_add(&a, "%s", designs[c->design]);
	args_add(&a, "-a");
	args_add(&a, "%u", c->members);
	for (unsigned i = 0; i < mode->count; i++)
		args_add(&a, "%s", mode->argv[i]);
	args_add(&a, "%s", c->group);
	int status;
	char *output = run_captured(a.argv, 600, &status);
	if (!output || status != 0)
		fail("bench-mcast-send, %s design, %u members: status %d; see %s",
		     designs[c->design], c->members, status, d->log);
	return output;
}

static void measure_latency(const struct daemon *d, struct config *c)
{
	struct args mode = {0};
	args_add(&mode, "-L");
	args_add(&mode, "-n");
	args_add(&mode, "%lu", opt.rounds);
	args_add(&mode, "-u");
	args_add(&mode, "%lu", opt.warmup);
	char *output = run_sender(d, c, &mode);
	unsigned long rounds;
	char *line = strchr(output, '\n');
	if (sscanf(output, "bench-mcast-send latency rounds=%lu", &rounds) != 1 ||
	    rounds != opt.rounds || !line)
		fail("bench-mcast-send printed no latency header: %.200s", output);
	for (unsigned long i = 0; i < rounds; i++) {
		char *end;
		unsigned long long ns = strtoull(line, &end, 10);
		if (end == line)
			fail("bench-mcast-send printed %lu rounds of %lu", i, rounds);
		samples_push(&c->latency_ns, (double)ns);
		line = end;
	}
	free(output);
}

static void measure_throughput(const struct daemon *d, struct config *c, unsigned rep)
{
	struct args mode = {0};
	args_add(&mode, "-n");
	args_add(&mode, "%lu", opt.packets);
	args_add(&mode, "-w");
	args_add(&mode, "%d", THROUGHPUT_WINDOW);
	char *output = run_sender(d, c, &mode);
	unsigned long long packets, ns, retries;
	if (sscanf(output, "bench-mcast-send throughput packets=%llu ns=%llu retries=%llu",
		   &packets, &ns, &retries) != 3 ||
	    ns == 0)
		fail("bench-mcast-send printed %.200s", output);
	free(output);
	c->packets_per_s[rep] = (double)packets * 1e9 / (double)ns;
	c->retries += retries;
}

/* ---- Reporting. */

static void print_machine(void)
{
	struct utsname u;
	uname(&u);
	printf("bench_mcast: multicast delivery, the kernel's groups against the multicast "
	       "server, one run\n");
	printf("machine: %ld CPUs online, %s %s (%s); nothing pinned\n",
	       sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine);
	printf("run: %u repetitions, configurations interleaved; latency %lu rounds (+%lu "
	       "warmup), throughput %lu packets in windows of %d%s\n",
	       opt.repetitions, opt.rounds, opt.warmup, opt.packets, THROUGHPUT_WINDOW,
	       opt.quick ? " (--quick: tiny sizes, figures only show that it runs)" : "");
}

static void report(struct config *configs)
{
	printf("\nLatency, us from the send to the last member's receipt (median, p99 of all "
	       "rounds),\nand throughput, packets/s delivered to every member (median of the "
	       "repetitions):\n");
	printf("%8s %17s %17s %9s %12s %12s %9s\n", "members", "kernel med/p99", "server med/p99",
	       "srv/kern", "kernel pkt/s", "server pkt/s", "kern/srv");
	for (int s = 0; s < SIZES; s++) {
		struct config *k = &configs[s], *v = &configs[SIZES + s];
		double k_med = percentile(k->latency_ns.value, k->latency_ns.count, 0.5) / 1e3;
		double k_p99 = percentile(k->latency_ns.value, k->latency_ns.count, 0.99) / 1e3;
		double v_med = percentile(v->latency_ns.value, v->latency_ns.count, 0.5) / 1e3;
		double v_p99 = percentile(v->latency_ns.value, v->latency_ns.count, 0.99) / 1e3;
		double k_rate = median_of(k->packets_per_s, opt.repetitions);
		double v_rate = median_of(v->packets_per_s, opt.repetitions);
		char k_lat[32], v_lat[32];
		snprintf(k_lat, sizeof k_lat, "%.1f / %.1f", k_med, k_p99);
		snprintf(v_lat, sizeof v_lat, "%.1f / %.1f", v_med, v_p99);
		printf("%8u %17s %17s %9.2f %12.0f %12.0f %9.2f\n", sizes[s], k_lat, v_lat,
		       v_med / k_med, k_rate, v_rate, k_rate / v_rate);
	}
	uint64_t retries = 0;
	for (int i = 0; i < SIZES * DESIGNS; i++)
		retries += configs[i].retries;
	printf("sends refused because the destination's queue was full, tried again: %" PRIu64 "\n",
	       retries);
	printf("\nTiming is reported, never asserted; bench/README.md says how to read this.\n");
}

/* ---- Options and main. */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_mcast [--quick] [--repetitions N] [--rounds N] [--packets N] "
		"[--keep]\n"
		"  --quick          a tiny run, for CI (seconds)\n"
		"  --repetitions N  interleaved repetitions (default 5, max %d)\n"
		"  --rounds N       latency rounds per run (default 500)\n"
		"  --packets N      packets per throughput run (default 5000)\n"
		"  --keep           keep the temporary directory (manifest, daemon log)\n",
		MAX_REPETITIONS);
}

static void parse_options(int argc, char **argv)
{
	unsigned long repetitions = 0, rounds = 0, packets = 0;
	opt = (struct options){.packosd = BENCH_SIM_PACKOSD,
			       .packosctl = BENCH_SIM_PACKOSCTL,
			       .program_dir = BENCH_SIM_PROGRAM_DIR,
			       .server_dir = BENCH_SIM_SERVER_DIR};
	parse_options_by_table(
		argc, argv,
		(const struct option_flag[]){
			{"--quick", &opt.quick}, {"--keep", &opt.keep}, {NULL, NULL}},
		(const struct option_number[]){{"--repetitions", MAX_REPETITIONS, &repetitions},
					       {"--rounds", 1000000, &rounds},
					       {"--packets", 10000000, &packets},
					       {NULL, 0, NULL}},
		(const struct option_text[]){{NULL, NULL}}, usage);
	opt.repetitions = repetitions ? (unsigned)repetitions : opt.quick ? 2 : 5;
	opt.rounds = rounds ? rounds : opt.quick ? 20 : 500;
	opt.warmup = opt.quick ? 5 : 50;
	opt.packets = packets ? packets : opt.quick ? 64 : 5000;
	if (opt.packets < THROUGHPUT_WINDOW)
		opt.packets = THROUGHPUT_WINDOW;
	opt.watchdog_s = opt.quick ? 300 : 1800;
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);
	driver_start(opt.watchdog_s);
	print_machine();
	fflush(stdout);

	struct daemon d;
	fprintf(stderr, "bench_mcast: starting packosd and %u members in %s\n", total_members(),
		tmpdir);
	daemon_start(&d);
	struct config configs[DESIGNS * SIZES];
	for (int design = 0; design < DESIGNS; design++) {
		for (int s = 0; s < SIZES; s++) {
			struct config *c = &configs[design * SIZES + s];
			*c = (struct config){.design = design, .members = sizes[s]};
			group_of(design, sizes[s], c->group);
		}
	}
	for (unsigned rep = 0; rep < opt.repetitions; rep++) {
		fprintf(stderr, "bench_mcast: repetition %u of %u\n", rep + 1, opt.repetitions);
		/* Size by size, the two designs one after the other. */
		for (int s = 0; s < SIZES; s++) {
			for (int design = 0; design < DESIGNS; design++) {
				struct config *c = &configs[design * SIZES + s];
				measure_latency(&d, c);
				measure_throughput(&d, c, rep);
			}
		}
	}
	fprintf(stderr, "bench_mcast: stopping the daemon\n");
	stop_daemon(d.pid, "packosd", d.log);
	report(configs);
	for (int i = 0; i < DESIGNS * SIZES; i++)
		free(configs[i].latency_ns.value);
	if (opt.keep) {
		fprintf(stderr, "bench_mcast: manifest and log kept in %s\n", tmpdir);
	} else {
		unlink(d.manifest);
		unlink(d.log);
		unlink(d.control);
		char lock[PATH_MAX + 8];
		snprintf(lock, sizeof lock, "%s.lock", d.control);
		unlink(lock);
		if (rmdir(tmpdir) < 0)
			fprintf(stderr, "bench_mcast: cannot remove %s: %s\n", tmpdir,
				strerror(errno));
	}
	return 0;
}
