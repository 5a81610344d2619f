/*
 * cc_newreno.c - NewReno congestion control as a cc module (FreeBSD's
 * cc_newreno.c): slow start and congestion avoidance (RFC 5681 3.1) with
 * appropriate byte counting (RFC 3465), the initial window of RFC 6928 (or
 * RFC 3390), the restart window after an idle period (RFC 5681 4.1), fast
 * retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial ACKs
 * (RFC 6582 3.2), and the response to a retransmission timeout (RFC 5681
 * 3.1 eq. 4, RFC 6298 5.5).
 *
 * What each hook does to cwnd/ssthresh (the callers in tcp_input.c and
 * tcp_timer.c rely on it and do not touch either field):
 *   conn_init        cwnd = IW (1 segment when the SYN was retransmitted:
 *                    RFC 6928 2, FreeBSD's snd_cwnd == 1 marker)
 *   ack_received ACK    outside recovery: slow start / ABC growth when the
 *                    sender was cwnd limited; in fast recovery (a partial
 *                    ACK): deflate by the bytes acked, add back one
 *                    segment if at least one was acked (RFC 6582 3.2 st. 5)
 *   ack_received DUPACK in fast recovery: +1 segment (RFC 5681 3.2 st. 4)
 *   cong_signal NDUPACK ssthresh = max(FlightSize / 2, 2 * SMSS) and
 *                    cwnd = ssthresh + 3 * SMSS (RFC 5681 3.2 steps 2-3:
 *                    the three segments that left the network).  FreeBSD
 *                    sets the same value from tcp_input; we keep it here so
 *                    that only the module writes cwnd.
 *   cong_signal RTO  first timeout: ssthresh = max(FlightSize / 2, 2 * SMSS);
 *                    every timeout: cwnd = 1 segment (the loss window)
 *   cong_signal RTO_ERR back to the window before the spurious timeout
 *   post_recovery    cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
 *                    (RFC 6582 3.2 step 3, option 1), with FlightSize =
 *                    snd_max - snd_una once snd_una is the full ACK
 *   after_idle       cwnd = min(IW, cwnd) (RFC 5681 4.1 restart window)
 */
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/tcp_var.h"

/* What a spurious timeout must undo (RFC 5681 leaves it to the sender;
 * FreeBSD keeps snd_cwnd_prev and friends in the tcpcb). */
struct newreno {
	uint32_t cwnd_prev;
	uint32_t ssthresh_prev;
	tcp_seq recover_prev;
};

/* RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS). */
static uint32_t
newreno_halve(const struct tcpcb *tp)
{
	uint32_t half = cc_flight(tp) / 2;

	return (half > 2 * tp->t_maxseg ? half : 2 * tp->t_maxseg);
}

static int
newreno_cb_init(struct cc_var *ccv, void *data)
{
	struct newreno *nr = data;

	(void)ccv;
	nr->cwnd_prev = 0;
	nr->ssthresh_prev = 0;
	nr->recover_prev = 0;
	return (0);
}

static void
newreno_conn_init(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;

	if (tp->snd_ssthresh == 0)
		tp->snd_ssthresh = (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT;
	/* RFC 6928 2 / RFC 5681 3.1: one segment if the SYN (or SYN-ACK)
	 * had to be retransmitted (tcp_timer marks it with cwnd == 1). */
	if (tp->snd_cwnd == 1)
		tp->snd_cwnd = tp->t_maxseg;
	else
		tp->snd_cwnd = cc_initwnd(tp);
}

/* RFC 5681 3.1 with RFC 3465: growth on an ACK of new data outside
 * recovery. */
static void
newreno_grow(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;
	struct ust_stack *st = tp->t_stack;
	uint32_t cw = tp->snd_cwnd, mss = tp->t_maxseg, incr;
	uint64_t ncw;

	if (cw > tp->snd_ssthresh) {
		/* Congestion avoidance: one segment per window of ACKed bytes
		 * (RFC 3465 2.1), or mss*mss/cwnd per ACK (RFC 5681 eq. 3). */
		if (V(st, tcp_do_rfc3465)) {
			tp->t_bytes_acked += ccv->bytes_this_ack;
			if (tp->t_bytes_acked >= cw) {
				tp->t_bytes_acked -= cw;
				incr = mss;
			} else
				incr = 0;
		} else {
			incr = (uint32_t)(((uint64_t)mss * mss) / cw);
			if (incr == 0)
				incr = 1;
		}
	} else
		incr = cc_ss_incr(ccv);
	ncw = (uint64_t)cw + incr;
	if (ncw > cc_maxwnd(tp))
		ncw = cc_maxwnd(tp);
	if (ncw > cw)
		tp->snd_cwnd = (uint32_t)ncw;
}

static void
newreno_ack_received(struct cc_var *ccv, uint16_t type)
{
	struct tcpcb *tp = ccv->tp;

	/* RFC 5681 3.2 step 4 (each further duplicate ACK means a segment
	 * left the network) and RFC 6582 3.2 step 5 (a partial ACK). */
	if (IN_FASTRECOVERY(tp->t_flags)) {
		cc_recovery_ack(ccv, type);
		return;
	}
	if (type == CC_DUPACK)
		return;
	if (ccv->flags & CCF_CWND_LIMITED)
		newreno_grow(ccv);
}

static void
newreno_cong_signal(struct cc_var *ccv, uint32_t type)
{
	struct tcpcb *tp = ccv->tp;
	struct newreno *nr = tp->t_ccdata;
	uint32_t mss = tp->t_maxseg;

	switch (type) {
	case CC_NDUPACK:
		tp->snd_ssthresh = newreno_halve(tp);
		tp->snd_cwnd = tp->snd_ssthresh + 3 * mss;
		break;
	case CC_ECN:
		tp->snd_ssthresh = newreno_halve(tp);
		tp->snd_cwnd = tp->snd_ssthresh;
		break;
	case CC_RTO:
		if (tp->t_rxtshift <= 1) {
			if (nr != NULL) {
				nr->cwnd_prev = tp->snd_cwnd;
				nr->ssthresh_prev = tp->snd_ssthresh;
				nr->recover_prev = tp->snd_recover;
			}
			tp->snd_ssthresh = newreno_halve(tp);
		}
		/* RFC 5681 3.1: loss window of one segment, as the segment
		 * really leaves (options counted, FreeBSD tcp_fixed_maxseg), so
		 * the retransmission is one segment and not one plus a runt. */
		tp->snd_cwnd = tcp_fixed_maxseg(tp);
		break;
	case CC_RTO_ERR:
		if (nr != NULL && nr->cwnd_prev != 0) {
			tp->snd_cwnd = nr->cwnd_prev;
			tp->snd_ssthresh = nr->ssthresh_prev;
			tp->snd_recover = nr->recover_prev;
		}
		break;
	default:
		break;
	}
}

static void
newreno_post_recovery(struct cc_var *ccv)
{
	cc_recovery_exit(ccv);
}

static void
newreno_after_idle(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;
	uint32_t rw = cc_initwnd(tp);

	if (rw < tp->snd_cwnd)
		tp->snd_cwnd = rw;
}

const struct cc_algo newreno_cc_algo = {
	.name = "newreno",
	.data_size = sizeof(struct newreno),
	.cb_init = newreno_cb_init,
	.conn_init = newreno_conn_init,
	.ack_received = newreno_ack_received,
	.cong_signal = newreno_cong_signal,
	.post_recovery = newreno_post_recovery,
	.after_idle = newreno_after_idle,
};
