/*
 * tl_frame6.c - IPv6 frame builders and the IPv6 frame reader
 * (tl_frame6.h), on tl_frame.c's byte helpers and reference checksum.
 */
#include "tl_frame6.h"

#include <stdlib.h>
#include <string.h>

/* ---- addresses ------------------------------------------------------ */

static int
tl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* A dotted quad at s (to its end): 0 and the 4 bytes, or -1. */
static int
tl_quad(const char *s, uint8_t *out)
{
	unsigned i, v, digits;

	for (i = 0; i < 4; i++) {
		v = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return (-1);
		}
		if (digits == 0)
			return (-1);
		out[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return (-1);
	}
	return (*s == '\0' ? 0 : -1);
}

int
tl_in6_pton(const char *s, uint8_t a[16])
{
	uint8_t w[16];
	unsigned n = 0; /* bytes written */
	int gap = -1;   /* where "::" was, in bytes */
	int v, d, k;
	const char *start;

	memset(w, 0, sizeof(w));
	if (s[0] == ':') {
		if (s[1] != ':')
			return (-1);
		gap = 0;
		s += 2;
	}
	while (*s != '\0') {
		start = s;
		v = 0;
		for (k = 0; (d = tl_hexval(*s)) >= 0; k++, s++) {
			if (k == 4)
				return (-1);
			v = v << 4 | d;
		}
		if (*s == '.') {
			if (n > 12 || tl_quad(start, w + n) != 0)
				return (-1);
			n += 4;
			break;
		}
		if (k == 0 || n > 14)
			return (-1);
		w[n++] = (uint8_t)(v >> 8);
		w[n++] = (uint8_t)v;
		if (*s == '\0')
			break;
		if (*s++ != ':')
			return (-1);
		if (*s == ':') {
			if (gap >= 0)
				return (-1);
			gap = (int)n;
			s++;
		} else if (*s == '\0') {
			return (-1);
		}
	}
	if (gap < 0 && n != 16)
		return (-1);
	if (gap >= 0) {
		if (n > 14)
			return (-1);
		memset(a, 0, 16);
		memcpy(a, w, (size_t)gap);
		memcpy(a + 16 - (n - (unsigned)gap), w + gap, n - (unsigned)gap);
	} else {
		memcpy(a, w, 16);
	}
	return (0);
}

void
tl_in6(uint8_t a[16], const char *s)
{
	if (tl_in6_pton(s, a) != 0)
		abort();
}

void
tl_in6_solnode(uint8_t g[16], const uint8_t a[16])
{
	memset(g, 0, 16);
	g[0] = 0xff;
	g[1] = 0x02;
	g[11] = 0x01;
	g[12] = 0xff;
	memcpy(g + 13, a + 13, 3);
}

void
tl_in6_mcast_mac(uint8_t mac[6], const uint8_t g[16])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, g + 12, 4);
}

void
tl_in6_eui64(uint8_t a[16], const uint8_t prefix[16], const uint8_t mac[6])
{
	memcpy(a, prefix, 8);
	a[8] = mac[0] ^ 0x02;
	a[9] = mac[1];
	a[10] = mac[2];
	a[11] = 0xff;
	a[12] = 0xfe;
	a[13] = mac[3];
	a[14] = mac[4];
	a[15] = mac[5];
}

/* ---- checksum ------------------------------------------------------- */

