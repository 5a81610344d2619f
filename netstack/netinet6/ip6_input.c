/*
 * ip6_input.c - IPv6 input for a host (RFC 8200; FreeBSD
 * netinet6/ip6_input.c, dest6.c, route6.c): header validation, address
 * checks (RFC 4291, RFC 4007 scopes), the extension header chain (RFC
 * 8200 4: hop-by-hop first and only there, options by their action bits,
 * type 0 routing headers refused as RFC 5095 says, at most
 * net.inet6.ip6.hdrnestlimit headers), reassembly (frag6.c), and
 * dispatch through inet6sw.  We are a host and never forward.
 *
 *   ether_input() -> ip6_input() -> [frag6_input()] -> st_ip6_protox[nxt]:
 *       inet6sw[i].pr_input(m, off)                     (in6_proto.c)
 *   ip6_output() (destination ours) -> ip6_input_loop() -> same path
 *
 * Every check drops the packet and bumps the ip6stat counter that says
 * why; parameter problems are reported as RFC 8200 4 requires.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in.h"
#include "netinet/tcp_lro.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

/* What ip6_opts() decided about a packet. */
#define IP6_OPTS_OK 0
#define IP6_OPTS_DROP 1 /* dropped (and maybe answered): m consumed */

/*
 * The options of the hop-by-hop or destination options header at off
 * (hlen bytes, contiguous).  Unknown options act by their two high bits
 * (RFC 8200 4.2): skip, discard, discard with a parameter problem, or
 * with one unless the destination was multicast.
 */
static int
ip6_opts(struct ust_stack *st, struct mbuf *m, uint32_t off, uint32_t hlen, int mcast)
{
	const uint8_t *p = mtod(m, const uint8_t *) + off;
	struct ip6_opt_iter it;
	const uint8_t *data;
	uint32_t optoff;
	uint8_t type, dlen;
	int r;

	ip6_opt_init(&it, p + 2, hlen - 2);
	while ((r = ip6_opt_next(&it, &type, &data, &dlen, &optoff)) == 1) {
		switch (type) {
		case IP6OPT_PAD1:
		case IP6OPT_PADN:
			continue;
		case IP6OPT_ROUTER_ALERT:
			/* RFC 2711: known; MLD's own checks judge the packet. */
			continue;
		default:
			break;
		}
		switch (IP6OPT_TYPE(type)) {
		case IP6OPT_TYPE_SKIP:
			continue;
		case IP6OPT_TYPE_DISCARD:
			IP6STAT_INC(st, ip6s_badoptions);
			m_freem(m);
			return (IP6_OPTS_DROP);
		case IP6OPT_TYPE_ICMP:
			if (mcast) {
				IP6STAT_INC(st, ip6s_badoptions);
				m_freem(m);
				return (IP6_OPTS_DROP);
			}
			/* FALLTHROUGH */
		default: /* IP6OPT_TYPE_FORCEICMP: even to multicast */
			IP6STAT_INC(st, ip6s_badoptions);
			icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, off + 2 + optoff);
			return (IP6_OPTS_DROP);
		}
	}
	if (r < 0) {
		/* An option overruns its header. */
		IP6STAT_INC(st, ip6s_badoptions);
		icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off + 2 + it.off + 1);
		return (IP6_OPTS_DROP);
	}
	return (IP6_OPTS_OK);
}

/* Length and version checks; the header parsed into h.  Returns m (the
 * whole fixed header contiguous, trimmed to the payload length) or NULL
 * (freed, counted). */
static struct mbuf *
ip6_validate(struct ust_stack *st, struct mbuf *m, struct ip6_hdr *h)
{
	if (m->m_pkthdr.len < IP6_HDRLEN) {
		IP6STAT_INC(st, ip6s_toosmall);
		goto drop;
	}
	if ((m = m_pullup(m, IP6_HDRLEN)) == NULL) {
		IP6STAT_INC(st, ip6s_toosmall);
		return (NULL);
	}
	(void)ip6_hdr_parse(mtod(m, const uint8_t *), m->m_len, h);
	if (h->ip6_v != IPV6_VERSION) {
		IP6STAT_INC(st, ip6s_badvers);
		goto drop;
	}
	/* A payload length of 0 with a hop-by-hop header is a jumbogram
	 * (RFC 2675), which links of ours cannot carry. */
	if (h->ip6_plen == 0 && h->ip6_nxt == IPPROTO_HOPOPTS) {
		IP6STAT_INC(st, ip6s_badoptions);
		goto drop;
	}
	if ((uint32_t)IP6_HDRLEN + h->ip6_plen > m->m_pkthdr.len) {
		IP6STAT_INC(st, ip6s_tooshort);
		goto drop;
	}
	/* Ethernet pads short frames: the payload length says where the
	 * packet ends. */
	if (m->m_pkthdr.len > (uint32_t)IP6_HDRLEN + h->ip6_plen)
		m_adj(m, -(int32_t)(m->m_pkthdr.len - IP6_HDRLEN - h->ip6_plen));
	return (m);
drop:
	m_freem(m);
	return (NULL);
}

