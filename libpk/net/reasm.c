/* Fragment reassembly (RFC 8200 §4.5, RFC 5722) in caller-provided slots.
 *
 * A slot's buffer keeps the fragmentable data at PK_REASM_HEADROOM, where it lands at its
 * own offset whatever the order of arrival, and the first fragment's headers and Fragment
 * header just before it: on completion the headers move up over the Fragment header and
 * the datagram is contiguous without another copy. A bitmap of 8-byte blocks tells overlap
 * from news in time linear in the fragment, never in the datagram. */
#include <string.h>

#include "pk/net/frag.h"

static bool same_datagram(const struct pk_reasm_slot *slot, const struct pk_ipv6_header *h,
			  uint32_t identification)
{
	return slot->busy && slot->identification == identification &&
	       memcmp(slot->source, h->source, PK_IPV6_ADDR_SIZE) == 0 &&
	       memcmp(slot->destination, h->destination, PK_IPV6_ADDR_SIZE) == 0;
}

static struct pk_reasm_slot *find_or_claim(struct pk_reasm *reasm, const struct pk_ipv6_header *h,
					   uint32_t identification, uint64_t now_ns)
{
	struct pk_reasm_slot *vacant = NULL;
	for (unsigned i = 0; i < reasm->slot_count; i++) {
		struct pk_reasm_slot *slot = &reasm->slots[i];
		if (same_datagram(slot, h, identification))
			return slot;
		if (!slot->busy && !vacant)
			vacant = slot;
	}
	if (!vacant)
		return NULL;
	uint8_t *buffer = vacant->buffer;
	memset(vacant, 0, sizeof *vacant);
	vacant->buffer = buffer;
	vacant->busy = true;
	memcpy(vacant->source, h->source, PK_IPV6_ADDR_SIZE);
	memcpy(vacant->destination, h->destination, PK_IPV6_ADDR_SIZE);
	vacant->identification = identification;
	vacant->deadline_ns = now_ns + reasm->timeout_ns;
	return vacant;
}

static bool block_held(const struct pk_reasm_slot *slot, uint32_t block)
{
	return slot->blocks[block / 64] >> (block % 64) & 1u;
}

/* How many of the blocks [first, last) are already held. */
static uint32_t blocks_held(const struct pk_reasm_slot *slot, uint32_t first, uint32_t last)
{
	uint32_t held = 0;
	for (uint32_t b = first; b < last; b++)
		held += block_held(slot, b);
	return held;
}

void pk_reasm_init(struct pk_reasm *reasm, struct pk_reasm_slot *slots, unsigned slot_count,
		   uint8_t *buffers, uint32_t buffer_size, uint64_t timeout_ns)
{
	uint32_t capacity = buffer_size - PK_REASM_HEADROOM;
	*reasm = (struct pk_reasm){.slots = slots,
				   .slot_count = slot_count,
				   .capacity = capacity < PK_IPV6_MAX_PAYLOAD ? capacity
									      : PK_IPV6_MAX_PAYLOAD,
				   .timeout_ns = timeout_ns};
	for (unsigned i = 0; i < slot_count; i++)
		slots[i] = (struct pk_reasm_slot){.buffer = buffers + (uint64_t)i * buffer_size};
}

static enum pk_net_drop drop_datagram(struct pk_reasm_slot *slot, enum pk_net_drop reason)
{
	slot->busy = false;
	return reason;
}

/* Moves the first fragment's headers up over its Fragment header, fixes them to describe
 * the whole datagram, and frees the slot: the bytes stay until the slot is claimed again. */
static enum pk_net_drop complete(struct pk_reasm_slot *slot, struct pk_reasm_datagram *ret_done)
{
	uint32_t unfragmentable = slot->unfragmentable;
	if (unfragmentable - PK_IPV6_HEADER_SIZE + slot->end > PK_IPV6_MAX_PAYLOAD)
		return drop_datagram(slot, PK_NET_DROP_FRAGMENT_TOO_BIG);
	uint8_t *fragment_header = slot->buffer + PK_REASM_HEADROOM - PK_IPV6_FRAGMENT_HEADER_SIZE;
	uint8_t next_header = fragment_header[0];
	uint8_t *packet = slot->buffer + PK_REASM_HEADROOM - unfragmentable;
	memmove(packet, fragment_header - unfragmentable, unfragmentable);
	packet[slot->link] = next_header;
	uint32_t payload = unfragmentable - PK_IPV6_HEADER_SIZE + slot->end;
	struct pk_ipv6_header *h = (struct pk_ipv6_header *)packet;
	h->payload_length[0] = (uint8_t)(payload >> 8);
	h->payload_length[1] = (uint8_t)payload;
	slot->busy = false;
	*ret_done =
		(struct pk_reasm_datagram){.packet = packet, .length = unfragmentable + slot->end};
	return PK_NET_OK;
}