uint32_t
tl_pseudo6_sum(const uint8_t src[16], const uint8_t dst[16], uint8_t nxt, size_t len)
{
	uint8_t ph[40];

	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	tl_put32(ph + 32, (uint32_t)len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nxt;
	return ((uint16_t)~tl_cksum(ph, sizeof(ph), 0));
}

void
tl_l4_cksum6(uint8_t *l4, size_t len, const uint8_t src[16], const uint8_t dst[16], uint8_t proto)
{
	size_t off = proto == TL_IPPROTO_UDP ? 6 : proto == TL_IPPROTO_TCP ? 16 : 2;
	uint16_t s;

	l4[off] = l4[off + 1] = 0;
	s = tl_cksum(l4, len, tl_pseudo6_sum(src, dst, proto, len));
	if (proto == TL_IPPROTO_UDP && s == 0)
		s = 0xffff;
	tl_put16(l4 + off, s);
}

/* ---- headers -------------------------------------------------------- */

size_t
tl_ip6(uint8_t *p, const struct tl_ip6 *h, size_t plen)
{
	tl_put32(p, 6u << 28 | (uint32_t)h->tclass << 20 | (h->flow & 0xfffffu));
	tl_put16(p + 4, plen > 0xffff ? 0 : (uint16_t)plen);
	p[6] = h->nxt;
	p[7] = h->hlim;
	memcpy(p + 8, h->src, 16);
	memcpy(p + 24, h->dst, 16);
	return (TL_IP6_HDR);
}

size_t
tl_opt6(uint8_t *o, uint8_t type, const void *data, uint8_t len)
{
	o[0] = type;
	o[1] = len;
	if (len > 0)
		memcpy(o + 2, data, len);
	return (2u + len);
}

size_t
tl_opt6_pad(uint8_t *o, size_t n)
{
	if (n == 0)
		return (0);
	if (n == 1) {
		o[0] = TL_OPT_PAD1;
		return (1);
	}
	o[0] = TL_OPT_PADN;
	o[1] = (uint8_t)(n - 2);
	memset(o + 2, 0, n - 2);
	return (n);
}

size_t
tl_ext6(uint8_t *p, uint8_t nxt, const struct tl_ext6 *e)
{
	size_t len;

	p[0] = nxt;
	switch (e->type) {
	case TL_IPPROTO_FRAGMENT:
		p[1] = e->frag_res;
		tl_put16(p + 2, (uint16_t)((e->frag_off >> 3) << 3 | (e->more ? 1u : 0u)));
		tl_put32(p + 4, e->id);
		return (8);
	case TL_IPPROTO_ROUTING:
		p[2] = e->rh_type;
		p[3] = e->segleft;
		len = 4 + e->len;
		if (e->len > 0)
			memcpy(p + 4, e->data, e->len);
		break;
	case TL_IPPROTO_HOPOPTS:
	case TL_IPPROTO_DSTOPTS:
		len = 2 + e->len;
		if (e->len > 0)
			memcpy(p + 2, e->data, e->len);
		len += tl_opt6_pad(p + len, (8 - len % 8) % 8);
		break;
	default:
		len = 2 + e->len;
		if (e->len > 0)
			memcpy(p + 2, e->data, e->len);
		break;
	}
	while (len % 8 != 0)
		p[len++] = 0;
	p[1] = (uint8_t)(len / 8 - 1);
	return (len);
}

size_t
tl_rh0_data(uint8_t *d, const uint8_t (*addrs)[16], unsigned n)
{
	unsigned i;

	memset(d, 0, 4);
	for (i = 0; i < n; i++)
		memcpy(d + 4 + 16 * i, addrs[i], 16);
	return (4 + 16 * (size_t)n);
}

size_t
tl_srh_data(uint8_t *d, const uint8_t (*segs)[16], unsigned n, uint16_t tag)
{
	unsigned i;

	d[0] = (uint8_t)(n > 0 ? n - 1 : 0);
	d[1] = 0;
	tl_put16(d + 2, tag);
	for (i = 0; i < n; i++)
		memcpy(d + 4 + 16 * i, segs[i], 16);
	return (4 + 16 * (size_t)n);
}

/* The length tl_ext6 writes for e. */
static size_t
tl_ext6_len(const struct tl_ext6 *e)
{
	size_t len;

	switch (e->type) {
	case TL_IPPROTO_FRAGMENT:
		return (8);
	case TL_IPPROTO_ROUTING:
		len = 4 + e->len;
		break;
	default:
		len = 2 + e->len;
		break;
	}
	return ((len + 7) / 8 * 8);
}

size_t
tl_frame6_hdrs(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const struct tl_ip6 *h,
    const struct tl_ext6 *ext, unsigned n, size_t plen)
{
	struct tl_ip6 ih = *h;
	size_t off, elen = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		elen += tl_ext6_len(&ext[i]);
	if (n > 0)
		ih.nxt = ext[0].type;
	off = tl_eth(f, dmac, smac, TL_ETHERTYPE_IPV6);
	off += tl_ip6(f + off, &ih, elen + plen);
	for (i = 0; i < n; i++)
		off += tl_ext6(f + off, i + 1 < n ? ext[i + 1].type : h->nxt, &ext[i]);
	return (off);
}

size_t
tl_frame6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const struct tl_ip6 *h,
    const struct tl_ext6 *ext, unsigned n, const void *pl, size_t plen)
{
	size_t off = tl_frame6_hdrs(f, dmac, smac, h, ext, n, plen);

	if (plen > 0)
		memmove(f + off, pl, plen);
	return (off + plen);
}

