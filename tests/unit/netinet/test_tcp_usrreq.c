/*
 * test_tcp_usrreq.c - the socket side of TCP (tcp_usrreq.c): options at
 * level IPPROTO_TCP and their defaults from the knobs, TCP_INFO,
 * connect/listen rules, SO_KEEPALIVE and the keepalive timer, orderly and
 * abortive close (SO_LINGER 0, unread data), shutdown; TCP_CONGESTION
 * and the stack default net.inet.tcp.cc.algorithm.
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"
#include "ust_test.h"

static int
getint(struct ust_socket *so, int level, int name)
{
	int v = -12345;
	size_t len = sizeof(v);

	if (ust_getsockopt(so, level, name, &v, &len) != 0)
		return (-12345);
	return (v);
}

static struct tcpcb *
tcpcb_of(struct ust_socket *so)
{
	struct socket *s = SO_FROM_UST(so);

	return (s->so_pcb != NULL ? sototcpcb(s) : NULL);
}

TEST(usrreq_option_defaults_and_set)
{
	struct tt tt;
	struct ust_socket *so;

	tt_init(&tt, 1);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_NODELAY), 0);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_NODELAY, 1), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_NODELAY), 1);
	CHECK(tcpcb_of(so)->t_flags & TF_NODELAY);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_NOPUSH, 1), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_NOPUSH), 1);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_NOOPT, 1), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_NOOPT), 1);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_NOOPT, 0), 0);
	/* FreeBSD: TCP_MAXSEG is mssdflt until the MSS is known, and can
	 * only be lowered, not below minmss. */
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_MAXSEG), 536);
	CHECK_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_MAXSEG, 1000), -UST_EINVAL);
	CHECK_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_MAXSEG, 100), -UST_EINVAL);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_MAXSEG, 500), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_MAXSEG), 500);
	/* Keepalive times in seconds, from the knobs (ms) until set. */
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE), 7200);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPINTVL), 75);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPINIT), 75);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT), 8);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 30), 0);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_KEEPINTVL, 5), 0);
	REQUIRE_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT, 3), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE), 30);
	CHECK_EQ(tcpcb_of(so)->t_keepidle, 30000);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPINTVL), 5);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT), 3);
	CHECK_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 0), -UST_EINVAL);
	CHECK_EQ(tl_setint(so, UST_IPPROTO_TCP, UST_TCP_KEEPCNT, -1), -UST_EINVAL);
	CHECK_EQ(tl_setint(so, UST_IPPROTO_TCP, 0x7777, 1), -UST_ENOPROTOOPT);
	CHECK_EQ(getint(so, 99, 1), -12345);
	ust_close(so);
	/* keepinit inherited from the knob at socket creation (FreeBSD's
	 * socket-api/getsockopt scripts). */
	tt_sysctl(&tt, "net.inet.tcp.keepinit", 15000);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	CHECK_EQ(getint(so, UST_IPPROTO_TCP, UST_TCP_KEEPINIT), 15);
	ust_close(so);
	tt_fini(&tt);
}

#if UST_CC_CUBIC
#if UST_TCP_SACK
TEST(usrreq_tcp_info_and_congestion)
{
	struct tt tt;
	struct ust_tcp_info ti;
	char name[16];
	size_t len = sizeof(name);

	tt_init(&tt, 2);
	REQUIRE(tt_listen(&tt));
	REQUIRE_EQ(tt_info(tt.lso, &ti), 0);
	CHECK_EQ(ti.tcpi_state, UST_TCPS_LISTEN);
	/* Read-only; a short buffer is refused. */
	CHECK_EQ(ust_setsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, sizeof(ti)),
	    -UST_EINVAL);
	len = 4;
	CHECK_EQ(ust_getsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len), -UST_EINVAL);
	len = sizeof(name);
	REQUIRE_EQ(ust_getsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_CONGESTION, name, &len), 0);
	CHECK_EQ(strcmp(name, "cubic"), 0); /* net.inet.tcp.cc.algorithm */
	CHECK_EQ(ust_setsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno", 7), 0);
	CHECK_EQ(ust_setsockopt(tt.lso, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "vegas", 5),
	    -UST_ENOENT);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(tt_info(tt.so, &ti), 0);
	CHECK_EQ(ti.tcpi_state, UST_TCPS_ESTABLISHED);
	CHECK_EQ(ti.tcpi_snd_mss, 1460);
	CHECK_EQ(ti.tcpi_snd_wnd, 32767);
	CHECK_EQ(ti.tcpi_unacked, 0);
	CHECK_EQ(ti.tcpi_options, UST_TCPI_OPT_SACK); /* RFC 2018: both offered */
	/* RFC 6298 2.1: 1 s before any sample (rexmit_initial), in us. */
	CHECK(ti.tcpi_rto >= 1000000 || ti.tcpi_rto == 0);
	CHECK(ti.tcpi_snd_cwnd > 0);
	tt_fini(&tt);
}
#endif
#endif

