/*
 * in6_var.h - the IPv6 addresses of the interfaces and their per-family
 * interface state (FreeBSD netinet6/in6_var.h): struct in6_ifaddr, struct
 * in6_ifextra in ifp->if_afdata[IF_AFDATA_INET6] (ND parameters, joined
 * groups), and the lookups the datapath uses.  The bodies are in6.c.
 */
#ifndef _USTACK_NETINET6_IN6_VAR_H_
#define _USTACK_NETINET6_IN6_VAR_H_

#include <stdint.h>

#include "kern/callout.h"
#include "net/if_var.h"
#include "netinet6/in6.h"
#include "netinet6/nd6.h"

struct ust_stack;

/* Address flags (FreeBSD IN6_IFF_*, the public UST_IN6_IFF_* values). */
#define IN6_IFF_ANYCAST UST_IN6_IFF_ANYCAST
#define IN6_IFF_TENTATIVE UST_IN6_IFF_TENTATIVE
#define IN6_IFF_DUPLICATED UST_IN6_IFF_DUPLICATED
#define IN6_IFF_DETACHED 0x08
#define IN6_IFF_DEPRECATED UST_IN6_IFF_DEPRECATED
#define IN6_IFF_NODAD UST_IN6_IFF_NODAD
#define IN6_IFF_AUTOCONF UST_IN6_IFF_AUTOCONF
#define IN6_IFF_TEMPORARY 0x80
#define IN6_IFF_PREFER_SOURCE 0x100
#define IN6_IFF_NOTREADY (IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED)

/* Lifetimes (RFC 4862 5.5.4): stack times, 0 = infinite. */
struct in6_addrlifetime {
	uint64_t ia6t_expire;    /* valid until */
	uint64_t ia6t_preferred; /* preferred until */
	uint32_t ia6t_vltime;    /* seconds, as received; 0xffffffff infinite */
	uint32_t ia6t_pltime;
};

struct in6_ifaddr {
	struct in6_ifaddr *ia_next; /* st_in6_ifaddrs */
	struct ifnet *ia_ifp;
	struct in6_addr ia_addr;
	unsigned ia_plen;
	uint32_t ia6_flags; /* IN6_IFF_* */
	struct in6_addrlifetime ia6_lifetime;
	uint64_t ia6_createtime;
	/* Duplicate address detection (nd6_nbr.c). */
	struct callout ia6_dadtimer;
	uint32_t ia6_dad_ns_ocount; /* NS sent */
	uint32_t ia6_dad_ns_icount; /* NS received for it */
	uint32_t ia6_dad_na_icount; /* NA received for it */
	uint32_t ia6_dad_ns_tcount; /* NS tries (transmit failures included) */
	uint8_t ia6_dad_nonce[6];   /* RFC 7527 */
	uint8_t ia6_dad_running;
	void *ia6_ndpr; /* the prefix that made it (nd6_rtr.c), or NULL */
};

/* A group joined on an interface (FreeBSD struct in6_multi): reference
 * counted, with MLD's state for it. */
struct in6_multi {
	struct in6_addr in6m_addr;
	uint32_t in6m_refcount; /* 0: the slot is free */
	uint32_t in6m_state;    /* MLD (mld6.c) */
	uint64_t in6m_timer;    /* MLD: next report, stack time, 0 none */
};
#define IN6_MULTI_MAX 16 /* groups per interface (ustack) */

/* The interface's IPv6 state (FreeBSD struct in6_ifextra). */
struct in6_ifextra {
	struct nd_ifinfo nd_ifinfo;
	struct in6_multi in6_mc[IN6_MULTI_MAX];
	void *mld_ifinfo; /* mld6.c */
	void *nd_ifextra; /* nd6_rtr.c: RS state */
};
#define IN6_IFEXTRA(ifp) ((struct in6_ifextra *)(ifp)->if_afdata[IF_AFDATA_INET6])
#define ND_IFINFO(ifp) (&IN6_IFEXTRA(ifp)->nd_ifinfo)

/* Our address a (on ifp, or on any interface when ifp is NULL; a scoped
 * a matches only on its own interface when ifp is given), whatever its
 * flags; NULL. */
struct in6_ifaddr *in6ifa_find(struct ust_stack *st, const struct in6_addr *a,
    const struct ifnet *ifp);
/* The first link-local address of ifp without any of ignoreflags. */
struct in6_ifaddr *in6ifa_ifpforlinklocal(const struct ifnet *ifp, uint32_t ignoreflags);
/* Nonzero when a is one of our addresses (any state). */
int in6_localip(struct ust_stack *st, const struct in6_addr *a);
/* Nonzero when ifp joined group a. */
int in6_mcast_member(struct ifnet *ifp, const struct in6_addr *a);
/* Takes a reference to group a on ifp (joining its MAC, telling MLD on
 * the first).  0, UST_EINVAL (not a group), UST_ENOSPC, UST_ENETDOWN (no IPv6
 * on ifp). */
int in6_joingroup(struct ifnet *ifp, const struct in6_addr *a);
/* Drops one; 0 or UST_ENOENT. */
int in6_leavegroup(struct ifnet *ifp, const struct in6_addr *a);
/* Adds / removes an address (the public calls and SLAAC): see
 * ust_if_addr6_add.  *out (may be NULL) the new address. */
int in6_addr_add(struct ifnet *ifp, const struct in6_addr *a, unsigned plen, uint32_t flags,
    struct in6_ifaddr **out);
int in6_addr_del(struct ifnet *ifp, const struct in6_addr *a);
/* dom_ifattach / dom_ifdetach of inet6domain. */
void *in6_domifattach(struct ifnet *ifp);
void in6_domifdetach(struct ifnet *ifp);
void in6_ifaddr_fini(struct ust_stack *st);

#endif /* _USTACK_NETINET6_IN6_VAR_H_ */
