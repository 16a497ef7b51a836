/* it-garbage MODE [SEED]: writes into its channel page what libpk never would.
 *
 *   random SEED  random slots, flags, counters and bytes anywhere in the page, with
 *                doorbells, in a loop: the daemon must fault it (kill it, log why once)
 *                and go on. Exit 3 if it is still alive after many rounds.
 *   jump         publishes more slots at once than the ring holds: faulted.
 *   flags        calls with unknown slot flags, a wait on a call that is not a receive, a
 *                link after a failed call, reserved call flags and unknown call numbers:
 *                each must be answered with an error (EINVAL, ECANCELED, ENOSYS), not a
 *                fault; then an ordinary alloc and free must still work. Exit 0 if so.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include <pk/pk.h>

#include "it_channel.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: enough randomness for garbage, and a seed replays it. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static int random_mode(uint64_t seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	struct pk_channel_page *page = sim_channel_page();
	uint8_t *bytes = (uint8_t *)page;
	uint32_t next = atomic_load(&page->submitted);
	for (long round = 0; round < 200000; round++) {
		uint64_t r = rng();
		struct pk_kcall call = {.nr = (uint32_t)(r >> 8) % 12};
		switch (r % 10) {
		case 0:
		case 1:
		case 2: /* a call with random arguments, mostly plausible */
			for (int i = 0; i < PK_KCALL_ARGS; i++)
				call.arg[i] = (r >> 20) & 1 ? rng() : rng() % 4;
			if ((r >> 21) % 8 == 0)
				call.flags = (uint32_t)rng();
			it_post(&next, call, (uint32_t)(rng() % 8 == 0 ? rng() : rng() % 4),
				(uint32_t)(rng() % 3));
			if ((r >> 30) & 1)
				it_publish(next);
			break;
		case 3: /* a receive that waits on its own endpoint, a few ms (not forever: while
			 * it waits, the daemon rightly ignores the rest) */
			call.nr = PK_KC_recv;
			call.arg[0] = pk_endpoint(0);
			it_post(&next, call, PK_SLOT_WAIT, 1 + (uint32_t)(rng() % 3));
			break;
		case 4:
		case 5: /* publish what was posted */
			it_publish(next);
			break;
		case 6: /* a count the daemon has to doubt */
			next += (uint32_t)(rng() % 12);
			it_publish(next);
			break;
		case 7: /* bytes anywhere in the page, the boot record and the counters too */
			bytes[rng() % PK_CHANNEL_SIZE] = (uint8_t)rng();
			break;
		case 8: /* a slot's raw bytes */
			bytes[offsetof(struct pk_channel_page, slot) + rng() % sizeof page->slot] =
				(uint8_t)rng();
			break;
		default:
			usleep(20);
			break;
		}
	}
	printf("it-garbage: still alive after every round\n");
	return 3;
}

static int check(const char *what, int64_t status, int64_t expected)
{
	printf("it-garbage: %s: %s%s\n", what, pk_strerror((int)status),
	       status == expected ? "" : " (unexpected)");
	return status == expected ? 0 : 1;
}

static int flags_mode(void)
{
	uint32_t next = atomic_load(&sim_channel_page()->submitted), first = next;
	struct pk_kcall alloc = {.nr = PK_KC_frame_alloc};
	it_post(&next, alloc, 1u << 7, 0);		    /* an unknown slot flag */
	it_post(&next, alloc, PK_SLOT_WAIT, 0);		    /* waiting is for receives only */
	it_post(&next, alloc, PK_SLOT_LINKED, 0);	    /* after a failure: not run */
	it_post(&next, (struct pk_kcall){.nr = 999}, 0, 0); /* no such call */
	it_post(&next, (struct pk_kcall){.nr = PK_KC_frame_alloc, .flags = 1}, 0, 0);
	it_post(&next, (struct pk_kcall){0}, 0, 0); /* a zeroed slot */
	it_publish(next);
	if (!it_wait(next)) {
		printf("it-garbage: no answer\n");
		return 1;
	}
	int failures = check("unknown slot flag", it_result(first).status, -PK_EINVAL);
	failures += check("wait on frame_alloc", it_result(first + 1).status, -PK_EINVAL);
	failures += check("linked after a failure", it_result(first + 2).status, -PK_ECANCELED);
	failures += check("call 999", it_result(first + 3).status, -PK_ENOSYS);
	failures += check("reserved call flags", it_result(first + 4).status, -PK_EINVAL);
	failures += check("zeroed slot", it_result(first + 5).status, -PK_ENOSYS);

	/* The channel still works: an allocation, and a free of what it gave. */
	uint32_t at = next;
	it_post(&next, alloc, 0, 0);
	it_publish(next);
	if (!it_wait(next))
		return 1;
	struct pk_kresult r = it_result(at);
	failures += check("frame_alloc afterwards", r.status, 0);
	at = next;
	it_post(&next, (struct pk_kcall){.nr = PK_KC_frame_free, .arg = {r.ret[0]}}, 0, 0);
	it_publish(next);
	if (!it_wait(next))
		return 1;
	failures += check("frame_free afterwards", it_result(at).status, 0);
	return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int err = pk_init();
	if (err < 0) {
		fprintf(stderr, "it-garbage: pk_init: %s\n", pk_strerror(err));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "random") == 0 && argc == 3)
		return random_mode(strtoull(argv[2], NULL, 10));
	if (strcmp(mode, "jump") == 0) {
		uint32_t next = atomic_load(&sim_channel_page()->submitted);
		printf("it-garbage: publishing %u slots at once\n", PK_CHANNEL_SLOTS + 1);
		it_publish(next + PK_CHANNEL_SLOTS + 1);
		it_wait(next + PK_CHANNEL_SLOTS + 1);
		printf("it-garbage: survived the jump\n");
		return 1;
	}
	if (strcmp(mode, "flags") == 0)
		return flags_mode();
	fprintf(stderr, "usage: it-garbage random SEED | jump | flags\n");
	return 2;
}
