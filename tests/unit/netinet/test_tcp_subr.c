/*
 * test_tcp_subr.c - tcp_subr.c: SipHash-2-4 against the paper's vector,
 * RFC 6528 ISNs, tcp_respond() RST and ACK layouts, the RFC 5961 challenge
 * ACK rate limit, ICMP errors in SYN_SENT (FreeBSD's rcv-icmp scripts),
 * tcp_close / tcp_drop bookkeeping, nolocaltimewait and teardown with
 * connections left.
 */
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

TEST(subr_siphash24_paper_vector)
{
	/* Aumasson & Bernstein, appendix A: key 00..0f, message 00..0e. */
	uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t msg[64];
	unsigned i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	CHECK(tcp_siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	/* Empty input (the reference vectors' first line). */
	CHECK(tcp_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
	/* Eight bytes: a whole word and an empty tail. */
	CHECK(tcp_siphash24(key, msg, 8) == 0x93f5f5799a932462ull);
}

/* tcp_new_isn of an IPv4 4-tuple (ports host order here). */
static tcp_seq
isn4(struct ust_stack *st, struct in_addr l, uint16_t lport, struct in_addr f, uint16_t fport)
{
	struct in_conninfo inc;

	memset(&inc, 0, sizeof(inc));
	inc.inc_laddr = l;
	inc.inc_lport = htons(lport);
	inc.inc_faddr = f;
	inc.inc_fport = htons(fport);
	return (tcp_new_isn(st, &inc));
}

TEST(subr_isn_rfc6528)
{
	struct ust_vclock *vc = ust_vclock_create(IPT_T0);
	struct ust_stack *a = test_stack_new(vc, 1), *b = test_stack_new(vc, 2);
	struct in_addr l = { htonl(IPT_OURS) }, f = { htonl(IPT_PEER) };
	tcp_seq i1, i2, i3, j1;

	i1 = isn4(a, l, 1000, f, 80);
	i2 = isn4(a, l, 1001, f, 80);
	i3 = isn4(a, l, 1000, f, 81);
	CHECK(i1 != i2 && i1 != i3 && i2 != i3);
	/* Same stack, same tuple, same time: same ISN (a pure function). */
	CHECK_EQ(isn4(a, l, 1000, f, 80), i1);
	/* Another stack (another secret): unrelated. */
	j1 = isn4(b, l, 1000, f, 80);
	CHECK(j1 != i1);
	/* M: 4 microsecond ticks (RFC 9293 3.4.1). */
	ust_vclock_advance(vc, 4000);
	CHECK_EQ(isn4(a, l, 1000, f, 80), i1 + 1);
	ust_vclock_advance(vc, 1000000000ull);
	CHECK_EQ(isn4(a, l, 1000, f, 80), i1 + 1 + 250000);
	test_stack_free(a);
	test_stack_free(b);
	ust_vclock_destroy(vc);
}

static void
mkseg(struct tcp_seg *seg, uint16_t flags, uint32_t seq, uint32_t ack)
{
	memset(seg, 0, sizeof(*seg));
	seg->inc.inc_faddr.s_addr = htonl(IPT_PEER);
	seg->inc.inc_laddr.s_addr = htonl(IPT_OURS);
	seg->th.th_sport = 40000;
	seg->th.th_dport = 8080;
	seg->inc.inc_fport = htons(40000);
	seg->inc.inc_lport = htons(8080);
	seg->th.th_seq = seq;
	seg->th.th_ack = ack;
	seg->th.th_flags = flags;
	seg->th.th_off = 5;
}

#if UST_STATS
/* FreeBSD: "R SEG.ACK:SEG.ACK(0) win 0" and "R. 0:0(0) ack SEG.SEQ+len". */
TEST(subr_respond_rst_layouts)
{
	struct tt o;
	struct tt_seg s;
	struct tcp_seg seg;

	tt_init(&o, 1);
	mkseg(&seg, TH_ACK, 5000, 777);
	tcp_respond(o.t.st, NULL, &seg, 0, 777, TH_RST);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_RST);
	CHECK_EQ(s.raw_seq, 777);
	CHECK_EQ(s.raw_ack, 0);
	CHECK_EQ(s.win, 0);
	CHECK_EQ(s.optlen, 0);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(s.sport, 8080);
	CHECK_EQ(s.dport, 40000);
	CHECK_EQ(s.src, IPT_OURS);
	CHECK_EQ(s.dst, IPT_PEER);
	CHECK(s.cksum_ok);
	mkseg(&seg, TH_SYN, 5000, 0);
	tcp_respond(o.t.st, NULL, &seg, 5001, 0, TH_RST | TH_ACK);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_RST | TH_ACK);
	CHECK_EQ(s.raw_seq, 0);
	CHECK_EQ(s.raw_ack, 5001);
	CHECK_EQ(s.win, 0);
	CHECK(s.cksum_ok);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndtotal, 2);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_sndctrl, 2);
	tt_fini(&o);
}
#endif

