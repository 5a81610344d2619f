/*
 * cores_pairs.c - scale-cores, ustack side (bench/b_scale_cores.py): K
 * independent pairs of stacks, one pair per worker thread, each worker
 * pinned to its own CPU and polling both stacks of its pair, which are
 * joined by a pipe of their own (real clock).  Nothing is shared between
 * the workers but the process (allocator, OSAL clock): what the
 * aggregate of K = 2 against K = 1 shows is what the stack shares.
 *
 *   --work bulk: one flow per pair, MTU 1500 segments with checksum
 *                offload, --buf socket buffers (default 128K); the
 *                receiver checks every byte against bench_pattern.h's
 *                short-period stream; MB/s received;
 *   --work rr:   --msg-byte (default 1) request/response round trips on
 *                one connection (rr_ustack_core.h's client and echo
 *                server, the request's bytes changing every time);
 *   --work crr:  connect + request/response + close, the client closing
 *                first (its TIME_WAIT lasts 2 x net.inet.tcp.msl, set to
 *                10 ms here, or the client runs out of ephemeral ports
 *                within a second; Linux on loopback reuses its TIME_WAIT
 *                ports, tcp_tw_reuse).
 *
 * The pipes have --ring slots each way: by default 64 (rr, crr) or 256
 * (bulk), enough for what is in flight and small enough to stay in the
 * core's L2 (see pair_setup).
 *
 * Each worker makes its stacks and pipe itself, on its own CPU (so their
 * memory comes from its malloc arena and is first touched there).  Prints
 * one JSON line (cores_common.h) with, besides the aggregate, the pairs'
 * retransmitted segments and pipe drops summed.  Uses only the public
 * headers.
 */
#include "cores_ustack.h"

#include <ustack/ustack_pipe.h>
#include <ustack/ustack_stats.h>

#include "bench_family.h"
#include "bench_pattern.h"

#define BULK_CHUNK (64u << 10)

struct pair {
	struct cores_slot slot; /* first: its own lines */
	const struct cores_opts *o;
	struct cores_ctl *ctl;
	int idx;
	struct ust_stack *cst;
	struct ust_pipe *pipe;
	struct server srv;
	struct client cli;
	int error; /* negative UST_E*, or 1: a wrong byte */
	uint64_t rexmit, drops;
};

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ust_stack *
stack_new(const struct cores_opts *o, uint64_t seed)
{
	struct ust_stack_config cfg;
	struct ust_stack *st = NULL;
	size_t buf = o->buf ? o->buf : (128u << 10);

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = seed;
	cfg.mem_limit = 0;
	if (ust_stack_create(&cfg, &st) != 0)
		return (NULL);
	if (o->work == CORES_BULK &&
	    (ust_sysctl_set(st, "kern.ipc.maxsockbuf", 2 * (int64_t)buf) != 0 ||
	        ust_sysctl_set(st, "net.inet.tcp.sendspace", (int64_t)buf) != 0 ||
	        ust_sysctl_set(st, "net.inet.tcp.recvspace", (int64_t)buf) != 0)) {
		ust_stack_destroy(st);
		return (NULL);
	}
	if (o->work == CORES_CRR && ust_sysctl_set(st, "net.inet.tcp.msl", 10) != 0) {
		ust_stack_destroy(st);
		return (NULL);
	}
	return (st);
}

