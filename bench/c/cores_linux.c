/*
 * cores_linux.c - scale-cores, Linux side (bench/b_scale_cores.py): the
 * same K workers as cores_pairs.c with kernel TCP over loopback (the
 * bench runs it in a network namespace of its own, loopback's MTU 1500
 * and TSO/GSO/GRO off there, as on ustack's pipe).  Worker i is a client
 * thread and a server thread, both pinned to the i-th CPU, with a
 * listening socket of its own (127.0.0.1 or ::1, port 7100 + i): the
 * like-for-like of a ustack pair polled by one thread on one CPU (blocking
 * sockets: one side sleeps in recv() while the other runs, as rr_linux
 * --same-core).
 *
 *   --work bulk: the client sends bench_pattern.h's short-period stream,
 *                the server reads and checks every byte; MB/s received;
 *   --work rr:   --msg-byte round trips on one connection (the request's
 *                bytes change every time, the echo must match);
 *   --work crr:  connect + request/response + close, the client closing
 *                first (TIME_WAIT on the client; loopback reuses those
 *                ports, net.ipv4.tcp_tw_reuse's default 2, and the bench
 *                widens ip_local_port_range in its namespace).
 *
 * --connect ADDR:PORT (rr, crr): no listener and no server thread; the K
 * client threads make their round trips or connections against an echo
 * server at ADDR:PORT (b_scale_cores.py: ustack serve --stacks N --echo,
 * from inside its namespace).
 *
 * Same options and JSON line as cores_pairs (cores_common.h); cpu_share
 * is the CPU time of the worker's two threads (the softirq work of
 * loopback runs in their context, but a kernel with IRQ time accounting
 * does not charge it to them).
 */
#include "cores_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_pattern.h"
#include "sock_io.h"

#define BASE_PORT 7100
#define BULK_CHUNK (64u << 10)

struct worker {
	struct cores_slot slot; /* first: its own lines */
	const struct cores_opts *o;
	struct cores_ctl *ctl;
	int idx;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int lfd;
	pthread_t srv_tid;
	int srv_started;
	uint8_t *pat;  /* bulk: the stream */
	int srv_ready; /* the server thread has added its clock */
	int error;     /* client side */
	int srv_error; /* server side */
	const char *what;
};

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* rr and crr: echoes each connection until EOF, connection after
 * connection, until the listening socket is shut down.  bulk: reads and
 * checks one connection's stream, counting the bytes. */
static void *
server_main(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(BULK_CHUNK);
	uint64_t got = 0;

	cores_pin(w->o, w->idx);
	cores_add_clock(&w->slot);
	__atomic_store_n(&w->srv_ready, 1, __ATOMIC_RELEASE);
	if (buf == NULL) {
		w->srv_error = 1;
		return (NULL);
	}
	for (;;) {
		int fd = accept(w->lfd, NULL, NULL);
		ssize_t r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* shut down: the end */
		}
		nodelay(fd);
		if (w->o->work == CORES_BULK) {
			while (
			    (r = recv(fd, buf, BULK_CHUNK, 0)) > 0 || (r < 0 && errno == EINTR)) {
				if (r < 0)
					continue;
				if (pattern_check_period(w->pat, PATTERN_PERIOD_SHORT, buf, got,
				        (size_t)r) != 0) {
					w->srv_error = 2;
					break;
				}
				got += (uint64_t)r;
				cores_count(&w->slot, got);
			}
			close(fd);
			break;
		}
		while ((r = read_n(fd, buf, w->o->msg)) == (ssize_t)w->o->msg)
			if (write_n(fd, buf, w->o->msg) != 0)
				break;
		if (r < 0 && !cores_stopped(w->ctl))
			w->srv_error = 1;
		close(fd);
	}
	free(buf);
	return (NULL);
}

static int
connect_fd(struct worker *w)
{
	int fd = socket(w->addr.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return (-1);
	nodelay(fd);
	if (connect(fd, (struct sockaddr *)&w->addr, w->addrlen) != 0) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
roundtrip(int fd, const uint8_t *req, size_t len)
{
	uint8_t resp[RR_MSG];

	if (write_n(fd, req, len) != 0 || read_n(fd, resp, len) != (ssize_t)len ||
	    memcmp(req, resp, len) != 0)
		return (-1);
	return (0);
}

static int
run_client(struct worker *w)
{
	uint8_t req[RR_MSG];
	uint64_t n = 0, sent = 0;
	int fd = -1, err = 0;

	memset(req, 'r', sizeof(req));
	if (w->o->work != CORES_CRR && (fd = connect_fd(w)) < 0) {
		w->what = "connect";
		return (-1);
	}
	while (err == 0 && !cores_stopped(w->ctl)) {
		req[0] = (uint8_t)n;
		if (w->o->work == CORES_BULK) {
			if (write_n(fd, w->pat + sent % PATTERN_PERIOD_SHORT, BULK_CHUNK) != 0) {
				w->what = "send";
				err = -1;
			}
			sent += BULK_CHUNK;
			continue;
		}
		if (w->o->work == CORES_CRR) {
			if ((fd = connect_fd(w)) < 0) {
				w->what = "connect";
				return (-1);
			}
			err = roundtrip(fd, req, w->o->msg);
			close(fd);
			fd = -1;
		} else
			err = roundtrip(fd, req, w->o->msg);
		if (err != 0)
			w->what = "a round trip";
		else
			cores_count(&w->slot, ++n);
	}
	if (fd >= 0)
		close(fd);
	return (err);
}

/* --connect ADDR:PORT: the server is elsewhere (ustack serve); clients only. */
static int
connect_setup(struct worker *w)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&w->addr;
	char host[64];
	const char *colon = strrchr(w->o->connect, ':');
	size_t len = colon != NULL ? (size_t)(colon - w->o->connect) : 0;

	memset(&w->addr, 0, sizeof(w->addr));
	if (colon == NULL || len == 0 || len >= sizeof(host) || w->o->work == CORES_BULK)
		return (-1);
	memcpy(host, w->o->connect, len);
	host[len] = '\0';
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)atoi(colon + 1));
	w->addrlen = sizeof(*s4);
	return (inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1);
}

