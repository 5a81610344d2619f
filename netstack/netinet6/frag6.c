/*
 * frag6.c - reassembly of IPv6 fragments (RFC 8200 4.5; FreeBSD
 * netinet6/frag6.c), bounded and overlap-safe.
 *
 *   ip6_input() -> frag6_input() -> [complete] -> back to ip6_input's
 *       header walk, the Fragment header gone
 *   callout (net.inet6.ip6.fragttl) -> frag6_timeout() ->
 *       icmp6_error(TIME_EXCEEDED, REASSEMBLY) when the first fragment came
 *
 * A datagram under reassembly is a struct ip6q keyed by (source,
 * destination, identification), hashed into buckets; it holds its
 * fragments whole (headers included, so that a timeout can quote the
 * first), sorted by offset.  Limits, per stack: maxfragpackets datagrams,
 * maxfrags fragments in all, maxfragsperpacket per datagram,
 * maxfragbucketsize datagrams per bucket (net.inet6.ip6.*), fragttl.
 *
 * Rules: RFC 5722, any overlap drops the whole datagram (an exact
 * duplicate, which RFC 8200 4.5 lets a receiver tell apart, drops only
 * itself); RFC 6946, an atomic fragment (offset 0, no M) is processed on
 * its own, never queued; RFC 7112, a first fragment that does not hold
 * the whole header chain up to the upper-layer header is dropped with a
 * parameter problem (code 3); RFC 8200 4.5, a non-last fragment whose
 * length is not a multiple of 8 and one that would make the datagram
 * longer than 65535 bytes are dropped with a parameter problem (code 0).
 */
#include <string.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"

#define FRAG6_NBUCKETS 64
/* Hard ceilings of the zones; the knobs bound them further. */
#define FRAG6_ZONE_QMAX 65536
#define FRAG6_ZONE_FMAX 1048576

struct ip6asfrag {
	struct ip6asfrag *af_next; /* sorted by offset */
	struct mbuf *af_m;         /* the whole fragment packet */
	uint32_t af_hoff;          /* where its payload starts in af_m */
	uint32_t af_off;           /* offset of the payload in the datagram */
	uint32_t af_len;
	uint8_t af_mf;
};

struct ip6q {
	struct ip6q *q_next; /* bucket chain */
	struct ust_stack *q_st;
	struct in6_addr q_src, q_dst;
	uint32_t q_ident;
	unsigned q_bucket;
	uint8_t q_havefirst, q_haveend;
	uint32_t q_end;
	uint32_t q_nfrags;
	struct ip6asfrag *q_frags;
	/* From the first fragment: its Fragment header's offset (the
	 * unfragmentable part's length), the field that named it, and the
	 * next header after it. */
	uint32_t q_unfraglen, q_nxtoff;
	uint8_t q_nxt;
	struct callout q_timer;
};

struct frag6_state {
	struct ust_zone *fs_qzone; /* struct ip6q */
	struct ust_zone *fs_fzone; /* struct ip6asfrag */
	struct ip6q *fs_bucket[FRAG6_NBUCKETS];
	uint32_t fs_bucketlen[FRAG6_NBUCKETS];
	uint32_t fs_count;  /* datagrams */
	uint32_t fs_nfrags; /* fragments, all datagrams */
};

int
frag6_init(struct ust_stack *st)
{
	struct frag6_state *fs;

	if ((fs = st_malloc(st, sizeof(*fs))) == NULL)
		return (UST_ENOMEM);
	fs->fs_qzone =
	    ust_zone_create(&st->st_mem, "frag6_q", sizeof(struct ip6q), FRAG6_ZONE_QMAX, 0);
	fs->fs_fzone = ust_zone_create(&st->st_mem, "frag6_frag", sizeof(struct ip6asfrag),
	    FRAG6_ZONE_FMAX, 0);
	st->st_frag6 = fs;
	if (fs->fs_qzone == NULL || fs->fs_fzone == NULL) {
		frag6_fini(st);
		return (UST_ENOMEM);
	}
	return (0);
}

