/*
 * test_cc_newreno.c - the NewReno module through the cc.h wrappers, as
 * tables of inputs to expected cwnd/ssthresh: initial windows (RFC 6928,
 * RFC 3390), slow start with ABC (RFC 3465), congestion avoidance, fast
 * retransmit and recovery (RFC 5681 3.2, RFC 6582), timeouts, the restart
 * window after idle (RFC 5681 4.1), missing hooks; the cwnd trajectory
 * over RTTs against RFC 5681's AIMD; the registry of modules, the string
 * knobs net.inet.tcp.cc.algorithm / .available and cc_switch.
 */
#include "cc_rig.h"

static void
ccrig_init(struct ccrig *r, uint32_t mss)
{
	ccrig_setup(r, mss);
	ccrig_attach(r, &newreno_cc_algo);
}

TEST(newreno_initial_window)
{
	static const struct {
		int64_t iw, rfc3390;
		uint32_t mss, cwnd;
	} t[] = {
		{ 10, 1, 1460, 14600 }, /* RFC 6928 */
		{ 10, 1, 536, 5360 },
		{ 10, 1, 8960, 17920 }, /* min(10 * mss, max(2 * mss, 14600)) */
		{ 4, 1, 1460, 5840 },
		{ 0, 1, 1460, 4380 }, /* RFC 3390: min(4 * mss, max(2 * mss, 4380)) */
		{ 0, 1, 536, 2144 },
		{ 0, 1, 2500, 5000 },
		{ 0, 0, 1460, 4380 }, /* RFC 2581: 3 segments for 1095 < mss <= 2190 */
		{ 0, 0, 536, 2144 },
		{ 0, 0, 4000, 8000 },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ccrig r;

		ccrig_init(&r, t[i].mss);
		V(r.st, tcp_initcwnd_segments) = t[i].iw;
		V(r.st, tcp_do_rfc3390) = t[i].rfc3390;
		cc_conn_init(&r.tp);
		CHECK_EQ(r.tp.snd_cwnd, t[i].cwnd);
		CHECK_EQ(r.tp.snd_ssthresh, (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT);
		ccrig_fini(&r);
	}
	/* A retransmitted SYN: one segment (RFC 6928 2). */
	{
		struct ccrig r;

		ccrig_init(&r, 1460);
		r.tp.snd_cwnd = 1;
		cc_conn_init(&r.tp);
		CHECK_EQ(r.tp.snd_cwnd, 1460);
		ccrig_fini(&r);
	}
}

/* Slow start with ABC (L = abc_l_var segments per ACK), then congestion
 * avoidance one segment per window of ACKed bytes. */
TEST(newreno_slow_start_and_avoidance)
{
	static const struct {
		uint32_t cwnd, ssthresh, acked;
		int limited;
		uint32_t want;
	} t[] = {
		{ 14600, 65535, 1460, 1, 16060 }, { 14600, 65535, 2920, 1, 17520 },
		{ 14600, 65535, 5840, 1, 17520 }, /* capped at L = 2 segments */
		{ 14600, 65535, 1460, 0, 14600 }, /* not cwnd limited: no growth */
		{ 14600, 14000, 1460, 1, 14600 }, /* CA: bytes counted, not yet a window */
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ccrig r;

		ccrig_init(&r, 1460);
		r.tp.snd_cwnd = t[i].cwnd;
		r.tp.snd_ssthresh = t[i].ssthresh;
		cc_ack_received(&r.tp, t[i].acked, CC_ACK, t[i].limited);
		CHECK_EQ(r.tp.snd_cwnd, t[i].want);
		ccrig_fini(&r);
	}
	{
		struct ccrig r;
		int k;

		/* CA: 10 ACKs of one segment on a 10-segment window: +1. */
		ccrig_init(&r, 1460);
		r.tp.snd_cwnd = 14600;
		r.tp.snd_ssthresh = 7300;
		for (k = 0; k < 9; k++)
			cc_ack_received(&r.tp, 1460, CC_ACK, 1);
		CHECK_EQ(r.tp.snd_cwnd, 14600);
		cc_ack_received(&r.tp, 1460, CC_ACK, 1);
		CHECK_EQ(r.tp.snd_cwnd, 16060);
		CHECK_EQ(r.tp.t_bytes_acked, 0);
		/* Without ABC: mss * mss / cwnd per ACK. */
		V(r.st, tcp_do_rfc3465) = 0;
		cc_ack_received(&r.tp, 1460, CC_ACK, 1);
		CHECK_EQ(r.tp.snd_cwnd, 16060 + 1460 * 1460 / 16060);
		ccrig_fini(&r);
	}
	{
		struct ccrig r;

		/* Slow start after a timeout (snd_nxt behind snd_max): L = 1. */
		ccrig_init(&r, 1460);
		r.tp.snd_cwnd = 1460;
		r.tp.snd_ssthresh = 20000;
		r.tp.snd_max = r.tp.snd_una + 20000;
		cc_ack_received(&r.tp, 2920, CC_ACK, 1);
		CHECK_EQ(r.tp.snd_cwnd, 2920);
		ccrig_fini(&r);
	}
}

/* Fast retransmit and recovery (RFC 5681 3.2, RFC 6582 3.2). */
TEST(newreno_fast_recovery)
{
	struct ccrig r;

	ccrig_init(&r, 1000);
	r.tp.snd_cwnd = 20000;
	r.tp.snd_ssthresh = 65535;
	r.tp.snd_max = r.tp.snd_una + 20000; /* 20 segments in flight */
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK(IN_FASTRECOVERY(r.tp.t_flags));
	CHECK_EQ(r.tp.snd_recover, r.tp.snd_max);
	CHECK_EQ(r.tp.snd_ssthresh, 10000);
	CHECK_EQ(r.tp.snd_cwnd, 13000); /* ssthresh + 3 segments */
	/* A second signal inside recovery changes nothing. */
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK_EQ(r.tp.snd_ssthresh, 10000);
	/* Each further duplicate ACK inflates by one segment. */
	cc_ack_received(&r.tp, 0, CC_DUPACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 14000);
	/* A partial ACK of 3000 bytes: deflate by 3000, add one segment. */
	r.tp.snd_una += 3000;
	cc_ack_received(&r.tp, 3000, CC_ACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 12000);
	/* A partial ACK under one segment: deflate only. */
	r.tp.snd_una += 500;
	cc_ack_received(&r.tp, 500, CC_ACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 11500);
	/* The full ACK: min(ssthresh, max(flight, mss) + mss). */
	r.tp.snd_una = r.tp.snd_max - 2000;
	cc_post_recovery(&r.tp);
	CHECK(!IN_FASTRECOVERY(r.tp.t_flags));
	CHECK_EQ(r.tp.snd_cwnd, 3000);
	ccrig_fini(&r);

	ccrig_init(&r, 1000);
	r.tp.snd_cwnd = 20000;
	r.tp.snd_max = r.tp.snd_una + 3000; /* small flight: 2 * mss floor */
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK_EQ(r.tp.snd_ssthresh, 2000);
	CHECK_EQ(r.tp.snd_cwnd, 5000);
	r.tp.snd_una = r.tp.snd_max;
	cc_post_recovery(&r.tp);
	CHECK_EQ(r.tp.snd_cwnd, 2000);
	ccrig_fini(&r);
}

/* RTO: ssthresh from the flight on the first timeout only, cwnd one
 * segment every time; a spurious timeout restores the window. */
TEST(newreno_rto_and_rto_err)
{
	struct ccrig r;

	ccrig_init(&r, 1460);
	r.tp.snd_cwnd = 29200;
	r.tp.snd_ssthresh = 65535;
	r.tp.snd_max = r.tp.snd_una + 29200;
	r.tp.t_flags |= TF_FASTRECOVERY;
	r.tp.t_rxtshift = 1;
	cc_cong_signal(&r.tp, CC_RTO);
	CHECK_EQ(r.tp.snd_ssthresh, 14600);
	CHECK_EQ(r.tp.snd_cwnd, 1460);
	CHECK(!IN_FASTRECOVERY(r.tp.t_flags));
	CHECK(r.tp.t_flags & TF_WASFRECOVERY);
	r.tp.t_rxtshift = 2;
	r.tp.snd_cwnd = 4000;
	r.tp.snd_max = r.tp.snd_una + 2000;
	cc_cong_signal(&r.tp, CC_RTO);
	CHECK_EQ(r.tp.snd_ssthresh, 14600);
	CHECK_EQ(r.tp.snd_cwnd, 1460);
	cc_cong_signal(&r.tp, CC_RTO_ERR);
	CHECK_EQ(r.tp.snd_cwnd, 29200);
	CHECK_EQ(r.tp.snd_ssthresh, 65535);
	CHECK(IN_FASTRECOVERY(r.tp.t_flags));
	ccrig_fini(&r);
}

/* RFC 5681 4.1: after idle, cwnd = min(IW, cwnd). */
TEST(newreno_after_idle)
{
	struct ccrig r;

	ccrig_init(&r, 1460);
	r.tp.snd_cwnd = 100000;
	cc_after_idle(&r.tp);
	CHECK_EQ(r.tp.snd_cwnd, 14600);
	r.tp.snd_cwnd = 3000;
	cc_after_idle(&r.tp);
	CHECK_EQ(r.tp.snd_cwnd, 3000);
	ccrig_fini(&r);
}

/* A module without hooks: every wrapper is a no-op; no data to free. */
static const struct cc_algo cc_empty = { .name = "empty" };

TEST(cc_missing_hooks_are_noops)
{
	struct ccrig r;

	ccrig_init(&r, 1460);
	cc_detach(&r.tp);
	REQUIRE(cc_attach(&r.tp, &cc_empty) == 0);
	CHECK(r.tp.t_ccdata == NULL);
	r.tp.snd_cwnd = 5000;
	r.tp.snd_ssthresh = 7000;
	cc_conn_init(&r.tp);
	cc_ack_received(&r.tp, 1460, CC_ACK, 1);
	cc_cong_signal(&r.tp, CC_RTO);
	cc_after_idle(&r.tp);
	cc_post_recovery(&r.tp);
	CHECK_EQ(r.tp.snd_cwnd, 5000);
	CHECK_EQ(r.tp.snd_ssthresh, 7000);
	/* The framework's bookkeeping still runs. */
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK(IN_FASTRECOVERY(r.tp.t_flags));
	ccrig_fini(&r);
}

/* RFC 5681 3.1 over whole RTTs (one ACK per segment): slow start doubles
 * the window per RTT up to ssthresh, congestion avoidance adds one SMSS
 * per RTT, a loss halves it (eq. 4) and recovery ends at ssthresh. */
TEST(newreno_trajectory_aimd)
{
	static const struct {
		int rtts;      /* RTTs of ACKs from the previous row */
		uint32_t want; /* cwnd in segments */
	} t[] = {
		{ 1, 20 }, { 1, 40 }, { 1, 80 }, /* slow start from IW10, L = 2 */
		{ 1, 81 }, { 1, 82 }, { 8, 90 }, /* ssthresh 80: +1 per RTT */
	};
	struct ccrig r;
	unsigned i;
	int k;
	uint32_t n, j;

	ccrig_init(&r, 1000);
	r.tp.snd_scale = 7;
	cc_conn_init(&r.tp);
	r.tp.snd_ssthresh = 80000;
	CHECK_EQ(r.tp.snd_cwnd, 10000);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (k = 0; k < t[i].rtts; k++) {
			n = r.tp.snd_cwnd / 1000;
			for (j = 0; j < n; j++)
				cc_ack_received(&r.tp, 1000, CC_ACK, 1);
		}
		CHECK_EQ(r.tp.snd_cwnd, t[i].want * 1000);
	}
	/* A loss with the whole window in flight: ssthresh = 45, then +1 per
	 * RTT again from there. */
	r.tp.snd_max = r.tp.snd_una + 90000;
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK_EQ(r.tp.snd_ssthresh, 45000);
	r.tp.snd_una = r.tp.snd_max - 45000;
	cc_post_recovery(&r.tp);
	CHECK_EQ(r.tp.snd_cwnd, 45000);
	r.tp.snd_una = r.tp.snd_max;
	for (k = 0; k < 5; k++) {
		n = r.tp.snd_cwnd / 1000;
		for (j = 0; j < n; j++)
			cc_ack_received(&r.tp, 1000, CC_ACK, 1);
	}
	/* The first RTT at cwnd == ssthresh is slow start's last step. */
	CHECK(r.tp.snd_cwnd >= 49000 && r.tp.snd_cwnd <= 51000);
	ccrig_fini(&r);
}

