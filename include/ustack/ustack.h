/*
 * ustack.h - the public API of ustack: errors, the stack instance, its
 * interfaces and counters.  Socket calls join this header as the protocol
 * layers land.
 *
 * Conventions: functions return 0 or a non-negative result, or a negative
 * UST_E* code (-UST_EAGAIN); ust_strerror() names it.  Constants have
 * ustack's own values (FreeBSD numbering), never the host's.
 */
#ifndef USTACK_H
#define USTACK_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_opts.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_stats.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UST_VERSION_MAJOR 0
#define UST_VERSION_MINOR 1
#define UST_VERSION_PATCH 0

/* Error codes: FreeBSD's errno numbers under UST_ names. */
#define UST_EPERM 1
#define UST_ENOENT 2
#define UST_EIO 5
#define UST_E2BIG 7
#define UST_EBADF 9
#define UST_ENOMEM 12
#define UST_EACCES 13
#define UST_EFAULT 14
#define UST_EBUSY 16
#define UST_EEXIST 17
#define UST_ENODEV 19
#define UST_EINVAL 22
#define UST_ENFILE 23
#define UST_EMFILE 24
#define UST_ENOSPC 28
#define UST_EPIPE 32
#define UST_ERANGE 34
#define UST_EAGAIN 35
#define UST_EWOULDBLOCK UST_EAGAIN
#define UST_EINPROGRESS 36
#define UST_EALREADY 37
#define UST_ENOTSOCK 38
#define UST_EDESTADDRREQ 39
#define UST_EMSGSIZE 40
#define UST_EPROTOTYPE 41
#define UST_ENOPROTOOPT 42
#define UST_EPROTONOSUPPORT 43
#define UST_EOPNOTSUPP 45
#define UST_EAFNOSUPPORT 47
#define UST_EADDRINUSE 48
#define UST_EADDRNOTAVAIL 49
#define UST_ENETDOWN 50
#define UST_ENETUNREACH 51
#define UST_ECONNABORTED 53
#define UST_ECONNRESET 54
#define UST_ENOBUFS 55
#define UST_EISCONN 56
#define UST_ENOTCONN 57
#define UST_ESHUTDOWN 58
#define UST_ETIMEDOUT 60
#define UST_ECONNREFUSED 61
#define UST_EHOSTDOWN 64
#define UST_EHOSTUNREACH 65

/* Name of an error code ("ECONNRESET: Connection reset by peer"); takes the
 * code with or without its minus sign.  Built with UST_STRERROR 0, just
 * the name ("ECONNRESET"). */
UST_API const char *ust_strerror(int err);
/* Just the symbolic name ("ECONNRESET"), or NULL for an unknown code. */
UST_API const char *ust_errname(int err);
UST_API const char *ust_version(void);

/* ---------------------------------------------------------------------
 * The stack instance.
 * ------------------------------------------------------------------- */

struct ust_stack;
struct ust_if;
struct ust_mbuf;

/* Run-time configuration.  ust_stack_config_init() fills the documented
 * defaults; change fields after it. */
struct ust_stack_config {
	/* Bytes the stack may allocate in all (zones, tables, buffers).
	 * Default 64 MiB.  0: no limit. */
	size_t mem_limit;
	/* Hard maxima of the mbuf zones (FreeBSD kern.ipc.nmbufs,
	 * kern.ipc.nmbclusters, kern.ipc.nmbjumbo9).  Defaults 65536, 16384,
	 * 1024. */
	uint32_t nmbufs;
	uint32_t nmbclusters;
	uint32_t nmbjumbo9;
	/* The only source of time.  Default: the OSAL monotonic clock. */
	struct ust_clock clock;
	/* With seed_set, all randomness comes from a PRNG seeded with seed, so
	 * that a run replays exactly; otherwise the PRNG is seeded from OSAL
	 * entropy.  Default: not set. */
	int seed_set;
	uint64_t seed;
	/* Callout wheel resolution.  Default 1 ms (FreeBSD hz=1000). */
	uint64_t tick_ns;
	/* Frames taken from each interface per poll, 1..UST_RX_BURST_MAX.
	 * Default 32. */
	uint32_t rx_burst;
	/* Frames queued for transmission per interface before tail drop
	 * (net.link.ifqmaxlen).  Default 1024. */
	uint32_t ifq_maxlen;
	/* Log sink and level.  Default: the OSAL sink at UST_LOG_NOTICE. */
	struct ust_logger log;
};

UST_API void ust_stack_config_init(struct ust_stack_config *cfg);
/* Creates a stack.  The config is copied.  Returns 0, -UST_EINVAL for a
 * bad config or -UST_ENOMEM. */
UST_API int ust_stack_create(const struct ust_stack_config *cfg, struct ust_stack **out);
/* Detaches every interface (calling its driver's detach) and frees all the
 * stack's memory. */
UST_API void ust_stack_destroy(struct ust_stack *st);

/* One turn of the run-to-completion loop: for each interface take up to
 * rx_burst frames and pass them up; run the callouts that are due; flush
 * each interface's transmit queue.  Returns the number of frames and
 * callouts handled (0: nothing to do). */
UST_API int ust_stack_poll(struct ust_stack *st);
/* The stack's notion of now, from its clock. */
UST_API uint64_t ust_stack_now(const struct ust_stack *st);
/* The earliest absolute time at which polling may have work: a callout,
 * a frame a driver holds back (pipe delay).  Never later than the real
 * deadline; UINT64_MAX when nothing is pending.  Loops sleep until it;
 * simulations advance the virtual clock to it. */
UST_API uint64_t ust_stack_next_deadline(struct ust_stack *st);

/* Another thread may call into the stack only while holding this lock;
 * ust_stack_poll() takes it itself. */
UST_API void ust_stack_lock(struct ust_stack *st);
UST_API void ust_stack_unlock(struct ust_stack *st);

/* The next 64 random bits from the stack's PRNG (seeded or entropy). */
UST_API uint64_t ust_stack_random(struct ust_stack *st);

