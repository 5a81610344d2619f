/*
 * test_tcp_syncookie.c - SYN cookies in FreeBSD's layout (tcp_syncache.c):
 * a connection completed from a cookie has the window scale (rounded down
 * to FreeBSD's table), SACK-permitted and timestamps the SYN offered, with
 * the timestamp offset of the SYN-ACK; forged cookies (a MAC bit, the
 * option bits) and cookies older than two secret periods are refused with
 * a RST and counted (tcps_sc_spurcookie), fresh ones accepted.
 */
#include "tcp_script.h"
#include "netinet/tcp_var.h"

#define TCPS(tt) (&(tt)->t.st->st_tcpstat)

/* <mss 1460,nop,wscale W,sackOK,TS val 100 ecr 0> */
static void
syn_opts(uint8_t o[20], uint8_t ws)
{
	static const uint8_t base[20] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 100,
		0, 0, 0, 0 };

	memcpy(o, base, 20);
	o[7] = ws;
}

/* <nop,nop,TS val V ecr E> */
static void
ts_opts(uint8_t o[12], uint32_t val, uint32_t ecr)
{
	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	be32enc(o + 4, val);
	be32enc(o + 8, ecr);
}

/* A cookie SYN-ACK for peer port pport whose SYN offered scale ws. */
static int
cookie_synack(struct tt *tt, uint16_t pport, uint8_t ws, struct tt_seg *sg)
{
	uint8_t o[20];

	tt->pport = pport;
	syn_opts(o, ws);
	tt_in_raw(tt, TH_SYN, 0, 0, 65535, o, sizeof(o), NULL, 0);
	return (TT_OUT_SEG(tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, sg));
}

static struct ust_socket *
accept1(struct tt *tt)
{
	struct ust_socket *so = NULL;

	if (ust_accept(tt->lso, &so, NULL, NULL) != 0)
		return (NULL);
	return (so);
}

#if UST_TCP_SYNCACHE
TEST(syncookie_carries_wscale_sack_timestamps)
{
	struct ust_tcp_info ti;
	struct tt_seg sg;
	struct ust_socket *so;
	uint8_t o[12];
	uint32_t tsval;
	struct tt tt;

	tt_init(&tt, 3);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	REQUIRE(cookie_synack(&tt, 41000, 7, &sg));
	/* FreeBSD's SYN-ACK: <mss,nop,wscale,sackOK,TS>, no state kept. */
	CHECK_EQ(sg.to.to_flags & (TOF_MSS | TOF_SCALE | TOF_SACKPERM | TOF_TS),
	    TOF_MSS | TOF_SCALE | TOF_SACKPERM | TOF_TS);
	CHECK_EQ(sg.to.to_tsecr, 100u);
	CHECK_EQ(syncache_count(tt.t.st), 0u);
	CHECK_EQ(TCPS(&tt)->tcps_sc_sendcookie, 1);
	tsval = sg.to.to_tsval;
	tt_advance_ms(&tt, 50);
	ts_opts(o, 150, tsval);
	tt_in_raw(&tt, TH_ACK, 1, 1, 1024, o, sizeof(o), NULL, 0);
	REQUIRE((so = accept1(&tt)) != NULL);
	CHECK_EQ(TCPS(&tt)->tcps_sc_recvcookie, 1);
	REQUIRE_EQ(tt_info(so, &ti), 0);
	CHECK_EQ(ti.tcpi_options &
	        (UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_SACK | UST_TCPI_OPT_TIMESTAMPS),
	    UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_SACK | UST_TCPI_OPT_TIMESTAMPS);
	/* 7 is in FreeBSD's table {none, 0, 1, 2, 4, 6, 7, 8}: kept. */
	CHECK_EQ(ti.tcpi_snd_wscale, 7);
	CHECK_EQ(ti.tcpi_rcv_wscale, sg.to.to_wscale);
	/* The peer's window is scaled by what the cookie kept: 1024 << 7. */
	CHECK_EQ(tt_sotp(so)->snd_wnd, 1024u << 7);
	/* Our timestamps go on from the SYN-ACK's (the same offset) and
	 * echo the ACK's. */
	tt_advance_ms(&tt, 100);
	REQUIRE(ust_send(so, "x", 1, 0) == 1);
	REQUIRE(TT_OUT_SEG(&tt, TH_ACK, 1, 1, 1, TT_ANY, &sg));
	CHECK(sg.to.to_flags & TOF_TS);
	CHECK_EQ(sg.to.to_tsecr, 150u);
	CHECK(sg.to.to_tsval - tsval >= 149 && sg.to.to_tsval - tsval <= 151);
	ust_close(so);
	tt_fini(&tt);
}

