/* SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash of a short message, quick and
 * hard to predict without the key. TCP's initial sequence numbers are made with it (RFC
 * 6528), and later the connection table's buckets, so a peer cannot aim at one. */
#ifndef PK_NET_SIPHASH_H
#define PK_NET_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define PK_SIPHASH_KEY_SIZE 16u

uint64_t pk_siphash(const uint8_t key[PK_SIPHASH_KEY_SIZE], const void *message, size_t length);

#endif
