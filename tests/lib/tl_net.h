/*
 * tl_net.h - helpers every test program needs around a stack (public API
 * only): IPv4 addresses and socket addresses whatever the host's byte
 * order, integer socket options, running stacks on a virtual clock from
 * deadline to deadline, and seeded data.
 */
#ifndef UST_TL_NET_H
#define UST_TL_NET_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#define TL_NS_MS 1000000ull
#define TL_NS_S 1000000000ull

/* The address a.b.c.d in network byte order. */
uint32_t tl_ip4addr(unsigned a, unsigned b, unsigned c, unsigned d);
/* Network-order <-> host-order 16- and 32-bit values. */
uint16_t tl_hton16(uint16_t v);
uint32_t tl_hton32(uint32_t v);
/* An AF_INET socket address: addr in network order, port host order. */
struct ust_sockaddr_in tl_sin(uint32_t addr, uint16_t port);

/* A stack configuration with defaults, clock vc and a fixed seed (what
 * every test stack starts from). */
void tl_stack_config(struct ust_stack_config *cfg, struct ust_vclock *vc, uint64_t seed);

/* An int socket option: set returns ust_setsockopt's result; get
 * returns the value, or fail when the call fails. */
int tl_setint(struct ust_socket *so, int level, int name, int v);
int tl_getint(struct ust_socket *so, int level, int name, int fail);

/* Polls the n stacks until none has work left; the work done. */
int tl_poll(struct ust_stack *const *sts, int n);
/* The earliest next deadline of the n stacks (UINT64_MAX: none). */
uint64_t tl_next_deadline(struct ust_stack *const *sts, int n);
/* Runs the n stacks on clock vc for dt ns: polls them until idle, jumps
 * to the next deadline that falls within dt (at least 1 ns on), and so
 * on; the clock ends at now + dt, everything due by then run. */
void tl_run(struct ust_vclock *vc, struct ust_stack *const *sts, int n, uint64_t dt);
/* Streams len bytes of buf from the connected socket from to the socket to
 * (both non-blocking, on the n stacks): sends what from takes, runs the
 * stacks for dt ns, reads what arrived, for at most max_rounds rounds.
 * Returns the bytes that arrived equal to buf; it stops at the first byte
 * that differs, so a short count means lost, late or damaged data. */
size_t tl_stream(struct ust_vclock *vc, struct ust_stack *const *sts, int n,
    struct ust_socket *from, struct ust_socket *to, const uint8_t *buf, size_t len, uint64_t dt,
    long max_rounds);

/* splitmix64: the next value of the seeded sequence *x. */
uint64_t tl_mix64(uint64_t *x);
/* Fills buf with a pattern that depends on the offset and seed. */
void tl_pattern(uint8_t *buf, size_t len, unsigned seed);

/* Two stacks, a and b, on one virtual clock joined by the pipe driver
 * (a on end A, b on end B), each with interface p0. */
struct ust_pipe;
struct ust_fault_config;
struct tl_pair {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
};
/* With vc, a and b made by the caller: creates the pipe on vc (fc[0]
 * faults A to B, fc[1] B to A; fc NULL: none) and attaches both ends.
 * 0, or the error of the step that failed (what was made is kept for
 * the caller's cleanup). */
int tl_pair_attach(struct tl_pair *pr, const struct ust_fault_config *fc);
/* Adds addr_a/plen to a's p0 and addr_b/plen to b's (network order). */
int tl_pair_addrs(struct tl_pair *pr, uint32_t addr_a, uint32_t addr_b, unsigned plen);
/* Destroys whatever of the stacks, pipe and clock exists (close the
 * sockets first) and zeroes *pr. */
void tl_pair_close(struct tl_pair *pr);
/* tl_poll, tl_next_deadline and tl_run on both stacks. */
int tl_pair_poll(struct tl_pair *pr);
uint64_t tl_pair_next_deadline(struct tl_pair *pr);
void tl_pair_run(struct tl_pair *pr, uint64_t dt);

/* Knobs by name in a build without the sysctl name table
 * (UST_SYSCTL_NAMES 0): the tests' own copy of the names (tl_sysctl.c)
 * reaches the knob by index, so a test that sets a knob runs in every
 * configuration. */
#if !UST_SYSCTL_NAMES
int tl_sysctl_set(struct ust_stack *st, const char *name, int64_t value);
int tl_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value);
#define ust_sysctl_set(st, name, value) tl_sysctl_set((st), (name), (value))
#define ust_sysctl_get(st, name, value) tl_sysctl_get((st), (name), (value))
#endif

#endif /* UST_TL_NET_H */
