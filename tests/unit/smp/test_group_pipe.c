/*
 * test_group_pipe.c - two groups of stacks joined lane by lane by the
 * pipe driver (ust_pipe_config.lanes): lane i of each side is queue i of
 * the group's interface.  With UST_PIPE_STEER_SPREAD every frame arrives
 * on the wrong lane, so every frame of a TCP exchange is re-steered by the
 * receiving group, by the pipe's hash mark or by its own hash; the bytes
 * arrive intact.  On a virtual clock (threads = 0) and on threads.
 */
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>

#include "tl_net.h"
#include "ust_test.h"

#if UST_SMP
#define PORT 7100
#define NS 3 /* stacks per group, lanes of the pipe */

struct prig {
	struct ust_vclock *vc;
	struct ust_pipe *p;
	struct ust_group *g[2];
	struct ust_stack *all[2 * NS];
	uint32_t ip[2];
};

static int
prig_open(struct prig *r, int threads, int rss_mark)
{
	struct ust_pipe_config pc;
	struct ust_group_config gc;
	void *ends[NS];
	unsigned s, i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->ip[0] = tl_ip4addr(198, 18, 0, 1);
	r->ip[1] = tl_ip4addr(198, 18, 0, 2);
	ust_pipe_config_init(&pc);
	pc.lanes = NS;
	pc.steer = UST_PIPE_STEER_SPREAD;
	pc.rss_mark = rss_mark;
	pc.ring_size = 256;
	if (!threads) {
		r->vc = ust_vclock_create(1000 * TL_NS_MS);
		pc.clock = ust_vclock_clock(r->vc);
	}
	if ((rc = ust_pipe_create(&pc, &r->p)) != 0)
		return (rc);
	for (s = 0; s < 2; s++) {
		ust_group_config_init(&gc);
		gc.nstacks = NS;
		gc.threads = threads;
		if (!threads)
			tl_stack_config(&gc.stack, r->vc, ust_test_seed + s);
		if ((rc = ust_group_create(&gc, &r->g[s])) != 0)
			return (rc);
		for (i = 0; i < NS; i++) {
			ends[i] = ust_pipe_lane_end(r->p, (int)s, i);
			r->all[s * NS + i] = ust_group_stack(r->g[s], i);
		}
		if ((rc = ust_group_if_attach(r->g[s], "p0", ust_pipe_ops(), ends, NULL)) != 0 ||
		    (rc = ust_group_if_addr_add(r->g[s], "p0", r->ip[s], 24)) != 0)
			return (rc);
	}
	for (s = 0; s < 2 && threads; s++)
		if ((rc = ust_group_start(r->g[s])) != 0)
			return (rc);
	return (0);
}

static void
prig_close(struct prig *r)
{
	ust_group_destroy(r->g[0]);
	ust_group_destroy(r->g[1]);
	ust_pipe_destroy(r->p);
	if (r->vc != NULL)
		ust_vclock_destroy(r->vc);
}

struct lsn {
	struct ust_socket *so[NS];
	uint32_t addr;
};

static int
listen_one(struct ust_stack *st, unsigned i, void *arg)
{
	struct lsn *l = arg;
	struct ust_sockaddr_in sin = tl_sin(l->addr, PORT);
	int rc;

	if ((rc = ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &l->so[i])) != 0)
		return (rc);
	if ((rc = ust_bind(l->so[i], (const struct ust_sockaddr *)&sin, sizeof(sin))) != 0)
		return (rc);
	return (ust_listen(l->so[i], 16));
}

static int
close_one(struct ust_stack *st, unsigned i, void *arg)
{
	struct lsn *l = arg;

	(void)st;
	return (l->so[i] != NULL ? ust_close(l->so[i]) : 0);
}

/* Connects from b's stack cb (its ephemeral port) to a; the accepting
 * stack of a is returned in *sa with the accepted socket. */
struct conn {
	struct prig *r;
	struct ust_socket *so;
	uint16_t lport;
};

static int
do_connect(struct ust_stack *st, void *arg)
{
	struct conn *c = arg;
	struct ust_sockaddr_in sin = tl_sin(c->r->ip[0], PORT),
	                       lsin = tl_sin(c->r->ip[1], c->lport);
	int rc;

	if ((rc = ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &c->so)) != 0)
		return (rc);
	if ((rc = ust_bind(c->so, (const struct ust_sockaddr *)&lsin, sizeof(lsin))) != 0)
		return (rc);
	rc = ust_connect(c->so, (const struct ust_sockaddr *)&sin, sizeof(sin));
	return (rc == -UST_EINPROGRESS ? 0 : rc);
}

static size_t
stream_locked(struct ust_stack *fst, struct ust_socket *from, struct ust_stack *tst,
    struct ust_socket *to, const uint8_t *buf, size_t len)
{
	static uint8_t in[65536];
	uint64_t end = ust_osal_clock_ns() + 30 * TL_NS_S;
	size_t sent = 0, got = 0;
	uint32_t rev;
	ptrdiff_t k;

