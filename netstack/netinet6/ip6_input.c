/* ip6_input.c - IPv6 input (M1 stub: drops). */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/ip6_var.h"

void
ip6_input(struct ifnet *ifp, struct mbuf *m)
{
	IP6STAT_INC(ifp->if_stack, ip6s_total);
	m_freem(m);
}

void
ip6_input_loop(struct ifnet *ifp, struct mbuf *m)
{
	ip6_input(ifp, m);
}

int
ip6_init(struct ust_stack *st)
{
	st->st_ip6_id = ust_rng_u32(&st->st_rng);
	return (frag6_init(st));
}

void
ip6_fini(struct ust_stack *st)
{
	frag6_fini(st);
}
