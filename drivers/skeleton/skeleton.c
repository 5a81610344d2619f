/*
 * skeleton.c - the skeleton driver: two Ethernet ends joined by rings in
 * memory, written as the template for a new driver (ustack_skeleton.h says
 * what it does; drivers/README.md how a driver fits in).
 *
 * To write a driver for real hardware, copy this folder and keep the
 * shape: the "TEMPLATE:" comments say what a NIC driver puts in each place.
 *
 * Design.
 *
 *  - Direction i carries frames to end i and owns end i's receive pool:
 *    nbufs buffers of mtu + 18 bytes (the NIC's DMA buffers), a stack of
 *    free buffer indices (what the sender may fill: a NIC's refilled rx
 *    descriptors) and a FIFO ring of filled ones (a NIC's completed rx
 *    descriptors).  A buffer is free, in the ring, or lent to the stack.
 *
 *  - tx_burst (sending end) takes a free buffer of the peer's pool per
 *    frame and gathers the frame's mbuf chain into it (the memcpy stands
 *    for the DMA engine reading a scatter-gather list); with no free
 *    buffer it stops and returns how many it took, and the stack keeps
 *    the rest.  Offloads it advertises are done here in software first.
 *
 *  - rx_burst (receiving end) pops filled buffers and lends each to the
 *    stack (ust_mbuf_attach_ext) while the pool has at least
 *    lend_min_free free buffers, else copies it (ust_mbuf_from_buf) and
 *    frees the buffer at once.  A lent buffer comes back through
 *    sk_buf_free(), called by the stack exactly once when its last
 *    reference goes; it may be after detach, so the memory stays until
 *    every lent buffer is back (ust_skeleton_destroy).
 *
 * Call order: ust_stack_poll(A) -> if_flush -> sk_tx_burst(end A) ->
 * [csum_fill / tso_segment] -> ust_mbuf_sglist -> ring to B;
 * ust_stack_poll(B) -> sk_rx_burst(end B) -> ust_mbuf_attach_ext ->
 * stack ... -> sk_buf_free -> free list of B's pool.
 */
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_skeleton.h>

#define SK_FRAME_EXTRA 18u /* Ethernet header and one VLAN tag over the MTU */
#define SK_SGMAX 16        /* gather entries a "descriptor" takes */
#define SK_SEGS_MAX 64     /* TSO segments cut in software per frame */
#define SK_NBUFS_MAX (1u << 20)
#define SK_CAPS (UST_IFCAP_TXCSUM | UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_TSO6)
#define SK_TSO (UST_CSUM_TSO | UST_CSUM_IP6_TSO)
#define SK_CSUM (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_IP6_TCP | UST_CSUM_IP6_UDP)

struct ust_skeleton;

/* One buffer's identity, the free callback's argument. */
struct sk_slot {
	struct ust_skeleton *s_sk;
	uint32_t s_dir;
	uint32_t s_idx;
};

/* Frames to end i, in end i's receive pool. */
struct sk_dir {
	uint8_t *d_mem;         /* nbufs * bufsize: the buffers */
	struct sk_slot *d_slot; /* per buffer */
	uint32_t *d_len;        /* frame length per buffer */
	uint32_t *d_free;       /* stack of free buffer indices */
	uint32_t d_nfree;
	uint32_t *d_ring; /* FIFO of filled buffer indices */
	uint32_t d_head;  /* next to fill */
	uint32_t d_tail;  /* next to drain */
	uint32_t d_lent;
};

struct sk_end {
	struct ust_skeleton *e_sk;
	int e_side;
	struct ust_skeleton_stats e_stats;
};

struct ust_skeleton {
	struct sk_dir sk_dir[2];
	struct sk_end sk_end[2];
	struct ust_skeleton_config sk_cfg;
	uint32_t sk_bufsize;
	int sk_dying; /* destroyed while buffers were lent */
};

static uint8_t *
sk_buf(const struct ust_skeleton *sk, const struct sk_dir *d, uint32_t idx)
{
	return (d->d_mem + (size_t)idx * sk->sk_bufsize);
}

static void sk_free_all(struct ust_skeleton *sk);

/* ------------------------------------------------------------------------
 * Receive.
 */

