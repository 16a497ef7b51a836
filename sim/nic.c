/* The NIC in packosd: the device model (tap-bridge/) wired to a TAP device, the faulty
 * wire, and the event loop.
 *
 * The device lives in the daemon rather than in a process beside it because it is part
 * of the machine the kernel runs on: its IOMMU check reads the kernel's frame table and
 * its interrupt enters the kernel, both plain O(1) calls on the daemon's one thread, with
 * nothing in between that could see a frame change hands halfway (docs/network.md).
 *
 * Frames from the TAP are read, once a multishot poll says it is readable, into a bounce
 * buffer until it is empty, and copied into the driver's RX frame only once the device has
 * checked its descriptor: reading straight into a frame would let a read in flight write
 * into a frame the driver has since freed. One poll rather than reads kept in flight: each
 * of those waits on the TAP on its own, and every packet would wake them all.
 * Frames to the TAP go out from the pool with one writev, header and packet apart. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "daemon.h"

/* writev never writes through an iovec, but its type cannot say so. */
static struct iovec io_part(const void *bytes, size_t length)
{
	return (struct iovec){(void *)(uintptr_t)bytes, length};
}

static int write_to_tap(struct sim_nic *nic, const struct iovec *parts, int count)
{
	return writev(nic->tap_fd, parts, count) < 0 ? -errno : 0;
}

/* The device's transmit: straight to the TAP, or through the faulty wire. */
static int transmit(void *context, const uint8_t header[NIC_ETHERNET_HEADER], const uint8_t *packet,
		    size_t length)
{
	struct sim_nic *nic = context;
	if (nic->tap_fd < 0)
		return -ENOTCONN;
	if (!wire_is_faulty(&nic->wire)) {
		struct iovec parts[2] = {io_part(header, NIC_ETHERNET_HEADER),
					 io_part(packet, length)};
		return write_to_tap(nic, parts, 2);
	}
	memcpy(nic->scratch, header, NIC_ETHERNET_HEADER);
	memcpy(nic->scratch + NIC_ETHERNET_HEADER, packet, length);
	wire_pass(&nic->wire, WIRE_TO_HOST, nic->scratch, NIC_ETHERNET_HEADER + length,
		  loop_now_ns());
	return 0;
}

/* The far end of the faulty wire. */
static void wire_delivered(void *context, enum wire_direction direction, const uint8_t *frame,
			   size_t length)
{
	struct sim_nic *nic = context;
	if (direction == WIRE_TO_DEVICE) {
		nic_device_receive(&nic->device, frame, length);
		return;
	}
	struct iovec part = io_part(frame, length);
	if (write_to_tap(nic, &part, 1) < 0)
		nic->device.regs->counters.tx_link_errors++;
}

static void arm_tap_poll(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_poll_multishot(sqe, nic->tap_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, event_tag(EV_TAP_READABLE, 0, 0));
	nic->tap_polled = true;
}

static void stop_tap_poll(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_cancel_fd(sqe, d->nic.tap_fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CANCEL, 0, 0));
}

enum tap_state { TAP_EMPTY, TAP_MORE, TAP_GONE };

/* Frames read from the TAP at a time: a host sending faster than the daemon reads must not
 * keep it from its other work (NAPI's budget). */
enum { TAP_READ_BUDGET = 64 };

/* Comes back through the ring, after the completions already there, to read on. */
static void read_tap_later(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, event_tag(EV_TAP_MORE, 0, 0));
}

/* Takes what the TAP holds, up to the budget, to the device (or the faulty wire). */
static enum tap_state read_tap(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	for (unsigned i = 0; i < TAP_READ_BUDGET; i++) {
		ssize_t got = read(nic->tap_fd, nic->rx_buffer, sizeof nic->rx_buffer);
		if (got > 0) {
			if (wire_is_faulty(&nic->wire))
				wire_pass(&nic->wire, WIRE_TO_DEVICE, nic->rx_buffer, (size_t)got,
					  loop_now_ns());
			else
				nic_device_receive(&nic->device, nic->rx_buffer, (size_t)got);
			continue;
		}
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			return TAP_EMPTY;
		/* The TAP went away under us (deleted on the host): the cable is pulled for
		 * good, and reading again would only fail again. */
		if (nic->device.regs->link)
			log_error("TAP %s: %s; the nic's link is down", nic->tap_name,
				  got < 0 ? strerror(errno) : "end of file");
		nic_device_set_link(&nic->device, false);
		return TAP_GONE;
	}
	return TAP_MORE;
}

