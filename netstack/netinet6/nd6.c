/*
 * nd6.c - the neighbor cache (RFC 4861 7.3; FreeBSD netinet6/nd6.c):
 * entries by interface and address with their reachability states and
 * timers on the callout wheel, address resolution for ip6_output
 * (nd6_output, nd6_resolve) with a bounded hold queue per entry, the
 * multicast mapping (RFC 2464 7), a bounded cache that evicts the least
 * recently used dynamic entry, the static entries of ndp -s, and the
 * sender of ND and MLD messages.
 *
 *   nd6_resolve: none -> INCOMPLETE (multicast NS every RetransTimer,
 *     nd6_mmaxtries of them, then ICMPv6 address unreachable for what was
 *     held, RFC 4861 7.2.2)
 *   NA solicited -> REACHABLE --ReachableTime--> STALE --use--> DELAY
 *     --nd6_delay--> PROBE (unicast NS, nd6_umaxtries) -> gone
 *   STALE unused for nd6_gctimer -> gone
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/ip_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"

#define ND6_SEC ((uint64_t)1000000000u)

static void nd6_timer(void *arg);

int
nd6_init(struct ust_stack *st)
{
	struct nd6_state *nd;

	nd = st_malloc(st, sizeof(*nd));
	if (nd == NULL)
		return (UST_ENOMEM);
	nd->nd_st = st;
	/* RFC 7217 5: a secret of at least 128 bits, per stack, from its
	 * seed (reproducible runs give the same addresses). */
	nd->nd_secret[0] = ust_rng_u64(&st->st_rng);
	nd->nd_secret[1] = ust_rng_u64(&st->st_rng);
	callout_init(&nd->nd_timer);
	st->st_nd6 = nd;
	return (0);
}

static void
nd6_timer(void *arg)
{
	struct nd6_state *nd = arg;
	struct ust_stack *st = nd->nd_st;

	nd6_rtr_timer(st);
	nd6_timer_arm(st);
}

/* The lifetime walk runs every nd6_prune seconds while something has a
 * lifetime (a router, a prefix, an address from SLAAC), and not at all
 * otherwise: an idle stack has no timer pending. */
void
nd6_timer_arm(struct ust_stack *st)
{
	struct nd6_state *nd = st->st_nd6;
	struct in6_ifaddr *ia;
	int need = nd->nd_routers != NULL || nd->nd_prefixes != NULL;

	for (ia = st->st_in6_ifaddrs; ia != NULL && !need; ia = ia->ia_next)
		if (ia->ia6_lifetime.ia6t_expire != 0 || ia->ia6_lifetime.ia6t_preferred != 0)
			need = 1;
	if (!need) {
		callout_stop(&st->st_wheel, &nd->nd_timer);
		return;
	}
	if (!callout_pending(&nd->nd_timer))
		callout_reset(&st->st_wheel, &nd->nd_timer, stack_now(st),
		    (uint64_t)V(st, nd6_prune) * ND6_SEC, nd6_timer, nd);
}

static void
nd6_unlink(struct nd6_state *nd, struct llentry6 *ln)
{
	if (ln->ln_prev != NULL)
		ln->ln_prev->ln_next = ln->ln_next;
	else
		nd->nd_head = ln->ln_next;
	if (ln->ln_next != NULL)
		ln->ln_next->ln_prev = ln->ln_prev;
	else
		nd->nd_tail = ln->ln_prev;
	ln->ln_next = ln->ln_prev = NULL;
}

/* Entries stay in the order they came (ndp -a); ln_used orders them for
 * eviction. */
static void
nd6_link_tail(struct nd6_state *nd, struct llentry6 *ln)
{
	ln->ln_next = NULL;
	ln->ln_prev = nd->nd_tail;
	if (nd->nd_tail != NULL)
		nd->nd_tail->ln_next = ln;
	else
		nd->nd_head = ln;
	nd->nd_tail = ln;
}

