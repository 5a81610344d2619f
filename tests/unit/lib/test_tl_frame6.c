/*
 * test_tl_frame6.c - the IPv6 frame builders and reader (tests/lib
 * tl_frame6.h) checked against packets built by another implementation
 * (the hex vectors below are scapy 2.8's bytes for the same fields),
 * against a checksum computed another way (32-bit words, carries folded
 * at the end), and against the RFC 4291/2464 address mappings.
 */
#include "tl_frame6.h"
#include "ust_test.h"

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* Hex text to bytes; returns the count. */
static size_t
unhex(uint8_t *out, const char *s)
{
	size_t n = 0;
	unsigned v;

	while (s[0] != '\0' && s[1] != '\0') {
		(void)sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return (n);
}

/* Checks that frame f (len) is Ethernet + the packet whose hex is want. */
static void
check_pkt(const uint8_t *f, size_t len, const char *want)
{
	uint8_t w[1600];
	size_t n = unhex(w, want);

	CHECK_EQ(len, TL_ETHER_HDR + n);
	CHECK_EQ(tl_get16(f + 12), TL_ETHERTYPE_IPV6);
	if (len == TL_ETHER_HDR + n)
		CHECK_MEM(f + TL_ETHER_HDR, w, n);
}

/* The reference sum: 32-bit big-endian words (a short tail padded with
 * zeros), added into 64 bits, folded once at the end. */
static uint16_t
ref_cksum6(const uint8_t *src, const uint8_t *dst, uint8_t nxt, const uint8_t *l4, size_t len)
{
	uint64_t sum = 0;
	size_t i;
	uint8_t tail[4];

	for (i = 0; i < 16; i += 4)
		sum += tl_get32(src + i) + (uint64_t)tl_get32(dst + i);
	sum += (uint32_t)len;
	sum += nxt;
	for (i = 0; i + 4 <= len; i += 4)
		sum += tl_get32(l4 + i);
	if (i < len) {
		memset(tail, 0, 4);
		memcpy(tail, l4 + i, len - i);
		sum += tl_get32(tail);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

TEST(pton)
{
	uint8_t a[16], w[16];

	REQUIRE_EQ(tl_in6_pton("2001:2::1", a), 0);
	unhex(w, "20010002000000000000000000000001");
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("::", a), 0);
	memset(w, 0, 16);
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("::1", a), 0);
	w[15] = 1;
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("fe80::", a), 0);
	unhex(w, "fe800000000000000000000000000000");
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("2001:2:0:0:1:2:3:4", a), 0);
	unhex(w, "20010002000000000001000200030004");
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("::ffff:198.18.0.1", a), 0);
	unhex(w, "00000000000000000000ffffc6120001");
	CHECK_MEM(a, w, 16);
	REQUIRE_EQ(tl_in6_pton("2001:2::FFFF:aBcD", a), 0);
	unhex(w, "200100020000000000000000ffffabcd");
	CHECK_MEM(a, w, 16);
	CHECK_EQ(tl_in6_pton("2001:2::1::2", a), -1);
	CHECK_EQ(tl_in6_pton("2001:2:1", a), -1);
	CHECK_EQ(tl_in6_pton("12345::", a), -1);
	CHECK_EQ(tl_in6_pton(":1", a), -1);
	CHECK_EQ(tl_in6_pton("1:", a), -1);
	CHECK_EQ(tl_in6_pton("1:2:3:4:5:6:7:8:9", a), -1);
	CHECK_EQ(tl_in6_pton("1:2:3:4:5:6:7::8", a), -1);
	CHECK_EQ(tl_in6_pton("::1.2.3", a), -1);
	CHECK_EQ(tl_in6_pton("::1.2.3.256", a), -1);
	CHECK_EQ(tl_in6_pton("2001:2::g", a), -1);
}

