/*
 * test_toeplitz.c - the Toeplitz hash against the verification suite of
 * Microsoft's RSS specification ("Verifying the RSS Hash Calculation":
 * IPv4 and IPv6, with and without ports, under the default key), the
 * frame hash over the same inputs, and the queue a hash selects.
 */
#include <string.h>

#include <ustack/ustack_group.h>

#include "ust_test.h"

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return (v);
}

static uint16_t
port(unsigned p)
{
	uint8_t x[2] = { (uint8_t)(p >> 8), (uint8_t)p };
	uint16_t v;

	memcpy(&v, x, 2);
	return (v);
}

static struct ust_in6_addr
ip6(const uint16_t w[8])
{
	struct ust_in6_addr a;
	int i;

	for (i = 0; i < 8; i++) {
		a.s6_addr8[2 * i] = (uint8_t)(w[i] >> 8);
		a.s6_addr8[2 * i + 1] = (uint8_t)w[i];
	}
	return (a);
}

/* The suite's IPv4 rows: source, destination, ports, then the hash with
 * and without ports. */
TEST(toeplitz_ipv4_suite)
{
	uint8_t key[UST_RSS_KEYLEN];
	static const struct {
		uint8_t src[4], dst[4];
		unsigned sport, dport;
		uint32_t h4, h2;
	} rows[] = {
		{ { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766, 0x51ccc178u,
		    0x323e8fc2u },
		{ { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739, 0xc626b0eau, 0xd718262au },
		{ { 24, 19, 198, 95 }, { 12, 22, 207, 184 }, 12898, 38024, 0x5c2b394au,
		    0xd2d0a5deu },
		{ { 38, 27, 205, 30 }, { 209, 142, 163, 6 }, 48228, 2217, 0xafc7327fu,
		    0x82989176u },
		{ { 153, 39, 163, 191 }, { 202, 188, 127, 2 }, 44251, 1303, 0x10e828a2u,
		    0x5d1809c5u },
	};
	size_t i;

	ust_rss_default_key(key);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t s = ip4(rows[i].src[0], rows[i].src[1], rows[i].src[2], rows[i].src[3]);
		uint32_t d = ip4(rows[i].dst[0], rows[i].dst[1], rows[i].dst[2], rows[i].dst[3]);

		CHECK_EQ(ust_rss_hash_v4(key, s, d, port(rows[i].sport), port(rows[i].dport), 1),
		    rows[i].h4);
		CHECK_EQ(ust_rss_hash_v4(key, s, d, 0, 0, 0), rows[i].h2);
	}
}

TEST(toeplitz_ipv6_suite)
{
	uint8_t key[UST_RSS_KEYLEN];
	static const uint16_t s1[8] = { 0x3ffe, 0x2501, 0x200, 0x1fff, 0, 0, 0, 7 };
	static const uint16_t d1[8] = { 0x3ffe, 0x2501, 0x200, 3, 0, 0, 0, 1 };
	static const uint16_t s2[8] = { 0x3ffe, 0x501, 8, 0, 0x260, 0x97ff, 0xfe40, 0xefab };
	static const uint16_t d2[8] = { 0xff02, 0, 0, 0, 0, 0, 0, 1 };
	static const uint16_t s3[8] = { 0x3ffe, 0x1900, 0x4545, 3, 0x200, 0xf8ff, 0xfe21, 0x67cf };
	static const uint16_t d3[8] = { 0xfe80, 0, 0, 0, 0x200, 0xf8ff, 0xfe21, 0x67cf };
	struct ust_in6_addr a, b;

	ust_rss_default_key(key);
	a = ip6(s1), b = ip6(d1);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, port(2794), port(1766), 1), 0x40207d3du);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, 0, 0, 0), 0x2cc18cd5u);
	a = ip6(s2), b = ip6(d2);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, port(14230), port(4739), 1), 0xdde51bbfu);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, 0, 0, 0), 0x0f0c461cu);
	a = ip6(s3), b = ip6(d3);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, port(44251), port(38024), 1), 0x02d1feefu);
	CHECK_EQ(ust_rss_hash_v6(key, &a, &b, 0, 0, 0), 0x4b61e985u);
}

