/*
 * ip6.h - the IPv6 header and its extension headers on the wire (RFC
 * 8200 3-4; FreeBSD netinet/ip6.h): the one place that reads and writes
 * them.  Each view is a host-order struct with a parse function that
 * checks the length it needs once (avail bytes at p) and a write function;
 * the addresses stay in network order.  ip6_opt_next() walks the options
 * of a hop-by-hop or destination options header with bounds checks.
 */
#ifndef _USTACK_NETINET6_IP6_H_
#define _USTACK_NETINET6_IP6_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"
#include "netinet6/in6.h"

#define IPV6_VERSION 6
#define IP6_HDRLEN 40        /* the fixed header */
#define IPV6_MAXPACKET 65535 /* payload length without jumbograms */
#define IPV6_MMTU 1280       /* the minimum link MTU (RFC 8200 5) */
#define IPV6_DEFHLIM 64      /* net.inet6.ip6.hlim's default */
#define IPV6_MAXHLIM 255
#define IPV6_FLOWLABEL_MASK 0x000fffffu

/* The fixed header: version, traffic class (DSCP << 2 | ECN), flow
 * label, payload length, next header, hop limit, addresses. */
struct ip6_hdr {
	uint8_t ip6_v;
	uint8_t ip6_tclass;
	uint32_t ip6_flow; /* the 20-bit flow label */
	uint16_t ip6_plen;
	uint8_t ip6_nxt;
	uint8_t ip6_hlim;
	struct in6_addr ip6_src;
	struct in6_addr ip6_dst;
};

/* Decodes the fixed header.  0, or -1 (out zeroed) when avail < 40.
 * Nothing else is judged: the version and lengths are the caller's. */
