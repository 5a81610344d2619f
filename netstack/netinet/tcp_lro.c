/*
 * tcp_lro.c - software receive coalescing for interfaces without
 * UST_IFCAP_LRO (FreeBSD's tcp_lro, written from its documented
 * behaviour; no code of it here).
 *
 * A receive burst often carries several in-order full-sized segments of
 * one connection.  Handing them to tcp_input one by one pays the PCB
 * lookup, the segment processing and (every second segment, RFC 5681
 * 4.2) an ACK per segment; merged, TCP sees one segment of N segments'
 * bytes and answers it with one ACK, as it would behind a NIC that does
 * LRO.  The merged frame is what TCP would have seen with every segment
 * applied in order: the data is the concatenation, the ACK, window and
 * timestamp echo the last segment's.
 *
 * The table lives on the interface (ifp->if_lro), made from the stack's
 * memory the first time a burst offers it a segment, with
 * net.inet.tcp.lro.entries flows (read then).  The held entries are packed
 * at the front.  An entry lives one burst at most: if_poll_rx flushes the
 * table when the burst has been handed up, so merged segments reach TCP
 * inside the poll that received them.
 *
 * A segment merges into its flow's entry only when it is plain in-order
 * data (RFC 9293 3.10.7.4 would treat it exactly as the next bytes): ACK
 * set and no flag but PSH; payload; the IP TOS (IPv4) or the first word
 * (version, traffic class, flow label: IPv6) of the entry and no ECN CE
 * mark (TCP counts and answers CE per segment, RFC 3168 6.1.3); TCP
 * options none, or exactly the entry's NOP,NOP,TS layout (RFC 7323
 * appendix A) with a TSval that does not go back (PAWS, RFC 7323 5.3,
 * would judge each segment alone); the next sequence number; an ACK that
 * does not go back; a good checksum (checked here when the driver did not
 * vouch for it: a bad segment passes through untouched, so that tcp_input
 * counts and drops it as ever); at most 65535 bytes of IP datagram and at
 * most the burst's and lro_nsegs' (uint8_t) count of segments.  PSH closes
 * the entry: the merged frame goes up at once.  Any other segment of a
 * flow with an entry delivers the entry first, so order within a flow
 * holds; it then starts a new entry if it could be one.
 *
 * The merged frame keeps the first segment's TSval: RFC 7323 4.3 asks a
 * receiver that acknowledges several segments with one ACK to echo the
 * earliest one's TSval, so that the sender's RTT sample includes the time
 * the data waited for the ACK (the conservative RTO that section argues
 * for); it also equals what ts_recent would hold after the segments one by
 * one with the ACK point at the first (RFC 7323 4.3 rule 2).  FreeBSD
 * keeps the last one's, which under-estimates the RTT by up to a burst.
 *
 * Buffers a driver lent (ust_mbuf_attach_ext: M_RDONLY) are never
 * written: a merged frame whose first segment is read-only gets a fresh
 * header mbuf with a copy of its IP and TCP headers, and payloads are
 * chained by moving m_data only.
 */
#include <string.h>

#include "kern/endian.h"
#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "net/if_var.h"
#include "netinet/in_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_lro.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/in6_pcb.h"
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

/* The only options a merge accepts: NOP, NOP, timestamps (RFC 7323
 * appendix A's layout, which every stack sends). */
#define LRO_TS_HLEN (TCP_HDR_MIN + TCPOLEN_TSTAMP_APPA)

/* The flow key: ports word, then source and destination (IPv4 uses one
 * word of each, the rest zero). */
#define LRO_KEY_WORDS 9

