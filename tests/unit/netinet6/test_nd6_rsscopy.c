/*
 * test_nd6_rsscopy.c - a group's copies of ND frames (M_RSSCOPY, decision
 * 2 of docs/multicore.md), through ether_input as the group hands them
 * over: a solicitation teaches its sender's link-layer address but gets
 * no advertisement (and a DAD probe for a tentative address still fails
 * it); an advertisement resolves a pending entry and releases what it
 * held; a router advertisement installs the router, its prefix and the
 * SLAAC address; router solicitations, redirects and MLD queries are
 * ignored (no report); nothing a copy causes is an answer.  In a group,
 * the stacks probe an address with one nonce, so a probe the link looped
 * back to any of them is a loop, not a duplicate.
 */
#include "nd6rig.h"
#include "net/ethernet.h"
#include "net/rss_config.h"

#if UST_INET6

static const char *OURS = "2001:2::10";
static const char *PEER = "2001:2::20";

/* The frame as a copy another stack of the group received. */
static void
nr_copy(struct nr *t, const uint8_t *f, size_t len)
{
	struct mbuf *m = m_devget(t->ifp, f, len);

	if (m == NULL)
		abort();
	m->m_flags |= M_RSSCOPY;
	ether_input(t->ifp, m);
	nr_poll(t);
}

/* An ICMPv6 message from the peer's MAC, as a copy (copy 1) or off the
 * stack's own queue (copy 0). */
static void
nd_frame(struct nr *t, int copy, const uint8_t *dmac, const struct in6_addr *src,
    const struct in6_addr *dst, uint8_t hlim, const uint8_t *pl, size_t plen)
{
	uint8_t f[2048];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, hlim, src->s6_addr8, dst->s6_addr8 };
	size_t n = tl_frame6(f, dmac, nr_mac_peer, &h, NULL, 0, pl, plen);

	if (copy)
		nr_copy(t, f, n);
	else
		nr_inject(t, f, n);
}

static void
nd_setup(struct nr *t, uint64_t seed)
{
	struct in6_addr a = nr_a(OURS);

	nr_init(t, seed);
	REQUIRE(ust_if_addr6_add(t->uifp, &a, 64, UST_IN6_IFF_NODAD) == 0);
	nr_poll(t);
	t->d->tx_count = 0;
}

/* A solicitation for our address from the peer (SLLAO), as a copy. */
static void
ns_for_ours(struct nr *t, int copy)
{
	struct in6_addr ours = nr_a(OURS), peer = nr_a(PEER), sol;
	uint8_t pl[64], o[8], dmac[6];
	size_t n;

	in6_solicited_node(&ours, &sol);
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, ours.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_SLLA, nr_mac_peer));
	tl_in6_mcast_mac(dmac, sol.s6_addr8);
	nd_frame(t, copy, dmac, &peer, &sol, 255, pl, n);
}

TEST(nd6_copy_ns_learned_not_answered)
{
	struct nr t;
	struct in6_addr peer = nr_a(PEER);
	struct ust_nd6_entry e;

	nd_setup(&t, ust_test_seed);
	ns_for_ours(&t, 1);
	CHECK_EQ(t.d->tx_count, 0);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_STALE && memcmp(e.mac, nr_mac_peer, 6) == 0);
	CHECK_STAT(NR_CNT(&t, icp6s_naout) == 0);
	/* The same solicitation off our own queue is answered. */
	ns_for_ours(&t, 0);
	CHECK_EQ(nr_count(&t, ND_NEIGHBOR_ADVERT), 1);
	nr_fini(&t);
}

/* A DAD probe (from ::) for our tentative address, seen by another stack
 * of the group: the address is somebody else's all the same. */
TEST(nd6_copy_dad_probe_fails_tentative)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), any = nr_a("::"), sol;
	uint8_t pl[64], dmac[6];
	size_t n;

	nr_stack(&t, ust_test_seed); /* dad_count 1 */
	nr_attach(&t);
	nr_poll(&t);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	nr_poll(&t);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	t.d->tx_count = 0;
	in6_solicited_node(&a, &sol);
	n = tl_nd_ns(pl, any.s6_addr8, sol.s6_addr8, a.s6_addr8, NULL, 0);
	tl_in6_mcast_mac(dmac, sol.s6_addr8);
	nd_frame(&t, 1, dmac, &any, &sol, 255, pl, n);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED);
	CHECK_EQ(nr_count(&t, ND_NEIGHBOR_ADVERT), 0);
	/* A probe from :: for a ready address is answered by the stack that
	 * got it (to all-nodes), never by a copy. */
	nr_fini(&t);
	nd_setup(&t, ust_test_seed);
	nd_frame(&t, 1, dmac, &any, &sol, 255, pl, n);
	CHECK_EQ(t.d->tx_count, 0);
	nd_frame(&t, 0, dmac, &any, &sol, 255, pl, n);
	CHECK_EQ(nr_count(&t, ND_NEIGHBOR_ADVERT), 1);
	nr_fini(&t);
}

/* Our own resolution is pending (another stack got the answer): the copy
 * of the advertisement resolves it and the held packet leaves. */
