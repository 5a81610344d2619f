/*
 * test_tcp_sack.c - SACK (RFC 2018), D-SACK (RFC 2883) and the sender's
 * scoreboard (RFC 6675): negotiation both ways, the receiver's blocks byte
 * for byte, D-SACK, scoreboard updates, and hostile blocks (outside the
 * window, inverted, wrapping, below snd_una, too many) that must keep the
 * hole count bounded and never crash, with globalmaxholes exhaustion
 * falling back to NewReno.
 */
#include <stdlib.h>
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

/* The whole file needs SACK (ustack_opts.h). */
#if UST_TCP_SACK

/* ------------------------------------------------------------------ */
/* Negotiation (RFC 2018 2)                                            */
/* ------------------------------------------------------------------ */

TEST(sack_negotiated_passive_and_active)
{
	struct tt tt;
	struct ust_tcp_info ti;

	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(tt_info(tt.so, &ti), 0);
	CHECK(ti.tcpi_options & UST_TCPI_OPT_SACK);
	tt_fini(&tt);

	tt_init(&tt, 1);
	REQUIRE(tt_established_active(&tt));
	REQUIRE_EQ(tt_info(tt.so, &ti), 0);
	CHECK(ti.tcpi_options & UST_TCPI_OPT_SACK);
	tt_fini(&tt);
}

TEST(sack_not_negotiated_without_peer_or_knob)
{
	static const uint8_t mssonly[4] = { 2, 4, 0x05, 0xb4 };
	struct tt tt;
	struct tt_seg sg;
	struct ust_tcp_info ti;

	/* The peer's SYN-ACK lacks sackOK: no SACK. */
	tt_init(&tt, 1);
	REQUIRE(tt_connect_syn(&tt));
	tt_in_raw(&tt, TH_SYN | TH_ACK, 0, 1, 32767, mssonly, sizeof(mssonly), NULL, 0);
	REQUIRE(TT_OUT(&tt, TH_ACK, 1, 0, 1, TT_ANY));
	REQUIRE_EQ(tt_info(tt.so, &ti), 0);
	CHECK(!(ti.tcpi_options & UST_TCPI_OPT_SACK));
	tt_fini(&tt);

	/* sack.enable=0: the SYN-ACK carries <mss 1460> only. */
	tt_init(&tt, 1);
	tt_sysctl(&tt, "net.inet.tcp.sack.enable", 0);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(sg.optlen, 4);
	CHECK_MEM(sg.opt, mssonly, 4);
	tt_fini(&tt);
}

