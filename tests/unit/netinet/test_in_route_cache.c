/*
 * test_in_route_cache.c - the PCB route cache (struct inp_route,
 * in_route_get / in6_route_get, st_route_gen): a datagram sent with a
 * cache leaves exactly where and how it would without one after every
 * change that can move it.
 *
 * The first cases call ip_output / ip6_output with a cache of their own
 * on one stack with two loop-driver interfaces (lo0 198.18.0.2/24 with
 * the peer 198.18.0.1; lo1 198.19.0.2/24 with a gateway 198.19.0.9):
 * after ust_route_del, ust_if_addr_del, a more specific route, a route
 * moved to the other interface, a renumbering that makes the destination
 * a broadcast, and (IPv6) a Packet Too Big, the next datagram takes the
 * new route or fails with the error and counter of the plain path.  The
 * TCP cases move an established connection's route between the pipe and
 * lo1 (and delete it) in the middle of a seeded transfer: every byte
 * arrives, segments go where the table says, and the cache is used
 * (ips_rtcache_hit).  The same source is built against ustack_debug
 * (test_in_route_cache_debug), where every cache hit is checked against
 * a fresh lookup: a change that forgot rt_gen_bump() panics there.
 */
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack_pipe.h>

#include "iptest.h"
#include "kern/mbuf.h"
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/in_route.h"
#include "netinet/ip_var.h"
#include "netinet/tcp_var.h"
#if UST_INET6
#include "netinet6/ip6.h"
#include "netinet6/ip6_var.h"
#endif

#define PROTO_TEST 253        /* RFC 3692 experimentation */
#define RC_OURS2 0xc6130002u  /* 198.19.0.2, lo1 */
#define RC_GW 0xc6130009u     /* 198.19.0.9, a gateway on lo1 */
#define RC_NET0 0xc6120000u   /* 198.18.0.0/24, lo0's connected route */
#define RC_RENUMB 0xc6120006u /* 198.18.0.6/30: 198.18.0.7 becomes its broadcast */
#define RC_LOCAL2 0xc6130002u /* our address on lo1 */
#define RC_MS 1000000ull

/* Counters, and checks of them, where the build has them (UST_STATS). */
#if UST_STATS
#define IPST(st, f) ((st)->st_ipstat.f)
#define IP6ST(st, f) ((st)->st_ip6stat.f)
#define CHECK_STAT(x) CHECK(x)
#define CHECK_STAT_EQ(a, b) CHECK_EQ(a, b)
#else
#define IPST(st, f) ((void)(st), (uint64_t)0)
#define IP6ST(st, f) ((void)(st), (uint64_t)0)
#define CHECK_STAT(x) ((void)(x))
#define CHECK_STAT_EQ(a, b) ((void)(a), (void)(b))
#endif

static const uint8_t rc_gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t rc_other_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };

struct rc {
	struct ipt t;
	struct loopdrv *d2;
	struct ust_if *if2;
	struct inp_route ro;
};

static void
rc_init(struct rc *r)
{
	ipt_init(&r->t, ust_test_seed);
	r->d2 = calloc(1, sizeof(*r->d2));
	REQUIRE(r->d2 != NULL);
	loopdrv_init(r->d2);
	r->d2->mac[5] = 0x11;
	REQUIRE_EQ(ust_if_attach(r->t.st, "lo1", &loopdrv_ops, r->d2, &r->if2), 0);
	REQUIRE_EQ(ust_if_addr_add(r->if2, htonl(RC_OURS2), 24), 0);
	REQUIRE_EQ(ust_arp_add_static(r->if2, htonl(RC_GW), rc_gw_mac), 0);
	REQUIRE_EQ(ust_arp_add_static(r->t.ifp, htonl(IPT_OTHER), rc_other_mac), 0);
	ipt_poll(&r->t);
	r->t.d->tx_count = 0;
	r->d2->tx_count = 0;
	memset(&r->ro, 0, sizeof(r->ro));
}

