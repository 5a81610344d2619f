/*
 * dpdk.c - the DPDK driver: a stack on an ethdev port's queue pair.
 *
 * ust_dpdk_eal_init() starts DPDK's EAL (once per process), then
 * ust_dpdk_port_open() configures a port with N rx/tx queue pairs, an rx
 * mempool and a tx mempool, and starts it; ust_dpdk_attach() (or
 * ust_if_attach with ust_dpdk_ops()/ust_dpdk_softc()) makes queue pair i
 * one interface of a stack.  Each queue is used by one stack thread only.
 *
 *   ust_stack_poll -> dpdk_rx_burst -> rte_eth_rx_burst ->
 *       ust_mbuf_attach_ext (lend the rte_mbuf's data; dpdk_rx_free ->
 *       rte_pktmbuf_free when the stack lets go) or ust_mbuf_alloc + copy
 *   ust_stack_poll -> dpdk_tx_burst -> [ust_mbuf_tso_segment /
 *       ust_mbuf_csum_fill for offloads the port lacks] -> dpdk_tx_gather
 *       (the frame's head, its headers, copied into an rte_mbuf, every
 *       other byte of the chain attached as external buffers sharing one
 *       rte_mbuf_ext_shared_info whose free callback frees the stack's
 *       mbuf) -> rte_eth_tx_burst
 *
 * Receive lends at most half the rx pool per queue (a lend record each)
 * and copies beyond, so that an application that does not read cannot
 * stall the port; zero_copy 0 always copies.  Detach frees what the port
 * still holds of the stack's frames (rte_eth_tx_done_cleanup, else the tx
 * queue is stopped); ust_dpdk_port_close detaches, stops and closes.
 *
 * Transmit copies instead (one rte_mbuf chain of copies) when the port
 * cannot take multi-segment frames, when the EAL runs with physical IOVAs
 * (the stack's buffers are not DPDK memory: a NIC could not DMA them
 * without rte_extmem_register, which this driver does not do), when a
 * frame has more buffers than the port takes (DPDK_TX_MAXSEG, its
 * tx_desc_lim), and on net_ring: its tx
 * hands the rte_mbuf itself to the peer's rx, so a stack buffer would be
 * freed on the peer's thread, after this stack detached.
 *
 * Offloads (ustack_driver.h's contract): UST_IFCAP_TXCSUM and TSO4, and
 * for IPv6 TXCSUM_IPV6 and TSO6 (RTE_MBUF_F_TX_IPV6, l3_len 40, never
 * IP_CKSUM), are always offered, done by the port when its tx_offload_capa has
 * IPV4/TCP/UDP checksums (and TCP_TSO) and in software otherwise;
 * UST_IFCAP_RXCSUM only when the port verifies checksums.  The stack's
 * pseudo-header sums are what DPDK's PMDs expect (rte_net_intel_cksum_
 * prepare writes the same: with the length for checksum offload, without
 * for TSO), so headers go out untouched.  net_tap's TSO refuses segments
 * whose size plus every header (Ethernet included) exceeds the MTU: its
 * tso_segsz is clamped to fit (more, smaller segments).
 *
 * Several queue pairs (a group of stacks, one per queue): when the port
 * hashes (its flow_type_rss_offloads cover IPv4/IPv6, TCP and UDP) it is
 * configured for RSS over addresses and ports with the standard Toeplitz
 * key (ust_rss_default_key, when it takes a 40-byte key; else its own) and
 * its default indirection table (entry e -> queue e % n), so every queue
 * gets its share of the flows; a group re-steers in software whatever the
 * port puts on another stack's queue.  The port's hash is not passed on
 * (ust_mbuf_set_rss): its inputs and key are the PMD's business, and the
 * group's own hash is cheap.  A port without RSS (net_ring, memif) keeps
 * queue i joined to queue i.  net_tap with several queue pairs is
 * configured with rx interrupts: a queue's interrupt descriptor is the TAP
 * queue's own, readable while frames wait, and get_fd gives it so that a
 * group's thread sleeps on it (docs/dpdk.md).  Each queue's state (lend
 * records, tx contexts, backlog, counters) belongs to the thread that
 * polls it; the mempools are DPDK's (thread safe) and the multicast filter
 * is one per port (dpdk_mc_mtx).  A lent receive buffer must be freed on the thread
 * of the queue that lent it (dpdk_rx_free touches that queue's records).
 *
 * Global state: DPDK's EAL is process state (one rte_eal_init per process,
 * a second call fails even after rte_eal_cleanup), so this file keeps the
 * process's EAL state (dpdk_eal_state, the argv given to rte_eal_init,
 * which DPDK may keep pointers into) and the count of receive buffers lent
 * to stacks across all ports (dpdk_lent_total) with the list of closed
 * ports whose mempools wait for those buffers (dpdk_dying): on net_ring one
 * port's rx lends mbufs of the other port's pool, so a pool is freed only
 * when no lent buffer is left anywhere.  Nothing in netstack/ is global.
 */
