/*
 * kern_stack.c - the stack instance: creation from a config, the
 * run-to-completion poll loop, and teardown.
 *
 * ust_stack_poll():
 *   grp_poll_start()    (in a group: frames other stacks handed over)
 *   for each interface: if_poll_rx() -> driver rx_burst -> if_input() -> ...
 *   DOMAIN_POLL_DRAIN   (output the input and its upcalls deferred)
 *   callout_process()   (timers due on the stack clock)
 *   DOMAIN_POLL_DRAIN   (output the callouts deferred)
 *   for each interface: if_flush() -> driver tx_burst
 *   grp_poll_end()      (in a group: wake the stacks handed frames)
 *
 * All state hangs off struct ust_stack (stack_var.h); nothing is global, so
 * any number of stacks live in one process without sharing a byte.
 */
#include <stddef.h>
#include <string.h>

#include "kern/kern_group.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"

#define ST_DEFAULT_MEM_LIMIT (64u * 1024 * 1024)
#define ST_DEFAULT_NMBUFS 65536u
#define ST_DEFAULT_NMBCLUSTERS 16384u
#define ST_DEFAULT_NMBJUMBO9 1024u
#define ST_DEFAULT_TICK_NS 1000000u
#define ST_DEFAULT_IFQ_MAXLEN 1024u

#define DOMAIN_POLL_DRAIN(d, fn) void fn(struct ust_stack *st);
#include "conf/domains.h"
#undef DOMAIN_POLL_DRAIN

/* Each family's deferred output (conf/domains.h DOMAIN_POLL_DRAIN). */
static inline void
stack_poll_drain(struct ust_stack *st)
{
#define DOMAIN_POLL_DRAIN(d, fn) fn(st);
#include "conf/domains.h"
#undef DOMAIN_POLL_DRAIN
}

void
ust_stack_config_init(struct ust_stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_limit = ST_DEFAULT_MEM_LIMIT;
	cfg->nmbufs = ST_DEFAULT_NMBUFS;
	cfg->nmbclusters = ST_DEFAULT_NMBCLUSTERS;
	cfg->nmbjumbo9 = ST_DEFAULT_NMBJUMBO9;
	cfg->clock = ust_clock_monotonic();
	cfg->tick_ns = ST_DEFAULT_TICK_NS;
	cfg->rx_burst = UST_RX_BURST_MAX;
	cfg->ifq_maxlen = ST_DEFAULT_IFQ_MAXLEN;
	cfg->log.level = UST_LOG_NOTICE;
}

static int
stack_config_valid(const struct ust_stack_config *cfg)
{
	return (cfg->clock.now_ns != NULL && cfg->tick_ns != 0 && cfg->rx_burst != 0 &&
	    cfg->rx_burst <= UST_RX_BURST_MAX && cfg->ifq_maxlen != 0 && cfg->nmbufs != 0 &&
	    cfg->nmbclusters != 0);
}

/* Top down; each fini is idempotent and copes with a partial init. */
static void
stack_fini_protocols(struct ust_stack *st)
{
	sofini(st);
	domains_fini(st);
	so_zc_fini(st); /* after everything that may still free lent mbufs */
}

uint64_t
stack_entropy_seed(void)
{
	uint64_t seed;

	if (ust_osal_entropy(&seed, sizeof(seed)) != 0)
		seed = ust_osal_clock_ns(); /* no entropy source: better than a constant */
	return (seed);
}

int
ust_stack_create(const struct ust_stack_config *cfg, struct ust_stack **out)
{
	struct ust_mem mem;
	struct ust_stack *st;
	uint64_t seed;

	*out = NULL;
	if (cfg == NULL || !stack_config_valid(cfg))
		return (-UST_EINVAL);
	/* The stack's own structure is the first charge on its account. */
	ust_mem_init(&mem, cfg->mem_limit);
	st = ust_mem_zalloc(&mem, sizeof(*st));
	if (st == NULL)
		return (-UST_ENOMEM);
	st->st_mem = mem;
	st->st_cfg = *cfg;
	seed = cfg->seed_set ? cfg->seed : stack_entropy_seed();
	ust_rng_seed(&st->st_rng, seed);
	st->st_route_gen = 1;
	st->st_clkp = &st->st_clk;
	callout_wheel_init(&st->st_wheel, cfg->tick_ns, stack_now(st));
	st->st_lock = ust_osal_mutex_create();
	if (st->st_lock == NULL)
		goto fail;
	if (mbuf_zones_init(&st->st_mbz, &st->st_mem, cfg->nmbufs, cfg->nmbclusters,
	        cfg->nmbjumbo9) != 0)
		goto fail;
	sysctl_knobs_init(&st->st_knobs);
	/* Bottom up (conf/domains.h, then each domain's protocol switch);
	 * each fini undoes its init and tolerates a partial one. */
	if (domains_init(st) != 0 || soinit(st) != 0) {
		stack_fini_protocols(st);
		mbuf_zones_fini(&st->st_mbz);
		goto fail;
	}
	*out = st;
	return (0);
fail:
	ust_osal_mutex_destroy(st->st_lock);
	mem = st->st_mem;
	ust_mem_free(&mem, st, sizeof(*st));
	return (-UST_ENOMEM);
}

