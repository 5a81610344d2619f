/*
 * cffi cdef for include/ustack/ustack_osal.h, in header order.  Parsed by
 * cffi (not by a C compiler): no #include, no attributes.  "..." lets the
 * real header supply values and layouts; the extension is compiled against
 * the real headers, so any drift fails the build.
 *
 * Left out: ust_osal_panic (never returns), ust_vlog (va_list).
 */

/* 1. The port. */
void *ust_osal_mem_alloc(size_t size);
void ust_osal_mem_free(void *p, size_t size);

struct ust_osal_mutex;
struct ust_osal_cond;
struct ust_osal_mutex *ust_osal_mutex_create(void);
void ust_osal_mutex_destroy(struct ust_osal_mutex *mtx);
void ust_osal_mutex_lock(struct ust_osal_mutex *mtx);
void ust_osal_mutex_unlock(struct ust_osal_mutex *mtx);
struct ust_osal_cond *ust_osal_cond_create(void);
void ust_osal_cond_destroy(struct ust_osal_cond *cv);
void ust_osal_cond_wait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx);
int ust_osal_cond_timedwait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx,
    uint64_t deadline_ns);
void ust_osal_cond_signal(struct ust_osal_cond *cv);
void ust_osal_cond_broadcast(struct ust_osal_cond *cv);

uint64_t ust_osal_clock_ns(void);
int ust_osal_entropy(void *buf, size_t len);

enum ust_log_level {
	UST_LOG_ERR = ...,
	UST_LOG_WARNING = ...,
	UST_LOG_NOTICE = ...,
	UST_LOG_INFO = ...,
	UST_LOG_DEBUG = ...,
	...
};

void ust_osal_log_write(int level, const char *line);

/* 2. Portable services. */
struct ust_mem {
	size_t limit;
	size_t in_use;
	size_t peak;
	uint64_t allocs;
	uint64_t frees;
	uint64_t failures;
	uint64_t fail_after;
	...;
};
void ust_mem_init(struct ust_mem *mem, size_t limit);
void *ust_mem_alloc(struct ust_mem *mem, size_t size);
void *ust_mem_zalloc(struct ust_mem *mem, size_t size);
void ust_mem_free(struct ust_mem *mem, void *p, size_t size);

struct ust_zone_stats {
	const char *name;
	size_t size;
	uint32_t max;
	uint32_t in_use;
	uint32_t peak;
	uint32_t cached;
	uint64_t allocs;
	uint64_t frees;
	uint64_t failures;
	...;
};
struct ust_zone;
struct ust_zone *ust_zone_create(struct ust_mem *mem, const char *name, size_t size,
    uint32_t max, uint32_t per_slab);
void ust_zone_destroy(struct ust_zone *zone);
void *ust_zone_alloc(struct ust_zone *zone);
void ust_zone_free(struct ust_zone *zone, void *item);
void ust_zone_get_stats(const struct ust_zone *zone, struct ust_zone_stats *out);
void ust_zone_fail_after(struct ust_zone *zone, uint64_t n);
void ust_zone_set_max(struct ust_zone *zone, uint32_t max);

struct ust_clock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
	...;
};
struct ust_clock ust_clock_monotonic(void);

struct ust_vclock;
struct ust_vclock *ust_vclock_create(uint64_t start_ns);
void ust_vclock_destroy(struct ust_vclock *vc);
uint64_t ust_vclock_now(const struct ust_vclock *vc);
void ust_vclock_advance(struct ust_vclock *vc, uint64_t delta_ns);
void ust_vclock_set(struct ust_vclock *vc, uint64_t now_ns);
struct ust_clock ust_vclock_clock(struct ust_vclock *vc);

struct ust_rng {
	uint64_t s[4];
	...;
};
void ust_rng_seed(struct ust_rng *rng, uint64_t seed);
uint64_t ust_rng_u64(struct ust_rng *rng);
uint32_t ust_rng_u32(struct ust_rng *rng);
uint32_t ust_rng_uniform(struct ust_rng *rng, uint32_t bound);
int ust_rng_chance_ppm(struct ust_rng *rng, uint32_t ppm);
void ust_rng_bytes(struct ust_rng *rng, void *buf, size_t len);

typedef void (*ust_log_fn)(void *arg, int level, const char *line);
struct ust_logger {
	ust_log_fn fn;
	void *arg;
	int level;
	...;
};
void ust_log(const struct ust_logger *lg, int level, const char *fmt, ...);
