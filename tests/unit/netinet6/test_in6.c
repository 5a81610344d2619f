/*
 * test_in6.c - addresses: duplicate address detection (RFC 4862 5.4, RFC
 * 7527 nonces), the link-local address made at attach (auto_linklocal;
 * EUI-64 or RFC 7217 stable identifiers), source address selection (RFC
 * 6724 5) and scope zones (RFC 4007).
 */
#include "nd6rig.h"
#include "netinet6/scope6_var.h"

#if UST_INET6

static const char *OURS = "2001:2::10";

static void
dad_setup(struct nr *t, uint64_t seed)
{
	nr_stack(t, seed); /* dad_count 1 (FreeBSD's default) */
	nr_attach(t);
	nr_poll(t);
	t->d->tx_count = 0;
}

TEST(in6_dad_probes_then_address_ready)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), sol;
	struct tl_pkt6 p;
	long o;

	dad_setup(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	/* A tentative address is no source. */
	{
		struct in6_addr s, dst = nr_a("2001:2::99");

		CHECK(in6_selectsrc(t.st, &dst, 0, NULL, &s) == UST_EADDRNOTAVAIL);
	}
	nr_poll(&t);
	REQUIRE(nr_last(&t, ND_NEIGHBOR_SOLICIT, &p) == 0);
	in6_solicited_node(&a, &sol);
	CHECK(p.hlim == 255 && p.l4sum_ok);
	CHECK(memcmp(p.dst, sol.s6_addr8, 16) == 0);
	CHECK(memcmp(p.data, a.s6_addr8, 16) == 0);
	{
		struct in6_addr any = nr_a("::");

		CHECK(memcmp(p.src, any.s6_addr8, 16) == 0);
	}
	/* No source link-layer option from ::, a nonce (RFC 7527). */
	CHECK(tl_nd_opt_find(p.data + 16, p.dlen - 16, TL_ND_OPT_SLLA) < 0);
	o = tl_nd_opt_find(p.data + 16, p.dlen - 16, 14);
	CHECK(o >= 0);
	nr_advance(&t, 999 * NR_MS);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	nr_advance(&t, 2 * NR_MS);
	CHECK((nr_addr_flags(&t, &a) & (UST_IN6_IFF_TENTATIVE | UST_IN6_IFF_DUPLICATED)) == 0);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 1);
	nr_fini(&t);
}

TEST(in6_dad_count_knob)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS);

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.dad_count", 3);
	nr_attach(&t);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	nr_advance(&t, 2500 * NR_MS);
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 3);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	nr_advance(&t, 600 * NR_MS);
	CHECK(!(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE));
	nr_fini(&t);
}

TEST(in6_dad_duplicate_by_na)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), all = nr_a("ff02::1");
	uint8_t pl[64], o[8];
	size_t n;

	dad_setup(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	nr_poll(&t);
	/* The defender's advertisement, through the whole receive path. */
	n = tl_nd_na(pl, a.s6_addr8, all.s6_addr8, TL_NA_OVERRIDE, a.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer));
	{
		uint8_t dmac[6];

		tl_in6_mcast_mac(dmac, all.s6_addr8);
		nr_wire(&t, dmac, &a, &all, 255, pl, n);
	}
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED);
	CHECK(!(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE));
	CHECK(NR_CNT(&t, nd6c_dupaddr) == 1);
	nr_advance(&t, 3 * NR_SEC);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED);
	/* A duplicated address is not answered for. */
	{
		struct in6_addr peer = nr_a("2001:2::20"), sol;

		in6_solicited_node(&a, &sol);
		n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, a.s6_addr8, o,
		    tl_nd_opt_lla(o, TL_ND_OPT_SLLA, nr_mac_peer));
		nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
		CHECK(nr_count(&t, ND_NEIGHBOR_ADVERT) == 0);
	}
	nr_fini(&t);
}

TEST(in6_dad_ns_from_unspecified_own_nonce_loops_other_collides)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), any = nr_a("::"), sol;
	struct tl_pkt6 p;
	uint8_t pl[64], o[8];
	size_t n;
	long off;

	dad_setup(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	nr_poll(&t);
	REQUIRE(nr_last(&t, ND_NEIGHBOR_SOLICIT, &p) == 0);
	off = tl_nd_opt_find(p.data + 16, p.dlen - 16, 14);
	REQUIRE(off >= 0);
	in6_solicited_node(&a, &sol);
	/* Our own solicitation looped back (same nonce): not a collision. */
	memcpy(o, p.data + 16 + off, 8);
	n = tl_nd_ns(pl, any.s6_addr8, sol.s6_addr8, a.s6_addr8, o, 8);
	nr_send(&t, nr_mac_ours, &any, &sol, 255, pl, n);
	CHECK(NR_CNT(&t, nd6c_dadloop) == 1);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	/* Another node's DAD for the same address: ours fails. */
	o[2] ^= 0xff;
	n = tl_nd_ns(pl, any.s6_addr8, sol.s6_addr8, a.s6_addr8, o, 8);
	nr_send(&t, nr_mac_ours, &any, &sol, 255, pl, n);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED);
	nr_fini(&t);
}

