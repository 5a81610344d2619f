/*
 * tcp_output.c - sending (FreeBSD netinet/tcp_output.c): decides whether a
 * segment is due and what it carries, builds it and hands it to IP.
 *
 *   tcp_usrreq (send, shutdown, rcvd) / tcp_input / timers -> tcp_output()
 *       -> [what may go: windows, SYN/FIN by state, Nagle, sender and
 *           receiver silly-window avoidance, ACKs, persist]
 *       -> tcp_output_send() -> options, header, data by reference from
 *          so_snd (m_copym), checksum -> ip_output()
 *
 * RFC 9293 3.8.6 (windows), RFC 1122 4.2.3.3-4 (SWS avoidance, Nagle),
 * RFC 6298 (the retransmission timer is armed here), RFC 7323 (window
 * scale and timestamps), RFC 6691 / RFC 9293 3.7.1 (MSS option), RFC 3168
 * 6.1 (ECN: ECN-setup SYN, ECT(0) on new data, CWR and ECE).
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/in6_pcb.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull

/* A transient send failure (FreeBSD returns 0 for these): the timers
 * resend, the caller hears nothing, and no more segments go this round. */
#define UST_ENOBUFS_SOFT (-1)

/* tcp_timer_active() without the call: whether a timer slot is armed
 * (which is always one of the TT_* constants here). */
static inline int
tcp_out_timer_on(const struct tcpcb *tp, int which)
{
	return (tp->t_timers[which] != 0);
}

/* FreeBSD's tcp_outflags[]: the control bits a state sends with. */
static const uint16_t tcp_outflags[TCP_NSTATES] = {
	[TCPS_CLOSED] = TH_RST | TH_ACK,
	[TCPS_LISTEN] = 0,
	[TCPS_SYN_SENT] = TH_SYN,
	[TCPS_SYN_RECEIVED] = TH_SYN | TH_ACK,
	[TCPS_ESTABLISHED] = TH_ACK,
	[TCPS_CLOSE_WAIT] = TH_ACK,
	[TCPS_FIN_WAIT_1] = TH_FIN | TH_ACK,
	[TCPS_CLOSING] = TH_FIN | TH_ACK,
	[TCPS_LAST_ACK] = TH_FIN | TH_ACK,
	[TCPS_FIN_WAIT_2] = TH_ACK,
	[TCPS_TIME_WAIT] = TH_ACK,
};

/* RFC 7323 2.3: the smallest shift that lets the window cover the
 * largest buffer (kern.ipc.maxsockbuf): 6 for 2 MiB, FreeBSD's value. */
uint8_t
tcp_compute_wscale(const struct ust_stack *st)
{
	uint64_t max = (uint64_t)V(st, ipc_maxsockbuf);
	uint8_t s = 0;

	while (s < TCP_MAX_WINSHIFT && ((uint64_t)TCP_MAXWIN << s) < max)
		s++;
	return (s);
}

/* The MSS we offer for a peer (RFC 9293 3.7.1): the route's MTU less the
 * IP and TCP headers; mssdflt without a route. */
uint32_t
tcp_mssopt(struct ust_stack *st, const struct in_conninfo *inc)
{
	struct nhop4 nh;
	uint32_t hdr = tcp_hdrlen(inc);

#if UST_INET6
	/* RFC 8200 5 / FreeBSD: route MTU - 60; v6mssdflt without one. */
	if (inc_isipv6(inc)) {
		uint32_t mtu = tcp_maxmtu6(st, inc);

		return (mtu > hdr ? mtu - hdr : (uint32_t)V(st, tcp_v6mssdflt));
	}
#endif
	if (rt_lookup(st, inc->inc_faddr, &nh) != 0 || nh.nh_mtu <= hdr)
		return ((uint32_t)V(st, tcp_mssdflt));
	return (nh.nh_mtu - hdr);
}

#if UST_INET6
uint32_t
tcp_maxmtu6(struct ust_stack *st, const struct in_conninfo *inc)
{
	struct nhop6 nh;

	if (rt6_lookup(st, &inc->inc6_faddr, inc->inc6_zoneid, &nh) != 0)
		return (0);
	return (nh.nh_mtu);
}
#endif

/* FreeBSD tcp_fixed_maxseg(): the payload of a full segment, t_maxseg
 * less the options every segment carries once agreed (RFC 7323
 * timestamps; RFC 6691: the MSS counts options).  One-segment windows
 * (fast retransmit, partial ACKs) are this size, or the cut for options
 * leaves a runt behind each full segment. */
uint32_t
tcp_fixed_maxseg(const struct tcpcb *tp)
{
	uint32_t mss = tp->t_maxseg;

	if ((tp->t_flags & TF_RCVD_TSTMP) && !(tp->t_flags & TF_NOOPT) && mss > TCPOLEN_TSTAMP_APPA)
		mss -= TCPOLEN_TSTAMP_APPA;
	/* RFC 2385: the signature rides on every segment. */
	if (UST_TCP_SIGNATURE && (tp->t_flags & TF_SIGNATURE) && mss > TCPOLEN_SIGNATURE_PAD)
		mss -= TCPOLEN_SIGNATURE_PAD;
	return (mss);
}

/*
 * TSO (FreeBSD's tcp_output TSO rules): the payload one large segment may
 * carry, a multiple of the segment size, or 0 when this send must go in
 * MSS-sized segments.  TSO needs net.inet.tcp.tso, a route through an
 * interface with UST_IFCAP_TSO4 and UST_IFCAP_TXCSUM (not one of our own
 * addresses), and a segment the interface can cut by copying headers: no
 * SYN, no SACK or D-SACK blocks (they differ from segment to segment in
 * FreeBSD's view), no urgent pointer, no window probe, and no
 * retransmission or loss recovery, whose segments the scoreboard and
 * RFC 6675 / RFC 6582 count one by one.
 */
static uint32_t
tcp_tso_maxlen(struct tcpcb *tp, uint16_t flags)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t segsz = tcp_fixed_maxseg(tp), max;
	struct inpcb *inp = tp->t_inpcb;
	uint32_t iphlen = IP_HDRLEN;
	struct inp_route *ro;
	struct nhop4 nh;
#if UST_INET6
	struct nhop6 nh6;
