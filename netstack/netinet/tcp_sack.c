/*
 * tcp_sack.c - selective acknowledgements (RFC 2018), D-SACK (RFC 2883)
 * and the sender's scoreboard for SACK-based loss recovery (RFC 6675;
 * FreeBSD netinet/tcp_sack.c names).
 *
 *   receiver: tcp_reass() -> tcp_update_sack_list() / tcp_update_dsack_list()
 *             tcp_reass_present() -> tcp_clean_sackreport()
 *             tcp_output() -> tcp_sack_fill() -> tcp_opts_write()
 *   sender:   tcp_do_segment() -> tcp_sack_doack() -> [scoreboard]
 *             tcp_output() -> tcp_sack_output() (RFC 6675 NextSeg rule 1)
 *             tcp_close() -> tcp_free_sackholes()
 *
 * The scoreboard is a sorted list of holes (bytes not SACKed between
 * snd_una and snd_fack).  It is bounded against hostile peers (the class
 * of CVE-2019-11477/11478): every block is validated before use (start <
 * end, inside [snd_una, snd_max], at most TCP_MAX_SACK of them), each
 * block walks the list at most once (O(holes) per ACK), each block adds
 * at most one hole, and holes come from a per-stack zone whose hard
 * maximum is net.inet.tcp.sack.globalmaxholes, with at most
 * net.inet.tcp.sack.maxholes per connection.  When either is exhausted the
 * scoreboard is dropped and the connection falls back to NewReno
 * (tcps_sack_sboverflow) until everything outstanding is acknowledged.
 */
#include <string.h>

#include "kern/stack_var.h"
#include "kern/sysctl.h"
#include "netinet/tcp_var.h"

#if UST_TCP_SACK /* ustack_opts.h */

/* ------------------------------------------------------------------ */
/* Receiver (RFC 2018 4, RFC 2883 4)                                   */
/* ------------------------------------------------------------------ */

void
tcp_update_sack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	struct sackblk saved[TCP_MAX_SACK];
	int i, n = 0;

	if (!SEQ_LT(start, end) || SEQ_LEQ(start, tp->rcv_nxt))
		return;
	/* RFC 2018 4: the block holding the newest segment goes first; the
	 * others follow in the order they were reported, less those the
	 * new block covers or touches (merged into it). */
	for (i = 0; i < tp->rcv_numsacks; i++) {
		struct sackblk *b = &tp->sackblks[i];

		if (SEQ_LEQ(b->start, end) && SEQ_GEQ(b->end, start)) {
			if (SEQ_LT(b->start, start))
				start = b->start;
			if (SEQ_GT(b->end, end))
				end = b->end;
			continue;
		}
		if (n < TCP_MAX_SACK - 1)
			saved[n++] = *b;
	}
	tp->sackblks[0].start = start;
	tp->sackblks[0].end = end;
	for (i = 0; i < n; i++)
		tp->sackblks[i + 1] = saved[i];
	tp->rcv_numsacks = (uint8_t)(n + 1);
}

void
tcp_update_dsack_list(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	if (!SEQ_LT(start, end))
		return;
	/* RFC 2883 4: one D-SACK block per duplicate, reported once. */
	tp->rcv_dsack.start = start;
	tp->rcv_dsack.end = end;
	tp->rcv_dsack_valid = 1;
}

void
tcp_clean_sackreport(struct tcpcb *tp)
{
	int i, n = 0;

	for (i = 0; i < tp->rcv_numsacks; i++) {
		struct sackblk b = tp->sackblks[i];

		if (SEQ_LEQ(b.end, tp->rcv_nxt))
			continue;
		if (SEQ_LT(b.start, tp->rcv_nxt))
			b.start = tp->rcv_nxt;
		tp->sackblks[n++] = b;
	}
	tp->rcv_numsacks = (uint8_t)n;
}

