/*
 * test_hostile_link.c - hostile ARP (RFC 826, RFC 5227), ICMP errors
 * (RFC 792, RFC 1122 3.2.2, RFC 1191, RFC 5927) and UDP lengths (RFC 768,
 * RFC 1122 4.1.3.4), each followed by hs_alive().
 */
#include "hostile.h"
#include "net/linktest.h"

/* The whole file needs the counters (ustack_opts.h). */
#if UST_STATS

static const uint8_t zero6[6] = { 0, 0, 0, 0, 0, 0 };
static const uint8_t evil_mac[6] = { 0x02, 0, 0, 0, 0, 0x66 };

enum arpmut { HLEN8, PLEN16, OP3, OP0, HTYPE6, PTYPE6, CLAIM_OURS, SHORT };

struct arprow {
	const char *name;
	enum arpmut mut;
	size_t off; /* in struct ust_arpstat */
};

static const struct arprow arprows[] = {
	{ "hlen8", HLEN8, offsetof(struct ust_arpstat, rx_badformat) },
	{ "plen16", PLEN16, offsetof(struct ust_arpstat, rx_badformat) },
	{ "htype6", HTYPE6, offsetof(struct ust_arpstat, rx_badformat) },
	{ "ptype_ipv6", PTYPE6, offsetof(struct ust_arpstat, rx_badformat) },
	{ "opcode3", OP3, offsetof(struct ust_arpstat, rx_badop) },
	{ "opcode0", OP0, offsetof(struct ust_arpstat, rx_badop) },
	{ "claims_our_address", CLAIM_OURS, offsetof(struct ust_arpstat, dupips) },
	{ "truncated", SHORT, offsetof(struct ust_arpstat, rx_tooshort) },
};

/* Malformed ARP is dropped and counted; a packet claiming our address
 * (RFC 5227 2.4) is a conflict: counted, and it must not redirect our
 * traffic (the peer's entry and our own address stay). */