/* The length of the extension header of type t at p (avail bytes), or 0
 * when it is not one this file walks or does not fit. */
static size_t
tl_ext6_walklen(uint8_t t, const uint8_t *p, size_t avail)
{
	size_t len;

	switch (t) {
	case TL_IPPROTO_HOPOPTS:
	case TL_IPPROTO_ROUTING:
	case TL_IPPROTO_DSTOPTS:
		if (avail < 2)
			return (0);
		len = ((size_t)p[1] + 1) * 8;
		break;
	case TL_IPPROTO_FRAGMENT:
		len = 8;
		break;
	case TL_IPPROTO_AH:
		if (avail < 2)
			return (0);
		len = ((size_t)p[1] + 2) * 4;
		break;
	default:
		return (0);
	}
	return (len <= avail ? len : 0);
}

size_t
tl_frag6_unfrag(const uint8_t *pkt, size_t pktlen)
{
	size_t off = TL_IP6_HDR, l, end = TL_IP6_HDR;
	uint8_t t = pkt[6];

	/* Everything up to the last routing header (with what precedes it),
	 * or up to and including a leading hop-by-hop header. */
	while ((t == TL_IPPROTO_HOPOPTS || t == TL_IPPROTO_ROUTING || t == TL_IPPROTO_DSTOPTS) &&
	    (l = tl_ext6_walklen(t, pkt + off, pktlen - off)) > 0) {
		if (t == TL_IPPROTO_HOPOPTS || t == TL_IPPROTO_ROUTING)
			end = off + l;
		t = pkt[off];
		off += l;
	}
	return (end);
}

size_t
tl_frag6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *pkt, size_t pktlen,
    size_t unfrag, uint32_t id, uint32_t off, uint32_t len, int more)
{
	size_t pos = TL_IP6_HDR, last = 6, l, flen, n;
	uint8_t t = pkt[6], *ip;

	if (unfrag < TL_IP6_HDR || unfrag > pktlen)
		return (0);
	while (pos < unfrag) {
		l = tl_ext6_walklen(t, pkt + pos, pktlen - pos);
		if (l == 0)
			return (0);
		last = pos;
		t = pkt[pos];
		pos += l;
	}
	if (pos != unfrag)
		return (0);
	flen = pktlen - unfrag;
	n = off >= flen ? 0 : ((size_t)off + len > flen ? flen - off : len);
	ip = f + tl_eth(f, dmac, smac, TL_ETHERTYPE_IPV6);
	memcpy(ip, pkt, unfrag);
	ip[last] = TL_IPPROTO_FRAGMENT;
	ip[unfrag] = t;
	ip[unfrag + 1] = 0;
	tl_put16(ip + unfrag + 2, (uint16_t)((off >> 3) << 3 | (more ? 1u : 0u)));
	tl_put32(ip + unfrag + 4, id);
	if (n > 0)
		memcpy(ip + unfrag + 8, pkt + unfrag + off, n);
	tl_put16(ip + 4, (uint16_t)(unfrag - TL_IP6_HDR + 8 + n));
	return (TL_ETHER_HDR + unfrag + 8 + n);
}

/* ---- ICMPv6 --------------------------------------------------------- */

size_t
tl_icmp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t type, uint8_t code,
    uint32_t rest, const void *data, size_t dlen)
{
	p[0] = type;
	p[1] = code;
	tl_put32(p + 4, rest);
	if (dlen > 0)
		memmove(p + 8, data, dlen);
	tl_l4_cksum6(p, 8 + dlen, src, dst, TL_IPPROTO_ICMPV6);
	return (8 + dlen);
}

size_t
tl_icmp6_echo(uint8_t *p, const uint8_t *src, const uint8_t *dst, int reply, uint16_t id,
    uint16_t seq, const void *data, size_t dlen)
{
	return (tl_icmp6(p, src, dst, reply ? TL_ICMP6_ECHO_REPLY : TL_ICMP6_ECHO_REQUEST, 0,
	    (uint32_t)id << 16 | seq, data, dlen));
}

