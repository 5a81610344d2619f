/*
 * test_tcp_output.c - tcp_output(): the SYN's options byte for byte
 * (FreeBSD's fingerprint), the MSS from the MTU, TCP_NOOPT and rfc1323=0,
 * Nagle and TCP_NODELAY, delayed ACKs, receiver silly-window avoidance,
 * persist probes into a zero window, ICMP frag-needed lowering the MSS.
 */
#include "kern/socketvar.h"
#include "kern/callout.h"
#include "netinet/in_pcb.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

#if UST_STATS
#if UST_TCP_RFC1323
TEST(output_syn_layout_freebsd)
{
	/* <mss 1460,nop,wscale 6,sackOK,TS val X ecr 0> win 65535 */
	static const uint8_t want[12] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 8, 10 };
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	CHECK_EQ(s.flags, TH_SYN);
	CHECK_EQ(s.win, 65535);
	CHECK_EQ(s.raw_ack, 0);
	CHECK_EQ(s.len, 0);
	CHECK(s.cksum_ok);
	CHECK(s.ipdf); /* path_mtu_discovery=1 */
	REQUIRE_EQ(s.optlen, 20);
	CHECK_MEM(s.opt, want, 12);
	CHECK_EQ(s.to.to_tsecr, 0);
	CHECK_EQ(tt_tp(&o)->request_r_scale, 6);
	CHECK_EQ(tt_tp(&o)->t_state, TCPS_SYN_SENT);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndctrl, 1);
	tt_fini(&o);
}
#endif
#endif

#if UST_TCP_RFC1323
TEST(output_syn_wscale_follows_maxsockbuf)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	tt_sysctl(&o, "kern.ipc.maxsockbuf", 73728);
	REQUIRE(tt_connect(&o, &s));
	CHECK(s.to.to_flags & TOF_SCALE);
	CHECK_EQ(s.to.to_wscale, 1);
	tt_fini(&o);
	tt_init(&o, 1);
	tt_sysctl(&o, "kern.ipc.maxsockbuf", 1073741824);
	REQUIRE(tt_connect(&o, &s));
	CHECK_EQ(s.to.to_wscale, 14);
	tt_fini(&o);
}
#endif

TEST(output_syn_mss_from_mtu)
{
	static const uint32_t mtu[] = { 9000, 576, 1500, 1280 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct tt o;
		struct tt_seg s;

		tt_init_mtu(&o, 1, mtu[i]);
		REQUIRE(tt_connect(&o, &s));
		CHECK(s.to.to_flags & TOF_MSS);
		CHECK_EQ(s.to.to_mss, mtu[i] - 40);
		tt_fini(&o);
	}
}

#if UST_TCP_SACK
TEST(output_syn_noopt_and_rfc1323_off)
{
	struct tt o;
	struct tt_seg s;

	/* TCP_NOOPT: a bare SYN. */
	tt_init(&o, 1);
	REQUIRE(ust_socket(o.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &o.so) == 0);
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_NOOPT, 1) == 0);
	REQUIRE(tt_connect(&o, &s));
	CHECK_EQ(s.flags, TH_SYN);
	CHECK_EQ(s.optlen, 0);
	CHECK_EQ(s.win, 65535);
	tt_fini(&o);

	/* The knob exists where RFC 7323 is compiled in (UST_TCP_RFC1323). */
#if UST_TCP_RFC1323
	/* rfc1323=0: <mss 1460,sackOK,eol,eol>. */
	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.rfc1323", 0);
	REQUIRE(tt_connect(&o, &s));
	REQUIRE_EQ(s.optlen, 8);
	CHECK_MEM(s.opt, tt_mss1460, 4);
	CHECK_EQ(s.opt[4], 4);
	CHECK_EQ(s.opt[5], 2);
	CHECK_EQ(s.opt[6], 0);
	CHECK_EQ(s.opt[7], 0);
	tt_fini(&o);

	/* rfc1323=0 and sack.enable=0: only the MSS. */
	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.rfc1323", 0);
	tt_sysctl(&o, "net.inet.tcp.sack.enable", 0);
	REQUIRE(tt_connect(&o, &s));
	REQUIRE_EQ(s.optlen, 4);
	CHECK_MEM(s.opt, tt_mss1460, 4);
	tt_fini(&o);
