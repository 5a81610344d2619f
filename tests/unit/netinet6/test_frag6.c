/*
 * test_frag6.c - IPv6 reassembly (RFC 8200 4.5) between two stacks over
 * the pipe: echoes too big for the link going both ways, overlaps that
 * drop the whole datagram (RFC 5722) and the exact duplicates that do
 * not, atomic fragments (RFC 6946), first fragments without the whole
 * header chain (RFC 7112), bad lengths, the timeout with its time
 * exceeded, and the limits.
 */
#include "ip6test.h"

#if UST_INET6
/* The cases read the counters. */
#if UST_STATS
/* The fragmentable part of an echo request from a to b: 16 bytes of
 * ICMPv6 then dlen of data, checksum set (into buf; its length). */
static size_t
echo_body(uint8_t *buf, size_t dlen)
{
	uint16_t sum;
	size_t i;

	memset(buf, 0, 8);
	buf[0] = ICMP6_ECHO_REQUEST;
	buf[4] = 0x42;
	for (i = 0; i < dlen; i++)
		buf[8 + i] = (uint8_t)(i + 3);
	sum = in_cksum_buf(buf, (uint32_t)(8 + dlen),
	    in6_cksum_pseudo(&A6, &B6, (uint32_t)(8 + dlen), IPPROTO_ICMPV6));
	buf[2] = (uint8_t)(sum >> 8);
	buf[3] = (uint8_t)sum;
	return (8 + dlen);
}

/* Sends from a's interface one fragment of ident: bytes [off, off+len)
 * of body, next header nxt (in the Fragment header), M flag mf. */
static void
send_frag(struct tl_pair *pr, uint32_t ident, uint8_t nxt, const uint8_t *body, uint32_t off,
    uint32_t len, int mf)
{
	uint8_t f[1600], pl[1500], maca[6], macb[6];
	struct ip6_frag fh;

	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	fh.ip6f_nxt = nxt;
	fh.ip6f_offlg = (uint16_t)((off & IP6F_OFF_MASK) | (mf ? IP6F_MORE_FRAG : 0));
	fh.ip6f_ident = ident;
	ip6_frag_write(pl, &fh);
	memcpy(pl + 8, body + off, len);
	REQUIRE_EQ(ust_if_output_frame(pr->ifa, f,
	               frame6(f, macb, maca, &A6, &B6, IPPROTO_FRAGMENT, 64, pl, 8 + len)),
	    0);
}

TEST(frag6_big_echo_both_ways)
{
	struct ust_icmp6stat ia, ib;
	struct ust_ip6stat pa, pb;
	struct tl_pair pr;

	pair6(&pr);
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &B6, 9, 1, 3000), &A6, &B6, 0, IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.a, &pa);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.a, &ia);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pa.ip6s_fragmented, 1);
	CHECK_EQ(pb.ip6s_fragments, 3);
	CHECK_EQ(pb.ip6s_reassembled, 1);
	CHECK_EQ(ib.icp6s_reflect, 1);
	CHECK_EQ(pb.ip6s_fragmented, 1);
	CHECK_EQ(pa.ip6s_reassembled, 1);
	CHECK_EQ(ia.icp6s_inhist[ICMP6_ECHO_REPLY], 1);
	CHECK_EQ(ia.icp6s_checksum + ib.icp6s_checksum, 0);
	CHECK_EQ(pr.b->st_frag6 != NULL, 1);
	lt_pair_fini(&pr);
}

TEST(frag6_overlap_drops_the_datagram_duplicates_do_not)
{
	struct ust_icmp6stat ib;
	struct ust_ip6stat pb;
	struct tl_pair pr;
	uint8_t body[80];
	size_t n;

	pair6(&pr);
	n = echo_body(body, 64);
	REQUIRE_EQ(n, 72);
	/* 0-32, then 24-72: overlap, both gone. */
	send_frag(&pr, 1, IPPROTO_ICMPV6, body, 0, 32, 1);
	send_frag(&pr, 1, IPPROTO_ICMPV6, body, 24, 48, 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	CHECK_EQ(pb.ip6s_fragoverlap, 1);
	CHECK_EQ(pb.ip6s_fragdropped, 2);
	CHECK_EQ(pb.ip6s_reassembled, 0);
	/* 0-32 twice (the copy alone dropped), then 32-72: whole. */
	send_frag(&pr, 2, IPPROTO_ICMPV6, body, 0, 32, 1);
	send_frag(&pr, 2, IPPROTO_ICMPV6, body, 0, 32, 1);
	send_frag(&pr, 2, IPPROTO_ICMPV6, body, 32, 40, 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_fragdropped, 3);
	CHECK_EQ(pb.ip6s_reassembled, 1);
	CHECK_EQ(ib.icp6s_reflect, 1);
	/* Out of order works too. */
	send_frag(&pr, 3, IPPROTO_ICMPV6, body, 32, 40, 0);
	send_frag(&pr, 3, IPPROTO_ICMPV6, body, 0, 32, 1);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_reflect, 2);
	/* An atomic fragment (RFC 6946) is the whole packet. */
	send_frag(&pr, 2, IPPROTO_ICMPV6, body, 0, 72, 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_atomicfrags, 1);
	CHECK_EQ(ib.icp6s_reflect, 3);
	lt_pair_fini(&pr);
}

