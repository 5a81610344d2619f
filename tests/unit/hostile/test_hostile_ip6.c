/*
 * test_hostile_ip6.c - hostile IPv6 input (issue 17 item 7): overlapping
 * and tiny fragments, fragment floods, long extension-header chains,
 * type 0 routing headers, hop-by-hop options not first, unknown options
 * with each action, ND messages with a hop limit below 255, unsolicited
 * NAs for unknown targets, RAs with hundreds of prefixes and from a
 * hundred routers, Packet Too Big below 1280, ICMPv6 errors quoting our
 * connection with wrong sequence numbers.  Each row is answered or
 * dropped as the RFC says, the counter that must move is named in the
 * row, the stack still serves afterwards (an echo request answered, data
 * both ways on the established connection, a new connection accepted),
 * and memory stays within its limits (ust_stack_get_mem, zone stats).
 *
 * The rig (h6_*): the stack on the loop driver with 2001:2::2/64 (no DAD)
 * and a static neighbor entry for the peer 2001:2::1, SLAAC allowed
 * (net.inet6.ip6.accept_rtadv=1 before the interface attaches) and
 * dad_count 0 so that addresses from RAs are usable at once, a listener
 * on [::]:8080 and one connection accepted from [2001:2::1]:40000.
 * Frames come from tl_frame6 (tests/lib), which shares no code with
 * netinet6.  ND, MLD and RS frames the stack sends on its own timers are
 * noise the checks skip.
 */
#include <inttypes.h>

#include "hostile.h"
#include "tl_frame6.h"

/* The whole file needs the counters and IPv6 (ustack_opts.h). */
#if UST_STATS
#if UST_INET6

#define H6_PORT 8080
#define H6_PPORT 40000
#define H6_PISS 1000u
#define T6_FIN 0x01
#define T6_SYN 0x02
#define T6_RST 0x04
#define T6_PSH 0x08
#define T6_ACK 0x10

static const uint8_t h6_mac_allnodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };

struct h6 {
	struct ipt t;
	uint8_t ours[16], peer[16], allnodes[16];
	struct ust_socket *lso, *so;
	uint32_t pseq, oseq; /* next sequence numbers, absolute */
	int tcp;             /* the connection exists (TCP over IPv6 works) */
	int dead;            /* the input legitimately ended it */
	uint16_t nextport;
	uint16_t echoseq;
	struct ust_ip6stat ip6;
	struct ust_icmp6stat icmp6;
	struct ust_tcpstat tcp_b;
};

#define H6_D6(h, f) ((long long)(h6_ip6(h).f - (h)->ip6.f))
#define H6_DI(h, f) ((long long)(h6_icmp6(h).f - (h)->icmp6.f))

static struct ust_ip6stat
h6_ip6(const struct h6 *h)
{
	struct ust_ip6stat s;

	ust_stats_ip6(h->t.st, &s);
	return (s);
}

static struct ust_icmp6stat
h6_icmp6(const struct h6 *h)
{
	struct ust_icmp6stat s;

	ust_stats_icmp6(h->t.st, &s);
	return (s);
}

static void
h6_snap(struct h6 *h)
{
	h->ip6 = h6_ip6(h);
	h->icmp6 = h6_icmp6(h);
	h->tcp_b = h->t.st->st_tcpstat;
}

/* Everything sent so far counts as read. */
static void
h6_skip(struct h6 *h)
{
	h->t.d->tx_count = 0;
}

static void
h6_inject(struct h6 *h, const uint8_t *f, size_t len)
{
	REQUIRE(len > 0 && len <= LOOPDRV_FRAME);
	ipt_inject(&h->t, f, len);
}

/* What the stack sends on its own: RS, RA, NS, NA, redirects, MLD. */
static int
h6_noise(const struct tl_pkt6 *p)
{
	return (p->proto == TL_IPPROTO_ICMPV6 && p->icmp_type >= TL_MLD_LISTENER_QUERY &&
	    p->icmp_type <= TL_MLDV2_LISTENER_REPORT);
}

/* The first frame sent since the last h6_skip that is IPv6 with next
 * header proto (and ICMPv6 type icmp_type unless -1), read into p. */
static int
h6_find(const struct h6 *h, uint8_t proto, int icmp_type, struct tl_pkt6 *p)
{
	int i;

	for (i = 0; i < h->t.d->tx_count; i++) {
		if (tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], p) != 0 || p->proto != proto)
			continue;
		if (proto == TL_IPPROTO_ICMPV6 && icmp_type >= 0 && p->icmp_type != icmp_type)
			continue;
		return (1);
	}
	return (0);
}

/* Nothing but noise sent since the last h6_skip. */
static int
h6_quiet(const struct h6 *h)
{
	struct tl_pkt6 p;
	int i;

	for (i = 0; i < h->t.d->tx_count; i++) {
		if (tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], &p) == 0 && h6_noise(&p))
			continue;
		if (h->t.d->tx_len[i] >= 14 && h->t.d->tx[i][12] == 0x08 &&
		    h->t.d->tx[i][13] == 0x06)
			continue; /* ARP */
		return (0);
	}
	return (1);
}

static size_t
h6_tcp_frame(const struct h6 *h, uint8_t *f, uint16_t sport, uint8_t flags, uint32_t seq,
    uint32_t ack, const void *data, size_t dlen)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xa0 }; /* 1440 */
	struct tl_tcp th;

	memset(&th, 0, sizeof(th));
	th.sport = sport;
	th.dport = H6_PORT;
	th.seq = seq;
	th.ack = ack;
	th.flags = flags;
	th.win = 65535;
	if (flags & T6_SYN) {
		th.opt = mss;
		th.optlen = sizeof(mss);
	}
	return (tl_frame6_tcp(f, ipt_mac_ours, ipt_mac_peer, h->peer, h->ours, 0, &th, data, dlen));
}

/* A connection from the peer's port sport, accepted: *so, its sequence
 * numbers in *pseq (the peer's next) and *oseq (ours). */
static int
h6_connect(struct h6 *h, uint16_t sport, struct ust_socket **so, uint32_t *pseq, uint32_t *oseq)
{
	struct ust_sockaddr_in6 from;
	ust_socklen_t flen = sizeof(from);
	struct tl_pkt6 p;
	uint8_t f[256];
	int i, found = 0;

	h6_skip(h);
	h6_inject(h, f, h6_tcp_frame(h, f, sport, T6_SYN, H6_PISS, 0, NULL, 0));
	for (i = 0; i < h->t.d->tx_count && !found; i++)
		found = tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], &p) == 0 && p.proto == 6 &&
		    p.sport == H6_PORT && p.dport == sport && p.flags == (T6_SYN | T6_ACK) &&
		    p.ack == H6_PISS + 1;
	if (!found)
		return (0);
	*oseq = p.seq + 1;
	*pseq = H6_PISS + 1;
	h6_skip(h);
	h6_inject(h, f, h6_tcp_frame(h, f, sport, T6_ACK, *pseq, *oseq, NULL, 0));
	return (ust_accept(h->lso, so, (struct ust_sockaddr *)&from, &flen) == 0 && *so != NULL);
}

