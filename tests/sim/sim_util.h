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

#define NS_MS 1000000ull
#define NS_S 1000000000ull

/* splitmix64: the seeded source of a simulation's faults and data. */
static inline uint64_t
mix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

/* Addresses in network byte order, whatever the host's. */
static inline uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return (v);
}

static inline uint16_t
port16(uint16_t p)
{
	uint8_t x[2] = { (uint8_t)(p >> 8), (uint8_t)p };
	uint16_t v;

	memcpy(&v, x, 2);
	return (v);
}

static inline struct ust_sockaddr_in
sin4(uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	s.sin_port = port16(port);
	s.sin_addr = addr;
	return (s);
}

/* Two stacks over a pipe on one virtual clock. */
struct sim_pair {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
};

/* A stack on vc with a fixed seed. */
static inline struct ust_stack *
sim_stack_new(struct ust_vclock *vc, uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	ust_stack_config_init(&cfg);
	cfg.clock = ust_vclock_clock(vc);
	cfg.seed_set = 1;
	cfg.seed = seed;
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
 * interface could not; sim_pair_close() frees what was built either way.
 */
static inline int
sim_pair_open(struct sim_pair *pr, uint64_t t0, uint64_t seed, const struct ust_fault_config fc[2])
{
	struct ust_pipe_config pc;

	memset(pr, 0, sizeof(*pr));
	pr->vc = ust_vclock_create(t0);
	if (pr->vc == NULL)
		return (-1);
	pr->a = sim_stack_new(pr->vc, seed * 2 + 1);
	pr->b = sim_stack_new(pr->vc, seed * 2 + 2);
	if (pr->a == NULL || pr->b == NULL)
		return (-1);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(pr->vc);
	pc.fault[UST_PIPE_A_TO_B] = fc[0];
	pc.fault[UST_PIPE_B_TO_A] = fc[1];
	if (ust_pipe_create(&pc, &pr->p) != 0 ||
	    ust_if_attach(pr->a, "p0", ust_pipe_ops(), ust_pipe_end(pr->p, UST_PIPE_A), &pr->ifa) !=
	        0 ||
	    ust_if_attach(pr->b, "p0", ust_pipe_ops(), ust_pipe_end(pr->p, UST_PIPE_B), &pr->ifb) !=
	        0 ||
	    ust_if_addr_add(pr->ifa, ip4(198, 18, 0, 1), 24) != 0 ||
	    ust_if_addr_add(pr->ifb, ip4(198, 18, 0, 2), 24) != 0)
		return (-2);
	return (0);
}

/* Destroys the stacks, the pipe and the clock (close the sockets first). */
static inline void
sim_pair_close(struct sim_pair *pr)
{
	if (pr->a != NULL)
		ust_stack_destroy(pr->a);
	if (pr->b != NULL)
		ust_stack_destroy(pr->b);
	if (pr->p != NULL)
		ust_pipe_destroy(pr->p);
	if (pr->vc != NULL)
		ust_vclock_destroy(pr->vc);
	memset(pr, 0, sizeof(*pr));
}

/* Polls both stacks until neither has work left; the work done. */
static inline int
sim_poll_both(struct sim_pair *pr)
{
	int n, total = 0;

	do {
		n = ust_stack_poll(pr->a) + ust_stack_poll(pr->b);
		total += n;
	} while (n > 0);
	return (total);
}

/* The earlier of the two stacks' next deadlines (UINT64_MAX: none). */
static inline uint64_t
sim_next_deadline(struct sim_pair *pr)
{
	uint64_t na = ust_stack_next_deadline(pr->a);
	uint64_t nb = ust_stack_next_deadline(pr->b);

	return (nb < na ? nb : na);
}

#endif /* USTACK_TESTS_SIM_SIM_UTIL_H */
