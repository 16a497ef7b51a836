/* The token bucket: a burst, then one token per interval, with time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pk/net/ratelimit.h>

static void test_ratelimit_allows_a_burst_then_refuses(void **state)
{
	(void)state;
	struct pk_ratelimit limit;
	pk_ratelimit_init(&limit, 10, 3, 1000);
	for (int i = 0; i < 3; i++)
		assert_true(pk_ratelimit_take(&limit, 1000));
	assert_false(pk_ratelimit_take(&limit, 1000));
	assert_false(pk_ratelimit_take(&limit, 1000 + 99999999));
}

static void test_ratelimit_earns_one_token_per_interval(void **state)
{
	(void)state;
	struct pk_ratelimit limit;
	pk_ratelimit_init(&limit, 10, 1, 0);
	assert_true(pk_ratelimit_take(&limit, 0));
	assert_false(pk_ratelimit_take(&limit, 50000000));
	assert_true(pk_ratelimit_take(&limit, 100000000));
	assert_false(pk_ratelimit_take(&limit, 100000000));
}

static void test_ratelimit_credit_never_exceeds_the_burst(void **state)
{
	(void)state;
	struct pk_ratelimit limit;
	pk_ratelimit_init(&limit, 1000, 2, 0);
	uint64_t later = 3600ull * 1000000000ull;
	int taken = 0;
	while (pk_ratelimit_take(&limit, later))
		taken++;
	assert_int_equal(taken, 2);
}

static void test_ratelimit_clock_going_back_earns_nothing(void **state)
{
	(void)state;
	struct pk_ratelimit limit;
	pk_ratelimit_init(&limit, 1, 1, 5000000000ull);
	assert_true(pk_ratelimit_take(&limit, 5000000000ull));
	assert_false(pk_ratelimit_take(&limit, 0));
	assert_false(pk_ratelimit_take(&limit, 5500000000ull));
	assert_true(pk_ratelimit_take(&limit, 6000000000ull));
}

static void test_ratelimit_zero_rate_and_burst_mean_one(void **state)
{
	(void)state;
	struct pk_ratelimit limit;
	pk_ratelimit_init(&limit, 0, 0, 0);
	assert_true(pk_ratelimit_take(&limit, 0));
	assert_false(pk_ratelimit_take(&limit, 999999999));
	assert_true(pk_ratelimit_take(&limit, 1000000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_allows_a_burst_then_refuses),
		cmocka_unit_test(test_ratelimit_earns_one_token_per_interval),
		cmocka_unit_test(test_ratelimit_credit_never_exceeds_the_burst),
		cmocka_unit_test(test_ratelimit_clock_going_back_earns_nothing),
		cmocka_unit_test(test_ratelimit_zero_rate_and_burst_mean_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
