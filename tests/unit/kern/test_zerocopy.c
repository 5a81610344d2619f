/*
 * test_zerocopy.c - the zero-copy socket calls (uipc_socket.c,
 * uipc_sockbuf.c, uipc_syscalls.c; docs/zerocopy.md) between two stacks
 * over the pipe on the virtual clock: ust_send_zc lends large buffers
 * (bytes intact, done once with 0 after the ACK, retransmissions after
 * loss re-read the lent bytes), copies below kern.ipc.zc_min (done with
 * UST_ZC_COPIED before it returns), ends with -UST_ECONNRESET on a reset,
 * -UST_ECONNABORTED on an abort or a stack destroyed; ust_sendv gathers;
 * ust_recv_mbuf / ust_recvfrom_mbuf take chains out without copying, the
 * window reopens, chains held are bounded (EAGAIN); every zone is back to
 * zero afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_pipe.h>

#include "kern/socketvar.h"
#include "test_env.h"
#include "tl_net.h"
#include "ust_test.h"

/* The receive buffer's inside, for the held-bytes checks. */
#define SO_HELD(u) (SO_FROM_UST(u)->so_rcv.sb_held)
#define SO_CC(u) ((size_t)SO_FROM_UST(u)->so_rcv.sb_cc)
#define SO_EVENTS(u) so_events(SO_FROM_UST(u))

#define T0 (1000 * TL_NS_MS)
#define PORT 5001

/* One ust_send_zc's completion. */
struct zcrec {
	int calls;
	int status;
	const void *buf;
	size_t len;
};

static void
zc_done(void *arg, const void *buf, size_t len, int status)
{
	struct zcrec *r = arg;

	r->calls++;
	r->status = status;
	r->buf = buf;
	r->len = len;
}

struct zrig {
	struct tl_pair p;
	struct ust_socket *lso, *cli, *srv;
};

/* Stacks a (198.18.0.1, sends) and b (198.18.0.2) over the pipe; fc: the
 * faults A->B and B->A, or NULL. */
static void
zrig_init(struct zrig *z, const struct ust_fault_config *fc)
{
	memset(z, 0, sizeof(*z));
	z->p.vc = ust_vclock_create(T0);
	z->p.a = test_stack_new(z->p.vc, ust_test_seed);
	z->p.b = test_stack_new(z->p.vc, ust_test_seed + 1);
	REQUIRE(z->p.a != NULL && z->p.b != NULL);
	REQUIRE_EQ(tl_pair_attach(&z->p, fc), 0);
	REQUIRE_EQ(tl_pair_addrs(&z->p, test_ip4(1), test_ip4(2), 24), 0);
}

static void
zrig_run(struct zrig *z, uint64_t dt)
{
	if (z->p.a != NULL)
		tl_pair_run(&z->p, dt);
	else
		tl_run(z->p.vc, &z->p.b, 1, dt); /* a was destroyed */
}

/* A TCP connection: cli on a, srv on b. */
static void
zrig_tcp(struct zrig *z)
{
	struct ust_sockaddr_in la = tl_sin(test_ip4(2), PORT);
	int rc, i;

	REQUIRE_EQ(ust_socket(z->p.b, UST_AF_INET, UST_SOCK_STREAM, 0, &z->lso), 0);
	REQUIRE_EQ(ust_bind(z->lso, (const struct ust_sockaddr *)&la, sizeof(la)), 0);
	REQUIRE_EQ(ust_listen(z->lso, 8), 0);
	REQUIRE_EQ(ust_socket(z->p.a, UST_AF_INET, UST_SOCK_STREAM, 0, &z->cli), 0);
	rc = ust_connect(z->cli, (const struct ust_sockaddr *)&la, sizeof(la));
	REQUIRE(rc == 0 || rc == -UST_EINPROGRESS);
	for (i = 0; i < 100 && z->srv == NULL; i++) {
		zrig_run(z, 5 * TL_NS_MS);
		if (ust_accept(z->lso, &z->srv, NULL, NULL) != 0)
			z->srv = NULL;
	}
	REQUIRE(z->srv != NULL);
}

