/*
 * test_tcp_input.c - segment input as packet scripts: the stack sits on
 * the loop driver at 198.18.0.2 with the peer 198.18.0.1; the test crafts
 * TCP segments byte by byte (reference checksum), injects them, and checks
 * the exact segments that come back (flags, seq, ack, window, options),
 * the connection state and the counters, on the virtual clock.  Sequence
 * numbers are written relative to each side's ISN as packetdrill does.
 * Also the RFC 6298 estimator and the MSS rules on their own.
 */
#include <stdlib.h>
#include <string.h>

#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

static uint8_t payload[8000];

/* ---------------------------------------------------------------------
 * RTT estimator and MSS, on their own.
 * ------------------------------------------------------------------- */

#if UST_STATS
TEST(tcp_xmit_timer_rfc6298)
{
	struct ipt t;
	struct tcpcb tp;

	ipt_init(&t, 1);
	memset(&tp, 0, sizeof(tp));
	tp.t_stack = t.st;
	tp.t_rxtshift = 3;
	/* 2.2: SRTT = R, RTTVAR = R/2; RTO = R + 4 R/2 + slop 200 ms. */
	tcp_xmit_timer(&tp, 100000);
	CHECK_EQ(tp.t_srtt, 100000);
	CHECK_EQ(tp.t_rttvar, 50000);
	CHECK_EQ(tp.t_rxtcur, 100000 + 200000 + 200000);
	CHECK_EQ(tp.t_rxtshift, 0);
	CHECK_EQ(t.st->st_tcpstat.tcps_rttupdated, 1);
	/* 2.3: RTTVAR = 3/4 50000 + 1/4 |100000 - 200000| = 62500;
	 * SRTT = 7/8 100000 + 1/8 200000 = 112500. */
	tcp_xmit_timer(&tp, 200000);
	CHECK_EQ(tp.t_rttvar, 62500);
	CHECK_EQ(tp.t_srtt, 112500);
	CHECK_EQ(tp.t_rxtcur, 112500 + 250000 + 200000);
	/* Tiny RTTs: G (1 ms) and then rexmit_min bound it. */
	memset(&tp, 0, sizeof(tp));
	tp.t_stack = t.st;
	V(t.st, tcp_rexmit_slop) = 0;
	tcp_xmit_timer(&tp, 100);
	CHECK_EQ(tp.t_rxtcur, 30000);
	V(t.st, tcp_rexmit_min) = 1;
	memset(&tp, 0, sizeof(tp));
	tp.t_stack = t.st;
	tcp_xmit_timer(&tp, 100);
	CHECK_EQ(tp.t_rxtcur, 100 + 1000);
	/* And rexmit_max caps it. */
	tcp_xmit_timer(&tp, 200000000);
	CHECK_EQ(tp.t_rxtcur, 64000000);
	ipt_fini(&t);
}
#endif

static uint32_t
mss_for(uint32_t mtu, uint32_t offer)
{
	struct ipt t;
	struct inpcb inp;
	struct tcpcb tp;
	uint32_t mss;

	ipt_init_mtu(&t, 1, mtu);
	memset(&inp, 0, sizeof(inp));
	memset(&tp, 0, sizeof(tp));
	inp.inp_faddr.s_addr = htonl(IPT_PEER);
	inp.inp_stack = t.st;
	tp.t_inpcb = &inp;
	tp.t_stack = t.st;
	tcp_mss(&tp, offer);
	mss = tp.t_maxseg;
	ipt_fini(&t);
	return (mss);
}

TEST(tcp_mss_from_mtu_and_offer)
{
	CHECK_EQ(mss_for(1500, 1460), 1460);
	CHECK_EQ(mss_for(1500, 8960), 1460);
	CHECK_EQ(mss_for(1500, 1000), 1000);
	CHECK_EQ(mss_for(1500, 0), 536);   /* no option: mssdflt */
	CHECK_EQ(mss_for(1500, 100), 216); /* below minmss */
	CHECK_EQ(mss_for(9000, 8960), 8960);
	CHECK_EQ(mss_for(9000, 65535), 8960);
	CHECK_EQ(mss_for(576, 1460), 536);
	CHECK_EQ(mss_for(576, 0), 536);
}

/* ---------------------------------------------------------------------
 * Header checks and segments for no connection.
 * ------------------------------------------------------------------- */

