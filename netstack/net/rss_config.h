/*
 * rss_config.h - a stack's place in a group (FreeBSD's net/rss_config.h):
 * the Toeplitz key, how many stacks share the interfaces' queues and which
 * one this is, so that the layers above can ask who owns a flow.  A stack
 * made alone has st_rss == NULL and owns everything.
 *
 * The group (kern/kern_group.c) fills it; in_pcb.c asks rss_owns_*() when it
 * picks the ephemeral port of an outgoing connection, so that the replies,
 * hashed by whoever receives them, come back to this stack.
 */
#ifndef _USTACK_NET_RSS_CONFIG_H_
#define _USTACK_NET_RSS_CONFIG_H_

#include <stdint.h>

#include <ustack/ustack_group.h>

#include "kern/stack_var.h"

struct rss_state {
	uint8_t rs_key[UST_RSS_KEYLEN];
	unsigned rs_n;                   /* stacks in the group */
	unsigned rs_self;                /* this stack's index */
	struct ust_group_stats rs_stats; /* this stack's group counters */
	struct ust_group *rs_group;
};

/* More than one stack shares the queues: ownership matters. */
static inline int
rss_active(const struct ust_stack *st)
{
	return (st->st_rss != NULL && st->st_rss->rs_n > 1);
}

/* Does this stack own the flow whose packets arrive from (src, sport) to
 * (dst, dport)?  Network byte order, as on the wire. */
static inline int
rss_owns_v4(const struct ust_stack *st, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	const struct rss_state *rs = st->st_rss;

	if (!rss_active(st))
		return (1);
	return (ust_rss_queue(ust_rss_hash_v4(rs->rs_key, src, dst, sport, dport, 1), rs->rs_n) ==
	    rs->rs_self);
}

static inline int
rss_owns_v6(const struct ust_stack *st, const struct ust_in6_addr *src,
    const struct ust_in6_addr *dst, uint16_t sport, uint16_t dport)
{
	const struct rss_state *rs = st->st_rss;

	if (!rss_active(st))
		return (1);
	return (ust_rss_queue(ust_rss_hash_v6(rs->rs_key, src, dst, sport, dport, 1), rs->rs_n) ==
	    rs->rs_self);
}

#define RSSSTAT_INC(st, f)                          \
	do {                                        \
		if ((st)->st_rss != NULL)           \
			(st)->st_rss->rs_stats.f++; \
	} while (0)

#endif /* _USTACK_NET_RSS_CONFIG_H_ */
