/*
 * test_in_pcb.c - Internet PCBs: the bind rules matrix (SO_REUSEADDR,
 * SO_REUSEPORT, wildcard against specific, EADDRINUSE, EADDRNOTAVAIL),
 * ephemeral ports (random, in range, never repeated while in use,
 * exhaustion), in_pcblookup exact against wildcard, connect errors, and
 * a thousand connected PCBs all found again, and IPv4 lookups skipping
 * PCBs without INP_IPV4.
 */
#include <stdlib.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "udp_rig.h"

#define ADDR_A2 IP4(198, 18, 0, 3)
#define ADDR_PEER IP4(198, 18, 0, 9)

struct prig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv *d;
	struct ust_if *ifp;
};

static void
prig_init(struct prig *p, uint64_t seed)
{
	p->vc = ust_vclock_create(RIG_T0);
	p->st = test_stack_new(p->vc, seed);
	p->d = calloc(1, sizeof(*p->d));
	loopdrv_init(p->d);
	if (ust_if_attach(p->st, "lo0", &loopdrv_ops, p->d, &p->ifp) != 0 ||
	    ust_if_addr_add(p->ifp, ADDR_A, 24) != 0 || ust_if_addr_add(p->ifp, ADDR_A2, 24) != 0)
		abort();
	ust_stack_poll(p->st);
}

static void
prig_fini(struct prig *p)
{
	test_stack_free(p->st);
	free(p->d);
	ust_vclock_destroy(p->vc);
}

#define RA 1
#define RP 2

static struct ust_socket *
sock_opts(struct ust_stack *st, int opts)
{
	struct ust_socket *so = udp_socket(st);

	if (so != NULL && (opts & RA))
		setint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1);
	if (so != NULL && (opts & RP))
		setint(so, UST_SOL_SOCKET, UST_SO_REUSEPORT, 1);
	return (so);
}

