/*
 * test_nd6.c - the neighbor cache (RFC 4861 7.2, 7.3): resolution with a
 * bounded hold queue, failure after nd6_mmaxtries with the held packets
 * answered, the reachability states and their timers, LRU eviction of a
 * full cache, NS/NA validation and answers, the override rules, and
 * unsolicited advertisements for unknown targets.
 */
#include "nd6rig.h"

#if UST_INET6

static const char *OURS = "2001:2::10";
static const char *PEER = "2001:2::20";

static void
nd_setup(struct nr *t, uint64_t seed)
{
	struct in6_addr a = nr_a(OURS);

	nr_init(t, seed);
	REQUIRE(ust_if_addr6_add(t->uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_poll(t);
	t->d->tx_count = 0;
}

TEST(nd6_resolve_solicits_holds_and_flushes)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER), sol;
	struct ust_nd6_entry e;
	struct tl_pkt6 p;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	/* One multicast solicitation, from our address, with our MAC. */
	REQUIRE(t.d->tx_count == 1);
	REQUIRE(nr_tx(&t, 0, &p) == 0);
	in6_solicited_node(&peer, &sol);
	CHECK(p.icmp_type == ND_NEIGHBOR_SOLICIT && p.hlim == 255 && p.l4sum_ok);
	CHECK(memcmp(p.dst, sol.s6_addr8, 16) == 0 && memcmp(p.src, ours.s6_addr8, 16) == 0);
	CHECK(p.dmac[0] == 0x33 && p.dmac[1] == 0x33 && p.dmac[2] == 0xff);
	CHECK(memcmp(p.data, peer.s6_addr8, 16) == 0);
	CHECK(tl_nd_opt_find(p.data + 16, p.dlen - 16, TL_ND_OPT_SLLA) == 0);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_INCOMPLETE && e.held == 1);
	/* A second packet waits too, without a second solicitation. */
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	CHECK(t.d->tx_count == 1);
	/* The solicited answer: REACHABLE, both packets leave to its MAC. */
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED | TL_NA_OVERRIDE, &peer, nr_mac_peer, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_REACHABLE && e.held == 0);
	CHECK(memcmp(e.mac, nr_mac_peer, 6) == 0);
	REQUIRE(t.d->tx_count == 3);
	CHECK(memcmp(t.d->tx[1], nr_mac_peer, 6) == 0 && memcmp(t.d->tx[2], nr_mac_peer, 6) == 0);
	nr_fini(&t);
}

TEST(nd6_resolution_fails_after_mmaxtries)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	nr_advance(&t, 999 * NR_MS);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 1);
	nr_advance(&t, 2 * NR_MS);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 2);
	nr_advance(&t, 1000 * NR_MS);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 3); /* nd6_mmaxtries */
	CHECK(nr_entry(&t, &peer, &e) == 0);
	nr_advance(&t, 1000 * NR_MS);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 3);
	CHECK(nr_entry(&t, &peer, &e) == -UST_ENOENT);
	CHECK(NR_CNT(&t, nd6c_resfail) == 1);
	CHECK(NR_CNT(&t, nd6c_holddrops) == 1); /* handed to icmp6_error */
	/* RFC 4861 7.2.2: the held packet's source (us) is told. */
	CHECK_STAT(nr_icmp6(&t).icp6s_odst_unreach_addr == 1);
	CHECK_STAT(nr_icmp6(&t).icp6s_inhist[ICMP6_DST_UNREACH] == 1);
	nr_fini(&t);
}

TEST(nd6_hold_queue_bounded)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;
	struct ust_ip6stat s;
	int i;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	nr_knob(&t, "net.inet6.icmp6.nd6_maxqueuelen", 2);
	for (i = 0; i < 5; i++)
		CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.held == 2);
	ust_stats_ip6(t.st, &s);
	CHECK_STAT(s.ip6s_odropped == 3);
	CHECK(NR_CNT(&t, nd6c_holddrops) == 3);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer, 255);
	nr_poll(&t);
	CHECK(t.d->tx_count == 1 + 2);
	nr_fini(&t);
}

TEST(nd6_reachable_stale_delay_probe_gone)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;
	struct tl_pkt6 p;
	int n;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0 && e.state == UST_ND6_REACHABLE);
	/* ReachableTime is 15..45 s (random factor, seeded). */
	CHECK(e.expire_ns >= NR_T0 + 15 * NR_SEC && e.expire_ns <= NR_T0 + 45 * NR_SEC);
	nr_advance(&t, 46 * NR_SEC);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE);
	/* Traffic to a STALE neighbor goes at once and starts DELAY. */
	n = t.d->tx_count;
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	CHECK(t.d->tx_count == n + 1);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_DELAY);
	/* nd6_delay (5 s) later: PROBE, a unicast solicitation. */
	nr_advance(&t, 5 * NR_SEC + NR_MS);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_PROBE);
	REQUIRE(nr_last(&t, ND_NEIGHBOR_SOLICIT, &p) == 0);
	CHECK(memcmp(p.dst, peer.s6_addr8, 16) == 0 && memcmp(p.dmac, nr_mac_peer, 6) == 0);
	/* nd6_umaxtries probes unanswered: gone. */
	nr_advance(&t, 3 * NR_SEC + NR_MS);
	CHECK(nr_entry(&t, &peer, &e) == -UST_ENOENT);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 1 + 3);
	nr_fini(&t);
}

