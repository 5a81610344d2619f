/*
 * ip6test.h - what the IPv6 unit tests share: two stacks over the pipe
 * with 2001:2::1/64 + fe80::1 (a) and ::2 (b) as static neighbours,
 * capture of the frames each receives, and builders of ICMPv6 echo
 * requests, IPv6 frames and echo frames behind extension headers.
 */
#ifndef UST_IP6TEST_H
#define UST_IP6TEST_H

#include <string.h>

#include <ustack/ustack.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/ip_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"

#if UST_INET6
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct in6_addr A6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr B6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const struct in6_addr LLA = { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr LLB = { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const struct in6_addr ALLNODES = IN6ADDR_LINKLOCAL_ALLNODES_INIT;

/* Frames an interface received (the input hook sees them all). */
#define CAP_MAX 16
struct cap {
	unsigned n;
	size_t len[CAP_MAX];
	uint8_t f[CAP_MAX][2048];
};
static struct cap capa, capb;

static inline int
cap_is_mld(const struct ust_mbuf *m)
{
	uint8_t h[14 + 40 + 8 + 1];

	if (ust_mbuf_copydata(m, 0, sizeof(h), h) != 0 || h[12] != 0x86 || h[13] != 0xdd)
		return (0);
	/* hop-by-hop (router alert) then ICMPv6 type 143 */
	return (h[14 + 6] == 0 && h[14 + 40] == 58 && h[14 + 48] == 143);
}

static inline int
cap_hook(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	struct cap *c = arg;
	size_t len = ust_mbuf_pktlen(m);

	(void)ifp;
	/* MLD reports (the solicited-node groups' joins, RFC 3810) are not
	 * what these tests look at. */
	if (len >= 14 + 40 + 8 && cap_is_mld(m))
		return (0);
	if (c->n < CAP_MAX && len <= sizeof(c->f[0])) {
		(void)ust_mbuf_copydata(m, 0, len, c->f[c->n]);
		c->len[c->n++] = len;
	}
	return (0);
}

/* Two stacks with 2001:2::1/64, fe80::1/64 (a) and ::2 (b), no DAD,
 * each the other's static neighbour, capturing what they receive. */
static inline void
pair6(struct tl_pair *pr)
{
	uint8_t maca[6], macb[6];

	REQUIRE_EQ(lt_pair_init(pr, T0, ust_test_seed), 0);
	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifa, &LLA, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifb, &B6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifb, &LLB, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &B6, macb), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &LLB, macb), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifb, &A6, maca), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifb, &LLA, maca), 0);
	memset(&capa, 0, sizeof(capa));
	memset(&capb, 0, sizeof(capb));
	ust_if_set_input_hook(pr->ifa, cap_hook, &capa);
	ust_if_set_input_hook(pr->ifb, cap_hook, &capb);
}

/* An ICMPv6 echo request from src to dst (the checksum over them). */
static inline struct mbuf *
echo_req(struct ust_stack *st, const struct in6_addr *src, const struct in6_addr *dst, uint16_t id,
    uint16_t seq, size_t dlen)
{
	uint8_t msg[4096];
	struct icmp6_hdr ic = { ICMP6_ECHO_REQUEST, 0, 0, ((uint32_t)id << 16) | seq };
	struct mbuf *m;
	uint16_t sum;
	size_t i;

	for (i = 0; i < dlen; i++)
		msg[ICMP6_HDRLEN + i] = (uint8_t)(i * 7 + 1);
	icmp6_hdr_write(msg, &ic);
	m = lt_mbuf(st, msg, ICMP6_HDRLEN + dlen, 1);
	if (m == NULL)
		return (NULL);
	sum = in6_cksum(m, IPPROTO_ICMPV6, 0, (uint32_t)(ICMP6_HDRLEN + dlen), src, dst);
	msg[2] = (uint8_t)(sum >> 8);
	msg[3] = (uint8_t)sum;
	(void)m_copyback(m, 2, 2, msg + 2);
	return (m);
}

static inline int
send6(struct ust_stack *st, struct mbuf *m, const struct in6_addr *src, const struct in6_addr *dst,
    uint32_t zoneid, uint8_t nxt)
{
	struct ip6_out_args a;

	memset(&a, 0, sizeof(a));
	a.src = *src;
	a.dst = *dst;
	a.zoneid = zoneid;
	a.nxt = nxt;
	return (ip6_output(st, m, &a));
}

/* The ICMPv6 checksum of a captured frame's message checks out. */
static inline int
frame_icmp6_ok(const uint8_t *f, size_t len)
{
	struct ip6_hdr h;
	uint32_t plen;

	if (len < 14 + IP6_HDRLEN + ICMP6_HDRLEN || ip6_hdr_parse(f + 14, len - 14, &h) != 0)
		return (0);
	plen = h.ip6_plen;
	return (in_cksum_buf(f + 14 + IP6_HDRLEN, plen,
	            in6_cksum_pseudo(&h.ip6_src, &h.ip6_dst, plen, IPPROTO_ICMPV6)) == 0);
}

/* An Ethernet + IPv6 frame from a to b's MAC: src, dst, nxt, payload. */
static inline size_t
frame6(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, const struct in6_addr *src,
    const struct in6_addr *dst, uint8_t nxt, uint8_t hlim, const uint8_t *pl, size_t plen)
{
	struct ip6_hdr h;

	memcpy(f, edst, 6);
	memcpy(f + 6, esrc, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(&h, 0, sizeof(h));
	h.ip6_v = 6;
	h.ip6_plen = (uint16_t)plen;
	h.ip6_nxt = nxt;
	h.ip6_hlim = hlim;
	h.ip6_src = *src;
	h.ip6_dst = *dst;
	ip6_hdr_write(f + 14, &h);
	memcpy(f + 54, pl, plen);
	return (54 + plen);
}

/* An echo request after the extension headers in ext (elen bytes, the
 * first one's type is the IPv6 next header nxt), checksum set. */
static inline size_t
frame6_echo(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, const struct in6_addr *src,
    const struct in6_addr *dst, uint8_t nxt, const uint8_t *ext, size_t elen)
{
	uint8_t pl[512];
	uint8_t *ic = pl + elen;
	uint16_t sum;

	if (elen > 0)
		memcpy(pl, ext, elen);
	memset(ic, 0, 16);
	ic[0] = ICMP6_ECHO_REQUEST;
	ic[4] = 0x55;
	sum = in_cksum_buf(ic, 16, in6_cksum_pseudo(src, dst, 16, IPPROTO_ICMPV6));
	ic[2] = (uint8_t)(sum >> 8);
	ic[3] = (uint8_t)sum;
	return (frame6(f, edst, esrc, src, dst, nxt, 64, pl, elen + 16));
}

#endif /* UST_INET6 */
#endif /* UST_IP6TEST_H */
