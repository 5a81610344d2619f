/*
 * kern_group_config.c - what a group of stacks shares (ustack_group.h,
 * docs/multicore.md "What is per stack and what is shared"): configuration
 * applied to every stack, each under its lock, in index order
 * (ust_group_foreach and the address, route, ARP, ND and sysctl calls), and
 * the counters: the group's own per stack (struct ust_group_stats) and the
 * protocol counters of ustack_stats.h summed field by field.
 */
#include <string.h>

#include <ustack/ustack_stats.h>

#include "kern/kern_group_var.h"

#if UST_SMP

/* ---------------------------------------------------------------------
 * Shared configuration.
 * ------------------------------------------------------------------- */

int
ust_group_foreach(struct ust_group *g, int (*fn)(struct ust_stack *st, unsigned i, void *arg),
    void *arg)
{
	struct ust_stack *st;
	unsigned i;
	int error;

	if (g == NULL || fn == NULL)
		return (-UST_EINVAL);
	for (i = 0; i < g->g_n; i++) {
		st = g->g_thr[i].gt_stack;
		ust_stack_lock(st);
		error = fn(st, i, arg);
		ust_stack_unlock(st);
		if (error != 0)
			return (error);
	}
	return (0);
}

struct grp_cfgarg {
	const char *ifname;
	uint32_t addr, gateway;
	const struct ust_in6_addr *addr6, *gateway6;
	const uint8_t *mac;
	unsigned prefixlen, flags;
	const char *name;
	int64_t value;
};

static int
grp_ifname(struct ust_stack *st, const char *name, struct ust_if **ifp)
{
	*ifp = NULL;
	if (name == NULL)
		return (0);
	*ifp = ust_if_by_name(st, name);
	return (*ifp == NULL ? -UST_ENODEV : 0);
}

static int
grp_do_addr(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if (a->ifname == NULL)
		return (-UST_EINVAL);
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_if_addr_add(ifp, a->addr, a->prefixlen));
}

static int
grp_do_addr6(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if (a->ifname == NULL)
		return (-UST_EINVAL);
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_if_addr6_add(ifp, a->addr6, a->prefixlen, a->flags));
}

static int
grp_do_route(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_route_add(st, a->addr, a->prefixlen, a->gateway, ifp));
}

static int
grp_do_route6(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_route6_add(st, a->addr6, a->prefixlen, a->gateway6, ifp));
}

static int
grp_do_arp(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if (a->ifname == NULL)
		return (-UST_EINVAL);
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_arp_add_static(ifp, a->addr, a->mac));
}

static int
grp_do_nd6(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;
	struct ust_if *ifp;
	int error;

	(void)i;
	if (a->ifname == NULL)
		return (-UST_EINVAL);
	if ((error = grp_ifname(st, a->ifname, &ifp)) != 0)
		return (error);
	return (ust_nd6_add_static(ifp, a->addr6, a->mac));
}

static int
grp_do_sysctl(struct ust_stack *st, unsigned i, void *arg)
{
	struct grp_cfgarg *a = arg;

	(void)i;
	return (ust_sysctl_set(st, a->name, a->value));
}

int
ust_group_if_addr_add(struct ust_group *g, const char *ifname, uint32_t addr, unsigned prefixlen)
{
	struct grp_cfgarg a = { .ifname = ifname, .addr = addr, .prefixlen = prefixlen };

	return (ust_group_foreach(g, grp_do_addr, &a));
}

int
ust_group_if_addr6_add(struct ust_group *g, const char *ifname, const struct ust_in6_addr *addr,
    unsigned prefixlen, unsigned flags)
{
	struct grp_cfgarg a = { .ifname = ifname,
		.addr6 = addr,
		.prefixlen = prefixlen,
		.flags = flags };

	return (ust_group_foreach(g, grp_do_addr6, &a));
}

int
ust_group_route_add(struct ust_group *g, uint32_t dst, unsigned prefixlen, uint32_t gateway,
    const char *ifname)
{
	struct grp_cfgarg a = { .ifname = ifname,
		.addr = dst,
		.prefixlen = prefixlen,
		.gateway = gateway };

	return (ust_group_foreach(g, grp_do_route, &a));
}

