/*
 * test_tcp_ecn.c - ECN (RFC 3168 6.1) in tcp_input/tcp_output/syncache, as
 * packet scripts against one stack (FreeBSD's packetdrill suite: snd-syn/
 * snd-syn-with-ecn*, snippets/syn-rcvd-via-syn-sent-ipv4-ecn*, getsockopt
 * tcpinfo) and as transfers between two stacks over the pipe:
 *  - ECN-setup SYN (SEW) with net.inet.tcp.ecn.enable=1 and the plain-SYN
 *    fallback after net.inet.tcp.ecn.maxretries retransmissions;
 *  - SYN-ACK: ECE alone, only to an ECN-setup SYN; anything else is "no";
 *  - ECT(0) on new data only; CE -> ECE on ACKs until CWR; ECE -> one
 *    window reduction per window of data and CWR on the next new data;
 *  - the enable matrix between two stacks, and a transfer through a pipe
 *    that marks CE instead of dropping.
 */
#include <stdio.h>
#include <stdlib.h>

#include <ustack/ustack_pipe.h>

#include "kern/stack_var.h"
#include "netinet/ip.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"
#include "ust_test.h"

/* The whole file needs ECN (ustack_opts.h). */
#if UST_TCP_ECN

#define TCPS(tt) (&(tt)->t.st->st_tcpstat)
#define ECN(sg) ((sg).tos & IPTOS_ECN_MASK)
#define SEW (TH_SYN | TH_ECE | TH_CWR)

static const uint8_t payload[4 * 1460];

/* REQUIRE for helpers that return 0 on failure. */
#define NEED(x)                     \
	do {                        \
		if (!(x)) {         \
			CHECK(x);   \
			return (0); \
		}                   \
	} while (0)

/* socket + connect with the knobs given; the SYN must carry syn_flags. */
static int
ecn_connect(struct tt *tt, int enable, int maxretries, uint16_t syn_flags)
{
	struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), tt->pport), me;
	struct tt_seg sg;

	tt_sysctl(tt, "net.inet.tcp.ecn.enable", enable);
	tt_sysctl(tt, "net.inet.tcp.ecn.maxretries", maxretries);
	NEED(ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->so) == 0);
	CHECK_EQ(ust_connect(tt->so, (const struct ust_sockaddr *)&to, sizeof(to)),
	    -UST_EINPROGRESS);
	ipt_poll(&tt->t);
	if (ust_getsockname(tt->so, (struct ust_sockaddr *)&me, &(ust_socklen_t){ sizeof(me) }) ==
	    0)
		tt->lport = ntohs(me.sin_port);
	if (!TT_OUT_SEG(tt, syn_flags, 0, 0, TT_ANY, 65535, &sg))
		return (0);
	/* RFC 3168 6.1.1: SYNs are never ECT. */
	CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
	return (1);
}

static int
has_ecn(struct ust_socket *so)
{
	struct ust_tcp_info ti;

	CHECK_EQ(tt_info(so, &ti), 0);
	return ((ti.tcpi_options & UST_TCPI_OPT_ECN) != 0);
}

/* enable=1: SEW, the peer answers S.E, ECN is on. */
static int
ecn_established(struct tt *tt)
{
	if (!ecn_connect(tt, 1, 1, SEW))
		return (0);
	tt_in(tt, TH_SYN | TH_ACK | TH_ECE, 0, 1, 32767);
	if (!TT_OUT(tt, TH_ACK, 1, 0, 1, TT_ANY))
		return (0);
	CHECK(has_ecn(tt->so));
	CHECK_EQ(TCPS(tt)->tcps_ecn_shs, 1);
	return (1);
}

/* snd-syn-with-ecn-ipv4.pkt: SEW, SEW at +1 s, S at +2.2 s. */
TEST(syn_ecn_setup_then_plain_after_maxretries_1)
{
	struct tt tt;

	tt_init(&tt, 1);
	tt_sysctl(&tt, "net.inet.tcp.rexmit_slop", 200);
	REQUIRE(ecn_connect(&tt, 1, 1, SEW));
	ipt_advance(&tt.t, 1500 * IPT_MS);
	CHECK(TT_OUT(&tt, SEW, 0, 0, TT_ANY, 65535));
	TT_NONE(&tt);
	ipt_advance(&tt.t, 2500 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, 65535));
	TT_NONE(&tt);
	ipt_advance(&tt.t, 5000 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, 65535));
	tt_fini(&tt);
}

