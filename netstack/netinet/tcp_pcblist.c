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
 *   ust_tcp_drop -> in_pcblookup -> tcp_drop (RST unless TIME_WAIT)
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
		c->laddr = inc->inc_laddr.s_addr;
		c->lport = inc->inc_lport;
		c->faddr = inc->inc_faddr.s_addr;
		c->fport = inc->inc_fport;
		c->state = (uint8_t)state;
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

UST_API int
ust_tcp_drop(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct inpcb *inp;

	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next)
		if (inp->inp_ppcb != NULL && (inp->inp_vflag & INP_IPV4) &&
		    inp->inp_laddr.s_addr == laddr && inp->inp_lport == lport &&
		    inp->inp_faddr.s_addr == faddr && inp->inp_fport == fport) {
			(void)tcp_drop(inp->inp_ppcb, UST_ECONNABORTED);
			return (0);
		}
	return (-UST_ENOENT);
}
