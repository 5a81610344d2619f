/*
 * test_in_pcblb.c - SO_REUSEPORT_LB over IPv4 (FreeBSD's load-balancing
 * groups): the bind rules (both sockets must set it; it shares the port
 * like SO_REUSEPORT, and the two options do not mix), N listeners on one
 * address and port taking many connections between them (each accepted
 * exactly once, bytes intact, every member used), the same 4-tuple always
 * reaching the same member, a closed member leaving the group, a bound
 * member that does not listen taking nothing, a specific address's group
 * before the wildcard's, and UDP datagrams spread by their 4-tuple.
 */
#include "lbrig.h"

#define NL 4
#define NC 96

TEST(lb_bind_rules)
{
	struct tl_pair pr;
	struct ust_socket *s1, *s2;
	uint32_t b4 = LB_B4;
	struct ust_sockaddr_storage ss;
	ust_socklen_t len;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	/* Both with it: the port is shared (wildcard and specific). */
	s1 = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 80, 1);
	s2 = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 80, 1);
	CHECK(s1 != NULL && s2 != NULL);
	CHECK_EQ(tl_getint(s1, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, -1), 1);
	ust_close(s2);
	s2 = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, &b4, 80, 1);
	CHECK(s2 != NULL);
	ust_close(s2);
	/* One without it: EADDRINUSE, both ways round. */
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &s2), 0);
	len = lb_addr(&ss, UST_AF_INET, NULL, 80);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&ss, len), -UST_EADDRINUSE);
	/* SO_REUSEPORT does not join an SO_REUSEPORT_LB binding. */
	CHECK_EQ(tl_setint(s2, UST_SOL_SOCKET, UST_SO_REUSEPORT, 1), 0);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&ss, len), -UST_EADDRINUSE);
	ust_close(s2);
	ust_close(s1);
	s1 = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 81, 0);
	REQUIRE(s1 != NULL);
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &s2), 0);
	CHECK_EQ(tl_setint(s2, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, 1), 0);
	len = lb_addr(&ss, UST_AF_INET, NULL, 81);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&ss, len), -UST_EADDRINUSE);
	ust_close(s2);
	ust_close(s1);
	/* It can be cleared again. */
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET, UST_SOCK_DGRAM, 0, &s1), 0);
	CHECK_EQ(tl_setint(s1, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, 1), 0);
	CHECK_EQ(tl_setint(s1, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, 0), 0);
	CHECK_EQ(tl_getint(s1, UST_SOL_SOCKET, UST_SO_REUSEPORT_LB, -1), 0);
	ust_close(s1);
	tl_pair_run(&pr, LB_SEC);
	lt_pair_fini(&pr);
}

static void
listeners(struct tl_pair *pr, struct ust_socket **l, unsigned n, const uint32_t *addr)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		l[k] = lb_bound(pr->b, UST_AF_INET, UST_SOCK_STREAM, addr, 80, 1);
		CHECK(l[k] != NULL);
		if (l[k] != NULL)
			CHECK_EQ(ust_listen(l[k], 128), 0);
	}
}

TEST(lb_tcp4_spread_exactly_once_and_close_member)
{
	struct tl_pair pr;
	struct ust_socket *l[NL];
	struct lb_round r;
	unsigned k;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners(&pr, l, NL, NULL);
	lb_tcp_round(&pr, UST_AF_INET, l, NL, 80, NC, &r);
	CHECK(lb_round_ok(&r));
	for (k = 0; k < NL; k++)
		CHECK(r.per[k] > 0);
	if (!lb_round_ok(&r))
		lb_round_print("4 members", &r, NL);
	/* Member 1 closes: the others take every new connection. */
	ust_close(l[1]);
	l[1] = NULL;
	lb_tcp_round(&pr, UST_AF_INET, l, NL, 80, NC, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[1], 0);
	CHECK(r.per[0] > 0 && r.per[2] > 0 && r.per[3] > 0);
	if (!lb_round_ok(&r))
		lb_round_print("member 1 closed", &r, NL);
	/* Down to one member: it takes them all. */
	ust_close(l[0]);
	ust_close(l[2]);
	l[0] = l[2] = NULL;
	lb_tcp_round(&pr, UST_AF_INET, l, NL, 80, 16, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[3], 16);
	ust_close(l[3]);
	lt_pair_fini(&pr);
}

/* The lookup itself: the same 4-tuple finds the same member every time;
 * different tuples reach every member; a member bound but not listening
 * is never chosen. */
