/*
 * test_pipe_lanes.c - the pipe with lanes (ustack_pipe.h, many cores):
 * one ordinary stack per lane end on each side, all polled from one
 * thread on a virtual clock.  UDP and TCP flows over IPv4 and IPv6 sent
 * from every lane arrive intact on the lane their Toeplitz hash selects
 * (UST_PIPE_STEER_RSS, marked with that hash), on the lane they were sent
 * from (SAME), or on the next lane (SPREAD); faults and delay apply per
 * lane; per-lane and summed counters; detach with frames in flight; a
 * one-lane pipe neither hashes nor marks.
 *
 * Frames go out with ust_if_output_frame() and are taken by an input hook
 * on each receiving lane that checks them and consumes them.
 */
#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include <poll.h>

#include "test_env.h"

#define NS_PER_MS 1000000ull
#define T0 (1000 * NS_PER_MS)

#include "pipe_lanes.h"

static void
lrig_init(struct lrig *r, struct ust_pipe_config *cfg, uint64_t seed)
{
	unsigned side, l;

	memset(r, 0, sizeof(*r));
	ust_rss_default_key(test_key);
	r->vc = ust_vclock_create(T0);
	r->lanes = cfg->lanes;
	cfg->clock = ust_vclock_clock(r->vc);
	if (ust_pipe_create(cfg, &r->p) != 0)
		abort();
	for (side = 0; side < 2; side++)
		for (l = 0; l < r->lanes; l++) {
			struct lsink *s = &r->sink[side][l];

			r->st[side][l] = test_stack_new(r->vc, seed + side * 16 + l);
			if (ust_if_attach(r->st[side][l], "p0", ust_pipe_ops(),
			        ust_pipe_lane_end(r->p, (int)side, l), &r->ifp[side][l]) != 0)
				abort();
			s->lane = l;
			s->lanes = r->lanes;
			s->steer = cfg->steer;
			s->marked =
			    r->lanes > 1 && cfg->rss_mark && cfg->steer != UST_PIPE_STEER_SAME;
			ust_if_set_input_hook(r->ifp[side][l], lsink_input, s);
		}
}

static void
lrig_fini(struct lrig *r)
{
	unsigned side, l;

	for (side = 0; side < 2; side++)
		for (l = 0; l < r->lanes; l++)
			test_stack_free(r->st[side][l]);
	ust_pipe_destroy(r->p);
	ust_vclock_destroy(r->vc);
}

static void
lrig_run(struct lrig *r, uint64_t dt)
{
	struct ust_stack *s[2 * LANES_MAX];
	unsigned side, l, n = 0;

	for (side = 0; side < 2; side++)
		for (l = 0; l < r->lanes; l++)
			s[n++] = r->st[side][l];
	tl_run(r->vc, s, (int)n, dt);
}

/* Every lane of `side` sends `per` frames of every flow. */
static void
lrig_send(struct lrig *r, unsigned side, unsigned per, size_t paylen)
{
	uint8_t f[LEN_MAX];
	unsigned l, fl, i;
	size_t len;

	for (l = 0; l < r->lanes; l++)
		for (i = 0; i < per; i++) {
			for (fl = 0; fl < FLOWS; fl++) {
				len = frame_build(f, fl, l, i, paylen + (fl + i) % 32);
				if (ust_if_output_frame(r->ifp[side][l], f, len) != 0) {
					ust_stack_poll(r->st[side][l]);
					CHECK_EQ(ust_if_output_frame(r->ifp[side][l], f, len), 0);
				}
			}
			ust_stack_poll(r->st[side][l]);
		}
}