/* Memory accounting of the stack (a copy). */
UST_API void ust_stack_get_mem(const struct ust_stack *st, struct ust_mem *out);
/* Statistics of the stack's idx-th zone (mbuf, mbuf_cluster, mbuf_jumbo_9k,
 * syncache, sackhole, socket, tcp_inpcb, tcpcb, udp_inpcb: those that
 * exist); -UST_ENOENT past the last. */
UST_API int ust_stack_get_zone_stats(const struct ust_stack *st, unsigned idx,
    struct ust_zone_stats *out);

/* Counters of the stack as a whole, in the spirit of netstat -m / -s. */
struct ust_stack_stats {
	uint64_t polls;
	uint64_t rx_frames; /* frames taken from drivers */
	uint64_t tx_frames; /* frames drivers accepted */
	uint64_t callouts_run;
	uint64_t nombuf;    /* mbuf allocations refused */
	uint64_t nocluster; /* cluster allocations refused */
};
UST_API void ust_stack_get_stats(const struct ust_stack *st, struct ust_stack_stats *out);

/* ---------------------------------------------------------------------
 * Interfaces (struct ifnet inside).
 * ------------------------------------------------------------------- */

struct ust_driver_ops;

/* Attaches a driver instance as a new interface named `name` (at most 15
 * characters).  The stack does not own softc; it calls ops->detach when the
 * interface goes.  Returns 0, -UST_EINVAL, -UST_EEXIST (name taken),
 * -UST_ENOSPC (UST_MAX_IFNET reached) or -UST_ENOMEM. */
UST_API int ust_if_attach(struct ust_stack *st, const char *name, const struct ust_driver_ops *ops,
    void *softc, struct ust_if **out);
UST_API void ust_if_detach(struct ust_if *ifp);
UST_API struct ust_if *ust_if_by_name(struct ust_stack *st, const char *name);
UST_API struct ust_stack *ust_if_stack(const struct ust_if *ifp);
UST_API const char *ust_if_name(const struct ust_if *ifp);
/* The interface's index, 1..UST_MAX_IFNET: fixed for its life (another
 * interface's detach renumbers nothing); a freed index is reused, the
 * lowest first (FreeBSD's ifindex).  IPv6 scope ids are these indexes. */
UST_API unsigned ust_if_index(const struct ust_if *ifp);
UST_API void ust_if_get_mac(const struct ust_if *ifp, uint8_t mac[6]);
UST_API uint32_t ust_if_mtu(const struct ust_if *ifp);
UST_API uint32_t ust_if_caps(const struct ust_if *ifp);

/* Interface counters (FreeBSD's if_data names). */
struct ust_if_stats {
	uint64_t ipackets; /* frames received */
	uint64_t ibytes;
	uint64_t ierrors;  /* frames the driver or the link layer rejected */
	uint64_t iqdrops;  /* frames dropped on input for lack of buffers */
	uint64_t noproto;  /* frames no protocol took */
	uint64_t opackets; /* frames the driver accepted */
	uint64_t obytes;
	uint64_t oerrors;
	uint64_t oqdrops; /* frames dropped with the transmit queue full */
	uint64_t imcasts; /* multicast frames received for a joined group */
	/* Software receive coalescing (tcp_lro.c; FreeBSD's dev.X.lro_*). */
	uint64_t lro_queued;   /* TCP segments merged into a larger one */
	uint64_t lro_flushed;  /* coalesced frames handed to TCP */
	uint64_t lro_bad_csum; /* segments not merged: bad TCP checksum */
};
UST_API void ust_if_get_stats(const struct ust_if *ifp, struct ust_if_stats *out);

/* Capture hook (a BPF tap): called for every frame the interface receives
 * (before any protocol sees it) and transmits (as the driver takes it),
 * with the stack's time.  The mbuf is only lent for the call.  One hook per
 * interface; fn NULL removes it.  See ustack_pcap.h for a pcap writer. */
