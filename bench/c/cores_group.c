/*
 * cores_group.c - scale-cores over groups of stacks (ustack_group.h;
 * bench/b_scale_cores.py).  Two measurements:
 *
 * --mode group (--work rr|crr, --threads N): two groups of N stacks, a
 *   client group and a server group, joined by a pipe with N lanes (lane i
 *   of each side attached to stack i, the pipe steering frames to the lane
 *   of their Toeplitz hash as a NIC's RSS does).  The groups have no
 *   threads: the bench's worker i, pinned to the i-th CPU, polls stack i of
 *   both groups, so each CPU runs one lane of each side; each server stack
 *   has a listener on 198.18.0.2, and worker i's client connects from
 *   client stack i (whose ephemeral port makes the replies hash back to
 *   it).  --mode group (or group:sym) uses a symmetric Toeplitz key
 *   (0x6d5a repeated), so both directions of a flow hash to the same lane
 *   and a worker's connections are served on its own CPU; group:default
 *   uses the standard key, with which a flow's server end lands on either
 *   stack by its own hash, so about half of the round trips cross cores.
 *   Prints the cores_common.h JSON line with the groups' steering counters.
 *
 * --mode lock | exec (--work rr): the application-thread API.  A client
 *   group of one stack with a thread of its own (busy polling: the pipe has
 *   no descriptor to sleep on), pinned to the first CPU; the bench's
 *   application thread, pinned to the second, makes --msg-byte round trips
 *   on one connection of the client stack: send, wait, receive, the send
 *   and the receive by the stack lock (ust_stack_lock/unlock around the
 *   call) or by the command ring (ust_stack_exec).  The server is a lone
 *   stack on the other end of the pipe that the application thread polls
 *   itself while it waits (the echo), and it waits for the answer on a
 *   flag the client socket's upcall raises on the stack's thread, so that
 *   the only calls into the threaded stack are the send and the receive
 *   of the mode: two threads, one per CPU.
 * --mode lock-wait | exec-wait: the same with the documented wait,
 *   ust_socket_wait (it sleeps until the stack's thread reports input; it
 *   takes the stack lock itself, to register the wait); the server is then
 *   a group of one threaded stack on the second CPU (the echo in socket
 *   upcalls on its thread), which the application thread shares.
 * Both add "ns_per_roundtrip" and "call_ns", the cost of one empty call of
 * the mode (lock + unlock, or an exec of a function that does nothing)
 * while the stack's thread polls, measured after the window, and the CPU
 * share the stack threads had while the application thread ran (they busy
 * poll: below 1.0, other work took their CPU).
 *
 * The pipes have 64 slots per ring, as cores_pairs.c's.  Uses only the
 * public headers.
 */
#include "cores_ustack.h"

#include <dirent.h>

#include <ustack/ustack_group.h>
#include <ustack/ustack_pipe.h>

#define MAXN 8

/* --mode group: worker i's state. */
struct gworker {
	struct cores_slot slot; /* first: its own lines */
	const struct cores_opts *o;
	struct cores_ctl *ctl;
	int idx;
	struct server srv;
	struct client cli;
	int error;
};

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }; /* the pipe's default MACs */
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 2 };

static int
group_new(const struct cores_opts *o, unsigned n, int threads, int cpu, uint64_t seed,
    const uint8_t key[UST_RSS_KEYLEN], struct ust_group **gp)
{
	struct ust_group_config gc;

	ust_group_config_init(&gc);
	gc.nstacks = n;
	gc.stack.seed_set = 1;
	gc.stack.seed = seed;
	gc.stack.mem_limit = 0;
	memcpy(gc.rss_key, key, UST_RSS_KEYLEN);
	gc.rss_key_set = 1;
	gc.threads = threads;
	if (threads) {
		gc.busy_poll = 1; /* the pipe has no descriptor to sleep on */
		gc.pin = o->pin;
		gc.cpus[0] = cpu;
	}
	return (ust_group_create(&gc, gp));
}

/* The pipe with n lanes, side A attached to every stack of ga, side B to
 * every stack of gb; the addresses, static ARP entries both ways. */
