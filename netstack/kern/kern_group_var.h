/*
 * kern_group_var.h - the group's private structures, shared by
 * kern/kern_group.c (the group, its interfaces, steering, configuration,
 * counters) and kern/kern_group_thread.c (threads, the lock kick and the
 * command queue).
 *
 * Rings.  For every ordered pair (i, j), i != j:
 *   g_fwd[i * n + j]  frames stack i received that stack j owns (i pushes
 *                     its own mbufs; j pops, copies into its own zones)
 *   g_ret[i * n + j]  the same mbufs given back by j for i to free
 * j takes a frame from g_fwd[i][j] only while g_ret[i][j] has room for the
 * original, so nothing is ever held back or freed on a foreign stack.
 */
#ifndef _USTACK_KERN_GROUP_VAR_H_
#define _USTACK_KERN_GROUP_VAR_H_

#include <stdatomic.h>
#include <stdint.h>

#include <ustack/ustack_group.h>

#include "kern/kern_group.h"
#include "kern/kern_spsc.h"
#include "kern/stack_var.h"
#include "net/rss_config.h"

/* One ust_stack_exec() call, on its caller's stack while it waits. */
struct grp_cmd {
	int (*gc_fn)(struct ust_stack *st, void *arg);
	void *gc_arg;
	int gc_rc;
	_Atomic int gc_done; /* set under gt_cmd_mtx; the caller may spin on it */
	struct grp_cmd *gc_next;
};

/* A stack's place in the group: its rss_state (st->st_rss), thread,
 * waiter and command queue (st->st_grp). */
struct group_thr {
	struct ust_group *gt_group;
	struct ust_stack *gt_stack;
	unsigned gt_index;
	struct rss_state gt_rss;
	/* Owners this poll handed frames to: woken at its end (stack lock). */
	uint64_t gt_kick;
	/* The thread. */
	struct ust_osal_thread *gt_thread;
	struct ust_osal_waiter *gt_waiter; /* threads = 1 only */
	_Atomic int gt_running;            /* ust_stack_threaded() */
	_Atomic int gt_stop;
	_Atomic int gt_sleeping;    /* about to sleep or sleeping: wake it */
	_Atomic int gt_lockwait;    /* application threads waiting for the lock */
	uint64_t gt_sleep_deadline; /* what it sleeps until (stack lock) */
	/* ust_stack_exec() commands. */
	struct ust_osal_mutex *gt_cmd_mtx;
	struct ust_osal_cond *gt_cmd_cv;
	struct grp_cmd *gt_cmd_head; /* FIFO, under gt_cmd_mtx */
	struct grp_cmd **gt_cmd_tailp;
	int gt_cmd_accept; /* the thread takes commands (under gt_cmd_mtx) */
	_Atomic uint32_t gt_cmd_pending;
	/* Thread counters (struct ust_group_stats), read without the lock. */
	_Atomic uint64_t gt_exec_calls;
	_Atomic uint64_t gt_wakeups;
	_Atomic uint64_t gt_sleeps;
};

/* A multi-queue interface: queue i is interface gi_ifp[i] of stack i. */
struct grp_if {
	char gi_name[IFNAMSIZ];
	struct ifnet *gi_ifp[UST_GROUP_MAX];
};

struct ust_group {
	struct ust_group_config g_cfg;
	unsigned g_n;
	int g_started; /* start/stop: the application serialises them */
	struct group_thr *g_thr;
	struct spsc *g_fwd; /* [from * n + to] */
	struct spsc *g_ret; /* [origin * n + holder] */
	void **g_slots;
	size_t g_nslots;
	struct grp_if g_if[UST_MAX_IFNET];
	unsigned g_nif;
};

static inline struct group_thr *
grp_thr(const struct ust_stack *st)
{
	return (st->st_grp);
}

/* kern_group_thread.c */
int grp_threads_init(struct ust_group *g);
void grp_threads_fini(struct ust_group *g);
/* Wakes stack j's thread if it sleeps (or is about to). */
void grp_wake(struct group_thr *gt);

#endif /* _USTACK_KERN_GROUP_VAR_H_ */
