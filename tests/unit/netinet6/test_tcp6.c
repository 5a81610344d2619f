/*
 * test_tcp6.c - TCP over IPv6 between two stacks over the pipe (static
 * neighbours, 2001:2::/64 and link-local): the handshake and a bulk
 * transfer byte for byte, the MSS (route MTU - 60), names, RST for a
 * closed port, IPV6_V6ONLY both ways, v4-mapped accept on a dual-stack
 * listener, bind conflicts between the families, link-local scope ids,
 * and ICMPv6 errors about our segments with right and wrong sequence
 * numbers (RFC 5927).
 */
#include <string.h>

#include <ustack/ustack.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

#if UST_INET6
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct in6_addr A6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr B6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const struct in6_addr C6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 } };
static const struct in6_addr LLA = { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr LLB = { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
#define A4 tl_ip4addr(198, 18, 0, 1)
#define B4 tl_ip4addr(198, 18, 0, 2)

static uint8_t sbuf[300000];

/* Two stacks: a with 2001:2::1, fe80::1 and 198.18.0.1; b with ::2,
 * fe80::2 and 198.18.0.2; each the other's static neighbour; 2001:2::3
 * a static neighbour of a that nobody answers for. */
static void
pair6(struct tl_pair *pr)
{
	uint8_t maca[6], macb[6];
	static const uint8_t nobody[6] = { 0x02, 0, 0, 0, 0x99, 0x99 };

	REQUIRE_EQ(lt_pair_init(pr, T0, ust_test_seed), 0);
	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	REQUIRE_EQ(tl_pair_addrs(pr, A4, B4, 24), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifa, &LLA, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifb, &B6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifb, &LLB, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &B6, macb), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &LLB, macb), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &C6, nobody), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifb, &A6, maca), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifb, &LLA, maca), 0);
}

static struct ust_sockaddr_in6
sin6(const struct in6_addr *a, uint16_t port, uint32_t scope)
{
	struct ust_sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_len = (uint8_t)sizeof(s);
	s.sin6_family = UST_AF_INET6;
	s.sin6_port = tl_hton16(port);
	if (a != NULL)
		s.sin6_addr = *a;
	s.sin6_scope_id = scope;
	return (s);
}

static struct ust_socket *
sock6(struct ust_stack *st, int type)
{
	struct ust_socket *so = NULL;

	CHECK_EQ(ust_socket(st, UST_AF_INET6, type, 0, &so), 0);
	return (so);
}

static int
bind6(struct ust_socket *so, const struct in6_addr *a, uint16_t port, uint32_t scope)
{
	struct ust_sockaddr_in6 s = sin6(a, port, scope);

	return (ust_bind(so, (const struct ust_sockaddr *)&s, sizeof(s)));
}

static int
connect6(struct ust_socket *so, const struct in6_addr *a, uint16_t port, uint32_t scope)
{
	struct ust_sockaddr_in6 s = sin6(a, port, scope);

	return (ust_connect(so, (const struct ust_sockaddr *)&s, sizeof(s)));
}

static struct ust_socket *
listen6(struct ust_stack *st, const struct in6_addr *a, uint16_t port, int v6only)
{
	struct ust_socket *so = sock6(st, UST_SOCK_STREAM);

	CHECK_EQ(tl_setint(so, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, v6only), 0);
	CHECK_EQ(bind6(so, a, port, 0), 0);
	CHECK_EQ(ust_listen(so, 8), 0);
	return (so);
}

static struct tcpcb *
so_tp(struct ust_socket *uso)
{
	struct socket *so = (struct socket *)(void *)uso;

	return (so->so_pcb != NULL ? intotcpcb(sotoinpcb(so)) : NULL);
}

