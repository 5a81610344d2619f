/*
 * test_tcp_timer.c - the timers on the virtual clock: one callout per
 * connection with per-slot deadlines, FreeBSD's SYN retransmission
 * schedule (+1.0, +2.2, +4.2 ... s) and its end (keepinit, retries),
 * TCP_KEEPINIT, rexmit_drop_options, RTO backoff to ETIMEDOUT with a RST,
 * keepalive probes and their expiry, TIME_WAIT of 2 * MSL, the FIN_WAIT_2
 * orphan timeout.
 */
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

/* Advances in 1 ms steps until a segment appears (at most max_ms);
 * returns the milliseconds it took, or -1. */
static long
tt_wait_seg(struct tt *o, struct tt_seg *s, long max_ms)
{
	long t;

	for (t = 0; t <= max_ms; t++) {
		if (tt_next(o, s))
			return (t);
		tt_advance_ms(o, 1);
	}
	return (-1);
}

TEST(timer_slots_one_callout)
{
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	tp = tt_tp(&o);
	REQUIRE(tp != NULL);
	CHECK(tcp_timer_active(tp, TT_REXMT));
	CHECK(tcp_timer_active(tp, TT_KEEP));
	CHECK(!tcp_timer_active(tp, TT_DELACK));
	CHECK(callout_pending(&tp->t_callout));
	tcp_timer_activate(tp, TT_2MSL, 5 * IPT_MS);
	CHECK_EQ(tp->t_timers[TT_2MSL], ust_vclock_now(o.t.vc) + 5 * IPT_MS);
	tcp_timer_activate(tp, TT_2MSL, 0);
	CHECK(!tcp_timer_active(tp, TT_2MSL));
	tcp_timer_stop_all(tp);
	CHECK(!callout_pending(&tp->t_callout));
	CHECK(!tcp_timer_active(tp, TT_REXMT));
	tt_fini(&o);
}

#if UST_STATS
#if UST_TCP_RFC1323
/* FREEBSD_DEFAULTS.md: SYN retransmissions at +1.0 s, then +2.2 s, ...
 * (rexmit_initial 1000 * 2^n + slop 200); keepinit (75 s) ends it. */
TEST(timer_syn_rexmt_schedule_then_keepinit)
{
	static const long gap[] = { 1000, 2200, 4200, 8200, 16200, 32200 };
	struct tt o;
	struct tt_seg s;
	unsigned i;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	for (i = 0; i < 6; i++) {
		tt_advance_ms(&o, (uint64_t)gap[i] - 1);
		CHECK(!tt_next(&o, &s));
		tt_advance_ms(&o, 1);
		REQUIRE(tt_next(&o, &s));
		CHECK_EQ(s.flags, TH_SYN);
		CHECK_EQ(s.raw_seq, o.iss);
		CHECK_EQ(s.optlen, 20);
		CHECK_EQ(s.win, 65535);
	}
	/* 64 s elapsed; keepinit drops at 75 s, before the next SYN. */
	tt_advance_ms(&o, 10999);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	tt_advance_ms(&o, 1);
	CHECK(!tt_next(&o, &s)); /* no RST from SYN_SENT */
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	CHECK(tt_tp(&o) == NULL);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_rexmttimeo, 6);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_keepdrops, 1);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_conndrops, 1);
	tt_fini(&o);
}
#endif
#endif

#if UST_STATS
/* Without the keepinit bound: 12 retransmissions (the last ones 64 s
 * apart, rexmit_max), then ETIMEDOUT. */
TEST(timer_syn_retries_then_etimedout)
{
	static const long gap[] = { 1000, 2200, 4200, 8200, 16200, 32200, 64000, 64000, 64000,
		64000, 64000, 64000 };
	struct tt o;
	struct tt_seg s;
	unsigned i;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.keepinit", 3600000);
	REQUIRE(tt_connect(&o, &s));
	for (i = 0; i < 12; i++) {
		tt_advance_ms(&o, (uint64_t)gap[i] - 1);
		CHECK(!tt_next(&o, &s));
		tt_advance_ms(&o, 1);
		REQUIRE(tt_next(&o, &s));
		CHECK_EQ(s.flags, TH_SYN);
	}
	tt_advance_ms(&o, 63999);
	CHECK(tt_tp(&o) != NULL);
	tt_advance_ms(&o, 1);
	CHECK(tt_tp(&o) == NULL);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_timeoutdrop, 1);
	tt_fini(&o);
}
#endif