static int
h6_init(struct h6 *h, uint64_t seed)
{
	struct ust_sockaddr_in6 sin6;
	struct ust_in6_addr a;
	int on = 1;

	memset(h, 0, sizeof(*h));
	tl_in6(h->ours, "2001:2::2");
	tl_in6(h->peer, "2001:2::1");
	tl_in6(h->allnodes, "ff02::1");
	h->t.vc = ust_vclock_create(IPT_T0);
	h->t.st = test_stack_new(h->t.vc, seed);
	h->t.d = calloc(1, sizeof(*h->t.d));
	loopdrv_init(h->t.d);
	/* Per-interface ND flags are taken at attach (FreeBSD nd6_ifattach). */
	if (ust_sysctl_set(h->t.st, "net.inet6.ip6.accept_rtadv", 1) != 0 ||
	    ust_sysctl_set(h->t.st, "net.inet6.ip6.dad_count", 0) != 0 ||
	    ust_if_attach(h->t.st, "lo0", &loopdrv_ops, h->t.d, &h->t.ifp) != 0 ||
	    ust_if_addr_add(h->t.ifp, htonl(IPT_OURS), 24) != 0)
		return (0);
	memcpy(a.s6_addr8, h->ours, 16);
	if (ust_if_addr6_add(h->t.ifp, &a, 64, UST_IN6_IFF_NODAD) != 0)
		return (0);
	memcpy(a.s6_addr8, h->peer, 16);
	if (ust_nd6_add_static(h->t.ifp, &a, ipt_mac_peer) != 0)
		return (0);
	ipt_advance(&h->t, 2000 * IPT_MS); /* MLD reports, RS: noise */
	h6_skip(h);
	h->nextport = H6_PPORT + 100;
	/* TCP over IPv6: without it the rows still run, liveness by echo. */
	if (ust_socket(h->t.st, UST_AF_INET6, UST_SOCK_STREAM, 0, &h->lso) == 0) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_len = sizeof(sin6);
		sin6.sin6_family = UST_AF_INET6;
		sin6.sin6_port = htons(H6_PORT);
		(void)ust_setsockopt(h->lso, UST_IPPROTO_IPV6, UST_IPV6_V6ONLY, &on, sizeof(on));
		if (ust_bind(h->lso, (const struct ust_sockaddr *)&sin6, sizeof(sin6)) == 0 &&
		    ust_listen(h->lso, 16) == 0)
			h->tcp = h6_connect(h, H6_PPORT, &h->so, &h->pseq, &h->oseq);
	}
	h6_skip(h);
	h6_snap(h);
	return (1);
}

static void
h6_fini(struct h6 *h)
{
	if (h->so != NULL)
		ust_close(h->so);
	if (h->lso != NULL)
		ust_close(h->lso);
	/* Let FIN_WAIT, TIME_WAIT and the retransmissions (up to 12 backed-off
	 * ones) run out before test_stack_free's leak check, as tt_fini. */
	ust_sysctl_set(h->t.st, "net.inet.tcp.msl", 1);
	h->t.d->tx_discard = 1;
	ipt_advance(&h->t, 1200ull * 1000 * IPT_MS);
	ipt_fini(&h->t);
}

/* An echo request from the peer to dst (ours or a group), 16 bytes. */
static size_t
h6_echo(struct h6 *h, uint8_t *f, const uint8_t *dst, const struct tl_ext6 *ext, unsigned n,
    uint8_t hlim)
{
	struct tl_ip6 ih = { 0, 0, TL_IPPROTO_ICMPV6, hlim, h->peer, dst };
	uint8_t pl[64];
	size_t plen;

	plen = tl_icmp6_echo(pl, h->peer, dst, 0, 0x6606, h->echoseq, "0123456789abcdef", 16);
	return (tl_frame6(f, dst[0] == 0xff ? h6_mac_allnodes : ipt_mac_ours, ipt_mac_peer, &ih,
	    ext, n, pl, plen));
}

/* The echo reply for the last h6_echo was sent. */
static int
h6_replied(const struct h6 *h)
{
	struct tl_pkt6 p;
	int i;

	for (i = 0; i < h->t.d->tx_count; i++)
		if (tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], &p) == 0 &&
		    p.proto == TL_IPPROTO_ICMPV6 && p.icmp_type == TL_ICMP6_ECHO_REPLY &&
		    p.icmp_rest == (0x6606u << 16 | h->echoseq) &&
		    memcmp(p.dst, h->peer, 16) == 0 && p.l4sum_ok)
			return (1);
	return (0);
}

/* Memory within its limits: the stack's total and every zone. */
static void
h6_mem_ok(const struct h6 *h)
{
	struct ust_zone_stats z;
	struct ust_mem m;
	unsigned i;

	ust_stack_get_mem(h->t.st, &m);
	CHECK(m.limit == 0 || m.in_use <= m.limit);
	for (i = 0; ust_stack_get_zone_stats(h->t.st, i, &z) == 0; i++)
		if (z.max != 0 && z.in_use > z.max) {
			fprintf(stderr, "zone %s: %u in use, max %u\n", z.name ? z.name : "?",
			    z.in_use, z.max);
			CHECK(z.in_use <= z.max);
		}
}

static uint32_t
h6_zone_in_use(const struct h6 *h, const char *name)
{
	struct ust_zone_stats z;
	unsigned i;

	for (i = 0; ust_stack_get_zone_stats(h->t.st, i, &z) == 0; i++)
		if (z.name != NULL && strcmp(z.name, name) == 0)
			return (z.in_use);
	return (0);
}

/* The stack still serves: an echo request is answered; the established
 * connection carries data both ways; a new connection is accepted. */
