/*
 * test_hostile_ip.c - hostile IPv4 headers (RFC 791, RFC 1122 3.2.1):
 * IHL below 5, total length larger or smaller than the frame or the
 * header, wrong version, bad checksum, TTL 0, sources that cannot be a
 * unicast peer (limited and directed broadcast, multicast, our own
 * address: LAND), runts.  Each row starts from a valid echo request (or,
 * for LAND, a TCP SYN to the listener), breaks one thing, and must be
 * dropped silently with its ipstat counter moved by one.
 */
#include "hostile.h"

/* The whole file needs the counters (ustack_opts.h). */
#if UST_STATS

enum ipmut {
	IHL4,
	IHL0,
	LEN_GT_FRAME,
	LEN_LT_HDR,
	LEN_ZERO,
	IHL_PAST_LEN,
	VERS6,
	BADSUM,
	TTL0,
	SRC_BCAST,
	SRC_DBCAST,
	SRC_MCAST,
	SRC_OURS_ECHO,
	LAND_SYN,
	RUNT,
	SRC_ZERO,
};

struct iprow {
	const char *name;
	enum ipmut mut;
	size_t off; /* in struct ust_ipstat */
};

static const struct iprow iprows[] = {
	{ "ihl4", IHL4, offsetof(struct ust_ipstat, ips_badhlen) },
	{ "ihl0", IHL0, offsetof(struct ust_ipstat, ips_badhlen) },
	{ "totlen_past_frame", LEN_GT_FRAME, offsetof(struct ust_ipstat, ips_tooshort) },
	{ "totlen_below_header", LEN_LT_HDR, offsetof(struct ust_ipstat, ips_badlen) },
	{ "totlen_zero", LEN_ZERO, offsetof(struct ust_ipstat, ips_badlen) },
	{ "ihl_past_totlen", IHL_PAST_LEN, offsetof(struct ust_ipstat, ips_badhlen) },
	{ "version6", VERS6, offsetof(struct ust_ipstat, ips_badvers) },
	{ "bad_checksum", BADSUM, offsetof(struct ust_ipstat, ips_badsum) },
	{ "ttl0", TTL0, offsetof(struct ust_ipstat, ips_badttl) },
	{ "src_limited_broadcast", SRC_BCAST, offsetof(struct ust_ipstat, ips_badaddr) },
	{ "src_directed_broadcast", SRC_DBCAST, offsetof(struct ust_ipstat, ips_badaddr) },
	{ "src_multicast", SRC_MCAST, offsetof(struct ust_ipstat, ips_badaddr) },
	{ "src_ours_echo", SRC_OURS_ECHO, offsetof(struct ust_ipstat, ips_badaddr) },
	{ "land_syn", LAND_SYN, offsetof(struct ust_ipstat, ips_badaddr) },
	{ "runt_19_bytes", RUNT, offsetof(struct ust_ipstat, ips_toosmall) },
	{ "src_zero", SRC_ZERO, offsetof(struct ust_ipstat, ips_badaddr) },
};

static size_t
ip_build(enum ipmut mut, uint8_t *f)
{
	uint8_t icmp[64], tcp[20];
	uint32_t src = IPT_PEER;
	uint8_t ttl = 64;
	size_t n, len;

	switch (mut) {
	case SRC_BCAST:
		src = 0xffffffffu;
		break;
	case SRC_DBCAST:
		src = IPT_BCAST;
		break;
	case SRC_MCAST:
		src = 0xe0000005u;
		break;
	case SRC_OURS_ECHO:
	case LAND_SYN:
		src = IPT_OURS;
		break;
	case SRC_ZERO:
		src = 0;
		break;
	case TTL0:
		ttl = 0;
		break;
	default:
		break;
	}
	if (mut == LAND_SYN) {
		/* RFC 9293 3.1 layout, port 8080 to port 8080, SYN. */
		memset(tcp, 0, sizeof(tcp));
		tcp[0] = tcp[2] = TT_LOCAL_PORT >> 8;
		tcp[1] = tcp[3] = TT_LOCAL_PORT & 0xff;
		tcp[12] = 5 << 4;
		tcp[13] = TH_SYN;
		tcp[14] = 0xff;
		return (ipt_frame(f, ipt_mac_ours, src, IPT_OURS, 6, 7, 0, ttl, tcp, sizeof(tcp)));
	}
	n = tl_icmp(icmp, 8, 0, 0x12340001u, (const uint8_t *)"0123456789abcdef", 16);
	len = ipt_frame(f, ipt_mac_ours, src, IPT_OURS, 1, 0x4242, 0, ttl, icmp, n);
	switch (mut) {
	case IHL4:
		f[14] = 0x44;
		break;
	case IHL0:
		f[14] = 0x40;
		break;
	case LEN_GT_FRAME:
		f[16] = 0;
		f[17] = (uint8_t)(len - 14 + 10);
		break;
	case LEN_LT_HDR:
		f[16] = 0;
		f[17] = 19;
		break;
	case LEN_ZERO:
		f[16] = f[17] = 0;
		break;
	case IHL_PAST_LEN:
		f[14] = 0x4f; /* 60 bytes of header, 44 bytes in the datagram */
		break;
	case VERS6:
		f[14] = 0x65;
		break;
	case RUNT:
		return (14 + 19);
	default:
		break;
	}
	tl_ip4_resum(f + 14, len - 14);
	if (mut == BADSUM)
		f[24] ^= 0x5a;
	return (len);
}

