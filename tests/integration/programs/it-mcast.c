/* it-mcast: multicast's documented errors, with both designs, against a real kernel and a
 * real multicast server (started with -g 2 -m 2, and packosd with --queue-limit 16).
 *
 *   it-mcast errors   every check printed "it-mcast: NAME ok" or "... FAILED: why", then
 *                     "it-mcast: done, N failed" (exit status 1 if any failed)
 *   it-mcast status   the server's counters, one "NAME=VALUE" line each
 *
 * Its first endpoint and two it creates play the members; groups are ff02::1:N. */
#define _GNU_SOURCE
#include <pk/mcast.h>

#include "it_common.h"

#define PROGRAM	   "it-mcast"
#define TIMEOUT_MS 5000
/* The server's limits and packosd's queue limit, as the test starts them. */
#define SERVER_MAX_MEMBERS 2
#define QUEUE_LIMIT	   16
/* Kernel: groups_per_endpoint of the core's default configuration. */
#define KERNEL_GROUPS_PER_ENDPOINT 8

#define EXPECT_EQ(name, got, want) it_expect_eq(PROGRAM, name, (long long)(got), (long long)(want))

static void group_address(unsigned n, uint8_t ret[PK_IPV6_ADDR_SIZE])
{
	static const uint8_t base[PK_IPV6_ADDR_SIZE] = {0xff, 0x02, [13] = 0x01};
	memcpy(ret, base, PK_IPV6_ADDR_SIZE);
	ret[15] = (uint8_t)n;
}

/* A member on a new endpoint of this process. */
static void new_member(enum pk_mcast_design design, struct pk_mcast *ret)
{
	pk_endpoint_t endpoint;
	uint8_t address[PK_IPV6_ADDR_SIZE];
	int err = pk_endpoint_create(0, &endpoint, address);
	if (err < 0) {
		printf(PROGRAM ": endpoint_create: %s\n", pk_strerror(err));
		exit(1);
	}
	pk_mcast_init(ret, design, endpoint, address);
}

static uint64_t counter(const struct pk_mcast *m, enum pk_mcast_counter which)
{
	uint64_t counters[PK_MCAST_COUNTER_COUNT] = {0};
	int err = pk_mcast_server_status(m, counters, TIMEOUT_MS);
	return err == 0 ? counters[which] : UINT64_MAX;
}

/* Sends one packet to `group`, trying again while the server's queue is full. */
static int send_one(const struct pk_mcast *m, const uint8_t group[PK_IPV6_ADDR_SIZE], uint8_t mark)
{
	struct pk_frame frame;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return err;
	frame.data[pk_mcast_payload_offset(m)] = mark;
	while ((err = pk_mcast_send(m, &frame, group, IT_NO_NEXT_HEADER, 1)) == -PK_ENOBUFS)
		pk_sleep_ns(1000000);
	if (err < 0)
		pk_frame_free(&frame);
	return err;
}

/* A request the client API would never send: answered with the server's status, or
 * -PK_ETIMEDOUT if it does not answer. */
static int raw_request(const struct pk_mcast *m, uint8_t type, const char *magic,
		       const uint8_t group[PK_IPV6_ADDR_SIZE],
		       const uint8_t member[PK_IPV6_ADDR_SIZE], uint32_t timeout_ms)
{
	struct pk_frame frame;
	uint32_t length;
	int err = pk_frame_alloc(&frame);
	if (err < 0)
		return err;
	struct pk_mcast_header *h = (struct pk_mcast_header *)(frame.data + PK_IPV6_HEADER_SIZE);
	memcpy(h->magic, magic, sizeof h->magic);
	h->type = type;
	memcpy(h->group, group, PK_IPV6_ADDR_SIZE);
	memcpy(h->member, member, PK_IPV6_ADDR_SIZE);
	pk_ipv6_header_init(frame.data, m->address, m->server, PK_MCAST_NEXT_HEADER, sizeof *h, 64);
	if ((err = pk_send(&frame, PK_IPV6_HEADER_SIZE + sizeof *h)) < 0) {
		pk_frame_free(&frame);
		return err;
	}
	if ((err = pk_recv(m->endpoint, &frame, &length, timeout_ms)) < 0)
		return err;
	h = (struct pk_mcast_header *)(frame.data + PK_IPV6_HEADER_SIZE);
	err = h->type == PK_MCAST_REPLY ? -(int)h->status : -PK_EINVAL;
	pk_frame_free(&frame);
	return err;
}