/* snd-syn-with-ecn-alt-maxretries-ipv4.pkt: maxretries=0, SEW then S, S. */
TEST(syn_ecn_setup_once_with_maxretries_0)
{
	struct tt tt;

	tt_init(&tt, 2);
	tt_sysctl(&tt, "net.inet.tcp.rexmit_slop", 200);
	REQUIRE(ecn_connect(&tt, 1, 0, SEW));
	ipt_advance(&tt.t, 1500 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, 65535));
	ipt_advance(&tt.t, 2500 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_SYN, 0, 0, TT_ANY, 65535));
	tt_fini(&tt);
}

/* enable 0 and 2 never ask. */
TEST(syn_plain_when_enable_0_or_2)
{
	int e;

	for (e = 0; e <= 2; e += 2) {
		struct tt tt;

		tt_init(&tt, 3 + (uint64_t)e);
		REQUIRE(ecn_connect(&tt, e, 1, TH_SYN));
		tt_fini(&tt);
	}
}

#if UST_STATS
/* A SYN-ACK with ECE to a SYN that did not ask, and one with ECE|CWR to
 * one that did: neither turns ECN on (RFC 3168 6.1.1). */
TEST(synack_ece_ignored_unless_asked_and_without_cwr)
{
	static const struct {
		int enable;
		uint16_t syn, synack;
	} cases[] = {
		{ 2, TH_SYN, TH_SYN | TH_ACK | TH_ECE },
		{ 0, TH_SYN, TH_SYN | TH_ACK | TH_ECE },
		{ 1, SEW, TH_SYN | TH_ACK | TH_ECE | TH_CWR },
		{ 1, SEW, TH_SYN | TH_ACK },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt tt;
		struct tt_seg sg;

		tt_init(&tt, 10 + i);
		REQUIRE(ecn_connect(&tt, cases[i].enable, 1, cases[i].syn));
		tt_in(&tt, cases[i].synack, 0, 1, 32767);
		CHECK(TT_OUT(&tt, TH_ACK, 1, 0, 1, TT_ANY));
		CHECK(!has_ecn(tt.so));
		CHECK_EQ(TCPS(&tt)->tcps_ecn_shs, 0);
		REQUIRE_EQ(ust_send(tt.so, payload, 10, 0), 10);
		ipt_poll(&tt.t);
		CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH, 1, 10, 1, TT_ANY, &sg));
		CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
		tt_fini(&tt);
	}
}
#endif

#if UST_STATS
/* getsockopt-tcpinfo: TCPI_OPT_ECN; new data ECT(0), the pure ACK and the
 * retransmission Not-ECT (RFC 3168 6.1.5-6.1.6). */
