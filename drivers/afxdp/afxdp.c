/*
 * afxdp.c - the AF_XDP driver (ustack_afxdp.h): one AF_XDP socket per
 * queue of a Linux interface, each with its own UMEM and four rings.
 *
 * UMEM layout of a queue: `frames` frames of frame_size bytes; the first
 * half belongs to receive (on the fill ring, with the kernel, on the rx
 * ring, lent to the stack, or on rx_free), the second half to transmit (on
 * tx_free, on the tx ring or waiting on the completion ring).  Rings are
 * single-producer single-consumer arrays in memory shared with the kernel;
 * the producer publishes with a release store of its index, the consumer
 * reads it with an acquire load (Documentation/networking/af_xdp.rst).
 *
 * Definitions the Debian 12 (6.1) uapi headers lack are declared below
 * from the kernel's documentation (XDP_USE_SG 6.6, XDP_PKT_CONTD 6.6, tx
 * metadata 6.8, XDP_UMEM_TX_SW_CSUM 6.11, XDP_UMEM_TX_METADATA_LEN 6.11).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <ustack/ustack_afxdp.h>
#include <ustack/ustack_errno.h>

#include "xdp_prog.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4) /* bind: multi-buffer frames */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0) /* desc.options: more buffers of this frame follow */
#endif
#ifndef XDP_TX_METADATA
#define XDP_TX_METADATA (1 << 1) /* desc.options: tx metadata precedes the data */
#endif
#ifndef XDP_UMEM_TX_SW_CSUM
#define XDP_UMEM_TX_SW_CSUM (1 << 1) /* copy mode computes the requested checksum */
#endif
#ifndef XDP_UMEM_TX_METADATA_LEN
#define XDP_UMEM_TX_METADATA_LEN (1 << 2) /* tx_metadata_len is meant */
#endif
#ifndef XDP_TXMD_FLAGS_CHECKSUM
#define XDP_TXMD_FLAGS_CHECKSUM (1 << 1)
#endif

/* struct xdp_umem_reg as of 6.8 (tx_metadata_len in what was padding). */
struct afxdp_umem_reg {
	uint64_t addr, len;
	uint32_t chunk_size, headroom, flags, tx_metadata_len;
};
_Static_assert(sizeof(struct afxdp_umem_reg) == 32, "xdp_umem_reg v3 is 32 bytes");

/* struct xsk_tx_metadata (6.8; launch_time 6.14): just before the data. */
struct afxdp_tx_meta {
	uint64_t flags;
	uint16_t csum_start, csum_offset;
	uint32_t pad;
	uint64_t launch_time;
};
_Static_assert(sizeof(struct afxdp_tx_meta) == 24, "xsk_tx_metadata is 24 bytes");
#define AFXDP_TX_META_LEN 24u /* a multiple of 8, as the kernel requires */

#define AFXDP_MAX_FRAGS 17 /* 64 KiB in 4 KiB frames, the kernel's MAX_SKB_FRAGS + 1 */
#define AFXDP_KICK_TRIES 64
#define ETH_HLEN_ 14

struct afxdp_ring {
	uint32_t *producer, *consumer, *flags;
	void *desc;
	uint32_t mask, size;
	void *map;
	size_t map_len;
};

struct afxdp_queue {
	struct ust_afxdp_port *port; /* NULL once the port closed */
	uint16_t qid;
	int fd;
	uint8_t *umem;
	size_t umem_len;
	uint32_t frame_size, nframes, meta_len;
	struct afxdp_ring fill, comp, rx, tx;
	uint64_t *rx_free; /* rx frames (base addresses) with the driver */
	uint32_t n_rx_free;
	uint64_t *tx_free; /* tx frames free to fill */
	uint32_t n_tx_free;
	uint32_t lent;       /* rx frames lent to a stack */
	uint32_t tx_pending; /* descriptors on the tx ring or awaiting completion */
	uint32_t lend_min_free;
	struct ust_if *ifp; /* set by ust_afxdp_attach(); NULL after detach */
	int attached;       /* ops in use by a stack */
	uint8_t lend, tx_md_csum, multi_buffer, need_wakeup;
	uint32_t mtu;
	uint32_t caps;
	uint8_t mac[6];
	struct ust_afxdp_stats st;
};

struct ust_afxdp_port {
	char ifname[IF_NAMESIZE];
	int ifindex;
	int map_fd, prog_fd, link_fd;
	uint16_t nq;
	struct ust_afxdp_info info;
	struct afxdp_queue **q;
};

