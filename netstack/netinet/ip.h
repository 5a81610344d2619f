/*
 * ip.h - the IPv4 header on the wire (RFC 791 3.1; FreeBSD netinet/ip.h):
 * the one place that reads and writes it.  struct ip is a parsed view with
 * host-order fields (addresses stay in network order, as struct in_addr);
 * ip_hdr_parse() checks the length once and decodes, ip_hdr_write()
 * encodes the fixed 20 bytes and computes the header checksum over the
 * whole header (options, if any, must already be in place after them).
 * ip_opts_check() walks the options with bounds checks.
 */
#ifndef _USTACK_NETINET_IP_H_
#define _USTACK_NETINET_IP_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"
#include "netinet/in.h"
#include "netinet/ip_var.h"

#define IPVERSION 4
#define IP_HDRLEN 20    /* header without options */
#define IP_MAXHDRLEN 60 /* IHL 15 */
#define IP_MAXPACKET 65535

/* Flags and fragment offset (ip_off).  The DF bit is IP_OFF_DF: the name
 * IP_DF is taken by the ip_out_args flag in ip_var.h. */
#define IP_RF 0x8000      /* reserved, must be zero */
#define IP_OFF_DF 0x4000  /* don't fragment */
#define IP_MF 0x2000      /* more fragments */
#define IP_OFFMASK 0x1fff /* offset in 8-byte units */

/* Options (RFC 791 3.1 "Options"). */
#define IPOPT_EOL 0 /* end of option list */
#define IPOPT_NOP 1 /* no operation */
#define IPOPT_RR 7  /* record route */
#define IPOPT_TS 68 /* timestamp */
#define IPOPT_SECURITY 130
#define IPOPT_LSRR 131  /* loose source route */
#define IPOPT_SATID 136 /* stream id */
#define IPOPT_SSRR 137  /* strict source route */
#define IPOPT_RA 148    /* router alert (RFC 2113) */

/* The ECN field, the low two bits of the TOS octet (RFC 3168 5). */
#define IPTOS_ECN_MASK 0x03
#define IPTOS_ECN_NOTECT 0x00
#define IPTOS_ECN_ECT1 0x01
#define IPTOS_ECN_ECT0 0x02
#define IPTOS_ECN_CE 0x03

/* The parsed header.  ip_hl in 32-bit words; ip_off holds the flags and
 * the offset as on the wire (in host order). */
struct ip {
	uint8_t ip_v;
	uint8_t ip_hl;
	uint8_t ip_tos;
	uint16_t ip_len;
	uint16_t ip_id;
	uint16_t ip_off;
	uint8_t ip_ttl;
	uint8_t ip_p;
	uint16_t ip_sum;
	struct in_addr ip_src; /* network order */
	struct in_addr ip_dst; /* network order */
};

/*
 * The header codec is called from every IPv4 path (input, output, ICMP,
 * reassembly, UDP and TCP's quotes).  In a build for size (-Os,
 * __OPTIMIZE_SIZE__: the embedded targets) it is one out-of-line copy,
 * ip_input.c's (which defines IP_HDR_DEFINE first), not one inlined copy
 * per caller; in a build for speed it stays inline on the per-packet path.
 */
#ifdef __OPTIMIZE_SIZE__
int ip_hdr_parse(const uint8_t *p, size_t avail, struct ip *out);
uint16_t ip_hdr_write(uint8_t *p, const struct ip *h);
#endif
#if !defined(__OPTIMIZE_SIZE__) || defined(IP_HDR_DEFINE)
#ifdef __OPTIMIZE_SIZE__
#define IP_HDR_FN
#else
#define IP_HDR_FN static inline
#endif
/* Decodes the fixed header from p, which holds avail bytes.  Returns 0, or
 * -1 (out zeroed) when avail < 20.  Checks nothing else: version, IHL
 * and lengths are the caller's to judge. */
IP_HDR_FN int
ip_hdr_parse(const uint8_t *p, size_t avail, struct ip *out)
{
	if (avail < IP_HDRLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->ip_v = (uint8_t)(p[0] >> 4);
	out->ip_hl = (uint8_t)(p[0] & 0x0f);
	out->ip_tos = p[1];
	out->ip_len = be16dec(p + 2);
	out->ip_id = be16dec(p + 4);
	out->ip_off = be16dec(p + 6);
	out->ip_ttl = p[8];
	out->ip_p = p[9];
	out->ip_sum = be16dec(p + 10);
	memcpy(&out->ip_src.s_addr, p + 12, 4);
	memcpy(&out->ip_dst.s_addr, p + 16, 4);
	return (0);
}

/* Encodes h into p (which has room for h->ip_hl * 4 bytes, the options
 * beyond 20 already there) and fills in the header checksum, ignoring
 * h->ip_sum.  Returns the checksum written. */
IP_HDR_FN uint16_t
ip_hdr_write(uint8_t *p, const struct ip *h)
{
	uint16_t sum;

	p[0] = (uint8_t)((h->ip_v << 4) | (h->ip_hl & 0x0f));
	p[1] = h->ip_tos;
	be16enc(p + 2, h->ip_len);
	be16enc(p + 4, h->ip_id);
	be16enc(p + 6, h->ip_off);
	p[8] = h->ip_ttl;
	p[9] = h->ip_p;
	be16enc(p + 10, 0);
	memcpy(p + 12, &h->ip_src.s_addr, 4);
	memcpy(p + 16, &h->ip_dst.s_addr, 4);
	sum = in_cksum_buf(p, (uint32_t)h->ip_hl * 4u, 0);
	be16enc(p + 10, sum);
	return (sum);
}
#undef IP_HDR_FN
#endif /* !__OPTIMIZE_SIZE__ || IP_HDR_DEFINE */

/* Fragment offset in bytes, and whether more fragments follow. */
static inline uint32_t
ip_frag_off(const struct ip *h)
{
	return ((uint32_t)(h->ip_off & IP_OFFMASK) << 3);
}

static inline int
ip_is_fragment(const struct ip *h)
{
	return ((h->ip_off & (IP_MF | IP_OFFMASK)) != 0);
}

/* Walks the options of a header of hlen bytes at p (hlen already checked
 * against the data available): EOL ends the list, NOP is one byte, every
 * other option is type, length >= 2, and must end within the header
 * (RFC 791 3.1).  Returns 0 when well formed, -1 otherwise.  The options
 * themselves are then ignored (RFC 1122 3.2.1.8: a host passes options it
 * does not implement transparently). */
static inline int
ip_opts_check(const uint8_t *p, uint32_t hlen)
{
	uint32_t i = IP_HDRLEN, olen;

	while (i < hlen) {
		if (p[i] == IPOPT_EOL)
			break;
		if (p[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return (-1);
		olen = p[i + 1];
		if (olen < 2 || olen > hlen - i)
			return (-1);
		i += olen;
	}
	return (0);
}

#endif /* _USTACK_NETINET_IP_H_ */
