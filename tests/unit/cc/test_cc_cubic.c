/*
 * test_cc_cubic.c - the CUBIC module (RFC 9438) through the cc.h wrappers:
 * cwnd trajectories in congestion avoidance against W_cubic(t) = C (t -
 * K)^3 + W_max (4.2) and against a floating-point model of the RFC's
 * per-ACK rules, the Reno-friendly region (4.3), fast convergence (4.7),
 * the multiplicative decrease and fast recovery (4.6), timeouts and
 * spurious timeouts (4.8, 4.9), slow start (4.10), application-limited and
 * idle periods (5.8).
 *
 * The test side may use floating point (the module may not): the model
 * below is the RFC's pseudo-code in segments and seconds.
 */
#include "cc_rig.h"

/* The whole file needs cubic (ustack_opts.h). */
#if UST_CC_CUBIC

#define MSS 1000u
#define NS_PER_S 1000000000ull
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

static void
ccrig_init(struct ccrig *r, uint32_t mss)
{
	ccrig_setup(r, mss);
	r->tp.snd_ssthresh = (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT;
	r->tp.snd_scale = TCP_MAX_WINSHIFT;
	ccrig_attach(r, &cubic_cc_algo);
}

static double
cbrt_d(double x)
{
	double y = x > 1 ? x / 3 : 1;
	int i;

	if (x <= 0)
		return (0);
	for (i = 0; i < 200; i++)
		y = y - (y * y * y - x) / (3 * y * y);
	return (y);
}

/* RFC 9438 eq. 1 and 2 in segments and seconds. */
static double
w_cubic(double t, double k, double w_max)
{
	return (CUBIC_C * (t - k) * (t - k) * (t - k) + w_max);
}

static double
k_of(double w_max, double cwnd_epoch)
{
	return (cbrt_d((w_max - cwnd_epoch) / CUBIC_C));
}

/* The RFC's congestion avoidance in floating point, one ACK of one
 * segment at a time. */
struct model {
	double cwnd, w_max, k, t_epoch, w_est, cwnd_prior;
	int epoch;
};

static void
model_ack(struct model *m, double now, double rtt)
{
	double t, target, alpha;

	if (!m->epoch) {
		m->epoch = 1;
		m->t_epoch = now;
		m->w_est = m->cwnd;
		if (m->w_max <= m->cwnd) {
			m->w_max = m->cwnd;
			m->k = 0;
		} else
			m->k = k_of(m->w_max, m->cwnd);
	}
	t = now - m->t_epoch;
	target = w_cubic(t + rtt, m->k, m->w_max);
	if (target < m->cwnd)
		target = m->cwnd;
	if (target > 1.5 * m->cwnd)
		target = 1.5 * m->cwnd;
	alpha = m->w_est >= m->cwnd_prior ? 1.0 : 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	m->w_est += alpha / m->cwnd;
	if (w_cubic(t, m->k, m->w_max) < m->w_est) {
		if (m->w_est > m->cwnd)
			m->cwnd = m->w_est;
	} else
		m->cwnd += (target - m->cwnd) / m->cwnd;
}

static double
segs(const struct ccrig *r)
{
	return ((double)r->tp.snd_cwnd / r->tp.t_maxseg);
}

static double
now_s(const struct ccrig *r)
{
	return ((double)ust_vclock_now(r->vc) / NS_PER_S);
}

static int
near(double got, double want, double tol)
{
	double d = got - want;

	if (d < 0)
		d = -d;
	if (d <= tol * want)
		return (1);
	fprintf(stderr, "    got %.3f want %.3f (tolerance %.1f%%)\n", got, want, tol * 100);
	return (0);
}

/* One RTT of ACKs, one per segment of the window at its start, spread
 * evenly over the RTT; the model sees the same ACKs. */
static void
ack_round(struct ccrig *r, struct model *m, uint64_t rtt_ns)
{
	uint32_t n = r->tp.snd_cwnd / r->tp.t_maxseg, i;

	for (i = 0; i < n; i++) {
		ust_vclock_advance(r->vc, rtt_ns / n);
		cc_ack_received(&r->tp, r->tp.t_maxseg, CC_ACK, 1);
		if (m != NULL)
			model_ack(m, now_s(r), (double)r->tp.t_srtt / 1e6);
	}
}

/* A loss with `flight` segments out: three duplicate ACKs, then the ACK
 * that ends recovery with `left` segments still in flight. */
static void
loss(struct ccrig *r, uint32_t flight, uint32_t left)
{
	r->tp.snd_una = r->tp.snd_nxt = 1000;
	r->tp.snd_max = r->tp.snd_una + flight * r->tp.t_maxseg;
	cc_cong_signal(&r->tp, CC_NDUPACK);
	r->tp.snd_una = r->tp.snd_max - left * r->tp.t_maxseg;
	r->tp.snd_nxt = r->tp.snd_max;
	cc_post_recovery(&r->tp);
	r->tp.snd_una = r->tp.snd_nxt = r->tp.snd_max;
}

/* RFC 9438 4.2: after a loss at W_max = 100 segments (RTT 100 ms) the
 * window restarts at beta * W_max and follows W_cubic(t): concave up to
 * the plateau at t = K, convex after it. */
TEST(cubic_trajectory_follows_w_cubic)
{
	static const struct {
		double t; /* seconds since the epoch */
		double tol;
	} pts[] = {
		{ 0.5, 0.03 },
		{ 1.0, 0.03 },
		{ 2.0, 0.03 },
		{ 3.0, 0.03 },
		{ 4.0, 0.03 },
		{ 5.0, 0.03 },
		{ 6.0, 0.04 },
		{ 7.0, 0.05 },
	};
	struct ccrig r;
	struct model m;
	double t0, k, wmax = 100, wpeak = 0;
	unsigned i = 0;

	ccrig_init(&r, MSS);
	r.tp.t_srtt = 100000; /* 100 ms */
	r.tp.snd_cwnd = 100 * MSS;
	loss(&r, 100, 70);
	/* RFC 9438 4.6: ssthresh = 0.7 FlightSize; 4.7 first loss: W_max =
	 * cwnd. */
	CHECK_EQ(r.tp.snd_ssthresh, 70 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, 70 * MSS);
	memset(&m, 0, sizeof(m));
	m.cwnd = 70;
	m.w_max = wmax;
	m.cwnd_prior = 100;
	k = k_of(wmax, 70);
	CHECK(near(k, cbrt_d(wmax * (1 - CUBIC_BETA) / CUBIC_C), 1e-9));
	t0 = now_s(&r);
	while (i < sizeof(pts) / sizeof(pts[0])) {
		ack_round(&r, &m, 100000000ull);
		if (now_s(&r) - t0 + 1e-9 >= pts[i].t) {
			double want = w_cubic(now_s(&r) - t0, k, wmax);

			fprintf(stderr, "  t=%.2f cwnd=%.2f W_cubic=%.2f model=%.2f\n",
			    now_s(&r) - t0, segs(&r), want, m.cwnd);
			CHECK(near(segs(&r), want, pts[i].tol));
			CHECK(near(segs(&r), m.cwnd, 0.005));
			i++;
		}
		/* Near the plateau the window barely moves (concave region). */
		if (now_s(&r) - t0 > k - 0.5 && now_s(&r) - t0 < k + 0.5)
			CHECK(segs(&r) <= wmax * 1.02);
		if (segs(&r) > wpeak)
			wpeak = segs(&r);
	}
	CHECK(wpeak > wmax);
	ccrig_fini(&r);
}

/* RFC 9438 4.3: at a small RTT (1 ms) Reno's AIMD with alpha_cubic =
 * 3 (1 - beta) / (1 + beta) per RTT outgrows W_cubic: cwnd = W_est,
 * and alpha becomes 1 once W_est reached cwnd_prior. */
TEST(cubic_reno_friendly_region)
{
	struct ccrig r;
	struct model m;
	double alpha = 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA), west = 70;
	int rtt;

	ccrig_init(&r, MSS);
	r.tp.t_srtt = 1000; /* 1 ms */
	r.tp.snd_cwnd = 100 * MSS;
	loss(&r, 100, 70);
	memset(&m, 0, sizeof(m));
	m.cwnd = 70;
	m.w_max = 100;
	m.cwnd_prior = 100;
	for (rtt = 1; rtt <= 120; rtt++) {
		double a = west >= 100 ? 1.0 : alpha;

		ack_round(&r, &m, 1000000ull);
		/* A round of cwnd one-segment ACKs adds about alpha. */
		west += a;
		if (rtt % 20 == 0) {
			double tcub = now_s(&r) - 1.0; /* epoch began at 1 s */

			fprintf(stderr, "  rtt %d cwnd=%.2f W_est~%.2f W_cubic=%.2f model=%.2f\n",
			    rtt, segs(&r), west, w_cubic(tcub, k_of(100, 70), 100), m.cwnd);
			CHECK(w_cubic(tcub, k_of(100, 70), 100) < segs(&r));
			CHECK(near(segs(&r), west, 0.03));
			CHECK(near(segs(&r), m.cwnd, 0.005));
		}
	}
	/* Past cwnd_prior (100 segments) one segment per RTT, as Reno. */
	CHECK(segs(&r) > 120);
	ccrig_fini(&r);

	/* The same loss at 100 ms RTT is in the CUBIC region: cwnd above
	 * what W_est alone gives after 10 RTTs (70 + 10 alpha). */
	ccrig_init(&r, MSS);
	r.tp.t_srtt = 100000;
	r.tp.snd_cwnd = 100 * MSS;
	loss(&r, 100, 70);
	for (rtt = 0; rtt < 10; rtt++)
		ack_round(&r, NULL, 100000000ull);
	CHECK(segs(&r) > 70 + 10 * alpha + 5);
	ccrig_fini(&r);
}

