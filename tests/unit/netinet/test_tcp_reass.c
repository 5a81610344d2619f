/*
 * test_tcp_reass.c - the out-of-order queue on its own: a tcpcb in
 * ESTABLISHED over a bare socket buffer, segments given as (seq, bytes),
 * checking what reaches the buffer, rcv_nxt, the queue and the counters,
 * with FreeBSD's overlap cases (rcv-data-segments/overlapping-*.pkt).
 */
#include <stdlib.h>
#include <string.h>

#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "iptest.h"

struct rrig {
	struct ipt t;
	struct socket so;
	struct inpcb inp;
	struct tcpcb tp;
	uint8_t stream[4096]; /* byte i of the stream is stream[i] */
};

#define R_IRS 1000u /* rcv_nxt at the start: stream offset 0 */

static void
rrig_init(struct rrig *r)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	ipt_init(&r->t, 7);
	r->so.so_stack = r->t.st;
	r->so.so_magic = SO_MAGIC;
	(void)sbreserve(&r->so, &r->so.so_rcv, 65536);
	r->inp.inp_socket = &r->so;
	r->inp.inp_stack = r->t.st;
	r->tp.t_inpcb = &r->inp;
	r->tp.t_stack = r->t.st;
	r->tp.t_state = TCPS_ESTABLISHED;
	r->tp.rcv_nxt = R_IRS;
	for (i = 0; i < sizeof(r->stream); i++)
		r->stream[i] = (uint8_t)(i * 7 + 3);
}

static void
rrig_fini(struct rrig *r)
{
	tcp_reass_flush(&r->tp);
	sbrelease(&r->so.so_rcv);
	ipt_fini(&r->t);
}

/* Bytes [a, b) of the stream as a segment; returns tcp_reass's result. */
static int
rseg(struct rrig *r, uint32_t a, uint32_t b, uint16_t flags)
{
	struct tcp_seg seg;
	struct mbuf *m;

	memset(&seg, 0, sizeof(seg));
	m = m_gethdr(&r->t.st->st_mbz, MT_DATA);
	if (m == NULL)
		abort();
	if (b > a && m_append(m, b - a, r->stream + a) != 0)
		abort();
	seg.tlen = b - a;
	seg.th.th_seq = R_IRS + a;
	seg.th.th_flags = (uint16_t)(TH_ACK | flags);
	return (tcp_reass(&r->tp, &seg, R_IRS + a, m));
}

/* The socket buffer holds exactly the stream's first n bytes. */
static int
rhas(struct rrig *r, uint32_t n)
{
	uint8_t buf[4096];

	if (r->so.so_rcv.sb_cc != n)
		return (0);
	if (n == 0)
		return (1);
	if (m_copydata(r->so.so_rcv.sb_mb, 0, n, buf) != 0)
		return (0);
	return (memcmp(buf, r->stream, n) == 0);
}

#if UST_STATS
TEST(tcp_reass_in_order_and_hole_filled)
{
	struct rrig *r = calloc(1, sizeof(*r));

	rrig_init(r);
	CHECK_EQ(rseg(r, 100, 200, 0), 0);
	CHECK_EQ(r->tp.t_segqlen, 1);
	CHECK_EQ(r->tp.t_segqmbuf, 100);
	CHECK(rhas(r, 0));
	CHECK_EQ(r->tp.rcv_nxt, R_IRS);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvoopack, 1);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvoobyte, 100);
	/* The hole fills: both go up, in order. */
	CHECK_EQ(rseg(r, 0, 100, 0), 0);
	CHECK(rhas(r, 200));
	CHECK_EQ(r->tp.rcv_nxt, R_IRS + 200);
	CHECK_EQ(r->tp.t_segqlen, 0);
	CHECK_EQ(r->tp.t_segqmbuf, 0);
	rrig_fini(r);
	free(r);
}
#endif

TEST(tcp_reass_reordering_12354_and_fin)
{
	struct rrig *r = calloc(1, sizeof(*r));

	rrig_init(r);
	CHECK_EQ(rseg(r, 0, 100, 0), 0);
	CHECK_EQ(rseg(r, 100, 200, 0), 0);
	CHECK_EQ(rseg(r, 200, 300, 0), 0);
	CHECK_EQ(rseg(r, 400, 500, TH_FIN), 0);
	CHECK(rhas(r, 300));
	CHECK_EQ(r->tp.t_segqlen, 1);
	/* The FIN comes up with the last hole. */
	CHECK_EQ(rseg(r, 300, 400, 0), TH_FIN);
	CHECK(rhas(r, 500));
	CHECK_EQ(r->tp.rcv_nxt, R_IRS + 500);
	rrig_fini(r);
	free(r);
}

/* overlapping-100-350.pkt: 1:100 delivered, 200:300, 400:500, 600:700
 * queued; 100:350 covers 200:300 and part of the hole: rcv_nxt 350. */
TEST(tcp_reass_overlap_covers_queued)
{
	struct rrig *r = calloc(1, sizeof(*r));

	rrig_init(r);
	CHECK_EQ(rseg(r, 0, 99, 0), 0);
	CHECK_EQ(rseg(r, 199, 299, 0), 0);
	CHECK_EQ(rseg(r, 399, 499, 0), 0);
	CHECK_EQ(rseg(r, 599, 699, 0), 0);
	CHECK_EQ(r->tp.t_segqlen, 3);
	CHECK_EQ(rseg(r, 99, 349, 0), 0);
	CHECK(rhas(r, 349));
	CHECK_EQ(r->tp.rcv_nxt, R_IRS + 349);
	CHECK_EQ(r->tp.t_segqlen, 2);
	CHECK_EQ(r->tp.t_segqmbuf, 200);
	/* Then everything: 800 in order. */
	CHECK_EQ(rseg(r, 349, 799, 0), 0);
	CHECK(rhas(r, 799));
	CHECK_EQ(r->tp.t_segqlen, 0);
	rrig_fini(r);
	free(r);
}

