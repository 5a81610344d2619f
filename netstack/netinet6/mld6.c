/*
 * mld6.c - multicast listener discovery (RFC 3810, RFC 2710).
 *
 * filled by nd6: first stubs.  Queries and reports are dropped; joining
 * a group sends no report.
 */
#include "kern/mbuf.h"
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"

/* filled by nd6 */
void
mld_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}

/* filled by nd6 */
void
mld_change(struct ifnet *ifp, struct in6_multi *inm, int join)
{
	(void)ifp, (void)inm, (void)join;
}
