/*
 * test_raw_ip6.c - raw ICMPv6 sockets (RFC 3542 3): ping over the pipe
 * with the checksum left to the stack, no IPv6 header on receive and
 * the peer in a sockaddr_in6 (scope id for link-local), bind and connect,
 * the hop limit and checksum options, and the two families' raw sockets
 * kept apart.
 */
#include "ip6test.h"

#if UST_INET6
/* The cases read the counters. */
#if UST_STATS
static struct sockaddr_in6
sin6_of(const struct in6_addr *a, uint32_t scope)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_len = (uint8_t)sizeof(s);
	s.sin6_family = UST_AF_INET6;
	s.sin6_addr = *a;
	s.sin6_scope_id = scope;
	return (s);
}

#if UST_RAW_IP
TEST(raw_icmp6_ping)
{
	uint8_t req[24] = { ICMP6_ECHO_REQUEST, 0, 0xde, 0xad, 0x12, 0x34, 0, 1 };
	struct ust_socket *so, *so4, *sob, *bad;
	struct sockaddr_in6 to, from;
	ust_socklen_t flen;
	struct tl_pair pr;
	uint8_t buf[256];
	struct ip6_hdr h;
	ptrdiff_t n;
	int v;
	size_t vl;

	pair6(&pr);
	REQUIRE_EQ(ust_socket(pr.a, UST_AF_INET6, UST_SOCK_RAW, UST_IPPROTO_ICMPV6, &so), 0);
	REQUIRE_EQ(ust_socket(pr.a, UST_AF_INET, UST_SOCK_RAW, UST_IPPROTO_ICMP, &so4), 0);
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET6, UST_SOCK_RAW, UST_IPPROTO_ICMPV6, &sob), 0);
	CHECK_EQ(ust_socket(pr.a, UST_AF_INET6, UST_SOCK_RAW, UST_IPPROTO_UDP, &bad),
	    -UST_EPROTONOSUPPORT);
	memset(req + 8, 0x5a, 16);
	to = sin6_of(&B6, 0);
	/* The checksum is the stack's, whatever the message holds. */
	CHECK_EQ(ust_sendto(so, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)sizeof(req));
	tl_pair_run(&pr, 10 * MS);
	/* b's raw socket saw the request, a's the reply: the message only,
	 * from B6. */
	flen = sizeof(from);
	n = ust_recvfrom(sob, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from, &flen);
	CHECK_EQ(n, (ptrdiff_t)sizeof(req));
	CHECK_EQ(buf[0], ICMP6_ECHO_REQUEST);
	CHECK(in6_are_addr_equal(&from.sin6_addr, &A6));
	flen = sizeof(from);
	n = ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from, &flen);
	REQUIRE_EQ(n, (ptrdiff_t)sizeof(req));
	CHECK_EQ(flen, sizeof(from));
	CHECK_EQ(from.sin6_family, UST_AF_INET6);
	CHECK(in6_are_addr_equal(&from.sin6_addr, &B6));
	CHECK_EQ(from.sin6_scope_id, 0);
	CHECK_EQ(buf[0], ICMP6_ECHO_REPLY);
	CHECK_MEM(buf + 4, req + 4, sizeof(req) - 4);
	CHECK_EQ(in_cksum_buf(buf, (uint32_t)n, in6_cksum_pseudo(&B6, &A6, (uint32_t)n, 58)), 0);
	CHECK_EQ(ust_recv(so, buf, sizeof(buf), 0), -UST_EAGAIN);
	CHECK_EQ(ust_recv(so4, buf, sizeof(buf), 0), -UST_EAGAIN);
	CHECK_EQ(pr.a->st_ip6stat.ip6s_rawout, 1);
	CHECK_EQ(pr.a->st_ip6stat.ip6s_rawin, 1);

	/* Link-local with a scope id; the hop limit option on the wire. */
	v = 5;
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_IPV6, UST_IPV6_UNICAST_HOPS, &v, sizeof(v)), 0);
	vl = sizeof(v);
	CHECK_EQ(ust_getsockopt(so, UST_IPPROTO_IPV6, UST_IPV6_CHECKSUM, &v, &vl), 0);
	CHECK_EQ(v, 2);
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_IPV6, UST_IPV6_CHECKSUM, &v, sizeof(v)),
	    -UST_EINVAL);
	capb.n = 0;
	to = sin6_of(&LLB, 0);
	CHECK_EQ(ust_sendto(so, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EINVAL);
	to = sin6_of(&LLB, ust_if_index(pr.ifa));
	CHECK_EQ(ust_sendto(so, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)sizeof(req));
	tl_pair_run(&pr, 10 * MS);
	REQUIRE_EQ(capb.n, 1);
	REQUIRE_EQ(ip6_hdr_parse(capb.f[0] + 14, capb.len[0] - 14, &h), 0);
	CHECK_EQ(h.ip6_hlim, 5);
	CHECK(in6_are_addr_equal(&h.ip6_src, &LLA));
	flen = sizeof(from);
	n = ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from, &flen);
	CHECK_EQ(n, (ptrdiff_t)sizeof(req));
	CHECK(in6_are_addr_equal(&from.sin6_addr, &LLB));
	CHECK_EQ(from.sin6_scope_id, ust_if_index(pr.ifa));

	/* bind: only our addresses; connect: only the peer's messages. */
	to = sin6_of(&B6, 0);
	CHECK_EQ(ust_bind(so, (struct ust_sockaddr *)&to, sizeof(to)), -UST_EADDRNOTAVAIL);
	to = sin6_of(&A6, 0);
	CHECK_EQ(ust_bind(so, (struct ust_sockaddr *)&to, sizeof(to)), 0);
	to = sin6_of(&LLB, ust_if_index(pr.ifa));
	CHECK_EQ(ust_connect(so, (struct ust_sockaddr *)&to, sizeof(to)), 0);
	/* b pings A6 from B6: a answers, its socket hears nothing. */
	to = sin6_of(&A6, 0);
	CHECK_EQ(ust_sendto(sob, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)sizeof(req));
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(ust_recv(so, buf, sizeof(buf), 0), -UST_EAGAIN);
	/* Its own ping to LLB, from A6: the reply arrives. */
	CHECK_EQ(ust_sendto(so, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EISCONN);
	CHECK_EQ(ust_send(so, req, sizeof(req), 0), (ptrdiff_t)sizeof(req));
	tl_pair_run(&pr, 10 * MS);
	flen = sizeof(from);
	CHECK_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from, &flen),
	    (ptrdiff_t)sizeof(req));
	CHECK(in6_are_addr_equal(&from.sin6_addr, &LLB));
	CHECK_EQ(buf[0], ICMP6_ECHO_REPLY);
	CHECK_EQ(ust_close(so), 0);
	CHECK_EQ(ust_close(so4), 0);
	CHECK_EQ(ust_close(sob), 0);
	lt_pair_fini(&pr);
}

