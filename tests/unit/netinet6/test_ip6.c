/*
 * test_ip6.c - the IPv6 datapath between two stacks over the pipe
 * (static neighbours, 2001:2::/64 and link-local): ICMPv6 echo both ways
 * (global, link-local with its zone, all-nodes), the counters it moves,
 * unknown next headers and options answered with parameter problems,
 * input drops by reason, fragmentation on output, and the address,
 * route, neighbour and path MTU calls.
 */
#include "ip6test.h"

#if UST_INET6
/* The cases read the counters. */
#if UST_STATS
TEST(ip6_echo_over_pipe_with_static_neighbours)
{
	struct ust_icmp6stat ia, ib;
	struct ust_ip6stat pa, pb;
	struct tl_pair pr;
	struct ip6_hdr h;
	struct icmp6_hdr ic;
	uint8_t maca[6], macb[6];
	const uint8_t *f;

	pair6(&pr);
	ust_if_get_mac(pr.ifa, maca);
	ust_if_get_mac(pr.ifb, macb);
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &B6, 0x1234, 1, 56), &A6, &B6, 0,
	               IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.a, &pa);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.a, &ia);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_total, 1);
	CHECK_EQ(pb.ip6s_delivered, 1);
	CHECK_EQ(pb.ip6s_nxthist[IPPROTO_ICMPV6], 1);
	CHECK_EQ(ib.icp6s_inhist[ICMP6_ECHO_REQUEST], 1);
	CHECK_EQ(ib.icp6s_reflect, 1);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_ECHO_REPLY], 1);
	/* (MLD reports of the solicited-node group aside) */
	CHECK_EQ(pb.ip6s_localout - ib.icp6s_outhist[MLDV2_LISTENER_REPORT], 1);
	CHECK_EQ(pa.ip6s_localout - ia.icp6s_outhist[MLDV2_LISTENER_REPORT], 1);
	CHECK_EQ(pa.ip6s_delivered, 1);
	CHECK_EQ(ia.icp6s_inhist[ICMP6_ECHO_REPLY], 1);
	CHECK_EQ(ia.icp6s_checksum + ib.icp6s_checksum, 0);
	/* The reply on the wire: B to A, hop limit 64, the request's id,
	 * sequence and data, a good checksum. */
	REQUIRE_EQ(capa.n, 1);
	f = capa.f[0];
	CHECK_EQ(capa.len[0], 14 + 40 + 8 + 56);
	CHECK_MEM(f, maca, 6);
	CHECK_MEM(f + 6, macb, 6);
	CHECK_EQ(f[12], 0x86);
	CHECK_EQ(f[13], 0xdd);
	REQUIRE_EQ(ip6_hdr_parse(f + 14, capa.len[0] - 14, &h), 0);
	CHECK_EQ(h.ip6_v, 6);
	CHECK_EQ(h.ip6_hlim, 64);
	CHECK_EQ(h.ip6_nxt, IPPROTO_ICMPV6);
	CHECK_EQ(h.ip6_plen, 64);
	CHECK(h.ip6_flow != 0); /* RFC 6437: a per-flow label */
	CHECK(in6_are_addr_equal(&h.ip6_src, &B6));
	CHECK(in6_are_addr_equal(&h.ip6_dst, &A6));
	REQUIRE_EQ(icmp6_hdr_parse(f + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_type, ICMP6_ECHO_REPLY);
	CHECK_EQ(ic.icmp6_code, 0);
	CHECK_EQ(ic.icmp6_data, 0x12340001u);
	CHECK_EQ(f[62], 1);
	CHECK_EQ(f[62 + 55], (uint8_t)(55 * 7 + 1));
	CHECK(frame_icmp6_ok(f, capa.len[0]));
	CHECK(frame_icmp6_ok(capb.f[0], capb.len[0]));

	/* Link-local: the zone (a's interface index) picks the link; the
	 * source is a's link-local address. */
	capa.n = capb.n = 0;
	CHECK_EQ(send6(pr.a, echo_req(pr.a, &LLA, &LLB, 7, 2, 8), &LLA, &LLB, 0, IPPROTO_ICMPV6),
	    0); /* the zone: the one of the scoped source */
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(ip6_hdr_parse(capa.f[0] + 14, capa.len[0] - 14, &h), 0);
	CHECK(in6_are_addr_equal(&h.ip6_src, &LLB));
	CHECK(in6_are_addr_equal(&h.ip6_dst, &LLA));
	CHECK_EQ(capa.f[0][54], ICMP6_ECHO_REPLY);

	/* All-nodes: b answers from its link-local address, to a's. */
	capa.n = capb.n = 0;
	CHECK_EQ(send6(pr.a, echo_req(pr.a, &LLA, &ALLNODES, 7, 3, 8), &LLA, &ALLNODES,
	             ust_if_index(pr.ifa), IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capb.n, 1);
	CHECK_EQ(capb.f[0][0], 0x33);
	CHECK_EQ(capb.f[0][5], 0x01);
	REQUIRE(ip6_hdr_parse(capb.f[0] + 14, capb.len[0] - 14, &h) == 0);
	CHECK_EQ(h.ip6_hlim, 1); /* multicast: one hop by default */
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(ip6_hdr_parse(capa.f[0] + 14, capa.len[0] - 14, &h), 0);
	CHECK(in6_are_addr_equal(&h.ip6_src, &LLB));
	CHECK_EQ(capa.f[0][54], ICMP6_ECHO_REPLY);
	/* A scoped destination without a zone is refused. */
	CHECK_EQ(send6(pr.a, echo_req(pr.a, &A6, &ALLNODES, 7, 4, 8), &A6, &ALLNODES, 0,
	             IPPROTO_ICMPV6),
	    UST_EINVAL);
	lt_pair_fini(&pr);
}

TEST(ip6_unknown_next_header_gets_a_parameter_problem)
{
	struct ust_icmp6stat ia, ib;
	struct ust_ip6stat pb;
	struct tl_pair pr;
	uint8_t body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct icmp6_hdr ic;

	pair6(&pr);
	REQUIRE_EQ(send6(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &A6, &B6, 0, 253), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.a, &ia);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_noproto, 1);
	CHECK_EQ(pb.ip6s_delivered, 0);
	CHECK_EQ(ib.icp6s_error, 1);
	CHECK_EQ(ib.icp6s_oparamprob_nextheader, 1);
	CHECK_EQ(ib.icp6s_outhist[ICMP6_PARAM_PROB], 1);
	CHECK_EQ(ia.icp6s_inhist[ICMP6_PARAM_PROB], 1);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[0] + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_code, ICMP6_PARAMPROB_NEXTHEADER);
	CHECK_EQ(ic.icmp6_data, 6); /* the IPv6 header's next header field */
	/* The quote: our packet, header first. */
	CHECK_EQ(capa.len[0], 14 + 40 + 8 + 40 + 8);
	CHECK_EQ(capa.f[0][62 + 6], 253);
	CHECK(frame_icmp6_ok(capa.f[0], capa.len[0]));
	lt_pair_fini(&pr);
}

