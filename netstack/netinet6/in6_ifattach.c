/*
 * in6_ifattach.c - an interface's IPv6 start: its link-local address
 * (RFC 4862 5.3, interface identifier from RFC 7217 or the MAC) and the
 * first router solicitations.
 *
 * filled by nd6: first stubs (no link-local address is made).
 */
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"

/* filled by nd6 */
void
in6_ifattach(struct ifnet *ifp)
{
	(void)ifp;
}

/* filled by nd6 */
void
in6_ifdetach(struct ifnet *ifp)
{
	(void)ifp;
}