TEST(ect0_on_new_data_only)
{
	struct tt tt;
	struct tt_seg sg;

	tt_init(&tt, 20);
	REQUIRE(ecn_established(&tt));
	REQUIRE_EQ(ust_send(tt.so, payload, 10, 0), 10);
	ipt_poll(&tt.t);
	CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH, 1, 10, 1, TT_ANY, &sg));
	CHECK_EQ(ECN(sg), IPTOS_ECN_ECT0);
	CHECK(!(sg.flags & (TH_ECE | TH_CWR)));
	/* Lost: every retransmission is Not-ECT (the RTO is short: the
	 * handshake gave an RTT sample near zero). */
	ipt_advance(&tt.t, 1500 * IPT_MS);
	REQUIRE(tt_pending(&tt) >= 1);
	while (tt_next(&tt, &sg)) {
		CHECK_EQ(sg.seq, 1);
		CHECK_EQ(sg.len, 10);
		CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
	}
	CHECK(TCPS(&tt)->tcps_sndrexmitpack >= 1);
	/* The peer's data: our ACK is Not-ECT. */
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 11, 32767, payload, 100);
	ipt_advance(&tt.t, 200 * IPT_MS);
	CHECK(TT_OUT_SEG(&tt, TH_ACK, 11, 0, 101, TT_ANY, &sg));
	CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ect0, 0);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ce, 0);
	/* IP_TOS cannot fake an ECN field on TCP.  The timeouts reduced the
	 * window: the first new data after them carries CWR (RFC 3168 6.1.2,
	 * "for any reason"). */
	CHECK_EQ(tl_setint(tt.so, UST_IPPROTO_IP, UST_IP_TOS, 0xb9), 0);
	REQUIRE_EQ(ust_send(tt.so, payload, 10, 0), 10);
	ipt_poll(&tt.t);
	CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH | TH_CWR, 11, 10, 101, TT_ANY, &sg));
	CHECK_EQ(sg.tos, 0xba);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* RFC 3168 6.1.3: CE data -> an immediate ACK with ECE; ECE on every ACK
 * until a segment with CWR arrives. */
TEST(ce_echoed_until_cwr)
{
	struct tt tt;
	struct tt_seg sg;

	tt_init(&tt, 30);
	REQUIRE(ecn_established(&tt));
	tt.in_tos = IPTOS_ECN_CE;
	tt_in_data(&tt, TH_ACK, 1, 1, 32767, payload, 100);
	/* At once, not after the delayed-ACK timer. */
	CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_ECE, 1, 0, 101, TT_ANY, &sg));
	CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ce, 1);
	tt.in_tos = IPTOS_ECN_ECT0;
	tt_in_data(&tt, TH_ACK, 101, 1, 32767, payload, 100);
	ipt_advance(&tt.t, 200 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_ACK | TH_ECE, 1, 0, 201, TT_ANY));
	tt.in_tos = IPTOS_ECN_ECT1;
	tt_in_data(&tt, TH_ACK, 201, 1, 32767, payload, 100);
	ipt_advance(&tt.t, 200 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_ACK | TH_ECE, 1, 0, 301, TT_ANY));
	/* Our own data carries the echo too. */
	REQUIRE_EQ(ust_send(tt.so, payload, 10, 0), 10);
	ipt_poll(&tt.t);
	CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH | TH_ECE, 1, 10, 301, TT_ANY, &sg));
	CHECK_EQ(ECN(sg), IPTOS_ECN_ECT0);
	/* CWR: the sender reduced; the echo stops. */
	tt.in_tos = IPTOS_ECN_ECT0;
	tt_in_data(&tt, TH_ACK | TH_CWR, 301, 11, 32767, payload, 100);
	ipt_advance(&tt.t, 200 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_ACK, 11, 0, 401, TT_ANY));
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ce, 1);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ect0, 2);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ect1, 1);
	/* CE on a connection without ECN: nothing echoed, nothing counted. */
	tt_fini(&tt);
	tt_init(&tt, 31);
	REQUIRE(tt_established_active(&tt));
	tt.in_tos = IPTOS_ECN_CE;
	tt_in_data(&tt, TH_ACK, 1, 1, 32767, payload, 100);
	ipt_advance(&tt.t, 200 * IPT_MS);
	CHECK(TT_OUT(&tt, TH_ACK, 1, 0, 101, TT_ANY));
	CHECK_EQ(TCPS(&tt)->tcps_ecn_ce, 0);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* RFC 3168 6.1.2: ECE -> one reduction per window; CWR on the next new
 * data segment only; ECE for data sent after the reduction -> another. */
