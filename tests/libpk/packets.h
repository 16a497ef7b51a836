/* Crafting IPv6 packets for the stack's tests: a builder that appends headers one after
 * another and keeps the Next Header chain and the payload length right. */
#ifndef TESTS_LIBPK_PACKETS_H
#define TESTS_LIBPK_PACKETS_H

#include <stdbool.h>
#include <stdint.h>

#include <pk/net/stack.h>
#include <pk/pk.h>

/* Room for the largest IPv6 packet. */
#define PACKET_MAX (PK_IPV6_HEADER_SIZE + PK_IPV6_MAX_PAYLOAD)

extern const uint8_t address_us[PK_IPV6_ADDR_SIZE];    /* fd6b:616e::1 */
extern const uint8_t address_peer[PK_IPV6_ADDR_SIZE];  /* fd6b:616e::2 */
extern const uint8_t address_other[PK_IPV6_ADDR_SIZE]; /* fd6b:616e::3 */
extern const uint8_t address_all_nodes[PK_IPV6_ADDR_SIZE];

struct builder {
	uint8_t *p;
	uint32_t length;
	uint32_t link; /* the Next Header byte the next header appended is named in */
};

/* An IPv6 header from `source` to `destination`, nothing after it yet. */
void build_start(struct builder *b, uint8_t *buffer, const uint8_t *source,
		 const uint8_t *destination);
/* An options header (Hop-by-Hop or Destination Options) or a Routing header of `length`
 * bytes (a multiple of 8), its body PadN; returns its offset. */
uint32_t build_ext(struct builder *b, uint8_t type, uint32_t length);
/* A Routing header of type 4 with `segments_left`; returns its offset. */
uint32_t build_routing(struct builder *b, uint8_t segments_left);
/* A Fragment header; returns its offset. */
uint32_t build_fragment(struct builder *b, uint32_t offset, int more, uint32_t identification);
/* Raw bytes of upper-layer protocol `protocol`; returns their offset. */
uint32_t build_upper(struct builder *b, uint8_t protocol, const void *bytes, uint32_t length);
/* An ICMPv6 message: type, code, 4 bytes of `parameter`, then `data_length` bytes
 * counting up; the checksum right. Returns its offset. */
uint32_t build_icmp(struct builder *b, uint8_t type, uint8_t code, uint32_t parameter,
		    uint32_t data_length);

/* A UDP datagram from `source_port` to `destination_port` carrying `length` bytes (which
 * may lie in the same buffer), its length and checksum right. Returns its offset. */
uint32_t build_udp(struct builder *b, uint16_t source_port, uint16_t destination_port,
		   const void *bytes, uint32_t length);

/* A TCP segment with no options: `flags`, sequence number `seq`, acknowledgement `ack`,
 * a window of 65535 and `length` bytes of data, its checksum right. Returns its offset. */
uint32_t build_tcp(struct builder *b, uint16_t source_port, uint16_t destination_port,
		   uint8_t flags, uint32_t seq, uint32_t ack, const void *bytes, uint32_t length);

/* The upper-layer checksum of the `protocol` message at `offset` as it should be, the two
 * bytes at `checksum_at` within it left out. Computed here, apart from libpk's. */
uint16_t upper_checksum(const uint8_t *packet, uint8_t protocol, uint32_t offset, uint32_t length,
			uint32_t checksum_at);
/* The ICMPv6 checksum of the message at `offset` as it should be. */
uint16_t icmp_checksum(const uint8_t *packet, uint32_t offset, uint32_t length);

/* A stack for tests: one interface with address_us, `slots` (up to 4) reassembly slots of
 * 64 KiB between two guard zones, four path MTU entries, ICMPv6 errors at `errors_rate`
 * a second in bursts of `errors_burst`. */
#define TEST_GUARD	65536u
#define TEST_GUARD_BYTE 0x5a
struct test_stack {
	struct pk_iface iface;
	struct pk_stack stack;
	struct pk_reasm_slot slots[4];
	uint8_t guard_before[TEST_GUARD];
	uint8_t buffers[4][PK_REASM_HEADROOM + PK_IPV6_MAX_PAYLOAD + 1];
	uint8_t guard_after[TEST_GUARD];
	struct pk_pmtu_entry pmtu[4];
};
void test_stack_init(struct test_stack *t, uint32_t mtu, unsigned slots, uint32_t errors_rate,
		     uint32_t errors_burst);
/* Whether the guard zones are as test_stack_init left them. */
bool test_stack_guards_intact(const struct test_stack *t);

/* The fuzz tests' generator (splitmix64): one seed gives the same run everywhere. */
void test_random_seed(uint64_t seed);
uint64_t test_random(void);
uint32_t test_random_below(uint32_t n);
/* The number in environment variable `name` (any base strtoull takes), or `fallback`. */
uint64_t test_env_or(const char *name, uint64_t fallback);

#endif