static int
groups_join(struct ust_group *ga, struct ust_group *gb, unsigned n,
    const uint8_t key[UST_RSS_KEYLEN], struct ust_pipe **pp)
{
	struct ust_pipe_config pc;
	void *ends[2][MAXN];
	unsigned i;
	int err;

	ust_pipe_config_init(&pc);
	pc.ring_size = 64;
	pc.lanes = n;
	pc.steer = UST_PIPE_STEER_RSS;
	memcpy(pc.rss_key, key, UST_RSS_KEYLEN);
	pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if ((err = ust_pipe_create(&pc, pp)) != 0)
		return (err);
	for (i = 0; i < n; i++) {
		ends[0][i] = ust_pipe_lane_end(*pp, UST_PIPE_A, i);
		ends[1][i] = ust_pipe_lane_end(*pp, UST_PIPE_B, i);
	}
	if ((err = ust_group_if_attach(ga, "pipe0", ust_pipe_ops(), ends[0], NULL)) != 0 ||
	    (err = ust_group_if_attach(gb, "pipe0", ust_pipe_ops(), ends[1], NULL)) != 0 ||
	    (err = ust_group_if_addr_add(ga, "pipe0", ip4(198, 18, 0, 1), 24)) != 0 ||
	    (err = ust_group_if_addr_add(gb, "pipe0", ip4(198, 18, 0, 2), 24)) != 0 ||
	    (err = ust_group_arp_add_static(ga, "pipe0", ip4(198, 18, 0, 2), mac_b)) != 0 ||
	    (err = ust_group_arp_add_static(gb, "pipe0", ip4(198, 18, 0, 1), mac_a)) != 0)
		return (err);
	return (0);
}

static int
listen_on(struct ust_stack *st, struct ust_socket **lsop)
{
	struct ust_sockaddr_in me = sin4(ip4(198, 18, 0, 2), PORT);
	int err;

	if ((err = ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, lsop)) != 0 ||
	    (err = ust_bind(*lsop, (const struct ust_sockaddr *)&me, sizeof(me))) != 0 ||
	    (err = ust_listen(*lsop, 128)) != 0)
		return (err);
	return (0);
}

static void
client_to_server(struct client *c)
{
	struct ust_sockaddr_in to = sin4(ip4(198, 18, 0, 2), PORT);

	memset(&c->to, 0, sizeof(c->to));
	memcpy(&c->to, &to, sizeof(to));
	c->tolen = sizeof(to);
	c->af = UST_AF_INET;
}

/* ---------------------------------------------------------------------
 * --mode group
 * ------------------------------------------------------------------- */

static void *
gworker_main(void *arg)
{
	struct gworker *w = arg;
	int err = 0;

	cores_pin(w->o, w->idx);
	cores_add_clock(&w->slot);
	if (cores_ready(w->ctl, 1)) {
		err = w->o->work == CORES_RR ? cores_run_rr(&w->cli, w->ctl, &w->slot, w->o->msg) :
		                               cores_run_crr(&w->cli, w->ctl, &w->slot, w->o->msg);
		if (err == 0 && w->srv.error != 0)
			err = -UST_EIO;
		if (err != 0)
			fprintf(stderr, "cores_group: worker %d: %s\n", w->idx, ust_strerror(err));
	}
	/* Keep serving until every worker stopped: a connection of another
	 * worker's client may live on this worker's server stack. */
	cores_finish(w->ctl);
	while (atomic_load(&w->ctl->finished) < w->o->threads && !atomic_load(&w->ctl->abort)) {
		server_step(&w->srv);
		ust_stack_poll(w->cli.st);
	}
	w->error = err;
	return (NULL);
}

