/*
 * tcp_timer.c - TCP timers (FreeBSD netinet/tcp_timer.c) on one callout per
 * connection: t_timers[TT_*] hold absolute deadlines (0: off), t_callout is
 * armed for the earliest, and its handler runs every due slot through one
 * dispatch table.
 *
 *   tcp_timer_activate(tp, TT_x, delay) -> t_timers[x] -> tcp_timer_rearm
 *   callout -> tcp_timer_callout -> tcp_timer_{delack,rexmt,persist,keep,2msl}
 *       -> tcp_output() / tcp_respond() / tcp_drop() / tcp_close()
 *
 * Retransmission: RFC 6298 5 (backoff, Karn), RFC 9293 3.8.3 (R2 limit ->
 * ETIMEDOUT), FreeBSD's SYN schedule (1 s, then rexmit_initial * 2^n +
 * slop: +1.0, +2.2, +4.2 ...).  Persist: RFC 9293 3.8.6.1.  Keepalive:
 * RFC 1122 4.2.3.6 / RFC 9293 3.8.4.  TIME_WAIT: RFC 9293 3.6.
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_var.h"

#define NS_PER_MS 1000000ull
#define NS_PER_US 1000ull

/* FreeBSD's backoff multipliers (tcp_backoff[]), and their sum for the
 * persist give-up bound (tcp_totbackoff). */
static const uint32_t tcp_backoff[TCP_MAXRXTSHIFT + 1] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
	512, 512, 512 };
#define TCP_TOTBACKOFF 2559u

uint32_t
tcp_backoff_mult(uint32_t shift)
{
	return (tcp_backoff[shift > TCP_MAXRXTSHIFT ? TCP_MAXRXTSHIFT : shift]);
}

/* ---------------------------------------------------------------------
 * Slots and the callout.
 * ------------------------------------------------------------------- */

static void tcp_timer_callout(void *arg);

/* The earliest armed slot's deadline, 0 when none is. */
static uint64_t
tcp_timer_first(const struct tcpcb *tp)
{
	uint64_t first = 0;
	int i;

	for (i = 0; i < TT_N; i++)
		if (tp->t_timers[i] != 0 && (first == 0 || tp->t_timers[i] < first))
			first = tp->t_timers[i];
	return (first);
}

/*
 * Points the callout at the earliest slot.  Lazily: a pending callout due
 * in the same tick or earlier is left as it is (FreeBSD's callouts do the
 * same with their "rearm only if earlier" in tcp_timer_activate's users):
 * when it fires and nothing is due yet, tcp_timer_callout re-arms it for
 * the real deadline, which then fires in the same tick as if armed now.
 * The retransmission timer restarted by every ACK and the delayed ACK
 * cancelled by every output no longer touch the wheel.
 */
static void
tcp_timer_rearm(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t first = tcp_timer_first(tp);

	if (first == 0) {
		if (callout_pending(&tp->t_callout))
			callout_stop(&st->st_wheel, &tp->t_callout);
		return;
	}
	if (callout_pending(&tp->t_callout) &&
	    callout_tick_at_or_after(&st->st_wheel, tp->t_callout.c_tick, first))
		return;
	callout_reset_at(&st->st_wheel, &tp->t_callout, first, tcp_timer_callout, tp);
}

void
tcp_timer_activate(struct tcpcb *tp, int which, uint64_t delay_ns)
{
	uint64_t when = 0;

	if (which < 0 || which >= TT_N)
		return;
	if (delay_ns != 0) {
		when = stack_now(tp->t_stack) + delay_ns;
		if (when == 0)
			when = 1;
	}
	if (tp->t_timers[which] == when)
		return;
	tp->t_timers[which] = when;
	tcp_timer_rearm(tp);
}

int
tcp_timer_active(const struct tcpcb *tp, int which)
{
	if (which < 0 || which >= TT_N)
		return (0);
	return (tp->t_timers[which] != 0);
}

void
tcp_timer_stop_all(struct tcpcb *tp)
{
	int i;

	for (i = 0; i < TT_N; i++)
		tp->t_timers[i] = 0;
	if (callout_pending(&tp->t_callout))
		callout_stop(&tp->t_stack->st_wheel, &tp->t_callout);
}

