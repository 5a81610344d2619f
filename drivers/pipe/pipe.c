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
 *  - Lanes (lanes = n > 1): each side has n lane ends, each polled by its
 *    own thread.  A direction then has n sending lanes (each its own
 *    struct pipe_tx: fault injector, seq, tx counters; one writer), n
 *    receiving lanes (each its own struct pipe_rx: heap of n * ring_size
 *    entries, rx counters; one writer) and n * n rings (struct
 *    pipe_ring: head, tail, in-flight count, slots), ring t * n + r
 *    carrying frames from sending lane t to receiving lane r.  Each ring
 *    has one producer (lane t's thread) and one consumer (lane r's
 *    thread), exactly as the one ring of a one-lane pipe, so everything
 *    above holds per ring; the in-flight count (and so the fault queue
 *    limit) is per ring.  The sender picks r before fault_decide: the
 *    Toeplitz hash of the frame's headers (ust_rss_hash_frame over at
 *    most PIPE_HASH_BYTES copied from the chain) and the steer mode, and
 *    stores hash and type in the slot, so the receiver marks the mbuf
 *    (ust_mbuf_set_rss) without hashing (a frame the pipe corrupted is
 *    not marked: its bytes may no longer give that hash).  A heap entry
 *    remembers its ring (he_tag) to give the in-flight count back.  A
 *    receiving lane polls its n rings round robin from a rotating first
 *    one.  lanes = 1 is one ring per direction and no hashing: the
 *    one-lane pipe exactly as before.
 *
 *  - Doorbells (notify, for threads that sleep: a group with threads polls
 *    a lane end only when its get_fd descriptor is readable or a deadline
 *    comes): each receiving lane has a descriptor (Linux eventfd, else a
 *    pipe(2)) and a flag px_rung.  The sender rings a lane when, after
 *    publishing a frame into one of its rings, it finds that the receiver
 *    had taken every earlier frame of that ring (tail == the old head, so
 *    the receiver may have found the ring empty and gone to sleep): a
 *    write to the descriptor, then px_rung = 1, once per lane per burst.
 *    The receiver, at the start of rx_burst, clears px_rung and drains
 *    the descriptor when the flag is set (write before flag and clear
 *    before read: the descriptor is never left readable with the flag
 *    clear).  No lost wake-up: the sender publishes head, then a seq_cst
 *    fence, then reads tail; the receiver stores tail (rx_burst), then a
 *    seq_cst fence (next_deadline, which a sleeping loop asks before it
 *    sleeps), then reads head; so either the sender sees the receiver
 *    caught up and rings, or next_deadline sees the frame and the loop
 *    does not sleep.  notify 0 (the default): no descriptor, no fence.
 *
 * Call order: ust_stack_poll(A) -> if flush -> pipe_tx_burst(A end) ->
 * fault_decide() -> ring A_TO_B;  ust_stack_poll(B) -> pipe_rx_burst(B end)
 * -> heap -> if_input().
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#define PIPE_HAVE_FD 1
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif
#else
#define PIPE_HAVE_FD 0
#endif

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_group.h>
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
/* Headers the RSS hash reads at most: Ethernet, a VLAN tag, IPv4 with
 * options (60) and the ports. */
#define PIPE_HASH_BYTES 128u
/* Mixes a sending lane's number into the direction's fault seed. */
#define PIPE_LANE_SEED_MUL 0x9e3779b97f4a7c15ull

_Static_assert(sizeof(((struct ust_pipe_config *)0)->rss_key) == UST_RSS_KEYLEN,
    "ust_pipe_config.rss_key is one Toeplitz key");

#define PS_CORRUPTED 0x0001u
#define PS_REORDERED 0x0002u /* held back: later frames may be due before it */
#define PS_OFFLOADED 0x0004u /* sent with checksum requests: right by construction */
#define PS_LENT 0x0008u      /* headers copied, payload lent (struct pipe_lend) */

/* Lending (see "Lending" above). */
#define PIPE_LEND_HDR_MAX 256u /* a first mbuf longer than this is copied */
#define PIPE_LEND_MIN 512u     /* default lend_min */
#define PIPE_LEND_MAX_DEF 65536u
#define PIPE_RET_DEAD UINT32_MAX /* pt_ret of a sending lane that detached */

/* States of a lent frame's record. */
#define PL_FREE 0
#define PL_LENT 1      /* in a ring: the receiver has not taken it */
#define PL_TAKEN 2     /* the receiver's mbufs refer to the payload */
#define PL_CANCELLED 3 /* the sender detached before the receiver took it */

/*
 * A lent frame: the sender's chain, kept until the receiver lets go of
 * its payload.  Written by the sending lane before the frame is published
 * (the ring's release store), then pl_cnt and pl_next belong to the
 * receiving thread until the record is pushed onto pt_ret (release), after
 * which the sender reaps it (acquire).  pl_state arbitrates between the
 * receiver taking the frame and the sender cancelling it at detach.
 */
struct pipe_lend {
	_Atomic uint32_t pl_state; /* PL_* */
	uint32_t pl_cnt;           /* receiver's references (ust_mbuf_attach_ref) */
	uint32_t pl_next;          /* next on pt_ret: index + 1, 0 the end */
	uint32_t pl_idx;
	struct ust_mbuf *pl_m;         /* the sender's frame */
	struct ust_mbuf_keep *pl_keep; /* its stack's zones */
	struct pipe_tx *pl_tx;         /* the sending lane it returns to */
	struct ust_pipe *pl_pipe;
};

/* A ring slot; p_slot_bytes of frame follow the header. */
struct pipe_slot {
	uint64_t ps_deliver_at;
	uint64_t ps_seq;
	uint32_t ps_len;
	uint32_t ps_flags;    /* PS_* */
	uint32_t ps_rss_hash; /* lanes > 1: the hash the sender steered by */
	uint32_t ps_rss_type; /* its UST_RSS_* type; UST_RSS_NONE: do not mark */
	uint32_t ps_hlen;     /* PS_LENT: header bytes at ps_bytes */
	uint32_t ps_niov;     /* PS_LENT: payload pieces (struct ust_iovec after them) */
	uint32_t ps_lend;     /* PS_LENT: the record's index in its sending lane */
	uint32_t ps_pad;
	uint8_t ps_bytes[];
};

/*
 * One ring of a direction: sending lane t to receiving lane r.  The three
 * groups are written by different threads and are kept on separate cache
 * lines by padding (not _Alignas: the structs come from ust_osal_mem_alloc,
 * which promises ordinary alignment only).
 */
