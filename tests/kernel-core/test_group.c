/* Multicast groups: join and leave with every error and limit; one send, one frame, for 1,
 * 10 and 100 members; a slow member that loses the oldest packets and is told how many;
 * wakes; groups before the queue, and groups in turn; a group freed with its last member;
 * scopes and the default route's egress. Conservation is audited along the way and at
 * every teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_port.h"

enum { SENDER_IID = 0x10, MEMBER_IID = 0x100, PAYLOAD = 16 };

/* ff02::1:2 and ff05::1:3: a link-local and a site-local group. */
#define LINK_SCOPE 0x02
#define SITE_SCOPE 0x05

struct member {
	pk_proc_t proc;
	pk_endpoint_t endpoint;
};

static struct kernel_stats stats(struct fake_port *fp)
{
	struct kernel_stats st;
	kernel_stats(fp->k, &st);
	return st;
}

static void group_address(uint8_t scope, uint8_t ret[16])
{
	fake_port_multicast_address(scope, 0x10000u | (scope == LINK_SCOPE ? 2 : 3), ret);
}

static struct member join(struct fake_port *fp, uint64_t iid, const uint8_t group[16])
{
	struct member m = {.proc = fake_port_proc(fp, 0)};
	m.endpoint = fake_port_endpoint(fp, m.proc, iid);
	assert_int_equal(fake_port_join(fp, m.proc, m.endpoint, group), 0);
	return m;
}

/* Sends a packet from KAN ID `src_iid` to `group` whose first payload byte is `mark`.
 * Returns the status; on failure frees the frame. */
static int send_to_group(struct fake_port *fp, pk_proc_t proc, uint64_t src_iid,
			 const uint8_t group[16], uint8_t mark)
{
	uint8_t src[16];
	fake_port_address(fp, src_iid, src);
	pk_frame_t f = fake_port_frame(fp, proc);
	uint32_t length = fake_port_write_packet(fp, f, src, group, PAYLOAD);
	fake_port_frame_bytes(fp, f)[PK_IPV6_HEADER_SIZE] = mark;
	int err = fake_port_call(fp, proc, PK_KC_send, f, length, 0, NULL);
	if (err < 0)
		assert_int_equal(fake_port_call(fp, proc, PK_KC_frame_free, f, 0, 0, NULL), 0);
	return err;
}

struct got {
	pk_frame_t handle;
	uint8_t mark;
	uint32_t lost;
};

