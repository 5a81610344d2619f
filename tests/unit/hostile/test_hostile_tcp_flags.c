/*
 * test_hostile_tcp_flags.c - hostile flag combinations (RFC 9293 3.10.7,
 * RFC 5961): SYN+FIN, SYN+RST, no flags at all, to the listener, to a
 * closed port and into an established connection; data on a SYN;
 * RST storms.  Every case ends with hs_alive().
 */
#include "hostile.h"

/* The whole file needs the counters (ustack_opts.h). */
#if UST_STATS

/* SYN+FIN to the listener with drop_synfin (FreeBSD's knob): dropped,
 * tcps_badsyn, nothing sent, no syncache entry. */
TEST(hostile_synfin_listener_dropped)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_sysctl(&h.tt, "net.inet.tcp.drop_synfin", 1);
	h.tt.pport = 41000;
	tt_in(&h.tt, TH_SYN | TH_FIN, 0, 0, 32767);
	h.tt.pport = TT_PEER_PORT;
	CHECK_EQ(hs_txnew(&h), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_badsyn), 1);
	CHECK_EQ(HS_D(&h, tcp, tcps_sc_added), 0);
	hs_alive(&h);
	hs_fini(&h);
}

/* SYN+FIN with the default knob: the syncache answers the SYN part only
 * (the SYN-ACK acknowledges the SYN, not a FIN). */
TEST(hostile_synfin_listener_default_synack_only)
{
	struct hs h;

	uint32_t iss;

	REQUIRE(hs_init(&h, ust_test_seed));
	iss = h.tt.iss;
	h.tt.pport = 41001;
	tt_in(&h.tt, TH_SYN | TH_FIN, 0, 0, 32767);
	TT_OUT(&h.tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY);
	TT_NONE(&h.tt);
	h.tt.pport = TT_PEER_PORT;
	h.tt.iss = iss;
	CHECK_EQ(HS_D(&h, tcp, tcps_sc_added), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* SYN+RST to the listener: RFC 9293 3.10.7.2, an RST to a listener is
 * ignored; no SYN-ACK, no syncache entry. */
TEST(hostile_synrst_listener_ignored)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	h.tt.pport = 41002;
	tt_in(&h.tt, TH_SYN | TH_RST, 0, 0, 32767);
	h.tt.pport = TT_PEER_PORT;
	CHECK_EQ(hs_txnew(&h), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_sc_added), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvtotal), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* No flags to the listener: neither SYN nor ACK nor RST, dropped
 * silently (RFC 9293 3.10.7.2 "other text or control"). */
TEST(hostile_noflags_listener_dropped)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	h.tt.pport = 41003;
	tt_in_data(&h.tt, 0, 0, 0, 32767, "abc", 3);
	h.tt.pport = TT_PEER_PORT;
	CHECK_EQ(hs_txnew(&h), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_sc_added), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvtotal), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* No flags to a closed port: RFC 9293 3.10.7.1, <SEQ=0><ACK=SEG.SEQ+
 * SEG.LEN><CTL=RST,ACK>; tcps_rcvnoport. */
TEST(hostile_noflags_closed_port_rst)
{
	struct hs h;
	struct tt_seg sg;

	REQUIRE(hs_init(&h, ust_test_seed));
	h.tt.lport = 9;
	tt_in_data(&h.tt, 0, 100, 0, 32767, "abc", 3);
	CHECK(TT_OUT_SEG(&h.tt, TH_RST | TH_ACK, TT_ANY, 0, 103, TT_ANY, &sg));
	h.tt.lport = TT_LOCAL_PORT;
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvnoport), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* No flags with data into the established connection: RFC 9293
 * 3.10.7.4 fifth check, "if the ACK bit is off, drop the segment";
 * the data is not delivered and nothing is sent. */
TEST(hostile_noflags_established_dropped)
{
	struct hs h;
	char b[8];

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in_data(&h.tt, 0, h.pseq, 0, 32767, "evil", 4);
	CHECK_EQ(hs_txnew(&h), 0);
	CHECK_EQ(ust_recv(h.tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvbyte), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvtotal), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* SYN+FIN into the established connection: RFC 5961 4.2, a SYN in a
 * synchronized state gets a challenge ACK and changes nothing. */
TEST(hostile_synfin_established_challenge_ack)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in(&h.tt, TH_SYN | TH_FIN, h.pseq + 10, 0, 32767);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(HS_D(&h, tcp, tcps_synchallenge), 1);
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}

/* SYN+RST in the window but not at RCV.NXT: RFC 5961 3.2, challenge ACK,
 * the connection stays. */
TEST(hostile_synrst_established_inwindow_challenge)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in(&h.tt, TH_SYN | TH_RST, h.pseq + 100, 0, 32767);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(HS_D(&h, tcp, tcps_badrst_inwindow) + HS_D(&h, tcp, tcps_synchallenge), 1);
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}

/* Data on a SYN to the listener: RFC 9293 3.10.7.2 allows queueing it,
 * FreeBSD's syncache drops it (the peer retransmits after the
 * handshake): the SYN-ACK acknowledges only the SYN, and nothing is
 * delivered. */
