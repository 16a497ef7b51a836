/* A byte ring: see pk/net/tcp_ring.h. Every copy is at most two memcpys, either side of
 * the end of storage. */
#include "pk/net/tcp_ring.h"

#include <string.h>

void pk_tcp_ring_init(struct pk_tcp_ring *ring, uint8_t *storage, uint32_t size)
{
	*ring = (struct pk_tcp_ring){.storage = storage, .size = size};
}

/* Copies `length` bytes in at storage position `at` (already reduced mod size). */
static void copy_in(struct pk_tcp_ring *ring, uint32_t at, const uint8_t *data, uint32_t length)
{
	uint32_t first = ring->size - at < length ? ring->size - at : length;
	memcpy(ring->storage + at, data, first);
	memcpy(ring->storage, data + first, length - first);
}

static uint32_t position(const struct pk_tcp_ring *ring, uint32_t offset)
{
	uint32_t at = ring->head + offset;
	return at >= ring->size ? at - ring->size : at;
}

uint32_t pk_tcp_ring_write_past(struct pk_tcp_ring *ring, uint32_t offset, const void *data,
				uint32_t length)
{
	uint32_t room = pk_tcp_ring_room(ring);
	if (offset >= room)
		return 0;
	if (length > room - offset)
		length = room - offset;
	if (length > 0)
		copy_in(ring, position(ring, ring->length + offset), data, length);
	return length;
}

void pk_tcp_ring_extend(struct pk_tcp_ring *ring, uint32_t length)
{
	uint32_t room = pk_tcp_ring_room(ring);
	ring->length += length < room ? length : room;
}

uint32_t pk_tcp_ring_append(struct pk_tcp_ring *ring, const void *data, uint32_t length)
{
	uint32_t written = pk_tcp_ring_write_past(ring, 0, data, length);
	ring->length += written;
	return written;
}

uint32_t pk_tcp_ring_copy(const struct pk_tcp_ring *ring, uint32_t offset, void *out,
			  uint32_t length)
{
	if (offset >= ring->length)
		return 0;
	if (length > ring->length - offset)
		length = ring->length - offset;
	if (length == 0)
		return 0;
	uint32_t at = position(ring, offset);
	uint32_t first = ring->size - at < length ? ring->size - at : length;
	memcpy(out, ring->storage + at, first);
	memcpy((uint8_t *)out + first, ring->storage, length - first);
	return length;
}

void pk_tcp_ring_consume(struct pk_tcp_ring *ring, uint32_t length)
{
	if (length > ring->length)
		length = ring->length;
	ring->head = position(ring, length);
	ring->length -= length;
}