TEST(usrreq_keepalive_option_arms_timer)
{
	struct tt tt;
	struct tcpcb *tp;

	tt_init(&tt, 3);
	REQUIRE(tt_established_passive(&tt));
	tp = tcpcb_of(tt.so);
	REQUIRE(tp != NULL);
	REQUIRE_EQ(tl_setint(tt.so, UST_IPPROTO_TCP, UST_TCP_KEEPIDLE, 10), 0);
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 1), 0);
	CHECK(tcp_timer_active(tp, TT_KEEP));
	/* With always_keepalive (FreeBSD's default) the timer keeps running
	 * without SO_KEEPALIVE; without it, clearing the option stops it. */
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 0), 0);
	CHECK(tcp_timer_active(tp, TT_KEEP));
	tt_sysctl(&tt, "net.inet.tcp.always_keepalive", 0);
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 1), 0);
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_KEEPALIVE, 0), 0);
	CHECK(!tcp_timer_active(tp, TT_KEEP));
	tt_fini(&tt);
}

TEST(usrreq_bind_listen_rules)
{
	struct tt tt;
	struct ust_socket *a, *b;
	struct ust_sockaddr_in me = tl_sin(htonl(IPT_OURS), 9000), got;

	tt_init(&tt, 4);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &a), 0);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &b), 0);
	REQUIRE_EQ(ust_bind(a, (const struct ust_sockaddr *)&me, sizeof(me)), 0);
	CHECK_EQ(ust_bind(b, (const struct ust_sockaddr *)&me, sizeof(me)), -UST_EADDRINUSE);
	REQUIRE_EQ(ust_listen(a, 1000000), 0);
	/* kern.ipc.somaxconn caps the backlog. */
	CHECK_EQ(SO_FROM_UST(a)->so_qlimit, 128);
	/* listen without bind takes an ephemeral port. */
	REQUIRE_EQ(ust_listen(b, 5), 0);
	REQUIRE_EQ(ust_getsockname(b, (struct ust_sockaddr *)&got, &(ust_socklen_t){ sizeof(got) }),
	    0);
	CHECK(got.sin_port != 0);
	CHECK_EQ(tt_state(b), UST_TCPS_LISTEN);
	/* Multicast and broadcast are no TCP endpoints. */
	{
		struct ust_socket *c;
		struct ust_sockaddr_in mc = tl_sin(htonl(0xe0000001u), 80);

		REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &c), 0);
		CHECK_EQ(ust_connect(c, (const struct ust_sockaddr *)&mc, sizeof(mc)),
		    -UST_EAFNOSUPPORT);
		ust_close(c);
	}
	ust_close(a);
	ust_close(b);
	tt_fini(&tt);
}

#if UST_STATS
TEST(usrreq_close_with_unread_data_sends_fin_then_rst_on_more)
{
	struct tt tt;

	tt_init(&tt, 5);
	REQUIRE(tt_established_passive(&tt));
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, "unread", 6);
	while (tt_pending(&tt) > 0)
		(void)tt_next(&tt, &(struct tt_seg){ 0 });
	/* FreeBSD: the unread data is discarded and a FIN goes out ... */
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 7, TT_ANY));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_drops, 0);
	/* ... and data arriving after the close is answered with a RST. */
	tt_in_data(&tt, TH_ACK | TH_PUSH, 7, 2, 32767, "more", 4);
	REQUIRE(TT_OUT(&tt, TH_RST, 2, 0, TT_ANY, TT_ANY));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_rcvafterclose, 1);
	tt_fini(&tt);
}
#endif

