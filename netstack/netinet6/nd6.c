/*
 * nd6.c - the neighbor cache (RFC 4861 7.3; FreeBSD netinet6/nd6.c):
 * entries by interface and address, address resolution for ip6_output
 * (nd6_output, nd6_resolve), the multicast mapping (RFC 2464 7), and the
 * static entries of ndp -s.
 *
 * First version by the datapath: static entries and entries learned from
 * the wire (nd6_cache_lladdr) resolve; an unknown neighbor is
 * unreachable (no solicitation yet, no NUD timers, no hold queue).  The
 * nd6 track owns it from here.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/nd6.h"

struct llentry6 {
	struct llentry6 *ln_next;
	struct ifnet *ln_ifp;
	struct in6_addr ln_addr;
	uint8_t ln_mac[ETHER_ADDR_LEN];
	int ln_state;       /* ND6_LLINFO_* */
	uint32_t ln_flags;  /* UST_ND6_STATIC, UST_ND6_ISROUTER */
	uint64_t ln_expire; /* stack time; 0 none */
	struct mbuf *ln_hold;
	uint32_t ln_nhold;
};

struct nd6_state {
	struct llentry6 *nd_list; /* insertion order (ust_nd6_get) */
	unsigned nd_count;
};

int
nd6_init(struct ust_stack *st)
{
	st->st_nd6 = st_malloc(st, sizeof(*st->st_nd6));
	return (st->st_nd6 == NULL ? UST_ENOMEM : 0);
}

static void
nd6_free_entry(struct ust_stack *st, struct llentry6 **pp)
{
	struct llentry6 *ln = *pp;
	struct mbuf *m;

	*pp = ln->ln_next;
	while ((m = ln->ln_hold) != NULL) {
		ln->ln_hold = m->m_nextpkt;
		m->m_nextpkt = NULL;
		m_freem(m);
	}
	st->st_nd6->nd_count--;
	st_free(st, ln, sizeof(*ln));
}

void
nd6_fini(struct ust_stack *st)
{
	if (st->st_nd6 == NULL)
		return;
	while (st->st_nd6->nd_list != NULL)
		nd6_free_entry(st, &st->st_nd6->nd_list);
	st_free(st, st->st_nd6, sizeof(*st->st_nd6));
	st->st_nd6 = NULL;
}

/* ReachableTime: BaseReachableTime times a uniform factor in [0.5, 1.5)
 * (RFC 4861 6.3.2). */
static uint32_t
nd6_compute_reachable(struct ust_stack *st, uint32_t base)
{
	uint32_t f =
	    MIN_RANDOM_FACTOR + ust_rng_u32(&st->st_rng) % (MAX_RANDOM_FACTOR - MIN_RANDOM_FACTOR);

	return ((uint32_t)(((uint64_t)base * f) >> 10));
}

void
nd6_ifinfo_init(struct ifnet *ifp, struct nd_ifinfo *ndi)
{
	struct ust_stack *st = ifp->if_stack;

	memset(ndi, 0, sizeof(*ndi));
	ndi->maxmtu = ifp->if_mtu;
	ndi->basereachable = REACHABLE_TIME;
	ndi->reachable = nd6_compute_reachable(st, REACHABLE_TIME);
	ndi->retrans = RETRANS_TIMER;
	ndi->chlim = (uint8_t)V(st, ip6_hlim);
	ndi->flags = ND6_IFF_PERFORMNUD;
	if (V(st, ip6_accept_rtadv))
		ndi->flags |= ND6_IFF_ACCEPT_RTADV;
	if (V(st, ip6_no_radr))
		ndi->flags |= ND6_IFF_NO_RADR;
	if (V(st, ip6_auto_linklocal))
		ndi->flags |= ND6_IFF_AUTO_LINKLOCAL;
}