enum ust_capture_dir { UST_CAPTURE_IN = 0, UST_CAPTURE_OUT = 1 };
typedef void (*ust_capture_fn)(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
UST_API void ust_if_set_capture(struct ust_if *ifp, ust_capture_fn fn, void *arg);

/* Raw frame access, for tests, tools and protocols outside the stack.
 * The input hook sees each received frame after capture and before the
 * protocols; returning nonzero consumes it (the protocols do not see it). */
typedef int (*ust_if_input_fn)(void *arg, struct ust_if *ifp, const struct ust_mbuf *m);
UST_API void ust_if_set_input_hook(struct ust_if *ifp, ust_if_input_fn fn, void *arg);
/* Queues a complete link-layer frame for transmission at the next flush.
 * Returns 0, -UST_EMSGSIZE (over MTU plus link header), -UST_ENOBUFS (no
 * mbufs, or the transmit queue full; counted). */
UST_API int ust_if_output_frame(struct ust_if *ifp, const void *frame, size_t len);

/* ---------------------------------------------------------------------
 * IPv4 addresses, routes and the ARP cache.
 *
 * Addresses are uint32_t in network byte order (like in_addr_t), so that
 * they copy straight from and to the wire; prefixes are lengths 0..32.
 * ------------------------------------------------------------------- */

/* Adds addr/prefixlen to the interface, with its connected route, and
 * announces it with a gratuitous ARP.  -UST_EEXIST if the stack already has
 * that address; -UST_EINVAL for a multicast/broadcast/zero address or a
 * prefix over 32. */
UST_API int ust_if_addr_add(struct ust_if *ifp, uint32_t addr, unsigned prefixlen);
/* Removes it and its connected route; -UST_EADDRNOTAVAIL if absent. */
UST_API int ust_if_addr_del(struct ust_if *ifp, uint32_t addr);
/* The idx-th address of the interface; -UST_ENOENT past the last. */
UST_API int ust_if_addr_get(const struct ust_if *ifp, unsigned idx, uint32_t *addr,
    unsigned *prefixlen);

/* Route flags (FreeBSD RTF_* meanings). */
#define UST_RTF_UP 0x1u
#define UST_RTF_GATEWAY 0x2u  /* via a gateway, not directly connected */
#define UST_RTF_STATIC 0x800u /* added by the user, not by an address */

struct ust_route_info {
	uint32_t dst; /* network, network byte order */
	unsigned prefixlen;
	uint32_t gateway; /* next hop, or 0 when directly connected */
	uint32_t src;     /* preferred source address */
	unsigned ifindex;
	uint32_t flags; /* UST_RTF_* */
};

/* Adds a static route (prefixlen 0: the default route).  With gateway 0 the
 * destination is on-link on ifp; otherwise ifp may be NULL and is found
 * from the gateway's connected route.  -UST_EEXIST, -UST_ENETUNREACH (the
 * gateway is not on a connected network), -UST_ENOSPC (table full). */
UST_API int ust_route_add(struct ust_stack *st, uint32_t dst, unsigned prefixlen, uint32_t gateway,
    struct ust_if *ifp);
UST_API int ust_route_del(struct ust_stack *st, uint32_t dst, unsigned prefixlen);
/* Longest-prefix match for dst; -UST_ENETUNREACH when nothing matches. */
UST_API int ust_route_lookup(struct ust_stack *st, uint32_t dst, struct ust_route_info *out);
/* The idx-th route of the table; -UST_ENOENT past the last. */
UST_API int ust_route_get(struct ust_stack *st, unsigned idx, struct ust_route_info *out);

/* ARP entry flags and states. */
#define UST_ARP_STATIC 0x1u   /* never expires, never replaced by the wire */
#define UST_ARP_RESOLVED 0x2u /* has a hardware address */

struct ust_arp_entry {
	uint32_t addr;
	uint8_t mac[6];
	unsigned ifindex;
	uint32_t flags;     /* UST_ARP_* */
	uint64_t expire_ns; /* stack time it expires; 0 for static */
	uint32_t held;      /* packets waiting for resolution */
};

UST_API int ust_arp_add_static(struct ust_if *ifp, uint32_t addr, const uint8_t mac[6]);
UST_API int ust_arp_del(struct ust_if *ifp, uint32_t addr);
/* -UST_ENOENT if there is no entry. */
UST_API int ust_arp_lookup(struct ust_stack *st, uint32_t addr, struct ust_arp_entry *out);
/* The idx-th entry of the cache; -UST_ENOENT past the last. */
UST_API int ust_arp_get(struct ust_stack *st, unsigned idx, struct ust_arp_entry *out);

/* ---------------------------------------------------------------------
 * Sockets (BSD API, FreeBSD constant values).
 * ------------------------------------------------------------------- */

#define UST_AF_INET 2
#define UST_AF_INET6 28 /* UST_INET6 (ustack_opts.h); without it socket() says EAFNOSUPPORT */
#define UST_SOCK_STREAM 1
#define UST_SOCK_DGRAM 2
#define UST_SOCK_RAW 3 /* IPPROTO_ICMP only; the IP header comes with received data */
#define UST_IPPROTO_IP 0
#define UST_IPPROTO_ICMP 1
#define UST_IPPROTO_TCP 6
#define UST_IPPROTO_UDP 17
#define UST_IPPROTO_IPV6 41   /* level of the IPV6_* options */
#define UST_IPPROTO_ICMPV6 58 /* raw AF_INET6 sockets: no IPv6 header on receive */

#define UST_SOL_SOCKET 0xffff
#define UST_SO_REUSEADDR 0x0004
#define UST_SO_KEEPALIVE 0x0008
#define UST_SO_BROADCAST 0x0020
#define UST_SO_LINGER 0x0080
#define UST_SO_OOBINLINE 0x0100
#define UST_SO_REUSEPORT 0x0200
#define UST_SO_REUSEPORT_LB 0x00010000 /* FreeBSD: a load-balancing group of listeners */
#define UST_SO_SNDBUF 0x1001
#define UST_SO_RCVBUF 0x1002
#define UST_SO_SNDLOWAT 0x1003
#define UST_SO_RCVLOWAT 0x1004
#define UST_SO_ERROR 0x1007
#define UST_SO_TYPE 0x1008
#define UST_IP_TOS 3
#define UST_IP_TTL 4
/* level UST_IPPROTO_IPV6 (FreeBSD values) */
#define UST_IPV6_UNICAST_HOPS 4 /* int: -1 = net.inet6.ip6.hlim */
#define UST_IPV6_CHECKSUM 26    /* int: offset of the checksum (raw sockets) */
#define UST_IPV6_V6ONLY 27      /* int: no IPv4-mapped traffic on an AF_INET6 socket */
#define UST_IPV6_RECVPKTINFO 36 /* int */
#define UST_IPV6_TCLASS 61      /* int: -1 = 0 */
/* int: 1 = TCP sizes its segments for 1280-byte packets; 0, -1 (default): the path MTU */
#define UST_IPV6_USE_MIN_MTU 42
/* level UST_IPPROTO_ICMPV6 */
#define UST_ICMP6_FILTER 18 /* struct ust_icmp6_filter: the ICMPv6 types a raw socket takes */

/* level UST_IPPROTO_TCP (FreeBSD values) */
#define UST_TCP_NODELAY 0x01    /* int: no Nagle */
#define UST_TCP_MAXSEG 0x02     /* int: MSS to send with (clamped to the path's) */
#define UST_TCP_NOPUSH 0x04     /* int: hold partial segments */
#define UST_TCP_NOOPT 0x08      /* int: send no options on SYN */
#define UST_TCP_MD5SIG 0x10     /* int: sign and check segments (RFC 2385; keys: ust_tcp_md5_*) */
#define UST_TCP_INFO 0x20       /* struct ust_tcp_info, read only */
#define UST_TCP_CONGESTION 0x40 /* char[16]: congestion control module */
#define UST_TCP_KEEPINIT 0x80   /* int seconds */
#define UST_TCP_KEEPIDLE 0x100  /* int seconds */
#define UST_TCP_KEEPINTVL 0x200 /* int seconds */
#define UST_TCP_KEEPCNT 0x400   /* int */
#define UST_TCP_FASTOPEN 0x401  /* int, or struct { int enable; uint8_t psk[16]; } (RFC 7413) */
/* struct ust_tcp_function_set: the connection's TCP stack (function
 * block, net.inet.tcp.functions_available); set before the connection
 * exists, or later when the target stack accepts it (else EINVAL). */
#define UST_TCP_FUNCTION_BLK 0x2000
#define UST_TCP_FUNCTION_NAME_LEN_MAX 32
/* FreeBSD's struct tcp_function_set. */
struct ust_tcp_function_set {
	char function_set_name[UST_TCP_FUNCTION_NAME_LEN_MAX];
	uint32_t pcbcnt; /* GET: connections using the stack */
};
/* int: the remote UDP port of TCP over UDP (0: plain TCP) */
#define UST_TCP_REMOTE_UDP_ENCAPS_PORT 71

/* TCP states (FreeBSD TCPS_* numbering), as tcpi_state reports them. */
#define UST_TCPS_CLOSED 0
#define UST_TCPS_LISTEN 1
#define UST_TCPS_SYN_SENT 2
#define UST_TCPS_SYN_RECEIVED 3
#define UST_TCPS_ESTABLISHED 4
#define UST_TCPS_CLOSE_WAIT 5
#define UST_TCPS_FIN_WAIT_1 6
#define UST_TCPS_CLOSING 7
#define UST_TCPS_LAST_ACK 8
#define UST_TCPS_FIN_WAIT_2 9
#define UST_TCPS_TIME_WAIT 10

/* tcpi_options bits (FreeBSD TCPI_OPT_*) */
#define UST_TCPI_OPT_TIMESTAMPS 0x01
#define UST_TCPI_OPT_SACK 0x02
#define UST_TCPI_OPT_WSCALE 0x04
#define UST_TCPI_OPT_ECN 0x08
#define UST_TCPI_OPT_TOE 0x10

/* TCP_INFO (the layout is ustack's; the names are FreeBSD's). */
struct ust_tcp_info {
	uint8_t tcpi_state;   /* UST_TCPS_* */
	uint8_t tcpi_options; /* UST_TCPI_OPT_* */
	uint8_t tcpi_snd_wscale;
	uint8_t tcpi_rcv_wscale;
	uint32_t tcpi_rto;    /* microseconds */
	uint32_t tcpi_rtt;    /* smoothed RTT, microseconds */
	uint32_t tcpi_rttvar; /* microseconds */
	uint32_t tcpi_snd_mss;
	uint32_t tcpi_rcv_mss;
	uint32_t tcpi_snd_ssthresh;
	uint32_t tcpi_snd_cwnd;
	uint32_t tcpi_snd_wnd;   /* peer's advertised window, bytes */
	uint32_t tcpi_rcv_space; /* our advertised window, bytes */
	uint32_t tcpi_snd_nxt;
	uint32_t tcpi_rcv_nxt;
	uint32_t tcpi_unacked;     /* bytes in flight */
	uint32_t tcpi_sacked;      /* bytes above snd_una the peer SACKed */
	uint32_t tcpi_lost;        /* bytes in SACK holes during recovery */
	uint32_t tcpi_retransmits; /* consecutive retransmission timeouts now */
	uint32_t tcpi_backoff;
	uint64_t tcpi_snd_rexmitpack; /* segments retransmitted */
	uint64_t tcpi_snd_rexmitbyte;
	uint64_t tcpi_rcv_ooopack; /* out-of-order segments received */
	uint64_t tcpi_snd_zerowin; /* zero windows received */
	uint64_t tcpi_bytes_acked;
	uint64_t tcpi_bytes_received;
	uint64_t tcpi_delivery_rate;  /* bytes acknowledged per second, connection average */
	uint64_t tcpi_last_data_recv; /* microseconds since */
};

/* send/recv flags */
#define UST_MSG_OOB 0x1
#define UST_MSG_PEEK 0x2
#define UST_MSG_DONTWAIT 0x80
/* shutdown how */
#define UST_SHUT_RD 0
#define UST_SHUT_WR 1
#define UST_SHUT_RDWR 2

#define UST_INADDR_ANY 0x00000000u
#define UST_INADDR_BROADCAST 0xffffffffu

/* The length of a socket address (BSD socklen_t). */
typedef uint32_t ust_socklen_t;

/* The generic socket address (BSD struct sockaddr): every socket call
 * takes a pointer to one and a length; sa_len is the address's own size
 * and sa_family selects the struct it really is. */
struct ust_sockaddr {
	uint8_t sa_len;
	uint8_t sa_family; /* UST_AF_* */
	char sa_data[14];
};

/* Room for any socket address (BSD struct sockaddr_storage: 128 bytes,
 * aligned for every family's struct). */
struct ust_sockaddr_storage {
	uint8_t ss_len;
	uint8_t ss_family;
	char ss_pad1[6];
	int64_t ss_align;
	char ss_pad2[112];
};

/* BSD layout: sin_port and sin_addr in network byte order. */
struct ust_sockaddr_in {
	uint8_t sin_len;    /* sizeof(struct ust_sockaddr_in) */
	uint8_t sin_family; /* UST_AF_INET */
	uint16_t sin_port;
	uint32_t sin_addr;
	uint8_t sin_zero[8];
};

/* An IPv6 address, network byte order.  The member is not called s6_addr
 * because the C libraries define s6_addr as a macro (glibc:
 * __in6_u.__u6_addr8) that would rewrite it in any file that also
 * includes <netinet/in.h>. */
struct ust_in6_addr {
	uint8_t s6_addr8[16];
};

/* BSD layout (28 bytes): sin6_port and sin6_flowinfo in network byte
 * order; sin6_scope_id is ustack's interface index (ust_if_index). */
struct ust_sockaddr_in6 {
	uint8_t sin6_len;    /* sizeof(struct ust_sockaddr_in6) */
	uint8_t sin6_family; /* UST_AF_INET6 */
	uint16_t sin6_port;
	uint32_t sin6_flowinfo;
	struct ust_in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};

/* The TCP connection table, for tools (netstat -an, sockstat, tcpdrop).
 * Addresses and ports in network byte order; state is UST_TCPS_*;
 * has_socket is 0 for connections the application already closed
 * (FIN_WAIT_*, LAST_ACK, TIME_WAIT after close) or never accepted. */
struct ust_tcp_conn {
	uint32_t laddr;
	uint32_t faddr;
	uint16_t lport;
	uint16_t fport;
	uint8_t state;
	uint8_t has_socket;
	uint8_t timers;   /* UST_TCPT_* bits: the timers armed */
	uint8_t rxtshift; /* consecutive retransmission timeouts */
	uint32_t idle_ms; /* since the last segment arrived (keepalive's clock) */
	uint32_t recv_q;  /* bytes in the receive buffer (netstat's Recv-Q) */
	uint32_t send_q;  /* bytes in the send buffer (netstat's Send-Q) */
	uint32_t snd_una; /* host byte order; 0 in the syncache */
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	/* UST_AF_INET: laddr/faddr (laddr6/faddr6 hold them v4-mapped);
	 * UST_AF_INET6: laddr6/faddr6, scope_id the zone of link-local ones. */
	uint8_t family;
	struct ust_in6_addr laddr6;
	struct ust_in6_addr faddr6;
	uint32_t scope_id;
};
/* ust_tcp_conn.timers: FreeBSD's per-connection timers. */
#define UST_TCPT_DELACK 0x01
#define UST_TCPT_REXMT 0x02
#define UST_TCPT_PERSIST 0x04
#define UST_TCPT_KEEP 0x08
#define UST_TCPT_2MSL 0x10
/* Fills out[0..max) and returns how many connections there are (which may
 * be more than max: call again with a larger array). */
UST_API size_t ust_tcp_pcblist(struct ust_stack *st, struct ust_tcp_conn *out, size_t max);
/* Drops the connection with this 4-tuple as tcpdrop(8) does: a RST to the
 * peer (none from TIME_WAIT), ECONNABORTED to its socket.  The local and
 * foreign addresses are sockaddrs of one family (FreeBSD net.inet.tcp.drop;
 * a v4-mapped pair means the IPv4 connection).  0, -UST_ENOENT, -UST_EINVAL
 * (lengths, mixed families), -UST_EAFNOSUPPORT. */
UST_API int ust_tcp_drop(struct ust_stack *st, const struct ust_sockaddr *laddr, ust_socklen_t llen,
    const struct ust_sockaddr *faddr, ust_socklen_t flen);

/* TCP MD5 signature keys (RFC 2385; UST_TCP_SIGNATURE), FreeBSD's
 * setkey(8) "add SRC DST tcp SPI -A tcp-md5 KEY" security associations: a
 * key signs the segments sent from src to dst and checks those received
 * from src at dst (ports do not count).  A socket uses them once
 * TCP_MD5SIG is set on it (or on its listener).  ust_tcp_md5_sa_* take one
 * direction, as setkey; ust_tcp_md5_key_* both directions of a local and
 * a remote address with one key.  Adding a pair again replaces its key.
 * Addresses are sockaddrs of one family (v4-mapped IPv6: the IPv4 pair);
 * at most UST_TCP_MD5_KEYLEN_MAX bytes of key, UST_TCP_MD5_MAXKEYS pairs.
 * 0, -UST_EINVAL, -UST_EAFNOSUPPORT, -UST_ENOSPC (table full), -UST_ENOENT
 * (del: no such pair), -UST_ENOMEM, -UST_EOPNOTSUPP (UST_TCP_SIGNATURE 0). */
UST_API int ust_tcp_md5_sa_add(struct ust_stack *st, const struct ust_sockaddr *src,
    ust_socklen_t srclen, const struct ust_sockaddr *dst, ust_socklen_t dstlen, const void *key,
    size_t keylen);
UST_API int ust_tcp_md5_sa_del(struct ust_stack *st, const struct ust_sockaddr *src,
    ust_socklen_t srclen, const struct ust_sockaddr *dst, ust_socklen_t dstlen);
UST_API int ust_tcp_md5_key_add(struct ust_stack *st, const struct ust_sockaddr *local,
    ust_socklen_t llen, const struct ust_sockaddr *remote, ust_socklen_t rlen, const void *key,
    size_t keylen);
UST_API int ust_tcp_md5_key_del(struct ust_stack *st, const struct ust_sockaddr *local,
    ust_socklen_t llen, const struct ust_sockaddr *remote, ust_socklen_t rlen);
/* Forgets every key (setkey -F); the number of pairs held. */
UST_API void ust_tcp_md5_flush(struct ust_stack *st);
UST_API size_t ust_tcp_md5_count(const struct ust_stack *st);

/* ---------------------------------------------------------------------
 * IPv6 addresses, routes and the neighbor cache (UST_INET6 in
 * ustack_opts.h; without it every call below returns -UST_EAFNOSUPPORT
 * and the stats calls give zeros).  Addresses are struct ust_in6_addr in
 * network byte order; a link-local address belongs to the zone of its
 * interface, whose scope id is ust_if_index().
 * ------------------------------------------------------------------- */

/* IPv6 address flags (FreeBSD IN6_IFF_* values). */
#define UST_IN6_IFF_ANYCAST 0x01
#define UST_IN6_IFF_TENTATIVE 0x02  /* duplicate address detection running */
#define UST_IN6_IFF_DUPLICATED 0x04 /* duplicate address detection failed */
#define UST_IN6_IFF_DEPRECATED 0x10
#define UST_IN6_IFF_NODAD 0x20    /* added without duplicate address detection */
#define UST_IN6_IFF_AUTOCONF 0x40 /* from SLAAC */

/* Adds addr/prefixlen (0..128) to the interface with its connected
 * (on-link) route and joins its solicited-node group.  flags: UST_IN6_IFF_
 * NODAD, ANYCAST.  -UST_EEXIST (the interface has it), -UST_EINVAL
 * (unspecified, multicast or loopback address, prefix over 128, unknown
 * flags), -UST_ENOSPC, -UST_ENOMEM, -UST_ENETDOWN (IPv6 is off on the
 * interface: an MTU below 1280). */
UST_API int ust_if_addr6_add(struct ust_if *ifp, const struct ust_in6_addr *addr,
    unsigned prefixlen, unsigned flags);
/* Removes it, its connected route and its group; -UST_EADDRNOTAVAIL. */
UST_API int ust_if_addr6_del(struct ust_if *ifp, const struct ust_in6_addr *addr);
/* The idx-th IPv6 address of the interface; -UST_ENOENT past the last.
 * prefixlen and flags may be NULL. */
UST_API int ust_if_addr6_get(const struct ust_if *ifp, unsigned idx, struct ust_in6_addr *addr,
    unsigned *prefixlen, unsigned *flags);

struct ust_route6_info {
	struct ust_in6_addr dst; /* network */
	unsigned prefixlen;
	struct ust_in6_addr gateway; /* next hop; :: when on-link */
	unsigned ifindex;
	uint32_t mtu;   /* the route's MTU; 0: the interface's */
	uint32_t flags; /* UST_RTF_* */
};

/* Adds a static route (prefixlen 0: the default route).  gateway NULL or
 * :: means on-link on ifp.  A link-local gateway needs ifp (its zone);
 * another gateway may leave ifp NULL and is then found from its connected
 * route.  -UST_EEXIST, -UST_EINVAL, -UST_ENETUNREACH (gateway not on a
 * connected network), -UST_ENOSPC (table full). */
UST_API int ust_route6_add(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, struct ust_if *ifp);
UST_API int ust_route6_del(struct ust_stack *st, const struct ust_in6_addr *dst,
    unsigned prefixlen);
/* Longest-prefix match for dst; scope_id names the zone of a link-local
 * or link-local multicast dst (0: none, -UST_EINVAL for such a dst).
 * out->mtu is the path MTU packets to dst use now (interface, route and
 * learned path MTU).  -UST_ENETUNREACH when nothing matches. */
UST_API int ust_route6_lookup(struct ust_stack *st, const struct ust_in6_addr *dst,
    unsigned scope_id, struct ust_route6_info *out);
/* The idx-th route; -UST_ENOENT past the last. */
UST_API int ust_route6_get(struct ust_stack *st, unsigned idx, struct ust_route6_info *out);

/* Neighbor cache entry states (FreeBSD ND6_LLINFO_* values) and flags. */
#define UST_ND6_INCOMPLETE 0
#define UST_ND6_REACHABLE 1
#define UST_ND6_STALE 2
#define UST_ND6_DELAY 3
#define UST_ND6_PROBE 4
#define UST_ND6_STATIC 0x1u   /* never expires, never replaced by the wire */
#define UST_ND6_ISROUTER 0x2u /* the neighbor said it is a router */

struct ust_nd6_entry {
	struct ust_in6_addr addr;
	uint8_t mac[6];
	int state; /* UST_ND6_INCOMPLETE .. UST_ND6_PROBE */
	unsigned ifindex;
	uint32_t flags;     /* UST_ND6_STATIC, UST_ND6_ISROUTER */
	uint64_t expire_ns; /* stack time of the next state change; 0 static */
	uint32_t held;      /* packets waiting for resolution */
};

/* ndp -s: a static entry (REACHABLE, UST_ND6_STATIC) on ifp.  -UST_EINVAL
 * for a multicast or unspecified address or a group MAC. */
UST_API int ust_nd6_add_static(struct ust_if *ifp, const struct ust_in6_addr *addr,
    const uint8_t mac[6]);
/* ndp -d; -UST_ENOENT. */
UST_API int ust_nd6_del(struct ust_if *ifp, const struct ust_in6_addr *addr);
/* The entry of addr (scope_id: its zone, 0 for a global address, or any
 * interface); -UST_ENOENT. */
UST_API int ust_nd6_lookup(struct ust_stack *st, const struct ust_in6_addr *addr, unsigned scope_id,
    struct ust_nd6_entry *out);
/* ndp -a: the idx-th entry; -UST_ENOENT past the last. */
UST_API int ust_nd6_get(struct ust_stack *st, unsigned idx, struct ust_nd6_entry *out);

/* ICMP6_FILTER (RFC 3542 3.2, FreeBSD's layout): bit (type & 31) of
 * icmp6_filt[type >> 5] set means messages of that type pass.  A new raw
 * ICMPv6 socket passes every type. */
struct ust_icmp6_filter {
	uint32_t icmp6_filt[8];
};

struct ust_linger {
	int l_onoff;
	int l_linger; /* seconds */
};

struct ust_socket;

/* Every socket call is non-blocking: where BSD would sleep it returns
 * -UST_EAGAIN (or -UST_EINPROGRESS for connect), and readiness comes from
 * an event queue or an upcall.  Lengths and counts are ptrdiff_t.
 *
 * Addresses are BSD's: an input is a struct ust_sockaddr_* cast to
 * struct ust_sockaddr plus the caller's length (at least sa_len; sa_len
 * and sa_family must fit the socket's family, else -UST_EINVAL and
 * -UST_EAFNOSUPPORT).  An output takes a buffer and *len, its size on
 * entry: the address is truncated to *len bytes and *len becomes the
 * size the whole address needs (0 when there is none).  A NULL output
 * address is allowed (len is then not used). */
UST_API int ust_socket(struct ust_stack *st, int domain, int type, int protocol,
    struct ust_socket **out);
UST_API int ust_bind(struct ust_socket *so, const struct ust_sockaddr *addr, ust_socklen_t len);
UST_API int ust_connect(struct ust_socket *so, const struct ust_sockaddr *addr, ust_socklen_t len);
UST_API int ust_listen(struct ust_socket *so, int backlog);
UST_API int ust_accept(struct ust_socket *so, struct ust_socket **out, struct ust_sockaddr *peer,
    ust_socklen_t *len);
UST_API ptrdiff_t ust_send(struct ust_socket *so, const void *buf, size_t len, int flags);
UST_API ptrdiff_t ust_sendto(struct ust_socket *so, const void *buf, size_t len, int flags,
    const struct ust_sockaddr *to, ust_socklen_t tolen);
UST_API ptrdiff_t ust_recv(struct ust_socket *so, void *buf, size_t len, int flags);
UST_API ptrdiff_t ust_recvfrom(struct ust_socket *so, void *buf, size_t len, int flags,
    struct ust_sockaddr *from, ust_socklen_t *fromlen);
/* A buffer and its length (gather sends, driver scatter lists). */
struct ust_iovec {
	const void *iov_base;
	size_t iov_len;
};

/*
 * Zero-copy sockets (F-Stack's ff_zc_*, FreeBSD's sendfile/M_EXTPG, Linux's
 * MSG_ZEROCOPY).  docs/zerocopy.md has the whole contract.
 *
 * ust_send_zc lends [buf, buf+len) to the socket instead of copying it and
 * returns the bytes accepted, n <= len (TCP: what the send buffer has room
 * for, as ust_send; UDP: all or -UST_EAGAIN), or a negative error (then
 * done is never called).  done(arg, buf, n, status) runs exactly once for
 * the accepted bytes when the stack holds no reference to them any more
 * (acknowledged and freed by every segment, retransmission and driver
 * that shared them; which can be later than the ACK): status 0; or
 * UST_ZC_COPIED when the stack copied them instead (below the
 * kern.ipc.zc_min knob, or a path that had to copy), then before
 * ust_send_zc returns; or -UST_ECONNRESET / -UST_ECONNABORTED when the
 * connection ended with them unsent or unacknowledged.  Until done the
 * application must not change or free the buffer.  done runs on the
 * stack's thread under the stack lock (inside ust_stack_poll or a socket
 * call), with the upcall contract: it may send and receive, must not close
 * the socket, block or call another stack.
 */
#define UST_ZC_COPIED 1
typedef void (*ust_zc_done_fn)(void *arg, const void *buf, size_t len, int status);
UST_API ptrdiff_t ust_send_zc(struct ust_socket *so, const void *buf, size_t len, int flags,
    ust_zc_done_fn done, void *arg);
/* Gather send (writev): the buffers in order as one send; copies like
 * ust_send but without joining them first.  Returns the bytes accepted. */
UST_API ptrdiff_t ust_sendv(struct ust_socket *so, const struct ust_iovec *iov, int iovcnt,
    int flags);
/*
 * Receive without copying: up to max bytes of the receive buffer, taken
 * out as a read-only mbuf chain (*chain; walk it with ust_mbuf_data,
 * ust_mbuf_len and ust_mbuf_next of ustack_driver.h), the window opened as
 * by ust_recv.  Returns the bytes in the chain, 0 at end of stream, or
 * -UST_EAGAIN / an error as ust_recv (UST_MSG_PEEK: -UST_EINVAL).  The
 * application gives the chain back with ust_mbuf_release, from any thread;
 * chains held count against the socket's receive buffer (-UST_EAGAIN once
 * they reach its size), so a slow reader cannot drain the stack's mbufs.
 * Datagram sockets: one datagram per call, its source in from.
 */
struct ust_mbuf;
UST_API ptrdiff_t ust_recv_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max,
    int flags);
