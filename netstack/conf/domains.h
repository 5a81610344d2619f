/*
 * domains.h - the protocol families compiled into the stack, one line
 * each, in initialisation order (FreeBSD's DOMAIN_SET).  A new family
 * (netinet6, UST_INET6) adds its folder (with its sources.cmake) and its lines here:
 * its domain, its knob table and its per-stack state.  Nothing under kern/
 * changes.
 *
 *   DOMAIN(var)          the family's const struct domain (in_proto.c)
 *   DOMAIN_KNOBS         defined: the family's KNOB() tables, for struct
 *                        ust_knobs (kern/sysctl.h)
 *   DOMAIN_KNOB_BOUNDS(var, tbl)  the bounds of var's dom_knobs, entry for
 *                        entry (const struct sysctl_knob_bounds tbl[]),
 *                        named only by the code that sets or lists knobs
 *   DOMAIN_KNOB_CHANGED(var, fn)  an integer knob changed, void fn(struct
 *                        ust_stack *, size_t off) with off its offset in
 *                        struct ust_knobs (FreeBSD's EVENTHANDLERs follow
 *                        kern.ipc.maxsockets); called by the knob setters
 *   DOMAIN_ZONES(var, fn)  the zones of the family's protocols, unsigned
 *                        fn(const struct ust_stack *, const struct ust_zone
 *                        **zones, unsigned max), for ust_stack_get_zone_stats
 *   DOMAIN_CTLOUTPUT(var, fn)  the family's socket options of levels other
 *                        than SOL_SOCKET, int fn(struct socket *, struct
 *                        sockopt *), called by sosetopt/sogetopt for a
 *                        socket of a protocol in var's switch (a direct
 *                        call, so option code links only into programs
 *                        that set or read options)
 *   DOMAIN_POLL_DRAIN(var, fn)  output the family deferred while the
 *                        poll received (netinet/tcp_outq.c), void fn(struct
 *                        ust_stack *), called by ust_stack_poll after the
 *                        receive loop and again after the callouts
 *   DOMAIN_STATE         defined: the family's header of members of struct
 *                        ust_stack holding its per-stack state, included
 *                        inside the struct (kern/stack_var.h), and of the
 *                        macros reaching them (netinet/in_stack_var.h)
 *
 * A family's ethertypes (struct domain's dom_ethertypes) reach the link
 * layer through domains_init, so net/ needs no line here either.
 */
#include <ustack/ustack_opts.h> /* UST_INET6 */

#ifdef DOMAIN
DOMAIN(inetdomain)
#if UST_INET6
DOMAIN(inet6domain)
#endif
#endif

#ifdef DOMAIN_KNOB_BOUNDS
DOMAIN_KNOB_BOUNDS(inetdomain, in_knob_bounds)
#if UST_INET6
DOMAIN_KNOB_BOUNDS(inet6domain, in6_knob_bounds)
#endif
#endif

#ifdef DOMAIN_KNOB_CHANGED
DOMAIN_KNOB_CHANGED(inetdomain, in_knob_changed)
#if UST_INET6
DOMAIN_KNOB_CHANGED(inet6domain, in6_knob_changed)
#endif
#endif

#ifdef DOMAIN_ZONES
DOMAIN_ZONES(inetdomain, in_zones)
#if UST_INET6
DOMAIN_ZONES(inet6domain, in6_zones)
#endif
#endif

#ifdef DOMAIN_CTLOUTPUT
DOMAIN_CTLOUTPUT(inetdomain, in_ctloutput)
#if UST_INET6
DOMAIN_CTLOUTPUT(inet6domain, in6_ctloutput)
#endif
#endif

#ifdef DOMAIN_POLL_DRAIN
DOMAIN_POLL_DRAIN(inetdomain, tcp_output_drain) /* IPv6's TCP too */
#endif

#ifdef DOMAIN_KNOBS
#include "netinet/in_knobs.h"
#if UST_INET6
#include "netinet6/in6_knobs.h"
#endif
#endif

#ifdef DOMAIN_STATE
#include "netinet/in_stack_var.h"
#if UST_INET6
#include "netinet6/in6_stack_var.h"
#endif
#endif
