/*
 * test_tcp_ackbatch.c - one tcp_output per connection per poll
 * (netinet/tcp_outq.c, net.inet.tcp.ack_coalesce): a burst of in-order
 * segments received in one poll is answered by one ACK (knob 1) instead of
 * one per second segment (knob 0), bytes intact; out-of-order segments
 * still get one duplicate ACK each, the same bytes as with the knob off;
 * connections reset while queued leave the queue (ASan: no use after
 * free); an application answering in its upcall sends once per poll; a
 * bulk transfer between two stacks with the knob on and off.
 *
 * The frames of a burst are put in the loop driver's receive queue first
 * and taken by one ust_stack_poll (rx_burst 32).
 */
#include <stdlib.h>
#include <string.h>

#include "bulkrig.h"
#include "kern/socketvar.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_var.h"
#include "tcp_script.h"

#define AB_MSS 1460u

/* The peer's byte at offset off of its stream (connection k). */
static uint8_t
ab_byte(unsigned k, uint32_t off)
{
	return ((uint8_t)(((off + 7u * k) * 2654435761u) >> 24));
}

/* Queues (without polling) a segment from the peer port sport with
 * absolute numbers; the payload is the pattern of connection k at stream
 * offset rseq (seq - peer ISS - 1). */
static void
ab_queue(struct tt *o, unsigned k, uint16_t sport, uint16_t flags, uint32_t seq, uint32_t ack,
    uint32_t dlen)
{
	static uint8_t data[AB_MSS];
	uint8_t f[LOOPDRV_FRAME];
	struct tl_tcp th = {
		.sport = sport,
		.dport = o->lport,
		.seq = seq,
		.ack = ack,
		.flags = (uint8_t)flags,
		.win = 32767,
	};
	uint32_t i;
	size_t n;

	REQUIRE(dlen <= AB_MSS);
	for (i = 0; i < dlen; i++)
		data[i] = ab_byte(k, seq - o->piss - 1 + i);
	n = tl_frame_tcp(f, ipt_mac_ours, ipt_mac_peer, IPT_PEER, IPT_OURS, 0, 0x1234, &th, data,
	    dlen);
	REQUIRE_EQ(loopdrv_inject(o->t.d, f, n), 0);
}

/* Segment i (of AB_MSS bytes) of the one connection of the rig. */
static void
ab_seg(struct tt *o, uint32_t i)
{
	ab_queue(o, 0, o->pport, TH_ACK, o->piss + 1 + i * AB_MSS, o->iss + 1, AB_MSS);
}

/* A TCP segment the stack sent. */
struct ab_out {
	uint16_t dport;
	uint8_t flags;
	uint32_t seq, ack, dlen;
	size_t optlen;
	uint8_t data[AB_MSS];
	size_t flen;
	uint8_t frame[LOOPDRV_FRAME]; /* the whole frame, for byte compares */
};

/* Polls once, then takes every TCP segment the stack sent into out[]
 * (at most max) and empties the transmit log; returns the count. */
static int
ab_poll_take(struct tt *o, struct ab_out *out, int max)
{
	struct tl_pkt p;
	int n, k = 0;

	ipt_poll(&o->t);
	for (n = 0; n < o->t.d->tx_count; n++) {
		if (tl_parse(o->t.d->tx[n], o->t.d->tx_len[n], &p) != 0 || p.ip == NULL ||
		    p.proto != TL_IPPROTO_TCP)
			continue;
		CHECK(p.l4sum_ok);
		CHECK(k < max);
		if (k >= max)
			break;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].dport = p.dport;
		out[k].flags = p.flags;
		out[k].seq = p.seq;
		out[k].ack = p.ack;
		out[k].dlen = (uint32_t)p.dlen;
		out[k].optlen = p.optlen;
		if (p.dlen > 0 && p.dlen <= AB_MSS)
			memcpy(out[k].data, p.data, p.dlen);
		if (getenv("AB_DEBUG"))
			fprintf(stderr,
			    "out: dport %u flags %#x seq %u ack %u len %zu (piss %u iss %u)\n",
			    p.dport, p.flags, p.seq - o->iss, p.ack - o->piss, p.dlen, o->piss,
			    o->iss);
		out[k].flen = o->t.d->tx_len[n];
		memcpy(out[k].frame, o->t.d->tx[n], out[k].flen);
		k++;
	}
	o->t.d->tx_count = 0;
	o->rd = 0;
	return (k);
}

