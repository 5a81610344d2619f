/*
 * nd6_nbr.c - neighbor solicitation and advertisement, duplicate address
 * detection (RFC 4861 7, RFC 4862 5.4, RFC 7527; FreeBSD
 * netinet6/nd6_nbr.c).
 *
 * Input is validated as RFC 4861 7.1 says: hop limit 255 (icp6s_invlhlim),
 * code 0 and the lengths (icp6s_badns / icp6s_badna), a well-formed and
 * bounded option list.  A solicitation for one of our ready addresses is
 * answered; one for a tentative address, from ::, is another node's DAD
 * (ours fails) unless it carries our own nonce (RFC 7527: a loop).  An
 * advertisement for a target without a cache entry is ignored (7.2.5).
 * In a group of stacks, a copy (M_RSSCOPY) of a solicitation another stack
 * received teaches the sender's link-layer address (and a DAD probe for a
 * tentative address still fails it) but is never answered; a copy of an
 * advertisement is processed as the frame itself.
 */
#include <string.h>

#include "kern/kern_hash.h"
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "net/rss_config.h"
#include "netinet/in_route.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

#define ND_OPT_NONCE 14 /* RFC 3971 5.3.2, used by RFC 7527 */

/* Fills in from m; -1 when it cannot be read (too short). */
int
nd6_in_read(struct mbuf *m, uint32_t off, uint32_t icmp6len, struct nd6_in *in)
{
	uint8_t h[IP6_HDRLEN];

	in->ifp = m->m_pkthdr.rcvif;
	in->st = in->ifp->if_stack;
	in->len = icmp6len < ND6_MSG_MAX ? icmp6len : ND6_MSG_MAX;
	if (m_copydata(m, 0, IP6_HDRLEN, h) != 0 || ip6_hdr_parse(h, sizeof(h), &in->ip6) != 0 ||
	    m_copydata(m, off, in->len, in->buf) != 0)
		return (-1);
	return (0);
}

/* ---------------------------------------------------------------------
 * Output.
 * ------------------------------------------------------------------- */

void
nd6_ns_output(struct ifnet *ifp, const struct in6_addr *src, const struct in6_addr *dst,
    const struct in6_addr *target, const uint8_t *nonce)
{
	struct ust_stack *st = ifp->if_stack;
	struct nd_neighbor n;
	uint8_t b[ND_NS_LEN + 16];
	uint32_t len = ND_NS_LEN;
	struct mbuf *m;

	memset(&n, 0, sizeof(n));
	n.nd_target = *target;
	nd_neighbor_write(b, ND_NEIGHBOR_SOLICIT, &n);
	/* RFC 4861 4.3: no source link-layer option from :: (DAD). */
	if (!IN6_IS_ADDR_UNSPECIFIED(src)) {
		b[len] = ND_OPT_SOURCE_LINKADDR;
		b[len + 1] = 1;
		memcpy(b + len + 2, ifp->if_hwaddr, ETHER_ADDR_LEN);
		len += ND_OPT_LINKADDR_LEN;
	}
	if (nonce != NULL) {
		b[len] = ND_OPT_NONCE;
		b[len + 1] = 1;
		memcpy(b + len + 2, nonce, 6);
		len += 8;
	}
	if ((m = nd6_msg(st, b, len)) == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return;
	}
	ICMP6STAT_INC(st, icp6s_nsout);
	(void)nd6_send(ifp, m, src, dst, IPV6_MAXHLIM, 0);
}

void
nd6_na_output(struct ifnet *ifp, const struct in6_addr *dst, const struct in6_addr *target,
    uint32_t flags, int tllao)
{
	struct ust_stack *st = ifp->if_stack;
	struct nd_neighbor n;
	uint8_t b[ND_NA_LEN + ND_OPT_LINKADDR_LEN];
	uint32_t len = ND_NA_LEN;
	struct mbuf *m;

	memset(&n, 0, sizeof(n));
	n.nd_flags = flags;
	n.nd_target = *target;
	nd_neighbor_write(b, ND_NEIGHBOR_ADVERT, &n);
	if (tllao) {
		b[len] = ND_OPT_TARGET_LINKADDR;
		b[len + 1] = 1;
		memcpy(b + len + 2, ifp->if_hwaddr, ETHER_ADDR_LEN);
		len += ND_OPT_LINKADDR_LEN;
	}
	if ((m = nd6_msg(st, b, len)) == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return;
	}
	ICMP6STAT_INC(st, icp6s_naout);
	/* RFC 4861 7.2.4: from the target (one of our addresses there). */
	(void)nd6_send(ifp, m, target, dst, IPV6_MAXHLIM, 0);
}

/* ---------------------------------------------------------------------
 * Duplicate address detection (RFC 4862 5.4).
 * ------------------------------------------------------------------- */

