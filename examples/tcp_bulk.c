/*
 * tcp_bulk.c - a bulk TCP sender and sink on two threads, one stack per
 * thread, joined by the in-memory pipe (its rings are single-producer
 * single-consumer, so each end belongs to its own thread), on the real
 * clock.  The sender pushes --bytes of a counting pattern; the sink reads
 * until EOF, checks every byte and the total, and the throughput is
 * printed.  Until the TAP driver exists both ends run in this process.
 *
 *   tcp_bulk [--bytes N[K|M|G]] [--chunk B] [--loss PCT] [--rate BITS]
 *
 * Uses only the public headers, as an application would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "example_util.h"

#define PORT 5001

struct end {
	const char *name;
	struct ust_stack *st;
	uint64_t bytes; /* to send, or received */
	size_t chunk;
	int error;        /* negative UST_E* or -1 */
	uint64_t badbyte; /* first wrong byte + 1 (sink) */
	double secs;
	volatile int *done_flag; /* the other side finished */
	volatile int done;
};

/* The byte at stream offset off: cheap to make and to check. */
static inline uint8_t
pattern(uint64_t off)
{
	return ((uint8_t)(off ^ (off >> 8) ^ (off >> 16)));
}

/* Polls until idle; sleeps a little when the stack had nothing to do. */
static void
turn(struct ust_stack *st, int idle)
{
	int n = ust_stack_poll(st);

	if (n == 0 && idle) {
		struct timespec ts = { 0, 20000 };

		nanosleep(&ts, NULL);
	}
}

static void *
sender(void *arg)
{
	struct end *e = arg;
	struct ust_socket *so = NULL;
	struct ust_sockaddr_in to = sin4(ip4(198, 18, 0, 2), PORT);
	uint8_t *buf = malloc(e->chunk);
	uint64_t sent = 0;
	double t0;
	int err, shut = 0;

	if (buf == NULL || (err = ust_socket(e->st, UST_AF_INET, UST_SOCK_STREAM, 0, &so)) != 0) {
		e->error = -1;
		goto out;
	}
	ust_stack_lock(e->st);
	err = ust_connect(so, (const struct ust_sockaddr *)&to, sizeof(to));
	ust_stack_unlock(e->st);
	if (err != 0 && err != -UST_EINPROGRESS) {
		e->error = err;
		goto out;
	}
	t0 = now_s();
	while (!*e->done_flag) {
		int progress = 0;

		turn(e->st, 0);
		ust_stack_lock(e->st);
		while (sent < e->bytes) {
			size_t n = e->bytes - sent < e->chunk ? (size_t)(e->bytes - sent) :
			                                        e->chunk,
			       i;
			ptrdiff_t r;

			for (i = 0; i < n; i++)
				buf[i] = pattern(sent + i);
			r = ust_send(so, buf, n, 0);
			if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
				break;
			if (r < 0) {
				e->error = (int)r;
				break;
			}
			sent += (uint64_t)r;
			progress = 1;
		}
		if (sent == e->bytes && !shut) {
			ust_shutdown(so, UST_SHUT_WR);
			shut = 1;
		}
		ust_stack_unlock(e->st);
		if (e->error != 0)
			break;
		if (!progress)
			turn(e->st, 1);
	}
	e->secs = now_s() - t0;
out:
	/* Linger on until the FIN exchange is done (the sink signals). */
	if (so != NULL) {
		ust_stack_lock(e->st);
		ust_close(so);
		ust_stack_unlock(e->st);
	}
	e->done = 1;
	free(buf);
	return (NULL);
}

static void *
sink(void *arg)
{
	struct end *e = arg;
	struct ust_socket *lso = NULL, *so = NULL;
	struct ust_sockaddr_in me = sin4(ip4(198, 18, 0, 2), PORT);
	uint8_t *buf = malloc(e->chunk);
	double t0 = 0;
	int err;

	if (buf == NULL || (err = ust_socket(e->st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso)) != 0 ||
	    (err = ust_bind(lso, (const struct ust_sockaddr *)&me, sizeof(me))) != 0 ||
	    (err = ust_listen(lso, 1)) != 0) {
		e->error = -1;
		goto out;
	}
	for (;;) {
		ptrdiff_t r;
		int progress = 0;

		turn(e->st, 0);
		ust_stack_lock(e->st);
		if (so == NULL && ust_accept(lso, &so, NULL, NULL) == 0)
			t0 = now_s();
		while (so != NULL) {
			r = ust_recv(so, buf, e->chunk, 0);
			if (r == -UST_EAGAIN)
				break;
			if (r <= 0) {
				if (r < 0)
					e->error = (int)r;
				ust_stack_unlock(e->st);
				goto finished;
			}
			for (ptrdiff_t i = 0; i < r && e->badbyte == 0; i++)
				if (buf[i] != pattern(e->bytes + (uint64_t)i))
					e->badbyte = e->bytes + (uint64_t)i + 1;
			e->bytes += (uint64_t)r;
			progress = 1;
		}
		ust_stack_unlock(e->st);
		if (!progress)
			turn(e->st, 1);
	}
finished:
	e->secs = now_s() - t0;
out:
	e->done = 1;
	/* Keep polling until the sender is done, so its FIN gets acked. */
	while (*e->done_flag == 0)
		turn(e->st, 1);
	ust_stack_lock(e->st);
	if (so != NULL)
		ust_close(so);
	if (lso != NULL)
		ust_close(lso);
	ust_stack_unlock(e->st);
	free(buf);
	return (NULL);
}

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k':
	case 'K':
		v *= 1024;
		break;
	case 'm':
	case 'M':
		v *= 1024 * 1024;
		break;
	case 'g':
	case 'G':
		v *= 1024.0 * 1024 * 1024;
		break;
	default:
		break;
	}
	return (v > 0 ? (uint64_t)v : 0);
}

