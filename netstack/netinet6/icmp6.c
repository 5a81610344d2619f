/* icmp6.c - ICMPv6 (M1 stub). */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/ip6_var.h"

void
icmp6_input(struct mbuf *m, uint32_t off)
{
	(void)off;
	m_freem(m);
}

void
icmp6_error(struct mbuf *m, int type, int code, uint32_t param)
{
	(void)type, (void)code, (void)param;
	m_freem(m);
}

int
icmp6_init(struct ust_stack *st)
{
	(void)st;
	return (0);
}

void
icmp6_fini(struct ust_stack *st)
{
	(void)st;
}
