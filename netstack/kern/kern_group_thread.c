/*
 * kern_group_thread.c - the threads of a group of stacks (ustack_group.h,
 * docs/multicore.md "Application threads"): one poll loop per stack, how
 * it sleeps and who wakes it, the stack lock as other threads take it, and
 * the command queue of ust_stack_exec().
 *
 * The loop of stack i's thread:
 *   for (;;) {
 *       ust_stack_poll(st)         (hand-offs in, rx, callouts, tx, kicks)
 *       run the queued commands    (under the stack lock)
 *       if nothing happened and not busy_poll:
 *           gt_sleeping = 1; recheck (commands, incoming rings, stop)
 *           under the lock: deadline = next callout or driver deadline,
 *                           fds = each interface's driver get_fd
 *           ust_osal_waiter_wait(fds, deadline)
 *           gt_sleeping = 0
 *   }
 * Wakers: a stack that handed it frames (grp_poll_end), ust_stack_exec(),
 * ust_stack_unlock() when the caller left work (frames queued, an earlier
 * timer), ust_group_stop().  Each writes its side (ring tail, pending
 * count) and reads gt_sleeping with seq_cst, the thread the reverse, so no
 * wakeup is lost; a wake that comes early stays in the waiter.
 */
#include <string.h>

#include "kern/kern_group_var.h"

#if UST_SMP

/* A thread that finds application threads waiting for its lock steps
 * aside this long, so that a busy loop does not starve them (a mutex is
 * not fair: the unlocker usually takes it again at once). */
#define GRP_YIELD_NS 20000u
/* The longest sleep when an interface has no descriptor to wake on (its
 * driver wants busy_poll; without it, frames wait at most this long). */
#define GRP_NOFD_SLEEP_NS 1000000u
/* How long ust_stack_exec() spins for its command before sleeping. */
#define GRP_EXEC_SPIN_NS 30000u

int
grp_threads_init(struct ust_group *g)
{
	struct group_thr *gt;
	unsigned i;

	for (i = 0; i < g->g_n; i++) {
		gt = &g->g_thr[i];
		atomic_init(&gt->gt_running, 0);
		atomic_init(&gt->gt_stop, 0);
		atomic_init(&gt->gt_sleeping, 0);
		atomic_init(&gt->gt_lockwait, 0);
		atomic_init(&gt->gt_cmd_pending, 0);
		atomic_init(&gt->gt_exec_calls, 0);
		atomic_init(&gt->gt_wakeups, 0);
		atomic_init(&gt->gt_sleeps, 0);
		gt->gt_cmd_tailp = &gt->gt_cmd_head;
		gt->gt_sleep_deadline = UINT64_MAX;
		gt->gt_cmd_mtx = ust_osal_mutex_create();
		gt->gt_cmd_cv = ust_osal_cond_create();
		if (gt->gt_cmd_mtx == NULL || gt->gt_cmd_cv == NULL)
			return (-UST_ENOMEM);
		if (g->g_cfg.threads) {
			gt->gt_waiter = ust_osal_waiter_create();
			if (gt->gt_waiter == NULL)
				return (-UST_ENOMEM);
		}
	}
	return (0);
}

void
grp_threads_fini(struct ust_group *g)
{
	struct group_thr *gt;
	unsigned i;

	for (i = 0; g->g_thr != NULL && i < g->g_n; i++) {
		gt = &g->g_thr[i];
		if (gt->gt_waiter != NULL)
			ust_osal_waiter_destroy(gt->gt_waiter);
		if (gt->gt_cmd_cv != NULL)
			ust_osal_cond_destroy(gt->gt_cmd_cv);
		if (gt->gt_cmd_mtx != NULL)
			ust_osal_mutex_destroy(gt->gt_cmd_mtx);
		gt->gt_waiter = NULL;
		gt->gt_cmd_cv = NULL;
		gt->gt_cmd_mtx = NULL;
	}
}

void
grp_wake(struct group_thr *gt)
{
	if (gt->gt_waiter != NULL && atomic_load_explicit(&gt->gt_sleeping, memory_order_seq_cst))
		ust_osal_waiter_wake(gt->gt_waiter);
}

