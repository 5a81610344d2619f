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
#include "iptest.h"

#define PPORT 40000 /* the peer's port */
#define LPORT 8080  /* ours */

struct tseg {
	uint32_t seq, ack;
	uint16_t flags, win, urp;
	uint8_t opt[40];
	unsigned optlen;
	const uint8_t *data;
	unsigned dlen;
	uint32_t src, dst; /* 0: the defaults */
	uint16_t sport, dport;
};

struct tout {
	uint32_t seq, ack;
	uint16_t flags, win;
	unsigned optlen, dlen;
	uint8_t opt[40];
};

struct trig {
	struct ipt t;
	struct ust_socket *lso, *so; /* listener, connection */
	uint32_t iss;                /* our ISN (the peer's view) */
	uint32_t irs;                /* the peer's ISN */
	int seen;                    /* tx frames looked at */
};

static void
trig_init(struct trig *r)
{
	memset(r, 0, sizeof(*r));
	ipt_init(&r->t, 11);
	r->irs = 0x10000000u;
}

static void
trig_fini(struct trig *r)
{
	if (r->so != NULL)
		(void)ust_close(r->so);
	if (r->lso != NULL)
		(void)ust_close(r->lso);
	/* Let TIME_WAIT and every other timer run out. */
	ipt_advance(&r->t, 600ull * 1000 * IPT_MS);
	ipt_fini(&r->t);
}

static void
tinject(struct trig *r, const struct tseg *s)
{
	uint8_t tcp[1600], f[1700];
	uint32_t src = s->src ? s->src : IPT_PEER, dst = s->dst ? s->dst : IPT_OURS;
	unsigned hl = 20 + s->optlen, len = hl + s->dlen;
	uint32_t ps;
	uint16_t sum;
	size_t n;

	memset(tcp, 0, sizeof(tcp));
	tcp[0] = (uint8_t)((s->sport ? s->sport : PPORT) >> 8);
	tcp[1] = (uint8_t)(s->sport ? s->sport : PPORT);
	tcp[2] = (uint8_t)((s->dport ? s->dport : LPORT) >> 8);
	tcp[3] = (uint8_t)(s->dport ? s->dport : LPORT);
	tl_put32(tcp + 4, s->seq);
	tl_put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((hl / 4) << 4);
	tcp[13] = (uint8_t)s->flags;
	tcp[14] = (uint8_t)(s->win >> 8);
	tcp[15] = (uint8_t)s->win;
	tcp[18] = (uint8_t)(s->urp >> 8);
	tcp[19] = (uint8_t)s->urp;
	memcpy(tcp + 20, s->opt, s->optlen);
	if (s->dlen > 0)
		memcpy(tcp + hl, s->data, s->dlen);
	ps = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + len;
	sum = tl_cksum(tcp, len, ps);
	tcp[16] = (uint8_t)(sum >> 8);
	tcp[17] = (uint8_t)sum;
	n = ipt_frame(f, ipt_mac_ours, src, dst, 6, 1, 0, 64, tcp, len);
	ipt_inject(&r->t, f, n);
}

/* The next TCP segment the stack sent since the last call, or 0. */
static int
tnext(struct trig *r, struct tout *o)
{
	while (r->seen < r->t.d->tx_count) {
		const uint8_t *ip = ipt_tx_ip(&r->t, r->seen);
		const uint8_t *th;
		unsigned hl, tl;

		r->seen++;
		if (!ipt_tx_ipok(&r->t, r->seen - 1) || ip[9] != 6)
			continue;
		th = ip + 20;
		hl = (unsigned)(th[12] >> 4) * 4;
		tl = tl_get16(ip + 2) - 20;
		memset(o, 0, sizeof(*o));
		o->seq = tl_get32(th + 4);
		o->ack = tl_get32(th + 8);
		o->flags = th[13];
		o->win = tl_get16(th + 14);
		o->optlen = hl - 20;
		memcpy(o->opt, th + 20, o->optlen);
		o->dlen = tl - hl;
		return (1);
	}
	return (0);
}

static int
tnone(struct trig *r)
{
	struct tout o;

	return (!tnext(r, &o));
}

static struct tcpcb *
ttp(struct ust_socket *u)
{
	struct socket *so = SO_FROM_UST(u);

	return (so->so_pcb != NULL ? sototcpcb(so) : NULL);
}

static const uint8_t opt_mss1460[] = { 2, 4, 0x05, 0xb4 };

/* An active open to the peer completed with a SYN-ACK <mss 1460>
 * (FreeBSD's state-event-engine preamble).  r->so is ESTABLISHED. */
