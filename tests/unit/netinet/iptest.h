/*
 * iptest.h - shared fixtures of the IP/ICMP unit tests: a stack on the
 * virtual clock with one loop-driver interface holding 198.18.0.2/24 and a
 * static ARP entry for the peer 198.18.0.1, frame builders that write
 * Ethernet + IPv4 (+ ICMP) byte by byte with an independent reference
 * checksum, and accessors for what the stack transmitted.
 */
#ifndef IPTEST_H
#define IPTEST_H

#include <ustack/ustack.h>
#include <ustack/ustack_stats.h>

#include "kern/stack_var.h"
#include "netinet/in.h"
#include "test_env.h"
#include "test_loopdrv.h"

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

/* Reference Internet checksum (RFC 1071), byte at a time. */
static inline uint16_t
ipt_cksum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t sum = init;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static inline void
ipt_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
ipt_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static inline uint16_t
ipt_get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static inline void
ipt_poll(struct ipt *t)
{
	while (ust_stack_poll(t->st) > 0)
		continue;
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
	memcpy(f, dmac, 6);
	memcpy(f + 6, ipt_mac_peer, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* Writes an IPv4 header at p (options opt/optlen, padded to 4 by the
 * caller) with the reference checksum.  ip_len = header + plen. */
static inline size_t
ipt_iphdr(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t off,
    uint8_t ttl, const uint8_t *opt, size_t optlen, size_t plen)
{
	size_t hlen = 20 + optlen;

	p[0] = (uint8_t)(0x40 | (hlen / 4));
	p[1] = 0;
	p[2] = (uint8_t)((hlen + plen) >> 8);
	p[3] = (uint8_t)(hlen + plen);
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[6] = (uint8_t)(off >> 8);
	p[7] = (uint8_t)off;
	p[8] = ttl;
	p[9] = proto;
	p[10] = p[11] = 0;
	ipt_put32(p + 12, src);
	ipt_put32(p + 16, dst);
	if (optlen > 0)
		memcpy(p + 20, opt, optlen);
	uint16_t s = ipt_cksum(p, hlen, 0);
	p[10] = (uint8_t)(s >> 8);
	p[11] = (uint8_t)s;
	return (hlen);
}

/* A whole frame: Ethernet, IPv4, payload.  Returns its length. */
static inline size_t
ipt_frame(uint8_t *f, const uint8_t *dmac, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
    uint16_t off, uint8_t ttl, const uint8_t *pl, size_t plen)
{
	size_t hlen;

	ipt_eth(f, dmac);
	hlen = ipt_iphdr(f + 14, src, dst, proto, id, off, ttl, NULL, 0, plen);
	if (plen > 0)
		memcpy(f + 14 + hlen, pl, plen);
	return (14 + hlen + plen);
}

/* An ICMP message (type, code, rest, data) with its checksum into p. */
static inline size_t
ipt_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data, size_t dlen)
{
	uint16_t s;

	p[0] = type;
	p[1] = code;
	p[2] = p[3] = 0;
	ipt_put32(p + 4, rest);
	if (dlen > 0)
		memcpy(p + 8, data, dlen);
	s = ipt_cksum(p, 8 + dlen, 0);
	p[2] = (uint8_t)(s >> 8);
	p[3] = (uint8_t)s;
	return (8 + dlen);
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

	return (t->d->tx_len[n] >= 34 && ip[0] == 0x45 && ipt_cksum(ip, 20, 0) == 0 &&
	    t->d->tx[n][12] == 0x08 && t->d->tx[n][13] == 0x00);
}

/* Advances the virtual clock by ns, running callouts on the way. */
static inline void
ipt_advance(struct ipt *t, uint64_t ns)
{
	uint64_t until = ust_vclock_now(t->vc) + ns, next;

	for (;;) {
		ipt_poll(t);
		next = ust_stack_next_deadline(t->st);
		if (next > until)
			break;
		if (next <= ust_vclock_now(t->vc))
			next = ust_vclock_now(t->vc) + 1;
		ust_vclock_set(t->vc, next);
	}
	ust_vclock_set(t->vc, until);
	ipt_poll(t);
}

#endif /* IPTEST_H */