TEST(in_pcbbind_rules_matrix)
{
	const struct {
		uint32_t a1;
		int o1;
		uint32_t a2;
		int o2;
		int want;
	} rows[] = {
		{ INADDR_ANY, 0, INADDR_ANY, 0, -UST_EADDRINUSE },
		{ ADDR_A, 0, ADDR_A, 0, -UST_EADDRINUSE },
		{ ADDR_A, 0, ADDR_A2, 0, 0 }, /* different specific */
		{ INADDR_ANY, 0, ADDR_A, 0, -UST_EADDRINUSE },
		{ ADDR_A, 0, INADDR_ANY, 0, -UST_EADDRINUSE },
		{ INADDR_ANY, 0, ADDR_A, RA, 0 }, /* specific next to wildcard */
		{ ADDR_A, 0, INADDR_ANY, RA, 0 },
		{ ADDR_A, RA, ADDR_A, RA, -UST_EADDRINUSE }, /* duplicates need REUSEPORT */
		{ INADDR_ANY, RA, INADDR_ANY, RA, -UST_EADDRINUSE },
		{ INADDR_ANY, RP, INADDR_ANY, RP, 0 },
		{ ADDR_A, RP, ADDR_A, RP, 0 },
		{ INADDR_ANY, RP, ADDR_A, RP, 0 },
		{ INADDR_ANY, 0, INADDR_ANY, RP, -UST_EADDRINUSE }, /* both need it */
		{ INADDR_ANY, RP, INADDR_ANY, 0, -UST_EADDRINUSE },
		{ ADDR_A, RA | RP, ADDR_A, RA | RP, 0 },
	};
	struct prig p;
	struct ust_socket *s1, *s2;
	struct ust_sockaddr_in n;
	size_t i;

	prig_init(&p, ust_test_seed);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s1 = sock_opts(p.st, rows[i].o1);
		s2 = sock_opts(p.st, rows[i].o2);
		REQUIRE(s1 != NULL && s2 != NULL);
		n = tl_sin(rows[i].a1, 4000);
		CHECK_EQ(ust_bind(s1, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
		n = tl_sin(rows[i].a2, 4000);
		if (ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)) != rows[i].want)
			UST_FAIL_AT(__FILE__, __LINE__, "row %zu: want %d", i, rows[i].want);
		ust_close(s1);
		ust_close(s2);
	}
	/* After close the port is free again. */
	s1 = sock_opts(p.st, 0);
	n = tl_sin(INADDR_ANY, 4000);
	CHECK_EQ(ust_bind(s1, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	ust_close(s1);
	prig_fini(&p);
}

TEST(in_pcbbind_connected_and_errors)
{
	struct prig p;
	struct ust_socket *s1, *s2, *s3;
	struct ust_sockaddr_in n;

	prig_init(&p, ust_test_seed);
	s1 = udp_bound(p.st, ADDR_A, 4100);
	REQUIRE(s1 != NULL);
	n = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_connect(s1, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	/* A connected socket holds the port against a plain bind... */
	s2 = sock_opts(p.st, 0);
	n = tl_sin(ADDR_A, 4100);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRINUSE);
	/* ... but not against SO_REUSEADDR. */
	s3 = sock_opts(p.st, RA);
	CHECK_EQ(ust_bind(s3, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	/* Bound already. */
	n = tl_sin(ADDR_A, 4101);
	CHECK_EQ(ust_bind(s3, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EINVAL);
	/* Not our address. */
	n = tl_sin(IP4(10, 0, 0, 1), 4102);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRNOTAVAIL);
	n = tl_sin(ADDR_PEER, 4102);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRNOTAVAIL);
	/* Low ports need no privilege here. */
	n = tl_sin(ADDR_A2, 53);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	ust_close(s1);
	ust_close(s2);
	ust_close(s3);
	prig_fini(&p);
}

static int
cmp_u16(const void *a, const void *b)
{
	return ((int)*(const uint16_t *)a - (int)*(const uint16_t *)b);
}

TEST(in_pcb_ephemeral_random_in_range_unique)
{
	enum { N = 300 };
	struct prig p;
	struct ust_socket *so[N];
	struct ust_sockaddr_in n;
	uint16_t port[N], sorted[N];
	int i, seq = 0;

	prig_init(&p, ust_test_seed);
	CHECK_EQ(ust_sysctl_set(p.st, "net.inet.ip.portrange.first", 20000), 0);
	CHECK_EQ(ust_sysctl_set(p.st, "net.inet.ip.portrange.last", 60000), 0);
	for (i = 0; i < N; i++) {
		so[i] = udp_bound(p.st, INADDR_ANY, 0);
		REQUIRE(so[i] != NULL);
		REQUIRE_EQ(ust_getsockname(so[i], (struct ust_sockaddr *)&n,
		               &(ust_socklen_t){ sizeof(n) }),
		    0);
		port[i] = ntohs(n.sin_port);
		CHECK(port[i] >= 20000 && port[i] <= 60000);
		if (i > 0 && port[i] == port[i - 1] + 1)
			seq++;
	}
	/* RFC 6056: not a sequence. */
	CHECK(seq < 5);
	memcpy(sorted, port, sizeof(port));
	qsort(sorted, N, sizeof(sorted[0]), cmp_u16);
	for (i = 1; i < N; i++)
		CHECK(sorted[i] != sorted[i - 1]);
	/* Spread over the range, not clustered. */
	CHECK(sorted[0] < 25000);
	CHECK(sorted[N - 1] > 55000);
	CHECK(sorted[N / 2] > 32000 && sorted[N / 2] < 48000);
	for (i = 0; i < N; i++)
		ust_close(so[i]);

	/* Sequential when randomisation is off. */
	CHECK_EQ(ust_sysctl_set(p.st, "net.inet.ip.portrange.randomized", 0), 0);
	for (i = 0; i < 5; i++) {
		so[i] = udp_bound(p.st, INADDR_ANY, 0);
		REQUIRE(so[i] != NULL);
		ust_getsockname(so[i], (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) });
		port[i] = ntohs(n.sin_port);
		if (i > 0)
			CHECK_EQ(port[i], port[i - 1] + 1);
	}
	for (i = 0; i < 5; i++)
		ust_close(so[i]);
	prig_fini(&p);
}

TEST(in_pcb_ephemeral_exhaustion)
{
	struct prig p;
	struct ust_socket *so[5];
	struct ust_sockaddr_in n, to;
	uint16_t freed;
	int i;

	prig_init(&p, ust_test_seed);
	CHECK_EQ(ust_sysctl_set(p.st, "net.inet.ip.portrange.first", 40000), 0);
	CHECK_EQ(ust_sysctl_set(p.st, "net.inet.ip.portrange.last", 40003), 0);
	for (i = 0; i < 4; i++) {
		so[i] = udp_bound(p.st, INADDR_ANY, 0);
		REQUIRE(so[i] != NULL);
	}
	so[4] = udp_socket(p.st);
	REQUIRE(so[4] != NULL);
	n = tl_sin(INADDR_ANY, 0);
	CHECK_EQ(ust_bind(so[4], (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRNOTAVAIL);
	to = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_sendto(so[4], "x", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EADDRNOTAVAIL);
	CHECK_EQ(ust_connect(so[4], (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EADDRNOTAVAIL);
	/* A port comes free: it is the one handed out next. */
	ust_getsockname(so[2], (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) });
	freed = n.sin_port;
	ust_close(so[2]);
	n = tl_sin(INADDR_ANY, 0);
	CHECK_EQ(ust_bind(so[4], (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	ust_getsockname(so[4], (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) });
	CHECK_EQ(n.sin_port, freed);
	for (i = 0; i < 5; i++)
		if (i != 2)
			ust_close(so[i]);
	prig_fini(&p);
}

static struct socket *
lookup(struct ust_stack *st, uint32_t faddr, uint16_t fport, uint32_t laddr, uint16_t lport,
    int wild)
{
	struct in_addr f = { faddr }, l = { laddr };
	struct inpcb *inp;

	inp = in_pcblookup(st->st_udbinfo, f, htons(fport), l, htons(lport), wild);
	return (inp != NULL ? inp->inp_socket : NULL);
}

TEST(in_pcblookup_exact_then_wildcard)
{
	struct prig p;
	struct ust_socket *s1, *s2, *s3;
	struct ust_sockaddr_in n;
	struct ust_stack *st;

	prig_init(&p, ust_test_seed);
	st = p.st;
	s1 = sock_opts(st, RP);
	s2 = sock_opts(st, RP);
	s3 = sock_opts(st, RP);
	n = tl_sin(INADDR_ANY, 5000);
	CHECK_EQ(ust_bind(s1, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	n = tl_sin(ADDR_A, 5000);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	CHECK_EQ(ust_bind(s3, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	n = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_connect(s3, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	/* The exact 4-tuple first. */
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == SO_FROM_UST(s3));
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 0) == SO_FROM_UST(s3));
	/* Then the specific local address over the wildcard. */
	CHECK(lookup(st, ADDR_PEER, 54, ADDR_A, 5000, 1) == SO_FROM_UST(s2));
	CHECK(lookup(st, ADDR_PEER, 54, ADDR_A2, 5000, 1) == SO_FROM_UST(s1));
	CHECK(lookup(st, ADDR_PEER, 54, ADDR_A2, 5000, 0) == NULL);
	CHECK(lookup(st, ADDR_PEER, 54, ADDR_A, 5999, 1) == NULL);
	ust_close(s2);
	CHECK(lookup(st, ADDR_PEER, 54, ADDR_A, 5000, 1) == SO_FROM_UST(s1));
	ust_close(s3);
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == SO_FROM_UST(s1));
	ust_close(s1);
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == NULL);
	prig_fini(&p);
}

/* inp_vflag: every PCB starts as IPv4, and the IPv4 lookup never finds
 * a PCB without INP_IPV4 (what an IPV6_V6ONLY socket will be), on the
 * connected hash or the wildcard one. */
TEST(in_pcblookup_skips_non_ipv4)
{
	struct prig p;
	struct ust_socket *s1, *s2;
	struct ust_sockaddr_in n;
	struct ust_stack *st;
	struct inpcb *i1;

	prig_init(&p, ust_test_seed);
	st = p.st;
	s1 = sock_opts(st, RP);
	s2 = sock_opts(st, RP);
	i1 = sotoinpcb(SO_FROM_UST(s1));
	CHECK_EQ(i1->inp_vflag, INP_IPV4);
	CHECK_EQ(i1->inp_inc.inc_flags & INC_ISIPV6, 0);
	n = tl_sin(INADDR_ANY, 5000);
	CHECK_EQ(ust_bind(s1, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	n = tl_sin(ADDR_A, 5000);
	CHECK_EQ(ust_bind(s2, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	n = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_connect(s2, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == SO_FROM_UST(s2));
	/* A connected PCB's bucket depends on its family (inp_hashof), so
	 * only the wildcard one, hashed by port alone, may change vflag in
	 * place (UST_DEBUG's in_pcbcheck holds us to that). */
	ust_close(s2);
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == SO_FROM_UST(s1));
	i1->inp_vflag = INP_IPV6;
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == NULL);
	i1->inp_vflag = INP_IPV4 | INP_IPV6;
	CHECK(lookup(st, ADDR_PEER, 53, ADDR_A, 5000, 1) == SO_FROM_UST(s1));
	i1->inp_vflag = INP_IPV4;
	ust_close(s1);
	prig_fini(&p);
}

TEST(in_pcb_many_connected_found)
{
	enum { N = 1000 };
	struct prig p;
	struct ust_socket **so;
	struct ust_sockaddr_in n;
	int i, bad = 0;

	prig_init(&p, ust_test_seed);
	so = calloc(N, sizeof(*so));
	for (i = 0; i < N; i++) {
		so[i] = sock_opts(p.st, RP);
		n = tl_sin(ADDR_A, 7000);
		REQUIRE_EQ(ust_bind(so[i], (const struct ust_sockaddr *)&n, sizeof(n)), 0);
		n = tl_sin(ADDR_PEER, (uint16_t)(1000 + i));
		REQUIRE_EQ(ust_connect(so[i], (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	}
	for (i = 0; i < N; i++)
		if (lookup(p.st, ADDR_PEER, (uint16_t)(1000 + i), ADDR_A, 7000, 1) !=
		    SO_FROM_UST(so[i]))
			bad++;
	CHECK_EQ(bad, 0);
	/* Same 4-tuple twice: EADDRINUSE. */
	{
		struct ust_socket *x = sock_opts(p.st, RP);

		n = tl_sin(ADDR_A, 7000);
		CHECK_EQ(ust_bind(x, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
		n = tl_sin(ADDR_PEER, 1000);
		CHECK_EQ(ust_connect(x, (const struct ust_sockaddr *)&n, sizeof(n)),
		    -UST_EADDRINUSE);
		ust_close(x);
	}
	for (i = 0; i < N; i++)
		ust_close(so[i]);
	free(so);
	CHECK_EQ(p.st->st_udbinfo->ipi_count, 0);
	prig_fini(&p);
}

TEST(in_pcbconnect_errors)
{
	struct prig p;
	struct ust_socket *so;
	struct ust_sockaddr_in n;

	prig_init(&p, ust_test_seed);
	so = udp_socket(p.st);
	n = tl_sin(IP4(10, 1, 1, 1), 53);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_ENETUNREACH);
	n = tl_sin(ADDR_PEER, 0);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRNOTAVAIL);
	n = tl_sin(INADDR_ANY, 53);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EADDRNOTAVAIL);
	/* The failed attempts left it unbound. */
	CHECK_EQ(ust_getsockname(so, (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) }), 0);
	CHECK_EQ(n.sin_port, 0);
	CHECK_EQ(n.sin_addr, INADDR_ANY);
	/* Bound to the second address, connect keeps it as the source. */
	n = tl_sin(ADDR_A2, 0);
	CHECK_EQ(ust_bind(so, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	n = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	CHECK_EQ(ust_getsockname(so, (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) }), 0);
	CHECK_EQ(n.sin_addr, ADDR_A2);
	ust_close(so);
	prig_fini(&p);
}
