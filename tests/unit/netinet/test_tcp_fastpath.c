/*
 * test_tcp_fastpath.c - header prediction (tcp_input_predict, issue 19):
 * the pure-ACK and in-order-data fast paths are taken on bulk transfers
 * and request/response, every precondition sends the segment down the
 * slow path, the connection ends in the same state and the same segments
 * leave with net.inet.tcp.header_prediction at 0 and at 1 (scripted peer,
 * and seeded faulty-pipe transfers whose every frame and its time is
 * hashed), LRO frames count their wire segments, and the broadcast verdict
 * a connection caches is dropped when st_route_gen moves.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack_stats.h>

#include "bulkrig.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/ip.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

#define HP "net.inet.tcp.header_prediction"

static uint8_t fp_payload[8 * 1460];

static void
fp_fill(void)
{
	unsigned i;

	for (i = 0; i < sizeof(fp_payload); i++)
		fp_payload[i] = (uint8_t)(i * 7 + 3);
}

/* Needs counters, timestamps and SACK: one option per #if, so that
 * tests/unit/CMakeLists.txt disables the cases where one is compiled out. */
#if UST_STATS
#if UST_TCP_RFC1323
#if UST_TCP_SACK
/* ---------------------------------------------------------------------
 * The scripted peer: one run of every precondition, with the knob at 0
 * or 1.
 * ------------------------------------------------------------------- */

struct fp_run {
	struct tt r;
	struct tcpcb *tp;
	uint32_t tsval;  /* the peer's next TSval */
	uint32_t pseq;   /* the peer's next byte, relative (1: first) */
	uint64_t hash;   /* of every segment we sent */
	int nseg;        /* segments we sent */
	uint64_t pa, pd; /* tcps_predack / tcps_preddat last looked at */
	int hp;
};

/* What must match between the two runs. */
struct fp_snap {
	uint32_t rcv_nxt, rcv_up, rcv_wnd, rcv_adv, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1,
	    snd_wl2, max_sndwnd, ts_recent, snd_cwnd, snd_ssthresh, snd_fack, t_dupacks, t_rxtshift,
	    t_srtt, t_rttvar, t_rxtcur, flags;
	uint64_t timers[TT_N], rcvtime;
	struct ust_tcp_info ti;
	struct ust_tcpstat ts;
	uint64_t hash;
	int nseg;
	uint8_t rcvd[4 * 8 * 1460];
	uint32_t nrcvd;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return (h);
}

/* Reads and hashes what we sent (the stack polled first). */
static void
fp_out(struct fp_run *f)
{
	struct tt_seg o;

	while (tt_next(&f->r, &o)) {
		f->hash = fnv(f->hash, &o.flags, sizeof(o.flags));
		f->hash = fnv(f->hash, &o.raw_seq, sizeof(o.raw_seq));
		f->hash = fnv(f->hash, &o.raw_ack, sizeof(o.raw_ack));
		f->hash = fnv(f->hash, &o.win, sizeof(o.win));
		f->hash = fnv(f->hash, &o.len, sizeof(o.len));
		f->hash = fnv(f->hash, o.opt, (size_t)o.optlen);
		f->hash = fnv(f->hash, o.data, o.len);
		f->nseg++;
	}
}

/* A segment from the peer: <nop,nop,TS tsval ecr> (+ SACK blocks), seq
 * and ack relative, our current TSval echoed. */
static void
fp_in(struct fp_run *f, uint16_t flags, uint32_t rseq, uint32_t rack, uint16_t win, uint32_t tsval,
    const uint32_t (*sack)[2], int nsack, const void *data, unsigned dlen)
{
	uint8_t opt[40];
	size_t n;

	n = tl_opt_ts(opt, tsval, tcp_ts_getticks(f->r.t.st) + f->tp->ts_offset);
	if (nsack > 0)
		n += tl_opt_sack(opt + n, sack, nsack);
	tt_in_raw(&f->r, flags, rseq, rack, win, opt, n, data, dlen);
	fp_out(f);
}

/* Peer data in order from pseq, ACKing rack. */
static void
fp_data(struct fp_run *f, uint16_t flags, uint32_t rack, uint16_t win, unsigned dlen)
{
	fp_in(f, flags, f->pseq, rack, win, f->tsval++, NULL, 0, fp_payload, dlen);
	f->pseq += dlen;
}

/* The prediction counters moved by exactly (a, d) since the last look
 * (0, 0 with the knob off). */
#define FP_MOVED(f, a, d)                                                            \
	do {                                                                         \
		const struct ust_tcpstat *_s = &(f)->r.t.st->st_tcpstat;             \
		CHECK_EQ(_s->tcps_predack - (f)->pa, (uint64_t)((f)->hp ? (a) : 0)); \
		CHECK_EQ(_s->tcps_preddat - (f)->pd, (uint64_t)((f)->hp ? (d) : 0)); \
		(f)->pa = _s->tcps_predack;                                          \
		(f)->pd = _s->tcps_preddat;                                          \
	} while (0)

