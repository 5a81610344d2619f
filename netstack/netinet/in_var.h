/*
 * in_var.h - IPv4 addresses of interfaces (FreeBSD netinet/in_var.h):
 * struct in_ifaddr, and the questions every layer asks of them (is this
 * address ours, is it a broadcast, which source to use).
 */
#ifndef _USTACK_NETINET_IN_VAR_H_
#define _USTACK_NETINET_IN_VAR_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet/in.h"

struct ust_stack;

struct in_ifaddr {
	struct in_ifaddr *ia_next; /* all addresses of the stack */
	struct ifnet *ia_ifp;
	struct in_addr ia_addr;
	struct in_addr ia_netmask;
	struct in_addr ia_broadaddr; /* directed broadcast of the subnet */
	uint8_t ia_plen;
};

/* The address entry for a, if a is one of the stack's addresses. */
struct in_ifaddr *in_ifaddr_find(struct ust_stack *st, struct in_addr a);
/* Whether a is one of the stack's addresses. */
int in_localip(struct ust_stack *st, struct in_addr a);
/* Whether a is a broadcast address for ifp: limited broadcast, the
 * directed broadcast of one of its subnets, or INADDR_ANY (old BSD). */
int in_broadcast(struct in_addr a, const struct ifnet *ifp);
/* The first address configured on ifp (source selection), or NULL. */
struct in_ifaddr *in_ifaddr_first(struct ust_stack *st, const struct ifnet *ifp);
/* The interface is going away: remove its addresses, their routes and
 * ARP entries. */
void in_ifdetach(struct ifnet *ifp);
/* Frees every address (stack destroy). */
void in_ifaddr_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET_IN_VAR_H_ */
