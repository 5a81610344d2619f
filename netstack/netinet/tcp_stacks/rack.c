/*
 * rack.c - the "rack" TCP stack: RACK-TLP loss detection (RFC 8985) with
 * tail loss probes, in its essentials.
 *
 * The block runs the default stack's segment processing and output
 * (tcp_do_segment, tcp_output) and replaces its loss detection: the
 * duplicate-ACK threshold, RFC 6675's IsLost and NewReno's partial-ACK
 * repair stand aside (TCP_FUNC_OWN_LOSS) and three hooks feed this file:
 *
 *   tcp_output_send -> rack_sent          the send map (6.1)
 *   tcp_do_ack / header prediction -> rack_ack_processed
 *       -> rack_update per delivered segment (6.2 steps 1-3)
 *       -> rack_update_reo_wnd (6.2 step 4, 7.1: D-SACK adaptation)
 *       -> rack_tlp_process_ack (7.4)
 *       -> rack_detect_loss (6.2 step 5) -> recovery, retransmissions
 *       -> rack_set_timer: reordering timer (6.3) or PTO (7.2)
 *   tcp_timer_rexmt -> rack_rexmit_tmr    the RTO fired (go-back-N is the
 *                                         default stack's)
 *   rack_timer (the block's own callout): reordering timeout or PTO (7.3)
 *
 * The send map: one entry per transmitted range [start, end) (a segment,
 * or a TSO burst until an ACK or a retransmission splits it), sorted by
 * sequence, with its last transmission time, the TSval it carried, the
 * retransmission count and SACKED/LOST marks.  Entries come from a
 * per-stack zone; net.inet.tcp.rack.map_limit (per connection) and
 * map_globallimit (per stack) bound them.  At a bound, new data extend
 * the last entry (its time is then the newest segment's: loss detection
 * of that range is later, never wrong) and splits are skipped (a whole
 * entry is marked); tcps_rack_map_exhausted counts each refusal.
 *
 * Recovery: the first RACK-marked loss starts one recovery episode
 * (cc_cong_signal(CC_NDUPACK): the cc module reduces once; cwnd =
 * ssthresh as in the default stack's RFC 6675 recovery); lost entries
 * are retransmitted while the pipe (bytes in flight neither SACKed nor
 * marked lost) leaves a segment of cwnd, then new data.  The default
 * stack ends the episode when snd_recover is acknowledged.  After an
 * RTO no new episode starts for the data outstanding at the timeout
 * (RFC 6582 4.1's rule).
 *
 * Times are nanoseconds of the stack clock.
 */
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_var.h"

#if UST_TCP_RACK

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull

/* RFC 8985 7.1: rounds a D-SACK-widened window persists. */
#define RACK_REO_WND_PERSIST 16
/* PTO before any RTT sample (RFC 8985 7.2: 1 s). */
#define RACK_PTO_NOSRTT_NS (1000ull * NS_PER_MS)
#define RACK_NONE UINT64_MAX

#define RSM_SACKED 0x01
#define RSM_LOST 0x02
/* Grown at the map bound: r_xmit_ts is its newest segment's, so an ACK
 * of its older bytes is no RTT sample. */
#define RSM_GROWN 0x04

struct rack_sendmap {
	struct rack_sendmap *r_next;
	tcp_seq r_start;
	tcp_seq r_end;
	uint64_t r_xmit_ts; /* last transmission (ns) */
	uint32_t r_tsval;   /* the TSval it carried (RFC 8985 6.2 step 2) */
	uint16_t r_rexmits;
	uint8_t r_flags; /* RSM_* */
};

#define RACK_TIMER_NONE 0
#define RACK_TIMER_REO 1
#define RACK_TIMER_PTO 2

struct rack_control {
	struct tcpcb *rc_tp;
	struct rack_sendmap *rc_head, *rc_tail;
	uint32_t rc_nmaps;
	uint32_t rc_sacked_bytes; /* bytes of SACKED entries in the map */
	/* RFC 8985 6.1: the most recently delivered segment. */
	uint64_t rc_xmit_ts; /* RACK.xmit_ts; RACK_NONE: none yet */
	tcp_seq rc_end_seq;  /* RACK.end_seq */
	uint64_t rc_rtt;     /* RACK.rtt */
	uint64_t rc_min_rtt; /* RACK.min_RTT; RACK_NONE: none yet */
	tcp_seq rc_fack;     /* RACK.fack: highest delivered end */
	uint8_t rc_reord;    /* RACK.reord: reordering seen */
	uint8_t rc_dsack_round_valid;
	uint8_t rc_in_rec;    /* we started the recovery episode running */
	uint8_t rc_rto_valid; /* an RTO episode is running */
	tcp_seq rc_dsack_round;
	uint32_t rc_reo_wnd_mult;
	uint32_t rc_reo_wnd_persist;
	tcp_seq rc_rto_recover; /* snd_max at the RTO */
	/* RFC 8985 7: the probe outstanding. */
	uint8_t rc_tlp_valid;
	uint8_t rc_tlp_is_retrans;
	tcp_seq rc_tlp_end_seq;
	/* The reordering timer or the PTO. */
	struct callout rc_timer;
	uint8_t rc_timer_type;
};