/* RFC 4291 2.7.1 and RFC 2464 7. */
TEST(solicited_node_and_mac)
{
	uint8_t a[16], g[16], w[16], mac[6];
	static const uint8_t want_mac[6] = { 0x33, 0x33, 0xff, 0x34, 0x56, 0x78 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

	tl_in6(a, "2001:2::ab12:3456:1234:5678");
	tl_in6_solnode(g, a);
	tl_in6(w, "ff02::1:ff34:5678");
	CHECK_MEM(g, w, 16);
	tl_in6_mcast_mac(mac, g);
	CHECK_MEM(mac, want_mac, 6);
	/* The link-local of the same interface identifier shares the group. */
	tl_in6(a, "fe80::ab12:3456:1234:5678");
	tl_in6_solnode(g, a);
	CHECK_MEM(g, w, 16);
	tl_in6(g, "ff02::1");
	tl_in6_mcast_mac(mac, g);
	CHECK_MEM(mac, all_nodes_mac, 6);
}

/* RFC 4291 appendix A: the modified EUI-64 of 34:56:78:9a:bc:de. */
TEST(eui64)
{
	static const uint8_t mac[6] = { 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
	uint8_t p[16], a[16], w[16];

	tl_in6(p, "fe80::");
	tl_in6_eui64(a, p, mac);
	tl_in6(w, "fe80::3656:78ff:fe9a:bcde");
	CHECK_MEM(a, w, 16);
	tl_in6(p, "2001:2::");
	tl_in6_eui64(a, p, mac_a);
	tl_in6(w, "2001:2::ff:fe00:1");
	CHECK_MEM(a, w, 16);
}

TEST(echo_vector)
{
	uint8_t f[200], s[16], d[16];
	struct tl_pkt6 p;
	size_t n;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	n = tl_frame6_icmp(f, mac_b, mac_a, s, d, 64, TL_ICMP6_ECHO_REQUEST, 0, 0x12340001u, "abcd",
	    4);
	check_pkt(f, n,
	    "60000000000c3a402001000200000000000000000000000120010002000000000000000000000002"
	    "800068b41234000161626364");
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK_EQ(p.proto, TL_IPPROTO_ICMPV6);
	CHECK_EQ(p.icmp_type, TL_ICMP6_ECHO_REQUEST);
	CHECK_EQ(p.icmp_rest, 0x12340001u);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.dlen, 4u);
	CHECK_MEM(p.data, "abcd", 4);
	CHECK_EQ(p.hlim, 64);
	/* The same message through tl_icmp6_echo. */
	n = tl_icmp6_echo(f + 100, s, d, 0, 0x1234, 1, "abcd", 4);
	CHECK_EQ(n, 12u);
	CHECK_MEM(f + 100, p.l4, 12);
	n = tl_icmp6_echo(f + 100, s, d, 1, 0x1234, 1, "abcd", 4);
	CHECK_EQ(f[100], TL_ICMP6_ECHO_REPLY);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, f + 100, n), 0);
}

TEST(nd_vectors)
{
	uint8_t f[300], o[100], s[16], d[16], t[16], pfx[16];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, 255, s, d };
	struct tl_ra ra = { 64, 0, 1800, 0, 0 };
	struct tl_pkt6 p;
	size_t off, n, ol;
	long at;

	/* NS for resolution: to the target's solicited-node group, SLLAO. */
	tl_in6(s, "fe80::ff:fe00:1");
	tl_in6(t, "2001:2::1234:5678");
	tl_in6_solnode(d, t);
	off = tl_frame6_hdrs(f, mac_b, mac_a, &h, NULL, 0, 32);
	n = tl_nd_ns(f + off, s, d, t, o, tl_nd_opt_lla(o, TL_ND_OPT_SLLA, mac_a));
	check_pkt(f, off + n,
	    "6000000000203afffe80000000000000000000fffe000001ff0200000000000000000001ff345678"
	    "87009ac000000000200100020000000000000000123456780101020000000001");
	REQUIRE_EQ(tl_parse6(f, off + n, &p), 0);
	CHECK(p.l4sum_ok);
	at = tl_nd_opt_find(p.data + 16, p.dlen - 16, TL_ND_OPT_SLLA);
	REQUIRE_EQ(at, 0);
	CHECK_MEM(p.data + 16 + 2, mac_a, 6);
	CHECK_EQ(tl_nd_opt_find(p.data + 16, p.dlen - 16, TL_ND_OPT_TLLA), -1);

	/* NA, solicited and override, TLLAO. */
	tl_in6(d, "fe80::ff:fe00:1");
	h.src = t;
	off = tl_frame6_hdrs(f, mac_a, mac_b, &h, NULL, 0, 32);
	n = tl_nd_na(f + off, t, d, TL_NA_SOLICITED | TL_NA_OVERRIDE, t, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, mac_a));
	check_pkt(f, off + n,
	    "6000000000203aff20010002000000000000000012345678fe80000000000000000000fffe000001"
	    "880004c260000000200100020000000000000000123456780201020000000001");

	/* RA: SLLAO, MTU, one prefix (on-link, autonomous). */
	tl_in6(s, "fe80::1");
	tl_in6(d, "ff02::1");
	tl_in6(pfx, "2001:2::");
	h.src = s;
	ol = tl_nd_opt_lla(o, TL_ND_OPT_SLLA, mac_a);
	ol += tl_nd_opt_mtu(o + ol, 1500);
	ol += tl_nd_opt_prefix(o + ol, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 2592000, 604800);
	off = tl_frame6_hdrs(f, mac_a, mac_b, &h, NULL, 0, 16 + ol);
	n = tl_nd_ra(f + off, s, d, &ra, o, ol);
	check_pkt(f, off + n,
	    "6000000000403afffe800000000000000000000000000001ff020000000000000000000000000001"
	    "8600fb9f400007080000000000000000010102000000000105010000000005dc030440c000278d00"
	    "00093a800000000020010002000000000000000000000000");
	REQUIRE_EQ(tl_parse6(f, off + n, &p), 0);
	CHECK(p.l4sum_ok);
	CHECK_EQ(tl_nd_opt_find(p.data + 8, p.dlen - 8, TL_ND_OPT_PREFIX), 16);
	CHECK_EQ(tl_nd_opt_find(p.data + 8, p.dlen - 8, TL_ND_OPT_MTU), 8);
}

