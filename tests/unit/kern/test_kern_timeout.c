/*
 * test_kern_timeout.c - the callout wheel (kern_timeout.c), driven by a
 * virtual clock that is nothing but a uint64_t the test advances: exact
 * expiry and tick rounding, re-arm and stop, late callouts, cascades from
 * every level, callouts beyond the wheel's range, reentrancy from callout
 * functions, next_deadline as a simulation driver, and a million randomised
 * callouts checked against a model.
 */
#include <ustack/ustack_osal.h>

#include "kern/callout.h"
#include "ust_test.h"

#define NS 1ull
#define MS 1000000ull
#define SEC 1000000000ull
#define HOUR (3600ull * SEC)
#define TICK MS
/* Deliberately not a multiple of the tick: ticks count from the origin. */
#define ORIGIN (5 * SEC + 123)

/* Ticks one level-k slot covers, and the whole wheel's reach. */
#define L1_TICKS ((uint64_t)CALLOUT_L0_SLOTS)
#define L2_TICKS (L1_TICKS * CALLOUT_LN_SLOTS)
#define L3_TICKS (L2_TICKS * CALLOUT_LN_SLOTS)
#define WHEEL_TICKS (L3_TICKS * CALLOUT_LN_SLOTS)

static void
count_fn(void *arg)
{
	(*(int *)arg)++;
}

/* Ticks since ORIGIN at which a callout for `when` is due (rounded up). */
static uint64_t
due_tick(uint64_t when)
{
	if (when <= ORIGIN)
		return (0);
	return ((when - ORIGIN + TICK - 1) / TICK);
}

static uint64_t
tick_time(uint64_t tick)
{
	return (ORIGIN + tick * TICK);
}

/* A callout that logs its id, for order checks. */
struct order_log {
	int ids[64];
	int n;
};

struct tagged {
	struct callout c;
	struct order_log *log;
	int id;
};

static void
log_fn(void *arg)
{
	struct tagged *t = arg;

	if (t->log->n < 64)
		t->log->ids[t->log->n] = t->id;
	t->log->n++;
}

TEST(fires_at_exact_time_not_before)
{
	struct callout_wheel cw;
	struct callout c;
	int n = 0;
	uint64_t when = ORIGIN + 10 * MS;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&c);
	CHECK(!callout_pending(&c) && !callout_active(&c));
	CHECK_EQ(callout_reset_at(&cw, &c, when, count_fn, &n), 0);
	CHECK(callout_pending(&c) && callout_active(&c));
	CHECK_EQ(cw.cw_pending, 1);
	CHECK_EQ(callout_next_deadline(&cw), when);
	CHECK_EQ(callout_process(&cw, when - 1), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(callout_process(&cw, when), 1);
	CHECK_EQ(n, 1);
	/* FreeBSD: firing clears PENDING, leaves ACTIVE for the owner. */
	CHECK(!callout_pending(&c));
	CHECK(callout_active(&c));
	callout_deactivate(&c);
	CHECK(!callout_active(&c));
	CHECK_EQ(cw.cw_pending, 0);
	CHECK_EQ(cw.cw_fired, 1);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
	CHECK_EQ(callout_process(&cw, when + HOUR), 0);
	CHECK_EQ(n, 1);

	/* Relative arming from the caller's now, which the wheel has not
	 * seen yet. */
	when = ORIGIN + HOUR + 250 * MS;
	CHECK_EQ(callout_reset(&cw, &c, ORIGIN + HOUR + 7 * MS, 243 * MS, count_fn, &n), 0);
	CHECK_EQ(callout_process(&cw, when - 1), 0);
	CHECK_EQ(callout_process(&cw, when), 1);
	CHECK_EQ(n, 2);
	CHECK_EQ(cw.cw_fired, 2);
}

TEST(tick_rounding_up)
{
	struct callout_wheel cw;
	struct callout a, b;
	int na = 0, nb = 0;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&a);
	callout_init(&b);
	/* 1 ns past tick 10 is tick 11; 1 ns before tick 10 is tick 10. */
	callout_reset_at(&cw, &a, ORIGIN + 10 * MS + 1, count_fn, &na);
	callout_reset_at(&cw, &b, ORIGIN + 10 * MS - 1, count_fn, &nb);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 10 * MS);
	CHECK_EQ(callout_process(&cw, ORIGIN + 10 * MS - 1), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 10 * MS), 1);
	CHECK_EQ(nb, 1);
	CHECK_EQ(na, 0);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 11 * MS);
	CHECK_EQ(callout_process(&cw, ORIGIN + 10 * MS + 1), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 11 * MS - 1), 0);
	CHECK_EQ(na, 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 11 * MS + 999), 1);
	CHECK_EQ(na, 1);

	/* A coarse tick: 10 ms.  25 ms rounds to 30 ms. */
	callout_wheel_init(&cw, 10 * MS, ORIGIN);
	callout_reset_at(&cw, &a, ORIGIN + 25 * MS, count_fn, &na);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 30 * MS);
	CHECK_EQ(callout_process(&cw, ORIGIN + 29 * MS), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 30 * MS), 1);
	CHECK_EQ(na, 2);
}

