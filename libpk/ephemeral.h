/* Ephemeral ports (RFC 6335's 49152 to 65535) for the socket layers: from a random start
 * (RFC 6056 §3.3.2's simple hash-free variant: unpredictable to an off-path attacker, then
 * in turn), the next port the caller says is free. One picker per protocol. */
#ifndef LIBPK_EPHEMERAL_H
#define LIBPK_EPHEMERAL_H

#include <stdbool.h>
#include <stdint.h>

#define PK__EPHEMERAL_FIRST 49152u

struct pk__ephemeral {
	uint16_t next; /* 0: not started */
};

typedef bool pk__port_taken_fn(uint16_t port, const void *context);

/* A port `taken` says is free, or -PK_EADDRINUSE when none is. */
int pk__ephemeral_port(struct pk__ephemeral *picker, pk__port_taken_fn *taken, const void *context);

#endif