/* RFC 9438 4.7: a loss before the last W_max was reached sets W_max =
 * cwnd (1 + beta) / 2; the new plateau shows at t = K.  RTT 200 ms keeps
 * W_est (4.3) under the curve. */
TEST(cubic_fast_convergence)
{
	struct ccrig r;
	double k, t0, wmax2 = 90 * (1 + CUBIC_BETA) / 2;

	ccrig_init(&r, MSS);
	r.tp.t_srtt = 200000;
	r.tp.snd_cwnd = 100 * MSS;
	loss(&r, 100, 70); /* W_max = 100 */
	r.tp.snd_cwnd = 90 * MSS;
	loss(&r, 90, 63); /* 90 < 100: W_max = 76.5 */
	CHECK_EQ(r.tp.snd_ssthresh, 63 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, 63 * MSS);
	k = k_of(wmax2, 63);
	t0 = now_s(&r);
	while (now_s(&r) - t0 < k)
		ack_round(&r, NULL, 200000000ull);
	fprintf(stderr, "  t=%.2f K=%.2f cwnd=%.2f W_max=%.2f\n", now_s(&r) - t0, k, segs(&r),
	    wmax2);
	CHECK(near(segs(&r), wmax2, 0.03));
	/* Without fast convergence the plateau would be at 90. */
	CHECK(segs(&r) < 85);

	/* A loss above the last W_max: W_max = cwnd, no reduction of it. */
	while (segs(&r) < 100)
		ack_round(&r, NULL, 200000000ull);
	r.tp.snd_cwnd = 100 * MSS;
	loss(&r, 100, 70);
	t0 = now_s(&r);
	k = k_of(100, 70);
	while (now_s(&r) - t0 < k)
		ack_round(&r, NULL, 200000000ull);
	CHECK(near(segs(&r), 100, 0.03));
	ccrig_fini(&r);
}

