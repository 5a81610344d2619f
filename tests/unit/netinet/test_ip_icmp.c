/*
 * test_ip_icmp.c - ICMP: echo request -> reply byte for byte, echo to a
 * broadcast ignored (or answered from our address with bmcastecho), short
 * and corrupt messages, the RFC 1122 3.2.2 cases where no error may be
 * sent (about an ICMP error, a broadcast, a non-first fragment, a
 * non-unicast source), the quote of an error, icmplim on the virtual
 * clock, and validation of received errors before they reach a transport.
 */
#include "iptest.h"
#include "kern/mbuf.h"
#include "netinet/icmp_var.h"
#include "netinet/ip_var.h"

static size_t
echo_req(uint8_t *f, const uint8_t *dmac, uint32_t dst, size_t dlen)
{
	uint8_t icmp[1500], data[1400];
	size_t n, i;

	for (i = 0; i < dlen; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	n = tl_icmp(icmp, 8, 0, 0x1234abcdu, data, dlen);
	return (ipt_frame(f, dmac, IPT_PEER, dst, 1, 0x7777, 0, 64, icmp, n));
}

#if UST_STATS
TEST(icmp_echo_reply_bytes)
{
	struct ipt t;
	uint8_t f[1600];
	const uint8_t *ip;
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_req(f, ipt_mac_ours, IPT_OURS, 56);
	ipt_inject(&t, f, len);
	REQUIRE_EQ(t.d->tx_count, 1);
	REQUIRE_EQ(t.d->tx_len[0], len);
	REQUIRE(ipt_tx_ipok(&t, 0));
	CHECK_MEM(t.d->tx[0], ipt_mac_peer, 6);
	CHECK_MEM(t.d->tx[0] + 6, ipt_mac_ours, 6);
	ip = ipt_tx_ip(&t, 0);
	CHECK_EQ(tl_get16(ip + 2), 20 + 8 + 56);
	CHECK_EQ(ip[6] & 0x3f, 0); /* no MF, offset 0 */
	CHECK_EQ(ip[8], 64);
	CHECK_EQ(ip[9], 1);
	CHECK_EQ(tl_get32(ip + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ip + 16), IPT_PEER);
	CHECK_EQ(ip[20], 0); /* echo reply */
	CHECK_EQ(ip[21], 0);
	CHECK_EQ(tl_get32(ip + 24), 0x1234abcdu);
	CHECK_MEM(ip + 28, f + 14 + 28, 56);
	CHECK_EQ(tl_cksum(ip + 20, 64, 0), 0);
	CHECK_EQ(t.st->st_icmpstat.icps_reflect, 1);
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[8], 1);
	CHECK_EQ(t.st->st_icmpstat.icps_outhist[0], 1);
	CHECK_EQ(t.st->st_ipstat.ips_localout, 1);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(icmp_echo_to_broadcast_ignored)
{
	struct ipt t;
	uint8_t f[1600];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_req(f, ipt_mac_bcast, IPT_BCAST, 8);
	ipt_inject(&t, f, len);
	len = echo_req(f, ipt_mac_bcast, 0xffffffffu, 8);
	ipt_inject(&t, f, len);
	/* Unicast IP in a link broadcast is still a broadcast to us. */
	len = echo_req(f, ipt_mac_bcast, IPT_OURS, 8);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_bmcastecho, 3);
	CHECK_EQ(t.d->tx_count, 0);
	/* net.inet.icmp.bmcastecho=1: answered from our own address. */
	REQUIRE_EQ(ust_sysctl_set(t.st, "net.inet.icmp.bmcastecho", 1), 0);
	len = echo_req(f, ipt_mac_bcast, IPT_BCAST, 8);
	ipt_inject(&t, f, len);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 0) + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 0) + 16), IPT_PEER);
	CHECK_MEM(t.d->tx[0], ipt_mac_peer, 6);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(icmp_short_and_corrupt)
{
	struct ipt t;
	uint8_t f[1600], icmp[8];
	size_t len;

	ipt_init(&t, ust_test_seed);
	(void)tl_icmp(icmp, 8, 0, 1, NULL, 0);
	len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 1, 0, 64, icmp, 4);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_tooshort, 1);
	len = echo_req(f, ipt_mac_ours, IPT_OURS, 20);
	f[len - 1] ^= 0x40;
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_checksum, 1);
	CHECK_EQ(t.d->tx_count, 0);
	/* Unknown types are counted in the histogram and ignored. */
	len = tl_icmp(icmp, 30, 0, 0, NULL, 0);
	len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 1, 0, 64, icmp, len);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[30], 1);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

