/*
 * nd6rig.h - fixtures of the neighbor discovery, address, MLD and SLAAC
 * unit tests: a stack on the virtual clock with one loop-driver interface
 * (MAC 02:00:00:00:00:10), ND/MLD messages from a peer built with
 * tl_frame6 and handed to the stack, and readers of what it transmitted.
 *
 * Messages go to the ND/MLD input functions the way icmp6_input would
 * hand them over (m at its IPv6 header, off 40), so these tests do not
 * depend on the datapath's ICMPv6 demultiplexing.
 */
#ifndef ND6RIG_H
#define ND6RIG_H

#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_stats.h>

#include "kern/mbuf.h"
#include "kern/stack_var.h"
#include "netinet6/icmp6.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"
#include "netinet6/nd6_var.h"
#include "test_env.h"
#include "test_loopdrv.h"
#include "tl_frame6.h"
#include "tl_net.h"
#include "ust_test.h"

#if UST_INET6

#define NR_T0 (1000ull * 1000000ull)
#define NR_MS 1000000ull
#define NR_SEC 1000000000ull

static const uint8_t nr_mac_ours[6] = { 0x02, 0, 0, 0, 0, 0x10 };
static const uint8_t nr_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x20 };
static const uint8_t nr_mac_peer2[6] = { 0x02, 0, 0, 0, 0, 0x21 };

struct nr {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct loopdrv *d;
	struct ust_if *uifp;
	struct ifnet *ifp;
};

/* The stack alone; knobs may be set before nr_attach. */
static inline void
nr_stack(struct nr *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->vc = ust_vclock_create(NR_T0);
	t->st = test_stack_new(t->vc, seed);
	t->d = calloc(1, sizeof(*t->d));
	loopdrv_init(t->d);
}

static inline void
nr_knob(struct nr *t, const char *name, int64_t v)
{
	if (ust_sysctl_set(t->st, name, v) != 0) {
		fprintf(stderr, "knob %s\n", name);
		abort();
	}
}

static inline void
nr_attach_name(struct nr *t, const char *name)
{
	if (ust_if_attach(t->st, name, &loopdrv_ops, t->d, &t->uifp) != 0)
		abort();
	t->ifp = IFP_FROM_UST(t->uifp);
}

static inline void
nr_attach(struct nr *t)
{
	nr_attach_name(t, "pd0");
}

/* A quiet interface (no link-local address, no DAD): the common case. */
static inline void
nr_init(struct nr *t, uint64_t seed)
{
	nr_stack(t, seed);
	nr_knob(t, "net.inet6.ip6.dad_count", 0);
	nr_attach(t);
}

static inline void
nr_fini(struct nr *t)
{
	test_stack_free(t->st);
	free(t->d);
	ust_vclock_destroy(t->vc);
}

static inline void
nr_poll(struct nr *t)
{
	tl_poll(&t->st, 1);
}

static inline void
nr_advance(struct nr *t, uint64_t ns)
{
	tl_run(t->vc, &t->st, 1, ns);
}

static inline struct in6_addr
nr_a(const char *s)
{
	struct in6_addr a;

	tl_in6(a.s6_addr8, s);
	return (a);
}

/* Hands a frame built by tl_frame6 (Ethernet + IPv6 + ICMPv6, no
 * extension headers except one hop-by-hop) to the stack's ND/MLD input. */
static inline void
nr_input(struct nr *t, const uint8_t *f, size_t len)
{
	struct mbuf *m = m_devget(t->ifp, f + 14, len - 14);
	uint32_t off = 40;
	uint8_t nxt = f[14 + 6];

	if (m == NULL)
		abort();
	if (nxt == TL_IPPROTO_HOPOPTS)
		off += ((uint32_t)f[14 + 40 + 1] + 1) * 8;
	switch (f[14 + off]) {
	case ND_NEIGHBOR_SOLICIT:
		nd6_ns_input(m, off, (uint32_t)(len - 14 - off));
		break;
	case ND_NEIGHBOR_ADVERT:
		nd6_na_input(m, off, (uint32_t)(len - 14 - off));
		break;
	case ND_ROUTER_SOLICIT:
		nd6_rs_input(m, off, (uint32_t)(len - 14 - off));
		break;
	case ND_ROUTER_ADVERT:
		nd6_ra_input(m, off, (uint32_t)(len - 14 - off));
		break;
	case ND_REDIRECT:
		nd6_redirect_input(m, off, (uint32_t)(len - 14 - off));
		break;
	default:
		mld_input(m, off, (uint32_t)(len - 14 - off));
		break;
	}
	nr_poll(t);
}

/* An ICMPv6 message body pl (plen bytes, built for src/dst) in a frame
 * from the peer with hop limit hlim. */
