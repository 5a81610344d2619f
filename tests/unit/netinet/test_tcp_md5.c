/*
 * test_tcp_md5.c - MD5 (RFC 1321) against the RFC's test suite (A.5),
 * piecewise hashing against one-shot hashing at every split, and the
 * TCP-MD5 key table (ust_tcp_md5_*): add, replace, delete, flush, the
 * limits (key length, table size) and bad addresses.  The signing and
 * checking of segments is tested on the wire by
 * tests/python/test_tcp_md5.py (packet scripts in tests/packetdrill/md5).
 */
#include "tcp_script.h"
#include "netinet/tcp_md5.h"

static void
md5_hex(const void *data, size_t len, char out[33])
{
	static const char hx[] = "0123456789abcdef";
	struct md5_ctx ctx;
	uint8_t d[16];
	unsigned i;

	md5_init(&ctx);
	md5_update(&ctx, data, len);
	md5_final(&ctx, d);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[32] = '\0';
}

/* RFC 1321 A.5: the test suite. */
TEST(md5_rfc1321_test_suite)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		    "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890123456789012345678901234567890123456789"
		  "0",
		    "57edf4a22be3c955ac49da2e2107b67a" },
	};
	char hex[33];
	unsigned i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		md5_hex(v[i].in, strlen(v[i].in), hex);
		CHECK(strcmp(hex, v[i].out) == 0);
	}
}

/* Any split of the input into two updates, over the 55/56/64-byte
 * padding edges, gives the one-shot digest; so do 1-byte updates. */
TEST(md5_piecewise_equals_oneshot)
{
	uint8_t buf[200], a[16], b[16];
	struct md5_ctx ctx;
	uint64_t rs = 0x9e3779b97f4a7c15ull;
	size_t len, cut, i;

	for (i = 0; i < sizeof(buf); i++) {
		rs ^= rs << 13;
		rs ^= rs >> 7;
		rs ^= rs << 17;
		buf[i] = (uint8_t)rs;
	}
	for (len = 0; len <= sizeof(buf); len += (len < 130 ? 1 : 7)) {
		md5_init(&ctx);
		md5_update(&ctx, buf, len);
		md5_final(&ctx, a);
		for (cut = 0; cut <= len; cut += 5) {
			md5_init(&ctx);
			md5_update(&ctx, buf, cut);
			md5_update(&ctx, buf + cut, len - cut);
			md5_final(&ctx, b);
			CHECK_MEM(a, b, 16);
		}
		md5_init(&ctx);
		for (i = 0; i < len; i++)
			md5_update(&ctx, buf + i, 1);
		md5_final(&ctx, b);
		CHECK_MEM(a, b, 16);
	}
}

#if UST_TCP_SIGNATURE
static struct ust_sockaddr_in
sin4(uint32_t host)
{
	struct ust_sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	s.sin_addr = htonl(host);
	return (s);
}

#define SA(x) ((const struct ust_sockaddr *)&(x))

/* Add (both directions), replace, delete, flush; the limits. */
TEST(md5_key_table)
{
	struct ust_sockaddr_in l = sin4(IPT_OURS), r = sin4(IPT_PEER), o;
	uint8_t big[UST_TCP_MD5_KEYLEN_MAX + 1];
	struct tt tt;
	unsigned i;

	tt_init(&tt, 1);
	memset(big, 'k', sizeof(big));
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 0u);
	CHECK_EQ(ust_tcp_md5_key_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), "secret", 6), 0);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 2u);
	/* The same pair again replaces its key. */
	CHECK_EQ(ust_tcp_md5_key_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), "other", 5), 0);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 2u);
	/* FreeBSD's TCP_KEYLEN_MAX; a short sockaddr; no key. */
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), big,
	             UST_TCP_MD5_KEYLEN_MAX),
	    0);
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), big, sizeof(big)),
	    -UST_EINVAL);
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), 4, SA(r), sizeof(r), "k", 1), -UST_EINVAL);
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, NULL, 0, SA(r), sizeof(r), "k", 1), -UST_EINVAL);
	/* One direction goes, then the other; then nothing is left. */
	CHECK_EQ(ust_tcp_md5_sa_del(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r)), 0);
	CHECK_EQ(ust_tcp_md5_sa_del(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r)), -UST_ENOENT);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 1u);
	CHECK_EQ(ust_tcp_md5_key_del(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r)), 0);
	CHECK_EQ(ust_tcp_md5_key_del(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r)), -UST_ENOENT);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 0u);
	/* The table holds UST_TCP_MD5_MAXKEYS pairs, then ENOSPC. */
	for (i = 0; i < UST_TCP_MD5_MAXKEYS; i++) {
		o = sin4(0xc6120100u + i);
		CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), sizeof(l), SA(o), sizeof(o), "k", 1),
		    0);
	}
	o = sin4(0xc6120000u);
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), sizeof(l), SA(o), sizeof(o), "k", 1),
	    -UST_ENOSPC);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), (size_t)UST_TCP_MD5_MAXKEYS);
	ust_tcp_md5_flush(tt.t.st);
	CHECK_EQ(ust_tcp_md5_count(tt.t.st), 0u);
	CHECK_EQ(ust_tcp_md5_sa_add(tt.t.st, SA(l), sizeof(l), SA(o), sizeof(o), "k", 1), 0);
	tt_fini(&tt);
}

/* TCP_MD5SIG is an int, on or off, as FreeBSD's. */
TEST(md5_sockopt_flag)
{
	struct ust_socket *so = NULL;
	int v = 1, got = 0;
	size_t len = sizeof(got);
	struct tt tt;

	tt_init(&tt, 1);
	REQUIRE(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so) == 0);
	CHECK_EQ(ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_MD5SIG, &got, &len), 0);
	CHECK_EQ(got, 0);
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_MD5SIG, &v, sizeof(v)), 0);
	len = sizeof(got);
	CHECK_EQ(ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_MD5SIG, &got, &len), 0);
	CHECK_EQ(got, 1);
	ust_close(so);
	tt_fini(&tt);
}
#endif
