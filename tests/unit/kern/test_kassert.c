/*
 * test_kassert.c - the invariant checks of kern/kassert.h: with UST_DEBUG
 * a broken invariant stops the program with a report naming file, line
 * and what broke; without it the checks compile to nothing (nothing is
 * evaluated, nothing stops).
 *
 * Built twice (tests/unit/CMakeLists.txt): test_kassert against the
 * library as configured (UST_DEBUG 0 in a plain build) and
 * test_kassert_debug against ustack_debug (UST_DEBUG 1), so that one plain
 * build proves both.  Each case breaks our own state in a forked child
 * (the panic aborts it) and reads the child's stderr and exit status.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kern/kassert.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "test_env.h"
#include "../netinet/udp_rig.h"

struct child {
	int status;
	char err[2048];
};

/* Runs fn(arg) in a child whose stderr is captured into c->err. */
static void
run_child(void (*fn)(void *), void *arg, struct child *c)
{
	int fds[2];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0) {
		UST_FAIL_AT(__FILE__, __LINE__, "pipe failed");
		return;
	}
	pid = fork();
	if (pid < 0) {
		UST_FAIL_AT(__FILE__, __LINE__, "fork failed");
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		(void)dup2(fds[1], 2);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(c->err) - 1 &&
	    (n = read(fds[0], c->err + got, sizeof(c->err) - 1 - got)) > 0)
		got += (size_t)n;
	c->err[got] = '\0';
	close(fds[0]);
	(void)waitpid(pid, &c->status, 0);
}

/* UST_DEBUG: the child died of the panic's abort() and its report holds
 * every needle.  Otherwise: it ran to the end, silently. */
static void
expect_panic(const struct child *c, const char *needle1, const char *needle2)
{
#if UST_DEBUG
	CHECK(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGABRT);
	CHECK(strstr(c->err, "ustack panic: ") != NULL);
	CHECK(strstr(c->err, needle1) != NULL);
	CHECK(strstr(c->err, needle2) != NULL);
	if (ust_test_failures != 0)
		fprintf(stderr, "child's stderr: %s\n", c->err);
#else
	(void)needle1;
	(void)needle2;
	CHECK(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0);
	CHECK_EQ(c->err[0], '\0');
#endif
}

/* Not static: a build without UST_DEBUG never calls it (no unused-function
 * warning for an external one). */
int
kassert_test_bump(int *n)
{
	return (++*n);
}

static void
child_kassert(void *arg)
{
	int v = *(int *)arg;

	KASSERT(v == 42, ("v is %d", v));
}

TEST(kassert_reports_file_line_expression_and_message)
{
	struct child c;
	int v = 7, n = 0;

	run_child(child_kassert, &v, &c);
	expect_panic(&c, "test_kassert.c:", "KASSERT(v == 42) failed: v is 7");
	/* A true expression never stops anything. */
	v = 42;
	run_child(child_kassert, &v, &c);
	CHECK(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0);
	/* Without UST_DEBUG the expression is not even evaluated.  (A side
	 * effect written in the expression itself is a clang warning in such
	 * a build: -Wunevaluated-expression; a call is not.) */
	KASSERT(kassert_test_bump(&n) == 1, ("n %d", n));
	MPASS(kassert_test_bump(&n) == 2);
	CHECK_EQ(n, UST_DEBUG ? 2 : 0);
}

/* A socket buffer with three mbufs of data whose byte count is then off by
 * one: the next drop's SBCHECK() sees it. */
static void
child_sockbuf(void *arg)
{
	struct sockbuf *sb = arg;

	sb->sb_cc++;
	sbdrop(sb, 10);
}

TEST(sbcheck_catches_a_wrong_byte_count)
{
	struct test_env te;
	struct sockbuf sb;
	struct child c;
	struct mbuf *m;
	int i;

	test_env_init(&te, 16, 4, 0);
	memset(&sb, 0, sizeof(sb));
	for (i = 0; i < 3; i++) {
		m = m_gethdr(&te.mbz, MT_DATA);
		REQUIRE(m != NULL);
		m->m_len = 100;
		m->m_pkthdr.len = 100;
		sbappendstream(&sb, m);
	}
	CHECK_EQ(sb.sb_cc, 300);
	SBCHECK(&sb); /* consistent: nothing happens */
	run_child(child_sockbuf, &sb, &c);
	expect_panic(&c, "uipc_sockbuf.c:", "sb_cc 291");
	/* The parent's buffer was never touched. */
	sbflush(&sb);
	CHECK_EQ(sb.sb_cc, 0);
	CHECK_EQ(sb.sb_mbcnt, 0);
	test_env_fini(&te);
}

static void
child_msanity(void *arg)
{
	struct mbuf *m = arg;

	m->m_pkthdr.len = 11;
	M_SANITY(m);
}

#if UST_DEBUG
static void
child_double_free(void *arg)
{
	struct mbuf *m = arg;

	(void)m_free(m);
	(void)m_free(m);
}
#endif

TEST(m_sanity_catches_a_wrong_packet_length)
{
	struct test_env te;
	struct child c;
	struct mbuf *m;

	test_env_init(&te, 16, 4, 0);
	m = m_gethdr(&te.mbz, MT_DATA);
	REQUIRE(m != NULL);
	m->m_len = 10;
	m->m_pkthdr.len = 10;
	M_SANITY(m);
	run_child(child_msanity, m, &c);
	expect_panic(&c, "test_kassert.c:", "m_pkthdr.len 11, its mbufs hold 10");
#if UST_DEBUG
	run_child(child_double_free, m, &c);
	expect_panic(&c, "uipc_mbuf.c:", "m_free of a freed mbuf");
#endif
	m_freem(m);
	test_env_fini(&te);
}

/* A bound UDP PCB whose flags no longer say it is on the wildcard hash:
 * freeing it would leave it linked there (a dangling pointer the next
 * lookup follows); in_pcbfree's check stops first. */
static void
child_pcb(void *arg)
{
	struct socket *so = SO_FROM_UST(arg);

	sotoinpcb(so)->inp_flags &= ~(uint32_t)INP_INWILD;
	(void)ust_close(arg);
}

TEST(pcb_check_catches_a_pcb_its_flags_misplace)
{
	struct ust_vclock *vc = ust_vclock_create(RIG_T0);
	struct ust_stack *st = test_stack_new(vc, ust_test_seed);
	struct ust_sockaddr_in n = tl_sin(INADDR_ANY, 5000);
	struct ust_socket *so = NULL;
	struct child c;

	REQUIRE_EQ(ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so), 0);
	REQUIRE_EQ(ust_bind(so, (const struct ust_sockaddr *)&n, sizeof(n)), 0);
	CHECK(sotoinpcb(SO_FROM_UST(so))->inp_flags & INP_INWILD);
	run_child(child_pcb, so, &c);
	expect_panic(&c, "in_pcb.c:", "linked on a hash chain without INP_INHASH/INP_INWILD");
	CHECK_EQ(ust_close(so), 0);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