/* An RA with many prefixes, an RS and a redirect: checksums by the
 * reference, lengths by hand. */
TEST(nd_many)
{
	uint8_t f[2000], o[1500], s[16], d[16], t[16], pfx[16], pkt[100];
	struct tl_ra ra = { 64, TL_RA_MANAGED | TL_RA_OTHER, 0, 30000, 1000 };
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_UDP, 64, s, d };
	struct tl_pkt6 p;
	size_t n, ol = 0, pl;
	unsigned i;

	tl_in6(s, "fe80::1");
	tl_in6(d, "ff02::1");
	for (i = 0; i < 40; i++) {
		tl_in6(pfx, "2001:2::");
		pfx[7] = (uint8_t)i; /* 2001:2:0:<i>::/64 stays inside 2001:2::/48 */
		ol += tl_nd_opt_prefix(o + ol, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 100u + i, 50);
	}
	n = tl_nd_ra(f, s, d, &ra, o, ol);
	CHECK_EQ(n, 16u + 40u * 32u);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, f, n), 0);
	CHECK_EQ(f[4], 64);
	CHECK_EQ(f[5], TL_RA_MANAGED | TL_RA_OTHER);
	CHECK_EQ(tl_get32(f + 8), 30000u);
	CHECK_EQ(tl_get32(f + 16 + 39 * 32 + 4), 139u);

	tl_in6(d, "ff02::2");
	n = tl_nd_rs(f, s, d, o, tl_nd_opt_lla(o, TL_ND_OPT_SLLA, mac_a));
	CHECK_EQ(n, 16u);
	CHECK_EQ(f[0], TL_ND_ROUTER_SOLICIT);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, f, n), 0);

	/* Redirect quoting a 5-byte UDP packet: redirected header padded. */
	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	pl = tl_ip6(pkt, &h, 13);
	pl += tl_udp6(pkt + pl, s, d, 1, 2, 13, "hello", 5);
	tl_in6(t, "fe80::2");
	ol = tl_nd_opt_lla(o, TL_ND_OPT_TLLA, mac_b);
	ol += tl_nd_opt_redirected(o + ol, pkt, pl);
	CHECK_EQ(ol, 8u + 64u); /* 8 + 53 rounded up */
	CHECK_EQ(o[9], 8);
	tl_in6(s, "fe80::1");
	n = tl_nd_redirect(f + 100, s, d, t, d, o, ol);
	CHECK_EQ(n, 40u + ol);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, f + 100, n), 0);
	CHECK_MEM(f + 100 + 8, t, 16);
	CHECK_MEM(f + 100 + 24, d, 16);
	CHECK_MEM(f + 100 + 40 + 16, pkt, pl);
	h.nxt = TL_IPPROTO_ICMPV6;
	n = tl_frame6(f, mac_a, mac_b, &h, NULL, 0, f + 100, n);
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.icmp_type, TL_ND_REDIRECT);
}

