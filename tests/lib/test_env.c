/*
 * test_env.c - fixtures shared by the C unit tests (see test_env.h).
 */
#include <string.h>

#include "test_env.h"

#include "kern/stack_var.h"

void
test_env_init(struct test_env *te, uint32_t nmbufs, uint32_t nclusters, uint32_t njumbo)
{
	memset(te, 0, sizeof(*te));
	ust_mem_init(&te->mem, 0);
	if (mbuf_zones_init(&te->mbz, &te->mem, nmbufs, nclusters, njumbo) != 0) {
		fprintf(stderr, "test_env_init: mbuf_zones_init failed\n");
		abort();
	}
}

static uint32_t
zone_in_use(const struct ust_zone *z)
{
	struct ust_zone_stats zs;

	if (z == NULL)
		return (0);
	ust_zone_get_stats(z, &zs);
	return (zs.in_use);
}

uint32_t
test_env_in_use(const struct test_env *te)
{
	return (zone_in_use(te->mbz.mz_mbuf) + zone_in_use(te->mbz.mz_clust) +
	    zone_in_use(te->mbz.mz_jumbo));
}

void
test_env_fini(struct test_env *te)
{
	uint32_t leaked = test_env_in_use(te);

	if (leaked != 0)
		UST_FAIL_AT(__FILE__, __LINE__, "leak: %u mbufs/clusters still in use", leaked);
	mbuf_zones_fini(&te->mbz);
	if (te->mem.in_use != 0)
		UST_FAIL_AT(__FILE__, __LINE__, "leak: %zu bytes still allocated", te->mem.in_use);
}

static struct ust_stack *
stack_new_cfg(struct ust_stack_config *cfg)
{
	struct ust_stack *st = NULL;

	if (ust_stack_create(cfg, &st) != 0) {
		fprintf(stderr, "test_stack_new: ust_stack_create failed\n");
		abort();
	}
#if UST_INET6
	/* IPv6 stays quiet unless a test asks for it: no link-local address
	 * (so no DAD, MLD report or router solicitation) on the interfaces
	 * the IPv4 tests count frames on.  IPv6 tests set it back. */
	(void)ust_sysctl_set(st, "net.inet6.ip6.auto_linklocal", 0);
#endif
	return (st);
}

struct ust_stack *
test_stack_new(struct ust_vclock *vc, uint64_t seed)
{
	struct ust_stack_config cfg;

	tl_stack_config(&cfg, vc, seed);
	return (stack_new_cfg(&cfg));
}

struct ust_stack *
test_stack_new_sized(struct ust_vclock *vc, uint64_t seed, size_t mem_limit, uint32_t nmbufs,
    uint32_t nmbclusters)
{
	struct ust_stack_config cfg;

	tl_stack_config(&cfg, vc, seed);
	cfg.mem_limit = mem_limit;
	cfg.nmbufs = nmbufs;
	cfg.nmbclusters = nmbclusters;
	return (stack_new_cfg(&cfg));
}

uint32_t
test_ip4(unsigned d)
{
	uint8_t b[4] = { 198, 18, 0, (uint8_t)d };
	uint32_t v;

	memcpy(&v, b, 4);
	return (v);
}

void
test_stack_free(struct ust_stack *st)
{
	struct ust_zone_stats zs;
	unsigned i;

	/* The mbuf zones only: sockets and PCBs a test leaves open or in
	 * TIME_WAIT on purpose are the stack's to free on destroy; a packet
	 * buffer still in use then is a leak. */
	for (i = 0; ust_stack_get_zone_stats(st, i, &zs) == 0; i++)
		if (strncmp(zs.name, "mbuf", 4) == 0 && zs.in_use != 0)
			UST_FAIL_AT(__FILE__, __LINE__, "leak: zone %s has %u items in use",
			    zs.name, zs.in_use);
	ust_stack_destroy(st);
}
