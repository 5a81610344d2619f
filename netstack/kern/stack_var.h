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
#include "kern/sysctl.h"
#include "net/if_var.h"

/* Per-subsystem state, private to the file that owns it. */
struct arp_table;      /* netinet/if_ether.c */
struct rt_table;       /* net/route.c */
struct ipq_state;      /* netinet/ip_reass.c */
struct icmp_state;     /* netinet/ip_icmp.c */
struct inpcbinfo;      /* netinet/in_pcb.c */
struct so_state;       /* kern/uipc_socket.c */
struct in_ifaddr;      /* netinet/in_var.h */
struct tcp_state;      /* netinet/tcp_subr.c */
struct syncache_state; /* netinet/tcp_syncache.c */
struct cc_algo;        /* netinet/cc/cc.h */

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
	struct ifnet *st_ifnet[UST_MAX_IFNET];
	unsigned st_nifnet;
	struct ust_stack_stats st_stats;
	struct ust_knobs st_knobs; /* V(st, name) */

	struct in_ifaddr *st_in_ifaddrs; /* every IPv4 address of the stack */
	struct rt_table *st_rt;
	struct arp_table *st_arp;
	struct ipq_state *st_ipq;
	struct icmp_state *st_icmp;
	struct inpcbinfo *st_udbinfo;       /* UDP PCBs */
	struct inpcbinfo *st_tcbinfo;       /* TCP PCBs */
	struct inpcbinfo *st_ripcbinfo;     /* raw IP PCBs (raw_ip.c) */
	struct tcp_state *st_tcp;           /* TCP per-stack state (tcp_subr.c) */
	struct syncache_state *st_syncache; /* tcp_syncache.c */
	struct ust_zone *st_sackhole_zone;  /* tcp_sack.c: sackhole, globalmaxholes */
	uint32_t st_sackholes;              /* holes in use (tcp_sack.c) */
	/* net.inet.tcp.cc.algorithm; NULL: the built-in default (cc.c) */
	const struct cc_algo *st_cc_default;
	struct so_state *st_so;
	uint16_t st_ip_id; /* next IPv4 identification */
	/* IP protocol number -> inetsw index + 1, 0: none (in_proto.c) */
	uint8_t st_ip_protox[256];

	/* Counters (netstat -s). */
	struct ust_etherstat st_etherstat;
	struct ust_arpstat st_arpstat;
	struct ust_ipstat st_ipstat;
	struct ust_icmpstat st_icmpstat;
	struct ust_udpstat st_udpstat;
	struct ust_tcpstat st_tcpstat;

	/* The state of the domains registered after netinet. */
#define DOMAIN_STATE
#include "conf/domains.h"
#undef DOMAIN_STATE
};

#define ETHERSTAT_INC(st, f) ((st)->st_etherstat.f++)
#define ARPSTAT_INC(st, f) ((st)->st_arpstat.f++)
#define IPSTAT_INC(st, f) ((st)->st_ipstat.f++)
#define ICMPSTAT_INC(st, f) ((st)->st_icmpstat.f++)
#define UDPSTAT_INC(st, f) ((st)->st_udpstat.f++)
#define TCPSTAT_INC(st, f) ((st)->st_tcpstat.f++)
#define TCPSTAT_ADD(st, f, n) ((st)->st_tcpstat.f += (n))
#define IPSTAT_ADD(st, f, n) ((st)->st_ipstat.f += (n))

/* The stack of a received packet. */
#define M_STACK(m) ((m)->m_pkthdr.rcvif->if_stack)

/* Time now on the stack clock: the time of this poll turn inside
 * ust_stack_poll(), the clock itself outside. */
static inline uint64_t
stack_now(const struct ust_stack *st)
{
	if (st->st_in_poll)
		return (st->st_poll_now);
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
