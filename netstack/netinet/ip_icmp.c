/*
 * ip_icmp.c - ICMP for a host (RFC 792, RFC 1122 3.2.2): echo replies,
 * errors about datagrams we could not deliver, rate limiting, and errors
 * received about our own datagrams handed to the transport they quote.
 *
 *   ip_input() -> icmp_input() -> rip_input()                 (raw copies)
 *                              -> icmp_reflect() -> ip_output()      (echo)
 *                              -> icmp_notify() -> pr_ctlinput()     (errors)
 *   ip_input/udp_input/ip_reass -> icmp_error() -> ip_output()
 *
 * Echo replies and errors share one budget of net.inet.icmp.icmplim
 * messages per second of stack time (a window that restarts every
 * second); what is over the budget is dropped and counted.
 */
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/kern_ratecheck.h"
#include "kern/stack_var.h"
#include "netinet/icmp_var.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/ip_icmp.h"
#include "netinet/ip_var.h"

/* Bytes of the offending datagram's payload quoted after its header
 * (RFC 792: 64 bits; FreeBSD's net.inet.icmp.quotelen default 8). */
#define ICMP_QUOTELEN 8
/* Transport header bytes pulled up for pr_ctlinput (at least 8). */
#define ICMP_CTL_L4MAX 64

struct icmp_state {
	struct ppsrate ics_rate; /* the error limit (ppsratecheck) */
};

/* Whether one more error or echo reply may go out now (counts it). */
static int
icmp_ratelimit_ok(struct ust_stack *st)
{
	struct icmp_state *ics = st->st_icmp;

	if (V(st, icmp_lim) == 0)
		return (1);
	if (ics == NULL)
		return (0);
	if (ppsratecheck(&ics->ics_rate, stack_now(st), (uint32_t)V(st, icmp_lim)))
		return (1);
	ICMPSTAT_INC(st, icps_ratelimited);
	return (0);
}

/* Whether a is a broadcast or multicast destination on ifp. */
static int
icmp_bmcast_dst(struct in_addr a, const struct ifnet *ifp)
{
	uint32_t h = ntohl(a.s_addr);

	return (h == INADDR_BROADCAST || IN_MULTICAST(h) || (ifp != NULL && in_broadcast(a, ifp)));
}

/* Writes type/code/rest at offset 0 of m and the checksum over all of m,
 * then sends it.  m holds the ICMP message, its header first and writable. */
static void
icmp_send(struct ust_stack *st, struct mbuf *m, struct icmp *ic, struct in_addr src,
    struct in_addr dst, uint8_t tos)
{
	struct ip_out_args args;

	ic->icmp_cksum = 0;
	icmp_hdr_write(mtod(m, uint8_t *), ic);
	ic->icmp_cksum = in_cksum_skip(m, 0, m->m_pkthdr.len, 0);
	icmp_hdr_write(mtod(m, uint8_t *), ic);
	memset(&args, 0, sizeof(args));
	args.src = src;
	args.dst = dst;
	args.proto = IPPROTO_ICMP;
	args.tos = tos;
	if (ic->icmp_type <= UST_ICMP_MAXTYPE)
		ICMPSTAT_INC(st, icps_outhist[ic->icmp_type]);
	(void)ip_output(st, m, &args);
}

/*
 * RFC 792 echo: the reply carries the identifier, sequence number and data
 * of the request unchanged (RFC 1122 3.2.2.6), from the address the
 * request was sent to (or, for an allowed broadcast, the interface's).
 * Options are not reflected.  Consumes m.
 */
