/*
 * test_pipe.c - the pipe driver between two stacks: delay to the
 * nanosecond, rate limit spacing, loss replayed by seed, bytes intact,
 * single-bit corruption, MTU and queue drops, duplicates, out-of-order
 * delivery, running out of mbufs on receive, next_deadline, detach with
 * frames in flight, pcap capture of both ends, and two stacks on two
 * threads exchanging 100000 frames in order.
 *
 * Frames go out with ust_if_output_frame() and are counted at the far end
 * by an input hook that consumes them.
 */
#include <pthread.h>
#include <unistd.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pcap.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include "netinet/bulkrig.h"
#include "test_env.h"

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define T0 (1000 * NS_PER_MS)
#define MAXF 4096
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* What the receiving side saw. */
struct sink {
	unsigned n;
	uint64_t at[MAXF];
	uint32_t seq[MAXF];
	unsigned mismatched; /* frames not equal to what was sent */
	unsigned onebit;     /* ... differing in exactly one bit */
	unsigned out_of_order;
	uint32_t next_seq;
	int template_mode; /* every frame was built with seq 0 */
};

struct rig {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
	struct sink sink;
};

/* A test frame: Ethernet header, then seq (big endian), then a pattern
 * that depends on seq and position. */
static void
frame_build(uint8_t *f, size_t len, uint32_t seq)
{
	size_t i;

	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	f[14] = (uint8_t)(seq >> 24);
	f[15] = (uint8_t)(seq >> 16);
	f[16] = (uint8_t)(seq >> 8);
	f[17] = (uint8_t)seq;
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seq * 7);
}

static unsigned
bits_differ(const uint8_t *a, const uint8_t *b, size_t len)
{
	unsigned n = 0;
	uint8_t x;
	size_t i;

	for (i = 0; i < len; i++)
		for (x = (uint8_t)(a[i] ^ b[i]); x != 0; x &= (uint8_t)(x - 1))
			n++;
	return (n);
}

static int
sink_input(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	struct sink *s = arg;
	uint8_t got[1600], want[1600];
	size_t len = ust_mbuf_pktlen(m);
	uint32_t seq;
	unsigned d;

	if (len < 18 || len > sizeof(got) || ust_mbuf_copydata(m, 0, len, got) != 0) {
		s->mismatched++;
		return (1);
	}
	seq = s->template_mode ?
	    0 :
	    ((uint32_t)got[14] << 24 | (uint32_t)got[15] << 16 | (uint32_t)got[16] << 8 | got[17]);
	frame_build(want, len, seq);
	d = bits_differ(got, want, len);
	if (d != 0)
		s->mismatched++;
	if (d == 1)
		s->onebit++;
	if (seq != s->next_seq)
		s->out_of_order++;
	s->next_seq = seq + 1;
	if (s->n < MAXF) {
		s->at[s->n] = ust_stack_now(ust_if_stack(ifp));
		s->seq[s->n] = seq;
	}
	s->n++;
	return (1);
}

static void
rig_init_cfg(struct rig *r, struct ust_pipe_config *cfg, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(T0);
	r->a = test_stack_new(r->vc, seed);
	r->b = test_stack_new(r->vc, seed + 1);
	cfg->clock = ust_vclock_clock(r->vc);
	if (ust_pipe_create(cfg, &r->p) != 0)
		abort();
	if (ust_if_attach(r->a, "p0", ust_pipe_ops(), ust_pipe_end(r->p, UST_PIPE_A), &r->ifa) !=
	        0 ||
	    ust_if_attach(r->b, "p0", ust_pipe_ops(), ust_pipe_end(r->p, UST_PIPE_B), &r->ifb) != 0)
		abort();
	ust_if_set_input_hook(r->ifb, sink_input, &r->sink);
}

