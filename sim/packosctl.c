/* packosctl: the command line's way into packosd. It checks the command locally, sends it
 * as one request on the control socket, reads the response until the daemon closes the
 * connection, and renders it for people or as JSON.
 *
 * `run` passes packosctl's own stdin, stdout and stderr to the daemon, which hands them to
 * the program it spawns; packosctl then only waits for the program's exit status and
 * makes it its own, so `packosctl run` behaves like running the program directly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_wire.h"
#include "trace.h"
#include "trace_render.h"

#define EXIT_USAGE 2

/* What a command line may look like before it is worth a trip to the daemon. */
struct command {
	const char *name;  /* as sent to the daemon */
	const char *alias; /* also accepted on the command line, or NULL */
	int min_args;	   /* after the command's name */
	int max_args;	   /* -1: no limit */
};

static const struct command commands[] = {
	{"status", NULL, 0, 0},	  {"processes", "ps", 0, 0}, {"frames", NULL, 0, 0},
	{"counters", NULL, 0, 0}, {"spawn", NULL, 2, -1},    {"kill", NULL, 1, 1},
	{"capture", NULL, 1, 2},  {"trace", NULL, 1, 2},     {"run", NULL, 1, -1},
	{"stop", NULL, 0, 0},	  {"help", NULL, 0, 0},
};

static void usage(FILE *out)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	if (ctl_default_socket_path(path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "too long; give one");
	fprintf(out,
		"usage: packosctl [--socket PATH] [--json] COMMAND [ARGS...]\n"
		"\n"
		"Asks packosd, the PackOS daemon, through its control socket.\n"
		"\n"
		"Commands:\n"
		"  status                    the daemon and the kernel at a glance\n"
		"  processes, ps             every PackOS process\n"
		"  frames                    the frame pool\n"
		"  counters                  the kernel's counters\n"
		"  spawn NAME PROGRAM [key=value...] [-- ARGS...]\n"
		"                            start PROGRAM as the PackOS process NAME, with\n"
		"                            options as in a manifest line\n"
		"  kill NAME|PID             destroy a PackOS process\n"
		"  capture start FILE        record the packets crossing the KAN in FILE\n"
		"  capture stop              stop recording\n"
		"  trace start [N]           record what the kernel and the NIC do, the last N\n"
		"                            steps (default %u)\n"
		"  trace stop                stop recording them\n"
		"  trace show                the steps recorded, by stage of the NIC sequence\n"
		"  run PROGRAM [key=value...] [-- ARGS...]\n"
		"                            run PROGRAM on packosctl's stdin, stdout and\n"
		"                            stderr, wait for it and exit with its status\n"
		"  stop                      shut packosd down\n"
		"  help                      this text\n"
		"\n"
		"Options:\n"
		"  --socket PATH  packosd's control socket (default: %s)\n"
		"  --json         print the answer as one JSON object\n"
		"  -h, --help     this text\n"
		"\n"
		"Exit status: 0 on success, 1 if packosd refused or could not be reached, 2 for\n"
		"a command line packosctl refused; run exits with the program's status, or\n"
		"128+N if signal N killed it.\n",
		TRACE_DEFAULT_CAPACITY, path);
}

__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("packosctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n\n", stderr);
	va_end(ap);
	usage(stderr);
	exit(EXIT_USAGE);
}

__attribute__((format(printf, 2, 3), noreturn)) static void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("packosctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0 ||
		    (commands[i].alias && strcmp(commands[i].alias, name) == 0))
			return &commands[i];
	return NULL;
}

/* A closed stdin, stdout or stderr would hand its number to the socket, and `run` would
 * pass the socket to the program as that stream. */
static void open_standard_streams(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			exit(1);
	}
}

/* The daemon runs in another directory, so a relative FILE would land there: resolve the
 * directory here, where the user meant it. The file itself need not exist yet. */
