/*
 * nd6_rtr.c - router and prefix discovery, stateless address
 * autoconfiguration and redirects, the host side (RFC 4861 6, 8; RFC
 * 4862 5.5; FreeBSD netinet6/nd6_rtr.c).
 *
 * Router solicitations go out at attach when the interface accepts
 * advertisements (net.inet6.ip6.accept_rtadv): after a random delay up
 * to 1 s, then every 4 s, 3 in all, until an advertisement arrives.  An
 * advertisement is taken only from a link-local source with hop limit
 * 255 (6.1.2; icp6s_invlhlim, icp6s_badra).  The default router list
 * (net.inet6.ip6.maxifdefrouters per interface) and the prefix list
 * (net.inet6.ip6.maxifprefixes) are bounded: what does not fit is counted
 * (icp6s_overflowdefrtr, icp6s_overflowprfx) and dropped, so a flood
 * costs no memory.  On-link prefixes become routes (rt6_add), the first
 * live router the default route; autonomous /64 prefixes an address
 * (UST_IN6_IFF_AUTOCONF) with its lifetimes and the two-hour rule of RFC
 * 4862 5.5.3 (e); addresses past their preferred lifetime are
 * DEPRECATED, past their valid lifetime gone.  Redirects are taken only
 * with net.inet6.icmp6.rediraccept (0 by default: FreeBSD has 1).
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet/in_route.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

#define ND6_SEC ((uint64_t)1000000000u)
#define ND6_INFINITE 0xffffffffu
#define ND6_TWOHOURS 7200u        /* RFC 4862 5.5.3 (e) */
#define MAX_REACHABLE_MS 3600000u /* RFC 4861 6.2.1 MaxRtrAdvInterval bound */

/* A lifetime in seconds as a stack time (0: infinite). */
static uint64_t
nd6_lt(uint64_t now, uint32_t sec)
{
	return (sec == ND6_INFINITE ? 0 : now + (uint64_t)sec * ND6_SEC);
}

/* ---------------------------------------------------------------------
 * Router solicitation (RFC 4861 6.3.7).
 * ------------------------------------------------------------------- */

static void
nd6_rs_timer(void *arg)
{
	struct nd6_rsstate *rs = arg;
	struct ifnet *ifp = rs->rs_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_addr src = IN6ADDR_ANY_INIT, dst = IN6ADDR_LINKLOCAL_ALLROUTERS_INIT;
	struct in6_ifaddr *ia;
	uint8_t b[ND_RS_LEN + ND_OPT_LINKADDR_LEN];
	uint32_t len = ND_RS_LEN;
	struct mbuf *m;

	if (rs->rs_count >= MAX_RTR_SOLICITATIONS)
		return;
	memset(b, 0, sizeof(b));
	b[0] = ND_ROUTER_SOLICIT;
	/* From the link-local address once DAD is done, else from ::
	 * without a source link-layer option (4.1). */
	if ((ia = in6ifa_ifpforlinklocal(ifp, IN6_IFF_NOTREADY)) != NULL) {
		src = ia->ia_addr;
		b[len] = ND_OPT_SOURCE_LINKADDR;
		b[len + 1] = 1;
		memcpy(b + len + 2, ifp->if_hwaddr, ETHER_ADDR_LEN);
		len += ND_OPT_LINKADDR_LEN;
	}
	rs->rs_count++;
	if (rs->rs_count < MAX_RTR_SOLICITATIONS)
		callout_reset(&st->st_wheel, &rs->rs_timer, stack_now(st),
		    (uint64_t)RTR_SOLICITATION_INTERVAL * ND6_MS, nd6_rs_timer, rs);
	if ((m = nd6_msg(st, b, len)) == NULL) {
		IP6STAT_INC(st, ip6s_odropped);
		return;
	}
	ICMP6STAT_INC(st, icp6s_rsout);
	(void)nd6_send(ifp, m, &src, &dst, IPV6_MAXHLIM, 0);
}

