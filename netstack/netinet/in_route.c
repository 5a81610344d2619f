/*
 * in_route.c - the IPv4 routing table (FreeBSD net/route.c and
 * netinet/in_fib.c, much simplified): connected routes that follow
 * interface addresses, static routes with or without a gateway, the
 * default route (prefix 0), and longest-prefix-match lookup (RFC 1812
 * 5.2.4.3, RFC 1122 3.3.1).
 *
 *   ust_if_addr_add() -> rt_add_connected()      ust_route_add()
 *   ip_output() -> rt_lookup() -> struct nhop4 -> ether_output()
 *   ust_if_addr_del() -> rt_del_connected()      ust_if_detach() -> rt_ifdetach()
 *
 * Structure: one hash table keyed by (network, prefix length) and a bitmap
 * of the prefix lengths in use.  A lookup probes the lengths present from
 * /32 down to /0, one hash probe each: at most 33 probes, whatever the
 * table size.  Routes also sit on a list in the order they were added, for
 * ust_route_get().  The table holds at most RT_MAXROUTES routes; entries
 * come from st_malloc (configuration, never the packet path).
 *
 * The source address of a route is not stored: rt_lookup() picks it from
 * the interface's addresses at lookup time (the address whose subnet holds
 * the next hop, else the interface's first address), so it follows
 * address changes without bookkeeping.
 *
 * Connected sockets keep their route in the PCB (struct inp_route,
 * in_route_get()); st->st_route_gen says when such a copy is stale.
 * Every change here, in in.c (addresses), in netinet6 and in net/if.c
 * (interfaces, MTUs, capabilities) calls rt_gen_bump().
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/in_route.h"
#include "netinet/in_var.h"

#define RT_MAXROUTES 4096
/* Hash buckets at most; fewer under a small mem_limit (st_hash_buckets). */
#define RT_NBUCKETS 1024

struct rtentry {
	struct rtentry *rt_hnext; /* hash chain */
	struct rtentry *rt_lnext; /* list, in order of addition */
	struct rtentry **rt_lprev;
	uint32_t rt_dst; /* network, host order, masked */
	uint8_t rt_plen;
	uint32_t rt_flags;         /* UST_RTF_* */
	struct in_addr rt_gateway; /* network order; 0 when connected */
	struct ifnet *rt_ifp;
};

struct rt_table {
	uint32_t rh_nbuckets; /* a power of two */
	struct rtentry *rh_list;
	struct rtentry **rh_tail;
	uint64_t rh_plens; /* bit p: some route has prefix length p */
	uint32_t rh_plencnt[33];
	uint32_t rh_count;
	struct rtentry *rh_buckets[];
};

static unsigned
rt_hash(const struct rt_table *rh, uint32_t dst, unsigned plen)
{
	uint32_t h = (dst ^ (plen * 0x9e3779b9u)) * 0x85ebca6bu;

	h ^= h >> 15;
	return (h & (rh->rh_nbuckets - 1));
}

static struct rtentry *
rt_find(const struct rt_table *rh, uint32_t dst, unsigned plen)
{
	struct rtentry *rt;

	for (rt = rh->rh_buckets[rt_hash(rh, dst, plen)]; rt != NULL; rt = rt->rt_hnext)
		if (rt->rt_dst == dst && rt->rt_plen == plen)
			return (rt);
	return (NULL);
}

/* Longest-prefix match of dst (host order).  With onlink, only routes
 * without a gateway qualify (to validate a gateway). */
static struct rtentry *
rt_match(const struct rt_table *rh, uint32_t dst, int onlink)
{
	struct rtentry *rt;
	int plen;

	for (plen = 32; plen >= 0; plen--) {
		if ((rh->rh_plens & ((uint64_t)1 << plen)) == 0)
			continue;
		rt = rt_find(rh, dst & in_plen_mask((unsigned)plen), (unsigned)plen);
		if (rt != NULL && (!onlink || (rt->rt_flags & UST_RTF_GATEWAY) == 0))
			return (rt);
	}
	return (NULL);
}

