/*
 * nd6_nbr.c - neighbor solicitation and advertisement, duplicate address
 * detection (RFC 4861 7, RFC 4862 5.4).
 *
 * filled by nd6: first stubs.  NS/NA are dropped; DAD ends at once (as
 * net.inet6.ip6.dad_count 0), so that an address added without
 * UST_IN6_IFF_NODAD is usable.
 */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"

/* filled by nd6 */
void
nd6_ns_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}

/* filled by nd6 */
void
nd6_na_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}

/* filled by nd6 */
void
nd6_dad_start(struct in6_ifaddr *ia, uint32_t delay_ms)
{
	(void)delay_ms;
	ia->ia6_flags &= ~(uint32_t)IN6_IFF_TENTATIVE;
}

/* filled by nd6 */
void
nd6_dad_stop(struct in6_ifaddr *ia)
{
	(void)ia;
}
