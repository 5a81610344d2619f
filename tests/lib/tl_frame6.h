/*
 * tl_frame6.h - IPv6 frames built and read byte by byte for every test
 * program, the IPv6 half of tl_frame.h (whose byte helpers and RFC 1071
 * reference checksum it shares): the IPv6 header (RFC 8200) with any
 * traffic class, flow label and hop limit; extension headers (hop-by-hop
 * and destination options with any option TLVs, routing types 0 and 4,
 * fragment, or any other type as raw bytes) chained in any order;
 * fragments of a packet at any offsets and sizes; ICMPv6 (RFC 4443) with
 * its pseudo-header checksum; Neighbor Discovery (RFC 4861) and MLDv2
 * reports (RFC 3810); TCP and UDP over IPv6; and a reader that walks the
 * extension headers to the upper-layer header.  Nothing here includes a
 * netstack header, so a bug in netinet6 cannot hide itself.
 *
 * Addresses are 16-byte arrays in network order; other fields are host
 * order in the arguments, network order on the wire.  Every builder
 * writes at p (the caller sizes the buffer) and returns the bytes
 * written.  Test addresses: 2001:2::/64 and fe80::/64 only.
 */
#ifndef UST_TL_FRAME6_H
#define UST_TL_FRAME6_H

#include <stddef.h>
#include <stdint.h>

#include "tl_frame.h"

#define TL_ETHERTYPE_IPV6 0x86dd
#define TL_IP6_HDR 40
#define TL_IP6_MINMTU 1280

/* Next-header values (IANA). */
#define TL_IPPROTO_HOPOPTS 0
#define TL_IPPROTO_ROUTING 43
#define TL_IPPROTO_FRAGMENT 44
#define TL_IPPROTO_ESP 50
#define TL_IPPROTO_AH 51
#define TL_IPPROTO_ICMPV6 58
#define TL_IPPROTO_NONE 59
#define TL_IPPROTO_DSTOPTS 60

/* ICMPv6 types (RFC 4443, 4861, 3810). */
#define TL_ICMP6_DST_UNREACH 1
#define TL_ICMP6_PACKET_TOO_BIG 2
#define TL_ICMP6_TIME_EXCEEDED 3
#define TL_ICMP6_PARAM_PROB 4
#define TL_ICMP6_ECHO_REQUEST 128
#define TL_ICMP6_ECHO_REPLY 129
#define TL_MLD_LISTENER_QUERY 130
#define TL_MLD_LISTENER_REPORT 131
#define TL_ND_ROUTER_SOLICIT 133
#define TL_ND_ROUTER_ADVERT 134
#define TL_ND_NEIGHBOR_SOLICIT 135
#define TL_ND_NEIGHBOR_ADVERT 136
#define TL_ND_REDIRECT 137
#define TL_MLDV2_LISTENER_REPORT 143

/* ND option types (RFC 4861 4.6). */
#define TL_ND_OPT_SLLA 1
#define TL_ND_OPT_TLLA 2
#define TL_ND_OPT_PREFIX 3
#define TL_ND_OPT_REDIRECTED 4
#define TL_ND_OPT_MTU 5

/* NA flags (the first 32-bit word after the checksum). */
#define TL_NA_ROUTER 0x80000000u
#define TL_NA_SOLICITED 0x40000000u
#define TL_NA_OVERRIDE 0x20000000u
/* RA flags and prefix-information flags. */
#define TL_RA_MANAGED 0x80
#define TL_RA_OTHER 0x40
#define TL_PI_ONLINK 0x80
#define TL_PI_AUTO 0x40

/* Hop-by-hop/destination option types: the two high bits say what a node
 * that does not know the option does (RFC 8200 4.2), the third that its
 * data may change en route. */
#define TL_OPT_PAD1 0x00
#define TL_OPT_PADN 0x01
#define TL_OPT_ACT_SKIP 0x00
#define TL_OPT_ACT_DISCARD 0x40
#define TL_OPT_ACT_ICMP 0x80
#define TL_OPT_ACT_ICMP_UNICAST 0xc0
#define TL_OPT_CHANGE 0x20
#define TL_OPT_ROUTER_ALERT 0x05 /* RFC 2711; value 0 = MLD */
#define TL_OPT_JUMBO 0xc2        /* RFC 2675 */

/* MLDv2 record types (RFC 3810 5.2.12). */
#define TL_MLD2_IS_INCLUDE 1
#define TL_MLD2_IS_EXCLUDE 2
#define TL_MLD2_TO_INCLUDE 3
#define TL_MLD2_TO_EXCLUDE 4
#define TL_MLD2_ALLOW 5
#define TL_MLD2_BLOCK 6

