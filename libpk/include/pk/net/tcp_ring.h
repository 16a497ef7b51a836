/* A byte ring over storage the caller owns: a TCP connection's send buffer (bytes from
 * SND.UNA on) or receive buffer (bytes not yet read, then room where out-of-order data
 * waits at its offset until the gap before it fills). Copies in and out; never allocates. */
#ifndef PK_NET_TCP_RING_H
#define PK_NET_TCP_RING_H

#include <stdint.h>

struct pk_tcp_ring {
	uint8_t *storage;
	uint32_t size;	 /* bytes of storage */
	uint32_t head;	 /* where the first byte held is */
	uint32_t length; /* bytes held, from head */
};

void pk_tcp_ring_init(struct pk_tcp_ring *ring, uint8_t *storage, uint32_t size);

static inline uint32_t pk_tcp_ring_room(const struct pk_tcp_ring *ring)
{
	return ring->size - ring->length;
}

/* Appends up to `length` bytes, as many as there is room for; returns how many. */
uint32_t pk_tcp_ring_append(struct pk_tcp_ring *ring, const void *data, uint32_t length);

/* Writes up to `length` bytes at `offset` past the bytes held, into the room, without
 * holding them (out-of-order data); returns how many fitted. */
uint32_t pk_tcp_ring_write_past(struct pk_tcp_ring *ring, uint32_t offset, const void *data,
				uint32_t length);

/* Holds `length` more bytes, written before by pk_tcp_ring_write_past. */
void pk_tcp_ring_extend(struct pk_tcp_ring *ring, uint32_t length);

/* Copies up to `length` held bytes from `offset` on into `out`; returns how many. */
uint32_t pk_tcp_ring_copy(const struct pk_tcp_ring *ring, uint32_t offset, void *out,
			  uint32_t length);

/* Lets go of the first `length` bytes held (at most all of them). */
void pk_tcp_ring_consume(struct pk_tcp_ring *ring, uint32_t length);

#endif