static inline struct rack_control *
rack_rc(const struct tcpcb *tp)
{
	return ((struct rack_control *)tp->t_fb_ptr);
}

/* RFC 8985 6.2: RACK_sent_after(t1, seq1, t2, seq2). */
static inline int
rack_sent_after(uint64_t t1, tcp_seq seq1, uint64_t t2, tcp_seq seq2)
{
	return (t1 > t2 || (t1 == t2 && SEQ_GT(seq1, seq2)));
}

/* ---------------------------------------------------------------------
 * The send map.
 * ------------------------------------------------------------------- */

static struct rack_sendmap *
rack_map_alloc(struct tcpcb *tp, struct rack_control *rc)
{
	struct ust_stack *st = tp->t_stack;
	struct rack_sendmap *r;

	if (rc->rc_nmaps >= (uint32_t)V(st, tcp_rack_map_limit) ||
	    st->st_rack_maps >= (uint32_t)V(st, tcp_rack_map_globallimit) ||
	    (r = ust_zone_alloc(st->st_rack_zone)) == NULL) {
		TCPSTAT_INC(st, tcps_rack_map_exhausted);
		return (NULL);
	}
	memset(r, 0, sizeof(*r));
	rc->rc_nmaps++;
	st->st_rack_maps++;
	return (r);
}

static void
rack_map_free(struct tcpcb *tp, struct rack_control *rc, struct rack_sendmap *r)
{
	if (r->r_flags & RSM_SACKED)
		rc->rc_sacked_bytes -= (uint32_t)(r->r_end - r->r_start);
	ust_zone_free(tp->t_stack->st_rack_zone, r);
	rc->rc_nmaps--;
	tp->t_stack->st_rack_maps--;
}

/* Splits r at seq (r_start < seq < r_end): r keeps [start, seq), a new
 * entry after it takes [seq, end) with the same history.  0, or -1 when
 * no entry was to be had (r stays whole). */
static int
rack_map_split(struct tcpcb *tp, struct rack_control *rc, struct rack_sendmap *r, tcp_seq seq)
{
	struct rack_sendmap *n;

	if (!SEQ_GT(seq, r->r_start) || !SEQ_LT(seq, r->r_end))
		return (0);
	if ((n = rack_map_alloc(tp, rc)) == NULL)
		return (-1);
	*n = *r;
	n->r_start = seq;
	r->r_end = seq;
	r->r_next = n;
	if (rc->rc_tail == r)
		rc->rc_tail = n;
	return (0);
}

static void
rack_map_clear(struct tcpcb *tp, struct rack_control *rc)
{
	struct rack_sendmap *r, *next;

	for (r = rc->rc_head; r != NULL; r = next) {
		next = r->r_next;
		rack_map_free(tp, rc, r);
	}
	rc->rc_head = rc->rc_tail = NULL;
}

/* Bytes in flight: sent, neither SACKed nor marked lost since (RFC 6675
 * pipe with RACK's losses). */
static uint32_t
rack_pipe(const struct rack_control *rc)
{
	const struct rack_sendmap *r;
	uint32_t pipe = 0;

	for (r = rc->rc_head; r != NULL; r = r->r_next)
		if (!(r->r_flags & (RSM_SACKED | RSM_LOST)))
			pipe += (uint32_t)(r->r_end - r->r_start);
	return (pipe);
}

/* ---------------------------------------------------------------------
 * Timers (RFC 8985 6.3, 7.2).
 * ------------------------------------------------------------------- */

static void rack_timer(void *arg);

static void
rack_timer_stop(struct tcpcb *tp, struct rack_control *rc)
{
	callout_stop(&tp->t_stack->st_wheel, &rc->rc_timer);
	rc->rc_timer_type = RACK_TIMER_NONE;
}

static void
rack_timer_start(struct tcpcb *tp, struct rack_control *rc, int type, uint64_t delay)
{
	struct ust_stack *st = tp->t_stack;

	rc->rc_timer_type = (uint8_t)type;
	callout_reset(&st->st_wheel, &rc->rc_timer, stack_now(st), delay, rack_timer, tp);
}

/* RFC 8985 7.2: PTO = 2 SRTT (+ WCDelAckT with one segment in flight),
 * at least net.inet.tcp.rack.tlp.tlpminto, at most the RTO left.
 * WCDelAckT is net.inet.tcp.rack.timers.delayed_ack: FreeBSD's rack uses
 * 40 ms (its receivers' delayed ACK, net.inet.tcp.delacktime), not the
 * RFC's 200 ms, which at a 20 ms RTT alone costs ten round trips. */