size_t
tl_icmp6_error(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t type, uint8_t code,
    uint32_t rest, const uint8_t *pkt, size_t pktlen)
{
	size_t room = TL_IP6_MINMTU - TL_IP6_HDR - 8;

	return (tl_icmp6(p, src, dst, type, code, rest, pkt, pktlen < room ? pktlen : room));
}

size_t
tl_nd_opt_lla(uint8_t *o, uint8_t type, const uint8_t mac[6])
{
	o[0] = type;
	o[1] = 1;
	memcpy(o + 2, mac, 6);
	return (8);
}

size_t
tl_nd_opt_prefix(uint8_t *o, const uint8_t prefix[16], uint8_t plen, uint8_t flags, uint32_t valid,
    uint32_t preferred)
{
	o[0] = TL_ND_OPT_PREFIX;
	o[1] = 4;
	o[2] = plen;
	o[3] = flags;
	tl_put32(o + 4, valid);
	tl_put32(o + 8, preferred);
	memset(o + 12, 0, 4);
	memcpy(o + 16, prefix, 16);
	return (32);
}

size_t
tl_nd_opt_mtu(uint8_t *o, uint32_t mtu)
{
	o[0] = TL_ND_OPT_MTU;
	o[1] = 1;
	o[2] = o[3] = 0;
	tl_put32(o + 4, mtu);
	return (8);
}

size_t
tl_nd_opt_redirected(uint8_t *o, const uint8_t *pkt, size_t pktlen)
{
	size_t len = (8 + pktlen + 7) / 8 * 8;

	o[0] = TL_ND_OPT_REDIRECTED;
	o[1] = (uint8_t)(len / 8);
	memset(o + 2, 0, 6);
	memcpy(o + 8, pkt, pktlen);
	memset(o + 8 + pktlen, 0, len - 8 - pktlen);
	return (len);
}

/* An ND message: 4 bytes after the checksum (rest), body (addresses or
 * the RA's fixed part), options. */
static size_t
tl_nd_msg(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t type, uint32_t rest,
    const uint8_t *body, size_t blen, const uint8_t *opts, size_t optlen)
{
	if (optlen > 0)
		memmove(p + 8 + blen, opts, optlen);
	if (blen > 0)
		memcpy(p + 8, body, blen);
	return (tl_icmp6(p, src, dst, type, 0, rest, p + 8, blen + optlen));
}

size_t
tl_nd_ns(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t target[16],
    const uint8_t *opts, size_t optlen)
{
	return (tl_nd_msg(p, src, dst, TL_ND_NEIGHBOR_SOLICIT, 0, target, 16, opts, optlen));
}

size_t
tl_nd_na(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint32_t flags,
    const uint8_t target[16], const uint8_t *opts, size_t optlen)
{
	return (tl_nd_msg(p, src, dst, TL_ND_NEIGHBOR_ADVERT, flags, target, 16, opts, optlen));
}

size_t
tl_nd_rs(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t *opts, size_t optlen)
{
	return (tl_nd_msg(p, src, dst, TL_ND_ROUTER_SOLICIT, 0, NULL, 0, opts, optlen));
}

size_t
tl_nd_ra(uint8_t *p, const uint8_t *src, const uint8_t *dst, const struct tl_ra *ra,
    const uint8_t *opts, size_t optlen)
{
	uint8_t b[8];

	tl_put32(b, ra->reachable);
	tl_put32(b + 4, ra->retrans);
	return (tl_nd_msg(p, src, dst, TL_ND_ROUTER_ADVERT,
	    (uint32_t)ra->curhlim << 24 | (uint32_t)ra->flags << 16 | ra->lifetime, b, 8, opts,
	    optlen));
}

size_t
tl_nd_redirect(uint8_t *p, const uint8_t *src, const uint8_t *dst, const uint8_t target[16],
    const uint8_t dest[16], const uint8_t *opts, size_t optlen)
{
	uint8_t b[32];

	memcpy(b, target, 16);
	memcpy(b + 16, dest, 16);
	return (tl_nd_msg(p, src, dst, TL_ND_REDIRECT, 0, b, 32, opts, optlen));
}