struct pipe_ring {
	_Atomic uint32_t pr_head; /* next slot to fill (sender) */
	char pr_pad0[PIPE_CACHE_LINE];
	_Atomic uint32_t pr_tail; /* next slot to drain (receiver) */
	char pr_pad1[PIPE_CACHE_LINE];
	_Atomic uint32_t pr_inflight; /* both sides */
	char pr_pad2[PIPE_CACHE_LINE];
	uint8_t *pr_slots; /* ring_size * p_stride bytes */
};

/* The sending side of one lane of a direction. */
struct pipe_tx {
	uint64_t pt_seq;
	struct fault pt_fault;
	_Atomic uint64_t pt_sent;
	_Atomic uint64_t pt_sent_bytes;
	_Atomic uint64_t pt_lost;
	_Atomic uint64_t pt_duplicated;
	_Atomic uint64_t pt_reordered;
	_Atomic uint64_t pt_corrupted;
	_Atomic uint64_t pt_ce_marked;
	_Atomic uint64_t pt_dropped_mtu;
	_Atomic uint64_t pt_dropped_queue;
	_Atomic uint64_t pt_lent;
	_Atomic uint64_t pt_lend_copied;
	_Atomic uint64_t pt_returned;
	/* Lending: the records (lend_max), the free ones' indices, how many
	 * are out; all the sending thread's. */
	struct pipe_lend *pt_lend;
	uint32_t *pt_free;
	uint32_t pt_nfree;
	uint32_t pt_out;
	int pt_lend_dead; /* detached with frames out: never lends again */
	char pt_pad[PIPE_CACHE_LINE];
	/* Records given back by receivers (a stack linked through pl_next,
	 * index + 1; PIPE_RET_DEAD once the lane detached): pushed by any
	 * receiving lane, taken whole by the sender. */
	_Atomic uint32_t pt_ret;
	char pt_pad1[PIPE_CACHE_LINE];
};

/* The receiving side of one lane of a direction. */
struct pipe_rx {
	uint32_t px_heap_n;
	uint32_t px_first;          /* the ring polled first (round robin) */
	struct fault_hent *px_heap; /* lanes * ring_size entries */
	_Atomic uint64_t px_delivered;
	_Atomic uint64_t px_delivered_bytes;
	_Atomic uint64_t px_dropped_nombuf;
	char px_pad0[PIPE_CACHE_LINE];
	/* The doorbell (notify): rung by the senders, cleared by the receiver. */
	_Atomic int px_rung;
	int px_fd[2]; /* read end, write end (one eventfd: both); -1: none */
	char px_pad1[PIPE_CACHE_LINE];
};

struct pipe_dir {
	struct pipe_tx *pd_tx;     /* [lanes] */
	struct pipe_rx *pd_rx;     /* [lanes] */
	struct pipe_ring *pd_ring; /* [lanes * lanes]: t * lanes + r */
};

struct pipe_end {
	struct ust_pipe *pe_pipe;
	int pe_side; /* enum ust_pipe_side */
	uint32_t pe_lane;
};

