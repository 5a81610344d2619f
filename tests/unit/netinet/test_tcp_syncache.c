/*
 * test_tcp_syncache.c - the syncache and SYN cookies (tcp_syncache.c),
 * as packet scripts against one stack: SYN-ACK option layouts, duplicate
 * SYNs, retransmission with backoff and the stale drop, handshake
 * completion and accept, bad ACKs, RSTs, cache and bucket overflow into
 * cookies, forged and expired cookies, listen queue overflow.
 */
#include "kern/stack_var.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"
#include "ust_test.h"

/* The whole file needs the syncache (ustack_opts.h). */
#if UST_TCP_SYNCACHE

#define TCPS(tt) (&(tt)->t.st->st_tcpstat)
#define SEC (1000ull * IPT_MS)

/* <mss 1460,nop,wscale 7,nop,nop,TS val 100 ecr 0> */
static const uint8_t syn_ws_ts[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 0, 0, 0, 100, 0,
	0, 0, 0 };

static void
syn_from(struct tt *tt, uint16_t pport)
{
	tt->pport = pport;
	tt_in(tt, TH_SYN, 0, 0, 32767);
}

#if UST_STATS
TEST(syncache_synack_mss_only)
{
	struct tt tt;
	struct tt_seg sg;
	static const uint8_t want[8] = { 2, 4, 0x05, 0xb4, 4, 2, 0, 0 };

	tt_init(&tt, 1);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	/* A peer without window scale and timestamps: FreeBSD's
	 * <mss 1460,sackOK,eol,eol> (RFC 2018 2: the SYN offered SACK). */
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(sg.optlen, 8);
	CHECK_MEM(sg.opt, want, 8);
	CHECK_EQ(TCPS(&tt)->tcps_sc_added, 1);
	CHECK_EQ(syncache_count(tt.t.st), 1);
	TT_NONE(&tt);
	tt_fini(&tt);
}
#endif