#if UST_STATS
TEST(tcp_input_no_pcb_rst)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tt_hdr s;
	struct tt_seg o;

	tt_init(r, 11);
	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	memset(&s, 0, sizeof(s));
	s.seq = 1000;
	s.flags = TH_SYN;
	s.win = 65535;
	tt_inject(r, &s);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.flags, TH_RST | TH_ACK);
	CHECK_EQ(o.raw_seq, 0);
	CHECK_EQ(o.raw_ack, 1001);
	CHECK_EQ(o.win, 0);
	/* Data and FIN without ACK: ACK = SEQ + LEN + 1. */
	s.flags = TH_FIN;
	s.data = payload;
	s.dlen = 10;
	tt_inject(r, &s);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.flags, TH_RST | TH_ACK);
	CHECK_EQ(o.raw_ack, 1011);
	/* ACK: <SEQ=SEG.ACK><CTL=RST>. */
	s.flags = TH_ACK;
	s.dlen = 0;
	s.ack = 777;
	tt_inject(r, &s);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.flags, TH_RST);
	CHECK_EQ(o.raw_seq, 777);
	/* Never a RST for a RST. */
	s.flags = TH_RST | TH_ACK;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvnoport, 4);
	/* Blackhole 1: SYNs go unanswered; 2: everything. */
	V(r->t.st, tcp_blackhole) = 1;
	s.flags = TH_SYN;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	s.flags = TH_ACK;
	tt_inject(r, &s);
	CHECK(tt_next(r, &o));
	V(r->t.st, tcp_blackhole) = 2;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	tt_fini(r);
	free(r);
}
#endif

#if UST_STATS
TEST(tcp_input_header_checks)
{
	struct tt *r = calloc(1, sizeof(*r));
	uint8_t tcp[20], f[100];
	struct tt_hdr s;
	size_t n;

	tt_init(r, 11);
	/* Bad checksum: build a good segment, then flip a byte. */
	memset(tcp, 0, sizeof(tcp));
	tcp[12] = 5 << 4;
	tcp[13] = TH_SYN;
	n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 6, 1, 0, 64, tcp, 20);
	ipt_inject(&r->t, f, n);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvbadsum, 1);
	/* Shorter than a header. */
	n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 6, 1, 0, 64, tcp, 12);
	ipt_inject(&r->t, f, n);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvshort, 1);
	/* Data offset 4 and 15 (past the end). */
	tcp[12] = 4 << 4;
	n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 6, 1, 0, 64, tcp, 20);
	ipt_inject(&r->t, f, n);
	tcp[12] = 15 << 4;
	n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 6, 1, 0, 64, tcp, 20);
	ipt_inject(&r->t, f, n);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvbadoff, 2);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvtotal, 4);
	CHECK(tt_none(r));
	/* To the broadcast address: dropped, never answered. */
	memset(&s, 0, sizeof(s));
	s.flags = TH_SYN;
	s.dst = IPT_BCAST;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvnoport, 0);
	/* SYN+FIN with drop_synfin. */
	V(r->t.st, tcp_drop_synfin) = 1;
	s.dst = 0;
	s.flags = TH_SYN | TH_FIN;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badsyn, 1);
	tt_fini(r);
	free(r);
}
#endif

/* ---------------------------------------------------------------------
 * Active open and the established connection.
 * ------------------------------------------------------------------- */

#if UST_STATS
TEST(tcp_input_active_open)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	CHECK_EQ(tp->t_maxseg, 1460);
	CHECK_EQ(tp->snd_una, r->iss + 1);
	CHECK_EQ(tp->rcv_nxt, r->piss + 1);
	CHECK_EQ(tp->snd_wnd, 32767);
	CHECK(!(tp->t_flags & TF_RCVD_SCALE));
	CHECK(!(tp->t_flags & TF_RCVD_TSTMP));
	CHECK_EQ(tp->snd_scale, 0);
	CHECK_EQ(tp->rcv_scale, 0);
	CHECK(SO_FROM_UST(r->so)->so_state & SS_ISCONNECTED);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_connects, 1);
	tt_fini(r);
	free(r);
}
#endif

