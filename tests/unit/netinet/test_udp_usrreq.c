/*
 * test_udp_usrreq.c - UDP between two stacks over a pipe (payloads from 0
 * to 65507 bytes, connect, names, full receive buffers, MSG_PEEK,
 * truncation, port unreachable turned into ECONNREFUSED, broadcast
 * without ICMP), and crafted frames through the loop driver (bad
 * checksum, bad lengths, no checksum, trimming, the checksum we send).
 */
#include <stdlib.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/icmp_var.h"
#include "netinet/ip.h"
#include "netinet/udp.h"
#include "netinet/udp_var.h"
#include "udp_rig.h"

static uint8_t sbuf[70000], rbuf[70000];

#if UST_STATS
TEST(udp_sendto_recvfrom_over_pipe)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to, from, name;
	struct ust_udpstat us;
	static const size_t sizes[] = { 0, 1, 100, 1472, 1473, 3000, 9216 };
	size_t i;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5001);
	REQUIRE(sa != NULL && sb != NULL);
	to = tl_sin(ADDR_B, 5001);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tl_pattern(sbuf, sizes[i], (unsigned)i);
		CHECK_EQ(ust_sendto(sa, sbuf, sizes[i], 0, (const struct ust_sockaddr *)&to,
		             sizeof(to)),
		    (ptrdiff_t)sizes[i]);
		tl_pair_run(&r, 10 * NS_MS);
		memset(&from, 0, sizeof(from));
		memset(rbuf, 0xee, sizes[i] + 1);
		CHECK_EQ(ust_recvfrom(sb, rbuf, sizeof(rbuf), 0, (struct ust_sockaddr *)&from,
		             &(ust_socklen_t){ sizeof(from) }),
		    (ptrdiff_t)sizes[i]);
		CHECK_MEM(rbuf, sbuf, sizes[i]);
		CHECK_EQ(from.sin_len, sizeof(from));
		CHECK_EQ(from.sin_family, UST_AF_INET);
		CHECK_EQ(from.sin_addr, ADDR_A);
		CHECK(from.sin_port != 0);
	}
	/* The implicit bind chose the port the peer saw. */
	CHECK_EQ(ust_getsockname(sa, (struct ust_sockaddr *)&name,
	             &(ust_socklen_t){ sizeof(name) }),
	    0);
	CHECK_EQ(name.sin_port, from.sin_port);
	CHECK_EQ(name.sin_addr, INADDR_ANY);
	CHECK_EQ(ust_recvfrom(sb, rbuf, sizeof(rbuf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    -UST_EAGAIN);
	ust_stats_udp(r.b, &us);
	CHECK_EQ(us.udps_delivered, 7);
	CHECK_EQ(us.udps_ipackets, 7);
	CHECK_EQ(us.udps_badsum + us.udps_badlen + us.udps_hdrops + us.udps_noport, 0);
	ust_stats_udp(r.a, &us);
	CHECK_EQ(us.udps_opackets, 7);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}
#endif

#if UST_STATS
TEST(udp_max_datagram_fragmented)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to, from;
	struct ust_ipstat ips;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5002);
	REQUIRE(sa != NULL && sb != NULL);
	to = tl_sin(ADDR_B, 5002);
	/* The default send buffer is net.inet.udp.maxdgram (9216). */
	CHECK_EQ(getint(sa, UST_SOL_SOCKET, UST_SO_SNDBUF), 9216);
	CHECK_EQ(ust_sendto(sa, sbuf, 9217, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EMSGSIZE);
	CHECK_EQ(setint(sa, UST_SOL_SOCKET, UST_SO_SNDBUF, 100000), 0);
	CHECK_EQ(setint(sb, UST_SOL_SOCKET, UST_SO_RCVBUF, 200000), 0);
	/* RFC 768 over IPv4: 65507 is the largest payload. */
	CHECK_EQ(ust_sendto(sa, sbuf, 65508, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EMSGSIZE);
	/* Resolve B first: ARP holds only a few packets while it asks. */
	CHECK_EQ(ust_sendto(sa, sbuf, 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), 0), 1);
	tl_pattern(sbuf, 65507, 3);
	CHECK_EQ(ust_sendto(sa, sbuf, 65507, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    65507);
	tl_pair_run(&r, 50 * NS_MS);
	memset(rbuf, 0, sizeof(rbuf));
	CHECK_EQ(ust_recvfrom(sb, rbuf, sizeof(rbuf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    65507);
	CHECK_MEM(rbuf, sbuf, 65507);
	ust_stats_ip(r.a, &ips);
	CHECK(ips.ips_ofragments >= 45);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}
#endif

#if UST_STATS
TEST(udp_connect_send_recv_names)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb, *sc;
	struct ust_sockaddr_in to, name, peer, from;
	struct ust_udpstat us;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, ADDR_B, 6000);
	REQUIRE(sa != NULL && sb != NULL);
	CHECK_EQ(ust_getpeername(sa, (struct ust_sockaddr *)&peer,
	             &(ust_socklen_t){ sizeof(peer) }),
	    -UST_ENOTCONN);
	to = tl_sin(ADDR_B, 6000);
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), -UST_EISCONN);
	/* connect chose the source by route and an ephemeral port. */
	CHECK_EQ(ust_getsockname(sa, (struct ust_sockaddr *)&name,
	             &(ust_socklen_t){ sizeof(name) }),
	    0);
	CHECK_EQ(name.sin_addr, ADDR_A);
	CHECK(ntohs(name.sin_port) >= 10000);
	CHECK_EQ(ust_getpeername(sa, (struct ust_sockaddr *)&peer,
	             &(ust_socklen_t){ sizeof(peer) }),
	    0);
	CHECK_EQ(peer.sin_addr, ADDR_B);
	CHECK_EQ(peer.sin_port, htons(6000));
	CHECK_EQ(ust_sendto(sa, "x", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EISCONN);
	CHECK_EQ(ust_send(sa, "hello", 5, 0), 5);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recvfrom(sb, rbuf, sizeof(rbuf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    5);
	CHECK_MEM(rbuf, "hello", 5);
	CHECK_EQ(from.sin_port, name.sin_port);
	/* Reply to the connected socket. */
	CHECK_EQ(ust_sendto(sb, "world", 5, 0, (const struct ust_sockaddr *)&from, sizeof(from)),
	    5);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sa, rbuf, sizeof(rbuf), 0), 5);
	CHECK_MEM(rbuf, "world", 5);
	/* A datagram from another port of B does not reach the connected
	 * socket: nothing else listens, so it is answered with ICMP. */
	sc = udp_bound(r.b, INADDR_ANY, 6001);
	REQUIRE(sc != NULL);
	CHECK_EQ(ust_sendto(sc, "zz", 2, 0, (const struct ust_sockaddr *)&name, sizeof(name)), 2);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sa, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	ust_stats_udp(r.a, &us);
	CHECK_EQ(us.udps_noport, 1);
	/* An unconnected socket ignores the ICMP error it got back. */
	CHECK_EQ(getint(sc, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	ust_close(sa);
	ust_close(sb);
	ust_close(sc);
	urig_fini(&r);
}
#endif

#if UST_STATS
TEST(udp_receive_buffer_full_drops_counted)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	struct ust_udpstat us;
	int i, got = 0;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5003);
	REQUIRE(sa != NULL && sb != NULL);
	CHECK_EQ(setint(sb, UST_SOL_SOCKET, UST_SO_RCVBUF, 4096), 0);
	CHECK_EQ(getint(sb, UST_SOL_SOCKET, UST_SO_RCVBUF), 4096);
	to = tl_sin(ADDR_B, 5003);
	for (i = 0; i < 10; i++) {
		CHECK_EQ(ust_sendto(sa, sbuf, 1000, 0, (const struct ust_sockaddr *)&to,
		             sizeof(to)),
		    1000);
		tl_pair_run(&r, NS_MS);
	}
	tl_pair_run(&r, 10 * NS_MS);
	while (ust_recv(sb, rbuf, sizeof(rbuf), 0) == 1000)
		got++;
	ust_stats_udp(r.b, &us);
	/* 4 datagrams of 1000 bytes plus their 16-byte names fit in 4096. */
	CHECK_EQ(got, 4);
	CHECK_EQ(us.udps_delivered, 4);
	CHECK_EQ(us.udps_fullsock, 6);
	/* Space again after reading. */
	CHECK_EQ(ust_sendto(sa, sbuf, 1000, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1000);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), 0), 1000);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}
