/*
 * tcp_input.c - TCP segment input (RFC 9293 3.10.7; FreeBSD
 * netinet/tcp_input.c): header and checksum checks, the PCB lookup, the
 * answers to segments for no connection, the listener (syncache), the
 * TIME_WAIT check, and the state machine of one connection with RFC 5961
 * blind-attack defences, RFC 5681/6582 fast retransmit and NewReno
 * recovery, RFC 3042 limited transmit, RFC 6298 RTT estimation, RFC
 * 1122 delayed ACKs and RFC 3168 ECN (negotiation on the SYNs, CE -> ECE
 * echo, ECE -> one window reduction).
 *
 *   ip_input -> tcp_input() -> [syncache_add | syncache_expand]
 *       -> tcp_twcheck()             (TIME_WAIT)
 *       -> tcp_do_segment() -> tcp_do_syn_sent() | tcp_do_rst() |
 *              tcp_trim() -> tcp_do_ack() -> tcp_do_data() -> tcp_reass()
 *          -> tcp_output()
 *
 * Urgent data (RFC 9293 3.8.5, RFC 6093): the urgent pointer is taken to
 * point at the byte after the urgent data; the urgent data stay inline in
 * the stream (SO_OOBINLINE semantics whatever the option says, as RFC 6093
 * recommends) and only rcv_up is tracked.
 *
 * Segments reach tcp_do_segment() as a struct tcp_seg (host order) and an
 * mbuf holding the payload only; both are trimmed together.
 *
 * Invariants (UST_DEBUG, kern/kassert.h): each tcp_do_* helper asserts the
 * states it is written for and the sequence space it relies on
 * (TCP_ASSERT_SEQ), and the payload mbuf stays as long as seg->tlen says.
 * They check what this file did to the tcpcb, never the segment: a
 * segment the state machine does not expect is dropped or answered.
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_prr.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

/* What a state helper tells tcp_do_segment to do next. */
#define DS_CONTINUE 0     /* go on with the next step */
#define DS_DROP 1         /* free the segment, nothing to send */
#define DS_DROPAFTERACK 2 /* free the segment, send an ACK */
#define DS_DROPRESET 3    /* free the segment, answer with a RST */
#define DS_DROPRESET_TP 6 /* the same, the connection still there (its RST signed, RFC 2385) */
#define DS_DONE 4         /* consumed (or the tcpcb is gone) */
#define DS_STEP6 5        /* skip ACK processing: window, URG, data */

/* The payload mbuf holds exactly seg->tlen bytes. */
#define TCP_ASSERT_PAYLOAD(seg, m)                                       \
	KASSERT(((m) == NULL ? 0u : m_length((m), NULL)) == (seg)->tlen, \
	    ("%s: payload of %u bytes for tlen %u", __func__,            \
	        (unsigned)((m) == NULL ? 0u : m_length((m), NULL)), (unsigned)(seg)->tlen))

#define MS_TO_NS(ms) ((uint64_t)(ms)*1000000ull)
#define TCP_CLOCK_G_US 1000 /* RFC 6298 G: the timers' millisecond grain */
/* RFC 7323 5.5: ts_recent older than 24 days no longer guards PAWS. */
#define TCP_PAWS_IDLE_NS (24ull * 24 * 60 * 60 * 1000000000ull)

static struct socket *
tp_so(const struct tcpcb *tp)
{
	return (tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL);
}

/* The wire segments a received frame stands for: a software-LRO frame
 * (tcp_lro.c) carries their number in m_pkthdr.lro_nsegs, 0 or 1 for a
 * plain one.  tcps_rcvtotal and tcps_rcvpack count wire segments. */
static inline uint32_t
tcp_lro_nsegs(const struct mbuf *m)
{
	if (m == NULL || !(m->m_flags & M_PKTHDR) || m->m_pkthdr.lro_nsegs <= 1)
		return (1);
	return (m->m_pkthdr.lro_nsegs);
}

/* ---------------------------------------------------------------------
 * RTT and MSS.
 * ------------------------------------------------------------------- */

/* RFC 6298 2.2-2.3 with FreeBSD's TCPT_RANGESET: RTO = SRTT + max(G,
 * 4 RTTVAR) + rexmit_slop, at least rexmit_min, at most rexmit_max. */
void
tcp_xmit_timer(struct tcpcb *tp, uint32_t rtt_us)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t rto, lo, hi, var4;
	int64_t delta;

	if (rtt_us == 0)
		rtt_us = 1;
	if (tp->t_srtt == 0) {
		/* 2.2: the first measurement. */
		tp->t_srtt = rtt_us;
		tp->t_rttvar = rtt_us / 2;
	} else {
		/* 2.3: RTTVAR first, from the old SRTT (beta 1/4, alpha 1/8). */
		delta = (int64_t)rtt_us - (int64_t)tp->t_srtt;
		if (delta < 0)
			delta = -delta;
		tp->t_rttvar = (uint32_t)((3 * (uint64_t)tp->t_rttvar + (uint64_t)delta) / 4);
		tp->t_srtt = (uint32_t)((7 * (uint64_t)tp->t_srtt + rtt_us) / 8);
		if (tp->t_srtt == 0)
			tp->t_srtt = 1;
	}
	var4 = 4 * (uint64_t)tp->t_rttvar;
	rto = (uint64_t)tp->t_srtt + (var4 > TCP_CLOCK_G_US ? var4 : TCP_CLOCK_G_US);
	rto += (uint64_t)V(st, tcp_rexmit_slop) * 1000;
	lo = (uint64_t)V(st, tcp_rexmit_min) * 1000;
	hi = (uint64_t)V(st, tcp_rexmit_max) * 1000;
	if (rto < lo)
		rto = lo;
	if (rto > hi)
		rto = hi;
	tp->t_rxtcur = (uint32_t)(rto > UINT32_MAX ? UINT32_MAX : rto);
	tp->t_rxtshift = 0;
	tp->t_softerror = 0;
	tp->t_rttupdated++;
	TCPSTAT_INC(st, tcps_rttupdated);
}

/* An ACK of new data (ack) times the RTT.  RFC 7323 4.2: with
 * timestamps, TSecr echoes the TSval of the segment that caused the
 * ACK, so now - TSecr (ms) is a sample even after a retransmission;
 * FreeBSD prefers it.  Without, Karn (RFC 6298 3): only a segment sent
 * once (t_rtttime, cleared on retransmission) is timed.  A TSecr from
 * the future or from before the connection (not ours) gives no
 * sample. */
static void
tcp_ack_rtt(struct tcpcb *tp, const struct tcp_seg *seg, tcp_seq ack)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t now, ms;

	if ((tp->t_flags & TF_RCVD_TSTMP) && (seg->to.to_flags & TOF_TS) && seg->to.to_tsecr != 0) {
		uint64_t age = (stack_now(st) - tp->t_starttime) / 1000000u;

		now = tcp_ts_getticks(st) + tp->ts_offset;
		ms = now - seg->to.to_tsecr;
		/* An echo older than the connection (plus the longest the
		 * handshake can have taken, rexmit_max) was never our TSval:
		 * a garbage TSecr would otherwise set SRTT, and with it the
		 * RTO, to anything up to 24 days (RFC 7323 4.1 samples only
		 * echoes of our own timestamps). */
		if (TSTMP_GEQ(now, seg->to.to_tsecr) &&
		    (uint64_t)ms <= age + (uint64_t)V(st, tcp_rexmit_max)) {
			if (ms > UINT32_MAX / 1000)
				ms = UINT32_MAX / 1000;
			tcp_xmit_timer(tp, ms * 1000);
			if (tp->t_rtttime != 0 && SEQ_GT(ack, tp->t_rtseq))
				tp->t_rtttime = 0;
			return;
		}
	}
	if (tp->t_rtttime != 0 && SEQ_GT(ack, tp->t_rtseq)) {
		tcp_xmit_timer(tp, (uint32_t)((stack_now(st) - tp->t_rtttime) / 1000));
		tp->t_rtttime = 0;
	}
}

/* RFC 9293 3.7.1, RFC 1122 4.2.2.6: the MSS we send with is the route's
 * MTU less 40 bytes of headers, no more than the peer offered (536 when
 * it offered nothing), and an offer below net.inet.tcp.minmss counts as
 * minmss (FreeBSD: no tiny segments on a peer's word). */
void
tcp_mss(struct tcpcb *tp, uint32_t offer)
{
	struct ust_stack *st = tp->t_stack;
	struct nhop4 nh;
	uint32_t mss;

#if UST_INET6
	/* IPv6: route MTU - 60, v6mssdflt without a route or an offer
	 * (FreeBSD tcp_mss_update). */
	if (tp->t_inpcb != NULL && (tp->t_inpcb->inp_vflag & INP_IPV6)) {
		uint32_t mtu = tcp_maxmtu6(st, &tp->t_inpcb->inp_inc);

		/* IPV6_USE_MIN_MTU 1 (RFC 3542 11.1): segments for 1280. */
		if ((tp->t_inpcb->inp_flags & IN6P_USE_MIN_MTU) && (mtu == 0 || mtu > IPV6_MMTU))
			mtu = IPV6_MMTU;
		mss = mtu > TCPIP6_HDRLEN + TCP_MSS_MIN ? mtu - TCPIP6_HDRLEN :
		                                          (uint32_t)V(st, tcp_v6mssdflt);
		mss = tcp_tunnel_mss(st, tp->t_port, mss);
		if (offer == 0)
			offer = (uint32_t)V(st, tcp_v6mssdflt);
		else if (offer < (uint32_t)V(st, tcp_minmss))
			offer = (uint32_t)V(st, tcp_minmss);
		if (mss > offer)
			mss = offer;
		if (mss < TCP_MSS_MIN)
			mss = TCP_MSS_MIN;
		tp->t_maxseg = mss;
		return;
	}
#endif
	if (tp->t_inpcb != NULL && rt_lookup(st, tp->t_inpcb->inp_faddr, &nh) == 0 &&
	    nh.nh_mtu > tcp_hdrlen(&tp->t_inpcb->inp_inc) + TCP_MSS_MIN)
		mss = nh.nh_mtu - tcp_hdrlen(&tp->t_inpcb->inp_inc);
	else
		mss = (uint32_t)V(st, tcp_mssdflt);
	mss = tcp_tunnel_mss(st, tp->t_port, mss);
	if (offer == 0)
		offer = (uint32_t)V(st, tcp_mssdflt);
	else if (offer < (uint32_t)V(st, tcp_minmss))
		offer = (uint32_t)V(st, tcp_minmss);
	if (mss > offer)
		mss = offer;
	if (mss < TCP_MSS_MIN)
		mss = TCP_MSS_MIN;
	tp->t_maxseg = mss;
}

/* ---------------------------------------------------------------------
 * Answers without a connection.
 * ------------------------------------------------------------------- */

/* RFC 9293 3.10.7.1: the RST answering seg.  Never answers a RST.
 * Consumes m. */
static void
tcp_dropwithreset(struct ust_stack *st, struct tcpcb *tp, const struct tcp_seg *seg, struct mbuf *m)
{
	const struct tcphdr *th = &seg->th;
	uint32_t len;

	m_freem(m);
	if (th->th_flags & TH_RST)
		return;
	if (th->th_flags & TH_ACK) {
		/* <SEQ=SEG.ACK><CTL=RST> */
		tcp_respond(st, tp, seg, 0, th->th_ack, TH_RST);
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		len = seg->tlen + ((th->th_flags & TH_SYN) ? 1 : 0) +
		    ((th->th_flags & TH_FIN) ? 1 : 0);
		tcp_respond(st, tp, seg, th->th_seq + len, 0, TH_RST | TH_ACK);
	}
}

