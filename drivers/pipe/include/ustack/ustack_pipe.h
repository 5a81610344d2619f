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
 *
 * Lanes (many cores, ustack_group.h): with lanes = n > 1 each side has n
 * lane ends, as a NIC has n queue pairs: stack i of a group attaches lane
 * i of a side (ust_group_if_attach with the n softcs of
 * ust_pipe_lane_end(p, side, 0..n-1)), and each lane end is polled by its
 * own thread.  A frame sent on any lane of one side arrives on the lane of
 * the other side that steer picks: UST_PIPE_STEER_RSS (the default) the
 * lane ust_rss_queue(hash, n) of its Toeplitz hash under rss_key, as a
 * NIC's RSS does, and the frame is marked with that hash
 * (ust_mbuf_set_rss, unless rss_mark is 0) so that the receiving group
 * need not hash it again; UST_PIPE_STEER_SAME the lane it was sent on;
 * UST_PIPE_STEER_SPREAD the next lane after its RSS lane ((q + 1) % n: always
 * the wrong one), to exercise a group's software re-steering.  Every
 * (sending lane, receiving lane) pair of a direction has its own
 * single-producer single-consumer ring of ring_size slots (so lanes^2
 * rings per direction: mind ring_size), and every sending lane its own
 * fault injector with the direction's configuration (its seed mixed with
 * the lane number for lanes > 0, so lane 0 of a one-lane pipe draws
 * exactly as before): delay, loss and the rest apply per lane, a rate
 * limit serialises each sending lane on its own, a queue limit counts
 * each ring.  lanes = 1 (the default) is the plain two-ended pipe.
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
	/* Lending (lend): frames whose payload crossed by reference, frames
	 * copied although lendable because lend_max were out or the sender's
	 * buffers ran low, lent frames given back and freed by the sender. */
	uint64_t lent;
	uint64_t lend_copied;
	uint64_t returned;
};

enum ust_pipe_dir { UST_PIPE_A_TO_B = 0, UST_PIPE_B_TO_A = 1 };
enum ust_pipe_side { UST_PIPE_A = 0, UST_PIPE_B = 1 };
/* Which lane of the receiving side a frame arrives on (lanes > 1). */
enum ust_pipe_steer {
	UST_PIPE_STEER_RSS = 0,   /* ust_rss_queue(Toeplitz hash, lanes), like a NIC */
	UST_PIPE_STEER_SAME = 1,  /* the lane it was sent on */
	UST_PIPE_STEER_SPREAD = 2 /* (its RSS lane + 1) % lanes: the wrong one */
};

#define UST_PIPE_LANES_MAX 64

struct ust_pipe_config {
	uint32_t mtu;       /* default 1500 */
	uint32_t ring_size; /* frames per ring (per direction; per lane pair with lanes), power
	                     * of two; default 1024 */
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
	/* Lane ends per side, 1..UST_PIPE_LANES_MAX; default 1. */
	uint32_t lanes;
	/* enum ust_pipe_steer; default UST_PIPE_STEER_RSS.  Only with lanes > 1. */
	int steer;
	/* Default 1: with lanes > 1, RSS and SPREAD frames arrive marked with
	 * their hash (ust_mbuf_set_rss); 0: unmarked, the receiver hashes. */
	int rss_mark;
	/* The Toeplitz key (UST_RSS_KEYLEN bytes, ustack_group.h); default
	 * ust_rss_default_key(). */
	uint8_t rss_key[40];
	/* 1: every lane end has a descriptor (get_fd) that becomes readable
	 * when frames may be waiting for it, so that a thread may sleep in
	 * poll(2) (or ust_osal_waiter_wait) instead of spinning: a group with
	 * threads that do not busy-poll.  A sleeping loop must ask the
	 * end's next_deadline (ust_stack_next_deadline() does; so does a
	 * group's thread) after its last poll and before it sleeps (the
	 * lost-wake-up argument in pipe.c needs it).  Costs a write(2)
	 * when a burst finds its receiver idle.  POSIX only (else
	 * -UST_EOPNOTSUPP).  Default 0: get_fd is -1. */
	int notify;
	/* Default 1: copy-free.  A frame whose first mbuf holds its headers
	 * (at most 256 bytes) and whose payload after them is at least
	 * lend_min bytes crosses without a copy of the payload: the receiver
	 * gets a copy of the headers in its own mbuf and read-only mbufs
	 * referring to the sender's buffers; the sender frees its frame on
	 * its own thread once the receiver let go of it (read by the
	 * application, or dropped).  Duplicated and corrupted frames are
	 * copied, as are frames over the budget: lend_max frames out per
	 * sending lane (0: ring_size * lanes, at most 65536; the receiver's
	 * unread data keeps the sender's clusters), or when the sender's
	 * stack has a quarter or less of its buffers left.  A stack destroyed
	 * while its peer still holds lent frames keeps its packet memory
	 * until the last is let go; an end detached (ust_if_detach) with
	 * frames out never lends again.  0: every frame is copied. */
	int lend;
	uint32_t lend_max;
	uint32_t lend_min; /* payload bytes; default 512 */
};

struct ust_pipe;

UST_API void ust_pipe_config_init(struct ust_pipe_config *cfg);
UST_API int ust_pipe_create(const struct ust_pipe_config *cfg, struct ust_pipe **out);
/* Destroy only after both ends are detached from their stacks. */
UST_API void ust_pipe_destroy(struct ust_pipe *p);
/* The driver ops and the softc of one end, for ust_if_attach(). */
UST_API const struct ust_driver_ops *ust_pipe_ops(void);
UST_API void *ust_pipe_end(struct ust_pipe *p, int side);
/* Lane `lane` of a side (ust_pipe_end is lane 0); NULL when out of range. */
UST_API void *ust_pipe_lane_end(struct ust_pipe *p, int side, unsigned lane);
UST_API unsigned ust_pipe_lanes(const struct ust_pipe *p);
/* Changes the faults of one direction (every sending lane of it); call
 * from the sending end's thread, with lanes > 1 while no sending lane of
 * that side is being polled. */
UST_API int ust_pipe_set_faults(struct ust_pipe *p, int dir, const struct ust_fault_config *fc);
/* A direction's counters, summed over its lanes. */
UST_API void ust_pipe_get_stats(const struct ust_pipe *p, int dir, struct ust_pipe_stats *out);
/* One lane's share of a direction's counters: what the sending side's lane
 * `lane` sent (sent .. dropped_queue, ce_marked) and what the receiving
 * side's lane `lane` received (delivered, delivered_bytes,
 * dropped_nombuf).  -UST_EINVAL when out of range. */
UST_API int ust_pipe_get_lane_stats(const struct ust_pipe *p, int dir, unsigned lane,
    struct ust_pipe_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_PIPE_H */
