/*
 * tap.c - the TAP driver: Ethernet frames to and from the host kernel.
 *
 * Linux's tun/tap (Documentation/networking/tuntap.rst): opening
 * /dev/net/tun and TUNSETIFF with IFF_TAP | IFF_NO_PI makes an Ethernet
 * interface in the kernel whose transmitted frames we read(2) and to which
 * our write(2)s arrive as received frames, one frame per call.  The
 * descriptor is non-blocking so that rx_burst and tx_burst never stall the
 * poll loop; bursts are loops of read/write up to the stack's batch.
 *
 * Offloads (config.offload, default on; Linux only): IFF_VNET_HDR with the
 * 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ 10; its 16-bit fields in
 * the host's byte order, the legacy virtio layout tun uses unless told
 * TUNSETVNETLE/BE) in front of every frame both ways, and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), so that the
 * interface offers RXCSUM | TXCSUM | TSO4 | LRO and, for IPv6,
 * TXCSUM_IPV6 | TSO6 to the stack (the contract in
 * ustack_driver.h):
 *  - tx: a UST_CSUM_TSO packet goes whole with gso_type TCPV4 (| ECN when
 *    it carries CWR), gso_size = tso_segsz, hdr_len = all headers and
 *    NEEDS_CSUM at the TCP checksum; the kernel cuts it (or takes it
 *    whole for a local socket).  Linux wants the pseudo-header sum WITH
 *    the whole TCP length in the field (it adjusts it per segment), so
 *    the length is added to the stack's sum here.  A packet with only
 *    UST_CSUM_TCP/UDP gets NEEDS_CSUM with csum_start/csum_offset; the
 *    IPv4 header checksum (UST_CSUM_IP) is always computed here, since
 *    virtio has no offload for it and the kernel checks it on input.
 *    IPv6 (UST_CSUM_IP6_TCP/UDP/TSO): the same with csum_start 54 and
 *    gso_type TCPV6; nothing is written into the IPv6 header.
 *    Anything else gets an all-zero header.
 *  - rx: up to 64 KB + headers per read; NEEDS_CSUM (the kernel's own
 *    traffic, whose checksum is not computed yet) or DATA_VALID marks the
 *    frame UST_CSUM_L3_VALID | UST_CSUM_L4_VALID; a frame with a gso_type
 *    is a kernel GSO/GRO frame larger than the MTU, taken whole (LRO),
 *    TCP/IPv4 or TCP/IPv6 alike.
 * Without offload frames are plain and checksums are the stack's.
 *
 * Queues (config.queues = n > 1, Linux): IFF_MULTI_QUEUE, /dev/net/tun
 * opened n times and TUNSETIFF with the same name on each descriptor
 * (the first creates the device, the others attach to it as queues 1 ..
 * n-1), each with the vnet header size and offloads set as above.  A
 * queue is a struct tap_queue: its descriptor, its frame buffer and its
 * counters, and is the softc, so that n threads run n queues with nothing
 * shared but the device's constant facts (name, MAC, MTU).  Counters are
 * relaxed atomics with one writer each (the queue's thread), so
 * ust_tap_get_stats may sum them from any thread.  Without the steering
 * program (below) the kernel spreads the frames it sends over the queues
 * by its own flow hash, or to the queue
 * on which we last wrote a frame of the same flow (tun's flow table,
 * entries expire after 3 s): it is not Toeplitz, so a group re-steers.
 * queues = 1 opens the device as before (no IFF_MULTI_QUEUE).
 *
 * Unless config.rss_steer is 0, a device with queues attaches the
 * steering program of tap_steer.c once every queue is open: the kernel
 * then sends each frame on the queue its Toeplitz hash names (the stack
 * that owns the flow) and learns nothing from our writes.  A kernel that
 * refuses it (no CAP_BPF, too old) leaves the spreading above: the open
 * succeeds, one line per process goes to stderr and
 * ust_tap_rss_steering() reports the error.
 *
 * FreeBSD (#ifdef __FreeBSD__; compiled there, not built or run in this
 * tree's CI): the /dev/tap cloning device, FIONBIO, TAPGIFNAME for the
 * kernel's name (config.name is ignored), no vnet header and no offload.
 *
 *   ust_stack_poll -> tap_rx_burst -> read(2) -> [vnet header] ->
 *       ust_mbuf_from_buf
 *   ust_stack_poll -> tap_tx_burst -> [vnet header] + copy chain ->
 *       write(2) -> ust_mbuf_free
 */