/* ---------------------------------------------------------------------
 * Timeouts.
 * ------------------------------------------------------------------- */

/*
 * The RTO before backoff, microseconds.  SYN_SENT: rexmit_initial
 * (FreeBSD's SYN schedule backs off rexmit_initial and adds the slop:
 * 1.0, 2.2, 4.2 ... s).  Otherwise the RTO in force when the first
 * timeout of the series fired (t_rxtbase), so that each backoff doubles
 * it exactly (RFC 6298 5.5); before any timeout, t_rxtcur itself.
 */
static uint64_t
tcp_rto_base_us(const struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;

	if (tp->t_state == TCPS_SYN_SENT)
		return ((uint64_t)V(st, tcp_rexmit_initial) * 1000);
	if (tp->t_rxtshift == 0 || tp->t_rxtbase == 0)
		return (tp->t_rxtcur);
	return (tp->t_rxtbase);
}

uint64_t
tcp_rexmt_timeout(const struct tcpcb *tp, uint32_t shift)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t v, min = (uint64_t)V(st, tcp_rexmit_min) * 1000,
	            max = (uint64_t)V(st, tcp_rexmit_max) * 1000;

	if (shift == 0)
		v = tp->t_rxtcur;
	else if (tp->t_state == TCPS_SYN_SENT)
		/* FreeBSD's TCPT_RANGESET adds the slop to the backed-off
		 * value, then clamps. */
		v = tcp_rto_base_us(tp) * tcp_backoff_mult(shift) +
		    (uint64_t)V(st, tcp_rexmit_slop) * 1000;
	else
		v = tcp_rto_base_us(tp) * tcp_backoff_mult(shift);
	if (v < min)
		v = min;
	if (v > max)
		v = max;
	return (v * NS_PER_US);
}

static uint64_t
tcp_keepidle_ns(const struct tcpcb *tp)
{
	return (
	    (tp->t_keepidle ? tp->t_keepidle : (uint64_t)V(tp->t_stack, tcp_keepidle)) * NS_PER_MS);
}

static uint64_t
tcp_keepintvl_ns(const struct tcpcb *tp)
{
	return ((tp->t_keepintvl ? tp->t_keepintvl : (uint64_t)V(tp->t_stack, tcp_keepintvl)) *
	    NS_PER_MS);
}

static uint32_t
tcp_keepcnt(const struct tcpcb *tp)
{
	return (tp->t_keepcnt ? tp->t_keepcnt : (uint32_t)V(tp->t_stack, tcp_keepcnt));
}

uint64_t
tcp_keepinit_ns(const struct tcpcb *tp)
{
	return (
	    (tp->t_keepinit ? tp->t_keepinit : (uint64_t)V(tp->t_stack, tcp_keepinit)) * NS_PER_MS);
}

/* ---------------------------------------------------------------------
 * Handlers.  Each returns tp, or NULL once the connection is gone.
 * ------------------------------------------------------------------- */

/* RFC 1122 4.2.3.2: the delayed ACK is due. */
static struct tcpcb *
tcp_timer_delack(struct tcpcb *tp)
{
	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_FIN_WAIT_2);
	tp->t_flags &= ~TF_DELACK;
	tp->t_flags |= TF_ACKNOW;
	TCPSTAT_INC(tp->t_stack, tcps_delack);
	(void)tcp_output(tp);
	return (tp);
}

/*
 * FreeBSD's PMTUD black-hole detection (net.inet.tcp.pmtud_blackhole_detection:
 * 1 both families, 2 IPv4 only, 3 IPv6 only).  A path that drops large
 * packets without the ICMP that RFC 1191 / RFC 8201 rely on (a black hole,
 * RFC 2923 2.1) looks like a run of timeouts after full-sized segments.
 * Each stage gets two retransmissions: the connection's MSS, then
 * pmtud_blackhole_mss (v6pmtud_blackhole_mss), then the family's default
 * MSS without DF; when the last stage fails too, it was not a black hole
 * and the MSS comes back.  Only ever lowers the MSS.
 */