enum pk_net_drop pk_reasm_input(struct pk_reasm *reasm, const uint8_t *packet, uint32_t length,
				const struct pk_ipv6_chain *chain, uint64_t now_ns,
				struct pk_reasm_datagram *ret_done)
{
	const struct pk_ipv6_header *h = (const struct pk_ipv6_header *)packet;
	const uint8_t *fragment_header = packet + chain->fragment_offset;
	const uint8_t *data = fragment_header + PK_IPV6_FRAGMENT_HEADER_SIZE;
	uint32_t data_length = length - chain->fragment_offset - PK_IPV6_FRAGMENT_HEADER_SIZE;
	uint32_t start = (uint32_t)(fragment_header[2] << 8 | fragment_header[3]) & 0xfff8u;
	bool more = fragment_header[3] & 1u;
	uint32_t identification = (uint32_t)fragment_header[4] << 24 |
				  (uint32_t)fragment_header[5] << 16 |
				  (uint32_t)fragment_header[6] << 8 | fragment_header[7];
	uint32_t end = start + data_length;

	*ret_done = (struct pk_reasm_datagram){0};
	struct pk_reasm_slot *slot = find_or_claim(reasm, h, identification, now_ns);
	if (!slot)
		return PK_NET_DROP_FRAGMENT_TABLE_FULL;
	if (end > reasm->capacity)
		return drop_datagram(slot, PK_NET_DROP_FRAGMENT_TOO_BIG);
	if (start == 0 && chain->fragment_offset + PK_IPV6_FRAGMENT_HEADER_SIZE > PK_REASM_HEADROOM)
		return drop_datagram(slot, PK_NET_DROP_FRAGMENT_TOO_BIG);
	if (more ? slot->end != 0 && end > slot->end
		 : (slot->end != 0 && end != slot->end) || slot->highest > end)
		return drop_datagram(slot, PK_NET_DROP_FRAGMENT_INCONSISTENT);

	uint32_t first_block = start / 8, last_block = (end + 7) / 8;
	uint32_t held = blocks_held(slot, first_block, last_block);
	uint8_t *place = slot->buffer + PK_REASM_HEADROOM + start;
	if (held == last_block - first_block && held != 0 && memcmp(place, data, data_length) == 0)
		return PK_NET_DROP_FRAGMENT_DUPLICATE;
	if (held != 0)
		return drop_datagram(slot, PK_NET_DROP_FRAGMENT_OVERLAP);

	memcpy(place, data, data_length);
	for (uint32_t b = first_block; b < last_block; b++)
		slot->blocks[b / 64] |= (uint64_t)1 << (b % 64);
	slot->received += data_length;
	if (end > slot->highest)
		slot->highest = end;
	if (!more)
		slot->end = end;
	if (start == 0) {
		uint32_t headers = chain->fragment_offset + PK_IPV6_FRAGMENT_HEADER_SIZE;
		memcpy(slot->buffer + PK_REASM_HEADROOM - headers, packet, headers);
		slot->unfragmentable = chain->fragment_offset;
		slot->link = chain->fragment_link;
		slot->first_length = data_length;
	}
	if (slot->end != 0 && slot->received == slot->end && slot->unfragmentable != 0)
		return complete(slot, ret_done);
	return PK_NET_OK;
}

bool pk_reasm_expire(struct pk_reasm *reasm, uint64_t now_ns, struct pk_reasm_datagram *ret_first)
{
	for (unsigned i = 0; i < reasm->slot_count; i++) {
		struct pk_reasm_slot *slot = &reasm->slots[i];
		if (!slot->busy || slot->deadline_ns > now_ns)
			continue;
		slot->busy = false;
		*ret_first = (struct pk_reasm_datagram){0};
		if (slot->unfragmentable != 0) {
			uint32_t headers = slot->unfragmentable + PK_IPV6_FRAGMENT_HEADER_SIZE;
			ret_first->packet = slot->buffer + PK_REASM_HEADROOM - headers;
			ret_first->length = headers + slot->first_length;
		}
		return true;
	}
	return false;
}

unsigned pk_reasm_busy(const struct pk_reasm *reasm)
{
	unsigned busy = 0;
	for (unsigned i = 0; i < reasm->slot_count; i++)
		busy += reasm->slots[i].busy;
	return busy;
}

uint64_t pk_reasm_next_deadline(const struct pk_reasm *reasm)
{
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < reasm->slot_count; i++)
		if (reasm->slots[i].busy && reasm->slots[i].deadline_ns < next)
			next = reasm->slots[i].deadline_ns;
	return next;
}