static void
fp_open(struct fp_run *f, int hp, int ecn)
{
	/* <mss 1460,nop,nop,sackOK,nop,nop,TS,nop,wscale 0> */
	uint8_t synopt[24] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2 };
	struct tt_seg o;
	size_t n;

	memset(f, 0, sizeof(*f));
	f->hp = hp;
	f->hash = 0xcbf29ce484222325ull;
	f->tsval = 1000;
	f->pseq = 1;
	tt_init(&f->r, 5);
	tt_sysctl(&f->r, HP, hp);
	if (ecn)
		tt_sysctl(&f->r, "net.inet.tcp.ecn.enable", 1);
	n = 8 + tl_opt_ts(synopt + 8, f->tsval++, 0);
	REQUIRE(n + 4 <= sizeof(synopt));
	synopt[n++] = 1;
	synopt[n++] = 3;
	synopt[n++] = 3;
	synopt[n++] = 0;
	/* (tt_connect wants a plain SYN; an ECN-setup one has ECE|CWR.) */
	REQUIRE(tt_connect(&f->r, &o) || (ecn && o.flags == (TH_SYN | TH_ECE | TH_CWR)));
	f->tp = tt_sotp(f->r.so);
	tt_in_raw(&f->r, TH_SYN | TH_ACK | (ecn ? TH_ECE : 0), 0, 1, 65535, synopt, n, NULL, 0);
	fp_out(f);
	REQUIRE(f->tp->t_state == TCPS_ESTABLISHED);
	REQUIRE(f->tp->t_flags & TF_RCVD_TSTMP);
	REQUIRE(f->tp->t_flags & TF_SACK_PERMIT);
	if (ecn)
		REQUIRE(f->tp->t_flags & TF_ECN_PERMIT);
}

static void
fp_snap(struct fp_run *f, struct fp_snap *s)
{
	const struct tcpcb *tp = f->tp;
	ptrdiff_t n;
	int i;

	fp_out(f);
	memset(s, 0, sizeof(*s));
	s->rcv_nxt = tp->rcv_nxt;
	s->rcv_up = tp->rcv_up;
	s->rcv_wnd = tp->rcv_wnd;
	s->rcv_adv = tp->rcv_adv;
	s->snd_una = tp->snd_una;
	s->snd_nxt = tp->snd_nxt;
	s->snd_max = tp->snd_max;
	s->snd_wnd = tp->snd_wnd;
	s->snd_wl1 = tp->snd_wl1;
	s->snd_wl2 = tp->snd_wl2;
	s->max_sndwnd = tp->max_sndwnd;
	s->ts_recent = tp->ts_recent;
	s->snd_cwnd = tp->snd_cwnd;
	s->snd_ssthresh = tp->snd_ssthresh;
	s->snd_fack = tp->snd_fack;
	s->t_dupacks = tp->t_dupacks;
	s->t_rxtshift = tp->t_rxtshift;
	s->t_srtt = tp->t_srtt;
	s->t_rttvar = tp->t_rttvar;
	s->t_rxtcur = tp->t_rxtcur;
	s->flags = tp->t_flags;
	for (i = 0; i < TT_N; i++)
		s->timers[i] = tp->t_timers[i];
	s->rcvtime = tp->t_rcvtime;
	CHECK_EQ(tt_info(f->r.so, &s->ti), 0);
	s->ts = f->r.t.st->st_tcpstat;
	s->ts.tcps_predack = 0;
	s->ts.tcps_preddat = 0;
	s->hash = f->hash;
	s->nseg = f->nseg;
	while ((n = ust_recv(f->r.so, s->rcvd + s->nrcvd, sizeof(s->rcvd) - s->nrcvd, 0)) > 0)
		s->nrcvd += (uint32_t)n;
}

/*
 * The script: fast-path segments between one of each precondition.  With
 * check, the prediction counters are checked after every step.  Ends with
 * a snapshot (before the close).
 */
