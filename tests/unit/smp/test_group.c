/*
 * test_group.c - groups of stacks without threads (threads = 0: the test
 * polls every stack on one virtual clock, so each case replays from its
 * seed): creation and configuration, the creation seed and the PRNGs,
 * steering of frames that arrive on the wrong queue (TCP bytes intact,
 * counters), a full hand-off ring, ARP replication.
 */
#include <ustack/ustack.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_stats.h>

#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "smp_rig.h"
#include "tl_frame.h"
#include "ust_test.h"
#if UST_INET6
#include "netinet6/nd6_var.h"
#include "tl_frame6.h"
#endif

#if UST_SMP
TEST(config_defaults_and_invalid)
{
	struct ust_group_config gc;
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_group *g = (struct ust_group *)&gc;

	ust_group_config_init(&gc);
	CHECK_EQ(gc.nstacks, 1);
	CHECK_EQ(gc.threads, 1);
	CHECK_EQ(gc.ring_size, 1024);
	CHECK_EQ(gc.busy_poll, 0);
	CHECK_EQ(gc.cpus[UST_GROUP_MAX - 1], -1);
	gc.threads = 0;
	gc.nstacks = 0;
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EINVAL);
	CHECK(g == NULL);
	gc.nstacks = UST_GROUP_MAX + 1;
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EINVAL);
	gc.nstacks = 2;
	gc.ring_size = 1000; /* not a power of two */
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EINVAL);
	gc.ring_size = 64;
	/* Threads sleep on the OSAL clock: not with a virtual one. */
	gc.threads = 1;
	gc.stack.clock = ust_vclock_clock(vc);
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EINVAL);
	gc.threads = 0;
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	ust_group_destroy(g);
	ust_vclock_destroy(vc);
}

TEST(create_attach_destroy)
{
	struct ust_group_config gc;
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_group *g;
	struct ust_stack *lone, *st;
	struct ust_if *ifs[4];
	struct mq_dev d, odd;
	struct ust_stack_config sc;
	unsigned i;

	ust_group_config_init(&gc);
	gc.nstacks = 4;
	gc.threads = 0;
	tl_stack_config(&gc.stack, vc, ust_test_seed);
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	CHECK_EQ(ust_group_size(g), 4);
	CHECK(ust_group_stack(g, 4) == NULL);
	for (i = 0; i < 4; i++) {
		st = ust_group_stack(g, i);
		REQUIRE(st != NULL);
		CHECK(ust_stack_group(st) == g);
		CHECK_EQ(ust_stack_group_index(st), i);
		CHECK_EQ(ust_stack_threaded(st), 0);
		if (i > 0)
			CHECK(st != ust_group_stack(g, i - 1));
	}
	CHECK_EQ(ust_group_start(g), -UST_EINVAL); /* made without threads */
	mq_init(&d, 4, 1, MQ_RSS);
	REQUIRE_EQ(ust_group_if_attach(g, "mq0", &mq_ops, d.softc, ifs), 0);
	for (i = 0; i < 4; i++) {
		CHECK(ifs[i] == ust_group_if(g, i, "mq0"));
		CHECK(ust_if_stack(ifs[i]) == ust_group_stack(g, i));
		CHECK(ust_if_by_name(ust_group_stack(g, i), "mq0") == ifs[i]);
	}
	CHECK(ust_group_if(g, 0, "nope") == NULL);
	CHECK_EQ(ust_group_if_attach(g, "mq0", &mq_ops, d.softc, NULL), -UST_EEXIST);
	/* Queues of one device share a MAC: a mismatch is refused, undone. */
	mq_init(&odd, 4, 2, MQ_RSS);
	odd.port[2].dev = &d; /* queue 2 reports another device's MAC */
	CHECK_EQ(ust_group_if_attach(g, "mq1", &mq_ops, odd.softc, NULL), -UST_EINVAL);
	for (i = 0; i < 4; i++)
		CHECK(ust_if_by_name(ust_group_stack(g, i), "mq1") == NULL);
	CHECK_EQ(ust_group_if_addr_add(g, "mq0", tl_ip4addr(198, 18, 0, 1), 24), 0);
	CHECK_EQ(ust_group_if_addr_add(g, "nope", tl_ip4addr(198, 18, 1, 1), 24), -UST_ENODEV);
	CHECK_EQ(ust_group_route_add(g, tl_ip4addr(198, 19, 0, 0), 16, tl_ip4addr(198, 18, 0, 254),
	             NULL),
	    0);
	CHECK_EQ(ust_group_sysctl_set(g, "net.inet.tcp.delayed_ack", 0), 0);
	for (i = 0; i < 4; i++) {
		struct ust_route_info ri;
		int64_t v = -1;

		st = ust_group_stack(g, i);
		CHECK_EQ(ust_route_lookup(st, tl_ip4addr(198, 19, 5, 5), &ri), 0);
		CHECK_EQ(ust_sysctl_get(st, "net.inet.tcp.delayed_ack", &v), 0);
		CHECK_EQ(v, 0);
	}
	ust_group_destroy(g);
	mq_fini(&d);
	mq_fini(&odd);
	/* A stack made alone is in no group. */
	tl_stack_config(&sc, vc, 1);
	REQUIRE_EQ(ust_stack_create(&sc, &lone), 0);
	CHECK(ust_stack_group(lone) == NULL);
	CHECK_EQ(ust_stack_threaded(lone), 0);
	ust_stack_destroy(lone);
	ust_vclock_destroy(vc);
}

