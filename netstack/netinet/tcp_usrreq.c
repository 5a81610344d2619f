/*
 * tcp_usrreq.c - the socket side of TCP (FreeBSD netinet/tcp_usrreq.c):
 * the pr_usrreqs a SOCK_STREAM socket calls, the user's half of the state
 * machine (RFC 9293 3.10.1-3.10.7: OPEN, SEND, RECEIVE, CLOSE, ABORT,
 * STATUS), TCP-level socket options and TCP_INFO.
 *
 *   ust_socket -> socreate -> tcp_usr_attach -> in_pcballoc, tcp_newtcpcb
 *   ust_connect -> soconnect -> tcp_usr_connect -> in_pcbconnect,
 *       tcp_new_isn, TT_KEEP (keepinit) -> tcp_output (SYN)
 *   ust_listen -> solisten -> tcp_usr_listen (TCPS_LISTEN)
 *   ust_send -> sosend -> tcp_usr_send -> sbappendstream -> tcp_output
 *   ust_recv -> soreceive -> sbdrop -> tcp_usr_rcvd -> tcp_output (window)
 *   ust_shutdown -> soshutdown -> tcp_usr_shutdown -> tcp_usrclosed -> tcp_output
 *       (these three from an upcall: tcp_output_batch, once per poll)
 *   ust_close -> soclose -> tcp_usr_detach -> tcp_disconnect:
 *       not synchronized: tcp_close; SO_LINGER 0: tcp_drop
 *       (RST); else orderly: tcp_usrclosed + tcp_output (FIN), the socket
 *       stays with SS_PROTOREF until tcp_close() lets it go (sofree).
 *
 * Socket lifetime (the contract with tcp_close() in tcp_subr.c): a tcpcb
 * outliving the user's close keeps its socket with SS_PROTOREF; tcp_close()
 * frees the PCB (so_pcb becomes NULL), clears SS_PROTOREF and calls
 * sofree(), which frees the socket only when the user has closed it
 * (SS_NOFDREF).  Every operation here therefore accepts so_pcb == NULL: the
 * connection is gone and the user still holds the socket.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_udp_tunnel.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/in6_pcb.h"
#endif

#define TCP_CA_NAME_MAX 16

/* ---------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------- */

/* The tcpcb of so, or NULL when the protocol has let go of it. */
static struct tcpcb *
so_tcpcb(struct socket *so)
{
	struct inpcb *inp = sotoinpcb(so);

	if (inp == NULL)
		return (NULL);
	return (intotcpcb(inp));
}

/* Output the user asked for.  Inside ust_stack_poll (an upcall) it joins
 * the poll's output queue when net.inet.tcp.ack_coalesce is on
 * (tcp_outq.c), so an application that answers in its upcall sends once
 * per poll, its reply on the ACK of what it read; an error then surfaces
 * as the timers' retransmission would, not to this call. */
static int
tcp_usr_output(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;

	if (st->st_in_poll && V(st, tcp_ack_coalesce)) {
		tcp_output_batch(tp);
		return (0);
	}
	return (tcp_output(tp));
}

/* RFC 7323 2.2: the smallest shift that lets the largest buffer we may
 * get (kern.ipc.maxsockbuf) be advertised; FreeBSD's rule, 6 for 2 MiB. */
uint8_t
tcp_request_wscale(const struct ust_stack *st)
{
	uint8_t s = 0;

	while (
	    s < TCP_MAX_WINSHIFT && ((uint64_t)TCP_MAXWIN << s) < (uint64_t)V(st, ipc_maxsockbuf))
		s++;
	return (s);
}

int
tcp_attach_pcb(struct socket *so)
{
	struct ust_stack *st = so->so_stack;
	struct inpcb *inp;
	struct tcpcb *tp;
	int error;

	if (st->st_tcbinfo == NULL)
		return (UST_ENOBUFS);
	if (so->so_pcb != NULL)
		return (UST_EISCONN);
	/* Full zones first give up a TIME_WAIT connection (tcp_tw_reclaim). */
	error = in_pcballoc(so, st->st_tcbinfo);
	if (error == UST_ENOBUFS && tcp_tw_reclaim(st))
		error = in_pcballoc(so, st->st_tcbinfo);
	if (error != 0)
		return (error);
	inp = sotoinpcb(so);
	tp = tcp_newtcpcb(inp);
	if (tp == NULL && tcp_tw_reclaim(st))
		tp = tcp_newtcpcb(inp);
	if (tp == NULL) {
		in_pcbfree(inp);
		return (UST_ENOBUFS);
	}
	inp->inp_ppcb = tp;
	tp->t_state = TCPS_CLOSED;
	return (0);
}

