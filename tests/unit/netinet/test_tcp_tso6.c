/*
 * test_tcp_tso6.c - the software half of IPv6 offload (tcp_tso.c; the
 * UST_CSUM_IP6_* flags of ustack_driver.h) on hand-made frames: TSO
 * segments of a TCP/IPv6 packet with their own payload length, sequence
 * number, flags and a full checksum, everything else of the IPv6 header
 * kept; checksum filling for TCP and UDP over IPv6; and an IPv4 flag on an
 * IPv6 frame (or the reverse) refused with the frame untouched, so that no
 * IPv4 header checksum is ever written into an IPv6 header.
 */
#include "bulkrig.h"
#include "kern/mbuf.h"

#if UST_INET6

#define S6_PAY 3000u
#define S6_SZ 1000u
#define S6_TH 32u /* TCP header with NOP, NOP, timestamps */
#define S6_LEN (14u + 40u + S6_TH + S6_PAY)

static const uint8_t s6_src[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t s6_dst[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/* The folded sum of the IPv6 pseudo header (RFC 8200 8.1), not
 * complemented. */
static uint32_t
s6_pseudo(uint32_t len, uint8_t nxt)
{
	uint32_t sum = nxt + (len >> 16) + (len & 0xffff);
	int i;

	for (i = 0; i < 16; i += 2)
		sum += (uint32_t)(s6_src[i] << 8 | s6_src[i + 1]) +
		    (uint32_t)(s6_dst[i] << 8 | s6_dst[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum);
}

static uint16_t
s6_cksum(const uint8_t *p, size_t len, uint32_t sum)
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

/* Whether the transport checksum of an Ethernet/IPv6 frame verifies. */
static int
s6_frame_ok(const uint8_t *f, size_t len)
{
	uint32_t plen = (uint32_t)(f[18] << 8 | f[19]);

	if (len < 54 || f[12] != 0x86 || f[13] != 0xdd || 54 + plen > len)
		return (0);
	return (s6_cksum(f + 54, plen, s6_pseudo(plen, f[20])) == 0);
}

/* An Ethernet/IPv6/TCP frame with S6_PAY bytes of payload; the checksum
 * field holds the pseudo-header sum, without the length for TSO. */
static void
s6_frame(uint8_t *f, uint8_t thflags, int tso)
{
	uint32_t i, sum;

	memset(f, 0, S6_LEN);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x6b; /* version 6, traffic class 0xb9 (ECT(1)), flow 0x12345 */
	f[15] = 0x91;
	f[16] = 0x23;
	f[17] = 0x45;
	f[18] = (uint8_t)((S6_TH + S6_PAY) >> 8);
	f[19] = (uint8_t)(S6_TH + S6_PAY);
	f[20] = 6;
	f[21] = 64;
	memcpy(f + 22, s6_src, 16);
	memcpy(f + 38, s6_dst, 16);
	f[54 + 4] = 0xff; /* seq 0xfffffc00: wraps inside the packet */
	f[54 + 5] = 0xff;
	f[54 + 6] = 0xfc;
	f[54 + 12] = (S6_TH / 4) << 4;
	f[54 + 13] = thflags;
	f[54 + 20] = 1;
	f[54 + 21] = 1;
	f[54 + 22] = 8;
	f[54 + 23] = 10;
	for (i = 0; i < S6_PAY; i++)
		f[54 + S6_TH + i] = (uint8_t)(i * 7);
	sum = s6_pseudo(tso ? 0 : S6_TH + S6_PAY, 6);
	f[54 + 16] = (uint8_t)(sum >> 8);
	f[54 + 17] = (uint8_t)sum;
}

/* A packet of the frame f with offload flags csum (tso_segsz S6_SZ);
 * aborts the process when out of buffers. */
static struct ust_mbuf *
s6_mbuf(struct ust_if *ifp, const uint8_t *f, size_t len, uint32_t csum)
{
	struct ust_mbuf *um = ust_mbuf_from_buf(ifp, f, len);

	if (um == NULL)
		abort();
	ust_mbuf_set_csum_flags(um, csum);
	((struct mbuf *)(void *)um)->m_pkthdr.tso_segsz = S6_SZ;
	return (um);
}

struct s6_rig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct ust_pipe *p;
	struct ust_if *ifp;
};

static void
s6_rig(struct s6_rig *r)
{
	struct ust_pipe_config pc;

	r->vc = ust_vclock_create(BULK_T0);
	r->st = test_stack_new(r->vc, 5);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(r->vc);
	REQUIRE_EQ(ust_pipe_create(&pc, &r->p), 0);
	REQUIRE_EQ(ust_if_attach(r->st, "p0", ust_pipe_ops(), ust_pipe_end(r->p, UST_PIPE_A),
	               &r->ifp),
	    0);
}

static void
s6_rig_fini(struct s6_rig *r)
{
	ust_if_detach(r->ifp);
	test_stack_free(r->st);
	ust_pipe_destroy(r->p);
	ust_vclock_destroy(r->vc);
}

/* An IPv4 flag on an IPv6 frame, or IPv4 and IPv6 flags together:
 * refused, every byte as it was. */
TEST(ipv4_offload_flags_never_touch_an_ipv6_frame)
{
	static uint8_t f[S6_LEN], g[S6_LEN];
	static const uint32_t bad[] = { UST_CSUM_IP, UST_CSUM_IP | UST_CSUM_TCP, UST_CSUM_TCP,
		UST_CSUM_IP | UST_CSUM_IP6_TCP, UST_CSUM_UDP | UST_CSUM_IP6_UDP };
	struct ust_mbuf *segs[8], *m;
	struct s6_rig r;
	unsigned i;

	s6_rig(&r);
	s6_frame(f, 0x10, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = s6_mbuf(r.ifp, f, sizeof(f), bad[i]);
		CHECK_EQ(ust_mbuf_csum_fill(m), -UST_EINVAL);
		REQUIRE_EQ(ust_mbuf_copydata(m, 0, sizeof(g), g), 0);
		CHECK(memcmp(f, g, sizeof(f)) == 0);
		ust_mbuf_free(m);
	}
	/* IPv4's TSO flag on an IPv6 frame, and IPv6's on an IPv4 one. */
	s6_frame(f, 0x10, 1);
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_TSO | UST_CSUM_TCP | UST_CSUM_IP);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 8), -UST_EINVAL);
	REQUIRE_EQ(ust_mbuf_copydata(m, 0, sizeof(g), g), 0);
	CHECK(memcmp(f, g, sizeof(f)) == 0);
	ust_mbuf_free(m);
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_TSO | UST_CSUM_IP6_TSO | UST_CSUM_IP6_TCP);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 8), -UST_EINVAL);
	ust_mbuf_free(m);
	memcpy(g, f, sizeof(g));
	g[12] = 0x08;
	g[13] = 0x00;
	g[14] = 0x45;
	m = s6_mbuf(r.ifp, g, sizeof(g), UST_CSUM_IP6_TSO | UST_CSUM_IP6_TCP);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 8), -UST_EINVAL);
	ust_mbuf_free(m);
	s6_rig_fini(&r);
}

