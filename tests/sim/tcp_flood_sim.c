/*
 * tcp_flood_sim.c - a SYN flood against a listener while legitimate
 * clients keep connecting (issue 9, item 3).
 *
 * Stack B (198.18.0.2) listens on port 5001 behind a flood driver: a
 * wrapper around its pipe end whose rx_burst hands up what the pipe
 * delivers and then fills the rest of the burst with SYNs crafted in
 * place (random seeded source addresses in 10.0.0.0/8, ports and ISNs,
 * MSS option, valid checksums), at --rate SYNs per virtual millisecond
 * until --syns are sent.  B routes those sources through a gateway that
 * does not exist (198.18.0.254, static ARP), whose frames the wrapper's
 * tx_burst counts and frees: the SYN-ACKs go nowhere, as for spoofed
 * sources.  Stack A (198.18.0.1) runs legitimate clients over the pipe
 * (1 ms each way): each connects, sends a seeded message, reads B's echo
 * back byte for byte and closes.
 *
 * Asserted: the syncache fills to net.inet.tcp.syncache.cachelimit and
 * SYN cookies take over (tcps_sc_sendcookie rises, some clients complete
 * with a cookie: tcps_sc_recvcookie); every client completes with its
 * bytes intact; B's memory peak stays within its configured mem_limit
 * and no allocation is refused; after the flood the syncache entries time
 * out (the syncache zone is empty again), every zone's in_use is back to
 * its baseline and B's memory is the baseline plus only the slabs its
 * zones keep cached (osal_zone.c keeps slabs as the high-water mark).
 * Prints the SYNs per second of wall time B processed.
 *
 *   tcp_flood_sim [--syns N] [--rate R] [--clients C] [--seed S] [-v]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include "sim_util.h"

#define SIM_T0 (1000 * NS_MS)
#define SIM_PORT 5001
#define MSG_LEN 3000
#define MAX_CONC 8
#define MAX_SRV 64
#define MEM_LIMIT (8u << 20) /* B peaks near 5.3 MB: 15360 entries, mbufs */
#define SYN_FRAME 58         /* Ethernet 14 + IP 20 + TCP 20 + MSS option 4 */

static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0xfe };

/* The flood driver: the pipe end plus crafted SYNs. */
struct flood {
	void *pipe;
	const struct ust_driver_ops *pops;
	uint8_t mac[6]; /* B's, the SYNs' destination */
	uint64_t rng;
	uint64_t left;     /* SYNs still to send */
	uint64_t quota;    /* SYNs allowed this step */
	uint64_t injected; /* SYNs handed to the stack */
	uint64_t nombuf;   /* SYNs not built: no mbuf */
	uint64_t blackholed;
};

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* RFC 1071 sum of 16-bit words (len even), not complemented. */
static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return (sum);
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
build_syn(struct flood *f, uint8_t *fr)
{
	uint64_t r = tl_mix64(&f->rng);
	uint32_t src = 0x0a000000u | (uint32_t)(r & 0xffffff), sum;
	uint8_t *ip = fr + 14, *th = ip + 20;

	if ((src & 0xffffff) == 0 || (src & 0xffffff) == 0xffffff)
		src ^= 1;
	memset(fr, 0, SYN_FRAME);
	memcpy(fr, f->mac, 6);
	memcpy(fr + 6, gw_mac, 6);
	fr[12] = 0x08;
	ip[0] = 0x45;
	put16(ip + 2, 44);
	put16(ip + 4, (uint32_t)(r >> 24));
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, 0xc6120002u);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(th, 1024 + (uint32_t)((r >> 24) % 64000));
	put16(th + 2, SIM_PORT);
	put32(th + 4, (uint32_t)(r >> 32));
	th[12] = 6 << 4;
	th[13] = 0x02; /* SYN */
	put16(th + 14, 65535);
	th[20] = 2; /* MSS 1460 */
	th[21] = 4;
	put16(th + 22, 1460);
	/* RFC 9293 3.1: the pseudo-header. */
	sum = sum16(ip + 12, 8, 6 + 24);
	put16(th + 16, fold(sum16(th, 24, sum)));
}

static int
flood_rx(void *sc, struct ust_if *ifp, struct ust_mbuf **pkts, int max)
{
	struct flood *f = sc;
	uint8_t fr[SYN_FRAME];
	int n = f->pops->rx_burst(f->pipe, ifp, pkts, max);

	while (n < max && f->left > 0 && f->quota > 0) {
		struct ust_mbuf *m;

		build_syn(f, fr);
		m = ust_mbuf_from_buf(ifp, fr, sizeof(fr));
		if (m == NULL) {
			f->nombuf++;
			break;
		}
		pkts[n++] = m;
		f->left--;
		f->quota--;
		f->injected++;
	}
	return (n);
}