static void
h6_alive(struct h6 *h)
{
	struct ust_socket *so2 = NULL;
	uint32_t ps, os;
	struct tl_pkt6 p;
	uint8_t f[1600];
	char b[16];
	int i, got;

	h6_mem_ok(h);
	h6_skip(h);
	h->echoseq++;
	h6_inject(h, f, h6_echo(h, f, h->ours, NULL, 0, 64));
	CHECK(h6_replied(h));
	if (!h->tcp)
		return;
	if (!h->dead) {
		CHECK_EQ(tt_state(h->so), UST_TCPS_ESTABLISHED);
		CHECK_EQ(tt_soerror(h->so), 0);
		h6_skip(h);
		h6_inject(h, f,
		    h6_tcp_frame(h, f, H6_PPORT, T6_ACK | T6_PSH, h->pseq, h->oseq, "ping!", 5));
		h->pseq += 5;
		CHECK_EQ(ust_recv(h->so, b, sizeof(b), 0), 5);
		CHECK_MEM(b, "ping!", 5);
		CHECK_EQ(ust_send(h->so, "pong", 4, 0), 4);
		ipt_poll(&h->t);
		got = 0;
		for (i = 0; i < h->t.d->tx_count && !got; i++)
			got = tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], &p) == 0 &&
			    p.proto == 6 && p.dport == H6_PPORT && p.dlen == 4 &&
			    p.seq == h->oseq && p.ack == h->pseq &&
			    memcmp(p.data, "pong", 4) == 0 && p.l4sum_ok;
		CHECK(got);
		h->oseq += 4;
		h6_inject(h, f, h6_tcp_frame(h, f, H6_PPORT, T6_ACK, h->pseq, h->oseq, NULL, 0));
	}
	CHECK(h6_connect(h, h->nextport, &so2, &ps, &os));
	if (so2 != NULL) {
		h6_inject(h, f, h6_tcp_frame(h, f, h->nextport, T6_RST, ps, 0, NULL, 0));
		ust_close(so2);
	}
	h->nextport++;
	h6_skip(h);
}

/* The ICMPv6 error sent since the last h6_skip (type, code, pointer),
 * to the peer, quoting the start of the invoking packet. */
static int
h6_error_sent(const struct h6 *h, uint8_t type, uint8_t code, uint32_t rest)
{
	struct tl_pkt6 p;

	if (!h6_find(h, TL_IPPROTO_ICMPV6, type, &p))
		return (0);
	CHECK_EQ(p.icmp_code, code);
	CHECK_EQ(p.icmp_rest, rest);
	CHECK(memcmp(p.dst, h->peer, 16) == 0);
	CHECK(p.l4sum_ok);
	CHECK(p.dlen >= 40 && (p.data[0] >> 4) == 6); /* the quote starts at its IPv6 header */
	CHECK(p.avail <= TL_IP6_MINMTU);
	return (1);
}

/* ---- extension headers (RFC 8200 4, RFC 5095) --------------------------- */

enum xact { X_REPLY, X_SILENT, X_PARAM };

struct xrow {
	const char *name;
	int mcast;   /* to ff02::1 instead of ours */
	int shape;   /* see xbuild */
	uint8_t opt; /* option type for the option shapes */
	enum xact act;
	uint8_t code; /* X_PARAM: the Parameter Problem code */
	uint32_t ptr; /* X_PARAM: its pointer */
	size_t off;   /* ip6stat counter that must move by one, or SIZE_MAX */
	size_t icmpo; /* icmp6stat output counter for X_PARAM */
};

enum { S_DSTOPT, S_HBHOPT, S_HBH_NOT_FIRST, S_RH0_SL2, S_RH0_SL0, S_CHAIN20, S_CHAIN10, S_NXT253 };

#define IP6OFF(f) offsetof(struct ust_ip6stat, f)
#define ICOFF(f) offsetof(struct ust_icmp6stat, f)
#define X_NONE SIZE_MAX

static const struct xrow xrows[] = {
	/* RFC 8200 4.2: the two high bits of an unknown option's type. */
	{ "dstopt_00_skip", 0, S_DSTOPT, 0x1e, X_REPLY, 0, 0, X_NONE, X_NONE },
	{ "dstopt_01_discard", 0, S_DSTOPT, 0x5e, X_SILENT, 0, 0, IP6OFF(ip6s_badoptions), X_NONE },
	{ "dstopt_10_icmp", 0, S_DSTOPT, 0x9e, X_PARAM, 2, 42, IP6OFF(ip6s_badoptions),
	    ICOFF(icp6s_oparamprob_option) },
	{ "dstopt_10_icmp_to_multicast", 1, S_DSTOPT, 0x9e, X_PARAM, 2, 42, IP6OFF(ip6s_badoptions),
	    ICOFF(icp6s_oparamprob_option) },
	{ "dstopt_11_icmp_unicast", 0, S_DSTOPT, 0xde, X_PARAM, 2, 42, IP6OFF(ip6s_badoptions),
	    ICOFF(icp6s_oparamprob_option) },
	{ "dstopt_11_to_multicast_silent", 1, S_DSTOPT, 0xde, X_SILENT, 0, 0,
	    IP6OFF(ip6s_badoptions), X_NONE },
	{ "hbhopt_00_skip", 0, S_HBHOPT, 0x1e, X_REPLY, 0, 0, X_NONE, X_NONE },
	{ "hbhopt_01_discard", 0, S_HBHOPT, 0x5e, X_SILENT, 0, 0, IP6OFF(ip6s_badoptions), X_NONE },
	{ "hbhopt_10_icmp", 0, S_HBHOPT, 0x9e, X_PARAM, 2, 42, IP6OFF(ip6s_badoptions),
	    ICOFF(icp6s_oparamprob_option) },
	/* RFC 8200 4.1: hop-by-hop only right after the IPv6 header; the
	 * pointer names the next-header field that says 0 (the dst opts'). */
	{ "hbh_not_first", 0, S_HBH_NOT_FIRST, 0, X_PARAM, 1, 40, IP6OFF(ip6s_hbhnotfirst),
	    ICOFF(icp6s_oparamprob_nextheader) },
	/* RFC 5095 3 + RFC 8200 4.4: an unrecognised routing type; segments
	 * left: Parameter Problem at the routing type; none left: ignored. */
	{ "rh0_segleft_2", 0, S_RH0_SL2, 0, X_PARAM, 0, 42, IP6OFF(ip6s_rh0),
	    ICOFF(icp6s_oparamprob_header) },
	{ "rh0_segleft_0", 0, S_RH0_SL0, 0, X_REPLY, 0, 0, X_NONE, X_NONE },
	/* net.inet6.ip6.hdrnestlimit 15 */
	{ "chain_20_dstopts", 0, S_CHAIN20, 0, X_SILENT, 0, 0, IP6OFF(ip6s_toomanyhdr), X_NONE },
	{ "chain_10_dstopts", 0, S_CHAIN10, 0, X_REPLY, 0, 0, X_NONE, X_NONE },
	/* RFC 8200 4: an unrecognised next header, pointer at the IPv6
	 * header's next-header field. */
	{ "next_header_253", 0, S_NXT253, 0, X_PARAM, 1, 6, X_NONE,
	    ICOFF(icp6s_oparamprob_nextheader) },
};