TEST(ip6_input_drops_count_their_reason)
{
	static const struct in6_addr other = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x99 } };
	static const struct in6_addr grp = { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12,
	    0x34 } };
	static const uint8_t gmac[6] = { 0x33, 0x33, 0, 0, 0x12, 0x34 };
	struct ust_icmp6stat ib;
	struct ust_ip6stat pb;
	struct tl_pair pr;
	uint8_t maca[6], macb[6], f[600], ext[256];
	size_t n;
	unsigned i;

	pair6(&pr);
	ust_if_get_mac(pr.ifa, maca);
	ust_if_get_mac(pr.ifb, macb);
	/* A good one first: delivered. */
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_ICMPV6, NULL, 0);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* Version 4 in an IPv6 frame. */
	f[14] = 0x45;
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	f[14] = 0x60;
	/* Payload length beyond the frame. */
	f[19] = (uint8_t)(f[19] + 100);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* Shorter than a header. */
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, 14 + 30), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	CHECK_EQ(pb.ip6s_delivered, 1);
	CHECK_EQ(pb.ip6s_badvers, 1);
	CHECK_EQ(pb.ip6s_tooshort, 1);
	CHECK_EQ(pb.ip6s_toosmall, 1);
	/* Addresses: a multicast source, not ours, a group not joined, our
	 * own address as the source. */
	n = frame6_echo(f, macb, maca, &ALLNODES, &B6, IPPROTO_ICMPV6, NULL, 0);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	n = frame6_echo(f, macb, maca, &A6, &other, IPPROTO_ICMPV6, NULL, 0);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	REQUIRE_EQ(if_addmulti(IFP_FROM_UST(pr.ifb), gmac), 0);
	n = frame6_echo(f, gmac, maca, &A6, &grp, IPPROTO_ICMPV6, NULL, 0);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	n = frame6_echo(f, macb, maca, &B6, &B6, IPPROTO_ICMPV6, NULL, 0);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* A bad ICMPv6 checksum. */
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_ICMPV6, NULL, 0);
	f[n - 1] ^= 1;
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_badscope, 1);
	CHECK_EQ(pb.ip6s_cantforward, 1);
	CHECK_EQ(pb.ip6s_notmember, 1);
	CHECK_EQ(pb.ip6s_badaddr, 1);
	CHECK_EQ(ib.icp6s_checksum, 1);
	CHECK_EQ(ib.icp6s_reflect, 1);

	/* Extension headers.  A destination options header with PadN only:
	 * passes. */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_ICMPV6;
	ext[1] = 0;
	ext[2] = IP6OPT_PADN;
	ext[3] = 4;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 8);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* Unknown option 0x3e (skip): passes. */
	ext[2] = 0x3e;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 8);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* 0x7e (discard): silently dropped. */
	ext[2] = 0x7e;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 8);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* 0xbe (discard, parameter problem): dropped and answered. */
	ext[2] = 0xbe;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 8);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* A hop-by-hop header after a destination options header. */
	ext[0] = IPPROTO_HOPOPTS;
	ext[2] = IP6OPT_PADN;
	ext[8] = IPPROTO_ICMPV6;
	ext[10] = IP6OPT_PADN;
	ext[11] = 4;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 16);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_reflect, 3);
	CHECK_EQ(pb.ip6s_badoptions, 2);
	CHECK_EQ(ib.icp6s_oparamprob_option, 1);
	CHECK_EQ(pb.ip6s_hbhnotfirst, 1);
	CHECK_EQ(ib.icp6s_oparamprob_nextheader, 1);

	/* RFC 5095: a type 0 routing header with segments left is refused
	 * (parameter problem at its type); with none it is ignored. */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_ICMPV6;
	ext[1] = 2;
	ext[2] = IPV6_RTHDR_TYPE_0;
	ext[3] = 1;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_ROUTING, ext, 24);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	ext[3] = 0;
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_ROUTING, ext, 24);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	/* More headers than net.inet6.ip6.hdrnestlimit (15). */
	for (i = 0; i < 16; i++) {
		ext[i * 8] = i == 15 ? IPPROTO_ICMPV6 : IPPROTO_DSTOPTS;
		ext[i * 8 + 1] = 0;
		ext[i * 8 + 2] = IP6OPT_PADN;
		ext[i * 8 + 3] = 4;
		memset(ext + i * 8 + 4, 0, 4);
	}
	n = frame6_echo(f, macb, maca, &A6, &B6, IPPROTO_DSTOPTS, ext, 128);
	REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_rh0, 2);
	CHECK_EQ(ib.icp6s_oparamprob_header, 1);
	CHECK_EQ(ib.icp6s_reflect, 4);
	CHECK_EQ(pb.ip6s_toomanyhdr, 1);
	lt_pair_fini(&pr);
}