/* _GNU_SOURCE comes from driver.cmake (before -include rte_config.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_bus_vdev.h>

#include <ustack/ustack_dpdk.h>
#include <ustack/ustack_group.h>

#define DPDK_ETHER_HDR 14
#define DPDK_BURST 32
#define DPDK_TX_MAXSEG 64 /* a 64 KB TSO frame of 2 KB clusters, and headers */
#define DPDK_HDR_COPY 256 /* head of a gathered frame copied (headers), not referenced */
#define DPDK_BACKLOG 64   /* software-TSO segments waiting for the ring */
#define DPDK_TSO_MAX 65535u
#define DPDK_MC_QUEUE 32 /* groups a queue's stack may join before allmulti */
#define DPDK_MC_PORT 64  /* the port's list (every queue's, merged) */
#define DPDK_TX_HW_CSUM                                                 \
	(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | \
	    RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
/* The stack's IPv4 and IPv6 checksum requests (UST_CSUM_*). */
#define DPDK_CSUM4 (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP)
#define DPDK_CSUM6 (UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP)
#define DPDK_TSO (UST_CSUM_TSO | UST_CSUM_IP6_TSO)
#define DPDK_RX_HW_CSUM                                                 \
	(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | \
	    RTE_ETH_RX_OFFLOAD_UDP_CKSUM)

/* What RSS hashes, where the port can: addresses and ports. */
#define DPDK_RSS_HF (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

struct ust_dpdk_port;
struct dpdk_queue;

/* A lent receive buffer: the argument of its free callback. */
struct dpdk_lend {
	struct dpdk_queue *l_q;
	struct rte_mbuf *l_m;
};

/* A frame transmitted by reference: the shared info of its external
 * buffers, freed (with the stack's mbuf) when the port is done. */
struct dpdk_txctx {
	struct rte_mbuf_ext_shared_info t_shinfo;
	struct dpdk_queue *t_q;
	struct ust_mbuf *t_m;
	int t_owned; /* 0: the port refused the frame, the stack keeps t_m */
};

struct dpdk_queue {
	struct ust_dpdk_port *q_port;
	uint16_t q_id;
	int q_attached;
	struct ust_if *q_ifp;
	struct dpdk_lend *q_lend; /* q_nlend records */
	struct dpdk_lend **q_lfree;
	uint32_t q_nlend, q_nlfree;
	struct dpdk_txctx *q_tx; /* q_ntx contexts */
	struct dpdk_txctx **q_tfree;
	uint32_t q_ntx, q_ntfree;
	struct ust_mbuf *q_backlog[DPDK_BACKLOG];
	int q_nbacklog;
	/* Counters of this queue: written by its thread only, read by
	 * ust_dpdk_get_stats on any thread (relaxed atomics, dpdk_cnt_add). */
	_Atomic uint64_t q_rx_lent, q_rx_copied, q_tx_full, q_tx_sw_csum, q_tx_tso, q_lent_now,
	    q_tx_copied;
	/* The multicast groups this queue's stack joined (dpdk_set_multicast),
	 * under dpdk_mc_mtx. */
	uint8_t q_mc[DPDK_MC_QUEUE][6];
	unsigned q_nmc;
	int q_allmulti;
};

struct ust_dpdk_port {
	uint16_t p_id;
	uint16_t p_nq;
	struct rte_mempool *p_rxpool, *p_txpool;
	struct dpdk_queue *p_q;
	uint8_t p_mac[6];
	uint32_t p_mtu;
	uint32_t p_caps;
	uint64_t p_txoff; /* tx offloads enabled on the port */
	int p_rxcsum;     /* rx checksum flags are meaningful */
	int p_hw_csum, p_hw_tso;
	int p_tx_copy; /* gather by copy (see the file header) */
	int p_tso_l2;  /* net_tap: Ethernet header counts against the MTU */
	int p_rxfd;    /* net_tap: each rx queue's interrupt fd is its TAP fd */
	int p_zero_copy;
	int p_maxseg; /* buffers a gathered frame may have (tx_desc_lim) */
	int p_started;
	int p_promisc; /* configured promiscuous: no multicast filter to open */
	/* How the port takes the merged multicast list, under dpdk_mc_mtx. */
	enum { DPDK_MC_LIST, DPDK_MC_ALLMULTI, DPDK_MC_PROMISC } p_mc_mode;
	struct ust_dpdk_port *p_next_dying;
};

enum { DPDK_EAL_NONE, DPDK_EAL_UP, DPDK_EAL_FAILED };
static int dpdk_eal_state = DPDK_EAL_NONE;
static char **dpdk_eal_argv;
static _Atomic uint64_t dpdk_lent_total;
static _Atomic int dpdk_ndying;
static struct ust_dpdk_port *dpdk_dying;
static pthread_mutex_t dpdk_dying_mtx = PTHREAD_MUTEX_INITIALIZER;
/* The queues of one port belong to stacks on different threads, and the
 * port's multicast filter is one: its updates go one at a time. */
static pthread_mutex_t dpdk_mc_mtx = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t dpdk_pool_seq;

/* A queue counter: one writer (the queue's thread), so no read-modify-write. */
static inline void
dpdk_cnt_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
	    memory_order_relaxed);
}

static inline uint64_t
dpdk_cnt_get(const _Atomic uint64_t *c)
{
	/* C11 atomic_load takes a non-const pointer in some libcs. */
	return (atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)c, memory_order_relaxed));
}

/* --- EAL ---------------------------------------------------------------- */

/* 1 when the EAL is up: ours, or the application's own rte_eal_init (no
 * lcore exists before it). */
static int
dpdk_eal_up(void)
{
	if (dpdk_eal_state == DPDK_EAL_NONE && rte_lcore_count() > 0)
		dpdk_eal_state = DPDK_EAL_UP;
	return (dpdk_eal_state == DPDK_EAL_UP);
}

