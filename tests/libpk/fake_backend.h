/* A libpk backend for unit tests: the program's kernel calls go to a kernel core hosted by
 * the fake port (tests/kernel-core/fake_port.h) inside the test, as the calls of one of its
 * processes. Time is virtual: it moves only when the test moves it, or when a receive
 * that may wait finds its queue empty, or a wait on a word (backend_wait) finds it
 * unchanged, which takes its whole deadline at once and ends in -PK_ETIMEDOUT (a wait with
 * no deadline fails the test: with one thread, nothing else could ever come). */
#ifndef TESTS_LIBPK_FAKE_BACKEND_H
#define TESTS_LIBPK_FAKE_BACKEND_H

#include <stdint.h>

#include "fake_port.h"

#define FAKE_BACKEND_ENDPOINTS 4u

struct fake_backend {
	struct fake_port *port;
	pk_proc_t proc; /* whose calls libpk's are */
	unsigned endpoint_count;
	pk_endpoint_t endpoint[FAKE_BACKEND_ENDPOINTS];
	uint8_t address[FAKE_BACKEND_ENDPOINTS][PK_IPV6_ADDR_SIZE];
	uint64_t now_ns;
	uint64_t batches; /* entries into the kernel */
};

extern struct fake_backend fake_backend;

/* Makes `proc` of `port` the program, with an endpoint for each of the `count` interface
 * IDs; call before pk_init. */
void fake_backend_start(struct fake_port *port, pk_proc_t proc, const uint64_t *iids,
			unsigned count);

/* A group teardown: stops the port the program ran on. */
int fake_backend_group_teardown(void **state);

/* After a test: the program holds no frame once its interface has given back its spares
 * (pk_netif_trim), and the kernel's audit holds. */
void fake_backend_assert_clean(void);

/* As another process `proc` of the port (the program's peer): sends `length` bytes as a
 * packet; takes the next packet its `endpoint` received into `buffer`, frees the frame,
 * and returns the length, or 0 if nothing waits. */
void fake_backend_send_as(pk_proc_t proc, const uint8_t *bytes, uint32_t length);
uint32_t fake_backend_receive_as(pk_proc_t proc, pk_endpoint_t endpoint, uint8_t *buffer);

#endif