static int
topen_active(struct trig *r, uint16_t peerwin)
{
	struct ust_sockaddr_in sin;
	struct tseg s;
	struct tout o;

	if (ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) != 0)
		return (0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	if (!tnext(r, &o) || o.flags != TH_SYN) {
		fprintf(stderr, "topen_active: no SYN (%d frames)\n", r->t.d->tx_count);
		return (0);
	}
	r->iss = o.seq;
	memset(&s, 0, sizeof(s));
	s.sport = PPORT;
	s.dport = ttp(r->so) != NULL ? ntohs(ttp(r->so)->t_inpcb->inp_lport) : 0;
	s.seq = r->irs;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = peerwin;
	memcpy(s.opt, opt_mss1460, 4);
	s.optlen = 4;
	tinject(r, &s);
	if (!tnext(r, &o) || o.flags != TH_ACK || o.seq != r->iss + 1 || o.ack != r->irs + 1) {
		fprintf(stderr, "topen_active: no ACK (flags %x state %d)\n", o.flags,
		    ttp(r->so) != NULL ? ttp(r->so)->t_state : -1);
		return (0);
	}
	return (ttp(r->so) != NULL && ttp(r->so)->t_state == TCPS_ESTABLISHED);
}

/* A segment on the open connection, seq/ack relative to the ISNs. */
static void
tsend(struct trig *r, uint32_t rseq, uint32_t rack, uint16_t flags, uint16_t win,
    const uint8_t *data, unsigned dlen)
{
	struct tseg s;

	memset(&s, 0, sizeof(s));
	s.dport = ntohs(ttp(r->so)->t_inpcb->inp_lport);
	s.seq = r->irs + rseq;
	s.ack = r->iss + rack;
	s.flags = flags;
	s.win = win;
	s.data = data;
	s.dlen = dlen;
	tinject(r, &s);
}

/* Checks the next segment: flags, relative seq and ack, window. */
#define EXPECT_SEG(r, f, rseq, rack, w)                                 \
	do {                                                            \
		struct tout _o;                                         \
		REQUIRE(tnext((r), &_o));                               \
		CHECK_EQ(_o.flags, (f));                                \
		CHECK_EQ(_o.seq - (r)->iss, (rseq));                    \
		CHECK_EQ(_o.ack - ((_o.flags & TH_ACK) ? (r)->irs : 0), \
		    (_o.flags & TH_ACK) ? (rack) : _o.ack);             \
		if ((w) >= 0)                                           \
			CHECK_EQ(_o.win, (w));                          \
	} while (0)

static uint8_t payload[8000];

/* ---------------------------------------------------------------------
 * RTT estimator and MSS, on their own.
 * ------------------------------------------------------------------- */

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

TEST(tcp_input_no_pcb_rst)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tseg s;
	struct tout o;

	trig_init(r);
	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	memset(&s, 0, sizeof(s));
	s.seq = 1000;
	s.flags = TH_SYN;
	s.win = 65535;
	tinject(r, &s);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.flags, TH_RST | TH_ACK);
	CHECK_EQ(o.seq, 0);
	CHECK_EQ(o.ack, 1001);
	CHECK_EQ(o.win, 0);
	/* Data and FIN without ACK: ACK = SEQ + LEN + 1. */
	s.flags = TH_FIN;
	s.data = payload;
	s.dlen = 10;
	tinject(r, &s);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.flags, TH_RST | TH_ACK);
	CHECK_EQ(o.ack, 1011);
	/* ACK: <SEQ=SEG.ACK><CTL=RST>. */
	s.flags = TH_ACK;
	s.dlen = 0;
	s.ack = 777;
	tinject(r, &s);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.flags, TH_RST);
	CHECK_EQ(o.seq, 777);
	/* Never a RST for a RST. */
	s.flags = TH_RST | TH_ACK;
	tinject(r, &s);
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvnoport, 4);
	/* Blackhole 1: SYNs go unanswered; 2: everything. */
	V(r->t.st, tcp_blackhole) = 1;
	s.flags = TH_SYN;
	tinject(r, &s);
	CHECK(tnone(r));
	s.flags = TH_ACK;
	tinject(r, &s);
	CHECK(tnext(r, &o));
	V(r->t.st, tcp_blackhole) = 2;
	tinject(r, &s);
	CHECK(tnone(r));
	trig_fini(r);
	free(r);
}

TEST(tcp_input_header_checks)
{
	struct trig *r = calloc(1, sizeof(*r));
	uint8_t tcp[20], f[100];
	struct tseg s;
	size_t n;

	trig_init(r);
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
	CHECK(tnone(r));
	/* To the broadcast address: dropped, never answered. */
	memset(&s, 0, sizeof(s));
	s.flags = TH_SYN;
	s.dst = IPT_BCAST;
	tinject(r, &s);
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvnoport, 0);
	/* SYN+FIN with drop_synfin. */
	V(r->t.st, tcp_drop_synfin) = 1;
	s.dst = 0;
	s.flags = TH_SYN | TH_FIN;
	tinject(r, &s);
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badsyn, 1);
	trig_fini(r);
	free(r);
}

