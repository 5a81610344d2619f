/*
 * test_if.c - interfaces: attach rules, counters, the capture tap in both
 * directions, the raw input hook, transmit queue bound and driver
 * backpressure (order kept), running out of mbufs on receive.
 */
#include <ustack/ustack.h>
#include <ustack/ustack_fault.h>

#include "kern/stack_var.h"
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
	CHECK_EQ(ust_if_index(ust_if_by_name(st, "eth4")), 4);
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
