/*
 * test_ip_input.c - ip_input's validation, each drop with its counter,
 * frames built byte by byte and injected through the loop driver: short
 * frames, version, IHL, total length against header and frame, checksum
 * (and the L3_VALID offload flag), TTL 0, options (good lists accepted,
 * malformed ones dropped), source addresses that cannot be a unicast peer
 * (broadcast, multicast, class E, zero, loopback, our own), destinations
 * not ours, Ethernet padding trimmed, unknown protocols answered with a
 * protocol unreachable (never for a broadcast).
 */
#include "iptest.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "netinet/ip_var.h"

/* An echo request from the peer with 16 bytes of data into f (frame). */
static size_t
echo_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t ttl)
{
	uint8_t icmp[64], data[16];
	size_t n, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	n = tl_icmp(icmp, 8, 0, 0x12340001u, data, sizeof(data));
	return (ipt_frame(f, ipt_mac_ours, src, dst, 1, 0x4242, 0, ttl, icmp, n));
}

/* Injects f and checks exactly one more ipstat field moved, by one. */
#define EXPECT_DROP(t, f, len, field)                               \
	do {                                                        \
		uint64_t _before = (t)->st->st_ipstat.field;        \
		uint64_t _deliv = (t)->st->st_ipstat.ips_delivered; \
		ipt_inject((t), (f), (len));                        \
		CHECK_EQ((t)->st->st_ipstat.field, _before + 1);    \
		CHECK_EQ((t)->st->st_ipstat.ips_delivered, _deliv); \
		CHECK_EQ((t)->d->tx_count, 0);                      \
	} while (0)

#if UST_STATS
TEST(ip_input_good_echo_is_delivered)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_ipstat.ips_total, 1);
	CHECK_EQ(t.st->st_ipstat.ips_delivered, 1);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK(ipt_tx_ipok(&t, 0));
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_too_small)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	(void)len;
	EXPECT_DROP(&t, f, 14 + 19, ips_toosmall);
	EXPECT_DROP(&t, f, 14, ips_toosmall);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_bad_version)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14] = 0x65; /* version 6 under ethertype IPv4 */
	EXPECT_DROP(&t, f, len, ips_badvers);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_bad_hlen)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14] = 0x44; /* IHL 4 */
	EXPECT_DROP(&t, f, len, ips_badhlen);
	/* IHL 15 (60 bytes) in a 40-byte datagram: past the frame. */
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14] = 0x4f;
	EXPECT_DROP(&t, f, 14 + 40, ips_badhlen);
	/* IHL 15 in a long frame, total length 44: header past the total
	 * length. */
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14] = 0x4f;
	f[16] = 0;
	f[17] = 44;
	EXPECT_DROP(&t, f, len + 40, ips_badlen);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_bad_len_and_short_frame)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	/* Total length 19 < header. */
	len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 1, 0, 64, NULL, 0);
	f[17] = 19;
	f[24] = f[25] = 0;
	{
		uint16_t s = tl_cksum(f + 14, 20, 0);
		f[24] = (uint8_t)(s >> 8);
		f[25] = (uint8_t)s;
	}
	EXPECT_DROP(&t, f, len, ips_badlen);
	/* Total length 100 in a 44-byte datagram. */
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[16] = 0;
	f[17] = 100;
	f[24] = f[25] = 0;
	{
		uint16_t s = tl_cksum(f + 14, 20, 0);
		f[24] = (uint8_t)(s >> 8);
		f[25] = (uint8_t)s;
	}
	EXPECT_DROP(&t, f, len, ips_tooshort);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_bad_checksum)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14 + 10] ^= 0x01;
	EXPECT_DROP(&t, f, len, ips_badsum);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14 + 1] = 0x10; /* TOS changed, checksum not */
	EXPECT_DROP(&t, f, len, ips_badsum);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_l3_valid_skips_checksum)
{
	struct ipt t;
	uint8_t f[128];
	struct mbuf *m;
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 64);
	f[14 + 10] ^= 0x01; /* wrong, but the "NIC" vouched */
	m = m_gethdr(&t.st->st_mbz, MT_DATA);
	REQUIRE(m != NULL);
	REQUIRE_EQ(m_append(m, (uint32_t)(len - 14), f + 14), 0);
	m->m_pkthdr.rcvif = IFP_FROM_UST(t.ifp);
	m->m_pkthdr.csum_flags = UST_CSUM_L3_VALID;
	ip_input(IFP_FROM_UST(t.ifp), m);
	ipt_poll(&t);
	CHECK_EQ(t.st->st_ipstat.ips_badsum, 0);
	CHECK_EQ(t.st->st_ipstat.ips_delivered, 1);
	CHECK_EQ(t.d->tx_count, 1); /* answered */
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_ttl_zero)
{
	struct ipt t;
	uint8_t f[128];
	size_t len;

	ipt_init(&t, ust_test_seed);
	len = echo_frame(f, IPT_PEER, IPT_OURS, 0);
	EXPECT_DROP(&t, f, len, ips_badttl);
	/* TTL 1 is fine for a host. */
	len = echo_frame(f, IPT_PEER, IPT_OURS, 1);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_ipstat.ips_delivered, 1);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_padding_trimmed)
{
	struct ipt t;
	uint8_t f[128], icmp[16];
	size_t n, len;

	ipt_init(&t, ust_test_seed);
	/* Echo with 4 bytes of data: 32-byte datagram in a 60-byte frame
	 * whose padding is garbage; the reply must carry exactly the 4. */
	n = tl_icmp(icmp, 8, 0, 0x00070009u, (const uint8_t *)"abcd", 4);
	len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 9, 0, 64, icmp, n);
	CHECK_EQ(len, 46);
	memset(f + len, 0xee, 60 - len);
	ipt_inject(&t, f, 60);
	CHECK_EQ(t.st->st_icmpstat.icps_checksum, 0);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK_EQ(t.d->tx_len[0], 14 + 32);
	CHECK_EQ(tl_get16(ipt_tx_ip(&t, 0) + 2), 32);
	CHECK_MEM(ipt_tx_ip(&t, 0) + 28, "abcd", 4);
	CHECK_EQ(tl_cksum(ipt_tx_ip(&t, 0) + 20, 12, 0), 0);
	ipt_fini(&t);
}
#endif