TEST(in6_dad_ns_from_unicast_for_tentative_ignored)
{
	struct nr t;
	struct in6_addr a = nr_a(OURS), peer = nr_a("2001:2::20"), sol;
	uint8_t pl[64], o[8];
	size_t n;

	dad_setup(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &a, 64, 0) == 0);
	nr_poll(&t);
	in6_solicited_node(&a, &sol);
	n = tl_nd_ns(pl, peer.s6_addr8, sol.s6_addr8, a.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_SLLA, nr_mac_peer));
	nr_send(&t, nr_mac_ours, &peer, &sol, 255, pl, n);
	CHECK(nr_addr_flags(&t, &a) & UST_IN6_IFF_TENTATIVE);
	CHECK(!(nr_addr_flags(&t, &a) & UST_IN6_IFF_DUPLICATED));
	CHECK(nr_count(&t, ND_NEIGHBOR_ADVERT) == 0);
	nr_fini(&t);
}

/* The interface's link-local address, or fails. */
static struct in6_addr
nr_linklocal(struct nr *t, unsigned *flags)
{
	struct ust_in6_addr x;
	unsigned i, plen, f;

	for (i = 0; ust_if_addr6_get(t->uifp, i, &x, &plen, &f) == 0; i++)
		if (x.s6_addr8[0] == 0xfe && x.s6_addr8[1] == 0x80) {
			if (flags != NULL)
				*flags = f;
			return (x);
		}
	memset(&x, 0, sizeof(x));
	return (x);
}

TEST(in6_linklocal_with_first_address_eui64_dad_mld)
{
	struct nr t;
	struct in6_addr ll, want, sol, g = nr_a(OURS);
	struct tl_pkt6 p;
	unsigned flags = 0;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_attach(&t);
	/* Nothing at attach: IPv6 is not configured on the interface. */
	CHECK(nr_linklocal(&t, NULL).s6_addr8[0] == 0);
	nr_advance(&t, 5 * NR_SEC);
	CHECK(t.d->tx_count == 0);
	REQUIRE(ust_if_addr6_add(t.uifp, &g, 64, UST_IN6_IFF_NODAD) == 0);
	ll = nr_linklocal(&t, &flags);
	/* It came first. */
	{
		struct ust_in6_addr x;
		unsigned plen, f;

		REQUIRE(ust_if_addr6_get(t.uifp, 0, &x, &plen, &f) == 0);
		CHECK(in6_are_addr_equal(&x, &ll) && plen == 64);
	}
	memset(&want, 0, sizeof(want));
	want.s6_addr8[0] = 0xfe;
	want.s6_addr8[1] = 0x80;
	tl_in6_eui64(want.s6_addr8, want.s6_addr8, nr_mac_ours);
	CHECK(in6_are_addr_equal(&ll, &want));
	CHECK(flags & UST_IN6_IFF_TENTATIVE);
	/* all-nodes and the solicited-node group are joined */
	in6_solicited_node(&ll, &sol);
	CHECK(in6_mcast_member(t.ifp, &sol));
	{
		struct in6_addr all = nr_a("ff02::1");

		CHECK(in6_mcast_member(t.ifp, &all));
	}
	nr_advance(&t, NR_MS);
	/* DAD's solicitation and the MLDv2 report of the solicited-node
	 * group (from ::, the link-local address being tentative). */
	CHECK(nr_count(&t, ND_NEIGHBOR_SOLICIT) == 1);
	REQUIRE(nr_last(&t, MLDV2_LISTENER_REPORT, &p) == 0);
	/* (fe80::ff:fe00:10 and 2001:2::10 share ff02::1:ff00:10) */
	CHECK(p.hlim == 1 && p.l4sum_ok && p.next == 1 && p.ext_type[0] == TL_IPPROTO_HOPOPTS);
	CHECK(p.ip6[8] == 0 && p.ip6[23] == 0); /* from :: */
	CHECK(p.dst[0] == 0xff && p.dst[1] == 0x02 && p.dst[15] == 0x16);
	/* one record: CHANGE_TO_EXCLUDE {} of the solicited-node group */
	CHECK(p.icmp_rest == 1 && p.dlen == 20);
	CHECK(p.data[0] == MLDV2_RECORD_CHANGE_TO_EXCLUDE && p.data[1] == 0 && p.data[3] == 0);
	CHECK(memcmp(p.data + 4, sol.s6_addr8, 16) == 0);
	nr_advance(&t, 1100 * NR_MS);
	ll = nr_linklocal(&t, &flags);
	CHECK((flags & UST_IN6_IFF_TENTATIVE) == 0);
	nr_fini(&t);
}

