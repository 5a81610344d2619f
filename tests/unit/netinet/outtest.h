/*
 * outtest.h - fixtures of the output, timer and subr tests: one stack on
 * the virtual clock with a loop-driver interface (iptest.h), a peer that
 * exists only as the frames the test injects, and helpers that parse
 * what the stack sent, packet-script style.  Sequence numbers in the
 * helpers are relative to our ISS (ack) and the peer's (seq).
 */
#ifndef OUTTEST_H
#define OUTTEST_H

#include "iptest.h"
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"

#define OT_PPORT 40000
#define OT_PISS 0x70000000u

struct ot {
	struct ipt t;
	int seen;
	struct ust_socket *so;
	uint32_t iss;
	uint16_t lport;
};

struct ot_seg {
	uint16_t flags;
	uint32_t seq, ack; /* absolute */
	uint16_t win, urp;
	uint32_t len;
	unsigned optlen;
	uint8_t opt[40];
	struct tcpopt to;
	uint8_t data[1500];
	int ipdf;
	uint32_t src, dst;
	uint16_t sport, dport;
	int cksum_ok;
};

static inline void
ot_init_mtu(struct ot *o, uint64_t seed, uint32_t mtu)
{
	memset(o, 0, sizeof(*o));
	ipt_init_mtu(&o->t, seed, mtu);
}

static inline void
ot_init(struct ot *o, uint64_t seed)
{
	ot_init_mtu(o, seed, 1500);
}

static inline void
ot_fini(struct ot *o)
{
	if (o->so != NULL)
		(void)ust_close(o->so);
	ipt_advance(&o->t, 1000ull * 1000 * IPT_MS);
	ipt_fini(&o->t);
}

static inline void
ot_sysctl(struct ot *o, const char *name, int64_t v)
{
	if (ust_sysctl_set(o->t.st, name, v) != 0) {
		fprintf(stderr, "ot_sysctl %s refused\n", name);
		abort();
	}
}

static inline struct tcpcb *
ot_tp(const struct ot *o)
{
	struct socket *so;

	if (o->so == NULL)
		return (NULL);
	so = SO_FROM_UST(o->so);
	return (so->so_pcb != NULL ? sototcpcb(so) : NULL);
}

/* Injects a TCP segment from the peer (absolute numbers). */
static inline void
ot_inject(struct ot *o, uint16_t flags, uint32_t seq, uint32_t ack, uint16_t win,
    const uint8_t *opt, unsigned optlen, const void *data, unsigned dlen)
{
	uint8_t tcp[1600], f[1700];
	uint32_t src = IPT_PEER, dst = IPT_OURS, ps;
	unsigned hl = 20 + optlen, len = hl + dlen;
	uint16_t sum;
	size_t n;

	memset(tcp, 0, sizeof(tcp));
	tcp[0] = OT_PPORT >> 8;
	tcp[1] = OT_PPORT & 0xff;
	tcp[2] = (uint8_t)(o->lport >> 8);
	tcp[3] = (uint8_t)o->lport;
	tl_put32(tcp + 4, seq);
	tl_put32(tcp + 8, ack);
	tcp[12] = (uint8_t)((hl / 4) << 4);
	tcp[13] = (uint8_t)flags;
	tcp[14] = (uint8_t)(win >> 8);
	tcp[15] = (uint8_t)win;
	if (optlen > 0)
		memcpy(tcp + 20, opt, optlen);
	if (dlen > 0)
		memcpy(tcp + hl, data, dlen);
	ps = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + len;
	sum = tl_cksum(tcp, len, ps);
	tcp[16] = (uint8_t)(sum >> 8);
	tcp[17] = (uint8_t)sum;
	n = ipt_frame(f, ipt_mac_ours, src, dst, 6, 1, 0, 64, tcp, len);
	ipt_inject(&o->t, f, n);
}

/* The next TCP segment sent, parsed; 0 when there is none.  The
 * driver's buffer is recycled once everything was read. */