TEST(nd6_copy_na_resolves_pending)
{
	struct nr t;
	struct in6_addr ours = nr_a(OURS), peer = nr_a(PEER);
	struct ust_nd6_entry e;
	uint8_t pl[64], o[8];
	size_t n;

	nd_setup(&t, ust_test_seed);
	CHECK(nd6_output(t.ifp, nr_pkt(&t, &ours, &peer), &peer) == 0);
	nr_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 1); /* the solicitation */
	n = tl_nd_na(pl, peer.s6_addr8, ours.s6_addr8, TL_NA_SOLICITED | TL_NA_OVERRIDE,
	    peer.s6_addr8, o, tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer));
	nd_frame(&t, 1, nr_mac_ours, &peer, &ours, 255, pl, n);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(e.state == UST_ND6_REACHABLE && e.held == 0);
	CHECK(memcmp(e.mac, nr_mac_peer, 6) == 0);
	REQUIRE_EQ(t.d->tx_count, 2);
	CHECK(memcmp(t.d->tx[1], nr_mac_peer, 6) == 0);
	CHECK(t.d->tx[1][14 + 6] == 17); /* the held UDP packet, not an answer */
	nr_fini(&t);
}

/* A router advertisement copy: the default route, the prefix and the
 * SLAAC address, as from the stack's own queue. */
TEST(nd6_copy_ra_processed)
{
	struct nr t;
	struct in6_addr rtr = nr_a("fe80::1"), all = nr_a("ff02::1"), d = nr_a("2001:db9::1");
	struct in6_addr pfx = nr_a("2001:2:0:5::");
	struct tl_ra r = { 64, 0, 1800, 0, 0 };
	struct ust_route6_info ri;
	struct ust_in6_addr x;
	uint8_t pl[256], o[64], dmac[6];
	unsigned i, plen, flags, slaac = 0;
	size_t n, ol;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.dad_count", 0);
	nr_attach(&t);
	nr_advance(&t, 10 * NR_MS);
	CHECK(ust_route6_lookup(t.st, &d, 0, &ri) == -UST_ENETUNREACH);
	ol = tl_nd_opt_prefix(o, pfx.s6_addr8, 64, 0x80 | 0x40, 86400, 14400);
	ol += tl_nd_opt_lla(o + ol, TL_ND_OPT_SLLA, nr_mac_peer);
	n = tl_nd_ra(pl, rtr.s6_addr8, all.s6_addr8, &r, o, ol);
	tl_in6_mcast_mac(dmac, all.s6_addr8);
	nd_frame(&t, 1, dmac, &rtr, &all, 255, pl, n);
	CHECK(ust_route6_lookup(t.st, &d, 0, &ri) == 0);
	for (i = 0; ust_if_addr6_get(t.uifp, i, &x, &plen, &flags) == 0; i++)
		if ((flags & UST_IN6_IFF_AUTOCONF) && memcmp(x.s6_addr8, pfx.s6_addr8, 8) == 0)
			slaac++;
	CHECK_EQ(slaac, 1);
	{
		struct ust_nd6_entry e;

		REQUIRE(nr_entry(&t, &rtr, &e) == 0);
		CHECK(memcmp(e.mac, nr_mac_peer, 6) == 0);
		CHECK(e.flags & UST_ND6_ISROUTER);
	}
	nr_fini(&t);
}

/* Router solicitations and redirects: ignored as copies (a redirect off
 * our own queue, with rediraccept, would add a route); an MLD query copy
 * gets no report, while the query itself does. */