TEST(usrreq_linger_zero_aborts)
{
	struct tt tt;
	struct ust_linger l = { 1, 0 };

	tt_init(&tt, 6);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_RST | TH_ACK, 1, 0, 1, TT_ANY));
	TT_NONE(&tt);
	/* Nothing of the connection is left. */
	CHECK_EQ(so_count(tt.t.st), 1); /* the listener */
	tt_fini(&tt);
}

TEST(usrreq_orderly_close_keeps_pcb)
{
	struct tt tt;
	struct socket *s;

	tt_init(&tt, 7);
	REQUIRE(tt_established_passive(&tt));
	s = SO_FROM_UST(tt.so);
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	/* FIN_WAIT_1: our FIN went out; the socket lives on for TCP. */
	REQUIRE(TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, TT_ANY));
	CHECK_EQ(so_count(tt.t.st), 2);
	CHECK(s->so_state & SS_PROTOREF);
	CHECK(s->so_state & SS_NOFDREF);
	CHECK_EQ(sototcpcb(s)->t_state, TCPS_FIN_WAIT_1);
	/* The peer acknowledges and closes too: TIME_WAIT, then gone. */
	tt_in(&tt, TH_ACK | TH_FIN, 1, 2, 32767);
	REQUIRE(TT_OUT(&tt, TH_ACK, 2, 0, 2, TT_ANY));
	ipt_advance(&tt.t, 2ull * 30 * 1000 * IPT_MS + IPT_MS);
	CHECK_EQ(so_count(tt.t.st), 1);
	tt_fini(&tt);
}

TEST(usrreq_shutdown_half_close)
{
	struct tt tt;
	char b[8];

	tt_init(&tt, 8);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, TT_ANY));
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_1);
	tt_in(&tt, TH_ACK, 1, 2, 32767);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_FIN_WAIT_2);
	/* The other direction still carries data. */
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 2, 32767, "more", 4);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 4);
	CHECK_MEM(b, "more", 4);
	tt_fini(&tt);
}

#if UST_STATS
TEST(usrreq_connect_rules)
{
	struct tt tt;
	struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), TT_PEER_PORT);

	tt_init(&tt, 9);
	REQUIRE(tt_connect_syn(&tt));
	CHECK_EQ(tt.t.st->st_tcpstat.tcps_connattempt, 1);
	CHECK_EQ(ust_connect(tt.so, (const struct ust_sockaddr *)&to, sizeof(to)), -UST_EALREADY);
	CHECK_EQ(ust_listen(tt.so, 5), -UST_EINVAL);
	tt_in(&tt, TH_SYN | TH_ACK, 0, 1, 32767);
	REQUIRE(TT_OUT(&tt, TH_ACK, 1, 0, 1, TT_ANY));
	CHECK_EQ(ust_connect(tt.so, (const struct ust_sockaddr *)&to, sizeof(to)), -UST_EISCONN);
	tt_fini(&tt);
}
#endif

TEST(usrreq_connect_refused)
{
	struct tt tt;
	char b[4];

	tt_init(&tt, 10);
	REQUIRE(tt_connect_syn(&tt));
	tt_in(&tt, TH_RST | TH_ACK, 0, 1, 0);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNREFUSED);
	TT_GONE(tt.so);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 0);
	tt_fini(&tt);
}

static int
getcc(struct ust_socket *so, char *name, size_t size)
{
	size_t len = size;

	memset(name, 0x55, size);
	return (ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, name, &len));
}

#if UST_CC_CUBIC
/* TCP_CONGESTION on a live connection: get names the module, set switches
 * it (the window carries over), unknown names are ENOENT, names that do
 * not fit TCP_CA_NAME_MAX are EINVAL; the list is net.inet.tcp.cc.available. */