static int
mode_group(const struct cores_opts *o, const uint8_t key[UST_RSS_KEYLEN])
{
	struct ust_group *gc = NULL, *gs = NULL;
	struct ust_pipe *pipe = NULL;
	struct ust_group_stats sc, ss;
	struct cores_ctl *ctl;
	struct gworker *ws;
	struct cores_slot *slots[CORES_MAX];
	pthread_t tid[CORES_MAX];
	double rate[CORES_MAX], cpu[CORES_MAX], window;
	unsigned n = (unsigned)o->threads, i;
	int err, failed = 0;

	ctl = aligned_alloc(CORES_LINE, sizeof(*ctl));
	ws = aligned_alloc(CORES_LINE, sizeof(*ws) * n);
	if (ctl == NULL || ws == NULL)
		return (1);
	memset(ctl, 0, sizeof(*ctl));
	memset(ws, 0, sizeof(*ws) * n);
	if ((err = group_new(o, n, 0, -1, 1, key, &gc)) != 0 ||
	    (err = group_new(o, n, 0, -1, 1001, key, &gs)) != 0 ||
	    (err = groups_join(gc, gs, n, key, &pipe)) != 0 ||
	    (o->work == CORES_CRR &&
	        ((err = ust_group_sysctl_set(gc, "net.inet.tcp.msl", 10)) != 0 ||
	            (err = ust_group_sysctl_set(gs, "net.inet.tcp.msl", 10)) != 0))) {
		fprintf(stderr, "cores_group: setup: %s\n", ust_strerror(err));
		return (1);
	}
	for (i = 0; i < n; i++) {
		struct gworker *w = &ws[i];

		w->o = o;
		w->ctl = ctl;
		w->idx = (int)i;
		w->srv.st = ust_group_stack(gs, i);
		if ((err = listen_on(w->srv.st, &w->srv.lso)) != 0) {
			fprintf(stderr, "cores_group: listen: %s\n", ust_strerror(err));
			return (1);
		}
		w->cli.st = ust_group_stack(gc, i);
		w->cli.srv = &w->srv;
		w->cli.abort = &ctl->abort;
		client_to_server(&w->cli);
		slots[i] = &w->slot;
	}
	/* The stacks were made by this thread; from here on stack i is worker
	 * i's alone (pthread_create orders what came before). */
	for (i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, gworker_main, &ws[i]) != 0)
			return (1);
	window = cores_window(ctl, slots, (int)n, o, rate, cpu);
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		failed |= ws[i].error != 0;
	}
	ust_group_get_stats(gc, UST_GROUP_ALL, &sc);
	ust_group_get_stats(gs, UST_GROUP_ALL, &ss);
	for (i = 0; i < n; i++) {
		for (int j = 0; j < ws[i].srv.nconn; j++)
			ust_close(ws[i].srv.conn[j]);
		ust_close(ws[i].srv.lso);
	}
	ust_group_destroy(gc);
	ust_group_destroy(gs);
	ust_pipe_destroy(pipe);
	if (window < 0 || failed)
		return (1);
	cores_report(o, "ustack-group", window, rate, cpu);
	printf(", \"key\": \"%s\", \"client_lport_tries\": %llu, \"client_steered_in\": %llu, "
	       "\"server_steered_in\": %llu, \"ring_full\": %llu, \"client_local\": %llu, "
	       "\"server_local\": %llu",
	    o->mode[5] == ':' ? o->mode + 6 : "sym", (unsigned long long)sc.lport_tries,
	    (unsigned long long)sc.rss_steered_in, (unsigned long long)ss.rss_steered_in,
	    (unsigned long long)(sc.rss_ring_full + ss.rss_ring_full),
	    (unsigned long long)sc.rss_local, (unsigned long long)ss.rss_local);
	cores_report_end();
	free(ws);
	free(ctl);
	return (0);
}

/* ---------------------------------------------------------------------
 * --mode lock | exec
 * ------------------------------------------------------------------- */

/* The echo, on the server stack's thread. */
static void
echo_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	uint8_t buf[RR_MSG * 4];
	ptrdiff_t r;
	int *error = arg;

	if (!(events & UST_EV_IN))
		return;
	while ((r = ust_recv(so, buf, sizeof(buf), 0)) > 0)
		if (ust_send(so, buf, (size_t)r, 0) != r)
			*error = 1;
}

struct accept_arg {
	struct ust_socket *lso, *so;
	int *error;
};

static int
accept_fn(struct ust_stack *st, void *arg)
{
	struct accept_arg *a = arg;
	int err;

	(void)st;
	if ((err = ust_accept(a->lso, &a->so, NULL, NULL)) != 0)
		return (err);
	ust_setsockopt(a->so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one, sizeof(one));
	ust_socket_set_upcall(a->so, echo_upcall, a->error);
	return (0);
}

struct io_arg {
	struct ust_socket *so;
	void *buf;
	size_t len;
	ptrdiff_t r;
	struct ust_sockaddr_in to;
};

static int
send_fn(struct ust_stack *st, void *arg)
{
	struct io_arg *a = arg;

	(void)st;
	a->r = ust_send(a->so, a->buf, a->len, 0);
	return (0);
}

