/*
 * make_corpus.c - writes the fuzzers' seed corpus: valid frames of every
 * kind the stack handles, aimed at the rig's listener, established
 * connection and UDP socket (fuzz_rig.h).  It builds the rig itself to
 * learn the connection's sequence numbers and timestamps, so the seeds
 * stay in-window whatever the ISN generator does.
 *
 *   make_corpus FRAME_DIR FRAMES_DIR
 * IPv6 seeds (ethertype 0x86dd, "ip6_", "nd6_", "mld_", "icmp6_", "frag6_"
 * names) go to the rig's addresses in 2001:2::/64 (::2 ours, ::1 the peer,
 * the ::1/::2 of 198.18.0.1/.2) and its link-local ones (fe80:: + the
 * modified EUI-64 of the MACs): plain datagrams, extension-header chains,
 * fragments, Neighbor Discovery, MLD and ICMPv6 errors, so that the
 * ether_input harnesses reach ip6_input and its neighbours once the stack
 * has IPv6 (until then they stop at ether_input's unknown ethertype).
 * FRAME_DIR gets one frame per file (fuzz_frame); FRAMES_DIR gets every
 * frame as a one-frame sequence plus multi-frame scenarios (fuzz_frames'
 * format: 2-byte length with bit 15 = checksum offloaded, frame, 1-byte
 * time step).
 */
#include "fuzz_rig.h"
#include "tl_frame6.h"
#include "tl_net.h"

#include <stdio.h>
#include <string.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define NSEED 192

struct seed {
	char name[48];
	uint8_t f[FZ_FRAME_MAX];
	size_t len;
};

struct corpus {
	struct fz_rig r;
	struct seed s[NSEED];
	int n;
	const char *dir1, *dirn;
	int files;
};

static struct corpus C;

static int
write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(p, 1, len, fp) != len) {
		perror(path);
		if (fp != NULL)
			fclose(fp);
		return (-1);
	}
	C.files++;
	return (fclose(fp));
}

static struct seed *
add(const char *name)
{
	struct seed *s = &C.s[C.n++];

	snprintf(s->name, sizeof(s->name), "%s", name);
	return (s);
}

static void
tcp_est(const char *name, uint8_t flags, uint32_t dseq, uint32_t dack, uint16_t win,
    const uint8_t *xopt, size_t xlen, const char *data)
{
	struct seed *s = add(name);
	uint8_t opt[40];
	size_t ol = tl_opt_ts(opt, FZ_PEER_TS + 2, C.r.ts_recent);

	if (xlen > 0)
		memcpy(opt + ol, xopt, xlen);
	s->len = fz_tcp(s->f, FZ_PPORT, FZ_LPORT, C.r.rcv_nxt + dseq, C.r.snd_una + dack, flags,
	    win, opt, ol + xlen, data, data != NULL ? strlen(data) : 0);
}

static void
tcp_listen(const char *name, uint16_t sport, uint8_t flags, const uint8_t *opt, size_t ol)
{
	struct seed *s = add(name);

	s->len = fz_tcp(s->f, sport, FZ_LPORT, 0x20000000u, flags & F_ACK ? 0x12345678u : 0, flags,
	    65535, opt, ol, NULL, 0);
}

static void
arp(const char *name, uint16_t op, const uint8_t *dmac, const uint8_t *tha, uint32_t spa,
    uint32_t tpa)
{
	struct seed *s = add(name);
	memset(s->f, 0, 60);
	tl_arp(s->f, dmac, fz_mac_peer, op, fz_mac_peer, spa, tha, tpa);
	s->len = 14 + 28 + 18; /* padded to the Ethernet minimum */
}

/* An ICMP error quoting the IP header and 8 bytes of a packet we sent. */
static void
icmp_err(const char *name, uint8_t type, uint8_t code, uint32_t rest, uint8_t proto, uint16_t sport,
    uint16_t dport, uint32_t seq)
{
	struct seed *s = add(name);
	uint8_t q[28];

	tl_ip4(q, FZ_OURS, FZ_PEER, proto, 0x99, 0x4000, 64, NULL, 0, 40);
	tl_put16(q + 20, sport);
	tl_put16(q + 22, dport);
	tl_put32(q + 24, seq);
	s->len = fz_icmp(s->f, type, code, rest, q, sizeof(q));
}

/* An IPv4 datagram to us with IP options or a fragment offset. */
static void
ip_raw(const char *name, uint8_t proto, uint16_t id, uint16_t off, const uint8_t *opt, size_t ol,
    const uint8_t *pl, size_t plen)
{
	struct seed *s = add(name);
	size_t hl;

	tl_eth(s->f, fz_mac_ours, fz_mac_peer, 0x0800);
	hl = tl_ip4(s->f + 14, FZ_PEER, FZ_OURS, proto, id, off, 64, opt, ol, plen);
	memcpy(s->f + 14 + hl, pl, plen);
	s->len = 14 + hl + plen;
}

