/*
 * pipe.c - the in-memory pipe driver: two Ethernet endpoints, A and B,
 * joined by two one-way links (A_TO_B, B_TO_A), each with a seeded fault
 * injector built in (the fault driver's engine, drivers/fault/fault.h).
 *
 * Design.
 *
 *  - Each direction is a single-producer single-consumer ring of ring_size
 *    (a power of two) slots preallocated at create time.  A slot holds
 *    {deliver_at, seq, len, flags, bytes[mtu + 14 + 4]}: a whole frame, with
 *    room for one VLAN tag.  The producer (the sending end's tx_burst)
 *    publishes with a release store of the head index, the consumer (the
 *    receiving end's rx_burst) frees slots with a release store of the tail
 *    index, each reads the other's index with acquire.  No lock and no
 *    allocation per packet: two stacks in one thread, or one stack per
 *    thread on two threads, both work.
 *
 *  - tx_burst (sending side) runs the direction's fault injector for each
 *    offered mbuf, copies the survivors into the ring (twice for a
 *    duplicate, one bit flipped for a corruption) stamped with the time
 *    they are due, and frees every offered mbuf: a lost or dropped frame is
 *    still "taken" by the link, so tx_burst always returns n.  The fault
 *    PRNG is the direction's own, seeded with fault.seed, so a seed replays
 *    the same decisions whatever the receiver does (fault.h).
 *
 *  - rx_burst (receiving side) drains every ring entry at once into a
 *    receiver-private min-heap ordered by (deliver_at, seq), turning each
 *    into an mbuf of the receiving stack right away (ust_mbuf_from_buf; no
 *    mbuf: dropped_nombuf), so the ring never backs up behind a delayed
 *    frame.  It then pops the frames due by now (the pipe's clock, which is
 *    the stacks' clock) up to max.  next_deadline is the earliest of the
 *    heap top and the entries still in the ring; detach frees the heap.
 *    While the heap is empty, frames not held back for reordering go
 *    straight from the ring to the stack when due, and wait in the ring
 *    until then (pipe_rx_direct): the link is FIFO, so they are the
 *    heap's minimum anyway, and a link without reordering costs no heap
 *    work per frame.
 *
 *  - Frames in flight (in the ring or in the heap) are counted in one
 *    atomic per direction: the sender adds before it publishes, the
 *    receiver subtracts once a frame is delivered or dropped.  The fault
 *    injector's queue limit is checked against it and capped at ring_size,
 *    so neither the ring nor the heap (capacity ring_size) can overflow.
 *
 *  - Statistics: per-direction counters, each with a single writer (the
 *    sending side writes the tx counters, the receiving side the rx ones),
 *    kept as relaxed atomics.  ust_pipe_get_stats() may run on any thread:
 *    each counter it returns is exact, but the set is not one snapshot
 *    unless both ends are quiescent.
 *
 *  - Checksum offload: with UST_IFCAP_RXCSUM in caps, a frame that was
 *    sent with checksum requests (UST_CSUM_IP/TCP/UDP/TSO, or the IPv6
 *    UST_CSUM_IP6_TCP/UDP/TSO with UST_IFCAP_TXCSUM_IPV6: the sending
 *    "NIC" fills them, so they are right by construction; the pipe leaves
 *    the fields as they are) arrives marked L3/L4 valid unless the pipe
 *    corrupted it.  A frame that arrives with its checksums already filled
 *    is not marked: the pipe did not compute them and does not verify them,
 *    and something between the stack and the pipe (a wrapping fault
 *    driver) may have damaged it, so the receiver's software check, like
 *    a verifying NIC, sees the damage.
 *
 *  - Large segments: with UST_IFCAP_TSO4 (which needs TXCSUM, RXCSUM and
 *    LRO too) the pipe plays two NICs with TSO and LRO joined by a wire: a
 *    UST_CSUM_TSO frame (up to 65535 bytes of IP datagram) crosses whole,
 *    and the receiver gets it as one LRO frame with its checksums marked
 *    valid (the segments a NIC would cut and the peer's LRO would
 *    coalesce again).  Its checksum fields are left as the sender's
 *    offload request made them, so a corrupted one still fails the
 *    receiver's software check.  The fault injector's MTU check applies to
 *    the segments the frame stands for (headers + tso_segsz), the rate
 *    limit to all its bytes.  Slots are then 64 KiB: mind ring_size.  Any
 *    other frame over the MTU is dropped (dropped_mtu).  UST_IFCAP_TSO6
 *    (with TXCSUM_IPV6, RXCSUM and LRO) does the same for TCP/IPv6
 *    (UST_CSUM_IP6_TSO): the IPv6 packet, header included, up to 65535.
 *
 * Call order: ust_stack_poll(A) -> if flush -> pipe_tx_burst(A end) ->
 * fault_decide() -> ring A_TO_B;  ust_stack_poll(B) -> pipe_rx_burst(B end)
 * -> heap -> if_input().
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_pipe.h>

#include "../fault/fault.h"

#define PIPE_ETHER_HDR 14u
#define PIPE_VLAN_ENCAP 4u
#define PIPE_CACHE_LINE 64
#define PIPE_RING_MAX (1u << 24)
#define PIPE_TSO_MAX 65535u /* IP datagram of a TSO frame (if_hw_tsomax) */
#define PIPE_TSO_CAPS (UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM)
#define PIPE_TSO6_CAPS (UST_IFCAP_TSO6 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM_IPV6 | UST_IFCAP_RXCSUM)
#define PIPE_CSUM_REQ                                                                  \
	(UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_TSO | UST_CSUM_IP6_TCP | \
	    UST_CSUM_IP6_UDP | UST_CSUM_IP6_TSO)