int
tcp_listen_newconn(struct socket *lso, const struct in_conninfo *inc, struct tcpcb **tpp)
{
	struct ust_stack *st = lso->so_stack;
	struct inpcb *linp = sotoinpcb(lso), *inp;
	struct tcpcb *ltp = intotcpcb(linp), *tp;
	struct socket *so;

	*tpp = NULL;
	if ((so = sonewconn(lso)) == NULL) {
		/* The listen queue is full (or no memory). */
		TCPSTAT_INC(st, tcps_listendrop);
		return (UST_ENOBUFS);
	}
	if (tcp_attach_pcb(so) != 0)
		goto abort;
	inp = sotoinpcb(so);
	inp->inp_ip_ttl = linp->inp_ip_ttl;
	inp->inp_ip_tos = linp->inp_ip_tos;
#if UST_INET6
	/* The listener's socket family made the PCB (pru_attach); the
	 * connection speaks the family of its SYN: IPv6, or IPv4 on an
	 * AF_INET6 listener without IPV6_V6ONLY (v4-mapped, FreeBSD
	 * syncache_socket). */
	inp->inp_flags |= linp->inp_flags & IN6P_IPV6_V6ONLY;
	if (inc_isipv6(inc)) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_len = (uint8_t)sizeof(sin6);
		sin6.sin6_family = UST_AF_INET6;
		sin6.sin6_port = inc->inc_fport;
		sin6.sin6_addr = inc->inc6_faddr;
		sin6.sin6_scope_id = inc->inc6_zoneid;
		inp_setvflag(inp, INP_IPV6 | (linp->inp_vflag & INP_IPV6PROTO));
		inp->in6p_laddr = inc->inc6_laddr;
		inp->in6p_zoneid = inc->inc6_zoneid;
		inp->inp_lport = inc->inc_lport;
		if (in6_pcbconnect(inp, &sin6) != 0)
			goto abort;
	} else
#endif
	{
		inp_setvflag(inp, INP_IPV4 | (linp->inp_vflag & INP_IPV6PROTO));
		inp->inp_laddr = inc->inc_laddr;
		inp->inp_lport = inc->inc_lport;
		if (in_pcbconnect(inp, inc->inc_faddr, inc->inc_fport) != 0)
			goto abort;
	}
	tp = intotcpcb(inp);
	if (ltp != NULL) {
		tp->t_flags |= ltp->t_flags & (TF_NODELAY | TF_NOPUSH | TF_NOOPT | TF_SIGNATURE);
		tp->t_keepinit = ltp->t_keepinit;
		tp->t_keepidle = ltp->t_keepidle;
		tp->t_keepintvl = ltp->t_keepintvl;
		tp->t_keepcnt = ltp->t_keepcnt;
		/* FreeBSD: an accepted connection inherits the listener's
		 * congestion control (TCP_CONGESTION on the listener). */
		if (ltp->t_cc != NULL && ltp->t_cc != tp->t_cc)
			(void)cc_switch(tp, ltp->t_cc);
		/* FreeBSD: and its function block (TCP_FUNCTION_BLK). */
		if (ltp->t_fb != NULL && ltp->t_fb != tp->t_fb)
			(void)tcp_fb_switch(tp, ltp->t_fb);
	}
	*tpp = tp;
	return (0);
abort:
	/* Still on the listener's incomplete queue with SS_NOFDREF: gone. */
	if (so->so_pcb != NULL)
		so->so_proto->pr_usrreqs->pru_abort(so);
	else
		sofree(so);
	return (UST_ECONNABORTED);
}

/* FreeBSD's tcp_sendseqinit/tcp_rcvseqinit. */
static void
tcp_sendseqinit(struct tcpcb *tp)
{
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_up = tp->snd_recover = tp->iss;
}

/* Keepalive timer values in ms: per-connection, else the knob. */
uint32_t
tcp_keepidle_ms(const struct tcpcb *tp)
{
	return (tp->t_keepidle != 0 ? tp->t_keepidle : (uint32_t)V(tp->t_stack, tcp_keepidle));
}

uint32_t
tcp_keepintvl_ms(const struct tcpcb *tp)
{
	return (tp->t_keepintvl != 0 ? tp->t_keepintvl : (uint32_t)V(tp->t_stack, tcp_keepintvl));
}

uint32_t
tcp_keepinit_ms(const struct tcpcb *tp)
{
	return (tp->t_keepinit != 0 ? tp->t_keepinit : (uint32_t)V(tp->t_stack, tcp_keepinit));
}

uint32_t
tcp_keepcnt_n(const struct tcpcb *tp)
{
	return (tp->t_keepcnt != 0 ? tp->t_keepcnt : (uint32_t)V(tp->t_stack, tcp_keepcnt));
}

#define MS_TO_NS(ms) ((uint64_t)(ms)*1000000ull)

/*
 * The user has no more to send (RFC 9293 3.10.4 CLOSE, 3.10.7 shutdown):
 * ESTABLISHED -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK (tcp_output then sends
 * the FIN); no connection yet -> closed; SYN_RECEIVED -> FIN after the
 * handshake (TF_NEEDFIN).  Returns tp, or NULL when it was closed.
 */
static struct tcpcb *
tcp_usrclosed(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		tp->t_state = TCPS_CLOSED;
		return (tcp_close(tp));
	case TCPS_SYN_RECEIVED:
		tp->t_flags |= TF_NEEDFIN;
		break;
	case TCPS_ESTABLISHED:
		tp->t_state = TCPS_FIN_WAIT_1;
		break;
	case TCPS_CLOSE_WAIT:
		tp->t_state = TCPS_LAST_ACK;
		break;
	default:
		break;
	}
	if (tp->t_state >= TCPS_FIN_WAIT_2) {
		/* Already past our FIN: the user can do no more with it. */
		soisdisconnected(so);
		if (tp->t_state == TCPS_FIN_WAIT_2 && (so->so_state & SS_NOFDREF) &&
		    !tcp_timer_active(tp, TT_2MSL))
			tcp_timer_activate(tp, TT_2MSL,
			    MS_TO_NS(V(tp->t_stack, tcp_finwait2_timeout)));
	}
	return (tp);
}