int
ust_dpdk_eal_init(const char *args)
{
	char *copy, *tok, *save = NULL;
	char **argv;
	int argc = 0, n;
	size_t len;

	if (dpdk_eal_up())
		return (-UST_EALREADY);
	if (dpdk_eal_state == DPDK_EAL_FAILED)
		return (-UST_EIO);
	if (args == NULL)
		args = "";
	len = strlen(args);
	if ((copy = strdup(args)) == NULL)
		return (-UST_ENOMEM);
	/* At most one argument per two bytes, the program name and NULL. */
	if ((argv = calloc(len / 2 + 3, sizeof(*argv))) == NULL) {
		free(copy);
		return (-UST_ENOMEM);
	}
	argv[argc++] = "ustack";
	for (tok = strtok_r(copy, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		free(argv);
		free(copy);
		if (rte_errno == EALREADY) {
			dpdk_eal_state = DPDK_EAL_UP;
			return (-UST_EALREADY);
		}
		dpdk_eal_state = DPDK_EAL_FAILED;
		return (rte_errno == EINVAL ? -UST_EINVAL : -UST_EIO);
	}
	/* DPDK may keep pointers into argv: it lives as long as the process. */
	dpdk_eal_argv = argv;
	dpdk_eal_state = DPDK_EAL_UP;
	return (0);
}

int
ust_dpdk_eal_ready(void)
{
	return (dpdk_eal_up());
}

int
ust_dpdk_vdev_create(const char *name, const char *args, uint16_t *port_id)
{
	int rc;

	if (!dpdk_eal_up())
		return (-UST_ENETDOWN);
	if (name == NULL || port_id == NULL)
		return (-UST_EINVAL);
	rc = rte_vdev_init(name, args);
	if (rc != 0)
		return (rc == -EEXIST ? -UST_EEXIST : -UST_ENODEV);
	return (ust_dpdk_port_by_name(name, port_id));
}

int
ust_dpdk_ring_pair(const char *name, uint16_t nb_queues, uint32_t ring_size, uint16_t *port_a,
    uint16_t *port_b)
{
	struct rte_ring *ab[RTE_MAX_QUEUES_PER_PORT], *ba[RTE_MAX_QUEUES_PER_PORT];
	char rn[RTE_RING_NAMESIZE];
	int a, b;
	uint16_t i;

	if (!dpdk_eal_up())
		return (-UST_ENETDOWN);
	if (name == NULL || port_a == NULL || port_b == NULL || nb_queues == 0 ||
	    nb_queues > RTE_MAX_QUEUES_PER_PORT || strlen(name) > 16)
		return (-UST_EINVAL);
	if (ring_size == 0)
		ring_size = 1024;
	for (i = 0; i < nb_queues; i++) {
		/* Exact size: the ring holds ring_size frames, then refuses. */
		snprintf(rn, sizeof(rn), "%s_ab%u", name, i);
		ab[i] = rte_ring_create(rn, ring_size, SOCKET_ID_ANY,
		    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(rn, sizeof(rn), "%s_ba%u", name, i);
		ba[i] = rte_ring_create(rn, ring_size, SOCKET_ID_ANY,
		    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (ab[i] == NULL || ba[i] == NULL)
			return (rte_errno == EEXIST ? -UST_EEXIST : -UST_ENOMEM);
	}
	snprintf(rn, sizeof(rn), "%s_a", name);
	a = rte_eth_from_rings(rn, ba, nb_queues, ab, nb_queues, SOCKET_ID_ANY);
	snprintf(rn, sizeof(rn), "%s_b", name);
	b = rte_eth_from_rings(rn, ab, nb_queues, ba, nb_queues, SOCKET_ID_ANY);
	if (a < 0 || b < 0)
		return (-UST_EIO);
	*port_a = (uint16_t)a;
	*port_b = (uint16_t)b;
	return (0);
}

int
ust_dpdk_port_by_name(const char *name, uint16_t *port_id)
{
	if (!dpdk_eal_up())
		return (-UST_ENETDOWN);
	if (name == NULL || port_id == NULL)
		return (-UST_EINVAL);
	return (rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -UST_ENODEV);
}

/* --- ports -------------------------------------------------------------- */

void
ust_dpdk_port_config_init(struct ust_dpdk_port_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nb_queues = 1;
	cfg->nb_rxd = 1024;
	cfg->nb_txd = 1024;
	cfg->zero_copy = 1;
	cfg->caps_mask = UINT32_MAX;
}

static void
dpdk_port_free(struct ust_dpdk_port *p)
{
	uint16_t i;

	for (i = 0; p->p_q != NULL && i < p->p_nq; i++) {
		free(p->p_q[i].q_lend);
		free(p->p_q[i].q_lfree);
		free(p->p_q[i].q_tx);
		free(p->p_q[i].q_tfree);
	}
	free(p->p_q);
	rte_mempool_free(p->p_rxpool);
	rte_mempool_free(p->p_txpool);
	free(p);
}

/* Frees the closed ports once no lent buffer is left in the process. */
static void
dpdk_reap_dying(void)
{
	struct ust_dpdk_port *p, *next;

	pthread_mutex_lock(&dpdk_dying_mtx);
	if (atomic_load(&dpdk_lent_total) == 0) {
		for (p = dpdk_dying; p != NULL; p = next) {
			next = p->p_next_dying;
			dpdk_port_free(p);
			atomic_fetch_sub(&dpdk_ndying, 1);
		}
		dpdk_dying = NULL;
	}
	pthread_mutex_unlock(&dpdk_dying_mtx);
}

static int
dpdk_queue_init(struct ust_dpdk_port *p, struct dpdk_queue *q, uint16_t id, uint32_t nlend,
    uint32_t ntx)
{
	uint32_t i;

	q->q_port = p;
	q->q_id = id;
	q->q_nlend = nlend;
	q->q_ntx = ntx;
	q->q_lend = calloc(nlend, sizeof(*q->q_lend));
	q->q_lfree = calloc(nlend, sizeof(*q->q_lfree));
	q->q_tx = calloc(ntx, sizeof(*q->q_tx));
	q->q_tfree = calloc(ntx, sizeof(*q->q_tfree));
	if (q->q_lend == NULL || q->q_lfree == NULL || q->q_tx == NULL || q->q_tfree == NULL)
		return (-UST_ENOMEM);
	for (i = 0; i < nlend; i++) {
		q->q_lend[i].l_q = q;
		q->q_lfree[q->q_nlfree++] = &q->q_lend[i];
	}
	for (i = 0; i < ntx; i++) {
		q->q_tx[i].t_q = q;
		q->q_tfree[q->q_ntfree++] = &q->q_tx[i];
	}
	return (0);
}

/* What the port can do, into p_caps and the offloads to enable. */
static void
dpdk_port_offloads(struct ust_dpdk_port *p, const struct rte_eth_dev_info *di,
    const struct ust_dpdk_port_config *cfg, struct rte_eth_conf *conf)
{
	uint64_t tx = di->tx_offload_capa, rx = di->rx_offload_capa;

	p->p_hw_csum = (tx & DPDK_TX_HW_CSUM) == DPDK_TX_HW_CSUM;
	p->p_hw_tso = p->p_hw_csum && (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) != 0;
	if (!(cfg->caps_mask & UST_IFCAP_TXCSUM))
		p->p_hw_csum = p->p_hw_tso = 0;
	if (!(cfg->caps_mask & UST_IFCAP_TSO4))
		p->p_hw_tso = 0;
	/* net_tap (DPDK 22.11) does its checksum and TSO "offloads" in
	 * software itself, and gets L4 checksums wrong for some frames in
	 * several segments, which both a gathered frame and its own GSO
	 * output are: measured as TcpInCsumErrors at the kernel (1448-,
	 * 1434- and 14-byte segments, up to 90 in 3 MB) and a download that
	 * stalls on a segment retransmitted with the same bad sum.  ustack's
	 * own checksums and TSO are correct and cost the same CPU, so the
	 * port's are not used (the stack still gets TXCSUM and TSO4 from the
	 * driver, done here in software). */
	if (di->driver_name != NULL && strcmp(di->driver_name, "net_tap") == 0)
		p->p_hw_csum = p->p_hw_tso = 0;
	p->p_txoff = (tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) | (p->p_hw_csum ? DPDK_TX_HW_CSUM : 0) |
	    (p->p_hw_tso ? RTE_ETH_TX_OFFLOAD_TCP_TSO : 0);
	p->p_rxcsum =
	    (rx & DPDK_RX_HW_CSUM) == DPDK_RX_HW_CSUM && (cfg->caps_mask & UST_IFCAP_RXCSUM) != 0;
	conf->txmode.offloads = p->p_txoff;
	conf->rxmode.offloads = p->p_rxcsum ? DPDK_RX_HW_CSUM : 0;
	/* Frames longer than an mbuf's room arrive as chains (then copied). */
	if (cfg->mtu + DPDK_ETHER_HDR + 4 > RTE_MBUF_DEFAULT_DATAROOM &&
	    (rx & RTE_ETH_RX_OFFLOAD_SCATTER))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	/* Software fills what the port lacks: both are always offered. */
	p->p_caps = (UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6 |
	                (p->p_rxcsum ? UST_IFCAP_RXCSUM : 0)) &
	    cfg->caps_mask;
	if (p->p_caps & UST_IFCAP_TSO4)
		p->p_caps |= UST_IFCAP_TXCSUM;
	if (p->p_caps & UST_IFCAP_TSO6)
		p->p_caps |= UST_IFCAP_TXCSUM_IPV6;
	p->p_tx_copy = !(tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) ||
	    rte_eal_iova_mode() != RTE_IOVA_VA ||
	    (di->driver_name != NULL && strcmp(di->driver_name, "net_ring") == 0);
	p->p_tso_l2 = di->driver_name != NULL && strcmp(di->driver_name, "net_tap") == 0;
	/* The head mbuf is one more segment than the stack's buffers. */
	p->p_maxseg = DPDK_TX_MAXSEG;
	if (di->tx_desc_lim.nb_seg_max > 1 && di->tx_desc_lim.nb_seg_max - 1 < p->p_maxseg)
		p->p_maxseg = di->tx_desc_lim.nb_seg_max - 1;
	if (di->tx_desc_lim.nb_mtu_seg_max > 1 && di->tx_desc_lim.nb_mtu_seg_max - 1 < p->p_maxseg)
		p->p_maxseg = di->tx_desc_lim.nb_mtu_seg_max - 1;
}

/* A locally administered unicast MAC (IEEE 802: bit 1 of the first octet
 * set, bit 0 clear) from the process and port ids. */
static void
dpdk_local_mac(uint16_t port, struct rte_ether_addr *e)
{
	struct rte_ether_addr ea;
	uint32_t pid = (uint32_t)getpid();

	ea.addr_bytes[0] = 0x02;
	ea.addr_bytes[1] = (uint8_t)(pid >> 16);
	ea.addr_bytes[2] = (uint8_t)(pid >> 8);
	ea.addr_bytes[3] = (uint8_t)pid;
	ea.addr_bytes[4] = (uint8_t)(port >> 8);
	ea.addr_bytes[5] = (uint8_t)port;
	*e = ea;
}

static int
dpdk_port_setup(struct ust_dpdk_port *p, const struct ust_dpdk_port_config *cfg)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf conf;
	struct rte_ether_addr ea;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint8_t rss_key[UST_RSS_KEYLEN];
	uint32_t nmb = cfg->nb_mbufs != 0 ? cfg->nb_mbufs : 4095u * p->p_nq;
	uint16_t nrxd = cfg->nb_rxd, ntxd = cfg->nb_txd, mtu, i;
	int socket = rte_eth_dev_socket_id(p->p_id), rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	if (rte_eth_dev_info_get(p->p_id, &di) != 0)
		return (-UST_ENODEV);
	if (p->p_nq > di.max_rx_queues || p->p_nq > di.max_tx_queues)
		return (-UST_EINVAL);
	memset(&conf, 0, sizeof(conf));
	dpdk_port_offloads(p, &di, cfg, &conf);
	/* net_tap: rx "interrupts" are the TAP queues' own descriptors, readable
	 * while frames wait (level triggered): a group's thread sleeps on them. */
	if (p->p_tso_l2 && p->p_nq > 1) {
		conf.intr_conf.rxq = 1;
		p->p_rxfd = 1;
	}
	/* Several queues: RSS (the file header). */
	if (p->p_nq > 1 && (di.flow_type_rss_offloads & DPDK_RSS_HF) != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads & DPDK_RSS_HF;
		if (di.hash_key_size == UST_RSS_KEYLEN) {
			ust_rss_default_key(rss_key);
			conf.rx_adv_conf.rss_conf.rss_key = rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = UST_RSS_KEYLEN;
		}
	}
	snprintf(name, sizeof(name), "ustrx%u_%u", p->p_id, atomic_fetch_add(&dpdk_pool_seq, 1));
	p->p_rxpool = rte_pktmbuf_pool_create(name, nmb, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	snprintf(name, sizeof(name), "usttx%u_%u", p->p_id, atomic_fetch_add(&dpdk_pool_seq, 1));
	p->p_txpool = rte_pktmbuf_pool_create(name, nmb, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p->p_rxpool == NULL || p->p_txpool == NULL)
		return (-UST_ENOMEM);
	for (i = 0; i < p->p_nq; i++) {
		/* Lend at most half of the pool; copy beyond (ustack_driver.h). */
		rc = dpdk_queue_init(p, &p->p_q[i], i, nmb / 2 / p->p_nq + 1, ntxd * 4u + 64);
		if (rc != 0)
			return (rc);
	}
	if (rte_eth_dev_configure(p->p_id, p->p_nq, p->p_nq, &conf) != 0)
		return (-UST_EIO);
	if (rte_eth_dev_adjust_nb_rx_tx_desc(p->p_id, &nrxd, &ntxd) != 0)
		return (-UST_EIO);
	for (i = 0; i < p->p_nq; i++) {
		struct rte_eth_rxconf rxc = di.default_rxconf;
		struct rte_eth_txconf txc = di.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		if (rte_eth_rx_queue_setup(p->p_id, i, nrxd, (unsigned)socket, &rxc, p->p_rxpool) !=
		        0 ||
		    rte_eth_tx_queue_setup(p->p_id, i, ntxd, (unsigned)socket, &txc) != 0)
			return (-UST_EIO);
	}
	if (cfg->mtu != 0 && rte_eth_dev_set_mtu(p->p_id, (uint16_t)cfg->mtu) != 0)
		return (-UST_EINVAL);
	if (rte_eth_dev_get_mtu(p->p_id, &mtu) != 0)
		mtu = 1500;
	p->p_mtu = mtu;
	if (rte_eth_macaddr_get(p->p_id, &ea) != 0 || rte_is_zero_ether_addr(&ea))
		dpdk_local_mac(p->p_id, &ea); /* net_ring's are zero */
	/* net_tap's address is the kernel interface's own: the stack is
	 * another host behind it and needs its own (the TAP driver's way). */
	if (p->p_tso_l2)
		rte_eth_random_addr(ea.addr_bytes);
	memcpy(p->p_mac, ea.addr_bytes, 6);
	if (rte_eth_dev_start(p->p_id) != 0)
		return (-UST_EIO);
	p->p_started = 1;
	if (cfg->promisc)
		(void)rte_eth_promiscuous_enable(p->p_id);
	p->p_promisc = cfg->promisc != 0;
	return (0);
}

int
ust_dpdk_port_open(const struct ust_dpdk_port_config *cfg, struct ust_dpdk_port **out)
{
	struct ust_dpdk_port *p;
	int rc;

	if (cfg == NULL || out == NULL || cfg->nb_queues == 0)
		return (-UST_EINVAL);
	if (!dpdk_eal_up())
		return (-UST_ENETDOWN);
	if (!rte_eth_dev_is_valid_port(cfg->port_id))
		return (-UST_ENODEV);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (-UST_ENOMEM);
	p->p_id = cfg->port_id;
	p->p_nq = cfg->nb_queues;
	p->p_zero_copy = cfg->zero_copy != 0;
	p->p_q = calloc(p->p_nq, sizeof(*p->p_q));
	rc = p->p_q == NULL ? -UST_ENOMEM : dpdk_port_setup(p, cfg);
	if (rc != 0) {
		if (p->p_started)
			(void)rte_eth_dev_stop(p->p_id);
		dpdk_port_free(p);
		return (rc);
	}
	*out = p;
	return (0);
}

void
ust_dpdk_port_close(struct ust_dpdk_port *p)
{
	uint16_t i;

	if (p == NULL)
		return;
	/* Shutdown in order: interfaces still attached go first (their
	 * stacks' frames are freed), then the port stops and closes. */
	for (i = 0; i < p->p_nq; i++)
		if (p->p_q[i].q_attached && p->p_q[i].q_ifp != NULL)
			ust_if_detach(p->p_q[i].q_ifp);
	if (p->p_started)
		(void)rte_eth_dev_stop(p->p_id);
	(void)rte_eth_dev_close(p->p_id);
	/* Lent buffers (here or, on net_ring, at the peer) keep the pools. */
	pthread_mutex_lock(&dpdk_dying_mtx);
	p->p_next_dying = dpdk_dying;
	dpdk_dying = p;
	atomic_fetch_add(&dpdk_ndying, 1);
	pthread_mutex_unlock(&dpdk_dying_mtx);
	dpdk_reap_dying();
}

/* --- receive ------------------------------------------------------------ */

static void
dpdk_rx_free(void *arg, void *buf)
{
	struct dpdk_lend *l = arg;
	struct dpdk_queue *q = l->l_q;

	(void)buf;
	rte_pktmbuf_free(l->l_m);
	l->l_m = NULL;
	q->q_lfree[q->q_nlfree++] = l;
	dpdk_cnt_add(&q->q_lent_now, UINT64_MAX); /* - 1 */
	if (atomic_fetch_sub(&dpdk_lent_total, 1) == 1 && atomic_load(&dpdk_ndying) != 0)
		dpdk_reap_dying();
}

/* The frame rm as an mbuf of ifp: lent when it is one segment and a lend
 * record is free, else copied.  rm is consumed either way. */
static struct ust_mbuf *
dpdk_rx_one(struct dpdk_queue *q, struct ust_if *ifp, struct rte_mbuf *rm)
{
	struct ust_mbuf *m = NULL;
	struct dpdk_lend *l;
	uint32_t len = rte_pktmbuf_pkt_len(rm);

	if (q->q_port->p_zero_copy && rm->nb_segs == 1 && q->q_nlfree > 0) {
		l = q->q_lfree[--q->q_nlfree];
		l->l_m = rm;
		m = ust_mbuf_attach_ext(ifp, rm->buf_addr, rm->buf_len, rm->data_off, len,
		    dpdk_rx_free, l);
		if (m != NULL) {
			dpdk_cnt_add(&q->q_rx_lent, 1);
			dpdk_cnt_add(&q->q_lent_now, 1);
			atomic_fetch_add(&dpdk_lent_total, 1);
			return (m);
		}
		l->l_m = NULL;
		q->q_lfree[q->q_nlfree++] = l;
	}
	m = ust_mbuf_alloc(ifp, len);
	if (m != NULL) {
		const void *d = rte_pktmbuf_read(rm, 0, len, ust_mbuf_data(m));

		if (d != ust_mbuf_data(m))
			memcpy(ust_mbuf_data(m), d, len);
		dpdk_cnt_add(&q->q_rx_copied, 1);
	}
	rte_pktmbuf_free(rm);
	return (m);
}

static int
dpdk_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct dpdk_queue *q = softc;
	struct ust_dpdk_port *p = q->q_port;
	struct rte_mbuf *rb[DPDK_BURST];
	struct ust_mbuf *m;
	uint16_t n, i;
	int got = 0;

	if (!q->q_attached) { /* attached by ust_if_attach directly */
		q->q_attached = 1;
		q->q_ifp = ifp;
	}
	if (max > DPDK_BURST)
		max = DPDK_BURST;
	if (max <= 0)
		return (0);
	n = rte_eth_rx_burst(p->p_id, q->q_id, rb, (uint16_t)max);
	for (i = 0; i < n; i++) {
		uint64_t ol = rb[i]->ol_flags;
		uint32_t cf = 0;

		if ((m = dpdk_rx_one(q, ifp, rb[i])) == NULL)
			continue;
		if (p->p_rxcsum) {
			if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
				cf |= UST_CSUM_L3_VALID;
			if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
				cf |= UST_CSUM_L4_VALID;
			if (cf != 0)
				ust_mbuf_set_csum_flags(m, cf);
		}
		pkts[got++] = m;
	}
	return (got);
}

/* --- transmit ----------------------------------------------------------- */

static void
dpdk_tx_ext_free(void *addr, void *opaque)
{
	struct dpdk_txctx *t = opaque;
	struct dpdk_queue *q = t->t_q;

	(void)addr;
	if (t->t_owned)
		ust_mbuf_free(t->t_m);
	t->t_m = NULL;
	q->q_tfree[q->q_ntfree++] = t;
}

/* The offload fields of the rte_mbuf h for the stack's flags fl. */
static void
dpdk_tx_offload(struct ust_dpdk_port *p, struct rte_mbuf *h, const struct ust_mbuf *m, uint32_t fl)
{
	uint8_t hdr[DPDK_ETHER_HDR + 60 + 13];
	uint32_t l3, l4 = 0, segsz;

	if (ust_mbuf_copydata(m, 0, DPDK_ETHER_HDR + 20, hdr) != 0)
		return;
	h->l2_len = DPDK_ETHER_HDR;
	if (fl & (DPDK_CSUM6 | UST_CSUM_IP6_TSO)) {
		/* IPv6: 40 bytes, the transport right after (the contract);
		 * no header checksum to ask for. */
		l3 = 40;
		h->ol_flags |= RTE_MBUF_F_TX_IPV6;
		fl = ((fl & UST_CSUM_IP6_TCP) ? UST_CSUM_TCP : 0) |
		    ((fl & UST_CSUM_IP6_UDP) ? UST_CSUM_UDP : 0) |
		    ((fl & UST_CSUM_IP6_TSO) ? UST_CSUM_TSO : 0);
	} else {
		l3 = (uint32_t)(hdr[DPDK_ETHER_HDR] & 0x0f) * 4;
		h->ol_flags |= RTE_MBUF_F_TX_IPV4;
		if (fl & UST_CSUM_IP)
			h->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	}
	h->l3_len = l3;
	if (fl & (UST_CSUM_TCP | UST_CSUM_TSO)) {
		if (ust_mbuf_copydata(m, DPDK_ETHER_HDR + l3 + 12, 1, hdr) == 0)
			l4 = (uint32_t)(hdr[0] >> 4) * 4;
		h->l4_len = l4;
		h->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	} else if (fl & UST_CSUM_UDP) {
		h->l4_len = 8;
		h->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	}
	if (fl & UST_CSUM_TSO) {
		segsz = ust_mbuf_tso_segsz(m);
		/* net_tap: segment plus every header within the MTU. */
		if (p->p_tso_l2 && segsz + DPDK_ETHER_HDR + l3 + l4 > p->p_mtu)
			segsz = p->p_mtu - DPDK_ETHER_HDR - l3 - l4;
		h->tso_segsz = (uint16_t)segsz;
		h->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	}
}

/* A copy of the frame m (len bytes) in a chain of tx pool mbufs. */
static struct rte_mbuf *
dpdk_tx_copy(struct ust_dpdk_port *p, const struct ust_mbuf *m, uint32_t len)
{
	struct rte_mbuf *h = NULL, *last = NULL, *s;
	uint32_t off = 0, room, k;

	while (off < len || h == NULL) {
		if ((s = rte_pktmbuf_alloc(p->p_txpool)) == NULL) {
			rte_pktmbuf_free(h);
			return (NULL);
		}
		room = rte_pktmbuf_tailroom(s);
		k = len - off < room ? len - off : room;
		if (k != 0)
			(void)ust_mbuf_copydata(m, off, k, rte_pktmbuf_mtod(s, void *));
		s->data_len = (uint16_t)k;
		off += k;
		if (h == NULL) {
			h = s;
		} else {
			last->next = s;
			h->nb_segs++;
		}
		last = s;
	}
	h->pkt_len = len;
	return (h);
}

/* The frame m by reference: the first DPDK_HDR_COPY bytes copied into the
 * head mbuf, every other byte attached as an external buffer sharing
 * one dpdk_txctx.  NULL when out of mbufs or contexts; *ctx gets the
 * context (NULL when nothing was attached: the caller frees m itself). */
static struct rte_mbuf *
dpdk_tx_gather(struct dpdk_queue *q, struct ust_mbuf *m, struct dpdk_txctx **ctx)
{
	struct ust_dpdk_port *p = q->q_port;
	struct ust_iovec v[DPDK_TX_MAXSEG];
	struct rte_mbuf *h, *last, *s;
	struct dpdk_txctx *t;
	size_t skip;
	int n, i, first = 0;

	*ctx = NULL;
	n = ust_mbuf_sglist(m, v, DPDK_TX_MAXSEG);
	if (n > p->p_maxseg || q->q_ntfree == 0)
		return (NULL);
	for (i = 0; i < n; i++)
		if (v[i].iov_len > UINT16_MAX)
			return (NULL);
	if ((h = rte_pktmbuf_alloc(p->p_txpool)) == NULL)
		return (NULL);
	/* The head (at least the headers, which PMDs read and offloads need
	 * in the first segment) is copied; the rest is referenced. */
	if (n > 0) {
		skip = v[0].iov_len < DPDK_HDR_COPY ? v[0].iov_len : DPDK_HDR_COPY;
		memcpy(rte_pktmbuf_mtod(h, void *), v[0].iov_base, skip);
		h->data_len = (uint16_t)skip;
		v[0].iov_base = (const uint8_t *)v[0].iov_base + skip;
		v[0].iov_len -= skip;
		first = v[0].iov_len == 0;
	}
	h->pkt_len = h->data_len;
	if (first == n)
		return (h);
	t = q->q_tfree[--q->q_ntfree];
	t->t_m = m;
	t->t_owned = 1;
	t->t_shinfo.free_cb = dpdk_tx_ext_free;
	t->t_shinfo.fcb_opaque = t;
	rte_mbuf_ext_refcnt_set(&t->t_shinfo, 1);
	/* The context's own reference, dropped below once every segment
	 * holds one, so that a failed allocation frees cleanly. */
	last = h;
	for (i = first; i < n; i++) {
		if ((s = rte_pktmbuf_alloc(p->p_txpool)) == NULL)
			break;
		rte_mbuf_ext_refcnt_update(&t->t_shinfo, 1);
		rte_pktmbuf_attach_extbuf(s, (void *)(uintptr_t)v[i].iov_base,
		    (rte_iova_t)(uintptr_t)v[i].iov_base, (uint16_t)v[i].iov_len, &t->t_shinfo);
		s->data_len = (uint16_t)v[i].iov_len;
		h->pkt_len += s->data_len;
		h->nb_segs++;
		last->next = s;
		last = s;
	}
	if (i < n) {
		t->t_owned = 0; /* m stays the stack's */
		rte_pktmbuf_free(h);
		if (rte_mbuf_ext_refcnt_update(&t->t_shinfo, -1) == 0)
			dpdk_tx_ext_free(NULL, t);
		return (NULL);
	}
	if (rte_mbuf_ext_refcnt_update(&t->t_shinfo, -1) == 0)
		dpdk_tx_ext_free(NULL, t); /* cannot happen: segments hold it */
	*ctx = t;
	return (h);
}

/* Gives back the rte_mbufs the port refused: the stack keeps its frames. */
static void
dpdk_tx_unbuild(struct rte_mbuf **out, struct dpdk_txctx **ctx, int from, int n)
{
	int j;

	for (j = from; j < n; j++) {
		if (ctx[j] != NULL)
			ctx[j]->t_owned = 0;
		rte_pktmbuf_free(out[j]);
	}
}

/* Sends n frames of ms that need no software offload; returns how many
 * the port took (taken frames are the port's, freed when it is done). */
static int
dpdk_tx_frames(struct dpdk_queue *q, struct ust_mbuf **ms, int n)
{
	struct ust_dpdk_port *p = q->q_port;
	struct rte_mbuf *out[DPDK_BURST];
	struct dpdk_txctx *ctx[DPDK_BURST];
	uint8_t copied[DPDK_BURST];
	uint32_t fl;
	int nb, j, sent;

	if (n > DPDK_BURST)
		n = DPDK_BURST;
	for (nb = 0; nb < n; nb++) {
		struct ust_mbuf *m = ms[nb];

		ctx[nb] = NULL;
		out[nb] = p->p_tx_copy ? NULL : dpdk_tx_gather(q, m, &ctx[nb]);
		copied[nb] = out[nb] == NULL;
		if (out[nb] == NULL)
			out[nb] = dpdk_tx_copy(p, m, (uint32_t)ust_mbuf_pktlen(m));
		if (out[nb] == NULL)
			break;
		fl = ust_mbuf_csum_flags(m);
		if (fl & (DPDK_CSUM4 | DPDK_CSUM6 | DPDK_TSO))
			dpdk_tx_offload(p, out[nb], m, fl);
	}
	sent = nb > 0 ? rte_eth_tx_burst(p->p_id, q->q_id, out, (uint16_t)nb) : 0;
	if (sent < n)
		dpdk_cnt_add(&q->q_tx_full, 1);
	dpdk_tx_unbuild(out, ctx, sent, nb);
	for (j = 0; j < sent; j++) {
		if (ust_mbuf_csum_flags(ms[j]) & DPDK_TSO)
			dpdk_cnt_add(&q->q_tx_tso, 1);
		dpdk_cnt_add(&q->q_tx_copied, copied[j]);
		if (ctx[j] == NULL)
			ust_mbuf_free(ms[j]); /* copied, or whole in the head: done */
	}
	return (sent);
}

/* Software-TSO segments waiting for room; 1 when none is left. */
static int
dpdk_tx_flush_backlog(struct dpdk_queue *q)
{
	int k;

	while (q->q_nbacklog > 0) {
		k = dpdk_tx_frames(q, q->q_backlog, q->q_nbacklog);
		if (k == 0)
			return (0);
		memmove(q->q_backlog, q->q_backlog + k,
		    (size_t)(q->q_nbacklog - k) * sizeof(void *));
		q->q_nbacklog -= k;
	}
	return (1);
}

static int
dpdk_needs_sw_tso(const struct dpdk_queue *q, const struct ust_mbuf *m)
{
	return ((ust_mbuf_csum_flags(m) & DPDK_TSO) != 0 && !q->q_port->p_hw_tso);
}

/* Cuts the TSO frame m into the backlog in software: 0 (m consumed), or
 * -1 out of mbufs (m still the stack's). */
static int
dpdk_tx_sw_tso(struct dpdk_queue *q, struct ust_mbuf *m)
{
	int n = ust_mbuf_tso_segment(m, q->q_backlog, DPDK_BACKLOG);

	if (n == -UST_ENOBUFS)
		return (-1);
	if (n < 0) {
		ust_mbuf_free(m); /* not a TSO frame we can cut: dropped */
		return (0);
	}
	q->q_nbacklog = n;
	dpdk_cnt_add(&q->q_tx_sw_csum, (uint64_t)n);
	return (0);
}

static int
dpdk_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct dpdk_queue *q = softc;
	struct ust_dpdk_port *p = q->q_port;
	int taken = 0, i, k;
	uint32_t fl;

	if (!dpdk_tx_flush_backlog(q))
		return (0);
	while (taken < n) {
		if (dpdk_needs_sw_tso(q, pkts[taken])) {
			if (dpdk_tx_sw_tso(q, pkts[taken]) != 0)
				return (taken);
			taken++;
			if (!dpdk_tx_flush_backlog(q))
				return (taken);
			continue;
		}
		/* A burst up to the next frame that needs software TSO; the
		 * checksums the port cannot fill are filled here (a frame then
		 * refused stays the stack's, complete). */
		for (i = taken; i < n && i - taken < DPDK_BURST && !dpdk_needs_sw_tso(q, pkts[i]);
		     i++) {
			fl = ust_mbuf_csum_flags(pkts[i]);
			if (!p->p_hw_csum && (fl & (DPDK_CSUM4 | DPDK_CSUM6)) && !(fl & DPDK_TSO)) {
				if (ust_mbuf_csum_fill(pkts[i]) == -UST_ENOBUFS)
					break;
				dpdk_cnt_add(&q->q_tx_sw_csum, 1);
			}
		}
		if (i == taken)
			return (taken);
		k = dpdk_tx_frames(q, pkts + taken, i - taken);
		taken += k;
		if (taken < i)
			return (taken);
	}
	return (taken);
}

/* --- the interface ------------------------------------------------------ */

static void
dpdk_get_mac(void *softc, uint8_t mac[6])
{
	const struct dpdk_queue *q = softc;

	memcpy(mac, q->q_port->p_mac, 6);
}

static uint32_t
dpdk_get_mtu(void *softc)
{
	const struct dpdk_queue *q = softc;

	return (q->q_port->p_mtu);
}

static uint32_t
dpdk_get_caps(void *softc)
{
	const struct dpdk_queue *q = softc;

	return (q->q_port->p_caps);
}

/*
 * The port's multicast filter from every queue's groups, under dpdk_mc_mtx:
 * the merged list through rte_eth_dev_set_mc_addr_list (perfect filtering
 * where the PMD has it); all multicast (rte_eth_allmulticast_enable) when
 * a stack asks for it, the list is too long, or the PMD has no list; and
 * promiscuous mode as the last resort for a PMD with neither.  A PMD that
 * refuses all three (net_ring, memif) filters nothing anyway.  The stack
 * filters again in ether_input, so a wider filter only costs frames.
 */
static void
dpdk_mc_program(struct ust_dpdk_port *p)
{
	struct rte_ether_addr set[DPDK_MC_PORT];
	uint32_t n = 0, k;
	unsigned i, j;
	int all = 0, mode;

	for (i = 0; i < p->p_nq && !all; i++) {
		const struct dpdk_queue *q = &p->p_q[i];

		all = q->q_allmulti;
		for (j = 0; j < q->q_nmc && !all; j++) {
			for (k = 0; k < n; k++)
				if (memcmp(set[k].addr_bytes, q->q_mc[j], 6) == 0)
					break;
			if (k < n)
				continue;
			if (n == DPDK_MC_PORT)
				all = 1;
			else
				memcpy(set[n++].addr_bytes, q->q_mc[j], 6);
		}
	}
	if (!all && rte_eth_dev_set_mc_addr_list(p->p_id, set, n) != 0)
		all = 1;
	if (all)
		(void)rte_eth_dev_set_mc_addr_list(p->p_id, NULL, 0);
	mode = DPDK_MC_LIST;
	if (all)
		mode =
		    rte_eth_allmulticast_enable(p->p_id) == 0 ? DPDK_MC_ALLMULTI : DPDK_MC_PROMISC;
	if (mode == DPDK_MC_PROMISC && p->p_mc_mode != DPDK_MC_PROMISC && !p->p_promisc)
		(void)rte_eth_promiscuous_enable(p->p_id);
	if (mode != DPDK_MC_PROMISC && p->p_mc_mode == DPDK_MC_PROMISC && !p->p_promisc)
		(void)rte_eth_promiscuous_disable(p->p_id);
	if (mode == DPDK_MC_LIST && p->p_mc_mode == DPDK_MC_ALLMULTI)
		(void)rte_eth_allmulticast_disable(p->p_id);
	p->p_mc_mode = mode;
}

/* The stack's groups on this queue (ustack_driver.h set_multicast). */
static void
dpdk_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	struct dpdk_queue *q = softc;

	pthread_mutex_lock(&dpdk_mc_mtx);
	q->q_allmulti = allmulti != 0 || n > DPDK_MC_QUEUE;
	q->q_nmc = q->q_allmulti ? 0 : n;
	if (q->q_nmc > 0)
		memcpy(q->q_mc, macs, q->q_nmc * sizeof(q->q_mc[0]));
	dpdk_mc_program(q->q_port);
	pthread_mutex_unlock(&dpdk_mc_mtx);
}