#if UST_TCP_RFC1323
TEST(tcp_input_active_open_wscale_ts)
{
	struct tt *r = calloc(1, sizeof(*r));
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 15, 1, 1, 8, 10, 0, 0, 0, 9, 0,
		0, 0, 0 };
	struct tcpcb *tp;
	struct tt_hdr s;
	struct tt_seg o;

	tt_init(r, 11);
	REQUIRE(tt_connect(r, &o));
	tp = tt_sotp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->piss;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = 1000;
	memcpy(s.opt, opts, sizeof(opts));
	s.optlen = sizeof(opts);
	tt_inject(r, &s);
	CHECK_EQ(tp->t_state, TCPS_ESTABLISHED);
	if (tp->t_flags & TF_REQ_SCALE) {
		CHECK(tp->t_flags & TF_RCVD_SCALE);
		CHECK_EQ(tp->snd_scale, 14); /* 15 clamped (RFC 7323 2.3) */
		CHECK_EQ(tp->rcv_scale, tp->request_r_scale);
	}
	if (tp->t_flags & TF_REQ_TSTMP) {
		CHECK(tp->t_flags & TF_RCVD_TSTMP);
		CHECK_EQ(tp->ts_recent, 9);
	}
	CHECK_EQ(tp->snd_wnd, 1000); /* a SYN's window is not scaled */
	/* The next window is: 10 << 14. */
	tt_in_data(r, TH_ACK, 1, 1, 10, NULL, 0);
	CHECK_EQ(tp->snd_wnd, 10u << 14);
	tt_fini(r);
	free(r);
}
#endif

TEST(tcp_input_syn_sent_rst_and_bad_ack)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tt_hdr s;
	struct tt_seg o;
	int err = 0;
	size_t el = sizeof(err);

	tt_init(r, 11);
	REQUIRE(tt_connect(r, &o));
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tt_sotp(r->so)->t_inpcb->inp_lport);
	/* An ACK that does not fit our SYN: RST with SEQ=SEG.ACK. */
	s.seq = r->piss;
	s.ack = r->iss + 5;
	s.flags = TH_SYN | TH_ACK;
	tt_inject(r, &s);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.flags, TH_RST);
	CHECK_EQ(o.raw_seq, r->iss + 5);
	CHECK_EQ(tt_sotp(r->so)->t_state, TCPS_SYN_SENT);
	/* A RST without ACK is ignored; with the right ACK it refuses. */
	s.flags = TH_RST;
	s.ack = 0;
	tt_inject(r, &s);
	CHECK_EQ(tt_sotp(r->so)->t_state, TCPS_SYN_SENT);
	s.flags = TH_RST | TH_ACK;
	s.ack = r->iss + 1;
	tt_inject(r, &s);
	CHECK(tt_none(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNREFUSED);
	tt_fini(r);
	free(r);
}

TEST(tcp_input_simultaneous_open)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_hdr s;
	struct tt_seg o;

	tt_init(r, 11);
	REQUIRE(tt_connect(r, &o));
	tp = tt_sotp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->piss;
	s.flags = TH_SYN;
	s.win = 65535;
	memcpy(s.opt, tt_mss1460, 4);
	s.optlen = 4;
	tt_inject(r, &s);
	CHECK_EQ(tp->t_state, TCPS_SYN_RECEIVED);
	/* Our SYN again, now with the ACK of theirs. */
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.flags, TH_SYN | TH_ACK);
	CHECK_EQ(o.raw_seq, r->iss);
	CHECK_EQ(o.raw_ack, r->piss + 1);
	/* Their SYN-ACK completes it. */
	s.flags = TH_SYN | TH_ACK;
	s.ack = r->iss + 1;
	s.optlen = 0;
	tt_inject(r, &s);
	CHECK_EQ(tp->t_state, TCPS_ESTABLISHED);
	CHECK_EQ(tp->snd_una, r->iss + 1);
	/* The SYN in it was old: an ACK (FreeBSD's duplicate rule). */
	TT_EXPECT(r, TH_ACK, 1, 1, -1);
	REQUIRE(ust_send(r->so, "0123456789", 10, 0) == 10);
	ipt_poll(&r->t);
	TT_EXPECT(r, TH_ACK | TH_PUSH, 1, 1, -1);
	tt_fini(r);
	free(r);
}

#if UST_STATS
/* RST in ESTABLISHED: exact (reset), in window (challenge ACK), outside
 * (dropped), and with insecure_rst any in-window RST resets. */