TEST(tcp6_handshake_bulk_names_mss)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL;
	struct ust_sockaddr_in6 peer, name;
	ust_socklen_t len = sizeof(peer);
	struct ust_stack *sts[2];
	struct ust_tcp_info ti;
	size_t tlen = sizeof(ti);

	pair6(&pr);
	sts[0] = pr.a;
	sts[1] = pr.b;
	l = listen6(pr.b, NULL, 8080, 1);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &B6, 8080, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	REQUIRE_EQ(ust_accept(l, &s, (struct ust_sockaddr *)&peer, &len), 0);
	CHECK_EQ(len, sizeof(peer));
	CHECK_EQ(peer.sin6_family, UST_AF_INET6);
	CHECK_MEM(&peer.sin6_addr, &A6, 16);
	CHECK_EQ(peer.sin6_scope_id, 0);
	len = sizeof(name);
	CHECK_EQ(ust_getsockname(c, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_MEM(&name.sin6_addr, &A6, 16); /* in6_selectsrc */
	CHECK_EQ(name.sin6_port, peer.sin6_port);
	len = sizeof(name);
	CHECK_EQ(ust_getpeername(c, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_MEM(&name.sin6_addr, &B6, 16);
	CHECK_EQ(name.sin6_port, tl_hton16(8080));
	/* RFC 8200 5 / FreeBSD: the pipe's 1500 less 60. */
	CHECK_EQ(so_tp(c)->t_maxseg, 1440);
	CHECK_EQ(so_tp(s)->t_maxseg, 1440);
	CHECK_EQ(ust_getsockopt(c, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &tlen), 0);
	CHECK_EQ(ti.tcpi_state, TCPS_ESTABLISHED);
	tl_pattern(sbuf, sizeof(sbuf), 6);
	CHECK_EQ(tl_stream(pr.vc, sts, 2, c, s, sbuf, sizeof(sbuf), 5 * MS, 2000), sizeof(sbuf));
	CHECK_EQ(tl_stream(pr.vc, sts, 2, s, c, sbuf, 100000, 5 * MS, 2000), 100000);
	ust_close(c);
	ust_close(s);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

TEST(tcp6_rst_for_a_closed_port)
{
	struct tl_pair pr;
	struct ust_socket *c;
	struct ust_tcpstat ts;

	pair6(&pr);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &B6, 9, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNREFUSED);
	ust_stats_tcp(pr.b, &ts);
	CHECK(!UST_STATS || ts.tcps_sndctrl >= 1);
	ust_close(c);
	lt_pair_fini(&pr);
}

/* An IPv4 connect to port p of b; returns the client socket after 50 ms. */
static struct ust_socket *
connect4(struct tl_pair *pr, uint16_t port)
{
	struct ust_socket *c = NULL;
	struct ust_sockaddr_in to = tl_sin(B4, port);

	CHECK_EQ(ust_socket(pr->a, UST_AF_INET, UST_SOCK_STREAM, 0, &c), 0);
	CHECK_EQ(ust_connect(c, (const struct ust_sockaddr *)&to, sizeof(to)), -UST_EINPROGRESS);
	tl_pair_run(pr, 50 * MS);
	return (c);
}

TEST(tcp6_v6only_listener_refuses_ipv4)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL, *l4 = NULL;
	struct ust_sockaddr_in any4 = tl_sin(INADDR_ANY, 81);

	pair6(&pr);
	/* net.inet6.ip6.v6only is 1 by default. */
	l = sock6(pr.b, UST_SOCK_STREAM);
	CHECK_EQ(tl_getint(l, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, -1), 1);
	REQUIRE_EQ(bind6(l, NULL, 81, 0), 0);
	REQUIRE_EQ(ust_listen(l, 8), 0);
	c = connect4(&pr, 81);
	CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNREFUSED);
	CHECK_EQ(ust_accept(l, &s, NULL, NULL), -UST_EAGAIN);
	ust_close(c);
	/* ... and a v6only [::]:81 and 0.0.0.0:81 coexist. */
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &l4), 0);
	CHECK_EQ(ust_bind(l4, (const struct ust_sockaddr *)&any4, sizeof(any4)), 0);
	CHECK_EQ(ust_listen(l4, 8), 0);
	c = connect4(&pr, 81);
	CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	CHECK_EQ(ust_accept(l4, &s, NULL, NULL), 0);
	CHECK_EQ(ust_accept(l, &s, NULL, NULL), -UST_EAGAIN);
	ust_close(s);
	ust_close(c);
	/* IPv4 through an IPv6-only socket: EINVAL. */
	{
		struct ust_socket *c6 = sock6(pr.a, UST_SOCK_STREAM);
		struct in6_addr m = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2 } };

		CHECK_EQ(tl_setint(c6, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 1), 0);
		CHECK_EQ(connect6(c6, &m, 81, 0), -UST_EINVAL);
		ust_close(c6);
	}
	ust_close(l4);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

