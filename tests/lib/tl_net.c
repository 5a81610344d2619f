/*
 * tl_net.c - addresses, socket options, the clock walk and seeded data
 * (tl_net.h).
 */
#include "tl_net.h"

#include <ustack/ustack_pipe.h>

#include <string.h>

uint32_t
tl_ip4addr(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return (v);
}

uint16_t
tl_hton16(uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	uint16_t r;

	memcpy(&r, x, 2);
	return (r);
}

uint32_t
tl_hton32(uint32_t v)
{
	return (tl_ip4addr(v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff));
}

struct ust_sockaddr_in
tl_sin(uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	s.sin_port = tl_hton16(port);
	s.sin_addr = addr;
	return (s);
}

void
tl_stack_config(struct ust_stack_config *cfg, struct ust_vclock *vc, uint64_t seed)
{
	ust_stack_config_init(cfg);
	cfg->clock = ust_vclock_clock(vc);
	cfg->seed_set = 1;
	cfg->seed = seed;
}

int
tl_setint(struct ust_socket *so, int level, int name, int v)
{
	return (ust_setsockopt(so, level, name, &v, sizeof(v)));
}

int
tl_getint(struct ust_socket *so, int level, int name, int fail)
{
	int v = fail;
	size_t len = sizeof(v);

	if (ust_getsockopt(so, level, name, &v, &len) != 0)
		return (fail);
	return (v);
}

int
tl_poll(struct ust_stack *const *sts, int n)
{
	int i, w, total = 0;

	do {
		w = 0;
		for (i = 0; i < n; i++)
			w += ust_stack_poll(sts[i]);
		total += w;
	} while (w > 0);
	return (total);
}

uint64_t
tl_next_deadline(struct ust_stack *const *sts, int n)
{
	uint64_t next = UINT64_MAX, d;
	int i;

	for (i = 0; i < n; i++) {
		d = ust_stack_next_deadline(sts[i]);
		if (d < next)
			next = d;
	}
	return (next);
}

void
tl_run(struct ust_vclock *vc, struct ust_stack *const *sts, int n, uint64_t dt)
{
	uint64_t until = ust_vclock_now(vc) + dt, next;
	long guard;

	/* Each round moves the clock on by at least 1 ns; the guard only
	 * bounds a stack that keeps re-arming a timer at now. */
	for (guard = 0; guard < 1000000; guard++) {
		tl_poll(sts, n);
		next = tl_next_deadline(sts, n);
		if (next > until)
			break;
		if (next <= ust_vclock_now(vc))
			next = ust_vclock_now(vc) + 1;
		ust_vclock_set(vc, next);
	}
	ust_vclock_set(vc, until);
	tl_poll(sts, n);
}

size_t
tl_stream(struct ust_vclock *vc, struct ust_stack *const *sts, int n, struct ust_socket *from,
    struct ust_socket *to, const uint8_t *buf, size_t len, uint64_t dt, long max_rounds)
{
	uint8_t in[16384];
	size_t sent = 0, got = 0;
	ptrdiff_t k;
	long round;

	for (round = 0; round < max_rounds && got < len; round++) {
		while (sent < len && (k = ust_send(from, buf + sent, len - sent, 0)) > 0)
			sent += (size_t)k;
		tl_run(vc, sts, n, dt);
		while ((k = ust_recv(to, in, sizeof(in), 0)) > 0) {
			if ((size_t)k > len - got || memcmp(in, buf + got, (size_t)k) != 0)
				return (got);
			got += (size_t)k;
		}
	}
	return (got);
}

uint64_t
tl_mix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

void
tl_pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

int
tl_pair_attach(struct tl_pair *pr, const struct ust_fault_config *fc)
{
	const struct ust_driver_ops *ops = ust_pipe_ops();
	struct ust_pipe_config cfg;
	int rc;

	ust_pipe_config_init(&cfg);
	cfg.clock = ust_vclock_clock(pr->vc);
	if (fc != NULL) {
		cfg.fault[UST_PIPE_A_TO_B] = fc[0];
		cfg.fault[UST_PIPE_B_TO_A] = fc[1];
	}
	rc = ust_pipe_create(&cfg, &pr->p);
	if (rc == 0)
		rc = ust_if_attach(pr->a, "p0", ops, ust_pipe_end(pr->p, UST_PIPE_A), &pr->ifa);
	if (rc == 0)
		rc = ust_if_attach(pr->b, "p0", ops, ust_pipe_end(pr->p, UST_PIPE_B), &pr->ifb);
	return (rc);
}

int
tl_pair_addrs(struct tl_pair *pr, uint32_t addr_a, uint32_t addr_b, unsigned plen)
{
	int rc = ust_if_addr_add(pr->ifa, addr_a, plen);

	return (rc != 0 ? rc : ust_if_addr_add(pr->ifb, addr_b, plen));
}

void
tl_pair_close(struct tl_pair *pr)
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

int
tl_pair_poll(struct tl_pair *pr)
{
	struct ust_stack *s[2] = { pr->a, pr->b };

	return (tl_poll(s, 2));
}

uint64_t
tl_pair_next_deadline(struct tl_pair *pr)
{
	struct ust_stack *s[2] = { pr->a, pr->b };

	return (tl_next_deadline(s, 2));
}

void
tl_pair_run(struct tl_pair *pr, uint64_t dt)
{
	struct ust_stack *s[2] = { pr->a, pr->b };

	tl_run(pr->vc, s, 2, dt);
}