struct lro_entry {
	struct mbuf *le_m;    /* headers (writable once merged) and payload */
	struct mbuf *le_tail; /* its last mbuf */
	uint32_t le_key[LRO_KEY_WORDS];
	uint32_t le_nextseq; /* sequence number the next segment must have */
	uint32_t le_ack;     /* the last segment's (host order) */
	uint32_t le_tsval;   /* the last segment's (non-decreasing check) */
	uint32_t le_tsecr;
	uint32_t le_iplen; /* IP datagram length of the merged frame */
	uint32_t le_w0;    /* IPv4: TOS octet; IPv6: the first header word */
	uint16_t le_win;   /* the last segment's raw window field */
	uint8_t le_off;    /* IP header length: the TCP header's offset */
	uint8_t le_thlen;  /* TCP header length: 20 or 32 */
	uint8_t le_nsegs;
	uint8_t le_v6;
	uint8_t le_push; /* the last segment had PSH */
	/* The last segment merged, for lro_split: its first mbuf (NULL when
	 * it cannot be taken back), the tail before it, and the fields it
	 * replaced. */
	struct mbuf *le_lastm;
	struct mbuf *le_prevtail;
	uint32_t le_lastlen;
	uint32_t le_pack;
	uint32_t le_ptsecr;
	uint16_t le_pwin;
	uint8_t le_lasthlen;
};

struct tcp_lro {
	uint16_t tl_n;     /* entries */
	uint16_t tl_evict; /* next entry to give up when all are held */
	struct lro_entry tl_e[];
};

/* What tcp_lro_rx read of a segment. */
struct lro_seg {
	uint32_t key[LRO_KEY_WORDS];
	uint32_t seq, ack, tsval, tsecr;
	uint32_t iplen, tlen, w0;
	uint16_t win;
	uint8_t thlen, flags, v6, ts;
};

static struct tcp_lro *
lro_table(struct ifnet *ifp)
{
	struct ust_stack *st = ifp->if_stack;
	struct tcp_lro *tl;
	unsigned n;
	size_t size;

	if (ifp->if_lro != NULL)
		return (ifp->if_lro);
	/* Once per interface: never on the per-packet path afterwards. */
	n = (unsigned)V(st, tcp_lro_entries);
	if (n == 0)
		n = 1;
	size = sizeof(*tl) + n * sizeof(struct lro_entry);
	if ((tl = st_malloc(st, size)) == NULL)
		return (NULL);
	tl->tl_n = (uint16_t)n;
	ifp->if_lro = tl;
	ifp->if_lro_size = size;
	ifp->if_lro_flush = tcp_lro_flush_all;
	return (tl);
}

/*
 * A flight of fewer than LRO_SPLIT segments (a small congestion window)
 * goes up as the merged frame less its last segment, then that segment:
 * two ACKs instead of one (the merged frame is ACKed at once, the last
 * segment by the delayed ACK).  A sender with a small window has no other
 * ACK to fall back on: with one ACK per flight, every lost ACK costs it a
 * retransmission timeout, and the timestamp its retransmission makes us
 * echo (RFC 7323 4.3) inflates its RTT estimate, which the next timeout
 * inflates further.  RFC 5681 4.2's ACK for every second segment exists
 * for this clock; a large flight keeps it with one ACK per merged frame.
 */
#define LRO_SPLIT 8

/* Takes the last segment of le's frame back out as a frame of its own;
 * NULL when le holds one segment, a large flight, or a last segment whose
 * first mbuf held nothing but its headers (it was freed). */
static struct mbuf *
lro_split(struct ifnet *ifp, struct lro_entry *le)
{
	struct mbuf *n = le->le_lastm;

	if (le->le_nsegs < 2 || le->le_nsegs >= LRO_SPLIT || n == NULL)
		return (NULL);
	le->le_prevtail->m_next = NULL;
	le->le_tail = le->le_prevtail;
	/* Its headers are still there: only m_data moved past them, and
	 * its pkthdr is as ip_input left it. */
	n->m_data -= le->le_lasthlen;
	n->m_len += le->le_lasthlen;
	n->m_flags |= M_PKTHDR;
	le->le_m->m_pkthdr.len -= le->le_lastlen;
	le->le_iplen -= le->le_lastlen;
	le->le_nextseq -= le->le_lastlen;
	le->le_ack = le->le_pack;
	le->le_win = le->le_pwin;
	le->le_tsecr = le->le_ptsecr;
	le->le_nsegs--;
	le->le_lastm = NULL;
	ifp->if_data.lro_queued--;
	return (n);
}

/* The frame of a held entry, its headers brought up to date; the entry
 * left free (packed: the last held one moves into its slot) before the
 * frame goes up, so that TCP may run anything, LRO included. */