TEST(ece_one_reduction_per_window_then_cwr)
{
	struct tt tt;
	struct tt_seg sg;
	struct ust_tcp_info ti;
	uint32_t cwnd0, ssthresh1;

	tt_init(&tt, 40);
	REQUIRE(ecn_established(&tt));
	REQUIRE_EQ(ust_send(tt.so, payload, 4 * 1460, 0), 4 * 1460);
	ipt_poll(&tt.t);
	CHECK_EQ(tt_pending(&tt), 4);
	while (tt_next(&tt, &sg))
		CHECK_EQ(ECN(sg), IPTOS_ECN_ECT0);
	CHECK_EQ(tt_info(tt.so, &ti), 0);
	cwnd0 = ti.tcpi_snd_cwnd;
	tt_in(&tt, TH_ACK | TH_ECE, 1, 1 + 1460, 32767);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_rcwnd, 1);
	CHECK_EQ(tt_info(tt.so, &ti), 0);
	ssthresh1 = ti.tcpi_snd_ssthresh;
	CHECK(ti.tcpi_snd_cwnd < cwnd0);
	CHECK(ssthresh1 < cwnd0);
	/* The rest of the window echoes the same CE: no second reduction. */
	tt_in(&tt, TH_ACK | TH_ECE, 1, 1 + 2 * 1460, 32767);
	tt_in(&tt, TH_ACK | TH_ECE, 1, 1 + 3 * 1460, 32767);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_rcwnd, 1);
	CHECK_EQ(tt_info(tt.so, &ti), 0);
	CHECK_EQ(ti.tcpi_snd_ssthresh, ssthresh1);
	/* No retransmission came of it. */
	CHECK_EQ(TCPS(&tt)->tcps_sndrexmitpack, 0);
	/* Next new data: CWR on the first segment, not on the second. */
	REQUIRE_EQ(ust_send(tt.so, payload, 2 * 1460, 0), 2 * 1460);
	ipt_poll(&tt.t);
	while (tt_next(&tt, &sg)) {
		if (sg.len == 0)
			continue;
		CHECK_EQ(ECN(sg), IPTOS_ECN_ECT0);
		CHECK_EQ((sg.flags & TH_CWR) != 0, sg.seq == 1 + 4 * 1460);
	}
	/* The reduction's window is acked (the peer still echoes: it has not
	 * seen our CWR yet): still one reduction. */
	tt_in(&tt, TH_ACK | TH_ECE, 1, 1 + 4 * 1460, 32767);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_rcwnd, 1);
	/* New CE on the data sent after it: a second reduction. */
	tt_in(&tt, TH_ACK | TH_ECE, 1, 1 + 5 * 1460, 32767);
	CHECK_EQ(TCPS(&tt)->tcps_ecn_rcwnd, 2);
	CHECK_EQ(TCPS(&tt)->tcps_sndrexmitpack, 0);
	tt_fini(&tt);
}
#endif

#if UST_STATS
/* The syncache answers an ECN-setup SYN with S.E (no CWR, Not-ECT) when
 * enable is 1 or 2, and with S. otherwise or to a SYN with ECE alone. */
TEST(syncache_synack_ece_matrix)
{
	static const struct {
		int enable;
		uint16_t syn;
		int ecn;
	} cases[] = {
		{ 2, SEW, 1 },
		{ 1, SEW, 1 },
		{ 0, SEW, 0 },
		{ 2, TH_SYN | TH_ECE, 0 },
		{ 2, TH_SYN | TH_CWR, 0 },
		{ 1, TH_SYN, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt tt;
		struct tt_seg sg;
		struct ust_socket *so = NULL;
		struct ust_sockaddr_in peer;

		tt_init(&tt, 50 + i);
		tt_sysctl(&tt, "net.inet.tcp.ecn.enable", cases[i].enable);
		REQUIRE(tt_listen(&tt));
		tt_in(&tt, cases[i].syn, 0, 0, 32767);
		CHECK(TT_OUT_SEG(&tt, TH_SYN | TH_ACK | (cases[i].ecn ? TH_ECE : 0), 0, 0, 1, 65535,
		    &sg));
		CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
		tt_in(&tt, TH_ACK, 1, 1, 32767);
		REQUIRE_EQ(ust_accept(tt.lso, &so, (struct ust_sockaddr *)&peer,
		               &(ust_socklen_t){ sizeof(peer) }),
		    0);
		tt.so = so;
		CHECK_EQ(has_ecn(so), cases[i].ecn);
		CHECK_EQ(TCPS(&tt)->tcps_ecn_shs, (uint64_t)cases[i].ecn);
		REQUIRE_EQ(ust_send(so, payload, 10, 0), 10);
		ipt_poll(&tt.t);
		CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH, 1, 10, 1, TT_ANY, &sg));
		CHECK_EQ(ECN(sg), cases[i].ecn ? IPTOS_ECN_ECT0 : IPTOS_ECN_NOTECT);
		tt_fini(&tt);
	}
}
#endif

