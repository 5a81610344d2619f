/*
 * test_tcp_pcblist.c - the connection table (ust_tcp_pcblist) and
 * tcpdrop (ust_tcp_drop): what sockstat and tcpdrop see and do.
 */
#include "tcp_script.h"

/* The entry for our port lport and the peer's port pport, or NULL. */
static const struct ust_tcp_conn *
find_conn(const struct ust_tcp_conn *c, size_t n, uint16_t lport, uint16_t pport)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].lport == htons(lport) && c[i].fport == htons(pport))
			return (&c[i]);
	return (NULL);
}

/* A listener, a syncache entry (SYN_RECEIVED, no socket), then the
 * accepted connection (ESTABLISHED, with a socket). */
TEST(pcblist_listen_syncache_established)
{
	struct ust_tcp_conn c[4];
	const struct ust_tcp_conn *e;
	struct tt tt;
	size_t n;

	tt_init(&tt, 1);
	CHECK_EQ(ust_tcp_pcblist(tt.t.st, c, 4), 0u);
	REQUIRE(tt_listen(&tt));
	n = ust_tcp_pcblist(tt.t.st, c, 4);
	REQUIRE(n == 1);
	CHECK_EQ(c[0].state, UST_TCPS_LISTEN);
	CHECK_EQ(c[0].lport, htons(TT_LOCAL_PORT));
	CHECK_EQ(c[0].has_socket, 1);
	tt_in(&tt, TH_SYN, 0, 0, 32767);
	TT_OUT(&tt, TH_SYN | TH_ACK, 0, 0, 1, 65535);
	n = ust_tcp_pcblist(tt.t.st, c, 4);
	REQUIRE(n == 2);
	e = find_conn(c, n, TT_LOCAL_PORT, TT_PEER_PORT);
	REQUIRE(e != NULL);
	CHECK_EQ(e->state, UST_TCPS_SYN_RECEIVED);
	CHECK_EQ(e->has_socket, 0);
	CHECK_EQ(e->laddr, htonl(IPT_OURS));
	CHECK_EQ(e->faddr, htonl(IPT_PEER));
	/* A short array still learns the total. */
	CHECK_EQ(ust_tcp_pcblist(tt.t.st, c, 1), 2u);
	CHECK_EQ(ust_tcp_pcblist(tt.t.st, NULL, 0), 2u);
	tt_in(&tt, TH_ACK, 1, 1, 32767);
	n = ust_tcp_pcblist(tt.t.st, c, 4);
	REQUIRE(n == 2);
	e = find_conn(c, n, TT_LOCAL_PORT, TT_PEER_PORT);
	REQUIRE(e != NULL);
	CHECK_EQ(e->state, UST_TCPS_ESTABLISHED);
	tt_fini(&tt);
}

/* tcpdrop of an established connection: RST to the peer, ECONNABORTED
 * to the socket; of a TIME_WAIT one: gone without a RST; of nothing:
 * ENOENT. */
/* ust_tcp_drop with two sockaddr_in. */
static int
drop4(struct ust_stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct ust_sockaddr_in l, f;

	memset(&l, 0, sizeof(l));
	l.sin_len = (uint8_t)sizeof(l);
	l.sin_family = UST_AF_INET;
	f = l;
	l.sin_addr = laddr;
	l.sin_port = lport;
	f.sin_addr = faddr;
	f.sin_port = fport;
	return (ust_tcp_drop(st, (const struct ust_sockaddr *)&l, sizeof(l),
	    (const struct ust_sockaddr *)&f, sizeof(f)));
}

TEST(drop_established_and_time_wait)
{
	struct ust_tcp_conn c[2];
	struct tt tt;

	tt_init(&tt, 2);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(drop4(tt.t.st, htonl(IPT_OURS), htons(tt.lport), htonl(IPT_PEER),
	             htons(tt.pport + 1)),
	    -UST_ENOENT);
	CHECK_EQ(drop4(tt.t.st, htonl(IPT_OURS), htons(tt.lport), htonl(IPT_PEER), htons(tt.pport)),
	    0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_RST | TH_ACK, 1, 0, 1, 0);
	CHECK_EQ(tt_soerror(tt.so), UST_ECONNABORTED);
	CHECK_EQ(ust_tcp_pcblist(tt.t.st, c, 2), 0u);
	tt_fini(&tt);

	tt_init(&tt, 3);
	REQUIRE(tt_established_active(&tt));
	CHECK_EQ(ust_shutdown(tt.so, UST_SHUT_WR), 0);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_FIN | TH_ACK, 1, 0, 1, 65535);
	tt_in(&tt, TH_FIN | TH_ACK, 1, 2, 32767);
	TT_OUT(&tt, TH_ACK, 2, 0, 2, 65535);
	ust_close(tt.so);
	tt.so = NULL;
	REQUIRE(ust_tcp_pcblist(tt.t.st, c, 2) == 1);
	CHECK_EQ(c[0].state, UST_TCPS_TIME_WAIT);
	CHECK_EQ(c[0].has_socket, 0);
	CHECK_EQ(c[0].family, UST_AF_INET);
	CHECK_EQ(drop4(tt.t.st, c[0].laddr, c[0].lport, c[0].faddr, c[0].fport), 0);
	ipt_poll(&tt.t);
	TT_NONE(&tt);
	CHECK_EQ(ust_tcp_pcblist(tt.t.st, c, 2), 0u);
	tt_fini(&tt);
}

/* The queues, sequence numbers and timers a tool (and the Python bindings'
 * deadlock detector) reads: 5 bytes sent and unacknowledged, 3 received and
 * unread, the retransmission and keepalive timers armed. */
TEST(pcblist_queues_sequences_timers)
{
	struct ust_tcp_conn c[2];
	struct tt tt;
	uint32_t una;

	tt_init(&tt, 4);
	REQUIRE(tt_established_active(&tt));
	REQUIRE(ust_tcp_pcblist(tt.t.st, c, 2) == 1);
	CHECK_EQ(c[0].send_q, 0u);
	CHECK_EQ(c[0].recv_q, 0u);
	CHECK_EQ(c[0].timers, UST_TCPT_KEEP);
	CHECK_EQ(c[0].rxtshift, 0);
	CHECK_EQ(c[0].snd_una, c[0].snd_nxt);
	una = c[0].snd_una;
	CHECK_EQ(ust_send(tt.so, "hello", 5, 0), 5);
	ipt_poll(&tt.t);
	TT_OUT(&tt, TH_ACK | TH_PUSH, 1, 5, 1, 65535);
	tt_in_data(&tt, TH_ACK | TH_PUSH, 1, 1, 32767, "abc", 3);
	REQUIRE(ust_tcp_pcblist(tt.t.st, c, 2) == 1);
	CHECK_EQ(c[0].send_q, 5u);
	CHECK_EQ(c[0].recv_q, 3u);
	CHECK_EQ(c[0].snd_una, una);
	CHECK_EQ(c[0].snd_nxt, una + 5);
	CHECK(c[0].timers & UST_TCPT_REXMT);
	CHECK(c[0].timers & UST_TCPT_KEEP);
	CHECK_EQ(c[0].idle_ms, 0u);
	tt_fini(&tt);
}