static uint64_t
rack_pto(const struct tcpcb *tp, tcp_seq smax)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t pto, now = stack_now(st), rto;

	if (tp->t_srtt != 0) {
		pto = 2 * (uint64_t)tp->t_srtt * NS_PER_US;
		if (smax - tp->snd_una <= tcp_fixed_maxseg(tp))
			pto += (uint64_t)V(st, tcp_rack_delack) * NS_PER_US;
	} else
		pto = RACK_PTO_NOSRTT_NS;
	if (pto < (uint64_t)V(st, tcp_rack_tlpmin) * NS_PER_US)
		pto = (uint64_t)V(st, tcp_rack_tlpmin) * NS_PER_US;
	if (tp->t_timers[TT_REXMT] != 0)
		rto = tp->t_timers[TT_REXMT] > now ? tp->t_timers[TT_REXMT] - now : 0;
	else
		rto = (uint64_t)tp->t_rxtcur * NS_PER_US;
	return (pto < rto ? pto : rto);
}

/* RFC 8985 7.2: a PTO is scheduled while data are outstanding, SACK is
 * in use, no recovery runs and no probe is outstanding.  smax: snd_max,
 * or the end of the segment leaving now (rack_sent runs before
 * tcp_output advances snd_max). */
static void
rack_arm_pto(struct tcpcb *tp, struct rack_control *rc, tcp_seq smax)
{
	if (V(tp->t_stack, tcp_rack_tlp) && smax != tp->snd_una && (tp->t_flags & TF_SACK_PERMIT) &&
	    !IN_FASTRECOVERY(tp->t_flags) && !rc->rc_tlp_valid && !rc->rc_rto_valid &&
	    tp->t_rxtshift == 0 && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    tp->t_timers[TT_PERSIST] == 0)
		rack_timer_start(tp, rc, RACK_TIMER_PTO, rack_pto(tp, smax));
	else
		rack_timer_stop(tp, rc);
}

/* ---------------------------------------------------------------------
 * Delivery (RFC 8985 6.2 steps 1-4).
 * ------------------------------------------------------------------- */

/* Step 2 and 3 for a segment newly acknowledged or SACKed: [r_start,
 * end) of r delivered (end < r_end: a cumulative ACK inside it, whose
 * rest is then "sent after" RACK's segment and no loss candidate). */
static void
rack_update(struct tcpcb *tp, struct rack_control *rc, const struct rack_sendmap *r, tcp_seq end,
    const struct tcp_seg *seg, uint64_t now)
{
	uint64_t rtt = now - r->r_xmit_ts;

	/* Step 2: an ACK of a retransmitted segment may be for the
	 * original: skip it when its TSecr is older than the
	 * retransmission, or when it came sooner than any RTT. */
	if (r->r_rexmits > 0) {
		if ((tp->t_flags & TF_RCVD_TSTMP) && (seg->to.to_flags & TOF_TS) &&
		    TSTMP_LT(seg->to.to_tsecr, r->r_tsval))
			return;
		if (rc->rc_min_rtt != RACK_NONE && rtt < rc->rc_min_rtt)
			return;
	}
	/* A grown entry's time is its newest segment's: now minus it
	 * underestimates the RTT of what was delivered, and a short RACK.rtt
	 * or min_RTT would mark segments in flight lost.  Keep the last
	 * true sample (SRTT before any). */
	if (r->r_flags & RSM_GROWN) {
		if (rc->rc_xmit_ts == RACK_NONE || rtt < rc->rc_rtt)
			rtt = rc->rc_xmit_ts != RACK_NONE ? rc->rc_rtt :
			                                    (uint64_t)tp->t_srtt * NS_PER_US;
	} else if (rc->rc_min_rtt == RACK_NONE || rtt < rc->rc_min_rtt)
		rc->rc_min_rtt = rtt;
	/* RACK.rtt is the RTT of the most recently sent segment delivered,
	 * not of the last one looked at (an older block of the same ACK). */
	if (rc->rc_xmit_ts == RACK_NONE ||
	    rack_sent_after(r->r_xmit_ts, end, rc->rc_xmit_ts, rc->rc_end_seq)) {
		rc->rc_rtt = rtt;
		rc->rc_xmit_ts = r->r_xmit_ts;
		rc->rc_end_seq = end;
	}
	/* Step 3: delivered below the highest delivered, never resent:
	 * the network reordered. */
	if (SEQ_LT(end, rc->rc_fack)) {
		if (r->r_rexmits == 0)
			rc->rc_reord = 1;
	} else
		rc->rc_fack = end;
}

