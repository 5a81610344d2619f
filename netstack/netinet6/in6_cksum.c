/*
 * in6_cksum.c - the upper-layer checksum over IPv6 (RFC 8200 8.1): the
 * Internet checksum (netinet/in_cksum.c does the summing) with IPv6's
 * pseudo header: source, destination, the 32-bit upper-layer length and
 * the next header.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"

uint32_t
in6_cksum_pseudo(const struct in6_addr *s, const struct in6_addr *d, uint32_t len, uint8_t nxt)
{
	uint32_t w[8];
	uint64_t sum = 0;
	uint16_t half;
	uint8_t b[2];
	unsigned i;

	/* RFC 1071 2(B): the one's complement sum does not depend on byte
	 * order, so the addresses are summed as words in memory order and
	 * the folded result read back big-endian (a byte loop cost about
	 * 140 instructions a packet). */
	memcpy(w, s->s6_addr8, 16);
	memcpy(w + 4, d->s6_addr8, 16);
	for (i = 0; i < 8; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	half = (uint16_t)sum;
	memcpy(b, &half, 2);
	sum = ((uint32_t)b[0] << 8 | b[1]) + (len >> 16) + (len & 0xffff) + nxt;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint32_t)sum);
}

uint16_t
in6_cksum(const struct mbuf *m, uint8_t nxt, uint32_t off, uint32_t len, const struct in6_addr *s,
    const struct in6_addr *d)
{
	return (in_cksum_skip(m, off, len, in6_cksum_pseudo(s, d, len, nxt)));
}