#if UST_TCP_RFC1323
/* With a connection: an ACK carries the window; timestamps once agreed. */
TEST(subr_respond_ack_with_tp_and_ts)
{
	static const uint8_t synack_opt[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 0, 1, 1, 8, 10, 0, 0, 1,
		0, 0, 0, 0, 0 };
	struct tt o;
	struct tt_seg s;
	struct tcp_seg seg;
	struct tcpcb *tp;

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	tt_in_abs(&o, TH_SYN | TH_ACK, TT_PEER_ISS, o.iss + 1, 65535, synack_opt, 20, NULL, 0);
	REQUIRE(tt_next(&o, &s));
	tp = tt_tp(&o);
	REQUIRE(tp != NULL && (tp->t_flags & TF_RCVD_TSTMP));
	mkseg(&seg, TH_ACK, TT_PEER_ISS + 1, o.iss + 1);
	seg.th.th_dport = o.lport;
	tcp_respond(o.t.st, tp, &seg, tp->rcv_nxt, tp->snd_nxt, TH_ACK);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1);
	CHECK(s.win > 0);
	CHECK(s.to.to_flags & TOF_TS);
	CHECK_EQ(s.to.to_tsecr, 256);
	CHECK_EQ(s.optlen, 12);
	CHECK(s.cksum_ok);
	tt_fini(&o);
}
#endif

#if UST_STATS
/* RFC 5961 7: at most ack_war_cnt challenge ACKs per ack_war_timewindow. */
TEST(subr_challenge_ack_rate_limit)
{
	struct tt o;
	struct tt_seg s;
	struct tcp_seg seg;
	struct tcpcb *tp;
	int i;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	mkseg(&seg, TH_RST, TT_PEER_ISS + 100, 0);
	seg.th.th_dport = o.lport;
	for (i = 0; i < 8; i++)
		tcp_send_challenge_ack(tp, &seg);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_challenge_ack, 5);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_challenge_ack_limited, 3);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.raw_seq, tp->snd_nxt);
	CHECK_EQ(s.raw_ack, tp->rcv_nxt);
	CHECK_EQ(tt_drain(&o), 4);
	tt_advance_ms(&o, 1000);
	tcp_send_challenge_ack(tp, &seg);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_challenge_ack, 6);
	CHECK_EQ(tt_drain(&o), 1);
	tt_fini(&o);
}
#endif

#if UST_ICMP_CTLINPUT
/* rcv-icmp-hard-error-*: in SYN_SENT port/protocol unreachable and
 * administrative prohibitions refuse the connection, TTL exceeded is
 * EHOSTUNREACH; only for the quoted ISS (RFC 5927). */
TEST(subr_icmp_hard_errors_syn_sent)
{
	static const struct {
		uint8_t type, code;
		int err;
	} cases[] = {
		{ 3, 2, UST_ECONNREFUSED },
		{ 3, 3, UST_ECONNREFUSED },
		{ 3, 9, UST_ECONNREFUSED },
		{ 3, 10, UST_ECONNREFUSED },
		{ 3, 13, UST_ECONNREFUSED },
		{ 11, 0, UST_EHOSTUNREACH },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt o;
		struct tt_seg s;

		tt_init(&o, 1);
		REQUIRE(tt_connect(&o, &s));
		tt_in_icmp(&o, cases[i].type, cases[i].code, 0, o.iss - 1, 60);
		CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
		tt_in_icmp(&o, cases[i].type, cases[i].code, 0, o.iss + 1, 60);
		CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
		CHECK(tt_tp(&o) != NULL);
		tt_in_icmp(&o, cases[i].type, cases[i].code, 0, o.iss, 60);
		CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), cases[i].err);
		CHECK(tt_tp(&o) == NULL);
		CHECK(!tt_next(&o, &s));
		tt_fini(&o);
	}
}
#endif