/* ---- addresses ------------------------------------------------------ */

/* Text to 16 bytes (RFC 4291 2.2 forms, "::" and a trailing dotted
 * quad included; no scope): 0, or -1 when malformed. */
int tl_in6_pton(const char *s, uint8_t a[16]);
/* The 16 bytes of a literal that the caller knows is well formed (a
 * failed parse aborts). */
void tl_in6(uint8_t a[16], const char *s);
/* RFC 4291 2.7.1: the solicited-node group of a: ff02::1:ff00:0/104 with
 * a's low 24 bits. */
void tl_in6_solnode(uint8_t g[16], const uint8_t a[16]);
/* RFC 2464 7: the Ethernet address of IPv6 group g, 33:33 then g's low
 * 32 bits. */
void tl_in6_mcast_mac(uint8_t mac[6], const uint8_t g[16]);
/* RFC 4291 2.5.1 / RFC 2464 4: the address with prefix's high 64 bits
 * and the modified EUI-64 interface identifier of mac (U/L bit flipped,
 * ff:fe in the middle), e.g. fe80::/64 for the link-local one. */
void tl_in6_eui64(uint8_t a[16], const uint8_t prefix[16], const uint8_t mac[6]);

/* ---- checksum ------------------------------------------------------- */

/* The folded sum of the IPv6 pseudo-header (RFC 8200 8.1: source,
 * destination, 32-bit upper-layer length, 3 zero bytes, next header),
 * to pass as tl_cksum's init. */
uint32_t tl_pseudo6_sum(const uint8_t src[16], const uint8_t dst[16], uint8_t nxt, size_t len);
/* Fills the checksum of the TCP, UDP or ICMPv6 message at l4 (len bytes)
 * after zeroing it; a UDP sum of 0 goes out as 0xffff (RFC 8200 8.1
 * forbids the 0 of RFC 768 over IPv6). */
void tl_l4_cksum6(uint8_t *l4, size_t len, const uint8_t src[16], const uint8_t dst[16],
    uint8_t proto);

/* ---- the IPv6 header and extension headers -------------------------- */

struct tl_ip6 {
	uint8_t tclass; /* DSCP << 2 | ECN */
	uint32_t flow;  /* 20 bits */
	uint8_t nxt;    /* the upper-layer protocol (or the first header) */
	uint8_t hlim;
	const uint8_t *src, *dst;
};
/* A 40-byte IPv6 header, payload length plen (any value, for hostile
 * input; above 65535 it is written as 0, as with a jumbogram). */
size_t tl_ip6(uint8_t *p, const struct tl_ip6 *h, size_t plen);

/* One option TLV (type, len bytes of data), returns 2 + len; Pad1 is
 * one zero byte (tl_opt6_pad). */
size_t tl_opt6(uint8_t *o, uint8_t type, const void *data, uint8_t len);
/* n bytes of padding: Pad1 for 1, PadN (with n - 2 zero bytes) above;
 * returns n. */
size_t tl_opt6_pad(uint8_t *o, size_t n);

/* An extension header, for tl_ext6 and tl_frame6. */
struct tl_ext6 {
	uint8_t type; /* TL_IPPROTO_HOPOPTS, _DSTOPTS, _ROUTING, _FRAGMENT; any
	               * other value: data written raw after the next-header
	               * byte and a length byte in 8-octet units (AH-like
	               * types are the caller's to lay out) */
	/* Options (HOPOPTS/DSTOPTS): TLVs, padded with PadN to a multiple
	 * of 8 with the 2-byte head; ROUTING: the type-specific data after
	 * the 4 fixed bytes (type 0: 4 reserved bytes then addresses; type
	 * 4: see tl_srh_data); raw types: the bytes after the 2-byte head,
	 * zero-padded to a multiple of 8. */
	const uint8_t *data;
	size_t len;
	uint8_t rh_type, segleft; /* ROUTING */
	uint32_t frag_off;        /* FRAGMENT: byte offset (written >> 3) */
	int more;                 /* FRAGMENT: the M flag */
	uint32_t id;              /* FRAGMENT */
	uint8_t frag_res;         /* FRAGMENT: the reserved byte, nonzero
	                           * for hostile input */
};
/* One extension header with next-header nxt; returns its length. */
size_t tl_ext6(uint8_t *p, uint8_t nxt, const struct tl_ext6 *e);
/* A type-0 routing header's data for n addresses (4 reserved bytes, then
 * the addresses); returns 4 + 16n. */
