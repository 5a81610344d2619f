/*
 * test_nd6_pair.c - neighbor discovery between two stacks over the pipe
 * (no static entries): address resolution both ways under an ICMPv6
 * echo, duplicate address detection catching the other stack's address,
 * and link-local addresses made, checked and used with their zone.
 */
#include "ip6test.h"
#include "netinet6/nd6_var.h"

#if UST_INET6
static void
pair_plain(struct tl_pair *pr)
{
	REQUIRE_EQ(lt_pair_init(pr, T0, ust_test_seed), 0);
	memset(&capa, 0, sizeof(capa));
	memset(&capb, 0, sizeof(capb));
	ust_if_set_input_hook(pr->ifa, cap_hook, &capa);
	ust_if_set_input_hook(pr->ifb, cap_hook, &capb);
}

/* The echo replies A received from src. */
static unsigned
replies(const struct in6_addr *src)
{
	struct ip6_hdr h;
	unsigned i, n = 0;

	for (i = 0; i < capa.n; i++)
		if (ip6_hdr_parse(capa.f[i] + 14, capa.len[i] - 14, &h) == 0 &&
		    h.ip6_nxt == IPPROTO_ICMPV6 && capa.f[i][14 + 40] == ICMP6_ECHO_REPLY &&
		    in6_are_addr_equal(&h.ip6_src, src) && frame_icmp6_ok(capa.f[i], capa.len[i]))
			n++;
	return (n);
}

TEST(nd6_pair_resolution_under_echo)
{
	struct tl_pair pr;
	struct ust_nd6_entry e;
	uint8_t macb[6];

	pair_plain(&pr);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifb, &B6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &B6, 7, 1, 32), &A6, &B6, 0, IPPROTO_ICMPV6), 0);
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(replies(&B6), 1);
	/* A solicited and got a solicited answer: REACHABLE with B's MAC;
	 * B learned A from the solicitation and used it for the reply. */
	ust_if_get_mac(pr.ifb, macb);
	REQUIRE_EQ(ust_nd6_lookup(pr.a, &B6, 0, &e), 0);
	CHECK_EQ(e.state, UST_ND6_REACHABLE);
	CHECK_MEM(e.mac, macb, 6);
	REQUIRE_EQ(ust_nd6_lookup(pr.b, &A6, 0, &e), 0);
	CHECK_EQ(e.state, UST_ND6_DELAY);
	/* B's entry is confirmed by a probe A answers; A's stays until it
	 * goes STALE. */
	tl_pair_run(&pr, 6 * SEC);
	REQUIRE_EQ(ust_nd6_lookup(pr.b, &A6, 0, &e), 0);
	CHECK_EQ(e.state, UST_ND6_REACHABLE);
	/* The second echo needs no solicitation. */
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &B6, 7, 2, 32), &A6, &B6, 0, IPPROTO_ICMPV6), 0);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(replies(&B6), 2);
	lt_pair_fini(&pr);
}

TEST(nd6_pair_unanswered_gives_address_unreachable)
{
	struct tl_pair pr;
	struct in6_addr none = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99 } };
	struct ust_nd6_entry e;

	pair_plain(&pr);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifb, &B6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &A6, &none, 7, 1, 32), &A6, &none, 0, IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 2 * SEC);
	CHECK_EQ(ust_nd6_lookup(pr.a, &none, 0, &e), 0);
	tl_pair_run(&pr, 2 * SEC);
	CHECK_EQ(ust_nd6_lookup(pr.a, &none, 0, &e), -UST_ENOENT);
	CHECK_EQ(pr.a->st_nd6->nd_cnt.nd6c_resfail, 1);
#if UST_STATS
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_odst_unreach_addr, 1);
	CHECK_EQ(pr.a->st_icmp6stat.icp6s_inhist[ICMP6_DST_UNREACH], 1);
#endif
	lt_pair_fini(&pr);
}

TEST(nd6_pair_dad_finds_the_other_stacks_address)
{
	struct tl_pair pr;
	unsigned plen, flags;
	struct in6_addr a;

	pair_plain(&pr);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifb, &A6, 64, 0), 0);
	REQUIRE_EQ(ust_if_addr6_get(pr.ifb, 0, &a, &plen, &flags), 0);
	CHECK(flags & UST_IN6_IFF_TENTATIVE);
	tl_pair_run(&pr, 2 * SEC);
	REQUIRE_EQ(ust_if_addr6_get(pr.ifb, 0, &a, &plen, &flags), 0);
	CHECK(in6_are_addr_equal(&a, &A6));
	CHECK(flags & UST_IN6_IFF_DUPLICATED);
	CHECK(!(flags & UST_IN6_IFF_TENTATIVE));
	CHECK_EQ(pr.b->st_nd6->nd_cnt.nd6c_dupaddr, 1);
	/* A kept its address and answered for it. */
	REQUIRE_EQ(ust_if_addr6_get(pr.ifa, 0, &a, &plen, &flags), 0);
	CHECK_EQ(flags, UST_IN6_IFF_NODAD);
	lt_pair_fini(&pr);
}

/* The link-local address of ifp. */
static struct in6_addr
linklocal(struct ust_if *ifp, unsigned *flags)
{
	struct in6_addr a;
	unsigned i, plen;

	for (i = 0; ust_if_addr6_get(ifp, i, &a, &plen, flags) == 0; i++)
		if (IN6_IS_ADDR_LINKLOCAL(&a))
			return (a);
	memset(&a, 0, sizeof(a));
	return (a);
}

TEST(nd6_pair_linklocal_dad_then_echo_by_zone)
{
	struct tl_pair pr;
	struct in6_addr lla, llb;
	unsigned fa, fb;

	pair_plain(&pr);
	/* auto_linklocal as FreeBSD has it (test_env turns it off). */
	ND_IFINFO(IFP_FROM_UST(pr.ifa))->flags |= ND6_IFF_AUTO_LINKLOCAL;
	ND_IFINFO(IFP_FROM_UST(pr.ifb))->flags |= ND6_IFF_AUTO_LINKLOCAL;
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, 0), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifb, &B6, 64, 0), 0);
	lla = linklocal(pr.ifa, &fa);
	llb = linklocal(pr.ifb, &fb);
	CHECK(IN6_IS_ADDR_LINKLOCAL(&lla) && IN6_IS_ADDR_LINKLOCAL(&llb));
	CHECK(!in6_are_addr_equal(&lla, &llb));
	CHECK((fa & UST_IN6_IFF_TENTATIVE) && (fb & UST_IN6_IFF_TENTATIVE));
	tl_pair_run(&pr, 2 * SEC);
	lla = linklocal(pr.ifa, &fa);
	llb = linklocal(pr.ifb, &fb);
	CHECK_EQ(fa & (UST_IN6_IFF_TENTATIVE | UST_IN6_IFF_DUPLICATED), 0);
	CHECK_EQ(fb & (UST_IN6_IFF_TENTATIVE | UST_IN6_IFF_DUPLICATED), 0);
	/* Link-local to link-local, the zone being A's interface. */
	REQUIRE_EQ(send6(pr.a, echo_req(pr.a, &lla, &llb, 9, 1, 16), &lla, &llb,
	               ust_if_index(pr.ifa), IPPROTO_ICMPV6),
	    0);
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(replies(&llb), 1);
	lt_pair_fini(&pr);
}
#endif /* UST_INET6 */