#if UST_ICMP_CTLINPUT
/* rcv-icmp-hard-error-ignored: with icmp_may_rst=0 nothing is fatal; soft
 * errors never show in SO_ERROR, the SYN goes again at +1 s, and a
 * timeout later reports the soft error (RFC 1122 4.2.3.9). */
TEST(subr_icmp_soft_errors_and_may_rst_off)
{
	static const uint8_t codes[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct tt o;
	struct tt_seg s;
	unsigned i;

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.icmp_may_rst", 0);
	tt_sysctl(&o, "net.inet.tcp.keepinit", 10000);
	REQUIRE(tt_connect(&o, &s));
	for (i = 0; i < sizeof(codes); i++) {
		tt_in_icmp(&o, 3, codes[i], 0, o.iss, 60);
		CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	}
	tt_in_icmp(&o, 11, 0, 0, o.iss, 60);
	tt_in_icmp(&o, 3, 1, 0, o.iss, 60); /* host unreachable last */
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), 0);
	CHECK(!tt_next(&o, &s));
	tt_advance_ms(&o, 1000);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_SYN);
	tt_advance_ms(&o, 9000);
	CHECK(tt_tp(&o) == NULL);
	/* keepinit drops with ETIMEDOUT, replaced by the soft error. */
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_EHOSTUNREACH);
	tt_fini(&o);
}
#endif

/* FreeBSD nolocaltimewait: a connection to one of our own addresses skips
 * TIME_WAIT; tcp_twstart on a remote peer keeps the PCB for 2 MSL. */
TEST(subr_twstart_local_and_remote)
{
	struct tt o;
	struct tt_seg s;
	struct tcpcb *tp;
	struct inpcb *inp;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	inp = tp->t_inpcb;
	/* Pretend the peer is us, through the PCB calls so that the hash
	 * tables stay consistent (in_pcbcheck under UST_DEBUG). */
	in_pcbdisconnect(inp, 1);
	REQUIRE(in_pcbconnect(inp, (struct in_addr){ htonl(IPT_OURS) }, htons(4321)) == 0);
	tcp_twstart(tp);
	CHECK(tt_tp(&o) == NULL);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 0);
	CHECK(SO_FROM_UST(o.so)->so_state & SS_ISDISCONNECTED);
	tt_fini(&o);

	tt_init(&o, 1);
	tt_sysctl(&o, "net.inet.tcp.msl", 1000);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	tp = tt_tp(&o);
	tcp_twstart(tp);
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	CHECK(tcp_timer_active(tp, TT_2MSL));
	CHECK(!tcp_timer_active(tp, TT_KEEP));
	(void)ust_close(o.so); /* the socket goes, the PCB stays */
	o.so = NULL;
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 1);
	tt_advance_ms(&o, 2000);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 0);
	(void)s;
	tt_fini(&o);
}

#if UST_STATS
/* tcp_drop in a synchronized state sends <SEQ=SND.NXT><CTL=RST,ACK>,
 * sets so_error and counts tcps_drops; before that, tcps_conndrops. */
TEST(subr_drop_and_close)
{
	struct tt o;
	struct tt_seg s;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	(void)tcp_drop(tt_tp(&o), UST_ECONNABORTED);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_RST | TH_ACK);
	CHECK_EQ(s.raw_seq, o.iss + 1);
	CHECK_EQ(s.raw_ack, TT_PEER_ISS + 1);
	CHECK_EQ(tl_getint(o.so, UST_SOL_SOCKET, UST_SO_ERROR, -1), UST_ECONNABORTED);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_drops, 1);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_closed, 1);
	CHECK(tt_tp(&o) == NULL);
	tt_fini(&o);

	tt_init(&o, 1);
	REQUIRE(tt_connect(&o, &s));
	(void)tcp_drop(tt_tp(&o), UST_ETIMEDOUT);
	CHECK(!tt_next(&o, &s));
	CHECK_EQ(o.t.st->st_tcpstat.tcps_conndrops, 1);
	tt_fini(&o);
}
#endif