/* Decision 3: creation-time keys agree, random draws differ; and all of
 * it replays from the seed. */
TEST(secrets_agree_prng_differs)
{
	struct ust_group_config gc;
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_group *g, *h;
	struct ust_stack *s0, *si;
	uint64_t r0[3], r1[3];
	unsigned i;

	ust_group_config_init(&gc);
	gc.nstacks = 3;
	gc.threads = 0;
	tl_stack_config(&gc.stack, vc, ust_test_seed);
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	REQUIRE_EQ(ust_group_create(&gc, &h), 0);
	s0 = ust_group_stack(g, 0);
	for (i = 0; i < 3; i++) {
		si = ust_group_stack(g, i);
		CHECK(memcmp(si->st_tcbinfo->ipi_key, s0->st_tcbinfo->ipi_key,
		          sizeof(s0->st_tcbinfo->ipi_key)) == 0);
#if UST_INET6
		CHECK(memcmp(si->st_nd6->nd_secret, s0->st_nd6->nd_secret,
		          sizeof(s0->st_nd6->nd_secret)) == 0);
#endif
		r0[i] = ust_stack_random(si);
		r1[i] = ust_stack_random(ust_group_stack(h, i));
		CHECK(r0[i] == r1[i]); /* replayable */
	}
	CHECK(r0[0] != r0[1] && r0[1] != r0[2] && r0[0] != r0[2]);
	/* The random draws are not the keys' stream again. */
	CHECK(r0[0] != s0->st_tcbinfo->ipi_key[0]);
	ust_group_destroy(g);
	ust_group_destroy(h);
	/* Without a seed: keys still agree, draws differ. */
	gc.stack.seed_set = 0;
	REQUIRE_EQ(ust_group_create(&gc, &g), 0);
	s0 = ust_group_stack(g, 0);
	si = ust_group_stack(g, 2);
	CHECK(memcmp(si->st_tcbinfo->ipi_key, s0->st_tcbinfo->ipi_key,
	          sizeof(s0->st_tcbinfo->ipi_key)) == 0);
	CHECK(ust_stack_random(s0) != ust_stack_random(si));
	ust_group_destroy(g);
	ust_vclock_destroy(vc);
}

/* A source port from base on such that the flow's packets hash to stack
 * qa of a (b -> a) and to qb of b (a -> b). */
static uint16_t
pick_port(const struct rig *r, unsigned na, unsigned qa, unsigned nb, unsigned qb, uint16_t base)
{
	uint16_t p;

	for (p = base; p < base + 5000; p++)
		if (rig_owner(na, r->ipb, r->ipa, p, RIG_PORT) == qa &&
		    rig_owner(nb, r->ipa, r->ipb, RIG_PORT, p) == qb)
			return (p);
	return (0);
}

/* A TCP exchange between b's stack qb and a's stack qa, every frame of it
 * arriving on queue 0 (policies MQ_QUEUE0) or on the wrong queue with the
 * device's hash (MQ_WRONG, give_hash): handed to its owner, counted, and
 * every byte arrives. */