/* ------------------------------------------------------------------ */
/* Receiver (RFC 2018 4, RFC 2883 4)                                   */
/* ------------------------------------------------------------------ */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#if UST_STATS
TEST(sack_receiver_blocks_exact_bytes)
{
	struct tt tt;
	struct tt_seg sg;
	uint8_t data[100], want[20];

	memset(data, 'x', sizeof(data));
	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	/* < . 1001:1101(100): > . ack 1 <nop,nop,sack 1 {1001:1101}> */
	tt_in_data(&tt, TH_ACK, 1001, 1, 32767, data, 100);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1, TT_ANY, &sg));
	REQUIRE_EQ(sg.optlen, 12);
	want[0] = 1;
	want[1] = 1;
	want[2] = 5;
	want[3] = 10;
	put32(want + 4, tt.piss + 1001);
	put32(want + 8, tt.piss + 1101);
	CHECK_MEM(sg.opt, want, 12);

	/* < . 2001:2101(100): the newest block first (RFC 2018 4). */
	tt_in_data(&tt, TH_ACK, 2001, 1, 32767, data, 100);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1, TT_ANY, &sg));
	REQUIRE_EQ(sg.optlen, 20);
	want[3] = 18;
	put32(want + 4, tt.piss + 2001);
	put32(want + 8, tt.piss + 2101);
	put32(want + 12, tt.piss + 1001);
	put32(want + 16, tt.piss + 1101);
	CHECK_MEM(sg.opt, want, 20);

	/* < . 1101:1201(100) extends the first run: it moves to the front. */
	tt_in_data(&tt, TH_ACK, 1101, 1, 32767, data, 100);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1, TT_ANY, &sg));
	REQUIRE_EQ(sg.to.to_nsacks, 2);
	CHECK_EQ(sg.to.to_sacks[0].start, tt.piss + 1001);
	CHECK_EQ(sg.to.to_sacks[0].end, tt.piss + 1201);
	CHECK_EQ(sg.to.to_sacks[1].start, tt.piss + 2001);
	CHECK_EQ(sg.to.to_sacks[1].end, tt.piss + 2101);

	/* A duplicate of queued data: D-SACK first (RFC 2883 4). */
	tt_in_data(&tt, TH_ACK, 1001, 1, 32767, data, 100);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1, TT_ANY, &sg));
	REQUIRE(sg.to.to_nsacks >= 1);
	CHECK_EQ(sg.to.to_sacks[0].start, tt.piss + 1001);
	CHECK_EQ(sg.to.to_sacks[0].end, tt.piss + 1101);

	/* Filling [1, 1001) clears the first run's block. */
	{
		uint8_t big[1000];

		memset(big, 'y', sizeof(big));
		tt_in_data(&tt, TH_ACK, 1, 1, 32767, big, 1000);
	}
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1201, TT_ANY, &sg));
	REQUIRE_EQ(sg.to.to_nsacks, 1);
	CHECK_EQ(sg.to.to_sacks[0].start, tt.piss + 2001);

	/* Old data again: D-SACK below the cumulative ACK. */
	tt_in_data(&tt, TH_ACK, 1, 1, 32767, data, 100);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1201, TT_ANY, &sg));
	REQUIRE_EQ(sg.to.to_nsacks, 2);
	CHECK_EQ(sg.to.to_sacks[0].start, tt.piss + 1);
	CHECK_EQ(sg.to.to_sacks[0].end, tt.piss + 101);
	CHECK_EQ(sg.to.to_sacks[1].start, tt.piss + 2001);
	CHECK(tt.t.st->st_tcpstat.tcps_sack_send_blocks >= 8);
	tt_fini(&tt);
}
#endif

TEST(sack_receiver_at_most_four_blocks)
{
	struct tt tt;
	struct tt_seg sg;
	uint8_t data[10];
	int i;

	memset(data, 'z', sizeof(data));
	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	for (i = 0; i < 6; i++) {
		tt_in_data(&tt, TH_ACK, (uint32_t)(101 + 100 * i), 1, 32767, data, 10);
		REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 0, 1, TT_ANY, &sg));
	}
	/* No timestamps: 4 blocks fit; the newest first. */
	CHECK_EQ(sg.to.to_nsacks, 4);
	CHECK_EQ(sg.optlen, 36);
	CHECK_EQ(sg.to.to_sacks[0].start, tt.piss + 601);
	CHECK_EQ(sg.to.to_sacks[3].start, tt.piss + 301);
	tt_fini(&tt);
}

/* ------------------------------------------------------------------ */
/* Sender scoreboard (RFC 6675), on a bare tcpcb                       */
/* ------------------------------------------------------------------ */

#define SB_UNA 5000u
#define SB_MSS 1000u

struct sbrig {
	struct ipt t;
	struct tcpcb tp;
};

static void
sb_init(struct sbrig *r)
{
	memset(r, 0, sizeof(*r));
	ipt_init(&r->t, 3);
	r->tp.t_stack = r->t.st;
	r->tp.t_state = TCPS_ESTABLISHED;
	r->tp.t_flags = TF_SACK_PERMIT;
	r->tp.t_maxseg = SB_MSS;
	r->tp.snd_una = r->tp.snd_fack = SB_UNA;
	r->tp.snd_nxt = r->tp.snd_max = SB_UNA + 100 * SB_MSS;
}