int
ust_group_route6_add(struct ust_group *g, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, const char *ifname)
{
	struct grp_cfgarg a = { .ifname = ifname,
		.addr6 = dst,
		.prefixlen = prefixlen,
		.gateway6 = gateway };

	return (ust_group_foreach(g, grp_do_route6, &a));
}

int
ust_group_arp_add_static(struct ust_group *g, const char *ifname, uint32_t addr,
    const uint8_t mac[6])
{
	struct grp_cfgarg a = { .ifname = ifname, .addr = addr, .mac = mac };

	return (ust_group_foreach(g, grp_do_arp, &a));
}

int
ust_group_nd6_add_static(struct ust_group *g, const char *ifname, const struct ust_in6_addr *addr,
    const uint8_t mac[6])
{
	struct grp_cfgarg a = { .ifname = ifname, .addr6 = addr, .mac = mac };

	return (ust_group_foreach(g, grp_do_nd6, &a));
}

int
ust_group_sysctl_set(struct ust_group *g, const char *name, int64_t value)
{
	struct grp_cfgarg a = { .name = name, .value = value };

	return (ust_group_foreach(g, grp_do_sysctl, &a));
}

/* ---------------------------------------------------------------------
 * Counters.
 * ------------------------------------------------------------------- */

static void
grp_stats_one(struct group_thr *gt, struct ust_group_stats *out)
{
	ust_stack_lock(gt->gt_stack);
	*out = gt->gt_rss.rs_stats;
	ust_stack_unlock(gt->gt_stack);
	out->exec_calls = atomic_load_explicit(&gt->gt_exec_calls, memory_order_relaxed);
	out->wakeups = atomic_load_explicit(&gt->gt_wakeups, memory_order_relaxed);
	out->sleeps = atomic_load_explicit(&gt->gt_sleeps, memory_order_relaxed);
}

/* Every counter struct is uint64_t fields only (ustack_stats.h): summed
 * field by field as arrays. */
static void
grp_sum(uint64_t *acc, const uint64_t *v, size_t bytes)
{
	size_t i;

	for (i = 0; i < bytes / sizeof(uint64_t); i++)
		acc[i] += v[i];
}

_Static_assert(sizeof(struct ust_group_stats) % sizeof(uint64_t) == 0, "uint64_t fields");
_Static_assert(sizeof(struct ust_stack_stats) % sizeof(uint64_t) == 0, "uint64_t fields");

void
ust_group_get_stats(struct ust_group *g, unsigned i, struct ust_group_stats *out)
{
	struct ust_group_stats one;
	unsigned k;

	memset(out, 0, sizeof(*out));
	if (i != UST_GROUP_ALL) {
		if (i < g->g_n)
			grp_stats_one(&g->g_thr[i], out);
		return;
	}
	for (k = 0; k < g->g_n; k++) {
		grp_stats_one(&g->g_thr[k], &one);
		grp_sum((uint64_t *)(void *)out, (const uint64_t *)(const void *)&one, sizeof(one));
	}
}

/* Sums fn's struct of `bytes` over the stacks, each read under its lock. */
#define GRP_STATS_SUM(g, out, fn)                                                                 \
	do {                                                                                      \
		__typeof__(*(out)) one_;                                                          \
		unsigned k_;                                                                      \
		_Static_assert(sizeof(one_) % sizeof(uint64_t) == 0, "uint64_t fields");          \
		memset((out), 0, sizeof(*(out)));                                                 \
		for (k_ = 0; k_ < (g)->g_n; k_++) {                                               \
			struct ust_stack *st_ = (g)->g_thr[k_].gt_stack;                          \
			ust_stack_lock(st_);                                                      \
			fn(st_, &one_);                                                           \
			ust_stack_unlock(st_);                                                    \
			grp_sum((uint64_t *)(void *)(out), (const uint64_t *)(const void *)&one_, \
			    sizeof(one_));                                                        \
		}                                                                                 \
	} while (0)

