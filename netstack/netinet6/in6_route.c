/*
 * in6_route.c - the IPv6 routing table of a host and its path MTU cache
 * (FreeBSD's inet6 FIB and the host cache's MTU, reduced): a bounded list
 * with longest-prefix match, connected routes made by addresses, static
 * routes from the user, default and prefix routes from router discovery
 * (nd6_rtr.c, with a lifetime), and per-destination path MTUs learned
 * from Packet Too Big (RFC 8201), which expire.
 *
 * Scoped destinations (link-local unicast, interface- and link-local
 * multicast, RFC 4007) need no table: they are on-link on the interface
 * their zone names.
 *
 * Every change of a route or a path MTU bumps the routing generation
 * (rt_gen_bump, shared with IPv4): connected sockets cache their route
 * (in6_route_get).  Lifetimes need no bump: a cached route carries the
 * time its route or path MTU ends.
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_route.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

struct rt6_entry {
	struct rt6_entry *rt_next;
	struct in6_addr rt_dst; /* masked to rt_plen */
	unsigned rt_plen;
	struct in6_addr rt_gw; /* :: when on-link */
	struct ifnet *rt_ifp;
	uint32_t rt_flags;  /* UST_RTF_* */
	uint32_t rt_mtu;    /* 0: the interface's */
	uint64_t rt_expire; /* stack time; 0: never */
};

struct pmtu6_entry {
	struct pmtu6_entry *pm_next;
	struct in6_addr pm_dst;
	uint32_t pm_mtu;
	uint64_t pm_expire;
};

struct rt6_table {
	struct rt6_entry *rt_list; /* insertion order (ust_route6_get) */
	unsigned rt_count;
	struct pmtu6_entry *pm_list;
	unsigned pm_count;
};

int
rt6_init(struct ust_stack *st)
{
	st->st_rt6 = st_malloc(st, sizeof(*st->st_rt6));
	return (st->st_rt6 == NULL ? UST_ENOMEM : 0);
}

void
rt6_fini(struct ust_stack *st)
{
	struct rt6_table *t = st->st_rt6;
	struct rt6_entry *rt;
	struct pmtu6_entry *pm;

	if (t == NULL)
		return;
	while ((rt = t->rt_list) != NULL) {
		t->rt_list = rt->rt_next;
		st_free(st, rt, sizeof(*rt));
	}
	while ((pm = t->pm_list) != NULL) {
		t->pm_list = pm->pm_next;
		st_free(st, pm, sizeof(*pm));
	}
	st_free(st, t, sizeof(*t));
	st->st_rt6 = NULL;
}

static void
rt6_unlink(struct ust_stack *st, struct rt6_entry **pp)
{
	struct rt6_entry *rt = *pp;

	*pp = rt->rt_next;
	st->st_rt6->rt_count--;
	st_free(st, rt, sizeof(*rt));
	rt_gen_bump(st);
}

/* Drops the routes whose lifetime ended. */
static void
rt6_expire(struct ust_stack *st, uint64_t now)
{
	struct rt6_entry **pp = &st->st_rt6->rt_list;

	while (*pp != NULL) {
		if ((*pp)->rt_expire != 0 && (*pp)->rt_expire <= now)
			rt6_unlink(st, pp);
		else
			pp = &(*pp)->rt_next;
	}
}

/* The longest prefix covering dst (on-link only when onlink). */
static struct rt6_entry *
rt6_match(struct ust_stack *st, const struct in6_addr *dst, int onlink)
{
	struct rt6_entry *rt, *best = NULL;

	rt6_expire(st, stack_now(st));
	for (rt = st->st_rt6->rt_list; rt != NULL; rt = rt->rt_next) {
		if (onlink && (rt->rt_flags & UST_RTF_GATEWAY))
			continue;
		if (!in6_prefix_match(&rt->rt_dst, dst, rt->rt_plen))
			continue;
		if (best == NULL || rt->rt_plen > best->rt_plen)
			best = rt;
	}
	return (best);
}

static struct rt6_entry *
rt6_find(struct ust_stack *st, const struct in6_addr *dst, unsigned plen, const struct ifnet *ifp)
{
	struct rt6_entry *rt;

	for (rt = st->st_rt6->rt_list; rt != NULL; rt = rt->rt_next)
		if (rt->rt_plen == plen && in6_are_addr_equal(&rt->rt_dst, dst) &&
		    (ifp == NULL || rt->rt_ifp == ifp))
			return (rt);
	return (NULL);
}

