/*
 * icmp6.c - ICMPv6 for a host (RFC 4443; FreeBSD netinet6/icmp6.c):
 * input validation and dispatch (echo, errors to the transports through
 * pr_ctl6input, neighbor discovery and MLD to nd6.h), echo replies, and
 * icmp6_error() with the rules of RFC 4443 2.4 and a rate limit
 * (net.inet6.icmp6.errppslimit).
 *
 *   ip6_input -> icmp6_input -> echo: icmp6_reflect -> ip6_output
 *                            -> errors: icmp6_notify -> pmtu6_update,
 *                                  inet6sw[quoted nxt].pr_ctl6input
 *                            -> ND: nd6_{ns,na,rs,ra,redirect}_input
 *                            -> MLD: mld_input
 *                            -> every message: rip6_input (raw sockets)
 *
 * In a group of stacks, a copy (M_RSSCOPY) of an ND frame another stack
 * received is processed only as NS, NA or RA (whose input functions learn
 * from it without answering); other copies (RS, Redirect, MLD) are
 * dropped, and no copy reaches a raw socket.
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/kern_ratecheck.h"
#include "kern/stack_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"

#define ICMP6_L4_QUOTE 40 /* bytes of the quoted upper-layer header a transport sees */

struct icmp6_state {
	struct ppsrate ics_rate; /* the error limit (ppsratecheck) */
};

int
icmp6_init(struct ust_stack *st)
{
	st->st_icmp6 = st_malloc(st, sizeof(*st->st_icmp6));
	return (st->st_icmp6 == NULL ? UST_ENOMEM : 0);
}

void
icmp6_fini(struct ust_stack *st)
{
	if (st->st_icmp6 != NULL)
		st_free(st, st->st_icmp6, sizeof(*st->st_icmp6));
	st->st_icmp6 = NULL;
}

/* Whether one more error may go out this second (counts it); 0 in the
 * knob means no limit. */
static int
icmp6_ratelimit_ok(struct ust_stack *st)
{
	struct icmp6_state *ics = st->st_icmp6;

	if (V(st, icmp6_errppslimit) == 0)
		return (1);
	if (ics == NULL)
		return (0);
	if (ppsratecheck(&ics->ics_rate, stack_now(st), (uint32_t)V(st, icmp6_errppslimit)))
		return (1);
	ICMP6STAT_INC(st, icp6s_toofreq);
	return (0);
}

/*
 * The upper-layer header of the packet whose next header nxt sits before
 * off in m: walks hop-by-hop, routing and destination options headers
 * and a first fragment's Fragment header (at most hdrnestlimit of them).
 * 0 with *uoff and *unxt, or -1 (truncated, a later fragment, too many).
 */
static int
icmp6_upper(struct ust_stack *st, const struct mbuf *m, uint32_t off, uint8_t nxt, uint32_t *uoff,
    uint8_t *unxt)
{
	uint8_t b[4];
	unsigned n = 0, max = (unsigned)V(st, ip6_hdrnestlimit);

	for (;;) {
		switch (nxt) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (m_copydata(m, off, 2, b) != 0)
				return (-1);
			nxt = b[0];
			off += IP6_EXT_LEN(b[1]);
			break;
		case IPPROTO_FRAGMENT:
			if (m_copydata(m, off, 4, b) != 0)
				return (-1);
			if ((((uint32_t)b[2] << 8 | b[3]) & IP6F_OFF_MASK) != 0)
				return (-1);
			nxt = b[0];
			off += IP6_FRAGHDRLEN;
			break;
		default:
			*uoff = off;
			*unxt = nxt;
			return (0);
		}
		if (max != 0 && ++n > max)
			return (-1);
	}
}

/* Writes the header and the checksum (over m, which holds the whole
 * message, header first and writable) and sends it from src. */
