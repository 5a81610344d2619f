/*
 * tcp_echo_server.c - a TCP echo server on an event queue, with its
 * clients, in one process.
 *
 * Until the TAP driver exists, both ends run here: a server stack
 * (198.18.0.2) and a client stack (198.18.0.1) joined by the in-memory
 * pipe driver on the real clock.  The server accepts every connection and
 * echoes what it reads, driven only by readiness events (ust_evq_wait);
 * the clients each send --messages messages of --size bytes, wait for
 * each echo and check it byte for byte, then close.
 *
 *   tcp_echo_server [--clients N] [--messages M] [--size B] [--port P]
 *
 * Uses only the public headers, as an application would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/ustack.h>
#include <ustack/ustack_pipe.h>

#include "example_util.h"

#define MAX_SIZE 65536

/* A server connection: what was read and not yet echoed back. */
struct conn {
	struct ust_socket *so;
	struct conn **slot; /* its place in the table of open connections */
	uint8_t buf[MAX_SIZE];
	size_t off, len;
	uint32_t interest;
};

/* A client: its message, how much went and came back. */
struct client {
	struct ust_socket *so;
	int msgs_done;
	size_t sent, got;
	int closed;
};

static int
fill(uint8_t *buf, size_t size, int client, int msg)
{
	size_t i;

	for (i = 0; i < size; i++)
		buf[i] = (uint8_t)(client * 131 + msg * 17 + (int)i);
	return (0);
}

/* Echoes as much as the socket takes; reads more only when the buffer
 * is empty.  Returns -1 when the connection is finished. */
static int
serve(struct conn *c)
{
	ptrdiff_t n;

	for (;;) {
		if (c->off < c->len) {
			n = ust_send(c->so, c->buf + c->off, c->len - c->off, 0);
			if (n == -UST_EAGAIN)
				return (0);
			if (n < 0)
				return (-1);
			c->off += (size_t)n;
			continue;
		}
		n = ust_recv(c->so, c->buf, sizeof(c->buf), 0);
		if (n == -UST_EAGAIN)
			return (0);
		if (n <= 0)
			return (-1); /* EOF or error */
		c->off = 0;
		c->len = (size_t)n;
	}
}

static void
usage(FILE *f, const char *argv0)
{
	fprintf(f,
	    "usage: %s [--clients N] [--messages M] [--size B] [--port P]\n"
	    "A TCP echo server on an event queue (stack 198.18.0.2) serving N clients\n"
	    "(stack 198.18.0.1) over the in-memory pipe, in one process.  Each client\n"
	    "sends M messages of B bytes (1..%d) and checks every echo.\n"
	    "Defaults: --clients 100 --messages 10 --size 1000 --port 7.\n",
	    argv0, MAX_SIZE);
}