/* A rig with faults fc on A -> B (NULL: none). */
static void
rig_init(struct rig *r, const struct ust_fault_config *fc, uint64_t seed)
{
	struct ust_pipe_config cfg;

	ust_pipe_config_init(&cfg);
	if (fc != NULL)
		cfg.fault[UST_PIPE_A_TO_B] = *fc;
	rig_init_cfg(r, &cfg, seed);
}

/* Stacks before the pipe: their detach frees what the pipe holds. */
static void
rig_fini(struct rig *r)
{
	test_stack_free(r->a);
	test_stack_free(r->b);
	ust_pipe_destroy(r->p);
	ust_vclock_destroy(r->vc);
}

/* Polls both stacks, jumping the virtual clock from deadline to deadline,
 * until nothing is pending up to `until`; leaves the clock at `until`. */
static void
rig_run(struct rig *r, uint64_t until)
{
	struct ust_stack *s[2] = { r->a, r->b };
	uint64_t now = ust_vclock_now(r->vc);

	tl_run(r->vc, s, 2, until > now ? until - now : 0);
}

/* Sends n frames of len bytes numbered from seq0, flushing as needed. */
static void
send_frames(struct rig *r, unsigned n, size_t len, uint32_t seq0)
{
	uint8_t f[1600];
	unsigned i;

	for (i = 0; i < n; i++) {
		frame_build(f, len, seq0 + i);
		if (ust_if_output_frame(r->ifa, f, len) != 0) {
			ust_stack_poll(r->a);
			CHECK_EQ(ust_if_output_frame(r->ifa, f, len), 0);
		}
	}
	ust_stack_poll(r->a);
}

TEST(pipe_defaults_and_ops)
{
	struct ust_pipe_config cfg;
	struct rig r;
	uint8_t mac[6];

	ust_pipe_config_init(&cfg);
	CHECK_EQ(cfg.mtu, 1500);
	CHECK_EQ(cfg.ring_size, 1024);
	CHECK_MEM(cfg.mac[UST_PIPE_A], mac_a, 6);
	CHECK_MEM(cfg.mac[UST_PIPE_B], mac_b, 6);
	CHECK_EQ(cfg.caps, 0);
	CHECK(cfg.clock.now_ns != NULL);
	CHECK_EQ(cfg.fault[0].loss_ppm + cfg.fault[1].delay_ns + cfg.fault[1].rate_bps, 0);
	CHECK(ust_pipe_ops()->get_fd(NULL) == -1);

	cfg.ring_size = 1000;
	CHECK_EQ(ust_pipe_create(&cfg, &r.p), -UST_EINVAL);
	cfg.ring_size = 1024;
	cfg.mtu = 0;
	CHECK_EQ(ust_pipe_create(&cfg, &r.p), -UST_EINVAL);

	rig_init(&r, NULL, ust_test_seed);
	ust_if_get_mac(r.ifa, mac);
	CHECK_MEM(mac, mac_a, 6);
	ust_if_get_mac(r.ifb, mac);
	CHECK_MEM(mac, mac_b, 6);
	CHECK_EQ(ust_if_mtu(r.ifb), 1500);
	CHECK(ust_pipe_end(r.p, 2) == NULL);
	CHECK_EQ(ust_pipe_set_faults(r.p, 2, &cfg.fault[0]), -UST_EINVAL);
	CHECK_EQ(ust_stack_next_deadline(r.b), UINT64_MAX);
	rig_fini(&r);
}

