/* libpk: the user runtime every PackOS program links.
 *
 * A program owns frames (pages of the kernel's pool), writes IPv6 packets into them and
 * sends them; the kernel moves the frame to the endpoint the destination address names.
 * While the program owns a frame, `data` points at its bytes; after a send or free the
 * pointer is dead, and in the default isolation mode touching it faults the program, as
 * it would on hardware. A frame received from the clock or a multicast group is a share:
 * other programs read the same bytes, so it is read-only (writing it faults, in the
 * default mode), cannot be sent (-PK_ESHARED), and pk_frame_free lets go of it.
 *
 * Every function returns 0 or a negative PackOS error (-PK_Exxx, see <packos/errors.h>).
 * Programs use only this header, the ABI headers and the C standard library, so the same
 * source runs on every port. */
#ifndef PK_PK_H
#define PK_PK_H

#include <stdint.h>

#include <packos/errors.h>
#include <packos/kan.h>
#include <packos/kcalls.h>
#include <packos/types.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" and its NUL. */
#define PK_ADDR_STRLEN 40

/* PK_WAIT_FOREVER as a timeout: wait until a packet arrives. */
#define PK_WAIT_FOREVER UINT32_MAX

struct pk_frame {
	pk_frame_t handle;
	uint8_t *data;	/* PK_FRAME_SIZE bytes while owned or held; NULL otherwise, and for an
			 * interrupt packet or under lazy mapping until pk_frame_open */
	uint8_t shared; /* a read-only share: do not write `data`; free it, never send it */
	uint8_t kmsg;	/* received: the enum pk_kmsg_type of a message the kernel wrote (an
			 * interrupt, a tick), from the receive itself; 0 for a packet */
	uint32_t lost;	/* received: packets of the same group (or ticks) lost just before */
};

/* Connects to the kernel. Call once, first; every other call needs it. */
int pk_init(void);

/* The program's name and addresses, as the boot manifest gave them. */
const char *pk_name(void);
unsigned pk_endpoint_count(void);
pk_endpoint_t pk_endpoint(unsigned index);
const uint8_t *pk_address(unsigned index);

int pk_frame_alloc(struct pk_frame *frame);
/* Maps a frame received unmapped (an interrupt packet, or any under lazy mapping) to reach
 * its bytes through `data`; 0 if mapped. */
int pk_frame_open(struct pk_frame *frame);

/* Lazy mapping, for a program that looks at a few bytes of most frames it handles, as a
 * router reads headers: from the call on (0 turns it off), every frame the kernel hands
 * over, allocated or received, comes with `data` NULL until pk_frame_open, and
 * pk_frame_read and pk_frame_write reach its bytes without mapping it. In remap isolation
 * mapping a frame in and out is two changes of protection, each dearer than copying a
 * packet out and back (docs/performance.md); a frame never mapped costs neither. Where
 * every frame is mapped anyway (shared isolation, x86) the call leaves frames mapped, as
 * copies would save nothing there; a program must take frames either way. The setting is
 * the process's: make it once, after pk_init, before other threads start. */
void pk_set_lazy_mapping(int lazy);
/* Copies `length` bytes at `offset` of a frame the program owns or holds, mapped or not,
 * out of it or (not a share: -PK_ESHARED) into it; the bytes written may lie in the frame
 * itself. 0, or -PK_EINVAL for bytes outside the frame or no frame. */
int pk_frame_read(const struct pk_frame *frame, uint32_t offset, void *buffer, uint32_t length);
int pk_frame_write(struct pk_frame *frame, uint32_t offset, const void *buffer, uint32_t length);
/* Frees an owned frame, or lets go of a share (the frame is free once nobody holds it). */
int pk_frame_free(struct pk_frame *frame);

/* Sends the `length`-byte IPv6 packet at the start of `frame`. On success the frame is
 * gone (handle and data cleared); on error it is still the caller's, bytes untouched. */
int pk_send(struct pk_frame *frame, uint32_t length);

/* Receives the oldest packet queued at `endpoint` into `frame`, waiting up to
 * `timeout_ms` (0: do not wait, -PK_EWOULDBLOCK; PK_WAIT_FOREVER: no deadline;
 * -PK_ETIMEDOUT when it passes). */
int pk_recv(pk_endpoint_t endpoint, struct pk_frame *frame, uint32_t *length, uint32_t timeout_ms);

/* pk_send, then pk_recv, in one entry into the kernel: the fast path of anything that
 * answers or asks. If the send fails, nothing is received: the send's error is returned
 * and `out` is still the caller's. */