#if UST_STATS
/* A cookie cannot hold the ECN agreement: S. without ECE, no ECN. */
TEST(syncookie_never_ecn)
{
	struct tt tt;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in peer;

	tt_init(&tt, 60);
	tt_sysctl(&tt, "net.inet.tcp.ecn.enable", 1);
	tt_sysctl(&tt, "net.inet.tcp.syncookies_only", 1);
	REQUIRE(tt_listen(&tt));
	tt_in(&tt, SEW, 0, 0, 32767);
	CHECK(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY));
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	REQUIRE_EQ(ust_accept(tt.lso, &so, (struct ust_sockaddr *)&peer,
	               &(ust_socklen_t){ sizeof(peer) }),
	    0);
	tt.so = so;
	CHECK(!has_ecn(so));
	CHECK_EQ(TCPS(&tt)->tcps_ecn_shs, 0);
	tt_fini(&tt);
}
#endif

/* snippets/syn-rcvd-via-syn-sent-ipv4-ecn{01,10,11}.pkt: simultaneous
 * open.  Our SYN (S or SEW), the peer's SYN (S or SEW), our SYN-ACK (S.E
 * exactly when the peer's SYN asked), then our data ECT(0) or not. */
TEST(simultaneous_open_ecn)
{
	static const struct {
		int enable;
		uint16_t ours, theirs, synack;
		int ecn;
	} cases[] = {
		{ 2, TH_SYN, SEW, TH_SYN | TH_ACK | TH_ECE, 1 }, /* ecn01 */
		{ 1, SEW, TH_SYN, TH_SYN | TH_ACK, 0 },          /* ecn10 */
		{ 1, SEW, SEW, TH_SYN | TH_ACK | TH_ECE, 1 },    /* ecn11 */
		{ 0, TH_SYN, SEW, TH_SYN | TH_ACK, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt tt;
		struct tt_seg sg;

		tt_init(&tt, 70 + i);
		REQUIRE(ecn_connect(&tt, cases[i].enable, 1, cases[i].ours));
		tt_in(&tt, cases[i].theirs, 0, 0, 32767);
		CHECK(TT_OUT_SEG(&tt, cases[i].synack, 0, 0, 1, TT_ANY, &sg));
		CHECK_EQ(ECN(sg), IPTOS_ECN_NOTECT);
		CHECK_EQ(tt_state(tt.so), UST_TCPS_SYN_RECEIVED);
		tt_in(&tt, TH_ACK, 1, 1, 65535);
		CHECK_EQ(tt_state(tt.so), UST_TCPS_ESTABLISHED);
		CHECK_EQ(has_ecn(tt.so), cases[i].ecn);
		REQUIRE_EQ(ust_send(tt.so, payload, 10, 0), 10);
		ipt_poll(&tt.t);
		CHECK(TT_OUT_SEG(&tt, TH_ACK | TH_PUSH, 1, 10, 1, TT_ANY, &sg));
		CHECK_EQ(ECN(sg), cases[i].ecn ? IPTOS_ECN_ECT0 : IPTOS_ECN_NOTECT);
		tt_fini(&tt);
	}
}

/* ---------------------------------------------------------------------
 * Two stacks over the pipe.
 * ------------------------------------------------------------------- */

#define PMS 1000000ull
#define PPORT 5001

struct ecnp {
	struct ust_vclock *vc;
	struct ust_stack *a, *b;
	struct ust_pipe *p;
	struct ust_if *ifa, *ifb;
	struct ust_socket *lso, *cli, *srv;
};

static void
ecnp_run(struct ecnp *w, uint64_t dt)
{
	{
		struct ust_stack *s[2] = { w->a, w->b };

		tl_run(w->vc, s, 2, dt);
	}
}

/* Client a (enable ea) connects to server b (enable eb) over a pipe with
 * fault config fc in both directions. */
static int
ecnp_open(struct ecnp *w, uint64_t seed, int ea, int eb, const struct ust_fault_config *fc)
{
	struct ust_pipe_config pc;
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), PPORT);
	int err, rounds, i;

	memset(w, 0, sizeof(*w));
	w->vc = ust_vclock_create(1000 * PMS);
	w->a = test_stack_new(w->vc, seed);
	w->b = test_stack_new(w->vc, seed + 1);
	CHECK_EQ(ust_sysctl_set(w->a, "net.inet.tcp.ecn.enable", ea), 0);
	CHECK_EQ(ust_sysctl_set(w->b, "net.inet.tcp.ecn.enable", eb), 0);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(w->vc);
	for (i = 0; i < 2; i++) {
		pc.fault[i] = *fc;
		pc.fault[i].seed = seed * 2 + (uint64_t)i;
	}
	NEED(ust_pipe_create(&pc, &w->p) == 0);
	NEED(ust_if_attach(w->a, "p0", ust_pipe_ops(), ust_pipe_end(w->p, UST_PIPE_A), &w->ifa) ==
	    0);
	NEED(ust_if_attach(w->b, "p0", ust_pipe_ops(), ust_pipe_end(w->p, UST_PIPE_B), &w->ifb) ==
	    0);
	NEED(ust_if_addr_add(w->ifa, test_ip4(1), 24) == 0);
	NEED(ust_if_addr_add(w->ifb, test_ip4(2), 24) == 0);
	ecnp_run(w, 10 * PMS);
	NEED(ust_socket(w->b, UST_AF_INET, UST_SOCK_STREAM, 0, &w->lso) == 0);
	NEED(ust_bind(w->lso, (const struct ust_sockaddr *)&la, sizeof(la)) == 0);
	NEED(ust_listen(w->lso, 8) == 0);
	NEED(ust_socket(w->a, UST_AF_INET, UST_SOCK_STREAM, 0, &w->cli) == 0);
	err = ust_connect(w->cli, (const struct ust_sockaddr *)&la, sizeof(la));
	NEED(err == 0 || err == -UST_EINPROGRESS);
	for (rounds = 0; rounds < 1000 && w->srv == NULL; rounds++) {
		ecnp_run(w, 5 * PMS);
		if (ust_accept(w->lso, &w->srv, NULL, NULL) != 0)
			w->srv = NULL;
	}
	return (w->srv != NULL);
}