/* The zones (in6_zones, conf/domains.h DOMAIN_ZONES). */
unsigned
frag6_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max)
{
	const struct frag6_state *fs = st->st_frag6;
	unsigned n = 0;

	if (fs == NULL)
		return (0);
	if (n < max && fs->fs_qzone != NULL)
		zones[n++] = fs->fs_qzone;
	if (n < max && fs->fs_fzone != NULL)
		zones[n++] = fs->fs_fzone;
	return (n);
}

static void
frag6_free(struct frag6_state *fs, struct ip6q *q, struct mbuf *keep)
{
	struct ust_stack *st = q->q_st;
	struct ip6asfrag *af;
	struct ip6q **pp;

	callout_stop(&st->st_wheel, &q->q_timer);
	for (pp = &fs->fs_bucket[q->q_bucket]; *pp != NULL; pp = &(*pp)->q_next)
		if (*pp == q) {
			*pp = q->q_next;
			break;
		}
	while ((af = q->q_frags) != NULL) {
		q->q_frags = af->af_next;
		if (af->af_m != keep)
			m_freem(af->af_m);
		ust_zone_free(fs->fs_fzone, af);
	}
	fs->fs_nfrags -= q->q_nfrags;
	fs->fs_bucketlen[q->q_bucket]--;
	fs->fs_count--;
	ust_zone_free(fs->fs_qzone, q);
}

static void
frag6_drop(struct frag6_state *fs, struct ip6q *q)
{
	IP6STAT_ADD(q->q_st, ip6s_fragdropped, q->q_nfrags);
	frag6_free(fs, q, NULL);
}

void
frag6_fini(struct ust_stack *st)
{
	struct frag6_state *fs = st->st_frag6;
	unsigned i;

	if (fs == NULL)
		return;
	for (i = 0; i < FRAG6_NBUCKETS; i++)
		while (fs->fs_bucket[i] != NULL)
			frag6_free(fs, fs->fs_bucket[i], NULL);
	if (fs->fs_qzone != NULL)
		ust_zone_destroy(fs->fs_qzone);
	if (fs->fs_fzone != NULL)
		ust_zone_destroy(fs->fs_fzone);
	st_free(st, fs, sizeof(*fs));
	st->st_frag6 = NULL;
}

static int
frag6_ifp_attached(const struct ust_stack *st, const struct ifnet *ifp)
{
	unsigned i;

	for (i = 0; i < st->st_nifnet && i < UST_MAX_IFNET; i++)
		if (st->st_ifnet[i] == ifp)
			return (1);
	return (0);
}

/* RFC 8200 4.5: on timeout, time exceeded (reassembly) to the source
 * only when the first fragment arrived, quoting it. */
static void
frag6_timeout(void *arg)
{
	struct ip6q *q = arg;
	struct ust_stack *st = q->q_st;
	struct mbuf *first = NULL;

	IP6STAT_INC(st, ip6s_fragtimeout);
	IP6STAT_ADD(st, ip6s_fragdropped, q->q_nfrags);
	if (q->q_havefirst && q->q_frags != NULL && q->q_frags->af_off == 0 &&
	    q->q_frags->af_m->m_pkthdr.rcvif != NULL &&
	    frag6_ifp_attached(st, q->q_frags->af_m->m_pkthdr.rcvif))
		first = q->q_frags->af_m;
	frag6_free(st->st_frag6, q, first);
	if (first != NULL)
		icmp6_error(first, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_REASSEMBLY, 0);
}

static unsigned
frag6_hash(const struct in6_addr *s, const struct in6_addr *d, uint32_t ident)
{
	uint32_t h = ident;
	unsigned i;

	for (i = 0; i < 4; i++)
		h = h * 31 + in6_word(s, i) * 7 + in6_word(d, i);
	h ^= h >> 16;
	return (h % FRAG6_NBUCKETS);
}

/*
 * Whether the header chain from nxt at off (in the first fragment m,
 * whose data ends at end) reaches the upper-layer header (RFC 7112 5).
 */
