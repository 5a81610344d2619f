/*
 * cffi cdef for include/ustack/ustack.h, in header order.
 */

#define UST_VERSION_MAJOR ...
#define UST_VERSION_MINOR ...
#define UST_VERSION_PATCH ...

#define UST_EPERM ...
#define UST_ENOENT ...
#define UST_EIO ...
#define UST_E2BIG ...
#define UST_EBADF ...
#define UST_ENOMEM ...
#define UST_EACCES ...
#define UST_EFAULT ...
#define UST_EBUSY ...
#define UST_EEXIST ...
#define UST_ENODEV ...
#define UST_EINVAL ...
#define UST_ENFILE ...
#define UST_EMFILE ...
#define UST_ENOSPC ...
#define UST_EPIPE ...
#define UST_ERANGE ...
#define UST_EAGAIN ...
#define UST_EWOULDBLOCK ...
#define UST_EINPROGRESS ...
#define UST_EALREADY ...
#define UST_ENOTSOCK ...
#define UST_EDESTADDRREQ ...
#define UST_EMSGSIZE ...
#define UST_EPROTOTYPE ...
#define UST_ENOPROTOOPT ...
#define UST_EPROTONOSUPPORT ...
#define UST_EOPNOTSUPP ...
#define UST_EAFNOSUPPORT ...
#define UST_EADDRINUSE ...
#define UST_EADDRNOTAVAIL ...
#define UST_ENETDOWN ...
#define UST_ENETUNREACH ...
#define UST_ECONNABORTED ...
#define UST_ECONNRESET ...
#define UST_ENOBUFS ...
#define UST_EISCONN ...
#define UST_ENOTCONN ...
#define UST_ESHUTDOWN ...
#define UST_ETIMEDOUT ...
#define UST_ECONNREFUSED ...
#define UST_EHOSTDOWN ...
#define UST_EHOSTUNREACH ...

const char *ust_strerror(int err);
const char *ust_errname(int err);
const char *ust_version(void);

/* Compile-time options (ustack_opts.h) the bindings need. */
#define UST_MAX_IFNET ...
#define UST_RX_BURST_MAX ...
#define UST_MCLBYTES ...
#define UST_MJUMBYTES ...

struct ust_stack;
struct ust_if;
struct ust_mbuf;

struct ust_stack_config {
	size_t mem_limit;
	uint32_t nmbufs;
	uint32_t nmbclusters;
	uint32_t nmbjumbo9;
	struct ust_clock clock;
	int seed_set;
	uint64_t seed;
	uint64_t tick_ns;
	uint32_t rx_burst;
	uint32_t ifq_maxlen;
	struct ust_logger log;
	...;
};

void ust_stack_config_init(struct ust_stack_config *cfg);
int ust_stack_create(const struct ust_stack_config *cfg, struct ust_stack **out);
void ust_stack_destroy(struct ust_stack *st);
int ust_stack_poll(struct ust_stack *st);
uint64_t ust_stack_now(const struct ust_stack *st);
uint64_t ust_stack_next_deadline(struct ust_stack *st);
void ust_stack_lock(struct ust_stack *st);
void ust_stack_unlock(struct ust_stack *st);
uint64_t ust_stack_random(struct ust_stack *st);
void ust_stack_get_mem(const struct ust_stack *st, struct ust_mem *out);
int ust_stack_get_zone_stats(const struct ust_stack *st, unsigned idx,
    struct ust_zone_stats *out);

struct ust_stack_stats {
	uint64_t polls;
	uint64_t rx_frames;
	uint64_t tx_frames;
	uint64_t callouts_run;
	uint64_t nombuf;
	uint64_t nocluster;
	...;
};
void ust_stack_get_stats(const struct ust_stack *st, struct ust_stack_stats *out);

struct ust_driver_ops;

int ust_if_attach(struct ust_stack *st, const char *name,
    const struct ust_driver_ops *ops, void *softc, struct ust_if **out);
