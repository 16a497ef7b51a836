/* The packet builder of packets.h. */
#include <stdlib.h>
#include <string.h>

#include "packets.h"

const uint8_t address_us[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 1};
const uint8_t address_peer[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 2};
const uint8_t address_other[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 3};
const uint8_t address_all_nodes[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [15] = 1};

static void set_payload_length(struct builder *b)
{
	uint32_t payload = b->length - PK_IPV6_HEADER_SIZE;
	b->p[4] = (uint8_t)(payload >> 8);
	b->p[5] = (uint8_t)payload;
}

static uint32_t append(struct builder *b, uint8_t type, uint32_t length)
{
	uint32_t offset = b->length;
	b->p[b->link] = type;
	memset(b->p + offset, 0, length);
	b->length += length;
	set_payload_length(b);
	return offset;
}

void build_start(struct builder *b, uint8_t *buffer, const uint8_t *source,
		 const uint8_t *destination)
{
	*b = (struct builder){.p = buffer, .length = PK_IPV6_HEADER_SIZE, .link = 6};
	pk_ipv6_header_init(buffer, source, destination, PK_IPPROTO_NONE, 0, 64);
}

uint32_t build_ext(struct builder *b, uint8_t type, uint32_t length)
{
	uint32_t offset = append(b, type, length);
	b->p[offset] = PK_IPPROTO_NONE;
	b->p[offset + 1] = (uint8_t)(length / 8 - 1);
	if (type != PK_IPPROTO_ROUTING) {
		b->p[offset + 2] = 1; /* PadN over the rest */
		b->p[offset + 3] = (uint8_t)(length - 4);
	}
	b->link = offset;
	return offset;
}

uint32_t build_routing(struct builder *b, uint8_t segments_left)
{
	uint32_t offset = build_ext(b, PK_IPPROTO_ROUTING, 24);
	b->p[offset + 2] = 4;
	b->p[offset + 3] = segments_left;
	return offset;
}

uint32_t build_fragment(struct builder *b, uint32_t offset, int more, uint32_t identification)
{
	uint32_t at = append(b, PK_IPPROTO_FRAGMENT, PK_IPV6_FRAGMENT_HEADER_SIZE);
	b->p[at] = PK_IPPROTO_NONE;
	b->p[at + 2] = (uint8_t)(offset >> 8);
	b->p[at + 3] = (uint8_t)((offset & 0xf8) | (more ? 1 : 0));
	b->p[at + 4] = (uint8_t)(identification >> 24);
	b->p[at + 5] = (uint8_t)(identification >> 16);
	b->p[at + 6] = (uint8_t)(identification >> 8);
	b->p[at + 7] = (uint8_t)identification;
	b->link = at;
	return at;
}

uint32_t build_upper(struct builder *b, uint8_t protocol, const void *bytes, uint32_t length)
{
	uint32_t offset = append(b, protocol, length);
	memmove(b->p + offset, bytes, length); /* tests pass bytes of the same buffer */
	return offset;
}

