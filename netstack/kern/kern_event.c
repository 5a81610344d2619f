/*
 * kern_event.c - readiness event queues, epoll-like and level-triggered
 * (in the spirit of FreeBSD's kern_event.c: a registration is a knote
 * linking one socket and one queue), and per-socket upcalls.
 *
 *   ust_evq_ctl(ADD/MOD) -> [ready now?] -> ready list
 *   protocol -> sowakeup -> knote_notify -> ready list (O(1) per
 *       registration of that socket; no scan of all sockets)
 *   ust_evq_poll -> recheck each ready registration: report, keep it
 *       while still ready (level-triggered), drop it when not
 *   ust_evq_wait -> loop { ust_stack_poll; ust_evq_poll; sleep until the
 *       next deadline (real clock only) }
 *
 * Locking: the stack lock covers registrations and ready lists (the
 * caller of ust_evq_ctl/ust_evq_poll holds it when on another thread, as
 * for every socket call).  ust_evq_wait takes it itself around each check
 * and must be called without it, since ust_stack_poll takes it too.  Each
 * queue has a private mutex and condition variable for sleeping; a
 * registration becoming ready bumps a generation count under that mutex
 * and signals, so a wakeup is never lost between check and sleep.
 */
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"

#if UST_EVQ
/* Events a user may ask for; ERR and HUP are reported regardless. */
#define EV_KNOWN (UST_EV_IN | UST_EV_OUT | UST_EV_ERR | UST_EV_HUP | UST_EV_RDHUP)
#define EV_ALWAYS (UST_EV_ERR | UST_EV_HUP)

/* Longest sleep in ust_evq_wait: frames a driver receives (a TAP fd) are
 * not signalled to us, so sleeping is capped at this poll interval. */
#define EVQ_MAX_SLEEP_NS 1000000ull
/* Registrations per socket the stack allows, in all queues together. */
#define EVREG_PER_SOCKET 4

/* One socket's interest in one queue (a knote). */
struct evreg {
	struct evq *er_evq;
	struct socket *er_so;
	uint32_t er_events; /* interest, UST_EV_* */
	void *er_udata;
	struct evreg *er_sonext; /* the socket's registrations */
	struct evreg *er_qnext;  /* the queue's registrations */
	struct evreg **er_qprevp;
	struct evreg *er_rnext; /* the queue's ready list */
	struct evreg **er_rprevp;
	int er_ready; /* on the ready list */
};

struct evq {
	uint32_t eq_magic;
	struct ust_stack *eq_stack;
	struct evq *eq_next; /* the stack's queues */
	struct evq **eq_prevp;
	struct evreg *eq_regs;
	struct evreg *eq_rhead; /* ready list, FIFO */
	struct evreg **eq_rtailp;
	uint32_t eq_nready;
	struct ust_osal_mutex *eq_mtx;
	struct ust_osal_cond *eq_cv;
	uint64_t eq_gen; /* bumped under eq_mtx when something gets ready */
};
#define EVQ_MAGIC 0x45565155u

#define EVQ_FROM_UST(u) ((struct evq *)(void *)(u))
#define EVQ_TO_UST(q) ((struct ust_evq *)(void *)(q))

/* ---------------------------------------------------------------------
 * Ready list.
 * ------------------------------------------------------------------- */

static void
evq_ready_insert(struct evq *eq, struct evreg *er)
{
	er->er_rnext = NULL;
	er->er_rprevp = eq->eq_rtailp;
	*eq->eq_rtailp = er;
	eq->eq_rtailp = &er->er_rnext;
	er->er_ready = 1;
	eq->eq_nready++;
}

static void
evq_ready_remove(struct evq *eq, struct evreg *er)
{
	if (!er->er_ready)
		return;
	*er->er_rprevp = er->er_rnext;
	if (er->er_rnext != NULL)
		er->er_rnext->er_rprevp = er->er_rprevp;
	else
		eq->eq_rtailp = er->er_rprevp;
	er->er_ready = 0;
	er->er_rnext = NULL;
	er->er_rprevp = NULL;
	eq->eq_nready--;
}

static void
evq_signal(struct evq *eq)
{
	ust_osal_mutex_lock(eq->eq_mtx);
	eq->eq_gen++;
	ust_osal_cond_broadcast(eq->eq_cv);
	ust_osal_mutex_unlock(eq->eq_mtx);
}