#if UST_CC_CUBIC
/* The registry: by name, by index, the list FreeBSD prints. */
TEST(cc_registry)
{
	char buf[64];
	unsigned i;

	CHECK(cc_algo_find("newreno") == &newreno_cc_algo);
	CHECK(cc_algo_find("cubic") == &cubic_cc_algo);
	CHECK(cc_algo_find("vegas") == NULL);
	CHECK(cc_algo_find("") == NULL);
	CHECK(cc_algo_find(NULL) == NULL);
	CHECK(cc_algo_get(0) == &newreno_cc_algo);
	CHECK(cc_algo_get(1) == &cubic_cc_algo);
	CHECK(cc_algo_get(2) == NULL);
	for (i = 0; cc_algo_get(i) != NULL; i++)
		CHECK(strlen(cc_algo_get(i)->name) < CC_ALGO_NAME_MAX);
	CHECK_EQ(cc_algo_list(buf, sizeof(buf)), strlen("newreno, cubic"));
	CHECK_EQ(strcmp(buf, "newreno, cubic"), 0);
	/* Truncated like snprintf. */
	CHECK_EQ(cc_algo_list(buf, 10), strlen("newreno, cubic"));
	CHECK_EQ(strcmp(buf, "newreno, "), 0);
	CHECK_EQ(cc_algo_list(NULL, 0), strlen("newreno, cubic"));
}
#endif