#define PS_CORRUPTED 0x0001u
#define PS_REORDERED 0x0002u /* held back: later frames may be due before it */
#define PS_OFFLOADED 0x0004u /* sent with checksum requests: right by construction */

/* A ring slot; p_slot_bytes of frame follow the header. */
struct pipe_slot {
	uint64_t ps_deliver_at;
	uint64_t ps_seq;
	uint32_t ps_len;
	uint32_t ps_flags; /* PS_* */
	uint8_t ps_bytes[];
};

/*
 * One direction.  The three groups are written by different threads and
 * are kept on separate cache lines by padding (not _Alignas: the struct
 * comes from ust_osal_mem_alloc, which promises ordinary alignment only).
 */
struct pipe_dir {
	/* Sending side. */
	_Atomic uint32_t pd_head; /* next slot to fill */
	uint64_t pd_seq;
	struct fault pd_fault;
	_Atomic uint64_t pd_sent;
	_Atomic uint64_t pd_sent_bytes;
	_Atomic uint64_t pd_lost;
	_Atomic uint64_t pd_duplicated;
	_Atomic uint64_t pd_reordered;
	_Atomic uint64_t pd_corrupted;
	_Atomic uint64_t pd_ce_marked;
	_Atomic uint64_t pd_dropped_mtu;
	_Atomic uint64_t pd_dropped_queue;
	char pd_pad0[PIPE_CACHE_LINE];

	/* Receiving side. */
	_Atomic uint32_t pd_tail; /* next slot to drain */
	uint32_t pd_heap_n;
	struct fault_hent *pd_heap; /* ring_size entries */
	_Atomic uint64_t pd_delivered;
	_Atomic uint64_t pd_delivered_bytes;
	_Atomic uint64_t pd_dropped_nombuf;
	char pd_pad1[PIPE_CACHE_LINE];

	/* Both sides. */
	_Atomic uint32_t pd_inflight;
	char pd_pad2[PIPE_CACHE_LINE];

	uint8_t *pd_slots; /* ring_size * p_stride bytes */
};

struct pipe_end {
	struct ust_pipe *pe_pipe;
	int pe_side; /* enum ust_pipe_side */
};

struct ust_pipe {
	struct pipe_dir p_dir[2]; /* enum ust_pipe_dir */
	struct pipe_end p_end[2]; /* enum ust_pipe_side */
	struct ust_clock p_clock;
	uint32_t p_mtu;
	uint32_t p_caps;
	uint32_t p_ring_size;
	uint32_t p_mask;
	uint32_t p_frame_max; /* mtu + Ethernet header + VLAN tag */
	uint32_t p_slot_max;  /* bytes a slot holds: p_frame_max, or a TSO frame */
	size_t p_stride;      /* bytes per slot */
	uint8_t p_mac[2][6];
};