static void
usage(FILE *f, const char *argv0)
{
	fprintf(f,
	    "usage: %s [--bytes N[K|M|G]] [--chunk B] [--loss PCT] [--rate BITS]\n"
	    "Bulk TCP from a sender stack (198.18.0.1, one thread) to a sink stack\n"
	    "(198.18.0.2, another thread) over the in-memory pipe on the real clock;\n"
	    "the sink checks every byte; prints the throughput.\n"
	    "Defaults: --bytes 100M --chunk 65536 --loss 0 --rate 0 (unlimited).\n",
	    argv0);
}

int
main(int argc, char **argv)
{
	struct ust_stack_config cfg;
	struct ust_pipe_config pc;
	struct ust_pipe *pipe = NULL;
	struct ust_if *ifa, *ifb;
	struct end snd, snk;
	pthread_t ts, tk;
	uint64_t bytes = 100ull << 20, rate = 0;
	size_t chunk = 65536;
	double loss = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
			bytes = parse_size(argv[++i]);
		else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
			chunk = (size_t)parse_size(argv[++i]);
		else if (strcmp(argv[i], "--loss") == 0 && i + 1 < argc)
			loss = atof(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = parse_size(argv[++i]);
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			return (0);
		} else {
			usage(stderr, argv[0]);
			return (2);
		}
	}
	if (bytes == 0 || chunk == 0 || chunk > (16u << 20) || loss < 0 || loss > 50) {
		usage(stderr, argv[0]);
		return (2);
	}

	memset(&snd, 0, sizeof(snd));
	memset(&snk, 0, sizeof(snk));
	ust_stack_config_init(&cfg);
	if (ust_stack_create(&cfg, &snd.st) != 0 || ust_stack_create(&cfg, &snk.st) != 0) {
		fprintf(stderr, "cannot create the stacks\n");
		return (1);
	}
	ust_pipe_config_init(&pc);
	pc.ring_size = 4096;
	pc.fault[UST_PIPE_A_TO_B].loss_ppm = (uint32_t)(loss * 10000);
	pc.fault[UST_PIPE_A_TO_B].rate_bps = rate;
	pc.fault[UST_PIPE_A_TO_B].seed = 1;
	pc.fault[UST_PIPE_B_TO_A].seed = 2;
	if (ust_pipe_create(&pc, &pipe) != 0 ||
	    ust_if_attach(snd.st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_A), &ifa) !=
	        0 ||
	    ust_if_attach(snk.st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_B), &ifb) !=
	        0 ||
	    ust_if_addr_add(ifa, ip4(198, 18, 0, 1), 24) != 0 ||
	    ust_if_addr_add(ifb, ip4(198, 18, 0, 2), 24) != 0) {
		fprintf(stderr, "cannot set up the pipe\n");
		return (1);
	}
	/* Big buffers: the pipe has no real latency to hide, but bigger
	 * windows mean fewer turns of the loops. */
	ust_sysctl_set(snd.st, "net.inet.tcp.sendspace", 1 << 20);
	ust_sysctl_set(snk.st, "net.inet.tcp.recvspace", 1 << 20);

	snd.name = "sender";
	snd.bytes = bytes;
	snd.chunk = chunk;
	snd.done_flag = &snk.done;
	snk.name = "sink";
	snk.chunk = chunk;
	snk.done_flag = &snd.done;
	pthread_create(&tk, NULL, sink, &snk);
	pthread_create(&ts, NULL, sender, &snd);
	pthread_join(ts, NULL);
	pthread_join(tk, NULL);

	ust_stack_destroy(snd.st);
	ust_stack_destroy(snk.st);
	ust_pipe_destroy(pipe);

	if (snd.error != 0 || snk.error != 0) {
		fprintf(stderr, "tcp_bulk: sender %s, sink %s\n",
		    snd.error ? ust_strerror(snd.error) : "ok",
		    snk.error ? ust_strerror(snk.error) : "ok");
		return (1);
	}
	if (snk.badbyte != 0 || snk.bytes != bytes) {
		fprintf(stderr, "tcp_bulk: the sink got %llu of %llu bytes%s\n",
		    (unsigned long long)snk.bytes, (unsigned long long)bytes,
		    snk.badbyte ? ", with a wrong byte" : "");
		return (1);
	}
	printf("tcp_bulk: %llu bytes in %.3f s: %.1f Mbit/s (sender %.3f s), every byte checked\n",
	    (unsigned long long)bytes, snk.secs, snk.secs > 0 ? bytes * 8 / snk.secs / 1e6 : 0.0,
	    snd.secs);
	return (0);
}