/* RFC 9438 4.6 with RFC 5681 3.2 / RFC 6582: the fast-recovery window. */
TEST(cubic_fast_recovery_and_ecn)
{
	struct ccrig r;

	ccrig_init(&r, MSS);
	r.tp.snd_cwnd = 20 * MSS;
	r.tp.snd_max = r.tp.snd_una + 20 * MSS;
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK(IN_FASTRECOVERY(r.tp.t_flags));
	CHECK_EQ(r.tp.snd_ssthresh, 14 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, 17 * MSS); /* ssthresh + 3 segments */
	cc_ack_received(&r.tp, 0, CC_DUPACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 18 * MSS);
	r.tp.snd_una += 3 * MSS; /* a partial ACK: deflate, add one back */
	cc_ack_received(&r.tp, 3 * MSS, CC_ACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 16 * MSS);
	r.tp.snd_una = r.tp.snd_max - 2 * MSS;
	cc_post_recovery(&r.tp);
	CHECK(!IN_FASTRECOVERY(r.tp.t_flags));
	CHECK_EQ(r.tp.snd_cwnd, 3 * MSS); /* min(ssthresh, flight + SMSS) */
	ccrig_fini(&r);

	/* The 2 SMSS floor. */
	ccrig_init(&r, MSS);
	r.tp.snd_cwnd = 20 * MSS;
	r.tp.snd_max = r.tp.snd_una + 2 * MSS;
	cc_cong_signal(&r.tp, CC_NDUPACK);
	CHECK_EQ(r.tp.snd_ssthresh, 2 * MSS);
	ccrig_fini(&r);

	/* ECN: the same reduction, no inflation. */
	ccrig_init(&r, MSS);
	r.tp.snd_cwnd = 40 * MSS;
	r.tp.snd_max = r.tp.snd_una + 40 * MSS;
	cc_cong_signal(&r.tp, CC_ECN);
	CHECK(IN_CONGRECOVERY(r.tp.t_flags));
	CHECK_EQ(r.tp.snd_ssthresh, 28 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, 28 * MSS);
	ccrig_fini(&r);
}

