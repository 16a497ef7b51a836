/* The advertisement schedule: fast at first, then randomised within RFC 4861's interval,
 * solicitations answered within half a second but never within 3 s of the last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "advert.h"

#define SECOND ADVERT_SECOND

static void test_advert_disabled_is_never_due(void **state)
{
	(void)state;
	struct advert a;
	advert_init(&a, false, 600, 1, 0);
	assert_false(advert_due(&a, UINT64_MAX - 1));
	assert_int_equal(a.next_ns, UINT64_MAX);
	advert_solicited(&a, 0);
	assert_false(advert_due(&a, UINT64_MAX - 1));
}

static void test_advert_first_three_fast_then_within_the_interval(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed < 50; seed++) {
		struct advert a;
		advert_init(&a, true, 600, seed, 5 * SECOND);
		assert_true(advert_due(&a, 5 * SECOND));
		uint64_t previous = 0;
		for (unsigned i = 0; i < 10; i++) {
			uint64_t now = a.next_ns;
			assert_false(advert_due(&a, now - 1));
			assert_true(advert_due(&a, now));
			if (i > 0 && i < ADVERT_INITIAL_COUNT)
				assert_true(now - previous <= 16 * SECOND);
			if (i >= ADVERT_INITIAL_COUNT) {
				assert_true(now - previous >= 200 * SECOND);
				assert_true(now - previous <= 600 * SECOND);
			}
			advert_sent(&a, now);
			previous = now;
		}
	}
}

static void test_advert_interval_is_clamped(void **state)
{
	(void)state;
	struct advert a;
	advert_init(&a, true, 1, 1, 0);
	assert_int_equal(a.max_interval_ns, 4 * SECOND);
	advert_init(&a, true, 100000, 1, 0);
	assert_int_equal(a.max_interval_ns, 1800 * SECOND);
}

static void test_advert_solicited_soon_but_not_too_soon(void **state)
{
	(void)state;
	struct advert a;
	advert_init(&a, true, 600, 7, 0);
	advert_sent(&a, 0);
	/* Right after an advertisement: held back to 3 s after it. */
	advert_solicited(&a, SECOND);
	assert_int_equal(a.next_ns, 3 * SECOND);
	advert_sent(&a, 3 * SECOND);
	advert_sent(&a, a.next_ns);
	/* Later: within half a second, well before the next one due. */
	for (unsigned i = 0; i < 20; i++) {
		uint64_t now = a.last_ns + 10 * SECOND;
		assert_true(a.next_ns > now + SECOND);
		advert_solicited(&a, now);
		assert_true(a.next_ns >= now && a.next_ns <= now + SECOND / 2);
		advert_sent(&a, a.next_ns);
	}
	/* Never later than what was due anyway. */
	uint64_t due = a.next_ns;
	advert_solicited(&a, due - 1);
	assert_true(a.next_ns <= due);
}

static void test_advert_same_seed_same_schedule(void **state)
{
	(void)state;
	struct advert a, b, c;
	advert_init(&a, true, 600, 11, 0);
	advert_init(&b, true, 600, 11, 0);
	advert_init(&c, true, 600, 12, 0);
	bool differs = false;
	for (unsigned i = 0; i < 5; i++) {
		advert_sent(&a, a.next_ns);
		advert_sent(&b, b.next_ns);
		advert_sent(&c, c.next_ns);
		assert_int_equal(a.next_ns, b.next_ns);
		differs |= a.next_ns != c.next_ns;
	}
	assert_true(differs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advert_disabled_is_never_due),
		cmocka_unit_test(test_advert_first_three_fast_then_within_the_interval),
		cmocka_unit_test(test_advert_interval_is_clamped),
		cmocka_unit_test(test_advert_solicited_soon_but_not_too_soon),
		cmocka_unit_test(test_advert_same_seed_same_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