static void
sb_fini(struct sbrig *r)
{
	tcp_free_sackholes(&r->tp);
	CHECK_EQ(r->t.st->st_sackholes, 0);
	ipt_fini(&r->t);
}

/* An ACK of `ack` with n blocks (pairs of offsets from SB_UNA). */
static void
sb_ack(struct sbrig *r, uint32_t ack, int n, const uint32_t *blk)
{
	struct tcpopt to;
	int i;

	memset(&to, 0, sizeof(to));
	for (i = 0; i < n && i < TCP_MAX_SACK; i++) {
		to.to_sacks[i].start = blk[2 * i];
		to.to_sacks[i].end = blk[2 * i + 1];
	}
	to.to_nsacks = (uint8_t)n;
	if (n > 0)
		to.to_flags |= TOF_SACK;
	tcp_sack_doack(&r->tp, &to, ack);
	if (SEQ_GT(ack, r->tp.snd_una))
		r->tp.snd_una = ack;
}

static uint32_t
sb_holes(const struct tcpcb *tp)
{
	const struct sackhole *h;
	uint32_t n = 0;

	for (h = tp->snd_holes; h != NULL; h = h->next) {
		CHECK(SEQ_LT(h->start, h->end));
		CHECK(SEQ_GEQ(h->start, tp->snd_una));
		CHECK(SEQ_LEQ(h->end, tp->snd_max));
		if (h->next != NULL)
			CHECK(SEQ_LT(h->end, h->next->start));
		n++;
	}
	CHECK_EQ(n, tp->snd_numholes);
	return (n);
}

TEST(sack_scoreboard_updates)
{
	struct sbrig r;
	uint32_t b[8], len;
	struct sackhole *h;

	sb_init(&r);
	/* SACK [2000, 3000) and [5000, 6000) above snd_una (offsets). */
	b[0] = SB_UNA + 2000;
	b[1] = SB_UNA + 3000;
	b[2] = SB_UNA + 5000;
	b[3] = SB_UNA + 6000;
	sb_ack(&r, SB_UNA, 2, b);
	REQUIRE_EQ(sb_holes(&r.tp), 2);
	CHECK_EQ(r.tp.snd_holes->start, SB_UNA);
	CHECK_EQ(r.tp.snd_holes->end, SB_UNA + 2000);
	CHECK_EQ(r.tp.snd_holes->next->start, SB_UNA + 3000);
	CHECK_EQ(r.tp.snd_holes->next->end, SB_UNA + 5000);
	CHECK_EQ(r.tp.snd_fack, SB_UNA + 6000);
	CHECK_EQ(r.tp.sackhint.sacked_bytes, 2000);
	CHECK(!tcp_sack_islost(&r.tp));
	/* The middle of a hole: split. */
	b[0] = SB_UNA + 500;
	b[1] = SB_UNA + 1000;
	sb_ack(&r, SB_UNA, 1, b);
	CHECK_EQ(sb_holes(&r.tp), 3);
	CHECK_EQ(r.tp.sackhint.sacked_bytes, 2500);
	CHECK(tcp_sack_islost(&r.tp));
	/* NextSeg: the first hole, one segment of it at most. */
	h = tcp_sack_output(&r.tp, &len);
	REQUIRE(h != NULL);
	CHECK_EQ(h->rxmit, SB_UNA);
	CHECK_EQ(len, 500);
	/* A cumulative ACK removes and trims holes. */
	sb_ack(&r, SB_UNA + 3500, 0, b);
	CHECK_EQ(sb_holes(&r.tp), 1);
	CHECK_EQ(r.tp.snd_holes->start, SB_UNA + 3500);
	CHECK_EQ(r.tp.sackhint.sacked_bytes, 1000);
	/* A block covering the last hole and more removes it. */
	b[0] = SB_UNA + 3000;
	b[1] = SB_UNA + 7000;
	sb_ack(&r, SB_UNA + 3500, 1, b);
	CHECK_EQ(sb_holes(&r.tp), 0);
	CHECK_EQ(r.tp.snd_fack, SB_UNA + 7000);
	sb_fini(&r);
}

