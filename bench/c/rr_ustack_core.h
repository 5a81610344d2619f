/*
 * rr_ustack_core.h - the request/response client and echo server of
 * rr_ustack.c, over whatever link joins the two stacks (the pipe in
 * rr_ustack.c, DPDK's net_memif between two processes in dpdk_memif.c), so
 * both measure exactly the same socket work.  Header only.
 *
 * The client polls the server's stack in turn when c->srv is set (one
 * core, one process); with c->yield it gives the CPU away after a poll that
 * found nothing, for a peer process on the same core.
 *
 * The steps (client_open, client_roundtrip, client_crr_once) are what
 * pingpong() and crr() count and time; cores_pairs.c runs the same steps
 * for a fixed time on several threads at once.
 */
#ifndef USTACK_BENCH_RR_USTACK_CORE_H
#define USTACK_BENCH_RR_USTACK_CORE_H

#include "rr_common.h"

#include <stdatomic.h>

#include <ustack/ustack.h>

#include "example_util.h"

#define PORT 7001
#define MAXCONN 256 /* server connections open at once */

struct server {
	struct ust_stack *st;
	struct ust_socket *lso;
	struct ust_socket *conn[MAXCONN];
	int nconn;
	volatile int stop;
	int cpu;
	int error;
};

struct client {
	struct ust_stack *st;
	struct server *srv;             /* polled in turn on the same core; NULL across cores */
	struct ust_sockaddr_storage to; /* the server's address */
	ust_socklen_t tolen;
	int af;    /* UST_AF_INET or UST_AF_INET6: the family of to */
	int yield; /* sched_yield() after an idle poll (a peer process shares the core) */
	/* When set and nonzero, a wait gives up (-UST_ETIMEDOUT): a bench
	 * whose peer stopped ends instead of spinning forever. */
	const _Atomic int *abort;
};

static inline int
client_aborted(const struct client *c)
{
	return (c->abort != NULL && atomic_load_explicit(c->abort, memory_order_relaxed));
}

static const int one = 1;

/* Echoes every complete request; closes connections at EOF.  One turn. */
static inline int
server_step(struct server *s)
{
	struct ust_socket *so;
	uint8_t buf[RR_MSG * 4];
	int i, work = ust_stack_poll(s->st);

	while (s->nconn < MAXCONN && ust_accept(s->lso, &so, NULL, NULL) == 0) {
		ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one, sizeof(one));
		s->conn[s->nconn++] = so;
		work++;
	}
	for (i = 0; i < s->nconn; i++) {
		ptrdiff_t r = ust_recv(s->conn[i], buf, sizeof(buf), 0);

		if (r == -UST_EAGAIN)
			continue;
		work++;
		if (r > 0) {
			/* Requests are 64 bytes and the client waits for each
			 * answer, so what arrived is whole requests. */
			if (ust_send(s->conn[i], buf, (size_t)r, 0) != r)
				s->error = 1;
			continue;
		}
		ust_close(s->conn[i]);
		s->conn[i--] = s->conn[--s->nconn];
	}
	return (work);
}

static inline void *
server_thread(void *arg)
{
	struct server *s = arg;

	rr_pin(s->cpu);
	while (!s->stop)
		server_step(s);
	return (NULL);
}

/* Polls until `so` has `want` bytes for us (read into buf) or fails. */
static inline int
client_wait_recv(struct client *c, struct ust_socket *so, uint8_t *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ptrdiff_t r;

		if (c->srv != NULL)
			server_step(c->srv);
		ust_stack_poll(c->st);
		r = ust_recv(so, buf + got, want - got, 0);
		if (r == -UST_EAGAIN) {
			if (c->yield)
				sched_yield();
			if (client_aborted(c))
				return (-UST_ETIMEDOUT);
			continue;
		}
		if (r <= 0)
			return (r < 0 ? (int)r : -UST_ECONNRESET);
		got += (size_t)r;
	}
	return (0);
}

/* Sends the len-byte request, polling while the connection is still
 * being made. */
static inline int
client_send(struct client *c, struct ust_socket *so, const uint8_t *req, size_t len)
{
	for (;;) {
		ptrdiff_t r = ust_send(so, req, len, 0);

		if (r == (ptrdiff_t)len)
			return (0);
		if (r != -UST_ENOTCONN && r != -UST_EAGAIN)
			return (r < 0 ? (int)r : -UST_EIO);
		if (c->srv != NULL)
			server_step(c->srv);
		ust_stack_poll(c->st);
		if (c->yield)
			sched_yield();
		if (client_aborted(c))
			return (-UST_ETIMEDOUT);
	}
}

/* A new connection to the server (TCP_NODELAY), its connect under way. */
static inline int
client_open(struct client *c, struct ust_socket **sop)
{
	struct ust_socket *so;
	int err;

	if ((err = ust_socket(c->st, c->af, UST_SOCK_STREAM, 0, &so)) != 0)
		return (err);
	ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one, sizeof(one));
	err = ust_connect(so, (const struct ust_sockaddr *)&c->to, c->tolen);
	if (err != 0 && err != -UST_EINPROGRESS) {
		ust_close(so);
		return (err);
	}
	*sop = so;
	return (0);
}

/* One round trip of a len-byte request (len <= RR_MSG) on so: the echo
 * must be the request. */
static inline int
client_roundtrip(struct client *c, struct ust_socket *so, const uint8_t *req, size_t len)
{
	uint8_t resp[RR_MSG];
	int err;

	if ((err = client_send(c, so, req, len)) != 0 ||
	    (err = client_wait_recv(c, so, resp, len)) != 0)
		return (err);
	return (memcmp(req, resp, len) == 0 ? 0 : -UST_EIO);
}

/* One connect + request + response + close (the client closes first). */
static inline int
client_crr_once(struct client *c, const uint8_t *req, size_t len)
{
	struct ust_socket *so;
	int err;

	if ((err = client_open(c, &so)) != 0)
		return (err);
	err = client_roundtrip(c, so, req, len);
	ust_close(so);
	return (err);
}

static inline int
pingpong(struct client *c, long n, long warm, uint64_t *lat, uint64_t *total)
{
	struct ust_socket *so;
	uint8_t req[RR_MSG];
	uint64_t t0 = 0;
	long i;
	int err;

	memset(req, 'q', sizeof(req));
	if ((err = client_open(c, &so)) != 0)
		return (err);
	for (i = -warm; i < n; i++) {
		uint64_t t = rr_now_ns();

		if (i == 0)
			t0 = t;
		if ((err = client_roundtrip(c, so, req, RR_MSG)) != 0)
			break;
		if (i >= 0)
			lat[i] = rr_now_ns() - t;
	}
	*total = rr_now_ns() - t0;
	ust_close(so);
	return (err);
}

static inline int
crr(struct client *c, long n, long warm, uint64_t *lat, uint64_t *total)
{
	uint8_t req[RR_MSG];
	uint64_t t0 = 0;
	long i;
	int err = 0;

	memset(req, 'c', sizeof(req));
	for (i = -warm; i < n && err == 0; i++) {
		uint64_t t = rr_now_ns();

		if (i == 0)
			t0 = t;
		err = client_crr_once(c, req, RR_MSG);
		if (i >= 0)
			lat[i] = rr_now_ns() - t;
	}
	*total = rr_now_ns() - t0;
	return (err);
}

#endif /* USTACK_BENCH_RR_USTACK_CORE_H */