TEST(pipe_bytes_intact_both_ways)
{
	struct ust_pipe_stats ps;
	struct ust_if_stats is;
	struct rig r;
	uint8_t f[1514];
	struct sink back;
	unsigned i;
	size_t len, total = 0;

	rig_init(&r, NULL, ust_test_seed);
	memset(&back, 0, sizeof(back));
	ust_if_set_input_hook(r.ifa, sink_input, &back);
	for (i = 0; i < 500; i++) {
		len = 60 + (i * 331) % 1455;
		total += len;
		frame_build(f, len, i);
		CHECK_EQ(ust_if_output_frame(r.ifa, f, len), 0);
		CHECK_EQ(ust_if_output_frame(r.ifb, f, len), 0);
		if (i % 100 == 99)
			rig_run(&r, ust_vclock_now(r.vc));
	}
	rig_run(&r, ust_vclock_now(r.vc));
	/* No delay configured: everything arrived without time moving. */
	CHECK_EQ(ust_vclock_now(r.vc), T0);
	CHECK_EQ(r.sink.n, 500);
	CHECK_EQ(back.n, 500);
	CHECK_EQ(r.sink.mismatched + back.mismatched, 0);
	CHECK_EQ(r.sink.out_of_order + back.out_of_order, 0);
	ust_if_get_stats(r.ifb, &is);
	CHECK_EQ(is.ipackets, 500);
	CHECK_EQ(is.ibytes, total);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.sent, 500);
	CHECK_EQ(ps.sent_bytes, total);
	CHECK_EQ(ps.delivered, 500);
	CHECK_EQ(ps.delivered_bytes, total);
	CHECK_EQ(ps.lost + ps.duplicated + ps.reordered + ps.corrupted + ps.dropped_mtu +
	        ps.dropped_queue + ps.dropped_nombuf,
	    0);
	ust_pipe_get_stats(r.p, UST_PIPE_B_TO_A, &ps);
	CHECK_EQ(ps.delivered, 500);
	rig_fini(&r);
}

TEST(pipe_delay_exact)
{
	struct ust_fault_config fc;
	struct rig r;

	memset(&fc, 0, sizeof(fc));
	fc.delay_ns = 5 * NS_PER_MS;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 1, 100, 0);
	/* The stack reports the pipe's delivery time before draining it. */
	CHECK_EQ(ust_stack_next_deadline(r.b), T0 + 5 * NS_PER_MS);
	ust_vclock_set(r.vc, T0 + 5 * NS_PER_MS - 1);
	ust_stack_poll(r.b);
	CHECK_EQ(r.sink.n, 0);
	/* Drained into the pipe's heap, still reported. */
	CHECK_EQ(ust_stack_next_deadline(r.b), T0 + 5 * NS_PER_MS);
	ust_vclock_set(r.vc, T0 + 5 * NS_PER_MS);
	ust_stack_poll(r.b);
	CHECK_EQ(r.sink.n, 1);
	CHECK_EQ(r.sink.at[0], T0 + 5 * NS_PER_MS);
	CHECK_EQ(ust_stack_next_deadline(r.b), UINT64_MAX);

	/* A burst: all due at the same instant, FIFO. */
	send_frames(&r, 100, 200, 1);
	rig_run(&r, T0 + 20 * NS_PER_MS);
	CHECK_EQ(r.sink.n, 101);
	CHECK_EQ(r.sink.out_of_order, 0);
	CHECK_EQ(r.sink.at[100], T0 + 10 * NS_PER_MS);
	rig_fini(&r);
}

TEST(pipe_rate_limit_spacing)
{
	struct ust_fault_config fc;
	struct rig r;
	unsigned i;

	memset(&fc, 0, sizeof(fc));
	fc.rate_bps = 1000000000; /* 1514 bytes: 12112 ns */
	fc.delay_ns = 100 * NS_PER_US;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 50, 1514, 0);
	rig_run(&r, T0 + 10 * NS_PER_MS);
	REQUIRE_EQ(r.sink.n, 50);
	for (i = 0; i < 50; i++)
		CHECK_EQ(r.sink.at[i], T0 + (i + 1) * 12112ull + 100 * NS_PER_US);
	CHECK_EQ(r.sink.out_of_order, 0);
	rig_fini(&r);
}

