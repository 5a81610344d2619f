/*
 * fuzz_rig.c - the fuzz harnesses' stack and frame builders (fuzz_rig.h).
 */
#include "fuzz_rig.h"

#include "tl_frame.h"
#include "tl_frame6.h"
#include "tl_net.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define FZ_TH_FIN 0x01
#define FZ_TH_SYN 0x02
#define FZ_TH_ACK 0x10
#define FZ_T0 (1000ull * 1000000ull)

const uint8_t fz_mac_ours[6] = { 0x02, 0, 0, 0, 0, 0x10 };
const uint8_t fz_mac_peer[6] = { 0x02, 0, 0, 0, 0, 0x20 };

size_t
fz_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t win, const uint8_t *opt, size_t optlen, const void *data, size_t dlen)
{
	struct tl_tcp h = { .sport = sport,
		.dport = dport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.win = win,
		.opt = opt,
		.optlen = optlen };

	return (
	    tl_frame_tcp(f, fz_mac_ours, fz_mac_peer, FZ_PEER, FZ_OURS, 0, 0x1234, &h, data, dlen));
}

size_t
fz_udp(uint8_t *f, uint16_t sport, uint16_t dport, const void *data, size_t dlen)
{
	uint8_t *uh = f + TL_ETHER_HDR + 20;

	tl_udp(uh, FZ_PEER, FZ_OURS, sport, dport, (uint16_t)(8 + dlen), data, dlen);
	return (tl_frame_ip4(f, fz_mac_ours, fz_mac_peer, FZ_PEER, FZ_OURS, TL_IPPROTO_UDP, 0x2345,
	    0, 64, uh, 8 + dlen));
}

size_t
fz_icmp(uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, const void *body, size_t blen)
{
	uint8_t *ic = f + TL_ETHER_HDR + 20;

	tl_icmp(ic, type, code, rest, body, blen);
	return (tl_frame_ip4(f, fz_mac_ours, fz_mac_peer, FZ_PEER, FZ_OURS, TL_IPPROTO_ICMP, 0x3456,
	    0, 64, ic, 8 + blen));
}

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
	tl_poll(&r->st, 1);
}

void
fz_rig_frame(struct fz_rig *r, const uint8_t *f, size_t len, uint32_t csum)
{
	if (loopdrv_inject_csum(&r->drv, f, len, csum) == 0)
		fz_poll(r);
}

void
fz_rig_advance(struct fz_rig *r, uint64_t dt_ns)
{
	tl_run(r->vc, &r->st, 1, dt_ns);
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
		while (ust_recvfrom(r->uso, buf, sizeof(buf), 0, NULL, NULL) > 0)
			continue;
	if (r->uso6 != NULL)
		while (ust_recvfrom(r->uso6, buf, sizeof(buf), 0, NULL, NULL) > 0)
			continue;
	/* Connections the input completed on the listeners: accept and close,
	 * as a server that rejects them would. */
	while (r->lso != NULL && ust_accept(r->lso, &c, NULL, NULL) == 0)
		ust_close(c);
	while (r->lso6 != NULL && ust_accept(r->lso6, &c, NULL, NULL) == 0)
		ust_close(c);
}

/* Finds the last TCP segment we sent to the peer with the given flags;
 * returns its TCP header or NULL. */
static int
tx_find(const struct loopdrv *d, uint8_t flags, struct tl_pkt *p)
{
	int n;

	for (n = d->tx_count - 1; n >= 0; n--)
		if (tl_parse(d->tx[n], d->tx_len[n], p) == 0 && p->proto == TL_IPPROTO_TCP &&
		    (p->flags & flags) == flags)
			return (1);
	return (0);
}

/* The TSval of a segment we sent (RFC 7323 3.2), or 0. */
static uint32_t
tx_tsval(const struct tl_pkt *p)
{
	uint32_t val, ecr;

	return (tl_opt_find_ts(p->opt, p->optlen, &val, &ecr) ? val : 0);
}

static int
fz_sockets(struct fz_rig *r)
{
	struct ust_sockaddr_in any = tl_sin(UST_INADDR_ANY, FZ_LPORT);
	struct ust_sockaddr_in uany = tl_sin(UST_INADDR_ANY, FZ_UPORT);

	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->lso) != 0 ||
	    ust_bind(r->lso, (const struct ust_sockaddr *)&any, sizeof(any)) != 0 ||
	    ust_listen(r->lso, 16) != 0)
		return (-1);
	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_DGRAM, 0, &r->uso) != 0 ||
	    ust_bind(r->uso, (const struct ust_sockaddr *)&uany, sizeof(uany)) != 0)
		return (-1);
	return (0);
}

static struct ust_sockaddr_in6
fz_sin6_any(uint16_t port)
{
	struct ust_sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_len = sizeof(sin6);
	sin6.sin6_family = UST_AF_INET6;
	sin6.sin6_port = tl_hton16(port);
	return (sin6);
}

/* IPv6: our address without DAD (the seeds would otherwise meet a
 * tentative address), a static neighbour entry for the peer (no NS to
 * answer) and the IPv6 listener and UDP socket.  0 also when the library
 * has no IPv6 (the IPv6 seeds then stop at ether_input). */