TEST(tcp_input_rst_established)
{
	struct tt *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tt_in_data(r, TH_RST, 100, 1, 32767, NULL, 0); /* in window */
	TT_EXPECT(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badrst_inwindow, 1);
	tt_in_data(r, TH_RST, 0, 1, 32767, NULL, 0);      /* left of the window */
	tt_in_data(r, TH_RST, 100000, 1, 32767, NULL, 0); /* right of it */
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badrst, 2);
	CHECK_EQ(tt_sotp(r->so)->t_state, TCPS_ESTABLISHED);
	tt_in_data(r, TH_RST, 1, 1, 32767, NULL, 0); /* exact */
	CHECK(tt_none(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	tt_fini(r);
	free(r);
}
#endif

TEST(tcp_input_rst_insecure)
{
	struct tt *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	tt_init(r, 11);
	V(r->t.st, tcp_insecure_rst) = 1;
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tt_in_data(r, TH_RST, 100, 1, 32767, NULL, 0);
	CHECK(tt_none(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	tt_fini(r);
	free(r);
}

#if UST_STATS
/* RFC 5961 4: SYN in ESTABLISHED -> challenge ACK; insecure_syn and in
 * the window -> RST and ECONNRESET. */
TEST(tcp_input_syn_established)
{
	struct tt *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tt_in_data(r, TH_SYN, 1, 0, 32767, NULL, 0);
	TT_EXPECT(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(tt_sotp(r->so)->t_state, TCPS_ESTABLISHED);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_synchallenge, 1);
	V(r->t.st, tcp_insecure_syn) = 1;
	tt_in_data(r, TH_SYN, 1, 0, 32767, NULL, 0);
	TT_EXPECT(r, TH_RST | TH_ACK, 1, 1, 0);
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	tt_fini(r);
	free(r);
}
#endif

#if UST_STATS
TEST(tcp_input_ack_of_unsent_and_old_ack)
{
	struct tt *r = calloc(1, sizeof(*r));

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tt_in_data(r, TH_ACK, 1, 500, 32767, NULL, 0);
	TT_EXPECT(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvacktoomuch, 1);
	/* RFC 5961 5.2: far below SND.UNA - MAX.SND.WND. */
	tt_in_data(r, TH_ACK, 1, (uint32_t)-100000, 32767, NULL, 0);
	TT_EXPECT(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_ackchallenge, 1);
	CHECK_EQ(tt_sotp(r->so)->t_state, TCPS_ESTABLISHED);
	tt_fini(r);
	free(r);
}
#endif

#if UST_STATS
/* Data: delayed ACK for one segment, at once for the second; duplicate,
 * partly duplicate and beyond-window data trimmed with an ACK. */
TEST(tcp_input_data_delack_and_trimming)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	uint8_t buf[8000];
	ptrdiff_t n;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	tt_in_data(r, TH_ACK, 1, 1, 32767, payload, 1000);
	CHECK(tt_none(r));
	CHECK(tcp_timer_active(tp, TT_DELACK));
	tt_in_data(r, TH_ACK | TH_PUSH, 1001, 1, 32767, payload + 1000, 1000);
	TT_EXPECT(r, TH_ACK, 1, 2001, -1);
	/* Alone, the delayed ACK goes after delacktime (40 ms). */
	tt_in_data(r, TH_ACK, 2001, 1, 32767, payload + 2000, 100);
	CHECK(tt_none(r));
	ipt_advance(&r->t, 39 * IPT_MS);
	CHECK(tt_none(r));
	ipt_advance(&r->t, 2 * IPT_MS);
	TT_EXPECT(r, TH_ACK, 1, 2101, -1);
	/* A complete duplicate: ACK at once. */
	tt_in_data(r, TH_ACK, 1001, 1, 32767, payload + 1000, 1000);
	TT_EXPECT(r, TH_ACK, 1, 2101, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvduppack, 1);
	/* Partly duplicate: the new part is taken. */
	tt_in_data(r, TH_ACK, 2001, 1, 32767, payload + 2000, 200);
	CHECK_EQ(tp->rcv_nxt, r->piss + 2201);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvpartduppack, 1);
	ipt_advance(&r->t, 50 * IPT_MS);
	TT_EXPECT(r, TH_ACK, 1, 2201, -1);
	/* Entirely beyond the window: ACK, nothing taken. */
	tt_in_data(r, TH_ACK, 2201 + 200000, 1, 32767, payload, 100);
	TT_EXPECT(r, TH_ACK, 1, 2201, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvpackafterwin, 1);
	n = ust_recv(r->so, buf, sizeof(buf), 0);
	CHECK_EQ(n, 2200);
	CHECK_MEM(buf, payload, 2200);
	tt_fini(r);
	free(r);
}
#endif

#if UST_STATS
/* Out of order: immediate duplicate ACKs, then one ACK for all. */
TEST(tcp_input_out_of_order)
{
	struct tt *r = calloc(1, sizeof(*r));
	uint8_t buf[4000];

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tt_in_data(r, TH_ACK, 1, 1, 32767, payload, 99);
	CHECK(tt_none(r));
	tt_in_data(r, TH_ACK, 200, 1, 32767, payload + 199, 100);
	TT_EXPECT(r, TH_ACK, 1, 100, -1);
	tt_in_data(r, TH_ACK, 400, 1, 32767, payload + 399, 100);
	TT_EXPECT(r, TH_ACK, 1, 100, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvoopack, 2);
	tt_in_data(r, TH_ACK, 100, 1, 32767, payload + 99, 250);
	TT_EXPECT(r, TH_ACK, 1, 350, -1);
	tt_in_data(r, TH_ACK, 1, 1, 32767, payload, 799);
	TT_EXPECT(r, TH_ACK, 1, 800, -1);
	CHECK_EQ(ust_recv(r->so, buf, sizeof(buf), 0), 799);
	CHECK_MEM(buf, payload, 799);
	tt_fini(r);
	free(r);
}
#endif

/* FIN in ESTABLISHED -> CLOSE_WAIT (ACK at once), close -> LAST_ACK,
 * the ACK of our FIN closes. */
TEST(tcp_input_fin_passive_close)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	uint8_t buf[10];

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	tt_in_data(r, TH_ACK | TH_FIN, 1, 1, 32767, NULL, 0);
	TT_EXPECT(r, TH_ACK, 1, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_CLOSE_WAIT);
	CHECK_EQ(ust_recv(r->so, buf, sizeof(buf), 0), 0);
	REQUIRE(ust_close(r->so) == 0);
	ipt_poll(&r->t);
	r->so = NULL;
	TT_EXPECT(r, TH_FIN | TH_ACK, 1, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_LAST_ACK);
	{
		struct tt_hdr s;

		memset(&s, 0, sizeof(s));
		s.dport = ntohs(tp->t_inpcb->inp_lport);
		s.seq = r->piss + 2;
		s.ack = r->iss + 2;
		s.flags = TH_ACK;
		s.win = 32767;
		tt_inject(r, &s);
		/* Gone: the same 4-tuple now gets a RST. */
		tt_inject(r, &s);
		REQUIRE(tt_next(r, &(struct tt_seg){ 0 }));
	}
	tt_fini(r);
	free(r);
}

