/*
 * pipe_group.h - two groups of stacks joined by a pipe with lanes
 * (test_pipe_group.c, test_pipe_group_thread.c): group a (198.18.0.1) on
 * the lane ends of side A, group b (198.18.0.2) on side B, one lane per
 * stack (ust_group_if_attach with ust_pipe_lane_end), interface p0 on
 * every stack, static ARP entries for each other.  threads 0: one virtual
 * clock for the pipe and every stack, run by the test; threads 1: the
 * OSAL clock, each stack on its own thread, sleeping on the pipe's
 * doorbells (notify).
 */
#ifndef TEST_PIPE_GROUP_H
#define TEST_PIPE_GROUP_H

#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>

#include "tl_net.h"
#include "ust_test.h"

#define PG_PORT 7000
#define PG_MAXN 4

struct pgrig {
	struct ust_vclock *vc; /* threads 0 */
	struct ust_pipe *p;
	struct ust_group *a, *b;
	struct ust_stack *all[2 * PG_MAXN]; /* a's stacks, then b's */
	int nall;
	unsigned n;
	uint32_t ipa, ipb;
};

/* Groups of n stacks on a pipe of n lanes steered by steer.  0 or the
 * failing step's error. */
static inline int
pg_open(struct pgrig *r, unsigned n, int steer, int rss_mark, int threads)
{
	struct ust_pipe_config pc;
	struct ust_group_config gc;
	void *soft[2][PG_MAXN];
	uint8_t mac[2][6];
	unsigned i, side;
	int rc;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->ipa = tl_ip4addr(198, 18, 0, 1);
	r->ipb = tl_ip4addr(198, 18, 0, 2);
	ust_pipe_config_init(&pc);
	pc.lanes = n;
	pc.steer = steer;
	pc.rss_mark = rss_mark;
	pc.ring_size = 512;
	pc.notify = threads;
	/* MTU-sized segments are lent too: lent frames come back across
	 * lanes (and threads) to the stack that sent them. */
	pc.lend_min = 512;
	if (!threads) {
		r->vc = ust_vclock_create(1000 * TL_NS_MS);
		pc.clock = ust_vclock_clock(r->vc);
	}
	memcpy(mac, pc.mac, sizeof(mac));
	if ((rc = ust_pipe_create(&pc, &r->p)) != 0)
		return (rc);
	for (side = 0; side < 2; side++) {
		ust_group_config_init(&gc);
		gc.nstacks = n;
		gc.threads = threads;
		if (!threads)
			tl_stack_config(&gc.stack, r->vc, ust_test_seed + side * 100);
		else {
			gc.stack.seed_set = 1;
			gc.stack.seed = ust_test_seed + side * 100;
		}
		if ((rc = ust_group_create(&gc, side == 0 ? &r->a : &r->b)) != 0)
			return (rc);
		for (i = 0; i < n; i++)
			soft[side][i] = ust_pipe_lane_end(r->p, (int)side, i);
	}
	if ((rc = ust_group_if_attach(r->a, "p0", ust_pipe_ops(), soft[0], NULL)) != 0 ||
	    (rc = ust_group_if_attach(r->b, "p0", ust_pipe_ops(), soft[1], NULL)) != 0 ||
	    (rc = ust_group_if_addr_add(r->a, "p0", r->ipa, 24)) != 0 ||
	    (rc = ust_group_if_addr_add(r->b, "p0", r->ipb, 24)) != 0 ||
	    (rc = ust_group_arp_add_static(r->a, "p0", r->ipb, mac[UST_PIPE_B])) != 0 ||
	    (rc = ust_group_arp_add_static(r->b, "p0", r->ipa, mac[UST_PIPE_A])) != 0)
		return (rc);
	for (i = 0; i < n; i++)
		r->all[r->nall++] = ust_group_stack(r->a, i);
	for (i = 0; i < n; i++)
		r->all[r->nall++] = ust_group_stack(r->b, i);
	if (threads && ((rc = ust_group_start(r->a)) != 0 || (rc = ust_group_start(r->b)) != 0))
		return (rc);
	return (0);
}

/* The groups first (they detach the lane ends), then the pipe. */
static inline void
pg_close(struct pgrig *r)
{
	ust_group_destroy(r->a);
	ust_group_destroy(r->b);
	ust_pipe_destroy(r->p);
	if (r->vc != NULL)
		ust_vclock_destroy(r->vc);
	memset(r, 0, sizeof(*r));
}

/* A listening TCP socket on st at addr:PG_PORT. */
static inline struct ust_socket *
pg_listen(struct ust_stack *st, uint32_t addr)
{
	struct ust_sockaddr_in sin = tl_sin(addr, PG_PORT);
	struct ust_socket *so;

	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so) != 0)
		return (NULL);
	if (ust_bind(so, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0 ||
	    ust_listen(so, 64) != 0) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

/* The stack of n that owns frames src:sport -> dst:dport (addresses in
 * network order, as in r->ipa). */
static inline unsigned
pg_owner(unsigned n, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t key[UST_RSS_KEYLEN];

	ust_rss_default_key(key);
	return (ust_rss_queue(ust_rss_hash_v4(key, src, dst, tl_hton16(sport), tl_hton16(dport), 1),
	    n));
}

/* A local port from base up for b's stack k: the replies to it (a's
 * PG_PORT -> it) hash to k.  0: none found. */
static inline uint16_t
pg_port_for(const struct pgrig *r, unsigned k, uint16_t base)
{
	uint16_t p;

	for (p = base; p < base + 5000; p++)
		if (pg_owner(r->n, r->ipa, r->ipb, PG_PORT, p) == k)
			return (p);
	return (0);
}

/* A TCP socket on st (laddr:lport) connecting to addr:PG_PORT. */
static inline struct ust_socket *
pg_connect(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t addr)
{
	struct ust_sockaddr_in sin = tl_sin(addr, PG_PORT), lsin = tl_sin(laddr, lport);
	struct ust_socket *so;
	int rc;

	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so) != 0)
		return (NULL);
	if (ust_bind(so, (const struct ust_sockaddr *)&lsin, sizeof(lsin)) != 0) {
		ust_close(so);
		return (NULL);
	}
	rc = ust_connect(so, (const struct ust_sockaddr *)&sin, sizeof(sin));
	if (rc != 0 && rc != -UST_EINPROGRESS) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

#endif /* TEST_PIPE_GROUP_H */
