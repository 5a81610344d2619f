/*
 * ip_reass.c - reassembly of IPv4 fragments (RFC 791 3.2, with RFC 815's
 * view of a datagram as data plus holes), bounded and overlap-safe.
 *
 *   ip_input() -> ip_reass() -> [complete] -> back to ip_input's protocol switch
 *   callout (net.inet.ip.fragttl) -> ipq_timeout() -> icmp_error(TIMXCEED, REASS)
 *
 * A datagram under reassembly is a struct ipq keyed by (src, dst, id,
 * proto) holding its fragments (whole, IP header included) sorted by
 * offset through m_nextpkt.  Limits, all per stack: maxfragpackets
 * datagrams, maxfragsperpacket fragments each, maxfragbytes bytes in all
 * (charged by m_pkthdr.len).
 *
 * Security (RFC 1858, RFC 3128; RFC 5722 is the IPv6 rule we adopt): any
 * overlap between two fragments drops the whole datagram, so no overlap
 * trick can make two hosts see different data.  The one exception is an
 * exact duplicate (same offset, length, MF and bytes), which a duplicating
 * link makes without any malice and which cannot change the data: only the
 * copy is dropped.  So do zero-length or not-multiple-of-8 non-last fragments, data
 * past 65535, tiny first fragments (< 8 bytes of transport header) and
 * two last fragments that disagree.  A datagram is returned only when its
 * fragments cover [0, end) with no hole.
 */
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet/icmp_var.h"
#include "netinet/ip.h"
#include "netinet/ip_var.h"

#if UST_IP_REASS
/* The transport header bytes the first fragment must carry (RFC 1858
 * 3.2: enough for the ports and, for TCP, no flag games). */
#define IPQ_MINFIRST 8
/* Hard ceiling of the ipq zone; the knob bounds it further. */
#define IPQ_ZONE_MAX 65536

struct ipq {
	struct ipq *ipq_next;
	struct ust_stack *ipq_st;
	struct in_addr ipq_src;
	struct in_addr ipq_dst;
	uint16_t ipq_id;
	uint8_t ipq_p;
	uint8_t ipq_havefirst; /* fragment 0 is here */
	uint32_t ipq_end;      /* end of the last fragment, when known */
	uint8_t ipq_haveend;
	uint32_t ipq_nfrags;
	uint32_t ipq_bytes;     /* m_pkthdr.len charged */
	struct mbuf *ipq_frags; /* sorted by offset through m_nextpkt */
	struct callout ipq_timer;
};

#endif

struct ipq_state {
#if UST_IP_REASS
	struct ust_zone *iqs_zone;
	struct ipq *iqs_head;
	uint32_t iqs_count;
	uint64_t iqs_bytes;
#endif
	uint32_t iqs_loopdepth; /* ip_loop_enter() */
};

#if UST_IP_REASS
/* Offset, payload length and MF of a queued or arriving fragment (its
 * header was validated and pulled up by ip_input). */
static void
frag_info(const struct mbuf *m, uint32_t *off, uint32_t *len, int *mf, uint32_t *hlen)
{
	struct ip h;

	(void)ip_hdr_parse(mtod(m, const uint8_t *), m->m_len, &h);
	*hlen = (uint32_t)h.ip_hl << 2;
	*off = ip_frag_off(&h);
	*len = h.ip_len - *hlen;
	*mf = (h.ip_off & IP_MF) != 0;
}

static void
ipq_free(struct ipq_state *iqs, struct ipq *q, struct mbuf *keep)
{
	struct ust_stack *st = q->ipq_st;
	struct ipq **pp;
	struct mbuf *m, *n;

	callout_stop(&st->st_wheel, &q->ipq_timer);
	for (pp = &iqs->iqs_head; *pp != NULL; pp = &(*pp)->ipq_next)
		if (*pp == q) {
			*pp = q->ipq_next;
			break;
		}
	for (m = q->ipq_frags; m != NULL; m = n) {
		n = m->m_nextpkt;
		m->m_nextpkt = NULL;
		if (m != keep)
			m_freem(m);
	}
	iqs->iqs_count--;
	iqs->iqs_bytes -= q->ipq_bytes;
	ust_zone_free(iqs->iqs_zone, q);
}

