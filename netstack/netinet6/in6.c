/*
 * in6.c - the IPv6 addresses of the interfaces and their groups (FreeBSD
 * netinet6/in6.c, in6_mcast.c reduced): adding and removing addresses
 * with their connected routes and solicited-node groups, the lookups the
 * datapath uses, and the per-interface state made when an interface
 * arrives (dom_ifattach).
 *
 * An address is tentative while DAD runs (nd6_nbr.c) unless
 * UST_IN6_IFF_NODAD; the first one of an interface brings its link-local
 * address (in6_ifattach.c).
 */
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

#define IN6_IFADDR_MAX 32 /* addresses per interface (ustack) */

struct in6_ifaddr *
in6ifa_find(struct ust_stack *st, const struct in6_addr *a, const struct ifnet *ifp)
{
	struct in6_ifaddr *ia;

	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (in6_are_addr_equal(&ia->ia_addr, a) && (ifp == NULL || ia->ia_ifp == ifp))
			return (ia);
	return (NULL);
}

struct in6_ifaddr *
in6ifa_ifpforlinklocal(const struct ifnet *ifp, uint32_t ignoreflags)
{
	struct in6_ifaddr *ia;

	for (ia = ifp->if_stack->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp && IN6_IS_ADDR_LINKLOCAL(&ia->ia_addr) &&
		    (ia->ia6_flags & ignoreflags) == 0)
			return (ia);
	return (NULL);
}

int
in6_localip(struct ust_stack *st, const struct in6_addr *a)
{
	return (in6ifa_find(st, a, NULL) != NULL);
}

static struct in6_multi *
in6_multi_find(struct in6_ifextra *ext, const struct in6_addr *a)
{
	unsigned i;

	for (i = 0; i < IN6_MULTI_MAX; i++)
		if (ext->in6_mc[i].in6m_refcount != 0 &&
		    in6_are_addr_equal(&ext->in6_mc[i].in6m_addr, a))
			return (&ext->in6_mc[i]);
	return (NULL);
}

int
in6_mcast_member(struct ifnet *ifp, const struct in6_addr *a)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);

	return (ext != NULL && in6_multi_find(ext, a) != NULL);
}

int
in6_joingroup(struct ifnet *ifp, const struct in6_addr *a)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct in6_multi *inm;
	uint8_t mac[ETHER_ADDR_LEN];
	unsigned i;
	int error;

	if (ext == NULL)
		return (UST_ENETDOWN);
	if (!IN6_IS_ADDR_MULTICAST(a))
		return (UST_EINVAL);
	if ((inm = in6_multi_find(ext, a)) != NULL) {
		inm->in6m_refcount++;
		return (0);
	}
	for (i = 0; i < IN6_MULTI_MAX && ext->in6_mc[i].in6m_refcount != 0; i++)
		;
	if (i == IN6_MULTI_MAX)
		return (UST_ENOSPC);
	in6_mcast_mac(a, mac);
	if ((error = if_addmulti(ifp, mac)) != 0)
		return (error);
	inm = &ext->in6_mc[i];
	memset(inm, 0, sizeof(*inm));
	inm->in6m_addr = *a;
	inm->in6m_refcount = 1;
	mld_change(ifp, inm, 1);
	return (0);
}

int
in6_leavegroup(struct ifnet *ifp, const struct in6_addr *a)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct in6_multi *inm;
	uint8_t mac[ETHER_ADDR_LEN];

	if (ext == NULL || (inm = in6_multi_find(ext, a)) == NULL)
		return (UST_ENOENT);
	if (--inm->in6m_refcount != 0)
		return (0);
	inm->in6m_refcount = 1; /* MLD sees the group it is told about */
	mld_change(ifp, inm, 0);
	inm->in6m_refcount = 0;
	in6_mcast_mac(a, mac);
	(void)if_delmulti(ifp, mac);
	return (0);
}

static unsigned
in6_ifaddr_count(struct ust_stack *st, const struct ifnet *ifp)
{
	struct in6_ifaddr *ia;
	unsigned n = 0;

	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp)
			n++;
	return (n);
}

/* The connected route of an address: its prefix on its interface (none
 * for a /128), shared by the addresses of one prefix. */