/*
 * Source and destination rules.  Never from the wire: a multicast or
 * v4-mapped source, a loopback address either way, an unspecified
 * destination, an interface-local or scope-0 multicast destination (RFC
 * 4291 2.5.3, 2.7; FreeBSD counts these in ip6s_badscope).  Our own
 * address as a source from the wire is forged (ip6s_badaddr), unless we
 * are still checking it for duplicates (the duplicate's answers come
 * from it).  Nonzero (counted) when the packet must go.
 */
static int
ip6_badaddr(struct ust_stack *st, const struct ip6_hdr *h, int local)
{
	const struct in6_addr *s = &h->ip6_src, *d = &h->ip6_dst;
	struct in6_ifaddr *ia;

	if (IN6_IS_ADDR_MULTICAST(s) || IN6_IS_ADDR_V4MAPPED(s) || IN6_IS_ADDR_V4MAPPED(d) ||
	    IN6_IS_ADDR_UNSPECIFIED(d)) {
		IP6STAT_INC(st, ip6s_badscope);
		return (1);
	}
	if (local)
		return (0);
	if (IN6_IS_ADDR_LOOPBACK(s) || IN6_IS_ADDR_LOOPBACK(d) ||
	    (IN6_IS_ADDR_MULTICAST(d) &&
	        (IPV6_ADDR_MC_SCOPE(d) == 0 ||
	            IPV6_ADDR_MC_SCOPE(d) == IPV6_ADDR_SCOPE_INTFACELOCAL))) {
		IP6STAT_INC(st, ip6s_badscope);
		return (1);
	}
	if ((ia = in6ifa_find(st, s, NULL)) != NULL && !(ia->ia6_flags & IN6_IFF_NOTREADY)) {
		IP6STAT_INC(st, ip6s_badaddr);
		return (1);
	}
	return (0);
}

static void
ip6_input1(struct ifnet *ifp, struct mbuf *m, int local)
{
	struct ust_stack *st = ifp->if_stack;
	const struct protosw *pr;
	struct in6_ifaddr *ia;
	struct ip6_hdr h;
	struct ip6_rthdr rh;
	uint32_t off = IP6_HDRLEN, nxtoff = 6, ehlen;
	unsigned nest = 0;
	uint8_t nxt;
	int mcast, ext = 0;

	M_SANITY(m);
	IP6STAT_INC(st, ip6s_total);
	m->m_pkthdr.rcvif = ifp;
	if (IN6_IFEXTRA(ifp) == NULL || (ND_IFINFO(ifp)->flags & ND6_IFF_IFDISABLED)) {
		IP6STAT_INC(st, ip6s_cantforward); /* IPv6 is off on the link */
		goto drop;
	}
	if ((m = ip6_validate(st, m, &h)) == NULL)
		return;
	if (ip6_badaddr(st, &h, local))
		goto drop;
	IP6STAT_INC(st, ip6s_nxthist[h.ip6_nxt]);
	/* Ours: a group joined on this link, or one of our addresses (the
	 * weak host model, as FreeBSD, but a link-local one only on its own
	 * link) that duplicate address detection has cleared (RFC 4862
	 * 5.4: a tentative address takes nothing). */
	mcast = IN6_IS_ADDR_MULTICAST(&h.ip6_dst);
	if (mcast) {
		if (!in6_mcast_member(ifp, &h.ip6_dst)) {
			IP6STAT_INC(st, ip6s_notmember);
			goto drop;
		}
	} else {
		ia = in6ifa_find(st, &h.ip6_dst, in6_is_scoped(&h.ip6_dst) ? ifp : NULL);
		if (ia == NULL || (ia->ia6_flags & IN6_IFF_NOTREADY)) {
			IP6STAT_INC(st, ip6s_cantforward);
			goto drop;
		}
	}
	nxt = h.ip6_nxt;
	for (;;) {
		switch (nxt) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_FRAGMENT:
			if (V(st, ip6_hdrnestlimit) != 0 && ++nest > V(st, ip6_hdrnestlimit)) {
				IP6STAT_INC(st, ip6s_toomanyhdr);
				goto drop;
			}
			break;
		default:
			goto upper;
		}
		ext = 1;
		if (nxt == IPPROTO_HOPOPTS && off != IP6_HDRLEN) {
			/* RFC 8200 4.1: only right after the IPv6 header. */
			IP6STAT_INC(st, ip6s_hbhnotfirst);
			icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, nxtoff);
			return;
		}
		if (nxt == IPPROTO_FRAGMENT) {
			if ((m = m_pullup(m, off + IP6_FRAGHDRLEN)) == NULL) {
				IP6STAT_INC(st, ip6s_tooshort);
				return;
			}
			IP6STAT_INC(st, ip6s_fragments);
			if ((m = frag6_input(m, &off, &nxt, nxtoff)) == NULL)
				return;
			(void)ip6_hdr_parse(mtod(m, const uint8_t *), m->m_len, &h);
			continue;
		}
		if (m->m_pkthdr.len < off + 2 || (m = m_pullup(m, off + 2)) == NULL) {
			IP6STAT_INC(st, ip6s_tooshort);
			if (m != NULL)
				m_freem(m);
			return;
		}
		ehlen = IP6_EXT_LEN(mtod(m, const uint8_t *)[off + 1]);
		if (m->m_pkthdr.len < off + ehlen) {
			IP6STAT_INC(st, ip6s_tooshort);
			goto drop;
		}
		if ((m = m_pullup(m, off + ehlen)) == NULL) {
			IP6STAT_INC(st, ip6s_exthdrtoolong);
			return;
		}
		if (nxt == IPPROTO_ROUTING) {
			(void)ip6_rthdr_parse(mtod(m, const uint8_t *) + off, ehlen, &rh);
			if (rh.ip6r_type == IPV6_RTHDR_TYPE_0)
				IP6STAT_INC(st, ip6s_rh0);
			/* RFC 8200 4.4: with no segments left the header is
			 * ignored; otherwise we would have to forward, which
			 * a host does not, so the type is "unrecognized"
			 * (RFC 5095 3 for type 0). */
			if (rh.ip6r_segleft != 0) {
				icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off + 2);
				return;
			}
		} else if (ip6_opts(st, m, off, ehlen, mcast) != IP6_OPTS_OK)
			return;
		nxtoff = off;
		nxt = mtod(m, const uint8_t *)[off];
		off += ehlen;
	}