static void kernel_errors(void)
{
	struct pk_mcast m;
	uint8_t group[PK_IPV6_ADDR_SIZE], other[PK_IPV6_ADDR_SIZE];
	pk_mcast_init(&m, PK_MCAST_KERNEL, pk_endpoint(0), pk_address(0));
	group_address(1, group);
	group_address(2, other);
	EXPECT_EQ("kernel: join a unicast address", pk_mcast_join(&m, pk_address(0), 0),
		  -PK_EINVAL);
	EXPECT_EQ("kernel: join", pk_mcast_join(&m, group, 0), 0);
	EXPECT_EQ("kernel: join twice", pk_mcast_join(&m, group, 0), -PK_EALREADY);
	EXPECT_EQ("kernel: leave without join", pk_mcast_leave(&m, other, 0), -PK_ENOTMEMBER);
	EXPECT_EQ("kernel: leave", pk_mcast_leave(&m, group, 0), 0);
	EXPECT_EQ("kernel: leave twice", pk_mcast_leave(&m, group, 0), -PK_ENOTMEMBER);
	for (unsigned n = 1; n <= KERNEL_GROUPS_PER_ENDPOINT; n++) {
		group_address(n, group);
		pk_mcast_join(&m, group, 0);
	}
	group_address(KERNEL_GROUPS_PER_ENDPOINT + 1, group);
	EXPECT_EQ("kernel: join beyond the endpoint's groups", pk_mcast_join(&m, group, 0),
		  -PK_ELIMIT);
	for (unsigned n = 1; n <= KERNEL_GROUPS_PER_ENDPOINT; n++) {
		group_address(n, group);
		pk_mcast_leave(&m, group, 0);
	}
	struct pk_frame frame;
	pk_frame_alloc(&frame);
	EXPECT_EQ("kernel: send to a group without members",
		  pk_mcast_send(&m, &frame, group, IT_NO_NEXT_HEADER, 1), -PK_EHOSTUNREACH);
	pk_frame_free(&frame);
}

static void server_membership_errors(const struct pk_mcast *m)
{
	uint8_t g1[PK_IPV6_ADDR_SIZE], g2[PK_IPV6_ADDR_SIZE], g3[PK_IPV6_ADDR_SIZE];
	group_address(1, g1);
	group_address(2, g2);
	group_address(3, g3);
	struct pk_mcast second, third;
	new_member(PK_MCAST_SERVER, &second);
	new_member(PK_MCAST_SERVER, &third);
	EXPECT_EQ("server: join a unicast address", pk_mcast_join(m, pk_address(0), TIMEOUT_MS),
		  -PK_EINVAL);
	EXPECT_EQ("server: join", pk_mcast_join(m, g1, TIMEOUT_MS), 0);
	EXPECT_EQ("server: join twice", pk_mcast_join(m, g1, TIMEOUT_MS), -PK_EALREADY);
	EXPECT_EQ("server: leave without join", pk_mcast_leave(m, g2, TIMEOUT_MS), -PK_ENOTMEMBER);
	EXPECT_EQ("server: a second member", pk_mcast_join(&second, g1, TIMEOUT_MS), 0);
	EXPECT_EQ("server: a member beyond the group's limit",
		  pk_mcast_join(&third, g1, TIMEOUT_MS), -PK_ENOSPC);
	EXPECT_EQ("server: a second group", pk_mcast_join(&third, g2, TIMEOUT_MS), 0);
	EXPECT_EQ("server: a group beyond the limit", pk_mcast_join(&third, g3, TIMEOUT_MS),
		  -PK_ENOSPC);
	EXPECT_EQ("server: counts the groups", counter(m, PK_MCAST_COUNTER_groups), 2);
	EXPECT_EQ("server: counts the members", counter(m, PK_MCAST_COUNTER_members), 3);
	EXPECT_EQ("server: join for another address",
		  raw_request(m, PK_MCAST_JOIN, PK_MCAST_MAGIC, g3, third.address, TIMEOUT_MS),
		  -PK_EPERM);
	EXPECT_EQ("server: an unknown request",
		  raw_request(m, 99, PK_MCAST_MAGIC, g3, m->address, TIMEOUT_MS), -PK_EINVAL);
	EXPECT_EQ("server: a packet without the magic is not answered",
		  raw_request(m, PK_MCAST_JOIN, "XXXX", g3, m->address, 200), -PK_ETIMEDOUT);
	EXPECT_EQ("server: counts what it dropped", counter(m, PK_MCAST_COUNTER_malformed), 1);
	EXPECT_EQ("server: counts its refusals", counter(m, PK_MCAST_COUNTER_refused), 7);
	EXPECT_EQ("server: leave", pk_mcast_leave(m, g1, TIMEOUT_MS), 0);
	EXPECT_EQ("server: leave twice", pk_mcast_leave(m, g1, TIMEOUT_MS), -PK_ENOTMEMBER);
	EXPECT_EQ("server: the others leave", pk_mcast_leave(&second, g1, TIMEOUT_MS), 0);
	EXPECT_EQ("server: the last leaves", pk_mcast_leave(&third, g2, TIMEOUT_MS), 0);
	EXPECT_EQ("server: no group left", counter(m, PK_MCAST_COUNTER_groups), 0);
	EXPECT_EQ("server: data to a group without members is accepted", send_one(m, g1, 0), 0);
	EXPECT_EQ("server: and counted", counter(m, PK_MCAST_COUNTER_no_members), 1);
	pk_endpoint_destroy(second.endpoint);
	pk_endpoint_destroy(third.endpoint);
}

