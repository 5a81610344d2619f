/*
 * osal_rng.c - the seeded PRNG every stack draws from: xoshiro256** (Blackman
 * and Vigna, 2018), seeded through splitmix64 so that any 64-bit seed, zero
 * included, gives a well-mixed state.  The same seed yields the same
 * sequence on every target, which is what makes a failing simulation
 * replayable from its seed.  Secrets (ISN keys, SYN cookie keys) are drawn
 * from it only after it has been seeded from ust_osal_entropy().
 */
#include <string.h>

#include <ustack/ustack_osal.h>

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

void
ust_rng_seed(struct ust_rng *rng, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

uint64_t
ust_rng_u64(struct ust_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return (result);
}

uint32_t
ust_rng_u32(struct ust_rng *rng)
{
	return ((uint32_t)(ust_rng_u64(rng) >> 32));
}

uint32_t
ust_rng_uniform(struct ust_rng *rng, uint32_t bound)
{
	uint64_t m;
	uint32_t l, t;

	if (bound == 0)
		return (0);
	/* Lemire's multiply-and-reject: unbiased, usually one draw. */
	m = (uint64_t)ust_rng_u32(rng) * bound;
	l = (uint32_t)m;
	if (l < bound) {
		t = (uint32_t)(-bound) % bound;
		while (l < t) {
			m = (uint64_t)ust_rng_u32(rng) * bound;
			l = (uint32_t)m;
		}
	}
	return ((uint32_t)(m >> 32));
}

int
ust_rng_chance_ppm(struct ust_rng *rng, uint32_t ppm)
{
	if (ppm == 0)
		return (0);
	if (ppm >= 1000000)
		return (1);
	return (ust_rng_uniform(rng, 1000000) < ppm);
}

void
ust_rng_bytes(struct ust_rng *rng, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t v = ust_rng_u64(rng);
		size_t n = len < sizeof(v) ? len : sizeof(v);

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
