/*
 * test_ip_output.c - ip_output: the header byte for byte (TTL, TOS, DF,
 * ID sequence, addresses, checksum), route and source errors, broadcast
 * permission, fragmentation by the interface MTU (sizes, offsets, MF, the
 * data of each piece), DF -> EMSGSIZE, running out of mbufs half way
 * through (nothing leaks, nothing sent), and two stacks over a pipe
 * exchanging a 4000-byte ICMP echo that is fragmented and reassembled in
 * both directions.
 */
#include <ustack/ustack_pipe.h>

#include "iptest.h"
#include "kern/mbuf.h"
#include "netinet/ip_var.h"

#define PROTO_TEST 253 /* RFC 3692 experimentation */

/* A packet of len bytes (pattern by position) with room for headers. */
static struct mbuf *
payload(struct ust_stack *st, uint32_t len)
{
	uint8_t b[1024];
	struct mbuf *m;
	uint32_t i, off, c;

	m = m_gethdr(&st->st_mbz, MT_DATA);
	if (m == NULL)
		abort();
	m_reserve(m, 64);
	for (off = 0; off < len; off += c) {
		c = len - off < sizeof(b) ? len - off : (uint32_t)sizeof(b);
		for (i = 0; i < c; i++)
			b[i] = (uint8_t)((off + i) * 11 + 5);
		if (m_append(m, c, b) != 0)
			abort();
	}
	return (m);
}

static void
args_init(struct ip_out_args *a, uint32_t dst)
{
	memset(a, 0, sizeof(*a));
	a->dst.s_addr = htonl(dst);
	a->proto = PROTO_TEST;
}

#if UST_STATS
TEST(ip_output_header_bytes)
{
	struct ipt t;
	struct ip_out_args a;
	const uint8_t *ip;
	uint16_t id0;
	uint8_t want[100];
	uint32_t i;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_PEER);
	id0 = t.st->st_ip_id;
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 100), &a), 0);
	a.ttl = 7;
	a.tos = 0x10;
	a.flags = IP_DF;
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 100), &a), 0);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 2);
	for (i = 0; i < 100; i++)
		want[i] = (uint8_t)(i * 11 + 5);
	ip = ipt_tx_ip(&t, 0);
	CHECK(ipt_tx_ipok(&t, 0));
	CHECK_MEM(t.d->tx[0], ipt_mac_peer, 6);
	CHECK_MEM(t.d->tx[0] + 6, ipt_mac_ours, 6);
	CHECK_EQ(ip[1], 0);
	CHECK_EQ(tl_get16(ip + 2), 120);
	CHECK_EQ(tl_get16(ip + 4), id0);
	CHECK_EQ(tl_get16(ip + 6), 0);
	CHECK_EQ(ip[8], 64); /* net.inet.ip.ttl */
	CHECK_EQ(ip[9], PROTO_TEST);
	CHECK_EQ(tl_get32(ip + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ip + 16), IPT_PEER);
	CHECK_MEM(ip + 20, want, 100);
	CHECK_EQ(t.d->tx_len[0], 134);
	ip = ipt_tx_ip(&t, 1);
	CHECK(ipt_tx_ipok(&t, 1));
	CHECK_EQ(ip[1], 0x10);
	CHECK_EQ(tl_get16(ip + 4), (uint16_t)(id0 + 1));
	CHECK_EQ(tl_get16(ip + 6), 0x4000);
	CHECK_EQ(ip[8], 7);
	CHECK_EQ(t.st->st_ipstat.ips_localout, 2);
	/* The knob moves the default TTL. */
	REQUIRE_EQ(ust_sysctl_set(t.st, "net.inet.ip.ttl", 33), 0);
	args_init(&a, IPT_PEER);
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 10), &a), 0);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 3);
	CHECK_EQ(ipt_tx_ip(&t, 2)[8], 33);
	ipt_fini(&t);
}
#endif

/* Without loopback delivery (UST_IP_LOOPBACK 0) a datagram to one of our
 * own addresses is refused: nothing reaches the wire, and
 * the mbuf is freed (the leak check after the test). */
#if UST_IP_LOOPBACK == 0
TEST(ip_output_own_address_refused_without_loopback)
{
	struct ipt t;
	struct ip_out_args a;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_OURS);
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_EHOSTUNREACH);
	ipt_poll(&t);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_output_errors)
{
	struct ipt t;
	struct ip_out_args a;

	ipt_init(&t, ust_test_seed);
	args_init(&a, 0x0a010203u); /* no route, no default */
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_ENETUNREACH);
	CHECK_EQ(t.st->st_ipstat.ips_noroute, 1);
	args_init(&a, IPT_PEER);
	a.src.s_addr = htonl(0xc6120063u); /* not ours */
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_EADDRNOTAVAIL);
	args_init(&a, IPT_BCAST);
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_EACCES);
	args_init(&a, 0xe0000001u);
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_ENETUNREACH);
	args_init(&a, IPT_PEER);
	CHECK_EQ(ip_output(t.st, payload(t.st, 65520), &a), UST_EMSGSIZE);
	ipt_poll(&t);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

