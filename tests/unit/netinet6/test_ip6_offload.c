/*
 * test_ip6_offload.c - ip6_output's offload decision (ustack_driver.h):
 * what reaches the driver for a transport's UST_CSUM_TCP/UDP and TCP's
 * UST_CSUM_TSO, by the interface's caps.  A capture of a's output sees
 * each frame (flags included) before the driver does.
 *  - no IPv6 caps: complete checksums, no flags, a TSO packet cut into
 *    complete segments (tcp_tso_segment);
 *  - UST_IFCAP_TXCSUM_IPV6: UST_CSUM_IP6_UDP/TCP with the pseudo-header
 *    sum (with the length) in the field, never an IPv4 flag; a datagram
 *    that must be fragmented is summed here instead;
 *  - UST_IFCAP_TSO6: the TSO packet whole, UST_CSUM_IP6_TSO|IP6_TCP, the
 *    sum without the length, tso_segsz kept.
 */
#include "netinet6/ip6test.h"

#if UST_INET6

#define OC_MAX 8

struct ocap {
	unsigned n;
	uint32_t flags[OC_MAX], segsz[OC_MAX];
	size_t len[OC_MAX];
	uint8_t f[OC_MAX][2048];
};
static struct ocap oc;

static void
oc_hook(void *arg, struct ust_if *ifp, int dir, uint64_t ts, const struct ust_mbuf *m)
{
	struct ocap *c = arg;
	size_t len = ust_mbuf_pktlen(m);
	uint8_t h[54];

	(void)ifp;
	(void)ts;
	/* Ours only: from A6 (not ND or MLD noise), TCP, UDP or fragments. */
	if (dir != UST_CAPTURE_OUT || c->n >= OC_MAX || ust_mbuf_copydata(m, 0, 54, h) != 0 ||
	    h[12] != 0x86 || h[13] != 0xdd || memcmp(h + 22, A6.s6_addr8, 16) != 0 ||
	    (h[20] != IPPROTO_TCP && h[20] != IPPROTO_UDP && h[20] != IPPROTO_FRAGMENT))
		return;
	c->flags[c->n] = ust_mbuf_csum_flags(m);
	c->segsz[c->n] = ust_mbuf_tso_segsz(m);
	c->len[c->n] = len;
	(void)ust_mbuf_copydata(m, 0, len < 2048 ? len : 2048, c->f[c->n]);
	c->n++;
}

/* A TCP segment (header of 20 bytes, ACK|PSH, then plen bytes) as
 * tcp_output hands it over for IPv6: the checksum left to ip6_output. */
static struct mbuf *
oc_tcp(struct ust_stack *st, uint32_t plen, int tso)
{
	static uint8_t seg[20 + 3000];
	struct mbuf *m;
	uint32_t i;

	memset(seg, 0, sizeof(seg));
	seg[0] = 0x12;
	seg[1] = 0x34;
	seg[2] = 0x56;
	seg[3] = 0x78;
	seg[7] = 1; /* seq 1 */
	seg[12] = 5 << 4;
	seg[13] = 0x18;
	seg[14] = 0xff;
	seg[15] = 0xff;
	for (i = 0; i < plen; i++)
		seg[20 + i] = (uint8_t)(i * 13);
	if ((m = lt_mbuf(st, seg, 20 + plen, 1)) == NULL)
		abort();
	m->m_pkthdr.csum_flags = UST_CSUM_TCP | (tso ? UST_CSUM_TSO : 0);
	m->m_pkthdr.csum_data = 16;
	m->m_pkthdr.tso_segsz = tso ? 1000 : 0;
	return (m);
}

static struct mbuf *
oc_udp(struct ust_stack *st, uint32_t dlen)
{
	static uint8_t d[8 + 4000];
	struct mbuf *m;

	memset(d, 0x5a, sizeof(d));
	d[0] = 0x12;
	d[1] = 0x34;
	d[2] = 0x56;
	d[3] = 0x78;
	d[4] = (uint8_t)((8 + dlen) >> 8);
	d[5] = (uint8_t)(8 + dlen);
	d[6] = d[7] = 0xee;
	if ((m = lt_mbuf(st, d, 8 + dlen, 1)) == NULL)
		abort();
	m->m_pkthdr.csum_flags = UST_CSUM_UDP;
	m->m_pkthdr.csum_data = 6;
	return (m);
}

static void
oc_send(struct tl_pair *pr, struct mbuf *m, uint8_t nxt)
{
	struct ip6_out_args a;

	memset(&a, 0, sizeof(a));
	a.src = A6;
	a.dst = B6;
	a.nxt = nxt;
	REQUIRE_EQ(ip6_output(pr->a, m, &a), 0);
	tl_pair_run(pr, 10 * MS);
}

/* The upper-layer checksum of captured frame i verifies. */
static int
oc_sum_ok(unsigned i)
{
	const uint8_t *f = oc.f[i];
	uint32_t plen = (uint32_t)(f[18] << 8 | f[19]);

	return (in_cksum_buf(f + 54, plen, in6_cksum_pseudo(&A6, &B6, plen, f[20])) == 0);
}