#if UST_TCP_RFC1323
TEST(syncache_synack_wscale_ts)
{
	struct tt tt;
	struct tt_seg sg;
	/* <mss 1460,nop,wscale 6,nop,nop,TS val . ecr 100> */
	static const uint8_t head[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10 };

	tt_init(&tt, 2);
	REQUIRE(tt_listen(&tt));
	tt_in_raw(&tt, TH_SYN, 0, 0, 65535, syn_ws_ts, sizeof(syn_ws_ts), NULL, 0);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(sg.optlen, 20);
	CHECK_MEM(sg.opt, head, sizeof(head));
	CHECK_EQ(sg.to.to_tsecr, 100);
	/* The handshake completes with both options in force. */
	{
		uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 101, 0, 0, 0, 0 };
		struct ust_tcp_info ti;
		struct ust_socket *so;
		struct ust_sockaddr_in peer;

		tl_put32(ts + 8, sg.to.to_tsval);
		tt_in_raw(&tt, TH_ACK, 1, 1, 512, ts, sizeof(ts), NULL, 0);
		REQUIRE_EQ(ust_accept(tt.lso, &so, (struct ust_sockaddr *)&peer,
		               &(ust_socklen_t){ sizeof(peer) }),
		    0);
		tt.so = so;
		REQUIRE_EQ(tt_info(so, &ti), 0);
		CHECK_EQ(ti.tcpi_state, UST_TCPS_ESTABLISHED);
		CHECK_EQ(ti.tcpi_options & (UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_TIMESTAMPS),
		    UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_TIMESTAMPS);
		CHECK_EQ(ti.tcpi_snd_wscale, 7);
		CHECK_EQ(ti.tcpi_rcv_wscale, 6);
		/* The ACK's window is scaled by the peer's shift. */
		CHECK_EQ(ti.tcpi_snd_wnd, 512u << 7);
		CHECK_EQ(ti.tcpi_snd_mss, 1460);
	}
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_dup_syn_answered_again)
{
	struct tt tt;

	tt_init(&tt, 3);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	ipt_advance(&tt.t, 300 * IPT_MS);
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	/* The same ISS: tt_next took it from the first SYN-ACK. */
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	CHECK_EQ(TCPS(&tt)->tcps_sc_dupsyn, 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_added, 1);
	CHECK_EQ(syncache_count(tt.t.st), 1);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_retransmit_backoff_then_stale)
{
	struct tt tt;
	uint32_t iss;

	tt_init(&tt, 4);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	iss = tt.iss;
	/* rexmit_initial 1 s, doubled each time: +1 s, +2 s, +4 s. */
	ipt_advance(&tt.t, 999 * IPT_MS);
	TT_NONE(&tt);
	ipt_advance(&tt.t, 1 * IPT_MS);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	CHECK_EQ(tt.iss, iss);
	ipt_advance(&tt.t, 1999 * IPT_MS);
	TT_NONE(&tt);
	ipt_advance(&tt.t, 1 * IPT_MS);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	ipt_advance(&tt.t, 4 * SEC);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	CHECK_EQ(TCPS(&tt)->tcps_sc_retransmitted, 3);
	/* rexmtlimit 3 reached: the next expiry drops the entry. */
	ipt_advance(&tt.t, 8 * SEC);
	TT_NONE(&tt);
	CHECK_EQ(TCPS(&tt)->tcps_sc_stale, 1);
	CHECK_EQ(syncache_count(tt.t.st), 0);
	/* A late ACK meets no entry and no valid cookie: RST. */
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 1, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, 1);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_expand_accept)
{
	struct tt tt;
	struct ust_sockaddr_in me;
	int v = 0;
	size_t len = sizeof(v);

	tt_init(&tt, 5);
	REQUIRE(tt_established_passive(&tt));
	CHECK_EQ(TCPS(&tt)->tcps_sc_completed, 1);
	CHECK_EQ(TCPS(&tt)->tcps_accepts, 1);
	CHECK_EQ(TCPS(&tt)->tcps_connects, 1);
	CHECK_EQ(syncache_count(tt.t.st), 0);
	REQUIRE_EQ(ust_getsockname(tt.so, (struct ust_sockaddr *)&me,
	               &(ust_socklen_t){ sizeof(me) }),
	    0);
	CHECK_EQ(me.sin_addr, htonl(IPT_OURS));
	CHECK_EQ(ntohs(me.sin_port), TT_LOCAL_PORT);
	/* SO_RCVBUF: 65536 rounded up to a multiple of the MSS (FreeBSD). */
	REQUIRE_EQ(ust_getsockopt(tt.so, UST_SOL_SOCKET, UST_SO_RCVBUF, &v, &len), 0);
	CHECK_EQ(v, 65700);
	/* Only one connection was queued. */
	{
		struct ust_socket *so2;

		CHECK_EQ(ust_accept(tt.lso, &so2, NULL, NULL), -UST_EAGAIN);
	}
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_bad_ack_gets_rst)
{
	struct tt tt;

	tt_init(&tt, 6);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	/* RFC 9293 3.10.7.4: <SEQ=SEG.ACK><CTL=RST>. */
	tt_in(&tt, TH_ACK, 1, 5, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 5, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_sc_badack, 1);
	/* The entry survives; the right ACK still completes. */
	CHECK_EQ(syncache_count(tt.t.st), 1);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	{
		struct ust_socket *so;

		REQUIRE_EQ(ust_accept(tt.lso, &so, NULL, NULL), 0);
		tt.so = so;
	}
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_rst_exact_removes_entry)
{
	struct tt tt;

	tt_init(&tt, 7);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	tt_in(&tt, TH_RST, 1, 0, 0);
	TT_NONE(&tt);
	CHECK_EQ(TCPS(&tt)->tcps_sc_reset, 1);
	CHECK_EQ(syncache_count(tt.t.st), 0);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_rst_in_window_challenged)
{
	struct tt tt;

	tt_init(&tt, 8);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	/* RFC 5961 3.2: in the window but not RCV.NXT: a challenge ACK. */
	tt_in(&tt, TH_RST, 100, 0, 0);
	REQUIRE(TT_OUT(&tt, TH_ACK, 1, 0, 1, TT_ANY));
	CHECK_EQ(TCPS(&tt)->tcps_sc_reset, 0);
	CHECK_EQ(syncache_count(tt.t.st), 1);
	/* Outside the window: ignored. */
	tt_in(&tt, TH_RST, 200000, 0, 0);
	TT_NONE(&tt);
	CHECK_EQ(syncache_count(tt.t.st), 1);
	tt_fini(&tt);
}
#endif

