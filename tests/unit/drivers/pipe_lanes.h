/*
 * pipe_lanes.h - test frames for the pipe's lanes (test_pipe_lanes.c,
 * test_pipe_lanes_threaded.c): flows over IPv4 and IPv6, UDP and TCP,
 * numbered per sending lane and flow, and a receiving lane's input hook
 * that checks bytes, the lane the steer mode picks, the RSS mark and the
 * order within each (sending lane, flow).
 */
#ifndef TEST_PIPE_LANES_H
#define TEST_PIPE_LANES_H

#include <stdint.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>

#define LANES_MAX 4
#define FLOWS 64
#define LEN_MAX 1514

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

/* What one receiving lane saw. */
struct lsink {
	unsigned lane;
	unsigned lanes;
	int steer;
	int marked; /* frames must carry the pipe's hash */
	unsigned n;
	unsigned bad;             /* bytes not as sent */
	unsigned wrong_lane;      /* not on the lane the steer mode picks */
	unsigned wrong_mark;      /* hash mark missing, present when it must not be, or wrong */
	unsigned from[LANES_MAX]; /* frames by sending lane */
	unsigned per_flow[FLOWS];
	unsigned out_of_order; /* a (sending lane, flow) number not the next one */
	uint32_t next_seq[LANES_MAX][FLOWS];
	uint64_t last_at;
};

struct lrig {
	struct ust_vclock *vc;
	struct ust_pipe *p;
	unsigned lanes;
	struct ust_stack *st[2][LANES_MAX];
	struct ust_if *ifp[2][LANES_MAX];
	struct lsink sink[2][LANES_MAX];
};

/*
 * A test frame of flow f sent from lane `from` with number seq: Ethernet,
 * then IPv4 or IPv6 (f odd), UDP or TCP (f % 4 >= 2), 198.18.0.1 ->
 * 198.18.1.x or 2001:2::1 -> 2001:2::1:x, ports 10000 + f -> 80, then a
 * payload: from, f, seq, and a pattern of all three.
 */
static size_t
frame_build(uint8_t *b, unsigned f, unsigned from, uint32_t seq, size_t paylen)
{
	int v6 = f & 1, tcp = (f % 4) >= 2;
	size_t off = 14, l4, l4len = (tcp ? 20u : 8u) + paylen, i;
	uint16_t sport = (uint16_t)(10000 + f), dport = 80;

	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	if (v6) {
		b[12] = 0x86;
		b[13] = 0xdd;
		memset(b + off, 0, 40);
		b[off] = 0x60;
		b[off + 4] = (uint8_t)(l4len >> 8);
		b[off + 5] = (uint8_t)l4len;
		b[off + 6] = tcp ? 6 : 17;
		b[off + 7] = 64;
		b[off + 8] = 0x20;
		b[off + 9] = 0x01;
		b[off + 11] = 0x02;
		b[off + 23] = 1;
		b[off + 24] = 0x20;
		b[off + 25] = 0x01;
		b[off + 27] = 0x02;
		b[off + 37] = 1;
		b[off + 39] = (uint8_t)(f * 7 + 1);
		l4 = off + 40;
	} else {
		size_t iplen = 20 + l4len;

		b[12] = 0x08;
		b[13] = 0x00;
		memset(b + off, 0, 20);
		b[off] = 0x45;
		b[off + 2] = (uint8_t)(iplen >> 8);
		b[off + 3] = (uint8_t)iplen;
		b[off + 8] = 64;
		b[off + 9] = tcp ? 6 : 17;
		b[off + 12] = 198;
		b[off + 13] = 18;
		b[off + 15] = 1;
		b[off + 16] = 198;
		b[off + 17] = 18;
		b[off + 18] = 1;
		b[off + 19] = (uint8_t)(f * 7 + 1);
		l4 = off + 20;
	}
	memset(b + l4, 0, tcp ? 20 : 8);
	b[l4] = (uint8_t)(sport >> 8);
	b[l4 + 1] = (uint8_t)sport;
	b[l4 + 2] = (uint8_t)(dport >> 8);
	b[l4 + 3] = (uint8_t)dport;
	if (tcp)
		b[l4 + 12] = 5 << 4;
	else {
		b[l4 + 4] = (uint8_t)(l4len >> 8);
		b[l4 + 5] = (uint8_t)l4len;
	}
	l4 += tcp ? 20 : 8;
	b[l4] = (uint8_t)from;
	b[l4 + 1] = (uint8_t)f;
	b[l4 + 2] = (uint8_t)(seq >> 24);
	b[l4 + 3] = (uint8_t)(seq >> 16);
	b[l4 + 4] = (uint8_t)(seq >> 8);
	b[l4 + 5] = (uint8_t)seq;
	for (i = 6; i < paylen; i++)
		b[l4 + i] = (uint8_t)(i * 13 + seq * 7 + f * 3 + from);
	return (l4 + paylen);
}

/* The payload offset of a test frame. */
static size_t
frame_payload(const uint8_t *b)
{
	int v6 = b[12] == 0x86;
	int tcp = b[14 + (v6 ? 6 : 9)] == 6;

	return (14u + (v6 ? 40u : 20u) + (tcp ? 20u : 8u));
}

/* The key every lsink checks with: the default (set before any frame). */
static uint8_t test_key[UST_RSS_KEYLEN];

static int
lsink_input(void *arg, struct ust_if *ifp, const struct ust_mbuf *m)
{
	struct lsink *s = arg;
	uint8_t got[LEN_MAX], want[LEN_MAX];
	size_t len = ust_mbuf_pktlen(m), pay;
	uint32_t hash, mhash, seq;
	unsigned from, f, q, expect;
	int type, mtype;

	s->n++;
	s->last_at = ust_stack_now(ust_if_stack(ifp));
	if (len < 60 || len > sizeof(got) || ust_mbuf_copydata(m, 0, len, got) != 0) {
		s->bad++;
		return (1);
	}
	pay = frame_payload(got);
	from = got[pay];
	f = got[pay + 1];
	seq = (uint32_t)got[pay + 2] << 24 | (uint32_t)got[pay + 3] << 16 |
	    (uint32_t)got[pay + 4] << 8 | got[pay + 5];
	if (from >= LANES_MAX || f >= FLOWS || frame_build(want, f, from, seq, len - pay) != len ||
	    memcmp(got, want, len) != 0) {
		s->bad++;
		return (1);
	}
	s->from[from]++;
	s->per_flow[f]++;
	if (seq != s->next_seq[from][f])
		s->out_of_order++;
	s->next_seq[from][f] = seq + 1;
	type = ust_rss_hash_frame(test_key, got, len, &hash);
	q = ust_rss_queue(hash, s->lanes);
	expect = s->steer == UST_PIPE_STEER_SAME ? from :
	    s->steer == UST_PIPE_STEER_SPREAD    ? (q + 1) % s->lanes :
	                                           q;
	if (s->lanes > 1 && expect != s->lane)
		s->wrong_lane++;
	mtype = ust_mbuf_rss(m, &mhash);
	if (s->marked ? (mtype != type || mhash != hash) : mtype != UST_RSS_NONE)
		s->wrong_mark++;
	return (1);
}

#endif /* TEST_PIPE_LANES_H */