/* The MTU IPv6 may use on ifp: an RA's link MTU, else the interface's. */
static uint32_t
in6_ifmtu(struct ifnet *ifp)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);

	if (ext != NULL && ext->nd_ifinfo.linkmtu != 0 && ext->nd_ifinfo.linkmtu < ifp->if_mtu)
		return (ext->nd_ifinfo.linkmtu);
	return (ifp->if_mtu);
}

static struct pmtu6_entry *
pmtu6_find(struct ust_stack *st, const struct in6_addr *dst, uint64_t now)
{
	struct pmtu6_entry **pp = &st->st_rt6->pm_list, *pm;

	while ((pm = *pp) != NULL) {
		if (pm->pm_expire <= now) {
			*pp = pm->pm_next;
			st->st_rt6->pm_count--;
			st_free(st, pm, sizeof(*pm));
			continue;
		}
		if (in6_are_addr_equal(&pm->pm_dst, dst))
			return (pm);
		pp = &pm->pm_next;
	}
	return (NULL);
}

uint32_t
pmtu6_lookup(struct ust_stack *st, const struct in6_addr *dst)
{
	struct pmtu6_entry *pm;

	if (st->st_rt6 == NULL)
		return (0);
	pm = pmtu6_find(st, dst, stack_now(st));
	return (pm != NULL ? pm->pm_mtu : 0);
}

void
pmtu6_update(struct ust_stack *st, const struct in6_addr *dst, uint32_t mtu)
{
	struct pmtu6_entry *pm, *oldest;
	struct nhop6 nh;
	uint64_t now = stack_now(st);

	if (st->st_rt6 == NULL)
		return;
	/* RFC 8201 4: never below the minimum link MTU (and no atomic
	 * fragments to make up for it, RFC 8021). */
	if (mtu < IPV6_MMTU) {
		ICMP6STAT_INC(st, icp6s_ptbsmall);
		return;
	}
	/* Only a decrease below what the path allows now counts. */
	if (rt6_lookup(st, dst, 0, &nh) == 0 && mtu >= nh.nh_mtu)
		return;
	pm = pmtu6_find(st, dst, now);
	if (pm == NULL) {
		if (st->st_rt6->pm_count >= RT6_MAXPMTU) {
			/* Full: the entry closest to expiry gives way. */
			oldest = st->st_rt6->pm_list;
			for (pm = oldest; pm != NULL; pm = pm->pm_next)
				if (pm->pm_expire < oldest->pm_expire)
					oldest = pm;
			pm = oldest;
		} else {
			pm = st_malloc(st, sizeof(*pm));
			if (pm == NULL)
				return;
			pm->pm_next = st->st_rt6->pm_list;
			st->st_rt6->pm_list = pm;
			st->st_rt6->pm_count++;
		}
		pm->pm_dst = *dst;
	}
	pm->pm_mtu = mtu;
	pm->pm_expire = now + (uint64_t)V(st, ip6_pmtu_expire) * 1000000000u;
	ICMP6STAT_INC(st, icp6s_pmtuchg);
	rt_gen_bump(st);
}