static void
in6_ifaddr_route(struct in6_ifaddr *ia, int add)
{
	struct ust_stack *st = ia->ia_ifp->if_stack;
	struct in6_ifaddr *o;
	struct in6_addr pfx = ia->ia_addr;

	if (ia->ia_plen == 128 || IN6_IS_ADDR_LINKLOCAL(&ia->ia_addr))
		return; /* scoped destinations route by their zone */
	in6_prefix_mask(&pfx, ia->ia_plen);
	if (add) {
		(void)rt6_add(st, &pfx, ia->ia_plen, NULL, ia->ia_ifp, UST_RTF_UP, 0);
		return;
	}
	for (o = st->st_in6_ifaddrs; o != NULL; o = o->ia_next)
		if (o != ia && o->ia_ifp == ia->ia_ifp && o->ia_plen == ia->ia_plen &&
		    in6_prefix_match(&o->ia_addr, &pfx, ia->ia_plen))
			return;
	(void)rt6_del(st, &pfx, ia->ia_plen, ia->ia_ifp);
}

static void
in6_ifaddr_free(struct ust_stack *st, struct in6_ifaddr *ia)
{
	struct in6_addr sol;

	nd6_dad_stop(ia);
	callout_stop(&st->st_wheel, &ia->ia6_dadtimer);
	rt_gen_bump(st); /* cached routes may have checked this source */
	if (IN6_IFEXTRA(ia->ia_ifp) != NULL) {
		in6_solicited_node(&ia->ia_addr, &sol);
		(void)in6_leavegroup(ia->ia_ifp, &sol);
	}
	st_free(st, ia, sizeof(*ia));
}

int
in6_addr_add(struct ifnet *ifp, const struct in6_addr *a, unsigned plen, uint32_t flags,
    struct in6_ifaddr **out)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifaddr *ia, **pp;
	struct in6_addr sol;
	int error;

	if (IN6_IFEXTRA(ifp) == NULL || (ND_IFINFO(ifp)->flags & ND6_IFF_IFDISABLED))
		return (UST_ENETDOWN);
	if (plen > 128 || IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) ||
	    IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_V4MAPPED(a))
		return (UST_EINVAL);
	/* A global address is the stack's once; a link-local one is its
	 * link's (RFC 4007: the same fe80:: may sit on two links). */
	if (in6ifa_find(st, a, IN6_IS_ADDR_LINKLOCAL(a) ? ifp : NULL) != NULL)
		return (UST_EEXIST);
	if (in6_ifaddr_count(st, ifp) >= IN6_IFADDR_MAX)
		return (UST_ENOSPC);
	/* The first address configured starts IPv6 on the interface: its
	 * link-local address comes first (in6_ifattach). */
	if (!IN6_IS_ADDR_LINKLOCAL(a) && in6_ifaddr_count(st, ifp) == 0)
		in6_ifattach_linklocal(ifp);
	ia = st_malloc(st, sizeof(*ia));
	if (ia == NULL)
		return (UST_ENOMEM);
	ia->ia_ifp = ifp;
	ia->ia_addr = *a;
	ia->ia_plen = plen;
	ia->ia6_flags = flags;
	ia->ia6_createtime = stack_now(st);
	callout_init(&ia->ia6_dadtimer);
	/* RFC 4861 7.2.1: the solicited-node group of every address. */
	in6_solicited_node(a, &sol);
	if ((error = in6_joingroup(ifp, &sol)) != 0) {
		st_free(st, ia, sizeof(*ia));
		return (error);
	}
	for (pp = &st->st_in6_ifaddrs; *pp != NULL; pp = &(*pp)->ia_next)
		;
	*pp = ia;
	rt_gen_bump(st);
	in6_ifaddr_route(ia, 1);
	/* RFC 4862 5.4: DAD before use, except anycast, NODAD, and
	 * interfaces or stacks that do none. */
	if (!(flags & (IN6_IFF_NODAD | IN6_IFF_ANYCAST)) && V(st, ip6_dad_count) > 0 &&
	    !(ND_IFINFO(ifp)->flags & ND6_IFF_NO_DAD)) {
		ia->ia6_flags |= IN6_IFF_TENTATIVE;
		nd6_dad_start(ia, 0);
	}
	if (out != NULL)
		*out = ia;
	return (0);
}

