/*
 * udp.h - the UDP header on the wire (RFC 768; FreeBSD netinet/udp.h): the
 * one place that reads and writes it.  struct udphdr is a parsed view with
 * the ports in network order (as in PCBs and sockaddrs) and the length and
 * checksum in host order.
 */
#ifndef _USTACK_NETINET_UDP_H_
#define _USTACK_NETINET_UDP_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"

#define UDP_HDRLEN 8
/* Largest payload: 65535 - 20 (IP header) - 8 (RFC 768 length field). */
#define UDP_MAXDGRAM 65507u

struct udphdr {
	uint16_t uh_sport; /* network order */
	uint16_t uh_dport; /* network order */
	uint16_t uh_ulen;  /* header + data, host order */
	uint16_t uh_sum;   /* host order; 0: none sent */
};

/* Decodes p (avail bytes).  Returns 0, or -1 when avail < 8. */
static inline int
udp_hdr_parse(const uint8_t *p, size_t avail, struct udphdr *out)
{
	if (avail < UDP_HDRLEN)
		return (-1);
	memcpy(&out->uh_sport, p, 2);
	memcpy(&out->uh_dport, p + 2, 2);
	out->uh_ulen = be16dec(p + 4);
	out->uh_sum = be16dec(p + 6);
	return (0);
}

/* Encodes h into the 8 bytes at p. */
static inline void
udp_hdr_write(uint8_t *p, const struct udphdr *h)
{
	memcpy(p, &h->uh_sport, 2);
	memcpy(p + 2, &h->uh_dport, 2);
	be16enc(p + 4, h->uh_ulen);
	be16enc(p + 6, h->uh_sum);
}

/* Stores a checksum into an encoded header. */
static inline void
udp_hdr_set_sum(uint8_t *p, uint16_t sum)
{
	be16enc(p + 6, sum);
}

#endif /* _USTACK_NETINET_UDP_H_ */