static void
seeds_link_ip(void)
{
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 1 };
	static const uint8_t tsopt[12] = { 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t lsrr[8] = { 1, 131, 7, 4, 0xc6, 0x12, 0, 2 };
	uint8_t udp[48], f[FZ_FRAME_MAX];
	struct seed *s;
	size_t ul;

	arp("arp_request", 1, bcast, zero, FZ_PEER, FZ_OURS);
	arp("arp_reply", 2, fz_mac_ours, fz_mac_ours, FZ_PEER, FZ_OURS);
	arp("arp_gratuitous", 1, bcast, zero, FZ_PEER, FZ_PEER);
	arp("arp_request_other", 1, bcast, zero, 0xc6120009u, 0xc6120007u);
	/* A UDP datagram (header + 40 bytes) to reuse as IP payload. */
	ul = fz_udp(f, 1000, FZ_UPORT, "0123456789abcdef0123456789abcdef01234567", 40);
	memcpy(udp, f + 34, ul - 34);
	ip_raw("ip_opt_rr_udp", 17, 0x100, 0, rr, sizeof(rr), udp, 48);
	ip_raw("ip_opt_ts_udp", 17, 0x101, 0, tsopt, sizeof(tsopt), udp, 48);
	ip_raw("ip_opt_lsrr_udp", 17, 0x102, 0, lsrr, sizeof(lsrr), udp, 48);
	/* RFC 791: fragments of one datagram, offsets in 8-byte units. */
	ip_raw("frag_first", 17, 0x200, 0x2000, NULL, 0, udp, 24);
	ip_raw("frag_last", 17, 0x200, 3, NULL, 0, udp + 24, 24);
	ip_raw("frag_middle_overlap", 17, 0x200, 0x2000 | 2, NULL, 0, udp + 16, 16);
	ip_raw("ip_unknown_proto", 99, 0x300, 0, NULL, 0, udp, 48);
	s = add("udp_to_socket");
	s->len = fz_udp(s->f, 1000, FZ_UPORT, "hello", 5);
	s = add("udp_to_closed");
	s->len = fz_udp(s->f, 1000, 9, "hello", 5);
	s = add("udp_empty");
	s->len = fz_udp(s->f, 1000, FZ_UPORT, NULL, 0);
	s = add("icmp_echo");
	s->len = fz_icmp(s->f, 8, 0, 0x00010001u, "pingdata", 8);
	s = add("icmp_echo_reply");
	s->len = fz_icmp(s->f, 0, 0, 0x00010001u, "pingdata", 8);
	s = add("icmp_timestamp");
	s->len = fz_icmp(s->f, 13, 0, 0x00020001u, udp, 12);
	icmp_err("icmp_unreach_port_udp", 3, 3, 0, 17, FZ_UPORT, 1000, 0x00080000u);
	icmp_err("icmp_unreach_port_tcp", 3, 3, 0, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_unreach_host_tcp", 3, 1, 0, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_fragneeded_tcp", 3, 4, 576, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_timxceed_tcp", 11, 0, 0, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_quench_tcp", 4, 0, 0, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_redirect_tcp", 5, 1, 0xc6120009u, 6, FZ_LPORT, FZ_PPORT, C.r.snd_una);
	icmp_err("icmp_paramprob_udp", 12, 0, 0x14000000u, 17, FZ_UPORT, 1000, 0);
}

static void
seeds_tcp(void)
{
	/* <mss 1460, sackOK, TS, nop, wscale 7> and variants. */
	uint8_t o[40];
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 }, ws[4] = { 1, 3, 3, 14 };
	static const uint8_t sackok[4] = { 1, 1, 4, 2 };
	uint8_t sack[20];
	uint32_t una = 0;
	struct seed *s;

	memcpy(o, (const uint8_t[]){ 2, 4, 0x05, 0xb4, 4, 2, 8, 10 }, 8);
	tl_put32(o + 8, 7);
	tl_put32(o + 12, 0);
	memcpy(o + 16, (const uint8_t[]){ 1, 3, 3, 7 }, 4);
	tcp_listen("syn_all_options", 40001, F_SYN, o, 20);
	tcp_listen("syn_no_options", 40002, F_SYN, NULL, 0);
	tcp_listen("syn_mss", 40003, F_SYN, mss, 4);
	tcp_listen("syn_wscale14", 40004, F_SYN, ws, 4);
	tcp_listen("syn_sackok", 40005, F_SYN, sackok, 4);
	tcp_listen("synack_to_listener", 40006, F_SYN | F_ACK, NULL, 0);
	tcp_listen("ack_to_listener", 40007, F_ACK, NULL, 0);
	tcp_listen("rst_to_listener", 40008, F_RST, NULL, 0);
	tcp_listen("syn_ecn", 40009, F_SYN | 0xc0, NULL, 0);
	s = add("syn_closed_port");
	s->len = fz_tcp(s->f, 40010, 81, 1, 0, F_SYN, 1024, NULL, 0, NULL, 0);
	tcp_est("est_ack_part", F_ACK, 0, 1448, 2048, NULL, 0, NULL);
	tcp_est("est_ack_all", F_ACK, 0, FZ_INFLIGHT, 2048, NULL, 0, NULL);
	tcp_est("est_dupack", F_ACK, 0, una, 2048, NULL, 0, NULL);
	tcp_est("est_zero_window", F_ACK, 0, 1448, 0, NULL, 0, NULL);
	tcp_est("est_data", F_ACK | F_PSH, 0, 0, 2048, NULL, 0, "GET / HTTP/1.0\r\n\r\n");
	tcp_est("est_data_ooo", F_ACK, 100, 0, 2048, NULL, 0, "out of order bytes");
	tcp_est("est_data_urg", F_ACK | F_URG | F_PSH, 0, 0, 2048, NULL, 0, "urgent!");
	tcp_est("est_fin", F_ACK | F_FIN, 0, 0, 2048, NULL, 0, NULL);
	tcp_est("est_data_fin", F_ACK | F_FIN | F_PSH, 0, 0, 2048, NULL, 0, "bye");
	tcp_est("est_rst", F_RST, 0, 0, 0, NULL, 0, NULL);
	tcp_est("est_rst_ack_inwin", F_RST | F_ACK, 10, 0, 0, NULL, 0, NULL);
	tcp_est("est_syn", F_SYN, 0, 0, 2048, NULL, 0, NULL);
	tcp_est("est_old_ack", F_ACK, (uint32_t)-5000, 0, 2048, NULL, 0, NULL);
	/* RFC 2018: SACK blocks above the cumulative ACK, 1 to 3 of them. */
	sack[0] = sack[1] = 1;
	sack[2] = 5;
	sack[3] = 10;
	tl_put32(sack + 4, C.r.snd_una + 2896);
	tl_put32(sack + 8, C.r.snd_una + 4344);
	tcp_est("est_sack1", F_ACK, 0, 0, 2048, sack, 12, NULL);
	sack[3] = 18;
	tl_put32(sack + 12, C.r.snd_una + 5792);
	tl_put32(sack + 16, C.r.snd_una + 7240);
	tcp_est("est_sack2", F_ACK, 0, 1448, 2048, sack, 20, NULL);
	/* Timestamps alone would not fit 3 blocks: 2 NOP + 26 = 28 + 12. */
	{
		uint8_t s3[28] = { 1, 1, 5, 26 };
		int i;

		for (i = 0; i < 3; i++) {
			tl_put32(s3 + 4 + 8 * i, C.r.snd_una + 1448u * (2 * (uint32_t)i + 1));
			tl_put32(s3 + 8 + 8 * i, C.r.snd_una + 1448u * (2 * (uint32_t)i + 2));
		}
		tcp_est("est_sack3", F_ACK, 0, 0, 2048, s3, 28, NULL);
	}
}