/*
 * The user's close (FreeBSD tcp_disconnect): not yet synchronized, the
 * connection just goes; SO_LINGER with a zero timeout is an abort (RST,
 * RFC 9293 3.10.5); otherwise the orderly close: unread data is
 * discarded and a FIN follows the queued data.  RFC 1122 4.2.2.13 says a
 * RST SHOULD report discarded data; FreeBSD sends the FIN and resets only
 * when more data arrives after the close (tcp_input: tcps_rcvafterclose),
 * and ustack behaves as FreeBSD does.
 */
static void
tcp_disconnect(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (tp->t_state < TCPS_ESTABLISHED) {
		tp->t_state = TCPS_CLOSED;
		(void)tcp_close(tp);
		return;
	}
	if ((so->so_options & SO_LINGER) && so->so_linger == 0) {
		(void)tcp_drop(tp, 0);
		return;
	}
	soisdisconnecting(so);
	sbflush(&so->so_rcv);
	tp = tcp_usrclosed(tp);
	if (tp != NULL)
		(void)tcp_output(tp);
}

/* ---------------------------------------------------------------------
 * pr_usrreqs.
 * ------------------------------------------------------------------- */

static int
tcp_usr_attach(struct socket *so, int proto)
{
	struct ust_stack *st = so->so_stack;
	int error;

	(void)proto;
	if (so->so_snd.sb_hiwat == 0 || so->so_rcv.sb_hiwat == 0) {
		error = soreserve(so, (long)V(st, tcp_sendspace), (long)V(st, tcp_recvspace));
		if (error != 0)
			return (error);
		/* tcp_autobuf.c may grow them (FreeBSD SB_AUTOSIZE). */
		if (UST_TCP_AUTOBUF && V(st, tcp_sendbuf_auto))
			so->so_snd.sb_flags |= SB_AUTOSIZE;
		if (UST_TCP_AUTOBUF && V(st, tcp_recvbuf_auto))
			so->so_rcv.sb_flags |= SB_AUTOSIZE;
	}
	return (tcp_attach_pcb(so));
}

static void
tcp_usr_detach(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL) {
		if (so->so_pcb != NULL)
			in_pcbfree(sotoinpcb(so));
		return;
	}
	tcp_disconnect(tp);
	/* What is left (FIN_WAIT_*, LAST_ACK, TIME_WAIT ...) keeps the socket
	 * until tcp_close(). */
	if (so->so_pcb != NULL)
		so->so_state |= SS_PROTOREF;
}

static int
tcp_usr_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in *sin;
	struct in_addr a;
	int error;

	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	if (inp == NULL)
		return (UST_EINVAL);
	/* FreeBSD: no TCP endpoint on a multicast or broadcast address. */
	a.s_addr = sin->sin_addr;
	if (IN_MULTICAST(ntohl(a.s_addr)) || a.s_addr == INADDR_BROADCAST)
		return (UST_EAFNOSUPPORT);
	return (in_pcbbind(inp, sin));
}

static int
tcp_usr_listen(struct socket *so, int backlog)
{
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = so_tcpcb(so);
	int error;

	(void)backlog; /* solisten() keeps it, capped by kern.ipc.somaxconn */
	if (tp == NULL)
		return (UST_EINVAL);
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return (UST_EINVAL);
	if (inp->inp_lport == 0 && (error = in_pcbbind(inp, NULL)) != 0)
		return (error);
	tp->t_state = TCPS_LISTEN;
	return (0);
}

static int tcp_connect_start(struct socket *so, struct tcpcb *tp);

static int
tcp_usr_connect(struct socket *so, const struct sockaddr *nam)
{
	struct ust_stack *st = so->so_stack;
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = so_tcpcb(so);
	const struct sockaddr_in *sin;
	struct in_addr faddr;
	int error;

	(void)st;
	if ((error = in_satosin(nam, &sin)) != 0)
		return (error);
	if (tp == NULL)
		return (UST_EINVAL);
	if (tp->t_state == TCPS_LISTEN)
		return (UST_EOPNOTSUPP);
	if (tp->t_state != TCPS_CLOSED)
		return (UST_EALREADY);
	faddr.s_addr = sin->sin_addr;
	/* RFC 9293 3.9.1 (OPEN): a unicast foreign socket only. */
	if (IN_MULTICAST(ntohl(faddr.s_addr)) || faddr.s_addr == INADDR_BROADCAST)
		return (UST_EAFNOSUPPORT);
	error = in_pcbconnect(inp, faddr, sin->sin_port);
	if (error != 0)
		return (error);
	return (tcp_connect_start(so, tp));
}

#if UST_TCP_TFO
/* RFC 7413 4.2: sendto() with an address on a closed TCP_FASTOPEN socket
 * is connect() with the data queued first, so that the SYN carries them
 * (FreeBSD's implied open; IPv4 and IPv6 through the socket's own
 * pru_connect).  Without TCP_FASTOPEN it stays ENOTCONN.  Consumes m. */