static void
lro_flush(struct ifnet *ifp, struct tcp_lro *tl, struct lro_entry *le, int split)
{
	struct mbuf *m = le->le_m, *last = split ? lro_split(ifp, le) : NULL;
	uint32_t off = le->le_off;
	uint8_t *p, *th;
	int v6 = le->le_v6;

	if (le->le_nsegs > 1) {
		p = mtod(m, uint8_t *);
		th = p + off;
		if (!v6) {
			be16enc(p + 2, (uint16_t)le->le_iplen);
			be16enc(p + 10, 0);
			be16enc(p + 10, in_cksum_buf(p, IP_HDRLEN, 0));
		} else
			be16enc(p + 4, (uint16_t)(le->le_iplen - off));
		be32enc(th + 8, le->le_ack);
		be16enc(th + 14, le->le_win);
		if (le->le_push)
			th[13] |= TH_PUSH;
		if (le->le_thlen == LRO_TS_HLEN)
			be32enc(th + TCP_HDR_MIN + 8, le->le_tsecr);
		/* The TCP checksum field is the first segment's: every byte
		 * was verified (by the driver or here) and the flag says so. */
		m->m_pkthdr.csum_flags |= UST_CSUM_L3_VALID | UST_CSUM_L4_VALID;
		m->m_pkthdr.lro_nsegs = le->le_nsegs;
		ifp->if_data.lro_flushed++;
	}
	*le = tl->tl_e[ifp->if_lro_held - 1];
	tl->tl_e[ifp->if_lro_held - 1].le_m = NULL;
	ifp->if_lro_held--;
#if UST_INET6
	if (v6) {
		tcp6_input(m, off);
		if (last != NULL)
			tcp6_input(last, off);
		return;
	}
#endif
	(void)v6;
	tcp_input(m, off);
	if (last != NULL)
		tcp_input(last, off);
}

void
tcp_lro_flush_all(struct ifnet *ifp)
{
	struct tcp_lro *tl = ifp->if_lro;

	if (tl == NULL)
		return;
	while (ifp->if_lro_held > 0)
		lro_flush(ifp, tl, &tl->tl_e[0], 1);
}

/* Reads the headers at p (avail contiguous bytes; IP at 0, TCP at off) into
 * s.  0 when the segment could merge as far as its own headers tell; -1
 * (s->key still filled, so that its flow's entry can go first) when it
 * cannot. */
static int
lro_parse(const uint8_t *p, uint32_t avail, uint32_t pktlen, uint32_t off, struct lro_seg *s)
{
	const uint8_t *th = p + off;
	const uint8_t *o;

	/* IPv4 fills and compares words 0, 1 and 5 only (lro_find). */
	memcpy(&s->key[0], th, 4); /* both ports */
	if (p[0] >> 4 == IPVERSION) {
		s->v6 = 0;
		memcpy(&s->key[1], p + 12, 4);
		memcpy(&s->key[5], p + 16, 4);
		s->w0 = p[1];
		if ((p[1] & IPTOS_ECN_MASK) == IPTOS_ECN_CE)
			return (-1);
	} else {
		s->v6 = 1;
		memcpy(&s->key[1], p + 8, 32);
		s->w0 = be32dec(p);
		/* The traffic class's ECN bits (RFC 8200 7, RFC 3168). */
		if (((s->w0 >> 20) & IPTOS_ECN_MASK) == IPTOS_ECN_CE)
			return (-1);
	}
	s->flags = th[13];
	/* ACK, maybe PSH, nothing else (AE/NS, the low bit of byte 12,
	 * included). */
	if ((s->flags & (uint8_t)~TH_PUSH) != TH_ACK || (th[12] & 0x0f) != 0)
		return (-1);
	s->thlen = (uint8_t)((th[12] >> 4) * 4);
	if (avail < off + s->thlen || pktlen <= off + s->thlen)
		return (-1); /* headers not contiguous, or no payload */
	if (s->thlen == LRO_TS_HLEN) {
		o = th + TCP_HDR_MIN;
		if (o[0] != TCPOPT_NOP || o[1] != TCPOPT_NOP || o[2] != TCPOPT_TIMESTAMP ||
		    o[3] != TCPOLEN_TIMESTAMP)
			return (-1);
		s->ts = 1;
		s->tsval = be32dec(o + 4);
		s->tsecr = be32dec(o + 8);
	} else if (s->thlen == TCP_HDR_MIN)
		s->ts = 0;
	else
		return (-1);
	s->iplen = pktlen;
	s->tlen = pktlen - off - s->thlen;
	s->seq = be32dec(th + 4);
	s->ack = be32dec(th + 8);
	s->win = be16dec(th + 14);
	return (0);
}

