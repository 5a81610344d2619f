/*
 * test_tcp_stacks.c - TCP function blocks (tcp_stacks/tcp_stacks.c) and the
 * rack stack's send map (tcp_stacks/rack.c): the registry and the
 * net.inet.tcp.functions_* knobs, TCP_FUNCTION_BLK (get, set, bad names,
 * handoff refused, accepted sockets inheriting the listener's block), the
 * send map's splits, SACK and loss marks and its limit, and a bulk
 * transfer over a lossy pipe with the rack stack, bytes intact.
 */
#include <stdlib.h>
#include <string.h>

#include "bulkrig.h"
#include "kern/stack_var.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

static int
fb_get(struct ust_socket *so, struct ust_tcp_function_set *fs)
{
	size_t len = sizeof(*fs);

	memset(fs, 0, sizeof(*fs));
	return (ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_FUNCTION_BLK, fs, &len));
}

static int
fb_set(struct ust_socket *so, const char *name)
{
	struct ust_tcp_function_set fs;

	memset(&fs, 0, sizeof(fs));
	memcpy(fs.function_set_name, name, strlen(name));
	return (ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_FUNCTION_BLK, &fs, sizeof(fs)));
}

/* The default stack is "freebsd", always there, the default of new
 * connections; unknown names are refused. */
TEST(tcp_stacks_registry_and_default)
{
	struct ipt t;
	struct ust_socket *so;
	struct ust_tcp_function_set fs;
	char buf[512];

	ipt_init(&t, 1);
	CHECK(tcp_fb_find("freebsd") == &tcp_def_funcblk);
	CHECK(tcp_fb_get(0) == &tcp_def_funcblk);
	CHECK(tcp_fb_find("nosuch") == NULL);
	CHECK(tcp_fb_find(NULL) == NULL);
	CHECK(tcp_fb_default(t.st) == &tcp_def_funcblk);
	CHECK(
	    tcp_def_funcblk.tfb_tcp_sent == NULL && tcp_def_funcblk.tfb_tcp_ack_processed == NULL);
	CHECK(tcp_fb_set_default(t.st, "nosuch") == UST_ENOENT);
	REQUIRE_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	REQUIRE_EQ(fb_get(so, &fs), 0);
	CHECK(strcmp(fs.function_set_name, "freebsd") == 0);
	CHECK_EQ(fs.pcbcnt, 1);
	CHECK(tcp_fb_list(t.st, buf, sizeof(buf)) < sizeof(buf));
	CHECK(strstr(buf, "freebsd                         * 1") != NULL);
	/* A too small buffer: the length it needs, a terminated prefix. */
	CHECK(tcp_fb_list(t.st, buf, 8) > 8 && strlen(buf) == 7);
	CHECK_EQ(fb_set(so, "nosuch"), -UST_ENOENT);
	CHECK_EQ(fb_set(so, "freebsd"), 0);
	ust_close(so);
	CHECK_EQ(t.st->st_tcp_fb_count[0], 0);
	ipt_fini(&t);
}

#if UST_TCP_RACK
/* TCP_FUNCTION_BLK: set before the connection, read back with the
 * count; a name without a NUL in 32 bytes is EINVAL; short buffers are
 * EINVAL; the knob picks the block of new sockets. */
TEST(tcp_stacks_sockopt_and_knob)
{
	struct ipt t;
	struct ust_socket *so, *so2;
	struct ust_tcp_function_set fs;
	char name[40], buf[512];
	size_t len = 8;

	ipt_init(&t, 2);
	REQUIRE_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	CHECK_EQ(fb_set(so, "rack"), 0);
	REQUIRE_EQ(fb_get(so, &fs), 0);
	CHECK(strcmp(fs.function_set_name, "rack") == 0);
	CHECK_EQ(fs.pcbcnt, 1);
	memset(name, 'x', sizeof(name));
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_FUNCTION_BLK, name, 32), -UST_EINVAL);
	/* A bare name without its NUL is taken (the value's end ends it). */
	CHECK_EQ(ust_setsockopt(so, UST_IPPROTO_TCP, UST_TCP_FUNCTION_BLK, "freebsd", 7), 0);
	CHECK_EQ(ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_FUNCTION_BLK, &fs, &len), -UST_EINVAL);
	CHECK_EQ(ust_sysctl_set_str(t.st, "net.inet.tcp.functions_default", "rack"), 0);
	CHECK_EQ(ust_sysctl_get_str(t.st, "net.inet.tcp.functions_default", buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "rack") == 0);
	CHECK(ust_sysctl_set_str(t.st, "net.inet.tcp.functions_default", "bbr") != 0);
	REQUIRE_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so2), 0);
	REQUIRE_EQ(fb_get(so2, &fs), 0);
	CHECK(strcmp(fs.function_set_name, "rack") == 0);
	CHECK_EQ(ust_sysctl_get_str(t.st, "net.inet.tcp.functions_available", buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "rack                            * 1") != NULL);
	CHECK(strstr(buf, "freebsd                           1") != NULL);
	ust_close(so);
	ust_close(so2);
	CHECK_EQ(t.st->st_rack_maps, 0);
	ipt_fini(&t);
}

