/*
 * tcp_reass.c - the out-of-order queue of a connection (RFC 9293 3.10.7.4
 * "seventh, process the segment text", RFC 1122 4.2.2.20; FreeBSD
 * netinet/tcp_reass.c).
 *
 *   tcp_do_segment() -> tcp_reass(tp, seg, seq, m) -> [queue] ->
 *       deliver what became in order -> sbappendstream -> sorwakeup
 *   tcp_close() -> tcp_reass_flush()
 *
 * The queue is sorted by sequence number and never holds overlapping
 * bytes: a new segment loses what its predecessor already holds, and the
 * successors it covers lose their front (or go).  It is bounded by
 * net.inet.tcp.reass.maxqueuelen runs of contiguous data per connection
 * (FreeBSD's limit, whose entries merge contiguous segments; the segment
 * that would fill the next hole, or extends a run, is always taken) and,
 * through the window, by the receive buffer.  Entries
 * live in an mbuf from the stack's mbuf zone (hard maximum, leak-checked),
 * so the queue needs no zone of its own.  Under UST_DEBUG every call ends
 * with tcp_reass_check(): order, no overlap, each entry's payload as long
 * as it says, t_segqlen and t_segqmbuf as the queue holds.
 */
#include <string.h>

#include "kern/kassert.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

struct tseg_qent {
	struct tseg_qent *tqe_next;
	struct mbuf *tqe_holder; /* the mbuf this entry lives in */
	struct mbuf *tqe_m;      /* payload (may be NULL for a bare FIN) */
	tcp_seq tqe_seq;
	uint32_t tqe_len;
	uint16_t tqe_flags; /* TH_FIN */
};

_Static_assert(sizeof(struct tseg_qent) <= MLEN, "a queue entry fits in one mbuf");

static struct tseg_qent *
tqe_alloc(struct ust_stack *st)
{
	struct mbuf *h;
	struct tseg_qent *q;

	h = m_get(&st->st_mbz, MT_DATA);
	if (h == NULL)
		return (NULL);
	q = mtod(h, struct tseg_qent *);
	memset(q, 0, sizeof(*q));
	q->tqe_holder = h;
	return (q);
}

/* Frees the entry (not its payload). */
static void
tqe_free(struct tseg_qent *q)
{
	(void)m_free(q->tqe_holder);
}

static void
tqe_unlink(struct tcpcb *tp, struct tseg_qent **pp)
{
	struct tseg_qent *q = *pp;

	*pp = q->tqe_next;
	tp->t_segqlen--;
	tp->t_segqmbuf -= q->tqe_len;
}

#if UST_DEBUG
static void
tcp_reass_check(const struct tcpcb *tp)
{
	const struct tseg_qent *q;
	unsigned n = 0, bytes = 0; /* %u on every target */

	for (q = tp->t_segq; q != NULL; q = q->tqe_next) {
		KASSERT((q->tqe_m == NULL ? 0u : m_length(q->tqe_m, NULL)) == q->tqe_len &&
		        (q->tqe_len != 0 || (q->tqe_flags & TH_FIN)),
		    ("tp %p: entry at %u says %u bytes, holds %u", (const void *)tp,
		        (unsigned)q->tqe_seq, (unsigned)q->tqe_len,
		        (unsigned)(q->tqe_m == NULL ? 0u : m_length(q->tqe_m, NULL))));
		KASSERT(q->tqe_next == NULL ||
		        SEQ_LEQ(q->tqe_seq + q->tqe_len, q->tqe_next->tqe_seq),
		    ("tp %p: entry %u+%u overlaps or precedes the next at %u", (const void *)tp,
		        (unsigned)q->tqe_seq, (unsigned)q->tqe_len,
		        (unsigned)q->tqe_next->tqe_seq));
		n++;
		bytes += q->tqe_len;
	}
	KASSERT(n == tp->t_segqlen && bytes == tp->t_segqmbuf,
	    ("tp %p: t_segqlen %u t_segqmbuf %u, the queue holds %u entries, %u bytes",
	        (const void *)tp, (unsigned)tp->t_segqlen, (unsigned)tp->t_segqmbuf, n, bytes));
}
#define TCP_REASS_CHECK(tp) tcp_reass_check(tp)
#else
#define TCP_REASS_CHECK(tp) ((void)sizeof(tp))
#endif