/* Drops the whole datagram, counting each of its fragments. */
static void
ipq_drop(struct ipq_state *iqs, struct ipq *q)
{
	IPSTAT_ADD(q->ipq_st, ips_fragdropped, q->ipq_nfrags);
	ipq_free(iqs, q, NULL);
}

/* Whether ifp is still attached to st (a fragment may outlive it). */
static int
ifp_attached(const struct ust_stack *st, const struct ifnet *ifp)
{
	unsigned i;

	for (i = 0; i < st->st_nifnet && i < UST_MAX_IFNET; i++)
		if (st->st_ifnet[i] == ifp)
			return (1);
	return (0);
}

/* RFC 792 / RFC 1122 3.2.1.4: on timeout, time exceeded (reassembly) is
 * sent only if fragment zero arrived, quoting it. */
static void
ipq_timeout(void *arg)
{
	struct ipq *q = arg;
	struct ust_stack *st = q->ipq_st;
	struct ipq_state *iqs = st->st_ipq;
	struct mbuf *first = NULL;

	IPSTAT_INC(st, ips_fragtimeout);
	IPSTAT_ADD(st, ips_fragdropped, q->ipq_nfrags);
	if (q->ipq_havefirst && q->ipq_frags != NULL && q->ipq_frags->m_pkthdr.rcvif != NULL &&
	    ifp_attached(st, q->ipq_frags->m_pkthdr.rcvif))
		first = q->ipq_frags;
	ipq_free(iqs, q, first);
	if (first != NULL)
		icmp_error(first, ICMP_TIMXCEED, ICMP_TIMXCEED_REASS, 0);
}

static struct ipq *
ipq_lookup(struct ipq_state *iqs, const struct ip *h)
{
	struct ipq *q;

	for (q = iqs->iqs_head; q != NULL; q = q->ipq_next)
		if (q->ipq_id == h->ip_id && q->ipq_p == h->ip_p &&
		    q->ipq_src.s_addr == h->ip_src.s_addr && q->ipq_dst.s_addr == h->ip_dst.s_addr)
			return (q);
	return (NULL);
}

static struct ipq *
ipq_create(struct ust_stack *st, struct ipq_state *iqs, const struct ip *h)
{
	struct ipq *q;

	if (iqs->iqs_count >= (uint32_t)V(st, ip_maxfragpackets))
		return (NULL);
	if ((q = ust_zone_alloc(iqs->iqs_zone)) == NULL)
		return (NULL);
	memset(q, 0, sizeof(*q));
	q->ipq_st = st;
	q->ipq_src = h->ip_src;
	q->ipq_dst = h->ip_dst;
	q->ipq_id = h->ip_id;
	q->ipq_p = h->ip_p;
	callout_init(&q->ipq_timer);
	callout_reset(&st->st_wheel, &q->ipq_timer, stack_now(st),
	    (uint64_t)V(st, ip_fragttl) * 1000000ull, ipq_timeout, q);
	q->ipq_next = iqs->iqs_head;
	iqs->iqs_head = q;
	iqs->iqs_count++;
	return (q);
}

/* Whether len payload bytes of two fragments are the same. */
static int
frag_same_bytes(const struct mbuf *a, uint32_t aoff, const struct mbuf *b, uint32_t boff,
    uint32_t len)
{
	uint8_t ba[64], bb[64];
	uint32_t n;

	while (len > 0) {
		n = len < sizeof(ba) ? len : (uint32_t)sizeof(ba);
		if (m_copydata(a, aoff, n, ba) != 0 || m_copydata(b, boff, n, bb) != 0 ||
		    memcmp(ba, bb, n) != 0)
			return (0);
		aoff += n;
		boff += n;
		len -= n;
	}
	return (1);
}

/*
 * Puts m into q at its place.  Returns 0; 1 when m is an exact duplicate
 * of a fragment already there (the caller drops m alone); or -1 when it
 * overlaps a fragment otherwise or contradicts the known end of the
 * datagram (the caller drops everything).
 */