static struct lro_entry *
lro_find(struct ifnet *ifp, struct tcp_lro *tl, const struct lro_seg *s)
{
	struct lro_entry *le = tl->tl_e, *end = le + ifp->if_lro_held;

	for (; le < end; le++) {
		if (le->le_key[0] != s->key[0] || le->le_key[1] != s->key[1] ||
		    le->le_key[5] != s->key[5] || le->le_v6 != s->v6)
			continue;
		if (!s->v6 ||
		    memcmp(&le->le_key[1], &s->key[1], (LRO_KEY_WORDS - 1) * sizeof(uint32_t)) == 0)
			return (le);
	}
	return (NULL);
}

/* The TCP checksum, when the driver did not vouch for it; marks it good
 * (tcp_input then skips it).  Nonzero when it is bad. */
static int
lro_cksum_bad(struct mbuf *m, uint32_t off, const struct lro_seg *s)
{
	struct in_addr src, dst;
	int bad;

	if (m->m_pkthdr.csum_flags & UST_CSUM_L4_VALID)
		return (0);
#if UST_INET6
	if (s->v6) {
		struct in6_addr s6, d6;

		memcpy(&s6, &s->key[1], sizeof(s6));
		memcpy(&d6, &s->key[5], sizeof(d6));
		bad = in6_cksum(m, IPPROTO_TCP, off, s->iplen - off, &s6, &d6) != 0;
	} else
#endif
	{
		src.s_addr = s->key[1];
		dst.s_addr = s->key[5];
		bad = in4_cksum(m, IPPROTO_TCP, off, s->iplen - off, src, dst) != 0;
	}
	if (!bad)
		m->m_pkthdr.csum_flags |= UST_CSUM_L4_VALID;
	return (bad);
}

/* Whether s may join le (its headers said it could merge at all). */
static int
lro_fits(const struct ust_stack *st, const struct lro_entry *le, const struct lro_seg *s)
{
	uint32_t maxsegs = st->st_cfg.rx_burst < 255 ? st->st_cfg.rx_burst : 255;

	return (s->seq == le->le_nextseq && SEQ_GEQ(s->ack, le->le_ack) && s->w0 == le->le_w0 &&
	    s->thlen == le->le_thlen && (!s->ts || (int32_t)(s->tsval - le->le_tsval) >= 0) &&
	    le->le_iplen + s->tlen <= IP_MAXPACKET && le->le_nsegs < maxsegs);
}

/* The entry's first segment is about to take a second: its headers must
 * be writable.  A read-only (lent) or shared first mbuf gives its headers
 * to a new header mbuf.  0, or -1 when there is no mbuf. */
static int
lro_hdr_writable(struct ust_stack *st, struct lro_entry *le)
{
	struct mbuf *m = le->le_m, *h;
	uint32_t hlen = (uint32_t)le->le_off + le->le_thlen;

	if (M_WRITABLE(m))
		return (0);
	if ((h = m_gethdr(&st->st_mbz, MT_HEADER)) == NULL)
		return (-1);
	memcpy(h->m_data, mtod(m, const uint8_t *), hlen);
	h->m_len = hlen;
	h->m_pkthdr = m->m_pkthdr;
	h->m_flags |= m->m_flags & (M_BCAST | M_MCAST);
	m->m_flags &= (uint16_t)~M_PKTHDR;
	m->m_data += hlen;
	m->m_len -= hlen;
	h->m_next = m;
	le->le_m = h;
	return (0);
}

