/*
 * test_if.c - interfaces: attach rules, counters, the capture tap in both
 * directions, the raw input hook, transmit queue bound and driver
 * backpressure (order kept), running out of mbufs on receive, stable
 * interface indexes (reused lowest first), the link-layer multicast list
 * and the driver's set_multicast.
 */
#include <ustack/ustack.h>
#include <ustack/ustack_fault.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/if_var.h"
#include "test_env.h"
#include "test_loopdrv.h"

static struct loopdrv drv;

/* A broadcast frame of an ethertype no protocol takes (0x88b5, local
 * experimental), with a payload that identifies it. */
static void
frame_fill(uint8_t *f, size_t len, uint8_t seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		f[i] = (uint8_t)(seq + i * 7);
	memset(f, 0xff, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = seq;
}

TEST(if_attach_rules)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct loopdrv d[UST_MAX_IFNET + 1];
	struct ust_if *ifp;
	char name[16];
	uint8_t mac[6];
	int i;

	for (i = 0; i <= UST_MAX_IFNET; i++)
		loopdrv_init(&d[i]);
	CHECK_EQ(ust_if_attach(st, "", &loopdrv_ops, &d[0], &ifp), -UST_EINVAL);
	CHECK_EQ(ust_if_attach(st, "a_name_that_is_too_long", &loopdrv_ops, &d[0], &ifp),
	    -UST_EINVAL);
	for (i = 0; i < UST_MAX_IFNET; i++) {
		snprintf(name, sizeof(name), "eth%d", i);
		CHECK_EQ(ust_if_attach(st, name, &loopdrv_ops, &d[i], &ifp), 0);
		CHECK_EQ(ust_if_index(ifp), i + 1);
	}
	CHECK_EQ(ust_if_attach(st, "eth0", &loopdrv_ops, &d[UST_MAX_IFNET], &ifp), -UST_EEXIST);
	CHECK_EQ(ust_if_attach(st, "extra", &loopdrv_ops, &d[UST_MAX_IFNET], &ifp), -UST_ENOSPC);
	ifp = ust_if_by_name(st, "eth3");
	REQUIRE(ifp != NULL);
	CHECK(strcmp(ust_if_name(ifp), "eth3") == 0);
	CHECK_EQ(ust_if_mtu(ifp), 1500);
	ust_if_get_mac(ifp, mac);
	CHECK_MEM(mac, d[3].mac, 6);
	ust_if_detach(ifp);
	CHECK_EQ(d[3].detached, 1);
	CHECK(ust_if_by_name(st, "eth3") == NULL);
	/* The others keep their indexes (IPv6 scope ids). */
	CHECK_EQ(ust_if_index(ust_if_by_name(st, "eth4")), 5);
	CHECK_EQ(ust_if_index(ust_if_by_name(st, "eth2")), 3);
	test_stack_free(st);
	for (i = 0; i < UST_MAX_IFNET; i++)
		CHECK_EQ(d[i].detached, 1);
	ust_vclock_destroy(vc);
}

struct tap_log {
	int in, out;
	uint64_t last_ts;
	size_t last_len;
	uint8_t last[64];
};

static void
tap(void *arg, struct ust_if *ifp, int dir, uint64_t ts, const struct ust_mbuf *m)
{
	struct tap_log *tl = arg;

	(void)ifp;
	if (dir == UST_CAPTURE_IN)
		tl->in++;
	else
		tl->out++;
	tl->last_ts = ts;
	tl->last_len = ust_mbuf_pktlen(m);
	ust_mbuf_copydata(m, 0, tl->last_len < 64 ? tl->last_len : 64, tl->last);
}

static int
consume_odd(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	uint8_t first;

	(void)arg;
	(void)ifp;
	ust_mbuf_copydata(m, 14, 1, &first);
	return (first & 1);
}

