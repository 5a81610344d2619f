/*
 * test_icmp6.c - ICMPv6 (RFC 4443) between two stacks over the pipe: the
 * rules of 2.4(e) on what never gets an error, the rate limit
 * (net.inet6.icmp6.errppslimit), Packet Too Big lowering the path MTU
 * (RFC 8201, never below 1280) only for a quote of our own packet, bad
 * codes and lengths, ND messages with a hop limit other than 255, the
 * router alert option on output, and flow labels (RFC 6437).
 */
#include "ip6test.h"

#if UST_INET6
/* The cases read the counters. */
#if UST_STATS
/* An unknown next header (253) from a to dst: b answers with a
 * parameter problem unless a rule says no. */
static void
send_unknown(struct tl_pair *pr, const struct in6_addr *dst, const uint8_t *edst)
{
	uint8_t f[128], pl[8] = { 0 }, maca[6];

	ust_if_get_mac(pr->ifa, maca);
	REQUIRE_EQ(ust_if_output_frame(pr->ifa, f, frame6(f, edst, maca, &A6, dst, 253, 64, pl, 8)),
	    0);
}

TEST(icmp6_error_rules_and_rate_limit)
{
	static const uint8_t allnodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct ust_icmp6stat ib;
	struct tl_pair pr;
	uint8_t macb[6], f[256], pl[128], maca[6];
	struct icmp6_hdr ic;
	unsigned i;
	size_t n;

	pair6(&pr);
	ust_if_get_mac(pr.ifb, macb);
	ust_if_get_mac(pr.ifa, maca);
	/* To a group: no error (2.4(e.3)). */
	send_unknown(&pr, &ALLNODES, allnodes_mac);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_error, 1);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_PARAM_PROB], 0);
	/* About an ICMPv6 error, none either (2.4(e.1)): a destination
	 * unreachable behind a destination option whose type (0xbe) asks
	 * for a parameter problem. */
	memset(pl, 0, sizeof(pl));
	pl[0] = IPPROTO_ICMPV6;
	pl[2] = 0xbe;
	pl[8] = ICMP6_DST_UNREACH;
	n = frame6(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, 64, pl, 8 + 8 + 48);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_canterror, 1);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_PARAM_PROB], 0);
	/* errppslimit 3: the fourth in a second is not sent. */
	REQUIRE_EQ(ust_sysctl_set(pr.b, "net.inet6.icmp6.errppslimit", 3), 0);
	for (i = 0; i < 5; i++)
		send_unknown(&pr, &B6, macb);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_PARAM_PROB], 3);
	CHECK_EQ(ib.icp6s_toofreq, 2);
	tl_pair_run(&pr, 1 * SEC);
	send_unknown(&pr, &B6, macb);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_PARAM_PROB], 4);
	REQUIRE(capa.n >= 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[capa.n - 1] + 54, capa.len[capa.n - 1] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_type, ICMP6_PARAM_PROB);
	lt_pair_fini(&pr);
}

/* A Packet Too Big from b's side to a quoting a packet from qsrc to B6. */
static void
send_ptb(struct tl_pair *pr, const struct in6_addr *qsrc, uint32_t mtu)
{
	uint8_t f[256], pl[128], maca[6], macb[6];
	struct icmp6_hdr ic = { ICMP6_PACKET_TOO_BIG, 0, 0, mtu };
	struct ip6_hdr q;
	uint16_t sum;

	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	memset(&q, 0, sizeof(q));
	q.ip6_v = 6;
	q.ip6_plen = 1452;
	q.ip6_nxt = IPPROTO_UDP;
	q.ip6_hlim = 64;
	q.ip6_src = *qsrc;
	q.ip6_dst = B6;
	icmp6_hdr_write(pl, &ic);
	ip6_hdr_write(pl + 8, &q);
	memset(pl + 48, 0x11, 8);
	sum = in_cksum_buf(pl, 56, in6_cksum_pseudo(&B6, &A6, 56, IPPROTO_ICMPV6));
	pl[2] = (uint8_t)(sum >> 8);
	pl[3] = (uint8_t)sum;
	REQUIRE_EQ(ust_if_output_frame(pr->ifb, f, frame6(f, maca, macb, &B6, &A6, 58, 64, pl, 56)),
	    0);
}

TEST(icmp6_packet_too_big_sets_the_path_mtu)
{
	static const struct in6_addr notours = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0x44 } };
	struct ust_route6_info ri;
	struct tl_pair pr;

	pair6(&pr);
	/* A quote of somebody else's packet changes nothing. */
	send_ptb(&pr, &notours, 1300);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 0);
	send_ptb(&pr, &A6, 1300);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 1300);
	REQUIRE_EQ(ust_route6_lookup(pr.a, &B6, 0, &ri), 0);
	CHECK_EQ(ri.mtu, 1300);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_inhist[ICMP6_PACKET_TOO_BIG], 2);
	/* Below 1280: discarded, counted (RFC 8201 4: "it must discard it"). */
	send_ptb(&pr, &A6, 500);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 1300);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_ptbsmall, 1);
	/* Output follows it: 1400 bytes of payload leave in two fragments. */
	{
		static uint8_t body[1400];

		capb.n = 0;
		REQUIRE_EQ(send6(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &A6, &B6, 0, 253), 0);
		tl_pair_run(&pr, 10 * MS);
		CHECK_EQ(capb.n, 2);
		CHECK(capb.len[0] <= 14 + 1300);
	}
	/* It expires (net.inet6.ip6.pmtu_expire, 600 s). */
	tl_pair_run(&pr, 601 * SEC);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 0);
	lt_pair_fini(&pr);
}