/* Items in use in the stack's zone `name` (-1: no such zone). */
static int
zone_in_use(struct ust_stack *st, const char *name)
{
	struct ust_zone_stats zs;
	unsigned i;

	for (i = 0; ust_stack_get_zone_stats(st, i, &zs) == 0; i++)
		if (strcmp(zs.name, name) == 0)
			return ((int)zs.in_use);
	return (-1);
}

/* Closes what is open, lets TIME_WAIT pass, checks the mbuf and zc zones
 * of both stacks are back to zero and frees everything. */
static void
zrig_fini(struct zrig *z)
{
	struct ust_stack *st[2] = { z->p.a, z->p.b };
	int i;

	if (z->cli != NULL)
		ust_close(z->cli);
	if (z->srv != NULL)
		ust_close(z->srv);
	if (z->lso != NULL)
		ust_close(z->lso);
	zrig_run(z, 200 * 1000 * TL_NS_MS);
	for (i = 0; i < 2; i++) {
		if (st[i] == NULL)
			continue;
		CHECK_EQ(zone_in_use(st[i], "mbuf"), 0);
		CHECK_EQ(zone_in_use(st[i], "mbuf_cluster"), 0);
		CHECK_EQ(zone_in_use(st[i], "zc"), 0);
	}
	tl_pair_close(&z->p);
}

static uint8_t
pat(size_t off)
{
	return ((uint8_t)((off * 2654435761u) >> 24));
}

/* Reads whatever srv has with ust_recv, checking it against pat from *got. */
static int
drain_check(struct ust_socket *so, size_t *got)
{
	static uint8_t in[65536];
	ptrdiff_t n;
	int intact = 1;

	while ((n = ust_recv(so, in, sizeof(in), 0)) > 0) {
		for (ptrdiff_t i = 0; i < n; i++)
			if (in[i] != pat(*got + (size_t)i))
				intact = 0;
		*got += (size_t)n;
	}
	return (intact);
}

/*
 * Sends total bytes of buf (filled with pat) with ust_send_zc as the
 * socket takes them, reading on srv; returns the number of sends (each
 * completion in recs[]).  *intact: every byte arrived right.
 */
static int
zc_stream(struct zrig *z, const uint8_t *buf, size_t total, struct zcrec *recs, int maxrecs,
    int *intact, int max_ms)
{
	size_t sent = 0, got = 0;
	int n = 0, ms;
	ptrdiff_t k;

	*intact = 1;
	for (ms = 0; ms < max_ms && got < total; ms++) {
		while (sent < total && n < maxrecs) {
			k = ust_send_zc(z->cli, buf + sent, total - sent, 0, zc_done, &recs[n]);
			if (k <= 0) {
				CHECK_EQ(k, -UST_EAGAIN);
				break;
			}
			recs[n].buf = NULL;
			n++;
			sent += (size_t)k;
		}
		zrig_run(z, TL_NS_MS);
		if (!drain_check(z->srv, &got))
			*intact = 0;
	}
	CHECK_EQ(got, total);
	return (n);
}