static void
rc_fini(struct rc *r)
{
	ipt_fini(&r->t);
	free(r->d2);
}

/* A 100-byte datagram with room for the headers. */
static struct mbuf *
rc_payload(struct ust_stack *st)
{
	uint8_t b[100];
	struct mbuf *m;

	memset(b, 0x5a, sizeof(b));
	m = m_gethdr(&st->st_mbz, MT_DATA);
	if (m == NULL)
		abort();
	m_reserve(m, 64);
	if (m_append(m, sizeof(b), b) != 0)
		abort();
	return (m);
}

/* ip_output from src to dst through the rig's cache (flags IP_*), the
 * transmit batch flushed: its result. */
static int
rc_send(struct rc *r, uint32_t src, uint32_t dst, uint8_t flags)
{
	struct ip_out_args a;
	int error;

	memset(&a, 0, sizeof(a));
	a.src.s_addr = htonl(src);
	a.dst.s_addr = htonl(dst);
	a.proto = PROTO_TEST;
	a.flags = flags;
	a.ro = &r->ro;
	error = ip_output(r->t.st, rc_payload(r->t.st), &a);
	ipt_poll(&r->t);
	return (error);
}

/* The last frame on d: to dmac, IPv4 from src to dst. */
static int
rc_last_is(const struct loopdrv *d, const uint8_t *dmac, uint32_t src, uint32_t dst)
{
	struct tl_pkt p;

	if (d->tx_count == 0 ||
	    tl_parse(d->tx[d->tx_count - 1], d->tx_len[d->tx_count - 1], &p) != 0 || p.ip == NULL)
		return (0);
	return (memcmp(p.dmac, dmac, 6) == 0 && p.src == src && p.dst == dst);
}

static uint64_t
rc_hits(const struct rc *r)
{
	return (IPST(r->t.st, ips_rtcache_hit));
}

TEST(rtcache_fills_once_then_hits)
{
	struct rc r;
	uint32_t gen;
	int i;

	rc_init(&r);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_STAT_EQ(IPST(r.t.st, ips_rtcache_miss), 1);
	CHECK_STAT_EQ(rc_hits(&r), 0);
	CHECK_EQ(r.ro.ro_gen, r.t.st->st_route_gen);
	CHECK_EQ(r.ro.ro_flags & (RO_VALID | RO_LOCAL | RO_INET6), RO_VALID);
	for (i = 0; i < 10; i++)
		CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_STAT_EQ(rc_hits(&r), 10);
	CHECK_STAT_EQ(IPST(r.t.st, ips_rtcache_miss), 1);
	CHECK_EQ(r.t.d->tx_count, 11);
	CHECK(rc_last_is(r.t.d, ipt_mac_peer, IPT_OURS, IPT_PEER));
	CHECK_STAT_EQ(IPST(r.t.st, ips_localout), 11);
	/* Another destination through the same cache: refilled, not
	 * answered with the old route. */
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), 0);
	CHECK_STAT_EQ(IPST(r.t.st, ips_rtcache_miss), 2);
	CHECK(rc_last_is(r.t.d, rc_other_mac, IPT_OURS, IPT_OTHER));
	/* A change anywhere makes it stale. */
	gen = r.t.st->st_route_gen;
	CHECK_EQ(ust_route_add(r.t.st, htonl(0x0a000000u), 8, htonl(RC_GW), NULL), 0);
	CHECK(r.t.st->st_route_gen != gen);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), 0);
	CHECK_STAT_EQ(IPST(r.t.st, ips_rtcache_miss), 3);
	rc_fini(&r);
}