/* Frames for the fake gateway (SYN-ACKs to spoofed sources) vanish. */
static int
flood_tx(void *sc, struct ust_mbuf **pkts, int n)
{
	struct flood *f = sc;
	int i = 0;

	while (i < n) {
		int j = i, took;

		if (memcmp(ust_mbuf_data(pkts[i]), gw_mac, 6) == 0) {
			ust_mbuf_free(pkts[i++]);
			f->blackholed++;
			continue;
		}
		while (j < n && memcmp(ust_mbuf_data(pkts[j]), gw_mac, 6) != 0)
			j++;
		took = f->pops->tx_burst(f->pipe, pkts + i, j - i);
		if (took < j - i)
			return (i + took); /* the pipe is full: the rest stays */
		i = j;
	}
	return (n);
}

static void
flood_mac(void *sc, uint8_t mac[6])
{
	struct flood *f = sc;

	f->pops->get_mac(f->pipe, mac);
}

static uint32_t
flood_mtu(void *sc)
{
	struct flood *f = sc;

	return (f->pops->get_mtu(f->pipe));
}

static uint64_t
flood_deadline(void *sc)
{
	struct flood *f = sc;

	return (f->pops->next_deadline != NULL ? f->pops->next_deadline(f->pipe) : UINT64_MAX);
}

static void
flood_detach(void *sc)
{
	struct flood *f = sc;

	if (f->pops->detach != NULL)
		f->pops->detach(f->pipe);
}

static const struct ust_driver_ops flood_ops = {
	.name = "flood",
	.rx_burst = flood_rx,
	.tx_burst = flood_tx,
	.get_mac = flood_mac,
	.get_mtu = flood_mtu,
	.next_deadline = flood_deadline,
	.detach = flood_detach,
};

struct client {
	struct ust_socket *so;
	uint64_t gen;
	uint8_t msg[MSG_LEN];
	size_t sent, got;
};

struct run {
	uint64_t seed, syns, rate;
	unsigned nclients, started, done;
	int verbose, failed;
	struct tl_pair net; /* B's end of the pipe behind the flood driver */
	struct ust_socket *lso;
	struct flood fl;
	struct client cl[MAX_CONC];
	struct ust_socket *srv[MAX_SRV];
};

#define FAIL(r, ...)                                                             \
	do {                                                                     \
		fprintf(stderr, "tcp_flood_sim: seed %" PRIu64 ": ", (r)->seed); \
		fprintf(stderr, __VA_ARGS__);                                    \
		fprintf(stderr, "\n");                                           \
		(r)->failed = 1;                                                 \
	} while (0)

static struct ust_stack *
stack_new(struct run *r, uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;

	tl_stack_config(&cfg, r->net.vc, seed);
	cfg.mem_limit = MEM_LIMIT;
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	ust_sysctl_set(st, "net.inet.tcp.msl", 2000);
	return (st);
}

static int
setup(struct run *r)
{
	struct ust_pipe_config pc;
	struct ust_sockaddr_in sin = tl_sin(tl_ip4addr(198, 18, 0, 2), SIM_PORT);

	r->net.vc = ust_vclock_create(SIM_T0);
	r->net.a = stack_new(r, r->seed * 2 + 1);
	r->net.b = stack_new(r, r->seed * 2 + 2);
	if (r->net.vc == NULL || r->net.a == NULL || r->net.b == NULL)
		return (-1);
	ust_pipe_config_init(&pc);
	pc.clock = ust_vclock_clock(r->net.vc);
	pc.fault[0].delay_ns = pc.fault[1].delay_ns = NS_MS;
	if (ust_pipe_create(&pc, &r->net.p) != 0)
		return (-1);
	r->fl.pipe = ust_pipe_end(r->net.p, UST_PIPE_B);
	r->fl.pops = ust_pipe_ops();
	r->fl.pops->get_mac(r->fl.pipe, r->fl.mac);
	r->fl.rng = r->seed ^ 0x5f10adull;
	r->fl.left = r->syns;
	if (ust_if_attach(r->net.a, "p0", ust_pipe_ops(), ust_pipe_end(r->net.p, UST_PIPE_A),
	        &r->net.ifa) != 0 ||
	    ust_if_attach(r->net.b, "p0", &flood_ops, &r->fl, &r->net.ifb) != 0 ||
	    ust_if_addr_add(r->net.ifa, tl_ip4addr(198, 18, 0, 1), 24) != 0 ||
	    ust_if_addr_add(r->net.ifb, tl_ip4addr(198, 18, 0, 2), 24) != 0 ||
	    ust_arp_add_static(r->net.ifb, tl_ip4addr(198, 18, 0, 254), gw_mac) != 0 ||
	    ust_route_add(r->net.b, 0, 0, tl_ip4addr(198, 18, 0, 254), r->net.ifb) != 0)
		return (-2);
	if (ust_socket(r->net.b, UST_AF_INET, UST_SOCK_STREAM, 0, &r->lso) != 0 ||
	    ust_bind(r->lso, (const struct ust_sockaddr *)&sin, sizeof(sin)) != 0 ||
	    ust_listen(r->lso, 128) != 0)
		return (-3);
	return (0);
}

