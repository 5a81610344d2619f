/*
 * test_group_thread.c - groups of stacks on threads (ctest label
 * "threaded"; run under ThreadSanitizer in build-tsan): start and stop,
 * ust_stack_exec and the stack lock from several application threads
 * against running stack threads, a TCP exchange driven through
 * ust_socket_wait and a group event queue, and a stalled stack (its lock
 * held for a second) while the others keep serving.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>

#include "smp_rig.h"
#include "ust_test.h"

#if UST_SMP
static uint64_t
now_ns(void)
{
	return (ust_osal_clock_ns());
}

TEST(start_stop_threads)
{
	struct ust_group_config gc;
	struct ust_group *g;
	struct ust_group_stats gs;
	unsigned i;

	ust_group_config_init(&gc);
	gc.nstacks = 3;
	gc.pin = 1; /* cpus[i] -1: CPU i modulo those online */
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	CHECK_EQ(ust_stack_threaded(ust_group_stack(g, 0)), 0);
	REQUIRE_EQ(ust_group_start(g), 0);
	CHECK_EQ(ust_group_start(g), -UST_EALREADY);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ust_stack_threaded(ust_group_stack(g, i)), 1);
	ust_group_stop(g);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ust_stack_threaded(ust_group_stack(g, i)), 0);
	ust_group_stop(g); /* twice: nothing */
	REQUIRE_EQ(ust_group_start(g), 0);
	/* Idle threads sleep (nothing to do, nothing due soon). */
	{
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	ust_group_get_stats(g, UST_GROUP_ALL, &gs);
	CHECK(gs.sleeps >= 3);
	ust_group_destroy(g); /* while running */

	/* A CPU that does not exist. */
	gc.cpus[1] = 100000;
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EINVAL);
}

/* Several application threads against two running stacks: commands
 * (ust_stack_exec) and the lock both reach a counter that only the
 * stack's own context touches. */
struct counter {
	long n; /* under the stack's lock, or on its thread */
	int on_thread;
};

struct app {
	struct ust_stack *st;
	struct counter *c;
	int iters;
	_Atomic int bad;
};

static int
bump(struct ust_stack *st, void *arg)
{
	struct counter *c = arg;

	(void)st;
	c->n++;
	return (7);
}

static void *
app_main(void *arg)
{
	struct app *a = arg;
	int i;

	for (i = 0; i < a->iters; i++) {
		if (ust_stack_exec(a->st, bump, a->c) != 7)
			atomic_fetch_add(&a->bad, 1);
		ust_stack_lock(a->st);
		a->c->n++;
		ust_stack_unlock(a->st);
	}
	return (NULL);
}

