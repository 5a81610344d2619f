/*
 * test_pipe_group_thread.c - the pipe's lanes under groups whose stacks
 * run on threads of their own (ctest label "threaded"; ThreadSanitizer
 * runs it): the pipe with doorbells (notify), so an idle stack thread
 * sleeps on its lane end's descriptor, and every frame a peer thread sends
 * wakes it.  TCP from each stack of group b to group a, driven by the
 * application through ust_stack_exec, the stack lock and
 * ust_socket_wait; bytes intact both ways; RSS lanes: nothing re-steered,
 * SPREAD: every segment handed over between threads.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_pipe.h>

#include "test_env.h"

#include "pipe_group.h"

#if UST_SMP
struct cmd {
	struct pgrig *r;
	unsigned k;
	uint16_t lport;
	struct ust_socket *so;
};

static int
do_listen(struct ust_stack *st, void *arg)
{
	struct cmd *c = arg;

	c->so = pg_listen(st, c->r->ipa);
	return (c->so != NULL ? 0 : -1);
}

static int
do_connect(struct ust_stack *st, void *arg)
{
	struct cmd *c = arg;

	c->so = pg_connect(st, c->r->ipb, c->lport, c->r->ipa);
	return (c->so != NULL ? 0 : -1);
}

static int
do_close(struct ust_stack *st, void *arg)
{
	struct cmd *c = arg;

	(void)st;
	if (c->so != NULL)
		ust_close(c->so);
	c->so = NULL;
	return (0);
}

/* Sends buf from `from` (stack fst) to `to` (stack tst) with the stack
 * locks and ust_socket_wait only; the bytes that arrived intact. */
static size_t
stream(struct ust_stack *fst, struct ust_socket *from, struct ust_stack *tst, struct ust_socket *to,
    const uint8_t *buf, size_t len)
{
	static uint8_t in[65536];
	uint64_t end = ust_osal_clock_ns() + 60 * TL_NS_S;
	size_t sent = 0, got = 0;
	uint32_t rev;
	ptrdiff_t k;

	while (got < len && ust_osal_clock_ns() < end) {
		if (sent < len) {
			ust_stack_lock(fst);
			while (sent < len && (k = ust_send(from, buf + sent, len - sent, 0)) > 0)
				sent += (size_t)k;
			ust_stack_unlock(fst);
		}
		if (ust_socket_wait(to, UST_EV_IN, 20 * 1000 * 1000, &rev) < 0)
			return (got);
		ust_stack_lock(tst);
		while ((k = ust_recv(to, in, sizeof(in), 0)) > 0) {
			if (memcmp(in, buf + got, (size_t)k) != 0) {
				ust_stack_unlock(tst);
				return (got);
			}
			got += (size_t)k;
		}
		ust_stack_unlock(tst);
	}
	return (got);
}

/* Accepts on a's listeners until it has the peer of b's port lport. */
static struct ust_socket *
accept_peer(struct pgrig *r, struct cmd *ls, uint16_t lport, unsigned *on)
{
	uint64_t end = ust_osal_clock_ns() + 10 * TL_NS_S;
	struct ust_sockaddr_in pe;
	struct ust_socket *s;
	ust_socklen_t len;
	uint32_t rev;
	unsigned i;

	while (ust_osal_clock_ns() < end) {
		for (i = 0; i < r->n; i++) {
			struct ust_stack *st = ust_group_stack(r->a, i);

			if (ust_socket_wait(ls[i].so, UST_EV_IN, 1000 * 1000, &rev) != 1)
				continue;
			ust_stack_lock(st);
			if (ust_accept(ls[i].so, &s, NULL, NULL) == 0) {
				len = sizeof(pe);
				if (ust_getpeername(s, (struct ust_sockaddr *)&pe, &len) == 0 &&
				    pe.sin_port == tl_hton16(lport)) {
					ust_stack_unlock(st);
					*on = i;
					return (s);
				}
				ust_close(s); /* not ours: cannot happen */
			}
			ust_stack_unlock(st);
		}
	}
	return (NULL);
}