/* Step 4: RACK.reo_wnd. */
static uint64_t
rack_reo_wnd(const struct tcpcb *tp, const struct rack_control *rc)
{
	uint64_t w, srtt = (uint64_t)tp->t_srtt * NS_PER_US;

	if (!rc->rc_reord) {
		/* No reordering seen: losses in recovery, or more than
		 * (DupThresh - 1) * SMSS bytes SACKed above (RFC 6675's
		 * IsLost measure, so that a TSO burst counts by its
		 * segments), are losses at once. */
		if (IN_FASTRECOVERY(tp->t_flags) || rc->rc_rto_valid)
			return (0);
		if (rc->rc_sacked_bytes > (TCP_DUPACK_THRESH - 1) * tcp_fixed_maxseg(tp))
			return (0);
	}
	if (rc->rc_min_rtt == RACK_NONE)
		return (0);
	w = (uint64_t)rc->rc_reo_wnd_mult * rc->rc_min_rtt / 4;
	if (srtt != 0 && w > srtt)
		w = srtt;
	return (w);
}

/* 7.1 / 6.2 step 4: D-SACK widens the window for 16 recoveries. */
static void
rack_update_reo_wnd(struct tcpcb *tp, struct rack_control *rc, int dsack)
{
	if (rc->rc_dsack_round_valid && SEQ_GEQ(tp->snd_una, rc->rc_dsack_round))
		rc->rc_dsack_round_valid = 0;
	if (!rc->rc_dsack_round_valid && dsack) {
		rc->rc_dsack_round_valid = 1;
		rc->rc_dsack_round = tp->snd_max;
		if (rc->rc_reo_wnd_mult < 64)
			rc->rc_reo_wnd_mult++;
		rc->rc_reo_wnd_persist = RACK_REO_WND_PERSIST;
	}
}

/* A recovery episode ended (the default stack cleared TF_FASTRECOVERY). */
static void
rack_recovery_done(struct tcpcb *tp, struct rack_control *rc)
{
	rc->rc_in_rec = 0;
	if (rc->rc_reo_wnd_persist > 0 && --rc->rc_reo_wnd_persist == 0)
		rc->rc_reo_wnd_mult = (uint32_t)V(tp->t_stack, tcp_rack_reo_mult);
}

/* ---------------------------------------------------------------------
 * Loss detection and repair (RFC 8985 6.2 step 5, 6.3).
 * ------------------------------------------------------------------- */

/* Marks the segments sent before RACK.xmit_ts and older than RACK.rtt +
 * reo_wnd lost; returns the time until the next could be (0: none). */
static uint64_t
rack_detect_loss(struct tcpcb *tp, struct rack_control *rc, uint64_t now)
{
	struct rack_sendmap *r;
	uint64_t reo = rack_reo_wnd(tp, rc), timeout = 0, deadline;

	if (rc->rc_xmit_ts == RACK_NONE)
		return (0);
	for (r = rc->rc_head; r != NULL; r = r->r_next) {
		if (r->r_flags & (RSM_SACKED | RSM_LOST))
			continue;
		if (rack_sent_after(r->r_xmit_ts, r->r_end, rc->rc_xmit_ts, rc->rc_end_seq))
			continue;
		deadline = r->r_xmit_ts + rc->rc_rtt + reo;
		if (deadline <= now) {
			r->r_flags |= RSM_LOST;
			TCPSTAT_INC(tp->t_stack, tcps_rack_lost);
		} else if (deadline - now > timeout)
			timeout = deadline - now;
	}
	return (timeout);
}

static struct rack_sendmap *
rack_first_lost(const struct rack_control *rc)
{
	struct rack_sendmap *r;

	for (r = rc->rc_head; r != NULL; r = r->r_next)
		if (r->r_flags & RSM_LOST)
			return (r);
	return (NULL);
}

/* Sends len bytes from start (a retransmission) through the default
 * output: snd_nxt at start and a cwnd that lets exactly that much out,
 * both restored (FreeBSD's trick, as tcp_sack_recovery_output). */
static uint32_t
rack_xmit_range(struct tcpcb *tp, tcp_seq start, uint32_t len)
{
	tcp_seq onxt = tp->snd_nxt;
	uint32_t cwnd = tp->snd_cwnd, sent;
	uint8_t osr = tp->t_sack_recovery;

	tp->snd_nxt = start;
	tp->snd_cwnd = (uint32_t)(start - tp->snd_una) + len;
	/* We place snd_nxt: no SACK skipping in tcp_output. */
	tp->t_sack_recovery = 1;
	tp->t_rtttime = 0;
	(void)tcp_output(tp);
	tp->t_sack_recovery = osr;
	sent = (uint32_t)(tp->snd_nxt - start);
	tp->snd_cwnd = cwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
	return (sent);
}

/* Lost segments while the pipe leaves a segment of cwnd (force: the
 * first one whatever the pipe), then new data in what is left. */