TEST(rearm_moves_it)
{
	struct callout_wheel cw;
	struct callout c;
	int n = 0;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&c);
	CHECK_EQ(callout_reset_at(&cw, &c, ORIGIN + 10 * MS, count_fn, &n), 0);
	/* Later, across levels. */
	CHECK_EQ(callout_reset_at(&cw, &c, ORIGIN + 50 * SEC, count_fn, &n), 1);
	CHECK_EQ(cw.cw_pending, 1);
	CHECK_EQ(callout_process(&cw, ORIGIN + 20 * MS), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 50 * SEC - 1), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 50 * SEC), 1);
	CHECK_EQ(n, 1);
	/* Earlier: from an outer level back into level 0. */
	callout_reset_at(&cw, &c, ORIGIN + 2 * HOUR, count_fn, &n);
	CHECK_EQ(callout_reset_at(&cw, &c, ORIGIN + 51 * SEC, count_fn, &n), 1);
	CHECK(callout_next_deadline(&cw) <= ORIGIN + 51 * SEC);
	CHECK_EQ(callout_process(&cw, ORIGIN + 51 * SEC - 1), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 51 * SEC), 1);
	CHECK_EQ(callout_process(&cw, ORIGIN + 3 * HOUR), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(cw.cw_pending, 0);
	/* Re-arming after it fired is a fresh arm: returns 0. */
	CHECK_EQ(callout_reset_at(&cw, &c, ORIGIN + 4 * HOUR, count_fn, &n), 0);
	CHECK_EQ(callout_stop(&cw, &c), 1);
}

TEST(stop_cancels_and_reports_pending)
{
	struct callout_wheel cw;
	struct callout c, never;
	int n = 0;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&c);
	callout_init(&never);
	CHECK_EQ(callout_stop(&cw, &never), 0);
	callout_reset_at(&cw, &c, ORIGIN + 3 * SEC, count_fn, &n);
	callout_reset_at(&cw, &never, ORIGIN + 4 * SEC, count_fn, &n);
	/* Cancelling the earliest moves the deadline on to the next. */
	CHECK_EQ(callout_stop(&cw, &never), 1);
	CHECK(callout_next_deadline(&cw) <= ORIGIN + 3 * SEC);
	callout_reset_at(&cw, &never, ORIGIN + 2 * MS, count_fn, &n);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 2 * MS);
	CHECK_EQ(callout_stop(&cw, &never), 1);
	CHECK(callout_next_deadline(&cw) > ORIGIN + 2 * MS);
	CHECK_EQ(callout_stop(&cw, &c), 1);
	CHECK(!callout_pending(&c));
	CHECK(!callout_active(&c));
	CHECK_EQ(cw.cw_pending, 0);
	CHECK_EQ(callout_stop(&cw, &c), 0);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
	CHECK_EQ(callout_process(&cw, ORIGIN + HOUR), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(cw.cw_fired, 0);
	/* Stopping after it fired: not pending, but clears ACTIVE. */
	callout_reset_at(&cw, &c, ORIGIN + HOUR + 1, count_fn, &n);
	callout_process(&cw, ORIGIN + 2 * HOUR);
	CHECK_EQ(n, 1);
	CHECK(callout_active(&c));
	CHECK_EQ(callout_stop(&cw, &c), 0);
	CHECK(!callout_active(&c));
	/* Stopping one of several in a bucket leaves the others. */
	{
		struct callout m[3];
		int k;

		for (k = 0; k < 3; k++) {
			callout_init(&m[k]);
			callout_reset_at(&cw, &m[k], ORIGIN + 3 * HOUR, count_fn, &n);
		}
		CHECK_EQ(callout_stop(&cw, &m[1]), 1);
		CHECK_EQ(callout_process(&cw, ORIGIN + 3 * HOUR), 2);
		CHECK_EQ(n, 3);
	}
}

/* Re-arms itself with delay 0 every time it runs. */
struct rearm0 {
	struct callout_wheel *cw;
	struct callout c;
	uint64_t *now;
	int n;
};

static void
rearm0_fn(void *arg)
{
	struct rearm0 *r = arg;

	r->n++;
	callout_reset(r->cw, &r->c, *r->now, 0, rearm0_fn, r);
}

