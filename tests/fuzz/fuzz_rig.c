/*
 * fuzz_rig.c - the fuzz harnesses' stack and frame builders (fuzz_rig.h).
 */
#include "fuzz_rig.h"

#include <stdio.h>
#include <string.h>

#define FZ_TH_FIN 0x01
#define FZ_TH_SYN 0x02
#define FZ_TH_ACK 0x10
#define FZ_T0 (1000ull * 1000000ull)

const uint8_t fz_mac_ours[6] = { 0x02, 0, 0, 0, 0, 0x10 };
const uint8_t fz_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x20 };

void
fz_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
fz_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
fz_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* RFC 1071, a byte at a time: a reference independent of in_cksum.c. */
uint16_t
fz_cksum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t sum = init;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

size_t
fz_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	fz_put16(f + 12, type);
	return (14);
}

size_t
fz_ip(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t off, uint8_t ttl,
    const uint8_t *opt, size_t optlen, size_t plen)
{
	size_t hlen = 20 + optlen;

	p[0] = (uint8_t)(0x40 | (hlen / 4));
	p[1] = 0;
	fz_put16(p + 2, (uint16_t)(hlen + plen));
	fz_put16(p + 4, id);
	fz_put16(p + 6, off);
	p[8] = ttl;
	p[9] = proto;
	p[10] = p[11] = 0;
	fz_put32(p + 12, src);
	fz_put32(p + 16, dst);
	if (optlen > 0)
		memcpy(p + 20, opt, optlen);
	fz_put16(p + 10, fz_cksum(p, hlen, 0));
	return (hlen);
}

/* RFC 9293 3.1 / RFC 768: the checksum over the pseudo-header and l4. */
static void
l4_cksum(uint8_t *l4, size_t len, uint8_t proto, size_t sumoff)
{
	uint8_t ph[12];
	uint16_t s;

	fz_put32(ph, FZ_PEER);
	fz_put32(ph + 4, FZ_OURS);
	ph[8] = 0;
	ph[9] = proto;
	fz_put16(ph + 10, (uint16_t)len);
	l4[sumoff] = l4[sumoff + 1] = 0;
	s = fz_cksum(l4, len, (uint16_t)~fz_cksum(ph, 12, 0));
	if (proto == 17 && s == 0)
		s = 0xffff;
	fz_put16(l4 + sumoff, s);
}

size_t
fz_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t win, const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
	size_t thl = 20 + optlen, hl;
	uint8_t *th;

	fz_eth(f, fz_mac_ours, fz_mac_peer, 0x0800);
	hl = fz_ip(f + 14, FZ_PEER, FZ_OURS, 6, 0x1234, 0x4000, 64, NULL, 0, thl + dlen);
	th = f + 14 + hl;
	fz_put16(th, sport);
	fz_put16(th + 2, dport);
	fz_put32(th + 4, seq);
	fz_put32(th + 8, ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = flags;
	fz_put16(th + 14, win);
	fz_put16(th + 18, 0);
	if (optlen > 0)
		memcpy(th + 20, opt, optlen);
	if (dlen > 0)
		memcpy(th + thl, data, dlen);
	l4_cksum(th, thl + dlen, 6, 16);
	return (14 + hl + thl + dlen);
}

size_t
fz_udp(uint8_t *f, uint16_t sport, uint16_t dport, const void *data, size_t dlen)
{
	size_t hl;
	uint8_t *uh;

	fz_eth(f, fz_mac_ours, fz_mac_peer, 0x0800);
	hl = fz_ip(f + 14, FZ_PEER, FZ_OURS, 17, 0x2345, 0, 64, NULL, 0, 8 + dlen);
	uh = f + 14 + hl;
	fz_put16(uh, sport);
	fz_put16(uh + 2, dport);
	fz_put16(uh + 4, (uint16_t)(8 + dlen));
	if (dlen > 0)
		memcpy(uh + 8, data, dlen);
	l4_cksum(uh, 8 + dlen, 17, 6);
	return (14 + hl + 8 + dlen);
}