TEST(udp_tcp_vectors)
{
	uint8_t f[200], s[16], d[16], o[8];
	struct tl_tcp th = { 40000, 80, 1000, 0, 0x02, 65535, 0, o, 0 };
	struct tl_pkt6 p;
	size_t n;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	n = tl_frame6_udp(f, mac_b, mac_a, s, d, 1234, 7, "hello", 5);
	check_pkt(f, n,
	    "60000000000d1140200100020000000000000000000000012001000200000000000000000000"
	    "000204d20007000d772068656c6c6f");
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.sport, 1234);
	CHECK_EQ(p.dport, 7);
	CHECK_EQ(p.dlen, 5u);

	th.optlen = tl_opt_mss(o, 1440);
	n = tl_frame6_tcp(f, mac_b, mac_a, s, d, 0x28, &th, NULL, 0);
	check_pkt(f, n,
	    "628000000018064020010002000000000000000000000001200100020000000000000000000000"
	    "029c400050000003e8000000006002ffffb7b90000020405a0");
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.tclass, 0x28);
	CHECK_EQ(p.seq, 1000u);
	CHECK_EQ(p.flags, 0x02);
	CHECK_EQ(p.optlen, 4u);
	/* A flipped bit fails the check. */
	f[n - 1] ^= 1;
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(!p.l4sum_ok);
}

/* The UDP checksum that sums to 0 goes out as 0xffff (RFC 8200 8.1). */
TEST(udp_zero_sum)
{
	uint8_t f[100], s[16], d[16], data[2] = { 0, 0 };
	unsigned v;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	/* Find data making the computed sum 0: try every value. */
	for (v = 0; v < 0x10000; v++) {
		tl_put16(data, (uint16_t)v);
		tl_udp6(f, s, d, 9, 9, 10, data, 2);
		if (tl_get16(f + 6) == 0xffff)
			break;
	}
	REQUIRE(v < 0x10000);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_UDP, f, 10), 0);
}

/* Random messages: the builder's sum agrees with the reference. */
TEST(cksum_reference)
{
	uint8_t f[1600], data[1500], s[16], d[16];
	uint64_t x = ust_test_seed * 0x9e3779b97f4a7c15u + 1;
	size_t n, dlen;
	unsigned i, k;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "fe80::1");
	for (i = 0; i < 200; i++) {
		dlen = (size_t)(i * 7 % 1400);
		for (k = 0; k < dlen; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			data[k] = (uint8_t)x;
		}
		s[15] = (uint8_t)i;
		n = tl_icmp6(f, s, d, (uint8_t)x, (uint8_t)(x >> 8), (uint32_t)(x >> 16), data,
		    dlen);
		CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, f, n), 0);
		n = tl_udp6(f, s, d, (uint16_t)x, 53, (uint16_t)(8 + dlen), data, dlen);
		CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_UDP, f, n), 0);
	}
}

/* MLDv2 report behind a hop-by-hop router alert, as a stack sends it. */
TEST(mld2_vector)
{
	uint8_t f[200], s[16], d[16], g[16], ra[2] = { 0, 0 }, opts[8], l4[64];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, 1, s, d };
	struct tl_ext6 hbh = { .type = TL_IPPROTO_HOPOPTS, .data = opts };
	struct tl_mld2_rec rec = { TL_MLD2_TO_EXCLUDE, g, NULL, 0 };
	struct tl_pkt6 p;
	size_t n;

	tl_in6(s, "fe80::ff:fe00:1");
	tl_in6(d, "ff02::16");
	tl_in6(g, "ff02::1:ff34:5678");
	hbh.len = tl_opt6(opts, TL_OPT_ROUTER_ALERT, ra, 2);
	n = tl_mld2_report(l4, s, d, &rec, 1);
	CHECK_EQ(n, 28u);
	n = tl_frame6(f, mac_b, mac_a, &h, &hbh, 1, l4, n);
	check_pkt(f, n,
	    "6000000000240001fe80000000000000000000fffe000001ff020000000000000000000000000016"
	    "3a000502000001008f001b5c0000000104000000ff0200000000000000000001ff345678");
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK_EQ(p.next, 1u);
	CHECK_EQ(p.ext_type[0], TL_IPPROTO_HOPOPTS);
	CHECK_EQ(p.proto, TL_IPPROTO_ICMPV6);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.icmp_type, TL_MLDV2_LISTENER_REPORT);
}

/* Every extension header type in an unusual order, options of each action
 * pattern, and the checksum against the routing header's final
 * destination. */
