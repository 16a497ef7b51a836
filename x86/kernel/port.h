/* The x86 port of the kernel core (kcore/port.h): the frame pool in physical memory and
 * the port operations, which move frames between page tables. */
#ifndef X86_PORT_H
#define X86_PORT_H

#include <stdint.h>

#include <kcore/kernel.h>

#define PORT_FRAMES 256u

struct port_counters {
	uint64_t grants;  /* frames mapped into a process */
	uint64_t revokes; /* frames unmapped from one */
	uint64_t wakes;
};

/* Sets up the kernel core over the port's frame pool and arena. Panics if it cannot. */
struct kernel *port_start_kernel(uint64_t hash_seed);

const struct port_counters *port_counters(void);

#endif
