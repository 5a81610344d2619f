/*
 * in.c - IPv4 interface addresses (FreeBSD netinet/in.c): adding and
 * removing addresses with their connected routes, and the questions the
 * other layers ask about addresses (is it ours, is it a broadcast, which
 * source address to use).
 *
 *   ust_if_addr_add() -> rt_add_connected() -> arp_announce()
 *   ust_if_addr_del() -> rt_del_connected()
 *   ust_if_detach() -> in_ifdetach() -> rt_ifdetach(), arp_ifdetach()
 *   ust_stack_destroy() -> in_ifaddr_fini()
 *
 * The stack's addresses form one list (st->st_in_ifaddrs) in the order they
 * were added, so "the first address of an interface" is the oldest one.
 * Addresses are few (a handful per interface), so a list walk is the
 * lookup; the per-packet questions (in_localip) cost one short walk.
 *
 * Every change of the list bumps the routing generation (rt_gen_bump):
 * whether an address is ours or a broadcast, and the source a route
 * picks, are what PCBs cache (struct inp_route).
 *
 * Point-to-point prefixes: a /31 (RFC 3021) and a /32 have no directed
 * broadcast address; ia_broadaddr is INADDR_ANY for them.
 */
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet/if_ether.h"
#include "netinet/in_var.h"

static int
in_addr_usable(uint32_t a)
{
	/* RFC 1122 3.2.1.3: never 0.0.0.0, 0/8 ("this network"), loopback,
	 * limited broadcast, class D (multicast) or class E as a host address. */
	if (a == INADDR_ANY || a == INADDR_BROADCAST)
		return (0);
	if (IN_ZERONET(a) || IN_LOOPBACK(a) || IN_MULTICAST(a) || IN_BADCLASS(a))
		return (0);
	return (1);
}

struct in_ifaddr *
in_ifaddr_find(struct ust_stack *st, struct in_addr a)
{
	struct in_ifaddr *ia;

	if (st == NULL)
		return (NULL);
	for (ia = st->st_in_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_addr.s_addr == a.s_addr)
			return (ia);
	return (NULL);
}

int
in_localip(struct ust_stack *st, struct in_addr a)
{
	return (in_ifaddr_find(st, a) != NULL);
}

int
in_broadcast(struct in_addr a, const struct ifnet *ifp)
{
	const struct in_ifaddr *ia;

	if (a.s_addr == htonl(INADDR_BROADCAST) || a.s_addr == htonl(INADDR_ANY))
		return (1);
	if (ifp == NULL || ifp->if_stack == NULL)
		return (0);
	/* Directed broadcast of one of ifp's subnets; none for /31 (RFC
	 * 3021) and /32, whose ia_broadaddr stays INADDR_ANY. */
	for (ia = ifp->if_stack->st_in_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp && ia->ia_plen <= 30 && a.s_addr == ia->ia_broadaddr.s_addr)
			return (1);
	return (0);
}

struct in_ifaddr *
in_ifaddr_first(struct ust_stack *st, const struct ifnet *ifp)
{
	struct in_ifaddr *ia;

	if (st == NULL)
		return (NULL);
	for (ia = st->st_in_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp)
			return (ia);
	return (NULL);
}

/* Another address of ifp in the same subnet as ia (it keeps the route). */
static struct in_ifaddr *
in_ifaddr_samenet(struct ust_stack *st, const struct in_ifaddr *ia)
{
	struct in_ifaddr *o;

	for (o = st->st_in_ifaddrs; o != NULL; o = o->ia_next)
		if (o != ia && o->ia_ifp == ia->ia_ifp && o->ia_plen == ia->ia_plen &&
		    (o->ia_addr.s_addr & ia->ia_netmask.s_addr) ==
		        (ia->ia_addr.s_addr & ia->ia_netmask.s_addr))
			return (o);
	return (NULL);
}

static void
in_ifaddr_unlink(struct ust_stack *st, struct in_ifaddr *ia)
{
	struct in_ifaddr **pp;

	for (pp = &st->st_in_ifaddrs; *pp != NULL; pp = &(*pp)->ia_next) {
		if (*pp == ia) {
			*pp = ia->ia_next;
			ia->ia_next = NULL;
			rt_gen_bump(st);
			return;
		}
	}
}

