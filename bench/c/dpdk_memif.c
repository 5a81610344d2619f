/*
 * dpdk_memif.c - one end of a two-process benchmark over DPDK's net_memif
 * (bench/b_dpdk.py runs a server and a client; issue 15 item 4).
 *
 * Each process brings up its own EAL (--no-huge -m 256 --no-shconf
 * --no-pci, a --file-prefix of its own, -l CPU: the EAL pins the process's
 * main thread there, so two processes on one CPU or on two is just the
 * lcore) and creates net_memif0 on a socket file (socket-abstract=no; the
 * server removes a stale file first).  Everything busy-polls.
 *
 *   --work bulk:     the client sends --bytes of the bench_pattern.h stream
 *                    on one connection, the server checks every byte and
 *                    reports the throughput from its accept to EOF;
 *   --work pingpong, --work crr:  rr_ustack_core.h's client and echo
 *                    server, the same socket work as rr_ustack over the pipe;
 *   --work fwd:      the raw ceiling, no stack: the server is a minimal
 *                    forwarder (rx_burst, then tx_burst of the same mbufs
 *                    back), the client sends --size-byte frames for
 *                    --seconds keeping a window in flight and counts what
 *                    comes back.
 *
 * The server prints {"event": "ready"} when it serves; the client (and the
 * bulk server) print one JSON line of results.  A server of pingpong, crr
 * or fwd runs until SIGTERM or SIGINT.  --yield gives the CPU away after
 * an idle poll (two processes on one CPU).
 */
#define _GNU_SOURCE /* sched_yield, CPU sets (rr_common.h) */

#include "rr_ustack_core.h"

#include <signal.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <ustack/ustack_dpdk.h>

#include "bench_pattern.h"

#define BULK_PORT 5201
#define CHUNK (256u << 10)
#define BURST 32
#define TIMEOUT_S 300.0

static volatile sig_atomic_t stopping;

struct opts {
	const char *role, *sock, *prefix, *work;
	int lcore, yield;
	uint64_t bytes;
	long count;
	uint32_t size;
	double seconds;
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dpdk_memif --role server|client --sock PATH --work "
	    "bulk|pingpong|crr|fwd\n"
	    "         [--prefix P] [--lcore N] [--yield] [--bytes N] [--count N]\n"
	    "         [--size B] [--seconds S]\n");
}

static int
parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->prefix = "ustmemif";
	o->bytes = 1ull << 30;
	o->count = 10000;
	o->size = 60;
	o->seconds = 3.0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--yield") == 0) {
			o->yield = 1;
			continue;
		}
		if (v == NULL)
			return (-1);
		i++;
		if (strcmp(a, "--role") == 0)
			o->role = v;
		else if (strcmp(a, "--sock") == 0)
			o->sock = v;
		else if (strcmp(a, "--prefix") == 0)
			o->prefix = v;
		else if (strcmp(a, "--work") == 0)
			o->work = v;
		else if (strcmp(a, "--lcore") == 0)
			o->lcore = atoi(v);
		else if (strcmp(a, "--bytes") == 0)
			o->bytes = parse_size(v);
		else if (strcmp(a, "--count") == 0)
			o->count = atol(v);
		else if (strcmp(a, "--size") == 0)
			o->size = (uint32_t)atoi(v);
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = atof(v);
		else
			return (-1);
	}
	if (o->role == NULL || o->sock == NULL || o->work == NULL ||
	    (strcmp(o->role, "server") != 0 && strcmp(o->role, "client") != 0) || o->count <= 0 ||
	    o->size < 60 || o->size > 1514 || o->bytes == 0)
		return (-1);
	return (0);
}

static int
is_server(const struct opts *o)
{
	return (strcmp(o->role, "server") == 0);
}

/* EAL and the memif vdev; the port id. */
static int
memif_up(const struct opts *o, uint16_t *port)
{
	char eal[512], args[512];
	int err;

	if (is_server(o))
		unlink(o->sock); /* a stale socket file blocks the next server */
	snprintf(eal, sizeof(eal),
	    "--no-huge -m 256 --no-shconf --no-pci --file-prefix %s -l %d --log-level=4", o->prefix,
	    o->lcore);
	snprintf(args, sizeof(args), "role=%s,id=0,socket=%s,socket-abstract=no", o->role, o->sock);
	if ((err = ust_dpdk_eal_init(eal)) != 0 && err != -UST_EALREADY) {
		fprintf(stderr, "dpdk_memif: EAL: %s\n", ust_strerror(err));
		return (err);
	}
	if ((err = ust_dpdk_vdev_create("net_memif0", args, port)) != 0)
		fprintf(stderr, "dpdk_memif: net_memif0: %s\n", ust_strerror(err));
	return (err);
}