/* Puts er on its queue's ready list if its socket has what it wants. */
static void
evreg_check(struct evreg *er, uint32_t ev)
{
	if (er->er_ready || (ev & (er->er_events | EV_ALWAYS)) == 0)
		return;
	evq_ready_insert(er->er_evq, er);
	evq_signal(er->er_evq);
}

void
knote_notify(struct socket *so)
{
	struct evreg *er;
	uint32_t ev;

	if (so->so_evregs == NULL)
		return;
	ev = so_events(so);
	for (er = so->so_evregs; er != NULL; er = er->er_sonext)
		evreg_check(er, ev);
}

/* Unlinks er from its socket, its queue and the ready list; frees it. */
static void
evreg_free(struct evreg *er)
{
	struct evq *eq = er->er_evq;
	struct so_state *ss = eq->eq_stack->st_so;
	struct evreg **pp;

	for (pp = &er->er_so->so_evregs; *pp != NULL; pp = &(*pp)->er_sonext) {
		if (*pp == er) {
			*pp = er->er_sonext;
			break;
		}
	}
	evq_ready_remove(eq, er);
	*er->er_qprevp = er->er_qnext;
	if (er->er_qnext != NULL)
		er->er_qnext->er_qprevp = er->er_qprevp;
	ust_zone_free(ss->ss_evzone, er);
}

void
knote_sodetach(struct socket *so)
{
	while (so->so_evregs != NULL)
		evreg_free(so->so_evregs);
}

uint32_t
knote_count(const struct ust_stack *st)
{
	struct ust_zone_stats zs;

	if (st->st_so == NULL || st->st_so->ss_evzone == NULL)
		return (0);
	ust_zone_get_stats(st->st_so->ss_evzone, &zs);
	return (zs.in_use);
}

/* ---------------------------------------------------------------------
 * Queues.
 * ------------------------------------------------------------------- */

static void
evq_free(struct evq *eq)
{
	struct ust_stack *st = eq->eq_stack;

	while (eq->eq_regs != NULL)
		evreg_free(eq->eq_regs);
	*eq->eq_prevp = eq->eq_next;
	if (eq->eq_next != NULL)
		eq->eq_next->eq_prevp = eq->eq_prevp;
	if (eq->eq_cv != NULL)
		ust_osal_cond_destroy(eq->eq_cv);
	if (eq->eq_mtx != NULL)
		ust_osal_mutex_destroy(eq->eq_mtx);
	eq->eq_magic = 0;
	st_free(st, eq, sizeof(*eq));
}

int
ust_evq_create(struct ust_stack *st, struct ust_evq **out)
{
	struct so_state *ss;
	struct evq *eq;

	if (out == NULL)
		return (-UST_EFAULT);
	*out = NULL;
	if (st == NULL || (ss = st->st_so) == NULL)
		return (-UST_EINVAL);
	eq = st_malloc(st, sizeof(*eq));
	if (eq == NULL)
		return (-UST_ENOMEM);
	eq->eq_magic = EVQ_MAGIC;
	eq->eq_stack = st;
	eq->eq_rtailp = &eq->eq_rhead;
	eq->eq_next = ss->ss_evqs;
	if (eq->eq_next != NULL)
		eq->eq_next->eq_prevp = &eq->eq_next;
	eq->eq_prevp = &ss->ss_evqs;
	ss->ss_evqs = eq;
	eq->eq_mtx = ust_osal_mutex_create();
	eq->eq_cv = ust_osal_cond_create();
	if (eq->eq_mtx == NULL || eq->eq_cv == NULL) {
		evq_free(eq);
		return (-UST_ENOMEM);
	}
	*out = EVQ_TO_UST(eq);
	return (0);
}

void
ust_evq_destroy(struct ust_evq *evq)
{
	struct evq *eq = EVQ_FROM_UST(evq);

	if (eq == NULL || eq->eq_magic != EVQ_MAGIC)
		return;
	evq_free(eq);
}

static struct evreg *
evreg_find(struct socket *so, struct evq *eq)
{
	struct evreg *er;

	for (er = so->so_evregs; er != NULL; er = er->er_sonext)
		if (er->er_evq == eq)
			return (er);
	return (NULL);
}