/* shutdown: FIN_WAIT_1 -> (ACK) FIN_WAIT_2 -> (FIN) TIME_WAIT; there a
 * pure in-order ACK is ignored, others are ACKed, a RST ignored. */
TEST(tcp_input_fin_active_close_time_wait)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	REQUIRE(ust_shutdown(r->so, UST_SHUT_WR) == 0);
	ipt_poll(&r->t);
	TT_EXPECT(r, TH_FIN | TH_ACK, 1, 1, -1);
	CHECK_EQ(tp->t_state, TCPS_FIN_WAIT_1);
	tt_in_data(r, TH_ACK, 1, 2, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_FIN_WAIT_2);
	tt_in_data(r, TH_ACK | TH_FIN, 1, 2, 32767, NULL, 0);
	TT_EXPECT(r, TH_ACK, 2, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	tt_in_data(r, TH_ACK, 2, 2, 32767, NULL, 0); /* left edge: nothing */
	CHECK(tt_none(r));
	tt_in_data(r, TH_ACK, 1, 2, 32767, NULL, 0); /* old: ACK */
	TT_EXPECT(r, TH_ACK, 2, 2, -1);
	tt_in_data(r, TH_SYN, 2, 2, 32767, NULL, 0); /* SYN at the edge: dropped */
	CHECK(tt_none(r));
	tt_in_data(r, TH_RST, 2, 2, 32767, NULL, 0); /* RFC 1337 */
	CHECK(tt_none(r));
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	tt_fini(r);
	free(r);
}

/* Simultaneous close: FIN_WAIT_1 + FIN -> CLOSING -> (ACK) TIME_WAIT. */
TEST(tcp_input_fin_simultaneous_close)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 32767, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	REQUIRE(ust_shutdown(r->so, UST_SHUT_WR) == 0);
	ipt_poll(&r->t);
	TT_EXPECT(r, TH_FIN | TH_ACK, 1, 1, -1);
	tt_in_data(r, TH_ACK | TH_FIN, 1, 1, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_CLOSING);
	/* FreeBSD (rcv-syn-closing-*.pkt): "F. 1:1(0) ack 2". */
	TT_EXPECT(r, TH_FIN | TH_ACK, 1, 2, -1);
	tt_in_data(r, TH_ACK, 2, 2, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	tt_fini(r);
	free(r);
}

#if UST_STATS
/* Three duplicate ACKs: fast retransmit of SND.UNA; a partial ACK
 * retransmits the next hole; the full ACK ends recovery. */
