/*
 * in_route.h - the IPv4 routing table (FreeBSD net/route.h and
 * netinet/in_fib.h, simplified): connected routes from interface addresses, static routes and a default
 * route, looked up by longest prefix match.
 */
#ifndef _USTACK_NETINET_IN_ROUTE_H_
#define _USTACK_NETINET_IN_ROUTE_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet/in.h"

struct ust_stack;

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
int route_init(struct ust_stack *st);
void route_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_IN_ROUTE_H_ */