TEST(delay_zero_and_past_times)
{
	struct callout_wheel cw;
	struct callout c;
	struct rearm0 r;
	uint64_t now = ORIGIN + 3 * MS;
	int n = 0;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&c);
	callout_process(&cw, now);
	/* Due at a tick already processed: the next process runs it, even
	 * at the same now. */
	callout_reset(&cw, &c, now, 0, count_fn, &n);
	CHECK_EQ(callout_next_deadline(&cw), now);
	CHECK_EQ(callout_process(&cw, now), 1);
	CHECK_EQ(n, 1);
	callout_reset_at(&cw, &c, ORIGIN + 1 * MS, count_fn, &n);
	CHECK_EQ(callout_process(&cw, now), 1);
	callout_reset_at(&cw, &c, 0, count_fn, &n); /* before the origin */
	CHECK_EQ(callout_next_deadline(&cw), now);
	CHECK_EQ(callout_process(&cw, now), 1);
	CHECK_EQ(n, 3);
	/* A clock stepping back neither moves the wheel back nor loses the
	 * late callout. */
	callout_reset_at(&cw, &c, ORIGIN, count_fn, &n);
	CHECK_EQ(callout_process(&cw, ORIGIN + 1 * MS), 1);
	CHECK_EQ(callout_process(&cw, ORIGIN + 3 * MS), 0);
	CHECK_EQ(n, 4);
	/* Delay 0 from a time between ticks rounds up: not before the tick. */
	now = ORIGIN + 3 * MS + 500 * 1000;
	callout_reset(&cw, &c, now, 0, count_fn, &n);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 4 * MS);
	CHECK_EQ(callout_process(&cw, now), 0);
	CHECK_EQ(callout_process(&cw, ORIGIN + 4 * MS), 1);
	CHECK_EQ(n, 5);

	/* Re-arming itself with delay 0 runs once per process, never loops. */
	now = ORIGIN + 4 * MS;
	r.cw = &cw;
	r.now = &now;
	r.n = 0;
	callout_init(&r.c);
	callout_reset(&cw, &r.c, now, 0, rearm0_fn, &r);
	CHECK_EQ(callout_process(&cw, now), 1);
	CHECK_EQ(callout_process(&cw, now), 1);
	CHECK_EQ(r.n, 2);
	now += 7 * MS;
	CHECK(callout_process(&cw, now) >= 1);
	CHECK(r.n <= 2 + 8);
	/* Re-armed in the past from its function: still due, at once. */
	CHECK(callout_next_deadline(&cw) <= now);
	n = r.n;
	CHECK_EQ(callout_process(&cw, now), 1);
	CHECK_EQ(r.n, n + 1);
	CHECK_EQ(callout_stop(&cw, &r.c), 1);
	CHECK_EQ(cw.cw_pending, 0);
}

TEST(order_by_time_across_levels)
{
	/* Times spanning every level and beyond; duplicates tie. */
	static const uint64_t when[] = {
		ORIGIN + 3 * MS,
		ORIGIN + 1,
		ORIGIN + 255 * MS,
		ORIGIN + 256 * MS,
		ORIGIN + 300 * MS,
		ORIGIN + 300 * MS,
		ORIGIN + 16383 * MS,
		ORIGIN + 16384 * MS,
		ORIGIN + 20 * SEC,
		ORIGIN + 1000 * SEC,
		ORIGIN + 17 * HOUR,
		ORIGIN + 30 * HOUR,
		ORIGIN + 100 * HOUR,
		ORIGIN + 300 * MS - 1,
		ORIGIN + 20 * SEC,
		ORIGIN + 2 * MS + 1,
		ORIGIN + 17 * HOUR,
		ORIGIN + 29 * HOUR + 59 * SEC,
		ORIGIN + 0,
		ORIGIN + 1048576 * MS,
		ORIGIN + 1048575 * MS,
		ORIGIN + 65536 * MS,
	};
	enum { N = sizeof(when) / sizeof(when[0]) };
	struct callout_wheel cw;
	struct tagged t[N];
	struct order_log log;
	struct ust_rng rng;
	int perm[N], expect[N], i, j, pass;

	for (pass = 0; pass < 2; pass++) {
		callout_wheel_init(&cw, TICK, ORIGIN);
		memset(&log, 0, sizeof(log));
		ust_rng_seed(&rng, ust_test_seed + (uint64_t)pass);
		for (i = 0; i < N; i++)
			perm[i] = i;
		for (i = N - 1; i > 0; i--) {
			j = (int)ust_rng_uniform(&rng, (uint32_t)i + 1);
			int tmp = perm[i];
			perm[i] = perm[j];
			perm[j] = tmp;
		}
		/* Arm in shuffled order; id = arming order. */
		for (i = 0; i < N; i++) {
			callout_init(&t[i].c);
			t[i].log = &log;
			t[i].id = i;
			callout_reset_at(&cw, &t[i].c, when[perm[i]], log_fn, &t[i]);
		}
		/* Expected: by due tick, ties in arming order (insertion sort is
		 * stable). */
		for (i = 0; i < N; i++) {
			int id = i;

			for (j = i; j > 0 &&
			     due_tick(when[perm[expect[j - 1]]]) > due_tick(when[perm[id]]);
			     j--)
				expect[j] = expect[j - 1];
			expect[j] = id;
		}
		if (pass == 0) {
			/* One jump over everything. */
			CHECK_EQ(callout_process(&cw, ORIGIN + 200 * HOUR), N);
		} else {
			/* Step by step at each next deadline. */
			uint64_t now = ORIGIN, nd;

			while ((nd = callout_next_deadline(&cw)) != UINT64_MAX) {
				if (nd > now)
					now = nd;
				callout_process(&cw, now);
			}
		}
		REQUIRE_EQ(log.n, N);
		for (i = 0; i < N; i++)
			CHECK_EQ(log.ids[i], expect[i]);
	}
}