static void
tcp_pmtud_blackhole(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	int mode = (int)V(st, tcp_pmtud_blackhole_detect), v6 = 0;
	uint32_t probe, dflt;

#if UST_INET6
	v6 = tp->t_inpcb != NULL && (tp->t_inpcb->inp_vflag & INP_IPV6) != 0;
#endif
	if (mode == 0 || (mode == 2 && v6) || (mode == 3 && !v6) || !V(st, tcp_path_mtu_discovery))
		return;
	if (tp->t_state != TCPS_ESTABLISHED && tp->t_state != TCPS_FIN_WAIT_1)
		return;
	if (tp->t_rxtshift < 2 || tp->t_rxtshift % 2 != 0)
		return;
#if UST_INET6
	probe = v6 ? (uint32_t)V(st, tcp_v6pmtud_blackhole_mss) :
	             (uint32_t)V(st, tcp_pmtud_blackhole_mss);
	dflt = v6 ? (uint32_t)V(st, tcp_v6mssdflt) : (uint32_t)V(st, tcp_mssdflt);
#else
	probe = (uint32_t)V(st, tcp_pmtud_blackhole_mss);
	dflt = (uint32_t)V(st, tcp_mssdflt);
#endif
	if (tp->t_rxtshift < 6 && !(tp->t_flags2 & TF2_PLPMTU_MINMSS) &&
	    (tp->t_flags2 & TF2_PLPMTU_MAXSEGSNT) && tp->t_maxseg > dflt) {
		if (!(tp->t_flags2 & TF2_PLPMTU_BLACKHOLE)) {
			tp->t_flags2 |= TF2_PLPMTU_BLACKHOLE;
			tp->t_pmtud_saved_maxseg = tp->t_maxseg;
		}
		if (tp->t_maxseg > probe && probe > dflt) {
			tp->t_maxseg = probe;
			TCPSTAT_INC(st, tcps_pmtud_blackhole_activated);
		} else {
			tp->t_maxseg = dflt;
			tp->t_flags2 |= TF2_PLPMTU_MINMSS;
			TCPSTAT_INC(st, tcps_pmtud_blackhole_activated_min_mss);
		}
		return;
	}
	if ((tp->t_flags2 & TF2_PLPMTU_BLACKHOLE) && tp->t_rxtshift >= 4) {
		tp->t_maxseg = tp->t_pmtud_saved_maxseg;
		tp->t_flags2 &= ~(uint32_t)(TF2_PLPMTU_BLACKHOLE | TF2_PLPMTU_MINMSS);
		TCPSTAT_INC(st, tcps_pmtud_blackhole_failed);
	}
}

