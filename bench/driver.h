/* What the benchmarks that start real packosd daemons share (bench_sim, bench_mcast):
 * failing with every daemon stopped, the watchdog, pinning, statistics over samples, argv
 * built from formatted strings, children with bounded waits and their output, and reading
 * packosctl's JSON and /proc. Messages start with the program's name. */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_REPETITIONS 15
#define ARGS_MAX	48
#define MAX_DAEMONS	8

/* The run's temporary directory (manifests, sockets, logs); named in failure messages. */
extern char tmpdir[PATH_MAX];

/* Says why on stderr, where the logs are kept, stops the daemons alive, exits 1. */
__attribute__((format(printf, 1, 2), noreturn)) void fail(const char *fmt, ...);
/* For SIGALRM (the watchdog), SIGINT and SIGTERM: kills the daemons alive and exits 1. */
void on_signal(int signal);
/* Installs on_signal, arms the watchdog and creates `tmpdir` ($TMPDIR or /tmp, named after
 * the program), or exits 1. */
void driver_start(unsigned watchdog_s);
/* A number for `option`, 1..max, or exit 2 with `usage` on stderr. */
unsigned long parse_number(const char *text, const char *option, unsigned long max,
			   void (*usage)(FILE *out));

/* A benchmark's command line, by tables (each ends with an entry whose name is NULL): flags
 * set a bool, numbers are taken with parse_number (0 where not given), texts point into
 * argv. --help and -h print `usage` and exit 0; anything else exits 2 with it on stderr. */
struct option_flag {
	const char *name;
	bool *set;
};
struct option_number {
	const char *name;
	unsigned long max;
	unsigned long *value;
};
struct option_text {
	const char *name;
	const char **value;
};
void parse_options_by_table(int argc, char **argv, const struct option_flag *flags,
			    const struct option_number *numbers, const struct option_text *texts,
			    void (*usage)(FILE *out));
/* SIGTERM, a bounded wait (SIGKILL after 30 s); fails unless it exited with 0, which packosd
 * does only if its audit found every frame back. `name` and `log` are for the message. */
void stop_daemon(pid_t pid, const char *name, const char *log);
/* Records a daemon as alive (or no longer), for fail and on_signal to stop. */
void register_daemon(pid_t pid, bool alive);
void stop_live_daemons(int signal);

uint64_t now_ns(void);
void sleep_ms(unsigned ms);
int pin(pid_t pid, int cpu);
void pin_or_fail(pid_t pid, int cpu);

/* The value at rank `fraction` (0.5: the median) of `count` values; sorts them. */
double percentile(double *values, size_t count, double fraction);
/* Of at most MAX_REPETITIONS values, left unsorted. */
double median_of(const double *values, unsigned count);
void spread_of(const double *values, unsigned count, double *ret_min, double *ret_max);

/* A growing array of samples. */
struct samples {
	double *value;
	size_t count, capacity;
};
void samples_push(struct samples *s, double value);

/* An argv built from formatted strings; never copied (argv points into text). */
struct args {
	char *argv[ARGS_MAX + 1];
	unsigned count;
	char text[4096];
	size_t used;
};
__attribute__((format(printf, 2, 3))) void args_add(struct args *a, const char *fmt, ...);

/* Forks and execs argv with the given stdin, stdout and stderr (-1: /dev/null, inherited,
 * inherited), pinned to `cpu` unless it is -1; it gets `death_signal` if the driver dies. */
pid_t spawn(char *const argv[], int in, int out, int err, int cpu, int death_signal);
/* Waits for a child: its exit status, 128+N if signal N killed it, -1 if `timeout_ms`
 * passed first. */
int wait_child(pid_t pid, unsigned timeout_ms);
/* Reads `fd` to its end; NULL if `deadline` passes first. */
char *read_all(int fd, uint64_t deadline);

/* Runs argv (stdin /dev/null, stderr inherited) and returns its stdout, read for up to
 * `timeout_s` (NULL if it did not end by then: it is killed), with its exit status as
 * wait_child gives it. */
char *run_captured(char *const argv[], unsigned timeout_s, int *ret_status);

/* The number after "key": in a JSON text (the first one at or after `text`). */
bool json_u64(const char *text, const char *key, uint64_t *ret);
/* The pid of the process named `name` in packosctl's JSON (or, with `run_of`, of the one
 * packosctl run started for that program, named PROGRAM-N); 0 if none. */
pid_t json_process_pid(const char *json, const char *name, bool run_of);
/* A "Field:  N" line of a /proc file (status, smaps_rollup); -1 if there is none. */
long proc_value(pid_t pid, const char *file, const char *field);

#endif