TEST(ip6_output_fragments_to_the_path_mtu)
{
	struct ust_ip6stat pa;
	struct tl_pair pr;
	struct ip6_frag fh;
	struct ip6_hdr h;
	static uint8_t body[3000];
	struct mbuf *m;
	unsigned i;
	uint32_t total = 0;

	pair6(&pr);
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)i;
	m = lt_mbuf(pr.a, body, sizeof(body), 1);
	REQUIRE(m != NULL);
	REQUIRE_EQ(send6(pr.a, m, &A6, &B6, 0, 253), 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.a, &pa);
	CHECK_EQ(pa.ip6s_fragmented, 1);
	CHECK_EQ(pa.ip6s_ofragments, 3);
	REQUIRE_EQ(capb.n, 3);
	for (i = 0; i < 3; i++) {
		CHECK(capb.len[i] <= 14 + 1500);
		REQUIRE_EQ(ip6_hdr_parse(capb.f[i] + 14, capb.len[i] - 14, &h), 0);
		CHECK_EQ(h.ip6_nxt, IPPROTO_FRAGMENT);
		REQUIRE_EQ(ip6_frag_parse(capb.f[i] + 54, 8, &fh), 0);
		CHECK_EQ(fh.ip6f_nxt, 253);
		CHECK_EQ(fh.ip6f_offlg & IP6F_OFF_MASK, total);
		CHECK_EQ(fh.ip6f_offlg & IP6F_MORE_FRAG, i < 2 ? 1 : 0);
		CHECK_EQ(h.ip6_plen, capb.len[i] - 54);
		CHECK_EQ(capb.f[i][62], (uint8_t)total);
		if (i < 2)
			CHECK_EQ((h.ip6_plen - 8) % 8, 0);
		total += h.ip6_plen - 8;
	}
	CHECK_EQ(total, sizeof(body));
	/* IPV6_DONTFRAG refuses instead. */
	{
		struct ip6_out_args a;

		memset(&a, 0, sizeof(a));
		a.src = A6;
		a.dst = B6;
		a.nxt = 253;
		a.flags = IPV6_DONTFRAG;
		CHECK_EQ(ip6_output(pr.a, lt_mbuf(pr.a, body, sizeof(body), 1), &a), UST_EMSGSIZE);
	}
	lt_pair_fini(&pr);
}

