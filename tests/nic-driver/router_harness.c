/* The test world of router_harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router_harness.h"

const uint8_t mac_router[ETHERNET_ADDRESS_SIZE] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t mac_host[ETHERNET_ADDRESS_SIZE] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t mac_all_nodes[ETHERNET_ADDRESS_SIZE] = {0x33, 0x33, 0, 0, 0, 0x01};
const uint8_t router_kan[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, [15] = 0xfe};
const uint8_t router_link[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1, [15] = 1};
const uint8_t router_link_local[PK_IPV6_ADDR_SIZE] = {0xfe, 0x80, [11] = 0xff, 0xfe, 0, 0, 1};
const uint8_t host[PK_IPV6_ADDR_SIZE] = {0xfd, 0x6b, 0x61, 0x6e, 0, 0, 0, 1, [15] = 2};
const uint8_t host_link_local[PK_IPV6_ADDR_SIZE] = {0xfe, 0x80, [15] = 2};
const uint8_t off_link[PK_IPV6_ADDR_SIZE] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

struct harness *harness_new(void (*adjust)(struct router_config *config))
{
	struct harness *h = malloc(sizeof *h);
	assert_non_null(h);
	struct router_config config;
	router_config_default(&config);
	memcpy(config.mac, mac_router, sizeof config.mac);
	memcpy(config.kan_address, router_kan, sizeof config.kan_address);
	config.advertise = false;
	config.errors_per_second = 10;
	config.errors_burst = 10;
	config.seed = 42;
	if (adjust)
		adjust(&config);
	assert_int_equal(router_init(&h->router, &config, 0), 0);
	return h;
}

void harness_free(struct harness *h)
{
	free(h);
}

enum router_action wire_in(struct harness *h, const uint8_t *packet, uint32_t length, uint64_t now)
{
	struct ethernet_header ethernet = {.type = ETHERNET_TYPE_IPV6};
	memcpy(ethernet.destination, mac_router, sizeof ethernet.destination);
	memcpy(ethernet.source, mac_host, sizeof ethernet.source);
	memcpy(h->frame, packet, length);
	return router_from_wire(&h->router, h->frame, length, &ethernet, now, &h->d);
}

enum router_action kan_in(struct harness *h, const uint8_t *packet, uint32_t length, uint64_t now)
{
	memcpy(h->frame, packet, length);
	return router_from_kan(&h->router, h->frame, length, now, &h->d);
}

enum router_action poll_at(struct harness *h, uint64_t now)
{
	return router_poll(&h->router, h->frame, now, &h->d);
}

void fix_checksum(uint8_t *packet, uint32_t offset, uint32_t length)
{
	uint16_t checksum = icmp_checksum(packet, offset, length);
	packet[offset + 2] = (uint8_t)(checksum >> 8);
	packet[offset + 3] = (uint8_t)checksum;
}

uint32_t build_ndp(struct builder *b, uint8_t type, const uint8_t *body, uint32_t body_length,
		   uint8_t option, const uint8_t *mac)
{
	uint8_t message[64] = {type};
	uint32_t length = 4 + body_length;
	memcpy(message + 4, body, body_length);
	if (mac) {
		message[length] = option;
		message[length + 1] = 1;
		memcpy(message + length + 2, mac, ETHERNET_ADDRESS_SIZE);
		length += 8;
	}
	uint32_t offset = build_upper(b, PK_IPPROTO_ICMPV6, message, length);
	b->p[7] = NDP_HOP_LIMIT;
	fix_checksum(b->p, offset, length);
	return offset;
}

uint32_t build_solicit(struct builder *b, const uint8_t *target, const uint8_t *mac)
{
	uint8_t body[20] = {0};
	memcpy(body + 4, target, PK_IPV6_ADDR_SIZE);
	return build_ndp(b, NDP_NEIGHBOUR_SOLICIT, body, sizeof body, NDP_OPTION_SOURCE_MAC, mac);
}

uint32_t build_advert(struct builder *b, const uint8_t *target, uint8_t flags, const uint8_t *mac)
{
	uint8_t body[20] = {flags};
	memcpy(body + 4, target, PK_IPV6_ADDR_SIZE);
	return build_ndp(b, NDP_NEIGHBOUR_ADVERT, body, sizeof body, NDP_OPTION_TARGET_MAC, mac);
}

uint32_t build_router_solicit(struct builder *b, const uint8_t *mac)
{
	uint8_t body[4] = {0};
	return build_ndp(b, NDP_ROUTER_SOLICIT, body, sizeof body, NDP_OPTION_SOURCE_MAC, mac);
}

void teach_host(struct harness *h, const uint8_t *address, uint64_t now)
{
	struct builder b;
	uint8_t group[PK_IPV6_ADDR_SIZE];
	const uint8_t *target = address[0] == 0xfe ? router_link_local : router_link;
	ndp_solicited_node(target, group);
	build_start(&b, h->packet, address, group);
	build_solicit(&b, target, mac_host);
	assert_int_equal(wire_in(h, h->packet, b.length, now), ROUTER_TO_WIRE);
	assert_memory_equal(h->d.mac, mac_host, ETHERNET_ADDRESS_SIZE);
}

void assert_error(const struct harness *h, uint8_t type, uint8_t code, const uint8_t *source,
		  const uint8_t *to, const uint8_t *invoking, uint32_t quoted_length)
{
	const uint8_t *p = h->frame;
	assert_int_equal(h->d.length, 48 + quoted_length);
	assert_int_equal(p[0] >> 4, 6);
	assert_int_equal(p[6], PK_IPPROTO_ICMPV6);
	assert_int_equal(p[4] << 8 | p[5], 8 + quoted_length);
	assert_memory_equal(p + 8, source, PK_IPV6_ADDR_SIZE);
	assert_memory_equal(p + 24, to, PK_IPV6_ADDR_SIZE);
	assert_int_equal(p[40], type);
	assert_int_equal(p[41], code);
	assert_true(pk_icmpv6_checksum_ok(p, 40, h->d.length - 40));
	assert_memory_equal(p + 48, invoking, quoted_length);
}