static void
ecnp_close(struct ecnp *w)
{
	if (w->cli != NULL)
		ust_close(w->cli);
	if (w->srv != NULL)
		ust_close(w->srv);
	ust_close(w->lso);
	ecnp_run(w, 10000 * PMS);
	test_stack_free(w->a);
	test_stack_free(w->b);
	ust_pipe_destroy(w->p);
	ust_vclock_destroy(w->vc);
}

#if UST_STATS
/* Negotiated exactly when the client asks (1) and the server accepts (1
 * or 2), on both ends, counted once on each. */
TEST(pipe_handshake_matrix)
{
	struct ust_fault_config fc;
	int ea, eb;

	memset(&fc, 0, sizeof(fc));
	fc.delay_ns = PMS;
	for (ea = 0; ea <= 2; ea++)
		for (eb = 0; eb <= 2; eb++) {
			struct ecnp w;
			int want = ea == 1 && eb >= 1;

			REQUIRE(ecnp_open(&w, 100 + (uint64_t)(ea * 3 + eb), ea, eb, &fc));
			if (has_ecn(w.cli) != want || has_ecn(w.srv) != want)
				UST_FAIL_AT(__FILE__, __LINE__,
				    "client %d server %d: ecn %d/%d want %d", ea, eb,
				    has_ecn(w.cli), has_ecn(w.srv), want);
			CHECK_EQ(w.a->st_tcpstat.tcps_ecn_shs, (uint64_t)want);
			CHECK_EQ(w.b->st_tcpstat.tcps_ecn_shs, (uint64_t)want);
			ecnp_close(&w);
		}
}
#endif

