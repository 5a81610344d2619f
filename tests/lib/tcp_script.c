/*
 * tcp_script.c - the TCP packet-script rig (tcp_script.h).
 */
#include "tcp_script.h"

#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

const uint8_t tt_synopt[8] = { 2, 4, 0x05, 0xb4, 4, 2, 0, 0 };
const uint8_t tt_mss1460[4] = { 2, 4, 0x05, 0xb4 };

void
tt_init_mtu(struct tt *tt, uint64_t seed, uint32_t mtu)
{
	memset(tt, 0, sizeof(*tt));
	ipt_init_mtu(&tt->t, seed, mtu);
	tt->lport = TT_LOCAL_PORT;
	tt->pport = TT_PEER_PORT;
	tt->piss = TT_PEER_ISS;
}

void
tt_init(struct tt *tt, uint64_t seed)
{
	tt_init_mtu(tt, seed, 1500);
}

void
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

void
tt_sysctl(struct tt *tt, const char *name, int64_t v)
{
	if (ust_sysctl_set(tt->t.st, name, v) != 0) {
		fprintf(stderr, "tt_sysctl: %s = %lld refused\n", name, (long long)v);
		abort();
	}
}

void
tt_advance_ms(struct tt *tt, uint64_t ms)
{
	ipt_advance(&tt->t, ms * IPT_MS);
}

void
tt_inject(struct tt *tt, const struct tt_hdr *h)
{
	uint8_t f[LOOPDRV_FRAME];
	struct tl_tcp th = {
		.sport = h->sport ? h->sport : tt->pport,
		.dport = h->dport ? h->dport : tt->lport,
		.seq = h->seq,
		.ack = h->ack,
		.flags = (uint8_t)h->flags,
		.win = h->win,
		.urp = h->urp,
		.opt = h->opt,
		.optlen = h->optlen,
	};
	size_t n;

	memset(f, 0, sizeof(f));
	n = tl_frame_tcp(f, ipt_mac_ours, ipt_mac_peer, h->src ? h->src : IPT_PEER,
	    h->dst ? h->dst : IPT_OURS, tt->in_tos, 0x1234, &th, h->data, h->dlen);
	ipt_inject(&tt->t, f, n);
}

void
tt_in_abs(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
	struct tt_hdr h;

	memset(&h, 0, sizeof(h));
	h.flags = flags;
	h.seq = seq;
	h.ack = ack;
	h.win = win;
	if (optlen > sizeof(h.opt))
		abort();
	if (optlen > 0)
		memcpy(h.opt, opt, optlen);
	h.optlen = (unsigned)optlen;
	h.data = data;
	h.dlen = (unsigned)dlen;
	tt_inject(tt, &h);
}

void
tt_in_raw(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
	tt_in_abs(tt, flags, tt->piss + seq, (flags & TH_ACK) ? tt->iss + ack : 0, win, opt, optlen,
	    data, dlen);
}

void
tt_in(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	if (flags & TH_SYN)
		tt_in_raw(tt, flags, seq, ack, win, tt_synopt, sizeof(tt_synopt), NULL, 0);
	else
		tt_in_raw(tt, flags, seq, ack, win, NULL, 0, NULL, 0);
}

void
tt_in_data(struct tt *tt, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const void *data, size_t len)
{
	tt_in_raw(tt, flags, seq, ack, win, NULL, 0, data, len);
}

void
tt_peer(struct tt *tt, uint16_t flags, uint32_t rseq, uint32_t rack, uint16_t win, const void *data,
    unsigned dlen)
{
	tt_in_abs(tt, flags, tt->piss + 1 + rseq, tt->iss + 1 + rack, win, NULL, 0, data, dlen);
}

void
tt_in_icmp(struct tt *tt, uint8_t type, uint8_t code, uint32_t rest, uint32_t seq, uint16_t iplen)
{
	uint8_t quote[28], icmp[64], f[128];
	size_t n, ilen;

	tl_ip4(quote, IPT_OURS, IPT_PEER, TL_IPPROTO_TCP, 7, 0x4000, 64, NULL, 0,
	    (size_t)iplen - 20);
	tl_put16(quote + 20, tt->lport);
	tl_put16(quote + 22, tt->pport);
	tl_put32(quote + 24, seq);
	ilen = tl_icmp(icmp, type, code, rest, quote, sizeof(quote));
	n = ipt_frame(f, ipt_mac_ours, IPT_PEER, IPT_OURS, TL_IPPROTO_ICMP, 9, 0, 64, icmp, ilen);
	ipt_inject(&tt->t, f, n);
}

/* Frame n of the transmit log as a TCP segment: 1, or 0 when it is not
 * one (ARP, ICMP, ...). */