void
nd6_free(struct ust_stack *st, struct llentry6 *ln, int unreach)
{
	struct nd6_state *nd = st->st_nd6;
	struct mbuf *m;

	callout_stop(&st->st_wheel, &ln->ln_timer);
	nd6_unlink(nd, ln);
	nd->nd_count--;
	while ((m = ln->ln_hold) != NULL) {
		ln->ln_hold = m->m_nextpkt;
		m->m_nextpkt = NULL;
		ND6_COUNT(st, nd6c_holddrops);
		if (unreach) {
			/* RFC 4861 7.2.2: each packet that waited is
			 * answered with an address unreachable. */
			m->m_pkthdr.rcvif = ln->ln_ifp;
			icmp6_error(m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0);
		} else
			m_freem(m);
	}
	st_free(st, ln, sizeof(*ln));
}

void
nd6_fini(struct ust_stack *st)
{
	struct nd6_state *nd = st->st_nd6;

	if (nd == NULL)
		return;
	nd6_rtr_fini(st);
	while (nd->nd_head != NULL)
		nd6_free(st, nd->nd_head, 0);
	callout_stop(&st->st_wheel, &nd->nd_timer);
	st_free(st, nd, sizeof(*nd));
	st->st_nd6 = NULL;
}

/* ReachableTime: BaseReachableTime times a uniform factor in [0.5, 1.5)
 * (RFC 4861 6.3.2), from the stack's seeded generator. */
uint32_t
nd6_compute_reachable(struct ust_stack *st, uint32_t base)
{
	uint32_t f =
	    MIN_RANDOM_FACTOR + ust_rng_uniform(&st->st_rng, MAX_RANDOM_FACTOR - MIN_RANDOM_FACTOR);

	return ((uint32_t)(((uint64_t)base * f) >> 10));
}

void
nd6_ifinfo_init(struct ifnet *ifp, struct nd_ifinfo *ndi)
{
	struct ust_stack *st = ifp->if_stack;

	memset(ndi, 0, sizeof(*ndi));
	ndi->maxmtu = ifp->if_mtu;
	ndi->basereachable = REACHABLE_TIME;
	ndi->reachable = nd6_compute_reachable(st, REACHABLE_TIME);
	ndi->retrans = RETRANS_TIMER;
	ndi->chlim = (uint8_t)V(st, ip6_hlim);
	ndi->flags = ND6_IFF_PERFORMNUD;
	if (V(st, ip6_accept_rtadv))
		ndi->flags |= ND6_IFF_ACCEPT_RTADV;
	if (V(st, ip6_no_radr))
		ndi->flags |= ND6_IFF_NO_RADR;
	if (V(st, ip6_auto_linklocal))
		ndi->flags |= ND6_IFF_AUTO_LINKLOCAL;
}

struct llentry6 *
nd6_lookup(struct ifnet *ifp, const struct in6_addr *a)
{
	struct nd6_state *nd = ifp->if_stack->st_nd6;
	struct llentry6 *ln;

	if (nd == NULL)
		return (NULL);
	for (ln = nd->nd_head; ln != NULL; ln = ln->ln_next)
		if (ln->ln_ifp == ifp && in6_are_addr_equal(&ln->ln_addr, a))
			return (ln);
	return (NULL);
}

/* A new INCOMPLETE entry; when the cache is full the least recently used
 * dynamic entry makes room (counted).  NULL when none can. */
