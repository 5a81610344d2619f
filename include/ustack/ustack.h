/*
 * ustack.h - the public API of ustack: errors, the stack instance, its
 * interfaces and counters.  Socket calls join this header as the protocol
 * layers land.
 *
 * Conventions: functions return 0 or a non-negative result, or a negative
 * UST_E* code (-UST_EAGAIN); ust_strerror() names it.  Constants have
 * ustack's own values (FreeBSD numbering), never the host's.
 */
#ifndef USTACK_H
#define USTACK_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_opts.h>
#include <ustack/ustack_osal.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UST_VERSION_MAJOR 0
#define UST_VERSION_MINOR 1
#define UST_VERSION_PATCH 0

/* Error codes: FreeBSD's errno numbers under UST_ names. */
#define UST_EPERM 1
#define UST_ENOENT 2
#define UST_EIO 5
#define UST_E2BIG 7
#define UST_EBADF 9
#define UST_ENOMEM 12
#define UST_EACCES 13
#define UST_EFAULT 14
#define UST_EBUSY 16
#define UST_EEXIST 17
#define UST_ENODEV 19
#define UST_EINVAL 22
#define UST_ENFILE 23
#define UST_EMFILE 24
#define UST_ENOSPC 28
#define UST_EPIPE 32
#define UST_ERANGE 34
#define UST_EAGAIN 35
#define UST_EWOULDBLOCK UST_EAGAIN
#define UST_EINPROGRESS 36
#define UST_EALREADY 37
#define UST_ENOTSOCK 38
#define UST_EDESTADDRREQ 39
#define UST_EMSGSIZE 40
#define UST_EPROTOTYPE 41
#define UST_ENOPROTOOPT 42
#define UST_EPROTONOSUPPORT 43
#define UST_EOPNOTSUPP 45
#define UST_EAFNOSUPPORT 47
#define UST_EADDRINUSE 48
#define UST_EADDRNOTAVAIL 49
#define UST_ENETDOWN 50
#define UST_ENETUNREACH 51
#define UST_ECONNABORTED 53
#define UST_ECONNRESET 54
#define UST_ENOBUFS 55
#define UST_EISCONN 56
#define UST_ENOTCONN 57
#define UST_ESHUTDOWN 58
#define UST_ETIMEDOUT 60
#define UST_ECONNREFUSED 61
#define UST_EHOSTDOWN 64
#define UST_EHOSTUNREACH 65

/* Name of an error code ("ECONNRESET: Connection reset by peer"); takes the
 * code with or without its minus sign. */
UST_API const char *ust_strerror(int err);
/* Just the symbolic name ("ECONNRESET"), or NULL for an unknown code. */
UST_API const char *ust_errname(int err);
UST_API const char *ust_version(void);

/* ---------------------------------------------------------------------
 * The stack instance.
 * ------------------------------------------------------------------- */

struct ust_stack;
struct ust_if;
struct ust_mbuf;

/* Run-time configuration.  ust_stack_config_init() fills the documented
 * defaults; change fields after it. */
struct ust_stack_config {
	/* Bytes the stack may allocate in all (zones, tables, buffers).
	 * Default 64 MiB.  0: no limit. */
	size_t mem_limit;
	/* Hard maxima of the mbuf zones (FreeBSD kern.ipc.nmbufs,
	 * kern.ipc.nmbclusters, kern.ipc.nmbjumbo9).  Defaults 65536, 16384,
	 * 1024. */
	uint32_t nmbufs;
	uint32_t nmbclusters;
	uint32_t nmbjumbo9;
	/* The only source of time.  Default: the OSAL monotonic clock. */
	struct ust_clock clock;
	/* With seed_set, all randomness comes from a PRNG seeded with seed, so
	 * that a run replays exactly; otherwise the PRNG is seeded from OSAL
	 * entropy.  Default: not set. */
	int seed_set;
	uint64_t seed;
	/* Callout wheel resolution.  Default 1 ms (FreeBSD hz=1000). */
	uint64_t tick_ns;
	/* Frames taken from each interface per poll, 1..UST_RX_BURST_MAX.
	 * Default 32. */
	uint32_t rx_burst;
	/* Frames queued for transmission per interface before tail drop
	 * (net.link.ifqmaxlen).  Default 1024. */
	uint32_t ifq_maxlen;
	/* Log sink and level.  Default: the OSAL sink at UST_LOG_NOTICE. */
	struct ust_logger log;
};

UST_API void ust_stack_config_init(struct ust_stack_config *cfg);
/* Creates a stack.  The config is copied.  Returns 0, -UST_EINVAL for a
 * bad config or -UST_ENOMEM. */
UST_API int ust_stack_create(const struct ust_stack_config *cfg, struct ust_stack **out);
/* Detaches every interface (calling its driver's detach) and frees all the
 * stack's memory. */
UST_API void ust_stack_destroy(struct ust_stack *st);

/* One turn of the run-to-completion loop: for each interface take up to
 * rx_burst frames and pass them up; run the callouts that are due; flush
 * each interface's transmit queue.  Returns the number of frames and
 * callouts handled (0: nothing to do). */