/* RFC 6675 4: IsLost() per hole (DupThresh SACKed blocks or more than
 * (DupThresh - 1) * SMSS SACKed bytes above it) and SetPipe(): octets
 * neither SACKed nor lost count once, retransmitted ones once more. */
TEST(sack_islost_per_hole_and_pipe)
{
	struct sbrig r;
	uint32_t b[8], len;
	struct sackhole *h;

	sb_init(&r);
	b[0] = SB_UNA + 1000;
	b[1] = SB_UNA + 2000;
	b[2] = SB_UNA + 3000;
	b[3] = SB_UNA + 4000;
	b[4] = SB_UNA + 5000;
	b[5] = SB_UNA + 6000;
	sb_ack(&r, SB_UNA, 3, b);
	REQUIRE_EQ(sb_holes(&r.tp), 3);
	/* Only the first hole has three blocks (3000 bytes) above it. */
	CHECK_EQ(r.tp.sackhint.sacked_bytes, 3000);
	CHECK_EQ(r.tp.sackhint.lost_bytes, 1000);
	CHECK(tcp_sack_islost(&r.tp));
	CHECK_EQ(tcp_sack_pipe(&r.tp), 100 * SB_MSS - 3000 - 1000);
	/* Retransmitting the lost hole puts it back in the pipe once. */
	h = tcp_sack_output(&r.tp, &len);
	REQUIRE(h != NULL);
	CHECK_EQ(len, 1000);
	h->rxmit += len;
	r.tp.sackhint.sack_bytes_rexmit += (int32_t)len;
	CHECK_EQ(tcp_sack_pipe(&r.tp), 100 * SB_MSS - 3000 - 1000 + 1000);
	/* The same ACK again recomputes the same hints from the scoreboard. */
	sb_ack(&r, SB_UNA, 3, b);
	CHECK_EQ(r.tp.sackhint.sack_bytes_rexmit, 1000);
	CHECK_EQ(tcp_sack_pipe(&r.tp), 100 * SB_MSS - 3000);
	/* One more block: the second hole now has three blocks above it. */
	b[0] = SB_UNA + 7000;
	b[1] = SB_UNA + 8000;
	sb_ack(&r, SB_UNA, 1, b);
	REQUIRE_EQ(sb_holes(&r.tp), 4);
	CHECK_EQ(r.tp.sackhint.lost_bytes, 2000);
	CHECK_EQ(tcp_sack_pipe(&r.tp), 100 * SB_MSS - 4000 - 2000 + 1000);
	/* The cumulative ACK past the retransmitted hole (and the block
	 * above it) takes it out. */
	sb_ack(&r, SB_UNA + 2000, 0, b);
	CHECK_EQ(r.tp.sackhint.sack_bytes_rexmit, 0);
	CHECK_EQ(r.tp.sackhint.lost_bytes, 1000);
	sb_fini(&r);
}

