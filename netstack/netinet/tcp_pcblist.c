/*
 * tcp_pcblist.c - the TCP connection table as tools see it.
 *
 * FreeBSD exports it as the net.inet.tcp.pcblist sysctl (read by netstat
 * and sockstat) and takes drops through net.inet.tcp.drop (tcpdrop(8));
 * here they are ust_tcp_pcblist() and ust_tcp_drop().  Embryonic
 * connections that live only in the syncache are listed in SYN_RECEIVED,
 * as sockstat(1) shows them.
 *
 *   ust_tcp_pcblist -> st_tcbinfo->ipi_list + syncache_foreach
 *   ust_tcp_drop -> the PCB with that 4-tuple -> tcp_drop (RST unless
 *                   TIME_WAIT)
 *
 * Both families: a connection has family UST_AF_INET6 with laddr6/faddr6
 * when it speaks IPv6 (its PCB has INP_IPV6), else UST_AF_INET with
 * laddr/faddr (and laddr6/faddr6 the v4-mapped ::ffff:a.b.c.d, as
 * FreeBSD's struct in_conninfo holds them).
 */
#include <string.h>

#include <ustack/ustack.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

struct pcblist_fill {
	struct ust_tcp_conn *out;
	size_t max;
	size_t n;
};

_Static_assert(UST_TCPT_DELACK == 1 << TT_DELACK && UST_TCPT_REXMT == 1 << TT_REXMT &&
        UST_TCPT_PERSIST == 1 << TT_PERSIST && UST_TCPT_KEEP == 1 << TT_KEEP &&
        UST_TCPT_2MSL == 1 << TT_2MSL,
    "UST_TCPT_* are the TT_* slots as bits");

static struct ust_tcp_conn *
pcblist_add(struct pcblist_fill *f, const struct in_conninfo *inc, int state)
{
	struct ust_tcp_conn *c = NULL;

	if (f->n < f->max) {
		c = &f->out[f->n];
		memset(c, 0, sizeof(*c));
		c->family = UST_AF_INET;
		c->lport = inc->inc_lport;
		c->fport = inc->inc_fport;
		c->state = (uint8_t)state;
#if UST_INET6
		if (inc_isipv6(inc)) {
			c->family = UST_AF_INET6;
			c->laddr6 = inc->inc6_laddr;
			c->faddr6 = inc->inc6_faddr;
			c->scope_id = inc->inc6_zoneid;
		} else
#endif
		{
			c->laddr = inc->inc_laddr.s_addr;
			c->faddr = inc->inc_faddr.s_addr;
			c->laddr6.s6_addr8[10] = c->laddr6.s6_addr8[11] = 0xff;
			memcpy(&c->laddr6.s6_addr8[12], &c->laddr, 4);
			c->faddr6.s6_addr8[10] = c->faddr6.s6_addr8[11] = 0xff;
			memcpy(&c->faddr6.s6_addr8[12], &c->faddr, 4);
		}
	}
	f->n++;
	return (c);
}

static void
pcblist_syncache(void *arg, const struct in_conninfo *inc)
{
	(void)pcblist_add(arg, inc, TCPS_SYN_RECEIVED);
}

/* What a tool shows of a connection, and what the Python bindings compare to
 * tell a world that only repeats itself (keepalives answered) from one that
 * still moves (data, retransmissions, a peer silent for longer and longer). */
static void
pcblist_fill_tcb(struct ust_tcp_conn *c, const struct inpcb *inp, const struct tcpcb *tp)
{
	const struct socket *so = inp->inp_socket;
	uint64_t idle;
	int i;

	c->has_socket = so != NULL && !(so->so_state & SS_NOFDREF);
	for (i = 0; i < TT_N; i++)
		if (tp->t_timers[i] != 0)
			c->timers |= (uint8_t)(1u << i);
	c->rxtshift = (uint8_t)(tp->t_rxtshift > UINT8_MAX ? UINT8_MAX : tp->t_rxtshift);
	idle = (stack_now(tp->t_stack) - tp->t_rcvtime) / 1000000u;
	c->idle_ms = (uint32_t)(idle > UINT32_MAX ? UINT32_MAX : idle);
	if (so != NULL) {
		c->recv_q = so->so_rcv.sb_cc;
		c->send_q = so->so_snd.sb_cc;
	}
	c->snd_una = tp->snd_una;
	c->snd_nxt = tp->snd_nxt;
	c->rcv_nxt = tp->rcv_nxt;
}

