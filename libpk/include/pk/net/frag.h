/* Fragments (RFC 8200 §4.5): reassembly of those that arrive, fragmentation of packets
 * larger than the path MTU.
 *
 * Reassembly holds a fixed number of datagrams in slots and buffers the caller provides
 * (a datagram may exceed one 4 KiB frame); it refuses overlapping fragments by dropping
 * the whole datagram (RFC 5722), drops exact duplicates alone, and forgets a datagram
 * that is not complete in time. Nothing here allocates memory or reads a clock. */
#ifndef PK_NET_FRAG_H
#define PK_NET_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/counters.h>
#include <pk/net/ipv6.h>

/* Bytes at the head of each reassembly buffer for the headers before the Fragment header
 * (the unfragmentable part) and the Fragment header itself; a first fragment with longer
 * headers is dropped as FRAGMENT_TOO_BIG. */
#define PK_REASM_HEADROOM 512u
/* RFC 8200 §4.5: give up on a datagram 60 s after its first fragment arrived. */
#define PK_REASM_TIMEOUT_NS (60ull * 1000000000ull)
#define PK__REASM_BLOCKS    ((PK_IPV6_MAX_PAYLOAD + 7u) / 8u)

/* One datagram in reassembly. Private to frag.c; public only so the caller can size it. */
struct pk_reasm_slot {
	uint8_t *buffer; /* the caller's, PK_REASM_HEADROOM + the largest datagram it allows */
	bool busy;
	uint8_t source[PK_IPV6_ADDR_SIZE];
	uint8_t destination[PK_IPV6_ADDR_SIZE];
	uint32_t identification;
	uint64_t deadline_ns;
	uint32_t end;		 /* fragmentable bytes in all; 0 until the last fragment came */
	uint32_t highest;	 /* the furthest byte any fragment reached */
	uint32_t received;	 /* fragmentable bytes held */
	uint32_t unfragmentable; /* the first fragment's bytes before its Fragment header; 0
				  * until it came */
	uint32_t first_length;	 /* the first fragment's data bytes */
	uint32_t link;		 /* the first fragment's Next Header byte naming the Fragment
				  * header */
	uint64_t blocks[(PK__REASM_BLOCKS + 63u) / 64u]; /* 8-byte blocks held */
};

struct pk_reasm {
	struct pk_reasm_slot *slots;
	unsigned slot_count;
	uint32_t capacity; /* fragmentable bytes a datagram may have */
	uint64_t timeout_ns;
};

/* A complete datagram, or an expired one. Its bytes live in a reassembly buffer and stay
 * valid until the next call of pk_reasm_input or pk_reasm_expire. */
struct pk_reasm_datagram {
	uint8_t *packet; /* NULL: none */
	uint32_t length;
};

/* Sets up `slot_count` slots; slot i takes buffer_size bytes at buffers + i * buffer_size,
 * which must be more than PK_REASM_HEADROOM. A datagram's fragmentable part may be up to
 * buffer_size - PK_REASM_HEADROOM bytes (and at most 65535). */
void pk_reasm_init(struct pk_reasm *reasm, struct pk_reasm_slot *slots, unsigned slot_count,
		   uint8_t *buffers, uint32_t buffer_size, uint64_t timeout_ns);

/* Takes a fragment (`packet` of `length` bytes whose chain, walked by pk_ipv6_parse_chain,
 * has a Fragment header that is not atomic), copying its bytes: the caller keeps its
 * frame. Returns PK_NET_OK, with ret_done->packet set when this fragment completed its
 * datagram (headers rebuilt, payload length and Next Header fixed) and NULL while it waits;
 * or why the fragment, or with OVERLAP, INCONSISTENT and TOO_BIG its whole datagram, was
 * dropped. */
enum pk_net_drop pk_reasm_input(struct pk_reasm *reasm, const uint8_t *packet, uint32_t length,
				const struct pk_ipv6_chain *chain, uint64_t now_ns,
				struct pk_reasm_datagram *ret_done);

/* Forgets one datagram whose time is up and returns true; ret_first then holds its first
 * fragment, as it arrived, when there was one (to quote in a time exceeded message), or
 * NULL. Returns false when none is due. Call until it returns false. */
bool pk_reasm_expire(struct pk_reasm *reasm, uint64_t now_ns, struct pk_reasm_datagram *ret_first);

/* The earliest time at which pk_reasm_expire will forget a datagram; UINT64_MAX if none
 * is in reassembly. */
uint64_t pk_reasm_next_deadline(const struct pk_reasm *reasm);

/* Datagrams in reassembly now. */
unsigned pk_reasm_busy(const struct pk_reasm *reasm);

/* The number of fragments pk_frag_write makes of `packet` (`length` bytes, no Fragment
 * header of its own) for a path of `mtu` bytes, or -PK_EINVAL if it cannot: a chain that
 * does not parse, or an MTU with no room for 8 bytes of data after the headers. */
int pk_frag_count(const void *packet, uint32_t length, uint32_t mtu);

/* Writes fragment `index` (from 0) of `packet` into `out` (room for `out_size`
 * bytes): the unfragmentable part, a Fragment header with `identification`, and the
 * index's share of the rest. Each fragment but the last carries a multiple of 8 bytes.
 * The caller chooses identifications; RFC 7739 asks that they not be predictable. Returns
 * 0 with *ret_length set, or -PK_EINVAL (no such index, `out` too small, or as
 * pk_frag_count). */
int pk_frag_write(const void *packet, uint32_t length, uint32_t mtu, uint32_t identification,
		  unsigned index, void *out, uint32_t out_size, uint32_t *ret_length);

#endif
