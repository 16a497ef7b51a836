/* The faulty wire: each fault does what it says, counts itself, and a seed replays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

#define MAX_SEEN 4096

struct far_end {
	unsigned count;
	uint8_t first_byte[MAX_SEEN]; /* which frame arrived, by the number in byte 0 */
	enum wire_direction direction[MAX_SEEN];
	uint8_t last[WIRE_FRAME_MAX];
	size_t last_length;
};

static void arrived(void *context, enum wire_direction direction, const uint8_t *frame,
		    size_t length)
{
	struct far_end *end = context;
	assert_true(end->count < MAX_SEEN);
	end->first_byte[end->count] = frame[0];
	end->direction[end->count] = direction;
	end->count++;
	memcpy(end->last, frame, length);
	end->last_length = length;
}

static void pass_numbered(struct wire *wire, unsigned count, uint64_t now)
{
	uint8_t frame[64];
	for (unsigned i = 0; i < count; i++) {
		memset(frame, 0xab, sizeof frame);
		frame[0] = (uint8_t)i;
		wire_pass(wire, WIRE_TO_HOST, frame, sizeof frame, now);
	}
}

static void test_a_clean_wire_passes_everything_untouched(void **state)
{
	(void)state;
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults none = {.seed = 1};
	assert_int_equal(wire_init(&wire, &none, arrived, &end, &counters), 0);
	assert_false(wire_is_faulty(&wire));
	pass_numbered(&wire, 100, 0);
	assert_int_equal(end.count, 100);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(end.first_byte[i], i);
	assert_int_equal(wire_next_due(&wire), UINT64_MAX);
	struct pk_nic_counters zero = {0};
	assert_memory_equal(&counters, &zero, sizeof zero);
	wire_fini(&wire);
}

static unsigned survivors(uint64_t seed, uint32_t drop_ppm, uint8_t *order)
{
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults f = {.drop_ppm = drop_ppm, .seed = seed};
	assert_int_equal(wire_init(&wire, &f, arrived, &end, &counters), 0);
	pass_numbered(&wire, 1000, 0);
	assert_int_equal(end.count + counters.wire_dropped, 1000);
	memcpy(order, end.first_byte, end.count);
	wire_fini(&wire);
	return end.count;
}

static void test_drop_drops_about_its_share_and_a_seed_replays(void **state)
{
	(void)state;
	uint8_t a[MAX_SEEN], b[MAX_SEEN], c[MAX_SEEN];
	unsigned kept = survivors(42, 200000, a);
	assert_in_range(kept, 700, 900); /* 20% of 1000, give or take */
	assert_int_equal(survivors(42, 200000, b), kept);
	assert_memory_equal(a, b, kept);
	unsigned other = survivors(43, 200000, c);
	assert_true(other != kept || memcmp(a, c, kept) != 0);
	assert_int_equal(survivors(7, 1000000, a), 0);
}

static void test_corrupt_flips_exactly_one_bit(void **state)
{
	(void)state;
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults f = {.corrupt_ppm = 1000000, .seed = 5};
	assert_int_equal(wire_init(&wire, &f, arrived, &end, &counters), 0);
	for (unsigned round = 0; round < 50; round++) {
		uint8_t frame[300];
		for (unsigned i = 0; i < sizeof frame; i++)
			frame[i] = (uint8_t)(i * 13 + round);
		wire_pass(&wire, WIRE_TO_DEVICE, frame, sizeof frame, 0);
		assert_int_equal(end.last_length, sizeof frame);
		unsigned flipped = 0;
		for (unsigned i = 0; i < sizeof frame; i++)
			flipped += (unsigned)__builtin_popcount(frame[i] ^ end.last[i]);
		assert_int_equal(flipped, 1);
	}
	assert_int_equal(counters.wire_corrupted, 50);
	wire_fini(&wire);
}

static void test_duplicate_sends_twice(void **state)
{
	(void)state;
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults f = {.duplicate_ppm = 1000000};
	assert_int_equal(wire_init(&wire, &f, arrived, &end, &counters), 0);
	pass_numbered(&wire, 3, 0);
	static const uint8_t expected[] = {0, 0, 1, 1, 2, 2};
	assert_int_equal(end.count, 6);
	assert_memory_equal(end.first_byte, expected, 6);
	assert_int_equal(counters.wire_duplicated, 3);
	wire_fini(&wire);
}