static int
frag6_chain_ok(struct ust_stack *st, const struct mbuf *m, uint32_t off, uint8_t nxt, uint32_t end)
{
	unsigned n = 0;
	uint8_t b[2];

	for (;;) {
		switch (nxt) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 2 > end || m_copydata(m, off, 2, b) != 0)
				return (0);
			nxt = b[0];
			off += IP6_EXT_LEN(b[1]);
			break;
		case IPPROTO_NONE:
			return (1);
		case IPPROTO_FRAGMENT: /* a second one: the chain goes on */
			if (off + IP6_FRAGHDRLEN > end || m_copydata(m, off, 1, b) != 0)
				return (0);
			nxt = b[0];
			off += IP6_FRAGHDRLEN;
			break;
		default:
			return (off < end);
		}
		if (++n > 64 || (V(st, ip6_hdrnestlimit) != 0 && n > V(st, ip6_hdrnestlimit)))
			return (0);
	}
}

/* Whether len payload bytes of two fragments are the same. */
static int
frag6_same_bytes(const struct ip6asfrag *a, const struct mbuf *m, uint32_t hoff, uint32_t len)
{
	uint8_t ba[64], bb[64];
	uint32_t n, aoff = a->af_hoff;

	while (len > 0) {
		n = len < sizeof(ba) ? len : (uint32_t)sizeof(ba);
		if (m_copydata(a->af_m, aoff, n, ba) != 0 || m_copydata(m, hoff, n, bb) != 0 ||
		    memcmp(ba, bb, n) != 0)
			return (0);
		aoff += n;
		hoff += n;
		len -= n;
	}
	return (1);
}

/* Where af goes in q: 0 (*ppp set), 1 an exact duplicate, -1 an overlap
 * or a contradiction about the end (RFC 5722). */
static int
frag6_place(struct ip6q *q, const struct ip6asfrag *nf, struct ip6asfrag ***ppp)
{
	struct ip6asfrag **pp, *p;
	uint32_t end = nf->af_off + nf->af_len;

	if (!nf->af_mf) {
		if (q->q_haveend && q->q_end != end)
			return (-1);
	} else if (q->q_haveend && end > q->q_end)
		return (-1);
	for (pp = &q->q_frags; (p = *pp) != NULL; pp = &p->af_next) {
		if (!nf->af_mf && p->af_off + p->af_len > end)
			return (-1);
		if (p->af_off >= end)
			break;
		if (p->af_off == nf->af_off && p->af_len == nf->af_len && p->af_mf == nf->af_mf &&
		    frag6_same_bytes(p, nf->af_m, nf->af_hoff, nf->af_len))
			return (1);
		if (p->af_off + p->af_len > nf->af_off)
			return (-1);
	}
	if (!nf->af_mf)
		for (p = *pp; p != NULL; p = p->af_next)
			if (p->af_off + p->af_len > end)
				return (-1);
	*ppp = pp;
	return (0);
}

static int
frag6_complete(const struct ip6q *q)
{
	const struct ip6asfrag *p;
	uint32_t next = 0;

	if (!q->q_haveend || !q->q_havefirst)
		return (0);
	for (p = q->q_frags; p != NULL; p = p->af_next) {
		if (p->af_off != next)
			return (0);
		next = p->af_off + p->af_len;
	}
	return (next == q->q_end);
}

/*
 * Puts the unfragmentable part (ul bytes, copied out beforehand into hdr)
 * back in front of m, which now starts at the fragmentable part: the
 * field at nxtoff becomes nxt and the payload length plen.  Written where
 * we may write (a received buffer may be lent).  Returns m or NULL.
 */
static struct mbuf *
frag6_rehead(struct mbuf *m, uint8_t *hdr, uint32_t ul, uint32_t nxtoff, uint8_t nxt, uint32_t plen)
{
	M_PREPEND(m, ul);
	if (m == NULL || (m = m_pullup(m, ul)) == NULL)
		return (NULL);
	hdr[nxtoff] = nxt;
	be16enc(hdr + 4, (uint16_t)plen);
	memcpy(mtod(m, uint8_t *), hdr, ul);
	return (m);
}

