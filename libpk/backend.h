/* What libpk needs from the port it runs on: a way to make kernel calls, a way to reach a
 * frame's bytes, a clock, and threads: starting them, and letting them wait for each other.
 * The simulator's backend lives in libpk/sim/; a hardware port brings its own. Everything
 * else in libpk is portable and calls only this. */
#ifndef LIBPK_BACKEND_H
#define LIBPK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>
#include <packos/kcalls.h>
#include <packos/types.h>

#define BACKEND_ENDPOINTS 8u
#define BACKEND_NAME_SIZE 32u

struct backend_boot {
	char name[BACKEND_NAME_SIZE];
	uint8_t kan_prefix[PK_KAN_PREFIX_SIZE];
	unsigned endpoint_count;
	pk_endpoint_t endpoint[BACKEND_ENDPOINTS];
	uint8_t address[BACKEND_ENDPOINTS][PK_IPV6_ADDR_SIZE];
};

/* One call of a batch, with how the transport should run it. */
struct backend_call {
	struct pk_kcall call;
	uint8_t wait;	  /* a recv that waits for a packet instead of failing */
	uint8_t linked;	  /* runs only if the call before it succeeded */
	uint32_t wait_ms; /* with wait: the deadline; 0: none */
};

/* Connects to the kernel and says who this program is. Returns 0 or -PK_Exxx. */
int backend_init(struct backend_boot *ret_boot);

/* Runs `count` calls in order, as one entry into the kernel, and writes each answer. */
void backend_call_batch(const struct backend_call *calls, struct pk_kresult *results,
			unsigned count);

/* Makes the frame just received or allocated reachable; NULL if it cannot be (then the
 * frame is still owned and must be freed). */
uint8_t *backend_frame_map(pk_frame_t frame);
/* Makes it unreachable again; called before the frame is sent or freed. */
void backend_frame_unmap(pk_frame_t frame, uint8_t *data);
/* Copies bytes out of or into a frame the program owns or holds but has not mapped; the
 * range is checked by the caller. Returns 0, or -PK_EINVAL if the frame cannot be reached. */
int backend_frame_read(pk_frame_t frame, uint32_t offset, void *buffer, uint32_t length);
int backend_frame_write(pk_frame_t frame, uint32_t offset, const void *buffer, uint32_t length);
/* Whether leaving frames unmapped and copying their bytes saves anything: not where every
 * frame the program holds is in its address space anyway. */
bool backend_lazy_mapping_pays(void);

uint64_t backend_now_ns(void);
void backend_sleep_ns(uint64_t ns);

/* Fills `buffer` with bytes nobody outside the process can predict, for keys (TCP's
 * initial sequence numbers, RFC 6528). Never fails; a port without a good source says so
 * in its documentation. */
void backend_random(void *buffer, uint32_t length);

/* Runs body(arg) in a new thread of this process that may make kernel calls of its own;
 * *ret_thread names it for backend_thread_join. -PK_ELIMIT: the port runs no more threads
 * at once; -PK_ENOTSUP: it runs only one. */
int backend_thread_start(void (*body)(void *arg), void *arg, void **ret_thread);
/* Waits for the thread to end and forgets it. */
int backend_thread_join(void *thread);

/* Between the threads of one process, never a kernel call of PackOS (pk/sync.h is built on
 * these). backend_yield gives the CPU to another thread. backend_wait sleeps only while
 * *word == expected, until backend_wake on the same word or `timeout_ns` passes
 * (BACKEND_WAIT_FOREVER: no deadline); it may also return early for no reason, so callers
 * look at the word again. Returns 0, or -PK_ETIMEDOUT once the timeout has passed.
 * backend_wake wakes up to `count` threads waiting on `word`. */
#define BACKEND_WAIT_FOREVER UINT64_MAX
void backend_yield(void);
int backend_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns);
void backend_wake(_Atomic uint32_t *word, unsigned count);

#endif