TEST(hostile_arp)
{
	size_t i;

	for (i = 0; i < sizeof(arprows) / sizeof(arprows[0]); i++) {
		const struct arprow *r = &arprows[i];
		uint8_t f[64];
		size_t n;
		struct hs h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		n = lt_arp_frame(f, ipt_mac_bcast, evil_mac, 1, evil_mac,
		    htonl(r->mut == CLAIM_OURS ? IPT_OURS : IPT_OTHER), zero6, htonl(IPT_OURS));
		switch (r->mut) {
		case HLEN8:
			f[18] = 8;
			break;
		case PLEN16:
			f[19] = 16;
			break;
		case HTYPE6:
			f[15] = 6;
			break;
		case PTYPE6:
			f[16] = 0x86;
			f[17] = 0xdd;
			break;
		case OP3:
			f[21] = 3;
			break;
		case OP0:
			f[21] = 0;
			break;
		case SHORT:
			n = 14 + 20;
			break;
		default:
			break;
		}
		ipt_inject(&h.tt.t, f, n);
		CHECK_EQ(hs_delta(&h, HS_ARP, r->off), 1);
		CHECK_EQ(HS_D(&h, arp, txreplies), 0);
		hs_skip(&h);
		/* Our traffic still goes to the peer's MAC (tt_next checks it). */
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}

enum icmpmut { QUOTE_IP_ONLY, QUOTE_IHL3, QUOTE_SHORT4, MTU0, MTU1, MTU68, QUOTE_OTHER_CONN };

struct icmprow {
	const char *name;
	enum icmpmut mut;
};

static const struct icmprow icmprows[] = {
	{ "quote_ip_header_only", QUOTE_IP_ONLY },
	{ "quote_ihl3", QUOTE_IHL3 },
	{ "quote_4_transport_bytes", QUOTE_SHORT4 },
	{ "fragneeded_mtu0", MTU0 },
	{ "fragneeded_mtu1", MTU1 },
	{ "fragneeded_mtu68", MTU68 },
	{ "quote_unknown_connection", QUOTE_OTHER_CONN },
};

#if UST_ICMP_CTLINPUT
/* Destination unreachable / fragmentation needed quoting our
 * connection's segment (or something malformed): the connection must not
 * be torn down (RFC 5927 4: soft errors in ESTABLISHED), its MSS must not
 * drop below net.inet.tcp.minmss whatever MTU is claimed (RFC 1191 and
 * FreeBSD's minmss clamp), and nothing is sent in answer to an ICMP
 * error (RFC 1122 3.2.2). */
TEST(hostile_icmp_errors)
{
	size_t i;

	for (i = 0; i < sizeof(icmprows) / sizeof(icmprows[0]); i++) {
		const struct icmprow *r = &icmprows[i];
		uint8_t q[28], icmp[64], f[128];
		struct ust_tcp_info ti;
		size_t n, qlen = 28;
		uint32_t mtu = 0;
		struct hs h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		/* The quoted datagram: our segment to the peer, 20 bytes of IP
		 * and the first 8 of TCP (ports and sequence number). */
		(void)tl_ip4(q, IPT_OURS, IPT_PEER, 6, 1, 0x4000, 64, NULL, 0, 20);
		q[20] = TT_LOCAL_PORT >> 8;
		q[21] = TT_LOCAL_PORT & 0xff;
		q[22] = TT_PEER_PORT >> 8;
		q[23] = TT_PEER_PORT & 0xff;
		tl_put32(q + 24, h.tt.iss + h.oseq);
		switch (r->mut) {
		case QUOTE_IP_ONLY:
			qlen = 20;
			break;
		case QUOTE_IHL3:
			q[0] = 0x43;
			break;
		case QUOTE_SHORT4:
			qlen = 24;
			break;
		case MTU0:
			mtu = 0;
			break;
		case MTU1:
			mtu = 1;
			break;
		case MTU68:
			mtu = 68;
			break;
		case QUOTE_OTHER_CONN:
			q[23] ^= 1;
			break;
		}
		n = tl_icmp(icmp, 3, 4, mtu, q, qlen);
		n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 1, 9, 0, 64, icmp, n);
		ipt_inject(&h.tt.t, f, n);
		CHECK_EQ(hs_txnew(&h), 0);
		CHECK_EQ(HS_D(&h, icmp, icps_reflect), 0);
		CHECK_EQ(HS_D(&h, ip, ips_delivered), 1);
		CHECK_EQ(tt_info(h.tt.so, &ti), 0);
		CHECK(ti.tcpi_snd_mss >= 216);
		CHECK_EQ(tt_state(h.tt.so), UST_TCPS_ESTABLISHED);
		CHECK_EQ(tt_soerror(h.tt.so), 0);
		if (r->mut == QUOTE_IP_ONLY || r->mut == QUOTE_IHL3 || r->mut == QUOTE_SHORT4)
			CHECK_EQ(HS_D(&h, icmp, icps_badlen), 1);
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}
#endif

enum udpmut { ULEN_GT_IP, ULEN_LT8, ULEN_LT_IP, ULEN_ZERO };

struct udprow {
	const char *name;
	enum udpmut mut;
	long long badlen, delivered;
};

static const struct udprow udprows[] = {
	{ "ulen_past_ip_payload", ULEN_GT_IP, 1, 0 },
	{ "ulen_below_8", ULEN_LT8, 1, 0 },
	{ "ulen_zero", ULEN_ZERO, 1, 0 },
	/* RFC 768: the UDP length rules; FreeBSD trims the datagram to it
	 * and delivers the first ulen - 8 bytes. */
	{ "ulen_shorter_than_ip", ULEN_LT_IP, 0, 1 },
};

TEST(hostile_udp_lengths)
{
	size_t i;

	for (i = 0; i < sizeof(udprows) / sizeof(udprows[0]); i++) {
		const struct udprow *r = &udprows[i];
		struct ust_sockaddr_in me = tl_sin(htonl(IPT_OURS), 7000), from;
		struct ust_socket *u = NULL;
		uint8_t udp[64], f[128];
		uint16_t ulen = 8 + 16;
		size_t n;
		char b[32];
		struct hs h;
		HS_ROW_BEGIN(r->name);

		REQUIRE(hs_init(&h, ust_test_seed));
		REQUIRE_EQ(ust_socket(h.tt.t.st, UST_AF_INET, UST_SOCK_DGRAM, 0, &u), 0);
		CHECK_EQ(ust_bind(u, (const struct ust_sockaddr *)&me, sizeof(me)), 0);
		switch (r->mut) {
		case ULEN_GT_IP:
			ulen = 8 + 40;
			break;
		case ULEN_LT8:
			ulen = 4;
			break;
		case ULEN_ZERO:
			ulen = 0;
			break;
		case ULEN_LT_IP:
			ulen = 8 + 10;
			break;
		}
		/* The checksum covers the 16 data bytes sent whatever ulen
		 * says, except when ulen trims: then it covers ulen bytes. */
		n = tl_udp(udp, IPT_PEER, IPT_OURS, 5555, 7000, ulen, "0123456789abcdef",
		    r->mut == ULEN_LT_IP ? 10 : 16);
		if (r->mut == ULEN_LT_IP) {
			memcpy(udp + 18, "abcdef", 6);
			n = 24;
		}
		n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 17, 11, 0, 64, udp, n);
		ipt_inject(&h.tt.t, f, n);
		CHECK_EQ(HS_D(&h, udp, udps_badlen), r->badlen);
		CHECK_EQ(HS_D(&h, udp, udps_delivered), r->delivered);
		if (r->delivered)
			CHECK_EQ(ust_recvfrom(u, b, sizeof(b), 0, (struct ust_sockaddr *)&from,
			             &(ust_socklen_t){ sizeof(from) }),
			    10);
		else
			CHECK_EQ(ust_recvfrom(u, b, sizeof(b), 0, (struct ust_sockaddr *)&from,
			             &(ust_socklen_t){ sizeof(from) }),
			    -UST_EAGAIN);
		CHECK_EQ(hs_txnew(&h), 0);
		/* The socket still receives a good datagram. */
		n = tl_udp(udp, IPT_PEER, IPT_OURS, 5555, 7000, 8 + 3, "ok!", 3);
		n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, 17, 12, 0, 64, udp, n);
		ipt_inject(&h.tt.t, f, n);
		CHECK_EQ(ust_recvfrom(u, b, sizeof(b), 0, (struct ust_sockaddr *)&from,
		             &(ust_socklen_t){ sizeof(from) }),
		    3);
		ust_close(u);
		hs_alive(&h);
		hs_fini(&h);
		HS_ROW_END();
	}
}
#endif /* UST_STATS */