#define FRAG6_MAXUNFRAG (IP6_HDRLEN + 512) /* unfragmentable part we rebuild */

/* The datagram of a complete q: the first fragment's unfragmentable
 * part, then every payload; q freed. */
static struct mbuf *
frag6_assemble(struct ust_stack *st, struct frag6_state *fs, struct ip6q *q, uint32_t *offp,
    uint8_t *nxtp)
{
	uint32_t ul = q->q_unfraglen, nxtoff = q->q_nxtoff, end = q->q_end;
	uint8_t hdr[FRAG6_MAXUNFRAG];
	struct ip6asfrag *af;
	uint8_t nxt = q->q_nxt;
	struct mbuf *m = NULL;

	if (ul > sizeof(hdr) || ul - IP6_HDRLEN + end > IPV6_MAXPACKET ||
	    m_copydata(q->q_frags->af_m, 0, ul, hdr) != 0) {
		frag6_drop(fs, q);
		return (NULL);
	}
	/* q gives up the packets; their payloads make the datagram. */
	for (af = q->q_frags; af != NULL; af = af->af_next) {
		m_adj(af->af_m, (int32_t)af->af_hoff);
		if (m == NULL)
			m = af->af_m;
		else
			m_cat(m, af->af_m);
		af->af_m = NULL;
	}
	frag6_free(fs, q, NULL);
	m_fixhdr(m);
	if ((m = frag6_rehead(m, hdr, ul, nxtoff, nxt, ul - IP6_HDRLEN + end)) == NULL) {
		IP6STAT_INC(st, ip6s_fragdropped);
		return (NULL);
	}
	m->m_pkthdr.csum_flags &= ~(uint32_t)UST_CSUM_L4_VALID;
	IP6STAT_INC(st, ip6s_reassembled);
	*offp = ul;
	*nxtp = nxt;
	return (m);
}