static void
idle(const struct opts *o)
{
	if (o->yield)
		sched_yield();
}

/* ---- the raw ceiling: a forwarder and a generator, no stack ---------- */

static int
raw_port_start(uint16_t port, struct rte_mempool **pool)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	*pool = rte_pktmbuf_pool_create("fwd", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	    (int)rte_socket_id());
	if (*pool == NULL || rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port), NULL,
	        *pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port), NULL) !=
	        0 ||
	    rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "dpdk_memif: raw port setup failed\n");
		return (-1);
	}
	return (0);
}

static int
raw_link_up(uint16_t port)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	return (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status);
}

static void
raw_forward(const struct opts *o, uint16_t port)
{
	struct rte_mbuf *m[BURST];

	while (!stopping) {
		uint16_t n = rte_eth_rx_burst(port, 0, m, BURST), sent;

		if (n == 0) {
			idle(o);
			continue;
		}
		sent = rte_eth_tx_burst(port, 0, m, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
}

static int
raw_generate(const struct opts *o, uint16_t port, struct rte_mempool *pool)
{
	/* Frames in flight at most: enough to keep the forwarder busy, few
	 * enough that neither ring overflows (memif rings of 1024). */
	const uint64_t window = 512;
	uint64_t sent = 0, back = 0, t0 = 0, t1;
	struct rte_mbuf *m[BURST];
	double start = now_s();

	while (!raw_link_up(port)) {
		if (now_s() - start > 10) {
			fprintf(stderr, "dpdk_memif: memif link never came up\n");
			return (1);
		}
		usleep(1000);
	}
	t1 = rr_now_ns();
	for (uint64_t end = 0; end == 0 || rr_now_ns() < end;) {
		uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);

		if (n > 0) {
			if (t0 == 0) { /* the clock starts with the first frame back */
				t0 = rr_now_ns();
				end = t0 + (uint64_t)(o->seconds * 1e9);
				back = 0;
			}
			back += n;
			rte_pktmbuf_free_bulk(m, n);
		} else if (t0 == 0 && rr_now_ns() - t1 > 10000000000ull) {
			fprintf(stderr, "dpdk_memif: nothing came back in 10 s\n");
			return (1);
		}
		if (sent - back < window && rte_pktmbuf_alloc_bulk(pool, m, BURST) == 0) {
			uint16_t k;

			for (int i = 0; i < BURST; i++) {
				uint8_t *p = rte_pktmbuf_mtod(m[i], uint8_t *);

				memset(p, 0xff, 12);        /* broadcast, from ff..ff */
				p[12] = 0x88, p[13] = 0xb5; /* local experimental ethertype */
				m[i]->data_len = (uint16_t)o->size;
				m[i]->pkt_len = o->size;
			}
			k = rte_eth_tx_burst(port, 0, m, BURST);
			if (k < BURST)
				rte_pktmbuf_free_bulk(m + k, BURST - k);
			sent += k;
		} else if (n == 0)
			idle(o);
	}
	t1 = rr_now_ns();
	printf("{\"work\": \"fwd\", \"size\": %u, \"seconds\": %.6f, \"frames\": %llu, "
	       "\"frames_per_s\": %.1f, \"gbit_per_s\": %.3f}\n",
	    o->size, (double)(t1 - t0) / 1e9, (unsigned long long)back,
	    (double)back * 1e9 / (double)(t1 - t0), (double)back * o->size * 8 / (double)(t1 - t0));
	return (0);
}

/* ---- ustack over the port --------------------------------------------- */

static struct ust_stack *
stack_on(struct ust_dpdk_port *p, int server, struct ust_if **ifp)
{
	struct ust_stack_config cfg;
	struct ust_stack *st;
	const int64_t buf = 4 << 20;

	ust_stack_config_init(&cfg);
	cfg.mem_limit = 0; /* crr leaves a TIME_WAIT per connection */
	cfg.nmbufs = 65536;
	cfg.nmbclusters = 32768;
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	if (ust_sysctl_set(st, "kern.ipc.maxsockbuf", 2 * buf) != 0 ||
	    ust_sysctl_set(st, "net.inet.tcp.sendspace", buf) != 0 ||
	    ust_sysctl_set(st, "net.inet.tcp.recvspace", buf) != 0 ||
	    ust_dpdk_attach(st, p, 0, "dp0", ifp) != 0 ||
	    ust_if_addr_add(*ifp, ip4(198, 18, 0, server ? 1 : 2), 24) != 0) {
		ust_stack_destroy(st);
		return (NULL);
	}
	return (st);
}

static int
bulk_receive(const struct opts *o, struct ust_stack *st)
{
	struct ust_socket *lso = NULL, *so = NULL;
	struct ust_sockaddr_in me = sin4(ip4(198, 18, 0, 1), BULK_PORT);
	uint8_t *buf = malloc(CHUNK), *pat = pattern_new(CHUNK);
	uint64_t got = 0, bad = 0;
	double t0 = 0, t1 = 0, start = now_s();
	int err = 0;

	if (buf == NULL || pat == NULL || ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso) ||
	    ust_bind(lso, (const struct ust_sockaddr *)&me, sizeof(me)) || ust_listen(lso, 1)) {
		err = -UST_ENOMEM;
		goto out;
	}
	printf("{\"event\": \"ready\"}\n");
	fflush(stdout);
	while (!stopping) {
		ptrdiff_t r;
		int work = ust_stack_poll(st);

		if (so == NULL) {
			if (ust_accept(lso, &so, NULL, NULL) == 0)
				t0 = now_s();
			else if (now_s() - start > TIMEOUT_S) {
				err = -UST_ETIMEDOUT;
				break;
			}
			if (so == NULL) {
				if (work == 0)
					idle(o);
				continue;
			}
		}
		while ((r = ust_recv(so, buf, CHUNK, 0)) > 0) {
			if (bad == 0)
				bad = pattern_check(pat, buf, got, (size_t)r);
			got += (uint64_t)r;
			work++;
		}
		if (r == 0) {
			t1 = now_s();
			break;
		}
		if (r != -UST_EAGAIN) {
			err = (int)r;
			break;
		}
		if (work == 0)
			idle(o);
	}
out:
	if (so != NULL)
		ust_close(so);
	if (lso != NULL)
		ust_close(lso);
	for (int i = 0; i < 2000; i++) /* our FIN out */
		ust_stack_poll(st);
	free(buf);
	free(pat);
	if (err != 0 || bad != 0 || got != o->bytes) {
		fprintf(stderr, "dpdk_memif: received %llu of %llu bytes%s: %s\n",
		    (unsigned long long)got, (unsigned long long)o->bytes,
		    bad ? ", with a wrong byte" : "", err ? ust_strerror(err) : "short");
		return (1);
	}
	printf("{\"work\": \"bulk\", \"bytes\": %llu, \"seconds\": %.6f, \"gbit_per_s\": %.3f}\n",
	    (unsigned long long)got, t1 - t0, (double)got * 8 / (t1 - t0) / 1e9);
	return (0);
}

