/*
 * udp_rig.h - fixtures for the socket, event, PCB and UDP tests: two
 * stacks joined by a pipe on a virtual clock with 198.18.0.1/24 (A) and
 * 198.18.0.2/24 (B), a loop-driver stack for crafted frames, and address
 * helpers.  Included by one test file each (static helpers).
 */
#ifndef UST_UDP_RIG_H
#define UST_UDP_RIG_H

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "kern/endian.h"
#include "test_env.h"
#include "test_loopdrv.h"

#define NS_MS 1000000ull
#define RIG_T0 (1000 * NS_MS)
#define IP4(a, b, c, d) \
	htonl(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define ADDR_A IP4(198, 18, 0, 1)
#define ADDR_B IP4(198, 18, 0, 2)
#define ADDR_BCAST IP4(198, 18, 0, 255)

static inline struct ust_socket *
udp_socket(struct ust_stack *st)
{
	struct ust_socket *so = NULL;

	if (ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so) != 0)
		return (NULL);
	return (so);
}

static inline struct ust_socket *
udp_bound(struct ust_stack *st, uint32_t addr, uint16_t port)
{
	struct ust_socket *so = udp_socket(st);
	struct ust_sockaddr_in s = tl_sin(addr, port);

	if (so != NULL && ust_bind(so, (const struct ust_sockaddr *)&s, sizeof(s)) != 0) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

static inline int
setint(struct ust_socket *so, int level, int name, int v)
{
	return (tl_setint(so, level, name, v));
}

static inline int
getint(struct ust_socket *so, int level, int name)
{
	return (tl_getint(so, level, name, -12345));
}

static inline void
urig_init(struct tl_pair *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(RIG_T0);
	r->a = test_stack_new(r->vc, seed);
	r->b = test_stack_new(r->vc, seed + 1);
	if (tl_pair_attach(r, NULL) != 0 || tl_pair_addrs(r, ADDR_A, ADDR_B, 24) != 0) {
		fprintf(stderr, "urig_init failed\n");
		abort();
	}
	tl_pair_run(r, 10 * NS_MS);
}

static inline void
urig_fini(struct tl_pair *r)
{
	/* A pipe that lends gets a frame back to its sender at the sender's
	 * next poll, once the receiver let go of it. */
	ust_stack_poll(r->a);
	ust_stack_poll(r->b);
	test_stack_free(r->a);
	test_stack_free(r->b);
	ust_pipe_destroy(r->p);
	ust_vclock_destroy(r->vc);
}

#endif /* UST_UDP_RIG_H */