static int
tcp_fastopen_implied_connect(struct socket *so, int flags, struct mbuf *m,
    const struct sockaddr *addr)
{
	struct tcpcb *tp = so_tcpcb(so);
	uint32_t before = so->so_snd.sb_cc;
	int error;

	if (tp == NULL || !(tp->t_tfo_flags & TFO_ENABLED) || (flags & UST_MSG_OOB)) {
		m_freem(m);
		return (UST_ENOTCONN);
	}
	sbappendstream(&so->so_snd, m);
	error = so->so_proto->pr_usrreqs->pru_connect(so, addr);
	if (error != 0 && so->so_snd.sb_cc > before)
		sbdrop(&so->so_snd, so->so_snd.sb_cc - before);
	return (error);
}
#endif

/* The active open, once the PCB is connected: SYN_SENT and the SYN. */
static int
tcp_connect_start(struct socket *so, struct tcpcb *tp)
{
	struct ust_stack *st = so->so_stack;
	struct inpcb *inp = sotoinpcb(so);

	/* RFC 7323 2.2: the scale we ask for; RFC 7323 timestamps;
	 * tcp_newtcpcb() set TF_REQ_SCALE / TF_REQ_TSTMP from rfc1323. */
	if (tp->t_flags & TF_NOOPT)
		tp->t_flags &= ~(uint32_t)(TF_REQ_SCALE | TF_REQ_TSTMP);
	if (tp->t_flags & TF_REQ_SCALE)
		tp->request_r_scale = tcp_request_wscale(st);
	if ((tp->t_flags & TF_REQ_TSTMP) && V(st, tcp_ts_offset_per_conn))
		tp->ts_offset = ust_rng_u32(&st->st_rng);
	soisconnecting(so);
#if UST_TCP_TFO
	tcp_fastopen_connect(tp);
#endif
	TCPSTAT_INC(st, tcps_connattempt);
	tp->t_state = TCPS_SYN_SENT;
	tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(tcp_keepinit_ms(tp)));
	/* RFC 6528 (RFC 9293 3.4.1): the ISN from the 4-tuple and the clock. */
	tp->iss = tcp_new_isn(st, &inp->inp_inc);
	tcp_sendseqinit(tp);
	tp->t_starttime = stack_now(st);
	return (tcp_output(tp));
}

static int
tcp_usr_accept(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ECONNABORTED);
	return (in_getpeeraddr(so, nam));
}

static int
tcp_usr_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *addr)
{
	struct tcpcb *tp = so_tcpcb(so);
	const struct sockaddr_in *sin;
	int error;

	if (addr != NULL && (error = in_satosin(addr, &sin)) != 0) {
		m_freem(m);
		return (error);
	}
	if (tp == NULL) {
		m_freem(m);
		return (so->so_error != 0 ? so->so_error : UST_ECONNRESET);
	}
	if (addr != NULL && tp->t_state != TCPS_CLOSED) {
		m_freem(m);
		return (UST_EISCONN);
	}
#if UST_TCP_TFO
	if (addr != NULL)
		return (tcp_fastopen_implied_connect(so, flags, m, addr));
#endif
	sbappendstream(&so->so_snd, m);
	if (flags & UST_MSG_OOB) {
		/* RFC 9293 3.8.5 (RFC 6093): the urgent pointer points at the
		 * octet after the urgent data; force it out even without window. */
		tp->snd_up = tp->snd_una + (so->so_snd.sb_cc - so->so_snd.sb_ctl);
		tp->t_flags |= TF_FORCEDATA;
		error = tcp_output(tp);
		tp->t_flags &= ~TF_FORCEDATA;
		return (error);
	}
	return (tcp_usr_output(tp));
}

/* The user read: tcp_output() sends a window update when the window has
 * opened by enough (RFC 1122 4.2.3.3, its own decision). */
static int
tcp_usr_rcvd(struct socket *so, int flags)
{
	struct tcpcb *tp = so_tcpcb(so);

	(void)flags;
	if (tp == NULL || tp->t_state < TCPS_ESTABLISHED || tp->t_state == TCPS_TIME_WAIT)
		return (0);
	(void)tcp_usr_output(tp);
	return (0);
}

/* MSG_OOB receive (SO_OOBINLINE off): the one out-of-band byte. */
static int
tcp_usr_rcvoob(struct socket *so, void *buf, size_t len, int flags, size_t *got)
{
	struct tcpcb *tp = so_tcpcb(so);

	*got = 0;
	if (tp == NULL)
		return (UST_ECONNRESET);
	if ((so->so_options & SO_OOBINLINE) || (tp->t_oobflags & TCPOOB_HADDATA))
		return (UST_EINVAL);
	if (!(tp->t_oobflags & TCPOOB_HAVEDATA))
		return (UST_EAGAIN);
	if (len > 0) {
		*(uint8_t *)buf = tp->t_iobc;
		*got = 1;
	}
	if (!(flags & UST_MSG_PEEK))
		tp->t_oobflags ^= (TCPOOB_HAVEDATA | TCPOOB_HADDATA);
	return (0);
}

static int
tcp_usr_shutdown(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL)
		return (0);
	tp = tcp_usrclosed(tp);
	if (tp != NULL)
		return (tcp_usr_output(tp));
	return (0);
}

static int
tcp_usr_disconnect(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL)
		return (UST_ENOTCONN);
	tcp_disconnect(tp);
	return (0);
}