TEST(addr6_route6_nd6_calls)
{
	static const struct in6_addr net1 = { { 0x20, 0x01, 0, 2, 0, 1 } };
	static const struct in6_addr gw = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xfe } };
	static const struct in6_addr in_net1 = { { 0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 5 } };
	static const struct in6_addr far = { { 0x20, 0x01, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    5 } };
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	static const uint8_t gmac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct ust_route6_info ri;
	struct ust_nd6_entry ne;
	struct in6_addr a, sol;
	unsigned plen, flags;
	struct tl_pair pr;
	struct nhop6 nh;

	pair6(&pr);
	/* Addresses: in order, flags, no duplicates or groups. */
	REQUIRE_EQ(ust_if_addr6_get(pr.ifa, 0, &a, &plen, &flags), 0);
	CHECK(in6_are_addr_equal(&a, &A6));
	CHECK_EQ(plen, 64);
	CHECK_EQ(flags, UST_IN6_IFF_NODAD);
	CHECK_EQ(ust_if_addr6_get(pr.ifa, 2, &a, &plen, &flags), -UST_ENOENT);
	CHECK_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), -UST_EEXIST);
	CHECK_EQ(ust_if_addr6_add(pr.ifa, &ALLNODES, 64, 0), -UST_EINVAL);
	CHECK_EQ(ust_if_addr6_add(pr.ifa, &in6addr_any, 64, 0), -UST_EINVAL);
	CHECK_EQ(ust_if_addr6_add(pr.ifa, &in_net1, 129, 0), -UST_EINVAL);
	CHECK_EQ(ust_if_addr6_add(pr.ifa, &in_net1, 64, 0x8000), -UST_EINVAL);
	/* Each address's solicited-node group is joined. */
	in6_solicited_node(&A6, &sol);
	CHECK(in6_mcast_member(IFP_FROM_UST(pr.ifa), &sol));
	CHECK(in6_mcast_member(IFP_FROM_UST(pr.ifa), &ALLNODES));
	/* The connected route of 2001:2::/64 (none for fe80::/64). */
	REQUIRE_EQ(ust_route6_get(pr.a, 0, &ri), 0);
	CHECK_EQ(ri.prefixlen, 64);
	CHECK_EQ(ri.ifindex, ust_if_index(pr.ifa));
	CHECK_EQ(ust_route6_get(pr.a, 1, &ri), -UST_ENOENT);
	/* Static routes: via an on-link gateway, the default route; the
	 * longest prefix wins. */
	CHECK_EQ(ust_route6_add(pr.a, &net1, 64, &gw, NULL), 0);
	CHECK_EQ(ust_route6_add(pr.a, &net1, 64, &gw, NULL), -UST_EEXIST);
	CHECK_EQ(ust_route6_add(pr.a, &in6addr_any, 0, &B6, pr.ifa), 0);
	CHECK_EQ(ust_route6_add(pr.a, &in6addr_any, 0, &LLB, pr.ifa), -UST_EEXIST);
	CHECK_EQ(ust_route6_add(pr.a, &net1, 48, &far, NULL), -UST_ENETUNREACH);
	CHECK_EQ(ust_route6_add(pr.a, &net1, 48, &LLB, NULL), -UST_EINVAL);
	REQUIRE_EQ(ust_route6_lookup(pr.a, &in_net1, 0, &ri), 0);
	CHECK(in6_are_addr_equal(&ri.gateway, &gw));
	CHECK_EQ(ri.flags & (UST_RTF_GATEWAY | UST_RTF_STATIC), UST_RTF_GATEWAY | UST_RTF_STATIC);
	CHECK_EQ(ri.mtu, 1500);
	REQUIRE_EQ(ust_route6_lookup(pr.a, &far, 0, &ri), 0);
	CHECK(in6_are_addr_equal(&ri.gateway, &B6));
	CHECK_EQ(ri.prefixlen, 0);
	/* Link-local: by zone, never by table. */
	CHECK_EQ(ust_route6_lookup(pr.a, &LLB, 0, &ri), -UST_EINVAL);
	REQUIRE_EQ(ust_route6_lookup(pr.a, &LLB, ust_if_index(pr.ifa), &ri), 0);
	CHECK_EQ(ri.ifindex, ust_if_index(pr.ifa));
	CHECK_EQ(ust_route6_lookup(pr.a, &LLB, 77, &ri), -UST_ENETUNREACH);
	CHECK_EQ(ust_route6_del(pr.a, &in6addr_any, 0), 0);
	CHECK_EQ(ust_route6_del(pr.a, &in6addr_any, 0), -UST_ENOENT);
	CHECK_EQ(ust_route6_lookup(pr.a, &far, 0, &ri), -UST_ENETUNREACH);
	/* Path MTU (RFC 8201): lowered, a report below 1280 discarded
	 * (counted), never raised; it shows in the route's next hop. */
	pmtu6_update(pr.a, &B6, 1400);
	REQUIRE_EQ(rt6_lookup(pr.a, &B6, 0, &nh), 0);
	CHECK_EQ(nh.nh_mtu, 1400);
	pmtu6_update(pr.a, &B6, 1450);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 1400);
	pmtu6_update(pr.a, &B6, 600);
	CHECK_EQ(pmtu6_lookup(pr.a, &B6), 1400);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_ptbsmall, 1);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_pmtuchg, 1);
	/* Neighbours: static entries, lookups by zone, the list. */
	REQUIRE_EQ(ust_nd6_lookup(pr.a, &B6, 0, &ne), 0);
	CHECK_EQ(ne.state, UST_ND6_REACHABLE);
	CHECK_EQ(ne.flags, UST_ND6_STATIC);
	CHECK_EQ(ne.expire_ns, 0);
	CHECK_EQ(ust_nd6_lookup(pr.a, &LLB, ust_if_index(pr.ifa) + 5, &ne), -UST_ENOENT);
	CHECK_EQ(ust_nd6_add_static(pr.ifa, &ALLNODES, mac), -UST_EINVAL);
	CHECK_EQ(ust_nd6_add_static(pr.ifa, &gw, gmac), -UST_EINVAL);
	CHECK_EQ(ust_nd6_add_static(pr.ifa, &gw, mac), 0);
	REQUIRE_EQ(ust_nd6_get(pr.a, 2, &ne), 0);
	CHECK(in6_are_addr_equal(&ne.addr, &gw));
	CHECK_MEM(ne.mac, mac, 6);
	CHECK_EQ(ne.ifindex, ust_if_index(pr.ifa));
	CHECK_EQ(ust_nd6_get(pr.a, 3, &ne), -UST_ENOENT);
	CHECK_EQ(ust_nd6_del(pr.ifa, &gw), 0);
	CHECK_EQ(ust_nd6_del(pr.ifa, &gw), -UST_ENOENT);
	/* Removing an address takes its route and group. */
	CHECK_EQ(ust_if_addr6_del(pr.ifa, &A6), 0);
	CHECK_EQ(ust_if_addr6_del(pr.ifa, &A6), -UST_EADDRNOTAVAIL);
	CHECK_EQ(ust_route6_lookup(pr.a, &B6, 0, &ri), -UST_ENETUNREACH);
	/* ff02::1:ff00:1 is fe80::1's group too: it stays until both go. */
	CHECK(in6_mcast_member(IFP_FROM_UST(pr.ifa), &sol));
	CHECK_EQ(ust_if_addr6_del(pr.ifa, &LLA), 0);
	CHECK(!in6_mcast_member(IFP_FROM_UST(pr.ifa), &sol));
	CHECK(in6_mcast_member(IFP_FROM_UST(pr.ifa), &ALLNODES));
	lt_pair_fini(&pr);
}

