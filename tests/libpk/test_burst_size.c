/* The size of a receive burst (pk_burst_size): the limit while packets come in runs, two
 * once they come one at a time, and back at the first run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <packos/errors.h>
#include <pk/pk.h>

static void test_a_run_asks_for_the_limit(void **state)
{
	(void)state;
	struct pk_burst_size size;
	pk_burst_size_init(&size, 16);
	assert_int_equal(size.asked, 16);
	pk_burst_size_learn(&size, 16);
	pk_burst_size_learn(&size, 3);
	assert_int_equal(size.asked, 16);
}

static void test_single_packets_shrink_it_to_two_after_four_passes(void **state)
{
	(void)state;
	struct pk_burst_size size;
	pk_burst_size_init(&size, 16);
	for (int i = 0; i < 3; i++) {
		pk_burst_size_learn(&size, 1);
		assert_int_equal(size.asked, 16); /* the tail of a run */
	}
	pk_burst_size_learn(&size, 1);
	assert_int_equal(size.asked, 2);
	pk_burst_size_learn(&size, 1);
	assert_int_equal(size.asked, 2);
	/* Two come: a run begins, and the next burst may take all of it. */
	pk_burst_size_learn(&size, 2);
	assert_int_equal(size.asked, 16);
	pk_burst_size_learn(&size, 1);
	assert_int_equal(size.asked, 16);
}

/* A receive that brought nothing (it timed out, or found nothing and was not to wait) says
 * nothing about the traffic, and a single after it still counts toward the four. */
static void test_an_empty_receive_changes_nothing(void **state)
{
	(void)state;
	struct pk_burst_size size;
	pk_burst_size_init(&size, 16);
	pk_burst_size_learn(&size, 1);
	pk_burst_size_learn(&size, 1);
	pk_burst_size_learn(&size, -PK_ETIMEDOUT);
	pk_burst_size_learn(&size, -PK_EWOULDBLOCK);
	pk_burst_size_learn(&size, 0);
	assert_int_equal(size.asked, 16);
	pk_burst_size_learn(&size, 1);
	pk_burst_size_learn(&size, 1);
	assert_int_equal(size.asked, 2);
}

static void test_a_limit_of_two_or_less_is_kept(void **state)
{
	(void)state;
	struct pk_burst_size size;
	pk_burst_size_init(&size, 1);
	for (int i = 0; i < 8; i++)
		pk_burst_size_learn(&size, 1);
	assert_int_equal(size.asked, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_run_asks_for_the_limit),
		cmocka_unit_test(test_single_packets_shrink_it_to_two_after_four_passes),
		cmocka_unit_test(test_an_empty_receive_changes_nothing),
		cmocka_unit_test(test_a_limit_of_two_or_less_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