static void
tcp_usr_abort(struct socket *so)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (tp == NULL) {
		if (so->so_pcb != NULL)
			in_pcbfree(sotoinpcb(so));
		return;
	}
	(void)tcp_drop(tp, UST_ECONNABORTED);
}

static int
tcp_usr_sockaddr(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ECONNRESET);
	return (in_getsockaddr(so, nam));
}

static int
tcp_usr_peeraddr(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ENOTCONN);
	return (in_getpeeraddr(so, nam));
}

/* ---------------------------------------------------------------------
 * Options.
 * ------------------------------------------------------------------- */

static int
tcp_optin_int(const struct sockopt *sopt, int *v)
{
	if (sopt->sopt_valsize < sizeof(int))
		return (UST_EINVAL);
	memcpy(v, sopt->sopt_val, sizeof(int));
	return (0);
}

static int
tcp_optout(struct sockopt *sopt, const void *v, size_t len)
{
	if (sopt->sopt_valsize < len)
		return (UST_EINVAL);
	memcpy(sopt->sopt_val, v, len);
	sopt->sopt_valsize = len;
	return (0);
}

/* SO_KEEPALIVE changed (the socket layer calls us after it set the bit). */
static void
tcp_keepalive_changed(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb->inp_socket;

	if (!TCPS_HAVEESTABLISHED(tp->t_state) || tp->t_state > TCPS_CLOSE_WAIT)
		return;
	if ((so->so_options & SO_KEEPALIVE) || V(tp->t_stack, tcp_always_keepalive))
		tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(tcp_keepidle_ms(tp)));
	else
		tcp_timer_activate(tp, TT_KEEP, 0);
}

static int
tcp_ctloutput_flag(struct tcpcb *tp, struct sockopt *sopt, uint32_t flag)
{
	int v, error;

	if (sopt->sopt_dir == SOPT_GET) {
		v = (tp->t_flags & flag) != 0;
		return (tcp_optout(sopt, &v, sizeof(v)));
	}
	if ((error = tcp_optin_int(sopt, &v)) != 0)
		return (error);
	if (v)
		tp->t_flags |= flag;
	else
		tp->t_flags &= ~flag;
	/* FreeBSD: clearing TCP_NODELAY/TCP_NOPUSH sends what was held. */
	if (!v && (flag == TF_NOPUSH || flag == TF_NODELAY) && TCPS_HAVEESTABLISHED(tp->t_state))
		(void)tcp_output(tp);
	if (v && flag == TF_NODELAY && TCPS_HAVEESTABLISHED(tp->t_state))
		(void)tcp_output(tp);
	return (0);
}

/* TCP_KEEP*: seconds on the API, milliseconds in the tcpcb. */
static int
tcp_ctloutput_keep(struct tcpcb *tp, struct sockopt *sopt)
{
	uint32_t *fieldp, ms;
	int v, error;

	switch (sopt->sopt_name) {
	case UST_TCP_KEEPIDLE:
		fieldp = &tp->t_keepidle;
		ms = tcp_keepidle_ms(tp);
		break;
	case UST_TCP_KEEPINTVL:
		fieldp = &tp->t_keepintvl;
		ms = tcp_keepintvl_ms(tp);
		break;
	case UST_TCP_KEEPINIT:
		fieldp = &tp->t_keepinit;
		ms = tcp_keepinit_ms(tp);
		break;
	default:
		fieldp = &tp->t_keepcnt;
		ms = tcp_keepcnt_n(tp);
		break;
	}
	if (sopt->sopt_dir == SOPT_GET) {
		v = sopt->sopt_name == UST_TCP_KEEPCNT ? (int)ms : (int)(ms / 1000);
		return (tcp_optout(sopt, &v, sizeof(v)));
	}
	if ((error = tcp_optin_int(sopt, &v)) != 0)
		return (error);
	if (v <= 0 || (sopt->sopt_name != UST_TCP_KEEPCNT && v > INT32_MAX / 1000))
		return (UST_EINVAL);
	*fieldp = sopt->sopt_name == UST_TCP_KEEPCNT ? (uint32_t)v : (uint32_t)v * 1000u;
	/* FreeBSD: a new idle time re-arms a running keepalive. */
	if (sopt->sopt_name == UST_TCP_KEEPIDLE && tcp_timer_active(tp, TT_KEEP) &&
	    TCPS_HAVEESTABLISHED(tp->t_state) && tp->t_state <= TCPS_CLOSE_WAIT)
		tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(*fieldp));
	if (sopt->sopt_name == UST_TCP_KEEPINIT && tp->t_state == TCPS_SYN_SENT)
		tcp_timer_activate(tp, TT_KEEP, MS_TO_NS(*fieldp));
	return (0);
}