/* Delivers the queue's in-order front.  Returns TH_FIN when the FIN was. */
static int
tcp_reass_present(struct tcpcb *tp)
{
	struct socket *so = tp->t_inpcb != NULL ? tp->t_inpcb->inp_socket : NULL;
	struct ust_stack *st = tp->t_stack;
	struct tseg_qent *q;
	int flags = 0, woke = 0;

	if (!TCPS_HAVEESTABLISHED(tp->t_state)) {
		TCP_REASS_CHECK(tp);
		return (0);
	}
	while ((q = tp->t_segq) != NULL && q->tqe_seq == tp->rcv_nxt && !flags) {
		tqe_unlink(tp, &tp->t_segq);
		tp->rcv_nxt += q->tqe_len;
		tp->t_bytes_rcvd_total += q->tqe_len;
		flags = q->tqe_flags & TH_FIN;
		if (q->tqe_m != NULL) {
			if (so != NULL && !(so->so_rcv.sb_state & SBS_CANTRCVMORE)) {
				TCPSTAT_INC(st, tcps_rcvpack);
				TCPSTAT_ADD(st, tcps_rcvbyte, q->tqe_len);
				sbappendstream(&so->so_rcv, q->tqe_m);
				woke = 1;
			} else {
				m_freem(q->tqe_m);
			}
		}
		tqe_free(q);
	}
	if (woke)
		sorwakeup(so);
	tcp_clean_sackreport(tp);
	TCP_REASS_CHECK(tp);
	return (flags);
}

/*
 * The limit counts runs of contiguous queued data, not segments: FreeBSD
 * merges a segment that continues an entry into it, so that a window of
 * segments behind one hole takes one slot.  Counting segments would drop
 * all but maxqueuelen of them, and a NewReno sender (RFC 6582, no SACK)
 * then repairs one dropped segment per round trip.
 */
static uint32_t
tcp_reass_runs(const struct tcpcb *tp)
{
	const struct tseg_qent *q, *prev = NULL;
	uint32_t n = 0;

	for (q = tp->t_segq; q != NULL; prev = q, q = q->tqe_next)
		if (prev == NULL || prev->tqe_seq + prev->tqe_len != q->tqe_seq)
			n++;
	return (n);
}

/* Whether [seq, seq + len) overlaps or adjoins p (the entry before it) or
 * q (the one after): then it adds no run. */
static int
tcp_reass_touches(const struct tseg_qent *p, const struct tseg_qent *q, tcp_seq seq, uint32_t len)
{
	return ((p != NULL && SEQ_GEQ(p->tqe_seq + p->tqe_len, seq)) ||
	    (q != NULL && SEQ_GEQ(seq + len, q->tqe_seq)));
}

/* RFC 2018 4: the first SACK block is the run of contiguous queued data
 * holding the segment just queued (te). */
static void
tcp_reass_sack(struct tcpcb *tp, const struct tseg_qent *te)
{
	const struct tseg_qent *q;
	tcp_seq start = 0, end = 0;
	int found = 0;

	for (q = tp->t_segq; q != NULL; q = q->tqe_next) {
		if (q == tp->t_segq || q->tqe_seq != end) {
			if (found)
				break;
			start = q->tqe_seq;
		}
		end = q->tqe_seq + q->tqe_len;
		if (q == te)
			found = 1;
	}
	if (found)
		tcp_update_sack_list(tp, start, end);
}

/*
 * RFC 2883 4: a segment that repeats queued data reports the first
 * repeated range as a D-SACK block (FreeBSD: the lowest one, so data
 * below rcv_nxt, recorded by tcp_input(), wins over queued data).
 */
static void
tcp_reass_dsack(struct tcpcb *tp, int *done, tcp_seq start, tcp_seq end)
{
	if (!(tp->t_flags & TF_SACK_PERMIT) || *done)
		return;
	tcp_update_dsack_list(tp, start, end);
	*done = 1;
}