static void
exec_and_lock(int busy)
{
	struct ust_group_config gc;
	struct ust_group *g;
	struct ust_group_stats gs;
	struct counter c[2] = { { 0, 0 }, { 0, 0 } };
	struct app a[4];
	pthread_t t[4];
	struct mq_dev d;
	int i, iters = 500;

	ust_group_config_init(&gc);
	gc.nstacks = 2;
	gc.busy_poll = busy;
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	mq_init(&d, 2, 1, MQ_RSS);
	REQUIRE_EQ(ust_group_if_attach(g, "mq0", &mq_ops, d.softc, NULL), 0);
	REQUIRE_EQ(ust_group_start(g), 0);
	for (i = 0; i < 4; i++) {
		a[i].st = ust_group_stack(g, (unsigned)i % 2);
		a[i].c = &c[i % 2];
		a[i].iters = iters;
		atomic_init(&a[i].bad, 0);
		REQUIRE_EQ(pthread_create(&t[i], NULL, app_main, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(atomic_load(&a[i].bad), 0);
	}
	ust_group_get_stats(g, UST_GROUP_ALL, &gs);
	CHECK_EQ(gs.exec_calls, 4 * iters);
	/* Read back through the lock: every increment is there. */
	for (i = 0; i < 2; i++) {
		ust_stack_lock(ust_group_stack(g, (unsigned)i));
		CHECK_EQ(c[i].n, 2 * 2 * iters);
		ust_stack_unlock(ust_group_stack(g, (unsigned)i));
	}
	ust_group_stop(g);
	/* Stopped: a command runs at once in the caller. */
	CHECK_EQ(ust_stack_exec(ust_group_stack(g, 0), bump, &c[0]), 7);
	CHECK_EQ(c[0].n, 2 * 2 * iters + 1);
	ust_group_destroy(g);
	mq_fini(&d);
}

TEST(exec_and_lock_from_app_threads)
{
	exec_and_lock(0);
}

/* A spinning thread (busy_poll) steps aside for the application. */
TEST(exec_and_lock_busy_poll)
{
	exec_and_lock(1);
}

/* Commands that make the socket calls of the TCP exchange. */
struct sockcmd {
	struct rig *r;
	unsigned i;
	uint16_t lport;
	struct ust_socket *so;
};

static int
do_listen(struct ust_stack *st, void *arg)
{
	struct sockcmd *sc = arg;

	sc->so = rig_listen(st, sc->r->ipa, RIG_PORT);
	return (sc->so != NULL ? 0 : -1);
}

static int
do_connect(struct ust_stack *st, void *arg)
{
	struct sockcmd *sc = arg;

	sc->so = rig_connect(st, sc->r->ipb, sc->lport, sc->r->ipa, RIG_PORT);
	return (sc->so != NULL ? 0 : -1);
}

/* The application thread's explicit lock, or none: a socket call on a
 * threaded stack then takes the lock itself for the call. */
static int explicit_lock = 1;

static void
app_lock(struct ust_stack *st)
{
	if (explicit_lock)
		ust_stack_lock(st);
}

static void
app_unlock(struct ust_stack *st)
{
	if (explicit_lock)
		ust_stack_unlock(st);
}

/* Sends buf over from (on stack fst) to `to` (on tst) using only the lock
 * (or the calls' own locking) and ust_socket_wait; returns the bytes that
 * arrived intact. */
static size_t
stream_threaded(struct ust_stack *fst, struct ust_socket *from, struct ust_stack *tst,
    struct ust_socket *to, const uint8_t *buf, size_t len, uint64_t limit_ns)
{
	static uint8_t in[65536];
	uint64_t end = now_ns() + limit_ns;
	size_t sent = 0, got = 0;
	uint32_t rev;
	ptrdiff_t k;

	while (got < len && now_ns() < end) {
		if (sent < len) {
			app_lock(fst);
			while (sent < len && (k = ust_send(from, buf + sent, len - sent, 0)) > 0)
				sent += (size_t)k;
			app_unlock(fst);
		}
		if (ust_socket_wait(to, UST_EV_IN, 20 * 1000 * 1000, &rev) < 0)
			return (got);
		app_lock(tst);
		while ((k = ust_recv(to, in, sizeof(in), 0)) > 0) {
			if (memcmp(in, buf + got, (size_t)k) != 0) {
				app_unlock(tst);
				return (got);
			}
			got += (size_t)k;
		}
		app_unlock(tst);
	}
	return (got);
}

static uint16_t
pick_port(const struct rig *r, unsigned na, unsigned qa, unsigned nb, unsigned qb, uint16_t base)
{
	uint16_t p;

	for (p = base; p < base + 5000; p++)
		if (rig_owner(na, r->ipb, r->ipa, p, RIG_PORT) == qa &&
		    rig_owner(nb, r->ipa, r->ipb, RIG_PORT, p) == qb)
			return (p);
	return (0);
}

/* Listeners on every stack of a, one group event queue over them; a
 * client on b's stack 1 whose frames all land on queue 0 of either side. */
static void
tcp_threads_case(void)
{
	static uint8_t buf[400000];
	struct rig r;
	struct sockcmd ls[2], cl;
	struct ust_evq *q;
	struct ust_event ev[4];
	struct ust_socket *s = NULL;
	struct ust_stack *sta;
	struct ust_group_stats ga;
	unsigned i, qa = 1, qb = 1;
	uint32_t rev;
	int n;

	REQUIRE_EQ(rig_open(&r, 2, 2, 1, MQ_QUEUE0, MQ_QUEUE0, 0), 0);
	REQUIRE_EQ(ust_group_evq_create(r.a, &q), 0);
	for (i = 0; i < 2; i++) {
		ls[i].r = &r;
		REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.a, i), do_listen, &ls[i]), 0);
		REQUIRE_EQ(ust_evq_ctl(q, UST_EVQ_ADD, ls[i].so, UST_EV_IN, &ls[i]), 0);
	}
	/* Nothing yet: a wait times out. */
	CHECK_EQ(ust_evq_wait(q, ev, 4, 10 * 1000 * 1000), 0);
	cl.r = &r;
	cl.lport = pick_port(&r, 2, qa, 2, qb, 20000);
	REQUIRE(cl.lport != 0);
	REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.b, qb), do_connect, &cl), 0);
	n = ust_evq_wait(q, ev, 4, 5 * 1000 * 1000 * 1000ll);
	REQUIRE_EQ(n, 1);
	CHECK(ev[0].udata == &ls[qa]);
	CHECK(ev[0].events & UST_EV_IN);
	sta = ust_group_stack(r.a, qa);
	app_lock(sta);
	CHECK_EQ(ust_accept(ls[qa].so, &s, NULL, NULL), 0);
	app_unlock(sta);
	REQUIRE(s != NULL);
	/* The client is connected (writable). */
	CHECK_EQ(ust_socket_wait(cl.so, UST_EV_OUT, 5 * 1000 * 1000 * 1000ll, &rev), 1);
	CHECK(rev & UST_EV_OUT);
	tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed);
	CHECK_EQ(stream_threaded(ust_group_stack(r.b, qb), cl.so, sta, s, buf, sizeof(buf),
	             20 * TL_NS_S),
	    sizeof(buf));
	tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + 1);
	CHECK_EQ(stream_threaded(sta, s, ust_group_stack(r.b, qb), cl.so, buf, sizeof(buf),
	             20 * TL_NS_S),
	    sizeof(buf));
	ust_group_get_stats(r.a, 0, &ga);
	CHECK(ga.rss_steered_out > 200);
	ust_group_get_stats(r.a, UST_GROUP_ALL, &ga);
	CHECK(ga.wakeups > 0);
	ust_evq_destroy(q);
	app_lock(sta);
	ust_close(s);
	app_unlock(sta);
	for (i = 0; i < 2; i++) {
		app_lock(ust_group_stack(r.a, i));
		ust_close(ls[i].so);
		app_unlock(ust_group_stack(r.a, i));
	}
	app_lock(ust_group_stack(r.b, qb));
	ust_close(cl.so);
	app_unlock(ust_group_stack(r.b, qb));
	rig_close(&r);
}

