/*
 * test_in6_pcb.c - IPv6 PCBs in the tables shared with IPv4: connected
 * PCBs whose addresses differ only above the low 32 bits (the IPv4 view
 * of the slot) spread over the buckets (SipHash of all 128 bits) and are
 * all found again; IPv4 lookups never find them; the bind conflict
 * matrix between [::], a specific IPv6 address and 0.0.0.0 with v6only
 * on and off; ephemeral ports shared by both families.
 */
#include <string.h>

#include <ustack/ustack.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/in_pcb.h"
#include "netinet6/in6_pcb.h"

#if UST_INET6
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct in6_addr A6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

static struct ust_sockaddr_in6
sin6(const struct in6_addr *a, uint16_t port)
{
	struct ust_sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_len = (uint8_t)sizeof(s);
	s.sin6_family = UST_AF_INET6;
	s.sin6_port = tl_hton16(port);
	if (a != NULL)
		s.sin6_addr = *a;
	return (s);
}

static struct ust_socket *
sock(struct ust_stack *st, int family, int v6only, int reuse)
{
	struct ust_socket *so = NULL;

	CHECK_EQ(ust_socket(st, family, UST_SOCK_DGRAM, 0, &so), 0);
	if (so != NULL && family == UST_AF_INET6)
		CHECK_EQ(tl_setint(so, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, v6only), 0);
	if (so != NULL && reuse)
		CHECK_EQ(tl_setint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	return (so);
}

static int
bind6(struct ust_socket *so, const struct in6_addr *a, uint16_t port)
{
	struct ust_sockaddr_in6 s = sin6(a, port);

	return (ust_bind(so, (const struct ust_sockaddr *)&s, sizeof(s)));
}

static int
bind4(struct ust_socket *so, uint32_t a, uint16_t port)
{
	struct ust_sockaddr_in s = tl_sin(a, port);

	return (ust_bind(so, (const struct ust_sockaddr *)&s, sizeof(s)));
}

#define NCONN 256

TEST(in6_pcb_hash_uses_all_128_bits)
{
	struct tl_pair pr;
	struct ust_socket *so[NCONN];
	struct inpcbinfo *info;
	struct in6_addr f;
	unsigned i, used = 0, found = 0;
	uint32_t b;

	REQUIRE_EQ(lt_pair_init(&pr, T0, ust_test_seed), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	info = pr.a->st_udbinfo;
	for (i = 0; i < NCONN; i++) {
		struct ust_sockaddr_in6 to;

		/* 2001:2::XXXX:XXXX:0:7, the IPv4 view (last 4 bytes) the
		 * same for all: an attacker's choice against a hash of the
		 * low word. */
		memset(&f, 0, sizeof(f));
		f.s6_addr8[0] = 0x20;
		f.s6_addr8[1] = 0x01;
		f.s6_addr8[3] = 2;
		f.s6_addr8[8] = (uint8_t)(i >> 8);
		f.s6_addr8[9] = (uint8_t)i;
		f.s6_addr8[15] = 7;
		to = sin6(&f, 53);
		so[i] = sock(pr.a, UST_AF_INET6, 1, 0);
		REQUIRE(so[i] != NULL);
		CHECK_EQ(ust_connect(so[i], (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	}
	for (b = 0; b <= info->ipi_hashmask; b++)
		if (info->ipi_hash[b] != NULL)
			used++;
	/* 256 keys in >= 256 buckets: a uniform hash leaves about 63% of
	 * them in distinct buckets; a low-word hash would use 1. */
	CHECK(used > NCONN / 2);
	for (i = 0; i < NCONN; i++) {
		struct inpcb *inp = sotoinpcb((struct socket *)(void *)so[i]);
		struct in_addr l4, f4;

		if (in6_pcblookup(info, &inp->in6p_faddr, inp->inp_fport, &inp->in6p_laddr,
		        inp->inp_lport, 0, NULL) == inp)
			found++;
		/* The IPv4 view of the same slots finds nothing. */
		l4 = inp->inp_laddr;
		f4 = inp->inp_faddr;
		CHECK(in_pcblookup(info, f4, inp->inp_fport, l4, inp->inp_lport,
		          INPLOOKUP_WILDCARD) == NULL);
	}
	CHECK_EQ(found, NCONN);
	for (i = 0; i < NCONN; i++)
		ust_close(so[i]);
	tl_pair_run(&pr, SEC / 100);
	lt_pair_fini(&pr);
}

TEST(in6_pcb_bind_matrix_both_families)
{
	struct tl_pair pr;
	struct ust_socket *x, *y;
	unsigned i;
	/* first bind, second bind, expected result of the second. */
	static const struct {
		int fam1, v6only1, spec1, fam2, v6only2, spec2, reuse, result;
	} m[] = {
		/* v6only [::] and 0.0.0.0 coexist, either order. */
		{ 6, 1, 0, 4, 0, 0, 0, 0 },
		{ 4, 0, 0, 6, 1, 0, 0, 0 },
		/* dual [::] and 0.0.0.0 conflict, either order. */
		{ 6, 0, 0, 4, 0, 0, 0, -UST_EADDRINUSE },
		{ 4, 0, 0, 6, 0, 0, 0, -UST_EADDRINUSE },
		/* SO_REUSEPORT-free REUSEADDR: identical wildcards still clash. */
		{ 6, 0, 0, 4, 0, 0, 1, -UST_EADDRINUSE },
		/* [::] twice. */
		{ 6, 1, 0, 6, 1, 0, 0, -UST_EADDRINUSE },
		{ 6, 1, 0, 6, 0, 0, 0, -UST_EADDRINUSE },
		/* a specific IPv6 address and [::]: only with SO_REUSEADDR. */
		{ 6, 1, 1, 6, 1, 0, 0, -UST_EADDRINUSE },
		{ 6, 1, 1, 6, 1, 0, 1, 0 },
		/* a specific IPv6 address and 0.0.0.0 never meet. */
		{ 6, 0, 1, 4, 0, 0, 0, 0 },
		/* a specific IPv4 address under a dual [::]. */
		{ 4, 0, 1, 6, 0, 0, 0, -UST_EADDRINUSE },
		{ 4, 0, 1, 6, 0, 0, 1, 0 },
		{ 4, 0, 1, 6, 1, 0, 0, 0 },
	};

	REQUIRE_EQ(lt_pair_init(&pr, T0, ust_test_seed), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(tl_pair_addrs(&pr, tl_ip4addr(198, 18, 0, 1), tl_ip4addr(198, 18, 0, 2), 24), 0);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint16_t port = (uint16_t)(2000 + i);
		int r;

		x = sock(pr.a, m[i].fam1 == 6 ? UST_AF_INET6 : UST_AF_INET, m[i].v6only1,
		    m[i].reuse);
		y = sock(pr.a, m[i].fam2 == 6 ? UST_AF_INET6 : UST_AF_INET, m[i].v6only2,
		    m[i].reuse);
		REQUIRE(x != NULL && y != NULL);
		if (m[i].fam1 == 6)
			r = bind6(x, m[i].spec1 ? &A6 : NULL, port);
		else
			r = bind4(x, m[i].spec1 ? tl_ip4addr(198, 18, 0, 1) : 0, port);
		CHECK_EQ(r, 0);
		if (m[i].fam2 == 6)
			r = bind6(y, m[i].spec2 ? &A6 : NULL, port);
		else
			r = bind4(y, m[i].spec2 ? tl_ip4addr(198, 18, 0, 1) : 0, port);
		if (r != m[i].result)
			UST_FAIL_AT(__FILE__, __LINE__, "case %u: %d, expected %d", i, r,
			    m[i].result);
		ust_close(x);
		ust_close(y);
	}
	tl_pair_run(&pr, SEC / 100);
	lt_pair_fini(&pr);
}

TEST(in6_pcb_ephemeral_ports_shared_with_ipv4)
{
	struct tl_pair pr;
	struct ust_socket *s6[64], *s4[64];
	struct ust_sockaddr_in6 n6;
	struct ust_sockaddr_in n4;
	ust_socklen_t len;
	uint16_t seen[128];
	unsigned i, j, n = 0;

	REQUIRE_EQ(lt_pair_init(&pr, T0, ust_test_seed), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr.ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	for (i = 0; i < 64; i++) {
		s6[i] = sock(pr.a, UST_AF_INET6, 1, 0);
		s4[i] = sock(pr.a, UST_AF_INET, 0, 0);
		REQUIRE(s6[i] != NULL && s4[i] != NULL);
		CHECK_EQ(bind6(s6[i], NULL, 0), 0);
		CHECK_EQ(bind4(s4[i], 0, 0), 0);
		len = sizeof(n6);
		CHECK_EQ(ust_getsockname(s6[i], (struct ust_sockaddr *)&n6, &len), 0);
		len = sizeof(n4);
		CHECK_EQ(ust_getsockname(s4[i], (struct ust_sockaddr *)&n4, &len), 0);
		seen[n++] = n6.sin6_port;
		seen[n++] = n4.sin_port;
	}
	/* No two sockets of either family got the same ephemeral port. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			CHECK(seen[i] != seen[j]);
	for (i = 0; i < 64; i++) {
		ust_close(s6[i]);
		ust_close(s4[i]);
	}
	tl_pair_run(&pr, SEC / 100);
	lt_pair_fini(&pr);
}
#endif