int
in6_addr_del(struct ifnet *ifp, const struct in6_addr *a)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifaddr **pp, *ia;

	for (pp = &st->st_in6_ifaddrs; *pp != NULL; pp = &(*pp)->ia_next) {
		ia = *pp;
		if (ia->ia_ifp != ifp || !in6_are_addr_equal(&ia->ia_addr, a))
			continue;
		in6_ifaddr_route(ia, 0);
		*pp = ia->ia_next;
		in6_ifaddr_free(st, ia);
		return (0);
	}
	return (UST_EADDRNOTAVAIL);
}

void
in6_ifaddr_fini(struct ust_stack *st)
{
	struct in6_ifaddr *ia;

	while ((ia = st->st_in6_ifaddrs) != NULL) {
		st->st_in6_ifaddrs = ia->ia_next;
		in6_ifaddr_free(st, ia);
	}
}

void *
in6_domifattach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext;
	struct in6_addr allnodes = IN6ADDR_LINKLOCAL_ALLNODES_INIT;

	/* RFC 8200 5: a link IPv6 runs over carries 1280-byte packets. */
	if (ifp->if_mtu < IPV6_MMTU)
		return (NULL);
	ext = st_malloc(st, sizeof(*ext));
	if (ext == NULL)
		return (NULL);
	nd6_ifinfo_init(ifp, &ext->nd_ifinfo);
	ifp->if_afdata[IF_AFDATA_INET6] = ext;
	rt_gen_bump(st);
	/* RFC 4291 2.8: every node listens to all-nodes. */
	(void)in6_joingroup(ifp, &allnodes);
	in6_ifattach(ifp);
	return (ext);
}

void
in6_domifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct in6_ifaddr **pp, *ia;
	unsigned i;
	uint8_t mac[ETHER_ADDR_LEN];

	if (ext == NULL)
		return;
	in6_ifdetach(ifp);
	pp = &st->st_in6_ifaddrs;
	while ((ia = *pp) != NULL) {
		if (ia->ia_ifp != ifp) {
			pp = &ia->ia_next;
			continue;
		}
		*pp = ia->ia_next;
		in6_ifaddr_free(st, ia);
	}
	for (i = 0; i < IN6_MULTI_MAX; i++) {
		if (ext->in6_mc[i].in6m_refcount == 0)
			continue;
		/* One link-layer reference per group, whatever its count. */
		in6_mcast_mac(&ext->in6_mc[i].in6m_addr, mac);
		(void)if_delmulti(ifp, mac);
		ext->in6_mc[i].in6m_refcount = 0;
	}
	rt6_ifdetach(ifp);
	nd6_ifdetach(ifp);
	ifp->if_afdata[IF_AFDATA_INET6] = NULL;
	rt_gen_bump(st);
	st_free(st, ext, sizeof(*ext));
}

/* ---------------------------------------------------------------------
 * The public calls (ifconfig inet6).
 * ------------------------------------------------------------------- */

int
ust_if_addr6_add(struct ust_if *uifp, const struct ust_in6_addr *addr, unsigned prefixlen,
    unsigned flags)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);

	if (uifp == NULL || addr == NULL)
		return (-UST_EINVAL);
	if (flags & ~(unsigned)(UST_IN6_IFF_NODAD | UST_IN6_IFF_ANYCAST))
		return (-UST_EINVAL);
	return (-in6_addr_add(ifp, addr, prefixlen, flags, NULL));
}

int
ust_if_addr6_del(struct ust_if *uifp, const struct ust_in6_addr *addr)
{
	if (uifp == NULL || addr == NULL)
		return (-UST_EINVAL);
	return (-in6_addr_del(IFP_FROM_UST(uifp), addr));
}

int
ust_if_addr6_get(const struct ust_if *uifp, unsigned idx, struct ust_in6_addr *addr,
    unsigned *prefixlen, unsigned *flags)
{
	const struct ifnet *ifp = (const struct ifnet *)(const void *)uifp;
	struct in6_ifaddr *ia;

	if (uifp == NULL || addr == NULL)
		return (-UST_EINVAL);
	for (ia = ifp->if_stack->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next) {
		if (ia->ia_ifp != ifp)
			continue;
		if (idx-- > 0)
			continue;
		*addr = ia->ia_addr;
		if (prefixlen != NULL)
			*prefixlen = ia->ia_plen;
		if (flags != NULL)
			*flags = ia->ia6_flags & 0xff;
		return (0);
	}
	return (-UST_ENOENT);
}