TEST(hostile_ip_headers)
{
	size_t i;

	for (i = 0; i < sizeof(iprows) / sizeof(iprows[0]); i++) {
		const struct iprow *r = &iprows[i];
		uint8_t f[128];
		size_t len;
		struct hs h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		len = ip_build(r->mut, f);
		ipt_inject(&h.tt.t, f, len);
		CHECK_EQ(hs_delta(&h, HS_IP, r->off), 1);
		CHECK_EQ(HS_D(&h, ip, ips_delivered), 0);
		CHECK_EQ(HS_D(&h, tcp, tcps_sc_added), 0);
		CHECK_EQ(hs_txnew(&h), 0);
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}

/* Fragments (RFC 791 3.2, RFC 815, RFC 1858, RFC 5722's stance on
 * overlaps carried over to IPv4 as FreeBSD does): each row is a burst
 * of fragments of an 800-byte echo request; none may be reassembled,
 * each bad one counts as ips_fragdropped, and what is left times out
 * without leaking. */
struct fragrow {
	const char *name;
	int n;
	struct {
		uint32_t off, len;
		int mf;
	} fr[3];
	long long dropped;
};

static const struct fragrow fragrows[] = {
	{ "offset_past_65535", 1, { { 65512, 100, 1 } }, 1 },
	{ "last_offset_past_65535", 1, { { 65528, 16, 0 } }, 1 },
	{ "overlap_head", 2, { { 0, 200, 1 }, { 160, 200, 1 } }, 2 },
	{ "overlap_inside", 2, { { 0, 400, 1 }, { 8, 16, 1 } }, 2 },
	{ "zero_length_mf", 1, { { 200, 0, 1 } }, 1 },
	{ "tiny_first_4_bytes", 1, { { 0, 4, 1 } }, 1 },
	{ "unaligned_middle", 2, { { 0, 400, 1 }, { 400, 12, 1 } }, 2 },
	{ "conflicting_last", 2, { { 400, 400, 0 }, { 400, 392, 0 } }, 2 },
};

TEST(hostile_ip_fragments)
{
	static uint8_t msg[8 + 792];
	size_t i;
	int k;

	for (k = 0; k < 792; k++)
		msg[8 + k] = (uint8_t)(k * 7);
	(void)tl_icmp(msg, 8, 0, 0x0badcafeu, msg + 8, 792);
	for (i = 0; i < sizeof(fragrows) / sizeof(fragrows[0]); i++) {
		const struct fragrow *r = &fragrows[i];
		uint8_t f[1600];
		struct hs h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		for (k = 0; k < r->n; k++) {
			uint32_t off = r->fr[k].off, len = r->fr[k].len;
			/* Past the message: any bytes will do. */
			const uint8_t *src = off + len <= sizeof(msg) ? msg + off : msg;
			size_t n =
			    ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, (uint16_t)(500 + i),
			        (uint16_t)((r->fr[k].mf ? 0x2000 : 0) | (off >> 3)), 64, src, len);

			ipt_inject(&h.tt.t, f, n);
		}
		CHECK_EQ(HS_D(&h, ip, ips_fragdropped), r->dropped);
		CHECK_EQ(HS_D(&h, ip, ips_reassembled), 0);
		CHECK_EQ(hs_txnew(&h), 0);
		hs_alive(&h);
		/* Whatever is queued times out (RFC 791: 30 s here). */
		ipt_advance(&h.tt.t, 31000 * IPT_MS);
		hs_skip(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}
#endif /* UST_STATS */