struct ust_pipe {
	struct pipe_dir p_dir[2];  /* enum ust_pipe_dir */
	struct pipe_end *p_end[2]; /* [lanes], enum ust_pipe_side */
	struct ust_clock p_clock;
	uint32_t p_mtu;
	uint32_t p_caps;
	uint32_t p_ring_size;
	uint32_t p_mask;
	uint32_t p_frame_max; /* mtu + Ethernet header + VLAN tag */
	uint32_t p_slot_max;  /* bytes a slot holds: p_frame_max, or a TSO frame */
	uint32_t p_lanes;
	int p_steer;
	int p_rss_mark;
	int p_notify;
	int p_lend;          /* lending on */
	uint32_t p_lend_max; /* records per sending lane */
	uint32_t p_lend_min; /* payload bytes a frame needs to be lent */
	/* 1 for the owner (ust_pipe_destroy) and 1 per lent frame whose
	 * sender detached while a receiver held it: the last frees. */
	_Atomic uint32_t p_refs;
	size_t p_stride; /* bytes per slot */
	uint8_t p_mac[2][6];
	uint8_t p_rss_key[UST_RSS_KEYLEN];
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
pipe_slot(const struct ust_pipe *p, const struct pipe_ring *r, uint32_t idx)
{
	return (
	    (struct pipe_slot *)(void *)(r->pr_slots + (size_t)(idx & p->p_mask) * p->p_stride));
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

/* Ring k (the sending lane) of the receiving lane r. */
static inline struct pipe_ring *
pipe_rx_ring(const struct ust_pipe *p, const struct pipe_dir *d, uint32_t k, uint32_t r)
{
	return (&d->pd_ring[k * p->p_lanes + r]);
}

/* ------------------------------------------------------------------------
 * Driver operations.
 */

/* The receiving lane of a frame sent on lane t, and its hash. */
static uint32_t
pipe_steer(const struct ust_pipe *p, uint32_t t, struct ust_mbuf *m, size_t len, uint32_t *hash,
    int *type)
{
	uint8_t hdr[PIPE_HASH_BYTES];
	size_t hl = len < sizeof(hdr) ? len : sizeof(hdr);
	uint32_t q;

	*hash = 0;
	*type = UST_RSS_NONE;
	if (p->p_steer == UST_PIPE_STEER_SAME)
		return (t);
	if (ust_mbuf_copydata(m, 0, hl, hdr) == 0)
		*type = ust_rss_hash_frame(p->p_rss_key, hdr, hl, hash);
	q = ust_rss_queue(*hash, p->p_lanes);
	if (p->p_steer == UST_PIPE_STEER_SPREAD)
		q = (q + 1) % p->p_lanes;
	return (q);
}

static void pipe_free(struct ust_pipe *p);

static void
pipe_unref(struct ust_pipe *p, uint32_t n)
{
	if (atomic_fetch_sub_explicit(&p->p_refs, n, memory_order_acq_rel) == n)
		pipe_free(p);
}

/* The sender's side of a record coming back: its frame freed, its stack's
 * zones let go, the record free again.  The sending thread only. */
static void
pipe_lend_done(struct pipe_tx *tx, struct pipe_lend *pl)
{
	ust_mbuf_free(pl->pl_m);
	ust_mbuf_unkeep(pl->pl_keep);
	pl->pl_m = NULL;
	pl->pl_keep = NULL;
	atomic_store_explicit(&pl->pl_state, PL_FREE, memory_order_relaxed);
	tx->pt_free[tx->pt_nfree++] = pl->pl_idx;
	tx->pt_out--;
	pipe_stat_add(&tx->pt_returned, 1);
}

/* Frees the frames of the records on the list head (index + 1). */
static uint32_t
pipe_reap_list(struct pipe_tx *tx, uint32_t head)
{
	struct pipe_lend *pl;
	uint32_t n = 0;

	while (head != 0 && head != PIPE_RET_DEAD) {
		pl = &tx->pt_lend[head - 1];
		head = pl->pl_next;
		pipe_lend_done(tx, pl);
		n++;
	}
	return (n);
}

/* Takes back what the receivers let go of (the sending thread). */
static inline void
pipe_reap(struct pipe_tx *tx)
{
	uint32_t head = atomic_load_explicit(&tx->pt_ret, memory_order_relaxed);

	if (head == 0 || head == PIPE_RET_DEAD)
		return;
	/* Acquire: the receiver's last reads of the payload happen before
	 * the sender frees it. */
	(void)pipe_reap_list(tx, atomic_exchange_explicit(&tx->pt_ret, 0, memory_order_acquire));
}

/* The receiver let go of a lent frame's payload (free_fn of its
 * ust_mbuf_attach_ref mbufs, on the receiving thread): back to the sender,
 * or, if the sender has detached, the record's holds let go here. */
static void
pipe_lend_free(void *arg, void *buf)
{
	struct pipe_lend *pl = arg;
	struct pipe_tx *tx = pl->pl_tx;
	struct ust_pipe *p;
	uint32_t head = atomic_load_explicit(&tx->pt_ret, memory_order_relaxed);

	(void)buf;
	for (;;) {
		if (head == PIPE_RET_DEAD) {
			/* The sender took a reference on the pipe for this
			 * record when it detached; its frame stays in its
			 * zones, which go with the last hold. */
			p = pl->pl_pipe;
			ust_mbuf_unkeep(pl->pl_keep);
			pipe_unref(p, 1);
			return;
		}
		pl->pl_next = head;
		/* Release: the payload reads happen before the sender's
		 * reap; a push-only stack emptied whole has no ABA. */
		if (atomic_compare_exchange_weak_explicit(&tx->pt_ret, &head, pl->pl_idx + 1,
		        memory_order_release, memory_order_relaxed))
			return;
	}
}

/* Sender's detach of lane tx: takes back what came back; if frames are
 * still out, marks the lane dead (the receivers then let go of the holds
 * themselves, pipe_lend_free), cancels the frames no receiver has taken
 * yet and holds the pipe for the ones a receiver still holds. */
static void
pipe_lend_detach(struct ust_pipe *p, struct pipe_tx *tx)
{
	struct pipe_lend *pl;
	uint32_t i, out, back, exp;

	if (tx->pt_lend == NULL || tx->pt_lend_dead)
		return;
	pipe_reap(tx);
	if (tx->pt_out == 0)
		return;
	out = tx->pt_out;
	/* One reference per frame out, before a receiver can see DEAD. */
	atomic_fetch_add_explicit(&p->p_refs, out, memory_order_relaxed);
	tx->pt_lend_dead = 1;
	back = pipe_reap_list(tx,
	    atomic_exchange_explicit(&tx->pt_ret, PIPE_RET_DEAD, memory_order_acq_rel));
	for (i = 0; i < p->p_lend_max && tx->pt_out > 0; i++) {
		pl = &tx->pt_lend[i];
		exp = PL_LENT;
		if (atomic_load_explicit(&pl->pl_state, memory_order_relaxed) == PL_FREE)
			continue;
		if (atomic_compare_exchange_strong_explicit(&pl->pl_state, &exp, PL_CANCELLED,
		        memory_order_acquire, memory_order_relaxed)) {
			pipe_lend_done(tx, pl);
			back++;
		}
	}
	/* The rest (pt_out) are a receiver's: each lets go of its own. */
	if (back > 0)
		pipe_unref(p, back);
}

/*
 * Lends the payload of m (a frame sent from lane tx, verdict v) through
 * slot s: headers copied (and CE-marked there), payload listed, m kept in
 * a record.  0 when lent (m is the pipe's now), else nothing changed.
 */
static int
pipe_try_lend(struct ust_pipe *p, struct pipe_tx *tx, struct pipe_slot *s, struct ust_mbuf *m,
    size_t len, const struct fault_verdict *v)
{
	struct ust_mbuf *m0 = m, *rest = ust_mbuf_next(m);
	struct ust_iovec *iov;
	struct pipe_lend *pl;
	size_t hlen = ust_mbuf_len(m0), ioff, maxiov;
	int n;

	if (rest == NULL || hlen > PIPE_LEND_HDR_MAX || hlen < PIPE_ETHER_HDR ||
	    len - hlen < p->p_lend_min)
		return (-1);
	/* CE edits the IP header: it must be in the copy. */
	if (v->fv_ce) {
		size_t need = fault_ce_span(ust_mbuf_data(m0), hlen);

		if (need == 0 || need > hlen)
			return (-1);
	}
	ioff = (hlen + 7u) & ~(size_t)7u;
	maxiov = (p->p_slot_max - ioff) / sizeof(struct ust_iovec);
	iov = (struct ust_iovec *)(void *)(s->ps_bytes + ioff);
	n = ust_mbuf_sglist(rest, iov, (int)maxiov);
	if (n <= 0 || (size_t)n > maxiov)
		return (-1);
	/* Over the budget, or the sender's buffers run low: a copy. */
	if (tx->pt_nfree == 0) {
		pipe_stat_add(&tx->pt_lend_copied, 1);
		return (-1);
	}
	pl = &tx->pt_lend[tx->pt_free[tx->pt_nfree - 1]];
	if ((pl->pl_keep = ust_mbuf_keep(m)) == NULL) {
		pipe_stat_add(&tx->pt_lend_copied, 1);
		return (-1);
	}
	tx->pt_nfree--;
	tx->pt_out++;
	pl->pl_m = m;
	atomic_store_explicit(&pl->pl_state, PL_LENT, memory_order_relaxed);
	memcpy(s->ps_bytes, ust_mbuf_data(m0), hlen);
	s->ps_hlen = (uint32_t)hlen;
	s->ps_niov = (uint32_t)n;
	s->ps_lend = pl->pl_idx;
	pipe_stat_add(&tx->pt_lent, 1);
	return (0);
}

/* Sends one frame from sending lane t through its fault injector into a
 * ring.  Returns 1 when it kept m (lent), else 0: m is still the
 * caller's. */
static int
pipe_send_one(struct ust_pipe *p, struct pipe_dir *d, uint32_t t, struct ust_mbuf *m, uint64_t now,
    uint64_t *bells)
{
	struct pipe_tx *tx = &d->pd_tx[t];
	struct pipe_ring *r;
	struct fault_verdict v;
	struct pipe_slot *s, *s2;
	uint32_t head, tail, hash = 0, q = 0;
	size_t len;
	int tso, type = UST_RSS_NONE, kept = 0;

	len = ust_mbuf_pktlen(m);
	pipe_stat_add(&tx->pt_sent, 1);
	pipe_stat_add(&tx->pt_sent_bytes, len);
	tso = ((p->p_caps & UST_IFCAP_TSO4) && (ust_mbuf_csum_flags(m) & UST_CSUM_TSO)) ||
	    ((p->p_caps & UST_IFCAP_TSO6) && (ust_mbuf_csum_flags(m) & UST_CSUM_IP6_TSO));
	if (len > (tso ? p->p_slot_max : p->p_frame_max)) {
		pipe_stat_add(&tx->pt_dropped_mtu, 1);
		return (0);
	}
	if (p->p_lanes > 1)
		q = pipe_steer(p, t, m, len, &hash, &type);
	r = &d->pd_ring[t * p->p_lanes + q];
	fault_decide(&tx->pt_fault, now, len, fault_payload_bound(&tx->pt_fault, m, len, tso),
	    atomic_load_explicit(&r->pr_inflight, memory_order_acquire), &v);
	switch (v.fv_action) {
	case FAULT_DROP_MTU:
		pipe_stat_add(&tx->pt_dropped_mtu, 1);
		return (0);
	case FAULT_LOST:
		pipe_stat_add(&tx->pt_lost, 1);
		return (0);
	case FAULT_DROP_QUEUE:
		pipe_stat_add(&tx->pt_dropped_queue, 1);
		return (0);
	case FAULT_DELIVER:
		break;
	}

	head = atomic_load_explicit(&r->pr_head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->pr_tail, memory_order_acquire);
	/* The in-flight bound makes this impossible; keep the ring safe anyway. */
	if (p->p_ring_size - (head - tail) < (uint32_t)v.fv_copies) {
		if (head - tail >= p->p_ring_size) {
			pipe_stat_add(&tx->pt_dropped_queue, 1);
			return (0);
		}
		v.fv_copies = 1;
	}

	s = pipe_slot(p, r, head);
	s->ps_flags = 0;
	/* Faults that change bytes copy: a duplicate is a private copy, a
	 * corrupted frame a changed one.  CE changes only the header. */
	if (p->p_lend && !tx->pt_lend_dead && v.fv_copies == 1 && !v.fv_corrupt &&
	    pipe_try_lend(p, tx, s, m, len, &v) == 0) {
		s->ps_flags = PS_LENT;
		kept = 1;
	} else if (ust_mbuf_copydata(m, 0, len, s->ps_bytes) != 0) {
		/* A packet shorter than its header says: the sender's bug. */
		pipe_stat_add(&tx->pt_dropped_mtu, 1);
		return (0);
	}
	s->ps_deliver_at = v.fv_deliver_at;
	s->ps_seq = tx->pt_seq++;
	s->ps_len = (uint32_t)len;
	s->ps_rss_hash = hash;
	s->ps_rss_type = p->p_rss_mark ? (uint32_t)type : UST_RSS_NONE;
	if (ust_mbuf_csum_flags(m) & PIPE_CSUM_REQ)
		s->ps_flags |= PS_OFFLOADED;
	if (fault_ce_mark(&v, s->ps_bytes, kept ? s->ps_hlen : len))
		pipe_stat_add(&tx->pt_ce_marked, 1);
	if (v.fv_corrupt) {
		fault_corrupt(&v, s->ps_bytes, len);
		s->ps_flags |= PS_CORRUPTED;
		s->ps_rss_type = UST_RSS_NONE;
		pipe_stat_add(&tx->pt_corrupted, 1);
	}
	if (v.fv_copies == 2) {
		s2 = pipe_slot(p, r, head + 1);
		memcpy(s2, s, sizeof(*s) + len);
		s2->ps_seq = tx->pt_seq++;
		pipe_stat_add(&tx->pt_duplicated, 1);
	}
	if (v.fv_reordered) {
		s->ps_flags |= PS_REORDERED;
		pipe_stat_add(&tx->pt_reordered, 1);
	}
	/* Counted in flight before it can be seen, so never below zero. */
	atomic_fetch_add_explicit(&r->pr_inflight, (uint32_t)v.fv_copies, memory_order_relaxed);
	atomic_store_explicit(&r->pr_head, head + (uint32_t)v.fv_copies, memory_order_release);
	if (p->p_notify) {
		/* The receiver had taken everything before: it may sleep. */
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&r->pr_tail, memory_order_relaxed) == head)
			*bells |= 1ull << q;
	}
	return (kept);
}

