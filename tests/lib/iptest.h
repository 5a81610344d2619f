/*
 * iptest.h - shared fixtures of the IP/ICMP unit tests: a stack on the
 * virtual clock with one loop-driver interface holding 198.18.0.2/24 and a
 * static ARP entry for the peer 198.18.0.1, frames from the peer
 * (tl_frame.h builds them), and accessors for what the stack transmitted.
 */
#ifndef IPTEST_H
#define IPTEST_H

#include <ustack/ustack.h>
#include <ustack/ustack_stats.h>

#include "kern/stack_var.h"
#include "netinet/in.h"
#include "test_env.h"
#include "test_loopdrv.h"
#include "tl_frame.h"
#include "tl_net.h"

#define IPT_T0 (1000ull * 1000000ull)
#define IPT_MS 1000000ull
#define IPT_OURS 0xc6120002u  /* 198.18.0.2 */
#define IPT_PEER 0xc6120001u  /* 198.18.0.1 */
#define IPT_BCAST 0xc61200ffu /* 198.18.0.255 */
#define IPT_OTHER 0xc6120007u /* 198.18.0.7, on link, not ours */

static const uint8_t ipt_mac_ours[6] = { 0x02, 0, 0, 0, 0, 0x10 };
static const uint8_t ipt_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x20 };
static const uint8_t ipt_mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct ipt {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv *d;
	struct ust_if *ifp;
};

static inline void
ipt_poll(struct ipt *t)
{
	tl_poll(&t->st, 1);
}

static inline void
ipt_init_mtu(struct ipt *t, uint64_t seed, uint32_t mtu)
{
	memset(t, 0, sizeof(*t));
	t->vc = ust_vclock_create(IPT_T0);
	t->st = test_stack_new(t->vc, seed);
	t->d = calloc(1, sizeof(*t->d));
	loopdrv_init(t->d);
	t->d->mtu = mtu;
	if (ust_if_attach(t->st, "lo0", &loopdrv_ops, t->d, &t->ifp) != 0 ||
	    ust_if_addr_add(t->ifp, htonl(IPT_OURS), 24) != 0 ||
	    ust_arp_add_static(t->ifp, htonl(IPT_PEER), ipt_mac_peer) != 0) {
		fprintf(stderr, "ipt_init: interface setup failed\n");
		abort();
	}
	ipt_poll(t);
	t->d->tx_count = 0; /* gratuitous ARP */
}

static inline void
ipt_init(struct ipt *t, uint64_t seed)
{
	ipt_init_mtu(t, seed, 1500);
}

static inline void
ipt_fini(struct ipt *t)
{
	test_stack_free(t->st);
	free(t->d);
	ust_vclock_destroy(t->vc);
}

/* Writes an Ethernet header to us (dmac) from the peer. */
static inline void
ipt_eth(uint8_t *f, const uint8_t *dmac)
{
	tl_eth(f, dmac, ipt_mac_peer, TL_ETHERTYPE_IP);
}

/* A whole frame from the peer: Ethernet, IPv4, payload.  Returns its
 * length. */
static inline size_t
ipt_frame(uint8_t *f, const uint8_t *dmac, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
    uint16_t off, uint8_t ttl, const uint8_t *pl, size_t plen)
{
	return (tl_frame_ip4(f, dmac, ipt_mac_peer, src, dst, proto, id, off, ttl, pl, plen));
}

static inline void
ipt_inject(struct ipt *t, const uint8_t *f, size_t len)
{
	if (loopdrv_inject(t->d, f, len) != 0)
		abort();
	ipt_poll(t);
}

/* The n-th transmitted frame's IP header (after 14 bytes of Ethernet). */
static inline const uint8_t *
ipt_tx_ip(const struct ipt *t, int n)
{
	return (t->d->tx[n] + 14);
}

/* Checks a transmitted IP header is valid (version, IHL 5, checksum)
 * and returns its total length. */
static inline int
ipt_tx_ipok(const struct ipt *t, int n)
{
	const uint8_t *ip = ipt_tx_ip(t, n);

	return (t->d->tx_len[n] >= 34 && ip[0] == 0x45 && tl_cksum(ip, 20, 0) == 0 &&
	    t->d->tx[n][12] == 0x08 && t->d->tx[n][13] == 0x00);
}

/* Advances the virtual clock by ns, running callouts on the way. */
static inline void
ipt_advance(struct ipt *t, uint64_t ns)
{
	tl_run(t->vc, &t->st, 1, ns);
}

#endif /* IPTEST_H */