void
ust_group_stats_ether(struct ust_group *g, struct ust_etherstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_ether);
}

void
ust_group_stats_arp(struct ust_group *g, struct ust_arpstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_arp);
}

void
ust_group_stats_ip(struct ust_group *g, struct ust_ipstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_ip);
}

void
ust_group_stats_icmp(struct ust_group *g, struct ust_icmpstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_icmp);
}

void
ust_group_stats_udp(struct ust_group *g, struct ust_udpstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_udp);
}

void
ust_group_stats_tcp(struct ust_group *g, struct ust_tcpstat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_tcp);
}

void
ust_group_stats_ip6(struct ust_group *g, struct ust_ip6stat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_ip6);
}

void
ust_group_stats_icmp6(struct ust_group *g, struct ust_icmp6stat *out)
{
	GRP_STATS_SUM(g, out, ust_stats_icmp6);
}

void
ust_group_stack_stats(struct ust_group *g, struct ust_stack_stats *out)
{
	GRP_STATS_SUM(g, out, ust_stack_get_stats);
}

#else /* !UST_SMP */

int
ust_group_foreach(struct ust_group *g, int (*fn)(struct ust_stack *st, unsigned i, void *arg),
    void *arg)
{
	(void)g, (void)fn, (void)arg;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_if_addr_add(struct ust_group *g, const char *ifname, uint32_t addr, unsigned prefixlen)
{
	(void)g, (void)ifname, (void)addr, (void)prefixlen;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_if_addr6_add(struct ust_group *g, const char *ifname, const struct ust_in6_addr *addr,
    unsigned prefixlen, unsigned flags)
{
	(void)g, (void)ifname, (void)addr, (void)prefixlen, (void)flags;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_route_add(struct ust_group *g, uint32_t dst, unsigned prefixlen, uint32_t gateway,
    const char *ifname)
{
	(void)g, (void)dst, (void)prefixlen, (void)gateway, (void)ifname;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_route6_add(struct ust_group *g, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, const char *ifname)
{
	(void)g, (void)dst, (void)prefixlen, (void)gateway, (void)ifname;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_arp_add_static(struct ust_group *g, const char *ifname, uint32_t addr,
    const uint8_t mac[6])
{
	(void)g, (void)ifname, (void)addr, (void)mac;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_nd6_add_static(struct ust_group *g, const char *ifname, const struct ust_in6_addr *addr,
    const uint8_t mac[6])
{
	(void)g, (void)ifname, (void)addr, (void)mac;
	return (-UST_EOPNOTSUPP);
}

int
ust_group_sysctl_set(struct ust_group *g, const char *name, int64_t value)
{
	(void)g, (void)name, (void)value;
	return (-UST_EOPNOTSUPP);
}

void
ust_group_get_stats(struct ust_group *g, unsigned i, struct ust_group_stats *out)
{
	(void)g, (void)i;
	memset(out, 0, sizeof(*out));
}

#define GRP_STATS_NONE(name, type)                       \
	void name(struct ust_group *g, struct type *out) \
	{                                                \
		(void)g;                                 \
		memset(out, 0, sizeof(*out));            \
	}
GRP_STATS_NONE(ust_group_stats_ether, ust_etherstat)
GRP_STATS_NONE(ust_group_stats_arp, ust_arpstat)
GRP_STATS_NONE(ust_group_stats_ip, ust_ipstat)
GRP_STATS_NONE(ust_group_stats_icmp, ust_icmpstat)
GRP_STATS_NONE(ust_group_stats_udp, ust_udpstat)
GRP_STATS_NONE(ust_group_stats_tcp, ust_tcpstat)
GRP_STATS_NONE(ust_group_stats_ip6, ust_ip6stat)
GRP_STATS_NONE(ust_group_stats_icmp6, ust_icmp6stat)
GRP_STATS_NONE(ust_group_stack_stats, ust_stack_stats)
#undef GRP_STATS_NONE

#endif /* UST_SMP */