/* Totals over the receiving side's lanes. */
static void
lrig_check_side(struct lrig *r, unsigned side, unsigned want)
{
	unsigned l, n = 0, fl, lanes_used = 0;
	unsigned flow_lane[FLOWS];

	memset(flow_lane, 0xff, sizeof(flow_lane));
	for (l = 0; l < r->lanes; l++) {
		struct lsink *s = &r->sink[side][l];

		n += s->n;
		CHECK_EQ(s->bad, 0);
		CHECK_EQ(s->wrong_lane, 0);
		CHECK_EQ(s->wrong_mark, 0);
		CHECK_EQ(s->out_of_order, 0);
		if (s->n > 0)
			lanes_used++;
		for (fl = 0; fl < FLOWS; fl++) {
			if (s->per_flow[fl] == 0 || s->steer == UST_PIPE_STEER_SAME)
				continue;
			/* A flow arrives on one lane only. */
			CHECK(flow_lane[fl] == 0xffffffffu || flow_lane[fl] == l);
			flow_lane[fl] = l;
		}
	}
	CHECK_EQ(n, want);
	/* 64 flows spread over every lane. */
	CHECK_EQ(lanes_used, r->lanes);
}

static void
lanes_case(unsigned lanes, int steer, int mark)
{
	struct ust_pipe_config cfg;
	struct ust_pipe_stats ps, ls, sum;
	struct lrig r;
	unsigned l, t, per = 3;
	int dir;

	ust_pipe_config_init(&cfg);
	cfg.lanes = lanes;
	cfg.steer = steer;
	cfg.rss_mark = mark;
	cfg.ring_size = 512;
	lrig_init(&r, &cfg, ust_test_seed);
	CHECK_EQ(ust_pipe_lanes(r.p), lanes);
	lrig_send(&r, UST_PIPE_A, per, 100);
	lrig_send(&r, UST_PIPE_B, per, 900);
	lrig_run(&r, NS_PER_MS);
	lrig_check_side(&r, UST_PIPE_B, lanes * per * FLOWS);
	lrig_check_side(&r, UST_PIPE_A, lanes * per * FLOWS);
	for (t = 0; t < lanes; t++) {
		/* Every sending lane's frames all arrived: on its own lane
		 * only (SAME), or spread over every lane (RSS, SPREAD). */
		unsigned got = 0, reached = 0;

		for (l = 0; l < lanes; l++) {
			got += r.sink[UST_PIPE_B][l].from[t];
			reached += r.sink[UST_PIPE_B][l].from[t] != 0;
		}
		CHECK_EQ(got, per * FLOWS);
		if (steer == UST_PIPE_STEER_SAME)
			CHECK_EQ(r.sink[UST_PIPE_B][t].from[t], per * FLOWS);
		else
			CHECK_EQ(reached, lanes);
	}
	for (dir = 0; dir < 2; dir++) {
		ust_pipe_get_stats(r.p, dir, &ps);
		CHECK_EQ(ps.sent, lanes * per * FLOWS);
		CHECK_EQ(ps.delivered, lanes * per * FLOWS);
		CHECK_EQ(ps.sent_bytes, ps.delivered_bytes);
		memset(&sum, 0, sizeof(sum));
		for (l = 0; l < lanes; l++) {
			CHECK_EQ(ust_pipe_get_lane_stats(r.p, dir, l, &ls), 0);
			CHECK_EQ(ls.sent, per * FLOWS);
			CHECK_EQ(ls.delivered,
			    r.sink[dir == UST_PIPE_A_TO_B ? UST_PIPE_B : UST_PIPE_A][l].n);
			sum.delivered += ls.delivered;
			sum.sent_bytes += ls.sent_bytes;
		}
		CHECK_EQ(sum.delivered, ps.delivered);
		CHECK_EQ(sum.sent_bytes, ps.sent_bytes);
		CHECK_EQ(ust_pipe_get_lane_stats(r.p, dir, lanes, &ls), -UST_EINVAL);
	}
	lrig_fini(&r);
}