TEST(rtcache_route_del_fails_as_without_cache)
{
	struct rc r;
	uint64_t noroute;

	rc_init(&r);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_STAT_EQ(rc_hits(&r), 1);
	noroute = IPST(r.t.st, ips_noroute);
	CHECK_EQ(ust_route_del(r.t.st, htonl(RC_NET0), 24), 0);
	r.t.d->tx_count = 0;
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), UST_ENETUNREACH);
	CHECK_STAT_EQ(IPST(r.t.st, ips_noroute), noroute + 1);
	CHECK_EQ(r.ro.ro_gen, 0); /* failures are not cached */
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), UST_ENETUNREACH);
	CHECK_STAT_EQ(IPST(r.t.st, ips_noroute), noroute + 2);
	CHECK_EQ(r.t.d->tx_count + r.d2->tx_count, 0);
	/* Back: sent again, and cached again. */
	CHECK_EQ(ust_route_add(r.t.st, htonl(RC_NET0), 24, 0, r.t.ifp), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK(rc_last_is(r.t.d, ipt_mac_peer, IPT_OURS, IPT_PEER));
	CHECK_EQ(r.ro.ro_gen, r.t.st->st_route_gen);
	rc_fini(&r);
}

TEST(rtcache_more_specific_route_and_other_interface)
{
	struct rc r;

	rc_init(&r);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.t.d->tx_count, 2);
	/* A host route through lo1's gateway wins over the /24. */
	CHECK_EQ(ust_route_add(r.t.st, htonl(IPT_PEER), 32, htonl(RC_GW), NULL), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.t.d->tx_count, 2);
	CHECK_EQ(r.d2->tx_count, 1);
	CHECK(rc_last_is(r.d2, rc_gw_mac, IPT_OURS, IPT_PEER));
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.d2->tx_count, 2);
	/* Gone again: back on lo0. */
	CHECK_EQ(ust_route_del(r.t.st, htonl(IPT_PEER), 32), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.t.d->tx_count, 3);
	CHECK_EQ(r.d2->tx_count, 2);
	CHECK(rc_last_is(r.t.d, ipt_mac_peer, IPT_OURS, IPT_PEER));
	/* The /24 itself moved to lo1 (delete, then add through the
	 * gateway). */
	CHECK_EQ(ust_route_del(r.t.st, htonl(RC_NET0), 24), 0);
	CHECK_EQ(ust_route_add(r.t.st, htonl(RC_NET0), 24, htonl(RC_GW), NULL), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.t.d->tx_count, 3);
	CHECK_EQ(r.d2->tx_count, 3);
	CHECK(rc_last_is(r.d2, rc_gw_mac, IPT_OURS, IPT_PEER));
	rc_fini(&r);
}

TEST(rtcache_source_address_deleted)
{
	struct rc r;
	uint64_t noroute;

	rc_init(&r);
	/* The peer by lo1's gateway, from lo0's address (allowed: a host
	 * may send from any of its addresses, RFC 1122 3.3.4.2). */
	CHECK_EQ(ust_route_add(r.t.st, htonl(IPT_PEER), 32, htonl(RC_GW), NULL), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.d2->tx_count, 2);
	noroute = IPST(r.t.st, ips_noroute);
	/* The route stays, the source is no longer ours. */
	CHECK_EQ(ust_if_addr_del(r.t.ifp, htonl(IPT_OURS)), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), UST_EADDRNOTAVAIL);
	CHECK_STAT_EQ(IPST(r.t.st, ips_noroute), noroute);
	CHECK_EQ(r.d2->tx_count, 2);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_EQ(ust_if_addr_add(r.t.ifp, htonl(IPT_OURS), 24), 0);
	r.t.d->tx_count = 0; /* gratuitous ARP */
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_PEER, 0), 0);
	CHECK_EQ(r.d2->tx_count, 3);
	rc_fini(&r);
}

