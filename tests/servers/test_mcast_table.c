/* The multicast server's member table (servers/mcast-server/table.c): joins and leaves
 * with their documented errors, both limits, and the sweep of members whose address went
 * away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <packos/errors.h>

#include "table.h"

static const uint8_t *address(uint8_t first, uint8_t last)
{
	static uint8_t addresses[8][PK_IPV6_ADDR_SIZE];
	static unsigned next;
	uint8_t *a = addresses[next++ % 8];
	memset(a, 0, PK_IPV6_ADDR_SIZE);
	a[0] = first;
	a[15] = last;
	return a;
}

#define GROUP(n)  address(0xff, n)
#define MEMBER(n) address(0xfd, n)

static void test_join_and_leave_answer_as_documented(void **state)
{
	(void)state;
	struct mcast_table t;
	assert_int_equal(mcast_table_init(&t, 2, 2), 0);
	assert_int_equal(mcast_table_join(&t, MEMBER(9), MEMBER(1)), -PK_EINVAL);
	assert_int_equal(mcast_table_join(&t, GROUP(1), MEMBER(1)), 0);
	assert_int_equal(mcast_table_join(&t, GROUP(1), MEMBER(1)), -PK_EALREADY);
	assert_int_equal(mcast_table_join(&t, GROUP(1), MEMBER(2)), 0);
	assert_int_equal(mcast_table_join(&t, GROUP(1), MEMBER(3)), -PK_ENOSPC);
	assert_int_equal(mcast_table_join(&t, GROUP(2), MEMBER(3)), 0);
	assert_int_equal(mcast_table_join(&t, GROUP(3), MEMBER(3)), -PK_ENOSPC);
	assert_int_equal(t.groups_used, 2);
	assert_int_equal(t.memberships, 3);
	assert_int_equal(mcast_table_leave(&t, MEMBER(9), MEMBER(1)), -PK_EINVAL);
	assert_int_equal(mcast_table_leave(&t, GROUP(3), MEMBER(1)), -PK_ENOTMEMBER);
	assert_int_equal(mcast_table_leave(&t, GROUP(2), MEMBER(1)), -PK_ENOTMEMBER);
	assert_int_equal(mcast_table_leave(&t, GROUP(2), MEMBER(3)), 0);
	assert_null(mcast_table_find(&t, GROUP(2)));
	/* The freed slot takes a new group. */
	assert_int_equal(mcast_table_join(&t, GROUP(3), MEMBER(3)), 0);
	assert_non_null(mcast_table_find(&t, GROUP(3)));
	assert_int_equal(mcast_table_leave(&t, GROUP(1), MEMBER(1)), 0);
	assert_int_equal(mcast_table_leave(&t, GROUP(1), MEMBER(1)), -PK_ENOTMEMBER);
	assert_int_equal(t.memberships, 2);
	mcast_table_free(&t);
}

static void test_sweep_removes_the_members_gone_and_frees_an_empty_group(void **state)
{
	(void)state;
	struct mcast_table t;
	assert_int_equal(mcast_table_init(&t, 1, 4), 0);
	for (uint8_t m = 1; m <= 4; m++)
		assert_int_equal(mcast_table_join(&t, GROUP(1), MEMBER(m)), 0);
	struct mcast_group *g = mcast_table_find(&t, GROUP(1));
	g->members[0].gone = g->members[3].gone = true;
	assert_int_equal(mcast_table_sweep(&t, g), 2);
	assert_int_equal(g->count, 2);
	assert_int_equal(t.memberships, 2);
	for (unsigned i = 0; i < g->count; i++)
		assert_false(g->members[i].gone);
	g->members[0].gone = g->members[1].gone = true;
	assert_int_equal(mcast_table_sweep(&t, g), 2);
	assert_null(mcast_table_find(&t, GROUP(1)));
	assert_int_equal(t.groups_used, 0);
	mcast_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_and_leave_answer_as_documented),
		cmocka_unit_test(test_sweep_removes_the_members_gone_and_frees_an_empty_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