/* The pair's stacks, pipe, addresses and listening socket. */
static int
pair_setup(struct pair *p)
{
	const struct cores_opts *o = p->o;
	struct ust_pipe_config pc;
	struct ust_if *ifa, *ifb;
	struct ust_sockaddr_storage me;
	ust_socklen_t melen = bench_sockaddr(o->family, 2, PORT, &me);
	int err;

	/* Stack creation is not what is measured: one at a time. */
	pthread_mutex_lock(&create_lock);
	p->cst = stack_new(o, 2 * (uint64_t)p->idx + 1);
	p->srv.st = stack_new(o, 2 * (uint64_t)p->idx + 2);
	pthread_mutex_unlock(&create_lock);
	ust_pipe_config_init(&pc);
	/* Small rings: a pair's frames then stay in its core's caches.  The
	 * pipe writes slots round robin, so a ring is all touched whatever
	 * is in flight: 2048 slots of 1.5 KB each way (6 MB) miss the 4 MB
	 * L2 on every frame, and two pairs then contend for the L3 and
	 * memory (crr per CPU-second 2 vs 1: 1.71 with 2048, 1.90 with 64). */
	pc.ring_size = o->ring ? o->ring : o->work == CORES_BULK ? 256 : 64;
	pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if (p->cst == NULL || p->srv.st == NULL || ust_pipe_create(&pc, &p->pipe) != 0 ||
	    ust_if_attach(p->cst, "pipe0", ust_pipe_ops(), ust_pipe_end(p->pipe, UST_PIPE_A),
	        &ifa) != 0 ||
	    ust_if_attach(p->srv.st, "pipe0", ust_pipe_ops(), ust_pipe_end(p->pipe, UST_PIPE_B),
	        &ifb) != 0)
		return (-UST_ENOMEM);
	if ((err = bench_family_addrs(o->family, ifa, ifb)) != 0 ||
	    (err = ust_socket(p->srv.st, bench_family_af(o->family), UST_SOCK_STREAM, 0,
	         &p->srv.lso)) != 0 ||
	    (err = ust_bind(p->srv.lso, (const struct ust_sockaddr *)&me, melen)) != 0 ||
	    (err = ust_listen(p->srv.lso, 128)) != 0)
		return (err);
	p->cli.st = p->cst;
	p->cli.srv = &p->srv;
	p->cli.abort = &p->ctl->abort;
	p->cli.to = me;
	p->cli.tolen = melen;
	p->cli.af = bench_family_af(o->family);
	return (0);
}

static void
pair_teardown(struct pair *p)
{
	struct ust_tcpstat ts;
	struct ust_pipe_stats ps;
	int i, d;

	if (p->cst != NULL) {
		ust_stats_tcp(p->cst, &ts);
		p->rexmit += ts.tcps_sndrexmitpack;
	}
	if (p->srv.st != NULL) {
		ust_stats_tcp(p->srv.st, &ts);
		p->rexmit += ts.tcps_sndrexmitpack;
	}
	if (p->pipe != NULL)
		for (d = 0; d < 2; d++) {
			ust_pipe_get_stats(p->pipe, d, &ps);
			p->drops += ps.dropped_queue + ps.dropped_mtu + ps.dropped_nombuf;
		}
	for (i = 0; i < p->srv.nconn; i++)
		ust_close(p->srv.conn[i]);
	if (p->srv.lso != NULL)
		ust_close(p->srv.lso);
	if (p->cst != NULL)
		ust_stack_destroy(p->cst);
	if (p->srv.st != NULL)
		ust_stack_destroy(p->srv.st);
	if (p->pipe != NULL)
		ust_pipe_destroy(p->pipe);
}

/* One flow, both ends on this thread: each turn polls the sender's stack,
 * fills its socket, polls the receiver's and reads (and checks) what
 * arrived. */
static int
run_bulk(struct pair *p)
{
	struct ust_socket *so, *rso = NULL;
	uint8_t *pat = pattern_new_period(BULK_CHUNK, PATTERN_PERIOD_SHORT),
	        *buf = malloc(BULK_CHUNK);
	uint64_t sent = 0, got = 0;
	int err = 0;

	if (pat == NULL || buf == NULL) {
		err = -UST_ENOMEM;
		goto out;
	}
	if ((err = client_open(&p->cli, &so)) != 0)
		goto out;
	while (!cores_stopped(p->ctl)) {
		ptrdiff_t r;

		ust_stack_poll(p->cst);
		for (;;) {
			r = ust_send(so, pat + sent % PATTERN_PERIOD_SHORT, BULK_CHUNK, 0);
			if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
				break;
			if (r <= 0) {
				err = r < 0 ? (int)r : -UST_EIO;
				goto done;
			}
			sent += (uint64_t)r;
		}
		ust_stack_poll(p->srv.st);
		if (rso == NULL && ust_accept(p->srv.lso, &rso, NULL, NULL) != 0)
			rso = NULL;
		while (rso != NULL) {
			r = ust_recv(rso, buf, BULK_CHUNK, 0);
			if (r == -UST_EAGAIN)
				break;
			if (r <= 0) {
				err = r < 0 ? (int)r : -UST_ECONNRESET;
				goto done;
			}
			if (pattern_check_period(pat, PATTERN_PERIOD_SHORT, buf, got, (size_t)r) !=
			    0) {
				err = 1;
				goto done;
			}
			got += (uint64_t)r;
			cores_count(&p->slot, got);
		}
	}
done:
	ust_close(so);
	if (rso != NULL)
		ust_close(rso);
out:
	free(pat);
	free(buf);
	return (err);
}

