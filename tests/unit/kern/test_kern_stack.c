/*
 * test_kern_stack.c - the stack instance: config defaults and validation,
 * memory limit, determinism from the seed, isolation of two stacks, the
 * poll loop's order (rx, callouts, tx) and next_deadline.
 */
#include <ustack/ustack.h>

#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "test_env.h"
#include "test_loopdrv.h"

TEST(stack_config_defaults_documented)
{
	struct ust_stack_config cfg;

	ust_stack_config_init(&cfg);
	CHECK_EQ(cfg.mem_limit, 64u * 1024 * 1024);
	CHECK_EQ(cfg.nmbufs, 65536);
	CHECK_EQ(cfg.nmbclusters, 16384);
	CHECK_EQ(cfg.tick_ns, 1000000);
	CHECK_EQ(cfg.rx_burst, 32);
	CHECK(cfg.clock.now_ns != NULL);
	CHECK_EQ(cfg.seed_set, 0);
}

TEST(stack_create_rejects_bad_config)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = (struct ust_stack *)1;

	ust_stack_config_init(&cfg);
	cfg.rx_burst = UST_RX_BURST_MAX + 1;
	CHECK_EQ(ust_stack_create(&cfg, &st), -UST_EINVAL);
	CHECK(st == NULL);
	ust_stack_config_init(&cfg);
	cfg.tick_ns = 0;
	CHECK_EQ(ust_stack_create(&cfg, &st), -UST_EINVAL);
	CHECK_EQ(ust_stack_create(NULL, &st), -UST_EINVAL);
}

TEST(stack_create_fails_cleanly_under_tiny_memory_limit)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	ust_stack_config_init(&cfg);
	cfg.mem_limit = 512;
	CHECK_EQ(ust_stack_create(&cfg, &st), -UST_ENOMEM);
	CHECK(st == NULL);
}

/* A microcontroller-sized stack: the per-stack hash tables shrink to fit
 * the memory limit (1/32 of it each) instead of FreeBSD's server sizes,
 * so a stack is created in 64 KB; the defaults keep the full tables. */
TEST(stack_fits_in_64k_with_small_tables)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL, *big = NULL;
	struct ust_mem m;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.mem_limit = 64u * 1024u;
	cfg.nmbufs = 32;
	cfg.nmbclusters = 8;
	cfg.nmbjumbo9 = 0;
	REQUIRE(ust_stack_create(&cfg, &st) == 0);
	ust_stack_get_mem(st, &m);
	CHECK(m.in_use < 56u * 1024u);
	CHECK(st->st_tcbinfo->ipi_hashmask < 1024);
	ust_stack_destroy(st);
	/* lm3s6965evb's budget (48 KiB of its 64 KiB SRAM): the route table
	 * and TCP's loopback ring shrink with the limit too (a fixed 1024
	 * entries each were 20 KiB on a 32-bit CPU), leaving room for
	 * connections. */
	cfg.mem_limit = 48u * 1024u;
	REQUIRE(ust_stack_create(&cfg, &st) == 0);
	ust_stack_get_mem(st, &m);
	/* IPv6 (UST_INET6) adds about 7 KiB: its counters are 6.5 KiB of
	 * that (FreeBSD's 256-entry next-header and ICMPv6 histograms).  The
	 * 64 KiB board builds without it (lm3s6965evb_opts.h). */
	CHECK(m.in_use < (UST_INET6 ? 28u : 20u) * 1024u);
	ust_stack_destroy(st);
	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	REQUIRE(ust_stack_create(&cfg, &big) == 0);
	CHECK_EQ(big->st_tcbinfo->ipi_hashmask, 65535);
	ust_stack_destroy(big);
}

TEST(stack_memory_returns_to_baseline)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct loopdrv *d = malloc(sizeof(*d));
	struct ust_if *ifp;
	struct ust_mem before, after;
	uint8_t frame[100];
	int i;

	REQUIRE(d != NULL);
	loopdrv_init(d);
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, d, &ifp), 0);
	ust_stack_get_mem(st, &before);
	memset(frame, 0xab, sizeof(frame));
	for (i = 0; i < 40; i++)
		CHECK_EQ(loopdrv_inject(d, frame, sizeof(frame)), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ(ust_if_output_frame(ifp, frame, sizeof(frame)), 0);
	while (ust_stack_poll(st) > 0)
		;
	ust_stack_get_mem(st, &after);
	/* Zones keep their slabs (high-water mark), but nothing is in use. */
	CHECK(after.in_use >= before.in_use);
	CHECK(after.limit == 64u * 1024 * 1024 && after.in_use <= after.limit);
	test_stack_free(st);
	CHECK_EQ(d->detached, 1);
	free(d);
	ust_vclock_destroy(vc);
}