/* Sends 2000 frames over a lossy link; fills got[] with who arrived. */
static void
lossy_run(uint64_t seed, uint8_t *got, struct ust_pipe_stats *ps)
{
	struct ust_fault_config fc;
	struct rig r;
	unsigned i;

	memset(&fc, 0, sizeof(fc));
	fc.loss_ppm = 200000;
	fc.seed = seed;
	fc.delay_ns = NS_PER_MS;
	/* The stacks' seeds change too: the link's own seed decides. */
	rig_init(&r, &fc, seed * 3 + 11);
	memset(got, 0, 2000);
	for (i = 0; i < 2000; i += 100) {
		send_frames(&r, 100, 100, i);
		rig_run(&r, ust_vclock_now(r.vc) + 100 * NS_PER_US);
	}
	rig_run(&r, ust_vclock_now(r.vc) + 10 * NS_PER_MS);
	for (i = 0; i < r.sink.n && i < MAXF; i++)
		if (r.sink.seq[i] < 2000)
			got[r.sink.seq[i]] = 1;
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, ps);
	CHECK_EQ(r.sink.n, ps->delivered);
	rig_fini(&r);
}

TEST(pipe_loss_replays_by_seed)
{
	uint8_t got1[2000], got2[2000], got3[2000];
	struct ust_pipe_stats s1, s2, s3;
	unsigned i, n1 = 0, diff = 0;

	lossy_run(ust_test_seed, got1, &s1);
	lossy_run(ust_test_seed, got2, &s2);
	lossy_run(ust_test_seed + 1000, got3, &s3);
	CHECK_MEM(got1, got2, sizeof(got1));
	for (i = 0; i < 2000; i++) {
		n1 += got1[i];
		diff += got1[i] != got3[i];
	}
	CHECK_EQ(s1.sent, 2000);
	CHECK_EQ(s1.delivered + s1.lost, 2000);
	CHECK_EQ(n1, s1.delivered);
	CHECK(s1.lost >= 300 && s1.lost <= 500);
	CHECK_EQ(s1.lost, s2.lost);
	CHECK(diff > 200);
}

TEST(pipe_corruption_detectable)
{
	struct ust_fault_config fc;
	struct ust_pipe_stats ps;
	struct rig r;
	uint8_t f[600];
	unsigned i;

	memset(&fc, 0, sizeof(fc));
	fc.corrupt_ppm = 300000;
	fc.seed = ust_test_seed;
	rig_init(&r, &fc, ust_test_seed);
	r.sink.template_mode = 1;
	frame_build(f, sizeof(f), 0);
	for (i = 0; i < 1000; i++) {
		CHECK_EQ(ust_if_output_frame(r.ifa, f, sizeof(f)), 0);
		if (i % 200 == 199)
			rig_run(&r, T0);
	}
	rig_run(&r, T0);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(r.sink.n, 1000);
	CHECK(ps.corrupted >= 220 && ps.corrupted <= 380);
	CHECK_EQ(r.sink.mismatched, ps.corrupted);
	CHECK_EQ(r.sink.onebit, ps.corrupted);
	rig_fini(&r);
}

TEST(pipe_mtu_drop)
{
	struct ust_fault_config fc;
	struct ust_pipe_stats ps;
	struct rig r;
	uint8_t f[1518];

	memset(&fc, 0, sizeof(fc));
	fc.mtu = 1000;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 1, 14 + 1200, 0);
	send_frames(&r, 1, 14 + 1000, 1);
	rig_run(&r, T0 + NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.sent, 2);
	CHECK_EQ(ps.dropped_mtu, 1);
	CHECK_EQ(ps.delivered, 1);
	REQUIRE_EQ(r.sink.n, 1);
	CHECK_EQ(r.sink.seq[0], 1);

	/* The pipe's own MTU: 1504 bytes of payload are too many, unless
	 * four of them are a VLAN tag. */
	fc.mtu = 0;
	CHECK_EQ(ust_pipe_set_faults(r.p, UST_PIPE_A_TO_B, &fc), 0);
	frame_build(f, sizeof(f), 2);
	CHECK_EQ(ust_if_output_frame(r.ifa, f, sizeof(f)), 0);
	f[12] = 0x81;
	f[13] = 0x00;
	CHECK_EQ(ust_if_output_frame(r.ifa, f, sizeof(f)), 0);
	rig_run(&r, T0 + 2 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.dropped_mtu, 2);
	CHECK_EQ(ps.delivered, 2);
	rig_fini(&r);
}