static inline uint32_t
load_acq(const uint32_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void
store_rel(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t *
ring_addr(const struct afxdp_ring *r, uint32_t i)
{
	return ((uint64_t *)r->desc + (i & r->mask));
}

static inline struct xdp_desc *
ring_desc(const struct afxdp_ring *r, uint32_t i)
{
	return ((struct xdp_desc *)r->desc + (i & r->mask));
}

/* Entries a producer ring (fill, tx) can take now. */
static inline uint32_t
ring_room(const struct afxdp_ring *r)
{
	return (r->size - (*r->producer - load_acq(r->consumer)));
}

/* Frames on the fill ring (ours until the kernel takes them). */
static inline uint32_t
fill_count(const struct afxdp_ring *r)
{
	return (*r->producer - load_acq(r->consumer));
}

static inline uint32_t
ring_ready(const struct afxdp_ring *r)
{
	return (load_acq(r->producer) - *r->consumer);
}

void
ust_afxdp_config_init(struct ust_afxdp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queues = 1;
	cfg->mode = UST_AFXDP_MODE_AUTO;
	cfg->zero_copy = -1;
	cfg->frame_size = 4096;
	cfg->frames = 4096;
	cfg->multi_buffer = 1;
	cfg->tx_csum = 1;
	cfg->lend = 1;
	cfg->caps_mask = UINT32_MAX;
}

/* ---- rx frames back to the kernel ---- */

static void
queue_free_mem(struct afxdp_queue *q)
{
	if (q->umem != NULL)
		munmap(q->umem, q->umem_len);
	free(q->rx_free);
	free(q->tx_free);
	free(q);
}

/* Moves frames from rx_free to the fill ring. */
static void
fill_refill(struct afxdp_queue *q)
{
	uint32_t room, n, prod, i;

	if (q->port == NULL || q->n_rx_free == 0)
		return;
	room = ring_room(&q->fill);
	n = room < q->n_rx_free ? room : q->n_rx_free;
	if (n == 0)
		return;
	prod = *q->fill.producer;
	for (i = 0; i < n; i++)
		*ring_addr(&q->fill, prod + i) = q->rx_free[--q->n_rx_free];
	store_rel(q->fill.producer, prod + n);
}

/* The stack let go of a lent frame (on its thread). */
static void
rx_ext_free(void *arg, void *buf)
{
	struct afxdp_queue *q = arg;

	q->lent--;
	if (q->port == NULL) {
		if (q->lent == 0)
			queue_free_mem(q);
		return;
	}
	q->rx_free[q->n_rx_free++] = (uint64_t)((uint8_t *)buf - q->umem);
}

static inline uint64_t
frame_base(const struct afxdp_queue *q, uint64_t addr)
{
	return (addr - addr % q->frame_size);
}

/* ---- transmit ---- */

static void
comp_reap(struct afxdp_queue *q)
{
	uint32_t n = ring_ready(&q->comp), cons = *q->comp.consumer, i;

	for (i = 0; i < n; i++)
		q->tx_free[q->n_tx_free++] = frame_base(q, *ring_addr(&q->comp, cons + i));
	if (n != 0) {
		store_rel(q->comp.consumer, cons + n);
		q->tx_pending -= n;
	}
}

/* sendto() makes a copy-mode socket transmit (up to 32 descriptors per
 * call in the kernel), a zero-copy one wake its driver.  MSG_DONTWAIT: the
 * kernel otherwise may sleep for skb memory. */
static void
tx_kick(struct afxdp_queue *q)
{
	int i;

	if (q->need_wakeup && !(load_acq(q->tx.flags) & XDP_RING_NEED_WAKEUP))
		return;
	for (i = 0; i < AFXDP_KICK_TRIES; i++) {
		ssize_t r = sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		q->st.tx_kicks++;
		if (r >= 0 || (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS))
			break;
		/* EAGAIN: batch limit reached with descriptors left; go on
		 * while the ring still holds some. */
		if (*q->tx.producer == load_acq(q->tx.consumer))
			break;
	}
}

static uint16_t
csum_fold32(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

static uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return (sum);
}

/* Fills the checksums `flags` asks for in the frame at buf (contiguous).
 * With md non-NULL the transport checksum goes to the kernel through tx
 * metadata; the IPv4 header checksum is always ours (20-60 bytes). */
static int
tx_csum(struct afxdp_queue *q, uint8_t *buf, size_t len, size_t total, uint32_t flags,
    struct afxdp_tx_meta *md)
{
	size_t hl, l4, off;
	uint16_t s;

	if (len < ETH_HLEN_ + 20 || (buf[ETH_HLEN_] >> 4) != 4)
		return (-1);
	hl = (size_t)(buf[ETH_HLEN_] & 0xf) * 4;
	l4 = ETH_HLEN_ + hl;
	if (hl < 20 || l4 > len)
		return (-1);
	if (flags & UST_CSUM_IP) {
		buf[ETH_HLEN_ + 10] = 0;
		buf[ETH_HLEN_ + 11] = 0;
		s = (uint16_t)~csum_fold32(csum_add(0, buf + ETH_HLEN_, hl));
		buf[ETH_HLEN_ + 10] = (uint8_t)(s >> 8);
		buf[ETH_HLEN_ + 11] = (uint8_t)s;
	}
	if (!(flags & (UST_CSUM_TCP | UST_CSUM_UDP)))
		return (0);
	off = (flags & UST_CSUM_TCP) ? 16 : 6;
	{
		/* The transport checksum covers the IP datagram, not any
		 * Ethernet padding after it. */
		size_t iplen = (size_t)(buf[ETH_HLEN_ + 2] << 8 | buf[ETH_HLEN_ + 3]);
		size_t end = ETH_HLEN_ + iplen;
		if (end > total || l4 + off + 2 > end)
			return (-1);
		if (md != NULL && end == total) {
			md->flags = XDP_TXMD_FLAGS_CHECKSUM;
			md->csum_start = (uint16_t)l4;
			md->csum_offset = (uint16_t)off;
			q->st.tx_csum_offload++;
			return (1);
		}
		if (end > len)
			return (-1); /* not contiguous: the caller's job */
		s = (uint16_t)~csum_fold32(csum_add(0, buf + l4, end - l4));
		if (s == 0 && (flags & UST_CSUM_UDP))
			s = 0xffff; /* RFC 768: zero means no checksum */
		buf[l4 + off] = (uint8_t)(s >> 8);
		buf[l4 + off + 1] = (uint8_t)s;
		q->st.tx_sw_csum++;
	}
	return (0);
}

/* Copies frame m into tx frames and queues its descriptors; 0, or -1 when
 * there is no room (m untouched), -2 for a frame that cannot go (dropped). */
static int
tx_one(struct afxdp_queue *q, struct ust_mbuf *m)
{
	size_t len = ust_mbuf_pktlen(m), per = q->frame_size - q->meta_len, off;
	uint32_t nd = (uint32_t)((len + per - 1) / per), prod, i, flags;
	uint8_t *first;
	struct afxdp_tx_meta *md = NULL;
	int ofl = 0;

	if (len == 0 || nd > AFXDP_MAX_FRAGS || (nd > 1 && !q->multi_buffer))
		return (-2);
	if (q->n_tx_free < nd || ring_room(&q->tx) < nd) {
		comp_reap(q);
		if (q->n_tx_free < nd || ring_room(&q->tx) < nd) {
			if (q->n_tx_free < nd)
				q->st.comp_empty++;
			return (-1);
		}
	}
	prod = *q->tx.producer;
	flags = ust_mbuf_csum_flags(m);
	/* Checksums need the headers in one buffer: with several frames, the
	 * first one holds at least per (>= 1792) bytes, more than any header. */
	for (i = 0, off = 0; i < nd; i++) {
		uint64_t base = q->tx_free[q->n_tx_free - 1 - i];
		size_t n = len - off < per ? len - off : per;
		struct xdp_desc *d = ring_desc(&q->tx, prod + i);

		ust_mbuf_copydata(m, off, n, q->umem + base + q->meta_len);
		d->addr = base + q->meta_len;
		d->len = (uint32_t)n;
		d->options = i + 1 < nd ? XDP_PKT_CONTD : 0;
		off += n;
	}
	first = q->umem + ring_desc(&q->tx, prod)->addr;
	if (flags & (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP)) {
		/* Only single-buffer frames through tx metadata: on a chain the
		 * kernel's checksum came out wrong here (veth, copy mode, MTU
		 * 9000: TcpInCsumErrors), so chains take the software path. */
		if (q->tx_md_csum && nd == 1) {
			md = (struct afxdp_tx_meta *)(void *)(first - q->meta_len);
			memset(md, 0, sizeof(*md));
		}
		/* The software path needs the whole datagram contiguous. */
		if (nd > 1 && md == NULL) {
			struct ust_mbuf *c = ust_mbuf_dup(m);
			int rc = c != NULL ? ust_mbuf_csum_fill(c) : -1;
			if (rc != 0) {
				ust_mbuf_free(c);
				return (-2);
			}
			for (i = 0, off = 0; i < nd; i++) {
				struct xdp_desc *d = ring_desc(&q->tx, prod + i);
				ust_mbuf_copydata(c, off, d->len, q->umem + d->addr);
				off += d->len;
			}
			ust_mbuf_free(c);
			q->st.tx_sw_csum++;
		} else {
			ofl = tx_csum(q, first, nd > 1 ? per : len, len, flags, md);
			if (ofl < 0)
				return (-2);
			if (ofl == 1)
				ring_desc(&q->tx, prod)->options |= XDP_TX_METADATA;
		}
	}
	q->n_tx_free -= nd;
	q->tx_pending += nd;
	store_rel(q->tx.producer, prod + nd);
	q->st.tx_frames++;
	q->st.tx_bytes += len;
	if (nd > 1)
		q->st.tx_frags++;
	return (0);
}

static int
afxdp_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct afxdp_queue *q = softc;
	int i, sent = 0;

	comp_reap(q);
	for (i = 0; i < n; i++) {
		int rc = tx_one(q, pkts[i]);
		if (rc == -1) {
			q->st.tx_full++;
			break;
		}
		if (rc == 0)
			sent++;
		else
			q->st.tx_dropped++;
		ust_mbuf_free(pkts[i]);
	}
	if (sent != 0)
		tx_kick(q);
	return (i);
}

/* ---- receive ---- */

static struct ust_mbuf *
rx_frame(struct afxdp_queue *q, struct ust_if *ifp, const struct xdp_desc *d, uint32_t nd,
    uint32_t cons)
{
	struct ust_mbuf *m = NULL;
	uint32_t i;
	size_t total = 0;

	for (i = 0; i < nd; i++)
		total += ring_desc(&q->rx, cons + i)->len;
	if (nd == 1 && q->lend && q->n_rx_free + fill_count(&q->fill) >= q->lend_min_free) {
		uint64_t base = frame_base(q, d->addr);
		m = ust_mbuf_attach_ext(ifp, q->umem + base, q->frame_size,
		    (size_t)(d->addr - base), d->len, rx_ext_free, q);
		if (m != NULL) {
			q->lent++;
			q->st.rx_lent++;
			q->st.rx_frames++;
			q->st.rx_bytes += d->len;
			return (m);
		}
	}
	/* Copy: lending is off, few frames are free, or a chain (the stack
	 * has no call to join lent buffers into one packet). */
	m = ust_mbuf_alloc(ifp, total);
	if (m != NULL) {
		uint8_t *dst = ust_mbuf_data(m);
		size_t off = 0;
		for (i = 0; i < nd; i++) {
			const struct xdp_desc *e = ring_desc(&q->rx, cons + i);
			memcpy(dst + off, q->umem + e->addr, e->len);
			off += e->len;
		}
		q->st.rx_copied++;
		q->st.rx_frames++;
		q->st.rx_bytes += total;
	} else {
		q->st.rx_bad++;
	}
	for (i = 0; i < nd; i++)
		q->rx_free[q->n_rx_free++] = frame_base(q, ring_desc(&q->rx, cons + i)->addr);
	return (m);
}

static int
afxdp_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct afxdp_queue *q = softc;
	uint32_t avail, cons, used = 0;
	int got = 0;

	if (q->tx_pending != 0) {
		comp_reap(q);
		if (*q->tx.producer != load_acq(q->tx.consumer))
			tx_kick(q);
	}
	avail = ring_ready(&q->rx);
	cons = *q->rx.consumer;
	while (used < avail && got < max) {
		const struct xdp_desc *d = ring_desc(&q->rx, cons + used);
		uint32_t nd = 1;
		struct ust_mbuf *m;

		/* A multi-buffer frame: descriptors with XDP_PKT_CONTD up to
		 * one without; the kernel publishes whole frames. */
		while ((ring_desc(&q->rx, cons + used + nd - 1)->options & XDP_PKT_CONTD) &&
		    used + nd < avail)
			nd++;
		if (ring_desc(&q->rx, cons + used + nd - 1)->options & XDP_PKT_CONTD)
			break;
		m = rx_frame(q, ifp, d, nd, cons + used);
		if (nd > 1)
			q->st.rx_frags++;
		used += nd;
		if (m != NULL)
			pkts[got++] = m;
	}
	if (used != 0)
		store_rel(q->rx.consumer, cons + used);
	fill_refill(q);
	if (q->need_wakeup && (load_acq(q->fill.flags) & XDP_RING_NEED_WAKEUP) && used != 0)
		(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return (got);
}

/* ---- the other ops ---- */

static void
afxdp_get_mac(void *softc, uint8_t mac[6])
{
	memcpy(mac, ((struct afxdp_queue *)softc)->mac, 6);
}

static uint32_t
afxdp_get_mtu(void *softc)
{
	return (((struct afxdp_queue *)softc)->mtu);
}

static uint32_t
afxdp_get_caps(void *softc)
{
	return (((struct afxdp_queue *)softc)->caps);
}

static int
afxdp_get_fd(void *softc)
{
	return (((struct afxdp_queue *)softc)->fd);
}

/* Frames are copied into UMEM in tx_burst and handed up in rx_burst at
 * once: no mbuf of the stack stays here, only lent UMEM (which returns
 * through rx_ext_free). */
static void
afxdp_detach(void *softc)
{
	struct afxdp_queue *q = softc;

	q->ifp = NULL;
	q->attached = 0;
}

static void
kernel_stats(const struct afxdp_queue *q, struct xdp_statistics *xs)
{
	socklen_t len = sizeof(*xs);

	memset(xs, 0, sizeof(*xs));
	if (q->port != NULL)
		(void)getsockopt(q->fd, SOL_XDP, XDP_STATISTICS, xs, &len);
}

static uint64_t
afxdp_get_counter(void *softc, int which)
{
	struct afxdp_queue *q = softc;
	struct xdp_statistics xs;

	kernel_stats(q, &xs);
	switch (which) {
	case UST_IFCOUNTER_IERRORS:
		return (xs.rx_invalid_descs);
	case UST_IFCOUNTER_IQDROPS:
		return (xs.rx_dropped + xs.rx_ring_full);
	case UST_IFCOUNTER_OERRORS:
		return (xs.tx_invalid_descs + q->st.tx_dropped);
	default:
		return (0);
	}
}

static uint32_t
afxdp_get_tso_max(void *softc)
{
	(void)softc;
	return (0);
}

static const struct ust_driver_ops afxdp_ops = {
	.name = "afxdp",
	.rx_burst = afxdp_rx_burst,
	.tx_burst = afxdp_tx_burst,
	.get_mac = afxdp_get_mac,
	.get_mtu = afxdp_get_mtu,
	.get_caps = afxdp_get_caps,
	.get_fd = afxdp_get_fd,
	.detach = afxdp_detach,
	.get_tso_max = afxdp_get_tso_max,
	.get_counter = afxdp_get_counter,
};

const struct ust_driver_ops *
ust_afxdp_ops(void)
{
	return (&afxdp_ops);
}

/* ---- set-up ---- */

static int
ring_map(int fd, struct afxdp_ring *r, const struct xdp_ring_offset *o, uint32_t size, size_t elem,
    int64_t pgoff)
{
	size_t len = (size_t)o->desc + (size_t)size * elem;
	void *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)pgoff);

	if (p == MAP_FAILED)
		return (-errno);
	r->map = p;
	r->map_len = len;
	r->producer = (uint32_t *)(void *)((uint8_t *)p + o->producer);
	r->consumer = (uint32_t *)(void *)((uint8_t *)p + o->consumer);
	r->flags = (uint32_t *)(void *)((uint8_t *)p + o->flags);
	r->desc = (uint8_t *)p + o->desc;
	r->size = size;
	r->mask = size - 1;
	return (0);
}