static int
rt_insert(struct ust_stack *st, uint32_t dst, unsigned plen, struct in_addr gw, struct ifnet *ifp,
    uint32_t flags)
{
	struct rt_table *rh = st->st_rt;
	struct rtentry *rt;
	unsigned b;

	if (rh == NULL)
		return (UST_ENETUNREACH);
	dst &= in_plen_mask(plen);
	if (rt_find(rh, dst, plen) != NULL)
		return (UST_EEXIST);
	if (rh->rh_count >= RT_MAXROUTES)
		return (UST_ENOSPC);
	rt = st_malloc(st, sizeof(*rt));
	if (rt == NULL)
		return (UST_ENOMEM);
	rt->rt_dst = dst;
	rt->rt_plen = (uint8_t)plen;
	rt->rt_gateway = gw;
	rt->rt_ifp = ifp;
	rt->rt_flags = flags | UST_RTF_UP;
	b = rt_hash(rh, dst, plen);
	rt->rt_hnext = rh->rh_buckets[b];
	rh->rh_buckets[b] = rt;
	rt->rt_lnext = NULL;
	rt->rt_lprev = rh->rh_tail;
	*rh->rh_tail = rt;
	rh->rh_tail = &rt->rt_lnext;
	rh->rh_plencnt[plen]++;
	rh->rh_plens |= (uint64_t)1 << plen;
	rh->rh_count++;
	rt_gen_bump(st);
	return (0);
}

static void
rt_remove(struct ust_stack *st, struct rtentry *rt)
{
	struct rt_table *rh = st->st_rt;
	struct rtentry **pp;

	for (pp = &rh->rh_buckets[rt_hash(rh, rt->rt_dst, rt->rt_plen)]; *pp != NULL;
	     pp = &(*pp)->rt_hnext) {
		if (*pp == rt) {
			*pp = rt->rt_hnext;
			break;
		}
	}
	*rt->rt_lprev = rt->rt_lnext;
	if (rt->rt_lnext != NULL)
		rt->rt_lnext->rt_lprev = rt->rt_lprev;
	else
		rh->rh_tail = rt->rt_lprev;
	if (--rh->rh_plencnt[rt->rt_plen] == 0)
		rh->rh_plens &= ~((uint64_t)1 << rt->rt_plen);
	rh->rh_count--;
	st_free(st, rt, sizeof(*rt));
	rt_gen_bump(st);
}

void
rt_gen_bump(struct ust_stack *st)
{
	/* 0 marks an empty cache: skipped when the counter wraps. */
	if (++st->st_route_gen == 0)
		st->st_route_gen = 1;
}

/* RFC 1122 3.3.4.3: the source is an address of the outgoing interface,
 * preferably one on the next hop's subnet. */
static struct in_addr
rt_pick_src(struct ust_stack *st, const struct ifnet *ifp, struct in_addr nexthop)
{
	const struct in_ifaddr *ia;
	struct in_addr none = { INADDR_ANY };

	for (ia = st->st_in_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp &&
		    ((ia->ia_addr.s_addr ^ nexthop.s_addr) & ia->ia_netmask.s_addr) == 0)
			return (ia->ia_addr);
	ia = in_ifaddr_first(st, ifp);
	return (ia != NULL ? ia->ia_addr : none);
}

int
rt_lookup(struct ust_stack *st, struct in_addr dst, struct nhop4 *nh)
{
	struct rtentry *rt;

	if (st->st_rt == NULL)
		return (UST_ENETUNREACH);
	rt = rt_match(st->st_rt, ntohl(dst.s_addr), 0);
	if (rt == NULL)
		return (UST_ENETUNREACH);
	nh->nh_ifp = rt->rt_ifp;
	nh->nh_addr = (rt->rt_flags & UST_RTF_GATEWAY) ? rt->rt_gateway : dst;
	nh->nh_src = rt_pick_src(st, rt->rt_ifp, nh->nh_addr);
	nh->nh_mtu = rt->rt_ifp->if_mtu;
	nh->nh_flags = rt->rt_flags;
	if (nh->nh_src.s_addr == htonl(INADDR_ANY))
		return (UST_EHOSTUNREACH);
	return (0);
}

/*
 * What ip_output() decides for a datagram from src to dst, as a cache
 * entry: the destination is ours (loopback delivery through the address's
 * interface), or it leaves by a route that is neither a broadcast nor
 * multicast, from a source that is ours.  -1 (ro empty) for everything
 * else: ip_output's plain path then finds the error or the special case
 * and counts it, exactly as without a cache.  Kept in step with
 * ip_output() and ip_route().
 */
