/*
 * udp6_usrreq.c - UDP over IPv6 (RFC 768, RFC 8200 8.1).
 *
 * filled by tcp6: a first stub that refuses AF_INET6 UDP sockets
 * (EAFNOSUPPORT at attach) and drops IPv6 UDP datagrams.
 */
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6_var.h"

/* filled by tcp6 */
static int
udp6_usr_attach(struct socket *so, int proto)
{
	(void)so, (void)proto;
	return (UST_EAFNOSUPPORT);
}

const struct pr_usrreqs udp6_usrreqs = {
	.pru_attach = udp6_usr_attach,
};

/* filled by tcp6 */
void
udp6_input(struct mbuf *m, uint32_t off)
{
	(void)off;
	m_freem(m);
}

/* filled by tcp6 */
void
udp6_ctlinput(struct ust_stack *st, const struct ip6ctlparam *ctl)
{
	(void)st, (void)ctl;
}

/* filled by tcp6 */
int
udp6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	(void)so, (void)sopt;
	return (UST_ENOPROTOOPT);
}
