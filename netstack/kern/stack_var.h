/*
 * stack_var.h - struct ust_stack, the one place all state of a stack hangs
 * from (FreeBSD's VNET without the globals): memory, zones, clock, PRNG,
 * callout wheel, interfaces, sockets, and through conf/domains.h each
 * protocol family's own state (netinet/in_stack_var.h: PCB tables, ARP,
 * routes, protocol counters).  Two stacks in a process share nothing.
 */
#ifndef _USTACK_KERN_STACK_VAR_H_
#define _USTACK_KERN_STACK_VAR_H_

#include <stdint.h>

#include <ustack/ustack.h>

#include "kern/callout.h"
#include "kern/mbuf.h"
#include "kern/sysctl.h"
#include "net/if_var.h"

/* Per-subsystem state, private to the file that owns it. */
struct so_state;  /* kern/uipc_socket.c */
struct rss_state; /* net/rss_config.h: the stack's place in a group */
struct group_thr; /* kern/kern_group.c: its thread, rings and commands */

struct ust_stack {
	struct ust_stack_config st_cfg;
	struct ust_mem st_mem; /* every byte the stack allocates */
	struct mbuf_zones st_mbz;
	struct ust_rng st_rng;
	struct callout_wheel st_wheel;
	struct ust_osal_mutex *st_lock;
	/* The clock read once per ust_stack_poll() (st_in_poll): every
	 * timestamp, RTT sample and timer of one turn uses it, as FreeBSD's
	 * code uses one `ticks` per interrupt, instead of reading the clock
	 * several times per segment. */
	uint64_t st_poll_now;
	int st_in_poll;
	/* The clock read at most once per socket call made outside a poll
	 * (stack_call_enter/exit): a send that runs tcp_output, arms timers
	 * and stamps timestamps reads it once, not once per use.  Reached
	 * through a pointer to itself so that stack_now() keeps taking a
	 * const stack. */
	struct stack_callclock {
		uint64_t now;
		uint8_t in_call; /* inside a socket call, outside a poll */
		uint8_t valid;   /* now read in this call */
	} st_clk, *st_clkp;
	/* Bumped by every change that can move a destination to another
	 * route, interface, source or MTU, or change whether an address is
	 * ours or a broadcast (routes, addresses, interfaces, path MTU): a
	 * PCB's cached route or broadcast verdict is valid while its
	 * generation equals this one (FreeBSD's inp_route with nhop
	 * generations).  Starts at 1; 0 never matches. */
	uint32_t st_route_gen;
	struct ifnet *st_ifnet[UST_MAX_IFNET];
	unsigned st_nifnet;
	/* ether_input's demultiplexing, from the domains (if_ethersubr.c) */
	struct ether_proto st_ether_protos[ETHER_NPROTO_MAX];
	unsigned st_nether_protos;
	struct ust_stack_stats st_stats;
	struct ust_knobs st_knobs; /* V(st, name) */
	struct so_state *st_so;
	struct ust_etherstat st_etherstat; /* the link layer's counters */
	/* In a group (ust_group_create): NULL for a stack made alone. */
	struct rss_state *st_rss;
	struct group_thr *st_grp;

	/* The state of the protocol families, each one's own header
	 * (netinet/in_stack_var.h ...), listed in conf/domains.h. */
#define DOMAIN_STATE
#include "conf/domains.h"
#undef DOMAIN_STATE
};

#if UST_STATS
#define ETHERSTAT_INC(st, f) ((st)->st_etherstat.f++)
#else
#define ETHERSTAT_INC(st, f) ((void)(st))
#endif

/* A seed for a stack made without one: OSAL entropy, else the clock
 * (kern_stack.c; a group seeds its stacks with it too). */
uint64_t stack_entropy_seed(void);

/* The stack of a received packet. */
#define M_STACK(m) ((m)->m_pkthdr.rcvif->if_stack)

/* Time now on the stack clock: the time of this poll turn inside
 * ust_stack_poll(), the clock itself outside. */
static inline uint64_t
stack_now(const struct ust_stack *st)
{
	struct stack_callclock *cc;

	if (st->st_in_poll)
		return (st->st_poll_now);
	cc = st->st_clkp;
	if (cc->in_call) {
		if (!cc->valid) {
			cc->now = st->st_cfg.clock.now_ns(st->st_cfg.clock.ctx);
			cc->valid = 1;
		}
		return (cc->now);
	}
	return (st->st_cfg.clock.now_ns(st->st_cfg.clock.ctx));
}

/* A socket call begins (outside a poll, not nested): its reads of the
 * clock share one.  Returns whether stack_call_exit must end it. */
static inline int
stack_call_enter(struct ust_stack *st)
{
	if (st == NULL || st->st_in_poll || st->st_clk.in_call)
		return (0);
	st->st_clk.in_call = 1;
	st->st_clk.valid = 0;
	return (1);
}

static inline void
stack_call_exit(struct ust_stack *st, int outer)
{
	if (outer)
		st->st_clk.in_call = 0;
}

/* Logging through the stack's sink. */
#if UST_LOG
#define ST_LOG(st, lvl, ...) ust_log(&(st)->st_cfg.log, (lvl), __VA_ARGS__)
#else
/* The arguments stay used (no unused-variable warnings); the message and
 * its format string fold away. */
static inline void
st_log_discard(const char *fmt, ...)
{
	(void)fmt;
}
#define ST_LOG(st, lvl, ...) ((void)(st), (void)(lvl), st_log_discard(__VA_ARGS__))
#endif

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

/*
 * Buckets for a hash table made at stack creation: the power of two at
 * or below `want` (at least 16) whose table, of `bytes` per bucket, takes
 * at most 1/32 of the stack's memory limit.  A server's defaults keep
 * FreeBSD's sizes; a stack given 24 KB on a microcontroller gets small
 * tables instead of failing (FreeBSD sizes its tables from boot-time
 * tunables the same way).
 */
static inline uint32_t
st_hash_buckets(const struct ust_stack *st, uint32_t want, size_t bytes)
{
	uint32_t n = 16;
	size_t budget = st->st_mem.limit / 32;

	while (n < want && n < (1u << 24) &&
	    (st->st_mem.limit == 0 || (size_t)(n << 1) * bytes <= budget))
		n <<= 1;
	return (n);
}

#endif /* _USTACK_KERN_STACK_VAR_H_ */