static int
bulk_send(const struct opts *o, struct ust_stack *st, struct ust_dpdk_port *p)
{
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in to = sin4(ip4(198, 18, 0, 1), BULK_PORT);
	uint8_t *pat = pattern_new(CHUNK);
	uint64_t sent = 0;
	double start = now_s();
	int err, shut = 0;

	if (pat == NULL || (err = ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &so)) != 0)
		return (1);
	err = ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to));
	if (err != 0 && err != -UST_EINPROGRESS)
		goto out;
	err = 0;
	/* Until the server has every byte. */
	while (!stopping) {
		int work = ust_stack_poll(st);

		while (sent < o->bytes) {
			size_t want = CHUNK;
			ptrdiff_t r;

			if (want > o->bytes - sent)
				want = (size_t)(o->bytes - sent);
			r = ust_send(so, pat + sent % PATTERN_PERIOD, want, 0);
			if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
				break;
			if (r < 0) {
				err = (int)r;
				goto out;
			}
			sent += (uint64_t)r;
			work++;
		}
		if (sent == o->bytes && !shut) {
			ust_shutdown(so, UST_SHUT_WR);
			shut = 1;
		}
		if (shut) {
			uint8_t b;
			ptrdiff_t r = ust_recv(so, &b, 1, 0);

			uint32_t speed;

			/* The server's FIN, or the server gone (it exits once it
			 * has read everything; its FIN may still have been in its
			 * tx queue): the harness judges by its result. */
			if (r == 0 || ust_dpdk_link(p, &speed) != 1)
				break;
			if (r != -UST_EAGAIN) {
				err = r < 0 ? (int)r : -UST_EIO;
				break;
			}
		}
		if (now_s() - start > TIMEOUT_S) {
			err = -UST_ETIMEDOUT;
			break;
		}
		if (work == 0)
			idle(o);
	}