static void
tcp_steered(int policy, int give_hash, unsigned qb)
{
	struct rig r;
	struct ust_socket *ls[2], *c, *s = NULL;
	struct ust_group_stats ga[2], gb[2], sum;
	static uint8_t buf[300000];
	uint16_t lport;
	unsigned i, qa = 1;

	REQUIRE_EQ(rig_open(&r, 2, 2, 0, policy, policy, 0), 0);
	r.da.give_hash = r.db.give_hash = give_hash;
	for (i = 0; i < 2; i++)
		REQUIRE((ls[i] = rig_listen(ust_group_stack(r.a, i), r.ipa, RIG_PORT)) != NULL);
	lport = pick_port(&r, 2, qa, 2, qb, 20000);
	REQUIRE(lport != 0);
	c = rig_connect(ust_group_stack(r.b, qb), r.ipb, lport, r.ipa, RIG_PORT);
	REQUIRE(c != NULL);
	rig_run(&r, 200 * TL_NS_MS);
	/* Accepted by the owner, not by stack 0 that received the SYN. */
	CHECK_EQ(ust_accept(ls[1 - qa], &s, NULL, NULL), -UST_EAGAIN);
	REQUIRE_EQ(ust_accept(ls[qa], &s, NULL, NULL), 0);
	tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed);
	CHECK_EQ(tl_stream(r.vc, r.all, r.nall, c, s, buf, sizeof(buf), 10 * TL_NS_MS, 2000),
	    sizeof(buf));
	tl_pattern(buf, sizeof(buf), (unsigned)ust_test_seed + 1);
	CHECK_EQ(tl_stream(r.vc, r.all, r.nall, s, c, buf, sizeof(buf), 10 * TL_NS_MS, 2000),
	    sizeof(buf));
	for (i = 0; i < 2; i++) {
		ust_group_get_stats(r.a, i, &ga[i]);
		ust_group_get_stats(r.b, i, &gb[i]);
	}
	/* Frames of the flow arrived on the wrong queue and were handed
	 * over: at least the 300 KB each way, in MSS-sized segments. */
	CHECK(ga[1 - qa].rss_steered_out > 200);
	CHECK_EQ(ga[qa].rss_steered_in, ga[1 - qa].rss_steered_out);
	CHECK(gb[1 - qb].rss_steered_out > 200);
	CHECK_EQ(gb[qb].rss_steered_in, gb[1 - qb].rss_steered_out);
	CHECK_EQ(ga[0].rss_ring_full + ga[1].rss_ring_full, 0);
	ust_group_get_stats(r.a, UST_GROUP_ALL, &sum);
	CHECK_EQ(sum.rss_steered_out, ga[0].rss_steered_out + ga[1].rss_steered_out);
	CHECK_EQ(sum.rss_steered_in, ga[0].rss_steered_in + ga[1].rss_steered_in);
	ust_close(s);
	ust_close(c);
	ust_close(ls[0]);
	ust_close(ls[1]);
	rig_run(&r, 2 * TL_NS_S);
	rig_close(&r);
}

TEST(tcp_steered_from_queue0)
{
	tcp_steered(MQ_QUEUE0, 0, 1);
}

TEST(tcp_steered_by_driver_hash)
{
	tcp_steered(MQ_WRONG, 1, 1);
}

/* Two groups joined lane by lane (queue i to queue i): b's stack 0 owns
 * the flow on b's side, a's stack 1 on a's, so each side re-steers. */
TEST(tcp_steered_lane_by_lane)
{
	tcp_steered(MQ_LANE, 0, 0);
}

/* Flows that arrive on their owner's queue stay there. */
TEST(tcp_rss_local)
{
	struct rig r;
	struct ust_socket *ls[3], *c[6], *s;
	struct ust_group_stats sa, sb;
	static uint8_t buf[20000];
	unsigned i, k, accepted = 0;

	REQUIRE_EQ(rig_open(&r, 3, 2, 0, MQ_RSS, MQ_RSS, 0), 0);
	for (i = 0; i < 3; i++)
		REQUIRE((ls[i] = rig_listen(ust_group_stack(r.a, i), r.ipa, RIG_PORT)) != NULL);
	for (k = 0; k < 6; k++) {
		uint16_t lport = (uint16_t)(30000 + k * 7);
		unsigned qb = rig_owner(2, r.ipa, r.ipb, RIG_PORT, lport);

		c[k] = rig_connect(ust_group_stack(r.b, qb), r.ipb, lport, r.ipa, RIG_PORT);
		REQUIRE(c[k] != NULL);
	}
	rig_run(&r, 200 * TL_NS_MS);
	tl_pattern(buf, sizeof(buf), 7);
	for (i = 0; i < 3; i++) {
		while (ust_accept(ls[i], &s, NULL, NULL) == 0) {
			accepted++;
			ust_close(s);
		}
	}
	CHECK_EQ(accepted, 6);
	ust_group_get_stats(r.a, UST_GROUP_ALL, &sa);
	ust_group_get_stats(r.b, UST_GROUP_ALL, &sb);
	CHECK(sa.rss_local >= 12);
	CHECK_EQ(sa.rss_steered_out, 0);
	CHECK_EQ(sb.rss_steered_out, 0);
	for (k = 0; k < 6; k++)
		ust_close(c[k]);
	for (i = 0; i < 3; i++)
		ust_close(ls[i]);
	rig_run(&r, 2 * TL_NS_S);
	rig_close(&r);
}