#if UST_CC_CUBIC
/* net.inet.tcp.cc.algorithm (FreeBSD 14 default cubic) and
 * net.inet.tcp.cc.available through the public string-knob calls. */
TEST(cc_sysctl_string_knobs)
{
	struct ust_vclock *vc = ust_vclock_create(1000000000ull);
	struct ust_stack *st = test_stack_new(vc, 1);
	struct ust_sysctl_info info;
	char buf[32];
	int64_t v;
	unsigned idx;
	int nstr = 0;

	REQUIRE_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.algorithm", buf, sizeof(buf)), 0);
	CHECK_EQ(strcmp(buf, "cubic"), 0);
	CHECK(cc_default_algo(st) == &cubic_cc_algo);
	REQUIRE_EQ(ust_sysctl_set_str(st, "net.inet.tcp.cc.algorithm", "newreno"), 0);
	CHECK(cc_default_algo(st) == &newreno_cc_algo);
	REQUIRE_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.algorithm", buf, sizeof(buf)), 0);
	CHECK_EQ(strcmp(buf, "newreno"), 0);
	CHECK_EQ(ust_sysctl_set_str(st, "net.inet.tcp.cc.algorithm", "vegas"), -UST_ENOENT);
	CHECK_EQ(ust_sysctl_set_str(st, "net.inet.tcp.cc.algorithm", NULL), -UST_EINVAL);
	CHECK(cc_default_algo(st) == &newreno_cc_algo);
	REQUIRE_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.available", buf, sizeof(buf)), 0);
	CHECK_EQ(strcmp(buf, "newreno, cubic"), 0);
	CHECK_EQ(ust_sysctl_set_str(st, "net.inet.tcp.cc.available", "x"), -UST_EPERM);
	/* A short buffer: ENOMEM with what fits (FreeBSD sysctl(3)). */
	CHECK_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.algorithm", buf, 4), -UST_ENOMEM);
	CHECK_EQ(strcmp(buf, "new"), 0);
	CHECK_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.available", buf, 8), -UST_ENOMEM);
	CHECK_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.available", buf, 0), -UST_ENOMEM);
	/* Wrong kind of knob, unknown names. */
	CHECK_EQ(ust_sysctl_get(st, "net.inet.tcp.cc.algorithm", &v), -UST_EINVAL);
	CHECK_EQ(ust_sysctl_set(st, "net.inet.tcp.cc.algorithm", 1), -UST_EINVAL);
	CHECK_EQ(ust_sysctl_get_str(st, "net.inet.ip.ttl", buf, sizeof(buf)), -UST_EINVAL);
	CHECK_EQ(ust_sysctl_set_str(st, "net.inet.ip.ttl", "64"), -UST_EINVAL);
	CHECK_EQ(ust_sysctl_get_str(st, "net.inet.tcp.cc.nope", buf, sizeof(buf)), -UST_ENOENT);
	CHECK_EQ(ust_sysctl_set_str(st, "net.inet.tcp.cc.nope", "x"), -UST_ENOENT);
	/* The registry lists them after the integer knobs. */
	for (idx = 0; ust_sysctl_info(idx, &info) == 0; idx++) {
		if (!(info.flags & UST_SYSCTL_STRING)) {
			CHECK(nstr == 0);
			CHECK(info.defstr == NULL);
			continue;
		}
		nstr++;
		if (strcmp(info.name, "net.inet.tcp.cc.algorithm") == 0) {
			CHECK_EQ(strcmp(info.defstr, "cubic"), 0);
			CHECK(!(info.flags & UST_SYSCTL_RDONLY));
		} else if (strcmp(info.name, "net.inet.tcp.cc.available") == 0) {
			CHECK(cc_algo_list(buf, sizeof(buf)) < sizeof(buf));
			CHECK_EQ(strcmp(info.defstr, buf), 0);
			CHECK(info.flags & UST_SYSCTL_RDONLY);
		} else if (strcmp(info.name, "net.inet.tcp.functions_default") == 0) {
			/* TCP stacks (tcp_stacks/, test_tcp_stacks.c) */
			CHECK_EQ(strcmp(info.defstr, "freebsd"), 0);
		} else if (strcmp(info.name, "net.inet.tcp.functions_available") == 0) {
			CHECK(info.flags & UST_SYSCTL_RDONLY);
		} else if (UST_TCP_TFO &&
		    strncmp(info.name, "net.inet.tcp.fastopen.set", 25) == 0) {
			/* TCP Fast Open's write-only keys (tcp_fastopen.c). */
			CHECK(!(info.flags & UST_SYSCTL_RDONLY));
		} else
			CHECK(!"unexpected string knob");
	}
	CHECK_EQ(nstr, UST_TCP_TFO ? 6 : 4);
	test_stack_free(st);
	ust_vclock_destroy(vc);
}
#endif

