/*
 * test_mld6.c - MLDv2, the host side (RFC 3810): unsolicited reports on
 * join and leave (Robustness Variable times, hop limit 1, router alert,
 * to ff02::16), answers to general and address-specific queries, and the
 * queries that must be ignored (not link-local, hop limit not 1).
 */
#include "nd6rig.h"

#if UST_INET6

static const char *OURS = "2001:2::10";

/* An MLD query (v2 when v2) from src with hop limit hlim, router alert,
 * for group (:: general), Maximum Response Code mrc, through the whole
 * receive path. */
static void
query(struct nr *t, const char *src, uint8_t hlim, const char *group, uint16_t mrc, int v2)
{
	struct in6_addr s = nr_a(src), g = nr_a(group), all = nr_a("ff02::1");
	uint8_t f[256], pl[64], d[20], opt[8], dmac[6];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, hlim, s.s6_addr8, all.s6_addr8 };
	struct tl_ext6 e;
	size_t n, ol;

	memset(d, 0, sizeof(d));
	memcpy(d, g.s6_addr8, 16);
	n = tl_icmp6(pl, s.s6_addr8, all.s6_addr8, MLD_LISTENER_QUERY, 0, (uint32_t)mrc << 16, d,
	    v2 ? 20 : 16);
	ol = tl_opt6(opt, 5, "\0\0", 2);
	memset(&e, 0, sizeof(e));
	e.type = TL_IPPROTO_HOPOPTS;
	e.data = opt;
	e.len = ol;
	tl_in6_mcast_mac(dmac, all.s6_addr8);
	n = tl_frame6(f, dmac, nr_mac_peer, &h, &e, 1, pl, n);
	nr_inject(t, f, n);
}

/* The records of MLDv2 reports sent since frame `from`: how many name
 * group with record type rtype. */
static int
records(struct nr *t, int from, const struct in6_addr *group, uint8_t rtype)
{
	struct tl_pkt6 p;
	int i, n = 0;
	size_t r;

	for (i = from; i < t->d->tx_count; i++) {
		if (nr_tx(t, i, &p) != 0 || p.proto != TL_IPPROTO_ICMPV6 ||
		    p.icmp_type != MLDV2_LISTENER_REPORT)
			continue;
		for (r = 0; r + 20 <= p.dlen; r += 20)
			if (p.data[r] == rtype && memcmp(p.data + r + 4, group->s6_addr8, 16) == 0)
				n++;
	}
	return (n);
}

TEST(mld_join_reports_robustness_times)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), sol, all = nr_a("ff02::1");
	struct tl_pkt6 p;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	in6_solicited_node(&a, &sol);
	nr_advance(&t, NR_MS);
	CHECK(records(&t, 0, &sol, MLDV2_RECORD_CHANGE_TO_EXCLUDE) == 1);
	REQUIRE(nr_last(&t, MLDV2_LISTENER_REPORT, &p) == 0);
	/* From our address?  No: no link-local yet, so :: (RFC 3810
	 * 5.2.13); hop limit 1; a router alert; to all MLDv2 routers. */
	CHECK(p.hlim == 1 && p.next == 1 && p.ext_type[0] == TL_IPPROTO_HOPOPTS && p.l4sum_ok);
	CHECK(p.ip6[8] == 0 && p.ip6[8 + 15] == 0);
	CHECK(p.dmac[0] == 0x33 && p.dmac[5] == 0x16);
	nr_advance(&t, 1100 * NR_MS);
	CHECK(records(&t, 0, &sol, MLDV2_RECORD_CHANGE_TO_EXCLUDE) == 2);
	nr_advance(&t, 10 * NR_SEC);
	CHECK(records(&t, 0, &sol, MLDV2_RECORD_CHANGE_TO_EXCLUDE) == 2);
	/* all-nodes is never reported (RFC 3810 6). */
	CHECK(records(&t, 0, &all, MLDV2_RECORD_CHANGE_TO_EXCLUDE) == 0);
	CHECK(NR_CNT(&t, nd6c_mldreports) == 2);
	nr_fini(&t);
}

TEST(mld_leave_reports)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), sol;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_advance(&t, 2 * NR_SEC);
	in6_solicited_node(&a, &sol);
	REQUIRE(ust_if_addr6_del(t.uifp, &a) == 0);
	CHECK(!in6_mcast_member(t.ifp, &sol));
	nr_advance(&t, 2 * NR_SEC);
	CHECK(records(&t, 0, &sol, MLDV2_RECORD_CHANGE_TO_INCLUDE) == 2);
	nr_fini(&t);
}