TEST(ip_output_broadcast)
{
	struct ipt t;
	struct ip_out_args a;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_BCAST);
	a.flags = IP_ALLOWBROADCAST;
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), 0);
	a.flags = IP_ALLOWBROADCAST | IP_SENDONES;
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), 0);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 2);
	CHECK_MEM(t.d->tx[0], ipt_mac_bcast, 6);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 0) + 16), IPT_BCAST);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 0) + 12), IPT_OURS);
	CHECK_MEM(t.d->tx[1], ipt_mac_bcast, 6);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 1) + 16), 0xffffffffu);
	/* The limited broadcast with no default route leaves by the
	 * interface of the source address. */
	args_init(&a, 0xffffffffu);
	a.flags = IP_ALLOWBROADCAST;
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_ENETUNREACH);
	a.src.s_addr = htonl(IPT_OURS);
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), 0);
	a.flags = 0;
	CHECK_EQ(ip_output(t.st, payload(t.st, 10), &a), UST_EACCES);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 3);
	CHECK_MEM(t.d->tx[2], ipt_mac_bcast, 6);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 2) + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ipt_tx_ip(&t, 2) + 16), 0xffffffffu);
	ipt_fini(&t);
}

/* Checks the n fragments of a datagram of total payload bytes sent with
 * fragments of at most fl bytes of payload. */
static void
check_frags(struct ipt *t, uint32_t total, uint32_t fl, uint32_t n)
{
	uint8_t want[8192];
	uint32_t i, off = 0, len;
	const uint8_t *ip;
	uint16_t id;

	for (i = 0; i < total; i++)
		want[i] = (uint8_t)(i * 11 + 5);
	REQUIRE_EQ(t->d->tx_count, (int)n);
	id = tl_get16(ipt_tx_ip(t, 0) + 4);
	for (i = 0; i < n; i++, off += len) {
		ip = ipt_tx_ip(t, (int)i);
		len = total - off < fl ? total - off : fl;
		CHECK(ipt_tx_ipok(t, (int)i));
		CHECK_EQ(tl_get16(ip + 2), 20 + len);
		CHECK_EQ(tl_get16(ip + 4), id);
		CHECK_EQ(tl_get16(ip + 6), (i + 1 < n ? 0x2000 : 0) | (off >> 3));
		CHECK_EQ(t->d->tx_len[i], 14 + 20 + len);
		CHECK_MEM(ip + 20, want + off, len);
		if (i + 1 < n)
			CHECK_EQ(len % 8, 0);
	}
	CHECK_EQ(off, total);
}

#if UST_TCP_TSO
/* A TSO packet the software segmenter refuses (here: not TCP) is dropped
 * and freed, not leaked (ipt_fini fails on an mbuf still in use). */
TEST(ip_output_tso_refused_by_the_segmenter_is_freed)
{
	struct ipt t;
	struct ip_out_args a;
	struct mbuf *m;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_PEER);
	m = payload(t.st, 3000);
	m->m_pkthdr.csum_flags = UST_CSUM_TSO;
	m->m_pkthdr.tso_segsz = 1000;
	CHECK_EQ(ip_output(t.st, m, &a), UST_EINVAL);
	ipt_poll(&t);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(ip_output_fragments_by_mtu)
{
	struct ipt t;
	struct ip_out_args a;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_PEER);
	/* 1500: 1480 + 1480 + 40. */
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 3000), &a), 0);
	ipt_poll(&t);
	check_frags(&t, 3000, 1480, 3);
	CHECK_EQ(t.st->st_ipstat.ips_fragmented, 1);
	CHECK_EQ(t.st->st_ipstat.ips_ofragments, 3);
	/* Exactly the MTU: no fragmentation. */
	t.d->tx_count = 0;
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 1480), &a), 0);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 1);
	CHECK_EQ(tl_get16(ipt_tx_ip(&t, 0) + 6), 0);
	/* DF and too big. */
	a.flags = IP_DF;
	CHECK_EQ(ip_output(t.st, payload(t.st, 1481), &a), UST_EMSGSIZE);
	CHECK_EQ(t.st->st_ipstat.ips_cantfrag, 1);
	ipt_fini(&t);
}
#endif

