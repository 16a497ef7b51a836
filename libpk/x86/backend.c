/* libpk's backend on the x86 port: kernel calls are slots of the call page and one trap;
 * a frame's bytes are at its fixed place in the frame window, which the kernel maps when
 * it grants the frame and unmaps when the frame leaves, so there is nothing to map or
 * unmap here; time is the TSC, scaled by the rate the kernel measured at boot. */
#include <stdatomic.h>
#include <stddef.h>

#include <packos/errors.h>
#include <string.h>

#include "../backend.h"
#include "pk/net/siphash.h"
#include "trap.h"

int backend_init(struct backend_boot *ret_boot)
{
	const struct x86_boot_record *b = &x86_call_page()->boot;
	if (b->endpoint_count > BACKEND_ENDPOINTS || b->tsc_khz == 0)
		return -PK_EINVAL;
	memcpy(ret_boot->name, b->name, sizeof ret_boot->name);
	ret_boot->name[sizeof ret_boot->name - 1] = '\0';
	memcpy(ret_boot->kan_prefix, b->kan_prefix, sizeof ret_boot->kan_prefix);
	ret_boot->endpoint_count = b->endpoint_count;
	for (unsigned i = 0; i < b->endpoint_count; i++) {
		ret_boot->endpoint[i] = b->endpoint[i].handle;
		memcpy(ret_boot->address[i], b->endpoint[i].address, PK_IPV6_ADDR_SIZE);
	}
	return 0;
}

void backend_call_batch(const struct backend_call *calls, struct pk_kresult *results,
			unsigned count)
{
	struct x86_call_slot *slot = x86_call_page()->slot;
	/* Longer batches go in pieces; the kernel keeps linking across them, as it sees one
	 * stream of slots. */
	while (count > 0) {
		unsigned n = count < X86_CALL_SLOTS ? count : X86_CALL_SLOTS;
		for (unsigned i = 0; i < n; i++) {
			slot[i].call = calls[i].call;
			slot[i].flags = (calls[i].wait ? X86_SLOT_WAIT : 0u) |
					(calls[i].linked ? X86_SLOT_LINKED : 0u);
			slot[i].wait_ms = calls[i].wait_ms;
		}
		x86_trap(X86_TRAP_CALLS, n);
		for (unsigned i = 0; i < n; i++)
			results[i] = slot[i].result;
		calls += n;
		results += n;
		count -= n;
	}
}

uint8_t *backend_frame_map(pk_frame_t frame)
{
	uint32_t number = PK_FRAME_NUMBER(frame);
	if (number >= X86_FRAME_WINDOW_FRAMES)
		return NULL;
	return (uint8_t *)(X86_FRAME_WINDOW + number * PK_FRAME_SIZE);
}

void backend_frame_unmap(pk_frame_t frame, uint8_t *data)
{
	(void)frame, (void)data;
}

/* Every frame is in the window: there is nothing to save by not mapping one. */
bool backend_lazy_mapping_pays(void)
{
	return false;
}

int backend_frame_read(pk_frame_t frame, uint32_t offset, void *buffer, uint32_t length)
{
	const uint8_t *data = backend_frame_map(frame);
	if (data == NULL)
		return -PK_EINVAL;
	memcpy(buffer, data + offset, length);
	return 0;
}

int backend_frame_write(pk_frame_t frame, uint32_t offset, const void *buffer, uint32_t length)
{
	uint8_t *data = backend_frame_map(frame);
	if (data == NULL)
		return -PK_EINVAL;
	memcpy(data + offset, buffer, length);
	return 0;
}

/* n / d and n % d for a 32-bit divisor in two `div` instructions: the 64-bit division gcc
 * would call (x86/rt/int64.c) goes bit by bit, and the clock is read on every packet. */
static uint64_t divide(uint64_t n, uint32_t d, uint32_t *ret_rem)
{
	uint32_t high = (uint32_t)(n >> 32), low = (uint32_t)n, q_high, q_low, rem;
	q_high = high / d;
	high %= d;
	/* high < d, so the quotient of high:low fits in 32 bits and div cannot fault. */
	__asm__("divl %4" : "=a"(q_low), "=d"(rem) : "a"(low), "d"(high), "rm"(d));
	*ret_rem = rem;
	return (uint64_t)q_high << 32 | q_low;
}

uint64_t backend_now_ns(void)
{
	uint32_t lo, hi, khz = x86_call_page()->boot.tsc_khz, rem;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	uint64_t ms = divide((uint64_t)hi << 32 | lo, khz, &rem);
	return ms * 1000000u + divide((uint64_t)rem * 1000000u, khz, &rem);
}

/* No entropy source yet (QEMU's default CPU has no RDRAND): the time-stamp counter, read
 * between every block and stirred with SipHash, so the bytes depend on when and how long
 * the program ran. Enough against a blind guesser off the path; docs/x86.md says so. */
void backend_random(void *buffer, uint32_t length)
{
	static uint8_t key[PK_SIPHASH_KEY_SIZE];
	uint8_t *at = buffer;
	for (uint64_t block = 0; length > 0; block++) {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		uint64_t input[2] = {(uint64_t)hi << 32 | lo, block};
		uint64_t out = pk_siphash(key, input, sizeof input);
		memcpy(key, &out, sizeof out);
		uint32_t n = length < sizeof out ? length : (uint32_t)sizeof out;
		memcpy(at, &out, n);
		at += n;
		length -= n;
	}
}

void backend_sleep_ns(uint64_t ns)
{
	uint64_t ms = (ns + 999999u) / 1000000u;
	x86_trap(X86_TRAP_SLEEP, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
}

/* The x86 port runs one context per process: its scheduler switches between processes,
 * not yet between threads of one (docs/x86.md). */
int backend_thread_start(void (*body)(void *arg), void *arg, void **ret_thread)
{
	(void)body, (void)arg, (void)ret_thread;
	return -PK_ENOTSUP;
}

int backend_thread_join(void *thread)
{
	(void)thread;
	return -PK_EINVAL;
}

/* With one context per process, no other thread of this process can run when
 * this one steps aside: a yield hands the CPU to other processes, and the only way the port
 * has to do that is the shortest sleep, one tick. When the port runs several contexts per
 * process, yield becomes a trap of its own, and wait and wake a kernel wait on the word. */
void backend_yield(void)
{
	x86_trap(X86_TRAP_SLEEP, 0);
}

/* Spins with yield until the word changes or the timeout passes: with one context, nothing
 * but the timeout can end it, but it is right whatever else comes to change the word. */
int backend_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	uint64_t start = backend_now_ns();
	while (atomic_load_explicit(word, memory_order_acquire) == expected) {
		if (timeout_ns != BACKEND_WAIT_FOREVER && backend_now_ns() - start >= timeout_ns)
			return -PK_ETIMEDOUT;
		backend_yield();
	}
	return 0;
}

/* A waiter looks at the word after each yield; there is nobody to tell. */
void backend_wake(_Atomic uint32_t *word, unsigned count)
{
	(void)word, (void)count;
}
