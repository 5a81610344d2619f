/*
 * cc.c - the congestion-control framework (FreeBSD's cc(4): netinet/cc/cc.h,
 * cc.c and tcp_input.c's cc_* helpers).
 *
 * The registry: a const table of the modules compiled in (newreno, cubic),
 * looked up by name (cc_algo_find) or index (cc_algo_get), listed as
 * net.inet.tcp.cc.available.  Each stack has a default for new
 * connections, net.inet.tcp.cc.algorithm (FreeBSD 14: cubic), and each
 * connection may change module with TCP_CONGESTION (cc_switch).
 *
 * The hooks: one wrapper per hook, each a no-op when the module leaves the
 * hook out, and the per-connection state a module asks for (data_size
 * bytes from the stack's memory).
 *
 *   tcp_newtcpcb -> cc_attach(cc_default_algo(st))   tcp_close -> cc_detach
 *   TCP_CONGESTION (tcp_usrreq) -> cc_switch
 *   handshake done (tcp_input) -> cc_conn_init
 *   ACK processing (tcp_input) -> cc_ack_received / cc_cong_signal(NDUPACK)
 *       / cc_post_recovery
 *   RTO (tcp_timer) -> cc_cong_signal(CC_RTO)
 *   tcp_output after an idle period -> cc_after_idle
 *
 * The framework keeps the recovery bookkeeping FreeBSD keeps outside the
 * modules (TF_FASTRECOVERY, snd_recover on entry; TF_WASFRECOVERY and the
 * saved state on a timeout), so that a module only decides cwnd and
 * ssthresh.  The helpers every module shares (the initial window of RFC
 * 6928 / RFC 3390, fast-recovery inflation of RFC 5681 3.2 and RFC 6582)
 * live here too, as FreeBSD's newreno_cc_* helpers live in its cc.c.
 */
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

/* The registry, in net.inet.tcp.cc.available's order. */
static const struct cc_algo *const cc_algos[] = {
	&newreno_cc_algo,
#if UST_CC_CUBIC
	&cubic_cc_algo,
#endif
};

#define CC_NALGOS (sizeof(cc_algos) / sizeof(cc_algos[0]))

/* FreeBSD 14's default (FREEBSD_DEFAULTS.md); newreno without cubic. */
#if UST_CC_CUBIC
#define CC_DEFAULT_ALGO (&cubic_cc_algo)
#else
#define CC_DEFAULT_ALGO (&newreno_cc_algo)
#endif

const struct cc_algo *
cc_algo_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < CC_NALGOS; i++)
		if (strcmp(cc_algos[i]->name, name) == 0)
			return (cc_algos[i]);
	return (NULL);
}

const struct cc_algo *
cc_algo_get(unsigned idx)
{
	return (idx < CC_NALGOS ? cc_algos[idx] : NULL);
}

size_t
cc_algo_list(char *buf, size_t len)
{
	size_t i, n = 0, l;
	const char *p;

	for (i = 0; i < CC_NALGOS; i++) {
		for (l = 0; l < 2 && i > 0; l++, n++)
			if (n + 1 < len)
				buf[n] = ", "[l];
		for (p = cc_algos[i]->name; *p != '\0'; p++, n++)
			if (n + 1 < len)
				buf[n] = *p;
	}
	if (len > 0)
		buf[n < len ? n : len - 1] = '\0';
	return (n);
}

const struct cc_algo *
cc_default_algo(const struct ust_stack *st)
{
	if (st == NULL || st->st_cc_default == NULL)
		return (CC_DEFAULT_ALGO);
	return (st->st_cc_default);
}

int
cc_set_default_algo(struct ust_stack *st, const char *name)
{
	const struct cc_algo *algo = cc_algo_find(name);

	if (algo == NULL)
		return (UST_ENOENT);
	st->st_cc_default = algo;
	return (0);
}

static void
cc_var_init(struct cc_var *ccv, struct tcpcb *tp)
{
	ccv->tp = tp;
	ccv->bytes_this_ack = 0;
	ccv->flags = 0;
}

/* Installs algo with its (already allocated) state; frees the state if
 * cb_init fails. */
static int
cc_attach_data(struct tcpcb *tp, const struct cc_algo *algo, void *data)
{
	struct cc_var ccv;
	int error;

	tp->t_cc = algo;
	tp->t_ccdata = data;
	if (algo->cb_init != NULL) {
		cc_var_init(&ccv, tp);
		error = algo->cb_init(&ccv, data);
		if (error != 0) {
			if (data != NULL)
				st_free(tp->t_stack, data, algo->data_size);
			tp->t_cc = NULL;
			tp->t_ccdata = NULL;
			return (error);
		}
	}
	return (0);
}

