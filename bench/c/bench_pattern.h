/*
 * bench_pattern.h - the byte stream of the bulk benchmarks (bulk_pipe.c,
 * dpdk_memif.c): sent straight from a precomputed array, checked with
 * memcmp at the receiver; and their size arguments.  Header only.
 */
#ifndef USTACK_BENCH_PATTERN_H
#define USTACK_BENCH_PATTERN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The stream's byte at offset o is pattern[o % PATTERN_PERIOD]; the
 * array holds one period plus a chunk, so any PATTERN_PERIOD-aligned
 * window of a chunk is contiguous: the sender sends straight from it and
 * the receiver checks with memcmp (no per-byte work on either side).  The
 * period is prime, so data lost, repeated or misplaced by less than a
 * period shows. */
#define PATTERN_PERIOD 4194301u

/* A shorter prime period, for benchmarks that run several flows at once
 * (cores_pairs.c, cores_linux.c): one period and a 64 KiB chunk stay in a
 * core's L2, so the check does not compete for the shared cache and
 * memory with the other flows' checks (4 MiB per flow does). */
#define PATTERN_PERIOD_SHORT 65521u

/* The stream of the given period (PATTERN_PERIOD or PATTERN_PERIOD_SHORT). */
static inline uint8_t *
pattern_new_period(size_t chunk, uint32_t period)
{
	uint8_t *p = malloc(period + chunk);
	size_t i;

	if (p == NULL)
		return (NULL);
	for (i = 0; i < period + chunk; i++)
		p[i] = (uint8_t)(((i % period) * 2654435761u) >> 24);
	return (p);
}

static inline uint8_t *
pattern_new(size_t chunk)
{
	return (pattern_new_period(chunk, PATTERN_PERIOD));
}

/* Checks len <= chunk bytes received at stream offset off of a stream of
 * the given period: the first wrong offset + 1, or 0. */
static inline uint64_t
pattern_check_period(const uint8_t *pat, uint32_t period, const uint8_t *buf, uint64_t off,
    size_t len)
{
	const uint8_t *want = pat + off % period;
	size_t i;

	if (memcmp(buf, want, len) == 0)
		return (0);
	for (i = 0; buf[i] == want[i]; i++)
		continue;
	return (off + i + 1);
}

static inline uint64_t
pattern_check(const uint8_t *pat, const uint8_t *buf, uint64_t off, size_t len)
{
	return (pattern_check_period(pat, PATTERN_PERIOD, buf, off, len));
}

/* "100M", "1G", "64k": bytes; 0 for a malformed size. */
static inline uint64_t
parse_size(const char *text)
{
	char *end;
	double v = strtod(text, &end);

	if (*end == 'k' || *end == 'K')
		v *= 1024;
	else if (*end == 'm' || *end == 'M')
		v *= 1024 * 1024;
	else if (*end == 'g' || *end == 'G')
		v *= 1024.0 * 1024 * 1024;
	else if (*end != '\0')
		return (0);
	return (v > 0 ? (uint64_t)v : 0);
}

#endif /* USTACK_BENCH_PATTERN_H */
