/*
 * kern_hash.h - the keyed word mixer of the stack's hash tables (PCB
 * buckets, IPv6 flow labels): a 64-bit finaliser with good avalanche,
 * keyed by a per-stack secret XORed in before each round, so that a
 * remote sender cannot predict which bucket or label a tuple gets.  It
 * costs about a dozen instructions per 64-bit word, where SipHash-2-4
 * (tcp_siphash24, kept for SYN cookies, whose MAC is sent on the wire)
 * costs about ten times that.
 */
#ifndef UST_KERN_HASH_H
#define UST_KERN_HASH_H

#include <stdint.h>

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (x);
}

#endif /* UST_KERN_HASH_H */