#endif

	/* UST_TCP_TSO 0 (ustack_opts.h): never, and the TSO paths below
	 * fold away. */
	/* A signed segment cannot be cut by the interface (RFC 2385: each
	 * has its own digest). */
	if (!UST_TCP_TSO || !V(st, tcp_do_tso) || (flags & TH_SYN) ||
	    (tp->t_flags & (TF_FORCEDATA | TF_SIGNATURE)) || IN_RECOVERY(tp->t_flags) ||
	    SEQ_LT(tp->snd_nxt, tp->snd_max) || tp->rcv_numsacks > 0 || tp->rcv_dsack_valid ||
	    SEQ_GT(tp->snd_up, tp->snd_nxt) || segsz == 0 || tp->t_port != 0)
		return (0);
#if UST_INET6
	if (inp->inp_vflag & INP_IPV6) {
		/* UST_IFCAP_TSO6 and TXCSUM_IPV6 (ip6_output hands the
		 * packet over as UST_CSUM_IP6_TSO): the PCB's route says,
		 * which ip6_output then uses too; a destination it cannot
		 * cache is asked the long way. */
		ro = in6_route_get(st, &inp->inp_route, &inp->in6p_laddr, &inp->in6p_faddr,
		    inp->in6p_zoneid);
		if (ro != NULL) {
			if ((ro->ro_flags & (RO_LOCAL | RO_TSO)) != RO_TSO)
				return (0);
			max = ro->ro_ifp->if_hw_tsomax;
		} else if (in6_localip(st, &inp->in6p_faddr) ||
		    rt6_lookup(st, &inp->in6p_faddr, inp->inp_inc.inc6_zoneid, &nh6) != 0 ||
		    (nh6.nh_ifp->if_capabilities & (UST_IFCAP_TSO6 | UST_IFCAP_TXCSUM_IPV6)) !=
		        (UST_IFCAP_TSO6 | UST_IFCAP_TXCSUM_IPV6))
			return (0);
		else
			max = nh6.nh_ifp->if_hw_tsomax;
		iphlen = IP6_HDRLEN;
	} else
#endif
	{
		/* UST_IFCAP_TSO4 and TXCSUM, from the route ip_output uses. */
		ro = in_route_get(st, &inp->inp_route, inp->inp_laddr, inp->inp_faddr);
		if (ro != NULL) {
			if ((ro->ro_flags & (RO_LOCAL | RO_TSO)) != RO_TSO)
				return (0);
			max = ro->ro_ifp->if_hw_tsomax;
		} else if (in_localip(st, inp->inp_faddr) ||
		    rt_lookup(st, inp->inp_faddr, &nh) != 0 ||
		    (nh.nh_ifp->if_capabilities & (UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM)) !=
		        (UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM))
			return (0);
		else
			max = nh.nh_ifp->if_hw_tsomax;
	}
	/* The datagram: IP and TCP headers, the options every segment
	 * carries (t_maxseg - segsz), the payload. */
	if (max <= iphlen + TCP_HDR_MIN + (tp->t_maxseg - segsz) + segsz)
		return (0);
	max -= iphlen + TCP_HDR_MIN + (tp->t_maxseg - segsz);
	return (max - max % segsz);
}

/* FreeBSD tcp_setpersist(): the persist timer with backoff, the RTO
 * scaled by 2^shift plus slop, clamped to [persmin, persmax]. */
void
tcp_setpersist(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint64_t t = (uint64_t)tp->t_rxtcur * tcp_backoff_mult(tp->t_rxtshift) +
	    (uint64_t)V(st, tcp_rexmit_slop) * 1000;
	uint64_t min = (uint64_t)V(st, tcp_persmin) * 1000,
	         max = (uint64_t)V(st, tcp_persmax) * 1000;

	if (t < min)
		t = min;
	if (t > max)
		t = max;
	tcp_timer_activate(tp, TT_PERSIST, t * NS_PER_US);
	if (tp->t_rxtshift < TCP_MAXRXTSHIFT)
		tp->t_rxtshift++;
}

/* The options of a segment (FreeBSD's layout through tcp_opts_write). */
static unsigned
tcp_output_opts(struct tcpcb *tp, uint16_t flags, uint8_t *optp)
{
	struct ust_stack *st = tp->t_stack;
	struct tcpopt to;

	memset(&to, 0, sizeof(to));
	if (tp->t_flags & TF_NOOPT)
		return (0);
	if (flags & TH_SYN) {
		to.to_flags |= TOF_MSS;
		tp->t_rcvmss =
		    tcp_tunnel_mss(st, tp->t_port, tcp_mssopt(st, &tp->t_inpcb->inp_inc));
#if UST_INET6
		/* IPV6_USE_MIN_MTU 1 (RFC 3542 11.1): offer what fits 1280. */
		if ((tp->t_inpcb->inp_flags & IN6P_USE_MIN_MTU) &&
		    tp->t_rcvmss > tcp_tunnel_mss(st, tp->t_port, IPV6_MMTU - TCPIP6_HDRLEN))
			tp->t_rcvmss = tcp_tunnel_mss(st, tp->t_port, IPV6_MMTU - TCPIP6_HDRLEN);
#endif
		to.to_mss = (uint16_t)(tp->t_rcvmss > 65535 ? 65535 : tp->t_rcvmss);
		/* RFC 7323 2.2: scale on a SYN, and on a SYN-ACK only when
		 * the peer's SYN had it. */
		if ((tp->t_flags & TF_REQ_SCALE) &&
		    (!(flags & TH_ACK) || (tp->t_flags & TF_RCVD_SCALE))) {
			if (tp->t_state == TCPS_SYN_SENT)
				tp->request_r_scale = tcp_compute_wscale(st);
			to.to_flags |= TOF_SCALE;
			to.to_wscale = tp->request_r_scale;
		}
		/* RFC 2018 2: SACK-permitted on a SYN when enabled
		 * (tcp_newtcpcb), on a SYN-ACK only when the peer's SYN had
		 * it (tcp_syn_options cleared the flag otherwise). */
		if (tp->t_flags & TF_SACK_PERMIT)
			to.to_flags |= TOF_SACKPERM;
#if UST_TCP_TFO
		/* RFC 7413 4.2.1: a cookie request or our cookie. */
		if (tp->t_tfo_flags & (TFO_COOKIE_REQ | TFO_SYN_DATA))
			tcp_fastopen_syn_opt(tp, &to);
#endif
	}
	/* RFC 7323 3.2: TS on a SYN when asked for, on everything else
	 * once both sides sent it. */
	if (((flags & TH_SYN) && (tp->t_flags & TF_REQ_TSTMP) &&
	        (!(flags & TH_ACK) || (tp->t_flags & TF_RCVD_TSTMP))) ||
	    (!(flags & TH_SYN) && (tp->t_flags & TF_RCVD_TSTMP))) {
		to.to_flags |= TOF_TS;
		to.to_tsval = tcp_ts_getticks(st) + tp->ts_offset;
		to.to_tsecr = tp->ts_recent;
	}
#if UST_TCP_SIGNATURE
	/* RFC 2385 on every segment, the SYN included. */
	if (tp->t_flags & TF_SIGNATURE)
		to.to_flags |= TOF_SIGNATURE;
#endif
	/* RFC 2018 3-4, RFC 2883 4: SACK blocks on ACKs once agreed (3
	 * fit beside timestamps, 4 alone; with the 20 bytes of a signature
	 * 2 alone and none beside timestamps, as FreeBSD). */
	if (!(flags & TH_SYN) && (tp->t_flags & TF_SACK_PERMIT) &&
	    (tp->rcv_numsacks > 0 || tp->rcv_dsack_valid))
		TCPSTAT_ADD(st, tcps_sack_send_blocks,
		    (uint64_t)tcp_sack_fill(tp, &to,
		        (to.to_flags & TOF_SIGNATURE) ? ((to.to_flags & TOF_TS) ? 0 : 2) :
		                                        ((to.to_flags & TOF_TS) ? 3 : 4)));
	return (tcp_opts_write(optp, &to));
}

