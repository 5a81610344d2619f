/*
 * ustack_osal.h - the OS abstraction layer: everything netstack/ needs from
 * the machine underneath it, and nothing more.
 *
 * Two halves:
 *  1. The port (osal/posix/, osal/baremetal/, or yours): raw memory, mutex and
 *     condition variable, a monotonic clock, entropy, a log sink and a panic.
 *     These are the only functions a new port has to write.
 *  2. Portable services built on the port (osal/common/), the same on every
 *     target: per-stack memory accounting with a limit, fixed-size zones,
 *     the virtual clock and the seeded PRNG that make a stack deterministic.
 *
 * netstack/ includes this header and never a system header for time,
 * threads, randomness or I/O.
 */
#ifndef USTACK_OSAL_H
#define USTACK_OSAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_opts.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define UST_API
#else
#define UST_API __attribute__((visibility("default")))
#endif

#define UST_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---------------------------------------------------------------------
 * 1. The port.
 * ------------------------------------------------------------------- */

/* Raw memory.  The size is passed back to free so that a port with a simple
 * arena needs no headers.  Returns NULL when the machine has no more. */
UST_API void *ust_osal_mem_alloc(size_t size);
UST_API void ust_osal_mem_free(void *p, size_t size);

/* Mutex and condition variable.  On a bare-metal single-threaded port these
 * are no-ops; create never fails there. */
struct ust_osal_mutex;
struct ust_osal_cond;
UST_API struct ust_osal_mutex *ust_osal_mutex_create(void);
UST_API void ust_osal_mutex_destroy(struct ust_osal_mutex *mtx);
UST_API void ust_osal_mutex_lock(struct ust_osal_mutex *mtx);
UST_API void ust_osal_mutex_unlock(struct ust_osal_mutex *mtx);
UST_API struct ust_osal_cond *ust_osal_cond_create(void);
UST_API void ust_osal_cond_destroy(struct ust_osal_cond *cv);
UST_API void ust_osal_cond_wait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx);
/* Waits until signalled or until the monotonic clock reaches deadline_ns.
 * Returns 0 when signalled (or spuriously woken), UST_ETIMEDOUT at the
 * deadline. */
UST_API int ust_osal_cond_timedwait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx,
    uint64_t deadline_ns);
UST_API void ust_osal_cond_signal(struct ust_osal_cond *cv);
UST_API void ust_osal_cond_broadcast(struct ust_osal_cond *cv);

/* Threads, for groups of stacks (ustack_group.h).  A port without threads
 * (bare metal) returns -UST_EOPNOTSUPP from ust_osal_thread_create and
 * groups then run without threads.  cpu >= 0 pins the thread to that CPU
 * (-UST_EINVAL if it has no such CPU); name (may be NULL) is for
 * debuggers, truncated as the OS needs. */
struct ust_osal_thread;
UST_API int ust_osal_thread_create(struct ust_osal_thread **out, void (*fn)(void *arg), void *arg,
    int cpu, const char *name);
UST_API void ust_osal_thread_join(struct ust_osal_thread *t);
/* A value unique to the calling thread among the live threads (never 0). */
UST_API uintptr_t ust_osal_thread_self(void);
/* CPUs online (1 on a port without threads). */
UST_API unsigned ust_osal_ncpus(void);

/* A sleeper for a thread that polls: sleeps until one of fds is readable,
 * ust_osal_waiter_wake() is called (from any thread; a wake before the
 * wait is not lost) or the monotonic clock reaches deadline_ns (UINT64_MAX:
 * none).  Returns 1 when woken or readable, 0 at the deadline.  A port
 * without descriptors ignores fds and sleeps on a condition variable. */
struct ust_osal_waiter;
UST_API struct ust_osal_waiter *ust_osal_waiter_create(void);
UST_API void ust_osal_waiter_destroy(struct ust_osal_waiter *w);
UST_API void ust_osal_waiter_wake(struct ust_osal_waiter *w);
UST_API int ust_osal_waiter_wait(struct ust_osal_waiter *w, const int *fds, unsigned nfds,
    uint64_t deadline_ns);

/* Monotonic clock in nanoseconds from an arbitrary origin. */
UST_API uint64_t ust_osal_clock_ns(void);

/* Fills buf with unpredictable bytes.  Returns 0, or UST_EIO when the
 * machine has no entropy source. */
UST_API int ust_osal_entropy(void *buf, size_t len);

/* Log levels, syslog-like. */
enum ust_log_level {
	UST_LOG_ERR = 3,
	UST_LOG_WARNING = 4,
	UST_LOG_NOTICE = 5,
	UST_LOG_INFO = 6,
	UST_LOG_DEBUG = 7,
};

/* The port's default sink for one formatted, NUL-terminated line. */
UST_API void ust_osal_log_write(int level, const char *line);

/* Called only for broken internal invariants (never for wire input) and
 * only in UST_DEBUG builds, with one line such as
 * "netstack/kern/uipc_sockbuf.c:301: KASSERT(sbcheck) failed: sb 0x...:
 * sb_cc 291 ...".  Does not return: posix prints it to stderr and calls
 * abort(); bare metal prints it through the board, calls the board's
 * ust_board_panic() hook and spins. */
UST_API void ust_osal_panic(const char *msg) __attribute__((noreturn));

