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

struct urig {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
};

static inline struct ust_sockaddr_in
sin4(uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	s.sin_port = htons(port);
	s.sin_addr = addr;
	return (s);
}

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
	struct ust_sockaddr_in s = sin4(addr, port);

	if (so != NULL && ust_bind(so, &s) != 0) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

static inline int
setint(struct ust_socket *so, int level, int name, int v)
{
	return (ust_setsockopt(so, level, name, &v, sizeof(v)));
}

static inline int
getint(struct ust_socket *so, int level, int name)
{
	int v = -12345;
	size_t len = sizeof(v);

	if (ust_getsockopt(so, level, name, &v, &len) != 0)
		return (-12345);
	return (v);
}

/* Polls both stacks, jumping the clock from deadline to deadline, until
 * nothing is pending up to now + dt. */
static inline void
urig_run(struct urig *r, uint64_t dt)
{
	uint64_t until = ust_vclock_now(r->vc) + dt, next, nb;
	int guard;

	for (guard = 0; guard < 100000; guard++) {
		while (ust_stack_poll(r->a) + ust_stack_poll(r->b) > 0)
			continue;
		next = ust_stack_next_deadline(r->a);
		nb = ust_stack_next_deadline(r->b);
		if (nb < next)
			next = nb;
		if (next > until)
			break;
		if (next <= ust_vclock_now(r->vc))
			next = ust_vclock_now(r->vc) + 1;
		ust_vclock_set(r->vc, next);
	}
	ust_vclock_set(r->vc, until);
	while (ust_stack_poll(r->a) + ust_stack_poll(r->b) > 0)
		continue;
}

static inline void
urig_init(struct urig *r, uint64_t seed)
{
	struct ust_pipe_config cfg;

	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(RIG_T0);
	r->a = test_stack_new(r->vc, seed);
	r->b = test_stack_new(r->vc, seed + 1);
	ust_pipe_config_init(&cfg);
	cfg.clock = ust_vclock_clock(r->vc);
	if (ust_pipe_create(&cfg, &r->p) != 0 ||
	    ust_if_attach(r->a, "p0", ust_pipe_ops(), ust_pipe_end(r->p, UST_PIPE_A), &r->ifa) !=
	        0 ||
	    ust_if_attach(r->b, "p0", ust_pipe_ops(), ust_pipe_end(r->p, UST_PIPE_B), &r->ifb) !=
	        0 ||
	    ust_if_addr_add(r->ifa, ADDR_A, 24) != 0 || ust_if_addr_add(r->ifb, ADDR_B, 24) != 0) {
		fprintf(stderr, "urig_init failed\n");
		abort();
	}
	urig_run(r, 10 * NS_MS);
}

static inline void
urig_fini(struct urig *r)
{
	test_stack_free(r->a);
	test_stack_free(r->b);
	ust_pipe_destroy(r->p);
	ust_vclock_destroy(r->vc);
}

/* Fills buf with a pattern depending on seed. */
static inline void
pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

#endif /* UST_UDP_RIG_H */