/* The last hold on a destroyed stack's mbuf zones went (mbuf_zones_drop):
 * buffers it lent another stack outlived it; the zones and what is left of
 * the stack go now, on whichever thread gave the last one back. */
static void
stack_free_last(struct mbuf_zones *mz)
{
	struct ust_stack *st =
	    (struct ust_stack *)(void *)((char *)mz - offsetof(struct ust_stack, st_mbz));
	struct ust_mem mem;

	mbuf_zones_fini(&st->st_mbz);
	mem = st->st_mem;
	ust_mem_free(&mem, st, sizeof(*st));
}

void
ust_stack_destroy(struct ust_stack *st)
{
	if (st == NULL)
		return;
	/* Sockets first, while the interfaces can still carry what closing
	 * them sends; then the interfaces (taking their addresses, routes and
	 * ARP entries); then the rest.  Every fini is idempotent. */
	sofini(st);
	while (st->st_nifnet > 0)
		ust_if_detach(IFP_TO_UST(st->st_ifnet[st->st_nifnet - 1]));
	stack_fini_protocols(st);
	ust_osal_mutex_destroy(st->st_lock);
	st->st_lock = NULL;
	/* The stack's own hold on its mbuf zones: buffers lent to another
	 * stack (ust_mbuf_keep, the pipe) keep the zones, and the structure
	 * holding them, until the last comes back (stack_free_last). */
	st->st_mbz.mz_last = stack_free_last;
	mbuf_zones_drop(&st->st_mbz);
}

int
ust_stack_poll(struct ust_stack *st)
{
	unsigned i;
	int work = 0;
	uint64_t ran;

	ust_osal_mutex_lock(st->st_lock);
	st->st_stats.polls++;
	st->st_poll_now = st->st_cfg.clock.now_ns(st->st_cfg.clock.ctx);
	st->st_in_poll = 1;
#if UST_SMP
	if (st->st_rss != NULL) {
		grp_owner_set(st); /* upcalls' socket calls hold the lock already */
		work += grp_poll_start(st);
	}
#endif
	for (i = 0; i < st->st_nifnet; i++)
		work += if_poll_rx(st->st_ifnet[i], st->st_cfg.rx_burst);
	/* The output the burst deferred (one tcp_output per connection it
	 * touched, netinet/tcp_outq.c), before the timers, as when input sent
	 * at once. */
	stack_poll_drain(st);
	ran = callout_process(&st->st_wheel, stack_now(st));
	st->st_stats.callouts_run += ran;
	work += (int)ran;
	/* And what the callouts deferred (segments looped back from a
	 * callout, the sends of their upcalls). */
	stack_poll_drain(st);
	for (i = 0; i < st->st_nifnet; i++)
		work += if_flush(st->st_ifnet[i]);
	/* Zero-copy sends this poll completed (their callbacks may send;
	 * as upcalls, inside the poll: the owner's socket calls do not lock). */
	if (so_zc_owed(st->st_so))
		so_zc_drain(st);
#if UST_SMP
	if (st->st_rss != NULL) {
		grp_poll_end(st);
		grp_owner_clear(st);
	}
#endif
	st->st_in_poll = 0;
	ust_osal_mutex_unlock(st->st_lock);
	return (work);
}

uint64_t
ust_stack_now(const struct ust_stack *st)
{
	return (stack_now(st));
}

