/*
 * fault.h - a seeded fault injector for one direction of a link: loss,
 * duplication, reordering, single-bit corruption, propagation delay with
 * order-keeping jitter, a serialising rate limit, an MTU and a bounded
 * queue.  It decides; the driver that wraps it moves the bytes.  Two
 * drivers use it: the fault driver (fault_wrap.c, ustack_fault.h), which
 * wraps any other driver, and the pipe (drivers/pipe/pipe.c), which has
 * it built into each direction.  Either does, per frame:
 *
 *	fault_init(&f, &cfg, link_mtu, capacity);
 *	for each frame offered:
 *		fault_decide(&f, now, len, payload_len, inflight, &v);
 *		switch (v.fv_action) ...       drop and count, or
 *		fault_ce_mark(&v, bytes, len)   then
 *		fault_corrupt(&v, bytes, len)   then queue v.fv_copies copies
 *		                                due at v.fv_deliver_at.
 *
 * Determinism, for a configuration held constant: while a random fault
 * is configured (loss, duplicate, reorder or corrupt ppm, or jitter),
 * every frame that passes the MTU check draws the same fixed set of
 * random numbers from the direction's PRNG (loss, duplicate, reorder,
 * corrupt, the bit to flip, jitter), in that order, whatever the outcome.
 * So the n-th frame's fate depends only on the seed, the configuration,
 * the frame sizes and n: a queue drop caused by a slow receiver does not
 * shift the decisions for the frames after it.  CE marking with ce_ppm
 * draws once per such frame from a second PRNG seeded from the same seed,
 * so turning it on leaves the other faults of a seed exactly as they
 * were.  A configuration with nothing random draws nothing (and with no
 * delay, rate or ce_ppm either, fault_idle(), decides with the MTU check
 * and the queue limit alone): draws that could change no fate are
 * skipped, which changes no outcome.  fault_reconfigure() reseeds, so
 * the fates after it depend on the new configuration and the frames from
 * then on; a campaign that configures up front replays exactly.
 *
 * Time model (all in ns on the caller's clock):
 *  - Lost and dropped frames do not occupy the link.
 *  - Rate limit: the link serialises one frame at a time.  A frame starts
 *    at max(now, link_free_at) and occupies the link for len * 8e9 / rate
 *    (the remainder is carried, so long runs are exact).  len is the frame
 *    as handed over (Ethernet header and payload, no FCS or preamble).
 *  - deliver_at = end of serialisation + delay_ns + U[0, jitter_ns], then
 *    raised to the previous frame's deliver_at so that jitter never
 *    reorders (a link is FIFO).
 *  - A reordered frame gets reorder_ns (default 1 ms) on top of that,
 *    without moving the FIFO floor, so later frames overtake it.
 *  - A duplicate is a second copy due at the same time as the first.
 *  - Queue: at most queue_limit frames in flight (capped at the capacity
 *    the wrapper can hold; 0: the capacity); the caller says how many are
 *    in flight now.  A frame that does not fit is tail-dropped; a
 *    duplicate that does not fit is simply not made.
 *
 * Not thread-safe: one struct fault belongs to the sending side of one
 * direction.
 */
#ifndef _USTACK_DRIVERS_FAULT_FAULT_H_
#define _USTACK_DRIVERS_FAULT_FAULT_H_

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_osal.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_fault.h>

/* Hold-back of a reordered frame when reorder_ns is 0. */
#define FAULT_REORDER_NS_DEFAULT 1000000ull

enum fault_action {
	FAULT_DELIVER = 0, /* queue fv_copies copies due at fv_deliver_at */
	FAULT_DROP_MTU,    /* payload over the MTU */
	FAULT_LOST,        /* lost on the link */
	FAULT_DROP_QUEUE,  /* queue full */
};

struct fault_verdict {
	enum fault_action fv_action;
	int fv_copies;           /* 1 or 2 (duplicated) when delivered */
	int fv_reordered;        /* held back by reorder_ns */
	int fv_ce;               /* mark the frame CE if it is ECT IPv4 */
	int fv_corrupt;          /* flip bit fv_corrupt_bit of the frame */
	uint32_t fv_corrupt_bit; /* 0 .. len * 8 - 1; bit 0 is the LSB of byte 0 */
	uint64_t fv_deliver_at;
};