/* ---------------------------------------------------------------------
 * 2. Portable services (osal/common/).
 * ------------------------------------------------------------------- */

/* Per-stack memory accounting.  Every allocation a stack makes is charged
 * here; past the limit an allocation fails (an ordinary path, counted).
 * fail_after lets tests fail the N-th allocation from now on (0: off;
 * 1: the next one fails), which drives the "fail at every step" tests. */
struct ust_mem {
	size_t limit;    /* bytes; 0 means no limit */
	size_t in_use;   /* bytes currently allocated */
	size_t peak;     /* high-water mark of in_use */
	uint64_t allocs; /* successful allocations */
	uint64_t frees;
	uint64_t failures; /* allocations refused (limit, machine, injected) */
	uint64_t fail_after;
};
UST_API void ust_mem_init(struct ust_mem *mem, size_t limit);
UST_API void *ust_mem_alloc(struct ust_mem *mem, size_t size);
/* Like ust_mem_alloc, zero-filled. */
UST_API void *ust_mem_zalloc(struct ust_mem *mem, size_t size);
UST_API void ust_mem_free(struct ust_mem *mem, void *p, size_t size);

/* Fixed-size object zones (in the manner of FreeBSD's UMA): O(1) alloc and
 * free from a free list, items carved from slabs charged to a ust_mem, a hard
 * maximum of live items, statistics.  Not thread-safe: a zone belongs to one
 * stack, which is single-threaded by design. */
struct ust_zone_stats {
	const char *name;
	size_t size;     /* bytes per item */
	uint32_t max;    /* hard limit of items; 0: none */
	uint32_t in_use; /* items handed out now */
	uint32_t peak;   /* high-water mark of in_use */
	uint32_t cached; /* items allocated from memory and free in the zone */
	uint64_t allocs;
	uint64_t frees;
	uint64_t failures; /* allocations refused at max, by memory or injected */
};
struct ust_zone;
/* Creates a zone of items of `size` bytes (rounded up for alignment), at
 * most `max` live (0: bounded only by memory).  Slabs of `per_slab` items
 * are allocated on demand (0 picks a default).  Returns NULL if out of
 * memory. */
UST_API struct ust_zone *ust_zone_create(struct ust_mem *mem, const char *name, size_t size,
    uint32_t max, uint32_t per_slab);
/* Frees every slab.  Items still in use are lost to their holders. */
UST_API void ust_zone_destroy(struct ust_zone *zone);
UST_API void *ust_zone_alloc(struct ust_zone *zone);
UST_API void ust_zone_free(struct ust_zone *zone, void *item);
UST_API void ust_zone_get_stats(const struct ust_zone *zone, struct ust_zone_stats *out);
/* Test hook: the N-th allocation from now fails (0: off). */
UST_API void ust_zone_fail_after(struct ust_zone *zone, uint64_t n);
UST_API void ust_zone_set_max(struct ust_zone *zone, uint32_t max);

/* A clock is a function and its context.  A stack reads time only through
 * its ust_clock; the default is the OSAL monotonic clock. */
struct ust_clock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};
/* The OSAL monotonic clock as a ust_clock. */
UST_API struct ust_clock ust_clock_monotonic(void);

/* A virtual clock: time moves only when the test says so.  Shared by any
 * number of stacks and pipes, so that a simulation has one notion of now. */
struct ust_vclock;
UST_API struct ust_vclock *ust_vclock_create(uint64_t start_ns);
UST_API void ust_vclock_destroy(struct ust_vclock *vc);
UST_API uint64_t ust_vclock_now(const struct ust_vclock *vc);
/* Moves time forward; time never moves back (an earlier value is ignored). */
UST_API void ust_vclock_advance(struct ust_vclock *vc, uint64_t delta_ns);
UST_API void ust_vclock_set(struct ust_vclock *vc, uint64_t now_ns);
UST_API struct ust_clock ust_vclock_clock(struct ust_vclock *vc);

/* A seeded PRNG (xoshiro256** seeded through splitmix64): the same seed
 * gives the same sequence on every machine.  Not for secrets on its own:
 * a stack without a fixed seed seeds it from ust_osal_entropy(). */
struct ust_rng {
	uint64_t s[4];
};
UST_API void ust_rng_seed(struct ust_rng *rng, uint64_t seed);
UST_API uint64_t ust_rng_u64(struct ust_rng *rng);
UST_API uint32_t ust_rng_u32(struct ust_rng *rng);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
UST_API uint32_t ust_rng_uniform(struct ust_rng *rng, uint32_t bound);
/* True with probability ppm / 1,000,000. */
UST_API int ust_rng_chance_ppm(struct ust_rng *rng, uint32_t ppm);
UST_API void ust_rng_bytes(struct ust_rng *rng, void *buf, size_t len);

/* A log sink: the stack formats a line and hands it here.  The default
 * sink is ust_osal_log_write. */
typedef void (*ust_log_fn)(void *arg, int level, const char *line);
struct ust_logger {
	ust_log_fn fn; /* NULL: ust_osal_log_write */
	void *arg;
	int level; /* lines above this level are not formatted */
};
UST_API void ust_log(const struct ust_logger *lg, int level, const char *fmt, ...) UST_PRINTF(3, 4);
UST_API void ust_vlog(const struct ust_logger *lg, int level, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_OSAL_H */