TEST(cascade_to_exact_time_from_each_level)
{
	static const struct {
		uint64_t ticks;
		unsigned level;
	} cases[] = {
		{ L1_TICKS + 7, 1 },
		{ L2_TICKS - 3, 1 },
		{ L2_TICKS + 3, 2 },
		{ L3_TICKS - 1, 2 },
		{ L3_TICKS + 11, 3 },
		{ WHEEL_TICKS - 5, 3 },
	};
	struct callout_wheel cw;
	struct callout c;
	size_t i;
	int n = 0, expect = 0, start;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (start = 0; start < 2; start++) {
			/* From the origin, and from a wheel already moved to an
			 * awkward place (just before a block boundary). */
			uint64_t base = start ? 5 * L2_TICKS - 2 : 0;
			uint64_t when = tick_time(base + cases[i].ticks) - 999;

			callout_wheel_init(&cw, TICK, ORIGIN);
			callout_process(&cw, tick_time(base));
			callout_init(&c);
			callout_reset_at(&cw, &c, when, count_fn, &n);
			if (!start)
				CHECK_EQ(c.c_bucket >> 12, cases[i].level);
			CHECK(callout_next_deadline(&cw) <= tick_time(base + cases[i].ticks));
			/* One jump to just before: cascaded, not fired, exact. */
			CHECK_EQ(callout_process(&cw, tick_time(base + cases[i].ticks) - 1), 0);
			CHECK_EQ(n, expect);
			CHECK_EQ(callout_next_deadline(&cw), tick_time(base + cases[i].ticks));
			CHECK_EQ(c.c_bucket >> 12, 0);
			CHECK_EQ(callout_process(&cw, tick_time(base + cases[i].ticks)), 1);
			CHECK_EQ(n, ++expect);
			CHECK_EQ(cw.cw_pending, 0);
		}
	}
}

TEST(far_future_beyond_top_level)
{
	static const uint64_t delays[] = {
		WHEEL_TICKS * MS + 1 * MS,
		100 * HOUR + 17,
		365 * 24 * HOUR + 3 * MS,
		WHEEL_TICKS * MS * 5 / 2,
	};
	struct callout_wheel cw;
	struct callout c;
	size_t i;
	int n = 0, mode;

	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		for (mode = 0; mode < 2; mode++) {
			uint64_t when = ORIGIN + delays[i], due = tick_time(due_tick(when));
			uint64_t now = ORIGIN, nd;
			int steps = 0, before = n;

			callout_wheel_init(&cw, TICK, ORIGIN);
			callout_init(&c);
			callout_reset_at(&cw, &c, when, count_fn, &n);
			/* Parked in the farthest top-level slot. */
			CHECK_EQ(c.c_bucket >> 12, UST_CALLOUT_LEVELS - 1);
			CHECK_EQ(c.c_bucket & 0xfff, CALLOUT_LN_SLOTS - 1);
			if (mode == 0) {
				CHECK_EQ(callout_process(&cw, due - 1), 0);
				CHECK_EQ(n, before);
				CHECK_EQ(callout_next_deadline(&cw), due);
				CHECK_EQ(callout_process(&cw, due), 1);
			} else {
				while ((nd = callout_next_deadline(&cw)) != UINT64_MAX) {
					CHECK(nd <= due);
					now = nd > now ? nd : now;
					callout_process(&cw, now);
					REQUIRE(++steps < 100000);
				}
				CHECK_EQ(now, due);
			}
			CHECK_EQ(n, before + 1);
		}
	}
}

/* A periodic timer re-arming itself from its own function, drift-free. */
struct periodic {
	struct callout_wheel *cw;
	struct callout c;
	uint64_t *now;
	uint64_t due;
	uint64_t period;
	uint64_t n;
	uint64_t early;
	uint64_t bad_flags;
};

static void
periodic_fn(void *arg)
{
	struct periodic *p = arg;

	if (*p->now < p->due)
		p->early++;
	if (callout_pending(&p->c) || !callout_active(&p->c))
		p->bad_flags++;
	p->n++;
	p->due += p->period;
	callout_reset_at(p->cw, &p->c, p->due, periodic_fn, p);
}