/*
 * The free routine of a lent buffer (ust_mbuf_ext_free_fn): the stack let
 * go of its last reference.  TEMPLATE: a NIC driver puts the buffer back
 * on its rx descriptor ring here (or on a list it refills from in
 * rx_burst), DPDK's returns it to the mempool.
 */
static void
sk_buf_free(void *arg, void *buf)
{
	struct sk_slot *s = arg;
	struct ust_skeleton *sk = s->s_sk;
	struct sk_dir *d = &sk->sk_dir[s->s_dir];

	(void)buf;
	d->d_free[d->d_nfree++] = s->s_idx;
	d->d_lent--;
	sk->sk_end[s->s_dir].e_stats.lent_now--;
	if (sk->sk_dying && sk->sk_dir[0].d_lent == 0 && sk->sk_dir[1].d_lent == 0)
		sk_free_all(sk);
}

static int
sk_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct sk_end *e = softc;
	struct ust_skeleton *sk = e->e_sk;
	struct sk_dir *d = &sk->sk_dir[e->e_side];
	struct ust_mbuf *m;
	uint32_t idx, len;
	int got = 0;

	/* TEMPLATE: reap transmit completions here too (free the mbufs whose
	 * DMA is done): rx_burst runs at every poll. */
	while (got < max && d->d_tail != d->d_head) {
		idx = d->d_ring[d->d_tail % sk->sk_cfg.nbufs];
		len = d->d_len[idx];
		d->d_tail++;
		if (sk->sk_cfg.lend && d->d_nfree >= sk->sk_cfg.lend_min_free) {
			/* Zero copy: the stack reads the frame where it is. */
			m = ust_mbuf_attach_ext(ifp, sk_buf(sk, d, idx), sk->sk_bufsize, 0, len,
			    sk_buf_free, &d->d_slot[idx]);
			if (m != NULL) {
				d->d_lent++;
				e->e_stats.lent_now++;
				e->e_stats.rx_lent++;
			} else
				d->d_free[d->d_nfree++] = idx; /* not lent: still ours */
		} else {
			/* The pool runs low (the stack holds many buffers in
			 * socket buffers): copy, and the buffer is free again. */
			m = ust_mbuf_from_buf(ifp, sk_buf(sk, d, idx), len);
			d->d_free[d->d_nfree++] = idx;
		}
		if (m == NULL) {
			/* Counted by the stack as iqdrops as well. */
			e->e_stats.rx_nombuf++;
			continue;
		}
		/* TEMPLATE: a NIC that verified checksums marks the frame
		 * UST_CSUM_L3_VALID | UST_CSUM_L4_VALID here (UST_IFCAP_RXCSUM). */
		pkts[got++] = m;
	}
	e->e_stats.rx_frames += (uint64_t)got;
	return (got);
}

/* ------------------------------------------------------------------------
 * Transmit.
 */

/*
 * Puts one complete frame into a free buffer of d (the caller checked
 * there is one).  Frees m.  TEMPLATE: a NIC driver fills one descriptor
 * per iovec and keeps m until the hardware says the DMA is done.
 */
static void
sk_put(struct ust_skeleton *sk, struct sk_end *e, struct sk_dir *d, struct ust_mbuf *m)
{
	struct ust_iovec v[SK_SGMAX];
	size_t len = ust_mbuf_pktlen(m), off = 0;
	uint32_t idx;
	uint8_t *b;
	int n, i;

	if (len > sk->sk_bufsize) {
		e->e_stats.tx_errors++;
		ust_mbuf_free(m);
		return;
	}
	idx = d->d_free[--d->d_nfree];
	b = sk_buf(sk, d, idx);
	n = ust_mbuf_sglist(m, v, SK_SGMAX);
	if (n <= SK_SGMAX) {
		for (i = 0; i < n; i++) {
			memcpy(b + off, v[i].iov_base, v[i].iov_len);
			off += v[i].iov_len;
		}
	} else {
		/* More pieces than descriptors: copy it whole. */
		(void)ust_mbuf_copydata(m, 0, len, b);
	}
	d->d_len[idx] = (uint32_t)len;
	d->d_ring[d->d_head % sk->sk_cfg.nbufs] = idx;
	d->d_head++;
	e->e_stats.tx_frames++;
	ust_mbuf_free(m);
}