struct mbuf *
frag6_input(struct mbuf *m, uint32_t *offp, uint8_t *nxtp, uint32_t nxtoff)
{
	struct ust_stack *st = M_STACK(m);
	struct frag6_state *fs = st->st_frag6;
	uint32_t foff = *offp, hoff = foff + IP6_FRAGHDRLEN, len, off, total;
	struct ip6asfrag *af = NULL, **pp;
	struct ip6_frag fh;
	struct ip6_hdr h;
	struct ip6q *q;
	unsigned b;
	int mf;

	(void)ip6_hdr_parse(mtod(m, const uint8_t *), m->m_len, &h);
	(void)ip6_frag_parse(mtod(m, const uint8_t *) + foff, IP6_FRAGHDRLEN, &fh);
	total = m->m_pkthdr.len;
	len = total - hoff;
	off = fh.ip6f_offlg & IP6F_OFF_MASK;
	mf = (fh.ip6f_offlg & IP6F_MORE_FRAG) != 0;
	/* RFC 6946: an atomic fragment is a whole packet. */
	if (off == 0 && !mf) {
		uint8_t hdr[FRAG6_MAXUNFRAG];

		IP6STAT_INC(st, ip6s_atomicfrags);
		if (foff > sizeof(hdr) || m_copydata(m, 0, foff, hdr) != 0) {
			IP6STAT_INC(st, ip6s_fragdropped);
			m_freem(m);
			return (NULL);
		}
		m_adj(m, (int32_t)hoff);
		if ((m = frag6_rehead(m, hdr, foff, nxtoff, fh.ip6f_nxt,
		         h.ip6_plen - IP6_FRAGHDRLEN)) == NULL)
			return (NULL);
		*nxtp = fh.ip6f_nxt;
		return (m);
	}
	/* RFC 8200 4.5: a non-last fragment is a multiple of 8 bytes and not
	 * empty; none reaches beyond 65535. */
	if (mf && (len == 0 || (len & 7) != 0)) {
		IP6STAT_INC(st, ip6s_fragdropped);
		icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 4);
		return (NULL);
	}
	if (foff - IP6_HDRLEN + IP6_FRAGHDRLEN + off + len > IPV6_MAXPACKET) {
		IP6STAT_INC(st, ip6s_fragdropped);
		icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, foff + 2);
		return (NULL);
	}
	/* RFC 7112: the first fragment holds the whole header chain. */
	if (off == 0 && !frag6_chain_ok(st, m, hoff, fh.ip6f_nxt, total)) {
		IP6STAT_INC(st, ip6s_fraghdrchain);
		IP6STAT_INC(st, ip6s_fragdropped);
		icmp6_error(m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_FRAGHDRCHAIN, 0);
		return (NULL);
	}
	if (fs == NULL || V(st, ip6_maxfragpackets) == 0)
		goto dropfrag;
	b = frag6_hash(&h.ip6_src, &h.ip6_dst, fh.ip6f_ident);
	for (q = fs->fs_bucket[b]; q != NULL; q = q->q_next)
		if (q->q_ident == fh.ip6f_ident && in6_are_addr_equal(&q->q_src, &h.ip6_src) &&
		    in6_are_addr_equal(&q->q_dst, &h.ip6_dst))
			break;
	if (q != NULL && q->q_nfrags >= (uint32_t)V(st, ip6_maxfragsperpacket)) {
		IP6STAT_INC(st, ip6s_fragoverflow);
		frag6_drop(fs, q);
		goto dropfrag;
	}
	if (fs->fs_nfrags >= (uint32_t)V(st, ip6_maxfrags)) {
		IP6STAT_INC(st, ip6s_fragoverflow);
		goto dropfrag;
	}
	if (q == NULL) {
		if (fs->fs_count >= (uint32_t)V(st, ip6_maxfragpackets) ||
		    fs->fs_bucketlen[b] >= (uint32_t)V(st, ip6_maxfragbucketsize)) {
			IP6STAT_INC(st, ip6s_fragoverflow);
			goto dropfrag;
		}
		if ((q = ust_zone_alloc(fs->fs_qzone)) == NULL)
			goto dropfrag;
		memset(q, 0, sizeof(*q));
		q->q_st = st;
		q->q_src = h.ip6_src;
		q->q_dst = h.ip6_dst;
		q->q_ident = fh.ip6f_ident;
		q->q_bucket = b;
		callout_init(&q->q_timer);
		callout_reset(&st->st_wheel, &q->q_timer, stack_now(st),
		    (uint64_t)V(st, ip6_fragttl) * 1000000ull, frag6_timeout, q);
		q->q_next = fs->fs_bucket[b];
		fs->fs_bucket[b] = q;
		fs->fs_bucketlen[b]++;
		fs->fs_count++;
	}
	if ((af = ust_zone_alloc(fs->fs_fzone)) == NULL)
		goto dropfrag;
	memset(af, 0, sizeof(*af));
	af->af_m = m;
	af->af_hoff = hoff;
	af->af_off = off;
	af->af_len = len;
	af->af_mf = (uint8_t)mf;
	switch (frag6_place(q, af, &pp)) {
	case 0:
		break;
	case 1:
		ust_zone_free(fs->fs_fzone, af);
		goto dropfrag;
	default:
		ust_zone_free(fs->fs_fzone, af);
		goto dropall; /* RFC 5722 */
	}
	af->af_next = *pp;
	*pp = af;
	q->q_nfrags++;
	fs->fs_nfrags++;
	if (!mf) {
		q->q_haveend = 1;
		q->q_end = off + len;
	}
	if (off == 0) {
		q->q_havefirst = 1;
		q->q_unfraglen = foff;
		q->q_nxtoff = nxtoff;
		q->q_nxt = fh.ip6f_nxt;
	}
	if (!frag6_complete(q))
		return (NULL);
	return (frag6_assemble(st, fs, q, offp, nxtp));
dropall:
	IP6STAT_INC(st, ip6s_fragoverlap);
	frag6_drop(fs, q);
dropfrag:
	IP6STAT_INC(st, ip6s_fragdropped);
	m_freem(m);
	return (NULL);
}