TEST(periodic_self_rearm_long_run)
{
	struct callout_wheel cw;
	struct periodic p;
	struct ust_rng rng;
	uint64_t now = ORIGIN, end = ORIGIN + HOUR;

	callout_wheel_init(&cw, TICK, ORIGIN);
	memset(&p, 0, sizeof(p));
	p.cw = &cw;
	p.now = &now;
	p.period = 100 * MS;
	p.due = ORIGIN + p.period;
	callout_init(&p.c);
	callout_reset_at(&cw, &p.c, p.due, periodic_fn, &p);
	ust_rng_seed(&rng, ust_test_seed);
	/* Irregular polling, from sub-tick to 5 s steps. */
	while (now < end) {
		uint64_t step = ust_rng_uniform(&rng, 5000) * MS + ust_rng_uniform(&rng, 1000000);

		now = now + step > end ? end : now + step;
		callout_process(&cw, now);
	}
	CHECK_EQ(p.n, 36000);
	CHECK_EQ(p.early, 0);
	CHECK_EQ(p.bad_flags, 0);
	/* Two hours in one call: every period runs, in that call. */
	now = end + 2 * HOUR;
	CHECK_EQ(callout_process(&cw, now), 72000);
	CHECK_EQ(p.n, 108000);
	CHECK_EQ(p.early, 0);
	CHECK_EQ(cw.cw_fired, 108000);
	CHECK_EQ(cw.cw_pending, 1);
	CHECK_EQ(callout_next_deadline(&cw), now + p.period);
}

/* A callout that acts on others when it runs. */
struct actor {
	struct callout_wheel *cw;
	struct callout c;
	struct callout *victim; /* stopped */
	struct callout *moved;  /* re-armed to moved_to */
	uint64_t moved_to;
	int stop_ret, self_stop_ret, n;
	struct order_log *log;
};

static void
actor_fn(void *arg)
{
	struct actor *a = arg;

	a->n++;
	if (a->victim != NULL)
		a->stop_ret = callout_stop(a->cw, a->victim);
	if (a->moved != NULL)
		callout_reset_at(a->cw, a->moved, a->moved_to, log_fn, a->moved);
	a->self_stop_ret = callout_stop(a->cw, &a->c);
}

TEST(callout_stops_or_moves_another_due_in_same_pass)
{
	struct callout_wheel cw;
	struct actor a;
	struct tagged same, later, moved, bystander;
	struct order_log log;

	callout_wheel_init(&cw, TICK, ORIGIN);
	memset(&a, 0, sizeof(a));
	memset(&log, 0, sizeof(log));
	a.cw = &cw;
	callout_init(&a.c);
	same = (struct tagged){ .log = &log, .id = 1 };
	later = (struct tagged){ .log = &log, .id = 2 };
	moved = (struct tagged){ .log = &log, .id = 3 };
	bystander = (struct tagged){ .log = &log, .id = 4 };
	callout_init(&same.c);
	callout_init(&later.c);
	callout_init(&moved.c);
	callout_init(&bystander.c);

	/* actor, then `same` in the same tick; `later` and `moved` due later
	 * in the same pass; `bystander` last. */
	callout_reset_at(&cw, &a.c, ORIGIN + 10 * MS, actor_fn, &a);
	callout_reset_at(&cw, &same.c, ORIGIN + 10 * MS, log_fn, &same);
	callout_reset_at(&cw, &later.c, ORIGIN + 20 * SEC, log_fn, &later);
	callout_reset_at(&cw, &moved.c, ORIGIN + 10 * MS, log_fn, &moved);
	callout_reset_at(&cw, &bystander.c, ORIGIN + 30 * SEC, log_fn, &bystander);
	a.victim = &same.c;
	a.moved = &moved.c;
	a.moved_to = ORIGIN + 40 * SEC;
	CHECK_EQ(callout_process(&cw, ORIGIN + 35 * SEC), 3);
	CHECK_EQ(a.n, 1);
	CHECK_EQ(a.stop_ret, 1);
	CHECK_EQ(a.self_stop_ret, 0);
	CHECK(!callout_active(&a.c));
	REQUIRE_EQ(log.n, 2);
	CHECK_EQ(log.ids[0], 2);
	CHECK_EQ(log.ids[1], 4);
	CHECK(!callout_pending(&same.c) && !callout_active(&same.c));
	CHECK(callout_pending(&moved.c));
	CHECK_EQ(callout_process(&cw, ORIGIN + 40 * SEC), 1);
	CHECK_EQ(log.ids[2], 3);

	/* The victim due in a later tick of the same pass. */
	callout_reset_at(&cw, &a.c, ORIGIN + 41 * SEC, actor_fn, &a);
	callout_reset_at(&cw, &later.c, ORIGIN + 50 * SEC, log_fn, &later);
	a.victim = &later.c;
	a.moved = NULL;
	CHECK_EQ(callout_process(&cw, ORIGIN + 60 * SEC), 1);
	CHECK_EQ(a.stop_ret, 1);
	CHECK_EQ(log.n, 3);
	CHECK_EQ(cw.cw_pending, 0);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
}

/* Arms a callout for a time already past, from its function. */
struct past_armer {
	struct callout_wheel *cw;
	struct callout c;
	struct tagged *target;
	struct order_log *log;
};

static void
past_armer_fn(void *arg)
{
	struct past_armer *p = arg;

	p->log->ids[p->log->n++] = 0;
	callout_reset_at(p->cw, &p->target->c, ORIGIN + 1 * MS, log_fn, p->target);
}