/* Reads len bytes from so and checks them against connection k's
 * pattern from offset off. */
static void
ab_read_check(struct ust_socket *so, unsigned k, uint32_t off, uint32_t len)
{
	static uint8_t buf[65536];
	uint32_t got = 0, i;
	ptrdiff_t n;

	REQUIRE(len <= sizeof(buf));
	while (got < len && (n = ust_recv(so, buf + got, len - got, 0)) > 0)
		got += (uint32_t)n;
	CHECK_EQ(got, len);
	for (i = 0; i < got; i++)
		if (buf[i] != ab_byte(k, off + i)) {
			CHECK_EQ(buf[i], ab_byte(k, off + i));
			break;
		}
}

#if UST_STATS
/* RFC 5681 4.2 every-second-segment stays per segment (tcp_delay_ack),
 * but with the knob on the ACKs it owes wait for the end of the receive
 * loop: 8 full segments in one poll, one ACK for all of them (a stretch
 * ACK, without delay) instead of 4; no delayed ACK left behind. */
TEST(ackbatch_inorder_burst_one_ack_per_poll)
{
	static struct ab_out out[16];
	int knob;

	for (knob = 1; knob >= 0; knob--) {
		struct tt o;
		uint64_t coal0, acks0;
		int n, i;

		tt_init(&o, 1);
		tt_sysctl(&o, "net.inet.tcp.ack_coalesce", knob);
		REQUIRE(tt_established_passive(&o));
		coal0 = o.t.st->st_tcpstat.tcps_ackcoalesced;
		acks0 = o.t.st->st_tcpstat.tcps_sndacks;
		for (i = 0; i < 8; i++)
			ab_seg(&o, (uint32_t)i);
		n = ab_poll_take(&o, out, 16);
		if (knob) {
			REQUIRE_EQ(n, 1);
			CHECK_EQ(out[0].flags, TH_ACK);
			CHECK_EQ(out[0].ack, o.piss + 1 + 8 * AB_MSS);
			CHECK_EQ(out[0].dlen, 0);
			/* Segments 3..8 found the connection queued. */
			CHECK_EQ(o.t.st->st_tcpstat.tcps_ackcoalesced - coal0, 6);
		} else {
			REQUIRE_EQ(n, 4);
			for (i = 0; i < 4; i++) {
				CHECK_EQ(out[i].flags, TH_ACK);
				CHECK_EQ(out[i].ack, o.piss + 1 + (uint32_t)(i + 1) * 2 * AB_MSS);
			}
			CHECK_EQ(o.t.st->st_tcpstat.tcps_ackcoalesced, coal0);
		}
		CHECK_EQ(o.t.st->st_tcpstat.tcps_sndacks - acks0, (uint64_t)n);
		CHECK(!tcp_timer_active(tt_tp(&o), TT_DELACK));
		CHECK_EQ(tt_tp(&o)->t_flags2 & TF2_OUTQ, 0);
		ab_read_check(o.so, 0, 0, 8 * AB_MSS);
		/* Nothing owed any more: no delayed ACK fires later. */
		ab_queue(&o, 0, o.pport, TH_ACK, o.piss + 1 + 8 * AB_MSS, o.iss + 1, 0);
		tt_advance_ms(&o, 300);
		n = ab_poll_take(&o, out, 16);
		/* The read opened the window by 8 segments: at most an update. */
		for (i = 0; i < n; i++)
			CHECK_EQ(out[i].ack, o.piss + 1 + 8 * AB_MSS);
		tt_fini(&o);
	}
}