/* No PCB, or a closed one (tp, else NULL): a RST unless blackholed
 * (FreeBSD net.inet.tcp.blackhole: 1 silences SYNs, 2 everything).  A
 * closed socket's RST leaves with its IP_TTL/IP_TOS (IPV6_UNICAST_HOPS /
 * IPV6_TCLASS), as FreeBSD's tcp_dropwithreset with its tcpcb. */
static void
tcp_noport(struct ust_stack *st, struct tcpcb *tp, const struct tcp_seg *seg, struct mbuf *m)
{
	int bh = V(st, tcp_blackhole);

	TCPSTAT_INC(st, tcps_rcvnoport);
	if (bh == 2 || (bh == 1 && (seg->th.th_flags & TH_SYN))) {
		if (seg->th.th_flags & TH_SYN)
			TCPSTAT_INC(st, tcps_dropsyn);
		m_freem(m);
		return;
	}
	tcp_dropwithreset(st, tp, seg, m);
}

/* ---------------------------------------------------------------------
 * TIME_WAIT.
 * ------------------------------------------------------------------- */

/* A segment for a connection in TIME_WAIT (FreeBSD tcp_twcheck()).
 * Returns 1 when the connection was closed so that a new SYN can go to
 * the listener (m kept), 0 when m was consumed. */
static int
tcp_twcheck(struct tcpcb *tp, const struct tcp_seg *seg, struct mbuf *m)
{
	struct ust_stack *st = tp->t_stack;
	const struct tcphdr *th = &seg->th;
	uint16_t flags = th->th_flags;

	/* RFC 1337: a RST must not assassinate TIME_WAIT (FreeBSD drops
	 * it); the 2MSL wait runs out on its own. */
	if (flags & TH_RST)
		goto drop;
	/* RFC 9293 3.10.7.4 / RFC 6191-like reuse: a new SYN beyond what
	 * the old incarnation used may open a new connection now. */
	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN && SEQ_GT(th->th_seq, tp->rcv_nxt)) {
		TCPSTAT_INC(st, tcps_tw_recycles);
		(void)tcp_close(tp);
		return (1);
	}
	/* TCP over UDP: from another UDP port, or plain for an encapsulated
	 * connection (and the reverse), a RST the way it came (FreeBSD). */
	if (tp->t_port != seg->port) {
		tcp_dropwithreset(st, tp, seg, m);
		return (0);
	}
	/* Without an ACK (an old SYN included) it is dropped, as FreeBSD
	 * does (state-event-engine/rcv-syn-time-wait). */
	if (!(flags & TH_ACK))
		goto drop;
	/* RFC 7323 3.2 as FreeBSD 14's tcp_twcheck: with timestamps agreed,
	 * a segment without one is dropped silently unless
	 * net.inet.tcp.tolerate_missing_ts. */
	if ((tp->t_flags & TF_RCVD_TSTMP) && !(seg->to.to_flags & TOF_TS) && tp->ts_recent != 0 &&
	    !V(st, tcp_tolerate_missing_ts))
		goto drop;
	/* A retransmitted FIN: our ACK was lost; restart the 2MSL wait
	 * (RFC 9293 3.10.7.4 TIME-WAIT). */
	if ((flags & TH_FIN) && th->th_seq + seg->tlen + 1 == tp->rcv_nxt)
		tcp_timer_activate(tp, TT_2MSL, 2 * MS_TO_NS(V(st, tcp_msl)));
	/* Anything but the exact duplicate pure ACK (FreeBSD: the flags
	 * exactly ACK, PSH included) is answered with an ACK. */
	if (flags != TH_ACK || seg->tlen != 0 || th->th_seq != tp->rcv_nxt ||
	    th->th_ack != tp->snd_nxt) {
		tcp_respond(st, tp, seg, tp->rcv_nxt, tp->snd_nxt, TH_ACK);
		TCPSTAT_INC(st, tcps_tw_responds);
	}
drop:
	m_freem(m);
	return (0);
}

/* ---------------------------------------------------------------------
 * ECN (RFC 3168 6.1).
 * ------------------------------------------------------------------- */

/* 6.1.1: the SYN or SYN-ACK the peer sent us in SYN_SENT.  A SYN-ACK
 * agrees to ECN with ECE and no CWR, and only if our SYN asked for it; a
 * SYN (simultaneous open) asks with ECE|CWR and is answered as a listener
 * would (net.inet.tcp.ecn.enable 1 or 2), with ECE on our SYN-ACK. */
static void
tcp_ecn_syn_input(struct tcpcb *tp, uint16_t flags)
{
	struct ust_stack *st = tp->t_stack;
	uint16_t ecn = flags & (TH_ECE | TH_CWR);
	int ok;

	if (!UST_TCP_ECN)
		return;
	if (flags & TH_ACK)
		ok = (tp->t_flags2 & TF2_ECN_SYN) && ecn == TH_ECE;
	else
		ok = ecn == (TH_ECE | TH_CWR) && V(st, tcp_do_ecn) != 0;
	tp->t_flags &= ~(TF_ECN_PERMIT | TF_ECN_SND_CWR | TF_ECN_SND_ECE);
	if (ok) {
		tp->t_flags |= TF_ECN_PERMIT;
		TCPSTAT_INC(st, tcps_ecn_shs);
	}
}

/* 6.1.3 receiver: CE on an acceptable segment makes every ACK carry ECE
 * until a segment with CWR says the sender reduced; the ACK for CE data
 * goes at once (a delayed one would hold back the signal).  The CWR is
 * looked at first, so a CWR segment that is itself CE keeps the echo. */
static void
tcp_ecn_input(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;

	if (!(tp->t_flags & TF_ECN_PERMIT))
		return;
	if (seg->th.th_flags & TH_CWR)
		tp->t_flags &= ~TF_ECN_SND_ECE;
	switch (seg->ip_tos & IPTOS_ECN_MASK) {
	case IPTOS_ECN_CE:
		TCPSTAT_INC(st, tcps_ecn_ce);
		tp->t_flags |= TF_ECN_SND_ECE;
		if (seg->tlen != 0)
			tp->t_flags |= TF_ACKNOW;
		break;
	case IPTOS_ECN_ECT0:
		TCPSTAT_INC(st, tcps_ecn_ect0);
		break;
	case IPTOS_ECN_ECT1:
		TCPSTAT_INC(st, tcps_ecn_ect1);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------------
 * SYN_SENT (RFC 9293 3.10.7.3).
 * ------------------------------------------------------------------- */

/* Window scale and timestamps agreed on the SYN-ACK (RFC 7323 2.2, 3.2). */
static void
tcp_syn_options(struct tcpcb *tp, const struct tcp_seg *seg)
{
	const struct tcpopt *to = &seg->to;

	if ((to->to_flags & TOF_SCALE) && (tp->t_flags & TF_REQ_SCALE)) {
		tp->t_flags |= TF_RCVD_SCALE;
		tp->snd_scale = to->to_wscale > TCP_MAX_WINSHIFT ? TCP_MAX_WINSHIFT : to->to_wscale;
		tp->requested_s_scale = tp->snd_scale;
		tp->rcv_scale = tp->request_r_scale;
	} else {
		tp->snd_scale = 0;
		tp->rcv_scale = 0;
	}
	if ((to->to_flags & TOF_TS) && (tp->t_flags & TF_REQ_TSTMP)) {
		tp->t_flags |= TF_RCVD_TSTMP;
		tp->ts_recent = to->to_tsval;
		tp->ts_recent_age = stack_now(tp->t_stack);
	}
	/* RFC 2018 2: SACK only when both SYNs carried SACK-permitted (ours
	 * does when TF_SACK_PERMIT is still set from tcp_newtcpcb). */
	if (!(to->to_flags & TOF_SACKPERM) || (tp->t_flags & TF_NOOPT))
		tp->t_flags &= ~TF_SACK_PERMIT;
}

static int
tcp_do_syn_sent(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf **mp)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);
	struct tcphdr *th = &seg->th;
	uint16_t flags = th->th_flags;
	int32_t todrop;

	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_SYN_SENT);
	TCP_ASSERT_SEQ(tp);
	TCP_ASSERT_PAYLOAD(seg, *mp);
	if ((flags & TH_ACK) && (SEQ_LEQ(th->th_ack, tp->iss) || SEQ_GT(th->th_ack, tp->snd_max)))
		return ((flags & TH_RST) ? DS_DROP : DS_DROPRESET_TP);
	if (flags & TH_RST) {
		/* Acceptable ACK: the peer refused (RFC 9293: "error:
		 * connection reset"; FreeBSD reports ECONNREFUSED). */
		if (flags & TH_ACK) {
			(void)tcp_drop(tp, UST_ECONNREFUSED);
			return (DS_DONE);
		}
		return (DS_DROP);
	}
	if (!(flags & TH_SYN))
		return (DS_DROP);

	tp->irs = th->th_seq;
	tcp_ecn_syn_input(tp, flags);
	tp->rcv_nxt = th->th_seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tp->rcv_up = tp->rcv_nxt;
	tp->last_ack_sent = tp->rcv_nxt;
	tcp_syn_options(tp, seg);
	tcp_mss(tp, (seg->to.to_flags & TOF_MSS) ? seg->to.to_mss : 0);
	tcp_rcvbuf_roundup(tp);
	tcp_timer_activate(tp, TT_REXMT, 0);
	if (flags & TH_ACK) {
		/* Our SYN is acknowledged: the active open completes. */
		TCPSTAT_INC(st, tcps_connects);
		tcp_ack_rtt(tp, seg, th->th_ack);
		tp->snd_una++;
#if UST_TCP_TFO
		/* RFC 7413 4.2.2: the cookie, and the SYN's data acked or not. */
		tcp_fastopen_client_synack(tp, seg);
#endif
		if (SEQ_LT(tp->snd_nxt, tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		if (so != NULL)
			soisconnected(so);
		tp->t_starttime = stack_now(st);
		if (tp->t_flags & TF_NEEDFIN) {
			tp->t_state = TCPS_FIN_WAIT_1;
			tp->t_flags &= ~TF_NEEDFIN;
		} else {
			tp->t_state = TCPS_ESTABLISHED;
		}
		cc_conn_init(tp);
		tcp_timer_activate(tp, TT_KEEP,
		    MS_TO_NS(tp->t_keepidle ? tp->t_keepidle : (uint32_t)V(st, tcp_keepidle)));
		tp->t_flags |= TF_ACKNOW;
	} else {
		/* Simultaneous open (RFC 9293 3.5 figure 8): SYN_RECEIVED,
		 * our SYN goes out again with the ACK. */
		tp->t_flags |= TF_ACKNOW | TF_NEEDSYN;
		tp->t_state = TCPS_SYN_RECEIVED;
		/* FreeBSD (rcv-syn-syn-sent-*.pkt): "S. 0:0(0) ack 1",
		 * the SYN again from the ISS. */
		tp->snd_nxt = tp->snd_una;
	}
	/* The SYN takes one sequence number; data past the window go. */
	th->th_seq++;
	if (seg->tlen > tp->rcv_wnd) {
		todrop = (int32_t)(seg->tlen - tp->rcv_wnd);
		m_adj(*mp, -todrop);
		seg->tlen = tp->rcv_wnd;
		th->th_flags &= (uint16_t)~TH_FIN;
		TCPSTAT_INC(st, tcps_rcvpackafterwin);
		TCPSTAT_ADD(st, tcps_rcvbyteafterwin, (uint32_t)todrop);
	}
	tp->snd_wl1 = th->th_seq - 1;
	tp->snd_wl2 = th->th_ack;
	tp->rcv_up = th->th_seq;
	th->th_flags &= (uint16_t)~TH_SYN;
	return (DS_STEP6);
}

/* ---------------------------------------------------------------------
 * RST and SYN in synchronized states (RFC 9293 3.10.7.4, RFC 5961).
 * ------------------------------------------------------------------- */

/* The ACK the peer has seen, or is about to see: an immediate ACK held
 * for the end of the poll (tcp_outq.c) leaves with the same frames it
 * would have left without the hold, so a RST behind it in the same burst
 * is judged against it, as with net.inet.tcp.ack_coalesce off. */
static tcp_seq
tcp_ack_point(const struct tcpcb *tp)
{
	if ((tp->t_flags2 & TF2_OUTQ) && (tp->t_flags & TF_ACKNOW))
		return (tp->rcv_nxt);
	return (tp->last_ack_sent);
}

/* Within [last_ack_sent, last_ack_sent + rcv_wnd) (RFC 5961 3.2). */
static int
tcp_seq_inwindow(const struct tcpcb *tp, tcp_seq seq)
{
	tcp_seq ack = tcp_ack_point(tp);

	if (tp->rcv_wnd == 0)
		return (seq == ack);
	return (SEQ_GEQ(seq, ack) && SEQ_LT(seq, ack + tp->rcv_wnd));
}

static int
tcp_do_rst(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);
	int error;

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	if (!tcp_seq_inwindow(tp, seg->th.th_seq)) {
		TCPSTAT_INC(st, tcps_badrst);
		return (DS_DROP);
	}
	if (seg->th.th_seq != tcp_ack_point(tp) && !V(st, tcp_insecure_rst)) {
		/* RFC 5961 3.2: in the window but not exact. */
		TCPSTAT_INC(st, tcps_badrst_inwindow);
		tcp_send_challenge_ack(tp, seg);
		return (DS_DROP);
	}
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
		error = UST_ECONNREFUSED;
		break;
	default:
		/* ESTABLISHED ... LAST_ACK: FreeBSD reports ECONNRESET
		 * even in CLOSING and LAST_ACK when the socket is still
		 * open (rcv-rst-last-ack-*.pkt). */
		error = UST_ECONNRESET;
		break;
	}
	if (so != NULL)
		soseterror(so, error);
	TCPSTAT_INC(st, tcps_drops);
	tp->t_state = TCPS_CLOSED;
	(void)tcp_close(tp);
	return (DS_DONE);
}

/* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK; with
 * net.inet.tcp.insecure_syn an in-window SYN resets as RFC 793 said. */
static int
tcp_do_syn_sync(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;

	TCP_ASSERT_STATE(tp, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2);
	TCPSTAT_INC(st, tcps_synchallenge);
	if (V(st, tcp_insecure_syn) && tcp_seq_inwindow(tp, seg->th.th_seq)) {
		TCPSTAT_INC(st, tcps_badsyn);
		(void)tcp_drop(tp, UST_ECONNRESET);
		return (DS_DONE);
	}
	tcp_send_challenge_ack(tp, seg);
	return (DS_DROP);
}

/* ---------------------------------------------------------------------
 * Acceptability and trimming (RFC 9293 3.10.7.4 first check).
 * ------------------------------------------------------------------- */

static int
tcp_trim(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m)
{
	struct ust_stack *st = tp->t_stack;
	struct tcphdr *th = &seg->th;
	int32_t todrop;

	todrop = tcp_seq_diff(tp->rcv_nxt, th->th_seq);
	if (todrop > 0) {
		if (th->th_flags & TH_SYN) {
			th->th_flags &= (uint16_t)~TH_SYN;
			th->th_seq++;
			if (th->th_urp > 1)
				th->th_urp--;
			else
				th->th_flags &= (uint16_t)~TH_URG;
			todrop--;
		}
		/* RFC 2883 4: data below rcv_nxt is reported as a D-SACK. */
		if ((tp->t_flags & TF_SACK_PERMIT) && todrop > 0 && seg->tlen > 0) {
			tcp_update_dsack_list(tp, th->th_seq,
			    th->th_seq +
			        ((uint32_t)todrop < seg->tlen ? (uint32_t)todrop : seg->tlen));
			seg->dsack = 1;
			/* Now: the next in-order segment would clear the
			 * block before a delayed ACK carried it (FreeBSD). */
			tp->t_flags |= TF_ACKNOW;
		}
		if ((uint32_t)todrop > seg->tlen ||
		    ((uint32_t)todrop == seg->tlen && !(th->th_flags & TH_FIN))) {
			/* All old: ACK it (the peer lost our ACK) but take
			 * any ACK and window it carries. */
			th->th_flags &= (uint16_t)~TH_FIN;
			tp->t_flags |= TF_ACKNOW;
			todrop = (int32_t)seg->tlen;
			TCPSTAT_INC(st, tcps_rcvduppack);
			TCPSTAT_ADD(st, tcps_rcvdupbyte, (uint32_t)todrop);
		} else {
			TCPSTAT_INC(st, tcps_rcvpartduppack);
			TCPSTAT_ADD(st, tcps_rcvpartdupbyte, (uint32_t)todrop);
		}
		if (todrop > 0)
			m_adj(m, todrop);
		th->th_seq += (uint32_t)todrop;
		seg->tlen -= (uint32_t)todrop;
		if (th->th_urp > (uint32_t)todrop) {
			th->th_urp = (uint16_t)(th->th_urp - todrop);
		} else {
			th->th_flags &= (uint16_t)~TH_URG;
			th->th_urp = 0;
		}
	}
	/* Data after the user closed: nobody will read them (RFC 9293
	 * 3.10.7.4 "if the user has closed", FreeBSD rcvafterclose). */
	{
		struct socket *so = tp_so(tp);

		if (so != NULL && (so->so_state & SS_NOFDREF) && tp->t_state > TCPS_CLOSE_WAIT &&
		    seg->tlen > 0) {
			TCPSTAT_INC(st, tcps_rcvafterclose);
			(void)tcp_close(tp);
			return (DS_DROPRESET);
		}
	}
	todrop = tcp_seq_diff(th->th_seq + seg->tlen, tp->rcv_nxt + tp->rcv_wnd);
	if (todrop > 0) {
		TCPSTAT_INC(st, tcps_rcvpackafterwin);
		if ((uint32_t)todrop >= seg->tlen) {
			TCPSTAT_ADD(st, tcps_rcvbyteafterwin, seg->tlen);
			/* A zero-window probe: ACK it with our window. */
			if (tp->rcv_wnd == 0 && th->th_seq == tp->rcv_nxt) {
				tp->t_flags |= TF_ACKNOW;
				TCPSTAT_INC(st, tcps_rcvwinprobe);
			} else {
				return (DS_DROPAFTERACK);
			}
		} else {
			TCPSTAT_ADD(st, tcps_rcvbyteafterwin, (uint32_t)todrop);
		}
		m_adj(m, -todrop);
		seg->tlen -= (uint32_t)todrop > seg->tlen ? seg->tlen : (uint32_t)todrop;
		th->th_flags &= (uint16_t) ~(TH_PUSH | TH_FIN);
	}
	return (DS_CONTINUE);
}

/* RFC 7323 4.3: remember the peer's timestamp when the segment covers
 * the byte we last acknowledged. */
static void
tcp_update_ts_recent(struct tcpcb *tp, const struct tcp_seg *seg)
{
	const struct tcphdr *th = &seg->th;
	uint32_t len = seg->tlen + ((th->th_flags & (TH_SYN | TH_FIN)) ? 1 : 0);

	if ((seg->to.to_flags & TOF_TS) && (tp->t_flags & TF_RCVD_TSTMP) &&
	    SEQ_LEQ(th->th_seq, tp->last_ack_sent) &&
	    SEQ_LEQ(tp->last_ack_sent, th->th_seq + len)) {
		tp->ts_recent = seg->to.to_tsval;
		tp->ts_recent_age = stack_now(tp->t_stack);
	}
}

/* ---------------------------------------------------------------------
 * ACK processing (RFC 9293 3.10.7.4 fifth check, RFC 5681, RFC 6582).
 * ------------------------------------------------------------------- */

/* The third duplicate ACK: fast retransmit of snd_una, then fast
 * recovery (RFC 5681 3.2, RFC 6582 3.2 step 2).  FreeBSD's trick: send
 * with snd_nxt = snd_una and a one-segment cwnd, then restore both. */
static void
tcp_fast_retransmit(struct tcpcb *tp)
{
	tcp_seq onxt = tp->snd_nxt;
	uint32_t cwnd;

	TCPSTAT_INC(tp->t_stack, tcps_fastretransmits);
	cc_cong_signal(tp, CC_NDUPACK);
	tcp_prr_enter(tp, 0);
	tcp_timer_activate(tp, TT_REXMT, 0);
	tp->t_rtttime = 0;
	cwnd = tp->snd_cwnd;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tcp_fixed_maxseg(tp);
	(void)tcp_output(tp);
	tp->snd_cwnd = cwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
}

/* RFC 3042: each of the first two duplicate ACKs lets one new segment
 * out, beyond cwnd, if the peer's window allows. */
static void
tcp_limited_transmit(struct tcpcb *tp)
{
	uint32_t cwnd = tp->snd_cwnd;
	tcp_seq omax = tp->snd_max;
	uint32_t sent;

	if (tp->t_dupacks <= tp->snd_limited)
		return;
	tp->snd_cwnd = SEQ_SUB(tp->snd_nxt, tp->snd_una) +
	    (tp->t_dupacks - tp->snd_limited) * tcp_fixed_maxseg(tp);
	(void)tcp_output(tp);
	sent = SEQ_SUB(tp->snd_max, omax);
	if (sent > tcp_fixed_maxseg(tp))
		tp->snd_limited = 2;
	else if (sent > 0)
		tp->snd_limited++;
	tp->snd_cwnd = cwnd;
}

/* RFC 6675 5 step 4.3 / NextSeg(): while cwnd - pipe >= 1 SMSS, the
 * lowest hole not yet retransmitted (rule 1), then new data (rule 2).
 * force: the first retransmission of a recovery goes whatever the pipe
 * (step 4.2).  FreeBSD's trick as in tcp_fast_retransmit: snd_nxt at the
 * hole, a cwnd that lets exactly that much out. */