size_t tl_rh0_data(uint8_t *d, const uint8_t (*addrs)[16], unsigned n);
/* A type-4 (segment routing, RFC 8754) header's data: last entry n - 1,
 * flags 0, tag, then the segment list as given (segs[0] is the final
 * destination); returns 4 + 16n.  Set the header's segleft yourself. */
size_t tl_srh_data(uint8_t *d, const uint8_t (*segs)[16], unsigned n, uint16_t tag);

/* Ethernet (dmac, smac, 0x86dd), the IPv6 header h (h->nxt is the
 * protocol after the chain) and the n extension headers ext in order,
 * for an upper-layer payload of plen bytes; returns the offset in f at
 * which the payload goes. */
size_t tl_frame6_hdrs(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const struct tl_ip6 *h,
    const struct tl_ext6 *ext, unsigned n, size_t plen);
/* The same with the payload pl (built for h's addresses, see
 * tl_icmp6 ...); returns the frame's length. */
size_t tl_frame6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const struct tl_ip6 *h,
    const struct tl_ext6 *ext, unsigned n, const void *pl, size_t plen);

/* A fragment of the IPv6 packet pkt (pktlen bytes from its IPv6 header,
 * built whole, without a Fragment header): its first unfrag bytes (the
 * IPv6 header and the extension headers before the Fragment header, RFC
 * 8200 4.5) are repeated with the next-header of the last one set to 44
 * and the payload length fixed; a Fragment header (id, offset off, M
 * flag more) follows, then bytes [off, off + len) of the fragmentable
 * part (what follows unfrag).  off need not be a multiple of 8 (the
 * field is off >> 3, the bytes are those at off: a hostile mismatch);
 * off + len is clamped to the fragmentable part.  Writes an Ethernet
 * frame to f and returns its length, 0 when unfrag does not end at a
 * header boundary. */
size_t tl_frag6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *pkt,
    size_t pktlen, size_t unfrag, uint32_t id, uint32_t off, uint32_t len, int more);
/* The unfragmentable part of pkt per RFC 8200 4.5: the IPv6 header and
 * any hop-by-hop, routing, and destination-options headers that come
 * before a routing header.  (The IPv6 header alone when none.) */
size_t tl_frag6_unfrag(const uint8_t *pkt, size_t pktlen);

/* ---- ICMPv6, ND, MLD ------------------------------------------------ */

/* An ICMPv6 message (type, code, the 4 bytes after the checksum, data)
 * with its pseudo-header checksum for src/dst; returns 8 + dlen. */
size_t tl_icmp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t type, uint8_t code,
    uint32_t rest, const void *data, size_t dlen);
/* Echo request (reply nonzero: reply) id, seq, data. */
size_t tl_icmp6_echo(uint8_t *p, const uint8_t *src, const uint8_t *dst, int reply, uint16_t id,
    uint16_t seq, const void *data, size_t dlen);
/* An error (destination unreachable, packet too big with rest the MTU,
 * time exceeded, parameter problem with rest the pointer) quoting as
 * much of the invoking packet pkt (from its IPv6 header) as fits in
 * 1280 bytes with a 40-byte IPv6 header (RFC 4443 2.4 (c)). */
size_t tl_icmp6_error(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t type,
    uint8_t code, uint32_t rest, const uint8_t *pkt, size_t pktlen);

/* ND options, each returning its length: a source/target link-layer
 * address (type TL_ND_OPT_SLLA/TLLA, 8 bytes), prefix information (32),
 * MTU (8), the redirected header (8 + pktlen rounded up to 8; the caller
 * keeps the whole within 1280). */
size_t tl_nd_opt_lla(uint8_t *o, uint8_t type, const uint8_t mac[6]);
size_t tl_nd_opt_prefix(uint8_t *o, const uint8_t prefix[16], uint8_t plen, uint8_t flags,
    uint32_t valid, uint32_t preferred);
size_t tl_nd_opt_mtu(uint8_t *o, uint32_t mtu);
size_t tl_nd_opt_redirected(uint8_t *o, const uint8_t *pkt, size_t pktlen);

/* Neighbor solicitation for target (options opts; with the helpers
 * above, an SLLAO), checksum for src/dst (a solicitation for resolution
 * goes to tl_in6_solnode(target), DAD's from ::). */
size_t tl_nd_ns(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t target[16],
    const uint8_t *opts, size_t optlen);
