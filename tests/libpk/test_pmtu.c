/* The path MTU cache: learns only decreases, never below 1280, forgets with age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "packets.h"

#define SECOND 1000000000ull

static struct pk_pmtu_entry entries[2];
static struct pk_pmtu pmtu;

static int setup(void **state)
{
	(void)state;
	pk_pmtu_init(&pmtu, entries, 2, 4096, 600 * SECOND);
	return 0;
}

static void test_pmtu_unknown_destination_gets_the_link_mtu(void **state)
{
	(void)state;
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 0), 4096);
}

static void test_pmtu_learns_a_smaller_mtu(void **state)
{
	(void)state;
	assert_true(pk_pmtu_learn(&pmtu, address_peer, 1500, 0));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 1), 1500);
	assert_int_equal(pk_pmtu_get(&pmtu, address_other, 1), 4096);
	/* A message cannot raise it. */
	assert_false(pk_pmtu_learn(&pmtu, address_peer, 2000, 2));
	assert_false(pk_pmtu_learn(&pmtu, address_peer, 1500, 2));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 3), 1500);
}

static void test_pmtu_below_1280_is_taken_as_1280(void **state)
{
	(void)state;
	assert_true(pk_pmtu_learn(&pmtu, address_peer, 576, 0));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 0), PK_IPV6_MIN_MTU);
	assert_false(pk_pmtu_learn(&pmtu, address_peer, 0, 0));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 0), PK_IPV6_MIN_MTU);
}

static void test_pmtu_forgets_after_its_lifetime(void **state)
{
	(void)state;
	assert_true(pk_pmtu_learn(&pmtu, address_peer, 1500, 10 * SECOND));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 609 * SECOND), 1500);
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 610 * SECOND), 4096);
}

static void test_pmtu_full_table_gives_up_its_oldest(void **state)
{
	(void)state;
	assert_true(pk_pmtu_learn(&pmtu, address_peer, 1500, 1));
	assert_true(pk_pmtu_learn(&pmtu, address_other, 1400, 2));
	assert_true(pk_pmtu_learn(&pmtu, address_us, 1300, 3));
	assert_int_equal(pk_pmtu_get(&pmtu, address_peer, 4), 4096);
	assert_int_equal(pk_pmtu_get(&pmtu, address_other, 4), 1400);
	assert_int_equal(pk_pmtu_get(&pmtu, address_us, 4), 1300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pmtu_unknown_destination_gets_the_link_mtu, setup),
		cmocka_unit_test_setup(test_pmtu_learns_a_smaller_mtu, setup),
		cmocka_unit_test_setup(test_pmtu_below_1280_is_taken_as_1280, setup),
		cmocka_unit_test_setup(test_pmtu_forgets_after_its_lifetime, setup),
		cmocka_unit_test_setup(test_pmtu_full_table_gives_up_its_oldest, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