int
cc_attach(struct tcpcb *tp, const struct cc_algo *algo)
{
	void *data = NULL;

	if (algo == NULL)
		algo = cc_default_algo(tp->t_stack);
	if (algo->data_size > 0) {
		data = st_malloc(tp->t_stack, algo->data_size);
		if (data == NULL)
			return (UST_ENOMEM);
	}
	return (cc_attach_data(tp, algo, data));
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

/*
 * FreeBSD's TCP_CONGESTION: the old module's cb_destroy, the new one's
 * cb_init, and the window carries over: cwnd and ssthresh are the
 * connection's, not the module's, so a switch neither resets the window
 * to IW nor forgets a reduction.  The new module starts without history
 * (CUBIC, for one, takes the current cwnd as its W_max).  Before the
 * handshake completes cc_conn_init still runs later as usual.
 */
int
cc_switch(struct tcpcb *tp, const struct cc_algo *algo)
{
	const struct cc_algo *old = tp->t_cc;
	uint32_t cwnd = tp->snd_cwnd, ssthresh = tp->snd_ssthresh;
	void *data = NULL;
	int error;

	if (algo == old)
		return (0);
	/* The new state first, so that running out leaves the old module. */
	if (algo->data_size > 0) {
		data = st_malloc(tp->t_stack, algo->data_size);
		if (data == NULL)
			return (UST_ENOMEM);
	}
	cc_detach(tp);
	error = cc_attach_data(tp, algo, data);
	if (error != 0 && old != NULL)
		(void)cc_attach(tp, old);
	tp->snd_cwnd = cwnd;
	tp->snd_ssthresh = ssthresh;
	return (error);
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
		/* RFC 3168 6.1.2: any reduction is announced with CWR. */
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
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
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
		break;
	case CC_RTO_ERR:
		/* The timeout was spurious: back to the state before it. */
		if (tp->t_flags & TF_WASFRECOVERY)
			tp->t_flags |= TF_FASTRECOVERY;
		if (tp->t_flags & TF_WASCRECOVERY)
			tp->t_flags |= TF_CONGRECOVERY;
		break;
	case CC_ECN:
		/* RFC 3168 6.1.2: at most once per window of data, and not on
		 * top of a loss recovery that already reduced in it. */
		if (IN_RECOVERY(tp->t_flags))
			return;
		TCPSTAT_INC(tp->t_stack, tcps_ecn_rcwnd);
		tp->snd_recover = tp->snd_max;
		tp->t_flags |= TF_CONGRECOVERY;
		if (tp->t_flags & TF_ECN_PERMIT)
			tp->t_flags |= TF_ECN_SND_CWR;
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

/* ---------------------------------------------------------------------
 * Helpers the modules share.
 * ------------------------------------------------------------------- */

/* The initial window in bytes (FreeBSD tcp_compute_initwnd()). */
uint32_t
cc_initwnd(const struct tcpcb *tp)
{
	struct ust_stack *st = tp->t_stack;
	uint32_t mss = tp->t_maxseg;
	uint64_t n = (uint64_t)V(st, tcp_initcwnd_segments);
	uint64_t lim;

	if (n > 0) {
		/* RFC 6928 2: min(10 * MSS, max(2 * MSS, 14600)) for IW10. */
		lim = n * 1460;
		if (lim < 2ull * mss)
			lim = 2ull * mss;
		return ((uint32_t)(n * mss < lim ? n * mss : lim));
	}
	if (V(st, tcp_do_rfc3390)) {
		/* RFC 3390 1: min(4 * MSS, max(2 * MSS, 4380)). */
		lim = 4380;
		if (lim < 2ull * mss)
			lim = 2ull * mss;
		return ((uint32_t)(4ull * mss < lim ? 4ull * mss : lim));
	}
	/* RFC 2581's older rule. */
	if (mss > 2190)
		return (2 * mss);
	if (mss > 1095)
		return (3 * mss);
	return (4 * mss);
}

/* The largest window the peer can be offered: no point growing past it. */
uint32_t
cc_maxwnd(const struct tcpcb *tp)
{
	return ((uint32_t)TCP_MAXWIN << tp->snd_scale);
}

/*
 * Slow start (RFC 5681 3.1): the growth one ACK earns.  With byte
 * counting, the bytes acked up to L segments per ACK (RFC 3465 2.2);
 * L = 1 while retransmitting after a timeout (RFC 3465 2.3: snd_nxt
 * behind snd_max).  Without it, one segment per ACK.
 */
uint32_t
cc_ss_incr(const struct cc_var *ccv)
{
	const struct tcpcb *tp = ccv->tp;
	struct ust_stack *st = tp->t_stack;
	uint32_t l, incr, mss = tp->t_maxseg;

	if (!V(st, tcp_do_rfc3465))
		return (mss);
	l = (uint32_t)V(st, tcp_abc_l_var);
	if (tp->snd_nxt != tp->snd_max)
		l = 1;
	incr = ccv->bytes_this_ack;
	if (incr > l * mss)
		incr = l * mss;
	return (incr);
}

/* FlightSize (RFC 5681 2). */
uint32_t
cc_flight(const struct tcpcb *tp)
{
	return ((uint32_t)(tp->snd_max - tp->snd_una));
}

/*
 * An ACK inside fast recovery, whatever the module's decrease factor:
 * a duplicate ACK inflates by one segment (RFC 5681 3.2 step 4); a
 * partial ACK deflates by the bytes acked and adds back one segment if at
 * least one was acked (RFC 6582 3.2 step 5).
 */
void
cc_recovery_ack(struct cc_var *ccv, uint16_t type)
{
	struct tcpcb *tp = ccv->tp;
	uint32_t mss = tp->t_maxseg;

	if (type == CC_DUPACK) {
		tp->snd_cwnd += mss;
		return;
	}
	if (tp->snd_cwnd > ccv->bytes_this_ack)
		tp->snd_cwnd -= ccv->bytes_this_ack;
	else
		tp->snd_cwnd = 0;
	if (ccv->bytes_this_ack >= mss)
		tp->snd_cwnd += mss;
	if (tp->snd_cwnd < mss)
		tp->snd_cwnd = mss;
}

/* The full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS)
 * + SMSS) (RFC 6582 3.2 step 3, option 1). */
void
cc_recovery_exit(struct cc_var *ccv)
{
	struct tcpcb *tp = ccv->tp;
	uint32_t mss = tp->t_maxseg, flight = cc_flight(tp), w;

	if (!IN_FASTRECOVERY(tp->t_flags))
		return;
	w = (flight > mss ? flight : mss) + mss;
	tp->snd_cwnd = w < tp->snd_ssthresh ? w : tp->snd_ssthresh;
}