int
tcp_reass(struct tcpcb *tp, const struct tcp_seg *seg, tcp_seq seq, struct mbuf *m)
{
	struct ust_stack *st = tp->t_stack;
	struct tseg_qent **pp, *p = NULL, *q, *te;
	uint32_t len;
	uint16_t fin;
	int32_t i;
	int dsack = seg != NULL && seg->dsack;

	if (m == NULL)
		return (tcp_reass_present(tp));
	len = seg->tlen;
	fin = seg->th.th_flags & TH_FIN;
	if (len == 0 && !fin) {
		m_freem(m);
		return (tcp_reass_present(tp));
	}
	/* p: the last entry starting at or before seq. */
	for (pp = &tp->t_segq; (q = *pp) != NULL && SEQ_LEQ(q->tqe_seq, seq); pp = &q->tqe_next)
		p = q;
	/* Bounded (FreeBSD reass.maxqueuelen): only the segment that
	 * fills the first hole, or one that extends queued data, gets past
	 * a full queue. */
	if (seq != tp->rcv_nxt && !tcp_reass_touches(p, *pp, seq, len) &&
	    tcp_reass_runs(tp) >= (uint32_t)V(st, tcp_reass_maxqueuelen)) {
		TCPSTAT_INC(st, tcps_rcvreassfull);
		m_freem(m);
		return (0);
	}
	if (p != NULL) {
		i = tcp_seq_diff(p->tqe_seq + p->tqe_len, seq);
		if (i > 0) {
			if ((uint32_t)i >= len) {
				/* All of it is queued already; keep a FIN
				 * that ends where the entry ends. */
				TCPSTAT_INC(st, tcps_rcvduppack);
				TCPSTAT_ADD(st, tcps_rcvdupbyte, len);
				/* RFC 2883 4: report the duplicate, then the
				 * block that holds it (moved to the front). */
				if (tp->t_flags & TF_SACK_PERMIT) {
					tcp_reass_dsack(tp, &dsack, seq, seq + len);
					tcp_update_sack_list(tp, seq, seq + len);
				}
				if (fin && (uint32_t)i == len)
					p->tqe_flags |= TH_FIN;
				m_freem(m);
				return (tcp_reass_present(tp));
			}
			tcp_reass_dsack(tp, &dsack, seq, seq + (uint32_t)i);
			m_adj(m, i);
			len -= (uint32_t)i;
			seq += (uint32_t)i;
		}
	}
	if (seq != tp->rcv_nxt) {
		TCPSTAT_INC(st, tcps_rcvoopack);
		TCPSTAT_ADD(st, tcps_rcvoobyte, len);
		tp->t_rcvoopack++;
	}
	/* Successors that the new data cover lose their front or go. */
	while ((q = *pp) != NULL && SEQ_GT(seq + len, q->tqe_seq)) {
		i = tcp_seq_diff(seq + len, q->tqe_seq);
		tcp_reass_dsack(tp, &dsack, q->tqe_seq,
		    q->tqe_seq + ((uint32_t)i < q->tqe_len ? (uint32_t)i : q->tqe_len));
		if ((uint32_t)i < q->tqe_len) {
			q->tqe_seq += (uint32_t)i;
			q->tqe_len -= (uint32_t)i;
			tp->t_segqmbuf -= (uint32_t)i;
			m_adj(q->tqe_m, i);
			break;
		}
		if ((q->tqe_flags & TH_FIN) && (uint32_t)i == q->tqe_len)
			fin = TH_FIN;
		tqe_unlink(tp, pp);
		m_freem(q->tqe_m);
		tqe_free(q);
	}
	te = tqe_alloc(st);
	if (te == NULL) {
		TCPSTAT_INC(st, tcps_rcvmemdrop);
		m_freem(m);
		return (tcp_reass_present(tp));
	}
	te->tqe_seq = seq;
	te->tqe_len = len;
	te->tqe_flags = fin;
	if (len == 0) {
		m_freem(m);
		m = NULL;
	}
	te->tqe_m = m;
	te->tqe_next = *pp;
	*pp = te;
	tp->t_segqlen++;
	tp->t_segqmbuf += len;
	if (tp->t_flags & TF_SACK_PERMIT)
		tcp_reass_sack(tp, te);
	return (tcp_reass_present(tp));
}

void
tcp_reass_flush(struct tcpcb *tp)
{
	struct tseg_qent *q;

	while ((q = tp->t_segq) != NULL) {
		tqe_unlink(tp, &tp->t_segq);
		m_freem(q->tqe_m);
		tqe_free(q);
	}
	tp->t_segqlen = 0;
	tp->t_segqmbuf = 0;
}