UST_API ptrdiff_t ust_recvfrom_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max,
    int flags, struct ust_sockaddr *from, ust_socklen_t *fromlen);
UST_API void ust_mbuf_release(struct ust_socket *so, struct ust_mbuf *chain);
UST_API int ust_shutdown(struct ust_socket *so, int how);
/* Closes and frees the handle (the protocol may linger on, e.g. TIME_WAIT). */
UST_API int ust_close(struct ust_socket *so);
UST_API int ust_getsockname(struct ust_socket *so, struct ust_sockaddr *addr, ust_socklen_t *len);
UST_API int ust_getpeername(struct ust_socket *so, struct ust_sockaddr *addr, ust_socklen_t *len);
UST_API int ust_setsockopt(struct ust_socket *so, int level, int name, const void *val, size_t len);
/* *len is the buffer size on entry, the value's size on return. */
UST_API int ust_getsockopt(struct ust_socket *so, int level, int name, void *val, size_t *len);
UST_API struct ust_stack *ust_socket_stack(const struct ust_socket *so);

/* ---------------------------------------------------------------------
 * Readiness events (epoll-like; level-triggered).
 * ------------------------------------------------------------------- */

#define UST_EV_IN 0x001u     /* readable, or a connection to accept */
#define UST_EV_OUT 0x004u    /* writable */
#define UST_EV_ERR 0x008u    /* so_error set (always reported) */
#define UST_EV_HUP 0x010u    /* both directions shut down (always reported) */
#define UST_EV_RDHUP 0x2000u /* peer shut down its sending side */