TEST(pipe_lanes_defaults)
{
	struct ust_pipe_config cfg;
	struct ust_pipe *p;
	uint8_t key[UST_RSS_KEYLEN];

	ust_pipe_config_init(&cfg);
	ust_rss_default_key(key);
	CHECK_EQ(cfg.lanes, 1);
	CHECK_EQ(cfg.steer, UST_PIPE_STEER_RSS);
	CHECK_EQ(cfg.rss_mark, 1);
	CHECK_MEM(cfg.rss_key, key, UST_RSS_KEYLEN);
	cfg.lanes = 0;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.lanes = UST_PIPE_LANES_MAX + 1;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.lanes = 2;
	cfg.steer = 3;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.steer = UST_PIPE_STEER_SPREAD;
	cfg.ring_size = 64;
	REQUIRE_EQ(ust_pipe_create(&cfg, &p), 0);
	CHECK_EQ(ust_pipe_lanes(p), 2);
	CHECK(ust_pipe_end(p, UST_PIPE_A) == ust_pipe_lane_end(p, UST_PIPE_A, 0));
	CHECK(ust_pipe_lane_end(p, UST_PIPE_B, 1) != NULL);
	CHECK(ust_pipe_lane_end(p, UST_PIPE_B, 1) != ust_pipe_lane_end(p, UST_PIPE_B, 0));
	CHECK(ust_pipe_lane_end(p, UST_PIPE_B, 2) == NULL);
	CHECK(ust_pipe_lane_end(p, 2, 0) == NULL);
	ust_pipe_destroy(p);
	CHECK_EQ(ust_pipe_lanes(NULL), 0);
}

/* lanes = 1: no hash, no mark, whatever steer says. */
TEST(pipe_one_lane_does_not_mark)
{
	lanes_case(1, UST_PIPE_STEER_RSS, 1);
	lanes_case(1, UST_PIPE_STEER_SPREAD, 1);
}

TEST(pipe_lanes2_rss)
{
	lanes_case(2, UST_PIPE_STEER_RSS, 1);
}

TEST(pipe_lanes4_rss)
{
	lanes_case(4, UST_PIPE_STEER_RSS, 1);
}

TEST(pipe_lanes4_rss_unmarked)
{
	lanes_case(4, UST_PIPE_STEER_RSS, 0);
}

TEST(pipe_lanes2_same)
{
	lanes_case(2, UST_PIPE_STEER_SAME, 1);
}

TEST(pipe_lanes2_spread)
{
	lanes_case(2, UST_PIPE_STEER_SPREAD, 1);
}

TEST(pipe_lanes4_spread)
{
	lanes_case(4, UST_PIPE_STEER_SPREAD, 1);
}

/* A direction's delay applies on every lane; next_deadline of each
 * receiving lane says when its frames are due. */
TEST(pipe_lanes_delay_per_lane)
{
	struct ust_pipe_config cfg;
	struct lrig r;
	unsigned l;

	ust_pipe_config_init(&cfg);
	cfg.lanes = 2;
	cfg.ring_size = 256;
	cfg.fault[UST_PIPE_A_TO_B].delay_ns = 3 * NS_PER_MS;
	lrig_init(&r, &cfg, ust_test_seed);
	lrig_send(&r, UST_PIPE_A, 1, 60);
	for (l = 0; l < 2; l++)
		CHECK_EQ(ust_pipe_ops()->next_deadline(ust_pipe_lane_end(r.p, UST_PIPE_B, l)),
		    T0 + 3 * NS_PER_MS);
	lrig_run(&r, 2 * NS_PER_MS);
	CHECK_EQ(r.sink[UST_PIPE_B][0].n + r.sink[UST_PIPE_B][1].n, 0);
	lrig_run(&r, 2 * NS_PER_MS);
	lrig_check_side(&r, UST_PIPE_B, 2 * FLOWS);
	for (l = 0; l < 2; l++) {
		CHECK_EQ(r.sink[UST_PIPE_B][l].last_at, T0 + 3 * NS_PER_MS);
		CHECK_EQ(ust_pipe_ops()->next_deadline(ust_pipe_lane_end(r.p, UST_PIPE_B, l)),
		    UINT64_MAX);
	}
	lrig_fini(&r);
}

/* Loss, duplicates and reordering per sending lane, each lane with its
 * own PRNG: lane 0 of a 2-lane pipe loses exactly the frames a 1-lane
 * pipe with the same seed loses; what arrives is intact and on its lane. */