static int
tcp_ctloutput_tcp(struct socket *so, struct tcpcb *tp, struct sockopt *sopt)
{
	struct ust_tcp_info ti;
	char name[TCP_CA_NAME_MAX];
	int v, error;

	switch (sopt->sopt_name) {
	case UST_TCP_NODELAY:
		return (tcp_ctloutput_flag(tp, sopt, TF_NODELAY));
	case UST_TCP_NOPUSH:
		return (tcp_ctloutput_flag(tp, sopt, TF_NOPUSH));
	case UST_TCP_NOOPT:
		return (tcp_ctloutput_flag(tp, sopt, TF_NOOPT));
#if UST_TCP_SIGNATURE
	case UST_TCP_MD5SIG:
		/* FreeBSD: an int, on or off; the keys are the stack's
		 * (ust_tcp_md5_key_add), looked up per segment. */
		return (tcp_ctloutput_flag(tp, sopt, TF_SIGNATURE));
#endif
	case UST_TCP_MAXSEG:
		if (sopt->sopt_dir == SOPT_GET) {
			v = (int)tp->t_maxseg;
			return (tcp_optout(sopt, &v, sizeof(v)));
		}
		if ((error = tcp_optin_int(sopt, &v)) != 0)
			return (error);
		/* FreeBSD: only lowered, and not below net.inet.tcp.minmss. */
		if (v <= 0 || (uint32_t)v > tp->t_maxseg ||
		    (int64_t)v < V(so->so_stack, tcp_minmss))
			return (UST_EINVAL);
		tp->t_maxseg = (uint32_t)v;
		return (0);
	case UST_TCP_KEEPIDLE:
	case UST_TCP_KEEPINTVL:
	case UST_TCP_KEEPINIT:
	case UST_TCP_KEEPCNT:
		return (tcp_ctloutput_keep(tp, sopt));
#if UST_TCP_TFO
	case UST_TCP_FASTOPEN:
		return (tcp_fastopen_ctloutput(tp, sopt));
#endif
#if UST_TCP_TUNNEL
	case UST_TCP_REMOTE_UDP_ENCAPS_PORT:
		/* TCP over UDP (tcp_udp_tunnel.c): the remote port, host order. */
		if (sopt->sopt_dir == SOPT_GET) {
			v = tcp_udp_tunnel_getsockopt(tp);
			return (tcp_optout(sopt, &v, sizeof(v)));
		}
		if ((error = tcp_optin_int(sopt, &v)) != 0)
			return (error);
		return (tcp_udp_tunnel_setsockopt(tp, v));
#endif
	case UST_TCP_INFO:
		if (sopt->sopt_dir != SOPT_GET)
			return (UST_EINVAL);
		tcp_fill_info(tp, &ti);
		return (tcp_optout(sopt, &ti, sizeof(ti)));
	case UST_TCP_CONGESTION:
		/* FreeBSD TCP_CONGESTION: the module's name; a set switches
		 * module on the live connection (cc_switch keeps cwnd and
		 * ssthresh).  The names are net.inet.tcp.cc.available. */
		if (sopt->sopt_dir == SOPT_GET) {
			memset(name, 0, sizeof(name));
			if (tp->t_cc != NULL && tp->t_cc->name != NULL)
				strncpy(name, tp->t_cc->name, sizeof(name) - 1);
			return (tcp_optout(sopt, name, sizeof(name)));
		}
		{
			const struct cc_algo *algo;
			const char *val = sopt->sopt_val;
			size_t n;

			/* The name ends at a NUL or at the end of the value. */
			for (n = 0; n < sopt->sopt_valsize && val[n] != '\0'; n++)
				if (n >= sizeof(name) - 1)
					return (UST_EINVAL);
			memcpy(name, val, n);
			name[n] = '\0';
			if ((algo = cc_algo_find(name)) == NULL)
				return (UST_ENOENT);
			return (cc_switch(tp, algo));
		}
	case UST_TCP_FUNCTION_BLK:
		return (tcp_fb_ctloutput(tp, sopt));
	default:
		/* FreeBSD: the stack's own options. */
		if (tp->t_fb->tfb_tcp_ctloutput != NULL)
			return (tp->t_fb->tfb_tcp_ctloutput(tp, sopt));
		return (UST_ENOPROTOOPT);
	}
}

int
tcp_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (sopt->sopt_level == UST_SOL_SOCKET) {
		/* After the socket layer handled a set (FreeBSD does the same). */
		if (tp != NULL && sopt->sopt_dir == SOPT_SET && sopt->sopt_name == UST_SO_KEEPALIVE)
			tcp_keepalive_changed(tp);
		return (0);
	}
	if (tp == NULL)
		return (UST_ECONNRESET);
	if (sopt->sopt_level == UST_IPPROTO_IP)
		return (in_pcbctloutput_ip(so, sopt));
	if (sopt->sopt_level != UST_IPPROTO_TCP)
		return (UST_ENOPROTOOPT);
	return (tcp_ctloutput_tcp(so, tp, sopt));
}

/* FreeBSD tcp_mss(): the receive buffer is rounded up to a multiple of the
 * MSS once it is known ("SO_RCVBUF reads back 65700"), within maxsockbuf. */
void
tcp_rcvbuf_roundup(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	uint64_t want;
	uint32_t mss = tp->t_maxseg;

	if (so == NULL || mss == 0 || so->so_rcv.sb_hiwat < mss)
		return;
	want = ((uint64_t)so->so_rcv.sb_hiwat + mss - 1) / mss * mss;
	if (want > so->so_rcv.sb_hiwat && want <= (uint64_t)V(tp->t_stack, ipc_maxsockbuf))
		(void)sbreserve(so, &so->so_rcv, (long)want);
}