#define UST_EVQ_ADD 1
#define UST_EVQ_MOD 2
#define UST_EVQ_DEL 3

struct ust_event {
	uint32_t events;
	void *udata;
};

struct ust_evq;

UST_API int ust_evq_create(struct ust_stack *st, struct ust_evq **out);
/* Removes every registration and frees the queue. */
UST_API void ust_evq_destroy(struct ust_evq *evq);
/* ADD (-UST_EEXIST if registered), MOD and DEL (-UST_ENOENT if not) the
 * interest of this queue in a socket; udata comes back with its events.  A
 * closed socket leaves every queue by itself. */
UST_API int ust_evq_ctl(struct ust_evq *evq, int op, struct ust_socket *so, uint32_t events,
    void *udata);
/* Stores up to max ready events without polling the stack; returns the
 * count (0: none ready). */
UST_API int ust_evq_poll(struct ust_evq *evq, struct ust_event *evs, int max);
/* Polls the stack until an event is ready or timeout_ns has passed on the
 * stack clock (negative: no limit; 0: poll once).  Sleeps in the OSAL
 * between polls when the stack has nothing due.  On a virtual clock it
 * never sleeps: it returns 0 when nothing is ready and nothing is due. */
UST_API int ust_evq_wait(struct ust_evq *evq, struct ust_event *evs, int max, int64_t timeout_ns);