static void
tcp_sack_recovery_output(struct tcpcb *tp, int force)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t maxseg = tcp_fixed_maxseg(tp), cwnd = tp->snd_cwnd, len, pipe, sent;
	tcp_seq onxt = tp->snd_nxt, at;
	struct sackhole *h;
	int i;

	for (i = 0; i < 64; i++) {
		pipe = tcp_sack_pipe(tp);
		if (!force && pipe + maxseg > cwnd)
			break;
		force = 0;
		h = tcp_sack_output(tp, &len);
		if (h == NULL)
			break;
		if (len > maxseg)
			len = maxseg;
		at = h->rxmit;
		tp->snd_nxt = at;
		tp->snd_cwnd = (uint32_t)(at - tp->snd_una) + len;
		(void)tcp_output(tp);
		sent = (uint32_t)(tp->snd_nxt - at);
		if (sent == 0 || sent > len + 1)
			break;
		h->rxmit = SEQ_GT(at + sent, h->end) ? h->end : at + sent;
		tp->sackhint.sack_bytes_rexmit += (int32_t)sent;
		TCPSTAT_INC(st, tcps_sack_rexmits);
		TCPSTAT_ADD(st, tcps_sack_rexmit_bytes, sent);
	}
	tp->snd_cwnd = cwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
	tcp_recovery_send_new(tp, tcp_sack_pipe(tp), cwnd, maxseg, 1);
}

/* tcp_var.h: after a recovery step's retransmissions, new data while the
 * pipe leaves a segment of room under cwnd (RFC 6675 5 step C), and the
 * retransmission timer kept while data is outstanding (RFC 6298 5.1).
 * Shared by the default stack's SACK recovery and rack's. */
void
tcp_recovery_send_new(struct tcpcb *tp, uint32_t pipe, uint32_t cwnd, uint32_t maxseg, int may_send)
{
	if (may_send && pipe + maxseg <= cwnd) {
		tp->snd_cwnd = (uint32_t)(tp->snd_nxt - tp->snd_una) + (cwnd - pipe);
		(void)tcp_output(tp);
		tp->snd_cwnd = cwnd;
	}
	if (tp->snd_max != tp->snd_una && !tcp_timer_active(tp, TT_REXMT) &&
	    !tcp_timer_active(tp, TT_PERSIST))
		tcp_timer_activate(tp, TT_REXMT, tcp_rexmt_timeout(tp, tp->t_rxtshift));
}

/* RFC 6675 5: enter loss recovery from the scoreboard. */
static void
tcp_sack_enter_recovery(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;

	TCPSTAT_INC(st, tcps_fastretransmits);
	TCPSTAT_INC(st, tcps_sack_recovery_episode);
	cc_cong_signal(tp, CC_NDUPACK);
	/* Step 4.2: cwnd = ssthresh; pipe, not inflation, paces sending. */
	tp->snd_cwnd = tp->snd_ssthresh;
	tp->t_sack_recovery = 1;
	tcp_sack_recovery_reset(tp);
	tcp_prr_enter(tp, 1); /* RFC 6937: cwnd = pipe + sndcnt instead */
	tp->t_rtttime = 0;
	tcp_sack_recovery_output(tp, 1);
}

static int tcp_update_window(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t tiwin);

/* SEG.ACK =< SND.UNA.  Returns DS_DROP when the ACK was consumed as a
 * duplicate, DS_STEP6 otherwise. */
static int
tcp_do_dupack(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t tiwin)
{
	struct ust_stack *st = tp->t_stack;
	const struct tcphdr *th = &seg->th;

	TCP_ASSERT_STATE(tp, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	KASSERT(SEQ_LEQ(th->th_ack, tp->snd_una),
	    ("tcp_do_dupack: ack %u above snd_una %u", (unsigned)th->th_ack,
	        (unsigned)tp->snd_una));
	/* RFC 6675 2: an ACK whose SACK blocks cover octets not SACKed
	 * before is a duplicate even when it changes the window; else a
	 * receiver that opens its window during a loss (Linux while it
	 * autotunes) leaves every loss to the RTO. */
	int sack_dup = (tp->t_flags & TF_SACK_PERMIT) && (seg->to.to_flags & TOF_SACK) &&
	    tp->sackhint.delivered_data > 0;

	/* RFC 5681 2: no data, no SYN/FIN, the window unchanged, ACK ==
	 * SND.UNA, and data outstanding. */
	if (seg->tlen != 0 || (th->th_flags & (TH_SYN | TH_FIN)) ||
	    (tiwin != tp->snd_wnd && !sack_dup) || th->th_ack != tp->snd_una ||
	    tp->snd_max == tp->snd_una) {
		if (th->th_ack == tp->snd_una && !IN_FASTRECOVERY(tp->t_flags))
			tp->t_dupacks = 0;
		return (DS_STEP6);
	}
	/* Consumed as a duplicate: its window still counts (step 6 is skipped). */
	if (tiwin != tp->snd_wnd)
		(void)tcp_update_window(tp, seg, tiwin);
	TCPSTAT_INC(st, tcps_rcvdupack);
	if (TCP_FB_OWNS_LOSS(tp)) {
		/* The block's ACK hook decides (tcp_stacks/rack.c); RFC
		 * 3042 still lets new data out before any recovery. */
		tp->t_dupacks++;
		if (!IN_FASTRECOVERY(tp->t_flags) && tp->t_dupacks < TCP_DUPACK_THRESH &&
		    V(st, tcp_do_rfc3042))
			tcp_limited_transmit(tp);
		return (DS_DROP);
	}
	if (IN_FASTRECOVERY(tp->t_flags) && tp->t_sack_recovery) {
		/* RFC 6675 5 step C: send what the pipe allows. */
		tp->t_dupacks++;
		(void)tcp_prr_ack(tp);
		if (!tp->t_sack_overflow)
			tcp_sack_recovery_output(tp, 0);
		return (DS_DROP);
	}
	if (IN_FASTRECOVERY(tp->t_flags)) {
		/* RFC 5681 3.2 step 4: inflate, maybe send new data. */
		tp->t_dupacks++;
		if (!tcp_prr_ack(tp))
			cc_ack_received(tp, 0, CC_DUPACK, 1);
		(void)tcp_output(tp);
		return (DS_DROP);
	}
	/* FreeBSD: without a retransmission timer running nothing is
	 * outstanding that a duplicate ACK could report lost. */
	if (!tcp_timer_active(tp, TT_REXMT)) {
		tp->t_dupacks = 0;
		return (DS_DROP);
	}
	tp->t_dupacks++;
	/* RFC 6675 5: DupThresh duplicates, or IsLost(HighACK + 1) from
	 * the scoreboard, with a hole to repair. */
	if ((tp->t_flags & TF_SACK_PERMIT) && !tp->t_sack_overflow && tp->snd_holes != NULL &&
	    (tp->t_dupacks >= TCP_DUPACK_THRESH || tcp_sack_islost(tp))) {
		if (SEQ_GT(tp->snd_recover, tp->iss) && SEQ_LEQ(tp->snd_recover, tp->snd_max) &&
		    SEQ_LT(th->th_ack, tp->snd_recover)) {
			tp->t_dupacks = 0;
			return (DS_DROP);
		}
		tcp_sack_enter_recovery(tp);
		return (DS_DROP);
	}
	if (tp->t_dupacks == TCP_DUPACK_THRESH) {
		/* RFC 6582 4.1: no new recovery for losses from before the
		 * last one (the ACK does not cover snd_recover). */
		if (SEQ_GT(tp->snd_recover, tp->iss) && SEQ_LEQ(tp->snd_recover, tp->snd_max) &&
		    SEQ_LT(th->th_ack, tp->snd_recover)) {
			tp->t_dupacks = 0;
			return (DS_DROP);
		}
		tcp_fast_retransmit(tp);
		return (DS_DROP);
	}
	if (tp->t_dupacks < TCP_DUPACK_THRESH && V(st, tcp_do_rfc3042))
		tcp_limited_transmit(tp);
	return (DS_DROP);
}

/* RFC 6582 3.2 step 5: a partial ACK in fast recovery retransmits the
 * next hole at once: exactly one segment from the new snd_una (already
 * advanced by the caller), not the data after it, which the peer holds
 * out of order. */
static void
tcp_newreno_partial_ack(struct tcpcb *tp)
{
	tcp_seq onxt = tp->snd_nxt;
	uint32_t cwnd = tp->snd_cwnd;

	TCPSTAT_INC(tp->t_stack, tcps_newreno_partial);
	tcp_timer_activate(tp, TT_REXMT, 0);
	tp->t_rtttime = 0;
	tp->snd_nxt = tp->snd_una;
	tp->snd_cwnd = tcp_fixed_maxseg(tp);
	tp->t_flags |= TF_ACKNOW;
	(void)tcp_output(tp);
	tp->snd_cwnd = cwnd;
	if (SEQ_GT(onxt, tp->snd_nxt))
		tp->snd_nxt = onxt;
}

/* Our FIN is acknowledged: the state changes of RFC 9293 3.10.7.4. */
static int
tcp_fin_acked(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);

	switch (tp->t_state) {
	case TCPS_FIN_WAIT_1:
		tp->t_state = TCPS_FIN_WAIT_2;
		/* Nobody will read any more: do not wait for the peer's
		 * FIN forever (FreeBSD finwait2_timeout). */
		if (so != NULL && (so->so_rcv.sb_state & SBS_CANTRCVMORE)) {
			soisdisconnected(so);
			tcp_timer_activate(tp, TT_2MSL, MS_TO_NS(V(st, tcp_finwait2_timeout)));
		}
		return (DS_CONTINUE);
	case TCPS_CLOSING:
		tcp_twstart(tp);
		return (DS_DONE);
	case TCPS_LAST_ACK:
		(void)tcp_close(tp);
		return (DS_DONE);
	default:
		return (DS_CONTINUE);
	}
}

/* New data acknowledged. */
static int
tcp_do_newack(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);
	tcp_seq ack = seg->th.th_ack;
	uint32_t acked = SEQ_SUB(ack, tp->snd_una), sbcc;
	int ourfinisacked = 0, inrec = IN_FASTRECOVERY(tp->t_flags);

	TCP_ASSERT_STATE(tp, TCPS_ESTABLISHED, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	KASSERT(SEQ_GT(ack, tp->snd_una) && SEQ_LEQ(ack, tp->snd_max),
	    ("tcp_do_newack: ack %u outside (snd_una %u, snd_max %u]", (unsigned)ack,
	        (unsigned)tp->snd_una, (unsigned)tp->snd_max));
	TCPSTAT_INC(st, tcps_rcvackpack);
	TCPSTAT_ADD(st, tcps_rcvackbyte, acked);
	tp->t_bytes_acked_total += acked;
	/* RFC 7323 4.2 / RFC 6298 (Karn without timestamps). */
	tcp_ack_rtt(tp, seg, ack);
	tp->t_rxtshift = 0;
	tp->snd_limited = 0;
	if (!inrec)
		cc_ack_received(tp, acked, CC_ACK, tp->snd_cwnd <= tp->snd_wnd);
	if (so != NULL)
		tcp_autosndbuf(tp, so);
	sbcc = so != NULL ? so->so_snd.sb_cc : 0;
	if (acked > sbcc) {
		/* The ACK covers our FIN too. */
		tp->snd_wnd -= sbcc < tp->snd_wnd ? sbcc : tp->snd_wnd;
		if (so != NULL)
			sbdrop(&so->so_snd, sbcc);
		ourfinisacked = (tp->t_flags & TF_SENTFIN) != 0;
	} else {
		tp->snd_wnd -= acked < tp->snd_wnd ? acked : tp->snd_wnd;
		if (so != NULL)
			sbdrop(&so->so_snd, acked);
	}
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if (inrec) {
		if (SEQ_LT(ack, tp->snd_recover)) {
			if (TCP_FB_OWNS_LOSS(tp)) {
				/* The block's ACK hook repairs. */
			} else if (tp->t_sack_recovery && !tp->t_sack_overflow) {
				/* RFC 6675 5 step C: a partial ACK lowers
				 * the pipe; repair the next holes (the
				 * retransmission timer keeps running). */
				tp->t_rtttime = 0;
				(void)tcp_prr_ack(tp);
				tcp_sack_recovery_output(tp, 0);
			} else {
				tcp_newreno_partial_ack(tp);
				cc_ack_received(tp, acked, CC_ACK, 1);
			}
		} else {
			/* RFC 6675 5 step B / RFC 6582: the recovery point. */
			cc_post_recovery(tp);
			tcp_prr_exit(tp);
			tp->t_flags &= ~TF_FASTRECOVERY;
			tp->t_dupacks = 0;
			tp->t_sack_recovery = 0;
		}
	} else {
		tp->t_dupacks = 0;
		/* RFC 3168 6.1.2: the window of the ECN reduction is acked;
		 * the next ECE is new congestion.  cwnd was set when it began,
		 * so nothing is deflated here. */
		if (IN_CONGRECOVERY(tp->t_flags) && SEQ_GEQ(ack, tp->snd_recover))
			tp->t_flags &= ~TF_CONGRECOVERY;
	}
	/* RFC 6298 5.2-5.3: stop the timer when all is acknowledged,
	 * restart it when new data were. */
	if (ack == tp->snd_max)
		tcp_timer_activate(tp, TT_REXMT, 0);
	else if (!tcp_timer_active(tp, TT_PERSIST))
		tcp_timer_activate(tp, TT_REXMT, tcp_rexmt_timeout(tp, 0));
	if (so != NULL)
		sowwakeup(so);
	if (ourfinisacked)
		return (tcp_fin_acked(tp));
	return (DS_CONTINUE);
}

