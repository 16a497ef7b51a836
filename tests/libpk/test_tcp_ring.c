/* The byte ring under a TCP connection's buffers (libpk/net/tcp_ring.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <pk/net/tcp_ring.h>

static void test_append_and_copy_across_the_end_of_storage(void **state)
{
	(void)state;
	uint8_t storage[8], out[8];
	struct pk_tcp_ring r;
	pk_tcp_ring_init(&r, storage, sizeof storage);
	assert_int_equal(pk_tcp_ring_append(&r, "abcdef", 6), 6);
	pk_tcp_ring_consume(&r, 4);
	/* "ef" sits at 4..5; the next six bytes wrap round to the start. */
	assert_int_equal(pk_tcp_ring_append(&r, "ghijklmn", 8), 6);
	assert_int_equal(r.length, 8);
	assert_int_equal(pk_tcp_ring_room(&r), 0);
	assert_int_equal(pk_tcp_ring_copy(&r, 0, out, 8), 8);
	assert_memory_equal(out, "efghijkl", 8);
	assert_int_equal(pk_tcp_ring_copy(&r, 5, out, 8), 3);
	assert_memory_equal(out, "jkl", 3);
	assert_int_equal(pk_tcp_ring_copy(&r, 8, out, 1), 0);
}

static void test_data_written_past_the_end_is_held_only_once_extended(void **state)
{
	(void)state;
	uint8_t storage[16], out[16];
	struct pk_tcp_ring r;
	pk_tcp_ring_init(&r, storage, sizeof storage);
	pk_tcp_ring_append(&r, "0123456789", 10);
	pk_tcp_ring_consume(&r, 10); /* empty, head at 10: what follows wraps */
	assert_int_equal(pk_tcp_ring_write_past(&r, 4, "4567", 4), 4);
	assert_int_equal(r.length, 0);
	assert_int_equal(pk_tcp_ring_write_past(&r, 0, "0123", 4), 4);
	pk_tcp_ring_extend(&r, 8);
	assert_int_equal(pk_tcp_ring_copy(&r, 0, out, 16), 8);
	assert_memory_equal(out, "01234567", 8);
	/* Only the room: a write past it is cut, and one beyond it takes nothing. */
	assert_int_equal(pk_tcp_ring_write_past(&r, 6, "abcdef", 6), 2);
	assert_int_equal(pk_tcp_ring_write_past(&r, 8, "x", 1), 0);
	pk_tcp_ring_extend(&r, 100);
	assert_int_equal(r.length, 16);
}

static void test_consume_more_than_held_empties_it(void **state)
{
	(void)state;
	uint8_t storage[4];
	struct pk_tcp_ring r;
	pk_tcp_ring_init(&r, storage, sizeof storage);
	pk_tcp_ring_append(&r, "ab", 2);
	pk_tcp_ring_consume(&r, 10);
	assert_int_equal(r.length, 0);
	assert_int_equal(pk_tcp_ring_room(&r), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_copy_across_the_end_of_storage),
		cmocka_unit_test(test_data_written_past_the_end_is_held_only_once_extended),
		cmocka_unit_test(test_consume_more_than_held_empties_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