void
nd6_rtr_ifattach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct nd6_rsstate *rs;
	uint32_t delay;

	if (ext == NULL || !(ext->nd_ifinfo.flags & ND6_IFF_ACCEPT_RTADV) ||
	    ext->nd_ifextra != NULL)
		return;
	rs = st_malloc(st, sizeof(*rs));
	if (rs == NULL)
		return;
	callout_init(&rs->rs_timer);
	rs->rs_ifp = ifp;
	ext->nd_ifextra = rs;
	/* RFC 4861 6.3.7: a random delay up to MAX_RTR_SOLICITATION_DELAY;
	 * with DAD on, after the link-local address had its RetransTimer
	 * (5.4 of RFC 4862 lets the RS wait for it). */
	delay = ust_rng_uniform(&st->st_rng, MAX_RTR_SOLICITATION_DELAY);
	if (V(st, ip6_dad_count) > 0)
		delay += (uint32_t)V(st, ip6_dad_count) * ext->nd_ifinfo.retrans + 1;
	callout_reset(&st->st_wheel, &rs->rs_timer, stack_now(st), (uint64_t)delay * ND6_MS,
	    nd6_rs_timer, rs);
}

static void
nd6_rs_stop(struct ifnet *ifp)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct nd6_rsstate *rs;

	if (ext == NULL || (rs = ext->nd_ifextra) == NULL)
		return;
	callout_stop(&ifp->if_stack->st_wheel, &rs->rs_timer);
	rs->rs_count = MAX_RTR_SOLICITATIONS;
}

/* ---------------------------------------------------------------------
 * Default routers.
 * ------------------------------------------------------------------- */

static unsigned
nd6_dr_count(struct ust_stack *st, const struct ifnet *ifp)
{
	struct nd_defrouter *dr;
	unsigned n = 0;

	for (dr = st->st_nd6->nd_routers; dr != NULL; dr = dr->dr_next)
		if (dr->dr_ifp == ifp)
			n++;
	return (n);
}

/* The default route goes through the first router of the list (FreeBSD
 * defrouter_select without preferences): installed when none is. */
static void
nd6_defrtr_select(struct ust_stack *st)
{
	struct nd_defrouter *dr;
	struct in6_addr any = IN6ADDR_ANY_INIT;

	for (dr = st->st_nd6->nd_routers; dr != NULL; dr = dr->dr_next)
		if (dr->dr_installed)
			return;
	for (dr = st->st_nd6->nd_routers; dr != NULL; dr = dr->dr_next) {
		if (ND_IFINFO(dr->dr_ifp)->flags & ND6_IFF_NO_RADR)
			continue;
		if (rt6_add(st, &any, 0, &dr->dr_addr, dr->dr_ifp, UST_RTF_UP | UST_RTF_GATEWAY,
		        dr->dr_expire) == 0)
			dr->dr_installed = 1;
		return;
	}
}

static void
nd6_defrtr_del(struct ust_stack *st, struct nd_defrouter **pp)
{
	struct nd_defrouter *dr = *pp;
	struct in6_addr any = IN6ADDR_ANY_INIT;

	*pp = dr->dr_next;
	if (dr->dr_installed)
		(void)rt6_del(st, &any, 0, dr->dr_ifp);
	st_free(st, dr, sizeof(*dr));
	nd6_defrtr_select(st);
}

static struct nd_defrouter **
nd6_defrtr_find(struct ust_stack *st, const struct ifnet *ifp, const struct in6_addr *a)
{
	struct nd_defrouter **pp;

	for (pp = &st->st_nd6->nd_routers; *pp != NULL; pp = &(*pp)->dr_next)
		if ((*pp)->dr_ifp == ifp && in6_are_addr_equal(&(*pp)->dr_addr, a))
			return (pp);
	return (NULL);
}

void
nd6_router_gone(struct ifnet *ifp, const struct in6_addr *a)
{
	struct ust_stack *st = ifp->if_stack;
	struct nd_defrouter **pp;

	if (st->st_nd6 != NULL && (pp = nd6_defrtr_find(st, ifp, a)) != NULL)
		nd6_defrtr_del(st, pp);
}