TEST(ip6_output_completes_offloaded_checksums)
{
	uint8_t udp[16] = { 0x12, 0x34, 0x56, 0x78, 0, 16, 0xee, 0xee, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ip6_out_args a;
	struct tl_pair pr;
	struct mbuf *m;

	pair6(&pr);
	m = lt_mbuf(pr.a, udp, sizeof(udp), 1);
	REQUIRE(m != NULL);
	m->m_pkthdr.csum_flags = UST_CSUM_UDP;
	m->m_pkthdr.csum_data = 6;
	memset(&a, 0, sizeof(a)); /* source chosen by the stack */
	a.dst = B6;
	a.nxt = IPPROTO_UDP;
	REQUIRE_EQ(ip6_output(pr.a, m, &a), 0);
	m = lt_mbuf(pr.a, udp, sizeof(udp), 1);
	REQUIRE(m != NULL);
	m->m_pkthdr.csum_flags = UST_CSUM_TSO;
	CHECK_EQ(ip6_output(pr.a, m, &a), UST_EOPNOTSUPP);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capb.n, 1);
	CHECK_EQ(in_cksum_buf(capb.f[0] + 54, 16, in6_cksum_pseudo(&A6, &B6, 16, IPPROTO_UDP)), 0);
	CHECK(capb.f[0][60] != 0xee || capb.f[0][61] != 0xee);
	lt_pair_fini(&pr);
}