static int
recv_fn(struct ust_stack *st, void *arg)
{
	struct io_arg *a = arg;

	(void)st;
	a->r = ust_recv(a->so, a->buf, a->len, 0);
	return (0);
}

static int
noop_fn(struct ust_stack *st, void *arg)
{
	(void)st;
	(void)arg;
	return (0);
}

static int
open_fn(struct ust_stack *st, void *arg)
{
	struct io_arg *a = arg;
	int err;

	if ((err = ust_socket(st, UST_AF_INET, UST_SOCK_STREAM, 0, &a->so)) != 0)
		return (err);
	ust_setsockopt(a->so, UST_IPPROTO_TCP, UST_TCP_NODELAY, &one, sizeof(one));
	err = ust_connect(a->so, (const struct ust_sockaddr *)&a->to, sizeof(a->to));
	return (err == -UST_EINPROGRESS ? 0 : err);
}

static int
close_fn(struct ust_stack *st, void *arg)
{
	struct io_arg *a = arg;

	(void)st;
	ust_close(a->so);
	return (0);
}

/* One send or receive through the mode's mechanism. */
static ptrdiff_t
app_call(struct ust_stack *st, int use_exec, int (*fn)(struct ust_stack *, void *),
    struct io_arg *a)
{
	if (use_exec) {
		if (ust_stack_exec(st, fn, a) != 0)
			return (-UST_EIO);
	} else {
		ust_stack_lock(st);
		fn(st, a);
		ust_stack_unlock(st);
	}
	return (a->r);
}

/* send, wait for input, receive: one round trip of len bytes. */
static int
app_roundtrip(struct ust_stack *st, int use_exec, struct ust_socket *so, uint8_t *req, size_t len)
{
	uint8_t resp[RR_MSG];
	struct io_arg a = { .so = so, .buf = req, .len = len };
	size_t got = 0;
	uint32_t rev;
	ptrdiff_t r;
	int w;

	for (;;) {
		r = app_call(st, use_exec, send_fn, &a);
		if (r == (ptrdiff_t)len)
			break;
		if (r != -UST_EAGAIN && r != -UST_ENOTCONN)
			return (r < 0 ? (int)r : -UST_EIO);
		if ((w = ust_socket_wait(so, UST_EV_OUT, 1000000000, &rev)) < 0)
			return (w);
	}
	while (got < len) {
		if ((w = ust_socket_wait(so, UST_EV_IN, 1000000000, &rev)) <= 0)
			return (w < 0 ? w : -UST_ETIMEDOUT);
		a.buf = resp + got;
		a.len = len - got;
		r = app_call(st, use_exec, recv_fn, &a);
		if (r == -UST_EAGAIN)
			continue;
		if (r <= 0)
			return (r < 0 ? (int)r : -UST_ECONNRESET);
		got += (size_t)r;
	}
	return (memcmp(req, resp, len) == 0 ? 0 : -UST_EIO);
}

struct app {
	struct cores_slot slot;
	const struct cores_opts *o;
	struct cores_ctl *ctl;
	struct ust_stack *st;
	struct ust_socket *so;
	int use_exec;
	/* Spinning variant: the server stack this thread polls, and the flag
	 * the client socket's upcall raises (on the stack's thread) when input
	 * is ready. */
	struct server *srv;
	_Atomic int ready;
	int error;
};

static void
flag_upcall(void *arg, struct ust_socket *so, uint32_t events)
{
	struct app *a = arg;

	(void)so;
	if (events & (UST_EV_IN | UST_EV_ERR | UST_EV_HUP))
		atomic_store_explicit(&a->ready, 1, memory_order_release);
}

struct upcall_arg {
	struct ust_socket *so;
	struct app *a;
};

static int
set_upcall_fn(struct ust_stack *st, void *arg)
{
	struct upcall_arg *u = arg;

	(void)st;
	ust_socket_set_upcall(u->so, flag_upcall, u->a);
	return (0);
}

/* The spinning round trip: send, poll the server stack (the echo) until
 * the upcall says the answer is in, receive. */