static void
nd6_defrtr_update(struct ifnet *ifp, const struct in6_addr *a, uint16_t lifetime)
{
	struct ust_stack *st = ifp->if_stack;
	struct nd_defrouter **pp, *dr;
	struct in6_addr any = IN6ADDR_ANY_INIT;
	uint64_t now = stack_now(st);

	pp = nd6_defrtr_find(st, ifp, a);
	if (lifetime == 0) {
		if (pp != NULL)
			nd6_defrtr_del(st, pp);
		return;
	}
	if (pp == NULL) {
		if ((int64_t)nd6_dr_count(st, ifp) >= V(st, ip6_maxifdefrouters)) {
			ICMP6STAT_INC(st, icp6s_overflowdefrtr);
			return;
		}
		dr = st_malloc(st, sizeof(*dr));
		if (dr == NULL)
			return;
		dr->dr_ifp = ifp;
		dr->dr_addr = *a;
		for (pp = &st->st_nd6->nd_routers; *pp != NULL; pp = &(*pp)->dr_next)
			;
		*pp = dr;
	}
	dr = *pp;
	dr->dr_expire = now + (uint64_t)lifetime * ND6_SEC;
	if (dr->dr_installed) {
		/* The route's lifetime follows the router's. */
		(void)rt6_del(st, &any, 0, ifp);
		dr->dr_installed = 0;
	}
	nd6_defrtr_select(st);
}

/* ---------------------------------------------------------------------
 * Prefixes and SLAAC (RFC 4862 5.5.3).
 * ------------------------------------------------------------------- */

static unsigned
nd6_pr_count(struct ust_stack *st, const struct ifnet *ifp)
{
	struct nd_prefix *pr;
	unsigned n = 0;

	for (pr = st->st_nd6->nd_prefixes; pr != NULL; pr = pr->ndpr_next)
		if (pr->ndpr_ifp == ifp)
			n++;
	return (n);
}

static struct nd_prefix **
nd6_pr_find(struct ust_stack *st, const struct ifnet *ifp, const struct in6_addr *p, unsigned plen)
{
	struct nd_prefix **pp;

	for (pp = &st->st_nd6->nd_prefixes; *pp != NULL; pp = &(*pp)->ndpr_next)
		if ((*pp)->ndpr_ifp == ifp && (*pp)->ndpr_plen == plen &&
		    in6_are_addr_equal(&(*pp)->ndpr_prefix, p))
			return (pp);
	return (NULL);
}

static void
nd6_pr_del(struct ust_stack *st, struct nd_prefix **pp)
{
	struct nd_prefix *pr = *pp;
	struct in6_ifaddr *ia;

	*pp = pr->ndpr_next;
	if (pr->ndpr_onlink)
		(void)rt6_del(st, &pr->ndpr_prefix, pr->ndpr_plen, pr->ndpr_ifp);
	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia6_ndpr == pr)
			ia->ia6_ndpr = NULL;
	st_free(st, pr, sizeof(*pr));
}

/* The SLAAC address of prefix pi on ifp, or NULL. */
static struct in6_ifaddr *
nd6_autoconf_find(struct ust_stack *st, struct ifnet *ifp, const struct in6_addr *p, unsigned plen)
{
	struct in6_ifaddr *ia;

	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = ia->ia_next)
		if (ia->ia_ifp == ifp && (ia->ia6_flags & IN6_IFF_AUTOCONF) &&
		    !(ia->ia6_flags & IN6_IFF_DUPLICATED) && ia->ia_plen == plen &&
		    in6_prefix_match(&ia->ia_addr, p, plen))
			return (ia);
	return (NULL);
}