/*
 * The window to advertise (FreeBSD): free receive space, no less than
 * what was already offered (RFC 9293 3.8.6.2.2: never shrink), zero
 * rather than a silly small window (RFC 1122 4.2.3.3, FreeBSD's
 * hiwat / 4 and one segment).
 */
static uint32_t
tcp_output_recwin(const struct tcpcb *tp, const struct socket *so)
{
	long recwin = sbspace(&so->so_rcv);
	long maxwin = (long)TCP_MAXWIN << tp->rcv_scale;

	if (recwin < 0)
		recwin = 0;
	if (recwin > maxwin)
		recwin = maxwin;
	if (recwin < (long)(so->so_rcv.sb_hiwat / 4) && recwin < (long)tp->t_maxseg)
		recwin = 0;
	if (SEQ_GT(tp->rcv_adv, tp->rcv_nxt) && recwin < (long)(tp->rcv_adv - tp->rcv_nxt))
		recwin = (long)(tp->rcv_adv - tp->rcv_nxt);
	return ((uint32_t)recwin);
}

/* FreeBSD's rules for a window update on its own: the window must grow
 * by two segments (with a large enough share of the buffer) or by half
 * the buffer (RFC 1122 4.2.3.3). */
static int
tcp_output_winupdate(const struct tcpcb *tp, const struct socket *so, uint32_t recwin)
{
	uint32_t oldwin = 0, adv = recwin, hiwat = so->so_rcv.sb_hiwat;

	if (recwin == 0 || (tp->t_flags & (TF_NEEDSYN | TF_DELACK)) ||
	    TCPS_HAVERCVDFIN(tp->t_state) || !TCPS_HAVEESTABLISHED(tp->t_state))
		return (0);
	if (SEQ_GT(tp->rcv_adv, tp->rcv_nxt)) {
		oldwin = tp->rcv_adv - tp->rcv_nxt;
		adv = adv > oldwin ? adv - oldwin : 0;
	}
	/* Nothing the scaled window field can show. */
	if ((oldwin >> tp->rcv_scale) >= ((adv + oldwin) >> tp->rcv_scale))
		return (0);
	if (adv >= 2 * tp->t_maxseg &&
	    (adv >= hiwat / 4 || recwin <= hiwat / 8 || hiwat <= 8 * tp->t_maxseg ||
	        adv >= ((uint32_t)TCP_MAXWIN << tp->rcv_scale)))
		return (1);
	return (2 * (uint64_t)adv >= hiwat);
}

/* Per-segment counters (FreeBSD's order). */
static void
tcp_output_count(struct tcpcb *tp, uint32_t len, uint16_t flags, int probe)
{
	struct ust_stack *st = tp->t_stack;

	TCPSTAT_INC(st, tcps_sndtotal);
	/* RFC 6937 3: prr_out counts everything sent in fast recovery. */
	if (IN_FASTRECOVERY(tp->t_flags))
		tp->sackhint.prr_out += len;
	if (len > 0) {
		if (probe && len == 1)
			TCPSTAT_INC(st, tcps_sndprobe);
		else if (SEQ_LT(tp->snd_nxt, tp->snd_max)) {
			TCPSTAT_INC(st, tcps_sndrexmitpack);
			TCPSTAT_ADD(st, tcps_sndrexmitbyte, len);
			tp->t_sndrexmitpack++;
			tp->t_sndrexmitbyte += len;
		} else {
			TCPSTAT_INC(st, tcps_sndpack);
			TCPSTAT_ADD(st, tcps_sndbyte, len);
		}
	} else if (tp->t_flags & TF_ACKNOW)
		TCPSTAT_INC(st, tcps_sndacks);
	else if (flags & (TH_SYN | TH_FIN | TH_RST))
		TCPSTAT_INC(st, tcps_sndctrl);
	else if (SEQ_GT(tp->snd_up, tp->snd_una))
		TCPSTAT_INC(st, tcps_sndurg);
	else
		TCPSTAT_INC(st, tcps_sndwinup);
}

/* The header mbuf with the data behind it: copied into the header mbuf
 * when it fits, else shared by reference with so_snd. */