int
ust_evq_ctl(struct ust_evq *evq, int op, struct ust_socket *uso, uint32_t events, void *udata)
{
	struct evq *eq = EVQ_FROM_UST(evq);
	struct socket *so = SO_FROM_UST(uso);
	struct evreg *er;

	if (eq == NULL || eq->eq_magic != EVQ_MAGIC)
		return (-UST_EINVAL);
	if (so == NULL || so->so_magic != SO_MAGIC || (so->so_state & SS_NOFDREF))
		return (-UST_EBADF);
	if (so->so_stack != eq->eq_stack)
		return (-UST_EINVAL);
	if (op != UST_EVQ_ADD && op != UST_EVQ_MOD && op != UST_EVQ_DEL)
		return (-UST_EINVAL);
	if ((events & ~EV_KNOWN) != 0 && op != UST_EVQ_DEL)
		return (-UST_EINVAL);
	er = evreg_find(so, eq);
	switch (op) {
	case UST_EVQ_ADD:
		if (er != NULL)
			return (-UST_EEXIST);
		er = ust_zone_alloc(eq->eq_stack->st_so->ss_evzone);
		if (er == NULL)
			return (-UST_ENOMEM);
		memset(er, 0, sizeof(*er));
		er->er_evq = eq;
		er->er_so = so;
		er->er_sonext = so->so_evregs;
		so->so_evregs = er;
		er->er_qnext = eq->eq_regs;
		if (er->er_qnext != NULL)
			er->er_qnext->er_qprevp = &er->er_qnext;
		er->er_qprevp = &eq->eq_regs;
		eq->eq_regs = er;
		break;
	case UST_EVQ_MOD:
		if (er == NULL)
			return (-UST_ENOENT);
		break;
	default:
		if (er == NULL)
			return (-UST_ENOENT);
		evreg_free(er);
		return (0);
	}
	er->er_events = events;
	er->er_udata = udata;
	/* Level-triggered: what is ready already is reported at once. */
	evreg_check(er, so_events(so));
	return (0);
}

/* The ready list, rechecked: each still-ready registration is reported
 * and moved to the tail (fairness), the others leave the list. */
static int
evq_scan(struct evq *eq, struct ust_event *evs, int max)
{
	struct evreg *er;
	uint32_t n, i, ev;
	int out = 0;

	n = eq->eq_nready;
	for (i = 0; i < n && out < max; i++) {
		er = eq->eq_rhead;
		evq_ready_remove(eq, er);
		ev = so_events(er->er_so) & (er->er_events | EV_ALWAYS);
		if (ev == 0)
			continue;
		evs[out].events = ev;
		evs[out].udata = er->er_udata;
		out++;
		evq_ready_insert(eq, er);
	}
	return (out);
}

int
ust_evq_poll(struct ust_evq *evq, struct ust_event *evs, int max)
{
	struct evq *eq = EVQ_FROM_UST(evq);

	if (eq == NULL || eq->eq_magic != EVQ_MAGIC || max <= 0)
		return (-UST_EINVAL);
	if (evs == NULL)
		return (-UST_EFAULT);
	return (evq_scan(eq, evs, max));
}

static int
clock_is_osal(const struct ust_stack *st)
{
	return (st->st_cfg.clock.now_ns == ust_clock_monotonic().now_ns);
}

/* Sleeps on the queue until signalled (generation moved past gen) or the
 * OSAL monotonic clock reaches deadline. */
static void
evq_sleep(struct evq *eq, uint64_t gen, uint64_t deadline)
{
	ust_osal_mutex_lock(eq->eq_mtx);
	while (eq->eq_gen == gen)
		if (ust_osal_cond_timedwait(eq->eq_cv, eq->eq_mtx, deadline) == UST_ETIMEDOUT)
			break;
	ust_osal_mutex_unlock(eq->eq_mtx);
}

/*
 * Polls the stack until something is ready or the timeout passes on the
 * stack clock.  Sleeping needs the stack clock to be the OSAL monotonic
 * clock, whose deadlines the condition variable understands: on any other
 * clock (a virtual one) we never sleep, and return 0 as soon as nothing is
 * ready and nothing is due, leaving the caller to move its clock.
 */
