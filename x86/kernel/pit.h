/* The clock: the PIT interrupts every millisecond, and the time stamp counter, calibrated
 * against it at boot, gives programs finer time without a trap. */
#ifndef X86_PIT_H
#define X86_PIT_H

#include <stdint.h>

void pit_init(void);

/* Counts one tick; called from the timer interrupt. */
void pit_tick(void);

/* Milliseconds since pit_init. */
uint64_t pit_now_ms(void);

/* Measures the TSC against the PIT: interrupts must be on. Returns TSC ticks per ms. */
uint32_t pit_calibrate_tsc(void);

#endif
