/* bench-tick COUNT: subscribes to the kernel's clock, receives COUNT ticks and prints how
 * regular their arrivals were (bench/jitter.h): the jitter of the intervals between
 * arrivals, and the latency from the kernel's time stamp on each tick (when packosd handled
 * the timer) to the program holding it. */
#include <pk/pk.h>

#include "../jitter.h"

int main(int argc, char **argv)
{
	unsigned count = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100;
	int err = pk_init();
	uint64_t period_ns = 0;
	if (err == 0)
		err = pk_tick_subscribe(pk_endpoint(0), &period_ns);
	struct jitter j;
	if (err < 0 || jitter_init(&j, count, period_ns) < 0) {
		fprintf(stderr, "bench-tick: %s\n", err < 0 ? pk_strerror(err) : "out of memory");
		return 1;
	}
	for (unsigned i = 0; i < count; i++) {
		struct pk_frame frame;
		uint32_t length;
		struct pk_tick tick;
		err = pk_recv(pk_endpoint(0), &frame, &length, 5000);
		uint64_t arrival = pk_now_ns();
		if (err == 0)
			err = pk_tick_parse(&frame, length, &tick);
		if (err < 0) {
			fprintf(stderr, "bench-tick: tick %u: %s\n", i, pk_strerror(err));
			return 1;
		}
		/* The first tick may have waited for the subscription: not a period's jitter. */
		jitter_add(&j, tick.now_ns, arrival, i == 0 ? 0 : frame.lost);
		pk_frame_free(&frame);
	}
	pk_tick_unsubscribe(pk_endpoint(0));
	jitter_print("packos", &j);
	return 0;
}
