/* Ephemeral ports: see ephemeral.h. */
#include "ephemeral.h"

#include <packos/errors.h>

#include "pk/pk.h"

#define RANGE (65536u - PK__EPHEMERAL_FIRST)

int pk__ephemeral_port(struct pk__ephemeral *picker, pk__port_taken_fn *taken, const void *context)
{
	if (picker->next == 0) {
		uint16_t start;
		pk_random(&start, sizeof start);
		picker->next = (uint16_t)(PK__EPHEMERAL_FIRST + start % RANGE);
	}
	for (unsigned tries = 0; tries < RANGE; tries++) {
		uint16_t port = picker->next;
		picker->next = port == 65535 ? PK__EPHEMERAL_FIRST : (uint16_t)(port + 1);
		if (!taken(port, context))
			return port;
	}
	return -PK_EADDRINUSE;
}