static int
tt_parse(struct tt *tt, int n, struct tt_seg *sg)
{
	struct tl_pkt p;

	if (tl_parse(tt->t.d->tx[n], tt->t.d->tx_len[n], &p) != 0 || p.ip == NULL ||
	    p.proto != TL_IPPROTO_TCP)
		return (0);
	CHECK(p.ipsum_ok);
	CHECK_EQ(p.iphl, 20);
	CHECK_MEM(p.dmac, ipt_mac_peer, 6);
	CHECK_EQ(p.src, IPT_OURS);
	CHECK_EQ(p.dst, IPT_PEER);
	CHECK(p.l4sum_ok);
	if ((p.flags & (TH_SYN | TH_ACK)) == TH_SYN)
		tt->lport = p.sport; /* an active open: our port is the stack's pick */
	CHECK_EQ(p.sport, tt->lport);
	CHECK_EQ(p.dport, tt->pport);
	memset(sg, 0, sizeof(*sg));
	sg->flags = p.flags & TH_FLAGS;
	sg->tos = p.tos;
	sg->ipdf = (p.off & 0x4000) != 0;
	sg->src = p.src;
	sg->dst = p.dst;
	sg->sport = p.sport;
	sg->dport = p.dport;
	sg->cksum_ok = p.l4sum_ok;
	if (p.flags & TH_SYN)
		tt->iss = p.seq;
	sg->raw_seq = p.seq;
	sg->raw_ack = p.ack;
	sg->seq = p.seq - tt->iss;
	sg->ack = (p.flags & TH_ACK) ? p.ack - tt->piss : 0;
	sg->win = p.win;
	sg->urp = p.urp;
	sg->optlen = (int)p.optlen;
	if (p.optlen > 0) {
		memcpy(sg->opt, p.opt, p.optlen);
		tcp_opts_parse(sg->opt, p.optlen, (p.flags & TH_SYN) != 0, &sg->to);
	}
	sg->len = (uint32_t)p.dlen;
	if (p.dlen > 0)
		memcpy(sg->data, p.data, p.dlen);
	return (1);
}

static void
tt_recycle(struct tt *tt)
{
	tt->rd = 0;
	tt->t.d->tx_count = 0;
}

int
tt_next(struct tt *tt, struct tt_seg *sg)
{
	if (tt->rd >= tt->t.d->tx_count) {
		tt_recycle(tt);
		ipt_poll(&tt->t); /* flush the transmit batch */
	}
	while (tt->rd < tt->t.d->tx_count) {
		int n = tt->rd++, ok = tt_parse(tt, n, sg);

		if (tt->rd == tt->t.d->tx_count)
			tt_recycle(tt);
		if (ok)
			return (1);
	}
	return (0);
}

int
tt_pending(struct tt *tt)
{
	struct tl_pkt p;
	int n, k = 0;

	for (n = tt->rd; n < tt->t.d->tx_count; n++)
		if (tl_parse(tt->t.d->tx[n], tt->t.d->tx_len[n], &p) == 0 && p.ip != NULL &&
		    p.proto == TL_IPPROTO_TCP)
			k++;
	return (k);
}

int
tt_drain(struct tt *tt)
{
	struct tt_seg sg;
	int n = 0;

	while (tt_next(tt, &sg))
		n++;
	return (n);
}

int
tt_none(struct tt *tt)
{
	struct tt_seg sg;

	return (!tt_next(tt, &sg));
}

const char *
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

int
tt_out_at(const char *file, int line, struct tt *tt, uint16_t flags, uint32_t seq, uint32_t len,
    uint32_t ack, uint32_t win, int exact, struct tt_seg *out)
{
	static struct tt_seg sg; /* 2 KB of payload: off the stack */
	char fw[8], fg[8];
	uint16_t mask = (exact || (flags & TH_PUSH)) ? TH_FLAGS : (uint16_t)(TH_FLAGS & ~TH_PUSH);

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

int
tt_state(struct ust_socket *so)
{
	struct ust_tcp_info ti;
	size_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (so == NULL || ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, &ti, &len) != 0)
		return (-1);
	return (ti.tcpi_state);
}

int
tt_info(struct ust_socket *so, struct ust_tcp_info *ti)
{
	size_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return (ust_getsockopt(so, UST_IPPROTO_TCP, UST_TCP_INFO, ti, &len));
}

int
tt_soerror(struct ust_socket *so)
{
	return (tl_getint(so, UST_SOL_SOCKET, UST_SO_ERROR, -1));
}

struct tcpcb *
tt_sotp(struct ust_socket *u)
{
	struct socket *so;

	if (u == NULL)
		return (NULL);
	so = SO_FROM_UST(u);
	return (so->so_pcb != NULL ? sototcpcb(so) : NULL);
}

struct tcpcb *
tt_tp(const struct tt *tt)
{
	return (tt_sotp(tt->so));
}

