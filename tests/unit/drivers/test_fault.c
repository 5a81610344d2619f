/*
 * test_fault.c - the fault injector (drivers/fault/fault.c) on its own:
 * determinism by seed, loss/duplicate/reorder/corrupt rates, serialisation
 * spacing of the rate limit, FIFO order under jitter, MTU and queue drops.
 */
#include "../../../drivers/fault/fault.h"

#include "ust_test.h"

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull

static void
cfg_zero(struct ust_fault_config *c, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
}

/* A config with every random fault on, for the determinism cases. */
static void
cfg_busy(struct ust_fault_config *c, uint64_t seed)
{
	cfg_zero(c, seed);
	c->loss_ppm = 100000;
	c->dup_ppm = 50000;
	c->reorder_ppm = 50000;
	c->corrupt_ppm = 50000;
	c->delay_ns = 5 * NS_PER_MS;
	c->jitter_ns = 2 * NS_PER_MS;
	c->rate_bps = 100000000;
}

static size_t
frame_len(unsigned i)
{
	return (60 + (i * 97) % 1455);
}

static int
verdict_eq(const struct fault_verdict *a, const struct fault_verdict *b)
{
	return (a->fv_action == b->fv_action && a->fv_copies == b->fv_copies &&
	    a->fv_reordered == b->fv_reordered && a->fv_corrupt == b->fv_corrupt &&
	    a->fv_corrupt_bit == b->fv_corrupt_bit && a->fv_deliver_at == b->fv_deliver_at);
}

/* Runs n frames through two injectors and counts differing verdicts. */
static unsigned
run_pair(uint64_t seed1, uint64_t seed2, unsigned n)
{
	struct ust_fault_config c1, c2;
	struct fault f1, f2;
	struct fault_verdict v1, v2;
	unsigned i, diff = 0;

	cfg_busy(&c1, seed1);
	cfg_busy(&c2, seed2);
	fault_init(&f1, &c1, 1500, 1024);
	fault_init(&f2, &c2, 1500, 1024);
	for (i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * 50 * NS_PER_US;

		fault_decide(&f1, now, frame_len(i), frame_len(i) - 14, 0, &v1);
		fault_decide(&f2, now, frame_len(i), frame_len(i) - 14, 0, &v2);
		if (!verdict_eq(&v1, &v2))
			diff++;
	}
	return (diff);
}

TEST(same_seed_same_decisions)
{
	CHECK_EQ(run_pair(ust_test_seed, ust_test_seed, 20000), 0);
	CHECK_EQ(run_pair(42, 42, 20000), 0);
}

TEST(different_seed_different_decisions)
{
	/* With 10% loss and more, two seeds agree on about 70% of frames. */
	CHECK(run_pair(ust_test_seed, ust_test_seed + 1, 20000) > 1000);
	CHECK(run_pair(1, 2, 20000) > 1000);
}

/* A queue drop (depends on the receiver) does not shift later decisions. */
TEST(decisions_independent_of_queue_drops)
{
	struct ust_fault_config c;
	struct fault f1, f2;
	struct fault_verdict v1, v2;
	unsigned i, qdrops = 0, lost1 = 0, lost2 = 0, mismatch = 0;

	cfg_zero(&c, ust_test_seed);
	c.loss_ppm = 200000;
	c.corrupt_ppm = 100000;
	c.queue_limit = 8;
	fault_init(&f1, &c, 1500, 1024);
	fault_init(&f2, &c, 1500, 1024);
	for (i = 0; i < 10000; i++) {
		/* f2's receiver is stalled every third frame. */
		uint32_t inflight2 = (i % 3 == 0) ? 8 : 0;

		fault_decide(&f1, 0, 100, 86, 0, &v1);
		fault_decide(&f2, 0, 100, 86, inflight2, &v2);
		lost1 += v1.fv_action == FAULT_LOST;
		lost2 += v2.fv_action == FAULT_LOST;
		if (v2.fv_action == FAULT_DROP_QUEUE) {
			qdrops++;
			CHECK(v1.fv_action == FAULT_DELIVER);
			continue;
		}
		if (v1.fv_action != v2.fv_action || v1.fv_corrupt != v2.fv_corrupt ||
		    v1.fv_corrupt_bit != v2.fv_corrupt_bit)
			mismatch++;
	}
	CHECK(qdrops > 2000);
	CHECK_EQ(lost1, lost2);
	CHECK_EQ(mismatch, 0);
}

