/*
 * test_env.h - fixtures shared by the C unit tests: a memory account and
 * mbuf zones with a leak check, and a stack on a virtual clock.
 */
#ifndef UST_TEST_ENV_H
#define UST_TEST_ENV_H

#include <ustack/ustack.h>

#include "kern/mbuf.h"
#include "tl_net.h"
#include "ust_test.h"

struct test_env {
	struct ust_mem mem;
	struct mbuf_zones mbz;
};

/* Zones of the given sizes on a fresh memory account (no limit). */
void test_env_init(struct test_env *te, uint32_t nmbufs, uint32_t nclusters, uint32_t njumbo);
/* Fails the running case if any mbuf or cluster is still in use, then
 * frees the zones and checks the memory account is back to zero. */
void test_env_fini(struct test_env *te);
/* Items in use now in the mbuf, cluster and jumbo zones together. */
uint32_t test_env_in_use(const struct test_env *te);

/* A stack on the virtual clock vc with a fixed seed. */
struct ust_stack *test_stack_new(struct ust_vclock *vc, uint64_t seed);
/* The same with a memory limit and mbuf/cluster zone maxima, for tests
 * that move a lot of data or hold many connections. */
struct ust_stack *test_stack_new_sized(struct ust_vclock *vc, uint64_t seed, size_t mem_limit,
    uint32_t nmbufs, uint32_t nmbclusters);
/* 198.18.0.d in network byte order. */
uint32_t test_ip4(unsigned d);
/* Fails the running case if the stack's mbuf zones hold items in use, then
 * destroys it. */
void test_stack_free(struct ust_stack *st);
#endif /* UST_TEST_ENV_H */