TEST(tcp_threads_group_evq_socket_wait)
{
	explicit_lock = 1;
	tcp_threads_case();
}

/* The same exchange with no ust_stack_lock() in the application: every
 * socket call locks the threaded stack itself (ThreadSanitizer checks). */
TEST(tcp_threads_socket_calls_lock_themselves)
{
	explicit_lock = 0;
	tcp_threads_case();
}

/* Holds a stack's lock for hold_ns (a stack stalled by its application). */
struct staller {
	struct ust_stack *st;
	uint64_t hold_ns;
	_Atomic int held, released;
};

static void *
stall_main(void *arg)
{
	struct staller *s = arg;
	struct timespec ts = { (time_t)(s->hold_ns / 1000000000u),
		(long)(s->hold_ns % 1000000000u) };

	ust_stack_lock(s->st);
	atomic_store(&s->held, 1);
	nanosleep(&ts, NULL);
	atomic_store(&s->released, 1);
	ust_stack_unlock(s->st);
	return (NULL);
}

/* Stack 1 of a is stalled for a second: stack 0 keeps serving its own
 * flow meanwhile, and what it receives for stack 1 is dropped and counted
 * (a small ring), never waited for; stack 1's flow recovers after. */
TEST(stalled_stack_never_stops_the_others)
{
	static uint8_t buf0[200000], buf1[100000];
	struct rig r;
	struct sockcmd ls[2], c0, c1;
	struct ust_socket *s0 = NULL, *s1 = NULL;
	struct ust_stack *a0, *a1, *b0;
	struct ust_group_stats g0;
	struct staller stall;
	pthread_t t;
	uint32_t rev;
	unsigned i;
	size_t sent1 = 0;
	ptrdiff_t k;

	REQUIRE_EQ(rig_open(&r, 2, 1, 1, MQ_QUEUE0, MQ_RSS, 4), 0);
	a0 = ust_group_stack(r.a, 0);
	a1 = ust_group_stack(r.a, 1);
	b0 = ust_group_stack(r.b, 0);
	for (i = 0; i < 2; i++) {
		ls[i].r = &r;
		REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.a, i), do_listen, &ls[i]), 0);
	}
	c0.r = c1.r = &r;
	c0.lport = pick_port(&r, 2, 0, 1, 0, 21000);
	c1.lport = pick_port(&r, 2, 1, 1, 0, 22000);
	REQUIRE(c0.lport != 0 && c1.lport != 0);
	REQUIRE_EQ(ust_stack_exec(b0, do_connect, &c0), 0);
	REQUIRE_EQ(ust_stack_exec(b0, do_connect, &c1), 0);
	CHECK_EQ(ust_socket_wait(ls[0].so, UST_EV_IN, 5 * TL_NS_S, &rev), 1);
	CHECK_EQ(ust_socket_wait(ls[1].so, UST_EV_IN, 5 * TL_NS_S, &rev), 1);
	ust_stack_lock(a0);
	CHECK_EQ(ust_accept(ls[0].so, &s0, NULL, NULL), 0);
	ust_stack_unlock(a0);
	ust_stack_lock(a1);
	CHECK_EQ(ust_accept(ls[1].so, &s1, NULL, NULL), 0);
	ust_stack_unlock(a1);
	REQUIRE(s0 != NULL && s1 != NULL);

	stall.st = a1;
	stall.hold_ns = TL_NS_S;
	atomic_init(&stall.held, 0);
	atomic_init(&stall.released, 0);
	REQUIRE_EQ(pthread_create(&t, NULL, stall_main, &stall), 0);
	while (!atomic_load(&stall.held))
		continue;
	/* Data for the stalled stack's flow: lands on queue 0, handed to
	 * stack 1, whose ring (4) fills. */
	tl_pattern(buf1, sizeof(buf1), 3);
	ust_stack_lock(b0);
	while ((k = ust_send(c1.so, buf1 + sent1, sizeof(buf1) - sent1, 0)) > 0)
		sent1 += (size_t)k;
	ust_stack_unlock(b0);
	/* Stack 0 serves its flow while stack 1 is stalled. */
	tl_pattern(buf0, sizeof(buf0), 2);
	CHECK_EQ(stream_threaded(b0, c0.so, a0, s0, buf0, sizeof(buf0), 20 * TL_NS_S),
	    sizeof(buf0));
	CHECK_EQ(atomic_load(&stall.released), 0); /* done inside the stall */
	ust_group_get_stats(r.a, 0, &g0);
	CHECK(g0.rss_ring_full > 0);
	pthread_join(t, NULL);
	/* Stack 1 is back: its flow recovers what was dropped. */
	{
		static uint8_t in[65536];
		uint64_t end = now_ns() + 30 * TL_NS_S;
		size_t got = 0;
		int ok = 1;

		while (ok && got < sizeof(buf1) && now_ns() < end) {
			ust_stack_lock(b0);
			while ((k = ust_send(c1.so, buf1 + sent1, sizeof(buf1) - sent1, 0)) > 0)
				sent1 += (size_t)k;
			ust_stack_unlock(b0);
			(void)ust_socket_wait(s1, UST_EV_IN, 20 * 1000 * 1000, &rev);
			ust_stack_lock(a1);
			while ((k = ust_recv(s1, in, sizeof(in), 0)) > 0) {
				if (memcmp(in, buf1 + got, (size_t)k) != 0)
					ok = 0;
				got += (size_t)k;
			}
			ust_stack_unlock(a1);
		}
		CHECK(ok);
		CHECK_EQ(got, sizeof(buf1));
	}
	ust_stack_lock(a0);
	ust_close(s0);
	ust_close(ls[0].so);
	ust_stack_unlock(a0);
	ust_stack_lock(a1);
	ust_close(s1);
	ust_close(ls[1].so);
	ust_stack_unlock(a1);
	ust_stack_lock(b0);
	ust_close(c0.so);
	ust_close(c1.so);
	ust_stack_unlock(b0);
	rig_close(&r);
}
/* ust_stack_unlock wakes a sleeping stack thread the caller left work
 * for: a datagram sent under the lock leaves at once, not at the thread's
 * next timer. */