/* A TCP/IPv4 frame, a fragment of it, an IPv6 UDP frame behind a VLAN tag,
 * ARP and a runt: the frame hash equals the tuple hash, by the right type. */
TEST(toeplitz_frame_types)
{
	uint8_t key[UST_RSS_KEYLEN], f[14 + 4 + 40 + 8];
	uint32_t h, s = ip4(66, 9, 149, 187), d = ip4(161, 142, 100, 80);
	uint16_t sp = port(2794), dp = port(1766);

	ust_rss_default_key(key);
	memset(f, 0, sizeof(f));
	f[12] = 0x08, f[13] = 0x00;
	f[14] = 0x45, f[14 + 9] = 6;
	memcpy(f + 14 + 12, &s, 4), memcpy(f + 14 + 16, &d, 4);
	memcpy(f + 34, &sp, 2), memcpy(f + 36, &dp, 2);
	CHECK_EQ(ust_rss_hash_frame(key, f, 54, &h), UST_RSS_TCP_IPV4);
	CHECK_EQ(h, 0x51ccc178u);
	f[14 + 9] = 17;
	CHECK_EQ(ust_rss_hash_frame(key, f, 54, &h), UST_RSS_UDP_IPV4);
	CHECK_EQ(h, 0x51ccc178u);
	f[14 + 6] = 0x20; /* MF: a first fragment goes by its addresses */
	CHECK_EQ(ust_rss_hash_frame(key, f, 54, &h), UST_RSS_IPV4);
	CHECK_EQ(h, 0x323e8fc2u);
	f[14 + 6] = 0, f[14 + 9] = 1; /* ICMP */
	CHECK_EQ(ust_rss_hash_frame(key, f, 54, &h), UST_RSS_IPV4);
	CHECK_EQ(ust_rss_hash_frame(key, f, 20, &h), UST_RSS_NONE); /* truncated */
	CHECK_EQ(h, 0u);
	f[12] = 0x08, f[13] = 0x06; /* ARP */
	CHECK_EQ(ust_rss_hash_frame(key, f, 42, &h), UST_RSS_NONE);

	{
		static const uint16_t s1[8] = { 0x3ffe, 0x2501, 0x200, 0x1fff, 0, 0, 0, 7 };
		static const uint16_t d1[8] = { 0x3ffe, 0x2501, 0x200, 3, 0, 0, 0, 1 };
		struct ust_in6_addr a = ip6(s1), b = ip6(d1);

		memset(f, 0, sizeof(f));
		f[12] = 0x81, f[13] = 0x00, f[16] = 0x86, f[17] = 0xdd;
		f[18] = 0x60, f[18 + 6] = 17;
		memcpy(f + 18 + 8, &a, 16), memcpy(f + 18 + 24, &b, 16);
		memcpy(f + 58, &sp, 2), memcpy(f + 60, &dp, 2);
		CHECK_EQ(ust_rss_hash_frame(key, f, sizeof(f), &h), UST_RSS_UDP_IPV6);
		CHECK_EQ(h, 0x40207d3du);
		f[18 + 6] = 44; /* a fragment header: addresses only */
		CHECK_EQ(ust_rss_hash_frame(key, f, sizeof(f), &h), UST_RSS_IPV6);
		CHECK_EQ(h, 0x2cc18cd5u);
	}
}

/* The indirection table: entry hash % 128, round robin over n queues. */
TEST(toeplitz_queue_selection)
{
	unsigned counts[3] = { 0, 0, 0 };
	uint32_t hsh;

	CHECK_EQ(ust_rss_queue(0x51ccc178u, 1), 0u);
	CHECK_EQ(ust_rss_queue(0x51ccc178u, 2), (0x78u % 128u) % 2u);
	CHECK_EQ(ust_rss_queue(127, 4), 3u);
	CHECK_EQ(ust_rss_queue(128, 4), 0u);
	for (hsh = 0; hsh < 128 * 3; hsh++)
		counts[ust_rss_queue(hsh, 3)]++;
	CHECK(counts[0] >= 126 && counts[1] >= 126 && counts[2] >= 126);
}