static void
nd6_autoconf(struct ifnet *ifp, struct nd_prefix *pr, const struct nd_opt_prefix_info *pi)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifaddr *ia;
	struct in6_addr a;
	uint64_t now = stack_now(st), remain;
	uint32_t vl = pi->nd_opt_pi_valid_time, pl = pi->nd_opt_pi_preferred_time;

	/* 5.5.3 (d): the prefix and an identifier make 128 bits; ours
	 * are 64. */
	if (pi->nd_opt_pi_prefix_len != 64)
		return;
	ia = nd6_autoconf_find(st, ifp, &pi->nd_opt_pi_prefix, 64);
	if (ia == NULL) {
		if (vl == 0)
			return;
		in6_make_iid(ifp, &pi->nd_opt_pi_prefix, pr != NULL ? pr->ndpr_dad_retries : 0, &a);
		if (in6_addr_add(ifp, &a, 64, IN6_IFF_AUTOCONF, &ia) != 0)
			return;
		ICMP6STAT_INC(st, icp6s_slaac);
		ia->ia6_lifetime.ia6t_vltime = vl;
		ia->ia6_lifetime.ia6t_expire = nd6_lt(now, vl);
	} else {
		/* (e): the two-hour rule against a forged short lifetime. */
		remain = ia->ia6_lifetime.ia6t_expire == 0 ?
		    UINT64_MAX :
		    (ia->ia6_lifetime.ia6t_expire > now ?
		            (ia->ia6_lifetime.ia6t_expire - now) / ND6_SEC :
		            0);
		if (vl > ND6_TWOHOURS || (uint64_t)vl > remain) {
			ia->ia6_lifetime.ia6t_vltime = vl;
			ia->ia6_lifetime.ia6t_expire = nd6_lt(now, vl);
		} else if (remain > ND6_TWOHOURS) {
			ia->ia6_lifetime.ia6t_vltime = ND6_TWOHOURS;
			ia->ia6_lifetime.ia6t_expire = now + (uint64_t)ND6_TWOHOURS * ND6_SEC;
		}
		/* else: RemainingLifetime <= 2 hours, ignored */
	}
	ia->ia6_ndpr = pr;
	ia->ia6_lifetime.ia6t_pltime = pl;
	ia->ia6_lifetime.ia6t_preferred = nd6_lt(now, pl);
	if (pl == 0)
		ia->ia6_flags |= IN6_IFF_DEPRECATED;
	else
		ia->ia6_flags &= ~(uint32_t)IN6_IFF_DEPRECATED;
	rt_gen_bump(st); /* source selection may choose otherwise */
}

#define IDGEN_RETRIES 3 /* RFC 7217 6 */

void
nd6_slaac_dad_failed(struct in6_ifaddr *ia)
{
	struct ifnet *ifp = ia->ia_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct nd_prefix *pr = ia->ia6_ndpr;
	struct in6_ifaddr *nia;
	struct in6_addr a;

	/* RFC 7217 6: a stable identifier that collided is made again
	 * with the next DAD counter, IDGEN_RETRIES times at most. */
	if (!(ia->ia6_flags & IN6_IFF_AUTOCONF) || pr == NULL || !V(st, ip6_use_stableaddr) ||
	    pr->ndpr_dad_retries >= IDGEN_RETRIES)
		return;
	pr->ndpr_dad_retries++;
	in6_stable_iid(ifp, &pr->ndpr_prefix, pr->ndpr_dad_retries, &a);
	if (in6_addr_add(ifp, &a, ia->ia_plen, IN6_IFF_AUTOCONF, &nia) != 0)
		return;
	ICMP6STAT_INC(st, icp6s_slaac);
	nia->ia6_lifetime = ia->ia6_lifetime;
	nia->ia6_ndpr = pr;
	ia->ia6_ndpr = NULL; /* the prefix's address is the new one */
}

