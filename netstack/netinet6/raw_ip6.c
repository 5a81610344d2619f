/* raw_ip6.c - raw ICMPv6 sockets (M1 stub: refused). */
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet6/ip6_var.h"

#if UST_RAW_IP
static int
rip6_attach(struct socket *so, int proto)
{
	(void)so, (void)proto;
	return (UST_EAFNOSUPPORT);
}

const struct pr_usrreqs rip6_usrreqs = {
	.pru_attach = rip6_attach,
};

int
rip6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	(void)so, (void)sopt;
	return (UST_ENOPROTOOPT);
}

void
rip6_input(struct mbuf *m, uint32_t off)
{
	(void)m, (void)off;
}
#endif