TEST(if_capture_input_hook_and_counters)
{
	struct ust_vclock *vc = ust_vclock_create(12345);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct tap_log tl;
	struct ust_if *ifp;
	struct ust_if_stats s;
	uint8_t f[60];
	int i;

	memset(&tl, 0, sizeof(tl));
	loopdrv_init(&drv);
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &drv, &ifp), 0);
	ust_if_set_capture(ifp, tap, &tl);
	ust_if_set_input_hook(ifp, consume_odd, NULL);
	for (i = 0; i < 10; i++) {
		frame_fill(f, sizeof(f), (uint8_t)i);
		CHECK_EQ(loopdrv_inject(&drv, f, sizeof(f)), 0);
	}
	frame_fill(f, sizeof(f), 200);
	CHECK_EQ(ust_if_output_frame(ifp, f, sizeof(f)), 0);
	ust_stack_poll(st);
	CHECK_EQ(tl.in, 10);
	CHECK_EQ(tl.out, 1);
	CHECK_EQ(tl.last_ts, 12345);
	CHECK_EQ(tl.last_len, 60);
	CHECK_MEM(tl.last, f, 60);
	CHECK_EQ(drv.tx_count, 1);
	CHECK_MEM(drv.tx[0], f, 60);
	ust_if_get_stats(ifp, &s);
	CHECK_EQ(s.ipackets, 10);
	CHECK_EQ(s.ibytes, 600);
	CHECK_EQ(s.noproto, 5); /* even payloads: not consumed, no protocol for 0x88b5 */
	CHECK_EQ(s.opackets, 1);
	CHECK_EQ(s.obytes, 60);
	/* Removing the tap stops capture. */
	ust_if_set_capture(ifp, NULL, &tl);
	CHECK_EQ(loopdrv_inject(&drv, f, sizeof(f)), 0);
	ust_stack_poll(st);
	CHECK_EQ(tl.in, 10);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

/* What the device counted itself (get_counter, FreeBSD if_get_counter) is
 * added to the stack's own counts, through the fault wrapper too. */
TEST(if_device_counters_added)
{
	struct ust_vclock *vc = ust_vclock_create(12345);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_fault_wrap_config fc;
	struct ust_fault *fw;
	struct ust_if *ifp, *wifp;
	struct ust_if_stats s;
	static struct loopdrv inner;

	loopdrv_init(&drv);
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &drv, &ifp), 0);
	drv.dev_counter[UST_IFCOUNTER_IERRORS] = 3;
	drv.dev_counter[UST_IFCOUNTER_IQDROPS] = 5;
	drv.dev_counter[UST_IFCOUNTER_OERRORS] = 7;
	ust_if_get_stats(ifp, &s);
	CHECK_EQ(s.ierrors, 3);
	CHECK_EQ(s.iqdrops, 5);
	CHECK_EQ(s.oerrors, 7);

	loopdrv_init(&inner);
	inner.dev_counter[UST_IFCOUNTER_IQDROPS] = 11;
	ust_fault_wrap_config_init(&fc);
	REQUIRE_EQ(ust_fault_wrap(&loopdrv_ops, &inner, &fc, &fw), 0);
	REQUIRE_EQ(ust_if_attach(st, "lo1", ust_fault_wrap_ops(), ust_fault_wrap_softc(fw), &wifp),
	    0);
	ust_if_get_stats(wifp, &s);
	CHECK_EQ(s.iqdrops, 11);
	CHECK_EQ(s.ierrors, 0);
	ust_if_detach(wifp);
	ust_fault_wrap_destroy(fw);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(if_output_rejects_bad_sizes)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_if *ifp;
	static uint8_t big[1600];

	loopdrv_init(&drv);
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &drv, &ifp), 0);
	CHECK_EQ(ust_if_output_frame(ifp, big, 13), -UST_EMSGSIZE);
	CHECK_EQ(ust_if_output_frame(ifp, big, 1500 + 14 + 4 + 1), -UST_EMSGSIZE);
	CHECK_EQ(ust_if_output_frame(ifp, NULL, 60), -UST_EMSGSIZE);
	CHECK_EQ(ust_if_output_frame(ifp, big, 1500 + 14), 0);
	ust_stack_poll(st);
	CHECK_EQ(drv.tx_count, 1);
	CHECK_EQ(drv.tx_len[0], 1514);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(if_txq_bound_and_backpressure_keep_order)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack_config cfg;
	struct ust_stack *st;
	struct ust_if *ifp;
	struct ust_if_stats s;
	uint8_t f[64];
	int i, sent = 0;

	ust_stack_config_init(&cfg);
	cfg.clock = ust_vclock_clock(vc);
	cfg.ifq_maxlen = 40;
	REQUIRE_EQ(ust_stack_create(&cfg, &st), 0);
	loopdrv_init(&drv);
	drv.tx_budget = 5;
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &drv, &ifp), 0);
	for (i = 0; i < 50; i++) {
		frame_fill(f, sizeof(f), (uint8_t)i);
		if (ust_if_output_frame(ifp, f, sizeof(f)) == 0)
			sent++;
	}
	CHECK_EQ(sent, 40);
	ust_if_get_stats(ifp, &s);
	CHECK_EQ(s.oqdrops, 10);
	ust_stack_poll(st);
	CHECK_EQ(drv.tx_count, 5);
	/* The refused frames wait and make the stack due now. */
	CHECK(ust_stack_next_deadline(st) == ust_stack_now(st));
	drv.tx_budget = -1;
	ust_stack_poll(st);
	CHECK_EQ(drv.tx_count, 40);
	for (i = 0; i < 40; i++) {
		frame_fill(f, sizeof(f), (uint8_t)i);
		CHECK_MEM(drv.tx[i], f, sizeof(f));
	}
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