static struct tcpcb *
tcp_timer_rexmt(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t maxshift = (uint32_t)V(st, tcp_retries);

	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	if (maxshift > TCP_MAXRXTSHIFT)
		maxshift = TCP_MAXRXTSHIFT;
	/* RFC 9293 3.8.3: R2 reached, give up with the soft error if an
	 * ICMP told us why (RFC 1122 4.2.3.9). */
	/* The RTO the backoff of this series starts from. */
	if (tp->t_rxtshift == 0)
		tp->t_rxtbase = tp->t_rxtcur;
	if (++tp->t_rxtshift > maxshift) {
		tp->t_rxtshift = maxshift;
		TCPSTAT_INC(st, tcps_timeoutdrop);
		return (tcp_drop(tp, tp->t_softerror ? (int)tp->t_softerror : UST_ETIMEDOUT));
	}
	if (tp->t_state == TCPS_SYN_SENT || tp->t_state == TCPS_SYN_RECEIVED) {
		/* The handshake was lost once: cc_conn_init will start with
		 * one segment (RFC 6928 2, FreeBSD's cwnd == 1 marker). */
		tp->snd_cwnd = 1;
		/* FreeBSD: a peer that drops SYNs with options gets one
		 * without them from the third retransmission on. */
		if (tp->t_state == TCPS_SYN_SENT && tp->t_rxtshift == 3 &&
		    V(st, tcp_rexmit_drop_options))
			tp->t_flags &= ~(TF_REQ_SCALE | TF_REQ_TSTMP | TF_SACK_PERMIT);
	} else {
		if (tp->t_fb->tfb_tcp_rexmit_tmr != NULL)
			tp->t_fb->tfb_tcp_rexmit_tmr(tp);
		/* Before the loss window is taken: it is one (new) MSS. */
		tcp_pmtud_blackhole(tp);
		/* RFC 5681 3.1 / RFC 6298 5.5: loss window and ssthresh. */
		cc_cong_signal(tp, CC_RTO);
		tcp_sack_rto(tp);
	}
	TCPSTAT_INC(st, tcps_rexmttimeo);
	/* RFC 6298 5.5: back off. */
	tp->t_rxtcur = (uint32_t)(tcp_rexmt_timeout(tp, tp->t_rxtshift) / NS_PER_US);
	/* After a few backoffs the estimate is suspect (FreeBSD: past
	 * TCP_MAXRXTSHIFT / 4): fold SRTT into RTTVAR and take a fresh
	 * sample next time. */
	if (tp->t_rxtshift > TCP_MAXRXTSHIFT / 4 && tp->t_srtt != 0) {
		tp->t_rttvar += tp->t_srtt / 4;
		tp->t_srtt = 0;
	}
	/* Go back to the oldest unacknowledged byte; Karn: no RTT sample
	 * from a retransmission (RFC 6298 3). */
	tp->snd_nxt = tp->snd_una;
	tp->t_rtttime = 0;
	tp->t_flags |= TF_ACKNOW;
	tp->t_dupacks = 0;
	(void)tcp_output(tp);
	/* A send failure must not leave the connection without a timer. */
	if (!tcp_timer_active(tp, TT_REXMT) && !tcp_timer_active(tp, TT_PERSIST) &&
	    tp->snd_una != tp->snd_max)
		tcp_timer_activate(tp, TT_REXMT, (uint64_t)tp->t_rxtcur * NS_PER_US);
	return (tp);
}

/* RFC 9293 3.8.6.1: probe a zero window for as long as the peer answers. */
static struct tcpcb *
tcp_timer_persist(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t now = stack_now(st), idle = now - tp->t_rcvtime;

	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	TCPSTAT_INC(st, tcps_persisttimeo);
	/* Give up only on a silent peer: full backoff and no segment for
	 * as long as the keepalive idle time or the whole backoff series
	 * (FreeBSD tcp_maxpersistidle). */
	if (tp->t_rxtshift >= TCP_MAXRXTSHIFT &&
	    (idle >= tcp_keepidle_ns(tp) ||
	        idle >= tcp_rto_base_us(tp) * NS_PER_US * TCP_TOTBACKOFF)) {
		TCPSTAT_INC(st, tcps_timeoutdrop);
		return (tcp_drop(tp, UST_ETIMEDOUT));
	}
	/* The user closed: do not hold a dead peer's window for long. */
	if (tp->t_state > TCPS_CLOSE_WAIT && idle >= (uint64_t)V(st, tcp_persmax) * NS_PER_MS) {
		TCPSTAT_INC(st, tcps_timeoutdrop);
		return (tcp_drop(tp, UST_ETIMEDOUT));
	}
	tcp_setpersist(tp);
	tp->t_flags |= TF_FORCEDATA;
	(void)tcp_output(tp);
	tp->t_flags &= ~TF_FORCEDATA;
	return (tp);
}

static int
tcp_keepalive_on(const struct tcpcb *tp)
{
	const struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;

	/* FreeBSD: always_keepalive (default 1) or SO_KEEPALIVE. */
	return (V(tp->t_stack, tcp_always_keepalive) ||
	    (so != NULL && (so->so_options & SO_KEEPALIVE)));
}

