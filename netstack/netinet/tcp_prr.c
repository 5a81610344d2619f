/*
 * tcp_prr.c - Proportional Rate Reduction (RFC 6937), FreeBSD's
 * net.inet.tcp.do_prr (default 1).
 *
 * During fast recovery PRR decides how much may be sent on each ACK:
 *
 *   enter:  prr_delivered = prr_out = 0, RecoverFS = snd.nxt - snd.una
 *   ACK:    prr_delivered += DeliveredData
 *           pipe >  ssthresh: sndcnt = CEIL(prr_delivered * ssthresh /
 *                                           RecoverFS) - prr_out
 *           pipe <= ssthresh: sndcnt = MIN(ssthresh - pipe, limit), limit
 *                             = MAX(prr_delivered - prr_out,
 *                                   DeliveredData) + MSS    (PRR-SSRB)
 *   send:   prr_out += bytes sent (tcp_output, in any fast recovery)
 *   exit:   cwnd = ssthresh
 *
 * so the window falls smoothly to ssthresh over one round trip instead of
 * RFC 6675's half-window of silence, and after heavy losses it grows back
 * at most one segment per ACK beyond what the ACK delivered instead of
 * bursting.  The window for each ACK is snd_cwnd = pipe + sndcnt, which the
 * existing RFC 6675 NextSeg() loop (tcp_sack_recovery_output) and
 * tcp_output obey unchanged.
 *
 * SACK recovery: pipe is RFC 6675 SetPipe() and DeliveredData the change
 * of snd_una plus the signed change of SACKed bytes (RFC 6937 2), from
 * tcp_sack_doack.  Like RFC 6937bis (and FreeBSD), an ACK that delivers
 * nothing gets the conservative bound prr_delivered - prr_out only (ACK
 * splitting).  Without SACK (FreeBSD's rule): each duplicate ACK counts
 * as one segment delivered, at most DupThresh segments plus the recovery
 * window in all, pipe is the data outstanding less one segment per
 * duplicate ACK, and a partial ACK keeps NewReno's retransmission of the
 * next hole (RFC 6582 3.2 step 5).
 */
#include "kern/stack_var.h"
#include "netinet/tcp_prr.h"
#include "netinet/tcp_var.h"

uint32_t
tcp_prr_sndcnt(uint32_t prr_delivered, uint32_t prr_out, uint32_t recoverfs, uint32_t ssthresh,
    uint32_t pipe, uint32_t delivered, uint32_t mss)
{
	int64_t cnt, banked = (int64_t)prr_delivered - prr_out, limit;

	if (mss == 0)
		return (0);
	if (pipe > ssthresh) {
		/* Proportional part: the sending rate is ssthresh/RecoverFS
		 * of the delivery rate.  Rounded up to whole segments. */
		if (recoverfs == 0)
			recoverfs = 1;
		cnt = (int64_t)(((uint64_t)prr_delivered * ssthresh + recoverfs - 1) / recoverfs) -
		    prr_out;
		if (cnt <= 0)
			return (0);
		return ((uint32_t)((cnt + mss - 1) / mss) * mss);
	}
	/* Reduction bound: slow start (SSRB) back towards ssthresh, or only
	 * what was banked (CRB) for an ACK that delivered nothing. */
	limit = delivered == 0 ? banked : (banked > delivered ? banked : delivered) + mss;
	cnt = (int64_t)ssthresh - pipe;
	if (limit < cnt)
		cnt = limit;
	if (cnt <= 0)
		return (0);
	return ((uint32_t)(cnt / mss) * mss);
}

/* The window for this ACK: base + sndcnt (base: pipe with SACK, the data
 * outstanding without, as tcp_output measures new data from snd_una), at
 * least one segment as FreeBSD keeps it. */
static void
tcp_prr_set_cwnd(struct tcpcb *tp, uint32_t base, uint32_t pipe, uint32_t delivered)
{
	struct sackhint *sh = &tp->sackhint;
	uint32_t mss = tcp_fixed_maxseg(tp);
	uint64_t w;

	sh->prr_delivered += delivered;
	w = (uint64_t)base +
	    tcp_prr_sndcnt(sh->prr_delivered, sh->prr_out, sh->prr_recoverfs, tp->snd_ssthresh,
	        pipe, delivered, mss);
	if (w < mss)
		w = mss;
	tp->snd_cwnd = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

/* Without SACK (FreeBSD's estimates): a duplicate ACK delivered one
 * segment, as long as no more than DupThresh segments plus the rest of
 * the recovery window are counted; pipe is what is outstanding less one
 * segment per duplicate ACK. */
static void
tcp_prr_reno_ack(struct tcpcb *tp)
{
	uint32_t mss = tcp_fixed_maxseg(tp), out = (uint32_t)(tp->snd_max - tp->snd_una);
	uint32_t cap = TCP_DUPACK_THRESH * mss, gone, delivered = 0;

	if (SEQ_GT(tp->snd_recover, tp->snd_una))
		cap += (uint32_t)(tp->snd_recover - tp->snd_una);
	if (tp->sackhint.prr_delivered < cap)
		delivered = mss;
	gone = (uint64_t)tp->t_dupacks * mss < out ? tp->t_dupacks * mss : out;
	tcp_prr_set_cwnd(tp, out, out - gone, delivered);
}

void
tcp_prr_enter(struct tcpcb *tp, int sack)
{
	struct sackhint *sh = &tp->sackhint;
	uint32_t fs = (uint32_t)(tp->snd_max - tp->snd_una);

	sh->prr_recoverfs = 0;
	if (!V(tp->t_stack, tcp_do_prr))
		return;
	sh->prr_delivered = 0;
	sh->prr_out = 0;
	sh->prr_recoverfs = fs > 0 ? fs : 1;
	if (sack)
		(void)tcp_prr_ack(tp);
	else
		sh->prr_delivered = tcp_fixed_maxseg(tp); /* the third duplicate */
}

int
tcp_prr_ack(struct tcpcb *tp)
{
	if (tp->sackhint.prr_recoverfs == 0 || !IN_FASTRECOVERY(tp->t_flags))
		return (0);
	if (tp->t_sack_recovery && !tp->t_sack_overflow) {
		uint32_t pipe = tcp_sack_pipe(tp);

		tcp_prr_set_cwnd(tp, pipe, pipe, tp->sackhint.delivered_data);
		return (1);
	}
	if (tp->t_sack_recovery)
		return (0); /* the scoreboard gave up: NewReno's rules */
	tcp_prr_reno_ack(tp);
	return (1);
}

void
tcp_prr_exit(struct tcpcb *tp)
{
	if (tp->sackhint.prr_recoverfs == 0)
		return;
	tp->sackhint.prr_recoverfs = 0;
	/* RFC 6937 3: PRR has brought pipe to ssthresh; no deflation
	 * rule is needed. */
	tp->snd_cwnd = tp->snd_ssthresh;
}
