/*
 * cc_cubic.c - CUBIC congestion control (RFC 9438) as a cc module, written
 * from the RFC in integer arithmetic only (no floating point, no libm: the
 * same code runs on Cortex-M).
 *
 * Windows are kept in bytes, the RFC's formulas are in segments: one
 * segment is t_maxseg bytes.  Constants are ratios: C = 4/10 (RFC 9438
 * 5.1), beta_cubic = 7/10 (4.6), alpha_cubic = 3 (1 - beta) / (1 + beta)
 * = 9/17 (4.3).  Time is the stack clock (stack_now(), ns); the cubic
 * function is evaluated in milliseconds, K by an integer cube root.
 *
 * What each hook does (tcp_input.c / tcp_timer.c / tcp_output.c call them
 * through cc.c and touch neither cwnd nor ssthresh themselves):
 *   conn_init        cwnd = IW (RFC 6928; one segment after a lost SYN)
 *   ack_received ACK   cwnd < ssthresh: slow start with byte counting
 *                    (RFC 9438 4.10, RFC 3465); otherwise congestion
 *                    avoidance (4.2-4.5): the epoch starts on the first
 *                    such ACK; target = W_cubic(t + RTT) bounded to
 *                    [cwnd, 1.5 cwnd]; cwnd += (target - cwnd) / cwnd per
 *                    segment acked, or cwnd = W_est in the Reno-friendly
 *                    region (W_cubic(t) < W_est).  No growth when the
 *                    sender was not cwnd limited, and that time is taken
 *                    out of t (5.8).  In fast recovery: RFC 5681 3.2 /
 *                    RFC 6582 inflation and deflation (cc.c).
 *   cong_signal NDUPACK/ECN  W_max with fast convergence (4.7),
 *                    ssthresh = max(FlightSize * beta, 2 SMSS) (4.6),
 *                    cwnd = ssthresh (+ 3 SMSS inflation for NDUPACK)
 *   cong_signal RTO  first timeout: the state is saved and ssthresh set as
 *                    in 4.6; every timeout: cwnd = 1 segment; the next CA
 *                    stage starts with K = 0 and W_max = W_est = cwnd (4.8)
 *   cong_signal RTO_ERR  the saved state comes back (4.9)
 *   post_recovery    cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
 *   after_idle       the epoch start moves forward by the idle time so
 *                    that t leaves it out (5.8), then the RFC 5681 4.1
 *                    restart window: cwnd = min(IW, cwnd)
 *
 * Not here: HyStart++ (RFC 9406, which 4.10 recommends): slow start is
 * RFC 5681's.
 */
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/tcp_var.h"

#if UST_CC_CUBIC /* ustack_opts.h */

/* RFC 9438 5.1: C = 0.4 segments / s^3. */
#define CUBIC_C_NUM 4
#define CUBIC_C_DEN 10
/* RFC 9438 4.6: beta_cubic = 0.7. */
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
/* RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta). */
#define CUBIC_ALPHA_NUM (3 * (CUBIC_BETA_DEN - CUBIC_BETA_NUM))
#define CUBIC_ALPHA_DEN (CUBIC_BETA_DEN + CUBIC_BETA_NUM)
/* |t - K| in ms is clamped so that its cube fits in 64 bits (35 min). */
#define CUBIC_DT_MAX_MS ((1ull << 21) - 1)
#define CUBIC_NS_PER_US 1000ull
#define CUBIC_US_PER_MS 1000ull
#define CUBIC_MS3_PER_S3 1000000000ull

/* The state of the current congestion-avoidance stage. */
struct cubic_state {
	uint64_t t_epoch;    /* ns: start of the CA stage (RFC 9438 4.2) */
	uint64_t w_max;      /* bytes: W_max */
	uint64_t cwnd_epoch; /* bytes: cwnd when the stage began */
	uint64_t cwnd_prior; /* bytes: cwnd when ssthresh was last set (4.3) */
	uint64_t w_est;      /* bytes: W_est, the Reno-friendly window (4.3) */
	uint64_t k_ms;       /* K (4.2) */
	uint32_t flags;      /* CUBICF_* */
};
#define CUBICF_EPOCH 0x01     /* t_epoch and friends are valid */
#define CUBICF_AFTER_RTO 0x02 /* the next stage starts as 4.8 says */
#define CUBICF_ACKED 0x04     /* t_lastack is valid */