TEST(in6_linklocal_at_attach_when_accepting_ras)
{
	struct nr t;
	struct in6_addr ll;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_attach(&t);
	ll = nr_linklocal(&t, NULL);
	CHECK(ll.s6_addr8[0] == 0xfe && ll.s6_addr8[1] == 0x80);
	nr_fini(&t);
}

TEST(in6_linklocal_off_without_auto_linklocal)
{
	struct nr t;
	struct ust_in6_addr x;
	struct in6_addr g = nr_a(OURS);
	unsigned plen, flags;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_attach(&t); /* test_env sets auto_linklocal 0 */
	CHECK(ust_if_addr6_get(t.uifp, 0, &x, &plen, &flags) == -UST_ENOENT);
	REQUIRE(ust_if_addr6_add(t.uifp, &g, 64, UST_IN6_IFF_NODAD) == 0);
	CHECK(ust_if_addr6_get(t.uifp, 1, &x, &plen, &flags) == -UST_ENOENT);
	nr_fini(&t);
}

TEST(in6_ipv4_only_interface_silent)
{
	struct nr t;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1); /* FreeBSD's defaults */
	nr_attach(&t);
	nr_advance(&t, 30 * NR_SEC);
	CHECK(t.d->tx_count == 0);
	CHECK(ust_stack_next_deadline(t.st) == UINT64_MAX);
	nr_fini(&t);
}

