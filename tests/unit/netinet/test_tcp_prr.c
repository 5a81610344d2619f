/*
 * test_tcp_prr.c - Proportional Rate Reduction (RFC 6937,
 * net.inet.tcp.do_prr): the sndcnt arithmetic on the RFC's two examples,
 * the segments sent per ACK of a scripted recovery (one loss out of 20,
 * a burst of 15 losses, and without SACK), cwnd = ssthresh when recovery
 * ends, do_prr=0 giving back RFC 6675's / NewReno's sends, and a seeded
 * lossy bulk transfer over the pipe that delivers every byte with fewer
 * retransmission timeouts than without PRR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/tcp_prr.h"
#include "netinet/tcp_var.h"
#include "bulkrig.h"
#include "tcp_script.h"

#define PM 1460u /* the MSS the script's peer offers */

/* ------------------------------------------------------------------ */
/* sndcnt (RFC 6937 3), in segments of one byte                        */
/* ------------------------------------------------------------------ */

/* RFC 6937 3.1, one loss: cwnd = FlightSize = 20, ssthresh 10.  While
 * pipe > ssthresh the sends are ssthresh/RecoverFS of the deliveries,
 * rounded up: one segment on every second ACK. */
TEST(prr_sndcnt_proportional)
{
	uint32_t pd, out = 0, sent[12];

	for (pd = 1; pd <= 12; pd++) {
		sent[pd - 1] = tcp_prr_sndcnt(pd, out, 20, 10, 15, 1, 1);
		out += sent[pd - 1];
	}
	for (pd = 1; pd <= 12; pd++)
		CHECK_EQ(sent[pd - 1], pd % 2); /* 1, 0, 1, 0, ... */
	CHECK_EQ(out, 6u);
	/* Bytes: rounded up to whole segments, never below zero. */
	CHECK_EQ(tcp_prr_sndcnt(1000, 0, 20000, 10000, 15000, 1000, 1000), 1000u);
	CHECK_EQ(tcp_prr_sndcnt(2000, 1000, 20000, 10000, 15000, 1000, 1000), 0u);
	CHECK_EQ(tcp_prr_sndcnt(1000, 5000, 20000, 10000, 15000, 1000, 1000), 0u);
	CHECK_EQ(tcp_prr_sndcnt(1, 0, 0, 10, 15, 1, 0), 0u); /* no MSS, no division */
}

/* RFC 6937 3.1, 15 losses of 20: pipe falls to 4 under ssthresh 10;
 * PRR-SSRB sends 2 per ACK (one beyond what each ACK delivered: "bd",
 * "d", "d"), pipe 4, 5, 6; an ACK that delivered nothing sends only what
 * is banked (RFC 6937bis against ACK splitting). */
TEST(prr_sndcnt_reduction_bound)
{
	CHECK_EQ(tcp_prr_sndcnt(1, 0, 20, 10, 4, 1, 1), 2u);
	CHECK_EQ(tcp_prr_sndcnt(2, 2, 20, 10, 5, 1, 1), 2u);
	CHECK_EQ(tcp_prr_sndcnt(3, 4, 20, 10, 6, 1, 1), 2u);
	/* Never above ssthresh - pipe. */
	CHECK_EQ(tcp_prr_sndcnt(3, 0, 20, 10, 9, 3, 1), 1u);
	CHECK_EQ(tcp_prr_sndcnt(3, 0, 20, 10, 10, 3, 1), 0u);
	/* Banked sends: prr_delivered - prr_out above DeliveredData. */
	CHECK_EQ(tcp_prr_sndcnt(8, 3, 20, 10, 2, 1, 1), 6u);
	/* Nothing delivered: the conservative bound. */
	CHECK_EQ(tcp_prr_sndcnt(4, 4, 20, 10, 4, 0, 1), 0u);
	CHECK_EQ(tcp_prr_sndcnt(5, 4, 20, 10, 4, 0, 1), 1u);
	/* Bytes: whole segments, rounded down. */
	CHECK_EQ(tcp_prr_sndcnt(1000, 0, 20000, 10000, 8500, 1000, 1000), 1000u);
}

/* ------------------------------------------------------------------ */
/* Scripted recoveries                                                 */
/* ------------------------------------------------------------------ */

/* Twenty segments of PM bytes out with cwnd 20 (RFC 6937 3.1's start)
 * and a peer window of 65,535 that leaves room for what recovery sends. */