/* struct ifreq, IFNAMSIZ and O_CLOEXEC are outside strict C11. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ustack/ustack_errno.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_tap.h>

#if defined(__linux__)
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "tap_steer.h"
#elif defined(__FreeBSD__)
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <net/if.h>
#include <net/if_tap.h>
#endif

#define TAP_ETHER_HDR 14
#define TAP_VLAN_ENCAP 4
#define TAP_VNET_HDR 10     /* struct virtio_net_hdr without num_buffers */
#define TAP_GSO_MAX 65535u  /* largest IP datagram either way with offload */
#define TAP_TCP_CSUM_OFF 16 /* th_sum within the TCP header */
#define TAP_UDP_CSUM_OFF 6
#define TAP_CSUM4 (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_TSO)
#define TAP_CSUM6 (UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP | UST_CSUM_IP6_TSO)

#define TAP_CACHE_LINE 64
/* Bytes of a frame copied for the vnet header's checksum writes: every
 * header (Ethernet 14 + VLAN 4 + IPv4 60 or IPv6 40 + TCP 60) fits. */
#define TAP_HDR_COPY 192
#define TAP_IOV_MAX 66 /* vnet header, copied headers, 64 buffers of payload */

/* A queue's counters, in struct ust_tap_stats order. */
enum {
	TS_RX_FRAMES,
	TS_RX_BYTES,
	TS_RX_NOMBUF,
	TS_TX_FRAMES,
	TS_TX_BYTES,
	TS_TX_ERRORS,
	TS_TX_FULL,
	TS_TX_TSO,
	TS_TX_CSUM,
	TS_RX_GSO,
	TS_RX_CSUM,
	TS_N
};

struct ust_tap;

/* One queue: the softc of one interface. */
struct tap_queue {
	struct ust_tap *tq_tap;
	int tq_fd;
	uint8_t *tq_buf; /* one frame, for reads and for gathering chains */
	_Atomic uint64_t tq_stats[TS_N];
	char tq_pad[TAP_CACHE_LINE]; /* queues are written by different threads */
};

struct ust_tap {
	char t_name[IFNAMSIZ];
	uint8_t t_mac[6];
	uint32_t t_mtu;
	int t_vnet;     /* offload: a virtio_net_hdr leads every frame */
	int t_io;       /* UST_TAP_IO_* */
	size_t t_rxcap; /* VEC: the mbuf a frame is read into (largest plain frame) */
	size_t t_buflen;
	unsigned t_nq;
	int t_steer;           /* ust_tap_rss_steering() */
	struct tap_queue *t_q; /* [t_nq] */
};

/* A counter of q: one writer (q's thread), so no read-modify-write. */
static inline void
tap_stat_add(struct tap_queue *q, int c, uint64_t v)
{
	atomic_store_explicit(&q->tq_stats[c],
	    atomic_load_explicit(&q->tq_stats[c], memory_order_relaxed) + v, memory_order_relaxed);
}

static inline uint64_t
tap_stat_get(const struct tap_queue *q, int c)
{
	/* C11 atomic_load takes a non-const pointer in some libcs. */
	return (atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)&q->tq_stats[c],
	    memory_order_relaxed));
}

/* Frees t and its queues, closing the descriptors that are open. */
static void
tap_free(struct ust_tap *t)
{
	unsigned i;

	if (t->t_q != NULL) {
		for (i = 0; i < t->t_nq; i++) {
			if (t->t_q[i].tq_fd >= 0)
				close(t->t_q[i].tq_fd);
			free(t->t_q[i].tq_buf);
		}
		free(t->t_q);
	}
	free(t);
}

/* t with nq queues of buflen-byte buffers, descriptors not open yet. */
static struct ust_tap *
tap_alloc(unsigned nq, size_t buflen)
{
	struct ust_tap *t = calloc(1, sizeof(*t));
	unsigned i;
	int c;

	if (t == NULL)
		return (NULL);
	t->t_buflen = buflen;
	t->t_nq = nq;
	if ((t->t_q = calloc(nq, sizeof(*t->t_q))) == NULL) {
		free(t);
		return (NULL);
	}
	for (i = 0; i < nq; i++) {
		t->t_q[i].tq_tap = t;
		t->t_q[i].tq_fd = -1;
		for (c = 0; c < TS_N; c++)
			atomic_init(&t->t_q[i].tq_stats[c], 0);
	}
	for (i = 0; i < nq; i++)
		if ((t->t_q[i].tq_buf = malloc(buflen)) == NULL) {
			tap_free(t);
			return (NULL);
		}
	return (t);
}