/* RFC 9438 4.10 / RFC 3465: slow start below ssthresh with byte counting;
 * no growth when not cwnd limited. */
TEST(cubic_slow_start)
{
	static const struct {
		uint32_t cwnd, ssthresh, acked;
		int limited;
		uint32_t want;
	} t[] = {
		{ 10000, 65535, 1000, 1, 11000 }, { 10000, 65535, 2000, 1, 12000 },
		{ 10000, 65535, 5000, 1, 12000 }, /* L = 2 segments */
		{ 10000, 65535, 1000, 0, 10000 }, /* not cwnd limited */
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ccrig r;

		ccrig_init(&r, MSS);
		r.tp.snd_cwnd = t[i].cwnd;
		r.tp.snd_ssthresh = t[i].ssthresh;
		cc_ack_received(&r.tp, t[i].acked, CC_ACK, t[i].limited);
		CHECK_EQ(r.tp.snd_cwnd, t[i].want);
		ccrig_fini(&r);
	}
	{
		struct ccrig r;

		/* Initial window as newreno's (RFC 6928). */
		ccrig_init(&r, 1460);
		r.tp.snd_cwnd = 0;
		cc_conn_init(&r.tp);
		CHECK_EQ(r.tp.snd_cwnd, 14600);
		r.tp.snd_cwnd = 1;
		cc_conn_init(&r.tp);
		CHECK_EQ(r.tp.snd_cwnd, 1460);
		ccrig_fini(&r);
	}
}

/* RFC 9438 4.8: a timeout sets ssthresh with beta, cwnd to one segment;
 * the next CA stage starts with K = 0 and W_max = W_est = its first cwnd,
 * so the window grows as max(cwnd_epoch + C t^3, W_est).  4.9: a spurious
 * timeout restores everything. */