static inline int
ip6_hdr_parse(const uint8_t *p, size_t avail, struct ip6_hdr *out)
{
	uint32_t w;

	if (avail < IP6_HDRLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	w = be32dec(p);
	out->ip6_v = (uint8_t)(w >> 28);
	out->ip6_tclass = (uint8_t)(w >> 20);
	out->ip6_flow = w & IPV6_FLOWLABEL_MASK;
	out->ip6_plen = be16dec(p + 4);
	out->ip6_nxt = p[6];
	out->ip6_hlim = p[7];
	memcpy(out->ip6_src.s6_addr8, p + 8, 16);
	memcpy(out->ip6_dst.s6_addr8, p + 24, 16);
	return (0);
}

/* Encodes h into the 40 bytes at p (ip6_v is written as 6 whatever it
 * says). */
static inline void
ip6_hdr_write(uint8_t *p, const struct ip6_hdr *h)
{
	be32enc(p,
	    ((uint32_t)IPV6_VERSION << 28) | ((uint32_t)h->ip6_tclass << 20) |
	        (h->ip6_flow & IPV6_FLOWLABEL_MASK));
	be16enc(p + 4, h->ip6_plen);
	p[6] = h->ip6_nxt;
	p[7] = h->ip6_hlim;
	memcpy(p + 8, h->ip6_src.s6_addr8, 16);
	memcpy(p + 24, h->ip6_dst.s6_addr8, 16);
}

/* The generic start of an extension header (hop-by-hop, routing,
 * destination options): next header and length in 8-octet units beyond
 * the first 8. */
struct ip6_ext {
	uint8_t ip6e_nxt;
	uint8_t ip6e_len;
};
#define IP6_EXT_LEN(len) (((uint32_t)(len) + 1) << 3) /* bytes of the header */

static inline int
ip6_ext_parse(const uint8_t *p, size_t avail, struct ip6_ext *out)
{
	if (avail < 2) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->ip6e_nxt = p[0];
	out->ip6e_len = p[1];
	return (0);
}

/* The routing header (RFC 8200 4.4). */
struct ip6_rthdr {
	uint8_t ip6r_nxt;
	uint8_t ip6r_len;
	uint8_t ip6r_type;
	uint8_t ip6r_segleft;
};
#define IPV6_RTHDR_TYPE_0 0 /* deprecated by RFC 5095 */

static inline int
ip6_rthdr_parse(const uint8_t *p, size_t avail, struct ip6_rthdr *out)
{
	if (avail < 4) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->ip6r_nxt = p[0];
	out->ip6r_len = p[1];
	out->ip6r_type = p[2];
	out->ip6r_segleft = p[3];
	return (0);
}

/* The fragment header (RFC 8200 4.5): 8 bytes. */
struct ip6_frag {
	uint8_t ip6f_nxt;
	uint16_t ip6f_offlg; /* offset (bytes, a multiple of 8) | reserved | M */
	uint32_t ip6f_ident;
};
#define IP6_FRAGHDRLEN 8
#define IP6F_OFF_MASK 0xfff8u      /* the offset, already in bytes */
#define IP6F_RESERVED_MASK 0x0006u /* reserved bits */
#define IP6F_MORE_FRAG 0x0001u     /* more fragments */

static inline int
ip6_frag_parse(const uint8_t *p, size_t avail, struct ip6_frag *out)
{
	if (avail < IP6_FRAGHDRLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->ip6f_nxt = p[0];
	out->ip6f_offlg = be16dec(p + 2);
	out->ip6f_ident = be32dec(p + 4);
	return (0);
}

/* Encodes the 8 bytes (reserved byte and bits zero). */
static inline void
ip6_frag_write(uint8_t *p, const struct ip6_frag *f)
{
	p[0] = f->ip6f_nxt;
	p[1] = 0;
	be16enc(p + 2, (uint16_t)(f->ip6f_offlg & (IP6F_OFF_MASK | IP6F_MORE_FRAG)));
	be32enc(p + 4, f->ip6f_ident);
}

/* Options of the hop-by-hop and destination options headers (RFC 8200
 * 4.2): the two high bits of the type say what to do with an unknown one,
 * the third whether it may change en route. */
#define IP6OPT_PAD1 0x00
#define IP6OPT_PADN 0x01
#define IP6OPT_JUMBO 0xc2
#define IP6OPT_ROUTER_ALERT 0x05 /* RFC 2711 */
#define IP6OPT_TYPE(o) ((o)&0xc0)
#define IP6OPT_TYPE_SKIP 0x00      /* skip it */
#define IP6OPT_TYPE_DISCARD 0x40   /* drop the packet */
#define IP6OPT_TYPE_FORCEICMP 0x80 /* drop, parameter problem even to multicast */
#define IP6OPT_TYPE_ICMP 0xc0      /* drop, parameter problem unless multicast */
#define IP6OPT_MUTABLE 0x20
#define IP6OPT_RTALERT_LEN 4 /* type, length, value (2) */
#define IP6OPT_RTALERT_MLD 0 /* RFC 2711: datagram contains an MLD message */

/* A walk over the options in len bytes at p (the header's bytes after its
 * first two). */
struct ip6_opt_iter {
	const uint8_t *p;
	uint32_t len;
	uint32_t off; /* of the next option, from p */
};

static inline void
ip6_opt_init(struct ip6_opt_iter *it, const uint8_t *p, uint32_t len)
{
	it->p = p;
	it->len = len;
	it->off = 0;
}

/* The next option: 1 with its type, data (NULL for Pad1), data length and
 * offset from p; 0 at the end; -1 when an option overruns the header. */
static inline int
ip6_opt_next(struct ip6_opt_iter *it, uint8_t *type, const uint8_t **data, uint8_t *dlen,
    uint32_t *optoff)
{
	uint32_t off = it->off;

	if (off >= it->len)
		return (0);
	*type = it->p[off];
	*optoff = off;
	if (*type == IP6OPT_PAD1) {
		*data = NULL;
		*dlen = 0;
		it->off = off + 1;
		return (1);
	}
	if (it->len - off < 2 || it->len - off - 2 < it->p[off + 1])
		return (-1);
	*dlen = it->p[off + 1];
	*data = it->p + off + 2;
	it->off = off + 2 + *dlen;
	return (1);
}

#endif /* _USTACK_NETINET6_IP6_H_ */