static void
tcp_threads(unsigned n, int steer, struct ust_group_stats *sa, struct ust_group_stats *sb)
{
	static uint8_t buf[200000];
	struct pgrig r;
	struct cmd ls[PG_MAXN], cl;
	struct ust_socket *s;
	unsigned i, k, on;

	REQUIRE_EQ(pg_open(&r, n, steer, 1, 1), 0);
	for (i = 0; i < n; i++) {
		ls[i].r = &r;
		REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.a, i), do_listen, &ls[i]), 0);
	}
	for (k = 0; k < n; k++) {
		struct ust_stack *bst = ust_group_stack(r.b, k);

		cl.r = &r;
		cl.lport = pg_port_for(&r, k, (uint16_t)(20000 + 1000 * k));
		REQUIRE(cl.lport != 0);
		REQUIRE_EQ(ust_stack_exec(bst, do_connect, &cl), 0);
		s = accept_peer(&r, ls, cl.lport, &on);
		REQUIRE(s != NULL);
		/* Accepted by the stack that owns the flow. */
		CHECK_EQ(on, pg_owner(n, r.ipb, r.ipa, cl.lport, PG_PORT));
		tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + k);
		CHECK_EQ(stream(bst, cl.so, ust_group_stack(r.a, on), s, buf, sizeof(buf)),
		    sizeof(buf));
		tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + 100 + k);
		CHECK_EQ(stream(ust_group_stack(r.a, on), s, bst, cl.so, buf, sizeof(buf)),
		    sizeof(buf));
		ust_stack_lock(ust_group_stack(r.a, on));
		ust_close(s);
		ust_stack_unlock(ust_group_stack(r.a, on));
		REQUIRE_EQ(ust_stack_exec(bst, do_close, &cl), 0);
	}
	for (i = 0; i < n; i++)
		REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.a, i), do_close, &ls[i]), 0);
	/* The closes' last segments may still be on their way between two
	 * threads: wait (a little) until every hand-off has arrived. */
	for (i = 0; i < 200; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		ust_group_get_stats(r.a, UST_GROUP_ALL, sa);
		ust_group_get_stats(r.b, UST_GROUP_ALL, sb);
		if (sa->rss_steered_in == sa->rss_steered_out &&
		    sb->rss_steered_in == sb->rss_steered_out)
			break;
		nanosleep(&ts, NULL);
	}
	{
		struct ust_pipe_stats ps[2];

		/* Full segments crossed lent both ways (pipe_group.h). */
		ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps[0]);
		ust_pipe_get_stats(r.p, UST_PIPE_B_TO_A, &ps[1]);
		CHECK(ps[0].lent > 0 && ps[1].lent > 0);
	}
	pg_close(&r);
}

TEST(pipe_group2_threads_rss)
{
	struct ust_group_stats sa, sb;

	tcp_threads(2, UST_PIPE_STEER_RSS, &sa, &sb);
	CHECK(sa.rss_local > 2 * 140);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
	/* The threads slept on the doorbells and were woken. */
	CHECK(sa.sleeps > 0 && sa.wakeups > 0);
	CHECK(sb.sleeps > 0 && sb.wakeups > 0);
}

TEST(pipe_group2_threads_spread)
{
	struct ust_group_stats sa, sb;

	tcp_threads(2, UST_PIPE_STEER_SPREAD, &sa, &sb);
	CHECK(sa.rss_steered_out > 2 * 140);
	CHECK(sb.rss_steered_out > 2 * 140);
	CHECK_EQ(sa.rss_steered_in, sa.rss_steered_out);
	CHECK_EQ(sb.rss_steered_in, sb.rss_steered_out);
	CHECK_EQ(sa.rss_ring_full + sb.rss_ring_full, 0);
}

TEST(pipe_group4_threads_rss)
{
	struct ust_group_stats sa, sb;

	tcp_threads(4, UST_PIPE_STEER_RSS, &sa, &sb);
	CHECK(sa.rss_local > 4 * 140);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
}
#endif
