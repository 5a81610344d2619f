/*
 * test_slaac.c - router discovery and stateless autoconfiguration, host
 * side (RFC 4861 6, RFC 4862 5.5): router solicitations at attach, RA
 * validation, the default router and prefix lists (bounded, floods
 * counted), on-link routes, the default route, the MTU option, SLAAC
 * addresses with their lifetimes (deprecation, expiry, the two-hour
 * rule), redirects (off by default), and the hostile cases of issue 17
 * item 7 with an echo answered afterwards.
 */
#include "nd6rig.h"

#if UST_INET6

#define RTR "fe80::1"

static void
ra_setup(struct nr *t, uint64_t seed)
{
	nr_stack(t, seed);
	nr_knob(t, "net.inet6.ip6.accept_rtadv", 1);
	nr_knob(t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(t, "net.inet6.ip6.dad_count", 0);
	nr_attach(t);
}

/* The same with modified EUI-64 interface identifiers (RFC 4291 A). */
static void
ra_setup_eui64(struct nr *t, uint64_t seed)
{
	nr_stack(t, seed);
	nr_knob(t, "net.inet6.ip6.use_stableaddr", 0);
	nr_knob(t, "net.inet6.ip6.accept_rtadv", 1);
	nr_knob(t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(t, "net.inet6.ip6.dad_count", 0);
	nr_attach(t);
}

/* An RA from src (hop limit hlim) with router lifetime lt and the
 * options opts, to all-nodes, through the whole receive path. */
static void
ra(struct nr *t, const char *src, uint8_t hlim, uint16_t lt, const uint8_t *opts, size_t olen)
{
	struct in6_addr s = nr_a(src), all = nr_a("ff02::1");
	struct tl_ra r = { 64, 0, lt, 0, 0 };
	uint8_t pl[1600], dmac[6];
	size_t n = tl_nd_ra(pl, s.s6_addr8, all.s6_addr8, &r, opts, olen);

	tl_in6_mcast_mac(dmac, all.s6_addr8);
	nr_wire(t, dmac, &s, &all, hlim, pl, n);
}

static size_t
pio(uint8_t *o, const char *prefix, uint8_t plen, uint8_t flags, uint32_t vl, uint32_t pl)
{
	struct in6_addr p = nr_a(prefix);

	return (tl_nd_opt_prefix(o, p.s6_addr8, plen, flags, vl, pl));
}

#define LA (0x80 | 0x40)

/* Our SLAAC address in prefix/64, with its flags; 0 when none. */
static int
slaac_addr(struct nr *t, const char *prefix, struct in6_addr *out, unsigned *flags)
{
	struct in6_addr p = nr_a(prefix);
	struct ust_in6_addr x;
	unsigned i, plen, f;

	for (i = 0; ust_if_addr6_get(t->uifp, i, &x, &plen, &f) == 0; i++)
		if ((f & UST_IN6_IFF_AUTOCONF) && memcmp(x.s6_addr8, p.s6_addr8, 8) == 0) {
			*out = x;
			*flags = f;
			return (1);
		}
	return (0);
}

TEST(slaac_rs_at_attach_until_ra)
{
	struct nr t;
	struct tl_pkt6 p;

	ra_setup(&t, ust_test_seed);
	nr_advance(&t, 1001 * NR_MS);
	REQUIRE(nr_count(&t, ND_ROUTER_SOLICIT) == 1);
	REQUIRE(nr_last(&t, ND_ROUTER_SOLICIT, &p) == 0);
	CHECK(p.hlim == 255 && p.l4sum_ok);
	CHECK(p.dst[0] == 0xff && p.dst[1] == 0x02 && p.dst[15] == 2);
	/* from the link-local address, with our MAC */
	CHECK(p.src[0] == 0xfe && p.src[1] == 0x80);
	CHECK(tl_nd_opt_find(p.data, p.dlen, TL_ND_OPT_SLLA) == 0);
	nr_advance(&t, 4 * NR_SEC);
	CHECK(nr_count(&t, ND_ROUTER_SOLICIT) == 2);
	ra(&t, RTR, 255, 1800, NULL, 0);
	nr_advance(&t, 20 * NR_SEC);
	CHECK(nr_count(&t, ND_ROUTER_SOLICIT) == 2);
	nr_fini(&t);
}

TEST(slaac_no_rs_without_accept_rtadv)
{
	struct nr t;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_attach(&t);
	nr_advance(&t, 20 * NR_SEC);
	CHECK(nr_count(&t, ND_ROUTER_SOLICIT) == 0);
	/* and an RA changes nothing */
	ra(&t, RTR, 255, 1800, NULL, 0);
	{
		struct ust_route6_info ri;
		struct in6_addr d = nr_a("2001:2:0:9::1");

		CHECK(ust_route6_lookup(t.st, &d, 0, &ri) == -UST_ENETUNREACH);
	}
	nr_fini(&t);
}

/* accept_rtadv set after attach (ustack serve --sysctl) starts an
 * interface that has no IPv6 address yet, and only such an interface. */
TEST(slaac_accept_rtadv_after_attach)
{
	struct nr t;
	struct in6_addr g = nr_a("2001:2::77");
	struct ust_route6_info ri;
	struct in6_addr d = nr_a("2001:2:0:9::1");
	uint8_t o[64];
	size_t n;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.dad_count", 0);
	nr_attach(&t);
	nr_advance(&t, 5 * NR_SEC);
	REQUIRE(nr_count(&t, ND_ROUTER_SOLICIT) == 0);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_advance(&t, 2 * NR_SEC);
	CHECK(nr_count(&t, ND_ROUTER_SOLICIT) == 1);
	n = pio(o, "2001:2:0:9::", 64, LA, 86400, 14400);
	ra(&t, RTR, 255, 1800, o, n);
	nr_poll(&t);
	CHECK(ust_route6_lookup(t.st, &d, 0, &ri) == 0);
	nr_fini(&t);

	/* Configured before the knob changed: left as it is. */
	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.dad_count", 0);
	nr_attach(&t);
	REQUIRE(ust_if_addr6_add(t.uifp, &g, 64, UST_IN6_IFF_NODAD) == 0);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_advance(&t, 10 * NR_SEC);
	CHECK(nr_count(&t, ND_ROUTER_SOLICIT) == 0);
	nr_fini(&t);
}

TEST(slaac_ra_router_prefix_mtu_address)
{
	struct nr t;
	struct in6_addr a, want, rtr = nr_a(RTR), far = nr_a("2001:2:0:9::1"),
	                         onl = nr_a("2001:2::55");
	struct ust_route6_info ri;
	struct ust_nd6_entry e;
	uint8_t o[64];
	size_t n = 0;
	unsigned f;

	ra_setup_eui64(&t, ust_test_seed);
	n += pio(o + n, "2001:2::", 64, LA, 86400, 14400);
	n += tl_nd_opt_mtu(o + n, 1400);
	n += tl_nd_opt_lla(o + n, TL_ND_OPT_SLLA, nr_mac_peer);
	ra(&t, RTR, 255, 1800, o, n);
	/* The default route through the router. */
	REQUIRE(ust_route6_lookup(t.st, &far, 0, &ri) == 0);
	CHECK(in6_are_addr_equal(&ri.gateway, &rtr) && ri.prefixlen == 0);
	/* The on-link prefix. */
	REQUIRE(ust_route6_lookup(t.st, &onl, 0, &ri) == 0);
	CHECK(ri.prefixlen == 64 && IN6_IS_ADDR_UNSPECIFIED(&ri.gateway));
	/* The router's MAC, learned STALE, marked a router. */
	REQUIRE(nr_entry(&t, &rtr, &e) == 0);
	CHECK(e.state == UST_ND6_STALE && (e.flags & UST_ND6_ISROUTER));
	CHECK(ND_IFINFO(t.ifp)->linkmtu == 1400);
	/* The address: prefix + EUI-64. */
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	want = nr_a("2001:2::");
	tl_in6_eui64(want.s6_addr8, want.s6_addr8, nr_mac_ours);
	CHECK(in6_are_addr_equal(&a, &want));
	CHECK(!(f & UST_IN6_IFF_DEPRECATED));
	CHECK(NR_CNT(&t, icp6s_slaac) == 1);
	/* It is the source for global destinations. */
	{
		struct in6_addr s;

		REQUIRE(in6_selectsrc(t.st, &far, 0, NULL, &s) == 0);
		CHECK(in6_are_addr_equal(&s, &want));
	}
	/* An MTU option below 1280 is ignored. */
	n = tl_nd_opt_mtu(o, 1000);
	ra(&t, RTR, 255, 1800, o, n);
	CHECK(ND_IFINFO(t.ifp)->linkmtu == 1400);
	/* Router lifetime 0: no default router any more. */
	ra(&t, RTR, 255, 0, NULL, 0);
	CHECK(ust_route6_lookup(t.st, &far, 0, &ri) == -UST_ENETUNREACH);
	nr_fini(&t);
}

TEST(slaac_ra_validation)
{
	struct nr t;
	struct in6_addr far = nr_a("2001:2:0:9::1");
	struct ust_route6_info ri;
	struct ust_icmp6stat s;
	uint8_t o[64];
	size_t n;

	ra_setup(&t, ust_test_seed);
	n = pio(o, "2001:2::", 64, LA, 86400, 14400);
	ra(&t, RTR, 64, 1800, o, n);          /* hop limit not 255 */
	ra(&t, "2001:2::1", 255, 1800, o, n); /* not link-local */
	s = nr_icmp6(&t);
	CHECK_STAT(s.icp6s_invlhlim == 1);
	CHECK_STAT(s.icp6s_badra == 1);
	CHECK(ust_route6_lookup(t.st, &far, 0, &ri) == -UST_ENETUNREACH);
	{
		struct in6_addr a;
		unsigned f;

		CHECK(!slaac_addr(&t, "2001:2::", &a, &f));
	}
	nr_fini(&t);
}

TEST(slaac_lifetimes_deprecate_expire)
{
	struct nr t;
	struct in6_addr a;
	uint8_t o[64];
	size_t n;
	unsigned f;

	ra_setup(&t, ust_test_seed);
	n = pio(o, "2001:2::", 64, LA, 20, 10);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	CHECK(!(f & UST_IN6_IFF_DEPRECATED));
	nr_advance(&t, 11 * NR_SEC);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	CHECK(f & UST_IN6_IFF_DEPRECATED);
	nr_advance(&t, 10 * NR_SEC);
	CHECK(!slaac_addr(&t, "2001:2::", &a, &f));
	{
		struct ust_route6_info ri;
		struct in6_addr onl = nr_a("2001:2::55");

		/* the prefix's route went: only the default route is left */
		REQUIRE(ust_route6_lookup(t.st, &onl, 0, &ri) == 0);
		CHECK(ri.prefixlen == 0);
	}
	nr_fini(&t);
}

TEST(slaac_two_hour_rule)
{
	struct nr t;
	struct in6_addr a;
	struct in6_ifaddr *ia;
	uint8_t o[64];
	size_t n;
	unsigned f;
	uint64_t now;

	ra_setup(&t, ust_test_seed);
	n = pio(o, "2001:2::", 64, LA, 86400, 3600);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	ia = in6ifa_find(t.st, &a, t.ifp);
	REQUIRE(ia != NULL);
	now = stack_now(t.st);
	CHECK(ia->ia6_lifetime.ia6t_expire == now + 86400 * NR_SEC);
	/* A forged short lifetime: cut to two hours only (5.5.3 (e)). */
	n = pio(o, "2001:2::", 64, LA, 60, 30);
	ra(&t, RTR, 255, 1800, o, n);
	CHECK(ia->ia6_lifetime.ia6t_expire == now + 7200 * NR_SEC);
	/* Longer than two hours: taken. */
	n = pio(o, "2001:2::", 64, LA, 10000, 30);
	ra(&t, RTR, 255, 1800, o, n);
	CHECK(ia->ia6_lifetime.ia6t_expire == now + 10000 * NR_SEC);
	/* With at most two hours left, a shorter one is ignored. */
	nr_advance(&t, (10000 - 3600) * NR_SEC);
	now = stack_now(t.st);
	n = pio(o, "2001:2::", 64, LA, 60, 30);
	ra(&t, RTR, 255, 1800, o, n);
	CHECK(ia->ia6_lifetime.ia6t_expire == now + 3600 * NR_SEC);
	nr_fini(&t);
}

TEST(slaac_stable_address_rfc7217)
{
	struct nr t;
	struct in6_addr a, eui = nr_a("2001:2::");
	uint8_t o[64];
	size_t n;
	unsigned f;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_knob(&t, "net.inet6.ip6.use_stableaddr", 1);
	nr_knob(&t, "net.inet6.ip6.dad_count", 0);
	nr_attach(&t);
	n = pio(o, "2001:2::", 64, LA, 86400, 14400);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	tl_in6_eui64(eui.s6_addr8, eui.s6_addr8, nr_mac_ours);
	CHECK(!in6_are_addr_equal(&a, &eui));
	{
		struct in6_addr x, p = nr_a("2001:2::");

		in6_stable_iid(t.ifp, &p, 0, &x);
		CHECK(in6_are_addr_equal(&a, &x));
	}
	nr_fini(&t);
}

TEST(slaac_redirect_off_by_default_on_with_rediraccept)
{
	struct nr t;
	struct in6_addr rtr = nr_a(RTR), dst = nr_a("2001:2:0:9::1"), tgt = nr_a("fe80::2"), a;
	struct ust_route6_info ri;
	uint8_t pl[256], o[64];
	size_t n;
	unsigned f;

	ra_setup(&t, ust_test_seed);
	n = pio(o, "2001:2::", 64, LA, 86400, 14400);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	n = tl_nd_redirect(pl, rtr.s6_addr8, a.s6_addr8, tgt.s6_addr8, dst.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer2));
	nr_wire(&t, nr_mac_ours, &rtr, &a, 255, pl, n);
	REQUIRE(ust_route6_lookup(t.st, &dst, 0, &ri) == 0);
	CHECK(in6_are_addr_equal(&ri.gateway, &rtr));
	CHECK(NR_CNT(&t, icp6s_redirignored) == 1);
	nr_knob(&t, "net.inet6.icmp6.rediraccept", 1);
	nr_wire(&t, nr_mac_ours, &rtr, &a, 255, pl, n);
	REQUIRE(ust_route6_lookup(t.st, &dst, 0, &ri) == 0);
	CHECK(in6_are_addr_equal(&ri.gateway, &tgt) && ri.prefixlen == 128);
	/* From someone who is not our first hop: refused. */
	{
		struct in6_addr other = nr_a("fe80::3"), dst2 = nr_a("2001:2:0:8::1");

		n = tl_nd_redirect(pl, other.s6_addr8, a.s6_addr8, tgt.s6_addr8, dst2.s6_addr8,
		    NULL, 0);
		nr_wire(&t, nr_mac_ours, &other, &a, 255, pl, n);
		CHECK_STAT(nr_icmp6(&t).icp6s_badredirect == 1);
	}
	nr_fini(&t);
}

/* ---- hostile (issue 17 item 7) ---- */

/* An echo request from the peer to dst; 1 when the reply left. */
static int
echo_ok(struct nr *t, const struct in6_addr *dst)
{
	struct in6_addr peer = nr_a("2001:2::20");
	uint8_t f[256], d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct tl_pkt6 p;
	size_t n;
	int from = t->d->tx_count, i;

	n = tl_frame6_icmp(f, nr_mac_ours, nr_mac_peer, peer.s6_addr8, dst->s6_addr8, 64,
	    ICMP6_ECHO_REQUEST, 0, 0x12340001u, d, sizeof(d));
	nr_inject(t, f, n);
	for (i = from; i < t->d->tx_count; i++)
		if (nr_tx(t, i, &p) == 0 && p.icmp_type == ICMP6_ECHO_REPLY &&
		    memcmp(p.dst, peer.s6_addr8, 16) == 0 && p.l4sum_ok)
			return (1);
	return (0);
}

TEST(hostile_nd_bad_hlim_unsolicited_na_ra_flood_then_echo)
{
	struct nr t;
	struct in6_addr ours = nr_a("2001:2::10"), peer = nr_a("2001:2::20"), all = nr_a("ff02::1"),
	                sol;
	struct ust_icmp6stat s;
	struct ust_nd6_entry e;
	uint8_t pl[256], o[1600], dmac[6];
	size_t n, mem0, mem1;
	char buf[64];
	int i, j;

	ra_setup(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &ours, 64, UST_IN6_IFF_NODAD) == 0);
	REQUIRE(ust_nd6_add_static(t.uifp, &peer, nr_mac_peer) == 0);
	nr_advance(&t, 2 * NR_SEC);
	CHECK(echo_ok(&t, &ours));
	/* 1. NS and NA with hop limits below 255: dropped, counted. */
	in6_solicited_node(&ours, &sol);
	tl_in6_mcast_mac(dmac, sol.s6_addr8);
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, ours.s6_addr8, NULL, 0);
	for (i = 0; i < 50; i++)
		nr_wire(&t, dmac, &peer, &sol, (uint8_t)(1 + i), pl, n);
	tl_in6_mcast_mac(dmac, all.s6_addr8);
	n = tl_nd_na(pl, peer.s6_addr8, all.s6_addr8, TL_NA_OVERRIDE, peer.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer2));
	for (i = 0; i < 50; i++)
		nr_wire(&t, dmac, &peer, &all, 64, pl, n);
	s = nr_icmp6(&t);
	CHECK_STAT(s.icp6s_invlhlim == 100);
	CHECK(nr_count(&t, ND_NEIGHBOR_ADVERT) == 0);
	REQUIRE(nr_entry(&t, &peer, &e) == 0);
	CHECK(memcmp(e.mac, nr_mac_peer, 6) == 0);
	/* 2. Unsolicited NAs for 300 unknown targets: no entries. */
	for (i = 0; i < 300; i++) {
		struct in6_addr tg;

		snprintf(buf, sizeof(buf), "2001:2::7:%x", i);
		tg = nr_a(buf);
		n = tl_nd_na(pl, peer.s6_addr8, all.s6_addr8, TL_NA_OVERRIDE, tg.s6_addr8, o,
		    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer2));
		nr_wire(&t, dmac, &peer, &all, 255, pl, n);
	}
	CHECK(NR_CNT(&t, icp6s_nd_unsolna) == 300);
	CHECK(ust_nd6_get(t.st, 1, &e) == -UST_ENOENT); /* only the static one */
	/* 3. RAs with hundreds of prefixes, from hundreds of routers: the
	 * lists stay bounded, the overflow is counted, memory stops
	 * growing. */
	mem0 = 0;
	for (i = 0; i < 300; i++) {
		struct in6_addr r;

		n = 0;
		for (j = 0; j < 40; j++) {
			snprintf(buf, sizeof(buf), "2001:2:%x:%x::", i, j);
			n += pio(o + n, buf, 64, LA, 86400, 14400);
		}
		snprintf(buf, sizeof(buf), "fe80::1:%x", i);
		r = nr_a(buf);
		ra(&t, buf, 255, 1800, o, n);
		(void)r;
		if (i == 99)
			mem0 = t.st->st_mem.in_use;
	}
	mem1 = t.st->st_mem.in_use;
	s = nr_icmp6(&t);
	CHECK_STAT(s.icp6s_overflowdefrtr > 0);
	CHECK_STAT(s.icp6s_overflowprfx > 0);
	CHECK_STAT(s.icp6s_nd_toomanyopt == 300); /* 40 options, FreeBSD's 10 */
	CHECK(mem1 == mem0);
	{
		struct nd_defrouter *dr;
		struct nd_prefix *pr;
		unsigned nd = 0, np = 0, na = 0;
		struct ust_in6_addr x;
		unsigned plen, f;

		for (dr = t.st->st_nd6->nd_routers; dr != NULL; dr = dr->dr_next)
			nd++;
		for (pr = t.st->st_nd6->nd_prefixes; pr != NULL; pr = pr->ndpr_next)
			np++;
		while (ust_if_addr6_get(t.uifp, na, &x, &plen, &f) == 0)
			na++;
		CHECK(nd == 16); /* net.inet6.ip6.maxifdefrouters */
		CHECK(np == 16); /* net.inet6.ip6.maxifprefixes */
		CHECK(na <= 2 + 16);
	}
	/* The stack still answers. */
	CHECK(echo_ok(&t, &ours));
	nr_fini(&t);
}