#endif
}
#endif

/* After a handshake without options the window is not scaled and the
 * ACK carries 65535 (the 65536-byte buffer capped). */
TEST(output_handshake_ack_and_window)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	tt_in_abs(&o, TH_SYN | TH_ACK, TT_PEER_ISS, o.iss + 1, 32767, tt_mss1460, 4, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_seq, o.iss + 1);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1);
	CHECK_EQ(s.win, 65535);
	CHECK_EQ(s.optlen, 0);
	tt_fini(&o);
}

#if UST_TCP_RFC1323
/* Timestamps negotiated: every segment carries TS with ecr = ts_recent,
 * and the payload shrinks by the 12 option bytes (RFC 6691). */
TEST(output_timestamps_echoed_and_mss_counts_options)
{
	static const uint8_t synack_opt[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 0, 0, 0,
		99, 0, 0, 0, 0 };
	static uint8_t buf[3000];
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	tt_in_abs(&o, TH_SYN | TH_ACK, TT_PEER_ISS, o.iss + 1, 65535, synack_opt, 20, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	tp = tt_tp(&o);
	REQUIRE(tp != NULL && tp->t_state == TCPS_ESTABLISHED);
	CHECK(s.to.to_flags & TOF_TS);
	CHECK_EQ(s.to.to_tsecr, 99);
	CHECK_EQ(s.optlen, 12);
	CHECK_EQ(tp->rcv_scale, 6);
	CHECK(s.win >= 1024 && s.win < 1100); /* the buffer >> 6 */
	REQUIRE(ust_send(o.so, buf, 3000, 0) == 3000);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1448);
	CHECK_EQ(s.optlen, 12);
	CHECK(s.to.to_flags & TOF_TS);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1448);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 104);
	CHECK(s.flags & TH_PUSH);
	/* Data in flight: a full segment (1448 with TS) goes, the 4-byte
	 * tail waits for the ACK (Nagle with FreeBSD's tcp_maxseg()). */
	REQUIRE(ust_send(o.so, buf, 1452, 0) == 1452);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1448);
	CHECK(!tt_next(&o, &s));
	tt_fini(&o);
}
#endif

#if UST_TCP_RFC1323
/* tcp_output's usual-options path (issue 19): data segments and pure ACKs
 * with timestamps alone carry NOP, NOP, TS exactly as tcp_opts_write lays
 * them out, the clock's value plus the offset and the peer's last TSval;
 * the header fields and the checksum (the pseudo-header sum cached in
 * t_phsum) are those of the general path. */
