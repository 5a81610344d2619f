/*
 * test_tcp_fastopen.c - TCP Fast Open's pieces (tcp_fastopen.c): SipHash-2-4
 * against the paper's test vector, the client cookie cache (valid lengths
 * only, the bucket limit, the negative cache of a disabled path, the flush
 * when client_enable goes 0 -> 1) and the setkey format.
 */
#include <string.h>
#include "kern/stack_var.h"
#include "kern/sysctl.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"
#include "ust_test.h"

#if UST_TCP_TFO

static struct in_conninfo
server(uint32_t addr, uint16_t port)
{
	struct in_conninfo inc;

	memset(&inc, 0, sizeof(inc));
	inc.inc_faddr.s_addr = htonl(addr);
	inc.inc_fport = htons(port);
	return (inc);
}

/* Aumasson and Bernstein, "SipHash: a fast short-input PRF", appendix A:
 * key 00 01 .. 0f, message 00 01 .. 0e (15 bytes). */
TEST(tfo_siphash_paper_vector)
{
	uint8_t key[16], msg[15];
	unsigned i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(tcp_fastopen_siphash(key, msg, sizeof(msg)), 0xa129ca6149be45e5ull);
	/* One bit of the key changes it. */
	key[0] ^= 1;
	CHECK(tcp_fastopen_siphash(key, msg, sizeof(msg)) != 0xa129ca6149be45e5ull);
}

TEST(tfo_ccache_valid_lengths_only)
{
	struct tt tt;
	struct in_conninfo inc = server(0xc6120002, 80);
	uint8_t cookie[40], got[16];
	unsigned len, n;

	tt_init(&tt, 1);
	memset(cookie, 0xab, sizeof(cookie));
	/* RFC 7413 4.1.1: even, 4..16. */
	for (n = 0; n <= 38; n++) {
		int want = n >= 4 && n <= 16 && n % 2 == 0 ? 0 : UST_EINVAL;

		CHECK_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, n, 1460), want);
	}
	CHECK_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), 0);
	CHECK_EQ(len, 16u);
	CHECK_EQ(tcp_fastopen_ccache_count(tt.t.st), 1u);
	tt_fini(&tt);
}

#if UST_SYSCTL_NAMES
TEST(tfo_ccache_bucket_limit)
{
	struct tt tt;
	struct in_conninfo inc;
	uint8_t cookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, got[16];
	unsigned len, i;
	uint32_t buckets;

	tt_init(&tt, 2);
	inc = server(0x0a000000, 443);
	REQUIRE_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, 8, 0), 0);
	/* The cache is made on first use, its buckets as memory allows. */
	buckets = (uint32_t)V(tt.t.st, tcp_fastopen_ccache_buckets);
	CHECK(buckets >= 16 && (buckets & (buckets - 1)) == 0);
	/* One entry per bucket: never more entries than buckets, and the
	 * newest always there (the least recently used makes room). */
	tt_sysctl(&tt, "net.inet.tcp.fastopen.ccache_bucket_limit", 1);
	for (i = 0; i < 3 * buckets; i++) {
		inc = server(0x0a000000 + i, 443);
		REQUIRE_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, 8, 0), 0);
		REQUIRE_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), 0);
		REQUIRE_EQ(len, 8u);
	}
	CHECK(tcp_fastopen_ccache_count(tt.t.st) <= buckets);
	CHECK(tcp_fastopen_ccache_count(tt.t.st) > buckets / 2);
	/* Limit 0: no cache, so no cookie is kept. */
	tt_sysctl(&tt, "net.inet.tcp.fastopen.ccache_bucket_limit", 0);
	inc = server(0x0b000001, 443);
	CHECK_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, 8, 0), UST_ENOBUFS);
	tt_fini(&tt);
}
#endif

#if UST_SYSCTL_NAMES
TEST(tfo_ccache_disable_and_flush)
{
	struct tt tt;
	struct in_conninfo inc = server(0xc6120002, 80);
	uint8_t cookie[4] = { 9, 9, 9, 9 }, got[16];
	unsigned len;

	tt_init(&tt, 3);
	REQUIRE_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, 4, 0), 0);
	tcp_fastopen_ccache_disable(tt.t.st, &inc);
	CHECK_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), UST_EPERM);
	/* path_disable_time (900 s) later: a cookie request again. */
	tt_advance_ms(&tt, 901 * 1000);
	CHECK_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), 0);
	CHECK_EQ(len, 0u);
	REQUIRE_EQ(tcp_fastopen_ccache_set(tt.t.st, &inc, cookie, 4, 0), 0);
	/* client_enable 1 -> 1 keeps the cache, 0 -> 1 empties it. */
	tt_sysctl(&tt, "net.inet.tcp.fastopen.client_enable", 1);
	CHECK_EQ(tcp_fastopen_ccache_count(tt.t.st), 1u);
	tt_sysctl(&tt, "net.inet.tcp.fastopen.client_enable", 0);
	tt_sysctl(&tt, "net.inet.tcp.fastopen.client_enable", 1);
	CHECK_EQ(tcp_fastopen_ccache_count(tt.t.st), 0u);
	CHECK_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), UST_ENOENT);
	tt_fini(&tt);
}
#endif