/* A per-socket upcall, called from inside the stack when the socket's
 * readiness may have changed (events is the current UST_EV_* set).  It
 * must not close the socket; it may send and receive. */
typedef void (*ust_upcall_fn)(void *arg, struct ust_socket *so, uint32_t events);
UST_API void ust_socket_set_upcall(struct ust_socket *so, ust_upcall_fn fn, void *arg);
/* The socket's current UST_EV_* set (0 for a closed or invalid socket),
 * read as a socket call (under a threaded stack's lock).  When fn is not
 * NULL it is called with that set before the lock is let go, so that
 * what it does with the set is ordered with the upcalls the stack's
 * thread makes (both run under the lock); fn follows the upcall contract.
 * For readiness that changed without an upcall: a receive that drained
 * the buffer, a send that filled it (the stack does not call a socket's
 * upcall for the application's own calls). */
UST_API uint32_t ust_socket_events(struct ust_socket *so, ust_upcall_fn fn, void *arg);

/* ---------------------------------------------------------------------
 * Knobs (a sysctl registry with FreeBSD's names and defaults) and counters.
 * ------------------------------------------------------------------- */

#define UST_SYSCTL_RDONLY 0x1u /* read-only after stack creation */
#define UST_SYSCTL_STRING 0x2u /* a string knob: ust_sysctl_get_str/set_str */