/* Answers to our SYN_SENT socket: SYN-ACK with every option or none, a
 * RST, a bare SYN (simultaneous open, RFC 9293 3.5 figure 8). */
static void
seeds_client(void)
{
	uint8_t o[20];
	struct seed *s;

	memcpy(o, (const uint8_t[]){ 2, 4, 0x05, 0xb4, 4, 2, 8, 10 }, 8);
	tl_put32(o + 8, FZ_PEER_TS);
	tl_put32(o + 12, C.r.ts_recent);
	memcpy(o + 16, (const uint8_t[]){ 1, 3, 3, 7 }, 4);
	s = add("client_synack_all_options");
	s->len = fz_tcp(s->f, FZ_CPORT, C.r.c_port, 0x30000000u, C.r.c_iss + 1, F_SYN | F_ACK,
	    65535, o, 20, NULL, 0);
	s = add("client_synack_no_options");
	s->len = fz_tcp(s->f, FZ_CPORT, C.r.c_port, 0x30000000u, C.r.c_iss + 1, F_SYN | F_ACK,
	    65535, NULL, 0, NULL, 0);
	s = add("client_rst_ack");
	s->len = fz_tcp(s->f, FZ_CPORT, C.r.c_port, 0, C.r.c_iss + 1, F_RST | F_ACK, 0, NULL, 0,
	    NULL, 0);
	s = add("client_simultaneous_syn");
	s->len = fz_tcp(s->f, FZ_CPORT, C.r.c_port, 0x30000000u, 0, F_SYN, 65535, o, 20, NULL, 0);
	s = add("client_synack_data");
	s->len = fz_tcp(s->f, FZ_CPORT, C.r.c_port, 0x30000000u, C.r.c_iss + 1,
	    F_SYN | F_ACK | F_PSH, 65535, NULL, 0, "early", 5);
}

/* ---- IPv6 ------------------------------------------------------------- */

static uint8_t a6_ours[16], a6_peer[16], ll_ours[16], ll_peer[16], a6_far[16];
static uint8_t a6_allnodes[16], a6_allrouters[16], a6_mldv2[16], a6_solours[16];

static void
a6_init(void)
{
	uint8_t ll[16];

	tl_in6(a6_ours, "2001:2::2");
	tl_in6(a6_peer, "2001:2::1");
	tl_in6(a6_far, "2001:2::99");
	tl_in6(ll, "fe80::");
	tl_in6_eui64(ll_ours, ll, fz_mac_ours);
	tl_in6_eui64(ll_peer, ll, fz_mac_peer);
	tl_in6(a6_allnodes, "ff02::1");
	tl_in6(a6_allrouters, "ff02::2");
	tl_in6(a6_mldv2, "ff02::16");
	tl_in6_solnode(a6_solours, a6_ours);
}

/* A frame from the peer's MAC: IPv6 src -> dst (Ethernet destination
 * dst's group MAC for a multicast dst, else ours), hop limit hlim, the
 * extension headers e[0..n) and the upper-layer bytes pl of protocol
 * nxt. */
static struct seed *
v6(const char *name, const uint8_t *src, const uint8_t *dst, uint8_t hlim, uint8_t nxt,
    const struct tl_ext6 *e, unsigned n, const uint8_t *pl, size_t plen)
{
	struct seed *s = add(name);
	struct tl_ip6 h = { 0, 0, nxt, hlim, src, dst };
	uint8_t gmac[6];

	tl_in6_mcast_mac(gmac, dst);
	s->len =
	    tl_frame6(s->f, dst[0] == 0xff ? gmac : fz_mac_ours, fz_mac_peer, &h, e, n, pl, plen);
	return (s);
}