static int
app_roundtrip_spin(struct app *a, uint8_t *req, size_t len)
{
	uint8_t resp[RR_MSG];
	struct io_arg io = { .so = a->so, .buf = req, .len = len };
	size_t got = 0;
	ptrdiff_t r;

	atomic_store_explicit(&a->ready, 0, memory_order_relaxed);
	for (;;) {
		r = app_call(a->st, a->use_exec, send_fn, &io);
		if (r == (ptrdiff_t)len)
			break;
		if (r != -UST_EAGAIN && r != -UST_ENOTCONN)
			return (r < 0 ? (int)r : -UST_EIO);
		server_step(a->srv);
	}
	while (got < len) {
		while (!atomic_load_explicit(&a->ready, memory_order_acquire)) {
			server_step(a->srv);
			if (atomic_load_explicit(&a->ctl->abort, memory_order_relaxed))
				return (-UST_ETIMEDOUT);
		}
		atomic_store_explicit(&a->ready, 0, memory_order_relaxed);
		io.buf = resp + got;
		io.len = len - got;
		r = app_call(a->st, a->use_exec, recv_fn, &io);
		if (r == -UST_EAGAIN)
			continue;
		if (r <= 0)
			return (r < 0 ? (int)r : -UST_ECONNRESET);
		got += (size_t)r;
	}
	return (memcmp(req, resp, len) == 0 ? 0 : -UST_EIO);
}

static void *
app_main(void *arg)
{
	struct app *a = arg;
	uint8_t req[RR_MSG];
	uint64_t n = 0;
	int err = 0;

	cores_pin(a->o, 1);
	cores_add_clock(&a->slot);
	memset(req, 'r', sizeof(req));
	if (cores_ready(a->ctl, 1)) {
		while (!cores_stopped(a->ctl)) {
			req[0] = (uint8_t)n;
			err = a->srv != NULL ?
			    app_roundtrip_spin(a, req, a->o->msg) :
			    app_roundtrip(a->st, a->use_exec, a->so, req, a->o->msg);
			if (err != 0)
				break;
			cores_count(&a->slot, ++n);
		}
	}
	if (err != 0)
		fprintf(stderr, "cores_group: the application thread: %s\n", ust_strerror(err));
	cores_finish(a->ctl);
	a->error = err;
	return (NULL);
}

/* The CPU time (ns) of this process's stack threads (named "ust/NN" by
 * ust_group_start), from /proc/self/task/TID/schedstat (Linux), in thread
 * id order.  Fills up to max, returns how many (0 without /proc). */
static int
stack_threads_ns(uint64_t *ns, int max)
{
	char path[300], name[32];
	unsigned long long run;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	FILE *f;
	int n = 0;

	if (d == NULL)
		return (0);
	while ((e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(name, sizeof(name), f) == NULL || strncmp(name, "ust/", 4) != 0) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			ns[n++] = run;
		fclose(f);
	}
	closedir(d);
	return (n);
}

/* ns per empty call of the mode while the stack's thread polls. */
static double
call_ns(struct ust_stack *st, int use_exec, double seconds)
{
	uint64_t t0 = rr_now_ns(), t, n = 0;

	do {
		for (int i = 0; i < 64; i++) {
			if (use_exec)
				(void)ust_stack_exec(st, noop_fn, NULL);
			else {
				ust_stack_lock(st);
				ust_stack_unlock(st);
			}
		}
		n += 64;
		t = rr_now_ns();
	} while ((double)(t - t0) < seconds * 1e9);
	return ((double)(t - t0) / (double)n);
}

/* The server of the spinning variant: a lone stack on side B of the pipe,
 * which only the application thread polls. */
static int
spin_server(struct ust_pipe *pipe, struct server *srv)
{
	struct ust_stack_config cfg;
	struct ust_if *ifp;
	int err;

	ust_stack_config_init(&cfg);
	cfg.seed_set = 1;
	cfg.seed = 1001;
	cfg.mem_limit = 0;
	if ((err = ust_stack_create(&cfg, &srv->st)) != 0 ||
	    (err = ust_if_attach(srv->st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_B),
	         &ifp)) != 0 ||
	    (err = ust_if_addr_add(ifp, ip4(198, 18, 0, 2), 24)) != 0 ||
	    (err = ust_arp_add_static(ifp, ip4(198, 18, 0, 1), mac_a)) != 0)
		return (err);
	return (listen_on(srv->st, &srv->lso));
}