/* Rings receiving lane rx's doorbell. */
static void
pipe_ring_bell(struct pipe_rx *rx)
{
#if PIPE_HAVE_FD
	uint64_t one = 1;
	ssize_t w;

	do
		w = write(rx->px_fd[1], &one, rx->px_fd[0] == rx->px_fd[1] ? sizeof(one) : 1);
	while (w < 0 && errno == EINTR);
	/* EAGAIN: a pipe full of rings is readable anyway. */
#endif
	atomic_store_explicit(&rx->px_rung, 1, memory_order_release);
}

/* Clears receiving lane rx's doorbell if it was rung. */
static void
pipe_clear_bell(struct pipe_rx *rx)
{
#if PIPE_HAVE_FD
	uint8_t buf[64];
	ssize_t n;

	if (atomic_load_explicit(&rx->px_rung, memory_order_relaxed) == 0 ||
	    atomic_exchange_explicit(&rx->px_rung, 0, memory_order_acquire) == 0)
		return;
	/* An eventfd is empty after one read; a pipe after it runs dry. */
	do
		n = read(rx->px_fd[0], buf, sizeof(buf));
	while ((n > 0 && rx->px_fd[0] != rx->px_fd[1]) || (n < 0 && errno == EINTR));
#else
	(void)rx;
#endif
}

static int
pipe_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_txdir(pe);
	uint64_t now, bells = 0;
	int i;

	if (n <= 0)
		return (0);
	if (p->p_lend)
		pipe_reap(&d->pd_tx[pe->pe_lane]);
	now = pipe_now(p);
	for (i = 0; i < n; i++)
		if (!pipe_send_one(p, d, pe->pe_lane, pkts[i], now, &bells))
			ust_mbuf_free(pkts[i]);
	for (i = 0; bells != 0; i++, bells >>= 1)
		if (bells & 1)
			pipe_ring_bell(&d->pd_rx[i]);
	return (n);
}

/* A lent frame of sending lane tx as an mbuf of ifp's stack: the headers
 * copied, the payload referred to (NULL: no mbuf, or the sender
 * cancelled it; either way the record is settled). */
