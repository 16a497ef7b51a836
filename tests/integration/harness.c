/* The integration harness (see harness.h): one packosd per test, started and stopped for
 * real, and the checks that nothing outlives it.
 *
 * The test process is the subreaper of everything it starts, so a program packosd failed
 * to reap, or a daemon that detached, becomes the test's child and is found. Programs run
 * by the harness write into memfds, read once they have exited; no wait is unbounded. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

enum {
	START_TIMEOUT_MS = 5000, /* until `packosctl status` answers */
	STOP_TIMEOUT_MS = 10000, /* after SIGTERM; packosd escalates to SIGKILL after 2 s */
	CTL_TIMEOUT_MS = 30000,	 /* one packosctl command, `run` included */
};

static struct harness *current; /* the daemon the running test started */

int64_t harness_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

unsigned harness_count(const char *haystack, const char *needle)
{
	unsigned n = 0;
	size_t len = strlen(needle);
	if (haystack == NULL || len == 0)
		return 0;
	for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + len, needle))
		n++;
	return n;
}

/* Long text for a failure, on stderr: cmocka's print_error cuts long messages. */
static void show(const char *title, const char *text)
{
	fflush(stdout);
	fprintf(stderr, "---- %s ----\n%s%s---- end of %s ----\n", title, text ? text : "(null)",
		text && *text && text[strlen(text) - 1] != '\n' ? "\n" : "", title);
	fflush(stderr);
}

/* The first line from `from` on that holds `needle` and every string after it in
 * `needles` (NULL-terminated), or NULL. `needles` itself is not consumed. */