TEST(loss_rate_within_bounds)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	unsigned i, lost = 0, delivered = 0;

	cfg_zero(&c, ust_test_seed);
	c.loss_ppm = 100000; /* 10% */
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 100000; i++) {
		fault_decide(&f, 0, 1514, 1500, 0, &v);
		if (v.fv_action == FAULT_LOST)
			lost++;
		else if (v.fv_action == FAULT_DELIVER)
			delivered++;
	}
	/* sigma = sqrt(1e5 * 0.1 * 0.9) ~ 95: +-1% is over ten sigma. */
	CHECK(lost >= 9000 && lost <= 11000);
	CHECK_EQ(lost + delivered, 100000);

	/* 0 and 1e6 ppm are exact. */
	c.loss_ppm = 0;
	fault_init(&f, &c, 1500, 1024);
	for (lost = 0, i = 0; i < 10000; i++) {
		fault_decide(&f, 0, 100, 86, 0, &v);
		lost += v.fv_action == FAULT_LOST;
	}
	CHECK_EQ(lost, 0);
	c.loss_ppm = 1000000;
	fault_init(&f, &c, 1500, 1024);
	for (lost = 0, i = 0; i < 10000; i++) {
		fault_decide(&f, 0, 100, 86, 0, &v);
		lost += v.fv_action == FAULT_LOST;
	}
	CHECK_EQ(lost, 10000);
}

TEST(rate_limit_spacing_exact)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	uint64_t t0 = 1000 * NS_PER_MS;
	unsigned i;

	cfg_zero(&c, ust_test_seed);
	c.rate_bps = 1000000000; /* 1 Gbit/s: 1500 bytes = 12 us */
	c.delay_ns = 3 * NS_PER_MS;
	fault_init(&f, &c, 1500, 1024);
	/* A burst at one instant leaves the link one serialisation apart. */
	for (i = 0; i < 100; i++) {
		fault_decide(&f, t0, 1500, 1486, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		CHECK_EQ(v.fv_deliver_at, t0 + (uint64_t)(i + 1) * 12 * NS_PER_US + 3 * NS_PER_MS);
	}
	/* An idle link starts at now again. */
	t0 += 10 * NS_PER_MS;
	fault_decide(&f, t0, 1500, 1486, 0, &v);
	CHECK_EQ(v.fv_deliver_at, t0 + 12 * NS_PER_US + 3 * NS_PER_MS);

	/* Fractions of a ns carry: a 64-byte frame at 3 Gbit/s takes 170.67
	 * ns, and three back to back end at exactly 512 ns. */
	c.rate_bps = 3000000000ull;
	c.delay_ns = 0;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 3; i++)
		fault_decide(&f, 0, 64, 50, 0, &v);
	CHECK_EQ(v.fv_deliver_at, 512);
}

