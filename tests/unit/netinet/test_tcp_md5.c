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

/* The RFC 2385 2.0 digest of an IPv4 segment, computed here from the
 * RFC's description (pseudo-header, header without options and checksum,
 * data, key). */
static void
rfc2385d(uint8_t out[16], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint16_t flags, uint16_t win, unsigned optlen, const void *data, unsigned dlen,
    const char *key)
{
	struct md5_ctx ctx;
	uint8_t ph[12], th[20];

	memset(ph, 0, sizeof(ph));
	be32enc(ph, src);
	be32enc(ph + 4, dst);
	ph[9] = 6;
	be16enc(ph + 10, (uint16_t)(20 + optlen + dlen));
	be16enc(th, sport);
	be16enc(th + 2, dport);
	be32enc(th + 4, seq);
	be32enc(th + 8, ack);
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = (uint8_t)flags;
	be16enc(th + 14, win);
	memset(th + 16, 0, 4);
	md5_init(&ctx);
	md5_update(&ctx, ph, sizeof(ph));
	md5_update(&ctx, th, sizeof(th));
	md5_update(&ctx, data, dlen);
	md5_update(&ctx, key, strlen(key));
	md5_final(&ctx, out);
}

static void
rfc2385(uint8_t out[16], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, uint16_t flags, uint16_t win, unsigned optlen, const char *key)
{
	rfc2385d(out, src, dst, sport, dport, seq, ack, flags, win, optlen, NULL, 0, key);
}

/* Whether sg carries the right signature for key. */
static int
sg_signed(const struct tt_seg *sg, const char *key)
{
	uint8_t want[16];
	int off = tcp_md5_sigoff(sg->opt, (unsigned)sg->optlen);

	if (off < 0)
		return (0);
	rfc2385d(want, sg->src, sg->dst, sg->sport, sg->dport, sg->raw_seq, sg->raw_ack, sg->flags,
	    (uint16_t)sg->win, (unsigned)sg->optlen, sg->data, sg->len, key);
	return (memcmp(sg->opt + off, want, 16) == 0);
}

#if UST_STATS
/* A listener with TCP_MD5SIG: an unsigned SYN and a badly signed one are
 * dropped silently and counted; a well signed one gets a SYN-ACK with
 * FreeBSD's <mss,sackOK,md5> whose digest is right. */
TEST(md5_listener_checks_and_signs)
{
	struct ust_sockaddr_in l = sin4(IPT_OURS), r = sin4(IPT_PEER);
	/* <mss 1460,sackOK,md5> */
	uint8_t opt[24] = { 2, 4, 0x05, 0xb4, 4, 2, 19, 18 }, want[16];
	struct tt_seg sg;
	int v = 1, off;
	struct tt tt;

	tt_init(&tt, 2);
	REQUIRE(ust_tcp_md5_key_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), "tcpmd5", 6) == 0);
	REQUIRE(tt_listen(&tt));
	REQUIRE(ust_setsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_MD5SIG, &v, sizeof(v)) == 0);
	tt.pport = 45000;
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	CHECK(tt_none(&tt));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_err_nosigopt, 1);
	tt_in_raw(&tt, TH_SYN, 0, 0, 32767, opt, sizeof(opt), NULL, 0);
	CHECK(tt_none(&tt));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_rcvbadsig, 1);
	rfc2385(opt + 8, IPT_PEER, IPT_OURS, 45000, TT_LOCAL_PORT, TT_PEER_ISS, 0, TH_SYN, 32767,
	    sizeof(opt), "tcpmd5");
	tt_in_raw(&tt, TH_SYN, 0, 0, 32767, opt, sizeof(opt), NULL, 0);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_rcvgoodsig, 1);
	REQUIRE(sg.optlen == 24);
	CHECK_MEM(sg.opt, opt, 8);
	off = tcp_md5_sigoff(sg.opt, (unsigned)sg.optlen);
	REQUIRE(off == 8);
	rfc2385(want, sg.src, sg.dst, sg.sport, sg.dport, sg.raw_seq, sg.raw_ack, sg.flags,
	    (uint16_t)sg.win, (unsigned)sg.optlen, "tcpmd5");
	CHECK_MEM(sg.opt + off, want, 16);
	CHECK(sg_signed(&sg, "tcpmd5"));
	CHECK(!sg_signed(&sg, "tcpmd6"));
	tt_fini(&tt);
}