/* ---------------------------------------------------------------------
 * Active open and the established connection.
 * ------------------------------------------------------------------- */

TEST(tcp_input_active_open)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tp = ttp(r->so);
	CHECK_EQ(tp->t_maxseg, 1460);
	CHECK_EQ(tp->snd_una, r->iss + 1);
	CHECK_EQ(tp->rcv_nxt, r->irs + 1);
	CHECK_EQ(tp->snd_wnd, 32767);
	CHECK(!(tp->t_flags & TF_RCVD_SCALE));
	CHECK(!(tp->t_flags & TF_RCVD_TSTMP));
	CHECK_EQ(tp->snd_scale, 0);
	CHECK_EQ(tp->rcv_scale, 0);
	CHECK(SO_FROM_UST(r->so)->so_state & SS_ISCONNECTED);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_connects, 1);
	trig_fini(r);
	free(r);
}

TEST(tcp_input_active_open_wscale_ts)
{
	struct trig *r = calloc(1, sizeof(*r));
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 15, 1, 1, 8, 10, 0, 0, 0, 9, 0,
		0, 0, 0 };
	struct ust_sockaddr_in sin;
	struct tcpcb *tp;
	struct tseg s;
	struct tout o;

	trig_init(r);
	REQUIRE(ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o));
	r->iss = o.seq;
	tp = ttp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->irs;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = 1000;
	memcpy(s.opt, opts, sizeof(opts));
	s.optlen = sizeof(opts);
	tinject(r, &s);
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
	tsend(r, 1, 1, TH_ACK, 10, NULL, 0);
	CHECK_EQ(tp->snd_wnd, 10u << 14);
	trig_fini(r);
	free(r);
}

TEST(tcp_input_syn_sent_rst_and_bad_ack)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct ust_sockaddr_in sin;
	struct tseg s;
	struct tout o;
	int err = 0;
	size_t el = sizeof(err);

	trig_init(r);
	REQUIRE(ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o));
	r->iss = o.seq;
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(ttp(r->so)->t_inpcb->inp_lport);
	/* An ACK that does not fit our SYN: RST with SEQ=SEG.ACK. */
	s.seq = r->irs;
	s.ack = r->iss + 5;
	s.flags = TH_SYN | TH_ACK;
	tinject(r, &s);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.flags, TH_RST);
	CHECK_EQ(o.seq, r->iss + 5);
	CHECK_EQ(ttp(r->so)->t_state, TCPS_SYN_SENT);
	/* A RST without ACK is ignored; with the right ACK it refuses. */
	s.flags = TH_RST;
	s.ack = 0;
	tinject(r, &s);
	CHECK_EQ(ttp(r->so)->t_state, TCPS_SYN_SENT);
	s.flags = TH_RST | TH_ACK;
	s.ack = r->iss + 1;
	tinject(r, &s);
	CHECK(tnone(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNREFUSED);
	trig_fini(r);
	free(r);
}

TEST(tcp_input_simultaneous_open)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct ust_sockaddr_in sin;
	struct tcpcb *tp;
	struct tseg s;
	struct tout o;

	trig_init(r);
	REQUIRE(ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o));
	r->iss = o.seq;
	tp = ttp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->irs;
	s.flags = TH_SYN;
	s.win = 65535;
	memcpy(s.opt, opt_mss1460, 4);
	s.optlen = 4;
	tinject(r, &s);
	CHECK_EQ(tp->t_state, TCPS_SYN_RECEIVED);
	/* Our SYN again, now with the ACK of theirs. */
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.flags, TH_SYN | TH_ACK);
	CHECK_EQ(o.seq, r->iss);
	CHECK_EQ(o.ack, r->irs + 1);
	/* Their SYN-ACK completes it. */
	s.flags = TH_SYN | TH_ACK;
	s.ack = r->iss + 1;
	s.optlen = 0;
	tinject(r, &s);
	CHECK_EQ(tp->t_state, TCPS_ESTABLISHED);
	CHECK_EQ(tp->snd_una, r->iss + 1);
	/* The SYN in it was old: an ACK (FreeBSD's duplicate rule). */
	EXPECT_SEG(r, TH_ACK, 1, 1, -1);
	REQUIRE(ust_send(r->so, "0123456789", 10, 0) == 10);
	ipt_poll(&r->t);
	EXPECT_SEG(r, TH_ACK | TH_PUSH, 1, 1, -1);
	trig_fini(r);
	free(r);
}

/* RST in ESTABLISHED: exact (reset), in window (challenge ACK), outside
 * (dropped), and with insecure_rst any in-window RST resets. */