TEST(jitter_keeps_fifo)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	uint64_t prev = 0, now, x, minx = UINT64_MAX, maxx = 0;
	unsigned i, backwards = 0;

	cfg_zero(&c, ust_test_seed);
	c.delay_ns = 10 * NS_PER_MS;
	c.jitter_ns = 5 * NS_PER_MS;
	fault_init(&f, &c, 1500, 1024);
	/* Frames further apart than the jitter: the full spread shows. */
	for (i = 0; i < 1000; i++) {
		now = (uint64_t)i * 20 * NS_PER_MS;
		fault_decide(&f, now, 200, 186, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		x = v.fv_deliver_at - now;
		CHECK(x >= c.delay_ns && x <= c.delay_ns + c.jitter_ns);
		if (x < minx)
			minx = x;
		if (x > maxx)
			maxx = x;
		prev = v.fv_deliver_at;
	}
	CHECK(minx < c.delay_ns + NS_PER_MS / 10);
	CHECK(maxx > c.delay_ns + c.jitter_ns - NS_PER_MS / 10);
	/* Frames closer than the jitter: never delivered out of order. */
	for (i = 0; i < 10000; i++) {
		now = 1000 * 20 * NS_PER_MS + (uint64_t)i * 100 * NS_PER_US;
		fault_decide(&f, now, 200, 186, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		CHECK(v.fv_deliver_at >= now + c.delay_ns);
		if (v.fv_deliver_at < prev)
			backwards++;
		prev = v.fv_deliver_at;
	}
	CHECK_EQ(backwards, 0);
}

TEST(reorder_produces_overtakes)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	uint64_t at[5000];
	int reord[5000];
	uint64_t fifo_prev = 0;
	unsigned i, j, nreord = 0, overtaken = 0, backwards = 0;

	cfg_zero(&c, ust_test_seed);
	c.reorder_ppm = 100000;
	c.delay_ns = NS_PER_MS;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 5000; i++) {
		fault_decide(&f, (uint64_t)i * 100 * NS_PER_US, 100, 86, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		at[i] = v.fv_deliver_at;
		reord[i] = v.fv_reordered;
		nreord += (unsigned)v.fv_reordered;
		/* Frames not held back stay in order among themselves. */
		if (!v.fv_reordered) {
			if (v.fv_deliver_at < fifo_prev)
				backwards++;
			fifo_prev = v.fv_deliver_at;
		}
	}
	CHECK(nreord >= 400 && nreord <= 600);
	CHECK_EQ(backwards, 0);
	/* Held back by the default 1 ms, a frame is passed by the next ones
	 * sent within 1 ms (frames are 100 us apart). */
	for (i = 0; i < 4990; i++) {
		if (!reord[i])
			continue;
		CHECK_EQ(at[i], (uint64_t)i * 100 * NS_PER_US + 2 * NS_PER_MS);
		for (j = i + 1; j < i + 10; j++)
			if (at[j] < at[i]) {
				overtaken++;
				break;
			}
	}
	CHECK(overtaken > 300);
}

TEST(dup_counts)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	unsigned i, dups = 0;

	cfg_zero(&c, ust_test_seed);
	c.dup_ppm = 200000;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 100000; i++) {
		fault_decide(&f, 0, 100, 86, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		REQUIRE(v.fv_copies == 1 || v.fv_copies == 2);
		dups += v.fv_copies == 2;
	}
	CHECK(dups >= 19000 && dups <= 21000);

	/* No room for the second copy: it is not made. */
	c.dup_ppm = 1000000;
	c.queue_limit = 4;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, 0, 100, 86, 3, &v);
	CHECK(v.fv_action == FAULT_DELIVER);
	CHECK_EQ(v.fv_copies, 1);
	fault_decide(&f, 0, 100, 86, 2, &v);
	CHECK_EQ(v.fv_copies, 2);
}

static unsigned
popcount8(uint8_t x)
{
	unsigned n = 0;

	for (; x != 0; x &= (uint8_t)(x - 1))
		n++;
	return (n);
}