int
tcp_sack_fill(struct tcpcb *tp, struct tcpopt *to, int maxblocks)
{
	int i, n = 0;

	if (maxblocks > TCP_MAX_SACK)
		maxblocks = TCP_MAX_SACK;
	/* RFC 2883 4: the D-SACK block first, on one ACK only. */
	if (tp->rcv_dsack_valid && n < maxblocks)
		to->to_sacks[n++] = tp->rcv_dsack;
	tp->rcv_dsack_valid = 0;
	for (i = 0; i < tp->rcv_numsacks && n < maxblocks; i++) {
		if (SEQ_LEQ(tp->sackblks[i].end, tp->rcv_nxt))
			continue;
		to->to_sacks[n++] = tp->sackblks[i];
	}
	to->to_nsacks = (uint8_t)n;
	if (n > 0)
		to->to_flags |= TOF_SACK;
	return (n);
}

/* ------------------------------------------------------------------ */
/* Sender scoreboard (RFC 6675 2-4)                                    */
/* ------------------------------------------------------------------ */

int
tcp_sack_init(struct ust_stack *st)
{
	st->st_sackhole_zone = ust_zone_create(&st->st_mem, "sackhole", sizeof(struct sackhole),
	    (uint32_t)V(st, tcp_sack_globalmaxholes), 0);
	return (st->st_sackhole_zone == NULL ? UST_ENOMEM : 0);
}

void
tcp_sack_fini(struct ust_stack *st)
{
	if (st->st_sackhole_zone != NULL)
		ust_zone_destroy(st->st_sackhole_zone);
	st->st_sackhole_zone = NULL;
}

void
tcp_free_sackholes(struct tcpcb *tp)
{
	struct sackhole *h, *next;

	for (h = tp->snd_holes; h != NULL; h = next) {
		next = h->next;
		ust_zone_free(tp->t_stack->st_sackhole_zone, h);
		tp->t_stack->st_sackholes--;
	}
	tp->snd_holes = tp->snd_holes_tail = NULL;
	tp->snd_numholes = 0;
	tp->sackhint.nexthole = NULL;
	tp->sackhint.sacked_bytes = 0;
}

/* A hole, or NULL when a bound is reached (the caller falls back). */
static struct sackhole *
tcp_sackhole_alloc(struct tcpcb *tp, tcp_seq start, tcp_seq end)
{
	struct ust_stack *st = tp->t_stack;
	struct sackhole *h;

	if (tp->snd_numholes >= (uint32_t)V(st, tcp_sack_maxholes) ||
	    st->st_sackholes >= (uint32_t)V(st, tcp_sack_globalmaxholes))
		return (NULL);
	h = ust_zone_alloc(st->st_sackhole_zone);
	if (h == NULL)
		return (NULL);
	st->st_sackholes++;
	h->next = NULL;
	h->start = start;
	h->end = end;
	h->rxmit = start;
	tp->snd_numholes++;
	return (h);
}

static void
tcp_sackhole_remove(struct tcpcb *tp, struct sackhole *prev, struct sackhole *h)
{
	if (prev == NULL)
		tp->snd_holes = h->next;
	else
		prev->next = h->next;
	if (tp->snd_holes_tail == h)
		tp->snd_holes_tail = prev;
	ust_zone_free(tp->t_stack->st_sackhole_zone, h);
	tp->t_stack->st_sackholes--;
	tp->snd_numholes--;
}

/* A bound was hit: stop tracking (NewReno until all is acknowledged). */
static void
tcp_sack_overflow(struct tcpcb *tp)
{
	TCPSTAT_INC(tp->t_stack, tcps_sack_sboverflow);
	tcp_free_sackholes(tp);
	tp->t_sack_overflow = 1;
}

/* Marks [s, e) SACKed (s >= snd_una, e <= snd_max).  One pass over the
 * list; at most one hole is added.  Returns 0, or -1 on overflow. */