void
ust_tap_config_init(struct ust_tap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->offload = 1;
	cfg->queues = 1;
	cfg->rss_steer = 1;
}

/* A random locally administered unicast MAC (IEEE 802: bit 1 of the first
 * octet set, bit 0 clear), so that two taps never collide. */
static void
tap_random_mac(uint8_t mac[6])
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, mac, 6) : -1;

	if (fd >= 0)
		close(fd);
	if (n != 6) {
		uintptr_t x = (uintptr_t)mac ^ (uintptr_t)getpid();
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)(x >> (i * 5));
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

#if defined(__linux__)
/* The kernel's side gets the same MTU, so that neither end sends frames
 * the other drops. */
static int
tap_set_kernel_mtu(const char *name, uint32_t mtu)
{
	struct ifreq ifr;
	int s, rc;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return (-1);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	ifr.ifr_mtu = (int)mtu;
	rc = ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	return (rc);
}

/* The vnet header's size and what the kernel may hand us. */
static int
tap_set_offload(int fd)
{
	int hdrsz = TAP_VNET_HDR;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) != 0)
		return (-1);
	return (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)));
}

/* Said once per process: a kernel that refuses one program refuses all. */
static atomic_int tap_steer_said;

/* The steering program on t's device (every queue open); the result for
 * ust_tap_rss_steering(). */
static int
tap_steer(struct ust_tap *t, const struct ust_tap_config *cfg)
{
	uint8_t key[UST_RSS_KEYLEN];
	char log[512];
	int rc;

	if (cfg->rss_key_set)
		memcpy(key, cfg->rss_key, sizeof(key));
	else
		ust_rss_default_key(key);
	log[0] = '\0';
	rc = tap_steer_attach(t->t_q[0].tq_fd, key, t->t_nq, log, sizeof(log));
	if (rc == 0)
		return (1);
	if (atomic_exchange_explicit(&tap_steer_said, 1, memory_order_relaxed) == 0)
		fprintf(stderr,
		    "ustack tap %s: no steering program (%s): the kernel spreads the %u queues "
		    "by its own hash, frames are re-steered in software%s%s\n",
		    t->t_name, strerror(-rc), t->t_nq, log[0] != '\0' ? "; verifier: " : "", log);
	return (rc == -ENOSYS || rc == -ENOTTY ? -UST_EOPNOTSUPP : ust_errno_neg(-rc));
}
#endif

#if defined(__FreeBSD__)
/* FreeBSD's tap(4): opening the cloning device makes tapN; plain frames. */
static int
tap_open_freebsd(const struct ust_tap_config *cfg, struct ust_tap *t)
{
	struct ifreq ifr;
	int on = 1, s;

	int fd;

	fd = t->t_q[0].tq_fd = open("/dev/tap", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return (ust_errno_neg(errno));
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, FIONBIO, &on) != 0 || ioctl(fd, TAPGIFNAME, &ifr) != 0)
		goto fail;
	memcpy(t->t_name, ifr.ifr_name, IFNAMSIZ);
	t->t_name[IFNAMSIZ - 1] = '\0';
	if (cfg->mtu != 1500) {
		if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		ifr.ifr_mtu = (int)cfg->mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) != 0) {
			close(s);
			goto fail;
		}
		close(s);
	}
	return (0);
fail:
	return (ust_errno_neg(errno)); /* the caller closes fd */
}
#endif