#if UST_CC_CUBIC
/* cc_switch: the new module keeps cwnd and ssthresh; the old state is
 * freed (the zone leak check after the test sees it). */
TEST(cc_switch_keeps_window)
{
	struct ccrig r;

	ccrig_init(&r, 1460);
	cc_conn_init(&r.tp);
	r.tp.snd_cwnd = 40000;
	r.tp.snd_ssthresh = 30000;
	REQUIRE_EQ(cc_switch(&r.tp, &cubic_cc_algo), 0);
	CHECK(r.tp.t_cc == &cubic_cc_algo);
	CHECK(r.tp.t_ccdata != NULL);
	CHECK_EQ(r.tp.snd_cwnd, 40000);
	CHECK_EQ(r.tp.snd_ssthresh, 30000);
	/* CUBIC starts its curve at the current window: no jump. */
	cc_ack_received(&r.tp, 1460, CC_ACK, 1);
	CHECK(r.tp.snd_cwnd >= 40000 && r.tp.snd_cwnd <= 40000 + 1460);
	REQUIRE_EQ(cc_switch(&r.tp, &cubic_cc_algo), 0);
	REQUIRE_EQ(cc_switch(&r.tp, &newreno_cc_algo), 0);
	CHECK(r.tp.t_cc == &newreno_cc_algo);
	CHECK(r.tp.snd_cwnd >= 40000);
	ccrig_fini(&r);
}
#endif