static struct llentry6 *
nd6_new_entry(struct ust_stack *st, struct ifnet *ifp, const struct in6_addr *a)
{
	struct nd6_state *nd = st->st_nd6;
	struct llentry6 *ln, *lru = NULL;

	if ((int64_t)nd->nd_count >= V(st, nd6_maxentries)) {
		ICMP6STAT_INC(st, icp6s_overflownndp);
		for (ln = nd->nd_head; ln != NULL; ln = ln->ln_next)
			if (!(ln->ln_flags & UST_ND6_STATIC) &&
			    (lru == NULL || ln->ln_used < lru->ln_used))
				lru = ln;
		if (lru == NULL)
			return (NULL);
		ND6_COUNT(st, nd6c_evicted);
		nd6_free(st, lru, 0);
	}
	ln = st_malloc(st, sizeof(*ln));
	if (ln == NULL)
		return (NULL);
	ln->ln_ifp = ifp;
	ln->ln_addr = *a;
	ln->ln_state = ND6_LLINFO_INCOMPLETE;
	callout_init(&ln->ln_timer);
	ln->ln_used = nd->nd_usegen++;
	nd6_link_tail(nd, ln);
	nd->nd_count++;
	return (ln);
}

void
nd6_ifdetach(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 *ln, *next;

	if (st->st_nd6 == NULL)
		return;
	for (ln = st->st_nd6->nd_head; ln != NULL; ln = next) {
		next = ln->ln_next;
		if (ln->ln_ifp == ifp)
			nd6_free(st, ln, 0);
	}
}

static uint32_t
nd6_retrans_ms(const struct ifnet *ifp)
{
	struct in6_ifextra *ext = IN6_IFEXTRA(ifp);

	return (
	    ext != NULL && ext->nd_ifinfo.retrans != 0 ? ext->nd_ifinfo.retrans : RETRANS_TIMER);
}

/* The source of a solicitation for ln (RFC 4861 7.2.2): the source of a
 * packet that waits when it is ours on that link, else one of ours. */
static int
nd6_ns_source(struct llentry6 *ln, struct in6_addr *src)
{
	struct ifnet *ifp = ln->ln_ifp;
	struct ust_stack *st = ifp->if_stack;
	struct in6_ifaddr *ia;

	if (ln->ln_hold != NULL &&
	    m_copydata(ln->ln_hold, 8, sizeof(src->s6_addr8), src->s6_addr8) == 0 &&
	    (ia = in6ifa_find(st, src, ifp)) != NULL && !(ia->ia6_flags & IN6_IFF_NOTREADY))
		return (0);
	return (in6_selectsrc(st, &ln->ln_addr, ifp->if_index, ifp, src));
}

/* A solicitation for ln: to its solicited-node group while INCOMPLETE,
 * to itself (unicast) when probing. */
static void
nd6_llinfo_solicit(struct llentry6 *ln, int unicast)
{
	struct in6_addr src, dst;

	if (nd6_ns_source(ln, &src) != 0)
		return; /* no address to speak from yet */
	if (unicast)
		dst = ln->ln_addr;
	else
		in6_solicited_node(&ln->ln_addr, &dst);
	nd6_ns_output(ln->ln_ifp, &src, &dst, &ln->ln_addr, NULL);
}

static void
nd6_llinfo_timer(void *arg)
{
	struct llentry6 *ln = arg;
	struct ifnet *ifp = ln->ln_ifp;
	struct ust_stack *st = ifp->if_stack;
	uint64_t retrans = (uint64_t)nd6_retrans_ms(ifp) * ND6_MS;

	ln->ln_expire = 0;
	switch (ln->ln_state) {
	case ND6_LLINFO_INCOMPLETE:
		if ((int64_t)ln->ln_asked < V(st, nd6_mmaxtries)) {
			ln->ln_asked++;
			nd6_llinfo_settimer(ln, ND6_LLINFO_INCOMPLETE, retrans);
			nd6_llinfo_solicit(ln, 0);
			return;
		}
		ND6_COUNT(st, nd6c_resfail);
		nd6_free(st, ln, 1);
		return;
	case ND6_LLINFO_REACHABLE:
		nd6_llinfo_settimer(ln, ND6_LLINFO_STALE, (uint64_t)V(st, nd6_gctimer) * ND6_SEC);
		return;
	case ND6_LLINFO_STALE:
		nd6_free(st, ln, 0); /* unused for nd6_gctimer */
		return;
	case ND6_LLINFO_DELAY:
		if (IN6_IFEXTRA(ifp) != NULL && (ND_IFINFO(ifp)->flags & ND6_IFF_PERFORMNUD) == 0) {
			nd6_llinfo_settimer(ln, ND6_LLINFO_STALE,
			    (uint64_t)V(st, nd6_gctimer) * ND6_SEC);
			return;
		}
		ln->ln_asked = 1;
		nd6_llinfo_settimer(ln, ND6_LLINFO_PROBE, retrans);
		nd6_llinfo_solicit(ln, 1);
		return;
	case ND6_LLINFO_PROBE:
		if ((int64_t)ln->ln_asked < V(st, nd6_umaxtries)) {
			ln->ln_asked++;
			nd6_llinfo_settimer(ln, ND6_LLINFO_PROBE, retrans);
			nd6_llinfo_solicit(ln, 1);
			return;
		}
		ND6_COUNT(st, nd6c_resfail);
		nd6_free(st, ln, 1);
		return;
	default:
		return;
	}
}

