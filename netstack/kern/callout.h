/*
 * callout.h - timers, as FreeBSD's sys/callout.h, on a hierarchical timing
 * wheel driven by the stack clock (kern_timeout.c).
 *
 * A callout is embedded in its owner (the tcpcb, the ARP entry).  Arming,
 * re-arming and cancelling are O(1); expiry is amortised O(1) per callout
 * (a callout cascades down at most once per level, plus once per top-level
 * turn for callouts beyond the wheel's reach, see ustack_opts.h).  A callout never fires
 * before its time; it fires at the first callout_process() whose `now` is at
 * or past its time, rounded up to the wheel's tick.
 */
#ifndef _USTACK_KERN_CALLOUT_H_
#define _USTACK_KERN_CALLOUT_H_

#include <stdint.h>

#include <ustack/ustack_opts.h>

typedef void callout_func_t(void *arg);

struct callout {
	struct callout *c_next;   /* bucket list */
	struct callout **c_pprev; /* points at whoever points at us */
	uint64_t c_tick;          /* expiry, in wheel ticks */
	callout_func_t *c_func;
	void *c_arg;
	uint16_t c_flags;  /* CALLOUT_* */
	uint16_t c_bucket; /* level/slot it sits in, for stats */
};

#define CALLOUT_PENDING 0x0001u /* on the wheel */
#define CALLOUT_ACTIVE \
	0x0002u /* armed and not stopped (FreeBSD semantics:
                                     cleared by callout_stop/deactivate) */

#define CALLOUT_L0_SLOTS (1u << UST_CALLOUT_L0_BITS)
#define CALLOUT_LN_SLOTS (1u << UST_CALLOUT_LN_BITS)

struct callout_wheel {
	uint64_t cw_tick_ns; /* one tick */
	uint64_t cw_now;     /* last tick processed */
	uint64_t cw_pending; /* callouts on the wheel */
	uint64_t cw_fired;   /* callouts run, ever */
	struct callout *cw_l0[CALLOUT_L0_SLOTS];
	struct callout *cw_ln[UST_CALLOUT_LEVELS - 1][CALLOUT_LN_SLOTS];
	/* Occupancy bitmaps so that finding the next non-empty slot is a few
	 * word scans, not a walk of empty slots. */
	uint64_t cw_l0_map[(CALLOUT_L0_SLOTS + 63) / 64];
	uint64_t cw_ln_map[UST_CALLOUT_LEVELS - 1][(CALLOUT_LN_SLOTS + 63) / 64];
	uint64_t cw_origin_ns; /* stack time of tick 0 */
};

/* Sets up a wheel whose tick 0 is at time now_ns. */
void callout_wheel_init(struct callout_wheel *cw, uint64_t tick_ns, uint64_t now_ns);
void callout_init(struct callout *c);
/* Arms c to run func(arg) delay_ns from now_ns (the caller's current
 * time), re-arming it if already pending.  Returns 1 if it was pending. */
int callout_reset(struct callout_wheel *cw, struct callout *c, uint64_t now_ns, uint64_t delay_ns,
    callout_func_t *func, void *arg);
/* Arms c for an absolute time. */
int callout_reset_at(struct callout_wheel *cw, struct callout *c, uint64_t when_ns,
    callout_func_t *func, void *arg);
/* Cancels c; returns 1 if it was pending. */
int callout_stop(struct callout_wheel *cw, struct callout *c);
#define callout_pending(c) (((c)->c_flags & CALLOUT_PENDING) != 0)
#define callout_active(c) (((c)->c_flags & CALLOUT_ACTIVE) != 0)
#define callout_deactivate(c) ((c)->c_flags &= (uint16_t)~CALLOUT_ACTIVE)
/* 1 when a callout armed for when_ns would fall due in wheel tick `tick`
 * or later: callout_reset_at rounds a deadline up to its tick
 * (kern_timeout.c cw_tick_ceil), and ceil((when_ns - origin) / tick_ns)
 * >= tick, computed without a division (callers compare a pending
 * callout's c_tick on every ACK). */
static inline int
callout_tick_at_or_after(const struct callout_wheel *cw, uint64_t tick, uint64_t when_ns)
{
	uint64_t at;

	if (tick == 0)
		return (1);
	if (when_ns <= cw->cw_origin_ns)
		return (0);
	if (__builtin_mul_overflow(tick - 1, cw->cw_tick_ns, &at))
		return (0);
	return (when_ns - cw->cw_origin_ns > at);
}
/* Runs every callout due at now_ns.  A callout may re-arm itself or arm,
 * stop others from its function.  Returns the number run. */
uint64_t callout_process(struct callout_wheel *cw, uint64_t now_ns);
/* The earliest time a pending callout may be due: exact for the near
 * future, a lower bound for callouts on the outer levels (processing at
 * that time cascades them and the next call is exact).  UINT64_MAX when
 * nothing is pending. */
uint64_t callout_next_deadline(const struct callout_wheel *cw);

#endif /* _USTACK_KERN_CALLOUT_H_ */
