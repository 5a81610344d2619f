/*
 * sim_util.h - helpers shared by the seeded simulations in tests/sim.
 *
 * Address helpers (network byte order whatever the host's), and the rig
 * both programs build: two stacks, A (198.18.0.1/24) and B
 * (198.18.0.2/24), on one virtual clock, joined by the pipe driver with
 * the given faults per direction; polling both stacks until they are idle
 * and finding the next deadline of either, which the callers jump the
 * virtual clock to.  Header only: static inline functions.
 */
#ifndef USTACK_TESTS_SIM_SIM_UTIL_H
#define USTACK_TESTS_SIM_SIM_UTIL_H

#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "tl_net.h"

#define NS_MS TL_NS_MS
#define NS_S TL_NS_S

/* A stack on vc with a fixed seed. */
static inline struct ust_stack *
sim_stack_new(struct ust_vclock *vc, uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	tl_stack_config(&cfg, vc, seed);
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	/* A short MSL keeps TIME_WAIT short in virtual time (2 * 2 s). */
	ust_sysctl_set(st, "net.inet.tcp.msl", 2000);
	return (st);
}

/*
 * Builds the rig into *pr (zeroed first): the clock at t0, stacks A and B
 * seeded seed * 2 + 1 and seed * 2 + 2, the pipe with fc[0] for A to B and
 * fc[1] for B to A, the interfaces and their addresses.  Returns 0, -1
 * when the clock or a stack could not be created, -2 when the pipe or an
 * interface could not; tl_pair_close() frees what was built either way.
 */
static inline int
sim_pair_open(struct tl_pair *pr, uint64_t t0, uint64_t seed, const struct ust_fault_config fc[2])
{
	memset(pr, 0, sizeof(*pr));
	pr->vc = ust_vclock_create(t0);
	if (pr->vc == NULL)
		return (-1);
	pr->a = sim_stack_new(pr->vc, seed * 2 + 1);
	pr->b = sim_stack_new(pr->vc, seed * 2 + 2);
	if (pr->a == NULL || pr->b == NULL)
		return (-1);
	if (tl_pair_attach(pr, fc) != 0 ||
	    tl_pair_addrs(pr, tl_ip4addr(198, 18, 0, 1), tl_ip4addr(198, 18, 0, 2), 24) != 0)
		return (-2);
	return (0);
}

#endif /* USTACK_TESTS_SIM_SIM_UTIL_H */