UST_API size_t
ust_tcp_pcblist(struct ust_stack *st, struct ust_tcp_conn *out, size_t max)
{
	struct pcblist_fill f = { out, out != NULL ? max : 0, 0 };
	struct ust_tcp_conn *c;
	struct inpcb *inp;
	struct tcpcb *tp;

	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next) {
		tp = inp->inp_ppcb;
		if (tp == NULL)
			continue;
		c = pcblist_add(&f, &inp->inp_inc, tp->t_state);
		if (c != NULL)
			pcblist_fill_tcb(c, inp, tp);
	}
	syncache_foreach(st, pcblist_syncache, &f);
	return (f.n);
}

static int
tcp_drop4(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct inpcb *inp;

	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next)
		if (inp->inp_ppcb != NULL && (inp->inp_vflag & INP_IPV4) &&
		    !(inp->inp_vflag & INP_IPV6) && inp->inp_laddr.s_addr == laddr &&
		    inp->inp_lport == lport && inp->inp_faddr.s_addr == faddr &&
		    inp->inp_fport == fport) {
			(void)tcp_drop(inp->inp_ppcb, UST_ECONNABORTED);
			return (0);
		}
	return (-UST_ENOENT);
}

#if UST_INET6
static int
tcp_drop6(struct ust_stack *st, const struct sockaddr_in6 *l, const struct sockaddr_in6 *f)
{
	uint32_t zone = l->sin6_scope_id != 0 ? l->sin6_scope_id : f->sin6_scope_id;
	struct inpcb *inp;

	/* v4-mapped on both sides: an IPv4 connection (of an AF_INET6
	 * socket). */
	if (IN6_IS_ADDR_V4MAPPED(&l->sin6_addr) && IN6_IS_ADDR_V4MAPPED(&f->sin6_addr)) {
		uint32_t la, fa;

		memcpy(&la, &l->sin6_addr.s6_addr8[12], 4);
		memcpy(&fa, &f->sin6_addr.s6_addr8[12], 4);
		return (tcp_drop4(st, la, l->sin6_port, fa, f->sin6_port));
	}
	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next)
		if (inp->inp_ppcb != NULL && (inp->inp_vflag & INP_IPV6) &&
		    inp->inp_lport == l->sin6_port && inp->inp_fport == f->sin6_port &&
		    in6_are_addr_equal(&inp->in6p_laddr, &l->sin6_addr) &&
		    in6_are_addr_equal(&inp->in6p_faddr, &f->sin6_addr) &&
		    (zone == 0 || inp->in6p_zoneid == 0 || inp->in6p_zoneid == zone)) {
			(void)tcp_drop(inp->inp_ppcb, UST_ECONNABORTED);
			return (0);
		}
	return (-UST_ENOENT);
}
#endif

/* FreeBSD's net.inet.tcp.drop takes the two addresses as sockaddrs of
 * one family. */
UST_API int
ust_tcp_drop(struct ust_stack *st, const struct ust_sockaddr *l, ust_socklen_t llen,
    const struct ust_sockaddr *f, ust_socklen_t flen)
{
	if (l == NULL || f == NULL || llen < l->sa_len || flen < f->sa_len ||
	    l->sa_family != f->sa_family)
		return (-UST_EINVAL);
	if (st->st_tcbinfo == NULL)
		return (-UST_ENOENT);
	if (l->sa_family == UST_AF_INET) {
		const struct sockaddr_in *l4, *f4;

		if (in_satosin(l, &l4) != 0 || in_satosin(f, &f4) != 0)
			return (-UST_EINVAL);
		return (tcp_drop4(st, l4->sin_addr, l4->sin_port, f4->sin_addr, f4->sin_port));
	}
#if UST_INET6
	if (l->sa_family == UST_AF_INET6) {
		const struct sockaddr_in6 *l6, *f6;

		if (in6_satosin6(l, &l6) != 0 || in6_satosin6(f, &f6) != 0)
			return (-UST_EINVAL);
		return (tcp_drop6(st, l6, f6));
	}
#endif
	return (-UST_EAFNOSUPPORT);
}