int
rt6_lookup(struct ust_stack *st, const struct in6_addr *dst, uint32_t zoneid, struct nhop6 *nh)
{
	struct rt6_entry *rt;
	struct pmtu6_entry *pm;
	struct ifnet *ifp;

	memset(nh, 0, sizeof(*nh));
	if (st->st_rt6 == NULL)
		return (UST_ENETUNREACH);
	if (in6_is_scoped(dst)) {
		/* RFC 4007 6: the zone decides the link; no default zone
		 * unless net.inet6.ip6.use_defaultzone (the first
		 * interface with IPv6). */
		ifp = zoneid != 0 ? ifnet_byindex(st, zoneid) : NULL;
		if (ifp == NULL && zoneid == 0 && V(st, ip6_use_defaultzone)) {
			unsigned i;

			for (i = 0; i < st->st_nifnet && ifp == NULL; i++)
				if (IN6_IFEXTRA(st->st_ifnet[i]) != NULL)
					ifp = st->st_ifnet[i];
		}
		if (ifp == NULL || IN6_IFEXTRA(ifp) == NULL)
			return (zoneid == 0 ? UST_EINVAL : UST_ENETUNREACH);
		nh->nh_ifp = ifp;
		nh->nh_addr = *dst;
		nh->nh_mtu = in6_ifmtu(ifp);
		nh->nh_flags = UST_RTF_UP;
		return (0);
	}
	rt = rt6_match(st, dst, 0);
	if (rt == NULL || IN6_IFEXTRA(rt->rt_ifp) == NULL)
		return (UST_ENETUNREACH);
	nh->nh_ifp = rt->rt_ifp;
	nh->nh_addr = (rt->rt_flags & UST_RTF_GATEWAY) ? rt->rt_gw : *dst;
	nh->nh_mtu = in6_ifmtu(rt->rt_ifp);
	if (rt->rt_mtu != 0 && rt->rt_mtu < nh->nh_mtu)
		nh->nh_mtu = rt->rt_mtu;
	nh->nh_expire = rt->rt_expire;
	if ((pm = pmtu6_find(st, dst, stack_now(st))) != NULL) {
		if (pm->pm_mtu < nh->nh_mtu)
			nh->nh_mtu = pm->pm_mtu;
		/* Its end may raise the MTU again: a cached copy ends too. */
		if (nh->nh_expire == 0 || pm->pm_expire < nh->nh_expire)
			nh->nh_expire = pm->pm_expire;
	}
	nh->nh_flags = rt->rt_flags;
	return (0);
}

int
rt6_add(struct ust_stack *st, const struct in6_addr *dst, unsigned plen, const struct in6_addr *gw,
    struct ifnet *ifp, uint32_t flags, uint64_t expire_ns)
{
	struct rt6_table *t = st->st_rt6;
	struct rt6_entry *rt, **pp;
	struct in6_addr d = *dst;

	if (t == NULL || plen > 128 || ifp == NULL)
		return (UST_EINVAL);
	in6_prefix_mask(&d, plen);
	if (rt6_find(st, &d, plen, NULL) != NULL)
		return (UST_EEXIST);
	if (t->rt_count >= RT6_MAXROUTES)
		return (UST_ENOSPC);
	rt = st_malloc(st, sizeof(*rt));
	if (rt == NULL)
		return (UST_ENOMEM);
	rt->rt_dst = d;
	rt->rt_plen = plen;
	if (gw != NULL && !IN6_IS_ADDR_UNSPECIFIED(gw)) {
		rt->rt_gw = *gw;
		flags |= UST_RTF_GATEWAY;
	} else
		flags &= ~UST_RTF_GATEWAY;
	rt->rt_ifp = ifp;
	rt->rt_flags = flags | UST_RTF_UP;
	rt->rt_expire = expire_ns;
	for (pp = &t->rt_list; *pp != NULL; pp = &(*pp)->rt_next)
		;
	*pp = rt;
	t->rt_count++;
	rt_gen_bump(st);
	return (0);
}

/*
 * What ip6_output() decides for a packet from src to dst in zone zoneid,
 * as a cache entry (in_route_fill's twin): ours (loopback delivery), or
 * a route, from a source that is ours.  -1 (ro empty) for the rest,
 * which ip6_output's plain path handles and counts.  A scoped
 * destination without a zone is not cached (the zone then comes from the
 * source or net.inet6.ip6.use_defaultzone).  Kept in step with
 * ip6_output().
 */
