/*
 * test_osal_clock.c - the virtual clock, the monotonic clock and the
 * POSIX mutex/condition variable of the port.
 */
#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>

#include "ust_test.h"

TEST(vclock_moves_only_forward)
{
	struct ust_vclock *vc = ust_vclock_create(1000);
	struct ust_clock c;

	REQUIRE(vc != NULL);
	c = ust_vclock_clock(vc);
	CHECK_EQ(c.now_ns(c.ctx), 1000);
	ust_vclock_advance(vc, 500);
	CHECK_EQ(ust_vclock_now(vc), 1500);
	ust_vclock_set(vc, 1200);
	CHECK_EQ(c.now_ns(c.ctx), 1500);
	ust_vclock_set(vc, 99999);
	CHECK_EQ(c.now_ns(c.ctx), 99999);
	ust_vclock_advance(vc, UINT64_MAX);
	CHECK(ust_vclock_now(vc) == UINT64_MAX);
	ust_vclock_destroy(vc);
}

TEST(monotonic_clock_and_timedwait)
{
	struct ust_clock c = ust_clock_monotonic();
	struct ust_osal_mutex *m = ust_osal_mutex_create();
	struct ust_osal_cond *cv = ust_osal_cond_create();
	uint64_t t0, t1;
	int rc;

	REQUIRE(m != NULL && cv != NULL);
	t0 = c.now_ns(c.ctx);
	ust_osal_mutex_lock(m);
	do
		rc = ust_osal_cond_timedwait(cv, m, t0 + 2000000);
	while (rc == 0);
	ust_osal_mutex_unlock(m);
	t1 = c.now_ns(c.ctx);
	CHECK_EQ(rc, UST_ETIMEDOUT);
	CHECK(t1 >= t0 + 2000000);
	ust_osal_cond_destroy(cv);
	ust_osal_mutex_destroy(m);
}

TEST(entropy_differs)
{
	uint64_t a = 0, b = 0;

	CHECK_EQ(ust_osal_entropy(&a, sizeof(a)), 0);
	CHECK_EQ(ust_osal_entropy(&b, sizeof(b)), 0);
	CHECK(a != b);
}

struct captured {
	int level;
	char line[128];
	int calls;
};

static void
capture_log(void *arg, int level, const char *line)
{
	struct captured *cap = arg;

	cap->level = level;
	snprintf(cap->line, sizeof(cap->line), "%s", line);
	cap->calls++;
}

TEST(log_levels_filter_and_format)
{
	struct captured cap = { 0, "", 0 };
	struct ust_logger lg = { capture_log, &cap, UST_LOG_INFO };

	ust_log(&lg, UST_LOG_DEBUG, "hidden %d", 1);
	CHECK_EQ(cap.calls, 0);
	ust_log(&lg, UST_LOG_WARNING, "seen %d %s", 42, "x");
	CHECK_EQ(cap.calls, 1);
	CHECK_EQ(cap.level, UST_LOG_WARNING);
	CHECK(strcmp(cap.line, "seen 42 x") == 0);
}