/* An established connection moves to rack and back; rack refuses a
 * connection in loss recovery (EINVAL, FreeBSD's answer); an accepted
 * socket has its listener's block. */
TEST(tcp_stacks_switch_established_and_inherit)
{
	struct tt tt;
	struct ust_tcp_function_set fs;
	struct tcpcb *tp;

	tt_init(&tt, 3);
	REQUIRE(tt_listen(&tt));
	CHECK_EQ(fb_set(tt.lso, "rack"), 0);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(fb_get(tt.so, &fs), 0);
	CHECK(strcmp(fs.function_set_name, "rack") == 0);
	CHECK_EQ(fs.pcbcnt, 2);
	CHECK_EQ(fb_set(tt.so, "freebsd"), 0);
	tp = tt_tp(&tt);
	REQUIRE(tp != NULL);
	CHECK(tp->t_fb == &tcp_def_funcblk && tp->t_fb_ptr == NULL);
	tp->t_flags |= TF_FASTRECOVERY;
	CHECK_EQ(fb_set(tt.so, "rack"), -UST_EINVAL);
	CHECK(tp->t_fb == &tcp_def_funcblk);
	tp->t_flags &= ~TF_FASTRECOVERY;
	CHECK_EQ(fb_set(tt.so, "rack"), 0);
	CHECK(tp->t_fb == &tcp_rack_funcblk && tp->t_fb_ptr != NULL);
	tt_fini(&tt);
}

/* A connection handed over with data in flight: one entry covers it. */
TEST(tcp_stacks_handoff_with_data_in_flight)
{
	struct tt tt;
	static uint8_t data[2920];
	struct rack_map_info mi[4];
	struct tcpcb *tp;

	memset(data, 'd', sizeof(data));
	tt_init(&tt, 4);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_send(tt.so, data, sizeof(data), 0), (ptrdiff_t)sizeof(data));
	ipt_poll(&tt.t);
	tp = tt_tp(&tt);
	REQUIRE(tp != NULL && tp->snd_max - tp->snd_una == sizeof(data));
	CHECK_EQ(fb_set(tt.so, "rack"), 0);
	REQUIRE_EQ(rack_map_info(tp, mi, 4), 1);
	CHECK_EQ(mi[0].start, tp->snd_una);
	CHECK_EQ(mi[0].end, tp->snd_max);
	tt_in(&tt, TH_ACK, 1, 1 + sizeof(data), 32767);
	ipt_poll(&tt.t);
	CHECK_EQ(rack_map_info(tp, mi, 4), 0);
	CHECK_EQ(tt.t.st->st_rack_maps, 0);
	tt_fini(&tt);
}

/* The send map alone, on a tcpcb of the test's (no socket: tcp_output
 * sends nothing): entries per transmission, splits on a partial
 * retransmission and on SACK blocks, RACK's loss marks, the cumulative
 * ACK freeing, and the per-connection limit. */