TEST(callout_arms_overdue_callout_mid_pass)
{
	struct callout_wheel cw;
	struct past_armer p;
	struct tagged overdue, b;
	struct order_log log;

	callout_wheel_init(&cw, TICK, ORIGIN);
	memset(&log, 0, sizeof(log));
	p = (struct past_armer){ .cw = &cw, .target = &overdue, .log = &log };
	overdue = (struct tagged){ .log = &log, .id = 1 };
	b = (struct tagged){ .log = &log, .id = 2 };
	callout_init(&p.c);
	callout_init(&overdue.c);
	callout_init(&b.c);
	callout_reset_at(&cw, &p.c, ORIGIN + 10 * MS, past_armer_fn, &p);
	/* b in the same level-0 block: the wheel jumps straight to it. */
	callout_reset_at(&cw, &b.c, ORIGIN + 200 * MS, log_fn, &b);
	/* The overdue one runs in the same pass, before the later-due b. */
	CHECK_EQ(callout_process(&cw, ORIGIN + 6 * SEC), 3);
	REQUIRE_EQ(log.n, 3);
	CHECK_EQ(log.ids[0], 0);
	CHECK_EQ(log.ids[1], 1);
	CHECK_EQ(log.ids[2], 2);
	CHECK_EQ(cw.cw_pending, 0);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
}

TEST(next_deadline_exact_and_lower_bound)
{
	struct callout_wheel cw;
	struct callout near, far;
	int n = 0, steps = 0;
	uint64_t nd, far_when = ORIGIN + 20 * SEC + 500 * MS + 3;

	callout_wheel_init(&cw, TICK, ORIGIN);
	callout_init(&near);
	callout_init(&far);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
	callout_reset_at(&cw, &far, far_when, count_fn, &n);
	nd = callout_next_deadline(&cw);
	/* On an outer level: a lower bound, in the future, not past due. */
	CHECK(nd > ORIGIN);
	CHECK(nd <= tick_time(due_tick(far_when)));
	callout_reset_at(&cw, &near, ORIGIN + 7 * MS + 1, count_fn, &n);
	CHECK_EQ(callout_next_deadline(&cw), ORIGIN + 8 * MS);
	CHECK_EQ(callout_process(&cw, ORIGIN + 8 * MS), 1);
	CHECK_EQ(callout_next_deadline(&cw), nd);
	/* Processing at a lower bound runs nothing and cascades; within a
	 * level count of steps the deadline is exact. */
	while (nd < tick_time(due_tick(far_when))) {
		CHECK_EQ(callout_process(&cw, nd), 0);
		REQUIRE(++steps < UST_CALLOUT_LEVELS);
		nd = callout_next_deadline(&cw);
		CHECK(nd <= tick_time(due_tick(far_when)));
	}
	CHECK(steps >= 1);
	CHECK_EQ(callout_process(&cw, nd), 1);
	CHECK_EQ(n, 2);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
	/* Stopping the only callout empties the deadline. */
	callout_reset_at(&cw, &far, ORIGIN + 5 * HOUR, count_fn, &n);
	CHECK(callout_next_deadline(&cw) <= ORIGIN + 5 * HOUR);
	callout_stop(&cw, &far);
	CHECK_EQ(callout_next_deadline(&cw), UINT64_MAX);
}

/* A simulation loop over random callouts: each fires once, in time
 * order, never early, at most a tick late, and the loop never stalls. */
struct sim_item {
	struct callout c;
	struct sim_ctx *x;
	uint64_t when;
	int fired;
};

struct sim_ctx {
	uint64_t now;
	uint64_t last_tick;
	int early, late, order, dup;
};

static void
sim_fn(void *arg)
{
	struct sim_item *it = arg;
	struct sim_ctx *x = it->x;

	if (it->fired++)
		x->dup++;
	if (x->now < it->when)
		x->early++;
	if (x->now - it->when >= TICK)
		x->late++;
	if (due_tick(it->when) < x->last_tick)
		x->order++;
	x->last_tick = due_tick(it->when);
}

TEST(next_deadline_drives_simulation)
{
	enum { N = 5000 };
	struct callout_wheel cw;
	struct sim_ctx x;
	struct sim_item *it = calloc(N, sizeof(*it));
	struct ust_rng rng;
	uint64_t nd, steps = 0;
	int i, fired = 0;

	REQUIRE(it != NULL);
	memset(&x, 0, sizeof(x));
	x.now = ORIGIN;
	callout_wheel_init(&cw, TICK, ORIGIN);
	ust_rng_seed(&rng, ust_test_seed);
	for (i = 0; i < N; i++) {
		/* From sub-millisecond to three days, log-spread. */
		uint32_t e = ust_rng_uniform(&rng, 49);
		uint64_t d = ((uint64_t)1 << e) + ust_rng_u64(&rng) % ((uint64_t)1 << e);

		it[i].x = &x;
		it[i].when = ORIGIN + (d > 3 * 24 * HOUR ? d % (3 * 24 * HOUR) : d);
		callout_init(&it[i].c);
		callout_reset_at(&cw, &it[i].c, it[i].when, sim_fn, &it[i]);
	}
	while ((nd = callout_next_deadline(&cw)) != UINT64_MAX) {
		if (nd > x.now)
			x.now = nd;
		callout_process(&cw, x.now);
		REQUIRE(++steps < 8 * N);
	}
	for (i = 0; i < N; i++)
		fired += it[i].fired;
	CHECK_EQ(fired, N);
	CHECK_EQ(x.early, 0);
	CHECK_EQ(x.late, 0);
	CHECK_EQ(x.order, 0);
	CHECK_EQ(x.dup, 0);
	CHECK_EQ(cw.cw_pending, 0);
	free(it);
}

