/*
 * scope6.c - zones of scoped addresses (RFC 4007 6, 11; FreeBSD
 * netinet6/scope6.c reduced to ustack's zone model: the link zone of an
 * interface is its index, every other scope has one zone).
 */
#include "kern/stack_var.h"
#include "netinet6/in6_var.h"
#include "netinet6/scope6_var.h"

static int
in6_linkscoped(const struct in6_addr *a)
{
	return (IN6_IS_SCOPE_LINKLOCAL(a) || IN6_IS_ADDR_MC_INTFACELOCAL(a));
}

int
in6_setscope(struct ust_stack *st, const struct in6_addr *a, uint32_t scope_id, uint32_t *zone)
{
	struct ifnet *ifp;
	unsigned i;

	*zone = 0;
	if (!in6_linkscoped(a))
		return (0);
	if (scope_id == 0) {
		if (!V(st, ip6_use_defaultzone))
			return (UST_EINVAL);
		for (i = 0; i < st->st_nifnet; i++) {
			if (IN6_IFEXTRA(st->st_ifnet[i]) != NULL) {
				*zone = st->st_ifnet[i]->if_index;
				return (0);
			}
		}
		return (UST_EINVAL);
	}
	ifp = ifnet_byindex(st, scope_id);
	if (ifp == NULL || IN6_IFEXTRA(ifp) == NULL)
		return (UST_ENODEV);
	*zone = scope_id;
	return (0);
}

uint32_t
in6_getscopezone(const struct ifnet *ifp, const struct in6_addr *a)
{
	return (in6_linkscoped(a) ? ifp->if_index : 0);
}
