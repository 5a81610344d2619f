/*
 * test_tcp_wire.c - the TCP header and option codec (netinet/tcp.h):
 * FreeBSD's option layouts byte for byte, parsing of hostile option lists,
 * and sequence arithmetic across the wrap.
 */
#include "netinet/tcp.h"
#include "netinet/tcp_seq.h"
#include "ust_test.h"

/* The codec writes and reads only the options compiled in (UST_TCP_SACK,
 * UST_TCP_RFC1323). */
#if UST_TCP_RFC1323
#if UST_TCP_SACK
TEST(tcp_opts_syn_layout_matches_freebsd)
{
	/* <mss 1460,nop,wscale 6,sackOK,TS val 1000 ecr 0> */
	static const uint8_t want[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 8, 10, 0, 0, 0x03,
		0xe8, 0, 0, 0, 0 };
	struct tcpopt to;
	uint8_t buf[TCP_MAXOLEN];

	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_MSS | TOF_SCALE | TOF_SACKPERM | TOF_TS;
	to.to_mss = 1460;
	to.to_wscale = 6;
	to.to_tsval = 1000;
	REQUIRE_EQ(tcp_opts_write(buf, &to), 20);
	CHECK_MEM(buf, want, 20);
}
#endif
#endif

#if UST_TCP_SACK
TEST(tcp_opts_synack_without_ws_ts_pads_with_eol)
{
	/* <mss 1460,sackOK,eol,eol> */
	static const uint8_t want[8] = { 2, 4, 0x05, 0xb4, 4, 2, 0, 0 };
	struct tcpopt to;
	uint8_t buf[TCP_MAXOLEN];

	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_MSS | TOF_SACKPERM;
	to.to_mss = 1460;
	REQUIRE_EQ(tcp_opts_write(buf, &to), 8);
	CHECK_MEM(buf, want, 8);
}

#endif

#if UST_TCP_RFC1323
#if UST_TCP_SACK
TEST(tcp_opts_ts_and_sack_blocks_cut_to_fit)
{
	struct tcpopt to, back;
	uint8_t buf[TCP_MAXOLEN];
	unsigned len, i;

	memset(&to, 0, sizeof(to));
	to.to_flags = TOF_TS | TOF_SACK;
	to.to_tsval = 7;
	to.to_tsecr = 9;
	to.to_nsacks = 4;
	for (i = 0; i < 4; i++) {
		to.to_sacks[i].start = 1000 * (i + 1);
		to.to_sacks[i].end = 1000 * (i + 1) + 500;
	}
	len = tcp_opts_write(buf, &to);
	/* nop,nop,TS (12) + nop,nop,SACK with 3 blocks (26) = 38 -> 40 */
	REQUIRE_EQ(len, 40);
	CHECK(buf[0] == TCPOPT_NOP && buf[1] == TCPOPT_NOP && buf[2] == TCPOPT_TIMESTAMP);
	CHECK(buf[12] == TCPOPT_NOP && buf[13] == TCPOPT_NOP && buf[14] == TCPOPT_SACK);
	CHECK_EQ(buf[15], 26);
	CHECK_EQ(tcp_opts_parse(buf, len, 0, &back), 0);
	CHECK_EQ(back.to_flags, TOF_TS | TOF_SACK);
	CHECK_EQ(back.to_tsval, 7);
	CHECK_EQ(back.to_tsecr, 9);
	CHECK_EQ(back.to_nsacks, 3);
	CHECK_EQ(back.to_sacks[2].end, 3500);
}
#endif
#endif

TEST(tcp_opts_parse_hostile_lengths)
{
	struct tcpopt to;
	/* MSS with length 0, 1, and running past the end. */
	static const uint8_t len0[] = { 2, 0, 5, 0xb4 };
	static const uint8_t len1[] = { 1, 1, 2, 1 };
	static const uint8_t past[] = { 2, 4, 5, 0xb4, 8, 10, 0, 0 };
	static const uint8_t lone_kind[] = { 1, 1, 1, 3 };
	static const uint8_t ws_big[] = { 3, 3, 200, 0 };
	static const uint8_t sack_bad[] = { 5, 7, 0, 0, 0, 1, 0, 0 };

	CHECK_EQ(tcp_opts_parse(len0, sizeof(len0), 1, &to), 1);
	CHECK_EQ(to.to_flags, 0);
	CHECK_EQ(tcp_opts_parse(len1, sizeof(len1), 1, &to), 1);
	CHECK_EQ(tcp_opts_parse(past, sizeof(past), 1, &to), 1);
	/* what came before the bad option stands */
	CHECK_EQ(to.to_flags, TOF_MSS);
	CHECK_EQ(to.to_mss, 1460);
	CHECK_EQ(tcp_opts_parse(lone_kind, sizeof(lone_kind), 1, &to), 1);
	CHECK_EQ(tcp_opts_parse(ws_big, sizeof(ws_big), 1, &to), 0);
#if UST_TCP_RFC1323
	CHECK_EQ(to.to_wscale, 200); /* the caller clamps to TCP_MAX_WINSHIFT */
#else
	CHECK_EQ(to.to_flags, 0); /* window scale is not parsed */
#endif
	CHECK_EQ(tcp_opts_parse(sack_bad, sizeof(sack_bad), 0, &to), 0);
	CHECK_EQ(to.to_flags, 0);
	/* MSS outside a SYN is ignored */
	CHECK_EQ(tcp_opts_parse(past, 4, 0, &to), 0);
	CHECK_EQ(to.to_flags, 0);
}

TEST(tcp_hdr_roundtrip_and_bounds)
{
	struct tcphdr th = { 1234, 80, 0xfffffff0u, 42, 5, TH_SYN | TH_ACK | TH_AE, 65535, 0, 0 };
	struct tcphdr back;
	uint8_t buf[24];

	tcp_hdr_write(buf, &th);
	CHECK_EQ(buf[12], 0x51);
	CHECK_EQ(buf[13], 0x12);
	REQUIRE_EQ(tcp_hdr_parse(buf, 20, &back), 0);
	CHECK_EQ(back.th_seq, 0xfffffff0u);
	CHECK_EQ(back.th_flags, TH_SYN | TH_ACK | TH_AE);
	CHECK_EQ(tcp_hdr_parse(buf, 19, &back), -1);
	buf[12] = 0x40; /* data offset 4 */
	CHECK_EQ(tcp_hdr_parse(buf, 20, &back), -1);
	buf[12] = 0x60; /* data offset 6 but only 20 bytes */
	CHECK_EQ(tcp_hdr_parse(buf, 20, &back), -1);
}

TEST(tcp_seq_compares_across_wrap)
{
	CHECK(SEQ_LT(0xfffffff0u, 0x10u));
	CHECK(SEQ_GT(0x10u, 0xfffffff0u));
	CHECK(SEQ_LEQ(5u, 5u));
	CHECK_EQ(SEQ_SUB(0x10u, 0xfffffff0u), 0x20);
	CHECK_EQ(SEQ_MAX(0xfffffff0u, 0x10u), 0x10);
	CHECK(SEQ_LT(0u, 0x7fffffffu));
	CHECK(SEQ_GT(0u, 0x80000001u));
}