/* A received datagram as an mbuf (rcvif set), for icmp_error. */
static struct mbuf *
rx_mbuf(struct ipt *t, const uint8_t *ip, size_t len, uint16_t mflags)
{
	struct mbuf *m = m_gethdr(&t->st->st_mbz, MT_DATA);

	if (m == NULL || m_append(m, (uint32_t)len, ip) != 0)
		abort();
	m->m_pkthdr.rcvif = IFP_FROM_UST(t->ifp);
	m->m_flags |= mflags;
	return (m);
}

/* An IP datagram (no Ethernet) into p. */
static size_t
dgram(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t off, const uint8_t *pl,
    size_t plen)
{
	size_t h = tl_ip4(p, src, dst, proto, 0x99, off, 64, NULL, 0, plen);

	memcpy(p + h, pl, plen);
	return (h + plen);
}

#if UST_STATS
#if UST_ICMP_ERRORS
TEST(icmp_error_rfc1122_suppression)
{
	struct ipt t;
	uint8_t p[256], pl[64];
	size_t len;

	ipt_init(&t, ust_test_seed);
	memset(pl, 0x5a, sizeof(pl));
	/* About an ICMP error: never. */
	(void)tl_icmp(pl, 3, 3, 0, NULL, 0);
	len = dgram(p, IPT_PEER, IPT_OURS, 1, 0, pl, 36);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_oldicmp, 1);
	/* About an echo request (not an error): allowed. */
	(void)tl_icmp(pl, 8, 0, 0, NULL, 0);
	len = dgram(p, IPT_PEER, IPT_OURS, 1, 0, pl, 36);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	ipt_poll(&t);
	CHECK_EQ(t.d->tx_count, 1);
	t.d->tx_count = 0;
	memset(pl, 0x5a, sizeof(pl));
	/* Link-layer broadcast, IP broadcasts, multicast. */
	len = dgram(p, IPT_PEER, IPT_OURS, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, M_BCAST), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, IPT_PEER, IPT_BCAST, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, IPT_PEER, 0xffffffffu, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, IPT_PEER, 0xe0000005u, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, M_MCAST), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_nobcast, 4);
	/* Non-unicast sources. */
	len = dgram(p, 0, IPT_OURS, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, 0xe0000001u, IPT_OURS, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, 0xf0000001u, IPT_OURS, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, IPT_BCAST, IPT_OURS, 17, 0, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_nobcast, 8);
	/* A fragment other than the first. */
	len = dgram(p, IPT_PEER, IPT_OURS, 17, 0x2001, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	len = dgram(p, IPT_PEER, IPT_OURS, 17, 0x0003, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_notfirstfrag, 2);
	ipt_poll(&t);
	CHECK_EQ(t.d->tx_count, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_error, 12);
	/* The first fragment (MF, offset 0) may be answered. */
	len = dgram(p, IPT_PEER, IPT_OURS, 17, 0x2000, pl, 16);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, 1280);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK_EQ(ipt_tx_ip(&t, 0)[20], 3);
	CHECK_EQ(ipt_tx_ip(&t, 0)[21], 4);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 0) + 24), 1280); /* next-hop MTU */
	CHECK_MEM(ipt_tx_ip(&t, 0) + 28, p, 28);
	ipt_fini(&t);
}
#endif
#endif

#if UST_ICMP_ERRORS
TEST(icmp_error_short_quote)
{
	struct ipt t;
	uint8_t p[64], pl[3] = { 1, 2, 3 };
	size_t len;

	ipt_init(&t, ust_test_seed);
	/* 3 bytes of payload: the quote is header + 3. */
	len = dgram(p, IPT_PEER, IPT_OURS, 99, 0, pl, 3);
	icmp_error(rx_mbuf(&t, p, len, 0), ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK_EQ(tl_get16(ipt_tx_ip(&t, 0) + 2), 20 + 8 + 23);
	CHECK_MEM(ipt_tx_ip(&t, 0) + 28, p, 23);
	CHECK_EQ(tl_cksum(ipt_tx_ip(&t, 0) + 20, 8 + 23, 0), 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
#if UST_ICMP_ERRORS
TEST(icmp_ratelimit_virtual_clock)
{
	struct ipt t;
	uint8_t f[128], pl[8] = { 0 };
	size_t len;
	int i;

	ipt_init(&t, ust_test_seed);
	REQUIRE_EQ(ust_sysctl_set(t.st, "net.inet.icmp.icmplim", 5), 0);
	for (i = 0; i < 6; i++) {
		len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 99, (uint16_t)i, 0, 64, pl, 8);
		ipt_inject(&t, f, len);
	}
	CHECK_EQ(t.d->tx_count, 5);
	CHECK_EQ(t.st->st_icmpstat.icps_ratelimited, 1);
	/* Echo replies share the budget. */
	len = echo_req(f, ipt_mac_ours, IPT_OURS, 8);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.d->tx_count, 5);
	CHECK_EQ(t.st->st_icmpstat.icps_ratelimited, 2);
	/* Still the same second. */
	ipt_advance(&t, 999 * IPT_MS);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.d->tx_count, 5);
	/* The next second. */
	ipt_advance(&t, 2 * IPT_MS);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.d->tx_count, 6);
	CHECK_EQ(t.st->st_icmpstat.icps_ratelimited, 3);
	/* icmplim 0: no limit. */
	REQUIRE_EQ(ust_sysctl_set(t.st, "net.inet.icmp.icmplim", 0), 0);
	t.d->tx_count = 0;
	for (i = 0; i < 20; i++)
		ipt_inject(&t, f, len);
	CHECK_EQ(t.d->tx_count, 20);
	ipt_fini(&t);
}
#endif
#endif