TEST(zc_tcp_large_buffers_intact_done_once_after_ack)
{
	static struct zcrec recs[4096];
	struct ust_fault_config fc[2];
	struct zrig z;
	uint8_t *buf, *ref;
	size_t total = 3u << 20, sum = 0;
	struct zcrec first;
	ptrdiff_t k;
	int n, i, intact;

	memset(fc, 0, sizeof(fc));
	fc[0].delay_ns = fc[1].delay_ns = 2 * TL_NS_MS;
	zrig_init(&z, fc);
	zrig_tcp(&z);
	buf = malloc(total);
	ref = malloc(total);
	REQUIRE(buf != NULL && ref != NULL);
	for (size_t j = 0; j < total; j++)
		buf[j] = ref[j] = pat(j);
	/* Not complete before the peer acknowledged: the bytes sit in so_snd
	 * (and the zone shows one loan). */
	memset(&first, 0, sizeof(first));
	k = ust_send_zc(z.cli, buf, 20000, 0, zc_done, &first);
	CHECK_EQ(k, 20000);
	CHECK_EQ(first.calls, 0);
	CHECK_EQ(zone_in_use(z.p.a, "zc"), 1);
	zrig_run(&z, 1 * TL_NS_MS); /* sent, not yet acknowledged (2 ms each way) */
	CHECK_EQ(first.calls, 0);
	zrig_run(&z, 300 * TL_NS_MS); /* the last ACK may be a delayed one */
	CHECK_EQ(first.calls, 1);
	CHECK_EQ(first.status, 0);
	CHECK(first.buf == buf && first.len == 20000);
	{
		size_t got = 0;

		CHECK(drain_check(z.srv, &got));
		CHECK_EQ(got, 20000);
	}
	/* Bulk: the whole buffer again, lent as the socket takes it. */
	memset(recs, 0, sizeof(recs));
	n = zc_stream(&z, buf, total, recs, 4096, &intact, 20000);
	CHECK(intact);
	zrig_run(&z, 100 * TL_NS_MS);
	for (i = 0; i < n; i++) {
		CHECK_EQ(recs[i].calls, 1);
		/* Lent (0) or, when the buffer had less room than zc_min, copied. */
		CHECK(recs[i].status == 0 || recs[i].status == UST_ZC_COPIED);
		sum += recs[i].len;
	}
	CHECK_EQ(sum, total);
	CHECK(memcmp(buf, ref, total) == 0); /* nothing wrote into lent bytes */
	CHECK_EQ(zone_in_use(z.p.a, "zc"), 0);
	zrig_fini(&z);
	free(buf);
	free(ref);
}