TEST(output_timestamps_fast_layout_on_data_and_acks)
{
	static const uint8_t synack_opt[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 0, 0, 0,
		99, 0, 0, 0, 0 };
	static const uint8_t nopnop_ts[4] = { 1, 1, 8, 10 };
	static uint8_t buf[2000];
	uint8_t peer_opt[12] = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct tcpopt to;
	uint8_t want[12];
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;
	struct inpcb *inp;

	tt_init(&o, 7);
	REQUIRE(tt_connect(&o, &s));
	tt_in_abs(&o, TH_SYN | TH_ACK, TT_PEER_ISS, o.iss + 1, 65535, synack_opt, 20, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	tp = tt_tp(&o);
	inp = tp->t_inpcb;
	REQUIRE(tp->t_state == TCPS_ESTABLISHED);
	/* Data: the fast layout, byte for byte what tcp_opts_write makes. */
	REQUIRE(ust_send(o.so, buf, 2000, 0) == 2000);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1448);
	REQUIRE_EQ(s.optlen, 12);
	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_TS;
	to.to_tsval = tcp_ts_getticks(o.t.st) + tp->ts_offset;
	to.to_tsecr = 99;
	REQUIRE_EQ(tcp_opts_write(want, &to), 12);
	CHECK_MEM(s.opt, want, 12);
	CHECK_MEM(s.opt, nopnop_ts, 4);
	CHECK(s.cksum_ok);
	CHECK_EQ(s.sport, ntohs(inp->inp_lport));
	CHECK_EQ(s.dport, ntohs(inp->inp_fport));
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1);
	CHECK_EQ(s.flags, TH_ACK);
	/* The cached pseudo-header part is in_pseudo's without the length. */
	CHECK_EQ(tp->t_phsum, in_pseudo(inp->inp_laddr, inp->inp_faddr, IPPROTO_TCP, 0));
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 552);
	CHECK(s.flags & TH_PUSH);
	CHECK(s.cksum_ok);
	CHECK_MEM(s.opt, want, 12);
	/* Two full segments from the peer with TS 1234: the ACK (no data)
	 * echoes it, snd_max as its sequence number. */
	be32enc(peer_opt + 4, 1234);
	be32enc(peer_opt + 8, to.to_tsval);
	tt_in_abs(&o, TH_ACK, TT_PEER_ISS + 1, o.iss + 1 + 2000, 65535, peer_opt, 12, buf, 1448);
	tt_in_abs(&o, TH_ACK, TT_PEER_ISS + 1 + 1448, o.iss + 1 + 2000, 65535, peer_opt, 12, buf,
	    1448);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 0);
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_seq, o.iss + 1 + 2000);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 2896);
	REQUIRE_EQ(s.optlen, 12);
	CHECK_MEM(s.opt, nopnop_ts, 4);
	CHECK_EQ(s.to.to_tsecr, 1234);
	CHECK(s.cksum_ok);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* The ACK that ends a delayed ACK clears its timer slot without moving
 * the connection's callout (issue 19): when the old deadline comes the
 * callout finds nothing due, sends nothing and stays armed for the
 * timers still running. */
TEST(output_delack_cleared_lazily_sends_nothing_later)
{
	static uint8_t buf[1460];
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;
	uint64_t delack, sent;
	int i, armed;

	tt_init(&o, 3);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	tt_peer(&o, TH_ACK, 0, 0, 65535, buf, 1460);
	CHECK(!tt_next(&o, &s));
	REQUIRE(tcp_timer_active(tp, TT_DELACK));
	tt_peer(&o, TH_ACK, 1460, 0, 65535, buf, 1460);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 2920);
	CHECK(!tcp_timer_active(tp, TT_DELACK));
	CHECK(!(tp->t_flags & (TF_DELACK | TF_ACKNOW)));
	delack = o.t.st->st_tcpstat.tcps_delack;
	sent = o.t.st->st_tcpstat.tcps_sndtotal;
	tt_advance_ms(&o, 100);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(o.t.st->st_tcpstat.tcps_delack, delack);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndtotal, sent);
	for (armed = 0, i = 0; i < TT_N; i++)
		armed |= tp->t_timers[i] != 0;
	CHECK_EQ(callout_pending(&tp->t_callout) != 0, armed);
	/* A third segment arms a fresh delayed ACK, sent 40 ms later. */
	tt_peer(&o, TH_ACK, 2920, 0, 65535, buf, 1460);
	CHECK(!tt_next(&o, &s));
	tt_advance_ms(&o, 40);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 4380);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_delack, delack + 1);
	tt_fini(&o);
}
#endif

/* RFC 1122 4.2.3.4: with data in flight a partial segment waits for the
 * ACK (Nagle); TCP_NODELAY sends it at once. */