/* An ICMP error (fragmentation needed) about a TCP flow goes to the
 * stack that owns the flow it quotes, not the one its addresses hash to. */
TEST(icmp_error_steered_to_flow_owner)
{
	struct rig r;
	struct ust_socket *ls[2], *c, *s = NULL;
	struct ust_group_stats g0, g1;
	struct ust_icmpstat i0, i1, j0, j1;
	uint8_t inner[28], l4[64], f[128];
	uint32_t ha = tl_hton32(tl_ip4addr(198, 18, 0, 1)),
	         hb = tl_hton32(tl_ip4addr(198, 18, 0, 2));
	uint8_t key[UST_RSS_KEYLEN];
	uint16_t lport;
	unsigned i, router;
	size_t n;

	REQUIRE_EQ(rig_open(&r, 2, 1, 0, MQ_QUEUE0, MQ_RSS, 0), 0);
	/* A router whose address and ours hash to stack 0: by addresses alone
	 * the error would stay there. */
	ust_rss_default_key(key);
	for (router = 254; router > 100; router--)
		if (ust_rss_queue(ust_rss_hash_v4(key, tl_ip4addr(198, 18, 0, router), r.ipa, 0, 0,
		                      0),
		        2) == 0)
			break;
	for (i = 0; i < 2; i++)
		REQUIRE((ls[i] = rig_listen(ust_group_stack(r.a, i), r.ipa, RIG_PORT)) != NULL);
	/* A flow a's stack 1 owns, whose addresses alone hash elsewhere does
	 * not matter: every frame lands on queue 0. */
	for (lport = 40000; rig_owner(2, r.ipb, r.ipa, lport, RIG_PORT) != 1; lport++)
		continue;
	c = rig_connect(ust_group_stack(r.b, 0), r.ipb, lport, r.ipa, RIG_PORT);
	REQUIRE(c != NULL);
	rig_run(&r, 100 * TL_NS_MS);
	REQUIRE_EQ(ust_accept(ls[1], &s, NULL, NULL), 0);
	ust_group_get_stats(r.a, 0, &g0);
	ust_stats_icmp(ust_group_stack(r.a, 0), &i0);
	ust_stats_icmp(ust_group_stack(r.a, 1), &i1);
	/* The router says a's segment to b needs fragmenting (MTU 1200). */
	tl_ip4(inner, ha, hb, 6, 1, 0x4000, 64, NULL, 0, 20);
	tl_put16(inner + 20, RIG_PORT);
	tl_put16(inner + 22, lport);
	tl_put32(inner + 24, 12345);
	n = tl_icmp(l4, 3, 4, 1200, inner, sizeof(inner));
	n = tl_frame_ip4(f, r.da.mac, r.db.mac, tl_hton32(tl_ip4addr(198, 18, 0, router)), ha, 1, 9,
	    0, 64, l4, n);
	REQUIRE_EQ(mq_inject(&r.da, 0, f, n), 0);
	rig_run(&r, 10 * TL_NS_MS);
	ust_group_get_stats(r.a, 0, &g1);
	ust_stats_icmp(ust_group_stack(r.a, 0), &j0);
	ust_stats_icmp(ust_group_stack(r.a, 1), &j1);
	CHECK_EQ(g1.rss_steered_out - g0.rss_steered_out, 1);
	CHECK_EQ(j1.icps_inhist[3] - i1.icps_inhist[3], 1);
	CHECK_EQ(j0.icps_inhist[3] - i0.icps_inhist[3], 0);
	ust_close(s);
	ust_close(c);
	for (i = 0; i < 2; i++)
		ust_close(ls[i]);
	rig_run(&r, 2 * TL_NS_S);
	rig_close(&r);
}

/* A UDP frame from b to a's port dport. */
static size_t
udp_frame(const struct rig *r, uint8_t *f, uint16_t sport, uint16_t dport, const char *msg)
{
	uint8_t l4[256];
	/* The frame builders take addresses in host order. */
	uint32_t src = tl_hton32(r->ipb), dst = tl_hton32(r->ipa);
	size_t n =
	    tl_udp(l4, src, dst, sport, dport, (uint16_t)(8 + strlen(msg)), msg, strlen(msg));

	return (tl_frame_ip4(f, r->da.mac, r->db.mac, src, dst, 17, 1, 0, 64, l4, n));
}

