/*
 * test_tcp_fsm.c - the TCP state machine, one case per transition,
 * written as packet scripts against one stack through the loop driver:
 * inject a crafted segment (`tt_in`, packetdrill's `<`), run the stack,
 * assert the segment it sends (`TT_OUT`, `>`: flags, relative seq and ack,
 * window, options where they matter) and the state through TCP_INFO.
 *
 * The expectations are FreeBSD's, from its TCP conformance suite
 * (../shared/conformance/tcp-testsuite); each case names the script it
 * follows.  The fake peer speaks like those scripts: SYNs with
 * <mss 1460,sackOK,eol,eol>, window 32767, no window scale or timestamps,
 * so our window is 65535 unscaled.
 */
#include "tcp_script.h"

#define SEC (1000ull * IPT_MS)

/* Runs the clock deadline by deadline until the stack sends a TCP
 * segment or `max` passes; returns the time it took (UINT64_MAX: none). */
static uint64_t
tt_wait_seg(struct tt *tt, uint64_t max)
{
	uint64_t t0 = ust_vclock_now(tt->t.vc), next;

	for (;;) {
		ipt_poll(&tt->t);
		if (tt_pending(tt) > 0)
			return (ust_vclock_now(tt->t.vc) - t0);
		next = ust_stack_next_deadline(tt->t.st);
		if (next == UINT64_MAX || next > t0 + max) {
			ust_vclock_set(tt->t.vc, t0 + max);
			ipt_poll(&tt->t);
			return (tt_pending(tt) > 0 ? max : UINT64_MAX);
		}
		if (next <= ust_vclock_now(tt->t.vc))
			next = ust_vclock_now(tt->t.vc) + 1;
		ust_vclock_set(tt->t.vc, next);
	}
}

/* --- opening ------------------------------------------------------- */

/* snippets/listen, syn-rcvd-via-listen, rcv-syn-listen/rcv-syn-without-
 * data-listen: LISTEN -> SYN_RECEIVED -> ESTABLISHED. */
TEST(passive_open)
{
	struct tt tt;

	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	/* The connection carries data both ways. */
	CHECK_EQ(ust_send(tt.so, "hello", 5, 0), 5);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 5, 1, 65535);
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 6, 32767, "world!", 6);
	{
		char buf[16];

		CHECK_EQ(ust_recv(tt.so, buf, sizeof(buf), 0), 6);
		CHECK_MEM(buf, "world!", 6);
	}
	tt_fini(&tt);
}

/* rcv-ack-listen/rcv-ack-without-data-listen: an ACK that reaches a
 * listener is answered `> R 34:34(0) win 0` (seq = SEG.ACK). */
TEST(listen_ack_gets_rst)
{
	struct tt tt;

	tt_init(&tt, 2);
	REQUIRE(tt_listen(&tt));
	tt.iss = 0;
	tt_in(&tt, TH_ACK, 17, 34, 32767);
	TT_OUT(&tt, TH_RST, 34, 0, 0, 0);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.lso), UST_TCPS_LISTEN);
	tt_fini(&tt);
}

/* snippets/syn-sent, established: CLOSED -> SYN_SENT -> ESTABLISHED. */
TEST(active_open)
{
	struct tt tt;
	struct ust_tcp_info ti;

	tt_init(&tt, 3);
	REQUIRE(tt_established_active(&tt));
	REQUIRE_EQ(tt_info(tt.so, &ti), 0);
	CHECK_EQ(ti.tcpi_snd_mss, 1460);
	/* The peer sent no window scale: neither side scales. */
	CHECK(!(ti.tcpi_options & UST_TCPI_OPT_WSCALE));
	CHECK(!(ti.tcpi_options & UST_TCPI_OPT_TIMESTAMPS));
	CHECK_EQ(ti.tcpi_snd_wnd, 32767);
	CHECK(ti.tcpi_rto > 0);
	tt_fini(&tt);
}

/* rcv-rst-syn-sent/rcv-rst-without-data-syn-sent: a RST without ACK in
 * SYN_SENT is ignored; the SYN goes again after the initial RTO (1 s). */