static struct ust_mbuf *
pipe_lent_mbuf(struct pipe_tx *tx, const struct pipe_slot *s, struct ust_if *ifp)
{
	struct pipe_lend *pl = &tx->pt_lend[s->ps_lend];
	const struct ust_iovec *iov;
	struct ust_mbuf *m, *n;
	uint32_t exp = PL_LENT, i;

	/* Acquire pairs with nothing new (the ring published the record);
	 * the CAS only decides against a detaching sender. */
	if (!atomic_compare_exchange_strong_explicit(&pl->pl_state, &exp, PL_TAKEN,
	        memory_order_acquire, memory_order_relaxed))
		return (NULL);
	iov = (const struct ust_iovec *)(const void *)(s->ps_bytes +
	    (((size_t)s->ps_hlen + 7u) & ~(size_t)7u));
	pl->pl_cnt = 1; /* ours while building: free_fn runs once whatever fails */
	m = ust_mbuf_from_buf(ifp, s->ps_bytes, s->ps_hlen);
	for (i = 0; m != NULL && i < s->ps_niov; i++) {
		n = ust_mbuf_attach_ref(ifp, iov[i].iov_base, iov[i].iov_len, 0, iov[i].iov_len,
		    &pl->pl_cnt, pipe_lend_free, pl);
		if (n == NULL) {
			ust_mbuf_free(m);
			m = NULL;
			break;
		}
		ust_mbuf_cat(m, n);
	}
	if (--pl->pl_cnt == 0)
		pipe_lend_free(pl, NULL);
	return (m);
}

/* A slot's frame of ring k (its sending lane) as an mbuf of ifp's stack
 * (NULL: no mbuf). */
static struct ust_mbuf *
pipe_slot_mbuf(const struct ust_pipe *p, struct pipe_dir *d, uint32_t k, const struct pipe_slot *s,
    struct ust_if *ifp)
{
	struct ust_mbuf *m;

	if (s->ps_flags & PS_LENT)
		m = pipe_lent_mbuf(&d->pd_tx[k], s, ifp);
	else
		m = ust_mbuf_from_buf(ifp, s->ps_bytes, s->ps_len);
	if (m == NULL)
		return (NULL);
	if ((p->p_caps & UST_IFCAP_RXCSUM) &&
	    (s->ps_flags & (PS_OFFLOADED | PS_CORRUPTED)) == PS_OFFLOADED)
		ust_mbuf_set_csum_flags(m, UST_CSUM_L3_VALID | UST_CSUM_L4_VALID);
	if (s->ps_rss_type != UST_RSS_NONE)
		ust_mbuf_set_rss(m, s->ps_rss_hash, (int)s->ps_rss_type);
	return (m);
}

/* Hands back the slots up to tail; frames that found no mbuf leave the
 * in-flight count here, delivered ones when they are delivered. */
static void
pipe_release(struct pipe_rx *rx, struct pipe_ring *r, uint32_t tail, uint32_t nombuf)
{
	atomic_store_explicit(&r->pr_tail, tail, memory_order_release);
	if (nombuf != 0) {
		pipe_stat_add(&rx->px_dropped_nombuf, nombuf);
		atomic_fetch_sub_explicit(&r->pr_inflight, nombuf, memory_order_release);
	}
}

/* Moves every entry of ring k into the heap of rx as an mbuf of ifp's
 * stack. */
static void
pipe_drain(struct ust_pipe *p, struct pipe_dir *d, struct pipe_rx *rx, struct pipe_ring *r,
    uint32_t k, struct ust_if *ifp)
{
	const struct pipe_slot *s;
	struct fault_hent e;
	uint32_t head, tail, nombuf = 0, cap = p->p_ring_size * p->p_lanes;

	tail = atomic_load_explicit(&r->pr_tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->pr_head, memory_order_acquire);
	while (tail != head && rx->px_heap_n < cap) {
		s = pipe_slot(p, r, tail);
		e.he_m = pipe_slot_mbuf(p, d, k, s, ifp);
		if (e.he_m == NULL) {
			nombuf++;
		} else {
			e.he_deliver_at = s->ps_deliver_at;
			e.he_seq = s->ps_seq;
			e.he_len = s->ps_len;
			e.he_tag = k;
			fault_heap_push(rx->px_heap, &rx->px_heap_n, &e);
		}
		tail++;
	}
	/* The slots are copied out: hand them back. */
	pipe_release(rx, r, tail, nombuf);
}

/*
 * The common case without a heap: while the heap is empty, a frame at the
 * ring's tail that was not held back for reordering is the earliest of
 * all in flight on that ring (the link is FIFO, and a reordered frame
 * behind it is due later still), so when due it goes straight up, in ring
 * order, as the heap would have popped it.  Stops at max, at a frame not
 * yet due (nothing behind it is due either: *keep, the ring holds them in
 * order and in-flight counts them the same), or at a reordered frame
 * (*keep 0: the caller moves the rest into the heap).  Frames of
 * different sending lanes have no order between them.
 */
static int
pipe_rx_direct(struct ust_pipe *p, struct pipe_dir *d, struct pipe_rx *rx, uint32_t k,
    struct pipe_ring *r, struct ust_if *ifp, uint64_t now, struct ust_mbuf **pkts, int max,
    uint64_t *bytes, int *keep)
{
	const struct pipe_slot *s;
	uint32_t head, tail, nombuf = 0;
	int n = 0;

	*keep = 1;
	tail = atomic_load_explicit(&r->pr_tail, memory_order_relaxed);
	head = atomic_load_explicit(&r->pr_head, memory_order_acquire);
	while (n < max && tail != head) {
		s = pipe_slot(p, r, tail);
		if (s->ps_flags & PS_REORDERED) {
			*keep = 0;
			break;
		}
		if (s->ps_deliver_at > now)
			break;
		if ((pkts[n] = pipe_slot_mbuf(p, d, k, s, ifp)) == NULL) {
			nombuf++;
		} else {
			*bytes += s->ps_len;
			n++;
		}
		tail++;
	}
	pipe_release(rx, r, tail, nombuf);
	if (n > 0)
		atomic_fetch_sub_explicit(&r->pr_inflight, (uint32_t)n, memory_order_release);
	return (n);
}

/* 1 when no ring of receiving lane l holds a frame. */
static int
pipe_rings_empty(const struct ust_pipe *p, struct pipe_dir *d, uint32_t l)
{
	struct pipe_ring *r;
	uint32_t k;

	for (k = 0; k < p->p_lanes; k++) {
		r = pipe_rx_ring(p, d, k, l);
		if (atomic_load_explicit(&r->pr_tail, memory_order_relaxed) !=
		    atomic_load_explicit(&r->pr_head, memory_order_acquire))
			return (0);
	}
	return (1);
}