TEST(stack_seed_makes_randomness_reproducible)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *a = test_stack_new(vc, 77), *b = test_stack_new(vc, 77);
	struct ust_stack *c = test_stack_new(vc, 78);
	int i, same = 1;

	for (i = 0; i < 100; i++) {
		uint64_t x = ust_stack_random(a);

		same &= (x == ust_stack_random(b));
		CHECK(x != ust_stack_random(c));
	}
	CHECK(same);
	test_stack_free(a);
	test_stack_free(b);
	test_stack_free(c);
	ust_vclock_destroy(vc);
}

TEST(two_stacks_share_nothing)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *a = test_stack_new(vc, 1), *b = test_stack_new(vc, 2);
	struct ust_zone_stats za, zb;
	struct ust_mbuf *m;
	struct loopdrv da, db;
	struct ust_if *ia, *ib;

	loopdrv_init(&da);
	loopdrv_init(&db);
	REQUIRE_EQ(ust_if_attach(a, "eth0", &loopdrv_ops, &da, &ia), 0);
	/* The same interface name on another stack is another interface. */
	REQUIRE_EQ(ust_if_attach(b, "eth0", &loopdrv_ops, &db, &ib), 0);
	CHECK(ust_if_stack(ia) == a && ust_if_stack(ib) == b);
	m = ust_mbuf_alloc(ia, 100);
	REQUIRE(m != NULL);
	ust_stack_get_zone_stats(a, 0, &za);
	ust_stack_get_zone_stats(b, 0, &zb);
	CHECK_EQ(za.in_use, 1);
	CHECK_EQ(zb.in_use, 0);
	ust_mbuf_free(m);
	test_stack_free(b);
	/* a still works after b is gone. */
	CHECK_EQ(ust_if_output_frame(ia, "0123456789abcdef", 16), 0);
	CHECK_EQ(ust_stack_poll(a), 1);
	CHECK_EQ(da.tx_count, 1);
	test_stack_free(a);
	ust_vclock_destroy(vc);
}

struct order_log {
	struct loopdrv *d;
	int tx_seen_at_callout;
	int rx_seen_at_callout;
	struct ust_if *ifp;
	int fired;
};

static void
order_callout(void *arg)
{
	struct order_log *ol = arg;
	struct ust_if_stats s;

	ust_if_get_stats(ol->ifp, &s);
	ol->rx_seen_at_callout = (int)s.ipackets;
	ol->tx_seen_at_callout = ol->d->tx_count;
	ol->fired++;
}

TEST(poll_runs_rx_then_callouts_then_tx)
{
	struct ust_vclock *vc = ust_vclock_create(0);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct loopdrv d;
	struct order_log ol;
	struct callout c;

	loopdrv_init(&d);
	memset(&ol, 0, sizeof(ol));
	ol.d = &d;
	REQUIRE_EQ(ust_if_attach(st, "lo0", &loopdrv_ops, &d, &ol.ifp), 0);
	callout_init(&c);
	callout_reset(&st->st_wheel, &c, ust_stack_now(st), 5000000, order_callout, &ol);
	CHECK(ust_stack_next_deadline(st) <= 5000000);
	CHECK(ust_stack_next_deadline(st) > 0);
	ust_vclock_advance(vc, 4999999);
	ust_stack_poll(st);
	CHECK_EQ(ol.fired, 0);
	ust_vclock_set(vc, ust_stack_next_deadline(st));
	while (ol.fired == 0 && ust_vclock_now(vc) < 10000000) {
		ust_stack_poll(st);
		if (ol.fired == 0)
			ust_vclock_set(vc, ust_stack_next_deadline(st));
	}
	CHECK_EQ(ol.fired, 0 + 1);
	CHECK(ust_vclock_now(vc) >= 5000000);
	/* Now a poll with a frame in, a frame out and a due callout. */
	callout_reset(&st->st_wheel, &c, ust_stack_now(st), 0, order_callout, &ol);
	CHECK_EQ(loopdrv_inject(&d, "0123456789abcdefgh", 18), 0);
	CHECK_EQ(ust_if_output_frame(ol.ifp, "0123456789abcdef", 16), 0);
	ust_vclock_advance(vc, 1000000);
	ust_stack_poll(st);
	CHECK_EQ(ol.fired, 2);
	CHECK_EQ(ol.rx_seen_at_callout, 1); /* rx ran before the callout */
	CHECK_EQ(ol.tx_seen_at_callout, 0); /* tx flushed after it */
	CHECK_EQ(d.tx_count, 1);
	CHECK(ust_stack_next_deadline(st) == UINT64_MAX);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}

#if UST_STRERROR
TEST(strerror_names_codes)
{
	CHECK(strcmp(ust_strerror(-UST_ECONNRESET), "ECONNRESET: Connection reset by peer") == 0);
	CHECK(strcmp(ust_errname(UST_EAGAIN), "EAGAIN") == 0);
	CHECK(ust_errname(9999) == NULL);
	CHECK(strcmp(ust_strerror(0), "Success") == 0);
	CHECK_EQ(UST_ECONNRESET, 54); /* FreeBSD numbering, not the host's */
	CHECK(strcmp(ust_version(), "0.1.0") == 0);
}
#endif