/*
 * RFC 7527's nonce for a DAD run: random.  In a group of stacks (each
 * adds the address and probes it) every stack draws the same nonce for
 * the same address, from the group's shared RFC 7217 secret: a probe that
 * one of them sent and the link looped back may arrive on any stack's
 * queue (or as a copy), and must be seen as a loop, not as another
 * node's probe.
 */
static void
nd6_dad_nonce(struct ust_stack *st, struct in6_ifaddr *ia)
{
#if UST_SMP
	if (rss_active(st)) {
		uint64_t w[2], h;

		memcpy(w, ia->ia_addr.s6_addr8, 16);
		h = mix64(st->st_nd6->nd_secret[0] ^ w[0]);
		h = mix64(h ^ st->st_nd6->nd_secret[1] ^ w[1]);
		memcpy(ia->ia6_dad_nonce, &h, sizeof(ia->ia6_dad_nonce));
		return;
	}
#endif
	ust_rng_bytes(&st->st_rng, ia->ia6_dad_nonce, sizeof(ia->ia6_dad_nonce));
}

static void
nd6_dad_timer(void *arg)
{
	struct in6_ifaddr *ia = arg;
	struct ifnet *ifp = ia->ia_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_addr any = IN6ADDR_ANY_INIT, sol;
	uint32_t retrans = IN6_IFEXTRA(ifp) != NULL ? ND_IFINFO(ifp)->retrans : RETRANS_TIMER;

	if (!ia->ia6_dad_running || (ia->ia6_flags & IN6_IFF_DUPLICATED))
		return;
	if ((int64_t)ia->ia6_dad_ns_ocount < V(st, ip6_dad_count)) {
		ia->ia6_dad_ns_ocount++;
		ia->ia6_dad_ns_tcount++;
		in6_solicited_node(&ia->ia_addr, &sol);
		callout_reset(&st->st_wheel, &ia->ia6_dadtimer, stack_now(st),
		    (uint64_t)retrans * ND6_MS, nd6_dad_timer, ia);
		nd6_ns_output(ifp, &any, &sol, &ia->ia_addr,
		    V(st, ip6_dad_enhanced) ? ia->ia6_dad_nonce : NULL);
		return;
	}
	/* RetransTimer after the last solicitation and nobody objected:
	 * the address is ours (RFC 4862 5.4.5's other branch). */
	ia->ia6_dad_running = 0;
	ia->ia6_flags &= ~(uint32_t)IN6_IFF_TENTATIVE;
	rt_gen_bump(st); /* a source to choose now */
}

void
nd6_dad_start(struct in6_ifaddr *ia, uint32_t delay_ms)
{
	struct ifnet *ifp = ia->ia_ifp;
	struct ust_stack *st = ifp->if_stack;

	if (!(ia->ia6_flags & IN6_IFF_TENTATIVE))
		return;
	if (V(st, ip6_dad_count) == 0 || (ia->ia6_flags & (IN6_IFF_NODAD | IN6_IFF_ANYCAST))) {
		ia->ia6_flags &= ~(uint32_t)IN6_IFF_TENTATIVE;
		return;
	}
	ia->ia6_dad_ns_ocount = ia->ia6_dad_ns_icount = ia->ia6_dad_na_icount = 0;
	ia->ia6_dad_ns_tcount = 0;
	nd6_dad_nonce(st, ia);
	ia->ia6_dad_running = 1;
	/* From the next poll at the earliest: the interface may still be
	 * attaching. */
	callout_reset(&st->st_wheel, &ia->ia6_dadtimer, stack_now(st), (uint64_t)delay_ms * ND6_MS,
	    nd6_dad_timer, ia);
}

void
nd6_dad_stop(struct in6_ifaddr *ia)
{
	if (!ia->ia6_dad_running)
		return;
	ia->ia6_dad_running = 0;
	callout_stop(&ia->ia_ifp->if_stack->st_wheel, &ia->ia6_dadtimer);
}

/* Somebody else has ia (RFC 4862 5.4.5). */
static void
nd6_dad_duplicated(struct in6_ifaddr *ia)
{
	struct ifnet *ifp = ia->ia_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_addr eui;

	nd6_dad_stop(ia);
	ia->ia6_flags &= ~(uint32_t)IN6_IFF_TENTATIVE;
	ia->ia6_flags |= IN6_IFF_DUPLICATED;
	rt_gen_bump(st);
	ICMP6STAT_INC(st, icp6s_dupaddr);
	ST_LOG(st, UST_LOG_WARNING, "%s: DAD detected a duplicate IPv6 address", ifp->if_xname);
	nd6_slaac_dad_failed(ia);
	/* A link-local address from the hardware address: the MAC itself
	 * is in use twice, so IPv6 stops on the interface (5.4.5). */
	if (IN6_IS_ADDR_LINKLOCAL(&ia->ia_addr) && IN6_IFEXTRA(ifp) != NULL) {
		in6_eui64_iid(ifp, &ia->ia_addr, &eui);
		if (in6_are_addr_equal(&eui, &ia->ia_addr))
			ND_IFINFO(ifp)->flags |= ND6_IFF_IFDISABLED;
	}
}

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