static struct llentry6 **
nd6_lookup_pp(struct ust_stack *st, const struct ifnet *ifp, const struct in6_addr *a)
{
	struct llentry6 **pp;

	for (pp = &st->st_nd6->nd_list; *pp != NULL; pp = &(*pp)->ln_next)
		if ((*pp)->ln_ifp == ifp && in6_are_addr_equal(&(*pp)->ln_addr, a))
			return (pp);
	return (NULL);
}

static struct llentry6 *
nd6_new_entry(struct ust_stack *st, struct ifnet *ifp, const struct in6_addr *a)
{
	struct llentry6 *ln, **pp;

	if ((int64_t)st->st_nd6->nd_count >= V(st, nd6_maxentries)) {
		ICMP6STAT_INC(st, icp6s_overflownndp);
		return (NULL);
	}
	ln = st_malloc(st, sizeof(*ln));
	if (ln == NULL)
		return (NULL);
	ln->ln_ifp = ifp;
	ln->ln_addr = *a;
	ln->ln_state = ND6_LLINFO_INCOMPLETE;
	for (pp = &st->st_nd6->nd_list; *pp != NULL; pp = &(*pp)->ln_next)
		;
	*pp = ln;
	st->st_nd6->nd_count++;
	return (ln);
}

void
nd6_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 **pp;

	if (st->st_nd6 == NULL)
		return;
	pp = &st->st_nd6->nd_list;
	while (*pp != NULL) {
		if ((*pp)->ln_ifp == ifp)
			nd6_free_entry(st, pp);
		else
			pp = &(*pp)->ln_next;
	}
}

void
nd6_cache_lladdr(struct ifnet *ifp, const struct in6_addr *from, const uint8_t *lladdr, int type,
    int code)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 **pp, *ln;

	(void)type, (void)code;
	if (st->st_nd6 == NULL || lladdr == NULL || IN6_IS_ADDR_UNSPECIFIED(from) ||
	    IN6_IS_ADDR_MULTICAST(from))
		return;
	pp = nd6_lookup_pp(st, ifp, from);
	ln = pp != NULL ? *pp : nd6_new_entry(st, ifp, from);
	if (ln == NULL || (ln->ln_flags & UST_ND6_STATIC))
		return;
	/* RFC 4861 7.2.3: a new or changed address makes the entry STALE. */
	if (ln->ln_state == ND6_LLINFO_INCOMPLETE ||
	    memcmp(ln->ln_mac, lladdr, ETHER_ADDR_LEN) != 0) {
		memcpy(ln->ln_mac, lladdr, ETHER_ADDR_LEN);
		ln->ln_state = ND6_LLINFO_STALE;
		ln->ln_expire = stack_now(st) + (uint64_t)V(st, nd6_gctimer) * 1000000000u;
	}
}

int
nd6_resolve(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *addr,
    uint8_t mac[ETHER_ADDR_LEN])
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 **pp;

	if (IN6_IS_ADDR_MULTICAST(addr)) {
		in6_mcast_mac(addr, mac);
		return (0);
	}
	if (st->st_nd6 != NULL && (pp = nd6_lookup_pp(st, ifp, addr)) != NULL &&
	    (*pp)->ln_state != ND6_LLINFO_INCOMPLETE) {
		memcpy(mac, (*pp)->ln_mac, ETHER_ADDR_LEN);
		return (0);
	}
	/* filled by nd6: solicit (RFC 4861 7.2.2) and hold m. */
	m_freem(m);
	return (UST_EHOSTUNREACH);
}

int
nd6_output(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *nexthop)
{
	uint8_t mac[ETHER_ADDR_LEN];
	int error;

	error = nd6_resolve(ifp, m, nexthop, mac);
	if (error == UST_EWOULDBLOCK)
		return (0); /* held until the neighbor answers */
	if (error != 0) {
		ETHERSTAT_INC(ifp->if_stack, ether_noresolve);
		return (error);
	}
	return (ether_output_frame(ifp, m, mac, ETHERTYPE_IPV6));
}