static int
pipe_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_rxdir(pe);
	struct pipe_rx *rx = &d->pd_rx[pe->pe_lane];
	struct pipe_ring *r;
	struct fault_hent e;
	uint64_t now, bytes = 0;
	uint32_t i, k;
	int n = 0, keep;

	if (p->p_notify)
		pipe_clear_bell(rx);
	/* This end's own lent frames that came back (its sending lane). */
	if (p->p_lend)
		pipe_reap(&pipe_txdir(pe)->pd_tx[pe->pe_lane]);
	/* Nothing in flight: no clock read (a busy poll comes here often). */
	if (rx->px_heap_n == 0 && pipe_rings_empty(p, d, pe->pe_lane))
		return (0);
	if (max <= 0) {
		for (k = 0; k < p->p_lanes; k++)
			pipe_drain(p, d, rx, pipe_rx_ring(p, d, k, pe->pe_lane), k, ifp);
		return (0);
	}
	now = pipe_now(p);
	for (i = 0; i < p->p_lanes; i++) {
		k = (rx->px_first + i) % p->p_lanes;
		r = pipe_rx_ring(p, d, k, pe->pe_lane);
		keep = 0;
		if (rx->px_heap_n == 0) {
			if (n >= max)
				break; /* the rest wait in their rings */
			n += pipe_rx_direct(p, d, rx, k, r, ifp, now, pkts + n, max - n, &bytes,
			    &keep);
		}
		if (!keep)
			pipe_drain(p, d, rx, r, k, ifp);
	}
	if (++rx->px_first >= p->p_lanes)
		rx->px_first = 0;
	while (n < max && rx->px_heap_n > 0 && rx->px_heap[0].he_deliver_at <= now) {
		fault_heap_pop(rx->px_heap, &rx->px_heap_n, &e);
		pkts[n++] = e.he_m;
		bytes += e.he_len;
		atomic_fetch_sub_explicit(&pipe_rx_ring(p, d, e.he_tag, pe->pe_lane)->pr_inflight,
		    1, memory_order_release);
	}
	if (n > 0) {
		pipe_stat_add(&rx->px_delivered, (uint64_t)n);
		pipe_stat_add(&rx->px_delivered_bytes, bytes);
	}
	return (n);
}

static uint64_t
pipe_next_deadline(void *softc)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_rxdir(pe);
	struct pipe_rx *rx = &d->pd_rx[pe->pe_lane];
	struct pipe_ring *r;
	const struct pipe_slot *s;
	uint64_t t = UINT64_MAX;
	uint32_t head, tail, k;

	/* Pairs with the sender's fence (the doorbells in the file header):
	 * what rx_burst left in the rings is seen here, or the bell rang. */
	if (p->p_notify)
		atomic_thread_fence(memory_order_seq_cst);
	if (rx->px_heap_n > 0)
		t = rx->px_heap[0].he_deliver_at;
	for (k = 0; k < p->p_lanes; k++) {
		r = pipe_rx_ring(p, d, k, pe->pe_lane);
		tail = atomic_load_explicit(&r->pr_tail, memory_order_relaxed);
		head = atomic_load_explicit(&r->pr_head, memory_order_acquire);
		if (tail == head)
			continue;
		/* With the heap empty, an in-order frame at the tail is the
		 * earliest of its ring (pipe_rx_direct), however many wait
		 * behind it. */
		s = pipe_slot(p, r, tail);
		if (rx->px_heap_n == 0 && !(s->ps_flags & PS_REORDERED)) {
			if (s->ps_deliver_at < t)
				t = s->ps_deliver_at;
			continue;
		}
		/* Otherwise the entries not drained yet: a reordered one may
		 * precede a later one, so look at them all (the rings are
		 * drained at every poll while the heap holds frames, so this
		 * is short). */
		for (; tail != head; tail++) {
			s = pipe_slot(p, r, tail);
			if (s->ps_deliver_at < t)
				t = s->ps_deliver_at;
		}
	}
	return (t);
}

static void
pipe_detach(void *softc)
{
	struct pipe_end *pe = softc;
	struct ust_pipe *p = pe->pe_pipe;
	struct pipe_dir *d = pipe_rxdir(pe);
	struct pipe_rx *rx = &d->pd_rx[pe->pe_lane];
	struct fault_hent e;

	/* The mbufs belong to the stack that is letting go of this end. */
	while (rx->px_heap_n > 0) {
		fault_heap_pop(rx->px_heap, &rx->px_heap_n, &e);
		ust_mbuf_free(e.he_m);
		atomic_fetch_sub_explicit(&pipe_rx_ring(p, d, e.he_tag, pe->pe_lane)->pr_inflight,
		    1, memory_order_release);
	}
	/* And the frames it lent: back, cancelled, or left to their
	 * receivers (pipe_lend_detach). */
	pipe_lend_detach(p, &pipe_txdir(pe)->pd_tx[pe->pe_lane]);
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
	struct pipe_end *pe = softc;

	if (pe == NULL || !pe->pe_pipe->p_notify)
		return (-1);
	return (pipe_rxdir(pe)->pd_rx[pe->pe_lane].px_fd[0]);
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
	cfg->lanes = 1;
	cfg->steer = UST_PIPE_STEER_RSS;
	cfg->rss_mark = 1;
	ust_rss_default_key(cfg->rss_key);
	cfg->lend = 1;
	cfg->lend_max = 0;
	cfg->lend_min = PIPE_LEND_MIN;
}

/* The fault configuration of sending lane t of a direction configured
 * with fc: lane 0 draws as a one-lane pipe does, the others from their
 * own seeds. */
static void
pipe_lane_faults(const struct ust_fault_config *fc, uint32_t t, struct ust_fault_config *out)
{
	*out = *fc;
	out->seed = fc->seed + (uint64_t)t * PIPE_LANE_SEED_MUL;
}