/* A tx counter or an rx counter: one writer each, so no RMW is needed. */
static inline void
pipe_stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
	    memory_order_relaxed);
}

static inline uint64_t
pipe_stat_get(const _Atomic uint64_t *c)
{
	/* C11 atomic_load takes a non-const pointer in some libcs. */
	return (atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)c, memory_order_relaxed));
}

static inline struct pipe_slot *
pipe_slot(const struct ust_pipe *p, const struct pipe_dir *d, uint32_t idx)
{
	return (
	    (struct pipe_slot *)(void *)(d->pd_slots + (size_t)(idx & p->p_mask) * p->p_stride));
}

static inline uint64_t
pipe_now(const struct ust_pipe *p)
{
	return (p->p_clock.now_ns(p->p_clock.ctx));
}

/* The direction an end sends on and the one it receives from. */
static inline struct pipe_dir *
pipe_txdir(struct pipe_end *pe)
{
	return (&pe->pe_pipe->p_dir[pe->pe_side == UST_PIPE_A ? UST_PIPE_A_TO_B : UST_PIPE_B_TO_A]);
}

static inline struct pipe_dir *
pipe_rxdir(struct pipe_end *pe)
{
	return (&pe->pe_pipe->p_dir[pe->pe_side == UST_PIPE_A ? UST_PIPE_B_TO_A : UST_PIPE_A_TO_B]);
}

/* ------------------------------------------------------------------------
 * Driver operations.
 */

/* Sends one frame through the fault injector into the ring.  Does not
 * consume m. */
static void
pipe_send_one(struct ust_pipe *p, struct pipe_dir *d, struct ust_mbuf *m, uint64_t now)
{
	struct fault_verdict v;
	struct pipe_slot *s, *s2;
	uint32_t head, tail;
	size_t len;
	int tso;

	len = ust_mbuf_pktlen(m);
	pipe_stat_add(&d->pd_sent, 1);
	pipe_stat_add(&d->pd_sent_bytes, len);
	tso = ((p->p_caps & UST_IFCAP_TSO4) && (ust_mbuf_csum_flags(m) & UST_CSUM_TSO)) ||
	    ((p->p_caps & UST_IFCAP_TSO6) && (ust_mbuf_csum_flags(m) & UST_CSUM_IP6_TSO));
	if (len > (tso ? p->p_slot_max : p->p_frame_max)) {
		pipe_stat_add(&d->pd_dropped_mtu, 1);
		return;
	}
	fault_decide(&d->pd_fault, now, len, fault_payload_len(m, len, tso),
	    atomic_load_explicit(&d->pd_inflight, memory_order_acquire), &v);
	switch (v.fv_action) {
	case FAULT_DROP_MTU:
		pipe_stat_add(&d->pd_dropped_mtu, 1);
		return;
	case FAULT_LOST:
		pipe_stat_add(&d->pd_lost, 1);
		return;
	case FAULT_DROP_QUEUE:
		pipe_stat_add(&d->pd_dropped_queue, 1);
		return;
	case FAULT_DELIVER:
		break;
	}

	head = atomic_load_explicit(&d->pd_head, memory_order_relaxed);
	tail = atomic_load_explicit(&d->pd_tail, memory_order_acquire);
	/* The in-flight bound makes this impossible; keep the ring safe anyway. */
	if (p->p_ring_size - (head - tail) < (uint32_t)v.fv_copies) {
		if (head - tail >= p->p_ring_size) {
			pipe_stat_add(&d->pd_dropped_queue, 1);
			return;
		}
		v.fv_copies = 1;
	}

	s = pipe_slot(p, d, head);
	if (ust_mbuf_copydata(m, 0, len, s->ps_bytes) != 0) {
		/* A packet shorter than its header says: the sender's bug. */
		pipe_stat_add(&d->pd_dropped_mtu, 1);
		return;
	}
	s->ps_deliver_at = v.fv_deliver_at;
	s->ps_seq = d->pd_seq++;
	s->ps_len = (uint32_t)len;
	s->ps_flags = 0;
	if (ust_mbuf_csum_flags(m) & PIPE_CSUM_REQ)
		s->ps_flags |= PS_OFFLOADED;
	if (fault_ce_mark(&v, s->ps_bytes, len))
		pipe_stat_add(&d->pd_ce_marked, 1);
	if (v.fv_corrupt) {
		fault_corrupt(&v, s->ps_bytes, len);
		s->ps_flags |= PS_CORRUPTED;
		pipe_stat_add(&d->pd_corrupted, 1);
	}
	if (v.fv_copies == 2) {
		s2 = pipe_slot(p, d, head + 1);
		memcpy(s2, s, sizeof(*s) + len);
		s2->ps_seq = d->pd_seq++;
		pipe_stat_add(&d->pd_duplicated, 1);
	}
	if (v.fv_reordered) {
		s->ps_flags |= PS_REORDERED;
		pipe_stat_add(&d->pd_reordered, 1);
	}
	/* Counted in flight before it can be seen, so never below zero. */
	atomic_fetch_add_explicit(&d->pd_inflight, (uint32_t)v.fv_copies, memory_order_relaxed);
	atomic_store_explicit(&d->pd_head, head + (uint32_t)v.fv_copies, memory_order_release);
}