TEST(pipe_dup_and_queue_limit)
{
	struct ust_fault_config fc;
	struct ust_pipe_stats ps;
	struct rig r;

	memset(&fc, 0, sizeof(fc));
	fc.dup_ppm = 1000000;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 10, 100, 0);
	rig_run(&r, T0);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.duplicated, 10);
	CHECK_EQ(ps.delivered, 20);
	REQUIRE_EQ(r.sink.n, 20);
	CHECK_EQ(r.sink.seq[0], 0);
	CHECK_EQ(r.sink.seq[1], 0);
	CHECK_EQ(r.sink.seq[19], 9);

	/* At most 8 in flight on a slow link: the rest are tail-dropped. */
	memset(&fc, 0, sizeof(fc));
	fc.queue_limit = 8;
	fc.delay_ns = 10 * NS_PER_MS;
	CHECK_EQ(ust_pipe_set_faults(r.p, UST_PIPE_A_TO_B, &fc), 0);
	send_frames(&r, 20, 100, 100);
	rig_run(&r, T0 + 20 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.dropped_queue, 12);
	CHECK_EQ(ps.delivered, 28);
	/* Once delivered, they no longer count against the limit. */
	send_frames(&r, 8, 100, 200);
	rig_run(&r, T0 + 40 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.dropped_queue, 12);
	CHECK_EQ(ps.delivered, 36);
	rig_fini(&r);
}

TEST(pipe_reorder_and_next_deadline)
{
	struct ust_fault_config fc;
	struct ust_pipe_stats ps;
	struct rig r;

	memset(&fc, 0, sizeof(fc));
	fc.reorder_ppm = 1000000;
	fc.reorder_ns = 10 * NS_PER_MS;
	fc.delay_ns = NS_PER_MS;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 1, 100, 0);
	/* The next frame is not held back, so it overtakes the first. */
	fc.reorder_ppm = 0;
	CHECK_EQ(ust_pipe_set_faults(r.p, UST_PIPE_A_TO_B, &fc), 0);
	send_frames(&r, 1, 100, 1);
	/* Both still in the ring: the deadline is the second one's. */
	CHECK_EQ(ust_stack_next_deadline(r.b), T0 + NS_PER_MS);
	rig_run(&r, T0 + 20 * NS_PER_MS);
	REQUIRE_EQ(r.sink.n, 2);
	CHECK_EQ(r.sink.seq[0], 1);
	CHECK_EQ(r.sink.at[0], T0 + NS_PER_MS);
	CHECK_EQ(r.sink.seq[1], 0);
	CHECK_EQ(r.sink.at[1], T0 + 11 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.reordered, 1);
	rig_fini(&r);
}