#define SM_UNA 1000u
TEST(rack_sendmap_split_sack_lost_and_limit)
{
	struct ipt t;
	struct tcpcb tp;
	struct tcp_seg seg;
	struct rack_map_info mi[16];
	uint32_t n, i;

	ipt_init(&t, 5);
	memset(&tp, 0, sizeof(tp));
	tp.t_stack = t.st;
	tp.t_state = TCPS_ESTABLISHED;
	tp.t_flags = TF_SACK_PERMIT;
	tp.t_maxseg = 1000;
	tp.t_srtt = 100000;
	tp.t_rxtcur = 500000;
	tp.snd_una = tp.snd_nxt = tp.snd_max = SM_UNA;
	tp.snd_cwnd = 10000;
	tp.snd_ssthresh = 1u << 30;
	tcp_fb_attach(&tp, &tcp_rack_funcblk);
	REQUIRE(tp.t_fb == &tcp_rack_funcblk);
	/* Two segments and a 2000-byte burst. */
	tp.t_fb->tfb_tcp_sent(&tp, SM_UNA, 1000);
	tp.snd_max = tp.snd_nxt = SM_UNA + 1000;
	tp.t_fb->tfb_tcp_sent(&tp, SM_UNA + 1000, 1000);
	tp.snd_max = tp.snd_nxt = SM_UNA + 2000;
	tp.t_fb->tfb_tcp_sent(&tp, SM_UNA + 2000, 2000);
	tp.snd_max = tp.snd_nxt = SM_UNA + 4000;
	CHECK_EQ(rack_map_info(&tp, mi, 16), 3);
	/* Half of the burst again: split, one retransmission counted. */
	ipt_advance(&t, 50 * 1000000ull);
	tp.t_fb->tfb_tcp_sent(&tp, SM_UNA + 2000, 1000);
	REQUIRE_EQ(rack_map_info(&tp, mi, 16), 4);
	CHECK(mi[2].start == SM_UNA + 2000 && mi[2].end == SM_UNA + 3000 && mi[2].rexmits == 1);
	CHECK(mi[3].start == SM_UNA + 3000 && mi[3].end == SM_UNA + 4000 && mi[3].rexmits == 0);
	/* 100 ms later the first half of the retransmission is SACKed (no
	 * cumulative ACK): the block splits its entry; RACK's most recent
	 * delivery is the retransmission (RACK.rtt = min_RTT = 100 ms: an
	 * earlier sample of 150 ms from an original would have made it look
	 * too fast to be for the retransmission, RFC 8985 6.2 step 2), so
	 * every segment sent before it is lost (reo_wnd 25 ms), the other
	 * half of the retransmission is not. */
	ipt_advance(&t, 100 * 1000000ull);
	memset(&seg, 0, sizeof(seg));
	seg.th.th_ack = SM_UNA;
	seg.th.th_flags = TH_ACK;
	seg.to.to_flags = TOF_SACK;
	seg.to.to_nsacks = 1;
	seg.to.to_sacks[0].start = SM_UNA + 2000;
	seg.to.to_sacks[0].end = SM_UNA + 2500;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	n = rack_map_info(&tp, mi, 16);
	REQUIRE_EQ(n, 5);
	CHECK(mi[0].start == SM_UNA && mi[0].lost && !mi[0].sacked);
	CHECK(mi[1].start == SM_UNA + 1000 && mi[1].lost);
	CHECK(mi[2].start == SM_UNA + 2000 && mi[2].end == SM_UNA + 2500 && mi[2].sacked);
	CHECK(mi[3].start == SM_UNA + 2500 && !mi[3].lost && !mi[3].sacked);
	CHECK(mi[4].start == SM_UNA + 3000 && mi[4].lost);
	CHECK(IN_FASTRECOVERY(tp.t_flags));
#if UST_STATS
	CHECK_EQ(t.st->st_tcpstat.tcps_rack_lost, 3);
#endif
	/* Everything acknowledged: the map empties. */
	seg.th.th_ack = SM_UNA + 4000;
	seg.to.to_flags = 0;
	seg.to.to_nsacks = 0;
	tp.snd_una = SM_UNA + 4000;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	CHECK_EQ(rack_map_info(&tp, mi, 16), 0);
	CHECK_EQ(t.st->st_rack_maps, 0);
	/* The limit (8 entries): the last entry grows, counted. */
	tp.t_flags &= ~TF_FASTRECOVERY;
	REQUIRE_EQ(ust_sysctl_set(t.st, "net.inet.tcp.rack.map_limit", 8), 0);
	for (i = 0; i < 20; i++) {
		tp.t_fb->tfb_tcp_sent(&tp, tp.snd_max, 1000);
		tp.snd_max += 1000;
		tp.snd_nxt = tp.snd_max;
	}
	n = rack_map_info(&tp, mi, 16);
	CHECK_EQ(n, 8);
	CHECK_EQ(mi[7].end, tp.snd_max);
	CHECK_EQ(mi[0].start, SM_UNA + 4000);
#if UST_STATS
	CHECK(t.st->st_tcpstat.tcps_rack_map_exhausted >= 12);
#endif
	tcp_fb_detach(&tp);
	tcp_timer_stop_all(&tp);
	CHECK_EQ(t.st->st_rack_maps, 0);
	ipt_fini(&t);
}