static uint32_t
mbufs_in_use(struct ust_stack *st)
{
	struct ust_zone_stats zs;

	ust_stack_get_zone_stats(st, 0, &zs);
	return (zs.in_use);
}

/* A ring full drops and counts, never waits; what was handed over is
 * delivered and its mbufs go back to their own stack. */
TEST(ring_full_drops_and_counts)
{
	struct rig r;
	struct ust_stack *s0, *s1;
	struct ust_socket *u;
	struct ust_sockaddr_in sin;
	struct ust_group_stats g0, g1;
	uint8_t f[512], in[64];
	uint32_t base0;
	uint16_t sport;
	unsigned k, got = 0;

	REQUIRE_EQ(rig_open(&r, 2, 1, 0, MQ_QUEUE0, MQ_RSS, 4), 0);
	s0 = ust_group_stack(r.a, 0);
	s1 = ust_group_stack(r.a, 1);
	sin = tl_sin(r.ipa, 9000);
	REQUIRE_EQ(ust_socket(s1, UST_AF_INET, UST_SOCK_DGRAM, 0, &u), 0);
	REQUIRE_EQ(ust_bind(u, (const struct ust_sockaddr *)&sin, sizeof(sin)), 0);
	tl_run(r.vc, r.all, r.nall, 10 * TL_NS_MS);
	base0 = mbufs_in_use(s0);
	/* 20 datagrams of flows stack 1 owns, all on queue 0. */
	for (k = 0, sport = 1000; k < 20; sport++) {
		size_t n;

		if (rig_owner(2, r.ipb, r.ipa, sport, 9000) != 1)
			continue;
		n = udp_frame(&r, f, sport, 9000, "steer me");
		REQUIRE_EQ(mq_inject(&r.da, 0, f, n), 0);
		k++;
	}
	ust_stack_poll(s0); /* stack 1 does not poll: its ring fills */
	ust_group_get_stats(r.a, 0, &g0);
	CHECK_EQ(g0.rss_steered_out, 4);
	CHECK_EQ(g0.rss_ring_full, 16);
	/* Stack 1 has hand-offs waiting: due now. */
	CHECK(ust_stack_next_deadline(s1) <= ust_stack_now(s1));
	ust_stack_poll(s1);
	ust_group_get_stats(r.a, 1, &g1);
	CHECK_EQ(g1.rss_steered_in, 4);
	while (ust_recv(u, in, sizeof(in), 0) > 0)
		got++;
	CHECK_EQ(got, 4);
	/* The originals came back to stack 0 and are freed by it. */
	ust_stack_poll(s0);
	CHECK_EQ(mbufs_in_use(s0), base0);
	ust_close(u);
	rig_close(&r);
}

/* Decision 2: an ARP frame one stack receives is copied to the others,
 * flagged M_RSSCOPY; every stack learns the sender. */
static unsigned arp_seen[3], arp_copy[3];
static ether_input_fn *arp_orig;

static void
arp_spy(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[6])
{
	unsigned i = ust_stack_group_index(ifp->if_stack);

	arp_seen[i]++;
	if (m->m_flags & M_RSSCOPY)
		arp_copy[i]++;
	arp_orig(ifp, m, esrc);
}