/* SYN_RECEIVED: the ACK of our SYN completes the handshake. */
static void
tcp_synrcvd_established(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);

	TCPSTAT_INC(st, tcps_connects);
#if UST_TCP_TFO
	tcp_fastopen_synrcvd_done(tp);
#endif
	if (so != NULL && !(so->so_state & SS_ISCONNECTED))
		soisconnected(so);
	tp->t_starttime = stack_now(st);
	if (tp->t_flags & TF_NEEDFIN) {
		tp->t_state = TCPS_FIN_WAIT_1;
		tp->t_flags &= ~TF_NEEDFIN;
	} else {
		tp->t_state = TCPS_ESTABLISHED;
		cc_conn_init(tp);
	}
	tcp_timer_activate(tp, TT_KEEP,
	    MS_TO_NS(tp->t_keepidle ? tp->t_keepidle : (uint32_t)V(st, tcp_keepidle)));
	/* The ACK of our SYN (simultaneous open: it is still counted). */
	if (SEQ_GT(seg->th.th_ack, tp->snd_una) && tp->snd_una == tp->iss)
		tp->snd_una++;
	tp->t_flags &= ~TF_NEEDSYN;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	/* Data that waited in the queue for the connection. */
	if (seg->tlen == 0 && !(seg->th.th_flags & TH_FIN))
		(void)tcp_reass(tp, seg, seg->th.th_seq, NULL);
	tp->snd_wl1 = seg->th.th_seq - 1;
}

static int
tcp_do_ack(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t tiwin)
{
	struct ust_stack *st = tp->t_stack;
	tcp_seq ack = seg->th.th_ack;
	int r;

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	if (tp->t_state == TCPS_SYN_RECEIVED)
		tcp_synrcvd_established(tp, seg);
	/* RFC 5961 5.2: an ACK older than the window the peer can have
	 * seen is a blind injection: challenge it. */
	if (SEQ_LT(ack, tp->snd_una - tp->max_sndwnd)) {
		TCPSTAT_INC(st, tcps_ackchallenge);
		tcp_send_challenge_ack(tp, seg);
		return (DS_DROP);
	}
	/* RFC 9293: an ACK of something not yet sent: ACK and drop. */
	if (SEQ_GT(ack, tp->snd_max)) {
		TCPSTAT_INC(st, tcps_rcvacktoomuch);
		return (DS_DROPAFTERACK);
	}
	/* RFC 2018 / RFC 6675: the scoreboard from every ACK that is not
	 * older than snd_una (tcp_sack_doack validates the blocks). */
	if ((tp->t_flags & TF_SACK_PERMIT) && SEQ_GEQ(ack, tp->snd_una))
		tcp_sack_doack(tp, &seg->to, ack);
	/* RFC 3168 6.1.2: ECE while data are out is congestion on the path;
	 * cc_cong_signal reduces at most once per window (TF_CONGRECOVERY
	 * until snd_recover is acknowledged, below in tcp_do_newack).  Done
	 * before this ACK can end that window: it may still echo old CE. */
	if ((tp->t_flags & TF_ECN_PERMIT) && (seg->th.th_flags & TH_ECE) &&
	    SEQ_GT(tp->snd_max, tp->snd_una))
		cc_cong_signal(tp, CC_ECN);
	if (SEQ_LEQ(ack, tp->snd_una))
		r = tcp_do_dupack(tp, seg, tiwin);
	else
		r = tcp_do_newack(tp, seg);
	/* A block's loss detection sees the ACK once the default stack has
	 * (DS_DONE: the connection is gone). */
	if (r != DS_DONE && tp->t_fb->tfb_tcp_ack_processed != NULL)
		tp->t_fb->tfb_tcp_ack_processed(tp, seg);
	return (r);
}

/* ---------------------------------------------------------------------
 * Window, urgent data, data and FIN (RFC 9293 3.10.7.4, sixth-eighth).
 * ------------------------------------------------------------------- */

/* RFC 9293 3.10.7.4: take the window from the newest segment
 * (SND.WL1/SND.WL2 rule).  Returns 1 when output may follow. */
static int
tcp_update_window(struct tcpcb *tp, const struct tcp_seg *seg, uint32_t tiwin)
{
	const struct tcphdr *th = &seg->th;

	if (!(th->th_flags & TH_ACK))
		return (0);
	/* RFC 9293: SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =<
	 * SEG.ACK).  FreeBSD also wants a larger window when both are
	 * equal; we follow the RFC so that a shrink to zero is heard. */
	if (SEQ_LT(th->th_ack, tp->snd_una) ||
	    !(SEQ_LT(tp->snd_wl1, th->th_seq) ||
	        (tp->snd_wl1 == th->th_seq && SEQ_LEQ(tp->snd_wl2, th->th_ack))))
		return (0);
	if (tiwin == tp->snd_wnd && tp->snd_wl1 == th->th_seq && tp->snd_wl2 == th->th_ack)
		return (0);
	if (seg->tlen == 0 && tp->snd_wl2 == th->th_ack && tiwin > tp->snd_wnd)
		TCPSTAT_INC(tp->t_stack, tcps_rcvwinupd);
	tp->snd_wnd = tiwin;
	tp->snd_wl1 = th->th_seq;
	tp->snd_wl2 = th->th_ack;
	if (tp->snd_wnd > tp->max_sndwnd)
		tp->max_sndwnd = tp->snd_wnd;
	/* The window opened: the persist state ends (RFC 9293 3.8.6.1). */
	if (tp->snd_wnd > 0 && tcp_timer_active(tp, TT_PERSIST)) {
		tcp_timer_activate(tp, TT_PERSIST, 0);
		tp->t_rxtshift = 0;
	}
	return (1);
}

/* RFC 9293 3.8.5 / RFC 6093: track the urgent pointer; data stay inline. */
static void
tcp_do_urg(struct tcpcb *tp, const struct tcp_seg *seg)
{
	const struct tcphdr *th = &seg->th;
	struct socket *so = tp_so(tp);

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	if ((th->th_flags & TH_URG) && th->th_urp != 0 && !TCPS_HAVERCVDFIN(tp->t_state)) {
		if (so != NULL && (uint32_t)th->th_urp + so->so_rcv.sb_cc > so->so_rcv.sb_hiwat)
			return; /* beyond any buffer: ignore */
		if (SEQ_GT(th->th_seq + th->th_urp, tp->rcv_up)) {
			tp->rcv_up = th->th_seq + th->th_urp;
			tp->t_oobflags |= TCPOOB_HADDATA;
		}
	} else if (SEQ_GT(tp->rcv_nxt, tp->rcv_up)) {
		tp->rcv_up = tp->rcv_nxt;
	}
}

/* FreeBSD DELAY_ACK(): delay unless an ACK is already owed (every
 * second full segment then goes out at once, RFC 1122 4.2.3.2, RFC 5681
 * 4.2), we advertised a zero window, or the segment is oversized. */
static int
tcp_delay_ack(const struct tcpcb *tp, uint32_t tlen)
{
	return (!tcp_timer_active(tp, TT_DELACK) && !(tp->t_flags & (TF_RXWIN0SENT | TF_DELACK)) &&
	    tlen <= tp->t_maxseg &&
	    (V(tp->t_stack, tcp_delack_enabled) || (tp->t_flags & TF_NEEDSYN)));
}

/* The FIN of the peer (RFC 9293 3.10.7.4 eighth). */
static int
tcp_do_fin(struct tcpcb *tp)
{
	struct socket *so = tp_so(tp);

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	if (!TCPS_HAVERCVDFIN(tp->t_state)) {
		if (so != NULL)
			socantrcvmore(so);
		if (tp->t_flags & TF_NEEDSYN)
			tp->t_flags |= TF_DELACK;
		else
			tp->t_flags |= TF_ACKNOW;
		tp->rcv_nxt++;
	}
	switch (tp->t_state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		tp->t_state = TCPS_CLOSE_WAIT;
		break;
	case TCPS_FIN_WAIT_1:
		tp->t_state = TCPS_CLOSING;
		break;
	case TCPS_FIN_WAIT_2:
		/* ACK the FIN, then wait 2MSL. */
		(void)tcp_output(tp);
		tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
		tcp_twstart(tp);
		return (DS_DONE);
	default:
		break;
	}
	return (DS_CONTINUE);
}

/* In-order data (or a bare FIN) with nothing queued out of order, the
 * common case of step 7 (RFC 9293 3.10.7.4) and the whole of header
 * prediction's data path: the ACK decision (RFC 1122 4.2.3.2, RFC 5681
 * 4.2: tcp_delay_ack, so an oversized LRO frame is acknowledged at once),
 * the sequence space, the counters and delivery to the socket.
 * Consumes m. */
static inline void
tcp_data_inorder(struct tcpcb *tp, const struct tcp_seg *seg, struct mbuf *m, struct socket *so)
{
	struct ust_stack *st = tp->t_stack;

	if (seg->tlen != 0 && tcp_delay_ack(tp, seg->tlen))
		tp->t_flags |= TF_DELACK;
	else
		tp->t_flags |= TF_ACKNOW;
	tp->rcv_nxt += seg->tlen;
	tp->t_bytes_rcvd_total += seg->tlen;
	if (seg->tlen != 0) {
		TCPSTAT_ADD(st, tcps_rcvpack, tcp_lro_nsegs(m));
		TCPSTAT_ADD(st, tcps_rcvbyte, seg->tlen);
	}
	if (so != NULL && !(so->so_rcv.sb_state & SBS_CANTRCVMORE) && seg->tlen != 0) {
		tcp_autorcvbuf(tp, seg, so);
		sbappendstream(&so->so_rcv, m);
		sorwakeup(so);
	} else {
		m_freem(m);
	}
}