TEST(slaac_stable_address_dad_collision_retries)
{
	struct nr t;
	struct in6_addr a, b, all = nr_a("ff02::1"), p = nr_a("2001:2::"), x;
	uint8_t o[64], pl[64], dmac[6];
	size_t n;
	unsigned f;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_knob(&t, "net.inet6.ip6.use_stableaddr", 1);
	nr_attach(&t); /* dad_count 1 */
	n = pio(o, "2001:2::", 64, LA, 86400, 14400);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &a, &f));
	CHECK(f & UST_IN6_IFF_TENTATIVE);
	/* Someone has it: RFC 7217 6, the next DAD counter. */
	n = tl_nd_na(pl, a.s6_addr8, all.s6_addr8, TL_NA_OVERRIDE, a.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer));
	tl_in6_mcast_mac(dmac, all.s6_addr8);
	nr_wire(&t, dmac, &a, &all, 255, pl, n);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED);
	in6_stable_iid(t.ifp, &p, 1, &x);
	CHECK(nr_addr_flags(&t, &x) & UST_IN6_IFF_TENTATIVE);
	nr_advance(&t, 2 * NR_SEC);
	CHECK((nr_addr_flags(&t, &x) & ~(unsigned)0x10000) == UST_IN6_IFF_AUTOCONF);
	/* The next RA refreshes the new one, makes no third. */
	n = pio(o, "2001:2::", 64, LA, 86400, 14400);
	ra(&t, RTR, 255, 1800, o, n);
	REQUIRE(slaac_addr(&t, "2001:2::", &b, &f));
	CHECK(in6_are_addr_equal(&b, &x) || in6_are_addr_equal(&b, &a));
	CHECK(NR_CNT(&t, icp6s_slaac) == 2);
	nr_fini(&t);
}
#endif /* UST_INET6 */