/* The pipe of the spinning variant: side A to the client group. */
static int
spin_join(struct ust_group *gc, const uint8_t key[UST_RSS_KEYLEN], struct ust_pipe **pp)
{
	struct ust_pipe_config pc;
	void *end;
	int err;

	ust_pipe_config_init(&pc);
	pc.ring_size = 64;
	memcpy(pc.rss_key, key, UST_RSS_KEYLEN);
	pc.caps = UST_IFCAP_RXCSUM | UST_IFCAP_TXCSUM | UST_IFCAP_TXCSUM_IPV6;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if ((err = ust_pipe_create(&pc, pp)) != 0)
		return (err);
	end = ust_pipe_end(*pp, UST_PIPE_A);
	if ((err = ust_group_if_attach(gc, "pipe0", ust_pipe_ops(), &end, NULL)) != 0 ||
	    (err = ust_group_if_addr_add(gc, "pipe0", ip4(198, 18, 0, 1), 24)) != 0 ||
	    (err = ust_group_arp_add_static(gc, "pipe0", ip4(198, 18, 0, 2), mac_b)) != 0)
		return (err);
	return (0);
}

static int
mode_app(struct cores_opts *o, const uint8_t key[UST_RSS_KEYLEN], int use_exec, int wait)
{
	struct ust_group *gc = NULL, *gs = NULL;
	struct ust_pipe *pipe = NULL;
	struct ust_socket *lso = NULL;
	struct ust_group_stats sc;
	struct cores_ctl *ctl;
	struct app *a;
	struct server *srv = NULL;
	struct cores_slot *slots[1];
	struct accept_arg acc;
	struct upcall_arg up;
	struct io_arg io;
	pthread_t tid;
	double rate[1], cpu[1], window, cns;
	uint64_t st0[2], st1[2], t0, t1;
	int err, srv_error = 0, cpu1 = o->cpus[o->threads > 1 ? 1 : 0], nst;
	char name[32];

	if (o->work != CORES_RR) {
		fprintf(stderr, "cores_group: --mode %s measures --work rr only\n", o->mode);
		return (2);
	}
	ctl = aligned_alloc(CORES_LINE, sizeof(*ctl));
	a = aligned_alloc(CORES_LINE, sizeof(*a));
	srv = calloc(1, sizeof(*srv));
	if (ctl == NULL || a == NULL || srv == NULL)
		return (1);
	memset(ctl, 0, sizeof(*ctl));
	memset(a, 0, sizeof(*a));
	memset(&io, 0, sizeof(io));
	io.to = sin4(ip4(198, 18, 0, 2), PORT);
	if ((err = group_new(o, 1, 1, o->cpus[0], 1, key, &gc)) != 0 ||
	    (wait ? (err = group_new(o, 1, 1, cpu1, 1001, key, &gs)) != 0 ||
	                (err = groups_join(gc, gs, 1, key, &pipe)) != 0 ||
	                (err = listen_on(ust_group_stack(gs, 0), &lso)) != 0 ||
	                (err = ust_group_start(gs)) != 0 :
	            (err = spin_join(gc, key, &pipe)) != 0 ||
	                (err = spin_server(pipe, srv)) != 0) ||
	    (err = ust_group_start(gc)) != 0 ||
	    (err = ust_stack_exec(ust_group_stack(gc, 0), open_fn, &io)) != 0) {
		fprintf(stderr, "cores_group: setup: %s\n", ust_strerror(err));
		return (1);
	}
	if (wait) {
		/* The connection completes on the threads; accept it there. */
		acc.lso = lso;
		acc.so = NULL;
		acc.error = &srv_error;
		for (int i = 0; i < 100000; i++) {
			if (ust_stack_exec(ust_group_stack(gs, 0), accept_fn, &acc) == 0)
				break;
			cores_sleep(0.0001);
		}
		if (acc.so == NULL) {
			fprintf(stderr, "cores_group: the server did not accept\n");
			return (1);
		}
	} else {
		for (int i = 0; i < 1000000 && srv->nconn == 0; i++)
			server_step(srv);
		if (srv->nconn == 0) {
			fprintf(stderr, "cores_group: the server did not accept\n");
			return (1);
		}
		up.so = io.so;
		up.a = a;
		(void)ust_stack_exec(ust_group_stack(gc, 0), set_upcall_fn, &up);
		a->srv = srv; /* the application thread polls it from now on */
	}
	a->o = o;
	a->ctl = ctl;
	a->st = ust_group_stack(gc, 0);
	a->so = io.so;
	a->use_exec = use_exec;
	slots[0] = &a->slot;
	o->threads = 1;
	o->cpus[1] = cpu1;
	nst = stack_threads_ns(st0, 2);
	t0 = rr_now_ns();
	if (pthread_create(&tid, NULL, app_main, a) != 0)
		return (1);
	window = cores_window(ctl, slots, 1, o, rate, cpu);
	pthread_join(tid, NULL);
	t1 = rr_now_ns();
	if (stack_threads_ns(st1, 2) != nst)
		nst = 0;
	if (o->pin)
		(void)rr_pin(cpu1); /* where the application thread ran */
	cns = a->error == 0 ? call_ns(a->st, use_exec, o->seconds / 4) : 0;
	(void)ust_stack_exec(a->st, close_fn, &io);
	ust_group_get_stats(gc, 0, &sc);
	ust_group_stop(gc);
	if (wait) {
		ust_group_stop(gs);
		ust_close(acc.so);
		ust_close(lso);
		ust_group_destroy(gs);
	} else {
		srv_error = srv->error;
		for (int i = 0; i < srv->nconn; i++)
			ust_close(srv->conn[i]);
		ust_close(srv->lso);
	}
	ust_group_destroy(gc);
	if (srv->st != NULL)
		ust_stack_destroy(srv->st);
	ust_pipe_destroy(pipe);
	if (window < 0 || a->error != 0 || srv_error != 0)
		return (1);
	o->cpus[0] = cpu1; /* the application thread's CPU, for the report */
	snprintf(name, sizeof(name), "ustack-%s", o->mode);
	cores_report(o, name, window, rate, cpu);
	printf(", \"ns_per_roundtrip\": %.1f, \"call_ns\": %.1f, \"exec_calls\": %llu, "
	       "\"stack_wakeups\": %llu, \"stack_threads_cpu_share\": [",
	    rate[0] > 0 ? 1e9 / rate[0] : 0.0, cns, (unsigned long long)sc.exec_calls,
	    (unsigned long long)sc.wakeups);
	for (int i = 0; i < nst; i++)
		printf("%s%.3f", i ? ", " : "", (double)(st1[i] - st0[i]) / (double)(t1 - t0));
	printf("]");
	cores_report_end();
	free(srv);
	free(a);
	free(ctl);
	return (0);
}

