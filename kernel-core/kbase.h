/* What every kernel-core module shares: the "no index" marker, generation arithmetic,
 * byte helpers (there is no libc here) and the kernel's one assertion. */
#ifndef KCORE_KBASE_H
#define KCORE_KBASE_H

#include <stddef.h>
#include <stdint.h>

#include <packos/types.h>

struct kernel;

/* Table index meaning "none": list ends, empty buckets, no default route. */
#define KNIL UINT32_MAX

static inline uint32_t kgen_next(uint32_t gen)
{
	return (gen + 1) & PK_HANDLE_GEN_MASK;
}

/* The splitmix64 finalizer: cheap, and every input bit moves every output bit, so keys that
 * differ a little (sequential IDs, neighbouring frames) spread over a hash's buckets. */
static inline uint64_t kmix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Buckets of a chained hash over `capacity` entries: a power of two, at least twice it, so
 * chains stay short. */
static inline uint32_t kbucket_count(uint32_t capacity)
{
	uint32_t n = 1;
	while (n < 2 * (uint64_t)capacity)
		n <<= 1;
	return n;
}

/* The compiler's builtins: fixed sizes become a few inline moves, and anything larger a
 * call to memset/memcpy, which every port provides (kernel-core/check_symbols.cmake). */
static inline void kbytes_zero(void *dst, size_t n)
{
	__builtin_memset(dst, 0, n);
}

static inline void kbytes_copy(void *dst, const void *src, size_t n)
{
	__builtin_memcpy(dst, src, n);
}

/* Eight bytes in network order, as one number: how the KAN reads prefixes and IDs. */
static inline uint64_t kbytes_be64(const uint8_t bytes[8])
{
	uint64_t raw;
	__builtin_memcpy(&raw, bytes, sizeof raw);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	raw = __builtin_bswap64(raw);
#endif
	return raw;
}

/* The other way: `value` written as big-endian bytes, as the wire wants it. */
static inline void kbytes_put_be64(uint8_t bytes[8], uint64_t value)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	value = __builtin_bswap64(value);
#endif
	__builtin_memcpy(bytes, &value, sizeof value);
}

static inline void kbytes_put_be32(uint8_t bytes[4], uint32_t value)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	value = __builtin_bswap32(value);
#endif
	__builtin_memcpy(bytes, &value, sizeof value);
}

/* Reports a broken kernel invariant to the port, which never returns. */
_Noreturn void kernel_panic(const struct kernel *k, const char *why);

/* An always-on invariant check; the reason is a one-line sentence of what must hold. */
#define KASSERT(k, cond, why)                     \
	do {                                      \
		if (!(cond))                      \
			kernel_panic((k), (why)); \
	} while (0)

#endif