static void arm_kick(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_read(sqe, nic->kick_fd, &nic->kick_value, sizeof nic->kick_value, 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_NIC_KICK, 0, 0));
}

/* A daemon that was killed leaves its TAP attached until the kernel has finished tearing
 * its io_uring down, a moment after the exit: a restart right away waits that moment out
 * rather than failing. */
static int open_tap(const char *name, char ret_name[IFNAMSIZ])
{
	int fd = tap_open(name, ret_name);
	for (int tries = 0; fd == -EBUSY && tries < 20; tries++) {
		nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
		fd = tap_open(name, ret_name);
	}
	return fd;
}

int nic_init(struct daemon *d, char *err, size_t errlen)
{
	struct sim_nic *nic = &d->nic;
	nic->tap_fd = -1;
	nic->region_fd = memfd_create("packos-nic", MFD_CLOEXEC);
	if (nic->region_fd < 0 || ftruncate(nic->region_fd, PK_NIC_REGION_SIZE) < 0 ||
	    (nic->region = mmap(NULL, PK_NIC_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				nic->region_fd, 0)) == MAP_FAILED) {
		nic->region = NULL;
		snprintf(err, errlen, "NIC registers: %s", strerror(errno));
		return -1;
	}
	nic->kick_fd = eventfd(0, EFD_CLOEXEC);
	if (nic->kick_fd < 0) {
		snprintf(err, errlen, "NIC doorbell: %s", strerror(errno));
		return -1;
	}
	struct nic_device_config cfg = {
		.mtu = d->opt.nic_mtu,
		.irq_line = SIM_NIC_IRQ_LINE,
		.transmit = transmit,
		.transmit_context = nic,
		.observe = tracing_nic_event,
		.observe_context = d,
	};
	memcpy(cfg.mac, d->opt.nic_mac, sizeof cfg.mac);
	if (nic_device_init(&nic->device, nic->region, &cfg, d->kernel, d->pool) < 0) {
		snprintf(err, errlen, "NIC: MTU %u out of range (1280 to %u)", d->opt.nic_mtu,
			 PK_FRAME_SIZE);
		return -1;
	}
	if (wire_init(&nic->wire, &d->opt.wire_faults, wire_delivered, nic,
		      &nic->device.regs->counters) < 0) {
		snprintf(err, errlen, "wire: %s", strerror(errno));
		return -1;
	}
	if (d->opt.tap_name != NULL) {
		int fd = open_tap(d->opt.tap_name, nic->tap_name);
		if (fd < 0) {
			snprintf(err, errlen, "TAP %s: %s (%s)", d->opt.tap_name, strerror(-fd),
				 fd == -EBUSY ? "another program has it attached; another packosd?"
					      : "create it once with scripts/host-net up, or run "
						"as root");
			return -1;
		}
		nic->tap_fd = fd;
		nic_device_set_link(&nic->device, true);
	}
	return 0;
}

void nic_start(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	arm_kick(d);
	if (nic->tap_fd >= 0)
		arm_tap_poll(d);
}

/* A poll in flight holds the TAP open inside the ring, and the ring's teardown finishes
 * asynchronously, after the daemon has exited: a daemon started right after this one
 * would find the device still attached (EBUSY). So the poll ends here, before the exit. */
static void cancel_tap_poll(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	if (!nic->tap_polled)
		return;
	stop_tap_poll(d);
	io_uring_submit(&d->ring);
	while (nic->tap_polled) {
		struct __kernel_timespec limit = {.tv_sec = 1};
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe_timeout(&d->ring, &cqe, &limit) < 0) {
			log_error("TAP %s: its poll would not end", nic->tap_name);
			return;
		}
		if (event_kind_of(cqe->user_data) == EV_TAP_READABLE &&
		    !(cqe->flags & IORING_CQE_F_MORE))
			nic->tap_polled = false;
		io_uring_cqe_seen(&d->ring, cqe);
	}
}