/* Receives the next packet at `m`, which must come from a group; frees it unless `keep`. */
static struct got take(struct fake_port *fp, const struct member *m, int keep)
{
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, m->proc, PK_KC_recv, m->endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_SHARE);
	assert_int_equal(PK_RECV_LENGTH(r.ret[1]), PK_IPV6_HEADER_SIZE + PAYLOAD);
	struct got g = {.handle = r.ret[0],
			.mark = fake_port_frame_bytes(fp, r.ret[0])[PK_IPV6_HEADER_SIZE],
			.lost = PK_RECV_LOST(r.ret[1])};
	if (!keep)
		assert_int_equal(
			fake_port_call(fp, m->proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	return g;
}

static void expect_nothing(struct fake_port *fp, const struct member *m)
{
	assert_int_equal(fake_port_call(fp, m->proc, PK_KC_recv, m->endpoint, 0, 0, NULL),
			 -PK_EWOULDBLOCK);
}

static pk_proc_t make_sender(struct fake_port *fp, uint32_t rights, uint64_t iid)
{
	pk_proc_t proc = fake_port_proc(fp, rights);
	fake_port_endpoint(fp, proc, iid);
	return proc;
}

static void test_group_join_of_a_non_multicast_address_is_invalid(void **state)
{
	struct fake_port *fp = *state;
	pk_proc_t proc = fake_port_proc(fp, 0);
	pk_endpoint_t e = fake_port_endpoint(fp, proc, MEMBER_IID);
	uint8_t kan[16], doc[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, unspecified[16] = {0};
	fake_port_address(fp, MEMBER_IID, kan);
	assert_int_equal(fake_port_join(fp, proc, e, kan), -PK_EINVAL);
	assert_int_equal(fake_port_join(fp, proc, e, doc), -PK_EINVAL);
	assert_int_equal(fake_port_join(fp, proc, e, unspecified), -PK_EINVAL);
	assert_int_equal(fake_port_leave(fp, proc, e, doc), -PK_EINVAL);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(stats(fp).groups, 0);
	fake_port_assert_audit(fp);
}

static void test_group_double_join_and_leave_without_join_are_errors(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16], other[16];
	group_address(LINK_SCOPE, group);
	group_address(SITE_SCOPE, other);
	struct member a = join(fp, MEMBER_IID, group);
	assert_int_equal(fake_port_join(fp, a.proc, a.endpoint, group), -PK_EALREADY);
	pk_endpoint_t second = fake_port_endpoint(fp, a.proc, MEMBER_IID + 1);
	/* The group exists, but this endpoint never joined; this group does not exist. */
	assert_int_equal(fake_port_leave(fp, a.proc, second, group), -PK_ENOTMEMBER);
	assert_int_equal(fake_port_leave(fp, a.proc, a.endpoint, other), -PK_ENOTMEMBER);
	assert_int_equal(fake_port_leave(fp, a.proc, a.endpoint, group), 0);
	assert_int_equal(fake_port_leave(fp, a.proc, a.endpoint, group), -PK_ENOTMEMBER);
	assert_int_equal(fp->faults, 0);
	assert_int_equal(stats(fp).groups, 0);
	fake_port_assert_audit(fp);
}

static void test_group_join_with_another_process_endpoint_faults(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member a = join(fp, MEMBER_IID, group);
	pk_proc_t thief = fake_port_proc(fp, 0);
	assert_int_equal(fake_port_leave(fp, thief, a.endpoint, group), -PK_ENOTOWNER);
	assert_int_equal(fp->last_fault_proc, thief);
	assert_int_equal(stats(fp).group_memberships, 1);
}

/* One endpoint per process, so only the group limits count. */
static void test_group_limits_per_endpoint_per_group_and_in_all(void **state)
{
	struct fake_port *fp = *state;
	uint8_t g[6][16];
	for (unsigned i = 0; i < 6; i++)
		fake_port_multicast_address(LINK_SCOPE, 0x100 + i, g[i]);
	pk_proc_t proc = fake_port_proc(fp, 0);
	pk_endpoint_t e[4];
	for (unsigned i = 0; i < 4; i++)
		e[i] = fake_port_endpoint(fp, proc, MEMBER_IID + i);

	/* groups_per_endpoint is 3. */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(fake_port_join(fp, proc, e[0], g[i]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[0], g[3]), -PK_ELIMIT);
	/* max_groups is 4: the fourth group is there, a fifth is not. */
	assert_int_equal(fake_port_join(fp, proc, e[1], g[3]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[1], g[4]), -PK_ENOSPC);
	assert_int_equal(stats(fp).groups, 4);
	fake_port_assert_audit(fp);

	/* group_members is 8: g[0] has one; seven more from other processes, then no room. */
	for (unsigned i = 0; i < 7; i++) {
		pk_proc_t p = fake_port_proc(fp, 0);
		pk_endpoint_t pe = fake_port_endpoint(fp, p, MEMBER_IID + 0x10 + i);
		assert_int_equal(fake_port_join(fp, p, pe, g[0]), 0);
	}
	assert_int_equal(fake_port_join(fp, proc, e[2], g[0]), -PK_ENOSPC);
	/* max_memberships is 16: 11 now, five more fit, the seventeenth does not. */
	assert_int_equal(stats(fp).group_memberships, 11);
	assert_int_equal(fake_port_join(fp, proc, e[1], g[1]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[1], g[2]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[2], g[1]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[2], g[2]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[2], g[3]), 0);
	assert_int_equal(stats(fp).group_memberships, 16);
	assert_int_equal(fake_port_join(fp, proc, e[3], g[1]), -PK_ENOSPC);
	assert_int_equal(fp->faults, 0);
	fake_port_assert_audit(fp);
	/* The limits free up as members leave. */
	assert_int_equal(fake_port_leave(fp, proc, e[2], g[3]), 0);
	assert_int_equal(fake_port_join(fp, proc, e[3], g[1]), 0);
}

/* The point of a group: one send is one frame in one ring, however many members read it. */
static void members_each_read_one_frame(unsigned count)
{
	struct fake_port port, *fp = &port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.max_procs = count + 2;
	cfg.max_endpoints = count + 2;
	cfg.max_shares = count;
	cfg.group_members = count;
	cfg.max_memberships = count;
	cfg.frame_count = 64;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member *m = calloc(count, sizeof *m);
	assert_non_null(m);
	for (unsigned i = 0; i < count; i++)
		m[i] = join(fp, MEMBER_IID + i, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	unsigned grants = fp->readonly_grants, wakes = fp->wakes;

	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 0x42), 0);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.frames_shared, 1);
	assert_int_equal(st.frames_owned, 0); /* the sender's frame is the shared one */
	assert_int_equal(st.frames_free, cfg.frame_count - 1);
	assert_int_equal(fp->wakes, wakes); /* nobody waited */
	fake_port_assert_audit(fp);

	pk_frame_t first = 0;
	for (unsigned i = 0; i < count; i++) {
		struct got g = take(fp, &m[i], 1);
		assert_int_equal(g.mark, 0x42);
		assert_int_equal(g.lost, 0);
		if (i == 0)
			first = g.handle;
		assert_int_equal(g.handle, first);
		expect_nothing(fp, &m[i]);
	}
	assert_int_equal(fp->readonly_grants - grants, count);
	st = stats(fp);
	assert_int_equal(st.shares, count);
	assert_int_equal(st.frames_shared, 1);
	assert_int_equal(st.multicast_sent, 1);
	assert_int_equal(st.multicast_received, count);
	fake_port_assert_audit(fp);
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(fake_port_call(fp, m[i].proc, PK_KC_frame_free, first, 0, 0, NULL),
				 0);
	fake_port_assert_audit(fp);
	free(m);
	fake_port_stop(fp);
}