static char *absolute_capture_path(const char *file)
{
	const char *slash = strrchr(file, '/');
	const char *name = slash ? slash + 1 : file;
	if (name[0] == '\0')
		usage_error("capture start needs a file, not a directory: %s", file);
	if (file[0] == '/')
		return strdup(file);
	char *dir = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
	if (!dir)
		die(1, "out of memory");
	char *real = realpath(dir, NULL);
	if (!real)
		die(1, "cannot resolve the directory of %s: %s", file, strerror(errno));
	char *path;
	int separator = strcmp(real, "/") != 0;
	if (asprintf(&path, "%s%s%s", real, separator ? "/" : "", name) < 0)
		die(1, "out of memory");
	free(real);
	free(dir);
	return path;
}

static int connect_to(const char *path)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(address.sun_path))
		die(1, "cannot reach packosd at %s: the path is longer than %zu bytes", path,
		    sizeof(address.sun_path) - 1);
	memcpy(address.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(1, "cannot reach packosd at %s: %s", path, strerror(errno));
	int r;
	do
		r = connect(fd, (struct sockaddr *)&address, sizeof(address));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		die(1, "cannot reach packosd at %s: %s", path, strerror(errno));
	return fd;
}

/* Sends the whole request. With pass_stdio, descriptors 0, 1 and 2 ride along with the
 * first bytes, as the protocol wants. Returns 0 or -errno. */
static int send_request(int fd, char *data, size_t len, int pass_stdio)
{
	size_t sent = 0;
	while (sent < len) {
		struct iovec iov = {.iov_base = data + sent, .iov_len = len - sent};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		union {
			struct cmsghdr header; /* aligns bytes for a cmsghdr */
			char bytes[CMSG_SPACE(3 * sizeof(int))];
		} control;
		if (pass_stdio && sent == 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.bytes;
			msg.msg_controllen = sizeof(control.bytes);
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(3 * sizeof(int));
			const int stdio[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
			memcpy(CMSG_DATA(c), stdio, sizeof(stdio));
		}
		/* MSG_NOSIGNAL: a daemon that hung up early is an error to report, not a
		 * reason to die of SIGPIPE before reading what it said. */
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sent += (size_t)n;
	}
	return 0;
}

/* Reads until the daemon closes the connection. Returns 0 or -errno (-EFBIG past
 * CTL_RESPONSE_MAX_BYTES). */
static int read_response(int fd, char **ret_data, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *data = malloc(cap);
	if (!data)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > CTL_RESPONSE_MAX_BYTES) {
				free(data);
				return -EFBIG;
			}
			/* One byte past the limit tells a full response from a long one. */
			cap = cap * 2 > CTL_RESPONSE_MAX_BYTES ? CTL_RESPONSE_MAX_BYTES + 1
							       : cap * 2;
			char *grown = realloc(data, cap);
			if (!grown) {
				free(data);
				return -ENOMEM;
			}
			data = grown;
		}
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int error = errno;
			free(data);
			return -error;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_data = data;
	*ret_len = len;
	return 0;
}

/* The exit status of `run`, as a shell would report it for the program itself. */
static int run_status(const struct ctl_response *response)
{
	int64_t code, signal;
	if (ctl_response_num(response, "exit", "code", &code) < 0 ||
	    ctl_response_num(response, "exit", "signal", &signal) < 0)
		die(1, "bad response from packosd: no exit code and signal for run");
	if (signal > 0 && signal < 128)
		return 128 + (int)signal;
	if (signal == 0 && code >= 0 && code <= 255)
		return (int)code;
	die(1, "bad response from packosd: exit code %lld, signal %lld", (long long)code,
	    (long long)signal);
}

