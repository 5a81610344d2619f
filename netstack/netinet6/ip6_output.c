/* ip6_output.c - IPv6 output (M1 stub). */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/ip6_var.h"

int
ip6_output(struct ust_stack *st, struct mbuf *m, const struct ip6_out_args *args)
{
	(void)args;
	IP6STAT_INC(st, ip6s_noroute);
	m_freem(m);
	return (UST_ENETUNREACH);
}
