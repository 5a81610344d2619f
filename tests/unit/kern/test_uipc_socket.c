/*
 * test_uipc_socket.c - the socket API at its boundary (argument checks and
 * the errors they give), socket options, kern.ipc.maxsockets, socket
 * buffer accounting, shutdown, and sofini closing leftover sockets with
 * queued data without a leak.
 */
#include <stdlib.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "../netinet/udp_rig.h"

TEST(socket_api_argument_checks)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_socket *so = NULL, *x = NULL, *acc = NULL;
	struct ust_sockaddr_in n = tl_sin(INADDR_ANY, 1), bad;
	uint8_t b[8];
	int v = 1;
	size_t len = sizeof(v);

	CHECK_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, NULL), -UST_EFAULT);
	CHECK_EQ(ust_socket(NULL, UST_AF_INET, UST_SOCK_DGRAM, 0, &so), -UST_EINVAL);
	CHECK_EQ(ust_socket(st, UST_INET6 ? 99 : 28, UST_SOCK_DGRAM, 0, &so), -UST_EAFNOSUPPORT);
	CHECK(so == NULL);
	/* SOCK_STREAM is TCP (issue 4). */
	REQUIRE_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	CHECK_EQ(ust_close(so), 0);
	so = NULL;
	CHECK_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, UST_IPPROTO_TCP, &so),
	    -UST_EPROTONOSUPPORT);
	CHECK_EQ(ust_socket(st, UST_AF_INET, 99, 0, &so), -UST_EPROTOTYPE);
	CHECK_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, UST_IPPROTO_UDP, &x), 0);
	REQUIRE_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so), 0);
	CHECK(ust_socket_stack(so) == st);
	CHECK(ust_socket_stack(NULL) == NULL);

	/* NULL handles. */
	CHECK_EQ(ust_bind(NULL, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EBADF);
	CHECK_EQ(ust_connect(NULL, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EBADF);
	CHECK_EQ(ust_listen(NULL, 1), -UST_EBADF);
	CHECK_EQ(ust_send(NULL, b, 1, 0), -UST_EBADF);
	CHECK_EQ(ust_sendto(NULL, b, 1, 0, (const struct ust_sockaddr *)&n, sizeof(n)), -UST_EBADF);
	CHECK_EQ(ust_recv(NULL, b, 1, 0), -UST_EBADF);
	CHECK_EQ(ust_recvfrom(NULL, b, 1, 0, (struct ust_sockaddr *)&n,
	             &(ust_socklen_t){ sizeof(n) }),
	    -UST_EBADF);
	CHECK_EQ(ust_shutdown(NULL, UST_SHUT_RD), -UST_EBADF);
	CHECK_EQ(ust_close(NULL), -UST_EBADF);
	CHECK_EQ(ust_getsockname(NULL, (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) }),
	    -UST_EBADF);
	CHECK_EQ(ust_getpeername(NULL, (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) }),
	    -UST_EBADF);
	CHECK_EQ(ust_setsockopt(NULL, UST_SOL_SOCKET, UST_SO_REUSEADDR, &v, sizeof(v)), -UST_EBADF);
	CHECK_EQ(ust_getsockopt(NULL, UST_SOL_SOCKET, UST_SO_TYPE, &v, &len), -UST_EBADF);
	CHECK_EQ(ust_accept(NULL, &acc, NULL, NULL), -UST_EBADF);

	/* Addresses. */
	CHECK_EQ(ust_bind(so, NULL, 0), -UST_EFAULT);
	bad = n;
	bad.sin_len = 0;
	CHECK_EQ(ust_bind(so, (const struct ust_sockaddr *)&bad, sizeof(bad)), -UST_EINVAL);
	CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&bad, sizeof(bad)), -UST_EINVAL);
	CHECK_EQ(ust_sendto(so, b, 1, 0, (const struct ust_sockaddr *)&bad, sizeof(bad)),
	    -UST_EINVAL);
	bad = n;
	bad.sin_family = 28;
	CHECK_EQ(ust_bind(so, (const struct ust_sockaddr *)&bad, sizeof(bad)), -UST_EAFNOSUPPORT);
	CHECK_EQ(ust_connect(so, NULL, 0), -UST_EFAULT);
	CHECK_EQ(ust_getsockname(so, NULL, NULL), -UST_EFAULT);
	CHECK_EQ(ust_getpeername(so, NULL, NULL), -UST_EFAULT);
	CHECK_EQ(ust_getpeername(so, (struct ust_sockaddr *)&n, &(ust_socklen_t){ sizeof(n) }),
	    -UST_ENOTCONN);

	/* Buffers and flags. */
	CHECK_EQ(ust_send(so, NULL, 1, 0), -UST_EFAULT);
	CHECK_EQ(ust_recv(so, NULL, 1, 0), -UST_EFAULT);
	CHECK_EQ(ust_send(so, b, 1, 0), -UST_EDESTADDRREQ);
	CHECK_EQ(ust_send(so, b, 1, UST_MSG_OOB), -UST_EOPNOTSUPP);
	CHECK_EQ(ust_send(so, b, 1, 0x4000), -UST_EINVAL);
	CHECK_EQ(ust_recv(so, b, 1, 0x4000), -UST_EINVAL);
	CHECK_EQ(ust_recv(so, b, 1, UST_MSG_OOB), -UST_EOPNOTSUPP);
	CHECK_EQ(ust_recv(so, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(ust_recv(so, b, sizeof(b), UST_MSG_DONTWAIT | UST_MSG_PEEK), -UST_EAGAIN);
	CHECK_EQ(ust_send(so, b, (size_t)PTRDIFF_MAX + 1, 0), -UST_EINVAL);

	/* Stream-only calls on a datagram socket. */
	CHECK_EQ(ust_listen(so, 5), -UST_EOPNOTSUPP);
	CHECK_EQ(ust_accept(so, &acc, NULL, NULL), -UST_EOPNOTSUPP);
	CHECK(acc == NULL);
	CHECK_EQ(ust_accept(so, NULL, NULL, NULL), -UST_EFAULT);

	/* shutdown. */
	CHECK_EQ(ust_shutdown(so, 7), -UST_EINVAL);
	CHECK_EQ(ust_shutdown(so, UST_SHUT_RDWR), -UST_ENOTCONN);

	/* Options. */
	CHECK_EQ(ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, NULL, 4), -UST_EFAULT);
	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_TYPE, &v, NULL), -UST_EFAULT);
	len = 4;
	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_TYPE, NULL, &len), -UST_EFAULT);

	CHECK_EQ(ust_close(so), 0);
	CHECK_EQ(ust_close(x), 0);
	CHECK_EQ(so_count(st), 0);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(socket_options)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_socket *so = udp_socket(st);
	struct ust_linger l = { 1, 7 }, l2;
	int v;
	size_t len;

	REQUIRE(so != NULL);
	/* Defaults (FreeBSD UDP: maxdgram and recvspace). */
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_TYPE), UST_SOCK_DGRAM);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_SNDBUF), 9216);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_RCVBUF), 42080);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_RCVLOWAT), 1);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_SNDLOWAT), 2048);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_IP, UST_IP_TTL), 64);
	CHECK_EQ(getint(so, UST_IPPROTO_IP, UST_IP_TOS), 0);

	/* Booleans. */
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, 5), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR), 1);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, 0), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_REUSEADDR), 0);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_REUSEPORT, 1), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_REUSEPORT), 1);

	/* Buffer sizes: positive, and within kern.ipc.maxsockbuf less the
	 * mbuf overhead (2 MiB * 2048 / 2304 = 1864135), else ENOBUFS as on
	 * FreeBSD, leaving the old size. */
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVBUF, 100000), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_RCVBUF), 100000);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVBUF, 0), -UST_EINVAL);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_SNDBUF, -5), -UST_EINVAL);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_SNDBUF, 1864135), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_SNDBUF), 1864135);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_SNDBUF, 1864136), -UST_ENOBUFS);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_SNDBUF), 1864135);
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockbuf", 73728), 0);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVBUF, 100000), -UST_ENOBUFS);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVBUF, 65536), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_RCVBUF), 65536);
	/* Low water marks stay under the limit. */
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVLOWAT, 1 << 20), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_RCVLOWAT), 65536);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_RCVLOWAT, -1), -UST_EINVAL);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_SNDLOWAT, 100), 0);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_SNDLOWAT), 100);

	/* SO_LINGER is stored. */
	CHECK_EQ(ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
	len = sizeof(l2);
	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_LINGER, &l2, &len), 0);
	CHECK_EQ(len, sizeof(l2));
	CHECK_EQ(l2.l_onoff, 1);
	CHECK_EQ(l2.l_linger, 7);
	CHECK_EQ(ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_LINGER, &l, 4), -UST_EINVAL);

	/* IP level. */
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TTL, 3), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_IP, UST_IP_TTL), 3);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TTL, 256), -UST_EINVAL);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TTL, 0), -UST_EINVAL);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TTL, -1), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_IP, UST_IP_TTL), 64);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TOS, 0xb8), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_IP, UST_IP_TOS), 0xb8);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, UST_IP_TOS, 300), -UST_EINVAL);

	/* Short values, unknown options and levels, read-only options. */
	v = 1;
	CHECK_EQ(ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_REUSEADDR, &v, 2), -UST_EINVAL);
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_IP, UST_IP_TTL, &v, 1), -UST_EINVAL);
	len = 2;
	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_RCVBUF, &v, &len), -UST_EINVAL);
	len = 2;
	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_ERROR, &v, &len), -UST_EINVAL);
	len = 16;
	{
		int big[4] = { 0 };

		CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_TYPE, big, &len), 0);
		CHECK_EQ(len, sizeof(int));
		CHECK_EQ(big[0], UST_SOCK_DGRAM);
	}
	CHECK_EQ(setint(so, UST_SOL_SOCKET, 0x7777, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, 0x7777), -12345);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_ERROR, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(setint(so, UST_SOL_SOCKET, UST_SO_TYPE, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(setint(so, UST_IPPROTO_IP, 99, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(setint(so, UST_IPPROTO_TCP, 1, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(setint(so, 12345, 1, 1), -UST_ENOPROTOOPT);

	/* SO_ERROR reads and clears. */
	SO_FROM_UST(so)->so_error = UST_EHOSTUNREACH;
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_ERROR), UST_EHOSTUNREACH);
	CHECK_EQ(getint(so, UST_SOL_SOCKET, UST_SO_ERROR), 0);
	ust_close(so);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(socket_maxsockets_enfile)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_socket *so[4], *x = NULL;
	struct ust_zone_stats zs;
	int i;

	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockets", 3), 0);
	for (i = 0; i < 3; i++)
		REQUIRE_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so[i]), 0);
	CHECK_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &x), -UST_ENFILE);
	CHECK(x == NULL);
	CHECK_EQ(so_count(st), 3);
	ust_close(so[1]);
	CHECK_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so[1]), 0);
	for (i = 0; i < 3; i++)
		ust_close(so[i]);
	so_zone_stats(st, &zs);
	CHECK_EQ(zs.in_use, 0);
	CHECK_EQ(st->st_udbinfo->ipi_count, 0);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