UST_API int ust_stack_poll(struct ust_stack *st);
/* The stack's notion of now, from its clock. */
UST_API uint64_t ust_stack_now(const struct ust_stack *st);
/* The earliest absolute time at which polling may have work: a callout,
 * a frame a driver holds back (pipe delay).  Never later than the real
 * deadline; UINT64_MAX when nothing is pending.  Loops sleep until it;
 * simulations advance the virtual clock to it. */
UST_API uint64_t ust_stack_next_deadline(struct ust_stack *st);

/* Another thread may call into the stack only while holding this lock;
 * ust_stack_poll() takes it itself. */
UST_API void ust_stack_lock(struct ust_stack *st);
UST_API void ust_stack_unlock(struct ust_stack *st);

/* The next 64 random bits from the stack's PRNG (seeded or entropy). */
UST_API uint64_t ust_stack_random(struct ust_stack *st);

/* Memory accounting of the stack (a copy). */
UST_API void ust_stack_get_mem(const struct ust_stack *st, struct ust_mem *out);
/* Statistics of the stack's idx-th zone; -UST_ENOENT past the last. */
UST_API int ust_stack_get_zone_stats(const struct ust_stack *st, unsigned idx,
    struct ust_zone_stats *out);

/* Counters of the stack as a whole, in the spirit of netstat -m / -s. */
struct ust_stack_stats {
	uint64_t polls;
	uint64_t rx_frames;       /* frames taken from drivers */
	uint64_t tx_frames;       /* frames drivers accepted */
	uint64_t callouts_run;
	uint64_t nombuf;          /* mbuf allocations refused */
	uint64_t nocluster;       /* cluster allocations refused */
};
UST_API void ust_stack_get_stats(const struct ust_stack *st, struct ust_stack_stats *out);

/* ---------------------------------------------------------------------
 * Interfaces (struct ifnet inside).
 * ------------------------------------------------------------------- */

struct ust_driver_ops;

/* Attaches a driver instance as a new interface named `name` (at most 15
 * characters).  The stack does not own softc; it calls ops->detach when the
 * interface goes.  Returns 0, -UST_EINVAL, -UST_EEXIST (name taken),
 * -UST_ENOSPC (UST_MAX_IFNET reached) or -UST_ENOMEM. */
UST_API int ust_if_attach(struct ust_stack *st, const char *name,
    const struct ust_driver_ops *ops, void *softc, struct ust_if **out);
UST_API void ust_if_detach(struct ust_if *ifp);
UST_API struct ust_if *ust_if_by_name(struct ust_stack *st, const char *name);
UST_API struct ust_stack *ust_if_stack(const struct ust_if *ifp);
UST_API const char *ust_if_name(const struct ust_if *ifp);
UST_API unsigned ust_if_index(const struct ust_if *ifp);
UST_API void ust_if_get_mac(const struct ust_if *ifp, uint8_t mac[6]);
UST_API uint32_t ust_if_mtu(const struct ust_if *ifp);
UST_API uint32_t ust_if_caps(const struct ust_if *ifp);

/* Interface counters (FreeBSD's if_data names). */
struct ust_if_stats {
	uint64_t ipackets;   /* frames received */
	uint64_t ibytes;
	uint64_t ierrors;    /* frames the driver or the link layer rejected */
	uint64_t iqdrops;    /* frames dropped on input for lack of buffers */
	uint64_t noproto;    /* frames no protocol took */
	uint64_t opackets;   /* frames the driver accepted */
	uint64_t obytes;
	uint64_t oerrors;
	uint64_t oqdrops;    /* frames dropped with the transmit queue full */
};
UST_API void ust_if_get_stats(const struct ust_if *ifp, struct ust_if_stats *out);

/* Capture hook (a BPF tap): called for every frame the interface receives
 * (before any protocol sees it) and transmits (as the driver takes it),
 * with the stack's time.  The mbuf is only lent for the call.  One hook per
 * interface; fn NULL removes it.  See ustack_pcap.h for a pcap writer. */
enum ust_capture_dir { UST_CAPTURE_IN = 0, UST_CAPTURE_OUT = 1 };
typedef void (*ust_capture_fn)(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
UST_API void ust_if_set_capture(struct ust_if *ifp, ust_capture_fn fn, void *arg);

/* Raw frame access, for tests, tools and protocols outside the stack.
 * The input hook sees each received frame after capture and before the
 * protocols; returning nonzero consumes it (the protocols do not see it). */
typedef int (*ust_if_input_fn)(void *arg, struct ust_if *ifp, const struct ust_mbuf *m);
UST_API void ust_if_set_input_hook(struct ust_if *ifp, ust_if_input_fn fn, void *arg);
/* Queues a complete link-layer frame for transmission at the next flush.
 * Returns 0, -UST_EMSGSIZE (over MTU plus link header), -UST_ENOBUFS (no
 * mbufs, or the transmit queue full; counted). */
UST_API int ust_if_output_frame(struct ust_if *ifp, const void *frame, size_t len);

/* ---------------------------------------------------------------------
 * Read-only mbuf access (for capture hooks and input hooks).
 * ------------------------------------------------------------------- */
UST_API size_t ust_mbuf_pktlen(const struct ust_mbuf *m);
/* Copies len bytes from offset off of the packet into dst.  Returns 0, or
 * -UST_EINVAL when the packet is shorter than off + len. */
UST_API int ust_mbuf_copydata(const struct ust_mbuf *m, size_t off, size_t len, void *dst);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_H */
