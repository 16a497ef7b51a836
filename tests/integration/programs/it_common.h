/* What the integration test programs share: a packet builder, the payload pattern the
 * zero-copy pair agrees on, and the physical frame behind an address. Test programs, not
 * servers: they may use Linux directly (pagemap, signals). */
#ifndef IT_COMMON_H
#define IT_COMMON_H

/* Needs _GNU_SOURCE (pread, sysconf), defined by each program before any include. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pk/pk.h>

/* IPv6 "no next header": a payload nobody parses. */
#define IT_NO_NEXT_HEADER 59

static inline uint8_t it_pattern(uint32_t i)
{
	return (uint8_t)(i * 7u + 3u);
}

/* Writes a packet from `source` to `destination` with `payload` pattern bytes; returns its
 * length. */
static inline uint32_t it_packet(uint8_t *frame, const uint8_t *source, const uint8_t *destination,
				 uint16_t payload)
{
	pk_ipv6_header_init(frame, source, destination, IT_NO_NEXT_HEADER, payload, 64);
	for (uint32_t i = 0; i < payload; i++)
		frame[PK_IPV6_HEADER_SIZE + i] = it_pattern(i);
	return PK_IPV6_HEADER_SIZE + payload;
}

/* The page frame number behind `addr` from /proc/self/pagemap, or 0 when the kernel hides
 * it (without CAP_SYS_ADMIN it reads as 0) or the page is not present. */
static inline uint64_t it_pfn(const void *addr)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || page <= 0)
		return 0;
	uint64_t entry = 0;
	ssize_t n = pread(fd, &entry, sizeof entry,
			  (off_t)((uintptr_t)addr / (uintptr_t)page) * (off_t)sizeof entry);
	close(fd);
	if (n != (ssize_t)sizeof entry || !(entry >> 63))
		return 0;
	return entry & ((1ull << 55) - 1);
}

/* Starts the runtime or exits 2 saying why. */
static inline void it_init(const char *name)
{
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "%s: pk_init: %s\n", name, pk_strerror(err));
		exit(2);
	}
}

/* Checks that print "PROGRAM: NAME ok" or "PROGRAM: NAME FAILED: got G, want W", counted
 * in it_failures; the program ends with it_checks_done. */
static unsigned it_failures;

static inline void it_expect_eq(const char *program, const char *name, long long got,
				long long want)
{
	if (got == want) {
		printf("%s: %s ok\n", program, name);
		return;
	}
	printf("%s: %s FAILED: got %lld, want %lld\n", program, name, got, want);
	it_failures++;
}

/* Prints "PROGRAM: done, N failed"; the exit status to return: 1 if any check failed. */
static inline int it_checks_done(const char *program)
{
	printf("%s: done, %u failed\n", program, it_failures);
	return it_failures == 0 ? 0 : 1;
}

/* An address from the command line, or exit 2. */
static inline void it_address(const char *name, const char *text, uint8_t ret[PK_IPV6_ADDR_SIZE])
{
	if (pk_addr_parse(text, ret) < 0) {
		fprintf(stderr, "%s: bad address '%s'\n", name, text);
		exit(2);
	}
}

#endif