/* snd-syn-rtx-keepinit: TCP_KEEPINIT 5 s -> SYNs at 0, 1.0, 3.2, then
 * ETIMEDOUT at 5 s. */
TEST(timer_tcp_keepinit_option)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(ust_socket(o.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &o.so) == 0);
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_KEEPINIT, 5) == 0);
	REQUIRE(tt_connect(&o, &s));
	CHECK_EQ(tt_wait_seg(&o, &s, 5000), 1000);
	CHECK_EQ(tt_wait_seg(&o, &s, 5000), 2200);
	CHECK_EQ(tt_wait_seg(&o, &s, 1798), -1);
	CHECK(tt_tp(&o) != NULL);
	tt_advance_ms(&o, 1);
	CHECK(tt_tp(&o) == NULL);
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	tt_fini(&o);
}

#if UST_TCP_RFC1323
/* snd-syn-rtx-drop-options: the third retransmission carries only MSS. */
TEST(timer_rexmit_drop_options)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.rexmit_drop_options", 1);
	REQUIRE(tt_connect(&o, &s));
	CHECK_EQ(s.optlen, 20);
	REQUIRE(tt_wait_seg(&o, &s, 1000) == 1000);
	CHECK_EQ(s.optlen, 20);
	REQUIRE(tt_wait_seg(&o, &s, 2200) == 2200);
	CHECK_EQ(s.optlen, 20);
	REQUIRE(tt_wait_seg(&o, &s, 4200) == 4200);
	REQUIRE_EQ(s.optlen, 4);
	CHECK_MEM(s.opt, tt_mss1460, 4);
	REQUIRE(tt_wait_seg(&o, &s, 8200) == 8200);
	CHECK_EQ(s.optlen, 4);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* RFC 6298 5.5 backoff, Karn, and the retries limit ending in ETIMEDOUT
 * with a RST (RFC 9293 3.8.3, FreeBSD tcp_drop). */
TEST(timer_rto_backoff_retries_etimedout)
{
	static uint8_t buf[100];
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;
	uint64_t prev, expect;
	uint32_t i;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.retries", 5);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	REQUIRE(ust_send(o.so, buf, 100, 0) == 100);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 100);
	CHECK(tp->t_rtttime != 0);
	prev = tp->t_rxtcur;
	CHECK_EQ(tcp_rexmt_timeout(tp, 0), (uint64_t)prev * 1000);
	for (i = 1; i <= 5; i++) {
		long t = tt_wait_seg(&o, &s, 70000);

		REQUIRE(t > 0);
		CHECK_EQ((uint64_t)t, ((prev << (i - 1)) + 999) / 1000);
		CHECK_EQ(s.len, 100);
		CHECK_EQ(s.raw_seq, o.iss + 1);
		CHECK_EQ(tp->t_rxtshift, i);
		CHECK_EQ(tp->t_rtttime, 0); /* Karn */
		expect = tcp_rexmt_timeout(tp, i) / IPT_MS;
		CHECK_EQ(tp->t_rxtcur / 1000, expect);
		if (i == 1)
			CHECK_EQ(tp->snd_cwnd, tp->t_maxseg);
	}
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndrexmitpack, 5);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndrexmitbyte, 500);
	CHECK(tt_wait_seg(&o, &s, 70000) > 0);
	CHECK_EQ(s.flags, TH_RST | TH_ACK);
	CHECK_EQ(s.raw_seq, o.iss + 101);
	CHECK_EQ(s.win, 0);
	CHECK(tt_tp(&o) == NULL);
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_timeoutdrop, 1);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_drops, 1);
	tt_fini(&o);
}
#endif

/* The timeout doubles per shift from the RTO in force (RFC 6298 5.5)
 * until rexmit_max; never below rexmit_min. */
TEST(timer_rexmt_timeout_clamped)
{
	struct tt o;
	struct tcpcb *tp;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	tp->t_rxtcur = 400000; /* 400 ms */
	CHECK_EQ(tcp_rexmt_timeout(tp, 0), 400 * IPT_MS);
	CHECK_EQ(tcp_rexmt_timeout(tp, 1), 800 * IPT_MS);
	CHECK_EQ(tcp_rexmt_timeout(tp, 2), 1600 * IPT_MS);
	CHECK_EQ(tcp_rexmt_timeout(tp, 5), 12800 * IPT_MS);
	CHECK_EQ(tcp_rexmt_timeout(tp, 12), 64000 * IPT_MS);
	/* Inside a series the base stays the first RTO. */
	tp->t_rxtbase = 400000;
	tp->t_rxtshift = 2;
	tp->t_rxtcur = 1600000;
	CHECK_EQ(tcp_rexmt_timeout(tp, 3), 3200 * IPT_MS);
	tp->t_rxtshift = 0;
	tp->t_rxtcur = 1;
	CHECK_EQ(tcp_rexmt_timeout(tp, 0), 30 * IPT_MS);
	tt_fini(&o);
}