/* Buffers a UST_CSUM_TSO frame needs once cut (at most). */
static uint32_t
sk_tso_need(const struct ust_mbuf *m)
{
	uint32_t segsz = ust_mbuf_tso_segsz(m);
	size_t len = ust_mbuf_pktlen(m);

	if (segsz == 0)
		return (1);
	return ((uint32_t)(len / segsz) + 1);
}

static int
sk_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct sk_end *e = softc;
	struct ust_skeleton *sk = e->e_sk;
	struct sk_dir *d = &sk->sk_dir[1 - e->e_side];
	struct ust_mbuf *segs[SK_SEGS_MAX];
	uint32_t fl;
	int i, j, ns;

	for (i = 0; i < n; i++) {
		struct ust_mbuf *m = pkts[i];

		fl = ust_mbuf_csum_flags(m);
		if ((fl & SK_TSO) ? d->d_nfree < sk_tso_need(m) : d->d_nfree == 0) {
			/* Ring full: the stack keeps this frame and the rest
			 * and offers them again at its next poll. */
			e->e_stats.tx_full++;
			break;
		}
		/* TEMPLATE: hardware offload goes into the descriptor; what
		 * the hardware cannot do is done in software. */
		if (fl & SK_TSO) {
			ns = ust_mbuf_tso_segment(m, segs, SK_SEGS_MAX);
			if (ns < 0) {
				e->e_stats.tx_errors++;
				ust_mbuf_free(m);
				continue;
			}
			for (j = 0; j < ns; j++)
				sk_put(sk, e, d, segs[j]);
			continue;
		}
		if ((fl & SK_CSUM) && ust_mbuf_csum_fill(m) != 0) {
			e->e_stats.tx_errors++;
			ust_mbuf_free(m);
			continue;
		}
		sk_put(sk, e, d, m);
	}
	return (i);
}

/* ------------------------------------------------------------------------
 * The rest of the ops.
 */

static void
sk_get_mac(void *softc, uint8_t mac[6])
{
	struct sk_end *e = softc;

	memcpy(mac, e->e_sk->sk_cfg.mac[e->e_side], 6);
}

static uint32_t
sk_get_mtu(void *softc)
{
	struct sk_end *e = softc;

	return (e->e_sk->sk_cfg.mtu);
}

static uint32_t
sk_get_caps(void *softc)
{
	struct sk_end *e = softc;

	return (e->e_sk->sk_cfg.caps);
}

/*
 * The interface is going away.  TEMPLATE: free every mbuf of this stack
 * the driver still holds: frames taken by tx_burst whose DMA has not
 * completed, frames received but not handed up.  The skeleton holds none
 * (it copies on transmit, and its ring holds bytes, not mbufs); buffers it
 * lent stay lent until the stack lets go of them.
 */
static void
sk_detach(void *softc)
{
	(void)softc;
}

static const struct ust_driver_ops skeleton_ops = {
	.name = "skeleton",
	.rx_burst = sk_rx_burst,
	.tx_burst = sk_tx_burst,
	.get_mac = sk_get_mac,
	.get_mtu = sk_get_mtu,
	.get_caps = sk_get_caps,
	/* get_fd: none (NULL: -1).  TEMPLATE: a descriptor that becomes
	 * readable with receive work (an eventfd, the device's fd). */
	/* next_deadline: none; frames are due when they are in the ring.
	 * TEMPLATE: a driver that holds frames back reports when. */
	.detach = sk_detach,
};

/* ------------------------------------------------------------------------
 * Public API.
 */