static uint32_t
dpdk_get_tso_max(void *softc)
{
	(void)softc;
	return (DPDK_TSO_MAX);
}

/* Frees what this stack's frames still hold: the backlog, and frames the
 * port has not completed yet (their free callback frees the stack's mbuf,
 * which must happen before the stack goes away). */
static void
dpdk_detach(void *softc)
{
	struct dpdk_queue *q = softc;
	int i;

	for (i = 0; i < q->q_nbacklog; i++)
		ust_mbuf_free(q->q_backlog[i]);
	q->q_nbacklog = 0;
	if (q->q_ntfree != q->q_ntx)
		(void)rte_eth_tx_done_cleanup(q->q_port->p_id, q->q_id, 0);
	if (q->q_ntfree != q->q_ntx)
		(void)rte_eth_dev_tx_queue_stop(q->q_port->p_id, q->q_id);
	if (q->q_ntfree != q->q_ntx)
		fprintf(stderr,
		    "ustack dpdk: port %u queue %u: %u frames not completed at detach\n",
		    q->q_port->p_id, q->q_id, q->q_ntx - q->q_ntfree);
	q->q_attached = 0;
	q->q_ifp = NULL;
	/* Groups the stack did not leave go with it. */
	if (q->q_nmc != 0 || q->q_allmulti)
		dpdk_set_multicast(q, NULL, 0, 0);
}

