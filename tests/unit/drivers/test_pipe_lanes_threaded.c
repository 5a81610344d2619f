/*
 * test_pipe_lanes_threaded.c - the pipe's lanes with one thread per lane
 * end (ctest label "threaded"; ThreadSanitizer runs it): lanes = 2 and 4,
 * one ordinary stack per lane end on each side, each stack polled by its
 * own thread on the real clock, both directions at once.  Every frame
 * arrives intact, once, in order within its (sending lane, flow), on the
 * lane its Toeplitz hash selects (RSS) or the next one (SPREAD), and the
 * summed and per-lane counters agree.
 */
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
		if (t->sent < PER_LANE) {
			/* A link drops when a ring is full (it does not push
			 * back), so keep the direction's frames in flight under
			 * one ring, as a transport's window would. */
			ust_pipe_get_stats(t->p, (int)t->side, &ps);
			if (ps.sent - ps.delivered < WINDOW) {
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
		if (t->sent == PER_LANE &&
		    atomic_load_explicit(t->received, memory_order_relaxed) >= t->total)
			break;
		if (ust_osal_clock_ns() > deadline) {
			t->timed_out = 1;
			break;
		}
	}
	return (NULL);
}

static void
threaded_case(unsigned lanes, int steer)
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
			s->lane = l;
			s->lanes = lanes;
			s->steer = steer;
			s->marked = 1;
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
	for (side = 0; side < 2; side++)
		for (l = 0; l < lanes; l++)
			test_stack_free(thr[side][l].st);
	ust_pipe_destroy(p);
	free(sinks);
}

TEST(pipe_lanes2_threads_rss)
{
	threaded_case(2, UST_PIPE_STEER_RSS);
}

TEST(pipe_lanes4_threads_rss)
{
	threaded_case(4, UST_PIPE_STEER_RSS);
}

TEST(pipe_lanes2_threads_spread)
{
	threaded_case(2, UST_PIPE_STEER_SPREAD);
}