void
nd6_llinfo_settimer(struct llentry6 *ln, int state, uint64_t delay_ns)
{
	struct ust_stack *st = ln->ln_ifp->if_stack;
	uint64_t now = stack_now(st);

	ln->ln_state = state;
	if (ln->ln_flags & UST_ND6_STATIC)
		delay_ns = 0;
	if (delay_ns == 0) {
		callout_stop(&st->st_wheel, &ln->ln_timer);
		ln->ln_expire = 0;
		return;
	}
	ln->ln_expire = now + delay_ns;
	callout_reset(&st->st_wheel, &ln->ln_timer, now, delay_ns, nd6_llinfo_timer, ln);
}

void
nd6_reachable(struct llentry6 *ln)
{
	struct ifnet *ifp = ln->ln_ifp;
	uint32_t ms = IN6_IFEXTRA(ifp) != NULL ? ND_IFINFO(ifp)->reachable : REACHABLE_TIME;

	ln->ln_asked = 0;
	ln->ln_nudhints = 0;
	nd6_llinfo_settimer(ln, ND6_LLINFO_REACHABLE, (uint64_t)ms * ND6_MS);
}

void
nd6_nud_hint(struct ifnet *ifp, const struct in6_addr *addr)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 *ln;

	if (st->st_nd6 == NULL || (ln = nd6_lookup(ifp, addr)) == NULL ||
	    (ln->ln_flags & UST_ND6_STATIC) || ln->ln_state < ND6_LLINFO_REACHABLE)
		return;
	/* FreeBSD nd6_maxnudhint: after that many hints in a row, let NUD
	 * probe for itself. */
	if (V(st, nd6_maxnudhint) != 0 && (int64_t)ln->ln_nudhints >= V(st, nd6_maxnudhint))
		return;
	ln->ln_nudhints++;
	ln->ln_asked = 0;
	nd6_llinfo_settimer(ln, ND6_LLINFO_REACHABLE,
	    (uint64_t)(IN6_IFEXTRA(ifp) != NULL ? ND_IFINFO(ifp)->reachable : REACHABLE_TIME) *
	        ND6_MS);
}

void
nd6_flush_hold(struct llentry6 *ln)
{
	struct ust_stack *st = ln->ln_ifp->if_stack;
	struct mbuf *m;
	int sent = 0;

	while ((m = ln->ln_hold) != NULL) {
		ln->ln_hold = m->m_nextpkt;
		m->m_nextpkt = NULL;
		ln->ln_nhold--;
		(void)ether_output_frame(ln->ln_ifp, m, ln->ln_mac, ETHERTYPE_IPV6);
		sent = 1;
	}
	/* RFC 4861 7.3.3: a packet sent to a STALE neighbor starts DELAY. */
	if (sent && ln->ln_state == ND6_LLINFO_STALE)
		nd6_llinfo_settimer(ln, ND6_LLINFO_DELAY, (uint64_t)V(st, nd6_delay) * ND6_SEC);
}

