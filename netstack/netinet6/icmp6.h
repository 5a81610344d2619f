/*
 * icmp6.h - ICMPv6 (RFC 4443), neighbor discovery (RFC 4861) and MLD
 * (RFC 2710, RFC 3810) messages on the wire (FreeBSD netinet/icmp6.h):
 * types and codes, host-order views with parse/write functions that check
 * their length once, and a bounded walker over ND options.
 */
#ifndef _USTACK_NETINET6_ICMP6_H_
#define _USTACK_NETINET6_ICMP6_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/endian.h"
#include "netinet6/in6.h"

/* Error messages (RFC 4443 3). */
#define ICMP6_DST_UNREACH 1
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROB 4
#define ICMP6_INFOMSG_MASK 0x80 /* set: an informational message */
/* Informational messages (RFC 4443 4) */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
/* MLD (RFC 2710, RFC 3810) */
#define MLD_LISTENER_QUERY 130
#define MLD_LISTENER_REPORT 131
#define MLD_LISTENER_DONE 132
#define MLDV2_LISTENER_REPORT 143
/* Neighbor discovery (RFC 4861 4) */
#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137

#define ICMP6_DST_UNREACH_NOROUTE 0     /* no route to destination */
#define ICMP6_DST_UNREACH_ADMIN 1       /* communication administratively prohibited */
#define ICMP6_DST_UNREACH_BEYONDSCOPE 2 /* beyond scope of source address */
#define ICMP6_DST_UNREACH_ADDR 3        /* address unreachable */
#define ICMP6_DST_UNREACH_NOPORT 4      /* port unreachable */
#define ICMP6_DST_UNREACH_POLICY 5      /* source address failed ingress/egress policy */
#define ICMP6_DST_UNREACH_REJECT 6      /* reject route to destination */
#define ICMP6_TIME_EXCEED_TRANSIT 0     /* hop limit exceeded in transit */
#define ICMP6_TIME_EXCEED_REASSEMBLY 1  /* fragment reassembly time exceeded */
#define ICMP6_PARAMPROB_HEADER 0        /* erroneous header field */
#define ICMP6_PARAMPROB_NEXTHEADER 1    /* unrecognized next header */
#define ICMP6_PARAMPROB_OPTION 2        /* unrecognized IPv6 option */
#define ICMP6_PARAMPROB_FRAGHDRCHAIN \
	3 /* incomplete header chain in the first fragment (RFC 7112) */

#define ICMP6_HDRLEN 8
/* The most an error quotes: the error must fit the minimum MTU (RFC 4443
 * 2.4(c)): 1280 - 40 (IPv6) - 8 (ICMPv6). */
#define ICMPV6_PLD_MAXLEN 1232

/* The common header; icmp6_data is the second word (echo id << 16 | seq,
 * the MTU of a packet too big, the pointer of a parameter problem). */
struct icmp6_hdr {
	uint8_t icmp6_type;
	uint8_t icmp6_code;
	uint16_t icmp6_cksum;
	uint32_t icmp6_data;
};