/*
 * What the port counted and the stack never saw (FreeBSD if_get_counter):
 * frames the NIC rejected, missed for want of descriptors (imissed) or of
 * mbufs (rx_nombuf), and failed to send.  DPDK counts these per port, so
 * they are reported on queue 0's interface only, never twice.
 */
static uint64_t
dpdk_get_counter(void *softc, int which)
{
	const struct dpdk_queue *q = softc;
	struct rte_eth_stats es;

	if (q->q_id != 0 || rte_eth_stats_get(q->q_port->p_id, &es) != 0)
		return (0);
	switch (which) {
	case UST_IFCOUNTER_IERRORS:
		return (es.ierrors);
	case UST_IFCOUNTER_IQDROPS:
		return (es.imissed + es.rx_nombuf);
	case UST_IFCOUNTER_OERRORS:
		return (es.oerrors);
	default:
		return (0);
	}
}

static int
dpdk_get_fd(void *softc)
{
	struct dpdk_queue *q = softc;
	struct ust_dpdk_port *p = q->q_port;

	if (!p->p_rxfd || !p->p_started)
		return (-1);
	return (rte_eth_dev_rx_intr_ctl_q_get_fd(p->p_id, q->q_id));
}

static const struct ust_driver_ops dpdk_ops = {
	.name = "dpdk",
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.get_mac = dpdk_get_mac,
	.get_mtu = dpdk_get_mtu,
	.get_caps = dpdk_get_caps,
	.detach = dpdk_detach,
	.get_tso_max = dpdk_get_tso_max,
	.get_counter = dpdk_get_counter,
	.set_multicast = dpdk_set_multicast,
	.get_fd = dpdk_get_fd,
};

