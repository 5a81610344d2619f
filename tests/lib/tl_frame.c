/*
 * tl_frame.c - frame builders, the frame reader and the reference
 * checksum (tl_frame.h).
 */
#include "tl_frame.h"

#include <string.h>

void
tl_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
tl_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint16_t
tl_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

uint32_t
tl_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* A byte at a time, even bytes high: the plainest reading of RFC 1071 2,
 * on purpose nothing like in_cksum's word loop. */
uint16_t
tl_cksum(const void *p, size_t len, uint32_t init)
{
	const uint8_t *b = p;
	uint64_t sum = init;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

uint32_t
tl_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	tl_put32(ph, src);
	tl_put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	tl_put16(ph + 10, (uint16_t)len);
	return ((uint16_t)~tl_cksum(ph, sizeof(ph), 0));
}

void
tl_l4_cksum(uint8_t *l4, size_t len, uint32_t src, uint32_t dst, uint8_t proto)
{
	size_t off = proto == TL_IPPROTO_UDP ? 6 : 16;
	uint16_t s;

	l4[off] = l4[off + 1] = 0;
	s = tl_cksum(l4, len, tl_pseudo_sum(src, dst, proto, len));
	if (proto == TL_IPPROTO_UDP && s == 0)
		s = 0xffff;
	tl_put16(l4 + off, s);
}

size_t
tl_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	tl_put16(f + 12, type);
	return (TL_ETHER_HDR);
}

size_t
tl_ip4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t off,
    uint8_t ttl, const uint8_t *opt, size_t optlen, size_t plen)
{
	size_t hlen = 20 + optlen;

	p[0] = (uint8_t)(0x40 | (hlen / 4));
	p[1] = 0;
	tl_put16(p + 2, (uint16_t)(hlen + plen));
	tl_put16(p + 4, id);
	tl_put16(p + 6, off);
	p[8] = ttl;
	p[9] = proto;
	p[10] = p[11] = 0;
	tl_put32(p + 12, src);
	tl_put32(p + 16, dst);
	if (optlen > 0)
		memcpy(p + 20, opt, optlen);
	tl_put16(p + 10, tl_cksum(p, hlen, 0));
	return (hlen);
}

void
tl_ip4_resum(uint8_t *ip, size_t avail)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (hl < 20)
		hl = 20;
	if (hl > avail)
		hl = avail;
	ip[10] = ip[11] = 0;
	tl_put16(ip + 10, tl_cksum(ip, hl, 0));
}

size_t
tl_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *data, size_t dlen)
{
	p[0] = type;
	p[1] = code;
	p[2] = p[3] = 0;
	tl_put32(p + 4, rest);
	if (dlen > 0)
		memcpy(p + 8, data, dlen);
	tl_put16(p + 2, tl_cksum(p, 8 + dlen, 0));
	return (8 + dlen);
}

size_t
tl_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t ulen,
    const void *data, size_t dlen)
{
	size_t plen = 8 + dlen;
	uint16_t s;

	tl_put16(p, sport);
	tl_put16(p + 2, dport);
	tl_put16(p + 4, ulen);
	p[6] = p[7] = 0;
	if (dlen > 0)
		memcpy(p + 8, data, dlen);
	/* The pseudo-header carries the length field as written; the sum
	 * covers the bytes that are there (a lying ulen stays detectable). */
	s = tl_cksum(p, plen, tl_pseudo_sum(src, dst, TL_IPPROTO_UDP, ulen));
	tl_put16(p + 6, s == 0 ? 0xffff : s);
	return (plen);
}

size_t
tl_tcp(uint8_t *p, uint32_t src, uint32_t dst, const struct tl_tcp *h, const void *data,
    size_t dlen)
{
	size_t thl = 20 + h->optlen;

	tl_put16(p, h->sport);
	tl_put16(p + 2, h->dport);
	tl_put32(p + 4, h->seq);
	tl_put32(p + 8, h->ack);
	p[12] = (uint8_t)((thl / 4) << 4);
	p[13] = h->flags;
	tl_put16(p + 14, h->win);
	tl_put16(p + 18, h->urp);
	if (h->optlen > 0)
		memcpy(p + 20, h->opt, h->optlen);
	if (dlen > 0)
		memcpy(p + thl, data, dlen);
	tl_l4_cksum(p, thl + dlen, src, dst, TL_IPPROTO_TCP);
	return (thl + dlen);
}

size_t
tl_frame_ip4(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src, uint32_t dst,
    uint8_t proto, uint16_t id, uint16_t off, uint8_t ttl, const void *pl, size_t plen)
{
	size_t hl;

	tl_eth(f, dmac, smac, TL_ETHERTYPE_IP);
	hl = tl_ip4(f + TL_ETHER_HDR, src, dst, proto, id, off, ttl, NULL, 0, plen);
	if (plen > 0)
		memcpy(f + TL_ETHER_HDR + hl, pl, plen);
	return (TL_ETHER_HDR + hl + plen);
}

size_t
tl_frame_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src, uint32_t dst,
    uint8_t tos, uint16_t id, const struct tl_tcp *h, const void *data, size_t dlen)
{
	uint8_t *ip = f + TL_ETHER_HDR;
	size_t hl, tl;

	tl_eth(f, dmac, smac, TL_ETHERTYPE_IP);
	hl = tl_ip4(ip, src, dst, TL_IPPROTO_TCP, id, 0x4000, 64, NULL, 0, 20 + h->optlen + dlen);
	if (tos != 0) {
		ip[1] = tos;
		tl_ip4_resum(ip, hl);
	}
	tl = tl_tcp(ip + hl, src, dst, h, data, dlen);
	return (TL_ETHER_HDR + hl + tl);
}

