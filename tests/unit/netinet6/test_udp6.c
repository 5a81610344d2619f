/*
 * test_udp6.c - UDP over IPv6 between two stacks over the pipe: echo with
 * sendto/recvfrom and names, connect, the mandatory checksum (a zero or
 * wrong one dropped, RFC 8200 8.1), port unreachable as ICMPv6 and
 * ECONNREFUSED, and v4-mapped datagrams on a dual-stack socket.
 */
#include <string.h>

#include <ustack/ustack.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/linktest.h"
#include "netinet/udp.h"
#include "netinet6/icmp6.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

#if UST_INET6
#if UST_STATS
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct in6_addr A6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr B6 = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
#define A4 tl_ip4addr(198, 18, 0, 1)
#define B4 tl_ip4addr(198, 18, 0, 2)

static void
pair6(struct tl_pair *pr)
{
	uint8_t maca[6], macb[6];

	REQUIRE_EQ(lt_pair_init(pr, T0, ust_test_seed), 0);
	ust_if_get_mac(pr->ifa, maca);
	ust_if_get_mac(pr->ifb, macb);
	REQUIRE_EQ(tl_pair_addrs(pr, A4, B4, 24), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifa, &A6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(pr->ifb, &B6, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifa, &B6, macb), 0);
	REQUIRE_EQ(ust_nd6_add_static(pr->ifb, &A6, maca), 0);
}

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
udp6(struct ust_stack *st, const struct in6_addr *a, uint16_t port)
{
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in6 s = sin6(a, port);

	CHECK_EQ(ust_socket(st, UST_AF_INET6, UST_SOCK_DGRAM, 0, &so), 0);
	if (so != NULL && port != 0)
		CHECK_EQ(ust_bind(so, (const struct ust_sockaddr *)&s, sizeof(s)), 0);
	return (so);
}