TEST(tcp6_dual_listener_accepts_v4_mapped)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *c6, *s = NULL, *l4 = NULL;
	struct ust_sockaddr_in6 peer, name;
	struct ust_sockaddr_in any4 = tl_sin(INADDR_ANY, 82);
	ust_socklen_t len = sizeof(peer);
	struct ust_stack *sts[2];
	static const uint8_t mapped_a[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0,
		1 };
	static const uint8_t mapped_b[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0,
		2 };

	pair6(&pr);
	sts[0] = pr.a;
	sts[1] = pr.b;
	l = listen6(pr.b, NULL, 82, 0);
	/* A dual [::]:82 holds 0.0.0.0:82 too. */
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &l4), 0);
	CHECK_EQ(ust_bind(l4, (const struct ust_sockaddr *)&any4, sizeof(any4)), -UST_EADDRINUSE);
	ust_close(l4);
	c = connect4(&pr, 82);
	CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	REQUIRE_EQ(ust_accept(l, &s, (struct ust_sockaddr *)&peer, &len), 0);
	CHECK_EQ(len, sizeof(peer));
	CHECK_EQ(peer.sin6_family, UST_AF_INET6);
	CHECK_MEM(peer.sin6_addr.s6_addr8, mapped_a, 16);
	len = sizeof(name);
	CHECK_EQ(ust_getsockname(s, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_EQ(name.sin6_family, UST_AF_INET6);
	CHECK_MEM(name.sin6_addr.s6_addr8, mapped_b, 16);
	CHECK_EQ(name.sin6_port, tl_hton16(82));
	/* The IPv4 MSS (1500 - 40). */
	CHECK_EQ(so_tp(s)->t_maxseg, 1460);
	tl_pattern(sbuf, 50000, 9);
	CHECK_EQ(tl_stream(pr.vc, sts, 2, c, s, sbuf, 50000, 5 * MS, 2000), 50000);
	ust_close(s);
	ust_close(c);
	/* IPv6 still reaches it. */
	c6 = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c6, &B6, 82, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(ust_accept(l, &s, NULL, NULL), 0);
	CHECK_EQ(so_tp(s)->t_maxseg, 1440);
	ust_close(s);
	ust_close(c6);
	/* An AF_INET6 client connects to a v4-mapped address. */
	c6 = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(tl_setint(c6, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 0), 0);
	{
		struct in6_addr m;

		memcpy(m.s6_addr8, mapped_b, 16);
		CHECK_EQ(connect6(c6, &m, 82, 0), -UST_EINPROGRESS);
	}
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(tl_getint(c6, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	len = sizeof(name);
	CHECK_EQ(ust_getpeername(c6, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_MEM(name.sin6_addr.s6_addr8, mapped_b, 16);
	CHECK_EQ(ust_accept(l, &s, NULL, NULL), 0);
	ust_close(s);
	ust_close(c6);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

TEST(tcp6_bind_conflicts_and_scope)
{
	struct tl_pair pr;
	struct ust_socket *x, *y, *z;
	unsigned idx;

	pair6(&pr);
	idx = ust_if_index(pr.ifb);
	x = sock6(pr.b, UST_SOCK_STREAM);
	y = sock6(pr.b, UST_SOCK_STREAM);
	z = sock6(pr.b, UST_SOCK_STREAM);
	CHECK_EQ(bind6(x, &B6, 90, 0), 0);
	CHECK_EQ(bind6(y, NULL, 90, 0), -UST_EADDRINUSE);
	CHECK_EQ(bind6(y, &B6, 90, 0), -UST_EADDRINUSE);
	CHECK_EQ(tl_setint(x, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	CHECK_EQ(tl_setint(y, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	CHECK_EQ(bind6(y, NULL, 90, 0), 0); /* a wildcard beside a specific */
	/* Not ours; a link-local without its zone; a wrong zone. */
	CHECK_EQ(bind6(z, &A6, 91, 0), -UST_EADDRNOTAVAIL);
	CHECK_EQ(bind6(z, &LLB, 91, 0), -UST_EINVAL);
	CHECK_EQ(bind6(z, &LLB, 91, idx + 5), -UST_EINVAL);
	CHECK_EQ(bind6(z, &LLB, 91, idx), 0);
	CHECK_EQ(bind6(z, &LLB, 92, idx), -UST_EINVAL); /* bound already */
	ust_close(x);
	ust_close(y);
	ust_close(z);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}

TEST(tcp6_link_local_connect_needs_scope)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL;
	struct ust_sockaddr_in6 peer;
	ust_socklen_t len = sizeof(peer);

	pair6(&pr);
	l = listen6(pr.b, NULL, 83, 1);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &LLB, 83, 0), -UST_EINVAL);
	CHECK_EQ(connect6(c, &LLB, 83, ust_if_index(pr.ifa)), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	REQUIRE_EQ(ust_accept(l, &s, (struct ust_sockaddr *)&peer, &len), 0);
	CHECK_MEM(&peer.sin6_addr, &LLA, 16); /* a link-local source for it */
	CHECK_EQ(peer.sin6_scope_id, ust_if_index(pr.ifb));
	CHECK_EQ(ust_send(s, "hello", 5, 0), 5);
	tl_pair_run(&pr, 50 * MS);
	{
		char b[8];

		CHECK_EQ(ust_recv(c, b, sizeof(b), 0), 5);
	}
	ust_close(s);
	ust_close(c);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

/* An ICMPv6 error from b to a about a's segment to 2001:2::3 with the
 * quoted sequence number seq (RFC 4443 2.4: the invoking packet's IPv6
 * header and the start of its TCP header). */
static void
icmp6_to_a(struct tl_pair *pr, uint8_t type, uint8_t code, uint32_t mtu, uint16_t sport,
    uint16_t dport, uint32_t seq)
{
	uint8_t msg[8 + 40 + 20];
	struct ip6_hdr q;
	struct ip6_out_args a;
	struct mbuf *m;
	uint16_t sum;

	memset(msg, 0, sizeof(msg));
	msg[0] = type;
	msg[1] = code;
	be32enc(msg + 4, mtu);
	memset(&q, 0, sizeof(q));
	q.ip6_plen = 20;
	q.ip6_nxt = IPPROTO_TCP;
	q.ip6_hlim = 64;
	q.ip6_src = A6;
	q.ip6_dst = C6;
	ip6_hdr_write(msg + 8, &q);
	be16enc(msg + 48, sport);
	be16enc(msg + 50, dport);
	be32enc(msg + 52, seq);
	msg[60] = 0x50;
	msg[61] = 0x02;
	m = lt_mbuf(pr->b, msg, sizeof(msg), 1);
	REQUIRE(m != NULL);
	sum = in6_cksum(m, IPPROTO_ICMPV6, 0, sizeof(msg), &B6, &A6);
	msg[2] = (uint8_t)(sum >> 8);
	msg[3] = (uint8_t)sum;
	(void)m_copyback(m, 2, 2, msg + 2);
	memset(&a, 0, sizeof(a));
	a.src = B6;
	a.dst = A6;
	a.nxt = IPPROTO_ICMPV6;
	REQUIRE_EQ(ip6_output(pr->b, m, &a), 0);
	tl_pair_run(pr, 10 * MS);
}

TEST(tcp6_icmp6_errors_rfc5927)
{
	static const struct {
		uint8_t type, code;
		int error;
	} cases[] = {
		{ ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, UST_ECONNREFUSED },
		{ ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, UST_ECONNREFUSED },
		{ ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, UST_ECONNREFUSED },
		{ ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT, UST_EHOSTUNREACH },
		{ ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE, 0 },
		{ ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 0 },
	};
	struct tl_pair pr;
	unsigned i;

	pair6(&pr);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ust_socket *c = sock6(pr.a, UST_SOCK_STREAM);
		struct tcpcb *tp;
		uint16_t sport;

		CHECK_EQ(connect6(c, &C6, 7000, 0), -UST_EINPROGRESS);
		tl_pair_run(&pr, MS);
		tp = so_tp(c);
		REQUIRE(tp != NULL);
		CHECK_EQ(tp->t_state, TCPS_SYN_SENT);
		sport = tl_hton16(tp->t_inpcb->inp_lport);
		/* Wrong sequence numbers (before and after what we sent),
		 * wrong ports: nothing happens. */
		icmp6_to_a(&pr, cases[i].type, cases[i].code, 0, sport, 7000, tp->iss - 1);
		icmp6_to_a(&pr, cases[i].type, cases[i].code, 0, sport, 7000, tp->iss + 1);
		icmp6_to_a(&pr, cases[i].type, cases[i].code, 0, (uint16_t)(sport + 1), 7000,
		    tp->iss);
		CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
		CHECK_EQ(so_tp(c)->t_state, TCPS_SYN_SENT);
		/* The right one: a hard error drops the attempt. */
		icmp6_to_a(&pr, cases[i].type, cases[i].code, 0, sport, 7000, tp->iss);
		CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), cases[i].error);
		if (cases[i].error == 0) {
			CHECK_EQ(so_tp(c)->t_state, TCPS_SYN_SENT);
			CHECK(so_tp(c)->t_softerror != 0);
		}
		ust_close(c);
	}
	/* net.inet.tcp.icmp_may_rst=0: hard errors are soft. */
	CHECK_EQ(ust_sysctl_set(pr.a, "net.inet.tcp.icmp_may_rst", 0), 0);
	{
		struct ust_socket *c = sock6(pr.a, UST_SOCK_STREAM);
		struct tcpcb *tp;

		CHECK_EQ(connect6(c, &C6, 7001, 0), -UST_EINPROGRESS);
		tl_pair_run(&pr, MS);
		tp = so_tp(c);
		icmp6_to_a(&pr, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, 0,
		    tl_hton16(tp->t_inpcb->inp_lport), 7001, tp->iss);
		CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
		CHECK_EQ(so_tp(c)->t_state, TCPS_SYN_SENT);
		ust_close(c);
	}
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

TEST(tcp6_packet_too_big_shrinks_mss)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL;
	struct tcpcb *tp;

	pair6(&pr);
	l = listen6(pr.b, NULL, 84, 1);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &B6, 84, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	REQUIRE_EQ(ust_accept(l, &s, NULL, NULL), 0);
	tp = so_tp(c);
	CHECK_EQ(tp->t_maxseg, 1440);
	/* Below 1280: ignored (RFC 8201 4). */
	tcp6_ctlinput(pr.a,
	    &(struct ip6ctlparam){ .type = ICMP6_PACKET_TOO_BIG,
	        .mtu = 1000,
	        .src = A6,
	        .dst = B6,
	        .nxt = IPPROTO_TCP,
	        .l4 = (const uint8_t[8]){ 0 },
	        .l4len = 8 });
	CHECK_EQ(tp->t_maxseg, 1440);
	CHECK_EQ(ust_send(c, sbuf, 4000, 0), 4000);
	{
		uint8_t q[8];

		be16enc(q, ntohs(tp->t_inpcb->inp_lport));
		be16enc(q + 2, 84);
		be32enc(q + 4, tp->snd_una);
		tcp6_ctlinput(pr.a,
		    &(struct ip6ctlparam){ .type = ICMP6_PACKET_TOO_BIG,
		        .mtu = 1300,
		        .src = A6,
		        .dst = B6,
		        .nxt = IPPROTO_TCP,
		        .l4 = q,
		        .l4len = 8 });
	}
	CHECK_EQ(tp->t_maxseg, 1240);
	tl_pair_run(&pr, 100 * MS);
	{
		uint8_t b[5000];

		CHECK_EQ(ust_recv(s, b, sizeof(b), 0), 4000);
	}
	ust_close(s);
	ust_close(c);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}

TEST(tcp6_hop_limit_and_tclass_options)
{
	struct tl_pair pr;
	struct ust_socket *c;

	pair6(&pr);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(tl_getint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, -1), 64);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, 7), 0);
	CHECK_EQ(tl_getint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, -1), 7);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, -1), 0);
	CHECK_EQ(tl_getint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, -1), 64);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, 256), -UST_EINVAL);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_TCLASS, 0x28), 0);
	CHECK_EQ(tl_getint(c, UST_IPPROTO_IPV6, UST_IPV6_TCLASS, -1), 0x28);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 0), 0);
	CHECK_EQ(tl_getint(c, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, -1), 0);
	CHECK_EQ(bind6(c, NULL, 0, 0), 0);
	CHECK_EQ(tl_setint(c, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 1), -UST_EINVAL);
	ust_close(c);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}
