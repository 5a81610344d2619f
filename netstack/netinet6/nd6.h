/*
 * nd6.h - neighbor discovery (RFC 4861), address autoconfiguration (RFC
 * 4862), MLD (RFC 3810) and source selection (RFC 6724) as the rest of
 * the stack sees them (FreeBSD netinet6/nd6.h, mld6_var.h, scope6_var.h):
 * the neighbor cache states, the per-interface ND parameters, resolution
 * for ip6_output, and the ICMPv6 input entries icmp6.c calls.  The bodies
 * are nd6.c, nd6_nbr.c, nd6_rtr.c, mld6.c, in6_src.c, in6_ifattach.c.
 */
#ifndef _USTACK_NETINET6_ND6_H_
#define _USTACK_NETINET6_ND6_H_

#include <stdint.h>

#include "net/if_var.h"
#include "netinet6/in6.h"

struct mbuf;
struct ust_stack;
struct in6_ifaddr;
struct in6_multi;

/* Neighbor cache states (FreeBSD ND6_LLINFO_*, public UST_ND6_*). */
#define ND6_LLINFO_NOSTATE (-2)
#define ND6_LLINFO_INCOMPLETE 0
#define ND6_LLINFO_REACHABLE 1
#define ND6_LLINFO_STALE 2
#define ND6_LLINFO_DELAY 3
#define ND6_LLINFO_PROBE 4

/* Protocol constants (RFC 4861 10). */
#define MAX_RTR_SOLICITATION_DELAY 1000 /* ms */
#define RTR_SOLICITATION_INTERVAL 4000  /* ms */
#define MAX_RTR_SOLICITATIONS 3
#define MAX_MULTICAST_SOLICIT 3
#define MAX_UNICAST_SOLICIT 3
#define MAX_ANYCAST_DELAY_TIME 1000 /* ms */
#define MAX_NEIGHBOR_ADVERTISEMENT 3
#define REACHABLE_TIME 30000        /* ms */
#define RETRANS_TIMER 1000          /* ms */
#define DELAY_FIRST_PROBE_TIME 5000 /* ms */
#define MIN_RANDOM_FACTOR 512       /* /1024 */
#define MAX_RANDOM_FACTOR 1536      /* /1024 */

/* Per-interface ND parameters (FreeBSD struct nd_ifinfo, ndp -i). */
struct nd_ifinfo {
	uint32_t linkmtu;       /* from an RA's MTU option; 0: the interface's */
	uint32_t maxmtu;        /* the interface's */
	uint32_t basereachable; /* ms, BaseReachableTime */
	uint32_t reachable;     /* ms, ReachableTime (randomized) */
	uint32_t retrans;       /* ms, RetransTimer */
	uint32_t flags;         /* ND6_IFF_* */
	uint8_t chlim;          /* CurHopLimit */
};
#define ND6_IFF_PERFORMNUD 0x1
#define ND6_IFF_ACCEPT_RTADV 0x2
#define ND6_IFF_IFDISABLED 0x8 /* IPv6 off (an MTU below 1280, DAD of the link-local failed) */
#define ND6_IFF_DONT_SET_IFROUTE 0x10
#define ND6_IFF_AUTO_LINKLOCAL 0x20
#define ND6_IFF_NO_RADR 0x40
#define ND6_IFF_NO_PREFER_IFACE 0x80
#define ND6_IFF_NO_DAD 0x100

/* The neighbor cache (nd6.c). */
int nd6_init(struct ust_stack *st);
void nd6_fini(struct ust_stack *st);
/* Sets up ndi for an interface (in6_domifattach). */
void nd6_ifinfo_init(struct ifnet *ifp, struct nd_ifinfo *ndi);
/* Drops every entry on ifp (and the packets they hold). */
void nd6_ifdetach(struct ifnet *ifp);
/*
 * Sends m (at its IPv6 header) to nexthop on ifp: a group maps to its
 * 33:33 MAC (RFC 2464 7), a unicast next hop is resolved through the
 * cache (m held while a solicitation is out).  Consumes m.  0 (sent or
 * held), UST_EHOSTUNREACH, UST_ENOBUFS.
 */
int nd6_output(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *nexthop);
/* The MAC of addr on ifp: 0 with mac filled; UST_EWOULDBLOCK when m was
 * queued on an INCOMPLETE entry (m may be NULL: a probe only); an error
 * with m freed. */
int nd6_resolve(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *addr,
    uint8_t mac[ETHER_ADDR_LEN]);
/* A neighbor's link-layer address learned from an ND message (RFC 4861
 * 7.2.3, 7.3.3): type ND_NEIGHBOR_SOLICIT, ND_ROUTER_SOLICIT, ...;
 * lladdr NULL when the message had none. */
void nd6_cache_lladdr(struct ifnet *ifp, const struct in6_addr *from, const uint8_t *lladdr,
    int type, int code);

/* ICMPv6 input of ND and MLD messages (icmp6.c calls these; m at its
 * IPv6 header, off the ICMPv6 header, icmp6len its length, the checksum
 * and the hop limit already checked by icmp6_input for ND: 255).
 * Each consumes m. */
void nd6_ns_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);
void nd6_na_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);
void nd6_rs_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);
void nd6_ra_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);
void nd6_redirect_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);
void mld_input(struct mbuf *m, uint32_t off, uint32_t icmp6len);

/* Duplicate address detection (nd6_nbr.c): starts DAD of a new
 * tentative address (IN6_IFF_TENTATIVE set by the caller) after up to
 * delay_ms; stop when the address goes. */
void nd6_dad_start(struct in6_ifaddr *ia, uint32_t delay_ms);
void nd6_dad_stop(struct in6_ifaddr *ia);

/* MLD (mld6.c): a group joined (first reference) or left (last). */
void mld_change(struct ifnet *ifp, struct in6_multi *inm, int join);

/* Interfaces (in6_ifattach.c): after in6_domifattach made the
 * interface's IPv6 state, the link-local address (auto_linklocal,
 * RFC 4862 5.3, RFC 7217 IID) and router solicitation; before the state
 * goes, the addresses made here. */
void in6_ifattach(struct ifnet *ifp);
/* A netinet6 knob changed (conf/domains.h DOMAIN_KNOB_CHANGED):
 * accept_rtadv turned on starts interfaces without IPv6 yet. */
void in6_knob_changed(struct ust_stack *st, size_t off);
void in6_ifdetach(struct ifnet *ifp);

/* Source address selection (in6_src.c, RFC 6724 5): the best address of
 * ours for dst (ifp: the outgoing interface when known).  0 or
 * UST_EADDRNOTAVAIL. */
int in6_selectsrc(struct ust_stack *st, const struct in6_addr *dst, uint32_t zoneid,
    struct ifnet *ifp, struct in6_addr *src);

#endif /* _USTACK_NETINET6_ND6_H_ */