/* Raising kern.ipc.maxsockets after creation raises the TCP PCB zone
 * sized from it (twice the limit: connections outlive their sockets);
 * lowering it leaves the zone, the socket count check enforcing the lower
 * limit on new sockets. */
TEST(socket_maxsockets_raises_tcp_zones)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_zone_stats zs;

	ust_zone_get_stats(st->st_tcbinfo->ipi_zone, &zs);
	CHECK_EQ(zs.max, 2u * 65536u);
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockets", 1 << 20), 0);
	ust_zone_get_stats(st->st_tcbinfo->ipi_zone, &zs);
	CHECK_EQ(zs.max, 2u << 20);
	CHECK_EQ(ust_sysctl_set(st, "kern.ipc.maxsockets", 16), 0);
	ust_zone_get_stats(st->st_tcbinfo->ipi_zone, &zs);
	CHECK_EQ(zs.max, 2u << 20);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

#if UST_STATS
/* A's PCB zone holds 3 connections and each connection it closes first
 * stays in TIME_WAIT for 2MSL: the fourth and later sockets are made by
 * ending the oldest TIME_WAIT early (tcp_tw_reclaim), not refused. */
TEST(socket_full_pcb_zone_reclaims_time_wait)
{
	struct tl_pair r;
	struct ust_socket *lso, *c, *s;
	struct ust_sockaddr_in to = tl_sin(ADDR_B, 5300);
	struct ust_tcpstat ts;
	int i;

	urig_init(&r, ust_test_seed);
	ust_zone_set_max(r.a->st_tcbinfo->ipi_zone, 3);
	REQUIRE_EQ(ust_socket(r.b, UST_AF_INET, UST_SOCK_STREAM, 0, &lso), 0);
	REQUIRE_EQ(ust_bind(lso, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	REQUIRE_EQ(ust_listen(lso, 8), 0);
	for (i = 0; i < 6; i++) {
		REQUIRE_EQ(ust_socket(r.a, UST_AF_INET, UST_SOCK_STREAM, 0, &c), 0);
		CHECK_EQ(ust_connect(c, (const struct ust_sockaddr *)&to, sizeof(to)),
		    -UST_EINPROGRESS);
		tl_pair_run(&r, 10 * NS_MS);
		REQUIRE_EQ(ust_accept(lso, &s, NULL, NULL), 0);
		ust_close(c); /* A closes first: A's side ends in TIME_WAIT */
		tl_pair_run(&r, 10 * NS_MS);
		ust_close(s);
		tl_pair_run(&r, 10 * NS_MS);
	}
	CHECK_EQ(r.a->st_tcbinfo->ipi_count, 3);
	ust_stats_tcp(r.a, &ts);
	CHECK_EQ(ts.tcps_tw_reclaims, 3);
	CHECK_EQ(ts.tcps_connects, 6);
	ust_close(lso);
	urig_fini(&r);
}
#endif

TEST(sockbuf_records_and_stream_accounting)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_socket *uso = udp_socket(st);
	struct socket *so = SO_FROM_UST(uso);
	struct sockbuf sb;
	struct ust_sockaddr_in from = tl_sin(ADDR_A, 9), got;
	struct mbuf *m;
	uint8_t data[3000], out[3000];
	size_t n;
	int i;

	REQUIRE(so != NULL);
	tl_pattern(data, sizeof(data), 1);
	memset(&sb, 0, sizeof(sb));
	CHECK_EQ(sbreserve(so, &sb, 0), UST_EINVAL);
	CHECK_EQ(sbreserve(so, &sb, -1), UST_EINVAL);
	CHECK_EQ(sbreserve(so, &sb, 2000), 0);
	CHECK_EQ(sb.sb_hiwat, 2000);
	CHECK_EQ(sb.sb_mbmax, 2000 * SB_EFFICIENCY);
	/* Datagrams: name + data counted; refused when it does not fit. */
	for (i = 0; i < 3; i++) {
		m = m_gethdr(&st->st_mbz, MT_DATA);
		REQUIRE(m != NULL);
		REQUIRE_EQ(m_append(m, 500, data + i), 0);
		CHECK_EQ(sbappendaddr(&sb, (const struct ust_sockaddr *)&from, m), 1);
	}
	CHECK_EQ(sb.sb_records, 3);
	CHECK_EQ(sb.sb_cc, 3 * (500 + sizeof(from)));
	CHECK_EQ(sb.sb_ctl, 3 * sizeof(from));
	CHECK(sb.sb_mbcnt >= 6 * UST_MSIZE);
	m = m_gethdr(&st->st_mbz, MT_DATA);
	REQUIRE_EQ(m_append(m, 500, data), 0);
	CHECK_EQ(sbappendaddr(&sb, (const struct ust_sockaddr *)&from, m), 0);
	m_freem(m);
	/* An empty datagram is a record too. */
	sb.sb_hiwat = 4000;
	m = m_gethdr(&st->st_mbz, MT_DATA);
	CHECK_EQ(sbappendaddr(&sb, (const struct ust_sockaddr *)&from, m), 1);
	CHECK_EQ(sb.sb_records, 4);
	memcpy(&got, sb.sb_mb->m_data, sizeof(got));
	CHECK_EQ(got.sin_addr, ADDR_A);
	while (sb.sb_mb != NULL)
		sbdroprecord(&sb);
	CHECK_EQ(sb.sb_cc, 0);
	CHECK_EQ(sb.sb_ctl, 0);
	/* The name takes sa_len bytes: a 28-byte sockaddr_in6 is kept whole. */
	{
		struct ust_sockaddr_in6 s6, got6;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_len = (uint8_t)sizeof(s6);
		s6.sin6_family = UST_AF_INET6;
		s6.sin6_port = 7;
		s6.sin6_addr.s6_addr8[15] = 1;
		m = m_gethdr(&st->st_mbz, MT_DATA);
		REQUIRE(m != NULL);
		CHECK_EQ(sbappendaddr(&sb, (const struct ust_sockaddr *)&s6, m), 1);
		CHECK_EQ(sb.sb_ctl, sizeof(s6));
		CHECK_EQ(sb.sb_mb->m_len, sizeof(s6));
		memcpy(&got6, sb.sb_mb->m_data, sizeof(got6));
		CHECK(memcmp(&got6, &s6, sizeof(s6)) == 0);
		sbdroprecord(&sb);
		CHECK_EQ(sb.sb_ctl, 0);
	}
	CHECK_EQ(sb.sb_mbcnt, 0);
	CHECK_EQ(sb.sb_records, 0);
	CHECK(sb.sb_lastrecord == NULL && sb.sb_mbtail == NULL);

	/* Stream: appended in pieces, dropped across mbuf boundaries. */
	for (i = 0; i < 3; i++) {
		m = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
		REQUIRE(m != NULL);
		REQUIRE_EQ(m_append(m, 1000, data + 1000 * i), 0);
		sbappendstream(&sb, m);
	}
	CHECK_EQ(sb.sb_cc, 3000);
	CHECK_EQ(sb.sb_records, 1);
	REQUIRE_EQ(m_copydata(sb.sb_mb, 0, 3000, out), 0);
	CHECK_MEM(out, data, 3000);
	sbdrop(&sb, 1500);
	CHECK_EQ(sb.sb_cc, 1500);
	REQUIRE_EQ(m_copydata(sb.sb_mb, 0, 1500, out), 0);
	CHECK_MEM(out, data + 1500, 1500);
	n = 1500;
	sbdrop(&sb, (uint32_t)n);
	CHECK_EQ(sb.sb_cc, 0);
	CHECK_EQ(sb.sb_mbcnt, 0);
	CHECK(sb.sb_mb == NULL);
	sbrelease(&sb);
	CHECK_EQ(sb.sb_hiwat, 0);
	ust_close(uso);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

/*
 * Small stream chunks land in the trailing space of the last mbuf (FreeBSD's
 * sbcompress): 200 writes of 10 bytes hold one cluster, not 200 mbufs; a
 * chunk over a quarter cluster, or a read-only/shared tail, is linked
 * as it is; the bytes stay in order either way.
 */
TEST(sockbuf_stream_compresses_small_chunks)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_socket *uso = udp_socket(st);
	struct socket *so = SO_FROM_UST(uso);
	struct sockbuf sb;
	struct mbuf *m, *ref;
	uint8_t data[4000], out[4000];
	uint32_t mbcnt;
	int i;

	REQUIRE(so != NULL);
	tl_pattern(data, sizeof(data), 7);
	memset(&sb, 0, sizeof(sb));
	REQUIRE_EQ(sbreserve(so, &sb, 8000), 0);
	m = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
	REQUIRE(m != NULL);
	REQUIRE_EQ(m_append(m, 10, data), 0);
	sbappendstream(&sb, m);
	mbcnt = sb.sb_mbcnt;
	for (i = 1; i < 200; i++) {
		m = m_get(&st->st_mbz, MT_DATA);
		REQUIRE(m != NULL);
		REQUIRE_EQ(m_append(m, 10, data + 10 * i), 0);
		sbappendstream(&sb, m);
	}
	CHECK_EQ(sb.sb_cc, 2000);
	CHECK_EQ(sb.sb_mbcnt, mbcnt);
	CHECK(sb.sb_mb == sb.sb_mbtail);
	/* Over a quarter cluster: linked, not copied. */
	m = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
	REQUIRE(m != NULL);
	REQUIRE_EQ(m_append(m, UST_MCLBYTES / 4 + 1, data + 2000), 0);
	sbappendstream(&sb, m);
	CHECK(sb.sb_mbtail == m);
	/* A tail shared with a copy in flight is not written. */
	ref = m_copym(m, 0, 10);
	REQUIRE(ref != NULL);
	m = m_get(&st->st_mbz, MT_DATA);
	REQUIRE(m != NULL);
	REQUIRE_EQ(m_append(m, 10, data + 2001 + UST_MCLBYTES / 4), 0);
	sbappendstream(&sb, m);
	CHECK(sb.sb_mbtail == m);
	m_freem(ref);
	CHECK_EQ(sb.sb_cc, 2011 + UST_MCLBYTES / 4);
	REQUIRE_EQ(m_copydata(sb.sb_mb, 0, sb.sb_cc, out), 0);
	CHECK_MEM(out, data, sb.sb_cc);
	sbdrop(&sb, sb.sb_cc);
	CHECK_EQ(sb.sb_mbcnt, 0);
	CHECK(sb.sb_mb == NULL);
	sbrelease(&sb);
	ust_close(uso);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(socket_shutdown_connected)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	uint8_t b[16];

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5100);
	to = tl_sin(ADDR_B, 5100);
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	CHECK_EQ(ust_shutdown(sa, UST_SHUT_WR), 0);
	CHECK_EQ(ust_send(sa, "x", 1, 0), -UST_EPIPE);
	CHECK_EQ(ust_shutdown(sa, UST_SHUT_RD), 0);
	/* Read side shut: EOF, not EAGAIN. */
	CHECK_EQ(ust_recv(sa, b, sizeof(b), 0), 0);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

/* BSD address lengths: inputs checked against sa_len and the family,
 * outputs truncated to *len with the full length reported. */
TEST(socket_address_lengths)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb, *t = NULL;
	struct ust_sockaddr_in to, me;
	struct ust_sockaddr_in6 s6;
	struct ust_sockaddr_storage ss;
	ust_socklen_t len;
	uint8_t b[16];

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5300);
	REQUIRE(sa != NULL && sb != NULL);
	to = tl_sin(ADDR_B, 5300);
	/* Inputs: the length covers sa_len, which is the family's struct. */
	CHECK_EQ(ust_sendto(sa, "x", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to) - 1),
	    -UST_EINVAL);
	CHECK_EQ(ust_sendto(sa, "x", 1, 0, (const struct ust_sockaddr *)&to, 1), -UST_EINVAL);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_len = (uint8_t)sizeof(s6);
	s6.sin6_family = UST_AF_INET6;
	s6.sin6_port = to.sin_port;
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&s6, sizeof(s6)), -UST_EAFNOSUPPORT);
	s6.sin6_family = UST_AF_INET;
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&s6, sizeof(s6)), -UST_EINVAL);
	CHECK_EQ(ust_bind(sa, (const struct ust_sockaddr *)&s6, sizeof(s6)), -UST_EINVAL);
	/* A buffer longer than the address is fine: sa_len says what it is. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &to, sizeof(to));
	CHECK_EQ(ust_sendto(sa, "x", 1, 0, (const struct ust_sockaddr *)&ss, sizeof(ss)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	/* Outputs: the whole address and its length. */
	memset(&ss, 0xa5, sizeof(ss));
	len = sizeof(ss);
	CHECK_EQ(ust_recvfrom(sb, b, sizeof(b), 0, (struct ust_sockaddr *)&ss, &len), 1);
	CHECK_EQ(len, sizeof(me));
	memcpy(&me, &ss, sizeof(me));
	CHECK_EQ(me.sin_len, sizeof(me));
	CHECK_EQ(me.sin_family, UST_AF_INET);
	CHECK_EQ(me.sin_addr, ADDR_A);
	/* Truncated to *len, the full length reported, nothing written beyond. */
	CHECK_EQ(ust_sendto(sa, "y", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	memset(&ss, 0xa5, sizeof(ss));
	len = 4;
	CHECK_EQ(ust_recvfrom(sb, b, sizeof(b), 0, (struct ust_sockaddr *)&ss, &len), 1);
	CHECK_EQ(len, sizeof(me));
	CHECK_MEM(&ss, &me, 4);
	CHECK_EQ(((const uint8_t *)&ss)[4], 0xa5);
	len = 0;
	CHECK_EQ(ust_getsockname(sb, (struct ust_sockaddr *)&ss, &len), 0);
	CHECK_EQ(len, sizeof(struct ust_sockaddr_in));
	/* An output address needs its length. */
	CHECK_EQ(ust_recvfrom(sb, b, sizeof(b), 0, (struct ust_sockaddr *)&ss, NULL), -UST_EFAULT);
	CHECK_EQ(ust_getsockname(sb, (struct ust_sockaddr *)&ss, NULL), -UST_EFAULT);
	CHECK_EQ(ust_getpeername(sb, (struct ust_sockaddr *)&ss, NULL), -UST_EFAULT);
#if !UST_INET6
	/* No IPv6 domain: an AF_INET6 socket is refused, not made IPv4. */
	CHECK_EQ(ust_socket(r.a, UST_AF_INET6, UST_SOCK_STREAM, 0, &t), -UST_EAFNOSUPPORT);
	CHECK_EQ(ust_socket(r.a, UST_AF_INET6, UST_SOCK_DGRAM, 0, &t), -UST_EAFNOSUPPORT);
	CHECK(t == NULL);
#else
	/* An AF_INET6 socket takes no IPv4 sockaddr. */
	REQUIRE_EQ(ust_socket(r.a, UST_AF_INET6, UST_SOCK_DGRAM, 0, &t), 0);
	CHECK_EQ(ust_bind(t, (const struct ust_sockaddr *)&me, sizeof(me)), -UST_EAFNOSUPPORT);
	ust_close(t);
#endif
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

#if UST_EVQ
TEST(sofini_closes_leftover_sockets)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb, *sc;
	struct ust_evq *q;
	struct ust_sockaddr_in to;
	struct ust_zone_stats zs;
	int i;

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5200);
	sc = udp_bound(r.b, ADDR_B, 5201);
	REQUIRE(sa != NULL && sb != NULL && sc != NULL);
	REQUIRE_EQ(ust_evq_create(r.b, &q), 0);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sb, UST_EV_IN, NULL), 0);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sc, UST_EV_IN, NULL), 0);
	to = tl_sin(ADDR_B, 5200);
	for (i = 0; i < 5; i++)
		CHECK_EQ(ust_sendto(sa, "leftover", 8, 0, (const struct ust_sockaddr *)&to,
		             sizeof(to)),
		    8);
	tl_pair_run(&r, 10 * NS_MS);
	so_zone_stats(r.b, &zs);
	CHECK_EQ(zs.in_use, 2);
	CHECK_EQ(knote_count(r.b), 2);
	CHECK(SO_FROM_UST(sb)->so_rcv.sb_records == 5);
	/* Destroy with everything open: sofini closes the sockets, frees the
	 * queued datagrams and the event queue; test_stack_free then checks
	 * the mbuf zones (and ASan the rest). */
	sofini(r.b);
	/* The socket zone is gone; the zero-copy state stays for
	 * so_zc_fini (ust_stack_destroy, after the interfaces). */
	CHECK(r.b->st_so != NULL && r.b->st_so->ss_zone == NULL);
	CHECK_EQ(so_count(r.b), 0);
	sofini(r.b); /* idempotent */
	urig_fini(&r);
}
#endif