/* The field at off of frame i holds the pseudo-header sum over len. */
static int
oc_field_is_pseudo(unsigned i, uint32_t off, uint32_t len)
{
	uint16_t want = (uint16_t)in6_cksum_pseudo(&A6, &B6, len, oc.f[i][20]);

	return ((uint16_t)(oc.f[i][54 + off] << 8 | oc.f[i][54 + off + 1]) == want);
}

static void
oc_pair(struct tl_pair *pr, uint32_t caps)
{
	pair6(pr);
	IFP_FROM_UST(pr->ifa)->if_capabilities = caps;
	memset(&oc, 0, sizeof(oc));
	ust_if_set_capture(pr->ifa, oc_hook, &oc);
}

TEST(ip6_offload_none_gives_complete_packets)
{
	struct tl_pair pr;
	unsigned i;

	/* IPv4's caps only: nothing of them reaches an IPv6 packet. */
	oc_pair(&pr, UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_RXCSUM);
	oc_send(&pr, oc_udp(pr.a, 100), IPPROTO_UDP);
	oc_send(&pr, oc_tcp(pr.a, 200, 0), IPPROTO_TCP);
#if UST_TCP_TSO
	oc_send(&pr, oc_tcp(pr.a, 3000, 1), IPPROTO_TCP);
	REQUIRE_EQ(oc.n, 5);
#else
	REQUIRE_EQ(oc.n, 2);
#endif
	for (i = 0; i < oc.n; i++) {
		CHECK_EQ(oc.flags[i], 0);
		CHECK(oc_sum_ok(i));
	}
#if UST_TCP_TSO
	/* Cut here: three segments of 1000, PSH on the last only. */
	for (i = 2; i < 5; i++) {
		CHECK_EQ(oc.len[i], 14 + 40 + 20 + 1000);
		CHECK_EQ(oc.f[i][54 + 7], (uint8_t)(1 + (i - 2) * 1000));
		CHECK_EQ(oc.f[i][54 + 13], i == 4 ? 0x18 : 0x10);
	}
#endif
	lt_pair_fini(&pr);
}

TEST(ip6_offload_txcsum_ipv6_keeps_the_request)
{
	struct tl_pair pr;

	oc_pair(&pr, UST_IFCAP_TXCSUM_IPV6);
	oc_send(&pr, oc_udp(pr.a, 100), IPPROTO_UDP);
	oc_send(&pr, oc_tcp(pr.a, 200, 0), IPPROTO_TCP);
	/* Too big for the link: fragmented, so summed here. */
	oc_send(&pr, oc_udp(pr.a, 3000), IPPROTO_UDP);
	REQUIRE(oc.n >= 4);
	CHECK_EQ(oc.flags[0], UST_CSUM_IP6_UDP);
	CHECK(oc_field_is_pseudo(0, 6, 108));
	CHECK_EQ(oc.flags[1], UST_CSUM_IP6_TCP);
	CHECK(oc_field_is_pseudo(1, 16, 220));
	CHECK_EQ(oc.flags[2], 0);
	CHECK_EQ(oc.f[2][20], IPPROTO_FRAGMENT);
	CHECK_EQ(oc.flags[3], 0);
	/* The IPv6 headers are exactly what ip6_output wrote (the source
	 * where an IPv4 header checksum would sit). */
	CHECK(memcmp(oc.f[0] + 22, A6.s6_addr8, 16) == 0);
	CHECK(memcmp(oc.f[1] + 22, A6.s6_addr8, 16) == 0);
	lt_pair_fini(&pr);
}

#if UST_TCP_TSO
TEST(ip6_offload_tso6_hands_the_packet_whole)
{
	struct tl_pair pr;

	oc_pair(&pr, UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6);
	oc_send(&pr, oc_tcp(pr.a, 3000, 1), IPPROTO_TCP);
	REQUIRE_EQ(oc.n, 1);
	CHECK_EQ(oc.flags[0], UST_CSUM_IP6_TCP | UST_CSUM_IP6_TSO);
	CHECK_EQ(oc.segsz[0], 1000);
	CHECK_EQ(oc.len[0], 14 + 40 + 20 + 3000);
	CHECK_EQ((unsigned)(oc.f[0][18] << 8 | oc.f[0][19]), 3020);
	CHECK(oc_field_is_pseudo(0, 16, 0));
	/* TSO over UDP, or with a router alert: refused. */
	{
		struct ip6_out_args a;
		struct mbuf *m = oc_udp(pr.a, 100);

		m->m_pkthdr.csum_flags |= UST_CSUM_TSO;
		memset(&a, 0, sizeof(a));
		a.src = A6;
		a.dst = B6;
		a.nxt = IPPROTO_UDP;
		CHECK_EQ(ip6_output(pr.a, m, &a), UST_EOPNOTSUPP);
		a.nxt = IPPROTO_TCP;
		a.flags = IPV6_RA;
		CHECK_EQ(ip6_output(pr.a, oc_tcp(pr.a, 3000, 1), &a), UST_EOPNOTSUPP);
	}
	lt_pair_fini(&pr);
}
#endif
#endif /* UST_INET6 */