struct fault {
	struct ust_fault_config f_cfg;
	struct ust_rng f_rng;
	struct ust_rng f_ce_rng; /* CE marking's own stream (see Determinism) */
	uint32_t f_link_mtu;     /* the wrapper's MTU, used when the config has none */
	uint32_t f_mtu;          /* effective MTU (payload bytes) */
	uint32_t f_limit;        /* effective queue limit (frames) */
	uint32_t f_capacity;     /* what the wrapper can hold */
	uint64_t f_reorder_ns;   /* effective hold-back */
	uint64_t f_link_free_at; /* end of the last serialisation */
	uint64_t f_link_rem;     /* carried remainder of len * 8e9 / rate */
	uint64_t f_last_deliver; /* FIFO floor */
	uint64_t f_frames;       /* frames decided (past the MTU check) */
	int f_draws;             /* a random fault is configured: draw per frame */
	int f_idle;              /* nothing configured: fault_idle() */
};

/* 1 when no fault that acts on a frame is configured (no loss, duplicate,
 * reorder, corrupt, ce_ppm, delay, jitter or rate): fault_decide() then
 * makes no draw and only applies the MTU, the queue limit and
 * ce_threshold, so a driver may skip what only a fault needs. */
static inline int
fault_idle(const struct fault *f)
{
	return (f->f_idle);
}

/* A frame held until it is due, in the min-heap each driver using the
 * engine keeps (the pipe's receiver, the fault driver's two directions):
 * ordered by (he_deliver_at, he_seq), so that frames due at the same time
 * leave in the order they came. */
struct fault_hent {
	uint64_t he_deliver_at;
	uint64_t he_seq;
	struct ust_mbuf *he_m;
	uint32_t he_len;
	uint32_t he_tag; /* the driver's own (the pipe: the ring it came from) */
};

/* Adds e to the heap h of *n entries (the caller checked there is room). */
void fault_heap_push(struct fault_hent *h, uint32_t *n, const struct fault_hent *e);
/* Takes the earliest entry of the heap h of *n > 0 entries into out. */
void fault_heap_pop(struct fault_hent *h, uint32_t *n, struct fault_hent *out);

/* Sets up a direction: link_mtu is the MTU when cfg->mtu is 0, capacity
 * the most frames the wrapper can hold in flight. */
void fault_init(struct fault *f, const struct ust_fault_config *cfg, uint32_t link_mtu,
    uint32_t capacity);
/* Replaces the configuration and reseeds the PRNG from cfg->seed; the
 * link's timing (busy until, FIFO floor) is kept so that frames already
 * in flight stay in order with the next ones. */
void fault_reconfigure(struct fault *f, const struct ust_fault_config *cfg);
/* Decides the fate of one frame of len bytes carrying payload_len bytes
 * above the link header, offered at now with inflight frames in flight. */
void fault_decide(struct fault *f, uint64_t now, size_t len, size_t payload_len, uint32_t inflight,
    struct fault_verdict *v);
/* Applies the verdict's CE mark (if any) to an Ethernet frame: only an
 * IPv4 packet (optionally VLAN-tagged) whose ECN field is ECT(0) or ECT(1)
 * is changed, to CE, with its header checksum updated (RFC 1624).
 * Returns 1 when the frame was marked. */
int fault_ce_mark(const struct fault_verdict *v, void *frame, size_t len);
/* Applies the verdict's bit flip (if any) to the frame. */
void fault_corrupt(const struct fault_verdict *v, void *frame, size_t len);
/* The payload above the link header of the Ethernet frame m of len bytes,
 * for the MTU check: for a UST_CSUM_TSO frame (tso set), the IP datagram of
 * the largest segment it stands for (headers and tso_segsz of payload). */
size_t fault_payload_len(const struct ust_mbuf *m, size_t len, int tso);

/* A payload length for fault_decide()'s MTU check that gives the verdict
 * fault_payload_len() would: without reading the frame when even the
 * untagged payload fits (a VLAN tag only makes it shorter). */
static inline size_t
fault_payload_bound(const struct fault *f, const struct ust_mbuf *m, size_t len, int tso)
{
	if (!tso && len >= 14 && len - 14 <= f->f_mtu)
		return (len - 14);
	return (fault_payload_len(m, len, tso));
}

/* The leading bytes of an Ethernet frame fault_ce_mark() reads (the
 * link header, a VLAN tag and the IP header), judged from the avail
 * bytes at frame; 0 when avail does not even show that. */
size_t fault_ce_span(const void *frame, size_t avail);

#endif /* _USTACK_DRIVERS_FAULT_FAULT_H_ */