#if UST_STATS
/* RFC 1122 4.2.3.6: probes after keepidle, every keepintvl, keepcnt of
 * them unanswered -> RST and ETIMEDOUT.  An answer keeps it alive. */
TEST(timer_keepalive_probes_and_drop)
{
	struct tt o;
	struct tt_seg s;
	int i;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.keepidle", 10000);
	tt_sysctl(&o, "net.inet.tcp.keepintvl", 2000);
	tt_sysctl(&o, "net.inet.tcp.keepcnt", 3);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(tl_setint(o.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 1) == 0);
	/* First round: the peer answers the first probe. */
	CHECK_EQ(tt_wait_seg(&o, &s, 20000), 10000);
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_seq, o.iss);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1);
	CHECK_EQ(s.len, 0);
	tt_peer(&o, TH_ACK, 0, 0, 65535, NULL, 0);
	CHECK_EQ(tt_wait_seg(&o, &s, 20000), 10000);
	/* Then silence: probes at +2 s, +2 s, then the drop. */
	for (i = 0; i < 2; i++) {
		CHECK_EQ(tt_wait_seg(&o, &s, 20000), 2000);
		CHECK_EQ(s.raw_seq, o.iss);
	}
	CHECK_EQ(tt_wait_seg(&o, &s, 20000), 2000);
	CHECK_EQ(s.flags, TH_RST | TH_ACK);
	CHECK(tt_tp(&o) == NULL);
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_keepprobe, 4);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_keepdrops, 1);
	tt_fini(&o);
}
#endif

/* Per-socket TCP_KEEPIDLE / INTVL / CNT override the knobs. */
TEST(timer_keepalive_socket_options)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(tl_setint(o.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 1) == 0);
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 5) == 0);
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_KEEPINTVL, 1) == 0);
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT, 2) == 0);
	CHECK_EQ(tt_wait_seg(&o, &s, 10000), 5000);
	CHECK_EQ(tt_wait_seg(&o, &s, 10000), 1000);
	CHECK_EQ(tt_wait_seg(&o, &s, 10000), 1000);
	CHECK_EQ(s.flags, TH_RST | TH_ACK);
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ETIMEDOUT);
	tt_fini(&o);
}

#if UST_STATS
/* RFC 9293 3.6: TIME_WAIT lasts 2 * MSL, then the PCB is gone. */
TEST(timer_time_wait_2msl)
{
	struct tt o;
	struct tt_seg s;
	struct in_addr fa, la;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.msl", 5000);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_shutdown(o.so, UST_SHUT_WR) == 0);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_FIN | TH_ACK);
	tt_peer(&o, TH_FIN | TH_ACK, 0, 1, 65535, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	REQUIRE(tt_tp(&o) != NULL);
	CHECK_EQ(tt_tp(&o)->t_state, TCPS_TIME_WAIT);
	(void)ust_close(o.so);
	o.so = NULL;
	fa.s_addr = htonl(IPT_PEER);
	la.s_addr = htonl(IPT_OURS);
	CHECK(in_pcblookup(o.t.st->st_tcbinfo, fa, htons(TT_PEER_PORT), la, htons(o.lport), 0) !=
	    NULL);
	tt_advance_ms(&o, 9999);
	CHECK(in_pcblookup(o.t.st->st_tcbinfo, fa, htons(TT_PEER_PORT), la, htons(o.lport), 0) !=
	    NULL);
	tt_advance_ms(&o, 1);
	CHECK(in_pcblookup(o.t.st->st_tcbinfo, fa, htons(TT_PEER_PORT), la, htons(o.lport), 0) ==
	    NULL);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_closed, 1);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* An orphan in FIN_WAIT_2 goes after finwait2_timeout of silence. */
TEST(timer_fin_wait_2_orphan_timeout)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.finwait2_timeout", 3000);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	(void)ust_close(o.so);
	o.so = NULL;
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_FIN | TH_ACK);
	tt_peer(&o, TH_ACK, 0, 1, 65535, NULL, 0);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 1);
	tt_advance_ms(&o, 2999);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 1);
	tt_advance_ms(&o, 2);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 0);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_finwait2_drops, 1);
	tt_fini(&o);
}
#endif