TEST(syn_sent_rst_without_ack_ignored)
{
	struct tt tt;
	uint64_t dt;

	tt_init(&tt, 4);
	REQUIRE(tt_connect_syn(&tt));
	ipt_advance(&tt.t, 100 * IPT_MS);
	tt_in(&tt, TH_RST, 0, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_SYN_SENT);
	CHECK_EQ(tt_soerror(tt.so), 0);
	dt = tt_wait_seg(&tt, 5 * SEC);
	CHECK(dt >= 800 * IPT_MS && dt <= 1000 * IPT_MS);
	TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, 65535);
	tt_in(&tt, TH_SYN | TH_ACK, 0, 1, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 1, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	tt_fini(&tt);
}

/* rcv-rst-ack-syn-sent/rcv-rst-ack-without-data-syn-sent-ack-left-edge:
 * `< R. 1:1(0) ack 1` in SYN_SENT -> ECONNREFUSED, CLOSED. */
TEST(syn_sent_rst_ack_refused)
{
	struct tt tt;
	char b[4];

	tt_init(&tt, 5);
	REQUIRE(tt_connect_syn(&tt));
	tt_in(&tt, TH_RST | TH_ACK, 1, 1, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNREFUSED);
	TT_GONE(tt.so);
	CHECK(ust_recv(tt.so, b, sizeof(b), 0) <= 0);
	tt_fini(&tt);
}

/* rcv-rst-ack-syn-sent/...-ack-outside-left: `< R. 0:0(0) ack 0` (an
 * unacceptable ACK) is ignored. */
TEST(syn_sent_rst_bad_ack_ignored)
{
	struct tt tt;

	tt_init(&tt, 6);
	REQUIRE(tt_connect_syn(&tt));
	tt_in(&tt, TH_RST | TH_ACK, 0, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_SYN_SENT);
	tt_fini(&tt);
}

/* snippets/syn-rcvd-via-syn-sent: simultaneous open.  SYN_SENT + `< S
 * 0:0(0)` -> `> S. 0:0(0) ack 1 win 65535 <mss 1460>` (the same ISN,
 * options as the peer offered) -> SYN_RECEIVED; `< . 1:1(0) ack 1` ->
 * ESTABLISHED, and data flows. */
TEST(simultaneous_open)
{
	struct tt tt;
	struct tt_seg sg;

	tt_init(&tt, 7);
	REQUIRE(tt_connect_syn(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK(sg.to.to_flags & TOF_MSS);
	CHECK_EQ(sg.to.to_mss, 1460);
	CHECK(!(sg.to.to_flags & (TOF_SCALE | TOF_TS)));
	CHECK_EQ(tt_soerror(tt.so), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_SYN_RECEIVED);
	tt_in(&tt, TH_ACK, 1, 1, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	CHECK_EQ(ust_send(tt.so, "0123456789", 10, 0), 10);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 10, 1, TT_ANY);
	tt_fini(&tt);
}

/* --- closing ------------------------------------------------------- */

/* snippets/fin-wait-1, fin-wait-2, time-wait-via-fin-wait-2:
 * ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED after
 * 2*MSL on the virtual clock. */
TEST(active_close_time_wait)
{
	struct tt tt;

	tt_init(&tt, 8);
	tt_sysctl(&tt, "net.inet.tcp.msl", 5000);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_1);
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	CHECK_EQ(tt_soerror(tt.so), 0);
	/* 2 * MSL = 10 s: still there just before, gone after. */
	ipt_advance(&tt.t, 9900 * IPT_MS);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	TT_NONE(&tt);
	ipt_advance(&tt.t, 300 * IPT_MS);
	TT_GONE(tt.so);
	TT_NONE(&tt);
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	/* The 4-tuple is free: a stray ACK meets no connection. */
	tt_in(&tt, TH_ACK, 2, 2, 32767);
	TT_OUT(&tt, TH_RST, 2, 0, 0, 0);
	tt_fini(&tt);
}

/* snippets/time-wait-via-fin-wait-1: `< F. 1:1(0) ack 2` in FIN_WAIT_1
 * goes straight to TIME_WAIT. */
TEST(fin_wait_1_fin_ack_to_time_wait)
{
	struct tt tt;

	tt_init(&tt, 9);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	tt_fini(&tt);
}

/* snippets/closing: simultaneous close.  FIN_WAIT_1 + `< F. 1:1(0) ack 1`
 * -> `> F. 1:1(0) ack 2` (FreeBSD acks with its FIN again) -> CLOSING;
 * `< . 2:2(0) ack 2` -> TIME_WAIT. */
TEST(simultaneous_close)
{
	struct tt tt;

	tt_init(&tt, 10);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(tt_soerror(tt.so), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_CLOSING);
	tt_in(&tt, TH_ACK, 2, 2, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	tt_fini(&tt);
}

/* snippets/close-wait, last-ack, closed-via-last-ack: ESTABLISHED ->
 * CLOSE_WAIT -> LAST_ACK -> CLOSED. */
TEST(passive_close)
{
	struct tt tt;
	char b[8];

	tt_init(&tt, 11);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_FIN | TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_CLOSE_WAIT);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 0);
	/* Still able to send in CLOSE_WAIT. */
	CHECK_EQ(ust_send(tt.so, "abc", 3, 0), 3);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 3, 2, 65535);
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 4, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_LAST_ACK);
	tt_in(&tt, TH_ACK, 2, 5, 32767);
	TT_NONE(&tt);
	TT_GONE(tt.so);
	CHECK_EQ(tt_soerror(tt.so), 0);
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	tt_fini(&tt);
}