static void
nd6_prefix_input(struct ifnet *ifp, const uint8_t *opt)
{
	struct ust_stack *st = ifp->if_stack;
	struct nd_opt_prefix_info pi;
	struct nd_prefix **pp, *pr = NULL;
	uint64_t now = stack_now(st);
	unsigned plen;

	if (nd_opt_pi_parse(opt, ND_OPT_PI_LEN, &pi) != 0) {
		ICMP6STAT_INC(st, icp6s_badra);
		return;
	}
	plen = pi.nd_opt_pi_prefix_len;
	/* 6.3.4 / 5.5.3 (a)-(c): no link-local prefix, sane lengths and
	 * lifetimes. */
	if (plen > 128 || IN6_IS_ADDR_LINKLOCAL(&pi.nd_opt_pi_prefix) ||
	    IN6_IS_ADDR_MULTICAST(&pi.nd_opt_pi_prefix) ||
	    pi.nd_opt_pi_preferred_time > pi.nd_opt_pi_valid_time)
		return;
	in6_prefix_mask(&pi.nd_opt_pi_prefix, plen);
	pp = nd6_pr_find(st, ifp, &pi.nd_opt_pi_prefix, plen);
	if (pp == NULL && pi.nd_opt_pi_valid_time != 0) {
		if ((int64_t)nd6_pr_count(st, ifp) >= V(st, ip6_maxifprefixes)) {
			ICMP6STAT_INC(st, icp6s_overflowprfx);
			return; /* no prefix, no address: bounded */
		}
		pr = st_malloc(st, sizeof(*pr));
		if (pr == NULL)
			return;
		pr->ndpr_ifp = ifp;
		pr->ndpr_prefix = pi.nd_opt_pi_prefix;
		pr->ndpr_plen = plen;
		for (pp = &st->st_nd6->nd_prefixes; *pp != NULL; pp = &(*pp)->ndpr_next)
			;
		*pp = pr;
	} else if (pp != NULL)
		pr = *pp;
	if (pr != NULL) {
		pr->ndpr_vltime = pi.nd_opt_pi_valid_time;
		pr->ndpr_pltime = pi.nd_opt_pi_preferred_time;
		pr->ndpr_expire = nd6_lt(now, pi.nd_opt_pi_valid_time);
		if ((pi.nd_opt_pi_flags_reserved & ND_OPT_PI_FLAG_ONLINK) && !pr->ndpr_onlink &&
		    pi.nd_opt_pi_valid_time != 0) {
			int e = rt6_add(st, &pr->ndpr_prefix, plen, NULL, ifp, UST_RTF_UP, 0);

			pr->ndpr_onlink = (e == 0);
		}
	}
	if (pi.nd_opt_pi_flags_reserved & ND_OPT_PI_FLAG_AUTO)
		nd6_autoconf(ifp, pr, &pi);
	/* A valid lifetime of 0 for an on-link prefix: off-link now
	 * (6.3.4). */
	if (pr != NULL && pi.nd_opt_pi_valid_time == 0 &&
	    (pp = nd6_pr_find(st, ifp, &pi.nd_opt_pi_prefix, plen)) != NULL)
		nd6_pr_del(st, pp);
}

/* ---------------------------------------------------------------------
 * Input.
 * ------------------------------------------------------------------- */

void
nd6_rs_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;

	/* A host ignores solicitations (RFC 4861 6.2.6); bad ones are
	 * counted. */
	if (nd6_in_read(m, off, icmp6len, &in) == 0) {
		if (in.ip6.ip6_hlim != IPV6_MAXHLIM)
			ICMP6STAT_INC(in.st, icp6s_invlhlim);
		else if (in.buf[1] != 0 || icmp6len < ND_RS_LEN)
			ICMP6STAT_INC(in.st, icp6s_badrs);
	}
	m_freem(m);
}