TEST(tcp_input_rst_established)
{
	struct trig *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tsend(r, 100, 1, TH_RST, 32767, NULL, 0); /* in window */
	EXPECT_SEG(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badrst_inwindow, 1);
	tsend(r, 0, 1, TH_RST, 32767, NULL, 0);      /* left of the window */
	tsend(r, 100000, 1, TH_RST, 32767, NULL, 0); /* right of it */
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_badrst, 2);
	CHECK_EQ(ttp(r->so)->t_state, TCPS_ESTABLISHED);
	tsend(r, 1, 1, TH_RST, 32767, NULL, 0); /* exact */
	CHECK(tnone(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	trig_fini(r);
	free(r);
}

TEST(tcp_input_rst_insecure)
{
	struct trig *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	trig_init(r);
	V(r->t.st, tcp_insecure_rst) = 1;
	REQUIRE(topen_active(r, 32767));
	tsend(r, 100, 1, TH_RST, 32767, NULL, 0);
	CHECK(tnone(r));
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	trig_fini(r);
	free(r);
}

/* RFC 5961 4: SYN in ESTABLISHED -> challenge ACK; insecure_syn and in
 * the window -> RST and ECONNRESET. */
TEST(tcp_input_syn_established)
{
	struct trig *r = calloc(1, sizeof(*r));
	int err = 0;
	size_t el = sizeof(err);

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tsend(r, 1, 0, TH_SYN, 32767, NULL, 0);
	EXPECT_SEG(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(ttp(r->so)->t_state, TCPS_ESTABLISHED);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_synchallenge, 1);
	V(r->t.st, tcp_insecure_syn) = 1;
	tsend(r, 1, 0, TH_SYN, 32767, NULL, 0);
	EXPECT_SEG(r, TH_RST | TH_ACK, 1, 1, 0);
	CHECK(ust_getsockopt(r->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &el) == 0);
	CHECK_EQ(err, UST_ECONNRESET);
	trig_fini(r);
	free(r);
}

TEST(tcp_input_ack_of_unsent_and_old_ack)
{
	struct trig *r = calloc(1, sizeof(*r));

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tsend(r, 1, 500, TH_ACK, 32767, NULL, 0);
	EXPECT_SEG(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvacktoomuch, 1);
	/* RFC 5961 5.2: far below SND.UNA - MAX.SND.WND. */
	tsend(r, 1, (uint32_t)-100000, TH_ACK, 32767, NULL, 0);
	EXPECT_SEG(r, TH_ACK, 1, 1, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_ackchallenge, 1);
	CHECK_EQ(ttp(r->so)->t_state, TCPS_ESTABLISHED);
	trig_fini(r);
	free(r);
}

/* Data: delayed ACK for one segment, at once for the second; duplicate,
 * partly duplicate and beyond-window data trimmed with an ACK. */
TEST(tcp_input_data_delack_and_trimming)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	uint8_t buf[8000];
	ptrdiff_t n;

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tp = ttp(r->so);
	tsend(r, 1, 1, TH_ACK, 32767, payload, 1000);
	CHECK(tnone(r));
	CHECK(tcp_timer_active(tp, TT_DELACK));
	tsend(r, 1001, 1, TH_ACK | TH_PUSH, 32767, payload + 1000, 1000);
	EXPECT_SEG(r, TH_ACK, 1, 2001, -1);
	/* Alone, the delayed ACK goes after delacktime (40 ms). */
	tsend(r, 2001, 1, TH_ACK, 32767, payload + 2000, 100);
	CHECK(tnone(r));
	ipt_advance(&r->t, 39 * IPT_MS);
	CHECK(tnone(r));
	ipt_advance(&r->t, 2 * IPT_MS);
	EXPECT_SEG(r, TH_ACK, 1, 2101, -1);
	/* A complete duplicate: ACK at once. */
	tsend(r, 1001, 1, TH_ACK, 32767, payload + 1000, 1000);
	EXPECT_SEG(r, TH_ACK, 1, 2101, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvduppack, 1);
	/* Partly duplicate: the new part is taken. */
	tsend(r, 2001, 1, TH_ACK, 32767, payload + 2000, 200);
	CHECK_EQ(tp->rcv_nxt, r->irs + 2201);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvpartduppack, 1);
	ipt_advance(&r->t, 50 * IPT_MS);
	EXPECT_SEG(r, TH_ACK, 1, 2201, -1);
	/* Entirely beyond the window: ACK, nothing taken. */
	tsend(r, 2201 + 200000, 1, TH_ACK, 32767, payload, 100);
	EXPECT_SEG(r, TH_ACK, 1, 2201, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvpackafterwin, 1);
	n = ust_recv(r->so, buf, sizeof(buf), 0);
	CHECK_EQ(n, 2200);
	CHECK_MEM(buf, payload, 2200);
	trig_fini(r);
	free(r);
}