TEST(corrupt_flips_exactly_one_bit)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	uint8_t orig[1514], buf[1514];
	unsigned i, k, flips, first_half = 0;
	size_t len;

	for (k = 0; k < sizeof(orig); k++)
		orig[k] = (uint8_t)(k * 31 + 7);
	cfg_zero(&c, ust_test_seed);
	c.corrupt_ppm = 1000000;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 2000; i++) {
		len = 60 + i % 1455;
		memcpy(buf, orig, len);
		fault_decide(&f, 0, len, len - 14, 0, &v);
		REQUIRE(v.fv_action == FAULT_DELIVER);
		REQUIRE(v.fv_corrupt);
		CHECK(v.fv_corrupt_bit < len * 8);
		fault_corrupt(&v, buf, len);
		for (flips = 0, k = 0; k < len; k++)
			flips += popcount8((uint8_t)(buf[k] ^ orig[k]));
		CHECK_EQ(flips, 1);
		first_half += v.fv_corrupt_bit < len * 4;
	}
	/* The bit is spread over the frame. */
	CHECK(first_half > 800 && first_half < 1200);

	/* corrupt_ppm 0: never. */
	c.corrupt_ppm = 0;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 1000; i++) {
		memcpy(buf, orig, 100);
		fault_decide(&f, 0, 100, 86, 0, &v);
		CHECK(!v.fv_corrupt);
		fault_corrupt(&v, buf, 100);
		CHECK_MEM(buf, orig, 100);
	}
}

TEST(mtu_and_queue_drops)
{
	struct ust_fault_config c;
	struct fault f, g;
	struct fault_verdict v, w;

	cfg_zero(&c, ust_test_seed);
	c.loss_ppm = 300000;
	fault_init(&f, &c, 1500, 1024);
	fault_init(&g, &c, 1500, 1024);
	fault_decide(&f, 0, 1515, 1501, 0, &v);
	CHECK(v.fv_action == FAULT_DROP_MTU);
	/* An MTU drop draws nothing: f and g stay in step. */
	fault_decide(&f, 0, 1514, 1500, 0, &v);
	fault_decide(&g, 0, 1514, 1500, 0, &w);
	CHECK(verdict_eq(&v, &w));

	/* The config's MTU overrides the link's. */
	c.loss_ppm = 0;
	c.mtu = 576;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, 0, 591, 577, 0, &v);
	CHECK(v.fv_action == FAULT_DROP_MTU);
	fault_decide(&f, 0, 590, 576, 0, &v);
	CHECK(v.fv_action == FAULT_DELIVER);

	/* queue_limit, capped at the capacity. */
	c.mtu = 0;
	c.queue_limit = 16;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, 0, 100, 86, 15, &v);
	CHECK(v.fv_action == FAULT_DELIVER);
	fault_decide(&f, 0, 100, 86, 16, &v);
	CHECK(v.fv_action == FAULT_DROP_QUEUE);
	c.queue_limit = 0;
	fault_init(&f, &c, 1500, 8);
	fault_decide(&f, 0, 100, 86, 8, &v);
	CHECK(v.fv_action == FAULT_DROP_QUEUE);
	c.queue_limit = 100;
	fault_init(&f, &c, 1500, 8);
	fault_decide(&f, 0, 100, 86, 8, &v);
	CHECK(v.fv_action == FAULT_DROP_QUEUE);
	fault_decide(&f, 0, 100, 86, 7, &v);
	CHECK(v.fv_action == FAULT_DELIVER);
}

TEST(reconfigure_reseeds_and_keeps_order)
{
	struct ust_fault_config c;
	struct fault f, g;
	struct fault_verdict v, w;
	unsigned i, diff = 0;

	cfg_busy(&c, 7);
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 100; i++)
		fault_decide(&f, 0, 100, 86, 0, &v);
	/* Same config again: the PRNG starts over, like a fresh injector's. */
	c.delay_ns = 0;
	c.jitter_ns = 0;
	c.rate_bps = 0;
	fault_reconfigure(&f, &c);
	fault_init(&g, &c, 1500, 1024);
	for (i = 0; i < 1000; i++) {
		fault_decide(&f, 0, 100, 86, 0, &v);
		fault_decide(&g, 0, 100, 86, 0, &w);
		if (v.fv_action != w.fv_action || v.fv_copies != w.fv_copies ||
		    v.fv_corrupt_bit != w.fv_corrupt_bit)
			diff++;
		/* The old 5 ms delay's frames are still ahead: FIFO holds. */
		if (v.fv_action == FAULT_DELIVER && !v.fv_reordered)
			CHECK(v.fv_deliver_at >= 5 * NS_PER_MS);
	}
	CHECK_EQ(diff, 0);
}

