/*
 * test_pipe_lanes_threaded.c - the pipe's lanes with one thread per lane
 * end (ctest label "threaded"; ThreadSanitizer runs it): lanes = 2 and 4,
 * one ordinary stack per lane end on each side, each stack polled by its
 * own thread on the real clock, both directions at once.  Every frame
 * arrives intact, once, in order within its (sending lane, flow), on the
 * lane its Toeplitz hash selects (RSS) or the next one (SPREAD), and the
 * summed and per-lane counters agree.  With the doorbells (notify) the
 * threads sleep in poll(2) on their lane end's descriptor whenever they
 * have nothing to do, as a group's threads do: no wake-up is lost (a lost
 * one shows as a 5-second sleep with frames still to come).
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_pipe.h>

#include "test_env.h"

#include "pipe_lanes.h"

#define NS_PER_MS 1000000ull
#define PER_LANE 6000u   /* frames each lane end sends */
#define WINDOW 192u      /* frames a direction has in flight at most */
#define RING 256u        /* slots per ring: WINDOW always fits one */
#define LIMIT_MS 120000u /* a hung run fails instead of hanging ctest */

struct lthr {
	struct ust_stack *st;
	struct ust_if *ifp;
	struct ust_pipe *p;
	struct lsink *sink;
	unsigned side, lane, lanes;
	unsigned sent;
	atomic_uint *received; /* frames received by every lane of both sides */
	unsigned total;        /* what *received reaches when all is done */
	unsigned expect;       /* frames this lane end receives (sleep mode) */
	int sleep;             /* sleep on the doorbell instead of spinning */
	int fd;
	unsigned sleeps, long_sleeps;
	int timed_out;
	pthread_t tid;
};

static struct ust_stack *
mono_stack_new(uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = seed;
	if (ust_stack_create(&cfg, &st) != 0)
		abort();
	return (st);
}

static void *
lane_main(void *arg)
{
	struct lthr *t = arg;
	struct ust_pipe_stats ps;
	uint64_t deadline = ust_osal_clock_ns() + LIMIT_MS * NS_PER_MS;
	uint8_t f[LEN_MAX];
	unsigned seen = 0, fl;
	size_t len;

	for (;;) {
		int blocked = 0;

		if (t->sent < PER_LANE) {
			/* A link drops when a ring is full (it does not push
			 * back), so keep the direction's frames in flight under
			 * one ring, as a transport's window would. */
			ust_pipe_get_stats(t->p, (int)t->side, &ps);
			blocked = ps.sent - ps.delivered >= WINDOW;
			if (!blocked) {
				fl = t->sent % FLOWS;
				len = frame_build(f, fl, t->lane, t->sent / FLOWS,
				    60 + (t->sent * 7) % 400);
				if (ust_if_output_frame(t->ifp, f, len) == 0)
					t->sent++;
			}
		}
		ust_stack_poll(t->st);
		if (t->sink->n != seen) {
			atomic_fetch_add_explicit(t->received, t->sink->n - seen,
			    memory_order_relaxed);
			seen = t->sink->n;
		}
		if (t->sleep ? t->sent == PER_LANE && t->sink->n >= t->expect :
		               t->sent == PER_LANE &&
		            atomic_load_explicit(t->received, memory_order_relaxed) >= t->total)
			break;
		if (t->sleep && (t->sent == PER_LANE || blocked)) {
			/* Nothing to do: sleep as a group's thread does, until
			 * the doorbell, the stack's next deadline, or (blocked
			 * on the window, which has no descriptor) 1 ms. */
			uint64_t dl = ust_stack_next_deadline(t->st), now = ust_osal_clock_ns();
			struct pollfd pfd = { .fd = t->fd, .events = POLLIN, .revents = 0 };
			int ms = 5000;

			if (blocked)
				ms = 1;
			else if (dl <= now)
				ms = 0;
			else if (dl != UINT64_MAX && (dl - now) / NS_PER_MS < 5000)
				ms = (int)((dl - now) / NS_PER_MS) + 1;
			if (ms > 0) {
				t->sleeps++;
				if (poll(&pfd, 1, ms) == 0 && ms == 5000)
					t->long_sleeps++;
			}
		}
		if (ust_osal_clock_ns() > deadline) {
			t->timed_out = 1;
			break;
		}
	}
	return (NULL);
}

/* The frames receiving lane l of a side gets from the other side's
 * lanes, as lane_main sends them. */
static unsigned
expected_on(unsigned lanes, int steer, unsigned l)
{
	uint8_t f[LEN_MAX];
	uint32_t hash;
	unsigned t, i, q, n = 0;
	size_t len;

	for (t = 0; t < lanes; t++)
		for (i = 0; i < PER_LANE; i++) {
			len = frame_build(f, i % FLOWS, t, i / FLOWS, 60 + (i * 7) % 400);
			(void)ust_rss_hash_frame(test_key, f, len, &hash);
			q = ust_rss_queue(hash, lanes);
			if (steer == UST_PIPE_STEER_SPREAD)
				q = (q + 1) % lanes;
			else if (steer == UST_PIPE_STEER_SAME)
				q = t;
			n += q == l;
		}
	return (n);
}