/* An odd burst: the first segment delays, the rest owe one ACK. */
TEST(ackbatch_single_segment_still_delayed)
{
	static struct ab_out out[4];
	struct tt o;

	tt_init(&o, 2);
	REQUIRE(tt_established_passive(&o));
	ab_seg(&o, 0);
	CHECK_EQ(ab_poll_take(&o, out, 4), 0);
	CHECK(tcp_timer_active(tt_tp(&o), TT_DELACK));
	tt_advance_ms(&o, 40);
	REQUIRE_EQ(ab_poll_take(&o, out, 4), 1);
	CHECK_EQ(out[0].ack, o.piss + 1 + AB_MSS);
	CHECK_EQ(o.t.st->st_tcpstat.tcps_delack, 1);
	ab_read_check(o.so, 0, 0, AB_MSS);
	tt_fini(&o);
}
#endif

#if UST_TCP_SACK
/* Out-of-order segments in one poll: one duplicate ACK each, with its
 * SACK blocks (RFC 5681 4.2, RFC 2018), byte for byte what the knob off
 * sends; the segment filling the hole and the in-order ones after it in
 * the same poll: one ACK for all. */
TEST(ackbatch_out_of_order_dupack_each)
{
	static struct ab_out out[2][16], fill[16];
	int knob, n[2], i, nf;

	for (knob = 0; knob < 2; knob++) {
		struct tt o;

		tt_init(&o, 3);
		tt_sysctl(&o, "net.inet.tcp.ack_coalesce", knob);
		REQUIRE(tt_established_passive(&o));
		for (i = 1; i <= 4; i++)
			ab_seg(&o, (uint32_t)i);
		n[knob] = ab_poll_take(&o, out[knob], 16);
		REQUIRE_EQ(n[knob], 4);
		for (i = 0; i < 4; i++) {
			CHECK_EQ(out[knob][i].flags, TH_ACK);
			CHECK_EQ(out[knob][i].ack, o.piss + 1);
			CHECK(out[knob][i].optlen >= 12); /* a SACK block */
		}
		ab_seg(&o, 0);
		ab_seg(&o, 5);
		ab_seg(&o, 6);
		nf = ab_poll_take(&o, fill, 16);
		if (knob) {
			REQUIRE_EQ(nf, 1);
			CHECK_EQ(fill[0].ack, o.piss + 1 + 7 * AB_MSS);
			CHECK_EQ(fill[0].optlen, 0);
		} else {
			/* The gap fill at once, the 3rd in-order segment ACKed. */
			REQUIRE_EQ(nf, 2);
			CHECK_EQ(fill[0].ack, o.piss + 1 + 5 * AB_MSS);
			CHECK_EQ(fill[1].ack, o.piss + 1 + 7 * AB_MSS);
		}
		ab_read_check(o.so, 0, 0, 7 * AB_MSS);
		tt_fini(&o);
	}
	for (i = 0; i < 4; i++) {
		CHECK_EQ(out[0][i].flen, out[1][i].flen);
		CHECK_MEM(out[0][i].frame, out[1][i].frame, out[0][i].flen);
	}
}
#endif

/* A peer's RST after its data in the same burst.  The RST's sequence
 * number is rcv_nxt, but the ACK for the data is still queued, so
 * last_ack_sent lags (as after a delayed ACK): RFC 5961 3.2 as FreeBSD
 * applies it (exact match with last_ack_sent) answers with a challenge
 * ACK, the peer's second RST then matches.  With insecure_rst the first
 * RST resets: the connection queued for its ACK is freed before the drain
 * (tcp_close -> unqueue), nothing is sent. */
