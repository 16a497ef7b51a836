/* The integration harness: a real packosd in a fresh directory, driven through packosctl.
 *
 * harness_start writes the manifest, starts packosd with its own control socket and its
 * stderr (and its programs') in a log file, and returns once `packosctl status` answers.
 * Every test ends with harness_stop: the frame pool is conserved and its audit passes,
 * then SIGTERM, and then nothing may be left: exit status 0, every process packosd ran
 * gone, no orphan, its socket, lock and pid files gone, no packos memfd open or mapped by
 * anything the test started, no sanitizer report in the log. If the test failed before
 * that, harness_teardown does the same and shows the log. Every wait is bounded; a
 * failed check fails the running cmocka test. */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HARNESS_MAX_ARGS  24
#define HARNESS_MAX_PIDS  512
#define HARNESS_PATH_SIZE 320

struct harness_options {
	const char *manifest; /* the manifest's text; NULL: the echo server at ::7 */
	/* More packosd options, NULL-terminated; "@/NAME" stands for NAME in the harness's
	 * directory (e.g. "--pcap", "@/boot.pcap"). */
	const char *args[HARNESS_MAX_ARGS];
	/* Start with --daemon --pid-file: the starting process must return 0 once serving,
	 * and leave its stdout and stderr to no one; the daemon is then found by its pid
	 * file (and is this test's child, as the subreaper). Its log goes to syslog. */
	bool detach;
};

struct harness {
	char dir[64];			  /* fresh; removed by harness_teardown if all went well */
	char socket[HARNESS_PATH_SIZE];	  /* the control socket */
	char lock[HARNESS_PATH_SIZE + 8]; /* socket + ".lock" */
	char log[HARNESS_PATH_SIZE];	  /* packosd's stderr, and its programs' */
	char manifest[HARNESS_PATH_SIZE];
	char pid_file[HARNESS_PATH_SIZE]; /* checked gone after the stop, if set */
	pid_t daemon;			  /* 0 once reaped */
	int daemon_status;		  /* its wait status, once reaped */
	bool detached;			  /* started with --daemon */
	int stop_signal;		  /* harness_stop's signal: SIGTERM unless set */
	bool stopped;			  /* harness_stop ran */
	bool clean;			  /* ... and found nothing wrong */
	pid_t pids[HARNESS_MAX_PIDS];	  /* every PackOS process seen, to check gone */
	unsigned pid_count;
	char args[HARNESS_MAX_ARGS][HARNESS_PATH_SIZE]; /* options with "@/" expanded */
};

/* What a program run by the harness printed and how it ended. */
struct harness_result {
	int status; /* exit code, or 128 + the signal that killed it */
	char *out;  /* its stdout, NUL-terminated; freed by harness_result_free */
	char *err;  /* its stderr */
};

/* cmocka fixtures: harness_setup makes this test process the subreaper of everything it
 * starts (so an orphan of packosd is ours to find); harness_teardown stops and checks the
 * daemon the test started, if the test did not. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* A file in this harness's directory, e.g. harness_path(h, "capture.pcap", buf, size);
 * returns buf. */
const char *harness_path(const struct harness *h, const char *name, char *buf, size_t size);

/* Starts packosd (see above). The harness is the test's until harness_teardown. */
struct harness *harness_start(const struct harness_options *opt);
/* The frame check, the stop and every check after it; fails the test on any problem. The
 * log stays readable until harness_teardown. Every test ends with it. */
void harness_stop(struct harness *h);
/* Waits for the daemon to exit on its own (after `packosctl stop`, say); fails after
 * timeout_ms. harness_stop then only checks. */
void harness_wait_exit(struct harness *h, int timeout_ms);

/* Runs `argv` (argv[0] a path) with stdin from /dev/null, waits up to timeout_ms, and
 * fills `r`; a program still running then is killed and fails the test. */
void harness_exec(const char *const argv[], int timeout_ms, struct harness_result *r);
void harness_result_free(struct harness_result *r);