TEST(frag6_bad_fragments_get_parameter_problems)
{
	struct ust_icmp6stat ia, ib;
	struct ust_ip6stat pb;
	struct tl_pair pr;
	uint8_t body[80], ext[96];
	struct icmp6_hdr ic;

	pair6(&pr);
	(void)echo_body(body, 64);
	/* A non-last fragment of 12 bytes: pointer at the payload length. */
	send_frag(&pr, 5, IPPROTO_ICMPV6, body, 0, 12, 1);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[0] + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_type, ICMP6_PARAM_PROB);
	CHECK_EQ(ic.icmp6_code, ICMP6_PARAMPROB_HEADER);
	CHECK_EQ(ic.icmp6_data, 4);
	/* Beyond 65535: pointer at the fragment offset. */
	capa.n = 0;
	{
		uint8_t f[200], pl[64], maca[6], macb[6];
		struct ip6_frag fh = { IPPROTO_ICMPV6, (uint16_t)(65528 | IP6F_MORE_FRAG), 7 };

		ust_if_get_mac(pr.ifa, maca);
		ust_if_get_mac(pr.ifb, macb);
		ip6_frag_write(pl, &fh);
		memset(pl + 8, 0, 16);
		REQUIRE_EQ(ust_if_output_frame(pr.ifa, f,
		               frame6(f, macb, maca, &A6, &B6, IPPROTO_FRAGMENT, 64, pl, 24)),
		    0);
	}
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[0] + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_code, ICMP6_PARAMPROB_HEADER);
	CHECK_EQ(ic.icmp6_data, 42);
	/* RFC 7112: a destination options header of 16 bytes cut after 8
	 * in the first fragment. */
	capa.n = 0;
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_ICMPV6;
	ext[1] = 1;
	ext[2] = IP6OPT_PADN;
	ext[3] = 12;
	memcpy(ext + 16, body, 72);
	send_frag(&pr, 8, IPPROTO_DSTOPTS, ext, 0, 8, 1);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.a, &ia);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(pb.ip6s_fraghdrchain, 1);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[0] + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_code, ICMP6_PARAMPROB_FRAGHDRCHAIN);
	CHECK_EQ(ic.icmp6_data, 0);
	CHECK_EQ(ib.icp6s_reflect, 0);
	/* With the chain whole, the same datagram goes through. */
	send_frag(&pr, 9, IPPROTO_DSTOPTS, ext, 0, 24, 1);
	send_frag(&pr, 9, IPPROTO_DSTOPTS, ext, 24, 64, 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_icmp6(pr.b, &ib);
	CHECK_EQ(ib.icp6s_reflect, 1);
	lt_pair_fini(&pr);
}