TEST(zc_below_zc_min_is_copied_before_return)
{
	struct zrig z;
	struct zcrec r;
	int64_t v = -1;
	uint8_t small[1000], in[2000];
	ptrdiff_t k;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	CHECK_EQ(ust_sysctl_get(z.p.a, "kern.ipc.zc_min", &v), 0);
	CHECK_EQ(v, 1024);
	tl_pattern(small, sizeof(small), 7);
	memset(&r, 0, sizeof(r));
	k = ust_send_zc(z.cli, small, sizeof(small), 0, zc_done, &r);
	CHECK_EQ(k, (ptrdiff_t)sizeof(small));
	CHECK_EQ(r.calls, 1); /* before it returned */
	CHECK_EQ(r.status, UST_ZC_COPIED);
	CHECK(r.buf == small && r.len == sizeof(small));
	CHECK_EQ(zone_in_use(z.p.a, "zc"), 0);
	memset(small, 0, sizeof(small)); /* the application's again: no effect */
	zrig_run(&z, 10 * TL_NS_MS);
	CHECK_EQ(ust_recv(z.srv, in, sizeof(in), 0), (ptrdiff_t)sizeof(small));
	tl_pattern(small, sizeof(small), 7);
	CHECK_MEM(in, small, sizeof(small));
	CHECK_EQ(r.calls, 1);
	zrig_run(&z, 300 * TL_NS_MS); /* acknowledged: so_snd is empty */
	/* zc_min 0: even a small send is lent, and completes on the ACK.
	 * (Appended to unacknowledged data with room in its last mbuf, it
	 * would be copied there instead: UST_ZC_COPIED.) */
	CHECK_EQ(ust_sysctl_set(z.p.a, "kern.ipc.zc_min", 0), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(ust_send_zc(z.cli, small, 100, 0, zc_done, &r), 100);
	CHECK_EQ(r.calls, 0);
	zrig_run(&z, 300 * TL_NS_MS);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(ust_recv(z.srv, in, sizeof(in), 0), 100);
	CHECK_MEM(in, small, 100);
	/* Refused sends never complete. */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(ust_send_zc(z.cli, small, 100, 0, NULL, &r), -UST_EINVAL);
	CHECK_EQ(ust_send_zc(z.cli, NULL, 100, 0, zc_done, &r), -UST_EFAULT);
	CHECK_EQ(ust_send_zc(z.cli, small, 100, UST_MSG_OOB, zc_done, &r), -UST_EINVAL);
	CHECK_EQ(ust_send_zc(z.lso, small, 100, 0, zc_done, &r), -UST_ENOTCONN);
	CHECK_EQ(ust_send_zc(NULL, small, 100, 0, zc_done, &r), -UST_EBADF);
	CHECK_EQ(r.calls, 0);
	zrig_fini(&z);
}

/* Fills the connection (b never reads) with lent sends of buf, as far as
 * b's window and a's send buffer take them: recs[0..] of which the last
 * ones stay unacknowledged.  Returns the sends made. */
static int
zc_fill(struct zrig *z, const uint8_t *buf, size_t len, struct zcrec *recs, int max)
{
	size_t off = 0;
	int n = 0, round;
	ptrdiff_t k;

	for (round = 0; round < 50 && n < max && off < len; round++) {
		while (n < max && off < len &&
		    (k = ust_send_zc(z->cli, buf + off, len - off, 0, zc_done, &recs[n])) > 0) {
			off += (size_t)k;
			n++;
		}
		zrig_run(z, 5 * TL_NS_MS);
	}
	return (n);
}

/* Completions: how many ran once with status st, and none twice. */
static int
count_status(const struct zcrec *recs, int n, int st, int *twice)
{
	int i, c = 0;

	for (i = 0; i < n; i++) {
		if (recs[i].calls > 1)
			(*twice)++;
		if (recs[i].calls == 1 && recs[i].status == st)
			c++;
	}
	return (c);
}

static void
zc_end_case(int how)
{
	static uint8_t buf[400000];
	struct zcrec recs[64];
	struct zrig z;
	struct ust_linger l = { 1, 0 };
	int n, i, twice = 0, ok, bad, want;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	tl_pattern(buf, sizeof(buf), 3);
	memset(recs, 0, sizeof(recs));
	n = zc_fill(&z, buf, sizeof(buf), recs, 64);
	REQUIRE(n > 1);
	/* b's window (64 KiB) and a's send buffer are full: the last sends
	 * wait for an ACK that will not come. */
	CHECK_EQ(recs[n - 1].calls, 0);
	CHECK_EQ(zone_in_use(z.p.a, "zc"), n - count_status(recs, n, 0, &twice));
	CHECK_EQ(twice, 0);
	want = -UST_ECONNABORTED;
	switch (how) {
	case 0: /* the peer resets: b closes with linger 0 */
		CHECK_EQ(ust_setsockopt(z.srv, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
		ust_close(z.srv);
		z.srv = NULL;
		zrig_run(&z, 10 * TL_NS_MS);
		want = -UST_ECONNRESET;
		break;
	case 1: /* a aborts: close with linger 0 (RST) */
		CHECK_EQ(ust_setsockopt(z.cli, UST_SOL_SOCKET, UST_SO_LINGER, &l, sizeof(l)), 0);
		ust_close(z.cli);
		z.cli = NULL;
		zrig_run(&z, 10 * TL_NS_MS);
		break;
	default: /* a's stack goes with the sends pending */
		ust_stack_destroy(z.p.a);
		z.p.a = NULL;
		z.cli = NULL;
		break;
	}
	ok = count_status(recs, n, 0, &twice);
	bad = count_status(recs, n, want, &twice);
	CHECK_EQ(twice, 0);
	CHECK(bad >= 1);
	CHECK_EQ(ok + bad, n); /* each exactly once, acknowledged or not */
	for (i = 0; i < ok; i++)
		CHECK_EQ(recs[i].status, 0); /* the acknowledged ones come first */
	if (z.p.a != NULL)
		CHECK_EQ(zone_in_use(z.p.a, "zc"), 0);
	zrig_fini(&z);
}

TEST(zc_reset_completes_econnreset)
{
	zc_end_case(0);
}

TEST(zc_abort_completes_econnaborted)
{
	zc_end_case(1);
}

TEST(zc_stack_destroy_completes_pending)
{
	zc_end_case(2);
}

/* A closed socket with lent data unacknowledged: TCP still delivers it
 * (graceful close), then the sends complete with 0. */
TEST(zc_close_gracefully_completes_after_delivery)
{
	/* More than b's window, less than that and a's send buffer. */
	static uint8_t buf[80000];
	struct zcrec recs[64];
	struct zrig z;
	size_t got = 0;
	int n, i, twice = 0;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = pat(j);
	/* Fixed sizes (no auto-sizing): b takes 32 KiB, a holds 64 KiB. */
	REQUIRE_EQ(tl_setint(z.srv, UST_SOL_SOCKET, UST_SO_RCVBUF, 32768), 0);
	REQUIRE_EQ(tl_setint(z.cli, UST_SOL_SOCKET, UST_SO_SNDBUF, 65536), 0);
	memset(recs, 0, sizeof(recs));
	n = zc_fill(&z, buf, sizeof(buf), recs, 64);
	REQUIRE(n > 0);
	CHECK_EQ(recs[n - 1].calls, 0); /* unacknowledged when closed */
	ust_close(z.cli);
	z.cli = NULL;
	for (i = 0; i < 2000 && got < sizeof(buf); i++) {
		CHECK(drain_check(z.srv, &got));
		zrig_run(&z, 5 * TL_NS_MS);
	}
	zrig_run(&z, 1000 * TL_NS_MS);
	CHECK_EQ(got, sizeof(buf));
	CHECK_EQ(count_status(recs, n, 0, &twice), n);
	CHECK_EQ(twice, 0);
	zrig_fini(&z);
}

TEST(zc_retransmission_after_loss_rereads_lent_bytes)
{
	static struct zcrec recs[8192];
	struct ust_fault_config fc[2];
	struct ust_tcpstat ts;
	struct zrig z;
	size_t total = 2u << 20, sum = 0;
	uint8_t *buf;
	int n, i, intact;

	memset(fc, 0, sizeof(fc));
	fc[0].loss_ppm = 30000; /* 3% of a's segments */
	fc[0].seed = ust_test_seed;
	fc[0].delay_ns = fc[1].delay_ns = TL_NS_MS;
	zrig_init(&z, fc);
	zrig_tcp(&z);
	buf = malloc(total);
	REQUIRE(buf != NULL);
	for (size_t j = 0; j < total; j++)
		buf[j] = pat(j);
	memset(recs, 0, sizeof(recs));
	n = zc_stream(&z, buf, total, recs, 8192, &intact, 60000);
	CHECK(intact);
	zrig_run(&z, 2000 * TL_NS_MS);
	ust_stats_tcp(z.p.a, &ts);
	if (UST_STATS)
		CHECK(ts.tcps_sndrexmitpack > 0); /* the lent bytes were re-read */
	for (i = 0; i < n; i++) {
		CHECK_EQ(recs[i].calls, 1);
		CHECK(recs[i].status == 0 || recs[i].status == UST_ZC_COPIED);
		sum += recs[i].len;
	}
	CHECK_EQ(sum, total);
	for (size_t j = 0; j < total; j++)
		if (buf[j] != pat(j)) {
			CHECK(buf[j] == pat(j));
			break;
		}
	zrig_fini(&z);
	free(buf);
}

/* Walks a received chain against pat from off; returns its length. */
static size_t
chain_check(struct ust_mbuf *m, size_t off, int *intact)
{
	size_t len = 0;

	for (; m != NULL; m = ust_mbuf_next(m)) {
		const uint8_t *p = ust_mbuf_data(m);

		for (size_t i = 0; i < ust_mbuf_len(m); i++)
			if (p[i] != pat(off + len + i))
				*intact = 0;
		len += ust_mbuf_len(m);
	}
	return (len);
}

TEST(recv_mbuf_chains_intact_and_window_reopens)
{
	static uint8_t buf[600000];
	struct zrig z;
	struct ust_mbuf *m;
	size_t sent = 0, got = 0, before;
	int intact = 1, rounds;
	ptrdiff_t k;
	uint64_t rng = ust_test_seed * 2654435761u + 1;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = pat(j);
	/* Fill b's buffer: a's sends stop, the window is shut. */
	for (rounds = 0; rounds < 50; rounds++) {
		while (sent < sizeof(buf) &&
		    (k = ust_send(z.cli, buf + sent, sizeof(buf) - sent, 0)) > 0)
			sent += (size_t)k;
		zrig_run(&z, 5 * TL_NS_MS);
	}
	CHECK(sent < sizeof(buf));
	before = sent;
	/* Take it all out as chains of random sizes, releasing each. */
	while ((k = ust_recv_mbuf(z.srv, &m, 1 + (size_t)((rng >> 33) % 20000), 0)) > 0) {
		rng = rng * 6364136223846793005u + 1442695040888963407u;
		CHECK_EQ(chain_check(m, got, &intact), (size_t)k);
		got += (size_t)k;
		ust_mbuf_release(z.srv, m);
	}
	CHECK_EQ(k, -UST_EAGAIN);
	CHECK(m == NULL);
	CHECK(got > 60000);
	/* The window update went out: a sends more at once (well before a
	 * persist probe). */
	while (sent < sizeof(buf) && (k = ust_send(z.cli, buf + sent, sizeof(buf) - sent, 0)) > 0)
		sent += (size_t)k;
	zrig_run(&z, 5 * TL_NS_MS);
	while (sent < sizeof(buf) && (k = ust_send(z.cli, buf + sent, sizeof(buf) - sent, 0)) > 0)
		sent += (size_t)k;
	CHECK(sent > before);
	/* The rest, streamed through recv_mbuf. */
	for (rounds = 0; rounds < 2000 && got < sizeof(buf); rounds++) {
		while (sent < sizeof(buf) &&
		    (k = ust_send(z.cli, buf + sent, sizeof(buf) - sent, 0)) > 0)
			sent += (size_t)k;
		zrig_run(&z, TL_NS_MS);
		while ((k = ust_recv_mbuf(z.srv, &m, 100000, 0)) > 0) {
			CHECK_EQ(chain_check(m, got, &intact), (size_t)k);
			got += (size_t)k;
			ust_mbuf_release(z.srv, m);
		}
	}
	CHECK_EQ(got, sizeof(buf));
	CHECK(intact);
	CHECK_EQ(SO_HELD(z.srv), 0);
	/* EOF, and the argument checks. */
	ust_close(z.cli);
	z.cli = NULL;
	zrig_run(&z, 10 * TL_NS_MS);
	CHECK_EQ(ust_recv_mbuf(z.srv, &m, 100, 0), 0);
	CHECK_EQ(ust_recv_mbuf(z.srv, &m, 100, UST_MSG_PEEK), -UST_EINVAL);
	CHECK_EQ(ust_recv_mbuf(z.srv, NULL, 100, 0), -UST_EFAULT);
	CHECK_EQ(ust_recv_mbuf(NULL, &m, 100, 0), -UST_EBADF);
	zrig_fini(&z);
}

TEST(recv_mbuf_held_limit_eagain_then_release)
{
	static uint8_t buf[300000];
	struct ust_mbuf *held[256];
	struct zrig z;
	size_t sent = 0, got = 0, inq;
	int nheld = 0, intact = 1, rounds, rcvbuf;
	size_t len = sizeof(rcvbuf);
	ptrdiff_t k;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	for (size_t j = 0; j < sizeof(buf); j++)
		buf[j] = pat(j);
	/* A fixed size (no auto-sizing). */
	REQUIRE_EQ(tl_setint(z.srv, UST_SOL_SOCKET, UST_SO_RCVBUF, 65536), 0);
	REQUIRE_EQ(ust_getsockopt(z.srv, UST_SOL_SOCKET, UST_SO_RCVBUF, &rcvbuf, &len), 0);
	/* Keep every chain: at most a buffer's worth is handed out. */
	for (rounds = 0; rounds < 200; rounds++) {
		while (sent < sizeof(buf) &&
		    (k = ust_send(z.cli, buf + sent, sizeof(buf) - sent, 0)) > 0)
			sent += (size_t)k;
		zrig_run(&z, 2 * TL_NS_MS);
		while (nheld < 256 && (k = ust_recv_mbuf(z.srv, &held[nheld], 7000, 0)) > 0) {
			CHECK_EQ(chain_check(held[nheld], got, &intact), (size_t)k);
			got += (size_t)k;
			nheld++;
		}
		CHECK(got <= (size_t)rcvbuf);
	}
	CHECK_EQ(got, (size_t)rcvbuf);
	CHECK_EQ(SO_HELD(z.srv), (uint32_t)rcvbuf);
	inq = SO_CC(z.srv);
	CHECK(inq > 0);                                                     /* more is queued, */
	CHECK_EQ(ust_recv_mbuf(z.srv, &held[nheld], 7000, 0), -UST_EAGAIN); /* but refused */
	CHECK(UST_EV_IN & SO_EVENTS(z.srv));
	/* One chain back: that much more may be taken. */
	nheld--;
	{
		size_t back = 0;

		for (struct ust_mbuf *m = held[nheld]; m != NULL; m = ust_mbuf_next(m))
			back += ust_mbuf_len(m);
		ust_mbuf_release(z.srv, held[nheld]);
		k = ust_recv_mbuf(z.srv, &held[nheld], 100000, 0);
		CHECK_EQ((size_t)k, back < inq ? back : inq);
		CHECK_EQ(chain_check(held[nheld], got, &intact), (size_t)k);
		got += (size_t)k;
		nheld++;
	}
	CHECK(intact);
	/* Released from a closed socket: freed all the same. */
	ust_close(z.srv);
	z.srv = NULL;
	while (nheld > 0)
		ust_mbuf_release(NULL, held[--nheld]);
	zrig_fini(&z);
}

TEST(sendv_gathers_without_joining)
{
	struct zrig z;
	struct ust_iovec iov[3] = { { "GET / HTTP/1.1\r\n", 16 }, { NULL, 0 }, { "\r\n", 2 } };
	uint8_t body[3000], in[4000];
	ptrdiff_t k;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	tl_pattern(body, sizeof(body), 9);
	iov[1].iov_base = body;
	iov[1].iov_len = sizeof(body);
	CHECK_EQ(ust_sendv(z.cli, iov, 3, 0), 3018);
	zrig_run(&z, 10 * TL_NS_MS);
	k = ust_recv(z.srv, in, sizeof(in), 0);
	CHECK_EQ(k, 3018);
	CHECK_MEM(in, "GET / HTTP/1.1\r\n", 16);
	CHECK_MEM(in + 16, body, sizeof(body));
	CHECK_MEM(in + 3016, "\r\n", 2);
	CHECK_EQ(ust_sendv(z.cli, iov, 0, 0), 0);
	CHECK_EQ(ust_sendv(z.cli, iov, -1, 0), -UST_EINVAL);
	CHECK_EQ(ust_sendv(z.cli, NULL, 1, 0), -UST_EFAULT);
	iov[1].iov_base = NULL;
	CHECK_EQ(ust_sendv(z.cli, iov, 3, 0), -UST_EFAULT);
	CHECK_EQ(ust_sendv(z.lso, iov, 1, 0), -UST_ENOTCONN);
	zrig_fini(&z);
}

TEST(udp_send_zc_sendv_and_recvfrom_mbuf)
{
	/* Fragmented (larger than the MTU) where reassembly is built in. */
	static uint8_t dg[UST_IP_REASS ? 6000 : 1400];
	struct zrig z;
	struct ust_socket *sa, *sb;
	struct ust_sockaddr_in to = tl_sin(test_ip4(2), 7000), me = tl_sin(test_ip4(1), 7001), from;
	ust_socklen_t fromlen = sizeof(from);
	struct ust_iovec iov[2] = { { "head", 4 }, { "tail", 4 } };
	struct ust_mbuf *m;
	struct zcrec r;
	int intact = 1;
	ptrdiff_t k;

	zrig_init(&z, NULL);
	for (size_t j = 0; j < sizeof(dg); j++)
		dg[j] = pat(j);
	REQUIRE_EQ(ust_socket(z.p.a, UST_AF_INET, UST_SOCK_DGRAM, 0, &sa), 0);
	REQUIRE_EQ(ust_socket(z.p.b, UST_AF_INET, UST_SOCK_DGRAM, 0, &sb), 0);
	REQUIRE_EQ(ust_bind(sb, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	REQUIRE_EQ(ust_bind(sa, (const struct ust_sockaddr *)&me, sizeof(me)), 0);
	/* Unconnected: no destination. */
	memset(&r, 0, sizeof(r));
	CHECK_EQ(ust_send_zc(sa, dg, 2000, 0, zc_done, &r), -UST_EDESTADDRREQ);
	REQUIRE_EQ(ust_connect(sa, (const struct ust_sockaddr *)&to, sizeof(to)), 0);
	/* A lent datagram. */
	CHECK_EQ(ust_send_zc(sa, dg, sizeof(dg), 0, zc_done, &r), (ptrdiff_t)sizeof(dg));
	zrig_run(&z, 10 * TL_NS_MS);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.status, 0);
	CHECK(r.buf == dg && r.len == sizeof(dg));
	CHECK_EQ(ust_sendv(sa, iov, 2, 0), 8);
	zrig_run(&z, 10 * TL_NS_MS);
	k = ust_recvfrom_mbuf(sb, &m, 100000, 0, (struct ust_sockaddr *)&from, &fromlen);
	CHECK_EQ(k, (ptrdiff_t)sizeof(dg));
	CHECK_EQ(chain_check(m, 0, &intact), sizeof(dg));
	CHECK(intact);
	CHECK_EQ(fromlen, sizeof(from));
	CHECK_EQ(from.sin_addr, test_ip4(1));
	CHECK_EQ(from.sin_port, tl_hton16(7001));
	ust_mbuf_release(sb, m);
	/* Trimmed to max: the rest of the datagram is discarded. */
	k = ust_recv_mbuf(sb, &m, 6, 0);
	CHECK_EQ(k, 6);
	{
		char out[8];
		size_t off = 0;

		for (struct ust_mbuf *p = m; p != NULL; p = ust_mbuf_next(p)) {
			memcpy(out + off, ust_mbuf_data(p), ust_mbuf_len(p));
			off += ust_mbuf_len(p);
		}
		CHECK_EQ(off, 6);
		CHECK_MEM(out, "headta", 6);
	}
	ust_mbuf_release(sb, m);
	CHECK_EQ(ust_recv_mbuf(sb, &m, 100, 0), -UST_EAGAIN);
	ust_close(sa);
	ust_close(sb);
	zrig_fini(&z);
}

/* A done function that sends the next piece itself (the upcall contract):
 * the sends of a whole transfer driven by their own completions. */
struct zchain {
	struct ust_socket *so;
	const uint8_t *buf;
	size_t total, off;
	int sends, done, bad, idle;
};

static void
zc_chain_done(void *arg, const void *buf, size_t len, int status)
{
	struct zchain *c = arg;
	ptrdiff_t k;

	(void)buf;
	(void)len;
	c->done++;
	if (status != 0 && status != UST_ZC_COPIED)
		c->bad++;
	if (c->off >= c->total)
		return;
	k = ust_send_zc(c->so, c->buf + c->off, c->total - c->off, 0, zc_chain_done, c);
	if (k > 0) {
		c->off += (size_t)k;
		c->sends++;
	} else
		c->idle++; /* the buffer is full: the main loop goes on */
}

TEST(zc_done_may_send_again)
{
	struct zrig z;
	struct zchain c;
	uint8_t *buf;
	size_t got = 0;
	int ms, intact = 1;
	ptrdiff_t k;

	zrig_init(&z, NULL);
	zrig_tcp(&z);
	memset(&c, 0, sizeof(c));
	c.total = 1u << 20;
	buf = malloc(c.total);
	REQUIRE(buf != NULL);
	for (size_t j = 0; j < c.total; j++)
		buf[j] = pat(j);
	c.so = z.cli;
	c.buf = buf;
	for (ms = 0; ms < 5000 && got < c.total; ms++) {
		/* Only when no completion is left to send the next piece. */
		if (c.off < c.total && c.sends == c.done) {
			k = ust_send_zc(z.cli, buf + c.off, c.total - c.off, 0, zc_chain_done, &c);
			if (k > 0) {
				c.off += (size_t)k;
				c.sends++;
			}
		}
		zrig_run(&z, TL_NS_MS);
		if (!drain_check(z.srv, &got))
			intact = 0;
	}
	CHECK_EQ(got, c.total);
	CHECK(intact);
	zrig_run(&z, 300 * TL_NS_MS);
	CHECK_EQ(c.done, c.sends);
	CHECK_EQ(c.bad, 0);
	CHECK(c.sends > 2);
	zrig_fini(&z);
	free(buf);
}
