/* A small set of disjoint ranges of TCP sequence space, kept sorted: the out-of-order data
 * a receiver holds past RCV.NXT, and the blocks a sender's peer has SACKed past SND.UNA.
 * Bounded: a range that would need one slot more than there are is refused, and the
 * caller treats that data as not received. Comparisons wrap (<pk/net/tcp_seq.h>). */
#ifndef PK_NET_TCP_RANGES_H
#define PK_NET_TCP_RANGES_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/tcp_segment.h>

#define PK_TCP_RANGES_MAX 8u

struct pk_tcp_ranges {
	unsigned count;
	struct pk_tcp_sack_block range[PK_TCP_RANGES_MAX]; /* sorted, disjoint, not adjacent */
	uint32_t newest;				   /* the left edge added last */
};

/* Adds [left, right), merging it with every range it overlaps or touches. False, and
 * nothing changed, when it would need a slot and all are taken. */
bool pk_tcp_ranges_add(struct pk_tcp_ranges *r, uint32_t left, uint32_t right);

/* Forgets everything before `edge`, cutting a range that straddles it. */
void pk_tcp_ranges_trim(struct pk_tcp_ranges *r, uint32_t edge);

/* If a range starts at or before `edge`, removes it and returns its right edge (where
 * contiguous data now ends); else returns `edge`. */
uint32_t pk_tcp_ranges_take_front(struct pk_tcp_ranges *r, uint32_t edge);

/* The bytes the ranges cover before `edge`. */
uint32_t pk_tcp_ranges_bytes_before(const struct pk_tcp_ranges *r, uint32_t edge);

/* The right edge of the last range (the highest sequence held), or `otherwise` if none. */
uint32_t pk_tcp_ranges_highest(const struct pk_tcp_ranges *r, uint32_t otherwise);

/* Whether `seq` lies in a range; if so *ret_right is that range's right edge. */
bool pk_tcp_ranges_contains(const struct pk_tcp_ranges *r, uint32_t seq, uint32_t *ret_right);

/* The first range starting after `seq`: its left edge, or `otherwise` if none. */
uint32_t pk_tcp_ranges_next_left(const struct pk_tcp_ranges *r, uint32_t seq, uint32_t otherwise);

/* Up to `max` ranges as SACK blocks, as RFC 2018 §4 orders them: first the one holding
 * the data that arrived last, then the rest from the highest down. Returns how many. */
unsigned pk_tcp_ranges_sack_blocks(const struct pk_tcp_ranges *r, struct pk_tcp_sack_block *ret,
				   unsigned max);

#endif
