/*
 * test_tcp_udp_tunnel.c - TCP over UDP encapsulation (tcp_udp_tunnel.c):
 * what reaches the tunneling port from the wire.  A datagram that cannot
 * hold a TCP segment (empty, truncated, a data offset out of range, from
 * port 0) is counted in tcps_tunneled_errs and dropped without an answer;
 * one with a bad UDP checksum never gets that far; a SYN for no socket is
 * refused by a RST sent back in UDP (TCP checksum zero, UDP checksum
 * right, FreeBSD's), and a SYN for a listener gets its SYN-ACK in UDP
 * with the MSS less the overhead.  With the tunnel closed the port is
 * UDP's like any other.
 */
#include <string.h>

#include "iptest.h"
#include "netinet/tcp.h"

#if UST_TCP_TUNNEL

#define TUN_PORT 9811
#define PEER_UDP 4500
#define PEER_TCP 40000

/* A frame from the peer: UDP from PEER_UDP to the tunneling port with pl
 * (plen bytes) as payload, its checksum right (or zero: nosum). */
static size_t
udp_frame(uint8_t *f, const uint8_t *pl, size_t plen, uint16_t sport, int nosum)
{
	uint8_t udp[256];
	size_t ulen;

	ulen = tl_udp(udp, IPT_PEER, IPT_OURS, sport, TUN_PORT, (uint16_t)(8 + plen), pl, plen);
	if (nosum) {
		udp[6] = 0;
		udp[7] = 0;
	}
	return (
	    ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, TL_IPPROTO_UDP, 1, 0, 64, udp, ulen));
}

/* A TCP segment from the peer to port dport (checksum right). */
static size_t
tcp_seg(uint8_t *p, uint16_t dport, uint8_t flags, const uint8_t *opt, size_t optlen)
{
	struct tl_tcp h;

	memset(&h, 0, sizeof(h));
	h.sport = PEER_TCP;
	h.dport = dport;
	h.seq = 1000;
	h.flags = flags;
	h.win = 65535;
	h.opt = opt;
	h.optlen = optlen;
	return (tl_tcp(p, IPT_PEER, IPT_OURS, &h, NULL, 0));
}

static void
tun_init(struct ipt *t)
{
	ipt_init(t, ust_test_seed);
	V(t->st, tcp_udp_tunneling_port) = TUN_PORT;
}

/* The n-th frame sent is an encapsulated segment to PEER_UDP: returns 0
 * with it read as a TCP segment in *seg (pointing into plain, the frame
 * rebuilt without its UDP header), -1 if it is not one, -2 if its TCP
 * checksum is not zero. */
static int
tx_encapsulated(struct ipt *t, int n, uint8_t plain[2048], struct tl_pkt *seg)
{
	struct tl_pkt p;
	const uint8_t *ip = ipt_tx_ip(t, n);
	size_t iplen;

	if (tl_parse(t->d->tx[n], t->d->tx_len[n], &p) != 0 || p.proto != TL_IPPROTO_UDP ||
	    p.sport != TUN_PORT || p.dport != PEER_UDP || !p.l4sum_ok || p.iphl != 20 ||
	    p.iplen < 20 + 8 + 20 || 14 + p.iplen > 2048)
		return (-1);
	/* The same IP header, protocol TCP, and the UDP payload behind it. */
	iplen = p.iplen - 8;
	memcpy(plain, t->d->tx[n], 14 + 20);
	plain[14 + 9] = TL_IPPROTO_TCP;
	tl_put16(plain + 14 + 2, (uint16_t)iplen);
	memcpy(plain + 14 + 20, ip + 20 + 8, iplen - 20);
	tl_ip4_resum(plain + 14, 20);
	if (tl_parse(plain, 14 + iplen, seg) != 0 || seg->proto != TL_IPPROTO_TCP)
		return (-1);
	/* FreeBSD's: the UDP checksum covers the segment, TCP's is zero. */
	return (tl_get16(ip + 20 + 8 + 16) == 0 ? 0 : -2);
}