size_t
fz_icmp(uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, const void *body, size_t blen)
{
	size_t hl;
	uint8_t *ic;

	fz_eth(f, fz_mac_ours, fz_mac_peer, 0x0800);
	hl = fz_ip(f + 14, FZ_PEER, FZ_OURS, 1, 0x3456, 0, 64, NULL, 0, 8 + blen);
	ic = f + 14 + hl;
	ic[0] = type;
	ic[1] = code;
	ic[2] = ic[3] = 0;
	fz_put32(ic + 4, rest);
	if (blen > 0)
		memcpy(ic + 8, body, blen);
	fz_put16(ic + 2, fz_cksum(ic, 8 + blen, 0));
	return (14 + hl + 8 + blen);
}

/* --- the driver ------------------------------------------------------- */

static int
fz_rx_burst(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct fz_drv *d = softc;
	struct ust_mbuf *m;

	if (d->rx == NULL || max < 1)
		return (0);
	m = ust_mbuf_from_buf(ifp, d->rx, d->rx_len);
	d->rx = NULL;
	if (m == NULL)
		return (0);
	ust_mbuf_set_csum_flags(m, d->rx_csum);
	pkts[0] = m;
	return (1);
}

static int
fz_tx_burst(void *softc, struct ust_mbuf **pkts, int n)
{
	struct fz_drv *d = softc;
	int i;

	for (i = 0; i < n; i++) {
		size_t len = ust_mbuf_pktlen(pkts[i]);

		if (d->keep_tx && d->tx_count < FZ_TX_MAX) {
			if (len > FZ_FRAME_MAX)
				len = FZ_FRAME_MAX;
			ust_mbuf_copydata(pkts[i], 0, len, d->tx[d->tx_count]);
			d->tx_len[d->tx_count++] = len;
		}
		ust_mbuf_free(pkts[i]);
	}
	return (n);
}

static void
fz_get_mac(void *softc, uint8_t mac[6])
{
	(void)softc;
	memcpy(mac, fz_mac_ours, 6);
}

static uint32_t
fz_get_mtu(void *softc)
{
	(void)softc;
	return (1500);
}

static uint32_t
fz_get_caps(void *softc)
{
	(void)softc;
	return (UST_IFCAP_RXCSUM);
}

static const struct ust_driver_ops fz_ops = {
	.name = "fuzz",
	.rx_burst = fz_rx_burst,
	.tx_burst = fz_tx_burst,
	.get_mac = fz_get_mac,
	.get_mtu = fz_get_mtu,
	.get_caps = fz_get_caps,
};

static void
fz_log_quiet(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

/* --- the rig ---------------------------------------------------------- */

static void
fz_poll(struct fz_rig *r)
{
	while (ust_stack_poll(r->st) > 0)
		continue;
}

void
fz_rig_frame(struct fz_rig *r, const uint8_t *f, size_t len, uint32_t csum)
{
	r->drv.rx = f;
	r->drv.rx_len = len;
	r->drv.rx_csum = csum;
	fz_poll(r);
	r->drv.rx = NULL;
}

void
fz_rig_advance(struct fz_rig *r, uint64_t dt_ns)
{
	uint64_t until = ust_vclock_now(r->vc) + dt_ns, next;

	fz_poll(r);
	while ((next = ust_stack_next_deadline(r->st)) <= until) {
		if (next <= ust_vclock_now(r->vc))
			next = ust_vclock_now(r->vc) + 1;
		ust_vclock_set(r->vc, next);
		fz_poll(r);
	}
	ust_vclock_set(r->vc, until);
	fz_poll(r);
}

void
fz_rig_drain(struct fz_rig *r)
{
	uint8_t buf[2048];
	struct ust_socket *c;

	if (r->so != NULL)
		while (ust_recv(r->so, buf, sizeof(buf), 0) > 0)
			continue;
	if (r->uso != NULL)
		while (ust_recvfrom(r->uso, buf, sizeof(buf), 0, NULL) > 0)
			continue;
	/* Connections the input completed on the listener: accept and close,
	 * as a server that rejects them would. */
	while (r->lso != NULL && ust_accept(r->lso, &c, NULL) == 0)
		ust_close(c);
}

static struct ust_sockaddr_in
fz_sin(uint32_t addr, uint16_t port)
{
	struct ust_sockaddr_in s;
	uint8_t p[2];

	memset(&s, 0, sizeof(s));
	s.sin_len = (uint8_t)sizeof(s);
	s.sin_family = UST_AF_INET;
	fz_put16(p, port);
	memcpy(&s.sin_port, p, 2);
	fz_put32((uint8_t *)&s.sin_addr, addr);
	return (s);
}

/* The TSval of a TCP segment we sent (RFC 7323 3.2), or 0. */
static uint32_t
tx_tsval(const uint8_t *th, size_t thl)
{
	size_t i = 20;

	while (i < thl) {
		if (th[i] == 0)
			break;
		if (th[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thl || th[i + 1] < 2)
			break;
		if (th[i] == 8 && th[i + 1] == 10 && i + 10 <= thl)
			return (fz_get32(th + i + 2));
		i += th[i + 1];
	}
	return (0);
}

/* Finds the last TCP segment we sent to the peer with the given flags;
 * returns its TCP header or NULL. */
static const uint8_t *
tx_find(const struct fz_drv *d, uint8_t flags, size_t *thl)
{
	int n;

	for (n = d->tx_count - 1; n >= 0; n--) {
		const uint8_t *f = d->tx[n], *ip = f + 14, *th;

		if (d->tx_len[n] < 54 || f[12] != 0x08 || f[13] != 0 || ip[9] != 6)
			continue;
		th = ip + (ip[0] & 0x0f) * 4;
		if ((th[13] & flags) != flags)
			continue;
		*thl = (size_t)(th[12] >> 4) * 4;
		return (th);
	}
	return (NULL);
}

static int
fz_sockets(struct fz_rig *r)
{
	struct ust_sockaddr_in any = fz_sin(UST_INADDR_ANY, FZ_LPORT);
	struct ust_sockaddr_in uany = fz_sin(UST_INADDR_ANY, FZ_UPORT);

	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->lso) != 0 ||
	    ust_bind(r->lso, &any) != 0 || ust_listen(r->lso, 16) != 0)
		return (-1);
	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_DGRAM, 0, &r->uso) != 0 ||
	    ust_bind(r->uso, &uany) != 0)
		return (-1);
	return (0);
}