/* A frame with options opt (length a multiple of 4) around an echo. */
static size_t
opt_frame(uint8_t *f, const uint8_t *opt, size_t optlen)
{
	uint8_t icmp[16];
	size_t n, hlen;

	n = tl_icmp(icmp, 8, 0, 0x00010001u, NULL, 0);
	ipt_eth(f, ipt_mac_ours);
	hlen = tl_ip4(f + 14, IPT_PEER, IPT_OURS, 1, 3, 0, 64, opt, optlen, n);
	memcpy(f + 14 + hlen, icmp, n);
	return (14 + hlen + n);
}

#if UST_STATS
TEST(ip_input_options_walker)
{
	static const uint8_t good1[] = { 1, 1, 1, 0 };             /* NOP NOP NOP EOL */
	static const uint8_t good2[] = { 7, 7, 4, 0, 0, 0, 0, 0 }; /* RR, then EOL */
	static const uint8_t good3[] = { 148, 4, 0, 0 };           /* router alert */
	static const uint8_t good4[] = { 0, 0xff, 0xff, 0xff };    /* EOL, then junk */
	static const uint8_t bad1[] = { 1, 1, 1, 7 };              /* type, no length */
	static const uint8_t bad2[] = { 7, 1, 0, 0 };              /* length 1 */
	static const uint8_t bad3[] = { 7, 0, 0, 0 };              /* length 0 */
	static const uint8_t bad4[] = { 1, 7, 8, 0 };              /* past the header */
	static const uint8_t *good[] = { good1, good2, good3, good4 };
	static const size_t goodlen[] = { 4, 8, 4, 4 };
	static const uint8_t *bad[] = { bad1, bad2, bad3, bad4 };
	struct ipt t;
	uint8_t f[128];
	size_t len, i;

	ipt_init(&t, ust_test_seed);
	for (i = 0; i < 4; i++) {
		len = opt_frame(f, good[i], goodlen[i]);
		ipt_inject(&t, f, len);
		CHECK_EQ(t.st->st_ipstat.ips_delivered, i + 1);
	}
	CHECK_EQ(t.d->tx_count, 4);
	/* The replies carry no options. */
	CHECK_EQ(ipt_tx_ip(&t, 1)[0], 0x45);
	t.d->tx_count = 0;
	for (i = 0; i < 4; i++) {
		len = opt_frame(f, bad[i], 4);
		EXPECT_DROP(&t, f, len, ips_badoptions);
	}
	CHECK_EQ(t.st->st_ipstat.ips_badoptions, 4);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_bad_source_addresses)
{
	static const uint32_t srcs[] = {
		0xffffffffu, /* limited broadcast */
		IPT_BCAST,   /* directed broadcast of our subnet */
		0xe0000001u, /* multicast */
		0xf0000001u, /* class E */
		0x00000000u, /* zero */
		0x7f000001u, /* loopback */
		IPT_OURS,    /* LAND: src == dst == ours */
	};
	struct ipt t;
	uint8_t f[128];
	size_t len, i;

	ipt_init(&t, ust_test_seed);
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		len = echo_frame(f, srcs[i], IPT_OURS, 64);
		EXPECT_DROP(&t, f, len, ips_badaddr);
	}
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_input_not_for_us)
{
	static const uint32_t dsts[] = { IPT_OTHER, 0x08080808u, 0xe0000001u, 0x00000000u };
	struct ipt t;
	uint8_t f[128];
	size_t len, i;

	ipt_init(&t, ust_test_seed);
	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		len = echo_frame(f, IPT_PEER, dsts[i], 64);
		EXPECT_DROP(&t, f, len, ips_notforus);
	}
	ipt_fini(&t);
}
#endif

