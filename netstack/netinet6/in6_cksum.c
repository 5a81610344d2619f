/*
 * in6_cksum.c - the upper-layer checksum over IPv6 (RFC 8200 8.1): the
 * Internet checksum (netinet/in_cksum.c does the summing) with IPv6's
 * pseudo header: source, destination, the 32-bit upper-layer length and
 * the next header.
 */
#include "kern/mbuf.h"
#include "netinet/ip_var.h"
#include "netinet6/ip6_var.h"

uint32_t
in6_cksum_pseudo(const struct in6_addr *s, const struct in6_addr *d, uint32_t len, uint8_t nxt)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < 16; i += 2) {
		sum += ((uint32_t)s->s6_addr8[i] << 8) | s->s6_addr8[i + 1];
		sum += ((uint32_t)d->s6_addr8[i] << 8) | d->s6_addr8[i + 1];
	}
	sum += (len >> 16) + (len & 0xffff) + nxt;
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