static int
fz_ipv6(struct fz_rig *r)
{
	struct ust_sockaddr_in6 any = fz_sin6_any(FZ_LPORT), uany = fz_sin6_any(FZ_UPORT);
	struct ust_in6_addr ours, peer;
	int error;

	tl_in6(ours.s6_addr8, FZ_OURS6);
	tl_in6(peer.s6_addr8, FZ_PEER6);
	error = ust_if_addr6_add(r->ifp, &ours, 64, UST_IN6_IFF_NODAD);
	if (error == -UST_EAFNOSUPPORT)
		return (0);
	if (error != 0 || ust_nd6_add_static(r->ifp, &peer, fz_mac_peer) != 0)
		return (-1);
	if (ust_socket(r->st, UST_AF_INET6, UST_SOCK_STREAM, 0, &r->lso6) != 0 ||
	    ust_bind(r->lso6, (const struct ust_sockaddr *)&any, sizeof(any)) != 0 ||
	    ust_listen(r->lso6, 16) != 0)
		return (-1);
	if (ust_socket(r->st, UST_AF_INET6, UST_SOCK_DGRAM, 0, &r->uso6) != 0 ||
	    ust_bind(r->uso6, (const struct ust_sockaddr *)&uany, sizeof(uany)) != 0)
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
	struct tl_pkt p;
	size_t len;

	/* <mss 1460, sackOK, TS val ecr 0, nop, wscale 7> */
	memcpy(opt, (const uint8_t[]){ 2, 4, 0x05, 0xb4, 4, 2, 8, 10 }, 8);
	tl_put32(opt + 8, FZ_PEER_TS);
	tl_put32(opt + 12, 0);
	memcpy(opt + 16, (const uint8_t[]){ 1, 3, 3, 7 }, 4);
	len = fz_tcp(f, FZ_PPORT, FZ_LPORT, FZ_PEER_ISS, 0, FZ_TH_SYN, 65535, opt, 20, NULL, 0);
	fz_rig_frame(r, f, len, 0);
	if (!tx_find(&r->drv, FZ_TH_SYN | FZ_TH_ACK, &p))
		return (-1);
	r->iss = p.seq;
	r->ts_recent = tx_tsval(&p);
	tl_opt_ts(opt, FZ_PEER_TS + 1, r->ts_recent);
	len = fz_tcp(f, FZ_PPORT, FZ_LPORT, FZ_PEER_ISS + 1, r->iss + 1, FZ_TH_ACK, 2048, opt, 12,
	    NULL, 0);
	fz_rig_frame(r, f, len, 0);
	if (ust_accept(r->lso, &r->so, NULL, NULL) != 0)
		return (-1);
	memset(payload, 'x', sizeof(payload));
	if (ust_send(r->so, payload, sizeof(payload), 0) != (ptrdiff_t)sizeof(payload))
		return (-1);
	fz_poll(r);
	if (tx_find(&r->drv, FZ_TH_ACK, &p) && tx_tsval(&p) != 0)
		r->ts_recent = tx_tsval(&p);
	r->rcv_nxt = FZ_PEER_ISS + 1;
	r->snd_una = r->iss + 1;
	return (0);
}

/* An active open left in SYN_SENT (RFC 9293 3.10.7.3 is then the code
 * the peer's answer reaches). */
static int
fz_connect(struct fz_rig *r)
{
	struct ust_sockaddr_in to = tl_sin(tl_hton32(FZ_PEER), FZ_CPORT);
	struct tl_pkt p;
	int error;

	r->drv.tx_count = 0;
	if (ust_socket(r->st, UST_AF_INET, UST_SOCK_STREAM, 0, &r->cso) != 0)
		return (-1);
	error = ust_connect(r->cso, (const struct ust_sockaddr *)&to, sizeof(to));
	if (error != 0 && error != -UST_EINPROGRESS)
		return (-1);
	fz_poll(r);
	if (!tx_find(&r->drv, FZ_TH_SYN, &p))
		return (-1);
	r->c_port = p.sport;
	r->c_iss = p.seq;
	return (0);
}

int
fz_rig_init(struct fz_rig *r)
{
	struct ust_stack_config cfg;
	uint32_t ours, peer;

	memset(r, 0, offsetof(struct fz_rig, drv));
	r->vc = ust_vclock_create(FZ_T0);
	tl_stack_config(&cfg, r->vc, 1);
	/* Small zones: cheap to create per input, and exhaustion is reachable. */
	cfg.mem_limit = 8u << 20;
	cfg.nmbufs = 1024;
	cfg.nmbclusters = 512;
	cfg.nmbjumbo9 = 8;
	cfg.log.fn = fz_log_quiet;
	loopdrv_init(&r->drv);
	r->drv.caps = UST_IFCAP_RXCSUM;
	memcpy(r->drv.mac, fz_mac_ours, 6);
	ours = tl_hton32(FZ_OURS);
	peer = tl_hton32(FZ_PEER);
	if (ust_stack_create(&cfg, &r->st) != 0 ||
	    ust_if_attach(r->st, "fz0", &loopdrv_ops, &r->drv, &r->ifp) != 0 ||
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
	r->drv.tx_discard = 1;
	if (fz_ipv6(r) != 0) {
		fprintf(stderr, "fz_rig_init: IPv6 setup failed\n");
		return (-1);
	}
	fz_poll(r);
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
	if (r->lso6 != NULL)
		ust_close(r->lso6);
	if (r->uso6 != NULL)
		ust_close(r->uso6);
	r->so = r->lso = r->uso = r->cso = r->lso6 = r->uso6 = NULL;
	if (r->st != NULL) {
		leaked = fz_rig_leaked(r);
		ust_stack_destroy(r->st);
	}
	if (r->vc != NULL)
		ust_vclock_destroy(r->vc);
	memset(r, 0, offsetof(struct fz_rig, drv));
	return (leaked ? -1 : 0);
}