TEST(huge_jump_with_nanosecond_ticks)
{
	/* At 1 ns per tick two hours are 7.2e12 ticks: only a wheel that
	 * skips empty time finishes this. */
	struct callout_wheel cw;
	struct callout c[5];
	int n = 0, i;
	static const uint64_t when[] = { 1, SEC, HOUR, 2 * HOUR - 1, 2 * HOUR };

	callout_wheel_init(&cw, 1, 0);
	for (i = 0; i < 5; i++) {
		callout_init(&c[i]);
		callout_reset_at(&cw, &c[i], when[i], count_fn, &n);
	}
	CHECK_EQ(callout_process(&cw, 2 * HOUR - 2), 3);
	CHECK_EQ(callout_next_deadline(&cw), 2 * HOUR - 1);
	CHECK_EQ(callout_process(&cw, 2 * HOUR), 2);
	CHECK_EQ(n, 5);
	/* A day further: beyond the wheel's 2^26 ns reach, so it hops round
	 * the top level about 1300 times, still without touching empty ticks. */
	callout_reset_at(&cw, &c[0], 26 * HOUR, count_fn, &n);
	CHECK_EQ(callout_process(&cw, 26 * HOUR - 1), 0);
	CHECK_EQ(callout_process(&cw, 26 * HOUR), 1);
}

/*
 * One million callouts against a model: seeded random delays from 0 to two
 * days (past the wheel's reach), a few in the past; between passes new
 * ones are armed and random ones cancelled or re-armed; from inside
 * callout functions others are stopped, some re-arm themselves and some
 * arm others in the past.  The clock is a plain variable advanced to
 * callout_next_deadline(), sometimes to a random point before it (where
 * nothing may run) and sometimes past it (one pass spans many ticks; the
 * overshoot is the allowed lateness).
 */
#define BIG_N 1000000u
#define BIG_FIRST 500000u

struct big_ctx;

struct big_item {
	struct callout c;
	struct big_ctx *x;
	uint64_t due;    /* model: may not run before this */
	uint8_t pending; /* model */
	uint8_t overdue; /* armed in the past mid-pass: runs
	                               before ones due earlier, no order check */
};

struct big_ctx {
	struct callout_wheel cw;
	struct big_item *it;
	struct ust_rng rng;
	uint64_t now;
	uint64_t slack; /* how far this pass's now overshoots */
	uint64_t last_tick;
	uint64_t expected, fires;
	uint64_t early, late, dup, order, bad_ret, idle_ran;
};

static void big_fn(void *arg);

static uint64_t
big_delay(struct ust_rng *rng)
{
	uint32_t r = ust_rng_uniform(rng, 100);
	uint64_t sub = ust_rng_uniform(rng, (uint32_t)MS);

	if (r < 5)
		return (0);
	if (r < 35)
		return (ust_rng_uniform(rng, (uint32_t)SEC));
	if (r < 60)
		return (ust_rng_uniform(rng, 60000) * MS + sub);
	if (r < 85)
		return (ust_rng_uniform(rng, 3600000) * MS + sub);
	if (r < 95)
		return (ust_rng_uniform(rng, 3 * 3600000) * MS + sub);
	return (ust_rng_uniform(rng, 48 * 3600000) * MS + sub);
}

/*
 * Arms or re-arms it at a random time.  past: 0 never in the past, 1 now
 * and then, 2 always.  Between passes a past time runs first in the next
 * pass; from a callout function it runs on a later tick of the same pass
 * (or first in the next), i.e. before callouts due earlier than the pass's
 * `now`, so it is exempt from the order check.
 */
static void
big_arm(struct big_ctx *x, struct big_item *it, int past)
{
	uint64_t when;
	int ret;

	it->overdue = 0;
	if (x->now > ORIGIN && (past == 2 || (past == 1 && ust_rng_uniform(&x->rng, 100) < 3))) {
		when = x->now - 1 - ust_rng_u64(&x->rng) % (x->now - ORIGIN);
		ret = callout_reset_at(&x->cw, &it->c, when, big_fn, it);
		it->due = x->now;
		it->overdue = (past == 2);
	} else {
		uint64_t d = big_delay(&x->rng);

		ret = callout_reset(&x->cw, &it->c, x->now, d, big_fn, it);
		it->due = x->now + d;
	}
	if (ret != it->pending)
		x->bad_ret++;
	if (it->pending)
		x->expected--; /* superseded */
	it->pending = 1;
	x->expected++;
}

