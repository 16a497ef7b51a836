/* PackOS processes as Linux processes: spawn, fault, reap.
 *
 * A PackOS process is a kernel process (its frames, endpoints, quota) plus a Linux process
 * running its program with three descriptors: its channel page, its doorbell, and the
 * frame pool. The daemon learns of its death from a pidfd, whatever the cause (exit,
 * crash, kill -9 from anyone), and reclaims everything the kernel held for it at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

/* Where a program finds its descriptors; PK_SIM_ENV says so. */
enum {
	CHILD_CHANNEL_FD = 3,
	CHILD_DOORBELL_FD,
	CHILD_POOL_FD,
	CHILD_NIC_REGION_FD, /* these two only for the NIC's driver */
	CHILD_NIC_KICK_FD,
	CHILD_STATUS_FD
};

/* What a child gets besides its stdio and its channel. */
struct child_fds {
	int channel, doorbell, pool, status;
	int nic_region, nic_kick; /* -1 unless it drives the NIC */
};

int procs_init(struct daemon *d)
{
	d->proc_capacity = d->kcfg.max_procs;
	d->procs = calloc(d->proc_capacity, sizeof *d->procs);
	d->proc_of_kernel_index = malloc(d->proc_capacity * sizeof *d->proc_of_kernel_index);
	if (d->procs == NULL || d->proc_of_kernel_index == NULL)
		return -1;
	for (uint32_t i = 0; i < d->proc_capacity; i++)
		d->proc_of_kernel_index[i] = NO_PROC;
	d->resume_head = NO_PROC;
	return 0;
}

void procs_fini(struct daemon *d)
{
	free(d->procs);
	free(d->proc_of_kernel_index);
	d->procs = NULL;
	d->proc_of_kernel_index = NULL;
}

struct sim_proc *proc_by_name(struct daemon *d, const char *name)
{
	for (uint32_t i = 0; i < d->proc_capacity; i++)
		if (d->procs[i].state != PROC_FREE && strcmp(d->procs[i].name, name) == 0)
			return &d->procs[i];
	return NULL;
}

struct sim_proc *proc_by_pid(struct daemon *d, pid_t pid)
{
	for (uint32_t i = 0; i < d->proc_capacity; i++)
		if (d->procs[i].state != PROC_FREE && d->procs[i].pid == pid)
			return &d->procs[i];
	return NULL;
}

struct sim_proc *proc_of_kernel(struct daemon *d, pk_proc_t kproc)
{
	uint32_t index = PK_HANDLE_INDEX(kproc);
	if (index >= d->proc_capacity || d->proc_of_kernel_index[index] == NO_PROC)
		return NULL;
	struct sim_proc *p = &d->procs[d->proc_of_kernel_index[index]];
	return p->kproc == kproc ? p : NULL;
}

static void forget_kernel_proc(struct daemon *d, struct sim_proc *p)
{
	nic_driver_gone(d, p);
	if (p->kproc == 0)
		return;
	d->proc_of_kernel_index[PK_HANDLE_INDEX(p->kproc)] = NO_PROC;
	p->kproc = 0;
}

