/* it-deadlines: a receive's deadline holds whatever the waits before it did. The daemon
 * keeps one timeout per ring in flight across waits (sim/channel.c): a wait answered early
 * leaves it armed for that wait's deadline, so a shorter wait after it must still end on
 * time, and a longer one must not end when the old timeout fires. Ticks of the kernel's
 * clock answer the waits that end early. Each check is printed as
 * "it-deadlines: NAME ok" or "... FAILED: why", then "it-deadlines: done, N failed". */
#define _GNU_SOURCE
#include "it_common.h"

#define EXPECT_EQ(name, got, want) \
	it_expect_eq("it-deadlines", name, (long long)(got), (long long)(want))

static pk_endpoint_t self;

/* A wait of `wait_ms` that a tick answers long before its deadline. */
static void wait_answered_early(uint32_t wait_ms)
{
	uint64_t period;
	struct pk_frame tick;
	uint32_t length;
	EXPECT_EQ("subscribe", pk_tick_subscribe(self, &period), 0);
	EXPECT_EQ("a tick ends the wait early", pk_recv(self, &tick, &length, wait_ms), 0);
	pk_frame_free(&tick);
	EXPECT_EQ("unsubscribe", pk_tick_unsubscribe(self), 0);
	while (pk_recv(self, &tick, &length, 0) == 0)
		pk_frame_free(&tick);
}

/* How long a wait of `wait_ms` with nothing to receive took, in ms; it must time out. */
static uint64_t wait_in_vain_ms(uint32_t wait_ms)
{
	struct pk_frame frame;
	uint32_t length;
	uint64_t start = pk_now_ns();
	EXPECT_EQ("a wait with nothing coming times out", pk_recv(self, &frame, &length, wait_ms),
		  -PK_ETIMEDOUT);
	return (pk_now_ns() - start) / 1000000u;
}

int main(void)
{
	it_init("it-deadlines");
	self = pk_endpoint(0);

	wait_answered_early(5000);
	uint64_t took = wait_in_vain_ms(50);
	EXPECT_EQ("a shorter wait ends at its own deadline, not the earlier wait's",
		  took >= 45 && took < 2000, 1);

	wait_answered_early(60);
	took = wait_in_vain_ms(300);
	EXPECT_EQ("a longer wait outlasts the earlier wait's deadline", took >= 290 && took < 2000,
		  1);

	took = wait_in_vain_ms(40);
	EXPECT_EQ("a wait right after a timeout keeps its deadline", took >= 35 && took < 2000, 1);
	return it_checks_done("it-deadlines");
}