static int
pipe_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_txdir(pe);
	uint64_t now;
	int i;

	if (n <= 0)
		return (0);
	now = pipe_now(p);
	for (i = 0; i < n; i++) {
		pipe_send_one(p, d, pkts[i], now);
		ust_mbuf_free(pkts[i]);
	}
	return (n);
}

/* A slot's frame as an mbuf of ifp's stack (NULL: no mbuf). */
static struct ust_mbuf *
pipe_slot_mbuf(const struct ust_pipe *p, const struct pipe_slot *s, struct ust_if *ifp)
{
	struct ust_mbuf *m = ust_mbuf_from_buf(ifp, s->ps_bytes, s->ps_len);

	if (m != NULL && (p->p_caps & UST_IFCAP_RXCSUM) &&
	    (s->ps_flags & (PS_OFFLOADED | PS_CORRUPTED)) == PS_OFFLOADED)
		ust_mbuf_set_csum_flags(m, UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
	return (m);
}

/* Hands back the slots up to tail; frames that found no mbuf leave the
 * in-flight count here, delivered ones in pipe_rx_burst. */
static void
pipe_release(struct pipe_dir *d, uint32_t tail, uint32_t nombuf)
{
	atomic_store_explicit(&d->pd_tail, tail, memory_order_release);
	if (nombuf != 0) {
		pipe_stat_add(&d->pd_dropped_nombuf, nombuf);
		atomic_fetch_sub_explicit(&d->pd_inflight, nombuf, memory_order_release);
	}
}

/* Moves every ring entry into the heap as an mbuf of ifp's stack. */
static void
pipe_drain(struct ust_pipe *p, struct pipe_dir *d, struct ust_if *ifp)
{
	const struct pipe_slot *s;
	struct fault_hent e;
	uint32_t head, tail, nombuf = 0;

	tail = atomic_load_explicit(&d->pd_tail, memory_order_relaxed);
	head = atomic_load_explicit(&d->pd_head, memory_order_acquire);
	while (tail != head && d->pd_heap_n < p->p_ring_size) {
		s = pipe_slot(p, d, tail);
		e.he_m = pipe_slot_mbuf(p, s, ifp);
		if (e.he_m == NULL) {
			nombuf++;
		} else {
			e.he_deliver_at = s->ps_deliver_at;
			e.he_seq = s->ps_seq;
			e.he_len = s->ps_len;
			fault_heap_push(d->pd_heap, &d->pd_heap_n, &e);
		}
		tail++;
	}
	/* The slots are copied out: hand them back. */
	pipe_release(d, tail, nombuf);
}

/*
 * The common case without a heap: while the heap is empty, a frame at the
 * ring's tail that was not held back for reordering is the earliest of
 * all in flight (the link is FIFO, and a reordered frame behind it is due
 * later still), so when due it goes straight up, in ring order, as the
 * heap would have popped it.  Stops at max, at a frame not yet due
 * (nothing behind it is due either: *keep, the ring holds them in order
 * and in-flight counts them the same), or at a reordered frame (*keep
 * 0: the caller moves the rest into the heap).
 */
static int
pipe_rx_direct(struct ust_pipe *p, struct pipe_dir *d, struct ust_if *ifp, uint64_t now,
    struct ust_mbuf **pkts, int max, uint64_t *bytes, int *keep)
{
	const struct pipe_slot *s;
	uint32_t head, tail, nombuf = 0;
	int n = 0;

	*keep = 1;
	tail = atomic_load_explicit(&d->pd_tail, memory_order_relaxed);
	head = atomic_load_explicit(&d->pd_head, memory_order_acquire);
	while (n < max && tail != head) {
		s = pipe_slot(p, d, tail);
		if (s->ps_flags & PS_REORDERED) {
			*keep = 0;
			break;
		}
		if (s->ps_deliver_at > now)
			break;
		if ((pkts[n] = pipe_slot_mbuf(p, s, ifp)) == NULL) {
			nombuf++;
		} else {
			*bytes += s->ps_len;
			n++;
		}
		tail++;
	}
	pipe_release(d, tail, nombuf);
	return (n);
}

static int
pipe_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_rxdir(pe);
	struct fault_hent e;
	uint64_t now, bytes = 0;
	int n = 0, keep = 0;

	/* Nothing in flight: no clock read (a busy poll comes here often). */
	if (d->pd_heap_n == 0 &&
	    atomic_load_explicit(&d->pd_tail, memory_order_relaxed) ==
	        atomic_load_explicit(&d->pd_head, memory_order_acquire))
		return (0);
	if (max <= 0) {
		pipe_drain(p, d, ifp);
		return (0);
	}
	now = pipe_now(p);
	if (d->pd_heap_n == 0)
		n = pipe_rx_direct(p, d, ifp, now, pkts, max, &bytes, &keep);
	if (!keep)
		pipe_drain(p, d, ifp);
	while (n < max && d->pd_heap_n > 0 && d->pd_heap[0].he_deliver_at <= now) {
		fault_heap_pop(d->pd_heap, &d->pd_heap_n, &e);
		pkts[n++] = e.he_m;
		bytes += e.he_len;
	}
	if (n > 0) {
		pipe_stat_add(&d->pd_delivered, (uint64_t)n);
		pipe_stat_add(&d->pd_delivered_bytes, bytes);
		atomic_fetch_sub_explicit(&d->pd_inflight, (uint32_t)n, memory_order_release);
	}
	return (n);
}

