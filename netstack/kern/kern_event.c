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
 *       next deadline (real clock only) }; on a stack whose own thread
 *       polls it (ust_stack_threaded), no poll: sleep until that thread
 *       makes a registration ready
 *
 * Locking: the stack lock covers registrations and ready lists (the
 * caller of ust_evq_ctl/ust_evq_poll holds it when on another thread, as
 * for every socket call).  ust_evq_wait takes it itself around each check
 * and must be called without it, since ust_stack_poll takes it too.  Each
 * queue has a mutex and condition variable for sleeping (struct evq_wake);
 * a registration becoming ready bumps a generation count under that mutex
 * and signals, so a wakeup is never lost between check and sleep.
 *
 * A group queue (ust_group_evq_create, ustack_group.h) is one ordinary
 * queue per stack of the group, all sharing the group queue's evq_wake:
 * whichever stack's thread makes a registration ready wakes its waiter.
 * Its calls take each stack's lock themselves.  ust_socket_wait() is a
 * one-socket queue made for the wait.
 */
#include <stdatomic.h>
#include <string.h>

#include <ustack/ustack_group.h>

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

/* Where a queue's waiter sleeps. */
struct evq_wake {
	struct ust_osal_mutex *ew_mtx;
	struct ust_osal_cond *ew_cv;
	uint64_t ew_gen; /* bumped under ew_mtx when something gets ready */
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
	struct evq_wake eq_own;   /* a queue of its own */
	struct evq_wake *eq_wake; /* &eq_own, or its group queue's */
};
#define EVQ_MAGIC 0x45565155u

/* A group queue: one struct evq per stack of the group. */
struct gevq {
	uint32_t gq_magic;
	struct ust_group *gq_group;
	unsigned gq_n;
	_Atomic unsigned gq_next; /* the stack ust_evq_poll starts with (fairness) */
	struct evq_wake gq_wake;
	struct evq *gq_q[UST_GROUP_MAX];
};
#define GEVQ_MAGIC 0x47455651u

/* The magic every queue handle starts with. */
#define EVQ_KIND(u) (*(const uint32_t *)(const void *)(u))

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
	struct evq_wake *ew = eq->eq_wake;

	ust_osal_mutex_lock(ew->ew_mtx);
	ew->ew_gen++;
	ust_osal_cond_broadcast(ew->ew_cv);
	ust_osal_mutex_unlock(ew->ew_mtx);
}

static uint64_t
evq_gen(struct evq_wake *ew)
{
	uint64_t gen;

	ust_osal_mutex_lock(ew->ew_mtx);
	gen = ew->ew_gen;
	ust_osal_mutex_unlock(ew->ew_mtx);
	return (gen);
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
	if (eq->eq_own.ew_cv != NULL)
		ust_osal_cond_destroy(eq->eq_own.ew_cv);
	if (eq->eq_own.ew_mtx != NULL)
		ust_osal_mutex_destroy(eq->eq_own.ew_mtx);
	eq->eq_magic = 0;
	st_free(st, eq, sizeof(*eq));
}

/* A queue on st; it sleeps on wake (a group queue's), or on its own. */
static int
evq_create(struct ust_stack *st, struct evq_wake *wake, struct evq **out)
{
	struct so_state *ss;
	struct evq *eq;

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
	if (wake != NULL) {
		eq->eq_wake = wake;
	} else {
		eq->eq_wake = &eq->eq_own;
		eq->eq_own.ew_mtx = ust_osal_mutex_create();
		eq->eq_own.ew_cv = ust_osal_cond_create();
		if (eq->eq_own.ew_mtx == NULL || eq->eq_own.ew_cv == NULL) {
			evq_free(eq);
			return (-UST_ENOMEM);
		}
	}
	*out = eq;
	return (0);
}

int
ust_evq_create(struct ust_stack *st, struct ust_evq **out)
{
	struct evq *eq;
	int error;

	if (out == NULL)
		return (-UST_EFAULT);
	error = evq_create(st, NULL, &eq);
	*out = EVQ_TO_UST(eq);
	return (error);
}

static void gevq_destroy(struct gevq *gq);

