/* Ranges of sequence space (libpk/net/tcp_ranges.c): out-of-order data and SACK
 * scoreboards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_ranges.h>

static void assert_ranges(const struct pk_tcp_ranges *r, unsigned count, const uint32_t *edges)
{
	assert_int_equal(r->count, count);
	for (unsigned i = 0; i < count; i++) {
		assert_int_equal(r->range[i].left, edges[2 * i]);
		assert_int_equal(r->range[i].right, edges[2 * i + 1]);
	}
}

static void test_ranges_merge_when_they_overlap_or_touch(void **state)
{
	(void)state;
	struct pk_tcp_ranges r = {0};
	assert_true(pk_tcp_ranges_add(&r, 100, 200));
	assert_true(pk_tcp_ranges_add(&r, 300, 400));
	assert_ranges(&r, 2, (const uint32_t[]){100, 200, 300, 400});
	assert_true(pk_tcp_ranges_add(&r, 200, 250)); /* touches the first */
	assert_ranges(&r, 2, (const uint32_t[]){100, 250, 300, 400});
	assert_true(pk_tcp_ranges_add(&r, 50, 350)); /* covers the first, overlaps the second */
	assert_ranges(&r, 1, (const uint32_t[]){50, 400});
	assert_true(pk_tcp_ranges_add(&r, 10, 10)); /* empty: nothing */
	assert_ranges(&r, 1, (const uint32_t[]){50, 400});
	assert_int_equal(pk_tcp_ranges_bytes_before(&r, 100), 50);
	assert_int_equal(pk_tcp_ranges_bytes_before(&r, 1000), 350);
}

static void test_a_range_that_needs_a_slot_more_is_refused(void **state)
{
	(void)state;
	struct pk_tcp_ranges r = {0};
	for (uint32_t i = 0; i < PK_TCP_RANGES_MAX; i++)
		assert_true(pk_tcp_ranges_add(&r, 100 * i, 100 * i + 10));
	struct pk_tcp_ranges before = r;
	assert_false(pk_tcp_ranges_add(&r, 50, 60));
	assert_memory_equal(&r, &before, sizeof r);
	/* One that merges needs no slot. */
	assert_true(pk_tcp_ranges_add(&r, 5, 100));
	assert_int_equal(r.count, PK_TCP_RANGES_MAX - 1);
}

static void test_ranges_wrap_round_the_sequence_space(void **state)
{
	(void)state;
	struct pk_tcp_ranges r = {0};
	assert_true(pk_tcp_ranges_add(&r, 0x10, 0x20));
	assert_true(pk_tcp_ranges_add(&r, 0xfffffff0u, 0x8));
	assert_ranges(&r, 2, (const uint32_t[]){0xfffffff0u, 0x8, 0x10, 0x20});
	pk_tcp_ranges_trim(&r, 0x4);
	assert_ranges(&r, 2, (const uint32_t[]){0x4, 0x8, 0x10, 0x20});
	assert_int_equal(pk_tcp_ranges_highest(&r, 0), 0x20);
}

static void test_take_front_joins_data_that_waited(void **state)
{
	(void)state;
	struct pk_tcp_ranges r = {0};
	pk_tcp_ranges_add(&r, 200, 300);
	pk_tcp_ranges_add(&r, 400, 500);
	assert_int_equal(pk_tcp_ranges_take_front(&r, 150), 150); /* a gap before 200 */
	assert_int_equal(pk_tcp_ranges_take_front(&r, 200), 300);
	assert_ranges(&r, 1, (const uint32_t[]){400, 500});
	uint32_t right;
	assert_true(pk_tcp_ranges_contains(&r, 450, &right));
	assert_int_equal(right, 500);
	assert_false(pk_tcp_ranges_contains(&r, 500, &right));
	assert_int_equal(pk_tcp_ranges_next_left(&r, 300, 999), 400);
	assert_int_equal(pk_tcp_ranges_next_left(&r, 400, 999), 999);
}

static void test_sack_blocks_put_the_newest_first(void **state)
{
	(void)state;
	struct pk_tcp_ranges r = {0};
	pk_tcp_ranges_add(&r, 100, 200);
	pk_tcp_ranges_add(&r, 500, 600);
	pk_tcp_ranges_add(&r, 300, 400);
	struct pk_tcp_sack_block blocks[4];
	assert_int_equal(pk_tcp_ranges_sack_blocks(&r, blocks, 4), 3);
	assert_int_equal(blocks[0].left, 300); /* arrived last */
	assert_int_equal(blocks[1].left, 500);
	assert_int_equal(blocks[2].left, 100);
	assert_int_equal(pk_tcp_ranges_sack_blocks(&r, blocks, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_merge_when_they_overlap_or_touch),
		cmocka_unit_test(test_a_range_that_needs_a_slot_more_is_refused),
		cmocka_unit_test(test_ranges_wrap_round_the_sequence_space),
		cmocka_unit_test(test_take_front_joins_data_that_waited),
		cmocka_unit_test(test_sack_blocks_put_the_newest_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