void
tcp_fill_info(const struct tcpcb *tp, struct ust_tcp_info *ti)
{
	const struct ust_stack *st = tp->t_stack;
	uint64_t now = stack_now(st), elapsed;

	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = (uint8_t)tp->t_state;
	if ((tp->t_flags & TF_REQ_TSTMP) && (tp->t_flags & TF_RCVD_TSTMP))
		ti->tcpi_options |= UST_TCPI_OPT_TIMESTAMPS;
	if (tp->t_flags & TF_SACK_PERMIT)
		ti->tcpi_options |= UST_TCPI_OPT_SACK;
	if ((tp->t_flags & TF_REQ_SCALE) && (tp->t_flags & TF_RCVD_SCALE)) {
		ti->tcpi_options |= UST_TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = tp->snd_scale;
		ti->tcpi_rcv_wscale = tp->rcv_scale;
	}
	if (tp->t_flags & TF_ECN_PERMIT)
		ti->tcpi_options |= UST_TCPI_OPT_ECN;
	ti->tcpi_rto = tp->t_rxtcur;
	ti->tcpi_rtt = tp->t_srtt;
	ti->tcpi_rttvar = tp->t_rttvar;
	ti->tcpi_snd_mss = tp->t_maxseg;
	ti->tcpi_rcv_mss = tp->t_rcvmss;
	ti->tcpi_snd_ssthresh = tp->snd_ssthresh;
	ti->tcpi_snd_cwnd = tp->snd_cwnd;
	ti->tcpi_snd_wnd = tp->snd_wnd;
	ti->tcpi_rcv_space = tp->rcv_wnd;
	ti->tcpi_snd_nxt = tp->snd_nxt;
	ti->tcpi_rcv_nxt = tp->rcv_nxt;
	ti->tcpi_unacked = SEQ_GT(tp->snd_max, tp->snd_una) ? tp->snd_max - tp->snd_una : 0;
	/* tcpi_sacked: bytes above snd_una the peer has SACKed (the sender
	 * scoreboard's sackhint.sacked_bytes); 0 without SACK.  tcpi_lost:
	 * kept simple, the bytes in the scoreboard's holes while in loss
	 * recovery (every hole below the highest SACKed byte counts as lost,
	 * retransmitted or not); 0 outside recovery or without SACK. */
	if (tp->t_flags & TF_SACK_PERMIT) {
		const struct sackhole *h;

		ti->tcpi_sacked = tp->sackhint.sacked_bytes;
		if (IN_RECOVERY(tp->t_flags))
			for (h = tp->snd_holes; h != NULL; h = h->next)
				ti->tcpi_lost += (uint32_t)(h->end - h->start);
	}
	ti->tcpi_retransmits = tp->t_rxtshift;
	ti->tcpi_backoff = tp->t_rxtshift;
	ti->tcpi_snd_rexmitpack = tp->t_sndrexmitpack;
	ti->tcpi_snd_rexmitbyte = tp->t_sndrexmitbyte;
	ti->tcpi_rcv_ooopack = tp->t_rcvoopack;
	ti->tcpi_snd_zerowin = tp->t_sndzerowin;
	ti->tcpi_bytes_acked = tp->t_bytes_acked_total;
	ti->tcpi_bytes_received = tp->t_bytes_rcvd_total;
	/* tcpi_delivery_rate: bytes acknowledged per second over the
	 * connection's lifetime (t_bytes_acked_total / (now - t_starttime)),
	 * 0 until t_starttime is set and a microsecond has passed. */
	if (tp->t_starttime != 0 && now > tp->t_starttime) {
		elapsed = now - tp->t_starttime;
		ti->tcpi_delivery_rate =
		    elapsed >= 1000 ? tp->t_bytes_acked_total * 1000000ull / (elapsed / 1000) : 0;
	}
	if (tp->t_rcvtime != 0 && now >= tp->t_rcvtime)
		ti->tcpi_last_data_recv = (now - tp->t_rcvtime) / 1000;
}

const struct pr_usrreqs tcp_usrreqs = {
	.pru_attach = tcp_usr_attach,
	.pru_detach = tcp_usr_detach,
	.pru_bind = tcp_usr_bind,
	.pru_connect = tcp_usr_connect,
	.pru_listen = tcp_usr_listen,
	.pru_accept = tcp_usr_accept,
	.pru_send = tcp_usr_send,
	.pru_rcvd = tcp_usr_rcvd,
	.pru_rcvoob = tcp_usr_rcvoob,
	.pru_shutdown = tcp_usr_shutdown,
	.pru_disconnect = tcp_usr_disconnect,
	.pru_abort = tcp_usr_abort,
	.pru_sockaddr = tcp_usr_sockaddr,
	.pru_peeraddr = tcp_usr_peeraddr,
};

#if UST_INET6
/* ---------------------------------------------------------------------
 * AF_INET6 sockets (inet6sw's TCP entry, FreeBSD tcp6_usrreqs): the same
 * connection machinery; bind, connect and the names speak sockaddr_in6,
 * and a v4-mapped peer (IPV6_V6ONLY off) is an IPv4 connection whose
 * addresses read back as ::ffff:a.b.c.d.
 * ------------------------------------------------------------------- */

static int
tcp6_usr_attach(struct socket *so, int proto)
{
	int error = tcp_usr_attach(so, proto);

	if (error == 0)
		in6_pcbinit(sotoinpcb(so));
	return (error);
}

