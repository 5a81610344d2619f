/*
 * hostile.h - the rig of the hostile-input regression suite: the tcptest
 * stack (198.18.0.2/24 behind the loop driver, the peer 198.18.0.1 in the
 * ARP table) holding a listener on :8080 and one established connection
 * accepted from it.  Each case injects one crafted input (or a short
 * burst), checks the answer on the wire and the counter that must move,
 * then hs_alive() proves the stack still serves: the established
 * connection moves data both ways (unless the input legitimately ended
 * it) and a fresh connection is accepted by the listener.
 *
 * Table-driven cases print the row's name when a row fails (hs_row_*).
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stddef.h>

#include "tcp_script.h"

struct hs_snap {
	struct ust_etherstat eth;
	struct ust_arpstat arp;
	struct ust_ipstat ip;
	struct ust_icmpstat icmp;
	struct ust_udpstat udp;
	struct ust_tcpstat tcp;
};

struct hs {
	struct tt tt;
	uint32_t pseq; /* the peer's next sequence number (relative) */
	uint32_t oseq; /* ours (relative) */
	int dead;      /* the input ended the established connection */
	uint16_t nextport;
	struct hs_snap b; /* counters before the input */
};

static inline void
hs_snap(struct hs *h)
{
	const struct ust_stack *st = h->tt.t.st;

	h->b.eth = st->st_etherstat;
	h->b.arp = st->st_arpstat;
	h->b.ip = st->st_ipstat;
	h->b.icmp = st->st_icmpstat;
	h->b.udp = st->st_udpstat;
	h->b.tcp = st->st_tcpstat;
}

/* How far a counter moved since hs_snap: HS_D(&h, tcp, tcps_rcvbadoff). */
#define HS_ST(h) ((h)->tt.t.st)
#define HS_D(h, grp, f) ((long long)(HS_ST(h)->st_##grp##stat.f - (h)->b.grp.f))

/* A stack with a listener and an established connection; counters
 * snapshotted and the transmit log read to its end. */
static inline int
hs_init(struct hs *h, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	tt_init(&h->tt, seed);
	h->nextport = TT_PEER_PORT + 100;
	if (!tt_established_passive(&h->tt))
		return (0);
	h->pseq = 1;
	h->oseq = 1;
	h->tt.rd = h->tt.t.d->tx_count;
	hs_snap(h);
	return (1);
}

static inline void
hs_fini(struct hs *h)
{
	tt_fini(&h->tt);
}

/* Everything sent so far counts as read. */
static inline void
hs_skip(struct hs *h)
{
	h->tt.rd = h->tt.t.d->tx_count;
}

/* Frames sent since the last read. */
static inline int
hs_txnew(const struct hs *h)
{
	return (h->tt.t.d->tx_count - h->tt.rd);
}

/* A new connection from a fresh peer port: handshake, accept, a byte
 * each way, then the peer resets it. */
static inline void
hs_alive_new(struct hs *h)
{
	struct tt *tt = &h->tt;
	uint16_t saved = tt->pport;
	uint32_t siss = tt->iss;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in peer;
	char b[8];

	hs_skip(h);
	tt->pport = h->nextport++;
	tt_in(tt, TH_SYN, 0, 0, 32767);
	if (TT_OUT(tt, TH_SYN | TH_ACK, 0, 0, 1, TT_ANY)) {
		tt_in(tt, TH_ACK, 1, 1, 32767);
		CHECK_EQ(ust_accept(tt->lso, &so, (struct ust_sockaddr *)&peer,
		             &(ust_socklen_t){ sizeof(peer) }),
		    0);
		if (so != NULL) {
			tt_in_data(tt, TH_ACK | TH_PUSH, 1, 1, 32767, "x", 1);
			CHECK_EQ(ust_recv(so, b, sizeof(b), 0), 1);
			CHECK_EQ(b[0], 'x');
			/* Our byte carries ACK 2: an RST at 2 is then exact
			 * (FreeBSD checks it against last_ack_sent). */
			CHECK_EQ(ust_send(so, "y", 1, 0), 1);
			ipt_poll(&tt->t);
			TT_OUT(tt, TH_ACK, 1, 1, 2, TT_ANY);
			tt_in(tt, TH_RST, 2, 0, 0);
			TT_GONE(so);
			ust_close(so);
		}
	}
	hs_skip(h);
	tt->pport = saved;
	tt->iss = siss;
}

/* The established connection still carries data both ways (exact
 * sequence numbers), and a new connection is accepted. */
static inline void
hs_alive(struct hs *h)
{
	struct tt *tt = &h->tt;
	char b[16];

	hs_skip(h);
	if (!h->dead) {
		CHECK_EQ(tt_state(tt->so), UST_TCPS_ESTABLISHED);
		tt_in_data(tt, TH_ACK | TH_PUSH, h->pseq, h->oseq, 32767, "ping!", 5);
		h->pseq += 5;
		CHECK_EQ(ust_recv(tt->so, b, sizeof(b), 0), 5);
		CHECK_MEM(b, "ping!", 5);
		CHECK_EQ(ust_send(tt->so, "pong", 4, 0), 4);
		ipt_poll(&tt->t);
		/* A pure ACK may come first (every second segment is ACKed
		 * at once, RFC 9293 3.8.6.3). */
		if (tt_pending(tt) > 1)
			TT_OUT(tt, TH_ACK, h->oseq, 0, h->pseq, TT_ANY);
		TT_OUT(tt, TH_ACK, h->oseq, 4, h->pseq, TT_ANY);
		h->oseq += 4;
		tt_in(tt, TH_ACK, h->pseq, h->oseq, 32767);
		TT_NONE(tt);
	}
	hs_alive_new(h);
}

/* A counter named by group and offset, for table rows. */
enum hs_grp { HS_ETH, HS_ARP, HS_IP, HS_ICMP, HS_UDP, HS_TCP };

static inline long long
hs_delta(const struct hs *h, enum hs_grp g, size_t off)
{
	const struct ust_stack *st = h->tt.t.st;
	const void *now, *was;
	uint64_t a, b;

	switch (g) {
	case HS_ETH:
		now = &st->st_etherstat, was = &h->b.eth;
		break;
	case HS_ARP:
		now = &st->st_arpstat, was = &h->b.arp;
		break;
	case HS_IP:
		now = &st->st_ipstat, was = &h->b.ip;
		break;
	case HS_ICMP:
		now = &st->st_icmpstat, was = &h->b.icmp;
		break;
	case HS_UDP:
		now = &st->st_udpstat, was = &h->b.udp;
		break;
	default:
		now = &st->st_tcpstat, was = &h->b.tcp;
		break;
	}
	memcpy(&a, (const uint8_t *)now + off, sizeof(a));
	memcpy(&b, (const uint8_t *)was + off, sizeof(b));
	return ((long long)(a - b));
}

/* Table rows: remembers the failure count so that a failing row is
 * named. */
#define HS_ROW_BEGIN(name)         \
	const char *_row = (name); \
	int _rowfail = ust_test_failures
#define HS_ROW_END()                                                                    \
	do {                                                                            \
		if (ust_test_failures != _rowfail)                                      \
			fprintf(stderr, "  ^ in row \"%s\" (seed %" PRIu64 ")\n", _row, \
			    ust_test_seed);                                             \
	} while (0)

#endif /* HOSTILE_H */