#if UST_IP_LOOPBACK
TEST(ip6_echo_to_ourselves_never_leaves)
{
	struct tl_pair pr;

	pair6(&pr);
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &A6, 1, 1, 8), &A6, &A6, 0, IPPROTO_ICMPV6), 0);
	/* The zone of a link-local destination of ours is its own. */
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &LLA, &LLA, 1, 2, 8), &LLA, &LLA, 0, IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_reflect, 2);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_inhist[ICMP6_ECHO_REPLY], 2);
	CHECK_EQ(pr.a->st_ip6stat.ip6s_delivered, 4);
	CHECK_EQ(capb.n, 0);
	lt_pair_fini(&pr);
}
#endif

TEST(in6_selectsrc_rules)
{
	static const struct in6_addr a2 = { { 0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    1 } };
	static const struct in6_addr d2 = { { 0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    9 } };
	static const struct in6_addr d1 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    9 } };
	struct ifnet *ifa;
	struct in6_ifaddr *ia;
	struct in6_addr src;
	struct tl_pair pr;

	pair6(&pr);
	ifa = IFP_FROM_UST(pr.ifa);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &a2, 64, UST_IN6_IFF_NODAD), 0);
	/* Rule 1: the destination itself. */
	REQUIRE_EQ(in6_selectsrc(pr.a, &a2, 0, ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &a2));
	/* Rule 8: the longest common prefix. */
	REQUIRE_EQ(in6_selectsrc(pr.a, &d2, 0, ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &a2));
	REQUIRE_EQ(in6_selectsrc(pr.a, &d1, 0, ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &A6));
	/* Rule 2: a link-local destination, a link-local source. */
	REQUIRE_EQ(in6_selectsrc(pr.a, &LLB, ust_if_index(pr.ifa), ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &LLA));
	REQUIRE_EQ(in6_selectsrc(pr.a, &ALLNODES, ust_if_index(pr.ifa), ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &LLA));
	/* Rule 3: not deprecated, even with a shorter match; tentative
	 * and anycast addresses are never a source. */
	ia = in6ifa_find(pr.a, &a2, NULL);
	REQUIRE(ia != NULL);
	ia->ia6_flags |= IN6_IFF_DEPRECATED;
	REQUIRE_EQ(in6_selectsrc(pr.a, &d2, 0, ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &A6));
	ia->ia6_flags = IN6_IFF_TENTATIVE;
	in6ifa_find(pr.a, &A6, NULL)->ia6_flags |= IN6_IFF_ANYCAST;
	REQUIRE_EQ(in6_selectsrc(pr.a, &d2, 0, ifa, &src), 0);
	CHECK(in6_are_addr_equal(&src, &LLA)); /* only the link-local one is left */
	lt_pair_fini(&pr);
}
#endif /* UST_STATS */