static const char *line_holding(const char *from, const char *needle, va_list needles)
{
	for (const char *line = from; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		assert_non_null(copy);
		bool all = true;
		va_list ap;
		va_copy(ap, needles);
		for (const char *s = needle; s != NULL && all; s = va_arg(ap, const char *))
			all = strstr(copy, s) != NULL;
		va_end(ap);
		free(copy);
		if (all)
			return line;
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

unsigned harness_count_lines(const char *text, const char *needle, ...)
{
	unsigned n = 0;
	va_list ap;
	va_start(ap, needle);
	for (const char *line = line_holding(text, needle, ap); line != NULL; n++) {
		const char *end = strchr(line, '\n');
		line = end ? line_holding(end + 1, needle, ap) : NULL;
	}
	va_end(ap);
	return n;
}

const char *harness_find_line(const char *text, const char *needle, ...)
{
	va_list ap;
	va_start(ap, needle);
	const char *line = line_holding(text, needle, ap);
	va_end(ap);
	return line;
}

void harness_expect(const char *text, const char *needle)
{
	if (text == NULL || strstr(text, needle) == NULL) {
		show("text", text);
		fail_msg("expected '%s' in the text above", needle);
	}
}

void harness_expect_status(const struct harness_result *r, int status)
{
	if (r->status != status) {
		show("stdout", r->out);
		show("stderr", r->err);
		fail_msg("exit status %d, expected %d", r->status, status);
	}
}

const char *harness_path(const struct harness *h, const char *name, char *buf, size_t size)
{
	char path[HARNESS_PATH_SIZE]; /* buf may lie in *h: format apart, then copy */
	int n = snprintf(path, sizeof path, "%s/%s", h->dir, name);
	assert_true(n > 0 && (size_t)n < size && (size_t)n < sizeof path);
	memcpy(buf, path, (size_t)n + 1);
	return buf;
}

void harness_require_failed(const char *why)
{
	const char *ci = getenv("CI");
	if (ci != NULL && ci[0] != '\0')
		fail_msg("CI is set and this test cannot run: %s", why);
	print_message("skipped: %s\n", why);
	skip();
}

/* ---- Problems found by the checks after a stop -------------------------------------------- */

struct problems {
	char text[8192];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void problem(struct problems *p, const char *fmt, ...)
{
	if (p->len >= sizeof p->text - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n < sizeof p->text - p->len ? (size_t)n
							      : sizeof p->text - p->len - 1;
	if (p->len < sizeof p->text - 1)
		p->text[p->len++] = '\n';
	p->text[p->len] = '\0';
}

/* ---- Running programs --------------------------------------------------------------------- */

/* The whole file behind fd, read with pread: the offset it shares with a writer stays put. */
static char *read_all(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t n = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static int status_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}

/* Forks and execs argv with the given stdio; the child's other descriptors are all
 * close-on-exec (the harness opens nothing else). */
static pid_t spawn(const char *const argv[], int in_fd, int out_fd, int err_fd)
{
	char *args[HARNESS_MAX_ARGS * 2 + 16];
	size_t n = 0;
	for (; argv[n] != NULL; n++) {
		assert_true(n + 1 < sizeof args / sizeof args[0]);
		args[n] = (char *)(uintptr_t)argv[n];
	}
	args[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
		    dup2(err_fd, STDERR_FILENO) < 0)
			_exit(126);
		execv(args[0], args);
		dprintf(STDERR_FILENO, "harness: cannot run %s: %s\n", args[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Waits for `pid` (a child) up to timeout_ms; true with its wait status if it exited. */
static bool wait_child(pid_t pid, int timeout_ms, int *ret_wstatus)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int64_t deadline = harness_now_ms() + timeout_ms;
	bool exited = false;
	for (;;) {
		int wstatus;
		pid_t r = waitpid(pid, &wstatus, WNOHANG);
		if (r == pid) {
			*ret_wstatus = wstatus;
			exited = true;
			break;
		}
		assert_true(r == 0 || (r < 0 && errno == EINTR));
		int64_t left = deadline - harness_now_ms();
		if (left <= 0)
			break;
		if (pidfd >= 0) {
			struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
			poll(&pfd, 1, (int)(left < 100 ? left : 100));
		} else {
			harness_sleep_ms(1);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return exited;
}

static int open_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void job_start(const char *const argv[], struct harness_job *job)
{
	job->out = memfd_create("harness-stdout", MFD_CLOEXEC);
	job->err = memfd_create("harness-stderr", MFD_CLOEXEC);
	assert_true(job->out >= 0 && job->err >= 0);
	int null_fd = open_null();
	job->pid = spawn(argv, null_fd, job->out, job->err);
	close(null_fd);
}

/* Waits for the job and fills r; false (after killing it) if it outlived timeout_ms. */
static bool job_finish(struct harness_job *job, int timeout_ms, struct harness_result *r)
{
	int wstatus = 0;
	bool exited = wait_child(job->pid, timeout_ms, &wstatus);
	if (!exited) {
		kill(job->pid, SIGKILL);
		waitpid(job->pid, &wstatus, 0);
	}
	r->status = status_code(wstatus);
	r->out = read_all(job->out);
	r->err = read_all(job->err);
	close(job->out);
	close(job->err);
	job->pid = 0;
	return exited;
}

/* Runs argv and fills r; false (after killing it) if it outlived timeout_ms. */
static bool exec_bounded(const char *const argv[], int timeout_ms, struct harness_result *r)
{
	struct harness_job job;
	job_start(argv, &job);
	return job_finish(&job, timeout_ms, r);
}

static bool sanitizer_report(const char *text)
{
	return strstr(text, "Sanitizer") != NULL || strstr(text, "runtime error:") != NULL;
}

static void check_finished(const char *what, bool exited, int timeout_ms, struct harness_result *r)
{
	if (!exited) {
		show("stdout", r->out);
		show("stderr", r->err);
		harness_result_free(r);
		fail_msg("%s did not finish within %d ms; killed", what, timeout_ms);
	}
	/* A sanitizer report from a program run directly is a failure wherever it comes. */
	if (sanitizer_report(r->err)) {
		show(what, r->err);
		harness_result_free(r);
		fail_msg("sanitizer report from %s", what);
	}
}

void harness_exec(const char *const argv[], int timeout_ms, struct harness_result *r)
{
	check_finished(argv[0], exec_bounded(argv, timeout_ms, r), timeout_ms, r);
}

void harness_kill_run(struct harness *h, struct harness_job *job, const char *name)
{
	pid_t pid = harness_pid_of(h, name);
	if (pid <= 0)
		fail_msg("no PackOS process %s to kill", name);
	assert_int_equal(kill(pid, SIGKILL), 0);
	struct harness_result r;
	harness_job_wait(job, 5000, &r);
	harness_expect_status(&r, 128 + SIGKILL);
	harness_result_free(&r);
}

void harness_job_wait_output(struct harness_job *job, const char *text, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	for (;;) {
		char *out = read_all(job->out);
		bool found = strstr(out, text) != NULL;
		bool late = harness_now_ms() > deadline;
		if (!found && late)
			show("its stdout so far", out);
		free(out);
		if (found)
			return;
		if (late)
			fail_msg("a background packosctl did not print '%s' within %d ms", text,
				 timeout_ms);
		harness_sleep_ms(5);
	}
}

void harness_job_wait(struct harness_job *job, int timeout_ms, struct harness_result *r)
{
	check_finished("a packosctl started in the background", job_finish(job, timeout_ms, r),
		       timeout_ms, r);
}

void harness_result_free(struct harness_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

static size_t ctl_argv(struct harness *h, const char **argv, size_t max, bool json)
{
	size_t n = 0;
	assert_true(max > 4);
	argv[n++] = PACKOSCTL_PATH;
	argv[n++] = "--socket";
	argv[n++] = h->socket;
	if (json)
		argv[n++] = "--json";
	return n;
}

/* The packosctl command line for ARGS... in argv (NULL-terminated). */
static void ctl_words(struct harness *h, const char **argv, size_t max, bool json, const char *arg,
		      va_list ap)
{
	size_t n = ctl_argv(h, argv, max, json);
	for (; arg != NULL; arg = va_arg(ap, const char *)) {
		assert_true(n + 1 < max);
		argv[n++] = arg;
	}
	argv[n] = NULL;
}

static void ctl_va(struct harness *h, struct harness_result *r, bool json, const char *arg,
		   va_list ap)
{
	const char *argv[HARNESS_MAX_ARGS * 2 + 8];
	ctl_words(h, argv, sizeof argv / sizeof argv[0], json, arg, ap);
	harness_exec(argv, CTL_TIMEOUT_MS, r);
}

void harness_ctl_start(struct harness *h, struct harness_job *job, const char *arg, ...)
{
	const char *argv[HARNESS_MAX_ARGS * 2 + 8];
	va_list ap;
	va_start(ap, arg);
	ctl_words(h, argv, sizeof argv / sizeof argv[0], false, arg, ap);
	va_end(ap);
	job_start(argv, job);
}

/* One `packosctl --json COMMAND` for the checks after a test: never fails the test itself,
 * so the daemon is stopped whatever it answers. NULL if it did not answer well. */
static char *ctl_quiet(struct harness *h, const char *command, struct problems *p)
{
	const char *argv[8];
	size_t n = ctl_argv(h, argv, 8, true);
	argv[n++] = command;
	argv[n] = NULL;
	struct harness_result r;
	if (!exec_bounded(argv, CTL_TIMEOUT_MS, &r) || r.status != 0 || sanitizer_report(r.err)) {
		problem(p, "packosctl %s: status %d, %s", command, r.status, r.err);
		harness_result_free(&r);
		return NULL;
	}
	free(r.err);
	return r.out;
}

void harness_ctl(struct harness *h, struct harness_result *r, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	ctl_va(h, r, false, arg, ap);
	va_end(ap);
}

void harness_ctl_json(struct harness *h, struct harness_result *r, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	ctl_va(h, r, true, arg, ap);
	va_end(ap);
}

/* ---- The daemon's log -------------------------------------------------------------------- */

char *harness_log_read(const struct harness *h)
{
	int fd = open(h->log, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *text = read_all(fd);
	close(fd);
	return text;
}

unsigned harness_log_count(const struct harness *h, const char *text)
{
	char *log = harness_log_read(h);
	unsigned n = harness_count(log, text);
	free(log);
	return n;
}

void harness_wait_log(const struct harness *h, const char *text, unsigned count, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	for (;;) {
		unsigned n = harness_log_count(h, text);
		if (n >= count)
			return;
		if (harness_now_ms() > deadline) {
			char *log = harness_log_read(h);
			show("packosd log", log);
			free(log);
			fail_msg("'%s' appeared %u times in the log, not %u, within %d ms", text, n,
				 count, timeout_ms);
		}
		harness_sleep_ms(5);
	}
}

static void print_log(const struct harness *h)
{
	char *log = harness_log_read(h);
	show(h->log, log);
	free(log);
}

/* ---- Start -------------------------------------------------------------------------------- */

int harness_setup(void **state)
{
	(void)state;
	/* Orphans of anything this test starts are reparented here, where the checks look. */
	return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static bool daemon_reaped(struct harness *h)
{
	if (h->daemon == 0)
		return true;
	int wstatus;
	if (waitpid(h->daemon, &wstatus, WNOHANG) == h->daemon) {
		h->daemon_status = wstatus;
		h->daemon = 0;
		return true;
	}
	return false;
}

/* --daemon: the starting process must return 0 once the daemon serves, and nothing may
 * hold its stdout and stderr after it (a caller reading them to the end would hang). */
static void start_detached(struct harness *h, const char *const argv[])
{
	int pipe_fds[2];
	assert_int_equal(pipe2(pipe_fds, O_CLOEXEC), 0);
	int null_fd = open_null();
	pid_t starter = spawn(argv, null_fd, pipe_fds[1], pipe_fds[1]);
	close(null_fd);
	close(pipe_fds[1]);
	int wstatus = 0;
	bool exited = wait_child(starter, START_TIMEOUT_MS, &wstatus);
	if (!exited) {
		kill(starter, SIGKILL);
		waitpid(starter, &wstatus, 0);
	}
	char said[4096] = "";
	size_t len = 0;
	bool eof = false;
	int64_t deadline = harness_now_ms() + 2000;
	while (!eof && harness_now_ms() < deadline) {
		struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		char buf[512];
		ssize_t n = read(pipe_fds[0], buf, sizeof buf);
		eof = n == 0;
		if (n > 0 && len + (size_t)n < sizeof said) {
			memcpy(said + len, buf, (size_t)n);
			len += (size_t)n;
		}
	}
	close(pipe_fds[0]);
	if (!exited || status_code(wstatus) != 0)
		fail_msg("packosd --daemon %s (status %d), saying: %s",
			 exited ? "failed" : "did not return within the start timeout",
			 status_code(wstatus), said);
	char pid_text[32] = "";
	int fd = open(h->pid_file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, pid_text, sizeof pid_text - 1);
	close(fd);
	assert_true(n > 0);
	h->daemon = (pid_t)atoi(pid_text);
	assert_true(h->daemon > 1);
	if (!eof)
		fail_msg("packosd --daemon returned, but something it started still holds its "
			 "caller's stdout or stderr 2 s later (it said: %s)",
			 said);
	/* The starting process has exited, so the daemon was reparented to this test. */
	assert_int_equal(waitpid(h->daemon, &wstatus, WNOHANG), 0);
}

struct harness *harness_start(const struct harness_options *opt)
{
	assert_null(current); /* one daemon per test: harness_teardown frees it */
	struct harness *h = calloc(1, sizeof *h);
	assert_non_null(h);
	snprintf(h->dir, sizeof h->dir, "/tmp/packos-it-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	current = h;
	h->stop_signal = SIGTERM;
	harness_path(h, "packosd.sock", h->socket, sizeof h->socket);
	snprintf(h->lock, sizeof h->lock, "%s.lock", h->socket);
	harness_path(h, "packosd.log", h->log, sizeof h->log);
	harness_path(h, "manifest", h->manifest, sizeof h->manifest);
	write_file(h->manifest,
		   opt && opt->manifest ? opt->manifest : "echo kan-echo address=::7\n");
	int log_fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(log_fd >= 0);

	const char *argv[HARNESS_MAX_ARGS + 16] = {PACKOSD_PATH,   "--control", h->socket,
						   "--manifest",   h->manifest, "--path",
						   IT_PROGRAM_DIR, "--path",	IT_SERVER_DIR};
	size_t n = 9;
	for (size_t i = 0; opt && i < HARNESS_MAX_ARGS && opt->args[i] != NULL; i++) {
		const char *arg = opt->args[i];
		if (strncmp(arg, "@/", 2) == 0)
			arg = harness_path(h, arg + 2, h->args[i], sizeof h->args[i]);
		argv[n++] = arg;
		if (i > 0 && strcmp(opt->args[i - 1], "--pid-file") == 0)
			snprintf(h->pid_file, sizeof h->pid_file, "%s", arg);
	}
	if (opt && opt->detach) {
		h->detached = true;
		harness_path(h, "packosd.pid", h->pid_file, sizeof h->pid_file);
		argv[n++] = "--daemon";
		argv[n++] = "--pid-file";
		argv[n++] = h->pid_file;
	}
	argv[n] = NULL;

	if (h->detached) {
		close(log_fd);
		start_detached(h, argv);
	} else {
		int null_fd = open_null();
		h->daemon = spawn(argv, null_fd, log_fd, log_fd);
		close(log_fd);
		close(null_fd);
	}

	int64_t deadline = harness_now_ms() + START_TIMEOUT_MS;
	for (;;) {
		if (daemon_reaped(h)) {
			print_log(h);
			fail_msg("packosd ended while starting (status %d)",
				 status_code(h->daemon_status));
		}
		struct harness_result r;
		harness_ctl(h, &r, "status", NULL);
		int status = r.status;
		harness_result_free(&r);
		if (status == 0)
			break;
		if (harness_now_ms() > deadline) {
			print_log(h);
			fail_msg("packosctl status did not answer within %d ms", START_TIMEOUT_MS);
		}
		harness_sleep_ms(10);
	}
	harness_pid_of(h, ""); /* records the boot manifest's processes */
	return h;
}

void harness_wait_exit(struct harness *h, int timeout_ms)
{
	int wstatus;
	if (h->daemon == 0)
		return;
	if (!wait_child(h->daemon, timeout_ms, &wstatus)) {
		print_log(h);
		fail_msg("packosd did not exit within %d ms", timeout_ms);
	}
	h->daemon_status = wstatus;
	h->daemon = 0;
}

/* ---- Frames and processes ------------------------------------------------------------------ */

void harness_frames(struct harness *h, struct harness_frames *ret)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "frames", NULL);
	bool ok = r.status == 0 && harness_json_num(r.out, "frames.total", &ret->total) &&
		  harness_json_num(r.out, "frames.free", &ret->free) &&
		  harness_json_num(r.out, "frames.owned", &ret->owned) &&
		  harness_json_num(r.out, "frames.queued", &ret->queued) &&
		  harness_json_num(r.out, "frames.shared", &ret->shared) &&
		  harness_json_bool(r.out, "frames.conserved", &ret->conserved) &&
		  harness_json_str(r.out, "frames.audit", ret->audit, sizeof ret->audit);
	if (!ok) {
		show("packosctl frames", r.out);
		show("its stderr", r.err);
	}
	harness_result_free(&r);
	assert_true(ok);
}

void harness_wait_all_frames_free(struct harness *h, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	struct harness_frames f;
	for (;;) {
		harness_frames(h, &f);
		if (f.free == f.total)
			break;
		if (harness_now_ms() > deadline) {
			print_log(h);
			fail_msg("%lld of %lld frames free after %d ms (owned %lld, queued %lld)",
				 f.free, f.total, timeout_ms, f.owned, f.queued);
		}
		harness_sleep_ms(5);
	}
	assert_true(f.conserved);
	assert_string_equal(f.audit, "ok");
}

void harness_record_pid(struct harness *h, pid_t pid)
{
	for (unsigned i = 0; i < h->pid_count; i++)
		if (h->pids[i] == pid)
			return;
	if (pid > 0 && h->pid_count < HARNESS_MAX_PIDS)
		h->pids[h->pid_count++] = pid;
}

/* Records every pid of a `ps --json` answer (which it frees); returns the one named. */
static pid_t record_pids(struct harness *h, char *ps, const char *name)
{
	pid_t found = 0;
	int rows = harness_json_len(ps, "processes");
	for (int i = 0; i < rows; i++) {
		char path[64], row_name[64];
		long long pid;
		snprintf(path, sizeof path, "processes.%d.pid", i);
		if (!harness_json_num(ps, path, &pid))
			continue;
		harness_record_pid(h, (pid_t)pid);
		snprintf(path, sizeof path, "processes.%d.name", i);
		if (harness_json_str(ps, path, row_name, sizeof row_name) &&
		    strcmp(row_name, name) == 0)
			found = (pid_t)pid;
	}
	free(ps);
	return found;
}

pid_t harness_pid_of(struct harness *h, const char *name)
{
	struct harness_result r;
	harness_ctl_json(h, &r, "ps", NULL);
	if (r.status != 0 || harness_json_len(r.out, "processes") < 0) {
		show("packosctl ps", r.out);
		show("its stderr", r.err);
		harness_result_free(&r);
		fail_msg("packosctl ps failed");
	}
	free(r.err);
	return record_pids(h, r.out, name);
}

/* ---- Stop and the checks after it ---------------------------------------------------------- */

/* Reads field `index` (1-based, after the command) of /proc/PID/stat: 2 is the ppid. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *after = strrchr(buf, ')'); /* the command may hold spaces and parens */
	int ppid = 0;
	if (after == NULL || sscanf(after + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* Started by this test, directly or not: an ancestor is this process. Anything packosd
 * ran and left behind is one, since the test is the subreaper of all it starts; a pid
 * reused since by someone else's process is not. */
static bool is_ours(pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		pid = parent_of(pid);
		if (pid == getpid())
			return true;
	}
	return false;
}

/* Every open descriptor and mapping of a packos memfd held by a process this test started.
 * Another engineer's packosd on the same machine is noted, not counted. */
static void check_no_packos_memfd(struct problems *p)
{
	DIR *proc = opendir("/proc");
	assert_non_null(proc);
	struct dirent *de;
	unsigned others = 0;
	while ((de = readdir(proc)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		char path[600], target[512];
		unsigned hits = 0;
		snprintf(path, sizeof path, "/proc/%s/fd", de->d_name);
		DIR *fds = opendir(path);
		struct dirent *fe;
		while (fds != NULL && (fe = readdir(fds)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%s/fd/%s", de->d_name, fe->d_name);
			ssize_t n = readlink(path, target, sizeof target - 1);
			if (n > 0) {
				target[n] = '\0';
				hits += strstr(target, "memfd:packos") != NULL;
			}
		}
		if (fds != NULL)
			closedir(fds);
		snprintf(path, sizeof path, "/proc/%s/maps", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			char *maps = read_all(fd);
			hits += harness_count(maps, "memfd:packos");
			free(maps);
			close(fd);
		}
		if (hits == 0 || pid == getpid())
			continue;
		if (is_ours(pid))
			problem(p, "pid %d still holds %u packos memfd descriptors or mappings",
				(int)pid, hits);
		else
			others++;
	}
	closedir(proc);
	if (others > 0)
		print_message("note: %u processes not started by this test hold packos memfds "
			      "(another packosd on this machine?)\n",
			      others);
}

/* Every PackOS process seen is gone, and no child of this test is left (an orphan of
 * packosd would be one: the test is the subreaper). Anything found is killed. */
static void check_no_process_left(const struct harness *h, struct problems *p)
{
	for (unsigned i = 0; i < h->pid_count; i++) {
		if (kill(h->pids[i], 0) == 0 && is_ours(h->pids[i])) {
			problem(p, "process %d, run by packosd, still exists", (int)h->pids[i]);
			kill(h->pids[i], SIGKILL);
		}
	}
	int64_t deadline = harness_now_ms() + 2000;
	for (;;) {
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid > 0) {
			problem(p, "pid %d outlived packosd (the test reaped it, status %d)",
				(int)pid, status_code(wstatus));
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		if (pid == 0 && harness_now_ms() > deadline) {
			problem(p, "children of the test are still running after 2 s");
			break;
		}
		if (pid == 0) {
			/* Live children: orphans, or leftovers just killed. Kill any orphan. */
			DIR *proc = opendir("/proc");
			struct dirent *de;
			while (proc != NULL && (de = readdir(proc)) != NULL) {
				pid_t child = (pid_t)atoi(de->d_name);
				if (child > 0 && parent_of(child) == getpid()) {
					problem(p,
						"pid %d, a child of the test (an orphan of "
						"packosd?), was still running",
						(int)child);
					kill(child, SIGKILL);
				}
			}
			if (proc != NULL)
				closedir(proc);
			harness_sleep_ms(10);
		}
	}
}

static void check_gone(const char *path, struct problems *p)
{
	if (path[0] != '\0' && access(path, F_OK) == 0)
		problem(p, "%s still exists", path);
}

static const char *const log_alarms[] = {
	"AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
	"runtime error:",   "kernel panic",  "at exit: audit",
};

static void check_log(const struct harness *h, struct problems *p)
{
	char *log = harness_log_read(h);
	for (size_t i = 0; i < sizeof log_alarms / sizeof log_alarms[0]; i++)
		if (strstr(log, log_alarms[i]) != NULL)
			problem(p, "the log says '%s'", log_alarms[i]);
	if (strstr(log, "stopped; all") == NULL)
		problem(p, "packosd did not log that every frame was back at exit");
	free(log);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* The checks, collected rather than failed one by one, so every leftover is cleaned up
 * before the test fails. */
static void stop_and_check(struct harness *h, struct problems *p)
{
	h->stopped = true;
	if (!daemon_reaped(h)) {
		char *frames = ctl_quiet(h, "frames", p);
		bool conserved = false;
		char audit[128] = "?";
		if (frames != NULL &&
		    (!harness_json_bool(frames, "frames.conserved", &conserved) ||
		     !harness_json_str(frames, "frames.audit", audit, sizeof audit) || !conserved ||
		     strcmp(audit, "ok") != 0))
			problem(p, "before the stop: frames conserved=%d, audit '%s'", conserved,
				audit);
		free(frames);
		record_pids(h, ctl_quiet(h, "ps", p), "");
		kill(h->daemon, h->stop_signal);
		int wstatus;
		if (wait_child(h->daemon, STOP_TIMEOUT_MS, &wstatus)) {
			h->daemon_status = wstatus;
		} else {
			problem(p, "packosd still running %d ms after signal %d; killed",
				STOP_TIMEOUT_MS, h->stop_signal);
			kill(h->daemon, SIGKILL);
			waitpid(h->daemon, &h->daemon_status, 0);
		}
		h->daemon = 0;
	}
	if (status_code(h->daemon_status) != 0)
		problem(p, "packosd exited with status %d, not 0", status_code(h->daemon_status));
	check_gone(h->socket, p);
	check_gone(h->lock, p);
	check_gone(h->pid_file, p);
	check_no_packos_memfd(p); /* before the leftovers are killed */
	check_no_process_left(h, p);
	if (!h->detached) /* a detached daemon logs to syslog */
		check_log(h, p);
	h->clean = p->len == 0;
	if (!h->clean)
		print_log(h);
}

void harness_stop(struct harness *h)
{
	static struct problems p;
	p.len = 0;
	p.text[0] = '\0';
	stop_and_check(h, &p);
	if (p.len > 0)
		fail_msg("after the stop:\n%s", p.text);
}

int harness_teardown(void **state)
{
	(void)state;
	struct harness *h = current;
	current = NULL;
	if (h == NULL)
		return 0;
	static struct problems p;
	p.len = 0;
	p.text[0] = '\0';
	if (!h->stopped) {
		/* The test failed before its own harness_stop: show what the daemon said. */
		if (h->daemon != 0)
			print_log(h);
		stop_and_check(h, &p);
	}
	if (h->clean)
		nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		print_error("kept %s for a look\n", h->dir);
	free(h);
	if (p.len > 0)
		show("after the stop", p.text);
	return p.len > 0 ? -1 : 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The byte after the value starting at p (after white space), or NULL if none starts there. */
static const char *json_skip(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 32)
		return NULL;
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0' || (*p == '\\' && *++p == '\0'))
				return NULL;
		}
		return p + 1;
	}
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			p = json_ws(p);
			if (close == '}') {
				if (*p != '"' || (p = json_skip(p, depth + 1)) == NULL)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if ((p = json_skip(p, depth + 1)) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '-' || isdigit((unsigned char)*p)) {
		size_t n = strspn(p, "-+.eE0123456789");
		return p + n;
	}
	static const char *const words[] = {"true", "false", "null"};
	for (size_t i = 0; i < 3; i++)
		if (strncmp(p, words[i], strlen(words[i])) == 0)
			return p + strlen(words[i]);
	return NULL;
}

/* The member `key` (klen bytes) of the object at v, or NULL. */
static const char *json_member(const char *v, const char *key, size_t klen)
{
	const char *p = json_ws(v + 1);
	while (*p == '"') {
		const char *end = json_skip(p, 0);
		if (end == NULL)
			return NULL;
		const char *name = p + 1;
		size_t nlen = (size_t)(end - 1 - name);
		p = json_ws(end);
		if (*p++ != ':')
			return NULL;
		const char *value = json_ws(p);
		if (nlen == klen && memcmp(name, key, klen) == 0)
			return value;
		if ((p = json_skip(value, 0)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

/* Element `index` of the array at v, or NULL. */
static const char *json_element(const char *v, long index)
{
	const char *p = json_ws(v + 1);
	for (long i = 0; *p != ']' && *p != '\0'; i++) {
		if (i == index)
			return p;
		if ((p = json_skip(p, 0)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

const char *harness_json_find(const char *json, const char *path, size_t *ret_len)
{
	if (json == NULL)
		return NULL;
	const char *v = json_ws(json);
	while (*path != '\0') {
		size_t len = strcspn(path, ".");
		if (*v == '{') {
			v = json_member(v, path, len);
		} else if (*v == '[') {
			char *end;
			long index = strtol(path, &end, 10);
			v = end == path + len && index >= 0 ? json_element(v, index) : NULL;
		} else {
			v = NULL;
		}
		if (v == NULL)
			return NULL;
		path += len;
		if (*path == '.')
			path++;
	}
	const char *end = json_skip(v, 0);
	if (end == NULL)
		return NULL;
	*ret_len = (size_t)(end - v);
	return v;
}

bool harness_json_num(const char *json, const char *path, long long *ret)
{
	size_t len;
	const char *v = harness_json_find(json, path, &len);
	if (v == NULL || !(*v == '-' || isdigit((unsigned char)*v)))
		return false;
	char *end;
	errno = 0;
	long long value = strtoll(v, &end, 10);
	if (errno != 0 || end != v + len)
		return false;
	*ret = value;
	return true;
}

bool harness_json_bool(const char *json, const char *path, bool *ret)
{
	size_t len;
	const char *v = harness_json_find(json, path, &len);
	if (v == NULL ||
	    !((len == 4 && memcmp(v, "true", 4) == 0) || (len == 5 && memcmp(v, "false", 5) == 0)))
		return false;
	*ret = len == 4;
	return true;
}

bool harness_json_str(const char *json, const char *path, char *buf, size_t size)
{
	size_t len;
	const char *v = harness_json_find(json, path, &len);
	if (v == NULL || *v != '"' || size == 0)
		return false;
	size_t n = 0;
	for (const char *p = v + 1; p < v + len - 1; p++) {
		char c = *p;
		if (c == '\\') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') {
				c = '?'; /* packosctl escapes only control characters this way */
				p += 4;
			}
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

int harness_json_len(const char *json, const char *path)
{
	size_t len;
	const char *v = harness_json_find(json, path, &len);
	if (v == NULL || *v != '[')
		return -1;
	int count = 0;
	while (json_element(v, count) != NULL)
		count++;
	return count;
}
