/*
 * cc_rig.h - the congestion-control modules' test rig: a stack on the
 * virtual clock and a bare tcpcb (ESTABLISHED, snd_una = snd_nxt =
 * snd_max = 1000) a module is attached to, without a connection.
 */
#ifndef UST_CC_RIG_H
#define UST_CC_RIG_H

#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/tcp_var.h"
#include "test_env.h"

struct ccrig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct tcpcb tp;
};

/* The stack and the tcpcb, no module yet (set fields the module reads
 * at attach time between this and ccrig_attach). */
static inline void
ccrig_setup(struct ccrig *r, uint32_t mss)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(1000000000ull);
	r->st = test_stack_new(r->vc, 1);
	r->tp.t_stack = r->st;
	r->tp.t_maxseg = mss;
	r->tp.t_state = TCPS_ESTABLISHED;
	r->tp.snd_una = r->tp.snd_nxt = r->tp.snd_max = 1000;
}

static inline void
ccrig_attach(struct ccrig *r, const struct cc_algo *algo)
{
	if (cc_attach(&r->tp, algo) != 0)
		abort();
}

static inline void
ccrig_fini(struct ccrig *r)
{
	cc_detach(&r->tp);
	test_stack_free(r->st);
	ust_vclock_destroy(r->vc);
}

#endif /* UST_CC_RIG_H */
