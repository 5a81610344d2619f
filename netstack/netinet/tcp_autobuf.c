/*
 * tcp_autobuf.c - socket buffer auto-sizing for TCP, the behaviour tcp(4)
 * documents for net.inet.tcp.recvbuf_auto and net.inet.tcp.sendbuf_auto.
 *
 *   tcp_do_data (in-order data) -> tcp_autorcvbuf -> sbreserve_grow
 *   tcp_do_newack (before sbdrop) -> tcp_autosndbuf -> sbreserve_grow
 *   -> sowwakeup (caller); tcp_output advertises the larger window
 *
 * Why: a connection moves at most one window per round trip, and the
 * window can be no larger than the buffers: 64 KB over a 40 ms path is
 * 13 Mbit/s whatever the link.  Buffers big enough for every path from
 * the start would pin memory on every idle connection, so they start at
 * net.inet.tcp.recvspace / sendspace and grow when a connection shows it
 * needs more, up to recvbuf_max / sendbuf_max.  RFC 7323 2.3: the window
 * shift is fixed at the SYN, so it is chosen for the largest buffer
 * possible (kern.ipc.maxsockbuf, tcp_request_wscale); a buffer that grows
 * later can then be advertised in full.
 *
 * Only buffers marked SB_AUTOSIZE grow: tcp_usr_attach marks them when the
 * knob is on, setsockopt(SO_RCVBUF / SO_SNDBUF) unmarks that buffer, and
 * accepted sockets inherit the listener's marks (sonewconn).  Buffers only
 * grow, through sbreserve (kern.ipc.maxsockbuf) after a check that the
 * stack's memory could back them; a refusal keeps the old size and counts
 * in tcps_autobuf_fail.
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/tcp_var.h"

#if UST_TCP_AUTOBUF /* ustack_opts.h */

/* The size auto-sizing may reach: the knob, within sbreserve's bound. */
static long
tcp_autobuf_max(const struct ust_stack *st, int64_t knob)
{
	long adj = sb_max_adj(st);

	return (knob < adj ? (long)knob : adj);
}

/* Grows sb to want (capped at max); counts the outcome. */
static void
tcp_autobuf_grow(struct socket *so, struct sockbuf *sb, uint64_t want, long max, int rcv)
{
	struct ust_stack *st = so->so_stack;

	if (want > (uint64_t)max)
		want = (uint64_t)max;
	if (want <= sb->sb_hiwat)
		return;
	if (sbreserve_grow(so, sb, (long)want) != 0) {
		TCPSTAT_INC(st, tcps_autobuf_fail);
		return;
	}
	if (rcv)
		TCPSTAT_INC(st, tcps_autorcvbuf);
	else
		TCPSTAT_INC(st, tcps_autosndbuf);
}

/* A new receive measurement starts with seg. */
static void
tcp_autorcvbuf_start(struct tcpcb *tp, uint32_t len)
{
	tp->rfbuf_on = 1;
	tp->rfbuf_start = stack_now(tp->t_stack);
	tp->rfbuf_ts = tcp_ts_getticks(tp->t_stack) + tp->ts_offset;
	tp->rfbuf_cnt = len;
}

/*
 * Receive side.  The time base is one round trip: with timestamps
 * (RFC 7323 3), the first segment whose TSecr echoes a TSval we sent after
 * the measurement began left the peer a round trip later, which works on
 * a pure receiver that never times an ACK of its own; without them, the
 * smoothed RTT.  If more than 7/8 of the buffer arrived in order within
 * that round trip, the window (which is the buffer) was what limited the
 * peer, so the buffer grows to twice what arrived: roughly doubling, as a
 * sender in slow start doubles its window each round trip.
 */
void
tcp_autorcvbuf(struct tcpcb *tp, const struct tcp_seg *seg, struct socket *so)
{
	struct ust_stack *st = tp->t_stack;
	struct sockbuf *sb = &so->so_rcv;
	int ts, done;

	if (!(sb->sb_flags & SB_AUTOSIZE) || !V(st, tcp_recvbuf_auto) || seg->tlen == 0)
		return;
	ts = (tp->t_flags & TF_RCVD_TSTMP) && (seg->to.to_flags & TOF_TS) && seg->to.to_tsecr != 0;
	if (!ts && tp->t_srtt == 0)
		return; /* no notion of a round trip yet */
	if (!tp->rfbuf_on) {
		tcp_autorcvbuf_start(tp, seg->tlen);
		return;
	}
	if (ts)
		done = SEQ_GT(seg->to.to_tsecr, tp->rfbuf_ts);
	else
		done = stack_now(st) - tp->rfbuf_start >= (uint64_t)tp->t_srtt * 1000u;
	if (!done) {
		tp->rfbuf_cnt += seg->tlen;
		return;
	}
	if (tp->rfbuf_cnt > sb->sb_hiwat / 8 * 7)
		tcp_autobuf_grow(so, sb, 2 * (uint64_t)tp->rfbuf_cnt,
		    tcp_autobuf_max(st, V(st, tcp_recvbuf_max)), 1);
	tcp_autorcvbuf_start(tp, seg->tlen);
}

/*
 * Send side.  The send buffer holds everything in flight plus what waits
 * to go, so it bounds the window in use just as the receive buffer does.
 * It grows when the application keeps it nearly full (7/8: the
 * application is not the limit) while the usable window, min(snd_wnd,
 * cwnd), is close to the buffer or above it (the network would take
 * more): to twice that window, at least by net.inet.tcp.sendbuf_inc, so
 * that the buffer keeps ahead of a window that doubles per round trip.
 */
void
tcp_autosndbuf(struct tcpcb *tp, struct socket *so)
{
	struct ust_stack *st = tp->t_stack;
	struct sockbuf *sb = &so->so_snd;
	uint64_t win, want;
	long max;

	if (!(sb->sb_flags & SB_AUTOSIZE) || !V(st, tcp_sendbuf_auto))
		return;
	max = tcp_autobuf_max(st, V(st, tcp_sendbuf_max));
	if ((long)sb->sb_hiwat >= max || sb->sb_cc - sb->sb_ctl < sb->sb_hiwat / 8 * 7)
		return;
	win = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
	if (win + win / 4 < sb->sb_hiwat)
		return;
	want = 2 * win;
	if (want < (uint64_t)sb->sb_hiwat + (uint64_t)V(st, tcp_sendbuf_inc))
		want = (uint64_t)sb->sb_hiwat + (uint64_t)V(st, tcp_sendbuf_inc);
	tcp_autobuf_grow(so, sb, want, max, 0);
}
#endif /* UST_TCP_AUTOBUF */
