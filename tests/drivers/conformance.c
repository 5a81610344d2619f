/*
 * conformance.c - the generic driver conformance suite: what every driver
 * must do, run on a link of two ends of the driver under test (its
 * adapter, conformance.h) between two stacks on one virtual clock.
 *
 *  - frames_both_ways: UDP datagrams of every size class cross each way
 *    intact (ARP first, so broadcast works too).
 *  - burst: 64 datagrams sent in one poll (tx_burst sees 32 at once) all
 *    arrive, in order.
 *  - offload_tcp: a TCP transfer with the offloads the driver advertises
 *    (checksum, TSO) and without: every byte arrives, no checksum error
 *    counted, so offload flags were honoured or filled in software.
 *  - detach_no_leak: frames left in flight both ways, then both interfaces
 *    detached: every mbuf of both stacks is back (zone in_use at the
 *    baseline taken before attach).  Every other case checks the same
 *    when it detaches.
 *  - backpressure: with a link that refuses when full, 200 datagrams sent
 *    with the receiver not polling: tx_burst takes fewer, the stack keeps
 *    the rest (no oqdrops), and all 200 arrive in order once it polls.
 *  - zero_copy: a driver that lends receive buffers: data sits in a TCP
 *    receive buffer while lent, arrives intact when read, and every
 *    buffer comes back (free callback) once the socket is closed.
 *  - multicast: the receiving stack joins a link-layer group (its driver's
 *    set_multicast programs the filter, if it has one): a frame to that
 *    group arrives, so do unicast and broadcast (a UDP exchange), a frame
 *    to any group arrives with allmulti, and a group the stack left is
 *    dropped by the stack if the driver passes it.
 */
#include <string.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_osal.h>
#include <ustack/ustack_stats.h>

#include "conformance.h"
#include "net/if_var.h"
#include "test_env.h"

#define PORT 7777
#define NS_MS 1000000ull

struct rig {
	struct ust_vclock *vc;
	struct conf_link l;
	struct ust_stack *st[2];
	struct ust_if *ifp[2];
	uint32_t base[2]; /* mbufs + clusters in use before attach */
	int up;
};

static uint32_t
zones_in_use(struct ust_stack *st)
{
	struct ust_zone_stats zs;
	uint32_t n = 0;
	unsigned i;

	/* The mbuf zones come first (mbuf, cluster, jumbo if any). */
	for (i = 0; i < 3 && ust_stack_get_zone_stats(st, i, &zs) == 0; i++) {
		if (strncmp(zs.name, "mbuf", 4) == 0)
			n += zs.in_use;
	}
	return (n);
}

static int
rig_up(struct rig *r, const struct conf_opts *o)
{
	int i, err;

	memset(r, 0, sizeof(*r));
	r->vc = ust_vclock_create(1000 * NS_MS);
	err = conf_driver.create(&r->l, r->vc, o);
	if (err != 0) {
		fprintf(stderr, "%s: create: %s\n", conf_driver.name, ust_strerror(err));
		ust_vclock_destroy(r->vc);
		return (err);
	}
	for (i = 0; i < 2; i++) {
		r->st[i] = test_stack_new(r->vc, 100 + (uint64_t)i);
		r->base[i] = zones_in_use(r->st[i]);
		err = ust_if_attach(r->st[i], i == 0 ? "c0" : "c1", r->l.ops[i], r->l.softc[i],
		    &r->ifp[i]);
		if (err == 0)
			err = ust_if_addr_add(r->ifp[i], test_ip4(1 + (unsigned)i), 24);
		if (err != 0) {
			fprintf(stderr, "%s: attach: %s\n", conf_driver.name, ust_strerror(err));
			return (err);
		}
	}
	r->up = 1;
	return (0);
}

static void
rig_run(struct rig *r, uint64_t dt)
{
	tl_run(r->vc, r->st, 2, dt);
}