static size_t
xbuild(struct h6 *h, const struct xrow *r, uint8_t *f)
{
	const uint8_t *dst = r->mcast ? h->allnodes : h->ours;
	struct tl_ext6 ext[20];
	uint8_t opts[8], rh[4 + 2 * 16], addrs[2][16];
	struct tl_ip6 ih;
	size_t olen, len;
	unsigned i, n = 0;

	memset(ext, 0, sizeof(ext));
	olen = tl_opt6(opts, r->opt, "\0\0\0\0", 4);
	switch (r->shape) {
	case S_DSTOPT:
	case S_HBHOPT:
		ext[0].type = r->shape == S_DSTOPT ? TL_IPPROTO_DSTOPTS : TL_IPPROTO_HOPOPTS;
		ext[0].data = opts;
		ext[0].len = olen;
		n = 1;
		break;
	case S_HBH_NOT_FIRST:
		ext[0].type = TL_IPPROTO_DSTOPTS;
		ext[1].type = TL_IPPROTO_HOPOPTS;
		n = 2;
		break;
	case S_RH0_SL2:
	case S_RH0_SL0:
		tl_in6(addrs[0], "2001:2::7");
		tl_in6(addrs[1], "2001:2::8");
		ext[0].type = TL_IPPROTO_ROUTING;
		ext[0].rh_type = 0;
		ext[0].segleft = r->shape == S_RH0_SL2 ? 2 : 0;
		ext[0].len = tl_rh0_data(rh, (const uint8_t(*)[16])addrs, 2);
		ext[0].data = rh;
		n = 1;
		break;
	case S_CHAIN20:
	case S_CHAIN10:
		n = r->shape == S_CHAIN20 ? 20 : 10;
		for (i = 0; i < n; i++)
			ext[i].type = TL_IPPROTO_DSTOPTS;
		break;
	case S_NXT253:
		memset(&ih, 0, sizeof(ih));
		ih.nxt = 253;
		ih.hlim = 64;
		ih.src = h->peer;
		ih.dst = dst;
		return (tl_frame6(f, ipt_mac_ours, ipt_mac_peer, &ih, NULL, 0, "12345678", 8));
	default:
		break;
	}
	len = h6_echo(h, f, dst, ext, n, 64);
	return (len);
}

TEST(hostile_ip6_ext_headers)
{
	size_t i;

	for (i = 0; i < sizeof(xrows) / sizeof(xrows[0]); i++) {
		const struct xrow *r = &xrows[i];
		struct ust_ip6stat s6;
		struct ust_icmp6stat si;
		uint8_t f[1024];
		uint64_t a, b;
		struct h6 h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(h6_init(&h, ust_test_seed));
		h.echoseq = (uint16_t)(100 + i);
		h6_inject(&h, f, xbuild(&h, r, f));
		switch (r->act) {
		case X_REPLY:
			CHECK(h6_replied(&h));
			break;
		case X_SILENT:
			CHECK(h6_quiet(&h));
			break;
		case X_PARAM:
			CHECK(h6_error_sent(&h, TL_ICMP6_PARAM_PROB, r->code, r->ptr));
			CHECK(!h6_replied(&h));
			break;
		}
		if (r->off != X_NONE) {
			s6 = h6_ip6(&h);
			memcpy(&a, (const uint8_t *)&s6 + r->off, 8);
			memcpy(&b, (const uint8_t *)&h.ip6 + r->off, 8);
			CHECK_EQ(a - b, 1);
		}
		if (r->icmpo != X_NONE) {
			si = h6_icmp6(&h);
			memcpy(&a, (const uint8_t *)&si + r->icmpo, 8);
			memcpy(&b, (const uint8_t *)&h.icmp6 + r->icmpo, 8);
			CHECK_EQ(a - b, 1);
		}
		if (r->act != X_REPLY)
			CHECK_EQ(H6_DI(&h, icp6s_inhist[TL_ICMP6_ECHO_REQUEST]), 0);
		h6_alive(&h);
		h6_fini(&h);
		HS_ROW_END();
	}
}

/* ---- fragments (RFC 8200 4.5, RFC 5722, RFC 6946, RFC 7112) ------------- */

/* An 800-byte echo request (IPv6 header + 8 + 792), id 0x6606 seq. */
static size_t
frag_pkt(const struct h6 *h, uint8_t *pkt, uint16_t seq, size_t dlen)
{
	struct tl_ip6 ih = { 0, 0, TL_IPPROTO_ICMPV6, 64, h->peer, h->ours };
	uint8_t data[1400];
	size_t i, n;

	for (i = 0; i < dlen; i++)
		data[i] = (uint8_t)(i * 7);
	n = tl_icmp6_echo(pkt + 40, h->peer, h->ours, 0, 0x6606, seq, data, dlen);
	return (tl_ip6(pkt, &ih, n) + n);
}

struct fragrow {
	const char *name;
	int n;
	struct {
		uint32_t off, len;
		int more;
	} fr[3];
	enum xact act;
	uint8_t code;
	uint32_t ptr;
	size_t off; /* ip6stat counter that must move by one, or X_NONE */
};

static const struct fragrow fragrows[] = {
	{ "in_order", 2, { { 0, 400, 1 }, { 400, 400, 0 } }, X_REPLY, 0, 0,
	    IP6OFF(ip6s_reassembled) },
	{ "atomic_fragment", 1, { { 0, 800, 0 } }, X_REPLY, 0, 0, IP6OFF(ip6s_atomicfrags) },
	/* RFC 5722: any overlap drops the whole datagram, silently. */
	{ "overlap_head", 2, { { 0, 400, 1 }, { 320, 480, 0 } }, X_SILENT, 0, 0,
	    IP6OFF(ip6s_fragoverlap) },
	{ "overlap_inside", 3, { { 0, 400, 1 }, { 8, 16, 1 }, { 400, 400, 0 } }, X_SILENT, 0, 0,
	    IP6OFF(ip6s_fragoverlap) },
	{ "overlap_tail", 3, { { 400, 400, 0 }, { 392, 16, 1 }, { 0, 392, 1 } }, X_SILENT, 0, 0,
	    IP6OFF(ip6s_fragoverlap) },
	/* RFC 8200 4.5: M set and a length not a multiple of 8: Parameter
	 * Problem at the payload length. */
	{ "tiny_unaligned_more", 1, { { 0, 100, 1 } }, X_PARAM, 0, 4, X_NONE },
	{ "tiny_4_bytes_more", 1, { { 0, 4, 1 } }, X_PARAM, 0, 4, X_NONE },
	/* ... and one that would end past 65535: at the fragment offset. */
	{ "offset_past_65535", 1, { { 65528, 16, 0 } }, X_PARAM, 0, 42, X_NONE },
};