/* Delays that reach past the end of 64-bit time saturate there: a frame
 * is never due before now + delay (+ hold-back), whatever the sum. */
TEST(huge_delay_saturates_not_wraps)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	uint64_t now = 1000 * NS_PER_MS;

	/* A "never" delay must not deliver at once. */
	cfg_zero(&c, 1);
	c.delay_ns = UINT64_MAX;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, now, 100, 86, 0, &v);
	REQUIRE(v.fv_action == FAULT_DELIVER);
	CHECK(v.fv_deliver_at == UINT64_MAX);

	/* Hold-back of a reordered frame on top of a huge delay. */
	cfg_zero(&c, 1);
	c.delay_ns = UINT64_MAX - now;
	c.reorder_ppm = 1000000;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, now, 100, 86, 0, &v);
	REQUIRE(v.fv_action == FAULT_DELIVER);
	CHECK(v.fv_reordered);
	CHECK(v.fv_deliver_at == UINT64_MAX);

	/* Jitter on top of a huge delay. */
	cfg_zero(&c, 1);
	c.delay_ns = UINT64_MAX - 10;
	c.jitter_ns = UINT64_MAX;
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, now, 100, 86, 0, &v);
	REQUIRE(v.fv_action == FAULT_DELIVER);
	CHECK(v.fv_deliver_at == UINT64_MAX);
}

/* ---------------------------------------------------------------------
 * CE marking (RFC 3168 5): ce_ppm, ce_threshold, fault_ce_mark.
 * ------------------------------------------------------------------- */

/* One's-complement sum of an IPv4 header: 0 when its checksum is right. */
static uint16_t
ip_hdr_sum(const uint8_t *ip, size_t hl)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < hl; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ((uint16_t)~s);
}

/* Ethernet (optionally 802.1Q) + a 20-byte IPv4 header with TOS tos and a
 * right checksum + 26 bytes of payload.  Returns the IP header's offset. */
static size_t
ce_frame(uint8_t *f, size_t cap, uint8_t tos, int vlan, uint16_t ethertype)
{
	size_t off = vlan ? 18 : 14;
	uint8_t *ip = f + off;
	uint16_t s;

	memset(f, 0, cap);
	if (vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[15] = 7;
	}
	f[off - 2] = (uint8_t)(ethertype >> 8);
	f[off - 1] = (uint8_t)ethertype;
	ip[0] = 0x45;
	ip[1] = tos;
	ip[3] = 46;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 198;
	ip[13] = 18;
	ip[15] = 1;
	ip[16] = 198;
	ip[17] = 18;
	ip[19] = 2;
	s = ip_hdr_sum(ip, 20);
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	return (off);
}

TEST(ce_mark_only_ect_ipv4_and_fixes_checksum)
{
	static const struct {
		uint8_t tos;
		int vlan;
		uint16_t et;
		int marked;
	} cases[] = {
		{ 0x02, 0, 0x0800, 1 },                         /* ECT(0) */
		{ 0x01, 0, 0x0800, 1 },                         /* ECT(1) */
		{ 0xb9, 0, 0x0800, 1 },                         /* DSCP kept, ECT(1) */
		{ 0x02, 1, 0x0800, 1 },                         /* VLAN-tagged ECT(0) */
		{ 0x00, 0, 0x0800, 0 },                         /* Not-ECT: never marked */
		{ 0xb8, 0, 0x0800, 0 }, { 0x03, 0, 0x0800, 0 }, /* already CE */
		{ 0x02, 0, 0x0806, 0 },                         /* ARP, whatever the bytes say */
		{ 0x02, 0, 0x86dd, 0 },                         /* not IPv4 */
	};
	struct fault_verdict v;
	uint8_t f[64], before[64];
	size_t i, off;

	memset(&v, 0, sizeof(v));
	v.fv_action = FAULT_DELIVER;
	v.fv_ce = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off = ce_frame(f, sizeof(f), cases[i].tos, cases[i].vlan, cases[i].et);
		memcpy(before, f, sizeof(f));
		CHECK_EQ(fault_ce_mark(&v, f, sizeof(f)), cases[i].marked);
		if (cases[i].marked) {
			CHECK_EQ(f[off + 1], (uint8_t)(cases[i].tos | 0x03));
			CHECK_EQ(ip_hdr_sum(f + off, 20), 0);
			/* Only the TOS octet and the checksum changed. */
			before[off + 1] = f[off + 1];
			before[off + 10] = f[off + 10];
			before[off + 11] = f[off + 11];
		}
		CHECK_MEM(f, before, sizeof(f));
	}
	/* A verdict without fv_ce, and a frame too short for IPv4: untouched. */
	ce_frame(f, sizeof(f), 0x02, 0, 0x0800);
	v.fv_ce = 0;
	CHECK_EQ(fault_ce_mark(&v, f, sizeof(f)), 0);
	v.fv_ce = 1;
	CHECK_EQ(fault_ce_mark(&v, f, 30), 0);
	CHECK_EQ(f[15], 0x02);
}