static int
tcp6_usr_bind(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	const struct sockaddr_in6 *sin6;
	int error;

	if ((error = in6_satosin6(nam, &sin6)) != 0)
		return (error);
	if (inp == NULL)
		return (UST_EINVAL);
	/* FreeBSD: no TCP endpoint on a multicast address. */
	if (IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
		return (UST_EAFNOSUPPORT);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		struct sockaddr_in sin;

		in6_sin6_to_sin(sin6, &sin);
		if (IN_MULTICAST(ntohl(sin.sin_addr)) || sin.sin_addr == INADDR_BROADCAST)
			return (UST_EAFNOSUPPORT);
	}
	return (in6_pcbbind(inp, sin6));
}

static int
tcp6_usr_listen(struct socket *so, int backlog)
{
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = so_tcpcb(so);
	int error;

	if (tp == NULL)
		return (UST_EINVAL);
	if (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN)
		return (UST_EINVAL);
	if (inp->inp_lport == 0 && (error = in6_pcbbind(inp, NULL)) != 0)
		return (error);
	return (tcp_usr_listen(so, backlog));
}

static int
tcp6_usr_connect(struct socket *so, const struct sockaddr *nam)
{
	struct inpcb *inp = sotoinpcb(so);
	struct tcpcb *tp = so_tcpcb(so);
	const struct sockaddr_in6 *sin6;
	int error;

	if ((error = in6_satosin6(nam, &sin6)) != 0)
		return (error);
	if (tp == NULL)
		return (UST_EINVAL);
	if (tp->t_state == TCPS_LISTEN)
		return (UST_EOPNOTSUPP);
	if (tp->t_state != TCPS_CLOSED)
		return (UST_EALREADY);
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		struct sockaddr_in sin;
		struct in_addr faddr;

		/* FreeBSD tcp6_usr_connect: IPv4 through an AF_INET6 socket
		 * unless IPV6_V6ONLY, and not after an IPv6 bind. */
		if ((inp->inp_flags & IN6P_IPV6_V6ONLY) || !(inp->inp_vflag & INP_IPV4))
			return (UST_EINVAL);
		in6_sin6_to_sin(sin6, &sin);
		faddr.s_addr = sin.sin_addr;
		if (IN_MULTICAST(ntohl(faddr.s_addr)) || faddr.s_addr == INADDR_BROADCAST)
			return (UST_EAFNOSUPPORT);
		inp_setvflag(inp, INP_IPV4 | INP_IPV6PROTO);
		error = in_pcbconnect(inp, faddr, sin.sin_port);
		if (error != 0) {
			inp_setvflag(inp, INP_IPV4 | INP_IPV6 | INP_IPV6PROTO);
			return (error);
		}
		return (tcp_connect_start(so, tp));
	}
	/* RFC 9293 3.9.1 (OPEN): a unicast foreign socket only. */
	if (IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
		return (UST_EAFNOSUPPORT);
	error = in6_pcbconnect(inp, sin6);
	if (error != 0)
		return (error);
	return (tcp_connect_start(so, tp));
}

static int
tcp6_usr_accept(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ECONNABORTED);
	return (in6_mapped_peeraddr(so, nam));
}

static int
tcp6_usr_send(struct socket *so, int flags, struct mbuf *m, const struct sockaddr *addr)
{
	const struct sockaddr_in6 *sin6;
	int error;

	if (addr != NULL && (error = in6_satosin6(addr, &sin6)) != 0) {
		m_freem(m);
		return (error);
	}
	if (addr != NULL && so_tcpcb(so) != NULL && so_tcpcb(so)->t_state != TCPS_CLOSED) {
		m_freem(m);
		return (UST_EISCONN);
	}
#if UST_TCP_TFO
	if (addr != NULL)
		return (tcp_fastopen_implied_connect(so, flags, m, addr));
#endif
	/* The address was checked; the rest is TCP's. */
	return (tcp_usr_send(so, flags, m, NULL));
}

static int
tcp6_usr_sockaddr(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ECONNRESET);
	return (in6_mapped_sockaddr(so, nam));
}

static int
tcp6_usr_peeraddr(struct socket *so, struct sockaddr *nam)
{
	if (so->so_pcb == NULL)
		return (UST_ENOTCONN);
	return (in6_mapped_peeraddr(so, nam));
}

int
tcp6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct tcpcb *tp = so_tcpcb(so);

	if (sopt->sopt_level == UST_IPPROTO_IPV6) {
		if (tp == NULL)
			return (UST_ECONNRESET);
		return (in6_pcbctloutput(so, sopt));
	}
	return (tcp_ctloutput(so, sopt));
}

const struct pr_usrreqs tcp6_usrreqs = {
	.pru_attach = tcp6_usr_attach,
	.pru_detach = tcp_usr_detach,
	.pru_bind = tcp6_usr_bind,
	.pru_connect = tcp6_usr_connect,
	.pru_listen = tcp6_usr_listen,
	.pru_accept = tcp6_usr_accept,
	.pru_send = tcp6_usr_send,
	.pru_rcvd = tcp_usr_rcvd,
	.pru_rcvoob = tcp_usr_rcvoob,
	.pru_shutdown = tcp_usr_shutdown,
	.pru_disconnect = tcp_usr_disconnect,
	.pru_abort = tcp_usr_abort,
	.pru_sockaddr = tcp6_usr_sockaddr,
	.pru_peeraddr = tcp6_usr_peeraddr,
};
#endif /* UST_INET6 */