/* A packosctl running in the background (a `run` that waits, say). */
struct harness_job {
	pid_t pid;
	int out, err; /* where its stdout and stderr go */
};

/* packosctl --socket S ARGS... (NULL-terminated), or with --json first. */
void harness_ctl(struct harness *h, struct harness_result *r, const char *arg, ...)
	__attribute__((sentinel));
void harness_ctl_json(struct harness *h, struct harness_result *r, const char *arg, ...)
	__attribute__((sentinel));

/* Starts packosctl ARGS... in the background; harness_job_wait collects it like
 * harness_ctl (bounded: a job still running then is killed and fails the test). */
void harness_ctl_start(struct harness *h, struct harness_job *job, const char *arg, ...)
	__attribute__((sentinel));
void harness_job_wait(struct harness_job *job, int timeout_ms, struct harness_result *r);
/* Waits until the job's stdout (for `run`, its program's) holds `text`. */
void harness_job_wait_output(struct harness_job *job, const char *text, int timeout_ms);
/* kill -9 from outside of the PackOS process `name` that the `run` job waits for, and the
 * check that the run then ends as its program did, by SIGKILL. */
void harness_kill_run(struct harness *h, struct harness_job *job, const char *name);

/* The frame pool as `packosctl --json frames` reports it. */
struct harness_frames {
	long long total, free, owned, queued, shared;
	bool conserved;
	char audit[128];
};
void harness_frames(struct harness *h, struct harness_frames *ret);
/* Polls until every frame is free (a dead process is reclaimed when its exit is reaped),
 * then checks conservation and the audit; fails after timeout_ms. */
void harness_wait_all_frames_free(struct harness *h, int timeout_ms);

/* The pid of the PackOS process `name` from `packosctl --json ps`, 0 if none. Every call
 * records every pid listed, for the check after the stop. */
pid_t harness_pid_of(struct harness *h, const char *name);
void harness_record_pid(struct harness *h, pid_t pid);

/* The daemon's log so far (malloc'ed), how often `text` occurs in it, and a bounded wait
 * for it to occur at least `count` times. */
char *harness_log_read(const struct harness *h);
unsigned harness_log_count(const struct harness *h, const char *text);
void harness_wait_log(const struct harness *h, const char *text, unsigned count, int timeout_ms);

/* Occurrences of `needle` in `haystack`. */
unsigned harness_count(const char *haystack, const char *needle);
/* Lines of `text` holding every one of the NULL-terminated strings. */
unsigned harness_count_lines(const char *text, const char *needle, ...) __attribute__((sentinel));
/* The first line of `text` holding every one of the NULL-terminated strings (a pointer to
 * its first byte, in `text`), or NULL. */
const char *harness_find_line(const char *text, const char *needle, ...) __attribute__((sentinel));

/* Fail, showing `text`, unless it holds `needle`; or unless a result has this status. */
void harness_expect(const char *text, const char *needle);
void harness_expect_status(const struct harness_result *r, int status);

/* ---- A small JSON reader for packosctl --json ------------------------------------------- */

/* The value at `path` in `json`: object keys and array indices separated by dots
 * ("processes.0.pid"). Returns its first byte and length, or NULL if there is none. */
const char *harness_json_find(const char *json, const char *path, size_t *ret_len);
/* Typed reads; false if the path is missing or the value has another type. */
bool harness_json_num(const char *json, const char *path, long long *ret);
bool harness_json_bool(const char *json, const char *path, bool *ret);
bool harness_json_str(const char *json, const char *path, char *buf, size_t size);
/* Elements of the array at `path`, or -1. */
int harness_json_len(const char *json, const char *path);

/* ---- The environment ---------------------------------------------------------------------- */

/* A test that needs something (root, a readable pagemap) calls this when it is missing:
 * with CI set in the environment the test fails, otherwise it is skipped with the reason. */
void harness_require_failed(const char *why);

/* Milliseconds on the monotonic clock. */
int64_t harness_now_ms(void);
void harness_sleep_ms(int ms);

#endif
