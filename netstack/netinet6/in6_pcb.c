/*
 * in6_pcb.c - IPv6 PCBs and, until the tcp6 track lands them in tcp_*.c,
 * the IPv6 entries of TCP.
 *
 * filled by tcp6: everything here is a first stub that refuses AF_INET6
 * TCP sockets (EAFNOSUPPORT at attach) and drops IPv6 TCP segments.
 */
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6_var.h"

/* filled by tcp6 */
static int
tcp6_usr_attach(struct socket *so, int proto)
{
	(void)so, (void)proto;
	return (UST_EAFNOSUPPORT);
}

const struct pr_usrreqs tcp6_usrreqs = {
	.pru_attach = tcp6_usr_attach,
};

/* filled by tcp6 */
void
tcp6_input(struct mbuf *m, uint32_t off)
{
	(void)off;
	m_freem(m);
}

/* filled by tcp6 */
void
tcp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	(void)st, (void)ctl;
}

/* filled by tcp6 */
int
tcp6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	(void)so, (void)sopt;
	return (UST_ENOPROTOOPT);
}