static inline int
ot_next(struct ot *o, struct ot_seg *s)
{
	if (o->seen == 0)
		ipt_poll(&o->t); /* flush the transmit batch */
	while (o->seen < o->t.d->tx_count) {
		const uint8_t *ip = ipt_tx_ip(&o->t, o->seen);
		const uint8_t *th = ip + 20;
		unsigned hl, tl;
		uint32_t ps;

		o->seen++;
		if (!ipt_tx_ipok(&o->t, o->seen - 1) || ip[9] != 6)
			continue;
		memset(s, 0, sizeof(*s));
		hl = (unsigned)(th[12] >> 4) * 4;
		tl = tl_get16(ip + 2) - 20u;
		s->src = tl_get32(ip + 12);
		s->dst = tl_get32(ip + 16);
		s->ipdf = (ip[6] & 0x40) != 0;
		s->sport = tl_get16(th);
		s->dport = tl_get16(th + 2);
		s->seq = tl_get32(th + 4);
		s->ack = tl_get32(th + 8);
		s->flags = th[13];
		s->win = tl_get16(th + 14);
		s->urp = tl_get16(th + 18);
		s->optlen = hl - 20;
		memcpy(s->opt, th + 20, s->optlen);
		(void)tcp_opts_parse(s->opt, s->optlen, (s->flags & TH_SYN) != 0, &s->to);
		s->len = tl - hl;
		if (s->len > 0 && s->len <= sizeof(s->data))
			memcpy(s->data, th + hl, s->len);
		ps = (s->src >> 16) + (s->src & 0xffff) + (s->dst >> 16) + (s->dst & 0xffff) + 6 +
		    tl;
		s->cksum_ok = tl_cksum(th, tl, ps) == 0;
		if (o->seen == o->t.d->tx_count) {
			o->seen = 0;
			o->t.d->tx_count = 0;
		}
		return (1);
	}
	o->seen = 0;
	o->t.d->tx_count = 0;
	return (0);
}

/* Counts (and drops) the segments sent so far. */
static inline int
ot_drain(struct ot *o)
{
	struct ot_seg s;
	int n = 0;

	while (ot_next(o, &s))
		n++;
	return (n);
}

static inline int
ot_getint(struct ust_socket *so, int level, int name)
{
	int v = -1;
	size_t len = sizeof(v);

	if (ust_getsockopt(so, level, name, &v, &len) != 0)
		return (-1);
	return (v);
}

static inline int
ot_setint(struct ust_socket *so, int level, int name, int v)
{
	return (ust_setsockopt(so, level, name, &v, sizeof(v)));
}

/* Opens a socket and connects to the peer; the SYN is returned in s. */
static inline int
ot_connect(struct ot *o, struct ot_seg *s)
{
	struct ust_sockaddr_in sin;

	if (ust_socket(o->t.st, UST_AF_INET, UST_SOCK_STREAM, 0, &o->so) != 0)
		return (0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_len = sizeof(sin);
	sin.sin_family = UST_AF_INET;
	sin.sin_port = htons(OT_PPORT);
	sin.sin_addr = htonl(IPT_PEER);
	(void)ust_connect(o->so, &sin);
	ipt_poll(&o->t);
	if (!ot_next(o, s) || s->flags != TH_SYN)
		return (0);
	o->iss = s->seq;
	o->lport = s->sport;
	return (1);
}

/* Completes the handshake with a SYN-ACK carrying opt, and eats our ACK.
 * Returns 1 when ESTABLISHED. */
static inline int
ot_establish(struct ot *o, uint16_t peerwin, const uint8_t *opt, unsigned optlen)
{
	struct ot_seg s;

	if (!ot_connect(o, &s))
		return (0);
	ot_inject(o, TH_SYN | TH_ACK, OT_PISS, o->iss + 1, peerwin, opt, optlen, NULL, 0);
	if (!ot_next(o, &s) || s.flags != TH_ACK)
		return (0);
	return (ot_tp(o) != NULL && ot_tp(o)->t_state == TCPS_ESTABLISHED);
}

static const uint8_t ot_mss1460[] = { 2, 4, 0x05, 0xb4 };

/* Peer segment on an established connection (relative numbers). */
static inline void
ot_peer(struct ot *o, uint16_t flags, uint32_t rseq, uint32_t rack, uint16_t win, const void *data,
    unsigned dlen)
{
	ot_inject(o, flags, OT_PISS + 1 + rseq, o->iss + 1 + rack, win, NULL, 0, data, dlen);
}

static inline void
ot_advance_ms(struct ot *o, uint64_t ms)
{
	ipt_advance(&o->t, ms * IPT_MS);
}

#endif /* OUTTEST_H */
