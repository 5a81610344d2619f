/*
 * ustack_fault.h - the fault driver: seeded loss, duplication, reordering,
 * single-bit corruption, CE marking, delay with jitter, a rate limit, an
 * MTU and a bounded queue, on any other driver.
 *
 * ust_fault_wrap() takes the ops and softc of a driver (a TAP, a NIC, one
 * end of a pipe) and gives ops and a softc that behave like it with faults
 * applied: on the frames the stack sends before the inner driver sees them
 * (UST_FAULT_TX), and on the frames the inner driver receives before the
 * stack sees them (UST_FAULT_RX).  Attach the wrapper instead of the inner
 * driver:
 *
 *     struct ust_fault_wrap_config fc;
 *     struct ust_fault *fw;
 *     ust_fault_wrap_config_init(&fc);
 *     fc.fault[UST_FAULT_TX].loss_ppm = 10000;     1% of sent frames lost
 *     fc.fault[UST_FAULT_TX].seed = 42;
 *     fc.clock = the stack's clock;
 *     ust_fault_wrap(ust_tap_ops(), ust_tap_softc(tap), &fc, &fw);
 *     ust_if_attach(st, "tap0", ust_fault_wrap_ops(), ust_fault_wrap_softc(fw), &ifp);
 *     ...
 *     ust_if_detach(ifp);       detaches the inner driver too
 *     ust_fault_wrap_destroy(fw);
 *     ust_tap_close(tap);
 *
 * Determinism, for a configuration held constant: each direction draws
 * from its own PRNG seeded with its config's seed, a fixed set of draws
 * per frame whatever the outcome, so the n-th frame offered in a
 * direction meets the same fate for the same seed and frame sizes,
 * whatever the other direction or the inner driver does
 * (drivers/fault/fault.h has the full model).  Draws that can change no
 * fate are skipped: none without a random fault (loss, duplicate,
 * reorder, corrupt, jitter), the CE draw only with ce_ppm; with nothing
 * configured a frame costs only the MTU and queue checks.  Changing the
 * configuration reseeds.  Time is the clock in
 * the config, which must be the stack's (a virtual clock in simulations).
 *
 * Held frames: delayed, reordered or rate-limited frames, and frames the
 * inner driver refused, wait in the wrapper (at most capacity per
 * direction) and leave when due, at the stack's next poll (rx_burst runs at
 * every poll; next_deadline reports when).  When the transmit side holds
 * capacity frames, tx_burst takes no more (back-pressure to the stack);
 * when the receive side does, the inner driver is not asked for more.
 *
 * Writes: a corrupted or CE-marked frame is changed in a private copy when
 * it is shared (TCP's retransmission data is never touched); one that still
 * asks for checksum offload gets its checksums filled first (a TSO frame is
 * cut into segments in software), so the damage reaches the wire as a real
 * link would do it.  A corrupted received frame loses its checksum-valid
 * marks, so the stack's own check sees it.
 *
 * Not thread-safe: the wrapper runs on the stack's thread, as its ops do;
 * ust_fault_wrap_set_faults() and ust_fault_wrap_get_stats() are called
 * there too (or under ust_stack_lock()).
 */
#ifndef USTACK_FAULT_H
#define USTACK_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Faults on one direction of a link.  Probabilities are in parts per
 * million (10000 = 1%).  All zero: a perfect link. */
struct ust_fault_config {
	uint32_t loss_ppm;    /* frame silently lost */
	uint32_t dup_ppm;     /* frame delivered twice */
	uint32_t reorder_ppm; /* frame held back by reorder_ns, so later ones pass it */
	uint32_t corrupt_ppm; /* one random bit of the frame flipped */
	uint64_t delay_ns;    /* one-way propagation delay */
	uint64_t jitter_ns;   /* extra delay uniform in [0, jitter_ns]; order is kept */
	uint64_t reorder_ns;  /* hold-back of a reordered frame (0: 1 ms) */
	uint64_t rate_bps;    /* link rate in bits per second; 0: infinite */
	uint32_t mtu;         /* frames with more payload are dropped; 0: the link's MTU */
	uint32_t queue_limit; /* frames in flight at most, more tail-dropped; 0: capacity */
	uint64_t seed;        /* the direction's PRNG seed */
	/* ECN marking (RFC 3168 5): an IPv4 frame whose ECN field says ECT(0)
	 * or ECT(1) is marked CE (11) with probability ce_ppm, or whenever
	 * more than ce_threshold frames are in flight in this direction (a
	 * step AQM; 0: off).  Not-ECT frames are never touched; the IPv4
	 * header checksum is fixed after marking. */
	uint32_t ce_ppm;
	uint32_t ce_threshold;
};

enum ust_fault_dir { UST_FAULT_TX = 0, UST_FAULT_RX = 1 };

/* Per-direction counters of a wrapper. */
struct ust_fault_stats {
	uint64_t frames; /* frames offered to the injector */
	uint64_t bytes;
	uint64_t passed; /* frames handed on (copies and TSO segments included) */
	uint64_t lost;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t corrupted;
	uint64_t ce_marked;
	uint64_t dropped_mtu;
	uint64_t dropped_queue;
	uint64_t dropped_nombuf; /* a private copy or software offload had no mbuf */
};

struct ust_fault_wrap_config {
	struct ust_fault_config fault[2]; /* indexed by enum ust_fault_dir */
	/* The stack's clock (default: the OSAL monotonic clock). */
	struct ust_clock clock;
	/* Frames held per direction at most (default 1024). */
	uint32_t capacity;
};

struct ust_fault;

UST_API void ust_fault_wrap_config_init(struct ust_fault_wrap_config *cfg);
/* A wrapper around the driver inner_ops/inner_softc, which it reads the
 * MAC, MTU, capabilities, descriptor and TSO limit of and forwards them
 * unchanged.  0, or -UST_EINVAL (no inner rx_burst, tx_burst, get_mac or
 * get_mtu; capacity 0), -UST_ENOMEM. */
UST_API int ust_fault_wrap(const struct ust_driver_ops *inner_ops, void *inner_softc,
    const struct ust_fault_wrap_config *cfg, struct ust_fault **out);
/* Destroy only after the interface is detached (which detached the inner
 * driver and freed every frame the wrapper held).  The inner driver is
 * not closed: it is the caller's. */
UST_API void ust_fault_wrap_destroy(struct ust_fault *fw);
UST_API const struct ust_driver_ops *ust_fault_wrap_ops(void);
UST_API void *ust_fault_wrap_softc(struct ust_fault *fw);
/* Replaces the faults of one direction and reseeds it; frames held keep
 * their times.  0 or -UST_EINVAL. */
UST_API int ust_fault_wrap_set_faults(struct ust_fault *fw, int dir,
    const struct ust_fault_config *fc);
UST_API void ust_fault_wrap_get_stats(const struct ust_fault *fw, int dir,
    struct ust_fault_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_FAULT_H */