size_t
tl_mld2_report(uint8_t *p, const uint8_t *src, const uint8_t *dst, const struct tl_mld2_rec *recs,
    unsigned n)
{
	size_t off = 8;
	unsigned i, j;

	for (i = 0; i < n; i++) {
		p[off] = recs[i].type;
		p[off + 1] = 0;
		tl_put16(p + off + 2, (uint16_t)recs[i].nsrc);
		memcpy(p + off + 4, recs[i].group, 16);
		off += 20;
		for (j = 0; j < recs[i].nsrc; j++, off += 16)
			memcpy(p + off, recs[i].srcs[j], 16);
	}
	return (tl_icmp6(p, src, dst, TL_MLDV2_LISTENER_REPORT, 0, n & 0xffffu, p + 8, off - 8));
}

/* ---- TCP and UDP ---------------------------------------------------- */

size_t
tl_udp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
    uint16_t ulen, const void *data, size_t dlen)
{
	uint16_t s;

	tl_put16(p, sport);
	tl_put16(p + 2, dport);
	tl_put16(p + 4, ulen);
	p[6] = p[7] = 0;
	if (dlen > 0)
		memmove(p + 8, data, dlen);
	/* The pseudo-header carries the length field, like tl_udp. */
	s = tl_cksum(p, 8 + dlen, tl_pseudo6_sum(src, dst, TL_IPPROTO_UDP, ulen));
	tl_put16(p + 6, s == 0 ? 0xffff : s);
	return (8 + dlen);
}

size_t
tl_tcp6(uint8_t *p, const uint8_t *src, const uint8_t *dst, const struct tl_tcp *h,
    const void *data, size_t dlen)
{
	size_t hl = 20 + h->optlen;

	tl_put16(p, h->sport);
	tl_put16(p + 2, h->dport);
	tl_put32(p + 4, h->seq);
	tl_put32(p + 8, h->ack);
	p[12] = (uint8_t)(hl / 4 << 4);
	p[13] = h->flags;
	tl_put16(p + 14, h->win);
	p[16] = p[17] = 0;
	tl_put16(p + 18, h->urp);
	if (h->optlen > 0)
		memcpy(p + 20, h->opt, h->optlen);
	if (dlen > 0)
		memmove(p + hl, data, dlen);
	tl_l4_cksum6(p, hl + dlen, src, dst, TL_IPPROTO_TCP);
	return (hl + dlen);
}

static size_t
tl_frame6_simple(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint8_t tclass, uint8_t hlim, uint8_t proto, size_t plen)
{
	struct tl_ip6 h = { tclass, 0, proto, hlim, src, dst };

	return (tl_frame6_hdrs(f, dmac, smac, &h, NULL, 0, plen));
}

size_t
tl_frame6_tcp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint8_t tclass, const struct tl_tcp *h, const void *data, size_t dlen)
{
	size_t off = tl_frame6_simple(f, dmac, smac, src, dst, tclass, 64, TL_IPPROTO_TCP,
	    20 + h->optlen + dlen);

	return (off + tl_tcp6(f + off, src, dst, h, data, dlen));
}

size_t
tl_frame6_udp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint16_t sport, uint16_t dport, const void *data, size_t dlen)
{
	size_t off = tl_frame6_simple(f, dmac, smac, src, dst, 0, 64, TL_IPPROTO_UDP, 8 + dlen);

	return (off + tl_udp6(f + off, src, dst, sport, dport, (uint16_t)(8 + dlen), data, dlen));
}

size_t
tl_frame6_icmp(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
    const uint8_t *dst, uint8_t hlim, uint8_t type, uint8_t code, uint32_t rest, const void *data,
    size_t dlen)
{
	size_t off =
	    tl_frame6_simple(f, dmac, smac, src, dst, 0, hlim, TL_IPPROTO_ICMPV6, 8 + dlen);

	return (off + tl_icmp6(f + off, src, dst, type, code, rest, data, dlen));
}

/* ---- reading -------------------------------------------------------- */