/* The nonce option of a solicitation (RFC 7527), or NULL. */
static const uint8_t *
nd6_find_nonce(const uint8_t *p, uint32_t len)
{
	struct nd_opt_iter it;
	const uint8_t *opt;
	uint32_t olen;
	uint8_t type;

	nd_opt_init(&it, p, len);
	while (nd_opt_next(&it, &type, &opt, &olen) == 1)
		if (type == ND_OPT_NONCE && olen == 8)
			return (opt + 2);
	return (NULL);
}

void
nd6_ns_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;
	struct ust_stack *st;
	struct ifnet *ifp;
	struct nd_neighbor ns;
	struct nd_opts opts;
	struct in6_ifaddr *ia;
	struct in6_addr sol, allnodes = IN6ADDR_LINKLOCAL_ALLNODES_INIT;
	const uint8_t *lladdr, *nonce;
	int unspec, r;

	if (nd6_in_read(m, off, icmp6len, &in) != 0) {
		ICMP6STAT_INC(m->m_pkthdr.rcvif->if_stack, icp6s_badns);
		goto drop;
	}
	ifp = in.ifp;
	st = in.st;
	if (in.ip6.ip6_hlim != IPV6_MAXHLIM) {
		ICMP6STAT_INC(st, icp6s_invlhlim);
		goto drop;
	}
	if (in.buf[1] != 0 || icmp6len < ND_NS_LEN || nd_neighbor_parse(in.buf, in.len, &ns) != 0 ||
	    IN6_IS_ADDR_MULTICAST(&ns.nd_target))
		goto bad;
	unspec = IN6_IS_ADDR_UNSPECIFIED(&in.ip6.ip6_src);
	in6_solicited_node(&ns.nd_target, &sol);
	/* RFC 4861 7.1.1: from ::, only to the solicited-node group. */
	if (unspec && !in6_are_addr_equal(&in.ip6.ip6_dst, &sol))
		goto bad;
	r = nd6_options(in.buf + ND_NS_LEN, in.len - ND_NS_LEN, &opts);
	if (r == -1)
		goto bad;
	if (r == -2)
		ICMP6STAT_INC(st, icp6s_nd_toomanyopt);
	lladdr = nd_opt_lladdr(opts.nd_opts_src_lladdr);
	if (unspec && opts.nd_opts_src_lladdr != NULL)
		goto bad;
	ia = in6ifa_find(st, &ns.nd_target, ifp);
	if (ia == NULL || ia->ia_ifp != ifp || (ia->ia6_flags & IN6_IFF_DUPLICATED))
		goto drop; /* not ours: no proxy */
	if (ia->ia6_flags & IN6_IFF_TENTATIVE) {
		/* RFC 4862 5.4.3: a solicitation from a node doing
		 * resolution is ignored; one from :: is a DAD probe for the
		 * same address, unless it is our own looped back. */
		if (unspec) {
			nonce = nd6_find_nonce(in.buf + ND_NS_LEN, in.len - ND_NS_LEN);
			if (nonce != NULL && V(st, ip6_dad_enhanced) &&
			    memcmp(nonce, ia->ia6_dad_nonce, 6) == 0) {
				ICMP6STAT_INC(st, icp6s_dadloop);
				goto drop;
			}
			ia->ia6_dad_ns_icount++;
			nd6_dad_duplicated(ia);
		}
		goto drop;
	}
	if (m->m_flags & M_RSSCOPY) {
		/* A group's copy of a solicitation another stack received
		 * and answers: learn the sender's address, send nothing. */
		if (!unspec)
			nd6_cache_lladdr(ifp, &in.ip6.ip6_src, lladdr, ND_NEIGHBOR_SOLICIT, 0);
		goto drop;
	}
	if (unspec) {
		/* RFC 4861 7.2.4: to all-nodes, not solicited. */
		nd6_na_output(ifp, &allnodes, &ns.nd_target,
		    (ia->ia6_flags & IN6_IFF_ANYCAST) ? 0 : ND_NA_FLAG_OVERRIDE, 1);
		goto drop;
	}
	nd6_cache_lladdr(ifp, &in.ip6.ip6_src, lladdr, ND_NEIGHBOR_SOLICIT, 0);
	nd6_na_output(ifp, &in.ip6.ip6_src, &ns.nd_target,
	    ND_NA_FLAG_SOLICITED | ((ia->ia6_flags & IN6_IFF_ANYCAST) ? 0 : ND_NA_FLAG_OVERRIDE),
	    1);
	goto drop;
