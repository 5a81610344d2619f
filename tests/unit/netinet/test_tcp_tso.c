/*
 * test_tcp_tso.c - TCP segmentation and checksum offload end to end
 * (tcp_output TSO, ip_output checksum hand-off, tcp_tso.c's software
 * segmenter, the contract in ustack_driver.h).
 *
 * A wrapper driver around each pipe end advertises TSO4|TXCSUM|RXCSUM
 * (and LRO on the receiver in one test) with a 1500-byte MTU.  On
 * transmit it checks what the stack hands over (flags, tso_segsz, sizes)
 * and either cuts TSO packets with ust_mbuf_tso_segment() and fills
 * checksums with ust_mbuf_csum_fill(), as a driver without the hardware
 * would, or passes the large frames through whole to a receiver that
 * takes them as LRO frames.  The frames arriving at B are recorded: a
 * transfer with TSO gives exactly the bytes of the same seeded transfer
 * with net.inet.tcp.tso off, every checksum valid.
 */
#include "bulkrig.h"
#include "kern/mbuf.h"

/* The whole file needs TSO (ustack_opts.h). */
#if UST_TCP_TSO

#define TSO_TOTAL (1024u * 1024u)
#define TSO_MEM (256u * 1024u * 1024u)
#define TSO_SEED 77
#define TSO_MTU 1500u
#define TSO_MSS_TS (TSO_MTU - 40u - 12u) /* MSS less the timestamps option */

enum tw_mode { TW_SEGMENT, TW_PASS };

struct tsowrap {
	const struct ust_driver_ops *inner;
	void *isc;
	uint32_t caps;
	enum tw_mode mode;
	uint64_t tso_pkts, tso_bad, max_len, frames;
	uint32_t segsz_min, segsz_max;
};

/* Frames received by B, back to back, with their lengths. */
struct tw_rec {
	uint8_t *buf;
	size_t len, cap;
	uint64_t frames, max_frame, bad_sum;
};

static struct tsowrap *
tw_of(void *sc)
{
	return (sc);
}

/* RFC 1071 over a flat buffer, with an initial sum. */
static uint16_t
tw_cksum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/* Whether an Ethernet/IPv4/TCP frame's two checksums verify. */
static int
tw_frame_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	uint32_t hlen, iplen, sum = 0;
	int i;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return (1); /* ARP: not ours to check */
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	iplen = (uint32_t)(ip[2] << 8 | ip[3]);
	if (tw_cksum(ip, hlen, 0) != 0 || 14 + iplen > len)
		return (0);
	if (ip[9] != 6)
		return (1);
	for (i = 12; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum += 6 + (iplen - hlen);
	return (tw_cksum(ip + hlen, iplen - hlen, sum) == 0);
}

/* Adds l4len to the pseudo-header sum in the TCP checksum field of an
 * Ethernet/IPv4/TCP frame whose headers are in buffer p (TSO leaves the
 * length out, ordinary checksum offload keeps it in). */
static void
tw_sum_add_len(uint8_t *p)
{
	uint8_t *ip = p + 14, *th = ip + (ip[0] & 0x0f) * 4;
	uint32_t sum = (uint32_t)(th[16] << 8 | th[17]);

	sum += (uint32_t)(ip[2] << 8 | ip[3]) - (uint32_t)(ip[0] & 0x0f) * 4;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
}

static int
tw_tx_one(struct tsowrap *w, struct ust_mbuf *m)
{
	return (w->inner->tx_burst(w->isc, &m, 1));
}

static int
tw_tx_burst(void *sc, struct ust_mbuf **pkts, int n)
{
	struct tsowrap *w = tw_of(sc);
	struct ust_mbuf *segs[64];
	int i, j, k;

	for (i = 0; i < n; i++) {
		uint32_t fl = ust_mbuf_csum_flags(pkts[i]);
		size_t len = ust_mbuf_pktlen(pkts[i]);

		if (len > w->max_len)
			w->max_len = len;
		w->frames++;
		if (fl & UST_CSUM_TSO) {
			uint32_t sz = ust_mbuf_tso_segsz(pkts[i]);

			w->tso_pkts++;
			if ((fl & (UST_CSUM_IP | UST_CSUM_TCP)) != (UST_CSUM_IP | UST_CSUM_TCP) ||
			    len <= 14 + TSO_MTU || len > 14 + 65535)
				w->tso_bad++;
			if (sz < w->segsz_min)
				w->segsz_min = sz;
			if (sz > w->segsz_max)
				w->segsz_max = sz;
		}
		if ((fl & UST_CSUM_TSO) && w->mode == TW_SEGMENT) {
			k = ust_mbuf_tso_segment(pkts[i], segs, 64);
			CHECK(k > 1);
			if (k <= 0)
				ust_mbuf_free(pkts[i]);
			/* The pipe's ring is deep enough for every segment. */
			for (j = 0; j < k; j++)
				if (tw_tx_one(w, segs[j]) != 1) {
					CHECK(0);
					ust_mbuf_free(segs[j]);
				}
			continue;
		}
		if (fl & UST_CSUM_TSO) {
			/* Passed whole to an LRO receiver: complete its
			 * checksum as a coalesced frame's would be. */
			tw_sum_add_len(ust_mbuf_data(pkts[i]));
			ust_mbuf_set_csum_flags(pkts[i], fl & ~UST_CSUM_TSO);
		}
		CHECK_EQ(ust_mbuf_csum_fill(pkts[i]), 0);
		if (tw_tx_one(w, pkts[i]) != 1)
			break;
	}
	return (i);
}

