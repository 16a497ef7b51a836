/* mcast-server: multicast as a process, the alternative to the kernel's groups
 * (docs/multicast.md, the protocol in <packos/mcast.h>).
 *
 *   mcast-server [-g MAX_GROUPS] [-m MAX_MEMBERS_PER_GROUP]
 *
 * Members join and leave with requests it answers; a packet sent to a group through it is
 * copied into a frame of its own for every member but the last, which gets the packet's
 * own frame. A server cannot share a frame as the kernel does, so the copy per member (and
 * the frame each copy zeroes in the kernel) is the price of this design, beside the extra
 * hop. It never waits for a member: a member whose queue is full misses the copy (counted,
 * and reported to it with its next one), and a member whose address has gone (its process
 * died) is removed from the group. Every frame it takes is sent or freed before the next
 * packet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <packos/mcast.h>
#include <pk/netif.h>
#include <pk/pk.h>

#include "table.h"
#include <pk/bytes.h>

#define DEFAULT_MAX_GROUPS  64
#define DEFAULT_MAX_MEMBERS 128
#define LIMIT_MAX	    4096
#define HOP_LIMIT	    64
#define HEADER_SIZE	    ((uint32_t)sizeof(struct pk_mcast_header))
#define MESSAGE_MIN	    (PK_IPV6_HEADER_SIZE + HEADER_SIZE)

struct server {
	struct mcast_table table;
	pk_endpoint_t endpoint;
	const uint8_t *address;
	uint64_t counters[PK_MCAST_COUNTER_COUNT];
};

static struct pk_ipv6_header *ip_of(struct pk_frame *frame)
{
	return (struct pk_ipv6_header *)frame->data;
}

static struct pk_mcast_header *header_of(struct pk_frame *frame)
{
	return (struct pk_mcast_header *)(frame->data + PK_IPV6_HEADER_SIZE);
}

static void put64(uint8_t bytes[8], uint64_t value)
{
	pk_put32(bytes, (uint32_t)(value >> 32));
	pk_put32(bytes + 4, (uint32_t)value);
}

static void log_address(const char *what, const uint8_t member[PK_IPV6_ADDR_SIZE],
			const uint8_t group[PK_IPV6_ADDR_SIZE], int err)
{
	char member_text[PK_ADDR_STRLEN], group_text[PK_ADDR_STRLEN];
	pk_addr_format(member, member_text);
	pk_addr_format(group, group_text);
	fprintf(stderr, "mcast-server: %s %s of %s: %s\n", what, member_text, group_text,
		pk_strerror(err));
}

static void drop(struct server *s, struct pk_frame *frame, enum pk_mcast_counter why)
{
	s->counters[why]++;
	pk_frame_free(frame);
}

/* ---- Requests: answered in the request's own frame. */

static int membership(struct server *s, struct pk_frame *frame)
{
	const struct pk_mcast_header *h = header_of(frame);
	/* The kernel vouched for the source; the member field only repeats it. */
	if (memcmp(h->member, ip_of(frame)->source, PK_IPV6_ADDR_SIZE) != 0)
		return -PK_EPERM;
	return h->type == PK_MCAST_JOIN ? mcast_table_join(&s->table, h->group, h->member)
					: mcast_table_leave(&s->table, h->group, h->member);
}

/* Writes the counters after the header; returns their bytes. */
static uint32_t status(struct server *s, struct pk_frame *frame)
{
	s->counters[PK_MCAST_COUNTER_groups] = s->table.groups_used;
	s->counters[PK_MCAST_COUNTER_members] = s->table.memberships;
	uint8_t *at = frame->data + MESSAGE_MIN;
	for (unsigned i = 0; i < PK_MCAST_COUNTER_COUNT; i++)
		put64(at + 8 * i, s->counters[i]);
	return 8 * PK_MCAST_COUNTER_COUNT;
}

