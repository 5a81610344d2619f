/*
 * tl_frame.h - frames built and read byte by byte for every test program
 * (unit tests, the hostile suite, fuzz harnesses, simulations): Ethernet,
 * ARP, IPv4 (with options), ICMP, UDP and TCP (with options), each with a
 * reference Internet checksum written plainly from RFC 1071 and shared
 * with nothing in netstack/, so a bug in in_cksum() cannot hide itself.
 * Addresses and ports are host order in the arguments, network order on
 * the wire.  Public headers only.
 */
#ifndef UST_TL_FRAME_H
#define UST_TL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TL_ETHERTYPE_IP 0x0800
#define TL_ETHERTYPE_ARP 0x0806
#define TL_IPPROTO_ICMP 1
#define TL_IPPROTO_TCP 6
#define TL_IPPROTO_UDP 17
#define TL_ETHER_HDR 14

/* The bytes of v at p, most significant first (and back). */
void tl_put16(uint8_t *p, uint16_t v);
void tl_put32(uint8_t *p, uint32_t v);
uint16_t tl_get16(const uint8_t *p);
uint32_t tl_get32(const uint8_t *p);

/* RFC 1071: the ones' complement of the ones' complement sum of the
 * 16-bit words at p (an odd last byte padded with zero), the sum started
 * at init.  0 over a block that carries its own valid checksum. */
uint16_t tl_cksum(const void *p, size_t len, uint32_t init);
/* The folded sum of the IPv4 pseudo-header (RFC 9293 3.1, RFC 768) for
 * an L4 length len, to pass as tl_cksum's init. */
uint32_t tl_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len);
/* Fills the checksum field of the TCP segment or UDP datagram at l4
 * (len bytes, addresses src/dst) after zeroing it; a UDP sum of 0 is sent
 * as 0xffff (RFC 768). */
void tl_l4_cksum(uint8_t *l4, size_t len, uint32_t src, uint32_t dst, uint8_t proto);

/* An Ethernet header at f; returns 14. */
size_t tl_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* An IPv4 header at p (options opt/optlen, a multiple of 4) with its
 * checksum, total length header + plen; returns the header length. */
size_t tl_ip4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t off,
    uint8_t ttl, const uint8_t *opt, size_t optlen, size_t plen);
/* Recomputes the checksum of the IPv4 header at ip, limited to avail
 * bytes (its IHL clamped to 20..avail). */
void tl_ip4_resum(uint8_t *ip, size_t avail);
/* An ICMP message (type, code, the 4 bytes after the checksum, data)
 * with its checksum; returns 8 + dlen. */
size_t tl_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *data,
    size_t dlen);
/* A UDP datagram with the pseudo-header checksum; ulen the length field
 * written (normally 8 + dlen; any value, for hostile input), which the
 * pseudo-header also carries; returns 8 + dlen. */
size_t tl_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t ulen,
    const void *data, size_t dlen);

/* A TCP header's fields (options raw, a multiple of 4 bytes). */
struct tl_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urp;
	const uint8_t *opt;
	size_t optlen;
};
/* A TCP segment with the pseudo-header checksum; returns its length. */
size_t tl_tcp(uint8_t *p, uint32_t src, uint32_t dst, const struct tl_tcp *h, const void *data,
    size_t dlen);

/* A whole frame: Ethernet (dmac from smac), IPv4 without options and
 * the L4 bytes pl; returns its length. */
size_t tl_frame_ip4(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
    uint32_t dst, uint8_t proto, uint16_t id, uint16_t off, uint8_t ttl, const void *pl,
    size_t plen);
/* A whole frame: Ethernet, IPv4 (DF, TTL 64, the given tos and id), TCP. */
size_t tl_frame_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
    uint32_t dst, uint8_t tos, uint16_t id, const struct tl_tcp *h, const void *data, size_t dlen);
/* Ethernet + ARP (RFC 826: Ethernet, IPv4, operation op), not padded;
 * returns 42. */
size_t tl_arp(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, uint16_t op, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa);

/* TCP options, each returning its length: <nop,nop,TS val ecr> (12),
 * <mss> (4), <nop,nop,SACK blocks> (4 + 8n; blk[i] = {left, right}). */
size_t tl_opt_ts(uint8_t *o, uint32_t val, uint32_t ecr);
size_t tl_opt_mss(uint8_t *o, uint16_t mss);
size_t tl_opt_sack(uint8_t *o, const uint32_t (*blk)[2], int n);
/* The TSval/TSecr of raw TCP options: 1 when found, else 0. */
int tl_opt_find_ts(const uint8_t *opt, size_t optlen, uint32_t *val, uint32_t *ecr);

/* A received or transmitted Ethernet frame, read (pointers into it). */
struct tl_pkt {
	uint16_t etype;
	const uint8_t *dmac, *smac;
	/* IPv4 */
	const uint8_t *ip;
	size_t iphl, iplen; /* header and total length */
	uint8_t tos, ttl, proto;
	uint16_t id, off;
	uint32_t src, dst;
	int ipsum_ok;
	/* the L4 header (TCP, UDP or ICMP) */
	const uint8_t *l4;
	size_t l4len;
	uint16_t sport, dport; /* TCP and UDP */
	int l4sum_ok;          /* TCP, UDP (0 sum: ok) and ICMP */
	/* TCP */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urp;
	const uint8_t *opt;
	size_t optlen;
	/* what follows the L4 header */
	const uint8_t *data;
	size_t dlen;
};
/* Reads f: 0 when it is Ethernet + a well-formed IPv4 header whose L4
 * header fits (or Ethernet + ARP: etype set, ip NULL), -1 otherwise. */
int tl_parse(const uint8_t *f, size_t len, struct tl_pkt *p);

#endif /* UST_TL_FRAME_H */