TEST(ipv6_checksums_filled_for_tcp_and_udp)
{
	static uint8_t f[S6_LEN], g[S6_LEN];
	uint8_t u[14 + 40 + 8 + 5];
	struct ust_mbuf *m;
	struct s6_rig r;
	uint32_t sum;

	s6_rig(&r);
	s6_frame(f, 0x18, 0);
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_IP6_TCP);
	CHECK_EQ(ust_mbuf_csum_fill(m), 0);
	CHECK_EQ(ust_mbuf_csum_flags(m), 0);
	REQUIRE_EQ(ust_mbuf_copydata(m, 0, sizeof(g), g), 0);
	CHECK(s6_frame_ok(g, sizeof(g)));
	/* Only the TCP checksum changed. */
	CHECK(memcmp(f, g, 54 + 16) == 0);
	CHECK(memcmp(f + 54 + 18, g + 54 + 18, sizeof(f) - 54 - 18) == 0);
	ust_mbuf_free(m);
	/* UDP (RFC 8200 8.1): the field starts as the pseudo-header sum. */
	memcpy(u, f, 54);
	u[18] = 0;
	u[19] = 13;
	u[20] = 17;
	memcpy(u + 54, "\x12\x34\x56\x78\x00\x0d\x00\x00hello", 13);
	sum = s6_pseudo(13, 17);
	u[60] = (uint8_t)(sum >> 8);
	u[61] = (uint8_t)sum;
	m = s6_mbuf(r.ifp, u, sizeof(u), UST_CSUM_IP6_UDP);
	CHECK_EQ(ust_mbuf_csum_fill(m), 0);
	REQUIRE_EQ(ust_mbuf_copydata(m, 0, sizeof(u), u), 0);
	CHECK(s6_frame_ok(u, sizeof(u)));
	CHECK(u[60] != 0 || u[61] != 0);
	ust_mbuf_free(m);
	/* The flag must match the next header. */
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_IP6_UDP);
	CHECK_EQ(ust_mbuf_csum_fill(m), -UST_EINVAL);
	ust_mbuf_free(m);
	s6_rig_fini(&r);
}