/* RFC 8985 7.1: a D-SACK widens the reordering window by one quarter of
 * min_RTT once per round trip (until snd_una passes the snd_max of the
 * round), for 16 recoveries; a segment delivered below the highest
 * delivered one without retransmission is reordering (6.2 step 3). */
TEST(rack_dsack_widens_reo_wnd_and_reordering_seen)
{
	struct ipt t;
	struct tcpcb tp;
	struct tcp_seg seg;
	struct rack_state_info rs;
	uint32_t i;

	ipt_init(&t, 6);
	memset(&tp, 0, sizeof(tp));
	tp.t_stack = t.st;
	tp.t_state = TCPS_ESTABLISHED;
	tp.t_flags = TF_SACK_PERMIT;
	tp.t_maxseg = 1000;
	tp.t_srtt = 100000;
	tp.t_rxtcur = 500000;
	tp.snd_una = tp.snd_nxt = tp.snd_max = SM_UNA;
	tp.snd_cwnd = 10000;
	tcp_fb_attach(&tp, &tcp_rack_funcblk);
	REQUIRE_EQ(rack_state(&tp, &rs), 0);
	CHECK_EQ(rs.reo_wnd_mult, 1);
	CHECK(rs.min_rtt_ns == UINT64_MAX && !rs.reord);
	for (i = 0; i < 4; i++) {
		tp.t_fb->tfb_tcp_sent(&tp, tp.snd_max, 1000);
		tp.snd_max += 1000;
		tp.snd_nxt = tp.snd_max;
	}
	ipt_advance(&t, 10 * 1000000ull);
	/* The second segment arrives first (SACK), then the first: reordering. */
	memset(&seg, 0, sizeof(seg));
	seg.th.th_flags = TH_ACK;
	seg.th.th_ack = SM_UNA;
	seg.to.to_flags = TOF_SACK;
	seg.to.to_nsacks = 1;
	seg.to.to_sacks[0].start = SM_UNA + 1000;
	seg.to.to_sacks[0].end = SM_UNA + 2000;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	seg.th.th_ack = tp.snd_una = SM_UNA + 2000;
	seg.to.to_flags = 0;
	seg.to.to_nsacks = 0;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	REQUIRE_EQ(rack_state(&tp, &rs), 0);
	CHECK(rs.reord);
	CHECK_EQ(rs.min_rtt_ns, 10 * 1000000ull);
	CHECK_EQ(rs.reo_wnd_mult, 1);
	/* A D-SACK (a block below the ACK): +1, persisting 16 recoveries. */
	seg.th.th_ack = tp.snd_una = SM_UNA + 3000;
	seg.to.to_flags = TOF_SACK;
	seg.to.to_nsacks = 1;
	seg.to.to_sacks[0].start = SM_UNA;
	seg.to.to_sacks[0].end = SM_UNA + 1000;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	REQUIRE_EQ(rack_state(&tp, &rs), 0);
	CHECK_EQ(rs.reo_wnd_mult, 2);
	CHECK_EQ(rs.reo_wnd_persist, 16);
	/* Another in the same round: no change. */
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	REQUIRE_EQ(rack_state(&tp, &rs), 0);
	CHECK_EQ(rs.reo_wnd_mult, 2);
	/* The round ends (snd_una reaches its snd_max); the next D-SACK
	 * widens again. */
	tp.t_fb->tfb_tcp_sent(&tp, tp.snd_max, 1000);
	tp.snd_max += 1000;
	tp.snd_nxt = tp.snd_max;
	seg.th.th_ack = tp.snd_una = SM_UNA + 4000;
	tp.t_fb->tfb_tcp_ack_processed(&tp, &seg);
	REQUIRE_EQ(rack_state(&tp, &rs), 0);
	CHECK_EQ(rs.reo_wnd_mult, 3);
	tcp_fb_detach(&tp);
	tcp_timer_stop_all(&tp);
	CHECK_EQ(t.st->st_rack_maps, 0);
	ipt_fini(&t);
}

/* A 4 MB transfer from A (TCP stack `fb`) to B over a 100 Mbit/s pipe of
 * 10 ms each way losing loss_ppm of A's frames (seeded); map_limit: the
 * rack send map's bound (0: the default). */
static void
pipe_run(uint64_t seed, const char *fb, uint32_t loss_ppm, int64_t map_limit, struct bulk_result *r,
    struct ust_tcpstat *ts)
{
	struct bulk w;
	struct ust_pipe_config pc;
	unsigned i;