TEST(lb_lookup_stable_and_listeners_only)
{
	struct tl_pair pr;
	struct ust_socket *l[NL + 1];
	struct inpcbinfo *info;
	struct inpcb *first, *again, *memb[NL];
	struct in_addr fa = { LB_A4 }, la = { LB_B4 };
	unsigned hits[NL], i, k, idle = 0, other = 0;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners(&pr, l, NL, NULL);
	l[NL] = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 80, 1); /* not listening */
	REQUIRE(l[NL] != NULL);
	info = pr.b->st_tcbinfo;
	for (k = 0; k < NL; k++)
		memb[k] = sotoinpcb(SO_FROM_UST(l[k]));
	memset(hits, 0, sizeof(hits));
	for (i = 0; i < 400; i++) {
		uint16_t fport = tl_hton16((uint16_t)(30000 + i));

		first = in_pcblookup(info, fa, fport, la, tl_hton16(80), INPLOOKUP_WILDCARD);
		again = in_pcblookup(info, fa, fport, la, tl_hton16(80), INPLOOKUP_WILDCARD);
		CHECK(first == again);
		if (first == sotoinpcb(SO_FROM_UST(l[NL])))
			idle++;
		for (k = 0; k < NL; k++)
			if (first == memb[k])
				hits[k]++;
	}
	CHECK_EQ(idle, 0);
	for (k = 0; k < NL; k++) {
		CHECK(hits[k] > 50); /* 100 each on average */
		other += hits[k];
	}
	CHECK_EQ(other, 400);
	for (k = 0; k <= NL; k++)
		ust_close(l[k]);
	tl_pair_run(&pr, LB_SEC);
	lt_pair_fini(&pr);
}

/* A group on the specific address wins over one on the wildcard; a bound
 * LB socket alone (nobody listening) is still what the lookup finds, so
 * the SYN gets its RST from it as without the option. */
TEST(lb_specific_group_before_wildcard)
{
	struct tl_pair pr;
	struct ust_socket *l[4], *lone;
	uint32_t b4 = LB_B4;
	struct lb_round r;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	listeners(&pr, l, 2, NULL);
	listeners(&pr, l + 2, 2, &b4);
	lb_tcp_round(&pr, UST_AF_INET, l, 4, 80, 32, &r);
	CHECK(lb_round_ok(&r));
	CHECK_EQ(r.per[0] + r.per[1], 0);
	CHECK(r.per[2] > 0 && r.per[3] > 0);
	ust_close(l[0]);
	ust_close(l[1]);
	ust_close(l[2]);
	ust_close(l[3]);
	lone = lb_bound(pr.b, UST_AF_INET, UST_SOCK_STREAM, NULL, 82, 1);
	REQUIRE(lone != NULL);
	lb_tcp_round(&pr, UST_AF_INET, &lone, 1, 82, 2, &r);
	CHECK_EQ(r.refused, 2);
	ust_close(lone);
	lt_pair_fini(&pr);
}

/* UDP: datagrams from many source ports, each received once by one of
 * the group's sockets, every socket getting some, the same source port
 * always the same socket. */
TEST(lb_udp4_spread_by_tuple)
{
	struct tl_pair pr;
	struct ust_socket *u[NL], *c[32];
	struct ust_sockaddr_storage ss;
	ust_socklen_t len;
	uint8_t b[LB_MSGLEN], want[LB_MSGLEN];
	unsigned got[32], who[32], per[NL], i, k, round, moved = 0;
	uint32_t b4 = LB_B4;

	REQUIRE_EQ(lb_pair(&pr, ust_test_seed), 0);
	for (k = 0; k < NL; k++) {
		u[k] = lb_bound(pr.b, UST_AF_INET, UST_SOCK_DGRAM, NULL, 53, 1);
		REQUIRE(u[k] != NULL);
	}
	for (i = 0; i < 32; i++) {
		REQUIRE_EQ(ust_socket(pr.a, UST_AF_INET, UST_SOCK_DGRAM, 0, &c[i]), 0);
		len = lb_addr(&ss, UST_AF_INET, &b4, 53);
		REQUIRE_EQ(ust_connect(c[i], (const struct ust_sockaddr *)&ss, len), 0);
	}
	memset(who, 0, sizeof(who));
	for (round = 0; round < 2; round++) {
		memset(got, 0, sizeof(got));
		memset(per, 0, sizeof(per));
		for (i = 0; i < 32; i++) {
			lb_msg(b, i);
			CHECK_EQ(ust_send(c[i], b, LB_MSGLEN, 0), LB_MSGLEN);
		}
		tl_pair_run(&pr, 50 * LB_MS);
		for (k = 0; k < NL; k++)
			while (ust_recv(u[k], b, sizeof(b), UST_MSG_DONTWAIT) == LB_MSGLEN) {
				i = (unsigned)b[0] | (unsigned)b[1] << 8;
				lb_msg(want, i);
				if (i < 32 && memcmp(b, want, LB_MSGLEN) == 0) {
					got[i]++;
					per[k]++;
					if (round == 1 && who[i] != k)
						moved++;
					who[i] = k;
				}
			}
		for (i = 0; i < 32; i++)
			CHECK_EQ(got[i], 1);
		for (k = 0; k < NL; k++)
			CHECK(per[k] > 0);
	}
	CHECK_EQ(moved, 0);
	for (i = 0; i < 32; i++)
		ust_close(c[i]);
	for (k = 0; k < NL; k++)
		ust_close(u[k]);
	lt_pair_fini(&pr);
}