TEST(ext_chain)
{
	uint8_t f[600], s[16], d[16], fin[16], segs[2][16], last[1][16], opts[64], rh[64], srh[64];
	uint8_t l4[64];
	uint8_t raw[6] = { 1, 2, 3, 4, 5, 6 }, v[3] = { 7, 8, 9 };
	struct tl_ip6 h = { 0xb8, 0xabcde, TL_IPPROTO_UDP, 7, s, d };
	struct tl_ext6 e[6];
	struct tl_pkt6 p;
	size_t ol = 0, n, off;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	tl_in6(fin, "2001:2::99");
	memcpy(segs[0], d, 16);
	memcpy(segs[1], fin, 16);
	ol += tl_opt6(opts + ol, TL_OPT_ACT_SKIP | 0x1e, v, 3);
	ol += tl_opt6(opts + ol, TL_OPT_ACT_DISCARD | 0x1e, v, 0);
	ol += tl_opt6(opts + ol, TL_OPT_ACT_ICMP | 0x1e, v, 1);
	ol += tl_opt6(opts + ol, TL_OPT_ACT_ICMP_UNICAST | TL_OPT_CHANGE | 0x1e, v, 2);
	ol += tl_opt6_pad(opts + ol, 1);
	ol += tl_opt6_pad(opts + ol, 5);
	CHECK_EQ(ol, 5u + 2u + 3u + 4u + 1u + 5u);
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_HOPOPTS;
	e[0].data = opts;
	e[0].len = ol;
	e[1].type = TL_IPPROTO_DSTOPTS;
	e[2].type = TL_IPPROTO_ROUTING;
	e[2].rh_type = 0;
	e[2].segleft = 2;
	e[2].data = rh;
	e[2].len = tl_rh0_data(rh, (const uint8_t(*)[16])segs, 2);
	e[3].type = TL_IPPROTO_ROUTING;
	e[3].rh_type = 4;
	e[3].segleft = 1;
	e[3].data = srh;
	memcpy(last[0], fin, 16);
	e[3].len = tl_srh_data(srh, (const uint8_t(*)[16])last, 1, 0x55);
	e[4].type = TL_IPPROTO_FRAGMENT;
	e[4].id = 0x01020304;
	e[5].type = TL_IPPROTO_DSTOPTS;
	e[5].data = raw;
	e[5].len = 0;
	n = tl_udp6(l4, s, fin, 1, 2, 12, "abcd", 4);
	/* Unfragmented: drop e[4]. */
	memmove(&e[4], &e[5], sizeof(e[5]));
	n = tl_frame6(f, mac_b, mac_a, &h, e, 5, l4, n);
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK_EQ(p.tclass, 0xb8);
	CHECK_EQ(p.flow, 0xabcdeu);
	CHECK_EQ(p.hlim, 7);
	REQUIRE_EQ(p.next, 5u);
	CHECK_EQ(p.ext_type[0], TL_IPPROTO_HOPOPTS);
	CHECK_EQ(p.ext_type[1], TL_IPPROTO_DSTOPTS);
	CHECK_EQ(p.ext_type[2], TL_IPPROTO_ROUTING);
	CHECK_EQ(p.ext_type[3], TL_IPPROTO_ROUTING);
	CHECK_EQ(p.ext_type[4], TL_IPPROTO_DSTOPTS);
	/* HBH: 2 + 20 = 22, padded to 24 (PadN of 2). */
	CHECK_EQ(p.ext_off[1], 40u + 24u);
	CHECK_EQ(p.ip6[40 + 22], TL_OPT_PADN);
	CHECK_EQ(p.ip6[40 + 23], 0);
	CHECK_EQ(p.ip6[40 + 2 + 14], TL_OPT_PAD1);
	/* An empty destination options header is 8 bytes of PadN. */
	CHECK_EQ(p.ext_off[2], 40u + 24u + 8u);
	CHECK_EQ(p.ip6[40 + 24 + 2], TL_OPT_PADN);
	CHECK_EQ(p.ip6[40 + 24 + 3], 4);
	/* RH0: 8 + 32 bytes, hdr ext len 4, the segleft. */
	off = p.ext_off[2];
	CHECK_EQ(p.ip6[off + 1], 4);
	CHECK_EQ(p.ip6[off + 2], 0);
	CHECK_EQ(p.ip6[off + 3], 2);
	/* SRH: last entry 0, tag. */
	off = p.ext_off[3];
	CHECK_EQ(p.ip6[off + 2], 4);
	CHECK_EQ(p.ip6[off + 4], 0);
	CHECK_EQ(tl_get16(p.ip6 + off + 6), 0x55);
	/* The sum was made over fin, the final destination both routing
	 * headers name. */
	CHECK(memcmp(p.fdst, fin, 16) == 0);
	CHECK_EQ(p.proto, TL_IPPROTO_UDP);
	CHECK(p.l4sum_ok);
	CHECK_EQ(p.dlen, 4u);
	/* Segments left 0: the destination is the final one. */
	f[TL_ETHER_HDR + p.ext_off[2] + 3] = 0;
	f[TL_ETHER_HDR + p.ext_off[3] + 3] = 0;
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(p.fdst == p.dst);
	CHECK(!p.l4sum_ok);
}