/* Half-close: after shutdown(SHUT_WR) the connection still receives,
 * acknowledges and delivers data in FIN_WAIT_2. */
TEST(half_close_still_receives)
{
	struct tt tt;
	char buf[200], data[100];

	tt_init(&tt, 12);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	CHECK_EQ(ust_send(tt.so, "x", 1, 0), -UST_EPIPE);
	memset(data, 'd', sizeof(data));
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 2, 32767, data, sizeof(data));
	tt_in_data(&tt, TH_ACK | TH_PUSH, 101, 2, 32767, data, sizeof(data));
	/* Two segments: an ACK now (every second segment) or after the
	 * delayed-ACK timer. */
	ipt_advance(&tt.t, 250 * IPT_MS);
	TT_OUT(&tt, TH_ACK, 2, 0, 201, TT_ANY);
	TT_NONE(&tt);
	CHECK_EQ(ust_recv(tt.so, buf, sizeof(buf), 0), 200);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	tt_in(&tt, TH_FIN | TH_ACK, 201, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 202, TT_ANY);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	CHECK_EQ(ust_recv(tt.so, buf, sizeof(buf), 0), 0);
	tt_fini(&tt);
}

/* SO_LINGER {1, 0}: close() aborts with `> R. 1:1(0) ack 1`; the 4-tuple
 * is free at once. */
TEST(linger_zero_close_sends_rst)
{
	struct tt tt;
	struct ust_linger l = { 1, 0 };

	tt_init(&tt, 13);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_setsockopt(tt.so, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
	CHECK_EQ(ust_close(tt.so), 0);
	tt.so = NULL;
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_RST | TH_ACK, 1, 0, 1, TT_ANY);
	TT_NONE(&tt);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_RST, 1, 0, 0, 0);
	tt_fini(&tt);
}

#if UST_STATS
/* close() with unread data.  FreeBSD (tcp_usrreq.c tcp_disconnect)
 * flushes the receive buffer and closes with a FIN; new data arriving
 * after the close is answered with a RST (tcps_rcvafterclose). */
TEST(close_with_unread_data)
{
	struct tt tt;
	struct ust_tcpstat ts;

	tt_init(&tt, 14);
	REQUIRE(tt_established_active(&tt));
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, "0123456789", 10);
	ipt_advance(&tt.t, 250 * IPT_MS);
	TT_OUT(&tt, TH_ACK, 1, 0, 11, TT_ANY);
	CHECK_EQ(ust_close(tt.so), 0);
	tt.so = NULL;
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 11, TT_ANY);
	tt_in(&tt, TH_ACK, 11, 2, 32767);
	TT_NONE(&tt);
	tt_in_data(&tt, TH_ACK | TH_PUSH, 11, 2, 32767, "more", 4);
	TT_OUT(&tt, TH_RST, 2, 0, TT_ANY, TT_ANY);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_rcvafterclose, 1);
	tt_fini(&tt);
}
#endif

/* --- RST in every state ----------------------------------------------- */