/* Out of order: immediate duplicate ACKs, then one ACK for all. */
TEST(tcp_input_out_of_order)
{
	struct trig *r = calloc(1, sizeof(*r));
	uint8_t buf[4000];

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tsend(r, 1, 1, TH_ACK, 32767, payload, 99);
	CHECK(tnone(r));
	tsend(r, 200, 1, TH_ACK, 32767, payload + 199, 100);
	EXPECT_SEG(r, TH_ACK, 1, 100, -1);
	tsend(r, 400, 1, TH_ACK, 32767, payload + 399, 100);
	EXPECT_SEG(r, TH_ACK, 1, 100, -1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvoopack, 2);
	tsend(r, 100, 1, TH_ACK, 32767, payload + 99, 250);
	EXPECT_SEG(r, TH_ACK, 1, 350, -1);
	tsend(r, 1, 1, TH_ACK, 32767, payload, 799);
	EXPECT_SEG(r, TH_ACK, 1, 800, -1);
	CHECK_EQ(ust_recv(r->so, buf, sizeof(buf), 0), 799);
	CHECK_MEM(buf, payload, 799);
	trig_fini(r);
	free(r);
}

/* FIN in ESTABLISHED -> CLOSE_WAIT (ACK at once), close -> LAST_ACK,
 * the ACK of our FIN closes. */
TEST(tcp_input_fin_passive_close)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	uint8_t buf[10];

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tp = ttp(r->so);
	tsend(r, 1, 1, TH_ACK | TH_FIN, 32767, NULL, 0);
	EXPECT_SEG(r, TH_ACK, 1, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_CLOSE_WAIT);
	CHECK_EQ(ust_recv(r->so, buf, sizeof(buf), 0), 0);
	REQUIRE(ust_close(r->so) == 0);
	ipt_poll(&r->t);
	r->so = NULL;
	EXPECT_SEG(r, TH_FIN | TH_ACK, 1, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_LAST_ACK);
	{
		struct tseg s;

		memset(&s, 0, sizeof(s));
		s.dport = ntohs(tp->t_inpcb->inp_lport);
		s.seq = r->irs + 2;
		s.ack = r->iss + 2;
		s.flags = TH_ACK;
		s.win = 32767;
		tinject(r, &s);
		/* Gone: the same 4-tuple now gets a RST. */
		tinject(r, &s);
		REQUIRE(tnext(r, &(struct tout){ 0 }));
	}
	trig_fini(r);
	free(r);
}

/* shutdown: FIN_WAIT_1 -> (ACK) FIN_WAIT_2 -> (FIN) TIME_WAIT; there a
 * pure in-order ACK is ignored, others are ACKed, a RST ignored. */
TEST(tcp_input_fin_active_close_time_wait)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tp = ttp(r->so);
	REQUIRE(ust_shutdown(r->so, UST_SHUT_WR) == 0);
	ipt_poll(&r->t);
	EXPECT_SEG(r, TH_FIN | TH_ACK, 1, 1, -1);
	CHECK_EQ(tp->t_state, TCPS_FIN_WAIT_1);
	tsend(r, 1, 2, TH_ACK, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_FIN_WAIT_2);
	tsend(r, 1, 2, TH_ACK | TH_FIN, 32767, NULL, 0);
	EXPECT_SEG(r, TH_ACK, 2, 2, -1);
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	tsend(r, 2, 2, TH_ACK, 32767, NULL, 0); /* left edge: nothing */
	CHECK(tnone(r));
	tsend(r, 1, 2, TH_ACK, 32767, NULL, 0); /* old: ACK */
	EXPECT_SEG(r, TH_ACK, 2, 2, -1);
	tsend(r, 2, 2, TH_SYN, 32767, NULL, 0); /* SYN at the edge: dropped */
	CHECK(tnone(r));
	tsend(r, 2, 2, TH_RST, 32767, NULL, 0); /* RFC 1337 */
	CHECK(tnone(r));
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	trig_fini(r);
	free(r);
}

/* Simultaneous close: FIN_WAIT_1 + FIN -> CLOSING -> (ACK) TIME_WAIT. */
TEST(tcp_input_fin_simultaneous_close)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	trig_init(r);
	REQUIRE(topen_active(r, 32767));
	tp = ttp(r->so);
	REQUIRE(ust_shutdown(r->so, UST_SHUT_WR) == 0);
	ipt_poll(&r->t);
	EXPECT_SEG(r, TH_FIN | TH_ACK, 1, 1, -1);
	tsend(r, 1, 1, TH_ACK | TH_FIN, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_CLOSING);
	/* FreeBSD (rcv-syn-closing-*.pkt): "F. 1:1(0) ack 2". */
	EXPECT_SEG(r, TH_FIN | TH_ACK, 1, 2, -1);
	tsend(r, 2, 2, TH_ACK, 32767, NULL, 0);
	CHECK_EQ(tp->t_state, TCPS_TIME_WAIT);
	trig_fini(r);
	free(r);
}