struct ust_sysctl_info {
	const char *name; /* "net.inet.ip.ttl" */
	const char *descr;
	int64_t defval; /* integer knobs; 0 for string knobs */
	int64_t min;
	int64_t max;
	uint32_t flags;     /* UST_SYSCTL_* */
	const char *defstr; /* string knobs: the default; NULL for integer knobs */
};

/* Integer knobs.  -UST_ENOENT for an unknown name, -UST_EINVAL for a
 * string knob (UST_SYSCTL_STRING). */
UST_API int ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value);
/* -UST_ENOENT, -UST_EINVAL (out of range, or a string knob), -UST_EPERM
 * (read-only). */
UST_API int ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value);
/* String knobs (net.inet.tcp.cc.algorithm, net.inet.tcp.cc.available):
 * copies the value with its NUL into buf.  -UST_ENOENT for an unknown
 * name, -UST_EINVAL for an integer knob, -UST_ENOMEM when len is too
 * short (buf then holds as much as fits, NUL-terminated; FreeBSD
 * sysctl(3)). */
UST_API int ust_sysctl_get_str(const struct ust_stack *st, const char *name, char *buf, size_t len);
/* -UST_ENOENT for an unknown name or a value the knob does not know (an
 * unknown congestion-control module), -UST_EINVAL for an integer knob,
 * -UST_EPERM for a read-only one. */