/* rcv-rst-listen: a RST to a listener is dropped silently. */
TEST(rst_listen_ignored)
{
	struct tt tt;

	tt_init(&tt, 20);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_RST, 0, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.lso), UST_TCPS_LISTEN);
	tt_fini(&tt);
}

/* rcv-rst-closed: a RST for no connection is never answered. */
TEST(rst_closed_ignored)
{
	struct tt tt;

	tt_init(&tt, 21);
	tt_in(&tt, TH_RST, 0, 0, 32767);
	tt_in(&tt, TH_RST | TH_ACK, 0, 5, 32767);
	TT_NONE(&tt);
	tt_fini(&tt);
}

/* rcv-rst-syn-rcvd/...-via-listen-left-edge: `< R 1:1(0)` removes the
 * embryonic connection; the handshake's ACK then meets nothing. */
TEST(rst_syn_received_via_listen)
{
	struct tt tt;
	struct ust_socket *so = NULL;

	tt_init(&tt, 22);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	ipt_advance(&tt.t, 100 * IPT_MS);
	tt_in(&tt, TH_RST, 1, 0, 32767);
	TT_NONE(&tt);
	/* No SYN-ACK retransmission for the reset entry. */
	ipt_advance(&tt.t, 5 * SEC);
	TT_NONE(&tt);
	CHECK_EQ(ust_accept(tt.lso, &so, NULL, NULL), -UST_EAGAIN);
	tt_fini(&tt);
}

/* rcv-rst-syn-rcvd/...-via-listen-right-edge-secure: an in-window RST
 * that is not exact gets a challenge ACK `> . 1:1(0) ack 1`, and the
 * handshake completes. */