upper:
	if (nxt == IPPROTO_NONE) /* RFC 8200 4.7: nothing follows */
		goto drop;
	pr = ip6_protosw_find(st, nxt);
	if (pr == NULL || pr->pr_input == NULL) {
		IP6STAT_INC(st, ip6s_noproto);
		/* RFC 8200 4: an unrecognized next header, pointing at the
		 * field that named it (icmp6_error keeps it off multicast). */
		icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, nxtoff);
		return;
	}
	IP6STAT_INC(st, ip6s_delivered);
	/* Software LRO (netinet/tcp_lro.c): a unicast TCP segment with no
	 * extension header, inside a receive burst of its interface. */
	if (nxt == IPPROTO_TCP && !ext && ifp->if_lro_burst && !local && !mcast &&
	    !(m->m_flags & (M_BCAST | M_MCAST)) && V(st, tcp_lro_enable) &&
	    tcp_lro_rx(ifp, m, IP6_HDRLEN) == 0)
		return;
	pr->pr_input(m, off);
	return;
drop:
	m_freem(m);
}

void
ip6_input(struct ifnet *ifp, struct mbuf *m)
{
	if (m == NULL)
		return;
	if (ifp == NULL || ifp->if_stack == NULL) {
		m_freem(m);
		return;
	}
	ip6_input1(ifp, m, 0);
}

void
ip6_input_loop(struct ifnet *ifp, struct mbuf *m)
{
	if (m == NULL)
		return;
	if (ifp == NULL || ifp->if_stack == NULL) {
		m_freem(m);
		return;
	}
	ip6_input1(ifp, m, 1);
}

int
ip6_init(struct ust_stack *st)
{
	/* Fragment identifications start at random (RFC 7739); the flow
	 * label key is the stack's secret (RFC 6437 3). */
	st->st_ip6_id = ust_rng_u32(&st->st_rng);
	st->st_ip6_flowkey[0] =
	    ((uint64_t)ust_rng_u32(&st->st_rng) << 32) | ust_rng_u32(&st->st_rng);
	st->st_ip6_flowkey[1] =
	    ((uint64_t)ust_rng_u32(&st->st_rng) << 32) | ust_rng_u32(&st->st_rng);
	return (frag6_init(st));
}

void
ip6_fini(struct ust_stack *st)
{
	frag6_fini(st);
}