static int
in6_route_fill(struct ust_stack *st, struct inp_route *ro, const struct in6_addr *src,
    const struct in6_addr *dst, uint32_t zoneid)
{
	const uint32_t tso = UST_IFCAP_TSO6 | UST_IFCAP_TXCSUM_IPV6;
	struct in6_ifaddr *ia;
	struct nhop6 nh;

	memset(ro, 0, sizeof(*ro));
	if (IN6_IS_ADDR_UNSPECIFIED(src) || IN6_IS_ADDR_UNSPECIFIED(dst) ||
	    IN6_IS_ADDR_V4MAPPED(dst) || IN6_IS_ADDR_LOOPBACK(dst) || IN6_IS_ADDR_MULTICAST(dst) ||
	    (in6_is_scoped(dst) && zoneid == 0) || !in6_localip(st, src))
		return (-1);
	if ((ia = in6ifa_find(st, dst, NULL)) != NULL &&
	    (!in6_is_scoped(dst) || ia->ia_ifp->if_index == zoneid)) {
		if (!UST_IP_LOOPBACK)
			return (-1);
		ro->ro_flags = RO_VALID | RO_LOCAL | RO_INET6;
		ro->ro_ifp = ia->ia_ifp;
		ro->ro_nexthop.id6_addr = *dst;
	} else {
		if (rt6_lookup(st, dst, zoneid, &nh) != 0)
			return (-1);
		ro->ro_flags = RO_VALID | RO_INET6;
		if ((nh.nh_ifp->if_capabilities & tso) == tso)
			ro->ro_flags |= RO_TSO;
		ro->ro_ifp = nh.nh_ifp;
		ro->ro_mtu = nh.nh_mtu;
		ro->ro_expire = nh.nh_expire;
		ro->ro_nexthop.id6_addr = nh.nh_addr;
	}
	ro->ro_dst.id6_addr = *dst;
	ro->ro_src.id6_addr = *src;
	ro->ro_zoneid = zoneid;
	/* After the lookup, which may itself have dropped expired routes. */
	ro->ro_gen = st->st_route_gen;
	return (0);
}

#if UST_DEBUG
static void
in6_route_verify(struct ust_stack *st, const struct inp_route *ro, const struct in6_addr *src,
    const struct in6_addr *dst, uint32_t zoneid)
{
	struct inp_route fresh;
	int error = in6_route_fill(st, &fresh, src, dst, zoneid);

	KASSERT(error == 0 && fresh.ro_flags == ro->ro_flags && fresh.ro_ifp == ro->ro_ifp &&
	        fresh.ro_mtu == ro->ro_mtu &&
	        in6_are_addr_equal(&fresh.ro_nexthop.id6_addr, &ro->ro_nexthop.id6_addr),
	    ("in6_route_get: a route went stale at generation %u (a change without "
	     "rt_gen_bump)",
	        (unsigned)ro->ro_gen));
}
#endif

struct inp_route *
in6_route_get(struct ust_stack *st, struct inp_route *ro, const struct in6_addr *src,
    const struct in6_addr *dst, uint32_t zoneid)
{
	if (ro->ro_gen == st->st_route_gen &&
	    (ro->ro_flags & (RO_VALID | RO_INET6)) == (RO_VALID | RO_INET6) &&
	    in6_are_addr_equal(&ro->ro_dst.id6_addr, dst) &&
	    in6_are_addr_equal(&ro->ro_src.id6_addr, src) && ro->ro_zoneid == zoneid &&
	    (ro->ro_expire == 0 || stack_now(st) < ro->ro_expire)) {
		IP6STAT_INC(st, ip6s_rtcache_hit);
#if UST_DEBUG
		in6_route_verify(st, ro, src, dst, zoneid);
#endif
		return (ro);
	}
	IP6STAT_INC(st, ip6s_rtcache_miss);
	return (in6_route_fill(st, ro, src, dst, zoneid) == 0 ? ro : NULL);
}

int
rt6_del(struct ust_stack *st, const struct in6_addr *dst, unsigned plen, struct ifnet *ifp)
{
	struct rt6_entry **pp;
	struct in6_addr d = *dst;

	if (st->st_rt6 == NULL || plen > 128)
		return (UST_EINVAL);
	in6_prefix_mask(&d, plen);
	for (pp = &st->st_rt6->rt_list; *pp != NULL; pp = &(*pp)->rt_next) {
		if ((*pp)->rt_plen == plen && in6_are_addr_equal(&(*pp)->rt_dst, &d) &&
		    (ifp == NULL || (*pp)->rt_ifp == ifp)) {
			rt6_unlink(st, pp);
			return (0);
		}
	}
	return (UST_ENOENT);
}

void
rt6_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct rt6_entry **pp;

	if (st->st_rt6 == NULL)
		return;
	pp = &st->st_rt6->rt_list;
	while (*pp != NULL) {
		if ((*pp)->rt_ifp == ifp)
			rt6_unlink(st, pp);
		else
			pp = &(*pp)->rt_next;
	}
}

/* ---------------------------------------------------------------------
 * The public calls (route -6, netstat -rn -f inet6).
 * ------------------------------------------------------------------- */