/* Three duplicate ACKs: fast retransmit of SND.UNA; a partial ACK
 * retransmits the next hole; the full ACK ends recovery. */
TEST(tcp_input_fast_retransmit_newreno)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tout o;
	int i, n = 0;

	trig_init(r);
	REQUIRE(topen_active(r, 65535));
	tp = ttp(r->so);
	V(r->t.st, tcp_do_rfc3042) = 0;
	REQUIRE(ust_send(r->so, payload, 4 * 1460, 0) == 4 * 1460);
	ipt_poll(&r->t);
	while (tnext(r, &o))
		n++;
	REQUIRE(n >= 4);
	for (i = 0; i < 2; i++)
		tsend(r, 1, 1, TH_ACK, 65535, NULL, 0);
	CHECK(tnone(r));
	CHECK_EQ(tp->t_dupacks, 2);
	tsend(r, 1, 1, TH_ACK, 65535, NULL, 0);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.seq - r->iss, 1);
	CHECK_EQ(o.dlen, 1460);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	CHECK_EQ(tp->snd_recover, r->iss + 1 + 4 * 1460);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_fastretransmits, 1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvdupack, 3);
	/* Partial ACK of the first segment: the second goes again. */
	tsend(r, 1, 1 + 1460, TH_ACK, 65535, NULL, 0);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.seq - r->iss, 1 + 1460);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_newreno_partial, 1);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	/* Only the hole: the segments after it may be in the peer's
	 * reassembly queue, and sending them again wastes the window. */
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_sndrexmitpack, 2);
	/* The full ACK. */
	tsend(r, 1, 1 + 4 * 1460, TH_ACK, 65535, NULL, 0);
	CHECK(!IN_FASTRECOVERY(tp->t_flags));
	CHECK_EQ(tp->t_dupacks, 0);
	CHECK_EQ(tp->snd_una, r->iss + 1 + 4 * 1460);
	CHECK(!tcp_timer_active(tp, TT_REXMT));
	trig_fini(r);
	free(r);
}

/* A segment carrying timestamps as the peer sends them (RFC 7323 3). */
static void
tsend_ts(struct trig *r, uint32_t rseq, uint32_t rack, uint16_t flags, uint16_t win)
{
	struct tseg s;
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0 };

	memset(&s, 0, sizeof(s));
	s.dport = ntohs(ttp(r->so)->t_inpcb->inp_lport);
	s.seq = r->irs + rseq;
	s.ack = r->iss + rack;
	s.flags = flags;
	s.win = win;
	memcpy(s.opt, ts, sizeof(ts));
	s.optlen = sizeof(ts);
	tinject(r, &s);
}

/* With timestamps agreed every segment carries 12 bytes of options, so
 * a full segment holds t_maxseg - 12 bytes (FreeBSD tcp_fixed_maxseg()).
 * The one-segment window of a fast retransmit (RFC 5681 3.2 step 2) and
 * of a NewReno partial ACK (RFC 6582 3.2 step 5) must be that size:
 * t_maxseg bytes would send a full segment and a 12-byte runt after it,
 * each retransmission thereafter shifted by 12 bytes against the holes
 * (measured: 1.5 MB windows resent 150 MB for 5 MB of data). */
TEST(tcp_input_fast_retransmit_timestamps_one_segment)
{
	struct trig *r = calloc(1, sizeof(*r));
	static const uint8_t synopt[] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0 };
	struct ust_sockaddr_in sin;
	struct tcpcb *tp;
	struct tseg s;
	struct tout o;
	int i, n = 0;

	trig_init(r);
	REQUIRE(ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) == 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o) && o.flags == TH_SYN);
	r->iss = o.seq;
	tp = ttp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->irs;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = 65535;
	memcpy(s.opt, synopt, sizeof(synopt));
	s.optlen = sizeof(synopt);
	tinject(r, &s);
	REQUIRE(tnext(r, &o) && o.flags == TH_ACK);
	REQUIRE(tp->t_state == TCPS_ESTABLISHED && (tp->t_flags & TF_RCVD_TSTMP));
	CHECK_EQ(tp->t_maxseg, 1460);
	V(r->t.st, tcp_do_rfc3042) = 0;
	REQUIRE(ust_send(r->so, payload, 4 * 1448, 0) == 4 * 1448);
	ipt_poll(&r->t);
	while (tnext(r, &o)) {
		CHECK_EQ(o.dlen, 1448);
		n++;
	}
	REQUIRE(n == 4);
	for (i = 0; i < 3; i++)
		tsend_ts(r, 1, 1, TH_ACK, 65535);
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.seq - r->iss, 1);
	CHECK_EQ(o.dlen, 1448);
	CHECK(tnone(r));
	/* Partial ACK of the first segment: exactly the second again. */
	tsend_ts(r, 1, 1 + 1448, TH_ACK, 65535);
	REQUIRE(tnext(r, &o));
	CHECK_EQ(o.seq - r->iss, 1 + 1448);
	CHECK_EQ(o.dlen, 1448);
	CHECK(tnone(r));
	CHECK_EQ(r->t.st->st_tcpstat.tcps_sndrexmitpack, 2);
	tsend_ts(r, 1, 1 + 4 * 1448, TH_ACK, 65535);
	CHECK(!IN_FASTRECOVERY(tp->t_flags));
	trig_fini(r);
	free(r);
}