static int
ipq_insert(struct ipq *q, struct mbuf *m, uint32_t off, uint32_t len, int mf)
{
	struct mbuf **pp, *p;
	uint32_t poff, plen, phlen, mhlen, end = off + len;
	int pmf;

	frag_info(m, &poff, &plen, &pmf, &mhlen);

	if (!mf) {
		/* A second last fragment must agree (RFC 791 3.2). */
		if (q->ipq_haveend && q->ipq_end != end)
			return (-1);
	} else if (q->ipq_haveend && end > q->ipq_end)
		return (-1);
	for (pp = &q->ipq_frags; (p = *pp) != NULL; pp = &p->m_nextpkt) {
		frag_info(p, &poff, &plen, &pmf, &phlen);
		if (!mf && poff + plen > end)
			return (-1); /* data beyond the end */
		if (poff >= end)
			break;
		if (poff == off && plen == len && pmf == mf &&
		    frag_same_bytes(p, phlen, m, mhlen, len))
			return (1); /* a copy: harmless */
		if (poff + plen > off)
			return (-1); /* overlap (RFC 5722 rule) */
	}
	/* The remaining fragments start at or after end: check the last
	 * fragment rule against them too. */
	if (!mf) {
		for (p = *pp; p != NULL; p = p->m_nextpkt) {
			frag_info(p, &poff, &plen, &pmf, &phlen);
			if (poff + plen > end)
				return (-1);
		}
		q->ipq_haveend = 1;
		q->ipq_end = end;
	}
	m->m_nextpkt = *pp;
	*pp = m;
	return (0);
}

/* Whether q's fragments cover [0, end) without a hole. */
static int
ipq_complete(const struct ipq *q)
{
	const struct mbuf *p;
	uint32_t next = 0, off, len, hlen;
	int mf;

	if (!q->ipq_haveend || !q->ipq_havefirst)
		return (0);
	for (p = q->ipq_frags; p != NULL; p = p->m_nextpkt) {
		frag_info(p, &off, &len, &mf, &hlen);
		if (off != next)
			return (0);
		next = off + len;
	}
	return (next == q->ipq_end);
}

/* Chains the fragments of a complete q behind the first one and fixes
 * its header.  Returns the datagram or NULL (dropped). */
static struct mbuf *
ipq_assemble(struct ust_stack *st, struct ipq_state *iqs, struct ipq *q)
{
	struct mbuf *m = q->ipq_frags, *p, *n;
	uint8_t hdr[IP_MAXHDRLEN];
	uint32_t off, len, hlen, fhlen, end = q->ipq_end;
	struct ip h;
	int mf;

	frag_info(m, &off, &len, &mf, &fhlen);
	if (fhlen + end > IP_MAXPACKET) {
		ipq_drop(iqs, q);
		return (NULL);
	}
	memcpy(hdr, mtod(m, const uint8_t *), fhlen);
	/* The first fragment becomes the datagram; q gives up the rest. */
	p = m->m_nextpkt;
	m->m_nextpkt = NULL;
	q->ipq_frags = NULL;
	ipq_free(iqs, q, NULL);
	for (; p != NULL; p = n) {
		n = p->m_nextpkt;
		p->m_nextpkt = NULL;
		frag_info(p, &off, &len, &mf, &hlen);
		m_adj(p, (int32_t)hlen);
		m_cat(m, p);
	}
	/* Rewrite the header where we may write (the first fragment's buffer
	 * may be shared): trim it and prepend it again. */
	m_adj(m, (int32_t)fhlen);
	M_PREPEND(m, fhlen);
	if (m == NULL || (m->m_len < fhlen && (m = m_pullup(m, fhlen)) == NULL)) {
		IPSTAT_INC(st, ips_fragdropped);
		return (NULL);
	}
	memcpy(mtod(m, uint8_t *), hdr, fhlen);
	(void)ip_hdr_parse(hdr, fhlen, &h);
	h.ip_len = (uint16_t)(fhlen + end);
	h.ip_off &= (uint16_t) ~(IP_MF | IP_OFFMASK);
	ip_hdr_write(mtod(m, uint8_t *), &h);
	m->m_pkthdr.csum_flags &= ~(uint32_t)UST_CSUM_L4_VALID;
	IPSTAT_INC(st, ips_reassembled);
	return (m);
}

