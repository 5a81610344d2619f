/*
 * tcp_outq.c - one tcp_output per connection per poll (issue 19).
 *
 * Inside ust_stack_poll, with net.inet.tcp.ack_coalesce on, the output that
 * tcp_input owes a connection for in-order data, a new ACK or a window
 * change, and what the application sends from its upcalls, waits on a
 * per-stack FIFO (st_outq_head/tail, linked by t_outq_next, TF2_OUTQ
 * marks a member) until the receive loop is done:
 *
 *   if_poll_rx -> ... tcp_input -> tcp_finish -> tcp_output_batch (queue)
 *   upcall -> ust_send -> tcp_usr_send -> tcp_output_batch (queue)
 *   tcp_output_drain (ust_stack_poll, after the rx loop and again after
 *   callout_process) -> tcp_output, once per queued connection
 *
 * so a burst of N in-order segments is answered by one ACK (carrying the
 * reply the application wrote meanwhile) instead of N/2.  That ACK is a
 * stretch ACK sent without delay: RFC 5681 4.2 "SHOULD ... at least every
 * second full-sized segment" is a SHOULD, and receive offloads (LRO/GRO)
 * produce the same.  ack_coalesce 0 restores an output per call.
 *
 * Output that must not wait goes at once even when asked to batch:
 * while the reassembly queue holds data every ACK is a duplicate or
 * gap-filling one, and a D-SACK block waits to be reported (RFC 5681 4.2:
 * immediate ACKs for out-of-order and gap-filling segments, each one
 * counted by the sender's fast retransmit; RFC 2883).  An immediate
 * output carries whatever was deferred (the same rcv_nxt), and the
 * queued one then finds nothing owed.
 *
 * A queued connection that is freed meanwhile (tcp_close, tcp_discard)
 * leaves the queue through tcp_output_unqueue; one that changed state
 * (TIME_WAIT, CLOSED but not yet freed) is handled by tcp_output itself.
 */
#include "kern/stack_var.h"
#include "netinet/tcp_var.h"

void
tcp_output_batch(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;

	if (!st->st_in_poll || !V(st, tcp_ack_coalesce) || tp->t_segq != NULL ||
	    tp->rcv_dsack_valid) {
		(void)tcp_output(tp);
		return;
	}
	if (tp->t_flags2 & TF2_OUTQ) {
		TCPSTAT_INC(st, tcps_ackcoalesced);
		return;
	}
	tp->t_flags2 |= TF2_OUTQ;
	tp->t_outq_next = NULL;
	if (st->st_outq_tail != NULL)
		st->st_outq_tail->t_outq_next = tp;
	else
		st->st_outq_head = tp;
	st->st_outq_tail = tp;
}

void
tcp_output_drain(struct ust_stack *st)
{
	struct tcpcb *tp;

	/* Each connection leaves the queue before its output, so an output
	 * that frees another queued one (or queues more: a synchronous
	 * loopback) finds the queue consistent. */
	while ((tp = st->st_outq_head) != NULL) {
		st->st_outq_head = tp->t_outq_next;
		if (st->st_outq_head == NULL)
			st->st_outq_tail = NULL;
		tp->t_outq_next = NULL;
		tp->t_flags2 &= ~TF2_OUTQ;
		(void)tcp_output(tp);
	}
}

/* O(queue length): the queue is singly linked and holds the connections
 * that received in one poll (at most rx_burst per interface, most often
 * one or two), and only a connection freed while queued walks it. */
void
tcp_output_unqueue(struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	struct tcpcb **pp, *prev = NULL;

	if (!(tp->t_flags2 & TF2_OUTQ))
		return;
	for (pp = &st->st_outq_head; *pp != NULL; prev = *pp, pp = &(*pp)->t_outq_next) {
		if (*pp != tp)
			continue;
		*pp = tp->t_outq_next;
		if (st->st_outq_tail == tp)
			st->st_outq_tail = prev;
		break;
	}
	tp->t_outq_next = NULL;
	tp->t_flags2 &= ~TF2_OUTQ;
}