TEST(nd6_copy_rs_redirect_mld_ignored)
{
	struct nr t;
	struct in6_addr ours = nr_a(OURS), peer = nr_a(PEER), all = nr_a("ff02::1");
	struct in6_addr rtr = nr_a("fe80::1"), tgt = nr_a("fe80::9"), dst = nr_a("2001:db8::5");
	struct in6_addr allr = nr_a("ff02::2"), llq = nr_a("fe80::77");
	struct ust_route6_info ri;
	uint8_t pl[256], dmac[6], f[256], opt[8], d[20];
	size_t n, ol;
	int before;

	nd_setup(&t, ust_test_seed);
	n = tl_nd_rs(pl, peer.s6_addr8, allr.s6_addr8, NULL, 0);
	tl_in6_mcast_mac(dmac, allr.s6_addr8);
	nd_frame(&t, 1, dmac, &peer, &allr, 255, pl, n);
	CHECK_EQ(t.d->tx_count, 0);
	/* A redirect from our (off-link) router for dst: not taken from a
	 * copy even with rediraccept. */
	nr_knob(&t, "net.inet6.icmp6.rediraccept", 1);
	REQUIRE(ust_route6_add(t.st, &(struct ust_in6_addr){ { 0 } }, 0, &rtr, t.uifp) == 0);
	n = tl_nd_redirect(pl, rtr.s6_addr8, ours.s6_addr8, tgt.s6_addr8, dst.s6_addr8, NULL, 0);
	nd_frame(&t, 1, nr_mac_ours, &rtr, &ours, 255, pl, n);
	REQUIRE(ust_route6_lookup(t.st, &dst, 0, &ri) == 0);
	CHECK(memcmp(ri.gateway.s6_addr8, rtr.s6_addr8, 16) == 0);
	CHECK_EQ(t.d->tx_count, 0);
	/* The same redirect off our own queue is taken. */
	nd_frame(&t, 0, nr_mac_ours, &rtr, &ours, 255, pl, n);
	REQUIRE(ust_route6_lookup(t.st, &dst, 0, &ri) == 0);
	CHECK(memcmp(ri.gateway.s6_addr8, tgt.s6_addr8, 16) == 0);
	/* An MLDv1 general query (hop limit 1, router alert), once the
	 * joins' unsolicited reports are all out. */
	nr_advance(&t, 10 * NR_SEC);
	before = t.d->tx_count;
	memset(d, 0, sizeof(d));
	n = tl_icmp6(pl, llq.s6_addr8, all.s6_addr8, MLD_LISTENER_QUERY, 0, 1000u << 16, d, 16);
	ol = tl_opt6(opt, 5, "\0\0", 2);
	{
		struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, 1, llq.s6_addr8, all.s6_addr8 };
		struct tl_ext6 e;
		size_t fl;

		memset(&e, 0, sizeof(e));
		e.type = TL_IPPROTO_HOPOPTS;
		e.data = opt;
		e.len = ol;
		tl_in6_mcast_mac(dmac, all.s6_addr8);
		fl = tl_frame6(f, dmac, nr_mac_peer, &h, &e, 1, pl, n);
		nr_copy(&t, f, fl);
		nr_advance(&t, 3 * NR_SEC);
		CHECK_EQ(t.d->tx_count, before);
		nr_inject(&t, f, fl);
		nr_advance(&t, 3 * NR_SEC);
		CHECK(t.d->tx_count > before);
	}
	nr_fini(&t);
}

#if UST_SMP
/* Two stacks of a group (created with one seed, then reseeded apart, as
 * the group does): they probe the same tentative address with the same
 * nonce, so stack 0's probe looped back by the link (and received by
 * stack 1, or copied to it) is a loop to both, not another node. */
TEST(nd6_group_dad_loop_not_duplicate)
{
	struct nr t0, t1;
	struct rss_state rs0, rs1;
	struct in6_addr a = nr_a(OURS);
	struct tl_pkt6 p;
	uint8_t f[LOOPDRV_FRAME];
	size_t len = 0;
	int i;

	nr_stack(&t0, ust_test_seed);
	nr_stack(&t1, ust_test_seed);
	ust_rng_seed(&t1.st->st_rng, ust_test_seed + 1000);
	memset(&rs0, 0, sizeof(rs0));
	ust_rss_default_key(rs0.rs_key);
	rs0.rs_n = 2;
	rs1 = rs0;
	rs1.rs_self = 1;
	nr_attach(&t0);
	nr_attach(&t1);
	/* The nonce is drawn when DAD starts, as the address is added.  Only
	 * st_rss is set, around that call: a polled stack with st_rss set is
	 * taken for one a group runs. */
	t0.st->st_rss = &rs0;
	t1.st->st_rss = &rs1;
	REQUIRE(ust_if_addr6_add(t0.uifp, &a, 64, 0) == 0);
	REQUIRE(ust_if_addr6_add(t1.uifp, &a, 64, 0) == 0);
	t0.st->st_rss = NULL;
	t1.st->st_rss = NULL;
	nr_advance(&t0, 2 * NR_SEC / 10);
	nr_advance(&t1, 2 * NR_SEC / 10);
	for (i = 0; i < t0.d->tx_count; i++)
		if (nr_tx(&t0, i, &p) == 0 && p.proto == TL_IPPROTO_ICMPV6 &&
		    p.icmp_type == ND_NEIGHBOR_SOLICIT) {
			len = t0.d->tx_len[i];
			memcpy(f, t0.d->tx[i], len);
			break;
		}
	REQUIRE(len > 0);
	CHECK(nr_addr_flags(&t1, &a) & UST_IN6_IFF_TENTATIVE);
	nr_copy(&t1, f, len);
	nr_inject(&t1, f, len);
	nr_inject(&t0, f, len);
	CHECK(!(nr_addr_flags(&t0, &a) & UST_IN6_IFF_DUPLICATED));
	CHECK(!(nr_addr_flags(&t1, &a) & UST_IN6_IFF_DUPLICATED));
	CHECK_STAT(NR_CNT(&t1, icp6s_dadloop) == 2);
	CHECK_STAT(NR_CNT(&t0, icp6s_dadloop) == 1);
	nr_advance(&t0, 3 * NR_SEC);
	nr_advance(&t1, 3 * NR_SEC);
	CHECK((nr_addr_flags(&t0, &a) & (UST_IN6_IFF_TENTATIVE | UST_IN6_IFF_DUPLICATED)) == 0);
	CHECK((nr_addr_flags(&t1, &a) & (UST_IN6_IFF_TENTATIVE | UST_IN6_IFF_DUPLICATED)) == 0);
	nr_fini(&t0);
	nr_fini(&t1);
}

#endif

#endif