TEST(usrreq_congestion_switch_live)
{
	struct tt tt;
	struct tcpcb *tp;
	struct tt_seg sg;
	char name[16], list[64];
	uint32_t cwnd, ssthresh;
	size_t len;

	tt_init(&tt, 21);
	REQUIRE(tt_listen(&tt));
	REQUIRE(tt_established_passive(&tt));
	tp = tcpcb_of(tt.so);
	REQUIRE(tp != NULL);
	REQUIRE_EQ(getcc(tt.so, name, sizeof(name)), 0);
	CHECK_EQ(strcmp(name, "cubic"), 0);
	CHECK(tp->t_cc == &cubic_cc_algo);
	REQUIRE_EQ(ust_sysctl_get_str(tt.t.st, "net.inet.tcp.cc.available", list, sizeof(list)), 0);
	CHECK_EQ(strcmp(list, "newreno, cubic"), 0);

	/* A window the new module must keep. */
	tp->snd_cwnd = 7 * 1460;
	tp->snd_ssthresh = 5 * 1460;
	cwnd = tp->snd_cwnd;
	ssthresh = tp->snd_ssthresh;
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno", 7), 0);
	CHECK(tp->t_cc == &newreno_cc_algo);
	CHECK(tp->t_ccdata != NULL);
	CHECK_EQ(tp->snd_cwnd, cwnd);
	CHECK_EQ(tp->snd_ssthresh, ssthresh);
	REQUIRE_EQ(getcc(tt.so, name, sizeof(name)), 0);
	CHECK_EQ(strcmp(name, "newreno"), 0);
	/* With its NUL, and with bytes after the NUL. */
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "cubic", 6), 0);
	CHECK(tp->t_cc == &cubic_cc_algo);
	CHECK_EQ(tp->snd_cwnd, cwnd);
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno\0xyz", 11),
	    0);
	CHECK(tp->t_cc == &newreno_cc_algo);
	/* The same module again: nothing changes. */
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno", 7), 0);
	CHECK(tp->t_cc == &newreno_cc_algo);
	/* Unknown, empty, too long: refused, the module stays. */
	CHECK_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "vegas", 5),
	    -UST_ENOENT);
	CHECK_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "", 0), -UST_ENOENT);
	CHECK_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "newreno_but_longer",
	             18),
	    -UST_EINVAL);
	CHECK_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "0123456789abcdef", 16),
	    -UST_EINVAL);
	CHECK(tp->t_cc == &newreno_cc_algo);
	/* A short buffer is refused. */
	len = 4;
	CHECK_EQ(ust_getsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, name, &len),
	    -UST_EINVAL);

	/* The connection still sends after the switches, within its cwnd. */
	REQUIRE_EQ(ust_setsockopt(tt.so, UST_IPPROTO_TCP, UST_TCP_CONGESTION, "cubic", 5), 0);
	REQUIRE_EQ(ust_send(tt.so, "hello", 5, 0), 5);
	ipt_poll(&tt.t);
	REQUIRE(tt_next(&tt, &sg));
	CHECK_EQ(sg.len, 5);
	tt_fini(&tt);
}
#endif

#if UST_SYSCTL_NAMES
/* net.inet.tcp.cc.algorithm is what new connections start with. */
TEST(usrreq_congestion_stack_default)
{
	struct tt tt;
	struct ust_socket *so;
	char name[16];

	tt_init(&tt, 22);
	REQUIRE_EQ(ust_sysctl_get_str(tt.t.st, "net.inet.tcp.cc.algorithm", name, sizeof(name)), 0);
	CHECK_EQ(strcmp(name, "cubic"), 0);
	REQUIRE_EQ(ust_sysctl_set_str(tt.t.st, "net.inet.tcp.cc.algorithm", "newreno"), 0);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	REQUIRE_EQ(getcc(so, name, sizeof(name)), 0);
	CHECK_EQ(strcmp(name, "newreno"), 0);
	ust_close(so);
	CHECK_EQ(ust_sysctl_set_str(tt.t.st, "net.inet.tcp.cc.algorithm", "vegas"), -UST_ENOENT);
	REQUIRE_EQ(ust_sysctl_set_str(tt.t.st, "net.inet.tcp.cc.algorithm", "cubic"), 0);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	REQUIRE_EQ(getcc(so, name, sizeof(name)), 0);
	CHECK_EQ(strcmp(name, "cubic"), 0);
	ust_close(so);
	tt_fini(&tt);
}
#endif