TEST(pipe_receiver_out_of_mbufs)
{
	struct ust_stack_config scfg;
	struct ust_pipe_config cfg;
	struct ust_pipe_stats ps;
	struct rig r;

	ust_pipe_config_init(&cfg);
	cfg.fault[UST_PIPE_A_TO_B].delay_ns = NS_PER_MS;
	rig_init_cfg(&r, &cfg, ust_test_seed);
	/* Replace B by a stack with four clusters. */
	ust_if_detach(r.ifb);
	test_stack_free(r.b);
	ust_stack_config_init(&scfg);
	scfg.clock = ust_vclock_clock(r.vc);
	scfg.seed_set = 1;
	scfg.seed = ust_test_seed;
	scfg.nmbclusters = 4;
	scfg.nmbjumbo9 = 0;
	REQUIRE_EQ(ust_stack_create(&scfg, &r.b), 0);
	REQUIRE_EQ(ust_if_attach(r.b, "p0", ust_pipe_ops(), ust_pipe_end(r.p, UST_PIPE_B), &r.ifb),
	    0);
	ust_if_set_input_hook(r.ifb, sink_input, &r.sink);

	send_frames(&r, 10, 1514, 0);
	rig_run(&r, T0 + 5 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK(ps.dropped_nombuf > 0);
	CHECK_EQ(ps.delivered + ps.dropped_nombuf, 10);
	CHECK_EQ(r.sink.n, ps.delivered);
	CHECK_EQ(r.sink.mismatched, 0);
	/* The buffers came back: the next frames get through. */
	send_frames(&r, 4, 1514, 10);
	rig_run(&r, T0 + 10 * NS_PER_MS);
	ust_pipe_get_stats(r.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.delivered + ps.dropped_nombuf, 14);
	CHECK_EQ(r.sink.n, ps.delivered);
	rig_fini(&r);
}

TEST(pipe_detach_frees_frames_in_flight)
{
	struct ust_fault_config fc;
	struct rig r;

	memset(&fc, 0, sizeof(fc));
	fc.delay_ns = 50 * NS_PER_MS;
	rig_init(&r, &fc, ust_test_seed);
	send_frames(&r, 20, 1000, 0);
	/* B drains them into its heap: 20 mbufs of B held by the pipe. */
	ust_stack_poll(r.b);
	CHECK_EQ(r.sink.n, 0);
	CHECK_EQ(ust_stack_next_deadline(r.b), T0 + 50 * NS_PER_MS);
	/* test_stack_free checks B's zones are empty, so detach must have
	 * given the mbufs back. */
	ust_if_detach(r.ifb);
	rig_fini(&r);
}

TEST(pipe_capture_both_ends_to_pcap)
{
	struct ust_pcap *pc;
	struct rig r;
	char path[128];

	snprintf(path, sizeof(path), "/tmp/ust_test_pipe_%ld.pcap", (long)getpid());
	rig_init(&r, NULL, ust_test_seed);
	REQUIRE_EQ(ust_pcap_open(path, 0, &pc), 0);
	ust_if_set_capture(r.ifa, ust_pcap_capture, pc);
	ust_if_set_capture(r.ifb, ust_pcap_capture, pc);
	send_frames(&r, 25, 300, 0);
	rig_run(&r, T0);
	CHECK_EQ(r.sink.n, 25);
	CHECK_EQ(ust_pcap_count(pc), 50);
	ust_if_set_capture(r.ifa, NULL, NULL);
	ust_if_set_capture(r.ifb, NULL, NULL);
	CHECK_EQ(ust_pcap_close(pc), 0);
	rig_fini(&r);
	unlink(path);
}

/* ------------------------------------------------------------------------
 * Two threads, one stack each, real clock.
 */

#define NTHREAD_FRAMES 100000u

struct thr {
	struct ust_stack *st;
	struct ust_if *ifp;
	struct ust_pipe *p;
	struct sink *sink;
	unsigned sent;
	int timed_out;
};

static struct ust_stack *
mono_stack_new(uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = seed;
	if (ust_stack_create(&cfg, &st) != 0)
		abort();
	return (st);
}

static void *
sender_main(void *arg)
{
	struct thr *t = arg;
	struct ust_pipe_stats ps;
	uint64_t deadline = ust_osal_clock_ns() + 120ull * 1000 * NS_PER_MS;
	uint8_t f[128];

	while (t->sent < NTHREAD_FRAMES) {
		/* The pipe drops when its ring is full (a link does not push
		 * back), so keep under it, as a transport's window would. */
		ust_pipe_get_stats(t->p, UST_PIPE_A_TO_B, &ps);
		if (ps.sent - ps.delivered < 512) {
			frame_build(f, 60 + t->sent % 64, t->sent);
			if (ust_if_output_frame(t->ifp, f, 60 + t->sent % 64) == 0)
				t->sent++;
		}
		if (t->sent % 32 == 0 || ps.sent - ps.delivered >= 512)
			ust_stack_poll(t->st);
		if (ust_osal_clock_ns() > deadline) {
			t->timed_out = 1;
			break;
		}
	}
	ust_stack_poll(t->st);
	return (NULL);
}

static void *
receiver_main(void *arg)
{
	struct thr *t = arg;
	uint64_t deadline = ust_osal_clock_ns() + 120ull * 1000 * NS_PER_MS;

	while (t->sink->n < NTHREAD_FRAMES) {
		ust_stack_poll(t->st);
		if (ust_osal_clock_ns() > deadline) {
			t->timed_out = 1;
			break;
		}
	}
	return (NULL);
}

TEST(pipe_two_threads_in_order)
{
	struct ust_pipe_config cfg;
	struct ust_pipe_stats ps;
	struct ust_if_stats is;
	struct sink *sink;
	struct thr ta, tb;
	pthread_t pa, pb;

	sink = calloc(1, sizeof(*sink));
	REQUIRE(sink != NULL);
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	ust_pipe_config_init(&cfg); /* the real monotonic clock */
	REQUIRE_EQ(ust_pipe_create(&cfg, &ta.p), 0);
	tb.p = ta.p;
	ta.st = mono_stack_new(ust_test_seed);
	tb.st = mono_stack_new(ust_test_seed + 1);
	REQUIRE_EQ(ust_if_attach(ta.st, "p0", ust_pipe_ops(), ust_pipe_end(ta.p, UST_PIPE_A),
	               &ta.ifp),
	    0);
	REQUIRE_EQ(ust_if_attach(tb.st, "p0", ust_pipe_ops(), ust_pipe_end(ta.p, UST_PIPE_B),
	               &tb.ifp),
	    0);
	ust_if_set_input_hook(tb.ifp, sink_input, sink);
	tb.sink = sink;

	REQUIRE_EQ(pthread_create(&pb, NULL, receiver_main, &tb), 0);
	REQUIRE_EQ(pthread_create(&pa, NULL, sender_main, &ta), 0);
	pthread_join(pa, NULL);
	pthread_join(pb, NULL);

	CHECK(!ta.timed_out);
	CHECK(!tb.timed_out);
	CHECK_EQ(ta.sent, NTHREAD_FRAMES);
	CHECK_EQ(sink->n, NTHREAD_FRAMES);
	CHECK_EQ(sink->out_of_order, 0);
	CHECK_EQ(sink->mismatched, 0);
	ust_pipe_get_stats(ta.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.sent, NTHREAD_FRAMES);
	CHECK_EQ(ps.delivered, NTHREAD_FRAMES);
	CHECK_EQ(ps.dropped_queue, 0);
	ust_if_get_stats(tb.ifp, &is);
	CHECK_EQ(is.ipackets, NTHREAD_FRAMES);

	test_stack_free(ta.st);
	test_stack_free(tb.st);
	ust_pipe_destroy(ta.p);
	free(sink);
}

/* ------------------------------------------------------------------------
 * Large segments (TSO4|LRO): two NICs with TSO and LRO on a wire.
 */

#define TSO_CAPS (UST_IFCAP_TSO4 | UST_IFCAP_LRO | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM)
#define TSO_TOTAL (2u * 1024u * 1024u)

TEST(pipe_tso_caps_come_together)
{
	struct ust_pipe_config cfg;
	struct ust_pipe *p = NULL;

	ust_pipe_config_init(&cfg);
	cfg.ring_size = 16;
	cfg.caps = UST_IFCAP_TSO4;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.caps = TSO_CAPS & ~UST_IFCAP_LRO;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.caps = UST_IFCAP_LRO | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM;
	CHECK_EQ(ust_pipe_create(&cfg, &p), -UST_EINVAL);
	cfg.caps = TSO_CAPS;
	REQUIRE_EQ(ust_pipe_create(&cfg, &p), 0);
	CHECK_EQ(ust_pipe_ops()->get_caps(ust_pipe_end(p, UST_PIPE_A)), TSO_CAPS);
	ust_pipe_destroy(p);
}

#if UST_STATS
/* What B's interface received: the largest frame and those over the MTU. */
struct lro_seen {
	size_t max_len;
	uint64_t large;
};

static void
lro_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts, const struct ust_mbuf *m)
{
	struct lro_seen *s = arg;
	size_t len = ust_mbuf_pktlen(m);

	(void)ifp;
	(void)ts;
	if (dir != UST_CAPTURE_IN)
		return;
	if (len > s->max_len)
		s->max_len = len;
	if (len > 14 + 1500)
		s->large++;
}

