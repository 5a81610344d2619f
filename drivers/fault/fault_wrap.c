/*
 * fault_wrap.c - the fault driver: any driver, with the seeded fault
 * injector (fault.h) on both directions (the contract is in
 * ustack_fault.h).
 *
 * Design.
 *
 *  - One struct fw_dir per direction: the injector, and a min-heap of the
 *    frames it holds (fault.h), ordered by (due time, arrival sequence).  Every frame
 *    that survives the injector goes through the heap, so delay, jitter,
 *    reordering, the rate limit and the inner driver's refusals are one
 *    mechanism: a frame leaves when it is due and the next hop takes it.
 *    Equal due times leave in arrival order (the sequence), so a link
 *    without delay stays FIFO.
 *
 *  - Transmit: tx_burst first sends what is due from the heap, then takes
 *    new frames while the heap has room for the most one frame can become
 *    (a duplicate, or the segments of a TSO frame cut in software),
 *    decides each, pushes the survivors and sends what is due again.
 *    What the inner driver refuses stays at the head of the heap.  When
 *    the heap is full tx_burst returns fewer than offered: the stack keeps
 *    the rest (back-pressure).  Frames that become due later leave from
 *    rx_burst, which the stack calls at every poll, and next_deadline says
 *    when that is.
 *
 *  - Receive: rx_burst asks the inner driver for at most as many frames as
 *    the heap has room for, decides each, and hands up what is due.
 *
 *  - Writes (corruption, CE marks) go to a private copy when the frame is
 *    shared or lent (ust_mbuf_writable), after the checksums it still asks
 *    the hardware for are filled (TSO: cut in software first), so that a
 *    flipped bit is a flipped bit on the wire.
 *
 * Call order: ust_stack_poll -> fw_rx_burst -> fw_tx_drain (due transmit
 * frames) -> inner tx_burst;  inner rx_burst -> fault_decide -> heap ->
 * stack.  ... -> fw_tx_burst -> fault_decide -> heap -> inner tx_burst.
 */
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_fault.h>
#include <ustack/ustack_osal.h>

#include "fault.h"

#define FW_BATCH 32 /* frames per call into the inner driver */
/* TSO segments of one frame cut in software: a 64 KB datagram at the
 * smallest MSS FreeBSD accepts (net.inet.tcp.minmss, 216) is 304. */
#define FW_SEGS_MAX 320
#define FW_CAPACITY 1024u /* default held frames per direction */
#define FW_CAPACITY_MAX (1u << 20)

struct fw_dir {
	struct fault d_fault;
	struct fault_hent *d_heap; /* d_cap entries */
	uint32_t d_n;
	uint32_t d_cap; /* fw_capacity */
	uint64_t d_seq;
	struct ust_fault_stats d_stats;
};

struct ust_fault {
	const struct ust_driver_ops *fw_ops; /* the inner driver */
	void *fw_softc;
	struct ust_clock fw_clock;
	uint32_t fw_capacity;
	struct fw_dir fw_dir[2]; /* enum ust_fault_dir */
};

static inline uint64_t
fw_now(const struct ust_fault *fw)
{
	return (fw->fw_clock.now_ns(fw->fw_clock.ctx));
}

/* Holds m until due; a full heap drops it as a full link queue would
 * (the callers leave room, this is the bound that cannot be passed). */
static void
fw_hold(struct fw_dir *d, struct ust_mbuf *m, uint64_t due)
{
	struct fault_hent e = { .he_deliver_at = due, .he_seq = d->d_seq++, .he_m = m };

	if (d->d_n >= d->d_cap) {
		ust_mbuf_free(m);
		d->d_stats.dropped_queue++;
		return;
	}
	fault_heap_push(d->d_heap, &d->d_n, &e);
}

/* ------------------------------------------------------------------------
 * Applying a verdict to a frame.
 */

/* Applies the CE mark and the bit flip of v to the frame m in place (the
 * caller made it writable, with its checksums filled).  The IPv4 header is
 * read in the first buffer, where the stack and every driver put it. */