	while (got < len && ust_osal_clock_ns() < end) {
		ust_stack_lock(fst);
		while (sent < len && (k = ust_send(from, buf + sent, len - sent, 0)) > 0)
			sent += (size_t)k;
		ust_stack_unlock(fst);
		(void)ust_socket_wait(to, UST_EV_IN, 20 * 1000 * 1000, &rev);
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

static void
pipe_exchange(int threads, int rss_mark)
{
	static uint8_t buf[500000];
	struct prig r;
	struct lsn l;
	struct conn c;
	struct ust_socket *s = NULL;
	struct ust_stack *sta = NULL, *stb;
	struct ust_group_stats ga, gb;
	unsigned i, cb = 1;
	uint32_t rev;

	REQUIRE_EQ(prig_open(&r, threads, rss_mark), 0);
	memset(&l, 0, sizeof(l));
	l.addr = r.ip[0];
	REQUIRE_EQ(ust_group_foreach(r.g[0], listen_one, &l), 0);
	c.r = &r;
	/* A local port whose replies hash to the connecting stack (what
	 * connect() picks itself where in_pcb chooses by rss_owns). */
	{
		uint8_t key[UST_RSS_KEYLEN];

		ust_rss_default_key(key);
		for (c.lport = 30000; ust_rss_queue(ust_rss_hash_v4(key, r.ip[0], r.ip[1],
		                                        tl_hton16(PORT), tl_hton16(c.lport), 1),
		                          NS) != cb;
		     c.lport++)
			continue;
	}
	stb = ust_group_stack(r.g[1], cb);
	REQUIRE_EQ(ust_stack_exec(stb, do_connect, &c), 0);
	tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed);
	if (!threads) {
		tl_run(r.vc, r.all, 2 * NS, 500 * TL_NS_MS);
		for (i = 0; i < NS && s == NULL; i++)
			if (ust_accept(l.so[i], &s, NULL, NULL) == 0)
				sta = ust_group_stack(r.g[0], i);
		REQUIRE(s != NULL);
		CHECK_EQ(tl_stream(r.vc, r.all, 2 * NS, c.so, s, buf, sizeof(buf), 10 * TL_NS_MS,
		             5000),
		    sizeof(buf));
		CHECK_EQ(tl_stream(r.vc, r.all, 2 * NS, s, c.so, buf, sizeof(buf), 10 * TL_NS_MS,
		             5000),
		    sizeof(buf));
	} else {
		uint64_t end = ust_osal_clock_ns() + 10 * TL_NS_S;

		while (s == NULL && ust_osal_clock_ns() < end) {
			for (i = 0; i < NS && s == NULL; i++) {
				(void)ust_socket_wait(l.so[i], UST_EV_IN, 1000 * 1000, &rev);
				sta = ust_group_stack(r.g[0], i);
				ust_stack_lock(sta);
				if (ust_accept(l.so[i], &s, NULL, NULL) != 0)
					s = NULL;
				ust_stack_unlock(sta);
			}
		}
		REQUIRE(s != NULL);
		CHECK_EQ(stream_locked(stb, c.so, sta, s, buf, sizeof(buf)), sizeof(buf));
		CHECK_EQ(stream_locked(sta, s, stb, c.so, buf, sizeof(buf)), sizeof(buf));
	}
	/* Every frame came on the wrong lane: each side re-steered them. */
	ust_group_get_stats(r.g[0], UST_GROUP_ALL, &ga);
	ust_group_get_stats(r.g[1], UST_GROUP_ALL, &gb);
	CHECK(ga.rss_steered_out > 300);
	CHECK(gb.rss_steered_out > 300);
	/* On threads a frame or two (a last ACK) may be between the two
	 * stacks while the counters are read, one stack after the other. */
	if (!threads)
		CHECK_EQ(ga.rss_steered_in, ga.rss_steered_out);
	else
		CHECK(ga.rss_steered_in + 8 >= ga.rss_steered_out &&
		    ga.rss_steered_out + 8 >= ga.rss_steered_in);
	CHECK_EQ(ga.rss_local, 0);
	ust_stack_lock(sta);
	ust_close(s);
	ust_stack_unlock(sta);
	ust_stack_lock(stb);
	ust_close(c.so);
	ust_stack_unlock(stb);
	CHECK_EQ(ust_group_foreach(r.g[0], close_one, &l), 0);
	if (!threads)
		tl_run(r.vc, r.all, 2 * NS, 2 * TL_NS_S);
	prig_close(&r);
}

TEST(pipe_lanes_virtual_clock_marked)
{
	pipe_exchange(0, 1);
}

TEST(pipe_lanes_virtual_clock_unmarked)
{
	pipe_exchange(0, 0);
}

TEST(pipe_lanes_threads)
{
	pipe_exchange(1, 1);
}
#endif /* UST_SMP */