#endif

TEST(udp_peek_and_truncation)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to, from;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5004);
	REQUIRE(sa != NULL && sb != NULL);
	to = tl_sin(ADDR_B, 5004);
	tl_pattern(sbuf, 300, 9);
	CHECK_EQ(ust_sendto(sa, sbuf, 300, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 300);
	CHECK_EQ(ust_sendto(sa, "second", 6, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 6);
	tl_pair_run(&r, 10 * NS_MS);
	/* MSG_PEEK leaves the datagram queued. */
	CHECK_EQ(ust_recvfrom(sb, rbuf, 10, UST_MSG_PEEK, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    10);
	CHECK_MEM(rbuf, sbuf, 10);
	CHECK_EQ(from.sin_addr, ADDR_A);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), UST_MSG_PEEK | UST_MSG_DONTWAIT), 300);
	/* A short read takes the whole datagram: the rest is discarded. */
	CHECK_EQ(ust_recv(sb, rbuf, 100, 0), 100);
	CHECK_MEM(rbuf, sbuf, 100);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), 0), 6);
	CHECK_MEM(rbuf, "second", 6);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	/* A zero-length read of a datagram consumes it. */
	CHECK_EQ(ust_sendto(sa, "abc", 3, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 3);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sb, NULL, 0, 0), 0);
	CHECK_EQ(ust_recv(sb, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

#if UST_STATS
#if UST_ICMP_CTLINPUT
#if UST_ICMP_ERRORS
TEST(udp_port_unreachable_econnrefused)
{
	struct tl_pair r;
	struct ust_socket *sa, *su;
	struct ust_sockaddr_in to;
	struct ust_udpstat us;
	struct ust_icmpstat is;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	su = udp_socket(r.a);
	REQUIRE(sa != NULL && su != NULL);
	to = tl_sin(ADDR_B, 9999);
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(ust_send(sa, "ping", 4, 0), 4);
	tl_pair_run(&r, 10 * NS_MS);
	ust_stats_udp(r.b, &us);
	CHECK_EQ(us.udps_noport, 1);
	ust_stats_icmp(r.b, &is);
	CHECK_EQ(is.icps_outhist[ICMP_UNREACH], 1);
	/* SO_ERROR reads and clears. */
	CHECK_EQ(getint(sa, UST_SOL_SOCKET, UST_SO_ERROR), UST_ECONNREFUSED);
	CHECK_EQ(getint(sa, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	/* Next time the error comes back from recv, once. */
	CHECK_EQ(ust_send(sa, "ping", 4, 0), 4);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(sa, rbuf, sizeof(rbuf), 0), -UST_ECONNREFUSED);
	CHECK_EQ(ust_recv(sa, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	/* ... and from send. */
	CHECK_EQ(ust_send(sa, "ping", 4, 0), 4);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_send(sa, "ping", 4, 0), -UST_ECONNREFUSED);
	CHECK_EQ(ust_send(sa, "ping", 4, 0), 4);
	tl_pair_run(&r, 10 * NS_MS);
	/* An unconnected socket does not hear of it (BSD). */
	CHECK_EQ(ust_sendto(su, "ping", 4, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 4);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(getint(su, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	CHECK_EQ(ust_recv(su, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	/* Blackhole: no answer at all. */
	ust_stats_icmp(r.b, &is);
	CHECK_EQ(ust_sysctl_set(r.b, "net.inet.udp.blackhole", 1), 0);
	CHECK_EQ(ust_sendto(su, "ping", 4, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 4);
	tl_pair_run(&r, 10 * NS_MS);
	{
		struct ust_icmpstat is2;

		ust_stats_icmp(r.b, &is2);
		CHECK_EQ(is2.icps_outhist[ICMP_UNREACH], is.icps_outhist[ICMP_UNREACH]);
	}
	ust_stats_udp(r.b, &us);
	CHECK_EQ(us.udps_noport, 6);
	ust_close(sa);
	ust_close(su);
	urig_fini(&r);
}
#endif
#endif
#endif

#if UST_STATS
TEST(udp_broadcast_delivery_without_icmp)
{
	struct tl_pair r;
	struct ust_socket *sa, *b1, *b2, *b3;
	struct ust_sockaddr_in to, any;
	struct ust_udpstat us;
	struct ust_icmpstat is;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	REQUIRE(sa != NULL);
	to = tl_sin(ADDR_BCAST, 7000);
	/* RFC 1122 / BSD: broadcasting needs SO_BROADCAST. */
	CHECK_EQ(ust_sendto(sa, "b", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EACCES);
	CHECK_EQ(setint(sa, UST_SOL_SOCKET, UST_SO_BROADCAST, 1), 0);
	CHECK_EQ(getint(sa, UST_SOL_SOCKET, UST_SO_BROADCAST), 1);
	CHECK_EQ(ust_sendto(sa, "b", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	ust_stats_udp(r.b, &us);
	CHECK_EQ(us.udps_noportbcast, 1);
	CHECK_EQ(us.udps_noport, 0);
	ust_stats_icmp(r.b, &is);
	CHECK_EQ(is.icps_outhist[ICMP_UNREACH], 0);

	/* Two sockets sharing the wildcard port both get a copy; one bound
	 * to B's unicast address does not. */
	b1 = udp_socket(r.b);
	b2 = udp_socket(r.b);
	b3 = udp_socket(r.b);
	REQUIRE(b1 != NULL && b2 != NULL && b3 != NULL);
	CHECK_EQ(setint(b1, UST_SOL_SOCKET, UST_SO_REUSEPORT, 1), 0);
	CHECK_EQ(setint(b2, UST_SOL_SOCKET, UST_SO_REUSEPORT, 1), 0);
	any = tl_sin(INADDR_ANY, 7000);
	CHECK_EQ(ust_bind(b1, (const struct ust_sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(ust_bind(b2, (const struct ust_sockaddr *)&any, sizeof(any)), 0);
	any = tl_sin(ADDR_B, 7000);
	CHECK_EQ(setint(b3, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	CHECK_EQ(ust_bind(b3, (const struct ust_sockaddr *)&any, sizeof(any)), 0);
	CHECK_EQ(ust_sendto(sa, "bcast", 5, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 5);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_recv(b1, rbuf, sizeof(rbuf), 0), 5);
	CHECK_EQ(ust_recv(b2, rbuf, sizeof(rbuf), 0), 5);
	CHECK_MEM(rbuf, "bcast", 5);
	CHECK_EQ(ust_recv(b3, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	ust_stats_udp(r.b, &us);
	CHECK_EQ(us.udps_delivered, 2);
	ust_close(sa);
	ust_close(b1);
	ust_close(b2);
	ust_close(b3);
	urig_fini(&r);
}
#endif

/* ---------------------------------------------------------------------
 * Crafted frames through the loop driver.
 * ------------------------------------------------------------------- */

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
#define ADDR_PEER IP4(198, 18, 0, 9)

struct lrig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv *d;
	struct ust_if *ifp;
};

static void
lrig_init(struct lrig *l)
{
	l->vc = ust_vclock_create(RIG_T0);
	l->st = test_stack_new(l->vc, ust_test_seed);
	l->d = calloc(1, sizeof(*l->d));
	loopdrv_init(l->d);
	if (ust_if_attach(l->st, "lo0", &loopdrv_ops, l->d, &l->ifp) != 0 ||
	    ust_if_addr_add(l->ifp, ADDR_A, 24) != 0 ||
	    ust_arp_add_static(l->ifp, ADDR_PEER, peer_mac) != 0)
		abort();
	ust_stack_poll(l->st);
	l->d->tx_count = 0;
}

static void
lrig_fini(struct lrig *l)
{
	test_stack_free(l->st);
	free(l->d);
	ust_vclock_destroy(l->vc);
}

/* An Ethernet/IPv4/UDP frame from the peer to A:dport; ulen_adj changes
 * the UDP length field, sum_mode 0: correct checksum, 1: zero, 2: wrong;
 * extra: bytes of IP payload beyond the UDP length. */
static size_t
build_frame(uint8_t *f, uint16_t dport, const void *data, size_t dlen, int ulen_adj, int sum_mode,
    size_t extra)
{
	struct ip ip;
	struct udphdr uh;
	uint8_t *u = f + 14 + IP_HDRLEN;
	uint32_t sum;
	struct in_addr s = { ADDR_PEER }, d = { ADDR_A };

	memcpy(f, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0x10 }, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(&ip, 0, sizeof(ip));
	ip.ip_v = 4;
	ip.ip_hl = 5;
	ip.ip_len = (uint16_t)(IP_HDRLEN + UDP_HDRLEN + dlen + extra);
	ip.ip_ttl = 64;
	ip.ip_p = IPPROTO_UDP;
	ip.ip_src = s;
	ip.ip_dst = d;
	ip_hdr_write(f + 14, &ip);
	uh.uh_sport = htons(4444);
	uh.uh_dport = htons(dport);
	uh.uh_ulen = (uint16_t)(UDP_HDRLEN + dlen + ulen_adj);
	uh.uh_sum = 0;
	udp_hdr_write(u, &uh);
	memcpy(u + UDP_HDRLEN, data, dlen);
	memset(u + UDP_HDRLEN + dlen, 0xab, extra);
	if (sum_mode != 1) {
		sum = in_cksum_buf(u, (uint32_t)(UDP_HDRLEN + dlen),
		    in_pseudo(s, d, IPPROTO_UDP, (uint32_t)(UDP_HDRLEN + dlen)));
		if (sum == 0)
			sum = 0xffff;
		if (sum_mode == 2)
			sum ^= 0x0101;
		udp_hdr_set_sum(u, (uint16_t)sum);
	}
	return (14 + IP_HDRLEN + UDP_HDRLEN + dlen + extra);
}

#if UST_STATS
TEST(udp_input_checks_counted)
{
	struct lrig l;
	struct ust_socket *so;
	struct ust_udpstat us;
	uint8_t f[256];
	size_t n;

	lrig_init(&l);
	so = udp_bound(l.st, INADDR_ANY, 8000);
	REQUIRE(so != NULL);
	/* Good. */
	n = build_frame(f, 8000, "good", 4, 0, 0, 0);
	loopdrv_inject(l.d, f, n);
	/* Bad checksum. */
	n = build_frame(f, 8000, "bads", 4, 0, 2, 0);
	loopdrv_inject(l.d, f, n);
	/* No checksum: accepted (RFC 768). */
	n = build_frame(f, 8000, "nsum", 4, 0, 1, 0);
	loopdrv_inject(l.d, f, n);
	/* UDP length beyond the IP payload. */
	n = build_frame(f, 8000, "long", 4, 10, 1, 0);
	loopdrv_inject(l.d, f, n);
	/* UDP length below 8. */
	n = build_frame(f, 8000, "shrt", 4, -5, 1, 0);
	loopdrv_inject(l.d, f, n);
	/* IP payload longer than the UDP length: trimmed, checksum over the
	 * UDP length only. */
	n = build_frame(f, 8000, "trim", 4, 0, 0, 6);
	loopdrv_inject(l.d, f, n);
	/* Shorter than a UDP header. */
	n = build_frame(f, 8000, "", 0, 0, 1, 0);
	f[14 + 3] = IP_HDRLEN + 4; /* ip_len: 4 bytes of UDP */
	f[14 + 10] = f[14 + 11] = 0;
	{
		struct ip ip;

		ip_hdr_parse(f + 14, IP_HDRLEN, &ip);
		ip_hdr_write(f + 14, &ip);
	}
	loopdrv_inject(l.d, f, 14 + IP_HDRLEN + 4);
	ust_stack_poll(l.st);
	ust_stats_udp(l.st, &us);
	CHECK_EQ(us.udps_ipackets, 7);
	CHECK_EQ(us.udps_badsum, 1);
	CHECK_EQ(us.udps_nosum, 1);
	CHECK_EQ(us.udps_badlen, 2);
	CHECK_EQ(us.udps_hdrops, 1);
	CHECK_EQ(us.udps_delivered, 3);
	CHECK_EQ(ust_recv(so, rbuf, sizeof(rbuf), 0), 4);
	CHECK_MEM(rbuf, "good", 4);
	CHECK_EQ(ust_recv(so, rbuf, sizeof(rbuf), 0), 4);
	CHECK_MEM(rbuf, "nsum", 4);
	CHECK_EQ(ust_recv(so, rbuf, sizeof(rbuf), 0), 4);
	CHECK_MEM(rbuf, "trim", 4);
	CHECK_EQ(ust_recv(so, rbuf, sizeof(rbuf), 0), -UST_EAGAIN);
	ust_close(so);
	lrig_fini(&l);
}
#endif

TEST(udp_output_header_and_checksum_on_wire)
{
	struct lrig l;
	struct ust_socket *so;
	struct ust_sockaddr_in to;
	struct ip ip;
	struct udphdr uh;
	struct in_addr s, d;
	const uint8_t *u;

	lrig_init(&l);
	so = udp_bound(l.st, INADDR_ANY, 1234);
	REQUIRE(so != NULL);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TTL, 17), 0);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TOS, 0x10), 0);
	to = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_sendto(so, "query", 5, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 5);
	ust_stack_poll(l.st);
	REQUIRE_EQ(l.d->tx_count, 1);
	REQUIRE(l.d->tx_len[0] >= 14 + 20 + 8 + 5);
	CHECK_MEM(l.d->tx[0], peer_mac, 6);
	REQUIRE_EQ(ip_hdr_parse(l.d->tx[0] + 14, 20, &ip), 0);
	CHECK_EQ(ip.ip_p, IPPROTO_UDP);
	CHECK_EQ(ip.ip_ttl, 17);
	CHECK_EQ(ip.ip_tos, 0x10);
	CHECK_EQ(ip.ip_len, 20 + 8 + 5);
	CHECK_EQ(ip.ip_src.s_addr, ADDR_A);
	CHECK_EQ(ip.ip_dst.s_addr, ADDR_PEER);
	u = l.d->tx[0] + 14 + 20;
	REQUIRE_EQ(udp_hdr_parse(u, 8, &uh), 0);
	CHECK_EQ(uh.uh_sport, htons(1234));
	CHECK_EQ(uh.uh_dport, htons(53));
	CHECK_EQ(uh.uh_ulen, 13);
	CHECK(uh.uh_sum != 0);
	CHECK_MEM(u + 8, "query", 5);
	s.s_addr = ADDR_A;
	d.s_addr = ADDR_PEER;
	CHECK_EQ(in_cksum_buf(u, 13, in_pseudo(s, d, IPPROTO_UDP, 13)), 0);
	/* net.inet.udp.checksum=0: sent without. */
	CHECK_EQ(ust_sysctl_set(l.st, "net.inet.udp.checksum", 0), 0);
	CHECK_EQ(ust_sendto(so, "query", 5, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 5);
	ust_stack_poll(l.st);
	REQUIRE_EQ(l.d->tx_count, 2);
	REQUIRE_EQ(udp_hdr_parse(l.d->tx[1] + 14 + 20, 8, &uh), 0);
	CHECK_EQ(uh.uh_sum, 0);
	/* No route: the error comes back to the caller. */
	to = tl_sin(IP4(10, 9, 9, 9), 53);
	CHECK_EQ(ust_sendto(so, "q", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_ENETUNREACH);
	ust_close(so);
	lrig_fini(&l);
}

TEST(udp_ctlinput_maps_errors)
{
	struct lrig l;
	struct ust_socket *so;
	struct ust_sockaddr_in to, name;
	struct icmp_ctl ctl;
	uint8_t q[8];
	struct udphdr uh;
	static const struct {
		uint8_t type, code;
		int err;
	} cases[] = {
		{ ICMP_UNREACH, ICMP_UNREACH_PORT, UST_ECONNREFUSED },
		{ ICMP_UNREACH, ICMP_UNREACH_HOST, UST_EHOSTUNREACH },
		{ ICMP_UNREACH, ICMP_UNREACH_NET, UST_ENETUNREACH },
		{ ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, UST_EMSGSIZE },
		{ ICMP_SOURCEQUENCH, 0, 0 },
	};
	size_t i;
	struct ust_stack *st;

	lrig_init(&l);
	st = l.st;
	so = udp_socket(st);
	REQUIRE(so != NULL);
	to = tl_sin(ADDR_PEER, 53);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(ust_getsockname(so, (struct ust_sockaddr *)&name,
	             &(ust_socklen_t){ sizeof(name) }),
	    0);
	uh.uh_sport = name.sin_port;
	uh.uh_dport = htons(53);
	uh.uh_ulen = 8;
	uh.uh_sum = 0;
	udp_hdr_write(q, &uh);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ctl, 0, sizeof(ctl));
		ctl.type = cases[i].type;
		ctl.code = cases[i].code;
		ctl.src.s_addr = ADDR_A;
		ctl.dst.s_addr = ADDR_PEER;
		ctl.proto = IPPROTO_UDP;
		ctl.l4 = q;
		ctl.l4len = 8;
		udp_ctlinput(st, &ctl);
		CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_ERROR), cases[i].err);
	}
	/* A quote of another port finds nobody. */
	uh.uh_sport = htons(1);
	udp_hdr_write(q, &uh);
	ctl.type = ICMP_UNREACH;
	ctl.code = ICMP_UNREACH_PORT;
	udp_ctlinput(st, &ctl);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	ust_close(so);
	lrig_fini(&l);
}