static void answer(struct server *s, struct pk_frame *frame)
{
	struct pk_mcast_header *h = header_of(frame);
	int err = 0;
	uint32_t payload = 0;
	if (h->type == PK_MCAST_JOIN || h->type == PK_MCAST_LEAVE)
		err = membership(s, frame);
	else if (h->type == PK_MCAST_STATUS)
		payload = status(s, frame);
	else
		err = -PK_EINVAL;
	s->counters[PK_MCAST_COUNTER_requests]++;
	s->counters[PK_MCAST_COUNTER_refused] += err != 0;
	h->request = h->type;
	h->type = PK_MCAST_REPLY;
	h->status = (uint8_t)-err;
	uint8_t asker[PK_IPV6_ADDR_SIZE];
	memcpy(asker, ip_of(frame)->source, sizeof asker);
	pk_ipv6_header_init(frame->data, s->address, asker, PK_MCAST_NEXT_HEADER,
			    (uint16_t)(HEADER_SIZE + payload), HOP_LIMIT);
	/* An asker that went away or stopped reading gets no answer. */
	if (pk_send(frame, MESSAGE_MIN + payload) < 0)
		pk_frame_free(frame);
}

/* ---- Data: a copy per member. */

/* Makes `copy` the packet for `m`: from the server, the original sender in the header. */
static void address_copy(struct server *s, struct pk_frame *copy, const struct mcast_member *m,
			 const uint8_t sender[PK_IPV6_ADDR_SIZE])
{
	struct pk_ipv6_header *ip = ip_of(copy);
	struct pk_mcast_header *h = header_of(copy);
	memcpy(ip->source, s->address, PK_IPV6_ADDR_SIZE);
	memcpy(ip->destination, m->address, PK_IPV6_ADDR_SIZE);
	memcpy(h->member, sender, PK_IPV6_ADDR_SIZE);
	pk_put32(h->lost, m->lost);
}

static void missed(struct server *s, struct mcast_group *g, struct mcast_member *m, int err)
{
	if (err == -PK_EHOSTUNREACH) {
		m->gone = true;
		s->counters[PK_MCAST_COUNTER_members_gone]++;
		log_address("removed", m->address, g->address, err);
		return;
	}
	if (m->lost < UINT32_MAX)
		m->lost++;
	if (err == -PK_ENOBUFS)
		s->counters[PK_MCAST_COUNTER_dropped_queue_full]++;
	else if (err == -PK_EQUOTA || err == -PK_ENOMEM)
		s->counters[PK_MCAST_COUNTER_no_frame]++;
	else
		log_address("cannot send to", m->address, g->address, err);
}

/* Sends copies[i] to member who[i] for i < count. A burst stops at its first refusal and
 * the rest go on in a new burst. pk_send_burst reports a refusal's error only when nothing
 * before it went out, so a refused copy heads the next burst once more: refused again (its
 * member's queue is still full, say), it is freed and its member's miss counted. */
static void send_copies(struct server *s, struct mcast_group *g, struct pk_frame *copies,
			const unsigned *who, unsigned count, uint32_t length)
{
	uint32_t lengths[PK_BURST_MAX];
	for (unsigned i = 0; i < count; i++)
		lengths[i] = length;
	for (unsigned at = 0; at < count;) {
		int sent = pk_send_burst(&copies[at], &lengths[at], count - at);
		if (sent > 0) {
			for (int i = 0; i < sent; i++)
				g->members[who[at + (unsigned)i]].lost = 0;
			s->counters[PK_MCAST_COUNTER_forwarded] += (unsigned)sent;
			at += (unsigned)sent;
			continue;
		}
		missed(s, g, &g->members[who[at]], sent);
		pk_frame_free(&copies[at]);
		at++;
	}
}