static void
icmp6_send(struct ust_stack *st, struct mbuf *m, struct icmp6_hdr *ic, const struct in6_addr *src,
    const struct in6_addr *dst, uint32_t zoneid)
{
	struct ip6_out_args args;

	ic->icmp6_cksum = 0;
	icmp6_hdr_write(mtod(m, uint8_t *), ic);
	ic->icmp6_cksum = in6_cksum(m, IPPROTO_ICMPV6, 0, m->m_pkthdr.len, src, dst);
	icmp6_hdr_write(mtod(m, uint8_t *), ic);
	memset(&args, 0, sizeof(args));
	args.src = *src;
	args.dst = *dst;
	args.zoneid = zoneid;
	args.nxt = IPPROTO_ICMPV6;
	ICMP6STAT_INC(st, icp6s_outhist[ic->icmp6_type]);
	(void)ip6_output(st, m, &args);
}

static void
icmp6_count_error(struct ust_stack *st, int type, int code)
{
	switch (type) {
	case ICMP6_DST_UNREACH:
		switch (code) {
		case ICMP6_DST_UNREACH_NOROUTE:
			ICMP6STAT_INC(st, icp6s_odst_unreach_noroute);
			return;
		case ICMP6_DST_UNREACH_ADMIN:
			ICMP6STAT_INC(st, icp6s_odst_unreach_admin);
			return;
		case ICMP6_DST_UNREACH_BEYONDSCOPE:
			ICMP6STAT_INC(st, icp6s_odst_unreach_beyondscope);
			return;
		case ICMP6_DST_UNREACH_ADDR:
			ICMP6STAT_INC(st, icp6s_odst_unreach_addr);
			return;
		case ICMP6_DST_UNREACH_NOPORT:
			ICMP6STAT_INC(st, icp6s_odst_unreach_noport);
			return;
		}
		break;
	case ICMP6_PACKET_TOO_BIG:
		ICMP6STAT_INC(st, icp6s_opacket_too_big);
		return;
	case ICMP6_TIME_EXCEEDED:
		if (code == ICMP6_TIME_EXCEED_TRANSIT)
			ICMP6STAT_INC(st, icp6s_otime_exceed_transit);
		else
			ICMP6STAT_INC(st, icp6s_otime_exceed_reassembly);
		return;
	case ICMP6_PARAM_PROB:
		if (code == ICMP6_PARAMPROB_HEADER)
			ICMP6STAT_INC(st, icp6s_oparamprob_header);
		else if (code == ICMP6_PARAMPROB_NEXTHEADER)
			ICMP6STAT_INC(st, icp6s_oparamprob_nextheader);
		else if (code == ICMP6_PARAMPROB_OPTION)
			ICMP6STAT_INC(st, icp6s_oparamprob_option);
		else
			break;
		return;
	}
	ICMP6STAT_INC(st, icp6s_ounknown);
}