/* The peer's scale is rounded down to FreeBSD's table; none stays none. */
TEST(syncookie_wscale_table)
{
	static const uint8_t want[15] = { 0, 1, 2, 2, 4, 4, 6, 7, 8, 8, 8, 8, 8, 8, 8 };
	struct ust_tcp_info ti;
	struct tt_seg sg;
	struct ust_socket *so;
	uint8_t ws;
	struct tt tt;

	tt_init(&tt, 4);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	for (ws = 0; ws <= 14; ws++) {
		REQUIRE(cookie_synack(&tt, (uint16_t)(42000 + ws), ws, &sg));
		tt_in_raw(&tt, TH_ACK, 1, 1, 1024, NULL, 0, NULL, 0);
		REQUIRE((so = accept1(&tt)) != NULL);
		REQUIRE_EQ(tt_info(so, &ti), 0);
		CHECK(ti.tcpi_options & UST_TCPI_OPT_WSCALE);
		/* No timestamps on the ACK: none agreed. */
		CHECK_EQ(ti.tcpi_options & UST_TCPI_OPT_TIMESTAMPS, 0);
		CHECK_EQ(ti.tcpi_snd_wscale, want[ws]);
		(void)so; /* stays open: the stack frees it with itself */
	}
	/* A SYN without options: no scaling, no SACK, the MSS default. */
	tt.pport = 42100;
	tt_in_raw(&tt, TH_SYN, 0, 0, 65535, NULL, 0, NULL, 0);
	REQUIRE(TT_OUT_SEG(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg));
	CHECK_EQ(sg.to.to_flags & (TOF_SCALE | TOF_SACKPERM | TOF_TS), 0);
	tt_in_raw(&tt, TH_ACK, 1, 1, 1024, NULL, 0, NULL, 0);
	REQUIRE((so = accept1(&tt)) != NULL);
	REQUIRE_EQ(tt_info(so, &ti), 0);
	CHECK_EQ(ti.tcpi_options & (UST_TCPI_OPT_WSCALE | UST_TCPI_OPT_SACK), 0);
	CHECK_EQ(ti.tcpi_snd_mss, 536);
	tt_fini(&tt);
}

/* A forged ACK: a flipped MAC bit, or cookie bits changed to claim a
 * larger MSS or scale, gets a RST and tcps_sc_spurcookie; the real one
 * then still works. */
TEST(syncookie_forged_rejected)
{
	static const uint32_t flips[] = { 1u << 8, 1u << 20, 1u << 31, 0x04, 0x20, 0x02, 0x01 };
	struct tt_seg sg;
	struct ust_socket *so;
	unsigned i;
	struct tt tt;

	tt_init(&tt, 5);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	REQUIRE(cookie_synack(&tt, 43000, 2, &sg));
	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		uint32_t ack = (tt.iss ^ flips[i]) + 1;

		tt_in_abs(&tt, TH_ACK, TT_PEER_ISS + 1, ack, 1024, NULL, 0, NULL, 0);
		REQUIRE(tt_next(&tt, &sg));
		CHECK_EQ(sg.flags & (TH_RST | TH_ACK), TH_RST);
		CHECK_EQ(sg.raw_seq, ack);
		CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, i + 1);
		CHECK(accept1(&tt) == NULL);
	}
	tt_in_raw(&tt, TH_ACK, 1, 1, 1024, NULL, 0, NULL, 0);
	REQUIRE((so = accept1(&tt)) != NULL);
	CHECK_EQ(TCPS(&tt)->tcps_sc_recvcookie, 1);
	ust_close(so);
	tt_fini(&tt);
}

/* The secrets rotate every 15 s: a cookie is good for at least 15 s and
 * at most 30 s. */
TEST(syncookie_expires)
{
	struct tt_seg sg;
	struct ust_socket *so;
	uint32_t iss_old;
	struct tt tt;

	tt_init(&tt, 6);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	/* Fresh enough: 14.9 s later, whatever the phase of the period. */
	REQUIRE(cookie_synack(&tt, 44000, 6, &sg));
	tt_advance_ms(&tt, 14900);
	tt_in_raw(&tt, TH_ACK, 1, 1, 1024, NULL, 0, NULL, 0);
	REQUIRE((so = accept1(&tt)) != NULL);
	/* Too old: 30.1 s later. */
	REQUIRE(cookie_synack(&tt, 44001, 6, &sg));
	iss_old = tt.iss;
	tt_advance_ms(&tt, 30100);
	tt_in_raw(&tt, TH_ACK, 1, 1, 1024, NULL, 0, NULL, 0);
	REQUIRE(tt_next(&tt, &sg));
	CHECK_EQ(sg.flags & TH_RST, TH_RST);
	CHECK_EQ(sg.raw_seq, iss_old + 1);
	CHECK_EQ(TCPS(&tt)->tcps_sc_spurcookie, 1);
	CHECK(accept1(&tt) == NULL);
	ust_close(so);
	tt_fini(&tt);
}
#endif