static int
tcp_sack_mark(struct tcpcb *tp, tcp_seq s, tcp_seq e)
{
	struct sackhole *h, *prev = NULL, *next, *nh;

	if (SEQ_GT(e, tp->snd_fack)) {
		if (SEQ_GT(s, tp->snd_fack)) {
			/* RFC 6675 2: bytes between the old highest SACK
			 * and this block are a new hole at the tail. */
			nh = tcp_sackhole_alloc(tp, tp->snd_fack, s);
			if (nh == NULL)
				return (-1);
			if (tp->snd_holes_tail != NULL)
				tp->snd_holes_tail->next = nh;
			else
				tp->snd_holes = nh;
			tp->snd_holes_tail = nh;
			tp->snd_fack = e;
			return (0);
		}
		tp->snd_fack = e;
	}
	for (h = tp->snd_holes; h != NULL; h = next) {
		next = h->next;
		if (SEQ_GEQ(h->start, e))
			break;
		if (SEQ_LEQ(h->end, s)) {
			prev = h;
			continue;
		}
		if (SEQ_LEQ(s, h->start) && SEQ_GEQ(e, h->end)) {
			tcp_sackhole_remove(tp, prev, h);
			continue;
		}
		if (SEQ_LEQ(s, h->start)) {
			/* The block covers the front of the hole. */
			h->start = e;
			if (SEQ_LT(h->rxmit, e))
				h->rxmit = e;
		} else if (SEQ_GEQ(e, h->end)) {
			/* ... its back. */
			h->end = s;
			if (SEQ_GT(h->rxmit, s))
				h->rxmit = s;
		} else {
			/* ... its middle: split. */
			nh = tcp_sackhole_alloc(tp, e, h->end);
			if (nh == NULL)
				return (-1);
			nh->rxmit = SEQ_GT(h->rxmit, e) ? h->rxmit : e;
			nh->next = h->next;
			h->next = nh;
			if (tp->snd_holes_tail == h)
				tp->snd_holes_tail = nh;
			h->end = s;
			if (SEQ_GT(h->rxmit, s))
				h->rxmit = s;
			break;
		}
		prev = h;
	}
	return (0);
}

void
tcp_sack_doack(struct tcpcb *tp, const struct tcpopt *to, tcp_seq th_ack)
{
	struct ust_stack *st = tp->t_stack;
	struct sackhole *h;
	uint32_t osacked = tp->sackhint.sacked_bytes, acked = (uint32_t)(th_ack - tp->snd_una);
	int i;

	/* The cumulative ACK removes or trims the holes below it. */
	while ((h = tp->snd_holes) != NULL && SEQ_LEQ(h->end, th_ack))
		tcp_sackhole_remove(tp, NULL, h);
	if (h != NULL && SEQ_LT(h->start, th_ack)) {
		h->start = th_ack;
		if (SEQ_LT(h->rxmit, th_ack))
			h->rxmit = th_ack;
	}
	if ((uint32_t)(tp->snd_fack - th_ack) > (uint32_t)(tp->snd_max - th_ack))
		tp->snd_fack = th_ack;
	/* RFC 2018 8 / RFC 6675 5.1: the cumulative ACK stops on a byte the
	 * scoreboard holds as SACKed (no hole starts at th_ack): the
	 * receiver reneged.  Forget the scoreboard and relearn it from this
	 * and later ACKs (FreeBSD clears it on reneging). */
	if (SEQ_LT(th_ack, tp->snd_fack) && (h == NULL || SEQ_GT(h->start, th_ack))) {
		tcp_free_sackholes(tp);
		tp->snd_fack = th_ack;
	}
	if (tp->t_sack_overflow && SEQ_GEQ(th_ack, tp->snd_max))
		tp->t_sack_overflow = 0;
	if ((to->to_flags & TOF_SACK) && !tp->t_sack_overflow) {
		for (i = 0; i < to->to_nsacks && i < TCP_MAX_SACK; i++) {
			tcp_seq s = to->to_sacks[i].start, e = to->to_sacks[i].end;

			/* RFC 2883 4: a block at or below the cumulative ACK
			 * is a D-SACK: accepted, not used for recovery. */
			if (SEQ_LEQ(e, th_ack))
				continue;
			if (SEQ_LT(s, th_ack))
				s = th_ack;
			/* RFC 2018 3 / RFC 6675 5.1: only blocks inside what
			 * was sent; anything else (wrapping, inverted, past
			 * snd_max) is ignored. */
			if ((uint32_t)(s - th_ack) >= (uint32_t)(e - th_ack) ||
			    (uint32_t)(e - th_ack) > (uint32_t)(tp->snd_max - th_ack))
				continue;
			TCPSTAT_INC(st, tcps_sack_rcv_blocks);
			if (tcp_sack_mark(tp, s, e) != 0) {
				tcp_sack_overflow(tp);
				break;
			}
		}
	}
	tcp_sack_update_hints(tp, th_ack);
	/* RFC 6937 2 DeliveredData: the change of snd_una plus the signed
	 * change of SACKed bytes (none when the receiver reneged). */
	tp->sackhint.delivered_data = acked + tp->sackhint.sacked_bytes > osacked ?
	    acked + tp->sackhint.sacked_bytes - osacked :
	    0;
}