/* ---------------------------------------------------------------------
 * Commands.
 * ------------------------------------------------------------------- */

/* On the thread: runs what is queued, under the stack lock. */
static int
grp_run_cmds(struct group_thr *gt, int last)
{
	struct ust_stack *st = gt->gt_stack;
	struct grp_cmd *list, *c;
	int n = 0;

	if (!last && atomic_load_explicit(&gt->gt_cmd_pending, memory_order_acquire) == 0)
		return (0);
	ust_osal_mutex_lock(gt->gt_cmd_mtx);
	list = gt->gt_cmd_head;
	gt->gt_cmd_head = NULL;
	gt->gt_cmd_tailp = &gt->gt_cmd_head;
	atomic_store_explicit(&gt->gt_cmd_pending, 0, memory_order_relaxed);
	if (last)
		gt->gt_cmd_accept = 0;
	ust_osal_mutex_unlock(gt->gt_cmd_mtx);
	if (list == NULL)
		return (0);
	ust_osal_mutex_lock(st->st_lock);
	for (c = list; c != NULL; c = c->gc_next) {
		c->gc_rc = c->gc_fn(st, c->gc_arg);
		n++;
	}
	ust_osal_mutex_unlock(st->st_lock);
	atomic_fetch_add_explicit(&gt->gt_exec_calls, (uint64_t)n, memory_order_relaxed);
	ust_osal_mutex_lock(gt->gt_cmd_mtx);
	while (list != NULL) {
		c = list;
		list = c->gc_next; /* read before the caller may return */
		atomic_store_explicit(&c->gc_done, 1, memory_order_release);
	}
	ust_osal_cond_broadcast(gt->gt_cmd_cv);
	ust_osal_mutex_unlock(gt->gt_cmd_mtx);
	return (n);
}

/* A command usually completes within microseconds (a polling thread
 * takes it at once, a sleeping one is woken): spin that long before
 * sleeping on the condition variable, whose wakeup costs as much again. */
static int
grp_exec_spin(struct grp_cmd *c)
{
	uint64_t end = 0;
	unsigned k;

	for (k = 0;; k++) {
		if (atomic_load_explicit(&c->gc_done, memory_order_acquire))
			return (1);
		if ((k & 63) == 0) {
			uint64_t now = ust_osal_clock_ns();

			if (end == 0)
				end = now + GRP_EXEC_SPIN_NS;
			else if (now >= end)
				return (0);
		}
	}
}

int
ust_stack_exec(struct ust_stack *st, int (*fn)(struct ust_stack *st, void *arg), void *arg)
{
	struct group_thr *gt;
	struct grp_cmd c;
	int rc;

	if (st == NULL || fn == NULL)
		return (-UST_EINVAL);
	gt = st->st_grp;
	if (gt != NULL) {
		ust_osal_mutex_lock(gt->gt_cmd_mtx);
		if (gt->gt_cmd_accept) {
			c.gc_fn = fn;
			c.gc_arg = arg;
			c.gc_rc = 0;
			atomic_init(&c.gc_done, 0);
			c.gc_next = NULL;
			*gt->gt_cmd_tailp = &c;
			gt->gt_cmd_tailp = &c.gc_next;
			atomic_fetch_add_explicit(&gt->gt_cmd_pending, 1, memory_order_seq_cst);
			ust_osal_mutex_unlock(gt->gt_cmd_mtx);
			grp_wake(gt);
			if (!grp_exec_spin(&c)) {
				ust_osal_mutex_lock(gt->gt_cmd_mtx);
				while (!atomic_load_explicit(&c.gc_done, memory_order_acquire))
					ust_osal_cond_wait(gt->gt_cmd_cv, gt->gt_cmd_mtx);
				ust_osal_mutex_unlock(gt->gt_cmd_mtx);
			}
			return (c.gc_rc);
		}
		ust_osal_mutex_unlock(gt->gt_cmd_mtx);
	}
	/* No thread: here and now, under the lock. */
	ust_stack_lock(st);
	rc = fn(st, arg);
	ust_stack_unlock(st);
	return (rc);
}

int
ust_stack_threaded(const struct ust_stack *st)
{
	return (st->st_grp != NULL &&
	    atomic_load_explicit(&st->st_grp->gt_running, memory_order_acquire));
}