void
nd6_cache_lladdr(struct ifnet *ifp, const struct in6_addr *from, const uint8_t *lladdr, int type,
    int code)
{
	struct ust_stack *st = ifp->if_stack;
	struct llentry6 *ln;
	int isnew = 0;

	(void)code;
	if (st->st_nd6 == NULL || IN6_IS_ADDR_UNSPECIFIED(from) || IN6_IS_ADDR_MULTICAST(from))
		return;
	ln = nd6_lookup(ifp, from);
	if (ln == NULL) {
		/* RFC 4861 7.2.3, 6.2.6, 6.3.4: without a link-layer
		 * address nothing is created. */
		if (lladdr == NULL || (ln = nd6_new_entry(st, ifp, from)) == NULL)
			return;
		isnew = 1;
	}
	if (ln->ln_flags & UST_ND6_STATIC)
		return;
	if (type == ND_ROUTER_ADVERT)
		ln->ln_flags |= UST_ND6_ISROUTER;
	else if (isnew ||
	    (type == ND_NEIGHBOR_SOLICIT && lladdr != NULL &&
	        ln->ln_state != ND6_LLINFO_INCOMPLETE &&
	        memcmp(ln->ln_mac, lladdr, ETHER_ADDR_LEN) != 0))
		ln->ln_flags &= ~UST_ND6_ISROUTER; /* RFC 4861 7.2.3 / 6.2.6 */
	if (lladdr == NULL)
		return;
	/* A new or changed address makes the entry STALE. */
	if (ln->ln_state == ND6_LLINFO_INCOMPLETE ||
	    memcmp(ln->ln_mac, lladdr, ETHER_ADDR_LEN) != 0) {
		memcpy(ln->ln_mac, lladdr, ETHER_ADDR_LEN);
		ln->ln_asked = 0;
		nd6_llinfo_settimer(ln, ND6_LLINFO_STALE, (uint64_t)V(st, nd6_gctimer) * ND6_SEC);
		nd6_flush_hold(ln);
	}
}

int
nd6_resolve(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *addr,
    uint8_t mac[ETHER_ADDR_LEN])
{
	struct ust_stack *st = ifp->if_stack;
	struct nd6_state *nd = st->st_nd6;
	struct llentry6 *ln;
	struct mbuf **pp, *old;

	if (IN6_IS_ADDR_MULTICAST(addr)) {
		in6_mcast_mac(addr, mac);
		return (0);
	}
	if (nd == NULL || IN6_IFEXTRA(ifp) == NULL) {
		m_freem(m);
		return (UST_ENETDOWN);
	}
	ln = nd6_lookup(ifp, addr);
	if (ln == NULL) {
		ln = nd6_new_entry(st, ifp, addr);
		if (ln == NULL) {
			if (m != NULL)
				ND6_COUNT(st, nd6c_holddrops);
			m_freem(m);
			return (UST_ENOBUFS);
		}
	}
	ln->ln_used = nd->nd_usegen++;
	if (ln->ln_state != ND6_LLINFO_INCOMPLETE) {
		/* RFC 4861 7.3.3: traffic to a STALE neighbor starts the
		 * DELAY before a probe. */
		if (ln->ln_state == ND6_LLINFO_STALE) {
			ln->ln_asked = 0;
			nd6_llinfo_settimer(ln, ND6_LLINFO_DELAY,
			    (uint64_t)V(st, nd6_delay) * ND6_SEC);
		}
		memcpy(mac, ln->ln_mac, ETHER_ADDR_LEN);
		return (0);
	}
	/* INCOMPLETE: hold m (the oldest makes room, RFC 4861 7.2.2 lets
	 * the queue be bounded) and solicit when nobody did yet. */
	if (m != NULL) {
		if ((int64_t)ln->ln_nhold >= V(st, nd6_maxqueuelen)) {
			old = ln->ln_hold;
			ln->ln_hold = old->m_nextpkt;
			old->m_nextpkt = NULL;
			m_freem(old);
			ln->ln_nhold--;
			IP6STAT_INC(st, ip6s_odropped);
			ND6_COUNT(st, nd6c_holddrops);
		}
		for (pp = &ln->ln_hold; *pp != NULL; pp = &(*pp)->m_nextpkt)
			;
		m->m_nextpkt = NULL;
		*pp = m;
		ln->ln_nhold++;
	}
	if (ln->ln_asked == 0) {
		ln->ln_asked = 1;
		nd6_llinfo_settimer(ln, ND6_LLINFO_INCOMPLETE,
		    (uint64_t)nd6_retrans_ms(ifp) * ND6_MS);
		nd6_llinfo_solicit(ln, 0);
	}
	return (UST_EWOULDBLOCK);
}