size_t
tl_arp(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, uint16_t op, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint8_t *a = f + TL_ETHER_HDR;

	tl_eth(f, edst, esrc, TL_ETHERTYPE_ARP);
	tl_put16(a, 1);                   /* hardware: Ethernet */
	tl_put16(a + 2, TL_ETHERTYPE_IP); /* protocol: IPv4 */
	a[4] = 6;
	a[5] = 4;
	tl_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	tl_put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	tl_put32(a + 24, tpa);
	return (TL_ETHER_HDR + 28);
}

size_t
tl_opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	tl_put32(o + 4, val);
	tl_put32(o + 8, ecr);
	return (12);
}

size_t
tl_opt_mss(uint8_t *o, uint16_t mss)
{
	o[0] = 2;
	o[1] = 4;
	tl_put16(o + 2, mss);
	return (4);
}

size_t
tl_opt_sack(uint8_t *o, const uint32_t (*blk)[2], int n)
{
	int i;

	o[0] = o[1] = 1;
	o[2] = 5;
	o[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		tl_put32(o + 4 + 8 * i, blk[i][0]);
		tl_put32(o + 8 + 8 * i, blk[i][1]);
	}
	return ((size_t)(4 + 8 * n));
}

int
tl_opt_find_ts(const uint8_t *opt, size_t optlen, uint32_t *val, uint32_t *ecr)
{
	size_t i = 0;

	while (i < optlen && opt[i] != 0) {
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || opt[i + 1] < 2)
			break;
		if (opt[i] == 8 && opt[i + 1] == 10 && i + 10 <= optlen) {
			*val = tl_get32(opt + i + 2);
			*ecr = tl_get32(opt + i + 6);
			return (1);
		}
		i += opt[i + 1];
	}
	return (0);
}

static int
parse_l4(struct tl_pkt *p)
{
	const uint8_t *l4 = p->l4;
	size_t hl;

	switch (p->proto) {
	case TL_IPPROTO_TCP:
		if (p->l4len < 20)
			return (-1);
		hl = (size_t)(l4[12] >> 4) * 4;
		if (hl < 20 || hl > p->l4len)
			return (-1);
		p->sport = tl_get16(l4);
		p->dport = tl_get16(l4 + 2);
		p->seq = tl_get32(l4 + 4);
		p->ack = tl_get32(l4 + 8);
		p->flags = l4[13];
		p->win = tl_get16(l4 + 14);
		p->urp = tl_get16(l4 + 18);
		p->opt = l4 + 20;
		p->optlen = hl - 20;
		p->l4sum_ok =
		    tl_cksum(l4, p->l4len, tl_pseudo_sum(p->src, p->dst, p->proto, p->l4len)) == 0;
		break;
	case TL_IPPROTO_UDP:
		if (p->l4len < 8)
			return (-1);
		hl = 8;
		p->sport = tl_get16(l4);
		p->dport = tl_get16(l4 + 2);
		p->l4sum_ok = tl_get16(l4 + 6) == 0 ||
		    tl_cksum(l4, p->l4len, tl_pseudo_sum(p->src, p->dst, p->proto, p->l4len)) == 0;
		break;
	case TL_IPPROTO_ICMP:
		if (p->l4len < 8)
			return (-1);
		hl = 8;
		p->l4sum_ok = tl_cksum(l4, p->l4len, 0) == 0;
		break;
	default:
		hl = 0;
		break;
	}
	p->data = l4 + hl;
	p->dlen = p->l4len - hl;
	return (0);
}

int
tl_parse(const uint8_t *f, size_t len, struct tl_pkt *p)
{
	const uint8_t *ip;

	memset(p, 0, sizeof(*p));
	if (len < TL_ETHER_HDR)
		return (-1);
	p->dmac = f;
	p->smac = f + 6;
	p->etype = tl_get16(f + 12);
	if (p->etype == TL_ETHERTYPE_ARP)
		return (len >= TL_ETHER_HDR + 28 ? 0 : -1);
	if (p->etype != TL_ETHERTYPE_IP || len < TL_ETHER_HDR + 20)
		return (-1);
	ip = f + TL_ETHER_HDR;
	p->iphl = (size_t)(ip[0] & 0x0f) * 4;
	p->iplen = tl_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || p->iphl < 20 || p->iplen < p->iphl ||
	    TL_ETHER_HDR + p->iplen > len)
		return (-1);
	p->ip = ip;
	p->tos = ip[1];
	p->id = tl_get16(ip + 4);
	p->off = tl_get16(ip + 6);
	p->ttl = ip[8];
	p->proto = ip[9];
	p->src = tl_get32(ip + 12);
	p->dst = tl_get32(ip + 16);
	p->ipsum_ok = tl_cksum(ip, p->iphl, 0) == 0;
	p->l4 = ip + p->iphl;
	p->l4len = p->iplen - p->iphl;
	if ((p->off & 0x1fff) != 0 || (p->off & 0x2000) != 0) {
		/* a fragment: no L4 header to read */
		p->data = p->l4;
		p->dlen = p->l4len;
		return (0);
	}
	return (parse_l4(p));
}