/* Detaches both ends, checks every mbuf is back, frees everything. */
static void
rig_down(struct rig *r)
{
	int i;

	if (!r->up)
		return;
	for (i = 0; i < 2; i++) {
		ust_if_detach(r->ifp[i]);
		if (zones_in_use(r->st[i]) != r->base[i])
			UST_FAIL_AT(__FILE__, __LINE__,
			    "%s: stack %d holds %u mbufs/clusters after detach, %u before attach",
			    conf_driver.name, i, zones_in_use(r->st[i]), r->base[i]);
	}
	conf_driver.destroy(&r->l);
	for (i = 0; i < 2; i++)
		test_stack_free(r->st[i]);
	ust_vclock_destroy(r->vc);
	r->up = 0;
}

static struct ust_socket *
udp_open(struct ust_stack *st, uint16_t port)
{
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in sin = tl_sin(UST_INADDR_ANY, port);
	int rcvbuf = 1 << 20;

	if (ust_socket(st, UST_AF_INET, UST_SOCK_DGRAM, 0, &so) != 0)
		return (NULL);
	if (port != 0 &&
	    (ust_bind(so, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0 ||
	        ust_setsockopt(so, UST_SOL_SOCKET, UST_SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)) {
		ust_close(so);
		return (NULL);
	}
	return (so);
}

static void
fill(uint8_t *b, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Sends n datagrams of the given sizes from side s to the other side and
 * checks they arrive intact and in order.  burst: all sent before any
 * poll. */
static void
udp_exchange(struct rig *r, int s, const size_t *sizes, int n, int burst)
{
	struct ust_socket *tx = udp_open(r->st[s], 0), *rx = udp_open(r->st[1 - s], PORT);
	struct ust_sockaddr_in to = tl_sin(test_ip4(2 - (unsigned)s), PORT);
	static uint8_t out[1500], in[1600];
	int i, got = 0;
	ptrdiff_t k;

	REQUIRE(tx != NULL && rx != NULL);
	for (i = 0; i < n; i++) {
		fill(out, sizes[i], (uint32_t)i);
		k = ust_sendto(tx, out, sizes[i], 0, (const struct ust_sockaddr *)&to, sizeof(to));
		CHECK_EQ(k, (ptrdiff_t)sizes[i]);
		if (!burst)
			rig_run(r, 10 * NS_MS);
	}
	rig_run(r, 100 * NS_MS);
	for (i = 0; i < n; i++) {
		k = ust_recv(rx, in, sizeof(in), 0);
		if (k < 0)
			break;
		got++;
		CHECK_EQ(k, (ptrdiff_t)sizes[i]);
		fill(out, sizes[i], (uint32_t)i);
		CHECK(k == (ptrdiff_t)sizes[i] && memcmp(in, out, sizes[i]) == 0);
	}
	CHECK_EQ(got, n);
	ust_close(tx);
	ust_close(rx);
}

TEST(frames_both_ways)
{
	static const size_t sizes[] = { 0, 1, 18, 100, 512, 1000, 1471, 1472 };
	struct conf_opts o = { 0 };
	struct rig r;

	REQUIRE(rig_up(&r, &o) == 0);
	udp_exchange(&r, 0, sizes, 8, 0);
	udp_exchange(&r, 1, sizes, 8, 0);
	rig_down(&r);
}

TEST(burst)
{
	size_t sizes[64];
	struct conf_opts o = { 0 };
	struct ust_stack_stats s0, s1;
	struct rig r;
	int i;

	for (i = 0; i < 64; i++)
		sizes[i] = 60 + (size_t)i * 8;
	REQUIRE(rig_up(&r, &o) == 0);
	/* Resolve ARP first so that the 64 leave in one flush. */
	udp_exchange(&r, 0, sizes, 1, 0);
	ust_stack_get_stats(r.st[0], &s0);
	udp_exchange(&r, 0, sizes, 64, 1);
	udp_exchange(&r, 1, sizes, 64, 1);
	ust_stack_get_stats(r.st[0], &s1);
	CHECK(s1.tx_frames - s0.tx_frames >= 64);
	rig_down(&r);
}

/* A TCP transfer of len bytes from side 0 to side 1; 0 when every byte
 * arrived intact.  read_late: side 1 reads nothing until the sender has
 * sent all it can (the data sits in the receive buffer), and *lent_peak
 * gets the receiver's lent buffers then. */
static int
tcp_transfer(struct rig *r, size_t len, int read_late, uint64_t *lent_peak)
{
	struct ust_socket *ls = NULL, *cs = NULL, *as = NULL;
	struct ust_sockaddr_in sin = tl_sin(UST_INADDR_ANY, PORT);
	struct ust_sockaddr_in to = tl_sin(test_ip4(2), PORT);
	static uint8_t out[1 << 20], in[65536];
	size_t sent = 0, rcvd = 0;
	int rounds, bad = 0, rc;
	ptrdiff_t k;

	if (len > sizeof(out))
		return (-1);
	fill(out, len, 7);
	if (ust_socket(r->st[1], UST_AF_INET, UST_SOCK_STREAM, 0, &ls) != 0 ||
	    ust_bind(ls, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0 ||
	    ust_listen(ls, 4) != 0)
		return (-2);
	if (ust_socket(r->st[0], UST_AF_INET, UST_SOCK_STREAM, 0, &cs) != 0)
		return (-3);
	rc = ust_connect(cs, (const struct ust_sockaddr *)&to, sizeof(to));
	if (rc != 0 && rc != -UST_EINPROGRESS)
		return (-4);
	rig_run(r, 50 * NS_MS);
	if (ust_accept(ls, &as, NULL, NULL) != 0)
		return (-5);
	for (rounds = 0; rounds < 100000 && rcvd < len; rounds++) {
		while (sent < len && (k = ust_send(cs, out + sent, len - sent, 0)) > 0)
			sent += (size_t)k;
		if (sent == len)
			ust_shutdown(cs, UST_SHUT_WR);
		rig_run(r, 2 * NS_MS);
		if (read_late && lent_peak != NULL && conf_driver.lent != NULL) {
			uint64_t n = conf_driver.lent(&r->l, 1);

			if (n > *lent_peak)
				*lent_peak = n;
		}
		if (read_late && rounds < 20)
			continue;
		while ((k = ust_recv(as, in, sizeof(in), 0)) > 0) {
			if (rcvd + (size_t)k > len || memcmp(in, out + rcvd, (size_t)k) != 0)
				bad = 1;
			rcvd += (size_t)k;
		}
	}
	ust_close(cs);
	ust_close(as);
	ust_close(ls);
	rig_run(r, 300 * NS_MS);
	return (bad || rcvd != len ? -6 : 0);
}

static void
offload_case(uint32_t caps)
{
	struct conf_opts o = { .caps = caps };
	struct ust_tcpstat t1;
	struct ust_ipstat i1;
	struct rig r;

	REQUIRE(rig_up(&r, &o) == 0);
	CHECK_EQ(ust_if_caps(r.ifp[0]), caps);
	CHECK_EQ(tcp_transfer(&r, 300000, 0, NULL), 0);
	ust_stats_tcp(r.st[1], &t1);
	ust_stats_ip(r.st[1], &i1);
	CHECK_EQ(t1.tcps_rcvbadsum, 0);
	CHECK_EQ(i1.ips_badsum, 0);
	rig_down(&r);
}

TEST(offload_tcp)
{
	offload_case(0);
	if (conf_driver.offload_caps & UST_IFCAP_TXCSUM)
		offload_case(conf_driver.offload_caps & ~(uint32_t)UST_IFCAP_TSO4 &
		    ~(uint32_t)UST_IFCAP_LRO);
	if (conf_driver.offload_caps != 0)
		offload_case(conf_driver.offload_caps);
	else
		printf("%s: no offloads to advertise; checked without\n", conf_driver.name);
}

TEST(detach_no_leak)
{
	size_t sizes[40];
	struct conf_opts o = { .caps = conf_driver.offload_caps };
	struct ust_socket *a, *b;
	struct ust_sockaddr_in to1 = tl_sin(test_ip4(2), PORT);
	struct ust_sockaddr_in to0 = tl_sin(test_ip4(1), PORT);
	static uint8_t buf[1400];
	struct rig r;
	int i;

	for (i = 0; i < 40; i++)
		sizes[i] = 1400;
	REQUIRE(rig_up(&r, &o) == 0);
	udp_exchange(&r, 0, sizes, 1, 0);
	udp_exchange(&r, 1, sizes, 1, 0);
	/* Frames in flight both ways: sent by a poll, not yet received. */
	a = udp_open(r.st[0], 0);
	b = udp_open(r.st[1], 0);
	REQUIRE(a != NULL && b != NULL);
	for (i = 0; i < 40; i++) {
		ust_sendto(a, buf, sizeof(buf), 0, (const struct ust_sockaddr *)&to1, sizeof(to1));
		ust_sendto(b, buf, sizeof(buf), 0, (const struct ust_sockaddr *)&to0, sizeof(to0));
	}
	ust_stack_poll(r.st[0]);
	ust_stack_poll(r.st[1]);
	ust_close(a);
	ust_close(b);
	rig_down(&r);
}

TEST(backpressure)
{
	struct conf_opts o = { .tx_slots = 16 };
	struct ust_if_stats is0;
	struct ust_stack_config cfg;
	struct ust_socket *tx, *rx;
	struct ust_sockaddr_in to = tl_sin(test_ip4(2), PORT);
	uint8_t out[200], in[256];
	size_t one = 200;
	struct rig r;
	int i, got = 0, polls;
	ptrdiff_t k;

	if (!conf_driver.backpressure) {
		printf("SKIP %s: models a wire that drops when full, never refuses\n",
		    conf_driver.name);
		return;
	}
	ust_stack_config_init(&cfg);
	REQUIRE(rig_up(&r, &o) == 0);
	udp_exchange(&r, 0, &one, 1, 0); /* ARP */
	tx = udp_open(r.st[0], 0);
	rx = udp_open(r.st[1], PORT);
	REQUIRE(tx != NULL && rx != NULL);
	/* Under the interface queue (ifq_maxlen): the stack must keep them all. */
	REQUIRE(cfg.ifq_maxlen >= 200);
	for (i = 0; i < 200; i++) {
		fill(out, sizeof(out), (uint32_t)i);
		REQUIRE_EQ(ust_sendto(tx, out, sizeof(out), 0, (const struct ust_sockaddr *)&to,
		               sizeof(to)),
		    (ptrdiff_t)sizeof(out));
	}
	/* The sender alone: the link fills and refuses. */
	ust_stack_poll(r.st[0]);
	ust_if_get_stats(r.ifp[0], &is0);
	CHECK(is0.opackets < 200);
	CHECK_EQ(is0.oqdrops, 0);
	/* The stack has frames to retry: its deadline is now. */
	CHECK(ust_stack_next_deadline(r.st[0]) <= ust_vclock_now(r.vc));
	/* Poll by hand in 100 us steps: the stack's deadline stays "now"
	 * while the driver refuses, which would make rig_run crawl. */
	for (polls = 0; polls < 100000 && got < 200; polls++) {
		ust_stack_poll(r.st[0]);
		ust_stack_poll(r.st[1]);
		ust_vclock_advance(r.vc, NS_MS / 10);
		while ((k = ust_recv(rx, in, sizeof(in), 0)) > 0) {
			fill(out, sizeof(out), (uint32_t)got);
			CHECK(k == (ptrdiff_t)sizeof(out) && memcmp(in, out, sizeof(out)) == 0);
			got++;
		}
	}
	CHECK_EQ(got, 200);
	ust_if_get_stats(r.ifp[0], &is0);
	CHECK_EQ(is0.oqdrops, 0);
	ust_close(tx);
	ust_close(rx);
	rig_down(&r);
}

TEST(zero_copy)
{
	struct conf_opts o = { 0 };
	uint64_t peak = 0;
	struct rig r;

	if (conf_driver.lent == NULL) {
		printf("SKIP %s: copies received frames, lends none\n", conf_driver.name);
		return;
	}
	REQUIRE(rig_up(&r, &o) == 0);
	CHECK_EQ(tcp_transfer(&r, 200000, 1, &peak), 0);
	/* Data sat in the receive buffer in lent buffers, and every one came
	 * back once it was read and the socket closed. */
	CHECK(peak > 0);
	CHECK_EQ(conf_driver.lent(&r.l, 1), 0);
	CHECK_EQ(conf_driver.lent(&r.l, 0), 0);
	rig_down(&r);
}

/* Sends a 60-byte frame of an unused ethertype from side 0's driver to
 * group mac, bypassing side 0's stack; then both stacks poll. */
static void
send_group(struct rig *r, const uint8_t *mac)
{
	uint8_t f[60];
	struct ust_mbuf *m;

	memset(f, 0, sizeof(f));
	memcpy(f, mac, 6);
	r->l.ops[0]->get_mac(r->l.softc[0], f + 6);
	f[12] = 0x88; /* IEEE 802 local experimental ethertype */
	f[13] = 0xb5;
	m = ust_mbuf_from_buf(r->ifp[0], f, sizeof(f));
	REQUIRE(m != NULL);
	if (r->l.ops[0]->tx_burst(r->l.softc[0], &m, 1) != 1)
		ust_mbuf_free(m);
	rig_run(r, 20 * NS_MS);
}

static uint64_t
imcasts(struct rig *r)
{
	struct ust_if_stats s;

	ust_if_get_stats(r->ifp[1], &s);
	return (s.imcasts);
}

TEST(multicast)
{
	/* IPv4 multicast MACs (RFC 1112 6.4): groups no stack joins itself. */
	static const uint8_t g1[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x42 };
	static const uint8_t g2[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x43 };
	static const size_t sizes[] = { 0, 1000 };
	struct conf_opts o = { 0 };
	struct ifnet *ifp;
	struct rig r;
	uint64_t n0;

	REQUIRE(rig_up(&r, &o) == 0);
	ifp = IFP_FROM_UST(r.ifp[1]);
	REQUIRE_EQ(if_addmulti(ifp, g1), 0);
	n0 = imcasts(&r);
	send_group(&r, g1);
	CHECK_EQ(imcasts(&r), n0 + 1);
	/* The filter still takes unicast and broadcast (ARP). */
	udp_exchange(&r, 0, sizes, 2, 0);
	udp_exchange(&r, 1, sizes, 2, 0);
	/* A group not joined: the stack drops it whatever the driver does. */
	n0 = imcasts(&r);
	send_group(&r, g2);
	CHECK_EQ(imcasts(&r), n0);
	/* Every group with allmulti. */
	if_allmulti(ifp, 1);
	send_group(&r, g2);
	CHECK_EQ(imcasts(&r), n0 + 1);
	if_allmulti(ifp, 0);
	/* Left: no longer counted. */
	REQUIRE_EQ(if_delmulti(ifp, g1), 0);
	n0 = imcasts(&r);
	send_group(&r, g1);
	CHECK_EQ(imcasts(&r), n0);
	/* Joined again after leaving. */
	REQUIRE_EQ(if_addmulti(ifp, g1), 0);
	send_group(&r, g1);
	CHECK_EQ(imcasts(&r), n0 + 1);
	REQUIRE_EQ(if_delmulti(ifp, g1), 0);
	rig_down(&r);
}