TEST(nd6_probe_answered_becomes_reachable)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_na(&t, &peer, &ours, 0, &peer, nr_mac_peer, 255); /* unsolicited: STALE */
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_DELAY); /* the held packet went */
	nr_advance(&t, 5 * NR_SEC + NR_MS);
	REQUIRE(nr_entry(&t, &peer, &e) == 0 && e.state == UST_ND6_PROBE);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, NULL, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_REACHABLE);
	nr_fini(&t);
}

TEST(nd6_cache_bounded_lru)
{
	struct nr t;
	struct in6_addr ours, a, st6 = nr_a("2001:2::99");
	struct ust_nd6_entry e;
	char buf[64];
	int i;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	nr_knob(&t, "net.inet6.icmp6.nd6_maxentries", 4);
	REQUIRE(ust_nd6_add_static(t.uifp, &st6, nr_mac_peer2) == 0);
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "2001:2::%x", 0x100 + i);
		a = nr_a(buf);
		CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &a), &a) == 0);
	}
	nr_poll(&t);
	for (i = 0; ust_nd6_get(t.st, (unsigned)i, &e) == 0; i++)
		;
	CHECK(i == 4);
	CHECK(nr_entry(&t, &st6, &e) == 0 && (e.flags & UST_ND6_STATIC));
	/* The most recent ones stay. */
	a = nr_a("2001:2::109");
	CHECK(nr_entry(&t, &a, &e) == 0);
	a = nr_a("2001:2::100");
	CHECK(nr_entry(&t, &a, &e) == -UST_ENOENT);
	CHECK(NR_CNT(&t, nd6c_evicted) == 7);
	CHECK_STAT(nr_icmp6(&t).icp6s_overflownndp == 7);
	nr_advance(&t, 4 * NR_SEC); /* the rest fail, their packets go */
	CHECK(nr_entry(&t, &st6, &e) == 0);
	nr_fini(&t);
}

TEST(nd6_ns_answered_with_solicited_na)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER), sol;
	struct ust_nd6_entry e;
	struct tl_pkt6 p;
	uint8_t pl[64], o[8];
	size_t n;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	in6_solicited_node(&ours, &sol);
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, ours.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_SLLA, nr_mac_peer));
	nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	REQUIRE(t.d->tx_count == 1);
	REQUIRE(nr_tx(&t, 0, &p) == 0);
	CHECK(p.icmp_type == ND_NEIGHBOR_ADVERT && p.hlim == 255 && p.l4sum_ok);
	CHECK(p.icmp_rest == (TL_NA_SOLICITED | TL_NA_OVERRIDE));
	CHECK(memcmp(p.src, ours.s6_addr8, 16) == 0 && memcmp(p.dst, peer.s6_addr8, 16) == 0);
	CHECK(memcmp(p.dmac, nr_mac_peer, 6) == 0);
	CHECK(tl_nd_opt_find(p.data + 16, p.dlen - 16, TL_ND_OPT_TLLA) == 0);
	CHECK(memcmp(p.data + 16 + 2, nr_mac_ours, 6) == 0);
	/* The sender's address was learned STALE (RFC 4861 7.2.3), and the
	 * answer sent to it started DELAY (7.3.3). */
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_DELAY && memcmp(e.mac, nr_mac_peer, 6) == 0);
	/* A solicitation for an address that is not ours: nothing. */
	{
		struct in6_addr other = nr_a("2001:2::77"), sol2;

		in6_solicited_node(&other, &sol2);
		n = tl_nd_ns(pl, peer.s6_addr8, sol2.s6_addr8, other.s6_addr8, NULL, 0);
		nr_send(&t, nr_mac_ours, &peer, &sol2, 255, pl, n);
		CHECK(t.d->tx_count == 1);
	}
	nr_fini(&t);
}

TEST(nd6_ns_from_unspecified_answered_to_all_nodes)
{
	struct nr t;
	struct in6_addr ours, any = nr_a("::"), sol;
	struct tl_pkt6 p;
	uint8_t pl[64];
	size_t n;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	in6_solicited_node(&ours, &sol);
	n = tl_nd_ns(pl, any.s6_addr8, sol.s6_addr8, ours.s6_addr8, NULL, 0);
	nr_send(&t, nr_mac_ours, &any, &sol, 255, pl, n);
	REQUIRE(nr_last(&t, ND_NEIGHBOR_ADVERT, &p) == 0);
	CHECK(p.icmp_rest == TL_NA_OVERRIDE);
	CHECK(p.dst[0] == 0xff && p.dst[1] == 0x02 && p.dst[15] == 1);
	nr_fini(&t);
}

