/* Disjoint ranges of sequence space: see pk/net/tcp_ranges.h. Eight slots, so every
 * operation is a short linear walk. */
#include "pk/net/tcp_ranges.h"

#include <string.h>

#include "pk/net/tcp_seq.h"

static void remove_at(struct pk_tcp_ranges *r, unsigned i, unsigned n)
{
	memmove(&r->range[i], &r->range[i + n], (r->count - i - n) * sizeof r->range[0]);
	r->count -= n;
}

bool pk_tcp_ranges_add(struct pk_tcp_ranges *r, uint32_t left, uint32_t right)
{
	if (!pk_tcp_seq_lt(left, right))
		return true;
	/* first: the first range that ends at or after `left` (could merge or follows). */
	unsigned first = 0;
	while (first < r->count && pk_tcp_seq_lt(r->range[first].right, left))
		first++;
	/* last: one past the last range that starts at or before `right`. */
	unsigned last = first;
	while (last < r->count && pk_tcp_seq_le(r->range[last].left, right))
		last++;
	if (first == last) {
		if (r->count == PK_TCP_RANGES_MAX)
			return false;
		memmove(&r->range[first + 1], &r->range[first],
			(r->count - first) * sizeof r->range[0]);
		r->range[first] = (struct pk_tcp_sack_block){left, right};
		r->count++;
	} else {
		struct pk_tcp_sack_block *merged = &r->range[first];
		if (pk_tcp_seq_lt(left, merged->left))
			merged->left = left;
		uint32_t last_right = r->range[last - 1].right;
		merged->right = pk_tcp_seq_lt(right, last_right) ? last_right : right;
		remove_at(r, first + 1, last - first - 1);
	}
	r->newest = left;
	return true;
}

void pk_tcp_ranges_trim(struct pk_tcp_ranges *r, uint32_t edge)
{
	unsigned gone = 0;
	while (gone < r->count && pk_tcp_seq_le(r->range[gone].right, edge))
		gone++;
	remove_at(r, 0, gone);
	if (r->count > 0 && pk_tcp_seq_lt(r->range[0].left, edge))
		r->range[0].left = edge;
}

uint32_t pk_tcp_ranges_take_front(struct pk_tcp_ranges *r, uint32_t edge)
{
	if (r->count == 0 || pk_tcp_seq_lt(edge, r->range[0].left))
		return edge;
	uint32_t right = r->range[0].right;
	remove_at(r, 0, 1);
	return pk_tcp_seq_lt(edge, right) ? right : edge;
}

uint32_t pk_tcp_ranges_bytes_before(const struct pk_tcp_ranges *r, uint32_t edge)
{
	uint32_t bytes = 0;
	for (unsigned i = 0; i < r->count && pk_tcp_seq_lt(r->range[i].left, edge); i++) {
		uint32_t right = pk_tcp_seq_lt(edge, r->range[i].right) ? edge : r->range[i].right;
		bytes += right - r->range[i].left;
	}
	return bytes;
}

uint32_t pk_tcp_ranges_highest(const struct pk_tcp_ranges *r, uint32_t otherwise)
{
	return r->count == 0 ? otherwise : r->range[r->count - 1].right;
}

bool pk_tcp_ranges_contains(const struct pk_tcp_ranges *r, uint32_t seq, uint32_t *ret_right)
{
	for (unsigned i = 0; i < r->count; i++) {
		if (pk_tcp_seq_le(r->range[i].left, seq) && pk_tcp_seq_lt(seq, r->range[i].right)) {
			*ret_right = r->range[i].right;
			return true;
		}
	}
	return false;
}

uint32_t pk_tcp_ranges_next_left(const struct pk_tcp_ranges *r, uint32_t seq, uint32_t otherwise)
{
	for (unsigned i = 0; i < r->count; i++) {
		if (pk_tcp_seq_lt(seq, r->range[i].left))
			return r->range[i].left;
	}
	return otherwise;
}

unsigned pk_tcp_ranges_sack_blocks(const struct pk_tcp_ranges *r, struct pk_tcp_sack_block *ret,
				   unsigned max)
{
	unsigned n = 0, newest = r->count;
	for (unsigned i = 0; i < r->count; i++) {
		if (pk_tcp_seq_le(r->range[i].left, r->newest) &&
		    pk_tcp_seq_lt(r->newest, r->range[i].right))
			newest = i;
	}
	if (newest < r->count && n < max)
		ret[n++] = r->range[newest];
	for (unsigned i = r->count; i-- > 0 && n < max;) {
		if (i != newest)
			ret[n++] = r->range[i];
	}
	return n;
}
