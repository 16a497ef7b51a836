/* Channel 0 of the 8254 as a 1 kHz rate generator. A tick is 1193 input cycles of the
 * 1.193182 MHz clock, 0.99985 ms: close enough for timeouts, and the TSC serves anything
 * finer. */
#include "io.h"
#include "pit.h"

enum {
	CHANNEL0 = 0x40,
	COMMAND = 0x43,
	CHANNEL0_RATE_GENERATOR = 0x34, /* lobyte/hibyte, mode 2 */
	DIVISOR = 1193,
	CALIBRATION_MS = 20,
};

static volatile uint64_t ticks;

void pit_init(void)
{
	outb(COMMAND, CHANNEL0_RATE_GENERATOR);
	outb(CHANNEL0, DIVISOR & 0xff);
	outb(CHANNEL0, DIVISOR >> 8);
}

void pit_tick(void)
{
	ticks++;
}

uint64_t pit_now_ms(void)
{
	return ticks;
}

static void wait_for_tick(void)
{
	uint64_t start = ticks;
	while (ticks == start)
		__asm__ volatile("hlt");
}

uint32_t pit_calibrate_tsc(void)
{
	wait_for_tick();
	uint64_t begin = rdtsc();
	for (int i = 0; i < CALIBRATION_MS; i++)
		wait_for_tick();
	return (uint32_t)((rdtsc() - begin) / CALIBRATION_MS);
}