TEST(arp_replicated_to_every_stack)
{
	struct rig r;
	struct ust_group_stats gs[3], g0[3];
	struct ust_arp_entry ae;
	struct ust_stack *st;
	uint8_t f[64], zero[6] = { 0 };
	unsigned i, k;
	size_t n;

	REQUIRE_EQ(rig_open(&r, 3, 1, 0, MQ_RSS, MQ_RSS, 0), 0);
	rig_run(&r, 10 * TL_NS_MS); /* the gratuitous ARPs of the set-up */
	memset(arp_seen, 0, sizeof(arp_seen));
	memset(arp_copy, 0, sizeof(arp_copy));
	for (i = 0; i < 3; i++) {
		st = ust_group_stack(r.a, i);
		for (k = 0; k < st->st_nether_protos; k++) {
			if (st->st_ether_protos[k].ep_type == 0x0806) {
				arp_orig = st->st_ether_protos[k].ep_input;
				st->st_ether_protos[k].ep_input = arp_spy;
			}
		}
	}
	/* Who has 198.18.0.1, from 198.18.0.9 (a host no stack knows). */
	{
		uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x09 }, bc[6];

		memset(bc, 0xff, sizeof(bc));
		/* The frame builders take addresses in host order. */
		n = tl_arp(f, bc, smac, 1, smac, tl_hton32(tl_ip4addr(198, 18, 0, 9)), zero,
		    tl_hton32(r.ipa));
	}
	for (i = 0; i < 3; i++)
		ust_group_get_stats(r.a, i, &g0[i]);
	REQUIRE_EQ(mq_inject(&r.da, 1, f, n), 0);
	rig_run(&r, 10 * TL_NS_MS);
	for (i = 0; i < 3; i++) {
		ust_group_get_stats(r.a, i, &gs[i]);
		gs[i].rss_replicated -= g0[i].rss_replicated;
		gs[i].rss_copies_in -= g0[i].rss_copies_in;
	}
	CHECK_EQ(gs[1].rss_replicated, 1);
	CHECK_EQ(gs[0].rss_copies_in, 1);
	CHECK_EQ(gs[2].rss_copies_in, 1);
	CHECK_EQ(gs[1].rss_copies_in, 0);
	CHECK_EQ(arp_seen[1], 1);
	CHECK_EQ(arp_copy[1], 0);
	for (i = 0; i < 3; i += 2) {
		CHECK_EQ(arp_seen[i], 1);
		CHECK_EQ(arp_copy[i], 1);
	}
	for (i = 0; i < 3; i++)
		CHECK_EQ(ust_arp_lookup(ust_group_stack(r.a, i), tl_ip4addr(198, 18, 0, 9), &ae),
		    0);
	rig_close(&r);
}

#if UST_INET6
/* The same for ND: a Neighbor Solicitation one stack receives reaches
 * the others as a copy, and every stack learns its sender. */
static unsigned nd_seen[3], nd_copy[3];
static ether_input_fn *ip6_orig;

static void
ip6_spy(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[6])
{
	unsigned i = ust_stack_group_index(ifp->if_stack);
	uint8_t h[41];

	if (m_copydata(m, 0, sizeof(h), h) == 0 && h[6] == 58 && h[40] == 135) {
		nd_seen[i]++;
		if (m->m_flags & M_RSSCOPY)
			nd_copy[i]++;
	}
	ip6_orig(ifp, m, esrc);
}

TEST(nd_replicated_to_every_stack)
{
	struct rig r;
	struct ust_group_stats gs[3], g0[3];
	struct ust_nd6_entry ne;
	struct ust_stack *st;
	struct tl_ip6 h;
	uint8_t f[256], pl[64], data[32], ll[16], peer[16], group[16], dmac[6];
	uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	struct ust_in6_addr pa;
	unsigned i, k;
	size_t n;

	REQUIRE_EQ(rig_open(&r, 3, 1, 0, MQ_RSS, MQ_RSS, 0), 0);
	tl_in6(ll, "2001:2::1");
	memcpy(pa.s6_addr8, ll, 16);
	REQUIRE_EQ(ust_group_if_addr6_add(r.a, "mq0", &pa, 64, 0), 0);
	rig_run(&r, 3 * TL_NS_S); /* its DAD done */
	for (i = 0; i < 3; i++) {
		st = ust_group_stack(r.a, i);
		for (k = 0; k < st->st_nether_protos; k++) {
			if (st->st_ether_protos[k].ep_type == 0x86dd) {
				ip6_orig = st->st_ether_protos[k].ep_input;
				st->st_ether_protos[k].ep_input = ip6_spy;
			}
		}
		ust_group_get_stats(r.a, i, &g0[i]);
	}
	memset(nd_seen, 0, sizeof(nd_seen));
	memset(nd_copy, 0, sizeof(nd_copy));
	/* fe80::9 asks who has 2001:2::1. */
	tl_in6(peer, "fe80::9");
	tl_in6_solnode(group, ll);
	tl_in6_mcast_mac(dmac, group);
	memcpy(data, ll, 16);
	data[16] = 1; /* source link-layer address option */
	data[17] = 1;
	memcpy(data + 18, smac, 6);
	n = tl_icmp6(pl, peer, group, 135, 0, 0, data, 24);
	memset(&h, 0, sizeof(h));
	h.nxt = 58;
	h.hlim = 255;
	h.src = peer;
	h.dst = group;
	n = tl_frame6(f, dmac, smac, &h, NULL, 0, pl, n);
	REQUIRE_EQ(mq_inject(&r.da, 2, f, n), 0);
	rig_run(&r, 10 * TL_NS_MS);
	for (i = 0; i < 3; i++) {
		ust_group_get_stats(r.a, i, &gs[i]);
		gs[i].rss_replicated -= g0[i].rss_replicated;
		gs[i].rss_copies_in -= g0[i].rss_copies_in;
	}
	CHECK_EQ(gs[2].rss_replicated, 1);
	CHECK_EQ(gs[0].rss_copies_in, 1);
	CHECK_EQ(gs[1].rss_copies_in, 1);
	CHECK_EQ(gs[2].rss_copies_in, 0);
	CHECK_EQ(nd_seen[2], 1);
	CHECK_EQ(nd_copy[2], 0);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(nd_seen[i], 1);
		CHECK_EQ(nd_copy[i], 1);
	}
	memcpy(pa.s6_addr8, peer, 16);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ust_nd6_lookup(ust_group_stack(r.a, i), &pa,
		             ust_if_index(ust_group_if(r.a, i, "mq0")), &ne),
		    0);
	rig_close(&r);
}