TEST(rtcache_broadcast_renumbering)
{
	struct rc r;

	rc_init(&r);
	/* 198.18.0.7 is a neighbour ... */
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), 0);
	CHECK(rc_last_is(r.t.d, rc_other_mac, IPT_OURS, IPT_OTHER));
	CHECK_STAT_EQ(rc_hits(&r), 1);
	/* ... until 198.18.0.6/30 makes it the broadcast of lo0's new
	 * subnet: RFC 1122 3.3.6, refused without SO_BROADCAST, and with
	 * it sent to ff:ff:ff:ff:ff:ff, never to the neighbour's MAC. */
	CHECK_EQ(ust_if_addr_add(r.t.ifp, htonl(RC_RENUMB), 30), 0);
	ipt_poll(&r.t);
	r.t.d->tx_count = 0;
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), UST_EACCES);
	CHECK_EQ(r.t.d->tx_count, 0);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, IP_ALLOWBROADCAST), 0);
	CHECK_EQ(r.t.d->tx_count, 1);
	CHECK(rc_last_is(r.t.d, ipt_mac_bcast, IPT_OURS, IPT_OTHER));
	CHECK_EQ(r.ro.ro_gen, 0); /* broadcasts are never cached */
	/* And back. */
	CHECK_EQ(ust_if_addr_del(r.t.ifp, htonl(RC_RENUMB)), 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_OTHER, 0), 0);
	CHECK(rc_last_is(r.t.d, rc_other_mac, IPT_OURS, IPT_OTHER));
	rc_fini(&r);
}

TEST(rtcache_not_for_broadcast_multicast_or_any_source)
{
	struct rc r;

	rc_init(&r);
	CHECK_EQ(rc_send(&r, IPT_OURS, IPT_BCAST, IP_ALLOWBROADCAST), 0);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, 0xffffffffu, IP_ALLOWBROADCAST), 0);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_EQ(rc_send(&r, 0, IPT_PEER, 0), 0);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_EQ(rc_send(&r, IPT_OURS, 0xe0000001u, 0), UST_ENETUNREACH);
	CHECK_EQ(r.ro.ro_gen, 0);
	CHECK_STAT_EQ(rc_hits(&r), 0);
	rc_fini(&r);
}

#if UST_IP_LOOPBACK
TEST(rtcache_local_destination)
{
	struct rc r;
	uint64_t noproto;

	rc_init(&r);
	noproto = IPST(r.t.st, ips_noproto);
	CHECK_EQ(rc_send(&r, IPT_OURS, RC_LOCAL2, 0), 0);
	CHECK_EQ(r.ro.ro_flags & (RO_VALID | RO_LOCAL), RO_VALID | RO_LOCAL);
	CHECK_EQ(rc_send(&r, IPT_OURS, RC_LOCAL2, 0), 0);
	CHECK_STAT_EQ(rc_hits(&r), 1);
	CHECK_EQ(r.t.d->tx_count + r.d2->tx_count, 0); /* never on a wire */
	/* Delivered to ourselves (no protocol 253: counted as such). */
	CHECK_STAT_EQ(IPST(r.t.st, ips_noproto) - noproto, 2);
	/* Not ours any more: now a neighbour on lo1 (static ARP). */
	CHECK_EQ(ust_if_addr_del(r.if2, htonl(RC_LOCAL2)), 0);
	CHECK_EQ(ust_if_addr_add(r.if2, htonl(0xc6130003u), 24), 0);
	CHECK_EQ(ust_arp_add_static(r.if2, htonl(RC_LOCAL2), rc_gw_mac), 0);
	ipt_poll(&r.t);
	r.d2->tx_count = 0;
	CHECK_EQ(rc_send(&r, IPT_OURS, RC_LOCAL2, 0), 0);
	CHECK_EQ(r.d2->tx_count, 1);
	CHECK(rc_last_is(r.d2, rc_gw_mac, IPT_OURS, RC_LOCAL2));
	CHECK_EQ(r.ro.ro_flags & RO_LOCAL, 0);
	rc_fini(&r);
}
#endif

/* ---------------------------------------------------------------------
 * TCP: an established connection over the pipe whose route moves.
 * ------------------------------------------------------------------- */

#define TC_A tl_ip4addr(198, 18, 0, 1)
#define TC_B tl_ip4addr(198, 18, 0, 2)
#define TC_NET tl_ip4addr(198, 18, 0, 0)
#define TC_A2 tl_ip4addr(198, 19, 0, 2)
#define TC_GW tl_ip4addr(198, 19, 0, 9)
#define TC_LEN 60000u

