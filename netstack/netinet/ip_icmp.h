/*
 * ip_icmp.h - the ICMP header on the wire (RFC 792; FreeBSD
 * netinet/ip_icmp.h): type, code, checksum and the 4 "rest of header"
 * bytes (identifier and sequence of an echo, next-hop MTU of a
 * frag-needed, pointer of a parameter problem).  The one place that reads
 * and writes it.
 */
#ifndef _USTACK_NETINET_IP_ICMP_H_
#define _USTACK_NETINET_IP_ICMP_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"

#define ICMP_MINLEN 8 /* type, code, checksum, rest of header */
#define ICMP_ROUTERADVERT 9
#define ICMP_ROUTERSOLICIT 10
#define ICMP_TSTAMP 13
#define ICMP_TSTAMPREPLY 14
#define ICMP_IREQ 15
#define ICMP_IREQREPLY 16
#define ICMP_MASKREQ 17
#define ICMP_MASKREPLY 18
#define ICMP_MAXTYPE 18
/* Highest codes we know per type (RFC 792, RFC 1122, RFC 1812). */
#define ICMP_UNREACH_MAXCODE 15
#define ICMP_TIMXCEED_MAXCODE 1
#define ICMP_PARAMPROB_MAXCODE 2
#define ICMP_MINMTU 68 /* RFC 791: every link carries 68 */

/* Query and reply types: never the subject of an error, and answered by
 * an error is fine (RFC 1122 3.2.2). */
#define ICMP_INFOTYPE(t)                                                                  \
	((t) == 0 || (t) == 8 || (t) == ICMP_ROUTERADVERT || (t) == ICMP_ROUTERSOLICIT || \
	    ((t) >= ICMP_TSTAMP && (t) <= ICMP_MASKREPLY))

struct icmp {
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_cksum;
	uint8_t icmp_rest[4]; /* as on the wire */
};

/* Decodes the 8-byte header from p holding avail bytes: 0, or -1 when
 * avail < 8 (out zeroed). */
static inline int
icmp_hdr_parse(const uint8_t *p, size_t avail, struct icmp *out)
{
	if (avail < ICMP_MINLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->icmp_type = p[0];
	out->icmp_code = p[1];
	out->icmp_cksum = be16dec(p + 2);
	out->icmp_rest[0] = p[4];
	out->icmp_rest[1] = p[5];
	out->icmp_rest[2] = p[6];
	out->icmp_rest[3] = p[7];
	return (0);
}

/* Writes the header with the given checksum (0 while computing it). */
static inline void
icmp_hdr_write(uint8_t *p, const struct icmp *h)
{
	p[0] = h->icmp_type;
	p[1] = h->icmp_code;
	be16enc(p + 2, h->icmp_cksum);
	p[4] = h->icmp_rest[0];
	p[5] = h->icmp_rest[1];
	p[6] = h->icmp_rest[2];
	p[7] = h->icmp_rest[3];
}

/* Next-hop MTU of a frag-needed (RFC 1191 4): the low 16 bits of the rest. */
static inline uint16_t
icmp_nextmtu(const struct icmp *h)
{
	return (be16dec(h->icmp_rest + 2));
}

static inline void
icmp_set_nextmtu(struct icmp *h, uint16_t mtu)
{
	h->icmp_rest[0] = 0;
	h->icmp_rest[1] = 0;
	be16enc(h->icmp_rest + 2, mtu);
}

#endif /* _USTACK_NETINET_IP_ICMP_H_ */