int
tl_parse6(const uint8_t *f, size_t len, struct tl_pkt6 *p)
{
	const uint8_t *ip, *e;
	size_t off, l, hl;
	uint32_t w;
	uint8_t t;

	memset(p, 0, sizeof(*p));
	if (len < TL_ETHER_HDR + TL_IP6_HDR || tl_get16(f + 12) != TL_ETHERTYPE_IPV6)
		return (-1);
	p->dmac = f;
	p->smac = f + 6;
	ip = p->ip6 = f + TL_ETHER_HDR;
	w = tl_get32(ip);
	if (w >> 28 != 6)
		return (-1);
	p->tclass = (uint8_t)(w >> 20);
	p->flow = w & 0xfffffu;
	p->plen = tl_get16(ip + 4);
	p->hlim = ip[7];
	p->src = ip + 8;
	p->dst = p->fdst = ip + 24;
	if (TL_IP6_HDR + p->plen > len - TL_ETHER_HDR)
		return (-1);
	p->avail = TL_IP6_HDR + p->plen;
	off = TL_IP6_HDR;
	t = ip[6];
	while (t == TL_IPPROTO_HOPOPTS || t == TL_IPPROTO_ROUTING || t == TL_IPPROTO_DSTOPTS ||
	    t == TL_IPPROTO_FRAGMENT || t == TL_IPPROTO_AH) {
		l = tl_ext6_walklen(t, ip + off, p->avail - off);
		if (l == 0 || p->next == TL_EXT6_MAX)
			return (-1);
		e = ip + off;
		p->ext_type[p->next] = t;
		p->ext_off[p->next++] = off;
		if (t == TL_IPPROTO_ROUTING && e[3] > 0) {
			/* The final destination (RFC 8200 8.1): type 0's last
			 * address, type 4's segment list[0]. */
			if (e[2] == 0 && l >= 8 + 16)
				p->fdst = e + l - 16;
			else if (e[2] == 4 && l >= 8 + 16)
				p->fdst = e + 8;
		}
		if (t == TL_IPPROTO_FRAGMENT) {
			p->frag = 1;
			p->frag_off = (uint32_t)(tl_get16(e + 2) & 0xfff8u);
			p->frag_more = e[3] & 1;
			p->frag_id = tl_get32(e + 4);
		}
		t = e[0];
		off += l;
	}
	p->proto = t;
	if (p->frag && p->frag_off != 0)
		return (0); /* the upper layer starts in the first fragment */
	p->l4 = ip + off;
	p->l4len = p->avail - off;
	if (t == TL_IPPROTO_NONE) {
		p->l4 = NULL;
		return (0);
	}
	if (t == TL_IPPROTO_TCP) {
		if (p->l4len < 20 || (hl = (size_t)(p->l4[12] >> 4) * 4) < 20 || hl > p->l4len)
			return (-1);
		p->sport = tl_get16(p->l4);
		p->dport = tl_get16(p->l4 + 2);
		p->seq = tl_get32(p->l4 + 4);
		p->ack = tl_get32(p->l4 + 8);
		p->flags = p->l4[13];
		p->win = tl_get16(p->l4 + 14);
		p->urp = tl_get16(p->l4 + 18);
		p->opt = p->l4 + 20;
		p->optlen = hl - 20;
	} else if (t == TL_IPPROTO_UDP) {
		if (p->l4len < 8)
			return (-1);
		hl = 8;
		p->sport = tl_get16(p->l4);
		p->dport = tl_get16(p->l4 + 2);
	} else if (t == TL_IPPROTO_ICMPV6) {
		if (p->l4len < 8)
			return (-1);
		hl = 8;
		p->icmp_type = p->l4[0];
		p->icmp_code = p->l4[1];
		p->icmp_rest = tl_get32(p->l4 + 4);
	} else {
		return (0);
	}
	p->data = p->l4 + hl;
	p->dlen = p->l4len - hl;
	if (!p->frag)
		p->l4sum_ok =
		    tl_cksum(p->l4, p->l4len, tl_pseudo6_sum(p->src, p->fdst, t, p->l4len)) == 0;
	return (0);
}

long
tl_nd_opt_find(const uint8_t *opts, size_t len, uint8_t type)
{
	size_t off = 0, l;

	while (off + 2 <= len) {
		l = (size_t)opts[off + 1] * 8;
		if (l == 0 || off + l > len)
			return (-1);
		if (opts[off] == type)
			return ((long)off);
		off += l;
	}
	return (-1);
}
