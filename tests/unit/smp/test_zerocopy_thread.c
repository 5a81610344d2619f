/*
 * test_zerocopy_thread.c - the zero-copy socket calls on threaded stacks
 * (ctest label "threaded"; ThreadSanitizer in build-tsan): ust_send_zc
 * from an application thread with no lock of its own (the call locks the
 * stack), completions on the stack's thread, ust_recv_mbuf on one
 * application thread and ust_mbuf_release of those chains on another.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>

#include "kern/socketvar.h"
#include "smp_rig.h"
#include "ust_test.h"

#define SO_HELD_OF(u) (SO_FROM_UST(u)->so_rcv.sb_held)

#if UST_SMP
#define ZT_LEN (1u << 20)
#define ZT_MAXREC 4096
#define ZT_QLEN 64

static uint8_t zt_buf[ZT_LEN];

struct zt_rec {
	_Atomic int calls;
	_Atomic int status;
};

static struct zt_rec zt_recs[ZT_MAXREC];

static void
zt_done(void *arg, const void *buf, size_t len, int status)
{
	struct zt_rec *r = arg;

	(void)buf;
	(void)len;
	atomic_store(&r->status, status);
	atomic_fetch_add(&r->calls, 1);
}

/* Chains the reader hands to the releaser. */
struct zt_q {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ust_mbuf *m[ZT_QLEN];
	int head, n, done;
	struct ust_socket *so;
	size_t got;
	int intact;
};

static void *
zt_reader(void *arg)
{
	struct zt_q *q = arg;
	struct ust_mbuf *m, *p;
	uint32_t rev;
	ptrdiff_t k;

	while (q->got < ZT_LEN) {
		k = ust_recv_mbuf(q->so, &m, 50000, 0);
		if (k == -UST_EAGAIN) {
			(void)ust_socket_wait(q->so, UST_EV_IN, 20 * 1000 * 1000, &rev);
			continue;
		}
		if (k <= 0)
			break;
		for (p = m; p != NULL; p = ust_mbuf_next(p)) {
			if (memcmp(ust_mbuf_data(p), zt_buf + q->got, ust_mbuf_len(p)) != 0)
				q->intact = 0;
			q->got += ust_mbuf_len(p);
		}
		pthread_mutex_lock(&q->mu);
		while (q->n == ZT_QLEN)
			pthread_cond_wait(&q->cv, &q->mu);
		q->m[(q->head + q->n) % ZT_QLEN] = m;
		q->n++;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
	}
	pthread_mutex_lock(&q->mu);
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return (NULL);
}

/* Gives the chains back from a thread that never received them. */
static void *
zt_releaser(void *arg)
{
	struct zt_q *q = arg;
	struct ust_mbuf *m;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->n == 0 && !q->done)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->n == 0)
			break;
		m = q->m[q->head];
		q->head = (q->head + 1) % ZT_QLEN;
		q->n--;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		ust_mbuf_release(q->so, m);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return (NULL);
}

struct zt_cmd {
	struct rig *r;
	struct ust_socket *so;
};

static int
zt_listen(struct ust_stack *st, void *arg)
{
	struct zt_cmd *c = arg;

	c->so = rig_listen(st, c->r->ipa, RIG_PORT);
	return (c->so != NULL ? 0 : -1);
}

static int
zt_connect(struct ust_stack *st, void *arg)
{
	struct zt_cmd *c = arg;

	c->so = rig_connect(st, c->r->ipb, 0, c->r->ipa, RIG_PORT);
	return (c->so != NULL ? 0 : -1);
}

TEST(zc_send_and_recv_mbuf_release_threaded)
{
	struct rig r;
	struct zt_cmd l, c;
	struct ust_socket *s = NULL;
	struct zt_q q;
	pthread_t tr, tx;
	uint32_t rev;
	size_t sent = 0;
	int n = 0, i, calls;
	ptrdiff_t k;
	uint64_t end;

	for (i = 0; i < (int)ZT_LEN; i++)
		zt_buf[i] = (uint8_t)((unsigned)i * 2654435761u >> 24);
	REQUIRE_EQ(rig_open(&r, 1, 1, 1, MQ_QUEUE0, MQ_QUEUE0, 0), 0);
	l.r = c.r = &r;
	REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.a, 0), zt_listen, &l), 0);
	REQUIRE_EQ(ust_stack_exec(ust_group_stack(r.b, 0), zt_connect, &c), 0);
	CHECK_EQ(ust_socket_wait(l.so, UST_EV_IN, 5 * TL_NS_S, &rev), 1);
	REQUIRE_EQ(ust_accept(l.so, &s, NULL, NULL), 0);
	CHECK_EQ(ust_socket_wait(c.so, UST_EV_OUT, 5 * TL_NS_S, &rev), 1);
	memset(&q, 0, sizeof(q));
	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.cv, NULL);
	q.so = s;
	q.intact = 1;
	REQUIRE_EQ(pthread_create(&tr, NULL, zt_reader, &q), 0);
	REQUIRE_EQ(pthread_create(&tx, NULL, zt_releaser, &q), 0);
	/* This thread lends the buffer, piece by piece, with no lock. */
	end = ust_osal_clock_ns() + 20 * TL_NS_S;
	while (sent < ZT_LEN && n < ZT_MAXREC && ust_osal_clock_ns() < end) {
		k = ust_send_zc(c.so, zt_buf + sent, ZT_LEN - sent, 0, zt_done, &zt_recs[n]);
		if (k == -UST_EAGAIN) {
			(void)ust_socket_wait(c.so, UST_EV_OUT, 20 * 1000 * 1000, &rev);
			continue;
		}
		REQUIRE(k > 0);
		sent += (size_t)k;
		n++;
	}
	pthread_join(tr, NULL);
	pthread_join(tx, NULL);
	CHECK_EQ(q.got, ZT_LEN);
	CHECK(q.intact);
	/* Every send completes once (the last ACKs may still be on their
	 * way: wait a little). */
	for (i = 0; i < 500; i++) {
		calls = 0;
		for (int j = 0; j < n; j++)
			calls += atomic_load(&zt_recs[j].calls);
		if (calls == n)
			break;
		(void)ust_socket_wait(c.so, UST_EV_ERR, 10 * 1000 * 1000, &rev);
	}
	for (i = 0; i < n; i++) {
		CHECK_EQ(atomic_load(&zt_recs[i].calls), 1);
		CHECK(atomic_load(&zt_recs[i].status) == 0 ||
		    atomic_load(&zt_recs[i].status) == UST_ZC_COPIED);
	}
	ust_stack_lock(ust_group_stack(r.a, 0));
	CHECK_EQ(SO_HELD_OF(s), 0);
	ust_stack_unlock(ust_group_stack(r.a, 0));
	ust_close(s);
	ust_close(l.so);
	ust_close(c.so);
	pthread_mutex_destroy(&q.mu);
	pthread_cond_destroy(&q.cv);
	rig_close(&r);
}
#endif