static int
tw_rx_burst(void *sc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	return (tw_of(sc)->inner->rx_burst(tw_of(sc)->isc, ifp, pkts, max));
}

static void
tw_get_mac(void *sc, uint8_t mac[6])
{
	tw_of(sc)->inner->get_mac(tw_of(sc)->isc, mac);
}

static uint32_t
tw_get_mtu(void *sc)
{
	(void)sc;
	return (TSO_MTU);
}

static uint32_t
tw_get_caps(void *sc)
{
	return (tw_of(sc)->caps);
}

static void
tw_detach(void *sc)
{
	tw_of(sc)->inner->detach(tw_of(sc)->isc);
}

static const struct ust_driver_ops tw_ops = {
	.name = "tsowrap",
	.rx_burst = tw_rx_burst,
	.tx_burst = tw_tx_burst,
	.get_mac = tw_get_mac,
	.get_mtu = tw_get_mtu,
	.get_caps = tw_get_caps,
	.detach = tw_detach,
};

static void
tw_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts, const struct ust_mbuf *m)
{
	struct tw_rec *r = arg;
	size_t len = ust_mbuf_pktlen(m);
	uint8_t *f;

	(void)ifp;
	(void)ts;
	if (dir != UST_CAPTURE_IN)
		return;
	if (r->len + len + 4 > r->cap) {
		r->cap = (r->cap + len + 4) * 2;
		r->buf = realloc(r->buf, r->cap);
		REQUIRE(r->buf != NULL);
	}
	f = r->buf + r->len;
	f[0] = (uint8_t)(len >> 24);
	f[1] = (uint8_t)(len >> 16);
	f[2] = (uint8_t)(len >> 8);
	f[3] = (uint8_t)len;
	REQUIRE_EQ(ust_mbuf_copydata(m, 0, len, f + 4), 0);
	if (!tw_frame_ok(f + 4, len))
		r->bad_sum++;
	r->len += len + 4;
	r->frames++;
	if (len > r->max_frame)
		r->max_frame = len;
}

struct tso_run {
	struct bulk w;
	struct ust_pipe *p;
	struct tsowrap wa, wb;
	struct tw_rec rec;
	struct bulk_result r;
	struct ust_tcpstat ts;
};

/* A 1 MB transfer A -> B over a 1 Gbit/s, 1 ms pipe through the wrappers,
 * TSO on or off at A; B's input recorded. */