TEST(hostile_ip6_fragments)
{
	size_t i;
	int k;

	for (i = 0; i < sizeof(fragrows) / sizeof(fragrows[0]); i++) {
		const struct fragrow *r = &fragrows[i];
		static uint8_t pkt[70000];
		struct ust_ip6stat s6;
		uint8_t f[1600];
		uint64_t a, b;
		size_t plen, len;
		struct h6 h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(h6_init(&h, ust_test_seed));
		h.echoseq = (uint16_t)(200 + i);
		plen = frag_pkt(&h, pkt, h.echoseq, 792);
		if (r->fr[0].off + r->fr[0].len > 800) {
			/* Past 65535: a fragmentable part long enough for the
			 * builder to take the offset. */
			memset(pkt + plen, 0, 65600 - plen);
			plen = 65600;
		}
		for (k = 0; k < r->n; k++) {
			len = tl_frag6(f, ipt_mac_ours, ipt_mac_peer, pkt, plen, 40,
			    0x5150u + (uint32_t)i, r->fr[k].off, r->fr[k].len, r->fr[k].more);
			REQUIRE(len > 0);
			h6_inject(&h, f, len);
		}
		switch (r->act) {
		case X_REPLY:
			CHECK(h6_replied(&h));
			break;
		case X_SILENT:
			CHECK(!h6_replied(&h));
			CHECK(h6_quiet(&h));
			break;
		case X_PARAM:
			CHECK(h6_error_sent(&h, TL_ICMP6_PARAM_PROB, r->code, r->ptr));
			CHECK_EQ(H6_DI(&h, icp6s_oparamprob_header), 1);
			break;
		}
		if (r->off != X_NONE) {
			s6 = h6_ip6(&h);
			memcpy(&a, (const uint8_t *)&s6 + r->off, 8);
			memcpy(&b, (const uint8_t *)&h.ip6 + r->off, 8);
			CHECK_EQ(a - b, 1);
		}
		CHECK(H6_D6(&h, ip6s_fragments) >= 1);
		/* What is left times out (RFC 8200 4.5: 60 s) and is freed. */
		h.t.d->tx_discard = 1;
		ipt_advance(&h.t, 61000 * IPT_MS);
		h.t.d->tx_discard = 0;
		h6_alive(&h);
		h6_fini(&h);
		HS_ROW_END();
	}
}

/* RFC 7112: a first fragment without the whole header chain (a 64-byte
 * destination options header cut at 48 bytes) is dropped and counted; a
 * Parameter Problem, if any, has code 3. */
TEST(hostile_ip6_first_fragment_without_chain)
{
	static uint8_t pkt[2048];
	struct tl_ip6 ih;
	struct tl_ext6 ext;
	uint8_t pad[62], f[1600], icmp[256];
	struct tl_pkt6 p;
	size_t plen, n, unfrag;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	h.echoseq = 300;
	memset(&ext, 0, sizeof(ext));
	ext.type = TL_IPPROTO_DSTOPTS;
	ext.len = tl_opt6_pad(pad, sizeof(pad));
	ext.data = pad;
	memset(&ih, 0, sizeof(ih));
	ih.nxt = TL_IPPROTO_ICMPV6;
	ih.hlim = 64;
	ih.src = h.peer;
	ih.dst = h.ours;
	n = tl_icmp6_echo(icmp, h.peer, h.ours, 0, 0x6606, h.echoseq, pkt, 200);
	plen = tl_frame6(f, ipt_mac_ours, ipt_mac_peer, &ih, &ext, 1, icmp, n) - 14;
	memcpy(pkt, f + 14, plen);
	unfrag = tl_frag6_unfrag(pkt, plen);
	CHECK_EQ(unfrag, 40);
	h6_inject(&h, f, tl_frag6(f, ipt_mac_ours, ipt_mac_peer, pkt, plen, unfrag, 77, 0, 48, 1));
	h6_inject(&h, f,
	    tl_frag6(f, ipt_mac_ours, ipt_mac_peer, pkt, plen, unfrag, 77, 48, plen - 40 - 48, 0));
	CHECK(!h6_replied(&h));
	CHECK_EQ(H6_D6(&h, ip6s_fraghdrchain), 1);
	if (h6_find(&h, TL_IPPROTO_ICMPV6, TL_ICMP6_PARAM_PROB, &p))
		CHECK_EQ(p.icmp_code, 3);
	h.t.d->tx_discard = 1;
	ipt_advance(&h.t, 61000 * IPT_MS);
	h.t.d->tx_discard = 0;
	h6_alive(&h);
	h6_fini(&h);
}

/* Reassembly is bounded: 2000 first fragments of distinct datagrams, then
 * 100 8-byte fragments of one datagram (maxfragsperpacket 64): the
 * queues overflow (counted), none is reassembled, memory stays within
 * its limits (zone frag6_q at most maxfragpackets), and after the 60 s
 * timeout the mbufs are back and the frag6 zones empty. */
TEST(hostile_ip6_fragment_flood)
{
	static uint8_t pkt[2048];
	uint8_t f[1600];
	uint32_t mbufs0, clusters0;
	size_t plen;
	unsigned k;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	mbufs0 = h6_zone_in_use(&h, "mbuf");
	clusters0 = h6_zone_in_use(&h, "mbuf_cluster");
	plen = frag_pkt(&h, pkt, 400, 792);
	h.t.d->tx_discard = 1;
	for (k = 0; k < 2000; k++)
		h6_inject(&h, f,
		    tl_frag6(f, ipt_mac_ours, ipt_mac_peer, pkt, plen, 40, 0x10000u + k, 0, 64, 1));
	h6_mem_ok(&h);
	CHECK(h6_zone_in_use(&h, "frag6_q") <= 1024); /* net.inet6.ip6.maxfragpackets */
	CHECK(H6_D6(&h, ip6s_fragoverflow) + H6_D6(&h, ip6s_fragdropped) >= 2000 - 1024);
	plen = frag_pkt(&h, pkt, 401, 792);
	for (k = 0; k < 100; k++)
		h6_inject(&h, f,
		    tl_frag6(f, ipt_mac_ours, ipt_mac_peer, pkt, plen, 40, 0x7777u, 8 * k, 8, 1));
	h6_mem_ok(&h);
	CHECK_EQ(H6_D6(&h, ip6s_reassembled), 0);
	ipt_advance(&h.t, 61000 * IPT_MS);
	h.t.d->tx_discard = 0;
	CHECK(H6_D6(&h, ip6s_fragtimeout) + H6_D6(&h, ip6s_fragoverflow) +
	        H6_D6(&h, ip6s_fragdropped) >=
	    2100);
	CHECK(h6_zone_in_use(&h, "mbuf") <= mbufs0);
	CHECK_EQ(h6_zone_in_use(&h, "frag6_q"), 0);
	CHECK_EQ(h6_zone_in_use(&h, "frag6_frag"), 0);
	CHECK(h6_zone_in_use(&h, "mbuf_cluster") <= clusters0);
	h6_alive(&h);
	h6_fini(&h);
}

/* ---- Neighbor Discovery (RFC 4861) --------------------------------------- */

static unsigned
h6_nd6_count(const struct h6 *h)
{
	struct ust_nd6_entry e;
	unsigned i;

	for (i = 0; ust_nd6_get(h->t.st, i, &e) == 0; i++)
		;
	return (i);
}

static int
h6_has_neighbor(const struct h6 *h, const uint8_t a[16])
{
	struct ust_nd6_entry e;
	struct ust_in6_addr x;

	memcpy(x.s6_addr8, a, 16);
	return (ust_nd6_lookup(h->t.st, &x, 0, &e) == 0);
}

