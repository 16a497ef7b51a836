/* RFC 6298's retransmission timeout (libpk/net/tcp_rtt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pk/net/tcp_rtt.h>

#define MS 1000000ull

static void test_timeout_starts_at_one_second_and_doubles_to_the_cap(void **state)
{
	(void)state;
	struct pk_tcp_rtt rtt;
	pk_tcp_rtt_init(&rtt);
	assert_true(pk_tcp_rtt_timeout(&rtt) == 1000 * MS);
	pk_tcp_rtt_back_off(&rtt);
	assert_true(pk_tcp_rtt_timeout(&rtt) == 2000 * MS);
	for (int i = 0; i < 100; i++)
		pk_tcp_rtt_back_off(&rtt);
	assert_true(pk_tcp_rtt_timeout(&rtt) == PK_TCP_RTO_MAX_NS);
}

static void test_first_sample_sets_srtt_and_half_of_it_as_variation(void **state)
{
	(void)state;
	struct pk_tcp_rtt rtt;
	pk_tcp_rtt_init(&rtt);
	pk_tcp_rtt_back_off(&rtt);
	pk_tcp_rtt_sample(&rtt, 400 * MS);
	assert_true(rtt.srtt_ns == 400 * MS);
	assert_true(rtt.rttvar_ns == 200 * MS);
	/* SRTT + 4 RTTVAR, and the sample ended the back-off (RFC 6298 §2.2, §5.7). */
	assert_true(pk_tcp_rtt_timeout(&rtt) == 1200 * MS);
	pk_tcp_rtt_sample(&rtt, 400 * MS);
	assert_true(rtt.srtt_ns == 400 * MS);
	assert_true(rtt.rttvar_ns == 150 * MS);
}

static void test_short_round_trips_meet_the_minimum(void **state)
{
	(void)state;
	struct pk_tcp_rtt rtt;
	pk_tcp_rtt_init(&rtt);
	for (int i = 0; i < 50; i++)
		pk_tcp_rtt_sample(&rtt, 30000); /* 30 µs */
	assert_true(pk_tcp_rtt_timeout(&rtt) == PK_TCP_RTO_MIN_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_starts_at_one_second_and_doubles_to_the_cap),
		cmocka_unit_test(test_first_sample_sets_srtt_and_half_of_it_as_variation),
		cmocka_unit_test(test_short_round_trips_meet_the_minimum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