static void
icmp_reflect(struct ust_stack *st, struct mbuf *m, const struct ip *ip, uint32_t off,
    const struct icmp *req)
{
	struct ifnet *ifp = m->m_pkthdr.rcvif;
	struct in_addr src = ip->ip_dst;
	struct in_ifaddr *ia;
	struct icmp ic;

	if (icmp_bmcast_dst(ip->ip_dst, ifp) || (m->m_flags & (M_BCAST | M_MCAST))) {
		if (!V(st, icmp_bmcastecho)) {
			ICMPSTAT_INC(st, icps_bmcastecho);
			goto drop;
		}
		if ((ia = in_ifaddr_first(st, ifp)) == NULL)
			goto drop;
		src = ia->ia_addr;
	}
	if (!icmp_ratelimit_ok(st))
		goto drop;
	/* Keep the ICMP message only, and give it a header we may write
	 * (the received buffer may be shared). */
	m_adj(m, (int32_t)(off + ICMP_MINLEN));
	M_PREPEND(m, ICMP_MINLEN);
	if (m == NULL)
		return;
	m->m_flags &= (uint16_t) ~(M_BCAST | M_MCAST);
	ic = *req;
	ic.icmp_type = ICMP_ECHOREPLY;
	ic.icmp_code = 0;
	ICMPSTAT_INC(st, icps_reflect);
	icmp_send(st, m, &ic, src, ip->ip_src, ip->ip_tos);
	return;
drop:
	m_freem(m);
}

#if UST_ICMP_CTLINPUT
static int
icmp_code_ok(uint8_t type, uint8_t code)
{
	switch (type) {
	case ICMP_UNREACH:
		return (code <= ICMP_UNREACH_MAXCODE);
	case ICMP_TIMXCEED:
		return (code <= ICMP_TIMXCEED_MAXCODE);
	case ICMP_PARAMPROB:
		return (code <= ICMP_PARAMPROB_MAXCODE);
	default:
		return (code == 0);
	}
}

/*
 * An error about one of our datagrams (RFC 1122 3.2.2.1-5): check the
 * quote (an IPv4 header whose source is ours, and 8 bytes of transport
 * header) and hand it to the transport it names.  Consumes m.
 */