/* RTT sampling on an ACK of timed data (Karn: only fresh data). */
TEST(tcp_input_rtt_sample_on_ack)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tout o;

	trig_init(r);
	REQUIRE(topen_active(r, 65535));
	tp = ttp(r->so);
	REQUIRE(ust_send(r->so, payload, 100, 0) == 100);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o));
	if (tp->t_rtttime != 0) {
		uint32_t before = tp->t_rttupdated;

		ipt_advance(&r->t, 50 * IPT_MS);
		tsend(r, 1, 101, TH_ACK, 65535, NULL, 0);
		CHECK_EQ(tp->t_rttupdated, before + 1);
		CHECK_EQ(tp->t_rtttime, 0);
	}
	CHECK_EQ(tp->snd_una, r->iss + 101);
	CHECK_EQ(SO_FROM_UST(r->so)->so_snd.sb_cc, 0);
	trig_fini(r);
	free(r);
}

/* ---------------------------------------------------------------------
 * RFC 7323: PAWS, RTT from timestamps, segments without timestamps.
 * ------------------------------------------------------------------- */

/* An active open whose SYN-ACK carries <mss 1460, TS tsval 0>: r->so is
 * ESTABLISHED with timestamps agreed (RFC 7323 3.2). */
static struct tcpcb *
topen_ts(struct trig *r, uint32_t tsval)
{
	uint8_t synopt[] = { 2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct ust_sockaddr_in sin;
	struct tcpcb *tp;
	struct tseg s;
	struct tout o;

	tl_put32(synopt + 8, tsval);
	if (ust_socket(r->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->so) != 0)
		return (NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(r->so, &sin);
	ipt_poll(&r->t);
	if (!tnext(r, &o) || o.flags != TH_SYN)
		return (NULL);
	r->iss = o.seq;
	tp = ttp(r->so);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(tp->t_inpcb->inp_lport);
	s.seq = r->irs;
	s.ack = r->iss + 1;
	s.flags = TH_SYN | TH_ACK;
	s.win = 65535;
	memcpy(s.opt, synopt, sizeof(synopt));
	s.optlen = sizeof(synopt);
	tinject(r, &s);
	if (!tnext(r, &o) || o.flags != TH_ACK || tp->t_state != TCPS_ESTABLISHED ||
	    !(tp->t_flags & TF_RCVD_TSTMP))
		return (NULL);
	return (tp);
}

/* A segment with <NOP, NOP, TS tsval tsecr>, seq/ack relative. */
static void
tsend_tsv(struct trig *r, uint32_t rseq, uint32_t rack, uint16_t flags, uint32_t tsval,
    uint32_t tsecr, const uint8_t *data, unsigned dlen)
{
	struct tseg s;
	uint8_t ts[12] = { 1, 1, 8, 10 };

	tl_put32(ts + 4, tsval);
	tl_put32(ts + 8, tsecr);
	memset(&s, 0, sizeof(s));
	s.dport = ntohs(ttp(r->so)->t_inpcb->inp_lport);
	s.seq = r->irs + rseq;
	s.ack = r->iss + rack;
	s.flags = flags;
	s.win = 65535;
	s.data = data;
	s.dlen = dlen;
	memcpy(s.opt, ts, sizeof(ts));
	s.optlen = sizeof(ts);
	tinject(r, &s);
}

/* The TSval of a segment we sent (0 when it has none). */
static uint32_t
tout_tsval(const struct tout *o)
{
	unsigned i = 0;

	while (i < o->optlen) {
		if (o->opt[i] == 0)
			break;
		if (o->opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= o->optlen || o->opt[i + 1] < 2)
			break;
		if (o->opt[i] == 8 && o->opt[i + 1] == 10 && i + 10 <= o->optlen)
			return (tl_get32(o->opt + i + 2));
		i += o->opt[i + 1];
	}
	return (0);
}

/* RFC 7323 5.3 R1: a TSval older than ts_recent marks an old duplicate:
 * dropped, acknowledged, counted.  A RST is exempt (5.3, 5.2). */
TEST(tcp_input_paws_drop_and_rst_exempt)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tout o;

	trig_init(r);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	CHECK_EQ(tp->ts_recent, 100);
	/* In order, a newer TSval: accepted, ts_recent follows (4.3). */
	tsend_tsv(r, 1, 1, TH_ACK | TH_PUSH, 200, 0, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->irs + 11);
	CHECK_EQ(tp->ts_recent, 200);
	while (tnext(r, &o))
		;
	/* The next bytes with an older TSval: PAWS drops them with an ACK. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 150, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK_EQ(tp->rcv_nxt, r->irs + 11);
	CHECK_EQ(tp->ts_recent, 200);
	CHECK_EQ(SO_FROM_UST(r->so)->so_rcv.sb_cc, 10);
	EXPECT_SEG(r, TH_ACK, 1, 11, -1);
	CHECK(tnone(r));
	/* A newer TSval is accepted again. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 201, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK_EQ(tp->rcv_nxt, r->irs + 21);
	ipt_advance(&r->t, 500 * IPT_MS); /* the delayed ACK goes out */
	while (tnext(r, &o))
		;
	REQUIRE(tp->last_ack_sent == r->irs + 21);
	/* A RST with an old TSval is not subject to PAWS. */
	tsend_tsv(r, 21, 0, TH_RST, 5, 0, NULL, 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 1);
	CHECK(ttp(r->so) == NULL || ttp(r->so)->t_state == TCPS_CLOSED);
	trig_fini(r);
	free(r);
}

/* RFC 7323 5.5: ts_recent idle for more than 24 days no longer guards. */
TEST(tcp_input_paws_idle_24_days)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;

	trig_init(r);
	tp = topen_ts(r, 1000);
	REQUIRE(tp != NULL);
	tp->ts_recent_age -= 25ull * 24 * 3600 * 1000000000ull;
	tsend_tsv(r, 1, 1, TH_ACK | TH_PUSH, 10, 0, payload, 10);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_pawsdrop, 0);
	CHECK_EQ(tp->rcv_nxt, r->irs + 11);
	CHECK_EQ(tp->ts_recent, 10);
	trig_fini(r);
	free(r);
}