int pk_send_recv(struct pk_frame *out, uint32_t out_length, pk_endpoint_t endpoint,
		 struct pk_frame *in, uint32_t *in_length, uint32_t timeout_ms);

/* Bursts: up to PK_BURST_MAX calls of one kind in one entry into the kernel, as
 * sendmmsg(2) and recvmmsg(2) do for sockets; the way to move many packets cheaply. Each
 * returns how many frames it handled, always a prefix of the array (frames after it are
 * as they were), or the error of the first if it handled none; -PK_EINVAL for a count of
 * 0 or above PK_BURST_MAX. */
#define PK_BURST_MAX 32u

/* Allocates `count` frames, fewer if the pool runs short. */
int pk_frame_alloc_burst(struct pk_frame *frames, unsigned count);
/* Frees all `count` frames; returns 0 or the first error (the others are freed anyway). */
int pk_frame_free_burst(struct pk_frame *frames, unsigned count);
/* Sends frames[i] as a packet of lengths[i] bytes, in order, stopping at the first that
 * fails: it and those after it stay the caller's, bytes untouched. */
int pk_send_burst(struct pk_frame *frames, const uint32_t *lengths, unsigned count);
/* Receives up to `max` packets from `endpoint`: waits for the first as pk_recv does, then
 * takes those already queued behind it. */
int pk_recv_burst(pk_endpoint_t endpoint, struct pk_frame *frames, uint32_t *lengths, unsigned max,
		  uint32_t timeout_ms);
/* How many packets a receive burst asks for: up to `limit` while they come in runs, two
 * once they come one at a time. Every receive asked for is a call the kernel answers, one
 * that finds nothing included, so a burst of 16 that brings one packet costs its caller
 * and the kernel 15 answers of nothing; two still show a run beginning, which takes the
 * size back up at once. Four passes in a row of one packet each shrink it, so the tail
 * of a run does not. */
struct pk_burst_size {
	unsigned asked; /* what the next burst asks for */
	unsigned limit;
	unsigned singles; /* passes in a row that brought one packet */
};

void pk_burst_size_init(struct pk_burst_size *size, unsigned limit);
/* After a burst that asked for size->asked packets and brought `got` (or an error). */
void pk_burst_size_learn(struct pk_burst_size *size, int got);

/* A server's loop in one entry into the kernel per pass: what the last pass made to send
 * waits in an outbox, and goes with the receive of what comes next (pk_pass). */
#define PK_OUTBOX_MAX 16u

struct pk_outbox {
	unsigned count;
	struct pk_frame frame[PK_OUTBOX_MAX];
	uint32_t length[PK_OUTBOX_MAX];
	uint8_t hop_limit[PK_OUTBOX_MAX]; /* for the kernel to write; 0: none */
	int status[PK_OUTBOX_MAX];	  /* after pk_pass: the error each refused frame met */
};

/* Puts the frame (its first `length` bytes) in the outbox; -PK_ELIMIT if it is full (then
 * pass with max 0 to send what it holds). The frame is the outbox's: the caller's copy is
 * cleared. */
int pk_outbox_add(struct pk_outbox *out, struct pk_frame *frame, uint32_t length);
/* The same, for a packet a router forwards: the kernel writes `hop_limit` (nonzero) into
 * its header as it sends it, so the router need not write into a frame it has not mapped
 * (docs/kcalls.md, send). A refused packet comes back unchanged. */
int pk_outbox_forward(struct pk_outbox *out, struct pk_frame *frame, uint32_t length,
		      uint8_t hop_limit);

/* One pass: sends each frame of `out` (one refused does not hold back the others), runs
 * the raw call `call` if it is not NULL (its status in *ret_call_status), and receives up
 * to `max` packets as pk_recv_burst does (max 0: none), all in one entry into the kernel.
 * A refused send stops the receive from waiting, so its news comes at once. Afterwards
 * `out` holds only the frames the kernel refused, each the caller's again with its error
 * in `status`, for the caller to take out (one that cannot be mapped back is freed).
 * Returns the packets received, or the first receive's error (0 with max 0); -PK_EINVAL,
 * with nothing run, if `out` holds more than PK_OUTBOX_MAX, the calls would exceed
 * PK_BURST_MAX, or there is nothing to do. */
int pk_pass(struct pk_outbox *out, const struct pk_kcall *call, int *ret_call_status,
	    pk_endpoint_t endpoint, struct pk_frame *frames, uint32_t *lengths, unsigned max,
	    uint32_t timeout_ms);