void
ust_evq_destroy(struct ust_evq *evq)
{
	struct evq *eq = EVQ_FROM_UST(evq);

	if (eq == NULL)
		return;
	if (EVQ_KIND(evq) == GEVQ_MAGIC) {
		gevq_destroy((struct gevq *)(void *)evq);
		return;
	}
	if (eq->eq_magic != EVQ_MAGIC)
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

static int gevq_ctl(struct gevq *gq, int op, struct ust_socket *uso, uint32_t events, void *udata);

static int
evq_ctl(struct evq *eq, int op, struct socket *so, uint32_t events, void *udata)
{
	struct evreg *er;

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

int
ust_evq_ctl(struct ust_evq *evq, int op, struct ust_socket *uso, uint32_t events, void *udata)
{
	struct evq *eq = EVQ_FROM_UST(evq);
	struct socket *so = SO_FROM_UST(uso);

	if (eq == NULL)
		return (-UST_EINVAL);
	if (EVQ_KIND(evq) == GEVQ_MAGIC)
		return (gevq_ctl((struct gevq *)(void *)evq, op, uso, events, udata));
	if (eq->eq_magic != EVQ_MAGIC)
		return (-UST_EINVAL);
	if (so == NULL || so->so_magic != SO_MAGIC || (so->so_state & SS_NOFDREF))
		return (-UST_EBADF);
	if (so->so_stack != eq->eq_stack)
		return (-UST_EINVAL);
	return (evq_ctl(eq, op, so, events, udata));
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

static int gevq_poll(struct gevq *gq, struct ust_event *evs, int max);
static int gevq_wait(struct gevq *gq, struct ust_event *evs, int max, int64_t timeout_ns);

int
ust_evq_poll(struct ust_evq *evq, struct ust_event *evs, int max)
{
	struct evq *eq = EVQ_FROM_UST(evq);

	if (eq == NULL || max <= 0)
		return (-UST_EINVAL);
	if (evs == NULL)
		return (-UST_EFAULT);
	if (EVQ_KIND(evq) == GEVQ_MAGIC)
		return (gevq_poll((struct gevq *)(void *)evq, evs, max));
	if (eq->eq_magic != EVQ_MAGIC)
		return (-UST_EINVAL);
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
evq_sleep(struct evq_wake *ew, uint64_t gen, uint64_t deadline)
{
	ust_osal_mutex_lock(ew->ew_mtx);
	while (ew->ew_gen == gen)
		if (deadline == UINT64_MAX)
			ust_osal_cond_wait(ew->ew_cv, ew->ew_mtx);
		else if (ust_osal_cond_timedwait(ew->ew_cv, ew->ew_mtx, deadline) == UST_ETIMEDOUT)
			break;
	ust_osal_mutex_unlock(ew->ew_mtx);
}

/* A queue on a stack whose own thread polls it: no polling here (the
 * thread would fight us for the lock), sleep until it makes something
 * ready. */
static int
evq_wait_threaded(struct evq *eq, struct ust_event *evs, int max, int64_t timeout_ns)
{
	struct ust_stack *st = eq->eq_stack;
	uint64_t end, gen;
	int n;

	end = timeout_ns < 0 ? UINT64_MAX : ust_osal_clock_ns() + (uint64_t)timeout_ns;
	for (;;) {
		ust_stack_lock(st);
		n = evq_scan(eq, evs, max);
		gen = evq_gen(eq->eq_wake);
		ust_stack_unlock(st);
		if (n > 0 || timeout_ns == 0)
			return (n);
		if (end != UINT64_MAX && ust_osal_clock_ns() >= end)
			return (0);
		evq_sleep(eq->eq_wake, gen, end);
	}
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

	if (eq == NULL || max <= 0)
		return (-UST_EINVAL);
	if (evs == NULL)
		return (-UST_EFAULT);
	if (EVQ_KIND(evq) == GEVQ_MAGIC)
		return (gevq_wait((struct gevq *)(void *)evq, evs, max, timeout_ns));
	if (eq->eq_magic != EVQ_MAGIC)
		return (-UST_EINVAL);
	st = eq->eq_stack;
	if (ust_stack_threaded(st))
		return (evq_wait_threaded(eq, evs, max, timeout_ns));
	real = clock_is_osal(st);
	start = ust_stack_now(st);
	end = timeout_ns < 0 ? UINT64_MAX : start + (uint64_t)timeout_ns;
	for (;;) {
		work = ust_stack_poll(st);
		ust_stack_lock(st);
		n = evq_scan(eq, evs, max);
		gen = evq_gen(eq->eq_wake);
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
		evq_sleep(eq->eq_wake, gen, deadline);
	}
}
/* ---------------------------------------------------------------------
 * Group queues (ust_group_evq_create) and ust_socket_wait.
 * ------------------------------------------------------------------- */

#if UST_SMP
static void
gevq_destroy(struct gevq *gq)
{
	struct ust_stack *st;
	unsigned i;

	for (i = 0; i < gq->gq_n; i++) {
		if (gq->gq_q[i] == NULL)
			continue;
		st = ust_group_stack(gq->gq_group, i);
		ust_stack_lock(st);
		evq_free(gq->gq_q[i]);
		ust_stack_unlock(st);
	}
	if (gq->gq_wake.ew_cv != NULL)
		ust_osal_cond_destroy(gq->gq_wake.ew_cv);
	if (gq->gq_wake.ew_mtx != NULL)
		ust_osal_mutex_destroy(gq->gq_wake.ew_mtx);
	gq->gq_magic = 0;
	ust_osal_mem_free(gq, sizeof(*gq));
}

int
ust_group_evq_create(struct ust_group *g, struct ust_evq **out)
{
	struct ust_stack *st;
	struct gevq *gq;
	unsigned i;
	int error;

	if (out == NULL)
		return (-UST_EFAULT);
	*out = NULL;
	if (g == NULL)
		return (-UST_EINVAL);
	gq = ust_osal_mem_alloc(sizeof(*gq));
	if (gq == NULL)
		return (-UST_ENOMEM);
	memset(gq, 0, sizeof(*gq));
	gq->gq_magic = GEVQ_MAGIC;
	gq->gq_group = g;
	gq->gq_n = ust_group_size(g);
	gq->gq_wake.ew_mtx = ust_osal_mutex_create();
	gq->gq_wake.ew_cv = ust_osal_cond_create();
	if (gq->gq_wake.ew_mtx == NULL || gq->gq_wake.ew_cv == NULL) {
		gevq_destroy(gq);
		return (-UST_ENOMEM);
	}
	for (i = 0; i < gq->gq_n; i++) {
		st = ust_group_stack(g, i);
		ust_stack_lock(st);
		error = evq_create(st, &gq->gq_wake, &gq->gq_q[i]);
		ust_stack_unlock(st);
		if (error != 0) {
			gevq_destroy(gq);
			return (error);
		}
	}
	*out = (struct ust_evq *)(void *)gq;
	return (0);
}

static int
gevq_ctl(struct gevq *gq, int op, struct ust_socket *uso, uint32_t events, void *udata)
{
	struct socket *so = SO_FROM_UST(uso);
	struct ust_stack *st;
	int error;

	if (so == NULL)
		return (-UST_EBADF);
	/* so_stack is fixed for the socket's life; the rest is read under
	 * its stack's lock. */
	st = so->so_stack;
	if (st == NULL || ust_stack_group(st) != gq->gq_group)
		return (-UST_EINVAL);
	ust_stack_lock(st);
	if (so->so_magic != SO_MAGIC || (so->so_state & SS_NOFDREF))
		error = -UST_EBADF;
	else
		error = evq_ctl(gq->gq_q[ust_stack_group_index(st)], op, so, events, udata);
	ust_stack_unlock(st);
	return (error);
}

/* Each stack's ready list under its lock, starting one stack further at
 * each call so that a busy stack does not hide the others. */
static int
gevq_poll(struct gevq *gq, struct ust_event *evs, int max)
{
	struct ust_stack *st;
	unsigned k, i, start = atomic_load_explicit(&gq->gq_next, memory_order_relaxed);
	int out = 0;

	/* Callers on several threads may skip or repeat a start: harmless. */
	atomic_store_explicit(&gq->gq_next, (start + 1) % gq->gq_n, memory_order_relaxed);
	for (k = 0; k < gq->gq_n && out < max; k++) {
		i = (start + k) % gq->gq_n;
		st = ust_group_stack(gq->gq_group, i);
		ust_stack_lock(st);
		out += evq_scan(gq->gq_q[i], evs + out, max - out);
		ust_stack_unlock(st);
	}
	return (out);
}

/* Stacks with threads of their own are left to them; the others (a group
 * without threads) are polled here, as ust_evq_wait polls its stack.  Time
 * is read from the clock itself (ust_stack_now would look at a running
 * stack's poll state). */
static int
gevq_wait(struct gevq *gq, struct ust_event *evs, int max, int64_t timeout_ns)
{
	struct ust_stack *st0 = ust_group_stack(gq->gq_group, 0), *st;
	uint64_t now, next, end, deadline, gen, t;
	int n, work, spins = 0, real = clock_is_osal(st0), polled;
	unsigned i;

	now = st0->st_cfg.clock.now_ns(st0->st_cfg.clock.ctx);
	end = timeout_ns < 0 ? UINT64_MAX : now + (uint64_t)timeout_ns;
	for (;;) {
		work = 0;
		polled = 0;
		for (i = 0; i < gq->gq_n; i++) {
			st = ust_group_stack(gq->gq_group, i);
			if (!ust_stack_threaded(st)) {
				work += ust_stack_poll(st);
				polled = 1;
			}
		}
		/* Before the scan: what gets ready after it moves the count. */
		gen = evq_gen(&gq->gq_wake);
		n = gevq_poll(gq, evs, max);
		if (n > 0 || timeout_ns == 0)
			return (n);
		now = st0->st_cfg.clock.now_ns(st0->st_cfg.clock.ctx);
		if (now >= end)
			return (0);
		if (work > 0)
			continue;
		next = UINT64_MAX;
		for (i = 0; polled && i < gq->gq_n; i++) {
			st = ust_group_stack(gq->gq_group, i);
			if (!ust_stack_threaded(st) && (t = ust_stack_next_deadline(st)) < next)
				next = t;
		}
		if (next <= now) {
			if (!real && ++spins > 1000)
				return (0);
			continue;
		}
		if (!real)
			return (0);
		deadline = next < end ? next : end;
		if (polled && deadline - now > EVQ_MAX_SLEEP_NS)
			deadline = now + EVQ_MAX_SLEEP_NS;
		evq_sleep(&gq->gq_wake, gen, deadline);
	}
}
#else  /* !UST_SMP: no group, so no group queue ever reaches these. */
static void
gevq_destroy(struct gevq *gq)
{
	(void)gq;
}

int
ust_group_evq_create(struct ust_group *g, struct ust_evq **out)
{
	(void)g;
	if (out != NULL)
		*out = NULL;
	return (-UST_EOPNOTSUPP);
}

static int
gevq_ctl(struct gevq *gq, int op, struct ust_socket *uso, uint32_t events, void *udata)
{
	(void)gq, (void)op, (void)uso, (void)events, (void)udata;
	return (-UST_EINVAL);
}

static int
gevq_poll(struct gevq *gq, struct ust_event *evs, int max)
{
	(void)gq, (void)evs, (void)max;
	return (-UST_EINVAL);
}

static int
gevq_wait(struct gevq *gq, struct ust_event *evs, int max, int64_t timeout_ns)
{
	(void)gq, (void)evs, (void)max, (void)timeout_ns;
	return (-UST_EINVAL);
}
#endif /* UST_SMP */

int
ust_socket_wait(struct ust_socket *uso, uint32_t events, int64_t timeout_ns, uint32_t *revents)
{
	struct socket *so = SO_FROM_UST(uso);
	struct ust_stack *st;
	struct ust_event ev;
	struct evq *eq;
	int n;

	if (so == NULL)
		return (-UST_EBADF);
	if (revents == NULL)
		return (-UST_EFAULT);
	*revents = 0;
	st = so->so_stack;
	/* A queue of one registration, for this wait. */
	ust_stack_lock(st);
	n = evq_create(st, NULL, &eq);
	if (n == 0 &&
	    (n = ust_evq_ctl(EVQ_TO_UST(eq), UST_EVQ_ADD, uso, events & EV_KNOWN, NULL)) != 0)
		evq_free(eq);
	ust_stack_unlock(st);
	if (n != 0)
		return (n);
	n = ust_evq_wait(EVQ_TO_UST(eq), &ev, 1, timeout_ns);
	ust_stack_lock(st);
	evq_free(eq);
	ust_stack_unlock(st);
	if (n > 0) {
		*revents = ev.events;
		return (1);
	}
	return (n);
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

int
ust_group_evq_create(struct ust_group *g, struct ust_evq **out)
{
	(void)g;
	if (out != NULL)
		*out = NULL;
	return (-UST_EOPNOTSUPP);
}

int
ust_socket_wait(struct ust_socket *uso, uint32_t events, int64_t timeout_ns, uint32_t *revents)
{
	(void)uso, (void)events, (void)timeout_ns;
	if (revents != NULL)
		*revents = 0;
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
