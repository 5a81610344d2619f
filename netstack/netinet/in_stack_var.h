/*
 * in_stack_var.h - the Internet domain's per-stack state (FreeBSD keeps
 * it in VNET variables of each netinet file): members of struct ust_stack,
 * included inside it by kern/stack_var.h through the DOMAIN_STATE section
 * of conf/domains.h, and the macros that count into them.  Each pointer's
 * structure is private to the file named beside it; the members come
 * straight after the kern/ and net/ ones, so that reaching them costs what
 * it did when stack_var.h declared them.
 *
 * No include guard: included exactly once, inside struct ust_stack, as an
 * anonymous structure (C11 6.7.2.1p13), whose members are reached as the
 * stack's own: st->st_tcbinfo.
 */
struct {
	struct in_ifaddr *st_in_ifaddrs;    /* every IPv4 address of the stack */
	struct rt_table *st_rt;             /* in_route.c */
	struct arp_table *st_arp;           /* if_ether.c */
	struct ipq_state *st_ipq;           /* ip_reass.c */
	struct icmp_state *st_icmp;         /* ip_icmp.c */
	struct inpcbinfo *st_udbinfo;       /* UDP PCBs (in_pcb.c) */
	struct inpcbinfo *st_tcbinfo;       /* TCP PCBs */
	struct inpcbinfo *st_ripcbinfo;     /* raw IP PCBs (raw_ip.c) */
	struct tcp_state *st_tcp;           /* TCP per-stack state (tcp_subr.c) */
	struct syncache_state *st_syncache; /* tcp_syncache.c */
	struct tfo_state *st_tfo;           /* tcp_fastopen.c */
	struct tcp_md5_state *st_tcpmd5;    /* TCP-MD5 keys (tcp_md5.c), NULL: none yet */
	struct ust_zone *st_sackhole_zone;  /* tcp_sack.c: sackhole, globalmaxholes */
	uint32_t st_sackholes;              /* holes in use (tcp_sack.c) */
	/* Connections whose tcp_output waits for the end of the poll's
	 * receive loop (tcp_outq.c, TF2_OUTQ, linked by t_outq_next); empty
	 * outside ust_stack_poll. */
	struct tcpcb *st_outq_head, *st_outq_tail;
	/* net.inet.tcp.cc.algorithm; NULL: the built-in default (cc/cc.c) */
	const struct cc_algo *st_cc_default;
	/* TCP function blocks (tcp_stacks/tcp_stacks.c): the default of new
	 * connections (NULL: "freebsd"), connections per block, and rack's
	 * send-map zone and entries in use (tcp_stacks/rack.c). */
	const struct tcp_function_block *st_tcp_fb_default;
#define TCP_FB_MAX 4 /* blocks compiled in, at most */
	uint32_t st_tcp_fb_count[TCP_FB_MAX];
	struct ust_zone *st_rack_zone;
	uint32_t st_rack_maps;
	uint16_t st_ip_id; /* next IPv4 identification */
	/* IP protocol number -> inetsw index + 1, 0: none (in_proto.c) */
	uint8_t st_ip_protox[256];

	/* Counters (netstat -s). */
	struct ust_arpstat st_arpstat;
	struct ust_ipstat st_ipstat;
	struct ust_icmpstat st_icmpstat;
	struct ust_udpstat st_udpstat;
	struct ust_tcpstat st_tcpstat;
};

/* UST_STATS 0: nothing is counted (n is still evaluated). */
#if UST_STATS
#define ARPSTAT_INC(st, f) ((st)->st_arpstat.f++)
#define IPSTAT_INC(st, f) ((st)->st_ipstat.f++)
#define ICMPSTAT_INC(st, f) ((st)->st_icmpstat.f++)
#define UDPSTAT_INC(st, f) ((st)->st_udpstat.f++)
#define TCPSTAT_INC(st, f) ((st)->st_tcpstat.f++)
#define ARPSTAT_ADD(st, f, n) ((st)->st_arpstat.f += (n))
#define TCPSTAT_ADD(st, f, n) ((st)->st_tcpstat.f += (n))
#define IPSTAT_ADD(st, f, n) ((st)->st_ipstat.f += (n))
#else
#define ARPSTAT_INC(st, f) ((void)(st))
#define IPSTAT_INC(st, f) ((void)(st))
#define ICMPSTAT_INC(st, f) ((void)(st))
#define UDPSTAT_INC(st, f) ((void)(st))
#define TCPSTAT_INC(st, f) ((void)(st))
#define ARPSTAT_ADD(st, f, n) ((void)(st), (void)(n))
#define TCPSTAT_ADD(st, f, n) ((void)(st), (void)(n))
#define IPSTAT_ADD(st, f, n) ((void)(st), (void)(n))
#endif