static void
client_start(struct run *r, struct client *c)
{
	struct ust_sockaddr_in sin = tl_sin(tl_ip4addr(198, 18, 0, 2), SIM_PORT);
	size_t i;
	int e;

	memset(c, 0, sizeof(*c));
	c->gen = r->seed * 1000003u + r->started;
	for (i = 0; i < MSG_LEN; i++)
		c->msg[i] = (uint8_t)tl_mix64(&c->gen);
	if (ust_socket(r->net.a, UST_AF_INET, UST_SOCK_STREAM, 0, &c->so) != 0) {
		FAIL(r, "client %u: no socket", r->started);
		return;
	}
	e = ust_connect(c->so, (const struct ust_sockaddr *)&sin, sizeof(sin));
	if (e != 0 && e != -UST_EINPROGRESS)
		FAIL(r, "client %u: connect: %s", r->started, ust_strerror(e));
	r->started++;
}

/* Advances one client; 1 when it finished (echo verified, closed). */
static int
client_step(struct run *r, struct client *c)
{
	uint8_t buf[MSG_LEN];
	ptrdiff_t n = -UST_EAGAIN;

	if (c->sent < MSG_LEN) {
		n = ust_send(c->so, c->msg + c->sent, MSG_LEN - c->sent, 0);
		if (n > 0)
			c->sent += (size_t)n;
		else if (n != -UST_EAGAIN && n != -UST_ENOTCONN) {
			FAIL(r, "client send: %s", ust_strerror((int)n));
			return (-1);
		}
	}
	while (c->got < MSG_LEN && (n = ust_recv(c->so, buf, MSG_LEN - c->got, 0)) > 0) {
		if (memcmp(buf, c->msg + c->got, (size_t)n) != 0) {
			FAIL(r, "client: echo differs at byte %zu", c->got);
			return (-1);
		}
		c->got += (size_t)n;
	}
	if (c->got < MSG_LEN) {
		if (n == 0 || (n < 0 && n != -UST_EAGAIN && n != -UST_ENOTCONN)) {
			FAIL(r, "client recv after %zu bytes: %s", c->got,
			    n == 0 ? "EOF" : ust_strerror((int)n));
			return (-1);
		}
		return (0);
	}
	ust_close(c->so);
	c->so = NULL;
	return (1);
}

/* The echo server: accept, echo what arrives, close on EOF. */
static void
server_step(struct run *r)
{
	struct ust_socket *so;
	uint8_t buf[MSG_LEN];
	ptrdiff_t n;
	int i;

	while (ust_accept(r->lso, &so, NULL, NULL) == 0) {
		for (i = 0; i < MAX_SRV && r->srv[i] != NULL; i++)
			continue;
		if (i == MAX_SRV) {
			FAIL(r, "more than %d server sockets", MAX_SRV);
			ust_close(so);
			continue;
		}
		r->srv[i] = so;
	}
	for (i = 0; i < MAX_SRV; i++) {
		if (r->srv[i] == NULL)
			continue;
		/* The echo fits the send buffer: MSG_LEN is small. */
		while ((n = ust_recv(r->srv[i], buf, sizeof(buf), 0)) > 0)
			if (ust_send(r->srv[i], buf, (size_t)n, 0) != n)
				FAIL(r, "server: echo of %td bytes not taken", n);
		if (n == 0 || (n < 0 && n != -UST_EAGAIN)) {
			ust_close(r->srv[i]);
			r->srv[i] = NULL;
		}
	}
}