static struct ust_sockaddr_in6
sin6_of(const uint8_t a[16], uint16_t port)
{
	struct ust_sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_len = sizeof(s);
	s.sin6_family = UST_AF_INET6;
	s.sin6_port = tl_hton16(port);
	memcpy(s.sin6_addr.s6_addr8, a, 16);
	return (s);
}

/* ICMPv6 Packet Too Big about a TCP flow over IPv6 goes to the flow's
 * owner. */
TEST(icmp6_error_steered_to_flow_owner)
{
	struct rig r;
	struct ust_socket *ls[2], *c, *s = NULL;
	struct ust_icmp6stat i0, i1, j0, j1;
	struct ust_sockaddr_in6 sa, sb;
	struct ust_in6_addr xa, xb;
	struct tl_ip6 h;
	uint8_t key[UST_RSS_KEYLEN], a6[16], b6[16], rt[16], inner[48], l4[80], f[200];
	uint16_t lport;
	unsigned i;
	size_t n;
	int rc;

	REQUIRE_EQ(rig_open(&r, 2, 1, 0, MQ_QUEUE0, MQ_RSS, 0), 0);
	tl_in6(a6, "2001:2::1");
	tl_in6(b6, "2001:2::2");
	tl_in6(rt, "2001:2::fe");
	memcpy(xa.s6_addr8, a6, 16);
	memcpy(xb.s6_addr8, b6, 16);
	REQUIRE_EQ(ust_group_if_addr6_add(r.a, "mq0", &xa, 64, 0), 0);
	REQUIRE_EQ(ust_group_if_addr6_add(r.b, "mq0", &xb, 64, 0), 0);
	REQUIRE_EQ(ust_group_nd6_add_static(r.a, "mq0", &xb, r.db.mac), 0);
	REQUIRE_EQ(ust_group_nd6_add_static(r.b, "mq0", &xa, r.da.mac), 0);
	rig_run(&r, 3 * TL_NS_S); /* DAD */
	sa = sin6_of(a6, RIG_PORT);
	ust_rss_default_key(key);
	for (i = 0; i < 2; i++) {
		REQUIRE_EQ(ust_socket(ust_group_stack(r.a, i), UST_AF_INET6, UST_SOCK_STREAM, 0,
		               &ls[i]),
		    0);
		REQUIRE_EQ(ust_bind(ls[i], (const struct ust_sockaddr *)&sa, sizeof(sa)), 0);
		REQUIRE_EQ(ust_listen(ls[i], 8), 0);
	}
	/* A flow a's stack 1 owns; the router's error by addresses alone
	 * would stay on stack 0 or go to 1: the flow decides. */
	for (lport = 40000;
	     ust_rss_queue(ust_rss_hash_v6(key, &xb, &xa, tl_hton16(lport), tl_hton16(RIG_PORT), 1),
	         2) != 1;
	     lport++)
		continue;
	sb = sin6_of(b6, lport);
	REQUIRE_EQ(ust_socket(ust_group_stack(r.b, 0), UST_AF_INET6, UST_SOCK_STREAM, 0, &c), 0);
	REQUIRE_EQ(ust_bind(c, (const struct ust_sockaddr *)&sb, sizeof(sb)), 0);
	rc = ust_connect(c, (const struct ust_sockaddr *)&sa, sizeof(sa));
	REQUIRE(rc == 0 || rc == -UST_EINPROGRESS);
	rig_run(&r, 100 * TL_NS_MS);
	REQUIRE_EQ(ust_accept(ls[1], &s, NULL, NULL), 0);
	ust_stats_icmp6(ust_group_stack(r.a, 0), &i0);
	ust_stats_icmp6(ust_group_stack(r.a, 1), &i1);
	/* Packet too big (MTU 1280) quoting a's segment to b. */
	memset(&h, 0, sizeof(h));
	h.nxt = 6;
	h.hlim = 64;
	h.src = a6;
	h.dst = b6;
	tl_ip6(inner, &h, 20);
	tl_put16(inner + 40, RIG_PORT);
	tl_put16(inner + 42, lport);
	tl_put32(inner + 44, 12345);
	n = tl_icmp6(l4, rt, a6, 2, 0, 1280, inner, sizeof(inner));
	h.nxt = 58;
	h.src = rt;
	h.dst = a6;
	n = tl_frame6(f, r.da.mac, r.db.mac, &h, NULL, 0, l4, n);
	REQUIRE_EQ(mq_inject(&r.da, 0, f, n), 0);
	rig_run(&r, 10 * TL_NS_MS);
	ust_stats_icmp6(ust_group_stack(r.a, 0), &j0);
	ust_stats_icmp6(ust_group_stack(r.a, 1), &j1);
	CHECK_EQ(j1.icp6s_inhist[2] - i1.icp6s_inhist[2], 1);
	CHECK_EQ(j0.icp6s_inhist[2] - i0.icp6s_inhist[2], 0);
	ust_close(s);
	ust_close(c);
	for (i = 0; i < 2; i++)
		ust_close(ls[i]);
	rig_run(&r, 2 * TL_NS_S);
	rig_close(&r);
}
#endif /* UST_INET6 */