TEST(ip_output_fragments_small_mtu)
{
	struct ipt t;
	struct ip_out_args a;

	/* MTU 576: (576 - 20) & ~7 = 552 per fragment. */
	ipt_init_mtu(&t, ust_test_seed, 576);
	args_init(&a, IPT_PEER);
	REQUIRE_EQ(ip_output(t.st, payload(t.st, 1200), &a), 0);
	ipt_poll(&t);
	check_frags(&t, 1200, 552, 3);
	ipt_fini(&t);
}

#if UST_STATS
TEST(ip_output_fragment_nobufs)
{
	struct ipt t;
	struct ip_out_args a;
	uint64_t n;

	ipt_init(&t, ust_test_seed);
	args_init(&a, IPT_PEER);
	/* Fail the n-th mbuf allocation from the start of ip_output, for
	 * every n that falls inside fragmentation. */
	for (n = 1; n <= 6; n++) {
		struct mbuf *m = payload(t.st, 4000);
		int error;

		ust_zone_fail_after(t.st->st_mbz.mz_mbuf, n);
		error = ip_output(t.st, m, &a);
		ust_zone_fail_after(t.st->st_mbz.mz_mbuf, 0);
		ipt_poll(&t);
		if (error != 0) {
			CHECK_EQ(error, UST_ENOBUFS);
			CHECK_EQ(t.d->tx_count, 0);
		}
		t.d->tx_count = 0;
	}
	CHECK(t.st->st_ipstat.ips_odropped >= 1);
	ipt_fini(&t);
}
#endif

#if UST_STATS
/* Two stacks over a pipe: A 198.18.0.1, B 198.18.0.2. */
TEST(ip_pipe_echo_4000_fragmented_both_ways)
{
	struct ust_pipe_config cfg;
	struct ust_vclock *vc = ust_vclock_create(IPT_T0);
	struct ust_stack *a = test_stack_new(vc, ust_test_seed), *b;
	struct ust_if *ifa, *ifb;
	struct ust_pipe *p;
	struct ip_out_args args;
	uint8_t icmp[8 + 4000], data[4000];
	struct mbuf *m;
	size_t n, i;
	int k;

	b = test_stack_new(vc, ust_test_seed + 1);
	ust_pipe_config_init(&cfg);
	cfg.clock = ust_vclock_clock(vc);
	REQUIRE_EQ(ust_pipe_create(&cfg, &p), 0);
	REQUIRE_EQ(ust_if_attach(a, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_A), &ifa), 0);
	REQUIRE_EQ(ust_if_attach(b, "p0", ust_pipe_ops(), ust_pipe_end(p, UST_PIPE_B), &ifb), 0);
	REQUIRE_EQ(ust_if_addr_add(ifa, htonl(IPT_PEER), 24), 0);
	REQUIRE_EQ(ust_if_addr_add(ifb, htonl(IPT_OURS), 24), 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	n = tl_icmp(icmp, 8, 0, 0x00420001u, data, sizeof(data));
	m = m_getcl(&a->st_mbz, MT_DATA, M_PKTHDR);
	REQUIRE(m != NULL);
	m_reserve(m, UST_MAX_HDR);
	REQUIRE_EQ(m_append(m, (uint32_t)n, icmp), 0);
	memset(&args, 0, sizeof(args));
	args.dst.s_addr = htonl(IPT_OURS);
	args.proto = IPPROTO_ICMP;
	CHECK_EQ(ip_output(a, m, &args), 0); /* held while ARP resolves */
	for (k = 0; k < 100; k++) {
		while (ust_stack_poll(a) + ust_stack_poll(b) > 0)
			continue;
		ust_vclock_advance(vc, IPT_MS);
	}
	/* 4028-byte datagram in 1500-byte frames: 3 fragments each way. */
	CHECK_EQ(a->st_ipstat.ips_ofragments, 3);
	CHECK_EQ(b->st_ipstat.ips_fragments, 3);
	CHECK_EQ(b->st_ipstat.ips_reassembled, 1);
	CHECK_EQ(b->st_icmpstat.icps_reflect, 1);
	CHECK_EQ(b->st_ipstat.ips_ofragments, 3);
	CHECK_EQ(a->st_ipstat.ips_reassembled, 1);
	/* The reply's checksum over all 4008 bytes held at A. */
	CHECK_EQ(a->st_icmpstat.icps_inhist[0], 1);
	CHECK_EQ(a->st_icmpstat.icps_checksum, 0);
	CHECK_EQ(a->st_ipstat.ips_fragdropped + b->st_ipstat.ips_fragdropped, 0);
	test_stack_free(a);
	test_stack_free(b);
	ust_pipe_destroy(p);
	ust_vclock_destroy(vc);
}
#endif