TEST(ackbatch_rst_after_data_same_burst)
{
	static struct ab_out out[4];
	int insecure, n;

	for (insecure = 1; insecure >= 0; insecure--) {
		struct tt o;

		tt_init(&o, 4);
		tt_sysctl(&o, "net.inet.tcp.insecure_rst", insecure);
		REQUIRE(tt_established_passive(&o));
		ab_seg(&o, 0);
		ab_seg(&o, 1);
		ab_queue(&o, 0, o.pport, TH_RST | TH_ACK, o.piss + 1 + 2 * AB_MSS, o.iss + 1, 0);
		n = ab_poll_take(&o, out, 4);
		if (insecure) {
			CHECK_EQ(n, 0);
		} else {
			/* The challenge ACK, then the queued one (same numbers). */
			CHECK_EQ(n, 2);
#if UST_STATS
			CHECK_EQ(o.t.st->st_tcpstat.tcps_badrst_inwindow, 1);
#endif
			CHECK_EQ(out[0].ack, o.piss + 1 + 2 * AB_MSS);
			CHECK_EQ(out[1].ack, o.piss + 1 + 2 * AB_MSS);
			CHECK_EQ(tt_state(o.so), UST_TCPS_ESTABLISHED);
			ab_queue(&o, 0, o.pport, TH_RST, o.piss + 1 + 2 * AB_MSS, 0, 0);
			CHECK_EQ(ab_poll_take(&o, out, 4), 0);
		}
		TT_GONE(o.so);
		CHECK_EQ(tt_soerror(o.so), UST_ECONNRESET);
		CHECK(o.t.st->st_outq_head == NULL && o.t.st->st_outq_tail == NULL);
		tt_fini(&o);
	}
}

/* What the output queue held when an upcall last ran (inside the poll). */
struct ab_qlook {
	struct ust_stack *st;
	int calls;
	int len;      /* members, head to tail */
	int marked;   /* members with TF2_OUTQ */
	int tail_ok;  /* st_outq_tail is the last member */
	int ports[8]; /* the members' peer ports */
};

static void
ab_qlook_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	struct ab_qlook *q = arg;
	struct tcpcb *tp, *last = NULL;

	(void)so;
	(void)events;
	q->calls++;
	q->len = q->marked = 0;
	for (tp = q->st->st_outq_head; tp != NULL && q->len < 8; tp = tp->t_outq_next) {
		q->ports[q->len++] = ntohs(tp->t_inpcb->inp_fport);
		q->marked += (tp->t_flags2 & TF2_OUTQ) != 0;
		last = tp;
	}
	q->tail_ok = last == q->st->st_outq_tail;
}

/* Four connections queued in one burst; B (the middle) and C (then the
 * tail) are reset before the drain, and D queues after them: A and D get
 * their ACK, each once, and the queue links stay sound. */
TEST(ackbatch_reset_middle_and_tail_of_queue)
{
	static struct ab_out out[16];
	struct ust_socket *so[4];
	struct ab_qlook q;
	uint32_t iss[4];
	struct tt o;
	unsigned k;
	int n, i, seen[4] = { 0, 0, 0, 0 };

	tt_init(&o, 5);
	memset(&q, 0, sizeof(q));
	q.st = o.t.st;
	/* The first RST resets (see ackbatch_rst_after_data_same_burst). */
	tt_sysctl(&o, "net.inet.tcp.insecure_rst", 1);
	for (k = 0; k < 4; k++) {
		o.pport = (uint16_t)(TT_PEER_PORT + k);
		o.so = NULL;
		REQUIRE(tt_established_passive(&o));
		so[k] = o.so;
		iss[k] = o.iss;
	}
	o.so = NULL;
	/* D's upcall looks at the queue when D's data arrives; the last
	 * time, after the resets and before D queues, it holds A alone. */
	ust_socket_set_upcall(so[3], ab_qlook_upcall, &q);
	/* The first segment of each delays; the second queues A, B, C. */
	for (k = 0; k < 4; k++)
		ab_queue(&o, k, (uint16_t)(TT_PEER_PORT + k), TH_ACK, o.piss + 1, iss[k] + 1,
		    AB_MSS);
	for (k = 0; k < 3; k++)
		ab_queue(&o, k, (uint16_t)(TT_PEER_PORT + k), TH_ACK, o.piss + 1 + AB_MSS,
		    iss[k] + 1, AB_MSS);
	ab_queue(&o, 1, TT_PEER_PORT + 1, TH_RST | TH_ACK, o.piss + 1 + 2 * AB_MSS, iss[1] + 1, 0);
	ab_queue(&o, 2, TT_PEER_PORT + 2, TH_RST | TH_ACK, o.piss + 1 + 2 * AB_MSS, iss[2] + 1, 0);
	ab_queue(&o, 3, TT_PEER_PORT + 3, TH_ACK, o.piss + 1 + AB_MSS, iss[3] + 1, AB_MSS);
	q.calls = 0;
	n = ab_poll_take(&o, out, 16);
	REQUIRE(q.calls >= 2);
	CHECK_EQ(q.len, 1);
	CHECK_EQ(q.marked, q.len);
	CHECK(q.tail_ok);
	CHECK_EQ(q.ports[0], TT_PEER_PORT);
	ust_socket_set_upcall(so[3], NULL, NULL);
	REQUIRE_EQ(n, 2);
	for (i = 0; i < n; i++) {
		k = out[i].dport - TT_PEER_PORT;
		REQUIRE(k < 4);
		seen[k]++;
		CHECK_EQ(out[i].ack, o.piss + 1 + 2 * AB_MSS);
		CHECK_EQ(out[i].seq, iss[k] + 1);
	}
	CHECK(seen[0] == 1 && seen[1] == 0 && seen[2] == 0 && seen[3] == 1);
	/* A was queued first. */
	CHECK_EQ(out[0].dport, TT_PEER_PORT);
	TT_GONE(so[1]);
	TT_GONE(so[2]);
	CHECK(o.t.st->st_outq_head == NULL);
	ab_read_check(so[0], 0, 0, 2 * AB_MSS);
	ab_read_check(so[3], 3, 0, 2 * AB_MSS);
	for (k = 0; k < 4; k++)
		ust_close(so[k]);
	tt_fini(&o);
}