/* The parser's bounds: truncation anywhere fails cleanly. */
TEST(parse_truncated)
{
	uint8_t f[300], s[16], d[16], opts[8] = { 0 };
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_TCP, 64, s, d };
	struct tl_ext6 e = { .type = TL_IPPROTO_DSTOPTS, .data = opts, .len = 0 };
	struct tl_tcp th = { 1, 2, 3, 4, 0x10, 100, 0, NULL, 0 };
	struct tl_pkt6 p;
	size_t n, off, cut;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	off = tl_frame6_hdrs(f, mac_b, mac_a, &h, &e, 1, 20);
	n = off + tl_tcp6(f + off, s, d, &th, NULL, 0);
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK(p.l4sum_ok);
	for (cut = 0; cut < n; cut++)
		CHECK_EQ(tl_parse6(f, cut, &p), -1);
	/* A payload length that claims less than the headers. */
	tl_put16(f + TL_ETHER_HDR + 4, 10);
	CHECK_EQ(tl_parse6(f, n, &p), -1);
	/* No next header: l4 NULL. */
	tl_put16(f + TL_ETHER_HDR + 4, 8);
	f[TL_ETHER_HDR + 40] = TL_IPPROTO_NONE;
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK_EQ(p.proto, TL_IPPROTO_NONE);
	CHECK(p.l4 == NULL);
	/* Not version 6. */
	f[TL_ETHER_HDR] = 0x45;
	CHECK_EQ(tl_parse6(f, n, &p), -1);
}

/* Fragments: pieces at given offsets (tiny, overlapping, out of order)
 * carry the unfragmentable part and put the bytes back where they were. */
