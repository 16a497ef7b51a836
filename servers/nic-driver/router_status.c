/* The operators' view of the router (router_status in router.h): plain text, one fact a
 * line, so packosctl can print it as it is and scripts can grep it. */
#include <stdarg.h>
#include <stdio.h>

#include <pk/pk.h>

#include "router.h"

struct text {
	char *buffer;
	size_t size;
	size_t length; /* written, without the NUL */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(struct text *t, const char *format, ...)
{
	if (t->length + 1 >= t->size)
		return;
	va_list args;
	va_start(args, format);
	int n = vsnprintf(t->buffer + t->length, t->size - t->length, format, args);
	va_end(args);
	if (n < 0)
		return;
	size_t room = t->size - t->length - 1;
	t->length += (size_t)n < room ? (size_t)n : room;
}

static const char *address(const uint8_t a[PK_IPV6_ADDR_SIZE], char text[PK_ADDR_STRLEN])
{
	pk_addr_format(a, text);
	return text;
}

static const char *prefix(const uint8_t p[PK_KAN_PREFIX_SIZE], char text[PK_ADDR_STRLEN])
{
	uint8_t a[PK_IPV6_ADDR_SIZE] = {0};
	for (unsigned i = 0; i < PK_KAN_PREFIX_SIZE; i++)
		a[i] = p[i];
	return address(a, text);
}

static void put_mac(struct text *t, const uint8_t mac[ETHERNET_ADDRESS_SIZE])
{
	put(t, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void put_addresses(struct text *t, const struct router *r)
{
	char a[PK_ADDR_STRLEN], b[PK_ADDR_STRLEN], c[PK_ADDR_STRLEN];
	put(t, "interfaces\n  wire mac ");
	put_mac(t, r->config.mac);
	put(t, " mtu %u\n  wire addresses %s %s %s\n", (unsigned)r->config.link_mtu,
	    address(r->link_local, a), address(r->link_address, b),
	    address(r->config.kan_address, c));
	put(t, "  kan address %s\n", address(r->config.kan_address, a));
}

static void put_routes(struct text *t, const struct router *r)
{
	char a[PK_ADDR_STRLEN];
	put(t, "routes\n  %s/64 kan\n", prefix(r->config.kan_prefix, a));
	put(t, "  %s/64 wire on-link\n  fe80::/64 wire on-link\n",
	    prefix(r->config.link_prefix, a));
	if (r->config.has_gateway)
		put(t, "  ::/0 wire via %s\n", address(r->config.gateway, a));
	else
		put(t, "  ::/0 none (destination unreachable)\n");
	if (r->config.advertise)
		put(t, "  advertising every %us at most\n",
		    (unsigned)(r->advert.max_interval_ns / ADVERT_SECOND));
}

static void put_neighbours(struct text *t, const struct router *r, uint64_t now_ns)
{
	char a[PK_ADDR_STRLEN];
	put(t, "neighbours (%u entries)\n", NEIGHBOUR_CACHE_SIZE);
	for (unsigned i = 0; i < NEIGHBOUR_CACHE_SIZE; i++) {
		const struct neighbour *n = &r->neighbours.entries[i];
		if (n->state == NEIGHBOUR_FREE)
			continue;
		put(t, "  %s ", address(n->address, a));
		if (n->state == NEIGHBOUR_INCOMPLETE)
			put(t, "(none)");
		else
			put_mac(t, n->mac);
		put(t, " %s", neighbour_state_name(n->state));
		if (n->deadline_ns != UINT64_MAX)
			put(t, " timer %lldms",
			    (long long)((int64_t)(n->deadline_ns - now_ns) / 1000000));
		if (n->queued)
			put(t, " %u waiting", (unsigned)n->queued);
		put(t, "\n");
	}
}

static void put_counters(struct text *t, const struct router_counters *c)
{
	const struct {
		const char *name;
		uint64_t value;
	} rows[] = {
		{"from_wire", c->from_wire},
		{"from_kan", c->from_kan},
		{"kan_refusals", c->kan_refusals},
		{"forwarded_to_kan", c->forwarded_to_kan},
		{"forwarded_to_wire", c->forwarded_to_wire},
		{"sent_to_kan", c->sent_to_kan},
		{"sent_to_wire", c->sent_to_wire},
		{"errors_sent", c->errors_sent},
		{"solicits_sent", c->solicits_sent},
		{"adverts_sent", c->adverts_sent},
		{"router_adverts_sent", c->router_adverts_sent},
		{"solicits_received", c->solicits_received},
		{"adverts_received", c->adverts_received},
		{"router_solicits_received", c->router_solicits_received},
		{"held", c->held},
		{"released", c->released},
		{"consumed", c->consumed},
	};
	put(t, "counters\n");
	for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
		put(t, "  %s %llu\n", rows[i].name, (unsigned long long)rows[i].value);
	put(t, "drops (those not zero)\n");
	for (int reason = ROUTER_OK + 1; reason < ROUTER_DROP_COUNT; reason++)
		if (c->drops[reason])
			put(t, "  %llu %s\n", (unsigned long long)c->drops[reason],
			    router_drop_name((enum router_drop)reason));
}

static void put_stack(struct text *t, const char *name, const struct pk_net_counters *c)
{
	put(t,
	    "own stack on the %s: received %llu delivered %llu echo_replies %llu errors_sent %llu "
	    "reassembled %llu fragments_sent %llu\n",
	    name, (unsigned long long)c->received, (unsigned long long)c->delivered,
	    (unsigned long long)c->echo_replies, (unsigned long long)c->errors_sent,
	    (unsigned long long)c->reassembled, (unsigned long long)c->fragments_sent);
	for (int reason = PK_NET_OK + 1; reason < PK_NET_DROP_COUNT; reason++)
		if (c->drops[reason])
			put(t, "  %llu %s\n", (unsigned long long)c->drops[reason],
			    pk_iface_drop_name((enum pk_net_drop)reason));
}

size_t router_status(const struct router *router, uint64_t now_ns, char *buffer, size_t size)
{
	struct text t = {.buffer = buffer, .size = size};
	if (size == 0)
		return 0;
	buffer[0] = '\0';
	put_addresses(&t, router);
	put_routes(&t, router);
	put_neighbours(&t, router, now_ns);
	put_counters(&t, &router->counters);
	put_stack(&t, "wire", &router->wire_iface.counters);
	put_stack(&t, "kan", &router->kan_iface.counters);
	return t.length;
}
