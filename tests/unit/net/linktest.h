/*
 * linktest.h - shared fixtures of the link-layer unit tests (Ethernet,
 * ARP, interface addresses, routes): a stack on the virtual clock with one loop-driver interface (and
 * an address) or with two, frames injected and time advanced from
 * deadline to deadline, two stacks joined by a pipe, mbufs filled with
 * given bytes, and Ethernet + ARP frames built byte by byte.  The fixtures of the IP tests are in
 * netinet/iptest.h; these reuse its clock walk.
 */
#ifndef UST_LINKTEST_H
#define UST_LINKTEST_H

#include <ustack/ustack.h>

#include "netinet/in.h"
#include "test_env.h"
#include "test_loopdrv.h"
#include "tl_net.h"

struct ifnet;
struct mbuf;

static inline struct in_addr
ina(uint32_t a)
{
	struct in_addr r = { a };

	return (r);
}

/* A stack with one loop-driver interface, eth0. */
struct lt_rig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv drv;
	struct ust_if *uif;
	struct ifnet *ifp;
};

/* The stack on a clock that starts at t0.  With addr != 0 (network byte
 * order) eth0 also holds addr/plen, and its announcement has been sent and
 * taken off the driver.  Aborts if the setup fails. */
void lt_rig_init(struct lt_rig *r, uint64_t t0, uint32_t addr, unsigned plen);
/* Runs what is pending, then frees the stack (checking for leaks) and
 * the clock. */
void lt_rig_fini(struct lt_rig *r);
/* Advances the clock by ns from deadline to deadline, running what falls
 * due on the way (iptest.h's ipt_advance()). */
void lt_rig_advance(struct lt_rig *r, uint64_t ns);
/* Puts the frame in eth0's receive queue and runs the stack until idle. */
void lt_inject(struct lt_rig *r, const uint8_t *f, size_t len);

/* A stack on a clock at 0 with two loop-driver interfaces and no
 * addresses: eth0 (MAC 02:00:00:00:00:10, MTU 1500) and eth1
 * (02:00:00:00:00:11, MTU mtu1). */
struct lt_rig2 {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv d0, d1;
	struct ust_if *if0, *if1;
	struct ifnet *ifp0, *ifp1;
};

/* Aborts if the setup fails. */
void lt_rig2_init(struct lt_rig2 *r, uint32_t mtu1);
void lt_rig2_fini(struct lt_rig2 *r);

/* Two stacks (seeds seed and seed + 1) on one virtual clock that starts
 * at t0, joined by a pipe with the default configuration: a's p0 on its
 * end A, b's p0 on end B, no addresses (tl_net.h's pair). */
/* Returns 0, or the error of the pipe creation or attach that failed
 * (what was made is then left, as after a failed REQUIRE). */
int lt_pair_init(struct tl_pair *pp, uint64_t t0, uint64_t seed);
/* Frees the stacks (checking for leaks), then the pipe and the clock. */
void lt_pair_fini(struct tl_pair *pp);

/* A packet header mbuf from st's zones holding the len bytes at data,
 * with UST_MAX_HDR bytes of leading space if headroom; NULL if there are
 * no mbufs. */
struct mbuf *lt_mbuf(struct ust_stack *st, const void *data, size_t len, int headroom);

/* An Ethernet + ARP frame (RFC 826: Ethernet, IPv4, operation op) into
 * f, not padded; returns its length, 42. */
size_t lt_arp_frame(uint8_t *f, const uint8_t *edst, const uint8_t *esrc, uint16_t op,
    const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa);

#endif /* UST_LINKTEST_H */