/* RFC 7323 4.2: the RTT sample is now - TSecr, not the timed segment. */
TEST(tcp_input_rtt_from_tsecr)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tout o;
	uint32_t tsv, before;

	trig_init(r);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	REQUIRE(ust_send(r->so, payload, 100, 0) == 100);
	ipt_poll(&r->t);
	REQUIRE(tnext(r, &o));
	REQUIRE(o.dlen == 100);
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
	REQUIRE(tnext(r, &o));
	tsv = tout_tsval(&o);
	tp->t_rtttime = 0; /* as after a retransmission (Karn) */
	ipt_advance(&r->t, 30 * IPT_MS);
	tsend_tsv(r, 1, 201, TH_ACK, 102, tsv, NULL, 0);
	CHECK_EQ(tp->t_rttupdated, before + 2);
	/* RFC 6298 2.3: RTTVAR = 3/4 35000 + 1/4 |70000 - 30000|. */
	CHECK_EQ(tp->t_rttvar, (3 * 35000 + 40000) / 4);
	CHECK_EQ(tp->t_srtt, (7 * 70000 + 30000) / 8);
	trig_fini(r);
	free(r);
}

/* RFC 7323 3.2: a segment without timestamps on a connection that
 * agreed them is dropped only when tolerate_missing_ts is 0. */
TEST(tcp_input_missing_ts_knob)
{
	struct trig *r = calloc(1, sizeof(*r));
	struct tcpcb *tp;
	struct tout o;

	trig_init(r);
	tp = topen_ts(r, 100);
	REQUIRE(tp != NULL);
	CHECK_EQ(V(r->t.st, tcp_tolerate_missing_ts), 1);
	tsend(r, 1, 1, TH_ACK | TH_PUSH, 65535, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->irs + 11);
	while (tnext(r, &o))
		;
	V(r->t.st, tcp_tolerate_missing_ts) = 0;
	tsend(r, 11, 1, TH_ACK | TH_PUSH, 65535, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->irs + 11);
	CHECK_EQ(SO_FROM_UST(r->so)->so_rcv.sb_cc, 10);
	CHECK(tnone(r));
	/* With timestamps the same bytes are taken. */
	tsend_tsv(r, 11, 1, TH_ACK | TH_PUSH, 101, 0, payload, 10);
	CHECK_EQ(tp->rcv_nxt, r->irs + 21);
	while (tnext(r, &o))
		;
	/* A RST without timestamps is still heard. */
	tsend(r, 21, 0, TH_RST, 0, NULL, 0);
	CHECK(ttp(r->so) == NULL || ttp(r->so)->t_state == TCPS_CLOSED);
	trig_fini(r);
	free(r);
}
