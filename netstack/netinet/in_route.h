/*
 * in_route.h - the IPv4 routing table (FreeBSD net/route.h and
 * netinet/in_fib.h, simplified): connected routes from interface addresses, static routes and a default
 * route, looked up by longest prefix match.
 */
#ifndef _USTACK_NETINET_IN_ROUTE_H_
#define _USTACK_NETINET_IN_ROUTE_H_

#include <stdint.h>

#include "kern/stack_var.h"
#include "net/if_var.h"
#include "netinet/in.h"
#include "netinet/in_pcb.h"

/* The answer of a lookup: where a packet to dst goes. */
struct nhop4 {
	struct ifnet *nh_ifp;
	struct in_addr nh_addr; /* next hop: the gateway, or dst itself */
	struct in_addr nh_src;  /* preferred source address */
	uint32_t nh_mtu;        /* the interface MTU */
	uint32_t nh_flags;      /* UST_RTF_* */
};

/* Longest-prefix match.  Returns 0, or UST_ENETUNREACH (no route) /
 * UST_EHOSTUNREACH (the route's interface has no address). */
int rt_lookup(struct ust_stack *st, struct in_addr dst, struct nhop4 *nh);
/* Connected routes of an address (called by in.c). */
int rt_add_connected(struct ust_stack *st, struct ifnet *ifp, struct in_addr net, unsigned plen,
    struct in_addr src);
void rt_del_connected(struct ust_stack *st, struct ifnet *ifp, struct in_addr net, unsigned plen);
/* Remove every route through ifp. */
void rt_ifdetach(struct ust_stack *st, struct ifnet *ifp);
/* Something a cached route may depend on changed (a route, an address,
 * an interface, an MTU, IPv4 or IPv6): bumps st->st_route_gen, which
 * makes every PCB's inp_route stale.  Never 0. */
void rt_gen_bump(struct ust_stack *st);
/* The route ip_output takes from src (not INADDR_ANY) to dst, from the
 * PCB's cache ro when it is current, else looked up and cached.  NULL when
 * ip_output would refuse the packet or treat it specially (no route,
 * source not ours, broadcast, multicast): ro is then empty and the caller
 * takes the plain path, which finds and counts the error.  Counted
 * ips_rtcache_hit / ips_rtcache_miss.  With UST_DEBUG every hit is
 * checked against a fresh lookup (a missed rt_gen_bump panics). */
struct inp_route *in_route_lookup(struct ust_stack *st, struct inp_route *ro, struct in_addr src,
    struct in_addr dst);
static inline struct inp_route *
in_route_get(struct ust_stack *st, struct inp_route *ro, struct in_addr src, struct in_addr dst)
{
#if !UST_DEBUG
	/* A hit, inline: several per segment. */
	if (ro->ro_gen == st->st_route_gen && (ro->ro_flags & (RO_VALID | RO_INET6)) == RO_VALID &&
	    ro->ro_dst.id46_addr.ia46_addr4.s_addr == dst.s_addr &&
	    ro->ro_src.id46_addr.ia46_addr4.s_addr == src.s_addr) {
		IPSTAT_INC(st, ips_rtcache_hit);
		return (ro);
	}
#endif
	return (in_route_lookup(st, ro, src, dst));
}
int route_init(struct ust_stack *st);
void route_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_IN_ROUTE_H_ */