#endif /* UST_INET6 */

#if UST_INET6
TEST(tcp6_pcblist_and_tcpdrop_both_families)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *c4, *s = NULL, *s4 = NULL;
	struct ust_tcp_conn tc[8];
	struct ust_sockaddr_in6 ls, fs;
	size_t n, i, v6 = 0, v4 = 0;

	pair6(&pr);
	l = listen6(pr.b, NULL, 85, 0);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &B6, 85, 0), -UST_EINPROGRESS);
	c4 = connect4(&pr, 85);
	REQUIRE_EQ(ust_accept(l, &s, NULL, NULL), 0);
	REQUIRE_EQ(ust_accept(l, &s4, NULL, NULL), 0);
	n = ust_tcp_pcblist(pr.b, tc, 8);
	CHECK_EQ(n, 3u);
	for (i = 0; i < n && i < 8; i++) {
		if (tc[i].family == UST_AF_INET6 && tc[i].state == UST_TCPS_ESTABLISHED) {
			CHECK_MEM(&tc[i].laddr6, &B6, 16);
			CHECK_MEM(&tc[i].faddr6, &A6, 16);
			v6++;
		}
		if (tc[i].family == UST_AF_INET) {
			CHECK_EQ(tc[i].laddr, B4);
			CHECK_EQ(tc[i].faddr, A4);
			CHECK_EQ(tc[i].laddr6.s6_addr8[11], 0xff);
			v4++;
		}
	}
	CHECK_EQ(v6, 1u);
	CHECK_EQ(v4, 1u);
	/* tcpdrop with two sockaddr_in6: the RST reaches a. */
	ls = sin6(&B6, 85, 0);
	fs = sin6(&A6, 1, 0);
	CHECK_EQ(ust_tcp_drop(pr.b, (const struct ust_sockaddr *)&ls, sizeof(ls),
	             (const struct ust_sockaddr *)&fs, sizeof(fs)),
	    -UST_ENOENT);
	{
		struct ust_sockaddr_in6 name;
		ust_socklen_t len = sizeof(name);

		CHECK_EQ(ust_getsockname(c, (struct ust_sockaddr *)&name, &len), 0);
		fs.sin6_port = name.sin6_port;
	}
	CHECK_EQ(ust_tcp_drop(pr.b, (const struct ust_sockaddr *)&ls, sizeof(ls),
	             (const struct ust_sockaddr *)&fs, sizeof(fs)),
	    0);
	/* Mixed families: EINVAL. */
	{
		struct ust_sockaddr_in f4 = tl_sin(A4, 1);

		CHECK_EQ(ust_tcp_drop(pr.b, (const struct ust_sockaddr *)&ls, sizeof(ls),
		             (const struct ust_sockaddr *)&f4, sizeof(f4)),
		    -UST_EINVAL);
	}
	tl_pair_run(&pr, 50 * MS);
	CHECK_EQ(tl_getint(c, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNRESET);
	CHECK_EQ(tl_getint(s, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNABORTED);
	CHECK_EQ(ust_tcp_pcblist(pr.b, tc, 8), 2u);
	ust_close(s);
	ust_close(s4);
	ust_close(c);
	ust_close(c4);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}
#endif

#if UST_INET6
#if UST_TCP_SYNCACHE
TEST(tcp6_syncookies_only_handshake)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL;
	struct ust_tcpstat ts;
	struct ust_stack *sts[2];

	pair6(&pr);
	sts[0] = pr.a;
	sts[1] = pr.b;
	CHECK_EQ(ust_sysctl_set(pr.b, "net.inet.tcp.syncookies_only", 1), 0);
	l = listen6(pr.b, NULL, 86, 1);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &B6, 86, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	REQUIRE_EQ(ust_accept(l, &s, NULL, NULL), 0);
	ust_stats_tcp(pr.b, &ts);
	CHECK(!UST_STATS || ts.tcps_sc_recvcookie == 1);
	tl_pattern(sbuf, 20000, 3);
	CHECK_EQ(tl_stream(pr.vc, sts, 2, c, s, sbuf, 20000, 5 * MS, 2000), 20000);
	ust_close(s);
	ust_close(c);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}
#endif
#endif

#if UST_INET6
#if UST_IP_LOOPBACK
TEST(tcp6_to_our_own_address)
{
	struct tl_pair pr;
	struct ust_socket *l, *c, *s = NULL;
	struct ust_stack *sts[1];

	pair6(&pr);
	sts[0] = pr.a;
	l = listen6(pr.a, NULL, 87, 1);
	c = sock6(pr.a, UST_SOCK_STREAM);
	CHECK_EQ(connect6(c, &A6, 87, 0), -UST_EINPROGRESS);
	tl_pair_run(&pr, 50 * MS);
	REQUIRE_EQ(ust_accept(l, &s, NULL, NULL), 0);
	tl_pattern(sbuf, 100000, 5);
	CHECK_EQ(tl_stream(pr.vc, sts, 1, c, s, sbuf, 100000, 5 * MS, 2000), 100000);
	ust_close(s);
	ust_close(c);
	ust_close(l);
	tl_pair_run(&pr, 200 * SEC);
	lt_pair_fini(&pr);
}
#endif
#endif