struct tc {
	struct tl_pair pr;
	struct ust_stack *sts[2];
	struct loopdrv *d2; /* a's second interface, lo1 */
	struct ust_if *if2;
	struct ust_socket *c, *s, *l;
	uint8_t buf[TC_LEN], got[TC_LEN];
	size_t sent, rcvd;
	uint64_t lo1; /* TCP segments a sent on lo1 */
};

static void
tc_init(struct tc *t)
{
	memset(t, 0, sizeof(*t));
	t->pr.vc = ust_vclock_create(IPT_T0);
	t->pr.a = test_stack_new(t->pr.vc, ust_test_seed);
	t->pr.b = test_stack_new(t->pr.vc, ust_test_seed + 1);
	REQUIRE_EQ(tl_pair_attach(&t->pr, NULL), 0);
	t->sts[0] = t->pr.a;
	t->sts[1] = t->pr.b;
	REQUIRE_EQ(tl_pair_addrs(&t->pr, TC_A, TC_B, 24), 0);
	t->d2 = calloc(1, sizeof(*t->d2));
	REQUIRE(t->d2 != NULL);
	loopdrv_init(t->d2);
	t->d2->mac[5] = 0x11;
	REQUIRE_EQ(ust_if_attach(t->pr.a, "lo1", &loopdrv_ops, t->d2, &t->if2), 0);
	REQUIRE_EQ(ust_if_addr_add(t->if2, TC_A2, 24), 0);
	REQUIRE_EQ(ust_arp_add_static(t->if2, TC_GW, rc_gw_mac), 0);
	tl_pattern(t->buf, sizeof(t->buf), (unsigned)ust_test_seed);
}

static void
tc_connect4(struct tc *t)
{
	struct ust_sockaddr_in sin = tl_sin(TC_B, 8080);

	REQUIRE_EQ(ust_socket(t->pr.b, UST_AF_INET, UST_SOCK_STREAM, 0, &t->l), 0);
	REQUIRE_EQ(ust_bind(t->l, (const struct ust_sockaddr *)&sin, sizeof(sin)), 0);
	REQUIRE_EQ(ust_listen(t->l, 4), 0);
	REQUIRE_EQ(ust_socket(t->pr.a, UST_AF_INET, UST_SOCK_STREAM, 0, &t->c), 0);
	CHECK_EQ(ust_connect(t->c, (const struct ust_sockaddr *)&sin, sizeof(sin)),
	    -UST_EINPROGRESS);
	tl_pair_run(&t->pr, 50 * RC_MS);
	REQUIRE_EQ(ust_accept(t->l, &t->s, NULL, NULL), 0);
}

/* Sends up to n more bytes of buf from c and runs the stacks for dt,
 * reading what arrived at s into got. */
static void
tc_step(struct tc *t, size_t n, uint64_t dt)
{
	struct tl_pkt p;
	long k;
	int i;

	if (n > TC_LEN - t->sent)
		n = TC_LEN - t->sent;
	if (n > 0 && (k = ust_send(t->c, t->buf + t->sent, n, 0)) > 0)
		t->sent += (size_t)k;
	tl_pair_run(&t->pr, dt);
	for (i = 0; i < t->d2->tx_count; i++)
		if (tl_parse(t->d2->tx[i], t->d2->tx_len[i], &p) == 0 && p.ip != NULL &&
		    p.proto == TL_IPPROTO_TCP && memcmp(p.dmac, rc_gw_mac, 6) == 0)
			t->lo1++;
	t->d2->tx_count = 0;
	while (t->rcvd < TC_LEN && (k = ust_recv(t->s, t->got + t->rcvd, TC_LEN - t->rcvd, 0)) > 0)
		t->rcvd += (size_t)k;
}

