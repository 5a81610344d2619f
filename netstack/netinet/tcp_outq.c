/*
 * tcp_outq.c - one tcp_output per connection per poll (issue 19).
 *
 * CONTRACT STUB: every call sends at once, as before.  The batching helper
 * replaces this file.
 */
#include "netinet/tcp_var.h"

void
tcp_output_batch(struct tcpcb *tp)
{
	(void)tcp_output(tp);
}

void
tcp_output_drain(struct ust_stack *st)
{
	(void)st;
}

void
tcp_output_unqueue(struct tcpcb *tp)
{
	(void)tp;
}