int
main(int argc, char **argv)
{
	struct cores_opts o;
	uint8_t key[UST_RSS_KEYLEN];
	const char *keyname;
	int rc = cores_parse(argc, argv, &o);

	if (rc != 0 || o.threads > MAXN) {
		cores_usage(rc == 1 ? stdout : stderr, argv[0],
		    "ustack groups: --mode group[:sym|:default] (two groups of K stacks over a\n"
		    "pipe with K lanes, worker i polling stack i of both), or --mode\n"
		    "lock|exec[-wait] (an application thread's round trips through a threaded\n"
		    "stack by the stack lock or by ust_stack_exec; --work rr).",
		    " --mode group[:sym|:default]|lock|exec|lock-wait|exec-wait");
		return (rc == 1 ? 0 : 2);
	}
	/* The key: symmetric (0x6d5a repeated) unless group:default. */
	keyname = strncmp(o.mode, "group:", 6) == 0 ? o.mode + 6 : "sym";
	if (strcmp(keyname, "default") == 0)
		ust_rss_default_key(key);
	else if (strcmp(keyname, "sym") == 0)
		for (int i = 0; i < UST_RSS_KEYLEN; i++)
			key[i] = i % 2 == 0 ? 0x6d : 0x5a;
	else
		return (2);
	if (strncmp(o.mode, "group", 5) == 0 && (o.mode[5] == '\0' || o.mode[5] == ':')) {
		if (o.work == CORES_BULK) {
			fprintf(stderr, "cores_group: --mode group measures rr and crr\n");
			return (2);
		}
		return (mode_group(&o, key));
	}
	if (strcmp(o.mode, "lock") == 0 || strcmp(o.mode, "exec") == 0 ||
	    strcmp(o.mode, "lock-wait") == 0 || strcmp(o.mode, "exec-wait") == 0)
		return (mode_app(&o, key, strncmp(o.mode, "exec", 4) == 0,
		    strstr(o.mode, "-wait") != NULL));
	return (2);
}