TEST(pipe_tso_segment_crosses_whole)
{
	struct ust_pipe_config pc;
	struct ust_pipe_stats ps;
	struct ust_tcpstat ta, tb;
	struct ust_ipstat ib;
	struct bulk_result res;
	struct lro_seen seen = { 0, 0 };
	struct ust_mbuf *m;
	struct bulk w;
	uint8_t big[3000];

	bulk_stacks(&w, ust_test_seed, 128u << 20, 65536, 16384);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	pc.caps = TSO_CAPS;
	pc.ring_size = 256;
	pc.fault[UST_PIPE_A_TO_B].delay_ns = NS_PER_MS;
	pc.fault[UST_PIPE_B_TO_A].delay_ns = NS_PER_MS;
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	bulk_attach(&w, ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w.p, UST_PIPE_B));
	CHECK_EQ(ust_if_caps(w.ifa), TSO_CAPS);
	ust_if_set_capture(w.ifb, lro_capture, &seen);
	bulk_sysctl(&w, "net.inet.tcp.sendspace", 1 << 20);
	bulk_sysctl(&w, "net.inet.tcp.recvspace", 1 << 20);
	bulk_sockets(&w);
	bulk_connect(&w);
	bulk_transfer(&w, TSO_TOTAL, 5000, &res);
	bulk_print("pipe TSO/LRO", &w, &res);
	CHECK_EQ(res.got, TSO_TOTAL);
	CHECK(res.intact);

	/* Whole TSO packets crossed: B saw frames far over the MTU (up to
	 * a 64 KiB datagram), none was dropped, and B did no checksum work
	 * that failed. */
	CHECK(seen.large > 10);
	CHECK(seen.max_len > 8 * (14 + 1500));
	CHECK(seen.max_len <= 14 + 65535);
	ust_pipe_get_stats(w.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.dropped_mtu + ps.dropped_queue + ps.dropped_nombuf, 0);
	CHECK(ps.delivered_bytes > (uint64_t)TSO_TOTAL);
	/* Far fewer frames than 1448-byte segments would take. */
	CHECK(ps.delivered < TSO_TOTAL / 1448 / 4);
	ust_stats_tcp(w.a, &ta);
	ust_stats_tcp(w.b, &tb);
	ust_stats_ip(w.b, &ib);
	CHECK_EQ(tb.tcps_rcvbadsum + ib.ips_badsum, 0);
	CHECK_EQ(ta.tcps_sndrexmitpack, 0);

	/* A frame over the MTU without UST_CSUM_TSO is still dropped. */
	memset(big, 0xa5, sizeof(big));
	m = ust_mbuf_from_buf(w.ifa, big, sizeof(big));
	REQUIRE(m != NULL);
	CHECK_EQ(ust_pipe_ops()->tx_burst(ust_pipe_end(w.p, UST_PIPE_A), &m, 1), 1);
	ust_pipe_get_stats(w.p, UST_PIPE_A_TO_B, &ps);
	CHECK_EQ(ps.dropped_mtu, 1);
	bulk_fini(&w);
}
#endif