const struct ust_driver_ops *
ust_dpdk_ops(void)
{
	return (&dpdk_ops);
}

void *
ust_dpdk_softc(struct ust_dpdk_port *p, uint16_t queue)
{
	if (p == NULL || queue >= p->p_nq)
		return (NULL);
	return (&p->p_q[queue]);
}

int
ust_dpdk_attach(struct ust_stack *st, struct ust_dpdk_port *p, uint16_t queue, const char *name,
    struct ust_if **ifp)
{
	struct dpdk_queue *q;
	int rc;

	if (p == NULL || queue >= p->p_nq)
		return (-UST_EINVAL);
	q = &p->p_q[queue];
	if (q->q_attached)
		return (-UST_EBUSY);
	rc = ust_if_attach(st, name, &dpdk_ops, q, ifp);
	if (rc == 0) {
		q->q_attached = 1;
		q->q_ifp = *ifp;
	}
	return (rc);
}

void
ust_dpdk_get_stats(struct ust_dpdk_port *p, struct ust_dpdk_stats *out)
{
	struct rte_eth_stats es;
	uint16_t i;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return;
	if (rte_eth_stats_get(p->p_id, &es) == 0) {
		out->ipackets = es.ipackets;
		out->ibytes = es.ibytes;
		out->imissed = es.imissed;
		out->ierrors = es.ierrors;
		out->rx_nombuf = es.rx_nombuf;
		out->opackets = es.opackets;
		out->obytes = es.obytes;
		out->oerrors = es.oerrors;
	}
	for (i = 0; i < p->p_nq; i++) {
		const struct dpdk_queue *q = &p->p_q[i];

		out->rx_lent += dpdk_cnt_get(&q->q_rx_lent);
		out->rx_copied += dpdk_cnt_get(&q->q_rx_copied);
		out->tx_full += dpdk_cnt_get(&q->q_tx_full);
		out->tx_sw_csum += dpdk_cnt_get(&q->q_tx_sw_csum);
		out->tx_tso += dpdk_cnt_get(&q->q_tx_tso);
		out->rx_lent_now += dpdk_cnt_get(&q->q_lent_now);
		out->tx_copied += dpdk_cnt_get(&q->q_tx_copied);
	}
}

int
ust_dpdk_link(struct ust_dpdk_port *p, uint32_t *speed_mbps)
{
	struct rte_eth_link l;

	memset(&l, 0, sizeof(l));
	if (p == NULL || rte_eth_link_get_nowait(p->p_id, &l) != 0) {
		if (speed_mbps != NULL)
			*speed_mbps = 0;
		return (0);
	}
	if (speed_mbps != NULL)
		*speed_mbps = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : l.link_speed;
	return (l.link_status == RTE_ETH_LINK_UP);
}