/* Opens receiving lane rx's doorbell: 0, or -UST_E*. */
static int
pipe_bell_open(struct pipe_rx *rx)
{
#if PIPE_HAVE_FD && defined(__linux__)
	rx->px_fd[0] = rx->px_fd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return (rx->px_fd[0] >= 0 ? 0 : -UST_ENOMEM);
#elif PIPE_HAVE_FD
	int i;

	if (pipe(rx->px_fd) != 0) {
		rx->px_fd[0] = rx->px_fd[1] = -1;
		return (-UST_ENOMEM);
	}
	for (i = 0; i < 2; i++)
		if (fcntl(rx->px_fd[i], F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(rx->px_fd[i], F_SETFD, FD_CLOEXEC) != 0)
			return (-UST_ENOMEM); /* pipe_bell_close closes them */
	return (0);
#else
	(void)rx;
	return (-UST_EOPNOTSUPP);
#endif
}

static void
pipe_bell_close(struct pipe_rx *rx)
{
#if PIPE_HAVE_FD
	if (rx->px_fd[0] >= 0)
		close(rx->px_fd[0]);
	if (rx->px_fd[1] >= 0 && rx->px_fd[1] != rx->px_fd[0])
		close(rx->px_fd[1]);
#endif
	rx->px_fd[0] = rx->px_fd[1] = -1;
}

static void
pipe_free(struct ust_pipe *p)
{
	size_t ring_bytes = (size_t)p->p_ring_size * p->p_stride;
	size_t heap_bytes = (size_t)p->p_ring_size * p->p_lanes * sizeof(struct fault_hent);
	uint32_t i, k;

	for (i = 0; i < 2; i++) {
		struct pipe_dir *d = &p->p_dir[i];

		if (d->pd_ring != NULL) {
			for (k = 0; k < p->p_lanes * p->p_lanes; k++)
				if (d->pd_ring[k].pr_slots != NULL)
					ust_osal_mem_free(d->pd_ring[k].pr_slots, ring_bytes);
			ust_osal_mem_free(d->pd_ring,
			    sizeof(*d->pd_ring) * p->p_lanes * p->p_lanes);
		}
		if (d->pd_rx != NULL) {
			for (k = 0; k < p->p_lanes; k++) {
				if (d->pd_rx[k].px_heap != NULL)
					ust_osal_mem_free(d->pd_rx[k].px_heap, heap_bytes);
				pipe_bell_close(&d->pd_rx[k]);
			}
			ust_osal_mem_free(d->pd_rx, sizeof(*d->pd_rx) * p->p_lanes);
		}
		if (d->pd_tx != NULL) {
			for (k = 0; k < p->p_lanes; k++) {
				if (d->pd_tx[k].pt_lend != NULL)
					ust_osal_mem_free(d->pd_tx[k].pt_lend,
					    sizeof(struct pipe_lend) * p->p_lend_max);
				if (d->pd_tx[k].pt_free != NULL)
					ust_osal_mem_free(d->pd_tx[k].pt_free,
					    sizeof(uint32_t) * p->p_lend_max);
			}
			ust_osal_mem_free(d->pd_tx, sizeof(*d->pd_tx) * p->p_lanes);
		}
		if (p->p_end[i] != NULL)
			ust_osal_mem_free(p->p_end[i], sizeof(*p->p_end[i]) * p->p_lanes);
	}
	ust_osal_mem_free(p, sizeof(*p));
}

/* Allocates n zeroed objects of size each (NULL: no memory). */
static void *
pipe_calloc(size_t n, size_t size)
{
	void *v;

	if (size != 0 && n > SIZE_MAX / size)
		return (NULL);
	if ((v = ust_osal_mem_alloc(n * size)) != NULL)
		memset(v, 0, n * size);
	return (v);
}

static int
pipe_dir_init(struct ust_pipe *p, struct pipe_dir *d, const struct ust_fault_config *fc,
    size_t ring_bytes, size_t heap_bytes)
{
	struct ust_fault_config lfc;
	uint32_t k, nl = p->p_lanes;
	int err;

	d->pd_tx = pipe_calloc(nl, sizeof(*d->pd_tx));
	d->pd_rx = pipe_calloc(nl, sizeof(*d->pd_rx));
	d->pd_ring = pipe_calloc((size_t)nl * nl, sizeof(*d->pd_ring));
	if (d->pd_rx != NULL)
		for (k = 0; k < nl; k++) /* none yet, for pipe_free */
			d->pd_rx[k].px_fd[0] = d->pd_rx[k].px_fd[1] = -1;
	if (d->pd_tx == NULL || d->pd_rx == NULL || d->pd_ring == NULL)
		return (-UST_ENOMEM);
	for (k = 0; k < nl * nl; k++) {
		struct pipe_ring *r = &d->pd_ring[k];

		atomic_init(&r->pr_head, 0);
		atomic_init(&r->pr_tail, 0);
		atomic_init(&r->pr_inflight, 0);
		if ((r->pr_slots = ust_osal_mem_alloc(ring_bytes)) == NULL)
			return (-UST_ENOMEM);
	}
	for (k = 0; k < nl; k++) {
		struct pipe_tx *tx = &d->pd_tx[k];
		struct pipe_rx *rx = &d->pd_rx[k];

		atomic_init(&tx->pt_sent, 0);
		atomic_init(&tx->pt_sent_bytes, 0);
		atomic_init(&tx->pt_lost, 0);
		atomic_init(&tx->pt_duplicated, 0);
		atomic_init(&tx->pt_reordered, 0);
		atomic_init(&tx->pt_corrupted, 0);
		atomic_init(&tx->pt_ce_marked, 0);
		atomic_init(&tx->pt_dropped_mtu, 0);
		atomic_init(&tx->pt_dropped_queue, 0);
		atomic_init(&tx->pt_lent, 0);
		atomic_init(&tx->pt_lend_copied, 0);
		atomic_init(&tx->pt_returned, 0);
		atomic_init(&tx->pt_ret, 0);
		if (p->p_lend) {
			uint32_t i;

			tx->pt_lend = pipe_calloc(p->p_lend_max, sizeof(*tx->pt_lend));
			tx->pt_free = pipe_calloc(p->p_lend_max, sizeof(*tx->pt_free));
			if (tx->pt_lend == NULL || tx->pt_free == NULL)
				return (-UST_ENOMEM);
			for (i = 0; i < p->p_lend_max; i++) {
				struct pipe_lend *pl = &tx->pt_lend[i];

				atomic_init(&pl->pl_state, PL_FREE);
				pl->pl_idx = i;
				pl->pl_tx = tx;
				pl->pl_pipe = p;
				/* Lowest index on top: reused first. */
				tx->pt_free[i] = p->p_lend_max - 1 - i;
			}
			tx->pt_nfree = p->p_lend_max;
		}
		pipe_lane_faults(fc, k, &lfc);
		fault_init(&tx->pt_fault, &lfc, p->p_mtu, p->p_ring_size);
		atomic_init(&rx->px_delivered, 0);
		atomic_init(&rx->px_delivered_bytes, 0);
		atomic_init(&rx->px_dropped_nombuf, 0);
		atomic_init(&rx->px_rung, 0);
		if ((rx->px_heap = ust_osal_mem_alloc(heap_bytes)) == NULL)
			return (-UST_ENOMEM);
		if (p->p_notify && (err = pipe_bell_open(rx)) != 0)
			return (err);
	}
	return (0);
}

int
ust_pipe_create(const struct ust_pipe_config *cfg, struct ust_pipe **out)
{
	struct ust_pipe *p;
	size_t ring_bytes, heap_bytes;
	uint32_t k;
	int i, err;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (cfg == NULL || cfg->mtu == 0 || cfg->mtu > 65535 || cfg->ring_size < 2 ||
	    cfg->ring_size > PIPE_RING_MAX || (cfg->ring_size & (cfg->ring_size - 1)) != 0 ||
	    cfg->lanes < 1 || cfg->lanes > UST_PIPE_LANES_MAX ||
	    (cfg->steer != UST_PIPE_STEER_RSS && cfg->steer != UST_PIPE_STEER_SAME &&
	        cfg->steer != UST_PIPE_STEER_SPREAD))
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
	p->p_lanes = cfg->lanes;
	p->p_steer = cfg->steer;
	p->p_rss_mark = cfg->rss_mark != 0;
	p->p_notify = cfg->notify != 0;
	atomic_init(&p->p_refs, 1);
	p->p_lend = cfg->lend != 0;
	p->p_lend_min = cfg->lend_min;
	p->p_lend_max = cfg->lend_max;
	if (p->p_lend_max == 0)
		p->p_lend_max = cfg->ring_size * cfg->lanes < PIPE_LEND_MAX_DEF ?
		    cfg->ring_size * cfg->lanes :
		    PIPE_LEND_MAX_DEF;
	memcpy(p->p_rss_key, cfg->rss_key, UST_RSS_KEYLEN);
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
	    sizeof(struct fault_hent) * p->p_lanes > SIZE_MAX / p->p_ring_size) {
		ust_osal_mem_free(p, sizeof(*p));
		return (-UST_ENOMEM);
	}
	ring_bytes = (size_t)p->p_ring_size * p->p_stride;
	heap_bytes = (size_t)p->p_ring_size * p->p_lanes * sizeof(struct fault_hent);

	for (i = 0; i < 2; i++) {
		p->p_end[i] = pipe_calloc(p->p_lanes, sizeof(*p->p_end[i]));
		err = -UST_ENOMEM;
		if (p->p_end[i] == NULL ||
		    (err = pipe_dir_init(p, &p->p_dir[i], &cfg->fault[i], ring_bytes,
		         heap_bytes)) != 0) {
			pipe_free(p);
			return (err);
		}
		for (k = 0; k < p->p_lanes; k++) {
			p->p_end[i][k].pe_pipe = p;
			p->p_end[i][k].pe_side = i;
			p->p_end[i][k].pe_lane = k;
		}
	}
	*out = p;
	return (0);
}