#if UST_STATS
TEST(sack_scoreboard_hostile_blocks)
{
	struct sbrig r;
	struct tcpopt to;
	uint32_t b[8];
	uint64_t before;

	sb_init(&r);
	before = r.t.st->st_tcpstat.tcps_sack_rcv_blocks;
	/* Outside the window: past snd_max. */
	b[0] = SB_UNA + 1000;
	b[1] = r.tp.snd_max + 1;
	/* start > end. */
	b[2] = SB_UNA + 3000;
	b[3] = SB_UNA + 2000;
	/* Wrapping: from near snd_max around to just above snd_una. */
	b[4] = r.tp.snd_max - 10;
	b[5] = SB_UNA + 10;
	/* Below snd_una: a D-SACK, accepted and ignored. */
	b[6] = SB_UNA - 2000;
	b[7] = SB_UNA - 1000;
	sb_ack(&r, SB_UNA, 4, b);
	CHECK_EQ(sb_holes(&r.tp), 0);
	CHECK_EQ(r.tp.snd_fack, SB_UNA);
	CHECK_EQ(r.t.st->st_tcpstat.tcps_sack_rcv_blocks, before);
	/* Far away in sequence space, and empty blocks. */
	b[0] = SB_UNA + 0x80000000u;
	b[1] = SB_UNA + 0x80001000u;
	b[2] = SB_UNA + 100;
	b[3] = SB_UNA + 100;
	sb_ack(&r, SB_UNA, 2, b);
	CHECK_EQ(sb_holes(&r.tp), 0);
	/* More blocks than the option can hold are cut to 4. */
	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_SACK;
	to.to_nsacks = 200;
	tcp_sack_doack(&r.tp, &to, SB_UNA);
	CHECK_EQ(sb_holes(&r.tp), 0);
	/* Overlapping and duplicate blocks: the same holes. */
	b[0] = SB_UNA + 1000;
	b[1] = SB_UNA + 3000;
	b[2] = SB_UNA + 2000;
	b[3] = SB_UNA + 4000;
	b[4] = SB_UNA + 1000;
	b[5] = SB_UNA + 4000;
	b[6] = SB_UNA + 1500;
	b[7] = SB_UNA + 2500;
	sb_ack(&r, SB_UNA, 4, b);
	CHECK_EQ(sb_holes(&r.tp), 1);
	CHECK_EQ(r.tp.sackhint.sacked_bytes, 3000);
	sb_fini(&r);
}
#endif

#if UST_STATS
/* Every other segment SACKed, one ACK per block, far more than maxholes:
 * the scoreboard stops at the bound, counts the overflow, falls back. */
TEST(sack_scoreboard_bounded_against_many_holes)
{
	struct sbrig r;
	uint32_t b[2], i;

	sb_init(&r);
	r.tp.snd_max = SB_UNA + 2000u * SB_MSS;
	for (i = 0; i < 999; i++) {
		b[0] = SB_UNA + (2 * i + 1) * SB_MSS;
		b[1] = b[0] + SB_MSS;
		sb_ack(&r, SB_UNA, 1, b);
		CHECK(r.tp.snd_numholes <= 128);
	}
	CHECK(r.t.st->st_tcpstat.tcps_sack_sboverflow >= 1);
	CHECK(r.tp.t_sack_overflow);
	CHECK(sb_holes(&r.tp) <= 128);
	/* Everything acknowledged: tracking resumes. */
	sb_ack(&r, r.tp.snd_max, 0, b);
	CHECK(!r.tp.t_sack_overflow);
	CHECK_EQ(sb_holes(&r.tp), 0);
	sb_fini(&r);
}
#endif

#if UST_STATS
TEST(sack_scoreboard_globalmaxholes_exhausted)
{
	struct sbrig r;
	struct tcpcb tp2;
	uint32_t b[2];

	sb_init(&r);
	REQUIRE_EQ(ust_sysctl_set(r.t.st, "net.inet.tcp.sack.globalmaxholes", 2), 0);
	b[0] = SB_UNA + 1000;
	b[1] = SB_UNA + 2000;
	sb_ack(&r, SB_UNA, 1, b);
	b[0] = SB_UNA + 3000;
	b[1] = SB_UNA + 4000;
	sb_ack(&r, SB_UNA, 1, b);
	CHECK_EQ(sb_holes(&r.tp), 2);
	/* A second connection finds the stack's holes used up. */
	memset(&tp2, 0, sizeof(tp2));
	tp2.t_stack = r.t.st;
	tp2.t_flags = TF_SACK_PERMIT;
	tp2.t_maxseg = SB_MSS;
	tp2.snd_una = tp2.snd_fack = SB_UNA;
	tp2.snd_max = SB_UNA + 100 * SB_MSS;
	{
		struct tcpopt to;

		memset(&to, 0, sizeof(to));
		to.to_flags = TOF_SACK;
		to.to_nsacks = 1;
		to.to_sacks[0].start = SB_UNA + 1000;
		to.to_sacks[0].end = SB_UNA + 2000;
		tcp_sack_doack(&tp2, &to, SB_UNA);
	}
	CHECK_EQ(tp2.snd_numholes, 0);
	CHECK(tp2.t_sack_overflow);
	CHECK_EQ(r.t.st->st_tcpstat.tcps_sack_sboverflow, 1);
	CHECK_EQ(r.t.st->st_sackholes, 2);
	tcp_free_sackholes(&tp2);
	sb_fini(&r);
}
#endif