TEST(if_rx_without_mbufs_drops_and_recovers)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_if *ifp;
	struct ust_if_stats s;
	uint8_t f[200];
	int i;

	loopdrv_init(&drv);
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &drv, &ifp), 0);
	frame_fill(f, sizeof(f), 1);
	for (i = 0; i < 4; i++)
		CHECK_EQ(loopdrv_inject(&drv, f, sizeof(f)), 0);
	ust_zone_fail_after(st->st_mbz.mz_mbuf, 1);
	ust_zone_fail_after(st->st_mbz.mz_clust, 1);
	ust_stack_poll(st);
	CHECK(drv.rx_nombuf >= 1);
	/* Each injected failure costs one poll at most. */
	for (i = 0; i < 3; i++)
		ust_stack_poll(st);
	ust_if_get_stats(ifp, &s);
	CHECK_EQ(s.ipackets, 4); /* the loop driver retries; nothing lost */
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

static unsigned
idx_of(struct ust_stack *st, const char *name)
{
	struct ust_if *u = ust_if_by_name(st, name);

	return (u != NULL ? ust_if_index(u) : 0);
}

TEST(if_index_stable_across_detach_and_reused_lowest_first)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct loopdrv d[6];
	struct ust_if *u[6];
	int i;

	for (i = 0; i < 6; i++)
		loopdrv_init(&d[i]);
	REQUIRE_EQ(ust_if_attach(st, "a", &loopdrv_ops, &d[0], &u[0]), 0);
	REQUIRE_EQ(ust_if_attach(st, "b", &loopdrv_ops, &d[1], &u[1]), 0);
	REQUIRE_EQ(ust_if_attach(st, "c", &loopdrv_ops, &d[2], &u[2]), 0);
	REQUIRE_EQ(ust_if_attach(st, "d", &loopdrv_ops, &d[3], &u[3]), 0);
	CHECK_EQ(idx_of(st, "d"), 4);
	ust_if_detach(u[1]);
	ust_if_detach(u[2]);
	/* No renumbering: a and d keep 1 and 4; 2 and 3 are free. */
	CHECK_EQ(idx_of(st, "a"), 1);
	CHECK_EQ(idx_of(st, "d"), 4);
	CHECK(ifnet_byindex(st, 2) == NULL && ifnet_byindex(st, 3) == NULL);
	CHECK(ifnet_byindex(st, 4) == IFP_FROM_UST(u[3]));
	CHECK(ifnet_byindex(st, 0) == NULL && ifnet_byindex(st, 5) == NULL);
	/* Reuse, lowest free index first, then past the highest. */
	REQUIRE_EQ(ust_if_attach(st, "e", &loopdrv_ops, &d[4], &u[4]), 0);
	CHECK_EQ(ust_if_index(u[4]), 2);
	REQUIRE_EQ(ust_if_attach(st, "f", &loopdrv_ops, &d[5], &u[5]), 0);
	CHECK_EQ(ust_if_index(u[5]), 3);
	ust_if_detach(u[0]);
	REQUIRE_EQ(ust_if_attach(st, "b", &loopdrv_ops, &d[1], &u[1]), 0);
	CHECK_EQ(ust_if_index(u[1]), 1);
	REQUIRE_EQ(ust_if_attach(st, "c", &loopdrv_ops, &d[2], &u[2]), 0);
	CHECK_EQ(ust_if_index(u[2]), 5);
	CHECK(ifnet_byindex(st, 5) == IFP_FROM_UST(u[2]));
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

/* What set_multicast was last told. */
static struct {
	int calls;
	void *softc;
	unsigned n;
	int allmulti;
	uint8_t macs[IF_MULTI_MAX][6];
} mc;

static void
rec_set_multicast(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti)
{
	mc.calls++;
	mc.softc = softc;
	mc.n = n;
	mc.allmulti = allmulti;
	if (n > 0 && n <= IF_MULTI_MAX)
		memcpy(mc.macs, macs, n * 6u);
}