/* Payload of seg (m) into the socket or the reassembly queue. */
static int
tcp_do_data(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m)
{
	struct socket *so = tp_so(tp);
	struct tcphdr *th = &seg->th;
	int fin = 0;

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	TCP_ASSERT_PAYLOAD(seg, m);
	if ((seg->tlen != 0 || (th->th_flags & TH_FIN)) && !TCPS_HAVERCVDFIN(tp->t_state)) {
		if (th->th_seq == tp->rcv_nxt && tp->t_segq == NULL &&
		    TCPS_HAVEESTABLISHED(tp->t_state)) {
			tcp_data_inorder(tp, seg, m, so);
			fin = th->th_flags & TH_FIN;
		} else {
			/* Out of order, or a hole just filled: an immediate
			 * ACK (RFC 5681 4.2, the duplicate ACK the sender's
			 * fast retransmit counts on). */
			uint32_t nsegs = tcp_lro_nsegs(m);
			int ooo = th->th_seq != tp->rcv_nxt;

			fin = tcp_reass(tp, seg, th->th_seq, m);
			/* A coalesced frame (tcp_lro.c) above a hole stands for
			 * nsegs out-of-order segments, each of which would have
			 * been answered by a duplicate ACK: send them all, so a
			 * peer counting duplicate ACKs (RFC 5681 3.2) still
			 * reaches its threshold.  tcp_finish sends the last. */
			while (ooo && nsegs-- > 1) {
				tp->t_flags |= TF_ACKNOW;
				(void)tcp_output(tp);
			}
			tp->t_flags |= TF_ACKNOW;
		}
		m = NULL;
	} else {
		m_freem(m);
		m = NULL;
		fin = 0;
	}
	if (fin)
		return (tcp_do_fin(tp));
	return (DS_CONTINUE);
}

/* ---------------------------------------------------------------------
 * The state machine of one connection.
 * ------------------------------------------------------------------- */

/* RFC 7323 5.3 R1 (PAWS), after FreeBSD: a segment whose TSval is
 * older than ts_recent is an old duplicate; drop it.  A RST never gets
 * here (RFC 7323 5.3: RSTs are exempt, see tcp_do_rst).  RFC 7323 5.5:
 * when ts_recent is more than 24 days old it is invalidated instead.
 * Like FreeBSD, only a segment with data or FIN is acknowledged: an ACK
 * for an old pure ACK would be a spurious duplicate ACK to the peer. */
static int
tcp_paws(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;

	if (!(tp->t_flags & TF_RCVD_TSTMP) || !(seg->to.to_flags & TOF_TS) || tp->ts_recent == 0 ||
	    !TSTMP_LT(seg->to.to_tsval, tp->ts_recent))
		return (DS_CONTINUE);
	if (stack_now(st) - tp->ts_recent_age > TCP_PAWS_IDLE_NS) {
		tp->ts_recent = 0;
		return (DS_CONTINUE);
	}
	TCPSTAT_INC(st, tcps_rcvduppack);
	TCPSTAT_ADD(st, tcps_rcvdupbyte, seg->tlen);
	TCPSTAT_INC(st, tcps_pawsdrop);
	if (seg->tlen != 0 || (seg->th.th_flags & (TH_SYN | TH_FIN)))
		return (DS_DROPAFTERACK);
	return (DS_DROP);
}

/* Synchronized states (and SYN_RECEIVED): everything up to data. */
static int
tcp_do_sync(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m, uint32_t tiwin)
{
	const struct tcphdr *th = &seg->th;
	int r;

	TCP_ASSERT_STATE(tp, TCPS_SYN_RECEIVED, TCPS_FIN_WAIT_2);
	TCP_ASSERT_SEQ(tp);
	TCP_ASSERT_PAYLOAD(seg, m);
	/* RFC 7323 3.2: once timestamps are agreed, a segment without one
	 * (but a RST) MUST be dropped; FreeBSD tolerates it by default
	 * (net.inet.tcp.tolerate_missing_ts) and drops silently if not. */
	if ((tp->t_flags & TF_RCVD_TSTMP) && !(seg->to.to_flags & TOF_TS) &&
	    !(th->th_flags & TH_RST) && !V(tp->t_stack, tcp_tolerate_missing_ts))
		return (DS_DROP);
	if (th->th_flags & TH_RST)
		return (tcp_do_rst(tp, seg));
	if ((r = tcp_paws(tp, seg)) != DS_CONTINUE)
		return (r);
	/* SYN_RECEIVED: an ACK that does not fit our SYN gets a RST. */
	if (tp->t_state == TCPS_SYN_RECEIVED && (th->th_flags & TH_ACK) &&
	    (SEQ_GT(tp->snd_una, th->th_ack) || SEQ_GT(th->th_ack, tp->snd_max)))
		return (DS_DROPRESET_TP);
	if ((th->th_flags & TH_SYN) && tp->t_state != TCPS_SYN_RECEIVED)
		return (tcp_do_syn_sync(tp, seg));
	if ((r = tcp_trim(tp, seg, m)) != DS_CONTINUE)
		return (r);
	tcp_update_ts_recent(tp, seg);
	tcp_ecn_input(tp, seg);
	if (!(th->th_flags & TH_ACK)) {
		/* RFC 9293: "if the ACK bit is off drop the segment". */
		if (tp->t_state == TCPS_SYN_RECEIVED || (tp->t_flags & TF_NEEDSYN))
			return (DS_STEP6);
		return ((tp->t_flags & TF_ACKNOW) ? DS_DROPAFTERACK : DS_DROP);
	}
	r = tcp_do_ack(tp, seg, tiwin);
	if (r == DS_DROP && (tp->t_flags & TF_ACKNOW))
		r = DS_DROPAFTERACK;
	return (r == DS_CONTINUE ? DS_STEP6 : r);
}

/* Sends what is owed and arms the delayed ACK. */
static void
tcp_finish(struct tcpcb *tp, int needoutput)
{
	struct ust_stack *st = tp->t_stack;

	if (tp->t_flags & TF_ACKNOW)
		tp->t_flags &= ~TF_DELACK;
	if (needoutput || (tp->t_flags & TF_ACKNOW))
		tcp_output_batch(tp);
	if (tp->t_flags & TF_DELACK) {
		tp->t_flags &= ~TF_DELACK;
		tcp_timer_activate(tp, TT_DELACK, MS_TO_NS(V(st, tcp_delacktime)));
	}
}

/* ---------------------------------------------------------------------
 * Header prediction (Van Jacobson's, in FreeBSD's order; Stevens TCPv2
 * 28.4).
 * ------------------------------------------------------------------- */

/* Step 6 of a predicted segment: tcp_update_window (the plain update),
 * tcp_do_urg without URG (rcv_up catches up before rcv_nxt moves), then
 * tcp_do_data's in-order branch and tcp_finish. */
static void
tcp_predict_step6(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m, uint32_t tiwin)
{
	int needoutput;

	needoutput = tcp_update_window(tp, seg, tiwin);
	if (SEQ_GT(tp->rcv_nxt, tp->rcv_up))
		tp->rcv_up = tp->rcv_nxt;
	if (seg->tlen == 0)
		m_freem(m);
	else
		tcp_data_inorder(tp, seg, m, tp_so(tp));
	tcp_finish(tp, needoutput);
	/* UST_DEBUG: the fast path kept the send sequence space sound (an
	 * upcall may have moved the state on: not checked). */
	TCP_ASSERT_SEQ(tp);
}

/*
 * The two segments a busy ESTABLISHED connection mostly sees, the next
 * pure ACK of new data (a sender) and the next in-order data with nothing
 * new acknowledged (a receiver), recognised by a few comparisons and
 * handled by exactly the steps tcp_do_sync, tcp_do_ack and step 6 would
 * take for them, in the same order, without the checks that cannot fire:
 * RST/SYN/PAWS/trimming/RFC 5961 challenges, the SACK scoreboard, ECE,
 * the duplicate-ACK machine, urgent data, reassembly and FIN.  Counters,
 * timers and every tcpcb field end as on the slow path, and the same
 * outputs go out (net.inet.tcp.header_prediction=0 gives the same wire,
 * which test_tcp_fastpath checks).  Returns 1 when it consumed m, 0 (and
 * nothing changed) for the slow path.
 */
static int
tcp_input_predict(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m, uint32_t tiwin)
{
	struct ust_stack *st = tp->t_stack;
	const struct tcphdr *th = &seg->th;
	struct socket *so;
	tcp_seq ack = th->th_ack;

	/* Cheapest and most selective first.  ECE and CWR are ECN work
	 * (RFC 3168 6.1.2-6.1.3); a FIN we sent makes an ACK beyond the
	 * data possible (tcp_do_newack's ourfinisacked). */
	if (tp->t_state != TCPS_ESTABLISHED ||
	    (th->th_flags & (TH_SYN | TH_FIN | TH_RST | TH_URG | TH_ACK | TH_ECE | TH_CWR)) !=
	        TH_ACK ||
	    (tp->t_flags & (TF_NEEDSYN | TF_NEEDFIN | TF_SENTFIN)) != 0 ||
	    th->th_seq != tp->rcv_nxt || tiwin == 0 || tiwin != tp->snd_wnd ||
	    tp->snd_nxt != tp->snd_max)
		return (0);
	/* RFC 7323 3.2 and 5.3 (tcp_do_sync, tcp_paws): with timestamps
	 * agreed the segment has one and it passes PAWS. */
	if ((tp->t_flags & TF_RCVD_TSTMP) &&
	    (!(seg->to.to_flags & TOF_TS) ||
	        (tp->ts_recent != 0 && TSTMP_LT(seg->to.to_tsval, tp->ts_recent))))
		return (0);
	/* CE needs ECE on an immediate ACK (tcp_ecn_input). */
	if ((tp->t_flags & TF_ECN_PERMIT) && (seg->ip_tos & IPTOS_ECN_MASK) == IPTOS_ECN_CE)
		return (0);
	/* The window update is the plain one (tcp_update_window's SND.WL1 /
	 * SND.WL2 rule holds). */
	if (SEQ_GT(tp->snd_wl1, th->th_seq) || SEQ_GT(tp->snd_wl2, ack))
		return (0);
	/* SACK: no blocks and no scoreboard, so tcp_sack_doack only moves
	 * snd_fack to the ACK and zeroes the hints (below). */
	if ((tp->t_flags & TF_SACK_PERMIT) &&
	    ((seg->to.to_flags & TOF_SACK) || tp->snd_holes != NULL || tp->t_sack_overflow))
		return (0);
	so = tp_so(tp);
	if (seg->tlen == 0) {
		/* Pure ACK of new data, not in any recovery, acknowledging
		 * data only (no FIN of ours is out). */
		if (!SEQ_GT(ack, tp->snd_una) || SEQ_GT(ack, tp->snd_max) ||
		    IN_RECOVERY(tp->t_flags) || so == NULL ||
		    SEQ_SUB(ack, tp->snd_una) > so->so_snd.sb_cc)
			return (0);
	} else {
		/* In-order data acknowledging nothing new, with nothing
		 * queued out of order or to report by SACK, that fits the
		 * buffer (so tcp_trim would not cut it). */
		if (ack != tp->snd_una || IN_FASTRECOVERY(tp->t_flags) || tp->t_segq != NULL ||
		    tp->rcv_numsacks != 0 || tp->rcv_dsack_valid || so == NULL ||
		    (so->so_rcv.sb_state & SBS_CANTRCVMORE) ||
		    (long)seg->tlen > sbspace(&so->so_rcv))
			return (0);
	}

	/* tcp_do_sync: the timestamp to echo, the ECT counters. */
	tcp_update_ts_recent(tp, seg);
	tcp_ecn_input(tp, seg);
	/* tcp_do_ack: tcp_sack_doack without blocks or holes. */
	if (tp->t_flags & TF_SACK_PERMIT) {
		tp->snd_fack = ack;
		tp->sackhint.nexthole = NULL;
		tp->sackhint.sacked_bytes = 0;
		tp->sackhint.lost_bytes = 0;
		tp->sackhint.sack_bytes_rexmit = 0;
	}
	if (seg->tlen == 0) {
		TCPSTAT_INC(st, tcps_predack);
		(void)tcp_do_newack(tp, seg);
		if (tp->t_fb->tfb_tcp_ack_processed != NULL)
			tp->t_fb->tfb_tcp_ack_processed(tp, seg);
		/* Step 6: window, the urgent pointer catching up, no data. */
		tcp_predict_step6(tp, seg, m, tiwin);
		return (1);
	}
	/* tcp_do_dupack for a segment with data. */
	TCPSTAT_INC(st, tcps_preddat);
	tp->t_dupacks = 0;
	tcp_predict_step6(tp, seg, m, tiwin);
	return (1);
}

