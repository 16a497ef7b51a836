/* The per-process IPv6 stack: what to do with each packet that arrives on an interface.
 *
 * The stack checks the packet, reassembles fragments, answers echo requests (every
 * process answers ping) and the errors the packet itself earns, learns path MTUs from
 * packet-too-big, and hands everything else to the application. It never calls the
 * kernel: the caller receives frames, passes them in, and sends what the stack says to
 * send. Time is an argument, so tests can drive timeouts. */
#ifndef PK_NET_STACK_H
#define PK_NET_STACK_H

#include <stdint.h>

#include <pk/net/counters.h>
#include <pk/net/frag.h>
#include <pk/net/icmpv6.h>
#include <pk/net/iface.h>
#include <pk/net/ipv6.h>
#include <pk/net/pmtu.h>
#include <pk/net/ratelimit.h>

/* Gives the identification of the next datagram sent in fragments. */
typedef uint32_t pk_stack_identification_fn(void *context);

/* Storage and limits; the stack keeps pointers to the arrays, never copies them. */
struct pk_stack_config {
	struct pk_reasm_slot *reasm_slots; /* concurrent reassemblies: one slot each */
	unsigned reasm_slot_count;
	uint8_t *reasm_buffers;	    /* reasm_slot_count * reasm_buffer_size bytes */
	uint32_t reasm_buffer_size; /* PK_REASM_HEADROOM + the largest datagram taken */
	uint64_t reasm_timeout_ns;  /* 0: PK_REASM_TIMEOUT_NS */
	struct pk_pmtu_entry *pmtu_entries;
	unsigned pmtu_entry_count;
	uint64_t pmtu_lifetime_ns;	      /* 0: PK_PMTU_LIFETIME_NS */
	uint32_t errors_per_second;	      /* ICMPv6 errors sent, on average; 0: 100 */
	uint32_t errors_burst;		      /* and in a burst; 0: 10 */
	pk_stack_identification_fn *identify; /* NULL: a counter from identification_seed */
	void *identify_context;
	uint32_t identification_seed;
};

struct pk_stack {
	struct pk_iface *iface;
	struct pk_reasm reasm;
	struct pk_pmtu pmtu;
	struct pk_ratelimit errors;
	pk_stack_identification_fn *identify;
	void *identify_context;
	uint32_t next_identification;
};

enum pk_stack_action {
	PK_STACK_IDLE,		 /* pk_stack_poll: nothing is due */
	PK_STACK_DROPPED,	 /* counted in the interface; the frame is the caller's again */
	PK_STACK_HELD,		 /* kept (a fragment, copied) or used up; the frame is free */
	PK_STACK_SEND,		 /* the frame now holds a packet of `length` bytes to send */
	PK_STACK_SEND_FRAGMENTS, /* `packet` is an answer too large for the path: send each
				  * of `fragment_count` fragments pk_stack_fragment writes */
	PK_STACK_DELIVER,	 /* `packet` is for the application */
};

struct pk_stack_result {
	enum pk_stack_action action;
	uint8_t *packet;       /* the frame, or a reassembly buffer (valid until the next call
				* into the stack) */
	uint32_t length;       /* of the packet */
	uint8_t protocol;      /* DELIVER: the upper-layer protocol */
	uint32_t upper_offset; /* DELIVER: where its header starts */
	unsigned fragment_count;
	uint32_t mtu; /* SEND_FRAGMENTS: the path's */
	uint32_t identification;
	enum pk_net_drop drop; /* DROPPED: why; SEND: why the packet was refused when the
				* answer is an error about it, PK_NET_OK otherwise */
};

void pk_stack_init(struct pk_stack *stack, struct pk_iface *iface,
		   const struct pk_stack_config *config, uint64_t now_ns);

/* Takes the `length` bytes received in `frame` (PK_FRAME_SIZE bytes, the caller's) and
 * says what became of them in *ret: an answer may have been written over the frame. */
enum pk_stack_action pk_stack_input(struct pk_stack *stack, uint8_t *frame, uint32_t length,
				    uint64_t now_ns, struct pk_stack_result *ret);

/* Writes fragment `index` of a SEND_FRAGMENTS result into `frame` (PK_FRAME_SIZE bytes, not
 * the result's packet). Returns 0 with *ret_length set or -PK_EINVAL. */
int pk_stack_fragment(struct pk_stack *stack, const struct pk_stack_result *result, unsigned index,
		      uint8_t *frame, uint32_t *ret_length);

/* Forgets reassemblies whose time is up. Call it now and then, until it returns IDLE:
 * SEND means `frame` holds a time exceeded message for the source of one of them. */
enum pk_stack_action pk_stack_poll(struct pk_stack *stack, uint8_t *frame, uint64_t now_ns,
				   struct pk_stack_result *ret);

/* Answers `invoking` (`length` bytes, e.g. a delivered packet the application cannot
 * take) with an ICMPv6 error written into `frame`, within the stack's rate limit: SEND, or
 * DROPPED when RFC 4443 or the limit forbids it. */
enum pk_stack_action pk_stack_reject(struct pk_stack *stack, uint8_t *frame,
				     const uint8_t *invoking, uint32_t length, uint8_t type,
				     uint8_t code, uint32_t parameter, uint64_t now_ns,
				     struct pk_stack_result *ret);

/* As pk_stack_reject, but answering from `source` (one of the caller's addresses, which
 * may lie in `invoking`) with the error `error` describes: for a router, whose errors
 * about packets it forwards come from the address of the right scope on the link they go
 * out on. DROPPED's drop is ERROR_RATE_LIMITED when the limit forbade it, else PK_NET_OK. */
enum pk_stack_action pk_stack_reject_from(struct pk_stack *stack, uint8_t *frame,
					  const uint8_t *invoking, uint32_t length,
					  const uint8_t source[PK_IPV6_ADDR_SIZE],
					  const struct pk_icmpv6_due *error, uint64_t now_ns,
					  struct pk_stack_result *ret);

/* When pk_stack_poll has work next: the earliest reassembly deadline, UINT64_MAX if none. */
uint64_t pk_stack_next_deadline(const struct pk_stack *stack);

/* The identification for the next datagram the caller fragments itself. */
uint32_t pk_stack_next_identification(struct pk_stack *stack);

#endif