int
ust_tap_open(const struct ust_tap_config *cfg, struct ust_tap **out)
{
#if defined(__FreeBSD__)
	struct ust_tap *t;
	int err;

	if (cfg == NULL || out == NULL || cfg->mtu < 68 || cfg->mtu > 65535 ||
	    cfg->queues > UST_TAP_QUEUES_MAX)
		return (-UST_EINVAL);
	if (cfg->queues > 1)
		return (-UST_EOPNOTSUPP);
	if ((t = tap_alloc(1, cfg->mtu + TAP_ETHER_HDR + TAP_VLAN_ENCAP)) == NULL)
		return (-UST_ENOMEM);
	t->t_mtu = cfg->mtu;
	t->t_io = UST_TAP_IO_COPY; /* the vector paths are Linux's */
	if ((err = tap_open_freebsd(cfg, t)) != 0) {
		tap_free(t);
		return (err);
	}
	if (cfg->mac_set)
		memcpy(t->t_mac, cfg->mac, 6);
	else
		tap_random_mac(t->t_mac);
	*out = t;
	return (0);
#elif defined(__linux__)
	struct ust_tap *t;
	struct ifreq ifr;
	unsigned i, nq;
	int fd, err, vnet;

	if (cfg == NULL || out == NULL || cfg->mtu < 68 || cfg->mtu > 65535 ||
	    cfg->queues > UST_TAP_QUEUES_MAX || memchr(cfg->name, 0, sizeof(cfg->name)) == NULL ||
	    cfg->io > UST_TAP_IO_COPY)
		return (-UST_EINVAL);
	nq = cfg->queues > 1 ? cfg->queues : 1;
	vnet = cfg->offload != 0;
	t = tap_alloc(nq,
	    (vnet ? TAP_VNET_HDR + TAP_GSO_MAX : cfg->mtu) + TAP_ETHER_HDR + TAP_VLAN_ENCAP);
	if (t == NULL)
		return (-UST_ENOMEM);
	t->t_mtu = cfg->mtu;
	t->t_vnet = vnet;
	t->t_io = cfg->io == UST_TAP_IO_COPY ? UST_TAP_IO_COPY : UST_TAP_IO_VEC;
	t->t_rxcap = cfg->mtu + TAP_ETHER_HDR + TAP_VLAN_ENCAP;
	/* Queue 0 makes the device (named as asked, or by the kernel); the
	 * others attach to it by the name it got. */
	for (i = 0; i < nq; i++) {
		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			err = ust_errno_neg(errno);
			goto fail;
		}
		t->t_q[i].tq_fd = fd;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0) |
		    (nq > 1 ? IFF_MULTI_QUEUE : 0));
		if (i == 0)
			memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
		else
			memcpy(ifr.ifr_name, t->t_name, IFNAMSIZ);
		if (ioctl(fd, TUNSETIFF, &ifr) != 0 || (vnet && tap_set_offload(fd) != 0)) {
			err = ust_errno_neg(errno);
			goto fail;
		}
		if (i == 0) {
			memcpy(t->t_name, ifr.ifr_name, IFNAMSIZ);
			t->t_name[IFNAMSIZ - 1] = '\0';
		}
	}
	if (cfg->mac_set)
		memcpy(t->t_mac, cfg->mac, 6);
	else
		tap_random_mac(t->t_mac);
	if (cfg->mtu != 1500 && tap_set_kernel_mtu(t->t_name, cfg->mtu) != 0) {
		err = ust_errno_neg(errno);
		goto fail;
	}
	if (nq > 1 && cfg->rss_steer)
		t->t_steer = tap_steer(t, cfg);
	*out = t;
	return (0);
fail:
	tap_free(t);
	return (err);
#else
	(void)cfg;
	(void)out;
	(void)tap_random_mac;
	(void)tap_alloc;
	(void)tap_free;
	return (-UST_EOPNOTSUPP);
#endif
}

void
ust_tap_close(struct ust_tap *t)
{
	if (t == NULL)
		return;
	tap_free(t);
}

#if defined(__linux__)
/* Host-order 16-bit fields of the vnet header (legacy virtio layout). */
static void
tap_set_h16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t
tap_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum);
}

