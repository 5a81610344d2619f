/*
 * smp_rig.h - two groups of stacks joined by the test's multi-queue
 * device (mqdrv.h): group a (198.18.0.1) and group b (198.18.0.2), each
 * with interface mq0 on every stack, static ARP entries for each other,
 * and helpers for TCP between them.  threads 0: both on one virtual clock,
 * run by the test (tl_run); threads 1: on the OSAL clock, each stack on
 * its thread.  Header-only, for tests/unit/smp.
 */
#ifndef UST_SMP_RIG_H
#define UST_SMP_RIG_H

#include <ustack/ustack.h>
#include <ustack/ustack_group.h>

#include "mqdrv.h"
#include "tl_net.h"
#include "ust_test.h"

#define RIG_PORT 7000
#define RIG_MAXST (2 * MQ_MAXQ)

struct rig {
	struct ust_vclock *vc; /* threads 0 */
	struct ust_group *a, *b;
	struct mq_dev da, db;
	struct ust_stack *all[RIG_MAXST]; /* a's stacks, then b's */
	int nall;
	uint32_t ipa, ipb;
};

/* The driver ops group a's queues use (NULL: mq_ops), for a case that
 * wants a variant. */
static const struct ust_driver_ops *rig_ops_a;

static inline void
rig_config(struct ust_group_config *gc, struct rig *r, unsigned n, int threads, uint64_t seed)
{
	ust_group_config_init(gc);
	gc->nstacks = n;
	gc->threads = threads;
	if (!threads)
		tl_stack_config(&gc->stack, r->vc, seed);
	else {
		gc->stack.seed_set = 1;
		gc->stack.seed = seed;
	}
}

/* Group a of na stacks (device policy pa: how frames from b land on a's
 * queues), group b of nb (policy pb).  0 or a failed step's error. */
static inline int
rig_open(struct rig *r, unsigned na, unsigned nb, int threads, int pa, int pb, uint32_t ring)
{
	struct ust_group_config gc;
	unsigned i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->ipa = tl_ip4addr(198, 18, 0, 1);
	r->ipb = tl_ip4addr(198, 18, 0, 2);
	if (!threads)
		r->vc = ust_vclock_create(1000 * TL_NS_MS);
	mq_init(&r->da, na, 0x0a, pa);
	mq_init(&r->db, nb, 0x0b, pb);
	mq_wire(&r->da, &r->db);
	rig_config(&gc, r, na, threads, ust_test_seed);
	if (ring != 0)
		gc.ring_size = ring;
	if ((rc = ust_group_create(&gc, &r->a)) != 0)
		return (rc);
	rig_config(&gc, r, nb, threads, ust_test_seed + 100);
	if (ring != 0)
		gc.ring_size = ring;
	if ((rc = ust_group_create(&gc, &r->b)) != 0)
		return (rc);
	if ((rc = ust_group_if_attach(r->a, "mq0", rig_ops_a != NULL ? rig_ops_a : &mq_ops,
	         r->da.softc, NULL)) != 0 ||
	    (rc = ust_group_if_attach(r->b, "mq0", &mq_ops, r->db.softc, NULL)) != 0)
		return (rc);
	if ((rc = ust_group_if_addr_add(r->a, "mq0", r->ipa, 24)) != 0 ||
	    (rc = ust_group_if_addr_add(r->b, "mq0", r->ipb, 24)) != 0 ||
	    (rc = ust_group_arp_add_static(r->a, "mq0", r->ipb, r->db.mac)) != 0 ||
	    (rc = ust_group_arp_add_static(r->b, "mq0", r->ipa, r->da.mac)) != 0)
		return (rc);
	for (i = 0; i < na; i++)
		r->all[r->nall++] = ust_group_stack(r->a, i);
	for (i = 0; i < nb; i++)
		r->all[r->nall++] = ust_group_stack(r->b, i);
	if (threads && ((rc = ust_group_start(r->a)) != 0 || (rc = ust_group_start(r->b)) != 0))
		return (rc);
	return (0);
}

static inline void
rig_close(struct rig *r)
{
	ust_group_destroy(r->a);
	ust_group_destroy(r->b);
	mq_fini(&r->da);
	mq_fini(&r->db);
	if (r->vc != NULL)
		ust_vclock_destroy(r->vc);
	memset(r, 0, sizeof(*r));
}

static inline void
rig_run(struct rig *r, uint64_t dt)
{
	tl_run(r->vc, r->all, r->nall, dt);
}

/* A listening TCP socket on stack st at addr:port (st's lock held by the
 * caller when st runs on a thread). */
static inline struct ust_socket *
rig_listen(struct ust_stack *st, uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in sin = tl_sin(addr, port);
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

/* A TCP socket on st connecting to addr:port (from lport, 0: any). */
static inline struct ust_socket *
rig_connect(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in sin = tl_sin(addr, port), lsin = tl_sin(laddr, lport);
	struct ust_socket *so;
	int rc;

	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so) != 0)
		return (NULL);
	if (lport != 0 && ust_bind(so, (const struct ust_sockaddr *)&lsin, sizeof(lsin)) != 0) {
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

/* The stack of group g that owns the flow whose packets arrive at it
 * from src:sport to dst:dport (host-order ports), by the default key. */
static inline unsigned
rig_owner(unsigned n, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t key[UST_RSS_KEYLEN];

	ust_rss_default_key(key);
	return (ust_rss_queue(ust_rss_hash_v4(key, src, dst, tl_hton16(sport), tl_hton16(dport), 1),
	    n));
}

#endif /* UST_SMP_RIG_H */