static unsigned
h6_autoconf_count(const struct h6 *h)
{
	struct ust_in6_addr a;
	unsigned i, plen, flags, n = 0;

	for (i = 0; ust_if_addr6_get(h->t.ifp, i, &a, &plen, &flags) == 0; i++)
		if (flags & UST_IN6_IFF_AUTOCONF)
			n++;
	return (n);
}

/* An ND message from src (a MAC of the 02:00:00:00:01:xx family) with
 * hop limit hlim, built by the caller at pl. */
static size_t
nd_frame(uint8_t *f, const uint8_t *smac, const uint8_t *src, const uint8_t *dst,
    const uint8_t *dmac, uint8_t hlim, const uint8_t *pl, size_t plen)
{
	struct tl_ip6 ih = { 0, 0, TL_IPPROTO_ICMPV6, hlim, src, dst };

	return (tl_frame6(f, dmac, smac, &ih, NULL, 0, pl, plen));
}

/* RFC 4861 7.1.1, 7.1.2, 6.1.2: NS, NA and RA with a hop limit other than
 * 255 came through a router: dropped, counted in icp6s_invlhlim, no state
 * from them.  (FreeBSD also counts icp6s_badns/badna/badra there.) */
TEST(hostile_ip6_nd_hop_limit)
{
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 1, 7 };
	uint8_t other[16], ll[16], sol[16], solmac[6], pfx[16], opts[64], pl[256], f[512];
	struct tl_ra ra = { 64, 0, 1800, 0, 0 };
	struct tl_pkt6 p;
	size_t n, on;
	uint8_t hlim;
	struct h6 h;

	tl_in6(other, "2001:2::7");
	tl_in6(ll, "fe80::7");
	tl_in6(pfx, "2001:2:0:9::");
	for (hlim = 254; hlim != 0; hlim = hlim == 254 ? 64 : 0) {
		HS_ROW_BEGIN(hlim == 254 ? "hlim_254" : "hlim_64");

		REQUIRE(h6_init(&h, ust_test_seed));
		tl_in6_solnode(sol, h.ours);
		tl_in6_mcast_mac(solmac, sol);
		/* NS for our address from a new neighbor, with its SLLAO. */
		on = tl_nd_opt_lla(opts, TL_ND_OPT_SLLA, smac);
		n = tl_nd_ns(pl, other, sol, h.ours, opts, on);
		h6_inject(&h, f, nd_frame(f, smac, other, sol, solmac, hlim, pl, n));
		CHECK(!h6_find(&h, TL_IPPROTO_ICMPV6, TL_ND_NEIGHBOR_ADVERT, &p));
		CHECK(!h6_has_neighbor(&h, other));
		CHECK_EQ(H6_DI(&h, icp6s_invlhlim), 1);
		/* A solicited NA for the peer (a static entry: no change). */
		on = tl_nd_opt_lla(opts, TL_ND_OPT_TLLA, smac);
		n = tl_nd_na(pl, other, h.ours, TL_NA_SOLICITED | TL_NA_OVERRIDE, other, opts, on);
		h6_inject(&h, f, nd_frame(f, smac, other, h.ours, ipt_mac_ours, hlim, pl, n));
		CHECK(!h6_has_neighbor(&h, other));
		CHECK_EQ(H6_DI(&h, icp6s_invlhlim), 2);
		/* An RA with a prefix: no address, no router. */
		on = tl_nd_opt_lla(opts, TL_ND_OPT_SLLA, smac);
		on += tl_nd_opt_prefix(opts + on, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 7200, 3600);
		n = tl_nd_ra(pl, ll, h.allnodes, &ra, opts, on);
		h6_inject(&h, f, nd_frame(f, smac, ll, h.allnodes, h6_mac_allnodes, hlim, pl, n));
		ipt_advance(&h.t, 100 * IPT_MS);
		CHECK_EQ(h6_autoconf_count(&h), 0);
		CHECK(!h6_has_neighbor(&h, ll));
		CHECK_EQ(H6_DI(&h, icp6s_invlhlim), 3);
		h6_alive(&h);
		h6_fini(&h);
		HS_ROW_END();
	}
}

/* RFC 4861 7.2.5: an unsolicited NA for a target without an entry is
 * discarded: 200 of them (O flag, TLLAO) create nothing and send nothing;
 * each is counted in the input histogram. */
TEST(hostile_ip6_unsolicited_na_unknown_targets)
{
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 1, 8 };
	uint8_t target[16], opts[16], pl[128], f[256];
	unsigned k, before;
	size_t n, on;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	before = h6_nd6_count(&h);
	on = tl_nd_opt_lla(opts, TL_ND_OPT_TLLA, smac);
	for (k = 0; k < 200; k++) {
		tl_in6(target, "2001:2::1:0");
		target[14] = (uint8_t)(k >> 8);
		target[15] = (uint8_t)k;
		n = tl_nd_na(pl, target, h.allnodes, TL_NA_OVERRIDE, target, opts, on);
		h6_inject(&h, f,
		    nd_frame(f, smac, target, h.allnodes, h6_mac_allnodes, 255, pl, n));
		CHECK(!h6_has_neighbor(&h, target));
	}
	CHECK(h6_quiet(&h));
	CHECK_EQ(h6_nd6_count(&h), before);
	CHECK_EQ(H6_DI(&h, icp6s_inhist[TL_ND_NEIGHBOR_ADVERT]), 200);
	CHECK_EQ(H6_DI(&h, icp6s_badna), 0);
	h6_alive(&h);
	h6_fini(&h);
}

/* RAs with 405 prefixes: the prefix list is bounded by
 * net.inet6.ip6.maxifprefixes (overflows counted in icp6s_overflowprfx),
 * so are the addresses formed from them, and memory.  An RA carries at
 * most 10 options that count (FreeBSD's nd6_maxndopt): 45 RAs of an
 * SLLAO and 9 prefixes each, then one with 44 prefixes, whose excess is
 * counted in icp6s_nd_toomanyopt. */
static size_t
ra_prefixes(const struct h6 *h, uint8_t *f, const uint8_t *ll, const uint8_t *smac, unsigned r,
    unsigned count)
{
	struct tl_ra ra = { 64, 0, 1800, 0, 0 };
	uint8_t pfx[16], opts[1500], pl[1500];
	size_t n, on;
	unsigned k;

	on = tl_nd_opt_lla(opts, TL_ND_OPT_SLLA, smac);
	for (k = 0; k < count; k++) {
		tl_in6(pfx, "2001:2::");
		pfx[6] = (uint8_t)(r + 1);
		pfx[7] = (uint8_t)k;
		on += tl_nd_opt_prefix(opts + on, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 7200, 3600);
	}
	n = tl_nd_ra(pl, ll, h->allnodes, &ra, opts, on);
	return (nd_frame(f, smac, ll, h->allnodes, h6_mac_allnodes, 255, pl, n));
}

