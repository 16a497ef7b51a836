/* The kernel clock: subscriptions and the port's tick (see tick.h). Invariant: the
 * clock's group has exactly the subscribed endpoints as members, and its one ring slot
 * holds the last tick's frame (or nothing) while it has any. */
#include "tick.h"

#include <packos/errors.h>
#include <packos/kmsg.h>

#include "kstate.h"

void tick_init(struct tick *tick, uint64_t period_ns)
{
	tick->period_ns = period_ns;
	tick->count = 0;
	tick->now_ns = 0;
}

int tick_subscribe(struct kernel *k, uint32_t endpoint, uint64_t *ret_period_ns,
		   uint64_t *ret_count)
{
	if (group_member_find(k, endpoint, GROUP_CLOCK_INDEX) != KNIL)
		return -PK_EALREADY;
	if (k->groups.subscribers >= k->groups.tick_subscribers)
		return -PK_ENOSPC;
	group_member_add(k, GROUP_CLOCK_INDEX, endpoint);
	*ret_period_ns = k->tick.period_ns;
	*ret_count = k->tick.count;
	return 0;
}

int tick_unsubscribe(struct kernel *k, uint32_t endpoint)
{
	uint32_t member = group_member_find(k, endpoint, GROUP_CLOCK_INDEX);
	if (member == KNIL)
		return -PK_ENOTMEMBER;
	group_member_remove(k, member);
	return 0;
}

static uint32_t tick_write_packet(const struct kernel *k, uint8_t *bytes)
{
	struct pk_kmsg_tick *m = (struct pk_kmsg_tick *)(bytes + PK_IPV6_HEADER_SIZE);
	kan_write_kernel_header(k, bytes, PK_KAN_KERNEL_IID, sizeof *m);
	m->type = PK_KMSG_TICK;
	kbytes_put_be64(m->tick, k->tick.count);
	kbytes_put_be64(m->now_ns, k->tick.now_ns);
	kbytes_put_be64(m->period_ns, k->tick.period_ns);
	return PK_IPV6_HEADER_SIZE + sizeof *m;
}

int tick_fire(struct kernel *k, uint64_t now_ns)
{
	k->tick.count++;
	k->tick.now_ns = now_ns;
	k->stats.ticks++;
	if (k->groups.groups[GROUP_CLOCK_INDEX].members == 0)
		return 0;
	uint32_t frame = frame_take_free(&k->frames);
	if (frame == KNIL) {
		/* A hole: every subscriber counts this tick as missed at its next one. */
		k->stats.ticks_dropped++;
		group_put(k, GROUP_CLOCK_INDEX, KNIL);
		return -PK_ENOMEM;
	}
	k->frames.frames[frame].length =
		(uint16_t)tick_write_packet(k, frame_bytes(&k->frames, frame));
	k->frames.frames[frame].kmsg = PK_KMSG_TICK;
	frame_share(&k->frames, frame);
	group_put(k, GROUP_CLOCK_INDEX, frame);
	return 0;
}