TEST(pipe_lanes_faults_per_lane)
{
	struct ust_pipe_config cfg;
	struct ust_pipe_stats ps0, ps1, one;
	struct lrig r;
	unsigned n = 0, l;

	ust_pipe_config_init(&cfg);
	cfg.lanes = 1;
	cfg.ring_size = 512;
	cfg.fault[UST_PIPE_A_TO_B].loss_ppm = 100000;
	cfg.fault[UST_PIPE_A_TO_B].seed = ust_test_seed;
	lrig_init(&r, &cfg, ust_test_seed);
	lrig_send(&r, UST_PIPE_A, 4, 60);
	lrig_run(&r, NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &one);
	lrig_fini(&r);

	cfg.lanes = 2;
	lrig_init(&r, &cfg, ust_test_seed);
	lrig_send(&r, UST_PIPE_A, 4, 60);
	lrig_run(&r, NS_PER_MS);
	CHECK_EQ(ust_pipe_get_lane_stats(r.p, UST_PIPE_A_TO_B, 0, &ps0), 0);
	CHECK_EQ(ust_pipe_get_lane_stats(r.p, UST_PIPE_A_TO_B, 1, &ps1), 0);
	CHECK_EQ(ps0.lost, one.lost);
	CHECK(ps1.lost > 0);
	CHECK(ps0.lost > 0);
	for (l = 0; l < 2; l++) {
		n += r.sink[UST_PIPE_B][l].n;
		CHECK_EQ(r.sink[UST_PIPE_B][l].bad, 0);
		CHECK_EQ(r.sink[UST_PIPE_B][l].wrong_lane, 0);
	}
	CHECK_EQ(n, 2 * 4 * FLOWS - ps0.lost - ps1.lost);
	lrig_fini(&r);

	/* Duplicates and reordering: every copy on the flow's lane. */
	cfg.fault[UST_PIPE_A_TO_B].loss_ppm = 0;
	cfg.fault[UST_PIPE_A_TO_B].dup_ppm = 50000;
	cfg.fault[UST_PIPE_A_TO_B].reorder_ppm = 50000;
	lrig_init(&r, &cfg, ust_test_seed);
	lrig_send(&r, UST_PIPE_A, 4, 60);
	lrig_run(&r, 10 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps0);
	CHECK(ps0.duplicated > 0);
	CHECK(ps0.reordered > 0);
	CHECK_EQ(ps0.delivered, ps0.sent + ps0.duplicated);
	n = 0;
	for (l = 0; l < 2; l++) {
		n += r.sink[UST_PIPE_B][l].n;
		CHECK_EQ(r.sink[UST_PIPE_B][l].bad, 0);
		CHECK_EQ(r.sink[UST_PIPE_B][l].wrong_lane, 0);
		CHECK_EQ(r.sink[UST_PIPE_B][l].wrong_mark, 0);
	}
	CHECK_EQ(n, ps0.delivered);
	lrig_fini(&r);
}

/* Detach with frames in flight on every ring, some in the heap (a
 * reordered frame moves its ring into the heap): the stacks' zones come
 * back to zero (test_stack_free checks). */
TEST(pipe_lanes_detach_in_flight)
{
	struct ust_pipe_config cfg;
	struct lrig r;
	unsigned l;

	ust_pipe_config_init(&cfg);
	cfg.lanes = 4;
	cfg.ring_size = 256;
	cfg.fault[UST_PIPE_A_TO_B].delay_ns = 5 * NS_PER_MS;
	cfg.fault[UST_PIPE_A_TO_B].reorder_ppm = 200000;
	cfg.fault[UST_PIPE_A_TO_B].seed = ust_test_seed;
	lrig_init(&r, &cfg, ust_test_seed);
	lrig_send(&r, UST_PIPE_A, 2, 60);
	/* Polls move frames into the heaps, none is due yet. */
	for (l = 0; l < 4; l++)
		ust_stack_poll(r.st[UST_PIPE_B][l]);
	for (l = 0; l < 4; l++)
		CHECK_EQ(r.sink[UST_PIPE_B][l].n, 0);
	/* test_stack_free checks the zones before the stack detaches, so
	 * detach first: pipe_detach must give every mbuf back. */
	for (l = 0; l < 4; l++)
		ust_if_detach(r.ifp[UST_PIPE_B][l]);
	lrig_fini(&r);
}