	bulk_stacks(&w, seed, 64u << 20, 16384, 8192);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w.vc);
	pc.ring_size = 4096;
	for (i = 0; i < 2; i++) {
		pc.fault[i].delay_ns = 10 * BULK_MS;
		pc.fault[i].rate_bps = 100000000ull;
		pc.fault[i].seed = seed * 7 + i;
	}
	pc.fault[0].loss_ppm = loss_ppm;
	REQUIRE_EQ(ust_pipe_create(&pc, &w.p), 0);
	bulk_attach(&w, ust_pipe_ops(), ust_pipe_end(w.p, UST_PIPE_A), ust_pipe_ops(),
	    ust_pipe_end(w.p, UST_PIPE_B));
	REQUIRE_EQ(ust_sysctl_set_str(w.a, "net.inet.tcp.functions_default", fb), 0);
	if (map_limit != 0)
		REQUIRE_EQ(ust_sysctl_set(w.a, "net.inet.tcp.rack.map_limit", map_limit), 0);
	bulk_sockets(&w);
	bulk_connect(&w);
	bulk_transfer(&w, 4u << 20, 60000, r);
	bulk_print(fb, &w, r);
	ust_stats_tcp(w.a, ts);
	bulk_fini(&w);
}

/* With the rack stack every byte arrives in order, RACK or TLP repaired
 * the losses, and the send maps are freed (bulk_fini's leak check); the
 * default stack on the same seeds is printed beside it. */
TEST(rack_bulk_transfer_over_lossy_pipe)
{
	static const uint64_t seeds[] = { 11, 12, 13 };
	struct bulk_result r, rd;
	struct ust_tcpstat ts, tsd;
	unsigned k;

	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		pipe_run(seeds[k], "rack", 10000, 0, &r, &ts);
		CHECK(r.intact);
		CHECK_EQ(r.got, 4u << 20);
		pipe_run(seeds[k], "freebsd", 10000, 0, &rd, &tsd);
		CHECK(rd.intact && rd.got == 4u << 20);
#if UST_STATS
		CHECK(ts.tcps_rack_lost + ts.tcps_tlpresends + ts.tcps_rack_tlp_new > 0);
		CHECK(ts.tcps_sndrexmitpack > 0);
		CHECK_EQ(tsd.tcps_rack_lost + tsd.tcps_tlpresends + tsd.tcps_rack_tlp_new, 0);
		printf("  rack: lost %llu tlp %llu+%llu reorder_to %llu rto %llu rexmit %llu; "
		       "freebsd: rto %llu rexmit %llu\n",
		    (unsigned long long)ts.tcps_rack_lost, (unsigned long long)ts.tcps_tlpresends,
		    (unsigned long long)ts.tcps_rack_tlp_new,
		    (unsigned long long)ts.tcps_rack_to_tot, (unsigned long long)ts.tcps_rexmttimeo,
		    (unsigned long long)ts.tcps_sndrexmitpack,
		    (unsigned long long)tsd.tcps_rexmttimeo,
		    (unsigned long long)tsd.tcps_sndrexmitpack);
#endif
	}
}

/* Without loss, nothing is retransmitted when more segments are in
 * flight than the send map has entries (its last entry grows, its time
 * the newest segment's): a cumulative ACK inside a grown entry is no RTT
 * sample and leaves the rest of the entry no loss candidate.  (Before:
 * RACK.rtt from such an ACK was tiny and the entry's own rest was marked
 * lost; the loss bench's 0% row retransmitted 600 KB.) */
TEST(rack_no_spurious_loss_at_the_map_bound)
{
	static const uint64_t seeds[] = { 21, 22 };
	struct bulk_result r;
	struct ust_tcpstat ts;
	unsigned k;

	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		pipe_run(seeds[k], "rack", 0, 16, &r, &ts);
		CHECK(r.intact);
		CHECK_EQ(r.got, 4u << 20);
#if UST_STATS
		CHECK(ts.tcps_rack_map_exhausted > 0);
		if (ts.tcps_sndrexmitpack != 0 || ts.tcps_rack_lost != 0)
			printf("  seed %llu: rexmit %llu lost %llu\n", (unsigned long long)seeds[k],
			    (unsigned long long)ts.tcps_sndrexmitpack,
			    (unsigned long long)ts.tcps_rack_lost);
		CHECK_EQ(ts.tcps_sndrexmitpack, 0);
		CHECK_EQ(ts.tcps_rack_lost, 0);
		CHECK_EQ(ts.tcps_fastretransmits, 0);
#endif
	}
}
#endif /* UST_TCP_RACK */