static struct mbuf *
tcp_output_mbuf(struct ust_stack *st, struct socket *so, uint32_t hlen, uint32_t off, uint32_t len)
{
	struct mbuf *m, *d, *src;
	uint32_t soff;

	if ((m = tcp_hdr_mbuf(st, hlen)) == NULL)
		return (NULL);
	m->m_len = hlen;
	m->m_pkthdr.len = hlen;
	if (len == 0)
		return (m);
	KASSERT(off + len <= so->so_snd.sb_cc,
	    ("tcp_output_mbuf: bytes %u..%u beyond the %u in so_snd", (unsigned)off,
	        (unsigned)(off + len), (unsigned)so->so_snd.sb_cc));
	/* From the cached send position: walking so_snd from its head for
	 * every segment costs O(window) each (the bulk profile's top). */
	if ((src = sbsndptr(&so->so_snd, off, &soff)) == NULL) {
		m_freem(m);
		return (NULL);
	}
	/* tcp_hdr_mbuf's mbuf keeps its data in its own storage: the room
	 * behind the header without M_TRAILINGSPACE's general tests. */
	if (len <= MLEN - (uint32_t)(m->m_data - m->m_dat) - hlen) {
		if (m_copydata(src, soff, len, mtod(m, uint8_t *) + hlen) != 0) {
			m_freem(m);
			return (NULL);
		}
		m->m_len += len;
	} else {
		if ((d = m_copym(src, soff, len)) == NULL) {
			m_freem(m);
			return (NULL);
		}
		d->m_flags &= (uint16_t)~M_PKTHDR;
		m->m_next = d;
	}
	m->m_pkthdr.len = hlen + len;
	M_SANITY(m);
	return (m);
}

/* What to do about an error from ip_output (FreeBSD's): an out-of-buffers
 * or unreachable network is transient for a synchronized connection (the
 * retransmission timer is running); a smaller path MTU shrinks the MSS. */
static int
tcp_output_error(struct tcpcb *tp, int error)
{
	struct ust_stack *st = tp->t_stack;
	struct nhop4 nh;
	uint32_t mss;

	switch (error) {
	case UST_ENOBUFS:
		return (UST_ENOBUFS_SOFT);
	case UST_EMSGSIZE:
#if UST_INET6
		if (tp->t_inpcb->inp_vflag & INP_IPV6) {
			uint32_t mtu = tcp_maxmtu6(st, &tp->t_inpcb->inp_inc);

			if (mtu > TCPIP6_HDRLEN) {
				mss = tcp_tunnel_mss(st, tp->t_port, mtu - TCPIP6_HDRLEN);
				if (mss < (uint32_t)V(st, tcp_minmss))
					mss = (uint32_t)V(st, tcp_minmss);
				if (mss < tp->t_maxseg) {
					tp->t_maxseg = mss;
					return (UST_EAGAIN);
				}
			}
			return (error);
		}
#endif
		if (rt_lookup(st, tp->t_inpcb->inp_faddr, &nh) == 0 &&
		    nh.nh_mtu > tcp_hdrlen(&tp->t_inpcb->inp_inc)) {
			mss = tcp_tunnel_mss(st, tp->t_port,
			    nh.nh_mtu - tcp_hdrlen(&tp->t_inpcb->inp_inc));
			if (mss < (uint32_t)V(st, tcp_minmss))
				mss = (uint32_t)V(st, tcp_minmss);
			if (mss < tp->t_maxseg) {
				tp->t_maxseg = mss;
				return (UST_EAGAIN); /* try again at once */
			}
		}
		return (error);
	case UST_EHOSTUNREACH:
	case UST_ENETUNREACH:
	case UST_EHOSTDOWN:
	case UST_ENETDOWN:
		if (TCPS_HAVERCVDSYN(tp->t_state)) {
			tp->t_softerror = (uint32_t)error;
			return (UST_ENOBUFS_SOFT);
		}
		return (error);
	case UST_EACCES:
	case UST_EPERM:
		tp->t_softerror = (uint32_t)error;
		return (error);
	default:
		return (error);
	}
}

/* Sequence bookkeeping before the segment leaves (done before
 * ip_output, which may loop the segment back into this stack). */
static void
tcp_output_advance(struct tcpcb *tp, uint32_t len, uint16_t flags)
{
	tcp_seq startseq = tp->snd_nxt;
	uint32_t xlen = len;

	if (flags & TH_SYN)
		xlen++;
	if (flags & TH_FIN) {
		xlen++;
		tp->t_flags |= TF_SENTFIN;
	}
	if (!(tp->t_flags & TF_FORCEDATA) || !tcp_out_timer_on(tp, TT_PERSIST)) {
		tp->snd_nxt += xlen;
		if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
			tp->snd_max = tp->snd_nxt;
			/* RFC 6298 / Karn: time one new segment per RTT. */
			if (tp->t_rtttime == 0) {
				tp->t_rtttime = stack_now(tp->t_stack);
				tp->t_rtseq = startseq;
				TCPSTAT_INC(tp->t_stack, tcps_segstimed);
			}
		}
		/* RFC 6298 5.1: the timer runs while data is outstanding. */
		if (!tcp_out_timer_on(tp, TT_REXMT) && tp->snd_nxt != tp->snd_una) {
			if (tcp_out_timer_on(tp, TT_PERSIST)) {
				tcp_timer_activate(tp, TT_PERSIST, 0);
				tp->t_rxtshift = 0;
			}
			tcp_timer_activate(tp, TT_REXMT, (uint64_t)tp->t_rxtcur * NS_PER_US);
		}
	} else if (SEQ_GT(tp->snd_nxt + xlen, tp->snd_max)) {
		/* A window probe: the byte stays at snd_nxt for the next. */
		tp->snd_max = tp->snd_nxt + xlen;
	}
}

/*
 * RFC 3168 6.1: the ECN bits of a segment; returns its IP ECN field.
 *  - SYN (6.1.1): ECN-setup (ECE|CWR) while net.inet.tcp.ecn.enable is 1,
 *    for the first SYN and net.inet.tcp.ecn.maxretries retransmissions,
 *    then plain SYNs in case a middlebox drops ECN-setup SYNs (FreeBSD's
 *    fallback).  A SYN-ACK carries ECE alone when the peer's SYN asked
 *    (TF_ECN_PERMIT is set by then).  SYNs are never ECT (6.1.1).
 *  - New data: ECT(0), and CWR on the first one after a window
 *    reduction (6.1.2).  Pure ACKs, control segments, window probes and
 *    retransmissions stay Not-ECT (6.1.4-6.1.6).
 *  - ECE on every segment while the peer's CE is not yet answered with
 *    CWR (6.1.3).
 */