void
nd6_ra_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;
	struct ust_stack *st;
	struct ifnet *ifp;
	struct nd_ifinfo *ndi;
	struct nd_router_advert ra;
	struct nd_opts opts;
	struct nd_opt_iter it;
	const uint8_t *opt;
	uint32_t olen, mtu;
	uint8_t type;
	int r;

	if (nd6_in_read(m, off, icmp6len, &in) != 0)
		goto drop;
	ifp = in.ifp;
	st = in.st;
	if (in.ip6.ip6_hlim != IPV6_MAXHLIM) {
		ICMP6STAT_INC(st, icp6s_invlhlim);
		goto drop;
	}
	if (!IN6_IS_ADDR_LINKLOCAL(&in.ip6.ip6_src) || in.buf[1] != 0 || icmp6len < ND_RA_LEN ||
	    nd_ra_parse(in.buf, in.len, &ra) != 0)
		goto bad;
	r = nd6_options(in.buf + ND_RA_LEN, in.len - ND_RA_LEN, &opts);
	if (r == -1)
		goto bad;
	if (r == -2)
		ICMP6STAT_INC(st, icp6s_nd_toomanyopt);
	if (IN6_IFEXTRA(ifp) == NULL || st->st_nd6 == NULL)
		goto drop;
	ndi = ND_IFINFO(ifp);
	if (!(ndi->flags & ND6_IFF_ACCEPT_RTADV))
		goto drop;
	ICMP6STAT_INC(st, icp6s_raaccepted);
	nd6_rs_stop(ifp);
	if (ra.nd_ra_curhoplimit != 0)
		ndi->chlim = ra.nd_ra_curhoplimit;
	if (ra.nd_ra_reachable != 0 && ra.nd_ra_reachable <= MAX_REACHABLE_MS &&
	    ra.nd_ra_reachable != ndi->basereachable) {
		ndi->basereachable = ra.nd_ra_reachable;
		ndi->reachable = nd6_compute_reachable(st, ndi->basereachable);
	}
	if (ra.nd_ra_retransmit != 0)
		ndi->retrans = ra.nd_ra_retransmit;
	nd6_cache_lladdr(ifp, &in.ip6.ip6_src, nd_opt_lladdr(opts.nd_opts_src_lladdr),
	    ND_ROUTER_ADVERT, 0);
	if (!(ndi->flags & ND6_IFF_NO_RADR))
		nd6_defrtr_update(ifp, &in.ip6.ip6_src, ra.nd_ra_router_lifetime);
	if (opts.nd_opts_mtu != NULL && opts.nd_opts_mtu[1] == 1) {
		mtu = be32dec(opts.nd_opts_mtu + 4);
		/* 6.3.4: an MTU below 1280 or above the link's is ignored. */
		if (mtu >= IPV6_MMTU && mtu <= ifp->if_mtu && mtu != ndi->linkmtu) {
			ndi->linkmtu = mtu;
			rt_gen_bump(st); /* routes through ifp have another MTU */
		}
	}
	/* Every prefix option (nd_opts keeps the first few; walk again,
	 * bounded by the same option count). */
	nd_opt_init(&it, in.buf + ND_RA_LEN, in.len - ND_RA_LEN);
	while (nd_opt_next(&it, &type, &opt, &olen) == 1)
		if (type == ND_OPT_PREFIX_INFORMATION)
			nd6_prefix_input(ifp, opt);
	nd6_timer_arm(st);
	goto drop;
bad:
	ICMP6STAT_INC(st, icp6s_badra);
drop:
	m_freem(m);
}

void
nd6_redirect_input(struct mbuf *m, uint32_t off, uint32_t icmp6len)
{
	struct nd6_in in;
	struct ust_stack *st;
	struct ifnet *ifp;
	struct nd_redirect rd;
	struct nd_opts opts;
	struct nhop6 nh;
	int onlink, r;

	if (nd6_in_read(m, off, icmp6len, &in) != 0)
		goto drop;
	ifp = in.ifp;
	st = in.st;
	if (!V(st, icmp6_rediraccept)) {
		ICMP6STAT_INC(st, icp6s_redirignored);
		goto drop;
	}
	if (in.ip6.ip6_hlim != IPV6_MAXHLIM) {
		ICMP6STAT_INC(st, icp6s_invlhlim);
		goto drop;
	}
	/* RFC 4861 8.1. */
	if (!IN6_IS_ADDR_LINKLOCAL(&in.ip6.ip6_src) || in.buf[1] != 0 ||
	    icmp6len < ND_REDIRECT_LEN || nd_redirect_parse(in.buf, in.len, &rd) != 0 ||
	    IN6_IS_ADDR_MULTICAST(&rd.nd_rd_dst))
		goto bad;
	onlink = in6_are_addr_equal(&rd.nd_rd_target, &rd.nd_rd_dst);
	if (!onlink && !IN6_IS_ADDR_LINKLOCAL(&rd.nd_rd_target))
		goto bad;
	/* From the first hop we use for that destination. */
	if (rt6_lookup(st, &rd.nd_rd_dst, ifp->if_index, &nh) != 0 || nh.nh_ifp != ifp ||
	    !in6_are_addr_equal(&nh.nh_addr, &in.ip6.ip6_src))
		goto bad;
	r = nd6_options(in.buf + ND_REDIRECT_LEN, in.len - ND_REDIRECT_LEN, &opts);
	if (r == -1)
		goto bad;
	nd6_cache_lladdr(ifp, &rd.nd_rd_target, nd_opt_lladdr(opts.nd_opts_tgt_lladdr), ND_REDIRECT,
	    0);
	(void)rt6_del(st, &rd.nd_rd_dst, 128, ifp);
	(void)rt6_add(st, &rd.nd_rd_dst, 128, onlink ? NULL : &rd.nd_rd_target, ifp, UST_RTF_UP,
	    V(st, icmp6_redirtimeout) != 0 ?
	        stack_now(st) + (uint64_t)V(st, icmp6_redirtimeout) * ND6_SEC :
	        0);
	goto drop;
bad:
	ICMP6STAT_INC(st, icp6s_badredirect);
drop:
	m_freem(m);
}