static void
tc_fini(struct tc *t)
{
	if (t->c != NULL)
		ust_close(t->c);
	if (t->s != NULL)
		ust_close(t->s);
	if (t->l != NULL)
		ust_close(t->l);
	tl_pair_run(&t->pr, 300ull * 1000 * RC_MS);
	tl_pair_close(&t->pr);
	free(t->d2);
}

static struct inpcb *
tc_inp(struct ust_socket *uso)
{
	return (sotoinpcb((struct socket *)(void *)uso));
}

static struct tc tcrig; /* 120 KB: off the stack */

TEST(rtcache_tcp_route_moves_mid_transfer)
{
	struct tc *t = &tcrig;
	uint64_t hits, noroute, lo1;
	int i;

	tc_init(t);
	tc_connect4(t);
	for (i = 0; i < 5; i++)
		tc_step(t, 4000, 5 * RC_MS);
	CHECK_EQ(t->rcvd, 20000);
	hits = IPST(t->pr.a, ips_rtcache_hit);
	CHECK_STAT(hits > 20);
	CHECK_STAT(IPST(t->pr.a, ips_rtcache_miss) < 5);
	CHECK_EQ(tc_inp(t->c)->inp_route.ro_gen, t->pr.a->st_route_gen);
	/* A host route for b through lo1: the next segments leave there
	 * (and are lost), nothing more reaches b. */
	CHECK_EQ(ust_route_add(t->pr.a, TC_B, 32, TC_GW, NULL), 0);
	lo1 = t->lo1;
	tc_step(t, 4000, 5 * RC_MS);
	CHECK(t->lo1 > lo1);
	CHECK_EQ(t->rcvd, 20000);
	/* The connected route deleted as well: with the host route gone,
	 * b is unreachable; TCP keeps the data and counts the failures. */
	CHECK_EQ(ust_route_del(t->pr.a, TC_NET, 24), 0);
	CHECK_EQ(ust_route_del(t->pr.a, TC_B, 32), 0);
	noroute = IPST(t->pr.a, ips_noroute);
	lo1 = t->lo1;
	tc_step(t, 4000, 3000 * RC_MS);
	CHECK_STAT(IPST(t->pr.a, ips_noroute) > noroute);
	CHECK_EQ(t->lo1, lo1);
	CHECK_EQ(t->rcvd, 20000);
	CHECK_EQ(tc_inp(t->c)->inp_route.ro_gen, 0);
	/* Back on the pipe: everything arrives, byte for byte. */
	CHECK_EQ(ust_route_add(t->pr.a, TC_NET, 24, 0, t->pr.ifa), 0);
	for (i = 0; i < 400 && t->rcvd < TC_LEN; i++)
		tc_step(t, 8000, 50 * RC_MS);
	CHECK_EQ(t->rcvd, TC_LEN);
	CHECK_MEM(t->got, t->buf, TC_LEN);
	CHECK_STAT(IPST(t->pr.a, ips_rtcache_hit) > hits);
	tc_fini(t);
}

#if UST_IP_LOOPBACK
TEST(rtcache_tcp_to_our_own_address)
{
	struct tc *t = &tcrig;
	struct ust_sockaddr_in sin = tl_sin(TC_A2, 8081);
	int i;

	tc_init(t);
	REQUIRE_EQ(ust_socket(t->pr.a, UST_AF_INET, UST_SOCK_STREAM, 0, &t->l), 0);
	REQUIRE_EQ(ust_bind(t->l, (const struct ust_sockaddr *)&sin, sizeof(sin)), 0);
	REQUIRE_EQ(ust_listen(t->l, 4), 0);
	REQUIRE_EQ(ust_socket(t->pr.a, UST_AF_INET, UST_SOCK_STREAM, 0, &t->c), 0);
	CHECK_EQ(ust_connect(t->c, (const struct ust_sockaddr *)&sin, sizeof(sin)),
	    -UST_EINPROGRESS);
	tl_pair_run(&t->pr, 50 * RC_MS);
	REQUIRE_EQ(ust_accept(t->l, &t->s, NULL, NULL), 0);
	for (i = 0; i < 200 && t->rcvd < TC_LEN; i++)
		tc_step(t, 8000, 5 * RC_MS);
	CHECK_EQ(t->rcvd, TC_LEN);
	CHECK_MEM(t->got, t->buf, TC_LEN);
	CHECK_EQ(tc_inp(t->c)->inp_route.ro_flags & (RO_VALID | RO_LOCAL), RO_VALID | RO_LOCAL);
	CHECK_STAT(IPST(t->pr.a, ips_rtcache_hit) > 10);
	CHECK_EQ(t->lo1, 0);
	tc_fini(t);
}
#endif