static uint8_t
tcp_ecn_output(struct tcpcb *tp, uint16_t *flags, uint32_t len, int probe)
{
	struct ust_stack *st = tp->t_stack;

	if (!UST_TCP_ECN)
		return (IPTOS_ECN_NOTECT);
	if (*flags & TH_SYN) {
		if (!(*flags & TH_ACK)) {
			tp->t_flags2 &= ~TF2_ECN_SYN;
			if (V(st, tcp_do_ecn) == 1 &&
			    tp->t_rxtshift <= (uint32_t)V(st, tcp_ecn_maxretries)) {
				*flags |= TH_ECE | TH_CWR;
				tp->t_flags2 |= TF2_ECN_SYN;
			}
		} else if (tp->t_flags & TF_ECN_PERMIT)
			*flags |= TH_ECE;
		return (IPTOS_ECN_NOTECT);
	}
	if (!(tp->t_flags & TF_ECN_PERMIT) || (*flags & TH_RST))
		return (IPTOS_ECN_NOTECT);
	if (tp->t_flags & TF_ECN_SND_ECE)
		*flags |= TH_ECE;
	if (len == 0 || probe || SEQ_LT(tp->snd_nxt, tp->snd_max))
		return (IPTOS_ECN_NOTECT);
	if (tp->t_flags & TF_ECN_SND_CWR) {
		*flags |= TH_CWR;
		tp->t_flags &= ~TF_ECN_SND_CWR;
	}
	return (IPTOS_ECN_ECT0);
}

/*
 * Whatever we send carries the ACK: the advertised edge moves, and the
 * delayed ACK is done.  Its slot is cleared without moving the
 * connection's callout: if the callout was armed for this deadline it
 * fires with nothing due and re-arms for the next slot
 * (tcp_timer_callout), one callout touch when the delay runs out instead
 * of one per ACK sent.
 */
static inline void
tcp_output_acked(struct tcpcb *tp, uint32_t win, uint16_t flags)
{
	uint32_t adv = win << ((flags & TH_SYN) ? 0 : tp->rcv_scale);

	if (SEQ_GT(tp->rcv_nxt + adv, tp->rcv_adv))
		tp->rcv_adv = tp->rcv_nxt + adv;
	tp->last_ack_sent = tp->rcv_nxt;
	tp->t_flags &= ~(TF_ACKNOW | TF_DELACK);
	tp->t_timers[TT_DELACK] = 0;
}

/*
 * The header is written word by word in network order, not field by field
 * through a struct tcphdr: it sits at any alignment in the mbuf (memcpy,
 * one store each), and every field is known at this point.
 */
static inline void
tcp_out_put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
tcp_out_put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, sizeof(v));
}

/*
 * in_pseudo() for TCP over IPv4 (RFC 9293 3.1: source, destination,
 * zero, protocol, length).  The part without the length is the same for
 * every segment of a connection (its addresses never change once it
 * sends): it is summed once into tp->t_phsum, FreeBSD's header template
 * idea for the one field of ours that costs.  A folded sum that includes
 * the protocol is never 0, which marks "not yet".  Folding the cached
 * part plus the length (< 2^16: TSO sends 0) gives in_pseudo's value.
 */
