/*
 * linktest.c - shared fixtures of the link-layer unit tests
 * (net/linktest.h).
 */
#include "net/linktest.h"

#include <ustack/ustack_pipe.h>

#include "kern/stack_var.h"
#include "iptest.h"

static void
drain(struct ust_stack *st)
{
	tl_poll(&st, 1);
}

/* Runs what is pending, then frees the stack (checking for leaks) and
 * its clock. */
static void
stack_fini(struct ust_vclock *vc, struct ust_stack *st)
{
	drain(st);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

void
lt_rig_init(struct lt_rig *r, uint64_t t0, uint32_t addr, unsigned plen)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(t0);
	r->st = test_stack_new(r->vc, ust_test_seed);
	loopdrv_init(&r->drv);
	if (ust_if_attach(r->st, "eth0", &loopdrv_ops, &r->drv, &r->uif) != 0)
		abort();
	r->ifp = IFP_FROM_UST(r->uif);
	if (addr != 0) {
		if (ust_if_addr_add(r->uif, addr, plen) != 0)
			abort();
		ust_stack_poll(r->st);
		r->drv.tx_count = 0;
	}
}

void
lt_rig_fini(struct lt_rig *r)
{
	stack_fini(r->vc, r->st);
}

void
lt_rig_advance(struct lt_rig *r, uint64_t ns)
{
	tl_run(r->vc, &r->st, 1, ns);
}

void
lt_inject(struct lt_rig *r, const uint8_t *f, size_t len)
{
	REQUIRE(loopdrv_inject(&r->drv, f, len) == 0);
	drain(r->st);
}

void
lt_rig2_init(struct lt_rig2 *r, uint32_t mtu1)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(0);
	r->st = test_stack_new(r->vc, ust_test_seed);
	loopdrv_init(&r->d0);
	loopdrv_init(&r->d1);
	r->d1.mac[5] = 0x11;
	r->d1.mtu = mtu1;
	if (ust_if_attach(r->st, "eth0", &loopdrv_ops, &r->d0, &r->if0) != 0 ||
	    ust_if_attach(r->st, "eth1", &loopdrv_ops, &r->d1, &r->if1) != 0)
		abort();
	r->ifp0 = IFP_FROM_UST(r->if0);
	r->ifp1 = IFP_FROM_UST(r->if1);
}

void
lt_rig2_fini(struct lt_rig2 *r)
{
	stack_fini(r->vc, r->st);
}

int
lt_pair_init(struct tl_pair *pp, uint64_t t0, uint64_t seed)
{
	memset(pp, 0, sizeof(*pp));
	pp->vc = ust_vclock_create(t0);
	pp->a = test_stack_new(pp->vc, seed);
	pp->b = test_stack_new(pp->vc, seed + 1);
	return (tl_pair_attach(pp, NULL));
}

/* The stacks before the pipe: their detach frees what the pipe holds. */
void
lt_pair_fini(struct tl_pair *pp)
{
	test_stack_free(pp->a);
	test_stack_free(pp->b);
	ust_pipe_destroy(pp->p);
	ust_vclock_destroy(pp->vc);
}

struct mbuf *
lt_mbuf(struct ust_stack *st, const void *data, size_t len, int headroom)
{
	struct mbuf *m = m_gethdr(&st->st_mbz, MT_DATA);

	if (m == NULL)
		return (NULL);
	if (headroom)
		m_reserve(m, UST_MAX_HDR);
	if (m_append(m, (uint32_t)len, data) != 0) {
		m_freem(m);
		return (NULL);
	}
	return (m);
}

size_t
lt_arp_frame(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, uint16_t op, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	return (tl_arp(f, edst, esrc, op, sha, ntohl(spa), tha, ntohl(tpa)));
}
