/* SipHash-2-4: see pk/net/siphash.h. Words are read little-endian, as the specification
 * has it, whatever the machine's order. */
#include "pk/net/siphash.h"

static uint64_t rotate(uint64_t x, unsigned bits)
{
	return x << bits | x >> (64 - bits);
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct state {
	uint64_t v0, v1, v2, v3;
};

static void round_of(struct state *s)
{
	s->v0 += s->v1;
	s->v1 = rotate(s->v1, 13) ^ s->v0;
	s->v0 = rotate(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotate(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotate(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotate(s->v1, 17) ^ s->v2;
	s->v2 = rotate(s->v2, 32);
}

static void absorb(struct state *s, uint64_t word)
{
	s->v3 ^= word;
	round_of(s);
	round_of(s);
	s->v0 ^= word;
}

uint64_t pk_siphash(const uint8_t key[PK_SIPHASH_KEY_SIZE], const void *message, size_t length)
{
	const uint8_t *m = message;
	uint64_t k0 = load_le(key, 8), k1 = load_le(key + 8, 8);
	struct state s = {
		.v0 = k0 ^ 0x736f6d6570736575ull,
		.v1 = k1 ^ 0x646f72616e646f6dull,
		.v2 = k0 ^ 0x6c7967656e657261ull,
		.v3 = k1 ^ 0x7465646279746573ull,
	};
	size_t whole = length - length % 8;
	for (size_t i = 0; i < whole; i += 8)
		absorb(&s, load_le(m + i, 8));
	/* The last word: the bytes left over, and the length's low byte on top. */
	absorb(&s, load_le(m + whole, length % 8) | (uint64_t)(length & 0xff) << 56);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		round_of(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
