/* Asking the NIC driver how it is: its addresses, routes, neighbour cache and counters,
 * as text, over the KAN like everything else. A program sends a packet to the driver's
 * KAN address with next header STATUS_QUERY_NEXT_HEADER; the driver answers with one
 * chunk of its status text per question, so a text longer than a frame comes in pages.
 *
 * Question payload: the magic, then the offset wanted (4 bytes, big-endian).
 * Answer payload: the magic, the offset, the whole text's length (4 bytes each,
 * big-endian), then the chunk from that offset to the end of the packet. */
#ifndef NIC_DRIVER_STATUS_QUERY_H
#define NIC_DRIVER_STATUS_QUERY_H

#include <stdint.h>

/* RFC 3692's first experimental value; the kernel's messages use the second. */
#define STATUS_QUERY_NEXT_HEADER 253u
#define STATUS_QUERY_MAGIC	 "nic-status"
#define STATUS_QUERY_MAGIC_SIZE	 10u
#define STATUS_QUESTION_SIZE	 (STATUS_QUERY_MAGIC_SIZE + 4u)
#define STATUS_ANSWER_HEADER	 (STATUS_QUERY_MAGIC_SIZE + 8u)
/* The longest status text the driver serves. */
#define STATUS_TEXT_MAX 32768u

static inline void status_put32(uint8_t *at, uint32_t value)
{
	at[0] = (uint8_t)(value >> 24);
	at[1] = (uint8_t)(value >> 16);
	at[2] = (uint8_t)(value >> 8);
	at[3] = (uint8_t)value;
}

static inline uint32_t status_get32(const uint8_t *at)
{
	return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
}

#endif