/* A group event queue and ust_socket_wait without threads: they poll the
 * stacks themselves (one pass with timeout 0 on a virtual clock). */
TEST(group_evq_without_threads)
{
	struct rig r;
	struct ust_socket *ls[2], *c, *s = NULL;
	struct ust_evq *q;
	struct ust_event ev[4];
	uint32_t rev;
	unsigned i, owner;

	REQUIRE_EQ(rig_open(&r, 2, 1, 0, MQ_QUEUE0, MQ_RSS, 0), 0);
	REQUIRE_EQ(ust_group_evq_create(r.a, &q), 0);
	for (i = 0; i < 2; i++) {
		REQUIRE((ls[i] = rig_listen(ust_group_stack(r.a, i), r.ipa, RIG_PORT)) != NULL);
		REQUIRE_EQ(ust_evq_ctl(q, UST_EVQ_ADD, ls[i], UST_EV_IN, ls[i]), 0);
		CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, ls[i], UST_EV_IN, ls[i]), -UST_EEXIST);
	}
	CHECK_EQ(ust_evq_wait(q, ev, 4, 0), 0);
	c = rig_connect(ust_group_stack(r.b, 0), r.ipb, 23456, r.ipa, RIG_PORT);
	REQUIRE(c != NULL);
	owner = rig_owner(2, r.ipb, r.ipa, 23456, RIG_PORT);
	rig_run(&r, 100 * TL_NS_MS);
	CHECK_EQ(ust_evq_poll(q, ev, 4), 1);
	REQUIRE_EQ(ust_evq_wait(q, ev, 4, 0), 1);
	CHECK(ev[0].udata == ls[owner]);
	REQUIRE_EQ(ust_accept(ls[owner], &s, NULL, NULL), 0);
	CHECK_EQ(ust_evq_wait(q, ev, 4, 0), 0);
	/* A socket of another group (or none) is refused. */
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_ADD, c, UST_EV_IN, NULL), -UST_EINVAL);
	CHECK_EQ(ust_socket_wait(s, UST_EV_OUT, 0, &rev), 1);
	CHECK(rev & UST_EV_OUT);
	CHECK_EQ(ust_socket_wait(s, UST_EV_IN, 0, &rev), 0);
	CHECK_EQ(ust_evq_ctl(q, UST_EVQ_DEL, ls[0], 0, NULL), 0);
	ust_evq_destroy(q);
	ust_close(s);
	ust_close(c);
	for (i = 0; i < 2; i++)
		ust_close(ls[i]);
	rig_run(&r, 2 * TL_NS_S);
	rig_close(&r);
}
#endif /* UST_SMP */

#if UST_SMP == 0
TEST(no_smp_stubs)
{
	struct ust_group_config gc;
	struct ust_group *g = (struct ust_group *)&gc;

	ust_group_config_init(&gc);
	CHECK_EQ(ust_group_create(&gc, &g), -UST_EOPNOTSUPP);
	CHECK(g == NULL);
}
#endif