void ust_if_detach(struct ust_if *ifp);
struct ust_if *ust_if_by_name(struct ust_stack *st, const char *name);
struct ust_stack *ust_if_stack(const struct ust_if *ifp);
const char *ust_if_name(const struct ust_if *ifp);
unsigned ust_if_index(const struct ust_if *ifp);
void ust_if_get_mac(const struct ust_if *ifp, uint8_t mac[6]);
uint32_t ust_if_mtu(const struct ust_if *ifp);
uint32_t ust_if_caps(const struct ust_if *ifp);

struct ust_if_stats {
	uint64_t ipackets;
	uint64_t ibytes;
	uint64_t ierrors;
	uint64_t iqdrops;
	uint64_t noproto;
	uint64_t opackets;
	uint64_t obytes;
	uint64_t oerrors;
	uint64_t oqdrops;
	uint64_t imcasts;
	uint64_t lro_queued;
	uint64_t lro_flushed;
	uint64_t lro_bad_csum;
	...;
};
void ust_if_get_stats(const struct ust_if *ifp, struct ust_if_stats *out);

enum ust_capture_dir { UST_CAPTURE_IN = ..., UST_CAPTURE_OUT = ..., ... };
typedef void (*ust_capture_fn)(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
void ust_if_set_capture(struct ust_if *ifp, ust_capture_fn fn, void *arg);

typedef int (*ust_if_input_fn)(void *arg, struct ust_if *ifp, const struct ust_mbuf *m);
void ust_if_set_input_hook(struct ust_if *ifp, ust_if_input_fn fn, void *arg);
int ust_if_output_frame(struct ust_if *ifp, const void *frame, size_t len);

/* IPv4 addresses, routes and the ARP cache (network byte order). */
int ust_if_addr_add(struct ust_if *ifp, uint32_t addr, unsigned prefixlen);
int ust_if_addr_del(struct ust_if *ifp, uint32_t addr);
int ust_if_addr_get(const struct ust_if *ifp, unsigned idx, uint32_t *addr,
    unsigned *prefixlen);

#define UST_RTF_UP ...
#define UST_RTF_GATEWAY ...
#define UST_RTF_STATIC ...

struct ust_route_info {
	uint32_t dst;
	unsigned prefixlen;
	uint32_t gateway;
	uint32_t src;
	unsigned ifindex;
	uint32_t flags;
	...;
};

int ust_route_add(struct ust_stack *st, uint32_t dst, unsigned prefixlen,
    uint32_t gateway, struct ust_if *ifp);
int ust_route_del(struct ust_stack *st, uint32_t dst, unsigned prefixlen);
int ust_route_lookup(struct ust_stack *st, uint32_t dst, struct ust_route_info *out);
int ust_route_get(struct ust_stack *st, unsigned idx, struct ust_route_info *out);

#define UST_ARP_STATIC ...
#define UST_ARP_RESOLVED ...

struct ust_arp_entry {
	uint32_t addr;
	uint8_t mac[6];
	unsigned ifindex;
	uint32_t flags;
	uint64_t expire_ns;
	uint32_t held;
	...;
};

int ust_arp_add_static(struct ust_if *ifp, uint32_t addr, const uint8_t mac[6]);
int ust_arp_del(struct ust_if *ifp, uint32_t addr);
int ust_arp_lookup(struct ust_stack *st, uint32_t addr, struct ust_arp_entry *out);
int ust_arp_get(struct ust_stack *st, unsigned idx, struct ust_arp_entry *out);

/* Sockets (BSD API, FreeBSD constant values). */
#define UST_AF_INET ...
#define UST_AF_INET6 ...
#define UST_SOCK_STREAM ...
#define UST_SOCK_DGRAM ...
#define UST_SOCK_RAW ...
#define UST_IPPROTO_IP ...
#define UST_IPPROTO_ICMP ...
#define UST_IPPROTO_TCP ...
#define UST_IPPROTO_UDP ...
#define UST_IPPROTO_IPV6 ...
#define UST_IPPROTO_ICMPV6 ...

#define UST_SOL_SOCKET ...
#define UST_SO_REUSEADDR ...
#define UST_SO_KEEPALIVE ...
#define UST_SO_BROADCAST ...
#define UST_SO_LINGER ...
#define UST_SO_OOBINLINE ...
#define UST_SO_REUSEPORT ...
#define UST_SO_REUSEPORT_LB ...
#define UST_SO_SNDBUF ...
#define UST_SO_RCVBUF ...
#define UST_SO_SNDLOWAT ...
#define UST_SO_RCVLOWAT ...
#define UST_SO_ERROR ...
#define UST_SO_TYPE ...
#define UST_IP_TOS ...
#define UST_IP_TTL ...
#define UST_IPV6_UNICAST_HOPS ...
#define UST_IPV6_CHECKSUM ...
#define UST_IPV6_V6ONLY ...
#define UST_IPV6_RECVPKTINFO ...
#define UST_IPV6_TCLASS ...
#define UST_IPV6_USE_MIN_MTU ...
#define UST_ICMP6_FILTER ...

#define UST_TCP_NODELAY ...
#define UST_TCP_MAXSEG ...
#define UST_TCP_NOPUSH ...
#define UST_TCP_NOOPT ...
#define UST_TCP_MD5SIG ...
#define UST_TCP_INFO ...
#define UST_TCP_CONGESTION ...
#define UST_TCP_KEEPINIT ...
#define UST_TCP_KEEPIDLE ...
#define UST_TCP_KEEPINTVL ...
#define UST_TCP_KEEPCNT ...
#define UST_TCP_FASTOPEN ...
#define UST_TCP_FUNCTION_BLK ...
#define UST_TCP_FUNCTION_NAME_LEN_MAX ...
struct ust_tcp_function_set {
	char function_set_name[32];
	uint32_t pcbcnt;
};
#define UST_TCP_REMOTE_UDP_ENCAPS_PORT ...

#define UST_TCPS_CLOSED ...
#define UST_TCPS_LISTEN ...
#define UST_TCPS_SYN_SENT ...
#define UST_TCPS_SYN_RECEIVED ...
#define UST_TCPS_ESTABLISHED ...
#define UST_TCPS_CLOSE_WAIT ...
#define UST_TCPS_FIN_WAIT_1 ...
#define UST_TCPS_CLOSING ...
#define UST_TCPS_LAST_ACK ...
#define UST_TCPS_FIN_WAIT_2 ...
#define UST_TCPS_TIME_WAIT ...

#define UST_TCPI_OPT_TIMESTAMPS ...
#define UST_TCPI_OPT_SACK ...
#define UST_TCPI_OPT_WSCALE ...
#define UST_TCPI_OPT_ECN ...
#define UST_TCPI_OPT_TOE ...

struct ust_tcp_info {
	uint8_t tcpi_state;
	uint8_t tcpi_options;
	uint8_t tcpi_snd_wscale;
	uint8_t tcpi_rcv_wscale;
	uint32_t tcpi_rto;
	uint32_t tcpi_rtt;
	uint32_t tcpi_rttvar;
	uint32_t tcpi_snd_mss;
	uint32_t tcpi_rcv_mss;
	uint32_t tcpi_snd_ssthresh;
	uint32_t tcpi_snd_cwnd;
	uint32_t tcpi_snd_wnd;
	uint32_t tcpi_rcv_space;
	uint32_t tcpi_snd_nxt;
	uint32_t tcpi_rcv_nxt;
	uint32_t tcpi_unacked;
	uint32_t tcpi_sacked;
	uint32_t tcpi_lost;
	uint32_t tcpi_retransmits;
	uint32_t tcpi_backoff;
	uint64_t tcpi_snd_rexmitpack;
	uint64_t tcpi_snd_rexmitbyte;
	uint64_t tcpi_rcv_ooopack;
	uint64_t tcpi_snd_zerowin;
	uint64_t tcpi_bytes_acked;
	uint64_t tcpi_bytes_received;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_last_data_recv;
};

#define UST_MSG_OOB ...
#define UST_MSG_PEEK ...
#define UST_MSG_DONTWAIT ...
#define UST_SHUT_RD ...
#define UST_SHUT_WR ...
#define UST_SHUT_RDWR ...

#define UST_INADDR_ANY ...
#define UST_INADDR_BROADCAST ...

typedef uint32_t ust_socklen_t;

struct ust_sockaddr {
	uint8_t sa_len;
	uint8_t sa_family;
	char sa_data[14];
};

struct ust_sockaddr_storage {
	uint8_t ss_len;
	uint8_t ss_family;
	...;
};

struct ust_sockaddr_in {
	uint8_t sin_len;
	uint8_t sin_family;
	uint16_t sin_port;
	uint32_t sin_addr;
	uint8_t sin_zero[8];
	...;
};

struct ust_in6_addr {
	uint8_t s6_addr8[16];
};

struct ust_sockaddr_in6 {
	uint8_t sin6_len;
	uint8_t sin6_family;
	uint16_t sin6_port;
	uint32_t sin6_flowinfo;
	struct ust_in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};

struct ust_tcp_conn {
	uint32_t laddr;
	uint32_t faddr;
	uint16_t lport;
	uint16_t fport;
	uint8_t state;
	uint8_t has_socket;
	uint8_t timers;
	uint8_t rxtshift;
	uint32_t idle_ms;
	uint32_t recv_q;
	uint32_t send_q;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint8_t family;
	struct ust_in6_addr laddr6;
	struct ust_in6_addr faddr6;
	uint32_t scope_id;
};
#define UST_TCPT_DELACK ...
#define UST_TCPT_REXMT ...
#define UST_TCPT_PERSIST ...
#define UST_TCPT_KEEP ...
#define UST_TCPT_2MSL ...
size_t ust_tcp_pcblist(struct ust_stack *st, struct ust_tcp_conn *out, size_t max);
int ust_tcp_drop(struct ust_stack *st, const struct ust_sockaddr *laddr, ust_socklen_t llen,
    const struct ust_sockaddr *faddr, ust_socklen_t flen);
int ust_tcp_md5_sa_add(struct ust_stack *st, const struct ust_sockaddr *src,
    ust_socklen_t srclen, const struct ust_sockaddr *dst, ust_socklen_t dstlen, const void *key,
    size_t keylen);
int ust_tcp_md5_sa_del(struct ust_stack *st, const struct ust_sockaddr *src,
    ust_socklen_t srclen, const struct ust_sockaddr *dst, ust_socklen_t dstlen);
int ust_tcp_md5_key_add(struct ust_stack *st, const struct ust_sockaddr *local,
    ust_socklen_t llen, const struct ust_sockaddr *remote, ust_socklen_t rlen, const void *key,
    size_t keylen);
int ust_tcp_md5_key_del(struct ust_stack *st, const struct ust_sockaddr *local,
    ust_socklen_t llen, const struct ust_sockaddr *remote, ust_socklen_t rlen);
void ust_tcp_md5_flush(struct ust_stack *st);
size_t ust_tcp_md5_count(const struct ust_stack *st);

/* IPv6 addresses, routes and the neighbor cache. */
#define UST_IN6_IFF_ANYCAST ...
#define UST_IN6_IFF_TENTATIVE ...
#define UST_IN6_IFF_DUPLICATED ...
#define UST_IN6_IFF_DEPRECATED ...
#define UST_IN6_IFF_NODAD ...
#define UST_IN6_IFF_AUTOCONF ...
int ust_if_addr6_add(struct ust_if *ifp, const struct ust_in6_addr *addr, unsigned prefixlen,
    unsigned flags);
int ust_if_addr6_del(struct ust_if *ifp, const struct ust_in6_addr *addr);
int ust_if_addr6_get(const struct ust_if *ifp, unsigned idx, struct ust_in6_addr *addr,
    unsigned *prefixlen, unsigned *flags);

struct ust_route6_info {
	struct ust_in6_addr dst;
	unsigned prefixlen;
	struct ust_in6_addr gateway;
	unsigned ifindex;
	uint32_t mtu;
	uint32_t flags;
	...;
};
int ust_route6_add(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, struct ust_if *ifp);
int ust_route6_del(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned prefixlen);
int ust_route6_lookup(struct ust_stack *st, const struct ust_in6_addr *dst, unsigned scope_id,
    struct ust_route6_info *out);
int ust_route6_get(struct ust_stack *st, unsigned idx, struct ust_route6_info *out);

#define UST_ND6_INCOMPLETE ...
#define UST_ND6_REACHABLE ...
#define UST_ND6_STALE ...
#define UST_ND6_DELAY ...
#define UST_ND6_PROBE ...
#define UST_ND6_STATIC ...
#define UST_ND6_ISROUTER ...
struct ust_nd6_entry {
	struct ust_in6_addr addr;
	uint8_t mac[6];
	int state;
	unsigned ifindex;
	uint32_t flags;
	uint64_t expire_ns;
	uint32_t held;
	...;
};
int ust_nd6_add_static(struct ust_if *ifp, const struct ust_in6_addr *addr, const uint8_t mac[6]);
int ust_nd6_del(struct ust_if *ifp, const struct ust_in6_addr *addr);
int ust_nd6_lookup(struct ust_stack *st, const struct ust_in6_addr *addr, unsigned scope_id,
    struct ust_nd6_entry *out);
int ust_nd6_get(struct ust_stack *st, unsigned idx, struct ust_nd6_entry *out);

struct ust_icmp6_filter {
	uint32_t icmp6_filt[8];
};

struct ust_linger {
	int l_onoff;
	int l_linger;
	...;
};

struct ust_socket;

int ust_socket(struct ust_stack *st, int domain, int type, int protocol,
    struct ust_socket **out);
int ust_bind(struct ust_socket *so, const struct ust_sockaddr *addr, ust_socklen_t len);
int ust_connect(struct ust_socket *so, const struct ust_sockaddr *addr, ust_socklen_t len);
int ust_listen(struct ust_socket *so, int backlog);
int ust_accept(struct ust_socket *so, struct ust_socket **out,
    struct ust_sockaddr *peer, ust_socklen_t *len);
ptrdiff_t ust_send(struct ust_socket *so, const void *buf, size_t len, int flags);
ptrdiff_t ust_sendto(struct ust_socket *so, const void *buf, size_t len, int flags,
    const struct ust_sockaddr *to, ust_socklen_t tolen);
ptrdiff_t ust_recv(struct ust_socket *so, void *buf, size_t len, int flags);
ptrdiff_t ust_recvfrom(struct ust_socket *so, void *buf, size_t len, int flags,
    struct ust_sockaddr *from, ust_socklen_t *fromlen);
/* Zero-copy sockets (docs/zerocopy.md); struct ust_iovec is in
 * 03_ustack_driver.h. */
#define UST_ZC_COPIED 1
typedef void (*ust_zc_done_fn)(void *arg, const void *buf, size_t len, int status);
ptrdiff_t ust_send_zc(struct ust_socket *so, const void *buf, size_t len, int flags,
    ust_zc_done_fn done, void *arg);
ptrdiff_t ust_sendv(struct ust_socket *so, const struct ust_iovec *iov, int iovcnt,
    int flags);
ptrdiff_t ust_recv_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max,
    int flags);
