/*
 * cffi cdef for include/ustack/ustack_group.h, in header order: RSS (the
 * Toeplitz hash), the group of stacks, its counters, and the
 * application-thread API (ust_stack_exec, ust_socket_wait, the group
 * event queue).  ust_stack_lock/unlock are in 02_ustack.h.
 *
 * Array sizes are written out (UST_RSS_KEYLEN 40, UST_GROUP_MAX 64): the
 * drift checks compare them with the header's.
 */

#define UST_RSS_KEYLEN ...
#define UST_RSS_RETA_SIZE ...

#define UST_RSS_NONE ...
#define UST_RSS_IPV4 ...
#define UST_RSS_TCP_IPV4 ...
#define UST_RSS_UDP_IPV4 ...
#define UST_RSS_IPV6 ...
#define UST_RSS_TCP_IPV6 ...
#define UST_RSS_UDP_IPV6 ...

void ust_rss_default_key(uint8_t key[40]);
uint32_t ust_toeplitz_hash(const uint8_t *key, size_t keylen, const void *data, size_t len);
uint32_t ust_rss_hash_v4(const uint8_t key[40], uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, int with_ports);
uint32_t ust_rss_hash_v6(const uint8_t key[40], const struct ust_in6_addr *src,
    const struct ust_in6_addr *dst, uint16_t sport, uint16_t dport, int with_ports);
int ust_rss_hash_frame(const uint8_t key[40], const void *frame, size_t len, uint32_t *hash);
unsigned ust_rss_queue(uint32_t hash, unsigned n);

#define UST_GROUP_MAX ...

struct ust_group;

struct ust_group_config {
	unsigned nstacks;
	struct ust_stack_config stack;
	uint8_t rss_key[40];
	int rss_key_set;
	int threads;
	int pin;
	int cpus[64];
	int busy_poll;
	uint32_t ring_size;
	...;
};

struct ust_group_stats {
	uint64_t rss_local;
	uint64_t rss_steered_out;
	uint64_t rss_steered_in;
	uint64_t rss_ring_full;
	uint64_t rss_replicated;
	uint64_t rss_copies_in;
	uint64_t lport_tries;
	uint64_t exec_calls;
	uint64_t wakeups;
	uint64_t sleeps;
	...;
};

void ust_group_config_init(struct ust_group_config *cfg);
int ust_group_create(const struct ust_group_config *cfg, struct ust_group **out);
void ust_group_destroy(struct ust_group *g);
unsigned ust_group_size(const struct ust_group *g);
struct ust_stack *ust_group_stack(struct ust_group *g, unsigned i);
struct ust_group *ust_stack_group(const struct ust_stack *st);
unsigned ust_stack_group_index(const struct ust_stack *st);

int ust_group_if_attach(struct ust_group *g, const char *name, const struct ust_driver_ops *ops,
    void *const *softcs, struct ust_if **ifps);
struct ust_if *ust_group_if(struct ust_group *g, unsigned i, const char *name);

int ust_group_start(struct ust_group *g);
void ust_group_stop(struct ust_group *g);

int ust_group_foreach(struct ust_group *g,
    int (*fn)(struct ust_stack *st, unsigned i, void *arg), void *arg);
int ust_group_if_addr_add(struct ust_group *g, const char *ifname, uint32_t addr,
    unsigned prefixlen);
int ust_group_if_addr6_add(struct ust_group *g, const char *ifname,
    const struct ust_in6_addr *addr, unsigned prefixlen, unsigned flags);
int ust_group_route_add(struct ust_group *g, uint32_t dst, unsigned prefixlen, uint32_t gateway,
    const char *ifname);
int ust_group_route6_add(struct ust_group *g, const struct ust_in6_addr *dst, unsigned prefixlen,
    const struct ust_in6_addr *gateway, const char *ifname);
int ust_group_arp_add_static(struct ust_group *g, const char *ifname, uint32_t addr,
    const uint8_t mac[6]);
int ust_group_nd6_add_static(struct ust_group *g, const char *ifname,
    const struct ust_in6_addr *addr, const uint8_t mac[6]);
int ust_group_sysctl_set(struct ust_group *g, const char *name, int64_t value);

#define UST_GROUP_ALL ...
void ust_group_get_stats(struct ust_group *g, unsigned i, struct ust_group_stats *out);
void ust_group_stats_ether(struct ust_group *g, struct ust_etherstat *out);
void ust_group_stats_arp(struct ust_group *g, struct ust_arpstat *out);
void ust_group_stats_ip(struct ust_group *g, struct ust_ipstat *out);
void ust_group_stats_icmp(struct ust_group *g, struct ust_icmpstat *out);
void ust_group_stats_udp(struct ust_group *g, struct ust_udpstat *out);
void ust_group_stats_tcp(struct ust_group *g, struct ust_tcpstat *out);
void ust_group_stats_ip6(struct ust_group *g, struct ust_ip6stat *out);
void ust_group_stats_icmp6(struct ust_group *g, struct ust_icmp6stat *out);
void ust_group_stack_stats(struct ust_group *g, struct ust_stack_stats *out);

int ust_stack_exec(struct ust_stack *st, int (*fn)(struct ust_stack *st, void *arg), void *arg);
int ust_stack_threaded(const struct ust_stack *st);
int ust_socket_wait(struct ust_socket *so, uint32_t events, int64_t timeout_ns,
    uint32_t *revents);
int ust_group_evq_create(struct ust_group *g, struct ust_evq **out);