TEST(output_nagle_and_nodelay)
{
	static uint8_t buf[200];
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, buf, 100, 0) == 100);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 100);
	CHECK_EQ(s.raw_seq, o.iss + 1);
	CHECK(s.flags & TH_PUSH);
	REQUIRE(ust_send(o.so, buf, 100, 0) == 100);
	ipt_poll(&o.t);
	CHECK(!tt_next(&o, &s)); /* held by Nagle */
	tt_peer(&o, TH_ACK, 0, 100, 65535, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 100);
	CHECK_EQ(s.raw_seq, o.iss + 101);
	tt_peer(&o, TH_ACK, 0, 200, 65535, NULL, 0);
	tt_drain(&o);

	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_NODELAY, 1) == 0);
	REQUIRE(ust_send(o.so, buf, 100, 0) == 100);
	ipt_poll(&o.t);
	REQUIRE(ust_send(o.so, buf, 100, 0) == 100);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 100);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 100);
	CHECK_EQ(s.raw_seq, o.iss + 301);
	tt_fini(&o);
}

#if UST_STATS
/* A full segment goes whatever Nagle says; the tail waits. */
TEST(output_full_segments_then_nagle_tail)
{
	static uint8_t buf[4000];
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, buf, 1, 0) == 1);
	ipt_poll(&o.t);
	tt_drain(&o);
	/* One byte in flight: 3000 more go as 1460 + 1460, 80 waits. */
	REQUIRE(ust_send(o.so, buf, 3000, 0) == 3000);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1460);
	CHECK(!(s.flags & TH_PUSH));
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1460);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndpack, 3);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndbyte, 2921);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* RFC 1122 4.2.3.2: one segment is ACKed after delacktime (40 ms); the
 * second full segment is ACKed at once. */
TEST(output_delayed_ack_40ms_and_every_second_segment)
{
	static uint8_t buf[1460];
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tt_peer(&o, TH_ACK, 0, 0, 65535, buf, 1460);
	CHECK(!tt_next(&o, &s));
	tt_advance_ms(&o, 39);
	CHECK(!tt_next(&o, &s));
	tt_advance_ms(&o, 1);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 1460);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_delack, 1);
	tt_peer(&o, TH_ACK, 1460, 0, 65535, buf, 1460);
	CHECK(!tt_next(&o, &s));
	tt_peer(&o, TH_ACK, 2920, 0, 65535, buf, 1460);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 4380);
	CHECK(!tcp_timer_active(tt_tp(&o), TT_DELACK));
	tt_fini(&o);
}
#endif

#if UST_STATS
/* RFC 1122 4.2.3.3 with FreeBSD's thresholds: reading a little does not
 * announce a tiny window increase; reading a quarter of the buffer does. */
TEST(output_receiver_sws_no_tiny_window_updates)
{
	static uint8_t buf[1460], rbuf[20000];
	struct tt o;
	struct tt_seg s;
	int i;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	for (i = 0; i < 20; i++)
		tt_peer(&o, TH_ACK, (uint32_t)i * 1460, 0, 65535, buf, 1460);
	tt_advance_ms(&o, 100);
	while (tt_next(&o, &s))
		continue;
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1 + 29200);
	/* The buffer was rounded up to 45 segments, 65700 (FreeBSD tcp_mss). */
	CHECK_EQ(s.win, 65700 - 29200);
	/* 100 bytes read: no update. */
	REQUIRE(ust_recv(o.so, rbuf, 100, 0) == 100);
	ipt_poll(&o.t);
	CHECK(!tt_next(&o, &s));
	REQUIRE(ust_recv(o.so, rbuf, 3000, 0) == 3000);
	ipt_poll(&o.t);
	CHECK(!tt_next(&o, &s));
	/* A quarter of the buffer: the update goes. */
	REQUIRE(ust_recv(o.so, rbuf, 14000, 0) == 14000);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.win, 65700 - 29200 + 17100);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndwinup, 1);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* RFC 9293 3.8.6.1: a zero window gets one-byte probes from persmin on,
 * for as long as the peer keeps answering; the data flows once it opens. */