TEST(hostile_ip6_ra_prefix_flood)
{
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 1, 9 };
	uint8_t ll[16], f[1600];
	int64_t maxpfx = 16;
	size_t len;
	unsigned r;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	(void)ust_sysctl_get(h.t.st, "net.inet6.ip6.maxifprefixes", &maxpfx);
	tl_in6(ll, "fe80::9");
	h.t.d->tx_discard = 1;
	for (r = 0; r < 45; r++) {
		h6_inject(&h, f, ra_prefixes(&h, f, ll, smac, r, 9));
		ipt_advance(&h.t, 10 * IPT_MS);
		h6_mem_ok(&h);
	}
	ipt_advance(&h.t, 2000 * IPT_MS);
	CHECK_EQ(H6_DI(&h, icp6s_badra), 0);
	CHECK_EQ(H6_DI(&h, icp6s_nd_toomanyopt), 0);
	CHECK(h6_autoconf_count(&h) >= 1);
	CHECK(h6_autoconf_count(&h) <= (unsigned)maxpfx);
	CHECK(H6_DI(&h, icp6s_overflowprfx) >= 405 - maxpfx);
	len = ra_prefixes(&h, f, ll, smac, 100, 44);
	REQUIRE(len <= 1514);
	h6_inject(&h, f, len);
	CHECK_EQ(H6_DI(&h, icp6s_nd_toomanyopt), 1);
	h.t.d->tx_discard = 0;
	CHECK(h6_autoconf_count(&h) <= (unsigned)maxpfx);
	h6_mem_ok(&h);
	h6_alive(&h);
	h6_fini(&h);
}

/* RAs from 100 routers: the default router list is bounded by
 * net.inet6.ip6.maxifdefrouters, overflows counted. */
TEST(hostile_ip6_ra_router_flood)
{
	uint8_t ll[16], smac[6] = { 0x02, 0, 0, 0, 2, 0 }, opts[16], pl[128], f[256];
	struct tl_ra ra = { 64, 0, 1800, 0, 0 };
	int64_t maxrtr = 16;
	unsigned k;
	size_t n, on;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	(void)ust_sysctl_get(h.t.st, "net.inet6.ip6.maxifdefrouters", &maxrtr);
	h.t.d->tx_discard = 1;
	for (k = 0; k < 100; k++) {
		tl_in6(ll, "fe80::100");
		ll[15] = (uint8_t)k;
		smac[5] = (uint8_t)k;
		on = tl_nd_opt_lla(opts, TL_ND_OPT_SLLA, smac);
		n = tl_nd_ra(pl, ll, h.allnodes, &ra, opts, on);
		h6_inject(&h, f, nd_frame(f, smac, ll, h.allnodes, h6_mac_allnodes, 255, pl, n));
	}
	h.t.d->tx_discard = 0;
	h6_mem_ok(&h);
	CHECK_EQ(H6_DI(&h, icp6s_badra), 0);
	CHECK(H6_DI(&h, icp6s_overflowdefrtr) >= 100 - maxrtr);
	h6_alive(&h);
	h6_fini(&h);
}

/* ---- ICMPv6 errors quoting our connection (RFC 8201, RFC 5927) ---------- */

/* Our 100 bytes in flight (unacknowledged), so that a quote can name a
 * sequence number inside snd_una..snd_max; returns the segment's bytes
 * from its IPv6 header into seg. */
static size_t
h6_in_flight(struct h6 *h, uint8_t *seg)
{
	static const char data[100] = "in flight";
	struct tl_pkt6 p;
	int i;

	h6_skip(h);
	CHECK_EQ(ust_send(h->so, data, sizeof(data), 0), 100);
	ipt_poll(&h->t);
	for (i = 0; i < h->t.d->tx_count; i++)
		if (tl_parse6(h->t.d->tx[i], h->t.d->tx_len[i], &p) == 0 && p.proto == 6 &&
		    p.dlen == 100 && p.seq == h->oseq) {
			memcpy(seg, p.ip6, p.avail);
			return (p.avail);
		}
	CHECK(0);
	return (0);
}

/* The peer acknowledges the 100 bytes. */
static void
h6_ack_flight(struct h6 *h)
{
	uint8_t f[256];

	h->oseq += 100;
	h6_inject(h, f, h6_tcp_frame(h, f, H6_PPORT, T6_ACK, h->pseq, h->oseq, NULL, 0));
	h6_skip(h);
}

/* An ICMPv6 error from a router on the path (2001:2::fe, via the peer's
 * MAC) quoting seg with its TCP sequence number replaced by seq. */
static size_t
h6_icmp_err(const struct h6 *h, uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, uint8_t *seg,
    size_t seglen, uint32_t seq)
{
	struct tl_ip6 ih = { 0, 0, TL_IPPROTO_ICMPV6, 64, NULL, h->ours };
	uint8_t rtr[16], pl[1400];
	size_t n;

	tl_in6(rtr, "2001:2::fe");
	ih.src = rtr;
	tl_put32(seg + 40 + 4, seq);
	n = tl_icmp6_error(pl, rtr, h->ours, type, code, rest, seg, seglen);
	return (tl_frame6(f, ipt_mac_ours, ipt_mac_peer, &ih, NULL, 0, pl, n));
}

static uint32_t
h6_path_mtu(const struct h6 *h)
{
	struct ust_route6_info ri;
	struct ust_in6_addr a;

	memcpy(a.s6_addr8, h->peer, 16);
	if (ust_route6_lookup(h->t.st, &a, 0, &ri) != 0)
		return (0);
	return (ri.mtu);
}

static uint32_t
h6_snd_mss(const struct h6 *h)
{
	struct ust_tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	if (tt_info(h->so, &ti) != 0)
		return (0);
	return (ti.tcpi_snd_mss);
}

/* RFC 8201 4: a Packet Too Big below 1280 "must" be discarded: the path
 * MTU and the connection's MSS stay (counted in icp6s_ptbsmall).  One of
 * 1400 that quotes a sequence number outside snd_una..snd_max leaves the
 * connection's MSS alone (RFC 5927 7.2; the path MTU cache is not judged
 * there: FreeBSD's icmp6_notify_error updates it before the transport
 * looks).  One of 1400 that quotes our data in flight lowers both
 * (icp6s_pmtuchg, MSS 1400 - 60). */
