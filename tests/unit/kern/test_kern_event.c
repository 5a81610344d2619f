/*
 * test_kern_event.c - event queues: ADD/MOD/DEL semantics and errors, OUT
 * at once for UDP, IN when a datagram arrives and level-triggered until it
 * is read, ERR on an ICMP error, RDHUP/HUP on shutdown, close and destroy
 * removing registrations, ust_evq_wait on the virtual clock never
 * sleeping, and upcalls.
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in.h"
#include "../netinet/udp_rig.h"

/* The whole file needs event queues (ustack_opts.h). */
#if UST_EVQ

static int tag1, tag2;

TEST(evq_ctl_semantics_and_errors)
{
	struct tl_pair r;
	struct ust_evq *q, *q2;
	struct ust_socket *so, *other;
	struct ust_event ev[4];

	urig_init(&r, ust_test_seed);
	CHECK_EQ(ust_evq_create(r.a, NULL), -UST_EFAULT);
	CHECK_EQ(ust_evq_create(NULL, &q), -UST_EINVAL);
	REQUIRE_EQ(ust_evq_create(r.a, &q), 0);
	REQUIRE_EQ(ust_evq_create(r.a, &q2), 0);
	so = udp_socket(r.a);
	other = udp_socket(r.b);
	REQUIRE(so != NULL && other != NULL);

	CHECK_EQ(ust_evq_ctl(NULL, UST_EVQ_ADD, so, UST_EV_IN, NULL), -UST_EINVAL);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, NULL, UST_EV_IN, NULL), -UST_EBADF);
	CHECK_EQ(ust_evq_ctl(q, 9, so, UST_EV_IN, NULL), -UST_EINVAL);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, so, 0x40000000u, NULL), -UST_EINVAL);
	/* A socket of another stack. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, other, UST_EV_IN, NULL), -UST_EINVAL);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_MOD, so, UST_EV_IN, NULL), -UST_ENOENT);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_DEL, so, 0, NULL), -UST_ENOENT);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, so, UST_EV_IN, &tag1), 0);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, so, UST_EV_IN, &tag1), -UST_EEXIST);
	/* The same socket in a second queue is a separate registration. */
	CHECK_EQ(ust_evq_ctl(q2, UST_EVQ_ADD, so, UST_EV_OUT, &tag2), 0);
	CHECK_EQ(knote_count(r.a), 2);
	/* Nothing to read: IN is not ready. */
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 0), -UST_EINVAL);
	CHECK_EQ(ust_evq_poll(q, NULL, 4), -UST_EFAULT);
	CHECK_EQ(ust_evq_poll(NULL, ev, 4), -UST_EINVAL);
	/* OUT is ready at once for UDP, and stays (level-triggered). */
	CHECK_EQ(ust_evq_poll(q2, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_OUT);
	CHECK(ev[0].udata == &tag2);
	CHECK_EQ(ust_evq_poll(q2, ev, 4), 1);
	/* MOD switches interest and udata. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_MOD, so, UST_EV_IN | UST_EV_OUT, &tag2), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_OUT);
	CHECK(ev[0].udata == &tag2);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_MOD, so, UST_EV_IN, &tag1), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	/* DEL. */
	CHECK_EQ(ust_evq_ctl(q2, UST_EVQ_DEL, so, 0, NULL), 0);
	CHECK_EQ(ust_evq_poll(q2, ev, 4), 0);
	CHECK_EQ(ust_evq_ctl(q2, UST_EVQ_DEL, so, 0, NULL), -UST_ENOENT);
	CHECK_EQ(knote_count(r.a), 1);
	/* Destroying a queue takes its registrations. */
	CHECK_EQ(ust_evq_ctl(q2, UST_EVQ_ADD, so, UST_EV_OUT, NULL), 0);
	ust_evq_destroy(q2);
	CHECK_EQ(knote_count(r.a), 1);
	CHECK(SO_FROM_UST(so)->so_evregs != NULL);
	/* Closing a socket takes its registrations. */
	ust_close(so);
	CHECK_EQ(knote_count(r.a), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	ust_evq_destroy(q);
	ust_evq_destroy(NULL);
	ust_close(other);
	urig_fini(&r);
}

TEST(evq_in_on_datagram_level_triggered)
{
	struct tl_pair r;
	struct ust_evq *q;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	struct ust_event ev[4];
	uint8_t b[64];

	urig_init(&r, ust_test_seed);
	REQUIRE_EQ(ust_evq_create(r.b, &q), 0);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5300);
	REQUIRE(sa != NULL && sb != NULL);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sb, UST_EV_IN, &tag1), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	to = tl_sin(ADDR_B, 5300);
	CHECK_EQ(ust_sendto(sa, "one", 3, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 3);
	CHECK_EQ(ust_sendto(sa, "two", 3, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 3);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_IN);
	CHECK(ev[0].udata == &tag1);
	/* Level-triggered: still reported until read. */
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ust_recv(sb, b, sizeof(b), 0), 3);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ust_recv(sb, b, sizeof(b), 0), 3);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	/* An empty datagram is readable too. */
	CHECK_EQ(ust_sendto(sa, "", 0, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	ust_evq_destroy(q);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

#if UST_ICMP_CTLINPUT
#if UST_ICMP_ERRORS
TEST(evq_err_on_icmp_and_hup_on_shutdown)
{
	struct tl_pair r;
	struct ust_evq *q;
	struct ust_socket *sa;
	struct ust_sockaddr_in to;
	struct ust_event ev[4];

	urig_init(&r, ust_test_seed);
	REQUIRE_EQ(ust_evq_create(r.a, &q), 0);
	sa = udp_socket(r.a);
	to = tl_sin(ADDR_B, 9999);
	CHECK_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	/* Interest in IN only: ERR is reported regardless. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sa, UST_EV_IN, &tag1), 0);
	CHECK_EQ(ust_send(sa, "x", 1, 0), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_ERR);
	CHECK_EQ(getint(sa, UST_SOL_SOCKET, UST_SO_ERROR), UST_ECONNREFUSED);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 0);
	/* Shutting down both sides: IN (EOF), RDHUP and HUP. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_MOD, sa, UST_EV_IN | UST_EV_RDHUP, &tag1), 0);
	CHECK_EQ(ust_shutdown(sa, UST_SHUT_RD), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_IN | UST_EV_RDHUP);
	CHECK_EQ(ust_shutdown(sa, UST_SHUT_WR), 0);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	CHECK_EQ(ev[0].events, UST_EV_IN | UST_EV_RDHUP | UST_EV_HUP);
	ust_evq_destroy(q);
	ust_close(sa);
	urig_fini(&r);
}
#endif
#endif

TEST(evq_many_sockets_only_ready_reported)
{
	enum { N = 64 };
	struct tl_pair r;
	struct ust_evq *q;
	struct ust_socket *sa, *sb[N];
	struct ust_sockaddr_in to;
	struct ust_event ev[N];
	int i, n;
	uint8_t b[8];

	urig_init(&r, ust_test_seed);
	REQUIRE_EQ(ust_evq_create(r.b, &q), 0);
	sa = udp_socket(r.a);
	for (i = 0; i < N; i++) {
		sb[i] = udp_bound(r.b, INADDR_ANY, (uint16_t)(6000 + i));
		REQUIRE(sb[i] != NULL);
		CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sb[i], UST_EV_IN, sb[i]), 0);
	}
	/* Resolve B first: ARP holds only a few packets while it asks. */
	to = tl_sin(ADDR_B, 9);
	CHECK_EQ(ust_sendto(sa, "p", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	for (i = 0; i < N; i += 3) {
		to = tl_sin(ADDR_B, (uint16_t)(6000 + i));
		CHECK_EQ(ust_sendto(sa, "d", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
		    1);
	}
	tl_pair_run(&r, 10 * NS_MS);
	n = ust_evq_poll(q, ev, N);
	CHECK_EQ(n, (N + 2) / 3);
	for (i = 0; i < n; i++)
		CHECK_EQ(ust_recv(ev[i].udata, b, sizeof(b), 0), 1);
	CHECK_EQ(ust_evq_poll(q, ev, N), 0);
	/* max smaller than the ready count: the rest come next time. */
	for (i = 0; i < 4; i++) {
		to = tl_sin(ADDR_B, (uint16_t)(6000 + i));
		CHECK_EQ(ust_sendto(sa, "d", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
		    1);
	}
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_evq_poll(q, ev, 3), 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ust_recv(ev[i].udata, b, sizeof(b), 0), 1);
	CHECK_EQ(ust_evq_poll(q, ev, 3), 1);
	CHECK_EQ(ust_recv(ev[0].udata, b, sizeof(b), 0), 1);
	ust_evq_destroy(q);
	for (i = 0; i < N; i++)
		ust_close(sb[i]);
	ust_close(sa);
	urig_fini(&r);
}

TEST(evq_wait_virtual_clock_never_sleeps)
{
	struct tl_pair r;
	struct ust_evq *q;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	struct ust_event ev[4];
	uint64_t t0;

	urig_init(&r, ust_test_seed);
	REQUIRE_EQ(ust_evq_create(r.b, &q), 0);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5400);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, sb, UST_EV_IN, &tag1), 0);
	t0 = ust_vclock_now(r.vc);
	CHECK_EQ(ust_evq_wait(q, ev, 4, 5000 * NS_MS), 0);
	CHECK_EQ(ust_evq_wait(q, ev, 4, -1), 0);
	CHECK_EQ(ust_evq_wait(q, ev, 4, 0), 0);
	CHECK_EQ(ust_vclock_now(r.vc), t0);
	CHECK_EQ(ust_evq_wait(q, ev, 0, 0), -UST_EINVAL);
	CHECK_EQ(ust_evq_wait(NULL, ev, 4, 0), -UST_EINVAL);
	/* A datagram on its way: wait polls B and finds it. */
	to = tl_sin(ADDR_B, 5400);
	CHECK_EQ(ust_sendto(sa, "w", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(ust_evq_wait(q, ev, 4, 1000 * NS_MS), 1);
	CHECK(ev[0].udata == &tag1);
	ust_evq_destroy(q);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

TEST(evq_wait_real_clock_times_out)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	struct ust_evq *q;
	struct ust_socket *so;
	struct ust_event ev[2];
	uint64_t t0, dt;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = ust_test_seed;
	REQUIRE_EQ(ust_stack_create(&cfg, &st), 0);
	REQUIRE_EQ(ust_evq_create(st, &q), 0);
	so = udp_socket(st);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, so, UST_EV_IN, NULL), 0);
	t0 = ust_osal_clock_ns();
	CHECK_EQ(ust_evq_wait(q, ev, 2, 20 * NS_MS), 0);
	dt = ust_osal_clock_ns() - t0;
	CHECK(dt >= 20 * NS_MS);
	CHECK(dt < 2000 * NS_MS);
	/* OUT is ready: returns at once. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_MOD, so, UST_EV_OUT, NULL), 0);
	CHECK_EQ(ust_evq_wait(q, ev, 2, -1), 1);
	ust_evq_destroy(q);
	ust_close(so);
	ust_stack_destroy(st);
}

struct upcall_log {
	int calls;
	uint32_t last;
	struct ust_socket *so;
};

static void
upcall_fn(void *arg, struct ust_socket *so, uint32_t events)
{
	struct upcall_log *lg = arg;

	lg->calls++;
	lg->last = events;
	lg->so = so;
}

TEST(upcall_fires_on_readiness)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	struct upcall_log lg = { 0, 0, NULL };
	uint8_t b[8];

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5500);
	ust_socket_set_upcall(sb, upcall_fn, &lg);
	to = tl_sin(ADDR_B, 5500);
	CHECK_EQ(ust_sendto(sa, "u", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(lg.calls, 1);
	CHECK(lg.so == sb);
	CHECK(lg.last & UST_EV_IN);
	CHECK(lg.last & UST_EV_OUT);
	CHECK_EQ(ust_recv(sb, b, sizeof(b), 0), 1);
	/* Removed: no more calls. */
	ust_socket_set_upcall(sb, NULL, NULL);
	CHECK_EQ(ust_sendto(sa, "u", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK_EQ(lg.calls, 1);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}

/* ust_socket_events: the current set, read as a socket call, and fn called
 * with it; for what changed without an upcall (the application's own
 * receive drained the buffer: no upcall says so). */
TEST(socket_events_reads_the_set_and_calls_fn)
{
	struct tl_pair r;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to;
	struct upcall_log up = { 0, 0, NULL }, lg = { 0, 0, NULL };
	uint32_t ev;
	uint8_t b[8];

	urig_init(&r, ust_test_seed);
	sa = udp_socket(r.a);
	sb = udp_bound(r.b, INADDR_ANY, 5501);
	ev = ust_socket_events(sb, NULL, NULL);
	CHECK(ev & UST_EV_OUT);
	CHECK_EQ(ev & UST_EV_IN, 0u);
	to = tl_sin(ADDR_B, 5501);
	CHECK_EQ(ust_sendto(sa, "u", 1, 0, (const struct ust_sockaddr *)&to, sizeof(to)), 1);
	tl_pair_run(&r, 10 * NS_MS);
	CHECK(ust_socket_events(sb, NULL, NULL) & UST_EV_IN);
	ust_socket_set_upcall(sb, upcall_fn, &up);
	CHECK_EQ(ust_recv(sb, b, sizeof(b), 0), 1);
	CHECK_EQ(up.calls, 0); /* the receive drained it without an upcall */
	ev = ust_socket_events(sb, upcall_fn, &lg);
	CHECK_EQ(ev & UST_EV_IN, 0u);
	CHECK(ev & UST_EV_OUT);
	CHECK_EQ(lg.calls, 1);
	CHECK(lg.so == sb);
	CHECK_EQ(lg.last, ev);
	/* No socket: 0, and fn is not called. */
	CHECK_EQ(ust_socket_events(NULL, upcall_fn, &lg), 0u);
	CHECK_EQ(lg.calls, 1);
	ust_close(sa);
	ust_close(sb);
	urig_fini(&r);
}
#endif /* UST_EVQ */