static uint64_t
pipe_next_deadline(void *softc)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_rxdir(pe);
	uint64_t t = UINT64_MAX;
	uint32_t head, tail;

	if (d->pd_heap_n > 0)
		t = d->pd_heap[0].he_deliver_at;
	tail = atomic_load_explicit(&d->pd_tail, memory_order_relaxed);
	head = atomic_load_explicit(&d->pd_head, memory_order_acquire);
	/* With the heap empty, an in-order frame at the tail is the earliest
	 * (pipe_rx_direct), however many wait behind it. */
	if (d->pd_heap_n == 0 && tail != head && !(pipe_slot(p, d, tail)->ps_flags & PS_REORDERED))
		return (pipe_slot(p, d, tail)->ps_deliver_at);
	/* Otherwise the entries not drained yet: a reordered one may precede
	 * a later one, so look at them all (the ring is drained at every
	 * poll while the heap holds frames, so this is short). */
	for (; tail != head; tail++) {
		const struct pipe_slot *s = pipe_slot(p, d, tail);

		if (s->ps_deliver_at < t)
			t = s->ps_deliver_at;
	}
	return (t);
}

static void
pipe_detach(void *softc)
{
	struct pipe_end *pe = softc;
	struct pipe_dir *d = pipe_rxdir(pe);
	uint32_t n = d->pd_heap_n;
	struct fault_hent e;

	/* The mbufs belong to the stack that is letting go of this end. */
	while (d->pd_heap_n > 0) {
		fault_heap_pop(d->pd_heap, &d->pd_heap_n, &e);
		ust_mbuf_free(e.he_m);
	}
	if (n != 0)
		atomic_fetch_sub_explicit(&d->pd_inflight, n, memory_order_release);
}

static void
pipe_get_mac(void *softc, uint8_t mac[6])
{
	struct pipe_end *pe = softc;

	memcpy(mac, pe->pe_pipe->p_mac[pe->pe_side], 6);
}

static uint32_t
pipe_get_mtu(void *softc)
{
	struct pipe_end *pe = softc;

	return (pe->pe_pipe->p_mtu);
}

