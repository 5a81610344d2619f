/*
 * test_raw_ip.c - raw ICMP sockets through the loop driver: an echo
 * request sent with sendto goes out with our IPv4 header around the
 * application's bytes; echo replies, echo requests and ICMP errors come
 * back as copies from the IP header on, with the sender's address, to
 * every raw socket whose bound/connected addresses match, with event
 * queue and upcall wake-ups; a full receive buffer drops and counts; a
 * closed socket frees its queue.
 */
#include "iptest.h"
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"

/* The whole file needs raw sockets (ustack_opts.h). */
#if UST_RAW_IP

#define ECHO_ID 0x4d2e

static struct ust_socket *
raw_icmp(struct ipt *t)
{
	struct ust_socket *so = NULL;

	if (ust_socket(t->st, UST_AF_INET, UST_SOCK_RAW, UST_IPPROTO_ICMP, &so) != 0)
		return (NULL);
	return (so);
}

/* An echo message (type 8 or 0) with id ECHO_ID, seq, dlen bytes. */
static size_t
echo_msg(uint8_t *p, uint8_t type, uint16_t seq, size_t dlen)
{
	uint8_t data[256];
	size_t i;

	for (i = 0; i < dlen; i++)
		data[i] = (uint8_t)(i ^ seq);
	return (tl_icmp(p, type, 0, (uint32_t)ECHO_ID << 16 | seq, data, dlen));
}

/* Injects an ICMP message from src to us; returns the frame length and
 * leaves the frame in f. */
static size_t
inject_icmp(struct ipt *t, uint8_t *f, uint32_t src, const uint8_t *icmp, size_t len)
{
	size_t n = ipt_frame(f, ipt_mac_ours, src, IPT_OURS, 1, 0x1111, 0, 61, icmp, len);

	ipt_inject(t, f, n);
	return (n);
}

static void
count_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	(void)so;
	if (events & UST_EV_IN)
		(*(int *)arg)++;
}

TEST(raw_socket_types)
{
	struct ipt t;
	struct ust_socket *so = NULL;

	ipt_init(&t, ust_test_seed);
	/* raw(4) has no default protocol here, and only ICMP is offered. */
	CHECK_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_RAW, 0, &so), -UST_EPROTONOSUPPORT);
	CHECK_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_RAW, UST_IPPROTO_UDP, &so),
	    -UST_EPROTONOSUPPORT);
	CHECK(so == NULL);
	so = raw_icmp(&t);
	REQUIRE(so != NULL);
	CHECK_EQ(t.st->st_ripcbinfo->ipi_count, 1);
	/* No destination: EDESTADDRREQ, nothing sent. */
	CHECK_EQ(ust_send(so, "x", 1, 0), -UST_EDESTADDRREQ);
	CHECK_EQ(t.d->tx_count, 0);
	ust_close(so);
	CHECK_EQ(t.st->st_ripcbinfo->ipi_count, 0);
	ipt_fini(&t);
}

