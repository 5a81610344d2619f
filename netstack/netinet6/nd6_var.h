/*
 * nd6_var.h - neighbor discovery's private state, shared by nd6.c,
 * nd6_nbr.c, nd6_rtr.c, mld6.c and in6_ifattach.c (and the unit tests):
 * the neighbor cache entry, the default router and prefix lists, the
 * per-interface router solicitation and MLD state, the ND message
 * sender, and ustack's own ND counters (the ones netstat -s -f inet6 has
 * no line for).
 */
#ifndef _USTACK_NETINET6_ND6_VAR_H_
#define _USTACK_NETINET6_ND6_VAR_H_

#include <stdint.h>

#include "kern/callout.h"
#include "net/if_var.h"
#include "netinet6/in6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/nd6.h"

struct mbuf;
struct ust_stack;

/* A neighbor cache entry (FreeBSD struct llentry + its ND6 fields). */
struct llentry6 {
	struct llentry6 *ln_next; /* in the order they came */
	struct llentry6 *ln_prev;
	struct ifnet *ln_ifp;
	struct in6_addr ln_addr;
	uint8_t ln_mac[ETHER_ADDR_LEN];
	int ln_state;         /* ND6_LLINFO_* */
	uint32_t ln_flags;    /* UST_ND6_STATIC, UST_ND6_ISROUTER */
	uint64_t ln_expire;   /* stack time the timer fires; 0 none */
	uint32_t ln_asked;    /* solicitations sent in this state */
	uint32_t ln_nudhints; /* upper-layer hints since the last NS confirmation */
	uint64_t ln_used;     /* last use (nd6_state.nd_usegen): LRU eviction */
	struct callout ln_timer;
	struct mbuf *ln_hold; /* waiting packets, oldest first */
	uint32_t ln_nhold;
};

/* A default router (RFC 4861 6.3.4, FreeBSD struct nd_defrouter). */
struct nd_defrouter {
	struct nd_defrouter *dr_next;
	struct ifnet *dr_ifp;
	struct in6_addr dr_addr; /* link-local */
	uint64_t dr_expire;      /* stack time */
	uint8_t dr_installed;    /* the default route goes through it */
};

/* A prefix from a prefix information option (FreeBSD struct nd_prefix). */
struct nd_prefix {
	struct nd_prefix *ndpr_next;
	struct ifnet *ndpr_ifp;
	struct in6_addr ndpr_prefix;
	unsigned ndpr_plen;
	uint64_t ndpr_expire; /* valid until (0: infinite) */
	uint32_t ndpr_vltime;
	uint32_t ndpr_pltime;
	uint8_t ndpr_onlink;      /* its route is installed */
	uint8_t ndpr_dad_retries; /* RFC 7217 DAD_Counter of its address */
};

/* ustack's ND counters beside icmp6stat (not in netstat -s). */
struct nd6_counters {
	uint64_t nd6c_evicted;    /* cache entries evicted (LRU) when full */
	uint64_t nd6c_holddrops;  /* held packets dropped (queue full, entry gone) */
	uint64_t nd6c_unsolna;    /* NAs for a target without an entry, ignored */
	uint64_t nd6c_resfail;    /* resolutions that failed (7.2.2) */
	uint64_t nd6c_dupaddr;    /* addresses found duplicated by DAD */
	uint64_t nd6c_dadloop;    /* our own DAD solicitations seen again (RFC 7527) */
	uint64_t nd6c_mldreports; /* MLDv2 reports sent */
	uint64_t nd6c_rsout;      /* router solicitations sent */
	uint64_t nd6c_nsout;
	uint64_t nd6c_naout;
	uint64_t nd6c_raaccepted;   /* RAs processed */
	uint64_t nd6c_slaac;        /* addresses made by SLAAC */
	uint64_t nd6c_redirignored; /* redirects ignored (rediraccept 0) */
};

struct nd6_state {
	struct llentry6 *nd_head; /* oldest */
	struct llentry6 *nd_tail;
	unsigned nd_count;
	uint64_t nd_usegen;    /* use counter for ln_used */
	uint64_t nd_secret[2]; /* RFC 7217 secret key, from the stack's seed */
	struct nd_defrouter *nd_routers;
	struct nd_prefix *nd_prefixes;
	struct callout nd_timer; /* prefix, router and address lifetimes */
	struct ust_stack *nd_st;
	struct nd6_counters nd_cnt;
};

/* Per-interface router solicitation state (in6_ifextra.nd_ifextra). */
struct nd6_rsstate {
	struct callout rs_timer;
	struct ifnet *rs_ifp;
	uint32_t rs_count; /* sent */
};

/* Per-interface MLD state (in6_ifextra.mld_ifinfo). */
#define MLD_MAXLEFT 4 /* groups left whose leave reports are pending */
struct mld_left {
	struct in6_addr ml_group;
	uint32_t ml_pending; /* reports still to send; 0: free */
	uint64_t ml_due;
};
struct mld_ifinfo {
	struct callout mli_timer;
	struct ifnet *mli_ifp;
	uint32_t mli_rv;       /* robustness variable (RFC 3810 9.1) */
	uint64_t mli_v1_until; /* MLDv1 compatibility mode until (8.2.1); 0: none */
	struct mld_left mli_left[MLD_MAXLEFT];
};