/* ---------------------------------------------------------------------
 * The public calls (ndp -s / -d / -a).
 * ------------------------------------------------------------------- */

static void
nd6_entry_info(const struct llentry6 *ln, struct ust_nd6_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = ln->ln_addr;
	memcpy(out->mac, ln->ln_mac, ETHER_ADDR_LEN);
	out->state = ln->ln_state;
	out->ifindex = ln->ln_ifp->if_index;
	out->flags = ln->ln_flags;
	out->expire_ns = (ln->ln_flags & UST_ND6_STATIC) ? 0 : ln->ln_expire;
	out->held = ln->ln_nhold;
}

int
ust_nd6_add_static(struct ust_if *uifp, const struct ust_in6_addr *addr, const uint8_t mac[6])
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct ust_stack *st;
	struct llentry6 **pp, *ln;
	struct mbuf *m;

	if (uifp == NULL || addr == NULL || mac == NULL)
		return (-UST_EINVAL);
	st = ifp->if_stack;
	if (st->st_nd6 == NULL || IN6_IFEXTRA(ifp) == NULL)
		return (-UST_ENETDOWN);
	if (IN6_IS_ADDR_UNSPECIFIED(addr) || IN6_IS_ADDR_MULTICAST(addr) || (mac[0] & 1))
		return (-UST_EINVAL);
	pp = nd6_lookup_pp(st, ifp, addr);
	ln = pp != NULL ? *pp : nd6_new_entry(st, ifp, addr);
	if (ln == NULL)
		return (-UST_ENOSPC);
	memcpy(ln->ln_mac, mac, ETHER_ADDR_LEN);
	ln->ln_state = ND6_LLINFO_REACHABLE;
	ln->ln_flags = UST_ND6_STATIC;
	ln->ln_expire = 0;
	/* Packets that waited for it go now. */
	while ((m = ln->ln_hold) != NULL) {
		ln->ln_hold = m->m_nextpkt;
		m->m_nextpkt = NULL;
		ln->ln_nhold--;
		(void)ether_output_frame(ifp, m, ln->ln_mac, ETHERTYPE_IPV6);
	}
	return (0);
}

int
ust_nd6_del(struct ust_if *uifp, const struct ust_in6_addr *addr)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct llentry6 **pp;

	if (uifp == NULL || addr == NULL)
		return (-UST_EINVAL);
	if (ifp->if_stack->st_nd6 == NULL || (pp = nd6_lookup_pp(ifp->if_stack, ifp, addr)) == NULL)
		return (-UST_ENOENT);
	nd6_free_entry(ifp->if_stack, pp);
	return (0);
}

int
ust_nd6_lookup(struct ust_stack *st, const struct ust_in6_addr *addr, unsigned scope_id,
    struct ust_nd6_entry *out)
{
	struct llentry6 *ln;

	if (st == NULL || addr == NULL || out == NULL || st->st_nd6 == NULL)
		return (-UST_EINVAL);
	for (ln = st->st_nd6->nd_list; ln != NULL; ln = ln->ln_next) {
		if (!in6_are_addr_equal(&ln->ln_addr, addr))
			continue;
		if (scope_id != 0 && ln->ln_ifp->if_index != scope_id)
			continue;
		nd6_entry_info(ln, out);
		return (0);
	}
	return (-UST_ENOENT);
}

int
ust_nd6_get(struct ust_stack *st, unsigned idx, struct ust_nd6_entry *out)
{
	struct llentry6 *ln;

	if (st == NULL || out == NULL || st->st_nd6 == NULL)
		return (-UST_EINVAL);
	for (ln = st->st_nd6->nd_list; ln != NULL && idx > 0; ln = ln->ln_next)
		idx--;
	if (ln == NULL)
		return (-UST_ENOENT);
	nd6_entry_info(ln, out);
	return (0);
}