static int
fw_mark(const struct fault_verdict *v, struct ust_mbuf *m, struct fw_dir *d, int corrupt)
{
	struct ust_mbuf *b;
	uint32_t bit;
	size_t len;
	int marked;

	marked = fault_ce_mark(v, ust_mbuf_data(m), ust_mbuf_len(m));
	if (!corrupt)
		return (marked);
	/* The bit is drawn over the whole frame: find its buffer. */
	bit = v->fv_corrupt_bit;
	len = ust_mbuf_pktlen(m);
	if ((size_t)(bit / 8) >= len)
		bit = (uint32_t)(bit % (len * 8));
	for (b = m; b != NULL; b = ust_mbuf_next(b)) {
		struct fault_verdict one = *v;

		if ((size_t)(bit / 8) < ust_mbuf_len(b)) {
			one.fv_corrupt_bit = bit;
			fault_corrupt(&one, ust_mbuf_data(b), ust_mbuf_len(b));
			break;
		}
		bit -= (uint32_t)ust_mbuf_len(b) * 8;
	}
	/* The receiver must check for itself. */
	ust_mbuf_set_csum_flags(m,
	    ust_mbuf_csum_flags(m) & ~(uint32_t)(UST_CSUM_L3_VALID | UST_CSUM_L4_VALID));
	d->d_stats.corrupted++;
	return (marked);
}

/*
 * Makes the frame *mp ready to be written: software offload for checksums
 * it still asks for, a private copy when shared.  A TSO frame becomes its
 * segments in segs (returns their number); any other frame stays one
 * (returns 1, segs[0]).  0 when out of buffers, or when the segments
 * would be more than max (the room left in the direction's heap): m is
 * freed and counted (dropped_nombuf, dropped_queue).
 */
static int
fw_writable(struct fw_dir *d, struct ust_mbuf *m, struct ust_mbuf **segs, int max)
{
	struct ust_mbuf *c;
	uint32_t fl = ust_mbuf_csum_flags(m);
	int n;

	if (!ust_mbuf_writable(m)) {
		if ((c = ust_mbuf_dup(m)) == NULL)
			goto nobuf;
		ust_mbuf_free(m);
		m = c;
	}
	if (fl & (UST_CSUM_TSO | UST_CSUM_IP6_TSO)) {
		n = max > 0 ? ust_mbuf_tso_segment(m, segs, max) : -UST_E2BIG;
		if (n > 0)
			return (n);
		if (n == -UST_E2BIG) {
			/* A full link queue drops what it cannot hold. */
			ust_mbuf_free(m);
			d->d_stats.dropped_queue++;
			return (0);
		}
		goto nobuf;
	}
	if ((fl &
	        (UST_CSUM_IP | UST_CSUM_TCP | UST_CSUM_UDP | UST_CSUM_IP6_TCP |
	            UST_CSUM_IP6_UDP)) &&
	    ust_mbuf_csum_fill(m) != 0)
		goto nobuf;
	segs[0] = m;
	return (1);
nobuf:
	ust_mbuf_free(m);
	d->d_stats.dropped_nombuf++;
	return (0);
}

/*
 * Runs one frame through direction d's injector at now and holds what
 * survives (one frame, two for a duplicate, the segments of a TSO frame
 * that had to be written).  Consumes m.
 */