TEST(tfo_setkey_format)
{
	struct tt tt;

	tt_init(&tt, 4);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numkeys), 0); /* autokey waits for a listener */
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "00112233445566778899aabbccddeeff", 0), 0);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numkeys), 1);
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "0123456789abcdef0123456789abcdef", 0), 0);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numkeys), 2);
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "00112233445566778899aabbccddeef", 0), UST_EINVAL);
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "00112233445566778899aabbccddeeff0", 0), UST_EINVAL);
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "g0112233445566778899aabbccddeeff", 0), UST_EINVAL);
	CHECK_EQ(tcp_fastopen_setkey(tt.t.st, "00112233445566778899AABBCCDDEEFF", 1), 0);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numpsks), 1);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numkeys), 2); /* maxkeys */
	tt_fini(&tt);
}

#if UST_SYSCTL_NAMES
static int
setint(struct ust_socket *so, int name, int v)
{
	return (ust_setsockopt(so, UST_IPPROTO_TCP, name, &v, sizeof(v)));
}

/* The client's first SYN asks for a cookie (an empty option after the
 * timestamps, RFC 7413 4.1.1), the SYN-ACK's cookie is cached; sockets
 * and the listener's pending count are freed (tt_fini's leak check). */
TEST(tfo_client_request_and_cache)
{
	struct tt tt;
	struct tt_seg syn;
	struct ust_socket *lso;
	static const uint8_t synack_opt[16] = { 2, 4, 0x05, 0xb4, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0,
		0 };
	static const uint8_t request[4] = { 34, 2, 0, 0 };
	struct in_conninfo inc = server(0xc6120001, 53000);
	uint8_t got[16];
	unsigned len;

	tt_init(&tt, 5);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt.so), 0);
	REQUIRE_EQ(setint(tt.so, UST_TCP_FASTOPEN, 1), 0);
	REQUIRE(tt_connect(&tt, &syn));
	REQUIRE(syn.optlen >= 4);
	CHECK_MEM(syn.opt + syn.optlen - 4, request, 4);
	tt_in_raw(&tt, TH_SYN | TH_ACK, 0, 1, 65535, synack_opt, sizeof(synack_opt), NULL, 0);
	TT_EXPECT(&tt, TH_ACK, 1, 1, -1);
	inc.inc_faddr = tt_tp(&tt)->t_inpcb->inp_faddr;
	inc.inc_fport = tt_tp(&tt)->t_inpcb->inp_fport;
	CHECK_EQ(tcp_fastopen_ccache_get(tt.t.st, &inc, got, &len), 0);
	CHECK_EQ(len, 8u);
	CHECK_MEM(got, synack_opt + 6, 8);
	/* A listener with TFO (server_enable) and its pending count. */
	tt_sysctl(&tt, "net.inet.tcp.fastopen.server_enable", 1);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso), 0);
	REQUIRE_EQ(ust_listen(lso, 4), 0);
	REQUIRE_EQ(setint(lso, UST_TCP_FASTOPEN, 1), 0);
	CHECK(tt_sotp(lso)->t_tfo_pending != NULL);
	CHECK_EQ(V(tt.t.st, tcp_fastopen_numkeys), 1);
	ust_close(lso);
	tt_fini(&tt);
}

#if UST_STATS
/* Every FO length a SYN can carry (0..38 bytes) with data, to a TFO
 * listener: a request (0) or an invalid cookie (random bytes, and no
 * length but 8 is ours) gets a SYN-ACK with a fresh cookie that does not
 * acknowledge the data; no connection is made on the SYN. */
TEST(tfo_listener_every_option_length)
{
	struct tt tt;
	struct tt_seg sg;
	uint8_t opt[40], data[10];
	unsigned n, i, optlen, synacks = 0;

	tt_init(&tt, 6);
	tt_sysctl(&tt, "net.inet.tcp.fastopen.server_enable", 1);
	/* No SYN-ACK retransmissions: tt_fini's leak check would count the
	 * frames the 39 entries send to the peer while it winds down. */
	tt_sysctl(&tt, "net.inet.tcp.syncache.rexmtlimit", 0);
	REQUIRE(tt_listen(&tt));
	REQUIRE_EQ(setint(tt.lso, UST_TCP_FASTOPEN, 1), 0);
	memset(data, 'd', sizeof(data));
	for (n = 0; n <= 38; n++) {
		memset(opt, 0, sizeof(opt));
		opt[0] = 34;
		opt[1] = (uint8_t)(2 + n);
		for (i = 0; i < n; i++)
			opt[2 + i] = (uint8_t)(0x5a ^ (i * 7 + n));
		optlen = (2 + n + 3) & ~3u;
		tt.pport = (uint16_t)(40000 + n);
		tt_in_raw(&tt, TH_SYN, 0, 0, 65535, opt, optlen, data, sizeof(data));
		while (tt_next(&tt, &sg)) {
			CHECK_EQ(sg.flags, TH_SYN | TH_ACK);
			CHECK_EQ(sg.ack, 1u); /* the data were not taken */
			CHECK(sg.to.to_flags & TOF_FASTOPEN);
			CHECK_EQ(sg.to.to_tfo_len, 8);
			synacks++;
		}
	}
	CHECK_EQ(synacks, 39u);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_tfo_cookie_req_rcvd, 1u);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_tfo_cookie_invalid, 38u);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_tfo_cookie_sent, 39u);
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_tfo_conn_accepted, 0u);
	tt_fini(&tt);
}
#endif
#endif

#endif /* UST_TCP_TFO */
