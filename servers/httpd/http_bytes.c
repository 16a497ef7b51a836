/* The /bytes/N stream (http_bytes.h): splitmix64's output function applied to the block
 * number, which is exactly the generator's sequence yet needs no state to start mid-way. */
#include "http_bytes.h"

#include <string.h>

uint64_t http_bytes_block(uint64_t block)
{
	uint64_t z = (block + 1) * UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* One store, not eight: written byte by byte, the loop below ran at a byte a cycle and
 * was the largest user-space cost of serving a download (docs/performance.md). */
static void put_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof v);
}

void http_bytes_fill(uint64_t offset, uint8_t *buf, size_t len)
{
	size_t i = 0;
	/* The head up to a block boundary, whole blocks, then the tail. */
	while (i < len && (offset + i) % 8 != 0) {
		uint64_t o = offset + i;
		buf[i++] = (uint8_t)(http_bytes_block(o / 8) >> (8 * (o % 8)));
	}
	uint64_t block = (offset + i) / 8;
	for (; len - i >= 8; i += 8)
		put_le64(buf + i, http_bytes_block(block++));
	if (i < len) {
		uint64_t last = http_bytes_block(block);
		for (unsigned k = 0; i < len; k++)
			buf[i++] = (uint8_t)(last >> (8 * k));
	}
}
