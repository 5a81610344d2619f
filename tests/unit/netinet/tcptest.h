/*
 * tcptest.h - packet-script fixtures for the TCP state-machine tests: one
 * stack on the virtual clock behind the loop driver (198.18.0.2/24, a
 * static ARP entry for the fake peer 198.18.0.1), a builder that writes
 * Ethernet + IPv4 + TCP (options, payload, reference checksums) byte by
 * byte, and a reader that parses what the stack sent.  Sequence numbers
 * in the helpers are relative, as in packetdrill: ours to our ISN, the
 * peer's to the peer's ISN; `tt_in` injects (packetdrill's `<`),
 * `TT_OUT` expects (`>`).
 */
#ifndef TCPTEST_H
#define TCPTEST_H

#include "iptest.h"
#include "netinet/tcp.h"

#define TT_PEER_PORT 40000
#define TT_LOCAL_PORT 8080
#define TT_PEER_ISS 0x10000000u
#define TT_ANY 0xffffffffu /* "do not check" for TT_OUT */

struct tt {
	struct ipt t;
	uint16_t lport, pport;
	uint32_t iss;           /* ours, from the SYN or SYN-ACK we sent */
	uint32_t piss;          /* the peer's */
	int rd;                 /* next transmitted frame to read */
	struct ust_socket *so;  /* the connection */
	struct ust_socket *lso; /* a listener, if any */
	uint8_t in_tos;         /* IP TOS of injected segments (packetdrill [ect0], [ce]) */
};

/* A segment the stack sent, parsed. */
struct tt_seg {
	uint16_t flags;
	uint32_t seq, ack; /* relative */
	uint32_t win;      /* raw header field */
	uint32_t len;      /* payload bytes */
	uint8_t tos;       /* the IP TOS octet (its ECN field: RFC 3168) */
	struct tcpopt to;
	int optlen;
	uint8_t opt[40];
	const uint8_t *payload;
};

static inline struct ust_sockaddr_in
tt_sin(uint32_t addr_host, uint16_t port)
{
	struct ust_sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	s.sin_port = htons(port);
	s.sin_addr = htonl(addr_host);
	return (s);
}

static inline void
tt_init(struct tt *tt, uint64_t seed)
{
	memset(tt, 0, sizeof(*tt));
	ipt_init(&tt->t, seed);
	tt->lport = TT_LOCAL_PORT;
	tt->pport = TT_PEER_PORT;
	tt->piss = TT_PEER_ISS;
}

static inline void
tt_fini(struct tt *tt)
{
	if (tt->so != NULL)
		ust_close(tt->so);
	if (tt->lso != NULL)
		ust_close(tt->lso);
	tt->so = tt->lso = NULL;
	/* Let TIME_WAIT and whatever else lingers run out before the
	 * leak check. */
	ust_sysctl_set(tt->t.st, "net.inet.tcp.msl", 1);
	/* 12 backed-off retransmissions at up to 64 s each end in under 15 min. */
	ipt_advance(&tt->t, 1200ull * 1000 * IPT_MS);
	ipt_fini(&tt->t);
}

static inline void
tt_sysctl(struct tt *tt, const char *name, int64_t v)
{
	if (ust_sysctl_set(tt->t.st, name, v) != 0) {
		fprintf(stderr, "tt_sysctl: %s = %lld refused\n", name, (long long)v);
		abort();
	}
}

/* Injects a segment from the peer: seq relative to the peer's ISS, ack
 * relative to ours; opt/optlen raw option bytes (multiple of 4). */