TEST(hostile_ip6_packet_too_big)
{
	static const struct {
		const char *name;
		uint32_t mtu;
		int seqok;
		int pmtu_judged;
		uint32_t want; /* path MTU afterwards; 0: unchanged */
	} rows[] = {
		{ "ptb_1000", 1000, 1, 1, 0 },
		{ "ptb_0", 0, 1, 1, 0 },
		{ "ptb_1400_wrong_seq", 1400, 0, 0, 0 },
		{ "ptb_1400", 1400, 1, 1, 1400 },
	};
	uint8_t seg[1600], f[1600];
	uint32_t mtu0, mss0;
	size_t i, n;
	struct h6 h;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		HS_ROW_BEGIN(rows[i].name);
		REQUIRE(h6_init(&h, ust_test_seed));
		if (!h.tcp) {
			fprintf(stderr, "no TCP over IPv6 yet: %s\n", rows[i].name);
			CHECK(h.tcp);
			h6_fini(&h);
			return;
		}
		mtu0 = h6_path_mtu(&h);
		mss0 = h6_snd_mss(&h);
		n = h6_in_flight(&h, seg);
		REQUIRE(n > 0);
		h6_skip(&h);
		h6_inject(&h, f,
		    h6_icmp_err(&h, f, TL_ICMP6_PACKET_TOO_BIG, 0, rows[i].mtu, seg, n,
		        rows[i].seqok ? h.oseq : h.oseq + 100000u));
		CHECK_EQ(H6_DI(&h, icp6s_inhist[TL_ICMP6_PACKET_TOO_BIG]), 1);
		if (rows[i].want == 0) {
			CHECK_EQ(h6_snd_mss(&h), mss0);
			CHECK(h6_quiet(&h)); /* no resend */
			if (rows[i].pmtu_judged) {
				CHECK_EQ(h6_path_mtu(&h), mtu0);
				CHECK_EQ(H6_DI(&h, icp6s_pmtuchg), 0);
			}
			if (rows[i].mtu < 1280)
				CHECK_EQ(H6_DI(&h, icp6s_ptbsmall), 1);
		} else {
			CHECK_EQ(h6_path_mtu(&h), rows[i].want);
			CHECK_EQ(H6_DI(&h, icp6s_pmtuchg), 1);
			CHECK_EQ(h6_snd_mss(&h), rows[i].want - 60);
		}
		CHECK(h6_path_mtu(&h) == 0 || h6_path_mtu(&h) >= 1280);
		h6_ack_flight(&h);
		h6_alive(&h);
		h6_fini(&h);
		HS_ROW_END();
	}
}

/* RFC 5927 4.1 / RFC 4443: errors quoting our connection with a sequence
 * number outside snd_una..snd_max are ignored (each counted in the ICMPv6
 * input histogram): the connection stays established without a socket
 * error; in-window ones of the same kinds are soft errors for an
 * established connection and do not end it either. */
TEST(hostile_ip6_icmp_errors_wrong_seq)
{
	static const struct {
		const char *name;
		uint8_t type, code;
	} rows[] = {
		{ "unreach_noroute", TL_ICMP6_DST_UNREACH, 0 },
		{ "unreach_admin", TL_ICMP6_DST_UNREACH, 1 },
		{ "unreach_addr", TL_ICMP6_DST_UNREACH, 3 },
		{ "unreach_port", TL_ICMP6_DST_UNREACH, 4 },
		{ "time_exceeded", TL_ICMP6_TIME_EXCEEDED, 0 },
		{ "paramprob_nextheader", TL_ICMP6_PARAM_PROB, 1 },
	};
	static const uint32_t off[] = { 100000u, 0x80000000u, (uint32_t)-1, 100 };
	uint8_t seg[1600], f[1600];
	size_t i, j, n;
	struct h6 h;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		HS_ROW_BEGIN(rows[i].name);
		REQUIRE(h6_init(&h, ust_test_seed));
		if (!h.tcp) {
			fprintf(stderr, "no TCP over IPv6 yet: %s\n", rows[i].name);
			CHECK(h.tcp);
			h6_fini(&h);
			return;
		}
		n = h6_in_flight(&h, seg);
		REQUIRE(n > 0);
		h6_skip(&h);
		for (j = 0; j < sizeof(off) / sizeof(off[0]); j++)
			h6_inject(&h, f,
			    h6_icmp_err(&h, f, rows[i].type, rows[i].code, 0, seg, n,
			        h.oseq + off[j]));
		CHECK_EQ(H6_DI(&h, icp6s_inhist[rows[i].type]),
		    (long long)(sizeof(off) / sizeof(off[0])));
		CHECK_EQ(tt_state(h.so), UST_TCPS_ESTABLISHED);
		CHECK_EQ(tt_soerror(h.so), 0);
		CHECK(h6_quiet(&h));
		h6_ack_flight(&h);
		h6_alive(&h);
		h6_fini(&h);
		HS_ROW_END();
	}
}

/* ---- UDP over IPv6 (RFC 8200 8.1) ---------------------------------------- */

/* A UDP datagram with checksum 0 (legal over IPv4, not over IPv6) is
 * dropped (udps_nosum), one with a wrong checksum too (udps_badsum); the
 * same datagram with its checksum is delivered. */
TEST(hostile_ip6_udp_checksum)
{
	struct ust_sockaddr_in6 sin6;
	struct ust_socket *u = NULL;
	uint64_t nosum0, badsum0;
	uint8_t f[256];
	char b[32];
	size_t len;
	struct h6 h;

	REQUIRE(h6_init(&h, ust_test_seed));
	REQUIRE_EQ(ust_socket(h.t.st, UST_AF_INET6, UST_SOCK_DGRAM, 0, &u), 0);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_len = sizeof(sin6);
	sin6.sin6_family = UST_AF_INET6;
	sin6.sin6_port = htons(9);
	REQUIRE_EQ(ust_bind(u, (const struct ust_sockaddr *)&sin6, sizeof(sin6)), 0);
	nosum0 = h.t.st->st_udpstat.udps_nosum;
	badsum0 = h.t.st->st_udpstat.udps_badsum;
	len = tl_frame6_udp(f, ipt_mac_ours, ipt_mac_peer, h.peer, h.ours, 5555, 9, "datagram", 8);
	f[14 + 40 + 6] = f[14 + 40 + 7] = 0;
	h6_inject(&h, f, len);
	CHECK_EQ(ust_recv(u, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(h.t.st->st_udpstat.udps_nosum - nosum0, 1);
	len = tl_frame6_udp(f, ipt_mac_ours, ipt_mac_peer, h.peer, h.ours, 5555, 9, "datagram", 8);
	f[14 + 40 + 7] ^= 0x5a;
	h6_inject(&h, f, len);
	CHECK_EQ(ust_recv(u, b, sizeof(b), 0), -UST_EAGAIN);
	CHECK_EQ(h.t.st->st_udpstat.udps_badsum - badsum0, 1);
	CHECK(h6_quiet(&h)); /* no port unreachable for either */
	len = tl_frame6_udp(f, ipt_mac_ours, ipt_mac_peer, h.peer, h.ours, 5555, 9, "datagram", 8);
	h6_inject(&h, f, len);
	CHECK_EQ(ust_recv(u, b, sizeof(b), 0), 8);
	CHECK_MEM(b, "datagram", 8);
	ust_close(u);
	h6_alive(&h);
	h6_fini(&h);
}

#endif /* UST_INET6 */
#endif /* UST_STATS */