TEST(tcp_input_fast_retransmit_newreno)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_seg o;
	int i, n = 0;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 65535, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	V(r->t.st, tcp_do_rfc3042) = 0;
	REQUIRE(ust_send(r->so, payload, 4 * 1460, 0) == 4 * 1460);
	ipt_poll(&r->t);
	while (tt_next(r, &o))
		n++;
	REQUIRE(n >= 4);
	for (i = 0; i < 2; i++)
		tt_in_data(r, TH_ACK, 1, 1, 65535, NULL, 0);
	CHECK(tt_none(r));
	CHECK_EQ(tp->t_dupacks, 2);
	tt_in_data(r, TH_ACK, 1, 1, 65535, NULL, 0);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.raw_seq - r->iss, 1);
	CHECK_EQ(o.len, 1460);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	CHECK_EQ(tp->snd_recover, r->iss + 1 + 4 * 1460);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_fastretransmits, 1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvdupack, 3);
	/* Partial ACK of the first segment: the second goes again. */
	tt_in_data(r, TH_ACK, 1, 1 + 1460, 65535, NULL, 0);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.raw_seq - r->iss, 1 + 1460);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_newreno_partial, 1);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	/* Only the hole: the segments after it may be in the peer's
	 * reassembly queue, and sending them again wastes the window. */
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_sndrexmitpack, 2);
	/* The full ACK. */
	tt_in_data(r, TH_ACK, 1, 1 + 4 * 1460, 65535, NULL, 0);
	CHECK(!IN_FASTRECOVERY(tp->t_flags));
	CHECK_EQ(tp->t_dupacks, 0);
	CHECK_EQ(tp->snd_una, r->iss + 1 + 4 * 1460);
	CHECK(!tcp_timer_active(tp, TT_REXMT));
	tt_fini(r);
	free(r);
}
#endif

/* A segment carrying timestamps as the peer sends them (RFC 7323 3). */
static void
tsend_ts(struct tt *r, uint32_t rseq, uint32_t rack, uint16_t flags, uint16_t win)
{
	uint8_t ts[12];

	tt_in_raw(r, flags, rseq, rack, win, ts, tl_opt_ts(ts, 9, 0), NULL, 0);
}

#if UST_STATS
#if UST_TCP_RFC1323
/* With timestamps agreed every segment carries 12 bytes of options, so
 * a full segment holds t_maxseg - 12 bytes (FreeBSD tcp_fixed_maxseg()).
 * The one-segment window of a fast retransmit (RFC 5681 3.2 step 2) and
 * of a NewReno partial ACK (RFC 6582 3.2 step 5) must be that size:
 * t_maxseg bytes would send a full segment and a 12-byte runt after it,
 * each retransmission thereafter shifted by 12 bytes against the holes
 * (measured: 1.5 MB windows resent 150 MB for 5 MB of data). */
TEST(tcp_input_fast_retransmit_timestamps_one_segment)
{
	struct tt *r = calloc(1, sizeof(*r));
	static const uint8_t synopt[] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0 };
	struct tcpcb *tp;
	struct tt_hdr s;
	struct tt_seg o;
	int i, n = 0;

	tt_init(r, 11);
	REQUIRE(tt_connect(r, &o));
	tp = tt_sotp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->piss;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = 65535;
	memcpy(s.opt, synopt, sizeof(synopt));
	s.optlen = sizeof(synopt);
	tt_inject(r, &s);
	REQUIRE(tt_next(r, &o) && o.flags == TH_ACK);
	REQUIRE(tp->t_state == TCPS_ESTABLISHED && (tp->t_flags & TF_RCVD_TSTMP));
	CHECK_EQ(tp->t_maxseg, 1460);
	V(r->t.st, tcp_do_rfc3042) = 0;
	REQUIRE(ust_send(r->so, payload, 4 * 1448, 0) == 4 * 1448);
	ipt_poll(&r->t);
	while (tt_next(r, &o)) {
		CHECK_EQ(o.len, 1448);
		n++;
	}
	REQUIRE(n == 4);
	for (i = 0; i < 3; i++)
		tsend_ts(r, 1, 1, TH_ACK, 65535);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.raw_seq - r->iss, 1);
	CHECK_EQ(o.len, 1448);
	CHECK(tt_none(r));
	/* Partial ACK of the first segment: exactly the second again. */
	tsend_ts(r, 1, 1 + 1448, TH_ACK, 65535);
	REQUIRE(tt_next(r, &o));
	CHECK_EQ(o.raw_seq - r->iss, 1 + 1448);
	CHECK_EQ(o.len, 1448);
	CHECK(tt_none(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_sndrexmitpack, 2);
	tsend_ts(r, 1, 1 + 4 * 1448, TH_ACK, 65535);
	CHECK(!IN_FASTRECOVERY(tp->t_flags));
	tt_fini(r);
	free(r);
}
#endif
#endif

