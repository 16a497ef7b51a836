/* A router for tests, the addresses of a small world around it, and builders for the NDP
 * messages a host sends. The world: the router (MAC 02:00:00:00:00:01, KAN address
 * fd6b:616e::fe) between the KAN, where address_peer (fd6b:616e::2) lives, and a wire
 * with one host (MAC 02:00:00:00:00:02, fd6b:616e:0:1::2 and fe80::2). */
#ifndef TESTS_NIC_DRIVER_ROUTER_HARNESS_H
#define TESTS_NIC_DRIVER_ROUTER_HARNESS_H

#include <stdint.h>

#include "ndp.h"
#include "packets.h"
#include "router.h"

#define SECOND 1000000000ull

extern const uint8_t mac_router[ETHERNET_ADDRESS_SIZE];
extern const uint8_t mac_host[ETHERNET_ADDRESS_SIZE];
extern const uint8_t mac_all_nodes[ETHERNET_ADDRESS_SIZE]; /* 33:33:00:00:00:01 */
extern const uint8_t router_kan[PK_IPV6_ADDR_SIZE];	   /* fd6b:616e::fe */
extern const uint8_t router_link[PK_IPV6_ADDR_SIZE];	   /* fd6b:616e:0:1::1 */
extern const uint8_t router_link_local[PK_IPV6_ADDR_SIZE]; /* fe80::ff:fe00:1 */
extern const uint8_t host[PK_IPV6_ADDR_SIZE];		   /* fd6b:616e:0:1::2 */
extern const uint8_t host_link_local[PK_IPV6_ADDR_SIZE];   /* fe80::2 */
extern const uint8_t off_link[PK_IPV6_ADDR_SIZE];	   /* 2001:db8::1 */

struct harness {
	struct router router;
	uint8_t frame[PK_FRAME_SIZE];
	uint8_t packet[PACKET_MAX]; /* what the test built */
	struct router_decision d;   /* the last decision */
};

/* A router started at time 0 with the default configuration, advertisements off, errors
 * 10 a second in bursts of 10; `adjust`, if given, changes the configuration first. */
struct harness *harness_new(void (*adjust)(struct router_config *config));
void harness_free(struct harness *h);

/* Copies `length` bytes of `packet` into the frame and hands them to the router as from
 * the host on the wire (frame to the router's MAC), or from the KAN. */
enum router_action wire_in(struct harness *h, const uint8_t *packet, uint32_t length, uint64_t now);
enum router_action kan_in(struct harness *h, const uint8_t *packet, uint32_t length, uint64_t now);
enum router_action poll_at(struct harness *h, uint64_t now);

/* The host, from `address`, solicits the router's address of the same scope with its MAC,
 * so the router knows it; the router's answer is checked and thrown away. */
void teach_host(struct harness *h, const uint8_t *address, uint64_t now);

/* ICMPv6 messages with hop limit 255 and a right checksum, of `type` with `body` (the
 * bytes after the checksum) and a source or target link-layer option when `mac` is given.
 * Each returns the ICMPv6 message's offset. */
uint32_t build_ndp(struct builder *b, uint8_t type, const uint8_t *body, uint32_t body_length,
		   uint8_t option, const uint8_t *mac);
uint32_t build_solicit(struct builder *b, const uint8_t *target, const uint8_t *mac);
uint32_t build_advert(struct builder *b, const uint8_t *target, uint8_t flags, const uint8_t *mac);
uint32_t build_router_solicit(struct builder *b, const uint8_t *mac);
/* Sets the checksum of the ICMPv6 message at `offset` after a test changed it. */
void fix_checksum(uint8_t *packet, uint32_t offset, uint32_t length);

/* The last decision sent an ICMPv6 error of `type` and `code` from `source` to `to`,
 * quoting the `quoted_length` bytes of `invoking`, with a right checksum. */
void assert_error(const struct harness *h, uint8_t type, uint8_t code, const uint8_t *source,
		  const uint8_t *to, const uint8_t *invoking, uint32_t quoted_length);

#endif