/* ---------------------------------------------------------------------
 * IPv6 twins.
 * ------------------------------------------------------------------- */

#if UST_INET6
static const struct in6_addr R6_OURS = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const struct in6_addr R6_PEER = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };
static const struct in6_addr R6_NET = { { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
static const struct in6_addr R6_OURS2 = { { 0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2 } };
static const struct in6_addr R6_GW = { { 0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 } };

static void
rc6_init(struct rc *r)
{
	rc_init(r);
	REQUIRE_EQ(ust_if_addr6_add(r->t.ifp, &R6_OURS, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_if_addr6_add(r->if2, &R6_OURS2, 64, UST_IN6_IFF_NODAD), 0);
	REQUIRE_EQ(ust_nd6_add_static(r->t.ifp, &R6_PEER, ipt_mac_peer), 0);
	REQUIRE_EQ(ust_nd6_add_static(r->if2, &R6_GW, rc_gw_mac), 0);
	ipt_poll(&r->t);
	r->t.d->tx_count = 0;
	r->d2->tx_count = 0;
}

/* ip6_output of len bytes to dst through the rig's cache. */
static int
rc6_send(struct rc *r, const struct in6_addr *src, const struct in6_addr *dst, uint32_t len,
    uint8_t flags)
{
	struct ip6_out_args a;
	uint8_t b[1500];
	struct mbuf *m;
	int error;

	memset(&a, 0, sizeof(a));
	a.src = *src;
	a.dst = *dst;
	a.nxt = PROTO_TEST;
	a.flags = flags;
	a.ro = &r->ro;
	memset(b, 0xa5, sizeof(b));
	m = m_gethdr(&r->t.st->st_mbz, MT_DATA);
	if (m == NULL)
		abort();
	m_reserve(m, 64);
	if (m_append(m, len, b) != 0)
		abort();
	error = ip6_output(r->t.st, m, &a);
	ipt_poll(&r->t);
	return (error);
}

/* The last frame on d went to dmac and is IPv6 (plen bytes of payload). */
static int
rc6_last_is(const struct loopdrv *d, const uint8_t *dmac, uint32_t plen)
{
	const uint8_t *f;

	if (d->tx_count == 0)
		return (0);
	f = d->tx[d->tx_count - 1];
	return (memcmp(f, dmac, 6) == 0 && f[12] == 0x86 && f[13] == 0xdd &&
	    (uint32_t)(f[18] << 8 | f[19]) == plen);
}

/* Frames on d that are IPv6 to dmac (MLD and ND left out by the MAC). */
static int
rc6_count(const struct loopdrv *d, const uint8_t *dmac)
{
	int i, n = 0;

	for (i = 0; i < d->tx_count; i++)
		if (memcmp(d->tx[i], dmac, 6) == 0 && d->tx[i][12] == 0x86 && d->tx[i][13] == 0xdd)
			n++;
	return (n);
}

TEST(rtcache6_routes_move_and_fail)
{
	struct rc r;
	uint64_t noroute;

	rc6_init(&r);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), 0);
	CHECK_STAT_EQ(IP6ST(r.t.st, ip6s_rtcache_hit), 1);
	CHECK_EQ(r.ro.ro_flags & (RO_VALID | RO_INET6), RO_VALID | RO_INET6);
	CHECK_EQ(rc6_count(r.t.d, ipt_mac_peer), 2);
	/* More specific, through lo1's gateway. */
	CHECK_EQ(ust_route6_add(r.t.st, &R6_PEER, 128, &R6_GW, NULL), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), 0);
	CHECK_EQ(rc6_count(r.d2, rc_gw_mac), 1);
	CHECK_EQ(rc6_count(r.t.d, ipt_mac_peer), 2);
	/* Every route to it gone: ENETUNREACH, counted, not cached. */
	CHECK_EQ(ust_route6_del(r.t.st, &R6_PEER, 128), 0);
	CHECK_EQ(ust_route6_del(r.t.st, &R6_NET, 64), 0);
	noroute = IP6ST(r.t.st, ip6s_noroute);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), UST_ENETUNREACH);
	CHECK_STAT_EQ(IP6ST(r.t.st, ip6s_noroute), noroute + 1);
	CHECK_EQ(r.ro.ro_gen, 0);
	/* The prefix back, on lo1 this time. */
	CHECK_EQ(ust_route6_add(r.t.st, &R6_NET, 64, &R6_GW, NULL), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), 0);
	CHECK_EQ(rc6_count(r.d2, rc_gw_mac), 2);
	/* The source deleted: EADDRNOTAVAIL, nothing sent. */
	CHECK_EQ(ust_if_addr6_del(r.t.ifp, &R6_OURS), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 100, 0), UST_EADDRNOTAVAIL);
	CHECK_EQ(rc6_count(r.d2, rc_gw_mac), 2);
	CHECK_EQ(r.ro.ro_gen, 0);
	rc_fini(&r);
}