/* RTT sampling on an ACK of timed data (Karn: only fresh data). */
TEST(tcp_input_rtt_sample_on_ack)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_seg o;

	tt_init(r, 11);
	REQUIRE(tt_establish(r, 65535, tt_mss1460, 4));
	tp = tt_sotp(r->so);
	REQUIRE(ust_send(r->so, payload, 100, 0) == 100);
	ipt_poll(&r->t);
	REQUIRE(tt_next(r, &o));
	if (tp->t_rtttime != 0) {
		uint32_t before = tp->t_rttupdated;

		ipt_advance(&r->t, 50 * IPT_MS);
		tt_in_data(r, TH_ACK, 1, 101, 65535, NULL, 0);
		CHECK_EQ(tp->t_rttupdated, before + 1);
		CHECK_EQ(tp->t_rtttime, 0);
	}
	CHECK_EQ(tp->snd_una, r->iss + 101);
	CHECK_EQ(SO_FROM_UST(r->so)->so_snd.sb_cc, 0);
	tt_fini(r);
	free(r);
}

/* ---------------------------------------------------------------------
 * RFC 7323: PAWS, RTT from timestamps, segments without timestamps.
 * ------------------------------------------------------------------- */

/* An active open whose SYN-ACK carries <mss 1460, TS tsval 0>: r->so is
 * ESTABLISHED with timestamps agreed (RFC 7323 3.2). */
static struct tcpcb *
topen_ts(struct tt *r, uint32_t tsval)
{
	uint8_t synopt[16] = { 2, 4, 0x05, 0xb4 };
	struct tcpcb *tp;
	struct tt_seg o;

	tl_opt_ts(synopt + 4, tsval, 0);
	if (!tt_connect(r, &o))
		return (NULL);
	tp = tt_sotp(r->so);
	tt_in_raw(r, TH_SYN | TH_ACK, 0, 1, 65535, synopt, sizeof(synopt), NULL, 0);
	if (!tt_next(r, &o) || o.flags != TH_ACK || tp->t_state != TCPS_ESTABLISHED ||
	    !(tp->t_flags & TF_RCVD_TSTMP))
		return (NULL);
	return (tp);
}

/* A segment with <NOP, NOP, TS tsval tsecr>, seq/ack relative. */
static void
tsend_tsv(struct tt *r, uint32_t rseq, uint32_t rack, uint16_t flags, uint32_t tsval,
    uint32_t tsecr, const uint8_t *data, unsigned dlen)
{
	uint8_t ts[12];

	tt_in_raw(r, flags, rseq, rack, 65535, ts, tl_opt_ts(ts, tsval, tsecr), data, dlen);
}

/* The TSval of a segment we sent (0 when it has none). */
static uint32_t
tout_tsval(const struct tt_seg *o)
{
	uint32_t val, ecr;

	return (tl_opt_find_ts(o->opt, (size_t)o->optlen, &val, &ecr) ? val : 0);
}

#if UST_STATS
#if UST_TCP_RFC1323
/* RFC 7323 5.3 R1: a TSval older than ts_recent marks an old duplicate:
 * dropped, acknowledged, counted.  A RST is exempt (5.3, 5.2). */
TEST(tcp_input_paws_drop_and_rst_exempt)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_seg o;

	tt_init(r, 11);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	CHECK_EQ(tp->ts_recent, 100);
	/* In order, a newer TSval: accepted, ts_recent follows (4.3). */
	tsend_tsv(r, 1, 1, TH_ACK | TH_PUSH, 200, 0, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->piss + 11);
	CHECK_EQ(tp->ts_recent, 200);
	while (tt_next(r, &o))
		;
	/* The next bytes with an older TSval: PAWS drops them with an ACK. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 150, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK_EQ(tp->rcv_nxt, r->piss + 11);
	CHECK_EQ(tp->ts_recent, 200);
	CHECK_EQ(SO_FROM_UST(r->so)->so_rcv.sb_cc, 10);
	TT_EXPECT(r, TH_ACK, 1, 11, -1);
	CHECK(tt_none(r));
	/* A newer TSval is accepted again. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 201, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK_EQ(tp->rcv_nxt, r->piss + 21);
	ipt_advance(&r->t, 500 * IPT_MS); /* the delayed ACK goes out */
	while (tt_next(r, &o))
		;
	REQUIRE(tp->last_ack_sent == r->piss + 21);
	/* A RST with an old TSval is not subject to PAWS. */
	tsend_tsv(r, 21, 0, TH_RST, 5, 0, NULL, 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK(tt_sotp(r->so) == NULL || tt_sotp(r->so)->t_state == TCPS_CLOSED);
	tt_fini(r);
	free(r);
}
#endif
#endif