void proc_addresses(struct daemon *d, struct sim_proc *p, char *buf, size_t size)
{
	struct kernel_endpoint_info info[PK_BOOT_ENDPOINTS];
	buf[0] = '\0';
	if (p->kproc == 0)
		return;
	int count = kernel_proc_endpoints(d->kernel, p->kproc, info, PK_BOOT_ENDPOINTS);
	size_t used = 0;
	for (int i = 0; i < count && i < (int)PK_BOOT_ENDPOINTS; i++) {
		char text[64];
		manifest_format_address(d->kcfg.kan_prefix, info[i].iid, text, sizeof text);
		int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", text);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static bool is_program(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* A bare program name is looked up in the program directories, where a program built in
 * a folder of its own (servers/nic-driver/nic-driver) is found too; a path is taken as
 * is. */
static int find_program(const struct daemon *d, const char *program, char *path, size_t size)
{
	if (strchr(program, '/') != NULL) {
		if (snprintf(path, size, "%s", program) >= (int)size)
			return -ENAMETOOLONG;
		return is_program(path) ? 0 : access(path, X_OK) < 0 ? -errno : -EACCES;
	}
	for (unsigned i = 0; i < d->opt.program_dir_count; i++) {
		const char *dir = d->opt.program_dirs[i];
		if (snprintf(path, size, "%s/%s", dir, program) < (int)size && is_program(path))
			return 0;
		if (snprintf(path, size, "%s/%s/%s", dir, program, program) < (int)size &&
		    is_program(path))
			return 0;
	}
	return -ENOENT;
}

/* In the child, between fork and exec: only async-signal-safe calls that cannot leave
 * the daemon's state half-changed. Any failure is reported through the status pipe. */
static _Noreturn void exec_child(const char *path, char *const argv[], const int stdio[3],
				 const struct child_fds *fds, pid_t daemon_pid)
{
	int err;
	int status_fd = fds->status;
	/* If the daemon dies, so do its processes: nothing is left behind. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != daemon_pid)
		_exit(127);
	/* Its own process group: a terminal's ^C reaches the daemon, which stops its
	 * processes in order, rather than every process at once. */
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	bool drives_nic = fds->nic_region >= 0;
	int sources[CHILD_STATUS_FD + 1] = {
		stdio[0] >= 0 ? stdio[0] : null_fd,
		stdio[1] >= 0 ? stdio[1] : STDERR_FILENO,
		stdio[2] >= 0 ? stdio[2] : STDERR_FILENO,
		fds->channel,
		fds->doorbell,
		fds->pool,
		drives_nic ? fds->nic_region : null_fd,
		drives_nic ? fds->nic_kick : null_fd,
		status_fd,
	};
	/* Move every source above the targets first, so no dup2 overwrites a source. */
	int moved[CHILD_STATUS_FD + 1];
	for (int i = 0; i <= CHILD_STATUS_FD; i++) {
		moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, CHILD_STATUS_FD + 1);
		if (moved[i] < 0)
			goto fail;
	}
	for (int i = 0; i < CHILD_STATUS_FD; i++)
		if (dup2(moved[i], i) < 0)
			goto fail;
	if (dup3(moved[CHILD_STATUS_FD], CHILD_STATUS_FD, O_CLOEXEC) < 0)
		goto fail;
	status_fd = CHILD_STATUS_FD;
	if (syscall(SYS_close_range, CHILD_STATUS_FD + 1, ~0u, 0) < 0)
		goto fail;
	char text[32];
	snprintf(text, sizeof text, "%d,%d,%d", CHILD_CHANNEL_FD, CHILD_DOORBELL_FD, CHILD_POOL_FD);
	if (setenv(PK_SIM_ENV, text, 1) < 0)
		goto fail;
	if (drives_nic) {
		snprintf(text, sizeof text, "%d,%d", CHILD_NIC_REGION_FD, CHILD_NIC_KICK_FD);
		if (setenv(PK_SIM_NIC_ENV, text, 1) < 0)
			goto fail;
	} else {
		close(CHILD_NIC_REGION_FD);
		close(CHILD_NIC_KICK_FD);
		unsetenv(PK_SIM_NIC_ENV);
	}
	execv(path, argv);
fail:
	err = errno;
	if (write(status_fd, &err, sizeof err) < 0)
		_exit(126);
	_exit(127);
}

static void fill_boot_record(struct daemon *d, struct pk_boot_record *b, const char *name,
			     uint32_t rights)
{
	b->magic = PK_CHANNEL_MAGIC;
	b->version = PK_CHANNEL_VERSION;
	b->isolation = d->opt.isolation;
	b->frame_count = d->kcfg.frame_count;
	b->rights = rights;
	memcpy(b->kan_prefix, d->kcfg.kan_prefix, sizeof b->kan_prefix);
	snprintf(b->name, sizeof b->name, "%s", name);
}

/* Binds the manifest's addresses (or one the kernel picks) and records them for boot. */
static int bind_addresses(struct daemon *d, pk_proc_t kproc, const struct manifest_entry *e,
			  struct pk_boot_record *b, char *err, size_t errlen)
{
	unsigned count = e->address_count > 0 ? e->address_count : 1;
	for (unsigned i = 0; i < count; i++) {
		uint64_t iid = e->address_count > 0 ? e->iid[i] : 0;
		struct pk_kcall call = {.nr = PK_KC_endpoint_create, .arg = {iid}};
		struct pk_kresult r;
		if (kernel_call(d->kernel, kproc, &call, &r) < 0) {
			char text[64];
			manifest_format_address(d->kcfg.kan_prefix, iid, text, sizeof text);
			snprintf(err, errlen, "cannot bind %s: %s", iid ? text : "an address",
				 kernel_error_name((int)r.status));
			return -1;
		}
		b->endpoint[i].handle = r.ret[0];
		memcpy(b->endpoint[i].address, d->kcfg.kan_prefix, PK_KAN_PREFIX_SIZE);
		for (unsigned j = 0; j < 8; j++)
			b->endpoint[i].address[8 + j] = (uint8_t)(r.ret[1] >> (56 - 8 * j));
	}
	b->endpoint_count = count;
	return 0;
}

/* Forks and execs; returns the pid, or -1 with err filled once the child said why. */
static pid_t start_child(struct daemon *d, const char *path, char *const argv[], const int stdio[3],
			 struct child_fds *fds, char *err, size_t errlen)
{
	int status_pipe[2];
	if (pipe2(status_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fds->pool = d->pool_fd;
	fds->status = status_pipe[1];
	pid_t daemon_pid = getpid();
	pid_t pid = fork();
	if (pid == 0)
		exec_child(path, argv, stdio, fds, daemon_pid);
	close(status_pipe[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(status_pipe[0]);
		return -1;
	}
	/* EOF means the exec succeeded (the pipe closed on exec); an errno means it did not. */
	int child_errno = 0;
	ssize_t n;
	do
		n = read(status_pipe[0], &child_errno, sizeof child_errno);
	while (n < 0 && errno == EINTR);
	close(status_pipe[0]);
	if (n == 0)
		return pid;
	waitpid(pid, NULL, 0);
	snprintf(err, errlen, "cannot run %s: %s", path,
		 n == sizeof child_errno ? strerror(child_errno) : "setup failed");
	return -1;
}

static struct sim_proc *free_slot(struct daemon *d)
{
	for (uint32_t i = 0; i < d->proc_capacity; i++)
		if (d->procs[i].state == PROC_FREE)
			return &d->procs[i];
	return NULL;
}

int proc_spawn(struct daemon *d, const struct manifest_entry *entry, const int stdio[3], char *err,
	       size_t errlen)
{
	char path[PATH_MAX];
	struct sim_proc *p = NULL;
	pk_proc_t kproc = 0;
	struct pk_channel_page *channel = MAP_FAILED;
	const size_t channel_size = (size_t)PK_CHANNEL_RINGS * PK_CHANNEL_SIZE;
	int channel_fd = -1, doorbell = -1, pidfd = -1;
	pid_t pid = -1;

	if (d->stopping) {
		snprintf(err, errlen, "packosd is stopping");
		goto fail;
	}
	if (proc_by_name(d, entry->name) != NULL) {
		snprintf(err, errlen, "a process named '%s' is running", entry->name);
		goto fail;
	}
	int found = find_program(d, entry->program, path, sizeof path);
	if (found < 0) {
		snprintf(err, errlen, "program '%s': %s", entry->program, strerror(-found));
		goto fail;
	}
	p = free_slot(d);
	int created = p ? kernel_proc_create(d->kernel, entry->rights, entry->quota, &kproc) : -1;
	if (created < 0) {
		snprintf(err, errlen, "process table full (%u processes)", d->proc_capacity);
		goto fail;
	}
	channel_fd = memfd_create("packos-channel", MFD_CLOEXEC);
	/* The pages of rings no thread has claimed stay untouched, and so cost no memory. */
	if (channel_fd < 0 || ftruncate(channel_fd, (off_t)channel_size) < 0 ||
	    (channel = mmap(NULL, channel_size, PROT_READ | PROT_WRITE, MAP_SHARED, channel_fd,
			    0)) == MAP_FAILED) {
		snprintf(err, errlen, "channel: %s", strerror(errno));
		goto fail;
	}
	fill_boot_record(d, &channel->boot, entry->name, entry->rights);
	atomic_store(&channel->rings_in_use, 1u);
	if (bind_addresses(d, kproc, entry, &channel->boot, err, errlen) < 0)
		goto fail;
	doorbell = eventfd(0, EFD_CLOEXEC);
	if (doorbell < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	bool drives_nic = entry->device == MANIFEST_DEVICE_NIC;
	if (drives_nic && d->nic.device.driver != 0) {
		snprintf(err, errlen, "the nic already has a driver");
		goto fail;
	}
	struct child_fds fds = {
		.channel = channel_fd,
		.doorbell = doorbell,
		.nic_region = drives_nic ? d->nic.region_fd : -1,
		.nic_kick = drives_nic ? d->nic.kick_fd : -1,
	};
	pid = start_child(d, path, entry->argv, stdio, &fds, err, errlen);
	if (pid < 0)
		goto fail;
	pidfd = d->reap_by_sigchld ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno == ENOSYS && !d->reap_by_sigchld) {
		/* Kernels before 5.3, and valgrind before 3.20, have no pidfd_open. */
		log_info("no pidfds here; reaping processes on SIGCHLD instead");
		d->reap_by_sigchld = true;
	}
	if (pidfd < 0 && !d->reap_by_sigchld) {
		snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto fail;
	}
	close(channel_fd);

	uint32_t gen = p->gen + 1;
	*p = (struct sim_proc){
		.state = PROC_RUNNING,
		.gen = gen,
		.pid = pid,
		.pidfd = pidfd,
		.doorbell = doorbell,
		.channel = channel,
		.kproc = kproc,
		.waiter = -1,
	};
	for (unsigned i = 0; i < PK_CHANNEL_RINGS; i++)
		p->ring[i].page = &channel[i];
	snprintf(p->name, sizeof p->name, "%s", entry->name);
	clock_gettime(CLOCK_MONOTONIC, &p->started);
	d->proc_of_kernel_index[PK_HANDLE_INDEX(kproc)] = (uint32_t)(p - d->procs);
	d->live_procs++;
	d->counters.spawned++;
	if (drives_nic)
		nic_attach_driver(d, p);
	loop_arm_doorbell(d, p);
	if (pidfd >= 0)
		loop_arm_pidfd(d, p);
	char addresses[256];
	proc_addresses(d, p, addresses, sizeof addresses);
	log_info("started %s (pid %d) at %s", p->name, (int)pid, addresses);
	return (int)(p - d->procs);

fail:
	d->counters.spawn_failures++;
	if (kproc != 0)
		kernel_proc_destroy(d->kernel, kproc);
	if (channel != MAP_FAILED)
		munmap(channel, channel_size);
	if (channel_fd >= 0)
		close(channel_fd);
	if (doorbell >= 0)
		close(doorbell);
	return -1;
}

void proc_kill(struct daemon *d, struct sim_proc *p, int signal)
{
	(void)d;
	/* Without a pidfd, kill() by pid is still safe: the pid cannot be reused before
	 * the daemon reaps it. */
	long sent = p->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, p->pidfd, signal, NULL, 0)
				  : kill(p->pid, signal);
	if (sent < 0 && errno != ESRCH)
		log_error("cannot signal %s (pid %d): %s", p->name, (int)p->pid, strerror(errno));
}

void proc_fault(struct daemon *d, struct sim_proc *p, const char *fmt, ...)
{
	if (p->state != PROC_RUNNING)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->fault, sizeof p->fault, fmt, ap);
	va_end(ap);
	if (p->kproc != 0)
		kernel_proc_destroy(d->kernel, p->kproc);
	forget_kernel_proc(d, p);
	p->state = PROC_DYING;
	channel_unpark_all(p);
	d->counters.faulted++;
	log_error("%s (pid %d) faulted: %s; killing it", p->name, (int)p->pid, p->fault);
	proc_kill(d, p, SIGKILL);
}

/* The process has exited and been reaped (its pid is free): reclaim and forget it. */
static void proc_reaped(struct daemon *d, struct sim_proc *p, int code, int signal)
{
	if (p->state == PROC_RUNNING) {
		kernel_proc_destroy(d->kernel, p->kproc);
		forget_kernel_proc(d, p);
		if (signal != 0)
			log_info("%s (pid %d) killed by signal %d (%s); reclaimed", p->name,
				 (int)p->pid, signal, strsignal(signal));
		else
			log_info("%s (pid %d) exited with status %d; reclaimed", p->name,
				 (int)p->pid, code);
	}
	channel_forget(d, p);
	channel_unpark_all(p);
	loop_cancel(d, event_tag(EV_DOORBELL, p->gen, (uint32_t)(p - d->procs)));
	if (p->pidfd >= 0)
		close(p->pidfd);
	close(p->doorbell);
	munmap(p->channel, (size_t)PK_CHANNEL_RINGS * PK_CHANNEL_SIZE);
	if (p->waiter >= 0)
		control_process_exited(d, p, code, signal);
	d->counters.exited++;
	d->live_procs--;
	*p = (struct sim_proc){.state = PROC_FREE, .gen = p->gen, .waiter = -1};
}

static void exit_status(const siginfo_t *info, int *code, int *signal)
{
	*code = info->si_code == CLD_EXITED ? info->si_status : 0;
	*signal = info->si_code == CLD_EXITED ? 0 : info->si_status;
}

/* The pidfd says the process is gone, but it cannot be reaped yet: a tracer (strace, gdb)
 * holds its zombie until it lets go, and the pidfd stays readable meanwhile. Look again a
 * little later, not at once: a timeout linked to a new poll (-ETIME counts as success, so
 * the link goes on). Its own completion is one the loop ignores. */
static void poll_exit_again_later(struct daemon *d, struct sim_proc *p)
{
	static struct __kernel_timespec later = {.tv_nsec = 10 * 1000 * 1000};
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_timeout(sqe, &later, 0, IORING_TIMEOUT_ETIME_SUCCESS);
	io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CANCEL, 0, 0));
	loop_arm_pidfd(d, p);
}

void proc_exited(struct daemon *d, struct sim_proc *p)
{
	siginfo_t info = {0};
	if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &info, WEXITED | WNOHANG) < 0 ||
	    info.si_pid == 0) {
		poll_exit_again_later(d, p);
		return;
	}
	int code, signal;
	exit_status(&info, &code, &signal);
	proc_reaped(d, p, code, signal);
}

void procs_reap_children(struct daemon *d)
{
	for (;;) {
		siginfo_t info = {0};
		if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
			return;
		struct sim_proc *p = proc_by_pid(d, info.si_pid);
		if (p == NULL)
			continue;
		int code, signal;
		exit_status(&info, &code, &signal);
		proc_reaped(d, p, code, signal);
	}
}