TEST(raw_icmp6_filter)
{
	uint8_t req[16] = { ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 1 };
	struct ust_icmp6_filter flt;
	struct ust_socket *so, *sob;
	struct sockaddr_in6 to;
	struct tl_pair pr;
	uint8_t buf[64];
	size_t len;
	unsigned i;

	pair6(&pr);
	REQUIRE_EQ(ust_socket(pr.a, UST_AF_INET6, UST_SOCK_RAW, UST_IPPROTO_ICMPV6, &so), 0);
	REQUIRE_EQ(ust_socket(pr.b, UST_AF_INET6, UST_SOCK_RAW, UST_IPPROTO_ICMPV6, &sob), 0);
	/* Everything passes at first. */
	len = sizeof(flt);
	REQUIRE_EQ(ust_getsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, &len), 0);
	CHECK_EQ(len, sizeof(flt));
	for (i = 0; i < 8; i++)
		CHECK_EQ(flt.icmp6_filt[i], 0xffffffffu);
	/* b blocks echo requests: it no longer sees a's. */
	flt.icmp6_filt[ICMP6_ECHO_REQUEST >> 5] &= ~(1u << (ICMP6_ECHO_REQUEST & 31));
	CHECK_EQ(ust_setsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, 4), -UST_EINVAL);
	REQUIRE_EQ(ust_setsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, sizeof(flt)), 0);
	to = sin6_of(&B6, 0);
	CHECK_EQ(ust_sendto(so, req, sizeof(req), 0, (struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)sizeof(req));
	tl_pair_run(&pr, 10 * MS);
	CHECK_EQ(ust_recv(sob, buf, sizeof(buf), 0), -UST_EAGAIN);
	CHECK_EQ(ust_recv(so, buf, sizeof(buf), 0), (ptrdiff_t)sizeof(req));
	CHECK_EQ(buf[0], ICMP6_ECHO_REPLY);
	len = sizeof(flt);
	REQUIRE_EQ(ust_getsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, &len), 0);
	CHECK_EQ(flt.icmp6_filt[4] & 1u, 0);
	/* Pass-all again: no filter kept. */
	memset(&flt, 0xff, sizeof(flt));
	REQUIRE_EQ(ust_setsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, sizeof(flt)), 0);
	CHECK(pr.b->st_rip6_filters == NULL);
	flt.icmp6_filt[0] = 0;
	REQUIRE_EQ(ust_setsockopt(sob, UST_IPPROTO_ICMPV6, UST_ICMP6_FILTER, &flt, sizeof(flt)), 0);
	CHECK(pr.b->st_rip6_filters != NULL);
	CHECK_EQ(ust_close(sob), 0);
	CHECK(pr.b->st_rip6_filters == NULL);
	CHECK_EQ(ust_close(so), 0);
	lt_pair_fini(&pr);
}
#endif /* UST_RAW_IP */
#endif /* UST_STATS */
#endif /* UST_INET6 */