/* 1 when fd is readable now. */
static int
readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };

	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN));
}

/* The doorbells: a lane end's descriptor becomes readable when a frame
 * reaches its idle rings, a poll clears it, and a sender that finds the
 * receiver still busy with earlier frames does not ring again. */
TEST(pipe_lanes_doorbells)
{
	struct ust_pipe_config cfg;
	struct lrig r;
	uint8_t f[LEN_MAX];
	int fd[2], l, fl;
	size_t len;

	ust_pipe_config_init(&cfg);
	CHECK_EQ(cfg.notify, 0);
	cfg.lanes = 2;
	cfg.ring_size = 256;
	cfg.steer = UST_PIPE_STEER_SAME;
	cfg.notify = 1;
	lrig_init(&r, &cfg, ust_test_seed);
	for (l = 0; l < 2; l++) {
		fd[l] = ust_pipe_ops()->get_fd(ust_pipe_lane_end(r.p, UST_PIPE_B, (unsigned)l));
		REQUIRE(fd[l] >= 0);
		CHECK(fd[l] !=
		    ust_pipe_ops()->get_fd(ust_pipe_lane_end(r.p, UST_PIPE_A, (unsigned)l)));
	}
	CHECK(fd[0] != fd[1]);
	/* Let the stacks' own first frames (if any) go, then start idle. */
	lrig_run(&r, NS_PER_MS);
	for (l = 0; l < 2; l++) {
		ust_stack_poll(r.st[UST_PIPE_B][l]);
		CHECK(!readable(fd[l]));
	}
	/* A frame on lane 0 rings lane 0 only (SAME). */
	len = frame_build(f, 2, 0, 0, 100);
	CHECK_EQ(ust_if_output_frame(r.ifp[UST_PIPE_A][0], f, len), 0);
	ust_stack_poll(r.st[UST_PIPE_A][0]);
	CHECK(readable(fd[0]));
	CHECK(!readable(fd[1]));
	/* Frames behind one not taken yet ring no more (it is readable
	 * already); the poll takes them all and clears it. */
	for (fl = 0; fl < 4; fl++) {
		len = frame_build(f, (unsigned)fl, 0, 1, 100);
		CHECK_EQ(ust_if_output_frame(r.ifp[UST_PIPE_A][0], f, len), 0);
	}
	ust_stack_poll(r.st[UST_PIPE_A][0]);
	CHECK(readable(fd[0]));
	ust_stack_poll(r.st[UST_PIPE_B][0]);
	CHECK_EQ(r.sink[UST_PIPE_B][0].n, 5);
	CHECK(!readable(fd[0]));
	/* Taken all: the next frame rings again. */
	len = frame_build(f, 2, 0, 2, 100);
	CHECK_EQ(ust_if_output_frame(r.ifp[UST_PIPE_A][0], f, len), 0);
	ust_stack_poll(r.st[UST_PIPE_A][0]);
	CHECK(readable(fd[0]));
	ust_stack_poll(r.st[UST_PIPE_B][0]);
	CHECK(!readable(fd[0]));
	CHECK_EQ(r.sink[UST_PIPE_B][0].n, 6);
	/* Lane 1 likewise. */
	len = frame_build(f, 3, 1, 0, 100);
	CHECK_EQ(ust_if_output_frame(r.ifp[UST_PIPE_A][1], f, len), 0);
	ust_stack_poll(r.st[UST_PIPE_A][1]);
	CHECK(readable(fd[1]));
	CHECK(!readable(fd[0]));
	ust_stack_poll(r.st[UST_PIPE_B][1]);
	CHECK(!readable(fd[1]));
	CHECK_EQ(r.sink[UST_PIPE_B][1].n, 1);
	lrig_fini(&r);
}