/* ---------------------------------------------------------------------
 * The lock, as other threads take it.
 * ------------------------------------------------------------------- */

void
grp_lock(struct ust_stack *st)
{
	struct group_thr *gt = st->st_grp;

	atomic_fetch_add_explicit(&gt->gt_lockwait, 1, memory_order_relaxed);
	ust_osal_mutex_lock(st->st_lock);
	atomic_fetch_sub_explicit(&gt->gt_lockwait, 1, memory_order_relaxed);
}

/* Work the caller left for a sleeping thread: frames to send, or a timer
 * earlier than the one it sleeps until. */
static int
grp_left_work(struct ust_stack *st, const struct group_thr *gt)
{
	unsigned i;

	for (i = 0; i < st->st_nifnet; i++)
		if (st->st_ifnet[i]->if_snd.ifq_len > 0)
			return (1);
	return (callout_next_deadline(&st->st_wheel) < gt->gt_sleep_deadline);
}

void
grp_unlock(struct ust_stack *st)
{
	struct group_thr *gt = st->st_grp;
	int wake;

	wake = gt->gt_waiter != NULL &&
	    atomic_load_explicit(&gt->gt_sleeping, memory_order_seq_cst) && grp_left_work(st, gt);
	ust_osal_mutex_unlock(st->st_lock);
	if (wake)
		ust_osal_waiter_wake(gt->gt_waiter);
}

/* ---------------------------------------------------------------------
 * The thread.
 * ------------------------------------------------------------------- */

/* Under the stack lock: what to sleep until and on. */
static uint64_t
grp_sleep_prepare(struct group_thr *gt, int *fds, unsigned *nfds)
{
	struct ust_stack *st = gt->gt_stack;
	const struct ifnet *ifp;
	uint64_t next, t;
	unsigned i;
	int fd, nofd = 0;

	*nfds = 0;
	next = callout_next_deadline(&st->st_wheel);
	for (i = 0; i < st->st_nifnet; i++) {
		ifp = st->st_ifnet[i];
		if (ifp->if_snd.ifq_len > 0)
			next = 0; /* a driver refused frames: retry now */
		if (ifp->if_ops->next_deadline != NULL) {
			t = ifp->if_ops->next_deadline(ifp->if_softc);
			if (t < next)
				next = t;
		}
		if (ifp->if_ops->get_fd != NULL && (fd = ifp->if_ops->get_fd(ifp->if_softc)) >= 0)
			fds[(*nfds)++] = fd;
		else
			nofd = 1;
	}
	if (nofd && (t = ust_osal_clock_ns() + GRP_NOFD_SLEEP_NS) < next)
		next = t;
	gt->gt_sleep_deadline = next;
	return (next);
}

/* Something for the thread to do right now (it said it sleeps first). */
static int
grp_pending(struct group_thr *gt)
{
	return (atomic_load_explicit(&gt->gt_stop, memory_order_seq_cst) ||
	    atomic_load_explicit(&gt->gt_cmd_pending, memory_order_seq_cst) != 0 ||
	    grp_input_pending(gt->gt_stack));
}