TEST(unlock_wakes_sleeping_thread)
{
	struct rig r;
	struct ust_socket *ua, *ub;
	struct ust_sockaddr_in sa, sb;
	struct ust_stack *a, *b;
	struct ust_group_stats g0, g1;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	uint64_t t0, t1, next;
	uint32_t rev;
	char c = 0;

	REQUIRE_EQ(rig_open(&r, 1, 1, 1, MQ_RSS, MQ_RSS, 0), 0);
	a = ust_group_stack(r.a, 0);
	b = ust_group_stack(r.b, 0);
	sa = tl_sin(r.ipa, 9000);
	sb = tl_sin(r.ipb, 9001);
	ust_stack_lock(a);
	REQUIRE_EQ(ust_socket(a, UST_AF_INET, UST_SOCK_DGRAM, 0, &ua), 0);
	REQUIRE_EQ(ust_bind(ua, (const struct ust_sockaddr *)&sa, sizeof(sa)), 0);
	ust_stack_unlock(a);
	ust_stack_lock(b);
	REQUIRE_EQ(ust_socket(b, UST_AF_INET, UST_SOCK_DGRAM, 0, &ub), 0);
	REQUIRE_EQ(ust_bind(ub, (const struct ust_sockaddr *)&sb, sizeof(sb)), 0);
	ust_stack_unlock(b);
	nanosleep(&ts, NULL); /* both threads idle, asleep */
	ust_group_get_stats(r.a, 0, &g0);
	next = ust_stack_next_deadline(a);
	t0 = now_ns();
	ust_stack_lock(a);
	CHECK_EQ(ust_sendto(ua, "x", 1, 0, (const struct ust_sockaddr *)&sb, sizeof(sb)), 1);
	ust_stack_unlock(a);
	CHECK_EQ(ust_socket_wait(ub, UST_EV_IN, 5 * TL_NS_S, &rev), 1);
	t1 = now_ns();
	ust_group_get_stats(r.a, 0, &g1);
	CHECK(g1.sleeps > 0);
	CHECK(g1.wakeups > g0.wakeups);
	/* Well before the timer the thread slept until (when it is far). */
	if (next > t0 + 300 * TL_NS_MS)
		CHECK(t1 - t0 < 100 * TL_NS_MS);
	ust_stack_lock(b);
	CHECK_EQ(ust_recv(ub, &c, 1, 0), 1);
	CHECK_EQ(c, 'x');
	ust_close(ub);
	ust_stack_unlock(b);
	ust_stack_lock(a);
	ust_close(ua);
	ust_stack_unlock(a);
	rig_close(&r);
}