static inline uint16_t
tcp_out_pseudo4(struct tcpcb *tp, struct in_addr src, struct in_addr dst, uint32_t len)
{
	uint32_t s, d, sum = tp->t_phsum;

	if (sum == 0) {
		s = ntohl(src.s_addr);
		d = ntohl(dst.s_addr);
		sum = (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + IPPROTO_TCP;
		sum = (sum >> 16) + (sum & 0xffff);
		sum = (sum >> 16) + (sum & 0xffff);
		tp->t_phsum = sum;
	}
	sum += (len >> 16) + (len & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return ((uint16_t)sum);
}

/*
 * The option length of a segment that carries the usual set, or -1 when
 * it needs tcp_output_opts: none (TF_NOOPT, or nothing agreed), or
 * timestamps alone once both sides sent them (RFC 7323 3.2), laid out as
 * tcp_opts_write does (NOP, NOP, TS: 12 bytes).  SYNs (MSS, scale,
 * SACK-permitted) and segments with SACK blocks take the general path.
 */
static inline int
tcp_output_optlen_fast(const struct tcpcb *tp, uint16_t flags)
{
	if (tp->t_flags & TF_NOOPT)
		return (0);
	if ((flags & TH_SYN) || (tp->t_flags & TF_SIGNATURE) ||
	    ((tp->t_flags & TF_SACK_PERMIT) && (tp->rcv_numsacks > 0 || tp->rcv_dsack_valid)))
		return (-1);
	return (UST_TCP_RFC1323 && (tp->t_flags & TF_RCVD_TSTMP) ? TCPOLEN_TSTAMP_APPA : 0);
}

/*
 * Builds and sends one segment of len bytes from offset off of so_snd.
 * Returns 0 or an error; *more is set when the options cut the data and
 * another segment should follow.
 */
static int
tcp_output_send(struct tcpcb *tp, uint32_t off, uint32_t len, uint16_t flags, uint32_t recwin,
    uint32_t sbav, int tso, int *more)
{
	struct ust_stack *st = tp->t_stack;
	struct inpcb *inp = tp->t_inpcb;
	struct socket *so = inp->inp_socket;
	uint8_t opt[TCP_MAXOLEN], *p;
	unsigned optlen;
	uint32_t hlen, win, seq, urp = 0;
	struct ip_out_args args;
	struct mbuf *m;
	tcp_seq oldnxt = tp->snd_nxt;
	uint32_t oldflags = tp->t_flags;
	int probe = (tp->t_flags & TF_FORCEDATA) != 0, error;
	uint8_t ecn;
	int fastopt = tcp_output_optlen_fast(tp, flags);

	optlen = fastopt >= 0 ? (unsigned)fastopt : tcp_output_opts(tp, flags, opt);
	hlen = TCP_HDR_MIN + optlen;
	/* The MSS counts options (RFC 6691): cut the data to fit.  A TSO
	 * segment was sized by tcp_output for exactly these options. */
	if (tso && optlen != tp->t_maxseg - tcp_fixed_maxseg(tp))
		tso = 0;
	if (!tso && len + optlen > tp->t_maxseg) {
		len = tp->t_maxseg > optlen ? tp->t_maxseg - optlen : 1;
		*more = 1;
	}
	/* For black-hole detection (tcp_timer.c): was the last data segment
	 * as large as the path allows? */
	if (len > 0) {
		if (tso || len + optlen >= tp->t_maxseg)
			tp->t_flags2 |= TF2_PLPMTU_MAXSEGSNT;
		else
			tp->t_flags2 &= ~(uint32_t)TF2_PLPMTU_MAXSEGSNT;
	}
	if (SEQ_LT(tp->snd_nxt + len, tp->snd_una + sbav))
		flags &= (uint16_t)~TH_FIN;
	if (len > 0 && off + len == sbav && !(flags & TH_SYN))
		flags |= TH_PUSH;
	/* A retransmitted FIN keeps its sequence number. */
	if ((flags & TH_FIN) && (tp->t_flags & TF_SENTFIN) && tp->snd_nxt == tp->snd_max)
		tp->snd_nxt--;
	m = tcp_output_mbuf(st, so, hlen, off, len);
	if (m == NULL) {
		tp->snd_nxt = oldnxt;
		/* Keep a timer running so that we try again. */
		if (!tcp_out_timer_on(tp, TT_REXMT) && !tcp_out_timer_on(tp, TT_PERSIST))
			tcp_timer_activate(tp, TT_REXMT, (uint64_t)tp->t_rxtcur * NS_PER_US);
		return (UST_ENOBUFS_SOFT);
	}
	/* Pure ACKs carry snd_max (FreeBSD), so that they never look like
	 * an old retransmission. */
	if (len || (flags & (TH_SYN | TH_FIN)) || tp->t_timers[TT_PERSIST] != 0)
		seq = tp->snd_nxt;
	else
		seq = tp->snd_max;
	/* RFC 9293 3.8.5: the urgent pointer, while it is ahead. */
	if (SEQ_GT(tp->snd_up, tp->snd_nxt)) {
		urp = tp->snd_up - tp->snd_nxt;
		if (urp > 65535)
			urp = 65535;
		flags |= TH_URG;
	} else
		tp->snd_up = tp->snd_una;
	/* RFC 7323 2.2: a SYN's window is never scaled. */
	if (flags & TH_SYN)
		win = recwin > TCP_MAXWIN ? TCP_MAXWIN : recwin;
	else {
		/* Rounded up to the scale's unit rather than down, as
		 * FreeBSD does, so that scaling never hides buffer space
		 * (65700 bytes with shift 6 go out as 1027) and the window
		 * never shrinks below what was advertised. */
		win = (uint32_t)(((uint64_t)recwin + (1u << tp->rcv_scale) - 1) >> tp->rcv_scale);
		if (win > TCP_MAXWIN)
			win = TCP_MAXWIN;
	}
	if (win == 0 && !(flags & TH_SYN)) {
		tp->t_sndzerowin++;
		tp->t_flags |= TF_RXWIN0SENT;
	} else
		tp->t_flags &= ~TF_RXWIN0SENT;
	ecn = tcp_ecn_output(tp, &flags, len, probe);
	/* The ports are kept in network order; the checksum field is
	 * filled below (IPv4) or by tcp6_output_seg. */
	p = mtod(m, uint8_t *);
	memcpy(p, &inp->inp_lport, 2);
	memcpy(p + 2, &inp->inp_fport, 2);
	tcp_out_put32(p + 4, seq);
	tcp_out_put32(p + 8, (flags & TH_ACK) ? tp->rcv_nxt : 0);
	tcp_out_put16(p + 12, (uint16_t)((hlen / 4) << 12 | (flags & 0x1ff)));
	tcp_out_put16(p + 14, (uint16_t)win);
	tcp_out_put32(p + 16, urp);
	if (fastopt == TCPOLEN_TSTAMP_APPA) {
		p[TCP_HDR_MIN] = TCPOPT_NOP;
		p[TCP_HDR_MIN + 1] = TCPOPT_NOP;
		p[TCP_HDR_MIN + 2] = TCPOPT_TIMESTAMP;
		p[TCP_HDR_MIN + 3] = TCPOLEN_TIMESTAMP;
		tcp_out_put32(p + TCP_HDR_MIN + 4, tcp_ts_getticks(st) + tp->ts_offset);
		tcp_out_put32(p + TCP_HDR_MIN + 8, tp->ts_recent);
	} else if (optlen > 0)
		memcpy(p + TCP_HDR_MIN, opt, optlen);
#if UST_TCP_SIGNATURE
	/* RFC 2385: never sent unsigned; without a key (counted) it is as
	 * if the segment were lost, and the timers try again. */
	if ((tp->t_flags & TF_SIGNATURE) &&
	    tcp_md5_sign(st, &inp->inp_inc, p, hlen, m, hlen, len) != 0) {
		m_freem(m);
		tp->snd_nxt = oldnxt;
		if (!tcp_out_timer_on(tp, TT_REXMT) && !tcp_out_timer_on(tp, TT_PERSIST))
			tcp_timer_activate(tp, TT_REXMT, (uint64_t)tp->t_rxtcur * NS_PER_US);
		return (UST_ENOBUFS_SOFT);
	}
#endif
	/* The bookkeeping before the segment leaves: ip_output may loop it
	 * back into this stack. */
	tcp_output_count(tp, len, flags, probe);
	/* A block's send map (tcp_stacks/rack.c): data and FIN. */
	if (tp->t_fb->tfb_tcp_sent != NULL && (len > 0 || (flags & TH_FIN)) && !(flags & TH_SYN))
		tp->t_fb->tfb_tcp_sent(tp, seq, len + ((flags & TH_FIN) != 0));
	tcp_output_advance(tp, len, flags);
	if (flags & TH_ACK)
		tcp_output_acked(tp, win, flags);
#if UST_INET6
	if (inp->inp_vflag & INP_IPV6) {
		/* ip6_output fills the checksum, or the interface
		 * (ustack_driver.h); a TSO segment is cut by one of them. */
		if (tso) {
			m->m_pkthdr.csum_flags |= UST_CSUM_TSO;
			m->m_pkthdr.tso_segsz = (uint16_t)(tp->t_maxseg - optlen);
		}
		/* The traffic class's ECN field is TCP's (RFC 3168 6.1.1). */
#if UST_TCP_TUNNEL
		if (tp->t_port != 0)
			error = tcp_udp_tunnel_output6(st, m, &inp->inp_inc, inp->inp_ip_ttl,
			    (uint8_t)((inp->inp_ip_tos & ~IPTOS_ECN_MASK) | ecn), &inp->inp_route,
			    tp->t_port);
		else
#endif
			error = tcp6_output_seg(st, m, &inp->inp_inc, inp->inp_ip_ttl,
			    (uint8_t)((inp->inp_ip_tos & ~IPTOS_ECN_MASK) | ecn),
			    &inp->in6p_flowlabel, &inp->inp_route);
		goto sent;
	}
#endif
	memset(&args, 0, sizeof(args));
	args.src = inp->inp_laddr;
	args.dst = inp->inp_faddr;
	args.proto = IPPROTO_TCP;
	args.ttl = inp->inp_ip_ttl;
	/* The ECN field is TCP's (RFC 3168 6.1.1), whatever IP_TOS says. */
	args.tos = (uint8_t)((inp->inp_ip_tos & ~IPTOS_ECN_MASK) | ecn);
	args.ro = &inp->inp_route;
	/* RFC 1191: DF, unless a suspected black hole took us to the
	 * default MSS (tcp_timer.c). */
	if (V(st, tcp_path_mtu_discovery) && !(tp->t_flags2 & TF2_PLPMTU_MINMSS))
		args.flags |= IP_DF;
	/* The checksum is left to ip_output or the interface (the contract
	 * in ustack_driver.h): the field holds the pseudo-header sum, with
	 * the length, or without it for TSO, where every segment has its
	 * own. */
	m->m_pkthdr.csum_flags |= UST_CSUM_TCP;
	m->m_pkthdr.csum_data = TCP_CSUM_OFF;
	if (tso) {
		m->m_pkthdr.csum_flags |= UST_CSUM_TSO;
		m->m_pkthdr.tso_segsz = (uint16_t)(tp->t_maxseg - optlen);
	}
	tcp_out_put16(p + TCP_CSUM_OFF,
	    tcp_out_pseudo4(tp, args.src, args.dst, tso ? 0 : hlen + len));

#if UST_TCP_TUNNEL
	if (tp->t_port != 0)
		error = tcp_udp_tunnel_output(st, m, &args, tp->t_port);
	else
#endif
		error = tcp_ip_output(st, m, &args);
#if UST_INET6
sent:
#endif
	if (error == 0)
		return (0);
	/* Not sent: the data goes again from where it was; an ACK is
	 * still owed. */
	if (len > 0 && (!probe || !tcp_out_timer_on(tp, TT_PERSIST)) && !(flags & TH_SYN))
		tp->snd_nxt -= len;
	tp->t_flags |= oldflags & (TF_ACKNOW | TF_DELACK | TF_ECN_SND_CWR);
	if (!tcp_out_timer_on(tp, TT_REXMT) && !tcp_out_timer_on(tp, TT_PERSIST) &&
	    tp->snd_max != tp->snd_una)
		tcp_timer_activate(tp, TT_REXMT, (uint64_t)tp->t_rxtcur * NS_PER_US);
	return (tcp_output_error(tp, error));
}

/*
 * Whether data of len bytes at off should go now (RFC 1122 4.2.3.4:
 * Nagle and sender SWS avoidance, FreeBSD's order of the tests).
 */
static int
tcp_output_wantdata(const struct tcpcb *tp, uint32_t off, uint32_t len, uint32_t sbav, int idle)
{
	uint32_t mss = tcp_fixed_maxseg(tp);

	if (len == 0)
		return (0);
	if (len >= mss)
		return (1);
	/* Everything queued fits: send it if nothing is in flight (Nagle)
	 * or Nagle is off, unless the user holds partial segments. */
	if (!(tp->t_flags & TF_MORETOCOME) && (idle || (tp->t_flags & TF_NODELAY)) &&
	    off + len >= sbav && !(tp->t_flags & TF_NOPUSH))
		return (1);
	if (tp->t_flags & TF_FORCEDATA)
		return (1);
	if (tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2)
		return (1);
	/* Retransmissions go whatever their size. */
	if (SEQ_LT(tp->snd_nxt, tp->snd_max))
		return (1);
	return (0);
}

/*
 * The common calls that send nothing, decided without the general pass
 * (tcp_input calls tcp_output after every segment): an established
 * connection with no flag asking for a segment, nothing to go back for
 * (snd_nxt == snd_max), no urgent data, and no new data that may go:
 * everything queued is sent, or the window is full (not closed: a closed
 * window with data waiting starts the persist timer in the general
 * pass).  Then only a window update could go: never with a delayed ACK
 * pending (half of a bulk receiver's calls), else tcp_output_winupdate
 * decides as in the general pass.  Data waiting without a timer to bring
 * it (the general pass arms persist) is left to the general pass.
 */
static inline int
tcp_output_nothing(const struct tcpcb *tp, const struct socket *so)
{
	uint32_t sbav = so->so_snd.sb_cc, off = tp->snd_nxt - tp->snd_una, sendwin;

	if (tp->t_state != TCPS_ESTABLISHED ||
	    (tp->t_flags & (TF_ACKNOW | TF_NEEDFIN | TF_NEEDSYN | TF_FORCEDATA)) ||
	    tp->snd_nxt != tp->snd_max || SEQ_GT(tp->snd_up, tp->snd_una))
		return (0);
	if (sbav != off) {
		/* Unsent data (off < sbav: no FIN in this state) held by a
		 * full, open window. */
		sendwin = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
		if (sendwin == 0 || sendwin > off)
			return (0);
	}
	if (sbav > 0 && !tcp_out_timer_on(tp, TT_REXMT) && !tcp_out_timer_on(tp, TT_PERSIST))
		return (0);
	return (
	    (tp->t_flags & TF_DELACK) || !tcp_output_winupdate(tp, so, tcp_output_recwin(tp, so)));
}

int
tcp_output(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	uint32_t sendwin, off, len, sbav, recwin, sacked, tsolen, tail;
	uint64_t cwnd;
	tcp_seq holeend;
	int64_t slen;
	uint16_t flags;
	int idle, more, tso, error;

	/* Nothing to say in these states (a CLOSED connection's RST is sent
	 * by tcp_drop through tcp_respond).  Without a socket (TIME_WAIT
	 * after the user let go) only control segments and ACKs go. */
	if (tp->t_inpcb == NULL || tp->t_state == TCPS_CLOSED || tp->t_state == TCPS_LISTEN)
		return (0);
	TCP_ASSERT_SEQ(tp);
	/* RFC 5681 4.1: restart after an idle period longer than the RTO. */
	idle = (tp->t_flags & TF_LASTIDLE) || tp->snd_max == tp->snd_una;
	if (idle && TCPS_HAVEESTABLISHED(tp->t_state) &&
	    stack_now(st) - tp->t_rcvtime >= (uint64_t)tp->t_rxtcur * NS_PER_US)
		cc_after_idle(tp);
	tp->t_flags &= ~TF_LASTIDLE;
	if (idle && (tp->t_flags & TF_MORETOCOME)) {
		tp->t_flags |= TF_LASTIDLE;
		idle = 0;
	}
	if (so != NULL && tcp_output_nothing(tp, so))
		return (0);
again:
	more = 0;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	/* RFC 6675 5.1: going back after a timeout (not in an RFC 6675
	 * recovery, which places snd_nxt itself), data the receiver SACKed
	 * is skipped and does not count against cwnd; each segment stays
	 * inside one hole. */
	sacked = 0;
	holeend = tp->snd_nxt;
	if (SEQ_LT(tp->snd_nxt, tp->snd_max) && (tp->t_flags & TF_SACK_PERMIT) &&
	    !tp->t_sack_recovery && !tp->t_sack_overflow && tp->snd_holes != NULL)
		tp->snd_nxt = tcp_sack_rexmit_skip(tp, &sacked, &holeend);
	off = tp->snd_nxt - tp->snd_una;
	sbav = so != NULL ? so->so_snd.sb_cc : 0;
	cwnd = (uint64_t)tp->snd_cwnd + sacked;
	sendwin = (uint64_t)tp->snd_wnd < cwnd ? tp->snd_wnd : (uint32_t)cwnd;
	flags = tcp_outflags[tp->t_state];
	if (tp->t_flags & (TF_NEEDFIN | TF_NEEDSYN)) {
		if (tp->t_flags & TF_NEEDFIN)
			flags |= TH_FIN;
		if (tp->t_flags & TF_NEEDSYN)
			flags |= TH_SYN;
	}
	/* A window probe (persist) or forced send: one byte into a closed
	 * window (RFC 9293 3.8.6.1). */
	if (tp->t_flags & TF_FORCEDATA) {
		if (sendwin == 0) {
			if (off < sbav)
				flags &= (uint16_t)~TH_FIN;
			sendwin = 1;
		} else {
			tcp_timer_activate(tp, TT_PERSIST, 0);
			tp->t_rxtshift = 0;
		}
	}
	slen = (int64_t)(sbav < sendwin ? sbav : sendwin) - (int64_t)off;
	/* The SYN occupies the first sequence number: once sent, only a
	 * SYN-ACK repeats it; no data rides on a SYN. */
	if ((flags & TH_SYN) && SEQ_GT(tp->snd_nxt, tp->snd_una)) {
		if (tp->t_state != TCPS_SYN_RECEIVED || TFO_SYNRCVD_DATA(tp))
			flags &= (uint16_t)~TH_SYN;
		off--;
		slen++;
	}
	if (flags & TH_SYN) {
		slen = 0;
#if UST_TCP_TFO
		/* RFC 7413 4.2.1: with a cookie, data ride on the SYN. */
		if (tp->t_tfo_flags & TFO_SYN_DATA)
			slen = tcp_fastopen_syn_len(tp, sbav);
#endif
		flags &= (uint16_t)~TH_FIN;
	}
	if (slen <= 0) {
		slen = 0;
		/* A closed window with data waiting: stop retransmitting
		 * and probe instead (RFC 9293 3.8.6.1). */
		if (sendwin == 0 && TCPS_HAVEESTABLISHED(tp->t_state) && off < sbav &&
		    !tcp_out_timer_on(tp, TT_PERSIST)) {
			tcp_timer_activate(tp, TT_REXMT, 0);
			tp->t_rxtshift = 0;
			tp->snd_nxt = tp->snd_una;
			tcp_setpersist(tp);
		}
	}
	len = (uint32_t)slen;
	tso = 0;
	if (len > tp->t_maxseg && (tsolen = tcp_tso_maxlen(tp, flags)) > 0) {
		if (len > tsolen) {
			len = tsolen;
			more = 1;
		}
		/* A short last piece rides along only when it would go now
		 * anyway (it empties the buffer and Nagle lets it): the
		 * segments on the wire are then those of a send without
		 * TSO. */
		tail = len % tcp_fixed_maxseg(tp);
		if (tail != 0 &&
		    !(off + len >= sbav &&
		        tcp_output_wantdata(tp, off + len - tail, tail, sbav, idle))) {
			len -= tail;
			more = 1;
		}
		tso = len > tcp_fixed_maxseg(tp);
	}
	if (!tso && len > tp->t_maxseg) {
		len = tp->t_maxseg;
		more = 1;
	}
	if (SEQ_LT(tp->snd_nxt, holeend) && len > (uint32_t)(holeend - tp->snd_nxt)) {
		len = (uint32_t)(holeend - tp->snd_nxt);
		more = 1;
	}
	if (SEQ_LT(tp->snd_nxt + len, tp->snd_una + sbav))
		flags &= (uint16_t)~TH_FIN;
	recwin = so != NULL ? tcp_output_recwin(tp, so) : tcp_rcv_window(tp);

	/* The tests have no side effects: the cheap ones first (a full
	 * segment always goes, tcp_output_wantdata's first rule). */
	if ((len > 0 && len >= tp->t_maxseg) || (tp->t_flags & TF_ACKNOW) ||
	    tcp_output_wantdata(tp, off, len, sbav, idle) ||
	    (so != NULL && tcp_output_winupdate(tp, so, recwin)) || (flags & TH_RST) ||
	    ((flags & TH_SYN) && !(tp->t_flags & TF_NEEDSYN)) || SEQ_GT(tp->snd_up, tp->snd_una) ||
	    ((flags & TH_FIN) && (!(tp->t_flags & TF_SENTFIN) || tp->snd_nxt == tp->snd_una)))
		goto send;
	/* Data waits for a window with no timer to bring it: persist
	 * (FreeBSD's final check). */
	if (sbav > 0 && !tcp_out_timer_on(tp, TT_REXMT) && !tcp_out_timer_on(tp, TT_PERSIST)) {
		tp->t_rxtshift = 0;
		tcp_setpersist(tp);
	}
	return (0);
send:
	error = tcp_output_send(tp, off, len, flags, recwin, sbav, tso, &more);
	if (error == UST_EAGAIN)
		goto again; /* the MSS shrank */
	if (error == 0 && more)
		goto again;
	/* A segment that did not go ends this round; the error says whether
	 * the caller should hear of it (tcp_output_error). */
	return (error == UST_ENOBUFS_SOFT ? 0 : error);
}
