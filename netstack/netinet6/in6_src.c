/*
 * in6_src.c - source address selection (RFC 6724 5; FreeBSD
 * netinet6/in6_src.c).
 *
 * First version by the datapath, a subset of RFC 6724's rules: usable
 * addresses only (not tentative, duplicated or anycast), the same zone
 * for a scoped destination, then rule 1 (the destination itself), rule 2
 * (appropriate scope), rule 3 (not deprecated), rule 5 (the outgoing
 * interface) and rule 8 (longest matching prefix).  The nd6 track owns it
 * from here (policy table, temporary addresses).
 */
#include "kern/stack_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/nd6.h"

static unsigned
in6_matchlen(const struct in6_addr *a, const struct in6_addr *b)
{
	unsigned n = 0;

	while (n < 128 && in6_prefix_match(a, b, n + 1))
		n++;
	return (n);
}

/* Nonzero when a is the better source than b for dst (RFC 6724 5). */
static int
in6_src_better(const struct in6_ifaddr *a, const struct in6_ifaddr *b, const struct in6_addr *dst,
    const struct ifnet *ifp)
{
	unsigned ds = in6_addrscope(dst), as = in6_addrscope(&a->ia_addr),
	         bs = in6_addrscope(&b->ia_addr);
	int ad = (a->ia6_flags & IN6_IFF_DEPRECATED) != 0,
	    bd = (b->ia6_flags & IN6_IFF_DEPRECATED) != 0;

	/* Rule 1: the destination itself. */
	if (in6_are_addr_equal(&a->ia_addr, dst) != in6_are_addr_equal(&b->ia_addr, dst))
		return (in6_are_addr_equal(&a->ia_addr, dst));
	/* Rule 2: the smallest scope at least the destination's, else the
	 * largest. */
	if (as != bs) {
		if (as < bs)
			return (as >= ds);
		return (bs < ds);
	}
	/* Rule 3: avoid deprecated addresses. */
	if (ad != bd)
		return (!ad);
	/* Rule 5: the outgoing interface's. */
	if (ifp != NULL && (a->ia_ifp == ifp) != (b->ia_ifp == ifp))
		return (a->ia_ifp == ifp);
	/* Rule 8: longest matching prefix. */
	return (in6_matchlen(&a->ia_addr, dst) > in6_matchlen(&b->ia_addr, dst));
}

int
in6_selectsrc(struct ust_stack *st, const struct in6_addr *dst, uint32_t zoneid, struct ifnet *ifp,
    struct in6_addr *src)
{
	struct in6_ifaddr *ia, *best = NULL;
	int scoped = in6_is_scoped(dst);

	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next) {
		if (ia->ia6_flags & (IN6_IFF_NOTREADY | IN6_IFF_ANYCAST | IN6_IFF_DETACHED))
			continue;
		if (ia->ia6_flags & IN6_IFF_DEPRECATED && !V(st, ip6_use_deprecated))
			continue;
		/* A scoped destination's packets leave on its zone's link:
		 * only that interface's addresses make sense. */
		if (scoped &&
		    ((zoneid != 0 && ia->ia_ifp->if_index != zoneid) ||
		        (ifp != NULL && ia->ia_ifp != ifp)))
			continue;
		/* A link-local source never leaves its link. */
		if (IN6_IS_ADDR_LINKLOCAL(&ia->ia_addr) && ifp != NULL && ia->ia_ifp != ifp)
			continue;
		if (best == NULL || in6_src_better(ia, best, dst, ifp))
			best = ia;
	}
	if (best == NULL)
		return (UST_EADDRNOTAVAIL);
	*src = best->ia_addr;
	return (0);
}