static int
in_route_fill(struct ust_stack *st, struct inp_route *ro, struct in_addr src, struct in_addr dst)
{
	const uint32_t tso = UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM;
	uint32_t hdst = ntohl(dst.s_addr);
	struct in_ifaddr *ia;
	struct nhop4 nh;

	memset(ro, 0, sizeof(*ro));
	if (src.s_addr == htonl(INADDR_ANY) || hdst == INADDR_ANY || hdst == INADDR_BROADCAST ||
	    IN_MULTICAST(hdst) || IN_BADCLASS(hdst) || !in_localip(st, src))
		return (-1);
	if ((ia = in_ifaddr_find(st, dst)) != NULL) {
		if (!UST_IP_LOOPBACK)
			return (-1);
		ro->ro_flags = RO_VALID | RO_LOCAL;
		ro->ro_ifp = ia->ia_ifp;
		ro->ro_nexthop.id46_addr.ia46_addr4 = dst;
	} else {
		/* The next hop too: ether_output is told it is no
		 * broadcast (ETHER_OUT_UNICAST). */
		if (rt_lookup(st, dst, &nh) != 0 || in_broadcast(dst, nh.nh_ifp) ||
		    in_broadcast(nh.nh_addr, nh.nh_ifp))
			return (-1);
		ro->ro_flags = RO_VALID;
		if ((nh.nh_ifp->if_capabilities & tso) == tso)
			ro->ro_flags |= RO_TSO;
		ro->ro_ifp = nh.nh_ifp;
		ro->ro_mtu = nh.nh_mtu;
		ro->ro_nexthop.id46_addr.ia46_addr4 = nh.nh_addr;
	}
	ro->ro_dst.id46_addr.ia46_addr4 = dst;
	ro->ro_src.id46_addr.ia46_addr4 = src;
	ro->ro_gen = st->st_route_gen;
	return (0);
}

#if UST_DEBUG
/* A hit must be what a lookup finds now: otherwise some change did not
 * call rt_gen_bump(). */
static void
in_route_verify(struct ust_stack *st, const struct inp_route *ro, struct in_addr src,
    struct in_addr dst)
{
	struct inp_route fresh;
	int error = in_route_fill(st, &fresh, src, dst);

	KASSERT(error == 0 && fresh.ro_flags == ro->ro_flags && fresh.ro_ifp == ro->ro_ifp &&
	        fresh.ro_mtu == ro->ro_mtu &&
	        fresh.ro_nexthop.id46_addr.ia46_addr4.s_addr ==
	            ro->ro_nexthop.id46_addr.ia46_addr4.s_addr,
	    ("in_route_get: the route to %08x went stale at generation %u (a change without "
	     "rt_gen_bump)",
	        (unsigned)ntohl(dst.s_addr), (unsigned)ro->ro_gen));
}
#endif

/* in_route_get's miss (and, with UST_DEBUG, checked hit). */
struct inp_route *
in_route_lookup(struct ust_stack *st, struct inp_route *ro, struct in_addr src, struct in_addr dst)
{
	if (ro->ro_gen == st->st_route_gen && (ro->ro_flags & (RO_VALID | RO_INET6)) == RO_VALID &&
	    ro->ro_dst.id46_addr.ia46_addr4.s_addr == dst.s_addr &&
	    ro->ro_src.id46_addr.ia46_addr4.s_addr == src.s_addr) {
		IPSTAT_INC(st, ips_rtcache_hit);
#if UST_DEBUG
		in_route_verify(st, ro, src, dst);
#endif
		return (ro);
	}
	IPSTAT_INC(st, ips_rtcache_miss);
	return (in_route_fill(st, ro, src, dst) == 0 ? ro : NULL);
}

int
rt_add_connected(struct ust_stack *st, struct ifnet *ifp, struct in_addr net, unsigned plen,
    struct in_addr src)
{
	struct in_addr none = { INADDR_ANY };

	(void)src; /* chosen at lookup time, see the file comment */
	if (plen > 32)
		return (UST_EINVAL);
	return (rt_insert(st, ntohl(net.s_addr), plen, none, ifp, 0));
}

void
rt_del_connected(struct ust_stack *st, struct ifnet *ifp, struct in_addr net, unsigned plen)
{
	struct rtentry *rt;

	if (st->st_rt == NULL || plen > 32)
		return;
	rt = rt_find(st->st_rt, ntohl(net.s_addr) & in_plen_mask(plen), plen);
	/* Only the connected route of ifp; a static route the user put over
	 * the same prefix stays. */
	if (rt != NULL && rt->rt_ifp == ifp &&
	    (rt->rt_flags & (UST_RTF_STATIC | UST_RTF_GATEWAY)) == 0)
		rt_remove(st, rt);
}

void
rt_ifdetach(struct ust_stack *st, struct ifnet *ifp)
{
	struct rtentry *rt, *next;

	if (st->st_rt == NULL)
		return;
	for (rt = st->st_rt->rh_list; rt != NULL; rt = next) {
		next = rt->rt_lnext;
		if (rt->rt_ifp == ifp)
			rt_remove(st, rt);
	}
}

int
route_init(struct ust_stack *st)
{
	struct rt_table *rh;
	uint32_t n;

	if (st->st_rt != NULL)
		return (0);
	n = st_hash_buckets(st, RT_NBUCKETS, sizeof(rh->rh_buckets[0]));
	rh = st_malloc(st, sizeof(*rh) + n * sizeof(rh->rh_buckets[0]));
	if (rh == NULL)
		return (UST_ENOMEM);
	rh->rh_nbuckets = n;
	rh->rh_tail = &rh->rh_list;
	st->st_rt = rh;
	return (0);
}