/* An ICMPv6 message from src to dst, no extension headers. */
static void
icmp6(const char *name, const uint8_t *src, const uint8_t *dst, uint8_t hlim, uint8_t type,
    uint8_t code, uint32_t rest, const void *body, size_t blen)
{
	uint8_t m[FZ_FRAME_MAX];
	size_t n = tl_icmp6(m, src, dst, type, code, rest, body, blen);

	v6(name, src, dst, hlim, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
}

/* A TCP segment over IPv6 from the peer to us (to sport/dport). */
static void
tcp6(const char *name, uint16_t sport, uint16_t dport, uint8_t flags, const uint8_t *opt, size_t ol)
{
	struct tl_tcp th = { sport, dport, 0x20000000u, flags & F_ACK ? 0x12345678u : 0, flags,
		65535, 0, opt, ol };
	uint8_t m[128];
	size_t n = tl_tcp6(m, a6_peer, a6_ours, &th, NULL, 0);

	v6(name, a6_peer, a6_ours, 64, TL_IPPROTO_TCP, NULL, 0, m, n);
}

/* UDP to us behind the extension headers e[0..n). */
static void
udp6_ext(const char *name, uint16_t dport, const struct tl_ext6 *e, unsigned n, const char *data)
{
	uint8_t m[256];
	size_t l = tl_udp6(m, a6_peer, a6_ours, 1000, dport, (uint16_t)(8 + strlen(data)), data,
	    strlen(data));

	v6(name, a6_peer, a6_ours, 64, TL_IPPROTO_UDP, e, n, m, l);
}

/* The unfragmentable part (IPv6 header + e) and fragments of an echo
 * request of plen data bytes: pieces [off, off + len) with the M flag. */
static void
frag6(const char *name, const struct tl_ext6 *e, unsigned n, size_t plen, uint32_t id, uint32_t off,
    uint32_t len, int more)
{
	uint8_t f[FZ_FRAME_MAX + 64], data[1400], pkt[FZ_FRAME_MAX];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_ICMPV6, 64, a6_peer, a6_ours };
	struct seed *s;
	size_t i, l, hl;

	for (i = 0; i < plen; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	hl = tl_frame6_hdrs(f, fz_mac_ours, fz_mac_peer, &h, e, n, 8 + plen);
	l = hl + tl_icmp6_echo(f + hl, a6_peer, a6_ours, 0, 0x66, 1, data, plen);
	memcpy(pkt, f + TL_ETHER_HDR, l - TL_ETHER_HDR);
	s = add(name);
	s->len = tl_frag6(s->f, fz_mac_ours, fz_mac_peer, pkt, l - TL_ETHER_HDR,
	    tl_frag6_unfrag(pkt, l - TL_ETHER_HDR), id, off, len, more);
}

static void
seeds_ip6_plain(void)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xa0 };
	uint8_t m[256], opt[20];
	struct tl_tcp th = { 40000, FZ_LPORT, 1, 0, F_SYN, 1024, 0, mss, 4 };
	uint8_t mapped[16], lo[16];
	size_t n;

	icmp6("ip6_echo", a6_peer, a6_ours, 64, TL_ICMP6_ECHO_REQUEST, 0, 0x00660001u, "ping6", 5);
	icmp6("ip6_echo_linklocal", ll_peer, ll_ours, 64, TL_ICMP6_ECHO_REQUEST, 0, 0x00660002u,
	    "ping6", 5);
	icmp6("ip6_echo_allnodes", ll_peer, a6_allnodes, 64, TL_ICMP6_ECHO_REQUEST, 0, 0x00660003u,
	    "ping6", 5);
	icmp6("ip6_echo_reply", a6_peer, a6_ours, 64, TL_ICMP6_ECHO_REPLY, 0, 0x00660001u, "ping6",
	    5);
	icmp6("ip6_icmp_unknown_type", a6_peer, a6_ours, 64, 200, 0, 0, "x", 1);
	udp6_ext("ip6_udp_to_socket", FZ_UPORT, NULL, 0, "hello");
	udp6_ext("ip6_udp_to_closed", 9, NULL, 0, "hello");
	tcp6("ip6_tcp_syn_listener", 40001, FZ_LPORT, F_SYN, mss, 4);
	memcpy(opt, (const uint8_t[]){ 2, 4, 0x05, 0xa0, 4, 2, 8, 10 }, 8);
	tl_put32(opt + 8, 7);
	tl_put32(opt + 12, 0);
	memcpy(opt + 16, (const uint8_t[]){ 1, 3, 3, 7 }, 4);
	tcp6("ip6_tcp_syn_all_options", 40002, FZ_LPORT, F_SYN, opt, 20);
	tcp6("ip6_tcp_syn_closed", 40003, 81, F_SYN, NULL, 0);
	tcp6("ip6_tcp_ack_no_pcb", 40004, FZ_LPORT, F_ACK, NULL, 0);
	tcp6("ip6_tcp_rst", 40005, FZ_LPORT, F_RST, NULL, 0);
	/* No next header; an unknown one (ICMPv6 parameter problem code 1). */
	v6("ip6_no_next_header", a6_peer, a6_ours, 64, TL_IPPROTO_NONE, NULL, 0, NULL, 0);
	v6("ip6_unknown_next_header", a6_peer, a6_ours, 64, 253, NULL, 0, (const uint8_t *)"abcd",
	    4);
	/* Sources a node must not accept (RFC 4291 2.5.5.2, 2.7; RFC 8200). */
	tl_in6(mapped, "::ffff:198.18.0.1");
	tl_in6(lo, "::1");
	n = tl_tcp6(m, mapped, a6_ours, &th, NULL, 0);
	v6("ip6_src_v4mapped_syn", mapped, a6_ours, 64, TL_IPPROTO_TCP, NULL, 0, m, n);
	n = tl_icmp6_echo(m, a6_allnodes, a6_ours, 0, 1, 1, NULL, 0);
	v6("ip6_src_multicast_echo", a6_allnodes, a6_ours, 64, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	n = tl_icmp6_echo(m, a6_peer, lo, 0, 1, 1, NULL, 0);
	v6("ip6_dst_loopback_echo", a6_peer, lo, 64, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	icmp6("ip6_echo_not_ours", a6_peer, a6_far, 64, TL_ICMP6_ECHO_REQUEST, 0, 1, "fwd", 3);
	icmp6("ip6_echo_hlim0", a6_peer, a6_ours, 0, TL_ICMP6_ECHO_REQUEST, 0, 1, "h0", 2);
}

static void
seeds_ip6_ext(void)
{
	uint8_t o[64], rh[64], segs[2][16], v[4] = { 1, 2, 3, 4 }, ra[2] = { 0, 0 };
	struct tl_ext6 e[20];
	char name[48];
	size_t ol;
	unsigned i;

	memset(e, 0, sizeof(e));
	/* Hop-by-hop with PadN only, and with a router alert. */
	e[0].type = TL_IPPROTO_HOPOPTS;
	e[0].data = o;
	e[0].len = tl_opt6_pad(o, 4);
	udp6_ext("ip6_hbh_padn_udp", FZ_UPORT, e, 1, "hbh");
	e[0].len = tl_opt6(o, TL_OPT_ROUTER_ALERT, ra, 2);
	udp6_ext("ip6_hbh_router_alert_udp", FZ_UPORT, e, 1, "ra");
	/* An unknown option with each action (RFC 8200 4.2): skip, discard,
	 * discard + ICMP, discard + ICMP unless multicast. */
	{
		static const struct {
			const char *n;
			uint8_t t;
		} act[] = {
			{ "ip6_dst_opt_skip", TL_OPT_ACT_SKIP | 0x1e },
			{ "ip6_dst_opt_discard", TL_OPT_ACT_DISCARD | 0x1e },
			{ "ip6_dst_opt_icmp", TL_OPT_ACT_ICMP | 0x1e },
			{ "ip6_dst_opt_icmp_unicast", TL_OPT_ACT_ICMP_UNICAST | 0x1e },
		};

		for (i = 0; i < 4; i++) {
			e[0].type = TL_IPPROTO_DSTOPTS;
			e[0].len = tl_opt6(o, act[i].t, v, 4);
			udp6_ext(act[i].n, FZ_UPORT, e, 1, "opt");
		}
		e[0].type = TL_IPPROTO_HOPOPTS;
		e[0].len = tl_opt6(o, TL_OPT_ACT_ICMP | 0x1e, v, 4);
		udp6_ext("ip6_hbh_opt_icmp", FZ_UPORT, e, 1, "opt");
	}
	/* A jumbo payload option with a nonzero payload length (RFC 2675
	 * says parameter problem). */
	e[0].type = TL_IPPROTO_HOPOPTS;
	ol = tl_opt6_pad(o, 2);
	tl_put32(v, 70000);
	ol += tl_opt6(o + ol, TL_OPT_JUMBO, v, 4);
	e[0].len = ol;
	udp6_ext("ip6_hbh_jumbo", FZ_UPORT, e, 1, "jumbo");
	/* Routing type 0: deprecated (RFC 5095), segments left 1 -> error,
	 * 0 -> ignored; type 4 (SRH) segments left 1; type 2 (mobility). */
	memcpy(segs[0], a6_far, 16);
	memcpy(segs[1], a6_ours, 16);
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_ROUTING;
	e[0].data = rh;
	e[0].len = tl_rh0_data(rh, (const uint8_t(*)[16])segs, 2);
	e[0].segleft = 1;
	udp6_ext("ip6_rh0_segleft1", FZ_UPORT, e, 1, "rh0");
	e[0].segleft = 0;
	udp6_ext("ip6_rh0_segleft0", FZ_UPORT, e, 1, "rh0");
	/* The SRH's list is in reverse: [0] is the final destination. */
	memcpy(segs[0], a6_ours, 16);
	memcpy(segs[1], a6_far, 16);
	e[0].rh_type = 4;
	e[0].len = tl_srh_data(rh, (const uint8_t(*)[16])segs, 2, 0);
	e[0].segleft = 1;
	udp6_ext("ip6_srh_segleft1", FZ_UPORT, e, 1, "srh");
	e[0].rh_type = 2;
	e[0].len = tl_rh0_data(rh, (const uint8_t(*)[16])segs, 1);
	e[0].segleft = 1;
	udp6_ext("ip6_rh2_segleft1", FZ_UPORT, e, 1, "rh2");
	/* Everything in order: HBH, DST, RH0 (left 0), DST, Fragment
	 * (atomic), UDP. */
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_HOPOPTS;
	e[1].type = TL_IPPROTO_DSTOPTS;
	e[2].type = TL_IPPROTO_ROUTING;
	e[2].data = rh;
	e[2].len = tl_rh0_data(rh, (const uint8_t(*)[16])segs, 1);
	e[3].type = TL_IPPROTO_DSTOPTS;
	e[4].type = TL_IPPROTO_FRAGMENT;
	e[4].id = 0x777;
	udp6_ext("ip6_chain_all", FZ_UPORT, e, 5, "chain");
	/* A hop-by-hop header that is not first (RFC 8200 4.3: error). */
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_DSTOPTS;
	e[1].type = TL_IPPROTO_HOPOPTS;
	udp6_ext("ip6_hbh_not_first", FZ_UPORT, e, 2, "late hbh");
	/* 18 destination-options headers: beyond FreeBSD's hdrnestlimit 15. */
	for (i = 0; i < 18; i++)
		e[i].type = TL_IPPROTO_DSTOPTS;
	udp6_ext("ip6_chain_too_long", FZ_UPORT, e, 18, "nest");
	/* An atomic fragment (RFC 6946) and one with a reserved byte set. */
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_FRAGMENT;
	e[0].id = 0x100;
	udp6_ext("frag6_atomic_udp", FZ_UPORT, e, 1, "atomic");
	e[0].frag_res = 0xff;
	udp6_ext("frag6_atomic_reserved", FZ_UPORT, e, 1, "atomic");
	/* A header whose length runs past the packet. */
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_DSTOPTS;
	e[0].data = o;
	e[0].len = tl_opt6(o, TL_OPT_ACT_SKIP | 0x1e, v, 4);
	udp6_ext("ip6_dst_truncated", FZ_UPORT, e, 1, "x");
	C.s[C.n - 1].f[TL_ETHER_HDR + TL_IP6_HDR + 1] = 40; /* 328 bytes claimed */
	(void)name;
}

static void
seeds_frag6(void)
{
	struct tl_ext6 e[2];

	/* An echo request of 1000 data bytes in three fragments (ICMPv6
	 * header + 1000 = 1008 bytes fragmentable). */
	frag6("frag6_first", NULL, 0, 1000, 0x1001, 0, 504, 1);
	frag6("frag6_middle", NULL, 0, 1000, 0x1001, 504, 256, 1);
	frag6("frag6_last", NULL, 0, 1000, 0x1001, 760, 248, 0);
	/* Overlapping (RFC 5722: the whole datagram is dropped). */
	frag6("frag6_overlap", NULL, 0, 1000, 0x1001, 496, 264, 1);
	/* A tiny first fragment, 8 bytes: the ICMPv6 header alone. */
	frag6("frag6_tiny_first", NULL, 0, 1000, 0x1002, 0, 8, 1);
	frag6("frag6_tiny_rest", NULL, 0, 1000, 0x1002, 8, 1000, 0);
	/* M set on a length not a multiple of 8 (parameter problem). */
	frag6("frag6_odd_length", NULL, 0, 1000, 0x1003, 0, 501, 1);
	/* Beyond 65535 bytes reassembled (parameter problem). */
	frag6("frag6_past_64k", NULL, 0, 1000, 0x1004, 65000, 600, 0);
	/* The upper-layer header not in the first fragment (RFC 7112): a
	 * destination-options header after the fragment header, 8 bytes
	 * of it in the first fragment. */
	memset(e, 0, sizeof(e));
	e[0].type = TL_IPPROTO_HOPOPTS;
	frag6("frag6_hbh_first", e, 1, 200, 0x1005, 0, 104, 1);
	frag6("frag6_hbh_last", e, 1, 200, 0x1005, 104, 104, 0);
	e[0].type = TL_IPPROTO_DSTOPTS;
	frag6("frag6_chain_split", e, 1, 200, 0x1006, 0, 8, 1);
}

static void
seeds_nd6(void)
{
	uint8_t o[1400], m[FZ_FRAME_MAX], red[120], pfx[16], unspec[16];
	struct tl_ra ra = { 64, 0, 1800, 0, 0 };
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_UDP, 64, a6_ours, a6_far };
	size_t ol, n, i;

	memset(unspec, 0, 16);
	/* NS for our address, to its solicited-node group, with SLLAO. */
	ol = tl_nd_opt_lla(o, TL_ND_OPT_SLLA, fz_mac_peer);
	n = tl_nd_ns(m, ll_peer, a6_solours, a6_ours, o, ol);
	v6("nd6_ns_solicited_node", ll_peer, a6_solours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* NS unicast (reachability probe), no option. */
	n = tl_nd_ns(m, a6_peer, a6_ours, a6_ours, NULL, 0);
	v6("nd6_ns_unicast", a6_peer, a6_ours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* DAD: from ::, no SLLAO (RFC 4862 5.4.3). */
	n = tl_nd_ns(m, unspec, a6_solours, a6_ours, NULL, 0);
	v6("nd6_ns_dad", unspec, a6_solours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* Invalid: hop limit 64; DAD with an SLLAO; a zero-length option. */
	n = tl_nd_ns(m, ll_peer, a6_solours, a6_ours, o, ol);
	v6("nd6_ns_hlim64", ll_peer, a6_solours, 64, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	n = tl_nd_ns(m, unspec, a6_solours, a6_ours, o, ol);
	v6("nd6_ns_dad_sllao", unspec, a6_solours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	o[8] = TL_ND_OPT_SLLA;
	o[9] = 0;
	n = tl_nd_ns(m, ll_peer, a6_solours, a6_ours, o, 16);
	v6("nd6_ns_zero_option", ll_peer, a6_solours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* NAs: solicited to us (answering our NS), unsolicited override to
	 * all nodes, router flag. */
	ol = tl_nd_opt_lla(o, TL_ND_OPT_TLLA, fz_mac_peer);
	n = tl_nd_na(m, a6_peer, a6_ours, TL_NA_SOLICITED | TL_NA_OVERRIDE, a6_peer, o, ol);
	v6("nd6_na_solicited", a6_peer, a6_ours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	n = tl_nd_na(m, ll_peer, a6_allnodes, TL_NA_OVERRIDE, a6_peer, o, ol);
	v6("nd6_na_unsolicited", ll_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	n = tl_nd_na(m, ll_peer, ll_ours, TL_NA_ROUTER | TL_NA_SOLICITED, ll_peer, o, ol);
	v6("nd6_na_router", ll_peer, ll_ours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* An NA for our own address (a duplicate, RFC 4862 5.4.4). */
	n = tl_nd_na(m, ll_peer, a6_allnodes, TL_NA_OVERRIDE, a6_ours, o, ol);
	v6("nd6_na_dad_conflict", ll_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* RS to all routers (a host ignores it). */
	ol = tl_nd_opt_lla(o, TL_ND_OPT_SLLA, fz_mac_peer);
	n = tl_nd_rs(m, ll_peer, a6_allrouters, o, ol);
	v6("nd6_rs", ll_peer, a6_allrouters, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* RA: SLLAO, MTU, our prefix (on-link, autonomous). */
	tl_in6(pfx, "2001:2::");
	ol = tl_nd_opt_lla(o, TL_ND_OPT_SLLA, fz_mac_peer);
	ol += tl_nd_opt_mtu(o + ol, 1500);
	ol += tl_nd_opt_prefix(o + ol, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 2592000, 604800);
	n = tl_nd_ra(m, ll_peer, a6_allnodes, &ra, o, ol);
	v6("nd6_ra", ll_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* RA: MTU below 1280, a prefix of length 0 and one of 128. */
	ol = tl_nd_opt_mtu(o, 1000);
	ol += tl_nd_opt_prefix(o + ol, pfx, 0, TL_PI_ONLINK | TL_PI_AUTO, 100, 50);
	ol += tl_nd_opt_prefix(o + ol, pfx, 128, TL_PI_AUTO, 100, 200);
	n = tl_nd_ra(m, ll_peer, a6_allnodes, &ra, o, ol);
	v6("nd6_ra_odd", ll_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* RA with 40 prefixes of 2001:2:0:<i>::/64 (table bounds). */
	for (ol = 0, i = 0; i < 40; i++) {
		pfx[7] = (uint8_t)i;
		ol += tl_nd_opt_prefix(o + ol, pfx, 64, TL_PI_ONLINK | TL_PI_AUTO, 3600, 1800);
	}
	n = tl_nd_ra(m, ll_peer, a6_allnodes, &ra, o, ol);
	v6("nd6_ra_many_prefixes", ll_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* An RA from a global source (must be link-local: dropped). */
	ol = tl_nd_opt_lla(o, TL_ND_OPT_SLLA, fz_mac_peer);
	n = tl_nd_ra(m, a6_peer, a6_allnodes, &ra, o, ol);
	v6("nd6_ra_global_src", a6_peer, a6_allnodes, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
	/* Redirect: a6_far is better reached through ll_peer, with the
	 * redirected header of a packet we sent there. */
	n = tl_ip6(red, &h, 8);
	n += tl_udp6(red + n, a6_ours, a6_far, 1000, 9, 8, NULL, 0);
	ol = tl_nd_opt_lla(o, TL_ND_OPT_TLLA, fz_mac_peer);
	ol += tl_nd_opt_redirected(o + ol, red, n);
	n = tl_nd_redirect(m, ll_peer, a6_ours, ll_peer, a6_far, o, ol);
	v6("nd6_redirect", ll_peer, a6_ours, 255, TL_IPPROTO_ICMPV6, NULL, 0, m, n);
}

static void
seeds_mld_icmp6(void)
{
	uint8_t m[FZ_FRAME_MAX], q[1500], ra[2] = { 0, 0 }, o[8];
	struct tl_ip6 h = { 0, 0, TL_IPPROTO_TCP, 64, a6_ours, a6_peer };
	struct tl_tcp th = { FZ_LPORT, FZ_PPORT, 0, 0, F_ACK, 1024, 0, NULL, 0 };
	struct tl_ext6 hbh = { .type = TL_IPPROTO_HOPOPTS, .data = o };
	struct tl_mld2_rec rec = { TL_MLD2_TO_EXCLUDE, a6_solours, NULL, 0 };
	size_t n, ql;

	hbh.len = tl_opt6(o, TL_OPT_ROUTER_ALERT, ra, 2);
	/* MLDv1 general query (24 bytes) and MLDv2 query (28), to all nodes
	 * with the router alert; an MLDv2 report for our group. */
	memset(q, 0, 20);
	n = tl_icmp6(m, ll_peer, a6_allnodes, TL_MLD_LISTENER_QUERY, 0, 10000u << 16, q, 16);
	v6("mld_v1_query", ll_peer, a6_allnodes, 1, TL_IPPROTO_ICMPV6, &hbh, 1, m, n);
	n = tl_icmp6(m, ll_peer, a6_allnodes, TL_MLD_LISTENER_QUERY, 0, 10000u << 16, q, 20);
	v6("mld_v2_query", ll_peer, a6_allnodes, 1, TL_IPPROTO_ICMPV6, &hbh, 1, m, n);
	n = tl_icmp6(m, ll_peer, a6_solours, TL_MLD_LISTENER_QUERY, 0, 1000u << 16, a6_solours, 16);
	v6("mld_v1_query_specific", ll_peer, a6_solours, 1, TL_IPPROTO_ICMPV6, &hbh, 1, m, n);
	n = tl_mld2_report(m, ll_peer, a6_mldv2, &rec, 1);
	v6("mld_v2_report", ll_peer, a6_mldv2, 1, TL_IPPROTO_ICMPV6, &hbh, 1, m, n);
	/* Errors quoting a TCP segment we sent (ours -> peer, the rig's
	 * ports): packet too big (1280, and 1000 < the minimum), port
	 * unreachable, hop limit exceeded, parameter problem. */
	ql = tl_ip6(q, &h, 20);
	th.seq = C.r.snd_una;
	ql += tl_tcp6(q + ql, a6_ours, a6_peer, &th, NULL, 0);
	icmp6("icmp6_ptb_1280", a6_peer, a6_ours, 64, TL_ICMP6_PACKET_TOO_BIG, 0, 1280, q, ql);
	icmp6("icmp6_ptb_1000", a6_peer, a6_ours, 64, TL_ICMP6_PACKET_TOO_BIG, 0, 1000, q, ql);
	icmp6("icmp6_unreach_port", a6_peer, a6_ours, 64, TL_ICMP6_DST_UNREACH, 4, 0, q, ql);
	icmp6("icmp6_unreach_admin", a6_peer, a6_ours, 64, TL_ICMP6_DST_UNREACH, 1, 0, q, ql);
	icmp6("icmp6_timxceed", a6_peer, a6_ours, 64, TL_ICMP6_TIME_EXCEEDED, 0, 0, q, ql);
	icmp6("icmp6_paramprob_nxt", a6_peer, a6_ours, 64, TL_ICMP6_PARAM_PROB, 1, 6, q, ql);
	/* A quote cut inside the IPv6 header, and a 1232-byte one. */
	icmp6("icmp6_ptb_short_quote", a6_peer, a6_ours, 64, TL_ICMP6_PACKET_TOO_BIG, 0, 1280, q,
	    24);
	memset(q + ql, 0x5a, 1232 - ql);
	tl_put16(q + 4, 1192);
	icmp6("icmp6_unreach_long_quote", a6_peer, a6_ours, 64, TL_ICMP6_DST_UNREACH, 4, 0, q,
	    1232);
	/* An error about an error, which must not be answered (RFC 4443
	 * 2.4 (e)): the quote is an ICMPv6 error we sent. */
	n = tl_ip6(q, &h, 8 + 48);
	q[6] = TL_IPPROTO_ICMPV6;
	n += tl_icmp6(q + n, a6_ours, a6_peer, TL_ICMP6_DST_UNREACH, 4, 0, q, 48);
	icmp6("icmp6_unreach_about_error", a6_peer, a6_ours, 64, TL_ICMP6_DST_UNREACH, 4, 0, q, n);
	/* A bad checksum (the sum's complement flipped). */
	icmp6("icmp6_echo_bad_sum", a6_peer, a6_ours, 64, TL_ICMP6_ECHO_REQUEST, 0, 7, "bad", 3);
	C.s[C.n - 1].f[TL_ETHER_HDR + TL_IP6_HDR + 2] ^= 0x40;
	/* Not version 6 behind ethertype 0x86dd; payload length past the
	 * frame. */
	icmp6("ip6_bad_version", a6_peer, a6_ours, 64, TL_ICMP6_ECHO_REQUEST, 0, 8, "v4", 2);
	C.s[C.n - 1].f[TL_ETHER_HDR] = 0x45;
	icmp6("ip6_plen_too_long", a6_peer, a6_ours, 64, TL_ICMP6_ECHO_REQUEST, 0, 9, "pl", 2);
	tl_put16(C.s[C.n - 1].f + TL_ETHER_HDR + 4, 1400);
}

static void
seeds_ip6(void)
{
	a6_init();
	seeds_ip6_plain();
	seeds_ip6_ext();
	seeds_frag6();
	seeds_nd6();
	seeds_mld_icmp6();
}

static void
put_seq_frame(uint8_t *buf, size_t *pos, const struct seed *s, int csum_ok, uint8_t step)
{
	tl_put16(buf + *pos, (uint16_t)(s->len | (csum_ok ? 0x8000u : 0)));
	memcpy(buf + *pos + 2, s->f, s->len);
	*pos += 2 + s->len;
	buf[(*pos)++] = step;
}

static const struct seed *
find(const char *name)
{
	int i;

	for (i = 0; i < C.n; i++)
		if (strcmp(C.s[i].name, name) == 0)
			return (&C.s[i]);
	fprintf(stderr, "make_corpus: no seed %s\n", name);
	return (&C.s[0]);
}

/* Multi-frame scenarios: each names frames and the step after each. */
static int
write_sequences(void)
{
	static const struct {
		const char *name;
		const char *frames[6];
		uint8_t steps[6];
	} sc[] = {
		{ "seq_frag_pair", { "frag_first", "frag_last" }, { 5, 5 } },
		{ "seq_frag_timeout", { "frag_first", "frag_middle_overlap" }, { 1, 160 } },
		{ "seq_dupacks_sack", { "est_sack1", "est_sack2", "est_sack3", "est_dupack" },
		    { 1, 1, 1, 50 } },
		{ "seq_zero_window_persist", { "est_zero_window", "est_ack_part" }, { 200, 5 } },
		{ "seq_data_fin", { "est_data_ooo", "est_data", "est_fin" }, { 1, 1, 200 } },
		{ "seq_rto", { "est_ack_part" }, { 140 } },
		{ "seq_syn_flood",
		    { "syn_all_options", "syn_no_options", "syn_mss", "syn_wscale14",
		        "syn_sackok" },
		    { 0, 0, 0, 0, 135 } },
		{ "seq_arp_ping", { "arp_request", "icmp_echo", "arp_reply" }, { 1, 1, 1 } },
		{ "seq_icmp_pmtu", { "icmp_fragneeded_tcp", "est_ack_part" }, { 10, 10 } },
		{ "seq_ack_all_close", { "est_ack_all", "est_fin" }, { 1, 200 } },
		{ "seq_client_open", { "client_synack_all_options", "client_synack_no_options" },
		    { 1, 1 } },
		{ "seq_client_syn_timeout", { "client_simultaneous_syn" }, { 200 } },
		{ "seq_frag6_reass", { "frag6_last", "frag6_first", "frag6_middle" }, { 1, 1, 5 } },
		{ "seq_frag6_overlap", { "frag6_first", "frag6_overlap", "frag6_last" },
		    { 1, 1, 5 } },
		{ "seq_frag6_timeout", { "frag6_first", "frag6_middle" }, { 1, 200 } },
		{ "seq_frag6_tiny", { "frag6_tiny_first", "frag6_tiny_rest" }, { 1, 5 } },
		{ "seq_nd6_resolve", { "nd6_ns_solicited_node", "ip6_echo", "nd6_na_solicited" },
		    { 1, 1, 5 } },
		{ "seq_nd6_dad", { "nd6_ns_dad", "nd6_na_dad_conflict" }, { 1, 140 } },
		{ "seq_nd6_ra_echo", { "nd6_ra", "ip6_echo", "nd6_redirect", "ip6_echo" },
		    { 1, 1, 1, 140 } },
		{ "seq_icmp6_pmtu", { "icmp6_ptb_1280", "est_ack_part" }, { 10, 10 } },
		{ "seq_mld", { "mld_v2_query", "mld_v1_query_specific" }, { 140, 140 } },
	};
	uint8_t buf[6 * (FZ_FRAME_MAX + 3)];
	size_t i, k, pos;

	for (i = 0; i < (size_t)C.n; i++) {
		pos = 0;
		put_seq_frame(buf, &pos, &C.s[i], (int)(i & 1), 10);
		if (write_file(C.dirn, C.s[i].name, buf, pos) != 0)
			return (-1);
	}
	for (i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		pos = 0;
		for (k = 0; k < 6 && sc[i].frames[k] != NULL; k++)
			put_seq_frame(buf, &pos, find(sc[i].frames[k]), 0, sc[i].steps[k]);
		if (write_file(C.dirn, sc[i].name, buf, pos) != 0)
			return (-1);
	}
	return (0);
}

/* The TCP state of our connecting socket, or -1. */
static int
client_state(void)
{
	struct ust_tcp_conn tc[8];
	size_t i, n = ust_tcp_pcblist(C.r.st, tc, 8);

	for (i = 0; i < n && i < 8; i++)
		if (tc[i].lport == tl_hton16(C.r.c_port) && tc[i].has_socket)
			return (tc[i].state);
	fprintf(stderr, "make_corpus: client_synack_all_options did not connect\n");
	return (-1);
}

/* The seeds must reach their sockets, or the corpus would only exercise
 * drop paths: the in-window data arrives on the established connection
 * the UDP datagram on the UDP socket, and the SYN-ACK connects ours. */
static int
check_seeds(void)
{
	const struct seed *d = find("est_data"), *u = find("udp_to_socket");
	const struct seed *c = find("client_synack_all_options");
	uint8_t buf[256];
	ptrdiff_t n;

	fz_rig_frame(&C.r, d->f, d->len, 0);
	n = ust_recv(C.r.so, buf, sizeof(buf), 0);
	if (n != 18 || memcmp(buf, "GET / HTTP/1.0", 14) != 0) {
		fprintf(stderr, "make_corpus: est_data did not arrive (%td)\n", n);
		return (-1);
	}
	fz_rig_frame(&C.r, u->f, u->len, 0);
	n = ust_recvfrom(C.r.uso, buf, sizeof(buf), 0, NULL, NULL);
	if (n != 5) {
		fprintf(stderr, "make_corpus: udp_to_socket did not arrive (%td)\n", n);
		return (-1);
	}
	fz_rig_frame(&C.r, c->f, c->len, 0);
	return (client_state() == UST_TCPS_ESTABLISHED ? 0 : -1);
}

/* The IPv6 seeds read back as built: each parses (tl_parse6) with a good
 * upper-layer checksum where it has one, except those broken on purpose. */
static int
check_seeds6(void)
{
	static const char *const broken[] = { "ip6_dst_truncated", "ip6_bad_version",
		"ip6_plen_too_long", "ip6_chain_too_long", "icmp6_echo_bad_sum",
		"frag6_chain_split" /* no upper-layer header in the first fragment */ };
	struct tl_pkt6 p;
	int i, bad = 0, rc;
	size_t k;

	for (i = 0; i < C.n; i++) {
		const struct seed *s = &C.s[i];
		int expect_ok = 1;

		if (s->len < 14 || tl_get16(s->f + 12) != TL_ETHERTYPE_IPV6)
			continue;
		for (k = 0; k < sizeof(broken) / sizeof(broken[0]); k++)
			if (strcmp(s->name, broken[k]) == 0)
				expect_ok = 0;
		rc = tl_parse6(s->f, s->len, &p);
		if (expect_ok &&
		    (rc != 0 ||
		        (p.l4 != NULL && !p.frag &&
		            (p.proto == TL_IPPROTO_TCP || p.proto == TL_IPPROTO_UDP ||
		                p.proto == TL_IPPROTO_ICMPV6) &&
		            !p.l4sum_ok))) {
			fprintf(stderr, "make_corpus: IPv6 seed %s does not read back\n", s->name);
			bad++;
		}
		if (!expect_ok && rc == 0 && p.l4sum_ok) {
			fprintf(stderr, "make_corpus: IPv6 seed %s is not broken\n", s->name);
			bad++;
		}
	}
	return (bad == 0 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: make_corpus FRAME_DIR FRAMES_DIR\n");
		return (2);
	}
	C.dir1 = argv[1];
	C.dirn = argv[2];
	if (fz_rig_init(&C.r) != 0)
		return (1);
	seeds_link_ip();
	seeds_tcp();
	seeds_client();
	seeds_ip6();
	if (check_seeds6() != 0)
		return (1);
	for (i = 0; i < C.n; i++)
		if (write_file(C.dir1, C.s[i].name, C.s[i].f, C.s[i].len) != 0)
			return (1);
	if (write_sequences() != 0 || check_seeds() != 0)
		return (1);
	if (fz_rig_fini(&C.r) != 0)
		return (1);
	printf("make_corpus: %d seeds, %d files\n", C.n, C.files);
	return (0);
}