int
main(int argc, char **argv)
{
	int nclients = 100, nmsgs = 10, port = 7, i, err, finished = 0;
	size_t size = 1000;
	struct ust_stack_config cfg;
	struct ust_pipe_config pc;
	struct ust_stack *srv_st = NULL, *cli_st = NULL;
	struct ust_pipe *pipe = NULL;
	struct ust_if *ifs, *ifc;
	struct ust_socket *lso = NULL;
	struct ust_evq *evq = NULL;
	struct ust_event evs[64];
	struct client *cl;
	struct ust_sockaddr_in addr;
	uint8_t *msg, *rbuf;
	struct timespec t0, t1;
	double wall;
	int accepted = 0;
	struct conn **conns;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			nclients = atoi(argv[++i]);
		else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
			nmsgs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			return (0);
		} else {
			usage(stderr, argv[0]);
			return (2);
		}
	}
	if (nclients < 1 || nmsgs < 1 || size < 1 || size > MAX_SIZE || port < 1 || port > 65535) {
		usage(stderr, argv[0]);
		return (2);
	}

	ust_stack_config_init(&cfg);
	if (ust_stack_create(&cfg, &srv_st) != 0 || ust_stack_create(&cfg, &cli_st) != 0) {
		fprintf(stderr, "cannot create the stacks\n");
		return (1);
	}
	ust_pipe_config_init(&pc);
	pc.ring_size = 8192;
	if (ust_pipe_create(&pc, &pipe) != 0 ||
	    ust_if_attach(srv_st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_B), &ifs) !=
	        0 ||
	    ust_if_attach(cli_st, "pipe0", ust_pipe_ops(), ust_pipe_end(pipe, UST_PIPE_A), &ifc) !=
	        0 ||
	    ust_if_addr_add(ifs, ip4(198, 18, 0, 2), 24) != 0 ||
	    ust_if_addr_add(ifc, ip4(198, 18, 0, 1), 24) != 0) {
		fprintf(stderr, "cannot set up the pipe\n");
		return (1);
	}

	/* The server: a listener on an event queue. */
	addr = sin4(ip4(198, 18, 0, 2), (uint16_t)port);
	if ((err = ust_socket(srv_st, UST_AF_INET, UST_SOCK_STREAM, 0, &lso)) != 0 ||
	    (err = ust_bind(lso, (const struct ust_sockaddr *)&addr, sizeof(addr))) != 0 ||
	    (err = ust_listen(lso, -1)) != 0 || (err = ust_evq_create(srv_st, &evq)) != 0 ||
	    (err = ust_evq_ctl(evq, UST_EVQ_ADD, lso, UST_EV_IN, NULL)) != 0) {
		fprintf(stderr, "server setup: %s\n", ust_strerror(err));
		return (1);
	}

	/* The clients. */
	cl = calloc((size_t)nclients, sizeof(*cl));
	conns = calloc((size_t)nclients + 1, sizeof(*conns));
	msg = malloc(size);
	rbuf = malloc(size);
	if (cl == NULL || conns == NULL || msg == NULL || rbuf == NULL)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nclients; i++) {
		if ((err = ust_socket(cli_st, UST_AF_INET, UST_SOCK_STREAM, 0, &cl[i].so)) != 0) {
			fprintf(stderr, "client %d: socket: %s\n", i, ust_strerror(err));
			return (1);
		}
		err = ust_connect(cl[i].so, (const struct ust_sockaddr *)&addr, sizeof(addr));
		if (err != 0 && err != -UST_EINPROGRESS) {
			fprintf(stderr, "client %d: connect: %s\n", i, ust_strerror(err));
			return (1);
		}
	}

	while (finished < nclients) {
		int n, k;

		/* Server: wait for readiness (0: poll once). */
		n = ust_evq_wait(evq, evs, 64, 0);
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].udata;

			if (c == NULL) { /* the listener */
				struct ust_socket *so;

				while (ust_accept(lso, &so, NULL, NULL) == 0) {
					struct conn *nc = calloc(1, sizeof(*nc));

					if (nc == NULL || accepted >= nclients) {
						ust_close(so);
						free(nc);
						continue;
					}
					nc->so = so;
					nc->slot = &conns[accepted];
					conns[accepted] = nc;
					nc->interest = UST_EV_IN;
					ust_evq_ctl(evq, UST_EVQ_ADD, so, UST_EV_IN, nc);
					accepted++;
				}
				continue;
			}
			if (serve(c) < 0) {
				ust_close(c->so); /* leaves the queue by itself */
				*c->slot = NULL;
				free(c);
				continue;
			}
			/* Wait for OUT only while an echo is pending. */
			uint32_t want = c->off < c->len ? UST_EV_OUT : UST_EV_IN;
			if (want != c->interest) {
				c->interest = want;
				ust_evq_ctl(evq, UST_EVQ_MOD, c->so, want, c);
			}
		}

		/* Clients: one message at a time, checked byte for byte. */
		ust_stack_poll(cli_st);
		for (i = 0; i < nclients; i++) {
			struct client *c = &cl[i];
			ptrdiff_t r;

			if (c->closed)
				continue;
			if (c->msgs_done == nmsgs) {
				ust_close(c->so);
				c->closed = 1;
				finished++;
				continue;
			}
			fill(msg, size, i, c->msgs_done);
			while (c->sent < size) {
				r = ust_send(c->so, msg + c->sent, size - c->sent, 0);
				if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
					break;
				if (r < 0) {
					fprintf(stderr, "client %d: send: %s\n", i,
					    ust_strerror((int)r));
					return (1);
				}
				c->sent += (size_t)r;
			}
			while (c->got < c->sent) {
				r = ust_recv(c->so, rbuf, c->sent - c->got, 0);
				if (r == -UST_EAGAIN || r == -UST_ENOTCONN)
					break;
				if (r <= 0) {
					fprintf(stderr, "client %d: recv: %s\n", i,
					    r == 0 ? "EOF" : ust_strerror((int)r));
					return (1);
				}
				if (memcmp(rbuf, msg + c->got, (size_t)r) != 0) {
					fprintf(stderr, "client %d: echo differs\n", i);
					return (1);
				}
				c->got += (size_t)r;
			}
			if (c->got == size) {
				c->msgs_done++;
				c->sent = c->got = 0;
			}
		}
	}
	/* Let the closes and the server's closes run out. */
	for (i = 0; i < 200; i++) {
		int n = ust_evq_wait(evq, evs, 64, 0), k;

		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].udata;

			if (c != NULL && serve(c) < 0) {
				ust_close(c->so);
				*c->slot = NULL;
				free(c);
			}
		}
		ust_stack_poll(cli_st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("tcp_echo_server: %d clients x %d messages of %zu bytes echoed and checked, "
	       "%d connections accepted, in %.3f s\n",
	    nclients, nmsgs, size, accepted, wall);

	for (i = 0; i < accepted; i++) {
		if (conns[i] != NULL) {
			ust_close(conns[i]->so);
			free(conns[i]);
		}
	}
	free(conns);
	ust_close(lso);
	ust_evq_destroy(evq);
	ust_stack_destroy(cli_st);
	ust_stack_destroy(srv_st);
	ust_pipe_destroy(pipe);
	free(cl);
	free(msg);
	free(rbuf);
	return (0);
}