static void test_group_send_to_1_member_is_one_frame(void **state)
{
	(void)state;
	members_each_read_one_frame(1);
}

static void test_group_send_to_10_members_is_one_frame(void **state)
{
	(void)state;
	members_each_read_one_frame(10);
}

static void test_group_send_to_100_members_is_one_frame(void **state)
{
	(void)state;
	members_each_read_one_frame(100);
}

/* A 100-member group with one member that never reads: the sender and the readers go on. */
static void test_group_slow_member_among_100_blocks_nobody(void **state)
{
	(void)state;
	struct fake_port port, *fp = &port;
	struct kernel_config cfg;
	fake_port_config(&cfg);
	cfg.max_procs = 102;
	cfg.max_endpoints = 102;
	cfg.max_shares = 100;
	cfg.group_members = 100;
	cfg.max_memberships = 100;
	assert_int_equal(fake_port_start(fp, &cfg), 0);
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member m[100];
	for (unsigned i = 0; i < 100; i++)
		m[i] = join(fp, MEMBER_IID + i, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	for (unsigned n = 1; n <= 20; n++) {
		assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, (uint8_t)n), 0);
		for (unsigned i = 1; i < 100; i++)
			assert_int_equal(take(fp, &m[i], 0).mark, n);
		/* The ring never holds more than its depth, whoever lags. */
		assert_true(stats(fp).frames_shared <= cfg.group_depth);
	}
	fake_port_assert_audit(fp);
	struct got g = take(fp, &m[0], 0);
	assert_int_equal(g.mark, 20 - cfg.group_depth + 1);
	assert_int_equal(g.lost, 20 - cfg.group_depth);
	fake_port_stop(fp);
}

static void test_group_slow_member_loses_the_oldest_and_is_told_how_many(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member fast = join(fp, MEMBER_IID, group), slow = join(fp, MEMBER_IID + 1, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	for (unsigned n = 1; n <= 10; n++) {
		assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, (uint8_t)n), 0);
		struct got g = take(fp, &fast, 0);
		assert_int_equal(g.mark, n);
		assert_int_equal(g.lost, 0);
	}
	/* The depth is 4: packets 7 to 10 are left for the slow member, 1 to 6 are lost. */
	struct got g = take(fp, &slow, 0);
	assert_int_equal(g.mark, 7);
	assert_int_equal(g.lost, 6);
	for (unsigned n = 8; n <= 10; n++) {
		g = take(fp, &slow, 0);
		assert_int_equal(g.mark, n);
		assert_int_equal(g.lost, 0);
	}
	expect_nothing(fp, &slow);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.multicast_lost, 6);
	assert_int_equal(st.multicast_sent, 10);
	assert_int_equal(st.frames_shared, fp->cfg.group_depth);
	fake_port_assert_audit(fp);
}