struct cubic {
	struct cubic_state cs;
	uint64_t t_lastack; /* ns: the last ACK of new data */
	/* Remainders of the per-ACK divisions, so that many small ACKs add
	 * up to what one big ACK would give. */
	uint64_t cwnd_rem; /* of (target - cwnd) * acked / cwnd */
	uint64_t west_rem; /* of alpha * acked * SMSS / cwnd */
	/* What a spurious timeout goes back to (4.9). */
	struct cubic_state saved;
	uint32_t saved_cwnd;
	uint32_t saved_ssthresh;
	tcp_seq saved_recover;
	int saved_valid;
};

/*
 * The integer cube root, floor(cbrt(x)): one bit of the root per three
 * bits of x, from the top.  With y the root so far, the next candidate
 * 2y + 1 fits when the rest of x holds (2y + 1)^3 - (2y)^3 = 3 * 2y *
 * (2y + 1) + 1, scaled to the bits under consideration.
 */
static uint64_t
cubic_cbrt(uint64_t x)
{
	uint64_t y = 0, b;
	int s;

	for (s = 63; s >= 0; s -= 3) {
		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (y);
}

/*
 * RFC 9438 4.2 eq. 2: K = cbrt((W_max - cwnd_epoch) / C) seconds, in
 * segments.  In ms and bytes: K_ms^3 = (W_max - cwnd_epoch) * 10^9 / (C *
 * SMSS).
 */
static uint64_t
cubic_k_ms(uint64_t w_max, uint64_t cwnd_epoch, uint32_t mss)
{
	const uint64_t f = CUBIC_MS3_PER_S3 * CUBIC_C_DEN / CUBIC_C_NUM;
	uint64_t diff, k3;

	if (w_max <= cwnd_epoch || mss == 0)
		return (0);
	diff = w_max - cwnd_epoch;
	if (diff > UINT64_MAX / f)
		k3 = diff / mss * f;
	else
		k3 = diff * f / mss;
	return (cubic_cbrt(k3));
}

/* RFC 9438 4.2 eq. 1: W_cubic(t) = C (t - K)^3 + W_max, t in ms since the
 * epoch, in bytes. */
static uint64_t
cubic_w(const struct cubic_state *cs, uint64_t t_ms, uint32_t mss)
{
	uint64_t dt, q, hi, lo, delta;
	int neg;

	neg = t_ms < cs->k_ms;
	dt = neg ? cs->k_ms - t_ms : t_ms - cs->k_ms;
	if (dt > CUBIC_DT_MAX_MS)
		dt = CUBIC_DT_MAX_MS;
	q = dt * dt * dt; /* ms^3 */
	/* C * SMSS * q / 10^9, split so that nothing overflows. */
	hi = q / CUBIC_MS3_PER_S3;
	lo = q % CUBIC_MS3_PER_S3;
	delta = hi * mss * CUBIC_C_NUM / CUBIC_C_DEN +
	    lo * mss * CUBIC_C_NUM / (CUBIC_C_DEN * CUBIC_MS3_PER_S3);
	if (neg)
		return (cs->w_max > delta ? cs->w_max - delta : 0);
	return (cs->w_max + delta);
}

/* The first ACK of a congestion-avoidance stage (RFC 9438 4.2, 4.8). */
static void
cubic_epoch_start(struct cubic *c, const struct tcpcb *tp, uint64_t now)
{
	struct cubic_state *cs = &c->cs;
	uint64_t cwnd = tp->snd_cwnd;

	cs->t_epoch = now;
	cs->cwnd_epoch = cwnd;
	cs->w_est = cwnd;
	if ((cs->flags & CUBICF_AFTER_RTO) || cs->w_max <= cwnd) {
		/* 4.8: after a timeout K = 0 and W_max is this stage's first
		 * cwnd; the same when no loss has told us a W_max above it. */
		cs->w_max = cwnd;
		cs->k_ms = 0;
	} else
		cs->k_ms = cubic_k_ms(cs->w_max, cwnd, tp->t_maxseg);
	cs->flags = (cs->flags | CUBICF_EPOCH) & ~CUBICF_AFTER_RTO;
	c->cwnd_rem = 0;
	c->west_rem = 0;
}

/* RFC 9438 4.2-4.5: congestion avoidance on an ACK of new data. */
static void
cubic_avoid(struct cc_var *ccv, struct cubic *c, uint64_t now)
{
	struct tcpcb *tp = ccv->tp;
	struct cubic_state *cs = &c->cs;
	uint32_t mss = tp->t_maxseg;
	uint64_t cwnd = tp->snd_cwnd, acked = ccv->bytes_this_ack;
	uint64_t t_us, target, w_t, ncw, num, den;

	if (!(cs->flags & CUBICF_EPOCH))
		cubic_epoch_start(c, tp, now);
	if (acked > cwnd)
		acked = cwnd;
	t_us = (now - cs->t_epoch) / CUBIC_NS_PER_US;
	w_t = cubic_w(cs, t_us / CUBIC_US_PER_MS, mss);

	/* 4.2: the target a RTT ahead, bounded to [cwnd, 1.5 cwnd]. */
	target = cubic_w(cs, (t_us + tp->t_srtt) / CUBIC_US_PER_MS, mss);
	if (target < cwnd)
		target = cwnd;
	else if (target > cwnd + cwnd / 2)
		target = cwnd + cwnd / 2;

	/* 4.3: W_est += alpha * segments_acked / cwnd, alpha = 1 once W_est
	 * reached the window of the last reduction. */
	if (cs->w_est >= cs->cwnd_prior) {
		num = 1;
		den = 1;
	} else {
		num = CUBIC_ALPHA_NUM;
		den = CUBIC_ALPHA_DEN;
	}
	c->west_rem += num * acked * mss;
	den *= cwnd;
	cs->w_est += c->west_rem / den;
	c->west_rem %= den;

	if (w_t < cs->w_est) {
		/* 4.3: the Reno-friendly region; cwnd = W_est (never lowered
		 * on an ACK). */
		ncw = cs->w_est > cwnd ? cs->w_est : cwnd;
	} else {
		/* 4.4 concave, 4.5 convex: (target - cwnd) / cwnd per
		 * segment acked, in bytes (target - cwnd) * acked / cwnd. */
		c->cwnd_rem += (target - cwnd) * acked;
		ncw = cwnd + c->cwnd_rem / cwnd;
		c->cwnd_rem %= cwnd;
	}
	if (ncw > cc_maxwnd(tp))
		ncw = cc_maxwnd(tp);
	if (ncw > cwnd)
		tp->snd_cwnd = (uint32_t)ncw;
}

static int
cubic_cb_init(struct cc_var *ccv, void *data)
{
	(void)ccv;
	memset(data, 0, sizeof(struct cubic));
	return (0);
}

static void
cubic_conn_init(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;

	if (tp->snd_ssthresh == 0)
		tp->snd_ssthresh = (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT;
	/* RFC 6928 2: one segment if the SYN (or SYN-ACK) was retransmitted
	 * (tcp_timer marks it with cwnd == 1). */
	if (tp->snd_cwnd == 1)
		tp->snd_cwnd = tp->t_maxseg;
	else
		tp->snd_cwnd = cc_initwnd(tp);
}

static void
cubic_ack_received(struct cc_var *ccv, uint16_t type)
{
	struct tcpcb *tp = ccv->tp;
	struct cubic *c = tp->t_ccdata;
	uint64_t now, ncw;

	if (IN_FASTRECOVERY(tp->t_flags)) {
		cc_recovery_ack(ccv, type);
		return;
	}
	if (type == CC_DUPACK)
		return;
	now = stack_now(tp->t_stack);
	if (!(ccv->flags & CCF_CWND_LIMITED)) {
		/* 5.8: no growth while application (or receiver) limited,
		 * and t must not count that time. */
		if ((c->cs.flags & (CUBICF_EPOCH | CUBICF_ACKED)) ==
		        (CUBICF_EPOCH | CUBICF_ACKED) &&
		    now > c->t_lastack)
			c->cs.t_epoch += now - c->t_lastack;
	} else if (tp->snd_cwnd < tp->snd_ssthresh) {
		/* 4.10: slow start. */
		ncw = (uint64_t)tp->snd_cwnd + cc_ss_incr(ccv);
		if (ncw > cc_maxwnd(tp))
			ncw = cc_maxwnd(tp);
		if (ncw > tp->snd_cwnd)
			tp->snd_cwnd = (uint32_t)ncw;
	} else
		cubic_avoid(ccv, c, now);
	c->t_lastack = now;
	c->cs.flags |= CUBICF_ACKED;
}

/* RFC 9438 4.6: ssthresh = max(FlightSize * beta_cubic, 2 SMSS). */
static uint32_t
cubic_ssthresh(const struct tcpcb *tp)
{
	uint64_t w = (uint64_t)cc_flight(tp) * CUBIC_BETA_NUM / CUBIC_BETA_DEN;

	if (w < 2ull * tp->t_maxseg)
		w = 2ull * tp->t_maxseg;
	return ((uint32_t)w);
}

/* A loss or an ECN echo (RFC 9438 4.6, 4.7). */
static void
cubic_reduce(struct cubic *c, struct tcpcb *tp)
{
	struct cubic_state *cs = &c->cs;
	uint64_t cwnd = tp->snd_cwnd;

	/* 4.7 fast convergence: a loss before the last W_max was reached
	 * means less room; leave some for newer flows. */
	if (cwnd < cs->w_max)
		cs->w_max = cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) / (2 * CUBIC_BETA_DEN);
	else
		cs->w_max = cwnd;
	cs->cwnd_prior = cwnd;
	cs->flags &= ~(CUBICF_EPOCH | CUBICF_AFTER_RTO);
	tp->snd_ssthresh = cubic_ssthresh(tp);
}

static void
cubic_cong_signal(struct cc_var *ccv, uint32_t type)
{
	struct tcpcb *tp = ccv->tp;
	struct cubic *c = tp->t_ccdata;
	struct cubic_state *cs = &c->cs;
	uint32_t mss = tp->t_maxseg;

	switch (type) {
	case CC_NDUPACK:
		cubic_reduce(c, tp);
		/* RFC 5681 3.2 step 3: the three segments that left. */
		tp->snd_cwnd = tp->snd_ssthresh + 3 * mss;
		break;
	case CC_ECN:
		cubic_reduce(c, tp);
		tp->snd_cwnd = tp->snd_ssthresh;
		break;
	case CC_RTO:
		if (tp->t_rxtshift <= 1) {
			c->saved = *cs;
			c->saved_cwnd = tp->snd_cwnd;
			c->saved_ssthresh = tp->snd_ssthresh;
			c->saved_recover = tp->snd_recover;
			c->saved_valid = 1;
			/* 4.8: ssthresh as in 4.6; W_max and K wait for the
			 * next congestion-avoidance stage. */
			cs->cwnd_prior = tp->snd_cwnd;
			tp->snd_ssthresh = cubic_ssthresh(tp);
		}
		cs->flags = (cs->flags & ~CUBICF_EPOCH) | CUBICF_AFTER_RTO;
		/* RFC 5681 3.1: loss window of one segment, as the segment
		 * really leaves (options counted, FreeBSD tcp_fixed_maxseg), so
		 * the retransmission is one segment and not one plus a runt. */
		tp->snd_cwnd = tcp_fixed_maxseg(tp);
		break;
	case CC_RTO_ERR:
		/* 4.9: a spurious timeout undoes its reduction. */
		if (c->saved_valid) {
			*cs = c->saved;
			tp->snd_cwnd = c->saved_cwnd;
			tp->snd_ssthresh = c->saved_ssthresh;
			tp->snd_recover = c->saved_recover;
			c->saved_valid = 0;
		}
		break;
	default:
		break;
	}
}

static void
cubic_post_recovery(struct cc_var *ccv)
{
	cc_recovery_exit(ccv);
}

static void
cubic_after_idle(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;
	struct cubic *c = tp->t_ccdata;
	uint64_t now = stack_now(tp->t_stack);
	uint32_t rw;

	/* 5.8: t must not include the idle period. */
	if ((c->cs.flags & (CUBICF_EPOCH | CUBICF_ACKED)) == (CUBICF_EPOCH | CUBICF_ACKED) &&
	    now > c->t_lastack)
		c->cs.t_epoch += now - c->t_lastack;
	c->t_lastack = now;
	c->cs.flags |= CUBICF_ACKED;
	/* RFC 5681 4.1: the restart window. */
	rw = cc_initwnd(tp);
	if (rw < tp->snd_cwnd)
		tp->snd_cwnd = rw;
}

const struct cc_algo cubic_cc_algo = {
	.name = "cubic",
	.data_size = sizeof(struct cubic),
	.cb_init = cubic_cb_init,
	.conn_init = cubic_conn_init,
	.ack_received = cubic_ack_received,
	.cong_signal = cubic_cong_signal,
	.post_recovery = cubic_post_recovery,
	.after_idle = cubic_after_idle,
};
#endif /* UST_CC_CUBIC */