#if UST_STATS
TEST(tunnel_bad_payloads_dropped_and_counted)
{
	struct ipt t;
	uint8_t f[512], seg[64];
	size_t len, slen;
	struct ust_tcpstat *ts;

	tun_init(&t);
	ts = &t.st->st_tcpstat;
	/* Nothing at all behind the UDP header. */
	len = udp_frame(f, NULL, 0, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(ts->tcps_tunneled_errs, 1);
	/* Ten bytes: less than a TCP header. */
	slen = tcp_seg(seg, 80, TH_SYN, NULL, 0);
	len = udp_frame(f, seg, 10, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(ts->tcps_tunneled_errs, 2);
	/* Twenty bytes that are not TCP: data offset 0, then 15 (60 bytes
	 * of header in a 20-byte payload). */
	seg[12] = 0x00;
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	seg[12] = 0xf0;
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(ts->tcps_tunneled_errs, 4);
	/* A good segment from UDP port 0: no way to answer it. */
	seg[12] = 0x50;
	len = udp_frame(f, seg, slen, 0, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(ts->tcps_tunneled_errs, 5);
	/* None reached TCP, none was answered, none was UDP's business. */
	CHECK_EQ(ts->tcps_tunneled_pkts, 0);
	CHECK_EQ(ts->tcps_rcvtotal, 0);
	CHECK_EQ(t.st->st_udpstat.udps_noport, 0);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(tunnel_bad_udp_checksum_never_reaches_tcp)
{
	struct ipt t;
	uint8_t f[512], seg[64];
	size_t len, slen;

	tun_init(&t);
	slen = tcp_seg(seg, 80, TH_SYN, NULL, 0);
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	f[len - 1] ^= 0x5a; /* the last byte of the TCP header */
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_udpstat.udps_badsum, 1);
	CHECK_EQ(t.st->st_tcpstat.tcps_tunneled_pkts, 0);
	CHECK_EQ(t.d->tx_count, 0);
	/* Without a UDP checksum (IPv4 allows it) the TCP checksum counts:
	 * a bad one is dropped by TCP. */
	len = udp_frame(f, seg, slen, PEER_UDP, 1);
	f[len - 1] ^= 0x5a;
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_tcpstat.tcps_tunneled_pkts, 1);
	CHECK_EQ(t.st->st_tcpstat.tcps_rcvbadsum, 1);
	CHECK_EQ(t.d->tx_count, 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(tunnel_syn_for_no_socket_gets_encapsulated_rst)
{
	struct ipt t;
	uint8_t f[512], seg[64];
	size_t len, slen;
	struct tl_pkt p;
	uint8_t buf[2048];

	tun_init(&t);
	slen = tcp_seg(seg, 80, TH_SYN, NULL, 0);
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_tcpstat.tcps_tunneled_pkts, 1);
	CHECK_EQ(t.st->st_tcpstat.tcps_rcvnoport, 1);
	REQUIRE_EQ(t.d->tx_count, 1);
	REQUIRE(ipt_tx_ipok(&t, 0));
	REQUIRE_EQ(tx_encapsulated(&t, 0, buf, &p), 0);
	CHECK_EQ(p.sport, 80);
	CHECK_EQ(p.dport, PEER_TCP);
	CHECK_EQ(p.flags, TH_RST | TH_ACK);
	CHECK_EQ(p.ack, 1001);
	CHECK_EQ(t.st->st_tcpstat.tcps_tunneled_opkts, 1);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(tunnel_closed_port_is_udp)
{
	struct ipt t;
	uint8_t f[512], seg[64];
	size_t len, slen;

	ipt_init(&t, ust_test_seed);
	slen = tcp_seg(seg, 80, TH_SYN, NULL, 0);
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	CHECK_EQ(t.st->st_udpstat.udps_noport, 1);
	CHECK_EQ(t.st->st_tcpstat.tcps_tunneled_pkts, 0);
	CHECK_EQ(t.st->st_tcpstat.tcps_rcvtotal, 0);
	ipt_fini(&t);
}
#endif

#if UST_STATS
TEST(tunnel_syn_to_listener_gets_encapsulated_syn_ack)
{
	struct ipt t;
	uint8_t f[512], seg[64], opt[4];
	size_t len, slen;
	struct ust_socket *lso = NULL;
	struct ust_sockaddr_in sin = tl_sin(htonl(IPT_OURS), 80);
	struct tl_pkt p;
	uint8_t buf[2048];
	int i, mss = 0;

	tun_init(&t);
	REQUIRE_EQ(ust_socket(t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso), 0);
	REQUIRE_EQ(ust_bind(lso, (const struct ust_sockaddr *)&sin, sizeof(sin)), 0);
	REQUIRE_EQ(ust_listen(lso, 4), 0);
	slen = tcp_seg(seg, 80, TH_SYN, opt, tl_opt_mss(opt, 1460));
	len = udp_frame(f, seg, slen, PEER_UDP, 0);
	ipt_inject(&t, f, len);
	REQUIRE_EQ(t.d->tx_count, 1);
	REQUIRE_EQ(tx_encapsulated(&t, 0, buf, &p), 0);
	CHECK_EQ(p.flags, TH_SYN | TH_ACK);
	CHECK_EQ(p.ack, 1001);
	for (i = 0; i + 3 < (int)p.optlen; i++)
		if (p.opt[i] == 2 && p.opt[i + 1] == 4)
			mss = tl_get16(p.opt + i + 2);
	/* 1500 - 20 - 20 - net.inet.tcp.udp_tunneling_overhead (8). */
	CHECK_EQ(mss, 1452);
	ust_close(lso);
	ipt_fini(&t);
}
#endif

#endif /* UST_TCP_TUNNEL */