static void
tso_run(struct tso_run *t, uint64_t seed, int tso, enum tw_mode mode)
{
	struct ust_pipe_config pc;
	unsigned i;

	memset(t, 0, sizeof(*t));
	bulk_stacks(&t->w, seed, TSO_MEM, 65536, 16384);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(t->w.vc);
	/* Whole TSO frames cross the pipe in the pass-through mode. */
	pc.mtu = mode == TW_PASS ? 65535 : TSO_MTU;
	pc.ring_size = mode == TW_PASS ? 256 : 4096;
	pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM;
	for (i = 0; i < 2; i++) {
		pc.fault[i].delay_ns = BULK_MS;
		pc.fault[i].rate_bps = 1000000000ull;
	}
	REQUIRE_EQ(ust_pipe_create(&pc, &t->p), 0);
	t->w.p = t->p;
	t->wa.inner = t->wb.inner = ust_pipe_ops();
	t->wa.isc = ust_pipe_end(t->p, UST_PIPE_A);
	t->wb.isc = ust_pipe_end(t->p, UST_PIPE_B);
	t->wa.caps = t->wb.caps = UST_IFCAP_TSO4 | UST_IFCAP_TXCSUM | UST_IFCAP_RXCSUM;
	if (mode == TW_PASS)
		t->wb.caps |= UST_IFCAP_LRO;
	t->wa.mode = t->wb.mode = mode;
	t->wa.segsz_min = t->wb.segsz_min = UINT32_MAX;
	bulk_attach(&t->w, &tw_ops, &t->wa, &tw_ops, &t->wb);
	ust_if_set_capture(t->w.ifb, tw_capture, &t->rec);
	CHECK_EQ(ust_sysctl_set(t->w.a, "net.inet.tcp.tso", tso), 0);
	bulk_sockets(&t->w);
	bulk_connect(&t->w);
	bulk_transfer(&t->w, TSO_TOTAL, 5000, &t->r);
	ust_stats_tcp(t->w.a, &t->ts);
	bulk_print(tso ? "tso on" : "tso off", &t->w, &t->r);
	printf("  A sent %llu frames (%llu TSO, largest %llu), tcps_sndtotal %llu; B got %llu "
	       "frames (largest %llu)\n",
	    (unsigned long long)t->wa.frames, (unsigned long long)t->wa.tso_pkts,
	    (unsigned long long)t->wa.max_len, (unsigned long long)t->ts.tcps_sndtotal,
	    (unsigned long long)t->rec.frames, (unsigned long long)t->rec.max_frame);
	CHECK_EQ(t->r.got, TSO_TOTAL);
	CHECK(t->r.intact);
	CHECK_EQ(t->rec.bad_sum, 0);
}

static void
tso_run_fini(struct tso_run *t)
{
	ust_if_set_capture(t->w.ifb, NULL, NULL);
	bulk_fini(&t->w);
	free(t->rec.buf);
}

#if UST_STATS
#if UST_TCP_RFC1323
TEST(tso_segments_match_a_transfer_without_tso)
{
	static struct tso_run on, off;

	tso_run(&on, TSO_SEED, 1, TW_SEGMENT);
	tso_run(&off, TSO_SEED, 0, TW_SEGMENT);
	/* TSO was used, with the segment size of the MSS less the
	 * timestamps every segment carries, and nothing odd. */
	CHECK(on.wa.tso_pkts > 10);
	CHECK_EQ(on.wa.tso_bad, 0);
	CHECK_EQ(on.wa.segsz_min, TSO_MSS_TS);
	CHECK_EQ(on.wa.segsz_max, TSO_MSS_TS);
	CHECK(on.wa.max_len > 8 * (uint64_t)(14 + TSO_MTU));
	/* One send per TSO packet (FreeBSD's tcps_sndtotal). */
	CHECK(on.ts.tcps_sndtotal + 100 < off.ts.tcps_sndtotal);
	/* With the knob off the driver sees MSS-sized segments only. */
	CHECK_EQ(off.wa.tso_pkts, 0);
	CHECK(off.wa.max_len <= 14 + TSO_MTU);
	/* The wire is the same, byte for byte: lengths, sequence numbers,
	 * IP IDs, flags, checksums. */
	CHECK_EQ(on.rec.frames, off.rec.frames);
	CHECK_EQ(on.rec.len, off.rec.len);
	CHECK(on.rec.len == off.rec.len && memcmp(on.rec.buf, off.rec.buf, on.rec.len) == 0);
	CHECK(on.rec.max_frame <= 14 + TSO_MTU);
	tso_run_fini(&on);
	tso_run_fini(&off);
}
#endif
#endif

TEST(lro_frames_larger_than_the_mtu_are_accepted)
{
	static struct tso_run t;

	tso_run(&t, TSO_SEED + 1, 1, TW_PASS);
	CHECK(t.wa.tso_pkts > 10);
	/* B took whole TSO frames as single segments (LRO). */
	CHECK(t.rec.max_frame > 8 * (uint64_t)(14 + TSO_MTU));
	tso_run_fini(&t);
}

/* ---------------------------------------------------------------------
 * The segmenter by itself on a hand-made frame.
 * ------------------------------------------------------------------- */

#define SEG_PAY 3000u
#define SEG_SZ 1000u