/* A member that does not read: its queue fills, the server drops what does not fit, and
 * the member learns how many with the next copy it gets. */
static void server_full_queue(const struct pk_mcast *m)
{
	uint8_t group[PK_IPV6_ADDR_SIZE];
	group_address(1, group);
	struct pk_mcast reader;
	new_member(PK_MCAST_SERVER, &reader);
	EXPECT_EQ("server: a member that does not read joins",
		  pk_mcast_join(&reader, group, TIMEOUT_MS), 0);
	const unsigned extra = 5;
	int err = 0;
	for (unsigned i = 0; err == 0 && i < QUEUE_LIMIT + extra; i++)
		err = send_one(m, group, (uint8_t)i);
	EXPECT_EQ("server: every packet sent", err, 0);
	uint64_t data = counter(m, PK_MCAST_COUNTER_data); /* answered after the data: all seen */
	EXPECT_EQ("server: copies its queue refused",
		  counter(m, PK_MCAST_COUNTER_dropped_queue_full), extra);
	unsigned received = 0, lost = 0;
	struct pk_frame frame;
	uint32_t length;
	while (pk_recv(reader.endpoint, &frame, &length, 0) == 0) {
		struct pk_mcast_received r;
		received += pk_mcast_parse(&reader, &frame, length, &r);
		pk_frame_free(&frame);
	}
	EXPECT_EQ("server: the member's queue held its limit", received, QUEUE_LIMIT);
	EXPECT_EQ("server: one more packet", send_one(m, group, 0xee), 0);
	if (pk_recv(reader.endpoint, &frame, &length, TIMEOUT_MS) == 0) {
		struct pk_mcast_received r;
		if (pk_mcast_parse(&reader, &frame, length, &r))
			lost = r.lost;
		pk_frame_free(&frame);
	}
	EXPECT_EQ("server: reports the drops with the next copy", lost, extra);
	EXPECT_EQ("server: data counted", data >= QUEUE_LIMIT + extra + 1, 1);
	pk_mcast_leave(&reader, group, TIMEOUT_MS);
	pk_endpoint_destroy(reader.endpoint);
}

static void print_status(void)
{
	static const char *const names[] = {
#define NAME(index, name, meaning) [index] = #name,
		PK_MCAST_COUNTER_LIST(NAME)
#undef NAME
	};
	struct pk_mcast m;
	pk_mcast_init(&m, PK_MCAST_SERVER, pk_endpoint(0), pk_address(0));
	uint64_t counters[PK_MCAST_COUNTER_COUNT];
	int err = pk_mcast_server_status(&m, counters, TIMEOUT_MS);
	if (err < 0) {
		printf(PROGRAM ": status: %s\n", pk_strerror(err));
		exit(1);
	}
	for (unsigned i = 0; i < PK_MCAST_COUNTER_COUNT; i++)
		printf("%s=%llu\n", names[i], (unsigned long long)counters[i]);
}

int main(int argc, char **argv)
{
	it_init(PROGRAM);
	if (argc == 2 && strcmp(argv[1], "status") == 0) {
		print_status();
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "errors") != 0) {
		fprintf(stderr, "usage: it-mcast errors|status\n");
		return 2;
	}
	kernel_errors();
	struct pk_mcast m;
	pk_mcast_init(&m, PK_MCAST_SERVER, pk_endpoint(0), pk_address(0));
	server_membership_errors(&m);
	server_full_queue(&m);
	return it_checks_done(PROGRAM);
}
