/*
 * bulkrig.h - a bulk TCP transfer between two stacks over a pipe on the
 * virtual clock (a long fat pipe by default: 20 ms one way, 1 Gbit/s), for
 * the tests of windows and buffers (test_tcp_wscale.c, test_tcp_autotune.c).
 * Stack A sends from `cli`, stack B receives on `srv` (accepted from `lso`).
 *
 *   bulk_init -> [sysctls] -> bulk_sockets -> [setsockopt] -> bulk_connect
 *   -> bulk_transfer (sends, reads, verifies, samples) -> bulk_fini
 *
 * Included by one test file each (static helpers).
 */
#ifndef UST_BULKRIG_H
#define UST_BULKRIG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "test_env.h"

#define BULK_MS 1000000ull
#define BULK_T0 (1000 * BULK_MS)
#define BULK_PORT 5001
#define BULK_CHUNK 65536u

struct bulk {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
	struct ust_socket *lso, *cli, *srv;
	uint64_t seed;
};

/* What a transfer saw: bytes, integrity, its virtual duration, and the
 * extremes of the sender's TCP_INFO and of both buffers' sizes. */
struct bulk_result {
	uint32_t sent, got;
	int intact;
	uint64_t elapsed_ns; /* first send to last byte read */
	uint32_t max_snd_wnd, max_unacked;
	unsigned snd_wscale, rcv_wscale;
	int rcvbuf_min, rcvbuf_max; /* srv SO_RCVBUF */
	int sndbuf_min, sndbuf_max; /* cli SO_SNDBUF */
};

/* Two stacks (memory limit and zone maxima as test_stack_new_sized) on a
 * shared virtual clock, no interfaces yet. */
static inline void
bulk_stacks(struct bulk *w, uint64_t seed, size_t mem_limit, uint32_t nmbufs, uint32_t nclusters)
{
	memset(w, 0, sizeof(*w));
	w->seed = seed;
	w->vc = ust_vclock_create(BULK_T0);
	w->a = test_stack_new_sized(w->vc, seed, mem_limit, nmbufs, nclusters);
	w->b = test_stack_new_sized(w->vc, seed + 1, mem_limit, nmbufs, nclusters);
	REQUIRE(w->a != NULL && w->b != NULL);
}

/* Interface p0 on each stack through the given drivers (the pipe's ends,
 * or wrappers around them), addresses 198.18.0.1 (A) and .2 (B). */
static inline void
bulk_attach(struct bulk *w, const struct ust_driver_ops *opa, void *sca,
    const struct ust_driver_ops *opb, void *scb)
{
	REQUIRE_EQ(ust_if_attach(w->a, "p0", opa, sca, &w->ifa), 0);
	REQUIRE_EQ(ust_if_attach(w->b, "p0", opb, scb, &w->ifb), 0);
	REQUIRE_EQ(ust_if_addr_add(w->ifa, test_ip4(1), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(w->ifb, test_ip4(2), 24), 0);
}

/* Two stacks joined by a pipe of the given one-way delay and rate. */
static inline void
bulk_init(struct bulk *w, uint64_t seed, size_t mem_limit, uint32_t nmbufs, uint32_t nclusters,
    uint64_t delay_ns, uint64_t rate_bps)
{
	struct ust_pipe_config pc;
	unsigned i;

	bulk_stacks(w, seed, mem_limit, nmbufs, nclusters);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w->vc);
	pc.ring_size = 4096;
	for (i = 0; i < 2; i++) {
		pc.fault[i].delay_ns = delay_ns;
		pc.fault[i].rate_bps = rate_bps;
	}
	REQUIRE_EQ(ust_pipe_create(&pc, &w->p), 0);
	bulk_attach(w, ust_pipe_ops(), ust_pipe_end(w->p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w->p, UST_PIPE_B));
}

/* The same knob on both stacks. */
static inline void
bulk_sysctl(struct bulk *w, const char *name, int64_t v)
{
	CHECK_EQ(ust_sysctl_set(w->a, name, v), 0);
	CHECK_EQ(ust_sysctl_set(w->b, name, v), 0);
}

/* Runs both stacks for dt of virtual time, jumping between deadlines. */
static inline void
bulk_run(struct bulk *w, uint64_t dt)
{
	struct ust_stack *s[2] = { w->a, w->b };

	tl_run(w->vc, s, 2, dt);
}

/* The listener on B and the unconnected client on A (options that must
 * precede the handshake go between this and bulk_connect). */
static inline void
bulk_sockets(struct bulk *w)
{
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), BULK_PORT);

	bulk_run(w, 10 * BULK_MS);
	REQUIRE_EQ(ust_socket(w->b, UST_AF_INET, UST_SOCK_STREAM, 0, &w->lso), 0);
	REQUIRE_EQ(ust_bind(w->lso, (const struct ust_sockaddr *)&la, sizeof(la)), 0);
	REQUIRE_EQ(ust_listen(w->lso, 8), 0);
	REQUIRE_EQ(ust_socket(w->a, UST_AF_INET, UST_SOCK_STREAM, 0, &w->cli), 0);
}