static inline int
icmp6_hdr_parse(const uint8_t *p, size_t avail, struct icmp6_hdr *out)
{
	if (avail < ICMP6_HDRLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->icmp6_type = p[0];
	out->icmp6_code = p[1];
	out->icmp6_cksum = be16dec(p + 2);
	out->icmp6_data = be32dec(p + 4);
	return (0);
}

/* Encodes the 8 bytes, checksum included as given (the caller computes
 * it over the pseudo header, in6_cksum, and writes it at offset 2). */
static inline void
icmp6_hdr_write(uint8_t *p, const struct icmp6_hdr *h)
{
	p[0] = h->icmp6_type;
	p[1] = h->icmp6_code;
	be16enc(p + 2, h->icmp6_cksum);
	be32enc(p + 4, h->icmp6_data);
}

/* ---------------------------------------------------------------------
 * Neighbor discovery (RFC 4861 4): the bodies after the 4-byte common
 * header start at offset 4 of the message.
 * ------------------------------------------------------------------- */

#define ND_RS_LEN 8  /* router solicitation: header + reserved */
#define ND_RA_LEN 16 /* router advertisement */
#define ND_NS_LEN 24 /* neighbor solicitation: header + reserved + target */
#define ND_NA_LEN 24
#define ND_REDIRECT_LEN 40

#define ND_RA_FLAG_MANAGED 0x80
#define ND_RA_FLAG_OTHER 0x40
#define ND_RA_FLAG_RTPREF_MASK 0x18 /* RFC 4191 */
#define ND_NA_FLAG_ROUTER 0x80000000u
#define ND_NA_FLAG_SOLICITED 0x40000000u
#define ND_NA_FLAG_OVERRIDE 0x20000000u

struct nd_router_advert {
	uint8_t nd_ra_curhoplimit;
	uint8_t nd_ra_flags;
	uint16_t nd_ra_router_lifetime; /* seconds */
	uint32_t nd_ra_reachable;       /* milliseconds */
	uint32_t nd_ra_retransmit;      /* milliseconds */
};

/* p at the ICMPv6 header. */
static inline int
nd_ra_parse(const uint8_t *p, size_t avail, struct nd_router_advert *out)
{
	if (avail < ND_RA_LEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->nd_ra_curhoplimit = p[4];
	out->nd_ra_flags = p[5];
	out->nd_ra_router_lifetime = be16dec(p + 6);
	out->nd_ra_reachable = be32dec(p + 8);
	out->nd_ra_retransmit = be32dec(p + 12);
	return (0);
}

/* Neighbor solicitation and advertisement (and the target of a
 * redirect): flags (NA only) and the target address. */
struct nd_neighbor {
	uint32_t nd_flags; /* ND_NA_FLAG_*; 0 in a solicitation */
	struct in6_addr nd_target;
};

static inline int
nd_neighbor_parse(const uint8_t *p, size_t avail, struct nd_neighbor *out)
{
	if (avail < ND_NS_LEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->nd_flags = be32dec(p + 4);
	memcpy(out->nd_target.s6_addr8, p + 8, 16);
	return (0);
}

/* Writes type, code 0, checksum 0, flags and target (24 bytes). */
static inline void
nd_neighbor_write(uint8_t *p, uint8_t type, const struct nd_neighbor *n)
{
	p[0] = type;
	p[1] = 0;
	be16enc(p + 2, 0);
	be32enc(p + 4, n->nd_flags);
	memcpy(p + 8, n->nd_target.s6_addr8, 16);
}

struct nd_redirect {
	struct in6_addr nd_rd_target;
	struct in6_addr nd_rd_dst;
};

static inline int
nd_redirect_parse(const uint8_t *p, size_t avail, struct nd_redirect *out)
{
	if (avail < ND_REDIRECT_LEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	memcpy(out->nd_rd_target.s6_addr8, p + 8, 16);
	memcpy(out->nd_rd_dst.s6_addr8, p + 24, 16);
	return (0);
}

/* ND options (RFC 4861 4.6): type, length in units of 8 octets. */
#define ND_OPT_SOURCE_LINKADDR 1
#define ND_OPT_TARGET_LINKADDR 2
#define ND_OPT_PREFIX_INFORMATION 3
#define ND_OPT_REDIRECTED_HEADER 4
#define ND_OPT_MTU 5
#define ND_OPT_ROUTE_INFO 24  /* RFC 4191 */
#define ND_OPT_RDNSS 25       /* RFC 8106 */
#define ND_OPT_LINKADDR_LEN 8 /* Ethernet: type, len 1, 6 bytes */
#define ND_OPT_PI_LEN 32
#define ND_OPT_MTU_LEN 8
#define ND_OPT_PI_FLAG_ONLINK 0x80
#define ND_OPT_PI_FLAG_AUTO 0x40
/* FreeBSD's nd6_maxndopt: a message with more options is dropped
 * (icp6s_nd_toomanyopt). */
#define ND6_MAXNDOPT 10

/* The prefix information option (RFC 4861 4.6.2), p at the option. */
struct nd_opt_prefix_info {
	uint8_t nd_opt_pi_prefix_len;
	uint8_t nd_opt_pi_flags_reserved;
	uint32_t nd_opt_pi_valid_time;     /* seconds; 0xffffffff infinity */
	uint32_t nd_opt_pi_preferred_time; /* seconds */
	struct in6_addr nd_opt_pi_prefix;
};

static inline int
nd_opt_pi_parse(const uint8_t *p, size_t avail, struct nd_opt_prefix_info *out)
{
	if (avail < ND_OPT_PI_LEN || p[1] != ND_OPT_PI_LEN / 8) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->nd_opt_pi_prefix_len = p[2];
	out->nd_opt_pi_flags_reserved = p[3];
	out->nd_opt_pi_valid_time = be32dec(p + 4);
	out->nd_opt_pi_preferred_time = be32dec(p + 8);
	memcpy(out->nd_opt_pi_prefix.s6_addr8, p + 16, 16);
	return (0);
}

/* A walk over the options in len bytes at p, at most ND6_MAXNDOPT. */
struct nd_opt_iter {
	const uint8_t *p;
	uint32_t len;
	uint32_t off;
	uint32_t count;
};

static inline void
nd_opt_init(struct nd_opt_iter *it, const uint8_t *p, uint32_t len)
{
	it->p = p;
	it->len = len;
	it->off = 0;
	it->count = 0;
}

/*
 * The next option: 1 with its type and the option's bytes (*opt at its
 * type octet, *optlen its whole length); 0 at the end; -1 for a malformed
 * list (an option of length 0 or one that overruns, RFC 4861 4.6: the
 * message is dropped); -2 for more than ND6_MAXNDOPT options.
 */
static inline int
nd_opt_next(struct nd_opt_iter *it, uint8_t *type, const uint8_t **opt, uint32_t *optlen)
{
	uint32_t off = it->off, n;

	if (off >= it->len)
		return (0);
	if (it->len - off < 2)
		return (-1);
	n = (uint32_t)it->p[off + 1] * 8;
	if (n == 0 || n > it->len - off)
		return (-1);
	if (++it->count > ND6_MAXNDOPT)
		return (-2);
	*type = it->p[off];
	*opt = it->p + off;
	*optlen = n;
	it->off = off + n;
	return (1);
}

/* The options a message's handlers need, collected once (the first of
 * each kind; prefixes counted but only the first ND_OPTS_MAXPI kept). */
#define ND_OPTS_MAXPI 8
struct nd_opts {
	const uint8_t *nd_opts_src_lladdr; /* the option (type octet) */
	const uint8_t *nd_opts_tgt_lladdr;
	const uint8_t *nd_opts_mtu;
	const uint8_t *nd_opts_rh;
	uint32_t nd_opts_rhlen;
	const uint8_t *nd_opts_pi[ND_OPTS_MAXPI];
	unsigned nd_opts_npi;     /* kept */
	unsigned nd_opts_npi_all; /* seen */
};

/* Fills out from the options in len bytes at p: 0, or the error of
 * nd_opt_next (-1 malformed, -2 too many). */
static inline int
nd6_options(const uint8_t *p, uint32_t len, struct nd_opts *out)
{
	struct nd_opt_iter it;
	const uint8_t *opt;
	uint32_t olen;
	uint8_t type;
	int r;

	memset(out, 0, sizeof(*out));
	nd_opt_init(&it, p, len);
	while ((r = nd_opt_next(&it, &type, &opt, &olen)) == 1) {
		switch (type) {
		case ND_OPT_SOURCE_LINKADDR:
			if (out->nd_opts_src_lladdr == NULL)
				out->nd_opts_src_lladdr = opt;
			break;
		case ND_OPT_TARGET_LINKADDR:
			if (out->nd_opts_tgt_lladdr == NULL)
				out->nd_opts_tgt_lladdr = opt;
			break;
		case ND_OPT_MTU:
			if (out->nd_opts_mtu == NULL)
				out->nd_opts_mtu = opt;
			break;
		case ND_OPT_REDIRECTED_HEADER:
			if (out->nd_opts_rh == NULL) {
				out->nd_opts_rh = opt;
				out->nd_opts_rhlen = olen;
			}
			break;
		case ND_OPT_PREFIX_INFORMATION:
			if (out->nd_opts_npi < ND_OPTS_MAXPI)
				out->nd_opts_pi[out->nd_opts_npi++] = opt;
			out->nd_opts_npi_all++;
			break;
		default: /* RFC 4861 4.6: unknown options are ignored */
			break;
		}
	}
	return (r);
}

/* The link-layer address of a source/target link-layer option (an
 * Ethernet one: length 1); NULL when it is not one. */
static inline const uint8_t *
nd_opt_lladdr(const uint8_t *opt)
{
	if (opt == NULL || opt[1] != 1)
		return (NULL);
	return (opt + 2);
}

/* ---------------------------------------------------------------------
 * MLD (RFC 2710 3, RFC 3810 5).
 * ------------------------------------------------------------------- */
#define MLD_MINLEN 24 /* MLDv1 message / v1 query */
#define MLD_V2_QUERY_MINLEN 28
#define MLDV2_RECORD_MODE_IS_INCLUDE 1
#define MLDV2_RECORD_MODE_IS_EXCLUDE 2
#define MLDV2_RECORD_CHANGE_TO_INCLUDE 3
#define MLDV2_RECORD_CHANGE_TO_EXCLUDE 4
#define MLDV2_RECORD_ALLOW_NEW_SOURCES 5
#define MLDV2_RECORD_BLOCK_OLD_SOURCES 6

struct mld_hdr {
	uint8_t mld_type;
	uint8_t mld_code;
	uint16_t mld_cksum;
	uint16_t mld_maxdelay; /* milliseconds (v1); the v2 code in a v2 query */
	struct in6_addr mld_addr;
};

static inline int
mld_hdr_parse(const uint8_t *p, size_t avail, struct mld_hdr *out)
{
	if (avail < MLD_MINLEN) {
		memset(out, 0, sizeof(*out));
		return (-1);
	}
	out->mld_type = p[0];
	out->mld_code = p[1];
	out->mld_cksum = be16dec(p + 2);
	out->mld_maxdelay = be16dec(p + 4);
	memcpy(out->mld_addr.s6_addr8, p + 8, 16);
	return (0);
}

#endif /* _USTACK_NETINET6_ICMP6_H_ */