TEST(ce_ppm_rate_and_threshold)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	unsigned i, n = 100000, marks = 0;
	uint64_t seed = 0xce01;

	cfg_zero(&c, seed);
	c.ce_ppm = 100000; /* 10% */
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < n; i++) {
		fault_decide(&f, 0, 100, 86, 0, &v);
		REQUIRE_EQ(v.fv_action, FAULT_DELIVER);
		marks += (unsigned)v.fv_ce;
	}
	/* 10% of 100000, sigma ~95: 9500..10500 is > 5 sigma. */
	CHECK(marks > 9500 && marks < 10500);

	/* Threshold: marked exactly when more than ce_threshold are queued. */
	cfg_zero(&c, seed);
	c.ce_threshold = 8;
	fault_init(&f, &c, 1500, 1024);
	for (i = 0; i < 20; i++) {
		fault_decide(&f, 0, 100, 86, i, &v);
		CHECK_EQ(v.fv_ce, i > 8);
	}
	cfg_zero(&c, seed);
	fault_init(&f, &c, 1500, 1024);
	fault_decide(&f, 0, 100, 86, 1000, &v);
	CHECK_EQ(v.fv_ce, 0);
}

/* CE marking draws from its own stream: turning it on changes no other
 * decision of the seed (fault.h, Determinism). */
TEST(ce_marking_leaves_other_faults_alone)
{
	struct ust_fault_config c1, c2;
	struct fault f1, f2;
	struct fault_verdict v1, v2;
	unsigned i, marks = 0;

	cfg_busy(&c1, 77);
	cfg_busy(&c2, 77);
	c2.ce_ppm = 500000;
	fault_init(&f1, &c1, 1500, 1024);
	fault_init(&f2, &c2, 1500, 1024);
	for (i = 0; i < 5000; i++) {
		fault_decide(&f1, i * NS_PER_US, frame_len(i), frame_len(i) - 14, 0, &v1);
		fault_decide(&f2, i * NS_PER_US, frame_len(i), frame_len(i) - 14, 0, &v2);
		CHECK(verdict_eq(&v1, &v2));
		CHECK_EQ(v1.fv_ce, 0);
		marks += (unsigned)v2.fv_ce;
	}
	CHECK(marks > 1000);
}

/* A draw-free copy of an injector's PRNG state, to see whether it moved. */
static int
rng_same(const struct ust_rng *a, const struct ust_rng *b)
{
	return (memcmp(a, b, sizeof(*a)) == 0);
}

