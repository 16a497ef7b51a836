/* The generated bodies of /bytes/N: a stream of pseudo-random bytes in which the byte at
 * each offset depends on the offset only, so a server can send any slice without state and
 * a test can recompute what it received. Byte o is byte o % 8, little-endian, of the
 * (o / 8 + 1)-th output of splitmix64 seeded with 0 (Steele, Lea and Flood, 2014). */
#ifndef HTTP_BYTES_H
#define HTTP_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_BYTES_MAX (UINT64_C(1) << 40) /* the largest N /bytes/N serves */

/* The 8 bytes of the stream from offset 8 * block, as one little-endian word. */
uint64_t http_bytes_block(uint64_t block);

/* Writes the `len` bytes of the stream from `offset` into `buf`. */
void http_bytes_fill(uint64_t offset, uint8_t *buf, size_t len);

#endif