/* Binds a new address: interface ID `iid` in the KAN prefix (0: the kernel picks one). */
int pk_endpoint_create(uint64_t iid, pk_endpoint_t *ret_endpoint,
		       uint8_t ret_address[PK_IPV6_ADDR_SIZE]);
int pk_endpoint_destroy(pk_endpoint_t endpoint);

/* The kernel clock. A subscribed endpoint receives, ahead of its ordinary packets, each
 * tick as a shared frame holding a kernel message (pk_tick_parse); one it has not
 * received yet is replaced by the next, and frame->lost says how many it missed. Returns
 * the clock's period in *ret_period_ns (if not NULL). -PK_EALREADY: subscribed already;
 * -PK_ENOSPC: the kernel's subscriber limit. */
int pk_tick_subscribe(pk_endpoint_t endpoint, uint64_t *ret_period_ns);
/* -PK_ENOTMEMBER if the endpoint is not subscribed. Ticks it holds stay valid. */
int pk_tick_unsubscribe(pk_endpoint_t endpoint);

struct pk_tick {
	uint64_t tick;	    /* ticks since the kernel started */
	uint64_t now_ns;    /* the kernel's time at this tick */
	uint64_t period_ns; /* the time between ticks */
};

/* Reads a received packet as a tick: 0, or -PK_EINVAL if it is not one from the kernel. */
int pk_tick_parse(const struct pk_frame *frame, uint32_t length, struct pk_tick *ret_tick);

/* Multicast in the kernel: `endpoint` receives, ahead of its ordinary packets, what is sent
 * to the IPv6 multicast address `group` (ff00::/8) from the time it joins, as shared
 * frames. A member that falls behind the kernel's ring loses the oldest packets, and
 * frame->lost of the next one says how many. join: -PK_EINVAL not multicast,
 * -PK_EALREADY joined already, -PK_ELIMIT the endpoint's group limit, -PK_ENOSPC a kernel
 * limit (groups, members of one group, memberships). leave: -PK_EINVAL, -PK_ENOTMEMBER. */
int pk_group_join(pk_endpoint_t endpoint, const uint8_t group[PK_IPV6_ADDR_SIZE]);
int pk_group_leave(pk_endpoint_t endpoint, const uint8_t group[PK_IPV6_ADDR_SIZE]);

/* One raw kernel call, for tools and tests that exercise the ABI directly. Frames it
 * moves are not mapped or unmapped: pair it with pk_frame_* only if you know why. */
int pk_call(const struct pk_kcall *call, struct pk_kresult *result);

/* The message for a PackOS error (negative or positive), "unknown error" otherwise. */
const char *pk_strerror(int error);

/* Monotonic time and sleeping, from the port. */
uint64_t pk_now_ns(void);
void pk_sleep_ns(uint64_t ns);
/* The timeout, in ms, of a wait that is to end at `deadline_ns` (pk_now_ns's clock):
 * PK_WAIT_FOREVER for 0 (no deadline), 0 once it has passed, else rounded up, so the wait
 * never ends before the deadline. */
uint32_t pk_timeout_until(uint64_t deadline_ns);
/* Bytes nobody outside the process can predict (for keys), from the port's source. */
void pk_random(void *buffer, uint32_t length);

/* IPv6 addresses as text. pk_addr_parse returns 0 or -PK_EINVAL. */
int pk_addr_parse(const char *text, uint8_t ret_address[PK_IPV6_ADDR_SIZE]);
void pk_addr_format(const uint8_t address[PK_IPV6_ADDR_SIZE], char ret_text[PK_ADDR_STRLEN]);

/* Writes an IPv6 header at the start of `packet`. */
void pk_ipv6_header_init(void *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
			 const uint8_t destination[PK_IPV6_ADDR_SIZE], uint8_t next_header,
			 uint16_t payload_length, uint8_t hop_limit);
uint16_t pk_ipv6_payload_length(const void *packet);
/* Turns a packet around: its source becomes its destination and the reverse, as an echo
 * answers in the frame it was asked in. */
void pk_ipv6_swap_addresses(void *packet);

/* The Internet checksum of an upper-layer message (ICMPv6, UDP, TCP) of `length` bytes
 * after the header of `packet`, over the RFC 8200 pseudo-header, with the message's
 * checksum field counted as it is (write 0 there first when computing). */
uint16_t pk_ipv6_upper_checksum(const void *packet, uint8_t next_header, uint32_t length);
/* The same for a message at `offset`, after extension headers: it sums as if it followed
 * the fixed header directly. */
uint16_t pk_ipv6_checksum_at(const void *packet, uint8_t next_header, uint32_t offset,
			     uint32_t length);

#endif
