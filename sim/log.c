/* packosd's log: stderr in the foreground, syslog as a daemon. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

#include "daemon.h"

static bool use_syslog;

void log_open(bool to_syslog)
{
	use_syslog = to_syslog;
	if (use_syslog)
		openlog("packosd", LOG_PID, LOG_DAEMON);
}

__attribute__((format(printf, 2, 0))) static void log_at(int priority, const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(priority, fmt, ap);
		return;
	}
	fprintf(stderr, "packosd: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_at(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_at(LOG_ERR, fmt, ap);
	va_end(ap);
}