#if UST_TCP_TSO
TEST(segmenter_sets_ipv6_headers_per_segment)
{
	static uint8_t f[S6_LEN], g[S6_LEN];
	struct ust_mbuf *segs[8], *m;
	struct s6_rig r;
	int n, i;

	s6_rig(&r);
	s6_frame(f, 0x10, 1);
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_IP6_TSO | UST_CSUM_IP6_TCP);
	CHECK_EQ(ust_mbuf_tso_segment(m, segs, 2), -UST_E2BIG);
	ust_mbuf_free(m);
	/* ACK|PSH|FIN|CWR: CWR on the first only, PSH and FIN on the last. */
	s6_frame(f, 0x99, 1);
	m = s6_mbuf(r.ifp, f, sizeof(f), UST_CSUM_IP6_TSO | UST_CSUM_IP6_TCP);
	n = ust_mbuf_tso_segment(m, segs, 8);
	REQUIRE_EQ(n, 3);
	for (i = 0; i < n; i++) {
		size_t len = ust_mbuf_pktlen(segs[i]);
		uint32_t seq;

		CHECK_EQ(len, 14 + 40 + S6_TH + S6_SZ);
		REQUIRE_EQ(ust_mbuf_copydata(segs[i], 0, len, g), 0);
		CHECK(s6_frame_ok(g, len));
		CHECK_EQ(ust_mbuf_csum_flags(segs[i]), 0);
		/* Version, traffic class, flow label, next header, hop
		 * limit and both addresses as they were; the payload length
		 * the segment's. */
		CHECK(memcmp(g, f, 18) == 0);
		CHECK(memcmp(g + 20, f + 20, 34) == 0);
		CHECK_EQ((unsigned)(g[18] << 8 | g[19]), S6_TH + S6_SZ);
		seq = (uint32_t)g[58] << 24 | (uint32_t)g[59] << 16 | (uint32_t)g[60] << 8 | g[61];
		CHECK_EQ(seq, 0xfffffc00u + (uint32_t)i * S6_SZ);
		CHECK_EQ(g[67], i == 0 ? 0x90 : i == n - 1 ? 0x19 : 0x10);
		CHECK_EQ(g[54 + S6_TH], (uint8_t)((uint32_t)i * S6_SZ * 7));
		/* Options copied to every segment. */
		CHECK(memcmp(g + 54 + 20, f + 54 + 20, S6_TH - 20) == 0);
		ust_mbuf_free(segs[i]);
	}
	s6_rig_fini(&r);
}
#endif /* UST_TCP_TSO */
#endif /* UST_INET6 */