static void
grp_sleep(struct group_thr *gt)
{
	struct ust_stack *st = gt->gt_stack;
	int fds[UST_MAX_IFNET];
	unsigned nfds;
	uint64_t deadline;

	atomic_store_explicit(&gt->gt_sleeping, 1, memory_order_seq_cst);
	if (!grp_pending(gt)) {
		ust_osal_mutex_lock(st->st_lock);
		deadline = grp_sleep_prepare(gt, fds, &nfds);
		ust_osal_mutex_unlock(st->st_lock);
		if (deadline > ust_osal_clock_ns()) {
			atomic_fetch_add_explicit(&gt->gt_sleeps, 1, memory_order_relaxed);
			if (ust_osal_waiter_wait(gt->gt_waiter, fds, nfds, deadline) != 0)
				atomic_fetch_add_explicit(&gt->gt_wakeups, 1, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&gt->gt_sleeping, 0, memory_order_seq_cst);
	ust_osal_mutex_lock(st->st_lock);
	gt->gt_sleep_deadline = UINT64_MAX;
	ust_osal_mutex_unlock(st->st_lock);
}

static void
grp_thread_main(void *arg)
{
	struct group_thr *gt = arg;
	struct ust_stack *st = gt->gt_stack;
	int busy = gt->gt_group->g_cfg.busy_poll, work;

	while (!atomic_load_explicit(&gt->gt_stop, memory_order_acquire)) {
		work = ust_stack_poll(st);
		work += grp_run_cmds(gt, 0);
		if (atomic_load_explicit(&gt->gt_lockwait, memory_order_relaxed) > 0) {
			/* Let the application in (the waiter's own wake ends it early). */
			(void)ust_osal_waiter_wait(gt->gt_waiter, NULL, 0,
			    ust_osal_clock_ns() + GRP_YIELD_NS);
			continue;
		}
		if (work == 0 && !busy)
			grp_sleep(gt);
	}
	/* Commands queued before the stop still run, here. */
	(void)grp_run_cmds(gt, 1);
}

int
ust_group_start(struct ust_group *g)
{
	struct group_thr *gt;
	char name[16];
	unsigned i, ncpu = ust_osal_ncpus();
	int cpu, error;

	if (g == NULL)
		return (-UST_EINVAL);
	if (!g->g_cfg.threads)
		return (-UST_EINVAL);
	if (g->g_started)
		return (-UST_EALREADY);
	for (i = 0; i < g->g_n; i++) {
		gt = &g->g_thr[i];
		cpu = -1;
		if (g->g_cfg.pin)
			cpu = g->g_cfg.cpus[i] >= 0 ? g->g_cfg.cpus[i] : (int)(i % ncpu);
		atomic_store(&gt->gt_stop, 0);
		ust_osal_mutex_lock(gt->gt_cmd_mtx);
		gt->gt_cmd_accept = 1;
		ust_osal_mutex_unlock(gt->gt_cmd_mtx);
		atomic_store_explicit(&gt->gt_running, 1, memory_order_release);
		name[0] = 'u', name[1] = 's', name[2] = 't', name[3] = '/';
		name[4] = (char)('0' + i / 10), name[5] = (char)('0' + i % 10), name[6] = '\0';
		error = ust_osal_thread_create(&gt->gt_thread, grp_thread_main, gt, cpu, name);
		if (error != 0) {
			atomic_store(&gt->gt_running, 0);
			ust_osal_mutex_lock(gt->gt_cmd_mtx);
			gt->gt_cmd_accept = 0;
			ust_osal_mutex_unlock(gt->gt_cmd_mtx);
			g->g_started = 1;
			ust_group_stop(g);
			return (error);
		}
	}
	g->g_started = 1;
	return (0);
}

void
ust_group_stop(struct ust_group *g)
{
	struct group_thr *gt;
	unsigned i;

	if (g == NULL || !g->g_started)
		return;
	for (i = 0; i < g->g_n; i++) {
		gt = &g->g_thr[i];
		if (gt->gt_thread == NULL)
			continue;
		atomic_store_explicit(&gt->gt_stop, 1, memory_order_seq_cst);
		ust_osal_waiter_wake(gt->gt_waiter);
	}
	for (i = 0; i < g->g_n; i++) {
		gt = &g->g_thr[i];
		if (gt->gt_thread == NULL)
			continue;
		ust_osal_thread_join(gt->gt_thread);
		gt->gt_thread = NULL;
		atomic_store_explicit(&gt->gt_running, 0, memory_order_release);
	}
	g->g_started = 0;
}

#else /* !UST_SMP */

int
ust_stack_exec(struct ust_stack *st, int (*fn)(struct ust_stack *st, void *arg), void *arg)
{
	int rc;

	if (st == NULL || fn == NULL)
		return (-UST_EINVAL);
	ust_stack_lock(st);
	rc = fn(st, arg);
	ust_stack_unlock(st);
	return (rc);
}

int
ust_stack_threaded(const struct ust_stack *st)
{
	(void)st;
	return (0);
}

int
ust_group_start(struct ust_group *g)
{
	(void)g;
	return (-UST_EOPNOTSUPP);
}

void
ust_group_stop(struct ust_group *g)
{
	(void)g;
}

#endif /* UST_SMP */
