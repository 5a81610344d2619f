/*
 * test_uipc_socket_stream.c - the socket layer for SOCK_STREAM
 * (uipc_socket.c, uipc_syscalls.c): sosend partial writes and EAGAIN,
 * EPIPE after shutdown, ENOTCONN before a connection, soreceive with
 * MSG_PEEK, RCVLOWAT, EOF after FIN, a pending error before EOF, and the
 * readiness events of listeners and connections.
 */
#include "tcp_script.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "ust_test.h"

static uint32_t
events(struct ust_socket *so)
{
	return (so_events(SO_FROM_UST(so)));
}

TEST(stream_enotconn_before_connect)
{
	struct tt tt;
	struct ust_socket *so;
	char b[8];

	tt_init(&tt, 1);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &so), 0);
	CHECK_EQ(ust_send(so, "x", 1, 0), -UST_ENOTCONN);
	CHECK_EQ(ust_recv(so, b, sizeof(b), 0), -UST_ENOTCONN);
	CHECK_EQ(ust_shutdown(so, UST_SHUT_WR), -UST_ENOTCONN);
	CHECK_EQ(ust_getpeername(so, (struct ust_sockaddr *)&(struct ust_sockaddr_in){ 0 },
	             &(ust_socklen_t){ sizeof((struct ust_sockaddr_in){ 0 }) }),
	    -UST_ENOTCONN);
	/* Neither readable nor writable, no error. */
	CHECK_EQ(events(so) & (UST_EV_IN | UST_EV_OUT | UST_EV_ERR), 0);
	CHECK_EQ(ust_accept(so, &(struct ust_socket *){ NULL }, NULL, NULL), -UST_EINVAL);
	CHECK_EQ(ust_close(so), 0);
	tt_fini(&tt);
}

TEST(stream_socket_types)
{
	struct tt tt;
	struct ust_socket *so;
	int v = 0;
	size_t len = sizeof(v);

	tt_init(&tt, 2);
	REQUIRE_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, UST_IPPROTO_TCP, &so), 0);
	REQUIRE_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_TYPE, &v, &len), 0);
	CHECK_EQ(v, UST_SOCK_STREAM);
	/* FreeBSD's defaults: sendspace 32768, recvspace 65536. */
	REQUIRE_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_SNDBUF, &v, &len), 0);
	CHECK_EQ(v, 32768);
	REQUIRE_EQ(ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_RCVBUF, &v, &len), 0);
	CHECK_EQ(v, 65536);
	ust_close(so);
	CHECK_EQ(ust_socket(tt.t.st, UST_AF_INET, UST_SOCK_STREAM, UST_IPPROTO_UDP, &so),
	    -UST_EPROTONOSUPPORT);
	tt_fini(&tt);
}

TEST(stream_listener_readable_when_queue_nonempty)
{
	struct tt tt;
	struct ust_socket *so;

	tt_init(&tt, 3);
	REQUIRE(tt_listen(&tt));
	CHECK_EQ(events(tt.lso) & (UST_EV_IN | UST_EV_OUT), 0);
	CHECK_EQ(ust_accept(tt.lso, &so, NULL, NULL), -UST_EAGAIN);
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	REQUIRE(TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535));
	CHECK_EQ(events(tt.lso) & UST_EV_IN, 0);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	CHECK(events(tt.lso) & UST_EV_IN);
	REQUIRE_EQ(ust_accept(tt.lso, &so, NULL, NULL), 0);
	tt.so = so;
	CHECK_EQ(events(tt.lso) & UST_EV_IN, 0);
	/* A connected socket with room to send is writable. */
	CHECK(events(so) & UST_EV_OUT);
	CHECK_EQ(events(so) & (UST_EV_IN | UST_EV_HUP | UST_EV_RDHUP | UST_EV_ERR), 0);
	/* connect on a listener or a connected socket */
	{
		struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), 1);

		CHECK_EQ(ust_connect(tt.lso, (const struct ust_sockaddr *)&to, sizeof(to)),
		    -UST_EOPNOTSUPP);
		CHECK_EQ(ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to)),
		    -UST_EISCONN);
		CHECK_EQ(ust_listen(so, 5), -UST_EINVAL);
	}
	tt_fini(&tt);
}