static struct in6_addr
stable_ll(uint64_t seed, const char *ifname)
{
	struct nr t;
	struct in6_addr ll;

	nr_stack(&t, seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.use_stableaddr", 1);
	nr_knob(&t, "net.inet6.ip6.dad_count", 0);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_attach_name(&t, ifname);
	ll = nr_linklocal(&t, NULL);
	nr_poll(&t);
	nr_fini(&t);
	return (ll);
}

TEST(in6_stable_iid_rfc7217)
{
	struct in6_addr a = stable_ll(7, "pd0"), b = stable_ll(7, "pd0"), c = stable_ll(8, "pd0"),
	                d = stable_ll(7, "pd1"), eui;

	CHECK(a.s6_addr8[0] == 0xfe && a.s6_addr8[1] == 0x80);
	CHECK(in6_word(&a, 1) == 0);
	/* Stable for the same secret (seed), interface and prefix; another
	 * secret or interface gives another identifier. */
	CHECK(in6_are_addr_equal(&a, &b));
	CHECK(!in6_are_addr_equal(&a, &c));
	CHECK(!in6_are_addr_equal(&a, &d));
	memset(&eui, 0, sizeof(eui));
	eui.s6_addr8[0] = 0xfe;
	eui.s6_addr8[1] = 0x80;
	tl_in6_eui64(eui.s6_addr8, eui.s6_addr8, nr_mac_ours);
	CHECK(!in6_are_addr_equal(&a, &eui));
	/* Another prefix, another identifier; another DAD counter too. */
	{
		struct nr t;
		struct in6_addr p1 = nr_a("2001:2::"), p2 = nr_a("2001:2:0:1::"), x, y, z;

		nr_stack(&t, 7);
		nr_attach(&t);
		in6_stable_iid(t.ifp, &p1, 0, &x);
		in6_stable_iid(t.ifp, &p2, 0, &y);
		in6_stable_iid(t.ifp, &p1, 1, &z);
		CHECK(memcmp(x.s6_addr8 + 8, y.s6_addr8 + 8, 8) != 0);
		CHECK(memcmp(x.s6_addr8 + 8, z.s6_addr8 + 8, 8) != 0);
		CHECK(memcmp(x.s6_addr8, p1.s6_addr8, 8) == 0);
		nr_fini(&t);
	}
}

TEST(in6_duplicated_eui64_linklocal_disables_ipv6)
{
	struct nr t;
	struct in6_addr ll, all = nr_a("ff02::1");
	uint8_t pl[64], o[8], dmac[6];
	size_t n;

	nr_stack(&t, ust_test_seed);
	nr_knob(&t, "net.inet6.ip6.auto_linklocal", 1);
	nr_knob(&t, "net.inet6.ip6.accept_rtadv", 1);
	nr_attach(&t);
	nr_poll(&t);
	ll = nr_linklocal(&t, NULL);
	n = tl_nd_na(pl, ll.s6_addr8, all.s6_addr8, TL_NA_OVERRIDE, ll.s6_addr8, o,
	    tl_nd_opt_lla(o, TL_ND_OPT_TLLA, nr_mac_peer));
	tl_in6_mcast_mac(dmac, all.s6_addr8);
	nr_wire(&t, dmac, &ll, &all, 255, pl, n);
	CHECK(ND_IFINFO(t.ifp)->flags & ND6_IFF_IFDISABLED);
	{
		struct in6_addr a = nr_a(OURS);

		CHECK(ust_if_addr6_add(t.uifp, &a, 64, UST_IN6_IFF_NODAD) == -UST_ENETDOWN);
	}
	nr_fini(&t);
}

static void
src_is(struct nr *t, const char *dst, uint32_t zone, const char *want)
{
	struct in6_addr d = nr_a(dst), w = nr_a(want), s;

	REQUIRE(in6_selectsrc(t->st, &d, zone, NULL, &s) == 0);
	CHECK(in6_are_addr_equal(&s, &w));
	if (!in6_are_addr_equal(&s, &w))
		fprintf(stderr, "dst %s: wrong source\n", dst);
}

TEST(in6_selectsrc_rfc6724)
{
	struct nr t;
	struct in6_addr ll = nr_a("fe80::10"), g1 = nr_a("2001:2::10"), g2 = nr_a("2001:2:0:1::10"),
	                ula = nr_a("fd00::10");
	struct in6_ifaddr *ia;

	nr_init(&t, ust_test_seed);
	REQUIRE(ust_if_addr6_add(t.uifp, &ll, 64, UST_IN6_IFF_NODAD) == 0);
	REQUIRE(ust_if_addr6_add(t.uifp, &g1, 64, UST_IN6_IFF_NODAD) == 0);
	REQUIRE(ust_if_addr6_add(t.uifp, &g2, 64, UST_IN6_IFF_NODAD) == 0);
	/* Rule 1: the destination itself. */
	src_is(&t, "2001:2::10", 0, "2001:2::10");
	/* Rule 2: a link-local destination gets the link-local source, a
	 * global one a global source. */
	src_is(&t, "fe80::99", t.ifp->if_index, "fe80::10");
	src_is(&t, "ff02::1", t.ifp->if_index, "fe80::10");
	src_is(&t, "2001:2:0:1::99", 0, "2001:2:0:1::10");
	/* Rule 8: longest match. */
	src_is(&t, "2001:2::99", 0, "2001:2::10");
	/* Rule 3: deprecated loses. */
	ia = in6ifa_find(t.st, &g1, t.ifp);
	REQUIRE(ia != NULL);
	ia->ia6_flags |= IN6_IFF_DEPRECATED;
	src_is(&t, "2001:2::99", 0, "2001:2:0:1::10");
	ia->ia6_flags &= ~(uint32_t)IN6_IFF_DEPRECATED;
	/* Rule 6: a ULA destination prefers the ULA source (label 13),
	 * even against a longer match. */
	REQUIRE(ust_if_addr6_add(t.uifp, &ula, 64, UST_IN6_IFF_NODAD) == 0);
	src_is(&t, "fd00:1::99", 0, "fd00::10");
	src_is(&t, "2001:2::99", 0, "2001:2::10");
	/* No zone for a link-local destination on another interface. */
	{
		struct in6_addr d = nr_a("fe80::99"), s;

		CHECK(in6_selectsrc(t.st, &d, t.ifp->if_index + 1, NULL, &s) == UST_EADDRNOTAVAIL);
	}
	nr_fini(&t);
}

TEST(in6_scope_zones)
{
	struct nr t;
	struct in6_addr ll = nr_a("fe80::1"), g = nr_a("2001:2::1"), mc = nr_a("ff02::1"),
	                mg = nr_a("ff0e::1");
	uint32_t z;

	nr_init(&t, ust_test_seed);
	/* A link-local address without a zone: EINVAL (FreeBSD's
	 * use_defaultzone 0). */
	CHECK(in6_setscope(t.st, &ll, 0, &z) == UST_EINVAL);
	CHECK(in6_setscope(t.st, &mc, 0, &z) == UST_EINVAL);
	CHECK(in6_setscope(t.st, &ll, t.ifp->if_index, &z) == 0 && z == t.ifp->if_index);
	CHECK(in6_setscope(t.st, &ll, 7, &z) == UST_ENODEV);
	/* Global addresses have one zone. */
	CHECK(in6_setscope(t.st, &g, 0, &z) == 0 && z == 0);
	CHECK(in6_setscope(t.st, &g, 5, &z) == 0 && z == 0);
	CHECK(in6_setscope(t.st, &mg, 0, &z) == 0 && z == 0);
	nr_knob(&t, "net.inet6.ip6.use_defaultzone", 1);
	CHECK(in6_setscope(t.st, &ll, 0, &z) == 0 && z == t.ifp->if_index);
	CHECK(in6_getscopezone(t.ifp, &ll) == t.ifp->if_index);
	CHECK(in6_getscopezone(t.ifp, &g) == 0);
	nr_fini(&t);
}
#endif /* UST_INET6 */