int main(int argc, char **argv)
{
	const char *socket_path = NULL;
	int json = 0;
	int first = 1;

	open_standard_streams();
	/* Options come before the command; everything after it belongs to the command. */
	for (; first < argc && argv[first][0] == '-'; first++) {
		const char *option = argv[first];
		if (strcmp(option, "--json") == 0) {
			json = 1;
		} else if (strcmp(option, "--socket") == 0) {
			if (++first == argc)
				usage_error("--socket needs a PATH");
			socket_path = argv[first];
		} else if (strncmp(option, "--socket=", 9) == 0) {
			socket_path = option + 9;
		} else if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(option, "--") == 0) {
			first++;
			break;
		} else {
			usage_error("unknown option %s", option);
		}
	}
	if (first == argc)
		usage_error("no command given");

	const struct command *command = find_command(argv[first]);
	if (!command)
		usage_error("unknown command %s", argv[first]);
	int nargs = argc - first - 1;
	if (nargs < command->min_args || (command->max_args >= 0 && nargs > command->max_args))
		usage_error("wrong number of arguments for %s", argv[first]);
	if (strcmp(command->name, "help") == 0) {
		usage(stdout);
		return 0;
	}

	const char **request_argv = calloc((size_t)nargs + 1, sizeof(*request_argv));
	if (!request_argv)
		die(1, "out of memory");
	/* Aliases stay on this side: the daemon knows each command by one name. */
	request_argv[0] = command->name;
	for (int i = 0; i < nargs; i++)
		request_argv[i + 1] = argv[first + 1 + i];
	char *capture_path = NULL;
	if (strcmp(command->name, "trace") == 0) {
		const char *action = request_argv[1];
		if (!(strcmp(action, "start") == 0 ||
		      ((strcmp(action, "stop") == 0 || strcmp(action, "show") == 0) && nargs == 1)))
			usage_error("trace takes start [N], stop or show");
	}
	if (strcmp(command->name, "capture") == 0) {
		const char *action = request_argv[1];
		if (strcmp(action, "start") == 0 && nargs == 2) {
			capture_path = absolute_capture_path(request_argv[2]);
			if (!capture_path)
				die(1, "out of memory");
			request_argv[2] = capture_path;
		} else if (!(strcmp(action, "stop") == 0 && nargs == 1)) {
			usage_error("capture takes start FILE or stop");
		}
	}
	int is_run = strcmp(command->name, "run") == 0;
	int is_trace_show =
		strcmp(command->name, "trace") == 0 && strcmp(request_argv[1], "show") == 0;

	struct ctl_out request;
	ctl_out_init(&request);
	int r = ctl_request_encode(&request, nargs + 1, request_argv);
	if (r == -E2BIG)
		die(EXIT_USAGE,
		    "the command is too long for packosd (at most %d arguments, %d bytes)",
		    CTL_REQUEST_MAX_ARGS, CTL_REQUEST_MAX_BYTES);
	if (r == -EINVAL)
		die(EXIT_USAGE, "an empty argument cannot be sent to packosd");
	if (r < 0)
		die(1, "out of memory");
	free(capture_path);
	free(request_argv);

	char default_path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	if (!socket_path) {
		if (ctl_default_socket_path(default_path, sizeof(default_path)) < 0)
			die(1, "the default socket path is too long; give one with --socket");
		socket_path = default_path;
	}
	int fd = connect_to(socket_path);
	int send_error = send_request(fd, request.data, request.len, is_run);
	ctl_out_free(&request);

	/* Even when sending failed, the daemon may have said why before hanging up. */
	char *data = NULL;
	size_t len = 0;
	r = read_response(fd, &data, &len);
	close(fd);
	if (r == -EFBIG)
		die(1, "the response from packosd is larger than %d bytes", CTL_RESPONSE_MAX_BYTES);
	if (send_error < 0 && (r < 0 || len == 0))
		die(1, "lost packosd at %s: %s", socket_path, strerror(-send_error));
	if (r < 0)
		die(1, "lost packosd at %s: %s", socket_path, strerror(-r));

	struct ctl_response response;
	char reason[512];
	if (ctl_response_parse(data, len, &response, reason, sizeof(reason)) < 0)
		die(1, "bad response from packosd: %s", reason);
	free(data);

	/* For people, run's own output is the program's; its answer only says how it ended.
	 * A trace reads as numbered steps rather than as a table. */
	if (!json && is_trace_show && !response.error) {
		if (trace_render_steps(&response, stdout) < 0)
			die(1, "cannot show the trace: %s",
			    ferror(stdout) ? strerror(errno) : "packosd's answer is not a trace");
	} else if ((json || !is_run || response.error) &&
		   ctl_render(&response, json, stdout, stderr) < 0) {
		die(1, "cannot write the answer: %s", strerror(errno));
	}
	int status = response.error ? 1 : is_run ? run_status(&response) : 0;
	ctl_response_free(&response);
	return status;
}
