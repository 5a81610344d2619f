/*
 * cc.c - the congestion-control framework (FreeBSD's cc(4) glue in
 * netinet/cc/cc.h and tcp_input.c's cc_* helpers): one wrapper per hook,
 * each a no-op when the module leaves the hook out, and the per-connection
 * state a module asks for (data_size bytes from the stack's memory).
 *
 *   tcp_newtcpcb -> cc_attach(newreno)      tcp_close -> cc_detach
 *   handshake done (tcp_input) -> cc_conn_init
 *   ACK processing (tcp_input) -> cc_ack_received / cc_cong_signal(NDUPACK)
 *       / cc_post_recovery
 *   RTO (tcp_timer) -> cc_cong_signal(CC_RTO)
 *   tcp_output after an idle period -> cc_after_idle
 *
 * The framework keeps the recovery bookkeeping FreeBSD keeps outside the
 * modules (TF_FASTRECOVERY, snd_recover on entry; TF_WASFRECOVERY and the
 * saved state on a timeout), so that a module only decides cwnd and
 * ssthresh.
 */
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

static void
cc_var_init(struct cc_var *ccv, struct tcpcb *tp)
{
	ccv->tp = tp;
	ccv->bytes_this_ack = 0;
	ccv->flags = 0;
}

int
cc_attach(struct tcpcb *tp, const struct cc_algo *algo)
{
	struct ust_stack *st = tp->t_stack;
	struct cc_var ccv;
	void *data = NULL;
	int error;

	if (algo == NULL)
		algo = &newreno_cc_algo;
	if (algo->data_size > 0) {
		data = st_malloc(st, algo->data_size);
		if (data == NULL)
			return (UST_ENOMEM);
	}
	tp->t_cc = algo;
	tp->t_ccdata = data;
	if (algo->cb_init != NULL) {
		cc_var_init(&ccv, tp);
		error = algo->cb_init(&ccv, data);
		if (error != 0) {
			if (data != NULL)
				st_free(st, data, algo->data_size);
			tp->t_cc = NULL;
			tp->t_ccdata = NULL;
			return (error);
		}
	}
	return (0);
}

void
cc_detach(struct tcpcb *tp)
{
	const struct cc_algo *algo = tp->t_cc;
	struct cc_var ccv;

	if (algo == NULL)
		return;
	if (algo->cb_destroy != NULL) {
		cc_var_init(&ccv, tp);
		algo->cb_destroy(&ccv);
	}
	if (tp->t_ccdata != NULL && algo->data_size > 0)
		st_free(tp->t_stack, tp->t_ccdata, algo->data_size);
	tp->t_ccdata = NULL;
	tp->t_cc = NULL;
}

void
cc_conn_init(struct tcpcb *tp)
{
	struct cc_var ccv;

	if (tp->t_cc == NULL || tp->t_cc->conn_init == NULL)
		return;
	cc_var_init(&ccv, tp);
	tp->t_cc->conn_init(&ccv);
}

void
cc_ack_received(struct tcpcb *tp, uint32_t bytes_acked, uint16_t type, int cwnd_limited)
{
	struct cc_var ccv;

	if (tp->t_cc == NULL || tp->t_cc->ack_received == NULL)
		return;
	cc_var_init(&ccv, tp);
	ccv.bytes_this_ack = bytes_acked;
	if (cwnd_limited)
		ccv.flags |= CCF_CWND_LIMITED;
	tp->t_cc->ack_received(&ccv, type);
}

/*
 * FreeBSD's cc_cong_signal(): the recovery flags around the module's
 * decision.  NDUPACK enters fast recovery with snd_recover = snd_max (RFC
 * 6582 3.2 step 2) unless already recovering; RTO remembers whether we
 * were recovering (for a later CC_RTO_ERR) and leaves recovery.
 */
void
cc_cong_signal(struct tcpcb *tp, uint32_t type)
{
	struct cc_var ccv;

	cc_var_init(&ccv, tp);
	switch (type) {
	case CC_NDUPACK:
		if (IN_FASTRECOVERY(tp->t_flags))
			return;
		tp->snd_recover = tp->snd_max;
		if (tp->t_cc != NULL && tp->t_cc->cong_signal != NULL)
			tp->t_cc->cong_signal(&ccv, type);
		tp->t_flags |= TF_FASTRECOVERY;
		return;
	case CC_RTO:
		tp->t_dupacks = 0;
		tp->t_bytes_acked = 0;
		/* The state a spurious first timeout would go back to. */
		if (tp->t_rxtshift <= 1) {
			if (IN_FASTRECOVERY(tp->t_flags))
				tp->t_flags |= TF_WASFRECOVERY;
			else
				tp->t_flags &= ~TF_WASFRECOVERY;
			if (IN_CONGRECOVERY(tp->t_flags))
				tp->t_flags |= TF_WASCRECOVERY;
			else
				tp->t_flags &= ~TF_WASCRECOVERY;
		}
		tp->t_flags &= ~(TF_FASTRECOVERY | TF_CONGRECOVERY);
		tp->snd_recover = tp->snd_max;
		break;
	case CC_RTO_ERR:
		/* The timeout was spurious: back to the state before it. */
		if (tp->t_flags & TF_WASFRECOVERY)
			tp->t_flags |= TF_FASTRECOVERY;
		if (tp->t_flags & TF_WASCRECOVERY)
			tp->t_flags |= TF_CONGRECOVERY;
		break;
	case CC_ECN:
		if (IN_CONGRECOVERY(tp->t_flags))
			return;
		tp->snd_recover = tp->snd_max;
		tp->t_flags |= TF_CONGRECOVERY;
		break;
	default:
		break;
	}
	if (tp->t_cc != NULL && tp->t_cc->cong_signal != NULL)
		tp->t_cc->cong_signal(&ccv, type);
}

/* Leaving fast recovery on the ACK that covers snd_recover (RFC 6582 3.2
 * step 3): the module deflates the window, the framework clears the flag. */
void
cc_post_recovery(struct tcpcb *tp)
{
	struct cc_var ccv;

	if (tp->t_cc != NULL && tp->t_cc->post_recovery != NULL) {
		cc_var_init(&ccv, tp);
		tp->t_cc->post_recovery(&ccv);
	}
	tp->t_flags &= ~(TF_FASTRECOVERY | TF_CONGRECOVERY);
	tp->t_bytes_acked = 0;
	tp->t_dupacks = 0;
}

void
cc_after_idle(struct tcpcb *tp)
{
	struct cc_var ccv;

	if (tp->t_cc == NULL || tp->t_cc->after_idle == NULL)
		return;
	cc_var_init(&ccv, tp);
	tp->t_cc->after_idle(&ccv);
}