#define ND6_COUNT(st, f) ((st)->st_nd6->nd_cnt.f++)
#define ND6_MS ((uint64_t)1000000u)

/*
 * Sends an ICMPv6 message m (at its ICMPv6 header, the checksum field
 * anything) from src to dst on ifp with hop limit hlim: fills the
 * checksum, prepends an IPv6 header (and a hop-by-hop router alert when
 * ra, RFC 2711, for MLD) and hands the packet to nd6_output.  ND and MLD
 * messages never leave their link, so no route is looked up.  Consumes
 * m.
 */
int nd6_send(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *src,
    const struct in6_addr *dst, uint8_t hlim, int ra);
/* A packet header mbuf with leading space for the headers and len bytes
 * of p (NULL: zeros); NULL when out of mbufs. */
struct mbuf *nd6_msg(struct ust_stack *st, const void *p, uint32_t len);

/* An ND or MLD message as its handler reads it: the IPv6 header and up
 * to ND6_MSG_MAX bytes of the message, copied out of the mbuf. */
#define ND6_MSG_MAX 1500
struct nd6_in {
	struct ifnet *ifp;
	struct ust_stack *st;
	struct ip6_hdr ip6;
	uint32_t len; /* bytes in buf */
	uint8_t buf[ND6_MSG_MAX];
};
/* Fills in from m (at its IPv6 header, the message at off); -1 when it
 * cannot be read. */
int nd6_in_read(struct mbuf *m, uint32_t off, uint32_t icmp6len, struct nd6_in *in);

/* The entry for a on ifp, or NULL. */
struct llentry6 *nd6_lookup(struct ifnet *ifp, const struct in6_addr *a);
/* Sends the packets held on ln (now resolved). */
void nd6_flush_hold(struct llentry6 *ln);
/* Moves ln to state with its timer (RFC 4861 7.3.3). */
void nd6_llinfo_settimer(struct llentry6 *ln, int state, uint64_t delay_ns);
/* Frees ln; held packets get an address unreachable when unreach. */
void nd6_free(struct ust_stack *st, struct llentry6 *ln, int unreach);
/* ReachableTime from BaseReachableTime (RFC 4861 6.3.2). */
uint32_t nd6_compute_reachable(struct ust_stack *st, uint32_t base);
/* A reachability confirmation (solicited NA, upper-layer hint). */
void nd6_reachable(struct llentry6 *ln);
/* An upper-layer reachability hint (RFC 4861 7.3.1: TCP saw new data
 * acknowledged from addr on ifp): a non-static entry becomes REACHABLE,
 * at most net.inet6.icmp6.nd6_maxnudhint times in a row (0: no limit). */
void nd6_nud_hint(struct ifnet *ifp, const struct in6_addr *addr);

/* nd6_nbr.c */
void nd6_ns_output(struct ifnet *ifp, const struct in6_addr *src, const struct in6_addr *dst,
    const struct in6_addr *target, const uint8_t *nonce);
void nd6_na_output(struct ifnet *ifp, const struct in6_addr *dst, const struct in6_addr *target,
    uint32_t flags, int tllao);

/* nd6_rtr.c */
void nd6_rtr_ifattach(struct ifnet *ifp); /* RS when accept_rtadv */
void nd6_rtr_ifdetach(struct ifnet *ifp);
void nd6_rtr_fini(struct ust_stack *st);
/* Arms nd6.c's lifetime walk when something has a lifetime. */
void nd6_timer_arm(struct ust_stack *st);
/* The timer walk of prefix, router and address lifetimes. */
void nd6_rtr_timer(struct ust_stack *st);
/* DAD found a SLAAC address duplicated: RFC 7217 6's next identifier. */
void nd6_slaac_dad_failed(struct in6_ifaddr *ia);
/* A router said R=0 in an NA (RFC 4861 7.2.5): forget it as a router. */
void nd6_router_gone(struct ifnet *ifp, const struct in6_addr *a);

/* in6_ifattach.c */
/* The RFC 7217 interface identifier for prefix on ifp with DAD counter
 * dad (the low 64 bits of *out; the rest is prefix). */
void in6_stable_iid(struct ifnet *ifp, const struct in6_addr *prefix, uint32_t dad,
    struct in6_addr *out);
/* The modified EUI-64 identifier (RFC 4291 appendix A) from the MAC. */
void in6_eui64_iid(const struct ifnet *ifp, const struct in6_addr *prefix, struct in6_addr *out);
/* The identifier a new address of prefix gets on ifp
 * (net.inet6.ip6.use_stableaddr: RFC 7217, else EUI-64). */
void in6_make_iid(struct ifnet *ifp, const struct in6_addr *prefix, uint32_t dad,
    struct in6_addr *out);

/* The link-local address of ifp (auto_linklocal), unless it has one. */
void in6_ifattach_linklocal(struct ifnet *ifp);

/* mld6.c */
void mld_ifdetach(struct ifnet *ifp);

#endif /* _USTACK_NETINET6_ND6_VAR_H_ */
