/* What the benchmarks that drive real daemons share (driver.h): failing with the daemons
 * stopped, the watchdog, pinning, statistics, argv building, children and their output. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include "driver.h"

char tmpdir[PATH_MAX];

/* ---- Failing, and the watchdog: daemons alive are stopped on the way out. */

static volatile sig_atomic_t live_daemon[MAX_DAEMONS];

void stop_live_daemons(int signal)
{
	for (int i = 0; i < MAX_DAEMONS; i++)
		if (live_daemon[i] > 0)
			kill((pid_t)live_daemon[i], signal);
}

void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (tmpdir[0])
		fprintf(stderr, "%s: manifests and daemon logs are kept in %s\n",
			program_invocation_short_name, tmpdir);
	stop_live_daemons(SIGTERM);
	exit(1);
}

void on_signal(int signal)
{
	static const char watchdog[] = ": watchdog: the run is hung; stopping it\n";
	static const char stopped[] = ": interrupted; stopping the daemons\n";
	static const char kept[] = "manifests and daemon logs are kept in ";
	const char *msg = signal == SIGALRM ? watchdog : stopped;
	size_t len = signal == SIGALRM ? sizeof watchdog - 1 : sizeof stopped - 1;
	size_t dir_len = 0, name_len = strlen(program_invocation_short_name);
	while (dir_len < sizeof tmpdir && tmpdir[dir_len])
		dir_len++;
	if (write(STDERR_FILENO, program_invocation_short_name, name_len) < 0 ||
	    write(STDERR_FILENO, msg, len) < 0 || write(STDERR_FILENO, kept, sizeof kept - 1) < 0 ||
	    write(STDERR_FILENO, tmpdir, dir_len) < 0 || write(STDERR_FILENO, "\n", 1) < 0) {
		/* nothing more to say */
	}
	stop_live_daemons(SIGKILL); /* their processes die with them (PR_SET_PDEATHSIG) */
	_exit(1);
}

void register_daemon(pid_t pid, bool alive)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		if (alive && live_daemon[i] == 0) {
			live_daemon[i] = pid;
			return;
		}
		if (!alive && live_daemon[i] == pid) {
			live_daemon[i] = 0;
			return;
		}
	}
	if (alive)
		fail("more than %d daemons", MAX_DAEMONS);
}

/* ---- Small helpers. */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int pin(pid_t pid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof set, &set);
}

void pin_or_fail(pid_t pid, int cpu)
{
	if (pin(pid, cpu) < 0)
		fail("cannot pin pid %d to CPU %d: %s", (int)pid, cpu, strerror(errno));
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The value at rank `fraction` (0.5: the median) of `count` values; sorts them. */
double percentile(double *values, size_t count, double fraction)
{
	if (count == 0)
		return 0;
	qsort(values, count, sizeof *values, compare_doubles);
	size_t index = (size_t)(fraction * (double)count);
	return values[index < count ? index : count - 1];
}

double median_of(const double *values, unsigned count)
{
	double copy[MAX_REPETITIONS];
	memcpy(copy, values, count * sizeof *copy);
	return percentile(copy, count, 0.5);
}

void spread_of(const double *values, unsigned count, double *ret_min, double *ret_max)
{
	*ret_min = *ret_max = values[0];
	for (unsigned i = 1; i < count; i++) {
		*ret_min = values[i] < *ret_min ? values[i] : *ret_min;
		*ret_max = values[i] > *ret_max ? values[i] : *ret_max;
	}
}

void samples_push(struct samples *s, double value)
{
	if (s->count == s->capacity) {
		s->capacity = s->capacity ? 2 * s->capacity : 4096;
		s->value = realloc(s->value, s->capacity * sizeof *s->value);
		if (!s->value)
			fail("out of memory");
	}
	s->value[s->count++] = value;
}

__attribute__((format(printf, 2, 3))) void args_add(struct args *a, const char *fmt, ...)
{
	if (a->count == ARGS_MAX)
		fail("too many arguments");
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(a->text + a->used, sizeof a->text - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof a->text - a->used)
		fail("arguments too long");
	a->argv[a->count++] = a->text + a->used;
	a->argv[a->count] = NULL;
	a->used += (size_t)n + 1;
}

/* Forks and execs argv with the given stdin, stdout and stderr (-1: /dev/null, inherited,
 * inherited), pinned to `cpu` unless it is -1; it gets `death_signal` if the driver dies. */
pid_t spawn(char *const argv[], int in, int out, int err, int cpu, int death_signal)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, death_signal) < 0 || (cpu >= 0 && pin(0, cpu) < 0))
		_exit(127);
	signal(SIGPIPE, SIG_DFL); /* ignored in the driver, and an ignored signal survives exec */
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dup2(in >= 0 ? in : null_fd, STDIN_FILENO) < 0 ||
	    (out >= 0 && dup2(out, STDOUT_FILENO) < 0) ||
	    (err >= 0 && dup2(err, STDERR_FILENO) < 0))
		_exit(127);
	execv(argv[0], argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", program_invocation_short_name, argv[0],
		strerror(errno));
	_exit(127);
}

/* Waits for a child: its exit status, 128+N if signal N killed it, -1 if `timeout_ms`
 * passed first. */
