/* The helpers gcc calls on i386 for what the CPU cannot do in one instruction: 64-bit
 * division and the conversion of a double to an unsigned 64-bit integer. Debian ships no
 * 32-bit libgcc without gcc-multilib, and these few are all the kernel and the programs
 * need. Division is shift and subtract: rare on every path that matters here. */
#include <stdint.h>

#include "rt.h"

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *ret_rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);
uint64_t __fixunsdfdi(double value);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *ret_rem)
{
	uint64_t q = 0, r = 0;
	if ((n >> 32) == 0 && (d >> 32) == 0) {
		q = (uint32_t)n / (uint32_t)d;
		r = (uint32_t)n % (uint32_t)d;
	} else {
		for (int bit = 63; bit >= 0; bit--) {
			r = r << 1 | ((n >> bit) & 1);
			if (r >= d) {
				r -= d;
				q |= (uint64_t)1 << bit;
			}
		}
	}
	if (ret_rem != NULL)
		*ret_rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return __udivmoddi4(n, d, NULL);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	__udivmoddi4(n, d, &r);
	return r;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	uint64_t q = __udivmoddi4(magnitude(n), magnitude(d), NULL);
	return (n < 0) != (d < 0) ? -(int64_t)q : (int64_t)q;
}

int64_t __moddi3(int64_t n, int64_t d)
{
	uint64_t r;
	__udivmoddi4(magnitude(n), magnitude(d), &r);
	return n < 0 ? -(int64_t)r : (int64_t)r;
}

/* The x87 converts to signed 64 bits in one instruction; the upper half of the unsigned
 * range is shifted down into it first. */
uint64_t __fixunsdfdi(double value)
{
	const double two63 = 9223372036854775808.0;
	if (!(value > 0))
		return 0;
	if (value < two63)
		return (uint64_t)(int64_t)value;
	return (uint64_t)(int64_t)(value - two63) + ((uint64_t)1 << 63);
}