void
route_fini(struct ust_stack *st)
{
	struct rt_table *rh = st->st_rt;

	if (rh == NULL)
		return;
	while (rh->rh_list != NULL)
		rt_remove(st, rh->rh_list);
	st_free(st, rh, sizeof(*rh) + rh->rh_nbuckets * sizeof(rh->rh_buckets[0]));
	st->st_rt = NULL;
}

static void
rt_to_info(struct ust_stack *st, const struct rtentry *rt, struct ust_route_info *out)
{
	struct in_addr dst;

	dst.s_addr = htonl(rt->rt_dst);
	out->dst = dst.s_addr;
	out->prefixlen = rt->rt_plen;
	out->gateway = rt->rt_gateway.s_addr;
	out->src =
	    rt_pick_src(st, rt->rt_ifp, (rt->rt_flags & UST_RTF_GATEWAY) ? rt->rt_gateway : dst)
	        .s_addr;
	out->ifindex = rt->rt_ifp->if_index;
	out->flags = rt->rt_flags;
}

int
ust_route_add(struct ust_stack *st, uint32_t dst, unsigned prefixlen, uint32_t gateway,
    struct ust_if *uifp)
{
	struct ifnet *ifp = uifp != NULL ? IFP_FROM_UST(uifp) : NULL;
	struct rtentry *onlink;
	struct in_ifaddr *ia;
	struct in_addr gw;
	uint32_t hgw, flags = UST_RTF_STATIC;

	if (st == NULL || prefixlen > 32 || st->st_rt == NULL)
		return (-UST_EINVAL);
	if (ifp != NULL && ifp->if_stack != st)
		return (-UST_EINVAL);
	gw.s_addr = gateway;
	if (gateway != htonl(INADDR_ANY)) {
		hgw = ntohl(gateway);
		if (hgw == INADDR_BROADCAST || IN_MULTICAST(hgw) || IN_BADCLASS(hgw))
			return (-UST_EINVAL);
		ia = in_ifaddr_find(st, gw);
		if (ia != NULL) {
			/* Our own address as the gateway (FreeBSD's route add
			 * -interface): on-link through that address's interface. */
			if (ifp != NULL && ia->ia_ifp != ifp)
				return (-UST_ENETUNREACH);
			gw.s_addr = htonl(INADDR_ANY);
			return (-rt_insert(st, ntohl(dst), prefixlen, gw, ia->ia_ifp, flags));
		}
		/* RFC 1122 3.3.1.1: a gateway must be directly reachable, on
		 * a connected (or on-link) network of the interface. */
		onlink = rt_match(st->st_rt, hgw, 1);
		if (onlink == NULL || (ifp != NULL && onlink->rt_ifp != ifp))
			return (-UST_ENETUNREACH);
		ifp = onlink->rt_ifp;
		flags |= UST_RTF_GATEWAY;
	} else if (ifp == NULL)
		return (-UST_EINVAL);
	return (-rt_insert(st, ntohl(dst), prefixlen, gw, ifp, flags));
}

int
ust_route_del(struct ust_stack *st, uint32_t dst, unsigned prefixlen)
{
	struct rtentry *rt;

	if (st == NULL || prefixlen > 32 || st->st_rt == NULL)
		return (-UST_EINVAL);
	rt = rt_find(st->st_rt, ntohl(dst) & in_plen_mask(prefixlen), prefixlen);
	if (rt == NULL)
		return (-UST_ENOENT);
	rt_remove(st, rt);
	return (0);
}

int
ust_route_lookup(struct ust_stack *st, uint32_t dst, struct ust_route_info *out)
{
	struct rtentry *rt;

	if (st == NULL || out == NULL || st->st_rt == NULL)
		return (-UST_EINVAL);
	rt = rt_match(st->st_rt, ntohl(dst), 0);
	if (rt == NULL)
		return (-UST_ENETUNREACH);
	rt_to_info(st, rt, out);
	return (0);
}

int
ust_route_get(struct ust_stack *st, unsigned idx, struct ust_route_info *out)
{
	struct rtentry *rt;

	if (st == NULL || out == NULL || st->st_rt == NULL)
		return (-UST_EINVAL);
	for (rt = st->st_rt->rh_list; rt != NULL; rt = rt->rt_lnext)
		if (idx-- == 0) {
			rt_to_info(st, rt, out);
			return (0);
		}
	return (-UST_ENOENT);
}