int
nd6_output(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *nexthop)
{
	uint8_t mac[ETHER_ADDR_LEN];
	int error;

	error = nd6_resolve(ifp, m, nexthop, mac);
	if (error == UST_EWOULDBLOCK)
		return (0); /* held until the neighbor answers */
	if (error != 0) {
		ETHERSTAT_INC(ifp->if_stack, ether_noresolve);
		return (error);
	}
	return (ether_output_frame(ifp, m, mac, ETHERTYPE_IPV6));
}

/* ---------------------------------------------------------------------
 * Sending ND and MLD messages.
 * ------------------------------------------------------------------- */

struct mbuf *
nd6_msg(struct ust_stack *st, const void *p, uint32_t len)
{
	struct mbuf *m;
	static const uint8_t zeros[64];
	uint32_t n;

	if ((m = m_gethdr(&st->st_mbz, MT_DATA)) == NULL)
		return (NULL);
	m_reserve(m, UST_MAX_HDR);
	while (len > 0) {
		n = len < sizeof(zeros) ? len : (uint32_t)sizeof(zeros);
		if (m_append(m, n, p != NULL ? p : zeros) != 0) {
			m_freem(m);
			return (NULL);
		}
		if (p != NULL)
			p = (const uint8_t *)p + n;
		len -= n;
	}
	return (m);
}

int
nd6_send(struct ifnet *ifp, struct mbuf *m, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t hlim, int ra)
{
	struct ust_stack *st = ifp->if_stack;
	struct ip6_hdr ip6;
	uint32_t len = m->m_pkthdr.len;
	uint16_t sum;
	uint8_t type, z[2] = { 0, 0 };
	/* Hop-by-hop: next header ICMPv6, length 0 (8 bytes), router alert
	 * (MLD), PadN of 2. */
	static const uint8_t hbh[8] = { IPPROTO_ICMPV6, 0, IP6OPT_ROUTER_ALERT, 2, 0, 0,
		IP6OPT_PADN, 0 };

	(void)m_copyback(m, 2, 2, z);
	sum = in6_cksum(m, IPPROTO_ICMPV6, 0, len, src, dst);
	z[0] = (uint8_t)(sum >> 8);
	z[1] = (uint8_t)sum;
	(void)m_copyback(m, 2, 2, z);
	(void)m_copydata(m, 0, 1, &type);
	ICMP6STAT_INC(st, icp6s_outhist[type]);
	if (ra) {
		M_PREPEND(m, sizeof(hbh));
		if (m == NULL)
			goto nobufs;
		memcpy(mtod(m, uint8_t *), hbh, sizeof(hbh));
		len += sizeof(hbh);
	}
	M_PREPEND(m, IP6_HDRLEN);
	if (m == NULL)
		goto nobufs;
	memset(&ip6, 0, sizeof(ip6));
	ip6.ip6_plen = (uint16_t)len;
	ip6.ip6_nxt = ra ? IPPROTO_HOPOPTS : IPPROTO_ICMPV6;
	ip6.ip6_hlim = hlim;
	ip6.ip6_src = *src;
	ip6.ip6_dst = *dst;
	ip6_hdr_write(mtod(m, uint8_t *), &ip6);
	IP6STAT_INC(st, ip6s_localout);
	return (nd6_output(ifp, m, dst));
nobufs:
	IP6STAT_INC(st, ip6s_odropped);
	return (UST_ENOBUFS);
}