static int
worker_setup(struct worker *w)
{
	int one = 1;

	if (w->o->connect != NULL)
		return (connect_setup(w));
	memset(&w->addr, 0, sizeof(w->addr));
	if (w->o->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&w->addr;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)(BASE_PORT + w->idx));
		s6->sin6_addr = in6addr_loopback;
		w->addrlen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&w->addr;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)(BASE_PORT + w->idx));
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		w->addrlen = sizeof(*s4);
	}
	w->lfd = socket(w->addr.ss_family, SOCK_STREAM, 0);
	if (w->lfd < 0 || setsockopt(w->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(w->lfd, (struct sockaddr *)&w->addr, w->addrlen) != 0 || listen(w->lfd, 128) != 0)
		return (-1);
	if (w->o->work == CORES_BULK &&
	    (w->pat = pattern_new_period(BULK_CHUNK, PATTERN_PERIOD_SHORT)) == NULL)
		return (-1);
	if (pthread_create(&w->srv_tid, NULL, server_main, w) != 0)
		return (-1);
	w->srv_started = 1;
	while (!__atomic_load_n(&w->srv_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	return (0);
}

static void *
client_main(void *arg)
{
	struct worker *w = arg;
	int ok;

	cores_pin(w->o, w->idx);
	/* bulk counts at the receiver: the client's clock still counts, as
	 * both threads share the CPU. */
	cores_add_clock(&w->slot);
	w->lfd = -1;
	ok = worker_setup(w) == 0;
	if (!ok)
		perror("cores_linux: setup");
	if (cores_ready(w->ctl, ok))
		w->error = run_client(w);
	else
		w->error = ok ? 0 : -1;
	cores_finish(w->ctl);
	if (w->error != 0 && w->what != NULL)
		fprintf(stderr, "cores_linux: worker %d: %s failed: %s\n", w->idx, w->what,
		    strerror(errno));
	/* Ends the server thread: accept() fails once the socket is shut down. */
	if (w->lfd >= 0)
		shutdown(w->lfd, SHUT_RDWR);
	return (NULL);
}

int
main(int argc, char **argv)
{
	struct cores_opts o;
	struct cores_ctl *ctl;
	struct worker *ws;
	pthread_t tid[CORES_MAX];
	struct cores_slot *slots[CORES_MAX];
	double rate[CORES_MAX], cpu[CORES_MAX], window;
	int i, failed = 0, rc = cores_parse(argc, argv, &o);

	if (rc != 0) {
		cores_usage(rc == 1 ? stdout : stderr, argv[0],
		    "Kernel TCP over loopback: K workers, each a client and a server thread\n"
		    "pinned to one CPU.  --connect ADDR:PORT: K client threads only, against an\n"
		    "echo server there (rr, crr; e.g. ustack serve --echo PORT).",
		    " [--connect ADDR:PORT]");
		return (rc == 1 ? 0 : 2);
	}
	ctl = aligned_alloc(CORES_LINE, sizeof(*ctl));
	ws = aligned_alloc(CORES_LINE, sizeof(*ws) * (size_t)o.threads);
	if (ctl == NULL || ws == NULL)
		return (1);
	memset(ctl, 0, sizeof(*ctl));
	memset(ws, 0, sizeof(*ws) * (size_t)o.threads);
	for (i = 0; i < o.threads; i++) {
		ws[i].o = &o;
		ws[i].ctl = ctl;
		ws[i].idx = i;
		slots[i] = &ws[i].slot;
		if (pthread_create(&tid[i], NULL, client_main, &ws[i]) != 0)
			return (1);
	}
	window = cores_window(ctl, slots, o.threads, &o, rate, cpu);
	for (i = 0; i < o.threads; i++) {
		pthread_join(tid[i], NULL);
		if (ws[i].srv_started)
			pthread_join(ws[i].srv_tid, NULL);
		if (ws[i].lfd >= 0)
			close(ws[i].lfd);
		failed |= ws[i].error != 0 || ws[i].srv_error != 0;
		if (ws[i].srv_error != 0)
			fprintf(stderr, "cores_linux: worker %d: the server %s\n", i,
			    ws[i].srv_error == 2 ? "received a wrong byte" : "failed");
		free(ws[i].pat);
	}
	if (window < 0 || failed)
		return (1);
	cores_report(&o, "linux", window, rate, cpu);
	cores_report_end();
	free(ws);
	free(ctl);
	return (0);
}
