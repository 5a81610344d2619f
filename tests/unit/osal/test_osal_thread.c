/*
 * test_osal_thread.c - the port's threads and the waiter a polling thread
 * sleeps on (ctest label "threaded"): create, pin and join; a wake before
 * the wait is kept, a wake from another thread ends a sleep without a
 * deadline, a readable descriptor ends it, the deadline ends it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>

#include "ust_test.h"

struct targ {
	_Atomic int ran;
	struct ust_osal_waiter *w;
	uint64_t delay_ns;
};

static void
set_ran(void *arg)
{
	struct targ *a = arg;

	atomic_store(&a->ran, 1);
}

TEST(thread_create_join_pin)
{
	struct ust_osal_thread *t;
	struct targ a;
	unsigned n = ust_osal_ncpus();

	CHECK(n >= 1);
	atomic_init(&a.ran, 0);
	REQUIRE_EQ(ust_osal_thread_create(&t, set_ran, &a, -1, "ust-test-thread-long-name"), 0);
	ust_osal_thread_join(t);
	CHECK_EQ(atomic_load(&a.ran), 1);
	/* Pinned to the last CPU online. */
	atomic_store(&a.ran, 0);
	REQUIRE_EQ(ust_osal_thread_create(&t, set_ran, &a, (int)n - 1, NULL), 0);
	ust_osal_thread_join(t);
	CHECK_EQ(atomic_load(&a.ran), 1);
	/* No such CPU. */
	CHECK_EQ(ust_osal_thread_create(&t, set_ran, &a, (int)n + 1000, NULL), -UST_EINVAL);
	CHECK(t == NULL);
}

TEST(waiter_deadline_and_early_wake)
{
	struct ust_osal_waiter *w = ust_osal_waiter_create();
	uint64_t t0, t1;

	REQUIRE(w != NULL);
	t0 = ust_osal_clock_ns();
	CHECK_EQ(ust_osal_waiter_wait(w, NULL, 0, t0 + 20 * 1000 * 1000), 0);
	t1 = ust_osal_clock_ns();
	CHECK(t1 >= t0 + 20 * 1000 * 1000);
	/* A deadline already past: at once. */
	CHECK_EQ(ust_osal_waiter_wait(w, NULL, 0, 0), 0);
	/* A wake before the wait is not lost, and counts once. */
	ust_osal_waiter_wake(w);
	ust_osal_waiter_wake(w);
	CHECK_EQ(ust_osal_waiter_wait(w, NULL, 0, UINT64_MAX), 1);
	CHECK_EQ(ust_osal_waiter_wait(w, NULL, 0, ust_osal_clock_ns() + 1000000), 0);
	ust_osal_waiter_destroy(w);
}

static void
wake_later(void *arg)
{
	struct targ *a = arg;
	uint64_t end = ust_osal_clock_ns() + a->delay_ns;

	while (ust_osal_clock_ns() < end)
		continue;
	ust_osal_waiter_wake(a->w);
}

TEST(waiter_woken_by_another_thread)
{
	struct ust_osal_thread *t;
	struct targ a;
	uint64_t t0;

	a.w = ust_osal_waiter_create();
	a.delay_ns = 10 * 1000 * 1000;
	REQUIRE(a.w != NULL);
	t0 = ust_osal_clock_ns();
	REQUIRE_EQ(ust_osal_thread_create(&t, wake_later, &a, -1, NULL), 0);
	/* No deadline: only the wake ends it. */
	CHECK_EQ(ust_osal_waiter_wait(a.w, NULL, 0, UINT64_MAX), 1);
	CHECK(ust_osal_clock_ns() >= t0 + a.delay_ns);
	ust_osal_thread_join(t);
	ust_osal_waiter_destroy(a.w);
}

TEST(waiter_readable_fd)
{
	struct ust_osal_waiter *w = ust_osal_waiter_create();
	int p[2], fds[3];
	char c = 'x';

	REQUIRE(w != NULL);
	REQUIRE_EQ(pipe(p), 0);
	fds[0] = -1; /* a driver without a descriptor: skipped */
	fds[1] = p[0];
	fds[2] = -1;
	CHECK_EQ(ust_osal_waiter_wait(w, fds, 3, ust_osal_clock_ns() + 5 * 1000 * 1000), 0);
	REQUIRE_EQ(write(p[1], &c, 1), 1);
	CHECK_EQ(ust_osal_waiter_wait(w, fds, 3, UINT64_MAX), 1);
	close(p[0]);
	close(p[1]);
	ust_osal_waiter_destroy(w);
}