static void
rack_recovery_output(struct tcpcb *tp, struct rack_control *rc, int force)
{
	uint32_t maxseg = tcp_fixed_maxseg(tp), cwnd = tp->snd_cwnd, pipe, len;
	struct rack_sendmap *r;
	int i;

	for (i = 0; i < 64; i++) {
		pipe = rack_pipe(rc);
		if (!force && pipe + maxseg > cwnd)
			break;
		force = 0;
		if ((r = rack_first_lost(rc)) == NULL)
			break;
		if (SEQ_LT(r->r_start, tp->snd_una)) {
			r->r_flags &= (uint8_t)~RSM_LOST;
			continue;
		}
		len = (uint32_t)(r->r_end - r->r_start);
		if (len > maxseg)
			len = maxseg;
		if (rack_xmit_range(tp, r->r_start, len) == 0)
			break;
		/* rack_sent cleared the mark of what went; an entry that
		 * could not be split went whole. */
		TCPSTAT_INC(tp->t_stack, tcps_sack_rexmits);
	}
	tcp_recovery_send_new(tp, rack_pipe(rc), cwnd, maxseg, SEQ_GEQ(tp->snd_nxt, tp->snd_max));
}

/* After detection: start the episode on the first loss (the cc module
 * reduces once), repair, and arm the reordering timer or the PTO. */
static void
rack_react(struct tcpcb *tp, struct rack_control *rc, uint64_t timeout)
{
	int force = 0;

	if (rack_first_lost(rc) != NULL && !IN_FASTRECOVERY(tp->t_flags) && !rc->rc_rto_valid) {
		TCPSTAT_INC(tp->t_stack, tcps_fastretransmits);
		cc_cong_signal(tp, CC_NDUPACK);
		tp->snd_cwnd = tp->snd_ssthresh;
		rc->rc_in_rec = 1;
		force = 1;
	}
	/* In our episode every ACK sends what the pipe allows (RFC 6675 5
	 * step C's rule with RACK's losses), lost segments first. */
	if (rack_first_lost(rc) != NULL || (rc->rc_in_rec && IN_FASTRECOVERY(tp->t_flags)))
		rack_recovery_output(tp, rc, force);
	if (timeout != 0)
		rack_timer_start(tp, rc, RACK_TIMER_REO, timeout);
	else
		rack_arm_pto(tp, rc, tp->snd_max);
}

/* ---------------------------------------------------------------------
 * Tail loss probes (RFC 8985 7.3-7.4).
 * ------------------------------------------------------------------- */

static void
rack_send_tlp(struct tcpcb *tp, struct rack_control *rc)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	uint32_t maxseg = tcp_fixed_maxseg(tp), flight = tp->snd_max - tp->snd_una, cwnd, len;
	uint32_t sbav = so != NULL ? so->so_snd.sb_cc : 0;
	tcp_seq omax = tp->snd_max, start;

	/* 7.3: new data when there is some and the peer's window takes
	 * it, else the last segment sent. */
	if (sbav > flight && tp->snd_wnd > flight && tp->snd_nxt == tp->snd_max) {
		cwnd = tp->snd_cwnd;
		tp->snd_cwnd = flight + maxseg;
		(void)tcp_output(tp);
		tp->snd_cwnd = cwnd;
		if (SEQ_GT(tp->snd_max, omax)) {
			TCPSTAT_INC(st, tcps_rack_tlp_new);
			rc->rc_tlp_valid = 1;
			rc->rc_tlp_is_retrans = 0;
			rc->rc_tlp_end_seq = tp->snd_max;
			return;
		}
	}
	len = flight < maxseg ? flight : maxseg;
	start = tp->snd_max - len;
	/* A FIN alone is resent by tcp_output from snd_max - 1. */
	if (rack_xmit_range(tp, start, len) == 0)
		return;
	TCPSTAT_INC(st, tcps_tlpresends);
	TCPSTAT_ADD(st, tcps_tlpresend_bytes, len);
	rc->rc_tlp_valid = 1;
	rc->rc_tlp_is_retrans = 1;
	rc->rc_tlp_end_seq = tp->snd_max;
}

/* 7.4.2: did the probe repair a loss? */
static void
rack_tlp_process_ack(struct tcpcb *tp, struct rack_control *rc, const struct tcp_seg *seg,
    int dsack, tcp_seq dsack_end)
{
	tcp_seq ack = seg->th.th_ack;

	if (!rc->rc_tlp_valid || SEQ_LT(ack, rc->rc_tlp_end_seq))
		return;
	if (!rc->rc_tlp_is_retrans) {
		/* New data: RACK finds any loss from its ACKs. */
		rc->rc_tlp_valid = 0;
		return;
	}
	if (dsack && dsack_end == rc->rc_tlp_end_seq) {
		/* The original arrived: no loss. */
		rc->rc_tlp_valid = 0;
		return;
	}
	if (SEQ_GT(ack, rc->rc_tlp_end_seq) ||
	    (ack == rc->rc_tlp_end_seq && !(seg->to.to_flags & TOF_SACK))) {
		/* The probe repaired a loss: the congestion response once,
		 * without a recovery episode (the loss is repaired). */
		rc->rc_tlp_valid = 0;
		TCPSTAT_INC(tp->t_stack, tcps_rack_tlp_recovery);
		if (!IN_RECOVERY(tp->t_flags)) {
			cc_cong_signal(tp, CC_NDUPACK);
			tp->snd_cwnd = tp->snd_ssthresh;
			cc_post_recovery(tp);
		}
	}
}