void
ust_pipe_destroy(struct ust_pipe *p)
{
	if (p == NULL)
		return;
	/* Every end is detached (their heaps freed by pipe_detach, their
	 * lent frames back or cancelled); frames left in the rings are plain
	 * bytes or cancelled records.  A receiver may still hold lent frames
	 * of a detached sender: the pipe goes with the last of them. */
	pipe_unref(p, 1);
}

const struct ust_driver_ops *
ust_pipe_ops(void)
{
	return (&pipe_ops);
}

void *
ust_pipe_end(struct ust_pipe *p, int side)
{
	return (ust_pipe_lane_end(p, side, 0));
}

void *
ust_pipe_lane_end(struct ust_pipe *p, int side, unsigned lane)
{
	if (p == NULL || (side != UST_PIPE_A && side != UST_PIPE_B) || lane >= p->p_lanes)
		return (NULL);
	return (&p->p_end[side][lane]);
}

unsigned
ust_pipe_lanes(const struct ust_pipe *p)
{
	return (p != NULL ? p->p_lanes : 0u);
}

int
ust_pipe_set_faults(struct ust_pipe *p, int dir, const struct ust_fault_config *fc)
{
	struct ust_fault_config lfc;
	uint32_t k;

	if (p == NULL || fc == NULL || (dir != UST_PIPE_A_TO_B && dir != UST_PIPE_B_TO_A))
		return (-UST_EINVAL);
	for (k = 0; k < p->p_lanes; k++) {
		pipe_lane_faults(fc, k, &lfc);
		fault_reconfigure(&p->p_dir[dir].pd_tx[k].pt_fault, &lfc);
	}
	return (0);
}

/* Adds lane tl's sending counters and lane rl's receiving counters. */
static void
pipe_stats_add(const struct pipe_dir *d, uint32_t tl, uint32_t rl, struct ust_pipe_stats *out)
{
	const struct pipe_tx *tx = &d->pd_tx[tl];
	const struct pipe_rx *rx = &d->pd_rx[rl];

	out->sent += pipe_stat_get(&tx->pt_sent);
	out->sent_bytes += pipe_stat_get(&tx->pt_sent_bytes);
	out->lost += pipe_stat_get(&tx->pt_lost);
	out->duplicated += pipe_stat_get(&tx->pt_duplicated);
	out->reordered += pipe_stat_get(&tx->pt_reordered);
	out->corrupted += pipe_stat_get(&tx->pt_corrupted);
	out->ce_marked += pipe_stat_get(&tx->pt_ce_marked);
	out->dropped_mtu += pipe_stat_get(&tx->pt_dropped_mtu);
	out->dropped_queue += pipe_stat_get(&tx->pt_dropped_queue);
	out->lent += pipe_stat_get(&tx->pt_lent);
	out->lend_copied += pipe_stat_get(&tx->pt_lend_copied);
	out->returned += pipe_stat_get(&tx->pt_returned);
	out->delivered += pipe_stat_get(&rx->px_delivered);
	out->delivered_bytes += pipe_stat_get(&rx->px_delivered_bytes);
	out->dropped_nombuf += pipe_stat_get(&rx->px_dropped_nombuf);
}

void
ust_pipe_get_stats(const struct ust_pipe *p, int dir, struct ust_pipe_stats *out)
{
	uint32_t k;

	memset(out, 0, sizeof(*out));
	if (p == NULL || (dir != UST_PIPE_A_TO_B && dir != UST_PIPE_B_TO_A))
		return;
	for (k = 0; k < p->p_lanes; k++)
		pipe_stats_add(&p->p_dir[dir], k, k, out);
}

int
ust_pipe_get_lane_stats(const struct ust_pipe *p, int dir, unsigned lane,
    struct ust_pipe_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (p == NULL || (dir != UST_PIPE_A_TO_B && dir != UST_PIPE_B_TO_A) || lane >= p->p_lanes)
		return (-UST_EINVAL);
	pipe_stats_add(&p->p_dir[dir], lane, lane, out);
	return (0);
}
