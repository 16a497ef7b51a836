/* Fields in network byte order (big-endian), read from and written to packet bytes, as
 * every protocol header and message on the KAN has them. */
#ifndef PK_BYTES_H
#define PK_BYTES_H

#include <stdint.h>

static inline uint16_t pk_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pk_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void pk_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pk_put32(uint8_t *p, uint32_t v)
{
	pk_put16(p, (uint16_t)(v >> 16));
	pk_put16(p + 2, (uint16_t)v);
}

#endif
