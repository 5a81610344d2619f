/* frag6.c - IPv6 reassembly (M1 stub: drops fragments). */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/ip6_var.h"

struct mbuf *
frag6_input(struct mbuf *m, uint32_t *offp, uint8_t *nxtp)
{
	(void)offp, (void)nxtp;
	m_freem(m);
	return (NULL);
}

int
frag6_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}

void
frag6_fini(struct ust_stack *st)
{
	(void)st;
}