/* ------------------------------------------------------------------ */
/* Loss recovery (RFC 6675 5) on the wire                              */
/* ------------------------------------------------------------------ */

/* `< . 1:1(0) ack 1 win 32767 <nop,nop,sack ...>` with n blocks given
 * as offsets relative to our ISS. */
static void
tt_in_sack(struct tt *tt, uint32_t ack, int n, const uint32_t *blk)
{
	uint8_t opt[4 + 8 * TCP_MAX_SACK];
	int i;

	opt[0] = 1;
	opt[1] = 1;
	opt[2] = 5;
	opt[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		put32(opt + 4 + 8 * i, tt->iss + blk[2 * i]);
		put32(opt + 8 + 8 * i, tt->iss + blk[2 * i + 1]);
	}
	tt_in_raw(tt, TH_ACK, 1, ack, 32767, opt, (size_t)(4 + 8 * n), NULL, 0);
}

#if UST_STATS
/* Ten segments out, the first and the fourth lost: the SACKed duplicate
 * ACKs repair exactly those two holes and nothing else. */
TEST(sack_recovery_retransmits_exactly_the_holes)
{
	struct tt tt;
	static uint8_t data[14600];
	uint32_t b[4];
	int i;

	memset(data, 'd', sizeof(data));
	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_send(tt.so, data, sizeof(data), 0), (ptrdiff_t)sizeof(data));
	ipt_poll(&tt.t);
	for (i = 0; i < 10; i++)
		REQUIRE(TT_OUT(&tt, TH_ACK, 1 + 1460 * (uint32_t)i, 1460, 1, TT_ANY));
	TT_NONE(&tt);
	/* Segments 2..3 arrived, then 5..10 one by one. */
	b[0] = 1461;
	b[1] = 4381;
	tt_in_sack(&tt, 1, 1, b);
	ipt_poll(&tt.t);
	for (i = 5; i <= 10; i++) {
		b[0] = 4381 + 1460;
		b[1] = 1 + 1460 * (uint32_t)i;
		b[2] = 1461;
		b[3] = 4381;
		tt_in_sack(&tt, 1, 2, b);
		ipt_poll(&tt.t);
	}
	REQUIRE(TT_OUT(&tt, TH_ACK, 1, 1460, 1, TT_ANY));
	REQUIRE(TT_OUT(&tt, TH_ACK, 4381, 1460, 1, TT_ANY));
	TT_NONE(&tt);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sack_recovery_episode, 1);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sack_rexmits, 2);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sack_rexmit_bytes, 2920);
	/* The first hole repaired: a partial ACK; then everything. */
	b[0] = 4381 + 1460;
	b[1] = 14601;
	tt_in_sack(&tt, 4381, 1, b);
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	tt_in(&tt, TH_ACK, 1, 14601, 32767);
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	CHECK_EQ(tt.t.st->st_sackholes, 0);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* RFC 6675 5.1: a timeout keeps the scoreboard.  Ten segments out, the
 * peer SACKed 2..3 and 5..10, nothing is repaired before the timer fires:
 * going back from snd_una resends the holes (segments 1 and 4) and never
 * the SACKed segments. */