static void
fw_decide(struct fw_dir *d, struct ust_mbuf *m, uint64_t now, int tso_ok)
{
	struct ust_mbuf *segs[FW_SEGS_MAX], *dup = NULL;
	struct fault_verdict v;
	size_t len = ust_mbuf_pktlen(m);
	uint32_t room;
	int tso, n, i;

	d->d_stats.frames++;
	d->d_stats.bytes += len;
	tso = tso_ok && (ust_mbuf_csum_flags(m) & (UST_CSUM_TSO | UST_CSUM_IP6_TSO));
	fault_decide(&d->d_fault, now, len, fault_payload_bound(&d->d_fault, m, len, tso), d->d_n, &v);
	switch (v.fv_action) {
	case FAULT_DROP_MTU:
		d->d_stats.dropped_mtu++;
		ust_mbuf_free(m);
		return;
	case FAULT_LOST:
		d->d_stats.lost++;
		ust_mbuf_free(m);
		return;
	case FAULT_DROP_QUEUE:
		d->d_stats.dropped_queue++;
		ust_mbuf_free(m);
		return;
	case FAULT_DELIVER:
		break;
	}
	if (v.fv_copies == 2) {
		/* A copy the link made: its own buffers, taken before any
		 * write so that a corruption hits one copy only. */
		if ((dup = ust_mbuf_dup(m)) == NULL)
			d->d_stats.dropped_nombuf++;
		else
			d->d_stats.duplicated++;
	}
	if (v.fv_reordered)
		d->d_stats.reordered++;
	if (v.fv_ce || v.fv_corrupt) {
		/* Never more entries than the heap has room for: capacity may
		 * be smaller than the segments of one TSO frame. */
		room = d->d_cap - d->d_n - (dup != NULL && d->d_n < d->d_cap ? 1 : 0);
		n = fw_writable(d, m, segs, room < FW_SEGS_MAX ? (int)room : FW_SEGS_MAX);
		for (i = 0; i < n; i++) {
			/* A frame cut in software: one segment takes the bit. */
			if (fw_mark(&v, segs[i], d, v.fv_corrupt && i == 0))
				d->d_stats.ce_marked++;
		}
	} else {
		segs[0] = m;
		n = 1;
	}
	for (i = 0; i < n; i++)
		fw_hold(d, segs[i], v.fv_deliver_at);
	if (dup != NULL)
		fw_hold(d, dup, v.fv_deliver_at);
}

/* ------------------------------------------------------------------------
 * Driver operations.
 */

/* Hands the transmit frames due by now to the inner driver, in order,
 * until it refuses one.  Returns how many it took. */
static int
fw_tx_drain(struct ust_fault *fw, uint64_t now)
{
	struct fw_dir *d = &fw->fw_dir[UST_FAULT_TX];
	struct ust_mbuf *batch[FW_BATCH];
	struct fault_hent ents[FW_BATCH];
	int n, taken, i, total = 0;

	while (d->d_n > 0 && d->d_heap[0].he_deliver_at <= now) {
		for (n = 0; n < FW_BATCH && d->d_n > 0 && d->d_heap[0].he_deliver_at <= now; n++) {
			fault_heap_pop(d->d_heap, &d->d_n, &ents[n]);
			batch[n] = ents[n].he_m;
		}
		taken = fw->fw_ops->tx_burst(fw->fw_softc, batch, n);
		if (taken < 0)
			taken = 0;
		if (taken > n)
			taken = n;
		d->d_stats.passed += (uint64_t)taken;
		total += taken;
		if (taken < n) {
			/* Refused: back where they were, same key, same order. */
			for (i = taken; i < n; i++)
				fault_heap_push(d->d_heap, &d->d_n, &ents[i]);
			break;
		}
	}
	return (total);
}

static int
fw_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct ust_fault *fw = softc;
	struct fw_dir *d = &fw->fw_dir[UST_FAULT_TX];
	uint32_t worst;
	uint64_t now;
	int i;

	if (n <= 0)
		return (0);
	now = fw_now(fw);
	(void)fw_tx_drain(fw, now);
	/* Room for the most one frame can become: its segments when it is
	 * cut in software, plus a duplicate. */
	worst = FW_SEGS_MAX + 1;
	if (worst > fw->fw_capacity)
		worst = fw->fw_capacity;
	for (i = 0; i < n && fw->fw_capacity - d->d_n >= worst; i++)
		fw_decide(d, pkts[i], now, 1);
	(void)fw_tx_drain(fw, now);
	return (i);
}