/* Completes the handshake of the connection from port pport whose SYN-ACK
 * (ISS in tt->iss) was just read; returns the accepted socket. */
static struct ust_socket *
finish(struct tt *tt, uint16_t pport)
{
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in peer;

	tt->pport = pport;
	tt_in(tt, TH_ACK, 1, 1, 32767);
	if (ust_accept(tt->lso, &so, (struct ust_sockaddr *)&peer,
	        &(ust_socklen_t){ sizeof(peer) }) != 0)
		return (NULL);
	CHECK_EQ(ntohs(peer.sin_port), pport);
	CHECK_EQ(tt_state(so), UST_TCPS_ESTABLISHED);
	return (so);
}

#if UST_STATS
TEST(syncache_cache_overflow_sends_cookie)
{
	struct tt tt;
	struct tt_seg sg;
	struct ust_socket *a, *b;
	uint32_t iss1;

	tt_init(&tt, 9);
	/* A boot-time tunable (read-only in the registry); tests reach in. */
	V(tt.t.st, tcp_syncache_cachelimit) = 1;
	REQUIRE(tt_listen(&tt));
	syn_from(&tt, 40001);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	iss1 = tt.iss;
	/* The cache is full: the second peer gets a cookie, which carries
	 * window scale and timestamps as FreeBSD's (test_tcp_syncookie.c). */
	tt.pport = 40002;
	tt_in_raw(&tt, TH_SYN, 0, 0, 65535, syn_ws_ts, sizeof(syn_ws_ts), NULL, 0);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(sg.optlen, 20);
	CHECK_EQ(sg.to.to_mss, 1460);
	CHECK_EQ(sg.to.to_flags & (TOF_SCALE | TOF_TS), TOF_SCALE | TOF_TS);
	CHECK_EQ(TCPS(&tt)->tcps_sc_cacheoverflow, 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_sendcookie, 1);
	CHECK_EQ(syncache_count(tt.t.st), 1);
	b = finish(&tt, 40002);
	REQUIRE(b != NULL);
	CHECK_EQ(TCPS(&tt)->tcps_sc_recvcookie, 1);
	{
		struct ust_tcp_info ti;

		REQUIRE_EQ(tt_info(b, &ti), 0);
		/* The ACK (finish) has no timestamps: window scale alone,
		 * the peer's 7 (in the cookie table). */
		CHECK_EQ(ti.tcpi_options & (UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_TIMESTAMPS),
		    UST_TCPI_OPT_WSCALE);
		CHECK_EQ(ti.tcpi_snd_wscale, 7);
		/* The MSS came back from the cookie: 1460 is in the table. */
		CHECK_EQ(ti.tcpi_snd_mss, 1460);
	}
	tt.iss = iss1;
	a = finish(&tt, 40001);
	REQUIRE(a != NULL);
	CHECK_EQ(TCPS(&tt)->tcps_sc_completed, 1);
	ust_close(a);
	ust_close(b);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_bucket_overflow_sends_cookie)
{
	struct tt tt;
	struct tt_seg sg;
	uint16_t port;

	tt_init(&tt, 10);
	/* Read-only after creation through the registry; tests reach in. */
	V(tt.t.st, tcp_syncache_bucketlimit) = 1;
	REQUIRE(tt_listen(&tt));
	for (port = 41000; port < 41300 && TCPS(&tt)->tcps_sc_bucketoverflow == 0; port++) {
		/* The loop driver keeps 64 frames: start over each time. */
		tt.t.d->tx_count = 0;
		tt.rd = 0;
		syn_from(&tt, port);
		REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	}
	/* The other entries expire without more SYN-ACKs. */
	tt_sysctl(&tt, "net.inet.tcp.syncache.rexmtlimit", 0);
	REQUIRE_EQ(TCPS(&tt)->tcps_sc_bucketoverflow, 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_sendcookie, 1);
	CHECK_EQ(syncache_count(tt.t.st), (uint32_t)(port - 41000 - 1));
	/* The cookie completes the handshake (backlog 2: room for it). */
	{
		struct ust_socket *so = finish(&tt, (uint16_t)(port - 1));

		REQUIRE(so != NULL);
		CHECK_EQ(TCPS(&tt)->tcps_sc_recvcookie, 1);
		ust_close(so);
	}
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_full_without_cookies_drops)
{
	struct tt tt;

	tt_init(&tt, 11);
	/* A boot-time tunable (read-only in the registry); tests reach in. */
	V(tt.t.st, tcp_syncache_cachelimit) = 1;
	tt_sysctl(&tt, "net.inet.tcp.syncookies", 0);
	REQUIRE(tt_listen(&tt));
	syn_from(&tt, 40001);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	syn_from(&tt, 40002);
	TT_NONE(&tt);
	CHECK_EQ(TCPS(&tt)->tcps_sc_cacheoverflow, 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_sendcookie, 0);
	/* Without cookies an unknown ACK is just a RST. */
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 1, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, 0);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_forged_cookie_dropped_with_rst)
{
	struct tt tt;
	struct ust_socket *so;

	tt_init(&tt, 12);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	CHECK_EQ(syncache_count(tt.t.st), 0);
	CHECK_EQ(TCPS(&tt)->tcps_sc_sendcookie, 1);
	/* A guessed cookie (one off) and a wrong peer ISN both fail. */
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 2, 0, TT_ANY, 0));
	tt_in(&tt, TH_ACK, 2, 1, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 1, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, 2);
	CHECK_EQ(ust_accept(tt.lso, &so, NULL, NULL), -UST_EAGAIN);
	/* The real one works. */
	so = finish(&tt, TT_PEER_PORT);
	REQUIRE(so != NULL);
	CHECK_EQ(TCPS(&tt)->tcps_sc_recvcookie, 1);
	tt.so = so;
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_cookie_lifetime)
{
	struct tt tt;
	struct ust_socket *so;

	tt_init(&tt, 13);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	/* Valid in the next time slot... */
	syn_from(&tt, 40001);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	ipt_advance(&tt.t, 16 * SEC);
	so = finish(&tt, 40001);
	REQUIRE(so != NULL);
	ust_close(so);
	ipt_poll(&tt.t);
	tt.rd = tt.t.d->tx_count; /* its FIN */
	/* ... not two slots later. */
	syn_from(&tt, 40002);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	ipt_advance(&tt.t, 31 * SEC);
	tt.rd = tt.t.d->tx_count;
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	REQUIRE(TT_OUT(&tt, TH_RST, 1, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, 1);
	tt_fini(&tt);
}
#endif

#if UST_STATS
TEST(syncache_listen_queue_overflow)
{
	struct tt tt;
	uint16_t port;
	uint32_t iss[5];

	tt_init(&tt, 14);
	REQUIRE(tt_listen(&tt)); /* backlog 2: 3/2 of it may wait, then no more */
	for (port = 0; port < 5; port++) {
		syn_from(&tt, (uint16_t)(40001 + port));
		REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
		iss[port] = tt.iss;
	}
	for (port = 0; port < 4; port++) {
		tt.pport = (uint16_t)(40001 + port);
		tt.iss = iss[port];
		tt_in(&tt, TH_ACK, 1, 1, 32767);
		TT_NONE(&tt);
	}
	CHECK_EQ(TCPS(&tt)->tcps_listendrop, 0);
	tt.pport = 40005;
	tt.iss = iss[4];
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	/* net.inet.tcp.syncache.rst_on_sock_fail=1: the peer hears of it. */
	REQUIRE(TT_OUT(&tt, TH_RST, 1, 0, TT_ANY, 0));
	CHECK_EQ(TCPS(&tt)->tcps_listendrop, 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_aborted, 1);
	/* Four were queued; closing the listener aborts them with RSTs. */
	{
		struct ust_socket *so;

		REQUIRE_EQ(ust_accept(tt.lso, &so, NULL, NULL), 0);
		ust_close(so);
	}
	tt_fini(&tt);
}
#endif
#endif /* UST_TCP_SYNCACHE */