static inline void
tt_in_raw(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
	uint8_t f[LOOPDRV_FRAME], *tcp, ph[12];
	size_t thl = 20 + optlen, hl;
	uint32_t sum;
	uint16_t s;

	memset(f, 0, sizeof(f));
	ipt_eth(f, ipt_mac_ours);
	hl = ipt_iphdr(f + 14, IPT_PEER, IPT_OURS, 6, 0x1234, 0x4000, 64, NULL, 0, thl + dlen);
	if (tt->in_tos != 0) {
		f[15] = tt->in_tos;
		f[24] = f[25] = 0;
		s = ipt_cksum(f + 14, hl, 0);
		f[24] = (uint8_t)(s >> 8);
		f[25] = (uint8_t)s;
	}
	tcp = f + 14 + hl;
	tcp[0] = (uint8_t)(tt->pport >> 8);
	tcp[1] = (uint8_t)tt->pport;
	tcp[2] = (uint8_t)(tt->lport >> 8);
	tcp[3] = (uint8_t)tt->lport;
	ipt_put32(tcp + 4, tt->piss + seq);
	ipt_put32(tcp + 8, (flags & TH_ACK) ? tt->iss + ack : 0);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = (uint8_t)flags;
	tcp[14] = (uint8_t)(win >> 8);
	tcp[15] = (uint8_t)win;
	if (optlen > 0)
		memcpy(tcp + 20, opt, optlen);
	if (dlen > 0)
		memcpy(tcp + thl, data, dlen);
	/* RFC 9293 3.1: the pseudo-header. */
	ipt_put32(ph, IPT_PEER);
	ipt_put32(ph + 4, IPT_OURS);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((thl + dlen) >> 8);
	ph[11] = (uint8_t)(thl + dlen);
	sum = (uint16_t)~ipt_cksum(ph, 12, 0);
	s = ipt_cksum(tcp, thl + dlen, sum);
	tcp[16] = (uint8_t)(s >> 8);
	tcp[17] = (uint8_t)s;
	ipt_inject(&tt->t, f, 14 + hl + thl + dlen);
}

/* The usual peer: SYNs carry <mss 1460,sackOK,eol,eol> as in the
 * FreeBSD scripts; other segments no options. */
static const uint8_t tt_synopt[8] = { 2, 4, 0x05, 0xb4, 4, 2, 0, 0 };

static inline void
tt_in(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	if (flags & TH_SYN)
		tt_in_raw(tt, flags, seq, ack, win, tt_synopt, sizeof(tt_synopt), NULL, 0);
	else
		tt_in_raw(tt, flags, seq, ack, win, NULL, 0, NULL, 0);
}

static inline void
tt_in_data(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const void *data, size_t len)
{
	tt_in_raw(tt, flags, seq, ack, win, NULL, 0, data, len);
}

/* Reads the next TCP segment the stack sent (other frames skipped).
 * Returns 1 and fills *sg, or 0 when there is none.  Checks the IP and
 * TCP checksums and the addresses. */
static inline int
tt_next(struct tt *tt, struct tt_seg *sg)
{
	while (tt->rd < tt->t.d->tx_count) {
		int n = tt->rd++;
		const uint8_t *f = tt->t.d->tx[n], *ip = f + 14, *tcp;
		size_t flen = tt->t.d->tx_len[n], iplen, tl;
		struct tcphdr th;
		uint8_t ph[12];
		uint32_t sum;

		if (flen < 54 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 6)
			continue;
		CHECK(ipt_tx_ipok(&tt->t, n));
		CHECK_MEM(f, ipt_mac_peer, 6);
		CHECK_EQ(ipt_get32(ip + 12), IPT_OURS);
		CHECK_EQ(ipt_get32(ip + 16), IPT_PEER);
		iplen = ipt_get16(ip + 2);
		tl = iplen - 20;
		tcp = ip + 20;
		ipt_put32(ph, IPT_OURS);
		ipt_put32(ph + 4, IPT_PEER);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)(tl >> 8);
		ph[11] = (uint8_t)tl;
		sum = (uint16_t)~ipt_cksum(ph, 12, 0);
		CHECK_EQ(ipt_cksum(tcp, tl, sum), 0);
		if (tcp_hdr_parse(tcp, tl, &th) != 0) {
			CHECK(!"unparsable TCP header");
			continue;
		}
		memset(sg, 0, sizeof(*sg));
		CHECK_EQ(th.th_sport, tt->lport);
		CHECK_EQ(th.th_dport, tt->pport);
		sg->flags = th.th_flags & TH_FLAGS;
		sg->tos = ip[1];
		if (th.th_flags & TH_SYN)
			tt->iss = th.th_seq;
		sg->seq = th.th_seq - tt->iss;
		sg->ack = (th.th_flags & TH_ACK) ? th.th_ack - tt->piss : 0;
		sg->win = th.th_win;
		sg->optlen = (int)th.th_off * 4 - 20;
		if (sg->optlen > 0) {
			memcpy(sg->opt, tcp + 20, (size_t)sg->optlen);
			tcp_opts_parse(tcp + 20, (size_t)sg->optlen, (th.th_flags & TH_SYN) != 0,
			    &sg->to);
		}
		sg->len = (uint32_t)(tl - (size_t)th.th_off * 4);
		sg->payload = tcp + th.th_off * 4;
		return (1);
	}
	return (0);
}

