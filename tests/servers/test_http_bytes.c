/* The /bytes/N stream (servers/httpd/http_bytes.c): splitmix64's published sequence, its
 * byte order, and slices at any offset equal to the same bytes of the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_bytes.h"

static void test_bytes_blocks_are_splitmix64_seeded_with_zero(void **state)
{
	(void)state;
	/* The reference generator's first outputs from seed 0. */
	assert_true(http_bytes_block(0) == UINT64_C(0xe220a8397b1dcdaf));
	assert_true(http_bytes_block(1) == UINT64_C(0x6e789e6aa1b965f4));
	assert_true(http_bytes_block(2) == UINT64_C(0x06c45d188009454f));
}

static void test_bytes_are_the_blocks_little_endian(void **state)
{
	(void)state;
	uint8_t buf[16];
	http_bytes_fill(0, buf, sizeof buf);
	static const uint8_t expected[16] = {0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2,
					     0xf4, 0x65, 0xb9, 0xa1, 0x6a, 0x9e, 0x78, 0x6e};
	assert_memory_equal(buf, expected, sizeof buf);
}

static void test_bytes_slices_at_any_offset_equal_the_whole(void **state)
{
	(void)state;
	static uint8_t whole[4096], slice[4096];
	http_bytes_fill(0, whole, sizeof whole);
	for (size_t offset = 0; offset < 40; offset++) {
		for (size_t len = 0; offset + len <= sizeof whole; len += len < 40 ? 1 : 997) {
			memset(slice, 0x5a, sizeof slice);
			http_bytes_fill(offset, slice, len);
			assert_memory_equal(slice, whole + offset, len);
			/* Nothing written past the slice. */
			if (len < sizeof slice)
				assert_int_equal(slice[len], 0x5a);
		}
	}
}

static void test_bytes_far_offsets_depend_on_the_offset_only(void **state)
{
	(void)state;
	uint64_t start = HTTP_BYTES_MAX - 13;
	uint8_t bulk[21], one_by_one[21], expected[21];
	http_bytes_fill(start, bulk, sizeof bulk);
	for (unsigned i = 0; i < sizeof expected; i++) {
		uint64_t o = start + i;
		expected[i] = (uint8_t)(http_bytes_block(o / 8) >> (8 * (o % 8)));
		http_bytes_fill(o, &one_by_one[i], 1);
	}
	assert_memory_equal(bulk, expected, sizeof expected);
	assert_memory_equal(one_by_one, expected, sizeof expected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_blocks_are_splitmix64_seeded_with_zero),
		cmocka_unit_test(test_bytes_are_the_blocks_little_endian),
		cmocka_unit_test(test_bytes_slices_at_any_offset_equal_the_whole),
		cmocka_unit_test(test_bytes_far_offsets_depend_on_the_offset_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