TEST(icmp6_input_checks)
{
	struct ust_icmp6stat ib;
	struct tl_pair pr;
	uint8_t macb[6], maca[6], f[256], pl[64];
	uint16_t sum;
	size_t n;

	pair6(&pr);
	ust_if_get_mac(pr.ifb, macb);
	ust_if_get_mac(pr.ifa, maca);
	/* A neighbour solicitation with hop limit 64: not from the link. */
	memset(pl, 0, sizeof(pl));
	pl[0] = ND_NEIGHBOR_SOLICIT;
	memcpy(pl + 8, B6.s6_addr8, 16);
	sum = in_cksum_buf(pl, 24, in6_cksum_pseudo(&A6, &B6, 24, IPPROTO_ICMPV6));
	pl[2] = (uint8_t)(sum >> 8);
	pl[3] = (uint8_t)sum;
	n = frame6(f, macb, maca, &A6, &B6, IPPROTO_ICMPV6, 64, pl, 24);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* An echo request with code 1. */
	memset(pl, 0, sizeof(pl));
	pl[0] = ICMP6_ECHO_REQUEST;
	pl[1] = 1;
	sum = in_cksum_buf(pl, 8, in6_cksum_pseudo(&A6, &B6, 8, IPPROTO_ICMPV6));
	pl[2] = (uint8_t)(sum >> 8);
	pl[3] = (uint8_t)sum;
	n = frame6(f, macb, maca, &A6, &B6, IPPROTO_ICMPV6, 64, pl, 8);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* Four bytes of ICMPv6. */
	n = frame6(f, macb, maca, &A6, &B6, IPPROTO_ICMPV6, 64, pl, 4);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_invlhlim, 1);
	CHECK_EQ(ib.icp6s_badcode, 1);
	CHECK_EQ(ib.icp6s_tooshort, 1);
	CHECK_EQ(ib.icp6s_reflect, 0);
	lt_pair_fini(&pr);
}

TEST(ip6_output_router_alert_and_flow_labels)
{
	struct ip6_out_args a;
	struct tl_pair pr;
	struct ip6_hdr h;
	uint8_t body[8] = { 0x12, 0x34, 0x56, 0x78 }, l4[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint32_t fl;

	pair6(&pr);
	memset(&a, 0, sizeof(a));
	a.src = A6;
	a.dst = B6;
	a.nxt = IPPROTO_NONE;
	a.flags = IPV6_RA;
	REQUIRE_EQ(ip6_output(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &a), 0);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capb.n, 1);
	REQUIRE_EQ(ip6_hdr_parse(capb.f[0] + 14, capb.len[0] - 14, &h), 0);
	CHECK_EQ(h.ip6_nxt, IPPROTO_HOPOPTS);
	CHECK_EQ(h.ip6_plen, 16);
	CHECK_EQ(capb.f[0][54], IPPROTO_NONE);
	CHECK_EQ(capb.f[0][56], IP6OPT_ROUTER_ALERT);
	CHECK_EQ(pr.b->st_ip6stat.ip6s_badoptions, 0);
	/* Flow labels: one per flow, never 0; the caller's when given,
	 * none when asked. */
	fl = ip6_flowlabel(pr.a, &A6, &B6, IPPROTO_UDP, l4, 4);
	CHECK(fl != 0 && fl <= IPV6_FLOWLABEL_MASK);
	CHECK_EQ(ip6_flowlabel(pr.a, &A6, &B6, IPPROTO_UDP, l4, 4), fl);
	l4[3] ^= 1;
	CHECK(ip6_flowlabel(pr.a, &A6, &B6, IPPROTO_UDP, l4, 4) != fl);
	a.flags = 0;
	a.flowlabel = 0xabcde;
	REQUIRE_EQ(ip6_output(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &a), 0);
	a.flowlabel = 0;
	a.flags = IPV6_NOFLOWLABEL;
	REQUIRE_EQ(ip6_output(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &a), 0);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capb.n, 3);
	REQUIRE_EQ(ip6_hdr_parse(capb.f[1] + 14, capb.len[1] - 14, &h), 0);
	CHECK_EQ(h.ip6_flow, 0xabcde);
	REQUIRE_EQ(ip6_hdr_parse(capb.f[2] + 14, capb.len[2] - 14, &h), 0);
	CHECK_EQ(h.ip6_flow, 0);
	lt_pair_fini(&pr);
}
#endif /* UST_STATS */
#endif /* UST_INET6 */