/* The three-way handshake from the peer with every option (RFC 9293 3.5,
 * RFC 7323, RFC 2018), then 8 KB of ours in flight so that ACKs, SACK
 * blocks and retransmission timers have something to work on. */
static int
fz_handshake(struct fz_rig *r)
{
	static uint8_t payload[FZ_INFLIGHT];
	uint8_t f[FZ_FRAME_MAX], opt[20];
	const uint8_t *th;
	size_t len, thl;

	/* <mss 1460, sackOK, TS val ecr 0, nop, wscale 7> */
	memcpy(opt, (const uint8_t[]){ 2, 4, 0x05, 0xb4, 4, 2, 8, 10 }, 8);
	fz_put32(opt + 8, FZ_PEER_TS);
	fz_put32(opt + 12, 0);
	memcpy(opt + 16, (const uint8_t[]){ 1, 3, 3, 7 }, 4);
	len = fz_tcp(f, FZ_PPORT, FZ_LPORT, FZ_PEER_ISS, 0, FZ_TH_SYN, 65535, opt, 20, NULL, 0);
	fz_rig_frame(r, f, len, 0);
	th = tx_find(&r->drv, FZ_TH_SYN | FZ_TH_ACK, &thl);
	if (th == NULL)
		return (-1);
	r->iss = fz_get32(th + 4);
	r->ts_recent = tx_tsval(th, thl);
	/* <nop, nop, TS val ecr> */
	memcpy(opt, (const uint8_t[]){ 1, 1, 8, 10 }, 4);
	fz_put32(opt + 4, FZ_PEER_TS + 1);
	fz_put32(opt + 8, r->ts_recent);
	len = fz_tcp(f, FZ_PPORT, FZ_LPORT, FZ_PEER_ISS + 1, r->iss + 1, FZ_TH_ACK, 2048, opt, 12,
	    NULL, 0);
	fz_rig_frame(r, f, len, 0);
	if (ust_accept(r->lso, &r->so, NULL) != 0)
		return (-1);
	memset(payload, 'x', sizeof(payload));
	if (ust_send(r->so, payload, sizeof(payload), 0) != (ptrdiff_t)sizeof(payload))
		return (-1);
	fz_poll(r);
	th = tx_find(&r->drv, FZ_TH_ACK, &thl);
	if (th != NULL && tx_tsval(th, thl) != 0)
		r->ts_recent = tx_tsval(th, thl);
	r->rcv_nxt = FZ_PEER_ISS + 1;
	r->snd_una = r->iss + 1;
	return (0);
}