TEST(stream_receive_peek_lowat_eof)
{
	struct tt tt;
	char b[64];

	tt_init(&tt, 4);
	REQUIRE(tt_established_passive(&tt));
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	/* SO_RCVLOWAT 10: five bytes do not make it readable. */
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_RCVLOWAT, 10), 0);
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, "hello", 5);
	CHECK_EQ(events(tt.so) & UST_EV_IN, 0);
	tt_in_data(&tt, TH_ACK | TH_PUSH, 6, 1, 32767, " world", 6);
	CHECK(events(tt.so) & UST_EV_IN);
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_RCVLOWAT, 1), 0);
	/* MSG_PEEK leaves the data. */
	CHECK_EQ(ust_recv(tt.so, b, 5, UST_MSG_PEEK), 5);
	CHECK_MEM(b, "hello", 5);
	CHECK_EQ(ust_recv(tt.so, b, 3, 0), 3);
	CHECK_MEM(b, "hel", 3);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 8);
	CHECK_MEM(b, "lo world", 8);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	/* FIN: EOF (0), readable, RDHUP; still writable (half-close). */
	tt_in(&tt, TH_ACK | TH_FIN, 12, 1, 32767);
	CHECK(events(tt.so) & (UST_EV_IN | UST_EV_RDHUP));
	CHECK_EQ(events(tt.so) & UST_EV_HUP, 0);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 0);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 0);
	CHECK_EQ(tt_state(tt.so), UST_TCPS_CLOSE_WAIT);
	ipt_poll(&tt.t);
	tt.rd = tt.t.d->tx_count; /* the ACKs of the data and the FIN */
	CHECK_EQ(ust_send(tt.so, "bye", 3, 0), 3);
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 3, 13, TT_ANY));
	tt_in(&tt, TH_ACK, 13, 4, 32767);
	/* Our FIN, acknowledged: LAST_ACK -> closed. */
	ust_close(tt.so);
	tt.so = NULL;
	ipt_poll(&tt.t);
	REQUIRE(TT_OUT(&tt, TH_FIN | TH_ACK, 4, 0, 13, TT_ANY));
	tt_in(&tt, TH_ACK, 13, 5, 32767);
	tt_fini(&tt);
}

TEST(stream_send_partial_then_eagain)
{
	struct tt tt;
	static uint8_t big[100000];
	ptrdiff_t n;

	tt_init(&tt, 5);
	REQUIRE(tt_established_passive(&tt));
	memset(big, 'a', sizeof(big));
	/* sendspace 32768: a partial write takes what fits. */
	n = ust_send(tt.so, big, sizeof(big), 0);
	CHECK_EQ(n, 32768);
	CHECK_EQ(ust_send(tt.so, big, sizeof(big), 0), -UST_EAGAIN);
	CHECK_EQ(events(tt.so) & UST_EV_OUT, 0);
	/* The peer acknowledges some: room again. */
	tt_in(&tt, TH_ACK, 1, 1 + 8192, 65535);
	CHECK(events(tt.so) & UST_EV_OUT);
	CHECK_EQ(ust_send(tt.so, big, sizeof(big), 0), 8192);
	/* The peer never takes the rest: abort rather than wait it out. */
	{
		struct ust_linger l = { 1, 0 };

		REQUIRE_EQ(ust_setsockopt(tt.so, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
	}
	tt_fini(&tt);
}

TEST(stream_epipe_after_shutdown)
{
	struct tt tt;
	char b[4];

	tt_init(&tt, 6);
	REQUIRE(tt_established_passive(&tt));
	REQUIRE_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	CHECK_EQ(ust_send(tt.so, "x", 1, 0), -UST_EPIPE);
	/* Writable in the sense that a send does not block. */
	CHECK(events(tt.so) & UST_EV_OUT);
	/* Receiving still works. */
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), -UST_EAGAIN);
	tt_fini(&tt);
}

TEST(stream_reset_error_then_eof)
{
	struct tt tt;
	char b[16];

	tt_init(&tt, 7);
	REQUIRE(tt_established_passive(&tt));
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, "data", 4);
	/* After the (delayed) ACK: a RST at exactly what we acknowledged
	 * (FreeBSD's last_ack_sent, RFC 5961 3.2). */
	ipt_advance(&tt.t, 300 * IPT_MS);
	tt_in(&tt, TH_RST | TH_ACK, 5, 1, 0);
	/* Data queued before the reset is still delivered, then the error
	 * once, then EOF; sending fails with EPIPE (FreeBSD's order). */
	CHECK(events(tt.so) & UST_EV_ERR);
	CHECK(events(tt.so) & UST_EV_HUP);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 4);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), -UST_ECONNRESET);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), 0), 0);
	CHECK_EQ(ust_send(tt.so, "x", 1, 0), -UST_EPIPE);
	TT_GONE(tt.so);
	tt_fini(&tt);
}

TEST(stream_oob_flags)
{
	struct tt tt;
	char b[4];

	tt_init(&tt, 8);
	REQUIRE(tt_established_passive(&tt));
	/* No urgent data yet. */
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), UST_MSG_OOB), -UST_EAGAIN);
	REQUIRE_EQ(tl_setint(tt.so, UST_SOL_SOCKET, UST_SO_OOBINLINE, 1), 0);
	CHECK_EQ(ust_recv(tt.so, b, sizeof(b), UST_MSG_OOB), -UST_EINVAL);
	tt_fini(&tt);
}