static uint32_t
pipe_get_caps(void *softc)
{
	struct pipe_end *pe = softc;

	return (pe->pe_pipe->p_caps);
}

static int
pipe_get_fd(void *softc)
{
	(void)softc;
	return (-1);
}

static const struct ust_driver_ops pipe_ops = {
	.name = "pipe",
	.rx_burst = pipe_rx_burst,
	.tx_burst = pipe_tx_burst,
	.get_mac = pipe_get_mac,
	.get_mtu = pipe_get_mtu,
	.get_caps = pipe_get_caps,
	.get_fd = pipe_get_fd,
	.next_deadline = pipe_next_deadline,
	.detach = pipe_detach,
};

/* ------------------------------------------------------------------------
 * Public API.
 */

void
ust_pipe_config_init(struct ust_pipe_config *cfg)
{
	static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->ring_size = 1024;
	memcpy(cfg->mac[UST_PIPE_A], mac_a, 6);
	memcpy(cfg->mac[UST_PIPE_B], mac_b, 6);
	cfg->caps = 0;
	cfg->clock = ust_clock_monotonic();
}

static void
pipe_free(struct ust_pipe *p)
{
	size_t ring_bytes = (size_t)p->p_ring_size * p->p_stride;
	size_t heap_bytes = (size_t)p->p_ring_size * sizeof(struct fault_hent);
	int i;

	for (i = 0; i < 2; i++) {
		if (p->p_dir[i].pd_slots != NULL)
			ust_osal_mem_free(p->p_dir[i].pd_slots, ring_bytes);
		if (p->p_dir[i].pd_heap != NULL)
			ust_osal_mem_free(p->p_dir[i].pd_heap, heap_bytes);
	}
	ust_osal_mem_free(p, sizeof(*p));
}

int
ust_pipe_create(const struct ust_pipe_config *cfg, struct ust_pipe **out)
{
	struct ust_pipe *p;
	size_t ring_bytes, heap_bytes;
	int i;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (cfg == NULL || cfg->mtu == 0 || cfg->mtu > 65535 || cfg->ring_size < 2 ||
	    cfg->ring_size > PIPE_RING_MAX || (cfg->ring_size & (cfg->ring_size - 1)) != 0)
		return (-UST_EINVAL);
	/* Large segments cross whole: the sender's TSO frame is the
	 * receiver's LRO frame, with checksums vouched for, so the four
	 * capabilities go together (IPv4's four, IPv6's four: LRO with
	 * either). */
	if (((cfg->caps & UST_IFCAP_TSO4) && (cfg->caps & PIPE_TSO_CAPS) != PIPE_TSO_CAPS) ||
	    ((cfg->caps & UST_IFCAP_TSO6) && (cfg->caps & PIPE_TSO6_CAPS) != PIPE_TSO6_CAPS) ||
	    ((cfg->caps & UST_IFCAP_LRO) && !(cfg->caps & (UST_IFCAP_TSO4 | UST_IFCAP_TSO6))))
		return (-UST_EINVAL);

	p = ust_osal_mem_alloc(sizeof(*p));
	if (p == NULL)
		return (-UST_ENOMEM);
	memset(p, 0, sizeof(*p));
	p->p_clock = cfg->clock.now_ns != NULL ? cfg->clock : ust_clock_monotonic();
	p->p_mtu = cfg->mtu;
	p->p_caps = cfg->caps;
	p->p_ring_size = cfg->ring_size;
	p->p_mask = cfg->ring_size - 1;
	p->p_frame_max = cfg->mtu + PIPE_ETHER_HDR + PIPE_VLAN_ENCAP;
	p->p_slot_max = p->p_frame_max;
	if ((cfg->caps & (UST_IFCAP_TSO4 | UST_IFCAP_TSO6)) &&
	    p->p_slot_max < PIPE_TSO_MAX + PIPE_ETHER_HDR)
		p->p_slot_max = PIPE_TSO_MAX + PIPE_ETHER_HDR;
	/* Slots 8-byte aligned for their 64-bit header fields. */
	p->p_stride = (sizeof(struct pipe_slot) + p->p_slot_max + 7u) & ~(size_t)7u;
	memcpy(p->p_mac, cfg->mac, sizeof(p->p_mac));
	/* A 32-bit size_t cannot hold every legal ring (2^24 slots of a
	 * 64 KiB MTU): refuse rather than allocate a wrapped, short ring. */
	if (p->p_stride > SIZE_MAX / p->p_ring_size ||
	    sizeof(struct fault_hent) > SIZE_MAX / p->p_ring_size) {
		ust_osal_mem_free(p, sizeof(*p));
		return (-UST_ENOMEM);
	}
	ring_bytes = (size_t)p->p_ring_size * p->p_stride;
	heap_bytes = (size_t)p->p_ring_size * sizeof(struct fault_hent);

	for (i = 0; i < 2; i++) {
		struct pipe_dir *d = &p->p_dir[i];

		atomic_init(&d->pd_head, 0);
		atomic_init(&d->pd_tail, 0);
		atomic_init(&d->pd_inflight, 0);
		atomic_init(&d->pd_sent, 0);
		atomic_init(&d->pd_sent_bytes, 0);
		atomic_init(&d->pd_lost, 0);
		atomic_init(&d->pd_duplicated, 0);
		atomic_init(&d->pd_reordered, 0);
		atomic_init(&d->pd_corrupted, 0);
		atomic_init(&d->pd_ce_marked, 0);
		atomic_init(&d->pd_dropped_mtu, 0);
		atomic_init(&d->pd_dropped_queue, 0);
		atomic_init(&d->pd_delivered, 0);
		atomic_init(&d->pd_delivered_bytes, 0);
		atomic_init(&d->pd_dropped_nombuf, 0);
		d->pd_slots = ust_osal_mem_alloc(ring_bytes);
		d->pd_heap = ust_osal_mem_alloc(heap_bytes);
		if (d->pd_slots == NULL || d->pd_heap == NULL) {
			pipe_free(p);
			return (-UST_ENOMEM);
		}
		fault_init(&d->pd_fault, &cfg->fault[i], cfg->mtu, cfg->ring_size);
	}
	for (i = 0; i < 2; i++) {
		p->p_end[i].pe_pipe = p;
		p->p_end[i].pe_side = i;
	}
	*out = p;
	return (0);
}