static inline void
bulk_connect(struct bulk *w)
{
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), BULK_PORT);
	int err, rounds;

	err = ust_connect(w->cli, (const struct ust_sockaddr *)&la, sizeof(la));
	REQUIRE(err == 0 || err == -UST_EINPROGRESS);
	for (rounds = 0; rounds < 1000 && w->srv == NULL; rounds++) {
		bulk_run(w, 5 * BULK_MS);
		if (ust_accept(w->lso, &w->srv, NULL, NULL) != 0)
			w->srv = NULL;
	}
	REQUIRE(w->srv != NULL);
}

static inline uint8_t
bulk_byte(uint32_t off)
{
	return ((uint8_t)((off * 2654435761u) >> 24));
}

static inline int
bulk_getint(struct ust_socket *so, int name)
{
	int v = -1;
	size_t len = sizeof(v);

	CHECK_EQ(ust_getsockopt(so, UST_SOL_SOCKET, name, &v, &len), 0);
	return (v);
}

static inline void
bulk_sample(struct bulk *w, struct bulk_result *r)
{
	struct ust_tcp_info ti;
	size_t len = sizeof(ti);
	int rb = bulk_getint(w->srv, UST_SO_RCVBUF), sb = bulk_getint(w->cli, UST_SO_SNDBUF);

	if (ust_getsockopt(w->cli, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len) == 0) {
		if (ti.tcpi_snd_wnd > r->max_snd_wnd)
			r->max_snd_wnd = ti.tcpi_snd_wnd;
		if (ti.tcpi_unacked > r->max_unacked)
			r->max_unacked = ti.tcpi_unacked;
		r->snd_wscale = ti.tcpi_snd_wscale;
		r->rcv_wscale = ti.tcpi_rcv_wscale;
	}
	if (rb < r->rcvbuf_min)
		r->rcvbuf_min = rb;
	if (rb > r->rcvbuf_max)
		r->rcvbuf_max = rb;
	if (sb < r->sndbuf_min)
		r->sndbuf_min = sb;
	if (sb > r->sndbuf_max)
		r->sndbuf_max = sb;
}

/* Sends total bytes of a known pattern from cli as fast as the socket
 * takes them and reads them on srv, in 1 ms steps for at most max_ms of
 * virtual time, checking every byte and sampling after each step. */
static inline void
bulk_transfer(struct bulk *w, uint32_t total, int max_ms, struct bulk_result *r)
{
	uint8_t *buf = malloc(BULK_CHUNK);
	uint64_t t0 = ust_vclock_now(w->vc);
	uint32_t i;
	int rounds;

	memset(r, 0, sizeof(*r));
	REQUIRE(buf != NULL);
	r->intact = 1;
	r->rcvbuf_min = r->sndbuf_min = 0x7fffffff;
	bulk_sample(w, r);
	for (rounds = 0; rounds < max_ms && r->got < total; rounds++) {
		ptrdiff_t n;

		while (r->sent < total) {
			uint32_t chunk =
			    total - r->sent < BULK_CHUNK ? total - r->sent : BULK_CHUNK;

			for (i = 0; i < chunk; i++)
				buf[i] = bulk_byte(r->sent + i);
			n = ust_send(w->cli, buf, chunk, 0);
			if (n <= 0)
				break;
			r->sent += (uint32_t)n;
		}
		bulk_run(w, BULK_MS);
		while ((n = ust_recv(w->srv, buf, BULK_CHUNK, 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != bulk_byte(r->got + i))
					r->intact = 0;
			r->got += (uint32_t)n;
		}
		bulk_sample(w, r);
	}
	r->elapsed_ns = ust_vclock_now(w->vc) - t0;
	free(buf);
}

/* Goodput of a transfer in Mbit/s of virtual time. */
static inline double
bulk_mbps(const struct bulk_result *r)
{
	return (r->elapsed_ns == 0 ? 0.0 : (double)r->got * 8.0 * 1e3 / (double)r->elapsed_ns);
}

static inline void
bulk_print(const char *what, const struct bulk *w, const struct bulk_result *r)
{
	printf("%s (seed %llu): %u/%u bytes%s in %.1f ms = %.1f Mbit/s; wscale snd %u rcv %u; "
	       "max snd_wnd %u unacked %u; SO_RCVBUF %d..%d SO_SNDBUF %d..%d\n",
	    what, (unsigned long long)w->seed, r->got, r->sent, r->intact ? "" : " CORRUPT",
	    (double)r->elapsed_ns / 1e6, bulk_mbps(r), r->snd_wscale, r->rcv_wscale, r->max_snd_wnd,
	    r->max_unacked, r->rcvbuf_min, r->rcvbuf_max, r->sndbuf_min, r->sndbuf_max);
}

/* Closes everything, lets TIME_WAIT pass, checks for leaks, frees. */
static inline void
bulk_fini(struct bulk *w)
{
	if (w->cli != NULL)
		ust_close(w->cli);
	if (w->srv != NULL)
		ust_close(w->srv);
	if (w->lso != NULL)
		ust_close(w->lso);
	bulk_run(w, 10000 * BULK_MS);
	test_stack_free(w->a);
	test_stack_free(w->b);
	ust_pipe_destroy(w->p);
	ust_vclock_destroy(w->vc);
}

#endif /* UST_BULKRIG_H */
