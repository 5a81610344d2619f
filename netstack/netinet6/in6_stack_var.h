/*
 * in6_stack_var.h - the inet6 domain's per-stack state (FreeBSD's VNET
 * variables of netinet6): members of struct ust_stack, included inside
 * it by kern/stack_var.h through conf/domains.h's DOMAIN_STATE section,
 * and the macros that count into them.  Each pointer's structure is
 * private to the file named beside it.  The TCP, UDP and raw PCB tables
 * are IPv4's (netinet/in_stack_var.h), shared as in FreeBSD.
 *
 * No include guard: included exactly once, inside struct ust_stack, as an
 * anonymous structure.
 */
struct {
	struct in6_ifaddr *st_in6_ifaddrs;   /* every IPv6 address (in6.c) */
	struct rt6_table *st_rt6;            /* routes and path MTUs (in6_route.c) */
	struct nd6_state *st_nd6;            /* neighbor cache, prefixes, routers (nd6*.c) */
	struct frag6_state *st_frag6;        /* reassembly (frag6.c) */
	struct icmp6_state *st_icmp6;        /* error rate limit (icmp6.c) */
	struct mld_state *st_mld6;           /* MLD (mld6.c) */
	struct rip6_filter *st_rip6_filters; /* ICMP6_FILTER of raw sockets (raw_ip6.c) */
	uint32_t st_ip6_id;                  /* next Fragment header identification */
	uint64_t st_ip6_flowkey[2];          /* flow label hash key (RFC 6437) */
	/* next header -> inet6sw index + 1, 0: none (in6_proto.c) */
	uint8_t st_ip6_protox[256];

	/* Counters (netstat -s -f inet6). */
	struct ust_ip6stat st_ip6stat;
	struct ust_icmp6stat st_icmp6stat;
};

#if UST_STATS
#define IP6STAT_INC(st, f) ((st)->st_ip6stat.f++)
#define IP6STAT_ADD(st, f, n) ((st)->st_ip6stat.f += (n))
#define ICMP6STAT_INC(st, f) ((st)->st_icmp6stat.f++)
#else
#define IP6STAT_INC(st, f) ((void)(st))
#define IP6STAT_ADD(st, f, n) ((void)(st), (void)(n))
#define ICMP6STAT_INC(st, f) ((void)(st))
#endif