void
in_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct in_ifaddr **pp, *ia;

	pp = &st->st_in_ifaddrs;
	while ((ia = *pp) != NULL) {
		if (ia->ia_ifp != ifp) {
			pp = &ia->ia_next;
			continue;
		}
		*pp = ia->ia_next;
		st_free(st, ia, sizeof(*ia));
	}
	rt_gen_bump(st);
	rt_ifdetach(st, ifp);
	arp_ifdetach(ifp);
}

void
in_ifaddr_fini(struct ust_stack *st)
{
	struct in_ifaddr *ia;

	while ((ia = st->st_in_ifaddrs) != NULL) {
		st->st_in_ifaddrs = ia->ia_next;
		st_free(st, ia, sizeof(*ia));
	}
}

int
ust_if_addr_add(struct ust_if *uifp, uint32_t addr, unsigned prefixlen)
{
	struct ifnet *ifp;
	struct ust_stack *st;
	struct in_ifaddr *ia, **pp;
	struct in_addr a, net;
	uint32_t ha, mask;
	int error;

	if (uifp == NULL || prefixlen > 32)
		return (-UST_EINVAL);
	ifp = IFP_FROM_UST(uifp);
	st = ifp->if_stack;
	ha = ntohl(addr);
	if (!in_addr_usable(ha))
		return (-UST_EINVAL);
	mask = in_plen_mask(prefixlen);
	/* RFC 1122 3.2.1.3: on a subnet with a broadcast address the host
	 * part may be neither all zeros nor all ones.  /31 and /32 have no
	 * such addresses (RFC 3021). */
	if (prefixlen <= 30 && ((ha & ~mask) == 0 || (ha & ~mask) == ~mask))
		return (-UST_EINVAL);
	a.s_addr = addr;
	if (in_ifaddr_find(st, a) != NULL)
		return (-UST_EEXIST);
	ia = st_malloc(st, sizeof(*ia));
	if (ia == NULL)
		return (-UST_ENOMEM);
	ia->ia_ifp = ifp;
	ia->ia_addr = a;
	ia->ia_netmask.s_addr = htonl(mask);
	ia->ia_plen = (uint8_t)prefixlen;
	ia->ia_broadaddr.s_addr = prefixlen <= 30 ? htonl(ha | ~mask) : htonl(INADDR_ANY);
	net.s_addr = htonl(ha & mask);
	/* A second address in a subnet ifp already has shares its route. */
	if (in_ifaddr_samenet(st, ia) == NULL) {
		error = rt_add_connected(st, ifp, net, prefixlen, a);
		if (error != 0 && error != UST_EEXIST) {
			st_free(st, ia, sizeof(*ia));
			return (-error);
		}
	}
	for (pp = &st->st_in_ifaddrs; *pp != NULL; pp = &(*pp)->ia_next)
		continue;
	*pp = ia;
	rt_gen_bump(st);
	/* RFC 5227 3: announce the new address so that neighbours update
	 * stale cache entries. */
	arp_announce(ifp, a);
	return (0);
}

int
ust_if_addr_del(struct ust_if *uifp, uint32_t addr)
{
	struct ifnet *ifp;
	struct ust_stack *st;
	struct in_ifaddr *ia;
	struct in_addr a, net;

	if (uifp == NULL)
		return (-UST_EINVAL);
	ifp = IFP_FROM_UST(uifp);
	st = ifp->if_stack;
	a.s_addr = addr;
	ia = in_ifaddr_find(st, a);
	if (ia == NULL || ia->ia_ifp != ifp)
		return (-UST_EADDRNOTAVAIL);
	in_ifaddr_unlink(st, ia);
	if (in_ifaddr_samenet(st, ia) == NULL) {
		net.s_addr = ia->ia_addr.s_addr & ia->ia_netmask.s_addr;
		rt_del_connected(st, ifp, net, ia->ia_plen);
	}
	st_free(st, ia, sizeof(*ia));
	return (0);
}

int
ust_if_addr_get(const struct ust_if *uifp, unsigned idx, uint32_t *addr, unsigned *prefixlen)
{
	const struct ifnet *ifp;
	const struct in_ifaddr *ia;

	if (uifp == NULL)
		return (-UST_EINVAL);
	ifp = (const struct ifnet *)(const void *)uifp;
	for (ia = ifp->if_stack->st_in_ifaddrs; ia != NULL; ia = ia->ia_next) {
		if (ia->ia_ifp != ifp)
			continue;
		if (idx-- == 0) {
			if (addr != NULL)
				*addr = ia->ia_addr.s_addr;
			if (prefixlen != NULL)
				*prefixlen = ia->ia_plen;
			return (0);
		}
	}
	return (-UST_ENOENT);
}