ptrdiff_t ust_recvfrom_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max,
    int flags, struct ust_sockaddr *from, ust_socklen_t *fromlen);
void ust_mbuf_release(struct ust_socket *so, struct ust_mbuf *chain);
int ust_shutdown(struct ust_socket *so, int how);
int ust_close(struct ust_socket *so);
int ust_getsockname(struct ust_socket *so, struct ust_sockaddr *addr, ust_socklen_t *len);
int ust_getpeername(struct ust_socket *so, struct ust_sockaddr *addr, ust_socklen_t *len);
int ust_setsockopt(struct ust_socket *so, int level, int name, const void *val,
    size_t len);
int ust_getsockopt(struct ust_socket *so, int level, int name, void *val, size_t *len);
struct ust_stack *ust_socket_stack(const struct ust_socket *so);

/* Readiness events (epoll-like; level-triggered). */
#define UST_EV_IN ...
#define UST_EV_OUT ...
#define UST_EV_ERR ...
#define UST_EV_HUP ...
#define UST_EV_RDHUP ...

#define UST_EVQ_ADD ...
#define UST_EVQ_MOD ...
#define UST_EVQ_DEL ...

struct ust_event {
	uint32_t events;
	void *udata;
	...;
};

struct ust_evq;

int ust_evq_create(struct ust_stack *st, struct ust_evq **out);
void ust_evq_destroy(struct ust_evq *evq);
int ust_evq_ctl(struct ust_evq *evq, int op, struct ust_socket *so, uint32_t events,
    void *udata);