out:
	ust_close(so);
	for (int i = 0; i < 2000; i++)
		ust_stack_poll(st);
	free(pat);
	if (err != 0)
		fprintf(stderr, "dpdk_memif: send: %s\n", ust_strerror(err));
	return (err != 0);
}

static int
rr_serve(const struct opts *o, struct ust_stack *st)
{
	struct server srv;
	struct ust_sockaddr_in me = sin4(ip4(198, 18, 0, 1), PORT);

	memset(&srv, 0, sizeof(srv));
	srv.st = st;
	if (ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &srv.lso) != 0 ||
	    ust_bind(srv.lso, (const struct ust_sockaddr *)&me, sizeof(me)) != 0 ||
	    ust_listen(srv.lso, 128) != 0)
		return (1);
	printf("{\"event\": \"ready\"}\n");
	fflush(stdout);
	while (!stopping)
		if (server_step(&srv) == 0)
			idle(o);
	for (int i = 0; i < srv.nconn; i++)
		ust_close(srv.conn[i]);
	ust_close(srv.lso);
	return (srv.error != 0);
}

static int
rr_client(const struct opts *o, struct ust_stack *st)
{
	struct rr_opts ro;
	struct client cli;
	uint64_t *lat = calloc((size_t)o->count, sizeof(*lat)), total = 0;
	long warm = o->count / 10 < 1000 ? o->count / 10 : 1000;
	int err;

	if (lat == NULL)
		return (1);
	memset(&ro, 0, sizeof(ro));
	ro.work = strcmp(o->work, "crr") == 0 ? RR_CRR : RR_PINGPONG;
	ro.count = o->count;
	ro.cross = !o->yield;
	memset(&cli, 0, sizeof(cli));
	cli.st = st;
	{
		struct ust_sockaddr_in to = sin4(ip4(198, 18, 0, 1), PORT);

		memcpy(&cli.to, &to, sizeof(to));
		cli.tolen = sizeof(to);
		cli.af = UST_AF_INET;
	}
	cli.yield = o->yield;
	if (ro.work == RR_PINGPONG)
		err = pingpong(&cli, o->count, warm, lat, &total);
	else
		err = crr(&cli, o->count, warm, lat, &total);
	if (err != 0) {
		fprintf(stderr, "dpdk_memif: %s: %s\n", o->work, ust_strerror(err));
		free(lat);
		return (1);
	}
	ro.cpu[0] = ro.cpu[1] = -1; /* the lcores are the caller's to say */
	rr_report(&ro, "ustack-memif", lat, o->count, total);
	free(lat);
	return (0);
}

static int
run_stack(const struct opts *o, uint16_t port_id)
{
	struct ust_dpdk_port_config pc;
	struct ust_dpdk_port *p;
	struct ust_stack *st;
	struct ust_if *ifp;
	double start = now_s();
	uint32_t speed;
	int rc, server = is_server(o), err;

	ust_dpdk_port_config_init(&pc);
	pc.port_id = port_id;
	if ((err = ust_dpdk_port_open(&pc, &p)) != 0) {
		fprintf(stderr, "dpdk_memif: port: %s\n", ust_strerror(err));
		return (1);
	}
	if ((st = stack_on(p, server, &ifp)) == NULL) {
		fprintf(stderr, "dpdk_memif: stack setup failed\n");
		ust_dpdk_port_close(p);
		return (1);
	}
	/* memif's server transmits nothing until the client has polled once,
	 * and nothing crosses before the control channel is up. */
	while (!server && ust_dpdk_link(p, &speed) != 1 && now_s() - start < 10) {
		ust_stack_poll(st);
		usleep(1000);
	}
	if (strcmp(o->work, "bulk") == 0)
		rc = server ? bulk_receive(o, st) : bulk_send(o, st, p);
	else if (server)
		rc = rr_serve(o, st);
	else
		rc = rr_client(o, st);
	/* In order: no more polling, then the interface, then the port. */
	ust_stack_destroy(st);
	ust_dpdk_port_close(p);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct rte_mempool *pool;
	uint16_t port;
	int rc;

	if (parse(argc, argv, &o) != 0) {
		usage(stderr);
		return (2);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (memif_up(&o, &port) != 0)
		return (1);
	if (strcmp(o.work, "fwd") == 0) {
		if (raw_port_start(port, &pool) != 0)
			return (1);
		if (is_server(&o)) {
			printf("{\"event\": \"ready\"}\n");
			fflush(stdout);
			raw_forward(&o, port);
			rc = 0;
		} else
			rc = raw_generate(&o, port, pool);
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	} else
		rc = run_stack(&o, port);
	rte_eal_cleanup();
	return (rc);
}