/* An error from the peer quoting a datagram src -> dst with quoted header
 * byte 0 qv0 and qlen bytes of transport header. */
static size_t
err_frame(uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, uint32_t qsrc, uint8_t qv0,
    size_t ql4)
{
	uint8_t q[128], icmp[160], l4[64];
	size_t qh, n;

	memset(l4, 0x11, sizeof(l4));
	qh = tl_ip4(q, qsrc, IPT_PEER, 17, 5, 0, 64, NULL, 0, 8);
	q[0] = qv0;
	memcpy(q + qh, l4, ql4);
	n = tl_icmp(icmp, type, code, rest, q, qh + ql4);
	return (ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 3, 0, 64, icmp, n));
}

#if UST_STATS
#if UST_ICMP_CTLINPUT
TEST(icmp_received_errors_validated)
{
	struct ipt t;
	uint8_t f[256];
	size_t len;

	ipt_init(&t, ust_test_seed);
	/* Good: port unreachable quoting our datagram. */
	len = err_frame(f, 3, 3, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[3], 1);
	CHECK_EQ(t.st->st_icmpstat.icps_badlen, 0);
	/* Frag-needed with MTU 0 and a tiny MTU: accepted, no crash. */
	len = err_frame(f, 3, 4, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 3, 4, 20, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 11, 0, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 12, 0, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 4, 0, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_badlen, 0);
	/* Quoted source not ours, quote too short, bad version, bad IHL. */
	len = err_frame(f, 3, 3, 0, IPT_OTHER, 0x45, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 3, 3, 0, IPT_OURS, 0x45, 4);
	ipt_inject(&t, f, len);
	len = err_frame(f, 3, 3, 0, IPT_OURS, 0x65, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 3, 3, 0, IPT_OURS, 0x44, 8);
	ipt_inject(&t, f, len);
	len = err_frame(f, 3, 3, 0, IPT_OURS, 0x47, 8); /* IHL past the quote */
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_badlen, 5);
	/* Code out of range. */
	len = err_frame(f, 11, 7, 0, IPT_OURS, 0x45, 8);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_icmpstat.icps_badcode, 1);
	CHECK_EQ(t.d->tx_count, 0); /* errors are never answered */
	ipt_fini(&t);
}
#endif
#endif

#if UST_STATS
#if UST_IP_LOOPBACK
TEST(icmp_echo_to_self_loops_back)
{
	struct ipt t;
	struct ip_out_args a;
	struct mbuf *m;
	uint8_t icmp[40];
	size_t n;

	ipt_init(&t, ust_test_seed);
	n = tl_icmp(icmp, 8, 0, 0x00050006u, (const uint8_t *)"loopback data!!!", 16);
	m = m_gethdr(&t.st->st_mbz, MT_DATA);
	REQUIRE(m != NULL);
	m_reserve(m, 64);
	REQUIRE_EQ(m_append(m, (uint32_t)n, icmp), 0);
	memset(&a, 0, sizeof(a));
	a.dst.s_addr = htonl(IPT_OURS);
	a.proto = IPPROTO_ICMP;
	CHECK_EQ(ip_output(t.st, m, &a), 0);
	ipt_poll(&t);
	/* Request and reply both stayed inside. */
	CHECK_EQ(t.d->tx_count, 0);
	CHECK_EQ(t.st->st_icmpstat.icps_reflect, 1);
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[8], 1);
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[0], 1);
	CHECK_EQ(t.st->st_ipstat.ips_badaddr, 0);
	CHECK_EQ(t.st->st_ipstat.ips_localout, 2);
	CHECK_EQ(t.st->st_ipstat.ips_delivered, 2);
	ipt_fini(&t);
}
#endif
#endif