/* Segments sent and not read yet. */
static inline int
tt_pending(struct tt *tt)
{
	struct tt_seg sg;
	int rd = tt->rd, n = 0;

	while (tt_next(tt, &sg))
		n++;
	tt->rd = rd;
	return (n);
}

static inline const char *
tt_flagstr(uint16_t f, char *buf)
{
	char *p = buf;

	if (f & TH_SYN)
		*p++ = 'S';
	if (f & TH_FIN)
		*p++ = 'F';
	if (f & TH_RST)
		*p++ = 'R';
	if (f & TH_PUSH)
		*p++ = 'P';
	if (f & TH_ACK)
		*p++ = '.';
	if (f & TH_ECE)
		*p++ = 'E';
	if (f & TH_CWR)
		*p++ = 'W';
	*p = '\0';
	return (buf);
}

/* `> flags seq:seq+len(len) ack A win W`: the next segment must match
 * (TT_ANY skips a field; TH_PUSH is compared only when `flags` has it).
 * Fills *out when non-NULL.  Returns 1 when it matched. */
static inline int
tt_out_at(const char *file, int line, struct tt *tt, uint16_t flags, uint32_t seq, uint32_t len,
    uint32_t ack, uint32_t win, struct tt_seg *out)
{
	struct tt_seg sg;
	char fw[8], fg[8];
	uint16_t mask = (flags & TH_PUSH) ? TH_FLAGS : (uint16_t)(TH_FLAGS & ~TH_PUSH);

	if (out != NULL)
		memset(out, 0, sizeof(*out)); /* read after a failed match too */
	if (!tt_next(tt, &sg)) {
		UST_FAIL_AT(file, line, "expected > %s %u:%u(%u) ack %u, the stack sent nothing",
		    tt_flagstr(flags, fw), seq, seq + len, len, ack);
		return (0);
	}
	if (out != NULL)
		*out = sg;
	if ((sg.flags & mask) != (flags & mask) || (seq != TT_ANY && sg.seq != seq) ||
	    (len != TT_ANY && sg.len != len) || (ack != TT_ANY && sg.ack != ack) ||
	    (win != TT_ANY && sg.win != win)) {
		UST_FAIL_AT(file, line,
		    "expected > %s %d:%d(%d) ack %d win %d, got > %s %u:%u(%u) ack %u win %u",
		    tt_flagstr(flags, fw), (int)seq, (int)(seq + len), (int)len, (int)ack, (int)win,
		    tt_flagstr(sg.flags, fg), sg.seq, sg.seq + sg.len, sg.len, sg.ack, sg.win);
		return (0);
	}
	return (1);
}
#define TT_OUT(tt, flags, seq, len, ack, win) \
	tt_out_at(__FILE__, __LINE__, (tt), (flags), (seq), (len), (ack), (win), NULL)
#define TT_OUT_SEG(tt, flags, seq, len, ack, win, sg) \
	tt_out_at(__FILE__, __LINE__, (tt), (flags), (seq), (len), (ack), (win), (sg))

/* Nothing (more) was sent. */
#define TT_NONE(tt)                                                                         \
	do {                                                                                \
		struct tt_seg _sg;                                                          \
		char _f[8];                                                                 \
		if (tt_next((tt), &_sg))                                                    \
			UST_FAIL_AT(__FILE__, __LINE__,                                     \
			    "expected no segment, got > %s %u:%u(%u) ack %u win %u",        \
			    tt_flagstr(_sg.flags, _f), _sg.seq, _sg.seq + _sg.len, _sg.len, \
			    _sg.ack, _sg.win);                                              \
	} while (0)

/* tcpi_state through TCP_INFO; -1 when the socket has no connection to
 * report (FreeBSD: the PCB is gone). */
static inline int
tt_state(struct ust_socket *so)
{
	struct ust_tcp_info ti;
	size_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (so == NULL || ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len) != 0)
		return (-1);
	return (ti.tcpi_state);
}

static inline int
tt_info(struct ust_socket *so, struct ust_tcp_info *ti)
{
	size_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return (ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, ti, &len));
}

/* CLOSED, or no connection left to report on. */
#define TT_GONE(so) CHECK(tt_state(so) == UST_TCPS_CLOSED || tt_state(so) == -1)

static inline int
tt_soerror(struct ust_socket *so)
{
	int v = -1;
	size_t len = sizeof(v);

	if (ust_getsockopt(so, UST_SOL_SOCKET, UST_SO_ERROR, &v, &len) != 0)
		return (-1);
	return (v);
}