static void
fp_script(int hp, struct fp_snap *s)
{
	struct fp_run *f = calloc(1, sizeof(*f));
	uint32_t sack[1][2];
	uint32_t una;
	int i;

	REQUIRE(f != NULL);
	fp_open(f, hp, 0);
	FP_MOVED(f, 0, 0);

	/* In-order data: the second full segment is ACKed at once. */
	fp_data(f, TH_ACK, 1, 65535, 1000);
	FP_MOVED(f, 0, 1);
	fp_data(f, TH_ACK | TH_PUSH, 1, 65535, 1460);
	FP_MOVED(f, 0, 1);

	/* Out of order, then the gap filled: reassembly, slow. */
	fp_in(f, TH_ACK, f->pseq + 500, 1, 65535, f->tsval++, NULL, 0, fp_payload, 500);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK, 1, 65535, 500);
	FP_MOVED(f, 0, 0);
	f->pseq += 500;
	/* Back in order: fast again. */
	fp_data(f, TH_ACK, 1, 65535, 700);
	FP_MOVED(f, 0, 1);

	/* The window changes: slow (a window update). */
	fp_data(f, TH_ACK, 1, 60000, 300);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK, 1, 60000, 300);
	FP_MOVED(f, 0, 1);

	/* URG, ECE, CWR, FIN-less SYN (challenge ACK), RST out of window. */
	fp_data(f, TH_ACK | TH_URG, 1, 60000, 100);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK | TH_ECE, 1, 60000, 100);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK | TH_CWR, 1, 60000, 100);
	FP_MOVED(f, 0, 0);
	fp_in(f, TH_SYN, f->pseq, 0, 60000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	fp_in(f, TH_RST, f->pseq + 1000000, 0, 60000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	REQUIRE(f->tp->t_state == TCPS_ESTABLISHED);

	/* PAWS: a TSval older than ts_recent is dropped (and ACKed). */
	fp_in(f, TH_ACK, f->pseq, 1, 60000, f->tsval - 100, NULL, 0, fp_payload, 200);
	FP_MOVED(f, 0, 0);
	/* No timestamp at all once agreed: slow (tolerated). */
	tt_in_raw(&f->r, TH_ACK, f->pseq, 1, 60000, NULL, 0, fp_payload, 200);
	fp_out(f);
	FP_MOVED(f, 0, 0);
	f->pseq += 200;
	fp_data(f, TH_ACK, 1, 60000, 400);
	FP_MOVED(f, 0, 1);

	/* Our data: pure ACKs of it are predicted. */
	REQUIRE(ust_send(f->r.so, fp_payload, 6 * 1448, 0) == 6 * 1448);
	ipt_poll(&f->r.t);
	fp_out(f);
	una = 1;
	ipt_advance(&f->r.t, 5 * IPT_MS);
	fp_in(f, TH_ACK, f->pseq, una + 1448, 60000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 1, 0);
	una += 1448;
	/* A pure ACK that also changes the window: slow. */
	fp_in(f, TH_ACK, f->pseq, una + 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	una += 1448;
	/* Data that ACKs new data: neither path. */
	fp_data(f, TH_ACK, una + 100, 50000, 100);
	FP_MOVED(f, 0, 0);
	una += 100;
	/* A duplicate ACK (nothing new): slow. */
	fp_in(f, TH_ACK, f->pseq, una, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	/* SACK blocks, then the scoreboard they left: slow. */
	sack[0][0] = f->tp->iss + una + 2000;
	sack[0][1] = f->tp->iss + una + 3000;
	fp_in(f, TH_ACK, f->pseq, una + 100, 50000, f->tsval++, sack, 1, NULL, 0);
	FP_MOVED(f, 0, 0);
	una += 100;
	fp_in(f, TH_ACK, f->pseq, una + 100, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	una += 100;
	/* Three duplicates: fast retransmit and recovery; ACKs in recovery
	 * stay slow. */
	for (i = 0; i < 3; i++)
		fp_in(f, TH_ACK, f->pseq, una, 50000, f->tsval++, sack, 1, NULL, 0);
	FP_MOVED(f, 0, 0);
	fp_in(f, TH_ACK, f->pseq, una + 500, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	una += 500;
	/* Everything acknowledged: out of recovery. */
	fp_in(f, TH_ACK, f->pseq, 1 + 6 * 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	una = 1 + 6 * 1448;
	REQUIRE(!IN_RECOVERY(f->tp->t_flags));
	REQUIRE(f->tp->snd_holes == NULL);

	/* A retransmission timeout: snd_nxt < snd_max, an ACK then is slow. */
	REQUIRE(ust_send(f->r.so, fp_payload, 3 * 1448, 0) == 3 * 1448);
	ipt_poll(&f->r.t);
	fp_out(f);
	ipt_advance(&f->r.t, 2000 * IPT_MS);
	fp_out(f);
	REQUIRE(SEQ_LT(f->tp->snd_nxt, f->tp->snd_max));
	fp_in(f, TH_ACK, f->pseq, una + 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	una += 1448;
	ipt_advance(&f->r.t, 10 * IPT_MS);
	fp_out(f);
	/* Go-back-N has caught up (snd_nxt == snd_max): predicted again. */
	i = f->tp->snd_nxt == f->tp->snd_max;
	fp_in(f, TH_ACK, f->pseq, 1 + 9 * 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	una = 1 + 9 * 1448;
	FP_MOVED(f, i, 0);
	/* A fresh send: its ACK is predicted again. */
	REQUIRE(ust_send(f->r.so, fp_payload, 2 * 1448, 0) == 2 * 1448);
	ipt_poll(&f->r.t);
	fp_out(f);
	fp_in(f, TH_ACK, f->pseq, una + 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 1, 0);
	una += 1448;
	fp_in(f, TH_ACK, f->pseq, una + 1448, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 1, 0);
	una += 1448;

	/* A zero window: slow; and the opening again. */
	fp_in(f, TH_ACK, f->pseq, una, 0, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK, una, 0, 100);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK, una, 50000, 100);
	FP_MOVED(f, 0, 0);
	fp_data(f, TH_ACK, una, 50000, 100);
	FP_MOVED(f, 0, 1);

	/* The receive buffer full (nobody reads): the segment that does not
	 * fit is slow (trimmed), the ones before fast. */
	{
		struct socket *so = SO_FROM_UST(f->r.so);
		int fast = 0, slow = 0;

		while (sbspace(&so->so_rcv) > 0 && fast + slow < 200) {
			long space = sbspace(&so->so_rcv);

			fp_data(f, TH_ACK, una, 50000, 1448);
			if (space >= 1448) {
				fast++;
				FP_MOVED(f, 0, 1);
			} else {
				slow++;
				FP_MOVED(f, 0, 0);
				f->pseq = f->tp->rcv_nxt - f->tp->irs;
			}
		}
		CHECK(fast > 0);
		CHECK_EQ(slow, 1);
		fp_data(f, TH_ACK, una, 50000, 100); /* a zero-window probe */
		FP_MOVED(f, 0, 0);
		/* What was taken of the last two (the window we advertised
		 * may exceed the buffer's space). */
		f->pseq = f->tp->rcv_nxt - f->tp->irs;
	}
	fp_snap(f, s);
	/* What the application reads then arrives in order again. */
	fp_data(f, TH_ACK, una, 50000, 1000);
	FP_MOVED(f, 0, 1);
	/* The FIN: slow. */
	fp_in(f, TH_ACK | TH_FIN, f->pseq, una, 50000, f->tsval++, NULL, 0, NULL, 0);
	FP_MOVED(f, 0, 0);
	CHECK_EQ(f->tp->t_state, TCPS_CLOSE_WAIT);
	tt_fini(&f->r);
	free(f);
}

/* Every precondition falls to the slow path; the rest is predicted. */
TEST(fastpath_preconditions_fall_to_slow_path)
{
	struct fp_snap *s = calloc(1, sizeof(*s));

	REQUIRE(s != NULL);
	fp_fill();
	fp_script(1, s);
	free(s);
}

/* The same script with the knob at 0 and 1: the same segments out, the
 * same bytes delivered, the same tcpcb, TCP_INFO and counters. */
TEST(fastpath_state_equals_slow_path)
{
	struct fp_snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	REQUIRE(a != NULL && b != NULL);
	fp_fill();
	fp_script(0, a);
	fp_script(1, b);
	CHECK_EQ(a->nseg, b->nseg);
	CHECK_EQ(a->hash, b->hash);
	CHECK_EQ(a->rcv_nxt, b->rcv_nxt);
	CHECK_EQ(a->rcv_up, b->rcv_up);
	CHECK_EQ(a->rcv_wnd, b->rcv_wnd);
	CHECK_EQ(a->rcv_adv, b->rcv_adv);
	CHECK_EQ(a->snd_una, b->snd_una);
	CHECK_EQ(a->snd_nxt, b->snd_nxt);
	CHECK_EQ(a->snd_max, b->snd_max);
	CHECK_EQ(a->snd_wnd, b->snd_wnd);
	CHECK_EQ(a->snd_wl1, b->snd_wl1);
	CHECK_EQ(a->snd_wl2, b->snd_wl2);
	CHECK_EQ(a->max_sndwnd, b->max_sndwnd);
	CHECK_EQ(a->ts_recent, b->ts_recent);
	CHECK_EQ(a->snd_cwnd, b->snd_cwnd);
	CHECK_EQ(a->snd_ssthresh, b->snd_ssthresh);
	CHECK_EQ(a->snd_fack, b->snd_fack);
	CHECK_EQ(a->t_dupacks, b->t_dupacks);
	CHECK_EQ(a->t_rxtshift, b->t_rxtshift);
	CHECK_EQ(a->t_srtt, b->t_srtt);
	CHECK_EQ(a->t_rttvar, b->t_rttvar);
	CHECK_EQ(a->t_rxtcur, b->t_rxtcur);
	CHECK_EQ(a->flags, b->flags);
	CHECK_EQ(a->rcvtime, b->rcvtime);
	CHECK(memcmp(a->timers, b->timers, sizeof(a->timers)) == 0);
	CHECK(memcmp(&a->ti, &b->ti, sizeof(a->ti)) == 0);
	CHECK(memcmp(&a->ts, &b->ts, sizeof(a->ts)) == 0);
	CHECK_EQ(a->nrcvd, b->nrcvd);
	CHECK(a->nrcvd > 10000);
	CHECK(memcmp(a->rcvd, b->rcvd, a->nrcvd) == 0);
	free(a);
	free(b);
}

#if UST_TCP_ECN
/* ECN: ECT-marked segments are predicted and counted as on the slow
 * path; a CE mark is not (it needs ECE on an immediate ACK). */
TEST(fastpath_ecn_counts_and_ce_is_slow)
{
	struct fp_run *f = calloc(1, sizeof(*f));
	struct tt_seg o;

	REQUIRE(f != NULL);
	fp_fill();
	fp_open(f, 1, 1);
	f->r.in_tos = IPTOS_ECN_ECT0;
	fp_data(f, TH_ACK, 1, 65535, 500);
	FP_MOVED(f, 0, 1);
	CHECK_EQ(f->r.t.st->st_tcpstat.tcps_ecn_ect0, 1);
	f->r.in_tos = IPTOS_ECN_CE;
	fp_in(f, TH_ACK, f->pseq, 1, 65535, f->tsval++, NULL, 0, fp_payload, 500);
	FP_MOVED(f, 0, 0);
	f->pseq += 500;
	CHECK_EQ(f->r.t.st->st_tcpstat.tcps_ecn_ce, 1);
	CHECK(f->tp->t_flags & TF_ECN_SND_ECE);
	(void)o;
	tt_fini(&f->r);
	free(f);
}
#endif

/* An LRO frame standing for 3 wire segments: tcps_rcvtotal and
 * tcps_rcvpack count 3 on either path, and (larger than t_maxseg) it is
 * acknowledged at once. */
static int
fp_lro_hook(void *arg, struct ust_if *ifp, const struct ust_mbuf *um)
{
	struct mbuf *m = (struct mbuf *)(uintptr_t)um;

	(void)ifp;
	if (*(int *)arg && (m->m_flags & M_PKTHDR))
		m->m_pkthdr.lro_nsegs = 3;
	return (0);
}

TEST(fastpath_lro_frame_counts_its_segments)
{
	int hp;

	fp_fill();
	for (hp = 0; hp < 2; hp++) {
		struct fp_run *f = calloc(1, sizeof(*f));
		struct ust_tcpstat *ts;
		uint64_t tot, pack;
		struct tt_seg o;
		int on = 0;

		REQUIRE(f != NULL);
		fp_open(f, hp, 0);
		ts = &f->r.t.st->st_tcpstat;
		f->tp->t_maxseg = 500; /* so that 1200 bytes are more than one */
		ust_if_set_input_hook(f->r.t.ifp, fp_lro_hook, &on);
		on = 1;
		tot = ts->tcps_rcvtotal;
		pack = ts->tcps_rcvpack;
		fp_in(f, TH_ACK, f->pseq, 1, 65535, f->tsval++, NULL, 0, fp_payload, 1200);
		f->pseq += 1200;
		on = 0;
		CHECK_EQ(ts->tcps_rcvtotal - tot, 3);
		CHECK_EQ(ts->tcps_rcvpack - pack, 3);
		FP_MOVED(f, 0, 1);
		/* Acknowledged at once (the fp_in above read it). */
		CHECK_EQ(f->nseg, 2);
		CHECK(!tcp_timer_active(f->tp, TT_DELACK));
		CHECK_EQ(f->tp->rcv_nxt, f->tp->irs + f->pseq);
		(void)o;
		ust_if_set_input_hook(f->r.t.ifp, NULL, NULL);
		tt_fini(&f->r);
		free(f);
	}
}
#endif /* UST_TCP_SACK */
#endif /* UST_TCP_RFC1323 */
#endif /* UST_STATS */

/* ---------------------------------------------------------------------
 * Lazy timers.
 * ------------------------------------------------------------------- */

/* Segments no longer re-arm a running keepalive; it still probes an
 * idle time after the last segment, and TCP_KEEPIDLE re-arms it. */
TEST(fastpath_keepalive_lazy_but_on_time)
{
	struct tt o;
	struct tcpcb *tp;
	struct tt_seg s;
	uint64_t armed, t_last;
	int i;

	fp_fill();
	tt_init(&o, 3);
	tt_sysctl(&o, "net.inet.tcp.keepidle", 10000);
	tt_sysctl(&o, "net.inet.tcp.keepintvl", 1000);
	REQUIRE(tt_established_active(&o));
	tp = tt_tp(&o);
	armed = tp->t_timers[TT_KEEP];
	REQUIRE(armed != 0);
	for (i = 0; i < 5; i++) {
		ipt_advance(&o.t, 1000 * IPT_MS);
		tt_peer(&o, TH_ACK, (uint32_t)i * 10, 0, 32767, fp_payload, 10);
		tt_drain(&o);
		/* Left alone (no callout touch per segment). */
		CHECK_EQ(tp->t_timers[TT_KEEP], armed);
	}
	t_last = tp->t_rcvtime;
	ipt_advance(&o.t, 100 * IPT_MS); /* the delayed ACK */
	tt_drain(&o);
	/* It fires early, finds traffic, waits for the rest: the probe goes
	 * keepidle after the last segment, not before. */
	ipt_advance(&o.t, (armed - ust_vclock_now(o.t.vc)) + IPT_MS);
	CHECK(tt_none(&o));
	CHECK_EQ(tp->t_timers[TT_KEEP], t_last + 10000 * IPT_MS);
	ipt_advance(&o.t, t_last + 10000 * IPT_MS - ust_vclock_now(o.t.vc) - IPT_MS);
	CHECK(tt_none(&o));
	ipt_advance(&o.t, 2 * IPT_MS);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.flags, TH_ACK);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(s.raw_seq, tp->snd_una - 1);
#if UST_STATS
	CHECK_EQ(o.t.st->st_tcpstat.tcps_keepprobe, 1);
#endif
	/* TCP_KEEPIDLE re-arms the running timer at once. */
	REQUIRE(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 100) == 0);
	CHECK_EQ(tp->t_timers[TT_KEEP], ust_vclock_now(o.t.vc) + 100000 * IPT_MS);
	/* A lower net.inet.tcp.keepidle pulls a later deadline in on the next
	 * segment (the socket's own idle time cleared first). */
	tp->t_keepidle = 0;
	tt_sysctl(&o, "net.inet.tcp.keepidle", 5000);
	tt_peer(&o, TH_ACK, 50, 0, 32767, fp_payload, 10);
	tt_drain(&o);
	CHECK_EQ(tp->t_timers[TT_KEEP], tp->t_rcvtime + 5000 * IPT_MS);
	tt_fini(&o);
}

/* A deadline that moves later does not touch a pending callout: it fires
 * early, nothing is due, and it goes on to the real deadline. */
TEST(fastpath_timer_rearm_lazy)
{
	struct tt o;
	struct tcpcb *tp;
	struct tt_seg s;
	uint64_t tick, rexmt;

	fp_fill();
	tt_init(&o, 3);
	REQUIRE(tt_established_active(&o));
	tp = tt_tp(&o);
	REQUIRE(ust_send(o.so, fp_payload, 3 * 1460, 0) == 3 * 1460);
	ipt_poll(&o.t);
	tt_drain(&o);
	REQUIRE(tcp_timer_active(tp, TT_REXMT));
	tick = tp->t_callout.c_tick;
	ipt_advance(&o.t, 100 * IPT_MS);
	/* An ACK of the first segment restarts REXMT later: the callout
	 * stays where it was. */
	tt_in(&o, TH_ACK, 1, 1 + 1460, 32767);
	tt_drain(&o);
	rexmt = tp->t_timers[TT_REXMT];
	REQUIRE(rexmt != 0);
	CHECK(callout_pending(&tp->t_callout));
	CHECK_EQ(tp->t_callout.c_tick, tick);
	/* It fires early and moves on; the retransmission leaves on time. */
	ipt_advance(&o.t, rexmt - ust_vclock_now(o.t.vc) - IPT_MS);
	CHECK(tt_none(&o));
	CHECK(callout_pending(&tp->t_callout));
	CHECK(tp->t_callout.c_tick > tick);
	CHECK_EQ(tp->t_timers[TT_REXMT], rexmt);
	ipt_advance(&o.t, 2 * IPT_MS);
	REQUIRE(tt_next(&o, &s));
	CHECK_EQ(s.raw_seq, o.iss + 1 + 1460);
#if UST_STATS
	CHECK_EQ(o.t.st->st_tcpstat.tcps_rexmttimeo, 1);
#endif
	tt_fini(&o);
}

/* ---------------------------------------------------------------------
 * Two stacks over a pipe.
 * ------------------------------------------------------------------- */

#if UST_STATS
/* A bulk transfer takes both fast paths (receiver data, sender ACKs);
 * every byte arrives; with the knob at 0 neither counter moves. */
TEST(fastpath_bulk_counts_and_bytes)
{
	int hp;

	for (hp = 0; hp < 2; hp++) {
		struct bulk w;
		struct bulk_result r;
		struct ust_tcpstat sa, sb;

		bulk_init(&w, 41, 64u << 20, 65536, 16384, 1 * BULK_MS, 1000000000ull);
		bulk_sysctl(&w, HP, hp);
		/* Without window scaling, a receive buffer above 64 KiB keeps
		 * the advertised window at 65535 while the application reads
		 * once a millisecond: the sender's ACKs see no window change. */
		bulk_sysctl(&w, "net.inet.tcp.rfc1323", 0);
		bulk_sockets(&w);
		REQUIRE_EQ(tl_setint(w.lso, UST_SOL_SOCKET, UST_SO_RCVBUF, 1 << 20), 0);
		bulk_connect(&w);
		bulk_transfer(&w, 2u << 20, 20000, &r);
		CHECK_EQ(r.got, 2u << 20);
		CHECK(r.intact);
		ust_stats_tcp(w.a, &sa);
		ust_stats_tcp(w.b, &sb);
		printf("hp %d: sender predack %llu of %llu ACKs; receiver preddat %llu of %llu "
		       "segments\n",
		    hp, (unsigned long long)sa.tcps_predack, (unsigned long long)sa.tcps_rcvackpack,
		    (unsigned long long)sb.tcps_preddat, (unsigned long long)sb.tcps_rcvpack);
		if (hp) {
			CHECK(sa.tcps_predack > sa.tcps_rcvackpack / 2);
			CHECK(sb.tcps_preddat > sb.tcps_rcvpack / 2);
		} else {
			CHECK_EQ(sa.tcps_predack + sa.tcps_preddat + sb.tcps_predack +
			        sb.tcps_preddat,
			    0);
		}
		bulk_fini(&w);
	}
}

/* Request/response with a think time longer than the delayed ACK: the
 * request is ACKed alone (predicted pure ACK at the client) and the
 * response then acknowledges nothing new (predicted data). */
TEST(fastpath_rr_counts)
{
	struct bulk w;
	struct ust_tcpstat sa;
	uint8_t buf[512];
	int i, got;

	fp_fill();
	bulk_init(&w, 43, 64u << 20, 65536, 16384, 1 * BULK_MS, 1000000000ull);
	bulk_sockets(&w);
	bulk_connect(&w);
	for (i = 0; i < 8; i++) {
		REQUIRE(ust_send(w.cli, fp_payload + i, 200, 0) == 200);
		bulk_run(&w, 5 * BULK_MS);
		got = (int)ust_recv(w.srv, buf, sizeof(buf), 0);
		REQUIRE_EQ(got, 200);
		CHECK(memcmp(buf, fp_payload + i, 200) == 0);
		bulk_run(&w, 100 * BULK_MS); /* think */
		REQUIRE(ust_send(w.srv, fp_payload + 100 + i, 300, 0) == 300);
		bulk_run(&w, 5 * BULK_MS);
		got = (int)ust_recv(w.cli, buf, sizeof(buf), 0);
		REQUIRE_EQ(got, 300);
		CHECK(memcmp(buf, fp_payload + 100 + i, 300) == 0);
	}
	ust_stats_tcp(w.a, &sa);
	CHECK(sa.tcps_predack >= 7);
	CHECK(sa.tcps_preddat >= 7);
	bulk_fini(&w);
}

/* ---------------------------------------------------------------------
 * The wire: seeded faulty-pipe transfers with the knob at 0 and 1 put
 * the same frames on the wire at the same times.
 * ------------------------------------------------------------------- */

struct fp_wire {
	uint64_t hash;
	uint64_t frames;
};

static void
fp_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns, const struct ust_mbuf *m)
{
	struct fp_wire *c = arg;
	uint8_t buf[2048];
	size_t len = ust_mbuf_pktlen(m);

	(void)ifp;
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (ust_mbuf_copydata(m, 0, len, buf) != 0)
		return;
	c->hash = fnv(c->hash, &dir, sizeof(dir));
	c->hash = fnv(c->hash, &ts_ns, sizeof(ts_ns));
	c->hash = fnv(c->hash, &len, sizeof(len));
	c->hash = fnv(c->hash, buf, len);
	c->frames++;
}

struct fp_simres {
	struct fp_wire wa, wb;
	struct ust_tcpstat sa, sb;
	uint32_t got;
	int intact;
};

static uint64_t
fp_pick(uint64_t *x, uint64_t lo, uint64_t hi)
{
	return (lo + tl_mix64(x) % (hi - lo + 1));
}

static void
fp_sim(uint64_t seed, int hp, struct fp_simres *res)
{
	struct bulk w;
	struct bulk_result r;
	struct ust_pipe_config pc;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned d;

	memset(res, 0, sizeof(*res));
	res->wa.hash = res->wb.hash = 0xcbf29ce484222325ull;
	bulk_stacks(&w, seed, 64u << 20, 65536, 16384);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	pc.ring_size = 4096;
	for (d = 0; d < 2; d++) {
		struct ust_fault_config *fc = &pc.fault[d];

		fc->seed = tl_mix64(&x);
		if (fp_pick(&x, 0, 2) == 0)
			continue; /* a clean direction: the fast paths' own case */
		fc->loss_ppm = (uint32_t)fp_pick(&x, 0, 30000);
		fc->dup_ppm = (uint32_t)fp_pick(&x, 0, 10000);
		fc->reorder_ppm = (uint32_t)fp_pick(&x, 0, 30000);
		fc->reorder_ns = fp_pick(&x, 0, 3) * BULK_MS;
		fc->corrupt_ppm = (uint32_t)fp_pick(&x, 0, 5000);
		fc->delay_ns = fp_pick(&x, 0, 5000) * 1000;
		fc->rate_bps = fp_pick(&x, 0, 1) ? 100000000ull : 1000000000ull;
	}
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	bulk_attach(&w, ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w.p, UST_PIPE_B));
	ust_if_set_capture(w.ifa, fp_capture, &res->wa);
	ust_if_set_capture(w.ifb, fp_capture, &res->wb);
	bulk_sysctl(&w, HP, hp);
	if (seed % 2)
		bulk_sysctl(&w, "net.inet.tcp.rfc1323", 0);
	bulk_sockets(&w);
	if (seed % 4 == 1) /* a window that stays put: pure ACKs predicted */
		REQUIRE_EQ(tl_setint(w.lso, UST_SOL_SOCKET, UST_SO_RCVBUF, 1 << 20), 0);
	bulk_connect(&w);
	bulk_transfer(&w, 384u << 10, 30000, &r);
	res->got = r.got;
	res->intact = r.intact;
	/* The close and TIME_WAIT are on the wire too. */
	ust_close(w.cli);
	ust_close(w.srv);
	ust_close(w.lso);
	w.cli = w.srv = w.lso = NULL;
	bulk_run(&w, 10000 * BULK_MS);
	ust_stats_tcp(w.a, &res->sa);
	ust_stats_tcp(w.b, &res->sb);
	bulk_fini(&w);
}

TEST(fastpath_wire_identical_seeded)
{
	static struct fp_simres r0, r1;
	uint64_t seed, pred = 0, pack = 0;

	for (seed = 1; seed <= 12; seed++) {
		fp_sim(seed, 0, &r0);
		fp_sim(seed, 1, &r1);
		if (r0.wa.hash != r1.wa.hash || r0.wb.hash != r1.wb.hash ||
		    r0.wa.frames != r1.wa.frames || r0.wb.frames != r1.wb.frames)
			printf("seed %llu: frames A %llu/%llu B %llu/%llu differ\n",
			    (unsigned long long)seed, (unsigned long long)r0.wa.frames,
			    (unsigned long long)r1.wa.frames, (unsigned long long)r0.wb.frames,
			    (unsigned long long)r1.wb.frames);
		CHECK_EQ(r0.wa.frames, r1.wa.frames);
		CHECK_EQ(r0.wb.frames, r1.wb.frames);
		CHECK_EQ(r0.wa.hash, r1.wa.hash);
		CHECK_EQ(r0.wb.hash, r1.wb.hash);
		CHECK_EQ(r0.got, 384u << 10);
		CHECK(r0.intact && r1.intact);
		CHECK_EQ(r0.got, r1.got);
		CHECK_EQ(r0.sa.tcps_predack + r0.sb.tcps_preddat, 0);
		pred += r1.sb.tcps_preddat;
		pack += r1.sa.tcps_predack;
		r0.sa.tcps_predack = r0.sa.tcps_preddat = r1.sa.tcps_predack = r1.sa.tcps_preddat =
		    0;
		r0.sb.tcps_predack = r0.sb.tcps_preddat = r1.sb.tcps_predack = r1.sb.tcps_preddat =
		    0;
		if (memcmp(&r0.sa, &r1.sa, sizeof(r0.sa)) != 0 ||
		    memcmp(&r0.sb, &r1.sb, sizeof(r0.sb)) != 0)
			printf("seed %llu: counters differ\n", (unsigned long long)seed);
		CHECK(memcmp(&r0.sa, &r1.sa, sizeof(r0.sa)) == 0);
		CHECK(memcmp(&r0.sb, &r1.sb, sizeof(r0.sb)) == 0);
	}
	printf("predicted over the seeds: %llu in-order data, %llu pure ACKs\n",
	    (unsigned long long)pred, (unsigned long long)pack);
	/* Not vacuous: both fast paths ran. */
	CHECK(pred > 1000);
	/* Few pure ACKs reach the sender: LRO and per-poll output answer a
	 * burst with one. */
	CHECK(pack > 20);
}
#endif /* UST_STATS */

/* ---------------------------------------------------------------------
 * The broadcast verdict a connection caches (RFC 1122 4.2.3.10).
 * ------------------------------------------------------------------- */

/* A connection between 198.18.0.7 (A) and 198.18.0.2 (B).  B learns
 * 198.18.0.5/30, whose broadcast is A's address: once st_route_gen moves
 * (by hand here; every address change bumps it) B drops A's segments. */
TEST(fastpath_broadcast_verdict_follows_route_gen)
{
	struct bulk w;
	struct ust_pipe_config pc;
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), BULK_PORT);
	struct inpcb *inp;
	struct ust_stack *sb;
	uint8_t buf[256];
	uint64_t before;
	int err, rounds;

	fp_fill();
	bulk_stacks(&w, 47, 64u << 20, 65536, 16384);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	REQUIRE_EQ(ust_if_attach(w.a, "p0", ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), &w.ifa),
	    0);
	REQUIRE_EQ(ust_if_attach(w.b, "p0", ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_B), &w.ifb),
	    0);
	REQUIRE_EQ(ust_if_addr_add(w.ifa, test_ip4(7), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(w.ifb, test_ip4(2), 24), 0);
	bulk_sockets(&w);
	err = ust_connect(w.cli, (const struct ust_sockaddr *)&la, sizeof(la));
	REQUIRE(err == 0 || err == -UST_EINPROGRESS);
	for (rounds = 0; rounds < 100 && w.srv == NULL; rounds++) {
		bulk_run(&w, 5 * BULK_MS);
		if (ust_accept(w.lso, &w.srv, NULL, NULL) != 0)
			w.srv = NULL;
	}
	REQUIRE(w.srv != NULL);
	sb = w.b;
	REQUIRE(ust_send(w.cli, fp_payload, 100, 0) == 100);
	bulk_run(&w, 5 * BULK_MS);
	REQUIRE_EQ(ust_recv(w.srv, buf, sizeof(buf), 0), 100);
	inp = SO_FROM_UST(w.srv)->so_pcb;
	/* The verdict is cached for the connection. */
	CHECK_EQ(inp->inp_bcast_gen, sb->st_route_gen);
	/* A's address becomes a broadcast of B's interface. */
	REQUIRE_EQ(ust_if_addr_add(w.ifb, test_ip4(5), 30), 0);
	sb->st_route_gen++;
	before = SO_FROM_UST(w.srv)->so_rcv.sb_cc + sototcpcb(SO_FROM_UST(w.srv))->rcv_nxt;
	REQUIRE(ust_send(w.cli, fp_payload, 100, 0) == 100);
	bulk_run(&w, 5 * BULK_MS);
	CHECK_EQ(ust_recv(w.srv, buf, sizeof(buf), 0), -UST_EAGAIN);
	CHECK_EQ(SO_FROM_UST(w.srv)->so_rcv.sb_cc + sototcpcb(SO_FROM_UST(w.srv))->rcv_nxt, before);
	CHECK(inp->inp_bcast_gen != sb->st_route_gen);
	/* The address goes (and the generation with it): accepted again. */
	REQUIRE_EQ(ust_if_addr_del(w.ifb, test_ip4(5)), 0);
	sb->st_route_gen++;
	bulk_run(&w, 3000 * BULK_MS); /* A retransmits */
	CHECK_EQ(ust_recv(w.srv, buf, sizeof(buf), 0), 100);
	CHECK_EQ(inp->inp_bcast_gen, sb->st_route_gen);
	bulk_fini(&w);
}