UST_API int ust_sysctl_set_str(struct ust_stack *st, const char *name, const char *value);
/* The idx-th knob of the registry, integer knobs first, then string
 * knobs; -UST_ENOENT past the last.  Built with UST_SYSCTL_NAMES 0, name
 * and descr are NULL (and the by-name calls above return
 * -UST_EOPNOTSUPP): knobs are reached by this index only. */
UST_API int ust_sysctl_info(unsigned idx, struct ust_sysctl_info *out);
/* Integer knob by its ust_sysctl_info index (whatever UST_SYSCTL_NAMES
 * says).  The same errors as by name; -UST_ENOENT for an index that is
 * not an integer knob. */
UST_API int ust_sysctl_get_id(const struct ust_stack *st, unsigned idx, int64_t *value);
UST_API int ust_sysctl_set_id(struct ust_stack *st, unsigned idx, int64_t value);

struct ust_tcpstat;
struct ust_etherstat;
struct ust_arpstat;
struct ust_ipstat;
struct ust_icmpstat;
struct ust_udpstat;
struct ust_ip6stat;
struct ust_icmp6stat;
/* Copies of the protocol counters (ustack_stats.h). */
UST_API void ust_stats_ether(const struct ust_stack *st, struct ust_etherstat *out);
UST_API void ust_stats_arp(const struct ust_stack *st, struct ust_arpstat *out);
UST_API void ust_stats_ip(const struct ust_stack *st, struct ust_ipstat *out);
UST_API void ust_stats_icmp(const struct ust_stack *st, struct ust_icmpstat *out);
UST_API void ust_stats_udp(const struct ust_stack *st, struct ust_udpstat *out);
UST_API void ust_stats_tcp(const struct ust_stack *st, struct ust_tcpstat *out);
/* IPv6 and ICMPv6 (zeros without UST_INET6); TCP and UDP over IPv6 count
 * in the structs above, as in FreeBSD. */
UST_API void ust_stats_ip6(const struct ust_stack *st, struct ust_ip6stat *out);
UST_API void ust_stats_icmp6(const struct ust_stack *st, struct ust_icmp6stat *out);
struct ust_stat_desc;
/* Counter idx (0, 1, ...) of the structs above, in group and field order:
 * group, field, description, offset and element count.  Returns 0, or
 * -UST_ENOENT past the last one.  No stack needed. */
UST_API int ust_stats_describe(unsigned idx, struct ust_stat_desc *out);

/* ---------------------------------------------------------------------
 * Read-only mbuf access (for capture hooks and input hooks).
 * ------------------------------------------------------------------- */
UST_API size_t ust_mbuf_pktlen(const struct ust_mbuf *m);
/* Copies len bytes from offset off of the packet into dst.  Returns 0, or
 * -UST_EINVAL when the packet is shorter than off + len. */
UST_API int ust_mbuf_copydata(const struct ust_mbuf *m, size_t off, size_t len, void *dst);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_H */