static void
rt6_info(const struct rt6_entry *rt, struct ust_route6_info *out)
{
	memset(out, 0, sizeof(*out));
	out->dst = rt->rt_dst;
	out->prefixlen = rt->rt_plen;
	out->gateway = rt->rt_gw;
	out->ifindex = rt->rt_ifp->if_index;
	out->mtu = rt->rt_mtu;
	out->flags = rt->rt_flags;
}

int
ust_route6_add(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, struct ust_if *uifp)
{
	struct ifnet *ifp = uifp != NULL ? IFP_FROM_UST(uifp) : NULL;
	struct rt6_entry *onlink;
	struct in6_ifaddr *ia;

	if (st == NULL || dst == NULL || prefixlen > 128 || st->st_rt6 == NULL)
		return (-UST_EINVAL);
	if (ifp != NULL && (ifp->if_stack != st || IN6_IFEXTRA(ifp) == NULL))
		return (-UST_EINVAL);
	if (IN6_IS_ADDR_MULTICAST(dst) && prefixlen >= 8)
		return (-UST_EINVAL);
	if (gateway == NULL || IN6_IS_ADDR_UNSPECIFIED(gateway)) {
		if (ifp == NULL)
			return (-UST_EINVAL);
		return (-rt6_add(st, dst, prefixlen, NULL, ifp, UST_RTF_STATIC, 0));
	}
	if (IN6_IS_ADDR_MULTICAST(gateway) || IN6_IS_ADDR_LOOPBACK(gateway) ||
	    IN6_IS_ADDR_V4MAPPED(gateway))
		return (-UST_EINVAL);
	if (IN6_IS_ADDR_LINKLOCAL(gateway)) {
		/* A link-local next hop means nothing without its link
		 * (RFC 4861 8: routers are known by link-local addresses). */
		if (ifp == NULL)
			return (-UST_EINVAL);
		return (-rt6_add(st, dst, prefixlen, gateway, ifp, UST_RTF_STATIC, 0));
	}
	if ((ia = in6ifa_find(st, gateway, NULL)) != NULL) {
		/* Our own address: on-link through its interface. */
		if (ifp != NULL && ia->ia_ifp != ifp)
			return (-UST_ENETUNREACH);
		return (-rt6_add(st, dst, prefixlen, NULL, ia->ia_ifp, UST_RTF_STATIC, 0));
	}
	onlink = rt6_match(st, gateway, 1);
	if (onlink == NULL || (ifp != NULL && onlink->rt_ifp != ifp))
		return (-UST_ENETUNREACH);
	return (-rt6_add(st, dst, prefixlen, gateway, onlink->rt_ifp, UST_RTF_STATIC, 0));
}

int
ust_route6_del(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen)
{
	int error;

	if (st == NULL || dst == NULL || prefixlen > 128 || st->st_rt6 == NULL)
		return (-UST_EINVAL);
	error = rt6_del(st, dst, prefixlen, NULL);
	return (-error);
}

int
ust_route6_lookup(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned scope_id,
    struct ust_route6_info *out)
{
	struct rt6_entry *rt;
	struct nhop6 nh;
	int error;

	if (st == NULL || dst == NULL || out == NULL || st->st_rt6 == NULL)
		return (-UST_EINVAL);
	if ((error = rt6_lookup(st, dst, scope_id, &nh)) != 0)
		return (-error);
	if (in6_is_scoped(dst)) {
		memset(out, 0, sizeof(*out));
		out->dst = *dst;
		out->prefixlen = 128;
		out->ifindex = nh.nh_ifp->if_index;
		out->flags = nh.nh_flags;
		out->mtu = nh.nh_mtu;
		return (0);
	}
	rt = rt6_match(st, dst, 0);
	if (rt == NULL)
		return (-UST_ENETUNREACH);
	rt6_info(rt, out);
	out->mtu = nh.nh_mtu;
	return (0);
}

int
ust_route6_get(struct ust_stack *st, unsigned idx, struct ust_route6_info *out)
{
	struct rt6_entry *rt;

	if (st == NULL || out == NULL || st->st_rt6 == NULL)
		return (-UST_EINVAL);
	rt6_expire(st, stack_now(st));
	for (rt = st->st_rt6->rt_list; rt != NULL && idx > 0; rt = rt->rt_next)
		idx--;
	if (rt == NULL)
		return (-UST_ENOENT);
	rt6_info(rt, out);
	return (0);
}