static void
ring_unmap(struct afxdp_ring *r)
{
	if (r->map != NULL)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

static void
queue_unmap_rings(struct afxdp_queue *q)
{
	ring_unmap(&q->fill);
	ring_unmap(&q->comp);
	ring_unmap(&q->rx);
	ring_unmap(&q->tx);
}

/* The UMEM counts against RLIMIT_MEMLOCK without CAP_IPC_LOCK: raise the
 * soft limit as far as the hard one allows when it is too low. */
static void
memlock_raise(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	if (rl.rlim_cur >= need * 4)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
queue_open(struct ust_afxdp_port *p, const struct ust_afxdp_config *cfg, uint16_t qid,
    struct afxdp_queue **out)
{
	struct afxdp_queue *q = calloc(1, sizeof(*q));
	struct afxdp_umem_reg mr;
	struct xdp_mmap_offsets off;
	struct sockaddr_xdp sa;
	socklen_t olen = sizeof(off);
	uint32_t half = cfg->frames / 2, i;
	int err, tries, zc = cfg->zero_copy, sg = cfg->multi_buffer;

	if (q == NULL)
		return (-UST_ENOMEM);
	q->qid = qid;
	q->fd = -1;
	q->frame_size = cfg->frame_size;
	q->nframes = cfg->frames;
	q->lend = cfg->lend;
	q->lend_min_free = cfg->lend_min_free != 0 ? cfg->lend_min_free : half / 4;
	q->umem_len = (size_t)cfg->frames * cfg->frame_size;
	q->rx_free = calloc(half, sizeof(uint64_t));
	q->tx_free = calloc(half, sizeof(uint64_t));
	q->umem =
	    mmap(NULL, q->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->umem == MAP_FAILED) {
		q->umem = NULL;
		err = -UST_ENOMEM;
		goto fail;
	}
	if (q->rx_free == NULL || q->tx_free == NULL) {
		err = -UST_ENOMEM;
		goto fail;
	}
	memlock_raise(q->umem_len * (size_t)cfg->queues);
	q->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		err = ust_errno_neg(errno);
		goto fail;
	}
	memset(&mr, 0, sizeof(mr));
	mr.addr = (uint64_t)(uintptr_t)q->umem;
	mr.len = q->umem_len;
	mr.chunk_size = cfg->frame_size;
	if (cfg->tx_csum) {
		/* TX_SW_CSUM: in copy mode the kernel computes what the
		 * metadata asks for instead of passing a partial checksum
		 * on (a zero-copy NIC does it in hardware and ignores it). */
		mr.flags = XDP_UMEM_TX_METADATA_LEN | XDP_UMEM_TX_SW_CSUM;
		mr.tx_metadata_len = AFXDP_TX_META_LEN;
		if (setsockopt(q->fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) == 0) {
			q->tx_md_csum = 1;
			q->meta_len = AFXDP_TX_META_LEN;
		}
	}
	if (!q->tx_md_csum) {
		mr.flags = 0;
		mr.tx_metadata_len = 0;
		if (setsockopt(q->fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) != 0) {
			err = ust_errno_neg(errno);
			goto fail;
		}
	}
	{
		int sz = (int)half;
		if (setsockopt(q->fd, SOL_XDP, XDP_UMEM_FILL_RING, &sz, sizeof(sz)) != 0 ||
		    setsockopt(q->fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &sz, sizeof(sz)) != 0 ||
		    setsockopt(q->fd, SOL_XDP, XDP_RX_RING, &sz, sizeof(sz)) != 0 ||
		    setsockopt(q->fd, SOL_XDP, XDP_TX_RING, &sz, sizeof(sz)) != 0) {
			err = ust_errno_neg(errno);
			goto fail;
		}
	}
	if (getsockopt(q->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen) != 0) {
		err = ust_errno_neg(errno);
		goto fail;
	}
	if ((err = ring_map(q->fd, &q->fill, &off.fr, half, 8,
	         (int64_t)XDP_UMEM_PGOFF_FILL_RING)) != 0 ||
	    (err = ring_map(q->fd, &q->comp, &off.cr, half, 8,
	         (int64_t)XDP_UMEM_PGOFF_COMPLETION_RING)) != 0 ||
	    (err = ring_map(q->fd, &q->rx, &off.rx, half, sizeof(struct xdp_desc),
	         XDP_PGOFF_RX_RING)) != 0 ||
	    (err = ring_map(q->fd, &q->tx, &off.tx, half, sizeof(struct xdp_desc),
	         XDP_PGOFF_TX_RING)) != 0) {
		err = ust_errno_neg(-err);
		goto fail;
	}
	/* The kernel takes frames only from the fill ring: give it all rx
	 * frames now, before frames can arrive. */
	for (i = 0; i < half; i++)
		*ring_addr(&q->fill, i) = (uint64_t)i * cfg->frame_size;
	store_rel(q->fill.producer, half);
	for (i = 0; i < half; i++)
		q->tx_free[q->n_tx_free++] = (uint64_t)(half + i) * cfg->frame_size;

	/* Bind: zero copy first where wanted, then copy; multi-buffer if the
	 * kernel takes it; EBUSY (the queue's previous socket is still being
	 * torn down, ~10 ms after a close) is retried for up to 200 ms. */
	for (tries = 0;;) {
		memset(&sa, 0, sizeof(sa));
		sa.sxdp_family = AF_XDP;
		sa.sxdp_ifindex = (uint32_t)p->ifindex;
		sa.sxdp_queue_id = qid;
		sa.sxdp_flags = (uint16_t)((zc != 0 ? XDP_ZEROCOPY : XDP_COPY) |
		    XDP_USE_NEED_WAKEUP | (sg ? XDP_USE_SG : 0));
		if (bind(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		err = errno;
		if (err == EBUSY && ++tries < 200) {
			sleep_ms(1);
			continue;
		}
		if (zc < 0 && (err == EOPNOTSUPP || err == EINVAL || err == EPROTONOSUPPORT)) {
			zc = 0;
			continue;
		}
		if (sg && (err == EOPNOTSUPP || err == EINVAL)) {
			sg = 0;
			continue;
		}
		err = ust_errno_neg(err);
		goto fail;
	}
	q->need_wakeup = 1;
	q->multi_buffer = (uint8_t)sg;
	p->info.zero_copy = zc > 0 ? 1 : 0;
	{
		struct xdp_options xo;
		socklen_t xl = sizeof(xo);
		if (getsockopt(q->fd, SOL_XDP, XDP_OPTIONS, &xo, &xl) == 0)
			p->info.zero_copy = (xo.flags & XDP_OPTIONS_ZEROCOPY) ? 1 : 0;
	}
	p->info.multi_buffer = (uint8_t)sg;
	p->info.tx_csum = q->tx_md_csum;
	q->port = p;
	*out = q;
	return (0);
fail:
	queue_unmap_rings(q);
	if (q->fd >= 0)
		close(q->fd);
	queue_free_mem(q);
	return (err);
}

static int
if_query(const char *ifname, int req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return (-errno);
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, ifname, IF_NAMESIZE - 1);
	rc = ioctl(s, (unsigned long)req, ifr) == 0 ? 0 : -errno;
	close(s);
	return (rc);
}

static void
port_teardown(struct ust_afxdp_port *p)
{
	uint16_t i;

	if (p->link_fd >= 0)
		close(p->link_fd); /* the program leaves the interface */
	for (i = 0; i < p->nq; i++) {
		struct afxdp_queue *q = p->q[i];
		if (q == NULL)
			continue;
		if (q->ifp != NULL)
			ust_if_detach(q->ifp);
		queue_unmap_rings(q);
		close(q->fd);
		q->fd = -1;
		q->port = NULL;
		if (q->lent == 0)
			queue_free_mem(q);
		/* else the last rx_ext_free frees it */
	}
	if (p->prog_fd >= 0)
		close(p->prog_fd);
	if (p->map_fd >= 0)
		close(p->map_fd);
	free(p->q);
	free(p);
}

int
ust_afxdp_open(const struct ust_afxdp_config *cfg, struct ust_afxdp_port **out)
{
	struct ust_afxdp_port *p;
	struct ifreq ifr;
	uint8_t mac[6];
	uint32_t mtu, caps;
	int err, ifindex;
	uint16_t i;

	if (cfg == NULL || out == NULL || cfg->ifname == NULL || cfg->queues == 0 ||
	    (cfg->frame_size != 2048 && cfg->frame_size != 4096) || cfg->frames < 64 ||
	    (cfg->frames & (cfg->frames - 1)) != 0 || cfg->mode > UST_AFXDP_MODE_GENERIC ||
	    strlen(cfg->ifname) >= IF_NAMESIZE)
		return (-UST_EINVAL);
	ifindex = (int)if_nametoindex(cfg->ifname);
	if (ifindex == 0)
		return (-UST_ENODEV);
	if ((err = if_query(cfg->ifname, SIOCGIFHWADDR, &ifr)) != 0)
		return (ust_errno_neg(-err));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if ((err = if_query(cfg->ifname, SIOCGIFMTU, &ifr)) != 0)
		return (ust_errno_neg(-err));
	mtu = cfg->mtu != 0 ? cfg->mtu : (uint32_t)ifr.ifr_mtu;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return (-UST_ENOMEM);
	p->q = calloc(cfg->queues, sizeof(*p->q));
	p->map_fd = p->prog_fd = p->link_fd = -1;
	if (p->q == NULL) {
		free(p);
		return (-UST_ENOMEM);
	}
	memcpy(p->ifname, cfg->ifname, strlen(cfg->ifname) + 1);
	p->ifindex = ifindex;
	p->nq = cfg->queues;
	for (i = 0; i < cfg->queues; i++) {
		if ((err = queue_open(p, cfg, i, &p->q[i])) != 0)
			goto fail;
	}
	if ((p->map_fd = afxdp_xskmap_create(cfg->queues)) < 0) {
		err = ust_errno_neg(-p->map_fd);
		goto fail;
	}
	for (i = 0; i < cfg->queues; i++) {
		if ((err = afxdp_xskmap_set(p->map_fd, i, p->q[i]->fd)) != 0) {
			err = ust_errno_neg(-err);
			goto fail;
		}
	}
	/* Frags-aware if the kernel knows the flag (5.18+), plain otherwise. */
	if ((p->prog_fd = afxdp_prog_load(p->map_fd, 1)) < 0)
		p->prog_fd = afxdp_prog_load(p->map_fd, 0);
	if (p->prog_fd < 0) {
		err = ust_errno_neg(-p->prog_fd);
		goto fail;
	}
	if (cfg->mode != UST_AFXDP_MODE_GENERIC) {
		p->link_fd = afxdp_link_create(p->prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
		p->info.mode = UST_AFXDP_MODE_NATIVE;
	}
	if (p->link_fd < 0 && cfg->mode != UST_AFXDP_MODE_NATIVE) {
		p->link_fd = afxdp_link_create(p->prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		p->info.mode = UST_AFXDP_MODE_GENERIC;
	}
	if (p->link_fd < 0) {
		err = ust_errno_neg(-p->link_fd);
		goto fail;
	}
	p->info.queues = cfg->queues;
	p->info.frame_size = cfg->frame_size;
	p->info.frames = cfg->frames;
	p->info.ifindex = ifindex;
	/* Without multi-buffer a frame must fit one UMEM frame (less the tx
	 * metadata); the kernel drops longer ones. */
	if (!p->info.multi_buffer) {
		uint32_t lim = cfg->frame_size - p->q[0]->meta_len - ETH_HLEN_ - 256;
		if (mtu > lim)
			mtu = lim;
	}
	p->info.mtu = mtu;
	/* TXCSUM always works: metadata where the kernel took it, software
	 * otherwise.  No TSO: the stack segments (a frame above the MTU is
	 * dropped by the kernel); no RXCSUM: AF_XDP has no rx checksum
	 * metadata. */
	caps = UST_IFCAP_TXCSUM & cfg->caps_mask;
	for (i = 0; i < cfg->queues; i++) {
		struct afxdp_queue *q = p->q[i];
		memcpy(q->mac, mac, 6);
		q->mtu = mtu;
		q->caps = caps;
	}
	*out = p;
	return (0);
fail:
	port_teardown(p);
	return (err);
}

void
ust_afxdp_info(const struct ust_afxdp_port *p, struct ust_afxdp_info *out)
{
	*out = p->info;
}

void *
ust_afxdp_softc(struct ust_afxdp_port *p, uint16_t queue)
{
	return (p != NULL && queue < p->nq ? p->q[queue] : NULL);
}

int
ust_afxdp_attach(struct ust_stack *st, struct ust_afxdp_port *p, uint16_t queue, const char *name,
    struct ust_if **ifp)
{
	struct afxdp_queue *q = ust_afxdp_softc(p, queue);
	struct ust_if *got = NULL;
	int err;

	if (q == NULL)
		return (-UST_EINVAL);
	if (q->attached)
		return (-UST_EBUSY);
	if ((err = ust_if_attach(st, name, &afxdp_ops, q, &got)) != 0)
		return (err);
	q->attached = 1;
	q->ifp = got;
	if (ifp != NULL)
		*ifp = got;
	return (0);
}

int
ust_afxdp_fd(const struct ust_afxdp_port *p, uint16_t queue)
{
	return (p != NULL && queue < p->nq ? p->q[queue]->fd : -1);
}

static void
stats_add(struct ust_afxdp_stats *o, const struct afxdp_queue *q)
{
	struct xdp_statistics xs;
	const uint64_t *a = (const uint64_t *)(const void *)&q->st;
	uint64_t *b = (uint64_t *)(void *)o;
	size_t i;

	for (i = 0; i < sizeof(*o) / sizeof(uint64_t); i++)
		b[i] += a[i];
	kernel_stats(q, &xs);
	o->rx_dropped += xs.rx_dropped;
	o->rx_invalid += xs.rx_invalid_descs;
	o->rx_ring_full += xs.rx_ring_full;
	o->fill_empty += xs.rx_fill_ring_empty_descs;
	o->tx_invalid += xs.tx_invalid_descs;
	o->tx_ring_empty += xs.tx_ring_empty_descs;
	o->lent_now += q->lent;
	o->fill_now += fill_count(&q->fill);
	o->rx_free_now += q->n_rx_free;
	o->tx_free_now += q->n_tx_free;
	o->tx_pending_now += q->tx_pending;
}

void
ust_afxdp_get_stats(struct ust_afxdp_port *p, uint16_t queue, struct ust_afxdp_stats *out)
{
	uint16_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nq; i++) {
		if (queue == UINT16_MAX || queue == i)
			stats_add(out, p->q[i]);
	}
}

void
ust_afxdp_close(struct ust_afxdp_port *p)
{
	if (p != NULL)
		port_teardown(p);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

int64_t
ust_afxdp_raw_pump(struct ust_afxdp_port *p, uint16_t queue, const void *frame, size_t len,
    uint64_t duration_ns)
{
	struct afxdp_queue *q = ust_afxdp_softc(p, queue);
	uint64_t end, count = 0, base_done;
	uint32_t i;

	if (q == NULL || (frame != NULL && (len == 0 || len > q->frame_size - q->meta_len)))
		return (-UST_EINVAL);
	if (q->attached)
		return (-UST_EBUSY);
	end = now_ns() + duration_ns;
	if (frame != NULL) {
		comp_reap(q);
		for (i = 0; i < q->n_tx_free; i++)
			memcpy(q->umem + q->tx_free[i] + q->meta_len, frame, len);
		base_done = q->st.tx_frames;
		while (now_ns() < end) {
			uint32_t room = ring_room(&q->tx), n, prod = *q->tx.producer;
			comp_reap(q);
			n = room < q->n_tx_free ? room : q->n_tx_free;
			if (n > 64)
				n = 64;
			for (i = 0; i < n; i++) {
				struct xdp_desc *d = ring_desc(&q->tx, prod + i);
				d->addr = q->tx_free[--q->n_tx_free] + q->meta_len;
				d->len = (uint32_t)len;
				d->options = 0;
			}
			q->tx_pending += n;
			store_rel(q->tx.producer, prod + n);
			q->st.tx_frames += n;
			q->st.tx_bytes += n * len;
			tx_kick(q);
		}
		/* Frames still queued are not counted as sent. */
		for (i = 0; i < 1000 && q->tx_pending != 0; i++) {
			tx_kick(q);
			comp_reap(q);
		}
		count = q->st.tx_frames - base_done - q->tx_pending;
		return ((int64_t)count);
	}
	while (now_ns() < end) {
		uint32_t n = ring_ready(&q->rx), cons = *q->rx.consumer;
		if (n == 0) {
			struct pollfd pfd = { q->fd, POLLIN, 0 };
			(void)poll(&pfd, 1, 1);
			continue;
		}
		for (i = 0; i < n; i++)
			q->rx_free[q->n_rx_free++] =
			    frame_base(q, ring_desc(&q->rx, cons + i)->addr);
		store_rel(q->rx.consumer, cons + n);
		fill_refill(q);
		if (load_acq(q->fill.flags) & XDP_RING_NEED_WAKEUP)
			(void)recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		count += n;
		q->st.rx_frames += n;
	}
	return ((int64_t)count);
}