void
icmp6_error(struct mbuf *m, int type, int code, uint32_t param)
{
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct ust_stack *st;
	struct in6_ifaddr *ia;
	struct in6_addr src;
	struct icmp6_hdr ic;
	struct ip6_hdr h;
	struct mbuf *n;
	uint8_t b[IP6_HDRLEN], unxt, itype;
	uint32_t uoff, len, zoneid;

	if (ifp == NULL) { /* only about a packet that came in */
		m_freem(m);
		return;
	}
	st = ifp->if_stack;
	ICMP6STAT_INC(st, icp6s_error);
	icmp6_count_error(st, type, code);
	if (m_copydata(m, 0, IP6_HDRLEN, b) != 0)
		goto freeit;
	(void)ip6_hdr_parse(b, sizeof(b), &h);
	/* RFC 4443 2.4(e): never about a packet to a group or sent as a
	 * link-layer broadcast, except a packet too big and an unrecognized
	 * option whose type asks for it (2.4(e.3)); never to a source that
	 * does not name one node (2.4(e.6)). */
	if (((m->m_flags & (M_BCAST | M_MCAST)) || IN6_IS_ADDR_MULTICAST(&h.ip6_dst)) &&
	    !(type == ICMP6_PACKET_TOO_BIG ||
	        (type == ICMP6_PARAM_PROB && code == ICMP6_PARAMPROB_OPTION)))
		goto freeit;
	if (IN6_IS_ADDR_UNSPECIFIED(&h.ip6_src) || IN6_IS_ADDR_MULTICAST(&h.ip6_src) ||
	    IN6_IS_ADDR_LOOPBACK(&h.ip6_src) || IN6_IS_ADDR_V4MAPPED(&h.ip6_src))
		goto freeit;
	/* 2.4(e.1, e.2): never about an ICMPv6 error or a redirect. */
	if (icmp6_upper(st, m, IP6_HDRLEN, h.ip6_nxt, &uoff, &unxt) == 0 &&
	    unxt == IPPROTO_ICMPV6 && m_copydata(m, uoff, 1, &itype) == 0 &&
	    (!(itype & ICMP6_INFOMSG_MASK) || itype == ND_REDIRECT)) {
		ICMP6STAT_INC(st, icp6s_canterror);
		goto freeit;
	}
	/* 2.4(f): rate limited. */
	if (!icmp6_ratelimit_ok(st))
		goto freeit;
	/* 2.2: from the address the packet was sent to, when it is one of
	 * ours (unicast), else the best address toward its source. */
	zoneid = in6_is_scoped(&h.ip6_src) ? ifp->if_index : 0;
	ia = IN6_IS_ADDR_MULTICAST(&h.ip6_dst) ?
	    NULL :
	    in6ifa_find(st, &h.ip6_dst, in6_is_scoped(&h.ip6_dst) ? ifp : NULL);
	if (ia != NULL && !(ia->ia6_flags & (IN6_IFF_NOTREADY | IN6_IFF_ANYCAST)))
		src = ia->ia_addr;
	else if (in6_selectsrc(st, &h.ip6_src, zoneid, ifp, &src) != 0)
		goto freeit;
	/* 2.4(c): as much of the packet as fits the minimum MTU. */
	len = m->m_pkthdr.len < ICMPV6_PLD_MAXLEN ? m->m_pkthdr.len : ICMPV6_PLD_MAXLEN;
	n = m_getcl(&st->st_mbz, MT_DATA, M_PKTHDR);
	if (n == NULL)
		goto freeit;
	m_reserve(n, (M_SIZE(n) - ICMP6_HDRLEN - len) & ~(uint32_t)7);
	n->m_len = ICMP6_HDRLEN + len;
	n->m_pkthdr.len = n->m_len;
	if (m_copydata(m, 0, len, mtod(n, uint8_t *) + ICMP6_HDRLEN) != 0) {
		m_freem(n);
		goto freeit;
	}
	m_freem(m);
	memset(&ic, 0, sizeof(ic));
	ic.icmp6_type = (uint8_t)type;
	ic.icmp6_code = (uint8_t)code;
	ic.icmp6_data = param;
	icmp6_send(st, n, &ic, &src, &h.ip6_src, zoneid);
	return;
freeit:
	m_freem(m);
}

/*
 * RFC 4443 4.2: the reply carries the request's identifier, sequence
 * number and data, from the address the request went to or, for a
 * request to a group, from our best address toward the requester.
 * Consumes m.
 */
static void
icmp6_reflect(struct ust_stack *st, struct mbuf *m, const struct ip6_hdr *h, uint32_t off,
    const struct icmp6_hdr *req)
{
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct in6_addr src = h->ip6_dst;
	struct icmp6_hdr ic;
	uint32_t zoneid = in6_is_scoped(&h->ip6_src) ? ifp->if_index : 0;

	if (IN6_IS_ADDR_MULTICAST(&h->ip6_dst) &&
	    in6_selectsrc(st, &h->ip6_src, zoneid, ifp, &src) != 0) {
		m_freem(m);
		return;
	}
	/* Keep the message only, under a header we may write (the
	 * received buffer may be lent by the driver). */
	m_adj(m, (int32_t)(off + ICMP6_HDRLEN));
	M_PREPEND(m, ICMP6_HDRLEN);
	if (m == NULL)
		return;
	m->m_flags &= (uint16_t) ~(M_BCAST | M_MCAST);
	ic = *req;
	ic.icmp6_type = ICMP6_ECHO_REPLY;
	ic.icmp6_code = 0;
	ICMP6STAT_INC(st, icp6s_reflect);
	icmp6_send(st, m, &ic, &src, &h->ip6_src, zoneid);
}