#if UST_STATS
#if UST_ICMP_ERRORS
TEST(ip_input_unknown_protocol_unreachable)
{
	struct ipt t;
	uint8_t f[128], pl[20];
	const uint8_t *ip, *ic;
	size_t len, i;

	ipt_init(&t, ust_test_seed);
	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i + 1);
	len = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 99, 0x5151, 0, 64, pl, sizeof(pl));
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_ipstat.ips_noproto, 1);
	CHECK_EQ(t.st->st_ipstat.ips_delivered, 0);
	REQUIRE_EQ(t.d->tx_count, 1);
	REQUIRE(ipt_tx_ipok(&t, 0));
	CHECK_MEM(t.d->tx[0], ipt_mac_peer, 6);
	CHECK_MEM(t.d->tx[0] + 6, ipt_mac_ours, 6);
	ip = ipt_tx_ip(&t, 0);
	/* 20 + 8 + quoted 20-byte header + 8 bytes of payload. */
	CHECK_EQ(tl_get16(ip + 2), 56);
	CHECK_EQ(t.d->tx_len[0], 14 + 56);
	CHECK_EQ(ip[9], 1);
	CHECK_EQ(ip[8], 64);
	CHECK_EQ(tl_get32(ip + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ip + 16), IPT_PEER);
	ic = ip + 20;
	CHECK_EQ(ic[0], 3);
	CHECK_EQ(ic[1], 2);
	CHECK_EQ(tl_get32(ic + 4), 0);
	CHECK_EQ(tl_cksum(ic, 36, 0), 0);
	CHECK_MEM(ic + 8, f + 14, 28); /* header + 8 bytes, as received */
	CHECK_EQ(t.st->st_icmpstat.icps_outhist[3], 1);
	ipt_fini(&t);
}
#endif
#endif

#if UST_STATS
#if UST_ICMP_ERRORS
TEST(ip_input_broadcast_accepted_never_answered)
{
	struct ipt t;
	uint8_t f[128], pl[8] = { 0 };
	size_t len;

	ipt_init(&t, ust_test_seed);
	/* Directed and limited broadcast reach the protocol switch, but an
	 * unknown protocol is not answered (RFC 1122 3.2.2). */
	len = ipt_frame(f, ipt_mac_bcast, IPT_PEER, IPT_BCAST, 99, 1, 0, 64, pl, sizeof(pl));
	ipt_inject(&t, f, len);
	len = ipt_frame(f, ipt_mac_bcast, IPT_PEER, 0xffffffffu, 99, 2, 0, 64, pl, sizeof(pl));
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_ipstat.ips_noproto, 2);
	CHECK_EQ(t.st->st_ipstat.ips_notforus, 0);
	/* Unicast IP in a link-layer broadcast: icmp_error refuses. */
	len = ipt_frame(f, ipt_mac_bcast, IPT_PEER, IPT_OURS, 99, 3, 0, 64, pl, sizeof(pl));
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_ipstat.ips_noproto, 3);
	CHECK_EQ(t.st->st_icmpstat.icps_nobcast, 1);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif
#endif

TEST(ip_input_protosw)
{
	struct ipt t;

	/* The stack's demultiplexing table, built from inetsw (in_proto.c). */
	ipt_init(&t, ust_test_seed);
	CHECK(ip_protosw_find(t.st, 1) != NULL && ip_protosw_find(t.st, 1)->pr_input != NULL);
	CHECK(ip_protosw_find(t.st, 6) != NULL && ip_protosw_find(t.st, 6)->pr_protocol == 6);
	/* UDP takes ICMP errors where they are compiled in (UST_ICMP_CTLINPUT). */
	CHECK(ip_protosw_find(t.st, 17) != NULL &&
	    (ip_protosw_find(t.st, 17)->pr_ctlinput != NULL) == UST_ICMP_CTLINPUT);
	CHECK(ip_protosw_find(t.st, 99) == NULL);
	CHECK(ip_protosw_find(t.st, 0) == NULL);
	ipt_fini(&t);
}