static void test_group_send_wakes_only_waiting_members(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member waiting = join(fp, MEMBER_IID, group), busy = join(fp, MEMBER_IID + 1, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	expect_nothing(fp, &waiting);
	unsigned wakes = fp->wakes;
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 1), 0);
	assert_int_equal(fp->wakes, wakes + 1);
	assert_int_equal(fp->last_wake_proc, waiting.proc);
	assert_int_equal(fp->last_wake_endpoint, waiting.endpoint);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 2), 0);
	assert_int_equal(fp->wakes, wakes + 1); /* once per wait */
	take(fp, &busy, 0);
	take(fp, &waiting, 0);
	fake_port_assert_audit(fp);
}

static void test_group_packets_come_before_the_queue_and_groups_take_turns(void **state)
{
	struct fake_port *fp = *state;
	uint8_t g1[16], g2[16];
	fake_port_multicast_address(LINK_SCOPE, 0x201, g1);
	fake_port_multicast_address(LINK_SCOPE, 0x202, g2);
	struct member m = join(fp, MEMBER_IID, g1);
	assert_int_equal(fake_port_join(fp, m.proc, m.endpoint, g2), 0);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	assert_int_equal(fake_port_send(fp, sender, SENDER_IID, MEMBER_IID, PAYLOAD, NULL), 0);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, g1, 11), 0);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, g1, 12), 0);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, g2, 21), 0);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, g2, 22), 0);
	static const uint8_t order[] = {11, 21, 12, 22};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(take(fp, &m, 0).mark, order[i]);
	struct pk_kresult r;
	assert_int_equal(fake_port_call(fp, m.proc, PK_KC_recv, m.endpoint, 0, 0, &r), 0);
	assert_int_equal(PK_HANDLE_KIND(r.ret[0]), PK_HANDLE_FRAME); /* the unicast, last */
	assert_int_equal(r.ret[1], PK_IPV6_HEADER_SIZE + PAYLOAD);
	fake_port_assert_audit(fp);
}

static void test_group_member_receives_what_it_sent(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member m = join(fp, MEMBER_IID, group);
	assert_int_equal(send_to_group(fp, m.proc, MEMBER_IID, group, 7), 0);
	assert_int_equal(take(fp, &m, 0).mark, 7);
}

static void test_group_send_with_a_forged_source_is_refused(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member m = join(fp, MEMBER_IID, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	assert_int_equal(send_to_group(fp, sender, MEMBER_IID, group, 1), -PK_ESOURCE);
	expect_nothing(fp, &m);
	fake_port_assert_audit(fp);
}

static void test_group_last_leave_frees_the_group_and_its_ring(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member m = join(fp, MEMBER_IID, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	for (unsigned n = 1; n <= 3; n++)
		assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, (uint8_t)n), 0);
	struct got kept = take(fp, &m, 1);
	assert_int_equal(stats(fp).frames_shared, 3);
	assert_int_equal(fake_port_leave(fp, m.proc, m.endpoint, group), 0);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.groups, 0);
	assert_int_equal(st.frames_shared, 1); /* only the one the member still holds */
	fake_port_assert_audit(fp);
	/* The group is gone: a send to it has nowhere to go. */
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 4), -PK_EHOSTUNREACH);
	assert_int_equal(fake_port_call(fp, m.proc, PK_KC_frame_free, kept.handle, 0, 0, NULL), 0);
	st = stats(fp);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_group_endpoint_destroy_and_death_leave_their_groups(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member a = join(fp, MEMBER_IID, group), b = join(fp, MEMBER_IID + 1, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 1), 0);
	struct got held = take(fp, &b, 1);
	(void)held;
	assert_int_equal(fake_port_call(fp, a.proc, PK_KC_endpoint_destroy, a.endpoint, 0, 0, NULL),
			 0);
	assert_int_equal(stats(fp).group_memberships, 1);
	fake_port_assert_audit(fp);
	/* b dies holding a share of the packet and its membership: everything comes back. */
	assert_int_equal(kernel_proc_destroy(fp->k, b.proc), 0);
	struct kernel_stats st = stats(fp);
	assert_int_equal(st.groups + st.group_memberships + st.shares, 0);
	assert_int_equal(st.frames_free, st.frames_total);
	fake_port_assert_audit(fp);
}