void
ust_skeleton_config_init(struct ust_skeleton_config *cfg)
{
	static const uint8_t mac0[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
	static const uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->nbufs = 256;
	cfg->lend = 1;
	cfg->lend_min_free = cfg->nbufs / 4;
	memcpy(cfg->mac[0], mac0, 6);
	memcpy(cfg->mac[1], mac1, 6);
}

static void
sk_free_all(struct ust_skeleton *sk)
{
	size_t nb = sk->sk_cfg.nbufs;
	int i;

	for (i = 0; i < 2; i++) {
		struct sk_dir *d = &sk->sk_dir[i];

		if (d->d_mem != NULL)
			ust_osal_mem_free(d->d_mem, nb * sk->sk_bufsize);
		if (d->d_slot != NULL)
			ust_osal_mem_free(d->d_slot, nb * sizeof(*d->d_slot));
		if (d->d_len != NULL)
			ust_osal_mem_free(d->d_len, nb * sizeof(*d->d_len));
		if (d->d_free != NULL)
			ust_osal_mem_free(d->d_free, nb * sizeof(*d->d_free));
		if (d->d_ring != NULL)
			ust_osal_mem_free(d->d_ring, nb * sizeof(*d->d_ring));
	}
	ust_osal_mem_free(sk, sizeof(*sk));
}

int
ust_skeleton_create(const struct ust_skeleton_config *cfg, struct ust_skeleton **out)
{
	struct ust_skeleton *sk;
	size_t nb;
	uint32_t j;
	int i;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (cfg == NULL || cfg->mtu < 68 || cfg->mtu > 9000 || cfg->nbufs == 0 ||
	    cfg->nbufs > SK_NBUFS_MAX || (cfg->caps & ~SK_CAPS) != 0 ||
	    ((cfg->caps & UST_IFCAP_TSO4) && !(cfg->caps & UST_IFCAP_TXCSUM)) ||
	    ((cfg->caps & UST_IFCAP_TSO6) && !(cfg->caps & UST_IFCAP_TXCSUM_IPV6)) ||
	    cfg->lend_min_free > cfg->nbufs)
		return (-UST_EINVAL);
	sk = ust_osal_mem_alloc(sizeof(*sk));
	if (sk == NULL)
		return (-UST_ENOMEM);
	memset(sk, 0, sizeof(*sk));
	sk->sk_cfg = *cfg;
	sk->sk_bufsize = cfg->mtu + SK_FRAME_EXTRA;
	nb = cfg->nbufs;
	for (i = 0; i < 2; i++) {
		struct sk_dir *d = &sk->sk_dir[i];

		d->d_mem = ust_osal_mem_alloc(nb * sk->sk_bufsize);
		d->d_slot = ust_osal_mem_alloc(nb * sizeof(*d->d_slot));
		d->d_len = ust_osal_mem_alloc(nb * sizeof(*d->d_len));
		d->d_free = ust_osal_mem_alloc(nb * sizeof(*d->d_free));
		d->d_ring = ust_osal_mem_alloc(nb * sizeof(*d->d_ring));
		if (d->d_mem == NULL || d->d_slot == NULL || d->d_len == NULL ||
		    d->d_free == NULL || d->d_ring == NULL) {
			sk_free_all(sk);
			return (-UST_ENOMEM);
		}
		for (j = 0; j < cfg->nbufs; j++) {
			d->d_slot[j].s_sk = sk;
			d->d_slot[j].s_dir = (uint32_t)i;
			d->d_slot[j].s_idx = j;
			d->d_free[j] = cfg->nbufs - 1 - j;
		}
		d->d_nfree = cfg->nbufs;
		sk->sk_end[i].e_sk = sk;
		sk->sk_end[i].e_side = i;
	}
	*out = sk;
	return (0);
}

void
ust_skeleton_destroy(struct ust_skeleton *sk)
{
	if (sk == NULL)
		return;
	/* Lent buffers may sit in a stack's socket buffers: the memory goes
	 * with the last of them (sk_buf_free). */
	if (sk->sk_dir[0].d_lent != 0 || sk->sk_dir[1].d_lent != 0) {
		sk->sk_dying = 1;
		return;
	}
	sk_free_all(sk);
}

const struct ust_driver_ops *
ust_skeleton_ops(void)
{
	return (&skeleton_ops);
}

void *
ust_skeleton_end(struct ust_skeleton *sk, int side)
{
	if (sk == NULL || (side != 0 && side != 1))
		return (NULL);
	return (&sk->sk_end[side]);
}

void
ust_skeleton_get_stats(const struct ust_skeleton *sk, int side, struct ust_skeleton_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (sk == NULL || (side != 0 && side != 1))
		return;
	*out = sk->sk_end[side].e_stats;
}