TEST(nd6_bad_ns_na_counted_and_dropped)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER), sol, mc = nr_a("ff02::1");
	uint8_t pl[64];
	size_t n;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	in6_solicited_node(&ours, &sol);
	/* Hop limit below 255 (forwarded from elsewhere). */
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, ours.s6_addr8, NULL, 0);
	nr_send(&t, nr_mac_ours, &peer, &sol, 254, pl, n);
	nr_send(&t, nr_mac_ours, &peer, &sol, 1, pl, n);
	CHECK_STAT(nr_icmp6(&t).icp6s_invlhlim == 2);
	/* Code 1. */
	n = tl_icmp6(pl, peer.s6_addr8, sol.s6_addr8, ND_NEIGHBOR_SOLICIT, 1, 0, ours.s6_addr8, 16);
	nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	/* A multicast target. */
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, mc.s6_addr8, NULL, 0);
	nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	/* Too short. */
	n = tl_icmp6(pl, peer.s6_addr8, sol.s6_addr8, ND_NEIGHBOR_SOLICIT, 0, 0, ours.s6_addr8, 8);
	nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	/* A zero-length option. */
	{
		uint8_t o[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };

		n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, ours.s6_addr8, o, 8);
		nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	}
	CHECK_STAT(nr_icmp6(&t).icp6s_badns == 4);
	CHECK(t.d->tx_count == 0);
	/* NA: hop limit, then solicited to a group. */
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer, 64);
	CHECK_STAT(nr_icmp6(&t).icp6s_invlhlim == 3);
	nr_na(&t, &peer, &mc, TL_NA_SOLICITED, &peer, nr_mac_peer, 255);
	CHECK_STAT(nr_icmp6(&t).icp6s_badna == 1);
	nr_fini(&t);
}

TEST(nd6_unsolicited_na_for_unknown_target_ignored)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER), all = nr_a("ff02::1");
	struct ust_nd6_entry e;
	char buf[64];
	int i;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	for (i = 0; i < 200; i++) {
		struct in6_addr tg;

		snprintf(buf, sizeof(buf), "2001:2::1:%x", i);
		tg = nr_a(buf);
		nr_na(&t, &peer, &all, TL_NA_OVERRIDE, &tg, nr_mac_peer, 255);
	}
	CHECK(ust_nd6_get(t.st, 0, &e) == -UST_ENOENT);
	CHECK(NR_CNT(&t, nd6c_unsolna) == 200);
	(void)ours;
	nr_fini(&t);
}

TEST(nd6_na_override_rules)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer, 255);
	/* Another MAC without O: the entry is suspect (STALE), MAC kept. */
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer2, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE && memcmp(e.mac, nr_mac_peer, 6) == 0);
	/* With O and S: the new MAC, REACHABLE. */
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED | TL_NA_OVERRIDE, &peer, nr_mac_peer2, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_REACHABLE && memcmp(e.mac, nr_mac_peer2, 6) == 0);
	/* With O, unsolicited, a new MAC: STALE with it. */
	nr_na(&t, &peer, &ours, TL_NA_OVERRIDE | TL_NA_ROUTER, &peer, nr_mac_peer, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE && memcmp(e.mac, nr_mac_peer, 6) == 0);
	CHECK(e.flags & UST_ND6_ISROUTER);
	/* A static entry is not touched. */
	REQUIRE(ust_nd6_add_static(t.uifp, &peer, nr_mac_peer2) == 0);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED | TL_NA_OVERRIDE, &peer, nr_mac_peer, 255);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK((e.flags & UST_ND6_STATIC) && memcmp(e.mac, nr_mac_peer2, 6) == 0);
	CHECK(e.expire_ns == 0);
	nr_fini(&t);
}

TEST(nd6_static_entry_resolves_at_once)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	REQUIRE(ust_nd6_add_static(t.uifp, &peer, nr_mac_peer) == 0);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	REQUIRE(t.d->tx_count == 1);
	CHECK(memcmp(t.d->tx[0], nr_mac_peer, 6) == 0);
	nr_advance(&t, 100 * NR_SEC);
	CHECK(ust_nd6_del(t.uifp, &peer) == 0);
	CHECK(ust_nd6_del(t.uifp, &peer) == -UST_ENOENT);
	nr_fini(&t);
}

TEST(nd6_nud_hint_keeps_reachable)
{
	struct nr t;
	struct in6_addr ours, peer = nr_a(PEER);
	struct ust_nd6_entry e;
	int i;

	nd_setup(&t, ust_test_seed);
	ours = nr_a(OURS);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_na(&t, &peer, &ours, TL_NA_SOLICITED, &peer, nr_mac_peer, 255);
	/* Upper-layer hints every 10 s keep it REACHABLE: no probe. */
	for (i = 0; i < 10; i++) {
		nr_advance(&t, 10 * NR_SEC);
		nd6_nud_hint(t.ifp, &peer);
	}
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_REACHABLE);
	/* nd6_maxnudhint bounds them. */
	nr_knob(&t, "net.inet6.icmp6.nd6_maxnudhint", 2);
	nd6_nud_hint(t.ifp, &peer);
	nr_advance(&t, 50 * NR_SEC);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE);
	nd6_nud_hint(t.ifp, &peer); /* a STALE entry is left to NUD */
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE);
	nr_fini(&t);
}
#endif /* UST_INET6 */