TEST(output_persist_probes_zero_window)
{
	static uint8_t buf[500];
	struct tt o;
	struct tt_seg s;
	int probes = 0, i;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 0, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, buf, 500, 0) == 500);
	ipt_poll(&o.t);
	CHECK(!tt_next(&o, &s));
	CHECK(tcp_timer_active(tt_tp(&o), TT_PERSIST));
	CHECK(!tcp_timer_active(tt_tp(&o), TT_REXMT));
	tt_advance_ms(&o, 4999);
	CHECK(!tt_next(&o, &s));
	tt_advance_ms(&o, 1);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.len, 1);
	CHECK_EQ(s.raw_seq, o.iss + 1);
	/* The peer answers every probe with a zero window for an hour. */
	for (i = 0; i < 3600; i++) {
		tt_peer(&o, TH_ACK, 0, 0, 0, NULL, 0);
		tt_advance_ms(&o, 1000);
		while (tt_next(&o, &s)) {
			CHECK_EQ(s.len, 1);
			CHECK_EQ(s.raw_seq, o.iss + 1);
			probes++;
		}
	}
	CHECK(probes >= 60); /* persmax 60 s */
	REQUIRE(tt_tp(&o) != NULL);
	CHECK_EQ(tt_tp(&o)->t_state, TCPS_ESTABLISHED);
	CHECK(o.t.st->st_tcpstat.tcps_sndprobe >= (uint64_t)probes);
	CHECK(o.t.st->st_tcpstat.tcps_persisttimeo >= (uint64_t)probes);
	/* The window opens: all 500 bytes go. */
	tt_peer(&o, TH_ACK, 0, 0, 65535, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.raw_seq, o.iss + 1);
	CHECK_EQ(s.len, 500);
	CHECK(!tcp_timer_active(tt_tp(&o), TT_PERSIST));
	CHECK(tcp_timer_active(tt_tp(&o), TT_REXMT));
	tt_fini(&o);
}
#endif

/* An ICMP frag-needed quoting an unacknowledged segment lowers the MSS to
 * MTU - 40 and resends at once; MTU 0, an MTU not smaller than the
 * path's, or a quoted sequence number outside [snd_una, snd_max) does
 * nothing (RFC 5927 4.1). */
static void
icmp_needfrag(struct tt *o, uint32_t seq, uint16_t mtu)
{
	tt_in_icmp(o, 3, 4, mtu, seq, 1460 + 40);
}

#if UST_STATS
#if UST_ICMP_CTLINPUT
TEST(output_icmp_frag_needed_lowers_mss)
{
	static uint8_t buf[2920];
	struct tt o;
	struct tt_seg s;
	int n = 0;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, buf, 2920, 0) == 2920);
	ipt_poll(&o.t);
	CHECK_EQ(tt_drain(&o), 2);
	icmp_needfrag(&o, o.iss + 1, 0);
	icmp_needfrag(&o, o.iss + 1, 1500);
	icmp_needfrag(&o, o.iss + 5000, 1000);
	icmp_needfrag(&o, o.iss, 1000);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(tt_tp(&o)->t_maxseg, 1460);
	icmp_needfrag(&o, o.iss + 1, 1000);
	CHECK_EQ(tt_tp(&o)->t_maxseg, 960);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_mturesent, 1);
	while (tt_next(&o, &s)) {
		CHECK(s.len <= 960);
		n++;
	}
	CHECK(n >= 1);
	/* Not below minmss (216). */
	icmp_needfrag(&o, o.iss + 1, 100);
	CHECK_EQ(tt_tp(&o)->t_maxseg, 216);
	tt_fini(&o);
}
#endif
#endif

/* The urgent pointer rides with the data before it (RFC 9293 3.8.5). */
TEST(output_urgent_pointer)
{
	static uint8_t buf[10];
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, buf, 10, UST_MSG_OOB) == 10);
	ipt_poll(&o.t);
	REQUIRE(tt_next(&o, &s));
	CHECK(s.flags & TH_URG);
	CHECK_EQ(s.urp, 10);
	CHECK_EQ(s.len, 10);
	tt_fini(&o);
}