/* A frame picked for reordering waits for the next one to overtake it, per direction. */
static void test_reorder_swaps_neighbours_and_times_out(void **state)
{
	(void)state;
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults f = {.reorder_ppm = 1000000};
	assert_int_equal(wire_init(&wire, &f, arrived, &end, &counters), 0);
	pass_numbered(&wire, 4, 0);
	static const uint8_t swapped[] = {1, 0, 3, 2};
	assert_int_equal(end.count, 4);
	assert_memory_equal(end.first_byte, swapped, 4);
	assert_int_equal(counters.wire_reordered, 2);

	/* The other direction has its own held frame; alone, it leaves when its time is up. */
	uint8_t frame[64] = {9};
	wire_pass(&wire, WIRE_TO_DEVICE, frame, sizeof frame, 1000);
	assert_int_equal(end.count, 4);
	uint64_t due = wire_next_due(&wire);
	assert_true(due > 1000 && due != UINT64_MAX);
	wire_release_due(&wire, due - 1);
	assert_int_equal(end.count, 4);
	wire_release_due(&wire, due);
	assert_int_equal(end.count, 5);
	assert_int_equal(end.first_byte[4], 9);
	assert_int_equal(end.direction[4], WIRE_TO_DEVICE);
	assert_int_equal(wire_next_due(&wire), UINT64_MAX);
	wire_fini(&wire);
}

static void test_delay_holds_every_frame_in_order_and_bounds_the_queue(void **state)
{
	(void)state;
	struct pk_nic_counters counters = {0};
	struct far_end end = {0};
	struct wire wire;
	struct wire_faults f = {.delay_us = 10};
	assert_int_equal(wire_init(&wire, &f, arrived, &end, &counters), 0);
	pass_numbered(&wire, 3, 5000);
	assert_int_equal(end.count, 0);
	assert_int_equal(wire_next_due(&wire), 15000);
	wire_release_due(&wire, 14999);
	assert_int_equal(end.count, 0);
	wire_release_due(&wire, 15000);
	assert_int_equal(end.count, 3);
	static const uint8_t in_order[] = {0, 1, 2};
	assert_memory_equal(end.first_byte, in_order, 3);
	assert_int_equal(counters.wire_delayed, 3);

	pass_numbered(&wire, 255, 20000);
	pass_numbered(&wire, 255, 20000);
	pass_numbered(&wire, 10, 20000); /* 520 frames: 8 over the queue */
	assert_int_equal(counters.wire_dropped, 520 - WIRE_QUEUE_SLOTS);
	wire_release_due(&wire, UINT64_MAX - 1);
	assert_int_equal(end.count, 3 + WIRE_QUEUE_SLOTS);
	wire_fini(&wire);
}

static void test_faults_parse(void **state)
{
	(void)state;
	struct wire_faults f;
	const char *why = NULL;
	assert_int_equal(wire_faults_parse("drop=5,corrupt=0.5,duplicate=1,reorder=2,delay=1.5,"
					   "seed=99",
					   &f, &why),
			 0);
	assert_int_equal(f.drop_ppm, 50000);
	assert_int_equal(f.corrupt_ppm, 5000);
	assert_int_equal(f.duplicate_ppm, 10000);
	assert_int_equal(f.reorder_ppm, 20000);
	assert_int_equal(f.delay_us, 1500);
	assert_int_equal(f.seed, 99);
	assert_int_equal(wire_faults_parse("", &f, &why), 0);
	assert_int_equal(f.drop_ppm, 0);

	static const char *bad[] = {"drop",   "drop=",	     "drop=101", "drop=-1",  "drop=x",
				    "loss=5", "delay=10001", "seed=",	 "drop=5,,", "drop=5x"};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		f.drop_ppm = 777;
		if (wire_faults_parse(bad[i], &f, &why) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(why);
		assert_int_equal(f.drop_ppm, 777);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_clean_wire_passes_everything_untouched),
		cmocka_unit_test(test_drop_drops_about_its_share_and_a_seed_replays),
		cmocka_unit_test(test_corrupt_flips_exactly_one_bit),
		cmocka_unit_test(test_duplicate_sends_twice),
		cmocka_unit_test(test_reorder_swaps_neighbours_and_times_out),
		cmocka_unit_test(test_delay_holds_every_frame_in_order_and_bounds_the_queue),
		cmocka_unit_test(test_faults_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