TEST(rtcache6_packet_too_big_lowers_mtu_at_once_and_expires)
{
	struct rc r;

	rc6_init(&r);
	CHECK_EQ(ust_sysctl_set(r.t.st, "net.inet6.ip6.pmtu_expire", 300), 0);
	/* 1400 bytes fit the 1500-byte link ... */
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 1400, IPV6_DONTFRAG), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 1400, IPV6_DONTFRAG), 0);
	CHECK(rc6_last_is(r.t.d, ipt_mac_peer, 1400));
	CHECK_EQ(r.ro.ro_mtu, 1500);
	/* ... not a path of 1300 (RFC 8201 4): the very next packet. */
	pmtu6_update(r.t.st, &R6_PEER, 1300);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 1400, IPV6_DONTFRAG), UST_EMSGSIZE);
	CHECK_EQ(r.ro.ro_mtu, 1300);
	CHECK(r.ro.ro_expire != 0);
	/* Fragmented to the path MTU without DONTFRAG. */
	r.t.d->tx_count = 0;
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 1400, 0), 0);
	CHECK_EQ(rc6_count(r.t.d, ipt_mac_peer), 2);
	/* The learnt MTU ends: the cached copy with it. */
	ipt_advance(&r.t, 301ull * 1000 * RC_MS);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_PEER, 1400, IPV6_DONTFRAG), 0);
	CHECK(rc6_last_is(r.t.d, ipt_mac_peer, 1400));
	CHECK_EQ(r.ro.ro_mtu, 1500);
	rc_fini(&r);
}

#if UST_IP_LOOPBACK
TEST(rtcache6_local_destination)
{
	struct rc r;

	rc6_init(&r);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_OURS2, 100, 0), 0);
	CHECK_EQ(rc6_send(&r, &R6_OURS, &R6_OURS2, 100, 0), 0);
	CHECK_EQ(r.ro.ro_flags & (RO_VALID | RO_LOCAL | RO_INET6), RO_VALID | RO_LOCAL | RO_INET6);
	CHECK_STAT_EQ(IP6ST(r.t.st, ip6s_rtcache_hit), 1);
	CHECK_EQ(rc6_count(r.t.d, ipt_mac_peer) + rc6_count(r.d2, rc_gw_mac), 0);
	rc_fini(&r);
}
#endif
#endif /* UST_INET6 */