TEST(frag6_timeout_and_limits)
{
	struct ust_icmp6stat ia;
	struct ust_ip6stat pb;
	struct tl_pair pr;
	uint8_t body[80];
	struct icmp6_hdr ic;

	pair6(&pr);
	(void)echo_body(body, 64);
	/* Only the first fragment: after net.inet6.ip6.fragttl, time
	 * exceeded (reassembly) quoting it. */
	send_frag(&pr, 11, IPPROTO_ICMPV6, body, 0, 32, 1);
	/* Only a later one: dropped silently at the timeout. */
	send_frag(&pr, 12, IPPROTO_ICMPV6, body, 32, 40, 0);
	tl_pair_run(&pr, 59 * SEC);
	ust_stats_ip6(pr.b, &pb);
	CHECK_EQ(pb.ip6s_fragtimeout, 0);
	tl_pair_run(&pr, 2 * SEC);
	ust_stats_ip6(pr.b, &pb);
	ust_stats_icmp6(pr.a, &ia);
	CHECK_EQ(pb.ip6s_fragtimeout, 2);
	CHECK_EQ(pb.ip6s_fragdropped, 2);
	CHECK_EQ(ia.icp6s_inhist[ICMP6_TIME_EXCEEDED], 1);
	REQUIRE_EQ(capa.n, 1);
	REQUIRE_EQ(icmp6_hdr_parse(capa.f[0] + 54, capa.len[0] - 54, &ic), 0);
	CHECK_EQ(ic.icmp6_code, ICMP6_TIME_EXCEED_REASSEMBLY);
	/* maxfragpackets 1: a second datagram waits for none. */
	REQUIRE_EQ(ust_sysctl_set(pr.b, "net.inet6.ip6.maxfragpackets", 1), 0);
	send_frag(&pr, 13, IPPROTO_ICMPV6, body, 0, 32, 1);
	send_frag(&pr, 14, IPPROTO_ICMPV6, body, 0, 32, 1);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	CHECK_EQ(pb.ip6s_fragoverflow, 1);
	/* maxfragsperpacket 2: the third fragment drops the datagram. */
	REQUIRE_EQ(ust_sysctl_set(pr.b, "net.inet6.ip6.maxfragsperpacket", 2), 0);
	send_frag(&pr, 13, IPPROTO_ICMPV6, body, 32, 8, 1);
	send_frag(&pr, 13, IPPROTO_ICMPV6, body, 40, 32, 0);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_ip6(pr.b, &pb);
	CHECK_EQ(pb.ip6s_fragoverflow, 2);
	CHECK_EQ(pb.ip6s_reassembled, 0);
	/* 0: no reassembly at all. */
	REQUIRE_EQ(ust_sysctl_set(pr.b, "net.inet6.ip6.maxfragpackets", 0), 0);
	send_frag(&pr, 15, IPPROTO_ICMPV6, body, 0, 32, 1);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(pr.b->st_ip6stat.ip6s_fragdropped, pb.ip6s_fragdropped + 1);
	lt_pair_fini(&pr);
}

/* Mutated fragments, extension headers and ICMPv6 messages: nothing
 * crashes, leaks (lt_pair_fini checks) or answers a group. */
TEST(ip6_input_survives_mutated_packets)
{
	static const uint8_t nxts[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		IPPROTO_FRAGMENT, IPPROTO_ICMPV6, IPPROTO_NONE, 253 };
	uint8_t f[1600], pl[1400], maca[6], macb[6];
	uint64_t x = ust_test_seed * 0x9e3779b97f4a7c15ull + 1;
	struct tl_pair pr;
	size_t plen, i, n;
	unsigned k;

	pair6(&pr);
	ust_if_get_mac(pr.ifa, maca);
	ust_if_get_mac(pr.ifb, macb);
	for (k = 0; k < 3000; k++) {
		plen = (size_t)(tl_mix64(&x) % 200);
		for (i = 0; i < plen; i++)
			pl[i] = (uint8_t)tl_mix64(&x);
		/* Mostly well-formed chains: small lengths, known headers. */
		for (i = 0; i + 8 <= plen && i < 64; i += 8) {
			pl[i] = nxts[tl_mix64(&x) % sizeof(nxts)];
			if (tl_mix64(&x) % 4 != 0)
				pl[i + 1] = 0;
		}
		if (plen >= 8 && tl_mix64(&x) % 3 == 0) {
			/* a fragment header: small offsets, same few idents */
			pl[2] = 0;
			pl[3] = (uint8_t)((tl_mix64(&x) % 4) << 3 | (tl_mix64(&x) % 2));
			pl[4] = pl[5] = pl[6] = 0;
			pl[7] = (uint8_t)(tl_mix64(&x) % 3);
		}
		n = frame6(f, tl_mix64(&x) % 5 == 0 ? (const uint8_t *)"\x33\x33\0\0\0\x01" : macb,
		    maca, &A6, tl_mix64(&x) % 5 == 0 ? &ALLNODES : &B6,
		    nxts[tl_mix64(&x) % sizeof(nxts)], (uint8_t)tl_mix64(&x), pl, plen);
		if (tl_mix64(&x) % 8 == 0)
			n -= (size_t)(tl_mix64(&x) % (n - 14));
		REQUIRE_EQ(ust_if_output_frame(pr.ifa, f, n), 0);
		if (k % 50 == 0)
			tl_pair_run(&pr, 10 * MS);
	}
	tl_pair_run(&pr, 61 * SEC); /* reassembly queues time out */
	CHECK(pr.b->st_ip6stat.ip6s_total > 2000);
	CHECK_EQ(pr.b->st_frag6 != NULL, 1);
	lt_pair_fini(&pr);
}
#endif /* UST_STATS */
#endif /* UST_INET6 */