/* An echo server answering in its upcall (TCP_NODELAY): one poll
 * carrying four small requests.  Knob 1: one segment carries the four
 * replies and the ACK; knob 0: one segment per reply.  A request ending
 * in 'Q' makes the upcall shut down its side too: with the knob the reply
 * and the FIN share a segment. */
struct ab_echo {
	int calls;
	int quit;
};

static void
ab_echo_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	struct ab_echo *e = arg;
	uint8_t buf[2048];
	ptrdiff_t n;

	(void)events;
	e->calls++;
	while ((n = ust_recv(so, buf, sizeof(buf), 0)) > 0) {
		CHECK_EQ(ust_send(so, buf, (size_t)n, 0), n);
		if (buf[n - 1] == 'Q' && !e->quit) {
			e->quit = 1;
			CHECK_EQ(ust_shutdown(so, UST_SHUT_WR), 0);
		}
	}
}

#if UST_STATS
TEST(ackbatch_upcall_reply_sent_once_per_poll)
{
	static struct ab_out out[16];
	int knob;

	for (knob = 1; knob >= 0; knob--) {
		struct ab_echo e = { 0, 0 };
		struct tt o;
		uint64_t tot0;
		uint32_t i, j, sum;
		int n;

		tt_init(&o, 6);
		tt_sysctl(&o, "net.inet.tcp.ack_coalesce", knob);
		REQUIRE(tt_established_passive(&o));
		CHECK_EQ(tl_setint(o.so, UST_IPPROTO_TCP, UST_TCP_NODELAY, 1), 0);
		ust_socket_set_upcall(o.so, ab_echo_upcall, &e);
		tot0 = o.t.st->st_tcpstat.tcps_sndtotal;
		for (i = 0; i < 4; i++)
			ab_queue(&o, 0, o.pport, TH_ACK | TH_PUSH, o.piss + 1 + i * 100, o.iss + 1,
			    100);
		n = ab_poll_take(&o, out, 16);
		CHECK(e.calls >= 4);
		REQUIRE_EQ(n, knob ? 1 : 4);
		CHECK_EQ(o.t.st->st_tcpstat.tcps_sndtotal - tot0, (uint64_t)n);
		CHECK_EQ(out[n - 1].ack, o.piss + 1 + 400);
		/* The echo: the peer's bytes back, in order. */
		sum = 0;
		for (i = 0; i < (uint32_t)n; i++) {
			CHECK_EQ(out[i].seq, o.iss + 1 + sum);
			for (j = 0; j < out[i].dlen; j++)
				if (out[i].data[j] != ab_byte(0, sum + j)) {
					CHECK_EQ(out[i].data[j], ab_byte(0, sum + j));
					break;
				}
			sum += out[i].dlen;
		}
		CHECK_EQ(sum, 400);
		/* The peer ACKs, then sends a last request ending in 'Q'. */
		ab_queue(&o, 0, o.pport, TH_ACK, o.piss + 401, o.iss + 401, 0);
		CHECK_EQ(ab_poll_take(&o, out, 16), 0);
		{
			uint8_t f[LOOPDRV_FRAME], q[50];
			struct tl_tcp th = { .sport = o.pport,
				.dport = o.lport,
				.seq = o.piss + 401,
				.ack = o.iss + 401,
				.flags = TH_ACK | TH_PUSH,
				.win = 32767 };
			size_t fl;

			memset(q, 'a', sizeof(q));
			q[49] = 'Q';
			fl = tl_frame_tcp(f, ipt_mac_ours, ipt_mac_peer, IPT_PEER, IPT_OURS, 0, 1,
			    &th, q, sizeof(q));
			REQUIRE_EQ(loopdrv_inject(o.t.d, f, fl), 0);
		}
		n = ab_poll_take(&o, out, 16);
		CHECK(e.quit);
		if (knob) {
			REQUIRE_EQ(n, 1);
			CHECK_EQ(out[0].flags & (TH_FIN | TH_ACK), TH_FIN | TH_ACK);
			CHECK_EQ(out[0].dlen, 50);
			CHECK_EQ(out[0].ack, o.piss + 451);
		} else {
			/* Reply (with the ACK), then the FIN. */
			REQUIRE(n >= 1);
			CHECK_EQ(out[0].dlen, 50);
			CHECK_EQ(out[n - 1].flags & TH_FIN, TH_FIN);
		}
		CHECK_EQ(tt_state(o.so), UST_TCPS_FIN_WAIT_1);
		ust_socket_set_upcall(o.so, NULL, NULL);
		tt_fini(&o);
	}
}
#endif