/* Sanity of one fragment on its own (RFC 791 3.2, RFC 1858 3). */
static int
frag_bad(uint32_t off, uint32_t len, int mf, uint32_t hlen)
{
	if (mf && (len == 0 || (len & 7) != 0))
		return (1);
	if (off + len + hlen > IP_MAXPACKET)
		return (1);
	if (off == 0 && len < IPQ_MINFIRST)
		return (1);
	/* RFC 1858 3.2: offset 8 would let a fragment rewrite the TCP flags
	 * of the first; the overlap rule already refuses it. */
	return (0);
}

struct mbuf *
ip_reass(struct ust_stack *st, struct mbuf *m)
{
	struct ipq_state *iqs = st->st_ipq;
	uint32_t off, len, hlen;
	struct ipq *q;
	struct ip h;
	int mf;

	if (m == NULL)
		return (NULL);
	if (iqs == NULL || V(st, ip_maxfragpackets) == 0)
		goto dropfrag;
	(void)ip_hdr_parse(mtod(m, const uint8_t *), m->m_len, &h);
	frag_info(m, &off, &len, &mf, &hlen);
	q = ipq_lookup(iqs, &h);
	if (frag_bad(off, len, mf, hlen))
		goto dropall;
	if (q != NULL && q->ipq_nfrags >= (uint32_t)V(st, ip_maxfragsperpacket))
		goto dropall;
	if (iqs->iqs_bytes + m->m_pkthdr.len > (uint64_t)V(st, ip_maxfragbytes))
		goto dropall;
	if (q == NULL && (q = ipq_create(st, iqs, &h)) == NULL)
		goto dropfrag;
	switch (ipq_insert(q, m, off, len, mf)) {
	case 0:
		break;
	case 1:
		goto dropfrag;
	default:
		goto dropall;
	}
	q->ipq_nfrags++;
	q->ipq_bytes += m->m_pkthdr.len;
	iqs->iqs_bytes += m->m_pkthdr.len;
	if (off == 0)
		q->ipq_havefirst = 1;
	if (!ipq_complete(q))
		return (NULL);
	return (ipq_assemble(st, iqs, q));
dropall:
	if (q != NULL)
		ipq_drop(iqs, q);
dropfrag:
	IPSTAT_INC(st, ips_fragdropped);
	m_freem(m);
	return (NULL);
}

#else  /* !UST_IP_REASS (ustack_opts.h): fragments are dropped. */
struct mbuf *
ip_reass(struct ust_stack *st, struct mbuf *m)
{
	IPSTAT_INC(st, ips_fragdropped);
	m_freem(m);
	return (NULL);
}
#endif /* UST_IP_REASS */

int
ip_loop_enter(struct ust_stack *st)
{
	struct ipq_state *iqs = st->st_ipq;

	if (iqs == NULL || iqs->iqs_loopdepth >= IP_LOOP_MAXDEPTH)
		return (-1);
	iqs->iqs_loopdepth++;
	return (0);
}

void
ip_loop_leave(struct ust_stack *st)
{
	if (st->st_ipq != NULL && st->st_ipq->iqs_loopdepth > 0)
		st->st_ipq->iqs_loopdepth--;
}

int
ipq_init(struct ust_stack *st)
{
	struct ipq_state *iqs;

	if (st->st_ipq != NULL)
		return (0);
	if ((iqs = st_malloc(st, sizeof(*iqs))) == NULL)
		return (UST_ENOMEM);
#if UST_IP_REASS
	iqs->iqs_zone = ust_zone_create(&st->st_mem, "ipq", sizeof(struct ipq), IPQ_ZONE_MAX, 0);
	if (iqs->iqs_zone == NULL) {
		st_free(st, iqs, sizeof(*iqs));
		return (UST_ENOMEM);
	}
#endif
	st->st_ipq = iqs;
	return (0);
}

void
ipq_fini(struct ust_stack *st)
{
	struct ipq_state *iqs = st->st_ipq;

	if (iqs == NULL)
		return;
#if UST_IP_REASS
	while (iqs->iqs_head != NULL)
		ipq_free(iqs, iqs->iqs_head, NULL);
	ust_zone_destroy(iqs->iqs_zone);
#endif
	st_free(st, iqs, sizeof(*iqs));
	st->st_ipq = NULL;
}