static int
fw_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct ust_fault *fw = softc;
	struct fw_dir *d = &fw->fw_dir[UST_FAULT_RX];
	struct ust_mbuf *in[FW_BATCH];
	struct fault_hent e;
	uint32_t room;
	uint64_t now;
	int n, i, got = 0;

	now = fw_now(fw);
	/* rx_burst runs at every poll: the transmit frames that became due
	 * since the last tx_burst leave here. */
	(void)fw_tx_drain(fw, now);
	/* A received frame becomes at most two (a duplicate). */
	room = fw->fw_capacity - d->d_n;
	n = room / 2 < FW_BATCH ? (int)(room / 2) : FW_BATCH;
	if (n > 0)
		n = fw->fw_ops->rx_burst(fw->fw_softc, ifp, in, n);
	for (i = 0; i < n; i++)
		fw_decide(d, in[i], now, 0);
	while (got < max && d->d_n > 0 && d->d_heap[0].he_deliver_at <= now) {
		fault_heap_pop(d->d_heap, &d->d_n, &e);
		pkts[got++] = e.he_m;
	}
	d->d_stats.passed += (uint64_t)got;
	return (got);
}

static uint64_t
fw_next_deadline(void *softc)
{
	struct ust_fault *fw = softc;
	uint64_t t = UINT64_MAX, u;
	int i;

	for (i = 0; i < 2; i++)
		if (fw->fw_dir[i].d_n > 0 && fw->fw_dir[i].d_heap[0].he_deliver_at < t)
			t = fw->fw_dir[i].d_heap[0].he_deliver_at;
	if (fw->fw_ops->next_deadline != NULL) {
		u = fw->fw_ops->next_deadline(fw->fw_softc);
		if (u < t)
			t = u;
	}
	return (t);
}

static void
fw_detach(void *softc)
{
	struct ust_fault *fw = softc;
	struct fault_hent e;
	int i;

	/* The held frames belong to the stack letting go. */
	for (i = 0; i < 2; i++)
		while (fw->fw_dir[i].d_n > 0) {
			fault_heap_pop(fw->fw_dir[i].d_heap, &fw->fw_dir[i].d_n, &e);
			ust_mbuf_free(e.he_m);
		}
	if (fw->fw_ops->detach != NULL)
		fw->fw_ops->detach(fw->fw_softc);
}

static void
fw_get_mac(void *softc, uint8_t mac[6])
{
	struct ust_fault *fw = softc;

	fw->fw_ops->get_mac(fw->fw_softc, mac);
}

static uint32_t
fw_get_mtu(void *softc)
{
	struct ust_fault *fw = softc;

	return (fw->fw_ops->get_mtu(fw->fw_softc));
}

static uint32_t
fw_get_caps(void *softc)
{
	struct ust_fault *fw = softc;

	return (fw->fw_ops->get_caps != NULL ? fw->fw_ops->get_caps(fw->fw_softc) : 0);
}

static int
fw_get_fd(void *softc)
{
	struct ust_fault *fw = softc;

	return (fw->fw_ops->get_fd != NULL ? fw->fw_ops->get_fd(fw->fw_softc) : -1);
}

static uint64_t
fw_get_counter(void *softc, int which)
{
	struct ust_fault *fw = softc;

	return (fw->fw_ops->get_counter != NULL ? fw->fw_ops->get_counter(fw->fw_softc, which) : 0);
}

static uint32_t
fw_get_tso_max(void *softc)
{
	struct ust_fault *fw = softc;

	return (fw->fw_ops->get_tso_max != NULL ? fw->fw_ops->get_tso_max(fw->fw_softc) : 65535u);
}

/* The stack's multicast list goes to the inner driver's filter, if any;
 * the wrapper itself passes every frame. */
static void
fw_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	struct ust_fault *fw = softc;

	if (fw->fw_ops->set_multicast != NULL)
		fw->fw_ops->set_multicast(fw->fw_softc, macs, n, allmulti);
}

