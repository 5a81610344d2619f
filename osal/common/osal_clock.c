/*
 * osal_clock.c - clocks a stack can run on: the port's monotonic clock, or
 * a virtual clock that only moves when a test or simulation moves it.  With
 * a virtual clock a two-minute TIME_WAIT or an RTO backoff takes no real
 * time, and a run replays exactly.
 */
#include <ustack/ustack_osal.h>

struct ust_vclock {
	uint64_t now;
};

static uint64_t
monotonic_now(void *ctx)
{
	(void)ctx;
	return (ust_osal_clock_ns());
}

struct ust_clock
ust_clock_monotonic(void)
{
	struct ust_clock c = { monotonic_now, NULL };

	return (c);
}

struct ust_vclock *
ust_vclock_create(uint64_t start_ns)
{
	struct ust_vclock *vc = ust_osal_mem_alloc(sizeof(*vc));

	if (vc != NULL)
		vc->now = start_ns;
	return (vc);
}

void
ust_vclock_destroy(struct ust_vclock *vc)
{
	if (vc != NULL)
		ust_osal_mem_free(vc, sizeof(*vc));
}

uint64_t
ust_vclock_now(const struct ust_vclock *vc)
{
	return (vc->now);
}

void
ust_vclock_advance(struct ust_vclock *vc, uint64_t delta_ns)
{
	/* Saturate rather than wrap: time never moves back. */
	vc->now = (UINT64_MAX - vc->now < delta_ns) ? UINT64_MAX : vc->now + delta_ns;
}

void
ust_vclock_set(struct ust_vclock *vc, uint64_t now_ns)
{
	if (now_ns > vc->now)
		vc->now = now_ns;
}

static uint64_t
vclock_now(void *ctx)
{
	return (((struct ust_vclock *)ctx)->now);
}

struct ust_clock
ust_vclock_clock(struct ust_vclock *vc)
{
	struct ust_clock c = { vclock_now, vc };

	return (c);
}