/* ---------------------------------------------------------------------
 * The hooks.
 * ------------------------------------------------------------------- */

static void
rack_sent(struct tcpcb *tp, tcp_seq seq, uint32_t len)
{
	struct rack_control *rc = rack_rc(tp);
	struct ust_stack *st = tp->t_stack;
	struct rack_sendmap *r;
	uint64_t now = stack_now(st);
	uint32_t tsval = tcp_ts_getticks(st) + tp->ts_offset;
	tcp_seq end = seq + len, newfrom;

	if (rc == NULL || len == 0)
		return;
	/* The part below snd_max is a retransmission of tracked data. */
	newfrom = SEQ_GT(end, tp->snd_max) ? tp->snd_max : end;
	if (SEQ_LT(newfrom, seq))
		newfrom = seq;
	if (SEQ_LT(seq, newfrom)) {
		for (r = rc->rc_head; r != NULL && SEQ_LT(r->r_start, newfrom); r = r->r_next) {
			if (SEQ_LEQ(r->r_end, seq))
				continue;
			if (SEQ_LT(r->r_start, seq) && rack_map_split(tp, rc, r, seq) == 0)
				continue; /* the next entry starts at seq */
			(void)rack_map_split(tp, rc, r, newfrom);
			r->r_xmit_ts = now;
			r->r_tsval = tsval;
			if (r->r_rexmits < UINT16_MAX)
				r->r_rexmits++;
			r->r_flags &= (uint8_t)~RSM_LOST;
		}
	}
	if (SEQ_LT(newfrom, end)) {
		r = rc->rc_tail;
		if (r != NULL && r->r_end == newfrom && rc->rc_nmaps >= 1 &&
		    (rc->rc_nmaps >= (uint32_t)V(st, tcp_rack_map_limit) ||
		        st->st_rack_maps >= (uint32_t)V(st, tcp_rack_map_globallimit))) {
			/* At a bound: the last entry grows. */
			TCPSTAT_INC(st, tcps_rack_map_exhausted);
			r->r_flags |= RSM_GROWN;
			r->r_end = end;
			r->r_xmit_ts = now;
			r->r_tsval = tsval;
		} else if ((r = rack_map_alloc(tp, rc)) != NULL) {
			r->r_start = newfrom;
			r->r_end = end;
			r->r_xmit_ts = now;
			r->r_tsval = tsval;
			if (rc->rc_tail != NULL)
				rc->rc_tail->r_next = r;
			else
				rc->rc_head = r;
			rc->rc_tail = r;
		}
		/* 7.2: a PTO after new data (not over a reordering timer). */
		if (rc->rc_timer_type != RACK_TIMER_REO)
			rack_arm_pto(tp, rc, SEQ_GT(end, tp->snd_max) ? end : tp->snd_max);
	}
}