/* A driver without a descriptor (and no busy_poll): the thread never
 * sleeps past a millisecond, so what arrives is still served. */
TEST(driver_without_fd_still_served)
{
	struct ust_driver_ops nofd = mq_ops;
	struct rig r;
	struct ust_socket *ua, *ub;
	struct ust_sockaddr_in sa, sb;
	struct ust_stack *a, *b;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	uint32_t rev;
	int i;

	nofd.get_fd = NULL;
	rig_ops_a = &nofd;
	REQUIRE_EQ(rig_open(&r, 1, 1, 1, MQ_RSS, MQ_RSS, 0), 0);
	rig_ops_a = NULL;
	a = ust_group_stack(r.a, 0);
	b = ust_group_stack(r.b, 0);
	sa = tl_sin(r.ipa, 9000);
	sb = tl_sin(r.ipb, 9001);
	ust_stack_lock(a);
	REQUIRE_EQ(ust_socket(a, UST_AF_INET, UST_SOCK_DGRAM, 0, &ua), 0);
	REQUIRE_EQ(ust_bind(ua, (const struct ust_sockaddr *)&sa, sizeof(sa)), 0);
	ust_stack_unlock(a);
	ust_stack_lock(b);
	REQUIRE_EQ(ust_socket(b, UST_AF_INET, UST_SOCK_DGRAM, 0, &ub), 0);
	REQUIRE_EQ(ust_bind(ub, (const struct ust_sockaddr *)&sb, sizeof(sb)), 0);
	ust_stack_unlock(b);
	for (i = 0; i < 3; i++) {
		nanosleep(&ts, NULL); /* a asleep */
		ust_stack_lock(b);
		CHECK_EQ(ust_sendto(ub, "y", 1, 0, (const struct ust_sockaddr *)&sa, sizeof(sa)),
		    1);
		ust_stack_unlock(b);
		CHECK_EQ(ust_socket_wait(ua, UST_EV_IN, 2 * TL_NS_S, &rev), 1);
		ust_stack_lock(a);
		CHECK_EQ(ust_recv(ua, &rev, sizeof(rev), 0), 1);
		ust_stack_unlock(a);
	}
	ust_stack_lock(b);
	ust_close(ub);
	ust_stack_unlock(b);
	ust_stack_lock(a);
	ust_close(ua);
	ust_stack_unlock(a);
	rig_close(&r);
}
#endif /* UST_SMP */