bad:
	ICMP6STAT_INC(st, icp6s_badns);
drop:
	m_freem(m);
}

void
nd6_na_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;
	struct ust_stack *st;
	struct ifnet *ifp;
	struct nd_neighbor na;
	struct nd_opts opts;
	struct in6_ifaddr *ia;
	struct llentry6 *ln;
	const uint8_t *lladdr;
	int r, solicited, override, router, llchange;

	if (nd6_in_read(m, off, icmp6len, &in) != 0) {
		ICMP6STAT_INC(m->m_pkthdr.rcvif->if_stack, icp6s_badna);
		goto drop;
	}
	ifp = in.ifp;
	st = in.st;
	if (in.ip6.ip6_hlim != IPV6_MAXHLIM) {
		ICMP6STAT_INC(st, icp6s_invlhlim);
		goto drop;
	}
	if (in.buf[1] != 0 || icmp6len < ND_NA_LEN || nd_neighbor_parse(in.buf, in.len, &na) != 0 ||
	    IN6_IS_ADDR_MULTICAST(&na.nd_target))
		goto bad;
	solicited = (na.nd_flags & ND_NA_FLAG_SOLICITED) != 0;
	override = (na.nd_flags & ND_NA_FLAG_OVERRIDE) != 0;
	router = (na.nd_flags & ND_NA_FLAG_ROUTER) != 0;
	/* RFC 4861 7.1.2: solicited ones are unicast. */
	if (solicited && IN6_IS_ADDR_MULTICAST(&in.ip6.ip6_dst))
		goto bad;
	r = nd6_options(in.buf + ND_NA_LEN, in.len - ND_NA_LEN, &opts);
	if (r == -1)
		goto bad;
	if (r == -2)
		ICMP6STAT_INC(st, icp6s_nd_toomanyopt);
	lladdr = nd_opt_lladdr(opts.nd_opts_tgt_lladdr);
	ia = in6ifa_find(st, &na.nd_target, ifp);
	if (ia != NULL && ia->ia_ifp == ifp) {
		/* RFC 4862 5.4.4: an advertisement for a tentative address
		 * of ours means another node has it. */
		if (ia->ia6_flags & IN6_IFF_TENTATIVE) {
			ia->ia6_dad_na_icount++;
			nd6_dad_duplicated(ia);
		} else
			ST_LOG(st, UST_LOG_WARNING,
			    "%s: neighbor advertisement for one of our IPv6 addresses",
			    ifp->if_xname);
		goto drop;
	}
	ln = nd6_lookup(ifp, &na.nd_target);
	if (ln == NULL) {
		ICMP6STAT_INC(st, icp6s_nd_unsolna); /* 7.2.5: no entry, no new one */
		goto drop;
	}
	if (ln->ln_flags & UST_ND6_STATIC)
		goto drop;
	if (ln->ln_state == ND6_LLINFO_INCOMPLETE) {
		if (lladdr == NULL)
			goto drop;
		memcpy(ln->ln_mac, lladdr, ETHER_ADDR_LEN);
		if (solicited)
			nd6_reachable(ln);
		else
			nd6_llinfo_settimer(ln, ND6_LLINFO_STALE,
			    (uint64_t)V(st, nd6_gctimer) * ND6_MS * 1000u);
		if (router)
			ln->ln_flags |= UST_ND6_ISROUTER;
		nd6_flush_hold(ln);
		goto drop;
	}
	llchange = lladdr != NULL && memcmp(lladdr, ln->ln_mac, ETHER_ADDR_LEN) != 0;
	if (!override && llchange) {
		/* 7.2.5: a different address without O only makes a
		 * REACHABLE entry suspect. */
		if (ln->ln_state == ND6_LLINFO_REACHABLE)
			nd6_llinfo_settimer(ln, ND6_LLINFO_STALE,
			    (uint64_t)V(st, nd6_gctimer) * ND6_MS * 1000u);
		goto drop;
	}
	if (llchange)
		memcpy(ln->ln_mac, lladdr, ETHER_ADDR_LEN);
	if (solicited)
		nd6_reachable(ln);
	else if (llchange)
		nd6_llinfo_settimer(ln, ND6_LLINFO_STALE,
		    (uint64_t)V(st, nd6_gctimer) * ND6_MS * 1000u);
	if ((ln->ln_flags & UST_ND6_ISROUTER) && !router) {
		ln->ln_flags &= ~UST_ND6_ISROUTER;
		nd6_router_gone(ifp, &ln->ln_addr);
	} else if (router)
		ln->ln_flags |= UST_ND6_ISROUTER;
	nd6_flush_hold(ln);
	goto drop;
bad:
	ICMP6STAT_INC(st, icp6s_badna);
drop:
	m_freem(m);
}