TEST(fragments)
{
	uint8_t pkt[1400], f[1600], back[1400], s[16], d[16], data[1000], opts[8];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, 64, s, d };
	struct tl_ext6 e = { .type = TL_IPPROTO_HOPOPTS, .data = opts, .len = 0 };
	static const uint32_t offs[][2] = { { 0, 8 }, { 8, 16 }, { 16, 1000 }, { 504, 16 },
		{ 24, 500 } };
	struct tl_pkt6 p;
	size_t n, plen, unfrag, fl, fr;
	unsigned i;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	/* The whole packet, built in f then taken without Ethernet. */
	n = tl_frame6_hdrs(f, mac_b, mac_a, &h, &e, 1, 8 + sizeof(data));
	n += tl_icmp6_echo(f + n, s, d, 0, 7, 9, data, sizeof(data));
	plen = n - TL_ETHER_HDR;
	memcpy(pkt, f + TL_ETHER_HDR, plen);
	unfrag = tl_frag6_unfrag(pkt, plen);
	CHECK_EQ(unfrag, 48u);
	fl = plen - unfrag;
	memset(back, 0xee, sizeof(back));
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		n = tl_frag6(f, mac_b, mac_a, pkt, plen, unfrag, 0xcafe, offs[i][0], offs[i][1],
		    offs[i][0] + offs[i][1] < fl);
		REQUIRE(n > 0);
		REQUIRE_EQ(tl_parse6(f, n, &p), 0);
		CHECK_EQ(p.next, 2u);
		CHECK_EQ(p.ext_type[0], TL_IPPROTO_HOPOPTS);
		CHECK_EQ(p.ext_type[1], TL_IPPROTO_FRAGMENT);
		CHECK(p.frag);
		CHECK_EQ(p.frag_id, 0xcafeu);
		CHECK_EQ(p.frag_off, offs[i][0]);
		CHECK_EQ(p.proto, TL_IPPROTO_ICMPV6);
		fr = offs[i][0] + offs[i][1] > fl ? fl - offs[i][0] : offs[i][1];
		CHECK_EQ(p.frag_more, offs[i][0] + offs[i][1] < fl);
		CHECK_EQ(p.plen, 8u + 8u + fr);
		CHECK((offs[i][0] == 0) == (p.l4 != NULL));
		memcpy(back + offs[i][0], p.ip6 + 56, fr);
	}
	CHECK_MEM(back, pkt + unfrag, fl);
	/* The first fragment's ICMPv6 header is readable, its sum not
	 * checked. */
	n = tl_frag6(f, mac_b, mac_a, pkt, plen, unfrag, 1, 0, 8, 1);
	REQUIRE_EQ(tl_parse6(f, n, &p), 0);
	CHECK_EQ(p.icmp_type, TL_ICMP6_ECHO_REQUEST);
	CHECK(!p.l4sum_ok);
	/* No unfragmentable headers: the fragment header follows the IPv6
	 * header, whose next header becomes 44. */
	n = tl_frame6_udp(f, mac_b, mac_a, s, d, 1, 2, data, 100);
	plen = n - TL_ETHER_HDR;
	memcpy(pkt, f + TL_ETHER_HDR, plen);
	CHECK_EQ(tl_frag6_unfrag(pkt, plen), 40u);
	n = tl_frag6(f, mac_b, mac_a, pkt, plen, 40, 2, 0, 8, 1);
	CHECK_EQ(n, 14u + 40u + 8u + 8u);
	CHECK_EQ(f[TL_ETHER_HDR + 6], TL_IPPROTO_FRAGMENT);
	CHECK_EQ(f[TL_ETHER_HDR + 40], TL_IPPROTO_UDP);
	/* An unfrag inside a header is refused. */
	CHECK_EQ(tl_frag6(f, mac_b, mac_a, pkt, plen, 44, 2, 0, 8, 1), 0u);
}

/* RFC 8200 4.5: destination options before a routing header are
 * unfragmentable, those after it are not. */
TEST(frag_unfrag_rule)
{
	uint8_t f[400], s[16], d[16], rh[40], seg[1][16];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_NONE, 64, s, d };
	struct tl_ext6 e[4];
	size_t n;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	memcpy(seg[0], d, 16);
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_HOPOPTS;
	e[1].type = TL_IPPROTO_DSTOPTS;
	e[2].type = TL_IPPROTO_ROUTING;
	e[2].rh_type = 4;
	e[2].data = rh;
	e[2].len = tl_srh_data(rh, (const uint8_t(*)[16])seg, 1, 0);
	e[3].type = TL_IPPROTO_DSTOPTS;
	n = tl_frame6(f, mac_b, mac_a, &h, e, 4, NULL, 0);
	CHECK_EQ(tl_frag6_unfrag(f + TL_ETHER_HDR, n - TL_ETHER_HDR), 40u + 8u + 8u + 24u);
	n = tl_frame6(f, mac_b, mac_a, &h, e + 1, 1, NULL, 0);
	CHECK_EQ(tl_frag6_unfrag(f + TL_ETHER_HDR, n - TL_ETHER_HDR), 40u);
}

/* Errors quote at most what keeps the error within 1280 bytes. */
TEST(icmp6_error_quote)
{
	uint8_t pkt[1500], m[1500], s[16], d[16];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_UDP, 64, d, s };
	size_t n;

	tl_in6(s, "2001:2::1");
	tl_in6(d, "2001:2::2");
	memset(pkt, 0x5a, sizeof(pkt));
	tl_ip6(pkt, &h, 1460);
	n = tl_icmp6_error(m, s, d, TL_ICMP6_PACKET_TOO_BIG, 0, 1280, pkt, 1500);
	CHECK_EQ(n, 1240u);
	CHECK_EQ(tl_get32(m + 4), 1280u);
	CHECK_MEM(m + 8, pkt, 1232);
	CHECK_EQ(ref_cksum6(s, d, TL_IPPROTO_ICMPV6, m, n), 0);
	n = tl_icmp6_error(m, s, d, TL_ICMP6_PARAM_PROB, 1, 40, pkt, 48);
	CHECK_EQ(n, 56u);
	CHECK_EQ(m[1], 1);
	CHECK_EQ(tl_get32(m + 4), 40u);
}
