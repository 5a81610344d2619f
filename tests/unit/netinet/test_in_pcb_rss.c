/*
 * test_in_pcb_rss.c - ephemeral ports of connect() in a group of stacks
 * (docs/multicore.md, decision 4): a stack given a struct rss_state (n
 * stacks, this one k, the default Toeplitz key) picks for every TCP and
 * connected UDP socket, IPv4 and IPv6, a local port whose reply tuple
 * (from the peer to us) hashes back to k, counting each port it hashes
 * (lport_tries); when no free port of the range does, it takes a free one
 * anyway; with one stack (or none) the ports are exactly a lone stack's.
 */
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "net/rss_config.h"
#include "netinet/in_pcb.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)
#define A4 tl_ip4addr(198, 18, 0, 1)
#define B4 tl_ip4addr(198, 18, 0, 2)
#define NCONN 96

#if UST_INET6
static const struct in6_addr A6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr B6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
#endif

/* a (198.18.0.1, 2001:2::1) and b (.2, ::2) over the pipe, static
 * neighbours both ways. */
static int
pair_up(struct tl_pair *pr, uint64_t seed)
{
	uint8_t maca[6], macb[6];

	if (lt_pair_init(pr, T0, seed) != 0 || tl_pair_addrs(pr, A4, B4, 24) != 0)
		return (-1);
	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	if (ust_arp_add_static(pr->ifa, B4, macb) != 0 ||
	    ust_arp_add_static(pr->ifb, A4, maca) != 0)
		return (-1);
#if UST_INET6
	if (ust_if_addr6_add(pr->ifa, &A6, 64, UST_IN6_IFF_NODAD) != 0 ||
	    ust_if_addr6_add(pr->ifb, &B6, 64, UST_IN6_IFF_NODAD) != 0 ||
	    ust_nd6_add_static(pr->ifa, &B6, macb) != 0 ||
	    ust_nd6_add_static(pr->ifb, &A6, maca) != 0)
		return (-1);
#endif
	return (0);
}

/* A stack's place in a pretend group: n stacks, this one self, the
 * default key.  Only st_rss is set (no group, no hand-off rings), so a
 * test sets it around the socket calls it checks and clears it before it
 * polls the stack: a polled stack with st_rss set is taken for one a
 * group runs. */
static void
rss_fake(struct rss_state *rs, unsigned n, unsigned self)
{
	memset(rs, 0, sizeof(*rs));
	ust_rss_default_key(rs->rs_key);
	rs->rs_n = n;
	rs->rs_self = self;
}

/* Connects a new socket of family/type on st to the peer's port; the
 * socket, its local port (network order) in *lport. */
static struct ust_socket *
conn(struct ust_stack *st, int family, int type, uint16_t port, uint16_t *lport)
{
	struct ust_socket *so = NULL;
	struct ust_sockaddr_storage ss;
	ust_socklen_t len = sizeof(ss);
	int r;

	if (ust_socket(st, family, type, 0, &so) != 0)
		return (NULL);
	if (family == UST_AF_INET) {
		struct ust_sockaddr_in to = tl_sin(B4, port);

		r = ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to));
	} else {
#if UST_INET6
		struct ust_sockaddr_in6 to;

		memset(&to, 0, sizeof(to));
		to.sin6_len = (uint8_t)sizeof(to);
		to.sin6_family = UST_AF_INET6;
		to.sin6_port = tl_hton16(port);
		to.sin6_addr = B6;
		r = ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to));
#else
		r = -UST_EAFNOSUPPORT;
#endif
	}
	if ((r != 0 && r != -UST_EINPROGRESS) ||
	    ust_getsockname(so, (struct ust_sockaddr *)&ss, &len) != 0) {
		ust_close(so);
		return (NULL);
	}
	/* sin_port and sin6_port sit at the same offset. */
	memcpy(lport, (const uint8_t *)&ss + 2, 2);
	return (so);
}

/* The queue of n the replies of a connection from lport to port of the
 * peer hash to. */
