/*
 * test_hostile_tcp_opts.c - malformed and hostile TCP options (RFC 9293
 * 3.1 and 3.2, RFC 7323, RFC 2018): lengths 0 and 1 and past the header
 * (the parser must stop, never loop or read past the header), MSS 0 and
 * tiny, window scale above 14, SACK blocks outside the window,
 * overlapping, inverted, wrapping or too many, and a timestamp echo of
 * garbage.  Table-driven: each row names itself when it fails.
 */
#include "hostile.h"

/* The whole file needs the counters (ustack_opts.h). */
#if UST_STATS

struct synrow {
	const char *name;
	uint8_t opt[40];
	size_t optlen;
	uint32_t snd_mss; /* what the connection must use */
	int wscale;       /* window scale it must use, -1: none */
};

/* SYNs to the listener: the handshake completes with what RFC 9293
 * 3.7.1 / RFC 7323 say the options amount to. */
static const struct synrow synrows[] = {
	/* A length-0 option ends parsing (it could never advance): no MSS
	 * seen, so RFC 9293 3.7.1's default 536. */
	{ "len0_then_mss", { 8, 0, 2, 4, 5, 0xb4, 1, 1 }, 8, 536, -1 },
	{ "len1", { 3, 1, 3, 7 }, 4, 536, -1 },
	{ "mss_len_past_header", { 2, 40, 5, 0xb4 }, 4, 536, -1 },
	{ "wscale_len_past_header", { 2, 4, 5, 0xb4, 1, 3, 200, 14 }, 8, 1460, -1 },
	{ "mss_wrong_len", { 2, 6, 5, 0xb4, 0, 0, 0, 0 }, 8, 536, -1 },
	/* MSS 0 counts as no offer (FreeBSD's tcp_mss_update: mssdflt);
	 * MSS 1 is clamped to net.inet.tcp.minmss (216), so a peer cannot
	 * make us send one-byte segments. */
	{ "mss0", { 2, 4, 0, 0 }, 4, 536, -1 },
	{ "mss1", { 2, 4, 0, 1 }, 4, 216, -1 },
	/* RFC 7323 2.3: a shift above 14 is used as 14. */
	{ "wscale15", { 2, 4, 5, 0xb4, 1, 3, 3, 15 }, 8, 1460, 14 },
	{ "wscale255", { 2, 4, 5, 0xb4, 1, 3, 3, 255 }, 8, 1460, 14 },
	{ "wscale_len2", { 2, 4, 5, 0xb4, 3, 2, 1, 1 }, 8, 1460, -1 },
	{ "unknown_kind_fills_header",
	    { 253, 40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	        22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38 },
	    40, 536, -1 },
	{ "forty_nops",
	    { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
	    40, 536, -1 },
	{ "eol_then_mss", { 0, 2, 4, 5, 0xb4, 0, 0, 0 }, 8, 536, -1 },
	{ "ts_len_wrong", { 2, 4, 5, 0xb4, 8, 9, 1, 2, 3, 4, 5, 6 }, 12, 1460, -1 },
};

#if UST_TCP_RFC1323
TEST(hostile_tcp_syn_options)
{
	size_t i;

	for (i = 0; i < sizeof(synrows) / sizeof(synrows[0]); i++) {
		const struct synrow *r = &synrows[i];
		struct ust_socket *so = NULL;
		struct ust_sockaddr_in peer;
		struct ust_tcp_info ti;
		struct tt_seg sg;
		struct hs h;
		uint32_t iss;
		char b[4];
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		iss = h.tt.iss;
		h.tt.pport = (uint16_t)(41100 + i);
		tt_in_raw(&h.tt, TH_SYN, 0, 0, 32767, r->opt, r->optlen, NULL, 0);
		if (TT_OUT_SEG(&h.tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY, &sg)) {
			/* RFC 7323 2.2: we offer scaling only to a peer that did. */
			CHECK_EQ((sg.to.to_flags & TOF_SCALE) != 0, r->wscale >= 0);
			tt_in(&h.tt, TH_ACK, 1, 1, 32767);
			CHECK_EQ(ust_accept(h.tt.lso, &so, (struct ust_sockaddr *)&peer,
			             &(ust_socklen_t){ sizeof(peer) }),
			    0);
		}
		if (so != NULL) {
			CHECK_EQ(tt_info(so, &ti), 0);
			CHECK_EQ(ti.tcpi_snd_mss, r->snd_mss);
			if (r->wscale >= 0)
				CHECK_EQ(ti.tcpi_snd_wscale, r->wscale);
			tt_in_data(&h.tt, TH_ACK | TH_PUSH, 1, 1, 32767, "abc", 3);
			CHECK_EQ(ust_recv(so, b, sizeof(b), 0), 3);
			CHECK_EQ(ust_send(so, "z", 1, 0), 1);
			ipt_poll(&h.tt.t);
			TT_OUT(&h.tt, TH_ACK, 1, 1, 4, TT_ANY);
			tt_in(&h.tt, TH_RST, 4, 0, 0);
			ust_close(so);
		}
		h.tt.pport = TT_PEER_PORT;
		h.tt.iss = iss;
		CHECK_EQ(HS_D(&h, tcp, tcps_sc_completed), 1);
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}
#endif

struct datarow {
	const char *name;
	uint8_t opt[40];
	size_t optlen;
};

/* Bad options on an in-window data segment of the established
 * connection: the options are ignored (parsing stops), the data is
 * delivered (RFC 9293 3.10.7.4). */
static const struct datarow datarows[] = {
	{ "len0", { 5, 0, 1, 1 }, 4 },
	{ "len1", { 5, 1, 1, 1 }, 4 },
	{ "sack_past_header", { 1, 1, 5, 34, 0, 0, 0, 1 }, 8 },
	{ "mss_on_data", { 2, 4, 0, 0 }, 4 },
	{ "wscale_on_data", { 1, 3, 3, 255 }, 4 },
	{ "sack_len_odd", { 1, 1, 5, 11, 0, 0, 0, 1, 0, 0, 0, 2 }, 12 },
};

TEST(hostile_tcp_data_options)
{
	size_t i;

	for (i = 0; i < sizeof(datarows) / sizeof(datarows[0]); i++) {
		const struct datarow *r = &datarows[i];
		struct hs h;
		char b[8];
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		tt_in_raw(&h.tt, TH_ACK | TH_PUSH, h.pseq, h.oseq, 32767, r->opt, r->optlen, "data",
		    4);
		h.pseq += 4;
		CHECK_EQ(ust_recv(h.tt.so, b, sizeof(b), 0), 4);
		CHECK_MEM(b, "data", 4);
		CHECK_EQ(HS_D(&h, tcp, tcps_rcvbyte), 4);
		CHECK_EQ(HS_D(&h, tcp, tcps_sack_rcv_blocks), 0);
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}

/* 40 bytes of TCP options hold at most four SACK blocks after the
 * 2-byte kind/length and 2 bytes of padding (RFC 2018 3). */
#define SACK_MAXBLK 4

struct sackrow {
	const char *name;
	int n;                       /* blocks written, at most SACK_MAXBLK */
	int32_t blk[SACK_MAXBLK][2]; /* relative to our oseq */
	uint8_t len_override;        /* option length byte, 0: 2 + 8n */
	long long want_blocks;       /* tcps_sack_rcv_blocks */
};

/* 3000 bytes outstanding; a duplicate ACK carries the SACK blocks
 * (RFC 2018 3; RFC 6675 5.1 uses only blocks inside what was sent). */
static const struct sackrow sackrows[] = {
	{ "beyond_snd_max", 1, { { 5000, 6000 } }, 0, 0 },
	{ "straddles_snd_max", 1, { { 1000, 4000 } }, 0, 0 },
	{ "below_snd_una", 1, { { -2000, -1000 } }, 0, 0 },
	{ "inverted", 1, { { 2000, 1000 } }, 0, 0 },
	{ "wrapping", 1, { { 2000, (int32_t)0x80000100 } }, 0, 0 },
	{ "half_space_away", 1, { { (int32_t)0x80000000, (int32_t)0x80000100 } }, 0, 0 },
	{ "empty", 1, { { 1000, 1000 } }, 0, 0 },
	{ "overlapping", 2, { { 1000, 2000 }, { 1500, 2500 } }, 0, 2 },
	{ "same_block_four_times", 4,
	    { { 1460, 2920 }, { 1460, 2920 }, { 1460, 2920 }, { 1460, 2920 } }, 0, 4 },
	{ "five_blocks_len42", 4, { { 100, 200 }, { 300, 400 }, { 500, 600 }, { 700, 800 } }, 42,
	    0 },
	{ "len_not_8n2", 2, { { 100, 200 }, { 300, 400 } }, 17, 0 },
};

TEST(hostile_tcp_sack_blocks)
{
	static uint8_t payload[3000];
	size_t i;

	for (i = 0; i < sizeof(sackrows) / sizeof(sackrows[0]); i++) {
		const struct sackrow *r = &sackrows[i];
		uint8_t opt[40];
		size_t optlen;
		struct hs h;
		int k;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		CHECK_EQ(ust_send(h.tt.so, payload, sizeof(payload), 0),
		    (ptrdiff_t)sizeof(payload));
		ipt_poll(&h.tt.t);
		CHECK(hs_txnew(&h) >= 2);
		hs_skip(&h);
		memset(opt, 1, sizeof(opt));
		opt[2] = 5;
		opt[3] = r->len_override ? r->len_override : (uint8_t)(2 + 8 * r->n);
		for (k = 0; k < r->n && k < SACK_MAXBLK; k++) {
			tl_put32(opt + 4 + 8 * k, h.tt.iss + h.oseq + (uint32_t)r->blk[k][0]);
			tl_put32(opt + 8 + 8 * k, h.tt.iss + h.oseq + (uint32_t)r->blk[k][1]);
		}
		optlen = (size_t)(4 + 8 * r->n);
		tt_in_raw(&h.tt, TH_ACK, h.pseq, h.oseq, 32767, opt, optlen, NULL, 0);
		CHECK_EQ(HS_D(&h, tcp, tcps_sack_rcv_blocks), r->want_blocks);
		CHECK_EQ(HS_D(&h, tcp, tcps_rcvdupack), 1);
		/* The whole transfer is then acknowledged: nothing left. */
		h.oseq += (uint32_t)sizeof(payload);
		tt_in(&h.tt, TH_ACK, h.pseq, h.oseq, 32767);
		{
			struct ust_tcp_info ti;

			CHECK_EQ(tt_info(h.tt.so, &ti), 0);
			CHECK_EQ(ti.tcpi_unacked, 0);
			CHECK_EQ(ti.tcpi_sacked, 0);
		}
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}

#if UST_TCP_RFC1323
/* A connection with timestamps (RFC 7323 3), then ACKs whose TSecr is
 * garbage: from the future and from far in the past.  RFC 7323 4.1:
 * the RTT sample must not come from a bogus echo; the RTO stays within
 * rexmit_max and the connection keeps working. */
TEST(hostile_tcp_timestamp_garbage_echo)
{
	static const uint8_t synts[] = { 2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0 };
	static const uint32_t garbage[] = { 0xdeadbeefu, 0x7fffffffu, 1u, 0xffffffffu };
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in peer;
	struct ust_tcp_info ti;
	struct tt_seg sg;
	struct hs h;
	uint8_t opt[12];
	uint32_t iss, tsval = 2, seq = 1;
	size_t i;
	char b[8];

	REQUIRE(hs_init(&h, ust_test_seed));
	iss = h.tt.iss;
	h.tt.pport = 41200;
	tt_in_raw(&h.tt, TH_SYN, 0, 0, 32767, synts, sizeof(synts), NULL, 0);
	REQUIRE(TT_OUT_SEG(&h.tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY, &sg));
	REQUIRE(sg.to.to_flags & TOF_TS);
	opt[0] = opt[1] = 1;
	opt[2] = 8;
	opt[3] = 10;
	tl_put32(opt + 4, tsval++);
	tl_put32(opt + 8, sg.to.to_tsval);
	tt_in_raw(&h.tt, TH_ACK, 1, 1, 32767, opt, sizeof(opt), NULL, 0);
	REQUIRE_EQ(ust_accept(h.tt.lso, &so, (struct ust_sockaddr *)&peer,
	               &(ust_socklen_t){ sizeof(peer) }),
	    0);
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		ipt_advance(&h.tt.t, 10 * IPT_MS);
		CHECK_EQ(ust_send(so, "12345678", 8, 0), 8);
		ipt_poll(&h.tt.t);
		TT_OUT_SEG(&h.tt, TH_ACK, seq, 8, 1, TT_ANY, &sg);
		seq += 8;
		tl_put32(opt + 4, tsval++);
		tl_put32(opt + 8, garbage[i]);
		tt_in_raw(&h.tt, TH_ACK, 1, seq, 32767, opt, sizeof(opt), NULL, 0);
		CHECK_EQ(tt_info(so, &ti), 0);
		CHECK_EQ(ti.tcpi_unacked, 0);
		CHECK(ti.tcpi_rto <= 64000000u);
		CHECK(ti.tcpi_rtt <= 64000000u);
	}
	CHECK_EQ(tt_state(so), UST_TCPS_ESTABLISHED);
	/* Data from the peer with a sane timestamp is still accepted. */
	tl_put32(opt + 4, tsval++);
	tl_put32(opt + 8, sg.to.to_tsval);
	tt_in_raw(&h.tt, TH_ACK | TH_PUSH, 1, seq, 32767, opt, sizeof(opt), "hi", 2);
	CHECK_EQ(ust_recv(so, b, sizeof(b), 0), 2);
	CHECK_EQ(ust_send(so, "!", 1, 0), 1);
	ipt_poll(&h.tt.t);
	TT_OUT(&h.tt, TH_ACK, seq, 1, 3, TT_ANY);
	tt_in(&h.tt, TH_RST, 3, 0, 0);
	ust_close(so);
	h.tt.pport = TT_PEER_PORT;
	h.tt.iss = iss;
	hs_alive(&h);
	hs_fini(&h);
}
#endif
#endif /* UST_STATS */