static void
prr_start(struct tt *tt, int prr, int sack)
{
	static uint8_t data[60 * PM];
	struct tcpcb *tp;
	int i;

	memset(data, 'p', sizeof(data));
	tt_init(tt, 7);
	tt_sysctl(tt, "net.inet.tcp.do_prr", prr);
	tt_sysctl(tt, "net.inet.tcp.sendspace", 262144);
	REQUIRE(tt_established_passive(tt));
	tt_in(tt, TH_ACK, 1, 1, 65535);
	TT_NONE(tt);
	/* RFC 6937 3.1 halves the window: NewReno (the default module,
	 * CUBIC, keeps 70 %). */
	CHECK_EQ(ust_setsockopt(tt->so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno", 7), 0);
	tp = tt_tp(tt);
	REQUIRE(tp != NULL);
	if (!sack) /* the peer offered SACK: forget it */
		tp->t_flags &= ~(uint32_t)TF_SACK_PERMIT;
	CHECK_EQ(tp->snd_wnd, 65535u);
	CHECK_EQ(!!(tp->t_flags & TF_SACK_PERMIT), !!sack);
	tp->snd_cwnd = 20 * PM;
	tp->snd_ssthresh = 1u << 30;
	REQUIRE_EQ(ust_send(tt->so, data, sizeof(data), 0), (ptrdiff_t)sizeof(data));
	ipt_poll(&tt->t);
	for (i = 0; i < 20; i++)
		REQUIRE(TT_OUT(tt, TH_ACK, 1 + PM * (uint32_t)i, PM, 1, TT_ANY));
	TT_NONE(tt);
}

/* An ACK of `ack` (relative) from the peer, window 65,535, with one SACK
 * block [s, e) when e != 0. */
static void
prr_ack(struct tt *tt, uint32_t ack, uint32_t s, uint32_t e)
{
	uint8_t opt[12] = { 1, 1, 5, 10 };

	if (e == 0) {
		tt_in_raw(tt, TH_ACK, 1, ack, 65535, NULL, 0, NULL, 0);
	} else {
		opt[4] = (uint8_t)((tt->iss + s) >> 24);
		opt[5] = (uint8_t)((tt->iss + s) >> 16);
		opt[6] = (uint8_t)((tt->iss + s) >> 8);
		opt[7] = (uint8_t)(tt->iss + s);
		opt[8] = (uint8_t)((tt->iss + e) >> 24);
		opt[9] = (uint8_t)((tt->iss + e) >> 16);
		opt[10] = (uint8_t)((tt->iss + e) >> 8);
		opt[11] = (uint8_t)(tt->iss + e);
		tt_in_raw(tt, TH_ACK, 1, ack, 65535, opt, sizeof(opt), NULL, 0);
	}
	ipt_poll(&tt->t);
}

/* The data segments the last ACK let out; *rexmit counts those below
 * `high` (relative: retransmissions when it is snd_max before the ACK). */
static int
prr_sent(struct tt *tt, uint32_t high, int *rexmit)
{
	struct tt_seg sg;
	int n = 0;

	*rexmit = 0;
	while (tt_next(tt, &sg)) {
		if (sg.len == 0)
			continue;
		n++;
		if (sg.seq < high)
			(*rexmit)++;
	}
	return (n);
}

/* One loss (segment 0) of 20; the other 19 and the two Limited Transmit
 * segments (20, 21) arrive one per ACK; then the retransmission, whose
 * ACK covers snd_recover and ends recovery.  want[k]: segments sent on
 * the ACK of segment k + 1. */
static void
prr_single_loss(int prr, int sack, const int *want)
{
	struct tt tt;
	struct tcpcb *tp;
	int k, n, rx, ok = 1;
	uint32_t total = 0, rexmits = 0, high;

	prr_start(&tt, prr, sack);
	tp = tt_tp(&tt);
	high = tp->snd_max - tt.iss;
	for (k = 1; k <= 21; k++) {
		if (sack)
			prr_ack(&tt, 1, 1 + PM, 1 + PM * (uint32_t)(k + 1));
		else
			prr_ack(&tt, 1, 0, 0);
		n = prr_sent(&tt, high, &rx);
		high = tp->snd_max - tt.iss;
		if (n != want[k - 1]) {
			fprintf(stderr, "ACK of segment %d: sent %d, want %d\n", k, n, want[k - 1]);
			ok = 0;
		}
		/* The retransmission goes on the third duplicate ACK, and
		 * is the only one. */
		CHECK_EQ(rx, k == 3 ? 1 : 0);
		total += (uint32_t)n;
		rexmits += (uint32_t)rx;
		if (k >= 3)
			CHECK(IN_FASTRECOVERY(tp->t_flags));
	}
	CHECK(ok);
	CHECK_EQ(rexmits, 1u);
	/* The ACK of the retransmission: everything up to snd_recover. */
	CHECK_EQ(tp->snd_recover, tt.iss + 1 + 22 * PM);
	prr_ack(&tt, 1 + 22 * PM, 0, 0);
	CHECK(!IN_FASTRECOVERY(tp->t_flags));
	if (prr) {
		/* RFC 6937 3: cwnd = ssthresh at the end of recovery; what
		 * recovery sent brought the flight to it. */
		CHECK_EQ(tp->snd_cwnd, tp->snd_ssthresh);
		CHECK_EQ(tp->snd_ssthresh, 11 * PM); /* FlightSize 22 / 2 */
	}
	(void)total;
	tt_fini(&tt);
}

#if UST_TCP_SACK
/* RFC 6937 3.1's first example with PRR, ACK for ACK as the RFC's figure
 * shows it (sent: N N R . N . N . N . N . N . N . . N N): two Limited
 * Transmit segments, the retransmission on the third duplicate ACK, then
 * one new segment on every second ACK (sndcnt = CEIL(prr_delivered *
 * ssthresh / RecoverFS) - prr_out with ssthresh 11 = RecoverFS 22 / 2)
 * while pipe > ssthresh; on the ACK of segment 17 pipe reaches ssthresh,
 * and from there PRR-SSRB sends ssthresh - pipe (RB "s"): one per ACK.
 * Never a burst, never more than one segment per ACK. */
TEST(prr_sack_single_loss_sends_per_ack)
{
	static const int want[21] = { 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1,
		1 };

	prr_single_loss(1, 1, want);
}

/* do_prr=0: RFC 6675 as before (the RFC's figure for it: N N R, a
 * silent half window while pipe drains to cwnd = ssthresh, then one per
 * ACK). */
#endif

#if UST_TCP_SACK
TEST(prr_off_sack_single_loss_is_rfc6675)
{
	static const int want[21] = { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1 };

	prr_single_loss(0, 1, want);
}
#endif

/* Without SACK (FreeBSD's estimates: one segment delivered per
 * duplicate ACK, pipe = outstanding - dupacks): the same spread. */
TEST(prr_nosack_single_loss_sends_per_ack)
{
	static const int want[21] = { 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1,
		1 };

	prr_single_loss(1, 0, want);
}

/* do_prr=0 without SACK: NewReno's window inflation (ssthresh + 3 MSS,
 * one MSS per further duplicate ACK). */
TEST(prr_off_nosack_single_loss_is_newreno)
{
	static const int want[21] = { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1 };

	prr_single_loss(0, 0, want);
}

/* RFC 6937 3.1's second example: segments 0..14 lost, 15..19 arrive.
 * The first two ACKs send Limited Transmit segments; from the third
 * (recovery: pipe 4 < ssthresh) PRR-SSRB sends 2 retransmissions per ACK
 * ("2R 2R 2R"); RFC 6675 (do_prr=0) sends 7 at once. */
static void
prr_burst(int prr, const int *want, const int *want_rx)
{
	struct tt tt;
	struct tcpcb *tp;
	int k, n, rx;

	prr_start(&tt, prr, 1);
	tp = tt_tp(&tt);
	for (k = 15; k <= 21; k++) {
		uint32_t high = tp->snd_max - tt.iss;

		prr_ack(&tt, 1, 1 + 15 * PM, 1 + PM * (uint32_t)(k + 1));
		n = prr_sent(&tt, high, &rx);
		if (n != want[k - 15] || rx != want_rx[k - 15])
			fprintf(stderr, "ACK of segment %d: sent %d (%d rexmit), want %d (%d)\n", k,
			    n, rx, want[k - 15], want_rx[k - 15]);
		CHECK_EQ(n, want[k - 15]);
		CHECK_EQ(rx, want_rx[k - 15]);
	}
	CHECK(IN_FASTRECOVERY(tp->t_flags));
	tt_fini(&tt);
}

#if UST_TCP_SACK
TEST(prr_sack_burst_loss_ssrb)
{
	static const int want[7] = { 1, 1, 2, 2, 2, 2, 2 };
	static const int want_rx[7] = { 0, 0, 2, 2, 2, 2, 2 };

	prr_burst(1, want, want_rx);
}
#endif

#if UST_TCP_SACK
TEST(prr_off_sack_burst_loss_is_rfc6675)
{
	static const int want[7] = { 1, 1, 7, 1, 1, 1, 1 };
	static const int want_rx[7] = { 0, 0, 7, 1, 1, 1, 1 };

	prr_burst(0, want, want_rx);
}
#endif

/* ------------------------------------------------------------------ */
/* A lossy bulk transfer over the pipe                                 */
/* ------------------------------------------------------------------ */

struct prr_bulk {
	uint32_t got;
	int intact;
	uint64_t rto, fastrexmit, rexmitpack;
};

/* 2 MB through a 10 Mbit/s bottleneck, 10 ms each way, that holds at
 * most 20 frames in flight (more are tail-dropped), with 1 % of the data
 * segments lost at random (seeded) on top; NewReno, whose halving RFC
 * 6937's examples use. */
static void
prr_bulk_run(uint64_t seed, int prr, struct prr_bulk *res)
{
	struct bulk w;
	struct bulk_result r;
	struct ust_pipe_config pc;

	bulk_stacks(&w, seed, 64u << 20, 65536, 16384);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	pc.ring_size = 4096;
	pc.fault[0].seed = seed * 2654435761u + 1;
	pc.fault[0].loss_ppm = 10000;
	pc.fault[0].queue_limit = 20;
	pc.fault[0].delay_ns = pc.fault[1].delay_ns = 10 * BULK_MS;
	pc.fault[0].rate_bps = pc.fault[1].rate_bps = 10000000ull;
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	bulk_attach(&w, ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w.p, UST_PIPE_B));
	bulk_sysctl(&w, "net.inet.tcp.do_prr", prr);
	bulk_sysctl(&w, "net.inet.tcp.recvspace", 262144);
	bulk_sockets(&w);
	CHECK_EQ(ust_setsockopt(w.cli, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno", 7), 0);
	bulk_connect(&w);
	bulk_transfer(&w, 2u << 20, 60000, &r);
	res->got = r.got;
	res->intact = r.intact;
	res->rto = w.a->st_tcpstat.tcps_rexmttimeo;
	res->fastrexmit = w.a->st_tcpstat.tcps_fastretransmits;
	res->rexmitpack = w.a->st_tcpstat.tcps_sndrexmitpack;
	bulk_fini(&w);
}

#if UST_STATS
/* The same seeded losses with and without PRR: every byte arrives, and
 * summed over the seeds PRR sees fewer retransmission timeouts and
 * retransmits less: RFC 6675 enters recovery with a burst of
 * cwnd - pipe into the bottleneck's full queue, which loses
 * retransmissions, each a timeout; PRR keeps the ACK clock (RFC 6937 4,
 * 5: the paper's measurements found the same). */
TEST(prr_lossy_bulk_fewer_timeouts)
{
	struct prr_bulk on, off;
	uint64_t seed, rto_on = 0, rto_off = 0, fr_on = 0, rx_on = 0, rx_off = 0;

	for (seed = 1; seed <= 8; seed++) {
		prr_bulk_run(seed, 1, &on);
		prr_bulk_run(seed, 0, &off);
		printf("seed %llu: prr rto %llu fast rexmit %llu rexmit %llu; off rto %llu fast "
		       "rexmit %llu rexmit %llu\n",
		    (unsigned long long)seed, (unsigned long long)on.rto,
		    (unsigned long long)on.fastrexmit, (unsigned long long)on.rexmitpack,
		    (unsigned long long)off.rto, (unsigned long long)off.fastrexmit,
		    (unsigned long long)off.rexmitpack);
		CHECK_EQ(on.got, 2u << 20);
		CHECK(on.intact);
		CHECK_EQ(off.got, 2u << 20);
		CHECK(off.intact);
		rto_on += on.rto;
		rto_off += off.rto;
		rx_on += on.rexmitpack;
		rx_off += off.rexmitpack;
		fr_on += on.fastrexmit;
	}
	printf("timeouts: prr %llu, without %llu; retransmitted segments: prr %llu, without "
	       "%llu\n",
	    (unsigned long long)rto_on, (unsigned long long)rto_off, (unsigned long long)rx_on,
	    (unsigned long long)rx_off);
	CHECK(fr_on > 0); /* recoveries happened */
	CHECK(rto_on < rto_off);
	CHECK(rx_on < rx_off);
}
#endif
