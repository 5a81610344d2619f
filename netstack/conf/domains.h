/*
 * domains.h - the protocol families compiled into the stack, one line
 * each, in initialisation order (FreeBSD's DOMAIN_SET).  A new family
 * (netinet6) adds its folder (with its sources.cmake) and its lines here:
 * its domain, its knob table and its per-stack state.  Nothing under kern/
 * changes.
 *
 *   DOMAIN(var)          the family's const struct domain (in_proto.c)
 *   DOMAIN_KNOBS         defined: the family's KNOB() tables, for struct
 *                        ust_knobs (kern/sysctl.h)
 *   DOMAIN_STATE         defined: members of struct ust_stack holding a
 *                        family's per-stack state (kern/stack_var.h), e.g.
 *                        `struct in6_state *st_in6;`.  netinet's state
 *                        predates this list and is declared in stack_var.h.
 */
#ifdef DOMAIN
DOMAIN(inetdomain)
#endif

#ifdef DOMAIN_KNOBS
#include "netinet/in_knobs.h"
#endif

#ifdef DOMAIN_STATE
#endif
