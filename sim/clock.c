/* The kernel's clock in packosd: a timerfd, read through the event loop, calls
 * kernel_clock_tick once per period (the kernel's tick_ns, --tick-us).
 *
 * The timer runs only while some endpoint is subscribed, so a daemon whose programs need
 * no time takes no wake-ups for it: the first successful tick_subscribe starts it, and the
 * first expiry that finds no subscriber left stops it (one period late at most, which
 * keeps the kernel call itself free of any hook back into the port).
 *
 * A daemon that fell behind (a busy core, a stopped process) reads several expirations at
 * once. It fires that many ticks, so tick numbers stay tied to time and subscribers see the
 * ticks they did not get as missed, up to CLOCK_CATCH_UP ticks; beyond that, the rest are
 * counted as overruns and not fired, so no backlog can make one expiry unbounded. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon.h"

#define CLOCK_CATCH_UP 64u

static void arm_read(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_get_sqe(d);
	io_uring_prep_read(sqe, d->clock.fd, &d->clock.expirations, sizeof d->clock.expirations, 0);
	io_uring_sqe_set_data64(sqe, event_tag(EV_CLOCK, 0, 0));
	d->clock.read_armed = true;
}

static int set_timer(struct daemon *d, uint64_t period_ns)
{
	struct timespec period = {.tv_sec = (time_t)(period_ns / 1000000000u),
				  .tv_nsec = (long)(period_ns % 1000000000u)};
	struct itimerspec spec = {.it_interval = period, .it_value = period};
	return timerfd_settime(d->clock.fd, 0, &spec, NULL) < 0 ? -errno : 0;
}

int clock_init(struct daemon *d, char *err, size_t errlen)
{
	d->clock.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (d->clock.fd < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void clock_fini(struct daemon *d)
{
	if (d->clock.fd >= 0)
		close(d->clock.fd);
	d->clock.fd = -1;
}

void clock_subscribed(struct daemon *d)
{
	if (d->clock.running)
		return;
	int err = set_timer(d, d->kcfg.tick_ns);
	if (err < 0) {
		log_error("the clock's timer: %s; no ticks", strerror(-err));
		return;
	}
	d->clock.running = true;
	d->clock.starts++;
	if (!d->clock.read_armed)
		arm_read(d);
}

static void stop(struct daemon *d)
{
	set_timer(d, 0);
	d->clock.running = false;
}

void clock_on_expiry(struct daemon *d, int res)
{
	d->clock.read_armed = false;
	if (res == -ECANCELED)
		return;
	if (res != (int)sizeof d->clock.expirations) {
		log_error("the clock's timer read: %s; no more ticks",
			  res < 0 ? strerror(-res) : "short read");
		stop(d);
		return;
	}
	if (!d->clock.running)
		return; /* an expiry that was on its way when the timer stopped */
	uint64_t due = d->clock.expirations;
	uint64_t fire = due < CLOCK_CATCH_UP ? due : CLOCK_CATCH_UP;
	d->clock.overruns += due - fire;
	d->clock.late += due > 1;
	uint64_t now = loop_now_ns();
	for (uint64_t i = 0; i < fire; i++)
		kernel_clock_tick(d->kernel, now);
	if (kernel_clock_subscribers(d->kernel) == 0) {
		stop(d);
		return;
	}
	arm_read(d);
}