/* Data both ways on a signed connection: each of our segments (the
 * payload from the send buffer's mbufs) carries the right digest, and
 * signed data from the peer is taken, its forged copy not. */
TEST(md5_data_signed_both_ways)
{
	struct ust_sockaddr_in l = sin4(IPT_OURS), r = sin4(IPT_PEER);
	uint8_t syn[24] = { 2, 4, 0x05, 0xb4, 4, 2, 19, 18 }, ack[20] = { 1, 1, 19, 18 };
	static uint8_t out[5000], in[1000];
	struct ust_socket *so = NULL;
	struct tt_seg sg;
	uint32_t got = 0, i;
	int v = 1;
	struct tt tt;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 1);
	tt_init(&tt, 3);
	REQUIRE(ust_tcp_md5_key_add(tt.t.st, SA(l), sizeof(l), SA(r), sizeof(r), "k3y", 3) == 0);
	REQUIRE(tt_listen(&tt));
	REQUIRE(ust_setsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_MD5SIG, &v, sizeof(v)) == 0);
	rfc2385(syn + 8, IPT_PEER, IPT_OURS, tt.pport, TT_LOCAL_PORT, TT_PEER_ISS, 0, TH_SYN, 32767,
	    sizeof(syn), "k3y");
	tt_in_raw(&tt, TH_SYN, 0, 0, 32767, syn, sizeof(syn), NULL, 0);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK(sg_signed(&sg, "k3y"));
	rfc2385(ack + 4, IPT_PEER, IPT_OURS, tt.pport, TT_LOCAL_PORT, TT_PEER_ISS + 1, tt.iss + 1,
	    TH_ACK, 32767, sizeof(ack), "k3y");
	tt_in_raw(&tt, TH_ACK, 1, 1, 32767, ack, sizeof(ack), NULL, 0);
	REQUIRE(ust_accept(tt.lso, &so, NULL, NULL) == 0);
	/* Ours: 1440 bytes a segment (20 of the 1460 are the option). */
	REQUIRE(ust_send(so, out, sizeof(out), 0) == (long)sizeof(out));
	while (got < sizeof(out) && tt_next(&tt, &sg)) {
		CHECK(sg.len <= 1440);
		CHECK(sg_signed(&sg, "k3y"));
		CHECK_MEM(sg.data, out + got, sg.len);
		got += sg.len;
	}
	CHECK_EQ(got, (uint32_t)sizeof(out));
	/* The peer's data: forged (the digest of other bytes), then right. */
	rfc2385d(ack + 4, IPT_PEER, IPT_OURS, tt.pport, TT_LOCAL_PORT, TT_PEER_ISS + 1, tt.iss + 1,
	    TH_ACK | TH_PUSH, 32767, sizeof(ack), out, sizeof(in), "k3y");
	tt_in_raw(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, ack, sizeof(ack), in, sizeof(in));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_rcvbadsig, 1);
	rfc2385d(ack + 4, IPT_PEER, IPT_OURS, tt.pport, TT_LOCAL_PORT, TT_PEER_ISS + 1, tt.iss + 1,
	    TH_ACK | TH_PUSH, 32767, sizeof(ack), in, sizeof(in), "k3y");
	tt_in_raw(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, ack, sizeof(ack), in, sizeof(in));
	{
		uint8_t buf[2000];

		CHECK_EQ(ust_recv(so, buf, sizeof(buf), 0), (long)sizeof(in));
		CHECK_MEM(buf, in, sizeof(in));
	}
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_rcvbadsig, 1);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_sig_rcvgoodsig, 3);
	ust_close(so);
	tt_fini(&tt);
}
#endif
#endif
