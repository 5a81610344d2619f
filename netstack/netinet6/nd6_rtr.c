/*
 * nd6_rtr.c - router and prefix discovery, SLAAC, redirects (RFC 4861
 * 6, 8; RFC 4862 5.5).
 *
 * filled by nd6: first stubs that drop RS, RA and redirects.
 */
#include "kern/mbuf.h"
#include "netinet6/nd6.h"

/* filled by nd6 */
void
nd6_rs_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}

/* filled by nd6 */
void
nd6_ra_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}

/* filled by nd6 */
void
nd6_redirect_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	(void)off, (void)icmp6len;
	m_freem(m);
}