static void
seg_frame(struct ust_if *ifp, uint8_t thflags, uint32_t csum, struct ust_mbuf **out)
{
	uint8_t f[14 + 20 + 32 + SEG_PAY];
	struct ust_mbuf *um;
	struct mbuf *m;
	uint32_t i, sum;

	memset(f, 0, sizeof(f));
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + 32 + SEG_PAY) >> 8);
	f[17] = (uint8_t)(20 + 32 + SEG_PAY);
	f[18] = 0x12; /* IP ID 0x12fe */
	f[19] = 0xfe;
	f[20] = 0x40; /* DF */
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	f[34 + 4] = 0xff; /* seq 0xfffffc00: wraps inside the packet */
	f[34 + 5] = 0xff;
	f[34 + 6] = 0xfc;
	f[34 + 12] = 8 << 4;
	f[34 + 13] = thflags;
	f[34 + 20] = 1; /* NOP, NOP, timestamps */
	f[34 + 21] = 1;
	f[34 + 22] = 8;
	f[34 + 23] = 10;
	for (i = 0; i < SEG_PAY; i++)
		f[66 + i] = (uint8_t)(i * 7);
	/* The pseudo-header sum without the length, as TSO has it. */
	for (i = 26, sum = 6; i < 34; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[50] = (uint8_t)(sum >> 8);
	f[51] = (uint8_t)sum;
	um = ust_mbuf_from_buf(ifp, f, sizeof(f));
	REQUIRE(um != NULL);
	m = (struct mbuf *)(void *)um;
	m->m_pkthdr.csum_flags = csum;
	if (!(csum & UST_CSUM_TSO))
		tw_sum_add_len(ust_mbuf_data(um));
	m->m_pkthdr.tso_segsz = SEG_SZ;
	*out = um;
}

TEST(segmenter_sets_headers_per_segment)
{
	struct ust_vclock *vc = ust_vclock_create(BULK_T0);
	struct ust_stack *st = test_stack_new(vc, 5);
	struct ust_pipe *p;
	struct ust_pipe_config pc;
	struct ust_if *ifp;
	struct ust_mbuf *segs[8], *m;
	static uint8_t f[14 + 20 + 32 + SEG_PAY];
	int n, i;

	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(vc);
	REQUIRE_EQ(ust_pipe_create(&pc, &p), 0);
	REQUIRE_EQ(ust_if_attach(st, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_A), &ifp), 0);
	/* Not a TSO frame, or too many segments for the array: refused,
	 * the frame still the caller's. */
	seg_frame(ifp, 0x10, UST_CSUM_TCP, &m);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 8), -UST_EINVAL);
	/* ... but its checksums can be filled (the IP one was not asked
	 * for and stays zero, so only TCP's is checked here). */
	CHECK_EQ(ust_mbuf_csum_fill(m), 0);
	CHECK_EQ(ust_mbuf_csum_flags(m), 0);
	ust_mbuf_set_csum_flags(m, UST_CSUM_IP);
	CHECK_EQ(ust_mbuf_csum_fill(m), 0);
	REQUIRE_EQ(ust_mbuf_copydata(m, 0, sizeof(f), f), 0);
	CHECK(tw_frame_ok(f, sizeof(f)));
	ust_mbuf_free(m);
	seg_frame(ifp, 0x10, UST_CSUM_TSO | UST_CSUM_TCP | UST_CSUM_IP, &m);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 2), -UST_E2BIG);
	ust_mbuf_free(m);
	/* ACK|PSH|FIN|CWR: CWR on the first only, PSH and FIN on the last. */
	seg_frame(ifp, 0x99, UST_CSUM_TSO | UST_CSUM_TCP | UST_CSUM_IP, &m);
	n = ust_mbuf_tso_segment(m, segs, 8);
	REQUIRE_EQ(n, 3);
	for (i = 0; i < n; i++) {
		size_t len = ust_mbuf_pktlen(segs[i]);
		uint32_t seq;

		CHECK_EQ(len, 14 + 20 + 32 + SEG_SZ);
		REQUIRE_EQ(ust_mbuf_copydata(segs[i], 0, len, f), 0);
		CHECK(tw_frame_ok(f, len));
		CHECK_EQ(ust_mbuf_csum_flags(segs[i]), 0);
		CHECK_EQ((unsigned)(f[16] << 8 | f[17]), 20 + 32 + SEG_SZ);
		CHECK_EQ((unsigned)(f[18] << 8 | f[19]), 0x12feu + (unsigned)i);
		CHECK_EQ(f[20], 0x40);
		seq = (uint32_t)f[38] << 24 | (uint32_t)f[39] << 16 | (uint32_t)f[40] << 8 | f[41];
		CHECK_EQ(seq, 0xfffffc00u + (uint32_t)i * SEG_SZ);
		CHECK_EQ(f[47], i == 0 ? 0x90 : i == n - 1 ? 0x19 : 0x10);
		CHECK_EQ(f[66], (uint8_t)((uint32_t)i * SEG_SZ * 7));
		ust_mbuf_free(segs[i]);
	}
	ust_if_detach(ifp);
	test_stack_free(st);
	ust_pipe_destroy(p);
	ust_vclock_destroy(vc);
}
#endif /* UST_TCP_TSO */