static void test_group_member_at_its_quota_is_refused_until_it_frees(void **state)
{
	struct fake_port *fp = *state;
	uint8_t group[16];
	group_address(LINK_SCOPE, group);
	struct member m = join(fp, MEMBER_IID, group);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	pk_frame_t last = 0;
	for (unsigned i = 0; i < fp->cfg.default_quota; i++)
		last = fake_port_frame(fp, m.proc);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, group, 1), 0);
	assert_int_equal(fake_port_call(fp, m.proc, PK_KC_recv, m.endpoint, 0, 0, NULL),
			 -PK_EQUOTA);
	assert_int_equal(fake_port_call(fp, m.proc, PK_KC_frame_free, last, 0, 0, NULL), 0);
	assert_int_equal(take(fp, &m, 0).mark, 1);
}

/* Routers and scopes: link-local multicast stays on the KAN; wider scopes go to the
 * default route too (its egress), unless the router sent them. */
struct routed {
	struct member router; /* holds the default route */
	struct member local;  /* a member of both groups */
	pk_proc_t sender;
	uint8_t link[16], site[16];
};

static struct routed make_routed(struct fake_port *fp)
{
	struct routed r;
	group_address(LINK_SCOPE, r.link);
	group_address(SITE_SCOPE, r.site);
	r.router.proc = fake_port_proc(fp, PK_RIGHT_ROUTER);
	r.router.endpoint = fake_port_endpoint(fp, r.router.proc, 0x1);
	assert_int_equal(fake_port_call(fp, r.router.proc, PK_KC_route_set_default,
					r.router.endpoint, 0, 0, NULL),
			 0);
	r.local = join(fp, MEMBER_IID, r.link);
	assert_int_equal(fake_port_join(fp, r.local.proc, r.local.endpoint, r.site), 0);
	r.sender = make_sender(fp, 0, SENDER_IID);
	return r;
}

static void test_group_link_local_multicast_stays_on_the_kan(void **state)
{
	struct fake_port *fp = *state;
	struct routed r = make_routed(fp);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, r.link, 1), 0);
	assert_int_equal(take(fp, &r.local, 0).mark, 1);
	expect_nothing(fp, &r.router);
	assert_int_equal(stats(fp).multicast_forwarded, 0);
	fake_port_assert_audit(fp);
}

static void test_group_wider_scope_also_goes_to_the_default_route(void **state)
{
	struct fake_port *fp = *state;
	struct routed r = make_routed(fp);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, r.site, 2), 0);
	struct got local = take(fp, &r.local, 1);
	struct got routed = take(fp, &r.router, 1);
	assert_int_equal(local.mark, 2);
	assert_int_equal(routed.handle, local.handle); /* the same frame, not a copy */
	assert_int_equal(stats(fp).frames_shared, 1);
	assert_int_equal(stats(fp).multicast_forwarded, 1);
	/* Without local members, only the router gets it. */
	uint8_t lonely[16];
	fake_port_multicast_address(SITE_SCOPE, 0x999, lonely);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, lonely, 3), 0);
	assert_int_equal(take(fp, &r.router, 0).mark, 3);
	expect_nothing(fp, &r.local);
	fake_port_assert_audit(fp);
}

static void test_group_router_does_not_get_back_what_it_sent(void **state)
{
	struct fake_port *fp = *state;
	struct routed r = make_routed(fp);
	/* A router forwards from outside with any source address. */
	assert_int_equal(send_to_group(fp, r.router.proc, 0xabcd, r.site, 4), 0);
	assert_int_equal(take(fp, &r.local, 0).mark, 4);
	expect_nothing(fp, &r.router);
	uint8_t lonely[16];
	fake_port_multicast_address(SITE_SCOPE, 0x999, lonely);
	assert_int_equal(send_to_group(fp, r.router.proc, 0xabcd, lonely, 5), -PK_EHOSTUNREACH);
	fake_port_assert_audit(fp);
}

static void test_group_wider_scope_without_a_route_or_members_is_unreachable(void **state)
{
	struct fake_port *fp = *state;
	uint8_t site[16];
	group_address(SITE_SCOPE, site);
	pk_proc_t sender = make_sender(fp, 0, SENDER_IID);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, site, 1), -PK_ENETUNREACH);
	struct member m = join(fp, MEMBER_IID, site);
	assert_int_equal(send_to_group(fp, sender, SENDER_IID, site, 2), 0);
	assert_int_equal(take(fp, &m, 0).mark, 2);
	assert_int_equal(stats(fp).multicast_forwarded, 0);
}