#if UST_STATS
#if UST_TCP_RFC1323
/* RFC 7323 5.5: ts_recent idle for more than 24 days no longer guards. */
TEST(tcp_input_paws_idle_24_days)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	tt_init(r, 11);
	tp = topen_ts(r, 1000);
	REQUIRE(tp != NULL);
	tp->ts_recent_age -= 25ull * 24 * 3600 * 1000000000ull;
	tsend_tsv(r, 1, 1, TH_ACK | TH_PUSH, 10, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 0);
	CHECK_EQ(tp->rcv_nxt, r->piss + 11);
	CHECK_EQ(tp->ts_recent, 10);
	tt_fini(r);
	free(r);
}
#endif
#endif

#if UST_TCP_RFC1323
/* RFC 7323 4.2: the RTT sample is now - TSecr, not the timed segment. */
TEST(tcp_input_rtt_from_tsecr)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_seg o;
	uint32_t tsv, before;

	tt_init(r, 11);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	REQUIRE(ust_send(r->so, payload, 100, 0) == 100);
	ipt_poll(&r->t);
	REQUIRE(tt_next(r, &o));
	REQUIRE(o.len == 100);
	tsv = tout_tsval(&o);
	CHECK_EQ(tsv, tcp_ts_getticks(r->t.st) + tp->ts_offset);
	tp->t_srtt = 0; /* the next sample is the first */
	before = tp->t_rttupdated;
	ipt_advance(&r->t, 50 * IPT_MS);
	/* The echo of a segment sent 20 ms before ours: a 70 ms sample,
	 * where the t_rtttime timer would have measured 50 ms. */
	tsend_tsv(r, 1, 101, TH_ACK, 101, tsv - 20, NULL, 0);
	CHECK_EQ(tp->snd_una, r->iss + 101);
	CHECK_EQ(tp->t_rttupdated, before + 1);
	CHECK_EQ(tp->t_srtt, 70000);
	CHECK_EQ(tp->t_rttvar, 35000);
	CHECK_EQ(tp->t_rtttime, 0);
	/* A second sample, after a retransmission: still taken (the echo
	 * identifies the segment). */
	REQUIRE(ust_send(r->so, payload, 100, 0) == 100);
	ipt_poll(&r->t);
	REQUIRE(tt_next(r, &o));
	tsv = tout_tsval(&o);
	tp->t_rtttime = 0; /* as after a retransmission (Karn) */
	ipt_advance(&r->t, 30 * IPT_MS);
	tsend_tsv(r, 1, 201, TH_ACK, 102, tsv, NULL, 0);
	CHECK_EQ(tp->t_rttupdated, before + 2);
	/* RFC 6298 2.3: RTTVAR = 3/4 35000 + 1/4 |70000 - 30000|. */
	CHECK_EQ(tp->t_rttvar, (3 * 35000 + 40000) / 4);
	CHECK_EQ(tp->t_srtt, (7 * 70000 + 30000) / 8);
	tt_fini(r);
	free(r);
}
#endif

#if UST_TCP_RFC1323
/* RFC 7323 3.2: a segment without timestamps on a connection that
 * agreed them is dropped only when tolerate_missing_ts is 0. */
TEST(tcp_input_missing_ts_knob)
{
	struct tt *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tt_seg o;

	tt_init(r, 11);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	CHECK_EQ(V(r->t.st, tcp_tolerate_missing_ts), 1);
	tt_in_data(r, TH_ACK | TH_PUSH, 1, 1, 65535, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->piss + 11);
	while (tt_next(r, &o))
		;
	V(r->t.st, tcp_tolerate_missing_ts) = 0;
	tt_in_data(r, TH_ACK | TH_PUSH, 11, 1, 65535, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->piss + 11);
	CHECK_EQ(SO_FROM_UST(r->so)->so_rcv.sb_cc, 10);
	CHECK(tt_none(r));
	/* With timestamps the same bytes are taken. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 101, 0, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->piss + 21);
	while (tt_next(r, &o))
		;
	/* A RST without timestamps is still heard. */
	tt_in_data(r, TH_RST, 21, 0, 0, NULL, 0);
	CHECK(tt_sotp(r->so) == NULL || tt_sotp(r->so)->t_state == TCPS_CLOSED);
	tt_fini(r);
	free(r);
}
#endif