/*
 * The sackhint, from the scoreboard in O(holes): the first hole with bytes
 * to retransmit, the bytes SACKed above snd_una, the bytes of holes that
 * RFC 6675 4 IsLost() declares lost (DupThresh discontiguous SACKed
 * blocks, or more than (DupThresh - 1) * SMSS bytes SACKed, above them)
 * and the bytes retransmitted and not yet acknowledged or SACKed (the part
 * of each hole below its rxmit).  tcp_sack_pipe() combines them.
 */
void
tcp_sack_update_hints(struct tcpcb *tp, tcp_seq th_ack)
{
	struct sackhole *h;
	uint32_t holebytes = 0, above, sacked_above, lost = 0, rexmit = 0, nholes = 0, i = 0;
	uint32_t lost_threshold = (TCP_DUPACK_THRESH - 1) * tp->t_maxseg;

	tp->sackhint.nexthole = NULL;
	for (h = tp->snd_holes; h != NULL; h = h->next) {
		holebytes += (uint32_t)(h->end - h->start);
		nholes++;
		if (tp->sackhint.nexthole == NULL && SEQ_LT(h->rxmit, h->end))
			tp->sackhint.nexthole = h;
	}
	above = holebytes;
	for (h = tp->snd_holes; h != NULL; h = h->next, i++) {
		above -= (uint32_t)(h->end - h->start); /* hole bytes above h */
		sacked_above = (uint32_t)(tp->snd_fack - h->end) - above;
		/* Every hole is followed by a SACKed block: nholes - i blocks
		 * lie above this one. */
		if (nholes - i >= TCP_DUPACK_THRESH || sacked_above > lost_threshold)
			lost += (uint32_t)(h->end - h->start);
		rexmit += (uint32_t)(h->rxmit - h->start);
	}
	tp->sackhint.sacked_bytes = (uint32_t)(tp->snd_fack - th_ack) - holebytes;
	tp->sackhint.lost_bytes = lost;
	tp->sackhint.sack_bytes_rexmit = (int32_t)rexmit;
}

int
tcp_sack_islost(const struct tcpcb *tp)
{
	/* RFC 6675 4 IsLost() of the first hole: a later hole is lost only
	 * if the first one is. */
	return (tp->snd_holes != NULL && tp->sackhint.lost_bytes > 0);
}

uint32_t
tcp_sack_pipe(const struct tcpcb *tp)
{
	uint32_t out = (uint32_t)(tp->snd_max - tp->snd_una);
	uint32_t gone = tp->sackhint.sacked_bytes + tp->sackhint.lost_bytes;
	uint32_t p = out > gone ? out - gone : 0;

	/* RFC 6675 4 SetPipe(): every octet neither SACKed nor lost is in
	 * flight once, and once more if it was retransmitted. */
	return (p +
	    (uint32_t)(tp->sackhint.sack_bytes_rexmit > 0 ? tp->sackhint.sack_bytes_rexmit : 0));
}