TEST(mld_general_query_answered_within_mrd)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), ll = nr_a("fe80::11"), sol, sol2, all = nr_a("ff02::1");
	struct tl_pkt6 p;
	int from;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	REQUIRE(ust_if_addr6_add(t.uifp, &ll, 64, UST_IN6_IFF_NODAD) == 0);
	nr_advance(&t, 2 * NR_SEC);
	in6_solicited_node(&a, &sol);
	in6_solicited_node(&ll, &sol2);
	from = t.d->tx_count;
	query(&t, "fe80::1", 1, "::", 2000, 1);
	CHECK(t.d->tx_count == from);
	nr_advance(&t, 2001 * NR_MS);
	CHECK(records(&t, from, &sol, MLDV2_RECORD_MODE_IS_EXCLUDE) == 1);
	CHECK(records(&t, from, &sol2, MLDV2_RECORD_MODE_IS_EXCLUDE) == 1);
	CHECK(records(&t, from, &all, MLDV2_RECORD_MODE_IS_EXCLUDE) == 0);
	/* One report for both, from the link-local address now. */
	{
		int i, n = 0;

		for (i = from; i < t.d->tx_count; i++)
			if (nr_tx(&t, i, &p) == 0 && p.icmp_type == MLDV2_LISTENER_REPORT)
				n++;
		CHECK(n == 1);
	}
	REQUIRE(nr_last(&t, MLDV2_LISTENER_REPORT, &p) == 0);
	CHECK(memcmp(p.src, ll.s6_addr8, 16) == 0);
	/* Address specific: only that group. */
	from = t.d->tx_count;
	query(&t, "fe80::1", 1, "ff02::1:ff00:10", 1000, 1);
	nr_advance(&t, 1001 * NR_MS);
	CHECK(records(&t, from, &sol, MLDV2_RECORD_MODE_IS_EXCLUDE) +
	        records(&t, from, &sol2, MLDV2_RECORD_MODE_IS_EXCLUDE) ==
	    1);
	/* A group we are not in: nothing. */
	from = t.d->tx_count;
	query(&t, "fe80::1", 1, "ff02::1:ff00:99", 1000, 1);
	nr_advance(&t, 1001 * NR_MS);
	CHECK(t.d->tx_count == from);
	nr_fini(&t);
}

TEST(mld_bad_queries_ignored)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS);
	int from;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_advance(&t, 2 * NR_SEC);
	from = t.d->tx_count;
	query(&t, "2001:2::1", 1, "::", 1000, 1); /* not link-local */
	query(&t, "fe80::1", 2, "::", 1000, 1);   /* hop limit 2 */
	nr_advance(&t, 2 * NR_SEC);
	CHECK(t.d->tx_count == from);
	nr_fini(&t);
}

TEST(mld_v1_querier_gets_v1_reports)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), sol;
	struct tl_pkt6 p;
	int from, i, v1 = 0, v2 = 0, done = 0;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_advance(&t, 2 * NR_SEC);
	in6_solicited_node(&a, &sol);
	from = t.d->tx_count;
	query(&t, "fe80::1", 1, "::", 1000, 0); /* MLDv1: 24 bytes */
	nr_advance(&t, 1001 * NR_MS);
	/* Leaving while the v1 querier is present: a done to ff02::2. */
	REQUIRE(ust_if_addr6_del(t.uifp, &a) == 0);
	nr_advance(&t, 2 * NR_SEC);
	for (i = from; i < t.d->tx_count; i++) {
		if (nr_tx(&t, i, &p) != 0 || p.proto != TL_IPPROTO_ICMPV6)
			continue;
		if (p.icmp_type == MLD_LISTENER_REPORT && memcmp(p.dst, sol.s6_addr8, 16) == 0 &&
		    memcmp(p.data, sol.s6_addr8, 16) == 0 && p.hlim == 1 && p.l4sum_ok)
			v1++;
		if (p.icmp_type == MLD_LISTENER_DONE && p.dst[15] == 2)
			done++;
		if (p.icmp_type == MLDV2_LISTENER_REPORT)
			v2++;
	}
	CHECK(v1 == 1);
	CHECK(done >= 1);
	CHECK(v2 == 0);
	nr_fini(&t);
}

TEST(mld_v1_queries_ignored_without_v1enable)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS);
	int from;

	nr_init(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.mld.v1enable", 0);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_advance(&t, 2 * NR_SEC);
	from = t.d->tx_count;
	query(&t, "fe80::1", 1, "::", 1000, 0);
	nr_advance(&t, 2 * NR_SEC);
	CHECK(t.d->tx_count == from);
	nr_fini(&t);
}
#endif /* UST_INET6 */