static void forward(struct server *s, struct pk_frame *in, uint32_t length)
{
	s->counters[PK_MCAST_COUNTER_data]++;
	struct mcast_group *g = mcast_table_find(&s->table, header_of(in)->group);
	if (g == NULL) {
		drop(s, in, PK_MCAST_COUNTER_no_members);
		return;
	}
	uint8_t sender[PK_IPV6_ADDR_SIZE];
	memcpy(sender, ip_of(in)->source, sizeof sender);
	const unsigned count = g->count;
	for (unsigned first = 0; first < count; first += PK_BURST_MAX) {
		unsigned chunk = count - first < PK_BURST_MAX ? count - first : PK_BURST_MAX;
		bool last_chunk = first + chunk == count;
		/* The packet's own frame goes to the last member, once every copy is made. */
		unsigned wanted = last_chunk ? chunk - 1 : chunk;
		struct pk_frame copies[PK_BURST_MAX];
		unsigned who[PK_BURST_MAX];
		int got = wanted > 0 ? pk_frame_alloc_burst(copies, wanted) : 0;
		unsigned made = got > 0 ? (unsigned)got : 0;
		for (unsigned i = 0; i < made; i++) {
			memcpy(copies[i].data, in->data, length);
			who[i] = first + i;
			address_copy(s, &copies[i], &g->members[first + i], sender);
		}
		for (unsigned i = made; i < wanted; i++)
			missed(s, g, &g->members[first + i], got < 0 ? got : -PK_ENOMEM);
		if (last_chunk) {
			who[made] = count - 1;
			address_copy(s, in, &g->members[count - 1], sender);
			copies[made++] = *in;
		}
		send_copies(s, g, copies, who, made, length);
	}
	mcast_table_sweep(&s->table, g);
}

static void handle(struct server *s, struct pk_frame *frame, uint32_t length)
{
	const struct pk_mcast_header *h = header_of(frame);
	if (frame->shared || length < MESSAGE_MIN ||
	    ip_of(frame)->next_header != PK_MCAST_NEXT_HEADER ||
	    memcmp(h->magic, PK_MCAST_MAGIC, sizeof h->magic) != 0 || h->type == PK_MCAST_REPLY) {
		/* Not ours, or an answer: answering answers could loop between two servers. */
		drop(s, frame, PK_MCAST_COUNTER_malformed);
		return;
	}
	if (h->type == PK_MCAST_DATA)
		forward(s, frame, length);
	else
		answer(s, frame);
}

static int parse_limit(const char *text, unsigned *ret)
{
	char *end;
	unsigned long value = strtoul(text, &end, 10);
	if (end == text || *end != '\0' || value == 0 || value > LIMIT_MAX)
		return -1;
	*ret = (unsigned)value;
	return 0;
}

static int parse_options(int argc, char **argv, unsigned *max_groups, unsigned *max_members)
{
	*max_groups = DEFAULT_MAX_GROUPS;
	*max_members = DEFAULT_MAX_MEMBERS;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 == argc)
			return -1;
		unsigned *limit = strcmp(argv[i], "-g") == 0   ? max_groups
				  : strcmp(argv[i], "-m") == 0 ? max_members
							       : NULL;
		if (limit == NULL || parse_limit(argv[i + 1], limit) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned max_groups, max_members;
	if (parse_options(argc, argv, &max_groups, &max_members) < 0) {
		fprintf(stderr,
			"usage: mcast-server [-g MAX_GROUPS] [-m MAX_MEMBERS_PER_GROUP] "
			"(each 1..%d)\n",
			LIMIT_MAX);
		return 2;
	}
	static struct server s;
	/* Through the process's interface, so the server answers ping like every process. */
	int err = pk_netif_init();
	if (err == 0 && pk_endpoint_count() == 0)
		err = -PK_EINVAL;
	if (err == 0)
		err = mcast_table_init(&s.table, max_groups, max_members);
	if (err < 0) {
		fprintf(stderr, "mcast-server: %s\n", pk_strerror(err));
		return 1;
	}
	s.endpoint = pk_endpoint(0);
	s.address = pk_address(0);
	char text[PK_ADDR_STRLEN];
	pk_addr_format(s.address, text);
	fprintf(stderr, "mcast-server: serving at %s, %u groups of %u members\n", text, max_groups,
		max_members);
	struct pk_netif_packet packet = {0};
	for (;;) {
		err = pk_netif_recv(&packet, PK_WAIT_FOREVER);
		if (err < 0) {
			fprintf(stderr, "mcast-server: %s\n", pk_strerror(err));
			mcast_table_free(&s.table);
			return 1;
		}
		if (packet.frame.handle == 0) {
			/* Reassembled from fragments, in the stack's buffer: no request is that
			 * large, and data to forward must come whole in one frame. */
			s.counters[PK_MCAST_COUNTER_malformed]++;
			continue;
		}
		/* The frame is the server's now: handle sends or frees it. */
		struct pk_frame frame = packet.frame;
		uint32_t length = packet.length;
		packet = (struct pk_netif_packet){0};
		handle(&s, &frame, length);
	}
}