static void
big_stop(struct big_ctx *x, struct big_item *it)
{
	if (callout_stop(&x->cw, &it->c) != it->pending)
		x->bad_ret++;
	if (it->pending)
		x->expected--;
	it->pending = 0;
}

static void
big_fn(void *arg)
{
	struct big_item *it = arg;
	struct big_ctx *x = it->x;
	uint64_t tick = due_tick(it->due);
	uint32_t r;

	if (!it->pending)
		x->dup++;
	it->pending = 0;
	x->fires++;
	if (x->now < it->due)
		x->early++;
	else if (x->now - it->due >= TICK + x->slack)
		x->late++;
	if (!it->overdue) {
		if (tick < x->last_tick)
			x->order++;
		x->last_tick = tick;
	}
	r = ust_rng_uniform(&x->rng, 1000);
	if (r < 10)
		big_stop(x, &x->it[ust_rng_uniform(&x->rng, BIG_N)]);
	else if (r < 30)
		big_arm(x, it, 0);
	else if (r < 35) {
		struct big_item *o = &x->it[ust_rng_uniform(&x->rng, BIG_N)];

		/* Only items already in play, so the arrival order holds. */
		if (o->pending || o->due != 0)
			big_arm(x, o, 2);
	}
}

TEST(million_callouts_random_against_model)
{
	struct big_ctx *x = calloc(1, sizeof(*x));
	uint64_t nd, steps = 0, pend = 0;
	uint32_t next = BIG_FIRST, i, k;

	REQUIRE(x != NULL);
	x->it = calloc(BIG_N, sizeof(*x->it));
	if (x->it == NULL) {
		free(x);
		REQUIRE(0);
	}
	ust_rng_seed(&x->rng, ust_test_seed ^ 0x63616c6c6f7574ull);
	x->now = ORIGIN;
	callout_wheel_init(&x->cw, TICK, ORIGIN);
	for (i = 0; i < BIG_N; i++) {
		x->it[i].x = x;
		callout_init(&x->it[i].c);
	}
	for (i = 0; i < BIG_FIRST; i++)
		big_arm(x, &x->it[i], 1);
	for (;;) {
		nd = callout_next_deadline(&x->cw);
		if (nd == UINT64_MAX && next >= BIG_N)
			break;
		if (nd != UINT64_MAX && nd > x->now) {
			/* Sometimes wake early: nothing may run before nd. */
			if (ust_rng_uniform(&x->rng, 100) < 5) {
				uint64_t t = x->now + ust_rng_u64(&x->rng) % (nd - x->now);

				x->now = t;
				x->idle_ran += callout_process(&x->cw, t);
			}
			x->now = nd;
		}
		/* Sometimes poll late, so that one pass spans many ticks. */
		x->slack = 0;
		if (ust_rng_uniform(&x->rng, 100) < 3) {
			x->slack = ust_rng_uniform(&x->rng, 10000) * MS +
			    ust_rng_uniform(&x->rng, (uint32_t)MS);
			x->now += x->slack;
		}
		x->last_tick = 0;
		callout_process(&x->cw, x->now);
		steps++;
		/* Between passes: new arrivals, cancels, re-arms. */
		if (next < BIG_N && (nd == UINT64_MAX || ust_rng_uniform(&x->rng, 100) < 30))
			for (k = 0; k < 16 && next < BIG_N; k++)
				big_arm(x, &x->it[next++], 1);
		if (ust_rng_uniform(&x->rng, 100) < 20)
			big_stop(x, &x->it[ust_rng_uniform(&x->rng, next)]);
		if (ust_rng_uniform(&x->rng, 100) < 20)
			big_arm(x, &x->it[ust_rng_uniform(&x->rng, next)], 1);
		if (ust_rng_uniform(&x->rng, 100) < 5) {
			struct big_item *it = &x->it[ust_rng_uniform(&x->rng, next)];

			if (callout_pending(&it->c) != (it->pending != 0))
				x->bad_ret++;
		}
		if (steps > 20 * (uint64_t)BIG_N)
			break; /* stalled: reported below */
	}
	for (i = 0; i < BIG_N; i++)
		pend += x->it[i].pending;
	CHECK(steps <= 20 * (uint64_t)BIG_N);
	CHECK_EQ(pend, 0);
	CHECK_EQ(x->fires, x->expected);
	CHECK(x->fires >= BIG_N / 2);
	CHECK_EQ(x->early, 0);
	CHECK_EQ(x->late, 0);
	CHECK_EQ(x->dup, 0);
	CHECK_EQ(x->order, 0);
	CHECK_EQ(x->bad_ret, 0);
	CHECK_EQ(x->idle_ran, 0);
	CHECK_EQ(x->cw.cw_pending, 0);
	CHECK_EQ(x->cw.cw_fired, x->fires);
	free(x->it);
	free(x);
}