void
ust_pipe_destroy(struct ust_pipe *p)
{
	if (p == NULL)
		return;
	/* Both ends are detached (their heaps freed by pipe_detach); frames
	 * left in the rings are plain bytes. */
	pipe_free(p);
}

const struct ust_driver_ops *
ust_pipe_ops(void)
{
	return (&pipe_ops);
}

void *
ust_pipe_end(struct ust_pipe *p, int side)
{
	if (p == NULL || (side != UST_PIPE_A && side != UST_PIPE_B))
		return (NULL);
	return (&p->p_end[side]);
}

int
ust_pipe_set_faults(struct ust_pipe *p, int dir, const struct ust_fault_config *fc)
{
	if (p == NULL || fc == NULL || (dir != UST_PIPE_A_TO_B && dir != UST_PIPE_B_TO_A))
		return (-UST_EINVAL);
	fault_reconfigure(&p->p_dir[dir].pd_fault, fc);
	return (0);
}

void
ust_pipe_get_stats(const struct ust_pipe *p, int dir, struct ust_pipe_stats *out)
{
	const struct pipe_dir *d;

	memset(out, 0, sizeof(*out));
	if (p == NULL || (dir != UST_PIPE_A_TO_B && dir != UST_PIPE_B_TO_A))
		return;
	d = &p->p_dir[dir];
	out->sent = pipe_stat_get(&d->pd_sent);
	out->sent_bytes = pipe_stat_get(&d->pd_sent_bytes);
	out->delivered = pipe_stat_get(&d->pd_delivered);
	out->delivered_bytes = pipe_stat_get(&d->pd_delivered_bytes);
	out->lost = pipe_stat_get(&d->pd_lost);
	out->duplicated = pipe_stat_get(&d->pd_duplicated);
	out->reordered = pipe_stat_get(&d->pd_reordered);
	out->corrupted = pipe_stat_get(&d->pd_corrupted);
	out->ce_marked = pipe_stat_get(&d->pd_ce_marked);
	out->dropped_mtu = pipe_stat_get(&d->pd_dropped_mtu);
	out->dropped_queue = pipe_stat_get(&d->pd_dropped_queue);
	out->dropped_nombuf = pipe_stat_get(&d->pd_dropped_nombuf);
}
