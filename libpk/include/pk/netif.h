/* The process's network interface: its KAN addresses and its IPv6 stack, run by the
 * runtime, so every program that receives through it answers ping.
 *
 * pk_netif_recv takes packets from the program's endpoints and runs each through the
 * stack (<pk/net/stack.h>): echo requests are answered and bad packets refused with the
 * ICMPv6 error they earn, by the runtime itself, fragments are reassembled, and only what
 * is for the program comes back. The raw calls of <pk/pk.h> stay as they are; a program
 * that uses them instead answers nothing it does not answer itself.
 *
 * Ownership lives in one place, struct pk_netif_packet. A packet in a frame carries that
 * frame with it; every call given a packet either sends its frame or frees it, and clears
 * the struct; pk_netif_recv first releases whatever the struct still holds. So a program
 * that keeps one struct for its loop can neither leak a frame nor touch one it gave away.
 * One thread at a time: the interface and its storage are the process's, static. */
#ifndef PK_NETIF_H
#define PK_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/iface.h>
#include <pk/pk.h>

/* The largest datagram reassembled, counting from the end of its unfragmentable headers
 * (an 8 KiB ping and headers to spare), and how many may be in reassembly at once. */
#define PK_NETIF_DATAGRAM_MAX 9216u
#define PK_NETIF_REASM_SLOTS  4u

/* A packet delivered to the program, or one it sends. Zero it before first use
 * (`struct pk_netif_packet p = {0};`). */
struct pk_netif_packet {
	uint8_t *data;	 /* the IPv6 header; NULL: no packet */
	uint32_t length; /* bytes at data */
	/* Set by pk_netif_recv. */
	uint8_t protocol;      /* the upper layer's Next Header value */
	uint32_t upper_offset; /* where its header starts in data */
	/* The frame holding data, the program's for as long as the struct holds it; handle 0
	 * when data is elsewhere: a reassembled datagram in the stack's buffer (valid until
	 * the next call that receives), or, to send, the program's own memory. */
	struct pk_frame frame;
};

/* What the runtime itself sent, and lost, on the interface's behalf. */
struct pk_netif_counters {
	uint64_t sent; /* packets sent: answers, errors, fragments, the program's */
	uint64_t lost; /* packets (a datagram in fragments counts once) that could not be
			* sent: no frame, or the kernel refused them */
};

/* Calls pk_init and puts every address of the program on the interface. Call once before
 * the others; again does nothing. Returns 0 or a negative error (-PK_EINVAL: no address). */
int pk_netif_init(void);

/* The interface: its addresses, MTU and the stack's counters (<pk/net/counters.h>). */
const struct pk_iface *pk_netif_iface(void);
const struct pk_netif_counters *pk_netif_counters(void);
/* The MTU of the path to `destination`: the interface's, or less if a packet too big
 * said so (RFC 8201). */
uint32_t pk_netif_path_mtu(const uint8_t destination[PK_IPV6_ADDR_SIZE]);

/* Releases what `packet` holds, then receives until a packet is delivered, answering and
 * dropping the rest, and servicing the stack's timers on the way. Waits up to
 * `timeout_ms` in all (0: only what is queued, else -PK_EWOULDBLOCK; PK_WAIT_FOREVER: no
 * deadline; -PK_ETIMEDOUT when it passes). On 0, `packet` holds the delivered packet. */
int pk_netif_recv(struct pk_netif_packet *packet, uint32_t timeout_ms);

/* Gives `packet` a frame to write a packet into: the one it holds, or a new one; data
 * points at its start, length is 0. Returns 0 or an error (then `packet` is released). */
int pk_netif_packet_alloc(struct pk_netif_packet *packet);

/* Sends the `length` bytes at data, which start with an IPv6 header: as they are when
 * they fit the path's MTU and lie in the packet's frame (no copy), else copied into a
 * frame or sent in fragments (without a Fragment header of their own). Returns 0 or an
 * error (-PK_EINVAL for what cannot be a packet or cannot be fragmented, a kernel refusal
 * such as -PK_EHOSTUNREACH, -PK_ENOMEM); the packet is consumed either way. */
int pk_netif_send(struct pk_netif_packet *packet);

/* Sends `count` packets (at most PK_BURST_MAX) that lie in the program's memory, as
 * pk_netif_send would, but those that fit the path's MTU (TCP's segments do) are copied
 * into frames taken together (the interface's spares, pk_netif_release, or a burst from the
 * pool) and go together: one entry into the kernel for all of them, two when the spares
 * run out. Returns how many were sent, or the first error if none was; the rest are counted
 * as lost. */
int pk_netif_send_burst(uint8_t *const *data, const uint32_t *lengths, unsigned count);

/* pk_netif_send, then pk_netif_recv into the same struct: one entry into the kernel when
 * the packet goes without a copy, as an answer to the packet received usually does.
 * Returns the send's error (nothing is received) or the receive's result. */
int pk_netif_send_recv(struct pk_netif_packet *packet, uint32_t timeout_ms);

/* Answers a delivered packet with an ICMPv6 error of `type` and `code` (`parameter`: a
 * parameter problem's pointer, a packet too big's MTU), in place when it is in a frame,
 * as RFC 4443 and the stack's rate limit allow. Returns 0 once sent, -PK_EPERM when RFC
 * 4443 forbids this error about this packet, -PK_ELIMIT when over the rate limit, or a
 * send's error; the packet is consumed either way. */
int pk_netif_reject(struct pk_netif_packet *packet, uint8_t type, uint8_t code, uint32_t parameter);

/* Answers a delivered packet nothing in the program takes, as a host with no listener
 * does: UDP gets port unreachable, TCP a reset (RFC 9293 §3.10.7.1, none for a reset); a protocol
 * the stack does not know gets a parameter problem pointing at the Next Header byte that named it
 * (RFC 8200 §4) when the chain walk can say which byte that is; ICMPv6 messages (errors go to no
 * one here, unknown informational ones are dropped, RFC 4443 §2.4), No Next Header and ESP are
 * dropped. Within the stack's rate limit; the packet is consumed either way. */
void pk_netif_refuse(struct pk_netif_packet *packet);

/* A socket layer's input (pk_udp_input, pk_tcp_input): true if it took the packet (and
 * consumed it), false if the packet is not its own (untouched). */
typedef bool pk_netif_input_fn(struct pk_netif_packet *packet);
#define PK_NETIF_INPUTS 4u

/* Adds a socket layer to those pk_netif_dispatch offers packets to; each adds itself when
 * first used, so a program that uses UDP and TCP sockets serves both from any loop. */
void pk_netif_add_input(pk_netif_input_fn *input);

/* Offers a delivered packet to each socket layer in use; one that none takes is refused as
 * pk_netif_refuse does. The packet is consumed either way. */
void pk_netif_dispatch(struct pk_netif_packet *packet);

/* Lets go of the frame `packet` holds, if any, and clears it. The interface keeps the
 * frames it is done with, up to 32 and open, to send the next burst in
 * (pk_netif_send_burst) instead of asking the pool; so a TCP sender's ACKs carry its next
 * segments. After 20 ms without a burst they go back to the pool, while the interface
 * waits in a receive; pk_netif_trim gives them back at once (before counting frames, say). */
void pk_netif_release(struct pk_netif_packet *packet);
void pk_netif_trim(void);

#endif