static unsigned
reply_queue(const struct rss_state *rs, int family, uint16_t lport, uint16_t port)
{
	uint32_t h;

	if (family == UST_AF_INET)
		h = ust_rss_hash_v4(rs->rs_key, B4, A4, tl_hton16(port), lport, 1);
	else {
#if UST_INET6
		h = ust_rss_hash_v6(rs->rs_key, &B6, &A6, tl_hton16(port), lport, 1);
#else
		h = 0;
#endif
	}
	return (ust_rss_queue(h, rs->rs_n));
}

#if UST_SMP
/* NCONN connects of family/type on a stack that is k of n: every reply
 * tuple hashes to k; the ports differ; lport_tries counts at least one
 * hash per connect and about n on average. */
static void
check_owned(int family, int type, unsigned n, unsigned k)
{
	struct tl_pair pr;
	struct rss_state rs;
	struct ust_socket *so[NCONN];
	uint16_t lp[NCONN];
	unsigned i, j, bad = 0, dup = 0;

	REQUIRE_EQ(pair_up(&pr, ust_test_seed), 0);
	rss_fake(&rs, n, k);
	pr.a->st_rss = &rs;
	for (i = 0; i < NCONN; i++) {
		so[i] = conn(pr.a, family, type, 80, &lp[i]);
		REQUIRE(so[i] != NULL);
		if (reply_queue(&rs, family, lp[i], 80) != k)
			bad++;
		for (j = 0; j < i; j++)
			dup += lp[j] == lp[i];
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(dup, 0);
	CHECK(rs.rs_stats.lport_tries >= NCONN);
	/* A quarter (half) of the ports fit: about n hashes per connect. */
	CHECK(rs.rs_stats.lport_tries <= (uint64_t)NCONN * n * 3);
	if (rs.rs_stats.lport_tries < NCONN || rs.rs_stats.lport_tries > (uint64_t)NCONN * n * 3)
		fprintf(stderr, "lport_tries %llu for %u connects, n %u\n",
		    (unsigned long long)rs.rs_stats.lport_tries, NCONN, n);
	for (i = 0; i < NCONN; i++)
		ust_close(so[i]);
	pr.a->st_rss = NULL;
	tl_pair_run(&pr, 300 * SEC);
	lt_pair_fini(&pr);
}

TEST(connect_tcp4_replies_hash_home)
{
	check_owned(UST_AF_INET, UST_SOCK_STREAM, 4, 3);
	check_owned(UST_AF_INET, UST_SOCK_STREAM, 2, 0);
}

TEST(connect_udp4_replies_hash_home)
{
	check_owned(UST_AF_INET, UST_SOCK_DGRAM, 4, 1);
	check_owned(UST_AF_INET, UST_SOCK_DGRAM, 2, 1);
}

#if UST_INET6
TEST(connect_tcp6_replies_hash_home)
{
	check_owned(UST_AF_INET6, UST_SOCK_STREAM, 4, 2);
	check_owned(UST_AF_INET6, UST_SOCK_STREAM, 2, 1);
}

TEST(connect_udp6_replies_hash_home)
{
	check_owned(UST_AF_INET6, UST_SOCK_DGRAM, 4, 0);
	check_owned(UST_AF_INET6, UST_SOCK_DGRAM, 2, 0);
}
#endif

#endif

/* The port sequence of a stack alone, of one with a group of one stack
 * (rss_active 0) and of one that is not in a group are the same: the
 * same PRNG draws, the same walk; and nothing is counted.  Sequential
 * ports (randomized 0) too. */
TEST(connect_lone_stack_ports_unchanged)
{
	struct tl_pair p1, p2;
	struct rss_state rs;
	struct ust_socket *s1[16], *s2[16];
	uint16_t l1, l2;
	int rnd, i, same;

	for (rnd = 1; rnd >= 0; rnd--) {
		REQUIRE_EQ(pair_up(&p1, ust_test_seed), 0);
		REQUIRE_EQ(pair_up(&p2, ust_test_seed), 0);
		REQUIRE_EQ(ust_sysctl_set(p1.a, "net.inet.ip.portrange.randomized", rnd), 0);
		REQUIRE_EQ(ust_sysctl_set(p2.a, "net.inet.ip.portrange.randomized", rnd), 0);
		rss_fake(&rs, 1, 0);
		p2.a->st_rss = &rs;
		same = 0;
		for (i = 0; i < 16; i++) {
			s1[i] = conn(p1.a, UST_AF_INET, i & 1 ? UST_SOCK_DGRAM : UST_SOCK_STREAM,
			    80, &l1);
			s2[i] = conn(p2.a, UST_AF_INET, i & 1 ? UST_SOCK_DGRAM : UST_SOCK_STREAM,
			    80, &l2);
			REQUIRE(s1[i] != NULL && s2[i] != NULL);
			same += l1 == l2;
		}
		CHECK_EQ(same, 16);
		CHECK_EQ(rs.rs_stats.lport_tries, 0);
		for (i = 0; i < 16; i++) {
			ust_close(s1[i]);
			ust_close(s2[i]);
		}
		p2.a->st_rss = NULL;
		tl_pair_run(&p1, 300 * SEC);
		tl_pair_run(&p2, 300 * SEC);
		lt_pair_fini(&p1);
		lt_pair_fini(&p2);
	}
}

#if UST_SMP
/* A range whose only free port hashes elsewhere: connect still works
 * with that port (its replies are steered); one try counted.  A range of
 * a port that fits and one that does not: always the one that fits. */
TEST(connect_falls_back_when_no_port_fits)
{
	struct tl_pair pr;
	struct rss_state rs;
	struct ust_socket *so;
	uint16_t lp, good = 0, bad = 0, p;
	int i;

	REQUIRE_EQ(pair_up(&pr, ust_test_seed), 0);
	rss_fake(&rs, 2, 0);
	for (p = 20000; good == 0 || bad == 0; p++) {
		if (reply_queue(&rs, UST_AF_INET, tl_hton16(p), 80) == 0)
			good = good == 0 ? p : good;
		else
			bad = bad == 0 ? p : bad;
	}
	pr.a->st_rss = &rs;
	REQUIRE_EQ(ust_sysctl_set(pr.a, "net.inet.ip.portrange.first", bad), 0);
	REQUIRE_EQ(ust_sysctl_set(pr.a, "net.inet.ip.portrange.last", bad), 0);
	so = conn(pr.a, UST_AF_INET, UST_SOCK_STREAM, 80, &lp);
	REQUIRE(so != NULL);
	CHECK_EQ(tl_hton16(lp), bad);
	CHECK_EQ(rs.rs_stats.lport_tries, 1);
	ust_close(so);
	pr.a->st_rss = NULL; /* polled only as a lone stack (see rss_fake) */
	tl_pair_run(&pr, 300 * SEC);
	pr.a->st_rss = &rs;
	/* The range from the first port that fits to the first that does
	 * not (one of them 20000, the ports between all of 20000's kind):
	 * always a port that fits. */
	REQUIRE_EQ(ust_sysctl_set(pr.a, "net.inet.ip.portrange.first", good < bad ? good : bad), 0);
	REQUIRE_EQ(ust_sysctl_set(pr.a, "net.inet.ip.portrange.last", good < bad ? bad : good), 0);
	for (i = 0; i < 8; i++) {
		so = conn(pr.a, UST_AF_INET, UST_SOCK_DGRAM, 80, &lp);
		REQUIRE(so != NULL);
		CHECK(tl_hton16(lp) != bad);
		CHECK_EQ(reply_queue(&rs, UST_AF_INET, lp, 80), 0);
		ust_close(so);
	}
	pr.a->st_rss = NULL;
	tl_pair_run(&pr, 300 * SEC);
	lt_pair_fini(&pr);
}
#endif