static const struct ust_driver_ops fault_ops = {
	.name = "fault",
	.rx_burst = fw_rx_burst,
	.tx_burst = fw_tx_burst,
	.get_mac = fw_get_mac,
	.get_mtu = fw_get_mtu,
	.get_caps = fw_get_caps,
	.get_fd = fw_get_fd,
	.next_deadline = fw_next_deadline,
	.detach = fw_detach,
	.get_tso_max = fw_get_tso_max,
	.get_counter = fw_get_counter,
	.set_multicast = fw_set_multicast,
};

/* ------------------------------------------------------------------------
 * Public API.
 */

void
ust_fault_wrap_config_init(struct ust_fault_wrap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->clock = ust_clock_monotonic();
	cfg->capacity = FW_CAPACITY;
}

int
ust_fault_wrap(const struct ust_driver_ops *inner_ops, void *inner_softc,
    const struct ust_fault_wrap_config *cfg, struct ust_fault **out)
{
	struct ust_fault *fw;
	size_t heap_bytes;
	uint32_t mtu;
	int i;

	if (out == NULL)
		return (-UST_EINVAL);
	*out = NULL;
	if (inner_ops == NULL || cfg == NULL || inner_ops->rx_burst == NULL ||
	    inner_ops->tx_burst == NULL || inner_ops->get_mac == NULL ||
	    inner_ops->get_mtu == NULL || cfg->capacity == 0 || cfg->capacity > FW_CAPACITY_MAX)
		return (-UST_EINVAL);
	fw = ust_osal_mem_alloc(sizeof(*fw));
	if (fw == NULL)
		return (-UST_ENOMEM);
	memset(fw, 0, sizeof(*fw));
	fw->fw_ops = inner_ops;
	fw->fw_softc = inner_softc;
	fw->fw_clock = cfg->clock.now_ns != NULL ? cfg->clock : ust_clock_monotonic();
	fw->fw_capacity = cfg->capacity;
	mtu = inner_ops->get_mtu(inner_softc);
	heap_bytes = (size_t)cfg->capacity * sizeof(struct fault_hent);
	for (i = 0; i < 2; i++) {
		fw->fw_dir[i].d_heap = ust_osal_mem_alloc(heap_bytes);
		if (fw->fw_dir[i].d_heap == NULL) {
			ust_fault_wrap_destroy(fw);
			return (-UST_ENOMEM);
		}
		fw->fw_dir[i].d_cap = cfg->capacity;
		fault_init(&fw->fw_dir[i].d_fault, &cfg->fault[i], mtu, cfg->capacity);
	}
	*out = fw;
	return (0);
}

void
ust_fault_wrap_destroy(struct ust_fault *fw)
{
	int i;

	if (fw == NULL)
		return;
	for (i = 0; i < 2; i++)
		if (fw->fw_dir[i].d_heap != NULL)
			ust_osal_mem_free(fw->fw_dir[i].d_heap,
			    (size_t)fw->fw_capacity * sizeof(struct fault_hent));
	ust_osal_mem_free(fw, sizeof(*fw));
}

const struct ust_driver_ops *
ust_fault_wrap_ops(void)
{
	return (&fault_ops);
}

void *
ust_fault_wrap_softc(struct ust_fault *fw)
{
	return (fw);
}

int
ust_fault_wrap_set_faults(struct ust_fault *fw, int dir, const struct ust_fault_config *fc)
{
	if (fw == NULL || fc == NULL || (dir != UST_FAULT_TX && dir != UST_FAULT_RX))
		return (-UST_EINVAL);
	fault_reconfigure(&fw->fw_dir[dir].d_fault, fc);
	return (0);
}

void
ust_fault_wrap_get_stats(const struct ust_fault *fw, int dir, struct ust_fault_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (fw == NULL || (dir != UST_FAULT_TX && dir != UST_FAULT_RX))
		return;
	*out = fw->fw_dir[dir].d_stats;
}