TEST(rst_syn_received_in_window_challenge)
{
	struct tt tt;
	struct ust_socket *so = NULL;

	tt_init(&tt, 23);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	tt_in(&tt, TH_RST, 65535, 0, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	CHECK_EQ(ust_accept(tt.lso, &so, NULL, NULL), 0);
	tt.so = so;
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	tt_fini(&tt);
}

/* rcv-rst-syn-rcvd/...-via-syn-sent-left-edge: after a simultaneous
 * open, `< R 1:1(0)` -> ECONNREFUSED. */
TEST(rst_syn_received_via_syn_sent)
{
	struct tt tt;

	tt_init(&tt, 24);
	REQUIRE(tt_connect_syn(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	tt_in(&tt, TH_RST, 1, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNREFUSED);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-established/rcv-rst-established-left-edge: `< R 1:1(0)` ->
 * ECONNRESET. */
TEST(rst_established_exact)
{
	struct tt tt;
	char b[4];

	tt_init(&tt, 25);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_RST, 1, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	CHECK(ust_recv(tt.so, b, sizeof(b), 0) <= 0);
	tt_fini(&tt);
}

#if UST_STATS
/* rcv-rst-established/...-right-edge (secure, insecure_rst=0): an
 * in-window RST that is not at RCV.NXT gets a challenge ACK (RFC 5961
 * 3.2) and the connection stays. */
TEST(rst_established_in_window_challenge_ack)
{
	struct tt tt;
	struct ust_tcpstat ts;

	tt_init(&tt, 26);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_RST, 65535, 0, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 1, 65535);
	CHECK_EQ(tt_soerror(tt.so), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_challenge_ack, 1);
	tt_fini(&tt);
}
#endif

/* rcv-rst-established/...-outside-right-secure: a RST beyond the window
 * is dropped without answer. */
TEST(rst_established_outside_window_ignored)
{
	struct tt tt;

	tt_init(&tt, 27);
	REQUIRE(tt_established_active(&tt));
	/* The window is the buffer, 65700 after the MSS round-up, even
	 * beyond the 65535 the unscaled header shows (FreeBSD). */
	tt_in(&tt, TH_RST, 65701, 0, 32767);
	tt_in(&tt, TH_RST, (uint32_t)-100, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	CHECK_EQ(tt_soerror(tt.so), 0);
	tt_fini(&tt);
}

/* rcv-rst-established/...-right-edge-insecure: with insecure_rst=1 any
 * in-window RST resets. */
TEST(rst_established_insecure)
{
	struct tt tt;

	tt_init(&tt, 28);
	tt_sysctl(&tt, "net.inet.tcp.insecure_rst", 1);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_RST, 65535, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	tt_fini(&tt);
}

/* rcv-rst-fin-wait-1/...-left-edge-secure: `< R 1:1(0)` -> ECONNRESET. */
TEST(rst_fin_wait_1)
{
	struct tt tt;

	tt_init(&tt, 29);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_RST, 1, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-fin-wait-2/...-right-edge-secure: an in-window RST gets the
 * challenge ACK `> . 2:2(0) ack 1`; the exact one resets. */
TEST(rst_fin_wait_2)
{
	struct tt tt;

	tt_init(&tt, 30);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	tt_in(&tt, TH_RST, 65535, 0, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 1, 65535);
	CHECK_EQ(tt_soerror(tt.so), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	tt_in(&tt, TH_RST, 1, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-close-wait/...-left-edge-secure: `< R 2:2(0)` -> ECONNRESET. */
TEST(rst_close_wait)
{
	struct tt tt;

	tt_init(&tt, 31);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_FIN | TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_CLOSE_WAIT);
	tt_in(&tt, TH_RST, 2, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-closing/...-left-edge-secure: `< R 2:2(0)` -> ECONNRESET. */
TEST(rst_closing)
{
	struct tt tt;

	tt_init(&tt, 32);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_CLOSING);
	tt_in(&tt, TH_RST, 2, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-last-ack/...-left-edge-secure: `< R 2:2(0)` -> ECONNRESET. */
TEST(rst_last_ack)
{
	struct tt tt;

	tt_init(&tt, 33);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_FIN | TH_ACK, 1, 1, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_LAST_ACK);
	tt_in(&tt, TH_RST, 2, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNRESET);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

/* rcv-rst-time-wait/...-left-edge-insecure and -right-edge-secure:
 * FreeBSD ignores RSTs in TIME_WAIT (RFC 1337 TIME-WAIT assassination). */
TEST(rst_time_wait_ignored)
{
	struct tt tt;

	tt_init(&tt, 34);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	tt_in(&tt, TH_RST, 2, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	tt_in(&tt, TH_RST, 65701, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	CHECK_EQ(tt_soerror(tt.so), 0);
	tt_fini(&tt);
}

/* --- SYN in a synchronized state, TIME_WAIT reuse ---------------------- */

/* rcv-syn-established/...-right-edge-secure and -outside-left-secure: a
 * SYN in ESTABLISHED gets the challenge ACK `> . 1:1(0) ack 1 win 65535`
 * (RFC 5961 4.2) and changes nothing. */
TEST(syn_established_challenge_ack)
{
	struct tt tt;

	tt_init(&tt, 40);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_SYN, 65700, 0, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 1, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	CHECK_EQ(tt_soerror(tt.so), 0);
	ipt_advance(&tt.t, 1100 * IPT_MS); /* past the ack-war window */
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	TT_OUT(&tt, TH_ACK, 1, 0, 1, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	CHECK_EQ(tt_soerror(tt.so), 0);
	tt_fini(&tt);
}

#if UST_STATS
/* RFC 5961 7: challenge ACKs are limited to ack_war_cnt (5) per
 * ack_war_timewindow (1 s). */
TEST(challenge_ack_rate_limited)
{
	struct tt tt;
	struct ust_tcpstat ts;
	int i;

	tt_init(&tt, 41);
	REQUIRE(tt_established_active(&tt));
	for (i = 0; i < 8; i++)
		tt_in(&tt, TH_SYN, 1000, 0, 32767);
	CHECK_EQ(tt_pending(&tt), 5);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_challenge_ack, 5);
	CHECK_EQ(ts.tcps_challenge_ack_limited, 3);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* rcv-syn-time-wait/...-right-edge-secure (#ifdef FreeBSD): in TIME_WAIT
 * a SYN with a higher sequence number starts a new connection: `> S.
 * ...(0) ack 65537 win 65535 <mss 1460>`. */
TEST(time_wait_reuse_by_higher_isn)
{
	struct tt tt;
	struct ust_socket *so = NULL;
	struct ust_tcpstat ts;
	struct tt_seg sg;

	tt_init(&tt, 42);
	REQUIRE(tt_established_passive(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	ust_close(tt.so);
	tt.so = NULL;
	ipt_advance(&tt.t, 100 * IPT_MS);
	TT_NONE(&tt);
	tt_in(&tt, TH_SYN, 65536, 0, 32767);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 65537, 65535, &sg));
	CHECK(sg.to.to_flags & TOF_MSS);
	tt_in(&tt, TH_ACK, 65537, 1, 32767);
	CHECK_EQ(ust_accept(tt.lso, &so, NULL, NULL), 0);
	tt.so = so;
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_tw_recycles, 1);
	tt_fini(&tt);
}
#endif

/* rcv-syn-time-wait/...-outside-left-secure: a SYN at or below RCV.NXT
 * does not reopen; FreeBSD drops it (no ACK: it carries none) and stays
 * in TIME_WAIT, answering the next ACK. */
TEST(time_wait_old_syn_dropped)
{
	struct tt tt;

	tt_init(&tt, 43);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_TIME_WAIT);
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, TT_ANY);
	tt_fini(&tt);
}

/* --- timers --------------------------------------------------------------- */

#if UST_STATS
/* Zero window: data waits; persist probes of one byte come at intervals
 * within [persmin, persmax] with backoff and never give up while the
 * peer answers (more probes than net.inet.tcp.retries); when the window
 * opens the data goes. */
TEST(zero_window_persist)
{
	struct tt tt;
	struct tt_seg sg;
	struct ust_tcpstat ts;
	char data[100];
	uint64_t dt, prev = 0;
	int i;

	tt_init(&tt, 50);
	REQUIRE(tt_established_active(&tt));
	tt_in(&tt, TH_ACK, 1, 1, 0);
	TT_NONE(&tt);
	memset(data, 'z', sizeof(data));
	CHECK_EQ(ust_send(tt.so, data, sizeof(data), 0), (long long)sizeof(data));
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	for (i = 0; i < 16; i++) {
		dt = tt_wait_seg(&tt, 120 * SEC);
		REQUIRE(dt != UINT64_MAX);
		CHECK(dt >= 5 * SEC - 10 * IPT_MS);  /* persmin */
		CHECK(dt <= 60 * SEC + 10 * IPT_MS); /* persmax */
		CHECK(dt + 10 * IPT_MS >= prev);     /* backoff never shrinks */
		prev = dt;
		if (!TT_OUT_SEG(&tt, TH_ACK, 1, 1, 1, TT_ANY, &sg))
			break;
		CHECK_EQ(sg.data[0], 'z');
		tt_in(&tt, TH_ACK, 1, 1, 0);
		CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	}
	CHECK(prev >= 30 * SEC); /* it did back off */
	CHECK_EQ(tt_soerror(tt.so), 0);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK(ts.tcps_sndprobe >= 16);
	/* The window opens: the 100 bytes go. */
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK, 1, 100, 1, TT_ANY);
	tt_in(&tt, TH_ACK, 1, 101, 32767);
	ipt_advance(&tt.t, 10 * SEC);
	TT_NONE(&tt);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* Keepalive: after TCP_KEEPIDLE of silence a probe `> . 0:0(0) ack 1`
 * (SEG.SEQ = SND.UNA - 1); an answer keeps the connection; TCP_KEEPCNT
 * unanswered probes TCP_KEEPINTVL apart end it with a RST and
 * ETIMEDOUT. */
TEST(keepalive_probes_and_expiry)
{
	struct tt tt;
	struct ust_tcpstat ts;
	uint64_t dt;
	int i;

	tt_init(&tt, 51);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 1), 0);
	CHECK_EQ(tl_setint(tt.so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 10), 0);
	CHECK_EQ(tl_setint(tt.so, UST_IPPROTO_TCP, UST_TCP_KEEPINTVL, 2), 0);
	CHECK_EQ(tl_setint(tt.so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT, 3), 0);
	dt = tt_wait_seg(&tt, 60 * SEC);
	CHECK(dt >= 9 * SEC && dt <= 10 * SEC + 10 * IPT_MS);
	TT_OUT(&tt, TH_ACK, 0, 0, 1, TT_ANY);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	TT_NONE(&tt);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
	/* Idle again: the next probe after KEEPIDLE, then every KEEPINTVL. */
	dt = tt_wait_seg(&tt, 60 * SEC);
	CHECK(dt >= 9 * SEC && dt <= 10 * SEC + 10 * IPT_MS);
	TT_OUT(&tt, TH_ACK, 0, 0, 1, TT_ANY);
	for (i = 1; i < 3; i++) {
		dt = tt_wait_seg(&tt, 60 * SEC);
		CHECK(dt >= 2 * SEC - 10 * IPT_MS && dt <= 2 * SEC + 10 * IPT_MS);
		TT_OUT(&tt, TH_ACK, 0, 0, 1, TT_ANY);
	}
	dt = tt_wait_seg(&tt, 60 * SEC);
	CHECK(dt <= 2 * SEC + 10 * IPT_MS);
	TT_OUT(&tt, TH_RST | TH_ACK, 1, 0, 1, TT_ANY);
	CHECK_EQ(tt_soerror(tt.so), UST_ETIMEDOUT);
	TT_GONE(tt.so);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_keepprobe, 4);
	CHECK_EQ(ts.tcps_keepdrops, 1);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* Retransmission timeout: with net.inet.tcp.retries = 4 the segment is
 * sent again 4 times with exponential backoff (RFC 6298 5.5), then the
 * connection is dropped with a RST and ETIMEDOUT. */
TEST(rexmt_timeout_etimedout)
{
	struct tt tt;
	struct ust_tcpstat ts;
	uint64_t dt[8];
	char b[4];
	int i;

	tt_init(&tt, 52);
	tt_sysctl(&tt, "net.inet.tcp.retries", 4);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_send(tt.so, "0123456789", 10, 0), 10);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 10, 1, 65535);
	for (i = 0; i < 4; i++) {
		dt[i] = tt_wait_seg(&tt, 600 * SEC);
		REQUIRE(dt[i] != UINT64_MAX);
		if (!TT_OUT(&tt, TH_ACK, 1, 10, 1, 65535))
			break;
		if (i > 0) /* doubling (rexmit_max is far) */
			CHECK(dt[i] >= 2 * dt[i - 1] - IPT_MS && dt[i] <= 2 * dt[i - 1] + IPT_MS);
	}
	CHECK(dt[0] >= 200 * IPT_MS); /* at least rexmit_min + slop */
	dt[4] = tt_wait_seg(&tt, 600 * SEC);
	REQUIRE(dt[4] != UINT64_MAX);
	TT_OUT(&tt, TH_RST | TH_ACK, TT_ANY, 0, 1, TT_ANY);
	TT_NONE(&tt);
	CHECK_EQ(tt_soerror(tt.so), UST_ETIMEDOUT);
	TT_GONE(tt.so);
	CHECK(ust_send(tt.so, b, 1, 0) < 0);
	ust_stats_tcp(tt.t.st, &ts);
	CHECK_EQ(ts.tcps_timeoutdrop, 1);
	CHECK_EQ(ts.tcps_sndrexmitpack, 4);
	tt_fini(&tt);
}
#endif

/* The SYN's own schedule: FREEBSD_DEFAULTS (rexmit_initial 1 s, then
 * doubling), ETIMEDOUT after net.inet.tcp.retries. */
TEST(syn_rexmt_timeout_etimedout)
{
	struct tt tt;
	uint64_t dt, prev = 0;
	int i;

	tt_init(&tt, 53);
	tt_sysctl(&tt, "net.inet.tcp.retries", 3);
	REQUIRE(tt_connect_syn(&tt));
	for (i = 0; i < 3; i++) {
		dt = tt_wait_seg(&tt, 600 * SEC);
		REQUIRE(dt != UINT64_MAX);
		if (!TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, TT_ANY))
			break;
		if (i == 0)
			CHECK(dt >= 1 * SEC - IPT_MS && dt <= 1 * SEC + IPT_MS);
		else
			CHECK(dt >= 2 * prev - 300 * IPT_MS && dt <= 2 * prev + 300 * IPT_MS);
		prev = dt;
	}
	ipt_advance(&tt.t, 300 * SEC);
	CHECK_EQ(tt_soerror(tt.so), UST_ETIMEDOUT);
	TT_GONE(tt.so);
	tt_fini(&tt);
}
