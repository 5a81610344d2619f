/*
 * make_corpus.c - writes the fuzzers' seed corpus: valid frames of every
 * kind the stack handles, aimed at the rig's listener, established
 * connection and UDP socket (fuzz_rig.h).  It builds the rig itself to
 * learn the connection's sequence numbers and timestamps, so the seeds
 * stay in-window whatever the ISN generator does.
 *
 *   make_corpus FRAME_DIR FRAMES_DIR
 * FRAME_DIR gets one frame per file (fuzz_frame); FRAMES_DIR gets every
 * frame as a one-frame sequence plus multi-frame scenarios (fuzz_frames'
 * format: 2-byte length with bit 15 = checksum offloaded, frame, 1-byte
 * time step).
 */
#include "fuzz_rig.h"
#include "tl_net.h"

#include <stdio.h>
#include <string.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define NSEED 96

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