/* Teardown with connections in every kind of state leaks nothing
 * (test_stack_free checks every zone). */
TEST(subr_fini_frees_everything)
{
	struct tt o;
	struct tt_seg s;
	struct ust_socket *so2;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, "hello", 5, 0) == 5);
	tcp_twstart(tt_tp(&o));
	(void)ust_close(o.so);
	o.so = NULL;
	tt_drain(&o);
	REQUIRE(tt_connect(&o, &s)); /* one in SYN_SENT, still open */
	so2 = o.so;
	o.so = NULL;
	(void)so2;
	ipt_fini(&o.t);
}

/* A closed socket whose connection still retransmits (FIN_WAIT_1 with
 * data) when the stack goes: socket, tcpcb, PCB and data all freed. */
TEST(subr_fini_with_lingering_close)
{
	struct tt o;

	tt_init(&o, 1);
	REQUIRE(tt_establish(&o, 65535, tt_mss1460, 4));
	REQUIRE(ust_send(o.so, "0123456789", 10, 0) == 10);
	(void)ust_close(o.so);
	o.so = NULL;
	tt_advance_ms(&o, 5000);
	REQUIRE(o.t.st->st_tcbinfo->ipi_count == 1);
	tt_drain(&o);
	/* Not test_stack_free: its leak check runs before the teardown,
	 * and the lingering connection rightly holds its data. */
	ust_stack_destroy(o.t.st);
	free(o.t.d);
	ust_vclock_destroy(o.t.vc);
}

#if UST_IP_LOOPBACK
/* A connection to one of our own addresses: ip_output loops segments
 * straight back into tcp_input, re-entering TCP from tcp_output.  The
 * exchange and the close (no TIME_WAIT: nolocaltimewait) leave nothing. */
TEST(subr_loopback_connection)
{
	struct tt o;
	struct ust_socket *lso = NULL, *cso = NULL, *aso = NULL;
	struct ust_sockaddr_in sin;
	static uint8_t buf[20000], rbuf[20000];
	ptrdiff_t n, got = 0;
	int i;

	tt_init(&o, 1);
	sin = (struct ust_sockaddr_in){ .sin_len = sizeof(sin),
		.sin_family = UST_AF_INET,
		.sin_port = htons(80),
		.sin_addr = htonl(IPT_OURS) };
	REQUIRE(ust_socket(o.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso) == 0);
	REQUIRE(ust_bind(lso, (const struct ust_sockaddr *)&sin, sizeof(sin)) == 0);
	REQUIRE(ust_listen(lso, 4) == 0);
	REQUIRE(ust_socket(o.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &cso) == 0);
	(void)ust_connect(cso, (const struct ust_sockaddr *)&sin, sizeof(sin));
	tt_advance_ms(&o, 10);
	REQUIRE(ust_accept(lso, &aso, NULL, NULL) == 0);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	n = ust_send(cso, buf, sizeof(buf), 0);
	CHECK(n > 0);
	for (i = 0; i < 100 && got < n; i++) {
		ptrdiff_t r;

		tt_advance_ms(&o, 10);
		r = ust_recv(aso, rbuf + got, sizeof(rbuf) - (size_t)got, 0);
		if (r > 0)
			got += r;
	}
	CHECK_EQ(got, n);
	CHECK_MEM(rbuf, buf, (size_t)n);
	(void)ust_close(cso);
	tt_advance_ms(&o, 100);
	(void)ust_close(aso);
	(void)ust_close(lso);
	tt_advance_ms(&o, 1000);
	CHECK_EQ(o.t.st->st_tcbinfo->ipi_count, 0);
	tt_fini(&o);
}
#endif
