/*
 * test_pipe_group.c - the pipe's lanes under groups of stacks (threads 0,
 * one virtual clock): TCP between two groups of 2 and 4 stacks, every
 * byte intact both ways.  UST_PIPE_STEER_RSS delivers every frame on its
 * owner's lane, so nothing is re-steered (rss_steered_out 0), whether the
 * frames carry the pipe's hash or the group hashes them itself;
 * UST_PIPE_STEER_SPREAD delivers every one on the wrong lane, so every
 * TCP segment is handed to its owner (rss_steered_out = rss_steered_in).
 */
#include <ustack/ustack.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>

#include "test_env.h"

#include "pipe_group.h"

#if UST_SMP
/* A connection from each stack of b (its port chosen so that the replies
 * hash back to it, as connect() will do by itself) to a's listeners, 100 KB each way on
 * each; returns a's and b's group counters. */
static void
tcp_each_stack(unsigned n, int steer, int mark, struct ust_group_stats *sa,
    struct ust_group_stats *sb)
{
	static uint8_t buf[100000];
	struct pgrig r;
	struct ust_socket *ls[PG_MAXN], *c[PG_MAXN], *s[PG_MAXN];
	struct ust_pipe_stats ps;
	unsigned i, k, accepted = 0;

	REQUIRE_EQ(pg_open(&r, n, steer, mark, 0), 0);
	for (i = 0; i < n; i++)
		REQUIRE((ls[i] = pg_listen(ust_group_stack(r.a, i), r.ipa)) != NULL);
	for (k = 0; k < n; k++) {
		/* The group does not pick ephemeral ports by hash (yet): a port
		 * whose replies come back to stack k. */
		uint16_t lport = pg_port_for(&r, k, (uint16_t)(20000 + 1000 * k));

		REQUIRE(lport != 0);
		REQUIRE((c[k] = pg_connect(ust_group_stack(r.b, k), r.ipb, lport, r.ipa)) != NULL);
	}
	tl_run(r.vc, r.all, r.nall, 200 * TL_NS_MS);
	for (i = 0; i < n; i++)
		while (accepted < n && ust_accept(ls[i], &s[accepted], NULL, NULL) == 0)
			accepted++;
	REQUIRE_EQ(accepted, n);
	for (k = 0; k < n; k++) {
		/* s[] is in accept order: find c[k]'s peer by its port. */
		struct ust_sockaddr_in cl, pe;
		ust_socklen_t len;
		unsigned j;

		len = sizeof(cl);
		REQUIRE_EQ(ust_getsockname(c[k], (struct ust_sockaddr *)&cl, &len), 0);
		for (j = 0; j < n; j++) {
			len = sizeof(pe);
			if (ust_getpeername(s[j], (struct ust_sockaddr *)&pe, &len) == 0 &&
			    pe.sin_port == cl.sin_port)
				break;
		}
		REQUIRE(j < n);
		tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + k);
		CHECK_EQ(tl_stream(r.vc, r.all, r.nall, c[k], s[j], buf, sizeof(buf), 10 * TL_NS_MS,
		             2000),
		    sizeof(buf));
		tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + 100 + k);
		CHECK_EQ(tl_stream(r.vc, r.all, r.nall, s[j], c[k], buf, sizeof(buf), 10 * TL_NS_MS,
		             2000),
		    sizeof(buf));
	}
	ust_group_get_stats(r.a, UST_GROUP_ALL, sa);
	ust_group_get_stats(r.b, UST_GROUP_ALL, sb);
	for (i = 0; i < 2; i++) {
		ust_pipe_get_stats(r.p, (int)i, &ps);
		CHECK_EQ(ps.delivered, ps.sent);
	}
	for (k = 0; k < n; k++) {
		ust_close(c[k]);
		ust_close(s[k]);
		ust_close(ls[k]);
	}
	tl_run(r.vc, r.all, r.nall, 2 * TL_NS_S);
	pg_close(&r);
}

TEST(pipe_group2_rss_nothing_resteered)
{
	struct ust_group_stats sa, sb;

	tcp_each_stack(2, UST_PIPE_STEER_RSS, 1, &sa, &sb);
	CHECK(sa.rss_local > 2 * 70);
	CHECK(sb.rss_local > 2 * 70);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
	CHECK_EQ(sa.rss_ring_full + sb.rss_ring_full, 0);
}

TEST(pipe_group4_rss_nothing_resteered)
{
	struct ust_group_stats sa, sb;

	tcp_each_stack(4, UST_PIPE_STEER_RSS, 1, &sa, &sb);
	CHECK(sa.rss_local > 4 * 70);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
}

/* Unmarked frames: the group's own hash agrees with the pipe's. */
TEST(pipe_group2_rss_unmarked_nothing_resteered)
{
	struct ust_group_stats sa, sb;

	tcp_each_stack(2, UST_PIPE_STEER_RSS, 0, &sa, &sb);
	CHECK(sa.rss_local > 2 * 70);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
}

TEST(pipe_group2_spread_everything_resteered)
{
	struct ust_group_stats sa, sb;

	tcp_each_stack(2, UST_PIPE_STEER_SPREAD, 1, &sa, &sb);
	/* Every TCP segment came on the wrong lane: 100 KB each way per
	 * connection is at least 70 segments and their ACKs. */
	CHECK(sa.rss_steered_out > 2 * 70);
	CHECK(sb.rss_steered_out > 2 * 70);
	CHECK_EQ(sa.rss_steered_in, sa.rss_steered_out);
	CHECK_EQ(sb.rss_steered_in, sb.rss_steered_out);
	CHECK(sa.rss_local < sa.rss_steered_out / 20);
	CHECK_EQ(sa.rss_ring_full + sb.rss_ring_full, 0);
}

TEST(pipe_group4_spread_unmarked_everything_resteered)
{
	struct ust_group_stats sa, sb;

	tcp_each_stack(4, UST_PIPE_STEER_SPREAD, 0, &sa, &sb);
	CHECK(sa.rss_steered_out > 4 * 70);
	CHECK(sb.rss_steered_out > 4 * 70);
	CHECK_EQ(sa.rss_steered_in, sa.rss_steered_out);
	CHECK(sa.rss_local < sa.rss_steered_out / 20);
}
#endif
