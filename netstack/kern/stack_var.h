/*
 * stack_var.h - struct ust_stack, the one place all state of a stack hangs
 * from (FreeBSD's VNET without the globals): memory, zones, clock, PRNG,
 * callout wheel, interfaces, and later PCB tables, ARP, routes and
 * protocol counters.  Two stacks in a process share nothing.
 */
#ifndef _USTACK_KERN_STACK_VAR_H_
#define _USTACK_KERN_STACK_VAR_H_

#include <stdint.h>

#include <ustack/ustack.h>

#include "kern/callout.h"
#include "kern/mbuf.h"
#include "net/if_var.h"

struct ust_stack {
	struct ust_stack_config st_cfg;
	struct ust_mem st_mem;            /* every byte the stack allocates */
	struct mbuf_zones st_mbz;
	struct ust_rng st_rng;
	struct callout_wheel st_wheel;
	struct ust_osal_mutex *st_lock;
	struct ifnet *st_ifnet[UST_MAX_IFNET];
	unsigned st_nifnet;
	struct ust_stack_stats st_stats;
};

/* Time now on the stack clock. */
static inline uint64_t
stack_now(const struct ust_stack *st)
{
	return (st->st_cfg.clock.now_ns(st->st_cfg.clock.ctx));
}

/* Logging through the stack's sink. */
#define ST_LOG(st, lvl, ...) ust_log(&(st)->st_cfg.log, (lvl), __VA_ARGS__)

/* Charged to the stack's memory account. */
static inline void *
st_malloc(struct ust_stack *st, size_t size)
{
	return (ust_mem_zalloc(&st->st_mem, size));
}

static inline void
st_free(struct ust_stack *st, void *p, size_t size)
{
	ust_mem_free(&st->st_mem, p, size);
}

#endif /* _USTACK_KERN_STACK_VAR_H_ */