static void
poll_all(struct run *r)
{
	int n, i;

	do {
		n = ust_stack_poll(r->net.b) + ust_stack_poll(r->net.a);
		server_step(r);
		for (i = 0; i < MAX_CONC; i++) {
			if (r->cl[i].so == NULL)
				continue;
			if (client_step(r, &r->cl[i]) != 0) {
				if (r->cl[i].so != NULL) {
					ust_close(r->cl[i].so);
					r->cl[i].so = NULL;
				} else
					r->done++;
				n++;
			}
		}
	} while (n > 0 && !r->failed);
}

struct zsnap {
	unsigned n;
	struct ust_zone_stats z[32];
};

static void
zsnap(struct ust_stack *st, struct zsnap *s)
{
	for (s->n = 0; s->n < 32 && ust_stack_get_zone_stats(st, s->n, &s->z[s->n]) == 0; s->n++)
		continue;
}

static const struct ust_zone_stats *
zfind(const struct zsnap *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->z[i].name, name) == 0)
			return (&s->z[i]);
	return (NULL);
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* The checks after the drain: baseline zones and memory. */
static void
check_baseline(struct run *r, const struct ust_mem *m0, const struct zsnap *z0)
{
	struct ust_mem m1;
	struct zsnap z1;
	size_t lo = 0, hi = 0;
	unsigned i;

	ust_stack_get_mem(r->net.b, &m1);
	zsnap(r->net.b, &z1);
	if (z1.n != z0->n)
		FAIL(r, "zones: %u before, %u after", z0->n, z1.n);
	for (i = 0; i < z0->n && i < z1.n; i++) {
		uint64_t before = (uint64_t)z0->z[i].in_use + z0->z[i].cached;
		uint64_t after = (uint64_t)z1.z[i].in_use + z1.z[i].cached;

		if (z1.z[i].in_use != z0->z[i].in_use)
			FAIL(r, "zone %s: %u in use, %u at the baseline", z1.z[i].name,
			    z1.z[i].in_use, z0->z[i].in_use);
		/* Cached slabs: size per item plus at most a 16-byte slab
		 * header per item (a slab holds at least one). */
		lo += (size_t)(after - before) * z1.z[i].size;
		hi += (size_t)(after - before) * (z1.z[i].size + 16);
	}
	if (m1.in_use < m0->in_use + lo || m1.in_use > m0->in_use + hi)
		FAIL(r, "memory in use %zu, baseline %zu + cached slabs %zu..%zu", m1.in_use,
		    m0->in_use, lo, hi);
	if (r->verbose || r->failed)
		printf("memory: baseline %zu, peak %zu (limit %zu), after %zu (zone caches "
		       "%zu..%zu)\n",
		    m0->in_use, m1.peak, m1.limit, m1.in_use, lo, hi);
}