TEST(udp6_echo_names_connect)
{
	struct tl_pair pr;
	struct ust_socket *a, *b;
	struct ust_sockaddr_in6 to = sin6(&B6, 5353), from, name;
	ust_socklen_t len;
	struct ust_udpstat us;
	uint8_t buf[2000], out[2000];
	static const size_t sizes[] = { 0, 1, 1232, 1452 };
	size_t i;

	pair6(&pr);
	a = udp6(pr.a, NULL, 0);
	b = udp6(pr.b, NULL, 5353);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tl_pattern(buf, sizes[i], (unsigned)i);
		CHECK_EQ(ust_sendto(a, buf, sizes[i], 0, (const struct ust_sockaddr *)&to,
		             sizeof(to)),
		    (ptrdiff_t)sizes[i]);
		tl_pair_run(&pr, 10 * MS);
		len = sizeof(from);
		CHECK_EQ(ust_recvfrom(b, out, sizeof(out), 0, (struct ust_sockaddr *)&from, &len),
		    (ptrdiff_t)sizes[i]);
		CHECK_MEM(out, buf, sizes[i]);
		CHECK_EQ(len, sizeof(from));
		CHECK_EQ(from.sin6_family, UST_AF_INET6);
		CHECK_MEM(&from.sin6_addr, &A6, 16);
		/* ... and back. */
		CHECK_EQ(ust_sendto(b, out, sizes[i], 0, (const struct ust_sockaddr *)&from, len),
		    (ptrdiff_t)sizes[i]);
		tl_pair_run(&pr, 10 * MS);
		CHECK_EQ(ust_recv(a, out, sizeof(out), 0), (ptrdiff_t)sizes[i]);
	}
	len = sizeof(name);
	CHECK_EQ(ust_getsockname(a, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_EQ(name.sin6_port, from.sin6_port);
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&name.sin6_addr));
	/* Connected: send/recv, and the peer's name. */
	CHECK_EQ(ust_connect(a, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	len = sizeof(name);
	CHECK_EQ(ust_getpeername(a, (struct ust_sockaddr *)&name, &len), 0);
	CHECK_MEM(&name.sin6_addr, &B6, 16);
	CHECK_EQ(ust_send(a, "x", 1, 0), 1);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(ust_recv(b, out, sizeof(out), 0), 1);
	ust_stats_udp(pr.b, &us);
	CHECK_EQ(us.udps_badsum + us.udps_nosum + us.udps_badlen, 0);
	ust_close(a);
	ust_close(b);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}

/* A datagram from a to b:port with checksum sum (0: none). */
static void
raw_udp6(struct tl_pair *pr, uint16_t port, int zero_sum, int bad_sum)
{
	uint8_t d[8 + 4] = { 0x30, 0x39, 0, 0, 0, 12, 0, 0, 'a', 'b', 'c', 'd' };
	struct ip6_out_args a;
	struct mbuf *m;
	uint16_t sum;

	be16enc(d + 2, port);
	m = lt_mbuf(pr->a, d, sizeof(d), 1);
	REQUIRE(m != NULL);
	sum = in6_cksum(m, IPPROTO_UDP, 0, sizeof(d), &A6, &B6);
	if (zero_sum)
		sum = 0;
	else if (bad_sum)
		sum ^= 0x5555;
	be16enc(d + 6, sum);
	(void)m_copyback(m, 6, 2, d + 6);
	memset(&a, 0, sizeof(a));
	a.src = A6;
	a.dst = B6;
	a.nxt = IPPROTO_UDP;
	REQUIRE_EQ(ip6_output(pr->a, m, &a), 0);
	tl_pair_run(pr, 10 * MS);
}

TEST(udp6_checksum_mandatory)
{
	struct tl_pair pr;
	struct ust_socket *b;
	struct ust_udpstat us;
	uint8_t out[64];

	pair6(&pr);
	b = udp6(pr.b, NULL, 7777);
	raw_udp6(&pr, 7777, 1, 0);
	raw_udp6(&pr, 7777, 0, 1);
	CHECK_EQ(ust_recv(b, out, sizeof(out), 0), -UST_EAGAIN);
	ust_stats_udp(pr.b, &us);
	CHECK_EQ(us.udps_nosum, 1);
	CHECK_EQ(us.udps_badsum, 1);
	raw_udp6(&pr, 7777, 0, 0);
	CHECK_EQ(ust_recv(b, out, sizeof(out), 0), 4);
	ust_close(b);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}

TEST(udp6_port_unreachable_econnrefused)
{
	struct tl_pair pr;
	struct ust_socket *a;
	struct ust_sockaddr_in6 to = sin6(&B6, 9999);
	struct ust_icmp6stat is;
	struct ust_udpstat us;

	pair6(&pr);
	a = udp6(pr.a, NULL, 0);
	CHECK_EQ(ust_connect(a, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(ust_send(a, "ping", 4, 0), 4);
	tl_pair_run(&pr, 10 * MS);
	ust_stats_udp(pr.b, &us);
	CHECK_EQ(us.udps_noport, 1);
	ust_stats_icmp6(pr.b, &is);
	CHECK_EQ(is.icp6s_outhist[ICMP6_DST_UNREACH], 1);
	CHECK_EQ(tl_getint(a, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNREFUSED);
	ust_close(a);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}

TEST(udp6_dual_socket_v4_mapped)
{
	struct tl_pair pr;
	struct ust_socket *b, *a4 = NULL, *b6only;
	struct ust_sockaddr_in to4 = tl_sin(B4, 6000), from4;
	struct ust_sockaddr_in6 from;
	ust_socklen_t len = sizeof(from);
	uint8_t out[64];
	static const uint8_t mapped_a[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0,
		1 };

	pair6(&pr);
	b = NULL;
	CHECK_EQ(ust_socket(pr.b, UST_AF_INET6, UST_SOCK_DGRAM, 0, &b), 0);
	CHECK_EQ(tl_setint(b, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, 0), 0);
	{
		struct ust_sockaddr_in6 s = sin6(NULL, 6000);

		CHECK_EQ(ust_bind(b, (const struct ust_sockaddr *)&s, sizeof(s)), 0);
	}
	CHECK_EQ(ust_socket(pr.a, UST_AF_INET, UST_SOCK_DGRAM, 0, &a4), 0);
	CHECK_EQ(ust_sendto(a4, "v4", 2, 0, (const struct ust_sockaddr *)&to4, sizeof(to4)), 2);
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(ust_recvfrom(b, out, sizeof(out), 0, (struct ust_sockaddr *)&from, &len), 2);
	CHECK_EQ(len, sizeof(from));
	CHECK_EQ(from.sin6_family, UST_AF_INET6);
	CHECK_MEM(from.sin6_addr.s6_addr8, mapped_a, 16);
	/* The reply to the mapped address goes out as IPv4. */
	CHECK_EQ(ust_sendto(b, "re", 2, 0, (const struct ust_sockaddr *)&from, len), 2);
	tl_pair_run(&pr, 10 * MS);
	len = sizeof(from4);
	CHECK_EQ(ust_recvfrom(a4, out, sizeof(out), 0, (struct ust_sockaddr *)&from4, &len), 2);
	CHECK_EQ(from4.sin_addr, B4);
	CHECK_EQ(from4.sin_port, tl_hton16(6000));
	/* A v6only socket on another port refuses to send to a mapped one. */
	b6only = udp6(pr.b, NULL, 6001);
	CHECK_EQ(ust_sendto(b6only, "no", 2, 0, (const struct ust_sockaddr *)&from, sizeof(from)),
	    -UST_EINVAL);
	ust_close(b6only);
	ust_close(a4);
	ust_close(b);
	tl_pair_run(&pr, 10 * MS);
	lt_pair_fini(&pr);
}
#endif
#endif