static void
rack_ack_processed(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct rack_control *rc = rack_rc(tp);
	uint64_t now = stack_now(tp->t_stack), timeout;
	const struct tcpopt *to = &seg->to;
	struct rack_sendmap *r;
	tcp_seq ack = seg->th.th_ack, s, e, dsack_end = 0;
	int i, dsack = 0, first = 0;

	if (rc == NULL || !TCPS_HAVEESTABLISHED(tp->t_state))
		return;
	if (!(tp->t_flags & TF_SACK_PERMIT)) {
		/* No SACK: the default stack's NewReno recovers
		 * (TCP_FB_OWNS_LOSS); the map only follows snd_una. */
		while ((r = rc->rc_head) != NULL && SEQ_LEQ(r->r_end, tp->snd_una)) {
			rc->rc_head = r->r_next;
			if (rc->rc_tail == r)
				rc->rc_tail = NULL;
			rack_map_free(tp, rc, r);
		}
		if (r != NULL && SEQ_LT(r->r_start, tp->snd_una))
			r->r_start = tp->snd_una;
		return;
	}
	if (rc->rc_in_rec && !IN_FASTRECOVERY(tp->t_flags))
		rack_recovery_done(tp, rc);
	if (rc->rc_rto_valid && SEQ_GEQ(tp->snd_una, rc->rc_rto_recover))
		rc->rc_rto_valid = 0;
	/* RFC 2883 4: the first block is a D-SACK when it lies below the
	 * ACK or inside the second block. */
	if ((to->to_flags & TOF_SACK) && to->to_nsacks > 0) {
		s = to->to_sacks[0].start;
		e = to->to_sacks[0].end;
		if (SEQ_LEQ(e, ack) ||
		    (to->to_nsacks > 1 && SEQ_GEQ(s, to->to_sacks[1].start) &&
		        SEQ_LEQ(e, to->to_sacks[1].end))) {
			dsack = 1;
			dsack_end = e;
			first = 1;
		}
	}
	/* Cumulatively acknowledged segments (6.2 step 1). */
	while ((r = rc->rc_head) != NULL && SEQ_LEQ(r->r_end, tp->snd_una)) {
		if (!(r->r_flags & RSM_SACKED))
			rack_update(tp, rc, r, r->r_end, seg, now);
		rc->rc_head = r->r_next;
		if (rc->rc_tail == r)
			rc->rc_tail = NULL;
		rack_map_free(tp, rc, r);
	}
	if (r != NULL && SEQ_LT(r->r_start, tp->snd_una)) {
		if (!(r->r_flags & RSM_SACKED))
			rack_update(tp, rc, r, tp->snd_una, seg, now);
		else
			rc->rc_sacked_bytes -= (uint32_t)(tp->snd_una - r->r_start);
		r->r_start = tp->snd_una;
	}
	/* Newly SACKed segments. */
	if (to->to_flags & TOF_SACK) {
		for (i = first; i < to->to_nsacks; i++) {
			s = to->to_sacks[i].start;
			e = to->to_sacks[i].end;
			if (!SEQ_LT(s, e) || SEQ_LEQ(e, tp->snd_una) || SEQ_GT(e, tp->snd_max))
				continue;
			for (r = rc->rc_head; r != NULL && SEQ_LT(r->r_start, e); r = r->r_next) {
				if (SEQ_LEQ(r->r_end, s) || (r->r_flags & RSM_SACKED))
					continue;
				if (SEQ_LT(r->r_start, s)) {
					(void)rack_map_split(tp, rc, r, s);
					continue;
				}
				if (SEQ_GT(r->r_end, e) && rack_map_split(tp, rc, r, e) != 0)
					continue; /* only part of it is SACKed */
				r->r_flags |= RSM_SACKED;
				r->r_flags &= (uint8_t)~RSM_LOST;
				rc->rc_sacked_bytes += (uint32_t)(r->r_end - r->r_start);
				rack_update(tp, rc, r, r->r_end, seg, now);
			}
		}
	}
	rack_update_reo_wnd(tp, rc, dsack);
	rack_tlp_process_ack(tp, rc, seg, dsack, dsack_end);
	if (tp->snd_una == tp->snd_max) {
		rack_timer_stop(tp, rc);
		return;
	}
	timeout = rack_detect_loss(tp, rc, now);
	rack_react(tp, rc, timeout);
}

static void
rack_rexmit_tmr(struct tcpcb *tp)
{
	struct rack_control *rc = rack_rc(tp);
	struct rack_sendmap *r;

	if (rc == NULL)
		return;
	/* RFC 8985 6.3 / RFC 6298: the default stack goes back to snd_una
	 * and resends what is not SACKed; marks restart with it.  No new
	 * episode for the data outstanding now. */
	rack_timer_stop(tp, rc);
	rc->rc_tlp_valid = 0;
	rc->rc_in_rec = 0;
	rc->rc_rto_valid = 1;
	rc->rc_rto_recover = tp->snd_max;
	for (r = rc->rc_head; r != NULL; r = r->r_next)
		r->r_flags &= (uint8_t)~RSM_LOST;
}

static void
rack_timer(void *arg)
{
	struct tcpcb *tp = arg;
	struct rack_control *rc = rack_rc(tp);
	uint64_t timeout;
	int type;

	if (rc == NULL)
		return;
	type = rc->rc_timer_type;
	rc->rc_timer_type = RACK_TIMER_NONE;
	if (tp->t_state < TCPS_ESTABLISHED || tp->t_state > TCPS_LAST_ACK ||
	    tp->snd_una == tp->snd_max)
		return;
	if (type == RACK_TIMER_REO) {
		/* 6.3: the reordering window has passed. */
		TCPSTAT_INC(tp->t_stack, tcps_rack_to_tot);
		timeout = rack_detect_loss(tp, rc, stack_now(tp->t_stack));
		rack_react(tp, rc, timeout);
		return;
	}
	if (type == RACK_TIMER_PTO) {
		rack_send_tlp(tp, rc);
		/* 7.3: the RTO again from the probe. */
		tcp_timer_activate(tp, TT_REXMT, tcp_rexmt_timeout(tp, tp->t_rxtshift));
	}
}

