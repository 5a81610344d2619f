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

static void
pcblist_add(struct pcblist_fill *f, struct in_addr laddr, uint16_t lport, struct in_addr faddr,
    uint16_t fport, int state, int has_socket)
{
	struct ust_tcp_conn *c;

	if (f->n < f->max) {
		c = &f->out[f->n];
		c->laddr = laddr.s_addr;
		c->lport = lport;
		c->faddr = faddr.s_addr;
		c->fport = fport;
		c->state = (uint8_t)state;
		c->has_socket = (uint8_t)has_socket;
	}
	f->n++;
}

static void
pcblist_syncache(void *arg, struct in_addr laddr, uint16_t lport, struct in_addr faddr,
    uint16_t fport)
{
	pcblist_add(arg, laddr, lport, faddr, fport, TCPS_SYN_RECEIVED, 0);
}

UST_API size_t
ust_tcp_pcblist(struct ust_stack *st, struct ust_tcp_conn *out, size_t max)
{
	struct pcblist_fill f = { out, out != NULL ? max : 0, 0 };
	struct inpcb *inp;
	struct tcpcb *tp;

	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next) {
		tp = inp->inp_ppcb;
		if (tp == NULL)
			continue;
		pcblist_add(&f, inp->inp_laddr, inp->inp_lport, inp->inp_faddr, inp->inp_fport,
		    tp->t_state,
		    inp->inp_socket != NULL && !(inp->inp_socket->so_state & SS_NOFDREF));
	}
	syncache_foreach(st, pcblist_syncache, &f);
	return (f.n);
}

UST_API int
ust_tcp_drop(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct inpcb *inp;

	for (inp = st->st_tcbinfo->ipi_list; inp != NULL; inp = inp->inp_list.next)
		if (inp->inp_ppcb != NULL && inp->inp_laddr.s_addr == laddr &&
		    inp->inp_lport == lport && inp->inp_faddr.s_addr == faddr &&
		    inp->inp_fport == fport) {
			(void)tcp_drop(inp->inp_ppcb, UST_ECONNABORTED);
			return (0);
		}
	return (-UST_ENOENT);
}