static struct tcpcb *
tcp_timer_keep(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t now = stack_now(st), idle = now - tp->t_rcvtime;
	uint64_t kidle = tcp_keepidle_ns(tp), kintvl = tcp_keepintvl_ns(tp);

	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_FIN_WAIT_2);
	TCPSTAT_INC(st, tcps_keeptimeo);
	/* keepinit: the handshake took too long. */
	if (tp->t_state < TCPS_ESTABLISHED)
		goto dropit;
	/* Not probing: look again an idle time after the last segment
	 * (tcp_do_segment leaves a running timer alone, so this can be
	 * before the idle time has passed). */
	if (!tcp_keepalive_on(tp) || tp->t_state > TCPS_CLOSING) {
		tcp_timer_activate(tp, TT_KEEP, idle < kidle ? kidle - idle : kidle);
		return (tp);
	}
	/* Traffic since the timer was set: wait for the rest of the idle
	 * time (the timer is not pushed back on every segment). */
	if (idle < kidle) {
		tp->t_keepprobes = 0;
		tcp_timer_activate(tp, TT_KEEP, kidle - idle);
		return (tp);
	}
	/* RFC 1122 4.2.3.6: keepcnt probes unanswered -> drop. */
	if (idle >= kidle + (uint64_t)tcp_keepcnt(tp) * kintvl)
		goto dropit;
	/* The probe: SEG.SEQ = SND.UNA - 1, no data (RFC 9293 3.8.4). */
	TCPSTAT_INC(st, tcps_keepprobe);
	tp->t_keepprobes++;
	tcp_respond(st, tp, NULL, tp->rcv_nxt, tp->snd_una - 1, TH_ACK);
	tcp_timer_activate(tp, TT_KEEP, kintvl);
	return (tp);
dropit:
	TCPSTAT_INC(st, tcps_keepdrops);
	return (tcp_drop(tp, UST_ETIMEDOUT));
}

static struct tcpcb *
tcp_timer_2msl(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t idle = stack_now(st) - tp->t_rcvtime;
	uint64_t lim = (uint64_t)V(st, tcp_finwait2_timeout) * NS_PER_MS;

	/* Armed only by the FIN_WAIT_2 timeout and by tcp_twstart(). */
	KASSERT(tp->t_state == TCPS_FIN_WAIT_2 || tp->t_state == TCPS_TIME_WAIT,
	    ("tcp_timer_2msl: tp %p in state %d", (void *)tp, tp->t_state));
	if (tp->t_state == TCPS_TIME_WAIT)
		return (tcp_close(tp));
	/* An orphan in FIN_WAIT_2: give the peer finwait2_timeout of
	 * silence, then let go (FreeBSD tcp_timer_2msl). */
	if (tp->t_state == TCPS_FIN_WAIT_2 && idle < lim) {
		tcp_timer_activate(tp, TT_2MSL, lim - idle);
		return (tp);
	}
	if (tp->t_state == TCPS_FIN_WAIT_2)
		TCPSTAT_INC(st, tcps_finwait2_drops);
	return (tcp_close(tp));
}

typedef struct tcpcb *tcp_timer_fn(struct tcpcb *tp);

static tcp_timer_fn *const tcp_timer_funcs[TT_N] = {
	[TT_DELACK] = tcp_timer_delack,
	[TT_REXMT] = tcp_timer_rexmt,
	[TT_PERSIST] = tcp_timer_persist,
	[TT_KEEP] = tcp_timer_keep,
	[TT_2MSL] = tcp_timer_2msl,
};

/* The connection's callout: run every due slot, in FreeBSD's order, and
 * stop as soon as a handler closed the connection. */
static void
tcp_timer_callout(void *arg)
{
	struct tcpcb *tp = arg;
	uint64_t now = stack_now(tp->t_stack);
	int i;

	/* tcp_close() stops every timer; a listener never arms one. */
	KASSERT(tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN,
	    ("tcp_timer_callout: tp %p in state %d", (void *)tp, tp->t_state));
	/* Early (tcp_timer_rearm left it for a deadline that moved later):
	 * nothing falls due in this tick; go to the real deadline's tick,
	 * in the order the wheel runs ticks, as an exact arming would. */
	if (callout_tick_at_or_after(&tp->t_stack->st_wheel, tp->t_callout.c_tick + 1,
	        tcp_timer_first(tp))) {
		tcp_timer_rearm(tp);
		return;
	}
	for (i = 0; i < TT_N; i++) {
		if (tp->t_timers[i] == 0 || tp->t_timers[i] > now)
			continue;
		tp->t_timers[i] = 0;
		if ((tp = tcp_timer_funcs[i](tp)) == NULL)
			return;
	}
	tcp_timer_rearm(tp);
}
