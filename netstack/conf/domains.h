/*
 * domains.h - the protocol families compiled into the stack, one line
 * each, in initialisation order (FreeBSD's DOMAIN_SET).  A new family
 * (netinet6) adds its folder, its sources.cmake and two lines here: its
 * domain and its knob table.  Nothing under kern/ changes.
 *
 *   DOMAIN(var)          the family's const struct domain (in_proto.c)
 *   DOMAIN_KNOBS         defined: the family's KNOB() tables, for struct
 *                        ust_knobs (kern/sysctl.h)
 */
#ifdef DOMAIN
DOMAIN(inetdomain)
#endif

#ifdef DOMAIN_KNOBS
#include "netinet/in_knobs.h"
#endif