static void
icmp_notify(struct ust_stack *st, struct mbuf *m, uint32_t off, uint32_t icmplen,
    const struct icmp *ic)
{
	const struct protosw *pr;
	struct icmp_ctl ctl;
	uint32_t qoff = off + ICMP_MINLEN, qhlen, l4len;
	struct ip q;
	uint16_t mtu;

	if (!icmp_code_ok(ic->icmp_type, ic->icmp_code)) {
		ICMPSTAT_INC(st, icps_badcode);
		goto drop;
	}
	if (icmplen < ICMP_MINLEN + IP_HDRLEN + 8)
		goto badlen;
	if ((m = m_pullup(m, qoff + IP_HDRLEN)) == NULL)
		return;
	(void)ip_hdr_parse(mtod(m, const uint8_t *) + qoff, IP_HDRLEN, &q);
	qhlen = (uint32_t)q.ip_hl << 2;
	if (q.ip_v != IPVERSION || qhlen < IP_HDRLEN || qhlen + 8 > icmplen - ICMP_MINLEN ||
	    !in_localip(st, q.ip_src))
		goto badlen;
	l4len = icmplen - ICMP_MINLEN - qhlen;
	if (l4len > ICMP_CTL_L4MAX)
		l4len = ICMP_CTL_L4MAX;
	if ((m = m_pullup(m, qoff + qhlen + l4len)) == NULL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.type = ic->icmp_type;
	ctl.code = ic->icmp_code;
	if (ic->icmp_type == ICMP_UNREACH && ic->icmp_code == ICMP_UNREACH_NEEDFRAG) {
		/* RFC 1191 4: the next-hop MTU, 0 from old routers.  Values
		 * below 68 are impossible: pass 0 and let the transport use
		 * its plateau table. */
		mtu = icmp_nextmtu(ic);
		ctl.mtu = mtu >= ICMP_MINMTU ? mtu : 0;
	}
	ctl.src = q.ip_src;
	ctl.dst = q.ip_dst;
	ctl.proto = q.ip_p;
	ctl.l4 = mtod(m, const uint8_t *) + qoff + qhlen;
	ctl.l4len = l4len;
	pr = ip_protosw_find(st, q.ip_p);
	if (pr != NULL && pr->pr_ctlinput != NULL)
		pr->pr_ctlinput(st, &ctl);
	goto drop;
badlen:
	ICMPSTAT_INC(st, icps_badlen);
drop:
	m_freem(m);
}
#endif /* UST_ICMP_CTLINPUT */

void
icmp_input(struct mbuf *m, uint32_t off)
{
	struct ust_stack *st;
	uint32_t icmplen;
	struct icmp ic;
	struct ip ip;

	if (m == NULL)
		return;
	if (m->m_pkthdr.rcvif == NULL || (st = M_STACK(m)) == NULL) {
		m_freem(m);
		return;
	}
	(void)ip_hdr_parse(mtod(m, const uint8_t *), m->m_len, &ip);
	icmplen = m->m_pkthdr.len - off;
	if (m->m_pkthdr.len < off || icmplen < ICMP_MINLEN) {
		ICMPSTAT_INC(st, icps_tooshort);
		goto drop;
	}
	if ((m = m_pullup(m, off + ICMP_MINLEN)) == NULL)
		return;
	if (in_cksum_skip(m, off, icmplen, 0) != 0) {
		ICMPSTAT_INC(st, icps_checksum);
		goto drop;
	}
	(void)icmp_hdr_parse(mtod(m, const uint8_t *) + off, ICMP_MINLEN, &ic);
	if (ic.icmp_type <= UST_ICMP_MAXTYPE)
		ICMPSTAT_INC(st, icps_inhist[ic.icmp_type]);
	/* Raw sockets see every valid message (ping's echo replies, errors),
	 * whatever the stack itself does with it below. */
	rip_input(m, off);
	switch (ic.icmp_type) {
	case ICMP_ECHO:
		icmp_reflect(st, m, &ip, off, &ic);
		return;
#if UST_ICMP_CTLINPUT
	case ICMP_UNREACH:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
	case ICMP_SOURCEQUENCH:
		icmp_notify(st, m, off, icmplen, &ic);
		return;
#endif
	default:
		/* Echo replies (raw sockets have their copy), redirects (a
		 * host may ignore them, RFC 1122 3.2.2.2), queries: counted
		 * only. */
		break;
	}
drop:
	m_freem(m);
}

#if UST_ICMP_ERRORS
/* RFC 1122 3.2.2: the cases where no error may be sent about n.  Returns
 * 0 when one may be sent, else counts the reason and returns -1. */
static int
icmp_error_allowed(struct ust_stack *st, struct mbuf *n, const struct ip *oip, uint32_t ohlen)
{
	uint32_t hsrc = ntohl(oip->ip_src.s_addr);
	struct ifnet *ifp = n->m_pkthdr.rcvif;
	uint8_t otype;

	if (oip->ip_off & IP_OFFMASK) {
		ICMPSTAT_INC(st, icps_notfirstfrag);
		return (-1);
	}
	if (oip->ip_p == IPPROTO_ICMP) {
		if (oip->ip_len < ohlen + 1 || m_copydata(n, ohlen, 1, &otype) != 0) {
			ICMPSTAT_INC(st, icps_oldshortmsg);
			return (-1);
		}
		if (!ICMP_INFOTYPE(otype)) {
			ICMPSTAT_INC(st, icps_oldicmp);
			return (-1);
		}
	}
	if ((n->m_flags & (M_BCAST | M_MCAST)) || icmp_bmcast_dst(oip->ip_dst, ifp)) {
		ICMPSTAT_INC(st, icps_nobcast);
		return (-1);
	}
	if (hsrc == INADDR_ANY || icmp_bmcast_dst(oip->ip_src, ifp) || IN_BADCLASS(hsrc) ||
	    IN_LOOPBACK(hsrc)) {
		ICMPSTAT_INC(st, icps_nobcast);
		return (-1);
	}
	return (0);
}

void
icmp_error(struct mbuf *n, int type, int code, uint32_t mtu)
{
	uint8_t buf[ICMP_MINLEN + IP_MAXHDRLEN + ICMP_QUOTELEN];
	struct ust_stack *st;
	struct in_addr src;
	struct mbuf *m;
	uint32_t ohlen, qlen;
	struct icmp ic;
	struct ip oip;

	if (n == NULL)
		return;
	if (n->m_pkthdr.rcvif == NULL || (st = M_STACK(n)) == NULL)
		goto freeit;
	ICMPSTAT_INC(st, icps_error);
	if ((n = m_pullup(n, IP_HDRLEN)) == NULL)
		return;
	(void)ip_hdr_parse(mtod(n, const uint8_t *), n->m_len, &oip);
	ohlen = (uint32_t)oip.ip_hl << 2;
	if (oip.ip_v != IPVERSION || ohlen < IP_HDRLEN || ohlen > n->m_pkthdr.len) {
		ICMPSTAT_INC(st, icps_oldshortmsg);
		goto freeit;
	}
	if (icmp_error_allowed(st, n, &oip, ohlen) != 0)
		goto freeit;
	if (!icmp_ratelimit_ok(st))
		goto freeit;
	/* RFC 792: the header and the first 64 bits of the data. */
	qlen = ohlen + ICMP_QUOTELEN;
	if (qlen > oip.ip_len)
		qlen = oip.ip_len;
	if (qlen > n->m_pkthdr.len)
		qlen = n->m_pkthdr.len;
	if (m_copydata(n, 0, qlen, buf + ICMP_MINLEN) != 0)
		goto freeit;
	memset(&ic, 0, sizeof(ic));
	ic.icmp_type = (uint8_t)type;
	ic.icmp_code = (uint8_t)code;
	if (type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG)
		icmp_set_nextmtu(&ic, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
	icmp_hdr_write(buf, &ic);
	if ((m = m_gethdr(&st->st_mbz, MT_DATA)) == NULL)
		goto freeit;
	m_reserve(m, MLEN - sizeof(buf) < UST_MAX_HDR ? (MLEN - sizeof(buf)) & ~7u : UST_MAX_HDR);
	if (m_append(m, ICMP_MINLEN + qlen, buf) != 0) {
		m_freem(m);
		goto freeit;
	}
	if (m->m_len < ICMP_MINLEN && (m = m_pullup(m, ICMP_MINLEN)) == NULL)
		goto freeit;
	/* From the address the offending datagram was sent to when it is
	 * ours; otherwise (a broadcast we never answer, or a reassembly
	 * queue) the route's source. */
	src = oip.ip_dst;
	if (!in_localip(st, src))
		src.s_addr = INADDR_ANY;
	icmp_send(st, m, &ic, src, oip.ip_src, 0);
freeit:
	m_freem(n);
}
#else
/* Compiled out (UST_ICMP_ERRORS 0): the datagram is dropped, no error
 * goes back (RFC 1122 3.2.2 makes sending them a SHOULD). */
void
icmp_error(struct mbuf *n, int type, int code, uint32_t mtu)
{
	(void)type;
	(void)code;
	(void)mtu;
	m_freem(n);
}
#endif /* UST_ICMP_ERRORS */

int
icmp_init(struct ust_stack *st)
{
	if (st->st_icmp != NULL)
		return (0);
	if ((st->st_icmp = st_malloc(st, sizeof(struct icmp_state))) == NULL)
		return (UST_ENOMEM);
	st->st_icmp->ics_rate.pr_window = stack_now(st);
	return (0);
}

void
icmp_fini(struct ust_stack *st)
{
	if (st->st_icmp == NULL)
		return;
	st_free(st, st->st_icmp, sizeof(struct icmp_state));
	st->st_icmp = NULL;
}