int
ust_evq_wait(struct ust_evq *evq, struct ust_event *evs, int max, int64_t timeout_ns)
{
	struct evq *eq = EVQ_FROM_UST(evq);
	struct ust_stack *st;
	uint64_t start, now, next, end, deadline, gen;
	int n, work, spins = 0, real;

	if (eq == NULL || eq->eq_magic != EVQ_MAGIC || max <= 0)
		return (-UST_EINVAL);
	if (evs == NULL)
		return (-UST_EFAULT);
	st = eq->eq_stack;
	real = clock_is_osal(st);
	start = ust_stack_now(st);
	end = timeout_ns < 0 ? UINT64_MAX : start + (uint64_t)timeout_ns;
	for (;;) {
		work = ust_stack_poll(st);
		ust_stack_lock(st);
		n = evq_scan(eq, evs, max);
		ust_osal_mutex_lock(eq->eq_mtx);
		gen = eq->eq_gen;
		ust_osal_mutex_unlock(eq->eq_mtx);
		ust_stack_unlock(st);
		if (n > 0 || timeout_ns == 0)
			return (n);
		now = ust_stack_now(st);
		if (now >= end)
			return (0);
		if (work > 0)
			continue;
		next = ust_stack_next_deadline(st);
		if (next <= now) {
			/* Due now: poll again (bounded when time cannot move). */
			if (!real && ++spins > 1000)
				return (0);
			continue;
		}
		if (!real)
			return (0);
		deadline = next < end ? next : end;
		if (deadline - now > EVQ_MAX_SLEEP_NS)
			deadline = now + EVQ_MAX_SLEEP_NS;
		evq_sleep(eq, gen, deadline);
	}
}

#else  /* !UST_EVQ (ustack_opts.h): upcalls only. */
int
ust_evq_create(struct ust_stack *st, struct ust_evq **out)
{
	(void)st;
	if (out != NULL)
		*out = NULL;
	return (-UST_EOPNOTSUPP);
}

void
ust_evq_destroy(struct ust_evq *evq)
{
	(void)evq;
}

int
ust_evq_ctl(struct ust_evq *evq, int op, struct ust_socket *uso, uint32_t events, void *udata)
{
	(void)evq, (void)op, (void)uso, (void)events, (void)udata;
	return (-UST_EOPNOTSUPP);
}

int
ust_evq_poll(struct ust_evq *evq, struct ust_event *evs, int max)
{
	(void)evq, (void)evs, (void)max;
	return (-UST_EOPNOTSUPP);
}

int
ust_evq_wait(struct ust_evq *evq, struct ust_event *evs, int max, int64_t timeout_ns)
{
	(void)evq, (void)evs, (void)max, (void)timeout_ns;
	return (-UST_EOPNOTSUPP);
}
#endif /* UST_EVQ */

void
ust_socket_set_upcall(struct ust_socket *uso, ust_upcall_fn fn, void *arg)
{
	struct socket *so = SO_FROM_UST(uso);

	if (so == NULL || so->so_magic != SO_MAGIC)
		return;
	so->so_upcall = fn;
	so->so_upcallarg = fn != NULL ? arg : NULL;
}

#if UST_EVQ
/* ---------------------------------------------------------------------
 * Per-stack state.
 * ------------------------------------------------------------------- */

int
kqueue_init(struct ust_stack *st)
{
	struct so_state *ss = st->st_so;
	int64_t max = V(st, ipc_maxsockets) * EVREG_PER_SOCKET;

	if (max > (1 << 24))
		max = 1 << 24;
	ss->ss_evzone =
	    ust_zone_create(&st->st_mem, "evreg", sizeof(struct evreg), (uint32_t)max, 0);
	return (ss->ss_evzone == NULL ? UST_ENOMEM : 0);
}

void
kqueue_fini(struct ust_stack *st)
{
	struct so_state *ss = st->st_so;

	if (ss == NULL)
		return;
	while (ss->ss_evqs != NULL)
		evq_free(ss->ss_evqs);
	if (ss->ss_evzone != NULL)
		ust_zone_destroy(ss->ss_evzone);
	ss->ss_evzone = NULL;
}
#endif /* UST_EVQ */