#if UST_STATS
/* Two stacks over a pipe without a rate limit (whole windows arrive in
 * one poll), 4 MB each way of the knob: bytes intact; with it on the
 * receiver sends far fewer ACK-only segments.  Stretch ACKs slow the
 * sender's slow start under RFC 3465 byte counting with L = 2
 * (net.inet.tcp.abc_l_var): cwnd grows by 2 segments per ACK however many
 * it covers; with L = 64 the knob costs no time. */
TEST(ackbatch_bulk_pipe_knob_on_off)
{
	static const struct {
		int knob, abc_l;
	} run[4] = { { 0, 2 }, { 1, 2 }, { 1, 64 }, { 0, 64 } };
	uint64_t acks[4], coal[4], seed = 19;
	struct bulk_result r[4];
	char what[64];
	int i;

	for (i = 0; i < 4; i++) {
		struct bulk w;

		bulk_init(&w, seed, 64u << 20, 65536, 16384, 5 * BULK_MS, 0);
		bulk_sysctl(&w, "net.inet.tcp.ack_coalesce", run[i].knob);
		bulk_sysctl(&w, "net.inet.tcp.abc_l_var", run[i].abc_l);
		bulk_sockets(&w);
		bulk_connect(&w);
		bulk_transfer(&w, 4u << 20, 20000, &r[i]);
		snprintf(what, sizeof(what), "ack_coalesce=%d abc_l_var=%d", run[i].knob,
		    run[i].abc_l);
		bulk_print(what, &w, &r[i]);
		acks[i] = w.b->st_tcpstat.tcps_sndacks;
		coal[i] = w.b->st_tcpstat.tcps_ackcoalesced;
		printf("  receiver: %llu ACK-only segments, %llu outputs coalesced\n",
		    (unsigned long long)acks[i], (unsigned long long)coal[i]);
		CHECK(r[i].intact);
		CHECK_EQ(r[i].got, 4u << 20);
		bulk_fini(&w);
	}
	CHECK_EQ(coal[0], 0);
	CHECK(coal[1] > 0);
	CHECK(acks[1] * 4 < acks[0]);
	CHECK(r[1].elapsed_ns <= r[0].elapsed_ns * 3);
	CHECK(acks[2] * 4 < acks[3]);
	CHECK(r[2].elapsed_ns <= r[3].elapsed_ns * 5 / 4);
}
#endif
