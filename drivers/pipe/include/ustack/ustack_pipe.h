/*
 * ustack_pipe.h - the in-memory pipe driver: two Ethernet endpoints joined
 * by two one-way links, each with a seeded fault injector.
 *
 * Each direction is a single-producer single-consumer ring, so the two ends
 * may be polled by one thread (two stacks in one loop) or by two threads
 * (one stack per core).  Faults are applied on the sending side with the
 * direction's own PRNG, so a seed replays the same losses, duplicates,
 * reorderings, bit flips and CE marks whatever the other side does.  The
 * faults are those of the fault driver (ustack_fault.h), built in.
 */
#ifndef USTACK_PIPE_H
#define USTACK_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_fault.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-direction counters. */
struct ust_pipe_stats {
	uint64_t sent; /* frames offered by the sender */
	uint64_t sent_bytes;
	uint64_t delivered; /* frames handed to the receiving stack */
	uint64_t delivered_bytes;
	uint64_t lost;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t corrupted;
	uint64_t dropped_mtu;
	uint64_t dropped_queue;  /* queue_limit or ring full */
	uint64_t dropped_nombuf; /* receiving stack had no mbuf */
	uint64_t ce_marked;      /* ECT frames marked CE (ce_ppm, ce_threshold) */
};

enum ust_pipe_dir { UST_PIPE_A_TO_B = 0, UST_PIPE_B_TO_A = 1 };
enum ust_pipe_side { UST_PIPE_A = 0, UST_PIPE_B = 1 };

struct ust_pipe_config {
	uint32_t mtu;       /* default 1500 */
	uint32_t ring_size; /* frames per direction, power of two; default 1024 */
	uint8_t mac[2][6];  /* default 02:00:00:00:00:01 and :02 */
	/* UST_IFCAP_* both ends advertise; default 0.  RXCSUM|TXCSUM: checksum
	 * offload.  TSO4|LRO (only with both of those, else -UST_EINVAL):
	 * large segments, a TSO frame crosses whole and arrives as an LRO frame
	 * with checksums valid, as between two NICs with TSO and LRO; slots
	 * then hold 64 KiB each, so keep ring_size modest. */
	uint32_t caps;
	/* Time for delay and rate limiting: the same clock as the stacks (a
	 * virtual clock in simulations).  Default: the OSAL monotonic clock. */
	struct ust_clock clock;
	struct ust_fault_config fault[2]; /* indexed by enum ust_pipe_dir */
};

struct ust_pipe;

UST_API void ust_pipe_config_init(struct ust_pipe_config *cfg);
UST_API int ust_pipe_create(const struct ust_pipe_config *cfg, struct ust_pipe **out);
/* Destroy only after both ends are detached from their stacks. */
UST_API void ust_pipe_destroy(struct ust_pipe *p);
/* The driver ops and the softc of one end, for ust_if_attach(). */
UST_API const struct ust_driver_ops *ust_pipe_ops(void);
UST_API void *ust_pipe_end(struct ust_pipe *p, int side);
/* Changes the faults of one direction; call from the sending end's thread. */
UST_API int ust_pipe_set_faults(struct ust_pipe *p, int dir, const struct ust_fault_config *fc);
UST_API void ust_pipe_get_stats(const struct ust_pipe *p, int dir, struct ust_pipe_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_PIPE_H */