uint64_t
ust_stack_next_deadline(struct ust_stack *st)
{
	uint64_t next, t;
	unsigned i;

	/* Drivers read receive-side state here (the pipe's delay heap), which
	 * poll changes under the same lock. */
	ust_osal_mutex_lock(st->st_lock);
	next = callout_next_deadline(&st->st_wheel);
#if UST_SMP
	/* Frames another stack of the group handed over: poll now. */
	if (st->st_rss != NULL && grp_input_pending(st))
		next = stack_now(st);
#endif
	for (i = 0; i < st->st_nifnet; i++) {
		struct ifnet *ifp = st->st_ifnet[i];

		/* Frames still queued for a driver that refused them: retry now. */
		if (ifp->if_snd.ifq_len > 0) {
			next = stack_now(st);
			break;
		}
		if (ifp->if_ops->next_deadline == NULL)
			continue;
		t = ifp->if_ops->next_deadline(ifp->if_softc);
		if (t < next)
			next = t;
	}
	ust_osal_mutex_unlock(st->st_lock);
	return (next);
}

void
ust_stack_lock(struct ust_stack *st)
{
#if UST_SMP
	if (st->st_grp != NULL) {
		grp_lock(st);
		return;
	}
#endif
	ust_osal_mutex_lock(st->st_lock);
}

/* In a group, unlocking also wakes the stack's sleeping thread when the
 * caller left it work (kern_group_thread.c). */
void
ust_stack_unlock(struct ust_stack *st)
{
#if UST_SMP
	if (st->st_grp != NULL) {
		grp_unlock(st);
		return;
	}
#endif
	ust_osal_mutex_unlock(st->st_lock);
}

uint64_t
ust_stack_random(struct ust_stack *st)
{
	return (ust_rng_u64(&st->st_rng));
}

void
ust_stack_get_mem(const struct ust_stack *st, struct ust_mem *out)
{
	*out = st->st_mem;
}

#define ST_MAX_ZONES 32

/* Each domain's zone lister (conf/domains.h), named here only, so that
 * it links only into programs that ask for zone statistics. */
#define DOMAIN_ZONES(d, fn) \
	unsigned fn(const struct ust_stack *st, const struct ust_zone **zones, unsigned max);
#include "conf/domains.h"
#undef DOMAIN_ZONES

int
ust_stack_get_zone_stats(const struct ust_stack *st, unsigned idx, struct ust_zone_stats *out)
{
	/* The mbuf zones first (their order is relied on), sockets, then
	 * the zones each protocol fills (syncache entries, SACK holes, PCBs:
	 * those a flood, a loss storm or many connections exhaust). */
	const struct ust_zone *zones[ST_MAX_ZONES] = { st->st_mbz.mz_mbuf, st->st_mbz.mz_clust,
		st->st_mbz.mz_jumbo, st->st_so != NULL ? st->st_so->ss_zone : NULL };
	unsigned i, n = 4, k = 0;

#define DOMAIN_ZONES(d, fn) n += fn(st, zones + n, ST_MAX_ZONES - n);
#include "conf/domains.h"
#undef DOMAIN_ZONES
	if (n < ST_MAX_ZONES)
		zones[n++] = so_zc_zone(st); /* zero-copy sends in flight */
	for (i = 0; i < n; i++) {
		if (zones[i] == NULL)
			continue;
		if (k++ == idx) {
			ust_zone_get_stats(zones[i], out);
			return (0);
		}
	}
	return (-UST_ENOENT);
}

void
ust_stack_get_stats(const struct ust_stack *st, struct ust_stack_stats *out)
{
	*out = st->st_stats;
	out->nombuf = st->st_mbz.mz_nombuf;
	out->nocluster = st->st_mbz.mz_nocluster;
}

#if UST_STATS
int
ust_stats_describe(unsigned idx, struct ust_stat_desc *out)
{
	const struct domain *dp;
	unsigned d;

	/* The link layer's counters, then each domain's (conf/domains.h). */
	if (idx < ether_nstats) {
		*out = ether_stats[idx];
		return (0);
	}
	idx -= ether_nstats;
	for (d = 0; (dp = domain_at(d)) != NULL; d++) {
		if (idx < dp->dom_nstats) {
			*out = dp->dom_stats[idx];
			return (0);
		}
		idx -= dp->dom_nstats;
	}
	return (-UST_ENOENT);
}
#else
int
ust_stats_describe(unsigned idx, struct ust_stat_desc *out)
{
	(void)idx, (void)out;
	return (-UST_EOPNOTSUPP);
}
#endif