/* An active open left in SYN_SENT (RFC 9293 3.10.7.3 is then the code
 * the peer's answer reaches). */
static int
fz_connect(struct fz_rig *r)
{
	struct ust_sockaddr_in to = fz_sin(FZ_PEER, FZ_CPORT);
	const uint8_t *th;
	size_t thl;
	int error;

	r->drv.tx_count = 0;
	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->cso) != 0)
		return (-1);
	error = ust_connect(r->cso, &to);
	if (error != 0 && error != -UST_EINPROGRESS)
		return (-1);
	fz_poll(r);
	th = tx_find(&r->drv, FZ_TH_SYN, &thl);
	if (th == NULL)
		return (-1);
	r->c_port = (uint16_t)(th[0] << 8 | th[1]);
	r->c_iss = fz_get32(th + 4);
	return (0);
}

int
fz_rig_init(struct fz_rig *r)
{
	struct ust_stack_config cfg;
	uint32_t ours, peer;

	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(FZ_T0);
	ust_stack_config_init(&cfg);
	cfg.clock = ust_vclock_clock(r->vc);
	cfg.seed_set = 1;
	cfg.seed = 1;
	/* Small zones: cheap to create per input, and exhaustion is reachable. */
	cfg.mem_limit = 8u << 20;
	cfg.nmbufs = 1024;
	cfg.nmbclusters = 512;
	cfg.nmbjumbo9 = 8;
	cfg.log.fn = fz_log_quiet;
	r->drv.keep_tx = 1;
	fz_put32((uint8_t *)&ours, FZ_OURS);
	fz_put32((uint8_t *)&peer, FZ_PEER);
	if (ust_stack_create(&cfg, &r->st) != 0 ||
	    ust_if_attach(r->st, "fz0", &fz_ops, &r->drv, &r->ifp) != 0 ||
	    ust_if_addr_add(r->ifp, ours, 24) != 0 ||
	    ust_arp_add_static(r->ifp, peer, fz_mac_peer) != 0) {
		fprintf(stderr, "fz_rig_init: stack or interface setup failed\n");
		return (-1);
	}
	fz_poll(r);
	if (fz_sockets(r) != 0 || fz_handshake(r) != 0 || fz_connect(r) != 0) {
		fprintf(stderr, "fz_rig_init: socket setup or handshake failed\n");
		return (-1);
	}
	r->drv.keep_tx = 0;
	return (0);
}

/* After every socket is closed and every timer has run out, no mbuf,
 * cluster or jumbo cluster may still be in use: an input that strands
 * one (in a reassembly queue, a socket buffer, an ARP hold queue) is a
 * remote memory leak. */
static int
fz_rig_leaked(struct fz_rig *r)
{
	struct ust_zone_stats zs;
	unsigned i;
	int leaked = 0;

	fz_rig_drain(r);
	ust_sysctl_set(r->st, "net.inet.tcp.msl", 1);
	/* 12 backed-off retransmissions at up to 64 s each end in under 15 min. */
	fz_rig_advance(r, 1200ull * 1000 * 1000000ull);
	for (i = 0; ust_stack_get_zone_stats(r->st, i, &zs) == 0; i++)
		if (zs.in_use != 0) {
			fprintf(stderr, "fz_rig_fini: zone %s has %u items in use\n", zs.name,
			    zs.in_use);
			leaked = 1;
		}
	return (leaked);
}

int
fz_rig_fini(struct fz_rig *r)
{
	int leaked = 0;

	if (r->so != NULL)
		ust_close(r->so);
	if (r->lso != NULL)
		ust_close(r->lso);
	if (r->uso != NULL)
		ust_close(r->uso);
	if (r->cso != NULL)
		ust_close(r->cso);
	r->so = r->lso = r->uso = r->cso = NULL;
	if (r->st != NULL) {
		leaked = fz_rig_leaked(r);
		ust_stack_destroy(r->st);
	}
	if (r->vc != NULL)
		ust_vclock_destroy(r->vc);
	memset(r, 0, sizeof(*r));
	return (leaked ? -1 : 0);
}