static void
threaded_case(unsigned lanes, int steer, int sleep)
{
	struct ust_pipe_config cfg;
	struct ust_pipe_stats ps, ls;
	struct lthr thr[2][LANES_MAX];
	struct lsink *sinks;
	struct ust_pipe *p;
	atomic_uint received;
	unsigned side, l, t, n, want = lanes * PER_LANE;

	ust_rss_default_key(test_key);
	sinks = calloc(2 * LANES_MAX, sizeof(*sinks));
	REQUIRE(sinks != NULL);
	ust_pipe_config_init(&cfg); /* the real monotonic clock */
	cfg.lanes = lanes;
	cfg.steer = steer;
	cfg.ring_size = RING;
	cfg.notify = sleep;
	REQUIRE_EQ(ust_pipe_create(&cfg, &p), 0);
	atomic_init(&received, 0);
	memset(thr, 0, sizeof(thr));
	for (side = 0; side < 2; side++)
		for (l = 0; l < lanes; l++) {
			struct lthr *th = &thr[side][l];
			struct lsink *s = &sinks[side * LANES_MAX + l];

			th->st = mono_stack_new(ust_test_seed + side * 16 + l);
			th->p = p;
			th->side = side;
			th->lane = l;
			th->lanes = lanes;
			th->sink = s;
			th->received = &received;
			th->total = 2 * want;
			th->sleep = sleep;
			th->expect = expected_on(lanes, steer, l);
			th->fd = ust_pipe_ops()->get_fd(ust_pipe_lane_end(p, (int)side, l));
			CHECK(sleep ? th->fd >= 0 : th->fd == -1);
			s->lane = l;
			s->lanes = lanes;
			s->steer = steer;
			s->marked = lanes > 1;
			REQUIRE_EQ(ust_if_attach(th->st, "p0", ust_pipe_ops(),
			               ust_pipe_lane_end(p, (int)side, l), &th->ifp),
			    0);
			ust_if_set_input_hook(th->ifp, lsink_input, s);
		}
	for (side = 0; side < 2; side++)
		for (l = 0; l < lanes; l++)
			REQUIRE_EQ(pthread_create(&thr[side][l].tid, NULL, lane_main,
			               &thr[side][l]),
			    0);
	for (side = 0; side < 2; side++)
		for (l = 0; l < lanes; l++)
			pthread_join(thr[side][l].tid, NULL);

	for (side = 0; side < 2; side++) {
		/* What side `side` received, from the other side's lanes. */
		unsigned from[LANES_MAX] = { 0 }, lanes_used = 0;

		n = 0;
		for (l = 0; l < lanes; l++) {
			struct lsink *s = &sinks[side * LANES_MAX + l];

			CHECK(!thr[side][l].timed_out);
			CHECK_EQ(thr[side][l].long_sleeps, 0);
			CHECK_EQ(s->n, thr[side][l].expect);
			CHECK_EQ(thr[side][l].sent, PER_LANE);
			CHECK_EQ(s->bad, 0);
			CHECK_EQ(s->wrong_lane, 0);
			CHECK_EQ(s->wrong_mark, 0);
			CHECK_EQ(s->out_of_order, 0);
			n += s->n;
			lanes_used += s->n > 0;
			for (t = 0; t < lanes; t++)
				from[t] += s->from[t];
		}
		CHECK_EQ(n, want);
		CHECK_EQ(lanes_used, lanes);
		for (t = 0; t < lanes; t++)
			CHECK_EQ(from[t], PER_LANE);
		/* The direction towards `side`. */
		ust_pipe_get_stats(p, side == UST_PIPE_B ? UST_PIPE_A_TO_B : UST_PIPE_B_TO_A, &ps);
		CHECK_EQ(ps.sent, want);
		CHECK_EQ(ps.delivered, want);
		CHECK_EQ(ps.dropped_queue, 0);
		CHECK_EQ(ps.dropped_nombuf, 0);
		for (l = 0; l < lanes; l++) {
			CHECK_EQ(ust_pipe_get_lane_stats(p,
			             side == UST_PIPE_B ? UST_PIPE_A_TO_B : UST_PIPE_B_TO_A, l,
			             &ls),
			    0);
			CHECK_EQ(ls.sent, PER_LANE);
			CHECK_EQ(ls.delivered, sinks[side * LANES_MAX + l].n);
		}
	}
	if (sleep) {
		unsigned sleeps = 0;

		for (side = 0; side < 2; side++)
			for (l = 0; l < lanes; l++)
				sleeps += thr[side][l].sleeps;
		CHECK(sleeps > 0);
	}
	for (side = 0; side < 2; side++)
		for (l = 0; l < lanes; l++)
			test_stack_free(thr[side][l].st);
	ust_pipe_destroy(p);
	free(sinks);
}

TEST(pipe_lanes2_threads_rss)
{
	threaded_case(2, UST_PIPE_STEER_RSS, 0);
}

TEST(pipe_lanes4_threads_rss)
{
	threaded_case(4, UST_PIPE_STEER_RSS, 0);
}

TEST(pipe_lanes2_threads_spread)
{
	threaded_case(2, UST_PIPE_STEER_SPREAD, 0);
}

/* Threads that sleep on the doorbells. */
TEST(pipe_lanes2_threads_sleep_rss)
{
	threaded_case(2, UST_PIPE_STEER_RSS, 1);
}

TEST(pipe_lanes4_threads_sleep_spread)
{
	threaded_case(4, UST_PIPE_STEER_SPREAD, 1);
}

/* One lane: the plain pipe's two ends, each thread asleep when idle. */
TEST(pipe_one_lane_threads_sleep)
{
	threaded_case(1, UST_PIPE_STEER_RSS, 1);
}