static int
rack_fb_init(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct rack_control *rc;
	struct rack_sendmap *r;

	if (st->st_rack_zone == NULL || (rc = st_malloc(st, sizeof(*rc))) == NULL)
		return (UST_ENOMEM);
	memset(rc, 0, sizeof(*rc));
	rc->rc_tp = tp;
	rc->rc_xmit_ts = RACK_NONE;
	rc->rc_min_rtt = RACK_NONE;
	rc->rc_reo_wnd_mult = (uint32_t)V(st, tcp_rack_reo_mult);
	rc->rc_fack = tp->snd_una;
	callout_init(&rc->rc_timer);
	tp->t_fb_ptr = rc;
	/* A connection handed over with data in flight: one entry for it,
	 * sent now as far as RACK knows. */
	if (tp->snd_max != tp->snd_una && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    (r = rack_map_alloc(tp, rc)) != NULL) {
		r->r_start = tp->snd_una;
		r->r_end = tp->snd_max;
		r->r_xmit_ts = stack_now(st);
		r->r_tsval = tcp_ts_getticks(st) + tp->ts_offset;
		rc->rc_head = rc->rc_tail = r;
	}
	return (0);
}

static void
rack_fb_fini(struct tcpcb *tp, int tcb_is_purged)
{
	struct rack_control *rc = rack_rc(tp);

	(void)tcb_is_purged;
	if (rc == NULL)
		return;
	rack_timer_stop(tp, rc);
	rack_map_clear(tp, rc);
	st_free(tp->t_stack, rc, sizeof(*rc));
	tp->t_fb_ptr = NULL;
}

/* A live connection moves to rack unless a loss recovery or a timeout
 * backoff runs (the default's scoreboard episode cannot be taken over). */
static int
rack_handoff_ok(struct tcpcb *tp)
{
	if (IN_RECOVERY(tp->t_flags) || tp->t_rxtshift != 0)
		return (UST_EINVAL);
	return (0);
}

const struct tcp_function_block tcp_rack_funcblk = {
	.tfb_tcp_block_name = "rack",
	.tfb_tcp_output = tcp_output,
	.tfb_tcp_do_segment = tcp_do_segment,
	.tfb_tcp_fb_init = rack_fb_init,
	.tfb_tcp_fb_fini = rack_fb_fini,
	.tfb_tcp_handoff_ok = rack_handoff_ok,
	.tfb_tcp_rexmit_tmr = rack_rexmit_tmr,
	.tfb_tcp_sent = rack_sent,
	.tfb_tcp_ack_processed = rack_ack_processed,
	.tfb_flags = TCP_FUNC_DEFAULT_OK | TCP_FUNC_OWN_LOSS,
};

uint32_t
rack_map_info(const struct tcpcb *tp, struct rack_map_info *out, uint32_t max)
{
	const struct rack_control *rc =
	    tp->t_fb == &tcp_rack_funcblk ? (const struct rack_control *)tp->t_fb_ptr : NULL;
	const struct rack_sendmap *r;
	uint32_t n = 0;

	if (rc == NULL)
		return (0);
	for (r = rc->rc_head; r != NULL; r = r->r_next, n++) {
		if (n >= max)
			continue;
		out[n].start = r->r_start;
		out[n].end = r->r_end;
		out[n].rexmits = r->r_rexmits;
		out[n].sacked = (r->r_flags & RSM_SACKED) != 0;
		out[n].lost = (r->r_flags & RSM_LOST) != 0;
	}
	return (n);
}

int
rack_state(const struct tcpcb *tp, struct rack_state_info *out)
{
	const struct rack_control *rc =
	    tp->t_fb == &tcp_rack_funcblk ? (const struct rack_control *)tp->t_fb_ptr : NULL;

	if (rc == NULL)
		return (-1);
	out->rtt_ns = rc->rc_xmit_ts == RACK_NONE ? RACK_NONE : rc->rc_rtt;
	out->min_rtt_ns = rc->rc_min_rtt;
	out->reo_wnd_mult = rc->rc_reo_wnd_mult;
	out->reo_wnd_persist = rc->rc_reo_wnd_persist;
	out->reord = rc->rc_reord;
	out->tlp_outstanding = rc->rc_tlp_valid;
	return (0);
}

int
rack_init(struct ust_stack *st)
{
	st->st_rack_maps = 0;
	st->st_rack_zone = ust_zone_create(&st->st_mem, "rack_sendmap", sizeof(struct rack_sendmap),
	    (uint32_t)V(st, tcp_rack_map_globallimit), 0);
	return (st->st_rack_zone == NULL ? UST_ENOMEM : 0);
}

void
rack_fini(struct ust_stack *st)
{
	if (st->st_rack_zone != NULL)
		ust_zone_destroy(st->st_rack_zone);
	st->st_rack_zone = NULL;
}

#endif /* UST_TCP_RACK */