TEST(sack_rto_keeps_scoreboard_and_skips_sacked_data)
{
	struct tt tt;
	struct tt_seg sg;
	static uint8_t data[14600];
	uint32_t b[4];
	int i;

	memset(data, 'd', sizeof(data));
	tt_init(&tt, 1);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_send(tt.so, data, sizeof(data), 0), (ptrdiff_t)sizeof(data));
	ipt_poll(&tt.t);
	for (i = 0; i < 10; i++)
		REQUIRE(TT_OUT(&tt, TH_ACK, 1 + 1460 * (uint32_t)i, 1460, 1, TT_ANY));
	TT_NONE(&tt);
	b[0] = 4381 + 1460;
	b[1] = 14601;
	b[2] = 1461;
	b[3] = 4381;
	tt_in_sack(&tt, 1, 2, b);
	ipt_poll(&tt.t);
	/* Whatever the recovery sent is lost too. */
	while (tt_next(&tt, &sg))
		;
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_rexmttimeo, 0);
	for (i = 0; i < 10000 && tt.t.st->st_tcpstat.tcps_rexmttimeo == 0; i++)
		ipt_advance(&tt.t, IPT_MS);
	REQUIRE_EQ(tt.t.st->st_tcpstat.tcps_rexmttimeo, 1);
	CHECK(tt.t.st->st_sackholes > 0);
	/* One segment of loss window: the first hole. */
	REQUIRE(TT_OUT(&tt, TH_ACK, 1, 1460, 1, TT_ANY));
	TT_NONE(&tt);
	/* It fills the first hole; the next goes, and the SACKed data
	 * behind it (segments 6..10) does not. */
	b[0] = 4381 + 1460;
	b[1] = 14601;
	tt_in_sack(&tt, 4381, 1, b);
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_ACK, 4381, 1460, 1, TT_ANY));
	TT_NONE(&tt);
	tt_in(&tt, TH_ACK, 1, 14601, 32767);
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	CHECK_EQ(tt.t.st->st_sackholes, 0);
	tt_fini(&tt);
}
#endif

/* RFC 2018 8: a cumulative ACK that stops inside SACKed data shows the
 * receiver reneged; the scoreboard is dropped and nothing is skipped. */
TEST(sack_reneging_clears_scoreboard)
{
	struct sbrig r;
	uint32_t b[4], sacked;
	tcp_seq lim;

	sb_init(&r);
	b[0] = SB_UNA + 2000;
	b[1] = SB_UNA + 3000;
	b[2] = SB_UNA + 5000;
	b[3] = SB_UNA + 6000;
	sb_ack(&r, SB_UNA, 2, b);
	REQUIRE_EQ(sb_holes(&r.tp), 2);
	/* After a timeout: snd_nxt back at snd_una, the holes kept. */
	tcp_sack_rto(&r.tp);
	CHECK_EQ(sb_holes(&r.tp), 2);
	r.tp.snd_nxt = SB_UNA + 2000;
	CHECK_EQ(tcp_sack_rexmit_skip(&r.tp, &sacked, &lim), SB_UNA + 3000);
	CHECK_EQ(sacked, 1000);
	CHECK_EQ(lim, SB_UNA + 5000);
	r.tp.snd_nxt = SB_UNA + 5500;
	CHECK_EQ(tcp_sack_rexmit_skip(&r.tp, &sacked, &lim), SB_UNA + 6000);
	CHECK_EQ(sacked, 2000);
	CHECK_EQ(lim, r.tp.snd_max);
	/* The ACK stops at 2500, inside [2000, 3000): reneged. */
	sb_ack(&r, SB_UNA + 2500, 0, b);
	CHECK_EQ(sb_holes(&r.tp), 0);
	CHECK_EQ(r.tp.snd_fack, SB_UNA + 2500);
	r.tp.snd_nxt = SB_UNA + 2500;
	CHECK_EQ(tcp_sack_rexmit_skip(&r.tp, &sacked, &lim), SB_UNA + 2500);
	CHECK_EQ(sacked, 0);
	sb_fini(&r);
}
#endif /* UST_TCP_SACK */