static void test_group_egress_follows_the_default_route(void **state)
{
	struct fake_port *fp = *state;
	struct routed r = make_routed(fp);
	pk_endpoint_t second = fake_port_endpoint(fp, r.router.proc, 0x2);
	struct member moved = {.proc = r.router.proc, .endpoint = second};
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, r.site, 1), 0);
	assert_int_equal(
		fake_port_call(fp, r.router.proc, PK_KC_route_set_default, second, 0, 0, NULL), 0);
	fake_port_assert_audit(fp);
	/* The old route's unread egress went with its membership; the new one reads from now. */
	expect_nothing(fp, &r.router);
	expect_nothing(fp, &moved);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, r.site, 2), 0);
	assert_int_equal(take(fp, &moved, 0).mark, 2);
	assert_int_equal(
		fake_port_call(fp, r.router.proc, PK_KC_route_clear_default, 0, 0, 0, NULL), 0);
	uint8_t lonely[16];
	fake_port_multicast_address(SITE_SCOPE, 0x999, lonely);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, lonely, 3), -PK_ENETUNREACH);
	take(fp, &r.local, 0);
	take(fp, &r.local, 0);
	fake_port_assert_audit(fp);
	/* The router's endpoint going away ends the egress too. */
	assert_int_equal(
		fake_port_call(fp, r.router.proc, PK_KC_route_set_default, second, 0, 0, NULL), 0);
	assert_int_equal(
		fake_port_call(fp, r.router.proc, PK_KC_endpoint_destroy, second, 0, 0, NULL), 0);
	assert_int_equal(send_to_group(fp, r.sender, SENDER_IID, lonely, 4), -PK_ENETUNREACH);
	fake_port_assert_audit(fp);
}

static void test_group_config_limits(void **state)
{
	(void)state;
	struct kernel_config cfg;
	kernel_config_default(&cfg);
	uint8_t memory[PK_FRAME_SIZE];
	cfg.frame_memory = memory;
	cfg.frame_count = 1;
	cfg.max_groups = 0;
	cfg.max_memberships = 0;
	cfg.max_shares = 0;
	assert_int_not_equal(kernel_arena_size(&cfg), 0);
	cfg.group_depth = 0;
	assert_int_equal(kernel_arena_size(&cfg), 0);
	cfg.group_depth = 4097;
	assert_int_equal(kernel_arena_size(&cfg), 0);
	cfg.group_depth = 4;
	cfg.max_groups = (1u << 16) + 1;
	assert_int_equal(kernel_arena_size(&cfg), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fake_port_setup, fake_port_teardown)
	const struct CMUnitTest tests[] = {
		T(test_group_join_of_a_non_multicast_address_is_invalid),
		T(test_group_double_join_and_leave_without_join_are_errors),
		T(test_group_join_with_another_process_endpoint_faults),
		T(test_group_limits_per_endpoint_per_group_and_in_all),
		cmocka_unit_test(test_group_send_to_1_member_is_one_frame),
		cmocka_unit_test(test_group_send_to_10_members_is_one_frame),
		cmocka_unit_test(test_group_send_to_100_members_is_one_frame),
		cmocka_unit_test(test_group_slow_member_among_100_blocks_nobody),
		T(test_group_slow_member_loses_the_oldest_and_is_told_how_many),
		T(test_group_send_wakes_only_waiting_members),
		T(test_group_packets_come_before_the_queue_and_groups_take_turns),
		T(test_group_member_receives_what_it_sent),
		T(test_group_send_with_a_forged_source_is_refused),
		T(test_group_last_leave_frees_the_group_and_its_ring),
		T(test_group_endpoint_destroy_and_death_leave_their_groups),
		T(test_group_member_at_its_quota_is_refused_until_it_frees),
		T(test_group_link_local_multicast_stays_on_the_kan),
		T(test_group_wider_scope_also_goes_to_the_default_route),
		T(test_group_router_does_not_get_back_what_it_sent),
		T(test_group_wider_scope_without_a_route_or_members_is_unreachable),
		T(test_group_egress_follows_the_default_route),
		cmocka_unit_test(test_group_config_limits),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