TEST(cubic_rto_and_rto_err)
{
	struct ccrig r;
	struct model m;
	double t0, w0;
	int n;

	ccrig_init(&r, MSS);
	r.tp.t_srtt = 100000;
	r.tp.snd_cwnd = 50 * MSS;
	r.tp.snd_max = r.tp.snd_una + 50 * MSS;
	r.tp.t_rxtshift = 1;
	cc_cong_signal(&r.tp, CC_RTO);
	CHECK_EQ(r.tp.snd_ssthresh, 35 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, MSS);
	/* A second backoff: cwnd stays one segment, ssthresh stays. */
	r.tp.t_rxtshift = 2;
	r.tp.snd_max = r.tp.snd_una + 2 * MSS;
	cc_cong_signal(&r.tp, CC_RTO);
	CHECK_EQ(r.tp.snd_ssthresh, 35 * MSS);
	CHECK_EQ(r.tp.snd_cwnd, MSS);
	/* Spurious: back to the window before the first timeout. */
	cc_cong_signal(&r.tp, CC_RTO_ERR);
	CHECK_EQ(r.tp.snd_cwnd, 50 * MSS);
	CHECK_EQ(r.tp.snd_ssthresh, (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT);

	/* A real timeout: slow start to ssthresh, then the convex curve. */
	r.tp.t_rxtshift = 1;
	r.tp.snd_max = r.tp.snd_una + 50 * MSS;
	cc_cong_signal(&r.tp, CC_RTO);
	r.tp.t_rxtshift = 0;
	r.tp.snd_una = r.tp.snd_nxt = r.tp.snd_max;
	for (n = 0; n < 100 && r.tp.snd_cwnd < r.tp.snd_ssthresh; n++)
		cc_ack_received(&r.tp, MSS, CC_ACK, 1);
	CHECK_EQ(r.tp.snd_cwnd, 35 * MSS);
	w0 = segs(&r);
	memset(&m, 0, sizeof(m));
	m.cwnd = w0;
	m.cwnd_prior = 50;
	t0 = now_s(&r);
	for (n = 1; n <= 30; n++) {
		ack_round(&r, &m, 100000000ull);
		if (n % 10 == 0) {
			fprintf(stderr, "  t=%.2f cwnd=%.2f W_cubic=%.2f model=%.2f\n",
			    now_s(&r) - t0, segs(&r), w_cubic(now_s(&r) - t0, 0, w0), m.cwnd);
			CHECK(near(segs(&r), m.cwnd, 0.005));
			CHECK(segs(&r) >= w_cubic(now_s(&r) - t0, 0, w0) * 0.98);
		}
	}
	/* The convex curve from K = 0 takes over from W_est later. */
	while (now_s(&r) - t0 < 6.0)
		ack_round(&r, &m, 100000000ull);
	fprintf(stderr, "  t=%.2f cwnd=%.2f W_cubic=%.2f model=%.2f\n", now_s(&r) - t0, segs(&r),
	    w_cubic(now_s(&r) - t0, 0, w0), m.cwnd);
	CHECK(near(segs(&r), m.cwnd, 0.005));
	CHECK(near(segs(&r), w_cubic(now_s(&r) - t0, 0, w0), 0.05));
	ccrig_fini(&r);
}

/* RFC 9438 5.8: time spent idle or application limited is not part of t,
 * so a connection resumes the curve where it left it; RFC 5681 4.1: the
 * restart window applies on top. */
TEST(cubic_after_idle_and_app_limited)
{
	struct ccrig a, b;
	uint32_t cw;
	int i;

	ccrig_init(&a, MSS);
	ccrig_init(&b, MSS);
	/* A large IW so that the restart window does not bite here. */
	V(a.st, tcp_initcwnd_segments) = 1000;
	a.tp.t_srtt = b.tp.t_srtt = 100000;
	a.tp.snd_cwnd = b.tp.snd_cwnd = 100 * MSS;
	loss(&a, 100, 70);
	loss(&b, 100, 70);
	for (i = 0; i < 10; i++) {
		ack_round(&a, NULL, 100000000ull);
		ack_round(&b, NULL, 100000000ull);
	}
	CHECK_EQ(a.tp.snd_cwnd, b.tp.snd_cwnd);
	/* a: idle 30 s.  Without the shift W_cubic(t) would be far above
	 * the plateau and cwnd would jump by half a window per RTT. */
	ust_vclock_advance(a.vc, 30 * NS_PER_S);
	cc_after_idle(&a.tp);
	CHECK_EQ(a.tp.snd_cwnd, b.tp.snd_cwnd);
	for (i = 0; i < 10; i++) {
		ack_round(&a, NULL, 100000000ull);
		ack_round(&b, NULL, 100000000ull);
	}
	fprintf(stderr, "  idle: cwnd %.2f, without idle %.2f\n", segs(&a), segs(&b));
	CHECK(near(segs(&a), segs(&b), 0.01));
	/* a: ACKs while application limited for 5 s: no growth, and the
	 * time does not count either. */
	cw = a.tp.snd_cwnd;
	for (i = 0; i < 50; i++) {
		ust_vclock_advance(a.vc, 100000000ull);
		cc_ack_received(&a.tp, MSS, CC_ACK, 0);
	}
	CHECK_EQ(a.tp.snd_cwnd, cw);
	for (i = 0; i < 5; i++) {
		ack_round(&a, NULL, 100000000ull);
		ack_round(&b, NULL, 100000000ull);
	}
	CHECK(near(segs(&a), segs(&b), 0.01));
	ccrig_fini(&a);
	ccrig_fini(&b);

	/* The restart window: min(IW, cwnd). */
	ccrig_init(&a, 1460);
	a.tp.snd_cwnd = 100000;
	ust_vclock_advance(a.vc, 5 * NS_PER_S);
	cc_after_idle(&a.tp);
	CHECK_EQ(a.tp.snd_cwnd, 14600);
	a.tp.snd_cwnd = 3000;
	cc_after_idle(&a.tp);
	CHECK_EQ(a.tp.snd_cwnd, 3000);
	ccrig_fini(&a);
}

/* Large windows and long epochs: no overflow, capped at the largest
 * window (TCP_MAXWIN << snd_scale). */
TEST(cubic_large_values)
{
	struct ccrig r;
	int i;

	ccrig_init(&r, 9000);
	r.tp.t_srtt = 500000;
	r.tp.snd_cwnd = 100000 * 9000u; /* 900 MB */
	loss(&r, 100000, 70000);
	CHECK_EQ(r.tp.snd_cwnd, 70000 * 9000u);
	/* An hour into the epoch (past the 35 min clamp). */
	cc_ack_received(&r.tp, 9000, CC_ACK, 1);
	ust_vclock_advance(r.vc, 3600 * NS_PER_S);
	for (i = 0; i < 100; i++)
		cc_ack_received(&r.tp, 9000 * 1000, CC_ACK, 1);
	CHECK(r.tp.snd_cwnd <= (uint32_t)TCP_MAXWIN << TCP_MAX_WINSHIFT);
	CHECK(r.tp.snd_cwnd > 70000 * 9000u);
	ccrig_fini(&r);
}
#endif /* UST_CC_CUBIC */