TEST(if_multicast_list_refcounted_and_driver_told)
{
	static const uint8_t g1[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t g2[6] = { 0x33, 0x33, 0xff, 0, 0, 0x10 };
	static const uint8_t uni[6] = { 0x02, 0, 0, 0, 0, 0x20 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_driver_ops ops = loopdrv_ops;
	struct loopdrv d;
	struct ust_if *uif;
	struct ifnet *ifp;
	uint8_t g[6];
	unsigned i;

	memset(&mc, 0, sizeof(mc));
	ops.set_multicast = rec_set_multicast;
	loopdrv_init(&d);
	REQUIRE_EQ(ust_if_attach(st, "eth0", &ops, &d, &uif), 0);
	ifp = IFP_FROM_UST(uif);
#if UST_INET6
	/* IPv6 joined all-nodes (33:33:00:00:00:01) at attach; this test
	 * wants the list to itself, so it takes IPv6 off the interface. */
	CHECK_EQ(mc.calls, 1);
	CHECK_EQ(mc.n, 1);
	domain_ifdetach(pffinddomain(UST_AF_INET6), ifp);
	CHECK_EQ(mc.n, 0);
	mc.calls = 0;
#endif
	CHECK_EQ(mc.calls, 0); /* nothing joined by anyone else */
	CHECK(!if_multi_accept(ifp, g1));
	/* Only group addresses, never broadcast. */
	CHECK_EQ(if_addmulti(ifp, uni), UST_EINVAL);
	CHECK_EQ(if_addmulti(ifp, bcast), UST_EINVAL);
	CHECK_EQ(mc.calls, 0);
	CHECK_EQ(if_addmulti(ifp, g1), 0);
	CHECK_EQ(mc.calls, 1);
	CHECK(mc.softc == &d);
	CHECK_EQ(mc.n, 1);
	CHECK_EQ(mc.allmulti, 0);
	CHECK_MEM(mc.macs[0], g1, 6);
	CHECK(if_multi_accept(ifp, g1));
	/* A second reference changes nothing the driver sees. */
	CHECK_EQ(if_addmulti(ifp, g1), 0);
	CHECK_EQ(mc.calls, 1);
	CHECK_EQ(if_addmulti(ifp, g2), 0);
	CHECK_EQ(mc.calls, 2);
	CHECK_EQ(mc.n, 2);
	CHECK_MEM(mc.macs[0], g1, 6);
	CHECK_MEM(mc.macs[1], g2, 6);
	CHECK_EQ(if_delmulti(ifp, g1), 0);
	CHECK_EQ(mc.calls, 2);
	CHECK(if_multi_accept(ifp, g1));
	CHECK_EQ(if_delmulti(ifp, g1), 0);
	CHECK_EQ(mc.calls, 3);
	CHECK_EQ(mc.n, 1);
	CHECK_MEM(mc.macs[0], g2, 6);
	CHECK(!if_multi_accept(ifp, g1));
	CHECK_EQ(if_delmulti(ifp, g1), UST_ENOENT);
	CHECK_EQ(mc.calls, 3);
	/* allmulti: the first and the last reference reach the driver. */
	if_allmulti(ifp, 1);
	CHECK_EQ(mc.calls, 4);
	CHECK_EQ(mc.allmulti, 1);
	CHECK_EQ(mc.n, 1);
	CHECK(if_multi_accept(ifp, g1));
	if_allmulti(ifp, 1);
	if_allmulti(ifp, 0);
	CHECK_EQ(mc.calls, 4);
	if_allmulti(ifp, 0);
	CHECK_EQ(mc.calls, 5);
	CHECK_EQ(mc.allmulti, 0);
	CHECK(!if_multi_accept(ifp, g1));
	if_allmulti(ifp, 0); /* unbalanced: ignored */
	CHECK_EQ(mc.calls, 5);
	/* The table is bounded. */
	memcpy(g, g2, 6);
	for (i = 1; i < IF_MULTI_MAX; i++) {
		g[5] = (uint8_t)(0x40 + i);
		CHECK_EQ(if_addmulti(ifp, g), 0);
	}
	CHECK_EQ(mc.n, IF_MULTI_MAX);
	g[5] = 0x3f;
	CHECK_EQ(if_addmulti(ifp, g), UST_ENOSPC);
	CHECK_EQ(mc.n, IF_MULTI_MAX);
	/* A driver without the op passes everything: the stack still keeps
	 * the list. */
	ust_if_detach(uif);
	REQUIRE_EQ(ust_if_attach(st, "eth1", &loopdrv_ops, &d, &uif), 0);
	ifp = IFP_FROM_UST(uif);
#if UST_INET6
	CHECK_EQ(ifp->if_nmulti, 1); /* all-nodes */
	domain_ifdetach(pffinddomain(UST_AF_INET6), ifp);
#endif
	CHECK_EQ(ifp->if_nmulti, 0);
	CHECK_EQ(if_addmulti(ifp, g1), 0);
	CHECK(if_multi_accept(ifp, g1));
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
