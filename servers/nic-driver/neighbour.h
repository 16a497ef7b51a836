/* The neighbour cache (RFC 4861 §7.3): the link-layer addresses of the nodes on the
 * router's Ethernet link, and how sure the router is of each.
 *
 * A fixed table; time is an argument. The state machine is RFC 4861's with two
 * simplifications: the reachable time is fixed rather than randomised, and only neighbour
 * advertisements confirm reachability (there is no upper layer to hint). An entry that
 * is resolving keeps the packets that wait for it, copied, the newest few (§7.2.2): a
 * host's first pings to a process all get their answers, not only the last one. */
#ifndef NIC_DRIVER_NEIGHBOUR_H
#define NIC_DRIVER_NEIGHBOUR_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>
#include <packos/types.h>

#include "ethernet.h"

#define NEIGHBOUR_CACHE_SIZE 32u
/* Packets waiting for one neighbour, and for all of them: a pool shared by the table, so
 * one busy neighbour may wait with several while the rest wait with none. */
#define NEIGHBOUR_QUEUE_DEPTH 4u
#define NEIGHBOUR_HELD_SLOTS  64u

/* RFC 4861 §10 */
#define NEIGHBOUR_SECOND		1000000000ull
#define NEIGHBOUR_RETRANS_NS		(1 * NEIGHBOUR_SECOND)
#define NEIGHBOUR_REACHABLE_NS		(30 * NEIGHBOUR_SECOND)
#define NEIGHBOUR_DELAY_NS		(5 * NEIGHBOUR_SECOND)
#define NEIGHBOUR_MAX_MULTICAST_SOLICIT 3u
#define NEIGHBOUR_MAX_UNICAST_SOLICIT	3u

enum neighbour_state {
	NEIGHBOUR_FREE,
	NEIGHBOUR_INCOMPLETE, /* soliciting by multicast; no MAC yet */
	NEIGHBOUR_REACHABLE,  /* confirmed by a solicited advertisement lately */
	NEIGHBOUR_STALE,      /* a MAC, unconfirmed; used as it is */
	NEIGHBOUR_DELAY,      /* stale and used: probe unless confirmed soon */
	NEIGHBOUR_PROBE,      /* soliciting by unicast; the MAC still used */
};

struct neighbour {
	enum neighbour_state state;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	uint8_t mac[ETHERNET_ADDRESS_SIZE]; /* unless INCOMPLETE */
	unsigned solicitations;		    /* sent in INCOMPLETE or PROBE */
	uint64_t deadline_ns; /* the state's timer: next solicitation, give-up, or change */
	uint64_t used_ns;     /* last packet for it; the least recently used is evicted */
	uint8_t queue[NEIGHBOUR_QUEUE_DEPTH]; /* slots of the packets waiting, oldest first */
	uint8_t queued;
	bool pending_ready; /* resolved: the waiting packets are to go out */
};

struct neighbour_cache {
	struct neighbour entries[NEIGHBOUR_CACHE_SIZE];
	uint8_t free_slot[NEIGHBOUR_HELD_SLOTS]; /* a stack of the slots holding nothing */
	unsigned free_slots;
	uint32_t held_length[NEIGHBOUR_HELD_SLOTS];
	uint8_t held[NEIGHBOUR_HELD_SLOTS][PK_FRAME_SIZE];
};

void neighbour_cache_init(struct neighbour_cache *cache);

enum neighbour_resolution {
	NEIGHBOUR_RESOLVED, /* *ret_mac is the next hop's */
	NEIGHBOUR_WAITING,  /* hold the packet with neighbour_hold(*ret_entry) */
	NEIGHBOUR_FULL,	    /* every entry is resolving or holds packets: drop it */
};

/* The MAC to send a packet for `address` to. A stale entry is used and moves to DELAY;
 * an unknown address gets a new INCOMPLETE entry (evicting the least recently used entry
 * that is not resolving, if need be), solicited at the next poll. */
enum neighbour_resolution neighbour_resolve(struct neighbour_cache *cache,
					    const uint8_t address[PK_IPV6_ADDR_SIZE],
					    uint64_t now_ns, uint8_t ret_mac[ETHERNET_ADDRESS_SIZE],
					    struct neighbour **ret_entry);

enum neighbour_hold_result {
	NEIGHBOUR_HELD,
	NEIGHBOUR_HELD_OLDEST_LOST, /* the entry's oldest waiting packet made room: it is lost */
	NEIGHBOUR_NO_ROOM,	    /* the pool is empty and the entry holds nothing: drop it */
};

/* Copies the `length`-byte `packet` (at most PK_FRAME_SIZE) into the INCOMPLETE entry's
 * queue. */
enum neighbour_hold_result neighbour_hold(struct neighbour_cache *cache, struct neighbour *entry,
					  const uint8_t *packet, uint32_t length);

/* A solicitation or router solicitation from `address` carried `mac` (§7.2.3, §6.2.6): a
 * new or changed address is STALE; one that was resolving is resolved. A new neighbour
 * takes a free entry or the least recently used stale one, never a busier one, so a flood
 * of solicitations cannot evict the neighbours in use. */
void neighbour_learn(struct neighbour_cache *cache, const uint8_t address[PK_IPV6_ADDR_SIZE],
		     const uint8_t mac[ETHERNET_ADDRESS_SIZE], uint64_t now_ns);

/* A neighbour advertisement for `address`, with its target link-layer option `mac` (NULL
 * if none) and flags (§7.2.5). Returns false when there is no entry for it. */
bool neighbour_advertised(struct neighbour_cache *cache, const uint8_t address[PK_IPV6_ADDR_SIZE],
			  const uint8_t *mac, bool solicited, bool override, uint64_t now_ns);

enum neighbour_work {
	NEIGHBOUR_IDLE,		     /* nothing due */
	NEIGHBOUR_RELEASE,	     /* the frame holds a resolved packet for `mac`, the
				      * oldest that waited */
	NEIGHBOUR_SOLICIT_MULTICAST, /* solicit `address` at its solicited-node group */
	NEIGHBOUR_SOLICIT_UNICAST,   /* solicit `address` at `mac` */
	NEIGHBOUR_GIVE_UP,	     /* `address` never answered: the frame holds the oldest
				      * packet that waited for it; `length` 0: none was left,
				      * and the entry is gone */
};

struct neighbour_due {
	enum neighbour_work work;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	uint8_t mac[ETHERNET_ADDRESS_SIZE];
	uint32_t length;
};

/* The next piece of timer work, at most one, with the packet it concerns copied into
 * `frame` (PK_FRAME_SIZE bytes). Changes of state that send nothing (reachable turning
 * stale, a probe running out) happen on the way. Call until it returns NEIGHBOUR_IDLE. */
enum neighbour_work neighbour_poll(struct neighbour_cache *cache, uint64_t now_ns, uint8_t *frame,
				   struct neighbour_due *ret);

/* When neighbour_poll has work next; UINT64_MAX if never without news. */
uint64_t neighbour_next_deadline(const struct neighbour_cache *cache);

/* Packets waiting in the cache now, for all neighbours. */
unsigned neighbour_pending(const struct neighbour_cache *cache);

const char *neighbour_state_name(enum neighbour_state state);

#endif