int ust_evq_poll(struct ust_evq *evq, struct ust_event *evs, int max);
int ust_evq_wait(struct ust_evq *evq, struct ust_event *evs, int max,
    int64_t timeout_ns);

typedef void (*ust_upcall_fn)(void *arg, struct ust_socket *so, uint32_t events);
void ust_socket_set_upcall(struct ust_socket *so, ust_upcall_fn fn, void *arg);

/* Knobs (a sysctl registry) and counters. */
#define UST_SYSCTL_RDONLY ...
#define UST_SYSCTL_STRING ...

struct ust_sysctl_info {
	const char *name;
	const char *descr;
	int64_t defval;
	int64_t min;
	int64_t max;
	uint32_t flags;
	const char *defstr;
	...;
};

int ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value);
int ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value);
int ust_sysctl_get_str(const struct ust_stack *st, const char *name, char *buf, size_t len);
int ust_sysctl_set_str(struct ust_stack *st, const char *name, const char *value);
int ust_sysctl_info(unsigned idx, struct ust_sysctl_info *out);

/* The structs are in 06_ustack_stats.h. */
struct ust_etherstat;
struct ust_arpstat;
struct ust_ip6stat;
struct ust_icmp6stat;
struct ust_ipstat;
struct ust_icmpstat;
struct ust_udpstat;
struct ust_tcpstat;
void ust_stats_ether(const struct ust_stack *st, struct ust_etherstat *out);
void ust_stats_arp(const struct ust_stack *st, struct ust_arpstat *out);
void ust_stats_ip(const struct ust_stack *st, struct ust_ipstat *out);
void ust_stats_icmp(const struct ust_stack *st, struct ust_icmpstat *out);
void ust_stats_udp(const struct ust_stack *st, struct ust_udpstat *out);
void ust_stats_tcp(const struct ust_stack *st, struct ust_tcpstat *out);
void ust_stats_ip6(const struct ust_stack *st, struct ust_ip6stat *out);
void ust_stats_icmp6(const struct ust_stack *st, struct ust_icmp6stat *out);
int ust_stats_describe(unsigned idx, struct ust_stat_desc *out);

size_t ust_mbuf_pktlen(const struct ust_mbuf *m);
int ust_mbuf_copydata(const struct ust_mbuf *m, size_t off, size_t len, void *dst);