static uint8_t
ecnp_byte(uint32_t off)
{
	return ((uint8_t)((off * 2654435761u) >> 24));
}

/* Sends total bytes client -> server; returns the bytes that arrived
 * intact and in order (stops at the first bad one). */
static uint32_t
ecnp_transfer(struct ecnp *w, uint32_t total)
{
	static uint8_t buf[16384];
	uint32_t sent = 0, got = 0, i;
	int rounds, intact = 1;
	ptrdiff_t n;

	for (rounds = 0; rounds < 60000 && got < total && intact; rounds++) {
		while (sent < total) {
			uint32_t chunk = total - sent < sizeof(buf) ? total - sent : sizeof(buf);

			for (i = 0; i < chunk; i++)
				buf[i] = ecnp_byte(sent + i);
			if ((n = ust_send(w->cli, buf, chunk, 0)) <= 0)
				break;
			sent += (uint32_t)n;
		}
		ecnp_run(w, PMS);
		while ((n = ust_recv(w->srv, buf, sizeof(buf), 0)) > 0) {
			for (i = 0; i < (uint32_t)n; i++)
				if (buf[i] != ecnp_byte(got + i))
					intact = 0;
			if (intact)
				got += (uint32_t)n;
		}
	}
	return (got);
}

#if UST_STATS
/* A 10 Mbit/s bottleneck that marks CE above 8 queued frames: with ECN
 * both ends, the sender slows down on the marks and loses nothing; with
 * ECN off no segment is ECT, so the pipe marks nothing. */
TEST(pipe_transfer_ce_threshold)
{
	struct ust_fault_config fc;
	struct ust_pipe_stats ps;
	const uint32_t total = 1u << 20;
	int on;

	memset(&fc, 0, sizeof(fc));
	fc.delay_ns = 2 * PMS;
	fc.rate_bps = 10000000;
	fc.ce_threshold = 8;
	for (on = 1; on >= 0; on--) {
		struct ecnp w;
		uint64_t seed = 300 + (uint64_t)on;
		struct ust_tcpstat *ta, *tb;

		REQUIRE(ecnp_open(&w, seed, on ? 1 : 0, on ? 2 : 0, &fc));
		CHECK_EQ(has_ecn(w.cli), on);
		if (ecnp_transfer(&w, total) != total)
			UST_FAIL_AT(__FILE__, __LINE__, "seed %llu: transfer incomplete",
			    (unsigned long long)seed);
		ust_pipe_get_stats(w.p, UST_PIPE_A_TO_B, &ps);
		ta = &w.a->st_tcpstat;
		tb = &w.b->st_tcpstat;
		printf("ecn %d: ce_marked %llu rcwnd %llu ce %llu ect0 %llu rexmit bytes %llu "
		       "dropped %llu\n",
		    on, (unsigned long long)ps.ce_marked, (unsigned long long)ta->tcps_ecn_rcwnd,
		    (unsigned long long)tb->tcps_ecn_ce, (unsigned long long)tb->tcps_ecn_ect0,
		    (unsigned long long)ta->tcps_sndrexmitbyte,
		    (unsigned long long)(ps.lost + ps.dropped_queue));
		CHECK_EQ(ps.lost + ps.dropped_queue + ps.dropped_mtu, 0);
		CHECK_EQ(ta->tcps_sndrexmitbyte, 0);
		if (on) {
			CHECK(ps.ce_marked > 0);
			CHECK_EQ(tb->tcps_ecn_ce, ps.ce_marked);
			CHECK(tb->tcps_ecn_ect0 > 0);
			CHECK(ta->tcps_ecn_rcwnd > 0);
		} else {
			CHECK_EQ(ps.ce_marked, 0);
			CHECK_EQ(tb->tcps_ecn_ce + tb->tcps_ecn_ect0 + ta->tcps_ecn_rcwnd, 0);
		}
		ecnp_close(&w);
	}
}
#endif
#endif /* UST_TCP_ECN */