#if UST_STATS
/* New data overlapping the end of a queued segment lose the overlap;
 * data a queued segment already holds are duplicates. */
TEST(tcp_reass_overlap_front_and_duplicate)
{
	struct rrig *r = calloc(1, sizeof(*r));

	rrig_init(r);
	CHECK_EQ(rseg(r, 100, 300, 0), 0);
	CHECK_EQ(rseg(r, 250, 400, 0), 0); /* 300:400 new */
	CHECK_EQ(r->tp.t_segqlen, 2);
	CHECK_EQ(r->tp.t_segqmbuf, 300);
	CHECK_EQ(rseg(r, 150, 250, 0), 0); /* all inside */
	CHECK_EQ(r->tp.t_segqlen, 2);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvduppack, 1);
	/* A segment inside the hole's right part, ending inside queued. */
	CHECK_EQ(rseg(r, 50, 120, 0), 0);
	CHECK_EQ(r->tp.t_segqlen, 3);
	CHECK_EQ(r->tp.t_segqmbuf, 350);
	CHECK_EQ(rseg(r, 0, 60, 0), 0);
	CHECK(rhas(r, 400));
	CHECK_EQ(r->tp.t_segqlen, 0);
	rrig_fini(r);
	free(r);
}
#endif

#if UST_STATS
TEST(tcp_reass_queue_limit)
{
	struct rrig *r = calloc(1, sizeof(*r));
	unsigned i;

	rrig_init(r);
	V(r->t.st, tcp_reass_maxqueuelen) = 3;
	for (i = 0; i < 4; i++)
		CHECK_EQ(rseg(r, 100 + i * 200, 200 + i * 200, 0), 0);
	CHECK_EQ(r->tp.t_segqlen, 3);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvreassfull, 1);
	/* The segment at rcv_nxt always gets in. */
	CHECK_EQ(rseg(r, 0, 100, 0), 0);
	CHECK(rhas(r, 200));
	CHECK_EQ(r->tp.t_segqlen, 2);
	rrig_fini(r);
	free(r);
}
#endif

#if UST_STATS
/* The limit bounds the runs of queued data (FreeBSD merges contiguous
 * segments into one entry), not the segments: behind one lost segment a
 * whole window of in-order segments must queue, or each dropped one
 * costs the sender a NewReno round trip (RFC 6582: one hole per RTT). */
TEST(tcp_reass_queue_limit_counts_runs)
{
	struct rrig *r = calloc(1, sizeof(*r));
	unsigned i;

	rrig_init(r);
	V(r->t.st, tcp_reass_maxqueuelen) = 3;
	/* One hole at 0:100, then 150 contiguous segments. */
	for (i = 0; i < 150; i++)
		CHECK_EQ(rseg(r, 100 + i * 20, 120 + i * 20, 0), 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvreassfull, 0);
	CHECK_EQ(r->tp.t_segqmbuf, 3000);
	/* A second and third run fit; a fourth does not. */
	CHECK_EQ(rseg(r, 3200, 3300, 0), 0);
	CHECK_EQ(rseg(r, 3400, 3500, 0), 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvreassfull, 0);
	CHECK_EQ(rseg(r, 3600, 3700, 0), 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvreassfull, 1);
	/* Data that extend a run (either side) still get in. */
	CHECK_EQ(rseg(r, 3100, 3200, 0), 0);
	CHECK_EQ(rseg(r, 3500, 3550, 0), 0);
	CHECK_EQ(r->t.st->st_tcpstat.tcps_rcvreassfull, 1);
	/* The hole fills: everything up to 3200 goes up at once. */
	CHECK_EQ(rseg(r, 0, 100, 0), 0);
	CHECK(rhas(r, 3300));
	CHECK_EQ(r->tp.rcv_nxt, R_IRS + 3300);
	rrig_fini(r);
	free(r);
}
#endif

TEST(tcp_reass_flush_frees_everything)
{
	struct rrig *r = calloc(1, sizeof(*r));

	rrig_init(r);
	CHECK_EQ(rseg(r, 100, 200, 0), 0);
	CHECK_EQ(rseg(r, 300, 400, TH_FIN), 0);
	CHECK_EQ(rseg(r, 300, 300, TH_FIN), 0); /* bare FIN, duplicate */
	tcp_reass_flush(&r->tp);
	CHECK_EQ(r->tp.t_segqlen, 0);
	CHECK(r->tp.t_segq == NULL);
	/* Before ESTABLISHED nothing is delivered. */
	r->tp.t_state = TCPS_SYN_RECEIVED;
	CHECK_EQ(rseg(r, 0, 100, 0), 0);
	CHECK(rhas(r, 0));
	r->tp.t_state = TCPS_ESTABLISHED;
	CHECK_EQ(tcp_reass(&r->tp, NULL, 0, NULL), 0);
	CHECK(rhas(r, 100));
	rrig_fini(r);
	free(r);
}