#if UST_STATS
TEST(raw_echo_request_out)
{
	struct ipt t;
	struct ust_socket *so;
	struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), 0);
	uint8_t msg[64 + 8];
	const uint8_t *ip;
	size_t len;

	ipt_init(&t, ust_test_seed);
	REQUIRE((so = raw_icmp(&t)) != NULL);
	len = echo_msg(msg, 8, 7, 56);
	REQUIRE_EQ(ust_sendto(so, msg, len, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)len);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 1);
	REQUIRE(ipt_tx_ipok(&t, 0));
	CHECK_MEM(t.d->tx[0], ipt_mac_peer, 6);
	ip = ipt_tx_ip(&t, 0);
	CHECK_EQ(tl_get16(ip + 2), 20 + len);
	CHECK_EQ(ip[8], 64); /* net.inet.ip.ttl */
	CHECK_EQ(ip[9], 1);
	CHECK_EQ(tl_get32(ip + 12), IPT_OURS);
	CHECK_EQ(tl_get32(ip + 16), IPT_PEER);
	/* The application's message unchanged: type 8, id, seq, checksum. */
	CHECK_EQ(ip[20], 8);
	CHECK_EQ(ip[21], 0);
	CHECK_EQ(tl_get16(ip + 24), ECHO_ID);
	CHECK_EQ(tl_get16(ip + 26), 7);
	CHECK_EQ(tl_cksum(ip + 20, len, 0), 0);
	CHECK_MEM(ip + 20, msg, len);
	CHECK_EQ(t.st->st_ipstat.ips_rawout, 1);
	/* IP_TTL applies to raw sockets too. */
	int ttl = 3;
	REQUIRE_EQ(ust_setsockopt(so, UST_IPPROTO_IP, UST_IP_TTL, &ttl, sizeof(ttl)), 0);
	REQUIRE_EQ(ust_sendto(so, msg, len, 0, (const struct ust_sockaddr *)&to, sizeof(to)),
	    (ptrdiff_t)len);
	ipt_poll(&t);
	REQUIRE_EQ(t.d->tx_count, 2);
	CHECK_EQ(ipt_tx_ip(&t, 1)[8], 3);
	ust_close(so);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(raw_echo_reply_in_with_header)
{
	struct ipt t;
	struct ust_socket *so, *other, *bound;
	struct ust_sockaddr_in from, peer = tl_sin(htonl(IPT_OTHER), 0);
	struct ust_sockaddr_in me = tl_sin(htonl(IPT_OURS), 0);
	struct ust_event ev;
	struct ust_evq *q;
	uint8_t msg[128], f[256], buf[512];
	size_t len, flen;
	int upcalls = 0;

	ipt_init(&t, ust_test_seed);
	REQUIRE((so = raw_icmp(&t)) != NULL);
	REQUIRE((other = raw_icmp(&t)) != NULL);
	REQUIRE((bound = raw_icmp(&t)) != NULL);
	/* Connected to another host: the peer's messages are not for it. */
	REQUIRE_EQ(ust_connect(other, (const struct ust_sockaddr *)&peer, sizeof(peer)), 0);
	REQUIRE_EQ(ust_bind(bound, (const struct ust_sockaddr *)&me, sizeof(me)), 0);
	REQUIRE_EQ(ust_evq_create(t.st, &q), 0);
	REQUIRE_EQ(ust_evq_ctl(q, UST_EVQ_ADD, so, UST_EV_IN, so), 0);
	ust_socket_set_upcall(so, count_upcall, &upcalls);
	CHECK_EQ(ust_evq_poll(q, &ev, 1), 0);

	len = echo_msg(msg, 0, 9, 32);
	flen = inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.d->tx_count, 0); /* a reply is not answered */
	REQUIRE_EQ(ust_evq_poll(q, &ev, 1), 1);
	CHECK(ev.events & UST_EV_IN);
	CHECK(ev.udata == so);
	CHECK(upcalls >= 1);
	memset(&from, 0, sizeof(from));
	/* The whole datagram from its IPv4 header on, as it arrived. */
	REQUIRE_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	               &(ust_socklen_t){ sizeof(from) }),
	    (ptrdiff_t)(flen - 14));
	CHECK_MEM(buf, f + 14, flen - 14);
	CHECK_EQ(buf[0], 0x45);
	CHECK_EQ(tl_get16(buf + 2), 20 + len); /* ip_len in network order */
	CHECK_EQ(buf[8], 61);
	CHECK_EQ(tl_get16(buf + 20 + 4), ECHO_ID);
	CHECK_EQ(from.sin_family, UST_AF_INET);
	CHECK_EQ(from.sin_addr, htonl(IPT_PEER));
	CHECK_EQ(from.sin_port, 0);
	CHECK_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    -UST_EAGAIN);
	CHECK_EQ(ust_recvfrom(other, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    -UST_EAGAIN);
	CHECK_EQ(ust_recvfrom(bound, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    (ptrdiff_t)(flen - 14));
	CHECK_EQ(t.st->st_ipstat.ips_rawin, 2);

	/* From the connected-to host it does arrive. */
	flen = inject_icmp(&t, f, IPT_OTHER, msg, len);
	CHECK_EQ(ust_recvfrom(other, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	             &(ust_socklen_t){ sizeof(from) }),
	    (ptrdiff_t)(flen - 14));
	CHECK_EQ(from.sin_addr, htonl(IPT_OTHER));

	/* A corrupt message reaches no raw socket. */
	(void)ust_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL);
	(void)ust_recvfrom(bound, buf, sizeof(buf), 0, NULL, NULL);
	msg[len - 1] ^= 1;
	(void)inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.st->st_icmpstat.icps_checksum, 1);
	CHECK_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), -UST_EAGAIN);
	ust_evq_destroy(q);
	ust_close(so);
	ust_close(other);
	ust_close(bound);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(raw_echo_request_and_errors_in)
{
	struct ipt t;
	struct ust_socket *so;
	struct ust_sockaddr_in from;
	uint8_t msg[128], f[256], buf[512], quote[28];
	size_t len, flen;

	ipt_init(&t, ust_test_seed);
	REQUIRE((so = raw_icmp(&t)) != NULL);
	/* An echo request: the stack answers it and the socket sees it. */
	len = echo_msg(msg, 8, 1, 16);
	flen = inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.d->tx_count, 1);
	CHECK_EQ(t.st->st_icmpstat.icps_reflect, 1);
	REQUIRE_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	               &(ust_socklen_t){ sizeof(from) }),
	    (ptrdiff_t)(flen - 14));
	CHECK_EQ(buf[20], 8);
	CHECK_MEM(buf, f + 14, flen - 14);

	/* A port unreachable quoting a UDP datagram of ours. */
	(void)tl_ip4(quote, IPT_OURS, IPT_PEER, 17, 0x2222, 0, 64, NULL, 0, 8);
	memset(quote + 20, 0, 8);
	quote[20] = 0x30; /* sport 12345 */
	quote[21] = 0x39;
	quote[23] = 53; /* dport 53 */
	len = tl_icmp(msg, 3, 3, 0, quote, sizeof(quote));
	flen = inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.d->tx_count, 1); /* never an error about an error */
	REQUIRE_EQ(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	               &(ust_socklen_t){ sizeof(from) }),
	    (ptrdiff_t)(flen - 14));
	CHECK_EQ(buf[20], 3);
	CHECK_EQ(buf[21], 3);
	CHECK_MEM(buf + 28, quote, sizeof(quote));
	CHECK_EQ(from.sin_addr, htonl(IPT_PEER));

	/* Time exceeded (what traceroute listens for). */
	len = tl_icmp(msg, 11, 0, 0, quote, sizeof(quote));
	(void)inject_icmp(&t, f, IPT_OTHER, msg, len);
	REQUIRE(ust_recvfrom(so, buf, sizeof(buf), 0, (struct ust_sockaddr *)&from,
	            &(ust_socklen_t){ sizeof(from) }) > 0);
	CHECK_EQ(buf[20], 11);
	CHECK_EQ(from.sin_addr, htonl(IPT_OTHER));
	CHECK_EQ(t.st->st_ipstat.ips_rawin, 3);
	ust_close(so);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(raw_rcvbuf_full_drops_and_counts)
{
	struct ipt t;
	struct ust_socket *so;
	uint8_t msg[128], f[256], buf[512];
	int rcv = 1024, i, got = 0;
	size_t len;

	ipt_init(&t, ust_test_seed);
	REQUIRE((so = raw_icmp(&t)) != NULL);
	REQUIRE_EQ(ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_RCVBUF, &rcv, sizeof(rcv)), 0);
	len = echo_msg(msg, 0, 0, 100); /* 128 bytes with the IP header */
	for (i = 0; i < 20; i++) {
		len = echo_msg(msg, 0, (uint16_t)i, 100);
		(void)inject_icmp(&t, f, IPT_PEER, msg, len);
	}
	/* 1024 bytes hold 7 records of 128 + 16 (name); the rest drop. */
	CHECK(t.st->st_ipstat.ips_rawfull > 0);
	CHECK_EQ(t.st->st_ipstat.ips_rawin + t.st->st_ipstat.ips_rawfull, 20);
	while (ust_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL) > 0) {
		/* Oldest first: the ones that fitted, in order. */
		CHECK_EQ(tl_get16(buf + 26), got);
		got++;
	}
	CHECK_EQ((uint64_t)got, t.st->st_ipstat.ips_rawin);
	CHECK_EQ(got, 1024 / (128 + 16));
	/* The stack's own handling never suffered: all 20 counted. */
	CHECK_EQ(t.st->st_icmpstat.icps_inhist[0], 20);
	/* Room again: the next one is queued. */
	(void)inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK(ust_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL) > 0);
	ust_close(so);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(raw_close_frees_queue)
{
	struct ipt t;
	struct ust_socket *so;
	uint8_t msg[128], f[256];
	size_t len;
	int i;

	ipt_init(&t, ust_test_seed);
	REQUIRE((so = raw_icmp(&t)) != NULL);
	len = echo_msg(msg, 0, 1, 64);
	for (i = 0; i < 5; i++)
		(void)inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.st->st_ipstat.ips_rawin, 5);
	CHECK_EQ(so_count(t.st), 1);
	/* Closing with records queued frees them (test_stack_free checks the
	 * zones, ASan the heap). */
	ust_close(so);
	CHECK_EQ(so_count(t.st), 0);
	CHECK_EQ(t.st->st_ripcbinfo->ipi_count, 0);
	(void)inject_icmp(&t, f, IPT_PEER, msg, len);
	CHECK_EQ(t.st->st_ipstat.ips_rawin, 5);
	ipt_fini(&t);
}
#endif
#endif /* UST_RAW_IP */