static inline void
nr_send(struct nr *t, const uint8_t *dmac, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t hlim, const uint8_t *pl, size_t plen)
{
	uint8_t f[2048];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, hlim, src->s6_addr8, dst->s6_addr8 };
	size_t n = tl_frame6(f, dmac, nr_mac_peer, &h, NULL, 0, pl, plen);

	nr_input(t, f, n);
}

/* A neighbor advertisement from the peer for target (TLLAO mac unless
 * NULL). */
static inline void
nr_na(struct nr *t, const struct in6_addr *src, const struct in6_addr *dst, uint32_t flags,
    const struct in6_addr *target, const uint8_t *mac, uint8_t hlim)
{
	uint8_t pl[64], o[8];
	size_t ol = mac != NULL ? tl_nd_opt_lla(o, TL_ND_OPT_TLLA, mac) : 0;
	size_t n = tl_nd_na(pl, src->s6_addr8, dst->s6_addr8, flags, target->s6_addr8, o, ol);

	nr_send(t, nr_mac_ours, src, dst, hlim, pl, n);
}

/* The n-th transmitted frame, read; fails the case when it is not a
 * valid IPv6 frame. */
static inline int
nr_tx(const struct nr *t, int n, struct tl_pkt6 *p)
{
	if (n >= t->d->tx_count)
		return (-1);
	return (tl_parse6(t->d->tx[n], t->d->tx_len[n], p));
}

/* How many transmitted frames are ICMPv6 of type. */
static inline int
nr_count(const struct nr *t, uint8_t type)
{
	struct tl_pkt6 p;
	int i, n = 0;

	for (i = 0; i < t->d->tx_count; i++)
		if (nr_tx(t, i, &p) == 0 && p.proto == TL_IPPROTO_ICMPV6 && p.icmp_type == type)
			n++;
	return (n);
}

/* The last transmitted ICMPv6 message of type: 0 and *p, or -1. */
static inline int
nr_last(const struct nr *t, uint8_t type, struct tl_pkt6 *p)
{
	int i;

	for (i = t->d->tx_count - 1; i >= 0; i--)
		if (nr_tx(t, i, p) == 0 && p->proto == TL_IPPROTO_ICMPV6 && p->icmp_type == type)
			return (0);
	return (-1);
}

/* An IPv6/UDP packet from src to dst as ip6_output hands it to
 * nd6_output (m at the IPv6 header). */
static inline struct mbuf *
nr_pkt(struct nr *t, const struct in6_addr *src, const struct in6_addr *dst)
{
	uint8_t b[64];
	struct tl_ip6 h = { 0, 0, 17, 64, src->s6_addr8, dst->s6_addr8 };
	size_t n = tl_ip6(b, &h, 8);
	struct mbuf *m;

	memset(b + n, 0, 8);
	m = m_devget(t->ifp, b, n + 8);
	if (m == NULL)
		abort();
	m->m_pkthdr.rcvif = NULL;
	return (m);
}

static inline int
nr_entry(struct nr *t, const struct in6_addr *a, struct ust_nd6_entry *e)
{
	return (ust_nd6_lookup(t->st, a, 0, e));
}

static inline unsigned
nr_addr_flags(struct nr *t, const struct in6_addr *a)
{
	struct ust_in6_addr x;
	unsigned i, plen, flags;

	for (i = 0; ust_if_addr6_get(t->uifp, i, &x, &plen, &flags) == 0; i++)
		if (memcmp(x.s6_addr8, a->s6_addr8, 16) == 0)
			return (flags | 0x10000u);
	return (0);
}

static inline struct ust_icmp6stat
nr_icmp6(struct nr *t)
{
	struct ust_icmp6stat s;

	ust_stats_icmp6(t->st, &s);
	return (s);
}

/* The same frame through the driver (ether_input, ip6_input,
 * icmp6_input: the whole receive path). */
static inline void
nr_inject(struct nr *t, const uint8_t *f, size_t len)
{
	if (loopdrv_inject(t->d, f, len) != 0)
		abort();
	nr_poll(t);
}

/* An ICMPv6 frame from the peer through the whole receive path. */
static inline void
nr_wire(struct nr *t, const uint8_t *dmac, const struct in6_addr *src, const struct in6_addr *dst,
    uint8_t hlim, const uint8_t *pl, size_t plen)
{
	uint8_t f[2048];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, hlim, src->s6_addr8, dst->s6_addr8 };
	size_t n = tl_frame6(f, dmac, nr_mac_peer, &h, NULL, 0, pl, plen);

	nr_inject(t, f, n);
}

#define NR_CNT(t, f) ((t)->st->st_nd6->nd_cnt.f)

/* A check of an icmp6stat/ip6stat counter: only where counters exist. */
#if UST_STATS
#define CHECK_STAT(c) CHECK(c)
#else
#define CHECK_STAT(c) ((void)0)
#endif

#endif /* UST_INET6 */

#endif /* ND6RIG_H */