TEST(hostile_data_on_syn_not_acked)
{
	struct hs h;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in peer;
	char b[16];

	uint32_t iss;

	REQUIRE(hs_init(&h, ust_test_seed));
	iss = h.tt.iss;
	h.tt.pport = 41004;
	tt_in_raw(&h.tt, TH_SYN, 0, 0, 32767, tt_synopt, sizeof(tt_synopt), "early", 5);
	TT_OUT(&h.tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY);
	tt_in(&h.tt, TH_ACK, 1, 1, 32767);
	REQUIRE_EQ(ust_accept(h.tt.lso, &so, (struct ust_sockaddr *)&peer,
	               &(ust_socklen_t){ sizeof(peer) }),
	    0);
	CHECK_EQ(ust_recv(so, b, sizeof(b), 0), -UST_EAGAIN);
	tt_in(&h.tt, TH_RST, 1, 0, 0);
	ust_close(so);
	h.tt.pport = TT_PEER_PORT;
	h.tt.iss = iss;
	CHECK_EQ(HS_D(&h, tcp, tcps_sc_completed), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* Data on a SYN into the established connection: challenge ACK
 * (RFC 5961 4.2), the data is not delivered. */
TEST(hostile_data_on_syn_established)
{
	struct hs h;
	char b[16];

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in_raw(&h.tt, TH_SYN, h.pseq, 0, 32767, NULL, 0, "early", 5);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(ust_recv(h.tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(HS_D(&h, tcp, tcps_synchallenge), 1);
	hs_alive(&h);
	hs_fini(&h);
}

/* An RST storm: 1000 RSTs at every sequence number in and around the
 * window but never exactly RCV.NXT.  RFC 5961 3.2: in-window ones draw
 * challenge ACKs, rate-limited (tcp.ack_war_maxcnt per
 * ack_war_timewindow); out-of-window ones are dropped; the connection
 * survives. */
TEST(hostile_rst_storm_survives)
{
	struct hs h;
	struct tt_seg sg;
	uint32_t i;
	int acks = 0;

	REQUIRE(hs_init(&h, ust_test_seed));
	for (i = 0; i < 1000; i++) {
		uint32_t seq = h.pseq + 1 + i * 97;

		tt_in(&h.tt, TH_RST, seq, 0, 0);
	}
	while (tt_next(&h.tt, &sg)) {
		CHECK_EQ(sg.flags, TH_ACK);
		CHECK_EQ(sg.ack, h.pseq);
		acks++;
	}
	CHECK(acks >= 1);
	CHECK(acks < 100);
	CHECK_EQ(HS_D(&h, tcp, tcps_challenge_ack), acks);
	CHECK(HS_D(&h, tcp, tcps_badrst_inwindow) > acks);
	CHECK_EQ(HS_D(&h, tcp, tcps_challenge_ack) + HS_D(&h, tcp, tcps_challenge_ack_limited),
	    HS_D(&h, tcp, tcps_badrst_inwindow));
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}

/* An RST storm aimed at the listener's port from many source ports:
 * nothing is answered, the listener stays. */
TEST(hostile_rst_storm_listener)
{
	struct hs h;
	int i;

	REQUIRE(hs_init(&h, ust_test_seed));
	for (i = 0; i < 500; i++) {
		h.tt.pport = (uint16_t)(42000 + i);
		tt_in(&h.tt, (uint16_t)(TH_RST | ((i & 1) ? TH_ACK : 0)), (uint32_t)i * 7919, 0, 0);
	}
	h.tt.pport = TT_PEER_PORT;
	CHECK_EQ(hs_txnew(&h), 0);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvtotal), 500);
	CHECK_EQ(tt_state(h.tt.lso), UST_TCPS_LISTEN);
	hs_alive(&h);
	hs_fini(&h);
}

/* An RST at exactly RCV.NXT does reset (RFC 5961 3.2): the stack must
 * still accept new connections afterwards. */
TEST(hostile_rst_exact_resets_then_serves)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in(&h.tt, TH_RST, h.pseq, 0, 0);
	CHECK_EQ(hs_txnew(&h), 0);
	TT_GONE(h.tt.so);
	CHECK_EQ(tt_soerror(h.tt.so), UST_ECONNRESET);
	CHECK_EQ(HS_D(&h, tcp, tcps_drops), 1);
	h.dead = 1;
	hs_alive(&h);
	hs_fini(&h);
}

/* Data far beyond the right edge of the window (RFC 9293 3.10.7.4 first
 * check: unacceptable): an ACK with RCV.NXT goes back, nothing is
 * delivered, the segment is counted as after the window. */
TEST(hostile_data_far_beyond_window)
{
	struct hs h;
	char b[8];

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in_data(&h.tt, TH_ACK | TH_PUSH, h.pseq + 1000000, h.oseq, 32767, "far!", 4);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(ust_recv(h.tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvpackafterwin), 1);
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}

/* Data far to the left (old, a million bytes back): a duplicate; ACK
 * with RCV.NXT, nothing delivered, counted as duplicate. */
TEST(hostile_data_far_before_window)
{
	struct hs h;
	char b[8];

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in_data(&h.tt, TH_ACK | TH_PUSH, h.pseq - 1000000, h.oseq, 32767, "old!", 4);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(ust_recv(h.tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvduppack), 1);
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}

/* An ACK of data never sent, far beyond SND.NXT (RFC 5961 5.2 / RFC 9293
 * 3.10.7.4): answered with an ACK and dropped; snd_una does not move. */
TEST(hostile_ack_far_beyond_snd_nxt)
{
	struct hs h;

	REQUIRE(hs_init(&h, ust_test_seed));
	tt_in(&h.tt, TH_ACK, h.pseq, h.oseq + 1000000, 32767);
	TT_OUT(&h.tt, TH_ACK, h.oseq, 0, h.pseq, TT_ANY);
	TT_NONE(&h.tt);
	CHECK_EQ(HS_D(&h, tcp, tcps_rcvacktoomuch), 1);
	CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
	hs_alive(&h);
	hs_fini(&h);
}
#endif /* UST_STATS */