TEST(idle_draws_nothing_and_delivers_in_order)
{
	struct ust_fault_config c;
	struct fault f;
	struct fault_verdict v;
	struct ust_rng r0, c0;
	unsigned i;

	cfg_zero(&c, ust_test_seed);
	c.queue_limit = 8;
	c.ce_threshold = 4;
	fault_init(&f, &c, 1500, 1024);
	CHECK(fault_idle(&f));
	r0 = f.f_rng;
	c0 = f.f_ce_rng;
	for (i = 0; i < 10; i++) {
		fault_decide(&f, 1000 + i, frame_len(i), frame_len(i) - 14, i, &v);
		if (i < 8) {
			CHECK_EQ(v.fv_action, FAULT_DELIVER);
			CHECK_EQ(v.fv_copies, 1);
			CHECK_EQ(v.fv_deliver_at, 1000 + i);
			CHECK_EQ(v.fv_ce, i > 4);
			CHECK(!v.fv_corrupt && !v.fv_reordered);
		} else
			CHECK_EQ(v.fv_action, FAULT_DROP_QUEUE);
	}
	fault_decide(&f, 0, 1600, 1586, 0, &v);
	CHECK_EQ(v.fv_action, FAULT_DROP_MTU);
	CHECK(rng_same(&f.f_rng, &r0) && rng_same(&f.f_ce_rng, &c0));
	/* Anything configured leaves idle; the CE stream moves only with
	 * ce_ppm, the main one only with a random fault. */
	c.delay_ns = 1;
	fault_reconfigure(&f, &c);
	CHECK(!fault_idle(&f));
	r0 = f.f_rng;
	fault_decide(&f, 0, 100, 86, 0, &v);
	CHECK(rng_same(&f.f_rng, &r0) && rng_same(&f.f_ce_rng, &c0));
	c.ce_ppm = 1;
	fault_reconfigure(&f, &c);
	r0 = f.f_rng;
	c0 = f.f_ce_rng;
	fault_decide(&f, 0, 100, 86, 0, &v);
	CHECK(rng_same(&f.f_rng, &r0) && !rng_same(&f.f_ce_rng, &c0));
	c.ce_ppm = 0;
	c.loss_ppm = 1;
	fault_reconfigure(&f, &c);
	r0 = f.f_rng;
	c0 = f.f_ce_rng;
	fault_decide(&f, 0, 100, 86, 0, &v);
	CHECK(!rng_same(&f.f_rng, &r0) && rng_same(&f.f_ce_rng, &c0));
}

/* A configuration whose random faults are off decides every frame as the
 * full draw set would have (the draws could change no fate). */
TEST(skipped_draws_change_no_fate)
{
	struct ust_fault_config c;
	struct fault f1, f2;
	struct fault_verdict v1, v2;
	unsigned i;

	cfg_zero(&c, ust_test_seed);
	c.delay_ns = 3 * NS_PER_MS;
	c.rate_bps = 10000000;
	c.queue_limit = 64;
	fault_init(&f1, &c, 1500, 1024);
	fault_init(&f2, &c, 1500, 1024);
	f2.f_draws = 1; /* as before fault_idle: the fixed draw set */
	for (i = 0; i < 5000; i++) {
		uint64_t now = (uint64_t)i * 300 * NS_PER_US;

		fault_decide(&f1, now, frame_len(i), frame_len(i) - 14, i % 80, &v1);
		fault_decide(&f2, now, frame_len(i), frame_len(i) - 14, i % 80, &v2);
		CHECK(verdict_eq(&v1, &v2));
	}
}

TEST(ce_span_covers_the_ip_header)
{
	uint8_t fr[80];

	memset(fr, 0, sizeof(fr));
	fr[12] = 0x08;
	fr[14] = 0x46; /* IPv4, 24-byte header */
	CHECK_EQ(fault_ce_span(fr, sizeof(fr)), 38);
	CHECK_EQ(fault_ce_span(fr, 10), 0);
	fr[12] = 0x86;
	fr[13] = 0xdd;
	CHECK_EQ(fault_ce_span(fr, sizeof(fr)), 54);
	fr[12] = 0x81;
	fr[13] = 0x00;
	fr[16] = 0x08;
	fr[17] = 0x00;
	fr[18] = 0x45;
	CHECK_EQ(fault_ce_span(fr, sizeof(fr)), 38);
}