/* in6_cksum_pseudo sums words in memory order; the RFC 8200 8.1 pseudo
 * header summed 16 bits at a time, big-endian, must agree for any input
 * (seeded addresses, lengths and next headers). */
TEST(in6_cksum_pseudo_matches_the_bytewise_sum)
{
	uint64_t x = ust_test_seed * 0x9e3779b97f4a7c15ull + 1;
	struct in6_addr s, d;
	uint32_t ref, len;
	unsigned i, k;
	uint8_t nxt;

	for (k = 0; k < 2000; k++) {
		for (i = 0; i < 16; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			s.s6_addr8[i] = (uint8_t)x;
			d.s6_addr8[i] = (uint8_t)(x >> 8);
		}
		if (k == 0)
			memset(&s, 0xff, sizeof(s)); /* every carry */
		len = (uint32_t)(x >> 16) & (k & 1 ? 0xffffffffu : 0xffffu);
		nxt = (uint8_t)(x >> 48);
		ref = 0;
		for (i = 0; i < 16; i += 2)
			ref += ((uint32_t)s.s6_addr8[i] << 8 | s.s6_addr8[i + 1]) +
			    ((uint32_t)d.s6_addr8[i] << 8 | d.s6_addr8[i + 1]);
		ref += (len >> 16) + (len & 0xffff) + nxt;
		while (ref >> 16)
			ref = (ref & 0xffff) + (ref >> 16);
		CHECK_EQ(in6_cksum_pseudo(&s, &d, len, nxt), ref);
	}
}

#endif /* UST_INET6 */