/* RFC 1071 over the IPv4 header at ip (hlen bytes), stored in place. */
static void
tap_ip_sum(uint8_t *ip, uint32_t hlen)
{
	uint32_t sum = 0, i;

	ip[10] = ip[11] = 0;
	for (i = 0; i < hlen; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum = ~tap_fold(sum) & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}
#endif

/* Marks m from the vnet header vh and counts it (Linux, offload). */
static void
tap_rx_vnet(struct tap_queue *q, struct ust_mbuf *m, const uint8_t *vh)
{
#if defined(__linux__)
	/* The kernel vouches for its checksums, or has not computed the
	 * transport one (NEEDS_CSUM: local traffic); its IPv4 headers always
	 * carry a valid checksum. */
	if (vh[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) {
		ust_mbuf_set_csum_flags(m, UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
		tap_stat_add(q, TS_RX_CSUM, 1);
	}
	if ((vh[1] & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
		tap_stat_add(q, TS_RX_GSO, 1);
#else
	(void)q;
	(void)m;
	(void)vh;
#endif
}

#if defined(__linux__)
/*
 * UST_TAP_IO_VEC: each frame is read straight into an mbuf taken first
 * (t_rxcap bytes: the largest plain frame), the vnet header into a local
 * array and, with offload, whatever a GSO frame has beyond the mbuf into
 * the queue's buffer after t_rxcap bytes (readv: one call per frame, as
 * tun takes).  A frame that fits is trimmed to its length: no byte copied
 * here.  A larger one (kernel GSO) is copied as before: its head from the
 * mbuf into the queue's buffer, then the whole into a chain.
 */
static int
tap_rx_burst_vec(struct tap_queue *q, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_tap *t = q->tq_tap;
	size_t hdr = t->t_vnet ? TAP_VNET_HDR : 0, cap = t->t_rxcap, len;
	uint8_t vh[TAP_VNET_HDR];
	uint64_t frames = 0, bytes = 0;
	struct iovec iov[3];
	struct ust_mbuf *m, *big;
	ssize_t n;
	int got = 0, niov;

	while (got < max) {
		m = ust_mbuf_alloc(ifp, cap);
		if (m == NULL) {
			/* No mbuf: take the frame anyway, so that the device
			 * does not stall, and drop it. */
			n = read(q->tq_fd, q->tq_buf, t->t_buflen);
			if (n <= (ssize_t)hdr)
				break;
			tap_stat_add(q, TS_RX_NOMBUF, 1);
			continue;
		}
		niov = 0;
		if (hdr != 0) {
			iov[niov].iov_base = vh;
			iov[niov++].iov_len = hdr;
		}
		iov[niov].iov_base = ust_mbuf_data(m);
		iov[niov++].iov_len = cap;
		if (hdr != 0 && t->t_buflen > cap) {
			iov[niov].iov_base = q->tq_buf + cap;
			iov[niov++].iov_len = t->t_buflen - cap;
		}
		n = readv(q->tq_fd, iov, niov);
		if (n <= (ssize_t)hdr) {
			ust_mbuf_free(m); /* EAGAIN: nothing more now */
			break;
		}
		len = (size_t)n - hdr;
		if (len <= cap) {
			(void)ust_mbuf_trim(m, len);
		} else {
			memcpy(q->tq_buf, ust_mbuf_data(m), cap);
			ust_mbuf_free(m);
			big = ust_mbuf_from_buf(ifp, q->tq_buf, len);
			if (big == NULL) {
				tap_stat_add(q, TS_RX_NOMBUF, 1);
				continue;
			}
			m = big;
		}
		if (hdr != 0)
			tap_rx_vnet(q, m, vh);
		frames++;
		bytes += len;
		pkts[got++] = m;
	}
	if (frames != 0) {
		tap_stat_add(q, TS_RX_FRAMES, frames);
		tap_stat_add(q, TS_RX_BYTES, bytes);
	}
	return (got);
}
#endif

static int
tap_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct tap_queue *q = softc;
	struct ust_tap *t = q->tq_tap;
	struct ust_mbuf *m;
	size_t hdr = t->t_vnet ? TAP_VNET_HDR : 0;
	uint8_t *buf = q->tq_buf;
	uint64_t frames = 0, bytes = 0;
	ssize_t n;
	int got = 0;

#if defined(__linux__)
	if (t->t_io == UST_TAP_IO_VEC)
		return (tap_rx_burst_vec(q, ifp, pkts, max));
#endif
	while (got < max) {
		n = read(q->tq_fd, buf, t->t_buflen);
		if (n <= (ssize_t)hdr)
			break; /* EAGAIN: nothing more now */
		m = ust_mbuf_from_buf(ifp, buf + hdr, (size_t)n - hdr);
		if (m == NULL) {
			tap_stat_add(q, TS_RX_NOMBUF, 1);
			continue;
		}
		if (hdr != 0)
			tap_rx_vnet(q, m, buf);
		frames++;
		bytes += (uint64_t)n - hdr;
		pkts[got++] = m;
	}
	if (frames != 0) {
		tap_stat_add(q, TS_RX_FRAMES, frames);
		tap_stat_add(q, TS_RX_BYTES, bytes);
	}
	return (got);
}

/* Copies the chain into q's buffer from off; 0 when it does not fit. */
static size_t
tap_gather(struct tap_queue *q, struct ust_mbuf *m, size_t off)
{
	size_t start = off, len, buflen = q->tq_tap->t_buflen;

	for (; m != NULL; m = ust_mbuf_next(m)) {
		len = ust_mbuf_len(m);
		if (len > buflen - off)
			return (0);
		memcpy(q->tq_buf + off, ust_mbuf_data(m), len);
		off += len;
	}
	return (off - start);
}

#if defined(__linux__)
/*
 * The virtio_net_hdr for the frame f of len bytes with offload flags fl
 * (the contract in ustack_driver.h), and the IPv4 header checksum the
 * stack left.  Returns 0, or -1 for a frame that does not parse.
 */
static int
tap_vnet_tx(struct tap_queue *q, uint8_t *vh, uint8_t *f, size_t len, uint32_t fl, uint32_t segsz)
{
	uint8_t *ip = f + TAP_ETHER_HDR, *l4;
	uint32_t hlen, iplen, l4len, thlen, sum;
	int v6 = (fl & TAP_CSUM6) != 0, tcp, tso;

	memset(vh, 0, TAP_VNET_HDR);
	if (!(fl & (TAP_CSUM4 | TAP_CSUM6)))
		return (0);
	if (len < TAP_ETHER_HDR + 40 && (v6 || len < TAP_ETHER_HDR + 20))
		return (-1);
	if (v6) {
		/* IPv6 (UST_CSUM_IP6_*): 40 bytes of header, the transport
		 * right after it (the contract), no header checksum; never
		 * an IPv4 flag on the same frame. */
		if ((fl & TAP_CSUM4) || f[12] != 0x86 || f[13] != 0xdd || (ip[0] >> 4) != 6)
			return (-1);
		hlen = 40;
		iplen = hlen + (uint32_t)(ip[4] << 8 | ip[5]);
		if (TAP_ETHER_HDR + iplen > len)
			return (-1);
		tcp = (fl & (UST_CSUM_IP6_TCP | UST_CSUM_IP6_TSO)) != 0;
		tso = (fl & UST_CSUM_IP6_TSO) != 0;
		if (ip[6] != (tcp ? 6 : 17))
			return (-1);
	} else {
		if ((ip[0] >> 4) != 4)
			return (-1);
		hlen = (uint32_t)(ip[0] & 0x0f) * 4;
		iplen = (uint32_t)(ip[2] << 8 | ip[3]);
		if (hlen < 20 || iplen < hlen || TAP_ETHER_HDR + iplen > len)
			return (-1);
		if (fl & UST_CSUM_IP)
			tap_ip_sum(ip, hlen);
		if (!(fl & (UST_CSUM_TCP | UST_CSUM_UDP)))
			return (0);
		tcp = (fl & UST_CSUM_TCP) != 0;
		tso = (fl & UST_CSUM_TSO) != 0;
	}
	l4 = ip + hlen;
	l4len = iplen - hlen;
	vh[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	tap_set_h16(vh + 6, (uint16_t)(TAP_ETHER_HDR + hlen));
	tap_set_h16(vh + 8, tcp ? TAP_TCP_CSUM_OFF : TAP_UDP_CSUM_OFF);
	if (!tso)
		return (0);
	if (l4len < 20 || segsz == 0)
		return (-1);
	thlen = (uint32_t)(l4[12] >> 4) * 4;
	/* Linux adjusts the field by each segment's length from the whole
	 * one: the stack's sum leaves the length out, add it. */
	sum = tap_fold((uint32_t)(l4[16] << 8 | l4[17]) + l4len);
	l4[16] = (uint8_t)(sum >> 8);
	l4[17] = (uint8_t)sum;
	vh[1] = (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) |
	    ((l4[13] & 0x80) ? VIRTIO_NET_HDR_GSO_ECN : 0);
	tap_set_h16(vh + 2, (uint16_t)(TAP_ETHER_HDR + hlen + thlen));
	tap_set_h16(vh + 4, (uint16_t)segsz);
	tap_stat_add(q, TS_TX_TSO, 1);
	return (0);
}
#endif

#if defined(__linux__)
/*
 * UST_TAP_IO_VEC: one writev per frame of its buffers as they are
 * (ust_mbuf_sglist), behind the vnet header.  With offload the header
 * and checksum writes of tap_vnet_tx need a private copy of the frame's
 * first TAP_HDR_COPY bytes (the stack's buffers are shared with its
 * retransmission queue): that copy goes first, the rest of the chain
 * after it.  A chain of more buffers than TAP_IOV_MAX allows is gathered
 * into the queue's buffer.  Returns the bytes written (hdr excluded), 0
 * for a frame that does not parse, -1 with errno for a failed write.
 */
static ssize_t
tap_tx_vec(struct tap_queue *q, struct ust_mbuf *m, size_t hdr)
{
	struct ust_tap *t = q->tq_tap;
	struct ust_iovec sg[TAP_IOV_MAX - 2];
	struct iovec iov[TAP_IOV_MAX];
	uint8_t vh[TAP_VNET_HDR], head[TAP_HDR_COPY];
	size_t len = ust_mbuf_pktlen(m), hcopy, skip, take;
	int nsg, i, niov = 0;
	ssize_t w;

	nsg = ust_mbuf_sglist(m, sg, TAP_IOV_MAX - 2);
	if (nsg > TAP_IOV_MAX - 2 || len == 0) {
		/* Too many buffers: gather as the copy path does. */
		if ((len = tap_gather(q, m, hdr)) == 0)
			return (0);
		if (hdr != 0 &&
		    tap_vnet_tx(q, q->tq_buf, q->tq_buf + hdr, len, ust_mbuf_csum_flags(m),
		        ust_mbuf_tso_segsz(m)) != 0)
			return (0);
		if (hdr != 0 && q->tq_buf[0] != 0)
			tap_stat_add(q, TS_TX_CSUM, 1);
		w = write(q->tq_fd, q->tq_buf, hdr + len);
		return (w < 0 ? -1 : w == (ssize_t)(hdr + len) ? (ssize_t)len : 0);
	}
	if (len > t->t_buflen - hdr)
		return (0);
	hcopy = 0;
	if (hdr != 0) {
		hcopy = len < TAP_HDR_COPY ? len : TAP_HDR_COPY;
		(void)ust_mbuf_copydata(m, 0, hcopy, head);
		if (tap_vnet_tx(q, vh, head, len, ust_mbuf_csum_flags(m), ust_mbuf_tso_segsz(m)) !=
		    0)
			return (0);
		if (vh[0] != 0)
			tap_stat_add(q, TS_TX_CSUM, 1);
		iov[niov].iov_base = vh;
		iov[niov++].iov_len = hdr;
		iov[niov].iov_base = head;
		iov[niov++].iov_len = hcopy;
	}
	/* The buffers after the copied bytes. */
	skip = hcopy;
	for (i = 0; i < nsg; i++) {
		take = sg[i].iov_len;
		if (skip >= take) {
			skip -= take;
			continue;
		}
		iov[niov].iov_base = (uint8_t *)(uintptr_t)sg[i].iov_base + skip;
		iov[niov++].iov_len = take - skip;
		skip = 0;
	}
	w = writev(q->tq_fd, iov, niov);
	if (w < 0)
		return (-1);
	return (w == (ssize_t)(hdr + len) ? (ssize_t)len : 0);
}
#endif

static int
tap_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct tap_queue *q = softc;
	struct ust_tap *t = q->tq_tap;
	size_t hdr = t->t_vnet ? TAP_VNET_HDR : 0, len;
	uint8_t *buf = q->tq_buf;
	uint64_t frames = 0, bytes = 0;
	ssize_t w;
	int i, bad;

#if defined(__linux__)
	if (t->t_io == UST_TAP_IO_VEC) {
		for (i = 0; i < n; i++) {
			w = tap_tx_vec(q, pkts[i], hdr);
			if (w < 0 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
				tap_stat_add(q, TS_TX_FULL, 1);
				break;
			}
			if (w <= 0) {
				tap_stat_add(q, TS_TX_ERRORS, 1);
			} else {
				frames++;
				bytes += (uint64_t)w;
			}
			ust_mbuf_free(pkts[i]);
		}
		if (frames != 0) {
			tap_stat_add(q, TS_TX_FRAMES, frames);
			tap_stat_add(q, TS_TX_BYTES, bytes);
		}
		return (i);
	}
#endif
	for (i = 0; i < n; i++) {
		len = tap_gather(q, pkts[i], hdr);
		bad = len == 0;
#if defined(__linux__)
		if (!bad && hdr != 0) {
			uint32_t fl = ust_mbuf_csum_flags(pkts[i]);

			bad = tap_vnet_tx(q, buf, buf + hdr, len, fl,
			          ust_mbuf_tso_segsz(pkts[i])) != 0;
			if (!bad && buf[0] != 0)
				tap_stat_add(q, TS_TX_CSUM, 1);
		}
#endif
		if (bad) {
			tap_stat_add(q, TS_TX_ERRORS, 1);
			ust_mbuf_free(pkts[i]);
			continue;
		}
		w = write(q->tq_fd, buf, hdr + len);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			/* The kernel's queue is full: the rest waits. */
			tap_stat_add(q, TS_TX_FULL, 1);
			break;
		}
		if (w != (ssize_t)(hdr + len))
			tap_stat_add(q, TS_TX_ERRORS, 1);
		else {
			frames++;
			bytes += len;
		}
		ust_mbuf_free(pkts[i]);
	}
	if (frames != 0) {
		tap_stat_add(q, TS_TX_FRAMES, frames);
		tap_stat_add(q, TS_TX_BYTES, bytes);
	}
	return (i);
}

static void
tap_get_mac(void *softc, uint8_t mac[6])
{
	memcpy(mac, ((struct tap_queue *)softc)->tq_tap->t_mac, 6);
}

static uint32_t
tap_get_mtu(void *softc)
{
	return (((struct tap_queue *)softc)->tq_tap->t_mtu);
}

static int
tap_get_fd(void *softc)
{
	return (((struct tap_queue *)softc)->tq_fd);
}

static uint32_t
tap_get_caps(void *softc)
{
	return (((struct tap_queue *)softc)->tq_tap->t_vnet ? UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM |
	            UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6 :
	                                                      0);
}

static const struct ust_driver_ops tap_ops = {
	.name = "tap",
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.get_mac = tap_get_mac,
	.get_mtu = tap_get_mtu,
	.get_fd = tap_get_fd,
	.get_caps = tap_get_caps,
};

const struct ust_driver_ops *
ust_tap_ops(void)
{
	return (&tap_ops);
}

void *
ust_tap_softc(struct ust_tap *t)
{
	return (&t->t_q[0]);
}

unsigned
ust_tap_queues(const struct ust_tap *t)
{
	return (t->t_nq);
}

void *
ust_tap_queue_softc(struct ust_tap *t, unsigned i)
{
	return (i < t->t_nq ? &t->t_q[i] : NULL);
}

int
ust_tap_queue_fd(const struct ust_tap *t, unsigned i)
{
	return (i < t->t_nq ? t->t_q[i].tq_fd : -1);
}

int
ust_tap_rss_steering(const struct ust_tap *t)
{
	return (t->t_steer);
}

const char *
ust_tap_name(const struct ust_tap *t)
{
	return (t->t_name);
}

int
ust_tap_fd(const struct ust_tap *t)
{
	return (t->t_q[0].tq_fd);
}

/* Adds queue q's counters to out. */
static void
tap_stats_add(const struct tap_queue *q, struct ust_tap_stats *out)
{
	out->rx_frames += tap_stat_get(q, TS_RX_FRAMES);
	out->rx_bytes += tap_stat_get(q, TS_RX_BYTES);
	out->rx_nombuf += tap_stat_get(q, TS_RX_NOMBUF);
	out->tx_frames += tap_stat_get(q, TS_TX_FRAMES);
	out->tx_bytes += tap_stat_get(q, TS_TX_BYTES);
	out->tx_errors += tap_stat_get(q, TS_TX_ERRORS);
	out->tx_full += tap_stat_get(q, TS_TX_FULL);
	out->tx_tso += tap_stat_get(q, TS_TX_TSO);
	out->tx_csum += tap_stat_get(q, TS_TX_CSUM);
	out->rx_gso += tap_stat_get(q, TS_RX_GSO);
	out->rx_csum += tap_stat_get(q, TS_RX_CSUM);
}

void
ust_tap_get_stats(const struct ust_tap *t, struct ust_tap_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < t->t_nq; i++)
		tap_stats_add(&t->t_q[i], out);
}

int
ust_tap_get_queue_stats(const struct ust_tap *t, unsigned i, struct ust_tap_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= t->t_nq)
		return (-UST_EINVAL);
	tap_stats_add(&t->t_q[i], out);
	return (0);
}