static inline int
tt_setint(struct ust_socket *so, int level, int name, int v)
{
	return (ust_setsockopt(so, level, name, &v, sizeof(v)));
}

/* socket + connect to the peer: `> S 0:0(0) win 65535 <mss 1460,nop,
 * wscale 6,sackOK,TS val .. ecr 0>` (FreeBSD's default SYN). */
static inline int
tt_connect_syn(struct tt *tt)
{
	struct ust_sockaddr_in to = tt_sin(IPT_PEER, tt->pport);
	struct ust_sockaddr_in me;
	struct tt_seg sg;
	int err;

	if (ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->so) != 0)
		return (0);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_CLOSED);
	err = ust_connect(tt->so, &to);
	CHECK_EQ(err, -UST_EINPROGRESS);
	ipt_poll(&tt->t);
	if (ust_getsockname(tt->so, &me) == 0)
		tt->lport = ntohs(me.sin_port);
	if (!TT_OUT_SEG(tt, TH_SYN, 0, 0, TT_ANY, 65535, &sg))
		return (0);
	CHECK(sg.to.to_flags & TOF_MSS);
	CHECK_EQ(sg.to.to_mss, 1460);
	CHECK(sg.to.to_flags & TOF_SCALE);
	CHECK_EQ(sg.to.to_wscale, 6);
	CHECK(sg.to.to_flags & TOF_TS);
	CHECK_EQ(sg.to.to_tsecr, 0);
	CHECK(sg.to.to_flags & TOF_SACKPERM);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_SYN_SENT);
	return (1);
}

/* Active open to ESTABLISHED, the peer without window scale or
 * timestamps: `< S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>`,
 * `> . 1:1(0) ack 1 win 65535`. */
static inline int
tt_established_active(struct tt *tt)
{
	if (!tt_connect_syn(tt))
		return (0);
	tt_in(tt, TH_SYN | TH_ACK, 0, 1, 32767);
	if (!TT_OUT(tt, TH_ACK, 1, 0, 1, 65535))
		return (0);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_ESTABLISHED);
	CHECK_EQ(tt_soerror(tt->so), 0);
	return (1);
}

/* A listener on 198.18.0.2:8080 (backlog 2, SO_REUSEADDR). */
static inline int
tt_listen(struct tt *tt)
{
	struct ust_sockaddr_in me = tt_sin(IPT_OURS, TT_LOCAL_PORT);

	if (ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->lso) != 0)
		return (0);
	CHECK_EQ(tt_setint(tt->lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	if (ust_bind(tt->lso, &me) != 0) {
		CHECK(!"bind 198.18.0.2:8080");
		return (0);
	}
	CHECK_EQ(ust_listen(tt->lso, 2), 0);
	return (1);
}

/* Passive open to ESTABLISHED: `< S 0:0(0) win 32767 <mss 1460,sackOK,
 * eol,eol>`, `> S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>`, `< . 1:1(0) ack 1
 * win 32767`, accept(). */
static inline int
tt_established_passive(struct tt *tt)
{
	struct tt_seg sg;
	struct ust_sockaddr_in peer;
	struct ust_socket *so = NULL;

	if (tt->lso == NULL && !tt_listen(tt))
		return (0);
	CHECK_EQ(tt_state(tt->lso), UST_TCPS_LISTEN);
	tt_in(tt, TH_SYN, 0, 0, 32767);
	if (!TT_OUT_SEG(tt, TH_SYN | TH_ACK, 0, 0, 1, 65535, &sg))
		return (0);
	CHECK(sg.to.to_flags & TOF_MSS);
	CHECK_EQ(sg.to.to_mss, 1460);
	/* The peer offered neither: RFC 7323 2.2 and 3.2; it offered SACK
	 * (RFC 2018 2). */
	CHECK(!(sg.to.to_flags & (TOF_SCALE | TOF_TS)));
	CHECK(sg.to.to_flags & TOF_SACKPERM);
	CHECK_EQ(ust_accept(tt->lso, &so, &peer), -UST_EAGAIN);
	tt_in(tt, TH_ACK, 1, 1, 32767);
	TT_NONE(tt);
	if (ust_accept(tt->lso, &so, &peer) != 0)
		return (0);
	tt->so = so;
	CHECK_EQ(peer.sin_addr, htonl(IPT_PEER));
	CHECK_EQ(ntohs(peer.sin_port), tt->pport);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_ESTABLISHED);
	return (1);
}

#endif /* TCPTEST_H */