/* ---------------------------------------------------------------------
 * Lifetimes (every net.inet6.icmp6.nd6_prune seconds).
 * ------------------------------------------------------------------- */

void
nd6_rtr_timer(struct ust_stack *st)
{
	struct nd6_state *nd = st->st_nd6;
	struct nd_defrouter **dpp;
	struct nd_prefix **ppp;
	struct in6_ifaddr *ia, *next;
	uint64_t now = stack_now(st);

	dpp = &nd->nd_routers;
	while (*dpp != NULL) {
		if ((*dpp)->dr_expire <= now)
			nd6_defrtr_del(st, dpp);
		else
			dpp = &(*dpp)->dr_next;
	}
	ppp = &nd->nd_prefixes;
	while (*ppp != NULL) {
		if ((*ppp)->ndpr_expire != 0 && (*ppp)->ndpr_expire <= now)
			nd6_pr_del(st, ppp);
		else
			ppp = &(*ppp)->ndpr_next;
	}
	for (ia = st->st_in6_ifaddrs; ia != NULL; ia = next) {
		next = ia->ia_next;
		if (ia->ia6_lifetime.ia6t_expire != 0 && ia->ia6_lifetime.ia6t_expire <= now) {
			(void)in6_addr_del(ia->ia_ifp, &ia->ia_addr);
			continue;
		}
		if (ia->ia6_lifetime.ia6t_preferred != 0 &&
		    ia->ia6_lifetime.ia6t_preferred <= now &&
		    !(ia->ia6_flags & IN6_IFF_DEPRECATED)) {
			ia->ia6_flags |= IN6_IFF_DEPRECATED;
			rt_gen_bump(st);
		}
	}
}

void
nd6_rtr_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);
	struct nd6_rsstate *rs;
	struct nd_defrouter **dpp;
	struct nd_prefix **ppp;

	if (ext != NULL && (rs = ext->nd_ifextra) != NULL) {
		callout_stop(&st->st_wheel, &rs->rs_timer);
		ext->nd_ifextra = NULL;
		st_free(st, rs, sizeof(*rs));
	}
	if (st->st_nd6 == NULL)
		return;
	dpp = &st->st_nd6->nd_routers;
	while (*dpp != NULL) {
		if ((*dpp)->dr_ifp == ifp)
			nd6_defrtr_del(st, dpp);
		else
			dpp = &(*dpp)->dr_next;
	}
	ppp = &st->st_nd6->nd_prefixes;
	while (*ppp != NULL) {
		if ((*ppp)->ndpr_ifp == ifp)
			nd6_pr_del(st, ppp);
		else
			ppp = &(*ppp)->ndpr_next;
	}
}

void
nd6_rtr_fini(struct ust_stack *st)
{
	struct nd6_state *nd = st->st_nd6;
	struct nd_defrouter *dr;
	struct nd_prefix *pr;

	while ((dr = nd->nd_routers) != NULL) {
		nd->nd_routers = dr->dr_next;
		st_free(st, dr, sizeof(*dr));
	}
	while ((pr = nd->nd_prefixes) != NULL) {
		nd->nd_prefixes = pr->ndpr_next;
		st_free(st, pr, sizeof(*pr));
	}
}