/*
 * An error about one of our packets (RFC 4443 3; 2.4(b)): the quote must
 * be an IPv6 header from one of our addresses.  A packet too big lowers
 * the path MTU (RFC 8201 4); the transport the quote names hears of it
 * through pr_ctl6input.  m stays the caller's.
 */
static void
icmp6_notify(struct ust_stack *st, struct mbuf *m, uint32_t off, uint32_t icmp6len,
    const struct icmp6_hdr *ic)
{
	uint8_t qb[IP6_HDRLEN], l4[ICMP6_L4_QUOTE];
	const struct protosw *pr;
	struct ip6ctlparam ctl;
	struct ip6_hdr q;
	uint32_t qoff = off + ICMP6_HDRLEN, uoff, end = off + icmp6len;
	uint8_t unxt;

	if (m_copydata(m, qoff, IP6_HDRLEN, qb) != 0)
		return;
	(void)ip6_hdr_parse(qb, sizeof(qb), &q);
	if (q.ip6_v != IPV6_VERSION || !in6_localip(st, &q.ip6_src))
		return; /* not about a packet of ours */
	memset(&ctl, 0, sizeof(ctl));
	ctl.type = ic->icmp6_type;
	ctl.code = ic->icmp6_code;
	ctl.src = q.ip6_src;
	ctl.dst = q.ip6_dst;
	ctl.zoneid = m->m_pkthdr.rcvif->if_index;
	if (ic->icmp6_type == ICMP6_PACKET_TOO_BIG) {
		pmtu6_update(st, &q.ip6_dst, ic->icmp6_data);
		ctl.mtu = ic->icmp6_data;
	}
	if (icmp6_upper(st, m, qoff + IP6_HDRLEN, q.ip6_nxt, &uoff, &unxt) != 0 || uoff + 8 > end)
		return; /* the transport cannot tell which of its packets */
	ctl.nxt = unxt;
	ctl.l4len = end - uoff < sizeof(l4) ? end - uoff : (uint32_t)sizeof(l4);
	if (m_copydata(m, uoff, ctl.l4len, l4) != 0)
		return;
	ctl.l4 = l4;
	pr = ip6_protosw_find(st, unxt);
	if (pr != NULL && pr->pr_ctl6input != NULL)
		pr->pr_ctl6input(st, &ctl);
}

static int
icmp6_code_ok(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP6_DST_UNREACH:
		return (code <= 7);
	case ICMP6_TIME_EXCEEDED:
		return (code <= ICMP6_TIME_EXCEED_REASSEMBLY);
	case ICMP6_PARAM_PROB:
		return (code <= 10);
	default:
		return (1);
	}
}

/* The shortest message of each ND type (RFC 4861 4). */
static uint32_t
icmp6_nd_minlen(uint8_t type)
{
	switch (type) {
	case ND_ROUTER_SOLICIT:
		return (ND_RS_LEN);
	case ND_ROUTER_ADVERT:
		return (ND_RA_LEN);
	case ND_NEIGHBOR_SOLICIT:
		return (ND_NS_LEN);
	case ND_NEIGHBOR_ADVERT:
		return (ND_NA_LEN);
	default:
		return (ND_REDIRECT_LEN);
	}
}