int
tt_connect(struct tt *tt, struct tt_seg *syn)
{
	struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), tt->pport);
	struct ust_sockaddr_in me;
	int err;

	if (tt->so == NULL && ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->so) != 0)
		return (0);
	err = ust_connect(tt->so, (const struct ust_sockaddr *)&to, sizeof(to));
	CHECK_EQ(err, -UST_EINPROGRESS);
	ipt_poll(&tt->t);
	if (ust_getsockname(tt->so, (struct ust_sockaddr *)&me, &(ust_socklen_t){ sizeof(me) }) ==
	    0)
		tt->lport = ntohs(me.sin_port);
	return (tt_next(tt, syn) && syn->flags == TH_SYN);
}

int
tt_connect_syn(struct tt *tt)
{
	struct ust_sockaddr_in to = tl_sin(htonl(IPT_PEER), tt->pport);
	struct ust_sockaddr_in me;
	struct tt_seg sg;
	int err;

	if (ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->so) != 0)
		return (0);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_CLOSED);
	err = ust_connect(tt->so, (const struct ust_sockaddr *)&to, sizeof(to));
	CHECK_EQ(err, -UST_EINPROGRESS);
	ipt_poll(&tt->t);
	if (ust_getsockname(tt->so, (struct ust_sockaddr *)&me, &(ust_socklen_t){ sizeof(me) }) ==
	    0)
		tt->lport = ntohs(me.sin_port);
	if (!TT_OUT_SEG(tt, TH_SYN, 0, 0, TT_ANY, 65535, &sg))
		return (0);
	CHECK(sg.to.to_flags & TOF_MSS);
	CHECK_EQ(sg.to.to_mss, 1460);
	/* RFC 7323 options only where compiled in (UST_TCP_RFC1323). */
	CHECK(!(sg.to.to_flags & TOF_SCALE) == !UST_TCP_RFC1323);
	CHECK_EQ(sg.to.to_wscale, UST_TCP_RFC1323 ? 6 : 0);
	CHECK(!(sg.to.to_flags & TOF_TS) == !UST_TCP_RFC1323);
	CHECK_EQ(sg.to.to_tsecr, 0);
	CHECK(!(sg.to.to_flags & TOF_SACKPERM) == !UST_TCP_SACK);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_SYN_SENT);
	return (1);
}

int
tt_establish(struct tt *tt, uint16_t peerwin, const uint8_t *opt, unsigned optlen)
{
	static struct tt_seg s;

	if (!tt_connect(tt, &s)) {
		fprintf(stderr, "tt_establish: no SYN (%d frames)\n", tt->t.d->tx_count);
		return (0);
	}
	tt_in_raw(tt, TH_SYN | TH_ACK, 0, 1, peerwin, opt, optlen, NULL, 0);
	if (!tt_next(tt, &s) || s.flags != TH_ACK || s.seq != 1 || s.ack != 1) {
		fprintf(stderr, "tt_establish: no ACK (flags %x state %d)\n", s.flags,
		    tt_state(tt->so));
		return (0);
	}
	return (tt_tp(tt) != NULL && tt_tp(tt)->t_state == TCPS_ESTABLISHED);
}

int
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

int
tt_listen(struct tt *tt)
{
	struct ust_sockaddr_in me = tl_sin(htonl(IPT_OURS), TT_LOCAL_PORT);

	if (ust_socket(tt->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &tt->lso) != 0)
		return (0);
	CHECK_EQ(tl_setint(tt->lso, UST_SOL_SOCKET, UST_SO_REUSEADDR, 1), 0);
	if (ust_bind(tt->lso, (const struct ust_sockaddr *)&me, sizeof(me)) != 0) {
		CHECK(!"bind 198.18.0.2:8080");
		return (0);
	}
	CHECK_EQ(ust_listen(tt->lso, 2), 0);
	return (1);
}

int
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
	CHECK(!(sg.to.to_flags & TOF_SACKPERM) == !UST_TCP_SACK);
	CHECK_EQ(ust_accept(tt->lso, &so, (struct ust_sockaddr *)&peer,
	             &(ust_socklen_t){ sizeof(peer) }),
	    -UST_EAGAIN);
	tt_in(tt, TH_ACK, 1, 1, 32767);
	TT_NONE(tt);
	if (ust_accept(tt->lso, &so, (struct ust_sockaddr *)&peer,
	        &(ust_socklen_t){ sizeof(peer) }) != 0)
		return (0);
	tt->so = so;
	CHECK_EQ(peer.sin_addr, htonl(IPT_PEER));
	CHECK_EQ(ntohs(peer.sin_port), tt->pport);
	CHECK_EQ(tt_state(tt->so), UST_TCPS_ESTABLISHED);
	return (1);
}