void nic_fini(struct daemon *d)
{
	struct sim_nic *nic = &d->nic;
	if (nic->tap_fd >= 0)
		cancel_tap_poll(d);
	wire_fini(&nic->wire);
	if (nic->tap_fd >= 0)
		close(nic->tap_fd);
	if (nic->kick_fd >= 0)
		close(nic->kick_fd);
	if (nic->region != NULL)
		munmap(nic->region, PK_NIC_REGION_SIZE);
	if (nic->region_fd >= 0)
		close(nic->region_fd);
}

void nic_attach_driver(struct daemon *d, struct sim_proc *p)
{
	nic_device_attach(&d->nic.device, p->kproc);
	p->drives_nic = true;
}

void nic_driver_gone(struct daemon *d, struct sim_proc *p)
{
	if (!p->drives_nic)
		return;
	p->drives_nic = false;
	nic_device_detach(&d->nic.device);
	log_info("%s no longer drives the nic; the device is reset", p->name);
}

/* The NIC's one timeout, armed for `due` unless it fires sooner already. */
static void arm_timer(struct daemon *d, uint64_t due)
{
	struct sim_nic *nic = &d->nic;
	if (due == UINT64_MAX || (nic->timer_armed && nic->timer_due <= due))
		return;
	if (nic->timer_armed)
		loop_cancel(d, event_tag(EV_NIC_TIMER, 0, 0));
	nic->timer_due = due;
	nic->timer_armed = true;
	nic->timeout.tv_sec = (long long)(due / 1000000000u);
	nic->timeout.tv_nsec = (long long)(due % 1000000000u);
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_timeout(sqe, &nic->timeout, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, event_tag(EV_NIC_TIMER, 0, 0));
}

/* The faulty wire's next release is always timed. */
static void arm_wire_timer(struct daemon *d)
{
	arm_timer(d, wire_next_due(&d->nic.wire));
}

void nic_poll(struct daemon *d, uint64_t now_ns)
{
	nic_device_raise_due(&d->nic.device, now_ns);
}

/* A held-back interrupt is raised by the polling loop when it is due (nic_poll); only a
 * daemon about to sleep needs a timeout for it, which spares one per packet sent. */
void nic_before_sleep(struct daemon *d)
{
	arm_timer(d, nic_device_interrupt_due(&d->nic.device));
}

void nic_on_completion(struct daemon *d, enum event_kind kind, int res, bool more)
{
	struct sim_nic *nic = &d->nic;
	switch (kind) {
	case EV_TAP_READABLE:
	case EV_TAP_MORE:
		if (kind == EV_TAP_READABLE && !more)
			nic->tap_polled = false;
		if (res == -ECANCELED)
			return;
		switch (read_tap(d)) {
		case TAP_GONE:
			if (nic->tap_polled)
				stop_tap_poll(d); /* it would say "readable" for ever */
			arm_wire_timer(d);
			return;
		case TAP_MORE:
			read_tap_later(d);
			break;
		case TAP_EMPTY:
			break;
		}
		if (!nic->tap_polled)
			arm_tap_poll(d); /* the ring ended it (overflow): poll anew */
		break;
	case EV_NIC_KICK:
		if (res == -ECANCELED)
			return;
		tracing_doorbell(d, false);
		nic_device_transmit(&nic->device, loop_now_ns());
		arm_kick(d);
		break;
	case EV_NIC_TIMER:
		if (res == -ECANCELED)
			return;
		nic->timer_armed = false;
		wire_release_due(&nic->wire, loop_now_ns());
		nic_device_raise_due(&nic->device, loop_now_ns());
		break;
	default:
		return;
	}
	arm_wire_timer(d);
}

void nic_driver_entered(struct daemon *d)
{
	const struct pk_nic_regs *regs = d->nic.device.regs;
	if (__atomic_load_n(&regs->tx_tail, __ATOMIC_ACQUIRE) == regs->tx_head)
		return;
	tracing_doorbell(d, true);
	nic_device_transmit(&d->nic.device, loop_now_ns());
	arm_wire_timer(d);
}