/* ---------------------------------------------------------------------
 * The public calls (ndp -s / -d / -a).
 * ------------------------------------------------------------------- */

static void
nd6_entry_info(const struct llentry6 *ln, struct ust_nd6_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = ln->ln_addr;
	memcpy(out->mac, ln->ln_mac, ETHER_ADDR_LEN);
	out->state = ln->ln_state;
	out->ifindex = ln->ln_ifp->if_index;
	out->flags = ln->ln_flags;
	out->expire_ns = (ln->ln_flags & UST_ND6_STATIC) ? 0 : ln->ln_expire;
	out->held = ln->ln_nhold;
}

int
ust_nd6_add_static(struct ust_if *uifp, const struct ust_in6_addr *addr, const uint8_t mac[6])
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct ust_stack *st;
	struct llentry6 *ln;

	if (uifp == NULL || addr == NULL || mac == NULL)
		return (-UST_EINVAL);
	st = ifp->if_stack;
	if (st->st_nd6 == NULL || IN6_IFEXTRA(ifp) == NULL)
		return (-UST_ENETDOWN);
	if (IN6_IS_ADDR_UNSPECIFIED(addr) || IN6_IS_ADDR_MULTICAST(addr) || (mac[0] & 1))
		return (-UST_EINVAL);
	ln = nd6_lookup(ifp, addr);
	if (ln == NULL && (ln = nd6_new_entry(st, ifp, addr)) == NULL)
		return (-UST_ENOSPC);
	memcpy(ln->ln_mac, mac, ETHER_ADDR_LEN);
	ln->ln_flags = UST_ND6_STATIC;
	nd6_llinfo_settimer(ln, ND6_LLINFO_REACHABLE, 0);
	nd6_flush_hold(ln); /* packets that waited for it go now */
	return (0);
}

int
ust_nd6_del(struct ust_if *uifp, const struct ust_in6_addr *addr)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct llentry6 *ln;

	if (uifp == NULL || addr == NULL)
		return (-UST_EINVAL);
	if ((ln = nd6_lookup(ifp, addr)) == NULL)
		return (-UST_ENOENT);
	nd6_free(ifp->if_stack, ln, 0);
	return (0);
}

int
ust_nd6_lookup(struct ust_stack *st, const struct ust_in6_addr *addr, unsigned scope_id,
    struct ust_nd6_entry *out)
{
	struct llentry6 *ln;

	if (st == NULL || addr == NULL || out == NULL || st->st_nd6 == NULL)
		return (-UST_EINVAL);
	for (ln = st->st_nd6->nd_head; ln != NULL; ln = ln->ln_next) {
		if (!in6_are_addr_equal(&ln->ln_addr, addr))
			continue;
		if (scope_id != 0 && ln->ln_ifp->if_index != scope_id)
			continue;
		nd6_entry_info(ln, out);
		return (0);
	}
	return (-UST_ENOENT);
}

int
ust_nd6_get(struct ust_stack *st, unsigned idx, struct ust_nd6_entry *out)
{
	struct llentry6 *ln;

	if (st == NULL || out == NULL || st->st_nd6 == NULL)
		return (-UST_EINVAL);
	for (ln = st->st_nd6->nd_head; ln != NULL && idx > 0; ln = ln->ln_next)
		idx--;
	if (ln == NULL)
		return (-UST_ENOENT);
	nd6_entry_info(ln, out);
	return (0);
}
