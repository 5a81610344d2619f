/*
 * scope6_var.h - scoped addresses and their zones (RFC 4007; FreeBSD
 * netinet6/scope6_var.h): in ustack a link-local or interface-local
 * address's zone is the interface index (ust_if_index), and other scopes
 * have a single zone (0).  The bodies are scope6.c.
 */
#ifndef _USTACK_NETINET6_SCOPE6_VAR_H_
#define _USTACK_NETINET6_SCOPE6_VAR_H_

#include <stdint.h>

#include "netinet6/in6.h"

struct ust_stack;
struct ifnet;

/*
 * The zone of address a given the scope id a caller supplied (a
 * sockaddr_in6's sin6_scope_id; FreeBSD sa6_embedscope): for an address
 * of link or interface scope, scope_id must name a live interface with
 * IPv6 (else UST_ENODEV); 0 is UST_EINVAL unless
 * net.inet6.ip6.use_defaultzone, where the first interface with IPv6 is
 * the default zone.  Other addresses have zone 0 whatever scope_id says.
 * 0 with *zone filled, or the error.
 */
int in6_setscope(struct ust_stack *st, const struct in6_addr *a, uint32_t scope_id, uint32_t *zone);
/* The zone of a on ifp (its index for a link-scoped address, else 0). */
uint32_t in6_getscopezone(const struct ifnet *ifp, const struct in6_addr *a);

#endif /* _USTACK_NETINET6_SCOPE6_VAR_H_ */