void
icmp6_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = M_STACK(m);
	uint32_t icmp6len = m->m_pkthdr.len - off;
	struct icmp6_hdr ic;
	struct ip6_hdr h;

	if (icmp6len < ICMP6_HDRLEN) {
		ICMP6STAT_INC(st, icp6s_tooshort);
		goto drop;
	}
	if ((m = m_pullup(m, off + ICMP6_HDRLEN)) == NULL) {
		ICMP6STAT_INC(st, icp6s_tooshort);
		return;
	}
	(void)ip6_hdr_parse(mtod(m, const uint8_t *), m->m_len, &h);
	(void)icmp6_hdr_parse(mtod(m, const uint8_t *) + off, ICMP6_HDRLEN, &ic);
	if (in6_cksum(m, IPPROTO_ICMPV6, off, icmp6len, &h.ip6_src, &h.ip6_dst) != 0) {
		ICMP6STAT_INC(st, icp6s_checksum);
		goto drop;
	}
	ICMP6STAT_INC(st, icp6s_inhist[ic.icmp6_type]);
	if ((m->m_flags & M_RSSCOPY) != 0 && ic.icmp6_type != ND_ROUTER_ADVERT &&
	    ic.icmp6_type != ND_NEIGHBOR_SOLICIT && ic.icmp6_type != ND_NEIGHBOR_ADVERT)
		goto drop; /* a group's copy teaches only by NS, NA and RA */
	switch (ic.icmp6_type) {
	case ICMP6_ECHO_REQUEST:
		if (ic.icmp6_code != 0)
			goto badcode;
		rip6_input(m, off);
		icmp6_reflect(st, m, &h, off, &ic);
		return;
	case ICMP6_ECHO_REPLY:
		if (ic.icmp6_code != 0)
			goto badcode;
		break;
	case ICMP6_DST_UNREACH:
	case ICMP6_PACKET_TOO_BIG:
	case ICMP6_TIME_EXCEEDED:
	case ICMP6_PARAM_PROB:
		if (!icmp6_code_ok(ic.icmp6_type, ic.icmp6_code))
			goto badcode;
		if (icmp6len < ICMP6_HDRLEN + IP6_HDRLEN) {
			ICMP6STAT_INC(st, icp6s_tooshort);
			goto drop;
		}
		icmp6_notify(st, m, off, icmp6len, &ic);
		break;
	case ND_ROUTER_SOLICIT:
	case ND_ROUTER_ADVERT:
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
	case ND_REDIRECT:
		/* RFC 4861 6.1, 7.1, 8.1: hop limit 255 (from the link
		 * itself), code 0, the type's length. */
		if (h.ip6_hlim != 255) {
			ICMP6STAT_INC(st, icp6s_invlhlim);
			goto drop;
		}
		if (ic.icmp6_code != 0)
			goto badcode;
		if (icmp6len < icmp6_nd_minlen(ic.icmp6_type)) {
			ICMP6STAT_INC(st, icp6s_badlen);
			goto drop;
		}
		/* A copy went to the raw sockets of the stack that
		 * received it. */
		if ((m->m_flags & M_RSSCOPY) == 0)
			rip6_input(m, off);
		switch (ic.icmp6_type) {
		case ND_ROUTER_SOLICIT:
			nd6_rs_input(m, off, icmp6len);
			return;
		case ND_ROUTER_ADVERT:
			nd6_ra_input(m, off, icmp6len);
			return;
		case ND_NEIGHBOR_SOLICIT:
			nd6_ns_input(m, off, icmp6len);
			return;
		case ND_NEIGHBOR_ADVERT:
			nd6_na_input(m, off, icmp6len);
			return;
		default:
			nd6_redirect_input(m, off, icmp6len);
			return;
		}
	case MLD_LISTENER_QUERY:
	case MLD_LISTENER_REPORT:
	case MLD_LISTENER_DONE:
	case MLDV2_LISTENER_REPORT:
		rip6_input(m, off);
		mld_input(m, off, icmp6len);
		return;
	default:
		/* Unknown informational messages are dropped, unknown
		 * errors go to raw sockets only (RFC 4443 2.4(a, b)). */
		break;
	}
	rip6_input(m, off);
	m_freem(m);
	return;
badcode:
	ICMP6STAT_INC(st, icp6s_badcode);
drop:
	m_freem(m);
}
