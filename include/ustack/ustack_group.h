/*
 * ustack_group.h - many cores: a group of stacks, one per thread, each
 * owning queue i of every multi-queue interface (FreeBSD's RSS model,
 * F-Stack's process per core), flows steered by a Toeplitz hash, and the
 * ways application threads reach a stack.  docs/multicore.md is the guide
 * (the picture, which state is per stack and which is shared, and why).
 *
 *   NIC/TAP queue i --rx--> stack i --[hash owner j != i]--> SPSC ring i->j
 *                                                              -> stack j
 *
 * Each stack of a group is an ordinary struct ust_stack: its own PCBs,
 * syncache, timers, zones and counters (summed on read by
 * ust_group_stats_*).  Configuration (addresses, routes, static ARP/ND
 * entries, sysctl knobs) is applied to every stack by the ust_group_*
 * calls below, so the stacks agree on it; ARP and ND state is replicated:
 * every ARP and ND frame a stack receives is also copied to every other
 * stack, which learns from it without answering (see docs/multicore.md).
 */
#ifndef USTACK_GROUP_H
#define USTACK_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * RSS: the Toeplitz hash (Microsoft's RSS specification, FreeBSD's
 * net/toeplitz.c) and the queue a hash selects.  Available in every
 * build (drivers that emulate a NIC's RSS use them).
 * ------------------------------------------------------------------- */

#define UST_RSS_KEYLEN 40     /* bytes of the secret key */
#define UST_RSS_RETA_SIZE 128 /* indirection table entries: hash & 127 */

/* Hash types, as a NIC reports them (FreeBSD M_HASHTYPE_RSS_*). */
#define UST_RSS_NONE 0     /* not hashed (not IP, or the driver gave none) */
#define UST_RSS_IPV4 1     /* source and destination address */
#define UST_RSS_TCP_IPV4 2 /* addresses and ports */
#define UST_RSS_UDP_IPV4 3
#define UST_RSS_IPV6 4
#define UST_RSS_TCP_IPV6 5
#define UST_RSS_UDP_IPV6 6

/* The key every NIC ships with and the RSS specification's verification
 * suite uses (6d5a56da...). */
UST_API void ust_rss_default_key(uint8_t key[UST_RSS_KEYLEN]);
/* Toeplitz hash of len bytes of data under key (keylen >= len + 4). */
UST_API uint32_t ust_toeplitz_hash(const uint8_t *key, size_t keylen, const void *data, size_t len);
/* The hash a receiver computes for a packet from src to dst (addresses
 * and ports in network byte order, as on the wire): over source address,
 * destination address, source port, destination port; with_ports 0 hashes
 * the addresses only. */
UST_API uint32_t ust_rss_hash_v4(const uint8_t key[UST_RSS_KEYLEN], uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport, int with_ports);
UST_API uint32_t ust_rss_hash_v6(const uint8_t key[UST_RSS_KEYLEN], const struct ust_in6_addr *src,
    const struct ust_in6_addr *dst, uint16_t sport, uint16_t dport, int with_ports);
/* The hash of an Ethernet II frame (an optional 802.1Q tag skipped):
 * TCP and UDP over IPv4 and IPv6 by their 4-tuple; IP fragments, other
 * IP protocols and IPv6 with extension headers by their addresses.  Returns the UST_RSS_*
 * type (UST_RSS_NONE for non-IP or a truncated header: *hash is then 0). */
UST_API int ust_rss_hash_frame(const uint8_t key[UST_RSS_KEYLEN], const void *frame, size_t len,
    uint32_t *hash);
/* The queue of n that a hash selects: the indirection table entry
 * hash % UST_RSS_RETA_SIZE, filled round robin (entry e -> queue e % n). */
static inline unsigned
ust_rss_queue(uint32_t hash, unsigned n)
{
	return (n > 1 ? (hash % UST_RSS_RETA_SIZE) % n : 0u);
}

/* ---------------------------------------------------------------------
 * The group.
 * ------------------------------------------------------------------- */

#define UST_GROUP_MAX 64 /* stacks in one group */

struct ust_group;
struct ust_driver_ops;

struct ust_group_config {
	/* Stacks (and threads), 1..UST_GROUP_MAX.  Default 1. */
	unsigned nstacks;
	/* The configuration every stack is created with.  With seed_set,
	 * stack i is seeded with seed + i (still replayable, not
	 * identical).  Default: ust_stack_config_init(). */
	struct ust_stack_config stack;
	/* The Toeplitz key; default (rss_key_set 0) ust_rss_default_key(). */
	uint8_t rss_key[UST_RSS_KEYLEN];
	int rss_key_set;
	/* 1 (default): ust_group_start() runs each stack's poll loop on a
	 * thread of its own.  0: no threads; the caller polls each stack
	 * (ust_stack_poll), which also drains its hand-off rings; for
	 * virtual clocks, simulations and benchmarks that place stacks on
	 * threads themselves. */
	int threads;
	/* With threads: pin stack i's thread to CPU cpus[i] (when pin is 1),
	 * or to CPU i modulo the CPUs online (cpus[i] < 0).  Default 0 (the
	 * scheduler's choice). */
	int pin;
	int cpus[UST_GROUP_MAX];
	/* With threads: 0 (default) a thread with nothing to do sleeps until
	 * a driver's descriptor is readable, a hand-off arrives, an
	 * application call wakes it or the next timer is due; 1 spins
	 * (kernel-bypass NICs without descriptors: DPDK). */
	int busy_poll;
	/* Slots of each hand-off ring (one per ordered pair of stacks), a
	 * power of two.  A frame for a stack whose ring is full is dropped
	 * and counted (rss_ring_full).  Default 1024. */
	uint32_t ring_size;
};

/* Per stack, or summed over the group (ust_group_get_stats). */
struct ust_group_stats {
	uint64_t rss_local;       /* frames that arrived on their owner's queue */
	uint64_t rss_steered_out; /* frames that arrived here and were handed to their owner */
	uint64_t rss_steered_in;  /* frames handed here from another stack's queue */
	uint64_t rss_ring_full;   /* hand-offs dropped: the owner's ring was full */
	uint64_t rss_replicated;  /* ARP/ND frames copied to the other stacks */
	uint64_t rss_copies_in;   /* ARP/ND copies received (learned from, not answered) */
	uint64_t lport_tries;     /* ephemeral ports tried so that a connection's
	                          * replies hash back to its stack (connect) */
	uint64_t exec_calls;      /* ust_stack_exec() commands run on the thread */
	uint64_t wakeups;         /* times the thread was woken from sleep */
	uint64_t sleeps;          /* times the thread went to sleep */
};

UST_API void ust_group_config_init(struct ust_group_config *cfg);
/* 0, or -UST_EINVAL (bad config), -UST_ENOMEM, -UST_EOPNOTSUPP (a build
 * without UST_SMP, or an OSAL without threads when threads is 1). */
UST_API int ust_group_create(const struct ust_group_config *cfg, struct ust_group **out);
/* Stops the threads, then destroys every stack (and so detaches every
 * interface).  Drivers are closed by their owner after this. */
UST_API void ust_group_destroy(struct ust_group *g);
UST_API unsigned ust_group_size(const struct ust_group *g);
UST_API struct ust_stack *ust_group_stack(struct ust_group *g, unsigned i);
/* The group of a stack (NULL for a stack made by ust_stack_create) and
 * its index in it. */
UST_API struct ust_group *ust_stack_group(const struct ust_stack *st);
UST_API unsigned ust_stack_group_index(const struct ust_stack *st);

/* One multi-queue interface: softcs[i] (queue i of the device) is attached
 * as interface `name` of stack i, for every stack; ifps (may be NULL)
 * receives the n interfaces.  Frames are steered among them by hash.  All
 * queues must report the same MAC and MTU.  Attach before start. */
UST_API int ust_group_if_attach(struct ust_group *g, const char *name,
    const struct ust_driver_ops *ops, void *const *softcs, struct ust_if **ifps);
/* Interface `name` of stack i. */
UST_API struct ust_if *ust_group_if(struct ust_group *g, unsigned i, const char *name);

/* Starts one thread per stack (threads = 1); -UST_EALREADY if running.
 * From then on any other thread reaches a stack only as described under
 * "Application threads" below. */
UST_API int ust_group_start(struct ust_group *g);
/* Stops and joins the threads; the stacks stay, idle. */
UST_API void ust_group_stop(struct ust_group *g);

/* Shared configuration: applied to every stack, each under its lock, in
 * index order; the first error stops it and is returned.  Callable
 * before or after start, from any thread. */
UST_API int ust_group_foreach(struct ust_group *g,
    int (*fn)(struct ust_stack *st, unsigned i, void *arg), void *arg);
UST_API int ust_group_if_addr_add(struct ust_group *g, const char *ifname, uint32_t addr,
    unsigned prefixlen);
UST_API int ust_group_if_addr6_add(struct ust_group *g, const char *ifname,
    const struct ust_in6_addr *addr, unsigned prefixlen, unsigned flags);
UST_API int ust_group_route_add(struct ust_group *g, uint32_t dst, unsigned prefixlen,
    uint32_t gateway, const char *ifname);
UST_API int ust_group_route6_add(struct ust_group *g, const struct ust_in6_addr *dst,
    unsigned prefixlen, const struct ust_in6_addr *gateway, const char *ifname);
UST_API int ust_group_arp_add_static(struct ust_group *g, const char *ifname, uint32_t addr,
    const uint8_t mac[6]);
UST_API int ust_group_nd6_add_static(struct ust_group *g, const char *ifname,
    const struct ust_in6_addr *addr, const uint8_t mac[6]);
UST_API int ust_group_sysctl_set(struct ust_group *g, const char *name, int64_t value);

/* Counters.  i < size: stack i's; UST_GROUP_ALL: the sum. */
#define UST_GROUP_ALL UINT32_MAX
UST_API void ust_group_get_stats(struct ust_group *g, unsigned i, struct ust_group_stats *out);
/* The protocol counters of ustack_stats.h summed over every stack (each
 * read under its stack's lock). */
struct ust_tcpstat;
struct ust_etherstat;
struct ust_arpstat;
struct ust_ipstat;
struct ust_icmpstat;
struct ust_udpstat;
struct ust_ip6stat;
struct ust_icmp6stat;
UST_API void ust_group_stats_ether(struct ust_group *g, struct ust_etherstat *out);
UST_API void ust_group_stats_arp(struct ust_group *g, struct ust_arpstat *out);
UST_API void ust_group_stats_ip(struct ust_group *g, struct ust_ipstat *out);
UST_API void ust_group_stats_icmp(struct ust_group *g, struct ust_icmpstat *out);
UST_API void ust_group_stats_udp(struct ust_group *g, struct ust_udpstat *out);
UST_API void ust_group_stats_tcp(struct ust_group *g, struct ust_tcpstat *out);
UST_API void ust_group_stats_ip6(struct ust_group *g, struct ust_ip6stat *out);
UST_API void ust_group_stats_icmp6(struct ust_group *g, struct ust_icmp6stat *out);
UST_API void ust_group_stack_stats(struct ust_group *g, struct ust_stack_stats *out);

/* ---------------------------------------------------------------------
 * Application threads.
 *
 * A stack whose thread runs (ust_group_start) may be called from any
 * other thread in one of two ways (docs/multicore.md measures both):
 *
 *  - the stack lock: ust_stack_lock(st); any ust_* calls on st and its
 *    sockets; ust_stack_unlock(st).  The stack's thread holds the same
 *    lock while it polls; unlocking wakes the thread when the calls left
 *    work for it (a segment queued for transmission), so a send leaves at
 *    once and not at the next timer.
 *  - the command ring: ust_stack_exec(st, fn, arg) queues fn to the
 *    stack's thread, which runs fn(st, arg) between two polls, and waits
 *    for it; fn may make any ust_* call on st.  Calls of one thread run
 *    in order.  On a stack without a running thread fn runs at once in
 *    the caller, under the stack lock.
 *
 * Never call either from the stack's own thread (inside an upcall).
 * ------------------------------------------------------------------- */

UST_API int ust_stack_exec(struct ust_stack *st, int (*fn)(struct ust_stack *st, void *arg),
    void *arg);
/* 1 when st's poll loop runs on a thread of its own. */
UST_API int ust_stack_threaded(const struct ust_stack *st);

/* Waits (without the stack lock held by the caller) until so has one of
 * events (UST_EV_*; ERR and HUP always count) or timeout_ns passes
 * (negative: no limit).  Returns 1 with *revents set, 0 on timeout, or
 * -UST_E*.  On a threaded stack it sleeps until the stack's thread
 * reports readiness; otherwise it polls the stack itself, as
 * ust_evq_wait does. */
UST_API int ust_socket_wait(struct ust_socket *so, uint32_t events, int64_t timeout_ns,
    uint32_t *revents);

/* One event queue for sockets of every stack of g: ust_evq_ctl accepts a
 * socket of any of them, and ust_evq_poll / ust_evq_wait report their
 * events together.  Unlike a one-stack queue, every call on it is made
 * without any stack lock held: it takes each stack's lock itself.  Each
 * stack's thread wakes the waiter; nothing is shared on the stacks'
 * packet path. */
UST_API int ust_group_evq_create(struct ust_group *g, struct ust_evq **out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_GROUP_H */
