/*
 * test_in6_pcblb.c - SO_REUSEPORT_LB over IPv6: N v6only listeners on
 * [::]:80 (and on 2001:2::2:80) share the connections (each accepted
 * exactly once, bytes intact, every member used), a closed member leaves
 * the group; the bind rules are the same as IPv4's; an IPv4 group and an
 * IPv6 one on the same port stay apart.
 */
#include "netinet/lbrig.h"

#if UST_INET6
#define NL 4
#define NC 96

static void
listeners6(struct tl_pair *pr, struct ust_socket **l, unsigned n, const struct in6_addr *a)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		l[k] = lb_bound(pr->b, UST_AF_INET6, UST_SOCK_STREAM, a, 80, 1);
		CHECK(l[k] != NULL);
		if (l[k] != NULL)
			CHECK_EQ(ust_listen(l[k], 128), 0);
	}
}

TEST(lb6_tcp_spread_exactly_once_and_close_member)
{
	struct tl_pair pr;
	struct ust_socket *l[NL];
	struct lb_round r;
	unsigned k;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners6(&pr, l, NL, NULL);
	lb_tcp_round(&pr, UST_AF_INET6, l, NL, 80, NC, &r);
	CHECK(lb_round_ok(&r));
	for (k = 0; k < NL; k++)
		CHECK(r.per[k] > 0);
	if (!lb_round_ok(&r))
		lb_round_print("4 members", &r, NL);
	ust_close(l[2]);
	l[2] = NULL;
	lb_tcp_round(&pr, UST_AF_INET6, l, NL, 80, NC, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[2], 0);
	CHECK(r.per[0] > 0 && r.per[1] > 0 && r.per[3] > 0);
	for (k = 0; k < NL; k++)
		if (l[k] != NULL)
			ust_close(l[k]);
	lt_pair_fini(&pr);
}

TEST(lb6_specific_address_group)
{
	struct tl_pair pr;
	struct ust_socket *l[NL];
	struct lb_round r;
	unsigned k;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners6(&pr, l, NL, &lb_b6);
	lb_tcp_round(&pr, UST_AF_INET6, l, NL, 80, NC, &r);
	CHECK(lb_round_ok(&r));
	for (k = 0; k < NL; k++) {
		CHECK(r.per[k] > 0);
		ust_close(l[k]);
	}
	lt_pair_fini(&pr);
}

/* Both must set it; an IPv4 group on the same port is another group:
 * IPv4 connections reach only its members, IPv6 ones only theirs. */
TEST(lb6_bind_rules_and_families_apart)
{
	struct tl_pair pr;
	struct ust_socket *l6[2], *l4[2], *all[4], *s;
	struct ust_sockaddr_storage ss;
	ust_socklen_t len;
	struct lb_round r;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners6(&pr, l6, 2, NULL);
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET6, UST_SOCK_STREAM, 0, &s), 0);
	CHECK_EQ(tl_setint(s, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 1), 0);
	len = lb_addr(&ss, UST_AF_INET6, NULL, 80);
	CHECK_EQ(ust_bind(s, (const struct ust_sockaddr *)&ss, len), -UST_EADDRINUSE);
	ust_close(s);
	l4[0] = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 80, 1);
	l4[1] = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 80, 1);
	REQUIRE(l4[0] != NULL && l4[1] != NULL);
	CHECK_EQ(ust_listen(l4[0], 128), 0);
	CHECK_EQ(ust_listen(l4[1], 128), 0);
	all[0] = l6[0];
	all[1] = l6[1];
	all[2] = l4[0];
	all[3] = l4[1];
	lb_tcp_round(&pr, UST_AF_INET, all, 4, 80, 32, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[0] + r.per[1], 0);
	CHECK(r.per[2] > 0 && r.per[3] > 0);
	lb_tcp_round(&pr, UST_AF_INET6, all, 4, 80, 32, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[2] + r.per[3], 0);
	CHECK(r.per[0] > 0 && r.per[1] > 0);
	ust_close(l6[0]);
	ust_close(l6[1]);
	ust_close(l4[0]);
	ust_close(l4[1]);
	lt_pair_fini(&pr);
}
#endif