uint16_t upper_checksum(const uint8_t *packet, uint8_t protocol, uint32_t offset, uint32_t length,
			uint32_t checksum_at)
{
	uint32_t sum = 0;
	for (unsigned i = 8; i < 40; i += 2)
		sum += (uint32_t)(packet[i] << 8 | packet[i + 1]);
	sum += (length >> 16) + (length & 0xffff) + protocol;
	for (uint32_t i = 0; i < length; i += 2) {
		if (i == checksum_at)
			continue; /* the checksum itself */
		uint32_t hi = packet[offset + i], lo = i + 1 < length ? packet[offset + i + 1] : 0;
		sum += hi << 8 | lo;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t icmp_checksum(const uint8_t *packet, uint32_t offset, uint32_t length)
{
	return upper_checksum(packet, PK_IPPROTO_ICMPV6, offset, length, 2);
}

uint32_t build_udp(struct builder *b, uint16_t source_port, uint16_t destination_port,
		   const void *bytes, uint32_t length)
{
	uint32_t offset = append(b, PK_IPPROTO_UDP, 8 + length);
	uint8_t *u = b->p + offset;
	memmove(u + 8, bytes, length); /* tests pass bytes of the same buffer */
	uint32_t udp_length = 8 + length;
	const uint8_t header[6] = {(uint8_t)(source_port >> 8),	     (uint8_t)source_port,
				   (uint8_t)(destination_port >> 8), (uint8_t)destination_port,
				   (uint8_t)(udp_length >> 8),	     (uint8_t)udp_length};
	memcpy(u, header, sizeof header);
	uint16_t checksum = upper_checksum(b->p, PK_IPPROTO_UDP, offset, udp_length, 6);
	if (checksum == 0)
		checksum = 0xffff;
	u[6] = (uint8_t)(checksum >> 8);
	u[7] = (uint8_t)checksum;
	return offset;
}

uint32_t build_tcp(struct builder *b, uint16_t source_port, uint16_t destination_port,
		   uint8_t flags, uint32_t seq, uint32_t ack, const void *bytes, uint32_t length)
{
	uint32_t offset = append(b, PK_IPPROTO_TCP, 20 + length);
	uint8_t *t = b->p + offset;
	memmove(t + 20, bytes, length);
	const uint8_t header[20] = {(uint8_t)(source_port >> 8),
				    (uint8_t)source_port,
				    (uint8_t)(destination_port >> 8),
				    (uint8_t)destination_port,
				    (uint8_t)(seq >> 24),
				    (uint8_t)(seq >> 16),
				    (uint8_t)(seq >> 8),
				    (uint8_t)seq,
				    (uint8_t)(ack >> 24),
				    (uint8_t)(ack >> 16),
				    (uint8_t)(ack >> 8),
				    (uint8_t)ack,
				    5 << 4,
				    flags,
				    0xff,
				    0xff,
				    0,
				    0,
				    0,
				    0};
	memcpy(t, header, sizeof header);
	uint16_t checksum = upper_checksum(b->p, PK_IPPROTO_TCP, offset, 20 + length, 16);
	t[16] = (uint8_t)(checksum >> 8);
	t[17] = (uint8_t)checksum;
	return offset;
}

uint32_t build_icmp(struct builder *b, uint8_t type, uint8_t code, uint32_t parameter,
		    uint32_t data_length)
{
	uint32_t offset = append(b, PK_IPPROTO_ICMPV6, PK_ICMPV6_HEADER_SIZE + data_length);
	uint8_t *m = b->p + offset;
	m[0] = type;
	m[1] = code;
	for (int i = 0; i < 4; i++)
		m[4 + i] = (uint8_t)(parameter >> (24 - 8 * i));
	for (uint32_t i = 0; i < data_length; i++)
		m[PK_ICMPV6_HEADER_SIZE + i] = (uint8_t)(i * 7 + 3);
	uint16_t checksum = icmp_checksum(b->p, offset, PK_ICMPV6_HEADER_SIZE + data_length);
	m[2] = (uint8_t)(checksum >> 8);
	m[3] = (uint8_t)checksum;
	return offset;
}

void test_stack_init(struct test_stack *t, uint32_t mtu, unsigned slots, uint32_t errors_rate,
		     uint32_t errors_burst)
{
	memset(t, 0, sizeof *t);
	memset(t->guard_before, TEST_GUARD_BYTE, TEST_GUARD);
	memset(t->guard_after, TEST_GUARD_BYTE, TEST_GUARD);
	pk_iface_init(&t->iface, mtu);
	pk_iface_add_address(&t->iface, address_us);
	struct pk_stack_config config = {
		.reasm_slots = t->slots,
		.reasm_slot_count = slots,
		.reasm_buffers = &t->buffers[0][0],
		.reasm_buffer_size = sizeof t->buffers[0],
		.pmtu_entries = t->pmtu,
		.pmtu_entry_count = 4,
		.errors_per_second = errors_rate,
		.errors_burst = errors_burst,
		.identification_seed = 7,
	};
	pk_stack_init(&t->stack, &t->iface, &config, 0);
}

bool test_stack_guards_intact(const struct test_stack *t)
{
	for (unsigned i = 0; i < TEST_GUARD; i++)
		if (t->guard_before[i] != TEST_GUARD_BYTE || t->guard_after[i] != TEST_GUARD_BYTE)
			return false;
	return true;
}

static uint64_t random_state;

void test_random_seed(uint64_t seed)
{
	random_state = seed;
}

uint64_t test_random(void)
{
	uint64_t z = (random_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t test_random_below(uint32_t n)
{
	return (uint32_t)(test_random() % n);
}

uint64_t test_env_or(const char *name, uint64_t fallback)
{
	const char *text = getenv(name);
	return text ? strtoull(text, NULL, 0) : fallback;
}