/* Neighbor advertisement (flags TL_NA_*), target, options (TLLAO). */
size_t tl_nd_na(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint32_t flags,
    const uint8_t target[16], const uint8_t *opts, size_t optlen);
/* Router solicitation, options (SLLAO). */
size_t tl_nd_rs(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t *opts,
    size_t optlen);
struct tl_ra {
	uint8_t curhlim;
	uint8_t flags; /* TL_RA_* (and the preference bits) */
	uint16_t lifetime;
	uint32_t reachable, retrans;
};
/* Router advertisement, options (prefixes, MTU, SLLAO, any count). */
size_t tl_nd_ra(uint8_t *p, const uint8_t *src, const uint8_t *dst, const struct tl_ra *ra,
    const uint8_t *opts, size_t optlen);
/* Redirect: target (the better first hop), destination, options (TLLAO,
 * redirected header). */
size_t tl_nd_redirect(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t target[16],
    const uint8_t dest[16], const uint8_t *opts, size_t optlen);

/* An MLDv2 multicast address record. */
struct tl_mld2_rec {
	uint8_t type; /* TL_MLD2_* */
	const uint8_t *group;
	const uint8_t (*srcs)[16];
	unsigned nsrc;
};
/* MLDv2 report (type 143) of n records; sent to ff02::16 with hop limit
 * 1 and a hop-by-hop router alert (tl_ext6 with tl_opt6). */
size_t tl_mld2_report(uint8_t *p, const uint8_t *src, const uint8_t *dst,
    const struct tl_mld2_rec *recs, unsigned n);

/* ---- TCP and UDP over IPv6 ------------------------------------------ */

/* A UDP datagram with the IPv6 pseudo-header checksum; ulen as in
 * tl_udp (normally 8 + dlen); returns 8 + dlen. */
size_t tl_udp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
    uint16_t ulen, const void *data, size_t dlen);
/* A TCP segment with the IPv6 pseudo-header checksum. */
size_t tl_tcp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, const struct tl_tcp *h,
    const void *data, size_t dlen);
/* Whole frames, hop limit 64, flow label 0, no extension headers. */
size_t tl_frame6_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint8_t tclass, const struct tl_tcp *h, const void *data, size_t dlen);
size_t tl_frame6_udp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport, const void *data, size_t dlen);
size_t tl_frame6_icmp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint8_t hlim, uint8_t type, uint8_t code, uint32_t rest, const void *data,
    size_t dlen);

/* ---- reading -------------------------------------------------------- */

#define TL_EXT6_MAX 16

/* A received or transmitted IPv6 frame, read (pointers into it). */
struct tl_pkt6 {
	const uint8_t *dmac, *smac;
	const uint8_t *ip6;
	uint8_t tclass, hlim;
	uint32_t flow;
	size_t plen;  /* the payload length field */
	size_t avail; /* bytes from the IPv6 header, bounded by plen */
	const uint8_t *src, *dst;
	const uint8_t *fdst; /* the final destination (a routing header's) */
	/* The extension headers in order: type and offset from ip6. */
	unsigned next;
	uint8_t ext_type[TL_EXT6_MAX];
	size_t ext_off[TL_EXT6_MAX];
	/* The Fragment header, when frag is 1. */
	int frag;
	uint32_t frag_off; /* bytes */
	int frag_more;
	uint32_t frag_id;
	/* The upper layer (TL_IPPROTO_NONE for no next header): l4 NULL when
	 * it does not start in this packet (a later fragment). */
	uint8_t proto;
	const uint8_t *l4;
	size_t l4len;
	int l4sum_ok; /* TCP, UDP, ICMPv6 of an unfragmented packet */
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_rest;
	/* TCP */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urp;
	const uint8_t *opt;
	size_t optlen;
	/* what follows the L4 header (ICMPv6: after the 8 bytes) */
	const uint8_t *data;
	size_t dlen;
};
/* Reads f: 0 when it is Ethernet + IPv6 (version 6, the payload present)
 * whose extension headers (at most TL_EXT6_MAX) fit and whose upper-layer
 * header, if any starts here, fits; -1 otherwise.  The checksum is
 * verified against the final destination (RFC 8200 8.1). */
int tl_parse6(const uint8_t *f, size_t len, struct tl_pkt6 *p);
/* The first ND option of type in opts (len bytes): its offset in opts,
 * or -1 (also for a malformed zero-length option). */
long tl_nd_opt_find(const uint8_t *opts, size_t len, uint8_t type);

#endif /* UST_TL_FRAME6_H */