static void *
pair_main(void *arg)
{
	struct pair *p = arg;
	int err;

	cores_pin(p->o, p->idx);
	cores_add_clock(&p->slot);
	err = pair_setup(p);
	if (err != 0)
		fprintf(stderr, "cores_pairs: pair %d: setup: %s\n", p->idx, ust_strerror(err));
	if (cores_ready(p->ctl, err == 0)) {
		err = p->o->work == CORES_RR ? cores_run_rr(&p->cli, p->ctl, &p->slot, p->o->msg) :
		    p->o->work == CORES_CRR  ? cores_run_crr(&p->cli, p->ctl, &p->slot, p->o->msg) :
		                               run_bulk(p);
		if (err == 0 && p->srv.error != 0)
			err = -UST_EIO;
		if (err != 0)
			fprintf(stderr, "cores_pairs: pair %d: %s\n", p->idx,
			    err == 1 ? "a wrong byte" : ust_strerror(err));
	}
	cores_finish(p->ctl);
	p->error = err;
	pair_teardown(p);
	return (NULL);
}

int
main(int argc, char **argv)
{
	struct cores_opts o;
	struct cores_ctl *ctl;
	struct pair *pairs;
	pthread_t tid[CORES_MAX];
	struct cores_slot *slots[CORES_MAX];
	double rate[CORES_MAX], cpu[CORES_MAX], window;
	uint64_t rexmit = 0, drops = 0;
	int i, failed = 0, rc = cores_parse(argc, argv, &o);

	if (rc != 0) {
		cores_usage(rc == 1 ? stdout : stderr, argv[0],
		    "K independent pairs of ustack stacks, each pair joined by its own pipe\n"
		    "and polled by one worker thread.",
		    "");
		return (rc == 1 ? 0 : 2);
	}
	ctl = aligned_alloc(CORES_LINE, sizeof(*ctl));
	pairs = aligned_alloc(CORES_LINE, sizeof(*pairs) * (size_t)o.threads);
	if (ctl == NULL || pairs == NULL)
		return (1);
	memset(ctl, 0, sizeof(*ctl));
	memset(pairs, 0, sizeof(*pairs) * (size_t)o.threads);
	for (i = 0; i < o.threads; i++) {
		pairs[i].o = &o;
		pairs[i].ctl = ctl;
		pairs[i].idx = i;
		slots[i] = &pairs[i].slot;
		if (pthread_create(&tid[i], NULL, pair_main, &pairs[i]) != 0)
			return (1);
	}
	window = cores_window(ctl, slots, o.threads, &o, rate, cpu);
	for (i = 0; i < o.threads; i++) {
		pthread_join(tid[i], NULL);
		failed |= pairs[i].error != 0;
		rexmit += pairs[i].rexmit;
		drops += pairs[i].drops;
	}
	if (window < 0 || failed)
		return (1);
	cores_report(&o, "ustack", window, rate, cpu);
	printf(", \"rexmit\": %llu, \"pipe_drops\": %llu", (unsigned long long)rexmit,
	    (unsigned long long)drops);
	cores_report_end();
	free(pairs);
	free(ctl);
	return (0);
}