/* Appends s's payload (m without its headers) to le. */
static void
lro_append(struct ifnet *ifp, struct lro_entry *le, struct mbuf *m, const struct lro_seg *s)
{
	uint32_t hlen = (uint32_t)le->le_off + s->thlen;
	struct mbuf *t;

	le->le_prevtail = le->le_tail;
	le->le_pack = le->le_ack;
	le->le_pwin = le->le_win;
	le->le_ptsecr = le->le_tsecr;
	le->le_lastlen = s->tlen;
	le->le_lasthlen = (uint8_t)hlen;
	m->m_data += hlen;
	m->m_len -= hlen;
	m->m_flags &= (uint16_t)~M_PKTHDR;
	le->le_lastm = m;
	if (m->m_len == 0 && m->m_next != NULL) {
		m = m_free(m);
		le->le_lastm = NULL;
	}
	le->le_tail->m_next = m;
	for (t = m; t->m_next != NULL; t = t->m_next)
		;
	le->le_tail = t;
	le->le_m->m_pkthdr.len += s->tlen;
	le->le_iplen += s->tlen;
	le->le_nextseq += s->tlen;
	le->le_ack = s->ack;
	le->le_win = s->win;
	le->le_tsval = s->tsval;
	le->le_tsecr = s->tsecr;
	le->le_push = (s->flags & TH_PUSH) != 0;
	le->le_nsegs++;
	ifp->if_data.lro_queued++;
}

/* s's segment m starts a new entry (none of its flow is held). */
static void
lro_start(struct ifnet *ifp, struct tcp_lro *tl, struct mbuf *m, uint32_t off,
    const struct lro_seg *s)
{
	struct lro_entry *le;
	struct mbuf *t;

	if (ifp->if_lro_held == tl->tl_n) {
		/* All held: the oldest victim in turn goes up. */
		lro_flush(ifp, tl, &tl->tl_e[tl->tl_evict], 0);
		tl->tl_evict = (uint16_t)((tl->tl_evict + 1) % tl->tl_n);
	}
	le = &tl->tl_e[ifp->if_lro_held++];
	le->le_m = m;
	for (t = m; t->m_next != NULL; t = t->m_next)
		;
	le->le_tail = t;
	if (s->v6)
		memcpy(le->le_key, s->key, sizeof(le->le_key));
	else {
		le->le_key[0] = s->key[0];
		le->le_key[1] = s->key[1];
		le->le_key[5] = s->key[5];
	}
	le->le_nextseq = s->seq + s->tlen;
	le->le_ack = s->ack;
	le->le_tsval = s->tsval;
	le->le_tsecr = s->tsecr;
	le->le_iplen = s->iplen;
	le->le_w0 = s->w0;
	le->le_win = s->win;
	le->le_off = (uint8_t)off;
	le->le_thlen = s->thlen;
	le->le_nsegs = 1;
	le->le_v6 = s->v6;
	le->le_push = 0;
	le->le_lastm = NULL;
}

int
tcp_lro_rx(struct ifnet *ifp, struct mbuf *m, uint32_t off)
{
	struct ust_stack *st = ifp->if_stack;
	struct tcp_lro *tl;
	struct lro_entry *le;
	struct lro_seg s;
	int ok;

	if (m->m_len < off + TCP_HDR_MIN) {
		/* Headers split across mbufs (no driver of ours does this):
		 * not worth a pullup; everything held goes first. */
		tcp_lro_flush_all(ifp);
		return (1);
	}
	if ((tl = lro_table(ifp)) == NULL)
		return (1);
	ok = lro_parse(mtod(m, const uint8_t *), m->m_len, m->m_pkthdr.len, off, &s) == 0;
	le = ifp->if_lro_held > 0 ? lro_find(ifp, tl, &s) : NULL;
	if (ok && lro_cksum_bad(m, off, &s)) {
		ifp->if_data.lro_bad_csum++;
		ok = 0;
	}
	if (le != NULL) {
		if (ok && lro_fits(st, le, &s) && lro_hdr_writable(st, le) == 0) {
			lro_append(ifp, le, m, &s);
			if (le->le_push)
				lro_flush(ifp, tl, le, 0);
			return (0);
		}
		lro_flush(ifp, tl, le, 0);
	}
	/* A lone PSH segment has nothing to wait for. */
	if (!ok || (s.flags & TH_PUSH))
		return (1);
	lro_start(ifp, tl, m, off, &s);
	return (0);
}