struct sackhole *
tcp_sack_output(struct tcpcb *tp, uint32_t *len)
{
	struct sackhole *h = tp->sackhint.nexthole;

	/* RFC 6675 4 NextSeg() rule 1: the lowest hole not yet
	 * retransmitted. */
	while (h != NULL && !SEQ_LT(h->rxmit, h->end))
		h = h->next;
	tp->sackhint.nexthole = h;
	if (h == NULL)
		return (NULL);
	if (SEQ_LT(h->rxmit, tp->snd_una))
		h->rxmit = tp->snd_una;
	*len = (uint32_t)(h->end - h->rxmit);
	if (*len > tp->t_maxseg)
		*len = tp->t_maxseg;
	return (*len > 0 ? h : NULL);
}

void
tcp_sack_recovery_reset(struct tcpcb *tp)
{
	/* RFC 6675 5 step 4 (FreeBSD: rxmit is not rewound on entry).  A
	 * hole's rxmit survives into a new recovery: what an earlier one
	 * retransmitted is still in the pipe and counts as repaired, or
	 * every hole it already repaired goes again as a spurious
	 * retransmission.  A retransmission that is itself lost is
	 * repaired by the timeout (tcp_sack_rto rewinds every hole). */
	tcp_sack_update_hints(tp, tp->snd_una);
	tp->sackhint.nexthole = tp->snd_holes;
	tp->sackhint.recover_fs = tp->snd_max;
}

void
tcp_sack_rto(struct tcpcb *tp)
{
	struct sackhole *h;

	/* RFC 6675 5.1: after a retransmission timeout the scoreboard is
	 * kept (FreeBSD keeps it too) and data the receiver SACKed is not
	 * resent: tcp_output skips it (tcp_sack_rexmit_skip).  RFC 2018 8:
	 * the receiver may renege, so every hole goes again from its start
	 * and tcp_sack_doack drops the scoreboard when an ACK shows that
	 * SACKed data was discarded. */
	for (h = tp->snd_holes; h != NULL; h = h->next)
		h->rxmit = h->start;
	tcp_sack_update_hints(tp, tp->snd_una);
	tp->sackhint.nexthole = tp->snd_holes;
	tp->t_sack_recovery = 0;
}

tcp_seq
tcp_sack_rexmit_skip(const struct tcpcb *tp, uint32_t *sacked, tcp_seq *limit)
{
	const struct sackhole *h;
	tcp_seq nxt = tp->snd_nxt;
	uint32_t holebytes = 0;

	/* RFC 6675 5.1 / NextSeg() rule 1 after a timeout: the next byte to
	 * resend is the lowest at or above snd_nxt that is not SACKed. */
	*sacked = 0;
	*limit = tp->snd_max;
	if (tp->snd_holes == NULL || !SEQ_LT(nxt, tp->snd_fack) || SEQ_LT(nxt, tp->snd_una))
		return (nxt);
	for (h = tp->snd_holes; h != NULL; h = h->next) {
		if (SEQ_GT(h->end, nxt)) {
			if (SEQ_LT(nxt, h->start))
				nxt = h->start; /* in a SACKed block: skip it */
			*limit = h->end;
			break;
		}
		holebytes += (uint32_t)(h->end - h->start);
	}
	if (h == NULL) {
		/* Past the last hole: everything up to snd_fack is SACKed. */
		nxt = tp->snd_fack;
		*limit = tp->snd_max;
	}
	/* SACKed bytes below nxt are not in the network (RFC 6675 4,
	 * SetPipe()): the caller does not count them against cwnd. */
	*sacked = (uint32_t)(nxt - tp->snd_una) - holebytes -
	    (h != NULL && SEQ_LT(h->start, nxt) ? (uint32_t)(nxt - h->start) : 0);
	return (nxt);
}
#endif /* UST_TCP_SACK */