int wait_child(pid_t pid, unsigned timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		int status;
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (got < 0 && errno != EINTR)
			fail("waitpid %d: %s", (int)pid, strerror(errno));
		if (now_ns() >= deadline)
			return -1;
		sleep_ms(1);
	}
}

/* Reads `fd` to its end; NULL if `deadline` passes first. */
char *read_all(int fd, uint64_t deadline)
{
	size_t capacity = 65536, length = 0;
	char *text = malloc(capacity);
	if (!text)
		fail("out of memory");
	for (;;) {
		if (length + 1 == capacity) {
			capacity *= 2;
			if (!(text = realloc(text, capacity)))
				fail("out of memory");
		}
		uint64_t now = now_ns();
		if (now >= deadline) {
			free(text);
			return NULL;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t wait_ms = (deadline - now) / 1000000u + 1;
		int ready = poll(&p, 1, wait_ms > 1000 ? 1000 : (int)wait_ms);
		if (ready < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		if (ready <= 0)
			continue;
		ssize_t n = read(fd, text + length, capacity - length - 1);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			fail("read: %s", strerror(errno));
		if (n == 0)
			break;
		if (n > 0)
			length += (size_t)n;
	}
	text[length] = '\0';
	return text;
}

/* The number after "key": in a JSON text (the first one at or after `text`). */
bool json_u64(const char *text, const char *key, uint64_t *ret)
{
	char pattern[64];
	snprintf(pattern, sizeof pattern, "\"%s\":", key);
	const char *at = strstr(text, pattern);
	if (!at)
		return false;
	at += strlen(pattern);
	while (*at == ' ')
		at++;
	char *end;
	unsigned long long value = strtoull(at, &end, 10);
	if (end == at)
		return false;
	*ret = value;
	return true;
}

/* The pid of the process named `name` in packosctl's JSON (or, with `run_of`, of the one
 * packosctl run started for that program, named PROGRAM-N); 0 if none. */
pid_t json_process_pid(const char *json, const char *name, bool run_of)
{
	char pattern[96];
	if (run_of)
		snprintf(pattern, sizeof pattern, "{\"name\": \"%s-", name);
	else
		snprintf(pattern, sizeof pattern, "{\"name\": \"%s\",", name);
	const char *at = strstr(json, pattern);
	uint64_t pid;
	return at && json_u64(at, "pid", &pid) ? (pid_t)pid : 0;
}

/* A "Field:  N" line of a /proc file (status, smaps_rollup); -1 if there is none. */
long proc_value(pid_t pid, const char *file, const char *field)
{
	char path[64], text[8192];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	size_t field_len = strlen(field);
	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, field, field_len) == 0)
			return strtol(line + field_len, NULL, 10);
	}
	return -1;
}

char *run_captured(char *const argv[], unsigned timeout_s, int *ret_status)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	pid_t pid = spawn(argv, -1, out[1], -1, -1, SIGKILL);
	close(out[1]);
	char *output = read_all(out[0], now_ns() + timeout_s * UINT64_C(1000000000));
	close(out[0]);
	if (output == NULL)
		kill(pid, SIGKILL);
	*ret_status = wait_child(pid, 10000);
	return output;
}

void driver_start(unsigned watchdog_s)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	alarm(watchdog_s);
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/%s.XXXXXX", base, program_invocation_short_name);
	if (!mkdtemp(tmpdir)) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", program_invocation_short_name, tmpdir,
			strerror(errno));
		exit(1);
	}
}

unsigned long parse_number(const char *text, const char *option, unsigned long max,
			   void (*usage)(FILE *out))
{
	char *end;
	unsigned long value = text ? strtoul(text, &end, 10) : 0;
	if (!text || *end || value == 0 || value > max) {
		fprintf(stderr, "%s: %s needs a number from 1 to %lu\n",
			program_invocation_short_name, option, max);
		usage(stderr);
		exit(2);
	}
	return value;
}

void parse_options_by_table(int argc, char **argv, const struct option_flag *flags,
			    const struct option_number *numbers, const struct option_text *texts,
			    void (*usage)(FILE *out))
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			exit(0);
		}
		bool known = false;
		for (const struct option_flag *f = flags; f->name && !known; f++)
			if ((known = !strcmp(arg, f->name)))
				*f->set = true;
		for (const struct option_number *n = numbers; n->name && !known; n++)
			if ((known = !strcmp(arg, n->name)))
				*n->value = parse_number(argv[++i], arg, n->max, usage);
		for (const struct option_text *t = texts; t->name && !known && value; t++)
			if ((known = !strcmp(arg, t->name)))
				*t->value = argv[++i];
		if (!known) {
			fprintf(stderr, "%s: unknown option or missing value: %s\n",
				program_invocation_short_name, arg);
			usage(stderr);
			exit(2);
		}
	}
}

void stop_daemon(pid_t pid, const char *name, const char *log)
{
	kill(pid, SIGTERM);
	int status = wait_child(pid, 30000);
	if (status < 0) {
		kill(pid, SIGKILL);
		wait_child(pid, 5000);
	}
	register_daemon(pid, false);
	if (status != 0)
		fail("%s: packosd ended with status %d when stopped (a frame missing at its audit, "
		     "or a hang); see %s",
		     name, status, log);
}