static void
run(struct run *r)
{
	struct ust_tcpstat ts;
	struct ust_mem m0, m1;
	struct zsnap z0, z1;
	const struct ust_zone_stats *sz;
	int64_t cachelimit = 0;
	uint64_t deadline, step = 0;
	double t0, t1;
	unsigned i;
	int e;

	if ((e = setup(r)) != 0) {
		FAIL(r, "setup failed (%d)", e);
		return;
	}
	ust_sysctl_get(r->net.b, "net.inet.tcp.syncache.cachelimit", &cachelimit);
	/* The baseline: both stacks idle (announcements sent). */
	poll_all(r);
	ust_stack_get_mem(r->net.b, &m0);
	zsnap(r->net.b, &z0);
	t0 = wall();
	/* The flood and the clients, 1 ms of virtual time a step. */
	while (!r->failed && (r->fl.left > 0 || r->done < r->nclients)) {
		r->fl.quota = r->rate;
		for (i = 0; i < MAX_CONC && r->started < r->nclients; i++)
			if (r->cl[i].so == NULL && (step % 2 == 0))
				client_start(r, &r->cl[i]);
		poll_all(r);
		ust_vclock_advance(r->net.vc, NS_MS);
		if (++step > 600000) {
			FAIL(r,
			    "not done after %" PRIu64 " steps: %" PRIu64 " SYNs left, %u of %u "
			    "clients done",
			    step, r->fl.left, r->done, r->nclients);
			break;
		}
	}
	t1 = wall();
	ust_stats_tcp(r->net.b, &ts);
	zsnap(r->net.b, &z1);
	sz = zfind(&z1, "syncache");
	printf("flood: %" PRIu64 " SYNs in %.2f s wall (%.0f SYNs/s, with %u clients), %" PRIu64
	       " virtual ms; syncache peak %u of %" PRId64 ", sc_added %" PRIu64
	       ", sc_sendcookie %" PRIu64 ", sc_recvcookie %" PRIu64 ", sc_completed %" PRIu64
	       ", SYN-ACKs blackholed %" PRIu64 "\n",
	    r->fl.injected, t1 - t0, (double)r->fl.injected / (t1 - t0), r->done, step,
	    sz != NULL ? sz->peak : 0, cachelimit, ts.tcps_sc_added, ts.tcps_sc_sendcookie,
	    ts.tcps_sc_recvcookie, ts.tcps_sc_completed, r->fl.blackholed);
	if (r->failed)
		return;
	if (r->fl.injected != r->syns || r->fl.nombuf != 0)
		FAIL(r, "injected %" PRIu64 " of %" PRIu64 " SYNs (%" PRIu64 " without mbuf)",
		    r->fl.injected, r->syns, r->fl.nombuf);
	if (sz == NULL || (int64_t)sz->peak != cachelimit)
		FAIL(r, "the syncache never filled (peak %u of %" PRId64 ")", sz ? sz->peak : 0,
		    cachelimit);
	if (ts.tcps_sc_sendcookie == 0 || ts.tcps_sc_recvcookie == 0)
		FAIL(r, "cookies: %" PRIu64 " sent, %" PRIu64 " valid received",
		    ts.tcps_sc_sendcookie, ts.tcps_sc_recvcookie);
	if (ts.tcps_sc_added + ts.tcps_sc_sendcookie < r->syns)
		FAIL(r, "%" PRIu64 " SYNs neither cached nor answered with a cookie",
		    r->syns - ts.tcps_sc_added - ts.tcps_sc_sendcookie);
	if (r->done != r->nclients)
		FAIL(r, "%u of %u clients completed", r->done, r->nclients);
	/* The drain: the syncache times out, TIME_WAIT ends. */
	for (i = 0; i < 100000 && !r->failed; i++) {
		poll_all(r);
		deadline = tl_pair_next_deadline(&r->net);
		if (deadline == UINT64_MAX || deadline > ust_vclock_now(r->net.vc) + 600 * NS_S)
			break;
		if (deadline > ust_vclock_now(r->net.vc))
			ust_vclock_set(r->net.vc, deadline);
	}
	zsnap(r->net.b, &z1);
	sz = zfind(&z1, "syncache");
	if (sz == NULL || sz->in_use != 0)
		FAIL(r, "syncache: %u entries left after the drain", sz ? sz->in_use : 0);
	ust_stack_get_mem(r->net.b, &m1);
	if (m1.peak > m1.limit || m1.failures != 0)
		FAIL(r, "memory peak %zu of limit %zu, %" PRIu64 " allocations refused", m1.peak,
		    m1.limit, m1.failures);
	ust_stats_tcp(r->net.b, &ts);
	if (r->verbose)
		printf("drain: sc_stale %" PRIu64 ", sc_retransmitted %" PRIu64 "\n",
		    ts.tcps_sc_stale, ts.tcps_sc_retransmitted);
	check_baseline(r, &m0, &z0);
}

static void
teardown(struct run *r)
{
	unsigned i;

	for (i = 0; i < MAX_CONC; i++)
		if (r->cl[i].so != NULL)
			ust_close(r->cl[i].so);
	for (i = 0; i < MAX_SRV; i++)
		if (r->srv[i] != NULL)
			ust_close(r->srv[i]);
	if (r->lso != NULL)
		ust_close(r->lso);
	tl_pair_close(&r->net);
}

int
main(int argc, char **argv)
{
	static struct run r;
	int i;

	r.seed = 1;
	r.syns = 1000000;
	r.rate = 5000;
	r.nclients = 200;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--syns") == 0 && i + 1 < argc)
			r.syns = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			r.rate = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			r.nclients = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			r.seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "-v") == 0)
			r.verbose = 1;
		else {
			fprintf(stderr,
			    "usage: tcp_flood_sim [--syns N] [--rate R] [--clients C] [--seed S] "
			    "[-v]\n");
			return (2);
		}
	}
	if (r.rate == 0)
		r.rate = 1;
	run(&r);
	teardown(&r);
	if (r.failed) {
		fprintf(stderr,
		    "replay: tcp_flood_sim --syns %" PRIu64 " --rate %" PRIu64
		    " --clients %u --seed %" PRIu64 " -v\n",
		    r.syns, r.rate, r.nclients, r.seed);
		return (1);
	}
	printf("tcp_flood_sim: ok\n");
	return (0);
}