/* RFC 9293 3.10.7.3-4.  seg is the segment's own copy (trimmed here);
 * m holds the payload only.  Consumes m.  Every function block's
 * tfb_tcp_do_segment (tcp_stacks/tcp_stacks.h). */
void
tcp_do_segment(struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp_so(tp);
	uint32_t tiwin;
	long win;
	int r, needoutput = 0;

	TCP_ASSERT_STATE(tp, TCPS_SYN_SENT, TCPS_FIN_WAIT_2);
	KASSERT(tp->t_inpcb != NULL && tp->t_inpcb->inp_ppcb == tp,
	    ("tcp_do_segment: tp %p and its inpcb do not point at each other", (void *)tp));
	TCP_ASSERT_SEQ(tp);
	if (m != NULL)
		M_SANITY(m);
	TCP_ASSERT_PAYLOAD(seg, m);
	/* Keepalive: the connection is alive (RFC 1122 4.2.3.6).  A running
	 * keepalive timer is left alone: tcp_timer_keep looks at t_rcvtime
	 * and waits for the rest of the idle time, so the probe leaves when
	 * it did with a re-arm per segment, without a callout touch per
	 * segment.  Only a deadline later than a fresh one would be (the
	 * idle time was lowered) is pulled in. */
	tp->t_rcvtime = stack_now(st);
	if (TCPS_HAVEESTABLISHED(tp->t_state)) {
		uint64_t kidle =
		    MS_TO_NS(tp->t_keepidle ? tp->t_keepidle : (uint32_t)V(st, tcp_keepidle));

		if (tp->t_timers[TT_KEEP] == 0 || tp->t_timers[TT_KEEP] - tp->t_rcvtime > kidle)
			tcp_timer_activate(tp, TT_KEEP, kidle);
	}
	/* RFC 7323 2.3: windows of SYNs are never scaled. */
	tiwin = seg->th.th_win;
	if (!(seg->th.th_flags & TH_SYN))
		tiwin <<= tp->snd_scale;
	/* The window we offer now, never shrunk below what we advertised. */
	win = so != NULL ? sbspace(&so->so_rcv) : 0;
	if (win < 0)
		win = 0;
	if (SEQ_GT(tp->rcv_adv, tp->rcv_nxt) && (long)SEQ_SUB(tp->rcv_adv, tp->rcv_nxt) > win)
		win = (long)SEQ_SUB(tp->rcv_adv, tp->rcv_nxt);
	tp->rcv_wnd = (uint32_t)win;
	if (V(st, tcp_header_prediction) && tcp_input_predict(tp, seg, m, tiwin))
		return;

	if (tp->t_state == TCPS_SYN_SENT)
		r = tcp_do_syn_sent(tp, seg, &m);
	else
		r = tcp_do_sync(tp, seg, m, tiwin);
	switch (r) {
	case DS_DONE:
		m_freem(m);
		return;
	case DS_DROP:
		m_freem(m);
		return;
	case DS_DROPRESET:
		/* In SYN_SENT the RST leaves with the socket's IP_TTL/IP_TOS
		 * (IPV6_UNICAST_HOPS/IPV6_TCLASS) as FreeBSD's does; no option
		 * is agreed yet for tp to add (socket-api-setsockopt-*-active). */
		tcp_dropwithreset(st, tp->t_state == TCPS_SYN_SENT ? tp : NULL, seg, m);
		return;
	case DS_DROPRESET_TP:
		/* FreeBSD answers with the tcpcb: a TCP_MD5SIG connection's
		 * RST is signed (tcp_respond), and in SYN_SENT it leaves with
		 * the socket's IP_TTL/IP_TOS (IPV6_UNICAST_HOPS/IPV6_TCLASS)
		 * as DS_DROPRESET's does; otherwise as without one. */
		tcp_dropwithreset(st,
		    (tp->t_state == TCPS_SYN_SENT || (tp->t_flags & TF_SIGNATURE)) ? tp : NULL, seg,
		    m);
		return;
	case DS_DROPAFTERACK:
		m_freem(m);
		tp->t_flags |= TF_ACKNOW;
		tcp_finish(tp, 0);
		return;
	default:
		break;
	}
	/* step 6 */
	needoutput = tcp_update_window(tp, seg, tiwin);
	tcp_do_urg(tp, seg);
	r = tcp_do_data(tp, seg, m);
	if (r == DS_DONE)
		return;
	tcp_finish(tp, needoutput);
}

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

/* The TCP half of tcp_input_parse and tcp6_input_parse, whose callers
 * have set seg's addresses (inc), ifp, ip_tos and ip_ttl from the IP
 * header: the header, the checksum over the family's pseudo header,
 * options and ports into seg; m trimmed to the payload.  Returns m, or
 * NULL having counted and freed it. */
static struct mbuf *
tcp_input_parse_tcp(struct ust_stack *st, struct mbuf *m, uint32_t off, struct tcp_seg *seg)
{
	uint32_t thlen, total;
	int bad;

	if ((m = m_pullup(m, off + TCP_HDR_MIN)) == NULL) {
		TCPSTAT_INC(st, tcps_rcvshort);
		return (NULL);
	}
	total = m->m_pkthdr.len - off;
	if (tcp_hdr_parse(mtod(m, const uint8_t *) + off, total, &seg->th) != 0) {
		/* tcp_hdr_parse saw 20 bytes: the offset is what is bad. */
		TCPSTAT_INC(st, tcps_rcvbadoff);
		goto drop;
	}
	thlen = (uint32_t)seg->th.th_off * 4;
	if (!(m->m_pkthdr.csum_flags & UST_CSUM_L4_VALID)) {
#if UST_INET6
		/* RFC 8200 8.1: both addresses, the upper-layer length and
		 * next header 6. */
		if (seg->inc.inc_flags & INC_ISIPV6)
			bad = in6_cksum(m, IPPROTO_TCP, off, total, &seg->inc.inc6_faddr,
			          &seg->inc.inc6_laddr) != 0;
		else
#endif
			bad = in4_cksum(m, IPPROTO_TCP, off, total, seg->inc.inc_faddr,
			          seg->inc.inc_laddr) != 0;
		if (bad) {
			TCPSTAT_INC(st, tcps_rcvbadsum);
			goto drop;
		}
	}
	if ((m = m_pullup(m, off + thlen)) == NULL) {
		TCPSTAT_INC(st, tcps_rcvshort);
		return (NULL);
	}
	(void)tcp_opts_parse(mtod(m, const uint8_t *) + off + TCP_HDR_MIN, thlen - TCP_HDR_MIN,
	    (seg->th.th_flags & TH_SYN) != 0, &seg->to);
	seg->inc.inc_fport = htons(seg->th.th_sport);
	seg->inc.inc_lport = htons(seg->th.th_dport);
	seg->hlen = off + thlen;
	seg->tlen = total - thlen;
	m_adj(m, (int32_t)(off + thlen));
	return (m);
drop:
	m_freem(m);
	return (NULL);
}

/* Header, checksum and options into seg; m trimmed to the payload.
 * Returns m, or NULL having counted and freed it. */
static struct mbuf *
tcp_input_parse(struct ust_stack *st, struct mbuf *m, uint32_t off, struct tcp_seg *seg)
{
	uint8_t hb[IP_HDRLEN];
	struct ip ip;

	memset(seg, 0, sizeof(*seg));
	if (off < IP_HDRLEN || m->m_pkthdr.len < off + TCP_HDR_MIN ||
	    m_copydata(m, 0, IP_HDRLEN, hb) != 0 || ip_hdr_parse(hb, sizeof(hb), &ip) != 0) {
		TCPSTAT_INC(st, tcps_rcvshort);
		m_freem(m);
		return (NULL);
	}
	seg->ifp = m->m_pkthdr.rcvif;
	seg->inc.inc_faddr = ip.ip_src;
	seg->inc.inc_laddr = ip.ip_dst;
	seg->ip_tos = ip.ip_tos;
	seg->ip_ttl = ip.ip_ttl;
	return (tcp_input_parse_tcp(st, m, off, seg));
}

#if !UST_TCP_SYNCACHE
/*
 * A SYN for a listener without the syncache (ustack_opts.h): the
 * connection is made at once, as 4.4BSD's tcp_input and lwIP do: a socket
 * on the listener's incomplete queue (sonewconn) whose tcpcb is in
 * SYN_RECEIVED (RFC 9293 3.10.7.2) and sends the SYN-ACK through
 * tcp_output, retransmitted by TT_REXMT and given up by TT_KEEP
 * (keepinit).  The handshake's ACK finds the connection itself and
 * tcp_synrcvd_established moves the socket to accept().  Consumes m.
 */
static void
tcp_listen_syn(struct ust_stack *st, struct socket *lso, struct tcp_seg *seg, struct mbuf *m)
{
	struct tcpcb *tp;

	(void)st;
	/* Data on a SYN is not kept (TCP Fast Open goes through the
	 * syncache's listener path, tcp_fastopen.c). */
	m_freem(m);
	if (tcp_listen_newconn(lso, &seg->inc, &tp) != 0)
		return;
	tcp_synrcvd_init(tp, seg);
	(void)tcp_output(tp);
}
#endif /* !UST_TCP_SYNCACHE */

#if !UST_TCP_SYNCACHE || UST_TCP_TFO
/* tcp_var.h: the SYN_RECEIVED state of a connection made at once from
 * a listener's SYN (RFC 9293 3.10.7.2), without the syncache or for a
 * TCP Fast Open SYN with a valid cookie (tcp_fastopen.c). */
void
tcp_synrcvd_init(struct tcpcb *tp, const struct tcp_seg *seg)
{
	struct ust_stack *st = tp->t_stack;

	if (tp->t_flags & TF_NOOPT)
		tp->t_flags &= ~(uint32_t)(TF_REQ_SCALE | TF_REQ_TSTMP);
	tp->t_port = seg->port; /* TCP over UDP: answered the way it came */
	tp->t_state = TCPS_SYN_RECEIVED;
	tp->irs = seg->th.th_seq;
	tp->rcv_nxt = tp->rcv_adv = tp->rcv_up = tp->last_ack_sent = tp->irs + 1;
	tp->iss = tcp_new_isn(st, &tp->t_inpcb->inp_inc);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->snd_recover = tp->iss;
	tp->request_r_scale = tcp_request_wscale(st);
	tcp_syn_options(tp, seg);
	tcp_ecn_syn_input(tp, seg->th.th_flags);
	tcp_mss(tp, (seg->to.to_flags & TOF_MSS) ? seg->to.to_mss : 0);
	tcp_rcvbuf_roundup(tp);
	/* RFC 9293 3.10.7.2: SND.WND from the SYN (never scaled). */
	tp->snd_wnd = tp->max_sndwnd = seg->th.th_win;
	tp->snd_wl1 = seg->th.th_seq;
	tp->snd_wl2 = tp->iss;
	tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(tcp_keepinit_ms(tp)));
	TCPSTAT_INC(st, tcps_accepts);
}
#endif

/* A segment for a listener (RFC 9293 3.10.7.2, FreeBSD's syncache). */
static void
tcp_input_listen(struct ust_stack *st, struct tcpcb *tp, struct tcp_seg *seg, struct mbuf *m)
{
	struct socket *lso = tp_so(tp), *so;
	uint16_t flags = seg->th.th_flags;
	int reset = 0;

	if (flags & TH_RST) {
		syncache_chkrst(st, seg);
		m_freem(m);
		return;
	}
	if ((flags & (TH_ACK | TH_SYN)) == TH_ACK) {
#if UST_TCP_SYNCACHE
		so = syncache_expand(st, lso, seg, &reset);
#else
		/* No handshake state on a listener: RFC 9293 3.10.7.2, an
		 * ACK to LISTEN gets <SEQ=SEG.ACK><CTL=RST>. */
		so = NULL;
		reset = 1;
#endif
		if (so == NULL) {
			if (reset)
				tcp_dropwithreset(st, (tp->t_flags & TF_SIGNATURE) ? tp : NULL, seg,
				    m);
			else
				m_freem(m);
			return;
		}
		/* The new connection takes the segment (its data, FIN). */
		tp = sototcpcb(so);
		if (tp == NULL) {
			m_freem(m);
			return;
		}
		tcp_do_segment(tp, seg, m);
		return;
	}
	if (flags & TH_ACK) {
		/* A SYN-ACK is bogus on a listener: FreeBSD drops it without
		 * the RST of RFC 9293 3.10.7.2 (rcv-syn-ack-listen). */
		TCPSTAT_INC(st, tcps_badsyn);
		m_freem(m);
		return;
	}
	if (!(flags & TH_SYN)) {
		m_freem(m);
		return;
	}
#if UST_TCP_TFO
	if (tcp_fastopen_listen_syn(st, tp, seg, &m))
		return;
#endif
#if UST_TCP_SYNCACHE
	syncache_add(st, lso, seg, m);
#else
	tcp_listen_syn(st, lso, seg, m);
#endif
}

static void tcp_input_seg(struct ust_stack *st, struct tcp_seg *segp, struct mbuf *m);

void
tcp_input(struct mbuf *m, uint32_t off)
{
	tcp_input_with_port(m, off, 0);
}

void
tcp_input_with_port(struct mbuf *m, uint32_t off, uint16_t port)
{
	struct ust_stack *st = M_STACK(m);
	struct tcp_seg seg;

	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	TCPSTAT_ADD(st, tcps_rcvtotal, tcp_lro_nsegs(m));
	if ((m = tcp_input_parse(st, m, off, &seg)) == NULL)
		return;
	seg.port = port;
	/* RFC 1122 4.2.3.10: no connection with a broadcast or multicast.
	 * The flag and address-class tests here; the subnet broadcasts
	 * (in_broadcast, a walk of the addresses) after the PCB lookup,
	 * where a connection can skip them (tcp_input_bcast). */
	if ((m->m_flags & (M_BCAST | M_MCAST)) || IN_MULTICAST(ntohl(seg.inc.inc_laddr.s_addr)) ||
	    IN_MULTICAST(ntohl(seg.inc.inc_faddr.s_addr)) ||
	    seg.inc.inc_laddr.s_addr == INADDR_ANY) {
		m_freem(m);
		return;
	}
	tcp_input_seg(st, &seg, m);
}

#if UST_INET6
/* tcp_input_parse for IPv6: m at its IPv6 header, off the TCP header. */
static struct mbuf *
tcp6_input_parse(struct ust_stack *st, struct mbuf *m, uint32_t off, struct tcp_seg *seg)
{
	uint8_t hb[IP6_HDRLEN];
	struct ip6_hdr ip6;

	memset(seg, 0, sizeof(*seg));
	if (off < IP6_HDRLEN || m->m_pkthdr.len < off + TCP_HDR_MIN ||
	    m_copydata(m, 0, IP6_HDRLEN, hb) != 0 || ip6_hdr_parse(hb, sizeof(hb), &ip6) != 0) {
		TCPSTAT_INC(st, tcps_rcvshort);
		m_freem(m);
		return (NULL);
	}
	seg->ifp = m->m_pkthdr.rcvif;
	seg->inc.inc_flags = INC_ISIPV6;
	seg->inc.inc6_faddr = ip6.ip6_src;
	seg->inc.inc6_laddr = ip6.ip6_dst;
	if (seg->ifp != NULL && (in6_is_scoped(&ip6.ip6_src) || in6_is_scoped(&ip6.ip6_dst)))
		seg->inc.inc6_zoneid = seg->ifp->if_index;
	seg->ip_tos = ip6.ip6_tclass;
	seg->ip_ttl = ip6.ip6_hlim;
	return (tcp_input_parse_tcp(st, m, off, seg));
}

void
tcp6_input(struct mbuf *m, uint32_t off)
{
	tcp6_input_with_port(m, off, 0);
}

void
tcp6_input_with_port(struct mbuf *m, uint32_t off, uint16_t port)
{
	struct ust_stack *st = M_STACK(m);
	struct tcp_seg seg;

	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	TCPSTAT_ADD(st, tcps_rcvtotal, tcp_lro_nsegs(m));
	if ((m = tcp6_input_parse(st, m, off, &seg)) == NULL)
		return;
	seg.port = port;
	/* RFC 1122 4.2.3.10 / FreeBSD tcp6_input: no connection with a
	 * multicast or unspecified address, nor with a v4-mapped one on the
	 * wire (RFC 4038 4.2). */
	if ((m->m_flags & (M_BCAST | M_MCAST)) || IN6_IS_ADDR_MULTICAST(&seg.inc.inc6_laddr) ||
	    IN6_IS_ADDR_MULTICAST(&seg.inc.inc6_faddr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&seg.inc.inc6_laddr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&seg.inc.inc6_faddr) ||
	    IN6_IS_ADDR_V4MAPPED(&seg.inc.inc6_laddr) ||
	    IN6_IS_ADDR_V4MAPPED(&seg.inc.inc6_faddr)) {
		m_freem(m);
		return;
	}
	tcp_input_seg(st, &seg, m);
}
#endif

/* The PCB of a parsed segment (either family): its connection, or a
 * listener (wildcard), or NULL. */
static struct inpcb *
tcp_input_lookup(struct ust_stack *st, const struct tcp_seg *segp)
{
#if UST_INET6
	if (inc_isipv6(&segp->inc))
		return (in6_pcblookup(st->st_tcbinfo, &segp->inc.inc6_faddr, segp->inc.inc_fport,
		    &segp->inc.inc6_laddr, segp->inc.inc_lport, INPLOOKUP_WILDCARD, segp->ifp));
#endif
	return (in_pcblookup(st->st_tcbinfo, segp->inc.inc_faddr, segp->inc.inc_fport,
	    segp->inc.inc_laddr, segp->inc.inc_lport, INPLOOKUP_WILDCARD));
}

/* RFC 1122 4.2.3.10, IPv4: 1 when either address of segp is a broadcast
 * of the receiving interface (in_broadcast).  A connection (found by its
 * four-tuple, INP_INHASH) remembers the "no" in inp_bcast_gen and is not
 * asked again until st_route_gen moves (an address, route or interface
 * changed); listeners, TIME_WAIT and segments for no connection are
 * asked every time, so what a SYN or a stray segment meets is unchanged. */
static int
tcp_input_bcast(struct ust_stack *st, const struct tcp_seg *segp, struct inpcb *inp)
{
	const struct tcpcb *tp;
	int conn;

	tp = inp != NULL ? intotcpcb(inp) : NULL;
	conn = tp != NULL && (inp->inp_flags & INP_INHASH) && tp->t_state > TCPS_LISTEN &&
	    tp->t_state != TCPS_TIME_WAIT;
	if (conn && inp->inp_bcast_gen == st->st_route_gen)
		return (0);
	if (in_broadcast(segp->inc.inc_laddr, segp->ifp) ||
	    in_broadcast(segp->inc.inc_faddr, segp->ifp))
		return (1);
	if (conn)
		inp->inp_bcast_gen = st->st_route_gen;
	return (0);
}

/* A parsed segment (either family): its connection, listener or RST. */
static void
tcp_input_seg(struct ust_stack *st, struct tcp_seg *segp, struct mbuf *m)
{
	struct inpcb *inp;
	struct tcpcb *tp;

	inp = st->st_tcbinfo != NULL ? tcp_input_lookup(st, segp) : NULL;
	if (!inc_isipv6(&segp->inc) && tcp_input_bcast(st, segp, inp))
		goto drop;
	if ((segp->th.th_flags & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) &&
	    V(st, tcp_drop_synfin)) {
		TCPSTAT_INC(st, tcps_badsyn);
		goto drop;
	}
	if (st->st_tcbinfo == NULL) {
		tcp_noport(st, NULL, segp, m);
		return;
	}
	for (;;) {
		tp = inp != NULL ? intotcpcb(inp) : NULL;
		if (tp == NULL || tp->t_state == TCPS_CLOSED) {
			tcp_noport(st, tp, segp, m);
			return;
		}
#if UST_TCP_SIGNATURE
		/* RFC 2385 3.0: a connection or listener with TCP_MD5SIG
		 * takes only segments signed with the pair's key; the rest
		 * are dropped without an answer. */
		if (tp->t_flags & TF_SIGNATURE) {
			if (tcp_md5_verify(st, segp, m) != 0)
				goto drop;
		} else if (segp->to.to_flags & TOF_SIGNATURE)
			TCPSTAT_INC(st, tcps_sig_err_sigopt);
#endif
		if (tp->t_state != TCPS_TIME_WAIT)
			break;
		if (!tcp_twcheck(tp, segp, m))
			return;
		/* TIME_WAIT closed for a new SYN: look again. */
		inp = tcp_input_lookup(st, segp);
	}
	if (tp->t_state == TCPS_LISTEN) {
		tcp_input_listen(st, tp, segp, m);
		return;
	}
	/* TCP over UDP (tcp_udp_tunnel.c): a connection hears only from the
	 * UDP port it has (plain TCP: none); anything else is answered as
	 * if it had no connection, the way it came (FreeBSD). */
	if (tp->t_port != segp->port) {
		tcp_dropwithreset(st, tp, segp, m);
		return;
	}
	tp->t_fb->tfb_tcp_do_segment(tp, segp, m);
	return;
drop:
	m_freem(m);
}
